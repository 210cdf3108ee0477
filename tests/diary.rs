//! Nightly diaries joined to nights (issue 19): `scan --diary` on the
//! sample nights, by night id and by subject + date (subjects from a
//! manifest), with the unmatched rows and nights listed, a date on two
//! recordings refused, a word in a numeric column named by line and
//! column, and `crampscan cohort` reading the tidy table back.

mod common;

use std::path::{Path, PathBuf};

use common::{crampscan, stderr};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data");

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The header and rows of a CSV file.
fn table(p: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// The cells of column `name` of a table, rows in order.
fn column(t: &[Vec<String>], name: &str) -> Vec<String> {
    let i = t[0]
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", t[0]));
    t[1..].iter().map(|r| r[i].clone()).collect()
}

fn run_json(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap()
}

#[test]
fn night_ids_join_with_units_in_names_and_the_unmatched_listed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // wavnight01 has no row; "ghost" has no recording.
    let diary = write(
        d,
        "diary.csv",
        "night,Exercise (min),fluid_L,diuretic,arm\n\
         csvnight01,30,1.5,yes,A\n\
         ghost,10,2,no,B\n",
    );
    let plain = d.join("plain");
    let with = d.join("with");
    assert!(crampscan(&["scan", DATA, "-o", s(&plain)]).status.success());
    let o = crampscan(&["scan", DATA, "-o", s(&with), "--diary", s(&diary)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("1 rows match no night, 1 nights have no diary row"),
        "{err}"
    );
    let t = table(&with.join("nights.csv"));
    let n = t[0].len();
    assert_eq!(
        t[0][n - 4..],
        [
            "diary_Exercise_min",
            "diary_fluid_L",
            "diary_diuretic",
            "diary_arm"
        ]
    );
    assert_eq!(t[1][n - 4..], ["30", "1.5", "yes", "A"]);
    assert_eq!(t[2][n - 4..], ["", "", "", ""]);
    // Without the diary's columns, nights.csv is the plain run's, byte for byte.
    let stripped: String = std::fs::read_to_string(with.join("nights.csv"))
        .unwrap()
        .lines()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            format!("{}\n", cells[..cells.len() - 4].join(","))
        })
        .collect();
    assert_eq!(
        stripped,
        std::fs::read_to_string(plain.join("nights.csv")).unwrap()
    );
    assert!(!plain.join("cohort_nights.csv").exists());
    assert!(run_json(&plain).get("diary").is_none());
    let rec = &run_json(&with)["diary"];
    assert_eq!(rec["n_unmatched_rows"], 1);
    assert_eq!(rec["n_nights_without_row"], 1);
    let warnings: Vec<&str> = rec["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings[0].ends_with("line 3: night ghost matches no night of the run"),
        "{warnings:?}"
    );
    assert_eq!(
        warnings[1],
        "night wavnight01: no diary row for night wavnight01"
    );
    // The tidy table: one row per night, covariates unprefixed.
    let c = table(&with.join("cohort_nights.csv"));
    assert_eq!(column(&c, "night"), ["csvnight01", "wavnight01"]);
    assert_eq!(column(&c, "Exercise_min"), ["30", ""]);
    assert_eq!(column(&c, "date"), ["2026-01-01", "2026-01-01"]);
    assert_eq!(column(&c, "n_cramps"), ["1", "1"]);
    // cohort.csv keeps the subject-level summaries.
    let co = table(&with.join("cohort.csv"));
    assert_eq!(column(&co, "diary_diuretic"), ["1.000", ""]);
    // crampscan cohort reads the tidy table back and writes the same effects.
    let effects = std::fs::read(with.join("cohort_effects.csv")).unwrap();
    std::fs::remove_file(with.join("cohort_effects.csv")).unwrap();
    let o = crampscan(&["cohort", s(&with)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(with.join("cohort_effects.csv")).unwrap(),
        effects
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("covariate"));
}

/// A manifest of the two sample nights (both start 2026-01-01 23:00)
/// with these subjects.
fn manifest(dir: &Path, subjects: [&str; 2]) -> PathBuf {
    write(
        dir,
        "manifest.csv",
        &format!(
            "night,files,subject\n\
             csvnight01,{DATA}/csvnight01_emg.csv;{DATA}/csvnight01_acc.csv,{}\n\
             wavnight01,{DATA}/wavnight01_emg.wav;{DATA}/wavnight01_acc.wav,{}\n",
            subjects[0], subjects[1]
        ),
    )
}

#[test]
fn subject_and_date_join_and_a_date_on_two_recordings_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let diary = write(
        d,
        "diary.csv",
        "subject,date,caffeine_mg\ns1,2026-01-01,200\ns2,2026-01-01,0\ns2,2026-01-02,50\n",
    );
    let out = d.join("out");
    let m = manifest(d, ["s1", "s2"]);
    let o = crampscan(&[
        "scan",
        "--manifest",
        s(&m),
        "-o",
        s(&out),
        "--diary",
        s(&diary),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = table(&out.join("nights.csv"));
    assert_eq!(column(&t, "diary_caffeine_mg"), ["200", "0"]);
    let rec = &run_json(&out)["diary"];
    assert_eq!(rec["n_unmatched_rows"], 1);
    assert_eq!(rec["n_nights_without_row"], 0);
    // One subject with two recordings on the night of 1 January.
    let m = manifest(d, ["s1", "s1"]);
    let out2 = d.join("out2");
    let o = crampscan(&[
        "scan",
        "--manifest",
        s(&m),
        "-o",
        s(&out2),
        "--diary",
        s(&diary),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("line 2: subject s1, date 2026-01-01 matches two recordings: night csvnight01 (starts 2026-01-01T23:00:00) and night wavnight01 (starts 2026-01-01T23:00:00)"),
        "{err}"
    );
    // The tables are still written, without the diary.
    let t = table(&out2.join("nights.csv"));
    assert!(!t[0].iter().any(|h| h.starts_with("diary_")));
}

#[test]
fn a_bad_diary_stops_the_run_before_any_night_naming_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let diary = write(
        d,
        "diary.csv",
        "night,exercise_min\ncsvnight01,30\nwavnight01,half an hour\nx,0\n",
    );
    let out = d.join("out");
    let o = crampscan(&["scan", DATA, "-o", s(&out), "--diary", s(&diary)]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("diary.csv: line 3, column 2 (exercise_min): expected a number")
            && err.contains("found \"half an hour\""),
        "{err}"
    );
    assert!(!out.join("nights").exists());
    let dup = write(d, "dup.csv", "night,x\ncsvnight01,1\ncsvnight01,2\n");
    let err = stderr(&crampscan(&[
        "scan",
        DATA,
        "-o",
        s(&out),
        "--diary",
        s(&dup),
    ]));
    assert!(
        err.contains("dup.csv: line 3: night csvnight01 is on line 2 too"),
        "{err}"
    );
}
