//! Welch power spectra (as `scipy.signal.welch`) and the spectral features
//! of the EMG band: mean and median frequency.
//!
//! Everything here runs in `f64`, with its own `f64` FFT plans: spectra are
//! computed per episode or per recording, not per 0.1 s window, and must
//! match scipy to 1e-6. The per-window band power of the detector is
//! [`super::band`] (f32, Parseval scaling documented there).

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

use super::filter::Sample;
use super::window::{hann_periodic_f64, hann_symmetric_f64};
use crate::error::{Error, Result};

/// scipy `welch`'s default segment length, samples.
pub const DEFAULT_NPERSEG: usize = 256;

/// Window applied to each segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Periodic (DFT-even) Hann, scipy's default `'hann'`.
    HannPeriodic,
    /// Symmetric Hann (`hann(n, sym=True)`).
    HannSymmetric,
    /// No window (`'boxcar'`).
    Rectangular,
}

impl Window {
    /// The window's samples for length `n`.
    pub fn samples(self, n: usize) -> Vec<f64> {
        match self {
            Window::HannPeriodic => hann_periodic_f64(n),
            Window::HannSymmetric => hann_symmetric_f64(n),
            Window::Rectangular => vec![1.0; n],
        }
    }
}

/// How the spectrum is scaled (scipy `scaling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaling {
    /// Power spectral density, unit² / Hz: `|X|² / (fs · Σw²)`; integrates
    /// over frequency to the signal's mean square.
    Density,
    /// Power spectrum, unit²: `|X|² / (Σw)²`; a sine of amplitude `A` on a
    /// bin reads `A²/2`.
    Spectrum,
}

/// Parameters of a Welch estimate; the defaults are scipy's.
#[derive(Debug, Clone, PartialEq)]
pub struct WelchOptions {
    /// Segment length, samples (scipy: 256, cut to the signal's length).
    pub nperseg: usize,
    /// Overlap between segments, samples (scipy: `nperseg / 2`).
    pub noverlap: Option<usize>,
    pub window: Window,
    pub scaling: Scaling,
    /// Subtract each segment's mean before windowing (scipy
    /// `detrend='constant'`).
    pub detrend_constant: bool,
}

impl Default for WelchOptions {
    fn default() -> Self {
        WelchOptions {
            nperseg: DEFAULT_NPERSEG,
            noverlap: None,
            window: Window::HannPeriodic,
            scaling: Scaling::Density,
            detrend_constant: true,
        }
    }
}

/// A one-sided averaged spectrum.
#[derive(Debug, Clone, PartialEq)]
pub struct Psd {
    /// Bin frequencies, Hz: `k · fs / nperseg`, `k = 0 ..= nperseg / 2`.
    pub freqs_hz: Vec<f64>,
    /// Power per bin: unit²/Hz (density) or unit² (spectrum).
    pub power: Vec<f64>,
    /// Number of segments averaged.
    pub segments: usize,
}

/// Welch estimate of `x` sampled at `fs_hz`, one-sided, mean of the
/// segments' periodograms: the same numbers as `scipy.signal.welch(x, fs,
/// nperseg=…, noverlap=…, scaling=…)` with `detrend='constant'`.
///
/// As in scipy, a segment longer than the signal is cut to its length.
/// Refused: an empty signal, a zero segment length, an overlap not below
/// the segment length, a bad sample rate, non-finite samples.
pub fn welch<T: Sample>(x: &[T], fs_hz: f64, opts: &WelchOptions) -> Result<Psd> {
    if !(fs_hz.is_finite() && fs_hz > 0.0) {
        return Err(Error::Config(format!(
            "Welch spectrum: sample rate {fs_hz} Hz; expected a positive finite rate"
        )));
    }
    if opts.nperseg == 0 {
        return Err(Error::Config(
            "Welch spectrum: segment length 0; expected at least 1 sample".into(),
        ));
    }
    if x.is_empty() {
        return Err(Error::Signal(
            "Welch spectrum of an empty signal; expected at least one sample".into(),
        ));
    }
    if let Some(i) = x.iter().position(|v| !v.to_f64().is_finite()) {
        return Err(Error::Signal(format!(
            "Welch spectrum: sample {i} is not finite"
        )));
    }
    let nperseg = opts.nperseg.min(x.len());
    let noverlap = opts.noverlap.unwrap_or(nperseg / 2);
    if noverlap >= nperseg {
        return Err(Error::Config(format!(
            "Welch spectrum: overlap {noverlap} samples; expected fewer than the segment length {nperseg}"
        )));
    }
    let hop = nperseg - noverlap;
    let segments = (x.len() - noverlap) / hop;
    let window = opts.window.samples(nperseg);
    let scale = match opts.scaling {
        Scaling::Density => 1.0 / (fs_hz * window.iter().map(|w| w * w).sum::<f64>()),
        Scaling::Spectrum => 1.0 / window.iter().sum::<f64>().powi(2),
    };
    let plan: Arc<dyn RealToComplex<f64>> = RealFftPlanner::<f64>::new().plan_fft_forward(nperseg);
    let mut input = plan.make_input_vec();
    let mut spectrum = plan.make_output_vec();
    let mut scratch = plan.make_scratch_vec();
    let mut power = vec![0.0; spectrum.len()];
    for s in 0..segments {
        let seg = &x[s * hop..s * hop + nperseg];
        let mean = if opts.detrend_constant {
            seg.iter().map(|v| v.to_f64()).sum::<f64>() / nperseg as f64
        } else {
            0.0
        };
        for ((dst, v), w) in input.iter_mut().zip(seg).zip(&window) {
            *dst = (v.to_f64() - mean) * w;
        }
        // Buffers come from the plan itself, so processing cannot fail.
        plan.process_with_scratch(&mut input, &mut spectrum, &mut scratch)
            .map_err(|e| Error::Signal(format!("Welch spectrum: FFT failed: {e}")))?;
        for (p, c) in power.iter_mut().zip(&spectrum) {
            *p += c.norm_sqr();
        }
    }
    // One-sided: every bin but DC (and Nyquist for even lengths) counts twice.
    let last_doubled = if nperseg % 2 == 0 {
        power.len() - 1
    } else {
        power.len()
    };
    for (k, p) in power.iter_mut().enumerate() {
        let twice = if k >= 1 && k < last_doubled { 2.0 } else { 1.0 };
        *p *= twice * scale / segments as f64;
    }
    let freqs_hz = (0..power.len())
        .map(|k| k as f64 * fs_hz / nperseg as f64)
        .collect();
    Ok(Psd {
        freqs_hz,
        power,
        segments,
    })
}

/// Spectral features of one band of a spectrum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandFeatures {
    /// Power-weighted mean frequency, Hz: `Σ f·P / Σ P` over the band's bins.
    pub mean_hz: f64,
    /// Median frequency, Hz: the first bin at which the cumulative band power
    /// reaches half the band's total (the convention of [`super::band`]).
    pub median_hz: f64,
    /// Sum of the band's bins (unit² for `Spectrum` scaling).
    pub power: f64,
}

/// Mean and median frequency of the bins of `psd` whose frequency lies in
/// `[low_hz, high_hz]`. `None` when the band has no bin or no power.
pub fn band_features(psd: &Psd, low_hz: f64, high_hz: f64) -> Option<BandFeatures> {
    let bins = || {
        psd.freqs_hz
            .iter()
            .zip(&psd.power)
            .filter(move |(f, _)| **f >= low_hz && **f <= high_hz)
    };
    let total: f64 = bins().map(|(_, p)| p).sum();
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    let mean_hz = bins().map(|(f, p)| f * p).sum::<f64>() / total;
    let half = 0.5 * total;
    let mut acc = 0.0;
    let mut median_hz = f64::NAN;
    for (f, p) in bins() {
        acc += p;
        if acc >= half {
            median_hz = *f;
            break;
        }
    }
    Some(BandFeatures {
        mean_hz,
        median_hz,
        power: total,
    })
}

/// Mean and median frequency of the EMG band `[low_hz, high_hz]` of one
/// stretch of signal (a window or an episode), from its Welch density
/// spectrum with `nperseg` samples per segment (cut to the stretch's length).
pub fn emg_band_features<T: Sample>(
    x: &[T],
    fs_hz: f64,
    nperseg: usize,
    low_hz: f64,
    high_hz: f64,
) -> Result<Option<BandFeatures>> {
    let psd = welch(
        x,
        fs_hz,
        &WelchOptions {
            nperseg,
            ..WelchOptions::default()
        },
    )?;
    Ok(band_features(&psd, low_hz, high_hz))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(amp: f64, f: f64, fs: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| amp * (2.0 * std::f64::consts::PI * f * i as f64 / fs).sin())
            .collect()
    }

    #[test]
    fn density_integrates_to_the_mean_square_and_spectrum_reads_a2_over_2() {
        let fs = 1000.0;
        // 125 Hz falls exactly on a bin of a 256-sample segment.
        let x = sine(4.0, 125.0, fs, 10_000);
        let d = welch(&x, fs, &WelchOptions::default()).unwrap();
        let df = fs / 256.0;
        let ms: f64 = d.power.iter().sum::<f64>() * df;
        assert!((ms - 8.0).abs() < 0.05, "{ms}");
        let s = welch(
            &x,
            fs,
            &WelchOptions {
                scaling: Scaling::Spectrum,
                ..WelchOptions::default()
            },
        )
        .unwrap();
        let k = 32;
        assert_eq!(s.freqs_hz[k], 125.0);
        assert!((s.power[k] - 8.0).abs() < 1e-6, "{}", s.power[k]);
        let f = band_features(&s, 20.0, 300.0).unwrap();
        assert!((f.mean_hz - 125.0).abs() < 1.0, "{f:?}");
        assert_eq!(f.median_hz, 125.0);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let x = vec![0f32; 100];
        let o = |nperseg, noverlap| WelchOptions {
            nperseg,
            noverlap,
            ..WelchOptions::default()
        };
        assert!(welch(&x, 100.0, &o(0, None)).is_err());
        assert!(welch(&x, 100.0, &o(50, Some(50))).is_err());
        assert!(welch(&x, 0.0, &o(50, None)).is_err());
        assert!(welch::<f32>(&[], 100.0, &o(50, None)).is_err());
        let mut y = x.clone();
        y[3] = f32::INFINITY;
        assert!(welch(&y, 100.0, &o(50, None)).is_err());
        // A segment longer than the signal is cut to it, as in scipy.
        assert_eq!(welch(&x, 100.0, &o(256, None)).unwrap().power.len(), 51);
        assert!(band_features(&welch(&x, 100.0, &o(50, None)).unwrap(), 10.0, 40.0).is_none());
    }
}
