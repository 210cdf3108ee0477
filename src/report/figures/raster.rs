//! The raster (PNG) backend of the figures: plotters' bitmap backend with
//! its text drawn again, so that PNG text sits where the SVG's does.
//!
//! plotters 0.3.7 draws ab_glyph text without each glyph's left side
//! bearing (`23:00:05` came out as `23:00: 05`) and with the baseline half
//! an em below the text box's top, so glyph tops rose above the box
//! (rotated axis titles lost their first letters at the figure's edge).
//! Here text is laid out as plotters' SVG backend writes it and a browser
//! renders it: `font-size` = size / 1.24 px, `text-anchor` for the
//! horizontal anchor, the baseline 0.76 em below a top anchor, 0.5 ex below
//! a centre anchor and 0.5 ex above a bottom one, rotation about the anchor.
//! The layout estimates (label areas, legend spacing) stay plotters' own,
//! shared by both backends.

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

/// `font-size` of plotters' SVG text per unit of its style size
/// (plotters-svg 0.3.7, `draw_text`).
pub const SVG_EM_PER_SIZE: f64 = 1.0 / 1.24;
/// Baseline below a top anchor, em (plotters-svg: `dy="0.76em"`).
pub const TOP_BASELINE_EM: f64 = 0.76;

fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(super::FONT_TTF).ok())
        .as_ref()
}

/// One glyph's coverage, as `(x, y, coverage)` pixels relative to the
/// anchor before rotation.
type Ink = Vec<(i32, i32, f32)>;

/// The pixels of `text` at `em_px` px per em, anchored as the SVG anchors
/// it; empty when the font is unavailable.
pub fn layout_text(text: &str, em_px: f64, h: HPos, v: VPos) -> Ink {
    let Some(font) = font() else {
        return Vec::new();
    };
    let upem = font.units_per_em().unwrap_or(2048.0);
    let scale = PxScale::from((em_px as f32) * font.height_unscaled() / upem);
    let sf = font.as_scaled(scale);
    let ids: Vec<_> = text.chars().map(|c| font.glyph_id(c)).collect();
    let mut pen = Vec::with_capacity(ids.len());
    let mut x = 0f32;
    for (i, &id) in ids.iter().enumerate() {
        if i > 0 {
            x += sf.kern(ids[i - 1], id);
        }
        pen.push(x);
        x += sf.h_advance(id);
    }
    let dx = match h {
        HPos::Left => 0.0,
        HPos::Center => -x / 2.0,
        HPos::Right => -x,
    };
    let ex = x_height_px(font, scale);
    let base = match v {
        VPos::Top => (TOP_BASELINE_EM * em_px) as f32,
        VPos::Center => 0.5 * ex,
        VPos::Bottom => -0.5 * ex,
    };
    let mut ink = Vec::new();
    for (&id, &px) in ids.iter().zip(&pen) {
        let g = id.with_scale_and_position(scale, point(px + dx, base));
        if let Some(o) = font.outline_glyph(g) {
            let b = o.px_bounds();
            let (bx, by) = (b.min.x as i32, b.min.y as i32);
            o.draw(|gx, gy, c| {
                if c > 0.0 {
                    ink.push((bx + gx as i32, by + gy as i32, c));
                }
            });
        }
    }
    ink
}

/// Height of `x` above the baseline, px (the `ex` unit).
fn x_height_px(font: &FontRef, scale: PxScale) -> f32 {
    let g = font.glyph_id('x').with_scale(scale);
    font.outline_glyph(g)
        .map(|o| -o.px_bounds().min.y)
        .unwrap_or(scale.y * 0.45)
}

/// A backend drawing like `B`, with text laid out as in the SVG figures.
pub struct Raster<B>(pub B);

impl<B: DrawingBackend> DrawingBackend for Raster<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.present()
    }
    fn draw_pixel(
        &mut self,
        p: BackendCoord,
        c: BackendColor,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_pixel(p, c)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        ul: BackendCoord,
        br: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_rect(ul, br, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let a = style.anchor();
        let em_px = style.size() * SVG_EM_PER_SIZE;
        let trans = style.transform();
        let (w, h) = self.get_size();
        for (x, y, c) in layout_text(text, em_px, a.h_pos, a.v_pos) {
            let (x, y) = trans.transform(x, y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && y >= 0 && x < w as i32 && y < h as i32 {
                let alpha = color.alpha * c.min(1.0) as f64;
                self.0.draw_pixel(
                    (x, y),
                    BackendColor {
                        alpha,
                        rgb: color.rgb,
                    },
                )?;
            }
        }
        Ok(())
    }
}
