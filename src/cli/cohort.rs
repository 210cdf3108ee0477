//! `crampscan cohort`: [`batch::cohort`] on a scan's output folder, and
//! what scan and merge print of a diary.

use std::path::{Path, PathBuf};

use clap::Args;

use crampscan::batch::{self, DiaryRecord};
use crampscan::cohort::Effect;
use crampscan::export::cohort::effects_text;

use super::EXIT_OK;

// The command's help is the doc comment of `Command::Cohort`.
#[derive(Args)]
pub struct CohortArgs {
    /// Output folder of a scan or merge.
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// Diary CSV to join to OUT's nights (writes OUT/cohort_nights.csv
    /// anew); without it, OUT/cohort_nights.csv from `scan --diary` is read.
    #[arg(long, value_name = "FILE")]
    pub diary: Option<PathBuf>,
}

pub fn run(a: CohortArgs) -> anyhow::Result<u8> {
    let report = batch::cohort(&a.out, a.diary.as_deref())?;
    if let Some(d) = &report.diary {
        print_diary(d, &a.out);
    }
    out!("{}", effects_text(&report.effects));
    eprintln!("crampscan: {}", SCREENING_NOTE);
    outln!("{}", report.effects_csv.display());
    Ok(EXIT_OK)
}

/// Said with every printed cohort table (README, "Cohort analysis").
pub const SCREENING_NOTE: &str = "a screening analysis (one covariate at a time, within subjects); fit the full model with scripts/cohort_model.R on cohort_nights.csv";

/// The diary join's counts on stderr (the rows and nights are listed in
/// run.json).
pub fn print_diary(d: &DiaryRecord, out: &Path) {
    if d.n_unmatched_rows + d.n_nights_without_row == 0 {
        eprintln!("crampscan: diary {}: every row matched a night", d.path);
        return;
    }
    eprintln!(
        "crampscan: diary {}: {} rows match no night, {} nights have no diary row; listed as warnings under \"diary\" in {}",
        d.path,
        d.n_unmatched_rows,
        d.n_nights_without_row,
        out.join("run.json").display()
    );
}

/// After a scan or merge with a diary: the join's counts and the effects
/// table on stderr (stdout lists the files).
pub fn print_scan_diary(
    diary: Option<&(DiaryRecord, Vec<Effect>)>,
    out: &Path,
) -> anyhow::Result<()> {
    if let Some((d, effects)) = diary {
        print_diary(d, out);
        eprint!("{}", effects_text(effects));
        eprintln!("crampscan: {}", SCREENING_NOTE);
        outln!("{}", out.join("cohort_nights.csv").display());
        outln!("{}", out.join("cohort_effects.csv").display());
    }
    Ok(())
}
