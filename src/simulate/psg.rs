//! The PSG confounders: build-ups, bilateral LMs, body movements, clipping.

use super::*;

/// Draws the PSG confounders (build-ups, bilateral LMs, body movements,
/// clipping) from their own stream `rng`, editing `events`: LMs become
/// bilateral, LMs near a body movement or a clipping stretch are dropped
/// (the truth stays right by construction), body movements are added.
pub(super) fn draw_psg(
    rng: &mut ChaCha8Rng,
    r: &Realism,
    events: &mut Vec<TruthEvent>,
    duration_s: f64,
    rest_of: &dyn Fn(usize) -> f64,
) -> (Vec<Buildup>, Vec<Clip>) {
    let hours = duration_s / 3600.0;
    // Build-ups: each ends at its cramp's onset and keeps 3 s clear of the
    // event before it.
    let mut buildups = Vec::new();
    for ev in events.iter().filter(|e| e.kind == EpisodeKind::Cramp) {
        if !rng.random_bool(r.buildup_fraction.clamp(0.0, 1.0)) {
            continue;
        }
        let (lo, hi) = r.buildup_s;
        let want = rng.random_range(lo..hi.max(lo + 1e-9));
        let prev_end = events
            .iter()
            .filter(|o| o.end_s <= ev.start_s)
            .map(|o| o.end_s)
            .fold(0.0, f64::max);
        let len = want.min(ev.start_s - prev_end - 3.0).min(ev.start_s - 1.0);
        if len >= 5.0 {
            buildups.push(Buildup {
                channel: ev.channel,
                start_s: ev.start_s - len,
                onset_s: ev.start_s,
                rest_uv: rest_of(ev.channel),
            });
        }
    }
    // LM amplitude: weak (11–16 µV above resting) or 20–60 µV.
    let lm_amp = |rng: &mut ChaCha8Rng, c: usize| {
        if rng.random_bool(r.weak_lm_fraction.clamp(0.0, 1.0)) {
            let rest = rest_of(c);
            let above = rng.random_range(11.0..16.0);
            ((rest + above).powi(2) - rest.powi(2)).sqrt() - rest
        } else {
            rng.random_range(20.0..60.0)
        }
    };
    // Bilateral LMs: parts alternate legs; the same leg's parts are at
    // least 1.2 s apart (a 2 s part between, less 2 × 0.4 s overlap), so
    // each leg's detector sees them as separate movements.
    let mut out: Vec<TruthEvent> = Vec::with_capacity(events.len());
    for (i, ev) in events.iter().enumerate() {
        if ev.kind != EpisodeKind::Lm || !rng.random_bool(r.bilateral_lm_fraction.clamp(0.0, 1.0)) {
            out.push(ev.clone());
            continue;
        }
        let limit = events
            .iter()
            .enumerate()
            .filter(|&(j, o)| j != i && o.start_s >= ev.start_s)
            .map(|(_, o)| o.start_s - 3.0)
            .fold(duration_s - 5.0, f64::min);
        let n = rng.random_range(2..5usize);
        let mut parts = Vec::new();
        let (mut s, mut c) = (ev.start_s, ev.channel);
        for _ in 0..n {
            let e = s + rng.random_range(2.0..4.0);
            if e - ev.start_s > crate::config::BILATERAL_MAX_S || e > limit {
                break;
            }
            parts.push(TruthEvent {
                channel: c,
                kind: EpisodeKind::Lm,
                start_s: s,
                end_s: e,
                amp_uv: lm_amp(rng, c),
                dips: Vec::new(),
            });
            c = 1 - c;
            s = e + rng.random_range(-0.4..0.3);
        }
        if parts.len() >= 2 {
            out.extend(parts);
        } else {
            out.push(ev.clone());
        }
    }
    *events = out;
    // Body movements and clipping stretches, in free places: LMs within 8 s
    // are dropped.
    let drop_lms = |events: &mut Vec<TruthEvent>, s: f64, e: f64| {
        events.retain(|ev| ev.kind != EpisodeKind::Lm || ev.end_s < s - 8.0 || ev.start_s > e + 8.0)
    };
    // A start for a stretch of `dur_s` (s) in a free place, up to 30 tries;
    // `None` when the night is too short or no try is free.
    let place = |rng: &mut ChaCha8Rng,
                 events: &mut Vec<TruthEvent>,
                 clips: &[Clip],
                 dur_s: std::ops::Range<f64>| {
        for _attempt in 0..30 {
            let dur = rng.random_range(dur_s.clone());
            if duration_s < dur + 40.0 {
                return None;
            }
            let s = rng.random_range(20.0..duration_s - dur - 20.0);
            if !clear_of_cramps(events, clips, s, s + dur) {
                continue;
            }
            drop_lms(events, s, s + dur);
            return Some((s, dur));
        }
        None
    };
    let mut clips: Vec<Clip> = Vec::new();
    let n_moves = (r.body_movements_per_h * hours).round() as usize;
    for _ in 0..n_moves {
        if let Some((s, dur)) = place(rng, events, &clips, 20.0..45.0) {
            let (d0, d1) = (rng.random_range(0.0..0.8), rng.random_range(-0.8..0.8));
            for (c, (a, b)) in [(s, s + dur), (s + d0, s + dur + d1)]
                .into_iter()
                .enumerate()
            {
                events.push(TruthEvent {
                    channel: c,
                    kind: EpisodeKind::Movement,
                    start_s: a,
                    end_s: b,
                    amp_uv: rng.random_range(40.0..150.0),
                    dips: Vec::new(),
                });
            }
        }
    }
    let n_clips = (r.clipping_per_h * hours).round() as usize;
    for _ in 0..n_clips {
        if let Some((s, dur)) = place(rng, events, &clips, 3.0..20.0) {
            clips.push(Clip {
                channel: rng.random_range(0..2usize),
                start_s: s,
                end_s: s + dur,
                segments: rng.random_range(1..4usize),
                first_positive: rng.random_bool(0.5),
            });
        }
    }
    events.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    clips.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    (buildups, clips)
}
