//! The two time-domain comparison detectors, on the same windows, hop,
//! baseline and hysteresis as `fft-band`:
//!
//! - `rms-envelope`: Butterworth band-pass, square, moving RMS over each
//!   analysis window (rectangular), i.e. the classic envelope.
//! - `tkeo`: Teager–Kaiser energy operator ψ[n] = x[n]² − x[n−1]·x[n+1]
//!   after the band-pass, rectified and averaged over each window (Solnik
//!   et al. 2010, "Teager–Kaiser energy operator signal conditioning
//!   improves EMG onset detection", Eur J Appl Physiol 110:489–498). For a
//!   sine of amplitude A at frequency f, ψ = A²·sin²(2πf/fs), so the
//!   envelope √(mean|ψ| / (2·sin²(2π·f_ref/fs))) reads A/√2 at the
//!   reference frequency like band RMS, and the same µV hysteresis applies.
//!   Below f_ref it reads less (ECG and motion are damped), above more.
//!
//! Mains: the band-passed signal runs through three variants (no notch,
//! 50 Hz comb, 60 Hz comb). With a fixed mains setting its variant's
//! windows are handed out as they are computed; with `auto` the analyzer
//! keeps all three until it commits to a decision of its own after
//! [`MAINS_COMMIT_S`](super::commit::MAINS_COMMIT_S), as `fft-band` does,
//! so that memory does not grow with the night. Neither detector rejects
//! transients: they are the baselines that `fft-band`'s transient
//! rejection is compared against.
//!
//! Both fill `motion_uv` as `fft-band` does (the raw signal's FFT below the
//! band, [`MotionMeter`]), from one FFT per window of the raw samples.

use super::commit::Commitment;
use super::fft_band::effective_band;
use super::timedomain::{variant, FilterBank, VARIANTS};
use super::{ActivitySeries, ChannelAnalyzer, Detector, MainsPlan};
use crate::config::Config;
use crate::dsp::band::MotionMeter;
use crate::dsp::window::hann_periodic;
use crate::dsp::PlanCache;
use crate::error::{Error, Result};

/// Which envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    Rms,
    Tkeo,
}

pub struct EnvelopeDetector {
    cfg: Config,
    kind: Envelope,
    plans: PlanCache,
}

impl EnvelopeDetector {
    pub fn new(cfg: Config, kind: Envelope, plans: PlanCache) -> EnvelopeDetector {
        EnvelopeDetector { cfg, kind, plans }
    }
}

impl Detector for EnvelopeDetector {
    fn name(&self) -> &'static str {
        match self.kind {
            Envelope::Rms => "rms-envelope",
            Envelope::Tkeo => "tkeo",
        }
    }

    fn analyzer(&self, fs_hz: f64, mains: MainsPlan) -> Result<Box<dyn ChannelAnalyzer>> {
        let d = &self.cfg.detector;
        let band = effective_band(d, fs_hz).ok_or_else(|| {
            Error::Config(format!(
                "the EMG band {}–{} Hz does not fit below the Nyquist frequency of {fs_hz} Hz sampling",
                d.band_low_hz, d.band_high_hz
            ))
        })?;
        let win_n = (d.window_s * fs_hz).round() as usize;
        let hop_n = (d.hop_s * fs_hz).round() as usize;
        if win_n < 8 || hop_n == 0 {
            return Err(Error::Config(format!(
                "a {} s window at {fs_hz} Hz has {win_n} samples; at least 8 are needed",
                d.window_s
            )));
        }
        let (order, q) = match self.kind {
            Envelope::Rms => (
                self.cfg.rms_envelope.filter_order,
                self.cfg.rms_envelope.notch_q,
            ),
            Envelope::Tkeo => (self.cfg.tkeo.filter_order, self.cfg.tkeo.notch_q),
        };
        let scale = match self.kind {
            Envelope::Rms => 1.0,
            Envelope::Tkeo => {
                let s = (2.0 * std::f64::consts::PI * self.cfg.tkeo.reference_hz / fs_hz).sin();
                if s.abs() < 1e-3 {
                    return Err(Error::Config(format!(
                        "tkeo.reference_hz = {} Hz is at 0 or Nyquist for {fs_hz} Hz sampling",
                        self.cfg.tkeo.reference_hz
                    )));
                }
                (1.0 / (2.0 * s * s)) as f32
            }
        };
        Ok(Box::new(EnvelopeAnalyzer {
            kind: self.kind,
            bank: FilterBank::new(order, q, band, fs_hz)?,
            motion: MotionMeter::new(
                fs_hz,
                hann_periodic(win_n),
                band.0,
                self.plans.forward(win_n),
            ),
            raw: Vec::new(),
            motion_uv: Vec::new(),
            fs_hz,
            win_n,
            hop_n,
            band_hz: band,
            scale,
            prev: [[f32::NAN; VARIANTS]; 2],
            started: [false; VARIANTS],
            energy: Default::default(),
            windows: Vec::new(),
            mains: Commitment::new(mains, fs_hz, &self.plans, d.mains_detect_ratio),
            activity_uv: Vec::new(),
            drained: 0,
        }))
    }
}

pub struct EnvelopeAnalyzer {
    kind: Envelope,
    bank: FilterBank,
    motion: MotionMeter,
    /// Raw samples not yet consumed by a whole window, for `motion`.
    raw: Vec<f32>,
    /// Motion content per window (µV) not yet handed out; it can run one
    /// window ahead of `activity_uv` (TKEO lags a sample, and `auto` waits
    /// for the mains decision).
    motion_uv: Vec<f32>,
    fs_hz: f64,
    win_n: usize,
    hop_n: usize,
    band_hz: (f64, f64),
    /// Factor from mean energy to µV² (1 for RMS).
    scale: f32,
    /// The last two filtered samples (TKEO needs x[n−1] and x[n+1]).
    prev: [[f32; VARIANTS]; 2],
    /// Whether a variant's energy series has begun (TKEO skips the very
    /// first sample, which has no predecessor).
    started: [bool; VARIANTS],
    /// Per-sample energy (x² or |ψ|) not yet consumed by a whole window.
    energy: [Vec<f32>; VARIANTS],
    /// Mean energy per window and variant, until the mains decision.
    windows: Vec<[f32; VARIANTS]>,
    mains: Commitment,
    /// Activity (µV) of the committed variant, not yet handed out.
    activity_uv: Vec<f32>,
    /// Windows already handed out.
    drained: usize,
}

impl EnvelopeAnalyzer {
    /// Moves the windows kept for every variant into `activity_uv`, as
    /// the variant of `mains_hz`.
    fn commit(&mut self, mains_hz: Option<u32>) {
        let v = variant(mains_hz);
        self.activity_uv
            .extend(self.windows.drain(..).map(|w| w[v].max(0.0).sqrt()));
    }

    /// The windows not yet handed out, as a series piece.
    fn take_windows(&mut self) -> ActivitySeries {
        let activity_uv = std::mem::take(&mut self.activity_uv);
        let n = activity_uv.len();
        // TKEO series lag one sample behind the input: immaterial at 0.1 s hops.
        let piece = ActivitySeries {
            hop_s: self.hop_n as f64 / self.fs_hz,
            first_center_s: self.win_n as f64 / 2.0 / self.fs_hz,
            first_index: self.drained,
            activity_uv,
            median_freq_hz: vec![f32::NAN; n],
            motion_uv: self.motion_uv.drain(..n).collect(),
            band_hz: self.band_hz,
            fine_per_window: 0,
            fine_power_uv2: Vec::new(),
            fine_offset_uv2: Vec::new(),
            fine_scale: Vec::new(),
        };
        self.drained += n;
        piece
    }
}

impl ChannelAnalyzer for EnvelopeAnalyzer {
    fn push(&mut self, samples: &[f32]) {
        self.raw.extend_from_slice(samples);
        let mut start = 0;
        while start + self.win_n <= self.raw.len() {
            let m = self.motion.rms_uv(&self.raw[start..start + self.win_n]);
            self.motion_uv.push(m);
            start += self.hop_n;
        }
        self.raw.drain(..start);
        for &x in samples {
            let y = self.bank.step(x);
            match self.kind {
                Envelope::Rms => {
                    for (e, v) in self.energy.iter_mut().zip(y) {
                        e.push(v * v);
                    }
                }
                Envelope::Tkeo => {
                    // ψ at the previous sample, now that its successor is known;
                    // the first sample of the stream gets ψ = x² (no predecessor).
                    let [p2, p1] = self.prev;
                    for (k, e) in self.energy.iter_mut().enumerate() {
                        if p1[k].is_nan() && p2[k].is_nan() && !self.started[k] {
                            continue;
                        }
                        self.started[k] = true;
                        let before = if p2[k].is_finite() { p2[k] } else { 0.0 };
                        e.push((p1[k] * p1[k] - before * y[k]).abs());
                    }
                    self.prev = [p1, y];
                }
            }
        }
        let n = self.energy[0].len();
        let mut start = 0;
        while start + self.win_n <= n {
            let mut w = [0f32; VARIANTS];
            for (m, e) in w.iter_mut().zip(&self.energy) {
                let s: f64 = e[start..start + self.win_n].iter().map(|&v| v as f64).sum();
                *m = (s / self.win_n as f64) as f32 * self.scale;
            }
            self.windows.push(w);
            start += self.hop_n;
        }
        for e in &mut self.energy {
            e.drain(..start);
        }
        if let Some(m) = self.mains.committed().or_else(|| self.mains.push(samples)) {
            self.commit(m);
        }
    }

    fn committed_mains(&self) -> Option<Option<u32>> {
        self.mains.committed()
    }

    /// Windows are final once the analyzer has committed to a mains
    /// decision (at once with a fixed one, after 300 s with auto).
    fn drain_final(&mut self) -> Option<ActivitySeries> {
        (self.mains.committed().is_some() && !self.activity_uv.is_empty())
            .then(|| self.take_windows())
    }

    /// A pending analyzer takes the night's decision; a committed one keeps
    /// its own (the caller streams the night again when they differ).
    fn finish(mut self: Box<Self>, mains_hz: Option<u32>) -> ActivitySeries {
        let m = self.mains.committed().unwrap_or(mains_hz);
        self.commit(m);
        self.take_windows()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: Envelope, f_hz: f64, amp: f64) -> ActivitySeries {
        let mut cfg = Config::default();
        cfg.detector.name = match kind {
            Envelope::Rms => "rms-envelope".into(),
            Envelope::Tkeo => "tkeo".into(),
        };
        let det = EnvelopeDetector::new(cfg, kind, PlanCache::new());
        let fs = 1000.0;
        let mut a = det.analyzer(fs, MainsPlan::Auto).unwrap();
        let x: Vec<f32> = (0..(10.0 * fs) as usize)
            .map(|i| (amp * (2.0 * std::f64::consts::PI * f_hz * i as f64 / fs).sin()) as f32)
            .collect();
        for c in x.chunks(333) {
            a.push(c);
        }
        a.finish(Some(50))
    }

    #[test]
    fn sine_at_80_hz_reads_a_over_root_two_for_both() {
        for kind in [Envelope::Rms, Envelope::Tkeo] {
            let s = run(kind, 80.0, 50.0);
            assert_eq!(s.activity_uv.len(), (10_000 - 250) / 100 + 1);
            assert_eq!(s.motion_uv.len(), s.activity_uv.len());
            assert!(s.motion_uv.iter().all(|&m| m < 1.0), "{kind:?}");
            let low = run(kind, 12.0, 50.0);
            let expect = 50.0 / 2f32.sqrt();
            for m in &low.motion_uv {
                assert!((m - expect).abs() / expect < 0.05, "{kind:?}: {m}");
            }
            let expect = 50.0 / 2f32.sqrt();
            // After the filters settle (1 s).
            for v in &s.activity_uv[10..] {
                assert!((v - expect).abs() / expect < 0.03, "{kind:?}: {v}");
            }
        }
    }

    #[test]
    fn windows_handed_out_while_streaming_equal_the_whole_night() {
        // 400 s at 1 kHz: 80 Hz bursts over noise with 50 Hz hum, and a
        // gap of NaN samples at 200 s, so the early decision (50 Hz, after
        // 300 s) is the night's and the filters restart once.
        let fs = 1000.0;
        let mut state = 99u64;
        let x: Vec<f32> = (0..400_000)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let t = i as f64 / fs;
                let noise = ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 8.0;
                let hum = 40.0 * (2.0 * std::f64::consts::PI * 50.0 * t).sin();
                let burst = if (t % 20.0) < 3.0 {
                    60.0 * (2.0 * std::f64::consts::PI * 80.0 * t).sin()
                } else {
                    0.0
                };
                if (200.0..200.01).contains(&t) {
                    f32::NAN
                } else {
                    (noise + hum + burst) as f32
                }
            })
            .collect();
        for kind in [Envelope::Rms, Envelope::Tkeo] {
            let det = EnvelopeDetector::new(Config::default(), kind, PlanCache::new());
            // The whole night, decided at the end.
            let mut whole = det.analyzer(fs, MainsPlan::Auto).unwrap();
            for c in x.chunks(65536) {
                whole.push(c);
            }
            let mut pieces = Vec::new();
            let mut streamed = det.analyzer(fs, MainsPlan::Auto).unwrap();
            for c in x.chunks(4096) {
                streamed.push(c);
                if let Some(p) = streamed.drain_final() {
                    pieces.push(p);
                }
            }
            assert_eq!(streamed.committed_mains(), Some(Some(50)), "{kind:?}");
            assert!(!pieces.is_empty(), "{kind:?}: nothing handed out early");
            pieces.push(streamed.finish(Some(50)));
            let whole = whole.finish(Some(50));
            let mut next = 0;
            let mut got = Vec::new();
            for p in &pieces {
                assert_eq!(p.first_index, next, "{kind:?}");
                next += p.activity_uv.len();
                got.extend_from_slice(&p.activity_uv);
            }
            assert_eq!(got.len(), whole.activity_uv.len(), "{kind:?}");
            for (i, (a, b)) in got.iter().zip(&whole.activity_uv).enumerate() {
                assert_eq!(a.to_bits(), b.to_bits(), "{kind:?} window {i}");
            }
            // What a channel holds: the first 300 s (and the block that
            // completes them) until the decision, then a block's windows.
            assert!(pieces[0].activity_uv.len() <= 3000 + 41, "{kind:?}");
            assert!(
                pieces[1..].iter().all(|p| p.activity_uv.len() <= 41),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn tkeo_damps_low_frequencies_and_mains_is_notched() {
        // A 30 Hz sine reads sin²(2π·30/fs)/sin²(2π·80/fs) of its power.
        let s = run(Envelope::Tkeo, 30.0, 50.0);
        let f = |hz: f64| (2.0 * std::f64::consts::PI * hz / 1000.0).sin();
        let expect = 50.0 / 2f64.sqrt() * f(30.0) / f(80.0);
        let v = s.activity_uv[50] as f64;
        assert!((v - expect).abs() / expect < 0.05, "{v} vs {expect}");
        let s = run(Envelope::Rms, 50.0, 50.0);
        assert!(s.activity_uv[50] < 1.0, "{}", s.activity_uv[50]);
    }
}
