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
    clip_run: u64,
    n: u64,
    /// Sample index where the current run of identical samples began.
    run_start: u64,
    /// Runs kept for exclusion: (first sample, length, value). Only flat
    /// runs and runs at the running extremes are kept, so this stays short.
    runs: Vec<(u64, u64, f32)>,
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
    /// Time left out of detection: flat runs, and runs of at least
    /// `clip_run_samples` at the extreme values of a clipping channel, s.
    #[serde(default)]
    pub excluded_s: f64,
}

impl QualityTracker {
    pub fn new(fs_hz: f64, cfg: &QualityConfig) -> QualityTracker {
        QualityTracker {
            fs_hz,
            flat_min_run: ((cfg.flat_run_s * fs_hz).round() as u64).max(2),
            clip_min: cfg.clip_min_samples,
            clip_run: cfg.clip_run_samples.max(2),
            n: 0,
            run_start: 0,
            runs: Vec::new(),
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
        let first = self.n;
        self.n += x.len() as u64;
        // Extremes in a branch-free pass the compiler vectorises; the samples
        // sitting at an extreme are counted only when the chunk reaches it.
        const LANES: usize = 8;
        let mut lo = [f32::INFINITY; LANES];
        let mut hi = [f32::NEG_INFINITY; LANES];
        let mut ok_count = [0u32; LANES];
        let chunks = x.chunks_exact(LANES);
        let tail = chunks.remainder();
        for c in chunks {
            for j in 0..LANES {
                let v = c[j];
                // False for NaN and ±inf alike.
                let ok = v.abs() < f32::INFINITY;
                lo[j] = if ok && v < lo[j] { v } else { lo[j] };
                hi[j] = if ok && v > hi[j] { v } else { hi[j] };
                ok_count[j] += ok as u32;
            }
        }
        let mut finite = ok_count.iter().map(|&k| k as usize).sum::<usize>();
        let mut lo = lo.iter().copied().fold(f32::INFINITY, f32::min);
        let mut hi = hi.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for &v in tail {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
                finite += 1;
            }
        }
        self.nonfinite += (x.len() - finite) as u64;
        if finite > 0 {
            if hi > self.max {
                self.max = hi;
                self.n_at_max = 0;
            }
            if hi == self.max {
                self.n_at_max += x.iter().filter(|&&v| v == hi).count() as u64;
            }
            if lo < self.min {
                self.min = lo;
                self.n_at_min = 0;
            }
            if lo == self.min {
                self.n_at_min += x.iter().filter(|&&v| v == lo).count() as u64;
            }
        }
        // Runs of identical samples (NaN never equals itself, so it ends a
        // run), in locals so the loop keeps them in registers.
        // Runs kept for exclusion are flat ones and those at the extremes so
        // far (a value below the running maximum now can never be the final
        // one).
        let (mut last, mut run, mut flat) = (self.last, self.run, self.flat_samples);
        let mut run_start = self.run_start;
        let (min_run, clip_run) = (self.flat_min_run, self.clip_run);
        let (max, min) = (self.max, self.min);
        // Runs shorter than this are never kept, whatever their value.
        let short = min_run.min(clip_run);
        const CHUNK: usize = 16;
        let mut j = 0;
        while j < x.len() {
            // Fast path: a chunk in which no sample equals the one before
            // ends the current (short) run and leaves runs of one, which is
            // all a noisy signal does most of the time.
            if short > 1 && run < short && j + CHUNK <= x.len() {
                let c = &x[j..j + CHUNK];
                let mut repeat = c[0] == last;
                for k in 1..CHUNK {
                    repeat |= c[k] == c[k - 1];
                }
                if !repeat {
                    last = c[CHUNK - 1];
                    run = 1;
                    run_start = first + (j + CHUNK - 1) as u64;
                    j += CHUNK;
                    continue;
                }
            }
            let v = x[j];
            // Quantised signals repeat a value often and at random, so the
            // branch is only on the rare run worth keeping.
            let same = v == last;
            let keep =
                !same & ((run >= min_run) | ((run >= clip_run) & ((last == max) | (last == min))));
            if keep {
                if run >= min_run {
                    flat += run;
                }
                self.runs.push((run_start, run, last));
            }
            run = if same { run + 1 } else { 1 };
            run_start = if same { run_start } else { first + j as u64 };
            last = if same { last } else { v };
            j += 1;
        }
        (self.last, self.run, self.flat_samples) = (last, run, flat);
        self.run_start = run_start;
    }

    fn end_run(&mut self) {
        if self.run >= self.flat_min_run {
            self.flat_samples += self.run;
        }
        let at_extreme = self.last == self.max || self.last == self.min;
        if self.run >= self.flat_min_run || (self.run >= self.clip_run && at_extreme) {
            self.runs.push((self.run_start, self.run, self.last));
        }
        self.run = 0;
    }

    /// Runs kept so far: (first sample, length, value). Every stretch the
    /// night will leave out is one of them; at the end only the flat ones
    /// and those at the rails of a clipping channel are.
    pub fn kept_runs(&self) -> &[(u64, u64, f32)] {
        &self.runs
    }

    /// Samples before which no further run can be kept: the start of the
    /// run under way.
    pub fn settled_samples(&self) -> u64 {
        if self.run == 0 {
            self.n
        } else {
            self.run_start
        }
    }

    pub fn finish(self) -> ChannelQuality {
        self.finish_with_spans().0
    }

    /// The quality figures and the sample ranges `[start, end)` to leave
    /// out of detection (flat runs; saturation runs at the rails of a
    /// clipping channel), sorted and merged.
    pub fn finish_with_spans(self) -> (ChannelQuality, Vec<(u64, u64)>) {
        let (q, spans, _) = self.finish_checked();
        (q, spans)
    }

    /// [`finish_with_spans`](Self::finish_with_spans), and whether every run
    /// kept while streaming ([`kept_runs`](Self::kept_runs)) is left out in
    /// the end, so that leaving them all out early was exact.
    pub fn finish_checked(mut self) -> (ChannelQuality, Vec<(u64, u64)>, bool) {
        // The run under way is kept only now, after every window it meets
        // was held back.
        let kept_early = self.runs.len();
        self.end_run();
        let clip_max = self.max > self.min && self.n_at_max >= self.clip_min;
        let clip_min = self.max > self.min && self.n_at_min >= self.clip_min;
        let mut spans: Vec<(u64, u64)> = Vec::new();
        let mut all_final = true;
        for (k, &(s, len, v)) in self.runs.iter().enumerate() {
            let flat = len >= self.flat_min_run;
            let rail = len >= self.clip_run
                && ((clip_max && v == self.max) || (clip_min && v == self.min));
            all_final &= k >= kept_early || flat || rail;
            if flat || rail {
                match spans.last_mut() {
                    Some(last) if s <= last.1 => last.1 = last.1.max(s + len),
                    _ => spans.push((s, s + len)),
                }
            }
        }
        let excluded: u64 = spans.iter().map(|(a, b)| b - a).sum();
        let mut clipped = 0;
        if self.max > self.min {
            if self.n_at_max >= self.clip_min {
                clipped += self.n_at_max;
            }
            if self.n_at_min >= self.clip_min {
                clipped += self.n_at_min;
            }
        }
        let q = ChannelQuality {
            n_samples: self.n,
            duration_s: self.n as f64 / self.fs_hz,
            nonfinite_samples: self.nonfinite,
            flat_s: self.flat_samples as f64 / self.fs_hz,
            clipped_samples: clipped,
            excluded_s: excluded as f64 / self.fs_hz,
        };
        (q, spans, all_final)
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
        if self.excluded_s > 0.0 {
            f.push(format!("{channel}:excluded_s={:.1}", self.excluded_s));
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
        assert_eq!(r.flags("c").len(), 4);
        // Only the flat run is left out: the rail hits are single samples.
        assert!((r.excluded_s - 1.5).abs() < 1e-9);
    }

    #[test]
    fn saturation_runs_at_the_rails_are_left_out() {
        let cfg = QualityConfig::default();
        let mut q = QualityTracker::new(100.0, &cfg);
        let mut x: Vec<f32> = (0..2000).map(|i| 3.0 * ((i as f32) * 0.37).sin()).collect();
        for v in &mut x[500..520] {
            *v = 5.0; // 20 samples stuck at the top rail
        }
        for v in &mut x[900..904] {
            *v = -5.0; // 4 at the bottom rail...
        }
        for v in &mut x[1500..1510] {
            *v = -5.0; // ...and 10 more
        }
        x[1700] = -5.0; // a single touch is no saturation run
        q.push(&x[..510]);
        q.push(&x[510..]);
        let (r, spans) = q.finish_with_spans();
        assert_eq!(spans, vec![(500, 520), (900, 904), (1500, 1510)]);
        assert!((r.excluded_s - 0.34).abs() < 1e-9);
        assert_eq!(r.clipped_samples, 20 + 15);
    }

    /// The chunked fast path gives what the sample-by-sample path gives:
    /// one push of a whole quantised signal (repeats at random, a flat
    /// stretch, runs at both rails) against pushes of one sample, which
    /// never take the fast path.
    #[test]
    fn fast_path_matches_sample_by_sample() {
        let cfg = QualityConfig::default();
        let mut state = 7u64;
        let mut x: Vec<f32> = (0..20_000)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) % 9) as f32 - 4.0
            })
            .collect();
        for v in &mut x[3000..3200] {
            *v = 1.0;
        }
        for v in &mut x[7000..7005] {
            *v = 4.0;
        }
        for v in &mut x[9000..9003] {
            *v = -4.0;
        }
        x[12345] = f32::NAN;
        let mut whole = QualityTracker::new(100.0, &cfg);
        whole.push(&x);
        let mut single = QualityTracker::new(100.0, &cfg);
        for v in x.chunks(1) {
            single.push(v);
        }
        let (a, sa) = whole.finish_with_spans();
        let (b, sb) = single.finish_with_spans();
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_eq!(sa, sb);
        assert!(
            sa.contains(&(3000, 3200)) && sa.contains(&(7000, 7005)),
            "{sa:?}"
        );
    }
}
