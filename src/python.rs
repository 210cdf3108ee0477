//! The Python module `crampscan` (issue 20), built by maturin with the
//! cargo feature `python` (off by default: the crate and the CLI build and
//! test without Python).
//!
//! Every function runs the library as the CLI does and hands its tables to
//! pandas as the CLI writes them (`pandas.read_csv` of the same bytes), so
//! columns, units and values are those of `episodes.csv` and `nights.csv`.
//! `detect` writes the arrays as a 32-bit float WAV night (µV and g, with
//! `_channels.tsv` sidecars) in a temporary folder and scans it: the
//! readers, mains decision and quality checks are the CLI's. The GIL is
//! released while Rust works; rayon's pool still applies.

use std::path::{Path, PathBuf};

use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::batch::{self, Inputs, ScanOptions};
use crate::config::Config as RustConfig;
use crate::export::events;
use crate::export::tables::read_errors_csv;
use crate::export::Layout;

pyo3::create_exception!(crampscan, CrampscanError, PyException);

/// Any error as a `CrampscanError` carrying its message.
fn err(e: impl std::fmt::Display) -> PyErr {
    CrampscanError::new_err(e.to_string())
}

/// The CLI's configuration (`--print-config`, `--config FILE`).
#[pyclass(name = "Config", module = "crampscan")]
#[derive(Clone)]
pub struct Config {
    inner: RustConfig,
}

#[pymethods]
impl Config {
    /// The defaults (each with its source in the README).
    #[staticmethod]
    fn default() -> Config {
        Config {
            inner: RustConfig::default(),
        }
    }

    /// A config from TOML text as the CLI reads it; fields not given keep
    /// their defaults.
    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Config> {
        Ok(Config {
            inner: RustConfig::from_toml(text).map_err(err)?,
        })
    }

    /// The config as TOML, as `crampscan --print-config` prints it.
    fn to_toml(&self) -> String {
        self.inner.to_toml()
    }

    /// A copy with `section.field` set to `value` (a bool, number, string
    /// or list of strings), validated as the CLI validates its config.
    fn set(&self, key: &str, value: &Bound<'_, PyAny>) -> PyResult<Config> {
        let (section, field) = key.split_once('.').ok_or_else(|| {
            CrampscanError::new_err(format!("config key \"{key}\": expected section.field"))
        })?;
        let mut table: toml::Table = toml::from_str(&self.inner.to_toml()).map_err(err)?;
        let known = table
            .get_mut(section)
            .and_then(|s| s.as_table_mut())
            .filter(|s| s.contains_key(field))
            .ok_or_else(|| {
                CrampscanError::new_err(format!("config key \"{key}\" does not exist"))
            })?;
        known.insert(field.into(), toml_value(value)?);
        Config::from_toml(&toml::to_string(&table).expect("a table serialises"))
    }

    fn __repr__(&self) -> String {
        format!(
            "crampscan.Config(<{} lines of TOML>)",
            self.inner.to_toml().lines().count()
        )
    }
}

/// A Python value as a TOML value.
fn toml_value(v: &Bound<'_, PyAny>) -> PyResult<toml::Value> {
    if let Ok(b) = v.extract::<bool>() {
        return Ok(toml::Value::Boolean(b));
    }
    if let Ok(i) = v.extract::<i64>() {
        return Ok(toml::Value::Integer(i));
    }
    if let Ok(f) = v.extract::<f64>() {
        return Ok(toml::Value::Float(f));
    }
    if let Ok(s) = v.extract::<String>() {
        return Ok(toml::Value::String(s));
    }
    if let Ok(l) = v.extract::<Vec<String>>() {
        return Ok(toml::Value::Array(
            l.into_iter().map(toml::Value::String).collect(),
        ));
    }
    Err(CrampscanError::new_err(
        "config value: expected a bool, number, string or list of strings",
    ))
}

/// `pandas.read_csv(path)`.
fn read_table<'py>(py: Python<'py>, path: &Path) -> PyResult<Bound<'py, PyAny>> {
    py.import("pandas")?
        .call_method1("read_csv", (path.to_string_lossy().into_owned(),))
}

/// `pandas.read_csv(io.StringIO(text))`.
fn table_from_text<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let buf = py.import("io")?.call_method1("StringIO", (text,))?;
    py.import("pandas")?.call_method1("read_csv", (buf,))
}

/// The tables of a scan's output folder as DataFrames.
fn scan_tables<'py>(py: Python<'py>, out: &Path) -> PyResult<Bound<'py, PyDict>> {
    let out = Layout::new(out);
    let d = PyDict::new(py);
    for (name, p) in [
        ("nights", out.nights_csv()),
        ("episodes", out.episodes_csv()),
        ("errors", out.errors_csv()),
        ("cohort", out.cohort_csv()),
    ] {
        if p.exists() {
            d.set_item(name, read_table(py, &p)?)?;
        }
    }
    Ok(d)
}

/// Runs the batch on `inputs` (files or folders, as `crampscan scan`
/// takes them) into `out` (a temporary folder when `None`) and returns
/// its tables as DataFrames: `nights`, `episodes`, `errors`, `cohort`.
#[pyfunction]
#[pyo3(signature = (inputs, out=None, *, config=None, threads=None, events=None, hypnogram=None, diary=None))]
#[allow(clippy::too_many_arguments)]
fn scan<'py>(
    py: Python<'py>,
    inputs: Vec<PathBuf>,
    out: Option<PathBuf>,
    config: Option<Config>,
    threads: Option<usize>,
    events: Option<String>,
    hypnogram: Option<PathBuf>,
    diary: Option<PathBuf>,
) -> PyResult<Bound<'py, PyDict>> {
    let tmp = tempfile::tempdir().map_err(err)?;
    let out_dir = out.unwrap_or_else(|| tmp.path().join("out"));
    let mut opts = ScanOptions::new(Inputs::Paths(inputs), out_dir.clone());
    opts.threads = threads;
    opts.hypnogram = hypnogram;
    opts.diary = diary;
    opts.events = events::parse_formats(events.as_deref().unwrap_or("none"))
        .map_err(|e| CrampscanError::new_err(format!("events: {e}")))?;
    let cfg = config.map(|c| c.inner).unwrap_or_default();
    py.detach(|| batch::scan(&opts, &cfg)).map_err(err)?;
    scan_tables(py, &out_dir)
}

/// One night's results from [`detect`].
#[pyclass(name = "Night", module = "crampscan")]
pub struct Night {
    /// Rows of `episodes.csv` (a DataFrame).
    #[pyo3(get)]
    episodes: Py<PyAny>,
    /// The night's row of `nights.csv` (a one-row DataFrame).
    #[pyo3(get)]
    summary: Py<PyAny>,
    /// The night's leg movements (WASM/AASM scoring), a DataFrame.
    #[pyo3(get)]
    leg_movements: Py<PyAny>,
    /// Quality flags of the night, as in `nights.csv`.
    #[pyo3(get)]
    quality: Py<PyAny>,
    /// Warnings, as in the night document.
    #[pyo3(get)]
    warnings: Py<PyAny>,
}

/// Channels × samples as f32 rows: `x` is 1-D (one channel) or 2-D, its
/// channel axis the one of length `n_names` when names are given, else the
/// shorter one.
fn rows(x: &Bound<'_, PyAny>, n_names: Option<usize>, what: &str) -> PyResult<Vec<Vec<f32>>> {
    let np = x.py().import("numpy")?;
    let a = np.call_method1("asarray", (x, "float32"))?;
    if let Ok(v) = a.extract::<PyReadonlyArray1<f32>>() {
        return Ok(vec![v.as_slice()?.to_vec()]);
    }
    let m: PyReadonlyArray2<f32> = a.extract().map_err(|_| {
        CrampscanError::new_err(format!("{what}: expected a 1-D or 2-D array of numbers"))
    })?;
    let m = m.as_array();
    let (r, c) = m.dim();
    let by_rows = match n_names {
        Some(n) if n == r => true,
        Some(n) if n == c => false,
        Some(n) => {
            return Err(CrampscanError::new_err(format!(
                "{what}: {n} channel names for an array of shape ({r}, {c})"
            )))
        }
        None => r <= c,
    };
    let t = if by_rows { m } else { m.reversed_axes() };
    Ok(t.outer_iter().map(|row| row.to_vec()).collect())
}

/// Writes `rows` as a 32-bit float WAV at `fs_hz` with its `_channels.tsv`.
fn write_wav(
    path: &Path,
    rows: &[Vec<f32>],
    names: &[String],
    kind: &str,
    unit: &str,
    fs_hz: f64,
) -> PyResult<()> {
    let io = |e: std::io::Error| CrampscanError::new_err(format!("{}: {e}", path.display()));
    if (fs_hz - fs_hz.round()).abs() > 1e-9 || rows.is_empty() || rows.len() > u16::MAX as usize {
        return Err(CrampscanError::new_err(format!(
            "{kind}: need whole-hertz rates and 1 to 65535 channels, got {fs_hz} Hz and {} channels",
            rows.len()
        )));
    }
    std::fs::write(path, float_wav(rows, fs_hz.round() as u32)?).map_err(io)?;
    let mut tsv = String::from("name\ttype\tunits\tsampling_frequency\tgain\toffset\n");
    for name in names {
        tsv.push_str(&format!("{name}\t{kind}\t{unit}\t{fs_hz}\t1\t0\n"));
    }
    std::fs::write(crate::io::sidecar::sibling(path, "_channels.tsv"), tsv).map_err(io)
}

/// The bytes of a 32-bit IEEE-float WAV of `rows` (channels, interleaved
/// frames) at `rate_hz`, in one buffer: hound's per-sample writer took
/// about a third of `detect`'s time on a 1-hour night.
fn float_wav(rows: &[Vec<f32>], rate_hz: u32) -> PyResult<Vec<u8>> {
    let n = rows.iter().map(Vec::len).min().unwrap_or(0);
    let (ch, frame) = (rows.len() as u32, 4 * rows.len() as u32);
    let data = (n as u64) * frame as u64;
    if data + 36 > u32::MAX as u64 {
        return Err(CrampscanError::new_err(format!(
            "{n} samples x {ch} channels: over the 4 GiB a WAV file can hold"
        )));
    }
    let mut b = Vec::with_capacity(44 + data as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&3u16.to_le_bytes()); // WAVE_FORMAT_IEEE_FLOAT
    b.extend_from_slice(&(ch as u16).to_le_bytes());
    b.extend_from_slice(&rate_hz.to_le_bytes());
    b.extend_from_slice(&(rate_hz * frame).to_le_bytes());
    b.extend_from_slice(&(frame as u16).to_le_bytes());
    b.extend_from_slice(&32u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data as u32).to_le_bytes());
    for i in 0..n {
        for r in rows {
            b.extend_from_slice(&r[i].to_le_bytes());
        }
    }
    Ok(b)
}

/// Default channel names: `emg_1_uv`, … or `acc_x_g`, `acc_y_g`, `acc_z_g`.
fn names_or(given: Option<Vec<String>>, n: usize, emg: bool) -> Vec<String> {
    given.unwrap_or_else(|| {
        (0..n)
            .map(|i| {
                if emg {
                    format!("emg_{}_uv", i + 1)
                } else {
                    format!("acc_{}_g", ["x", "y", "z"].get(i).copied().unwrap_or("w"))
                }
            })
            .collect()
    })
}

/// Finds episodes in one night given as arrays: `emg` in µV (channels ×
/// samples or samples × channels) at `fs_hz`; `accel` in g at
/// `accel_fs_hz`. Returns a [`Night`]; bad input raises `CrampscanError`
/// with the CLI's message.
#[pyfunction]
#[pyo3(signature = (emg, fs_hz, *, channel_names=None, accel=None, accel_fs_hz=None, config=None, hypnogram=None, night="night", start_time=None))]
#[allow(clippy::too_many_arguments)]
fn detect(
    py: Python<'_>,
    emg: &Bound<'_, PyAny>,
    fs_hz: f64,
    channel_names: Option<Vec<String>>,
    accel: Option<&Bound<'_, PyAny>>,
    accel_fs_hz: Option<f64>,
    config: Option<Config>,
    hypnogram: Option<PathBuf>,
    night: &str,
    start_time: Option<String>,
) -> PyResult<Night> {
    if night.is_empty()
        || !night
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(CrampscanError::new_err(format!(
            "night \"{night}\": expected letters, digits, '.', '_' or '-'"
        )));
    }
    let emg_rows = rows(emg, channel_names.as_ref().map(Vec::len), "emg")?;
    let names = names_or(channel_names, emg_rows.len(), true);
    let tmp = tempfile::tempdir().map_err(err)?;
    let dir = tmp.path().join("in");
    std::fs::create_dir_all(&dir).map_err(err)?;
    let emg_path = dir.join(format!("{night}_emg.wav"));
    write_wav(&emg_path, &emg_rows, &names, "EMG", "uV", fs_hz)?;
    if let Some(t) = start_time {
        let json = serde_json::json!({ "start_time": t }).to_string();
        std::fs::write(emg_path.with_extension("json"), json).map_err(err)?;
    }
    if let Some(a) = accel {
        let acc_rows = rows(a, None, "accel")?;
        let fs = accel_fs_hz
            .ok_or_else(|| CrampscanError::new_err("accel given without accel_fs_hz"))?;
        let acc_names = names_or(None, acc_rows.len(), false);
        let acc_path = dir.join(format!("{night}_acc.wav"));
        write_wav(&acc_path, &acc_rows, &acc_names, "ACCEL", "g", fs)?;
    }
    let out = tmp.path().join("out");
    let mut opts = ScanOptions::new(Inputs::Paths(vec![dir]), out.clone());
    opts.hypnogram = hypnogram;
    let cfg = config.map(|c| c.inner).unwrap_or_default();
    py.detach(|| batch::scan(&opts, &cfg)).map_err(err)?;
    night_from(py, &out)
}

/// The [`Night`] of a one-night output folder; its error as an exception.
fn night_from(py: Python<'_>, out: &Path) -> PyResult<Night> {
    let out = Layout::new(out);
    if let Some(e) = read_errors_csv(&out.errors_csv()).map_err(err)?.first() {
        return Err(CrampscanError::new_err(e.error.clone()));
    }
    let summary = read_table(py, &out.nights_csv())?;
    let id: String = summary.get_item("night")?.get_item(0)?.extract()?;
    let doc_path = out.night_json(&id);
    let doc_text = std::fs::read_to_string(&doc_path)
        .map_err(|e| err(format!("{}: {e}", doc_path.display())))?;
    let doc = py.import("json")?.call_method1("loads", (doc_text,))?;
    let pd = py.import("pandas")?;
    let moves = doc.get_item("leg_movements")?.get_item("movements")?;
    let quality = summary.get_item("quality")?.get_item(0)?;
    let quality: Vec<String> = quality
        .extract::<String>()
        .map(|s| {
            s.split(';')
                .filter(|f| !f.is_empty() && *f != "ok")
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    Ok(Night {
        episodes: read_table(py, &out.episodes_csv())?.unbind(),
        summary: summary.unbind(),
        leg_movements: pd.call_method1("DataFrame", (moves,))?.unbind(),
        quality: PyList::new(py, quality)?.into_any().unbind(),
        warnings: doc.get_item("warnings")?.unbind(),
    })
}

/// Channels, rates and samples of a recording as crampscan's readers see
/// them: a list of dicts (`name`, `kind`, `unit`, `fs_hz`, `samples` as a
/// float32 array in µV or g), one per channel.
#[pyfunction]
#[pyo3(signature = (path, config=None))]
fn read<'py>(
    py: Python<'py>,
    path: PathBuf,
    config: Option<Config>,
) -> PyResult<Bound<'py, PyList>> {
    let cfg = config.map(|c| c.inner).unwrap_or_default();
    let channels = py.detach(|| read_channels(&path, &cfg)).map_err(err)?;
    let out = PyList::empty(py);
    for (info, samples) in channels {
        let d = PyDict::new(py);
        d.set_item("name", &info.name)?;
        d.set_item("kind", info.kind.as_str())?;
        d.set_item("unit", info.kind.unit())?;
        d.set_item("fs_hz", info.fs_hz)?;
        d.set_item("samples", numpy::PyArray1::from_vec(py, samples))?;
        out.append(d)?;
    }
    Ok(out)
}

/// Every channel of `path`, read whole.
fn read_channels(
    path: &Path,
    cfg: &RustConfig,
) -> crate::Result<Vec<(crate::recording::ChannelInfo, Vec<f32>)>> {
    let mut out = Vec::new();
    for mut src in crate::io::open(path, cfg)? {
        let info = src.info().clone();
        let mut data: Vec<Vec<f32>> = vec![Vec::new(); info.channels.len()];
        let mut block = crate::recording::Block::new(info.channels.len(), crate::io::BLOCK_FRAMES);
        loop {
            src.read_block(&mut block)?;
            if block.len == 0 {
                break;
            }
            for (ch, row) in data.iter_mut().zip(block.data.outer_iter()) {
                ch.extend(row.iter().take(block.len));
            }
        }
        out.extend(info.channels.into_iter().zip(data));
    }
    Ok(out)
}

/// Simulated nights with known episodes (`crampscan simulate`'s defaults:
/// easy nights, CSV), written to `out`; returns the files written.
#[pyfunction]
#[pyo3(signature = (out, *, nights=1, hours=0.25, seed=1, format="csv", emg_fs_hz=1000.0))]
fn simulate(
    out: PathBuf,
    nights: usize,
    hours: f64,
    seed: u64,
    format: &str,
    emg_fs_hz: f64,
) -> PyResult<Vec<PathBuf>> {
    let format = match format {
        "csv" => crate::simulate::Format::Csv,
        "wav" => crate::simulate::Format::Wav,
        "edf" => crate::simulate::Format::Edf,
        f => {
            return Err(CrampscanError::new_err(format!(
                "format \"{f}\": expected csv, wav or edf"
            )))
        }
    };
    let opts = crate::simulate::SimOptions {
        out_dir: out,
        nights,
        hours,
        seed,
        format,
        emg_fs_hz,
        ..Default::default()
    };
    crate::simulate::simulate(&opts).map_err(err)
}

/// Compares episodes (an `episodes.csv`, or a scan's folder) with the
/// truth (`<night>.truth.csv` files or their folder) as `crampscan
/// evaluate` does; returns `kinds` and `nights` DataFrames.
#[pyfunction]
#[pyo3(signature = (truth, episodes, *, iou_min=0.2))]
fn evaluate<'py>(
    py: Python<'py>,
    truth: PathBuf,
    episodes: PathBuf,
    iou_min: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let cfg = RustConfig::default();
    let e = py
        .detach(|| crate::eval::evaluate_paths(&truth, &episodes, iou_min, &cfg))
        .map_err(err)?;
    let d = PyDict::new(py);
    d.set_item("kinds", table_from_text(py, &e.kinds_csv())?)?;
    d.set_item("nights", table_from_text(py, &e.nights_csv())?)?;
    Ok(d)
}

#[pymodule]
fn crampscan(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("CrampscanError", m.py().get_type::<CrampscanError>())?;
    m.add_class::<Config>()?;
    m.add_class::<Night>()?;
    m.add_function(wrap_pyfunction!(detect, m)?)?;
    m.add_function(wrap_pyfunction!(scan, m)?)?;
    m.add_function(wrap_pyfunction!(read, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
