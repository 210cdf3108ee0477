//! The CSV tables of OUT: `episodes.csv` (a night at a time, from the
//! night documents), `nights.csv`, `cohort.csv` and `errors.csv`, and the
//! readers that `merge` and `report` use to read the last two back.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::cells::{clock, count, escape_text, fixed, opt, unescape_text};
use super::json::read_night_episodes;
use super::{Export, Layout};
use crate::cohort::CohortTable;
use crate::diary::{CovariateKind, Value};
use crate::error::{Error, Result};
use crate::night::NightResult;
use crate::summary::{NightDocument, NightEpisodes, NightError};

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
    "wake_after_min",
    "back_to_sleep_min",
];

/// Columns of `nights.csv`.
pub const NIGHT_COLUMNS: &[&str] = &[
    "night",
    "source",
    "status",
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
    "cramp_wake_min",
    "n_cramp_awakenings",
    "q_rest_not_quiet",
    "q_unit_suspect",
    "q_clipped",
    "q_upsampled",
    "q_timing",
];

/// The `quality` flags that get a `true`/`false` column of their own in
/// `nights.csv`: those that change what the night's numbers mean, so that
/// a researcher filters on them. Each column is `true` when any of its
/// flags is in the night's `quality` (`<channel or file>:<flag>[=value]`).
/// The flags without a column (`nonfinite`, `flat_s`, `excluded_s`) take
/// time out of `analyzed_h`, which already says so.
pub const QUALITY_COLUMNS: &[(&str, &[&str])] = &[
    // The resting level is not rest: thresholds above it do not hold.
    ("q_rest_not_quiet", &["rest_not_quiet"]),
    // µV thresholds on a signal whose unit is doubtful.
    ("q_unit_suspect", &["unit_suspect"]),
    // Amplitudes (peak, mean RMS) are capped.
    ("q_clipped", &["clipped"]),
    // The true rate is lower: spectral figures and the band are off.
    ("q_upsampled", &["upsampled"]),
    // Onset times or the alignment of the night's parts are in doubt.
    (
        "q_timing",
        &[
            "irregular_time",
            "gaps",
            "ended_early",
            "assumed_contiguous",
            "start_differs",
            "length_mismatch",
        ],
    ),
];

/// The `status` of a night that was processed, and of one that failed
/// (its error is in `errors.csv`).
pub const STATUS_OK: &str = "ok";
pub const STATUS_FAILED: &str = "failed";

/// The flag name of a `quality` entry: `emg_left_uv:clipped=12` → `clipped`.
fn flag_name(entry: &str) -> &str {
    let flag = entry.rsplit_once(':').map_or(entry, |(_, f)| f);
    flag.split_once('=').map_or(flag, |(f, _)| f)
}

/// The [`QUALITY_COLUMNS`] cells of a night's `quality` list.
fn quality_cells(quality: &[String]) -> impl Iterator<Item = String> + '_ {
    QUALITY_COLUMNS.iter().map(move |(_, flags)| {
        quality
            .iter()
            .any(|q| flags.contains(&flag_name(q)))
            .to_string()
    })
}

fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("write to memory");
    for r in rows {
        w.write_record(&r).expect("write to memory");
    }
    w.into_inner().expect("flush to memory")
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
                escape_text(&n.night),
                escape_text(&e.channel),
                e.kind.as_str().to_string(),
                fixed(e.start_s, 3),
                fixed(e.end_s, 3),
                fixed(e.duration_s(), 3),
                clock(n.start_time, e.start_s),
                fixed(e.peak_rms_uv, 2),
                fixed(e.mean_rms_uv, 2),
                fixed(e.baseline_rms_uv, 2),
                opt(e.median_freq_hz, 1),
                opt(e.accel_enmo_g, 4),
                fixed(e.confidence, 3),
                escape_text(e.side.as_deref().unwrap_or_default()),
                escape_text(e.muscle.as_deref().unwrap_or_default()),
                opt(e.buildup_s, 1),
                e.ambiguous.to_string(),
                e.stage.clone().unwrap_or_default(),
                e.wake_within_120s
                    .map(|w| w.to_string())
                    .unwrap_or_default(),
                opt(e.wake_after_min, 2),
                opt(e.back_to_sleep_min, 2),
            ])?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// `nights.csv`, one row per night in night order: the processed ones
/// (`status` `ok`) and the failed ones (`failed`, every other cell empty;
/// the error is in `errors.csv`).
pub fn nights_csv(nights: &[NightDocument], errors: &[NightError]) -> Vec<u8> {
    nights_csv_with(nights, errors, None)
}

/// The diary's cells of each night, for `nights.csv` (`diary_<name>`
/// columns after the others, empty for a night without a diary row and
/// for a failed night).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiaryCells {
    /// Covariate names, without the `diary_` prefix.
    pub names: Vec<String>,
    /// The cells of each night with a diary row.
    pub by_night: std::collections::BTreeMap<String, Vec<String>>,
}

/// Prefix of the diary's columns in `nights.csv` and `cohort.csv`.
pub const DIARY_PREFIX: &str = "diary_";

/// [`nights_csv`] with the diary's columns when there is a diary; without
/// one the bytes are those of [`nights_csv`].
pub fn nights_csv_with(
    nights: &[NightDocument],
    errors: &[NightError],
    diary: Option<&DiaryCells>,
) -> Vec<u8> {
    let width = diary.map_or(0, |d| d.names.len());
    let diary_cells = |night: &str| -> Vec<String> {
        diary
            .and_then(|d| d.by_night.get(night))
            .map(|c| c.iter().map(|x| escape_text(x)).collect())
            .unwrap_or_else(|| vec![String::new(); width])
    };
    let mut rows: Vec<(&str, Vec<String>)> = nights
        .iter()
        .map(|d| {
            let mut r = night_row(d);
            r.extend(diary_cells(&d.night.night));
            (d.night.night.as_str(), r)
        })
        .collect();
    let mut failed = std::collections::BTreeSet::new();
    for e in errors {
        if !nights.iter().any(|d| d.night.night == e.night) && failed.insert(&e.night) {
            let mut r = failed_row(e);
            r.resize(r.len() + width, String::new());
            rows.push((&e.night, r));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(b.0));
    let mut header: Vec<String> = NIGHT_COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend(
        diary
            .iter()
            .flat_map(|d| d.names.iter().map(|n| format!("{DIARY_PREFIX}{n}"))),
    );
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    csv_bytes(&header, rows.into_iter().map(|(_, r)| r))
}

/// The `nights.csv` row of a night that failed.
fn failed_row(e: &NightError) -> Vec<String> {
    let mut row = vec![
        escape_text(&e.night),
        escape_text(&e.source),
        STATUS_FAILED.to_string(),
    ];
    row.resize(NIGHT_COLUMNS.len(), String::new());
    row
}

/// The `nights.csv` row of a processed night.
fn night_row(d: &NightDocument) -> Vec<String> {
    let n = &d.night;
    let s = &n.summary;
    let mut row = vec![
        escape_text(&n.night),
        escape_text(&n.sources.join(";")),
        STATUS_OK.to_string(),
        fixed(s.duration_h, 4),
        fixed(s.analyzed_h, 4),
        s.n_cramps.to_string(),
        fixed(s.cramps_per_h, 3),
        fixed(s.cramp_total_s, 1),
        fixed(s.cramp_longest_s, 1),
        s.n_lm.to_string(),
        fixed(s.lm_index, 2),
        s.n_plm.to_string(),
        fixed(s.plm_index, 2),
        s.n_sustained.to_string(),
        n.mains_hz.map(|m| m.to_string()).unwrap_or_default(),
        if n.quality.is_empty() {
            "ok".to_string()
        } else {
            escape_text(&n.quality.join(";"))
        },
        escape_text(d.subject.as_deref().unwrap_or_default()),
        s.n_movement.to_string(),
        opt(s.periodicity_index, 3),
        escape_text(&s.rules),
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
        opt(s.cramp_wake_min, 2),
        count(s.n_cramp_awakenings),
    ];
    row.extend(quality_cells(&n.quality));
    row
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
    "sleep_efficiency_cramp_nights",
    "sleep_efficiency_no_cramp_nights",
];

/// Sleep efficiency of a subject's nights: summed time asleep over summed
/// recording time (time in bed is the recording), over the nights with a
/// hypnogram; `None` when none has one.
fn sleep_efficiency<'a>(nights: impl Iterator<Item = &'a NightResult>) -> Option<f64> {
    let (mut sleep_h, mut bed_h) = (0.0, 0.0);
    for n in nights {
        if let Some(s) = n.summary.sleep_h {
            sleep_h += s;
            bed_h += n.summary.duration_h;
        }
    }
    (bed_h > 0.0).then(|| sleep_h / bed_h)
}

/// A subject's summary of one covariate for `cohort.csv`: the mean of a
/// number, the share of yes nights of a yes/no, the levels seen of a
/// category (`;`-separated, in text order); empty when no night has it.
fn covariate_summary(kind: CovariateKind, values: &[&Value]) -> String {
    match kind {
        CovariateKind::Number => {
            let v: Vec<f64> = values
                .iter()
                .filter_map(|x| match x {
                    Value::Number(x) => Some(*x),
                    _ => None,
                })
                .collect();
            opt(
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64),
                3,
            )
        }
        CovariateKind::YesNo => {
            let v: Vec<bool> = values
                .iter()
                .filter_map(|x| match x {
                    Value::YesNo(b) => Some(*b),
                    _ => None,
                })
                .collect();
            opt(
                (!v.is_empty()).then(|| v.iter().filter(|b| **b).count() as f64 / v.len() as f64),
                3,
            )
        }
        CovariateKind::Category => {
            let levels: std::collections::BTreeSet<&str> = values
                .iter()
                .filter_map(|x| match x {
                    Value::Category(c) => Some(c.as_str()),
                    _ => None,
                })
                .collect();
            escape_text(&levels.into_iter().collect::<Vec<_>>().join(";"))
        }
    }
}

/// `cohort.csv`: per-subject aggregates over nights (a night without a
/// subject is its own subject, named by its night id).
pub fn cohort_csv(nights: &[NightDocument]) -> Vec<u8> {
    cohort_csv_with(nights, None)
}

/// [`cohort_csv`] with, when there is a diary, one `diary_<name>` column
/// per covariate ([`covariate_summary`]).
pub fn cohort_csv_with(nights: &[NightDocument], diary: Option<&CohortTable>) -> Vec<u8> {
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
        let mut row = vec![
            escape_text(subject),
            ns.len().to_string(),
            fixed(ns.iter().map(|n| n.summary.analyzed_h).sum::<f64>(), 4),
            fixed(cramps.iter().sum::<usize>() as f64 / k, 3),
            fixed(median, 1),
            ns.iter()
                .filter(|n| n.summary.n_cramps > 0)
                .count()
                .to_string(),
            fixed(ns.iter().map(|n| n.summary.lm_index).sum::<f64>() / k, 2),
            fixed(ns.iter().map(|n| n.summary.plm_index).sum::<f64>() / k, 2),
            opt(
                sleep_efficiency(ns.iter().copied().filter(|n| n.summary.n_cramps > 0)),
                4,
            ),
            opt(
                sleep_efficiency(ns.iter().copied().filter(|n| n.summary.n_cramps == 0)),
                4,
            ),
        ];
        if let Some(t) = diary {
            for (j, c) in t.covariates.iter().enumerate() {
                let values: Vec<&Value> = t
                    .nights
                    .iter()
                    .filter(|n| n.subject == subject)
                    .filter_map(|n| n.values.get(j))
                    .collect();
                row.push(covariate_summary(c.kind, &values));
            }
        }
        row
    });
    let mut header: Vec<String> = COHORT_COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend(diary.iter().flat_map(|t| {
        t.covariates
            .iter()
            .map(|c| format!("{DIARY_PREFIX}{}", c.name))
    }));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    csv_bytes(&header, rows)
}

/// `errors.csv`.
pub fn errors_csv(errors: &[NightError]) -> Vec<u8> {
    let rows = errors.iter().map(|e| {
        vec![
            escape_text(&e.night),
            escape_text(&e.source),
            escape_text(&e.error),
        ]
    });
    csv_bytes(&["night", "source", "error"], rows)
}

/// `episodes.csv` of a set of night documents, each night's episodes read
/// back from its `nights/<night>.json` (which must be written already) so
/// that a batch never holds every night's episodes.
pub struct EpisodesCsv<'a>(pub &'a [NightDocument]);

impl Export for EpisodesCsv<'_> {
    fn path(&self, out: &Layout) -> PathBuf {
        out.episodes_csv()
    }

    fn write(&self, out: &Layout, path: &Path, w: &mut dyn Write) -> Result<()> {
        let err = |e| Error::output(path, e);
        let mut table = EpisodesTable::new(w).map_err(err)?;
        for d in self.0 {
            let n = read_night_episodes(&out.night_json(&d.night.night))?;
            table.write_night(&n).map_err(err)?;
        }
        table.finish().map_err(err)
    }
}

/// `nights.csv` of a set of night documents and the nights that failed,
/// with the diary's columns when there is a diary.
pub struct NightsCsv<'a>(
    pub &'a [NightDocument],
    pub &'a [NightError],
    pub Option<&'a DiaryCells>,
);

impl Export for NightsCsv<'_> {
    fn path(&self, out: &Layout) -> PathBuf {
        out.nights_csv()
    }

    fn write(&self, _: &Layout, path: &Path, w: &mut dyn Write) -> Result<()> {
        w.write_all(&nights_csv_with(self.0, self.1, self.2))
            .map_err(|e| Error::output(path, e))
    }
}

/// `cohort.csv` of a set of night documents, with the diary's
/// per-subject summaries when there is a diary.
pub struct CohortCsv<'a>(pub &'a [NightDocument], pub Option<&'a CohortTable>);

impl Export for CohortCsv<'_> {
    fn path(&self, out: &Layout) -> PathBuf {
        out.cohort_csv()
    }

    fn write(&self, _: &Layout, path: &Path, w: &mut dyn Write) -> Result<()> {
        w.write_all(&cohort_csv_with(self.0, self.1))
            .map_err(|e| Error::output(path, e))
    }
}

/// `errors.csv` of the nights that failed.
pub struct ErrorsCsv<'a>(pub &'a [NightError]);

impl Export for ErrorsCsv<'_> {
    fn path(&self, out: &Layout) -> PathBuf {
        out.errors_csv()
    }

    fn write(&self, _: &Layout, path: &Path, w: &mut dyn Write) -> Result<()> {
        w.write_all(&errors_csv(self.0))
            .map_err(|e| Error::output(path, e))
    }
}

/// Reads `errors.csv` back.
pub fn read_errors_csv(path: &Path) -> Result<Vec<NightError>> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| Error::input(path, e.to_string()))?;
    rdr.deserialize()
        .map(|r| {
            r.map(|e: NightError| NightError {
                night: unescape_text(&e.night),
                source: unescape_text(&e.source),
                error: unescape_text(&e.error),
            })
            .map_err(|e| Error::input(path, e.to_string()))
        })
        .collect()
}

/// The ids of the nights a `nights.csv` lists as processed (`status`
/// `ok`, or every night of a table from before the `status` column).
pub fn read_night_ids(path: &Path) -> Result<Vec<String>> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| Error::input(path, e.to_string()))?;
    let status = rdr
        .headers()
        .map_err(|e| Error::input(path, e.to_string()))?
        .iter()
        .position(|c| c == "status");
    let mut ids = Vec::new();
    for r in rdr.records() {
        let r = r.map_err(|e| Error::input(path, e.to_string()))?;
        if status.is_none_or(|i| r.get(i) == Some(STATUS_OK)) {
            ids.push(unescape_text(r.get(0).unwrap_or("")));
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_flags_fill_their_columns() {
        let q: Vec<String> = ["emg_l:clipped=12", "n1_acc.csv:gaps", "a:b:flat_s=3.0"]
            .map(String::from)
            .to_vec();
        let cells: Vec<String> = quality_cells(&q).collect();
        // rest_not_quiet, unit_suspect, clipped, upsampled, timing
        assert_eq!(cells, ["false", "false", "true", "false", "true"]);
        assert_eq!(flag_name("a:b:flat_s=3.0"), "flat_s");
        assert_eq!(
            NIGHT_COLUMNS[NIGHT_COLUMNS.len() - QUALITY_COLUMNS.len()..],
            QUALITY_COLUMNS.iter().map(|(c, _)| *c).collect::<Vec<_>>()
        );
    }
}
