"""Layout for the meeting pack: 16:9 slides (python-pptx) and a Word report (python-docx).

What goes into the pack is decided in ``report.py``; this module only places text, native
tables and images, and stamps every slide and page footer with the provenance line. The
theme's fonts apply; when the pack is made in Chinese every text run also names an East Asian
font (``CJK_FONT``), so PowerPoint, Word and LibreOffice draw the Chinese text with a Chinese
font instead of guessing one.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Sequence

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Cm, Inches, Pt
from docx.shared import RGBColor as DocxRGB
from PIL import Image
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Emu
from pptx.util import Inches as PInches
from pptx.util import Pt as PPt

from .i18n import _, get_language

__all__ = ["SlideDeck", "ReportDocument", "CJK_FONT"]

# East Asian font named on every run of a Chinese pack: the one the Docker image ships (Noto
# Sans CJK SC). Where it is missing, the charset hint (GB2312) makes PowerPoint substitute an
# installed Chinese font such as Microsoft YaHei; Word and LibreOffice substitute by name.
CJK_FONT = "Noto Sans CJK SC"
_GB2312_CHARSET = "-122"  # DrawingML's signed byte for Windows charset 134
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
# a:rPr children that must follow a:ea (CT_TextCharacterProperties sequence)
_AFTER_EA = {f"{_A}{t}" for t in ("cs", "sym", "hlinkClick", "hlinkMouseOver", "rtl", "extLst")}


def _pptx_east_asian(element) -> None:
    """Name ``CJK_FONT`` as the East Asian typeface of every text run under ``element``."""
    for r in element.iter(f"{_A}r", f"{_A}fld"):
        rpr = r.find(f"{_A}rPr")
        if rpr is None:
            rpr = r.makeelement(f"{_A}rPr", {})
            r.insert(0, rpr)
        ea = rpr.find(f"{_A}ea")
        if ea is None:
            ea = rpr.makeelement(f"{_A}ea", {})
            after = next((i for i, c in enumerate(rpr) if c.tag in _AFTER_EA), len(rpr))
            rpr.insert(after, ea)
        ea.set("typeface", CJK_FONT)
        ea.set("charset", _GB2312_CHARSET)


def _docx_east_asian(run_element) -> None:
    """Name ``CJK_FONT`` as the East Asian font of one w:r (w:rFonts comes first in w:rPr,
    after an optional w:rStyle)."""
    rpr = run_element.find(qn("w:rPr"))
    if rpr is None:
        rpr = run_element.makeelement(qn("w:rPr"), {})
        run_element.insert(0, rpr)
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(1 if rpr.find(qn("w:rStyle")) is not None else 0, fonts)
    fonts.set(qn("w:eastAsia"), CJK_FONT)
    fonts.set(qn("w:hint"), "eastAsia")

SLIDE_W, SLIDE_H = 13.333, 7.5  # inches: 16:9
MARGIN = 0.45
BODY_TOP = 1.25
FOOTER_TOP = 6.95
BODY_BOTTOM = 6.85
TITLE_PT = 30
TABLE_PT = 14
GREY = RGBColor(0x55, 0x55, 0x55)
HEADER_FILL = RGBColor(0xDD, 0xE6, 0xF0)
BOX_FILL = RGBColor(0xF3, 0xF6, 0xFA)
_BLANK_LAYOUT = 6  # "Blank" in python-pptx's default template


def _image_size(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as im:
        return im.size


def _fit(png: bytes, width: float, height: float) -> tuple[float, float]:
    """The largest (w, h) in inches with the image's aspect ratio inside width x height."""
    w, h = _image_size(png)
    scale = min(width / w, height / h)
    return w * scale, h * scale


def _text_len(text: str) -> int:
    """Length in average Latin glyphs: a Chinese character is a full em, about two of them."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _lines_needed(text: str, width_in: float, size_pt: float) -> int:
    """Rough count of wrapped lines (average glyph about half the type size wide)."""
    per_line = max(10, int(width_in * 72 / (size_pt * 0.5)))
    return max(1, math.ceil(_text_len(text) / per_line))


def _column_widths(cells: list[list[str]], total: int, low: int = 9, high: int = 40) -> list[int]:
    """Column widths (in the unit of ``total``) by each column's longest text, clamped."""
    longest = [max(_text_len(r[j].strip()) for r in cells) for j in range(len(cells[0]))]
    weights = [min(max(w, low), high) for w in longest]
    widths = [int(total * w / sum(weights)) for w in weights]
    widths[-1] = total - sum(widths[:-1])
    return widths


class SlideDeck:
    """A 16:9 deck whose slides each carry a title and the provenance footer."""

    def __init__(self, provenance) -> None:
        self.prov = provenance
        self.prs = Presentation()
        self.prs.slide_width = Emu(12192000)  # PowerPoint's own 16:9 size, 13.333 x 7.5 in
        self.prs.slide_height = Emu(6858000)
        self.prs.core_properties.title = _("Tumour-board pack")
        self.prs.core_properties.subject = provenance.footer()

    # -- primitives --
    def _text(
        self,
        slide,
        left,
        top,
        width,
        height,
        lines: Sequence[str],
        size: float,
        *,
        bold: bool = False,
        color: RGBColor | None = None,
        gap: float = 0,
    ):
        box = slide.shapes.add_textbox(PInches(left), PInches(top), PInches(width), PInches(height))
        frame = box.text_frame
        frame.word_wrap = True
        for i, line in enumerate(lines):
            para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            if gap and i:
                para.space_before = PPt(gap)
            run = para.add_run()
            run.text = line
            run.font.size = PPt(size)
            run.font.bold = bold
            if color is not None:
                run.font.color.rgb = color
        return box

    def _slide(self, title: str, *, endpoint: str | None = None, method: str | None = None):
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[_BLANK_LAYOUT])
        size = TITLE_PT if len(title) <= 52 else 24  # one line at 16:9
        self._text(slide, MARGIN, 0.3, SLIDE_W - 2 * MARGIN, 0.9, [title], size, bold=True)
        self._text(
            slide,
            MARGIN,
            FOOTER_TOP,
            SLIDE_W - 2 * MARGIN,
            0.5,
            [self.prov.footer(endpoint=endpoint, method=method)],
            10,
            color=GREY,
        )
        return slide

    def _picture(self, slide, png: bytes, left, top, width, height) -> float:
        w, h = _fit(png, width, height)
        slide.shapes.add_picture(
            io.BytesIO(png), PInches(left), PInches(top), PInches(w), PInches(h)
        )
        return h

    # -- slide kinds --
    def title_slide(self, title: str, lines: Sequence[str]) -> None:
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[_BLANK_LAYOUT])
        self._text(slide, 0.8, 1.6, SLIDE_W - 1.6, 1.4, [title], 40, bold=True)
        self._text(slide, 0.8, 3.2, SLIDE_W - 1.6, 3.2, lines, 22, gap=8)

    def bullets(
        self,
        title: str,
        items: Sequence[str],
        *,
        size: float = 20,
        method: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        """Bulleted text, continued on further slides when it does not fit one."""
        width = SLIDE_W - 2 * MARGIN
        room = (BODY_BOTTOM - BODY_TOP) * 72 / (size * 1.25)  # lines per slide
        pages: list[list[str]] = [[]]
        used = 0.0
        for item in items:
            need = _lines_needed(item, width - 0.3, size) + 0.6  # + paragraph gap
            if pages[-1] and used + need > room:
                pages.append([])
                used = 0.0
            pages[-1].append(item)
            used += need
        for i, page in enumerate(pages):
            suffix = _(" ({i} of {n})").format(i=i + 1, n=len(pages)) if len(pages) > 1 else ""
            slide = self._slide(title + suffix, endpoint=endpoint, method=method)
            self._text(
                slide,
                MARGIN,
                BODY_TOP,
                width,
                BODY_BOTTOM - BODY_TOP,
                [f"\u2022 {t}" for t in page],
                size,
                gap=size * 0.6,
            )

    def chart(self, title: str, png: bytes, *, endpoint=None, method=None) -> None:
        slide = self._slide(title, endpoint=endpoint, method=method)
        self._picture(slide, png, MARGIN, BODY_TOP, SLIDE_W - 2 * MARGIN, BODY_BOTTOM - BODY_TOP)

    def chart_with_box(
        self, title: str, png: bytes | None, lines: Sequence[str], *, endpoint=None, method=None
    ) -> None:
        """A chart on the left two thirds and the answer box (native text) on the right."""
        slide = self._slide(title, endpoint=endpoint, method=method)
        box_left = 8.75
        if png is not None:
            self._picture(
                slide, png, MARGIN, BODY_TOP, box_left - MARGIN - 0.2, BODY_BOTTOM - BODY_TOP
            )
        box = self._text(
            slide,
            box_left,
            BODY_TOP,
            SLIDE_W - box_left - MARGIN,
            BODY_BOTTOM - BODY_TOP,
            lines,
            16,
            gap=10,
        )
        box.fill.solid()
        box.fill.fore_color.rgb = BOX_FILL

    def table(
        self,
        title: str,
        frame: pd.DataFrame,
        *,
        endpoint=None,
        method=None,
        notes: Sequence[str] = (),
        rows_per_slide: int = 12,
    ) -> None:
        """A native (editable) table of display strings, header row shaded and bold.

        A longer table continues on further slides ("(2 of 3)"), the header repeated.
        """
        n_pages = max(1, math.ceil(len(frame) / rows_per_slide))
        for i in range(n_pages):
            part = frame.iloc[i * rows_per_slide : (i + 1) * rows_per_slide]
            suffix = _(" ({i} of {n})").format(i=i + 1, n=n_pages) if n_pages > 1 else ""
            self._table_slide(
                title + suffix,
                part,
                endpoint=endpoint,
                method=method,
                notes=notes if i == n_pages - 1 else (),
            )

    def _table_slide(self, title: str, frame: pd.DataFrame, *, endpoint, method, notes) -> None:
        slide = self._slide(title, endpoint=endpoint, method=method)
        cells = [[str(c) for c in frame.columns]] + [
            ["" if v is None else str(v) for v in row] for row in frame.itertuples(index=False)
        ]
        n_rows, n_cols = len(cells), len(frame.columns)
        width = SLIDE_W - 2 * MARGIN
        row_h = TABLE_PT * 2.0 / 72
        shape = slide.shapes.add_table(
            n_rows,
            n_cols,
            PInches(MARGIN),
            PInches(BODY_TOP),
            PInches(width),
            PInches(row_h * n_rows),
        )
        table = shape.table
        for column, col_w in zip(
            table.columns, _column_widths(cells, int(PInches(width))), strict=True
        ):
            column.width = Emu(col_w)
        for i, row in enumerate(cells):
            table.rows[i].height = PInches(row_h)
            for j, value in enumerate(row):
                cell = table.cell(i, j)
                cell.margin_top = cell.margin_bottom = PPt(2)
                para = cell.text_frame.paragraphs[0]
                run = para.add_run()
                run.text = value
                run.font.size = PPt(TABLE_PT)
                run.font.bold = i == 0
                cell.fill.solid()
                cell.fill.fore_color.rgb = HEADER_FILL if i == 0 else RGBColor(0xFF, 0xFF, 0xFF)
                run.font.color.rgb = RGBColor(0, 0, 0)
        if notes:
            top = BODY_TOP + row_h * n_rows + 0.15
            if top < BODY_BOTTOM - 0.3:
                self._text(
                    slide, MARGIN, top, width, BODY_BOTTOM - top, list(notes), 12, color=GREY
                )

    def save(self) -> bytes:
        if get_language() == "zh":
            for slide in self.prs.slides:
                for shape in slide.shapes:
                    _pptx_east_asian(shape.element)
        buffer = io.BytesIO()
        self.prs.save(buffer)
        return buffer.getvalue()


class ReportDocument:
    """An A4 Word document with the provenance stamp in every page's header and footer."""

    def __init__(self, provenance) -> None:
        self.prov = provenance
        self.doc = Document()
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Cm(1.8))
        self.text_width = Cm(21.0 - 3.6)
        header = section.header.paragraphs[0]
        header.text = " · ".join(
            [
                _("Tumour-board report"),
                provenance.population,
                *([_("synthetic demo data")] if provenance.is_demo else []),
                _("data {fingerprint}").format(fingerprint=provenance.fingerprint),
            ]
        )
        footer = section.footer.paragraphs[0]
        footer.text = provenance.footer()
        for para in (header, footer):
            for run in para.runs:
                run.font.size = Pt(8)
                run.font.color.rgb = DocxRGB(0x55, 0x55, 0x55)
        self.doc.core_properties.title = _("Tumour-board report")
        self.doc.core_properties.subject = provenance.footer()

    def heading(self, text: str, level: int) -> None:
        self.doc.add_heading(text, level)

    def paragraph(self, text: str, *, size: float | None = None) -> None:
        para = self.doc.add_paragraph()
        run = para.add_run(text)
        if size:
            run.font.size = Pt(size)

    def bullet(self, text: str) -> None:
        self.doc.add_paragraph(text, style="List Bullet")

    def picture(self, png: bytes | None, caption: str) -> None:
        if png is None:
            return
        self.doc.add_picture(io.BytesIO(png), width=min(self.text_width, Inches(6.6)))
        para = self.doc.add_paragraph()
        run = para.add_run(caption)
        run.italic = True
        run.font.size = Pt(9)

    def table(self, frame: pd.DataFrame) -> None:
        """A native Word table of display strings, header row bold."""
        n_cols = len(frame.columns)
        size = Pt(8 if n_cols > 6 else 9)
        table = self.doc.add_table(rows=1 + len(frame), cols=n_cols)
        table.style = "Table Grid"
        rows = [[str(c) for c in frame.columns]] + [
            ["" if v is None else str(v) for v in row] for row in frame.itertuples(index=False)
        ]
        widths = _column_widths(rows, int(self.text_width), low=7, high=22)
        table.autofit = False
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width  # the grid LibreOffice reads; Word reads the cells' widths
        # row.cells once per row: table.cell(i, j) rescans the whole table on every call.
        for i, (row, values) in enumerate(zip(table.rows, rows, strict=True)):
            for cell, value, width in zip(row.cells, values, widths, strict=True):
                cell.width = width
                para = cell.paragraphs[0]
                run = para.add_run(value)
                run.font.size = size
                run.bold = i == 0
        self.doc.add_paragraph()

    def save(self) -> bytes:
        if get_language() == "zh":
            for run in self.doc.element.iter(qn("w:r")):
                _docx_east_asian(run)
            for section in self.doc.sections:
                for part in (section.header, section.footer):
                    for para in part.paragraphs:
                        for run in para.runs:
                            _docx_east_asian(run.element)
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()
