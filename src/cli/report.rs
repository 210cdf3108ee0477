//! `crampscan report`: arguments to [`ReportOptions`], then [`report::write_report`].

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crampscan::report::{self, ReportOptions};

use super::{check_threads, parse_kinds, EXIT_OK};

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
    /// Worker threads (default: all cores). Figures do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

pub fn run(a: ReportArgs) -> anyhow::Result<u8> {
    check_threads(a.threads)?;
    let opts = ReportOptions {
        out_dir: a.out,
        closeup_kinds: parse_kinds(&a.closeups)?,
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
    Ok(EXIT_OK)
}
