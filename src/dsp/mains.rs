//! Mains interference detection: 50 Hz, 60 Hz or none, decided from the
//! averaged 1 Hz-resolution spectrum of 1 s segments taken every 10 s.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::RealToComplex;

use super::window::hann_periodic;
use super::PlanCache;

/// Segment length for the mains spectrum, s (1 Hz resolution).
pub const SEGMENT_S: f64 = 1.0;
/// One segment is analysed per this many seconds of signal.
pub const PERIOD_S: f64 = 10.0;

/// Streaming accumulator of the average power spectrum of one channel.
pub struct MainsEstimator {
    fs_hz: f64,
    seg_n: usize,
    period_n: usize,
    pos: usize,
    buf: Vec<f32>,
    bad: bool,
    window: Vec<f32>,
    plan: Arc<dyn RealToComplex<f32>>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    accum: Vec<f64>,
    segments: u32,
}

/// What the estimator saw: peak-to-neighbourhood power ratios.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MainsRatios {
    pub r50: f64,
    pub r60: f64,
}

impl MainsEstimator {
    pub fn new(fs_hz: f64, plans: &PlanCache) -> MainsEstimator {
        let seg_n = ((SEGMENT_S * fs_hz).round() as usize).max(16);
        let period_n = ((PERIOD_S * fs_hz).round() as usize).max(seg_n);
        let plan = plans.forward(seg_n);
        MainsEstimator {
            fs_hz,
            seg_n,
            period_n,
            pos: 0,
            buf: Vec::with_capacity(seg_n),
            bad: false,
            window: hann_periodic(seg_n),
            spectrum: plan.make_output_vec(),
            scratch: plan.make_scratch_vec(),
            accum: vec![0.0; seg_n / 2 + 1],
            plan,
            segments: 0,
        }
    }

    pub fn push(&mut self, mut x: &[f32]) {
        while !x.is_empty() {
            if self.pos < self.seg_n {
                let take = (self.seg_n - self.pos).min(x.len());
                for &v in &x[..take] {
                    self.bad |= !v.is_finite();
                    self.buf.push(v);
                }
                self.pos += take;
                x = &x[take..];
                if self.pos == self.seg_n {
                    self.analyse_segment();
                }
            } else {
                let skip = (self.period_n - self.pos).min(x.len());
                self.pos += skip;
                x = &x[skip..];
            }
            if self.pos >= self.period_n {
                self.pos = 0;
            }
        }
    }

    fn analyse_segment(&mut self) {
        if !self.bad {
            for (v, w) in self.buf.iter_mut().zip(&self.window) {
                *v *= w;
            }
            if self
                .plan
                .process_with_scratch(&mut self.buf, &mut self.spectrum, &mut self.scratch)
                .is_ok()
            {
                for (a, s) in self.accum.iter_mut().zip(&self.spectrum) {
                    *a += s.norm_sqr() as f64;
                }
                self.segments += 1;
            }
        }
        self.buf.clear();
        self.bad = false;
    }

    /// Peak ratios at 50 and 60 Hz (fundamental or third harmonic, whichever
    /// stands out more); `None` before the first whole segment.
    pub fn ratios(&self) -> Option<MainsRatios> {
        if self.segments == 0 {
            return None;
        }
        Some(MainsRatios {
            r50: self.family_ratio(50.0),
            r60: self.family_ratio(60.0),
        })
    }

    fn family_ratio(&self, f0: f64) -> f64 {
        [f0, 3.0 * f0]
            .iter()
            .filter(|&&f| f + 8.0 < self.fs_hz / 2.0)
            .map(|&f| self.peak_ratio(f))
            .fold(0.0, f64::max)
    }

    /// Power at `f` (max of the three nearest bins) over the median of the
    /// bins 3–8 Hz away on both sides.
    fn peak_ratio(&self, f: f64) -> f64 {
        let df = self.fs_hz / self.seg_n as f64;
        let k = (f / df).round() as usize;
        let peak = self.accum[k - 1..=k + 1]
            .iter()
            .cloned()
            .fold(0.0, f64::max);
        let mut neigh: Vec<f64> = self
            .accum
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                let d = (*i as f64 * df - f).abs();
                (3.0..=8.0).contains(&d)
            })
            .map(|(_, &p)| p)
            .collect();
        if neigh.is_empty() {
            return 0.0;
        }
        neigh.sort_by(f64::total_cmp);
        let med = neigh[neigh.len() / 2];
        if med > 0.0 {
            peak / med
        } else if peak > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    }
}

/// Decides the mains frequency from several channels' ratios: the family
/// whose mean ratio is larger, if it exceeds `threshold`.
pub fn decide(ratios: &[MainsRatios], threshold: f64) -> Option<u32> {
    if ratios.is_empty() {
        return None;
    }
    let n = ratios.len() as f64;
    let r50 = ratios.iter().map(|r| r.r50.min(1e12)).sum::<f64>() / n;
    let r60 = ratios.iter().map(|r| r.r60.min(1e12)).sum::<f64>() / n;
    if r50.max(r60) < threshold {
        None
    } else if r50 >= r60 {
        Some(50)
    } else {
        Some(60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    fn detect(mains_hz: Option<f64>, fs: f64) -> Option<u32> {
        let plans = PlanCache::new();
        let mut est = MainsEstimator::new(fs, &plans);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let x: Vec<f32> = (0..(120.0 * fs) as usize)
            .map(|i| {
                let t = i as f64 / fs;
                let noise: f64 = rng.random_range(-5.0..5.0);
                let hum =
                    mains_hz.map_or(0.0, |f| 3.0 * (2.0 * std::f64::consts::PI * f * t).sin());
                (noise + hum) as f32
            })
            .collect();
        for chunk in x.chunks(777) {
            est.push(chunk);
        }
        decide(&[est.ratios().unwrap()], 6.0)
    }

    #[test]
    fn mains_is_found_at_50_and_60_and_not_in_clean_noise() {
        assert_eq!(detect(Some(50.0), 1000.0), Some(50));
        assert_eq!(detect(Some(60.0), 1000.0), Some(60));
        assert_eq!(detect(Some(60.0), 256.0), Some(60));
        assert_eq!(detect(None, 1000.0), None);
    }
}
