#!/usr/bin/env bash
# Regenerates src/report/fonts/DejaVuSans-subset.ttf, the font embedded in the
# figures (plotters' ab_glyph backend needs a font file; embedding one means
# no system fonts or fontconfig are needed at run time).
# Needs Debian's fonts-dejavu-core and fontTools (pip install fonttools),
# only on the machine that regenerates the file.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${DEJAVU_SANS:-/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf}
# Basic Latin, Latin-1 (µ ± ° ²), dashes, minus, ellipsis, ≤ ≥.
pyftsubset "$src" \
  --unicodes="U+0020-007E,U+00A0-00FF,U+2013,U+2014,U+2026,U+2212,U+2264,U+2265" \
  --no-hinting --desubroutinize --layout-features='kern' \
  --output-file=src/report/fonts/DejaVuSans-subset.ttf
cp /usr/share/doc/fonts-dejavu-core/copyright src/report/fonts/LICENSE-DejaVu.txt
