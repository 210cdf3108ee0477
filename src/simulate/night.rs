//! One simulated night, stage by stage: the plan (schedule, confounders,
//! mains), the truth file, the EMG file, the accelerometer file and the
//! sidecars. Each random stream is drawn in the same order as ever, so the
//! same seed gives the same bytes.

use super::*;

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
    simulate_night_with(opts, k, None).map(|(p, _)| p)
}

/// What a cohort night sets itself instead of drawing it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct NightOverride {
    pub id: String,
    /// Start time written to the files (`YYYY-MM-DDTHH:MM:SS`).
    pub start: String,
    pub n_cramps: usize,
}

/// Writes night `k` (its random streams seeded by `k`), with what `ov`
/// sets; returns its truth file and its scheduled events.
pub(super) fn simulate_night_with(
    opts: &SimOptions,
    k: usize,
    ov: Option<&NightOverride>,
) -> Result<(PathBuf, Vec<TruthEvent>)> {
    let mut plan = Plan::draw(opts, k, ov)?;
    let events = plan.events.clone();
    let truth = write_night_files(&mut plan)?;
    Ok((truth, events))
}

fn write_night_files(plan: &mut Plan) -> Result<PathBuf> {
    let truth_path = plan.write_truth()?;
    let emg_path = plan.write_emg()?;
    let o = &plan.opts;
    if let Some(f) = &plan.family {
        write_text(
            &o.out_dir.join(format!("{}.sim.json", plan.id)),
            &f.json(&plan.id, plan.mains_hz, o.mains_uv, !o.no_accel),
        )?;
    }
    if o.no_accel {
        write_sidecars(o, &[(&emg_path, o.emg_fs_hz)], &plan.start, &emg_path, None)?;
        return Ok(truth_path);
    }
    let acc_path = plan.write_accel()?;
    let o = &plan.opts;
    write_sidecars(
        o,
        &[(&emg_path, o.emg_fs_hz), (&acc_path, o.acc_fs_hz)],
        &plan.start,
        &emg_path,
        Some(&acc_path),
    )?;
    Ok(truth_path)
}

/// Seeds a random stream of night `k`: each stream has its own multiplier
/// and offset, so that adding one never changes what another draws.
fn stream(seed: u64, mul: u64, add: u64, k: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed.wrapping_mul(mul).wrapping_add(add + k as u64))
}

/// Everything drawn for a night before its samples.
struct Plan {
    id: String,
    k: usize,
    /// The options, as the night's family edited them.
    opts: SimOptions,
    family: Option<FamilyNight>,
    /// The main stream: schedule, then EMG noise, then accelerometer noise.
    rng: ChaCha8Rng,
    /// The confounders' stream.
    art_rng: ChaCha8Rng,
    events: Vec<TruthEvent>,
    art: Artifacts,
    mains_hz: Option<f64>,
    duration_s: f64,
    /// Start time written to the files.
    start: String,
}

impl Plan {
    fn draw(opts: &SimOptions, k: usize, ov: Option<&NightOverride>) -> Result<Plan> {
        let mut rng = stream(opts.seed, 0x9E37_79B9_7F4A_7C15, 0, k);
        let duration_s = opts.hours * 3600.0;
        // A family edits this night's options and draws from a fourth stream.
        let mut opts = opts.clone();
        let mut family = opts.family.map(|f| {
            let seed = opts
                .seed
                .wrapping_mul(0xBF58_476D_1CE4_E5B9)
                .wrapping_add(0xFA3 + k as u64);
            FamilyNight::new(f, seed, &mut opts)
        });
        let r = &opts.realism;
        let spec = ScheduleSpec {
            cramps_per_h: opts.cramps_per_h,
            cramp_s: opts.cramp_s,
            cramp_uv: opts.cramp_uv,
            plm_series_fraction: r.plm_series_fraction,
            n_cramps: ov.map(|o| o.n_cramps),
        };
        let mut events = schedule(&mut rng, duration_s, &spec);
        // Confounders draw from their own stream so the easy night is unchanged.
        let mut art_rng = stream(opts.seed, 0xD1B5_4A32_D192_ED03, 0xA57, k);
        let mains_hz = match (opts.mains_hz, r.random_mains) {
            (Some(f), false) => Some(f),
            (None, _) => None,
            (Some(_), true) => Some(if art_rng.random_bool(0.5) { 50.0 } else { 60.0 }),
        };
        // The PSG confounders have a third stream, so the hard nights stay
        // byte-identical too.
        let mut psg_rng = stream(opts.seed, 0x94D0_49BB_1331_11EB, 0x5E6, k);
        let art = Artifacts::draw(
            &mut art_rng,
            &mut psg_rng,
            &opts,
            &mut events,
            duration_s,
            family.as_mut(),
        )?;
        Ok(Plan {
            id: ov.map_or_else(|| format!("{}{:02}", opts.prefix, k + 1), |o| o.id.clone()),
            k,
            opts,
            family,
            rng,
            art_rng,
            events,
            art,
            mains_hz,
            duration_s,
            start: ov.map_or_else(
                || format!("2026-01-{:02}T23:00:00", (k % 28) + 1),
                |o| o.start.clone(),
            ),
        })
    }

    fn ext(&self) -> &'static str {
        match self.opts.format {
            Format::Csv => "csv",
            Format::Wav => "wav",
            Format::Edf => "edf",
        }
    }

    /// Truth rows `(channel, kind, start_s, end_s)`: the events, then the
    /// clipping stretches, in time order.
    fn truth_rows(&self) -> Vec<(usize, &str, f64, f64)> {
        let mut rows: Vec<(usize, &str, f64, f64)> = self
            .events
            .iter()
            .map(|e| (e.channel, e.kind.as_str(), e.start_s, e.end_s))
            .chain(
                self.art
                    .clips
                    .iter()
                    .map(|c| (c.channel, CLIPPING_KIND, c.start_s, c.end_s)),
            )
            .collect();
        rows.sort_by(|a, b| a.2.total_cmp(&b.2));
        rows
    }

    fn write_truth(&self) -> Result<PathBuf> {
        let path = self.opts.out_dir.join(format!("{}.truth.csv", self.id));
        let mut truth = String::from("channel,kind,start_s,end_s\n");
        for (c, kind, s, e) in self.truth_rows() {
            truth.push_str(&format!("{},{kind},{s:.3},{e:.3}\n", EMG_CHANNELS[c]));
        }
        write_text(&path, &truth)?;
        Ok(path)
    }

    /// The EMG file's writer; an EDF carries the truth as annotations.
    fn emg_sink(&self, path: &Path) -> Result<Sink> {
        let fs = self.opts.emg_fs_hz;
        match self.opts.format {
            Format::Csv => Sink::csv(path, &format!("time,{}", EMG_CHANNELS.join(","))),
            Format::Wav => Sink::wav(path, 2, fs),
            Format::Edf => {
                let ann: Vec<crate::io::edf::Annotation> = self
                    .truth_rows()
                    .into_iter()
                    .map(|(c, kind, s, e)| crate::io::edf::Annotation {
                        onset_s: (s * 1000.0).round() / 1000.0,
                        duration_s: Some(((e - s) * 1000.0).round() / 1000.0),
                        text: format!("{kind} @ {}", EMG_CHANNELS[c]),
                    })
                    .collect();
                Sink::edf(
                    path,
                    &EMG_CHANNELS,
                    "uV",
                    EDF_EMG_RANGE_UV,
                    fs,
                    &self.start,
                    &ann,
                    self.duration_s,
                )
            }
        }
    }

    fn write_emg(&mut self) -> Result<PathBuf> {
        let path = self
            .opts
            .out_dir
            .join(format!("{}_emg.{}", self.id, self.ext()));
        let mut sink = self.emg_sink(&path)?;
        let fs = self.opts.emg_fs_hz;
        let mut gen = EmgGen::new(self, fs)?;
        let n = (self.duration_s * fs).round() as u64;
        let mut vals = [0f64; 2];
        for i in 0..n {
            let t = i as f64 / fs;
            gen.sample(self, t, &mut vals);
            sink.row(&path, t, &vals, 2, WAV_EMG_GAIN_UV)?;
        }
        sink.finish(&path)?;
        Ok(path)
    }

    fn write_accel(&mut self) -> Result<PathBuf> {
        let path = self
            .opts
            .out_dir
            .join(format!("{}_acc.{}", self.id, self.ext()));
        let afs = self.opts.acc_fs_hz;
        let mut sink = match self.opts.format {
            Format::Csv => Sink::csv(&path, &format!("time,{}", ACC_CHANNELS.join(",")))?,
            Format::Wav => Sink::wav(&path, 3, afs)?,
            Format::Edf => Sink::edf(
                &path,
                &ACC_CHANNELS,
                "g",
                EDF_ACC_RANGE_G,
                afs,
                &self.start,
                &[],
                self.duration_s,
            )?,
        };
        let n = (self.duration_s * afs).round() as u64;
        for i in 0..n {
            let t = i as f64 / afs;
            let mut a = self.accel_at(t);
            for v in &mut a {
                *v += 0.003 * gauss(&mut self.rng);
            }
            sink.row(&path, t, &a, 4, WAV_ACC_GAIN_G)?;
        }
        sink.finish(&path)?;
        Ok(path)
    }

    /// The ankle accelerometer at `t` before sensor noise, g.
    fn accel_at(&self, t: f64) -> [f64; 3] {
        let family = self.family.as_ref();
        let mut a = [0.0, 0.0, 1.0];
        // Body movement: the ankle's acceleration grows along gravity by
        // 0.15–0.45 g (whatever the posture, ENMO stays above 0.1 g) with a
        // lateral 2 Hz sway.
        let mut body: Option<f64> = None;
        for ev in &self.events {
            match ev.kind {
                EpisodeKind::Movement => {
                    let psg_accel = family.is_none_or(|f| f.psg_body_accel());
                    if psg_accel && ev.channel == 0 && (ev.start_s..ev.end_s).contains(&t) {
                        body = Some(t - ev.start_s);
                    }
                }
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
        if self.art.active {
            self.art.accel_extra(t, &mut a);
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
        a
    }
}

/// The EMG generator's state through the night: noise sources, the
/// heartbeat, and where the schedule has got to.
struct EmgGen {
    noise: [EmgNoise; 2],
    noise_extra: EmgNoise,
    noise_buildup: EmgNoise,
    /// Family nights: calf-cramp EMG and its own sample stream.
    noise_calf: [EmgNoise; 2],
    fam_rng: ChaCha8Rng,
    beat_s: f64,
    beat_i: usize,
    next_event: usize,
    mains_third: f64,
}

impl EmgGen {
    fn new(plan: &mut Plan, fs: f64) -> Result<EmgGen> {
        let noise = [EmgNoise::new(fs)?, EmgNoise::new(fs)?];
        let beat_s = plan.rng.random_range(0.8..1.0f64);
        // Harmonics at or above Nyquist are gone: a PSG amplifier's
        // anti-alias filter removes them (at 200 and 256 Hz the third
        // harmonic would otherwise alias into the EMG band).
        let mains_third = match plan.mains_hz {
            Some(f) if 3.0 * f < fs / 2.0 => plan.opts.realism.mains_third,
            _ => 0.0,
        };
        Ok(EmgGen {
            noise,
            noise_extra: EmgNoise::new(fs)?,
            noise_buildup: EmgNoise::new(fs)?,
            noise_calf: [
                EmgNoise::with_peak(fs, families::CALF_PEAK_HZ)?,
                EmgNoise::with_peak(fs, families::CALF_PEAK_HZ)?,
            ],
            fam_rng: ChaCha8Rng::seed_from_u64(plan.opts.seed.wrapping_add(0xCA1F + plan.k as u64)),
            beat_s,
            beat_i: 0,
            next_event: 0,
            mains_third,
        })
    }

    /// Heartbeat on the leg channels at `t`, µV (before the per-leg gain).
    fn heart(&mut self, plan: &Plan, t: f64) -> f64 {
        match &plan.art.beats_s {
            None => ecg(t, self.beat_s, plan.opts.ecg_uv),
            Some(beats) => {
                while self.beat_i + 1 < beats.len() && beats[self.beat_i + 1] <= t {
                    self.beat_i += 1;
                }
                let near = self.beat_i.saturating_sub(1)..(self.beat_i + 2).min(beats.len());
                qrs_t(t, &beats[near], plan.opts.ecg_uv)
            }
        }
    }

    /// Both legs' samples at `t`, µV.
    fn sample(&mut self, plan: &mut Plan, t: f64, vals: &mut [f64; 2]) {
        let events = &plan.events;
        while self.next_event < events.len() && events[self.next_event].end_s < t {
            self.next_event += 1;
        }
        let family = plan.family.as_ref();
        let mut hum = plan.mains_hz.map_or(0.0, |f| {
            plan.opts.mains_uv
                * ((2.0 * PI * f * t).sin()
                    + self.mains_third * (2.0 * PI * 3.0 * f * t + 0.3).sin())
        });
        if let Some(f) = family {
            hum *= f.hum_gain(t);
        }
        let heart = self.heart(plan, t);
        for (c, v) in vals.iter_mut().enumerate() {
            let (amp, calf_amp) = self.amplitudes(plan, c, t);
            *v = amp * self.noise[c].next(&mut plan.rng)
                + hum
                + heart * if c == 0 { 1.0 } else { 0.8 };
            if let Some(f) = family {
                *v += calf_amp * self.noise_calf[c].next(&mut self.fam_rng) + f.artifact_uv(c, t);
            }
            let art = &plan.art;
            if art.active {
                *v = art.emg_extra(c, t, *v, &mut self.noise_extra, &mut plan.art_rng);
                let b = art.buildup_uv(c, t);
                if b > 0.0 {
                    *v += b * self.noise_buildup.next(&mut plan.art_rng);
                }
                if let Some(rail) = art.clipped_uv(c, t) {
                    *v = rail;
                }
            }
        }
    }

    /// RMS amplitude of channel `c` at `t` from rest and the events under
    /// way, and of a family night's calf cramps (their own spectrum), µV.
    fn amplitudes(&self, plan: &Plan, c: usize, t: f64) -> (f64, f64) {
        let family = plan.family.as_ref();
        let mut amp = plan.opts.rest_uv;
        let mut calf_amp = 0.0;
        let under_way = plan.events[self.next_event..]
            .iter()
            .take_while(|e| e.start_s <= t);
        for ev in under_way.filter(|e| e.channel == c) {
            let is_calf =
                ev.kind == EpisodeKind::Cramp && family.is_some_and(|f| f.is_calf(c, ev.start_s));
            if is_calf {
                calf_amp += ev.amp_uv * envelope(ev, t);
            } else {
                amp += ev.amp_uv * envelope(ev, t);
            }
        }
        (amp, calf_amp)
    }
}
