//! Window functions.

use std::f64::consts::PI;

/// Periodic Hann window of length `n` (scipy `get_window('hann', n)`,
/// the DFT-even form used for spectral analysis).
pub fn hann_periodic(n: usize) -> Vec<f32> {
    hann_periodic_f64(n).into_iter().map(|w| w as f32).collect()
}

/// Symmetric Hann window of length `n` (scipy `hann(n, sym=True)`), for filter design.
pub fn hann_symmetric(n: usize) -> Vec<f32> {
    hann_symmetric_f64(n)
        .into_iter()
        .map(|w| w as f32)
        .collect()
}

/// [`hann_periodic`] in `f64`, for spectra that must match scipy to 1e-6.
pub fn hann_periodic_f64(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos())
        .collect()
}

/// [`hann_symmetric`] in `f64`.
pub fn hann_symmetric_f64(n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![1.0];
    }
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / (n - 1) as f64).cos())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hann_shapes() {
        let p = hann_periodic(4);
        assert_eq!(p, vec![0.0, 0.5, 1.0, 0.5]);
        let s = hann_symmetric(5);
        assert_eq!(s, vec![0.0, 0.5, 1.0, 0.5, 0.0]);
        // Sum of squares of a periodic Hann window is 3n/8 (Parseval scaling).
        let w = hann_periodic(256);
        let s2: f32 = w.iter().map(|x| x * x).sum();
        assert!((s2 - 96.0).abs() < 1e-3);
    }
}
