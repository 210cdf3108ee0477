//! Seeded synthetic nights with ground truth: two leg EMG channels and a
//! three-axis ankle accelerometer, with resting noise, mains hum, ECG
//! spikes, leg movements (single and in periodic series) and cramps. The
//! truth is right by construction: it is the schedule the samples are
//! generated from.
//!
//! The same seed gives the same bytes on every platform (ChaCha8).

use std::f64::consts::PI;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dsp::design::rbj_bandpass;
use crate::dsp::filter::SosFilter;
use crate::error::{Error, Result};
use crate::score::EpisodeKind;

mod artifacts;
pub mod cohort;
pub mod families;
mod night;
mod physiology;
mod psg;
mod schedule;
mod writers;

use artifacts::*;
pub use families::{Family, FamilyNight};
pub use night::simulate;
use physiology::*;
use psg::*;
pub use schedule::{schedule, ScheduleSpec, TruthEvent};
use writers::*;

/// Names of the simulated EMG channels (left and right leg).
pub const EMG_CHANNELS: [&str; 2] = ["emg_left_uv", "emg_right_uv"];
/// Truth kind of an amplifier clipping stretch: never an episode; `evaluate`
/// checks that no cramp is reported over one.
pub const CLIPPING_KIND: &str = "clipping";
/// Names of the simulated accelerometer axes.
pub const ACC_CHANNELS: [&str; 3] = ["acc_x_g", "acc_y_g", "acc_z_g"];
/// Integer WAV scaling of EMG, µV per count (±1.6 mV range).
pub const WAV_EMG_GAIN_UV: f64 = 0.05;
/// Integer WAV scaling of acceleration, g per count (±8 g range).
pub const WAV_ACC_GAIN_G: f64 = 1.0 / 4096.0;

/// EMG sample rate of the `psg` preset, Hz (a common polysomnography rate;
/// 200 and 500 Hz are as common).
pub const PSG_EMG_FS_HZ: f64 = 256.0;

/// Output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Wav,
    /// EDF+ with the truth as annotations (`<kind> @ <channel>`).
    Edf,
}

/// EDF physical range of simulated EMG, µV: 0.05 µV per digital step
/// over ±1638 µV, well above any simulated peak.
pub const EDF_EMG_RANGE_UV: (f64, f64) = (-1638.4, 1638.35);
/// EDF physical range of simulated acceleration, g: 1e-4 g per step, the
/// resolution of the CSV output.
pub const EDF_ACC_RANGE_G: (f64, f64) = (-3.2768, 3.2767);

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub out_dir: PathBuf,
    pub nights: usize,
    pub hours: f64,
    pub seed: u64,
    pub format: Format,
    /// EMG sample rate, Hz.
    pub emg_fs_hz: f64,
    /// Accelerometer sample rate, Hz.
    pub acc_fs_hz: f64,
    /// Mains frequency, Hz, or `None` for a recording without hum.
    pub mains_hz: Option<f64>,
    /// Mains amplitude, µV.
    pub mains_uv: f64,
    /// ECG R-wave amplitude on the leg channels, µV.
    pub ecg_uv: f64,
    /// Resting EMG noise, µV RMS.
    pub rest_uv: f64,
    /// Cramps per hour (at least one per night).
    pub cramps_per_h: f64,
    /// Night-id prefix: nights are `<prefix>NN`.
    pub prefix: String,
    /// Cramp plateau amplitude range, µV RMS (drawn per cramp).
    pub cramp_uv: (f64, f64),
    /// Cramp duration range, s (drawn per cramp).
    pub cramp_s: (f64, f64),
    /// Confounders and realism beyond the easy night (all off in `easy`).
    pub realism: Realism,
    /// Family of the nights (`--family`, issue 15), drawn per night on top
    /// of these options (meant for the `psg` preset); `None`: the options
    /// as they are. A family night also gets `<night>.sim.json`.
    pub family: Option<Family>,
    /// Write no accelerometer file (`--no-accel`): the night as most PSG
    /// nights come, without one; EMG and truth unchanged.
    pub no_accel: bool,
}

/// A preset of [`Realism`] (`--difficulty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difficulty {
    /// The original sample nights: weak ECG (10 µV), 15 µV mains at 50 Hz,
    /// no artifacts. Byte-identical to earlier versions for the same seed.
    Easy,
    /// Moderate ECG (30 µV QRS), 50 or 60 Hz mains, some pops and motion,
    /// mild drift, a few weak LMs, cramps up to 180 s.
    Realistic,
    /// Strong ECG (80 µV QRS, 50–90 bpm), strong mains with its third
    /// harmonic, frequent pops and motion, ±20 % gain drift, one noisy
    /// channel, many weak LMs near the +8 µV onset, long cramps with dips.
    Hard,
    /// Polysomnography-like: the hard confounders plus bilateral LMs, body
    /// movements, amplifier clipping and pre-cramp build-ups, at 256 Hz.
    Psg,
}

/// Confounders of a simulated night; each is switched off by its zero value.
/// Their random draws come from a stream separate from the easy night's, so
/// an easy night stays byte-identical whatever this code adds.
#[derive(Debug, Clone, PartialEq)]
pub struct Realism {
    /// Realistic heartbeat: a narrow QRS (Ricker, 6 ms) plus a T wave, at a
    /// heart rate drawn per night from this range, bpm, with beat-to-beat
    /// variability. `None`: the easy periodic 10 ms Ricker at 60–75 bpm.
    pub heart_rate_bpm: Option<(f64, f64)>,
    /// Mains frequency drawn per night from {50, 60} when no frequency is given.
    pub random_mains: bool,
    /// Amplitude of the mains third harmonic relative to the fundamental.
    pub mains_third: f64,
    /// Baseline wander (0.05–0.5 Hz, e.g. respiration and sweat), µV.
    pub wander_uv: f64,
    /// Electrode pops (step with exponential decay, 200–800 µV) per hour.
    pub pops_per_h: f64,
    /// Motion artifacts (1–3 s slow transients of 100–400 µV at 1–4 Hz,
    /// with accelerometer movement) per hour.
    pub motion_per_h: f64,
    /// Gain drift: each channel's gain wanders by up to ± this fraction.
    pub gain_drift: f64,
    /// Extra resting noise on one channel (chosen per night), µV RMS.
    pub noisy_channel_uv: f64,
    /// Share of LMs that are weak: 11–16 µV above resting, just over the
    /// WASM +8 µV onset.
    pub weak_lm_fraction: f64,
    /// Periodic LM series: share of series, with 4–8 movements 10–90 s apart
    /// (WASM PLM range). Zero: the easy 30 % series of 4–6, 15–40 s apart.
    pub plm_series_fraction: f64,
    /// Cramps get 1–3 dips of 0.5–1.5 s to 30–60 % (easy: one 1 s dip to 40 %).
    pub cramp_dips: bool,
    /// Posture changes (the gravity vector turns over 1–2 s) per hour.
    pub posture_per_h: f64,
    /// Share of LMs that are bilateral: 2–4 parts of 2–4 s alternating
    /// legs, each overlapping the previous by up to 0.4 s or starting up to
    /// 0.3 s after it ends, 15 s at most in all (WASM 2016 bilateral LM).
    pub bilateral_lm_fraction: f64,
    /// Body movements per hour: 20–45 s of strong activity on both legs at
    /// once with large accelerometer movement throughout (truth `movement`).
    pub body_movements_per_h: f64,
    /// Amplifier clipping stretches per hour: 3–20 s of one channel held at
    /// its rails (±[`SIM_RAIL_UV`]; truth `clipping`).
    pub clipping_per_h: f64,
    /// Share of cramps preceded by a slow tension build-up: activity rising
    /// from 3 to 6 µV above resting, without movement, over a length drawn
    /// from `buildup_s`; the cramp's truth onset stays where it was.
    pub buildup_fraction: f64,
    /// Build-up length range, s.
    pub buildup_s: (f64, f64),
}

/// Rails of the simulated EMG amplifier, µV: the largest value the WAV and
/// EDF outputs can hold (32767 × 0.05 µV), also used for CSV.
pub const SIM_RAIL_UV: f64 = 1638.35;
/// Build-up activity above resting at its start and at the cramp onset, µV:
/// above the WASM offset level (+2 µV) and below the onset level (+8 µV),
/// so the build-up is measured but does not move the onset.
pub const BUILDUP_ABOVE_UV: (f64, f64) = (3.0, 5.0);
/// Default build-up length range, s ("tens of seconds"; at most 40 s so it
/// stays inside the 45 s kept free of LMs before each cramp).
pub const BUILDUP_RANGE_S: (f64, f64) = (20.0, 40.0);

impl Realism {
    /// The confounders of a preset.
    pub fn preset(d: Difficulty) -> Realism {
        match d {
            Difficulty::Easy => Realism {
                heart_rate_bpm: None,
                random_mains: false,
                mains_third: 0.2,
                wander_uv: 0.0,
                pops_per_h: 0.0,
                motion_per_h: 0.0,
                gain_drift: 0.0,
                noisy_channel_uv: 0.0,
                weak_lm_fraction: 0.0,
                plm_series_fraction: 0.0,
                cramp_dips: false,
                posture_per_h: 0.0,
                bilateral_lm_fraction: 0.0,
                body_movements_per_h: 0.0,
                clipping_per_h: 0.0,
                buildup_fraction: 0.0,
                buildup_s: BUILDUP_RANGE_S,
            },
            Difficulty::Realistic => Realism {
                heart_rate_bpm: Some((55.0, 80.0)),
                random_mains: true,
                mains_third: 0.2,
                wander_uv: 40.0,
                pops_per_h: 4.0,
                motion_per_h: 4.0,
                gain_drift: 0.1,
                noisy_channel_uv: 3.0,
                weak_lm_fraction: 0.2,
                plm_series_fraction: 0.4,
                cramp_dips: true,
                posture_per_h: 2.0,
                bilateral_lm_fraction: 0.0,
                body_movements_per_h: 0.0,
                clipping_per_h: 0.0,
                buildup_fraction: 0.0,
                buildup_s: BUILDUP_RANGE_S,
            },
            Difficulty::Hard => Realism {
                heart_rate_bpm: Some((50.0, 90.0)),
                random_mains: true,
                mains_third: 0.3,
                wander_uv: 100.0,
                pops_per_h: 12.0,
                motion_per_h: 10.0,
                gain_drift: 0.2,
                noisy_channel_uv: 5.0,
                weak_lm_fraction: 0.4,
                plm_series_fraction: 0.5,
                cramp_dips: true,
                posture_per_h: 4.0,
                bilateral_lm_fraction: 0.0,
                body_movements_per_h: 0.0,
                clipping_per_h: 0.0,
                buildup_fraction: 0.0,
                buildup_s: BUILDUP_RANGE_S,
            },
            Difficulty::Psg => Realism {
                bilateral_lm_fraction: 0.25,
                body_movements_per_h: 3.0,
                clipping_per_h: 3.0,
                buildup_fraction: 0.5,
                ..Realism::preset(Difficulty::Hard)
            },
        }
    }
}

impl SimOptions {
    /// Defaults with the amplitudes and confounders of a preset.
    pub fn with_difficulty(d: Difficulty) -> SimOptions {
        let mut o = SimOptions {
            realism: Realism::preset(d),
            ..SimOptions::default()
        };
        match d {
            Difficulty::Easy => {}
            Difficulty::Realistic => {
                o.ecg_uv = 30.0;
                o.mains_uv = 30.0;
                o.cramp_s = (20.0, 180.0);
            }
            Difficulty::Hard | Difficulty::Psg => {
                o.ecg_uv = 80.0;
                o.mains_uv = 60.0;
                o.cramp_s = (20.0, 180.0);
            }
        }
        if d == Difficulty::Psg {
            o.emg_fs_hz = PSG_EMG_FS_HZ;
        }
        o
    }
}

impl SimOptions {
    /// Refuses options the simulator cannot honour, naming the flag.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::Config(msg));
        if !(self.hours > 0.0 && self.hours.is_finite()) {
            return bad(format!(
                "--hours is {}; expected a duration > 0",
                self.hours
            ));
        }
        if !(self.emg_fs_hz >= 100.0 && self.acc_fs_hz >= 10.0) {
            return bad("simulated EMG needs at least 100 Hz and accelerometer 10 Hz".into());
        }
        if let Some(m) = self.mains_hz {
            if m != 50.0 && m != 60.0 {
                return bad(format!("--mains is {m}; expected 50, 60 or 0"));
            }
        }
        let r = &self.realism;
        for (x, what) in [
            (self.mains_uv, "mains-uv"),
            (self.ecg_uv, "ecg-uv"),
            (self.cramps_per_h, "cramps-per-h"),
            (r.wander_uv, "wander-uv"),
            (r.pops_per_h, "pops-per-h"),
            (r.motion_per_h, "motion-per-h"),
            (r.gain_drift, "gain-drift"),
            (r.noisy_channel_uv, "noisy-channel-uv"),
            (r.weak_lm_fraction, "weak-lm-fraction"),
            (r.posture_per_h, "posture-per-h"),
            (r.bilateral_lm_fraction, "bilateral-lm-fraction"),
            (r.body_movements_per_h, "body-movements-per-h"),
            (r.clipping_per_h, "clipping-per-h"),
            (r.buildup_fraction, "buildup-fraction"),
        ] {
            if !(x.is_finite() && x >= 0.0) {
                return bad(format!("--{what} is {x}; expected a number >= 0"));
            }
        }
        if r.weak_lm_fraction > 1.0 || r.gain_drift >= 1.0 {
            return bad("--weak-lm-fraction must be at most 1 and --gain-drift below 1".into());
        }
        if r.bilateral_lm_fraction > 1.0 || r.buildup_fraction > 1.0 {
            return bad("--bilateral-lm-fraction and --buildup-fraction must be at most 1".into());
        }
        Ok(())
    }
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            out_dir: PathBuf::from("sim"),
            nights: 1,
            hours: 0.25,
            seed: 1,
            format: Format::Csv,
            emg_fs_hz: 1000.0,
            acc_fs_hz: 50.0,
            mains_hz: Some(50.0),
            mains_uv: 15.0,
            ecg_uv: 10.0,
            rest_uv: 2.0,
            cramps_per_h: 2.0,
            prefix: "night".into(),
            cramp_uv: (50.0, 120.0),
            cramp_s: (20.0, 90.0),
            realism: Realism::preset(Difficulty::Easy),
            family: None,
            no_accel: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_seeded_non_overlapping_and_has_a_cramp() {
        let spec = ScheduleSpec::easy(2.0);
        let a = schedule(&mut ChaCha8Rng::seed_from_u64(3), 1800.0, &spec);
        let b = schedule(&mut ChaCha8Rng::seed_from_u64(3), 1800.0, &spec);
        assert_eq!(a, b);
        assert!(a.iter().any(|e| e.kind == EpisodeKind::Cramp));
        for w in a.windows(2) {
            assert!(w[1].start_s > w[0].end_s + 5.0, "{w:?}");
        }
        for e in &a {
            match e.kind {
                EpisodeKind::Cramp => assert!(e.end_s - e.start_s >= 20.0),
                _ => assert!(e.end_s - e.start_s <= 5.0),
            }
        }
    }
}
