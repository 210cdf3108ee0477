//! What the body puts on the leg channels: activity envelopes, EMG-like
//! noise of a realistic spectrum, and heartbeats.

use super::*;

/// Amplitude envelope (0–1) of an event at time `t`: raised-cosine ramps;
/// cramps ramp over 3 s, dip to 40 % for 1 s in the middle, ramp down 2 s.
pub(super) fn envelope(ev: &TruthEvent, t: f64) -> f64 {
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
pub(super) fn qrs_t(t: f64, beats: &[f64], amp: f64) -> f64 {
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

/// Peak of the simulated EMG spectrum, Hz (surface EMG's power peaks
/// around 50–100 Hz; band-pass Q 0.7 spreads it over about 40–160 Hz).
pub(super) const EMG_PEAK_HZ: f64 = 80.0;
/// From this rate up the EMG is generated at the output rate (peak at
/// `EMG_PEAK_HZ`, or fs / 4 when lower, which keeps the easy nights
/// byte-identical); below it, as a PSG amplifier records it (see [`EmgNoise`]).
pub(super) const EMG_NATIVE_MIN_FS_HZ: f64 = 320.0;
/// Rate the PSG model generates the EMG at before anti-aliasing, Hz (at least).
pub(super) const EMG_OVERSAMPLED_HZ: f64 = 1000.0;
/// Anti-alias low-pass of the PSG model: Butterworth of this order at
/// `ANTI_ALIAS_FRACTION` × fs (90 Hz at 200 Hz, 115 Hz at 256 Hz).
pub(super) const ANTI_ALIAS_ORDER: usize = 8;
pub(super) const ANTI_ALIAS_FRACTION: f64 = 0.45;

/// Unit-RMS band-limited EMG-like noise source.
///
/// At PSG rates (below `EMG_NATIVE_MIN_FS_HZ`) the muscle keeps its
/// spectrum: the noise is generated at k × fs ≥ 1 kHz with the same 80 Hz
/// peak, low-passed by the amplifier's anti-alias filter and decimated by
/// k. "Unit RMS" is the recorded signal's, as at the native rates, so
/// amplitudes (weak LMs just over +8 µV, build-ups under it) mean the
/// same at every rate. Without this the spectral peak would sit at
/// fs / 4 = 50 Hz, inside the mains exclusion of the detector's band.
pub(super) struct EmgNoise {
    pub(super) filter: SosFilter,
    pub(super) gain: f64,
    /// PSG model: oversampling factor and anti-alias filter.
    pub(super) psg: Option<(usize, SosFilter)>,
}

impl EmgNoise {
    pub(super) fn new(fs: f64) -> Result<EmgNoise> {
        EmgNoise::with_peak(fs, EMG_PEAK_HZ)
    }

    /// The noise with its spectral peak at `peak_hz` (or fs / 4 when lower).
    pub(super) fn with_peak(fs: f64, peak_hz: f64) -> Result<EmgNoise> {
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

    pub(super) fn next(&mut self, rng: &mut ChaCha8Rng) -> f64 {
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
pub(super) fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

/// A QRS-like Ricker wavelet of width ~10 ms at every heartbeat.
pub(super) fn ecg(t: f64, beat_s: f64, amp: f64) -> f64 {
    let phase = t % beat_s;
    let dt = phase.min(beat_s - phase);
    let s = 0.010;
    let x = (dt / s).powi(2);
    amp * (1.0 - x) * (-x / 2.0).exp()
}
