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

/// Opens `path` as the scan would and reads every block of every source;
/// returns the frames read. Not every bench reads files.
#[allow(dead_code)]
pub fn read_all(path: &std::path::Path, cfg: &crampscan::config::Config) -> usize {
    use crampscan::io::{self, BLOCK_FRAMES};
    use crampscan::recording::Block;
    let mut total = 0usize;
    for mut src in io::open(path, cfg).unwrap() {
        let mut block = Block::new(src.info().channels.len(), BLOCK_FRAMES);
        loop {
            src.read_block(&mut block).unwrap();
            if block.len == 0 {
                break;
            }
            total += block.len;
        }
    }
    total
}
