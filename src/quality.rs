//! Signal quality per channel, gathered while the samples stream past:
//! non-finite samples, flat stretches, clipping at the channel's extremes,
//! repeated samples in a fixed pattern (upsampled input), and the figures
//! that say when the detector's rules cannot hold on a channel: a resting
//! EMG that is not quiet, amplitudes implausible for the declared unit.

use serde::{Deserialize, Serialize};

use crate::config::{Config, DetectorConfig, QualityConfig};

/// Phases of the counters of equal consecutive samples: the least common
/// multiple of 2..=[`UPSAMPLE_MAX_PERIOD`], so that the counts of every
/// repeat period up to it fold out of them.
const PHASES: usize = 840;
/// Longest repeat pattern looked for, samples: a signal held 8 times is one
/// taken at an eighth of the file's rate.
pub const UPSAMPLE_MAX_PERIOD: usize = 8;
/// Fewest sample pairs per phase of a pattern for the pattern to be judged.
const UPSAMPLE_MIN_PAIRS: u64 = 100;

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
    /// Equal consecutive pairs ending at sample `i`, by `i % PHASES`.
    repeats: Box<[u64; PHASES]>,
    /// `n % PHASES`: the phase of the next sample.
    phase: usize,
    repeat_min: f64,
    fresh_max: f64,
    /// Whether a finite sample that is not a whole number was seen.
    non_integer: bool,
    /// The first finite sample: sums are taken about it, so a large offset
    /// costs no precision.
    shift: Option<f32>,
    sum: f64,
    sum_sq: f64,
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
    /// Share of consecutive sample pairs that are equal, 0–1.
    #[serde(default)]
    pub repeat_fraction: f64,
    /// When the equal pairs follow a fixed pattern (each sample held k
    /// times, or one in every k repeated): the rate the samples had before
    /// that, Hz; `None` otherwise.
    #[serde(default)]
    pub apparent_fs_hz: Option<f64>,
    /// Whether every finite sample is a whole number (in the channel's unit
    /// after conversion: µV or g).
    #[serde(default)]
    pub integer_samples: bool,
    /// Mean and standard deviation of the finite samples, in the channel's
    /// unit (µV or g).
    #[serde(default)]
    pub mean_value: f64,
    #[serde(default)]
    pub sd_value: f64,
}

/// What one vectorised pass over a block finds: the finite extremes and
/// count, the sums about `shift`, and (when `WHOLE`) whether a finite
/// sample is not a whole number.
struct SamplePass {
    lo: f32,
    hi: f32,
    finite: usize,
    sum: f64,
    sum_sq: f64,
    fractional: bool,
}

impl SamplePass {
    fn over<const WHOLE: bool>(x: &[f32], shift: f32) -> Self {
        // Extremes in a branch-free pass the compiler vectorises; the samples
        // sitting at an extreme are counted only when the chunk reaches it.
        const LANES: usize = 8;
        // Sums in f32 lanes over stretches short enough to keep their
        // precision (a few parts in 10^5 at worst), then in f64.
        const STRETCH: usize = 128;
        let mut lo = [f32::INFINITY; LANES];
        let mut hi = [f32::NEG_INFINITY; LANES];
        let mut ok_count = [0u32; LANES];
        let mut fractional = [false; LANES];
        let (mut sum, mut sum_sq) = (0f64, 0f64);
        let mut lane_sum = [0f32; LANES];
        let mut lane_sq = [0f32; LANES];
        let chunks = x.chunks_exact(LANES);
        let tail = chunks.remainder();
        for (k, c) in chunks.enumerate() {
            for j in 0..LANES {
                let v = c[j];
                // False for NaN and ±inf alike.
                let ok = v.abs() < f32::INFINITY;
                lo[j] = if ok && v < lo[j] { v } else { lo[j] };
                hi[j] = if ok && v > hi[j] { v } else { hi[j] };
                ok_count[j] += ok as u32;
                let d = if ok { v - shift } else { 0.0 };
                lane_sum[j] += d;
                lane_sq[j] += d * d;
                if WHOLE {
                    fractional[j] |= ok & !is_whole(v);
                }
            }
            if k % STRETCH == STRETCH - 1 {
                sum += lane_sum.iter().map(|&v| v as f64).sum::<f64>();
                sum_sq += lane_sq.iter().map(|&v| v as f64).sum::<f64>();
                lane_sum = [0.0; LANES];
                lane_sq = [0.0; LANES];
            }
        }
        sum += lane_sum.iter().map(|&v| v as f64).sum::<f64>();
        sum_sq += lane_sq.iter().map(|&v| v as f64).sum::<f64>();
        let mut p = SamplePass {
            lo: lo.iter().copied().fold(f32::INFINITY, f32::min),
            hi: hi.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            finite: ok_count.iter().map(|&k| k as usize).sum::<usize>(),
            sum,
            sum_sq,
            fractional: fractional.iter().any(|&f| f),
        };
        for &v in tail.iter().filter(|v| v.is_finite()) {
            p.lo = p.lo.min(v);
            p.hi = p.hi.max(v);
            p.finite += 1;
            let d = (v - shift) as f64;
            p.sum += d;
            p.sum_sq += d * d;
            p.fractional |= WHOLE && !is_whole(v);
        }
        p
    }
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
            repeats: Box::new([0; PHASES]),
            phase: 0,
            repeat_min: cfg.upsampled_repeat_min,
            fresh_max: cfg.upsampled_fresh_max,
            non_integer: false,
            shift: None,
            sum: 0.0,
            sum_sq: 0.0,
        }
    }

    pub fn push(&mut self, x: &[f32]) {
        let first = self.n;
        self.n += x.len() as u64;
        if self.shift.is_none() {
            self.shift = x.iter().copied().find(|v| v.is_finite());
        }
        let shift = self.shift.unwrap_or(0.0);
        // Once a fraction is seen the whole-number test is done with.
        let p = if self.non_integer {
            SamplePass::over::<false>(x, shift)
        } else {
            SamplePass::over::<true>(x, shift)
        };
        let (lo, hi, finite) = (p.lo, p.hi, p.finite);
        self.sum += p.sum;
        self.sum_sq += p.sum_sq;
        self.non_integer |= p.fractional;
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
        // Equal pairs are also counted by the phase of their second sample,
        // for the repeat patterns of an upsampled signal.
        let mut phase = self.phase;
        let repeats = &mut *self.repeats;
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
                    phase = (phase + CHUNK) % PHASES;
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
            repeats[phase] += same as u64;
            phase = if phase + 1 == PHASES { 0 } else { phase + 1 };
            j += 1;
        }
        (self.last, self.run, self.flat_samples) = (last, run, flat);
        self.run_start = run_start;
        self.phase = phase;
    }

    /// The rate before upsampling, Hz, when the equal consecutive pairs
    /// follow a pattern of period 2..=[`UPSAMPLE_MAX_PERIOD`]: in each
    /// period some phases repeat the sample before (at least
    /// `upsampled_repeat_min` of their pairs equal) and the others are
    /// fresh (under `upsampled_fresh_max`). A sample held k times gives
    /// `fs / k`; one repeated in every k gives `fs (k - 1) / k`. Of the
    /// periods that fit (a multiple of the true one fits too), the lowest
    /// rate wins: a signal held 4 times also looks held twice, at a higher
    /// rate, when its fresh samples often repeat by chance.
    fn apparent_rate_hz(&self) -> Option<f64> {
        let mut best: Option<f64> = None;
        for period in 2..=UPSAMPLE_MAX_PERIOD {
            let mut equal = vec![0u64; period];
            for (p, &k) in self.repeats.iter().enumerate() {
                equal[p % period] += k;
            }
            // Pairs ending at sample i, for i in 1..n, with i % period == p.
            let pairs = |p: usize| {
                let n = self.n;
                let p = p as u64;
                let ends = |m: u64| (m + period as u64 - 1 - p) / period as u64;
                ends(n) - ends(1)
            };
            let mut repeated = 0;
            let mut fits = true;
            for (p, &e) in equal.iter().enumerate() {
                let m = pairs(p);
                if m < UPSAMPLE_MIN_PAIRS {
                    fits = false;
                    break;
                }
                let share = e as f64 / m as f64;
                if share >= self.repeat_min {
                    repeated += 1;
                } else if share >= self.fresh_max {
                    fits = false;
                }
            }
            if fits && repeated > 0 && repeated < period {
                let rate = self.fs_hz * (period - repeated) as f64 / period as f64;
                if best.is_none_or(|b| rate < b) {
                    best = Some(rate);
                }
            }
        }
        best
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
        let finite = self.n - self.nonfinite;
        let (mean, sd) = if finite > 0 {
            let m = self.sum / finite as f64;
            let var = (self.sum_sq / finite as f64 - m * m).max(0.0);
            (m + self.shift.unwrap_or(0.0) as f64, var.sqrt())
        } else {
            (0.0, 0.0)
        };
        let repeated: u64 = self.repeats.iter().sum();
        let q = ChannelQuality {
            n_samples: self.n,
            duration_s: self.n as f64 / self.fs_hz,
            nonfinite_samples: self.nonfinite,
            flat_s: self.flat_samples as f64 / self.fs_hz,
            clipped_samples: clipped,
            excluded_s: excluded as f64 / self.fs_hz,
            repeat_fraction: if self.n > 1 {
                round_to(repeated as f64 / (self.n - 1) as f64, 4)
            } else {
                0.0
            },
            apparent_fs_hz: self.apparent_rate_hz().map(|r| round_to(r, 3)),
            integer_samples: finite > 0 && !self.non_integer,
            mean_value: round_to(mean, 6),
            sd_value: round_to(sd, 6),
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

/// Whether `v` (finite) is a whole number: adding and taking away 2^23
/// rounds it to one, in two operations the compiler vectorises (every
/// `f32` of magnitude 2^23 or more is whole).
#[inline]
fn is_whole(v: f32) -> bool {
    const BIG: f32 = 8_388_608.0;
    let a = v.abs();
    (a >= BIG) | ((a + BIG) - BIG == a)
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// Bins per decade of the histogram of window activity.
const LEVEL_BINS_PER_DECADE: f64 = 20.0;
/// Lower edge of the histogram's first regular bin, log10 µV (0.1 nV):
/// far below any EMG, so a channel read 10^6 times too small still lands
/// inside.
const LEVEL_LOG10_MIN: f64 = -4.0;
/// Regular bins: from 10^-4 to 10^6 µV; one bin below and one above.
const LEVEL_BINS: usize = 200;

/// Per-window counts of one EMG channel behind the resting-EMG and unit
/// checks, gathered by the streaming detector as each window meets its
/// baseline (`detect::stream`).
#[derive(Debug, Clone, PartialEq)]
pub struct RestCounts {
    relative: bool,
    offset: f32,
    cap: f32,
    floor: f32,
    /// Windows with finite activity.
    pub valid_windows: u64,
    /// Valid windows above the offset level: baseline + `offset_below_uv`,
    /// or baseline × `offset_ratio` in relative mode.
    pub above_offset: u64,
    /// Valid windows whose baseline sits at its cap.
    pub baseline_at_cap: u64,
    /// Valid windows whose baseline sits at its floor.
    pub baseline_at_floor: u64,
    /// Windows inside detected episodes (hysteresis spans).
    pub episode_windows: u64,
    /// Valid windows by activity: [`LEVEL_BINS_PER_DECADE`] bins a decade
    /// from 10^[`LEVEL_LOG10_MIN`] µV, with one bin below and one above.
    levels: Vec<u64>,
}

impl RestCounts {
    pub fn new(cfg: &DetectorConfig) -> RestCounts {
        let relative = cfg.threshold_mode == "relative";
        RestCounts {
            relative,
            offset: if relative {
                cfg.offset_ratio
            } else {
                cfg.offset_below_uv
            } as f32,
            cap: cfg.baseline_cap_uv as f32,
            floor: cfg.baseline_floor_uv as f32,
            valid_windows: 0,
            above_offset: 0,
            baseline_at_cap: 0,
            baseline_at_floor: 0,
            episode_windows: 0,
            levels: vec![0; LEVEL_BINS + 2],
        }
    }

    /// Counts a window of activity `activity_uv` whose resting baseline is
    /// `baseline_uv`; NaN activity (a left-out window) is not counted.
    #[inline]
    pub fn window(&mut self, activity_uv: f32, baseline_uv: f32) {
        if !activity_uv.is_finite() {
            return;
        }
        self.valid_windows += 1;
        let level = if self.relative {
            baseline_uv * self.offset
        } else {
            baseline_uv + self.offset
        };
        self.above_offset += (activity_uv > level) as u64;
        self.baseline_at_cap += (baseline_uv >= self.cap) as u64;
        self.baseline_at_floor += (baseline_uv <= self.floor) as u64;
        let bin = if activity_uv > 0.0 {
            let x = ((activity_uv as f64).log10() - LEVEL_LOG10_MIN) * LEVEL_BINS_PER_DECADE;
            (x.floor() + 1.0).clamp(0.0, (LEVEL_BINS + 1) as f64) as usize
        } else {
            0
        };
        self.levels[bin] += 1;
    }

    /// Counts a detected episode of `windows` windows.
    pub fn episode(&mut self, windows: usize) {
        self.episode_windows += windows as u64;
    }

    /// The `p`-th percentile (0–100, nearest rank) of the valid windows'
    /// activity, µV, to the histogram's resolution (the geometric centre of
    /// a bin 12 % wide); `None` without valid windows.
    pub fn activity_percentile_uv(&self, p: f64) -> Option<f64> {
        if self.valid_windows == 0 {
            return None;
        }
        let k = ((p / 100.0) * (self.valid_windows - 1) as f64).round() as u64;
        let mut seen = 0;
        let bin = self.levels.iter().position(|&c| {
            seen += c;
            seen > k
        })?;
        let edge = |b: f64| 10f64.powf(LEVEL_LOG10_MIN + b / LEVEL_BINS_PER_DECADE);
        Some(match bin {
            0 => edge(0.0),
            b if b == LEVEL_BINS + 1 => edge(LEVEL_BINS as f64),
            b => edge(b as f64 - 0.5),
        })
    }

    /// The figures of the counts for windows `hop_s` apart.
    pub fn figures(&self, hop_s: f64) -> RestFigures {
        let share = |k: u64| {
            if self.valid_windows > 0 {
                round_to(k as f64 / self.valid_windows as f64, 4)
            } else {
                0.0
            }
        };
        let level = |p| self.activity_percentile_uv(p).map(sig3);
        RestFigures {
            analysed_s: round_to(self.valid_windows as f64 * hop_s, 3),
            above_offset_fraction: share(self.above_offset),
            episode_fraction: share(self.episode_windows.min(self.valid_windows)),
            baseline_at_cap_fraction: share(self.baseline_at_cap),
            baseline_at_floor_fraction: share(self.baseline_at_floor),
            activity_p10_uv: level(10.0),
            activity_p50_uv: level(50.0),
            activity_p90_uv: level(90.0),
        }
    }
}

/// `x` to three significant digits.
fn sig3(x: f64) -> f64 {
    sig(x, 3)
}

/// `x` to `digits` significant digits.
fn sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let d = digits - 1 - x.abs().log10().floor() as i32;
    round_to(x, d)
}

/// How the resting EMG of one channel behaved over the night: the figures
/// behind the `rest_not_quiet` and `unit_suspect` checks (night JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestFigures {
    /// Time with valid windows, s.
    pub analysed_s: f64,
    /// Share of valid windows above the offset level (resting baseline +
    /// the WASM 2 µV offset, or × the relative offset ratio), 0–1.
    pub above_offset_fraction: f64,
    /// Share of the analysed time inside detected episodes, 0–1.
    pub episode_fraction: f64,
    /// Share of valid windows whose baseline is at its cap, 0–1.
    pub baseline_at_cap_fraction: f64,
    /// Share of valid windows whose baseline is at its floor, 0–1.
    pub baseline_at_floor_fraction: f64,
    /// 10th, 50th and 90th percentiles of the windows' band RMS, µV (to
    /// 12 %), unclamped: the 10th is the resting level the baseline would
    /// have without its floor and cap.
    pub activity_p10_uv: Option<f64>,
    pub activity_p50_uv: Option<f64>,
    pub activity_p90_uv: Option<f64>,
}

/// A quality flag for `nights.csv` and the warning that explains it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// E.g. `emg_l:rest_not_quiet`.
    pub flag: String,
    /// The figures and what to try.
    pub warning: String,
}

/// The checks that say when the rules cannot hold on an EMG channel:
/// upsampled input, a unit that does not fit the amplitudes, a resting EMG
/// that is not quiet. `source_unit` is the unit the channel was declared
/// in; `rest` the detector's figures (`None` when it did not run).
pub fn emg_findings(
    channel: &str,
    source_unit: &str,
    fs_hz: f64,
    q: &ChannelQuality,
    rest: Option<&RestFigures>,
    cfg: &Config,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(rate) = q.apparent_fs_hz {
        out.push(upsampled_finding(channel, fs_hz, rate, q.repeat_fraction));
    }
    out.extend(unit_finding(channel, source_unit, q, rest, cfg));
    // Amplitudes in the wrong unit put the rest anywhere against the µV
    // levels: the unit warning says why, the rest's would mislead.
    if let Some(r) = rest.filter(|r| amplitude_off(r, &cfg.quality).is_none()) {
        out.extend(rest_finding(channel, r, cfg));
    }
    out
}

/// Amplitudes implausible for µV: too small or too large.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Off {
    Small,
    Large,
}

/// Whether a channel's band RMS is implausible for µV: 90 % of windows
/// under `unit_small_uv`, or a resting level (10th percentile) over
/// `unit_large_uv`.
fn amplitude_off(r: &RestFigures, qc: &QualityConfig) -> Option<Off> {
    match (r.activity_p10_uv, r.activity_p90_uv) {
        (_, Some(p90)) if p90 < qc.unit_small_uv => Some(Off::Small),
        (Some(p10), _) if p10 > qc.unit_large_uv => Some(Off::Large),
        _ => None,
    }
}

fn pct(x: f64) -> String {
    format!("{:.0} %", 100.0 * x)
}

fn upsampled_finding(channel: &str, fs_hz: f64, rate_hz: f64, repeat: f64) -> Finding {
    Finding {
        flag: format!("{channel}:upsampled"),
        warning: format!(
            "{channel}: samples repeat in a fixed pattern ({} of consecutive pairs equal): \
             the signal looks upsampled from about {} Hz to {} Hz by repeating samples; \
             its spectrum above {} Hz is copies, not EMG, and the band's amplitudes are off \
             by the hold's roll-off — use the recording at its original rate",
            pct(repeat),
            sig3(rate_hz),
            sig3(fs_hz),
            sig3(rate_hz / 2.0),
        ),
    }
}

/// Name of the unit whose factor to µV is `f` (1e-3, 1, 1e3, 1e6).
fn unit_named(f: f64) -> Option<&'static str> {
    [(1e-3, "nV"), (1.0, "uV"), (1e3, "mV"), (1e6, "V")]
        .iter()
        .find(|(k, _)| (f / k - 1.0).abs() < 1e-6)
        .map(|&(_, n)| n)
}

fn unit_finding(
    channel: &str,
    source_unit: &str,
    q: &ChannelQuality,
    rest: Option<&RestFigures>,
    cfg: &Config,
) -> Option<Finding> {
    let qc = &cfg.quality;
    let declared = crate::recording::unit_scale(crate::recording::ChannelKind::Emg, source_unit)
        .unwrap_or(1.0);
    let declared_name = unit_named(declared).unwrap_or("uV");
    let flag = format!("{channel}:unit_suspect");
    let finite = q.n_samples - q.nonfinite_samples;
    let mut says = Vec::new();
    if q.integer_samples
        && finite >= 1000
        && q.mean_value.abs() > 0.0
        && q.mean_value.abs() >= qc.adc_offset_ratio_min * q.sd_value
    {
        let mid = 2f64.powf(q.mean_value.abs().log2().round());
        let centred = if (q.mean_value.abs() / mid - 1.0).abs() < 0.1 {
            format!(
                " (a {}-bit ADC is centred at {mid})",
                mid.log2().round() as i32 + 1
            )
        } else {
            String::new()
        };
        says.push(format!(
            "looks like raw ADC counts with an offset read as {declared_name}: every sample is a \
             whole number, with mean {} against a spread (SD) of {}{centred}; give the \
             converter's gain ({declared_name} per count) and offset (minus the mid-scale count) \
             in a <stem>_channels.tsv sidecar",
            sig(q.mean_value, 5),
            sig3(q.sd_value),
        ));
    }
    if let Some(r) = rest {
        let (Some(p10), Some(p50), Some(p90)) =
            (r.activity_p10_uv, r.activity_p50_uv, r.activity_p90_uv)
        else {
            return finding(flag, channel, says);
        };
        let off = amplitude_off(r, qc);
        if off == Some(Off::Small) {
            let fit = [1e3, 1e6].into_iter().find(|f| p50 * f >= qc.unit_small_uv);
            let try_unit = fit.and_then(|f| unit_named(declared * f).map(|u| (f, u)));
            let advice = match try_unit {
                Some((f, u)) => format!(
                    "read as {u} they would be {} µV (median), a plausible EMG: values look like \
                     {u}; try unit = {u}",
                    sig3(p50 * f)
                ),
                None => "no unit makes them plausible; check the gain".to_string(),
            };
            says.push(format!(
                "amplitudes implausibly small for {declared_name}: 90 % of windows read a band \
                 RMS below {} µV (median {} µV), under any amplifier's noise, with the baseline \
                 at its {} µV floor for {} of windows; {advice}",
                sig3(p90),
                sig3(p50),
                cfg.detector.baseline_floor_uv,
                pct(r.baseline_at_floor_fraction),
            ));
        } else if off == Some(Off::Large) {
            let fit = [1e-3, 1e-6]
                .into_iter()
                .find(|f| p10 * f <= qc.unit_large_uv);
            // Nothing smaller than µV is a recording's unit: a µV channel
            // resting this high is a loose electrode or a wrong gain.
            let try_unit = fit
                .filter(|f| declared * f >= 1.0 - 1e-9)
                .and_then(|f| unit_named(declared * f).map(|u| (f, u)));
            let advice = match try_unit {
                Some((f, u)) => format!(
                    "read as {u} it would be {} µV: values look like {u}; try unit = {u}",
                    sig3(p10 * f)
                ),
                None => {
                    "no unit makes it plausible; check electrode contact and the gain".to_string()
                }
            };
            says.push(format!(
                "amplitudes implausibly large for {declared_name}: the resting level (10th \
                 percentile of band RMS) is {} µV, where leg EMG rests under about 10 µV; {advice}",
                sig3(p10),
            ));
        }
    }
    finding(flag, channel, says)
}

fn finding(flag: String, channel: &str, says: Vec<String>) -> Option<Finding> {
    (!says.is_empty()).then(|| Finding {
        flag,
        warning: format!("{channel}: {}", says.join("; also ")),
    })
}

fn rest_finding(channel: &str, r: &RestFigures, cfg: &Config) -> Option<Finding> {
    let qc = &cfg.quality;
    let d = &cfg.detector;
    let long_enough = r.analysed_s >= qc.rest_min_analysed_s;
    let busy = long_enough
        && (r.above_offset_fraction >= qc.rest_above_offset_max
            || r.episode_fraction >= qc.rest_episode_max);
    let capped = r.baseline_at_cap_fraction >= qc.rest_baseline_cap_max;
    if !(busy || capped) {
        return None;
    }
    let relative = d.threshold_mode == "relative";
    let level = if relative {
        format!("×{} offset level", d.offset_ratio)
    } else {
        format!("+{} µV offset level", d.offset_below_uv)
    };
    let resting = r
        .activity_p10_uv
        .map(|v| format!(" (resting level about {} µV)", sig3(v)))
        .unwrap_or_default();
    let mut tries = vec!["check electrode contact / reference".to_string()];
    if !relative {
        tries.push("try detector.threshold_mode = \"relative\"".into());
    }
    if capped {
        tries.push(format!(
            "raise detector.baseline_cap_uv above {} µV only if a rest this high is real",
            d.baseline_cap_uv
        ));
    }
    Some(Finding {
        flag: format!("{channel}:rest_not_quiet"),
        warning: format!(
            "{channel}: resting EMG is not quiet: {} of windows above the {level}, episodes \
             cover {} of the analysed time, baseline at its {} µV cap for {} of windows{resting}; \
             the WASM levels assume a quiet rest — {}",
            pct(r.above_offset_fraction),
            pct(r.episode_fraction),
            d.baseline_cap_uv,
            pct(r.baseline_at_cap_fraction),
            tries.join(", or "),
        ),
    })
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
    /// Gaussian-ish noise on `step` quantisation, from a fixed seed.
    fn quantised_noise(n: usize, sd: f64, step: f64, seed: u64) -> Vec<f32> {
        let mut state = seed;
        let mut u = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                // Sum of 12 uniforms: SD 1.
                let g: f64 = (0..12).map(|_| u()).sum::<f64>() - 6.0;
                ((g * sd / step).round() * step) as f32
            })
            .collect()
    }

    fn quality_of(x: &[f32], fs_hz: f64, piece: usize) -> ChannelQuality {
        let mut q = QualityTracker::new(fs_hz, &QualityConfig::default());
        for c in x.chunks(piece) {
            q.push(c);
        }
        q.finish()
    }

    /// Known answers of the repeat patterns: a sample held 2, 3 or 4
    /// times gives fs/2, fs/3, fs/4; one in every 5 repeated (a 200 Hz
    /// signal padded to 250 Hz) gives 4/5 of the rate; noise at two ADC
    /// counts and at 0.25 counts, and a signal that only steps every few
    /// samples at random, give none. Pieces of any length give the same.
    #[test]
    fn repeat_patterns_give_the_rate_before_upsampling() {
        let base = quantised_noise(40_000, 2.0, 1.0, 3);
        for k in 2..=4usize {
            let held: Vec<f32> = base
                .iter()
                .flat_map(|&v| std::iter::repeat_n(v, k))
                .collect();
            for piece in [1, 7, 4096, held.len()] {
                let q = quality_of(&held, 1000.0, piece);
                assert_eq!(
                    q.apparent_fs_hz,
                    Some(round_to(1000.0 / k as f64, 3)),
                    "k {k} piece {piece}"
                );
            }
        }
        let padded: Vec<f32> = base
            .chunks(4)
            .flat_map(|c| c.iter().copied().chain(std::iter::once(c[c.len() - 1])))
            .collect();
        let q = quality_of(&padded, 250.0, 4096);
        assert_eq!(q.apparent_fs_hz, Some(200.0));
        assert!((q.repeat_fraction - 0.2 - 0.8 * 0.14).abs() < 0.02, "{q:?}");
        for (sd, step) in [(2.0, 1.0), (0.25, 1.0), (3.0, 0.001)] {
            let x = quantised_noise(100_000, sd, step, 5);
            let q = quality_of(&x, 1000.0, 4096);
            assert_eq!(q.apparent_fs_hz, None, "sd {sd} step {step}: {q:?}");
        }
        // Held for 1 to 4 samples at random: repeats, but in no pattern.
        let mut state = 11u64;
        let random_hold: Vec<f32> = base
            .iter()
            .flat_map(|&v| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                std::iter::repeat_n(v, 1 + (state >> 62) as usize)
            })
            .collect();
        let q = quality_of(&random_hold, 1000.0, 4096);
        assert_eq!(q.apparent_fs_hz, None, "{q:?}");
        assert!(q.repeat_fraction > 0.5, "{q:?}");
    }

    #[test]
    fn whole_numbers_mean_and_spread_are_measured() {
        let counts: Vec<f32> = quantised_noise(50_000, 3.0, 1.0, 9)
            .iter()
            .map(|v| v + 2048.0)
            .collect();
        let q = quality_of(&counts, 1000.0, 333);
        assert!(q.integer_samples);
        assert!((q.mean_value - 2048.0).abs() < 0.05, "{q:?}");
        assert!((q.sd_value - 3.0).abs() < 0.1, "{q:?}");
        let mut uv = counts.clone();
        uv[20_000] += 0.5;
        uv[30_000] = f32::NAN;
        let q = quality_of(&uv, 1000.0, 333);
        assert!(!q.integer_samples);
        assert_eq!(q.nonfinite_samples, 1);
        assert!(is_whole(-3.0) && is_whole(1e9) && !is_whole(2.5) && !is_whole(-0.001));
    }

    /// The rest counts of a series with known shares: baseline 2 µV, a
    /// third of the windows 3 µV above it (over the 2 µV offset level),
    /// 4 in 30 at 11 µV with the baseline at its cap, percentiles to the
    /// histogram's 12 %.
    #[test]
    fn rest_counts_give_the_shares_and_levels() {
        let cfg = crate::config::DetectorConfig::default();
        let mut r = RestCounts::new(&cfg);
        for i in 0..3000 {
            let (a, b) = match i % 30 {
                0..=9 => (5.0, 2.0),
                10..=13 => (11.0, cfg.baseline_cap_uv as f32),
                _ => (2.0, 2.0),
            };
            r.window(a, b);
        }
        r.window(f32::NAN, 2.0);
        r.episode(300);
        let f = r.figures(0.1);
        assert_eq!(f.analysed_s, 300.0);
        assert!((f.above_offset_fraction - 1.0 / 3.0).abs() < 1e-3, "{f:?}");
        assert_eq!(f.baseline_at_cap_fraction, 0.1333);
        assert_eq!(f.episode_fraction, 0.1);
        let near = |got: Option<f64>, want: f64| (got.unwrap() / want - 1.0).abs() < 0.07;
        assert!(near(f.activity_p10_uv, 2.0), "{f:?}");
        assert!(near(f.activity_p50_uv, 2.0), "{f:?}");
        assert!(near(f.activity_p90_uv, 11.0), "{f:?}");
        assert_eq!(RestCounts::new(&cfg).activity_percentile_uv(50.0), None);
    }
}
