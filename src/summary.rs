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
        .map(|x| fixed(x, decimals))
        .unwrap_or_default()
}

fn count(v: Option<usize>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

/// First characters that make a spreadsheet read a cell as a formula
/// (OWASP, "CSV Injection": `=`, `+`, `-`, `@`, tab, carriage return).
pub const FORMULA_STARTS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// A text cell as written to a table: prefixed with a single quote when it
/// starts with one of [`FORMULA_STARTS`] (OWASP's guidance against CSV
/// injection), or when it starts with a quote followed by one of them or by
/// another quote, so that [`unescape_text`] gives back every cell exactly.
/// Number cells are not passed through it (`-0.5` stays a number).
pub fn escape_text(cell: &str) -> String {
    let mut chars = cell.chars();
    let quoted = match chars.next() {
        Some(c) if FORMULA_STARTS.contains(&c) => true,
        Some('\'') => chars
            .next()
            .is_some_and(|c| c == '\'' || FORMULA_STARTS.contains(&c)),
        _ => false,
    };
    if quoted {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// A text cell of a table as it was before [`escape_text`].
pub fn unescape_text(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest)
            if rest
                .chars()
                .next()
                .is_some_and(|c| c == '\'' || FORMULA_STARTS.contains(&c)) =>
        {
            rest.to_string()
        }
        _ => cell.to_string(),
    }
}

/// `x` with `decimals` decimals, never `-0.0`: a negative zero (an empty
/// `f64` sum is one) or a small negative that rounds to zero is written
/// as `0.0`.
pub fn fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
        _ => s,
    }
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
            escape_text(&n.night),
            escape_text(&n.sources.join(";")),
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
            n.mains_hz
                .map(|m| m.to_string())
                .unwrap_or_else(|| "none".into()),
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
        ]
    });
    csv_bytes(COHORT_COLUMNS, rows)
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
    write_json_pretty(doc, out)
}

/// `value` as serde_json's pretty JSON and a final newline, with every
/// negative zero written as `0.0` (as in the tables: an empty sum or a
/// rounded tiny negative is not a signed quantity).
pub fn write_json_pretty<T: Serialize + ?Sized>(
    value: &T,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let fmt = NoNegativeZero(serde_json::ser::PrettyFormatter::new());
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, fmt);
    value.serialize(&mut ser).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}

/// serde_json's pretty layout, with `-0.0` written as `0.0`.
struct NoNegativeZero<'a>(serde_json::ser::PrettyFormatter<'a>);

/// Forwards a layout method of [`serde_json::ser::Formatter`] to the
/// pretty formatter.
macro_rules! pretty_layout {
    ($($name:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {$(
        fn $name<W: ?Sized + Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> std::io::Result<()> {
            self.0.$name(w $(, $arg)*)
        }
    )*};
}

impl serde_json::ser::Formatter for NoNegativeZero<'_> {
    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, v: f64) -> std::io::Result<()> {
        self.0.write_f64(w, if v == 0.0 { 0.0 } else { v })
    }
    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, v: f32) -> std::io::Result<()> {
        self.0.write_f32(w, if v == 0.0 { 0.0 } else { v })
    }
    pretty_layout!(
        begin_array(),
        end_array(),
        begin_array_value(first: bool),
        end_array_value(),
        begin_object(),
        end_object(),
        begin_object_key(first: bool),
        begin_object_value(),
        end_object_value(),
    );
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

/// The night ids listed in a `nights.csv`.
pub fn read_night_ids(path: &Path) -> Result<Vec<String>> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| Error::input(path, e.to_string()))?;
    let mut ids = Vec::new();
    for r in rdr.records() {
        let r = r.map_err(|e| Error::input(path, e.to_string()))?;
        ids.push(unescape_text(r.get(0).unwrap_or("")));
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

/// The longest file name, in bytes, that common file systems take
/// (`NAME_MAX` of Linux ext4/XFS/Btrfs; APFS and NTFS allow 255 units).
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// The name of the temporary file [`write_atomic`] writes before renaming
/// it onto `path`: `.<name>.<pid>.tmp`, or, when that would be longer than
/// [`MAX_FILE_NAME_BYTES`] (a long night id), `.<BLAKE3 of name>.<pid>.tmp`,
/// so that any final name that fits has a temporary name that fits.
pub fn temp_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let pid = std::process::id();
    let plain = format!(".{name}.{pid}.tmp");
    if plain.len() <= MAX_FILE_NAME_BYTES {
        plain
    } else {
        let hash = blake3::hash(name.as_bytes()).to_hex();
        format!(".{}.{pid}.tmp", &hash[..32])
    }
}

/// [`write_atomic`] of what `write` writes, through a buffer.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let tmp = path.with_file_name(temp_name(path));
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
    fn temp_names_fit_whenever_the_final_name_fits() {
        use std::path::PathBuf;
        let short = Path::new("out/nights/n01.json");
        assert_eq!(
            temp_name(short),
            format!(".n01.json.{}.tmp", std::process::id())
        );
        let id = "x".repeat(MAX_FILE_NAME_BYTES - ".json".len());
        let long = PathBuf::from(format!("out/nights/{id}.json"));
        assert!(temp_name(&long).len() <= MAX_FILE_NAME_BYTES);
        let other = PathBuf::from(format!("out/nights/y{}.json", &id[1..]));
        assert_ne!(temp_name(&long), temp_name(&other));
    }

    #[test]
    fn formula_cells_are_quoted_and_read_back_exactly() {
        assert_eq!(escape_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(escape_text("@sum"), "'@sum");
        assert_eq!(escape_text("n01"), "n01");
        assert_eq!(escape_text("'plain"), "'plain");
        for cell in [
            "=1+1", "+x", "-night", "@a", "\tx", "'=x", "''", "'a", "n01", "",
        ] {
            assert_eq!(unescape_text(&escape_text(cell)), cell, "{cell}");
        }
    }

    #[test]
    fn no_negative_zero_in_tables() {
        assert_eq!(fixed(-0.0, 1), "0.0");
        assert_eq!(fixed(-0.0001, 2), "0.00");
        assert_eq!(fixed(-0.5, 1), "-0.5");
        assert_eq!(fixed(std::iter::empty::<f64>().sum(), 1), "0.0");
    }

    #[test]
    fn json_has_no_negative_zero_and_keeps_the_pretty_layout() {
        let v = serde_json::json!({"a": -0.0, "b": [-0.0_f32, -1.5], "c": {"d": 0.25}});
        let mut ours = Vec::new();
        write_json_pretty(&v, &mut ours).unwrap();
        let mut theirs = serde_json::to_vec_pretty(&v).unwrap();
        theirs.push(b'\n');
        let theirs = String::from_utf8(theirs).unwrap().replace("-0.0", "0.0");
        assert_eq!(String::from_utf8(ours).unwrap(), theirs);
        assert!(theirs.contains("\"a\": 0.0") && theirs.contains("-1.5"));
    }

    #[test]
    fn clock_times_are_iso_8601() {
        let t = crate::io::sidecar::parse_datetime("2026-01-15T23:59:30").unwrap();
        assert_eq!(clock(Some(t), 45.25), "2026-01-16T00:00:15.250");
        assert_eq!(clock(None, 1.0), "");
    }
}
