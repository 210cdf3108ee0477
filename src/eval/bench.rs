//! `bench-detectors`: every detector scans the same annotated nights, is
//! evaluated against their truth, and gets a leaderboard row (F1 per kind,
//! timing errors, speed).

use std::path::{Path, PathBuf};

use super::{evaluate_paths, leaderboard_csv, Evaluation, LeaderRow};
use crate::batch::{self, Inputs, ScanOptions};
use crate::config::Config;
use crate::error::{Error, Result};

/// What to compare, and where.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Folder of nights with truth files.
    pub nights: PathBuf,
    /// Detector names, in the order of the leaderboard.
    pub detectors: Vec<String>,
    /// Output folder: one scan per detector in `<out>/<detector>/`, and
    /// `<out>/leaderboard.csv`.
    pub out_dir: PathBuf,
    /// Minimum intersection-over-union for a match.
    pub iou: f64,
    /// Worker threads (`None`: all cores).
    pub threads: Option<usize>,
}

/// The leaderboard and, for nights that carry a family, each detector's
/// evaluation (for its per-family table).
#[derive(Debug)]
pub struct BenchReport {
    pub rows: Vec<LeaderRow>,
    pub by_family: Vec<(String, Evaluation)>,
}

/// Scans, evaluates and ranks every detector of `opts` with `base` (the
/// detector name overridden), and writes `leaderboard.csv`. A detector
/// whose scan loses a night fails the bench: its figures would not be
/// comparable.
pub fn bench_detectors(opts: &BenchOptions, base: &Config) -> Result<BenchReport> {
    let mut rows = Vec::new();
    let mut by_family = Vec::new();
    for name in &opts.detectors {
        let mut cfg = base.clone();
        cfg.detector.name = name.trim().to_string();
        cfg.validate()?;
        let dir = opts.out_dir.join(&cfg.detector.name);
        let scan = ScanOptions {
            threads: opts.threads,
            ..ScanOptions::new(Inputs::Paths(vec![opts.nights.clone()]), dir.clone())
        };
        let t0 = std::time::Instant::now();
        let report = batch::scan(&scan, &cfg)?;
        let wall_s = t0.elapsed().as_secs_f64();
        if report.n_failed > 0 {
            return Err(Error::Config(format!(
                "{name}: {} nights failed; see {}",
                report.n_failed,
                dir.join("errors.csv").display()
            )));
        }
        let signal_s = column_sum(&dir.join("nights.csv"), "duration_h")? * 3600.0;
        let e = evaluate_paths(&opts.nights, &dir, opts.iou, &cfg)?;
        e.write(&dir)?;
        rows.push(LeaderRow::new(&cfg.detector.name, &e, signal_s, wall_s));
        if !e.families.is_empty() {
            by_family.push((cfg.detector.name.clone(), e));
        }
    }
    crate::export::write_atomic(
        &opts.out_dir.join("leaderboard.csv"),
        leaderboard_csv(&rows).as_bytes(),
    )?;
    Ok(BenchReport { rows, by_family })
}

/// The sum of the numbers in column `name` of a CSV table.
fn column_sum(path: &Path, name: &str) -> Result<f64> {
    let mut r = csv::Reader::from_path(path).map_err(|e| Error::input(path, e.to_string()))?;
    let headers = r
        .headers()
        .map_err(|e| Error::input(path, e.to_string()))?
        .clone();
    let i = headers
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| Error::input(path, format!("no column {name}")))?;
    let mut sum = 0.0;
    for (line, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| Error::input(path, e.to_string()))?;
        let cell = rec.get(i).unwrap_or("").trim();
        sum += cell.parse::<f64>().map_err(|_| {
            Error::input(
                path,
                format!(
                    "line {}, column {name}: \"{cell}\" is not a number",
                    line + 2
                ),
            )
        })?;
    }
    Ok(sum)
}
