//! Argument parsing (clap derive) and the exit-status contract.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `print!` that returns an error instead of panicking when standard
/// output is closed (`crampscan evaluate ... | head`).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($t)*)?;
    }};
}

/// `println!` counterpart of [`out!`].
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($t)*)?;
    }};
}

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};

use crampscan::batch::{self, ScanOptions};
use crampscan::config::Config;
use crampscan::eval;
use crampscan::report::{self, ReportOptions};
use crampscan::score::EpisodeKind;
use crampscan::simulate::{self, Difficulty, Format, SimOptions};

/// Every night processed (or the command succeeded).
const EXIT_OK: u8 = 0;
/// The run could not start or finish (bad config, unwritable output).
const EXIT_FATAL: u8 = 1;
/// Arguments did not parse (clap's own exit status).
const EXIT_USAGE: u8 = 2;
/// The run finished but some nights failed; see errors.csv.
const EXIT_SOME_FAILED: u8 = 3;

#[derive(Parser)]
#[command(
    name = "crampscan",
    version,
    about = "Find nocturnal leg cramps and leg movements in overnight EMG and accelerometer recordings",
    long_about = "crampscan reads recorded nights (surface EMG and accelerometer; CSV, WAV, EDF or BDF), \
measures muscle activity in 0.25 s windows with an FFT band-power detector, finds contraction \
episodes with the WASM leg-movement hysteresis, classifies them as cramp, lm (leg movement) or \
sustained, and writes per-episode and per-night tables for a statistics package.",
    after_help = "EXIT STATUS:\n  0  every night was processed\n  1  fatal error (bad config, output folder not writable)\n  2  usage error\n  3  the run finished but some nights failed (listed in OUT/errors.csv)\n\nEXAMPLES:\n  crampscan scan data/ -o out\n  crampscan simulate -o sim --nights 3 --hours 1 --format wav\n  crampscan evaluate --truth sim --pred out\n  crampscan inspect data/night01_emg.csv\n  crampscan scan data/ -o out --plots   (then open out/report/index.html)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Detect and classify episodes in recorded nights and write the tables.
    ///
    /// INPUT may be files or folders (searched recursively for .csv, .txt,
    /// .wav, .edf and .bdf). Files in one folder whose names differ only by a part suffix
    /// (_emg, _acc, _accel, _accelerometer, _imu) form one night. Writes
    /// OUT/episodes.csv, OUT/nights.csv, OUT/cohort.csv, OUT/nights/<night>.json,
    /// OUT/errors.csv and OUT/run.json; a night that fails is listed in
    /// errors.csv and the others are still written.
    Scan {
        /// Recording files or folders.
        #[arg(value_name = "INPUT", required_unless_present_any = ["print_config", "manifest"], conflicts_with = "manifest")]
        inputs: Vec<PathBuf>,
        /// Read the nights from a CSV manifest instead: columns night, files
        /// (;-separated, relative to the manifest) and optionally subject,
        /// fs_hz, mains. Night ids must be unique.
        #[arg(long, value_name = "FILE")]
        manifest: Option<PathBuf>,
        /// Process only shard I of N: nights sorted by id, dealt round-robin.
        /// N runs with I = 1..N cover every night once; combine them with
        /// `crampscan merge`.
        #[arg(long, value_name = "I/N")]
        shard: Option<crampscan::batch::Shard>,
        /// Keep the nights whose OUT/nights/<night>.json was made by this
        /// version from the same input bytes and config; process the rest.
        #[arg(long)]
        resume: bool,
        /// Output folder (created if missing).
        #[arg(
            short,
            long,
            value_name = "OUT",
            required_unless_present = "print_config"
        )]
        out: Option<PathBuf>,
        /// TOML config; fields not given keep their defaults (see --print-config).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Detector name (overrides the config): fft-band (default), rms-envelope or tkeo.
        #[arg(long, value_name = "NAME")]
        detector: Option<String>,
        /// Sample rate for CSV files without a time column or sidecar, Hz.
        #[arg(long, value_name = "HZ")]
        fs: Option<f64>,
        /// Mains frequency to leave out: auto, 50, 60 or none (overrides the config).
        #[arg(long, value_name = "HZ")]
        mains: Option<String>,
        /// Use only these channels (comma-separated names or EDF labels),
        /// instead of the label patterns of the config.
        #[arg(long, value_name = "A,B", value_delimiter = ',')]
        channels: Vec<String>,
        /// Worker threads (default: all cores). Results do not depend on it.
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        /// Print the effective config as TOML and exit.
        #[arg(long)]
        print_config: bool,
        /// Also save per-window features (OUT/nights/<night>.traces.bin) and
        /// write figures and an HTML report (OUT/report/index.html).
        #[arg(long)]
        plots: bool,
        /// Episode kinds that get a close-up figure with --plots: a
        /// comma-separated list of cramp, lm, sustained, movement, or all.
        #[arg(long, value_name = "KINDS", default_value = "cramp")]
        closeups: String,
        /// Leg-movement scoring rules (overrides the config): wasm2016
        /// (Ferri et al. 2016) or aasm (5-90 s intervals, 10 s maximum,
        /// LMs on the two legs with onsets < 5 s apart counted as one).
        #[arg(long, value_name = "RULES")]
        rules: Option<String>,
        /// Hypnogram for indices per hour of sleep: an EDF+ file with
        /// "Sleep stage W/1/2/3/4/R" annotations or a CSV onset_s,duration_s,stage
        /// (a run of one night), or a folder holding
        /// <night>.hypnogram.csv / <night>-Hypnogram.edf files. Without it, such
        /// sidecars next to a night's files are used.
        #[arg(long, value_name = "PATH")]
        hypnogram: Option<PathBuf>,
    },
    /// Draw figures and write the HTML report of an earlier scan.
    ///
    /// Reads OUT/run.json, OUT/nights/*.json and, for the overview figures,
    /// OUT/nights/<night>.traces.bin (written by scan --plots); re-reads the
    /// recordings (paths as given to scan) for the close-ups. Writes
    /// OUT/report/index.html, one page per night and the figures (SVG and
    /// PNG) under OUT/report/figures/.
    Report {
        /// A scan output folder.
        #[arg(value_name = "OUT")]
        out: PathBuf,
        /// Episode kinds that get a close-up figure: a comma-separated list
        /// of cramp, lm, sustained, or all.
        #[arg(long, value_name = "KINDS", default_value = "cramp")]
        closeups: String,
        /// Worker threads (default: all cores). Figures do not depend on it.
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
    },
    /// Write seeded synthetic nights with ground truth (<night>.truth.csv).
    ///
    /// Each night has two leg EMG channels (emg_left_uv, emg_right_uv) and a
    /// three-axis accelerometer (acc_x_g, acc_y_g, acc_z_g), written as
    /// <night>_emg.<ext> and <night>_acc.<ext> with JSON sidecars giving the
    /// start time (and, for WAV, _channels.tsv sidecars giving names, units
    /// and gains). The same seed gives the same bytes.
    Simulate {
        /// Output folder.
        #[arg(short, long, value_name = "DIR")]
        out: PathBuf,
        /// Number of nights.
        #[arg(long, default_value_t = 1)]
        nights: usize,
        /// Length of each night, hours.
        #[arg(long, default_value_t = 0.25)]
        hours: f64,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// File format.
        #[arg(long, value_enum, default_value_t = SimFormat::Csv)]
        format: SimFormat,
        /// EMG sample rate, Hz (default 1000; psg: 256). PSG rates such as
        /// 200, 256 and 500 Hz work; at least 100 Hz.
        #[arg(long, alias = "fs", value_name = "HZ")]
        emg_fs: Option<f64>,
        /// Accelerometer sample rate, Hz.
        #[arg(long, default_value_t = 50.0)]
        acc_fs: f64,
        /// Preset of amplitudes and confounders; the flags below override it.
        /// easy: the original nights (10 µV ECG, 15 µV mains at 50 Hz, no
        /// artifacts); realistic and hard: see the README; psg: hard plus
        /// bilateral LMs, body movements, clipping and pre-cramp build-ups
        /// at 256 Hz. Default easy, or psg with --family.
        #[arg(long, value_enum)]
        difficulty: Option<SimDifficulty>,
        /// Family of nights (issue 15), drawn per night on top of the
        /// preset: psg, bm-steady, bm-bursty, bm-ramped, bm-partial,
        /// cramp-stretch, posture, hum-switch, mixed (see the README). Each
        /// night gets <night>.sim.json naming its family.
        #[arg(long, value_name = "NAME")]
        family: Option<String>,
        /// Write no accelerometer file (the nights as most PSG nights come);
        /// EMG and truth unchanged.
        #[arg(long)]
        no_accel: bool,
        /// Mains frequency, Hz: 50, 60 or 0 for none (easy: 50; realistic
        /// and hard: 50 or 60 drawn per night).
        #[arg(long)]
        mains: Option<f64>,
        /// Mains amplitude, µV (easy 15, realistic 30, hard 60).
        #[arg(long)]
        mains_uv: Option<f64>,
        /// ECG QRS amplitude on the leg channels, µV (easy 10, realistic 30, hard 80).
        #[arg(long)]
        ecg_uv: Option<f64>,
        /// Heart rate range, bpm, as LO,HI (realistic 55,80; hard 50,90);
        /// switches to the narrow-QRS heartbeat with beat-to-beat variability.
        #[arg(long, value_name = "LO,HI", value_delimiter = ',', num_args = 2)]
        heart_rate: Option<Vec<f64>>,
        /// Cramps per hour (at least one per night).
        #[arg(long, default_value_t = 2.0)]
        cramps_per_h: f64,
        /// Cramp plateau amplitude range, µV RMS, as LO,HI (default 50,120).
        #[arg(long, value_name = "LO,HI", value_delimiter = ',', num_args = 2)]
        cramp_uv: Option<Vec<f64>>,
        /// Cramp duration range, s, as LO,HI (easy 20,90; realistic and hard 20,180).
        #[arg(long, value_name = "LO,HI", value_delimiter = ',', num_args = 2)]
        cramp_s: Option<Vec<f64>>,
        /// Baseline wander amplitude, µV (0 switches it off).
        #[arg(long)]
        wander_uv: Option<f64>,
        /// Electrode pops per hour (0 switches them off).
        #[arg(long)]
        pops_per_h: Option<f64>,
        /// Motion artifacts per hour (0 switches them off).
        #[arg(long)]
        motion_per_h: Option<f64>,
        /// Gain drift through the night, ± fraction (0 switches it off).
        #[arg(long)]
        gain_drift: Option<f64>,
        /// Extra resting noise on one channel, µV RMS (0 switches it off).
        #[arg(long)]
        noisy_channel_uv: Option<f64>,
        /// Share of LMs that are weak (11–16 µV above resting), 0–1.
        #[arg(long)]
        weak_lm_fraction: Option<f64>,
        /// Posture changes per hour on the accelerometer (0 switches them off).
        #[arg(long)]
        posture_per_h: Option<f64>,
        /// Share of LMs that are bilateral (2–4 parts alternating legs), 0–1
        /// (psg 0.25).
        #[arg(long)]
        bilateral_lm_fraction: Option<f64>,
        /// Body movements per hour: both legs for 20–45 s with large
        /// accelerometer movement, truth kind `movement` (psg 3).
        #[arg(long)]
        body_movements_per_h: Option<f64>,
        /// Amplifier clipping stretches per hour: 3–20 s of one channel at
        /// its rails, truth kind `clipping` (psg 3).
        #[arg(long)]
        clipping_per_h: Option<f64>,
        /// Share of cramps preceded by a 20–40 s build-up rising from 3 to 6
        /// µV above resting without movement, 0–1 (psg 0.5).
        #[arg(long)]
        buildup_fraction: Option<f64>,
        /// Night-id prefix.
        #[arg(long, default_value = "night")]
        prefix: String,
    },
    /// Combine the outputs of sharded scans into the tables one run would write.
    ///
    /// Refuses shards made by another crampscan version or config, a shard
    /// set that is incomplete or repeated, and nights found in two shards.
    Merge {
        /// Shard output folders (from `scan --shard I/N`).
        #[arg(value_name = "SHARD_OUT", required = true)]
        shards: Vec<PathBuf>,
        /// Output folder for the merged tables.
        #[arg(short, long, value_name = "OUT")]
        out: PathBuf,
    },
    /// Show a file's channels, kinds, units, rates, duration, start time and quality.
    Inspect {
        /// A recording file.
        file: PathBuf,
        /// Sample rate for CSV files without a time column or sidecar, Hz.
        #[arg(long, value_name = "HZ")]
        fs: Option<f64>,
        /// Use only these channels (comma-separated names or EDF labels).
        #[arg(long, value_name = "A,B", value_delimiter = ',')]
        channels: Vec<String>,
        /// TOML config (channel patterns); fields not given keep their defaults.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Run several detectors over a folder of annotated nights and print a
    /// leaderboard: F1 per kind, timing errors, and speed.
    ///
    /// Each detector scans NIGHTS into OUT/<detector>/ (the usual tables plus
    /// evaluation.csv/json against the nights' truth files); the leaderboard
    /// is printed and written to OUT/leaderboard.csv. Speed is seconds of
    /// recording processed per second of wall time (all channels of a night
    /// count once), on the threads given. Nights with a family (`simulate
    /// --family`) also get each detector's table per family, with the worst.
    BenchDetectors {
        /// Folder of nights with <night>.truth.csv files (or EDF+ annotations).
        #[arg(long, value_name = "DIR")]
        nights: PathBuf,
        /// Detectors to compare (comma-separated).
        #[arg(
            long,
            value_name = "A,B",
            value_delimiter = ',',
            default_value = "fft-band,rms-envelope,tkeo"
        )]
        detectors: Vec<String>,
        /// Output folder.
        #[arg(short, long, value_name = "OUT")]
        out: PathBuf,
        /// Minimum intersection-over-union for a match.
        #[arg(long, default_value_t = eval::IOU_MIN)]
        iou: f64,
        /// TOML config shared by all detectors (the name is overridden).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Worker threads (default: all cores).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
    },
    /// Compare detected episodes with annotated ones (event level, by IoU).
    ///
    /// TRUTH is a <night>.truth.csv file (columns channel,kind,start_s,end_s),
    /// an EDF+/BDF+ file whose annotations are the truth, a CSV of scored
    /// events (start_s or onset_s, end_s or duration_s, kind or text, optional
    /// channel), or a folder of them; annotation texts map to kinds through
    /// the [annotations] config. PRED is a scan output folder. Prints
    /// precision, recall, F1, median and 95th-percentile onset/offset errors
    /// per kind (truth kinds lm, cramp, sustained, movement) and the
    /// per-night correlations, counts the reported cramps over truth
    /// `movement` and `clipping` stretches (target 0), and writes
    /// PRED/evaluation.csv, PRED/evaluation_nights.csv and PRED/evaluation.json.
    /// When nights carry a family (<night>.sim.json beside the truth, from
    /// `simulate --family`), also prints the figures per family with the
    /// worst family per kind and the body movements reported as cramp, and
    /// writes PRED/families.csv.
    Evaluate {
        #[arg(long, value_name = "PATH")]
        truth: PathBuf,
        #[arg(long, value_name = "OUT")]
        pred: PathBuf,
        /// Minimum intersection-over-union for a match.
        #[arg(long, default_value_t = eval::IOU_MIN)]
        iou: f64,
        /// TOML config ([annotations] maps annotation texts to kinds).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum SimDifficulty {
    Easy,
    Realistic,
    Hard,
    Psg,
}

#[derive(Clone, Copy, ValueEnum)]
enum SimFormat {
    Csv,
    Wav,
    Edf,
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        // The reader of our output went away (`| head`): nothing to report.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            eprintln!("crampscan: error: {e:#}");
            ExitCode::from(EXIT_FATAL)
        }
    }
}

/// Largest config file read, bytes: every setting with its comment is
/// about 10 kB (`--print-config`).
const MAX_CONFIG_BYTES: u64 = 1 << 20;

fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    match path {
        Some(p) => {
            // A config is a few kB: a device or FIFO would never end.
            crampscan::io::bounds::check_regular(p)?;
            let len = std::fs::metadata(p)
                .with_context(|| format!("cannot read config {}", p.display()))?
                .len();
            if len > MAX_CONFIG_BYTES {
                bail!(
                    "config {}: {len} bytes; expected at most {MAX_CONFIG_BYTES}",
                    p.display()
                );
            }
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read config {}", p.display()))?;
            Config::from_toml(&text).with_context(|| format!("in config {}", p.display()))
        }
        None => Ok(Config::default()),
    }
}

/// Episode kinds from a comma-separated list (`all` for every kind).
fn parse_kinds(list: &str) -> anyhow::Result<Vec<EpisodeKind>> {
    let mut kinds = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if item.eq_ignore_ascii_case("all") {
            return Ok(vec![
                EpisodeKind::Cramp,
                EpisodeKind::Lm,
                EpisodeKind::Sustained,
                EpisodeKind::Movement,
            ]);
        }
        match EpisodeKind::parse(item) {
            Some(k) => kinds.push(k),
            None => bail!("--closeups: \"{item}\" is not an episode kind; expected cramp, lm, sustained, movement or all"),
        }
    }
    Ok(kinds)
}

/// The numbers in column `name` of a CSV table.
fn read_column(path: &Path, name: &str) -> anyhow::Result<Vec<f64>> {
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let i = r
        .headers()?
        .iter()
        .position(|h| h == name)
        .with_context(|| format!("{}: no column {name}", path.display()))?;
    let mut v = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        v.push(
            rec.get(i)
                .unwrap_or("")
                .trim()
                .parse::<f64>()
                .with_context(|| format!("{}: column {name}: not a number", path.display()))?,
        );
    }
    Ok(v)
}

fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Scan {
            inputs,
            manifest,
            shard,
            resume,
            out,
            config,
            detector,
            fs,
            mains,
            channels,
            threads,
            print_config,
            plots,
            closeups,
            rules,
            hypnogram,
        } => {
            let closeup_kinds = parse_kinds(&closeups)?;
            let mut cfg = load_config(config.as_deref())?;
            if !channels.is_empty() {
                cfg.channels.select = channels;
            }
            if let Some(d) = detector {
                cfg.detector.name = d;
            }
            if let Some(fs) = fs {
                cfg.input.fs_hz = fs;
            }
            if let Some(m) = mains {
                cfg.detector.mains = m;
            }
            if let Some(r) = rules {
                cfg.scoring.rules = r;
            }
            cfg.validate()?;
            if print_config {
                out!("{}", cfg.to_toml());
                return Ok(EXIT_OK);
            }
            if threads == Some(0) {
                bail!("--threads must be at least 1");
            }
            let out = out.expect("clap requires --out");
            let opts = ScanOptions {
                inputs: match manifest {
                    Some(m) => batch::Inputs::Manifest(m),
                    None => batch::Inputs::Paths(inputs),
                },
                out_dir: out.clone(),
                threads,
                progress: std::io::stderr().is_terminal(),
                shard,
                resume,
                plots,
                closeup_kinds,
                hypnogram,
            };
            let report = batch::scan(&opts, &cfg)?;
            eprintln!(
                "crampscan: {} nights, {} failed{}; tables in {}",
                report.n_nights,
                report.n_failed,
                if resume {
                    format!(", {} kept from the earlier run", report.n_resumed)
                } else {
                    String::new()
                },
                out.display()
            );
            outln!("{}", out.join("nights.csv").display());
            outln!("{}", out.join("episodes.csv").display());
            if let Some(index) = &report.report_index {
                outln!("{}", index.display());
            }
            if report.n_failed > 0 {
                eprintln!(
                    "crampscan: see {} for the nights that failed",
                    out.join("errors.csv").display()
                );
            }
            print_warned(&report, &out);
            if report.n_failed > 0 {
                Ok(EXIT_SOME_FAILED)
            } else {
                Ok(EXIT_OK)
            }
        }
        Command::Simulate {
            out,
            nights,
            hours,
            seed,
            format,
            emg_fs,
            acc_fs,
            difficulty,
            family,
            no_accel,
            mains,
            mains_uv,
            ecg_uv,
            heart_rate,
            cramps_per_h,
            cramp_uv,
            cramp_s,
            wander_uv,
            pops_per_h,
            motion_per_h,
            gain_drift,
            noisy_channel_uv,
            weak_lm_fraction,
            posture_per_h,
            bilateral_lm_fraction,
            body_movements_per_h,
            clipping_per_h,
            buildup_fraction,
            prefix,
        } => {
            let family = match family.as_deref() {
                None => None,
                Some(name) => Some(simulate::Family::parse(name).with_context(|| {
                    let names: Vec<&str> = simulate::Family::ALL.iter().map(|f| f.name()).collect();
                    format!("--family is {name}; expected one of {}", names.join(", "))
                })?),
            };
            let difficulty = difficulty.unwrap_or(if family.is_some() {
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
            let pair = |v: Option<Vec<f64>>,
                        what: &str,
                        d: (f64, f64)|
             -> anyhow::Result<(f64, f64)> {
                match v.as_deref() {
                    None => Ok(d),
                    Some([lo, hi]) if lo.is_finite() && hi.is_finite() && lo < hi && *lo >= 0.0 => {
                        Ok((*lo, *hi))
                    }
                    Some(x) => bail!("--{what} is {x:?}; expected LO,HI with 0 <= LO < HI"),
                }
            };
            let mut realism = base.realism.clone();
            if let Some(m) = mains {
                realism.random_mains = false;
                if !(m == 0.0 || m == 50.0 || m == 60.0) {
                    bail!("--mains is {m}; expected 50, 60 or 0");
                }
            }
            if heart_rate.is_some() {
                realism.heart_rate_bpm = Some(pair(heart_rate, "heart-rate", (50.0, 90.0))?);
            }
            for (v, dst, what) in [
                (wander_uv, &mut realism.wander_uv, "wander-uv"),
                (pops_per_h, &mut realism.pops_per_h, "pops-per-h"),
                (motion_per_h, &mut realism.motion_per_h, "motion-per-h"),
                (gain_drift, &mut realism.gain_drift, "gain-drift"),
                (
                    noisy_channel_uv,
                    &mut realism.noisy_channel_uv,
                    "noisy-channel-uv",
                ),
                (
                    weak_lm_fraction,
                    &mut realism.weak_lm_fraction,
                    "weak-lm-fraction",
                ),
                (posture_per_h, &mut realism.posture_per_h, "posture-per-h"),
                (
                    bilateral_lm_fraction,
                    &mut realism.bilateral_lm_fraction,
                    "bilateral-lm-fraction",
                ),
                (
                    body_movements_per_h,
                    &mut realism.body_movements_per_h,
                    "body-movements-per-h",
                ),
                (
                    clipping_per_h,
                    &mut realism.clipping_per_h,
                    "clipping-per-h",
                ),
                (
                    buildup_fraction,
                    &mut realism.buildup_fraction,
                    "buildup-fraction",
                ),
            ] {
                if let Some(x) = v {
                    if !(x.is_finite() && x >= 0.0) {
                        bail!("--{what} is {x}; expected a number >= 0");
                    }
                    *dst = x;
                }
            }
            if realism.weak_lm_fraction > 1.0 || realism.gain_drift >= 1.0 {
                bail!("--weak-lm-fraction must be at most 1 and --gain-drift below 1");
            }
            if realism.bilateral_lm_fraction > 1.0 || realism.buildup_fraction > 1.0 {
                bail!("--bilateral-lm-fraction and --buildup-fraction must be at most 1");
            }
            let opts = SimOptions {
                out_dir: out.clone(),
                nights,
                hours,
                seed,
                format: match format {
                    SimFormat::Csv => Format::Csv,
                    SimFormat::Wav => Format::Wav,
                    SimFormat::Edf => Format::Edf,
                },
                emg_fs_hz: emg_fs.unwrap_or(base.emg_fs_hz),
                acc_fs_hz: acc_fs,
                mains_hz: match mains {
                    Some(m) => (m > 0.0).then_some(m),
                    None => base.mains_hz,
                },
                mains_uv: mains_uv.unwrap_or(base.mains_uv),
                ecg_uv: ecg_uv.unwrap_or(base.ecg_uv),
                cramps_per_h,
                cramp_uv: pair(cramp_uv, "cramp-uv", base.cramp_uv)?,
                cramp_s: pair(cramp_s, "cramp-s", base.cramp_s)?,
                realism,
                prefix,
                family,
                no_accel,
                ..base
            };
            let truths = simulate::simulate(&opts)?;
            eprintln!(
                "crampscan: wrote {} nights to {}",
                truths.len(),
                out.display()
            );
            Ok(EXIT_OK)
        }
        Command::Report {
            out,
            closeups,
            threads,
        } => {
            if threads == Some(0) {
                bail!("--threads must be at least 1");
            }
            let opts = ReportOptions {
                out_dir: out,
                closeup_kinds: parse_kinds(&closeups)?,
            };
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads.unwrap_or(0))
                .build()
                .context("cannot start worker threads")?;
            let r = pool.install(|| report::write_report(&opts))?;
            eprintln!(
                "crampscan: report of {} nights with {} figures",
                r.n_nights, r.n_figures
            );
            outln!("{}", r.index.display());
            Ok(EXIT_OK)
        }
        Command::BenchDetectors {
            nights,
            detectors,
            out,
            iou,
            config,
            threads,
        } => {
            if !(0.0..=1.0).contains(&iou) {
                bail!("--iou is {iou}; expected a number from 0 to 1");
            }
            if threads == Some(0) {
                bail!("--threads must be at least 1");
            }
            let base = load_config(config.as_deref())?;
            let mut rows = Vec::new();
            let mut by_family = Vec::new();
            for name in &detectors {
                let mut cfg = base.clone();
                cfg.detector.name = name.trim().to_string();
                cfg.validate()?;
                let dir = out.join(&cfg.detector.name);
                let opts = ScanOptions {
                    threads,
                    ..ScanOptions::new(batch::Inputs::Paths(vec![nights.clone()]), dir.clone())
                };
                let t0 = std::time::Instant::now();
                let report = batch::scan(&opts, &cfg)?;
                let wall_s = t0.elapsed().as_secs_f64();
                if report.n_failed > 0 {
                    bail!(
                        "{name}: {} nights failed; see {}",
                        report.n_failed,
                        dir.join("errors.csv").display()
                    );
                }
                let signal_s: f64 = read_column(&dir.join("nights.csv"), "duration_h")?
                    .iter()
                    .sum::<f64>()
                    * 3600.0;
                let e = eval::evaluate_paths(&nights, &dir, iou, &cfg)?;
                e.write(&dir)?;
                rows.push(eval::LeaderRow::new(
                    &cfg.detector.name,
                    &e,
                    signal_s,
                    wall_s,
                ));
                if !e.families.is_empty() {
                    by_family.push((cfg.detector.name.clone(), e));
                }
            }
            let table = eval::leaderboard_markdown(&rows);
            out!("{table}");
            for (name, e) in &by_family {
                out!(
                    "\n{name} by family:\n{}",
                    eval::families::families_markdown(&e.families, &e.worst_families)
                );
            }
            crampscan::summary::write_atomic(
                &out.join("leaderboard.csv"),
                eval::leaderboard_csv(&rows).as_bytes(),
            )?;
            Ok(EXIT_OK)
        }
        Command::Merge { shards, out } => {
            let report = batch::merge(&shards, &out)?;
            eprintln!(
                "crampscan: merged {} shards: {} nights, {} failed; tables in {}",
                shards.len(),
                report.n_nights,
                report.n_failed,
                out.display()
            );
            outln!("{}", out.join("nights.csv").display());
            print_warned(&report, &out);
            Ok(if report.n_failed > 0 {
                EXIT_SOME_FAILED
            } else {
                EXIT_OK
            })
        }
        Command::Inspect {
            file,
            fs,
            channels,
            config,
        } => {
            let mut cfg = load_config(config.as_deref())?;
            if !channels.is_empty() {
                cfg.channels.select = channels;
            }
            if let Some(fs) = fs {
                cfg.input.fs_hz = fs;
            }
            let ins = crampscan::inspect::inspect(&file, &cfg)?;
            out!("{}", ins.render());
            Ok(EXIT_OK)
        }
        Command::Evaluate {
            truth,
            pred,
            iou,
            config,
        } => {
            if !(0.0..=1.0).contains(&iou) {
                bail!("--iou is {iou}; expected a number from 0 to 1");
            }
            let cfg = load_config(config.as_deref())?;
            let e = eval::evaluate_paths(&truth, &pred, iou, &cfg)?;
            out!("{}", e.kinds_csv());
            outln!(
                "nights: {}; per-night correlation (Pearson r): cramp count {}, LM index {}",
                e.n_nights,
                e.cramp_count_r.map_or("n/a".into(), |r| format!("{r:.3}")),
                e.lm_index_r.map_or("n/a".into(), |r| format!("{r:.3}"))
            );
            for c in &e.cramps_over {
                outln!(
                    "cramps reported over truth {} stretches: {} (of {} stretches; target 0)",
                    c.kind,
                    c.n_cramps,
                    c.n_stretches
                );
            }
            if !e.families.is_empty() {
                out!(
                    "\nper family:\n{}",
                    eval::families::families_markdown(&e.families, &e.worst_families)
                );
            }
            e.write(&pred)?;
            Ok(EXIT_OK)
        }
    }
}

/// Nights named on stderr, at most, after a run with warnings.
const WARNED_NIGHTS_LISTED: usize = 10;

/// The run's last lines on stderr: which nights were written with warnings
/// (`n_warnings` in nights.csv, the warnings in their night document).
fn print_warned(report: &batch::ScanReport, out: &std::path::Path) {
    let w = &report.nights_with_warnings;
    if w.is_empty() {
        return;
    }
    let listed: Vec<String> = w
        .iter()
        .take(WARNED_NIGHTS_LISTED)
        .map(|(n, k)| format!("{n} ({k})"))
        .collect();
    let more = w.len().saturating_sub(WARNED_NIGHTS_LISTED);
    eprintln!(
        "crampscan: {} nights with warnings: {}{}; see n_warnings in {} and the warnings in nights/<night>.json",
        w.len(),
        listed.join(", "),
        if more > 0 { format!(" and {more} more") } else { String::new() },
        out.join("nights.csv").display()
    );
}
