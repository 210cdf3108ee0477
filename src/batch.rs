//! Batch runs: find the nights among the inputs, process them in parallel,
//! and write every table. A night that fails goes to `errors.csv`; the
//! others are still processed and written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rayon::prelude::*;
use serde::Serialize;

use crate::config::Config;
use crate::detect;
use crate::dsp::PlanCache;
use crate::error::{Error, Result};
use crate::io;
use crate::night::{process_night_with, NightInput, NightOptions, NightResult};
use crate::report::{self, traces, ReportOptions};
use crate::score::EpisodeKind;
use crate::summary::{self, NightError};

/// File-name suffixes that mark one part of a night split over several
/// files (`night01_emg.csv` + `night01_acc.csv` form night `night01`).
pub const PART_SUFFIXES: &[&str] = &["_emg", "_acc", "_accel", "_accelerometer", "_imu"];

/// The night a recording belongs to: its stem without a part suffix.
pub fn night_id(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("night")
        .to_string();
    let lower = stem.to_ascii_lowercase();
    for suffix in PART_SUFFIXES {
        if lower.ends_with(suffix) && lower.len() > suffix.len() {
            return stem[..stem.len() - suffix.len()].to_string();
        }
    }
    stem
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<NightError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(NightError {
                night: String::new(),
                source: dir.display().to_string(),
                error: format!("cannot list folder: {e}"),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, out, errors);
        } else if io::is_recording(&p) {
            out.push(p);
        }
    }
}

/// Groups the input files and folders (searched recursively) into nights,
/// sorted by night id. Paths that do not exist, and files whose night id is
/// already taken by another folder, are returned as errors.
pub fn discover(inputs: &[PathBuf]) -> (Vec<NightInput>, Vec<NightError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        if input.is_dir() {
            walk(input, &mut files, &mut errors);
        } else if input.exists() {
            files.push(input.clone());
        } else {
            errors.push(NightError {
                night: night_id(input),
                source: input.display().to_string(),
                error: format!("{}: no such file or folder", input.display()),
            });
        }
    }
    files.sort();
    files.dedup();
    // (folder, id) -> files; then check ids are unique across folders.
    let mut groups: BTreeMap<(PathBuf, String), Vec<PathBuf>> = BTreeMap::new();
    for f in files {
        let dir = f.parent().map(Path::to_path_buf).unwrap_or_default();
        groups.entry((dir, night_id(&f))).or_default().push(f);
    }
    let mut nights: BTreeMap<String, NightInput> = BTreeMap::new();
    for ((_, id), files) in groups {
        if let Some(first) = nights.get(&id) {
            errors.push(NightError {
                night: id.clone(),
                source: files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(";"),
                error: format!(
                    "night id \"{id}\" is already taken by {}; night ids (file stems without _emg/_acc) must be unique across folders",
                    first.files[0].display()
                ),
            });
            continue;
        }
        nights.insert(id.clone(), NightInput { id, files });
    }
    (nights.into_values().collect(), errors)
}

/// What `crampscan scan` was asked to do.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub inputs: Vec<PathBuf>,
    pub out_dir: PathBuf,
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Save the per-window features (`nights/<night>.traces.bin`) and write
    /// the figures and HTML report (`report/`).
    pub plots: bool,
    /// Episode kinds that get a close-up figure when `plots` is on.
    pub closeup_kinds: Vec<EpisodeKind>,
}

/// How a scan went.
#[derive(Debug, Clone)]
pub struct ScanReport {
    pub n_nights: usize,
    pub n_failed: usize,
    pub out_dir: PathBuf,
    /// `report/index.html`, when figures were asked for.
    pub report_index: Option<PathBuf>,
}

#[derive(Serialize)]
struct InputRecord {
    path: String,
    size_bytes: u64,
    blake3: String,
}

#[derive(Serialize)]
struct RunRecord<'a> {
    tool: &'static str,
    version: &'static str,
    detector: &'a str,
    threads: usize,
    started_unix_s: f64,
    finished_unix_s: f64,
    n_nights: usize,
    n_failed: usize,
    inputs: Vec<InputRecord>,
    config: &'a Config,
}

fn unix_s(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut hasher = blake3::Hasher::new();
    let mut f = std::fs::File::open(path)?;
    let size = std::io::copy(&mut f, &mut hasher)?;
    Ok((size, hasher.finalize().to_hex().to_string()))
}

/// Checks that `out_dir` exists (creating it) and can be written, before
/// any night is processed.
pub fn prepare_output(out_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(out_dir.join("nights")).map_err(|e| Error::output(out_dir, e))?;
    let probe = out_dir.join(format!(".crampscan-write-test.{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| Error::output(out_dir, e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Runs a scan and writes `episodes.csv`, `nights.csv`, `nights/*.json`,
/// `errors.csv` and `run.json` into the output folder.
pub fn scan(opts: &ScanOptions, cfg: &Config) -> Result<ScanReport> {
    let started = SystemTime::now();
    cfg.validate()?;
    prepare_output(&opts.out_dir)?;
    let plans = PlanCache::new();
    let detector = detect::from_config(cfg, &plans)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Config(format!("cannot start worker threads: {e}")))?;
    let threads = pool.current_num_threads();
    let (nights, mut errors) = discover(&opts.inputs);
    let bar = if opts.progress && nights.len() > 1 {
        let b = indicatif::ProgressBar::new(nights.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} nights  {elapsed_precise} (eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let (outcomes, inputs): (
        Vec<std::result::Result<NightResult, NightError>>,
        Vec<InputRecord>,
    ) = pool.install(|| {
        let outcomes = nights
            .par_iter()
            .map(|n| {
                let night_opts = NightOptions {
                    keep_traces: opts.plots,
                };
                let r = process_night_with(n, cfg, detector.as_ref(), &plans, night_opts)
                    .and_then(|mut r| {
                        // Written now, so a batch never holds every night's features.
                        if let Some(t) = r.traces.take() {
                            summary::write_atomic(
                                &traces::path(&opts.out_dir, &r.night),
                                &traces::encode(&r.night, &t),
                            )?;
                        }
                        Ok(r)
                    })
                    .map_err(|e| NightError {
                        night: n.id.clone(),
                        source: n
                            .files
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(";"),
                        error: e.to_string(),
                    });
                if let Some(b) = &bar {
                    b.inc(1);
                }
                r
            })
            .collect();
        let inputs = nights
            .par_iter()
            .flat_map_iter(|n| n.files.iter())
            .map(|p| {
                let (size_bytes, blake3) = hash_file(p).unwrap_or((0, String::new()));
                InputRecord {
                    path: p.display().to_string(),
                    size_bytes,
                    blake3,
                }
            })
            .collect();
        (outcomes, inputs)
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut results = Vec::new();
    for o in outcomes {
        match o {
            Ok(r) => results.push(r),
            Err(e) => errors.push(e),
        }
    }
    errors.sort();
    let out = &opts.out_dir;
    for r in &results {
        summary::write_atomic(
            &out.join("nights").join(format!("{}.json", r.night)),
            &summary::night_json(r, cfg),
        )?;
    }
    summary::write_atomic(&out.join("episodes.csv"), &summary::episodes_csv(&results))?;
    summary::write_atomic(&out.join("nights.csv"), &summary::nights_csv(&results))?;
    summary::write_atomic(&out.join("errors.csv"), &summary::errors_csv(&errors))?;
    let run = RunRecord {
        tool: "crampscan",
        version: env!("CARGO_PKG_VERSION"),
        detector: detector.name(),
        threads,
        started_unix_s: unix_s(started),
        finished_unix_s: unix_s(SystemTime::now()),
        n_nights: results.len() + errors.len(),
        n_failed: errors.len(),
        inputs,
        config: cfg,
    };
    let mut run_bytes = serde_json::to_vec_pretty(&run).expect("run record serialises");
    run_bytes.push(b'\n');
    summary::write_atomic(&out.join("run.json"), &run_bytes)?;
    let report_index = if opts.plots {
        let ropts = ReportOptions {
            out_dir: out.clone(),
            closeup_kinds: opts.closeup_kinds.clone(),
        };
        Some(pool.install(|| report::write_report(&ropts))?.index)
    } else {
        None
    };
    Ok(ScanReport {
        n_nights: results.len() + errors.len(),
        n_failed: errors.len(),
        out_dir: out.clone(),
        report_index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_suffixes_group_files_into_nights() {
        assert_eq!(night_id(Path::new("a/n01_emg.csv")), "n01");
        assert_eq!(night_id(Path::new("a/n01_ACC.wav")), "n01");
        assert_eq!(night_id(Path::new("a/n01.csv")), "n01");
        assert_eq!(night_id(Path::new("a/_emg.csv")), "_emg");
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "n1_emg.csv",
            "n1_acc.csv",
            "n1.truth.csv",
            "n2.wav",
            "n2_channels.tsv",
        ] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let (nights, errors) =
            discover(&[dir.path().to_path_buf(), dir.path().join("missing.csv")]);
        assert_eq!(nights.len(), 2);
        assert_eq!(nights[0].id, "n1");
        assert_eq!(nights[0].files.len(), 2);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].error.contains("no such file"));
    }
}
