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

/// Names of the simulated EMG channels (left and right leg).
pub const EMG_CHANNELS: [&str; 2] = ["emg_left_uv", "emg_right_uv"];
/// Names of the simulated accelerometer axes.
pub const ACC_CHANNELS: [&str; 3] = ["acc_x_g", "acc_y_g", "acc_z_g"];
/// Integer WAV scaling of EMG, µV per count (±1.6 mV range).
pub const WAV_EMG_GAIN_UV: f64 = 0.05;
/// Integer WAV scaling of acceleration, g per count (±8 g range).
pub const WAV_ACC_GAIN_G: f64 = 1.0 / 4096.0;

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
}

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
            Difficulty::Hard => {
                o.ecg_uv = 80.0;
                o.mains_uv = 60.0;
                o.cramp_s = (20.0, 180.0);
            }
        }
        o
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
        _ => (0.1, 0.1),
    };
    let rise = ((t - ev.start_s) / up).min(1.0);
    let fall = ((ev.end_s - t) / down).min(1.0);
    let mut g = 0.5 - 0.5 * (PI * rise.min(fall)).cos();
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
}

/// Longest a pop is followed, in decay constants (decay constants are at
/// most 1 s, so a pop ends within this many seconds).
const POP_SPAN: f64 = 8.0;

impl Artifacts {
    fn draw(
        rng: &mut ChaCha8Rng,
        opts: &SimOptions,
        events: &mut [TruthEvent],
        duration_s: f64,
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
        // Artifacts stay 3 s clear of every event: they are not contractions.
        let clear = |s: f64, e: f64| {
            events
                .iter()
                .all(|ev| e < ev.start_s - 3.0 || s > ev.end_s + 3.0)
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

/// Unit-RMS band-limited EMG-like noise source.
struct EmgNoise {
    filter: SosFilter,
    gain: f64,
}

impl EmgNoise {
    fn new(fs: f64) -> Result<EmgNoise> {
        let f0 = 80.0f64.min(fs / 4.0);
        let bq = SosFilter::new(&rbj_bandpass(f0, 0.7, fs)?);
        // Calibrate to unit RMS on a fixed seed.
        let mut probe = bq.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
        let mut acc = 0.0;
        let n = 20000;
        for _ in 0..n {
            let y = probe.step(gauss(&mut rng));
            acc += y * y;
        }
        Ok(EmgNoise {
            filter: bq,
            gain: 1.0 / (acc / n as f64).sqrt(),
        })
    }

    fn next(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        self.gain * self.filter.step(gauss(rng))
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
    if !(opts.hours > 0.0 && opts.hours.is_finite()) {
        return Err(Error::Config(format!(
            "--hours is {}; expected a duration > 0",
            opts.hours
        )));
    }
    if opts.emg_fs_hz < 100.0 || opts.acc_fs_hz < 10.0 {
        return Err(Error::Config(
            "simulated EMG needs at least 100 Hz and accelerometer 10 Hz".into(),
        ));
    }
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
    let art = Artifacts::draw(&mut art_rng, opts, &mut events, duration_s)?;
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
    for e in &events {
        truth.push_str(&format!(
            "{},{},{:.3},{:.3}\n",
            EMG_CHANNELS[e.channel],
            e.kind.as_str(),
            e.start_s,
            e.end_s
        ));
    }
    write_text(&truth_path, &truth)?;

    // EMG file.
    let emg_path = dir.join(format!("{id}_emg.{ext}"));
    let fs = opts.emg_fs_hz;
    let mut sink = match opts.format {
        Format::Csv => Sink::csv(&emg_path, &format!("time,{}", EMG_CHANNELS.join(",")))?,
        Format::Wav => Sink::wav(&emg_path, 2, fs)?,
        Format::Edf => {
            let ann: Vec<crate::io::edf::Annotation> = events
                .iter()
                .map(|e| crate::io::edf::Annotation {
                    onset_s: (e.start_s * 1000.0).round() / 1000.0,
                    duration_s: Some(((e.end_s - e.start_s) * 1000.0).round() / 1000.0),
                    text: format!("{} @ {}", e.kind.as_str(), EMG_CHANNELS[e.channel]),
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
    let mut vals = [0f64; 2];
    for i in 0..n {
        let t = i as f64 / fs;
        while next_event < events.len() && events[next_event].end_s < t {
            next_event += 1;
        }
        let hum = mains_hz.map_or(0.0, |f| {
            opts.mains_uv
                * ((2.0 * PI * f * t).sin() + r.mains_third * (2.0 * PI * 3.0 * f * t + 0.3).sin())
        });
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
            for ev in events[next_event..].iter().take_while(|e| e.start_s <= t) {
                if ev.channel == c {
                    amp += ev.amp_uv * envelope(ev, t);
                }
            }
            *v = amp * noise[c].next(&mut rng) + hum + heart * if c == 0 { 1.0 } else { 0.8 };
            if art.active {
                *v = art.emg_extra(c, t, *v, &mut noise_extra, &mut art_rng);
            }
        }
        sink.row(&emg_path, t, &vals, 2, WAV_EMG_GAIN_UV)?;
    }
    sink.finish(&emg_path)?;

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
        for ev in &events {
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
        for v in &mut a {
            *v += 0.003 * gauss(&mut rng);
        }
        sink.row(&acc_path, t, &a, 4, WAV_ACC_GAIN_G)?;
    }
    sink.finish(&acc_path)?;

    // Sidecars: start time for both files, channel tables for WAV (an EDF
    // header carries both).
    if opts.format == Format::Edf {
        return Ok(truth_path);
    }
    for (path, fs) in [(&emg_path, fs), (&acc_path, afs)] {
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
            &crate::io::sidecar::sibling(&emg_path, "_channels.tsv"),
            &tsv,
        )?;
        let mut tsv = String::from("name\ttype\tunits\tsampling_frequency\tgain\toffset\n");
        for c in ACC_CHANNELS {
            tsv.push_str(&format!("{c}\tACCEL\tg\t{afs}\t{WAV_ACC_GAIN_G}\t0\n"));
        }
        write_text(
            &crate::io::sidecar::sibling(&acc_path, "_channels.tsv"),
            &tsv,
        )?;
    }
    Ok(truth_path)
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
