//! Simulated families (issue 15, domain randomisation): named variations
//! on top of the `psg` preset whose parameters are drawn per night and per
//! event, so that a detector cannot be tuned to one shape of body movement,
//! cramp or hum. Each family is documented on [`Family`]; the draws come
//! from a stream of their own, so nights without a family are unchanged.

use std::f64::consts::PI;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{clear_of_cramps, Clip, SimOptions, TruthEvent};
use crate::score::EpisodeKind;

/// ENMO above which the ankle counts as moving, g (the level the issue's
/// report measures shares against).
pub const MOVING_ENMO_G: f64 = 0.05;
/// Body-movement length range of the `bm-*` and `mixed` families, s
/// (issue 15: "lasting 5–60 s").
pub const BM_RANGE_S: (f64, f64) = (5.0, 60.0);
/// Largest lag between the two legs' onsets, and between their ends, s
/// (issue 15: "the legs starting up to 2 s apart").
pub const BM_LEG_LAG_MAX_S: f64 = 2.0;
/// Body movements per hour in the `bm-*` and `mixed` families: enough for
/// about four per half-hour night, so short nights still count them.
pub const BM_PER_H: f64 = 8.0;
/// Body movements per hour in `cramp-stretch` ("plus some body movements").
pub const CRAMP_STRETCH_BM_PER_H: f64 = 4.0;
/// Share of the stretch the `bm-bursty` accelerometer moves in (issue 15:
/// "bursts of movement with pauses", roughly 1/3 to 2/3).
pub const BURSTY_SHARE: (f64, f64) = (1.0 / 3.0, 2.0 / 3.0);
/// Share of the stretch the `bm-ramped` accelerometer is above
/// [`MOVING_ENMO_G`] (issue 15's report: "about two thirds").
pub const RAMPED_SHARE: (f64, f64) = (0.55, 0.8);
/// Share of the stretch `bm-partial` moves in, at its start or its end.
pub const PARTIAL_SHARE: (f64, f64) = (0.2, 0.4);
/// Movement level of a moving accelerometer, g above gravity (turning over
/// in bed moves the ankle by tenths of a g).
pub const MOVE_LEVEL_G: (f64, f64) = (0.15, 0.45);
/// Share of body movements drawn with electrode-motion artifact, and the
/// chance of each leg of such a movement to carry it (randomised on and
/// off, never a fixed signature: about 45 % of movements end up with it).
pub const MOTION_ARTIFACT_FRACTION: f64 = 0.5;
pub const MOTION_ARTIFACT_LEG_FRACTION: f64 = 0.7;
/// Electrode-motion artifact amplitude range, µV (tens to hundreds; drawn
/// log-uniform), and frequency range, Hz (slow: 1–10 Hz, below the EMG band).
pub const MOTION_ARTIFACT_UV: (f64, f64) = (20.0, 300.0);
pub const MOTION_ARTIFACT_HZ: (f64, f64) = (1.0, 10.0);
/// Cramp intensity range of `cramp-stretch`, µV RMS, drawn log-uniform
/// (issue 15: "from weak, e.g. 25 µV RMS, to strong, 250 µV").
pub const CRAMP_STRETCH_UV: (f64, f64) = (25.0, 250.0);
/// Spectral peak of a calf cramp seen on the leg channel, Hz: crosstalk
/// from the gastrocnemius is low-passed by the tissue it crosses, so its
/// power sits lower than a shin muscle's (80 Hz, see `EMG_PEAK_HZ`).
pub const CALF_PEAK_HZ: f64 = 55.0;
/// Accelerometer jitter during a cramp, g RMS (the leg is held, not moved),
/// and the share of `cramp-stretch` cramps that have it.
pub const CRAMP_JITTER_G: (f64, f64) = (0.005, 0.03);
pub const CRAMP_JITTER_FRACTION: f64 = 0.7;
/// Share of `cramp-stretch` cramps on a calf muscle (the rest on the shin):
/// nocturnal cramps are mostly calf cramps, PSG electrodes sit on the shin.
pub const CALF_FRACTION: f64 = 0.5;
/// Mains amplitude range of `hum-switch`, µV (issue 15: 3–15 µV).
pub const HUM_SWITCH_UV: (f64, f64) = (3.0, 15.0);
/// Posture changes per hour in `posture` (many, without EMG).
pub const POSTURE_PER_H: (f64, f64) = (15.0, 40.0);

/// A named family of simulated nights (`--family`), on top of the `psg`
/// preset (bilateral LMs, clipping, build-ups, hard confounders).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// Today's `psg` preset unchanged: body movements 20–45 s, legs within
    /// 0.8 s, accelerometer busy throughout.
    Psg,
    /// Body movements 5–60 s, legs starting and ending up to 2 s apart
    /// (either leg first), accelerometer moving throughout.
    BmSteady,
    /// As `bm-steady`, the accelerometer in bursts with pauses: moving in
    /// 1/3 to 2/3 of the stretch.
    BmBursty,
    /// As `bm-steady`, the accelerometer rising, peaking and falling: above
    /// 0.05 g in 55–80 % of the stretch.
    BmRamped,
    /// As `bm-steady`, the accelerometer moving only at the start or the
    /// end (20–40 % of the stretch) or not at all (posture kept); EMG on
    /// both legs throughout.
    BmPartial,
    /// Cramps of 25–250 µV RMS on a shin or (by crosstalk) calf muscle,
    /// with accelerometer jitter, preceded and/or followed by movement
    /// (stretching, getting up), sometimes with phasic EMG on both legs
    /// after the cramp (truth `movement`); plus some body movements.
    CrampStretch,
    /// Many posture changes (15–40 per hour) without EMG, plus the usual events.
    Posture,
    /// Mains hum of 3–15 µV (50 or 60 Hz), steady all night or switching
    /// on at a time drawn in the middle 60 % of the night.
    HumSwitch,
    /// Every variation drawn at random per event (and per night for hum
    /// and posture changes).
    Mixed,
}

impl Family {
    /// Every family, in report order.
    pub const ALL: [Family; 9] = [
        Family::Psg,
        Family::BmSteady,
        Family::BmBursty,
        Family::BmRamped,
        Family::BmPartial,
        Family::CrampStretch,
        Family::Posture,
        Family::HumSwitch,
        Family::Mixed,
    ];

    /// The family's name (`--family`, `<night>.sim.json`).
    pub fn name(self) -> &'static str {
        match self {
            Family::Psg => "psg",
            Family::BmSteady => "bm-steady",
            Family::BmBursty => "bm-bursty",
            Family::BmRamped => "bm-ramped",
            Family::BmPartial => "bm-partial",
            Family::CrampStretch => "cramp-stretch",
            Family::Posture => "posture",
            Family::HumSwitch => "hum-switch",
            Family::Mixed => "mixed",
        }
    }

    /// The family of a name, `None` when unknown.
    pub fn parse(name: &str) -> Option<Family> {
        Family::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether the family draws its own body movements (instead of the
    /// `psg` preset's).
    fn owns_body_movements(self) -> bool {
        matches!(
            self,
            Family::BmSteady
                | Family::BmBursty
                | Family::BmRamped
                | Family::BmPartial
                | Family::CrampStretch
                | Family::Mixed
        )
    }
}

/// Accelerometer profile of a body movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccelProfile {
    Steady,
    Bursty,
    Ramped,
    Partial,
}

/// Shape of an accelerometer stretch.
#[derive(Debug, Clone, PartialEq)]
pub enum AccelShape {
    /// Moving segments `(start s, end s, level g)` with 0.15 s raised-cosine
    /// edges inside each segment; still between them.
    Segments(Vec<(f64, f64, f64)>),
    /// `peak_g · sin(π u)^gamma` over the stretch (u from 0 to 1).
    Ramp { peak_g: f64, gamma: f64 },
    /// Small jitter, g RMS, of three sinusoids 3–8 Hz (a held leg).
    Jitter { rms_g: f64, freqs_hz: [f64; 3] },
}

/// Accelerometer movement over `[start_s, end_s]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AccelStretch {
    pub start_s: f64,
    pub end_s: f64,
    pub shape: AccelShape,
}

/// Edge of a moving segment, s.
const SEGMENT_EDGE_S: f64 = 0.15;

impl AccelStretch {
    /// Movement level at `t`, g (0 outside the stretch and in pauses).
    pub fn level_g(&self, t: f64) -> f64 {
        if t < self.start_s || t >= self.end_s {
            return 0.0;
        }
        match &self.shape {
            AccelShape::Segments(segs) => segs
                .iter()
                .filter(|s| (s.0..s.1).contains(&t))
                .map(|&(a, b, m)| {
                    let edge = ((t - a).min(b - t) / SEGMENT_EDGE_S).min(1.0);
                    m * (0.5 - 0.5 * (PI * edge).cos())
                })
                .fold(0.0, f64::max),
            AccelShape::Ramp { peak_g, gamma } => {
                let u = (t - self.start_s) / (self.end_s - self.start_s);
                peak_g * (PI * u).sin().max(0.0).powf(*gamma)
            }
            AccelShape::Jitter { .. } => 0.0,
        }
    }

    /// Adds the stretch's movement at `t` to `a` (g).
    pub fn add(&self, t: f64, a: &mut [f64; 3]) {
        if t < self.start_s || t >= self.end_s {
            return;
        }
        let u = t - self.start_s;
        if let AccelShape::Jitter { rms_g, freqs_hz } = &self.shape {
            // Three unit sinusoids have RMS sqrt(3/2); scaled to `rms_g`.
            let k = rms_g / 1.5f64.sqrt();
            for (i, f) in freqs_hz.iter().enumerate() {
                a[i] += k * (2.0 * PI * f * u + i as f64).sin();
            }
            return;
        }
        let m = self.level_g(t);
        if m > 0.0 {
            // Along gravity, with a slow sway of ±15 %, and a lateral 2 Hz
            // swing: ENMO ≈ 0.85–1.0 × the level.
            let gain = 1.0 + m * (0.925 + 0.075 * (2.0 * PI * 1.3 * u).sin());
            for v in a.iter_mut() {
                *v *= gain;
            }
            a[0] += 0.2 * m * (2.0 * PI * 2.0 * u).sin();
        }
    }
}

/// Electrode-motion artifact on one leg: slow oscillations under a sin²
/// window.
#[derive(Debug, Clone, PartialEq)]
pub struct MotionArtifact {
    pub channel: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub amp_uv: f64,
    pub freqs_hz: (f64, f64),
    pub phase: f64,
}

impl MotionArtifact {
    fn value_uv(&self, c: usize, t: f64) -> f64 {
        if c != self.channel || t < self.start_s || t >= self.end_s {
            return 0.0;
        }
        let u = t - self.start_s;
        let w = (PI * u / (self.end_s - self.start_s)).sin().powi(2);
        let (f1, f2) = self.freqs_hz;
        self.amp_uv
            * w
            * (0.7 * (2.0 * PI * f1 * u).sin() + 0.3 * (2.0 * PI * f2 * u + self.phase).sin())
    }
}

/// A night's family and what it drew.
#[derive(Debug, Clone)]
pub struct FamilyNight {
    pub family: Family,
    rng: ChaCha8Rng,
    /// Accelerometer stretches of body movements and around cramps.
    pub accel: Vec<AccelStretch>,
    /// Profile of each body movement the family drew, by start.
    pub profiles: Vec<(f64, AccelProfile)>,
    pub artifacts: Vec<MotionArtifact>,
    /// Calf cramps: (channel, truth start s).
    pub calf: Vec<(usize, f64)>,
    /// Hum is on from this time, s (0: all night).
    pub hum_on_s: f64,
}

/// Log-uniform draw in `(lo, hi)`.
fn log_uniform(rng: &mut ChaCha8Rng, (lo, hi): (f64, f64)) -> f64 {
    rng.random_range(lo.ln()..hi.ln()).exp()
}

impl FamilyNight {
    /// A night of `family` with its own stream seeded from `seed`; edits
    /// the night's scalar options (hum, posture changes, who draws the body
    /// movements) in `opts`.
    pub fn new(family: Family, seed: u64, opts: &mut SimOptions) -> FamilyNight {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let duration_s = opts.hours * 3600.0;
        let r = &mut opts.realism;
        if family.owns_body_movements() {
            r.body_movements_per_h = 0.0;
        }
        let mut hum_on_s = 0.0;
        let hum = match family {
            Family::HumSwitch => true,
            Family::Mixed => rng.random_bool(0.5),
            _ => false,
        };
        if hum {
            opts.mains_uv = rng.random_range(HUM_SWITCH_UV.0..HUM_SWITCH_UV.1);
            if rng.random_bool(0.5) {
                hum_on_s = rng.random_range(0.2..0.8) * duration_s;
            }
        }
        match family {
            Family::Posture => r.posture_per_h = rng.random_range(POSTURE_PER_H.0..POSTURE_PER_H.1),
            Family::Mixed => r.posture_per_h = rng.random_range(2.0..POSTURE_PER_H.1),
            _ => {}
        }
        FamilyNight {
            family,
            rng,
            accel: Vec::new(),
            profiles: Vec::new(),
            artifacts: Vec::new(),
            calf: Vec::new(),
            hum_on_s,
        }
    }

    /// Hum gain at `t`: 0 before the switch, 1 after.
    pub fn hum_gain(&self, t: f64) -> f64 {
        if t >= self.hum_on_s {
            1.0
        } else {
            0.0
        }
    }

    /// Whether the psg preset's body-movement accelerometer applies.
    pub fn psg_body_accel(&self) -> bool {
        !self.family.owns_body_movements()
    }

    /// Draws the family's events into `events` (after the psg
    /// confounders, before the artifacts that keep clear of events).
    pub(super) fn draw_events(
        &mut self,
        events: &mut Vec<TruthEvent>,
        clips: &[Clip],
        duration_s: f64,
    ) {
        if matches!(self.family, Family::CrampStretch | Family::Mixed) {
            self.draw_cramp_extras(events);
        }
        let per_h = match self.family {
            Family::CrampStretch => CRAMP_STRETCH_BM_PER_H,
            f if f.owns_body_movements() => BM_PER_H,
            _ => 0.0,
        };
        let n = (per_h * duration_s / 3600.0).round() as usize;
        for _ in 0..n {
            self.place_body_movement(events, clips, duration_s);
        }
        events.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        self.accel.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        self.profiles.sort_by(|a, b| a.0.total_cmp(&b.0));
        self.artifacts
            .sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    }

    fn profile(&mut self) -> AccelProfile {
        match self.family {
            Family::BmSteady => AccelProfile::Steady,
            Family::BmBursty => AccelProfile::Bursty,
            Family::BmRamped => AccelProfile::Ramped,
            Family::BmPartial => AccelProfile::Partial,
            _ => [
                AccelProfile::Steady,
                AccelProfile::Bursty,
                AccelProfile::Ramped,
                AccelProfile::Partial,
            ][self.rng.random_range(0..4usize)],
        }
    }

    /// One body movement in a free place (up to 30 tries): two truth rows,
    /// its accelerometer stretch and maybe electrode-motion artifact.
    fn place_body_movement(
        &mut self,
        events: &mut Vec<TruthEvent>,
        clips: &[Clip],
        duration_s: f64,
    ) {
        for _attempt in 0..30 {
            let dur = self.rng.random_range(BM_RANGE_S.0..BM_RANGE_S.1);
            if duration_s < dur + 50.0 {
                return;
            }
            let s = self.rng.random_range(20.0..duration_s - dur - 25.0);
            if !clear_of_cramps(events, clips, s, s + dur + BM_LEG_LAG_MAX_S) {
                continue;
            }
            events.retain(|ev| {
                ev.kind != EpisodeKind::Lm || ev.end_s < s - 8.0 || ev.start_s > s + dur + 10.0
            });
            let legs = self.bilateral(events, s, dur);
            let profile = self.profile();
            let (a, b) = (legs[0].0.min(legs[1].0), legs[0].1.max(legs[1].1));
            let st = self.stretch(profile, a, b);
            self.accel.push(st);
            self.profiles.push((a, profile));
            return;
        }
    }

    /// Truth `movement` rows on both legs: the leader over `[s, s + dur]`,
    /// the other starting and ending up to 2 s apart; maybe with
    /// electrode-motion artifact. Returns each leg's span.
    fn bilateral(&mut self, events: &mut Vec<TruthEvent>, s: f64, dur: f64) -> [(f64, f64); 2] {
        let lag = BM_LEG_LAG_MAX_S.min(dur / 4.0);
        let leader = self.rng.random_range(0..2usize);
        let d0 = self.rng.random_range(0.0..lag);
        let d1 = self.rng.random_range(-lag..lag);
        let mut spans = [(s, s + dur); 2];
        spans[1 - leader] = (s + d0, s + dur + d1);
        let with_artifact = self.rng.random_bool(MOTION_ARTIFACT_FRACTION);
        for (c, &(a, b)) in spans.iter().enumerate() {
            events.push(TruthEvent {
                channel: c,
                kind: EpisodeKind::Movement,
                start_s: a,
                end_s: b,
                amp_uv: self.rng.random_range(30.0..150.0),
                dips: Vec::new(),
            });
            if with_artifact && self.rng.random_bool(MOTION_ARTIFACT_LEG_FRACTION) {
                let len = self.rng.random_range(1.0..(b - a).clamp(1.5, 10.0));
                let t0 = a + self.rng.random_range(0.0..(b - a - len).max(1e-6));
                self.artifacts.push(MotionArtifact {
                    channel: c,
                    start_s: t0,
                    end_s: t0 + len,
                    amp_uv: log_uniform(&mut self.rng, MOTION_ARTIFACT_UV),
                    freqs_hz: (
                        self.rng
                            .random_range(MOTION_ARTIFACT_HZ.0..MOTION_ARTIFACT_HZ.1),
                        self.rng
                            .random_range(MOTION_ARTIFACT_HZ.0..MOTION_ARTIFACT_HZ.1),
                    ),
                    phase: self.rng.random_range(0.0..2.0 * PI),
                });
            }
        }
        spans
    }

    /// An accelerometer stretch of `profile` over `[a, b]`.
    pub fn stretch(&mut self, profile: AccelProfile, a: f64, b: f64) -> AccelStretch {
        let rng = &mut self.rng;
        let level = |rng: &mut ChaCha8Rng| rng.random_range(MOVE_LEVEL_G.0..MOVE_LEVEL_G.1);
        let d = b - a;
        let shape = match profile {
            AccelProfile::Steady => AccelShape::Segments(vec![(a, b, level(rng))]),
            AccelProfile::Bursty => {
                let share = rng.random_range(BURSTY_SHARE.0..BURSTY_SHARE.1);
                AccelShape::Segments(bursts(rng, a, b, share))
            }
            AccelProfile::Ramped => {
                // Solve sin(π u0)^γ = threshold / (0.925 peak) at the
                // share's edge u0 = (1 - share) / 2.
                let share = rng.random_range(RAMPED_SHARE.0..RAMPED_SHARE.1);
                let peak_g = rng.random_range(0.15..0.5);
                let u0 = (1.0 - share) / 2.0;
                let gamma = (MOVING_ENMO_G / (0.925 * peak_g)).ln() / (PI * u0).sin().ln();
                AccelShape::Ramp { peak_g, gamma }
            }
            AccelProfile::Partial => {
                let part = rng.random_range(PARTIAL_SHARE.0..PARTIAL_SHARE.1) * d;
                match rng.random_range(0..5usize) {
                    0 | 1 => AccelShape::Segments(vec![(a, a + part, level(rng))]),
                    2 | 3 => AccelShape::Segments(vec![(b - part, b, level(rng))]),
                    _ => AccelShape::Segments(Vec::new()),
                }
            }
        };
        AccelStretch {
            start_s: a,
            end_s: b,
            shape,
        }
    }

    /// Cramp intensity, site, jitter and the movement around each cramp.
    fn draw_cramp_extras(&mut self, events: &mut Vec<TruthEvent>) {
        let cramps: Vec<usize> = (0..events.len())
            .filter(|&i| events[i].kind == EpisodeKind::Cramp)
            .collect();
        let mixed = self.family == Family::Mixed;
        for i in cramps {
            if mixed && self.rng.random_bool(0.5) {
                continue;
            }
            let (s, e, c) = (events[i].start_s, events[i].end_s, events[i].channel);
            events[i].amp_uv = log_uniform(&mut self.rng, CRAMP_STRETCH_UV);
            if self.rng.random_bool(CALF_FRACTION) {
                self.calf.push((c, s));
            }
            if self.rng.random_bool(CRAMP_JITTER_FRACTION) {
                let rng = &mut self.rng;
                self.accel.push(AccelStretch {
                    start_s: s,
                    end_s: e,
                    shape: AccelShape::Jitter {
                        rms_g: rng.random_range(CRAMP_JITTER_G.0..CRAMP_JITTER_G.1),
                        freqs_hz: [0; 3].map(|_| rng.random_range(3.0..8.0)),
                    },
                });
            }
            // Before: stretching the leg, 3–15 s ending 0.5–3 s before onset.
            let (pre, post) = match self.rng.random_range(0..3usize) {
                0 => (true, false),
                1 => (false, true),
                _ => (true, true),
            };
            if pre {
                let len = self.rng.random_range(3.0..15.0);
                let end = s - self.rng.random_range(0.5..3.0);
                let p = if self.rng.random_bool(0.5) {
                    AccelProfile::Steady
                } else {
                    AccelProfile::Bursty
                };
                let st = self.stretch(p, end - len, end);
                self.accel.push(st);
            }
            if post {
                self.post_cramp(events, e);
            }
        }
    }

    /// After a cramp ending at `e`: getting up or walking it off, 5–30 s of
    /// movement from 0–5 s after; half the time with phasic EMG on both
    /// legs from 2–6 s after the end (truth `movement`; at most 36 s after,
    /// inside the 45 s kept free of LMs after a cramp).
    fn post_cramp(&mut self, events: &mut Vec<TruthEvent>, e: f64) {
        let p = if self.rng.random_bool(0.5) {
            AccelProfile::Steady
        } else {
            AccelProfile::Bursty
        };
        if self.rng.random_bool(0.5) {
            let s = e + self.rng.random_range(2.0..6.0);
            let dur = self.rng.random_range(5.0..25.0);
            let legs = self.bilateral(events, s, dur);
            let (a, b) = (legs[0].0.min(legs[1].0), legs[0].1.max(legs[1].1));
            let lead_s = self.rng.random_range(0.0..1.0);
            let st = self.stretch(p, a - lead_s, b);
            self.accel.push(st);
        } else {
            let a = e + self.rng.random_range(0.0..5.0);
            let b = a + self.rng.random_range(5.0..30.0);
            let st = self.stretch(p, a, b);
            self.accel.push(st);
        }
    }

    /// Electrode-motion artifact on channel `c` at `t`, µV.
    pub fn artifact_uv(&self, c: usize, t: f64) -> f64 {
        let lo = self.artifacts.partition_point(|m| m.start_s + 10.0 < t);
        self.artifacts[lo..]
            .iter()
            .take_while(|m| m.start_s <= t)
            .map(|m| m.value_uv(c, t))
            .sum()
    }

    /// Whether the cramp starting at `start_s` on channel `c` is a calf cramp.
    pub fn is_calf(&self, c: usize, start_s: f64) -> bool {
        self.calf.iter().any(|&(k, s)| k == c && s == start_s)
    }

    /// The family's accelerometer movement at `t`, added to `a` (g).
    pub fn accel_add(&self, t: f64, a: &mut [f64; 3]) {
        for st in self.accel.iter().take_while(|s| s.start_s <= t) {
            st.add(t, a);
        }
    }

    /// `<night>.sim.json`: the family and what the night drew.
    pub fn json(&self, night: &str, mains_hz: Option<f64>, mains_uv: f64, accel: bool) -> String {
        let count = |p: AccelProfile| self.profiles.iter().filter(|x| x.1 == p).count();
        format!(
            "{{\"night\": \"{night}\", \"family\": \"{}\", \"accelerometer\": {accel}, \"mains_hz\": {}, \"mains_uv\": {mains_uv:.3}, \"hum_on_s\": {:.3}, \"body_movements\": {{\"steady\": {}, \"bursty\": {}, \"ramped\": {}, \"partial\": {}}}, \"motion_artifacts\": {}, \"calf_cramps\": {}}}\n",
            self.family.name(),
            mains_hz.map_or("null".into(), |f| format!("{f}")),
            self.hum_on_s,
            count(AccelProfile::Steady),
            count(AccelProfile::Bursty),
            count(AccelProfile::Ramped),
            count(AccelProfile::Partial),
            self.artifacts.len(),
            self.calf.len(),
        )
    }
}

/// Moving segments over `[a, b]` that take `share` of it: 1 to 12 bursts
/// of random lengths, the pauses between them (and before the first)
/// splitting the rest at random; the first burst starts at `a` and the last
/// ends at `b` half the time each.
fn bursts(rng: &mut ChaCha8Rng, a: f64, b: f64, share: f64) -> Vec<(f64, f64, f64)> {
    let d = b - a;
    let n = ((d * share / 2.5).round() as usize).clamp(1, 12);
    let w: Vec<f64> = (0..n).map(|_| rng.random_range(0.5..1.5)).collect();
    let lead = rng.random_bool(0.5);
    let tail = rng.random_bool(0.5);
    // Pauses: before each burst but the first unless `lead`, and after the
    // last when `tail`.
    let n_pause = n - 1 + usize::from(lead) + usize::from(tail);
    let p: Vec<f64> = (0..n_pause.max(1))
        .map(|_| rng.random_range(0.5..1.5))
        .collect();
    let (ws, ps) = (w.iter().sum::<f64>(), p.iter().sum::<f64>());
    let moving = d * share;
    let still = d - moving;
    let mut t = a;
    let mut pi = 0;
    let mut out = Vec::with_capacity(n);
    for (i, wi) in w.iter().enumerate() {
        if i > 0 || lead {
            t += still * p[pi] / ps;
            pi += 1;
        }
        let len = moving * wi / ws;
        out.push((t, t + len, rng.random_range(MOVE_LEVEL_G.0..MOVE_LEVEL_G.1)));
        t += len;
    }
    if n_pause == 0 {
        // One burst and no pause: shift it so the still share is kept.
        let shift = still * rng.random_range(0.0..1.0);
        for s in &mut out {
            s.0 += shift;
            s.1 += shift;
        }
    }
    out
}
