//! Physical and format bounds on what a file's header may declare. A value
//! outside these ranges is a damaged header, not a recording: it is refused
//! with the file, the field and the allowed range, before anything is
//! allocated from it (issue 16). Every bound carries its rationale.

use std::path::Path;

use crate::error::{Error, Result};
use crate::recording::{ChannelKind, RecordingInfo};

// The EMG rate bounds live with the config, which checks its own rates
// against them (config must not depend on io).
pub use crate::config::{EMG_MAX_FS_HZ, EMG_MIN_FS_HZ};
/// Lowest accelerometer rate, Hz: actigraphs store down to 1 Hz epochs.
pub const ACCEL_MIN_FS_HZ: f64 = 1.0;
/// Highest accelerometer rate, Hz: MEMS accelerometers output at most
/// 6.4 kHz (ADXL355 4 kHz, LIS3DH 5.3 kHz).
pub const ACCEL_MAX_FS_HZ: f64 = 10_000.0;
/// Lowest rate of any other signal, Hz: PSG exports carry 1/30 Hz
/// (one value per 30 s epoch) hypnogram-like traces; 0.01 Hz is below them.
pub const OTHER_MIN_FS_HZ: f64 = 0.01;
/// Highest rate of any other signal, Hz: the EMG bound, the fastest
/// physiological signal in a sleep recording.
pub const OTHER_MAX_FS_HZ: f64 = EMG_MAX_FS_HZ;
/// Channels delivered by one file (one source), at most. A block holds
/// [`super::BLOCK_FRAMES`] f32 frames per channel (256 KiB), so this bounds
/// a block at 64 MiB; high-density EMG grids have at most 256 electrodes.
pub const MAX_CHANNELS_PER_FILE: usize = 256;
/// Columns (fields per row) of a CSV/TXT recording, at most: channels,
/// time and ignored columns together. Wider files are not recordings.
pub const MAX_CSV_COLUMNS: usize = 4096;
/// Longest CSV/TXT line, bytes: 4096 columns of 256 characters. The csv
/// reader holds a line whole, so a file without line breaks would be
/// held whole.
pub const MAX_CSV_LINE_BYTES: usize = 1 << 20;
/// Largest sidecar (`_channels.tsv`, `.json`), bytes: a row per channel
/// of a few dozen bytes; 1 MiB is far above any real one.
pub const MAX_SIDECAR_BYTES: u64 = 1 << 20;
/// Longest EDF/BDF data record, s. The spec recommends records of at most
/// 61 440 bytes and a few seconds; some exporters write the whole
/// recording as one record, and a recording is at most a day.
pub const EDF_MAX_RECORD_S: f64 = 86_400.0;
/// Missing time a discontinuous (EDF+D) file may declare between its
/// records in all, s: a night is at most a day, so more than a day of gaps
/// is a damaged time keeping, which would make the night's work grow
/// without any samples to show for it.
pub const EDF_MAX_TOTAL_GAP_S: f64 = 86_400.0;
/// Digital range of a 16-bit EDF sample.
pub const EDF_DIGITAL_RANGE: (i64, i64) = (i16::MIN as i64, i16::MAX as i64);
/// Digital range of a 24-bit BDF sample.
pub const BDF_DIGITAL_RANGE: (i64, i64) = (-(1 << 23), (1 << 23) - 1);

/// The sample-rate range of a channel kind, Hz (inclusive).
pub fn fs_range_hz(kind: ChannelKind) -> (f64, f64) {
    match kind {
        ChannelKind::Emg => (EMG_MIN_FS_HZ, EMG_MAX_FS_HZ),
        ChannelKind::Accel => (ACCEL_MIN_FS_HZ, ACCEL_MAX_FS_HZ),
        ChannelKind::Other => (OTHER_MIN_FS_HZ, OTHER_MAX_FS_HZ),
    }
}

/// Formats a rate for messages (`100 kHz`, `50 Hz`, `0.01 Hz`).
fn hz(v: f64) -> String {
    if v >= 1000.0 && (v / 1000.0).fract() == 0.0 {
        format!("{} kHz", v / 1000.0)
    } else {
        format!("{v} Hz")
    }
}

/// Checks what a reader declares about a file before any buffer is sized
/// from it: the channel count, and every channel's sample rate against
/// [`OTHER_MIN_FS_HZ`] and its kind's maximum. `origin` says where the rate
/// comes from (e.g. "the WAV header"), for the message. The kinds' lower
/// bounds are checked per night ([`check_min_rate`]): a slow channel
/// may still be opened for inspection.
pub fn check_info(info: &RecordingInfo, origin: &str) -> Result<()> {
    check_channel_count(&info.path, info.channels.len())?;
    for ch in &info.channels {
        let (_, hi) = fs_range_hz(ch.kind);
        if !(ch.fs_hz.is_finite() && ch.fs_hz >= OTHER_MIN_FS_HZ && ch.fs_hz <= hi) {
            return Err(Error::input(
                &info.path,
                format!(
                    "channel {}: sample rate {} Hz from {origin}; expected {} to {} for a {} channel",
                    ch.name,
                    ch.fs_hz,
                    hz(OTHER_MIN_FS_HZ),
                    hz(hi),
                    ch.kind.as_str()
                ),
            ));
        }
    }
    Ok(())
}

/// Checks every channel's rate against its kind's lower bound (EMG
/// [`EMG_MIN_FS_HZ`], accelerometer [`ACCEL_MIN_FS_HZ`]), for analysis.
pub fn check_min_rate(info: &RecordingInfo) -> Result<()> {
    for ch in &info.channels {
        let (lo, hi) = fs_range_hz(ch.kind);
        if ch.fs_hz < lo {
            return Err(Error::input(
                &info.path,
                format!(
                    "channel {}: sampled at {} Hz; expected {} to {} for a {} channel",
                    ch.name,
                    ch.fs_hz,
                    hz(lo),
                    hz(hi),
                    ch.kind.as_str()
                ),
            ));
        }
    }
    Ok(())
}

/// Checks the number of channels one file delivers.
pub fn check_channel_count(path: &Path, n: usize) -> Result<()> {
    if n > MAX_CHANNELS_PER_FILE {
        return Err(Error::input(
            path,
            format!("{n} channels to analyse; expected at most {MAX_CHANNELS_PER_FILE} per file"),
        ));
    }
    Ok(())
}

/// Refuses anything that is not a regular file (FIFO, device, socket,
/// folder) before it is opened for reading: opening a FIFO blocks, and
/// reading a device such as `/dev/zero` never ends. Symbolic links are
/// followed.
pub fn check_regular(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_file() {
        return Ok(());
    }
    let what = file_type_name(&meta.file_type());
    Err(Error::input(
        path,
        format!("is a {what}, not a regular file; expected a recording file"),
    ))
}

/// A name for a non-regular file type, for messages.
pub fn file_type_name(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "FIFO (named pipe)";
        } else if t.is_char_device() {
            return "character device";
        } else if t.is_block_device() {
            return "block device";
        } else if t.is_socket() {
            return "socket";
        }
    }
    if t.is_dir() {
        "folder"
    } else if t.is_symlink() {
        "symbolic link"
    } else if t.is_file() {
        "regular file"
    } else {
        "special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_print_in_their_unit() {
        assert_eq!(hz(100_000.0), "100 kHz");
        assert_eq!(hz(50.0), "50 Hz");
        assert_eq!(hz(0.01), "0.01 Hz");
    }

    #[test]
    fn devices_and_folders_are_not_regular_files() {
        let e = check_regular(Path::new("/dev/null"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/dev/null") && e.contains("character device"),
            "{e}"
        );
        let d = tempfile::tempdir().unwrap();
        let e = check_regular(d.path()).unwrap_err().to_string();
        assert!(e.contains("folder"), "{e}");
    }
}
