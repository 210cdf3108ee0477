//! Fine cells of the signal filtered backwards in time, for offsets.
//!
//! A causal filter rings after what excites it: after a burst the mains
//! notches' narrow bands (amplitude time constant Q/(π f0), 64 ms at 50 Hz
//! with Q = 10) and the band-pass hold the fine envelope above the offset
//! level, WASM's 2 µV over rest, for tens of milliseconds, and a
//! heartbeat's tail does the same beside a burst's end. The same cascade
//! run backwards in time rings before instead. Offsets are found on the
//! lesser of the two envelopes, each smoothed first ([`super::refine`]),
//! which is free of both tails (inside a burst both read the burst);
//! onsets on the forward cells, which have no ringing before a rise.
//!
//! Streaming: the backward pass runs over blocks of [`BLOCK_WINDOWS`]
//! hops, each started at rest [`WARM_UP_S`] beyond the block's end, so a
//! block's cells are ready once that much signal after it has arrived.
//! Measured on tests/burst_timing.rs (960 bursts): with forward cells only
//! offsets were late by +0.05 s on average under hum (worst +0.196 s);
//! with these cells +0.01 to +0.03 s (worst +0.087 s).

use super::timedomain::segment_mean;
use crate::dsp::filter::SosFilter;
use crate::dsp::stats::percentile_in_place;

/// Hops per backward block: 5 s at the 0.1 s hop, so the warm-up adds a
/// tenth to the backward pass.
pub const BLOCK_WINDOWS: usize = 50;
/// Signal a backward block starts from beyond its end, s: about 8 time
/// constants of the slowest ringing (the 50 Hz notch, 64 ms), so the
/// start from rest has decayed below 1e-3 of the signal by the block.
pub const WARM_UP_S: f64 = 0.5;

/// Context the burst-end test reads before a point, s: a burst's last
/// 0.3 s (the shortest burst kept is 0.5 s).
pub const END_BEFORE_S: f64 = 0.3;
/// Context the burst-end test reads after a point, s.
pub const END_AFTER_S: f64 = 0.2;
/// Power drop that marks a possible burst end: the median cell before over
/// the median cell after. An LM reaches WASM's onset level, 8 µV over
/// rest, so its power is at least about 8 times rest's (3 µV rest: 121
/// against 9 µV²); 3 leaves room for weak tails. Medians, so that a
/// heartbeat's few cells do not count.
pub const END_DROP: f32 = 3.0;
/// Cells between the points the burst-end test is made at.
const END_STRIDE_CELLS: usize = 10;

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
    /// Samples of `raw` already used (dropped once per push, not per
    /// block, so that a long push does not move the rest once per block).
    at: usize,
    /// Windows whose cells are computed.
    done: usize,
    reversed: Vec<f32>,
    filtered: Vec<f32>,
    /// The last forward cells before the next block, for the burst-end
    /// test at its start.
    tail: Vec<f32>,
    /// Length of a cell, s.
    cell_s: f64,
    /// Blocks filtered and blocks skipped (no burst ends in them).
    pub blocks: (usize, usize),
    scratch: Vec<f32>,
    median_buf: Vec<f32>,
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
            at: 0,
            done: 0,
            reversed: Vec::new(),
            filtered: Vec::new(),
            tail: Vec::new(),
            cell_s: hop_n as f64 / fs_hz / k.max(1) as f64,
            blocks: (0, 0),
            scratch: Vec::new(),
            median_buf: Vec::new(),
        }
    }

    /// Windows whose cells are computed.
    pub fn done(&self) -> usize {
        self.done
    }

    /// Takes the next samples (µV) and appends to `out` the cells of every
    /// block that is now complete; `forward` holds the forward cells of
    /// the same windows as `out`, from its first cell on.
    pub fn push(&mut self, samples: &[f32], forward: &[f32], out: &mut Vec<f32>) {
        let skipped = self.skip.min(samples.len());
        self.skip -= skipped;
        self.raw.extend_from_slice(&samples[skipped..]);
        let block_n = BLOCK_WINDOWS * self.hop_n;
        while self.raw.len() - self.at >= block_n + self.warm_n {
            self.block(BLOCK_WINDOWS, block_n + self.warm_n, forward, out);
        }
        self.raw.drain(..self.at);
        self.at = 0;
    }

    /// Appends the cells of windows up to `n_windows` from the samples
    /// held (the last block's warm-up is what the recording has left).
    pub fn finish(&mut self, n_windows: usize, forward: &[f32], out: &mut Vec<f32>) {
        while self.done < n_windows {
            let w = (n_windows - self.done).min(BLOCK_WINDOWS);
            let avail = (self.raw.len() - self.at).min(w * self.hop_n + self.warm_n);
            if avail < w * self.hop_n {
                // Never so for windows analysed from these samples.
                out.resize(out.len() + w * self.k, f32::NAN);
                self.done += w;
                self.raw.clear();
                self.at = 0;
                continue;
            }
            self.block(w, avail, forward, out);
        }
    }

    /// Cells of the next `windows` windows from the first `len` samples
    /// held, filtered backwards; drops the windows' samples. Where no
    /// burst can end in the block ([`may_end_burst`] of the forward cells
    /// around it) the forward cells stand in: without a burst's end there
    /// is no tail to avoid, and the pass costs as much as the forward one.
    fn block(&mut self, windows: usize, len: usize, forward: &[f32], out: &mut Vec<f32>) {
        let (from, n) = (out.len(), windows * self.k);
        let after = forward.len().min(from + n + self.end_cells(END_AFTER_S));
        if forward.len() >= from + n {
            let cells = &forward[from..after];
            let tested = self.end_cells(END_BEFORE_S).min(self.tail.len());
            self.scratch.clear();
            self.scratch
                .extend_from_slice(&self.tail[self.tail.len() - tested..]);
            self.scratch.extend_from_slice(cells);
            let context = (self.end_cells(END_BEFORE_S), self.end_cells(END_AFTER_S));
            let ends = may_end_burst(&self.scratch, context, &mut self.median_buf);
            self.keep_tail(&forward[from..from + n]);
            if !ends {
                out.extend_from_slice(&forward[from..from + n]);
                self.at += windows * self.hop_n;
                self.done += windows;
                self.blocks.1 += 1;
                return;
            }
        }
        self.blocks.0 += 1;
        self.reversed.clear();
        self.reversed
            .extend(self.raw[self.at..self.at + len].iter().rev());
        self.filtered.resize(len, 0.0);
        let mut f = self.filter.clone();
        f.process_f32(&self.reversed, &mut self.filtered);
        // Back in time order, squared, as the forward cells are made.
        self.filtered.reverse();
        for v in self.filtered.iter_mut() {
            *v *= *v;
        }
        let (hop, k) = (self.hop_n, self.k);
        for w in 0..windows {
            for j in 0..k {
                let (a, b) = (w * hop + j * hop / k, w * hop + (j + 1) * hop / k);
                out.push(segment_mean(&self.filtered[a..b]));
            }
        }
        self.at += windows * hop;
        self.done += windows;
    }
}

impl BackwardCells {
    /// Cells in `s` seconds.
    fn end_cells(&self, s: f64) -> usize {
        (s / self.cell_s).round() as usize
    }

    /// Keeps the last [`END_BEFORE_S`] of `cells` for the next block.
    fn keep_tail(&mut self, cells: &[f32]) {
        let keep = self.end_cells(END_BEFORE_S);
        self.tail.extend_from_slice(cells);
        let extra = self.tail.len().saturating_sub(keep);
        self.tail.drain(..extra);
    }
}

/// Whether a burst may end among `cells` (forward mean squares): at some
/// point the median of the `before` cells before it is over [`END_DROP`]
/// times the median of the `after` cells from it on, tested every
/// [`END_STRIDE_CELLS`]; true where a cell is not finite (an excluded
/// window) or the cells are too few to tell.
pub fn may_end_burst(cells: &[f32], (before, after): (usize, usize), buf: &mut Vec<f32>) -> bool {
    if cells.len() < before + after || cells.iter().any(|v| !v.is_finite()) {
        return true;
    }
    // The median of `before` cells (element `before / 2` in order) is over
    // a level exactly when `before - before / 2` of them are: one count
    // instead of a second selection at each point.
    let need = before - before / 2;
    (before..=cells.len() - after)
        .step_by(END_STRIDE_CELLS)
        .any(|i| {
            buf.clear();
            buf.extend_from_slice(&cells[i..i + after]);
            let level = END_DROP * percentile_in_place(buf, 50.0).expect("after > 0 cells");
            cells[i - before..i].iter().filter(|&&v| v > level).count() >= need
        })
}

/// Backward cells marked NaN where the forward cells of the same windows
/// are (an excluded window), so that both read the same windows.
pub fn same_gaps(forward: &[f32], backward: &mut [f32]) {
    for (b, &f) in backward.iter_mut().zip(forward) {
        if f.is_nan() {
            *b = f32::NAN;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::design::{butter, ButterType};
    use crate::dsp::filter::Sos;

    /// The test as first written: both medians selected.
    fn may_end_burst_by_medians(cells: &[f32], (before, after): (usize, usize)) -> bool {
        if cells.len() < before + after || cells.iter().any(|v| !v.is_finite()) {
            return true;
        }
        let median = |xs: &[f32]| crate::dsp::stats::median(xs).unwrap();
        (before..=cells.len() - after)
            .step_by(END_STRIDE_CELLS)
            .any(|i| median(&cells[i - before..i]) > END_DROP * median(&cells[i..i + after]))
    }

    /// Counting cells over the level gives the medians' answer, on cells
    /// whose drops lie near the threshold (and with ties) as well.
    #[test]
    fn the_counted_end_test_is_the_median_test() {
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        let mut buf = Vec::new();
        let (mut yes, mut no) = (0, 0);
        for trial in 0..2000 {
            let n = 50 + trial % 40;
            let drop_at = trial % n;
            let scale = 1.0 + 4.0 * next();
            let cells: Vec<f32> = (0..n)
                .map(|c| {
                    // Coarse values, so that ties occur.
                    let v = (8.0 * next()).floor() + 1.0;
                    if c < drop_at {
                        v * scale
                    } else {
                        v
                    }
                })
                .collect();
            for ctx in [(30, 20), (31, 21), (4, 3)] {
                let want = may_end_burst_by_medians(&cells, ctx);
                assert_eq!(
                    may_end_burst(&cells, ctx, &mut buf),
                    want,
                    "{cells:?} {ctx:?}"
                );
                if want {
                    yes += 1
                } else {
                    no += 1
                }
            }
        }
        // Both answers were exercised.
        assert!(yes > 500 && no > 500, "{yes} {no}");
    }

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
        // No forward cells: every block is filtered.
        for c in x.chunks(777) {
            b.push(c, &[], &mut out);
        }
        let n_windows = (n - win) / hop + 1;
        b.finish(n_windows, &[], &mut out);
        assert_eq!(out.len(), n_windows * k);
        let mut rev: Vec<f32> = x.iter().rev().copied().collect();
        let mut whole = vec![0.0; n];
        lowpass(fs).process_f32(&rev.clone(), &mut whole);
        whole.reverse();
        rev.clear();
        let skip = (win - hop) / 2;
        for w in 0..n_windows - 60 {
            for j in 0..k {
                let (a, e) = (
                    skip + w * hop + j * hop / k,
                    skip + w * hop + (j + 1) * hop / k,
                );
                let ms = whole[a..e].iter().map(|v| v * v).sum::<f32>() / (e - a) as f32;
                let got = out[w * k + j];
                assert!(
                    (got - ms).abs() <= 1e-3 * ms.max(1.0),
                    "window {w} cell {j}: {got} vs {ms}"
                );
            }
        }
    }

    #[test]
    fn backward_cells_take_the_forward_gaps() {
        let mut b = [1.0, f32::NAN, 3.0, 5.0];
        same_gaps(&[2.0, 1.0, f32::NAN, 4.0], &mut b);
        assert_eq!(b[0], 1.0);
        assert!(b[1].is_nan() && b[2].is_nan());
        assert_eq!(b[3], 5.0);
    }

    #[test]
    fn only_blocks_where_a_burst_may_end_are_filtered() {
        let fs = 200.0;
        let (win, hop, k) = (50, 20, 2);
        let n = 20_000;
        let n_windows = (n - win) / hop + 1;
        let x = vec![1.0_f32; n];
        // Forward cells at rest (4 µV²) with a burst (400 µV²) ending in
        // the third block; the cells' own values mark which stood in.
        let block_cells = BLOCK_WINDOWS * k;
        let end = 2 * block_cells + 37;
        let forward: Vec<f32> = (0..n_windows * k)
            .map(|c| {
                if (end - 60..end).contains(&c) {
                    400.0
                } else {
                    4.0
                }
            })
            .collect();
        let mut b = BackwardCells::new(lowpass(fs), win, hop, k, fs);
        let mut out = Vec::new();
        for c in x.chunks(777) {
            b.push(c, &forward, &mut out);
        }
        b.finish(n_windows, &forward, &mut out);
        assert_eq!(out.len(), forward.len());
        let blocks = n_windows.div_ceil(BLOCK_WINDOWS);
        assert_eq!(b.blocks, (1, blocks - 1));
        for (c, (&o, &f)) in out.iter().zip(&forward).enumerate() {
            let filtered = (2 * block_cells..3 * block_cells).contains(&c);
            // A constant 1 µV through a low-pass reads about 1 µV².
            assert!(
                if filtered {
                    (o - 1.0).abs() < 0.05
                } else {
                    o == f
                },
                "cell {c}: {o}"
            );
        }
    }

    #[test]
    fn a_burst_end_is_a_lasting_drop_of_the_median() {
        let mut buf = Vec::new();
        let rest = vec![4.0_f32; 50];
        assert!(!may_end_burst(&rest, (30, 20), &mut buf));
        // A heartbeat: a few loud cells do not move the medians.
        let mut beat = rest.clone();
        beat[20..24].fill(900.0);
        assert!(!may_end_burst(&beat, (30, 20), &mut buf));
        let mut end = rest.clone();
        end[..28].fill(40.0);
        assert!(may_end_burst(&end, (30, 20), &mut buf));
        let mut gap = rest;
        gap[3] = f32::NAN;
        assert!(may_end_burst(&gap, (30, 20), &mut buf));
    }
}
