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

use crate::dsp::biquad::Biquad;
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
pub fn schedule(rng: &mut ChaCha8Rng, duration_s: f64, cramps_per_h: f64) -> Vec<TruthEvent> {
    let mut events = Vec::new();
    // Cramps first, spread over the night, each with room for the stretch after it.
    let n_cramps = ((duration_s / 3600.0 * cramps_per_h).round() as usize).max(1);
    for k in 0..n_cramps {
        let dur = rng.random_range(20.0..90.0f64).min(duration_s * 0.3);
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
            amp_uv: rng.random_range(50.0..120.0),
        });
    }
    // Leg movements, single or in periodic series, away from the cramps.
    let mut t = rng.random_range(15.0..40.0f64);
    while t < duration_s - 20.0 {
        let series = rng.random_bool(0.3);
        let count = if series {
            rng.random_range(4..7usize)
        } else {
            1
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
            });
            s += rng.random_range(15.0..40.0);
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
        let mid = 0.5 * (ev.start_s + ev.end_s);
        if (t - mid).abs() < 0.5 {
            g *= 0.4;
        }
        // Cramps start at a floor of intensity so onset is sharp enough to time.
        g = g.max(0.25);
    }
    g
}

/// Unit-RMS band-limited EMG-like noise source.
struct EmgNoise {
    filter: Biquad,
    gain: f64,
}

impl EmgNoise {
    fn new(fs: f64) -> EmgNoise {
        let f0 = 80.0f64.min(fs / 4.0);
        let bq = Biquad::bandpass(f0, 0.7, fs);
        // Calibrate to unit RMS on a fixed seed.
        let mut probe = bq.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
        let mut acc = 0.0;
        let n = 20000;
        for _ in 0..n {
            let y = probe.step(gauss(&mut rng));
            acc += y * y;
        }
        EmgNoise {
            filter: bq,
            gain: 1.0 / (acc / n as f64).sqrt(),
        }
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
    let events = schedule(&mut rng, duration_s, opts.cramps_per_h);
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
    let mut noise = [EmgNoise::new(fs), EmgNoise::new(fs)];
    let beat_s = rng.random_range(0.8..1.0f64);
    let n = (duration_s * fs).round() as u64;
    let mut next_event = 0;
    let mut vals = [0f64; 2];
    for i in 0..n {
        let t = i as f64 / fs;
        while next_event < events.len() && events[next_event].end_s < t {
            next_event += 1;
        }
        let hum = opts.mains_hz.map_or(0.0, |f| {
            opts.mains_uv * ((2.0 * PI * f * t).sin() + 0.2 * (2.0 * PI * 3.0 * f * t + 0.3).sin())
        });
        let heart = ecg(t, beat_s, opts.ecg_uv);
        for (c, v) in vals.iter_mut().enumerate() {
            let mut amp = opts.rest_uv;
            for ev in events[next_event..].iter().take_while(|e| e.start_s <= t) {
                if ev.channel == c {
                    amp += ev.amp_uv * envelope(ev, t);
                }
            }
            *v = amp * noise[c].next(&mut rng) + hum + heart * if c == 0 { 1.0 } else { 0.8 };
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
        let a = schedule(&mut ChaCha8Rng::seed_from_u64(3), 1800.0, 2.0);
        let b = schedule(&mut ChaCha8Rng::seed_from_u64(3), 1800.0, 2.0);
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
