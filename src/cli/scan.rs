//! `crampscan scan`: arguments to [`ScanOptions`], then [`batch::scan`].

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::bail;
use clap::Args;

use crampscan::batch::{self, ScanOptions};
use crampscan::export::events;

use super::{load_config, parse_kinds, print_warned, EXIT_OK, EXIT_SOME_FAILED};

// The command's help is the doc comment of `Command::Scan`.
#[derive(Args)]
pub struct ScanArgs {
    /// Recording files or folders.
    #[arg(value_name = "INPUT", required_unless_present_any = ["print_config", "manifest"], conflicts_with = "manifest")]
    pub inputs: Vec<PathBuf>,
    /// Read the nights from a CSV manifest instead: columns night, files
    /// (;-separated, relative to the manifest) and optionally subject,
    /// fs_hz, mains. Night ids must be unique.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Process only shard I of N: nights sorted by id, dealt round-robin.
    /// N runs with I = 1..N cover every night once; combine them with
    /// `crampscan merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<crampscan::batch::Shard>,
    /// Keep the nights whose OUT/nights/<night>.json was made by this
    /// version from the same input bytes and config; process the rest.
    #[arg(long)]
    pub resume: bool,
    /// Output folder (created if missing).
    #[arg(
        short,
        long,
        value_name = "OUT",
        required_unless_present = "print_config"
    )]
    pub out: Option<PathBuf>,
    /// TOML config; fields not given keep their defaults (see --print-config).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Detector name (overrides the config): fft-band (default), rms-envelope or tkeo.
    #[arg(long, value_name = "NAME")]
    pub detector: Option<String>,
    /// Sample rate for CSV files without a time column or sidecar, Hz.
    #[arg(long, value_name = "HZ")]
    pub fs: Option<f64>,
    /// Mains frequency to leave out: auto, 50, 60 or none (overrides the config).
    #[arg(long, value_name = "HZ")]
    pub mains: Option<String>,
    /// Use only these channels (comma-separated names or EDF labels),
    /// instead of the label patterns of the config. An entry may list
    /// alternatives with '|' ("LAT|PLMl|Limb L,RAT|PLMr|Limb R"): each
    /// entry needs one of them in the night, and every one present is used.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub channels: Vec<String>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print the effective config as TOML and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Also save per-window features (OUT/nights/<night>.traces.bin) and
    /// write figures and an HTML report (OUT/report/index.html).
    #[arg(long)]
    pub plots: bool,
    /// Episode kinds that get a close-up figure with --plots: a
    /// comma-separated list of cramp, lm, sustained, movement, or all.
    #[arg(long, value_name = "KINDS", default_value = "cramp")]
    pub closeups: String,
    /// Leg-movement scoring rules (overrides the config): wasm2016
    /// (Ferri et al. 2016), aasm (5-90 s intervals, 10 s maximum,
    /// LMs on the two legs with onsets < 5 s apart counted as one) or
    /// nsrr (aasm, and no LMs scored in wake, as NSRR's scorers did).
    #[arg(long, value_name = "RULES")]
    pub rules: Option<String>,
    /// Hypnogram for indices per hour of sleep: an EDF+ file with
    /// "Sleep stage W/1/2/3/4/R" annotations, a CSV onset_s,duration_s,stage,
    /// or an NSRR XML / Luna .annot scoring (a run of one night), or a
    /// folder holding <night>.hypnogram.csv / <night>-Hypnogram.edf files.
    /// Without it, such sidecars next to a night's files are used, and a
    /// scoring <night>-nsrr.xml, <night>.xml or <night>.annot beside them.
    #[arg(long, value_name = "PATH")]
    pub hypnogram: Option<PathBuf>,
    /// Event files per night for review in EDFbrowser, Luna, MNE or a BIDS
    /// tree, one event per episode: a comma-separated list of edf
    /// (OUT/nights/<night>.events.edf, annotation-only EDF+), xml
    /// (<night>.events.xml, NSRR style), annot (<night>.events.annot,
    /// Luna), tsv (<night>_events.tsv + _events.json, BIDS), all, or none.
    #[arg(long, value_name = "FORMATS", default_value = "none")]
    pub events: String,
    /// Nightly diary (CSV): rows keyed by night, or by subject and date
    /// (the evening's; subjects from the manifest); other columns are
    /// covariates. Adds diary_<column> to nights.csv and cohort.csv, writes
    /// OUT/cohort_nights.csv and OUT/cohort_effects.csv, and prints the
    /// rate ratios (as `crampscan cohort`).
    #[arg(long, value_name = "FILE")]
    pub diary: Option<PathBuf>,
}

pub fn run(a: ScanArgs) -> anyhow::Result<u8> {
    let closeup_kinds = parse_kinds(&a.closeups)?;
    let mut cfg = load_config(a.config.as_deref())?;
    if !a.channels.is_empty() {
        cfg.channels.select = a.channels;
    }
    if let Some(d) = a.detector {
        cfg.detector.name = d;
    }
    if let Some(fs) = a.fs {
        cfg.input.fs_hz = fs;
    }
    if let Some(m) = a.mains {
        cfg.detector.mains = m;
    }
    if let Some(r) = a.rules {
        cfg.scoring.rules = r;
    }
    cfg.validate()?;
    if a.print_config {
        out!("{}", cfg.to_toml());
        return Ok(EXIT_OK);
    }
    if a.threads == Some(0) {
        bail!("--threads must be at least 1");
    }
    let out = a.out.expect("clap requires --out");
    let opts = ScanOptions {
        inputs: match a.manifest {
            Some(m) => batch::Inputs::Manifest(m),
            None => batch::Inputs::Paths(a.inputs),
        },
        out_dir: out.clone(),
        threads: a.threads,
        progress: std::io::stderr().is_terminal(),
        shard: a.shard,
        resume: a.resume,
        plots: a.plots,
        closeup_kinds,
        hypnogram: a.hypnogram,
        events: events::parse_formats(&a.events).map_err(|e| anyhow::anyhow!("--events: {e}"))?,
        diary: a.diary,
    };
    let report = batch::scan(&opts, &cfg)?;
    eprintln!(
        "crampscan: {} nights, {} failed{}; tables in {}",
        report.n_nights,
        report.n_failed,
        if a.resume {
            format!(", {} kept from the earlier run", report.n_resumed)
        } else {
            String::new()
        },
        out.display()
    );
    outln!("{}", out.join("nights.csv").display());
    outln!("{}", out.join("episodes.csv").display());
    if let Some(index) = &report.report_index {
        outln!("{}", index.display());
    }
    super::report::print_closeup_failures(&report.closeup_failures);
    if report.n_failed > 0 {
        eprintln!(
            "crampscan: see {} for the nights that failed",
            out.join("errors.csv").display()
        );
    }
    print_warned(&report, &out);
    super::cohort::print_scan_diary(report.diary.as_ref(), &out)?;
    Ok(if report.n_failed > 0 {
        EXIT_SOME_FAILED
    } else {
        EXIT_OK
    })
}
