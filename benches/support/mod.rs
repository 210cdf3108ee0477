//! Criterion settings shared by the benches.

use criterion::Criterion;

/// Criterion for crampscan's benches. crampscan turns on plotters' ab_glyph
/// text, which knows only the fonts registered with it, so criterion's
/// plots (drawn with plotters when gnuplot is absent) would fail with
/// `FontUnavailable`: the report's embedded font is registered first, under
/// the `sans-serif` family criterion asks for.
pub fn criterion() -> Criterion {
    crampscan::report::figures::ensure_font();
    Criterion::default()
}
