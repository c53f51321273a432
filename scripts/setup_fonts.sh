#!/usr/bin/env bash
# Chinese interface (issue 17): install Noto Sans CJK (Debian's fonts-noto-cjk) when it is missing,
# so Chinese labels render in the browser and in PNG/SVG chart exports instead of empty boxes.
# Run by run.sh and test.sh; without root or apt it only says what to install.
set -euo pipefail
if [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || [ -n "${HCC_FONT_DIR:-}" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk
else
  echo "Note: no CJK font (sudo apt-get install fonts-noto-cjk); Chinese text in chart downloads will show as boxes, and the font tests fail under CI=true." >&2
fi
