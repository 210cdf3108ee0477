//! Argument parsing (clap derive) and the exit-status contract. Each
//! command is a module of its own: its clap arguments, turned into the
//! library's options, and one library call.

use std::path::Path;
use std::process::ExitCode;

/// `print!` that returns an error instead of panicking when standard
/// output is closed (`crampscan evaluate ... | head`).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($t)*)?;
    }};
}

/// `println!` counterpart of [`out!`].
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($t)*)?;
    }};
}

mod bench;
mod cohort;
mod evaluate;
mod inspect;
mod merge;
mod pair;
mod report;
mod scan;
mod simulate;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crampscan::config::Config;
use crampscan::score::EpisodeKind;

/// Every night processed (or the command succeeded).
const EXIT_OK: u8 = 0;
/// The run could not start or finish (bad config, unwritable output).
const EXIT_FATAL: u8 = 1;
/// Arguments did not parse (clap's own exit status).
const EXIT_USAGE: u8 = 2;
/// The run finished but some nights failed; see errors.csv.
const EXIT_SOME_FAILED: u8 = 3;

#[derive(Parser)]
#[command(
    name = "crampscan",
    version,
    about = "Find nocturnal leg cramps and leg movements in overnight EMG and accelerometer recordings",
    long_about = "crampscan reads recorded nights (surface EMG and accelerometer; CSV, WAV, EDF or BDF), \
measures muscle activity in 0.25 s windows with an FFT band-power detector, finds contraction \
episodes with the WASM leg-movement hysteresis, classifies them as cramp, lm (leg movement) or \
sustained, and writes per-episode and per-night tables for a statistics package.",
    after_help = "EXIT STATUS:\n  0  every night was processed\n  1  fatal error (bad config, output folder not writable)\n  2  usage error\n  3  the run finished but some nights failed (listed in OUT/errors.csv)\n\nEXAMPLES:\n  crampscan scan data/ -o out\n  crampscan simulate -o sim --nights 3 --hours 1 --format wav\n  crampscan scan sim -o sim-out\n  crampscan evaluate --truth sim --pred sim-out\n  crampscan inspect data/csvnight01_emg.csv\n  crampscan scan data/ -o out --plots   (then open out/report/index.html)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Detect and classify episodes in recorded nights and write the tables.
    ///
    /// INPUT may be files or folders (searched recursively for .csv, .txt,
    /// .wav, .edf and .bdf). Files in one folder whose names differ only by a part suffix
    /// (_emg, _acc, _accel, _accelerometer, _imu) form one night. Writes
    /// OUT/episodes.csv, OUT/nights.csv, OUT/cohort.csv, OUT/nights/<night>.json,
    /// OUT/errors.csv and OUT/run.json; a night that fails is listed in
    /// errors.csv and the others are still written.
    Scan(scan::ScanArgs),
    /// Draw figures and write the HTML report of an earlier scan.
    ///
    /// Reads OUT/run.json, OUT/nights/*.json and, for the overview figures,
    /// OUT/nights/<night>.traces.bin (written by scan --plots); re-reads the
    /// recordings for the close-ups (paths as given to scan: absolute, or
    /// relative to the folder scan ran in, which run.json records; see
    /// --recordings). Writes OUT/report/index.html, one page per night and
    /// the figures (SVG and PNG) under OUT/report/figures/. Exits 1, after
    /// writing the report, when a night's recordings cannot be read.
    Report(report::ReportArgs),
    /// Write seeded synthetic nights with ground truth (<night>.truth.csv).
    ///
    /// Each night has two leg EMG channels (emg_left_uv, emg_right_uv) and a
    /// three-axis accelerometer (acc_x_g, acc_y_g, acc_z_g), written as
    /// <night>_emg.<ext> and <night>_acc.<ext> with JSON sidecars giving the
    /// start time (and, for WAV, _channels.tsv sidecars giving names, units
    /// and gains). The same seed gives the same bytes.
    Simulate(simulate::SimulateArgs),
    /// Combine the outputs of sharded scans into the tables one run would write.
    ///
    /// Refuses shards made by another crampscan version or config, a shard
    /// set that is incomplete or repeated, and nights found in two shards.
    Merge(merge::MergeArgs),
    /// Show a file's channels, kinds, units, rates, duration, start time and quality.
    Inspect(inspect::InspectArgs),
    /// Run several detectors over a folder of annotated nights and print a
    /// leaderboard: F1 per kind, timing errors, and speed.
    ///
    /// Each detector scans NIGHTS into OUT/<detector>/ (the usual tables plus
    /// evaluation.csv/json against the nights' truth files); the leaderboard
    /// is printed and written to OUT/leaderboard.csv. Speed is seconds of
    /// recording processed per second of wall time (all channels of a night
    /// count once), on the threads given. Nights with a family (`simulate
    /// --family`) also get each detector's table per family, with the worst.
    BenchDetectors(bench::BenchArgs),
    /// Compare detected episodes with annotated ones (event level, by IoU).
    ///
    /// TRUTH is a <night>.truth.csv file (columns channel,kind,start_s,end_s),
    /// an EDF+/BDF+ file whose annotations are the truth, a CSV of scored
    /// events (start_s or onset_s, end_s or duration_s, kind or text, optional
    /// channel), or a folder of them; annotation texts map to kinds through
    /// the [annotations] config. PRED is a scan output folder. Prints
    /// precision, recall, F1, median and 95th-percentile onset/offset errors
    /// per kind (truth kinds lm, cramp, sustained, movement) and the
    /// per-night correlations, counts the reported cramps over truth
    /// `movement` and `clipping` stretches (target 0), and writes
    /// PRED/evaluation.csv, PRED/evaluation_nights.csv and PRED/evaluation.json.
    /// When nights carry a family (<night>.sim.json beside the truth, from
    /// `simulate --family`), also prints the figures per family with the
    /// worst family per kind and the body movements reported as cramp, and
    /// writes PRED/families.csv.
    Evaluate(evaluate::EvaluateArgs),
    /// Rate ratios of cramps per covariate of a nightly diary, within subjects.
    ///
    /// For each diary covariate and level (yes against no; a number's >0
    /// against 0, or its upper tertiles against the lowest; a category's
    /// levels against its most common one): nights, hours and cramps at
    /// each, the cramp rate ratio within subjects, pooled, with an exact
    /// conditional 95 % interval. Prints the table and writes
    /// OUT/cohort_effects.csv (and, with --diary, OUT/cohort_nights.csv).
    /// A screening analysis: the full model is scripts/cohort_model.R.
    Cohort(cohort::CohortArgs),
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        // The reader of our output went away (`| head`): nothing to report.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            eprintln!("crampscan: error: {}", message(&e));
            ExitCode::from(EXIT_FATAL)
        }
    }
}

/// An error and its causes joined by `: `, leaving out a cause whose text
/// its parent's message already holds (an OS error is named once).
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

/// Largest config file read, bytes: every setting with its comment is
/// about 10 kB (`--print-config`).
const MAX_CONFIG_BYTES: u64 = 1 << 20;

fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    match path {
        Some(p) => {
            // A config is a few kB: a device or FIFO would never end.
            crampscan::io::bounds::check_regular(p)?;
            let len = std::fs::metadata(p)
                .with_context(|| format!("cannot read config {}", p.display()))?
                .len();
            if len > MAX_CONFIG_BYTES {
                bail!(
                    "config {}: {len} bytes; expected at most {MAX_CONFIG_BYTES}",
                    p.display()
                );
            }
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read config {}", p.display()))?;
            Config::from_toml(&text).with_context(|| format!("in config {}", p.display()))
        }
        None => Ok(Config::default()),
    }
}

/// Episode kinds from a comma-separated list (`all` for every kind).
fn parse_kinds(list: &str) -> anyhow::Result<Vec<EpisodeKind>> {
    let mut kinds = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if item.eq_ignore_ascii_case("all") {
            return Ok(vec![
                EpisodeKind::Cramp,
                EpisodeKind::Lm,
                EpisodeKind::Sustained,
                EpisodeKind::Movement,
            ]);
        }
        match EpisodeKind::parse(item) {
            Some(k) => kinds.push(k),
            None => bail!("--closeups: \"{item}\" is not an episode kind; expected cramp, lm, sustained, movement or all"),
        }
    }
    Ok(kinds)
}

/// Nights named on stderr, at most, after a run with warnings.
const WARNED_NIGHTS_LISTED: usize = 10;

/// The run's last lines on stderr: which nights were written with warnings
/// (`n_warnings` in nights.csv, the warnings in their night document).
fn print_warned(report: &crampscan::batch::ScanReport, out: &Path) {
    let w = &report.nights_with_warnings;
    if w.is_empty() {
        return;
    }
    let listed: Vec<String> = w
        .iter()
        .take(WARNED_NIGHTS_LISTED)
        .map(|(n, k)| format!("{n} ({k})"))
        .collect();
    let more = w.len().saturating_sub(WARNED_NIGHTS_LISTED);
    eprintln!(
        "crampscan: {} nights with warnings: {}{}; see n_warnings in {} and the warnings in nights/<night>.json",
        w.len(),
        listed.join(", "),
        if more > 0 { format!(" and {more} more") } else { String::new() },
        out.join("nights.csv").display()
    );
}

/// Refuses `--threads 0`.
fn check_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if threads == Some(0) {
        bail!("--threads must be at least 1");
    }
    Ok(())
}

/// Refuses an `--iou` outside 0–1.
fn check_iou(iou: f64) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&iou) {
        bail!("--iou is {iou}; expected a number from 0 to 1");
    }
    Ok(())
}

fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Scan(a) => scan::run(a),
        Command::Cohort(a) => cohort::run(a),
        Command::Report(a) => report::run(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Merge(a) => merge::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::BenchDetectors(a) => bench::run(a),
        Command::Evaluate(a) => evaluate::run(a),
    }
}
