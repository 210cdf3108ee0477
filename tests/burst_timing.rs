//! Burst timing that does not depend on the window grid (issue 15, item 3;
//! its second "Done when" bullet).
//!
//! Simulated leg-movement bursts of 0.5, 0.6, 0.8, 1, 2 and 5 s with
//! raised-cosine ramps of 50, 75 or 100 ms, each placed at 10 sub-hop
//! offsets (0..90 ms after a 0.1 s grid point), at 200, 256, 500 and
//! 1000 Hz, with and without heartbeats and 50/60 Hz hum, go through the
//! default detector (fft-band, transient rejection on), baseline,
//! hysteresis and classification. Every burst must be found once, as an LM,
//! with its onset within 0.05 s and its duration within 0.1 s of the known
//! burst, and nothing else may be found; that holds for all 960.
//!
//! The burst: Gaussian noise band-passed (4th-order Butterworth,
//! 30 Hz to 250 Hz or 0.42 fs) of 30 µV RMS at full amplitude, a moderate
//! LM (the brief's 20–60 µV RMS); rest: white Gaussian noise of 3 µV RMS.
//! The known onset and offset are the midpoints of the ramps; the burst's
//! nominal duration is between them. Heartbeats: a Ricker QRS
//! (σ = 6 ms) of 30 µV at 70 bpm, as in the simulator's "hard" preset
//! ("harder" has 80 µV). Hum: a 20 µV sine.

use crampscan::config::Config;
use crampscan::detect::{detect_spans, from_config, MainsPlan};
use crampscan::dsp::design::{butter, ButterType};
use crampscan::dsp::filter::SosFilter;
use crampscan::dsp::PlanCache;
use crampscan::score::classify::{classify_channel, ChannelDetection};
use crampscan::score::EpisodeKind;

/// Burst durations between ramp midpoints, s (the list).
const DURATIONS_S: [f64; 6] = [0.5, 0.6, 0.8, 1.0, 2.0, 5.0];
/// Sub-hop offsets of a burst's onset after a grid point, s.
const OFFSETS_S: [f64; 10] = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09];
/// Ramp lengths, s, taken in turn.
const RAMPS_S: [f64; 3] = [0.05, 0.075, 0.1];
/// Full-amplitude burst RMS, µV.
const BURST_RMS_UV: f64 = 30.0;
/// Resting noise RMS, µV.
const REST_RMS_UV: f64 = 3.0;
/// QRS amplitude, µV, and heart rate, beats per second.
const QRS_UV: f64 = 30.0;
const BEATS_PER_S: f64 = 70.0 / 60.0;
/// Hum amplitude, µV.
const HUM_UV: f64 = 20.0;
/// Quiet lead-in before the first burst, s, for the baseline.
const LEAD_IN_S: f64 = 30.0;
/// Quiet time after each burst, s (more than the 2 s bridge of the cramp rule).
const GAP_S: f64 = 3.5;

const ONSET_TOLERANCE_S: f64 = 0.05;
/// Sample rates of the recordings, Hz.
const RATES_HZ: [f64; 4] = [200.0, 256.0, 500.0, 1000.0];
/// Each rate is recorded clean, with heartbeats, with 50 Hz hum, and with
/// heartbeats and 60 Hz hum.
const CONDITIONS: [(bool, Option<u32>); 4] = [
    (false, None),
    (true, None),
    (false, Some(50)),
    (true, Some(60)),
];
const DURATION_TOLERANCE_S: f64 = 0.1;

struct Rng(u64);
impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn gauss(&mut self) -> f64 {
        let r = (-2.0 * self.uniform().ln()).sqrt();
        r * (2.0 * std::f64::consts::PI * self.uniform()).cos()
    }
}

/// A known burst: onset and offset at the ramp midpoints, s, and its ramp.
#[derive(Debug, Clone, Copy)]
struct Burst {
    on_s: f64,
    off_s: f64,
    ramp_s: f64,
}

/// Amplitude envelope of `b` at `t`: raised-cosine ramps centred on the
/// onset and offset.
fn envelope(b: &Burst, t: f64) -> f64 {
    let edge = |x: f64| {
        // 0 before -ramp/2, 1 after +ramp/2.
        let u = (x / b.ramp_s + 0.5).clamp(0.0, 1.0);
        0.5 - 0.5 * (std::f64::consts::PI * u).cos()
    };
    edge(t - b.on_s).min(edge(b.off_s - t))
}

/// Every duration at every offset, in an order that mixes them, each burst
/// onset `offset` after a 0.1 s grid point.
fn schedule() -> (Vec<Burst>, f64) {
    let mut out = Vec::new();
    let mut t = LEAD_IN_S;
    for (k, &o) in OFFSETS_S.iter().enumerate() {
        for (m, &d) in DURATIONS_S.iter().enumerate() {
            let on = (t * 10.0).round() / 10.0 + o;
            let ramp = RAMPS_S[(k + m) % RAMPS_S.len()];
            out.push(Burst {
                on_s: on,
                off_s: on + d,
                ramp_s: ramp,
            });
            t = on + d + GAP_S;
        }
    }
    (out, t + GAP_S)
}

/// The recording at `fs`, µV.
fn record(
    fs: f64,
    bursts: &[Burst],
    len_s: f64,
    heart: bool,
    hum: Option<u32>,
    seed: u64,
) -> Vec<f32> {
    let mut rng = Rng(seed);
    let high = 250f64.min(0.42 * fs);
    let sos = butter(
        4,
        ButterType::Bandpass {
            low_hz: 30.0,
            high_hz: high,
        },
        fs,
    )
    .unwrap();
    let mut bp = SosFilter::new(&sos);
    let n = (len_s * fs) as usize;
    let mut shaped: Vec<f64> = (0..n).map(|_| bp.step(rng.gauss())).collect();
    let ms = shaped.iter().skip(1000).map(|v| v * v).sum::<f64>() / (n - 1000) as f64;
    let k = BURST_RMS_UV / ms.sqrt();
    shaped.iter_mut().for_each(|v| *v *= k);
    let mut next = 0;
    (0..n)
        .map(|i| {
            let t = i as f64 / fs;
            while next < bursts.len() && bursts[next].off_s + 0.2 < t {
                next += 1;
            }
            let amp = bursts.get(next).map_or(0.0, |b| envelope(b, t));
            let mut x = REST_RMS_UV * rng.gauss() + amp * shaped[i];
            if heart {
                let beat = 1.0 / BEATS_PER_S;
                let dt = (t + 0.31) % beat - beat / 2.0;
                let u = (dt / 0.006).powi(2);
                x += QRS_UV * (1.0 - u) * (-u / 2.0).exp();
            }
            if let Some(f) = hum {
                x += HUM_UV * (2.0 * std::f64::consts::PI * f as f64 * t + 0.7).sin();
            }
            x as f32
        })
        .collect()
}

/// What one recording gave: the worst onset and duration errors, s, with
/// the burst of the worst duration, and what went wrong.
struct Outcome {
    worst_on_s: f64,
    worst_dur_s: f64,
    worst: Option<Burst>,
    /// Mean onset and duration errors, s.
    mean_on_s: f64,
    mean_dur_s: f64,
    failures: Vec<String>,
}

/// Runs one recording through the detector and compares with its bursts.
fn check(fs: f64, heart: bool, hum: Option<u32>) -> Outcome {
    let (bursts, len_s) = schedule();
    let x = record(fs, &bursts, len_s, heart, hum, 17 + fs as u64);
    let cfg = Config::default();
    let det = from_config(&cfg, &PlanCache::new()).unwrap();
    let mut a = det.analyzer(fs, MainsPlan::Fixed(hum)).unwrap();
    for c in x.chunks(4096) {
        a.push(c);
    }
    let series = a.finish(hum);
    let (baseline, spans) = detect_spans(&series, &cfg);
    let ch = ChannelDetection {
        name: "emg_l",
        series: &series,
        baseline_uv: &baseline,
        spans: &spans,
    };
    let eps = classify_channel(&ch, None, &cfg);
    let mut out = Outcome {
        worst_on_s: 0.0,
        worst_dur_s: 0.0,
        worst: None,
        mean_on_s: 0.0,
        mean_dur_s: 0.0,
        failures: Vec::new(),
    };
    let mut n = 0;
    for b in &bursts {
        let hits: Vec<_> = eps
            .iter()
            .filter(|e| e.start_s < b.off_s && e.end_s > b.on_s)
            .collect();
        if hits.len() != 1 {
            let found: Vec<_> = hits.iter().map(|e| (e.start_s, e.end_s)).collect();
            out.failures.push(format!("{b:?} found as {found:?}"));
            continue;
        }
        let e = hits[0];
        let on_err = e.start_s - b.on_s;
        let dur_err = (e.end_s - e.start_s) - (b.off_s - b.on_s);
        if e.kind != EpisodeKind::Lm
            || on_err.abs() > ONSET_TOLERANCE_S
            || dur_err.abs() > DURATION_TOLERANCE_S
        {
            out.failures.push(format!(
                "{b:?} found as {:?} at {:.3}-{:.3} s (onset {on_err:+.3}, duration {dur_err:+.3})",
                e.kind, e.start_s, e.end_s
            ));
        }
        out.mean_on_s += on_err;
        out.mean_dur_s += dur_err;
        n += 1;
        if on_err.abs() > out.worst_on_s.abs() {
            out.worst_on_s = on_err;
        }
        if dur_err.abs() > out.worst_dur_s.abs() {
            out.worst_dur_s = dur_err;
            out.worst = Some(*b);
        }
    }
    out.mean_on_s /= n.max(1) as f64;
    out.mean_dur_s /= n.max(1) as f64;
    let extra = eps
        .iter()
        .filter(|e| {
            !bursts
                .iter()
                .any(|b| e.start_s < b.off_s && e.end_s > b.on_s)
        })
        .count();
    if extra > 0 {
        out.failures
            .push(format!("{extra} episodes away from any burst"));
    }
    out
}

/// Every rate with each of: clean, heartbeats, 50 Hz hum, heartbeats and
/// 60 Hz hum; the failures (as strings) and the number of bursts. Prints
/// the worst errors per recording.
fn run_all() -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let mut n = 0;
    for fs in RATES_HZ {
        for (heart, hum) in CONDITIONS {
            let what = format!("fs={fs} heart={heart} hum={hum:?}");
            let o = check(fs, heart, hum);
            n += schedule().0.len();
            eprintln!(
                "{what}: onset error mean {:+.3} worst {:+.3} s, duration error mean {:+.3} worst {:+.3} s ({:?}); {} failures",
                o.mean_on_s,
                o.worst_on_s,
                o.mean_dur_s,
                o.worst_dur_s,
                o.worst,
                o.failures.len()
            );
            for f in &o.failures {
                eprintln!("  {f}");
            }
            failures.extend(o.failures.into_iter().map(|f| format!("{what}: {f}")));
        }
    }
    (failures, n)
}

/// The "Done when" bullet (960 bursts): every burst is found
/// once, as an LM, at every offset, nothing else is found, and every onset
/// is within 0.05 s and every duration within 0.1 s of the known burst.
/// Two stages of the fine envelope make it hold: heartbeats are taken out
/// by template subtraction (`detect::heartbeat`; without it a QRS 55 ms
/// before a rise put the onset 0.055 s early in four conditions), and an
/// outlier cell followed by lasting power is kept as the start of a burst
/// (`refine::RISE_RATIO`; without it two 256 Hz onsets read up to
/// 0.076 s late). Run with `--nocapture` for the figures.
#[test]
fn bursts_are_found_and_timed_at_every_grid_offset() {
    let (failures, n) = run_all();
    assert!(
        failures.is_empty(),
        "{} of {n} bursts outside: {:?}",
        failures.len(),
        failures
    );
}

/// The issue's own sample-level reference (20–150 Hz zero-phase
/// Butterworth band-pass, capped at 0.45 fs, a narrow notch at the hum,
/// 50 ms moving RMS, onset where it first reaches 8 µV over the median of
/// the lead-in) timed on the same recordings, for comparison with the
/// detector's misses: how many of the 960 bursts it puts more than 0.05 s
/// off, and where. Measured 2026-12-04: none of the 480 bursts without
/// heartbeats (with and without 50 Hz hum), 250 of the 480 with
/// heartbeats (it has no transient rejection: a beat in the half second
/// before a rise is taken for the onset); the detector puts none off. A measurement, not a target:
/// `cargo test --release --test burst_timing -- --ignored reference --nocapture`.
#[test]
#[ignore]
fn reference_onsets_on_the_same_bursts() {
    use crampscan::dsp::design::iirnotch;
    use crampscan::dsp::filter::sosfiltfilt;
    let mut outside = Vec::new();
    for fs in RATES_HZ {
        for (heart, hum) in CONDITIONS {
            let (bursts, len_s) = schedule();
            let x = record(fs, &bursts, len_s, heart, hum, 17 + fs as u64);
            let high = 150f64.min(0.45 * fs);
            let mut sos = butter(
                4,
                ButterType::Bandpass {
                    low_hz: 20.0,
                    high_hz: high,
                },
                fs,
            )
            .unwrap();
            if let Some(f) = hum {
                sos = sos.then(&iirnotch(f as f64, 30.0, fs).unwrap());
            }
            let y: Vec<f64> =
                sosfiltfilt(&sos, &x.iter().map(|&v| v as f64).collect::<Vec<_>>()).unwrap();
            let w = (0.05 * fs).round() as usize;
            let mut acc = 0.0;
            let mut rms = vec![f64::NAN; y.len()];
            for i in 0..y.len() {
                acc += y[i] * y[i];
                if i >= w {
                    acc -= y[i - w] * y[i - w];
                }
                if i + 1 >= w {
                    rms[i + 1 - w / 2 - 1] = (acc.max(0.0) / w as f64).sqrt();
                }
            }
            let mut lead: Vec<f64> = rms[(fs as usize)..((LEAD_IN_S - 1.0) * fs) as usize].to_vec();
            lead.sort_by(f64::total_cmp);
            let base = lead[lead.len() / 2];
            for b in &bursts {
                let a = ((b.on_s - 0.5) * fs) as usize;
                let e = ((b.on_s + 0.3) * fs) as usize;
                let on = (a..e)
                    .find(|&i| rms[i] >= base + 8.0)
                    .map(|i| i as f64 / fs);
                let err = on.map_or(f64::NAN, |t| t - b.on_s);
                if err.is_nan() || err.abs() > ONSET_TOLERANCE_S {
                    outside.push(format!(
                        "fs={fs} heart={heart} hum={hum:?} burst {:.2}: {err:+.3}",
                        b.on_s
                    ));
                }
            }
        }
    }
    eprintln!(
        "reference: {} of 960 onsets off by more than 0.05 s",
        outside.len()
    );
    for o in &outside {
        eprintln!("  {o}");
    }
}
