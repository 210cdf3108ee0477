//! Many-night runs: manifests, sharding + merge, resuming a killed run,
//! and the cohort table.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{crampscan, read_table, sim, stderr};
use crampscan::simulate::Format;

/// The output files whose bytes must not depend on how the run was split.
fn table_files(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = vec![];
    for f in ["episodes.csv", "nights.csv", "cohort.csv", "errors.csv"] {
        files.push((f.to_string(), std::fs::read(out.join(f)).unwrap()));
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(out.join("nights"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p.file_name().unwrap().to_string_lossy().starts_with('.')
        })
        .collect();
    names.sort();
    for p in names {
        files.push((
            format!("nights/{}", p.file_name().unwrap().to_string_lossy()),
            std::fs::read(&p).unwrap(),
        ));
    }
    files
}

fn scan(args: &[&str]) {
    let o = crampscan(args);
    assert!(
        matches!(o.status.code(), Some(0) | Some(3)),
        "{args:?}: {}",
        stderr(&o)
    );
}

#[test]
fn sharded_runs_merged_equal_the_single_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    sim(&input, 7, 0.03, Format::Csv, 31, "n");
    std::fs::write(input.join("broken.csv"), "emg_uv\nx\n").unwrap();
    let inp = input.to_str().unwrap();
    let single = dir.path().join("single");
    scan(&["scan", inp, "-o", single.to_str().unwrap()]);
    let expected = table_files(&single);
    assert_eq!(expected.len(), 4 + 7);
    for n in [1usize, 2, 3] {
        let mut shards = Vec::new();
        for i in 1..=n {
            let out = dir.path().join(format!("s{n}_{i}"));
            scan(&[
                "scan",
                inp,
                "-o",
                out.to_str().unwrap(),
                "--shard",
                &format!("{i}/{n}"),
            ]);
            shards.push(out.to_str().unwrap().to_string());
        }
        // Each shard holds only its share: its processed nights, and the
        // broken night (status `failed`) in the shard it fell to.
        if n == 3 {
            let tables: Vec<_> = shards
                .iter()
                .map(|s| read_table(&Path::new(s).join("nights.csv")))
                .collect();
            let sizes: Vec<usize> = tables.iter().map(Vec::len).collect();
            assert_eq!(sizes.iter().sum::<usize>(), 7 + 1);
            let failed: Vec<&str> = tables
                .iter()
                .flatten()
                .filter(|r| r["status"] != "ok")
                .map(|r| r["status"].as_str())
                .collect();
            assert_eq!(failed, ["failed"]);
            assert!(sizes.iter().all(|&k| k >= 2), "{sizes:?}");
        }
        let merged = dir.path().join(format!("merged{n}"));
        let mut args = vec!["merge"];
        args.extend(shards.iter().rev().map(String::as_str));
        args.extend(["-o", merged.to_str().unwrap()]);
        let o = crampscan(&args);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o)); // the broken night
        let got = table_files(&merged);
        assert_eq!(got.len(), expected.len());
        for ((fa, a), (fb, b)) in expected.iter().zip(&got) {
            assert_eq!(fa, fb);
            assert!(a == b, "{fa} differs after merging {n} shards");
        }
    }
}

#[test]
fn merge_refuses_mixed_configs_and_incomplete_or_repeated_shards() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    sim(&input, 3, 0.02, Format::Csv, 32, "n");
    let inp = input.to_str().unwrap();
    let s = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    scan(&["scan", inp, "-o", &s("a1"), "--shard", "1/2"]);
    scan(&["scan", inp, "-o", &s("a2"), "--shard", "2/2"]);
    scan(&[
        "scan",
        inp,
        "-o",
        &s("b2"),
        "--shard",
        "2/2",
        "--mains",
        "60",
    ]);
    let o = crampscan(&["merge", &s("a1"), &s("b2"), "-o", &s("m")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("different config"), "{}", stderr(&o));
    let o = crampscan(&["merge", &s("a1"), "-o", &s("m")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("missing shards: 2/2"), "{}", stderr(&o));
    let o = crampscan(&["merge", &s("a1"), &s("a1"), &s("a2"), "-o", &s("m")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("the same shard given twice"),
        "{}",
        stderr(&o)
    );
    let o = crampscan(&["merge", &s("a1"), &s("a2"), "-o", &s("m")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_killed_run_resumed_equals_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    sim(&input, 6, 0.25, Format::Csv, 33, "n");
    let inp = input.to_str().unwrap();
    let full = dir.path().join("full");
    scan(&["scan", inp, "-o", full.to_str().unwrap(), "--threads", "1"]);

    let out = dir.path().join("out");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_crampscan"))
        .args(["scan", inp, "-o", out.to_str().unwrap(), "--threads", "1"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the first night is written (before the tables are).
    let first = out.join("nights/n01.json");
    let t0 = Instant::now();
    while !first.exists() && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = std::process::Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap();
    let done: Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> =
        std::fs::read_dir(out.join("nights"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p.file_name().unwrap().to_string_lossy().starts_with('.')
            })
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap();
                let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
                (p, bytes, mtime)
            })
            .collect();
    assert!(!done.is_empty());
    let killed_early = !out.join("nights.csv").exists();

    scan(&[
        "scan",
        inp,
        "-o",
        out.to_str().unwrap(),
        "--threads",
        "1",
        "--resume",
    ]);
    // Nights finished before the kill were kept, not processed again.
    for (p, bytes, mtime) in &done {
        assert_eq!(&std::fs::read(p).unwrap(), bytes);
        assert_eq!(
            std::fs::metadata(p).unwrap().modified().unwrap(),
            *mtime,
            "{} rewritten",
            p.display()
        );
    }
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["n_resumed"].as_u64().unwrap() as usize, done.len());
    if killed_early {
        assert!(done.len() < 6, "the kill came after every night was done");
    }
    let (a, b) = (table_files(&full), table_files(&out));
    assert_eq!(a.len(), b.len());
    for ((fa, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{fa} differs after resume");
    }

    // A changed input is processed again.
    let p = input.join("n02_acc.csv");
    let mut text = std::fs::read_to_string(&p).unwrap();
    text.push_str("900.0000,0.0,0.0,1.0\n");
    std::fs::write(&p, text).unwrap();
    scan(&["scan", inp, "-o", out.to_str().unwrap(), "--resume"]);
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["n_resumed"], 5);
}

#[test]
fn manifest_subjects_give_the_cohort_table() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    sim(&input, 3, 0.05, Format::Csv, 34, "n");
    let manifest = dir.path().join("nights.csv");
    std::fs::write(
        &manifest,
        "night,files,subject\nA,in/n01_emg.csv;in/n01_acc.csv,s1\nB,in/n02_emg.csv;in/n02_acc.csv,s1\nC,in/n03_emg.csv,s2\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = crampscan(&[
        "scan",
        "--manifest",
        manifest.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let nights = read_table(&out.join("nights.csv"));
    assert_eq!(
        nights
            .iter()
            .map(|n| n["night"].as_str())
            .collect::<Vec<_>>(),
        ["A", "B", "C"]
    );
    assert_eq!(nights[2]["subject"], "s2");
    let cramps = |i: usize| nights[i]["n_cramps"].parse::<f64>().unwrap();
    let lm = |i: usize| nights[i]["lm_index"].parse::<f64>().unwrap();
    let cohort = read_table(&out.join("cohort.csv"));
    assert_eq!(cohort.len(), 2);
    assert_eq!(cohort[0]["subject"], "s1");
    assert_eq!(cohort[0]["n_nights"], "2");
    assert_eq!(
        cohort[0]["mean_cramps_per_night"],
        format!("{:.3}", (cramps(0) + cramps(1)) / 2.0)
    );
    assert_eq!(cohort[0]["nights_with_cramp"], "2");
    let mean_lm: f64 = cohort[0]["mean_lm_index"].parse().unwrap();
    assert!((mean_lm - (lm(0) + lm(1)) / 2.0).abs() < 0.011);
    assert_eq!(cohort[1]["n_nights"], "1");
    // Duplicate ids in a manifest stop the run, naming both lines.
    std::fs::write(
        &manifest,
        "night,files\nA,in/n01_emg.csv\nA,in/n02_emg.csv\n",
    )
    .unwrap();
    let o = crampscan(&[
        "scan",
        "--manifest",
        manifest.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("appears on line 2 and again on line 3"),
        "{}",
        stderr(&o)
    );
}
