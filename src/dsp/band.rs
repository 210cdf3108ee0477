//! Band power of one Hann-windowed frame from its real FFT.
//!
//! Parseval scaling: for a frame `x` windowed by `w` (length `N`) with
//! one-sided spectrum `X`, the band mean square is
//! `2 / (N · Σw²) · Σ_{k in band} |X_k|²`. A sine of amplitude `A` whose main
//! lobe lies inside the band reads `A²/2`, i.e. band RMS `A/√2`.
//!
//! The band's bins are split by their distance to the 50 Hz and 60 Hz mains
//! families, so that the power for any mains decision (50, 60 or none) can be
//! formed after the whole night has been seen, from four sums per frame.

use std::ops::Range;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::RealToComplex;

/// Which mains family a band bin is close to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinClass {
    /// Far from both 50 Hz and 60 Hz harmonics.
    Clean = 0,
    /// Near a 50 Hz harmonic only.
    Near50 = 1,
    /// Near a 60 Hz harmonic only.
    Near60 = 2,
    /// Near both.
    NearBoth = 3,
}

/// Power of one frame in the four bin classes, µV² (mean square).
pub type PowerParts = [f32; 4];

/// Band mean square for a mains decision, µV².
#[inline]
pub fn band_mean_square(p: &PowerParts, mains_hz: Option<u32>) -> f32 {
    match mains_hz {
        None => p[0] + p[1] + p[2] + p[3],
        Some(50) => p[0] + p[2],
        Some(60) => p[0] + p[1],
        Some(_) => p[0],
    }
}

/// The bins of the EMG band for one frame length and sample rate.
#[derive(Debug, Clone)]
pub struct BandLayout {
    /// (bin index, class), ascending.
    bins: Vec<(usize, BinClass)>,
    /// Frequencies of the clean bins, Hz (for the median frequency).
    clean_freqs: Vec<f32>,
    /// Parseval factor 2 / (N · Σw²).
    scale: f32,
    /// Bins below the band (motion artifact), see [`motion_bins`].
    motion: Range<usize>,
    /// Lowest and highest band frequency actually used, Hz.
    pub low_hz: f64,
    pub high_hz: f64,
}

/// The FFT bins below an EMG band starting at `low_hz`, for frames of `n`
/// samples at `fs_hz`: from bin 2 (bins 0 and 1 hold the electrode offset
/// under a Hann window, not motion) up to the last bin below `low_hz`, so 8–16 Hz for
/// 0.25 s frames and a 20 Hz band edge. Electrode-motion artifact has most
/// of its power there (De Luca et al. 2010, "Filtering the surface EMG
/// signal: movement artifact and baseline noise contamination", J Biomech
/// 43:1573–1579: below 20 Hz), the EMG band little.
pub fn motion_bins(fs_hz: f64, n: usize, low_hz: f64) -> Range<usize> {
    let df = fs_hz / n as f64;
    let mut end = 2;
    while end < n.div_ceil(2) && (end as f64) * df < low_hz {
        end += 1;
    }
    // From bin 2: a periodic Hann window spreads a DC offset over bins 0
    // and 1 only, so an electrode offset (or raw ADC counts) adds nothing.
    2..end
}

/// Parseval mean square of `spectrum`'s bins in `bins`, µV², with the
/// factor `scale` = 2 / (N · Σw²).
#[inline]
fn bins_mean_square(spectrum: &[Complex<f32>], bins: &Range<usize>, scale: f32) -> f32 {
    spectrum[bins.clone()]
        .iter()
        .map(|c| c.norm_sqr())
        .sum::<f32>()
        * scale
}

fn near_family(f: f64, family_hz: f64, half_width_hz: f64, nyquist_hz: f64) -> bool {
    let mut h = family_hz;
    while h < nyquist_hz + half_width_hz {
        if (f - h).abs() < half_width_hz {
            return true;
        }
        h += family_hz;
    }
    false
}

impl BandLayout {
    /// Layout for frames of `n` samples at `fs_hz` windowed by `window`;
    /// the band `[low_hz, high_hz]` keeps whole bins whose centres lie inside it.
    pub fn new(
        fs_hz: f64,
        window: &[f32],
        low_hz: f64,
        high_hz: f64,
        exclusion_hz: f64,
    ) -> BandLayout {
        let n = window.len();
        let df = fs_hz / n as f64;
        let nyquist = fs_hz / 2.0;
        let s2: f64 = window.iter().map(|&w| (w as f64) * (w as f64)).sum();
        let mut bins = Vec::new();
        let mut clean_freqs = Vec::new();
        // DC and Nyquist bins carry no factor 2; the band never includes them.
        for k in 1..n.div_ceil(2) {
            let f = k as f64 * df;
            if f < low_hz || f > high_hz {
                continue;
            }
            let n50 = near_family(f, 50.0, exclusion_hz, nyquist);
            let n60 = near_family(f, 60.0, exclusion_hz, nyquist);
            let class = match (n50, n60) {
                (false, false) => BinClass::Clean,
                (true, false) => BinClass::Near50,
                (false, true) => BinClass::Near60,
                (true, true) => BinClass::NearBoth,
            };
            if class == BinClass::Clean {
                clean_freqs.push(f as f32);
            }
            bins.push((k, class));
        }
        let low = bins.first().map(|b| b.0 as f64 * df).unwrap_or(0.0);
        let high = bins.last().map(|b| b.0 as f64 * df).unwrap_or(0.0);
        BandLayout {
            bins,
            clean_freqs,
            scale: (2.0 / (n as f64 * s2)) as f32,
            motion: motion_bins(fs_hz, n, low_hz),
            low_hz: low,
            high_hz: high,
        }
    }

    /// Number of bins in the band.
    pub fn len(&self) -> usize {
        self.bins.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bins.is_empty()
    }

    /// Motion-artifact mean square of one frame's spectrum, µV²: the
    /// Parseval power of the bins below the band ([`motion_bins`]).
    #[inline]
    pub fn motion_mean_square(&self, spectrum: &[Complex<f32>]) -> f32 {
        bins_mean_square(spectrum, &self.motion, self.scale)
    }

    /// Splits the band power of one frame's spectrum into its four classes
    /// (µV², Parseval-scaled) and returns the median frequency of the clean
    /// bins, Hz (NaN when they hold no power).
    #[inline]
    pub fn measure(&self, spectrum: &[Complex<f32>]) -> (PowerParts, f32) {
        let mut parts = [0f32; 4];
        let mut clean_total = 0f32;
        for &(k, class) in &self.bins {
            let p = spectrum[k].norm_sqr();
            parts[class as usize] += p;
            if class == BinClass::Clean {
                clean_total += p;
            }
        }
        let mut median_hz = f32::NAN;
        if clean_total > 0.0 {
            let half = 0.5 * clean_total;
            let mut acc = 0f32;
            let mut i = 0;
            for &(k, class) in &self.bins {
                if class != BinClass::Clean {
                    continue;
                }
                acc += spectrum[k].norm_sqr();
                if acc >= half {
                    median_hz = self.clean_freqs[i];
                    break;
                }
                i += 1;
            }
        }
        for p in &mut parts {
            *p *= self.scale;
        }
        (parts, median_hz)
    }
}

/// Motion-artifact RMS of raw frames for analyzers that have no spectrum
/// of their own (the time-domain detectors): the same Hann window, FFT
/// bins and scaling as [`BandLayout::motion_mean_square`].
pub struct MotionMeter {
    window: Vec<f32>,
    bins: Range<usize>,
    scale: f32,
    plan: Arc<dyn RealToComplex<f32>>,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
}

impl MotionMeter {
    /// A meter for frames of `window.len()` samples at `fs_hz` under a band
    /// starting at `low_hz`; `plan` is the forward FFT of that length.
    pub fn new(
        fs_hz: f64,
        window: Vec<f32>,
        low_hz: f64,
        plan: Arc<dyn RealToComplex<f32>>,
    ) -> MotionMeter {
        let n = window.len();
        let s2: f64 = window.iter().map(|&w| (w as f64) * (w as f64)).sum();
        MotionMeter {
            bins: motion_bins(fs_hz, n, low_hz),
            scale: (2.0 / (n as f64 * s2)) as f32,
            input: plan.make_input_vec(),
            spectrum: plan.make_output_vec(),
            scratch: plan.make_scratch_vec(),
            plan,
            window,
        }
    }

    /// Motion RMS of `frame` (µV, as long as the window), NaN when it holds
    /// non-finite samples.
    pub fn rms_uv(&mut self, frame: &[f32]) -> f32 {
        let mut finite = true;
        for ((dst, &x), &w) in self.input.iter_mut().zip(frame).zip(&self.window) {
            finite &= x.is_finite();
            *dst = x * w;
        }
        if !finite {
            return f32::NAN;
        }
        // Lengths come from the plan itself, so processing cannot fail.
        self.plan
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .expect("buffers sized by the plan");
        bins_mean_square(&self.spectrum, &self.bins, self.scale).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::window::hann_periodic;
    use crate::dsp::PlanCache;

    fn band_rms_of_sine(amp: f64, f_hz: f64, fs: f64, mains: Option<u32>) -> f32 {
        let n = (0.25 * fs) as usize;
        let w = hann_periodic(n);
        let layout = BandLayout::new(fs, &w, 20.0, 150.0, 12.0);
        let plan = PlanCache::new().forward(n);
        let mut input: Vec<f32> = (0..n)
            .map(|i| {
                (amp * (2.0 * std::f64::consts::PI * f_hz * (i as f64 + 0.3) / fs).sin()) as f32
                    * w[i]
            })
            .collect();
        let mut out = plan.make_output_vec();
        let mut scratch = plan.make_scratch_vec();
        plan.process_with_scratch(&mut input, &mut out, &mut scratch)
            .unwrap();
        let (parts, _) = layout.measure(&out);
        band_mean_square(&parts, mains).sqrt()
    }

    #[test]
    fn sine_in_band_reads_amplitude_over_root_two() {
        for fs in [1000.0, 500.0, 2048.0] {
            let rms = band_rms_of_sine(100.0, 80.0, fs, Some(50));
            let expect = 100.0 / 2f32.sqrt();
            assert!((rms - expect).abs() / expect < 0.02, "fs={fs}: {rms}");
        }
    }

    #[test]
    fn mains_sine_reads_near_zero_when_excluded() {
        let rms = band_rms_of_sine(100.0, 50.0, 1000.0, Some(50));
        assert!(rms < 1.0, "50 Hz leaked: {rms} µV");
        let rms = band_rms_of_sine(100.0, 60.0, 1000.0, Some(60));
        assert!(rms < 1.0, "60 Hz leaked: {rms} µV");
        // Without exclusion the same sine is in the band.
        let rms = band_rms_of_sine(100.0, 50.0, 1000.0, None);
        assert!((rms - 70.7).abs() < 2.0, "{rms}");
    }

    #[test]
    fn motion_bins_lie_below_the_band() {
        // 0.25 s frames: 4 Hz bins, so 4, 8, 12 and 16 Hz.
        assert_eq!(motion_bins(1000.0, 250, 20.0), 2..5);
        assert_eq!(motion_bins(200.0, 50, 20.0), 2..5);
        assert_eq!(motion_bins(256.0, 64, 20.0), 2..5);
    }

    #[test]
    fn band_is_capped_below_nyquist_and_bins_classified() {
        let w = hann_periodic(50);
        let l = BandLayout::new(200.0, &w, 20.0, 90.0, 12.0);
        assert_eq!(l.low_hz, 20.0);
        assert_eq!(l.high_hz, 88.0);
        assert!(!l.is_empty());
    }
}
