//! Time-domain pieces shared by the detectors: a streaming band-pass with
//! the three mains variants (none, 50 Hz comb, 60 Hz comb) run side by side,
//! so that the night's mains decision can be applied after the stream ends,
//! as the FFT detector does with its bin classes; and the robust
//! sub-window power ratio that keeps heartbeats, electrode pops and other
//! brief transients out of the activity series.

use crate::dsp::design::{butter, mains_comb, ButterType};
use crate::dsp::filter::SosFilter;
use crate::error::Result;

/// Number of mains variants: none, 50 Hz, 60 Hz.
pub const VARIANTS: usize = 3;

/// Index of the variant for a mains decision.
pub fn variant(mains_hz: Option<u32>) -> usize {
    match mains_hz {
        Some(50) => 1,
        Some(60) => 2,
        _ => 0,
    }
}

/// Butterworth band-pass (scipy `butter(order, [lo, hi], 'bandpass')`)
/// followed by the 50 Hz and 60 Hz notch combs.
#[derive(Debug, Clone)]
pub struct FilterBank {
    band: SosFilter,
    comb50: Option<SosFilter>,
    comb60: Option<SosFilter>,
}

impl FilterBank {
    /// A bank for the band `(low_hz, high_hz)` at `fs_hz`.
    /// A bank of a Butterworth band-pass of `order` over `band_hz` and
    /// notch combs of quality `notch_q` at `fs_hz`.
    pub fn new(order: usize, notch_q: f64, band_hz: (f64, f64), fs_hz: f64) -> Result<FilterBank> {
        let sos = butter(
            order,
            ButterType::Bandpass {
                low_hz: band_hz.0,
                high_hz: band_hz.1,
            },
            fs_hz,
        )?;
        // Harmonics up to the band's top plus the notch width.
        let up_to = band_hz.1 + 5.0;
        let comb = |f: f64| {
            (f < fs_hz / 2.0)
                .then(|| mains_comb(f, notch_q, fs_hz, up_to).ok())
                .flatten()
                .map(|s| SosFilter::new(&s))
        };
        Ok(FilterBank {
            band: SosFilter::new(&sos),
            comb50: comb(50.0),
            comb60: comb(60.0),
        })
    }

    /// Filters one sample (µV) into the three variants. A non-finite sample
    /// restarts the filters from rest and yields NaN, so a gap does not
    /// poison the rest of the night.
    #[inline]
    pub fn step(&mut self, x: f32) -> [f32; VARIANTS] {
        if !x.is_finite() {
            self.band.reset();
            if let Some(c) = &mut self.comb50 {
                c.reset();
            }
            if let Some(c) = &mut self.comb60 {
                c.reset();
            }
            return [f32::NAN; VARIANTS];
        }
        let b = self.band.step(x as f64);
        let c50 = self.comb50.as_mut().map_or(b, |c| c.step(b));
        let c60 = self.comb60.as_mut().map_or(b, |c| c.step(b));
        [b as f32, c50 as f32, c60 as f32]
    }

    /// The band-pass and the comb of one variant as a single cascade, for a
    /// stream whose mains decision is known: [`SosFilter::process_f32`]
    /// then gives, bit for bit, the variant's output of [`FilterBank::step`].
    pub fn variant_filter(&self, v: usize) -> SosFilter {
        let comb = match v {
            1 => self.comb50.as_ref(),
            2 => self.comb60.as_ref(),
            _ => None,
        };
        match comb {
            Some(c) => self.band.chain(c),
            None => self.band.clone(),
        }
    }
}

/// Expected median over mean of the power of short segments of Gaussian
/// noise in a band of `bandwidth_hz`, segments of `segment_s`: the power
/// of a segment is about χ² with k = 2·B·T degrees of freedom, whose median
/// is k·(1 − 2/(9k))³ (Wilson–Hilferty approximation).
pub fn noise_median_over_mean(bandwidth_hz: f64, segment_s: f64) -> f64 {
    let k = (2.0 * bandwidth_hz * segment_s).max(1.0);
    (1.0 - 2.0 / (9.0 * k)).powi(3)
}

/// Σ x (or Σ x·w) in f64 with four independent accumulators, so that the
/// adds do not wait on each other and the compiler can vectorise them.
#[inline]
pub(crate) fn sum_f64(x: &[f32], w: Option<&[f32]>) -> f64 {
    let mut acc = [0f64; 4];
    let chunks = x.chunks_exact(4);
    let tail = chunks.remainder();
    let mut total = 0f64;
    match w {
        Some(w) => {
            for (c, d) in chunks.zip(w.chunks_exact(4)) {
                for j in 0..4 {
                    acc[j] += (c[j] * d[j]) as f64;
                }
            }
            for (v, u) in tail.iter().zip(&w[x.len() - tail.len()..]) {
                total += (v * u) as f64;
            }
        }
        None => {
            for c in chunks {
                for j in 0..4 {
                    acc[j] += c[j] as f64;
                }
            }
            for v in tail {
                total += *v as f64;
            }
        }
    }
    total + (acc[0] + acc[1]) + (acc[2] + acc[3])
}

/// Mean of `squares` accumulated in f64: the power of one segment in
/// [`robust_share`]. The same slice gives the same bits wherever it is
/// computed, so overlapping windows can share their segments.
#[inline]
pub fn segment_mean(squares: &[f32]) -> f32 {
    (sum_f64(squares, None) / squares.len() as f64) as f32
}

/// Robust share of a window's power, 0–1: the median of its segments'
/// mean square over their mean, divided by the value expected for steady
/// noise, capped at 1. Steady activity (noise or a sine) gives 1; a brief
/// transient (a QRS complex, an electrode pop) that fills fewer than half
/// of the segments raises the mean but not the median, so the share falls
/// to about resting over transient power. `squares` holds the filtered
/// samples squared; the mean is weighted by `weights` (the analysis
/// window squared, scaled to mean 1; empty for none), so that it weighs a
/// transient as the windowed FFT does: a QRS complex at a Hann window's
/// centre counts 2.7 times its plain share. `scratch` is reused.
pub fn robust_share(
    squares: &[f32],
    weights: &[f32],
    n_segments: usize,
    expected: f32,
    scratch: &mut Vec<f32>,
) -> f32 {
    let n = squares.len();
    scratch.clear();
    for k in 0..n_segments {
        let a = k * n / n_segments;
        let b = ((k + 1) * n / n_segments).max(a + 1).min(n);
        scratch.push(segment_mean(&squares[a..b]));
    }
    share_of_segments(scratch, squares, weights, expected)
}

/// [`robust_share`] with the segments' mean squares already computed
/// (by [`segment_mean`]); `segments` is reordered.
pub fn share_of_segments(
    segments: &mut [f32],
    squares: &[f32],
    weights: &[f32],
    expected: f32,
) -> f32 {
    let n = squares.len();
    let total = sum_f64(squares, (weights.len() == n).then_some(weights));
    let mean = (total / n as f64) as f32;
    if !mean.is_finite() {
        return f32::NAN;
    }
    if mean <= 0.0 {
        return 1.0;
    }
    (median_in_place(segments) / mean / expected).min(1.0)
}

/// Optimal sorting network for 10 values (29 comparators in 8 layers;
/// Bert Dobbelaere's list of sorting networks), the default segment count.
#[rustfmt::skip]
const NETWORK_10: [(usize, usize); 29] = [
    (0, 8), (1, 9), (2, 7), (3, 5), (4, 6),
    (0, 2), (1, 4), (5, 8), (7, 9),
    (0, 3), (2, 4), (5, 7), (6, 9),
    (0, 1), (3, 6), (8, 9),
    (1, 5), (2, 3), (4, 7), (6, 8),
    (1, 2), (3, 5), (4, 6), (7, 8),
    (2, 3), (4, 5), (6, 7),
    (3, 4), (5, 6),
];

/// Median of `v` (the mean of the middle two for an even count), which is
/// reordered. Ten values without NaN go through a branch-free sorting
/// network instead of a sort: the values, and so the median, are the same.
pub fn median_in_place(v: &mut [f32]) -> f32 {
    let m = v.len();
    match <&mut [f32; 10]>::try_from(&mut *v) {
        Ok(a) if !a.iter().any(|x| x.is_nan()) => {
            for (i, j) in NETWORK_10 {
                let (lo, hi) = (a[i].min(a[j]), a[i].max(a[j]));
                a[i] = lo;
                a[j] = hi;
            }
        }
        _ => v.sort_by(f32::total_cmp),
    }
    if m % 2 == 1 {
        v[m / 2]
    } else {
        0.5 * (v[m / 2 - 1] + v[m / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_sine_keeps_its_power_and_a_spike_loses_it() {
        let mut scratch = Vec::new();
        // 80 Hz sine at 1 kHz over 250 samples: every 25-sample segment
        // holds two whole periods, so the share is exactly 1.
        let sq: Vec<f32> = (0..250)
            .map(|i| {
                let v = (2.0 * std::f32::consts::PI * 80.0 * i as f32 / 1000.0).sin();
                v * v
            })
            .collect();
        assert!((robust_share(&sq, &[], 10, 1.0, &mut scratch) - 1.0).abs() < 1e-4);
        // Resting power 1 with one segment 100 times stronger: mean is
        // (9 + 100) / 10, median 1, share 10 / 109.
        let mut sq = vec![1.0f32; 250];
        for v in &mut sq[100..125] {
            *v = 100.0;
        }
        let s = robust_share(&sq, &[], 10, 1.0, &mut scratch);
        assert!((s - 10.0 / 109.0).abs() < 1e-5, "{s}");
    }

    #[test]
    fn the_ten_value_network_sorts_and_gives_the_sorted_median() {
        // 0-1 principle: a network that sorts every 0/1 input sorts all.
        for bits in 0u32..1 << 10 {
            let mut a = [0f32; 10];
            for (i, v) in a.iter_mut().enumerate() {
                *v = (bits >> i & 1) as f32;
            }
            let mut sorted = a;
            sorted.sort_by(f32::total_cmp);
            median_in_place(&mut a);
            assert_eq!(a, sorted, "input bits {bits:010b}");
        }
        // Against the sort on arbitrary values, ties and odd counts.
        let mut state = 7u64;
        for len in [3usize, 9, 10, 11] {
            for _ in 0..200 {
                let v: Vec<f32> = (0..len)
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                        ((state >> 40) % 13) as f32 * 0.37
                    })
                    .collect();
                let mut sorted = v.clone();
                sorted.sort_by(f32::total_cmp);
                let want = if len % 2 == 1 {
                    sorted[len / 2]
                } else {
                    0.5 * (sorted[len / 2 - 1] + sorted[len / 2])
                };
                assert_eq!(median_in_place(&mut v.clone()).to_bits(), want.to_bits());
            }
        }
    }

    #[test]
    fn wilson_hilferty_median_of_chi_square() {
        // χ²(6) has median 5.348: 5.348 / 6 = 0.8913.
        let r = noise_median_over_mean(120.0, 0.025);
        assert!((r - 0.8913).abs() < 0.002, "{r}");
    }

    #[test]
    fn bank_passes_80_hz_and_notches_mains() {
        let fs = 1000.0;
        let rms = |f: f64, v: usize| {
            let mut b = FilterBank::new(4, 10.0, (20.0, 150.0), fs).unwrap();
            let mut acc = 0.0;
            let n = 4000;
            for i in 0..n {
                let x = (2.0 * std::f64::consts::PI * f * i as f64 / fs).sin() as f32;
                let y = b.step(x)[v] as f64;
                if i >= 2000 {
                    acc += y * y;
                }
            }
            (acc / 2000.0).sqrt()
        };
        let a = std::f64::consts::FRAC_1_SQRT_2;
        assert!((rms(80.0, 0) - a).abs() < 0.02);
        assert!((rms(80.0, 1) - a).abs() < 0.05);
        assert!(rms(50.0, 1) < 0.02);
        assert!(rms(60.0, 2) < 0.02);
        assert!(rms(150.0, 1) < 0.05);
        assert!((rms(50.0, 0) - a).abs() < 0.03);
    }
}
