//! `crampscan simulate`: arguments laid over a preset's [`SimOptions`],
//! then [`simulate::simulate`].

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use crampscan::simulate::{self, Difficulty, Format, SimOptions};

use super::pair::Pair;
use super::EXIT_OK;

// The command's help is the doc comment of `Command::Simulate`.
#[derive(Args)]
pub struct SimulateArgs {
    /// Output folder.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of nights (default 1; with --cohort, per subject: 14).
    #[arg(long)]
    pub nights: Option<usize>,
    /// Length of each night, hours (default 0.25; with --cohort 0.5).
    #[arg(long)]
    pub hours: Option<f64>,
    /// Write a cohort with known effects instead: --subjects subjects ×
    /// --nights nights, each night's cramps Poisson with a stated rate
    /// model (exercise_min > 0 rate ratio 2.0, diuretic 1.5, magnesium_mg
    /// 1.0, a frailty per subject), with diary.csv, manifest.csv (the
    /// subjects), <night>.hypnogram.csv (cramps followed by awakenings)
    /// and cohort.json (the model and every draw). Default format wav at
    /// 256 Hz. Scan with: crampscan scan --manifest DIR/manifest.csv
    /// --diary DIR/diary.csv -o OUT.
    #[arg(long)]
    pub cohort: bool,
    /// Subjects of a --cohort.
    #[arg(long, default_value_t = 30, requires = "cohort")]
    pub subjects: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// File format (default csv; with --cohort wav).
    #[arg(long, value_enum)]
    pub format: Option<SimFormat>,
    /// EMG sample rate, Hz (default 1000; psg: 256). PSG rates such as
    /// 200, 256 and 500 Hz work; at least 100 Hz.
    #[arg(long, alias = "fs", value_name = "HZ")]
    pub emg_fs: Option<f64>,
    /// Accelerometer sample rate, Hz.
    #[arg(long, default_value_t = 50.0)]
    pub acc_fs: f64,
    /// Preset of amplitudes and confounders; the flags below override it.
    /// easy: the original nights (10 µV ECG, 15 µV mains at 50 Hz, no
    /// artifacts); realistic and hard: see the README; psg: hard plus
    /// bilateral LMs, body movements, clipping and pre-cramp build-ups
    /// at 256 Hz. Default easy, or psg with --family.
    #[arg(long, value_enum)]
    pub difficulty: Option<SimDifficulty>,
    /// Family of nights (issue 15), drawn per night on top of the
    /// preset: psg, bm-steady, bm-bursty, bm-ramped, bm-partial,
    /// cramp-stretch, posture, hum-switch, mixed (see the README). Each
    /// night gets <night>.sim.json naming its family.
    #[arg(long, value_name = "NAME")]
    pub family: Option<String>,
    /// Write no accelerometer file (the nights as most PSG nights come);
    /// EMG and truth unchanged.
    #[arg(long)]
    pub no_accel: bool,
    /// Mains frequency, Hz: 50, 60 or 0 for none (easy: 50; realistic
    /// and hard: 50 or 60 drawn per night).
    #[arg(long)]
    pub mains: Option<f64>,
    /// Mains amplitude, µV (easy 15, realistic 30, hard 60).
    #[arg(long)]
    pub mains_uv: Option<f64>,
    /// ECG QRS amplitude on the leg channels, µV (easy 10, realistic 30, hard 80).
    #[arg(long)]
    pub ecg_uv: Option<f64>,
    /// Heart rate range, bpm, as LO,HI (realistic 55,80; hard 50,90);
    /// switches to the narrow-QRS heartbeat with beat-to-beat variability.
    #[arg(long, value_name = "LO,HI")]
    pub heart_rate: Option<Pair>,
    /// Cramps per hour (at least one per night).
    #[arg(long, default_value_t = 2.0)]
    pub cramps_per_h: f64,
    /// Cramp plateau amplitude range, µV RMS, as LO,HI (default 50,120).
    #[arg(long, value_name = "LO,HI")]
    pub cramp_uv: Option<Pair>,
    /// Cramp duration range, s, as LO,HI (easy 20,90; realistic and hard 20,180).
    #[arg(long, value_name = "LO,HI")]
    pub cramp_s: Option<Pair>,
    /// Baseline wander amplitude, µV (0 switches it off).
    #[arg(long)]
    pub wander_uv: Option<f64>,
    /// Electrode pops per hour (0 switches them off).
    #[arg(long)]
    pub pops_per_h: Option<f64>,
    /// Motion artifacts per hour (0 switches them off).
    #[arg(long)]
    pub motion_per_h: Option<f64>,
    /// Gain drift through the night, ± fraction (0 switches it off).
    #[arg(long)]
    pub gain_drift: Option<f64>,
    /// Extra resting noise on one channel, µV RMS (0 switches it off).
    #[arg(long)]
    pub noisy_channel_uv: Option<f64>,
    /// Share of LMs that are weak (11–16 µV above resting), 0–1.
    #[arg(long)]
    pub weak_lm_fraction: Option<f64>,
    /// Posture changes per hour on the accelerometer (0 switches them off).
    #[arg(long)]
    pub posture_per_h: Option<f64>,
    /// Share of LMs that are bilateral (2–4 parts alternating legs), 0–1
    /// (psg 0.25).
    #[arg(long)]
    pub bilateral_lm_fraction: Option<f64>,
    /// Body movements per hour: both legs for 20–45 s with large
    /// accelerometer movement, truth kind `movement` (psg 3).
    #[arg(long)]
    pub body_movements_per_h: Option<f64>,
    /// Amplifier clipping stretches per hour: 3–20 s of one channel at
    /// its rails, truth kind `clipping` (psg 3).
    #[arg(long)]
    pub clipping_per_h: Option<f64>,
    /// Share of cramps preceded by a 20–40 s build-up rising from 3 to 5
    /// µV above resting without movement, 0–1 (psg 0.5).
    #[arg(long)]
    pub buildup_fraction: Option<f64>,
    /// Night-id prefix.
    #[arg(long, default_value = "night")]
    pub prefix: String,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SimDifficulty {
    Easy,
    Realistic,
    Hard,
    Psg,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SimFormat {
    Csv,
    Wav,
    Edf,
}

pub fn run(a: SimulateArgs) -> anyhow::Result<u8> {
    if a.cohort {
        return run_cohort(a);
    }
    let opts = options(a)?;
    let truths = simulate::simulate(&opts)?;
    eprintln!(
        "crampscan: wrote {} nights to {}",
        truths.len(),
        opts.out_dir.display()
    );
    Ok(EXIT_OK)
}

/// Nights per subject, hours per night, format and EMG rate of a cohort
/// when not given.
const COHORT_NIGHTS: usize = 14;
const COHORT_HOURS: f64 = 0.5;

fn run_cohort(mut a: SimulateArgs) -> anyhow::Result<u8> {
    if a.family.is_some() {
        anyhow::bail!("--cohort and --family cannot be combined");
    }
    let nights = a.nights.unwrap_or(COHORT_NIGHTS);
    a.hours = Some(a.hours.unwrap_or(COHORT_HOURS));
    a.format = Some(a.format.unwrap_or(SimFormat::Wav));
    a.emg_fs = Some(a.emg_fs.unwrap_or(simulate::PSG_EMG_FS_HZ));
    let subjects = a.subjects;
    let night = options(a)?;
    let dir = night.out_dir.clone();
    let manifest = simulate::cohort::simulate_cohort(&simulate::cohort::CohortOptions {
        night,
        subjects,
        nights,
    })?;
    eprintln!(
        "crampscan: wrote a cohort of {subjects} subjects x {nights} nights to {}; scan it with: crampscan scan --manifest {} --diary {} -o OUT",
        dir.display(),
        manifest.display(),
        dir.join("diary.csv").display()
    );
    Ok(EXIT_OK)
}

/// The preset the arguments name (psg with a family, else easy), with
/// every flag given laid over it; [`SimOptions::validate`] checks values.
fn options(a: SimulateArgs) -> anyhow::Result<SimOptions> {
    let family = match a.family.as_deref() {
        None => None,
        Some(name) => Some(simulate::Family::parse(name).with_context(|| {
            let names: Vec<&str> = simulate::Family::ALL.iter().map(|f| f.name()).collect();
            format!("--family is {name}; expected one of {}", names.join(", "))
        })?),
    };
    let difficulty = a.difficulty.unwrap_or(if family.is_some() {
        SimDifficulty::Psg
    } else {
        SimDifficulty::Easy
    });
    let base = SimOptions::with_difficulty(match difficulty {
        SimDifficulty::Easy => Difficulty::Easy,
        SimDifficulty::Realistic => Difficulty::Realistic,
        SimDifficulty::Hard => Difficulty::Hard,
        SimDifficulty::Psg => Difficulty::Psg,
    });
    let mut realism = base.realism.clone();
    if a.mains.is_some() {
        realism.random_mains = false;
    }
    if let Some(p) = a.heart_rate {
        realism.heart_rate_bpm = Some(p.into());
    }
    for (v, dst) in [
        (a.wander_uv, &mut realism.wander_uv),
        (a.pops_per_h, &mut realism.pops_per_h),
        (a.motion_per_h, &mut realism.motion_per_h),
        (a.gain_drift, &mut realism.gain_drift),
        (a.noisy_channel_uv, &mut realism.noisy_channel_uv),
        (a.weak_lm_fraction, &mut realism.weak_lm_fraction),
        (a.posture_per_h, &mut realism.posture_per_h),
        (a.bilateral_lm_fraction, &mut realism.bilateral_lm_fraction),
        (a.body_movements_per_h, &mut realism.body_movements_per_h),
        (a.clipping_per_h, &mut realism.clipping_per_h),
        (a.buildup_fraction, &mut realism.buildup_fraction),
    ] {
        if let Some(x) = v {
            *dst = x;
        }
    }
    Ok(SimOptions {
        out_dir: a.out,
        nights: a.nights.unwrap_or(1),
        hours: a.hours.unwrap_or(0.25),
        seed: a.seed,
        format: match a.format.unwrap_or(SimFormat::Csv) {
            SimFormat::Csv => Format::Csv,
            SimFormat::Wav => Format::Wav,
            SimFormat::Edf => Format::Edf,
        },
        emg_fs_hz: a.emg_fs.unwrap_or(base.emg_fs_hz),
        acc_fs_hz: a.acc_fs,
        // 0 means no hum; anything else but 50 or 60 is refused by validate.
        mains_hz: match a.mains {
            Some(m) => (m != 0.0).then_some(m),
            None => base.mains_hz,
        },
        mains_uv: a.mains_uv.unwrap_or(base.mains_uv),
        ecg_uv: a.ecg_uv.unwrap_or(base.ecg_uv),
        cramps_per_h: a.cramps_per_h,
        cramp_uv: a.cramp_uv.map_or(base.cramp_uv, Into::into),
        cramp_s: a.cramp_s.map_or(base.cramp_s, Into::into),
        realism,
        prefix: a.prefix,
        family,
        no_accel: a.no_accel,
        ..base
    })
}
