//! The event schedule of a night: cramps, LMs and PLM series, the truth.

use super::*;

/// One truth row.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthEvent {
    pub channel: usize,
    pub kind: EpisodeKind,
    pub start_s: f64,
    pub end_s: f64,
    /// Plateau amplitude, µV RMS.
    pub amp_uv: f64,
    /// Dips of a cramp: (centre s, half-width s, remaining fraction).
    pub dips: Vec<(f64, f64, f64)>,
}

/// What the schedule draws (ranges of the easy night unless stated).
#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    pub cramps_per_h: f64,
    /// Cramp duration range, s.
    pub cramp_s: (f64, f64),
    /// Cramp amplitude range, µV RMS.
    pub cramp_uv: (f64, f64),
    /// Share of LM groups that are periodic series; 0 keeps the easy series.
    pub plm_series_fraction: f64,
    /// Exactly this many cramps (none allowed), instead of `cramps_per_h`
    /// (at least one): a cohort night's Poisson draw.
    pub n_cramps: Option<usize>,
}

impl ScheduleSpec {
    /// The easy night's schedule.
    pub fn easy(cramps_per_h: f64) -> ScheduleSpec {
        ScheduleSpec {
            cramps_per_h,
            cramp_s: (20.0, 90.0),
            cramp_uv: (50.0, 120.0),
            plm_series_fraction: 0.0,
            n_cramps: None,
        }
    }
}

/// Whether `[s, e]` comes closer to an event than its margin: 45 s around
/// cramps (room for the stretch after), 8 s around other events.
pub(super) fn overlaps(events: &[TruthEvent], s: f64, e: f64) -> bool {
    events.iter().any(|ev| {
        let margin = if ev.kind == EpisodeKind::Cramp {
            45.0
        } else {
            8.0
        };
        s < ev.end_s + margin && e > ev.start_s - margin
    })
}

/// The event schedule of one night.
pub fn schedule(rng: &mut ChaCha8Rng, duration_s: f64, spec: &ScheduleSpec) -> Vec<TruthEvent> {
    let cramps_per_h = spec.cramps_per_h;
    let mut events = Vec::new();
    // Cramps first, spread over the night, each with room for the stretch after it.
    let n_cramps = spec
        .n_cramps
        .unwrap_or_else(|| ((duration_s / 3600.0 * cramps_per_h).round() as usize).max(1));
    for k in 0..n_cramps {
        let dur = rng
            .random_range(spec.cramp_s.0..spec.cramp_s.1)
            .min(duration_s * 0.3);
        let slot = duration_s / n_cramps as f64;
        let lo = k as f64 * slot + 70.0;
        let hi = ((k + 1) as f64 * slot - dur - 60.0).max(lo + 1.0);
        let start = rng.random_range(lo..hi);
        if start + dur + 40.0 > duration_s {
            continue;
        }
        events.push(TruthEvent {
            channel: rng.random_range(0..2usize),
            kind: EpisodeKind::Cramp,
            start_s: start,
            end_s: start + dur,
            amp_uv: rng.random_range(spec.cramp_uv.0..spec.cramp_uv.1),
            dips: vec![(0.5 * (start + (start + dur)), 0.5, 0.4)],
        });
    }
    // Leg movements, single or in periodic series, away from the cramps.
    let mut t = rng.random_range(15.0..40.0f64);
    while t < duration_s - 20.0 {
        let periodic = spec.plm_series_fraction > 0.0;
        let series = rng.random_bool(if periodic {
            spec.plm_series_fraction
        } else {
            0.3
        });
        let count = match (series, periodic) {
            (false, _) => 1,
            (true, false) => rng.random_range(4..7usize),
            (true, true) => rng.random_range(4..9usize),
        };
        let channel = rng.random_range(0..2usize);
        let mut placed = Vec::new();
        let mut s = t;
        for _ in 0..count {
            let dur = rng.random_range(0.8..5.0f64);
            if s + dur > duration_s - 5.0 || overlaps(&events, s, s + dur) {
                break;
            }
            placed.push(TruthEvent {
                channel,
                kind: EpisodeKind::Lm,
                start_s: s,
                end_s: s + dur,
                amp_uv: rng.random_range(20.0..60.0),
                dips: Vec::new(),
            });
            s += if periodic {
                rng.random_range(10.0..90.0)
            } else {
                rng.random_range(15.0..40.0)
            };
        }
        let last = placed.last().map(|e| e.end_s).unwrap_or(t);
        events.extend(placed);
        t = last + rng.random_range(12.0..90.0);
    }
    events.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    events
}
