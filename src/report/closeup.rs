//! The data behind episode close-ups. Raw samples are not kept by the
//! streaming scan, so the stretches around the episodes are read again:
//! one pass over each file of the night, stopping after the last stretch.

use std::path::PathBuf;

use crate::config::Config;
use crate::dsp::window::hann_periodic;
use crate::dsp::PlanCache;
use crate::error::Result;
use crate::io::{self, BLOCK_FRAMES};
use crate::recording::{Block, ChannelKind};

/// A stretch to read: one EMG channel over `[t0_s, t1_s]`, s from the
/// recording start.
#[derive(Debug, Clone)]
pub struct Request {
    pub channel: String,
    pub t0_s: f64,
    pub t1_s: f64,
}

/// The three accelerometer axes over a stretch.
#[derive(Debug, Clone)]
pub struct AccelStretch {
    pub fs_hz: f64,
    /// Time of the first sample, s.
    pub t0_s: f64,
    pub axes_g: [Vec<f32>; 3],
}

/// Raw samples around one episode.
#[derive(Debug, Clone)]
pub struct Closeup {
    /// The stretch asked for, s.
    pub t0_s: f64,
    pub t1_s: f64,
    /// Sample rate of the EMG channel, Hz (0 when the channel was not found).
    pub emg_fs_hz: f64,
    /// Time of the first EMG sample, s.
    pub emg_t0_s: f64,
    pub emg_uv: Vec<f32>,
    pub accel: Option<AccelStretch>,
}

struct Target {
    request: usize,
    channel: usize,
    first: u64,
    end: u64,
    /// Which buffer: EMG, or accelerometer axis 0–2.
    axis: Option<usize>,
}

/// Reads the stretches of `requests` from the night's files; the
/// accelerometer comes from the first file with three accelerometer axes.
pub fn read_closeups(
    sources: &[PathBuf],
    cfg: &Config,
    requests: &[Request],
) -> Result<Vec<Closeup>> {
    let mut out: Vec<Closeup> = requests
        .iter()
        .map(|r| Closeup {
            t0_s: r.t0_s,
            t1_s: r.t1_s,
            emg_fs_hz: 0.0,
            emg_t0_s: r.t0_s.max(0.0),
            emg_uv: Vec::new(),
            accel: None,
        })
        .collect();
    let mut accel_found = false;
    // An EDF file with several sample rates opens as one source per rate.
    let mut opened = Vec::new();
    for path in sources {
        opened.extend(io::open(path, cfg)?);
    }
    for mut src in opened {
        let info = src.info().clone();
        let fs = info.fs_hz;
        let frame = |t: f64| (t.max(0.0) * fs).round() as u64;
        let mut targets = Vec::new();
        for (i, r) in requests.iter().enumerate() {
            if out[i].emg_fs_hz > 0.0 {
                continue;
            }
            if let Some(c) = info
                .channels
                .iter()
                .position(|ch| ch.kind == ChannelKind::Emg && ch.name == r.channel)
            {
                out[i].emg_fs_hz = fs;
                out[i].emg_t0_s = frame(r.t0_s) as f64 / fs;
                targets.push(Target {
                    request: i,
                    channel: c,
                    first: frame(r.t0_s),
                    end: frame(r.t1_s),
                    axis: None,
                });
            }
        }
        let axes = info.accel_axes();
        if !accel_found && axes.len() == 3 {
            accel_found = true;
            for (i, r) in requests.iter().enumerate() {
                out[i].accel = Some(AccelStretch {
                    fs_hz: fs,
                    t0_s: frame(r.t0_s) as f64 / fs,
                    axes_g: Default::default(),
                });
                for (k, &c) in axes.iter().enumerate() {
                    targets.push(Target {
                        request: i,
                        channel: c,
                        first: frame(r.t0_s),
                        end: frame(r.t1_s),
                        axis: Some(k),
                    });
                }
            }
        }
        let Some(last) = targets.iter().map(|t| t.end).max() else {
            continue;
        };
        let mut block = Block::new(info.channels.len(), BLOCK_FRAMES);
        let mut at = 0u64;
        while at < last {
            src.read_block(&mut block)?;
            if block.len == 0 {
                break;
            }
            let next = at + block.len as u64;
            for t in &targets {
                let a = t.first.max(at);
                let b = t.end.min(next);
                if a >= b {
                    continue;
                }
                let x = &block.channel(t.channel)[(a - at) as usize..(b - at) as usize];
                let c = &mut out[t.request];
                match t.axis {
                    None => c.emg_uv.extend_from_slice(x),
                    Some(k) => {
                        if let Some(acc) = &mut c.accel {
                            acc.axes_g[k].extend_from_slice(x);
                        }
                    }
                }
            }
            at = next;
        }
    }
    Ok(out)
}

/// Largest number of spectrogram columns: about one per pixel column of
/// a close-up's plot area, no more.
pub const SPECTROGRAM_MAX_COLS: usize = 600;
/// Spectrogram frame length, s (like the detector's window: 0.25 s
/// resolves 4 Hz, enough for a 20–150 Hz EMG band).
pub const SPECTROGRAM_FRAME_S: f64 = 0.25;
/// Colour scale depth below the 99.5th percentile, dB.
pub const SPECTROGRAM_RANGE_DB: f64 = 50.0;

/// Power spectral density over time, dB re 1 µV²/Hz.
#[derive(Debug, Clone)]
pub struct Spectrogram {
    /// Left edge of the first column, s.
    pub t0_s: f64,
    /// Width of a column, s.
    pub col_s: f64,
    pub n_cols: usize,
    /// Frequency bins from 0 Hz up to `max_hz`.
    pub n_bins: usize,
    pub max_hz: f64,
    /// `db[c * n_bins + b]`.
    pub db: Vec<f32>,
    /// Colour scale limits, dB.
    pub db_range: (f64, f64),
}

impl Spectrogram {
    /// The viridis colour of cell (column `c`, bin `b`).
    pub fn rgb(&self, c: usize, b: usize) -> [u8; 3] {
        let (lo, hi) = self.db_range;
        let v = ((self.db[c * self.n_bins + b] as f64 - lo) / (hi - lo).max(1e-9)).clamp(0.0, 1.0);
        viridis(v)
    }
}

/// Viridis colour map (matplotlib), interpolated between nine stops.
pub fn viridis(v: f64) -> [u8; 3] {
    const STOPS: [[f64; 3]; 9] = [
        [68.0, 1.0, 84.0],
        [71.0, 44.0, 122.0],
        [59.0, 81.0, 139.0],
        [44.0, 113.0, 142.0],
        [33.0, 144.0, 141.0],
        [39.0, 173.0, 129.0],
        [92.0, 200.0, 99.0],
        [170.0, 220.0, 50.0],
        [253.0, 231.0, 37.0],
    ];
    let x = v.clamp(0.0, 1.0) * 8.0;
    let i = (x.floor() as usize).min(7);
    let f = x - i as f64;
    let mut out = [0u8; 3];
    for k in 0..3 {
        out[k] = (STOPS[i][k] * (1.0 - f) + STOPS[i + 1][k] * f).round() as u8;
    }
    out
}

/// Hann-windowed short-time spectrum of `x` (µV, sampled at `fs_hz`,
/// first sample at `t0_s`), one-sided PSD scaled so that white noise of
/// variance σ² reads σ²/(fs/2) µV²/Hz.
pub fn spectrogram(x: &[f32], fs_hz: f64, t0_s: f64, plans: &PlanCache) -> Spectrogram {
    let nfft = ((SPECTROGRAM_FRAME_S * fs_hz).log2().round().exp2() as usize).clamp(64, 2048);
    let empty = Spectrogram {
        t0_s,
        col_s: 1.0,
        n_cols: 0,
        n_bins: 0,
        max_hz: fs_hz / 2.0,
        db: Vec::new(),
        db_range: (0.0, 1.0),
    };
    if x.len() < nfft || fs_hz <= 0.0 {
        return empty;
    }
    let hop = (nfft / 2).max((x.len() - nfft).div_ceil(SPECTROGRAM_MAX_COLS));
    let n_cols = (x.len() - nfft) / hop + 1;
    let n_bins = nfft / 2;
    let w = hann_periodic(nfft);
    let scale = 2.0 / (fs_hz * w.iter().map(|v| (v * v) as f64).sum::<f64>());
    let plan = plans.forward(nfft);
    let mut input = plan.make_input_vec();
    let mut spectrum = plan.make_output_vec();
    let mut scratch = plan.make_scratch_vec();
    let mut db = Vec::with_capacity(n_cols * n_bins);
    for c in 0..n_cols {
        let frame = &x[c * hop..c * hop + nfft];
        let finite = frame.iter().all(|v| v.is_finite());
        let mean = if finite {
            frame.iter().map(|&v| v as f64).sum::<f64>() / nfft as f64
        } else {
            0.0
        };
        for ((o, &v), &wk) in input.iter_mut().zip(frame).zip(&w) {
            *o = if finite {
                ((v as f64 - mean) as f32) * wk
            } else {
                0.0
            };
        }
        if plan
            .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
            .is_err()
        {
            return empty;
        }
        for s in &spectrum[..n_bins] {
            let p = s.norm_sqr() as f64 * scale;
            db.push(if finite {
                (10.0 * p.max(1e-12).log10()) as f32
            } else {
                f32::NAN
            });
        }
    }
    let mut sorted: Vec<f32> = db.iter().copied().filter(|v| v.is_finite()).collect();
    let hi = crate::dsp::stats::percentile_in_place(&mut sorted, 99.5)
        .map(|v| v as f64)
        .unwrap_or(0.0);
    let hi = hi.ceil();
    Spectrogram {
        t0_s: t0_s + (nfft as f64 / 2.0 - hop as f64 / 2.0) / fs_hz,
        col_s: hop as f64 / fs_hz,
        n_cols,
        n_bins,
        max_hz: fs_hz / 2.0,
        db,
        db_range: (hi - SPECTROGRAM_RANGE_DB, hi),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sine_peaks_in_its_bin_and_white_noise_reads_its_psd() {
        let fs = 1000.0;
        let f = 80.0;
        let x: Vec<f32> = (0..10_000)
            .map(|i| (50.0 * (2.0 * std::f64::consts::PI * f * i as f64 / fs).sin()) as f32)
            .collect();
        let sp = spectrogram(&x, fs, 0.0, &PlanCache::new());
        assert_eq!(sp.n_bins, 128); // 0.25 s at 1000 Hz -> 256-point frames
        let df = fs / 256.0;
        let col = &sp.db[5 * sp.n_bins..6 * sp.n_bins];
        let peak = col
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert!((peak as f64 * df - f).abs() <= df, "peak bin {peak}");
        // Parseval: the PSD summed over bins times df gives the variance,
        // A²/2 = 1250 µV².
        let var: f64 = col
            .iter()
            .map(|d| 10f64.powf(*d as f64 / 10.0))
            .sum::<f64>()
            * df;
        assert!((var - 1250.0).abs() < 20.0, "variance {var}");
    }

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), [68, 1, 84]);
        assert_eq!(viridis(1.0), [253, 231, 37]);
    }
}
