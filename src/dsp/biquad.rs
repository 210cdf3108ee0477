//! A second-order IIR section (transposed direct form II), used to shape
//! simulated EMG noise.

use std::f64::consts::PI;

#[derive(Debug, Clone)]
pub struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    z: [f64; 2],
}

impl Biquad {
    /// Band-pass with 0 dB peak gain at `f0_hz` and quality `q`
    /// (Bristow-Johnson, "Audio EQ Cookbook").
    pub fn bandpass(f0_hz: f64, q: f64, fs_hz: f64) -> Biquad {
        let w0 = 2.0 * PI * f0_hz / fs_hz;
        let alpha = w0.sin() / (2.0 * q);
        let a0 = 1.0 + alpha;
        Biquad {
            b: [alpha / a0, 0.0, -alpha / a0],
            a: [-2.0 * w0.cos() / a0, (1.0 - alpha) / a0],
            z: [0.0; 2],
        }
    }

    /// Filters one sample, carrying state.
    #[inline]
    pub fn step(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.z[0];
        self.z[0] = self.b[1] * x - self.a[0] * y + self.z[1];
        self.z[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bandpass_passes_centre_and_rejects_dc() {
        let fs = 1000.0;
        for (f, expect) in [(80.0, 1.0), (0.0, 0.0)] {
            let mut bq = Biquad::bandpass(80.0, 0.7, fs);
            let mut peak: f64 = 0.0;
            for i in 0..5000 {
                let x = if f == 0.0 {
                    1.0
                } else {
                    (2.0 * PI * f * i as f64 / fs).sin()
                };
                let y = bq.step(x);
                if i > 4000 {
                    peak = peak.max(y.abs());
                }
            }
            assert!((peak - expect).abs() < 0.01, "f={f} peak={peak}");
        }
    }
}
