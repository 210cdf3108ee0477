//! Issue 15, body movements: nights whose turns in bed start on both legs
//! within 2 s while the accelerometer rises, peaks and falls (`bm-ramped`)
//! or is busy only in bursts (`bm-bursty`), scanned with the accelerometer
//! and without it (the report: every turn became two cramp rows,
//! exactly the same without the accelerometer file). No reported cramp
//! overlaps a body movement, and every cramp is still found.

use crampscan::batch::{self, Inputs, ScanOptions};
use crampscan::config::Config;
use crampscan::eval;
use crampscan::simulate::{simulate, Difficulty, Family, Format, SimOptions};

fn check(family: Family, no_accel: bool) {
    let dir = tempfile::tempdir().unwrap();
    let nights = dir.path().join("nights");
    let mut o = SimOptions::with_difficulty(Difficulty::Psg);
    o.out_dir = nights.clone();
    o.nights = 2;
    o.hours = 0.5;
    o.format = Format::Wav;
    o.seed = 515;
    o.emg_fs_hz = 256.0;
    o.family = Some(family);
    o.no_accel = no_accel;
    simulate(&o).unwrap();
    let cfg = Config::default();
    let out = dir.path().join("out");
    let opts = ScanOptions::new(Inputs::Paths(vec![nights.clone()]), out.clone());
    let r = batch::scan(&opts, &cfg).unwrap();
    assert_eq!((r.n_nights, r.n_failed), (2, 0));
    let e = eval::evaluate_paths(&nights, &out, eval::IOU_MIN, &cfg).unwrap();
    let what = format!("{} no_accel={no_accel}", family.name());
    let over = e.cramps_over.iter().find(|c| c.kind == "movement").unwrap();
    assert!(over.n_stretches >= 4, "{what}: {over:?}");
    assert_eq!(over.n_cramps, 0, "{what}: {over:?}");
    let cramp = e.kinds.iter().find(|m| m.kind == "cramp").unwrap();
    assert!(
        cramp.n_truth > 0 && cramp.recall == 1.0,
        "{what}: {cramp:?}"
    );
    assert_eq!(cramp.precision, Some(1.0), "{what}: {cramp:?}");
}

#[test]
fn turns_in_bed_are_no_cramps_with_or_without_the_accelerometer() {
    for family in [Family::BmRamped, Family::BmBursty] {
        check(family, false);
        check(family, true);
    }
}
