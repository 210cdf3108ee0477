//! Issue 16: no input can take the batch down, and no damaged input passes
//! as a good night. One regression per case seen: the good night beside
//! the bad one is written, and the bad night is in `errors.csv` with the
//! file and the place (or, for the silent cases, says what is wrong).

mod common;

use std::path::{Path, PathBuf};

use common::{crampscan, read_table, sim, stderr};
use crampscan::config::Config;
use crampscan::simulate::Format;

/// What a scan of a folder with one good night and some bad files gave.
struct Run {
    errors: Vec<(String, String)>,
    nights: Vec<std::collections::BTreeMap<String, String>>,
    stderr: String,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl Run {
    /// The error row of `night`, which must be there.
    fn error(&self, night: &str) -> &str {
        self.errors
            .iter()
            .find(|(n, _)| n == night)
            .map(|(_, e)| e.as_str())
            .unwrap_or_else(|| panic!("no error row for {night}: {:?}", self.errors))
    }

    fn night(&self, id: &str) -> &std::collections::BTreeMap<String, String> {
        self.nights
            .iter()
            .find(|n| n["night"] == id)
            .unwrap_or_else(|| panic!("night {id} not written"))
    }
}

/// Scans a folder holding the good night `good01` and whatever `setup`
/// writes into it, with `extra` arguments; checks the good night and the
/// tables are written.
fn scan_with(setup: impl FnOnce(&Path), extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    sim(&input, 1, 0.02, Format::Csv, 9, "good");
    setup(&input);
    let out = dir.path().join("out");
    let mut args = vec!["scan", input.to_str().unwrap(), "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = run_bounded(&args);
    let errors: Vec<(String, String)> = read_table(&out.join("errors.csv"))
        .into_iter()
        .map(|r| (r["night"].clone(), r["error"].clone()))
        .collect();
    // The processed nights; a failed one is listed with its status, and
    // its error in errors.csv.
    let (nights, failed): (Vec<_>, Vec<_>) = read_table(&out.join("nights.csv"))
        .into_iter()
        .partition(|n| n["status"] == "ok");
    for f in &failed {
        assert_eq!(f["status"], "failed");
        assert!(errors.iter().any(|(n, _)| n == &f["night"]), "{f:?}");
    }
    assert!(
        nights.iter().any(|n| n["night"] == "good01"),
        "the good night was lost: {}",
        stderr(&o)
    );
    assert!(out.join("run.json").is_file());
    let want = if errors.is_empty() { 0 } else { 3 };
    assert_eq!(o.status.code(), Some(want), "{}", stderr(&o));
    Run {
        errors,
        nights,
        stderr: stderr(&o),
        out,
        _dir: dir,
    }
}

/// Runs crampscan with a 1 GB address-space limit where `prlimit` exists
/// (an allocation sized from a damaged header fails instead of swapping) and
/// a time limit (`timeout`), so a regression fails rather than hangs.
/// `CRAMPSCAN_BIN` names another binary (to see the regressions fail on
/// an older build); `CRAMPSCAN_AS_LIMIT` another limit in bytes.
fn run_bounded(args: &[&str]) -> std::process::Output {
    let exe = std::env::var("CRAMPSCAN_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_crampscan").to_string());
    let have = |tool: &str| {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    // CRAMPSCAN_AS_LIMIT (bytes) tightens the limit, to measure.
    let limit = std::env::var("CRAMPSCAN_AS_LIMIT").unwrap_or_else(|_| "1000000000".into());
    if have("prlimit") && have("timeout") {
        // Generous: the bound is against hangs and runaway memory, not speed.
        std::process::Command::new("timeout")
            .args(["60", "prlimit", &format!("--as={limit}"), "--", &exe])
            .args(args)
            .output()
            .unwrap()
    } else {
        crampscan(args)
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn pad(s: &str, w: usize) -> Vec<u8> {
    let mut b = s.as_bytes().to_vec();
    b.resize(w, b' ');
    b
}

/// One signal of a hand-built EDF file, every header field as text so that
/// any damage can be written.
#[derive(Clone)]
struct Sig {
    label: &'static str,
    unit: &'static str,
    dmin: String,
    dmax: String,
    spr: String,
    /// Samples per record actually written (the header may lie).
    written: usize,
}

fn sig(label: &'static str, unit: &'static str, spr: usize) -> Sig {
    Sig {
        label,
        unit,
        dmin: "-32768".into(),
        dmax: "32767".into(),
        spr: spr.to_string(),
        written: spr,
    }
}

/// The annotation bytes of record `r`.
type TalFn = dyn Fn(usize) -> Vec<u8>;
/// A header field of a signal: its text and width.
type FieldFn = dyn Fn(&Sig) -> (String, usize);

/// A 16-bit EDF file: `n_rec` records of `record_s` (as written), every
/// signal a 60 Hz sine of ±1000 digital steps (physical ±1 mV range);
/// `tal(r)` gives an annotation signal's bytes per record when `Some`.
fn edf(
    sigs: &[Sig],
    n_rec: usize,
    nrec_field: &str,
    record_s: &str,
    reserved: &str,
    tal: Option<(usize, &TalFn)>,
) -> Vec<u8> {
    let mut all: Vec<Sig> = sigs.to_vec();
    if let Some((spr, _)) = tal {
        all.push(sig("EDF Annotations", "", spr));
    }
    let ns = all.len();
    let mut h = Vec::new();
    h.extend(pad("0", 8));
    h.extend(pad("X X X X", 80));
    h.extend(pad("Startdate 15-JAN-2026 X X test", 80));
    h.extend(pad("15.01.26", 8));
    h.extend(pad("23.00.00", 8));
    h.extend(pad(&(256 * (ns + 1)).to_string(), 8));
    h.extend(pad(reserved, 44));
    h.extend(pad(nrec_field, 8));
    h.extend(pad(record_s, 8));
    h.extend(pad(&ns.to_string(), 4));
    let fields: [&FieldFn; 10] = [
        &|s| (s.label.to_string(), 16),
        &|_| (String::new(), 80),
        &|s| (s.unit.to_string(), 8),
        &|_| ("-1000".into(), 8),
        &|_| ("1000".into(), 8),
        &|s| (s.dmin.clone(), 8),
        &|s| (s.dmax.clone(), 8),
        &|_| (String::new(), 80),
        &|s| (s.spr.clone(), 8),
        &|_| (String::new(), 32),
    ];
    for f in fields {
        for s in &all {
            let (v, w) = f(s);
            h.extend(pad(&v, w));
        }
    }
    for r in 0..n_rec {
        for (k, s) in all.iter().enumerate() {
            if k == sigs.len() {
                let (spr, make) = tal.unwrap();
                let mut b = make(r);
                b.resize(spr * 2, 0);
                h.extend(b);
                continue;
            }
            for i in 0..s.written {
                let t = (r * s.written + i) as f64 / s.written as f64;
                let v = (1000.0 * (2.0 * std::f64::consts::PI * 60.0 * t).sin()) as i16;
                h.extend(v.to_le_bytes());
            }
        }
    }
    h
}

/// A plain EDF night of leg EMG at 1 kHz (records of 1 s) and accelerometer.
fn plain_edf(n_rec: usize) -> Vec<u8> {
    edf(
        &[sig("Leg 1", "uV", 1000), sig("Accel X", "g", 50)],
        n_rec,
        &n_rec.to_string(),
        "1",
        "",
        None,
    )
}

// ---------------------------------------------------------------- item 1

#[test]
fn edf_record_duration_of_a_nanosecond_is_refused_by_field() {
    let r = scan_with(
        |d| {
            let b = edf(&[sig("Leg 1", "uV", 1000)], 20, "20", "1e-9", "", None);
            std::fs::write(d.join("tiny.edf"), b).unwrap();
        },
        &[],
    );
    let e = r.error("tiny");
    assert!(
        e.contains("tiny.edf") && e.contains("Leg 1") && e.contains("expected at most 100000 Hz"),
        "{e}"
    );
}

#[test]
fn edf_huge_samples_per_record_with_unknown_record_count_is_refused() {
    let r = scan_with(
        |d| {
            let mut s = sig("Leg 1", "uV", 1000);
            s.spr = "99999999".into();
            let b = edf(&[s], 30, "-1", "1", "", None);
            std::fs::write(d.join("spr.edf"), b).unwrap();
        },
        &[],
    );
    let e = r.error("spr");
    assert!(
        e.contains("spr.edf") && e.contains("samples per record") && e.contains("longer than"),
        "{e}"
    );
}

#[test]
fn accelerometer_record_duration_1e_300_is_refused() {
    let r = scan_with(
        |d| {
            let b = edf(&[sig("Accel X", "g", 50)], 10, "10", "1e-300", "", None);
            std::fs::write(d.join("acc300.edf"), b).unwrap();
        },
        &[],
    );
    let e = r.error("acc300");
    assert!(e.contains("acc300.edf") && e.contains("Accel X"), "{e}");
}

#[test]
fn edf_digital_minimum_outside_16_bits_is_refused() {
    let r = scan_with(
        |d| {
            let mut s = sig("Leg 1", "uV", 1000);
            s.dmin = "-9999999".into();
            std::fs::write(d.join("dig.edf"), edf(&[s], 10, "10", "1", "", None)).unwrap();
        },
        &[],
    );
    let e = r.error("dig");
    assert!(
        e.contains("dig.edf")
            && e.contains("signal 1 (\"Leg 1\"): digital minimum \"-9999999\"")
            && e.contains("-32768 to 32767"),
        "{e}"
    );
}

#[test]
fn edf_signal_with_zero_samples_per_record_is_refused() {
    let r = scan_with(
        |d| {
            let mut s = sig("Leg 2", "uV", 1000);
            s.spr = "0".into();
            let b = edf(&[sig("Leg 1", "uV", 1000), s], 10, "10", "1", "", None);
            std::fs::write(d.join("zero.edf"), b).unwrap();
        },
        &[],
    );
    let e = r.error("zero");
    assert!(
        e.contains("zero.edf") && e.contains("signal 2 (\"Leg 2\"): samples per record 0"),
        "{e}"
    );
}

#[test]
fn edf_samples_per_record_that_do_not_fit_the_file_length_are_refused() {
    // The header says 500 samples per record but 1000 were written: the
    // file holds twice the declared records of the header's layout.
    let r = scan_with(
        |d| {
            let mut s = sig("Leg 1", "uV", 1000);
            s.spr = "500".into();
            std::fs::write(d.join("shift.edf"), edf(&[s], 10, "10", "1", "", None)).unwrap();
        },
        &[],
    );
    let e = r.error("shift");
    assert!(
        e.contains("shift.edf") && e.contains("do not fit the file length"),
        "{e}"
    );
}

fn wav_night(d: &Path, name: &str, rate: u32, frames: usize, tsv: &str) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(d.join(format!("{name}.wav")), spec).unwrap();
    for i in 0..frames {
        w.write_sample(((i % 50) as i16 - 25) * 40).unwrap();
    }
    w.finalize().unwrap();
    write(d, &format!("{name}_channels.tsv"), tsv);
}

const WAV_TSV: &str =
    "name\ttype\tunits\tsampling_frequency\tgain\toffset\nemg_l\tEMG\tuV\tn/a\t0.5\t0\n";

#[test]
fn wav_header_rate_of_1e8_is_refused() {
    let r = scan_with(|d| wav_night(d, "fast", 100_000_000, 1000, WAV_TSV), &[]);
    let e = r.error("fast");
    assert!(
        e.contains("fast.wav")
            && e.contains("sample rate 100000000 Hz from the WAV header")
            && e.contains("100 kHz"),
        "{e}"
    );
}

#[test]
fn csv_with_too_many_columns_is_refused_before_reading_rows() {
    let r = scan_with(
        |d| {
            let n = 5000;
            let header: Vec<String> = (0..n).map(|i| format!("emg_{i}")).collect();
            let row = vec!["1"; n].join(",");
            let text = format!("{}\n{row}\n{row}\n", header.join(","));
            write(d, "wide.csv", &text);
            // Under the column cap but over the channel cap.
            let header: Vec<String> = (0..300).map(|i| format!("emg_{i}")).collect();
            let row = vec!["1"; 300].join(",");
            write(
                d,
                "many.csv",
                &format!("{}\n{row}\n{row}\n", header.join(",")),
            );
        },
        &["--fs", "1000"],
    );
    let e = r.error("wide");
    assert!(
        e.contains("wide.csv") && e.contains("line 1: 5000 columns; expected at most 4096"),
        "{e}"
    );
    let e = r.error("many");
    assert!(
        e.contains("many.csv") && e.contains("300 channels") && e.contains("at most 256"),
        "{e}"
    );
}

#[test]
fn config_values_have_upper_bounds_named_in_the_message() {
    for (text, field) in [
        ("[detector]\nwindow_s = 1e6\n", "detector.window_s"),
        (
            "[detector]\nbaseline_window_s = 1e12\n",
            "detector.baseline_window_s",
        ),
        (
            "[detector]\nrobust_segment_s = 1e-9\n",
            "detector.robust_segment_s",
        ),
        ("[detector]\nhop_s = 1e-9\n", "detector.hop_s"),
        ("[cramp]\nmin_duration_s = 1e9\n", "cramp.min_duration_s"),
        (
            "[scoring]\nplm_min_count = 100000000\n",
            "scoring.plm_min_count",
        ),
    ] {
        let e = Config::from_toml(text).unwrap_err().to_string();
        assert!(
            e.contains(field) && e.contains("expected at"),
            "{text}: {e}"
        );
    }
    assert!(Config::default().validate().is_ok());
    // At the edge of the run: a clean usage error, no allocation.
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "c.toml", "[detector]\nwindow_s = 1e6\n");
    sim(&dir.path().join("in"), 1, 0.01, Format::Csv, 1, "g");
    let o = run_bounded(&[
        "scan",
        dir.path().join("in").to_str().unwrap(),
        "-o",
        dir.path().join("out").to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert!(
        !o.status.success() && o.status.code() != Some(3),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("detector.window_s"), "{}", stderr(&o));
    // A config that is a device is refused unread.
    let o = run_bounded(&[
        "scan",
        dir.path().join("in").to_str().unwrap(),
        "-o",
        dir.path().join("out").to_str().unwrap(),
        "--config",
        "/dev/zero",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
}

// ---------------------------------------------------------------- item 2

#[test]
fn manifest_files_cell_of_separators_only_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    sim(dir.path(), 1, 0.01, Format::Csv, 1, "g");
    let m = write(
        dir.path(),
        "m.csv",
        "night,files\ng01,g01_emg.csv;g01_acc.csv\nbad,;\n",
    );
    let o = run_bounded(&[
        "scan",
        "--manifest",
        m.to_str().unwrap(),
        "-o",
        dir.path().join("out").to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    // The batch around it is written; the bad night is an error row naming
    // the manifest's line and column.
    assert_eq!(o.status.code(), Some(3), "{err}");
    let out = dir.path().join("out");
    let errors = std::fs::read_to_string(out.join("errors.csv")).unwrap();
    assert!(
        errors.contains("bad,") && errors.contains("m.csv: line 3, column 2 (files)"),
        "{errors}"
    );
    let nights = std::fs::read_to_string(out.join("nights.csv")).unwrap();
    assert!(nights.lines().any(|l| l.starts_with("g01,")), "{nights}");
    // The library refuses a night with no files by name.
    let plans = crampscan::dsp::PlanCache::new();
    let cfg = Config::default();
    let det = crampscan::detect::from_config(&cfg, &plans).unwrap();
    let input = crampscan::night::NightInput {
        id: "empty".into(),
        files: vec![],
    };
    let e = crampscan::night::process_night(&input, &cfg, det.as_ref(), &plans)
        .unwrap_err()
        .to_string();
    assert!(e.contains("empty") && e.contains("no files"), "{e}");
}

#[test]
fn edf_plus_d_onsets_a_day_apart_are_refused_not_filled() {
    let r = scan_with(
        |d| {
            let tal = |r: usize| format!("+{}\u{14}\u{14}\0", r * 86_000).into_bytes();
            let b = edf(
                &[sig("Leg 1", "uV", 1000)],
                19,
                "19",
                "1",
                "EDF+D",
                Some((30, &tal)),
            );
            std::fs::write(d.join("days.edf"), b).unwrap();
        },
        &[],
    );
    let e = r.error("days");
    assert!(
        e.contains("days.edf") && e.contains("data record 3") && e.contains("gaps"),
        "{e}"
    );
}

// ---------------------------------------------------------------- item 3

#[cfg(unix)]
fn mkfifo(p: &Path) -> bool {
    std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(unix)]
#[test]
fn a_fifo_found_or_given_and_a_device_given_are_refused_unopened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe_emg.csv");
    if !mkfifo(&fifo) {
        eprintln!("skipped: mkfifo unavailable");
        return;
    }
    let r = scan_with(
        |d| {
            assert!(mkfifo(&d.join("found.csv")));
        },
        &[fifo.to_str().unwrap(), "/dev/zero"],
    );
    for (night, name) in [("found", "found.csv"), ("pipe", "pipe_emg.csv")] {
        let e = r.error(night);
        assert!(e.contains(name) && e.contains("FIFO"), "{e}");
    }
    let e = r.error("zero");
    assert!(
        e.contains("/dev/zero") && e.contains("not a regular file"),
        "{e}"
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_reported_once() {
    let r = scan_with(
        |d| {
            std::fs::create_dir(d.join("sub")).unwrap();
            std::os::unix::fs::symlink(d, d.join("sub/back")).unwrap();
        },
        &[],
    );
    let loops: Vec<_> = r
        .errors
        .iter()
        .filter(|(_, e)| e.contains("folder loop"))
        .collect();
    assert_eq!(loops.len(), 1, "{:?}", r.errors);
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert_eq!(r.nights.len(), 1);
}

#[test]
fn out_inside_an_input_folder_is_not_read_as_nights() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    sim(&input, 1, 0.02, Format::Csv, 9, "good");
    let out = input.join("results");
    for _ in 0..2 {
        let o = run_bounded(&["scan", input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    // A copy of an earlier run's folder elsewhere in the input is skipped too.
    let copy = input.join("old_run");
    std::fs::create_dir(&copy).unwrap();
    for f in ["run.json", "cohort.csv", "nights.csv"] {
        std::fs::copy(out.join(f), copy.join(f)).unwrap();
    }
    let o = run_bounded(&["scan", input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let nights = read_table(&out.join("nights.csv"));
    assert_eq!(nights.len(), 1, "{nights:?}");
    assert!(read_table(&out.join("errors.csv")).is_empty());
}

// ---------------------------------------------------------------- item 4

#[test]
fn the_same_file_twice_in_a_manifest_night_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    sim(dir.path(), 2, 0.01, Format::Csv, 1, "g");
    let m = write(
        dir.path(),
        "m.csv",
        "night,files\ng01,g01_emg.csv;g01_acc.csv\ntwice,g02_emg.csv;./g02_emg.csv\n",
    );
    let out = dir.path().join("out");
    let o = run_bounded(&[
        "scan",
        "--manifest",
        m.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let errors = read_table(&out.join("errors.csv"));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["night"], "twice");
    assert!(
        errors[0]["error"].contains("g02_emg.csv") && errors[0]["error"].contains("twice"),
        "{:?}",
        errors[0]
    );
    let status: Vec<(String, String)> = read_table(&out.join("nights.csv"))
        .into_iter()
        .map(|r| (r["night"].clone(), r["status"].clone()))
        .collect();
    assert_eq!(
        status,
        [
            ("g01".into(), "ok".into()),
            ("twice".into(), "failed".into())
        ]
    );
}

#[test]
fn an_edf_and_its_bdf_conversion_in_one_night_are_an_error() {
    let r = scan_with(
        |d| {
            std::fs::write(d.join("conv.edf"), plain_edf(10)).unwrap();
            let e = crampscan::io::edf::EdfFile::open(&d.join("conv.edf")).unwrap();
            // The BDF: same signals and records, 24-bit samples.
            let mut b = plain_edf(10);
            let hb = e.header.header_bytes;
            let mut bdf = vec![0xFF];
            bdf.extend(b"BIOSEMI");
            bdf.extend(&b[8..hb]);
            for k in 0..e.header.signals.len() {
                let at = 256 + 16 * 2 + 80 * 2 + 8 * 2 * 3 + k * 8;
                bdf[at..at + 8].copy_from_slice(&pad("-8388608", 8));
                bdf[at + 16..at + 24].copy_from_slice(&pad("8388607", 8));
            }
            for c in b.split_off(hb).chunks_exact(2) {
                let v = i16::from_le_bytes([c[0], c[1]]) as i32 * 256;
                bdf.extend(&v.to_le_bytes()[..3]);
            }
            std::fs::write(d.join("conv.bdf"), bdf).unwrap();
        },
        &[],
    );
    let e = r.error("conv");
    assert!(
        e.contains("conv.bdf") && e.contains("a conversion of") && e.contains("conv.edf"),
        "{e}"
    );
}

#[test]
fn an_emg_file_without_samples_is_an_error_not_a_0_h_night() {
    let r = scan_with(
        |d| {
            wav_night(d, "nodata_emg", 1000, 0, WAV_TSV);
            let acc = (0..3000)
                .map(|i| format!("{:.3},0,0,1\n", i as f64 / 50.0))
                .collect::<String>();
            write(
                d,
                "nodata_acc.csv",
                &format!("time,acc_x,acc_y,acc_z\n{acc}"),
            );
            write(d, "onerow.csv", "emg_left_uv,emg_right_uv\n1,2\n");
            write(d, "onerow.json", "{\"sampling_frequency\": 1000}\n");
        },
        &[],
    );
    let e = r.error("nodata");
    assert!(
        e.contains("nodata_emg.wav") && e.contains("EMG channel emg_l: 0 samples"),
        "{e}"
    );
    let e = r.error("onerow");
    assert!(
        e.contains("onerow.csv") && e.contains("1 samples; expected at least one analysis window"),
        "{e}"
    );
}

#[test]
fn parts_of_very_different_lengths_are_flagged_in_quality() {
    let r = scan_with(
        |d| {
            let emg = (0..180_000)
                .map(|i| format!("{},{}\n", i % 7, i % 5))
                .collect::<String>();
            write(
                d,
                "uneven_emg.csv",
                &format!("emg_left_uv,emg_right_uv\n{emg}"),
            );
            write(d, "uneven_emg.json", "{\"sampling_frequency\": 1000}\n");
            write(
                d,
                "uneven_acc.csv",
                "time,acc_x,acc_y,acc_z\n0,0,0,1\n0.02,0,0,1\n0.04,0,0,1\n",
            );
        },
        &[],
    );
    let n = r.night("uneven");
    assert!(
        n["quality"].contains("uneven_acc.csv:length_mismatch"),
        "{n:?}"
    );
    assert_ne!(n["n_warnings"], "0");
    assert!(
        r.stderr.contains("nights with warnings") && r.stderr.contains("uneven ("),
        "{}",
        r.stderr
    );
}

#[test]
fn integer_wav_with_empty_or_na_gain_is_refused() {
    let r = scan_with(
        |d| {
            let na = "name\ttype\tunits\tsampling_frequency\tgain\toffset\nemg_l\tEMG\tuV\t1000\tn/a\t0\n";
            wav_night(d, "na", 1000, 5000, na);
            let empty =
                "name\ttype\tunits\tsampling_frequency\tgain\toffset\nemg_l\tEMG\tuV\t1000\t\t0\n";
            wav_night(d, "blank", 1000, 5000, empty);
        },
        &[],
    );
    for night in ["na", "blank"] {
        let e = r.error(night);
        assert!(
            e.contains(&format!("{night}_channels.tsv")) && e.contains("gain is empty or n/a"),
            "{e}"
        );
    }
}

#[test]
fn warnings_are_capped_per_file_counted_and_named_on_stderr() {
    let r = scan_with(
        |d| {
            // An EDF+C whose every record has a malformed annotation: one
            // warning per record.
            let tal = |r: usize| {
                let mut b = format!("+{r}\u{14}\u{14}\0").into_bytes();
                b.extend(b"x\x14bad\x14\0");
                b
            };
            let b = edf(
                &[sig("Leg 1", "uV", 1000)],
                60,
                "60",
                "1",
                "EDF+C",
                Some((30, &tal)),
            );
            std::fs::write(d.join("noisy.edf"), b).unwrap();
        },
        &[],
    );
    let n = r.night("noisy");
    let count: usize = n["n_warnings"].parse().unwrap();
    assert!(count >= 60, "{n:?}");
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r.out.join("nights/noisy.json")).unwrap()).unwrap();
    let listed = j["warnings"].as_array().unwrap();
    assert!(listed.len() <= 25, "{}", listed.len());
    assert!(
        listed
            .iter()
            .any(|w| w.as_str().unwrap().contains("more warnings not listed")),
        "{listed:?}"
    );
    assert_eq!(j["n_warnings"].as_u64().unwrap() as usize, count);
    let last = r.stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("nights with warnings") && last.contains(&format!("noisy ({count})")),
        "{}",
        r.stderr
    );
    assert_eq!(r.night("good01")["n_warnings"], "0");
}

#[test]
fn a_csv_line_longer_than_the_cap_is_refused_by_line() {
    let r = scan_with(
        |d| {
            let mut text = String::from("time,emg_left_uv\n0,1\n0.001,2\n");
            text.push_str(&"9".repeat(1_100_000));
            text.push('\n');
            write(d, "longline.csv", &text);
        },
        &[],
    );
    let e = r.error("longline");
    assert!(
        e.contains("longline.csv") && e.contains("line 4: longer than 1048576 bytes"),
        "{e}"
    );
}

#[test]
fn a_wav_cut_to_5_percent_is_flagged_and_named_not_ok() {
    let r = scan_with(
        |d| {
            let tmp = tempfile::tempdir().unwrap();
            sim(tmp.path(), 1, 0.05, Format::Wav, 2, "t");
            let bytes = std::fs::read(tmp.path().join("t01_emg.wav")).unwrap();
            std::fs::write(d.join("cut5_emg.wav"), &bytes[..bytes.len() / 20]).unwrap();
            std::fs::copy(
                tmp.path().join("t01_emg_channels.tsv"),
                d.join("cut5_emg_channels.tsv"),
            )
            .unwrap();
        },
        &[],
    );
    let n = r.night("cut5");
    assert!(n["quality"].contains("cut5_emg.wav:ended_early"), "{n:?}");
    assert_ne!(n["n_warnings"], "0");
    assert!(r.stderr.contains("cut5 ("), "{}", r.stderr);
}

#[test]
fn a_manifest_that_is_a_device_or_has_an_endless_line_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run_bounded(&[
        "scan",
        "--manifest",
        "/dev/zero",
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("/dev/zero") && err.contains("not a regular file"),
        "{err}"
    );
    let m = write(
        dir.path(),
        "m.csv",
        &format!("night,files\nn1,{}\n", "a".repeat(1_100_000)),
    );
    let o = run_bounded(&[
        "scan",
        "--manifest",
        m.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(
        err.contains("m.csv") && err.contains("line 2: longer than"),
        "{err}"
    );
}
