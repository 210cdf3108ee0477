//! Readers. Each opens one file, describes it as a [`RecordingInfo`] and then
//! delivers its samples block by block, already in physical units.

pub mod annot;
pub mod bounds;
pub mod csv;
pub mod edf;
pub mod edf_write;
pub mod hypnogram;
pub mod nsrr;
pub mod parts;
pub mod scoring;
pub mod select;
pub mod sidecar;
pub mod wav;

use std::path::Path;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::recording::{unit_scale, Block, ChannelKind, RecordingInfo};

/// Frames per block (66 s at 1 kHz; 256 KiB per channel). Channels are
/// analysed in parallel block by block, and the threads' hand-over at each
/// block is not free: at 4096 frames it took 40 % of the CPU time of an
/// 8-hour night (`scripts/bench_night.sh`), at 32768 still about 5 % of
/// the wall time.
pub const BLOCK_FRAMES: usize = 65536;

/// A file opened for streaming.
pub trait SampleSource: Send {
    fn info(&self) -> &RecordingInfo;
    /// Fills `block` (channels × frames) from the start; sets `block.len` to
    /// the number of frames read, 0 at the end of the file.
    fn read_block(&mut self, block: &mut Block) -> Result<()>;
}

/// File extensions that are recordings (lower case).
pub const RECORDING_EXTENSIONS: &[&str] = &["csv", "txt", "wav", "edf", "bdf"];

/// Whether `path` names a recording (not a sidecar, truth or output table).
pub fn is_recording(path: &Path) -> bool {
    let name = match path.file_name().and_then(|n| n.to_str()) {
        Some(n) => n.to_ascii_lowercase(),
        None => return false,
    };
    if name.ends_with(".truth.csv") || name.ends_with("_channels.tsv") {
        return false;
    }
    // Hypnograms are read with their night, not as nights of their own.
    if hypnogram::is_hypnogram(path) {
        return false;
    }
    // Output tables of an earlier run found inside an input folder.
    if matches!(
        name.as_str(),
        "episodes.csv"
            | "nights.csv"
            | "errors.csv"
            | "evaluation.csv"
            | "cohort.csv"
            | "cohort_nights.csv"
            | "cohort_effects.csv"
    ) {
        return false;
    }
    // A nightly diary or a manifest beside the recordings (`simulate
    // --cohort` writes both) describes nights; it is none.
    if name == "diary.csv"
        || name.ends_with(".diary.csv")
        || name.ends_with("_diary.csv")
        || name == "manifest.csv"
    {
        return false;
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    matches!(ext.as_deref(), Some(e) if RECORDING_EXTENSIONS.contains(&e))
}

/// A small table's reader: lines capped at
/// [`bounds::MAX_CSV_LINE_BYTES`].
pub type TableReader = ::csv::Reader<csv::LineCap<std::fs::File>>;

/// Opens a small CSV table (manifest, truth, hypnogram): `#` comment lines
/// and a header row. Returns the reader and the header. Anything but a
/// regular file is refused unopened, and a line longer than
/// [`bounds::MAX_CSV_LINE_BYTES`] is an error naming it.
pub fn open_table(path: &Path) -> Result<(TableReader, ::csv::StringRecord)> {
    bounds::check_regular(path)?;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut rdr = ::csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(csv::LineCap::new(file));
    let headers = rdr
        .headers()
        .map_err(|e| Error::input(path, e.to_string()))?
        .clone();
    Ok((rdr, headers))
}

/// Opens a recording by its extension: one source per group of channels
/// sharing a sample rate (always one for CSV and WAV).
///
/// Anything but a regular file is refused before it is opened, and what
/// each source declares (channel count, sample rates) is checked against
/// [`bounds`] before any buffer is sized from it.
pub fn open(path: &Path, cfg: &Config) -> Result<Vec<Box<dyn SampleSource>>> {
    bounds::check_regular(path)?;
    let sources = open_unchecked(path, cfg)?;
    let origin = match sources.first().map(|s| s.info().format) {
        Some("wav") => "the WAV header",
        Some("csv") => "the time column, sidecar or --fs",
        _ => "the header (samples per record / record duration)",
    };
    for s in &sources {
        bounds::check_info(s.info(), origin)?;
    }
    Ok(sources)
}

fn open_unchecked(path: &Path, cfg: &Config) -> Result<Vec<Box<dyn SampleSource>>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" | "txt" => Ok(vec![Box::new(csv::CsvSource::open(path, cfg)?)]),
        "wav" => Ok(vec![Box::new(wav::WavSource::open(path, cfg)?)]),
        "edf" | "bdf" | "rec" => Ok(edf::open(path, cfg)?
            .into_iter()
            .map(|s| Box::new(s) as Box<dyn SampleSource>)
            .collect()),
        _ => Err(Error::input(
            path,
            format!("unsupported file type \".{ext}\"; expected .csv, .txt, .wav, .edf or .bdf"),
        )),
    }
}

/// Kind and unit guessed from a column name: `emg_*` is EMG, `acc_*` and
/// `accel_*` accelerometer; suffixes `_uv`, `_mv`, `_v`, `_g`, `_mg` give the
/// unit (and the kind when the prefix does not).
pub fn kind_from_name(name: &str) -> Option<(ChannelKind, &'static str)> {
    let lower = name.trim().to_ascii_lowercase();
    let unit = [
        ("_uv", "uV"),
        ("_mv", "mV"),
        ("_v", "V"),
        ("_mg", "mg"),
        ("_g", "g"),
    ]
    .iter()
    .find(|(suffix, _)| lower.ends_with(suffix))
    .map(|(_, u)| *u);
    let kind = if lower.starts_with("emg") {
        Some(ChannelKind::Emg)
    } else if lower.starts_with("acc") {
        Some(ChannelKind::Accel)
    } else {
        match unit {
            Some("uV" | "mV" | "V") => Some(ChannelKind::Emg),
            Some("g" | "mg") => Some(ChannelKind::Accel),
            _ => None,
        }
    };
    let kind = kind?;
    let unit = match (kind, unit) {
        (ChannelKind::Emg, Some(u @ ("uV" | "mV" | "V"))) => u,
        (ChannelKind::Accel, Some(u @ ("g" | "mg"))) => u,
        (ChannelKind::Emg, _) => "uV",
        (ChannelKind::Accel, _) => "g",
        (ChannelKind::Other, _) => "",
    };
    Some((kind, unit))
}

/// Factor to µV or g for `unit`, or an error naming the channel and the units accepted.
pub fn checked_unit_scale(
    path: &Path,
    channel: &str,
    kind: ChannelKind,
    unit: &str,
) -> Result<f64> {
    unit_scale(kind, unit).ok_or_else(|| {
        let expected = match kind {
            ChannelKind::Emg => "uV, mV or V",
            ChannelKind::Accel => "g, mg or m/s^2",
            ChannelKind::Other => "any",
        };
        Error::input(
            path,
            format!(
                "channel {channel}: unit \"{unit}\" does not fit its kind; expected {expected}"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_give_kind_and_unit() {
        assert_eq!(
            kind_from_name("emg_left_uv"),
            Some((ChannelKind::Emg, "uV"))
        );
        assert_eq!(
            kind_from_name("EMG_calf_mV"),
            Some((ChannelKind::Emg, "mV"))
        );
        assert_eq!(kind_from_name("acc_x"), Some((ChannelKind::Accel, "g")));
        assert_eq!(
            kind_from_name("accel_z_mg"),
            Some((ChannelKind::Accel, "mg"))
        );
        assert_eq!(kind_from_name("tib_uv"), Some((ChannelKind::Emg, "uV")));
        assert_eq!(kind_from_name("battery"), None);
    }

    #[test]
    fn sidecars_and_truth_are_not_recordings() {
        assert!(is_recording(Path::new("a/n1_emg.csv")));
        assert!(is_recording(Path::new("a/n1.WAV")));
        assert!(!is_recording(Path::new("a/n1.truth.csv")));
        assert!(!is_recording(Path::new("a/n1_channels.tsv")));
        assert!(!is_recording(Path::new("a/n1.json")));
    }
}
