//! Episode classification (cramp, LM, sustained) and the night's
//! leg-movement figures (bilateral combining, PLM series).

pub mod classify;
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
}

impl EpisodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EpisodeKind::Cramp => "cramp",
            EpisodeKind::Lm => "lm",
            EpisodeKind::Sustained => "sustained",
        }
    }

    pub fn parse(s: &str) -> Option<EpisodeKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cramp" => Some(EpisodeKind::Cramp),
            "lm" => Some(EpisodeKind::Lm),
            "sustained" => Some(EpisodeKind::Sustained),
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
}

impl Episode {
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }
}
