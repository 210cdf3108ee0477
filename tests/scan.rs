//! End-to-end: the binary on simulated nights with known truth.

mod common;

use std::path::Path;

use common::{crampscan, read_table, sim, stderr};
use crampscan::eval::{self, Event};
use crampscan::simulate::Format;

fn events(path: &Path, night: Option<&str>) -> Vec<Event> {
    eval::read_events(path, night).unwrap()
}

/// Checks every simulated cramp is found on its channel with onset within
/// 1 s, no extra cramp is reported, and LM recall and precision are ≥ 0.9.
fn check_against_truth(sim_dir: &Path, out: &Path) {
    let pred = events(&out.join("episodes.csv"), None);
    let mut truth = Vec::new();
    for entry in std::fs::read_dir(sim_dir).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if let Some(night) = name.strip_suffix(".truth.csv") {
            truth.extend(events(&p, Some(night)));
        }
    }
    assert!(!truth.is_empty());
    let truth_cramps: Vec<&Event> = truth.iter().filter(|e| e.kind == "cramp").collect();
    let pred_cramps: Vec<&Event> = pred.iter().filter(|e| e.kind == "cramp").collect();
    assert_eq!(
        pred_cramps.len(),
        truth_cramps.len(),
        "cramps: {pred_cramps:?} vs {truth_cramps:?}"
    );
    for t in &truth_cramps {
        let found = pred_cramps.iter().any(|p| {
            p.night == t.night && p.channel == t.channel && (p.start_s - t.start_s).abs() <= 1.0
        });
        assert!(found, "cramp not found within 1 s: {t:?}");
    }
    let m = eval::metrics(&truth, &pred, eval::IOU_MIN);
    let lm = m.iter().find(|k| k.kind == "lm").expect("lm metrics");
    assert!(lm.n_truth >= 20, "too few LMs to judge: {lm:?}");
    assert!(
        lm.recall >= 0.9 && lm.precision.is_some_and(|p| p >= 0.9),
        "{lm:?}"
    );
}

#[test]
fn easy_simulated_nights_csv_and_wav_match_their_truth() {
    let dir = tempfile::tempdir().unwrap();
    let sims = dir.path().join("sim");
    sim(&sims, 3, 0.3, Format::Csv, 21, "c");
    sim(&sims, 2, 0.3, Format::Wav, 22, "w");
    let out = dir.path().join("out");
    let o = crampscan(&["scan", sims.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let nights = read_table(&out.join("nights.csv"));
    assert_eq!(nights.len(), 5);
    for n in &nights {
        assert_eq!(n["mains_hz"], "50", "mains found without being told");
        assert_eq!(n["quality"], "ok");
    }
    check_against_truth(&sims, &out);
    // Every night has its JSON, which names the config it used.
    for n in &nights {
        let j: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.join("nights").join(format!("{}.json", n["night"]))).unwrap(),
        )
        .unwrap();
        assert_eq!(j["config"]["detector"]["onset_above_uv"], 8.0);
        assert_eq!(
            j["summary"]["n_cramps"].as_u64().unwrap().to_string(),
            n["n_cramps"]
        );
    }
}

#[test]
fn the_sample_nights_in_data_match_their_truth() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = crampscan(&["scan", data.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let pred = events(&out.join("episodes.csv"), None);
    for night in ["csvnight01", "wavnight01"] {
        let truth = events(&data.join(format!("{night}.truth.csv")), Some(night));
        let p: Vec<Event> = pred.iter().filter(|e| e.night == night).cloned().collect();
        let m = eval::metrics(&truth, &p, 0.5);
        for k in &m {
            assert_eq!(
                (k.tp, k.n_truth, k.n_pred),
                (k.n_truth, k.n_truth, k.n_truth),
                "{night}: {k:?}"
            );
        }
    }
    // Clock times come from the JSON sidecar's start time.
    let eps = read_table(&out.join("episodes.csv"));
    assert!(eps
        .iter()
        .all(|e| e["onset_clock"].starts_with("2026-01-01T23:")));
}

#[test]
fn outputs_are_byte_identical_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let sims = dir.path().join("sim");
    sim(&sims, 3, 0.1, Format::Csv, 5, "n");
    // One bad night too, so errors.csv is compared as well.
    std::fs::write(sims.join("bad.csv"), "emg_uv\n1\n").unwrap();
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("out{threads}"));
        let o = crampscan(&[
            "scan",
            sims.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--threads",
            threads,
        ]);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        outs.push(out);
    }
    let mut files = vec![
        "episodes.csv".to_string(),
        "nights.csv".into(),
        "errors.csv".into(),
    ];
    for n in ["n01", "n02", "n03"] {
        files.push(format!("nights/{n}.json"));
    }
    for f in files {
        let a = std::fs::read(outs[0].join(&f)).unwrap();
        let b = std::fs::read(outs[1].join(&f)).unwrap();
        assert!(!a.is_empty());
        assert_eq!(a, b, "{f} differs between --threads 1 and 2");
    }
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(outs[0].join("run.json")).unwrap()).unwrap();
    assert_eq!(run["threads"], 1);
    assert_eq!(run["n_failed"], 1);
    // 3 nights of EMG and accelerometer CSV, each with its JSON sidecar,
    // and the bad file.
    assert_eq!(run["inputs"].as_array().unwrap().len(), 13);
    assert_eq!(run["inputs"][0]["blake3"].as_str().unwrap().len(), 64);
}

#[test]
fn print_config_round_trips_through_config_file() {
    let o = crampscan(&["scan", "--print-config"]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("onset_above_uv = 8.0"), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        text.replace("onset_above_uv = 8.0", "onset_above_uv = 9.5"),
    )
    .unwrap();
    let o = crampscan(&["scan", "--print-config", "--config", cfg.to_str().unwrap()]);
    let back = String::from_utf8(o.stdout).unwrap();
    assert!(back.contains("onset_above_uv = 9.5"));
    assert_eq!(
        back,
        text.replace("onset_above_uv = 8.0", "onset_above_uv = 9.5")
    );
    // A typo is refused with the field's name, as a fatal error.
    std::fs::write(&cfg, "[detector]\nonset_uv = 3\n").unwrap();
    let o = crampscan(&["scan", "--print-config", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("onset_uv"), "{}", stderr(&o));
}

#[test]
fn usage_errors_exit_2_and_help_reads_like_a_manual() {
    let o = crampscan(&["scan"]);
    assert_eq!(o.status.code(), Some(2));
    let o = crampscan(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8(o.stdout).unwrap();
    assert!(
        help.contains("EXIT STATUS") && help.contains("3  the run finished but some nights failed")
    );
    let o = crampscan(&["scan", "--help"]);
    let help = String::from_utf8(o.stdout).unwrap();
    assert!(
        help.contains("_channels.tsv") || help.contains("part suffix"),
        "{help}"
    );
}

#[test]
fn inspect_lists_channels_rates_and_start() {
    let dir = tempfile::tempdir().unwrap();
    sim(dir.path(), 1, 0.02, Format::Wav, 3, "n");
    let o = crampscan(&["inspect", dir.path().join("n01_emg.wav").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("rate        1000 Hz"), "{text}");
    assert!(text.contains("emg_left_uv") && text.contains("emg_right_uv"));
    assert!(text.contains("start       2026-01-01T23:00:00.000"));
    assert!(text.contains("mains       50 Hz"), "{text}");
}
