"""Arrow's CSV reader, each column given as (codes, distinct values) like ``pd.factorize``.

Validation then works on the few distinct values of a column instead of on every cell, and an
upload travels between processes as codes (:class:`hcc_core.io.Upload`). Used by
:mod:`hcc_core.io` for the files Arrow reads exactly as pandas does; everything else is read by
pandas there.
"""

from __future__ import annotations

import csv
import io

import numpy as np

__all__ = ["read_codes", "body_codes", "cells"]


def read_codes(utf8: bytes, delimiter: str, max_chars: int) -> tuple[list, bool] | None:
    """Arrow's multithreaded CSV reader, for the files it reads exactly as pandas does.

    Returns ([(codes, distinct values)] of each column, header row included; whether a cell is
    longer than ``max_chars``), or None for anything unusual (rows with another number of
    cells, line breaks inside quotes, an unclosed quote, old Mac line ends): the pandas reader
    then reads the file, with the messages users know.
    """
    import pyarrow as pa  # lazy: only needed for CSV
    import pyarrow.compute as pc
    from pyarrow import csv as pa_csv

    first = utf8[: utf8.find(b"\n") + 1 or len(utf8)]
    width = len(next(csv.reader(io.StringIO(first.decode("utf-8")), delimiter=delimiter), []))
    if width == 0:
        return None
    names = [f"c{i}" for i in range(width)]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(utf8),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter, ignore_empty_lines=False, newlines_in_values=False
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
                check_utf8=False,  # the bytes were decoded (or re-encoded) as UTF-8 already
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != utf8.count(b"\n") + (not utf8.endswith(b"\n")):
        return None  # a quoted cell spans lines (or a quote is never closed): pandas decides
    # One Python string per distinct value, shared by its rows (far fewer objects to make);
    # the codes spare validation from hashing every cell again (pd.factorize).
    factorized, long_cell = [], False
    for column in table.columns:
        coded = column.combine_chunks().dictionary_encode()
        longest = pc.max(pc.utf8_length(coded.dictionary)).as_py()  # of the distinct values
        long_cell |= longest is not None and longest > max_chars
        codes = pc.fill_null(coded.indices, -1).to_numpy(zero_copy_only=False)
        factorized.append((codes, coded.dictionary.to_numpy(zero_copy_only=False)))
    return factorized, long_cell


def body_codes(codes: np.ndarray, distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a column without its header cell, exactly as ``pd.factorize`` of the body gives
    them (distinct values in order of first appearance)."""
    head, body = codes[0], codes[1:]  # head: -1 (empty header cell) or 0 (the first value met)
    if head == 0:
        hits = np.flatnonzero(body == 0)
        if len(hits):  # the header's text is also a patient's value, first met further down
            met = int(body[: hits[0]].max(initial=0))  # the values met before it: codes 1..met
            order = np.r_[1 : met + 1, 0, met + 1 : len(distinct)]
        else:
            order = np.arange(1, len(distinct))
        recode = np.full(len(distinct) + 1, -1, dtype=np.intp)  # last slot: -1 stays -1
        recode[order] = np.arange(len(order))
        body, distinct = recode[body], distinct[order]
    return body.astype(np.min_scalar_type(-len(distinct) - 1)), distinct


def cells(codes: np.ndarray, distinct: np.ndarray) -> np.ndarray:
    """A column's cells from its codes, -1 (empty) -> NaN; take() with intp indices is twice as
    fast as ``[codes]``."""
    return np.append(distinct, np.nan).take(codes.astype(np.intp))
