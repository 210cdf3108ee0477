//! Simulated families (issue 15): each draws what it says. Body movements'
//! accelerometer shares (steady, bursty, ramped), the legs' onsets within
//! 2 s, hum only after a `hum-switch` night's switch time, `--no-accel`
//! writing no accelerometer file, and the same seed giving the same bytes.

use std::path::Path;

use crampscan::simulate::families::MOVING_ENMO_G;
use crampscan::simulate::{simulate, Difficulty, Family, Format, SimOptions};

/// Columns of a simulated CSV as vectors (time, then channels).
fn columns(path: &Path) -> Vec<Vec<f64>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let n = r.headers().unwrap().len();
    let mut cols = vec![Vec::new(); n];
    for rec in r.records() {
        let rec = rec.unwrap();
        for (c, v) in cols.iter_mut().zip(rec.iter()) {
            c.push(v.parse::<f64>().unwrap());
        }
    }
    cols
}

/// Truth rows `(channel, kind, start_s, end_s)`.
fn truth(path: &Path) -> Vec<(String, String, f64, f64)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_string(),
                f[1].to_string(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
            )
        })
        .collect()
}

fn family_opts(dir: &Path, family: Family, nights: usize, seed: u64) -> SimOptions {
    let mut o = SimOptions::with_difficulty(Difficulty::Psg);
    o.out_dir = dir.to_path_buf();
    o.nights = nights;
    o.hours = 0.5;
    o.seed = seed;
    o.emg_fs_hz = 200.0;
    o.family = Some(family);
    o
}

/// Body movements of a night as (left row, right row) pairs, matched by overlap.
fn body_movements(rows: &[(String, String, f64, f64)]) -> Vec<((f64, f64), (f64, f64))> {
    let moves: Vec<&(String, String, f64, f64)> =
        rows.iter().filter(|r| r.1 == "movement").collect();
    let left = moves.iter().filter(|r| r.0 == "emg_left_uv");
    left.filter_map(|l| {
        moves
            .iter()
            .find(|r| r.0 == "emg_right_uv" && r.2 < l.3 && r.3 > l.2)
            .map(|r| ((l.2, l.3), (r.2, r.3)))
    })
    .collect()
}

/// Share of accelerometer samples in `[a, b]` whose ENMO is above 0.05 g,
/// and the time of the largest ENMO.
fn moving_share(acc: &[Vec<f64>], a: f64, b: f64) -> (f64, f64) {
    let (mut n, mut up, mut peak, mut t_peak) = (0, 0, 0.0, a);
    for (i, &t) in acc[0].iter().enumerate() {
        if t < a || t >= b {
            continue;
        }
        let norm = (acc[1][i].powi(2) + acc[2][i].powi(2) + acc[3][i].powi(2)).sqrt();
        let enmo = (norm - 1.0).max(0.0);
        n += 1;
        if enmo > MOVING_ENMO_G {
            up += 1;
        }
        if enmo > peak {
            peak = enmo;
            t_peak = t;
        }
    }
    (up as f64 / n.max(1) as f64, t_peak)
}

/// Shares of the body movements of `family` over three nights, with the
/// peak's position in the stretch (0–1); checks the legs' lags on the way.
fn shares(family: Family) -> Vec<(f64, f64)> {
    let dir = tempfile::tempdir().unwrap();
    simulate(&family_opts(dir.path(), family, 3, 4)).unwrap();
    let mut out = Vec::new();
    for k in 1..=3 {
        let rows = truth(&dir.path().join(format!("night{k:02}.truth.csv")));
        let acc = columns(&dir.path().join(format!("night{k:02}_acc.csv")));
        for (l, r) in body_movements(&rows) {
            assert!((l.0 - r.0).abs() <= 2.0, "{family:?}: onsets {l:?} {r:?}");
            assert!((l.1 - r.1).abs() <= 2.0, "{family:?}: ends {l:?} {r:?}");
            let (a, b) = (l.0.min(r.0), l.1.max(r.1));
            assert!((5.0..=64.0).contains(&(b - a)), "{family:?}: {a}..{b}");
            let (share, t_peak) = moving_share(&acc, a, b);
            out.push((share, (t_peak - a) / (b - a)));
        }
    }
    assert!(out.len() >= 6, "{family:?}: {} body movements", out.len());
    out
}

#[test]
fn body_movement_families_draw_their_accelerometer_profiles() {
    for (share, _) in shares(Family::BmSteady) {
        assert!(share > 0.9, "steady {share}");
    }
    let bursty = shares(Family::BmBursty);
    for &(share, _) in &bursty {
        assert!((0.25..=0.75).contains(&share), "bursty {share}");
    }
    let ramped = shares(Family::BmRamped);
    for &(share, at) in &ramped {
        assert!((0.45..=0.9).contains(&share), "ramped {share}");
        assert!((0.2..=0.8).contains(&at), "ramped peak at {at}");
    }
    for (share, _) in shares(Family::BmPartial) {
        assert!(share < 0.45, "partial {share}");
    }
}

/// Amplitude of the `f_hz` sinusoid in `x[a..b]` (sampled at `fs`), µV.
fn tone_uv(x: &[f64], fs: f64, f_hz: f64, a: usize, b: usize) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (i, v) in x[a..b].iter().enumerate() {
        let w = 2.0 * std::f64::consts::PI * f_hz * (a + i) as f64 / fs;
        re += v * w.cos();
        im += v * w.sin();
    }
    2.0 * (re * re + im * im).sqrt() / (b - a) as f64
}

#[test]
fn hum_switch_nights_have_hum_only_after_the_switch() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = family_opts(dir.path(), Family::HumSwitch, 4, 9);
    o.ecg_uv = 10.0;
    simulate(&o).unwrap();
    let mut switched = 0;
    for k in 1..=4 {
        let id = format!("night{k:02}");
        let meta: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("{id}.sim.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(meta["family"], "hum-switch");
        let (f, uv, on) = (
            meta["mains_hz"].as_f64().unwrap(),
            meta["mains_uv"].as_f64().unwrap(),
            meta["hum_on_s"].as_f64().unwrap(),
        );
        assert!((3.0..=15.0).contains(&uv), "{uv}");
        let rows = truth(&dir.path().join(format!("{id}.truth.csv")));
        let emg = columns(&dir.path().join(format!("{id}_emg.csv")));
        // 20 s windows clear of every truth event.
        let quiet = |s: f64| rows.iter().all(|r| s + 20.0 < r.2 - 2.0 || s > r.3 + 2.0);
        let fs = 200.0;
        let (mut before, mut after) = (0, 0);
        for w in 0..89 {
            let s = w as f64 * 20.0;
            if !quiet(s) || (s < on && s + 20.0 > on) {
                continue;
            }
            let a = tone_uv(
                &emg[1],
                fs,
                f,
                (s * fs) as usize,
                ((s + 20.0) * fs) as usize,
            );
            if s + 20.0 <= on {
                assert!(a < 1.0, "{id}: {a} µV at {s} s before the switch at {on}");
                before += 1;
            } else {
                assert!(
                    (a - uv).abs() < 0.35 * uv,
                    "{id}: {a} µV at {s} s, hum {uv}"
                );
                after += 1;
            }
        }
        assert!(after > 0);
        if on > 0.0 {
            assert!(before > 0);
            switched += 1;
        }
    }
    assert!(switched >= 1, "no night of four switched its hum on");
}

#[test]
fn no_accel_writes_no_accelerometer_and_keeps_emg_and_truth() {
    let dir = tempfile::tempdir().unwrap();
    let mk = |sub: &str, no_accel: bool| {
        let mut o = family_opts(&dir.path().join(sub), Family::Mixed, 1, 3);
        o.hours = 0.1;
        o.format = Format::Wav;
        o.no_accel = no_accel;
        simulate(&o).unwrap();
        dir.path().join(sub)
    };
    let (a, b, c) = (mk("a", false), mk("b", true), mk("c", false));
    assert!(a.join("night01_acc.wav").exists());
    assert!(!b.join("night01_acc.wav").exists());
    assert!(!b.join("night01_acc.json").exists());
    assert!(!b.join("night01_acc_channels.tsv").exists());
    for f in ["night01_emg.wav", "night01.truth.csv", "night01_emg.json"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    // Same seed, same bytes.
    for f in ["night01_emg.wav", "night01_acc.wav", "night01.sim.json"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(c.join(f)).unwrap(),
            "{f}"
        );
    }
    let meta = std::fs::read_to_string(b.join("night01.sim.json")).unwrap();
    assert!(meta.contains("\"family\": \"mixed\"") && meta.contains("\"accelerometer\": false"));
}

#[test]
fn cramp_stretch_cramps_are_held_still_with_movement_around_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = family_opts(dir.path(), Family::CrampStretch, 2, 5);
    o.cramps_per_h = 4.0;
    simulate(&o).unwrap();
    let (mut n, mut with_pre) = (0, 0);
    for k in 1..=2 {
        let rows = truth(&dir.path().join(format!("night{k:02}.truth.csv")));
        let acc = columns(&dir.path().join(format!("night{k:02}_acc.csv")));
        for r in rows.iter().filter(|r| r.1 == "cramp") {
            // Held: after the onset jerk, the ankle barely moves.
            let (share, _) = moving_share(&acc, r.2 + 1.0, r.3);
            assert!(share < 0.05, "cramp {r:?}: moving share {share}");
            // Stretching before it: the psg preset moves only after a cramp.
            let (pre, _) = moving_share(&acc, r.2 - 18.0, r.2 - 0.4);
            if pre > 0.15 {
                with_pre += 1;
            }
            n += 1;
        }
    }
    assert!(n >= 3, "{n} cramps");
    assert!(with_pre >= 1, "no cramp of {n} preceded by movement");
}

#[test]
fn family_names_round_trip() {
    for f in Family::ALL {
        assert_eq!(Family::parse(f.name()), Some(f));
    }
    assert_eq!(Family::parse("bm-nope"), None);
}
