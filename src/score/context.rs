//! Night figures that need the night's scorings (README, "Scoring with
//! sleep stages, breathing and arousals"): PLMS and PLMW indices, per-stage
//! PLMS indices, LMs with arousals, and each cramp's stage and awakening.

use super::hypnogram::{Hypnogram, Stage};
use super::plm::LmFigures;
use super::{Episode, EpisodeKind};

/// A cramp is followed by an awakening when wake is scored within this long
/// after its onset, s (cramps are defined by the awakening they cause;
/// ICSD-3).
pub const CRAMP_WAKE_WITHIN_S: f64 = 120.0;

/// Window after a cramp's onset in which wake is counted as sleep the
/// cramp cost, s (issue 19: "the minutes awake in the 30 minutes after
/// it"; the sleep lost to an awakening is mostly within it).
pub const CRAMP_WAKE_WINDOW_S: f64 = 1800.0;

/// Figures per hour of a stage; each `None` without a hypnogram, or without
/// time in that stage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageFigures {
    /// Time awake inside the recording, h.
    pub wake_h: Option<f64>,
    /// PLMs in wake per hour of wake.
    pub plmw_index: Option<f64>,
    /// PLMs in N1, N2, N3 and REM per hour of that stage.
    pub plms_stage_index: [Option<f64>; 4],
    /// PLMs in sleep associated with an arousal; `None` without arousals.
    pub n_plm_arousal: Option<usize>,
    /// Those per hour of sleep; `None` without arousals or hypnogram.
    pub plm_arousal_index: Option<f64>,
}

/// The stages of [`StageFigures::plms_stage_index`], in order.
pub const INDEX_STAGES: [Stage; 4] = [Stage::N1, Stage::N2, Stage::N3, Stage::Rem];

/// PLMs whose onset lies in a stage `pick` takes, per hour of it.
fn plm_index_in(
    lm: &LmFigures,
    h: &Hypnogram,
    until_s: f64,
    pick: impl Fn(Stage) -> bool,
) -> Option<f64> {
    let hours = h.time_in(&pick, until_s) / 3600.0;
    let n = lm
        .movements
        .iter()
        .filter(|m| m.periodic && h.stage_at(m.start_s).is_some_and(&pick))
        .count();
    (hours > 0.0).then(|| n as f64 / hours)
}

/// The night's stage and arousal figures over `[0, duration_s)`;
/// `has_arousals` says whether an arousal scoring was read (the
/// movements' [`super::plm::Movement::arousal`] marks are then meaningful).
pub fn stage_figures(
    lm: &LmFigures,
    h: Option<&Hypnogram>,
    has_arousals: bool,
    duration_s: f64,
) -> StageFigures {
    let mut f = StageFigures::default();
    if has_arousals {
        let n = lm
            .movements
            .iter()
            .filter(|m| m.periodic && m.arousal && h.is_none_or(|h| h.asleep(m.start_s)))
            .count();
        f.n_plm_arousal = Some(n);
        if let Some(h) = h {
            let sleep_h = h.sleep_s(duration_s) / 3600.0;
            f.plm_arousal_index = (sleep_h > 0.0).then(|| n as f64 / sleep_h);
        }
    }
    let Some(h) = h else {
        return f;
    };
    f.wake_h = Some(h.time_in(|s| s == Stage::Wake, duration_s) / 3600.0);
    f.plmw_index = plm_index_in(lm, h, duration_s, |s| s == Stage::Wake);
    for (k, st) in INDEX_STAGES.iter().enumerate() {
        f.plms_stage_index[k] = plm_index_in(lm, h, duration_s, |s| s == *st);
    }
    f
}

/// Sets each episode's stage at onset and, for cramps, whether wake is
/// scored within [`CRAMP_WAKE_WITHIN_S`] after the onset, the minutes awake
/// in the [`CRAMP_WAKE_WINDOW_S`] after it and the latency back to sleep.
pub fn mark_episodes(episodes: &mut [Episode], h: &Hypnogram) {
    for e in episodes {
        e.stage = h.stage_at(e.start_s).map(|s| s.as_str().to_string());
        if e.kind == EpisodeKind::Cramp {
            let woke = h.wake_in(e.start_s, e.start_s + CRAMP_WAKE_WITHIN_S);
            e.wake_within_120s = Some(woke);
            e.wake_after_min =
                Some(wake_s_in(h, &[(e.start_s, e.start_s + CRAMP_WAKE_WINDOW_S)]) / 60.0);
            e.back_to_sleep_min = if woke {
                back_to_sleep_s(h, e.start_s).map(|s| s / 60.0)
            } else {
                None
            };
        }
    }
}

/// Time awake by the hypnogram inside the union of `spans`, s.
fn wake_s_in(h: &Hypnogram, spans: &[(f64, f64)]) -> f64 {
    let mut spans = spans.to_vec();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
        .iter()
        .map(|&(lo, hi)| {
            h.epochs
                .iter()
                .filter(|e| e.2 == Stage::Wake)
                .map(|&(a, b, _)| (b.min(hi) - a.max(lo)).max(0.0))
                .sum::<f64>()
        })
        .sum()
}

/// From a cramp's onset to the first sleep epoch after the wake that
/// follows it (the first wake scored within [`CRAMP_WAKE_WITHIN_S`]), s;
/// `None` when sleep does not come back inside the hypnogram.
fn back_to_sleep_s(h: &Hypnogram, onset_s: f64) -> Option<f64> {
    let until = onset_s + CRAMP_WAKE_WITHIN_S;
    let wake_s = h
        .epochs
        .iter()
        .filter(|&&(a, b, s)| s == Stage::Wake && a <= until && b > onset_s)
        .map(|&(a, _, _)| a.max(onset_s))
        .min_by(f64::total_cmp)?;
    h.epochs
        .iter()
        .filter(|&&(a, _, s)| s.is_sleep() && a >= wake_s)
        .map(|&(a, _, _)| a - onset_s)
        .min_by(f64::total_cmp)
}

/// The night's sleep lost to cramps: minutes awake in the union of the
/// [`CRAMP_WAKE_WINDOW_S`] after each cramp's onset (a minute after two
/// cramps counts once), and the cramps followed by wake within
/// [`CRAMP_WAKE_WITHIN_S`].
pub fn cramp_wake(episodes: &[Episode], h: &Hypnogram) -> (f64, usize) {
    let cramps: Vec<&Episode> = episodes
        .iter()
        .filter(|e| e.kind == EpisodeKind::Cramp)
        .collect();
    let spans: Vec<(f64, f64)> = cramps
        .iter()
        .map(|e| (e.start_s, e.start_s + CRAMP_WAKE_WINDOW_S))
        .collect();
    let woke = cramps
        .iter()
        .filter(|e| h.wake_in(e.start_s, e.start_s + CRAMP_WAKE_WITHIN_S))
        .count();
    (wake_s_in(h, &spans) / 60.0, woke)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::score::plm::{score_in, LmContext};

    #[test]
    fn stage_indices_arousals_and_cramp_awakenings_by_hand() {
        use Stage::*;
        let h = Hypnogram {
            path: "h".into(),
            epochs: vec![
                (0.0, 600.0, Wake),
                (600.0, 1200.0, N1),
                (1200.0, 2400.0, N2),
                (2400.0, 3000.0, N3),
                (3000.0, 3600.0, Rem),
                (3600.0, 4200.0, Wake),
            ],
            start_time: None,
        };
        // A series of 4 in N2, 6 in REM, 4 in wake (20 s apart, 1 s LMs).
        let mut starts: Vec<f64> = (0..4).map(|k| 1300.0 + 20.0 * k as f64).collect();
        starts.extend((0..6).map(|k| 3100.0 + 20.0 * k as f64));
        starts.extend((0..4).map(|k| 3700.0 + 20.0 * k as f64));
        let eps: Vec<Episode> = starts
            .iter()
            .map(|&s| Episode::bare("l", EpisodeKind::Lm, s, s + 1.0))
            .collect();
        // After the first N2 PLM (0.2 s) and the first wake PLM.
        let arousals = [(1301.2, 1305.0), (3701.0, 3705.0)];
        let ctx = LmContext {
            hypnogram: Some(&h),
            arousals: Some(&arousals),
            ..LmContext::default()
        };
        let p = Config::default().plm_params().unwrap();
        let lm = score_in(&eps, &p, &ctx);
        assert_eq!(lm.n_plm, 14);
        let f = stage_figures(&lm, Some(&h), true, 4200.0);
        let close = |a: Option<f64>, b: f64| assert!((a.unwrap() - b).abs() < 1e-9, "{a:?} vs {b}");
        // Wake 1200 s: 4 / (1/3 h) = 12; N2 1200 s: 12; REM 600 s: 36.
        close(f.wake_h, 1200.0 / 3600.0);
        close(f.plmw_index, 12.0);
        close(f.plms_stage_index[0], 0.0);
        close(f.plms_stage_index[1], 12.0);
        close(f.plms_stage_index[2], 0.0);
        close(f.plms_stage_index[3], 36.0);
        // One PLM in sleep with an arousal over 3000 s asleep: 1.2 per h.
        assert_eq!(f.n_plm_arousal, Some(1));
        close(f.plm_arousal_index, 1.2);
        // No hypnogram, no arousals: every figure empty.
        assert_eq!(
            stage_figures(&lm, None, false, 4200.0),
            StageFigures::default()
        );

        let mut cramps = vec![
            Episode::bare("l", EpisodeKind::Cramp, 1250.0, 1300.0),
            Episode::bare("l", EpisodeKind::Cramp, 3490.0, 3520.0),
            Episode::bare("l", EpisodeKind::Cramp, 3470.0, 3500.0),
            Episode::bare("l", EpisodeKind::Lm, 700.0, 701.0),
        ];
        mark_episodes(&mut cramps, &h);
        let got: Vec<(Option<&str>, Option<bool>)> = cramps
            .iter()
            .map(|e| (e.stage.as_deref(), e.wake_within_120s))
            .collect();
        // Wake at 3600 s: 110 s after 3490 (yes), 130 s after 3470 (no).
        assert_eq!(
            got,
            [
                (Some("N2"), Some(false)),
                (Some("R"), Some(true)),
                (Some("R"), Some(false)),
                (Some("N1"), None)
            ]
        );
    }
}

#[cfg(test)]
mod sleep_lost {
    use super::*;

    #[test]
    fn cramp_awakenings_and_wake_minutes_by_hand() {
        use Stage::*;
        // 30 s epochs written out as runs: N2 to 600 s, W 600-750,
        // N2 750-1500, W 1500-1560, N1 1560-1620, N2 1620-3000,
        // W 3000-3600 (the night ends awake).
        let h = Hypnogram {
            path: "h".into(),
            epochs: vec![
                (0.0, 600.0, N2),
                (600.0, 750.0, Wake),
                (750.0, 1500.0, N2),
                (1500.0, 1560.0, Wake),
                (1560.0, 1620.0, N1),
                (1620.0, 3000.0, N2),
                (3000.0, 3600.0, Wake),
            ],
            start_time: None,
        };
        let mut eps = vec![
            // A: onset 540 s in N2; wake at 600 s (60 s later): woke.
            Episode::bare("l", EpisodeKind::Cramp, 540.0, 580.0),
            // B: onset 1400 s in N2; wake at 1500 s (100 s later): woke.
            Episode::bare("l", EpisodeKind::Cramp, 1400.0, 1430.0),
            // C: onset 2000 s in N2; next wake at 3000 s: did not wake.
            Episode::bare("l", EpisodeKind::Cramp, 2000.0, 2030.0),
            Episode::bare("l", EpisodeKind::Lm, 100.0, 102.0),
        ];
        mark_episodes(&mut eps, &h);
        // A: window 540-2340 holds W 600-750 (150 s) and 1500-1560 (60 s):
        // 3.5 min; back asleep at 750 s, 210 s after onset: 3.5 min.
        // B: window 1400-3200: W 1500-1560 (60 s) and 3000-3200 (200 s):
        // 260 s = 4.333 min; back asleep (N1) at 1560 s: 160 s = 2.667 min.
        // C: window 2000-3800: W 3000-3600 (600 s) = 10 min; no awakening
        // within 2 min, so no latency.
        let got: Vec<(Option<bool>, Option<f64>, Option<f64>)> = eps
            .iter()
            .map(|e| (e.wake_within_120s, e.wake_after_min, e.back_to_sleep_min))
            .collect();
        let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-9;
        assert_eq!(got[0].0, Some(true));
        assert!(close(got[0].1, 3.5) && close(got[0].2, 3.5), "{:?}", got[0]);
        assert_eq!(got[1].0, Some(true));
        assert!(
            close(got[1].1, 260.0 / 60.0) && close(got[1].2, 160.0 / 60.0),
            "{:?}",
            got[1]
        );
        assert_eq!(got[2].0, Some(false));
        assert!(close(got[2].1, 10.0) && got[2].2.is_none(), "{:?}", got[2]);
        assert_eq!(got[3], (None, None, None));
        // The night: the union 540-3800 holds W 150 + 60 + 600 s = 13.5 min
        // (not 3.5 + 4.333 + 10); two cramps woke the sleeper.
        let (wake_min, n) = cramp_wake(&eps, &h);
        assert!((wake_min - 13.5).abs() < 1e-9, "{wake_min}");
        assert_eq!(n, 2);
    }
}
