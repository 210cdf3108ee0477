//! WAV reader (hound): 8–32-bit integer and 32-bit float, any channel count.
//! A WAV file carries no channel names or units, so a `<stem>_channels.tsv`
//! sidecar with one row per channel, in file order, is required; integer
//! samples are scaled by its `gain` and `offset` columns.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::{checked_unit_scale, select, sidecar, SampleSource};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::recording::{Block, ChannelInfo, ChannelKind, RecordingInfo};

pub struct WavSource {
    info: RecordingInfo,
    path: PathBuf,
    reader: hound::WavReader<BufReader<File>>,
    float: bool,
    /// Per channel: raw * scale + offset gives µV or g.
    scale: Vec<(f64, f64)>,
    frames_total: u64,
    frames_read: u64,
    /// The data chunk declares far more frames than the file holds: the
    /// end of the file ends the recording (see [`WAV_PREALLOCATED_RATIO`]).
    preallocated: bool,
}

/// Below this header rate a WAV file cannot hold EMG or movement: it is a
/// multi-rate export with one frame per second (wfdb writes Sleep-EDF so).
pub const WAV_MIN_FS_HZ: f64 = 10.0;
/// A data chunk that declares more than this many times the frames present
/// was preallocated by a recorder that stopped early (Axivity's converter
/// writes the planned length up front): the frames present are read with a
/// warning. A smaller shortfall is a damaged copy and is refused.
pub const WAV_PREALLOCATED_RATIO: f64 = 10.0;

impl WavSource {
    pub fn open(path: &Path, cfg: &Config) -> Result<WavSource> {
        let reader = hound::WavReader::open(path).map_err(|e| match e {
            hound::Error::IoError(io) => Error::io(path, io),
            other => Error::input(path, format!("not a readable WAV file: {other}")),
        })?;
        let spec = reader.spec();
        let n = spec.channels as usize;
        let float = spec.sample_format == hound::SampleFormat::Float;
        if (spec.sample_rate as f64) < WAV_MIN_FS_HZ {
            return Err(Error::input(
                path,
                format!(
                    "header sample rate {} Hz: far below any EMG band or accelerometer use (at least {WAV_MIN_FS_HZ} Hz expected); a 1 Hz rate usually means a multi-rate export with one frame per second",
                    spec.sample_rate
                ),
            ));
        }
        let sc = sidecar::load(path)?;
        let Some(tsv) = sc.tsv_path.clone() else {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("<stem>");
            return Err(Error::input(
                path,
                format!(
                    "no sidecar: a WAV file has no channel names or units; expected {stem}_channels.tsv beside it with columns name, type, units, sampling_frequency{} and one row per channel ({n} rows)",
                    if float { "" } else { ", gain, offset (integer samples are scaled by gain)" }
                ),
            ));
        };
        if sc.channels.len() != n {
            return Err(Error::input(
                &tsv,
                format!(
                    "{} channel rows; expected {n}, one per channel of {}",
                    sc.channels.len(),
                    path.display()
                ),
            ));
        }
        let fs_hz = spec.sample_rate as f64;
        let mut channels = Vec::with_capacity(n);
        let mut scale = Vec::with_capacity(n);
        for c in &sc.channels {
            if let Some(fs) = c.fs_hz {
                if (fs - fs_hz).abs() > 1e-6 * fs_hz {
                    return Err(Error::input(
                        &tsv,
                        format!(
                            "channel {}: sampling_frequency {fs} Hz disagrees with the WAV header's {fs_hz} Hz",
                            c.name
                        ),
                    ));
                }
            }
            let unit_factor = checked_unit_scale(&tsv, &c.name, c.kind, &c.units)?;
            scale.push((c.gain * unit_factor, c.offset * unit_factor));
            // Channels left out by --channels are still read (samples are
            // interleaved) but only for quality.
            let explicit = !cfg.channels.select.is_empty();
            let kind = if explicit && !select::is_selected(&cfg.channels, &c.name) {
                ChannelKind::Other
            } else {
                c.kind
            };
            channels.push(ChannelInfo {
                name: c.name.clone(),
                kind,
                source_unit: c.units.clone(),
                fs_hz,
                selected_by: if explicit { "--channels" } else { "sidecar" }.into(),
            });
        }
        let frames_total = reader.duration() as u64;
        let block_align = (spec.bits_per_sample as u64).div_ceil(8) * n as u64;
        let file_len = std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .len();
        // Bytes before the samples are at least the 44 of a canonical header.
        let present = file_len.saturating_sub(44) / block_align.max(1);
        let preallocated = (present as f64) * WAV_PREALLOCATED_RATIO < frames_total as f64;
        Ok(WavSource {
            info: RecordingInfo {
                path: path.to_path_buf(),
                format: "wav",
                fs_hz,
                start_time: sc.start_time,
                channels,
                warnings: Vec::new(),
            },
            preallocated,
            path: path.to_path_buf(),
            reader,
            float,
            scale,
            frames_total,
            frames_read: 0,
        })
    }

    fn truncated(&self, e: hound::Error) -> Error {
        Error::input(
            &self.path,
            format!(
                "truncated or damaged data: the header declares {} frames, reading failed at frame {} ({e})",
                self.frames_total, self.frames_read
            ),
        )
    }
}

impl SampleSource for WavSource {
    fn info(&self) -> &RecordingInfo {
        &self.info
    }

    fn read_block(&mut self, block: &mut Block) -> Result<()> {
        let n = self.scale.len();
        let frames = ((self.frames_total - self.frames_read) as usize).min(block.capacity());
        block.len = 0;
        if frames == 0 {
            return Ok(());
        }
        let mut err = None;
        if self.float {
            let mut it = self.reader.samples::<f32>();
            'outer: for i in 0..frames {
                for c in 0..n {
                    match it.next() {
                        Some(Ok(v)) => {
                            let (g, o) = self.scale[c];
                            block.data[[c, i]] = (v as f64 * g + o) as f32;
                        }
                        Some(Err(e)) => {
                            err = Some(e);
                            break 'outer;
                        }
                        None => {
                            err = Some(hound::Error::IoError(
                                std::io::ErrorKind::UnexpectedEof.into(),
                            ));
                            break 'outer;
                        }
                    }
                }
                block.len = i + 1;
            }
        } else {
            let mut it = self.reader.samples::<i32>();
            'outer: for i in 0..frames {
                for c in 0..n {
                    match it.next() {
                        Some(Ok(v)) => {
                            let (g, o) = self.scale[c];
                            block.data[[c, i]] = (v as f64 * g + o) as f32;
                        }
                        Some(Err(e)) => {
                            err = Some(e);
                            break 'outer;
                        }
                        None => {
                            err = Some(hound::Error::IoError(
                                std::io::ErrorKind::UnexpectedEof.into(),
                            ));
                            break 'outer;
                        }
                    }
                }
                block.len = i + 1;
            }
        }
        self.frames_read += block.len as u64;
        match err {
            // hound reports the end of a short data chunk as a format error.
            Some(_) if self.preallocated => {
                self.info.warnings.push(format!(
                    "the data chunk declares {} frames but the file ends after {}: read the frames present (a recording that stopped early)",
                    self.frames_total, self.frames_read
                ));
                self.frames_total = self.frames_read;
                Ok(())
            }
            Some(e) => Err(self.truncated(e)),
            None => Ok(()),
        }
    }
}
