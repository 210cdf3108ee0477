//! Signal quality per channel, gathered while the samples stream past:
//! non-finite samples, flat stretches, clipping at the channel's extremes.

use serde::{Deserialize, Serialize};

use crate::config::QualityConfig;

/// Streaming quality counters of one channel.
#[derive(Debug, Clone)]
pub struct QualityTracker {
    fs_hz: f64,
    flat_min_run: u64,
    clip_min: u64,
    n: u64,
    nonfinite: u64,
    last: f32,
    run: u64,
    flat_samples: u64,
    max: f32,
    n_at_max: u64,
    min: f32,
    n_at_min: u64,
}

/// Quality figures of one channel over the night.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelQuality {
    pub n_samples: u64,
    pub duration_s: f64,
    /// NaN or infinite samples (excluded from detection).
    pub nonfinite_samples: u64,
    /// Time in runs of identical samples of at least `flat_run_s`, s.
    pub flat_s: f64,
    /// Samples sitting at the channel's extreme values when those repeat
    /// often enough to suggest amplifier clipping; 0 otherwise.
    pub clipped_samples: u64,
}

impl QualityTracker {
    pub fn new(fs_hz: f64, cfg: &QualityConfig) -> QualityTracker {
        QualityTracker {
            fs_hz,
            flat_min_run: ((cfg.flat_run_s * fs_hz).round() as u64).max(2),
            clip_min: cfg.clip_min_samples,
            n: 0,
            nonfinite: 0,
            last: f32::NAN,
            run: 0,
            flat_samples: 0,
            max: f32::NEG_INFINITY,
            n_at_max: 0,
            min: f32::INFINITY,
            n_at_min: 0,
        }
    }

    pub fn push(&mut self, x: &[f32]) {
        self.n += x.len() as u64;
        for &v in x {
            if !v.is_finite() {
                self.nonfinite += 1;
                self.end_run();
                self.last = f32::NAN;
                continue;
            }
            if v == self.last {
                self.run += 1;
            } else {
                self.end_run();
                self.last = v;
                self.run = 1;
            }
            if v > self.max {
                self.max = v;
                self.n_at_max = 1;
            } else if v == self.max {
                self.n_at_max += 1;
            }
            if v < self.min {
                self.min = v;
                self.n_at_min = 1;
            } else if v == self.min {
                self.n_at_min += 1;
            }
        }
    }

    fn end_run(&mut self) {
        if self.run >= self.flat_min_run {
            self.flat_samples += self.run;
        }
        self.run = 0;
    }

    pub fn finish(mut self) -> ChannelQuality {
        self.end_run();
        let mut clipped = 0;
        if self.max > self.min {
            if self.n_at_max >= self.clip_min {
                clipped += self.n_at_max;
            }
            if self.n_at_min >= self.clip_min {
                clipped += self.n_at_min;
            }
        }
        ChannelQuality {
            n_samples: self.n,
            duration_s: self.n as f64 / self.fs_hz,
            nonfinite_samples: self.nonfinite,
            flat_s: self.flat_samples as f64 / self.fs_hz,
            clipped_samples: clipped,
        }
    }
}

impl ChannelQuality {
    /// Short flags for the nights table, e.g. `emg_l:nonfinite=12`.
    pub fn flags(&self, channel: &str) -> Vec<String> {
        let mut f = Vec::new();
        if self.nonfinite_samples > 0 {
            f.push(format!("{channel}:nonfinite={}", self.nonfinite_samples));
        }
        if self.flat_s > 0.0 {
            f.push(format!("{channel}:flat_s={:.1}", self.flat_s));
        }
        if self.clipped_samples > 0 {
            f.push(format!("{channel}:clipped={}", self.clipped_samples));
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_nonfinite_flat_and_clipped() {
        let cfg = QualityConfig::default();
        let mut q = QualityTracker::new(100.0, &cfg);
        let mut x: Vec<f32> = (0..1000).map(|i| ((i as f32) * 0.37).sin()).collect();
        x[5] = f32::NAN;
        x[6] = f32::INFINITY;
        for v in &mut x[200..350] {
            *v = 0.25; // 1.5 s flat
        }
        for i in (400..600).step_by(10) {
            x[i] = 5.0; // 20 samples at the top rail
        }
        q.push(&x[..500]);
        q.push(&x[500..]);
        let r = q.finish();
        assert_eq!(r.nonfinite_samples, 2);
        assert!((r.flat_s - 1.5).abs() < 1e-9);
        assert_eq!(r.clipped_samples, 20);
        assert_eq!(r.flags("c").len(), 3);
    }
}
