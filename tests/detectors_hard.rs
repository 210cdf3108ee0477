//! Issue 4's target on 20 hard simulated nights (1 h each, seed 2026, the
//! same nights as `scripts/bench_hard.sh`): the default detector, with the
//! mains frequency left to auto-detection, reaches F1 ≥ 0.95 for cramps
//! and ≥ 0.90 for leg movements with a median onset error under 0.3 s.
//!
//! Slow (about a minute on two cores): run with
//! `cargo test --release --test detectors_hard -- --ignored`.

use crampscan::batch::{self, Inputs, ScanOptions};
use crampscan::config::Config;
use crampscan::eval;
use crampscan::simulate::{simulate, Difficulty, Format, SimOptions};

#[test]
#[ignore]
fn default_detector_meets_the_target_on_20_hard_nights() {
    let dir = tempfile::tempdir().unwrap();
    let nights = dir.path().join("nights");
    let mut o = SimOptions::with_difficulty(Difficulty::Hard);
    o.out_dir = nights.clone();
    o.nights = 20;
    o.hours = 1.0;
    o.format = Format::Wav;
    o.seed = 2026;
    simulate(&o).unwrap();
    let cfg = Config::default();
    assert_eq!(cfg.detector.mains, "auto");
    let out = dir.path().join("out");
    let opts = ScanOptions::new(Inputs::Paths(vec![nights.clone()]), out.clone());
    let r = batch::scan(&opts, &cfg).unwrap();
    assert_eq!((r.n_nights, r.n_failed), (20, 0));
    let e = eval::evaluate_paths(&nights, &out, eval::IOU_MIN, &cfg).unwrap();
    let k = |name: &str| e.kinds.iter().find(|m| m.kind == name).unwrap().clone();
    let (cramp, lm) = (k("cramp"), k("lm"));
    assert!(cramp.f1 >= 0.95, "{cramp:?}");
    assert!(lm.f1 >= 0.90, "{lm:?}");
    assert!(lm.onset_median_s.unwrap() < 0.3, "{lm:?}");
    assert!(cramp.onset_median_s.unwrap() < 0.3, "{cramp:?}");
}
