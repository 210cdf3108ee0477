//! Detection that follows the reader: the windows of one EMG channel go
//! through exclusion of bad stretches, the resting baseline and the
//! hysteresis as they arrive, and each group of episodes leaves with just
//! the windows its classification looks at. Memory stays bounded by the
//! baseline window (600 s by default) and the cramp look-back, whatever
//! the length of the recording; the results are those of the whole-night
//! functions ([`running_baseline`](super::baseline::running_baseline),
//! [`hysteresis`](super::hysteresis::hysteresis) and
//! [`classify_channel`](crate::score::classify::classify_channel)) bit for
//! bit.

use std::collections::VecDeque;

use super::baseline::{self, BaselineStream};
use super::hysteresis::Hysteresis;
use super::{ActivitySeries, WindowSpan};
use crate::config::Config;
use crate::quality::RestCounts;

/// Windows that may be dropped from the front before the buffers are
/// compacted: compacting moves what is kept, so it is done in batches.
const COMPACT_WINDOWS: usize = 16_384;

/// Episodes that the cramp rule's span joining puts together, with the
/// windows classification needs: the group's own, and for a group long
/// enough to be a cramp the look-back of the cramp rule before it.
#[derive(Debug, Clone)]
pub struct SpanGroup {
    /// The windows, with `first_index` their place in the night.
    pub series: ActivitySeries,
    /// Resting baseline of the same windows, µV.
    pub baseline_uv: Vec<f32>,
    /// The episodes, as window indices into `series`.
    pub spans: Vec<WindowSpan>,
}

/// What a channel's stream leaves when the night ends.
#[derive(Debug, Clone)]
pub struct StreamOutcome {
    /// Spacing of the windows, s.
    pub hop_s: f64,
    /// Centre of the first window from the recording start, s.
    pub first_center_s: f64,
    /// The band analysed, Hz.
    pub band_hz: (f64, f64),
    /// Windows in the night.
    pub n_windows: usize,
    /// Windows with finite activity after exclusion.
    pub valid_windows: usize,
    /// Median of the baseline over all windows, µV.
    pub baseline_median_uv: Option<f32>,
    pub groups: Vec<SpanGroup>,
    /// Whether windows were let through on the tracker's provisional bad
    /// stretches (see [`Exclusion::Provisional`]) before the night ended.
    pub used_provisional: bool,
    /// The whole activity and baseline series, when asked to keep them.
    pub trace: Option<(Vec<f32>, Vec<f32>)>,
    /// Per-window counts for the resting-EMG and unit checks.
    pub rest: RestCounts,
}

/// Where the bad stretches (sample ranges to leave out) come from.
#[derive(Debug, Clone)]
pub enum Exclusion {
    /// Followed from the channel's quality tracker while streaming: every
    /// run it keeps (flat, or at the running extremes) is left out. A run
    /// at an extreme that the night later exceeds, or of a channel that
    /// turns out not to clip, is not left out in the end; the caller then
    /// streams the night again with [`Exclusion::Known`].
    Provisional,
    /// Known before streaming: `[start, end)` sample ranges, sorted.
    Known(Vec<(u64, u64)>),
}

/// The streaming detector of one EMG channel.
pub struct SpanStream {
    cfg: Config,
    fs_hz: f64,
    /// Half the analysis window, s: a window spans its centre ± this.
    half_window_s: f64,
    keep_trace: bool,
    provisional: bool,
    /// Bad stretches not yet behind the windows, sorted.
    bad: VecDeque<(u64, u64)>,
    /// Tracker runs already taken into `bad`.
    runs_taken: usize,
    /// Samples before which the bad stretches are known.
    settled_samples: u64,
    geometry: Option<(f64, f64, (f64, f64))>,
    /// Windows received but not yet known to be clear of bad stretches:
    /// activity, median frequency and motion.
    waiting: VecDeque<(f32, f32, f32)>,
    /// The fine cells of the windows in `waiting`, `fine_per_window` each.
    waiting_fine: VecDeque<f32>,
    /// Their offset cells (see [`ActivitySeries::fine_offset_uv2`]).
    waiting_fine_offset: VecDeque<f32>,
    /// The fine scales of the windows in `waiting` (when they have cells).
    waiting_scale: VecDeque<f32>,
    fine_per_window: usize,
    /// Windows released from `waiting`.
    released: usize,
    used_provisional: bool,
    /// Night index of the first window held in `activity_uv`,
    /// `median_freq_hz`, `motion_uv` and `baseline_uv`.
    offset: usize,
    activity_uv: Vec<f32>,
    median_freq_hz: Vec<f32>,
    motion_uv: Vec<f32>,
    baseline_uv: Vec<f32>,
    /// Fine cells of the windows held, from `offset` on.
    fine_power_uv2: Vec<f32>,
    fine_offset_uv2: Vec<f32>,
    fine_scale: Vec<f32>,
    baseline: Option<BaselineStream>,
    hysteresis: Option<Hysteresis>,
    /// Spans further apart than this many windows are not joined.
    bridge: usize,
    /// Look-back of the cramp rule, windows.
    look_back: usize,
    /// Windows kept either side of a group for refinement
    /// ([`refine::margin_windows`](super::refine::margin_windows)).
    margin: usize,
    /// Episodes of the group under way.
    group: Vec<WindowSpan>,
    groups: Vec<SpanGroup>,
    valid_windows: usize,
    trace_activity: Vec<f32>,
    rest: RestCounts,
}

impl SpanStream {
    /// A stream for a channel sampled at `fs_hz`; `keep_trace` keeps the
    /// whole series for figures (and with them memory that grows).
    pub fn new(cfg: &Config, fs_hz: f64, exclusion: Exclusion, keep_trace: bool) -> SpanStream {
        let (provisional, bad, settled) = match exclusion {
            Exclusion::Provisional => (true, VecDeque::new(), 0),
            Exclusion::Known(spans) => (false, spans.into(), u64::MAX),
        };
        SpanStream {
            cfg: cfg.clone(),
            fs_hz,
            half_window_s: cfg.detector.window_s / 2.0,
            keep_trace,
            provisional,
            bad,
            runs_taken: 0,
            settled_samples: settled,
            geometry: None,
            waiting: VecDeque::new(),
            waiting_fine: VecDeque::new(),
            waiting_fine_offset: VecDeque::new(),
            waiting_scale: VecDeque::new(),
            fine_per_window: 0,
            released: 0,
            used_provisional: false,
            offset: 0,
            activity_uv: Vec::new(),
            median_freq_hz: Vec::new(),
            motion_uv: Vec::new(),
            baseline_uv: Vec::new(),
            fine_power_uv2: Vec::new(),
            fine_offset_uv2: Vec::new(),
            fine_scale: Vec::new(),
            baseline: None,
            hysteresis: None,
            bridge: 0,
            look_back: 0,
            margin: 0,
            group: Vec::new(),
            groups: Vec::new(),
            valid_windows: 0,
            trace_activity: Vec::new(),
            rest: RestCounts::new(&cfg.detector),
        }
    }

    /// Whether windows went ahead on provisional bad stretches.
    pub fn used_provisional(&self) -> bool {
        self.used_provisional
    }

    /// Removes and returns the completed groups from the oldest on, as long
    /// as `ready` says so.
    pub fn take_groups_while(&mut self, ready: impl Fn(&SpanGroup) -> bool) -> Vec<SpanGroup> {
        let n = self.groups.iter().take_while(|g| ready(g)).count();
        self.groups.drain(..n).collect()
    }

    /// Earliest time any group still to come can reach back to, s: the
    /// first window of the oldest group not taken, or the cramp look-back
    /// before the group under way or the next window. `None` before the
    /// first windows arrive.
    pub fn earliest_needed_s(&self) -> Option<f64> {
        let (hop_s, first_center_s, _) = self.geometry?;
        let h = self.hysteresis.as_ref()?;
        let from = self
            .group
            .first()
            .map(|s| s.0)
            .or(h.open_start())
            .unwrap_or(h.position())
            .saturating_sub(self.look_back);
        let from = self
            .groups
            .first()
            .map_or(from, |g| g.series.first_index.min(from));
        Some(first_center_s + from as f64 * hop_s)
    }

    /// Takes the next windows of the channel, in order.
    pub fn push(&mut self, piece: ActivitySeries) {
        debug_assert_eq!(piece.first_index, self.released + self.waiting.len());
        if self.geometry.is_none() {
            let hop = piece.hop_s;
            let c = &self.cfg.cramp;
            self.baseline = Some(BaselineStream::new(hop, &self.cfg.detector));
            self.hysteresis = Some(Hysteresis::new(hop, &self.cfg));
            self.bridge = (c.bridge_gap_s / hop).round() as usize;
            let pre = (c.preceding_s / hop).round() as usize;
            let build_up = (c.buildup_max_s / hop).round() as usize;
            self.look_back = pre.max(build_up) + 1;
            self.margin = super::refine::margin_windows(hop);
            self.fine_per_window = piece.fine_per_window;
        }
        // Every piece of a channel comes from one analyzer.
        debug_assert_eq!(piece.fine_per_window, self.fine_per_window);
        self.waiting_fine
            .extend(piece.fine_power_uv2.iter().copied());
        self.waiting_fine_offset
            .extend(piece.fine_offset_uv2.iter().copied());
        self.waiting_scale.extend(piece.fine_scale.iter().copied());
        self.geometry = Some((piece.hop_s, piece.first_center_s, piece.band_hz));
        self.waiting.extend(
            piece
                .activity_uv
                .iter()
                .zip(&piece.median_freq_hz)
                .zip(&piece.motion_uv)
                .map(|((&a, &mf), &m)| (a, mf, m)),
        );
    }

    /// Learns the bad stretches the channel's quality tracker knows so far
    /// (provisional exclusion only) and moves the windows clear of them on.
    pub fn follow(&mut self, quality: &crate::quality::QualityTracker) {
        if self.provisional {
            let runs = quality.kept_runs();
            self.bad.extend(
                runs[self.runs_taken..]
                    .iter()
                    .map(|&(s, len, _)| (s, s + len)),
            );
            self.runs_taken = runs.len();
            self.settled_samples = quality.settled_samples();
        }
        self.advance();
    }

    /// Moves the windows clear of the bad stretches known so far on through
    /// baseline, hysteresis and grouping.
    pub fn advance(&mut self) {
        let before = self.released;
        self.release();
        if self.released > before && self.provisional {
            self.used_provisional = true;
        }
        self.detect();
    }

    /// Ends the channel: `last` holds its remaining windows and `bad` the
    /// night's final bad stretches.
    pub fn finish(mut self, last: ActivitySeries, bad: &[(u64, u64)]) -> StreamOutcome {
        self.push(last);
        // From here on the stretches are final; windows already released
        // saw the provisional ones, which the caller checks.
        self.bad = bad.iter().copied().collect();
        self.settled_samples = u64::MAX;
        self.release();
        let (hop_s, first_center_s, band_hz) = self.geometry.expect("finish pushes a piece");
        let n = self.released;
        if let Some(b) = self.baseline.as_mut() {
            b.finish(&self.activity_uv, self.offset, &mut self.baseline_uv);
        }
        self.detect();
        let hysteresis = self.hysteresis.as_mut().expect("set with the geometry");
        if let Some(span) = hysteresis.finish() {
            self.add_span(span);
        }
        self.close_group();
        let baseline = self.baseline.as_ref().expect("set with the geometry");
        let (known, floor) = (baseline.known(), baseline.floor_uv());
        let trace = self.keep_trace.then(|| {
            let mut b = Vec::with_capacity(n);
            baseline::replay(known, n, floor, |v| b.push(v));
            (std::mem::take(&mut self.trace_activity), b)
        });
        StreamOutcome {
            hop_s,
            first_center_s,
            band_hz,
            n_windows: n,
            valid_windows: self.valid_windows,
            baseline_median_uv: baseline::median_of_replay(known, n, floor),
            groups: self.groups,
            used_provisional: self.used_provisional,
            trace,
            rest: self.rest,
        }
    }

    /// Moves the windows whose span ends before any unknown bad stretch
    /// can begin into the buffers, left out (NaN) where they meet a known
    /// one.
    fn release(&mut self) {
        let Some((hop_s, first_center_s, _)) = self.geometry else {
            return;
        };
        let half = self.half_window_s;
        let settled_s = if self.settled_samples == u64::MAX {
            f64::INFINITY
        } else {
            self.settled_samples as f64 / self.fs_hz
        };
        while let Some(&(a, mf, motion)) = self.waiting.front() {
            let c = first_center_s + self.released as f64 * hop_s;
            if c + half > settled_s {
                break;
            }
            self.waiting.pop_front();
            let fine = self.waiting_fine.len().min(self.fine_per_window);
            // Stretches wholly before this window are behind every later one.
            while let Some(&(_, b)) = self.bad.front() {
                if c - half >= b as f64 / self.fs_hz {
                    self.bad.pop_front();
                } else {
                    break;
                }
            }
            let mut hit = false;
            for &(s, e) in &self.bad {
                let (t0, t1) = (s as f64 / self.fs_hz, e as f64 / self.fs_hz);
                if c + half <= t0 {
                    break;
                }
                hit |= c - half < t1;
            }
            let a = if hit { f32::NAN } else { a };
            self.valid_windows += a.is_finite() as usize;
            self.activity_uv.push(a);
            self.median_freq_hz.push(mf);
            // Motion is left out with the activity, so a bad stretch does
            // not read as motion.
            self.motion_uv.push(if hit { f32::NAN } else { motion });
            for v in self.waiting_fine.drain(..fine) {
                self.fine_power_uv2.push(if hit { f32::NAN } else { v });
            }
            let fine_off = self.waiting_fine_offset.len().min(fine);
            for v in self.waiting_fine_offset.drain(..fine_off) {
                self.fine_offset_uv2.push(if hit { f32::NAN } else { v });
            }
            if let Some(v) = self.waiting_scale.pop_front() {
                self.fine_scale.push(if hit { f32::NAN } else { v });
            }
            if self.keep_trace {
                self.trace_activity.push(a);
            }
            self.released += 1;
        }
    }

    /// Baseline and hysteresis over the windows released so far.
    fn detect(&mut self) {
        let (Some(baseline), Some(_)) = (self.baseline.as_mut(), self.hysteresis.as_ref()) else {
            return;
        };
        baseline.advance(&self.activity_uv, self.offset, &mut self.baseline_uv);
        let known_to = self.offset + self.baseline_uv.len();
        loop {
            let h = self.hysteresis.as_mut().expect("checked above");
            let i = h.position();
            if i >= known_to {
                break;
            }
            let k = i - self.offset;
            self.rest.window(self.activity_uv[k], self.baseline_uv[k]);
            let ended = h.step(self.activity_uv[k], self.baseline_uv[k]);
            if let Some(span) = ended {
                self.add_span(span);
            }
            // The group is complete when no later span can join it.
            if let Some(&(_, end)) = self.group.last() {
                let h = self.hysteresis.as_ref().expect("checked above");
                let next_start = h.open_start().unwrap_or(h.position());
                if next_start > end + self.bridge {
                    self.close_group();
                }
            }
        }
        self.compact();
    }

    fn add_span(&mut self, span: WindowSpan) {
        self.rest.episode(span.1 - span.0);
        if let Some(&(_, end)) = self.group.last() {
            if span.0 - end > self.bridge {
                self.close_group();
            }
        }
        self.group.push(span);
    }

    /// Cuts the group under way out with the windows its classification reads.
    fn close_group(&mut self) {
        if self.group.is_empty() {
            return;
        }
        let (hop_s, first_center_s, band_hz) = self.geometry.expect("spans come from windows");
        let (start, end) = (self.group[0].0, self.group[self.group.len() - 1].1);
        let cramp_long = (end - start) as f64 * hop_s >= self.cfg.cramp.min_duration_s;
        let lo = if cramp_long {
            start.saturating_sub(self.look_back.max(self.margin))
        } else {
            start.saturating_sub(self.margin)
        }
        .max(self.offset);
        let held = self.offset + self.activity_uv.len();
        let (a, b) = (
            lo - self.offset,
            (end + self.margin).min(held) - self.offset,
        );
        let k = self.fine_per_window;
        let fine = if self.fine_power_uv2.is_empty() {
            Vec::new()
        } else {
            self.fine_power_uv2[a * k..b * k].to_vec()
        };
        let fine_offset = if self.fine_offset_uv2.is_empty() {
            Vec::new()
        } else {
            self.fine_offset_uv2[a * k..b * k].to_vec()
        };
        let scale = if self.fine_scale.is_empty() {
            Vec::new()
        } else {
            self.fine_scale[a..b].to_vec()
        };
        self.groups.push(SpanGroup {
            series: ActivitySeries {
                hop_s,
                first_center_s,
                first_index: lo,
                activity_uv: self.activity_uv[a..b].to_vec(),
                median_freq_hz: self.median_freq_hz[a..b].to_vec(),
                motion_uv: self.motion_uv[a..b].to_vec(),
                band_hz,
                fine_per_window: k,
                fine_power_uv2: fine,
                fine_offset_uv2: fine_offset,
                fine_scale: scale,
            },
            baseline_uv: self.baseline_uv[a..b].to_vec(),
            spans: self.group.iter().map(|&(s, e)| (s - lo, e - lo)).collect(),
        });
        self.group.clear();
    }

    /// Drops the windows that neither the baseline nor a later group needs.
    fn compact(&mut self) {
        let (Some(baseline), Some(h)) = (self.baseline.as_ref(), self.hysteresis.as_ref()) else {
            return;
        };
        let group_from = self
            .group
            .first()
            .map(|s| s.0)
            .or(h.open_start())
            .unwrap_or(h.position());
        let keep_from = baseline
            .earliest_needed()
            .min(group_from.saturating_sub(self.look_back.max(self.margin)))
            .min(h.position());
        let drop = keep_from.saturating_sub(self.offset);
        if drop >= COMPACT_WINDOWS {
            self.activity_uv.drain(..drop);
            self.median_freq_hz.drain(..drop);
            self.motion_uv.drain(..drop);
            self.baseline_uv.drain(..drop);
            if !self.fine_power_uv2.is_empty() {
                self.fine_power_uv2.drain(..drop * self.fine_per_window);
                if !self.fine_offset_uv2.is_empty() {
                    self.fine_offset_uv2.drain(..drop * self.fine_per_window);
                }
                self.fine_scale.drain(..drop);
            }
            self.offset += drop;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::detect_spans;
    use crate::score::classify::{classify_channel, classify_group, AccelSeries, ChannelDetection};
    use crate::score::Episode;

    struct Lcg(u64);
    impl Lcg {
        /// Uniform in [0, 1).
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
        fn range(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * self.next()
        }
    }

    /// Three hours of activity at 0.1 s: resting 1.5–3 µV drifting, leg
    /// movements of 0.5–8 s (some in pairs just either side of the 2 s
    /// bridge), cramps of 20–150 s after a slow build-up, short gaps of
    /// invalid windows, invalid stretches at both ends and one of 15 min.
    fn night() -> ActivitySeries {
        let n = 108_000;
        let mut r = Lcg(42);
        let mut a: Vec<f32> = (0..n)
            .map(|i| (2.2 + 0.7 * (i as f64 / 20_000.0).sin() + r.range(-0.3, 0.3)) as f32)
            .collect();
        let mut i = 300;
        while i < n - 2000 {
            let len = if r.next() < 0.08 {
                // A cramp with a build-up before it.
                let build = r.range(300.0, 600.0) as usize;
                for k in 0..build {
                    a[i + k] += (3.0 + 4.0 * k as f64 / build as f64) as f32;
                }
                i += build;
                r.range(200.0, 1500.0) as usize
            } else {
                r.range(5.0, 80.0) as usize
            };
            let amp = r.range(10.0, 60.0) as f32;
            for v in &mut a[i..(i + len).min(n)] {
                *v += amp;
            }
            i += len;
            i += if r.next() < 0.2 {
                r.range(15.0, 25.0) as usize
            } else {
                r.range(150.0, 500.0) as usize
            };
        }
        for k in (0..n).step_by(7919) {
            let len = r.range(5.0, 30.0) as usize;
            a[k..(k + len).min(n)].fill(f32::NAN);
        }
        a[..50].fill(f32::NAN);
        a[60_000..69_000].fill(f32::NAN);
        a[n - 40..].fill(f32::NAN);
        ActivitySeries {
            hop_s: 0.1,
            first_center_s: 0.125,
            first_index: 0,
            median_freq_hz: (0..n).map(|i| 60.0 + (i % 50) as f32).collect(),
            motion_uv: (0..n).map(|i| (i % 7) as f32).collect(),
            // Ten fine cells per window at the window's power, a little
            // uneven, so that refinement is at work in the streams too.
            fine_power_uv2: a
                .iter()
                .flat_map(|&v| (0..10).map(move |j| v * v * (0.9 + 0.02 * j as f32)))
                .collect(),
            fine_offset_uv2: a
                .iter()
                .flat_map(|&v| (0..10).map(move |j| v * v * (0.85 + 0.02 * j as f32)))
                .collect(),
            fine_per_window: 10,
            fine_scale: (0..n).map(|i| 0.6 + 0.1 * (i % 3) as f32).collect(),
            activity_uv: a,
            band_hz: (20.0, 450.0),
        }
    }

    fn accel() -> AccelSeries {
        AccelSeries {
            hop_s: 0.1,
            first_index: 0,
            enmo_g: (0..108_000)
                .map(|i| if (i / 3000) % 3 == 0 { 0.2 } else { 0.0 })
                .collect(),
        }
    }

    fn stream(series: &ActivitySeries, cfg: &Config, pieces: &[usize]) -> (StreamOutcome, usize) {
        let mut s = SpanStream::new(cfg, 1000.0, Exclusion::Known(Vec::new()), true);
        let (mut at, mut k, mut most_held) = (0, 0, 0);
        let n = series.activity_uv.len();
        while at < n {
            let len = pieces[k % pieces.len()].min(n - at);
            s.push(series.slice(at, len));
            s.advance();
            most_held = most_held.max(s.activity_uv.len() + s.waiting.len());
            at += len;
            k += 1;
        }
        (s.finish(series.slice(n, 0), &[]), most_held)
    }

    fn classify(outcome: &StreamOutcome, accel: &AccelSeries, cfg: &Config) -> Vec<Episode> {
        outcome
            .groups
            .iter()
            .flat_map(|g| classify_group("emg_l", g, Some(accel), cfg))
            .collect()
    }

    #[test]
    fn streaming_detection_equals_the_whole_night_functions() {
        let cfg = Config::default();
        let series = night();
        let acc = accel();
        let (baseline, spans) = detect_spans(&series, &cfg);
        let whole = classify_channel(
            &ChannelDetection {
                name: "emg_l",
                series: &series,
                baseline_uv: &baseline,
                spans: &spans,
            },
            Some(&acc),
            &cfg,
        );
        let kinds = |k| whole.iter().filter(|e| e.kind == k).count();
        use crate::score::EpisodeKind::*;
        // The night has every kind of episode to get right.
        assert!(
            kinds(Cramp) >= 3 && kinds(Lm) >= 50,
            "{} {}",
            kinds(Cramp),
            kinds(Lm)
        );
        assert!(whole.iter().any(|e| e.buildup_s.is_some_and(|b| b > 0.0)));
        for pieces in [&[330usize][..], &[1, 7, 5000, 64], &[108_000]] {
            let (out, most_held) = stream(&series, &cfg, pieces);
            assert_eq!(classify(&out, &acc, &cfg), whole, "pieces {pieces:?}");
            // Each group carries its windows' motion content, in place.
            for g in &out.groups {
                let (at, n) = (g.series.first_index, g.series.motion_uv.len());
                assert_eq!(n, g.series.activity_uv.len());
                for (k, m) in g.series.motion_uv.iter().enumerate() {
                    let whole = series.motion_uv[at + k];
                    let bad = series.activity_uv[at + k].is_nan();
                    assert!(bad || m.to_bits() == whole.to_bits(), "window {}", at + k);
                }
            }
            let (act, base) = out.trace.clone().unwrap();
            assert_eq!(act.len(), series.activity_uv.len());
            assert!(base
                .iter()
                .zip(&baseline)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
            let median = crate::dsp::stats::median(&baseline);
            assert_eq!(out.baseline_median_uv, median);
            assert_eq!(out.valid_windows, series.valid_windows());
            if pieces.len() > 1 || pieces[0] < 1000 {
                // Held: the baseline window (6000), the cramp look-back
                // (1201), a cramp under way and a batch awaiting compaction.
                assert!(
                    most_held < 6000 + 1201 + 1500 + COMPACT_WINDOWS + 5000,
                    "{most_held}"
                );
            }
        }
    }

    #[test]
    fn windows_touching_a_bad_stretch_become_nan() {
        let cfg = Config::default();
        let series = ActivitySeries {
            hop_s: 0.1,
            first_center_s: 0.125,
            first_index: 0,
            activity_uv: vec![1.0; 100],
            median_freq_hz: vec![80.0; 100],
            motion_uv: vec![0.5; 100],
            band_hz: (20.0, 150.0),
            fine_per_window: 0,
            fine_power_uv2: Vec::new(),
            fine_offset_uv2: Vec::new(),
            fine_scale: Vec::new(),
        };
        // Samples 2000..3000 at 1 kHz: 2.0-3.0 s. Window i spans
        // [i*0.1, i*0.1 + 0.25): windows 18..=29 meet it.
        let s = SpanStream::new(&cfg, 1000.0, Exclusion::Known(vec![(2000, 3000)]), true);
        let out = s.finish(series, &[(2000, 3000)]);
        let (act, _) = out.trace.unwrap();
        let bad: Vec<usize> = (0..100).filter(|&i| act[i].is_nan()).collect();
        assert_eq!(bad, (18..30).collect::<Vec<_>>());
        assert_eq!(out.valid_windows, 88);
    }
}
