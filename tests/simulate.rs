//! The simulator follows its flags: cramp intensity and duration, ECG
//! amplitude; the hard preset's confounders are on; truth is the schedule.

use crampscan::simulate::{simulate, Difficulty, Format, Realism, SimOptions};

/// Columns of a simulated CSV as vectors (time, then channels).
fn columns(path: &std::path::Path) -> Vec<Vec<f64>> {
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

#[test]
fn cramp_intensity_duration_and_ecg_amplitude_follow_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SimOptions {
        out_dir: dir.path().to_path_buf(),
        hours: 0.1,
        seed: 7,
        mains_hz: None,
        rest_uv: 0.5,
        ecg_uv: 40.0,
        cramp_uv: (80.0, 80.001),
        cramp_s: (30.0, 30.001),
        realism: Realism {
            heart_rate_bpm: Some((60.0, 60.001)),
            ..Realism::preset(Difficulty::Easy)
        },
        ..SimOptions::default()
    };
    let truths = simulate(&opts).unwrap();
    let truth = std::fs::read_to_string(&truths[0]).unwrap();
    let cramp: Vec<&str> = truth
        .lines()
        .find(|l| l.contains(",cramp,"))
        .expect("a cramp")
        .split(',')
        .collect();
    let (start, end): (f64, f64) = (cramp[2].parse().unwrap(), cramp[3].parse().unwrap());
    assert!(
        (end - start - 30.0).abs() < 0.01,
        "duration {}",
        end - start
    );
    let cols = columns(&dir.path().join("night01_emg.csv"));
    let ch = if cramp[0] == "emg_left_uv" { 1 } else { 2 };
    let fs = 1000.0;
    // Plateau (after the 3 s ramp, before the mid-cramp dip): RMS is the
    // resting 0.5 µV plus the 80 µV cramp amplitude, ECG adds < 0.1 %.
    let a = ((start + 4.0) * fs) as usize;
    let b = ((start + 12.0) * fs) as usize;
    let rms = (cols[ch][a..b].iter().map(|v| v * v).sum::<f64>() / (b - a) as f64).sqrt();
    assert!((rms - 80.5).abs() / 80.5 < 0.05, "cramp RMS {rms}");
    // ECG: the first 10 s hold only rest and heartbeats; the R peak is
    // 40 µV on the left leg and 0.8 × 40 on the right.
    let peak = |c: usize| cols[c][..10_000].iter().cloned().fold(0.0, f64::max);
    assert!((peak(1) - 40.0).abs() < 2.0, "left ECG peak {}", peak(1));
    assert!((peak(2) - 32.0).abs() < 2.0, "right ECG peak {}", peak(2));
    // Heart rate 60 bpm: 10 or 11 R peaks above 20 µV in 10 s.
    let beats = cols[1][..10_000]
        .windows(3)
        .filter(|w| w[1] > 20.0 && w[1] >= w[0] && w[1] > w[2])
        .count();
    assert!((9..=11).contains(&beats), "{beats} beats");
}

#[test]
fn hard_preset_switches_every_confounder_on_and_easy_none() {
    let h = SimOptions::with_difficulty(Difficulty::Hard);
    let r = &h.realism;
    assert_eq!(h.ecg_uv, 80.0);
    assert!(h.mains_uv >= 50.0 && r.random_mains && r.mains_third > 0.0);
    assert!(r.heart_rate_bpm == Some((50.0, 90.0)));
    assert!(r.wander_uv > 0.0 && r.pops_per_h > 0.0 && r.motion_per_h > 0.0);
    assert!(r.gain_drift > 0.0 && r.noisy_channel_uv > 0.0 && r.weak_lm_fraction > 0.0);
    assert!(r.plm_series_fraction > 0.0 && r.cramp_dips && r.posture_per_h > 0.0);
    assert_eq!(h.cramp_s, (20.0, 180.0));
    let e = SimOptions::with_difficulty(Difficulty::Easy);
    assert_eq!(e.realism, Realism::preset(Difficulty::Easy));
    assert_eq!((e.ecg_uv, e.mains_uv, e.mains_hz), (10.0, 15.0, Some(50.0)));
}

#[test]
fn hard_nights_are_seeded_and_cramps_stay_within_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let mk = |sub: &str| {
        let mut o = SimOptions::with_difficulty(Difficulty::Hard);
        o.out_dir = dir.path().join(sub);
        o.hours = 0.2;
        o.emg_fs_hz = 500.0;
        o.format = Format::Wav;
        o.seed = 3;
        o.cramp_uv = (60.0, 70.0);
        simulate(&o).unwrap();
        std::fs::read(dir.path().join(sub).join("night01_emg.wav")).unwrap()
    };
    assert_eq!(mk("a"), mk("b"));
    let truth = std::fs::read_to_string(dir.path().join("a/night01.truth.csv")).unwrap();
    let mut n = 0;
    for l in truth.lines().filter(|l| l.contains(",cramp,")) {
        let f: Vec<f64> = l.split(',').skip(2).map(|v| v.parse().unwrap()).collect();
        let d = f[1] - f[0];
        assert!((20.0..=180.0).contains(&d), "{l}");
        n += 1;
    }
    assert!(n >= 1);
}

#[test]
fn psg_preset_is_hard_plus_the_psg_confounders_at_256_hz() {
    let p = SimOptions::with_difficulty(Difficulty::Psg);
    let h = SimOptions::with_difficulty(Difficulty::Hard);
    assert_eq!(p.emg_fs_hz, 256.0);
    assert_eq!(
        (p.ecg_uv, p.mains_uv, p.cramp_s),
        (h.ecg_uv, h.mains_uv, h.cramp_s)
    );
    let r = &p.realism;
    assert!(r.bilateral_lm_fraction > 0.0 && r.body_movements_per_h > 0.0);
    assert!(r.clipping_per_h > 0.0 && r.buildup_fraction > 0.0);
    let hard_again = Realism {
        bilateral_lm_fraction: 0.0,
        body_movements_per_h: 0.0,
        clipping_per_h: 0.0,
        buildup_fraction: 0.0,
        ..r.clone()
    };
    assert_eq!(hard_again, h.realism);
    for d in [Difficulty::Easy, Difficulty::Realistic, Difficulty::Hard] {
        let r = Realism::preset(d);
        assert_eq!(
            (
                r.bilateral_lm_fraction,
                r.body_movements_per_h,
                r.clipping_per_h,
                r.buildup_fraction
            ),
            (0.0, 0.0, 0.0, 0.0)
        );
    }
}
