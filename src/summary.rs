//! Output tables. The results are computed once; these functions only
//! format them. Numbers carry fixed decimals so the bytes do not depend on
//! anything but the values.

use std::io::Write;
use std::path::Path;

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::night::NightResult;

/// Columns of `episodes.csv`.
pub const EPISODE_COLUMNS: &[&str] = &[
    "night",
    "channel",
    "kind",
    "start_s",
    "end_s",
    "duration_s",
    "onset_clock",
    "peak_rms_uv",
    "mean_rms_uv",
    "baseline_rms_uv",
    "median_freq_hz",
    "accel_enmo_g",
    "confidence",
    "side",
    "muscle",
    "buildup_s",
    "ambiguous",
    "stage",
    "wake_within_120s",
];

/// Columns of `nights.csv`.
pub const NIGHT_COLUMNS: &[&str] = &[
    "night",
    "source",
    "duration_h",
    "analyzed_h",
    "n_cramps",
    "cramps_per_h",
    "cramp_total_s",
    "cramp_longest_s",
    "n_lm",
    "lm_index",
    "n_plm",
    "plm_index",
    "n_sustained",
    "mains_hz",
    "quality",
    "subject",
    "n_movement",
    "periodicity_index",
    "rules",
    "sleep_h",
    "lms_index",
    "plms_index",
    "n_warnings",
    "n_lm_resp",
    "wake_h",
    "plmw_index",
    "plms_n1_index",
    "plms_n2_index",
    "plms_n3_index",
    "plms_rem_index",
    "n_plm_arousal",
    "plm_arousal_index",
];

/// A night that could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NightError {
    pub night: String,
    pub source: String,
    pub error: String,
}

/// ISO 8601 clock time of `offset_s` after `start`, to the millisecond.
pub fn clock(start: Option<NaiveDateTime>, offset_s: f64) -> String {
    match start {
        Some(t) => (t + Duration::milliseconds((offset_s * 1000.0).round() as i64))
            .format("%Y-%m-%dT%H:%M:%S%.3f")
            .to_string(),
        None => String::new(),
    }
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{x:.decimals$}"))
        .unwrap_or_default()
}

fn count(v: Option<usize>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("write to memory");
    for r in rows {
        w.write_record(&r).expect("write to memory");
    }
    w.into_inner().expect("flush to memory")
}

/// What `episodes.csv` reads of a night document.
#[derive(Deserialize)]
pub struct NightEpisodes {
    pub night: String,
    pub start_time: Option<NaiveDateTime>,
    pub episodes: Vec<crate::score::Episode>,
}

/// Reads the episodes of `nights/<night>.json`, skipping the rest.
pub fn read_night_episodes(path: &Path) -> Result<NightEpisodes> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_reader(std::io::BufReader::new(f)).map_err(|e| not_a_document(path, e))
}

/// `episodes.csv`, in night then time order, written a night at a time so
/// that a batch never holds every night's episodes.
pub struct EpisodesTable<'a> {
    w: csv::Writer<&'a mut dyn Write>,
}

impl<'a> EpisodesTable<'a> {
    /// Starts the table with its header.
    pub fn new(out: &'a mut dyn Write) -> std::io::Result<EpisodesTable<'a>> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(EPISODE_COLUMNS)?;
        Ok(EpisodesTable { w })
    }

    /// Writes the rows of one night's episodes.
    pub fn write_night(&mut self, n: &NightEpisodes) -> std::io::Result<()> {
        for e in &n.episodes {
            self.w.write_record([
                n.night.clone(),
                e.channel.clone(),
                e.kind.as_str().to_string(),
                format!("{:.3}", e.start_s),
                format!("{:.3}", e.end_s),
                format!("{:.3}", e.duration_s()),
                clock(n.start_time, e.start_s),
                format!("{:.2}", e.peak_rms_uv),
                format!("{:.2}", e.mean_rms_uv),
                format!("{:.2}", e.baseline_rms_uv),
                opt(e.median_freq_hz, 1),
                opt(e.accel_enmo_g, 4),
                format!("{:.3}", e.confidence),
                e.side.clone().unwrap_or_default(),
                e.muscle.clone().unwrap_or_default(),
                opt(e.buildup_s, 1),
                e.ambiguous.to_string(),
                e.stage.clone().unwrap_or_default(),
                e.wake_within_120s
                    .map(|w| w.to_string())
                    .unwrap_or_default(),
            ])?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// `nights.csv`, one row per night.
pub fn nights_csv(nights: &[NightDocument]) -> Vec<u8> {
    let rows = nights.iter().map(|d| {
        let n = &d.night;
        let s = &n.summary;
        vec![
            n.night.clone(),
            n.sources.join(";"),
            format!("{:.4}", s.duration_h),
            format!("{:.4}", s.analyzed_h),
            s.n_cramps.to_string(),
            format!("{:.3}", s.cramps_per_h),
            format!("{:.1}", s.cramp_total_s),
            format!("{:.1}", s.cramp_longest_s),
            s.n_lm.to_string(),
            format!("{:.2}", s.lm_index),
            s.n_plm.to_string(),
            format!("{:.2}", s.plm_index),
            s.n_sustained.to_string(),
            n.mains_hz
                .map(|m| m.to_string())
                .unwrap_or_else(|| "none".into()),
            if n.quality.is_empty() {
                "ok".to_string()
            } else {
                n.quality.join(";")
            },
            d.subject.clone().unwrap_or_default(),
            s.n_movement.to_string(),
            opt(s.periodicity_index, 3),
            s.rules.clone(),
            opt(s.sleep_h, 4),
            opt(s.lms_index, 2),
            opt(s.plms_index, 2),
            n.n_warnings.to_string(),
            count(s.n_lm_resp),
            opt(s.context.wake_h, 4),
            opt(s.context.plmw_index, 2),
            opt(s.context.plms_n1_index, 2),
            opt(s.context.plms_n2_index, 2),
            opt(s.context.plms_n3_index, 2),
            opt(s.context.plms_rem_index, 2),
            count(s.context.n_plm_arousal),
            opt(s.context.plm_arousal_index, 2),
        ]
    });
    csv_bytes(NIGHT_COLUMNS, rows)
}

/// Columns of `cohort.csv`.
pub const COHORT_COLUMNS: &[&str] = &[
    "subject",
    "n_nights",
    "analyzed_h",
    "mean_cramps_per_night",
    "median_cramps_per_night",
    "nights_with_cramp",
    "mean_lm_index",
    "mean_plm_index",
];

/// `cohort.csv`: per-subject aggregates over nights (a night without a
/// subject is its own subject, named by its night id).
pub fn cohort_csv(nights: &[NightDocument]) -> Vec<u8> {
    let mut by_subject: std::collections::BTreeMap<&str, Vec<&NightResult>> = Default::default();
    for d in nights {
        let subject = d.subject.as_deref().unwrap_or(&d.night.night);
        by_subject.entry(subject).or_default().push(&d.night);
    }
    let rows = by_subject.into_iter().map(|(subject, ns)| {
        let k = ns.len() as f64;
        let mut cramps: Vec<usize> = ns.iter().map(|n| n.summary.n_cramps).collect();
        cramps.sort_unstable();
        let m = cramps.len();
        let median = if m % 2 == 1 {
            cramps[m / 2] as f64
        } else {
            0.5 * (cramps[m / 2 - 1] + cramps[m / 2]) as f64
        };
        vec![
            subject.to_string(),
            ns.len().to_string(),
            format!(
                "{:.4}",
                ns.iter().map(|n| n.summary.analyzed_h).sum::<f64>()
            ),
            format!("{:.3}", cramps.iter().sum::<usize>() as f64 / k),
            format!("{median:.1}"),
            ns.iter()
                .filter(|n| n.summary.n_cramps > 0)
                .count()
                .to_string(),
            format!(
                "{:.2}",
                ns.iter().map(|n| n.summary.lm_index).sum::<f64>() / k
            ),
            format!(
                "{:.2}",
                ns.iter().map(|n| n.summary.plm_index).sum::<f64>() / k
            ),
        ]
    });
    csv_bytes(COHORT_COLUMNS, rows)
}

/// `errors.csv`.
pub fn errors_csv(errors: &[NightError]) -> Vec<u8> {
    let rows = errors
        .iter()
        .map(|e| vec![e.night.clone(), e.source.clone(), e.error.clone()]);
    csv_bytes(&["night", "source", "error"], rows)
}

/// One input file of a night, identified for `--resume` and provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    pub path: String,
    pub size_bytes: u64,
    pub blake3: String,
}

/// What `nights/<night>.json` holds: the night in full, where it came
/// from, and how it was made. The tables are built from these documents, so
/// a resumed or merged run gives the same bytes as a single run.
#[derive(Debug, Clone, Serialize)]
pub struct NightDocument {
    pub tool_version: String,
    pub subject: Option<String>,
    pub inputs: Vec<InputRecord>,
    #[serde(flatten)]
    pub night: NightResult,
    pub config: Config,
}

impl NightDocument {
    /// The document without its episodes and per-LM list, for a batch to
    /// hold while it runs: `episodes.csv` reads them back from the night's
    /// file, one night at a time.
    pub fn without_episodes(mut self) -> NightDocument {
        self.night.episodes = Vec::new();
        self.night.leg_movements.movements = Vec::new();
        self
    }
}

/// `nights/<night>.json`, written to `out` as it is serialised, so that a
/// night with many episodes is not held twice.
pub fn write_night_json(doc: &NightDocument, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    out.write_all(b"\n")
}

/// The fields of a night document besides the night's own.
#[derive(Deserialize)]
struct DocumentHead {
    tool_version: String,
    subject: Option<String>,
    inputs: Vec<InputRecord>,
    config: Config,
}

fn not_a_document(path: &Path, e: serde_json::Error) -> Error {
    Error::input(
        path,
        format!(
            "line {}, column {}: not a crampscan night document: {e}",
            e.line(),
            e.column()
        ),
    )
}

/// A night document from its head and its night, each read from the whole
/// object while skipping the other's fields. Deserialising the document at
/// once would buffer every value first (serde's `flatten`), several times
/// the size of the file for a night with many episodes.
fn assemble(head: DocumentHead, night: NightResult) -> NightDocument {
    NightDocument {
        tool_version: head.tool_version,
        subject: head.subject,
        inputs: head.inputs,
        night,
        config: head.config,
    }
}

/// Parses a `nights/<night>.json` document.
pub fn parse_night_json(path: &Path, bytes: &[u8]) -> Result<NightDocument> {
    let err = |e| not_a_document(path, e);
    let head = serde_json::from_slice(bytes).map_err(err)?;
    let night = serde_json::from_slice(bytes).map_err(err)?;
    Ok(assemble(head, night))
}

/// Reads `nights/<night>.json` back, streaming.
pub fn read_night_json(path: &Path) -> Result<NightDocument> {
    let open = || {
        std::fs::File::open(path)
            .map(std::io::BufReader::new)
            .map_err(|e| Error::input(path, format!("cannot open: {e}")))
    };
    let err = |e| not_a_document(path, e);
    let head = serde_json::from_reader(open()?).map_err(err)?;
    let night = serde_json::from_reader(open()?).map_err(err)?;
    Ok(assemble(head, night))
}

/// Reads `errors.csv` back.
pub fn read_errors_csv(path: &Path) -> Result<Vec<NightError>> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| Error::input(path, e.to_string()))?;
    rdr.deserialize()
        .map(|r| r.map_err(|e| Error::input(path, e.to_string())))
        .collect()
}

/// The night ids listed in a `nights.csv`.
pub fn read_night_ids(path: &Path) -> Result<Vec<String>> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| Error::input(path, e.to_string()))?;
    let mut ids = Vec::new();
    for r in rdr.records() {
        let r = r.map_err(|e| Error::input(path, e.to_string()))?;
        ids.push(r.get(0).unwrap_or("").to_string());
    }
    Ok(ids)
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a
/// reader, or a run resumed after a kill, never sees a half-written file.
/// No fsync: that would guard against power loss, not against an
/// interrupted process, and it cost more wall time than a night's analysis
/// on small nights.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| {
        w.write_all(bytes).map_err(|e| Error::output(path, e))
    })
}

/// [`write_atomic`] of what `write` writes, through a buffer.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp).map_err(|e| Error::output(path, e))?;
        let mut f = std::io::BufWriter::new(file);
        write(&mut f)?;
        f.into_inner()
            .map_err(|e| Error::output(path, e.into_error()))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::output(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_are_iso_8601() {
        let t = crate::io::sidecar::parse_datetime("2026-01-15T23:59:30").unwrap();
        assert_eq!(clock(Some(t), 45.25), "2026-01-16T00:00:15.250");
        assert_eq!(clock(None, 1.0), "");
    }
}
