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
/// scored within [`CRAMP_WAKE_WITHIN_S`] after the onset.
pub fn mark_episodes(episodes: &mut [Episode], h: &Hypnogram) {
    for e in episodes {
        e.stage = h.stage_at(e.start_s).map(|s| s.as_str().to_string());
        if e.kind == EpisodeKind::Cramp {
            e.wake_within_120s = Some(h.wake_in(e.start_s, e.start_s + CRAMP_WAKE_WITHIN_S));
        }
    }
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
