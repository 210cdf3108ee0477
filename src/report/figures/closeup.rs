//! An episode's close-up: a header, the raw EMG with the episode shaded,
//! its spectrogram with a dB colour bar, and the accelerometer axes.

use super::*;

/// What a close-up figure shows.
pub struct CloseupFigure<'a> {
    pub night: &'a str,
    pub start_time: Option<NaiveDateTime>,
    pub episode: &'a Episode,
    /// 1-based number of the episode in the night's list.
    pub number: usize,
    pub data: &'a Closeup,
    pub spectrogram: &'a Spectrogram,
}

/// Height of a close-up, px.
pub const fn closeup_height_px() -> u32 {
    HEADER_HEIGHT_PX + 3 * CLOSEUP_PANEL_HEIGHT_PX
}

/// Draws one episode's close-up: a header, the raw EMG, its spectrogram
/// and the accelerometer axes. Returns the spectrogram's plot area
/// `(x0, y0, x1, y1)` in pixels, where a raster backend paints its cells
/// (`draw_cells` false) instead of drawing them as rectangles.
pub fn draw_closeup<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    f: &CloseupFigure,
    draw_cells: bool,
) -> Fig<(i32, i32, i32, i32)> {
    ensure_font();
    root.fill(&WHITE).map_err(pe)?;
    let (e, d) = (f.episode, f.data);
    let (header, body) = root.split_vertically(HEADER_HEIGHT_PX);
    closeup_header(&header, f)?;
    let frame = Frame::new(
        f.start_time,
        (d.t0_s, d.t1_s.max(d.t0_s + 1.0)),
        CLOSEUP_WIDTH_PX,
        CLOSEUP_RIGHT_MARGIN_PX,
    );
    let (p1, rest) = body.split_vertically(CLOSEUP_PANEL_HEIGHT_PX);
    let (p2, p3) = rest.split_vertically(CLOSEUP_PANEL_HEIGHT_PX);
    closeup_emg_panel(&p1, e, d, &frame)?;
    let cells = closeup_spectrogram_panel(&p2, e, f.spectrogram, &frame, draw_cells)?;
    closeup_accel_panel(&p3, e, d, &frame)?;
    root.present().map_err(pe)?;
    Ok(cells)
}

pub(super) fn closeup_header<DB: DrawingBackend>(
    header: &DrawingArea<DB, Shift>,
    f: &CloseupFigure,
) -> Fig<()> {
    let e = f.episode;
    let when = match f.start_time {
        Some(_) => crate::export::cells::clock(f.start_time, e.start_s)
            .replace('T', " ")
            .chars()
            .take(19)
            .collect::<String>(),
        None => format!("{} s", fmt_num(e.start_s, 1)),
    };
    let title = format!(
        "{}: {} #{} on {} at {}: {} s, peak {} µV over resting {} µV",
        f.night,
        e.kind.as_str(),
        f.number,
        e.channel,
        when,
        fmt_num(e.duration_s(), 1),
        fmt_num(e.peak_rms_uv, 1),
        fmt_num(e.baseline_rms_uv, 1),
    );
    header
        .draw_text(&title, &(FONT, 16).into_font().color(&BLACK), (12, 6))
        .map_err(pe)?;
    draw_legend(
        header,
        40,
        &[
            ("raw EMG (min-max per pixel)", TRACE_RGB, false),
            (kind_legend(e.kind), kind_rgb(e.kind), true),
        ],
    )
}

/// The episode's kind shade.
pub(super) fn shade(e: &Episode) -> ShapeStyle {
    kind_rgb(e.kind).mix(EPISODE_OPACITY).filled()
}

pub(super) fn closeup_emg_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    e: &Episode,
    d: &Closeup,
    frame: &Frame,
) -> Fig<()> {
    let env = frame.envelope(&d.emg_uv, d.emg_t0_s, 1.0 / d.emg_fs_hz);
    let amp = env
        .iter()
        .filter_map(|e| e.1.map(|m| (m.0 as f64).abs().max((m.1 as f64).abs())))
        .fold(0.0, f64::max);
    let y = nice_ceil((amp * 1.05).max(1.0));
    let mut chart = frame.chart(area, &format!("raw EMG, {}", e.channel), 22, -y..y)?;
    let axes = Axes {
        y_desc: "EMG (µV)",
        y_labels: Some(5),
        time_title: false,
        grid: true,
    };
    frame.draw_axes(&mut chart, axes)?;
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(e.start_s, y), (e.end_s, -y)],
            shade(e),
        )))
        .map_err(pe)?;
    draw_paths(&mut chart, zigzag(&env, f64::NEG_INFINITY), TRACE_RGB)
}

/// The spectrogram panel; returns its plot area in pixels.
pub(super) fn closeup_spectrogram_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    e: &Episode,
    sp: &Spectrogram,
    frame: &Frame,
    draw_cells: bool,
) -> Fig<(i32, i32, i32, i32)> {
    let f_hi = sp.max_hz.max(1.0);
    let caption = format!(
        "spectrogram, dB re 1 µV²/Hz, {} to {} dB",
        fmt_num(sp.db_range.0, 0),
        fmt_num(sp.db_range.1, 0)
    );
    let mut chart = frame.chart(area, &caption, 22, 0.0..f_hi)?;
    if draw_cells {
        let df = sp.max_hz / sp.n_bins.max(1) as f64;
        chart
            .draw_series((0..sp.n_cols).flat_map(|c| {
                let t0 = sp.t0_s + c as f64 * sp.col_s;
                (0..sp.n_bins).map(move |b| {
                    let rgb = sp.rgb(c, b);
                    Rectangle::new(
                        [(t0, (b + 1) as f64 * df), (t0 + sp.col_s, b as f64 * df)],
                        RGBColor(rgb[0], rgb[1], rgb[2]).filled(),
                    )
                })
            }))
            .map_err(pe)?;
    }
    let axes = Axes {
        y_desc: "frequency (Hz)",
        y_labels: Some(5),
        time_title: false,
        grid: false,
    };
    frame.draw_axes(&mut chart, axes)?;
    // Episode bounds as lines, so the spectrum itself stays readable.
    for t in [e.start_s, e.end_s] {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(t, 0.0), (t, f_hi)],
                WHITE.stroke_width(2),
            )))
            .map_err(pe)?;
    }
    let (sx, sy) = chart.plotting_area().get_pixel_range();
    let (bx, by) = area.get_base_pixel();
    colour_bar(
        area,
        (sx.end - bx + COLOUR_BAR_GAP_PX, sy.start - by, sy.end - by),
        sp.db_range,
    )?;
    Ok((sx.start, sy.start, sx.end, sy.end))
}

/// Tick step of the colour bar: the smallest of these giving at most
/// `COLOUR_BAR_MAX_TICKS` ticks, dB.
pub(super) const COLOUR_BAR_STEPS_DB: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0];
pub(super) const COLOUR_BAR_MAX_TICKS: f64 = 6.0;
/// Colour bar bands, px high each.
pub(super) const COLOUR_BAR_BAND_PX: i32 = 2;

/// The colour bar's tick values for the colour scale `(lo, hi)` dB: the
/// multiples of a 1-2-5 step in `[lo, hi]`, lowest first.
pub fn colour_bar_ticks((lo, hi): (f64, f64)) -> Vec<f64> {
    let span = (hi - lo).max(1e-9);
    let step = COLOUR_BAR_STEPS_DB
        .iter()
        .copied()
        .find(|s| span / s <= COLOUR_BAR_MAX_TICKS)
        .unwrap_or(span);
    let mut t = (lo / step).ceil() * step;
    let mut v = Vec::new();
    while t <= hi + 1e-9 {
        v.push(if t == 0.0 { 0.0 } else { t });
        t += step;
    }
    v
}

/// The spectrogram's colour bar at `(x, y_top, y_bottom)` of `area`, px:
/// the viridis scale from `lo` (bottom) to `hi` dB (top), its ticks, and
/// "dB" over it (re 1 µV²/Hz, as the caption says).
pub(super) fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y0, y1): (i32, i32, i32),
    (lo, hi): (f64, f64),
) -> Fig<()> {
    let h = (y1 - y0).max(1);
    let x1 = x + COLOUR_BAR_WIDTH_PX;
    let mut y = y0;
    while y < y1 {
        let yb = (y + COLOUR_BAR_BAND_PX).min(y1);
        let v = 1.0 - ((y + yb) as f64 / 2.0 - y0 as f64) / h as f64;
        let c = crate::report::closeup::viridis(v);
        area.draw(&Rectangle::new(
            [(x, y), (x1, yb)],
            RGBColor(c[0], c[1], c[2]).filled(),
        ))
        .map_err(pe)?;
        y = yb;
    }
    area.draw(&Rectangle::new([(x, y0), (x1, y1)], BLACK.stroke_width(1)))
        .map_err(pe)?;
    let style = (FONT, 12).into_font().color(&BLACK);
    let left = style.pos(Pos::new(HPos::Left, VPos::Center));
    for t in colour_bar_ticks((lo, hi)) {
        let ty = y1 - ((t - lo) / (hi - lo).max(1e-9) * h as f64).round() as i32;
        area.draw(&PathElement::new(vec![(x1, ty), (x1 + 4, ty)], BLACK))
            .map_err(pe)?;
        area.draw_text(&fmt_num(t, 0), &left, (x1 + 6, ty))
            .map_err(pe)?;
    }
    let over = style.pos(Pos::new(HPos::Left, VPos::Bottom));
    area.draw_text("dB", &over, (x, y0 - 4)).map_err(pe)?;
    Ok(())
}

pub(super) fn closeup_accel_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    e: &Episode,
    d: &Closeup,
    frame: &Frame,
) -> Fig<()> {
    let caption = if d.accel.is_some() {
        "accelerometer, three axes"
    } else {
        "accelerometer: none in this night"
    };
    let r = accel_range(d);
    let mut chart = frame.chart(area, caption, 44, r.clone())?;
    let axes = Axes {
        y_desc: "acceleration (g)",
        y_labels: Some(5),
        time_title: true,
        grid: true,
    };
    frame.draw_axes(&mut chart, axes)?;
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(e.start_s, r.end), (e.end_s, r.start)],
            shade(e),
        )))
        .map_err(pe)?;
    if let Some(a) = &d.accel {
        for (axis, color) in a.axes_g.iter().zip([LM_RGB, SUSTAINED_RGB, BASELINE_RGB]) {
            let env = frame.envelope(axis, a.t0_s, 1.0 / a.fs_hz);
            draw_paths(&mut chart, zigzag(&env, f64::NEG_INFINITY), color)?;
        }
    }
    Ok(())
}

pub(super) fn accel_range(d: &Closeup) -> std::ops::Range<f64> {
    let (lo, hi) = d
        .accel
        .iter()
        .flat_map(|a| a.axes_g.iter().flatten())
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v as f64), hi.max(v as f64))
        });
    if lo.is_finite() && hi > lo {
        let pad = (hi - lo) * 0.1 + 0.02;
        (lo - pad)..(hi + pad)
    } else if lo.is_finite() {
        (lo - 0.5)..(lo + 0.5)
    } else {
        -1.5..1.5
    }
}
