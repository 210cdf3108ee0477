//! Resting baseline: a running low percentile of the activity series,
//! evaluated every [`STEP_S`] and interpolated between, floored and capped
//! at physiological resting levels.

use crate::config::DetectorConfig;
use crate::dsp::stats::percentile_in_place;

/// Spacing of baseline evaluations, s: the resting level changes slowly.
pub const STEP_S: f64 = 10.0;

/// Baseline per window, µV, for `activity_uv` sampled every `hop_s`.
pub fn running_baseline(activity_uv: &[f32], hop_s: f64, cfg: &DetectorConfig) -> Vec<f32> {
    let mut stream = BaselineStream::new(hop_s, cfg);
    let mut out = Vec::with_capacity(activity_uv.len());
    stream.finish(activity_uv, 0, &mut out);
    out
}

/// The running baseline computed while the activity series streams in.
///
/// A level is evaluated every [`STEP_S`] from the finite windows within
/// half the baseline window either side, so it is known half a window
/// after its centre; windows between two known levels are interpolated,
/// windows before the first or after the last take that level, and
/// levels of stretches without valid data are skipped. The values are
/// those of [`running_baseline`] on the whole series, bit for bit.
#[derive(Debug, Clone)]
pub struct BaselineStream {
    floor: f32,
    cap: f32,
    percentile: f64,
    step: usize,
    half: usize,
    /// Centre of the next level to evaluate, window index.
    next_centre: usize,
    /// Known levels so far: (window, µV).
    known: Vec<(usize, f32)>,
    /// Windows whose baseline has been handed out.
    emitted: usize,
    scratch: Vec<f32>,
}

impl BaselineStream {
    pub fn new(hop_s: f64, cfg: &DetectorConfig) -> BaselineStream {
        let half = ((cfg.baseline_window_s / 2.0 / hop_s).round() as usize).max(1);
        BaselineStream {
            floor: cfg.baseline_floor_uv as f32,
            cap: cfg.baseline_cap_uv as f32,
            percentile: cfg.baseline_percentile,
            step: ((STEP_S / hop_s).round() as usize).max(1),
            half,
            next_centre: 0,
            known: Vec::new(),
            emitted: 0,
            scratch: Vec::with_capacity(2 * half + 1),
        }
    }

    /// First window the stream still needs to see.
    pub fn earliest_needed(&self) -> usize {
        self.next_centre.saturating_sub(self.half)
    }

    /// The levels known so far: (window, µV).
    pub fn known(&self) -> &[(usize, f32)] {
        &self.known
    }

    /// Lowest resting level, µV: the baseline of a night without valid data.
    pub fn floor_uv(&self) -> f32 {
        self.floor
    }

    /// Evaluates the levels whose windows `activity_uv` (windows `offset..`,
    /// all the windows seen so far, more to come) covers, and appends the
    /// baseline of every window they settle to `out`.
    pub fn advance(&mut self, activity_uv: &[f32], offset: usize, out: &mut Vec<f32>) {
        let seen = offset + activity_uv.len();
        while self.next_centre + self.half < seen {
            let c = self.next_centre;
            self.level(activity_uv, offset, c, c + self.half + 1, out);
            self.next_centre += self.step;
        }
    }

    /// Like [`advance`](Self::advance) for the last windows of the series:
    /// evaluates the remaining levels and appends every remaining baseline.
    pub fn finish(&mut self, activity_uv: &[f32], offset: usize, out: &mut Vec<f32>) {
        let n = offset + activity_uv.len();
        if n > 0 {
            let mut c = self.next_centre.min(n - 1);
            loop {
                self.level(activity_uv, offset, c, (c + self.half + 1).min(n), out);
                if c == n - 1 {
                    break;
                }
                c = (c + self.step).min(n - 1);
            }
            self.next_centre = n;
        }
        let last = self.known.last().map_or(self.floor, |&(_, v)| v);
        out.extend((self.emitted..n).map(|_| last));
        self.emitted = n;
    }

    /// Evaluates the level centred on window `c` from windows `c - half..hi`.
    fn level(
        &mut self,
        activity_uv: &[f32],
        offset: usize,
        c: usize,
        hi: usize,
        out: &mut Vec<f32>,
    ) {
        let lo = c.saturating_sub(self.half);
        self.scratch.clear();
        self.scratch.extend(
            activity_uv[lo - offset..hi - offset]
                .iter()
                .copied()
                .filter(|v| v.is_finite()),
        );
        if let Some(v) = percentile_in_place(&mut self.scratch, self.percentile) {
            let v = v.clamp(self.floor, self.cap);
            fill_to(self.known.last().copied(), self.emitted, (c, v), |b| {
                out.push(b)
            });
            self.known.push((c, v));
            self.emitted = c + 1;
        }
    }
}

/// Baselines of windows `from..=i1` when the level before is `prev` and
/// the next is `v1` at window `i1`: interpolated between the two, `v1`
/// before the first level, and `v1` itself at `i1`.
fn fill_to(
    prev: Option<(usize, f32)>,
    from: usize,
    (i1, v1): (usize, f32),
    mut push: impl FnMut(f32),
) {
    match prev {
        None => (from..=i1).for_each(|_| push(v1)),
        Some((i0, v0)) => {
            for j in from..i1 {
                let f = (j - i0) as f32 / (i1 - i0) as f32;
                push(v0 + (v1 - v0) * f);
            }
            push(v1);
        }
    }
}

/// Calls `push` with the baseline of each of the `n` windows of a night
/// whose known levels are `known`; `floor` when there are none.
pub fn replay(known: &[(usize, f32)], n: usize, floor: f32, mut push: impl FnMut(f32)) {
    let mut from = 0;
    let mut prev = None;
    for &(i, v) in known {
        fill_to(prev, from, (i, v), &mut push);
        prev = Some((i, v));
        from = i + 1;
    }
    let last = prev.map_or(floor, |(_, v)| v);
    (from..n).for_each(|_| push(last));
}

/// Median of the night's baseline series (as [`percentile_in_place`] at
/// 50 % would give it), computed from its known levels without holding
/// the series: two counting passes over the replayed values.
pub fn median_of_replay(known: &[(usize, f32)], n: usize, floor: f32) -> Option<f32> {
    if n == 0 {
        return None;
    }
    let k = ((0.5 * (n - 1) as f64).round() as usize).min(n - 1);
    Some(crate::dsp::stats::kth_smallest_of(k, |f| {
        replay(known, n, floor, f)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_ignores_a_few_minutes_of_activity() {
        let cfg = DetectorConfig::default();
        // 30 min at 0.1 s: rest at 2 µV with a 3-minute contraction at 60 µV.
        let mut a = vec![2.0f32; 18000];
        for v in &mut a[6000..7800] {
            *v = 60.0;
        }
        let b = running_baseline(&a, 0.1, &cfg);
        assert!(b.iter().all(|&v| (v - 2.0).abs() < 1e-6));
    }

    #[test]
    fn baseline_is_capped_when_active_throughout_and_floored_when_silent() {
        let cfg = DetectorConfig::default();
        let b = running_baseline(&vec![80.0f32; 5000], 0.1, &cfg);
        assert!(b.iter().all(|&v| v == cfg.baseline_cap_uv as f32));
        let b = running_baseline(&vec![0.0f32; 5000], 0.1, &cfg);
        assert!(b.iter().all(|&v| v == cfg.baseline_floor_uv as f32));
        let b = running_baseline(&[f32::NAN; 50], 0.1, &cfg);
        assert!(b.iter().all(|&v| v == cfg.baseline_floor_uv as f32));
    }
}
