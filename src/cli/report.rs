//! `crampscan report`: arguments to [`ReportOptions`], then [`report::write_report`].

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crampscan::report::{self, ReportOptions};

use super::{check_threads, parse_kinds, EXIT_FATAL, EXIT_OK};

// The command's help is the doc comment of `Command::Report`.
#[derive(Args)]
pub struct ReportArgs {
    /// A scan output folder.
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// Episode kinds that get a close-up figure: a comma-separated list
    /// of cramp, lm, sustained, movement, or all.
    #[arg(long, value_name = "KINDS", default_value = "cramp")]
    pub closeups: String,
    /// The folder that relative recording paths in the night documents are
    /// resolved against, for the close-ups (default: the folder the scan
    /// ran in, from run.json). Use it when the recordings or OUT moved.
    #[arg(long, value_name = "DIR")]
    pub recordings: Option<PathBuf>,
    /// Worker threads (default: all cores). Figures do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

pub fn run(a: ReportArgs) -> anyhow::Result<u8> {
    check_threads(a.threads)?;
    let opts = ReportOptions {
        out_dir: a.out,
        closeup_kinds: parse_kinds(&a.closeups)?,
        recordings_dir: a.recordings,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let r = pool.install(|| report::write_report(&opts))?;
    eprintln!(
        "crampscan: report of {} nights with {} figures",
        r.n_nights, r.n_figures
    );
    outln!("{}", r.index.display());
    print_closeup_failures(&r.closeup_failures);
    Ok(if r.closeup_failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_FATAL
    })
}

/// One stderr line per night whose close-ups could not be drawn.
pub fn print_closeup_failures(failures: &[(String, String)]) {
    for (night, why) in failures {
        eprintln!("crampscan: night {night}: no close-ups: {why}");
    }
    if !failures.is_empty() {
        eprintln!(
            "crampscan: nights without their close-ups: {}; their report pages say why",
            failures.len()
        );
    }
}
