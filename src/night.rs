//! One night from files to episodes: open the files, stream their blocks
//! through the channel analyzers (channels in parallel), then detect,
//! classify and score on the per-window features.

use std::path::PathBuf;

use chrono::NaiveDateTime;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{Config, MainsSetting};
use crate::detect::stream::{Exclusion, SpanGroup, SpanStream, StreamOutcome};
use crate::detect::{ChannelAnalyzer, Detector, MainsPlan};
use crate::dsp::enmo::EnmoAnalyzer;
use crate::dsp::mains::{self, MainsEstimator, MainsRatios};
use crate::dsp::PlanCache;
use crate::error::{Error, Result};
use crate::io::scoring::Scoring;
use crate::io::{self, SampleSource, BLOCK_FRAMES};
use crate::quality::{self as quality_checks, ChannelQuality, QualityTracker, RestFigures};
use crate::recording::{Block, ChannelKind, RecordingInfo};
use crate::score::classify::{classify_group, long_evidence, AccelSeries};
use crate::score::hypnogram::Hypnogram;
use crate::score::longact::{self, LongEvidence};
use crate::score::plm::{self, LmFigures};
use crate::score::{Episode, EpisodeKind};

/// Spectral features are biased below this rate, Hz (DESIGN.md).
pub const SPECTRAL_MIN_FS_HZ: f64 = 500.0;

/// Warnings listed per file in the night document; the rest are counted
/// (`n_warnings`). A damaged file can produce one per record or row.
pub const MAX_WARNINGS_PER_FILE: usize = 20;

/// A file's name for quality flags (`n1_acc.csv:length_mismatch`).
fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Refuses a file whose EMG channels hold less than one analysis window:
/// an empty EMG channel is not a 0 h night.
fn check_emg_samples(info: &RecordingInfo, frames: u64, cfg: &Config) -> Result<()> {
    let need = (cfg.detector.window_s * info.fs_hz).ceil().max(1.0) as u64;
    match info.channels.iter().find(|c| c.kind == ChannelKind::Emg) {
        Some(ch) if frames < need => Err(Error::input(
            &info.path,
            format!(
                "EMG channel {}: {frames} samples; expected at least one analysis window ({} s, {need} samples at {} Hz)",
                ch.name, cfg.detector.window_s, info.fs_hz
            ),
        )),
        _ => Ok(()),
    }
}

/// Flags (`<file>:length_mismatch`) and explains every part of the night
/// shorter than the longest by more than the tolerance of
/// [`io::parts::lengths_differ`]. `parts` holds (file name, duration s).
fn flag_part_lengths(
    parts: &[(String, f64)],
    quality: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let longest = parts.iter().map(|p| p.1).fold(0.0, f64::max);
    let Some(long_name) = parts.iter().find(|p| p.1 == longest).map(|p| p.0.clone()) else {
        return;
    };
    for (name, d) in parts {
        let flag = format!("{name}:length_mismatch");
        if io::parts::lengths_differ(*d, longest) && !quality.contains(&flag) {
            warnings.push(format!(
                "{name}: {d:.3} s long, the night's longest part ({long_name}) {longest:.3} s; it is missing for the rest of the night"
            ));
            quality.push(flag);
        }
    }
}

/// The files of one night.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NightInput {
    pub id: String,
    pub files: Vec<PathBuf>,
}

/// A channel as analysed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChannelReport {
    pub name: String,
    pub kind: ChannelKind,
    pub file: String,
    pub source_unit: String,
    pub unit: String,
    pub fs_hz: f64,
    pub quality: ChannelQuality,
    /// EMG band analysed, Hz.
    pub band_hz: Option<(f64, f64)>,
    /// Median resting baseline over the night, µV.
    pub baseline_median_uv: Option<f64>,
    /// Mains peak ratios (power at 50/60 Hz over its neighbourhood) of the
    /// average spectrum of the quietest 1 s segments
    /// ([`crate::dsp::mains`]).
    pub mains_ratio_50: Option<f64>,
    pub mains_ratio_60: Option<f64>,
    /// Segments the mains ratios come from (the quietest), and segments
    /// analysed.
    #[serde(default)]
    pub mains_segments_used: Option<u32>,
    #[serde(default)]
    pub mains_segments: Option<u32>,
    /// EMG only: how the resting EMG behaved (shares of windows above the
    /// offset level, inside episodes, with the baseline at its cap or
    /// floor; activity percentiles), behind the `rest_not_quiet` and
    /// `unit_suspect` flags.
    #[serde(default)]
    pub rest: Option<RestFigures>,
}

/// Per-night figures for `nights.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NightSummary {
    pub duration_h: f64,
    pub analyzed_h: f64,
    pub n_cramps: usize,
    pub cramps_per_h: f64,
    pub cramp_total_s: f64,
    pub cramp_longest_s: f64,
    pub n_lm: usize,
    pub lm_index: f64,
    pub n_plm: usize,
    pub plm_index: f64,
    pub n_sustained: usize,
    /// Body movements (both legs, with accelerometer movement).
    #[serde(default)]
    pub n_movement: usize,
    /// Leg-movement rule set: `wasm2016` or `aasm`.
    #[serde(default)]
    pub rules: String,
    /// Periodicity index (Ferri et al. 2006), 0–1.
    #[serde(default)]
    pub periodicity_index: Option<f64>,
    /// Time asleep by the hypnogram, h; `None` without a hypnogram.
    #[serde(default)]
    pub sleep_h: Option<f64>,
    /// Candidate LMs during sleep per hour of sleep (LMS index).
    #[serde(default)]
    pub lms_index: Option<f64>,
    /// PLMs during sleep per hour of sleep (PLMS index).
    #[serde(default)]
    pub plms_index: Option<f64>,
    /// The hypnogram used, when one was.
    #[serde(default)]
    pub hypnogram: Option<String>,
    /// Candidate LMs left out as respiratory-related; `None` without a
    /// scoring of respiratory events.
    #[serde(default)]
    pub n_lm_resp: Option<usize>,
    /// Figures by stage and arousal ([`crate::score::context`]).
    #[serde(default)]
    pub context: ContextSummary,
    /// Minutes awake in the 30 min after the night's cramps (overlapping
    /// windows counted once); `None` without a hypnogram.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cramp_wake_min: Option<f64>,
    /// Cramps followed by wake within 120 s; `None` without a hypnogram.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_cramp_awakenings: Option<usize>,
    /// The scoring file (NSRR XML, Luna `.annot`) used, when one was.
    #[serde(default)]
    pub scoring: Option<String>,
}

/// [`crate::score::context::StageFigures`] as the night document keeps it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContextSummary {
    pub wake_h: Option<f64>,
    pub plmw_index: Option<f64>,
    pub plms_n1_index: Option<f64>,
    pub plms_n2_index: Option<f64>,
    pub plms_n3_index: Option<f64>,
    pub plms_rem_index: Option<f64>,
    pub n_plm_arousal: Option<usize>,
    pub plm_arousal_index: Option<f64>,
}

impl From<crate::score::context::StageFigures> for ContextSummary {
    fn from(f: crate::score::context::StageFigures) -> Self {
        let [n1, n2, n3, rem] = f.plms_stage_index;
        ContextSummary {
            wake_h: f.wake_h,
            plmw_index: f.plmw_index,
            plms_n1_index: n1,
            plms_n2_index: n2,
            plms_n3_index: n3,
            plms_rem_index: rem,
            n_plm_arousal: f.n_plm_arousal,
            plm_arousal_index: f.plm_arousal_index,
        }
    }
}

/// The night's hypnogram and scoring: the hypnogram file when given (an
/// NSRR XML or `.annot` given as hypnogram is read as the scoring too),
/// else the scoring's stages; each checked against the recording's span.
fn night_scorings(
    opts: &NightOptions,
    start_time: Option<NaiveDateTime>,
    duration_s: f64,
) -> Result<(Option<Hypnogram>, Option<Scoring>)> {
    let scoring_path = opts.scoring.as_ref().or(opts
        .hypnogram
        .as_ref()
        .filter(|p| crate::io::scoring::is_scoring(p)));
    let scoring = match scoring_path {
        Some(p) => {
            let s = Scoring::read(p, start_time)?;
            s.check_span(duration_s)?;
            Some(s)
        }
        None => None,
    };
    let hypnogram = match &opts.hypnogram {
        Some(p) if !crate::io::scoring::is_scoring(p) => {
            let mut h = Hypnogram::read(p)?;
            h.align_to(start_time);
            Some(h)
        }
        _ => scoring.as_ref().and_then(Scoring::hypnogram),
    };
    if let Some(h) = &hypnogram {
        h.check_span(duration_s)?;
    }
    Ok((hypnogram, scoring))
}

/// Everything known about one processed night.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NightResult {
    pub night: String,
    pub sources: Vec<String>,
    pub start_time: Option<NaiveDateTime>,
    pub duration_s: f64,
    pub analyzed_s: f64,
    /// Mains frequency left out of the band, Hz (`None`: no mains found).
    pub mains_hz: Option<u32>,
    /// `auto` when detected, `config` when given.
    pub mains_source: String,
    pub detector: String,
    pub channels: Vec<ChannelReport>,
    /// Quality flags (also in `nights.csv`); empty when all is well.
    pub quality: Vec<String>,
    /// Reader and analysis notes that did not stop the night, at most
    /// [`MAX_WARNINGS_PER_FILE`] per file (then a line counting the rest).
    pub warnings: Vec<String>,
    /// Warnings in all, the unlisted ones included (`nights.csv`
    /// `n_warnings`).
    #[serde(default)]
    pub n_warnings: usize,
    pub episodes: Vec<Episode>,
    pub leg_movements: LmFigures,
    pub summary: NightSummary,
    /// Per-window series for the figures; kept only when asked
    /// ([`NightOptions::keep_traces`]) and never written to the night JSON.
    #[serde(skip)]
    pub traces: Option<NightTraces>,
}

/// The per-window series behind a night's overview figure.
#[derive(Debug, Clone)]
pub struct NightTraces {
    /// One per EMG channel, in channel order.
    pub emg: Vec<EmgTrace>,
    /// Accelerometer ENMO of the night, when it has three axes.
    pub accel: Option<AccelSeries>,
}

/// One EMG channel's activity and resting baseline, per window.
#[derive(Debug, Clone)]
pub struct EmgTrace {
    pub channel: String,
    /// Spacing of the windows, s.
    pub hop_s: f64,
    /// Centre of the first window from the recording start, s.
    pub first_center_s: f64,
    /// Band RMS per window, µV (NaN where the window held bad samples).
    pub activity_uv: Vec<f32>,
    /// Resting baseline per window, µV.
    pub baseline_uv: Vec<f32>,
}

/// What [`process_night_with`] keeps besides the tables, and what it adds.
#[derive(Debug, Clone, Default)]
pub struct NightOptions {
    /// Keep the per-window series ([`NightResult::traces`]) for figures.
    pub keep_traces: bool,
    /// Hypnogram of the night (EDF+ or CSV), for indices per hour of sleep.
    pub hypnogram: Option<PathBuf>,
    /// Scoring of the night (NSRR XML or Luna `.annot`): stages when no
    /// hypnogram is given, respiratory events and arousals.
    pub scoring: Option<PathBuf>,
}

/// An EMG channel while its file streams: the detector's analyzer, the
/// mains estimator, the detection that follows them, and the episodes
/// classified so far (with the accelerometer values a body-movement check
/// may need).
struct EmgLane {
    name: String,
    analyzer: Box<dyn ChannelAnalyzer>,
    mains: MainsEstimator,
    stream: SpanStream,
    episodes: Vec<(Episode, Option<LongEvidence>)>,
}

struct Lane {
    quality: QualityTracker,
    emg: Option<EmgLane>,
}

/// A file of the night while it streams, a block per round.
struct OpenFile {
    src: Box<dyn SampleSource>,
    lanes: Vec<Lane>,
    block: Block,
    frames: u64,
    done: bool,
}

struct StreamedFile {
    info: RecordingInfo,
    frames: u64,
    qualities: Vec<ChannelQuality>,
    /// Per channel: sample ranges to leave out (flat, saturated).
    excluded: Vec<BadStretches>,
    /// Per channel: whether every stretch left out while streaming is left
    /// out in the end.
    exclusion_exact: Vec<bool>,
    /// EMG lanes with their channel index.
    emg: Vec<(usize, EmgLane)>,
}

/// A night after its files have streamed.
struct StreamedNight {
    files: Vec<StreamedFile>,
    /// ENMO of the night's first file with three accelerometer axes; the
    /// values no episode needed are dropped unless traces are kept.
    accel: Option<AccelSeries>,
}

impl StreamedFile {
    /// Whether a channel's detection went ahead on bad stretches that the
    /// end of the night did not confirm.
    fn exclusion_overturned(&self) -> bool {
        self.emg
            .iter()
            .any(|(c, l)| l.stream.used_provisional() && !self.exclusion_exact[*c])
    }
}

fn display(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// Sample ranges `[start, end)` of one channel to leave out of detection.
type BadStretches = Vec<(u64, u64)>;

/// How one pass over a night's files runs.
#[derive(Clone, Copy)]
struct Pass<'a> {
    cfg: &'a Config,
    detector: &'a dyn Detector,
    plans: &'a PlanCache,
    mains: MainsPlan,
    /// Per file, per channel: bad stretches known from an earlier pass.
    exclusions: Option<&'a [Vec<BadStretches>]>,
    keep_traces: bool,
}

/// Slack in following the accelerometer, s: values are kept this long
/// before the earliest time an episode still to be classified reaches back
/// to (the cramp rule looks 1 s before an onset, and a value covers one
/// hop), and an episode waits for values this long after its
/// `accel_after_s`.
const ACCEL_KEEP_MARGIN_S: f64 = 10.0;

impl OpenFile {
    /// Sets up file number `file` of the night to read `round_s` seconds
    /// per round.
    fn open(src: Box<dyn SampleSource>, file: usize, pass: Pass, round_s: f64) -> Result<OpenFile> {
        let cfg = pass.cfg;
        let info = src.info();
        let fs = info.fs_hz;
        let mut lanes = Vec::with_capacity(info.channels.len());
        for (c, ch) in info.channels.iter().enumerate() {
            let emg = if ch.kind == ChannelKind::Emg {
                let analyzer = pass
                    .detector
                    .analyzer(fs, pass.mains)
                    .map_err(|e| Error::input(&info.path, format!("channel {}: {e}", ch.name)))?;
                let exclusion = match pass.exclusions {
                    Some(x) => Exclusion::Known(x[file][c].clone()),
                    None => Exclusion::Provisional,
                };
                Some(EmgLane {
                    name: ch.name.clone(),
                    analyzer,
                    mains: MainsEstimator::new(fs, pass.plans),
                    stream: SpanStream::new(cfg, fs, exclusion, pass.keep_traces),
                    episodes: Vec::new(),
                })
            } else {
                None
            };
            lanes.push(Lane {
                quality: QualityTracker::new(fs, &cfg.quality),
                emg,
            });
        }
        let frames_per_round = ((round_s * fs).round() as usize).max(1);
        Ok(OpenFile {
            block: Block::new(info.channels.len(), frames_per_round),
            src,
            lanes,
            frames: 0,
            done: false,
        })
    }

    /// Reads the next block and streams it through the quality trackers,
    /// EMG analyzers and detection, channels in parallel.
    fn step(&mut self) -> Result<()> {
        if self.done {
            return Ok(());
        }
        self.src.read_block(&mut self.block)?;
        if self.block.len == 0 {
            self.done = true;
            return Ok(());
        }
        self.frames += self.block.len as u64;
        let block = &self.block;
        self.lanes.par_iter_mut().enumerate().for_each(|(c, lane)| {
            let x = block.channel(c);
            lane.quality.push(x);
            if let Some(e) = &mut lane.emg {
                e.analyzer.push(x);
                e.mains.push(x);
                if let Some(piece) = e.analyzer.drain_final() {
                    e.stream.push(piece);
                }
                e.stream.follow(&lane.quality);
            }
        });
        Ok(())
    }

    fn finish(self) -> StreamedFile {
        let info = self.src.info().clone(); // readers add warnings at the end of the stream
        let mut qualities = Vec::new();
        let mut excluded = Vec::new();
        let mut exclusion_exact = Vec::new();
        let mut emg = Vec::new();
        for (c, lane) in self.lanes.into_iter().enumerate() {
            let (q, spans, exact) = lane.quality.finish_checked();
            qualities.push(q);
            excluded.push(spans);
            exclusion_exact.push(exact);
            if let Some(e) = lane.emg {
                emg.push((c, e));
            }
        }
        StreamedFile {
            info,
            frames: self.frames,
            qualities,
            excluded,
            exclusion_exact,
            emg,
        }
    }
}

/// Classifies a channel's groups of episodes. A long episode keeps the
/// evidence the night-level decision reads ([`longact::settle`]): its tonic
/// index and the accelerometer values under it.
fn classify_groups(
    name: &str,
    groups: Vec<SpanGroup>,
    accel: Option<&AccelSeries>,
    cfg: &Config,
    out: &mut Vec<(Episode, Option<LongEvidence>)>,
) {
    let long_s = longact::long_min_s(&cfg.cramp);
    for g in &groups {
        for e in classify_group(name, g, accel, cfg) {
            let ev = (e.duration_s() >= long_s)
                .then(|| long_evidence(g, &e, accel, cfg.cramp.bridge_gap_s));
            out.push((e, ev));
        }
    }
}

/// Streams all files of a night side by side, a round of `BLOCK_FRAMES`
/// at the fastest rate at a time, so that episodes are classified as soon
/// as their accelerometer values are in and neither the EMG windows nor
/// the accelerometer series pile up over the night.
fn stream_night(sources: Vec<Box<dyn SampleSource>>, pass: Pass) -> Result<StreamedNight> {
    let cfg = pass.cfg;
    let fastest_hz = sources.iter().map(|s| s.info().fs_hz).fold(0.0, f64::max);
    let round_s = BLOCK_FRAMES as f64 / fastest_hz;
    let accel_file = sources
        .iter()
        .position(|s| s.info().accel_axes().len() == 3);
    let mut files = sources
        .into_iter()
        .enumerate()
        .map(|(k, s)| OpenFile::open(s, k, pass, round_s))
        .collect::<Result<Vec<_>>>()?;
    let mut enmo = accel_file.map(|k| {
        let info = files[k].src.info();
        let axes = info.accel_axes();
        (
            k,
            [axes[0], axes[1], axes[2]],
            EnmoAnalyzer::new(info.fs_hz, cfg.detector.hop_s),
        )
    });
    let after_s = cfg.cramp.accel_after_s + ACCEL_KEEP_MARGIN_S;
    while files.iter().any(|f| !f.done) {
        files.par_iter_mut().try_for_each(OpenFile::step)?;
        let mut accel_done = true;
        if let Some((k, axes, e)) = &mut enmo {
            let f = &files[*k];
            e.push(
                f.block.channel(axes[0]),
                f.block.channel(axes[1]),
                f.block.channel(axes[2]),
            );
            accel_done = f.done;
        }
        // Classify the groups whose accelerometer values are all in.
        let mut accel = enmo.as_mut().map(|(_, _, e)| e.series());
        let covered_s = match (&accel, accel_done) {
            (Some(a), false) => a.covered_s(),
            _ => f64::INFINITY,
        };
        let mut earliest_s = Some(f64::INFINITY);
        for lane in files
            .iter_mut()
            .flat_map(|f| f.lanes.iter_mut())
            .filter_map(|l| l.emg.as_mut())
        {
            let ready = lane.stream.take_groups_while(|g| {
                let end = g.spans.last().map_or(0, |s| s.1);
                g.series.time_s(end) + after_s <= covered_s
            });
            classify_groups(&lane.name, ready, accel.as_deref(), cfg, &mut lane.episodes);
            earliest_s = match (earliest_s, lane.stream.earliest_needed_s()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                _ => None,
            };
        }
        if let (Some(a), Some(t), false) = (&mut accel, earliest_s, pass.keep_traces) {
            if t.is_finite() {
                let k = ((t - ACCEL_KEEP_MARGIN_S) / a.hop_s).floor();
                if k > 0.0 {
                    a.drop_before(k as usize);
                }
            }
        }
    }
    Ok(StreamedNight {
        files: files.into_iter().map(OpenFile::finish).collect(),
        accel: enmo.map(|(_, _, e)| e.finish()),
    })
}

/// Opens every file of the night: one source per file and sample rate.
fn open_sources(input: &NightInput, cfg: &Config) -> Result<Vec<Box<dyn SampleSource>>> {
    let mut sources = Vec::with_capacity(input.files.len());
    for f in &input.files {
        sources.extend(io::open(f, cfg)?);
    }
    Ok(sources)
}

/// Processes one night. Errors name the file and the place.
pub fn process_night(
    input: &NightInput,
    cfg: &Config,
    detector: &dyn Detector,
    plans: &PlanCache,
) -> Result<NightResult> {
    process_night_with(input, cfg, detector, plans, NightOptions::default())
}

/// [`process_night`], keeping what `opts` asks for. The night runs as a
/// sequence of stages, each handing the next what it needs.
pub fn process_night_with(
    input: &NightInput,
    cfg: &Config,
    detector: &dyn Detector,
    plans: &PlanCache,
    opts: NightOptions,
) -> Result<NightResult> {
    // 1. Open the files and refuse what cannot be scored, before any sample is read.
    let (sources, notes) = open_night(input, cfg)?;
    // 2. Stream the channels; again when the whole night overturns an early guess.
    let pass = FirstPass {
        cfg,
        detector,
        plans,
        keep_traces: opts.keep_traces,
    };
    let streamed = stream_decided(input, sources, pass)?;
    let (mains_hz, mains_source) = (streamed.mains_hz, streamed.mains_source);
    // 3. Channel reports and quality flags, file by file.
    let mut night = report_channels(streamed, cfg, notes)?;
    // 4. Classify the groups of episodes still open at the end of the night.
    let classified = classify_rest(&mut night.emg, night.accel.as_ref(), cfg);
    // 5. Relabel long activity that imitates a cramp (body movements, sustained).
    let mut episodes = classified.settle(cfg);
    // 6. Score: PLM series, stages, arousals and respiratory events.
    let scored = score_night(&mut episodes, &mut night, &opts, cfg)?;
    // 7. Summarise for nights.csv, and keep the traces when asked.
    let summary = summarise(&episodes, &scored, night.duration_s);
    let traces = opts
        .keep_traces
        .then(|| night_traces(night.emg, night.accel));
    let notes = night.notes;
    Ok(NightResult {
        night: input.id.clone(),
        sources: input.files.iter().map(|p| display(p)).collect(),
        start_time: night.start_time,
        duration_s: night.duration_s,
        analyzed_s: scored.analyzed_s,
        mains_hz,
        mains_source: mains_source.to_string(),
        detector: detector.name().to_string(),
        channels: night.channels,
        quality: notes.quality,
        n_warnings: notes.warnings.len() + notes.n_unlisted,
        warnings: notes.warnings,
        episodes,
        leg_movements: scored.lm,
        summary,
        traces,
    })
}

/// The night's quality flags and warnings, in the order the stages add them.
#[derive(Default)]
struct Notes {
    quality: Vec<String>,
    warnings: Vec<String>,
    /// Warnings beyond the per-file cap, counted but not listed.
    n_unlisted: usize,
}

impl Notes {
    /// Adds a quality flag unless the night has it already.
    fn flag_once(&mut self, flag: String) {
        if !self.quality.contains(&flag) {
            self.quality.push(flag);
        }
    }
}

/// Stage 1: opens every file of the night and checks, before reading a
/// sample, that every `--channels` entry is there, that there is EMG, and
/// that every EMG channel is sampled fast enough. Returns the sources and
/// the first notes (EMG below [`SPECTRAL_MIN_FS_HZ`]).
fn open_night(input: &NightInput, cfg: &Config) -> Result<(Vec<Box<dyn SampleSource>>, Notes)> {
    io::parts::check_parts(&input.id, &input.files)?;
    let first_file = input
        .files
        .first()
        .map_or(std::path::Path::new(&input.id), |p| p);
    let sources = open_sources(input, cfg)?;
    check_selected_channels(&sources, cfg, first_file)?;
    let notes = check_emg_rates(&sources, cfg, first_file)?;
    Ok((sources, notes))
}

/// Every `--channels` entry must have one of its alternatives (`a|b`) in
/// one of the night's files.
fn check_selected_channels(
    sources: &[Box<dyn SampleSource>],
    cfg: &Config,
    first_file: &std::path::Path,
) -> Result<()> {
    for name in &cfg.channels.select {
        let found = crate::io::select::alternatives(name).any(|alt| {
            sources.iter().any(|s| {
                s.info()
                    .channels
                    .iter()
                    .any(|c| c.name.trim().eq_ignore_ascii_case(alt))
            })
        });
        if !found {
            return Err(Error::input(
                first_file,
                format!(
                    "channel \"{name}\" given with --channels is not in this night's files; channels found: {}",
                    sources
                        .iter()
                        .flat_map(|s| s.info().channels.iter().map(|c| c.name.clone()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Refuses a night without EMG, or with EMG sampled below
/// `quality.min_emg_fs_hz`, or a file below the readers' minimum rate;
/// notes EMG sampled below [`SPECTRAL_MIN_FS_HZ`].
fn check_emg_rates(
    sources: &[Box<dyn SampleSource>],
    cfg: &Config,
    first_file: &std::path::Path,
) -> Result<Notes> {
    let mut notes = Notes::default();
    let mut any_emg = false;
    for s in sources {
        let info = s.info();
        for ch in info.channels.iter().filter(|c| c.kind == ChannelKind::Emg) {
            any_emg = true;
            if ch.fs_hz < cfg.quality.min_emg_fs_hz {
                return Err(Error::input(
                    &info.path,
                    format!(
                        "channel {}: sampled at {} Hz; leg-EMG scoring needs at least {} Hz (AASM minimum for leg EMG)",
                        ch.name, ch.fs_hz, cfg.quality.min_emg_fs_hz
                    ),
                ));
            }
            if ch.fs_hz < SPECTRAL_MIN_FS_HZ {
                notes.warnings.push(format!(
                    "{}: channel {} sampled at {} Hz: median_freq_hz is biased below {SPECTRAL_MIN_FS_HZ} Hz",
                    display(&info.path),
                    ch.name,
                    ch.fs_hz
                ));
            }
        }
        io::bounds::check_min_rate(info)?;
    }
    if !any_emg {
        return Err(Error::input(
            first_file,
            "no EMG channel: expected a column named emg_* (or with a _uv/_mv suffix), or a sidecar row with type EMG",
        ));
    }
    Ok(notes)
}

/// What stage 2 needs besides the sources.
#[derive(Clone, Copy)]
struct FirstPass<'a> {
    cfg: &'a Config,
    detector: &'a dyn Detector,
    plans: &'a PlanCache,
    keep_traces: bool,
}

/// Stage 2's hand-off: the night streamed with the night's own decisions.
struct DecidedNight {
    streamed: StreamedNight,
    /// Mains frequency left out, Hz (`None`: none).
    mains_hz: Option<u32>,
    /// `config` or `auto`.
    mains_source: &'static str,
}

/// Stage 2: streams the night once, decides the mains, and streams it
/// again when the night overturns an early guess.
///
/// Detection runs behind the reader on two early guesses: the mains
/// decision an analyzer commits to after its first minutes, and the
/// tracker's bad stretches before the night shows which extremes are
/// rails. When the whole night overturns either, it is streamed again with
/// the night's decisions, so results never depend on the shortcut. This
/// is the only place that decides whether a night runs twice.
fn stream_decided(
    input: &NightInput,
    sources: Vec<Box<dyn SampleSource>>,
    p: FirstPass,
) -> Result<DecidedNight> {
    let setting = p.cfg.mains_setting()?;
    let first_pass = Pass {
        cfg: p.cfg,
        detector: p.detector,
        plans: p.plans,
        mains: match setting {
            MainsSetting::Fixed(m) => MainsPlan::Fixed(m),
            MainsSetting::Auto => MainsPlan::Auto,
        },
        exclusions: None,
        keep_traces: p.keep_traces,
    };
    let mut streamed = stream_night(sources, first_pass)?;
    let (mains_hz, mains_source) = decide_mains(&streamed, setting, p.cfg);
    if overturned(&streamed, mains_hz) {
        let exclusions: Vec<Vec<BadStretches>> =
            streamed.files.iter().map(|f| f.excluded.clone()).collect();
        let again = Pass {
            mains: MainsPlan::Fixed(mains_hz),
            exclusions: Some(&exclusions),
            ..first_pass
        };
        streamed = stream_night(open_sources(input, p.cfg)?, again)?;
    }
    Ok(DecidedNight {
        streamed,
        mains_hz,
        mains_source,
    })
}

/// The mains frequency (Hz, `None`: none) and where it comes from:
/// configured, or decided from all EMG channels together.
fn decide_mains(
    streamed: &StreamedNight,
    setting: MainsSetting,
    cfg: &Config,
) -> (Option<u32>, &'static str) {
    let ratios: Vec<MainsRatios> = streamed
        .files
        .iter()
        .flat_map(|f| f.emg.iter().filter_map(|(_, e)| e.mains.ratios()))
        .collect();
    match setting {
        MainsSetting::Fixed(m) => (m, "config"),
        MainsSetting::Auto => (
            mains::decide(&ratios, cfg.detector.mains_detect_ratio),
            "auto",
        ),
    }
}

/// Whether the whole night overturned an early guess: bad stretches left
/// out while streaming that the end did not confirm, or an analyzer that
/// committed to another mains frequency than the night's `mains_hz`.
fn overturned(streamed: &StreamedNight, mains_hz: Option<u32>) -> bool {
    streamed.files.iter().any(|f| {
        f.exclusion_overturned()
            || f.emg
                .iter()
                .any(|(_, e)| e.analyzer.committed_mains().is_some_and(|m| m != mains_hz))
    })
}

/// An EMG channel whose detection has finished: its outcome (with the
/// groups still to classify) and the episodes classified while streaming.
struct FinishedEmg {
    name: String,
    outcome: StreamOutcome,
    episodes: Vec<(Episode, Option<LongEvidence>)>,
}

/// Stage 3's hand-off: what the files say about the night.
struct ReportedNight {
    /// Start of the night's first file that gives one.
    start_time: Option<NaiveDateTime>,
    /// Length of the longest file, s.
    duration_s: f64,
    channels: Vec<ChannelReport>,
    notes: Notes,
    /// EMG channels in the order of `channels`.
    emg: Vec<FinishedEmg>,
    accel: Option<AccelSeries>,
}

/// Stage 3: the channel reports and quality flags of every file, and each
/// EMG channel's detection finished with the night's mains decision.
fn report_channels(d: DecidedNight, cfg: &Config, notes: Notes) -> Result<ReportedNight> {
    let mut night = ReportedNight {
        start_time: None,
        duration_s: 0.0,
        channels: Vec::new(),
        notes,
        emg: Vec::new(),
        accel: d.streamed.accel,
    };
    let mut part_lengths: Vec<(String, f64)> = Vec::new();
    for f in d.streamed.files {
        let info = &f.info;
        check_emg_samples(info, f.frames, cfg)?;
        let length_s = f.frames as f64 / info.fs_hz;
        night.duration_s = night.duration_s.max(length_s);
        part_lengths.push((file_name(&info.path), length_s));
        night.note_start(info);
        night.notes.note_reader_warnings(info);
        night.add_channels(f, d.mains_hz, cfg);
    }
    let notes = &mut night.notes;
    flag_part_lengths(&part_lengths, &mut notes.quality, &mut notes.warnings);
    Ok(night)
}

impl ReportedNight {
    /// Takes the night's start from the first file that gives one; flags
    /// (`<file>:start_differs`) a later file that starts more than 1 s
    /// away from it.
    fn note_start(&mut self, info: &RecordingInfo) {
        match (self.start_time, info.start_time) {
            (None, Some(t)) => self.start_time = Some(t),
            (Some(a), Some(b)) if (b - a).num_milliseconds().abs() > 1000 => {
                self.notes.warnings.push(format!(
                    "{}: starts at {b}, not {a} like the night's first file; files are analysed as if aligned",
                    display(&info.path)
                ));
                // Results depend on it: the parts' episodes are paired as if aligned.
                self.notes
                    .flag_once(format!("{}:start_differs", file_name(&info.path)));
            }
            _ => {}
        }
    }

    /// Reports every channel of a streamed file: its quality flags, and for
    /// EMG the mains ratios, band, baseline and resting-EMG findings.
    fn add_channels(&mut self, f: StreamedFile, mains_hz: Option<u32>, cfg: &Config) {
        let info = &f.info;
        let mut emg_by_channel: Vec<Option<EmgLane>> =
            (0..info.channels.len()).map(|_| None).collect();
        for (c, e) in f.emg {
            emg_by_channel[c] = Some(e);
        }
        for (((ch, q), bad), emg) in info
            .channels
            .iter()
            .zip(f.qualities)
            .zip(f.excluded)
            .zip(emg_by_channel)
        {
            self.notes.quality.extend(q.flags(&ch.name));
            let mut report = ChannelReport {
                name: ch.name.clone(),
                kind: ch.kind,
                file: display(&info.path),
                source_unit: ch.source_unit.clone(),
                unit: ch.kind.unit().to_string(),
                fs_hz: ch.fs_hz,
                quality: q,
                band_hz: None,
                baseline_median_uv: None,
                mains_ratio_50: None,
                mains_ratio_60: None,
                mains_segments_used: None,
                mains_segments: None,
                rest: None,
            };
            if let Some(e) = emg {
                let finished = finish_emg(&mut report, e, &bad, mains_hz);
                for f in quality_checks::emg_findings(
                    &ch.name,
                    &ch.source_unit,
                    ch.fs_hz,
                    &report.quality,
                    report.rest.as_ref(),
                    cfg,
                ) {
                    self.notes.quality.push(f.flag);
                    self.notes.warnings.push(f.warning);
                }
                self.emg.push(finished);
            }
            self.channels.push(report);
        }
    }
}

/// Finishes an EMG channel's detection with the night's mains and bad
/// stretches, and fills in its report's mains ratios, band, baseline and
/// resting-EMG figures.
fn finish_emg(
    report: &mut ChannelReport,
    e: EmgLane,
    bad: &[(u64, u64)],
    mains_hz: Option<u32>,
) -> FinishedEmg {
    if let Some(r) = e.mains.ratios() {
        report.mains_ratio_50 = Some(round(r.r50, 2));
        report.mains_ratio_60 = Some(round(r.r60, 2));
        report.mains_segments_used = Some(r.segments_used);
        report.mains_segments = Some(r.segments);
    }
    let outcome = e.stream.finish(e.analyzer.finish(mains_hz), bad);
    report.band_hz = Some(outcome.band_hz);
    report.baseline_median_uv = outcome.baseline_median_uv.map(|v| round(v as f64, 3));
    report.rest = Some(outcome.rest.figures(outcome.hop_s));
    FinishedEmg {
        name: report.name.clone(),
        outcome,
        episodes: e.episodes,
    }
}

impl Notes {
    /// Lists a file's reader warnings (at most [`MAX_WARNINGS_PER_FILE`],
    /// then a line counting the rest) and flags the ones that change what
    /// the numbers mean (`<file>:gaps`, ...).
    fn note_reader_warnings(&mut self, info: &RecordingInfo) {
        for (k, w) in info.warnings.iter().enumerate() {
            if k < MAX_WARNINGS_PER_FILE {
                self.warnings.push(format!("{}: {w}", display(&info.path)));
            } else if k == MAX_WARNINGS_PER_FILE {
                let rest = info.warnings.len() - MAX_WARNINGS_PER_FILE;
                self.warnings.push(format!(
                    "{}: {rest} more warnings not listed",
                    display(&info.path)
                ));
                // The line above stands for one of them.
                self.n_unlisted += rest - 1;
            }
            if let Some(flag) = reader_flag(w) {
                self.flag_once(format!("{}:{flag}", file_name(&info.path)));
            }
        }
    }
}

/// The quality flag a reader warning raises, if any.
fn reader_flag(warning: &str) -> Option<&'static str> {
    if warning.starts_with("time column") {
        Some("irregular_time")
    } else if warning.starts_with("gap of") {
        Some("gaps")
    } else if warning.starts_with("the data chunk declares") {
        Some("ended_early")
    } else if warning.ends_with("no time-keeping annotation; assumed contiguous") {
        Some("assumed_contiguous")
    } else {
        None
    }
}

/// Stage 4's hand-off: the night's episodes in onset order (then by
/// channel), `evidence[i]` gathered for `episodes[i]` when it is long.
struct Classified {
    episodes: Vec<Episode>,
    evidence: Vec<Option<LongEvidence>>,
}

/// Stage 4: classifies the groups each EMG channel still held at the end
/// of the night, and gathers every channel's episodes in onset order.
fn classify_rest(emg: &mut [FinishedEmg], accel: Option<&AccelSeries>, cfg: &Config) -> Classified {
    let mut all: Vec<(Episode, Option<LongEvidence>)> = Vec::new();
    for e in emg.iter_mut() {
        let rest = std::mem::take(&mut e.outcome.groups);
        classify_groups(&e.name, rest, accel, cfg, &mut e.episodes);
        all.append(&mut e.episodes);
    }
    all.sort_by(|(a, _), (b, _)| {
        a.start_s
            .total_cmp(&b.start_s)
            .then_with(|| a.channel.cmp(&b.channel))
    });
    let (episodes, evidence) = all.into_iter().unzip();
    Classified { episodes, evidence }
}

impl Classified {
    /// Stage 5: settles the night's long activity ([`longact::settle`]):
    /// what imitates a cramp becomes a body movement or sustained activity.
    fn settle(self, cfg: &Config) -> Vec<Episode> {
        let mut episodes = self.episodes;
        longact::settle(&mut episodes, &self.evidence, &cfg.cramp);
        episodes
    }
}

/// Stage 6's hand-off: the night's leg-movement scoring and what it used.
struct Scored {
    /// Time with valid EMG windows (the longest channel's), s.
    analyzed_s: f64,
    lm: LmFigures,
    hypnogram: Option<Hypnogram>,
    scoring: Option<Scoring>,
    /// Whether the scoring gave arousals.
    has_arousals: bool,
}

/// Stage 6: scores the leg movements (PLM series) with the night's
/// hypnogram, arousals and respiratory events, and marks each episode's
/// sleep stage.
fn score_night(
    episodes: &mut [Episode],
    night: &mut ReportedNight,
    opts: &NightOptions,
    cfg: &Config,
) -> Result<Scored> {
    let analyzed_s = night
        .emg
        .iter()
        .map(|e| e.outcome.valid_windows as f64 * e.outcome.hop_s)
        .fold(0.0, f64::max)
        .min(night.duration_s);
    let (hypnogram, scoring) = night_scorings(opts, night.start_time, night.duration_s)?;
    let apneas = scoring.as_ref().map(|s| s.apneas_hypopneas());
    let arousals = scoring.as_ref().map(|s| s.arousals());
    let ctx = plm::LmContext {
        apneas: apneas.as_deref(),
        arousals: arousals.as_deref(),
        hypnogram: hypnogram.as_ref(),
    };
    let params = cfg.plm_params()?;
    if !params.wake_lms_scored && hypnogram.is_none() {
        night.notes.warnings.push(format!(
            "rules {}: no hypnogram, so LMs in wake could not be left out",
            params.rules.as_str()
        ));
    }
    let lm = plm::score_in(episodes, &params, &ctx);
    if let Some(h) = &hypnogram {
        crate::score::context::mark_episodes(episodes, h);
    }
    Ok(Scored {
        analyzed_s,
        lm,
        hypnogram,
        scoring,
        has_arousals: arousals.is_some(),
    })
}

/// Stage 7: the night's figures for `nights.csv`, per analysed hour and,
/// with a hypnogram, per hour of sleep inside the recording.
fn summarise(episodes: &[Episode], s: &Scored, duration_s: f64) -> NightSummary {
    let analyzed_h = s.analyzed_s / 3600.0;
    let per_h = |n: usize| {
        if analyzed_h > 0.0 {
            n as f64 / analyzed_h
        } else {
            0.0
        }
    };
    let count = |k: EpisodeKind| episodes.iter().filter(|e| e.kind == k).count();
    let cramps: Vec<&Episode> = episodes
        .iter()
        .filter(|e| e.kind == EpisodeKind::Cramp)
        .collect();
    let lm = &s.lm;
    let mut summary = NightSummary {
        duration_h: duration_s / 3600.0,
        analyzed_h,
        n_cramps: cramps.len(),
        cramps_per_h: per_h(cramps.len()),
        cramp_total_s: cramps.iter().map(|e| e.duration_s()).sum(),
        cramp_longest_s: cramps.iter().map(|e| e.duration_s()).fold(0.0, f64::max),
        n_lm: lm.n_lm,
        lm_index: per_h(lm.n_lm),
        n_plm: lm.n_plm,
        plm_index: per_h(lm.n_plm),
        n_sustained: count(EpisodeKind::Sustained),
        n_movement: count(EpisodeKind::Movement),
        rules: lm.rules.clone(),
        periodicity_index: lm.periodicity_index,
        sleep_h: None,
        lms_index: None,
        plms_index: None,
        hypnogram: None,
        n_lm_resp: lm.n_lm_resp,
        context: crate::score::context::stage_figures(
            lm,
            s.hypnogram.as_ref(),
            s.has_arousals,
            duration_s,
        )
        .into(),
        scoring: s.scoring.as_ref().map(|s| display(&s.path)),
        cramp_wake_min: None,
        n_cramp_awakenings: None,
    };
    if let Some(h) = &s.hypnogram {
        // Sleep counted inside the recording only.
        let sleep_h = h.sleep_s(duration_s) / 3600.0;
        let (n_lms, n_plms) = plm::count_where(lm, |t| h.asleep(t));
        let per_sleep_h = |n: usize| (sleep_h > 0.0).then(|| n as f64 / sleep_h);
        summary.sleep_h = Some(sleep_h);
        summary.lms_index = per_sleep_h(n_lms);
        summary.plms_index = per_sleep_h(n_plms);
        summary.hypnogram = Some(display(&h.path));
        let (wake_min, woke) = crate::score::context::cramp_wake(episodes, h);
        summary.cramp_wake_min = Some(wake_min);
        summary.n_cramp_awakenings = Some(woke);
    }
    summary
}

/// The per-window series of every EMG channel and the accelerometer, for
/// the figures.
fn night_traces(emg: Vec<FinishedEmg>, accel: Option<AccelSeries>) -> NightTraces {
    NightTraces {
        emg: emg
            .into_iter()
            .map(|e| {
                let s = e.outcome;
                let (activity_uv, baseline_uv) = s.trace.unwrap_or_default();
                EmgTrace {
                    channel: e.name,
                    hop_s: s.hop_s,
                    first_center_s: s.first_center_s,
                    activity_uv,
                    baseline_uv,
                }
            })
            .collect(),
        accel,
    }
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect;

    /// 15 minutes at 1 kHz: 3 µV of noise, 2 s leg movements (an 80 Hz
    /// burst of 40 µV RMS) at 100, 400 and 700 s, and 30 µV of 50 Hz hum
    /// that starts only at 330 s, after an `auto` analyzer has committed to
    /// "no mains" from the first 300 s.
    fn write_hum_after_commit(path: &std::path::Path) {
        use std::f64::consts::PI;
        use std::io::Write;
        let fs = 1000.0;
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        writeln!(out, "time_s,emg_l_uv").unwrap();
        let mut state = 99u64;
        for i in 0..900_000u64 {
            let t = i as f64 / fs;
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 3.0 * 12f64.sqrt();
            let hum = if t >= 330.0 {
                30.0 * (2.0 * PI * 50.0 * t).sin()
            } else {
                0.0
            };
            let lm = if [100.0, 400.0, 700.0]
                .iter()
                .any(|&a| (a..a + 2.0).contains(&t))
            {
                40.0 * 2f64.sqrt() * (2.0 * PI * 80.0 * t).sin()
            } else {
                0.0
            };
            writeln!(out, "{t:.3},{:.3}", noise + hum + lm).unwrap();
        }
    }

    #[test]
    fn an_early_mains_commitment_the_night_overturns_is_analysed_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hum.csv");
        write_hum_after_commit(&path);
        let input = NightInput {
            id: "hum".into(),
            files: vec![path.clone()],
        };
        let plans = PlanCache::new();
        let auto = Config::default();
        let detector = detect::from_config(&auto, &plans).unwrap();
        // The analyzer alone commits to "no mains" after 300 s.
        let mut src = io::open(&path, &auto).unwrap().remove(0);
        let mut a = detector.analyzer(1000.0, MainsPlan::Auto).unwrap();
        let mut block = Block::new(2, BLOCK_FRAMES);
        let emg = src
            .info()
            .channels
            .iter()
            .position(|c| c.kind == ChannelKind::Emg)
            .unwrap();
        while a.committed_mains().is_none() {
            src.read_block(&mut block).unwrap();
            a.push(block.channel(emg));
        }
        assert_eq!(a.committed_mains(), Some(None));
        // The night finds 50 Hz and matches a scan told so in advance.
        let r = process_night(&input, &auto, detector.as_ref(), &plans).unwrap();
        assert_eq!((r.mains_hz, r.mains_source.as_str()), (Some(50), "auto"));
        let mut fixed = Config::default();
        fixed.detector.mains = "50".into();
        let f = process_night(&input, &fixed, detector.as_ref(), &plans).unwrap();
        assert_eq!(r.episodes, f.episodes);
        let starts: Vec<f64> = r.episodes.iter().map(|e| e.start_s.round()).collect();
        assert_eq!(starts, [100.0, 400.0, 700.0]);
    }

    /// Two minutes at 1 kHz of 3 µV noise on 0.01 µV steps: a run of three
    /// equal samples at the highest value so far at 10 s, and one larger
    /// sample at 100 s. While streaming, the tracker keeps the early run as
    /// a possible rail and detection leaves its windows out; at the end the
    /// channel has no rails, so the night is streamed again and every
    /// window counts.
    fn write_false_rail(path: &std::path::Path) {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        writeln!(out, "time_s,emg_l_uv").unwrap();
        let mut state = 5u64;
        for i in 0..120_000u64 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let noise = (u * 3.0 * 12f64.sqrt() * 100.0).round() / 100.0;
            let v = match i {
                10_000..=10_002 => 20.0,
                100_000 => 40.0,
                _ => noise,
            };
            writeln!(out, "{:.3},{v:.2}", i as f64 / 1000.0).unwrap();
        }
    }

    #[test]
    fn a_rail_the_night_overturns_is_analysed_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rail.csv");
        write_false_rail(&path);
        // Fixed mains: windows are final at once, so detection runs ahead.
        let mut cfg = Config::default();
        cfg.detector.mains = "50".into();
        let plans = PlanCache::new();
        let detector = detect::from_config(&cfg, &plans).unwrap();
        // The tracker alone keeps the early run while streaming, and drops
        // it at the end.
        let mut src = io::open(&path, &cfg).unwrap().remove(0);
        let mut q = QualityTracker::new(1000.0, &cfg.quality);
        let mut block = Block::new(1, BLOCK_FRAMES);
        loop {
            src.read_block(&mut block).unwrap();
            if block.len == 0 {
                break;
            }
            q.push(block.channel(0));
        }
        assert_eq!(q.kept_runs(), [(10_000, 3, 20.0)]);
        let (quality, spans, exact) = q.finish_checked();
        assert_eq!((quality.excluded_s, spans.len(), exact), (0.0, 0, false));
        // The night leaves nothing out: all (120 000 - 250) / 100 + 1 windows.
        let input = NightInput {
            id: "rail".into(),
            files: vec![path],
        };
        let r = process_night(&input, &cfg, detector.as_ref(), &plans).unwrap();
        assert!((r.analyzed_s - 119.8).abs() < 1e-9, "{}", r.analyzed_s);
    }

    /// A 1.2-hour night with cramps, build-ups, leg movements and body
    /// movements on both legs, at 256 Hz with 60 Hz hum decided
    /// automatically.
    fn busy_night(dir: &std::path::Path) -> NightInput {
        use crate::simulate::{simulate, Difficulty, Format, Realism, SimOptions};
        let mut o = SimOptions::with_difficulty(Difficulty::Easy);
        o.out_dir = dir.to_path_buf();
        o.nights = 1;
        o.hours = 1.2;
        o.seed = 11;
        o.format = Format::Wav;
        o.emg_fs_hz = 256.0;
        o.mains_hz = Some(60.0);
        o.cramps_per_h = 4.0;
        o.realism = Realism {
            body_movements_per_h: 5.0,
            buildup_fraction: 1.0,
            ..Realism::preset(Difficulty::Easy)
        };
        simulate(&o).unwrap();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| crate::io::is_recording(p))
            .collect();
        files.sort();
        NightInput {
            id: "night01".into(),
            files,
        }
    }

    #[test]
    fn accelerometer_values_dropped_while_streaming_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let input = busy_night(dir.path());
        let cfg = Config::default();
        let plans = PlanCache::new();
        let detector = detect::from_config(&cfg, &plans).unwrap();
        // Streamed without traces, the night keeps only the accelerometer
        // values that episodes still to come could need.
        let pass = Pass {
            cfg: &cfg,
            detector: detector.as_ref(),
            plans: &plans,
            mains: MainsPlan::Auto,
            exclusions: None,
            keep_traces: false,
        };
        let kept = |keep_traces| {
            let night = stream_night(
                open_sources(&input, &cfg).unwrap(),
                Pass {
                    keep_traces,
                    ..pass
                },
            );
            let a = night.unwrap().accel.unwrap();
            (a.first_index, a.enmo_g.len())
        };
        let (dropped, held) = kept(false);
        assert!(
            dropped as f64 * 0.1 > 3000.0,
            "dropped {dropped}, held {held}"
        );
        assert_eq!(kept(true), (0, 43_200));
        // The night's results are those of a scan that keeps them all.
        let lean = process_night(&input, &cfg, detector.as_ref(), &plans).unwrap();
        let opts = NightOptions {
            keep_traces: true,
            ..NightOptions::default()
        };
        let full = process_night_with(&input, &cfg, detector.as_ref(), &plans, opts).unwrap();
        assert_eq!(lean.episodes, full.episodes);
        let kinds = |k| lean.episodes.iter().filter(|e| e.kind == k).count();
        assert!(
            kinds(EpisodeKind::Cramp) >= 3,
            "{}",
            kinds(EpisodeKind::Cramp)
        );
        assert!(
            kinds(EpisodeKind::Movement) >= 4,
            "{}",
            kinds(EpisodeKind::Movement)
        );
        assert!(lean
            .episodes
            .iter()
            .any(|e| e.buildup_s.is_some_and(|b| b > 0.0)));
    }
}
