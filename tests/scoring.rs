//! Issue 9 end to end on nights built here (not by the simulator): LM and
//! cramp counts agree across PSG sampling rates, saturated stretches never
//! become episodes, and a hypnogram sidecar gives indices per hour of sleep.

mod common;

use std::f64::consts::PI;
use std::fmt::Write as _;
use std::path::Path;

use common::{crampscan, read_table, stderr};
use crampscan::config::Config;
use crampscan::detect;
use crampscan::dsp::PlanCache;
use crampscan::night::{process_night, NightInput, NightResult};
use crampscan::score::EpisodeKind;

/// Length of the built nights, s.
const NIGHT_S: f64 = 900.0;
/// Resting band RMS, µV.
const REST_UV: f64 = 2.0;
/// LM band RMS, µV.
const LM_UV: f64 = 25.0;
/// Cramp band RMS, µV.
const CRAMP_UV: f64 = 35.0;

/// A sum of 40 tones between 25 and 85 Hz (inside the EMG band at every
/// rate from 200 Hz up), scaled to unit RMS: band-limited "EMG" whose band
/// RMS does not depend on the sampling rate.
struct Tones(Vec<(f64, f64)>);

impl Tones {
    fn new(seed: u64) -> Tones {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        Tones(
            (0..40)
                .map(|_| (25.0 + 60.0 * next(), 2.0 * PI * next()))
                .collect(),
        )
    }

    fn at(&self, t: f64) -> f64 {
        let s: f64 = self
            .0
            .iter()
            .map(|&(f, p)| (2.0 * PI * f * t + p).sin())
            .sum();
        s * (2.0 / self.0.len() as f64).sqrt()
    }
}

/// Band RMS envelope of a leg, µV, at time `t`.
fn envelope(events: &[(f64, f64, f64)], t: f64) -> f64 {
    events
        .iter()
        .find(|&&(a, b, _)| t >= a && t < b)
        .map(|e| e.2)
        .unwrap_or(REST_UV)
}

/// Left leg: 20 LMs of 2 s every 24 s from 120 s, and a 35 s cramp at 780 s.
fn left_events() -> Vec<(f64, f64, f64)> {
    let mut ev: Vec<_> = (0..20)
        .map(|k| {
            let s = 120.0 + 24.0 * k as f64;
            (s, s + 2.0, LM_UV)
        })
        .collect();
    ev.push((780.0, 815.0, CRAMP_UV));
    ev
}

/// Right leg: 4 LMs of 1.5 s every 20 s from 20 s, and a 40 s cramp at 660 s.
fn right_events() -> Vec<(f64, f64, f64)> {
    let mut ev: Vec<_> = (0..4)
        .map(|k| {
            let s = 20.0 + 20.0 * k as f64;
            (s, s + 1.5, LM_UV)
        })
        .collect();
    ev.push((660.0, 700.0, CRAMP_UV));
    ev
}

/// Writes the night at `fs_hz` as a CSV without a time column; `shape`
/// may change each (left, right) sample pair.
fn write_night(path: &Path, fs_hz: f64, shape: impl Fn(f64, f64, f64) -> (f64, f64)) {
    let (tl, tr) = (Tones::new(1), Tones::new(2));
    let (el, er) = (left_events(), right_events());
    let n = (NIGHT_S * fs_hz) as usize;
    let mut s = String::with_capacity(n * 18);
    s.push_str("emg_left_uv,emg_right_uv\n");
    for i in 0..n {
        let t = i as f64 / fs_hz;
        let l = envelope(&el, t) * tl.at(t);
        let r = envelope(&er, t) * tr.at(t);
        let (l, r) = shape(t, l, r);
        let _ = writeln!(s, "{l:.3},{r:.3}");
    }
    std::fs::write(path, s).unwrap();
}

fn scan_one(path: &Path, fs_hz: f64) -> NightResult {
    let mut cfg = Config::default();
    cfg.input.fs_hz = fs_hz;
    // The tones cross 50 and 60 Hz; there is no hum to find.
    cfg.detector.mains = "none".into();
    let plans = PlanCache::new();
    let det = detect::from_config(&cfg, &plans).unwrap();
    let night = NightInput {
        id: "n".into(),
        files: vec![path.to_path_buf()],
    };
    process_night(&night, &cfg, det.as_ref(), &plans).unwrap()
}

fn within_5_percent(a: usize, b: usize) -> bool {
    (a as f64 - b as f64).abs() <= 0.05 * a.max(b) as f64
}

#[test]
fn lm_and_cramp_counts_agree_across_200_256_500_and_1000_hz() {
    let dir = tempfile::tempdir().unwrap();
    let mut counts = Vec::new();
    for fs in [200.0, 256.0, 500.0, 1000.0] {
        let p = dir.path().join(format!("n{fs}.csv"));
        write_night(&p, fs, |_, l, r| (l, r));
        let n = scan_one(&p, fs);
        let cramps: Vec<(String, f64)> = n
            .episodes
            .iter()
            .filter(|e| e.kind == EpisodeKind::Cramp)
            .map(|e| (e.channel.clone(), e.start_s))
            .collect();
        // The known answer: both cramps on their legs, onsets within 1 s.
        assert_eq!(cramps.len(), 2, "{fs} Hz: {cramps:?}");
        assert!(cramps[0].0 == "emg_right_uv" && (cramps[0].1 - 660.0).abs() <= 1.0);
        assert!(cramps[1].0 == "emg_left_uv" && (cramps[1].1 - 780.0).abs() <= 1.0);
        // 24 candidate LMs, all in one PLM series (intervals 20-40 s).
        assert!(
            within_5_percent(n.summary.n_lm, 24),
            "{fs} Hz: {} LMs",
            n.summary.n_lm
        );
        counts.push((fs, n.summary.n_lm, n.summary.n_plm, n.summary.n_cramps));
    }
    let (_, lm0, plm0, c0) = counts[0];
    for &(fs, lm, plm, c) in &counts {
        assert!(within_5_percent(lm, lm0), "{counts:?}");
        assert!(within_5_percent(plm, plm0), "{counts:?}");
        assert_eq!(c, c0, "{fs} Hz: {counts:?}");
    }
}

#[test]
fn saturated_and_flat_stretches_never_become_episodes() {
    let dir = tempfile::tempdir().unwrap();
    // A 30 s burst of 300 µV RMS on the left at 300 s: within range it is a
    // cramp; through an amplifier railing at ±200 µV it is saturation.
    let burst = |t: f64| (300.0..330.0).contains(&t);
    let tb = Tones::new(3);
    let clean = dir.path().join("clean.csv");
    write_night(&clean, 500.0, |t, l, r| {
        if burst(t) {
            (300.0 * tb.at(t), r)
        } else {
            (l, r)
        }
    });
    let n = scan_one(&clean, 500.0);
    let at_300 = |n: &NightResult| {
        n.episodes
            .iter()
            .filter(|e| e.channel == "emg_left_uv" && e.end_s > 300.0 && e.start_s < 330.0)
            .count()
    };
    assert_eq!(at_300(&n), 1, "the unclipped burst is found");
    assert!(n.quality.is_empty(), "{:?}", n.quality);

    let clipped = dir.path().join("clipped.csv");
    write_night(&clipped, 500.0, |t, l, r| {
        // The right electrode comes off between 400 and 460 s: flat zero.
        let r = if (400.0..460.0).contains(&t) { 0.0 } else { r };
        if burst(t) {
            ((300.0 * tb.at(t)).clamp(-200.0, 200.0), r)
        } else {
            (l, r)
        }
    });
    let n = scan_one(&clipped, 500.0);
    assert_eq!(at_300(&n), 0, "{:?}", n.episodes);
    let flag = |prefix: &str| n.quality.iter().find(|q| q.starts_with(prefix)).cloned();
    assert!(flag("emg_left_uv:clipped=").is_some(), "{:?}", n.quality);
    let left = n.channels.iter().find(|c| c.name == "emg_left_uv").unwrap();
    let right = n
        .channels
        .iter()
        .find(|c| c.name == "emg_right_uv")
        .unwrap();
    // Most of the 30 s sits at the rails; the flat minute is left out whole.
    assert!(
        left.quality.excluded_s > 10.0 && left.quality.excluded_s <= 30.0,
        "{}",
        left.quality.excluded_s
    );
    assert!((right.quality.excluded_s - 60.0).abs() < 0.01);
    // The other episodes are still there: both cramps and the LMs.
    assert_eq!(n.summary.n_cramps, 2);
    assert!(within_5_percent(n.summary.n_lm, 24), "{}", n.summary.n_lm);
}

#[test]
fn hypnogram_sidecar_gives_indices_per_hour_of_sleep_and_rules_are_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    write_night(&data.join("n1.csv"), 200.0, |_, l, r| (l, r));
    // Awake for 300 s, then N2 and REM: 600 s asleep.
    std::fs::write(
        data.join("n1.hypnogram.csv"),
        "onset_s,duration_s,stage\n0,300,W\n300,400,N2\n700,200,R\n",
    )
    .unwrap();
    let run = |extra: &[&str]| -> Vec<std::collections::BTreeMap<String, String>> {
        let out = dir.path().join(format!("out{}", extra.len()));
        let mut args = vec![
            "scan",
            data.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--fs",
            "200",
            "--mains",
            "none",
        ];
        args.extend_from_slice(extra);
        let o = crampscan(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        read_table(&out.join("nights.csv"))
    };
    let nights = run(&[]);
    assert_eq!(nights.len(), 1, "the hypnogram is no night of its own");
    let n = &nights[0];
    assert_eq!(n["rules"], "wasm2016");
    assert_eq!(n["sleep_h"], "0.1667");
    // Left LMs from 312 s on (12 of them) fall in sleep, all periodic.
    assert_eq!(n["lms_index"], "72.00");
    assert_eq!(n["plms_index"], "72.00");
    assert_eq!(n["n_lm"], "24");
    // Intervals: 20, 20, 20, 40, then 19 of 24 s: all in range, one run.
    assert_eq!(n["periodicity_index"], "1.000");

    let nights = run(&["--rules", "aasm"]);
    assert_eq!(nights[0]["rules"], "aasm");
    assert_eq!(nights[0]["n_lm"], "24");
}

#[test]
fn one_hypnogram_file_for_two_nights_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for n in ["a", "b"] {
        std::fs::write(data.join(format!("{n}.csv")), "emg_left_uv\n1.0\n2.0\n").unwrap();
    }
    let hyp = dir.path().join("night.hypnogram.csv");
    std::fs::write(&hyp, "onset_s,duration_s,stage\n0,30,W\n").unwrap();
    let out = dir.path().join("out");
    let o = crampscan(&[
        "scan",
        data.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--fs",
        "200",
        "--hypnogram",
        hyp.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("night.hypnogram.csv") && e.contains("2 nights"),
        "{e}"
    );
}

/// The NSRR XML of the simulated night: W 0–300 s, N2 300–600 s, REM
/// 600–870 s, W 870–900 s; a hypopnea 250–262 s, an obstructive apnea
/// 330–337 s; arousals 362.2–365 s (0.2 s after the LM at 360 s) and
/// 390–393 s (4 s after the LM at 384 s).
const NSRR_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<PSGAnnotation>
<EpochLength>30</EpochLength>
<ScoredEvents>
<ScoredEvent><EventType/><EventConcept>Recording Start Time</EventConcept><Start>0</Start><Duration>900</Duration><ClockTime>00.00.00 23.00.00</ClockTime></ScoredEvent>
<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>Wake|0</EventConcept><Start>0</Start><Duration>300</Duration></ScoredEvent>
<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>Stage 2 sleep|2</EventConcept><Start>300</Start><Duration>300</Duration></ScoredEvent>
<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>REM sleep|5</EventConcept><Start>600</Start><Duration>270</Duration></ScoredEvent>
<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>Wake|0</EventConcept><Start>870</Start><Duration>30</Duration></ScoredEvent>
<ScoredEvent><EventType>Respiratory|Respiratory</EventType><EventConcept>Hypopnea|Hypopnea</EventConcept><Start>250</Start><Duration>12</Duration></ScoredEvent>
<ScoredEvent><EventType>Respiratory|Respiratory</EventType><EventConcept>Obstructive apnea|Obstructive Apnea</EventConcept><Start>330</Start><Duration>7</Duration></ScoredEvent>
<ScoredEvent><EventType>Arousals|Arousals</EventType><EventConcept>ASDA arousal|Arousal (ASDA)</EventConcept><Start>362.2</Start><Duration>2.8</Duration></ScoredEvent>
<ScoredEvent><EventType>Arousals|Arousals</EventType><EventConcept>ASDA arousal|Arousal (ASDA)</EventConcept><Start>390</Start><Duration>3</Duration></ScoredEvent>
</ScoredEvents>
</PSGAnnotation>
"#;

#[test]
fn nsrr_xml_beside_a_night_gives_respiratory_stage_and_arousal_figures() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    write_night(&data.join("n1.csv"), 200.0, |_, l, r| (l, r));
    std::fs::write(data.join("n1-nsrr.xml"), NSRR_XML).unwrap();
    let run = |rules: &str| {
        let out = dir.path().join(format!("out-{rules}"));
        let o = crampscan(&[
            "scan",
            data.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--fs",
            "200",
            "--mains",
            "none",
            "--rules",
            rules,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        (
            read_table(&out.join("nights.csv")).remove(0),
            read_table(&out.join("episodes.csv")),
        )
    };
    // LMs: right 20, 40, 60, 80 s; left 120 + 24 k s (k = 0..19).
    // WASM: the LMs at 264 s (hypopnea end 262 s: window 260–272.25 s) and
    // 336 s (apnea end 337 s) are respiratory and end their series:
    // [20 … 240] 10 PLMs | 264 | 288, 312 | 336 | [360 … 576] 10 PLMs.
    let (n, eps) = run("wasm2016");
    assert_eq!(n["night"], "n1");
    assert_eq!(n["n_lm_resp"], "2");
    assert_eq!((n["n_lm"].as_str(), n["n_plm"].as_str()), ("22", "20"));
    assert_eq!(n["sleep_h"], "0.1583"); // 570 s
    assert_eq!(n["wake_h"], "0.0917"); // 330 s
    assert_eq!(n["plms_index"], "63.16"); // 10 / 570 s
    assert_eq!(n["plmw_index"], "109.09"); // 10 / 330 s
    assert_eq!(n["plms_n2_index"], "120.00"); // 10 / 300 s
    assert_eq!(n["plms_rem_index"], "0.00");
    assert_eq!(
        (n["plms_n1_index"].as_str(), n["plms_n3_index"].as_str()),
        ("", "")
    );
    assert_eq!(n["n_plm_arousal"], "1");
    assert_eq!(n["plm_arousal_index"], "6.32"); // 1 / 570 s
    let cramps: Vec<(&str, &str, &str)> = eps
        .iter()
        .filter(|e| e["kind"] == "cramp")
        .map(|e| {
            (
                e["channel"].as_str(),
                e["stage"].as_str(),
                e["wake_within_120s"].as_str(),
            )
        })
        .collect();
    // 660 s: wake 210 s later; 780 s: 90 s later.
    assert_eq!(
        cramps,
        [("emg_right_uv", "R", "false"), ("emg_left_uv", "R", "true")]
    );
    // AASM: only the LM at 336 s is respiratory (0.5 s around the apnea),
    // and it is not scored: one series of the other 23.
    let (n, _) = run("aasm");
    assert_eq!(n["n_lm_resp"], "1");
    assert_eq!((n["n_lm"].as_str(), n["n_plm"].as_str()), ("23", "23"));
    assert_eq!(n["plmw_index"], "130.91"); // 12 / 330 s
    assert_eq!(n["plms_n2_index"], "132.00"); // 11 / 300 s
                                              // nsrr: no LM in wake either: 312 s and 360 … 576 s.
    let (n, _) = run("nsrr");
    assert_eq!(
        (n["rules"].as_str(), n["n_lm"].as_str(), n["n_plm"].as_str()),
        ("nsrr", "11", "11")
    );
    assert_eq!(n["plmw_index"], "0.00");
}

#[test]
fn a_scoring_outside_the_recording_is_refused_with_both_spans() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    // 2 s at 200 Hz: long enough to be a night (one analysis window at least).
    let samples: String = (0..400).map(|i| format!("{}\n", (i % 7) as f64)).collect();
    std::fs::write(data.join("n1.csv"), format!("emg_left_uv\n{samples}")).unwrap();
    std::fs::write(
        data.join("n1.annot"),
        "N2\t.\t.\t4000\t+30\t.\nN2\t.\t.\t4030\t+30\t.\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = crampscan(&[
        "scan",
        data.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--fs",
        "200",
    ]);
    let errors = std::fs::read_to_string(out.join("errors.csv")).unwrap_or_default();
    let all = format!("{}{errors}", stderr(&o));
    assert!(
        all.contains("n1.annot")
            && all.contains("does not overlap")
            && all.contains("4000.0–4060.0 s"),
        "{all}"
    );
}
