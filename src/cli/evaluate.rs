//! `crampscan evaluate`: [`eval::evaluate_paths`], printed and written.

use std::path::PathBuf;

use clap::Args;

use crampscan::eval;

use super::{check_iou, load_config, EXIT_OK};

// The command's help is the doc comment of `Command::Evaluate`.
#[derive(Args)]
pub struct EvaluateArgs {
    /// Truth: a truth CSV, an annotated EDF+/BDF+ file, a scored-events
    /// CSV, or a folder of them.
    #[arg(long, value_name = "PATH")]
    pub truth: PathBuf,
    /// Predictions: a scan output folder.
    #[arg(long, value_name = "OUT")]
    pub pred: PathBuf,
    /// Minimum intersection-over-union for a match.
    #[arg(long, default_value_t = eval::IOU_MIN)]
    pub iou: f64,
    /// TOML config ([annotations] maps annotation texts to kinds).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub fn run(a: EvaluateArgs) -> anyhow::Result<u8> {
    check_iou(a.iou)?;
    let cfg = load_config(a.config.as_deref())?;
    let e = eval::evaluate_paths(&a.truth, &a.pred, a.iou, &cfg)?;
    if !e.unscanned_nights.is_empty() {
        eprintln!(
            "crampscan: warning: {} truth nights were not scanned in {} and are left out: {}",
            e.unscanned_nights.len(),
            a.pred.display(),
            e.unscanned_nights.join(", ")
        );
    }
    out!("{}", e.kinds_csv());
    outln!(
        "nights: {}; per-night correlation (Pearson r): cramp count {}, LM index {}",
        e.n_nights,
        e.cramp_count_r.map_or("n/a".into(), |r| format!("{r:.3}")),
        e.lm_index_r.map_or("n/a".into(), |r| format!("{r:.3}"))
    );
    for c in &e.cramps_over {
        outln!(
            "cramps reported over truth {} stretches: {} (of {} stretches; target 0)",
            c.kind,
            c.n_cramps,
            c.n_stretches
        );
    }
    if !e.families.is_empty() {
        out!(
            "\nper family:\n{}",
            eval::families::families_markdown(&e.families, &e.worst_families)
        );
    }
    e.write(&a.pred)?;
    Ok(EXIT_OK)
}
