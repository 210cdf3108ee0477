//! Issue 15, item 4: the night says when the detector's rules cannot hold on
//! a channel. Nights built here with known answers: a rest carrying tonic
//! activity at the offset level (`rest_not_quiet`), a quiet rest (no flag),
//! the quiet night in mV read as µV and as raw ADC counts with an offset
//! (`unit_suspect`), and sampled at half the rate with each sample
//! duplicated (`upsampled`).

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::{crampscan, read_table, stderr};
use crampscan::config::Config;
use crampscan::detect;
use crampscan::dsp::PlanCache;
use crampscan::night::{process_night, NightInput, NightResult};

/// Length of the built nights, s: longer than `quality.rest_min_analysed_s`.
const NIGHT_S: f64 = 1200.0;
/// Sample rate of the built nights, Hz.
const FS_HZ: f64 = 500.0;
/// White noise of SD σ has band RMS σ·√(130 / 250) over 20–150 Hz at
/// 500 Hz, so these SDs give band RMS of about 2.2 µV at rest, 5.8 µV
/// tonic (above the resting + 2 µV offset level, under the + 8 µV onset)
/// and 29 µV in a leg movement.
const REST_SD_UV: f64 = 3.0;
const TONIC_SD_UV: f64 = 8.0;
const LM_SD_UV: f64 = 40.0;

/// Gaussian noise from a fixed seed (LCG and Box–Muller).
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn gauss(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// SD of the EMG at time `t`, µV: 2 s leg movements every 30 s from 15 s;
/// with `tonic`, tonic activity 75 s of every 100 s (the last 25 s of each
/// 100 s quiet, so the 10th-percentile baseline stays at rest).
fn sd_at(t: f64, tonic: bool) -> f64 {
    if t >= 15.0 && (t - 15.0) % 30.0 < 2.0 {
        LM_SD_UV
    } else if tonic && t % 100.0 < 75.0 {
        TONIC_SD_UV
    } else {
        REST_SD_UV
    }
}

/// The night's samples at `fs_hz`, µV.
fn night_uv(fs_hz: f64, tonic: bool) -> Vec<f64> {
    let mut noise = Noise(7);
    (0..(NIGHT_S * fs_hz) as usize)
        .map(|i| sd_at(i as f64 / fs_hz, tonic) * noise.gauss())
        .collect()
}

/// Writes `samples` as a one-column CSV without a time column.
fn write_csv(path: &Path, column: &str, samples: impl Iterator<Item = String>) {
    let mut s = String::new();
    let _ = writeln!(s, "{column}");
    for v in samples {
        let _ = writeln!(s, "{v}");
    }
    std::fs::write(path, s).unwrap();
}

fn scan(path: &Path, fs_hz: f64) -> NightResult {
    let mut cfg = Config::default();
    cfg.input.fs_hz = fs_hz;
    let plans = PlanCache::new();
    let det = detect::from_config(&cfg, &plans).unwrap();
    let input = NightInput {
        id: "n".into(),
        files: vec![path.to_path_buf()],
    };
    process_night(&input, &cfg, det.as_ref(), &plans).unwrap()
}

fn warning<'a>(n: &'a NightResult, text: &str) -> Option<&'a String> {
    n.warnings.iter().find(|w| w.contains(text))
}

/// The new checks' flags on a night.
fn new_flags(n: &NightResult) -> Vec<&String> {
    n.quality
        .iter()
        .filter(|q| {
            q.ends_with(":rest_not_quiet")
                || q.ends_with(":upsampled")
                || q.ends_with(":unit_suspect")
        })
        .collect()
}

#[test]
fn tonic_rest_gets_the_warning_and_the_flag_in_nights_csv() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let x = night_uv(FS_HZ, true);
    write_csv(
        &input.join("tonic.csv"),
        "emg_l_uv",
        x.iter().map(|v| format!("{v:.3}")),
    );
    let out = dir.path().join("out");
    let o = crampscan(&[
        "scan",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--fs",
        "500",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let nights = read_table(&out.join("nights.csv"));
    assert_eq!(nights[0]["quality"], "emg_l_uv:rest_not_quiet");
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("nights/tonic.json")).unwrap()).unwrap();
    let w: Vec<&str> = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .filter(|w| w.starts_with("emg_l_uv: resting EMG is not quiet"))
        .collect();
    assert_eq!(w.len(), 1, "{}", j["warnings"]);
    eprintln!("{}", w[0]);
    assert!(
        w[0].contains("threshold_mode = \"relative\"") && w[0].contains("electrode contact"),
        "{}",
        w[0]
    );
    // Tonic 75 % of the time, plus the movements: about 78 % of windows
    // above the offset level, most of it merged into episodes.
    let rest = &j["channels"][0]["rest"];
    let above = rest["above_offset_fraction"].as_f64().unwrap();
    let cover = rest["episode_fraction"].as_f64().unwrap();
    assert!((0.7..0.85).contains(&above), "{rest}");
    assert!(cover > 0.5, "{rest}");
    assert_eq!(rest["baseline_at_cap_fraction"].as_f64().unwrap(), 0.0);
    assert!(w[0].contains(&format!("{:.0} % of windows above", 100.0 * above)));
}

#[test]
fn quiet_rest_gets_no_warning_and_no_flag() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("quiet.csv");
    let x = night_uv(FS_HZ, false);
    write_csv(&p, "emg_l_uv", x.iter().map(|v| format!("{v:.3}")));
    let n = scan(&p, FS_HZ);
    assert!(n.quality.is_empty(), "{:?}", n.quality);
    assert!(n.warnings.is_empty(), "{:?}", n.warnings);
    let rest = n.channels[0].rest.as_ref().unwrap();
    // Leg movements 2 s in 30: about 7 % of the time, nothing else.
    assert!(
        rest.above_offset_fraction < 0.1 && rest.episode_fraction < 0.1,
        "{rest:?}"
    );
    // 40 of them, none merged.
    assert_eq!(n.episodes.len(), 40, "{:?}", n.episodes);
}

#[test]
fn millivolts_read_as_microvolts_get_the_unit_warning() {
    let dir = tempfile::tempdir().unwrap();
    let x = night_uv(FS_HZ, false);
    let as_mv = || x.iter().map(|v| format!("{:.7}", v / 1000.0));
    // Declared µV: the values are a thousand times too small.
    let wrong = dir.path().join("wrong.csv");
    write_csv(&wrong, "emg_l_uv", as_mv());
    let n = scan(&wrong, FS_HZ);
    assert_eq!(new_flags(&n), ["emg_l_uv:unit_suspect"], "{:?}", n.quality);
    let w = warning(&n, "implausibly small").expect("unit warning");
    eprintln!("{w}");
    assert!(
        w.starts_with("emg_l_uv: ") && w.contains("try unit = mV") && w.contains("0.5 µV floor"),
        "{w}"
    );
    assert!(n.episodes.is_empty());
    // Declared mV (the column's suffix): the same values are right.
    let right = dir.path().join("right.csv");
    write_csv(&right, "emg_l_mv", as_mv());
    let n = scan(&right, FS_HZ);
    assert!(n.quality.is_empty(), "{:?}", n.quality);
    assert_eq!(n.episodes.len(), 40);
    // The other way: µV values declared mV read a thousand times too large.
    // The unit is the cause, so the rest (above the baseline's cap in every
    // window) is not flagged besides.
    let large = dir.path().join("large.csv");
    write_csv(&large, "emg_l_mv", x.iter().map(|v| format!("{v:.3}")));
    let n = scan(&large, FS_HZ);
    assert_eq!(new_flags(&n), ["emg_l_mv:unit_suspect"], "{:?}", n.warnings);
    let w = warning(&n, "implausibly large for mV").expect("unit warning");
    eprintln!("{w}");
    assert!(w.contains("try unit = uV"), "{w}");
}

#[test]
fn raw_adc_counts_with_an_offset_get_the_unit_warning() {
    let dir = tempfile::tempdir().unwrap();
    let x = night_uv(FS_HZ, false);
    // 12-bit counts centred at 2048, 1 µV per count, read as µV.
    let p = dir.path().join("counts.csv");
    write_csv(
        &p,
        "emg_l_uv",
        x.iter()
            .map(|v| format!("{}", (v.round() + 2048.0).clamp(0.0, 4095.0))),
    );
    let n = scan(&p, FS_HZ);
    assert_eq!(new_flags(&n), ["emg_l_uv:unit_suspect"], "{:?}", n.quality);
    let w = warning(&n, "raw ADC counts").expect("counts warning");
    eprintln!("{w}");
    assert!(
        w.contains("12-bit ADC is centred at 2048") && w.contains("sidecar"),
        "{w}"
    );
    let q = &n.channels[0].quality;
    assert!(
        q.integer_samples && (q.mean_value - 2048.0).abs() < 1.0,
        "{q:?}"
    );
    // The offset is outside the EMG band: detection is unchanged.
    assert_eq!(n.episodes.len(), 40);
    // The same counts with the offset taken off are plausible µV.
    let centred = dir.path().join("centred.csv");
    write_csv(
        &centred,
        "emg_l_uv",
        x.iter().map(|v| format!("{}", v.round())),
    );
    let n = scan(&centred, FS_HZ);
    assert!(n.quality.is_empty(), "{:?}", n.quality);
}

#[test]
fn a_night_with_each_sample_duplicated_is_flagged_upsampled() {
    let dir = tempfile::tempdir().unwrap();
    // Taken at 250 Hz, written at 500 Hz with every sample twice.
    let x = night_uv(FS_HZ / 2.0, false);
    let p = dir.path().join("dup.csv");
    write_csv(
        &p,
        "emg_l_uv",
        x.iter().flat_map(|v| {
            let s = format!("{v:.3}");
            [s.clone(), s]
        }),
    );
    let n = scan(&p, FS_HZ);
    assert_eq!(new_flags(&n), ["emg_l_uv:upsampled"], "{:?}", n.quality);
    let w = warning(&n, "upsampled").unwrap();
    eprintln!("{w}");
    assert!(w.contains("from about 250 Hz to 500 Hz"), "{w}");
    let q = &n.channels[0].quality;
    assert_eq!(q.apparent_fs_hz, Some(250.0));
    assert!((q.repeat_fraction - 0.5).abs() < 0.01, "{q:?}");
    // The same night taken at 500 Hz is not.
    let p = dir.path().join("plain.csv");
    let x = night_uv(FS_HZ, false);
    write_csv(&p, "emg_l_uv", x.iter().map(|v| format!("{v:.3}")));
    let n = scan(&p, FS_HZ);
    assert_eq!(n.channels[0].quality.apparent_fs_hz, None);
    assert!(n.quality.is_empty(), "{:?}", n.quality);
}
