//! Accelerometer movement per window: ENMO (Euclidean norm minus one g,
//! negative values set to zero; van Hees et al. 2013), averaged over each
//! hop, in g.

use crate::score::classify::AccelSeries;

/// Streaming ENMO of three axes, averaged over hops of `hop_n` samples.
pub struct EnmoAnalyzer {
    hop_n: usize,
    acc: f64,
    count: usize,
    bad: bool,
    series: AccelSeries,
}

impl EnmoAnalyzer {
    pub fn new(fs_hz: f64, hop_s: f64) -> EnmoAnalyzer {
        let hop_n = ((hop_s * fs_hz).round() as usize).max(1);
        EnmoAnalyzer {
            hop_n,
            acc: 0.0,
            count: 0,
            bad: false,
            series: AccelSeries::whole(hop_n as f64 / fs_hz, Vec::new()),
        }
    }

    /// Feeds the same span of the three axes, in g.
    pub fn push(&mut self, x: &[f32], y: &[f32], z: &[f32]) {
        for ((&a, &b), &c) in x.iter().zip(y).zip(z) {
            let m = ((a * a + b * b + c * c) as f64).sqrt();
            if m.is_finite() {
                self.acc += (m - 1.0).max(0.0);
            } else {
                self.bad = true;
            }
            self.count += 1;
            if self.count == self.hop_n {
                self.series.enmo_g.push(if self.bad {
                    f32::NAN
                } else {
                    (self.acc / self.hop_n as f64) as f32
                });
                self.acc = 0.0;
                self.count = 0;
                self.bad = false;
            }
        }
    }

    /// The series so far: ENMO per hop, g (NaN for hops with non-finite
    /// samples); the caller may drop values it no longer needs.
    pub fn series(&mut self) -> &mut AccelSeries {
        &mut self.series
    }

    /// The series, with the values not dropped.
    pub fn finish(self) -> AccelSeries {
        self.series
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gravity_alone_reads_zero_and_extra_reads_its_size() {
        let mut e = EnmoAnalyzer::new(50.0, 0.1);
        let ones = vec![1.0f32; 10];
        let zeros = vec![0.0f32; 10];
        e.push(&zeros, &zeros, &ones);
        let up = vec![1.5f32; 10];
        e.push(&zeros, &zeros, &up);
        let s = e.finish().enmo_g;
        assert_eq!(s.len(), 4);
        assert_eq!(s[0], 0.0);
        assert!((s[3] - 0.5).abs() < 1e-6);
    }
}
