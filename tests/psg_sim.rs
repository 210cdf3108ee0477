//! The PSG confounders of `crampscan simulate` (issue 9) on a few short
//! nights with known answers: a body movement is reported as `movement`,
//! never `cramp`; a clipping stretch gives no episode; a 30 s build-up is
//! measured as the cramp's `buildup_s` with the onset kept; bilateral LMs
//! are scored once. The long check on 20 PSG nights per rate is
//! `tests/psg_hard.rs`.

use crampscan::batch::{self, Inputs, ScanOptions};
use crampscan::config::Config;
use crampscan::eval;
use crampscan::simulate::{simulate, Difficulty, Format, Realism, SimOptions, SIM_RAIL_UV};

fn scan(nights: &std::path::Path, out: &std::path::Path) {
    let opts = ScanOptions::new(Inputs::Paths(vec![nights.to_path_buf()]), out.to_path_buf());
    let r = batch::scan(&opts, &Config::default()).unwrap();
    assert_eq!(r.n_failed, 0);
}

/// Truth rows `(night, channel, kind, start_s, end_s)` of the folder.
fn truth_rows(dir: &std::path::Path) -> Vec<eval::Event> {
    let cfg = Config::default();
    let mut v = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".truth.csv"))
        .collect();
    files.sort();
    for f in files {
        v.extend(eval::read_truth_file(&f, &cfg.annotations).unwrap());
    }
    v
}

#[test]
fn body_movements_clipping_buildups_and_bilateral_lms_have_known_answers() {
    let dir = tempfile::tempdir().unwrap();
    let nights = dir.path().join("nights");
    let mut o = SimOptions::with_difficulty(Difficulty::Easy);
    o.out_dir = nights.clone();
    o.nights = 2;
    o.hours = 0.3;
    o.seed = 5;
    o.format = Format::Wav;
    o.emg_fs_hz = 256.0;
    o.mains_hz = Some(60.0);
    o.realism = Realism {
        bilateral_lm_fraction: 0.5,
        body_movements_per_h: 7.0,
        clipping_per_h: 7.0,
        buildup_fraction: 1.0,
        buildup_s: (30.0, 30.001),
        ..Realism::preset(Difficulty::Easy)
    };
    simulate(&o).unwrap();
    let out = dir.path().join("out");
    scan(&nights, &out);
    let truth = truth_rows(&nights);
    let count = |k: &str| truth.iter().filter(|e| e.kind == k).count();
    // Two body movements (both legs: 4 rows) and two clipping stretches
    // per night, one cramp per night.
    assert_eq!(count("movement"), 8, "{truth:?}");
    assert_eq!(count("clipping"), 4);
    assert_eq!(count("cramp"), 2);
    // Bilateral LMs: parts on the two legs overlap or are < 0.5 s apart.
    let lms: Vec<&eval::Event> = truth.iter().filter(|e| e.kind == "lm").collect();
    let bilateral = lms
        .windows(2)
        .filter(|w| {
            w[0].night == w[1].night
                && w[0].channel != w[1].channel
                && w[1].start_s - w[0].end_s < 0.5
        })
        .count();
    assert!(bilateral >= 5, "{bilateral} bilateral pairs");

    let e = eval::evaluate_paths(&nights, &out, eval::IOU_MIN, &Config::default()).unwrap();
    let k = |name: &str| e.kinds.iter().find(|m| m.kind == name).unwrap().clone();
    // Every body movement is found as `movement` on both legs.
    let mv = k("movement");
    assert_eq!((mv.n_truth, mv.tp, mv.n_pred), (8, 8, 8), "{mv:?}");
    // No cramp over a body movement or a clipping stretch; clipping gets no F1.
    for c in &e.cramps_over {
        assert_eq!(c.n_cramps, 0, "{c:?}");
    }
    assert!(e.kinds.iter().all(|m| m.kind != "clipping"));
    let cr = k("cramp");
    assert_eq!((cr.n_truth, cr.tp, cr.n_pred), (2, 2, 2), "{cr:?}");
    assert!(k("lm").f1 >= 0.95, "{:?}", k("lm"));

    // No episode of any kind overlaps a clipping stretch on its channel.
    let pred = eval::read_events(&out.join("episodes.csv"), None).unwrap();
    for c in truth.iter().filter(|e| e.kind == "clipping") {
        let hit: Vec<_> = pred
            .iter()
            .filter(|p| {
                p.night == c.night
                    && p.channel == c.channel
                    && p.start_s < c.end_s
                    && p.end_s > c.start_s
            })
            .collect();
        assert!(hit.is_empty(), "{c:?} overlapped by {hit:?}");
    }

    // The 30 s build-up: buildup_s within 6 s of 30, onset within 1 s.
    let mut rdr = csv::Reader::from_path(out.join("episodes.csv")).unwrap();
    let h = rdr.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (ki, si, bi, ni) = (col("kind"), col("start_s"), col("buildup_s"), col("night"));
    for rec in rdr.records() {
        let rec = rec.unwrap();
        if &rec[ki] != "cramp" {
            continue;
        }
        let start: f64 = rec[si].parse().unwrap();
        let buildup: f64 = rec[bi].parse().unwrap();
        let t = truth
            .iter()
            .find(|t| t.kind == "cramp" && t.night == rec[ni])
            .unwrap();
        assert!((start - t.start_s).abs() < 1.0, "onset {start} vs {t:?}");
        assert!((buildup - 30.0).abs() <= 6.0, "buildup_s {buildup}");
    }

    // Bilateral LMs are scored once: the night's WASM LM count is below
    // its per-leg LM episodes.
    let night: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("nights").join("night01.json")).unwrap(),
    )
    .unwrap();
    let per_leg = night["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "lm")
        .count();
    let movements = night["leg_movements"]["movements"].as_array().unwrap();
    assert!(
        movements.len() < per_leg,
        "{} vs {per_leg}",
        movements.len()
    );
    assert!(movements
        .iter()
        .any(|m| m["parts"].as_u64().unwrap() >= 3 && m["candidate"] == true));
}

#[test]
fn clipping_holds_the_rails_and_psg_rates_keep_unit_amplitudes() {
    // One 200 Hz night: the clipping stretch sits at ±SIM_RAIL_UV and the
    // quality tracker leaves out at least its length.
    let dir = tempfile::tempdir().unwrap();
    let mut o = SimOptions::with_difficulty(Difficulty::Easy);
    o.out_dir = dir.path().to_path_buf();
    o.hours = 0.2;
    o.seed = 9;
    o.emg_fs_hz = 200.0;
    o.mains_hz = None;
    o.realism = Realism {
        clipping_per_h: 5.0,
        ..Realism::preset(Difficulty::Easy)
    };
    simulate(&o).unwrap();
    let truth = truth_rows(dir.path());
    let clips: Vec<_> = truth.iter().filter(|e| e.kind == "clipping").collect();
    assert_eq!(clips.len(), 1);
    let c = clips[0];
    let mut r = csv::Reader::from_path(dir.path().join("night01_emg.csv")).unwrap();
    let col = if c.channel == "emg_left_uv" { 1 } else { 2 };
    let (mut inside, mut at_rail, mut rest_sq, mut n_rest) = (0, 0, 0.0, 0);
    for rec in r.records() {
        let rec = rec.unwrap();
        let t: f64 = rec[0].parse().unwrap();
        let v: f64 = rec[col].parse().unwrap();
        if t >= c.start_s + 0.01 && t < c.end_s - 0.01 {
            inside += 1;
            at_rail += ((v.abs() - SIM_RAIL_UV).abs() < 0.01) as usize;
        } else if t < 10.0 {
            rest_sq += v * v;
            n_rest += 1;
        }
    }
    assert!(inside > 0 && at_rail == inside, "{at_rail} of {inside}");
    // Resting 2 µV RMS plus the 10 µV ECG spikes: the recorded resting EMG
    // at 200 Hz keeps its unit amplitude (not halved by the anti-alias
    // filter).
    let rms = (rest_sq / n_rest as f64).sqrt();
    assert!((2.0..3.0).contains(&rms), "resting RMS {rms}");
    let out = dir.path().join("out");
    scan(dir.path(), &out);
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("nights").join("night01.json")).unwrap(),
    )
    .unwrap();
    let ch = doc["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == c.channel.as_str())
        .unwrap();
    let excluded = ch["quality"]["excluded_s"].as_f64().unwrap();
    assert!(
        excluded >= c.end_s - c.start_s - 0.05,
        "excluded {excluded}"
    );
}
