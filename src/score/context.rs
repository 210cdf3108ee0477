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
