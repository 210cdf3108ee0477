//! Episode classification (cramp, LM, sustained) and the night's
//! leg-movement figures (bilateral combining, PLM series).

pub mod classify;
pub mod context;
pub mod hypnogram;
pub mod longact;
pub mod plm;

use serde::{Deserialize, Serialize};

/// What an episode is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EpisodeKind {
    /// Sustained, tonic, high-intensity contraction on one channel.
    Cramp,
    /// Leg movement: 0.5–10 s of activity (WASM 2016).
    Lm,
    /// Activity longer than an LM that does not meet the cramp rule.
    Sustained,
    /// Body movement: activity starting on both legs together for longer
    /// than a bilateral LM (or shorter with the accelerometer moving), or
    /// long activity on one leg with the accelerometer moving
    /// ([`longact`]).
    Movement,
}

impl EpisodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EpisodeKind::Cramp => "cramp",
            EpisodeKind::Lm => "lm",
            EpisodeKind::Sustained => "sustained",
            EpisodeKind::Movement => "movement",
        }
    }

    pub fn parse(s: &str) -> Option<EpisodeKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cramp" => Some(EpisodeKind::Cramp),
            "lm" => Some(EpisodeKind::Lm),
            "sustained" => Some(EpisodeKind::Sustained),
            "movement" => Some(EpisodeKind::Movement),
            _ => None,
        }
    }
}

/// One detected episode on one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    pub channel: String,
    pub kind: EpisodeKind,
    /// Onset from the recording start, s.
    pub start_s: f64,
    /// Offset from the recording start, s.
    pub end_s: f64,
    /// Highest window band RMS inside the episode, µV.
    pub peak_rms_uv: f64,
    /// Mean window band RMS inside the episode, µV.
    pub mean_rms_uv: f64,
    /// Mean resting baseline under the episode, µV.
    pub baseline_rms_uv: f64,
    /// Median of the windows' median frequencies, Hz.
    pub median_freq_hz: Option<f64>,
    /// Mean accelerometer ENMO during the episode, g.
    pub accel_enmo_g: Option<f64>,
    /// 0–1; how clearly the episode meets its kind's rule (README).
    pub confidence: f64,
    /// The rules that fired, with their measured values.
    pub rules: Vec<String>,
    /// Whether the episode meets the WASM 2016 computer-scoring morphology
    /// rule ([`plm::morphology_ok`]); an LM that does not is no candidate LM.
    #[serde(default = "yes")]
    pub wasm_morphology: bool,
    /// Leg carrying the episode, from the channel label (`left`/`right`).
    #[serde(default)]
    pub side: Option<String>,
    /// Muscle carrying the episode, from the channel label (`tibialis`,
    /// `gastrocnemius`, `soleus`, `calf`).
    #[serde(default)]
    pub muscle: Option<String>,
    /// Cramps only: length of the slow tension build-up before the onset, s
    /// (0 when none was found).
    #[serde(default)]
    pub buildup_s: Option<f64>,
    /// Whether the evidence about the episode's kind disagrees
    /// ([`longact`]): a cramp with one piece of evidence against it, or a
    /// movement of two legs starting together with a still accelerometer.
    #[serde(default)]
    pub ambiguous: bool,
    /// Sleep stage at onset by the hypnogram (`W`, `N1`, `N2`, `N3`, `R`,
    /// `?`); `None` without a hypnogram or where it scores nothing.
    #[serde(default)]
    pub stage: Option<String>,
    /// Cramps only: whether wake is scored within 120 s after the onset
    /// ([`context::CRAMP_WAKE_WITHIN_S`]); `None` without a hypnogram.
    #[serde(default)]
    pub wake_within_120s: Option<bool>,
    /// Cramps only: minutes awake by the hypnogram in the 30 min after the
    /// onset ([`context::CRAMP_WAKE_WINDOW_S`]); `None` without a hypnogram.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wake_after_min: Option<f64>,
    /// Cramps that woke the sleeper: minutes from the onset to the first
    /// sleep epoch after that wake; `None` without a hypnogram, without an
    /// awakening, or when sleep does not come back inside the hypnogram.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_to_sleep_min: Option<f64>,
}

fn yes() -> bool {
    true
}

impl Episode {
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }
}

/// The leg a channel label names: `left` or `right`, from whole words
/// (`left`, `l`, `lt`, `sx`, the AASM montage `LAT`) or a trailing `_l`/`-r`.
pub fn side_of(label: &str) -> Option<&'static str> {
    let lower = label.to_ascii_lowercase();
    let mut side = None;
    for tok in lower.split(|c: char| !c.is_ascii_alphanumeric()) {
        let s = match tok {
            "left" | "l" | "lt" | "sx" | "lat" | "lgast" | "ltib" | "plml" | "lleg" => Some("left"),
            "right" | "r" | "rt" | "dx" | "rat" | "rgast" | "rtib" | "plmr" | "rleg" => {
                Some("right")
            }
            _ => None,
        };
        if s.is_some() {
            side = s;
        }
    }
    side
}

/// The muscle a channel label names, if any.
pub fn muscle_of(label: &str) -> Option<&'static str> {
    let lower = label.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    if lower.contains("gastroc") || words.contains(&"gast") || words.contains(&"gas") {
        Some("gastrocnemius")
    } else if lower.contains("soleus") || words.contains(&"sol") {
        Some("soleus")
    } else if lower.contains("calf") {
        Some("calf")
    } else if lower.contains("tib")
        || ["lat", "rat", "plml", "plmr", "lleg", "rleg"]
            .iter()
            .any(|w| words.contains(w))
    {
        Some("tibialis")
    } else {
        None
    }
}

/// The key bilateral combining uses for the leg of an episode: its side
/// when the label names one, otherwise the channel (each unnamed channel is
/// taken as its own leg).
pub fn leg_key(e: &Episode) -> &str {
    e.side.as_deref().unwrap_or(&e.channel)
}

#[cfg(test)]
impl Episode {
    /// A hand-built episode for tests: times and kind only, every measured
    /// figure neutral.
    pub(crate) fn bare(channel: &str, kind: EpisodeKind, start_s: f64, end_s: f64) -> Episode {
        Episode {
            channel: channel.into(),
            kind,
            start_s,
            end_s,
            peak_rms_uv: 0.0,
            mean_rms_uv: 0.0,
            baseline_rms_uv: 0.0,
            median_freq_hz: None,
            accel_enmo_g: None,
            confidence: 1.0,
            rules: vec![],
            wasm_morphology: true,
            side: None,
            muscle: None,
            buildup_s: None,
            ambiguous: false,
            stage: None,
            wake_within_120s: None,
            wake_after_min: None,
            back_to_sleep_min: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_and_muscle_come_from_the_label() {
        assert_eq!(side_of("emg_left_uv"), Some("left"));
        assert_eq!(side_of("EMG Tib R"), Some("right"));
        assert_eq!(side_of("LAT"), Some("left"));
        assert_eq!(side_of("RAT2"), None);
        assert_eq!(side_of("Leg 1"), None);
        assert_eq!(side_of("gastroc_r"), Some("right"));
        assert_eq!(side_of("PLMl"), Some("left"));
        assert_eq!(side_of("RLEG"), Some("right"));
        assert_eq!(side_of("Limb L"), Some("left"));
        assert_eq!(side_of("Tib L"), Some("left"));
        assert_eq!(muscle_of("PLMr"), Some("tibialis"));
        assert_eq!(muscle_of("EMG Tib R"), Some("tibialis"));
        assert_eq!(muscle_of("LAT"), Some("tibialis"));
        assert_eq!(muscle_of("gastrocnemius_left"), Some("gastrocnemius"));
        assert_eq!(muscle_of("soleus-l"), Some("soleus"));
        assert_eq!(muscle_of("emg_calf_l"), Some("calf"));
        assert_eq!(muscle_of("emg_left_uv"), None);
    }
}
