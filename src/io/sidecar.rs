//! Sidecar metadata: `<stem>_channels.tsv` (BIDS channels.tsv columns `name`,
//! `type`, `units`, `sampling_frequency`, plus crampscan's `gain` and
//! `offset` for integer WAV) and an optional `<stem>.json` with
//! `start_time` (ISO 8601) and `sampling_frequency`.

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::recording::ChannelKind;

/// One row of `<stem>_channels.tsv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SidecarChannel {
    pub name: String,
    pub kind: ChannelKind,
    pub units: String,
    pub fs_hz: Option<f64>,
    /// Physical value per raw unit (integer WAV counts), in `units`.
    pub gain: f64,
    /// Added after the gain, in `units`.
    pub offset: f64,
    /// Whether the gain was given (a `gain` cell that is not empty or
    /// `n/a`); integer WAV samples need one.
    pub gain_given: bool,
}

/// Everything the sidecar files of one recording say.
#[derive(Debug, Clone, Default)]
pub struct Sidecar {
    pub tsv_path: Option<PathBuf>,
    pub channels: Vec<SidecarChannel>,
    pub start_time: Option<NaiveDateTime>,
    pub fs_hz: Option<f64>,
}

impl Sidecar {
    pub fn channel(&self, name: &str) -> Option<&SidecarChannel> {
        self.channels.iter().find(|c| c.name == name)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonSidecar {
    start_time: Option<String>,
    sampling_frequency: Option<f64>,
}

/// `<dir>/<stem><suffix>` for a recording at `path`.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    path.with_file_name(format!("{stem}{suffix}"))
}

/// The sidecar files that [`load`] reads for the recording at `path` and
/// that exist (`<stem>_channels.tsv`, then `<stem>.json`); only CSV, TXT and
/// WAV readers read sidecars, so other formats have none. They change the
/// results, so they are hashed as inputs of the night.
pub fn files(path: &Path) -> Vec<PathBuf> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !matches!(ext.as_str(), "csv" | "txt" | "wav") {
        return Vec::new();
    }
    [sibling(path, "_channels.tsv"), sibling(path, ".json")]
        .into_iter()
        .filter(|p| p.is_file())
        .collect()
}

/// Reads the sidecars of the recording at `path`; missing files give an empty sidecar.
pub fn load(path: &Path) -> Result<Sidecar> {
    let mut sc = Sidecar::default();
    let tsv = sibling(path, "_channels.tsv");
    if tsv.is_file() {
        sc.channels = read_tsv(&tsv)?;
        sc.tsv_path = Some(tsv);
    }
    let json = sibling(path, ".json");
    if json.is_file() {
        let text = read_small(&json)?;
        let js: JsonSidecar = serde_json::from_str(&text).map_err(|e| {
            Error::input(
                &json,
                format!(
                    "line {}, column {}: {e}; expected {{\"start_time\": \"2026-01-15T23:00:00\", \"sampling_frequency\": 1000}}",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        if let Some(t) = js.start_time {
            sc.start_time = Some(parse_datetime(&t).ok_or_else(|| {
                Error::input(
                    &json,
                    format!("start_time \"{t}\" is not an ISO 8601 date and time (e.g. 2026-01-15T23:00:00)"),
                )
            })?);
        }
        if let Some(fs) = js.sampling_frequency {
            if !(fs.is_finite() && fs > 0.0) {
                return Err(Error::input(
                    &json,
                    format!("sampling_frequency is {fs}; expected a rate in Hz > 0"),
                ));
            }
            sc.fs_hz = Some(fs);
        }
    }
    Ok(sc)
}

/// The text of a sidecar no larger than
/// [`MAX_SIDECAR_BYTES`](super::bounds::MAX_SIDECAR_BYTES).
fn read_small(path: &Path) -> Result<String> {
    use super::bounds::MAX_SIDECAR_BYTES;
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if len > MAX_SIDECAR_BYTES {
        return Err(Error::input(
            path,
            format!("{len} bytes; a sidecar is expected to be at most {MAX_SIDECAR_BYTES} bytes"),
        ));
    }
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// Parses ISO 8601 date-times with `T` or space, optional fraction and zone
/// (the zone is dropped: clock times are reported as recorded).
pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.naive_local());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt);
        }
    }
    None
}

fn kind_from_type(t: &str) -> ChannelKind {
    match t.trim().to_ascii_uppercase().as_str() {
        "EMG" => ChannelKind::Emg,
        "ACC" | "ACCEL" | "ACCELEROMETER" => ChannelKind::Accel,
        _ => ChannelKind::Other,
    }
}

fn read_tsv(path: &Path) -> Result<Vec<SidecarChannel>> {
    let text = read_small(path)?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| {
        Error::input(path, "empty file; expected a header row: name, type, units, sampling_frequency[, gain, offset]")
    })?;
    let cols: Vec<String> = header
        .split('\t')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let find = |n: &str| cols.iter().position(|c| c == n);
    let (name_i, type_i) = match (find("name"), find("type")) {
        (Some(n), Some(t)) => (n, t),
        _ => {
            return Err(Error::input(
                path,
                format!(
                    "line 1: header has columns [{}]; expected at least \"name\" and \"type\" (tab-separated)",
                    cols.join(", ")
                ),
            ))
        }
    };
    let units_i = find("units");
    let fs_i = find("sampling_frequency");
    let gain_i = find("gain");
    let offset_i = find("offset");
    let mut out = Vec::new();
    for (idx, line) in lines {
        let lineno = idx + 1;
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        if fields.len() != cols.len() {
            return Err(Error::input(
                path,
                format!(
                    "line {lineno}: {} fields; expected {} as in the header (tab-separated)",
                    fields.len(),
                    cols.len()
                ),
            ));
        }
        let number = |i: Option<usize>, what: &str| -> Result<Option<f64>> {
            let Some(i) = i else { return Ok(None) };
            let v = fields[i];
            if v.is_empty() || v.eq_ignore_ascii_case("n/a") {
                return Ok(None);
            }
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| {
                    Error::input(
                        path,
                        format!(
                            "line {lineno}, column {} ({what}): expected a number, found \"{v}\"",
                            i + 1
                        ),
                    )
                })
        };
        let fs_hz = number(fs_i, "sampling_frequency")?;
        if let Some(fs) = fs_hz {
            if fs <= 0.0 {
                return Err(Error::input(
                    path,
                    format!("line {lineno}: sampling_frequency is {fs}; expected a rate in Hz > 0"),
                ));
            }
        }
        let units = units_i
            .map(|i| fields[i])
            .filter(|u| !u.eq_ignore_ascii_case("n/a"))
            .unwrap_or("")
            .to_string();
        let name = fields[name_i].to_string();
        if out.iter().any(|c: &SidecarChannel| c.name == name) {
            return Err(Error::input(
                path,
                format!("line {lineno}: channel name \"{name}\" appears twice"),
            ));
        }
        let gain = number(gain_i, "gain")?;
        out.push(SidecarChannel {
            name,
            kind: kind_from_type(fields[type_i]),
            units,
            fs_hz,
            gain: gain.unwrap_or(1.0),
            offset: number(offset_i, "offset")?.unwrap_or(0.0),
            gain_given: gain.is_some(),
        });
    }
    if out.is_empty() {
        return Err(Error::input(path, "no channel rows after the header"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_with_gain_and_na_reads() {
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().join("n1.wav");
        std::fs::write(
            dir.path().join("n1_channels.tsv"),
            "name\ttype\tunits\tsampling_frequency\tgain\toffset\nemg_l\tEMG\tuV\t1000\t0.05\t0\nacc_x\tACCEL\tg\tn/a\tn/a\tn/a\n",
        )
        .unwrap();
        let sc = load(&rec).unwrap();
        assert_eq!(sc.channels.len(), 2);
        assert_eq!(sc.channels[0].gain, 0.05);
        assert_eq!(sc.channels[1].kind, ChannelKind::Accel);
        assert_eq!(sc.channels[1].fs_hz, None);
    }

    #[test]
    fn bad_tsv_number_names_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().join("n1.wav");
        std::fs::write(
            dir.path().join("n1_channels.tsv"),
            "name\ttype\tunits\tsampling_frequency\tgain\nemg_l\tEMG\tuV\t1000\tabc\n",
        )
        .unwrap();
        let e = load(&rec).unwrap_err().to_string();
        assert!(e.contains("line 2, column 5 (gain)"), "{e}");
    }

    #[test]
    fn datetimes_parse() {
        assert!(parse_datetime("2026-01-15T23:00:00").is_some());
        assert!(parse_datetime("2026-01-15 23:00:00.250").is_some());
        assert!(parse_datetime("2026-01-15T23:00:00+01:00").is_some());
        assert!(parse_datetime("yesterday").is_none());
    }
}
