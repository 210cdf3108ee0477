//! `crampscan bench-detectors`: [`bench_detectors`], printed.

use std::path::PathBuf;

use clap::Args;

use crampscan::eval::bench::{bench_detectors, BenchOptions};
use crampscan::eval::{self, families::families_markdown};

use super::{check_iou, check_threads, load_config, EXIT_OK};

// The command's help is the doc comment of `Command::BenchDetectors`.
#[derive(Args)]
pub struct BenchArgs {
    /// Folder of nights with <night>.truth.csv files (or EDF+ annotations).
    #[arg(long, value_name = "DIR")]
    pub nights: PathBuf,
    /// Detectors to compare (comma-separated).
    #[arg(
        long,
        value_name = "A,B",
        value_delimiter = ',',
        default_value = "fft-band,rms-envelope,tkeo"
    )]
    pub detectors: Vec<String>,
    /// Output folder.
    #[arg(short, long, value_name = "OUT")]
    pub out: PathBuf,
    /// Minimum intersection-over-union for a match.
    #[arg(long, default_value_t = eval::IOU_MIN)]
    pub iou: f64,
    /// TOML config shared by all detectors (the name is overridden).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

pub fn run(a: BenchArgs) -> anyhow::Result<u8> {
    check_iou(a.iou)?;
    check_threads(a.threads)?;
    let base = load_config(a.config.as_deref())?;
    let opts = BenchOptions {
        nights: a.nights,
        detectors: a.detectors,
        out_dir: a.out,
        iou: a.iou,
        threads: a.threads,
    };
    let r = bench_detectors(&opts, &base)?;
    out!("{}", eval::leaderboard_markdown(&r.rows));
    for (name, e) in &r.by_family {
        out!(
            "\n{name} by family:\n{}",
            families_markdown(&e.families, &e.worst_families)
        );
    }
    Ok(EXIT_OK)
}
