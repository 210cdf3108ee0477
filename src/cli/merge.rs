//! `crampscan merge`: [`batch::merge`] of sharded scans.

use std::path::PathBuf;

use clap::Args;

use crampscan::batch;

use super::{print_warned, EXIT_OK, EXIT_SOME_FAILED};

// The command's help is the doc comment of `Command::Merge`.
#[derive(Args)]
pub struct MergeArgs {
    /// Shard output folders (from `scan --shard I/N`).
    #[arg(value_name = "SHARD_OUT", required = true)]
    pub shards: Vec<PathBuf>,
    /// Output folder for the merged tables.
    #[arg(short, long, value_name = "OUT")]
    pub out: PathBuf,
    /// Nightly diary joined to the merged nights (as `scan --diary`).
    #[arg(long, value_name = "FILE")]
    pub diary: Option<PathBuf>,
}

pub fn run(a: MergeArgs) -> anyhow::Result<u8> {
    let report = batch::merge(&a.shards, &a.out, a.diary.as_deref())?;
    eprintln!(
        "crampscan: merged {} shards: {} nights, {} failed; tables in {}",
        a.shards.len(),
        report.n_nights,
        report.n_failed,
        a.out.display()
    );
    outln!("{}", a.out.join("nights.csv").display());
    print_warned(&report, &a.out);
    super::cohort::print_scan_diary(report.diary.as_ref(), &a.out)?;
    Ok(if report.n_failed > 0 {
        EXIT_SOME_FAILED
    } else {
        EXIT_OK
    })
}
