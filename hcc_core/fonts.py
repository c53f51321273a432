"""Fonts for Chinese text in chart exports (issue 17).

PNG/SVG charts are drawn by vl-convert, which finds fonts on its own font list. A Chinese label
needs a CJK font there, else every character is drawn as an empty box ("tofu"). The app's setup
and image install Debian's ``fonts-noto-cjk`` (Noto Sans CJK SC); this module registers its
folder (or the folder named by ``HCC_FONT_DIR``) with vl-convert once per process.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

__all__ = ["CJK_FONT_DIRS", "CJK_FONT_FAMILY", "cjk_font_files", "register_cjk_fonts"]

#: Where Debian's fonts-noto-cjk puts Noto Sans/Serif CJK (SC, TC, JP, KR in .ttc collections).
CJK_FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto"))
#: The family name a chart or document asks for when it needs Chinese glyphs.
CJK_FONT_FAMILY = "Noto Sans CJK SC"


def _dirs() -> list[Path]:
    extra = os.environ.get("HCC_FONT_DIR")
    return [Path(extra)] if extra else list(CJK_FONT_DIRS)


def cjk_font_files() -> list[Path]:
    """The Noto Sans CJK files found (empty when no CJK font is installed)."""
    return sorted(p for d in _dirs() if d.is_dir() for p in d.glob("NotoSansCJK*.tt[cf]"))


@functools.cache
def register_cjk_fonts() -> list[Path]:
    """Register the CJK font folders with vl-convert (once); returns the folders registered.

    Notes
    -----
    ``vl_convert.register_font_directory`` is vl-convert's public API for fonts outside its
    defaults; a folder without CJK fonts is skipped, so nothing fails where none is installed
    (the exported chart then shows boxes, which tests/test_i18n_fonts.py checks against).
    """
    import vl_convert as vlc

    registered = []
    for folder in sorted({p.parent for p in cjk_font_files()}):
        vlc.register_font_directory(str(folder))
        registered.append(folder)
    return registered
