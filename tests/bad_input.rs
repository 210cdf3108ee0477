//! Every bad input gets a clear error naming the file and the place, the
//! other nights of the run are still written, and the exit status says
//! that some nights failed.

mod common;

use std::path::{Path, PathBuf};

use common::{crampscan, read_table, sim, stderr};
use crampscan::simulate::Format;

/// A folder with one good simulated night (`good01`) plus the bad files
/// written by `setup`; returns the error rows and the nights written.
fn run_with_bad(
    setup: impl FnOnce(&Path),
) -> (Vec<(String, String)>, Vec<String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    sim(&input, 1, 0.02, Format::Csv, 9, "good");
    setup(&input);
    let out = dir.path().join("out");
    let o = crampscan(&["scan", input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let errors: Vec<(String, String)> = read_table(&out.join("errors.csv"))
        .into_iter()
        .map(|r| (r["night"].clone(), r["error"].clone()))
        .collect();
    let nights: Vec<String> = read_table(&out.join("nights.csv"))
        .into_iter()
        .map(|r| r["night"].clone())
        .collect();
    assert!(
        nights.contains(&"good01".to_string()),
        "the good night was lost: {nights:?}"
    );
    assert!(out.join("nights/good01.json").is_file());
    if errors.is_empty() {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    } else {
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    }
    (errors, nights, dir)
}

fn one_error(errors: &[(String, String)], night: &str) -> String {
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, night);
    errors[0].1.clone()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn numeric_rows(n: usize, row: &str) -> String {
    (0..n).map(|_| format!("{row}\n")).collect()
}

#[test]
fn empty_file() {
    let (e, _, _) = run_with_bad(|d| {
        write(d, "empty.csv", "");
    });
    let msg = one_error(&e, "empty");
    assert!(
        msg.contains("empty.csv") && msg.contains("empty file; expected a header row"),
        "{msg}"
    );
}

#[test]
fn header_only() {
    let (e, _, _) = run_with_bad(|d| {
        write(d, "hdr.csv", "time,emg_left_uv\n");
    });
    let msg = one_error(&e, "hdr");
    assert!(
        msg.contains("hdr.csv") && msg.contains("no data rows after the header"),
        "{msg}"
    );
}

#[test]
fn non_numeric_cell_names_line_and_column() {
    let (e, _, _) = run_with_bad(|d| {
        let mut text = String::from("time,emg_left_uv,emg_right_uv\n");
        for i in 0..3000 {
            text.push_str(&format!("{:.3},1.0,2.0\n", i as f64 / 1000.0));
        }
        text.push_str("3.000,1.0,oops\n");
        write(d, "cell.csv", &text);
    });
    let msg = one_error(&e, "cell");
    assert!(
        msg.contains("cell.csv")
            && msg
                .contains("line 3002, column 3 (emg_right_uv): expected a number, found \"oops\""),
        "{msg}"
    );
}

#[test]
fn ragged_rows() {
    let (e, _, _) = run_with_bad(|d| {
        write(
            d,
            "rag.csv",
            &format!(
                "time,emg_left_uv\n0,1\n0.001,2\n0.002\n{}",
                numeric_rows(5, "0.003,1")
            ),
        );
    });
    let msg = one_error(&e, "rag");
    assert!(
        msg.contains("rag.csv") && msg.contains("line 4: 1 fields; expected 2 as in the header"),
        "{msg}"
    );
}

#[test]
fn nan_and_inf_samples_are_reported_in_quality_not_propagated() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    sim(&input, 1, 0.05, Format::Csv, 4, "n");
    // Damage 2 s of the left channel with NaN and one inf.
    let p = input.join("n01_emg.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if (10_000..12_000).contains(&i) {
            let mut parts: Vec<&str> = line.split(',').collect();
            parts[1] = if i == 11_000 { "inf" } else { "NaN" };
            out.push_str(&parts.join(","));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    std::fs::write(&p, out).unwrap();
    let outdir = dir.path().join("out");
    let o = crampscan(&[
        "scan",
        input.to_str().unwrap(),
        "-o",
        outdir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let nights = read_table(&outdir.join("nights.csv"));
    assert_eq!(nights[0]["quality"], "emg_left_uv:nonfinite=2000");
    for t in ["nights.csv", "episodes.csv"] {
        let text = std::fs::read_to_string(outdir.join(t))
            .unwrap()
            .to_ascii_lowercase();
        assert!(
            !text.contains("nan") && !text.contains("inf"),
            "{t}: {text}"
        );
    }
    // The night JSON carries the count per channel; no episode is made of
    // the damaged stretch (10–12 s after the header line).
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(outdir.join("nights/n01.json")).unwrap()).unwrap();
    let left = j["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "emg_left_uv")
        .unwrap();
    assert_eq!(left["quality"]["nonfinite_samples"], 2000);
    for e in j["episodes"].as_array().unwrap() {
        let (s, t) = (e["start_s"].as_f64().unwrap(), e["end_s"].as_f64().unwrap());
        assert!(
            e["channel"] == "emg_right_uv" || t < 10.0 || s > 12.0,
            "{e}"
        );
    }
}

#[test]
fn sample_rate_too_low_is_refused_with_the_minimum() {
    let (e, _, _) = run_with_bad(|d| {
        write(
            d,
            "slow.csv",
            &format!(
                "time,emg_left_uv\n{}",
                (0..100).map(|i| format!("{i},1.0\n")).collect::<String>()
            ),
        );
    });
    let msg = one_error(&e, "slow");
    assert!(
        msg.contains("slow.csv")
            && msg.contains("sampled at 1 Hz")
            && msg.contains("at least 200 Hz"),
        "{msg}"
    );
}

#[test]
fn integer_wav_without_sidecar_says_what_is_needed() {
    let (e, _, _) = run_with_bad(|d| {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 1000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(d.join("bare.wav"), spec).unwrap();
        for i in 0..4000 {
            w.write_sample((i % 100) as i16).unwrap();
        }
        w.finalize().unwrap();
    });
    let msg = one_error(&e, "bare");
    assert!(
        msg.contains("bare.wav")
            && msg.contains("bare_channels.tsv")
            && msg.contains("gain")
            && msg.contains("2 rows"),
        "{msg}"
    );
}

#[test]
fn truncated_wav_is_refused_with_the_frame() {
    let (e, _, _) = run_with_bad(|d| {
        let tmp = tempfile::tempdir().unwrap();
        sim(tmp.path(), 1, 0.01, Format::Wav, 2, "t");
        let bytes = std::fs::read(tmp.path().join("t01_emg.wav")).unwrap();
        std::fs::write(d.join("cut_emg.wav"), &bytes[..bytes.len() / 2 + 1]).unwrap();
        std::fs::copy(
            tmp.path().join("t01_emg_channels.tsv"),
            d.join("cut_emg_channels.tsv"),
        )
        .unwrap();
    });
    let msg = one_error(&e, "cut");
    assert!(
        msg.contains("cut_emg.wav")
            && msg.contains("truncated")
            && msg.contains("declares 36000 frames"),
        "{msg}"
    );
}

#[test]
fn unknown_columns_are_ignored_with_a_warning() {
    let (e, nights, dir) = run_with_bad(|d| {
        let mut text = String::from("time,emg_left_uv,battery,label\n");
        for i in 0..5000 {
            text.push_str(&format!(
                "{:.3},{},3.7,x\n",
                i as f64 / 1000.0,
                (i % 7) as f64
            ));
        }
        write(d, "extra.csv", &text);
    });
    assert!(e.is_empty(), "{e:?}");
    assert!(nights.contains(&"extra".to_string()));
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/nights/extra.json")).unwrap())
            .unwrap();
    let warnings = j["warnings"].to_string();
    assert!(
        warnings.contains(
            "ignored columns of unknown kind: column 3 \\\"battery\\\", column 4 \\\"label\\\""
        ),
        "{warnings}"
    );
}

#[test]
fn csv_without_any_channel_column_lists_what_it_found() {
    let (e, _, _) = run_with_bad(|d| {
        write(d, "cols.csv", "time,foo,bar\n0,1,2\n0.001,1,2\n");
    });
    let msg = one_error(&e, "cols");
    assert!(
        msg.contains("no channel columns among [time, foo, bar]"),
        "{msg}"
    );
}

#[test]
fn a_path_that_does_not_exist_is_listed_and_the_rest_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    sim(&input, 1, 0.02, Format::Csv, 9, "good");
    let out = dir.path().join("out");
    let missing = dir.path().join("nope_emg.csv");
    let o = crampscan(&[
        "scan",
        input.to_str().unwrap(),
        missing.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    let errors = read_table(&out.join("errors.csv"));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["night"], "nope");
    assert!(errors[0]["error"].contains("nope_emg.csv: no such file or folder"));
    // The failed night is a row too, with its status and nothing else.
    let nights = read_table(&out.join("nights.csv"));
    let status: Vec<(&str, &str)> = nights
        .iter()
        .map(|r| (r["night"].as_str(), r["status"].as_str()))
        .collect();
    assert_eq!(status, [("good01", "ok"), ("nope", "failed")]);
    assert_eq!(nights[1]["n_cramps"], "");
    assert_eq!(nights[1]["quality"], "");
    assert_eq!(nights[0]["q_clipped"], "false");
}

#[test]
fn an_output_folder_that_cannot_be_written_is_a_fatal_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    sim(&input, 1, 0.02, Format::Csv, 9, "good");
    // A folder cannot be made inside a regular file (this holds for root too).
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let out = file.join("out");
    let o = crampscan(&["scan", input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("cannot write") && err.contains("file/out"),
        "{err}"
    );
}
