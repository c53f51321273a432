"""Chinese text is drawn, not boxed (issue 17): the CJK font covers every character of the
translations, and PNG chart exports with Chinese labels show glyphs, not tofu.

Tofu check: a chart is rendered twice, once as it is and once with every Chinese character
replaced by U+E000 (a private-use code point no font draws, so it renders as the missing-glyph
box). Where the CJK font is not found, both renderings are boxes and nearly identical; with
the font, the Chinese rendering differs from the boxes in many pixels. Renderings are saved
to test-output/i18n/ to look at.
"""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from babel.messages.pofile import read_po
from PIL import Image

from hcc_core import charts, fit_km, load_cohort
from hcc_core.fonts import cjk_font_files, register_cjk_fonts
from tests.conftest import DATA, IN_CI, ROOT

OUT = ROOT / "test-output" / "i18n"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


@pytest.fixture(scope="module")
def font_files():
    files = cjk_font_files()
    if not files:
        message = ("No Noto Sans CJK font found: install Debian's fonts-noto-cjk "
                   "(scripts/test.sh does) or set HCC_FONT_DIR.")
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return files


def _chinese_characters() -> set[str]:
    chars = set()
    for po in (ROOT / "hcc_core" / "locale" / "zh_CN" / "LC_MESSAGES").glob("*.po"):
        with po.open("rb") as handle:
            for m in read_po(handle, locale="zh_CN"):
                strings = [m.string] if isinstance(m.string, str) else list(m.string)
                chars.update(c for s in strings for c in CJK.findall(s))
    return chars


def test_font_covers_every_chinese_character_of_the_translations(font_files):
    from fontTools.ttLib import TTCollection

    sans_regular = next(f for f in font_files if f.name == "NotoSansCJK-Regular.ttc")
    fonts = TTCollection(str(sans_regular)).fonts
    sc = next(f for f in fonts if "SC" in f["name"].getDebugName(1))
    cmap = sc.getBestCmap()
    chars = _chinese_characters()
    assert len(chars) > 100  # the catalogues hold real Chinese
    missing = sorted(c for c in chars if ord(c) not in cmap)
    assert missing == [], f"characters Noto Sans CJK SC cannot draw: {missing}"


def _png(spec: dict) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(charts.chart_png(spec, scale=1.0))).convert("L"))


def _as_boxes(spec: dict) -> dict:
    return json.loads(CJK.sub("\ue000", json.dumps(spec, ensure_ascii=False)))


def _ink_differs(a: np.ndarray, b: np.ndarray) -> int:
    """Pixels that differ clearly, on a white canvas of both images' size."""
    h, w = max(a.shape[0], b.shape[0]), max(a.shape[1], b.shape[1])
    pa, pb = (np.pad(x.astype(int), ((0, h - x.shape[0]), (0, w - x.shape[1])),
                     constant_values=255) for x in (a, b))
    return int((np.abs(pa - pb) > 64).sum())


def test_registering_finds_the_font_folder(font_files):
    assert {p.parent for p in font_files} <= set(register_cjk_fonts())
    assert register_cjk_fonts()  # cached: registered once per process


def test_chinese_title_is_drawn_not_boxed(font_files):
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "width": 320, "height": 20, "data": {"values": []}, "mark": "point",
            "title": {"text": "总生存期 风险比 95% 置信区间", "fontSize": 24}}
    real, boxes = _png(spec), _png(_as_boxes(spec))
    OUT.mkdir(parents=True, exist_ok=True)
    Image.fromarray(real).save(OUT / "title_zh.png")
    Image.fromarray(boxes).save(OUT / "title_boxes.png")
    # 12 CJK glyphs at 24 px: several hundred pixels of strokes where boxes draw outlines.
    assert _ink_differs(real, boxes) > 600
    # Two different Chinese strings draw differently (a font that drew every character as
    # the same box would not).
    other = _png({**spec, "title": {"text": "无进展生存期 客观缓解率 疾病控制", "fontSize": 24}})
    assert _ink_differs(real, other) > 600


def test_kaplan_meier_png_with_chinese_labels_shows_glyphs(font_files):
    km = fit_km(load_cohort(DATA / "demo_cohort.csv").data, "os", by="treatment_group")
    spec = charts.km_chart(km, title="总生存期 (OS)：按治疗组", subtitle="全部患者 · n = 95",
                           group_labels={"systemic": "仅系统治疗",
                                         "local+systemic": "局部联合系统治疗"},
                           answer=["仅系统治疗：n = 39", "局部联合系统治疗：n = 56"])
    spec = spec if isinstance(spec, dict) else spec.to_dict()  # a plain dict or an Altair chart
    real, boxes = _png(spec), _png(_as_boxes(spec))
    OUT.mkdir(parents=True, exist_ok=True)
    Image.fromarray(real).save(OUT / "km_zh.png")
    Image.fromarray(boxes).save(OUT / "km_boxes.png")
    assert _ink_differs(real, boxes) > 1500
