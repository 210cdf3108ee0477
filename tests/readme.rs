//! The README as a manual (issue 17), checked against the built binary:
//! the column reference lists exactly the columns each table is written
//! with, every example command (the README's runnable blocks and the
//! EXAMPLES of `crampscan --help`) exits 0, and every link inside the
//! README leads to a heading. The conventions are in the README's
//! "Development notes".

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_crampscan");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Title of the README section (any heading level) that documents every column.
const COLUMN_SECTION: &str = "Column reference";
/// Info string of a fenced code block whose `crampscan` lines are run.
const RUNNABLE_INFO: &str = "sh run";
/// Examples run on nights at most this long, h (keeps the test quick).
const MAX_EXAMPLE_HOURS: f64 = 0.05;
/// ...and at most this many nights.
const MAX_EXAMPLE_NIGHTS: usize = 2;
/// Repository folders an example may name, linked into its temporary folder.
const LINKED_FOLDERS: &[&str] = &["data", "scripts", "tests"];

fn readme() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("read README.md")
}

/// The backticked spans of `s`: "`a`, `b` x" gives a and b.
fn backticked(s: &str) -> Vec<String> {
    s.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// A Markdown heading's level and title (`### Title` gives 3 and Title).
fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|c| *c == '#').count();
    let title = line[level..].strip_prefix(' ')?;
    (level > 0).then_some((level, title.trim()))
}

/// Columns documented per file under the [`COLUMN_SECTION`] heading: each
/// heading inside it naming a backticked `.csv` file starts a file, and the
/// first cell of each of its table rows (header and separator rows aside)
/// holds the backticked column name(s).
fn documented_columns(readme: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut section_level: Option<usize> = None;
    let mut file: Option<String> = None;
    for line in readme.lines() {
        if let Some((level, title)) = heading(line) {
            match section_level {
                Some(l) if level <= l => section_level = None,
                None if title == COLUMN_SECTION => section_level = Some(level),
                _ => {}
            }
            file = None;
            if section_level.is_some_and(|l| level > l) {
                file = backticked(title).into_iter().find(|s| s.ends_with(".csv"));
            }
            if let Some(f) = &file {
                assert!(
                    out.insert(f.clone(), Vec::new()).is_none(),
                    "README: {f} is documented twice under {COLUMN_SECTION}"
                );
            }
            continue;
        }
        let (Some(f), Some(row)) = (&file, line.strip_prefix('|')) else {
            continue;
        };
        let first = row.split('|').next().unwrap_or("").trim();
        if first.starts_with('-') || !first.contains('`') {
            continue;
        }
        out.get_mut(f).unwrap().extend(backticked(first));
    }
    out
}

/// The header row of a CSV file, as column names.
fn header(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let first = text.lines().next().unwrap_or("");
    first.split(',').map(str::to_string).collect()
}

/// Runs the binary in `dir`; panics with its output unless it exits 0.
fn run_ok(dir: &Path, args: &[&str]) {
    let o = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run crampscan");
    assert!(
        o.status.success(),
        "crampscan {} exited {:?}:\n{}",
        args.join(" "),
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_column_reference_equals_the_headers_the_binary_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = Path::new(ROOT).join("data");
    let data = data.to_str().unwrap();
    // The four tables of a scan, on the sample nights.
    run_ok(t, &["scan", data, "-o", "out"]);
    // The cohort tables, with the sample diary.
    let diary = format!("{data}/diary.csv");
    run_ok(t, &["scan", data, "-o", "out-diary", "--diary", &diary]);
    // Truth, evaluation and leaderboard tables, on two short family nights.
    let hours = MAX_EXAMPLE_HOURS.to_string();
    let nights = MAX_EXAMPLE_NIGHTS.to_string();
    run_ok(
        t,
        &[
            "simulate", "-o", "sim", "--family", "mixed", "--nights", &nights, "--hours", &hours,
            "--format", "wav",
        ],
    );
    run_ok(t, &["scan", "sim", "-o", "sim-out"]);
    run_ok(t, &["evaluate", "--truth", "sim", "--pred", "sim-out"]);
    run_ok(t, &["bench-detectors", "--nights", "sim", "-o", "bench"]);
    let written: BTreeMap<&str, std::path::PathBuf> = [
        ("episodes.csv", t.join("out/episodes.csv")),
        ("nights.csv", t.join("out/nights.csv")),
        ("cohort.csv", t.join("out/cohort.csv")),
        ("errors.csv", t.join("out/errors.csv")),
        ("cohort_nights.csv", t.join("out-diary/cohort_nights.csv")),
        ("cohort_effects.csv", t.join("out-diary/cohort_effects.csv")),
        ("<night>.truth.csv", t.join("sim/night01.truth.csv")),
        ("evaluation.csv", t.join("sim-out/evaluation.csv")),
        (
            "evaluation_nights.csv",
            t.join("sim-out/evaluation_nights.csv"),
        ),
        ("families.csv", t.join("sim-out/families.csv")),
        ("leaderboard.csv", t.join("bench/leaderboard.csv")),
    ]
    .into_iter()
    .collect();
    let documented = documented_columns(&readme());
    assert_eq!(
        documented
            .keys()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        written.keys().copied().collect::<BTreeSet<_>>(),
        "README {COLUMN_SECTION}: the files documented differ from the files checked"
    );
    // cohort_nights.csv ends with one column per covariate of the diary
    // (every column of data/diary.csv but its key): documented in prose.
    let covariates = header(&Path::new(data).join("diary.csv")).len() - 1;
    for (file, path) in &written {
        let mut want = header(path);
        if *file == "cohort_nights.csv" {
            want.truncate(want.len() - covariates);
        }
        let have = &documented[*file];
        assert_eq!(
            have,
            &want,
            "README {COLUMN_SECTION}, {file}: documented [{}], written [{}]",
            have.join(", "),
            want.join(", ")
        );
    }
}

/// The arguments of an example line: `# comment` and a trailing `(note)`
/// dropped, `--hours` and `--nights` capped; `None` when it names `../shared`.
fn example_args(line: &str) -> Option<Vec<String>> {
    let line = line.split(" #").next().unwrap_or(line);
    let line = line.split(" (").next().unwrap_or(line);
    if line.contains("../shared") {
        return None;
    }
    let mut args: Vec<String> = line
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect();
    for i in 1..args.len() {
        let cap = match args[i - 1].as_str() {
            "--hours" => args[i]
                .parse::<f64>()
                .ok()
                .map(|h| h.min(MAX_EXAMPLE_HOURS).to_string()),
            "--nights" => args[i]
                .parse::<usize>()
                .ok()
                .map(|n| n.min(MAX_EXAMPLE_NIGHTS).to_string()),
            _ => None,
        };
        if let Some(v) = cap {
            args[i] = v;
        }
    }
    Some(args)
}

/// `crampscan ...` lines of the README's fenced blocks marked runnable.
fn readme_examples(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence: Option<bool> = None; // inside a fence: is it runnable?
    for line in readme.lines() {
        if let Some(info) = line.trim_start().strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(info.trim() == RUNNABLE_INFO),
            };
            continue;
        }
        if fence == Some(true) && line.trim_start().starts_with("crampscan ") {
            out.push(line.trim().to_string());
        }
    }
    out
}

/// `crampscan ...` lines of the EXAMPLES block of `crampscan --help`.
fn help_examples() -> Vec<String> {
    let o = Command::new(BIN)
        .arg("--help")
        .output()
        .expect("run crampscan");
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout).into_owned();
    let block = help
        .split_once("EXAMPLES:")
        .expect("crampscan --help has an EXAMPLES block")
        .1;
    block
        .lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with("crampscan "))
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Runs `examples` in order in a fresh folder that links the repository's
/// [`LINKED_FOLDERS`], so relative paths resolve as from the repository root.
fn run_examples(what: &str, examples: &[String]) {
    let tmp = tempfile::tempdir().unwrap();
    for f in LINKED_FOLDERS {
        std::os::unix::fs::symlink(Path::new(ROOT).join(f), tmp.path().join(f)).unwrap();
    }
    for line in examples {
        match example_args(line) {
            None => eprintln!("{what}: skipped (needs ../shared): {line}"),
            Some(args) => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                run_ok(tmp.path(), &args);
            }
        }
    }
}

#[test]
fn every_example_in_the_readme_and_the_help_runs() {
    let readme = readme_examples(&readme());
    assert!(
        readme.len() >= 10,
        "README: only {} runnable examples found",
        readme.len()
    );
    run_examples("README", &readme);
    let help = help_examples();
    assert!(
        help.len() >= 4,
        "--help: only {} examples found",
        help.len()
    );
    run_examples("--help", &help);
}

/// GitHub's anchor of a heading: lower case, spaces to hyphens, other
/// punctuation but hyphens and underscores dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn every_link_inside_the_readme_leads_to_a_heading() {
    let text = readme();
    let mut anchors = BTreeSet::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        } else if let (false, Some((_, title))) = (in_fence, heading(line)) {
            anchors.insert(anchor(title));
        }
    }
    let links: Vec<&str> = text
        .split("](#")
        .skip(1)
        .map(|s| s.split(')').next().unwrap_or(""))
        .collect();
    assert!(
        links.len() > 20,
        "README: only {} internal links",
        links.len()
    );
    for l in links {
        assert!(anchors.contains(l), "README: link #{l} leads to no heading");
    }
}
