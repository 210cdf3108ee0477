//! `scan --events`: one event per row of `episodes.csv` in every format,
//! read back with crampscan's own readers (EDF+ annotations, NSRR XML,
//! Luna `.annot`) and as text (BIDS `events.tsv`); kept by `--resume`,
//! carried by `merge`, and not mistaken for night documents by `report`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{crampscan, read_table, sim, stderr};
use crampscan::io::scoring::EventClass;
use crampscan::simulate::Format;

fn scan(args: &[&str]) {
    let o = crampscan(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
}

/// The episodes of `out/episodes.csv` by night.
fn episodes(out: &Path) -> BTreeMap<String, Vec<BTreeMap<String, String>>> {
    let mut by: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for r in read_table(&out.join("episodes.csv")) {
        by.entry(r["night"].clone()).or_default().push(r);
    }
    by
}

fn num(s: &str) -> f64 {
    s.parse().unwrap()
}

/// Every event file of `night` equals its rows of `episodes.csv`.
fn check_night(out: &Path, night: &str, rows: &[BTreeMap<String, String>]) {
    let nights = out.join("nights");
    // EDF+: kind@@channel, onset and duration to the millisecond.
    let edf =
        crampscan::io::edf::EdfFile::open(&nights.join(format!("{night}.events.edf"))).unwrap();
    assert!(edf.warnings.is_empty(), "{:?}", edf.warnings);
    assert_eq!(edf.annotations.len(), rows.len());
    for (a, r) in edf.annotations.iter().zip(rows) {
        assert_eq!(a.text, format!("{}@@{}", r["kind"], r["channel"]));
        assert_eq!(a.onset_s, num(&r["start_s"]));
        assert_eq!(a.duration_s, Some(num(&r["duration_s"])));
    }
    // NSRR XML and Luna .annot: start, end, channel; LMs as limb movements.
    let xml = crampscan::io::nsrr::read(&nights.join(format!("{night}.events.xml"))).unwrap();
    let annot =
        crampscan::io::annot::read(&nights.join(format!("{night}.events.annot")), None).unwrap();
    // NSRR gives Start and Duration (duration_s, rounded from the exact
    // times as episodes.csv rounds it), so its end is within 1 ms of
    // end_s; Luna's stop is end_s.
    for (events, end_tol_s) in [(&xml.events, 1.0e-3 + 1e-9), (&annot.events, 1e-9)] {
        assert_eq!(events.len(), rows.len());
        for (e, r) in events.iter().zip(rows) {
            assert_eq!(e.start_s, num(&r["start_s"]));
            assert!(
                (e.end_s - num(&r["end_s"])).abs() <= end_tol_s,
                "{} {r:?}",
                e.end_s
            );
            assert_eq!(e.channel, r["channel"]);
            let limb = matches!(e.class, EventClass::Limb { .. });
            assert_eq!(limb, r["kind"] == "lm", "{:?} for {r:?}", e.class);
        }
    }
    // BIDS: the same values as text.
    let tsv = std::fs::read_to_string(nights.join(format!("{night}_events.tsv"))).unwrap();
    let mut want = String::from("onset\tduration\ttrial_type\tchannel\n");
    for r in rows {
        want.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            r["start_s"], r["duration_s"], r["kind"], r["channel"]
        ));
    }
    assert_eq!(tsv, want);
    assert!(nights.join(format!("{night}_events.json")).is_file());
}

/// Copies a folder tree.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let q = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &q);
        } else {
            std::fs::copy(&p, &q).unwrap();
        }
    }
}

fn event_bytes(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(out.join("nights"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("events"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_event_file_holds_the_episodes_of_episodes_csv() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    sim(&input, 3, 0.15, Format::Csv, 41, "n");
    let inp = input.to_str().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    scan(&["scan", inp, "-o", o, "--events", "edf,xml,annot,tsv"]);
    let eps = episodes(&out);
    assert_eq!(eps.len(), 3);
    let kinds: std::collections::BTreeSet<&str> =
        eps.values().flatten().map(|r| r["kind"].as_str()).collect();
    assert!(kinds.contains("lm") && kinds.contains("cramp"), "{kinds:?}");
    for (night, rows) in &eps {
        check_night(&out, night, rows);
    }
    let all = event_bytes(&out);
    assert_eq!(all.len(), 3 * 5);

    // Default: none; the report reads past the BIDS sidecars.
    let plain = dir.path().join("plain");
    scan(&["scan", inp, "-o", plain.to_str().unwrap()]);
    assert!(event_bytes(&plain).is_empty());
    scan(&["report", o]);

    // --resume keeps the nights and writes their event files again.
    for (name, _) in &all {
        std::fs::remove_file(out.join("nights").join(name)).unwrap();
    }
    scan(&["scan", inp, "-o", o, "--events", "all", "--resume"]);
    assert_eq!(event_bytes(&out), all);
    // A resumed run with fewer formats leaves none of the others behind.
    let again = dir.path().join("again");
    copy_dir(&out, &again);
    let a = again.to_str().unwrap();
    scan(&["scan", inp, "-o", a, "--events", "edf", "--resume"]);
    let kept: Vec<String> = event_bytes(&again).into_iter().map(|(n, _)| n).collect();
    assert_eq!(kept.len(), 3, "{kept:?}");
    assert!(kept.iter().all(|n| n.ends_with(".events.edf")), "{kept:?}");

    // Shards merged carry the same bytes; a thread count changes nothing.
    let mut shards = Vec::new();
    for i in 1..=2 {
        let s = dir.path().join(format!("s{i}"));
        let shard = format!("{i}/2");
        scan(&[
            "scan",
            inp,
            "-o",
            s.to_str().unwrap(),
            "--events",
            "all",
            "--shard",
            &shard,
            "--threads",
            "1",
        ]);
        shards.push(s.to_str().unwrap().to_string());
    }
    let merged = dir.path().join("merged");
    scan(&[
        "merge",
        &shards[0],
        &shards[1],
        "-o",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(event_bytes(&merged), all);
}
