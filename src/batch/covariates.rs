//! The batch's diary stage (issue 19): the diary joined to the run's
//! nights, the tidy cohort table and its rate ratios, and `crampscan
//! cohort` on an output folder.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cohort::{self, CohortNight, CohortTable, Effect};
use crate::diary::{self, Diary, Join, NightKey, Value};
use crate::error::{Error, Result};
use crate::export::cohort::{read_cohort_nights, CohortEffectsCsv, CohortNightsCsv};
use crate::export::json::read_night_json;
use crate::export::tables::{read_night_ids, DiaryCells};
use crate::export::{self, Layout};
use crate::summary::NightDocument;

/// What `run.json` records of the diary (absent without one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiaryRecord {
    pub path: String,
    pub n_rows: usize,
    /// Diary rows that match no night of the run.
    pub n_unmatched_rows: usize,
    /// Nights of the run without a diary row.
    pub n_nights_without_row: usize,
    /// Each of those, with why.
    pub warnings: Vec<String>,
}

/// A diary joined to the nights of a run, and what follows from it.
#[derive(Debug, Clone)]
pub struct DiaryStage {
    pub record: DiaryRecord,
    pub cells: DiaryCells,
    pub table: CohortTable,
    pub effects: Vec<Effect>,
}

/// The join's key of each night document.
fn night_keys(docs: &[NightDocument]) -> Vec<NightKey> {
    docs.iter()
        .map(|d| NightKey {
            night: d.night.night.clone(),
            subject: d.subject.clone(),
            start_time: d.night.start_time,
        })
        .collect()
}

/// A night document as a row of the cohort table, with its covariates
/// (all missing without a diary row).
fn cohort_night(
    d: &NightDocument,
    covariates: usize,
    row: Option<&diary::DiaryRow>,
) -> CohortNight {
    let s = &d.night.summary;
    let (values, cells) = match row {
        Some(r) => (r.values.clone(), r.table_cells()),
        None => (
            vec![Value::Missing; covariates],
            vec![String::new(); covariates],
        ),
    };
    CohortNight {
        subject: d.subject.clone().unwrap_or_else(|| d.night.night.clone()),
        night: d.night.night.clone(),
        date: d.night.start_time.map(diary::night_date),
        exposure_h: s.analyzed_h,
        n_cramps: s.n_cramps,
        cramp_total_s: s.cramp_total_s,
        sleep_h: s.sleep_h,
        cramp_wake_min: s.cramp_wake_min,
        n_cramp_awakenings: s.n_cramp_awakenings,
        values,
        cells,
    }
}

/// Joins `diary` to `docs` (in night order) and computes the cohort
/// table and its effects. A subject and date on two recordings is an error.
pub fn diary_stage(diary: &Diary, docs: &[NightDocument]) -> Result<DiaryStage> {
    let join: Join = diary::join(diary, &night_keys(docs))?;
    let k = diary.covariates.len();
    let mut cells = DiaryCells {
        names: diary.covariates.iter().map(|c| c.name.clone()).collect(),
        by_night: Default::default(),
    };
    let mut nights = Vec::new();
    for (d, row) in docs.iter().zip(&join.row_of) {
        let row = row.map(|i| &diary.rows[i]);
        if let Some(r) = row {
            cells
                .by_night
                .insert(d.night.night.clone(), r.table_cells());
        }
        nights.push(cohort_night(d, k, row));
    }
    let table = CohortTable {
        covariates: diary.covariates.clone(),
        nights,
    };
    let effects = cohort::effects(&table);
    Ok(DiaryStage {
        record: DiaryRecord {
            path: diary.path.display().to_string(),
            n_rows: diary.rows.len(),
            n_unmatched_rows: join.unmatched_rows.len(),
            n_nights_without_row: join.nights_without_row.len(),
            warnings: join.warnings(),
        },
        cells,
        table,
        effects,
    })
}

/// What `crampscan cohort` did.
#[derive(Debug, Clone)]
pub struct CohortReport {
    pub effects: Vec<Effect>,
    pub effects_csv: PathBuf,
    /// With `--diary`: the join's record (warnings).
    pub diary: Option<DiaryRecord>,
}

/// `crampscan cohort OUT [--diary FILE]`: with a diary, joins it to the
/// night documents of OUT (the nights `nights.csv` lists as processed) and
/// writes `cohort_nights.csv`; without, reads that table back. Then writes
/// `cohort_effects.csv`.
pub fn cohort(out_dir: &Path, diary: Option<&Path>) -> Result<CohortReport> {
    let out = Layout::new(out_dir);
    let (table, record) = match diary {
        Some(p) => {
            let d = Diary::read(p)?;
            let mut docs = Vec::new();
            for id in read_night_ids(&out.nights_csv())? {
                docs.push(read_night_json(&out.night_json(&id))?.without_episodes());
            }
            docs.sort_by(|a, b| a.night.night.cmp(&b.night.night));
            let s = diary_stage(&d, &docs)?;
            export::export(&out, &CohortNightsCsv(&s.table))?;
            (s.table, Some(s.record))
        }
        None => {
            let p = out.cohort_nights_csv();
            if !p.exists() {
                return Err(Error::input(
                    &p,
                    "no such file: scan with --diary FILE first, or give crampscan cohort --diary FILE",
                ));
            }
            (read_cohort_nights(&p)?, None)
        }
    };
    let effects = cohort::effects(&table);
    let effects_csv = export::export(&out, &CohortEffectsCsv(&effects))?;
    Ok(CohortReport {
        effects,
        effects_csv,
        diary: record,
    })
}
