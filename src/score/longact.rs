//! Long activity after classification: cramp, body movement or sustained,
//! decided from all the evidence of the night (issue 15).
//!
//! A channel's classifier sees one channel; this stage sees the night's
//! long episodes together, each with the [`LongEvidence`] gathered while
//! its windows were at hand:
//!
//! 1. **Synchrony of the legs.** A body movement ("large muscle-group
//!    movement", IRLSSG 2021) starts on several channels at once; a cramp is
//!    localised to one muscle of one leg (Ross & Thomas 1995). Episodes on
//!    different legs whose onsets lie within `sync_onset_s` of each other
//!    and that overlap for at least half of the shorter one form a
//!    synchronous group. A group longer than `body_movement_min_s` (longer
//!    than any bilateral candidate LM, WASM 2016), or one holding a cramp
//!    candidate, is a body movement whether or not an accelerometer is
//!    present; a shorter one (from
//!    `body_movement_accel_min_s`) is one only with accelerometer movement,
//!    and otherwise stays what WASM makes of it (a bilateral LM).
//!    Bilateral cramps are told apart by their onsets: two cramps on the two
//!    legs start independently, seconds to minutes apart, and each keeps its
//!    kind; two legs that start within `sync_onset_s` move together.
//! 2. **The accelerometer, summarised robustly** over the stretch without
//!    its first and last [`EDGE_TRIM_S`] (where the jerk of a cramp's onset
//!    and the stretching after it belong): the share of values at or above
//!    `accel_movement_g`. Turning over is intermittent (pauses, a rise and a
//!    fall), so a share of `body_movement_accel_fraction` counts as moving,
//!    not "throughout"; a cramp holds the leg still.
//! 3. **A tonic or phasic pattern**: the tonic index, the 25th over the 75th
//!    percentile of the activity above resting inside the episode. A cramp
//!    is a sustained tonic contraction (a plateau, index near 1); movement
//!    activity waxes and wanes.
//! 4. **Motion-artifact content** of the raw EMG below the EMG band
//!    (electrode movement, mostly under 20 Hz; De Luca et al. 2010): its
//!    median RMS over the episode's median band RMS.
//!
//! A single-leg cramp candidate with the accelerometer moving becomes a
//! movement; one with the EMG evidence against it (phasic, or dominated by
//! motion artifact) becomes `sustained` with the reason in its rules; one
//! piece of weak evidence against it keeps it a cramp with a lower
//! confidence and the rule `ambiguous_<what>`.

use super::classify::AccelSeries;
use super::{leg_key, Episode, EpisodeKind};
use crate::config::CrampConfig;

/// Seconds at each end of an episode left out of its accelerometer
/// summary: a cramp's onset jerk is looked for up to 2 s after the onset
/// (the cramp rule's window), and stretching starts at its end.
pub const EDGE_TRIM_S: f64 = 2.0;

/// Confidence taken off a cramp for each piece of evidence against it.
pub const AMBIGUITY_PENALTY: f64 = 0.2;

/// What the night-level decision reads of one long episode.
#[derive(Debug, Clone, Default)]
pub struct LongEvidence {
    /// Accelerometer ENMO under the episode (none without an accelerometer).
    pub accel: Option<AccelSeries>,
    /// 25th over 75th percentile of activity above resting inside the
    /// episode, 0–1 (1: a flat plateau).
    pub tonic_index: Option<f64>,
    /// Median motion-artifact RMS below the EMG band over the median band
    /// RMS of the episode.
    pub motion_ratio: Option<f64>,
    /// Where the episode's activity began, s: before its onset when a
    /// cramp's onset moved to where its activity holds the onset level.
    pub activity_start_s: Option<f64>,
}

impl LongEvidence {
    /// Share of the accelerometer values at or above `g` over the episode
    /// `[t0, t1]` without its edges; `None` without an accelerometer.
    pub fn accel_share(&self, t0: f64, t1: f64, g: f64) -> Option<f64> {
        let a = self.accel.as_ref()?;
        let (mut s, mut e) = (t0 + EDGE_TRIM_S, t1 - EDGE_TRIM_S);
        if e - s < 1.0 {
            (s, e) = (t0, t1);
        }
        Some(a.fraction_at_least(s, e, g))
    }
}

/// Shortest episode the decision looks at, s: the shorter of the two body
/// movement lengths (with and without accelerometer support).
pub fn long_min_s(c: &CrampConfig) -> f64 {
    c.body_movement_accel_min_s.min(c.body_movement_min_s)
}

/// Time `a` and `b` share, s (negative when apart).
fn overlap_s(a: &Episode, b: &Episode) -> f64 {
    a.end_s.min(b.end_s) - a.start_s.max(b.start_s)
}

/// Whether two episodes on different legs start together: the onsets of
/// their activity (`onset_a`, `onset_b`, s) within `sync_onset_s`, and the
/// episodes overlapping for at least half of the shorter one.
fn synchronous(a: &Episode, b: &Episode, (onset_a, onset_b): (f64, f64), c: &CrampConfig) -> bool {
    leg_key(a) != leg_key(b)
        && (onset_a - onset_b).abs() <= c.sync_onset_s
        && overlap_s(a, b) >= 0.5 * a.duration_s().min(b.duration_s())
}

/// Where each episode's activity began, s.
fn activity_onsets(episodes: &[Episode], evidence: &[Option<LongEvidence>]) -> Vec<f64> {
    episodes
        .iter()
        .zip(evidence)
        .map(|(e, ev)| {
            ev.as_ref()
                .and_then(|v| v.activity_start_s)
                .map_or(e.start_s, |t| t.min(e.start_s))
        })
        .collect()
}

/// Groups of synchronous episodes (indices), each of at least two legs.
fn synchronous_groups(episodes: &[Episode], onsets: &[f64], c: &CrampConfig) -> Vec<Vec<usize>> {
    let n = episodes.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let eligible = |e: &Episode| e.duration_s() >= long_min_s(c);
    // Episodes are sorted by onset, and an activity onset lies at most a
    // cramp's onset hold and build-up before it: look that far ahead.
    let reach = c.sync_onset_s + c.buildup_max_s;
    for i in 0..n {
        if !eligible(&episodes[i]) {
            continue;
        }
        for j in i + 1..n {
            if episodes[j].start_s - episodes[i].start_s > reach {
                break;
            }
            let pair = (onsets[i], onsets[j]);
            if eligible(&episodes[j]) && synchronous(&episodes[i], &episodes[j], pair, c) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let roots: Vec<usize> = (0..n).map(|i| root(&mut parent, i)).collect();
    let mut size = vec![0usize; n];
    for &r in &roots {
        size[r] += 1;
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut at: Vec<Option<usize>> = vec![None; n];
    for (i, &r) in roots.iter().enumerate() {
        if size[r] < 2 {
            continue;
        }
        match at[r] {
            Some(g) => groups[g].push(i),
            None => {
                at[r] = Some(groups.len());
                groups.push(vec![i]);
            }
        }
    }
    groups
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Relabels a synchronous group as a body movement when it is one.
fn settle_group(
    episodes: &mut [Episode],
    group: &[usize],
    evidence: &[Option<LongEvidence>],
    c: &CrampConfig,
) {
    let t0 = group
        .iter()
        .map(|&i| episodes[i].start_s)
        .fold(f64::MAX, f64::min);
    let t1 = group
        .iter()
        .map(|&i| episodes[i].end_s)
        .fold(f64::MIN, f64::max);
    let lag = group
        .iter()
        .map(|&i| episodes[i].start_s)
        .fold(f64::MIN, f64::max)
        - t0;
    let share = group
        .iter()
        .filter_map(|&i| evidence[i].as_ref())
        .find_map(|ev| ev.accel_share(t0, t1, c.accel_movement_g));
    let moving = share.is_some_and(|s| s >= c.body_movement_accel_fraction);
    // A cramp is localised: one whose onset another leg shares is part of
    // a movement, however long the group (it lasts 15 s or more anyway).
    let has_cramp = group
        .iter()
        .any(|&i| episodes[i].kind == EpisodeKind::Cramp);
    let long = t1 - t0 >= c.body_movement_min_s || has_cramp;
    if !(long || (moving && t1 - t0 >= c.body_movement_accel_min_s)) {
        return;
    }
    // Confidence: synchrony alone 0.6; accelerometer movement raises it,
    // a still accelerometer lowers it (a rare pair of simultaneous cramps).
    let confidence = match share {
        Some(s) if s >= c.body_movement_accel_fraction => 0.9 + 0.1 * s,
        Some(_) => 0.5,
        None => 0.6,
    };
    for &i in group {
        let e = &mut episodes[i];
        if e.kind == EpisodeKind::Movement {
            continue;
        }
        e.kind = EpisodeKind::Movement;
        e.buildup_s = None;
        e.confidence = round3(confidence);
        e.rules.push(format!(
            "synchronous_legs={} onset_lag_s={lag:.1}",
            group.len()
        ));
        if let Some(s) = share {
            e.rules.push(format!("accel_moving_share={s:.2}"));
        }
        if share.is_some_and(|s| s < c.body_movement_accel_fraction) {
            e.rules.push("ambiguous_accel_still".into());
            e.ambiguous = true;
        }
    }
}

/// Whether episode `i` has a partner on another channel of the same leg
/// that starts with it: the activity is not localised to one muscle.
fn spread_on_leg(episodes: &[Episode], i: usize, c: &CrampConfig) -> bool {
    let a = &episodes[i];
    episodes.iter().enumerate().any(|(j, b)| {
        j != i
            && b.channel != a.channel
            && leg_key(a) == leg_key(b)
            && (a.start_s - b.start_s).abs() <= c.sync_onset_s
            && overlap_s(a, b) >= 0.5 * a.duration_s().min(b.duration_s())
    })
}

/// Whether another leg's long activity ends with episode `i` (offsets
/// within `sync_onset_s`) over at least half of its own length: a movement
/// that the cramp candidate's leg ran into, or shared with.
fn shared_offset(episodes: &[Episode], i: usize, c: &CrampConfig) -> bool {
    let a = &episodes[i];
    episodes.iter().enumerate().any(|(j, b)| {
        j != i
            && leg_key(a) != leg_key(b)
            && b.duration_s() >= c.body_movement_accel_min_s
            && (a.end_s - b.end_s).abs() <= c.sync_onset_s
            && overlap_s(a, b) >= 0.5 * b.duration_s()
    })
}

/// Weighs the evidence against one single-leg cramp; `spread` says
/// whether another muscle of the leg started with it, `shared_end`
/// whether another leg's activity ended with it.
fn settle_cramp(
    e: &mut Episode,
    ev: &LongEvidence,
    (spread, shared_end): (bool, bool),
    c: &CrampConfig,
) {
    let share = ev.accel_share(e.start_s, e.end_s, c.accel_movement_g);
    let mut against = Vec::new();
    if spread {
        against.push("not_localised".to_string());
    }
    if shared_end {
        against.push("offset_shared_with_other_leg".to_string());
    }
    if let Some(s) = share {
        if s >= c.body_movement_accel_fraction {
            e.kind = EpisodeKind::Movement;
            e.buildup_s = None;
            e.confidence = round3(0.6 + 0.4 * s);
            e.rules.push(format!("accel_moving_share={s:.2}"));
            return;
        }
        if s >= 0.5 * c.body_movement_accel_fraction {
            against.push(format!("ambiguous_accel_share={s:.2}"));
        }
    }
    let phasic = ev.tonic_index.filter(|&t| t < c.tonic_index_min);
    let motion = ev.motion_ratio.filter(|&m| m > c.motion_ratio_max);
    if let Some(t) = phasic {
        against.push(format!("phasic_tonic_index={t:.2}"));
    }
    if let Some(m) = motion {
        against.push(format!("motion_artifact_ratio={m:.2}"));
    }
    // Two pieces against it, or both EMG ones: not a cramp.
    if against.len() >= 2 {
        e.kind = EpisodeKind::Sustained;
        e.buildup_s = None;
        e.confidence = round3(0.5 + 0.1 * against.len() as f64);
        e.rules.extend(against);
        e.rules.push("not_cramp_by_evidence".into());
        return;
    }
    if let Some(r) = against.pop() {
        e.confidence = round3((e.confidence - AMBIGUITY_PENALTY).max(0.0));
        e.rules.push(r);
        e.ambiguous = true;
    }
}

/// Settles the night's long activity: synchronous groups first, then every
/// remaining cramp on its own evidence. `episodes` are in onset order;
/// `evidence[i]` belongs to `episodes[i]` (gathered for long episodes).
pub fn settle(episodes: &mut [Episode], evidence: &[Option<LongEvidence>], c: &CrampConfig) {
    debug_assert_eq!(episodes.len(), evidence.len());
    let onsets = activity_onsets(episodes, evidence);
    for group in synchronous_groups(episodes, &onsets, c) {
        settle_group(episodes, &group, evidence, c);
    }
    let spread: Vec<(bool, bool)> = (0..episodes.len())
        .map(|i| {
            let cramp = episodes[i].kind == EpisodeKind::Cramp;
            (
                cramp && spread_on_leg(episodes, i, c),
                cramp && shared_offset(episodes, i, c),
            )
        })
        .collect();
    for ((e, ev), spread) in episodes.iter_mut().zip(evidence).zip(spread) {
        if let (EpisodeKind::Cramp, Some(ev)) = (e.kind, ev) {
            settle_cramp(e, ev, spread, c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(ch: &str, side: &str, kind: EpisodeKind, s: f64, e: f64) -> Episode {
        let mut x = Episode::bare(ch, kind, s, e);
        x.side = Some(side.into());
        x.confidence = 0.8;
        x
    }

    /// ENMO of 0.2 g over `[from_s, to_s)` in 0.1 s values, 0 elsewhere.
    fn accel(spans: &[(f64, f64)]) -> AccelSeries {
        let mut v = vec![0.0f32; 3000];
        for &(a, b) in spans {
            for x in &mut v[(a * 10.0) as usize..(b * 10.0) as usize] {
                *x = 0.2;
            }
        }
        AccelSeries::whole(0.1, v)
    }

    fn with(acc: Option<AccelSeries>, tonic: f64) -> Option<LongEvidence> {
        Some(LongEvidence {
            accel: acc,
            tonic_index: Some(tonic),
            motion_ratio: Some(0.1),
            activity_start_s: None,
        })
    }

    fn kinds(eps: &[Episode]) -> Vec<EpisodeKind> {
        eps.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn legs_starting_together_for_long_are_a_movement_with_or_without_accel() {
        let c = CrampConfig::default();
        // 30 s on both legs, the right 1.8 s later, tonic, no accelerometer.
        let mut eps = vec![
            ep("l", "left", EpisodeKind::Cramp, 100.0, 130.0),
            ep("r", "right", EpisodeKind::Cramp, 101.8, 131.0),
        ];
        settle(&mut eps, &[with(None, 0.9), with(None, 0.9)], &c);
        assert_eq!(kinds(&eps), vec![EpisodeKind::Movement; 2]);
        assert!(eps[0].rules[0].starts_with("synchronous_legs=2"));
        // A 15 s cramp candidate with the other leg's 12 s starting 1.8 s
        // later: shorter than 16 s together, but a cramp is localised.
        let mut eps = vec![
            ep("r", "right", EpisodeKind::Cramp, 739.5, 754.5),
            ep("l", "left", EpisodeKind::Sustained, 741.3, 753.7),
        ];
        settle(&mut eps, &[with(None, 0.9), with(None, 0.9)], &c);
        assert_eq!(kinds(&eps), vec![EpisodeKind::Movement; 2]);
        // Onsets 3 s apart: two cramps that started independently.
        let mut eps = vec![
            ep("l", "left", EpisodeKind::Cramp, 100.0, 130.0),
            ep("r", "right", EpisodeKind::Cramp, 103.0, 131.0),
        ];
        settle(&mut eps, &[with(None, 0.9), with(None, 0.9)], &c);
        assert_eq!(kinds(&eps), vec![EpisodeKind::Cramp; 2]);
        // ... unless the later cramp's activity began with the other leg's
        // and only its onset moved to where it holds the onset level.
        let mut eps = vec![
            ep("l", "left", EpisodeKind::Cramp, 100.0, 130.0),
            ep("r", "right", EpisodeKind::Cramp, 106.0, 131.0),
        ];
        let mut late = with(None, 0.9);
        late.as_mut().unwrap().activity_start_s = Some(101.5);
        settle(&mut eps, &[with(None, 0.9), late], &c);
        assert_eq!(kinds(&eps), vec![EpisodeKind::Movement; 2]);
        // Two muscles of one leg are not two legs: still a cramp, but not
        // localised to one muscle, so flagged.
        let mut eps = vec![
            ep("gas_l", "left", EpisodeKind::Cramp, 100.0, 130.0),
            ep("tib_l", "left", EpisodeKind::Sustained, 100.5, 131.0),
        ];
        settle(&mut eps, &[with(None, 0.9), with(None, 0.9)], &c);
        assert_eq!(eps[0].kind, EpisodeKind::Cramp);
        assert!(eps[0].ambiguous);
        assert!(eps[0].rules.iter().any(|r| r == "not_localised"));
    }

    #[test]
    fn intermittent_accelerometer_counts_as_moving() {
        let c = CrampConfig::default();
        // 12 s on both legs (a bilateral-LM length), the accelerometer
        // moving in 3 of 8 interior seconds: a movement.
        let acc = accel(&[(103.0, 104.0), (106.0, 107.0), (108.0, 109.0)]);
        let mut eps = vec![
            ep("l", "left", EpisodeKind::Sustained, 100.0, 112.0),
            ep("r", "right", EpisodeKind::Sustained, 100.4, 112.0),
        ];
        let ev = [with(Some(acc.clone()), 0.4), with(Some(acc), 0.4)];
        settle(&mut eps, &ev, &c);
        assert_eq!(kinds(&eps), vec![EpisodeKind::Movement; 2]);
        // The same 12 s with a still accelerometer stays as detected.
        let mut eps = vec![
            ep("l", "left", EpisodeKind::Sustained, 100.0, 112.0),
            ep("r", "right", EpisodeKind::Sustained, 100.4, 112.0),
        ];
        let still = [with(Some(accel(&[])), 0.4), with(Some(accel(&[])), 0.4)];
        settle(&mut eps, &still, &c);
        assert_eq!(kinds(&eps), vec![EpisodeKind::Sustained; 2]);
    }

    #[test]
    fn a_cramp_keeps_its_kind_through_onset_jerk_and_stretching() {
        let c = CrampConfig::default();
        // Movement in the first and last 2 s and after the end: edges.
        let acc = accel(&[(99.0, 101.5), (128.5, 140.0)]);
        let mut eps = vec![ep("l", "left", EpisodeKind::Cramp, 100.0, 130.0)];
        settle(&mut eps, &[with(Some(acc), 0.85)], &c);
        assert_eq!(eps[0].kind, EpisodeKind::Cramp);
        assert_eq!(eps[0].confidence, 0.8);
    }

    #[test]
    fn one_leg_with_the_accelerometer_moving_or_phasic_emg_is_no_cramp() {
        let c = CrampConfig::default();
        let moving = accel(&[(105.0, 112.0), (115.0, 122.0)]);
        let mut eps = vec![ep("l", "left", EpisodeKind::Cramp, 100.0, 130.0)];
        settle(&mut eps, &[with(Some(moving), 0.85)], &c);
        assert_eq!(eps[0].kind, EpisodeKind::Movement);
        // Phasic and dominated by motion artifact, no accelerometer.
        let mut eps = vec![ep("l", "left", EpisodeKind::Cramp, 100.0, 130.0)];
        let ev = LongEvidence {
            accel: None,
            tonic_index: Some(0.1),
            motion_ratio: Some(3.0),
            activity_start_s: None,
        };
        settle(&mut eps, &[Some(ev)], &c);
        assert_eq!(eps[0].kind, EpisodeKind::Sustained);
        assert!(eps[0].rules.iter().any(|r| r == "not_cramp_by_evidence"));
        // Only phasic: still a cramp, flagged and less confident.
        let mut eps = vec![ep("l", "left", EpisodeKind::Cramp, 100.0, 130.0)];
        settle(&mut eps, &[with(None, 0.1)], &c);
        assert_eq!(eps[0].kind, EpisodeKind::Cramp);
        assert!(eps[0].ambiguous);
        assert!(eps[0].rules.iter().any(|r| r == "phasic_tonic_index=0.10"));
        assert!((eps[0].confidence - 0.6).abs() < 1e-9);
    }
}
