//! Accelerometer movement per window: ENMO (Euclidean norm minus one g,
//! negative values set to zero; van Hees et al. 2013), averaged over each
//! hop, in g.

/// Accelerometer movement series of the night, or the part of it kept.
#[derive(Debug, Clone)]
pub struct AccelSeries {
    /// Spacing, s; value `k` covers `[k, k+1) * hop_s`.
    pub hop_s: f64,
    /// Night index of the first value held: 0 for the whole series, more
    /// once the stream has dropped values no episode can need.
    pub first_index: usize,
    pub enmo_g: Vec<f32>,
}

impl AccelSeries {
    /// A whole night's series.
    pub fn whole(hop_s: f64, enmo_g: Vec<f32>) -> AccelSeries {
        AccelSeries {
            hop_s,
            first_index: 0,
            enmo_g,
        }
    }

    /// Night indices `[a, b)` of the values over `[t0, t1]`, clamped to the
    /// values held.
    fn bounds(&self, t0: f64, t1: f64) -> (usize, usize) {
        let end = self.first_index + self.enmo_g.len();
        let a = ((t0.max(0.0) / self.hop_s).floor() as usize).min(end);
        let b = ((t1.max(0.0) / self.hop_s).ceil() as usize).clamp(a, end);
        debug_assert!(
            a >= self.first_index || a == b,
            "ENMO before {} s was dropped",
            self.first_index as f64 * self.hop_s
        );
        let a = a.max(self.first_index);
        (a, b.max(a))
    }

    fn range(&self, t0: f64, t1: f64) -> &[f32] {
        let (a, b) = self.bounds(t0, t1);
        &self.enmo_g[a - self.first_index..b - self.first_index]
    }

    /// The values over `[t0, t1]` as a series of their own: every query
    /// within `[t0, t1]` answers as on `self`.
    pub fn cut(&self, t0: f64, t1: f64) -> AccelSeries {
        let (a, _) = self.bounds(t0, t1);
        AccelSeries {
            hop_s: self.hop_s,
            first_index: a,
            enmo_g: self.range(t0, t1).to_vec(),
        }
    }

    /// Time up to which values are known, s.
    pub fn covered_s(&self) -> f64 {
        (self.first_index + self.enmo_g.len()) as f64 * self.hop_s
    }

    /// Drops the values before night index `k`.
    pub fn drop_before(&mut self, k: usize) {
        let n = k.saturating_sub(self.first_index).min(self.enmo_g.len());
        self.enmo_g.drain(..n);
        self.first_index += n;
    }

    /// Mean ENMO over `[t0, t1]`, g; `None` without finite data there.
    pub fn mean(&self, t0: f64, t1: f64) -> Option<f64> {
        let (s, n) = self
            .range(t0, t1)
            .iter()
            .filter(|v| v.is_finite())
            .fold((0.0, 0usize), |(s, n), &v| (s + v as f64, n + 1));
        (n > 0).then(|| s / n as f64)
    }

    /// Share of the finite ENMO values over `[t0, t1]` at or above `g`;
    /// 0 without data there.
    pub fn fraction_at_least(&self, t0: f64, t1: f64, g: f64) -> f64 {
        let (hit, n) = self
            .range(t0, t1)
            .iter()
            .filter(|v| v.is_finite())
            .fold((0usize, 0usize), |(h, n), &v| {
                (h + (v as f64 >= g) as usize, n + 1)
            });
        if n == 0 {
            0.0
        } else {
            hit as f64 / n as f64
        }
    }

    /// Largest ENMO over `[t0, t1]`, g.
    pub fn max(&self, t0: f64, t1: f64) -> Option<f64> {
        self.range(t0, t1)
            .iter()
            .filter(|v| v.is_finite())
            .map(|&v| v as f64)
            .reduce(f64::max)
    }
}

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
