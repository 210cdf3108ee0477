//! `crampscan inspect`: [`crampscan::inspect::inspect`] of one file.

use std::path::PathBuf;

use clap::Args;

use super::{load_config, EXIT_OK};

// The command's help is the doc comment of `Command::Inspect`.
#[derive(Args)]
pub struct InspectArgs {
    /// A recording file.
    pub file: PathBuf,
    /// Sample rate for CSV files without a time column or sidecar, Hz.
    #[arg(long, value_name = "HZ")]
    pub fs: Option<f64>,
    /// Use only these channels (comma-separated names or EDF labels;
    /// alternatives within an entry separated by '|').
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub channels: Vec<String>,
    /// TOML config (channel patterns); fields not given keep their defaults.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub fn run(a: InspectArgs) -> anyhow::Result<u8> {
    let mut cfg = load_config(a.config.as_deref())?;
    if !a.channels.is_empty() {
        cfg.channels.select = a.channels;
    }
    if let Some(fs) = a.fs {
        cfg.input.fs_hz = fs;
    }
    // An EDF's every signal and its annotations first, from the header:
    // shown even when no channel can be analysed.
    if let Some(sig) = crampscan::inspect::edf_signals(&a.file, &cfg) {
        out!("{}", sig?);
    }
    let ins = crampscan::inspect::inspect(&a.file, &cfg)?;
    out!("{}", ins.render());
    Ok(EXIT_OK)
}
