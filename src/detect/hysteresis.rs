//! Hysteresis after the WASM leg-movement rule: an episode starts where
//! activity reaches the onset level above resting and ends where it stays
//! below the offset level for the hold time.

use super::WindowSpan;
use crate::config::Config;

/// Activity over baseline, in the unit the thresholds use: µV above resting
/// (absolute mode) or a multiple of resting (relative mode).
#[inline]
fn excess(activity: f32, baseline: f32, relative: bool) -> f32 {
    if relative {
        activity / baseline.max(f32::MIN_POSITIVE)
    } else {
        activity - baseline
    }
}

/// Episodes `[start, end)` in window indices; `end` is the first window of
/// the quiet stretch that ended the episode. Windows with NaN activity end
/// an episode and never start one. Episodes more than
/// [`SLACK_WINDOWS`](super::refine::SLACK_WINDOWS) windows shorter than
/// the minimum duration are dropped; the others are judged on their
/// refined duration by the classification ([`min_windows`] without one).
pub fn hysteresis(
    activity_uv: &[f32],
    baseline_uv: &[f32],
    hop_s: f64,
    cfg: &Config,
) -> Vec<WindowSpan> {
    let mut h = Hysteresis::new(hop_s, cfg);
    let mut spans = Vec::new();
    for (&a, &b) in activity_uv.iter().zip(baseline_uv) {
        spans.extend(h.step(a, b));
    }
    spans.extend(h.finish());
    spans
}

/// The minimum episode duration in windows of `hop_s`: spans of fewer are
/// dropped when their timing cannot be refined.
pub fn min_windows(hop_s: f64, cfg: &Config) -> usize {
    ((cfg.episodes.min_duration_s / hop_s - 1e-9).ceil() as usize).max(1)
}

/// The hysteresis rule as a state machine fed one window at a time.
#[derive(Debug, Clone)]
pub struct Hysteresis {
    relative: bool,
    onset: f32,
    offset: f32,
    hold: usize,
    /// Shortest span kept, windows: the minimum less the refinement slack.
    keep_windows: usize,
    /// Index of the next window.
    i: usize,
    start: Option<usize>,
    quiet_from: Option<usize>,
}

impl Hysteresis {
    pub fn new(hop_s: f64, cfg: &Config) -> Hysteresis {
        let d = &cfg.detector;
        let relative = d.threshold_mode == "relative";
        let (onset, offset) = if relative {
            (d.onset_ratio as f32, d.offset_ratio as f32)
        } else {
            (d.onset_above_uv as f32, d.offset_below_uv as f32)
        };
        Hysteresis {
            relative,
            onset,
            offset,
            hold: ((d.offset_hold_s / hop_s).round() as usize).max(1),
            keep_windows: min_windows(hop_s, cfg)
                .saturating_sub(super::refine::SLACK_WINDOWS)
                .max(1),
            i: 0,
            start: None,
            quiet_from: None,
        }
    }

    /// Index of the next window to be fed.
    pub fn position(&self) -> usize {
        self.i
    }

    /// First window of the episode under way, if one is.
    pub fn open_start(&self) -> Option<usize> {
        self.start
    }

    fn close(&self, s: usize, e: usize) -> Option<WindowSpan> {
        (e - s >= self.keep_windows).then_some((s, e))
    }

    /// Feeds the next window's activity and baseline, µV; returns the
    /// episode it ends, if it ends one that is long enough.
    pub fn step(&mut self, a: f32, b: f32) -> Option<WindowSpan> {
        let i = self.i;
        self.i += 1;
        if !a.is_finite() {
            let ended = self
                .start
                .take()
                .and_then(|s| self.close(s, self.quiet_from.unwrap_or(i)));
            self.quiet_from = None;
            return ended;
        }
        let x = excess(a, b, self.relative);
        match self.start {
            None => {
                if x >= self.onset {
                    self.start = Some(i);
                    self.quiet_from = None;
                }
                None
            }
            Some(s) => {
                if x < self.offset {
                    let q = *self.quiet_from.get_or_insert(i);
                    if i + 1 - q >= self.hold {
                        self.start = None;
                        self.quiet_from = None;
                        return self.close(s, q);
                    }
                } else {
                    self.quiet_from = None;
                }
                None
            }
        }
    }

    /// Ends the series: the episode still under way, if long enough.
    pub fn finish(&mut self) -> Option<WindowSpan> {
        let s = self.start.take()?;
        let e = self.quiet_from.take().unwrap_or(self.i);
        self.close(s, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(a: &[f32]) -> Vec<WindowSpan> {
        let b = vec![2.0f32; a.len()];
        hysteresis(a, &b, 0.1, &Config::default())
    }

    #[test]
    fn onset_at_plus_8_offset_after_half_second_below_plus_2() {
        // rest 2 µV; burst reaching 10 µV (=+8) at index 10, dipping to
        // 3.9 (+1.9) for 4 windows (0.4 s, too short to end), ending at 30.
        let mut a = vec![2.0f32; 60];
        for v in &mut a[10..30] {
            *v = 12.0;
        }
        for v in &mut a[18..22] {
            *v = 3.9;
        }
        assert_eq!(spans(&a), vec![(10, 30)]);
        // Just under the onset: nothing.
        let mut a = vec![2.0f32; 60];
        for v in &mut a[10..30] {
            *v = 9.99;
        }
        assert_eq!(spans(&a), vec![]);
    }

    #[test]
    fn short_bursts_are_dropped_and_nan_ends_an_episode() {
        let mut a = vec![2.0f32; 60];
        for v in &mut a[10..11] {
            *v = 40.0; // 0.1 s: too short even for refinement
        }
        assert_eq!(spans(&a), vec![]);
        // 0.2 s is kept for refinement, which judges its true length.
        a[11] = 40.0;
        assert_eq!(spans(&a), vec![(10, 12)]);
        let mut a = vec![2.0f32; 60];
        for v in &mut a[10..40] {
            *v = 40.0;
        }
        a[25] = f32::NAN;
        assert_eq!(spans(&a), vec![(10, 25), (26, 40)]);
    }

    #[test]
    fn episode_running_to_the_end_is_closed() {
        let mut a = vec![2.0f32; 30];
        for v in &mut a[20..] {
            *v = 40.0;
        }
        assert_eq!(spans(&a), vec![(20, 30)]);
    }
}
