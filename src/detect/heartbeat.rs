//! Heartbeat residue taken out of the fine envelope by template
//! subtraction.
//!
//! A leg electrode picks up the QRS complex as a sharp deflection of tens
//! of µV once a second or so. The cell cleaning of [`super::refine`] takes
//! most of a QRS out of the fine envelope, but a QRS that falls just before
//! a burst's rise joins the burst and moves its onset tens of milliseconds
//! early (tests/burst_timing.rs). This stage learns the channel's own beat
//! from a train of alike, regularly spaced peaks over the resting signal
//! and subtracts its fitted copy wherever a later peak matches it, as ECG
//! artifact is removed from trunk and diaphragm EMG (template subtraction;
//! Drake & Callaghan 2006, J Electromyogr Kinesiol 16:175). Where no such
//! train exists the samples pass unchanged.
//!
//! It runs on the band-passed, notched samples that feed the fine cells
//! only, with a fixed delay of two template half-widths, so its output
//! depends on the samples alone, not on how they were cut into blocks.

use crate::dsp::stats::SortedWindow;

/// Half-width of the beat template, s: a band-passed QRS residue lasts
/// about 30–50 ms.
pub const BEAT_HALF_S: f64 = 0.025;
/// Largest shift of a beat against its peak when fitting the template, s:
/// noise moves a band-passed QRS's largest sample by a few milliseconds.
pub const BEAT_SHIFT_S: f64 = 0.008;
/// A candidate beat's peak over the resting RMS: rest noise exceeds five
/// times its RMS about once in two million samples.
pub const BEAT_PEAK_K: f32 = 5.0;
/// Cells of the running resting level, [`SCALE_CELL_S`] each (1.1 s).
const SCALE_CELLS: usize = 11;
/// Length of one cell of the running resting level, s.
const SCALE_CELL_S: f64 = 0.1;
/// Candidates that must agree before a template is learned.
const LOCK_BEATS: usize = 4;
/// Range of beat-to-beat intervals, s (30–180 beats per minute).
const RR_RANGE_S: (f64, f64) = (0.33, 2.0);
/// Largest relative spread of the learning candidates' intervals around
/// their median.
const RR_SPREAD: f64 = 0.15;
/// Least correlation of a candidate with the template (and of the learning
/// candidates with their mean).
const BEAT_MATCH: f32 = 0.8;
/// Range of a matching beat's fitted amplitude, times the template's.
const FIT_RANGE: (f32, f32) = (0.5, 2.0);
/// Share of the template and interval replaced by each new beat.
const TEMPLATE_WEIGHT: f32 = 0.125;
/// Least interval since the last beat, times the learned interval.
const REFRACTORY: f64 = 0.6;
/// Silence after which the template is forgotten, s.
const FORGET_S: f64 = 60.0;

/// Sum of the products of `a` and `b`, pairwise.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Index of the first of `x` whose square is at least `loud` (never for
/// NaN): eight at a time without early exit, so that the test vectorises.
fn first_loud(x: &[f32], loud: f32) -> Option<usize> {
    const LANES: usize = 8;
    let mut chunks = x.chunks_exact(LANES);
    let mut at = 0;
    for c in chunks.by_ref() {
        if c.iter().fold(false, |any, &v| any | (v * v >= loud)) {
            return c.iter().position(|&v| v * v >= loud).map(|k| at + k);
        }
        at += LANES;
    }
    let rest = chunks.remainder();
    rest.iter().position(|&v| v * v >= loud).map(|k| at + k)
}

/// The learned beat.
struct Template {
    shape: Vec<f32>,
    /// Sum of squares of `shape`.
    energy: f32,
    /// Beat-to-beat interval, samples.
    rr: f64,
    /// Absolute index of the last matched peak.
    last: u64,
}

/// Streaming template subtraction over one channel's filtered samples.
pub struct BeatRemover {
    half: usize,
    /// Largest fitting shift, samples.
    shift: usize,
    /// Samples held back: `2 * (half + shift)`.
    delay: usize,
    /// Held samples, from absolute sample `base`.
    held: Vec<f32>,
    base: u64,
    cell_n: usize,
    cell_sum: f64,
    cell_count: usize,
    /// Mean squares of the last [`SCALE_CELLS`] finite cells (ring).
    levels: Vec<f32>,
    level_next: usize,
    /// [`BEAT_PEAK_K`]² times the median of `levels`, µV², once it is
    /// full (NaN before: no sample is loud then).
    loud_ms: f32,
    /// `levels` in order, for their median.
    sorted_levels: SortedWindow,
    /// Recent candidates (absolute peak index, segment) while learning.
    candidates: Vec<(u64, Vec<f32>)>,
    template: Option<Template>,
    forget_n: u64,
    rr_n: (f64, f64),
}

impl BeatRemover {
    /// A remover for samples at `fs_hz`; `None` where the template would
    /// be under 3 samples wide.
    pub fn new(fs_hz: f64) -> Option<BeatRemover> {
        let half = (BEAT_HALF_S * fs_hz).round() as usize;
        if half < 1 {
            return None;
        }
        let shift = (BEAT_SHIFT_S * fs_hz).round() as usize;
        Some(BeatRemover {
            half,
            shift,
            delay: 2 * (half + shift),
            held: Vec::new(),
            base: 0,
            cell_n: ((SCALE_CELL_S * fs_hz).round() as usize).max(1),
            cell_sum: 0.0,
            cell_count: 0,
            levels: Vec::with_capacity(SCALE_CELLS),
            level_next: 0,
            loud_ms: f32::NAN,
            sorted_levels: SortedWindow::new(),
            candidates: Vec::new(),
            template: None,
            forget_n: (FORGET_S * fs_hz) as u64,
            rr_n: (RR_RANGE_S.0 * fs_hz, RR_RANGE_S.1 * fs_hz),
        })
    }

    /// Samples the output lags its input by.
    pub fn delay(&self) -> usize {
        self.delay
    }

    /// Takes `input` and appends to `out` every sample that no later beat
    /// can change: all but the last [`Self::delay`] received.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        let start = self.held.len();
        self.held.extend_from_slice(input);
        let mut i = start;
        while i < self.held.len() {
            // Up to the end of the current level cell: the level changes
            // only after a cell's last sample.
            let n = (self.cell_n - self.cell_count).min(self.held.len() - i);
            let piece = &self.held[i..i + n];
            self.cell_sum += piece.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>();
            self.cell_count += n;
            self.examine_range(i, i + n - 1);
            if self.cell_count == self.cell_n {
                self.end_cell();
            }
            self.examine_range(i + n - 1, i + n);
            i += n;
        }
        // Everything before the next candidate's reach is final.
        let n = self.held.len().saturating_sub(self.delay);
        out.extend_from_slice(&self.held[..n]);
        self.held.drain(..n);
        self.base += n as u64;
    }

    /// Judges, for each newest held sample `i` in `a..b`, the sample
    /// `half + shift` before it: by then every sample a fitted template
    /// can touch around it is held.
    fn examine_range(&mut self, a: usize, b: usize) {
        let reach = self.half + self.shift;
        let (mut p, end) = (a.max(2 * reach) - reach, b.saturating_sub(reach));
        // The level holds over the range (it changes only in `end_cell`).
        let loud = self.loud_ms;
        while p < end {
            // False for NaN, and while no level is known.
            match first_loud(&self.held[p..end], loud) {
                Some(k) => {
                    self.examine(p + k);
                    p += k + 1;
                }
                None => break,
            }
        }
    }

    /// Closes a level cell: the resting level is the median cell mean
    /// square over the last [`SCALE_CELLS`].
    fn end_cell(&mut self) {
        let ms = (self.cell_sum / self.cell_count as f64) as f32;
        (self.cell_sum, self.cell_count) = (0.0, 0);
        // A cell holding NaN or infinity is left out.
        if !ms.is_finite() {
            return;
        }
        if self.levels.len() < SCALE_CELLS {
            self.levels.push(ms);
        } else {
            self.sorted_levels.remove(self.levels[self.level_next]);
            self.levels[self.level_next] = ms;
            self.level_next = (self.level_next + 1) % SCALE_CELLS;
        }
        self.sorted_levels.insert(ms);
        if self.levels.len() == SCALE_CELLS {
            let v = self
                .sorted_levels
                .finite_percentile(50.0)
                .expect("a full ring");
            self.loud_ms = if v > 0.0 {
                BEAT_PEAK_K * BEAT_PEAK_K * v
            } else {
                f32::NAN
            };
        }
    }

    /// Takes the loud held sample `p` for a candidate beat where it is the
    /// largest magnitude within `half` either side.
    fn examine(&mut self, p: usize) {
        let h = self.half;
        let seg = &self.held[p - h..=p + h];
        let peak = seg[h].abs();
        // The largest magnitude, the first of equals.
        let largest =
            seg[..h].iter().all(|v| v.abs() < peak) && seg[h + 1..].iter().all(|v| v.abs() <= peak);
        if !largest {
            return;
        }
        let at = self.base + p as u64;
        if self
            .template
            .as_ref()
            .is_some_and(|t| at.saturating_sub(t.last) > self.forget_n)
        {
            self.template = None;
        }
        if self.template.is_some() {
            self.match_beat(at, p);
        } else {
            self.learn(at, seg.to_vec());
        }
    }

    /// Subtracts the fitted template from the beat peaking at `at` (held
    /// index `p`), shifted to where it fits best, where it matches; and
    /// updates the template.
    fn match_beat(&mut self, at: u64, p: usize) {
        let (h, j) = (self.half, self.shift);
        let t = self.template.as_mut().expect("matching needs a template");
        // A peak within the last beat's reach (`last` may lie up to `shift`
        // after `at`) or too soon after it.
        if (at.saturating_sub(t.last) as f64) < REFRACTORY * t.rr {
            return;
        }
        let dot_at = |q: usize| dot(&self.held[q - h..=q + h], &t.shape);
        let mut q = p - j;
        let mut best = dot_at(q);
        for c in p - j + 1..=p + j {
            let d = dot_at(c);
            if d > best {
                (q, best) = (c, d);
            }
        }
        let seg = &self.held[q - h..=q + h];
        let corr = best / (dot(seg, seg) * t.energy).sqrt();
        let fit = best / t.energy;
        if !(corr >= BEAT_MATCH && (FIT_RANGE.0..=FIT_RANGE.1).contains(&fit)) {
            return;
        }
        let at = at + q as u64 - p as u64;
        for (s, &v) in t.shape.iter_mut().zip(seg) {
            *s += TEMPLATE_WEIGHT * (v - *s);
        }
        for (v, s) in self.held[q - h..=q + h].iter_mut().zip(&t.shape) {
            *v -= fit * s;
        }
        let interval = (at - t.last) as f64;
        if interval <= 1.5 * t.rr {
            t.rr += TEMPLATE_WEIGHT as f64 * (interval - t.rr);
        }
        t.last = at;
        t.energy = dot(&t.shape, &t.shape);
    }

    /// Adds a candidate while no template is held, and learns one when the
    /// last [`LOCK_BEATS`] are alike and regularly spaced.
    fn learn(&mut self, at: u64, seg: Vec<f32>) {
        self.candidates.push((at, seg));
        if self.candidates.len() > LOCK_BEATS {
            self.candidates.remove(0);
        }
        if self.candidates.len() < LOCK_BEATS {
            return;
        }
        let mut rr: Vec<f64> = self
            .candidates
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) as f64)
            .collect();
        rr.sort_by(f64::total_cmp);
        let median = rr[rr.len() / 2];
        let regular = median >= self.rr_n.0
            && median <= self.rr_n.1
            && rr.iter().all(|&r| (r - median).abs() <= RR_SPREAD * median);
        if !regular {
            return;
        }
        let n = self.candidates[0].1.len();
        let mut mean = vec![0f32; n];
        for (_, s) in &self.candidates {
            for (m, v) in mean.iter_mut().zip(s) {
                *m += v / LOCK_BEATS as f32;
            }
        }
        let energy = dot(&mean, &mean);
        let alike = self
            .candidates
            .iter()
            .all(|(_, s)| dot(s, &mean) / (dot(s, s) * energy).sqrt() >= BEAT_MATCH);
        if alike && energy > 0.0 {
            let last = self.candidates[LOCK_BEATS - 1].0;
            self.candidates.clear();
            self.template = Some(Template {
                shape: mean,
                energy,
                rr: median,
                last,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Approximately Gaussian noise of unit variance (a fixed sequence).
    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                let mut s = 0.0;
                for _ in 0..12 {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    s += (state >> 11) as f64 / (1u64 << 53) as f64;
                }
                (s - 6.0) as f32
            })
            .collect()
    }

    /// A 20 µV Ricker QRS (σ = 6 ms) at each of `times_s`, over `n`
    /// samples.
    fn beats_at(fs: f64, n: usize, times_s: &[f64]) -> Vec<f32> {
        let mut x = vec![0f32; n];
        for &t0 in times_s {
            let i0 = ((t0 - 0.05) * fs).max(0.0) as usize;
            for (i, v) in x.iter_mut().enumerate().skip(i0) {
                let dt = i as f64 / fs - t0;
                if dt > 0.05 {
                    break;
                }
                let u = (dt / 0.006).powi(2);
                *v += (20.0 * (1.0 - u) * (-u / 2.0).exp()) as f32;
            }
        }
        x
    }

    /// Rest noise (RMS 3 µV) and a beat every `rr_s`, separately.
    fn night(fs: f64, rr_s: f64, len_s: f64) -> (Vec<f32>, Vec<f32>) {
        let n = (len_s * fs) as usize;
        let rest: Vec<f32> = noise(n, 12345).iter().map(|v| 3.0 * v).collect();
        let times: Vec<f64> = (0..)
            .map(|k| 0.3 + k as f64 * rr_s)
            .take_while(|&t| t < len_s)
            .collect();
        (rest, beats_at(fs, n, &times))
    }

    fn run(x: &[f32], fs: f64, block: usize) -> Vec<f32> {
        let mut r = BeatRemover::new(fs).unwrap();
        let mut out = Vec::new();
        for c in x.chunks(block) {
            r.process(c, &mut out);
        }
        assert_eq!(out.len(), x.len() - r.delay());
        out
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    /// RMS of what the remover left of the beats after the first 10 s
    /// (its output less the rest noise), and the beats' own RMS there.
    fn left_over(out: &[f32], rest: &[f32], beats: &[f32], fs: f64) -> (f32, f32) {
        let from = (10.0 * fs) as usize;
        let left: Vec<f32> = out[from..]
            .iter()
            .zip(&rest[from..])
            .map(|(o, r)| o - r)
            .collect();
        (rms(&left), rms(&beats[from..out.len()]))
    }

    #[test]
    fn regular_beats_are_taken_out_and_rest_is_kept() {
        let fs = 1000.0;
        let (rest, beats) = night(fs, 0.85, 60.0);
        let x: Vec<f32> = rest.iter().zip(&beats).map(|(a, b)| a + b).collect();
        let out = run(&x, fs, 4096);
        let (left, beat_rms) = left_over(&out, &rest, &beats, fs);
        assert!(left < 0.2 * beat_rms, "{left} vs {beat_rms}");
    }

    #[test]
    fn beats_with_a_varying_rhythm_are_taken_out() {
        // Intervals of 0.75-0.95 s, changing beat to beat (10 % HRV). At
        // 256 Hz this 6 ms QRS is 1.5 samples wide and falls between
        // samples differently each beat, so less of it is taken out.
        for (fs, most) in [(1000.0, 0.3), (256.0, 0.5)] {
            let len_s = 90.0;
            let n = (len_s * fs) as usize;
            let jitter = noise(200, 7);
            let mut times = vec![0.5];
            while let Some(&t) = times.last().filter(|&&t| t < len_s) {
                times.push(t + 0.85 + 0.1 * jitter[times.len()].clamp(-1.0, 1.0) as f64);
            }
            let rest: Vec<f32> = noise(n, 99).iter().map(|v| 3.0 * v).collect();
            let beats = beats_at(fs, n, &times);
            let x: Vec<f32> = rest.iter().zip(&beats).map(|(a, b)| a + b).collect();
            let out = run(&x, fs, 1000);
            let (left, beat_rms) = left_over(&out, &rest, &beats, fs);
            assert!(left < most * beat_rms, "{fs} Hz: {left} vs {beat_rms}");
        }
    }

    #[test]
    fn a_burst_over_the_beats_keeps_its_power() {
        // 30 µV RMS of broadband activity from 20 s to 25 s.
        let fs = 500.0;
        let (rest, beats) = night(fs, 0.85, 40.0);
        let burst = noise(rest.len(), 5);
        let (a, b) = ((20.0 * fs) as usize, (25.0 * fs) as usize);
        let x: Vec<f32> = (0..rest.len())
            .map(|i| {
                rest[i]
                    + beats[i]
                    + if (a..b).contains(&i) {
                        30.0 * burst[i]
                    } else {
                        0.0
                    }
            })
            .collect();
        let out = run(&x, fs, 4096);
        let ratio = rms(&out[a..b]) / rms(&x[a..b]);
        assert!((0.97..=1.01).contains(&ratio), "{ratio}");
    }

    #[test]
    fn without_beats_nothing_changes() {
        let fs = 256.0;
        let (rest, _) = night(fs, 0.85, 60.0);
        let out = run(&rest, fs, 1000);
        assert_eq!(out[..], rest[..out.len()]);
    }

    #[test]
    fn output_does_not_depend_on_the_blocks() {
        let fs = 500.0;
        let (rest, beats) = night(fs, 1.1, 30.0);
        let x: Vec<f32> = rest.iter().zip(&beats).map(|(a, b)| a + b).collect();
        assert_eq!(run(&x, fs, 7), run(&x, fs, 5000));
    }
}
