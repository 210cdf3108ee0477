//! Figures and the HTML report, drawn from a scan's saved results
//! (`OUT/nights/<night>.json`, the per-window features in
//! `OUT/nights/<night>.traces.bin` that `scan --plots` writes, `run.json`,
//! `errors.csv`) and, for the close-ups, the recordings themselves.
//!
//! Writes `OUT/report/index.html`, `OUT/report/<night>.html` and
//! `OUT/report/figures/<night>/{overview,episode-NNN}.{svg,png}`.

pub mod closeup;
pub mod figures;
pub mod html;
pub mod traces;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::Config;
use crate::dsp::PlanCache;
use crate::error::{Error, Result};
use crate::export::json::read_night_json;
use crate::export::{write_atomic, Layout};
use crate::score::EpisodeKind;
use crate::summary::{NightDocument, NightError};

use figures::{CloseupFigure, Overview, Thresholds, CLOSEUP_PAD_S};

/// Episode kinds that get a close-up unless asked otherwise.
pub const DEFAULT_CLOSEUP_KINDS: &[EpisodeKind] = &[EpisodeKind::Cramp];

/// What `crampscan report` (or `scan --plots`) draws.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The scan output folder.
    pub out_dir: PathBuf,
    /// Kinds of episode that get a close-up figure.
    pub closeup_kinds: Vec<EpisodeKind>,
    /// The folder that relative recording paths in the night documents are
    /// resolved against; `None`: the scan's working folder from `run.json`
    /// (or the current folder, for outputs that do not record it).
    pub recordings_dir: Option<PathBuf>,
}

impl ReportOptions {
    pub fn new(out_dir: &Path) -> ReportOptions {
        ReportOptions {
            out_dir: out_dir.to_path_buf(),
            closeup_kinds: DEFAULT_CLOSEUP_KINDS.to_vec(),
            recordings_dir: None,
        }
    }
}

/// Figures made for one night, as paths relative to `OUT/report/`.
#[derive(Debug, Clone, Default)]
pub struct NightFigures {
    /// `(svg, png)` of the overview.
    pub overview: Option<(String, String)>,
    /// Per close-up: the episode's index in the night's list and `(svg, png)`.
    pub closeups: Vec<(usize, String, String)>,
    /// Why a figure is missing.
    pub notes: Vec<String>,
    /// Why the close-ups asked for could not be drawn (a recording not
    /// found or not readable): the report says so and exits non-zero.
    pub closeup_failure: Option<String>,
}

/// What a report run produced.
#[derive(Debug, Clone)]
pub struct ReportSummary {
    pub n_nights: usize,
    pub n_figures: usize,
    pub index: PathBuf,
    /// Nights whose close-ups could not be drawn, with why (night order).
    pub closeup_failures: Vec<(String, String)>,
}

/// Where relative recording paths are looked for, and how that was chosen
/// (for messages).
struct RecordingRoot {
    dir: PathBuf,
    from: &'static str,
}

fn recording_root(opts: &ReportOptions, run: &serde_json::Value) -> RecordingRoot {
    if let Some(d) = &opts.recordings_dir {
        return RecordingRoot {
            dir: d.clone(),
            from: "given with --recordings",
        };
    }
    match run.get("working_dir").and_then(|v| v.as_str()) {
        Some(d) => RecordingRoot {
            dir: PathBuf::from(d),
            from: "the scan's working folder, from run.json",
        },
        None => RecordingRoot {
            dir: PathBuf::from("."),
            from: "the current folder; run.json does not record the scan's",
        },
    }
}

/// A night's recordings as paths to open: absolute ones as recorded,
/// relative ones under `root`. Err names the first one that is not a file.
fn resolve_sources(
    sources: &[String],
    root: &RecordingRoot,
) -> std::result::Result<Vec<PathBuf>, String> {
    let mut out = Vec::with_capacity(sources.len());
    for s in sources {
        let p = Path::new(s);
        let path = if p.is_absolute() {
            p.to_path_buf()
        } else {
            root.dir.join(p)
        };
        if !path.is_file() {
            return Err(if p.is_absolute() {
                format!("recording {} not found", path.display())
            } else {
                format!(
                    "recording {s} not found under {} ({}); give the folder the scan ran in with --recordings DIR",
                    root.dir.display(),
                    root.from
                )
            });
        }
        out.push(path);
    }
    Ok(out)
}

fn read_run_json(path: &Path) -> Result<serde_json::Value> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::input(
            path,
            format!(
                "line {}, column {}: {e}; expected a file written by crampscan scan",
                e.line(),
                e.column()
            ),
        )
    })
}

/// The night documents of a scan output folder, in file-name order.
pub fn load_nights(out_dir: &Path) -> Result<Vec<NightDocument>> {
    let paths = Layout::new(out_dir).night_documents()?;
    paths.iter().map(|p| read_night_json(p)).collect()
}

fn load_errors(out_dir: &Path) -> Result<Vec<NightError>> {
    let path = Layout::new(out_dir).errors_csv();
    if !path.exists() {
        return Ok(Vec::new());
    }
    crate::export::tables::read_errors_csv(&path)
}

fn thresholds(cfg: &Config) -> Thresholds {
    let d = &cfg.detector;
    if d.threshold_mode == "relative" {
        Thresholds {
            relative: true,
            onset: d.onset_ratio,
            offset: d.offset_ratio,
        }
    } else {
        Thresholds {
            relative: false,
            onset: d.onset_above_uv,
            offset: d.offset_below_uv,
        }
    }
}

/// Folder of a night's figures, relative to `OUT/report/`.
fn figure_dir(night: &str) -> String {
    format!("figures/{night}")
}

fn write_figure(report_dir: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    write_atomic(&report_dir.join(rel), bytes)
}

fn plot_err(path: &Path, msg: String) -> Error {
    Error::output(path, std::io::Error::other(msg))
}

/// The overview and close-ups of one night.
fn night_figures(
    doc: &NightDocument,
    opts: &ReportOptions,
    root: &RecordingRoot,
    report_dir: &Path,
    plans: &PlanCache,
) -> Result<NightFigures> {
    let (n, config) = (&doc.night, &doc.config);
    let mut figs = NightFigures::default();
    let dir = figure_dir(&n.night);
    std::fs::create_dir_all(report_dir.join(&dir))
        .map_err(|e| Error::output(&report_dir.join(&dir), e))?;
    let tpath = traces::path(&opts.out_dir, &n.night);
    let mut overview = None;
    // A damaged or foreign trace file costs this night its overview, with
    // a note saying why, not the report.
    let tr = match tpath.exists().then(|| traces::read(&tpath, &n.night)) {
        Some(Ok(tr)) => Some(tr),
        Some(Err(e)) => {
            figs.notes.push(format!("No overview: {e}"));
            None
        }
        None => {
            figs.notes.push(format!(
                "No overview: {} is missing (run crampscan scan with --plots).",
                tpath.display()
            ));
            None
        }
    };
    if let Some(tr) = tr {
        let ov = Overview {
            night: &n.night,
            start_time: n.start_time,
            duration_s: n.duration_s,
            traces: &tr,
            episodes: &n.episodes,
            movements: &n.leg_movements.movements,
            thresholds: thresholds(config),
        };
        let svg_rel = format!("{dir}/overview.svg");
        let png_rel = format!("{dir}/overview.png");
        let (svg, png) = rayon::join(|| figures::overview_svg(&ov), || figures::overview_png(&ov));
        let (svg, _) = svg.map_err(|m| plot_err(&report_dir.join(&svg_rel), m))?;
        let png = png.map_err(|m| plot_err(&report_dir.join(&png_rel), m))?;
        write_figure(report_dir, &svg_rel, svg.as_bytes())?;
        write_figure(report_dir, &png_rel, &png)?;
        overview = Some((svg_rel, png_rel));
    }
    figs.overview = overview;

    let chosen: Vec<usize> = n
        .episodes
        .iter()
        .enumerate()
        .filter(|(_, e)| opts.closeup_kinds.contains(&e.kind))
        .map(|(i, _)| i)
        .collect();
    if chosen.is_empty() {
        return Ok(figs);
    }
    let requests: Vec<closeup::Request> = chosen
        .iter()
        .map(|&i| {
            let e = &n.episodes[i];
            closeup::Request {
                channel: e.channel.clone(),
                t0_s: (e.start_s - CLOSEUP_PAD_S).max(0.0),
                t1_s: (e.end_s + CLOSEUP_PAD_S).min(n.duration_s.max(e.end_s)),
            }
        })
        .collect();
    let read = resolve_sources(&n.sources, root).and_then(|sources| {
        closeup::read_closeups(&sources, config, &requests)
            .map_err(|e| format!("the recording could not be read again: {e}"))
    });
    let data = match read {
        Ok(d) => d,
        Err(why) => {
            figs.notes.push(format!("No close-ups: {why}"));
            figs.closeup_failure = Some(why);
            return Ok(figs);
        }
    };
    let made: Vec<Result<Option<(usize, String, String)>>> = chosen
        .par_iter()
        .zip(data.par_iter())
        .map(|(&i, d)| {
            if d.emg_fs_hz <= 0.0 || d.emg_uv.is_empty() {
                return Ok(None);
            }
            let sp = closeup::spectrogram(&d.emg_uv, d.emg_fs_hz, d.emg_t0_s, plans);
            let f = CloseupFigure {
                night: &n.night,
                start_time: n.start_time,
                episode: &n.episodes[i],
                number: i + 1,
                data: d,
                spectrogram: &sp,
            };
            let svg_rel = format!("{dir}/episode-{:03}.svg", i + 1);
            let png_rel = format!("{dir}/episode-{:03}.png", i + 1);
            let (svg, png) = rayon::join(|| figures::closeup_svg(&f), || figures::closeup_png(&f));
            let svg = svg.map_err(|m| plot_err(&report_dir.join(&svg_rel), m))?;
            let png = png.map_err(|m| plot_err(&report_dir.join(&png_rel), m))?;
            write_figure(report_dir, &svg_rel, svg.as_bytes())?;
            write_figure(report_dir, &png_rel, &png)?;
            Ok(Some((i, svg_rel, png_rel)))
        })
        .collect();
    for (m, &i) in made.into_iter().zip(&chosen) {
        match m? {
            Some(c) => figs.closeups.push(c),
            None => figs.notes.push(format!(
                "No close-up for episode {}: channel {} was not found in the recording.",
                i + 1,
                n.episodes[i].channel
            )),
        }
    }
    Ok(figs)
}

/// Draws every night's figures (nights and figures in parallel on the
/// current rayon pool) and writes the HTML pages.
pub fn write_report(opts: &ReportOptions) -> Result<ReportSummary> {
    figures::ensure_font();
    let out = &opts.out_dir;
    let layout = Layout::new(out);
    let run_path = layout.run_json();
    let run = read_run_json(&run_path)?;
    let nights = load_nights(out)?;
    let errors = load_errors(out)?;
    let report_dir = layout.report_dir();
    std::fs::create_dir_all(&report_dir).map_err(|e| Error::output(&report_dir, e))?;
    let plans = PlanCache::new();
    let root = recording_root(opts, &run);
    let figs: Vec<NightFigures> = nights
        .par_iter()
        .map(|n| night_figures(n, opts, &root, &report_dir, &plans))
        .collect::<Result<_>>()?;
    for (n, f) in nights.iter().zip(&figs) {
        write_atomic(
            &report_dir.join(html::night_file(&n.night.night)),
            html::night_page(n, f).as_bytes(),
        )?;
    }
    let index = report_dir.join("index.html");
    write_atomic(
        &index,
        html::index_page(&run, &nights, &figs, &errors).as_bytes(),
    )?;
    Ok(ReportSummary {
        n_nights: nights.len(),
        n_figures: figs
            .iter()
            .map(|f| 2 * (f.closeups.len() + usize::from(f.overview.is_some())))
            .sum(),
        index,
        closeup_failures: nights
            .iter()
            .zip(&figs)
            .filter_map(|(n, f)| Some((n.night.night.clone(), f.closeup_failure.clone()?)))
            .collect(),
    })
}
