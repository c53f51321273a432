"""Reading a user's cohort file: CSV/XLSX detection, encodings, limits, column mapping.

Everything is parsed from memory (``io.BytesIO``/``io.StringIO``); nothing the user uploads is
written to disk. Validation and derived fields live in :mod:`hcc_core.validate`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import time
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from . import limits
from . import schema as s
from .arrow_csv import body_codes, cells, read_codes
from .errors import CohortError
from .i18n import N_, _
from .validate import validate_cohort

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_FIELD_CHARS",
    "COHORT_SHEET",
    "Cohort",
    "read_table",
    "read_upload",
    "Upload",
    "load_cohort",
    "suggest_mapping",
    "default_sheet",
    "workbook_sheets",
    "unmatched_required",
    "example_values",
]

# The limits live in hcc_core.limits (shared with the upload page and .streamlit/config.toml).
DEFAULT_MAX_BYTES = limits.MAX_UPLOAD_BYTES
MAX_FIELD_CHARS = limits.MAX_FIELD_CHARS
COHORT_SHEET = "cohort"

Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO

_BINARY_MAGIC = (
    (b"\x89PNG", N_("a PNG image")),
    (b"%PDF", N_("a PDF document")),
    (b"\xff\xd8\xff", N_("a JPEG image")),
    (b"GIF8", N_("a GIF image")),
    (b"\xd0\xcf\x11\xe0", N_("an old-style Excel (.xls) or Word (.doc) file")),
    (b"\x1f\x8b", N_("a gzip archive")),
    (b"Rar!", N_("a RAR archive")),
    (b"7z\xbc\xaf", N_("a 7-Zip archive")),
)
# Translated where it is shown: _(_FIX_FORMAT).
_FIX_FORMAT = N_(
    "Upload the cohort as a .csv file (UTF-8 or GBK) or as an .xlsx workbook; in "
    "Excel use 'Save As' and choose 'CSV UTF-8' or 'Excel Workbook (.xlsx)'."
)
_AE_NAME = re.compile(r"^ae_[a-z0-9_]+$")


@dataclass(frozen=True, eq=False)
class Cohort:
    """A loaded, validated cohort.

    Attributes
    ----------
    data : DataFrame
        Canonical columns (schema order, then extra ``ae_*``), dtypes per the data contract,
        derived fields added, RangeIndex. One row per patient.
    warnings : tuple of str
        Non-fatal findings as full sentences (derived fields, excluded rows, dropped columns).
    source_name : str
        File name used in messages.
    n_rows_read : int
        Data rows below the header in the file, completely empty rows included.
    sha256 : str
        Hex SHA-256 of the uploaded bytes (a cache key per upload).
    mapping : dict
        The renames applied, {user column -> canonical column}.
    derived : tuple of str
        Canonical columns computed rather than read (e.g. ``albi_grade``).
    sheet : str
        The workbook sheet that was read ("" for CSV).
    """

    data: pd.DataFrame
    warnings: tuple[str, ...] = ()
    source_name: str = ""
    n_rows_read: int = 0
    sha256: str = ""
    mapping: Mapping[str, str] = field(default_factory=dict)
    derived: tuple[str, ...] = ()
    sheet: str = ""

    @property
    def n_pfs_death_at_censoring(self) -> int:
        """Patients who died at the time their PFS was censored in the file (see load_cohort)."""
        flag = self.data.get(s.PFS_DEATH_AT_CENSORING)
        return 0 if flag is None else int(flag.sum())


# Bytes ---------------------------------------------------------------------------------------


def _source_name(source: object, filename: str | None) -> str:
    if filename:
        return Path(str(filename)).name
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    name = getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) and name else _("the uploaded file")


def _too_big(name: str, size: int, max_bytes: int) -> CohortError:
    return CohortError(
        _(
            "The file '{name}' is {size} MB, more than the limit of {limit} MB. Remove columns "
            "the app does not use (free-text notes, images) or split the file, then upload it "
            "again."
        ).format(name=name, size=f"{size / 1e6:.1f}", limit=f"{max_bytes / 1e6:.1f}")
    )


def _read_bytes(source: Source, name: str, max_bytes: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise CohortError(
                _("The file '{name}' does not exist. Check the path and try again.").format(
                    name=path
                )
            )
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_big(name, size, max_bytes)
        data = path.read_bytes()
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read(max_bytes + 1)
        if isinstance(data, str):
            raise CohortError(
                _("'{name}' was opened as text; open it in binary mode ('rb').").format(name=name)
            )
    else:
        raise CohortError(
            _(
                "Cannot read a cohort from a {type}; give a file path, bytes or a binary file "
                "object."
            ).format(type=type(source).__name__)
        )
    if len(data) > max_bytes:
        raise _too_big(name, len(data), max_bytes)
    return data


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        return data.decode("utf-16"), "utf-16"
    for encoding in ("utf-8", "gb18030"):  # GB18030 is a superset of GBK and GB2312
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise CohortError(
        _(
            "The file '{name}' is neither UTF-8 nor GBK/GB18030 text, so its characters cannot "
            "be read reliably. {fix}"
        ).format(name=name, fix=_(_FIX_FORMAT))
    )


def _check_not_binary(data: bytes, name: str) -> None:
    ext = Path(name).suffix.lower()
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            raise CohortError(
                _("The file '{name}' is {what}, not a cohort table. {fix}").format(
                    name=name, what=_(what), fix=_(_FIX_FORMAT)
                )
            )
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if b"\x00" in data[:8192] and not utf16:
        damaged = (
            _(" (it is named like a workbook but is not a valid one)")
            if ext in (".xlsx", ".xlsm")
            else ""
        )
        raise CohortError(
            _("The file '{name}' is not a CSV or Excel file{damaged}. {fix}").format(
                name=name, damaged=damaged, fix=_(_FIX_FORMAT)
            )
        )


# Parsing -------------------------------------------------------------------------------------


def _header_names(cells: Iterable[object], name: str) -> list[str]:
    names = []
    for i, cell in enumerate(cells, start=1):
        text = "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell)
        text = text.replace("\ufeff", "").strip()
        names.append(text or _("(column {i} without a header)").format(i=i))
    seen: dict[str, int] = {}
    for i, n in enumerate(names, start=1):
        if n in seen:
            raise CohortError(
                _(
                    "The file '{name}' has two columns named '{column}' (columns {first} and "
                    "{second}). Rename or delete one of them so that every column header is "
                    "unique."
                ).format(name=name, column=n, first=seen[n], second=i)
            )
        seen[n] = i
    return names


def _parser_message(error: str, name: str) -> str:
    """Pandas' tokenizer error, rewritten for the person who made the file."""
    if m := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", error):
        return _(
            "Row {row} of '{name}' has {cells} cells but the header has {expected}. A value "
            "that contains the separator must be in double quotes; check that row and "
            "upload the file again."
        ).format(row=m[2], name=name, cells=m[3], expected=m[1])
    if m := re.search(r"EOF inside string starting at row (\d+)", error):
        return _(
            "A quote (\") opened in row {row} of '{name}' is never closed, so the rest of the "
            "file reads as one cell. Remove the stray quote or close it, and upload the file "
            "again."
        ).format(row=int(m[1]) + 1, name=name)
    return _("The file '{name}' could not be read as a table ({error}). {fix}").format(
        name=name, error=error, fix=_(_FIX_FORMAT)
    )


def _delimiter(text: str) -> str:
    """Tab, semicolon or comma: the one that splits the header record into the most fields.

    Fields are counted with the ``csv`` module, so a separator inside quotes does not count
    (``"Age, years";"Sex, M/F"`` has two fields with ';' and one with ','). Ties go to comma.
    """
    head = text.lstrip("\ufeff")[:65536]

    def fields(d: str) -> int:
        try:
            return len(next(csv.reader(io.StringIO(head), delimiter=d, quotechar='"'), []))
        except csv.Error:  # e.g. a NUL byte: let pandas report the problem
            return 0

    counts = {d: fields(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _too_many_rows(name: str, max_rows: int) -> CohortError:
    return CohortError(
        _(
            "The file '{name}' has more than {max_rows} patient rows, the most the app reads "
            "from one file. Split it into smaller files (for example by year of treatment) or "
            "delete rows that are not patients, then upload it again."
        ).format(name=name, max_rows=f"{max_rows:,}")
    )


Deadline = tuple[float, float] | None  # (time.monotonic() to stop at, the budget in seconds)


def timed_out(name: str, seconds: float) -> CohortError:
    """The message of a read stopped by its time budget (here or by hcc_core.isolate)."""
    return CohortError(
        _(
            "Reading '{name}' took longer than {seconds} seconds, the limit for one file, and "
            "was stopped. Save it as CSV UTF-8 (much faster to read than .xlsx) or delete "
            "columns and rows the app does not use, then upload it again."
        ).format(name=name, seconds=f"{seconds:g}")
    )


def _check_deadline(deadline: Deadline, name: str) -> None:
    if deadline is not None and time.monotonic() > deadline[0]:
        raise timed_out(name, deadline[1])


def _csv_pandas(text: str, delimiter: str, name: str, nrows: int | None = None) -> pd.DataFrame:
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,
            engine="c",
            nrows=nrows,
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError as exc:
        raise CohortError(_parser_message(str(exc), name)) from None


def _parse_csv(
    data: bytes, name: str, max_rows: int, max_chars: int, deadline: Deadline
) -> tuple[pd.DataFrame, str, bool, dict]:
    """(body with the user's headers, delimiter, whether cells must be checked for length,
    {header -> (codes, distinct values)} when the reader gave them for free)."""
    text, encoding = _decode(data, name)
    delimiter = _delimiter(text)
    _check_deadline(deadline, name)
    if encoding == "utf-8":
        utf8 = data
    elif encoding == "utf-8-sig":
        utf8 = data[3:]
    else:
        utf8 = text.encode("utf-8")
    # Lines are an upper bound of records: only a file with more lines than the cap is read
    # with a row limit (so a 10-million-row file stops after max_rows + 1 rows).
    end = b"\n" if b"\n" in utf8 else b"\r"
    n_lines = utf8.count(end) + (not utf8.endswith(end))  # the header line included
    arrow = None if n_lines - 1 > max_rows else read_codes(utf8, delimiter, max_chars)
    if arrow is not None:
        _check_deadline(deadline, name)
        factorized, check_lengths = arrow
        header = _header_names([u[k[0]] if k[0] >= 0 else None for k, u in factorized], name)
        codes = {h: body_codes(*pair) for h, pair in zip(header, factorized, strict=True)}
        body = pd.DataFrame({h: cells(*pair) for h, pair in codes.items()}, copy=False)
        return body, delimiter, check_lengths, codes
    table = _csv_pandas(text, delimiter, name, nrows=max_rows + 2)
    if len(table) - 1 > max_rows:
        raise _too_many_rows(name, max_rows)
    # Cheap pre-check: only look at cells when a line is long enough to hold a long cell,
    # or when quoted cells span lines (more lines than rows).
    lines = data.splitlines()
    check_lengths = len(lines) > len(table) + 1 or max(map(len, lines), default=0) > max_chars
    _check_deadline(deadline, name)
    if table.empty:
        return table, delimiter, False, {}
    body = table.iloc[1:]
    body.columns = _header_names(table.iloc[0].tolist(), name)
    return body, delimiter, check_lengths, {}


def _check_workbook_archive(data: bytes, name: str) -> None:
    """Refuse a workbook whose zip directory promises more data than the limits allow.

    Only the directory at the end of the archive is read (no part is decompressed), so a
    "zip bomb" is refused in milliseconds instead of being parsed for minutes.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a readable archive: openpyxl's own error message follows
    total = sum(p.file_size for p in parts)
    if total > limits.MAX_XLSX_UNCOMPRESSED_BYTES:
        raise CohortError(
            _(
                "The workbook '{name}' expands to {size} MB of sheet data when opened, more than "
                "the limit of {limit} MB. Save the sheet as CSV UTF-8 in Excel (smaller and "
                "faster to read) or split the workbook, then upload it again."
            ).format(
                name=name,
                size=f"{total / 1e6:,.0f}",
                limit=f"{limits.MAX_XLSX_UNCOMPRESSED_BYTES / 1e6:,.0f}",
            )
        )
    for part in parts:
        if part.file_size <= limits.XLSX_RATIO_FLOOR_BYTES:
            continue
        ratio = part.file_size / max(part.compress_size, 1)
        if ratio > limits.MAX_XLSX_COMPRESSION_RATIO:
            raise CohortError(
                _(
                    "The workbook '{name}' contains a part ('{part}') compressed {ratio} to 1, "
                    "more than the limit of {limit} to 1; Excel does not write such files, they "
                    "are made to exhaust a server's memory. Open the file in Excel and save it "
                    "again, or save the sheet as CSV UTF-8, then upload it again."
                ).format(
                    name=name,
                    part=part.filename,
                    ratio=f"{ratio:,.0f}",
                    limit=limits.MAX_XLSX_COMPRESSION_RATIO,
                )
            )


def _open_workbook(data: bytes, name: str):
    import openpyxl  # lazy: only needed for workbooks

    _check_workbook_archive(data, name)
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged archives
        raise CohortError(
            _(
                "The file '{name}' looks like an Excel workbook but could not be opened; it may "
                "be damaged, password-protected or not really an .xlsx file ({error}). Open it "
                "in Excel and save it again, or export it as CSV. {fix}"
            ).format(name=name, error=type(exc).__name__, fix=_(_FIX_FORMAT))
        ) from None


def default_sheet(sheets: Iterable[str]) -> str:
    """The sheet read when none is chosen: the one named 'cohort' (any case), else the first."""
    names = list(sheets)
    by_key = {n.strip().lower(): n for n in names}
    return by_key.get(COHORT_SHEET, names[0] if names else "")


def _sheet_rows(ws, name: str, max_rows: int, deadline: Deadline) -> list[tuple]:
    rows = []
    for i, row in enumerate(ws.iter_rows(values_only=True)):
        if i > max_rows:  # row 0 is the header
            raise _too_many_rows(name, max_rows)
        if i % 2000 == 0:
            _check_deadline(deadline, name)
        rows.append(row)
    return rows


def _parse_xlsx(
    data: bytes, name: str, sheet: str | None, max_rows: int, deadline: Deadline
) -> tuple[pd.DataFrame, str, tuple[str, ...]]:
    wb = _open_workbook(data, name)
    try:
        sheets = tuple(wb.sheetnames)
        chosen = sheet if sheet is not None else default_sheet(wb.sheetnames)
        if chosen not in wb.sheetnames:
            raise CohortError(
                _(
                    "The workbook '{name}' has no sheet named '{sheet}'; its sheets are "
                    "{sheets}. Choose one of them."
                ).format(name=name, sheet=chosen, sheets=", ".join(repr(n) for n in wb.sheetnames))
            )
        try:
            rows = _sheet_rows(wb[chosen], name, max_rows, deadline)
        except CohortError:
            raise
        except Exception as exc:  # a damaged sheet inside a readable archive
            raise CohortError(
                _(
                    "The sheet '{sheet}' of '{name}' could not be read ({error}). Open the "
                    "workbook in Excel and save it again, or export it as CSV. {fix}"
                ).format(sheet=chosen, name=name, error=type(exc).__name__, fix=_(_FIX_FORMAT))
            ) from None
    finally:
        wb.close()
    if not rows:
        return pd.DataFrame(), chosen, sheets
    width = max(
        (i + 1 for i, c in enumerate(rows[0]) if c is not None and str(c).strip()), default=0
    )
    for r, row in enumerate(rows[1:], start=2):
        extra = [c for c in row[width:] if c is not None and str(c).strip()]
        if extra:
            raise CohortError(
                _(
                    "Row {row} of '{name}' has values to the right of the last column header "
                    "(e.g. '{value}'). Give that column a header or delete those cells."
                ).format(row=r, name=name, value=extra[0])
            )
    header = _header_names(rows[0][:width], name)
    body = pd.DataFrame([row[:width] for row in rows[1:]], columns=header, dtype=object)
    body = body.map(lambda v: np.nan if v is None or (isinstance(v, str) and not v.strip()) else v)
    return body, chosen, sheets


def _check_long_fields(table: pd.DataFrame, name: str, max_chars: int) -> None:
    for column in table.columns:
        values = table[column]
        lengths = values.map(lambda v: len(v) if isinstance(v, str) else 0).to_numpy()
        if lengths.max(initial=0) > max_chars:
            i = int(np.argmax(lengths))
            raise CohortError(
                _(
                    "Column '{column}' in row {row} of '{name}' holds {n} characters; at most "
                    "{limit} are allowed per cell. This usually means a quote (\") that is "
                    "never closed, or pasted text/images; fix that cell and upload the file "
                    "again."
                ).format(
                    column=column,
                    row=table.index[i],
                    name=name,
                    n=f"{lengths[i]:,}",
                    limit=f"{max_chars:,}",
                )
            )


@dataclass(frozen=True, eq=False)
class Upload:
    """A file as read, once, before its columns are mapped (see :func:`read_upload`).

    Attributes
    ----------
    table : DataFrame
        The user's headers and cells, as :func:`read_table` returns them (index = row number in
        the file, header = row 1).
    name, sha256 : str
        File name for messages; hex SHA-256 of the file's bytes.
    delimiter : str
        The CSV delimiter ("" for workbooks).
    sheet : str
        The workbook sheet read ("" for CSV).
    sheets : tuple of str
        All sheets of the workbook (``()`` for CSV).
    blank : ndarray of bool
        Rows whose every cell is empty.
    codes : dict
        {header -> (codes, distinct values)} of CSV columns as ``pd.factorize`` gives them (free
        from the reader; validation reuses them instead of hashing every cell again).
    """

    table: pd.DataFrame
    name: str
    sha256: str
    delimiter: str
    sheet: str
    sheets: tuple[str, ...]
    blank: np.ndarray
    codes: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def __reduce_ex__(self, protocol):
        # Sent from hcc_core.isolate's child as codes, the table rebuilt from them: pickling
        # 100,000 x 40 cells one object at a time cost more than reading the file.
        if list(self.codes) != list(self.table.columns):  # workbooks, pandas-read CSVs
            return super().__reduce_ex__(protocol)
        kept = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "table"}
        return _upload_from_codes, (kept, int(self.table.index[0]))


def _upload_from_codes(kept: dict, first_row: int) -> Upload:
    table = pd.DataFrame({c: cells(*pair) for c, pair in kept["codes"].items()}, copy=False)
    table.index = pd.RangeIndex(first_row, first_row + len(table), name="row")
    return Upload(table=table, **kept)


def _read(
    source: Source,
    filename: str | None,
    max_bytes: int,
    max_field_chars: int,
    sheet: str | None = None,
    max_rows: int = limits.MAX_ROWS,
    seconds: float | None = None,
) -> Upload:
    deadline = None if seconds is None else (time.monotonic() + seconds, seconds)
    name = _source_name(source, filename)
    data = _read_bytes(source, name, max_bytes)
    if not re.search(rb"[^ \t\r\n\xef\xbb\xbf]", data):  # as data.strip(...), without a copy
        raise CohortError(
            _(
                "The file '{name}' is empty. Upload a file whose first row holds the column "
                "headers and each further row one patient."
            ).format(name=name)
        )
    delimiter = chosen = ""
    sheets: tuple[str, ...] = ()
    codes: dict = {}
    if data.startswith(b"PK\x03\x04"):
        table, chosen, sheets = _parse_xlsx(data, name, sheet, max_rows, deadline)
        check_lengths = True
    else:
        _check_not_binary(data, name)
        table, delimiter, check_lengths, codes = _parse_csv(
            data, name, max_rows, max_field_chars, deadline
        )
    table.index = pd.RangeIndex(2, 2 + len(table), name="row")
    if check_lengths:
        _check_long_fields(table, name, max_field_chars)
    # the reader's codes say which cells are empty without looking at every cell again
    missing = np.column_stack([k < 0 for k, _ in codes.values()]) if codes else table.isna()
    missing = np.asarray(missing, dtype=bool)
    if table.shape[1] == 0 or missing.all():
        raise CohortError(
            _(
                "The file '{name}' has a header row but no patient rows. Add one row per patient "
                "below the header and upload it again."
            ).format(name=name)
            if table.shape[1]
            else _(
                "The file '{name}' is empty. Upload a file whose first row holds the column "
                "headers."
            ).format(name=name)
        )
    blank = missing.all(axis=1)
    sha = hashlib.sha256(data).hexdigest()
    return Upload(table, name, sha, delimiter, chosen, sheets, blank, codes)


def read_upload(
    source: Source,
    filename: str | None = None,
    *,
    sheet: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = limits.MAX_ROWS,
    seconds: float | None = None,
) -> Upload:
    """Read a file once for the upload wizard: its table, sheets and fingerprint.

    Parameters and errors as :func:`read_table`; pass the result to :func:`load_cohort` to
    validate it without parsing the file again. Run it through
    :func:`hcc_core.isolate.run_bounded` to bound its time and memory in a child process.
    """
    return _read(source, filename, max_bytes, MAX_FIELD_CHARS, sheet, max_rows, seconds)


def workbook_sheets(source: Source, filename: str | None = None) -> tuple[str, ...]:
    """The sheet names of an .xlsx workbook, in workbook order; ``()`` for any other file.

    The sheet read by default is :func:`default_sheet` of these; pass another as ``sheet`` to
    :func:`read_table` and :func:`load_cohort`.
    """
    name = _source_name(source, filename)
    data = _read_bytes(source, name, DEFAULT_MAX_BYTES)
    if not data.startswith(b"PK\x03\x04"):
        return ()
    wb = _open_workbook(data, name)
    try:
        return tuple(wb.sheetnames)
    finally:
        wb.close()


def read_table(
    source: Source,
    filename: str | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_field_chars: int = MAX_FIELD_CHARS,
    sheet: str | None = None,
    max_rows: int = limits.MAX_ROWS,
    seconds: float | None = None,
) -> pd.DataFrame:
    """Read the user's table as it is, for the upload/mapping step.

    Parameters
    ----------
    source : path, bytes or binary file-like
        The file. Format is detected from the content (xlsx = zip archive); ``filename`` is used
        in messages only.
    filename : str, optional
        Name shown in messages (default: taken from the path or the file object).
    max_bytes, max_field_chars : int
        Size limit of the file and of one cell.
    sheet : str, optional
        Workbook sheet to read (default: the sheet named 'cohort', else the first; see
        :func:`workbook_sheets`). Ignored for CSV.
    max_rows : int
        Most patient rows read (default ``limits.MAX_ROWS``); a longer file is refused as soon
        as the read passes that row.
    seconds : float, optional
        Time budget of the read; past it the read stops with a CohortError. A workbook's zip
        directory is checked against ``limits.MAX_XLSX_*`` before any sheet is parsed.

    Returns
    -------
    DataFrame
        The user's own headers; CSV cells as strings, XLSX cells as parsed by Excel (numbers,
        dates, text); empty cells NaN. The index (named ``row``) is the row number in the file
        with the header as row 1. Completely empty rows are kept.

    Raises
    ------
    CohortError
        Empty file, header only, not CSV/XLSX, damaged workbook, too large (bytes, rows, or a
        workbook that expands beyond the limits), too slow, overlong cell, ragged rows or
        duplicate headers.

    Notes
    -----
    CSV: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (superset of GBK);
    delimiter = whichever of tab, semicolon, comma splits the header record into the most
    fields, quotes respected (Python's ``csv`` module); parsed by Arrow's CSV reader, or by
    pandas' for files Arrow cannot read identically (ragged rows, blank lines, line breaks in
    quotes). Like R's ``read.csv(file, colClasses = "character", fileEncoding = "GB18030")``.
    """
    return _read(source, filename, max_bytes, max_field_chars, sheet, max_rows, seconds).table


# Mapping -------------------------------------------------------------------------------------


def _header_key(text: object) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", str(text)).lower())


def _without_brackets(text: object) -> str:
    return re.sub(r"[(\[{【].*?[)\]}】]", " ", unicodedata.normalize("NFKC", str(text)))


_CANONICAL_KEYS = {_header_key(c.name): c.name for c in s.COLUMNS}
_SYNONYM_INDEX = {
    _header_key(syn): canonical
    for canonical, synonyms in s.SYNONYMS.items()
    for syn in (*synonyms, canonical)
}


def _canonical_name(header: str) -> str | None:
    """The canonical column a header names exactly (case-insensitive), else None."""
    text = str(header).strip()
    if text in s.COLUMN_BY_NAME:
        return text
    lowered = text.lower()
    if lowered in s.COLUMN_BY_NAME or _AE_NAME.match(lowered):
        return lowered
    return None


def suggest_mapping(columns: Iterable[object]) -> dict[str, str]:
    """Propose canonical names for a user's column headers.

    Parameters
    ----------
    columns : iterable
        The user's headers (e.g. ``read_table(f).columns``).

    Returns
    -------
    dict
        {user header -> canonical column} for the headers recognised, in the user's order.
        Each canonical column is proposed at most once: a header that is already the canonical
        name wins, otherwise the first header that matches.

    Notes
    -----
    Headers are compared after NFKC width folding, lower-casing and removing spaces,
    underscores and punctuation, against ``schema.SYNONYMS``; if that fails, again with
    bracketed parts such as units removed ("白蛋白(g/L)" -> albumin_g_l). A dictionary lookup,
    not fuzzy matching: a proposal the user confirms, never a guess applied silently.
    """
    headers = [str(c) for c in columns]
    found: dict[str, str] = {}
    for h in headers:
        exact = _canonical_name(h)
        if exact is not None:
            found[h] = exact
    taken = set(found.values())
    for h in headers:
        if h in found:
            continue
        target = _SYNONYM_INDEX.get(_header_key(h)) or _SYNONYM_INDEX.get(
            _header_key(_without_brackets(h))
        )
        if target is not None and target not in taken:
            found[h] = target
            taken.add(target)
    return {h: found[h] for h in headers if h in found}


def _apply_mapping(
    table: pd.DataFrame, mapping: Mapping[str, str | None] | None, name: str
) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    mapping = dict(mapping or {})
    unknown_sources = [c for c in mapping if c not in table.columns]
    if unknown_sources:
        raise CohortError(
            _(
                "The column mapping refers to {columns}, which the file '{name}' does not have. "
                "Redo the column mapping for this file."
            ).format(columns=", ".join(repr(c) for c in unknown_sources), name=name)
        )
    renames: dict[str, str] = {}
    ignored: list[str] = []
    for user, target in mapping.items():
        if target is None or str(target).strip() == "":
            ignored.append(user)  # the user chose "do not use this column"
            continue
        canonical = _canonical_name(str(target))
        if canonical is None:
            raise CohortError(
                _(
                    "The column mapping sends '{user}' to '{target}', which is not a column of "
                    "the data dictionary. Choose one of the dictionary's column names."
                ).format(user=user, target=target)
            )
        renames[user] = canonical
    dropped: list[str] = []
    for column in table.columns:
        if column in renames or column in ignored:
            continue
        canonical = _canonical_name(column)
        if canonical is None:
            dropped.append(column)
        else:
            renames[column] = canonical
    targets: dict[str, list[str]] = {}
    for user, canonical in renames.items():
        targets.setdefault(canonical, []).append(user)
    clashes = {c: users for c, users in targets.items() if len(users) > 1}
    if clashes:
        canonical, users = next(iter(clashes.items()))
        raise CohortError(
            _(
                "The columns {columns} of '{name}' would all become '{canonical}'. Map only one "
                "of them to '{canonical}' and set the others to 'do not use'."
            ).format(columns=", ".join(repr(u) for u in users), name=name, canonical=canonical)
        )
    warnings = []
    if dropped:
        hints = suggest_mapping(dropped)
        hint = ""
        if hints:
            hint = _(" Suggested: {pairs}.").format(
                pairs=", ".join(f"'{u}' -> {c}" for u, c in hints.items())
            )
        warnings.append(
            _(
                "{n} column(s) of '{name}' are not in the data dictionary and were not used: "
                "{columns}. Map them in the upload step if they hold data the app needs.{hint}"
            ).format(
                n=len(dropped), name=name, columns=", ".join(repr(c) for c in dropped), hint=hint
            )
        )
    # The kept columns under their new names, sharing the read table's arrays (nothing below
    # writes into them): selecting and renaming copied every cell, twice.
    used = pd.DataFrame({renames[c]: table[c] for c in renames}, index=table.index, copy=False)
    return used, {u: c for u, c in renames.items() if u != c}, warnings


def load_cohort(
    source: Source | Upload,
    mapping: Mapping[str, str | None] | None = None,
    *,
    filename: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    death_as_pfs_event: bool = True,
    sheet: str | None = None,
    max_rows: int = limits.MAX_ROWS,
    seconds: float | None = None,
) -> Cohort:
    """Load, map, validate and complete a cohort file.

    Parameters
    ----------
    source : path, bytes, binary file-like or Upload
        A .csv (UTF-8/GBK, comma/semicolon/tab) or .xlsx (sheet 'cohort', else the first), or
        the :class:`Upload` that :func:`read_upload` made of it (then ``filename``, ``sheet``
        and the limits are those of that read).
    mapping : dict, optional
        {user column -> canonical column}; a value of ``None`` or ``""`` means "do not use".
        Unmapped columns whose header is a canonical name (any case) are kept; other unmapped
        columns are dropped with a warning that names them and suggests a mapping.
    filename : str, optional
        Name used in messages (default: from the path or file object).
    max_bytes : int
        Size limit (default ``limits.MAX_UPLOAD_BYTES``, 50 MB = 50,000,000 bytes).
    death_as_pfs_event : bool
        A patient who died (os_event = 1) at the time PFS was censored (pfs_event = 0 at the
        same time) gets pfs_event = 1 (default: the RECIST/mRECIST definition, PFS ends at
        progression or death) or stays censored (``False``). Either way these patients are
        flagged in the bool column ``pfs_death_at_censoring``, counted by
        ``Cohort.n_pfs_death_at_censoring`` and named in a warning, and every PFS analysis
        adds a note (:func:`hcc_core.cohort.pfs_death_notes`).
    sheet : str, optional
        Workbook sheet to read (default: 'cohort', else the first). Ignored for CSV.
    max_rows, seconds
        Row cap and time budget of the read, as in :func:`read_table`.

    Returns
    -------
    Cohort
        ``.data`` per the data contract, ``.warnings``, ``.source_name``, ``.n_rows_read``,
        ``.sha256``, ``.mapping``, ``.derived``.

    Raises
    ------
    CohortError
        With a message naming the file, column, rows (header = row 1, plus patient ids), the
        values found, what was expected and what to do.

    Notes
    -----
    Completely empty rows are dropped and counted in the warnings; no other row is dropped.
    Rows with missing survival times stay (analyses exclude and count them).
    """
    if isinstance(source, Upload):  # already read by read_upload: not parsed again
        raw = source
    else:
        raw = _read(source, filename, max_bytes, MAX_FIELD_CHARS, sheet, max_rows, seconds)
    table, name, delimiter = raw.table, raw.name, raw.delimiter
    n_rows = len(table)
    blank = raw.blank
    codes = raw.codes
    warnings: list[str] = []
    if blank.any():
        table = table[~blank]
        codes = {c: (k[~blank], u) for c, (k, u) in codes.items()}  # blank rows: code -1 only
        warnings.append(
            _("{n} completely empty row(s) of '{name}' were skipped.").format(
                n=int(blank.sum()), name=name
            )
        )
    used, applied, map_warnings = _apply_mapping(table, mapping, name)
    warnings += map_warnings
    hints = {c: u for u, c in suggest_mapping(table.columns).items() if u != c}
    source = {c: u for u, c in applied.items()}
    data, more, derived = validate_cohort(
        used,
        name,
        decimal_comma=delimiter == ";",
        hints=hints,
        death_as_pfs_event=death_as_pfs_event,
        factorized={c: codes[source.get(c, c)] for c in used if source.get(c, c) in codes},
    )
    return Cohort(
        data=data,
        warnings=tuple(warnings + more),
        source_name=name,
        n_rows_read=n_rows,
        sha256=raw.sha256,
        mapping=applied,
        derived=tuple(derived),
        sheet=raw.sheet,
    )


def unmatched_required(targets: Iterable[str | None]) -> list[tuple[str, ...]]:
    """The required field groups (``schema.REQUIRED_FIELDS``) that no mapped column fills.

    ``targets`` are the canonical names the user's columns are mapped to (None = ignored).
    E.g. ``[("patient_id",)]`` when nothing is mapped to the patient id; a group such as
    ``("local_modality", "treatment_group")`` needs one of its fields.
    """
    chosen = {t for t in targets if t}
    return [group for group in s.REQUIRED_FIELDS if not chosen & set(group)]


def example_values(upload: Upload, n: int = 3) -> dict[str, list[str]]:
    """The first ``n`` distinct non-empty values of each column, as text, in file order.

    The same as ``upload.table[c].dropna().astype(str).unique()[:n]`` (what the upload page
    shows per column), read from the reader's codes when it gave them: their distinct values
    are already in file order (0.3 ms instead of 0.5 s for 100,000 rows x 39 columns).
    """
    return {
        c: [str(v) for v in upload.codes[c][1][:n]]
        if c in upload.codes
        else list(upload.table[c].dropna().astype(str).unique()[:n])
        for c in upload.table.columns
    }
