//! The cohort tables (issue 19): `cohort_nights.csv`, one tidy row per
//! subject-night for `glmer`/`glmmTMB` or statsmodels, and
//! `cohort_effects.csv`, the within-subject rate ratio of each covariate
//! level ([`crate::cohort`]); and the reader that `crampscan cohort` uses
//! to read the first back.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::cells::{count, escape_text, fixed, opt, unescape_text};
use super::{Export, Layout};
use crate::cohort::{CohortNight, CohortTable, Effect};
use crate::diary::{self, Covariate};
use crate::error::{Error, Result};

/// The fixed columns of `cohort_nights.csv`; one column per diary
/// covariate follows them.
pub const COHORT_NIGHT_COLUMNS: &[&str] = diary::TIDY_COLUMNS;

/// Columns of `cohort_effects.csv` (issue 19, exactly).
pub const COHORT_EFFECT_COLUMNS: &[&str] = &[
    "covariate",
    "level",
    "nights_exposed",
    "nights_unexposed",
    "hours_exposed",
    "hours_unexposed",
    "cramps_exposed",
    "cramps_unexposed",
    "rate_ratio",
    "rr_ci_low",
    "rr_ci_high",
];

/// A rate ratio cell: 4 decimals, `inf` when unbounded, empty when absent.
pub fn ratio_cell(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_infinite() => "inf".into(),
        v => opt(v, 4),
    }
}

fn write_csv(
    header: &[String],
    rows: impl Iterator<Item = Vec<String>>,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record(header)?;
    for r in rows {
        c.write_record(&r)?;
    }
    c.flush()
}

/// The header of `cohort_nights.csv` for these covariates.
pub fn cohort_nights_header(covariates: &[Covariate]) -> Vec<String> {
    COHORT_NIGHT_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(covariates.iter().map(|c| c.name.clone()))
        .collect()
}

fn night_row(n: &CohortNight) -> Vec<String> {
    let mut row = vec![
        escape_text(&n.subject),
        escape_text(&n.night),
        n.date.map(|d| d.to_string()).unwrap_or_default(),
        fixed(n.exposure_h, 4),
        n.n_cramps.to_string(),
        fixed(n.cramp_total_s, 1),
        opt(n.sleep_h, 4),
        opt(n.cramp_wake_min, 2),
        count(n.n_cramp_awakenings),
    ];
    row.extend(n.cells.iter().map(|c| escape_text(c)));
    row
}

/// `cohort_nights.csv`.
pub struct CohortNightsCsv<'a>(pub &'a CohortTable);

impl Export for CohortNightsCsv<'_> {
    fn path(&self, out: &Layout) -> PathBuf {
        out.cohort_nights_csv()
    }

    fn write(&self, _: &Layout, path: &Path, w: &mut dyn Write) -> Result<()> {
        let header = cohort_nights_header(&self.0.covariates);
        write_csv(&header, self.0.nights.iter().map(night_row), w)
            .map_err(|e| Error::output(path, e))
    }
}

/// `cohort_effects.csv`.
pub struct CohortEffectsCsv<'a>(pub &'a [Effect]);

impl Export for CohortEffectsCsv<'_> {
    fn path(&self, out: &Layout) -> PathBuf {
        out.cohort_effects_csv()
    }

    fn write(&self, _: &Layout, path: &Path, w: &mut dyn Write) -> Result<()> {
        let header: Vec<String> = COHORT_EFFECT_COLUMNS
            .iter()
            .map(|c| c.to_string())
            .collect();
        let rows = self.0.iter().map(|e| {
            vec![
                escape_text(&e.covariate),
                escape_text(&e.level),
                e.nights_exposed.to_string(),
                e.nights_unexposed.to_string(),
                fixed(e.hours_exposed, 4),
                fixed(e.hours_unexposed, 4),
                e.cramps_exposed.to_string(),
                e.cramps_unexposed.to_string(),
                ratio_cell(e.rate_ratio),
                ratio_cell(e.rr_ci_low),
                ratio_cell(e.rr_ci_high),
            ]
        });
        write_csv(&header, rows, w).map_err(|e| Error::output(path, e))
    }
}

/// A number cell of `cohort_nights.csv`, naming the place when it is bad.
fn num<T: std::str::FromStr>(path: &Path, line: u64, col: &str, cell: &str) -> Result<T> {
    cell.parse().map_err(|_| {
        Error::input(
            path,
            format!("line {line}, column {col}: expected a number, found \"{cell}\""),
        )
    })
}

fn opt_num<T: std::str::FromStr>(
    path: &Path,
    line: u64,
    col: &str,
    cell: &str,
) -> Result<Option<T>> {
    if cell.is_empty() {
        Ok(None)
    } else {
        num(path, line, col, cell).map(Some)
    }
}

/// Reads `cohort_nights.csv` back: the fixed columns, then each further
/// column a covariate typed from its cells as a diary's are.
pub fn read_cohort_nights(path: &Path) -> Result<CohortTable> {
    let (mut rdr, headers) = crate::io::open_table(path)?;
    let header: Vec<String> = headers.iter().map(str::to_string).collect();
    if header.len() < COHORT_NIGHT_COLUMNS.len()
        || header[..COHORT_NIGHT_COLUMNS.len()] != *COHORT_NIGHT_COLUMNS
    {
        return Err(Error::input(
            path,
            format!(
                "line 1: expected the columns {} first",
                COHORT_NIGHT_COLUMNS.join(", ")
            ),
        ));
    }
    let mut raw = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::input(path, e.to_string()))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        raw.push((line, rec.iter().map(unescape_text).collect::<Vec<String>>()));
    }
    let k0 = COHORT_NIGHT_COLUMNS.len();
    let covariates: Vec<Covariate> = header[k0..]
        .iter()
        .enumerate()
        .map(|(j, h)| {
            let cells: Vec<&str> = raw.iter().map(|(_, r)| r[k0 + j].as_str()).collect();
            Covariate {
                name: h.clone(),
                header: h.clone(),
                kind: diary::column_kind(&cells),
            }
        })
        .collect();
    let mut nights = Vec::new();
    for (line, r) in &raw {
        let line = *line;
        let mut values = Vec::new();
        for (j, c) in covariates.iter().enumerate() {
            values.push(diary::value(path, line, k0 + j, c, &r[k0 + j])?);
        }
        let date = match r[2].as_str() {
            "" => None,
            d => Some(
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                    Error::input(
                        path,
                        format!("line {line}, column date: expected YYYY-MM-DD, found \"{d}\""),
                    )
                })?,
            ),
        };
        nights.push(CohortNight {
            subject: r[0].clone(),
            night: r[1].clone(),
            date,
            exposure_h: num(path, line, "exposure_h", &r[3])?,
            n_cramps: num(path, line, "n_cramps", &r[4])?,
            cramp_total_s: num(path, line, "cramp_total_s", &r[5])?,
            sleep_h: opt_num(path, line, "sleep_h", &r[6])?,
            cramp_wake_min: opt_num(path, line, "cramp_wake_min", &r[7])?,
            n_cramp_awakenings: opt_num(path, line, "n_cramp_awakenings", &r[8])?,
            values,
            cells: r[k0..].to_vec(),
        });
    }
    Ok(CohortTable { covariates, nights })
}

/// The effects as a text table for the terminal: the CSV's columns with
/// the reference level and the shares of nights with a cramp.
pub fn effects_text(effects: &[Effect]) -> String {
    let mut rows: Vec<[String; 9]> = vec![[
        "covariate".into(),
        "level".into(),
        "vs".into(),
        "subjects".into(),
        "nights".into(),
        "cramps/h".into(),
        "nights with cramp".into(),
        "rate ratio".into(),
        "95% CI".into(),
    ]];
    let rate = |c: usize, h: f64| {
        if h > 0.0 {
            format!("{:.2}", c as f64 / h)
        } else {
            "-".into()
        }
    };
    let share = |k: usize, n: usize| {
        if n > 0 {
            format!("{:.0}%", 100.0 * k as f64 / n as f64)
        } else {
            "-".into()
        }
    };
    let r = |x: Option<f64>| match x {
        Some(v) if v.is_infinite() => "inf".to_string(),
        Some(v) => format!("{v:.2}"),
        None => "-".into(),
    };
    for e in effects {
        rows.push([
            e.covariate.clone(),
            e.level.clone(),
            e.reference.clone(),
            e.n_subjects.to_string(),
            format!("{} / {}", e.nights_exposed, e.nights_unexposed),
            format!(
                "{} / {}",
                rate(e.cramps_exposed, e.hours_exposed),
                rate(e.cramps_unexposed, e.hours_unexposed)
            ),
            format!(
                "{} / {}",
                share(e.nights_with_cramp_exposed, e.nights_exposed),
                share(e.nights_with_cramp_unexposed, e.nights_unexposed)
            ),
            r(e.rate_ratio),
            match (e.rr_ci_low, e.rr_ci_high) {
                (Some(_), Some(_)) => format!("{}-{}", r(e.rr_ci_low), r(e.rr_ci_high)),
                _ => "-".into(),
            },
        ]);
    }
    let widths: Vec<usize> = (0..9)
        .map(|j| rows.iter().map(|r| r[j].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
