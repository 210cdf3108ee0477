//! The recording model: what a reader knows about a file before and while
//! its samples stream through the pipeline.

use std::path::PathBuf;

use chrono::NaiveDateTime;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// What a channel measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// Surface or needle EMG, samples in µV.
    Emg,
    /// One accelerometer axis, samples in g.
    Accel,
    /// Anything else (read, quality-checked, not analysed).
    Other,
}

impl ChannelKind {
    /// The kind's name as written in the night JSON (`emg`, `accel`, `other`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Emg => "emg",
            ChannelKind::Accel => "accel",
            ChannelKind::Other => "other",
        }
    }

    /// Physical unit of the samples after reading.
    pub fn unit(self) -> &'static str {
        match self {
            ChannelKind::Emg => "uV",
            ChannelKind::Accel => "g",
            ChannelKind::Other => "",
        }
    }
}

/// One channel of a file. Samples reach the pipeline already scaled:
/// `physical = (raw * gain + offset) * unit_scale`, in µV for EMG and g for
/// accelerometer axes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelInfo {
    pub name: String,
    pub kind: ChannelKind,
    /// Unit as found in the file or sidecar (e.g. `mV`), before conversion.
    pub source_unit: String,
    /// Sample rate, Hz.
    pub fs_hz: f64,
    /// Why the channel is used: the label pattern that matched, the column
    /// name rule, the sidecar, or `--channels`.
    pub selected_by: String,
}

/// What a reader knows about one input file.
#[derive(Debug, Clone)]
pub struct RecordingInfo {
    pub path: PathBuf,
    /// `csv`, `wav`, `edf`, `edf+`, `bdf` or `bdf+`.
    pub format: &'static str,
    /// Sample rate shared by all channels of this source, Hz. A file whose
    /// signals have different rates (EDF) opens as one source per rate.
    pub fs_hz: f64,
    /// Wall-clock time of the first sample, when known.
    pub start_time: Option<NaiveDateTime>,
    /// Channels, in file order, that the reader delivers.
    pub channels: Vec<ChannelInfo>,
    /// Things the reader noticed that do not stop the analysis
    /// (ignored columns, time gaps), for the night's quality field.
    pub warnings: Vec<String>,
}

impl RecordingInfo {
    /// Indices of the first three accelerometer channels: the axes ENMO and
    /// the close-ups use (fewer than three means no usable accelerometer).
    pub fn accel_axes(&self) -> Vec<usize> {
        self.channels
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == ChannelKind::Accel)
            .map(|(i, _)| i)
            .take(3)
            .collect()
    }
}

/// A block of samples, channels × frames, in physical units. Readers fill it
/// in place so a night streams through a fixed amount of memory.
pub struct Block {
    pub data: Array2<f32>,
    /// Number of valid frames at the start of `data`'s columns.
    pub len: usize,
}

impl Block {
    /// A block with room for `frames` frames of `channels` channels.
    pub fn new(channels: usize, frames: usize) -> Block {
        Block {
            data: Array2::zeros((channels, frames)),
            len: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.data.ncols()
    }

    /// The valid samples of channel `c`.
    pub fn channel(&self, c: usize) -> &[f32] {
        let row = self.data.row(c);
        &row.to_slice().expect("block rows are contiguous")[..self.len]
    }
}

/// Converts a unit string to the factor that brings it to µV (EMG) or g (accel).
/// Returns `None` for a unit that does not fit the kind.
pub fn unit_scale(kind: ChannelKind, unit: &str) -> Option<f64> {
    let u = unit.trim();
    let lower = u.to_ascii_lowercase();
    match kind {
        ChannelKind::Emg => match lower.as_str() {
            "" | "uv" | "µv" | "μv" | "microvolt" | "microvolts" => Some(1.0),
            "mv" | "millivolt" | "millivolts" => Some(1e3),
            "v" | "volt" | "volts" => Some(1e6),
            "nv" => Some(1e-3),
            _ => None,
        },
        ChannelKind::Accel => match lower.as_str() {
            "" | "g" => Some(1.0),
            "mg" => Some(1e-3),
            "m/s^2" | "m/s2" | "m/s²" | "ms-2" | "ms^-2" => Some(1.0 / 9.80665),
            _ => None,
        },
        ChannelKind::Other => Some(1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_the_json_names() {
        for (k, name) in [
            (ChannelKind::Emg, "emg"),
            (ChannelKind::Accel, "accel"),
            (ChannelKind::Other, "other"),
        ] {
            assert_eq!(k.as_str(), name);
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{name}\""));
        }
    }

    #[test]
    fn units_convert_to_microvolts_and_g() {
        assert_eq!(unit_scale(ChannelKind::Emg, "mV"), Some(1e3));
        assert_eq!(unit_scale(ChannelKind::Emg, "µV"), Some(1.0));
        assert_eq!(unit_scale(ChannelKind::Accel, "mg"), Some(1e-3));
        assert_eq!(unit_scale(ChannelKind::Emg, "g"), None);
    }
}
