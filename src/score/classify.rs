//! Classifies one channel's hysteresis spans as cramp, LM or sustained.
//!
//! Cramp rule (DESIGN.md starting point, all values in `[cramp]`): spans
//! separated by at most `bridge_gap_s` are joined; a joined stretch of at
//! least `min_duration_s` is a cramp when it is tonic (at least
//! `min_active_fraction` of its windows above the onset level), its median
//! amplitude is at least `min_above_uv` above resting and at least
//! `min_ratio_preceding` times the median of the preceding
//! `preceding_s`. Accelerometer movement at onset or in the
//! `accel_after_s` after the end supports it (raises the confidence).

use super::plm::morphology_ok;
use super::{Episode, EpisodeKind};
use crate::config::Config;
use crate::detect::hysteresis::min_windows;
use crate::detect::refine::{refine_span, MIN_DURATION_TOLERANCE_S};
use crate::detect::stream::SpanGroup;
use crate::detect::{ActivitySeries, WindowSpan};
use crate::dsp::stats::{median, percentile_in_place};

pub use crate::dsp::enmo::AccelSeries;

/// One channel's detector output, ready for classification.
pub struct ChannelDetection<'a> {
    pub name: &'a str,
    pub series: &'a ActivitySeries,
    pub baseline_uv: &'a [f32],
    pub spans: &'a [WindowSpan],
}

fn clamp01(x: f64) -> f64 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// A hysteresis span with its onset and offset, s.
#[derive(Debug, Clone, Copy)]
struct Timed {
    span: WindowSpan,
    start_s: f64,
    end_s: f64,
}

/// The channel's spans that last the minimum duration, timed: refined at
/// sample resolution where the detector gives a fine envelope
/// ([`refine_span`]) and judged on that duration, else on the window grid
/// and judged in windows. A refined onset does not go back before the
/// previous span's offset.
fn timed_spans(ch: &ChannelDetection, cfg: &Config) -> Vec<Timed> {
    let min_w = min_windows(ch.series.hop_s, cfg);
    let mut out: Vec<Timed> = Vec::with_capacity(ch.spans.len());
    for &span in ch.spans {
        let t = match refine_span(ch.series, ch.baseline_uv, span, cfg) {
            Some((a, b)) => {
                let a = out.last().map_or(a, |p| a.max(p.end_s));
                if b - a < cfg.episodes.min_duration_s - MIN_DURATION_TOLERANCE_S {
                    continue;
                }
                (a, b)
            }
            None if span.1 - span.0 >= min_w => {
                (ch.series.time_s(span.0), ch.series.time_s(span.1))
            }
            None => continue,
        };
        out.push(Timed {
            span,
            start_s: t.0,
            end_s: t.1,
        });
    }
    out
}

/// Episodes of one channel, in time order.
pub fn classify_channel(
    ch: &ChannelDetection,
    accel: Option<&AccelSeries>,
    cfg: &Config,
) -> Vec<Episode> {
    let hop = ch.series.hop_s;
    let bridge = (cfg.cramp.bridge_gap_s / hop).round() as usize;
    let spans = timed_spans(ch, cfg);
    let mut out = Vec::new();
    let mut i = 0;
    while i < spans.len() {
        // Join spans whose gaps are short enough to bridge.
        let mut j = i;
        while j + 1 < spans.len() && spans[j + 1].span.0 - spans[j].span.1 <= bridge {
            j += 1;
        }
        let joined = (spans[i].span.0, spans[j].span.1);
        if (joined.1 - joined.0) as f64 * hop >= cfg.cramp.min_duration_s {
            if let Some(ep) = cramp(ch, joined, accel, cfg) {
                out.push(ep);
                i = j + 1;
                continue;
            }
        }
        for t in &spans[i..=j] {
            out.push(movement(ch, t, accel, cfg));
        }
        i = j + 1;
    }
    out
}

/// Episodes of one group of joined spans that a channel's stream cut out
/// ([`SpanGroup`]), in time order.
pub fn classify_group(
    name: &str,
    group: &SpanGroup,
    accel: Option<&AccelSeries>,
    cfg: &Config,
) -> Vec<Episode> {
    let ch = ChannelDetection {
        name,
        series: &group.series,
        baseline_uv: &group.baseline_uv,
        spans: &group.spans,
    };
    classify_channel(&ch, accel, cfg)
}

/// Window indices `[a, b)` of `series` under `[t0, t1]`, s (window centres).
fn windows_under(series: &ActivitySeries, t0: f64, t1: f64) -> (usize, usize) {
    let n = series.activity_uv.len() as isize;
    let idx = |t: f64| {
        let k = ((t - series.first_center_s) / series.hop_s).round() as isize
            - series.first_index as isize;
        k.clamp(0, n) as usize
    };
    (idx(t0), idx(t1).max(idx(t0)))
}

/// Window where the activity that episode window `k` belongs to began: the
/// start of the joined stretch (spans bridged by `bridge_gap_s`) holding
/// `k`. A cramp's onset moves to where its activity holds the onset level;
/// the legs' synchrony is judged from where the activity began.
fn activity_start(group: &SpanGroup, k: usize, bridge_gap_s: f64) -> Option<usize> {
    let spans = &group.spans;
    let mut i = spans.iter().position(|&(a, b)| a <= k && k < b)?;
    let bridge = (bridge_gap_s / group.series.hop_s).round() as usize;
    while i > 0 && spans[i].0 - spans[i - 1].1 <= bridge {
        i -= 1;
    }
    Some(spans[i].0)
}

/// What the night-level long-activity decision ([`longact`]) reads of
/// episode `e` of `group`: the tonic index of its activity above resting,
/// its motion-artifact ratio, where its activity began (spans joined over
/// gaps up to `bridge_gap_s`, s), and the accelerometer values under it.
///
/// [`longact`]: super::longact
pub fn long_evidence(
    group: &SpanGroup,
    e: &Episode,
    accel: Option<&AccelSeries>,
    bridge_gap_s: f64,
) -> super::longact::LongEvidence {
    let s = &group.series;
    let (a, b) = windows_under(s, e.start_s, e.end_s);
    let mut above: Vec<f32> = (a..b)
        .filter(|&k| s.activity_uv[k].is_finite())
        .map(|k| (s.activity_uv[k] - group.baseline_uv[k]).max(0.0))
        .collect();
    let p75 = percentile_in_place(&mut above, 75.0);
    let p25 = percentile_in_place(&mut above, 25.0);
    let tonic_index = match (p25, p75) {
        (Some(lo), Some(hi)) if hi > 0.0 => Some(round_to(clamp01((lo / hi) as f64), 3)),
        _ => None,
    };
    let finite = |v: &[f32]| -> Vec<f32> { v.iter().copied().filter(|x| x.is_finite()).collect() };
    let motion = percentile_in_place(&mut finite(&s.motion_uv[a..b]), 50.0);
    let band = percentile_in_place(&mut finite(&s.activity_uv[a..b]), 50.0);
    let motion_ratio = match (motion, band) {
        (Some(m), Some(b)) if b > 0.0 => Some(round_to((m / b) as f64, 3)),
        _ => None,
    };
    super::longact::LongEvidence {
        accel: accel.map(|x| x.cut(e.start_s, e.end_s)),
        tonic_index,
        motion_ratio,
        activity_start_s: activity_start(group, a, bridge_gap_s).map(|k| s.time_s(k)),
    }
}

/// Amplitude figures of a span: (peak, mean, mean baseline, median freq).
fn features(ch: &ChannelDetection, (s, e): WindowSpan) -> (f64, f64, f64, Option<f64>) {
    let act = &ch.series.activity_uv[s..e];
    let base = &ch.baseline_uv[s..e];
    let (mut peak, mut sum, mut bsum, mut n) = (0f64, 0f64, 0f64, 0usize);
    for (&a, &b) in act.iter().zip(base) {
        if a.is_finite() {
            peak = peak.max(a as f64);
            sum += a as f64;
            bsum += b as f64;
            n += 1;
        }
    }
    let n = n.max(1) as f64;
    let mf: Vec<f32> = ch.series.median_freq_hz[s..e]
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    (peak, sum / n, bsum / n, median(&mf).map(|v| v as f64))
}

/// An episode of `kind` whose amplitude figures come from the windows of
/// `span` and whose onset and offset are `(start_s, end_s)`, s.
fn new_episode(
    ch: &ChannelDetection,
    kind: EpisodeKind,
    span: WindowSpan,
    (start_s, end_s): (f64, f64),
    accel: Option<&AccelSeries>,
    confidence: f64,
    rules: Vec<String>,
) -> Episode {
    let (peak, mean, base, mf) = features(ch, span);
    Episode {
        channel: ch.name.to_string(),
        kind,
        start_s,
        end_s,
        peak_rms_uv: peak,
        mean_rms_uv: mean,
        baseline_rms_uv: base,
        median_freq_hz: mf,
        accel_enmo_g: accel.and_then(|a| a.mean(start_s, end_s)),
        confidence: round_to(confidence, 3),
        rules,
        wasm_morphology: true,
        side: super::side_of(ch.name).map(str::to_string),
        muscle: super::muscle_of(ch.name).map(str::to_string),
        buildup_s: None,
        ambiguous: false,
        stage: None,
        wake_within_120s: None,
        wake_after_min: None,
        back_to_sleep_min: None,
    }
}

/// An LM or sustained episode, its kind from its (refined) duration.
fn movement(
    ch: &ChannelDetection,
    t: &Timed,
    accel: Option<&AccelSeries>,
    cfg: &Config,
) -> Episode {
    let span = t.span;
    let dur = t.end_s - t.start_s;
    let kind = if dur <= cfg.episodes.lm_max_s {
        EpisodeKind::Lm
    } else {
        EpisodeKind::Sustained
    };
    let (peak, _, base, _) = features(ch, span);
    let onset = cfg.detector.onset_above_uv;
    // Confidence grows from 0.5 at the onset level to 1 at four times it.
    let confidence = 0.5 + 0.5 * clamp01(((peak - base) / onset).log2() / 2.0);
    let mut rules = vec![
        format!("duration_s={dur:.1}"),
        format!("peak_above_uv={:.1}", peak - base),
    ];
    let morph = morphology_ok(
        &ch.series.activity_uv[span.0..span.1],
        &ch.baseline_uv[span.0..span.1],
        ch.series.hop_s,
        cfg.scoring.morphology_min_s,
        cfg.scoring.morphology_min_above_uv,
    );
    if !morph {
        rules.push("fails_wasm_morphology".into());
    }
    let times = (t.start_s, t.end_s);
    let mut ep = new_episode(ch, kind, span, times, accel, confidence, rules);
    ep.wasm_morphology = morph;
    ep
}

/// How long before a cramp's onset its jerk is looked for, s: the
/// accelerometer window `[onset - 1 s, onset + 2 s]` of the cramp rule.
const ONSET_JERK_BEFORE_S: f64 = 1.0;

/// Length of the slow tension build-up ending at window `onset`, s: the
/// stretch just before the onset where the smoothed activity stays at
/// least the WASM offset level above resting, rises towards the onset, and
/// the accelerometer shows no movement. 0 when shorter than
/// `buildup_min_s`. The cramp's onset is not moved.
fn buildup_s(
    ch: &ChannelDetection,
    onset: usize,
    accel: Option<&AccelSeries>,
    cfg: &Config,
) -> f64 {
    let c = &cfg.cramp;
    let hop = ch.series.hop_s;
    let max_n = (c.buildup_max_s / hop).round() as usize;
    let half = ((c.buildup_smooth_s / hop / 2.0).round() as usize).max(1);
    let first = onset.saturating_sub(max_n);
    let act = &ch.series.activity_uv;
    // Smoothed excess at window i, from windows before the onset only.
    let smoothed = |i: usize| -> Option<f64> {
        let a = i.saturating_sub(half).max(first);
        let b = (i + half + 1).min(onset);
        let mut v: Vec<f32> = (a..b)
            .filter(|&k| act[k].is_finite())
            .map(|k| act[k] - ch.baseline_uv[k])
            .collect();
        percentile_in_place(&mut v, 50.0).map(|x| x as f64)
    };
    let mut start = onset;
    // The jerk of the cramp itself (the cramp rule looks for it from 1 s
    // before the onset) is not movement during the build-up.
    let jerk_from_s = ch.series.time_s(onset) - ONSET_JERK_BEFORE_S;
    while start > first {
        let i = start - 1;
        let ok = smoothed(i).is_some_and(|x| x >= cfg.detector.offset_below_uv);
        let t = ch.series.time_s(i);
        let still = t + hop / 2.0 > jerk_from_s
            || accel.is_none_or(|a| {
                a.max(t - hop / 2.0, t + hop / 2.0)
                    .is_none_or(|m| m < c.accel_movement_g)
            });
        if !(ok && still) {
            break;
        }
        start = i;
    }
    let len_s = (onset - start) as f64 * hop;
    if len_s < c.buildup_min_s {
        return 0.0;
    }
    // Rising: the later half of the stretch sits higher than the earlier.
    let mid = start + (onset - start) / 2;
    let med = |a: usize, b: usize| {
        let mut v: Vec<f32> = (a..b)
            .filter(|&k| act[k].is_finite())
            .map(|k| act[k] - ch.baseline_uv[k])
            .collect();
        percentile_in_place(&mut v, 50.0).map(|x| x as f64)
    };
    match (med(start, mid), med(mid, onset)) {
        (Some(early), Some(late)) if late > early => round_to(len_s, 1),
        _ => 0.0,
    }
}

/// First window of `span` from which the activity holds the onset level
/// (`cramp.onset_hold_fraction` of the next `cramp.onset_hold_s`); the span
/// start when no window does.
fn sustained_onset(ch: &ChannelDetection, (s, e): WindowSpan, cfg: &Config) -> usize {
    let need = ((cfg.cramp.onset_hold_s / ch.series.hop_s).round() as usize).max(1);
    let onset = cfg.detector.onset_above_uv;
    let above = |k: usize| {
        let a = ch.series.activity_uv[k];
        a.is_finite() && (a - ch.baseline_uv[k]) as f64 >= onset
    };
    let mut i = s;
    while i + need <= e {
        let n = (i..i + need).filter(|&k| above(k)).count();
        if above(i) && n as f64 >= cfg.cramp.onset_hold_fraction * need as f64 {
            return i;
        }
        i += 1;
    }
    s
}

/// The joined span as a cramp, if it meets the cramp rule.
fn cramp(
    ch: &ChannelDetection,
    span: WindowSpan,
    accel: Option<&AccelSeries>,
    cfg: &Config,
) -> Option<Episode> {
    let c = &cfg.cramp;
    let hop = ch.series.hop_s;
    // Active from the channel's first window: no rest before it to compare
    // with, as in a needle recording contracting throughout (issue 15).
    if ch.series.first_index + span.0 == 0 && !c.cramp_at_start {
        return None;
    }
    // The cramp starts where its activity reaches the onset level and holds
    // it; a lead-in of build-up that only flickers over the onset level is
    // build-up, not cramp, and the rule is judged without it.
    let span = (sustained_onset(ch, span, cfg), span.1);
    if ((span.1 - span.0) as f64) * hop < c.min_duration_s {
        return None;
    }
    let (s, e) = span;
    let act = &ch.series.activity_uv[s..e];
    let base = &ch.baseline_uv[s..e];
    let mut above: Vec<f32> = act
        .iter()
        .zip(base)
        .filter(|(a, _)| a.is_finite())
        .map(|(&a, &b)| a - b)
        .collect();
    if above.is_empty() {
        return None;
    }
    let n = above.len() as f64;
    let active = above
        .iter()
        .filter(|&&x| x as f64 >= cfg.detector.onset_above_uv)
        .count() as f64
        / n;
    let median_above = percentile_in_place(&mut above, 50.0)? as f64;
    let mut inside: Vec<f32> = act.iter().copied().filter(|v| v.is_finite()).collect();
    let median_inside = percentile_in_place(&mut inside, 50.0)? as f64;
    let pre_n = (c.preceding_s / hop).round() as usize;
    let mut before: Vec<f32> = ch.series.activity_uv[s.saturating_sub(pre_n)..s]
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    // With no preceding minute (a cramp at the very start), compare with resting.
    let reference = percentile_in_place(&mut before, 50.0)
        .map(|v| v as f64)
        .unwrap_or_else(|| base.iter().map(|&b| b as f64).sum::<f64>() / base.len() as f64)
        .max(cfg.detector.baseline_floor_uv);
    let ratio = median_inside / reference;
    if active < c.min_active_fraction
        || median_above < c.min_above_uv
        || ratio < c.min_ratio_preceding
    {
        return None;
    }
    let dur = (e - s) as f64 * hop;
    let mut rules = vec![
        format!("duration_s={dur:.1}"),
        format!("active_fraction={active:.2}"),
        format!("median_above_uv={median_above:.1}"),
        format!("ratio_to_preceding={ratio:.1}"),
    ];
    let margin_active =
        clamp01((active - c.min_active_fraction) / (1.0 - c.min_active_fraction).max(1e-9));
    let margin_amp = clamp01((median_above / c.min_above_uv.max(1e-9)).log2() / 2.0);
    let margin_ratio = clamp01((ratio / c.min_ratio_preceding.max(1e-9)).log2() / 3.0);
    let mut confidence = 0.5 + 0.35 * (margin_active + margin_amp + margin_ratio) / 3.0;
    if let Some(a) = accel {
        let t0 = ch.series.time_s(s);
        let t1 = ch.series.time_s(e);
        let jerk = a
            .max(t0 - ONSET_JERK_BEFORE_S, t0 + 2.0)
            .is_some_and(|m| m >= c.accel_movement_g);
        let after = a
            .max(t1, t1 + c.accel_after_s)
            .is_some_and(|m| m >= c.accel_movement_g);
        if jerk {
            rules.push("accel_jerk_at_onset".into());
        }
        if after {
            rules.push("accel_movement_after".into());
        }
        if jerk || after {
            confidence += 0.15;
        }
    }
    let buildup = buildup_s(ch, s, accel, cfg);
    if buildup > 0.0 {
        rules.push(format!("buildup_s={buildup:.1}"));
    }
    // A cramp keeps the window grid: its onset is where its activity holds
    // the onset level, a window-level judgement.
    let times = (ch.series.time_s(s), ch.series.time_s(e));
    let mut ep = new_episode(
        ch,
        EpisodeKind::Cramp,
        span,
        times,
        accel,
        confidence,
        rules,
    );
    ep.buildup_s = Some(buildup);
    Some(ep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(act: Vec<f32>) -> ActivitySeries {
        let n = act.len();
        ActivitySeries {
            hop_s: 0.1,
            first_center_s: 0.125,
            first_index: 0,
            activity_uv: act,
            median_freq_hz: vec![80.0; n],
            motion_uv: vec![0.0; n],
            band_hz: (20.0, 150.0),
            fine_per_window: 0,
            fine_power_uv2: Vec::new(),
            fine_offset_uv2: Vec::new(),
            fine_scale: Vec::new(),
        }
    }

    fn classify(act: Vec<f32>, accel: Option<&AccelSeries>) -> Vec<Episode> {
        let cfg = Config::default();
        let s = series(act);
        let (base, spans) = crate::detect::detect_spans(&s, &cfg);
        let ch = ChannelDetection {
            name: "emg",
            series: &s,
            baseline_uv: &base,
            spans: &spans,
        };
        classify_channel(&ch, accel, &cfg)
    }

    #[test]
    fn long_tonic_strong_activity_is_a_cramp_with_bridged_dips() {
        let mut a = vec![2.0f32; 3000];
        for v in &mut a[1000..1300] {
            *v = 40.0;
        }
        for v in &mut a[1100..1112] {
            *v = 2.0; // a 1.2 s dip, bridged
        }
        let eps = classify(a, None);
        assert_eq!(eps.len(), 1, "{eps:?}");
        assert_eq!(eps[0].kind, EpisodeKind::Cramp);
        assert!((eps[0].start_s - 100.125).abs() < 1e-9);
        assert!((eps[0].end_s - 130.125).abs() < 1e-9);
        assert!((eps[0].peak_rms_uv - 40.0).abs() < 1e-9);
    }

    #[test]
    fn kinds_follow_duration_and_the_cramp_rule() {
        let mut a = vec![2.0f32; 3000];
        for v in &mut a[100..130] {
            *v = 30.0;
        }
        for v in &mut a[1000..1200] {
            *v = 30.0; // 20 s of tonic activity: a cramp
        }
        for v in &mut a[2000..2120] {
            *v = 30.0; // 12 s
        }
        let eps = classify(a, None);
        let kinds: Vec<_> = eps.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            vec![EpisodeKind::Lm, EpisodeKind::Cramp, EpisodeKind::Sustained]
        );
    }

    #[test]
    fn phasic_activity_is_not_a_cramp_and_accel_raises_confidence() {
        let mut a = vec![2.0f32; 3000];
        // 20 s of bursts: 0.6 s on, 1.0 s off (bridged, but active only ~40 %).
        let mut i = 1000;
        while i < 1200 {
            for v in &mut a[i..i + 6] {
                *v = 40.0;
            }
            i += 16;
        }
        let eps = classify(a.clone(), None);
        assert!(eps.iter().all(|e| e.kind == EpisodeKind::Lm), "{eps:?}");

        let mut b = vec![2.0f32; 3000];
        for v in &mut b[1000..1300] {
            *v = 40.0;
        }
        let without = classify(b.clone(), None)[0].confidence;
        let mut enmo = vec![0.0f32; 3000];
        for v in &mut enmo[1310..1400] {
            *v = 0.2;
        }
        let acc = AccelSeries {
            hop_s: 0.1,
            first_index: 0,
            enmo_g: enmo,
        };
        let with = classify(b, Some(&acc));
        assert!(with[0].rules.iter().any(|r| r == "accel_movement_after"));
        assert!((with[0].confidence - without - 0.15).abs() < 1e-3);
        assert!(with[0].accel_enmo_g.unwrap() < 1e-9);
    }

    fn classify_named(name: &str, act: Vec<f32>, accel: Option<&AccelSeries>) -> Vec<Episode> {
        classify_with(name, act, accel, &Config::default())
    }

    fn classify_with(
        name: &str,
        act: Vec<f32>,
        accel: Option<&AccelSeries>,
        cfg: &Config,
    ) -> Vec<Episode> {
        let s = series(act);
        let (base, spans) = crate::detect::detect_spans(&s, cfg);
        let ch = ChannelDetection {
            name,
            series: &s,
            baseline_uv: &base,
            spans: &spans,
        };
        classify_channel(&ch, accel, cfg)
    }

    /// 200 s of rest at 2 µV, a 30 s rise from 4.5 to 9 µV (2.5 to 7 µV
    /// above resting, below the 8 µV onset), then a 30 s cramp at 40 µV.
    fn buildup_night() -> Vec<f32> {
        let mut a = vec![2.0f32; 4000];
        for k in 0..300 {
            a[2000 + k] = 4.5 + 4.5 * k as f32 / 300.0;
        }
        for v in &mut a[2300..2600] {
            *v = 40.0;
        }
        a
    }

    #[test]
    fn buildup_before_a_cramp_is_measured_and_the_onset_stays() {
        let eps = classify_named("EMG Gastroc R", buildup_night(), None);
        assert_eq!(eps.len(), 1, "{eps:?}");
        let c = &eps[0];
        assert_eq!(c.kind, EpisodeKind::Cramp);
        // Onset where the 8 µV level is crossed: window 2300.
        assert!((c.start_s - (0.125 + 230.0)).abs() < 1e-9, "{}", c.start_s);
        let b = c.buildup_s.unwrap();
        assert!((b - 30.0).abs() <= 0.5, "buildup_s = {b}");
        assert_eq!(c.side.as_deref(), Some("right"));
        assert_eq!(c.muscle.as_deref(), Some("gastrocnemius"));
        // The same cramp straight from rest has no build-up.
        let mut flat = vec![2.0f32; 4000];
        for v in &mut flat[2300..2600] {
            *v = 40.0;
        }
        let eps = classify_named("calf_l", flat, None);
        assert_eq!(eps[0].buildup_s, Some(0.0));
        assert_eq!(eps[0].side.as_deref(), Some("left"));
        // A rise with the leg moving (accelerometer) is no tension build-up:
        // movement over the last 10 s before the onset leaves 0.
        let mut enmo = vec![0.0f32; 4000];
        for v in &mut enmo[2200..2300] {
            *v = 0.2;
        }
        let acc = AccelSeries {
            hop_s: 0.1,
            first_index: 0,
            enmo_g: enmo,
        };
        let eps = classify_named("calf_l", buildup_night(), Some(&acc));
        assert_eq!(eps[0].kind, EpisodeKind::Cramp);
        assert_eq!(eps[0].buildup_s, Some(0.0));
    }

    #[test]
    fn build_up_flickering_over_the_onset_level_does_not_move_the_onset() {
        // Single windows of the build-up reach 12 µV (10 above resting) at
        // 205, 215 and 225 s: the span starts at 205 s, but the cramp starts
        // where the activity holds the onset level, at 230 s, and the
        // build-up is still measured back to 200 s.
        let mut a = buildup_night();
        for k in [2050, 2150, 2250] {
            a[k] = 12.0;
        }
        let eps = classify_named("calf_l", a.clone(), None);
        assert_eq!(eps.len(), 1, "{eps:?}");
        assert_eq!(eps[0].kind, EpisodeKind::Cramp);
        assert!(
            (eps[0].start_s - (0.125 + 230.0)).abs() < 1e-9,
            "{}",
            eps[0].start_s
        );
        let b = eps[0].buildup_s.unwrap();
        assert!((b - 30.0).abs() <= 0.5, "buildup_s = {b}");
        // With a hold of one window (`[cramp] onset_hold_s = 0.1`), the
        // first flicker is the onset.
        let mut cfg = Config::default();
        cfg.cramp.onset_hold_s = 0.1;
        let eps = classify_with("calf_l", a, None, &cfg);
        assert_eq!(eps.len(), 1, "{eps:?}");
        assert!(
            (eps[0].start_s - (0.125 + 205.0)).abs() < 1e-9,
            "{}",
            eps[0].start_s
        );
    }

    #[test]
    fn lm_episodes_carry_the_morphology_verdict() {
        let mut a = vec![2.0f32; 3000];
        for v in &mut a[1000..1020] {
            *v = 30.0;
        }
        let eps = classify(a, None);
        assert_eq!(eps.len(), 1);
        assert!(eps[0].wasm_morphology);
        // Single-window spikes 12 µV above resting, 0.4 s apart, with 1 µV
        // between: one 1.3 s LM by the hysteresis (no 0.5 s quiet), but no
        // 0.5 s stretch has its median 2 µV above resting.
        let mut a = vec![2.0f32; 3000];
        for v in &mut a[1000..1013] {
            *v = 3.0;
        }
        for k in [1000, 1004, 1008, 1012] {
            a[k] = 14.0;
        }
        let eps = classify(a, None);
        assert_eq!(eps.len(), 1, "{eps:?}");
        assert!(!eps[0].wasm_morphology);
        assert!(eps[0].rules.iter().any(|r| r == "fails_wasm_morphology"));
    }
}
