//! Detectors: turn a channel's samples into an activity series (µV per
//! window), then into episodes by a resting baseline and hysteresis.
//!
//! A detector only supplies the streaming analyzer; the baseline, the
//! hysteresis and the episode rules are shared, so that detectors are
//! compared on equal terms.

pub mod backward;
pub mod baseline;
pub mod commit;
pub mod envelope;
pub mod fft_band;
pub mod heartbeat;
pub mod hysteresis;
pub mod refine;
pub mod stream;
pub mod timedomain;

use crate::config::Config;
use crate::dsp::PlanCache;
use crate::error::{Error, Result};

/// Per-window features of one EMG channel over a whole night.
#[derive(Debug, Clone)]
pub struct ActivitySeries {
    /// Spacing of the windows, s.
    pub hop_s: f64,
    /// Time of the night's first window's centre from the recording
    /// start, s.
    pub first_center_s: f64,
    /// Index in the night of this series' first window: 0 for a whole
    /// night, more for a piece of a stream ([`ChannelAnalyzer::drain_final`])
    /// or a stretch cut out for classification.
    pub first_index: usize,
    /// Activity (band RMS) per window, µV; NaN where the window held
    /// non-finite samples.
    pub activity_uv: Vec<f32>,
    /// Median frequency of the EMG band per window, Hz (NaN when unknown).
    pub median_freq_hz: Vec<f32>,
    /// Motion-artifact content per window, µV: RMS of the raw signal
    /// below the EMG band (the FFT bins from bin 2, clear of an electrode offset, up to
    /// below the band's low edge, about 8–16 Hz with 0.25 s windows),
    /// Parseval-scaled like `activity_uv`; NaN where the window held
    /// non-finite samples. See [`crate::dsp::band::MotionMeter`].
    pub motion_uv: Vec<f32>,
    /// The band actually analysed, Hz.
    pub band_hz: (f64, f64),
    /// Fine cells per window: the hop around each window's centre cut into
    /// this many cells of about [`refine::FINE_CELL_S`]; 0 when the
    /// detector has no fine envelope (then onsets stay on the window grid).
    pub fine_per_window: usize,
    /// Mean square of the band-passed, narrow-notched signal per fine cell,
    /// µV², window `i`'s cells at `i * fine_per_window..`; NaN where the
    /// window is. See [`refine`].
    pub fine_power_uv2: Vec<f32>,
    /// The same cells of the signal filtered by the same cascade run
    /// backwards in time, µV², whose ringing falls before a burst or a
    /// heartbeat instead of after it; offsets are found on the lesser of
    /// the two envelopes, so that no filter tail holds one late. NaN where
    /// `fine_power_uv2` is; empty where the detector has none (offsets then
    /// use `fine_power_uv2` alone). See [`refine`].
    pub fine_offset_uv2: Vec<f32>,
    /// Per window with fine cells: the window's band measure (`activity_uv`
    /// squared, before the transient rejection) over the Hann-weighted
    /// mean square of the same filtered signal, so that the baseline can be
    /// read in the fine cells' unit (about 0.55–0.75 with mains bins left
    /// out, about 1 without); NaN where the window is.
    pub fine_scale: Vec<f32>,
}

impl ActivitySeries {
    /// Windows `at..at + len` of this series as a series of their own, with
    /// their place in the night kept.
    pub fn slice(&self, at: usize, len: usize) -> ActivitySeries {
        ActivitySeries {
            hop_s: self.hop_s,
            first_center_s: self.first_center_s,
            first_index: self.first_index + at,
            activity_uv: self.activity_uv[at..at + len].to_vec(),
            median_freq_hz: self.median_freq_hz[at..at + len].to_vec(),
            motion_uv: self.motion_uv[at..at + len].to_vec(),
            band_hz: self.band_hz,
            fine_per_window: self.fine_per_window,
            fine_power_uv2: self.fine_cells(at, at + len).to_vec(),
            fine_offset_uv2: if self.fine_offset_uv2.is_empty() {
                Vec::new()
            } else {
                let k = self.fine_per_window;
                self.fine_offset_uv2[at * k..(at + len) * k].to_vec()
            },
            fine_scale: if self.fine_scale.is_empty() {
                Vec::new()
            } else {
                self.fine_scale[at..at + len].to_vec()
            },
        }
    }

    /// The fine cells of windows `a..b` (empty without a fine envelope).
    pub fn fine_cells(&self, a: usize, b: usize) -> &[f32] {
        let k = self.fine_per_window;
        if self.fine_power_uv2.is_empty() {
            &[]
        } else {
            &self.fine_power_uv2[a * k..b * k]
        }
    }

    /// Centre time of window `i` of this series, s.
    pub fn time_s(&self, i: usize) -> f64 {
        self.first_center_s + (self.first_index + i) as f64 * self.hop_s
    }

    /// Number of windows with finite activity.
    pub fn valid_windows(&self) -> usize {
        self.activity_uv.iter().filter(|v| v.is_finite()).count()
    }
}

/// What an analyzer knows of the night's mains frequency when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MainsPlan {
    /// Decided after the whole night has been seen (`mains = "auto"`).
    Auto,
    /// Known in advance: 50, 60 or `None` for no mains exclusion.
    Fixed(Option<u32>),
}

/// The streaming part of a detector for one channel.
pub trait ChannelAnalyzer: Send {
    /// Feeds the next samples (µV) of the channel.
    fn push(&mut self, samples: &[f32]);
    /// The mains decision this analyzer committed to while streaming, if
    /// it did: `finish` can then only deliver the series for that decision,
    /// and a night whose decision differs must be streamed again with
    /// [`MainsPlan::Fixed`].
    fn committed_mains(&self) -> Option<Option<u32>> {
        None
    }
    /// The windows that are final and not yet taken, so that detection can
    /// follow the reader; `None` when there are none. An analyzer whose
    /// windows wait for the night's mains decision keeps them until
    /// `finish`.
    fn drain_final(&mut self) -> Option<ActivitySeries> {
        None
    }
    /// Ends the stream and returns the windows not drained before;
    /// `mains_hz` is the night's mains decision.
    fn finish(self: Box<Self>, mains_hz: Option<u32>) -> ActivitySeries;
}

/// A contraction detector, chosen by name in the config.
pub trait Detector: Send + Sync {
    fn name(&self) -> &'static str;
    /// A fresh analyzer for a channel sampled at `fs_hz`.
    fn analyzer(&self, fs_hz: f64, mains: MainsPlan) -> Result<Box<dyn ChannelAnalyzer>>;
}

/// The detector named in `cfg.detector.name`.
pub fn from_config(cfg: &Config, plans: &PlanCache) -> Result<Box<dyn Detector>> {
    match cfg.detector.name.as_str() {
        "fft-band" => Ok(Box::new(fft_band::FftBand::new(
            cfg.detector.clone(),
            plans.clone(),
        ))),
        "rms-envelope" => Ok(Box::new(envelope::EnvelopeDetector::new(
            cfg.clone(),
            envelope::Envelope::Rms,
            plans.clone(),
        ))),
        "tkeo" => Ok(Box::new(envelope::EnvelopeDetector::new(
            cfg.clone(),
            envelope::Envelope::Tkeo,
            plans.clone(),
        ))),
        other => Err(Error::Config(format!(
            "unknown detector \"{other}\"; expected one of {}",
            crate::config::DETECTORS.join(", ")
        ))),
    }
}

/// Episode boundaries as window indices `[start, end)`.
pub type WindowSpan = (usize, usize);

/// Baseline and hysteresis episodes of one channel's series.
pub fn detect_spans(series: &ActivitySeries, cfg: &Config) -> (Vec<f32>, Vec<WindowSpan>) {
    let baseline = baseline::running_baseline(&series.activity_uv, series.hop_s, &cfg.detector);
    let spans = hysteresis::hysteresis(&series.activity_uv, &baseline, series.hop_s, cfg);
    (baseline, spans)
}
