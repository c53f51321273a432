"""Every limit on an uploaded cohort file, in one place.

The browser (Streamlit's file uploader), the server (``server.maxUploadSize`` in
``.streamlit/config.toml``) and the loader (:mod:`hcc_core.io`) must agree on the file size, and
messages must quote the same numbers; ``tests/test_config.py`` reads the config file and this
module and fails when they drift apart.

Why these numbers
-----------------
- ``UPLOAD_LIMIT_MB = 50``: Streamlit's browser code counts a megabyte as 1,000,000 bytes (1,024 x
  1,024 only on Windows) and the server as 1,024 x 1,024 bytes. The loader takes the stricter
  reading, 50,000,000 bytes, so "50 MB" means the same wherever it is shown. A 50 MB CSV holds
  about 270,000 patients of the data dictionary's 39 columns.
- ``MAX_ROWS = 1_000_000`` data rows (below the header): ten times the largest registry the app
  is meant for; counted inside the read, so a 10-million-row file stops after 1,000,001 rows.
- A workbook (.xlsx) is a zip archive of XML. Before any XML is parsed its zip directory is read:
  more than ``MAX_XLSX_UNCOMPRESSED_BYTES`` (300 MB, about 300,000 rows x 39 columns of sheet
  XML) in total, or any part larger than 1 MB that is compressed more than
  ``MAX_XLSX_COMPRESSION_RATIO`` (100:1) times, is refused. Excel's own sheets compress about
  5-20:1; a "zip bomb" (a few MB that expand to gigabytes) compresses hundreds to thousands:1.
- ``PARSE_SECONDS = 60``: the time one file may take to parse and check; ``PARSE_MEMORY_BYTES``
  (3 GB) the address space the process that parses it may add to the server's (see
  :func:`hcc_core.isolate.run_bounded`).
"""

from __future__ import annotations

from .i18n import _

__all__ = [
    "UPLOAD_LIMIT_MB",
    "MAX_UPLOAD_BYTES",
    "MAX_ROWS",
    "MAX_FIELD_CHARS",
    "MAX_XLSX_UNCOMPRESSED_BYTES",
    "MAX_XLSX_COMPRESSION_RATIO",
    "XLSX_RATIO_FLOOR_BYTES",
    "PARSE_SECONDS",
    "PARSE_MEMORY_BYTES",
    "describe_limits",
]

UPLOAD_LIMIT_MB = 50
MAX_UPLOAD_BYTES = UPLOAD_LIMIT_MB * 1_000_000
MAX_ROWS = 1_000_000
MAX_FIELD_CHARS = 10_000  # no real cell is this long; a longer one is a broken quote or a blob
MAX_XLSX_UNCOMPRESSED_BYTES = 300 * 1_000_000
MAX_XLSX_COMPRESSION_RATIO = 100
XLSX_RATIO_FLOOR_BYTES = 1_000_000  # tiny parts (styles, a 3-row sheet) may compress any amount
PARSE_SECONDS = 60.0
PARSE_MEMORY_BYTES = 3 * 1024**3


def describe_limits() -> str:
    """The limits in one sentence, for the upload page and the README."""
    return _(
        "Files up to {mb} MB and {rows} patient rows; a workbook may expand to at most "
        "{xlsx_mb} MB of sheet data; reading a file may take at most {seconds} seconds."
    ).format(
        mb=UPLOAD_LIMIT_MB,
        rows=f"{MAX_ROWS:,}",
        xlsx_mb=MAX_XLSX_UNCOMPRESSED_BYTES // 1_000_000,
        seconds=f"{PARSE_SECONDS:.0f}",
    )
