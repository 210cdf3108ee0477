//! Confounders drawn before the samples (pops, motion, build-ups,
//! clipping, noisy channels) and what they add to each sample.

use super::*;

/// A transient artifact on one channel.
#[derive(Debug, Clone)]
pub(super) struct Transient {
    pub(super) channel: usize,
    pub(super) start_s: f64,
    /// Pops: decay constant; motion: duration, s.
    pub(super) len_s: f64,
    pub(super) amp_uv: f64,
    /// Motion: oscillation frequency, Hz (0 for pops).
    pub(super) freq_hz: f64,
}

/// A slow tension build-up before a cramp.
#[derive(Debug, Clone)]
pub(super) struct Buildup {
    pub(super) channel: usize,
    pub(super) start_s: f64,
    /// The cramp's onset, where the build-up ends, s.
    pub(super) onset_s: f64,
    /// Resting EMG of the channel, µV RMS (the build-up is set above it).
    pub(super) rest_uv: f64,
}

impl Buildup {
    /// Amplitude of the extra EMG at `t`, µV RMS, such that the channel's
    /// RMS sits `BUILDUP_ABOVE_UV` (rising linearly) above resting.
    pub(super) fn amp_uv(&self, t: f64) -> f64 {
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
pub(super) struct Clip {
    pub(super) channel: usize,
    pub(super) start_s: f64,
    pub(super) end_s: f64,
    /// Equal segments alternating between the rails, the first at +rail
    /// when `first_positive`.
    pub(super) segments: usize,
    pub(super) first_positive: bool,
}

impl Clip {
    pub(super) fn value_uv(&self, c: usize, t: f64) -> Option<f64> {
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
pub(super) fn clear_of_cramps(events: &[TruthEvent], clips: &[Clip], s: f64, e: f64) -> bool {
    events.iter().all(|ev| match ev.kind {
        EpisodeKind::Cramp => e < ev.start_s - 100.0 || s > ev.end_s + 60.0,
        EpisodeKind::Movement => e < ev.start_s - 30.0 || s > ev.end_s + 30.0,
        _ => true,
    }) && clips
        .iter()
        .all(|c| e < c.start_s - 30.0 || s > c.end_s + 30.0)
}

/// The confounders of one night, drawn before the samples.
pub(super) struct Artifacts {
    pub(super) active: bool,
    pub(super) beats_s: Option<Vec<f64>>,
    /// Pops, by start.
    pub(super) pops: Vec<Transient>,
    /// Motion artifacts, by start.
    pub(super) motion: Vec<Transient>,
    /// Baseline wander: (amplitude µV, frequency Hz, phase) per component.
    pub(super) wander: Vec<(f64, f64, f64)>,
    /// Gain drift per channel: (depth, period s, phase).
    pub(super) drift: [(f64, f64, f64); 2],
    pub(super) noisy_channel: usize,
    pub(super) noisy_uv: f64,
    /// Posture changes: (start s, from (x, y, z) g, to (x, y, z) g).
    pub(super) postures: Vec<(f64, [f64; 3], [f64; 3])>,
    /// Pre-cramp build-ups, by start.
    pub(super) buildups: Vec<Buildup>,
    /// Clipping stretches, by start.
    pub(super) clips: Vec<Clip>,
}

/// Longest a pop is followed, in decay constants (decay constants are at
/// most 1 s, so a pop ends within this many seconds).
pub(super) const POP_SPAN: f64 = 8.0;

impl Artifacts {
    pub(super) fn draw(
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
    pub(super) fn emg_extra(
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
    pub(super) fn buildup_uv(&self, c: usize, t: f64) -> f64 {
        let hi = self.buildups.partition_point(|b| b.start_s <= t);
        self.buildups[..hi]
            .iter()
            .filter(|b| b.channel == c)
            .map(|b| b.amp_uv(t))
            .sum()
    }

    /// The rail value of channel `c` at `t` inside a clipping stretch.
    pub(super) fn clipped_uv(&self, c: usize, t: f64) -> Option<f64> {
        let hi = self.clips.partition_point(|k| k.start_s <= t);
        self.clips[..hi].iter().find_map(|k| k.value_uv(c, t))
    }

    /// Posture changes and the movement of motion artifacts, added to `a` (g).
    pub(super) fn accel_extra(&self, t: f64, a: &mut [f64; 3]) {
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
