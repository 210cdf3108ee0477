//! `evaluate`'s honest edges (issue 16, item 7): truth nights that were not
//! scanned are named and left out, none scanned is refused, and precision
//! with no predictions is undefined rather than 1.

mod common;

use common::{crampscan, read_table, sim, stderr};
use crampscan::simulate::Format;

#[test]
fn unscanned_truth_nights_are_named_and_none_scanned_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let nights = dir.path().join("nights");
    sim(&nights, 1, 0.02, Format::Csv, 4, "night");
    let out = dir.path().join("out");
    let o = crampscan(&[
        "scan",
        nights.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // A truth folder with the scanned night and one never scanned.
    let truth = dir.path().join("truth");
    std::fs::create_dir_all(&truth).unwrap();
    std::fs::copy(
        nights.join("night01.truth.csv"),
        truth.join("night01.truth.csv"),
    )
    .unwrap();
    std::fs::write(
        truth.join("ghost01.truth.csv"),
        "channel,kind,start_s,end_s\nemg_left_uv,cramp,10,40\n",
    )
    .unwrap();
    let o = crampscan(&[
        "evaluate",
        "--truth",
        truth.to_str().unwrap(),
        "--pred",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("1 truth nights were not scanned") && err.contains("ghost01"),
        "{err}"
    );
    // The ghost's cramp is not counted as missed.
    let rows = read_table(&out.join("evaluation.csv"));
    let n_truth = |kind: &str| {
        rows.iter()
            .find(|r| r["kind"] == kind)
            .map_or(0, |r| r["n_truth"].parse::<usize>().unwrap())
    };
    let truth01 = std::fs::read_to_string(nights.join("night01.truth.csv")).unwrap();
    let n_cramps = truth01.lines().filter(|l| l.contains(",cramp,")).count();
    assert_eq!(n_truth("cramp"), n_cramps);
    assert!(n_truth("lm") > 0);

    // Only unscanned nights: refused, naming them.
    std::fs::remove_file(truth.join("night01.truth.csv")).unwrap();
    let o = crampscan(&[
        "evaluate",
        "--truth",
        truth.to_str().unwrap(),
        "--pred",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("none of the 1 truth nights (ghost01)"),
        "{err}"
    );

    // A folder that is not a scan output: refused, naming nights.csv.
    let o = crampscan(&[
        "evaluate",
        "--truth",
        truth.to_str().unwrap(),
        "--pred",
        truth.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("nights.csv: not found"),
        "{}",
        stderr(&o)
    );
}
