//! Fine cells of the signal filtered backwards in time, for offsets.
//!
//! A causal filter rings after what excites it: after a burst the mains
//! notches' narrow bands (amplitude time constant Q/(π f0), 64 ms at 50 Hz
//! with Q = 10) and the band-pass hold the fine envelope above the offset
//! level, WASM's 2 µV over rest, for tens of milliseconds, and a
//! heartbeat's tail does the same beside a burst's end. The same cascade
//! run backwards in time rings before instead. Per fine cell the lesser of
//! the two mean squares is free of both tails (inside a burst both read the
//! burst); offsets are found on it ([`super::refine`]), onsets on the
//! forward cells, which have no ringing before a rise.
//!
//! Streaming: the backward pass runs over blocks of [`BLOCK_WINDOWS`]
//! hops, each started at rest [`WARM_UP_S`] beyond the block's end, so a
//! block's cells are ready once that much signal after it has arrived.
//! Measured on tests/burst_timing.rs (960 bursts): with forward cells only
//! offsets were late by +0.05 s on average under hum (worst +0.196 s);
//! with these cells +0.01 to +0.03 s (worst +0.087 s).

use crate::dsp::filter::SosFilter;

/// Hops per backward block: 5 s at the 0.1 s hop, so the warm-up adds a
/// tenth to the backward pass.
pub const BLOCK_WINDOWS: usize = 50;
/// Signal a backward block starts from beyond its end, s: about 8 time
/// constants of the slowest ringing (the 50 Hz notch, 64 ms), so the
/// start from rest has decayed below 1e-3 of the signal by the block.
pub const WARM_UP_S: f64 = 0.5;

/// The backward pass of one channel.
pub struct BackwardCells {
    /// The forward cascade at rest; each block runs a copy.
    filter: SosFilter,
    hop_n: usize,
    /// Fine cells per hop.
    k: usize,
    warm_n: usize,
    /// Samples still to skip before the first window's cells begin.
    skip: usize,
    /// Samples from the start of the next window's cells on.
    raw: Vec<f32>,
    /// Windows whose cells are computed.
    done: usize,
    reversed: Vec<f32>,
    filtered: Vec<f32>,
}

impl BackwardCells {
    /// A pass for `filter` (at rest), windows of `win_n` samples every
    /// `hop_n` with `k` cells per hop, at `fs_hz`.
    pub fn new(filter: SosFilter, win_n: usize, hop_n: usize, k: usize, fs_hz: f64) -> Self {
        BackwardCells {
            filter,
            hop_n,
            k,
            warm_n: (WARM_UP_S * fs_hz).round() as usize,
            // A window's cells cover the hop around its centre.
            skip: (win_n - hop_n) / 2,
            raw: Vec::new(),
            done: 0,
            reversed: Vec::new(),
            filtered: Vec::new(),
        }
    }

    /// Windows whose cells are computed.
    pub fn done(&self) -> usize {
        self.done
    }

    /// Takes the next samples (µV) and appends to `out` the cells of every
    /// block that is now complete.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<f32>) {
        let skipped = self.skip.min(samples.len());
        self.skip -= skipped;
        self.raw.extend_from_slice(&samples[skipped..]);
        let block_n = BLOCK_WINDOWS * self.hop_n;
        while self.raw.len() >= block_n + self.warm_n {
            self.block(BLOCK_WINDOWS, block_n + self.warm_n, out);
        }
    }

    /// Appends the cells of windows up to `n_windows` from the samples
    /// held (the last block's warm-up is what the recording has left).
    pub fn finish(&mut self, n_windows: usize, out: &mut Vec<f32>) {
        while self.done < n_windows {
            let w = (n_windows - self.done).min(BLOCK_WINDOWS);
            let avail = self.raw.len().min(w * self.hop_n + self.warm_n);
            if avail < w * self.hop_n {
                // Never so for windows analysed from these samples.
                out.resize(out.len() + w * self.k, f32::NAN);
                self.done += w;
                self.raw.clear();
                continue;
            }
            self.block(w, avail, out);
        }
    }

    /// Cells of the next `windows` windows from the first `len` samples
    /// held, filtered backwards; drops the windows' samples.
    fn block(&mut self, windows: usize, len: usize, out: &mut Vec<f32>) {
        self.reversed.clear();
        self.reversed.extend(self.raw[..len].iter().rev());
        self.filtered.resize(len, 0.0);
        let mut f = self.filter.clone();
        f.process_f32(&self.reversed, &mut self.filtered);
        // Sample i of the block is filtered[len - 1 - i].
        let (hop, k) = (self.hop_n, self.k);
        for w in 0..windows {
            for j in 0..k {
                let (a, b) = (w * hop + j * hop / k, w * hop + (j + 1) * hop / k);
                let ms = (a..b)
                    .map(|i| {
                        let v = self.filtered[len - 1 - i];
                        v * v
                    })
                    .sum::<f32>()
                    / (b - a) as f32;
                out.push(ms);
            }
        }
        self.raw.drain(..windows * hop);
        self.done += windows;
    }
}

/// Offset cells from forward and backward cells of the same windows: the
/// lesser of the two, NaN where either is.
pub fn lesser(forward: &[f32], backward: &mut [f32]) {
    for (b, &f) in backward.iter_mut().zip(forward) {
        *b = if f.is_nan() || b.is_nan() { f32::NAN } else { b.min(f) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::design::{butter, ButterType};
    use crate::dsp::filter::Sos;

    fn lowpass(fs: f64) -> SosFilter {
        let sos: Sos = butter(2, ButterType::Lowpass { cutoff_hz: 20.0 }, fs).unwrap();
        SosFilter::new(&sos)
    }

    /// Backward cells of a stream pushed in uneven chunks equal those of
    /// the whole signal filtered backwards at once, away from the end.
    #[test]
    fn blocks_match_one_backward_pass_of_the_whole_signal() {
        let fs = 200.0;
        let (win, hop, k) = (50, 20, 2);
        let n = 20_000;
        let x: Vec<f32> = (0..n)
            .map(|i| ((i as f32 * 0.37).sin() + (i as f32 * 0.011).cos()) * 10.0)
            .collect();
        let mut b = BackwardCells::new(lowpass(fs), win, hop, k, fs);
        let mut out = Vec::new();
        for c in x.chunks(777) {
            b.push(c, &mut out);
        }
        let n_windows = (n - win) / hop + 1;
        b.finish(n_windows, &mut out);
        assert_eq!(out.len(), n_windows * k);
        let mut rev: Vec<f32> = x.iter().rev().copied().collect();
        let mut whole = vec![0.0; n];
        lowpass(fs).process_f32(&rev.clone(), &mut whole);
        whole.reverse();
        rev.clear();
        let skip = (win - hop) / 2;
        for w in 0..n_windows - 60 {
            for j in 0..k {
                let (a, e) = (skip + w * hop + j * hop / k, skip + w * hop + (j + 1) * hop / k);
                let ms = whole[a..e].iter().map(|v| v * v).sum::<f32>() / (e - a) as f32;
                let got = out[w * k + j];
                assert!((got - ms).abs() <= 1e-3 * ms.max(1.0), "window {w} cell {j}: {got} vs {ms}");
            }
        }
    }

    #[test]
    fn lesser_keeps_nan() {
        let mut b = [1.0, f32::NAN, 3.0, 5.0];
        lesser(&[2.0, 1.0, f32::NAN, 4.0], &mut b);
        assert_eq!(b[0], 1.0);
        assert!(b[1].is_nan() && b[2].is_nan());
        assert_eq!(b[3], 4.0);
    }
}
