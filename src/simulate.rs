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

pub mod families;
pub use families::{Family, FamilyNight};

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

/// One truth row.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthEvent {
    pub channel: usize,
    pub kind: EpisodeKind,
    pub start_s: f64,
    pub end_s: f64,
    /// Plateau amplitude, µV RMS.
    pub amp_uv: f64,
    /// Dips of a cramp: (centre s, half-width s, remaining fraction).
    pub dips: Vec<(f64, f64, f64)>,
}

/// What the schedule draws (ranges of the easy night unless stated).
#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    pub cramps_per_h: f64,
    /// Cramp duration range, s.
    pub cramp_s: (f64, f64),
    /// Cramp amplitude range, µV RMS.
    pub cramp_uv: (f64, f64),
    /// Share of LM groups that are periodic series; 0 keeps the easy series.
    pub plm_series_fraction: f64,
}

impl ScheduleSpec {
    /// The easy night's schedule.
    pub fn easy(cramps_per_h: f64) -> ScheduleSpec {
        ScheduleSpec {
            cramps_per_h,
            cramp_s: (20.0, 90.0),
            cramp_uv: (50.0, 120.0),
            plm_series_fraction: 0.0,
        }
    }
}

/// Whether `[s, e]` comes closer to an event than its margin: 45 s around
/// cramps (room for the stretch after), 8 s around other events.
fn overlaps(events: &[TruthEvent], s: f64, e: f64) -> bool {
    events.iter().any(|ev| {
        let margin = if ev.kind == EpisodeKind::Cramp {
            45.0
        } else {
            8.0
        };
        s < ev.end_s + margin && e > ev.start_s - margin
    })
}

/// The event schedule of one night.
pub fn schedule(rng: &mut ChaCha8Rng, duration_s: f64, spec: &ScheduleSpec) -> Vec<TruthEvent> {
    let cramps_per_h = spec.cramps_per_h;
    let mut events = Vec::new();
    // Cramps first, spread over the night, each with room for the stretch after it.
    let n_cramps = ((duration_s / 3600.0 * cramps_per_h).round() as usize).max(1);
    for k in 0..n_cramps {
        let dur = rng
            .random_range(spec.cramp_s.0..spec.cramp_s.1)
            .min(duration_s * 0.3);
        let slot = duration_s / n_cramps as f64;
        let lo = k as f64 * slot + 70.0;
        let hi = ((k + 1) as f64 * slot - dur - 60.0).max(lo + 1.0);
        let start = rng.random_range(lo..hi);
        if start + dur + 40.0 > duration_s {
            continue;
        }
        events.push(TruthEvent {
            channel: rng.random_range(0..2usize),
            kind: EpisodeKind::Cramp,
            start_s: start,
            end_s: start + dur,
            amp_uv: rng.random_range(spec.cramp_uv.0..spec.cramp_uv.1),
            dips: vec![(0.5 * (start + (start + dur)), 0.5, 0.4)],
        });
    }
    // Leg movements, single or in periodic series, away from the cramps.
    let mut t = rng.random_range(15.0..40.0f64);
    while t < duration_s - 20.0 {
        let periodic = spec.plm_series_fraction > 0.0;
        let series = rng.random_bool(if periodic {
            spec.plm_series_fraction
        } else {
            0.3
        });
        let count = match (series, periodic) {
            (false, _) => 1,
            (true, false) => rng.random_range(4..7usize),
            (true, true) => rng.random_range(4..9usize),
        };
        let channel = rng.random_range(0..2usize);
        let mut placed = Vec::new();
        let mut s = t;
        for _ in 0..count {
            let dur = rng.random_range(0.8..5.0f64);
            if s + dur > duration_s - 5.0 || overlaps(&events, s, s + dur) {
                break;
            }
            placed.push(TruthEvent {
                channel,
                kind: EpisodeKind::Lm,
                start_s: s,
                end_s: s + dur,
                amp_uv: rng.random_range(20.0..60.0),
                dips: Vec::new(),
            });
            s += if periodic {
                rng.random_range(10.0..90.0)
            } else {
                rng.random_range(15.0..40.0)
            };
        }
        let last = placed.last().map(|e| e.end_s).unwrap_or(t);
        events.extend(placed);
        t = last + rng.random_range(12.0..90.0);
    }
    events.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    events
}

/// Amplitude envelope (0–1) of an event at time `t`: raised-cosine ramps;
/// cramps ramp over 3 s, dip to 40 % for 1 s in the middle, ramp down 2 s.
fn envelope(ev: &TruthEvent, t: f64) -> f64 {
    if t < ev.start_s || t >= ev.end_s {
        return 0.0;
    }
    let (up, down) = match ev.kind {
        EpisodeKind::Cramp => (3.0, 2.0),
        EpisodeKind::Movement => (0.5, 0.5),
        _ => (0.1, 0.1),
    };
    let rise = ((t - ev.start_s) / up).min(1.0);
    let fall = ((ev.end_s - t) / down).min(1.0);
    let mut g = 0.5 - 0.5 * (PI * rise.min(fall)).cos();
    if ev.kind == EpisodeKind::Movement {
        // A body movement is phasic: the two legs' activity waxes and
        // wanes (0.7 Hz, out of phase) but stays well above the offset level.
        let phase = if ev.channel == 0 { 0.0 } else { 2.0 };
        g *= 0.6 + 0.4 * (2.0 * PI * 0.7 * (t - ev.start_s) + phase).sin();
    }
    if ev.kind == EpisodeKind::Cramp {
        for &(mid, half, depth) in &ev.dips {
            if (t - mid).abs() < half {
                g *= depth;
            }
        }
        // Cramps start at a floor of intensity so onset is sharp enough to time.
        g = g.max(0.25);
    }
    g
}

/// Heartbeat at `t` from the nearest beats: a narrow QRS (Ricker, σ = 6 ms,
/// most energy 20–60 Hz) of peak `amp` and a T wave (Gaussian, 40 ms, 30 %
/// of `amp`, 250 ms after the R peak) that stays below 20 Hz.
fn qrs_t(t: f64, beats: &[f64], amp: f64) -> f64 {
    let mut v = 0.0;
    for &b in beats {
        let x = ((t - b) / 0.006).powi(2);
        if x < 400.0 {
            v += amp * (1.0 - x) * (-x / 2.0).exp();
        }
        let y = ((t - b - 0.25) / 0.04).powi(2);
        if y < 400.0 {
            v += 0.3 * amp * (-y / 2.0).exp();
        }
    }
    v
}

/// A transient artifact on one channel.
#[derive(Debug, Clone)]
struct Transient {
    channel: usize,
    start_s: f64,
    /// Pops: decay constant; motion: duration, s.
    len_s: f64,
    amp_uv: f64,
    /// Motion: oscillation frequency, Hz (0 for pops).
    freq_hz: f64,
}

/// A slow tension build-up before a cramp.
#[derive(Debug, Clone)]
struct Buildup {
    channel: usize,
    start_s: f64,
    /// The cramp's onset, where the build-up ends, s.
    onset_s: f64,
    /// Resting EMG of the channel, µV RMS (the build-up is set above it).
    rest_uv: f64,
}

impl Buildup {
    /// Amplitude of the extra EMG at `t`, µV RMS, such that the channel's
    /// RMS sits `BUILDUP_ABOVE_UV` (rising linearly) above resting.
    fn amp_uv(&self, t: f64) -> f64 {
        if t < self.start_s || t >= self.onset_s {
            return 0.0;
        }
        let f = (t - self.start_s) / (self.onset_s - self.start_s);
        let above = BUILDUP_ABOVE_UV.0 + (BUILDUP_ABOVE_UV.1 - BUILDUP_ABOVE_UV.0) * f;
        ((self.rest_uv + above).powi(2) - self.rest_uv.powi(2)).sqrt()
    }
}

/// A stretch of one channel held at the amplifier's rails.
#[derive(Debug, Clone)]
struct Clip {
    channel: usize,
    start_s: f64,
    end_s: f64,
    /// Equal segments alternating between the rails, the first at +rail
    /// when `first_positive`.
    segments: usize,
    first_positive: bool,
}

impl Clip {
    fn value_uv(&self, c: usize, t: f64) -> Option<f64> {
        if c != self.channel || t < self.start_s || t >= self.end_s {
            return None;
        }
        let seg =
            ((t - self.start_s) / (self.end_s - self.start_s) * self.segments as f64) as usize;
        let positive = self.first_positive == (seg % 2 == 0);
        Some(if positive { SIM_RAIL_UV } else { -SIM_RAIL_UV })
    }
}

/// Whether `[s, e]` keeps clear of the cramps (100 s before, room for a
/// build-up and the preceding minute the cramp rule compares with; 60 s
/// after, the stretching) and of the other body movements and clipping
/// stretches (30 s).
fn clear_of_cramps(events: &[TruthEvent], clips: &[Clip], s: f64, e: f64) -> bool {
    events.iter().all(|ev| match ev.kind {
        EpisodeKind::Cramp => e < ev.start_s - 100.0 || s > ev.end_s + 60.0,
        EpisodeKind::Movement => e < ev.start_s - 30.0 || s > ev.end_s + 30.0,
        _ => true,
    }) && clips
        .iter()
        .all(|c| e < c.start_s - 30.0 || s > c.end_s + 30.0)
}

/// Draws the PSG confounders (build-ups, bilateral LMs, body movements,
/// clipping) from their own stream `rng`, editing `events`: LMs become
/// bilateral, LMs near a body movement or a clipping stretch are dropped
/// (the truth stays right by construction), body movements are added.
fn draw_psg(
    rng: &mut ChaCha8Rng,
    r: &Realism,
    events: &mut Vec<TruthEvent>,
    duration_s: f64,
    rest_of: &dyn Fn(usize) -> f64,
) -> (Vec<Buildup>, Vec<Clip>) {
    let hours = duration_s / 3600.0;
    // Build-ups: each ends at its cramp's onset and keeps 3 s clear of the
    // event before it.
    let mut buildups = Vec::new();
    for ev in events.iter().filter(|e| e.kind == EpisodeKind::Cramp) {
        if !rng.random_bool(r.buildup_fraction.clamp(0.0, 1.0)) {
            continue;
        }
        let (lo, hi) = r.buildup_s;
        let want = rng.random_range(lo..hi.max(lo + 1e-9));
        let prev_end = events
            .iter()
            .filter(|o| o.end_s <= ev.start_s)
            .map(|o| o.end_s)
            .fold(0.0, f64::max);
        let len = want.min(ev.start_s - prev_end - 3.0).min(ev.start_s - 1.0);
        if len >= 5.0 {
            buildups.push(Buildup {
                channel: ev.channel,
                start_s: ev.start_s - len,
                onset_s: ev.start_s,
                rest_uv: rest_of(ev.channel),
            });
        }
    }
    // LM amplitude: weak (11–16 µV above resting) or 20–60 µV.
    let lm_amp = |rng: &mut ChaCha8Rng, c: usize| {
        if rng.random_bool(r.weak_lm_fraction.clamp(0.0, 1.0)) {
            let rest = rest_of(c);
            let above = rng.random_range(11.0..16.0);
            ((rest + above).powi(2) - rest.powi(2)).sqrt() - rest
        } else {
            rng.random_range(20.0..60.0)
        }
    };
    // Bilateral LMs: parts alternate legs; the same leg's parts are at
    // least 1.2 s apart (a 2 s part between, less 2 × 0.4 s overlap), so
    // each leg's detector sees them as separate movements.
    let mut out: Vec<TruthEvent> = Vec::with_capacity(events.len());
    for (i, ev) in events.iter().enumerate() {
        if ev.kind != EpisodeKind::Lm || !rng.random_bool(r.bilateral_lm_fraction.clamp(0.0, 1.0)) {
            out.push(ev.clone());
            continue;
        }
        let limit = events
            .iter()
            .enumerate()
            .filter(|&(j, o)| j != i && o.start_s >= ev.start_s)
            .map(|(_, o)| o.start_s - 3.0)
            .fold(duration_s - 5.0, f64::min);
        let n = rng.random_range(2..5usize);
        let mut parts = Vec::new();
        let (mut s, mut c) = (ev.start_s, ev.channel);
        for _ in 0..n {
            let e = s + rng.random_range(2.0..4.0);
            if e - ev.start_s > crate::config::BILATERAL_MAX_S || e > limit {
                break;
            }
            parts.push(TruthEvent {
                channel: c,
                kind: EpisodeKind::Lm,
                start_s: s,
                end_s: e,
                amp_uv: lm_amp(rng, c),
                dips: Vec::new(),
            });
            c = 1 - c;
            s = e + rng.random_range(-0.4..0.3);
        }
        if parts.len() >= 2 {
            out.extend(parts);
        } else {
            out.push(ev.clone());
        }
    }
    *events = out;
    // Body movements and clipping stretches, in free places: LMs within 8 s
    // are dropped.
    let drop_lms = |events: &mut Vec<TruthEvent>, s: f64, e: f64| {
        events.retain(|ev| ev.kind != EpisodeKind::Lm || ev.end_s < s - 8.0 || ev.start_s > e + 8.0)
    };
    // A start for a stretch of `dur_s` (s) in a free place, up to 30 tries;
    // `None` when the night is too short or no try is free.
    let place = |rng: &mut ChaCha8Rng,
                 events: &mut Vec<TruthEvent>,
                 clips: &[Clip],
                 dur_s: std::ops::Range<f64>| {
        for _attempt in 0..30 {
            let dur = rng.random_range(dur_s.clone());
            if duration_s < dur + 40.0 {
                return None;
            }
            let s = rng.random_range(20.0..duration_s - dur - 20.0);
            if !clear_of_cramps(events, clips, s, s + dur) {
                continue;
            }
            drop_lms(events, s, s + dur);
            return Some((s, dur));
        }
        None
    };
    let mut clips: Vec<Clip> = Vec::new();
    let n_moves = (r.body_movements_per_h * hours).round() as usize;
    for _ in 0..n_moves {
        if let Some((s, dur)) = place(rng, events, &clips, 20.0..45.0) {
            let (d0, d1) = (rng.random_range(0.0..0.8), rng.random_range(-0.8..0.8));
            for (c, (a, b)) in [(s, s + dur), (s + d0, s + dur + d1)]
                .into_iter()
                .enumerate()
            {
                events.push(TruthEvent {
                    channel: c,
                    kind: EpisodeKind::Movement,
                    start_s: a,
                    end_s: b,
                    amp_uv: rng.random_range(40.0..150.0),
                    dips: Vec::new(),
                });
            }
        }
    }
    let n_clips = (r.clipping_per_h * hours).round() as usize;
    for _ in 0..n_clips {
        if let Some((s, dur)) = place(rng, events, &clips, 3.0..20.0) {
            clips.push(Clip {
                channel: rng.random_range(0..2usize),
                start_s: s,
                end_s: s + dur,
                segments: rng.random_range(1..4usize),
                first_positive: rng.random_bool(0.5),
            });
        }
    }
    events.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    clips.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    (buildups, clips)
}

/// The confounders of one night, drawn before the samples.
struct Artifacts {
    active: bool,
    beats_s: Option<Vec<f64>>,
    /// Pops, by start.
    pops: Vec<Transient>,
    /// Motion artifacts, by start.
    motion: Vec<Transient>,
    /// Baseline wander: (amplitude µV, frequency Hz, phase) per component.
    wander: Vec<(f64, f64, f64)>,
    /// Gain drift per channel: (depth, period s, phase).
    drift: [(f64, f64, f64); 2],
    noisy_channel: usize,
    noisy_uv: f64,
    /// Posture changes: (start s, from (x, y, z) g, to (x, y, z) g).
    postures: Vec<(f64, [f64; 3], [f64; 3])>,
    /// Pre-cramp build-ups, by start.
    buildups: Vec<Buildup>,
    /// Clipping stretches, by start.
    clips: Vec<Clip>,
}

/// Longest a pop is followed, in decay constants (decay constants are at
/// most 1 s, so a pop ends within this many seconds).
const POP_SPAN: f64 = 8.0;

impl Artifacts {
    fn draw(
        rng: &mut ChaCha8Rng,
        psg_rng: &mut ChaCha8Rng,
        opts: &SimOptions,
        events: &mut Vec<TruthEvent>,
        duration_s: f64,
        family: Option<&mut FamilyNight>,
    ) -> Result<Artifacts> {
        let r = &opts.realism;
        let active = *r != Realism::preset(Difficulty::Easy);
        let hours = duration_s / 3600.0;
        let beats_s = r.heart_rate_bpm.map(|(lo, hi)| {
            let hr = rng.random_range(lo..hi.max(lo + 1e-9));
            let mut beats = Vec::new();
            let mut b = rng.random_range(0.0..60.0 / hr);
            while b < duration_s + 1.0 {
                beats.push(b);
                // Beat-to-beat variability of about 4 %.
                b += 60.0 / hr * (1.0 + 0.04 * gauss(rng)).clamp(0.85, 1.15);
            }
            beats
        });
        let noisy_channel = rng.random_range(0..2usize);
        let rest_of = |c: usize| {
            if c == noisy_channel {
                (opts.rest_uv.powi(2) + r.noisy_channel_uv.powi(2)).sqrt()
            } else {
                opts.rest_uv
            }
        };
        // Weak LMs: plateau such that activity is 11–16 µV above resting.
        for ev in events.iter_mut() {
            if ev.kind == EpisodeKind::Lm && rng.random_bool(r.weak_lm_fraction.clamp(0.0, 1.0)) {
                let rest = rest_of(ev.channel);
                let above = rng.random_range(11.0..16.0);
                ev.amp_uv = ((rest + above).powi(2) - rest.powi(2)).sqrt() - rest;
            }
            if ev.kind == EpisodeKind::Cramp && r.cramp_dips {
                let d = ev.end_s - ev.start_s;
                let n = rng.random_range(1..4usize);
                ev.dips = (0..n)
                    .map(|_| {
                        (
                            ev.start_s + rng.random_range(0.2..0.8) * d,
                            rng.random_range(0.25..0.75),
                            rng.random_range(0.3..0.6),
                        )
                    })
                    .collect();
            }
        }
        let (buildups, clips) = draw_psg(psg_rng, r, events, duration_s, &rest_of);
        if let Some(f) = family {
            f.draw_events(events, &clips, duration_s);
        }
        // Artifacts stay 3 s clear of every event, build-up and clipping
        // stretch: they are not contractions.
        let events = &*events;
        let clear = |s: f64, e: f64| {
            events
                .iter()
                .map(|ev| (ev.start_s, ev.end_s))
                .chain(buildups.iter().map(|b| (b.start_s, b.onset_s)))
                .chain(clips.iter().map(|c| (c.start_s, c.end_s)))
                .all(|(a, b)| e < a - 3.0 || s > b + 3.0)
        };
        let place = |rng: &mut ChaCha8Rng, per_h: f64, pop: bool| {
            let n = (per_h * hours).round() as usize;
            let mut v = Vec::new();
            for _ in 0..n {
                let start = rng.random_range(0.0..duration_s);
                let (len, amp, freq) = if pop {
                    (
                        rng.random_range(0.2..1.0),
                        rng.random_range(200.0..800.0)
                            * if rng.random_bool(0.5) { 1.0 } else { -1.0 },
                        0.0,
                    )
                } else {
                    (
                        rng.random_range(1.0..3.0),
                        rng.random_range(100.0..400.0),
                        rng.random_range(1.0..4.0),
                    )
                };
                let end = start + if pop { POP_SPAN * len } else { len };
                let channel = rng.random_range(0..2usize);
                if clear(start, end) && end < duration_s {
                    v.push(Transient {
                        channel,
                        start_s: start,
                        len_s: len,
                        amp_uv: amp,
                        freq_hz: freq,
                    });
                }
            }
            v.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
            v
        };
        let pops = place(rng, r.pops_per_h, true);
        let motion = place(rng, r.motion_per_h, false);
        let wander = if r.wander_uv > 0.0 {
            (0..3)
                .map(|_| {
                    (
                        r.wander_uv / 3.0,
                        rng.random_range(0.05..0.5),
                        rng.random_range(0.0..2.0 * PI),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut drift = [(0.0, 1.0, 0.0); 2];
        for d in &mut drift {
            *d = (
                r.gain_drift,
                duration_s * rng.random_range(0.7..1.5),
                rng.random_range(0.0..2.0 * PI),
            );
        }
        let mut postures = Vec::new();
        let n = (r.posture_per_h * hours).round() as usize;
        let mut times: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..duration_s)).collect();
        times.sort_by(f64::total_cmp);
        let mut from = [0.0, 0.0, 1.0];
        for t in times {
            let th = rng.random_range(0.0..1.4f64);
            let ph = rng.random_range(0.0..2.0 * PI);
            let to = [th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()];
            postures.push((t, from, to));
            from = to;
        }
        Ok(Artifacts {
            active,
            beats_s,
            pops,
            motion,
            wander,
            drift,
            noisy_channel,
            noisy_uv: r.noisy_channel_uv,
            postures,
            buildups,
            clips,
        })
    }

    /// Sample `v` of channel `c` at `t` with the confounders added.
    fn emg_extra(
        &self,
        c: usize,
        t: f64,
        v: f64,
        noise: &mut EmgNoise,
        rng: &mut ChaCha8Rng,
    ) -> f64 {
        let (depth, period, phase) = self.drift[c];
        let mut x = v * (1.0 + depth * (2.0 * PI * t / period + phase).sin());
        if c == self.noisy_channel && self.noisy_uv > 0.0 {
            x += self.noisy_uv * noise.next(rng);
        }
        for &(a, f, p) in &self.wander {
            x += a * (2.0 * PI * f * t + p).sin();
        }
        let lo = self.pops.partition_point(|p| p.start_s + POP_SPAN < t);
        for p in self.pops[lo..].iter().take_while(|p| p.start_s <= t) {
            if p.channel == c && t - p.start_s < POP_SPAN * p.len_s {
                x += p.amp_uv * (-(t - p.start_s) / p.len_s).exp();
            }
        }
        let lo = self.motion.partition_point(|m| m.start_s + 3.0 < t);
        for m in self.motion[lo..].iter().take_while(|m| m.start_s <= t) {
            let u = t - m.start_s;
            if m.channel == c && u < m.len_s {
                x += m.amp_uv * (PI * u / m.len_s).sin().powi(2) * (2.0 * PI * m.freq_hz * u).sin();
            }
        }
        x
    }

    /// Amplitude of the build-up EMG on channel `c` at `t`, µV RMS.
    fn buildup_uv(&self, c: usize, t: f64) -> f64 {
        let hi = self.buildups.partition_point(|b| b.start_s <= t);
        self.buildups[..hi]
            .iter()
            .filter(|b| b.channel == c)
            .map(|b| b.amp_uv(t))
            .sum()
    }

    /// The rail value of channel `c` at `t` inside a clipping stretch.
    fn clipped_uv(&self, c: usize, t: f64) -> Option<f64> {
        let hi = self.clips.partition_point(|k| k.start_s <= t);
        self.clips[..hi].iter().find_map(|k| k.value_uv(c, t))
    }

    /// Posture changes and the movement of motion artifacts, added to `a` (g).
    fn accel_extra(&self, t: f64, a: &mut [f64; 3]) {
        // Gravity: the last posture reached, turning over 1.5 s.
        let i = self.postures.partition_point(|p| p.0 <= t);
        if i > 0 {
            let (t0, from, to) = self.postures[i - 1];
            let f = ((t - t0) / 1.5).min(1.0);
            for k in 0..3 {
                a[k] += from[k] + (to[k] - from[k]) * f - if k == 2 { 1.0 } else { 0.0 };
            }
        }
        let lo = self.motion.partition_point(|m| m.start_s + 3.0 < t);
        for m in self.motion[lo..].iter().take_while(|m| m.start_s <= t) {
            let u = t - m.start_s;
            if u < m.len_s {
                a[0] += 0.2 * (PI * u / m.len_s).sin() * (2.0 * PI * m.freq_hz * u).sin();
            }
        }
    }
}

/// Peak of the simulated EMG spectrum, Hz (surface EMG's power peaks
/// around 50–100 Hz; band-pass Q 0.7 spreads it over about 40–160 Hz).
const EMG_PEAK_HZ: f64 = 80.0;
/// From this rate up the EMG is generated at the output rate (peak at
/// `EMG_PEAK_HZ`, or fs / 4 when lower, which keeps the easy nights
/// byte-identical); below it, as a PSG amplifier records it (see [`EmgNoise`]).
const EMG_NATIVE_MIN_FS_HZ: f64 = 320.0;
/// Rate the PSG model generates the EMG at before anti-aliasing, Hz (at least).
const EMG_OVERSAMPLED_HZ: f64 = 1000.0;
/// Anti-alias low-pass of the PSG model: Butterworth of this order at
/// `ANTI_ALIAS_FRACTION` × fs (90 Hz at 200 Hz, 115 Hz at 256 Hz).
const ANTI_ALIAS_ORDER: usize = 8;
const ANTI_ALIAS_FRACTION: f64 = 0.45;

/// Unit-RMS band-limited EMG-like noise source.
///
/// At PSG rates (below `EMG_NATIVE_MIN_FS_HZ`) the muscle keeps its
/// spectrum: the noise is generated at k × fs ≥ 1 kHz with the same 80 Hz
/// peak, low-passed by the amplifier's anti-alias filter and decimated by
/// k. "Unit RMS" is the recorded signal's, as at the native rates, so
/// amplitudes (weak LMs just over +8 µV, build-ups under it) mean the
/// same at every rate. Without this the spectral peak would sit at
/// fs / 4 = 50 Hz, inside the mains exclusion of the detector's band.
struct EmgNoise {
    filter: SosFilter,
    gain: f64,
    /// PSG model: oversampling factor and anti-alias filter.
    psg: Option<(usize, SosFilter)>,
}

impl EmgNoise {
    fn new(fs: f64) -> Result<EmgNoise> {
        EmgNoise::with_peak(fs, EMG_PEAK_HZ)
    }

    /// The noise with its spectral peak at `peak_hz` (or fs / 4 when lower).
    fn with_peak(fs: f64, peak_hz: f64) -> Result<EmgNoise> {
        let (k, fs_gen) = if fs >= EMG_NATIVE_MIN_FS_HZ {
            (1, fs)
        } else {
            let k = (EMG_OVERSAMPLED_HZ / fs).ceil().max(1.0) as usize;
            (k, fs * k as f64)
        };
        let f0 = peak_hz.min(fs_gen / 4.0);
        let bq = SosFilter::new(&rbj_bandpass(f0, 0.7, fs_gen)?);
        let psg = if k > 1 {
            let aa = crate::dsp::design::butter(
                ANTI_ALIAS_ORDER,
                crate::dsp::design::ButterType::Lowpass {
                    cutoff_hz: ANTI_ALIAS_FRACTION * fs,
                },
                fs_gen,
            )?;
            Some((k, SosFilter::new(&aa)))
        } else {
            None
        };
        // Calibrate the recorded output to unit RMS on a fixed seed.
        let mut probe = EmgNoise {
            filter: bq,
            gain: 1.0,
            psg,
        };
        let (filter, psg) = (probe.filter.clone(), probe.psg.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
        let mut acc = 0.0;
        let n = 20000;
        for _ in 0..n {
            let y = probe.next(&mut rng);
            acc += y * y;
        }
        Ok(EmgNoise {
            filter,
            gain: 1.0 / (acc / n as f64).sqrt(),
            psg,
        })
    }

    fn next(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        match &mut self.psg {
            None => self.gain * self.filter.step(gauss(rng)),
            Some((k, aa)) => {
                let mut y = 0.0;
                for _ in 0..*k {
                    y = aa.step(self.filter.step(gauss(rng)));
                }
                self.gain * y
            }
        }
    }
}

/// Standard normal deviate (Box–Muller).
fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

/// A QRS-like Ricker wavelet of width ~10 ms at every heartbeat.
fn ecg(t: f64, beat_s: f64, amp: f64) -> f64 {
    let phase = t % beat_s;
    let dt = phase.min(beat_s - phase);
    let s = 0.010;
    let x = (dt / s).powi(2);
    amp * (1.0 - x) * (-x / 2.0).exp()
}

enum Sink {
    Csv(BufWriter<std::fs::File>),
    Wav(hound::WavWriter<BufWriter<std::fs::File>>),
    Edf(crate::io::edf_write::EdfWriter),
}

impl Sink {
    fn csv(path: &Path, header: &str) -> Result<Sink> {
        let f = std::fs::File::create(path).map_err(|e| Error::output(path, e))?;
        let mut w = BufWriter::new(f);
        writeln!(w, "{header}").map_err(|e| Error::output(path, e))?;
        Ok(Sink::Csv(w))
    }

    fn wav(path: &Path, channels: u16, fs: f64) -> Result<Sink> {
        let spec = hound::WavSpec {
            channels,
            sample_rate: fs.round() as u32,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let w = hound::WavWriter::create(path, spec)
            .map_err(|e| Error::output(path, std::io::Error::other(e.to_string())))?;
        Ok(Sink::Wav(w))
    }

    #[allow(clippy::too_many_arguments)]
    fn edf(
        path: &Path,
        names: &[&str],
        unit: &str,
        range: (f64, f64),
        fs: f64,
        start: &str,
        annotations: &[crate::io::edf::Annotation],
        duration_s: f64,
    ) -> Result<Sink> {
        let signals = names
            .iter()
            .map(|n| crate::io::edf_write::WriteSignal {
                label: n.to_string(),
                unit: unit.into(),
                physical_min: range.0,
                physical_max: range.1,
                digital_min: -32768,
                digital_max: 32767,
            })
            .collect();
        let start = crate::io::sidecar::parse_datetime(start)
            .ok_or_else(|| Error::Config(format!("bad start time {start}")))?;
        Ok(Sink::Edf(crate::io::edf_write::EdfWriter::create(
            path,
            signals,
            fs,
            start,
            annotations,
            duration_s,
        )?))
    }

    fn row(
        &mut self,
        path: &Path,
        t: f64,
        values: &[f64],
        decimals: usize,
        gain: f64,
    ) -> Result<()> {
        match self {
            Sink::Csv(w) => {
                let mut line = format!("{t:.4}");
                for v in values {
                    line.push_str(&format!(",{v:.decimals$}"));
                }
                writeln!(w, "{line}").map_err(|e| Error::output(path, e))
            }
            Sink::Edf(w) => w.push_frame(values),
            Sink::Wav(w) => {
                for v in values {
                    let c = (v / gain).round().clamp(i16::MIN as f64, i16::MAX as f64) as i16;
                    w.write_sample(c)
                        .map_err(|e| Error::output(path, std::io::Error::other(e.to_string())))?;
                }
                Ok(())
            }
        }
    }

    fn finish(self, path: &Path) -> Result<()> {
        match self {
            Sink::Csv(mut w) => w.flush().map_err(|e| Error::output(path, e)),
            Sink::Edf(w) => w.finish(),
            Sink::Wav(w) => w
                .finalize()
                .map_err(|e| Error::output(path, std::io::Error::other(e.to_string()))),
        }
    }
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::output(path, e))
}

/// Writes the nights; returns the truth file of each.
pub fn simulate(opts: &SimOptions) -> Result<Vec<PathBuf>> {
    opts.validate()?;
    std::fs::create_dir_all(&opts.out_dir).map_err(|e| Error::output(&opts.out_dir, e))?;
    let mut truths = Vec::new();
    for k in 0..opts.nights {
        truths.push(simulate_night(opts, k)?);
    }
    Ok(truths)
}

fn simulate_night(opts: &SimOptions, k: usize) -> Result<PathBuf> {
    let id = format!("{}{:02}", opts.prefix, k + 1);
    let mut rng = ChaCha8Rng::seed_from_u64(
        opts.seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(k as u64),
    );
    let duration_s = opts.hours * 3600.0;
    // A family edits this night's options and draws from a fourth stream.
    let mut night_opts;
    let mut family = None;
    let opts = match opts.family {
        None => opts,
        Some(f) => {
            night_opts = opts.clone();
            let seed = opts
                .seed
                .wrapping_mul(0xBF58_476D_1CE4_E5B9)
                .wrapping_add(0xFA3 + k as u64);
            family = Some(FamilyNight::new(f, seed, &mut night_opts));
            &night_opts
        }
    };
    let r = &opts.realism;
    let spec = ScheduleSpec {
        cramps_per_h: opts.cramps_per_h,
        cramp_s: opts.cramp_s,
        cramp_uv: opts.cramp_uv,
        plm_series_fraction: r.plm_series_fraction,
    };
    let mut events = schedule(&mut rng, duration_s, &spec);
    // Confounders draw from their own stream so the easy night is unchanged.
    let mut art_rng = ChaCha8Rng::seed_from_u64(
        opts.seed
            .wrapping_mul(0xD1B5_4A32_D192_ED03)
            .wrapping_add(0xA57 + k as u64),
    );
    let mains_hz = match (opts.mains_hz, r.random_mains) {
        (Some(f), false) => Some(f),
        (None, _) => None,
        (Some(_), true) => Some(if art_rng.random_bool(0.5) { 50.0 } else { 60.0 }),
    };
    // The PSG confounders have a third stream, so the hard nights stay
    // byte-identical too.
    let mut psg_rng = ChaCha8Rng::seed_from_u64(
        opts.seed
            .wrapping_mul(0x94D0_49BB_1331_11EB)
            .wrapping_add(0x5E6 + k as u64),
    );
    let art = Artifacts::draw(
        &mut art_rng,
        &mut psg_rng,
        opts,
        &mut events,
        duration_s,
        family.as_mut(),
    )?;
    let family = family.as_ref();
    // Truth rows: the events, then the clipping stretches, in time order.
    let mut rows: Vec<(usize, &str, f64, f64)> = events
        .iter()
        .map(|e| (e.channel, e.kind.as_str(), e.start_s, e.end_s))
        .chain(
            art.clips
                .iter()
                .map(|c| (c.channel, CLIPPING_KIND, c.start_s, c.end_s)),
        )
        .collect();
    rows.sort_by(|a, b| a.2.total_cmp(&b.2));
    let dir = &opts.out_dir;
    let ext = match opts.format {
        Format::Csv => "csv",
        Format::Wav => "wav",
        Format::Edf => "edf",
    };
    let start = format!("2026-01-{:02}T23:00:00", (k % 28) + 1);

    // Truth.
    let truth_path = dir.join(format!("{id}.truth.csv"));
    let mut truth = String::from("channel,kind,start_s,end_s\n");
    for &(c, kind, s, e) in &rows {
        truth.push_str(&format!("{},{kind},{s:.3},{e:.3}\n", EMG_CHANNELS[c]));
    }
    write_text(&truth_path, &truth)?;

    // EMG file.
    let emg_path = dir.join(format!("{id}_emg.{ext}"));
    let fs = opts.emg_fs_hz;
    let mut sink = match opts.format {
        Format::Csv => Sink::csv(&emg_path, &format!("time,{}", EMG_CHANNELS.join(",")))?,
        Format::Wav => Sink::wav(&emg_path, 2, fs)?,
        Format::Edf => {
            let ann: Vec<crate::io::edf::Annotation> = rows
                .iter()
                .map(|&(c, kind, s, e)| crate::io::edf::Annotation {
                    onset_s: (s * 1000.0).round() / 1000.0,
                    duration_s: Some(((e - s) * 1000.0).round() / 1000.0),
                    text: format!("{kind} @ {}", EMG_CHANNELS[c]),
                })
                .collect();
            Sink::edf(
                &emg_path,
                &EMG_CHANNELS,
                "uV",
                EDF_EMG_RANGE_UV,
                fs,
                &start,
                &ann,
                duration_s,
            )?
        }
    };
    let mut noise = [EmgNoise::new(fs)?, EmgNoise::new(fs)?];
    let beat_s = rng.random_range(0.8..1.0f64);
    let n = (duration_s * fs).round() as u64;
    let mut next_event = 0;
    let mut beat_i = 0usize;
    let mut noise_extra = EmgNoise::new(fs)?;
    let mut noise_buildup = EmgNoise::new(fs)?;
    // Family nights: calf-cramp EMG and its own sample stream.
    let mut noise_calf = [
        EmgNoise::with_peak(fs, families::CALF_PEAK_HZ)?,
        EmgNoise::with_peak(fs, families::CALF_PEAK_HZ)?,
    ];
    let mut fam_rng = ChaCha8Rng::seed_from_u64(opts.seed.wrapping_add(0xCA1F + k as u64));
    // Harmonics at or above Nyquist are gone: a PSG amplifier's anti-alias
    // filter removes them (at 200 and 256 Hz the third harmonic would
    // otherwise alias into the EMG band).
    let mains_third = match mains_hz {
        Some(f) if 3.0 * f < fs / 2.0 => r.mains_third,
        _ => 0.0,
    };
    let mut vals = [0f64; 2];
    for i in 0..n {
        let t = i as f64 / fs;
        while next_event < events.len() && events[next_event].end_s < t {
            next_event += 1;
        }
        let mut hum = mains_hz.map_or(0.0, |f| {
            opts.mains_uv
                * ((2.0 * PI * f * t).sin() + mains_third * (2.0 * PI * 3.0 * f * t + 0.3).sin())
        });
        if let Some(f) = family {
            hum *= f.hum_gain(t);
        }
        let heart = match &art.beats_s {
            None => ecg(t, beat_s, opts.ecg_uv),
            Some(beats) => {
                while beat_i + 1 < beats.len() && beats[beat_i + 1] <= t {
                    beat_i += 1;
                }
                qrs_t(
                    t,
                    &beats[beat_i.saturating_sub(1)..(beat_i + 2).min(beats.len())],
                    opts.ecg_uv,
                )
            }
        };
        for (c, v) in vals.iter_mut().enumerate() {
            let mut amp = opts.rest_uv;
            let mut calf_amp = 0.0;
            for ev in events[next_event..].iter().take_while(|e| e.start_s <= t) {
                if ev.channel == c {
                    let is_calf = ev.kind == EpisodeKind::Cramp
                        && family.is_some_and(|f| f.is_calf(c, ev.start_s));
                    if is_calf {
                        calf_amp += ev.amp_uv * envelope(ev, t);
                    } else {
                        amp += ev.amp_uv * envelope(ev, t);
                    }
                }
            }
            *v = amp * noise[c].next(&mut rng) + hum + heart * if c == 0 { 1.0 } else { 0.8 };
            if let Some(f) = family {
                *v += calf_amp * noise_calf[c].next(&mut fam_rng) + f.artifact_uv(c, t);
            }
            if art.active {
                *v = art.emg_extra(c, t, *v, &mut noise_extra, &mut art_rng);
                let b = art.buildup_uv(c, t);
                if b > 0.0 {
                    *v += b * noise_buildup.next(&mut art_rng);
                }
                if let Some(rail) = art.clipped_uv(c, t) {
                    *v = rail;
                }
            }
        }
        sink.row(&emg_path, t, &vals, 2, WAV_EMG_GAIN_UV)?;
    }
    sink.finish(&emg_path)?;
    if let Some(f) = family {
        write_text(
            &dir.join(format!("{id}.sim.json")),
            &f.json(&id, mains_hz, opts.mains_uv, !opts.no_accel),
        )?;
    }
    if opts.no_accel {
        return write_sidecars(opts, &[(&emg_path, fs)], &start, &emg_path, None)
            .map(|_| truth_path);
    }

    // Accelerometer file.
    let acc_path = dir.join(format!("{id}_acc.{ext}"));
    let afs = opts.acc_fs_hz;
    let mut sink = match opts.format {
        Format::Csv => Sink::csv(&acc_path, &format!("time,{}", ACC_CHANNELS.join(",")))?,
        Format::Wav => Sink::wav(&acc_path, 3, afs)?,
        Format::Edf => Sink::edf(
            &acc_path,
            &ACC_CHANNELS,
            "g",
            EDF_ACC_RANGE_G,
            afs,
            &start,
            &[],
            duration_s,
        )?,
    };
    let n = (duration_s * afs).round() as u64;
    for i in 0..n {
        let t = i as f64 / afs;
        let mut a = [0.0, 0.0, 1.0];
        // Body movement: the ankle's acceleration grows along gravity by
        // 0.15–0.45 g (whatever the posture, ENMO stays above 0.1 g) with a
        // lateral 2 Hz sway.
        let mut body: Option<f64> = None;
        for ev in &events {
            if ev.kind == EpisodeKind::Movement {
                let psg_accel = family.is_none_or(|f| f.psg_body_accel());
                if psg_accel && ev.channel == 0 && (ev.start_s..ev.end_s).contains(&t) {
                    body = Some(t - ev.start_s);
                }
                continue;
            }
            match ev.kind {
                EpisodeKind::Cramp => {
                    // A jerk at onset and stretching after the end.
                    if (ev.start_s..ev.start_s + 0.5).contains(&t) {
                        a[0] += 0.4 * (2.0 * PI * 4.0 * (t - ev.start_s)).sin();
                        a[2] += 0.3;
                    }
                    if (ev.end_s + 2.0..ev.end_s + 17.0).contains(&t) {
                        a[2] += 0.15 * (1.0 + (2.0 * PI * (t - ev.end_s)).sin());
                    }
                }
                _ => {
                    if (ev.start_s..ev.end_s).contains(&t) {
                        a[2] += 0.05 * (1.0 + (2.0 * PI * 2.0 * (t - ev.start_s)).sin());
                    }
                }
            }
        }
        if art.active {
            art.accel_extra(t, &mut a);
        }
        if let Some(u) = body {
            let gain = 1.3 + 0.15 * (2.0 * PI * 1.3 * u).sin();
            for v in &mut a {
                *v *= gain;
            }
            a[0] += 0.1 * (2.0 * PI * 2.0 * u).sin();
        }
        if let Some(f) = family {
            f.accel_add(t, &mut a);
        }
        for v in &mut a {
            *v += 0.003 * gauss(&mut rng);
        }
        sink.row(&acc_path, t, &a, 4, WAV_ACC_GAIN_G)?;
    }
    sink.finish(&acc_path)?;
    write_sidecars(
        opts,
        &[(&emg_path, fs), (&acc_path, afs)],
        &start,
        &emg_path,
        Some(&acc_path),
    )?;
    Ok(truth_path)
}

/// Sidecars: start time for each file, channel tables for WAV (an EDF
/// header carries both).
fn write_sidecars(
    opts: &SimOptions,
    files: &[(&PathBuf, f64)],
    start: &str,
    emg_path: &Path,
    acc_path: Option<&PathBuf>,
) -> Result<()> {
    if opts.format == Format::Edf {
        return Ok(());
    }
    let fs = opts.emg_fs_hz;
    let afs = opts.acc_fs_hz;
    for &(path, fs) in files {
        let json = crate::io::sidecar::sibling(path, ".json");
        write_text(
            &json,
            &format!("{{\"start_time\": \"{start}\", \"sampling_frequency\": {fs}}}\n"),
        )?;
    }
    if opts.format == Format::Wav {
        let mut tsv = String::from("name\ttype\tunits\tsampling_frequency\tgain\toffset\n");
        for c in EMG_CHANNELS {
            tsv.push_str(&format!("{c}\tEMG\tuV\t{fs}\t{WAV_EMG_GAIN_UV}\t0\n"));
        }
        write_text(
            &crate::io::sidecar::sibling(emg_path, "_channels.tsv"),
            &tsv,
        )?;
        let Some(acc_path) = acc_path else {
            return Ok(());
        };
        let mut tsv = String::from("name\ttype\tunits\tsampling_frequency\tgain\toffset\n");
        for c in ACC_CHANNELS {
            tsv.push_str(&format!("{c}\tACCEL\tg\t{afs}\t{WAV_ACC_GAIN_G}\t0\n"));
        }
        write_text(
            &crate::io::sidecar::sibling(acc_path, "_channels.tsv"),
            &tsv,
        )?;
    }
    Ok(())
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
