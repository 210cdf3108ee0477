//! The figures: a night's overview (band-RMS envelope per EMG channel with
//! baseline, thresholds and shaded episodes, ENMO underneath) and an
//! episode's close-up (raw EMG, its spectrogram, the accelerometer), drawn
//! with plotters to SVG and PNG.
//!
//! Text is laid out with a font embedded in the binary (a subset of DejaVu
//! Sans, `src/report/fonts/`), so no system fonts or fontconfig are needed.

use std::sync::Once;

use chrono::{NaiveDateTime, Timelike};
use plotters::coord::ranged1d::{AsRangedCoord, DefaultFormatting, KeyPointHint, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

mod closeup;
mod raster;

pub use closeup::{closeup_height_px, colour_bar_ticks, draw_closeup, CloseupFigure};
pub use raster::{layout_text, Raster};

use super::closeup::{Closeup, Spectrogram};
use crate::dsp::enmo::AccelSeries;
use crate::night::{EmgTrace, NightTraces};
use crate::score::plm::Movement;
use crate::score::{Episode, EpisodeKind};

/// DejaVu Sans, subset to Latin-1 and a few symbols by `scripts/subset_font.sh`.
pub(crate) static FONT_TTF: &[u8] = include_bytes!("fonts/DejaVuSans-subset.ttf");
/// The family name every figure asks for.
pub const FONT: &str = "sans-serif";

/// Overview width, px: about one pixel column per 20 s of an 8-hour night.
pub const OVERVIEW_WIDTH_PX: u32 = 1400;
/// Height of one EMG panel of the overview, px.
pub const EMG_PANEL_HEIGHT_PX: u32 = 220;
/// Height of the ENMO panel, px.
pub const ENMO_PANEL_HEIGHT_PX: u32 = 140;
/// Title and legend strip, px.
pub const HEADER_HEIGHT_PX: u32 = 56;
/// Close-up width, px.
pub const CLOSEUP_WIDTH_PX: u32 = 1200;
/// Close-up panel heights (raw EMG, spectrogram, accelerometer), px.
pub const CLOSEUP_PANEL_HEIGHT_PX: u32 = 200;
/// Width of the y label area, px (the same for every panel, so that the
/// panels share their x mapping).
pub const Y_LABEL_AREA_PX: u32 = 92;
/// Left margin of every panel, px: the rotated y-axis titles hang from
/// its edge (their glyph tops at the text box's top, as in the SVG).
pub const LEFT_MARGIN_PX: u32 = 6;
/// Right margin of the overview panels, px: room for half of the last
/// time label (`00:00` at size 12 is about 30 px wide).
pub const RIGHT_MARGIN_PX: u32 = 24;
/// Height of the PLM strip, as a fraction of the panel's (log) y range.
pub const PLM_STRIP_FRACTION: f64 = 0.04;
/// Right margin of the close-up panels, px: room for the spectrogram's
/// colour bar and its dB labels.
pub const CLOSEUP_RIGHT_MARGIN_PX: u32 = 84;
/// Colour bar: gap after the plot area and width, px.
pub const COLOUR_BAR_GAP_PX: i32 = 12;
pub const COLOUR_BAR_WIDTH_PX: i32 = 14;
/// Opacity of the episode shading.
pub const EPISODE_OPACITY: f64 = 0.3;
/// Seconds shown before and after an episode in its close-up.
pub const CLOSEUP_PAD_S: f64 = 30.0;

/// Episode shading colours: cramp red, LM blue, sustained orange (the
/// matplotlib "tab10" colours, distinguishable for common colour-vision
/// deficiencies when paired with the legend).
pub const CRAMP_RGB: RGBColor = RGBColor(0xD6, 0x27, 0x28);
pub const LM_RGB: RGBColor = RGBColor(0x1F, 0x77, 0xB4);
pub const SUSTAINED_RGB: RGBColor = RGBColor(0xFF, 0x7F, 0x0E);
/// Body movements (both legs, with accelerometer movement).
pub const MOVEMENT_RGB: RGBColor = RGBColor(0x8C, 0x56, 0x4B);
/// PLM series marks.
pub const PLM_RGB: RGBColor = RGBColor(0x94, 0x67, 0xBD);
const TRACE_RGB: RGBColor = RGBColor(0x30, 0x30, 0x30);
const BASELINE_RGB: RGBColor = RGBColor(0x2C, 0xA0, 0x2C);
const ONSET_RGB: RGBColor = RGBColor(0xBC, 0xBD, 0x22);
const OFFSET_RGB: RGBColor = RGBColor(0x17, 0xBE, 0xCF);
const GRID_RGB: RGBColor = RGBColor(0xE6, 0xE6, 0xE6);

/// The shading colour of an episode kind.
pub fn kind_rgb(kind: EpisodeKind) -> RGBColor {
    match kind {
        EpisodeKind::Cramp => CRAMP_RGB,
        EpisodeKind::Lm => LM_RGB,
        EpisodeKind::Sustained => SUSTAINED_RGB,
        EpisodeKind::Movement => MOVEMENT_RGB,
    }
}

/// Registers the embedded font with plotters (once per process).
pub fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FONT, FontStyle::Normal, FONT_TTF).is_err() {
            // The font is compiled in and checked by a test; this cannot
            // happen short of a corrupted build.
            eprintln!("crampscan: the embedded font could not be loaded");
        }
    });
}

type Fig<T> = std::result::Result<T, String>;

fn pe<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// The hysteresis thresholds as drawn: absolute (µV above resting) or
/// relative (multiples of resting).
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub relative: bool,
    pub onset: f64,
    pub offset: f64,
}

impl Thresholds {
    fn onset_uv(&self, baseline_uv: f64) -> f64 {
        if self.relative {
            baseline_uv * self.onset
        } else {
            baseline_uv + self.onset
        }
    }
    fn offset_uv(&self, baseline_uv: f64) -> f64 {
        if self.relative {
            baseline_uv * self.offset
        } else {
            baseline_uv + self.offset
        }
    }
}

/// What the overview of one night shows.
pub struct Overview<'a> {
    pub night: &'a str,
    pub start_time: Option<NaiveDateTime>,
    pub duration_s: f64,
    pub traces: &'a NightTraces,
    pub episodes: &'a [Episode],
    pub movements: &'a [Movement],
    pub thresholds: Thresholds,
}

/// Where the overview put things, in pixels of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct OverviewLayout {
    /// Plot area columns `[start, end)` shared by every panel; plotters maps
    /// the x range onto `start ..= end - 1`.
    pub plot_x_px: (i32, i32),
    /// Time range of the x axis, s from the recording start.
    pub x_range_s: (f64, f64),
    /// Per EMG channel: its name and the plot area rows `[start, end)`.
    pub emg_panels: Vec<(String, (i32, i32))>,
}

impl OverviewLayout {
    /// The pixel column of time `t_s`, as plotters maps it.
    pub fn x_px(&self, t_s: f64) -> i32 {
        let (x0, x1) = (self.plot_x_px.0, self.plot_x_px.1 - 1);
        let f = (t_s - self.x_range_s.0) / (self.x_range_s.1 - self.x_range_s.0);
        x0 + ((x1 - x0) as f64 * f + 1e-3).floor() as i32
    }
}

/// A linear time axis (s from the recording start) whose ticks fall on
/// round clock times; maps values exactly as plotters' own f64 axis does.
#[derive(Clone)]
struct TimeAxis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for TimeAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let f = (v - self.lo) / (self.hi - self.lo);
        let len = limit.1 - limit.0;
        if !f.is_finite() || len == 0 {
            return limit.1;
        }
        limit.0 + (len as f64 * f + 1e-3).floor() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.max_num_points() == 0 {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// A y tick label without trailing zeros (`100`, `0.5`).
fn y_tick(v: &f64) -> String {
    format!("{}", (v * 1e6).round() / 1e6)
}

/// Tick spacing for a time axis: the smallest of these giving at most
/// `max_ticks` ticks, s.
const TICK_STEPS_S: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
    10800.0, 21600.0,
];

/// Tick positions in `[t0, t1]` (s from the start), on round clock times
/// when the start time is known.
fn time_ticks(start: Option<NaiveDateTime>, t0: f64, t1: f64, max_ticks: usize) -> (Vec<f64>, f64) {
    let span = (t1 - t0).max(1e-9);
    let step = TICK_STEPS_S
        .iter()
        .copied()
        .find(|s| span / s <= max_ticks as f64)
        .unwrap_or(43200.0);
    let sod = start
        .map(|t| t.num_seconds_from_midnight() as f64 + t.nanosecond() as f64 * 1e-9)
        .unwrap_or(0.0);
    let first = ((sod + t0) / step).ceil() * step - sod;
    let mut v = Vec::new();
    let mut t = first;
    while t <= t1 + 1e-9 {
        v.push(t);
        t += step;
    }
    (v, step)
}

/// A tick label: clock time when the start is known, else elapsed h:mm(:ss).
fn tick_label(start: Option<NaiveDateTime>, t_s: f64, step_s: f64) -> String {
    let with_s = step_s < 60.0;
    match start {
        Some(st) => {
            let t = st + chrono::Duration::milliseconds((t_s * 1000.0).round() as i64);
            if with_s {
                t.format("%H:%M:%S").to_string()
            } else {
                t.format("%H:%M").to_string()
            }
        }
        None => {
            let s = t_s.round().max(0.0) as i64;
            if with_s {
                format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
            } else {
                format!("{}:{:02}", s / 3600, (s / 60) % 60)
            }
        }
    }
}

fn time_axis_label(start: Option<NaiveDateTime>, step_s: f64) -> String {
    let fmt = if step_s < 60.0 { "hh:mm:ss" } else { "hh:mm" };
    match start {
        Some(t) => format!("clock time ({fmt}), night of {}", t.format("%Y-%m-%d")),
        None => format!("time from recording start ({fmt})"),
    }
}

/// Min/max of `values` (sampled at `t0_s + i·hop_s`) per pixel column over
/// `[x0_s, x1_s)`; columns without finite values are `None`. When there are
/// fewer than two values per column the values are returned as they are.
pub fn envelope(
    values: &[f32],
    t0_s: f64,
    hop_s: f64,
    x0_s: f64,
    x1_s: f64,
    columns: usize,
) -> Vec<(f64, Option<(f32, f32)>)> {
    let columns = columns.max(1);
    let per_col = (x1_s - x0_s) / columns as f64;
    if values.len() <= 2 * columns || per_col <= 0.0 {
        return values
            .iter()
            .enumerate()
            .map(|(i, &v)| (t0_s + i as f64 * hop_s, v.is_finite().then_some((v, v))))
            .collect();
    }
    let mut out: Vec<(f64, Option<(f32, f32)>)> = (0..columns)
        .map(|c| (x0_s + (c as f64 + 0.5) * per_col, None))
        .collect();
    for (i, &v) in values.iter().enumerate() {
        if !v.is_finite() {
            continue;
        }
        let t = t0_s + i as f64 * hop_s;
        let c = ((t - x0_s) / per_col).floor();
        if c < 0.0 || c >= columns as f64 {
            continue;
        }
        let slot = &mut out[c as usize].1;
        *slot = Some(match *slot {
            None => (v, v),
            Some((lo, hi)) => (lo.min(v), hi.max(v)),
        });
    }
    out
}

/// Mean of `values` per pixel column (for smooth lines such as the baseline).
fn column_means(
    values: &[f32],
    t0_s: f64,
    hop_s: f64,
    x0_s: f64,
    x1_s: f64,
    columns: usize,
) -> Vec<(f64, f64)> {
    let columns = columns.max(1);
    let per_col = (x1_s - x0_s) / columns as f64;
    if values.len() <= 2 * columns || per_col <= 0.0 {
        return values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, &v)| (t0_s + i as f64 * hop_s, v as f64))
            .collect();
    }
    let mut acc = vec![(0.0f64, 0usize); columns];
    for (i, &v) in values.iter().enumerate() {
        let c = ((t0_s + i as f64 * hop_s - x0_s) / per_col).floor();
        if v.is_finite() && c >= 0.0 && c < columns as f64 {
            acc[c as usize].0 += v as f64;
            acc[c as usize].1 += 1;
        }
    }
    acc.iter()
        .enumerate()
        .filter(|(_, (_, n))| *n > 0)
        .map(|(c, (s, n))| (x0_s + (c as f64 + 0.5) * per_col, s / *n as f64))
        .collect()
}

/// Paths (split at gaps) that zig-zag between each column's min and max.
fn zigzag(env: &[(f64, Option<(f32, f32)>)], floor: f64) -> Vec<Vec<(f64, f64)>> {
    let mut paths = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    for &(t, mm) in env {
        match mm {
            Some((lo, hi)) => {
                cur.push((t, (lo as f64).max(floor)));
                if hi > lo {
                    cur.push((t, (hi as f64).max(floor)));
                }
            }
            None => {
                if !cur.is_empty() {
                    paths.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        paths.push(cur);
    }
    paths
}

fn decade_floor(x: f64) -> f64 {
    10f64.powf(x.log10().floor())
}

fn decade_ceil(x: f64) -> f64 {
    10f64.powf(x.log10().ceil())
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    y: i32,
    items: &[(&str, RGBColor, bool)],
) -> Fig<()> {
    let style = (FONT, 13).into_font().color(&BLACK);
    let mut x = 12;
    for &(label, color, filled) in items {
        if filled {
            area.draw(&Rectangle::new(
                [(x, y - 5), (x + 14, y + 6)],
                color.filled(),
            ))
            .map_err(pe)?;
        } else {
            area.draw(&PathElement::new(
                vec![(x, y), (x + 14, y)],
                color.stroke_width(2),
            ))
            .map_err(pe)?;
        }
        area.draw_text(label, &style, (x + 19, y - 7)).map_err(pe)?;
        let (w, _) = area.estimate_text_size(label, &style).map_err(pe)?;
        x += 19 + w as i32 + 18;
    }
    Ok(())
}

/// Height of the whole overview, px.
pub fn overview_height_px(n_emg: usize, has_accel: bool) -> u32 {
    HEADER_HEIGHT_PX
        + EMG_PANEL_HEIGHT_PX * n_emg.max(1) as u32
        + if has_accel { ENMO_PANEL_HEIGHT_PX } else { 0 }
}

/// How one panel labels its axes ([`Frame::draw_axes`]).
struct Axes<'a> {
    /// Title of the y axis, with its unit.
    y_desc: &'a str,
    /// Number of y labels; plotters' default when `None`.
    y_labels: Option<usize>,
    /// Whether the time axis title is drawn (under the last panel).
    time_title: bool,
    /// Grid lines (off where they would cover an image).
    grid: bool,
}

/// The time axis a figure's panels share.
struct Frame {
    x_range: (f64, f64),
    ticks: Vec<f64>,
    step_s: f64,
    start: Option<NaiveDateTime>,
    /// Plot columns, px (one envelope value each).
    columns: usize,
    /// Right margin of every panel, px.
    right_px: u32,
}

impl Frame {
    fn new(
        start: Option<NaiveDateTime>,
        x_range: (f64, f64),
        width_px: u32,
        right_px: u32,
    ) -> Frame {
        let (ticks, step_s) = time_ticks(start, x_range.0, x_range.1, 12);
        Frame {
            x_range,
            ticks,
            step_s,
            start,
            columns: (width_px - LEFT_MARGIN_PX - Y_LABEL_AREA_PX - right_px) as usize,
            right_px,
        }
    }

    fn axis(&self) -> TimeAxis {
        TimeAxis {
            lo: self.x_range.0,
            hi: self.x_range.1,
            ticks: self.ticks.clone(),
        }
    }

    fn tick(&self, t: &f64) -> String {
        tick_label(self.start, *t, self.step_s)
    }

    fn desc(&self) -> String {
        time_axis_label(self.start, self.step_s)
    }

    /// A panel's chart on `area`: this time axis, the y range `y`, the
    /// caption, and `x_label_px` of room for the time labels (22 without
    /// the axis title, 44 with it).
    fn chart<'a, DB: DrawingBackend, Y: AsRangedCoord>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
        caption: &str,
        x_label_px: u32,
        y: Y,
    ) -> Fig<ChartContext<'a, DB, Cartesian2d<TimeAxis, Y::CoordDescType>>> {
        ChartBuilder::on(area)
            .margin_right(self.right_px)
            .margin_left(LEFT_MARGIN_PX)
            .margin_top(8)
            .x_label_area_size(x_label_px)
            .y_label_area_size(Y_LABEL_AREA_PX)
            .caption(caption, (FONT, 14))
            .build_cartesian_2d(self.axis(), y)
            .map_err(pe)
    }

    /// Draws a panel's axes as every panel has them: the light grid (or
    /// none), the time ticks, the y ticks and the fonts, with `y_desc` as
    /// the y title and the time axis title when `time_title`.
    fn draw_axes<DB: DrawingBackend, Y>(
        &self,
        chart: &mut ChartContext<DB, Cartesian2d<TimeAxis, Y>>,
        axes: Axes,
    ) -> Fig<()>
    where
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let fmt_x = |t: &f64| self.tick(t);
        let mut mesh = chart.configure_mesh();
        if axes.grid {
            mesh.light_line_style(GRID_RGB).bold_line_style(GRID_RGB);
        } else {
            mesh.disable_mesh();
        }
        mesh.x_label_formatter(&fmt_x)
            .y_label_formatter(&y_tick)
            .y_desc(axes.y_desc)
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13));
        if let Some(n) = axes.y_labels {
            mesh.y_labels(n);
        }
        if axes.time_title {
            mesh.x_desc(self.desc());
        }
        mesh.draw().map_err(pe)
    }

    /// The min–max envelope of samples `v` (first at `t0_s`, `dt_s` apart)
    /// per plot column.
    fn envelope(&self, v: &[f32], t0_s: f64, dt_s: f64) -> Vec<(f64, Option<(f32, f32)>)> {
        envelope(v, t0_s, dt_s, self.x_range.0, self.x_range.1, self.columns)
    }
}

/// Draws `paths` as thin lines of `color`.
fn draw_paths<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<DB, CT>,
    paths: Vec<Vec<(f64, f64)>>,
    color: RGBColor,
) -> Fig<()> {
    for path in paths {
        chart
            .draw_series(std::iter::once(PathElement::new(
                path,
                color.stroke_width(1),
            )))
            .map_err(pe)?;
    }
    Ok(())
}

/// Draws one night's overview: a header with the title and legend, one
/// panel per EMG channel, and the accelerometer panel when there is one.
pub fn draw_overview<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ov: &Overview,
) -> Fig<OverviewLayout> {
    ensure_font();
    root.fill(&WHITE).map_err(pe)?;
    let (header, body) = root.split_vertically(HEADER_HEIGHT_PX);
    overview_header(&header, ov)?;
    let frame = Frame::new(
        ov.start_time,
        (0.0, ov.duration_s.max(1.0)),
        OVERVIEW_WIDTH_PX,
        RIGHT_MARGIN_PX,
    );
    let mut layout = OverviewLayout {
        plot_x_px: (0, 0),
        x_range_s: frame.x_range,
        emg_panels: Vec::new(),
    };
    let mut rest = body;
    let n = ov.traces.emg.len();
    for (k, tr) in ov.traces.emg.iter().enumerate() {
        let (panel, next) = rest.split_vertically(EMG_PANEL_HEIGHT_PX);
        rest = next;
        let last = k + 1 == n && ov.traces.accel.is_none();
        overview_emg_panel(&panel, ov, tr, &frame, last, &mut layout)?;
    }
    if let Some(acc) = &ov.traces.accel {
        overview_accel_panel(&rest, acc, &frame)?;
    }
    root.present().map_err(pe)?;
    Ok(layout)
}

fn overview_header<DB: DrawingBackend>(header: &DrawingArea<DB, Shift>, ov: &Overview) -> Fig<()> {
    let title = match ov.start_time {
        Some(t) => format!(
            "{}: {} h from {}",
            ov.night,
            fmt_num(ov.duration_s / 3600.0, 2),
            t.format("%Y-%m-%d %H:%M")
        ),
        None => format!("{}: {} h", ov.night, fmt_num(ov.duration_s / 3600.0, 2)),
    };
    header
        .draw_text(&title, &(FONT, 17).into_font().color(&BLACK), (12, 6))
        .map_err(pe)?;
    let mut legend: Vec<(&str, RGBColor, bool)> = vec![
        ("band RMS (min-max per pixel)", TRACE_RGB, false),
        ("resting baseline", BASELINE_RGB, false),
        ("onset threshold", ONSET_RGB, false),
        ("offset threshold", OFFSET_RGB, false),
    ];
    legend.extend(shaded_kinds(ov).into_iter().map(|(l, c)| (l, c, true)));
    draw_legend(header, 40, &legend)
}

/// Legend label of an episode kind's shading.
pub fn kind_legend(kind: EpisodeKind) -> &'static str {
    match kind {
        EpisodeKind::Cramp => "cramp",
        EpisodeKind::Lm => "LM",
        EpisodeKind::Sustained => "sustained",
        EpisodeKind::Movement => "body movement",
    }
}

/// Legend label of the PLM strip.
pub const PLM_LEGEND: &str = "PLM series";

/// The shadings the overview draws, in legend order: each episode kind
/// shaded on some panel, then the PLM strip when a PLM series is drawn.
pub fn shaded_kinds(ov: &Overview) -> Vec<(&'static str, RGBColor)> {
    let on_panel = |e: &&Episode| ov.traces.emg.iter().any(|t| t.channel == e.channel);
    let mut out: Vec<(&'static str, RGBColor)> = [
        EpisodeKind::Cramp,
        EpisodeKind::Lm,
        EpisodeKind::Sustained,
        EpisodeKind::Movement,
    ]
    .into_iter()
    .filter(|k| ov.episodes.iter().filter(on_panel).any(|e| e.kind == *k))
    .map(|k| (kind_legend(k), kind_rgb(k)))
    .collect();
    let strip = ov
        .traces
        .emg
        .iter()
        .any(|t| plm_on(ov, &t.channel).next().is_some());
    if strip {
        out.push((PLM_LEGEND, PLM_RGB));
    }
    out
}

/// The PLM series movements that involve `channel`: those overlapping one
/// of its episodes (a bilateral movement is on both legs).
pub fn plm_on<'a>(ov: &'a Overview, channel: &'a str) -> impl Iterator<Item = &'a Movement> + 'a {
    ov.movements.iter().filter(move |m| {
        m.periodic
            && ov
                .episodes
                .iter()
                .any(|e| e.channel == channel && e.start_s < m.end_s && e.end_s > m.start_s)
    })
}

/// Log-scale y range of an EMG panel: decades around the envelope, the
/// baseline and the onset level.
fn overview_y_range(
    env: &[(f64, Option<(f32, f32)>)],
    base: &[(f64, f64)],
    th: Thresholds,
) -> (f64, f64) {
    let lo_data = base
        .iter()
        .map(|b| b.1)
        .chain(env.iter().filter_map(|e| e.1.map(|m| m.0 as f64)))
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let hi_data = env
        .iter()
        .filter_map(|e| e.1.map(|m| m.1 as f64))
        .chain(base.iter().map(|b| th.onset_uv(b.1)))
        .fold(0.0, f64::max);
    let y_lo = decade_floor(if lo_data.is_finite() { lo_data } else { 0.1 }.max(0.01));
    let y_hi = decade_ceil((hi_data * 1.2).max(y_lo * 10.0));
    (y_lo, y_hi)
}

/// One EMG channel's panel: band RMS envelope, episodes, PLM strip,
/// baseline and thresholds; records its place in `layout`.
fn overview_emg_panel<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    ov: &Overview,
    tr: &EmgTrace,
    frame: &Frame,
    last: bool,
    layout: &mut OverviewLayout,
) -> Fig<()> {
    let (t0, t1) = frame.x_range;
    let env = frame.envelope(&tr.activity_uv, tr.first_center_s, tr.hop_s);
    let base = column_means(
        &tr.baseline_uv,
        tr.first_center_s,
        tr.hop_s,
        t0,
        t1,
        frame.columns,
    );
    let (y_lo, y_hi) = overview_y_range(&env, &base, ov.thresholds);
    let mut chart = frame.chart(
        panel,
        &tr.channel,
        if last { 44 } else { 22 },
        (y_lo..y_hi).log_scale(),
    )?;
    let axes = Axes {
        y_desc: "band RMS (µV, log)",
        y_labels: None,
        time_title: last,
        grid: true,
    };
    frame.draw_axes(&mut chart, axes)?;
    let (px, py) = chart.plotting_area().get_pixel_range();
    layout.plot_x_px = (px.start, px.end);
    layout
        .emg_panels
        .push((tr.channel.clone(), (py.start, py.end)));
    let s_per_px = (t1 - t0) / (px.end - px.start).max(1) as f64;
    // Episodes of this channel, at least one pixel wide so a 1 s LM in
    // an 8-hour night is still seen.
    chart
        .draw_series(
            ov.episodes
                .iter()
                .filter(|e| e.channel == tr.channel)
                .map(|e| {
                    let end = e.end_s.max(e.start_s + 1.5 * s_per_px);
                    Rectangle::new(
                        [(e.start_s, y_hi), (end, y_lo)],
                        kind_rgb(e.kind).mix(EPISODE_OPACITY).filled(),
                    )
                }),
        )
        .map_err(pe)?;
    // PLM series: a strip along the top of the panels of the legs whose
    // LMs make them up.
    let strip_lo = y_hi / (y_hi / y_lo).powf(PLM_STRIP_FRACTION);
    chart
        .draw_series(plm_on(ov, &tr.channel).map(|m| {
            let end = m.end_s.max(m.start_s + 1.5 * s_per_px);
            Rectangle::new([(m.start_s, y_hi), (end, strip_lo)], PLM_RGB.filled())
        }))
        .map_err(pe)?;
    draw_paths(&mut chart, zigzag(&env, y_lo), TRACE_RGB)?;
    let line = |f: &dyn Fn(f64) -> f64| -> Vec<(f64, f64)> {
        base.iter()
            .map(|&(t, b)| (t, f(b).clamp(y_lo, y_hi)))
            .collect()
    };
    let th = ov.thresholds;
    for (pts, color, dashed) in [
        (line(&|b| b), BASELINE_RGB, false),
        (line(&|b| th.onset_uv(b)), ONSET_RGB, true),
        (line(&|b| th.offset_uv(b)), OFFSET_RGB, true),
    ] {
        if dashed {
            chart
                .draw_series(DashedLineSeries::new(pts, 6, 4, color.stroke_width(2)))
                .map_err(pe)?;
        } else {
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                .map_err(pe)?;
        }
    }
    Ok(())
}

/// The accelerometer movement (ENMO) panel at the bottom.
fn overview_accel_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    acc: &AccelSeries,
    frame: &Frame,
) -> Fig<()> {
    let env = frame.envelope(&acc.enmo_g, 0.0, acc.hop_s);
    let hi = env
        .iter()
        .filter_map(|e| e.1.map(|m| m.1 as f64))
        .fold(0.0, f64::max);
    let y_hi = nice_ceil((hi * 1.1).max(0.01));
    let mut chart = frame.chart(area, "accelerometer movement", 44, 0.0..y_hi)?;
    let axes = Axes {
        y_desc: "ENMO (g)",
        y_labels: Some(4),
        time_title: true,
        grid: true,
    };
    frame.draw_axes(&mut chart, axes)?;
    draw_paths(&mut chart, zigzag(&env, 0.0), TRACE_RGB)
}

/// The smallest 1, 2 or 5 times a power of ten at or above `x`.
fn nice_ceil(x: f64) -> f64 {
    let d = decade_floor(x);
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * d)
        .find(|v| *v >= x)
        .unwrap_or(10.0 * d)
}

/// `x` with `decimals` decimals.
pub fn fmt_num(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

/// The overview as SVG text.
pub fn overview_svg(ov: &Overview) -> Fig<(String, OverviewLayout)> {
    let n = ov.traces.emg.len();
    let size = (
        OVERVIEW_WIDTH_PX,
        overview_height_px(n, ov.traces.accel.is_some()),
    );
    let mut s = String::new();
    let layout = {
        let root = SVGBackend::with_string(&mut s, size).into_drawing_area();
        draw_overview(&root, ov)?
    };
    Ok((s, layout))
}

/// The overview as PNG bytes.
pub fn overview_png(ov: &Overview) -> Fig<Vec<u8>> {
    let size = (
        OVERVIEW_WIDTH_PX,
        overview_height_px(ov.traces.emg.len(), ov.traces.accel.is_some()),
    );
    let mut buf = vec![255u8; (size.0 * size.1 * 3) as usize];
    {
        let root = Raster(BitMapBackend::with_buffer(&mut buf, size)).into_drawing_area();
        draw_overview(&root, ov)?;
    }
    encode_png(&buf, size, png::ColorType::Rgb)
}

/// A close-up as SVG text, the spectrogram embedded as one PNG image.
pub fn closeup_svg(f: &CloseupFigure) -> Fig<String> {
    let size = (CLOSEUP_WIDTH_PX, closeup_height_px());
    let mut s = String::new();
    let (x0, y0, x1, y1) = {
        let root = SVGBackend::with_string(&mut s, size).into_drawing_area();
        draw_closeup(&root, f, false)?
    };
    let sp = f.spectrogram;
    if sp.n_cols > 0 && sp.n_bins > 0 {
        // Image rows run top (highest frequency) to bottom.
        let mut rgb = Vec::with_capacity(sp.n_cols * sp.n_bins * 3);
        for b in (0..sp.n_bins).rev() {
            for c in 0..sp.n_cols {
                rgb.extend_from_slice(&sp.rgb(c, b));
            }
        }
        let png = encode_png(
            &rgb,
            (sp.n_cols as u32, sp.n_bins as u32),
            png::ColorType::Rgb,
        )?;
        // Place the cells where their times fall on the x axis.
        let span = f.data.t1_s.max(f.data.t0_s + 1.0) - f.data.t0_s;
        let px = |t: f64| x0 as f64 + (x1 - x0) as f64 * (t - f.data.t0_s) / span;
        let ix0 = px(sp.t0_s);
        let ix1 = px(sp.t0_s + sp.n_cols as f64 * sp.col_s);
        let image = format!(
            r#"<image x="{:.1}" y="{y0}" width="{:.1}" height="{}" preserveAspectRatio="none" href="data:image/png;base64,{}"/>"#,
            ix0,
            (ix1 - ix0).max(0.0),
            y1 - y0,
            base64(&png)
        );
        // After the background rectangle, so axes and marks stay on top.
        if let Some(i) = s
            .find("<rect")
            .and_then(|i| s[i..].find("/>").map(|j| i + j + 2))
        {
            s.insert_str(i, &format!("\n{image}"));
        }
    }
    Ok(s)
}

/// A close-up as PNG bytes.
pub fn closeup_png(f: &CloseupFigure) -> Fig<Vec<u8>> {
    let size = (CLOSEUP_WIDTH_PX, closeup_height_px());
    let mut buf = vec![255u8; (size.0 * size.1 * 3) as usize];
    {
        let root = Raster(BitMapBackend::with_buffer(&mut buf, size)).into_drawing_area();
        draw_closeup(&root, f, true)?;
    }
    encode_png(&buf, size, png::ColorType::Rgb)
}

/// PNG bytes of an 8-bit image.
pub fn encode_png(pixels: &[u8], (w, h): (u32, u32), color: png::ColorType) -> Fig<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(color);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut wr = enc.write_header().map_err(pe)?;
        wr.write_image_data(pixels).map_err(pe)?;
    }
    Ok(out)
}

/// Standard base64 (RFC 4648) with padding.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= c.len() {
                s.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn ticks_fall_on_round_clock_times() {
        let st = crate::io::sidecar::parse_datetime("2026-01-15T23:07:30").unwrap();
        let (t, step) = time_ticks(Some(st), 0.0, 8.0 * 3600.0, 12);
        assert_eq!(step, 3600.0);
        // First full hour after 23:07:30 is 00:00, 52.5 min in.
        assert_eq!(t[0], 3150.0);
        assert_eq!(tick_label(Some(st), t[0], step), "00:00");
        assert_eq!(tick_label(None, 5400.0, 1800.0), "1:30");
    }

    #[test]
    fn envelope_keeps_each_columns_extremes() {
        // 1000 values over 10 s into 10 columns: column c holds 100c..100c+99.
        let v: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let env = envelope(&v, 0.0, 0.01, 0.0, 10.0, 10);
        assert_eq!(env.len(), 10);
        assert_eq!(env[3].1, Some((300.0, 399.0)));
        assert!((env[3].0 - 3.5).abs() < 1e-9);
        // NaN-only columns are gaps.
        let mut w = v.clone();
        w[200..300].fill(f32::NAN);
        assert_eq!(envelope(&w, 0.0, 0.01, 0.0, 10.0, 10)[2].1, None);
    }

    /// Ink columns of `text` laid out at 12 px (the tick labels' size):
    /// the runs of columns holding ink, as `[start, end)`.
    fn ink_runs(text: &str) -> Vec<(i32, i32)> {
        let ink = layout_text(text, 12.0 / 1.24, HPos::Left, VPos::Top);
        let mut cols: Vec<i32> = ink.iter().filter(|p| p.2 > 0.25).map(|p| p.0).collect();
        cols.sort();
        cols.dedup();
        let mut runs: Vec<(i32, i32)> = Vec::new();
        for c in cols {
            match runs.last_mut() {
                Some(r) if r.1 == c => r.1 = c + 1,
                _ => runs.push((c, c + 1)),
            }
        }
        runs
    }

    #[test]
    fn raster_glyphs_keep_their_side_bearings() {
        // DejaVu Sans: `0` has side bearings of 135/2048 em each, `:` of
        // 231 and 229, so the colon sits centred between the zeros. Drawn
        // without its bearing (plotters 0.3.7) it touched the left zero
        // and left a wide gap on its right (`23:00: 05`).
        let runs = ink_runs("0:0");
        assert_eq!(runs.len(), 3, "{runs:?}");
        let left = runs[1].0 - runs[0].1;
        let right = runs[2].0 - runs[1].1;
        assert!(left >= 1 && (left - right).abs() <= 1, "{runs:?}");
        // The ink does not overlap and has the advance widths' extent:
        // 2 × 1303 + 690 units less the outer bearings, about 15 px.
        let span = runs[2].1 - runs[0].0;
        assert!((14..=17).contains(&span), "{runs:?}");
    }

    #[test]
    fn raster_text_hangs_from_a_top_anchor_as_in_the_svg() {
        // Baseline 0.76 em below the anchor, `H` 1493/2048 em tall: its top
        // lies 0.03 em below the anchor, inside the text box (it rose
        // about 0.16 em above it before, clipping rotated titles at the edge).
        let em = 13.0 / 1.24;
        let ink = layout_text("H", em, HPos::Left, VPos::Top);
        let top = ink.iter().filter(|p| p.2 > 0.5).map(|p| p.1).min().unwrap();
        let bottom = ink.iter().filter(|p| p.2 > 0.5).map(|p| p.1).max().unwrap();
        assert_eq!(top, 0, "top {top}");
        assert_eq!(bottom + 1, (0.76 * em).round() as i32, "bottom {bottom}");
    }

    #[test]
    fn colour_bar_ticks_are_the_round_values_of_the_scale() {
        assert_eq!(
            colour_bar_ticks((-33.0, 17.0)),
            vec![-30.0, -20.0, -10.0, 0.0, 10.0]
        );
        assert_eq!(
            colour_bar_ticks((0.0, 10.0)),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
    }

    #[test]
    fn the_embedded_font_loads() {
        assert!(plotters::style::register_font("test-font", FontStyle::Normal, FONT_TTF).is_ok());
    }
}
