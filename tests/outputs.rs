//! Issue 16, items 5 and 6: provenance that covers what changes results
//! (sidecars, hypnograms, manifests) and output failures that end the run
//! with exit 1 instead of passing as failed nights.

mod common;

use std::path::Path;

use common::{crampscan, read_table, stderr};
use crampscan::simulate::Format;

fn run_json(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap()
}

fn input_paths(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect()
}

fn scan(args: &[&str]) -> String {
    let o = crampscan(args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    stderr(&o)
}

#[test]
fn a_changed_channels_tsv_makes_resume_redo_the_night() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    common::sim(&input, 1, 0.02, Format::Wav, 5, "w");
    let out = dir.path().join("out");
    let args = [
        "scan",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--resume",
    ];
    scan(&args);
    // The sidecars are inputs of the night and of the run.
    let tsv = input.join("w01_emg_channels.tsv");
    let json = input.join("w01_emg.json");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("nights/w01.json")).unwrap()).unwrap();
    for listed in [
        input_paths(&doc["inputs"]),
        input_paths(&run_json(&out)["inputs"]),
    ] {
        for f in [&tsv, &json, &input.join("w01_acc_channels.tsv")] {
            let f = f.display().to_string();
            assert!(listed.contains(&f), "{f} not in {listed:?}");
        }
    }
    // Unchanged: kept. A gain edited in the sidecar: analysed again.
    assert!(scan(&args).contains("1 kept from the earlier run"));
    let before = std::fs::read(out.join("nights.csv")).unwrap();
    let text = std::fs::read_to_string(&tsv).unwrap();
    std::fs::write(&tsv, text.replace("\t0.05\t", "\t0.5\t")).unwrap();
    let err = scan(&args);
    assert!(err.contains("0 kept from the earlier run"), "{err}");
    assert_ne!(std::fs::read(out.join("nights.csv")).unwrap(), before);
    // So is a changed .json sidecar.
    let text = std::fs::read_to_string(&json).unwrap();
    std::fs::write(
        &json,
        text.replace("\"start_time\": \"", "\"start_time\":  \""),
    )
    .unwrap();
    assert!(scan(&args).contains("0 kept from the earlier run"));
}

#[test]
fn the_manifest_is_an_input_and_merge_notices_it_changed_between_shards() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    common::sim(&input, 2, 0.02, Format::Csv, 6, "n");
    let manifest = dir.path().join("m.csv");
    let rows = "night,files,subject\nA,in/n01_emg.csv,s1\nB,in/n02_emg.csv,s2\n";
    std::fs::write(&manifest, rows).unwrap();
    let shard = |i: usize| {
        let out = dir.path().join(format!("s{i}"));
        let s = format!("{i}/2");
        scan(&[
            "scan",
            "--manifest",
            manifest.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--shard",
            &s,
        ]);
        out
    };
    let s1 = shard(1);
    let listed = input_paths(&run_json(&s1)["inputs"]);
    assert_eq!(listed[0], manifest.display().to_string(), "{listed:?}");
    // Subject of B changed after shard 1 ran: the shards saw different runs.
    std::fs::write(&manifest, rows.replace(",s2", ",s3")).unwrap();
    let s2 = shard(2);
    let merged = dir.path().join("merged");
    let o = crampscan(&[
        "merge",
        s1.to_str().unwrap(),
        s2.to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("m.csv changed between shards") && e.contains("rescan"),
        "{e}"
    );
    // With the manifest as it was, the shards merge.
    std::fs::write(&manifest, rows).unwrap();
    let s2 = shard(2);
    let o = crampscan(&[
        "merge",
        s1.to_str().unwrap(),
        s2.to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_subject_changed_in_the_manifest_makes_resume_redo_that_night() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    common::sim(&input, 2, 0.02, Format::Csv, 7, "n");
    let manifest = dir.path().join("m.csv");
    let rows = "night,files,subject\nA,in/n01_emg.csv,s1\nB,in/n02_emg.csv,s2\n";
    std::fs::write(&manifest, rows).unwrap();
    let out = dir.path().join("out");
    let args = [
        "scan",
        "--manifest",
        manifest.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--resume",
    ];
    scan(&args);
    std::fs::write(&manifest, rows.replace(",s2", ",s3")).unwrap();
    let e = scan(&args);
    assert!(e.contains("1 kept from the earlier run"), "{e}");
    let nights = read_table(&out.join("nights.csv"));
    assert_eq!(nights[1]["subject"], "s3");
}

/// Scans one good night into `out` prepared by `spoil`; the run must end
/// with exit 1 naming `culprit` and the OS error once, never exit 3, and
/// still write errors.csv and run.json.
fn output_failure_is_fatal(spoil: impl FnOnce(&Path), culprit: &str, os_error: &str) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    common::sim(&input, 2, 0.02, Format::Csv, 8, "n");
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("nights")).unwrap();
    spoil(&out);
    let o = crampscan(&["scan", input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains(culprit), "{e}");
    assert_eq!(e.matches(os_error).count(), 1, "{e}");
    assert!(read_table(&out.join("errors.csv")).is_empty());
    let run = run_json(&out);
    assert!(
        run["output_error"].as_str().unwrap().contains(culprit),
        "{run}"
    );
}

#[test]
fn a_night_document_that_cannot_be_written_is_exit_1_not_a_failed_night() {
    // A folder where the document goes: rename fails even for root.
    output_failure_is_fatal(
        |out| std::fs::create_dir(out.join("nights/n01.json")).unwrap(),
        "cannot write",
        "Is a directory",
    );
}

#[test]
fn a_table_that_cannot_be_written_is_exit_1() {
    output_failure_is_fatal(
        |out| {
            std::fs::create_dir(out.join("nights.csv")).unwrap();
            std::fs::write(out.join("nights.csv/x"), "").unwrap();
        },
        "nights.csv",
        "Is a directory",
    );
}

#[cfg(unix)]
#[test]
fn a_read_only_nights_folder_is_exit_1() {
    use std::os::unix::fs::PermissionsExt;
    // Root writes through permissions; the folder-in-the-way tests above
    // cover root.
    let probe = tempfile::tempdir().unwrap();
    std::fs::set_permissions(probe.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let writable = std::fs::write(probe.path().join("x"), "").is_ok();
    std::fs::set_permissions(probe.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    if writable {
        println!("skipped: running as root, where a read-only folder can be written");
        return;
    }
    output_failure_is_fatal(
        |out| {
            let n = out.join("nights");
            std::fs::set_permissions(n, std::fs::Permissions::from_mode(0o555)).unwrap();
        },
        "nights",
        "Permission denied",
    );
}

#[test]
fn a_lock_of_a_running_scan_refuses_a_second_and_a_stale_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    common::sim(&input, 1, 0.02, Format::Csv, 9, "n");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let lock = out.join("crampscan.lock");
    let args = ["scan", input.to_str().unwrap(), "-o", out.to_str().unwrap()];
    // This test process stands for a run in progress.
    std::fs::write(&lock, format!("{}\n", std::process::id())).unwrap();
    let o = crampscan(&args);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("in use by another crampscan run")
            && e.contains(&format!("process {}", std::process::id())),
        "{e}"
    );
    assert!(!out.join("nights.csv").exists() && lock.exists());
    // A run killed with kill -9 left its lock: its process is gone.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    std::fs::write(&lock, format!("{dead}\n")).unwrap();
    scan(&args);
    assert!(!lock.exists(), "the lock outlived its run");
    assert_eq!(read_table(&out.join("nights.csv")).len(), 1);
}

/// Renames the simulated night `n01` (its two CSV files and sidecars) to `id`.
fn rename_night(dir: &Path, id: &str) {
    for f in std::fs::read_dir(dir).unwrap() {
        let p = f.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if let Some(rest) = name.strip_prefix("n01") {
            std::fs::rename(&p, dir.join(format!("{id}{rest}"))).unwrap();
        }
    }
}

#[test]
fn formula_ids_are_quoted_a_long_id_and_index_are_written_and_no_negative_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    for (i, id) in ["=HYPERLINK(1)", "index", &"L".repeat(240)]
        .into_iter()
        .enumerate()
    {
        let input = dir.path().join(format!("in{i}"));
        common::sim(&input, 1, 0.02, Format::Csv, 11, "n");
        rename_night(&input, id);
        ids.push(input);
    }
    let out = dir.path().join("out");
    let mut args = vec!["scan"];
    args.extend(ids.iter().map(|p| p.to_str().unwrap()));
    args.extend(["-o", out.to_str().unwrap(), "--plots"]);
    scan(&args);
    let text = std::fs::read_to_string(out.join("nights.csv")).unwrap();
    assert!(text.contains("\n'=HYPERLINK(1),"), "{text}");
    assert!(
        !text.contains(",-0.0,") && !text.contains(",-0.00"),
        "{text}"
    );
    let nights = read_table(&out.join("nights.csv"));
    assert_eq!(nights.len(), 3);
    assert!(nights.iter().any(|n| n["night"] == "L".repeat(240)));
    // The page of the night named index is its own; the index lists it.
    let index = std::fs::read_to_string(out.join("report/index.html")).unwrap();
    assert!(index.contains("_index.html"), "index.html lost to a night");
    assert!(out.join("report/_index.html").is_file());
    assert!(out
        .join(format!("nights/{}.json", "L".repeat(240)))
        .is_file());
    // A merge reads the quoted id back as it was.
    let merged = dir.path().join("merged");
    let o = crampscan(&[
        "merge",
        out.to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(merged.join("nights/=HYPERLINK(1).json").is_file());
    assert_eq!(
        std::fs::read_to_string(merged.join("nights.csv")).unwrap(),
        text
    );
}
