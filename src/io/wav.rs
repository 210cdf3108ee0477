//! WAV reader: 8–32-bit integer and 32-bit float, any channel count. hound
//! parses and validates the header; the samples are then decoded straight
//! from the data chunk's bytes a block at a time (hound's per-sample
//! iterator costs several times the file read).
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
    /// Positioned at the next frame of the data chunk.
    reader: BufReader<File>,
    codec: Codec,
    /// Bytes per frame (all channels).
    block_align: usize,
    /// Raw bytes of one block, reused.
    bytes: Vec<u8>,
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
            // A multi-rate export is refused for its rate, whatever else
            // hound found wrong with it.
            other => match fmt_chunk(path) {
                Ok((_, rate)) if (rate as f64) < WAV_MIN_FS_HZ => {
                    Error::input(path, low_rate_message(rate))
                }
                _ => Error::input(path, format!("not a readable WAV file: {other}")),
            },
        })?;
        let spec = reader.spec();
        let n = spec.channels as usize;
        let float = spec.sample_format == hound::SampleFormat::Float;
        let (block_align, _) = fmt_chunk(path)?;
        let codec = Codec::new(block_align / n.max(1), float).ok_or_else(|| {
            Error::input(
                path,
                format!(
                    "{} bytes per sample ({} bits, {}): expected 8-, 16-, 24- or 32-bit integer or 32-bit float",
                    block_align / n.max(1),
                    spec.bits_per_sample,
                    if float { "float" } else { "integer" }
                ),
            )
        })?;
        if (spec.sample_rate as f64) < WAV_MIN_FS_HZ {
            return Err(Error::input(path, low_rate_message(spec.sample_rate)));
        }
        let mut sc = sidecar::load(path)?;
        if sc.tsv_path.is_none() {
            // Axivity's converter names the channels and their full scale in
            // the INFO comment; that stands in for a sidecar.
            if let Some((channels, start)) = info_comment(path)?
                .and_then(|c| axivity_channels(&c, n, spec.bits_per_sample, float))
            {
                sc.channels = channels;
                sc.start_time = sc.start_time.or(start);
                sc.tsv_path = Some(path.to_path_buf());
            }
        }
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
            if !float && !c.gain_given && c.kind != ChannelKind::Other {
                return Err(Error::input(
                    &tsv,
                    format!(
                        "channel {}: gain is empty or n/a; integer WAV samples are counts, so a gain in {} per count is needed (column gain)",
                        c.name,
                        if c.units.is_empty() { c.kind.unit() } else { c.units.as_str() }
                    ),
                ));
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
        // hound stops at the first sample: the inner reader is positioned there.
        let reader = reader.into_inner();
        let file_len = std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .len();
        // Bytes before the samples are at least the 44 of a canonical header.
        let present = file_len.saturating_sub(44) / (block_align as u64).max(1);
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
            codec,
            block_align,
            bytes: Vec::new(),
            scale,
            frames_total,
            frames_read: 0,
        })
    }

    fn truncated(&self, detail: &str) -> Error {
        Error::input(
            &self.path,
            format!(
                "truncated or damaged data: the header declares {} frames, reading failed at frame {} ({detail})",
                self.frames_total, self.frames_read
            ),
        )
    }
}

/// How one sample is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    U8,
    I16,
    I24,
    I32,
    F32,
}

impl Codec {
    fn new(bytes_per_sample: usize, float: bool) -> Option<Codec> {
        match (bytes_per_sample, float) {
            (1, false) => Some(Codec::U8),
            (2, false) => Some(Codec::I16),
            (3, false) => Some(Codec::I24),
            (4, false) => Some(Codec::I32),
            (4, true) => Some(Codec::F32),
            _ => None,
        }
    }

    /// Decodes channel `c`'s samples of whole frames in `bytes` into `out`,
    /// as `raw * gain + offset`.
    fn decode(self, bytes: &[u8], align: usize, c: usize, gain: f64, offset: f64, out: &mut [f32]) {
        let frames = bytes.chunks_exact(align).zip(out.iter_mut());
        match self {
            Codec::U8 => {
                for (f, o) in frames {
                    *o = ((f[c] as i32 - 128) as f64 * gain + offset) as f32;
                }
            }
            Codec::I16 => {
                let k = 2 * c;
                for (f, o) in frames {
                    *o = (i16::from_le_bytes([f[k], f[k + 1]]) as f64 * gain + offset) as f32;
                }
            }
            Codec::I24 => {
                let k = 3 * c;
                for (f, o) in frames {
                    let v = i32::from_le_bytes([0, f[k], f[k + 1], f[k + 2]]) >> 8;
                    *o = (v as f64 * gain + offset) as f32;
                }
            }
            Codec::I32 => {
                let k = 4 * c;
                for (f, o) in frames {
                    let v = i32::from_le_bytes([f[k], f[k + 1], f[k + 2], f[k + 3]]);
                    *o = (v as f64 * gain + offset) as f32;
                }
            }
            Codec::F32 => {
                let k = 4 * c;
                for (f, o) in frames {
                    let v = f32::from_le_bytes([f[k], f[k + 1], f[k + 2], f[k + 3]]);
                    *o = (v as f64 * gain + offset) as f32;
                }
            }
        }
    }
}

/// The text of the `ICMT` entry of a `LIST`/`INFO` chunk before the data
/// chunk, if there is one.
fn info_comment(path: &Path) -> Result<Option<String>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = [0u8; 12];
    f.read_exact(&mut head).map_err(|e| Error::io(path, e))?;
    loop {
        let mut ch = [0u8; 8];
        if f.read_exact(&mut ch).is_err() {
            return Ok(None);
        }
        let size = u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]) as u64;
        match &ch[..4] {
            b"data" => return Ok(None),
            b"LIST" if size <= 1 << 20 => {
                let mut list = vec![0u8; size as usize];
                f.read_exact(&mut list).map_err(|e| Error::io(path, e))?;
                if size & 1 == 1 {
                    f.seek(SeekFrom::Current(1))
                        .map_err(|e| Error::io(path, e))?;
                }
                if !list.starts_with(b"INFO") {
                    continue;
                }
                let mut at = 4;
                while at + 8 <= list.len() {
                    let id = &list[at..at + 4];
                    let len = u32::from_le_bytes([
                        list[at + 4],
                        list[at + 5],
                        list[at + 6],
                        list[at + 7],
                    ]) as usize;
                    let body = &list[(at + 8).min(list.len())..(at + 8 + len).min(list.len())];
                    if id == b"ICMT" {
                        let text = String::from_utf8_lossy(body)
                            .trim_end_matches('\0')
                            .to_string();
                        return Ok(Some(text));
                    }
                    at += 8 + len + (len & 1);
                }
            }
            _ => {
                f.seek(SeekFrom::Current((size + (size & 1)) as i64))
                    .map_err(|e| Error::io(path, e))?;
            }
        }
    }
}

/// Channels from an Axivity INFO comment (`Channel-1: Accel-X`,
/// `Scale-1: 8`, `Time: 2018-03-18 17:24:47.536`): accelerometer axes in g,
/// with full scale (±1 in the file's numbers) = Scale g. Channels the
/// comment does not name are read for quality only.
fn axivity_channels(
    comment: &str,
    n: usize,
    bits: u16,
    float: bool,
) -> Option<(Vec<sidecar::SidecarChannel>, Option<chrono::NaiveDateTime>)> {
    let field = |key: &str| {
        comment.lines().find_map(|l| {
            l.strip_prefix(key)
                .and_then(|r| r.strip_prefix(':'))
                .map(str::trim)
        })
    };
    field("Channel-1")?;
    let full_scale = if float {
        1.0
    } else {
        (1u64 << (bits - 1)) as f64
    };
    let channels = (1..=n)
        .map(|k| {
            let label = field(&format!("Channel-{k}"));
            let scale = field(&format!("Scale-{k}")).and_then(|v| v.parse::<f64>().ok());
            match (label, scale) {
                (Some(l), Some(g)) if l.to_ascii_lowercase().starts_with("accel") => {
                    sidecar::SidecarChannel {
                        name: l.to_string(),
                        kind: ChannelKind::Accel,
                        units: "g".into(),
                        fs_hz: None,
                        gain: g / full_scale,
                        offset: 0.0,
                        gain_given: true,
                    }
                }
                _ => sidecar::SidecarChannel {
                    name: label.map_or_else(|| format!("channel-{k}"), str::to_string),
                    kind: ChannelKind::Other,
                    units: String::new(),
                    fs_hz: None,
                    gain: 1.0,
                    offset: 0.0,
                    gain_given: true,
                },
            }
        })
        .collect();
    Some((channels, field("Time").and_then(sidecar::parse_datetime)))
}

fn low_rate_message(rate: u32) -> String {
    format!(
        "header sample rate {rate} Hz: far below any EMG band or accelerometer use (at least {WAV_MIN_FS_HZ} Hz expected); a 1 Hz rate usually means a multi-rate export with one frame per second"
    )
}

/// Bytes per frame and sample rate (Hz), from the `fmt ` chunk.
fn fmt_chunk(path: &Path) -> Result<(usize, u32)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = [0u8; 12];
    f.read_exact(&mut head).map_err(|e| Error::io(path, e))?;
    loop {
        let mut ch = [0u8; 8];
        f.read_exact(&mut ch).map_err(|e| Error::io(path, e))?;
        let size = u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]) as u64;
        if &ch[..4] == b"fmt " {
            let mut fmt = [0u8; 14];
            f.read_exact(&mut fmt).map_err(|e| Error::io(path, e))?;
            let rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
            let align = u16::from_le_bytes([fmt[12], fmt[13]]) as usize;
            if align == 0 {
                return Err(Error::input(
                    path,
                    "fmt chunk: block align is 0; expected bytes per frame",
                ));
            }
            return Ok((align, rate));
        }
        // Chunks are padded to an even size.
        f.seek(SeekFrom::Current((size + (size & 1)) as i64))
            .map_err(|e| Error::io(path, e))?;
    }
}

impl SampleSource for WavSource {
    fn info(&self) -> &RecordingInfo {
        &self.info
    }

    fn read_block(&mut self, block: &mut Block) -> Result<()> {
        use std::io::Read;
        let n = self.scale.len();
        let frames = ((self.frames_total - self.frames_read) as usize).min(block.capacity());
        block.len = 0;
        if frames == 0 {
            return Ok(());
        }
        let want = frames * self.block_align;
        self.bytes.resize(want, 0);
        let mut got = 0;
        let mut failure = None;
        while got < want {
            match self.reader.read(&mut self.bytes[got..want]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            }
        }
        let whole = got / self.block_align;
        for c in 0..n {
            let (g, o) = self.scale[c];
            let mut row = block.data.row_mut(c);
            let out = row.as_slice_mut().expect("block rows are contiguous");
            self.codec.decode(
                &self.bytes[..whole * self.block_align],
                self.block_align,
                c,
                g,
                o,
                &mut out[..whole],
            );
        }
        block.len = whole;
        self.frames_read += whole as u64;
        if whole == frames && failure.is_none() {
            return Ok(());
        }
        if self.preallocated && failure.is_none() {
            self.info.warnings.push(format!(
                "the data chunk declares {} frames but the file ends after {}: read the frames present (a recording that stopped early)",
                self.frames_total, self.frames_read
            ));
            self.frames_total = self.frames_read;
            return Ok(());
        }
        Err(self.truncated(&failure.unwrap_or_else(|| "the file ends early".into())))
    }
}
