//! Batch runs: find the nights among the inputs (or read them from a
//! manifest), pick this shard's share, process them in parallel, and write
//! every table. Each night's document is written as soon as the night is
//! done; the tables are rebuilt from those documents at the end, so an
//! interrupted run can be resumed and shards can be merged into exactly the
//! tables a single run would have written.

mod covariates;
mod lock;

pub use covariates::{cohort, diary_stage, CohortReport, DiaryRecord, DiaryStage};

pub use lock::{OutputLock, LOCK_FILE};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::detect;
use crate::dsp::PlanCache;
use crate::error::{Error, Result};
use crate::export::events::{self, EventFormat};
use crate::export::json::{parse_night_json, read_night_json, NightJson, RunJson};
use crate::export::tables::{
    read_errors_csv, read_night_ids, CohortCsv, EpisodesCsv, ErrorsCsv, NightsCsv,
};
use crate::export::{self, remove_if_present, write_atomic, Export, Layout};
use crate::io;
use crate::night::{process_night_with, NightInput, NightOptions};
use crate::report::{self, traces, ReportOptions};
use crate::score::EpisodeKind;
use crate::summary::{InputRecord, NightDocument, NightError};

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

/// A night to process, with what a manifest may add to it.
#[derive(Debug, Clone, PartialEq)]
pub struct NightJob {
    pub input: NightInput,
    pub subject: Option<String>,
    /// Per-night sample rate for CSV without a time column, Hz.
    pub fs_hz: Option<f64>,
    /// Per-night mains setting (`auto`, `50`, `60`, `none`).
    pub mains: Option<String>,
    /// Per-night scoring file (NSRR XML, Luna `.annot`; manifest column
    /// `scoring`, relative to the manifest's folder).
    pub scoring: Option<PathBuf>,
    /// Per-night channel map (manifest column `channels`: `;`-separated
    /// entries, each with `|`-separated alternatives), replacing
    /// `--channels` for that night.
    pub channels: Option<Vec<String>>,
}

impl NightJob {
    fn plain(input: NightInput) -> NightJob {
        NightJob {
            input,
            subject: None,
            fs_hz: None,
            mains: None,
            scoring: None,
            channels: None,
        }
    }

    /// The run's config with this night's options applied.
    pub fn config(&self, base: &Config) -> Result<Config> {
        let mut cfg = base.clone();
        if let Some(fs) = self.fs_hz {
            cfg.input.fs_hz = fs;
        }
        if let Some(m) = &self.mains {
            cfg.detector.mains = m.clone();
        }
        if let Some(c) = &self.channels {
            cfg.channels.select = c.clone();
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// The files whose bytes decide this night's results: its recordings,
    /// each followed by its sidecars ([`io::sidecar::files`]), then the
    /// hypnogram when there is one. All are hashed into the provenance, so
    /// `--resume` redoes a night when any of them changed.
    fn provenance_files(&self, hypnogram: Option<&Path>) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for f in &self.input.files {
            files.push(f.clone());
            files.extend(io::sidecar::files(f));
        }
        files.extend(hypnogram.map(Path::to_path_buf));
        files
    }

    fn sources(&self) -> String {
        self.input
            .files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// One unit of a run: a night to process, or an input already known bad.
#[derive(Debug, Clone)]
pub enum WorkItem {
    Night(NightJob),
    Failed(NightError),
}

impl WorkItem {
    fn key(&self) -> (&str, String) {
        match self {
            WorkItem::Night(j) => (&j.input.id, j.sources()),
            WorkItem::Failed(e) => (&e.night, e.source.clone()),
        }
    }
}

/// The (device, inode) of a folder, to find folders reached twice through
/// symbolic links.
fn dir_key(meta: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        (0, 0)
    }
}

/// Whether `dir` holds the outputs of a crampscan run (a `run.json` whose
/// `tool` is `crampscan`): its tables are not nights.
pub fn is_run_folder(dir: &Path) -> bool {
    let run = Layout::new(dir).run_json();
    let Ok(meta) = std::fs::metadata(&run) else {
        return false;
    };
    // A run record is a few kB per night; anything else is not one.
    if !meta.is_file() || meta.len() > 64 << 20 {
        return false;
    }
    std::fs::read(&run)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("tool").and_then(|t| t.as_str()) == Some("crampscan"))
}

/// What the folder walk keeps: folders seen (by device and inode), folders
/// to skip (the run's OUT), and where it is (for loop messages).
struct Walk<'a> {
    visited: std::collections::BTreeSet<(u64, u64)>,
    skip: Option<(u64, u64)>,
    errors: &'a mut Vec<NightError>,
}

impl Walk<'_> {
    /// Searches `dir`; `stack` holds the keys of the folders above it.
    fn dir(&mut self, dir: &Path, stack: &mut Vec<(u64, u64)>, out: &mut Vec<PathBuf>) {
        let key = match std::fs::metadata(dir) {
            Ok(m) => dir_key(&m),
            Err(e) => return self.fail(dir, format!("cannot read folder: {e}")),
        };
        if stack.contains(&key) {
            // Reported once: the folder it leads back to is not walked again.
            return self.fail(
                dir,
                "folder loop: this symbolic link leads back to a folder above it; skipped".into(),
            );
        }
        if !self.visited.insert(key) || Some(key) == self.skip || is_run_folder(dir) {
            return;
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => return self.fail(dir, format!("cannot list folder: {e}")),
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        stack.push(key);
        for p in paths {
            // Links are followed; their targets are checked below.
            let Ok(meta) = std::fs::metadata(&p) else {
                if io::is_recording(&p) {
                    self.fail(&p, "cannot read: a broken symbolic link?".into());
                }
                continue;
            };
            if meta.is_dir() {
                self.dir(&p, stack, out);
            } else if io::is_recording(&p) {
                if meta.is_file() {
                    out.push(p);
                } else {
                    let what = io::bounds::file_type_name(&meta.file_type());
                    self.fail(&p, format!("is a {what}, not a regular file; skipped"));
                }
            }
        }
        stack.pop();
    }

    fn fail(&mut self, p: &Path, msg: String) {
        self.errors.push(NightError {
            night: night_id(p),
            source: p.display().to_string(),
            error: format!("{}: {msg}", p.display()),
        });
    }
}

/// Groups the input files and folders (searched recursively) into nights,
/// sorted by night id. Paths that do not exist, and files whose night id is
/// already taken by another folder, are returned as errors.
pub fn discover(inputs: &[PathBuf]) -> (Vec<NightInput>, Vec<NightError>) {
    discover_except(inputs, None)
}

/// [`discover`], never taking anything inside `out_dir` (the run's own
/// output folder) or inside a folder holding a crampscan `run.json` as
/// input. Folders are followed through symbolic links once each (by
/// device and inode); a link back to a folder above is reported once as a
/// folder loop. Files that are not regular files (FIFOs, devices, sockets)
/// are reported, never opened.
pub fn discover_except(
    inputs: &[PathBuf],
    out_dir: Option<&Path>,
) -> (Vec<NightInput>, Vec<NightError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let skip = out_dir
        .and_then(|o| std::fs::metadata(o).ok())
        .map(|m| dir_key(&m));
    let mut walk = Walk {
        visited: Default::default(),
        skip,
        errors: &mut errors,
    };
    for input in inputs {
        if input.is_dir() {
            walk.dir(input, &mut Vec::new(), &mut files);
        } else if let Ok(meta) = std::fs::metadata(input) {
            if meta.is_file() {
                files.push(input.clone());
            } else {
                let what = io::bounds::file_type_name(&meta.file_type());
                walk.fail(
                    input,
                    format!("is a {what}, not a regular file; expected a recording or a folder"),
                );
            }
        } else {
            walk.fail(input, "no such file or folder".into());
        }
    }
    files.sort();
    files.dedup();
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
                    "night id \"{id}\" is already taken by {}; night ids (file stems without _emg/_acc) must be unique across folders, or use --manifest",
                    first.files[0].display()
                ),
            });
            continue;
        }
        nights.insert(id.clone(), NightInput { id, files });
    }
    (nights.into_values().collect(), errors)
}

/// Manifest columns: `night` and `files` (`;`-separated, relative to the
/// manifest's folder) are required; `subject`, `fs_hz`, `mains` and
/// `scoring` (an NSRR XML or Luna `.annot`, relative to the manifest's
/// folder) and `channels` (the night's channel map, `LAT|PLMl;RAT|PLMr`)
/// optional.
pub const MANIFEST_COLUMNS: &[&str] = &[
    "night", "files", "subject", "fs_hz", "mains", "scoring", "channels",
];

/// Reads a manifest. Errors (a missing column, a duplicate night id naming
/// both lines, a bad number) stop the run: a manifest is the run's contract.
pub fn read_manifest(path: &Path) -> Result<Vec<WorkItem>> {
    let (mut rdr, headers) = crate::io::open_table(path)?;
    let col = |n: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(n))
    };
    for h in headers.iter() {
        if !MANIFEST_COLUMNS.contains(&h.trim().to_ascii_lowercase().as_str()) {
            return Err(Error::input(
                path,
                format!(
                    "line 1: unknown column \"{h}\"; expected {}",
                    MANIFEST_COLUMNS.join(", ")
                ),
            ));
        }
    }
    let (Some(ni), Some(fi)) = (col("night"), col("files")) else {
        return Err(Error::input(
            path,
            "line 1: expected columns night and files (and optionally subject, fs_hz, mains)",
        ));
    };
    let (si, hi, mi) = (col("subject"), col("fs_hz"), col("mains"));
    let base = path.parent().unwrap_or(Path::new("."));
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let mut jobs = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::input(path, e.to_string()))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let field = |i: Option<usize>| {
            i.and_then(|i| rec.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let id = field(Some(ni))
            .ok_or_else(|| {
                Error::input(
                    path,
                    format!("line {line}, column {} (night): empty night id", ni + 1),
                )
            })?
            .to_string();
        if id.contains(['/', '\\']) || id.starts_with('.') {
            return Err(Error::input(
                path,
                format!("line {line}: night id \"{id}\" cannot contain a path separator or start with '.'"),
            ));
        }
        if let Some(first) = seen.insert(id.clone(), line) {
            return Err(Error::input(
                path,
                format!("night id \"{id}\" appears on line {first} and again on line {line}; night ids must be unique"),
            ));
        }
        // A bad cell of one night's row is that night's error row; the
        // other nights of the manifest still run.
        let cell = field(Some(fi)).unwrap_or("");
        let files: Vec<PathBuf> = cell
            .split(';')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| base.join(f))
            .collect();
        let night_error = |error: String| {
            WorkItem::Failed(NightError {
                night: id.clone(),
                source: cell.to_string(),
                error: format!("{}: {error}", path.display()),
            })
        };
        if files.is_empty() {
            jobs.push(night_error(format!(
                "line {line}, column {} (files): {}; expected file1;file2",
                fi + 1,
                if cell.is_empty() {
                    "no files"
                } else {
                    "no file names, only separators"
                }
            )));
            continue;
        }
        let fs_hz = match field(hi) {
            Some(v) => match v.parse::<f64>().ok().filter(|x| x.is_finite() && *x > 0.0) {
                Some(x) => Some(x),
                None => {
                    jobs.push(night_error(format!(
                        "line {line}, column {} (fs_hz): expected a rate in Hz > 0, found \"{v}\"",
                        hi.unwrap_or(0) + 1
                    )));
                    continue;
                }
            },
            None => None,
        };
        jobs.push(WorkItem::Night(NightJob {
            input: NightInput { id, files },
            subject: field(si).map(str::to_string),
            fs_hz,
            mains: field(mi).map(str::to_string),
            scoring: field(col("scoring")).map(|f| base.join(f)),
            channels: field(col("channels")).map(|c| {
                c.split(';')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(str::to_string)
                    .collect()
            }),
        }));
    }
    jobs.sort_by(|a, b| a.key().0.cmp(b.key().0));
    Ok(jobs)
}

/// A shard `index` of `count` (1-based), as given by `--shard I/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("\"{s}\" is not I/N (e.g. 2/8)"))?;
        let index: usize = i
            .trim()
            .parse()
            .map_err(|_| format!("\"{i}\" is not a shard number"))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("\"{n}\" is not a shard count"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!("shard {index}/{count}: expected 1 <= I <= N"));
        }
        Ok(Shard { index, count })
    }
}

/// This shard's items: the whole list sorted by night id, dealt round-robin,
/// so N shards cover every item exactly once and stay balanced.
pub fn shard_items(mut items: Vec<WorkItem>, shard: Option<Shard>) -> Vec<WorkItem> {
    items.sort_by(|a, b| a.key().cmp(&b.key()));
    match shard {
        None => items,
        Some(s) => items
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % s.count == s.index - 1)
            .map(|(_, it)| it)
            .collect(),
    }
}

/// Where the nights come from.
#[derive(Debug, Clone)]
pub enum Inputs {
    Paths(Vec<PathBuf>),
    Manifest(PathBuf),
}

/// What `crampscan scan` was asked to do.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub inputs: Inputs,
    pub out_dir: PathBuf,
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
    /// Show a progress bar on stderr.
    pub progress: bool,
    pub shard: Option<Shard>,
    /// Keep nights whose document matches the inputs and config.
    pub resume: bool,
    /// Save the per-window features (`nights/<night>.traces.bin`) and write
    /// the figures and HTML report (`report/`).
    pub plots: bool,
    /// Episode kinds that get a close-up figure when `plots` is on.
    pub closeup_kinds: Vec<EpisodeKind>,
    /// `--hypnogram`: a hypnogram file (a run of one night) or a folder
    /// holding `<night>.hypnogram.csv` / `<night>-Hypnogram.edf` files.
    pub hypnogram: Option<PathBuf>,
    /// `--events`: the event files written per night (none by default).
    pub events: Vec<EventFormat>,
    /// `--diary`: nightly covariates joined to the nights (issue 19).
    pub diary: Option<PathBuf>,
}

impl ScanOptions {
    /// A plain scan of `inputs` into `out_dir`: every core, no progress bar,
    /// no shard, no resume, no plots, no hypnogram.
    pub fn new(inputs: Inputs, out_dir: PathBuf) -> ScanOptions {
        ScanOptions {
            inputs,
            out_dir,
            threads: None,
            progress: false,
            shard: None,
            resume: false,
            plots: false,
            closeup_kinds: Vec::new(),
            hypnogram: None,
            events: Vec::new(),
            diary: None,
        }
    }
}

/// The hypnogram of a night: from `--hypnogram` (a file, or a folder
/// searched for the night's sidecar names), else a sidecar next to the
/// night's first file ([`crate::io::hypnogram::find_sidecar`]).
fn hypnogram_for(job: &NightJob, given: Option<&Path>) -> Result<Option<PathBuf>> {
    use crate::io::hypnogram::find_sidecar;
    match given {
        Some(p) if p.is_file() => Ok(Some(p.to_path_buf())),
        Some(p) if p.is_dir() => Ok(find_sidecar(p, &job.input.id)),
        Some(p) => Err(Error::input(p, "--hypnogram: no such file or folder")),
        None => Ok(job
            .input
            .files
            .first()
            .and_then(|f| f.parent())
            .and_then(|d| find_sidecar(d, &job.input.id))),
    }
}

/// The scoring of a night: the manifest's `scoring`, else a sidecar next
/// to the night's first file ([`crate::io::scoring::find_sidecar`]).
fn scoring_for(job: &NightJob) -> Option<PathBuf> {
    job.scoring.clone().or_else(|| {
        job.input
            .files
            .first()
            .and_then(|f| f.parent())
            .and_then(|d| crate::io::scoring::find_sidecar(d, &job.input.id))
    })
}

/// How a scan went.
#[derive(Debug, Clone)]
pub struct ScanReport {
    pub n_nights: usize,
    pub n_failed: usize,
    pub n_resumed: usize,
    pub out_dir: PathBuf,
    /// `report/index.html`, when figures were asked for.
    pub report_index: Option<PathBuf>,
    /// Nights whose close-ups could not be drawn, with why.
    pub closeup_failures: Vec<(String, String)>,
    /// Nights written with warnings, and how many each (night id order).
    pub nights_with_warnings: Vec<(String, usize)>,
    /// With a diary: what the join found, and the cohort's rate ratios.
    pub diary: Option<(DiaryRecord, Vec<crate::cohort::Effect>)>,
}

/// `run.json`: how and when the outputs were made.
#[derive(Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub tool: String,
    pub version: String,
    pub detector: String,
    pub threads: usize,
    pub started_unix_s: f64,
    pub finished_unix_s: f64,
    pub shard: Option<Shard>,
    pub n_nights: usize,
    pub n_failed: usize,
    pub n_resumed: usize,
    pub inputs: Vec<InputRecord>,
    pub config: Config,
    /// For a merged output: the shard folders it came from.
    #[serde(default)]
    pub merged_from: Vec<String>,
    /// The output that could not be written, when the run ended with exit
    /// 1 because of it (absent otherwise): the tables hold only the nights
    /// written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_error: Option<String>,
    /// The folder the scan ran in (absolute): relative paths in the night
    /// documents' `sources` are relative to it. Absent in a merge whose
    /// shards ran in different folders, and in outputs of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// With `--diary`: the diary, and the rows and nights the join could
    /// not match (absent without a diary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diary: Option<DiaryRecord>,
}

/// The shards' working folder when they all ran in the same one.
fn common_working_dir(runs: &[RunRecord]) -> Option<String> {
    let first = runs.first()?.working_dir.clone()?;
    runs.iter()
        .all(|r| r.working_dir.as_deref() == Some(first.as_str()))
        .then_some(first)
}

fn unix_s(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Bytes read per call while hashing an input.
const HASH_READ_BYTES: usize = 1 << 20;

/// Size and BLAKE3 hash of each file of a night.
pub fn input_records(files: &[PathBuf]) -> Result<Vec<InputRecord>> {
    files
        .iter()
        .map(|p| {
            // Opening a FIFO blocks and a device never ends: refuse first.
            io::bounds::check_regular(p)?;
            let mut hasher = blake3::Hasher::new();
            let f = std::fs::File::open(p).map_err(|e| Error::io(p, e))?;
            // Read a megabyte at a time (`io::copy` reads 8 kB per call).
            let mut f = std::io::BufReader::with_capacity(HASH_READ_BYTES, f);
            let size_bytes = std::io::copy(&mut f, &mut hasher).map_err(|e| Error::io(p, e))?;
            Ok(InputRecord {
                path: p.display().to_string(),
                size_bytes,
                blake3: hasher.finalize().to_hex().to_string(),
            })
        })
        .collect()
}

/// Checks that `out_dir` exists (creating it) and can be written, before
/// any night is processed.
pub fn prepare_output(out_dir: &Path) -> Result<()> {
    let layout = Layout::new(out_dir);
    layout.create()?;
    let probe = layout.write_probe();
    std::fs::write(&probe, b"").map_err(|e| Error::output(out_dir, e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

fn night_path(out_dir: &Path, id: &str) -> PathBuf {
    Layout::new(out_dir).night_json(id)
}

/// The existing document of a night, if it was made by this tool version
/// from the same inputs (recordings, sidecars, hypnogram) with the same
/// config and the same manifest row (its subject; `fs_hz` and `mains` are
/// in the config).
fn reusable(
    out_dir: &Path,
    job: &NightJob,
    inputs: &[InputRecord],
    cfg: &Config,
) -> Option<NightDocument> {
    let doc = read_night_json(&night_path(out_dir, &job.input.id)).ok()?;
    (doc.tool_version == env!("CARGO_PKG_VERSION")
        && doc.inputs == inputs
        && &doc.config == cfg
        && doc.subject == job.subject)
        .then_some(doc)
}

enum Outcome {
    Done(Box<NightDocument>, bool),
    Failed(NightError),
    /// An output could not be written (disk full, read-only folder): not
    /// the night's fault, and fatal for the run.
    OutputFailed(Error),
    /// Not started, because an output failed already.
    Skipped,
}

fn run_job(job: &NightJob, base: &Config, opts: &ScanOptions, plans: &PlanCache) -> Outcome {
    let fail = |e: Error| NightError {
        night: job.input.id.clone(),
        source: job.sources(),
        error: e.to_string(),
    };
    let attempt = || -> Result<(NightDocument, bool)> {
        let cfg = job.config(base)?;
        let hypnogram = hypnogram_for(job, opts.hypnogram.as_deref())?;
        let scoring = scoring_for(job);
        // Sidecars, the hypnogram and the scoring are inputs: a changed one
        // makes --resume redo the night.
        let mut input_files = job.provenance_files(hypnogram.as_deref());
        input_files.extend(
            scoring
                .iter()
                .filter(|s| Some(*s) != hypnogram.as_ref())
                .cloned(),
        );
        // Before hashing and reading run side by side: a FIFO or device
        // would block either, and the same file twice would count twice.
        io::parts::check_parts(&job.input.id, &job.input.files)?;
        for f in &input_files {
            io::bounds::check_regular(f)?;
        }
        let analyse = || {
            let detector = detect::from_config(&cfg, plans)?;
            let night_opts = NightOptions {
                keep_traces: opts.plots,
                hypnogram: hypnogram.clone(),
                scoring: scoring.clone(),
            };
            process_night_with(&job.input, &cfg, detector.as_ref(), plans, night_opts)
        };
        let (inputs, mut night) = if opts.resume {
            let inputs = input_records(&input_files)?;
            // A night kept from an earlier run without --plots has no
            // features to draw, so with --plots it is analysed again.
            let has_traces = !opts.plots || traces::path(&opts.out_dir, &job.input.id).exists();
            if has_traces {
                if let Some(doc) = reusable(&opts.out_dir, job, &inputs, &cfg) {
                    return Ok((doc, true));
                }
            }
            (inputs, analyse()?)
        } else {
            // Hashing the files for provenance (a tenth of an 8-hour WAV
            // night's scan, on one core) runs beside the analysis.
            let (inputs, night) = rayon::join(|| input_records(&input_files), analyse);
            (inputs?, night?)
        };
        // Written now, so a batch never holds every night's features.
        if let Some(t) = night.traces.take() {
            write_atomic(
                &traces::path(&opts.out_dir, &job.input.id),
                &traces::encode(&job.input.id, &t),
            )?;
        }
        let doc = NightDocument {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            subject: job.subject.clone(),
            inputs,
            night,
            config: cfg,
        };
        let path = export::export(&Layout::new(&opts.out_dir), &NightJson(&doc))?;
        drop(doc);
        // The tables are built from what was written, read back, so that a
        // fresh run, a resumed run and a merge format the same values.
        Ok((read_night_json(&path)?, false))
    };
    // A panic left in one night's code must not take the batch down: it
    // becomes that night's error row.
    // The event files are made from the night's document, so a night kept
    // by --resume gets them too.
    let with_events = || {
        let (doc, resumed) = attempt()?;
        events::write_events(&Layout::new(&opts.out_dir), &job.input.id, &opts.events)?;
        Ok((doc, resumed))
    };
    match guarded(&job.input.id, with_events) {
        Ok((doc, resumed)) => Outcome::Done(Box::new(doc.without_episodes()), resumed),
        Err(e @ Error::Output { .. }) => Outcome::OutputFailed(e),
        Err(e) => {
            // A stale document from an earlier run must not outlive a
            // failure, nor its event files.
            let _ = std::fs::remove_file(night_path(&opts.out_dir, &job.input.id));
            let _ = events::remove_events(
                &Layout::new(&opts.out_dir),
                &job.input.id,
                events::ALL_FORMATS,
            );
            Outcome::Failed(fail(e))
        }
    }
}

/// Runs one night's work; a panic inside it (a bug, should one remain)
/// becomes that night's error, so the rest of the batch is still written.
fn guarded<T>(night: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .unwrap_or_else(|payload| Err(panic_error(night, payload.as_ref())))
}

/// A night's panic as an error: the message, and that it is a bug.
fn panic_error(night: &str, payload: &(dyn std::any::Any + Send)) -> Error {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into());
    Error::input(
        Path::new(night),
        format!(
            "internal error while processing this night (a crampscan bug, please report it): {msg}"
        ),
    )
}

/// Writes the tables of a set of night documents and errors. The
/// documents may be [without their episodes](NightDocument::without_episodes):
/// `episodes.csv` reads them from `out_dir/nights/<night>.json`, which
/// must be written already.
pub fn write_tables(
    out_dir: &Path,
    docs: &mut [NightDocument],
    errors: &mut [NightError],
    diary: Option<&DiaryStage>,
) -> Result<()> {
    docs.sort_by(|a, b| a.night.night.cmp(&b.night.night));
    errors.sort();
    let out = Layout::new(out_dir);
    let (cells, table) = (diary.map(|d| &d.cells), diary.map(|d| &d.table));
    // Every table is tried, errors.csv last and whatever failed before it;
    // the first failure is returned.
    let (episodes, nights) = (EpisodesCsv(docs), NightsCsv(docs, errors, cells));
    let (cohort, errors_csv) = (CohortCsv(docs, table), ErrorsCsv(errors));
    let mut tables: Vec<&dyn Export> = vec![&episodes, &nights, &cohort];
    let (cohort_nights, effects);
    if let Some(d) = diary {
        cohort_nights = export::cohort::CohortNightsCsv(&d.table);
        effects = export::cohort::CohortEffectsCsv(&d.effects);
        tables.push(&cohort_nights);
        tables.push(&effects);
    }
    tables.push(&errors_csv);
    // Collected first, so that a failure does not skip the tables after it.
    let written: Vec<Result<PathBuf>> = tables.iter().map(|t| export::export(&out, *t)).collect();
    written.into_iter().try_for_each(|r| r.map(drop))
}

/// The diary of a run, read and checked before any night is processed
/// (a bad diary should not wait for hours of analysis to be reported).
fn read_diary(path: Option<&Path>) -> Result<Option<crate::diary::Diary>> {
    path.map(crate::diary::Diary::read).transpose()
}

/// The diary joined to the run's nights; when the join fails (a date on
/// two recordings), the tables are still written without the diary and
/// the error returned after them.
fn join_diary(
    diary: Option<&crate::diary::Diary>,
    docs: &mut [NightDocument],
) -> (Option<DiaryStage>, Option<Error>) {
    docs.sort_by(|a, b| a.night.night.cmp(&b.night.night));
    match diary.map(|d| diary_stage(d, docs)) {
        None => (None, None),
        Some(Ok(s)) => (Some(s), None),
        Some(Err(e)) => (None, Some(e)),
    }
}

fn write_run(out_dir: &Path, run: &RunRecord) -> Result<()> {
    export::export(&Layout::new(out_dir), &RunJson(run)).map(drop)
}

/// Runs a scan and writes `episodes.csv`, `nights.csv`, `cohort.csv`,
/// `nights/*.json`, `errors.csv` and `run.json` into the output folder.
pub fn scan(opts: &ScanOptions, cfg: &Config) -> Result<ScanReport> {
    let started = SystemTime::now();
    cfg.validate()?;
    let plans = PlanCache::new();
    let detector_name = detect::from_config(cfg, &plans)?.name().to_string();
    let items = work_items(opts)?;
    let diary = read_diary(opts.diary.as_deref())?;
    prepare_output(&opts.out_dir)?;
    // Held to the end of the scan (report included), removed on return.
    let _lock = OutputLock::acquire(&opts.out_dir)?;
    let items = shard_items(items, opts.shard);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Config(format!("cannot start worker threads: {e}")))?;
    let jobs: Vec<&NightJob> = items
        .iter()
        .filter_map(|it| match it {
            WorkItem::Night(j) => Some(j),
            WorkItem::Failed(_) => None,
        })
        .collect();
    let outcomes = run_nights(&jobs, cfg, opts, &plans, &pool);
    let mut g = gather(opts, &items, &jobs, outcomes)?;
    let (stage, diary_error) = join_diary(diary.as_ref(), &mut g.docs);
    // Tables, errors.csv and run.json are written whatever failed before
    // them (as far as they can be), so the run says what happened.
    if let Err(e) = write_tables(&opts.out_dir, &mut g.docs, &mut g.errors, stage.as_ref()) {
        g.output_error.get_or_insert(e);
    }
    let nights_with_warnings = warned(&g.docs);
    let run = RunRecord {
        tool: "crampscan".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        detector: detector_name,
        threads: pool.current_num_threads(),
        started_unix_s: unix_s(started),
        finished_unix_s: unix_s(SystemTime::now()),
        shard: opts.shard,
        n_nights: g.docs.len() + g.errors.len(),
        n_failed: g.errors.len(),
        n_resumed: g.n_resumed,
        inputs: g.inputs,
        config: cfg.clone(),
        merged_from: Vec::new(),
        output_error: g.output_error.as_ref().map(|e| e.to_string()),
        working_dir: std::env::current_dir()
            .ok()
            .map(|d| d.display().to_string()),
        diary: stage.as_ref().map(|s| s.record.clone()),
    };
    let written = write_run(&opts.out_dir, &run);
    if let Some(e) = g.output_error.or(diary_error) {
        return Err(e);
    }
    written?;
    let (report_index, closeup_failures) = scan_report(opts, &pool)?;
    Ok(ScanReport {
        n_nights: run.n_nights,
        n_failed: run.n_failed,
        n_resumed: run.n_resumed,
        out_dir: opts.out_dir.clone(),
        report_index,
        closeup_failures,
        nights_with_warnings,
        diary: stage.map(|s| (s.record, s.effects)),
    })
}

/// The run's nights (and the inputs that are not nights, as failures),
/// from the folders or the manifest; refuses one hypnogram file for many
/// nights.
fn work_items(opts: &ScanOptions) -> Result<Vec<WorkItem>> {
    let items: Vec<WorkItem> = match &opts.inputs {
        Inputs::Paths(paths) => {
            let (nights, errors) = discover_except(paths, Some(&opts.out_dir));
            nights
                .into_iter()
                .map(|n| WorkItem::Night(NightJob::plain(n)))
                .chain(errors.into_iter().map(WorkItem::Failed))
                .collect()
        }
        Inputs::Manifest(path) => read_manifest(path)?,
    };
    // One hypnogram file belongs to one night.
    if let Some(h) = opts.hypnogram.as_deref().filter(|h| h.is_file()) {
        let n = items
            .iter()
            .filter(|i| matches!(i, WorkItem::Night(_)))
            .count();
        if n > 1 {
            return Err(Error::input(
                h,
                format!("--hypnogram names one file but the run has {n} nights; give a folder of <night>.hypnogram.csv / <night>-Hypnogram.edf files instead"),
            ));
        }
    }
    Ok(items)
}

/// Each night's outcome, in `jobs` order, processed in parallel on `pool`
/// with a progress bar when asked for.
fn run_nights(
    jobs: &[&NightJob],
    cfg: &Config,
    opts: &ScanOptions,
    plans: &PlanCache,
    pool: &rayon::ThreadPool,
) -> Vec<Outcome> {
    let bar = (opts.progress && jobs.len() > 1).then(|| {
        let b = indicatif::ProgressBar::new(jobs.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} nights  {elapsed_precise} (eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    // After an output failure the remaining nights are not started: the
    // run ends with exit 1 whatever they give.
    let output_failed = std::sync::atomic::AtomicBool::new(false);
    let outcomes = pool.install(|| {
        jobs.par_iter()
            .map(|job| {
                use std::sync::atomic::Ordering::Relaxed;
                if output_failed.load(Relaxed) {
                    return Outcome::Skipped;
                }
                let o = run_job(job, cfg, opts, plans);
                if matches!(o, Outcome::OutputFailed(_)) {
                    output_failed.store(true, Relaxed);
                }
                if let Some(b) = &bar {
                    b.inc(1);
                }
                o
            })
            .collect()
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    outcomes
}

/// What the nights of a scan gave, for the tables and `run.json`.
struct Gathered {
    docs: Vec<NightDocument>,
    errors: Vec<NightError>,
    /// Every input file with its hash: the manifest first, then each
    /// night's files, then the diary.
    inputs: Vec<InputRecord>,
    n_resumed: usize,
    /// The first output failure in night order.
    output_error: Option<Error>,
}

/// The nights' outcomes sorted into documents, errors and provenance.
fn gather(
    opts: &ScanOptions,
    items: &[WorkItem],
    jobs: &[&NightJob],
    outcomes: Vec<Outcome>,
) -> Result<Gathered> {
    let errors = items
        .iter()
        .filter_map(|it| match it {
            WorkItem::Failed(e) => Some(e.clone()),
            WorkItem::Night(_) => None,
        })
        .collect();
    // The manifest decides which nights there are and their options: it
    // is the run's first input.
    let inputs = match &opts.inputs {
        Inputs::Manifest(path) => input_records(std::slice::from_ref(path))?,
        Inputs::Paths(_) => Vec::new(),
    };
    let mut g = Gathered {
        docs: Vec::new(),
        errors,
        inputs,
        n_resumed: 0,
        output_error: None,
    };
    for (job, o) in jobs.iter().zip(outcomes) {
        match o {
            Outcome::Done(doc, resumed) => {
                g.n_resumed += resumed as usize;
                g.inputs.extend(doc.inputs.iter().cloned());
                g.docs.push(*doc);
            }
            Outcome::Failed(e) => {
                // Provenance lists the failed nights' files too, where readable.
                g.inputs
                    .extend(input_records(&job.provenance_files(None)).unwrap_or_default());
                g.errors.push(e);
            }
            // The first in night order, so the message does not depend on
            // the thread count.
            Outcome::OutputFailed(e) => {
                g.output_error.get_or_insert(e);
            }
            Outcome::Skipped => {}
        }
    }
    if let Some(p) = &opts.diary {
        g.inputs.extend(input_records(std::slice::from_ref(p))?);
    }
    Ok(g)
}

/// Nights whose close-ups could not be drawn, with why.
type CloseupFailures = Vec<(String, String)>;

/// With `--plots`, the report (`report/index.html` and the nights whose
/// close-ups could not be drawn).
fn scan_report(
    opts: &ScanOptions,
    pool: &rayon::ThreadPool,
) -> Result<(Option<PathBuf>, CloseupFailures)> {
    if !opts.plots {
        return Ok((None, Vec::new()));
    }
    let ropts = ReportOptions {
        out_dir: opts.out_dir.clone(),
        closeup_kinds: opts.closeup_kinds.clone(),
        recordings_dir: None,
    };
    let r = pool.install(|| report::write_report(&ropts))?;
    Ok((Some(r.index), r.closeup_failures))
}

/// The nights with warnings and their counts (the `n_warnings` column).
fn warned(docs: &[NightDocument]) -> Vec<(String, usize)> {
    docs.iter()
        .filter(|d| d.night.n_warnings > 0)
        .map(|d| (d.night.night.clone(), d.night.n_warnings))
        .collect()
}

/// Carries a night's saved features (`nights/<night>.traces.bin`, written
/// by `scan --plots`) from a shard to the merged folder, checked and written
/// atomically like its document. A night whose shard has none has none in
/// the merged folder either, so `report` never draws a stale overview.
fn merge_traces(shard_dir: &Path, out_dir: &Path, id: &str) -> Result<()> {
    let from = traces::path(shard_dir, id);
    let to = traces::path(out_dir, id);
    match std::fs::read(&from) {
        Ok(bytes) => {
            traces::parse(&from, &bytes, id)?;
            write_atomic(&to, &bytes)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => remove_if_present(&to),
        Err(e) => Err(Error::io(&from, e)),
    }
}

/// Carries a night's event files (`scan --events`) from a shard to the
/// merged folder, as they are; a format the shard has none of is removed
/// from the merged folder, so no stale file outlives the merge.
fn merge_events(shard_dir: &Path, out_dir: &Path, id: &str) -> Result<()> {
    let (from, to) = (Layout::new(shard_dir), Layout::new(out_dir));
    for f in events::ALL_FORMATS {
        for (a, b) in from.event_files(id, *f).iter().zip(to.event_files(id, *f)) {
            match std::fs::read(a) {
                Ok(bytes) => write_atomic(&b, &bytes)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => remove_if_present(&b)?,
                Err(e) => return Err(Error::io(a, e)),
            }
        }
    }
    Ok(())
}

/// The inputs of a merged run, each file once: those of its night
/// documents in night order (as a single run lists them), then the shard
/// runs' others (a manifest, failed nights' files) in shard order. A file
/// that two shards hashed differently (a sidecar, hypnogram or manifest
/// edited between the shards' runs) is refused: the shards did not see
/// the same data.
fn merged_inputs(
    shard_dirs: &[PathBuf],
    runs: &[RunRecord],
    docs: &[NightDocument],
) -> Result<Vec<InputRecord>> {
    let mut seen: BTreeMap<&str, (&InputRecord, &Path)> = BTreeMap::new();
    let mut inputs: Vec<InputRecord> = docs.iter().flat_map(|d| d.inputs.iter().cloned()).collect();
    let mut listed: std::collections::BTreeSet<String> =
        inputs.iter().map(|r| r.path.clone()).collect();
    for (d, r) in shard_dirs.iter().zip(runs) {
        for rec in &r.inputs {
            match seen.get(rec.path.as_str()) {
                Some((other, _)) if *other == rec => {}
                Some((other, od)) => {
                    return Err(Error::Config(format!(
                        "{} changed between shards: {} saw {} bytes (BLAKE3 {}), {} saw {} bytes (BLAKE3 {}); rescan the shards from the same files",
                        rec.path,
                        od.display(),
                        other.size_bytes,
                        &other.blake3[..other.blake3.len().min(12)],
                        d.display(),
                        rec.size_bytes,
                        &rec.blake3[..rec.blake3.len().min(12)],
                    )))
                }
                None => {
                    seen.insert(&rec.path, (rec, d));
                    if listed.insert(rec.path.clone()) {
                        inputs.push(rec.clone());
                    }
                }
            }
        }
    }
    Ok(inputs)
}

/// Merges shard outputs into `out_dir`: the night documents (and their
/// saved features, when the shard was scanned with `--plots`) are copied as
/// they are and the tables rebuilt, giving the bytes a single run would
/// have written. Refuses shards made by another tool version or config, an
/// incomplete or repeated set of shards, and nights that appear twice.
pub fn merge(shard_dirs: &[PathBuf], out_dir: &Path, diary: Option<&Path>) -> Result<ScanReport> {
    let diary_file = read_diary(diary)?;
    if shard_dirs.is_empty() {
        return Err(Error::Config(
            "merge needs at least one shard folder".into(),
        ));
    }
    let mut runs = Vec::new();
    for d in shard_dirs {
        let p = Layout::new(d).run_json();
        let bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
        let run: RunRecord = serde_json::from_slice(&bytes).map_err(|e| {
            Error::input(
                &p,
                format!("line {}: not a crampscan run.json: {e}", e.line()),
            )
        })?;
        runs.push(run);
    }
    let first = &runs[0];
    for (d, r) in shard_dirs.iter().zip(&runs).skip(1) {
        if r.version != first.version {
            return Err(Error::input(
                &Layout::new(d).run_json(),
                format!(
                    "made by crampscan {}, but {} by {}; merge shards of one version",
                    r.version,
                    shard_dirs[0].display(),
                    first.version
                ),
            ));
        }
        if r.config != first.config {
            return Err(Error::input(
                &Layout::new(d).run_json(),
                format!(
                    "made with a different config from {}; merge shards of one config",
                    shard_dirs[0].display()
                ),
            ));
        }
    }
    // The shard set must be 1..=N exactly once (a run without --shard is 1/1).
    let count = first.shard.map_or(1, |s| s.count);
    let mut seen = vec![Vec::new(); count];
    for (d, r) in shard_dirs.iter().zip(&runs) {
        let s = r.shard.unwrap_or(Shard { index: 1, count: 1 });
        if s.count != count {
            return Err(Error::input(
                &Layout::new(d).run_json(),
                format!(
                    "is shard {}/{}, but {} is one of {count}",
                    s.index,
                    s.count,
                    shard_dirs[0].display()
                ),
            ));
        }
        seen[s.index - 1].push(d.display().to_string());
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| seen[i - 1].is_empty())
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Config(format!(
            "missing shards: {}",
            missing.join(", ")
        )));
    }
    if let Some(dup) = seen.iter().find(|v| v.len() > 1) {
        return Err(Error::Config(format!(
            "the same shard given twice: {}",
            dup.join(" and ")
        )));
    }
    prepare_output(out_dir)?;
    let _lock = OutputLock::acquire(out_dir)?;
    let mut docs: Vec<NightDocument> = Vec::new();
    let mut errors: Vec<NightError> = Vec::new();
    let mut origin: BTreeMap<String, String> = BTreeMap::new();
    let mut claim = |night: &str, d: &Path| -> Result<()> {
        match origin.insert(night.to_string(), d.display().to_string()) {
            Some(other) => Err(Error::Config(format!(
                "night {night} appears in both {other} and {}",
                d.display()
            ))),
            None => Ok(()),
        }
    };
    for d in shard_dirs {
        // A shard's result is what its tables list; its documents hold the detail.
        for id in read_night_ids(&Layout::new(d).nights_csv())? {
            claim(&id, d)?;
            let p = night_path(d, &id);
            let bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
            let doc = parse_night_json(&p, &bytes)?;
            write_atomic(&night_path(out_dir, &id), &bytes)?;
            merge_traces(d, out_dir, &id)?;
            merge_events(d, out_dir, &id)?;
            docs.push(doc.without_episodes());
        }
        for e in read_errors_csv(&Layout::new(d).errors_csv())? {
            claim(&e.night, d)?;
            errors.push(e);
        }
    }
    docs.sort_by(|a, b| a.night.night.cmp(&b.night.night));
    let mut inputs = merged_inputs(shard_dirs, &runs, &docs)?;
    if let Some(p) = diary {
        inputs.extend(input_records(&[p.to_path_buf()])?);
    }
    let (stage, diary_error) = join_diary(diary_file.as_ref(), &mut docs);
    write_tables(out_dir, &mut docs, &mut errors, stage.as_ref())?;
    let run = RunRecord {
        tool: "crampscan".into(),
        version: first.version.clone(),
        detector: first.detector.clone(),
        threads: 0,
        started_unix_s: runs
            .iter()
            .map(|r| r.started_unix_s)
            .fold(f64::INFINITY, f64::min),
        finished_unix_s: runs.iter().map(|r| r.finished_unix_s).fold(0.0, f64::max),
        shard: None,
        n_nights: docs.len() + errors.len(),
        n_failed: errors.len(),
        n_resumed: runs.iter().map(|r| r.n_resumed).sum(),
        inputs,
        config: first.config.clone(),
        merged_from: shard_dirs.iter().map(|d| d.display().to_string()).collect(),
        output_error: None,
        working_dir: common_working_dir(&runs),
        diary: stage.as_ref().map(|s| s.record.clone()),
    };
    write_run(out_dir, &run)?;
    if let Some(e) = diary_error {
        return Err(e);
    }
    Ok(ScanReport {
        n_nights: run.n_nights,
        n_failed: run.n_failed,
        n_resumed: run.n_resumed,
        out_dir: out_dir.to_path_buf(),
        report_index: None,
        closeup_failures: Vec::new(),
        nights_with_warnings: warned(&docs),
        diary: stage.map(|s| (s.record, s.effects)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_a_night_becomes_its_error() {
        let e = guarded("n7", || -> Result<()> {
            let v: Vec<u8> = Vec::new();
            let i = v.len() + 3;
            let _ = v[i];
            Ok(())
        })
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("n7: internal error"), "{e}");
        assert!(e.contains("index out of bounds"), "{e}");
        assert_eq!(guarded("n8", || Ok(5)).unwrap(), 5);
    }

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

    #[test]
    fn shards_cover_every_item_exactly_once() {
        let items: Vec<WorkItem> = (0..7)
            .map(|i| {
                WorkItem::Night(NightJob::plain(NightInput {
                    id: format!("n{i}"),
                    files: vec![],
                }))
            })
            .collect();
        for n in 1..=4 {
            let mut all: Vec<String> = Vec::new();
            for i in 1..=n {
                for it in shard_items(items.clone(), Some(Shard { index: i, count: n })) {
                    all.push(it.key().0.to_string());
                }
            }
            all.sort();
            assert_eq!(all, (0..7).map(|i| format!("n{i}")).collect::<Vec<_>>());
        }
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
    }

    /// The nights of a manifest's work items (none may have failed).
    fn nights_of(items: Vec<WorkItem>) -> Vec<NightJob> {
        items
            .into_iter()
            .map(|i| match i {
                WorkItem::Night(j) => j,
                WorkItem::Failed(e) => panic!("{}: {}", e.night, e.error),
            })
            .collect()
    }

    #[test]
    fn manifest_duplicates_name_both_lines() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m.csv");
        std::fs::write(
            &m,
            "night,files,subject\na,a_emg.csv;a_acc.csv,s1\nb,b.csv,s1\na,c.csv,s2\n",
        )
        .unwrap();
        let e = read_manifest(&m).unwrap_err().to_string();
        assert!(
            e.contains("\"a\" appears on line 2 and again on line 4"),
            "{e}"
        );
        std::fs::write(
            &m,
            "night,files,subject,fs_hz\na,x/a_emg.csv;a_acc.csv,s1,500\n",
        )
        .unwrap();
        let jobs = nights_of(read_manifest(&m).unwrap());
        assert_eq!(
            jobs[0].input.files,
            vec![dir.path().join("x/a_emg.csv"), dir.path().join("a_acc.csv")]
        );
        assert_eq!(jobs[0].subject.as_deref(), Some("s1"));
        assert_eq!(jobs[0].fs_hz, Some(500.0));
        assert_eq!(jobs[0].scoring, None);
        // The optional scoring column, relative to the manifest's folder.
        std::fs::write(
            &m,
            "night,files,scoring\na,a.edf,nsrr/a-nsrr.xml\nb,b.edf,\n",
        )
        .unwrap();
        let jobs = nights_of(read_manifest(&m).unwrap());
        assert_eq!(jobs[0].scoring, Some(dir.path().join("nsrr/a-nsrr.xml")));
        assert_eq!(jobs[1].scoring, None);
        // A channel map per night: entries `;`-separated, alternatives `|`.
        std::fs::write(
            &m,
            "night,files,channels\na,a.edf,LAT|PLMl; RAT|PLMr\nb,b.edf,\n",
        )
        .unwrap();
        let jobs = nights_of(read_manifest(&m).unwrap());
        let cfg = jobs[0].config(&Config::default()).unwrap();
        assert_eq!(cfg.channels.select, ["LAT|PLMl", "RAT|PLMr"]);
        assert!(jobs[1]
            .config(&Config::default())
            .unwrap()
            .channels
            .select
            .is_empty());
        std::fs::write(&m, "night,file\na,b\n").unwrap();
        assert!(read_manifest(&m)
            .unwrap_err()
            .to_string()
            .contains("unknown column \"file\""));
        // A row with only separators, or a bad rate, is that night's error
        // row; the other nights still run.
        std::fs::write(&m, "night,files,fs_hz\na,;,\nb,b.csv,fast\nc,c.csv,500\n").unwrap();
        let items = read_manifest(&m).unwrap();
        let kinds: Vec<(&str, bool)> = items
            .iter()
            .map(|i| (i.key().0, matches!(i, WorkItem::Failed(_))))
            .collect();
        assert_eq!(kinds, [("a", true), ("b", true), ("c", false)]);
        let WorkItem::Failed(e) = &items[0] else {
            unreachable!()
        };
        assert!(
            e.error
                .contains("line 2, column 2 (files): no file names, only separators"),
            "{}",
            e.error
        );
        let WorkItem::Failed(e) = &items[1] else {
            unreachable!()
        };
        assert!(e.error.contains("line 3, column 3 (fs_hz)"), "{}", e.error);
    }
}
