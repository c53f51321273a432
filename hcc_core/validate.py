"""Validation of a cohort table: codings normalised, impossible values rejected, fields derived.

Kept apart from file reading (``io``) as tableone keeps its validation apart: this module only
sees a DataFrame whose columns already carry canonical names and whose index holds the row
numbers as the user sees them in the file (header = row 1), so every message can point at them.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Callable, Hashable, Mapping

import numpy as np
import pandas as pd

from . import schema as s
from .errors import CohortError
from .i18n import N_, _

__all__ = [
    "MISSING_TOKENS",
    "validate_cohort",
    "recoding_preview",
    "derive_albi",
    "albi_grade_from_score",
]

# Cell contents that mean "no value". "none" is deliberately absent: it is a local_modality level.
MISSING_TOKENS = frozenset(
    {
        "",
        "na",
        "n/a",
        "n.a.",
        "nan",
        "null",
        "<na>",
        "#n/a",
        "-",
        "--",
        ".",
        "?",
        "缺失",
        "未知",
        "不详",
    }
)
_YES = {"yes", "y", "1", "true", "t", "是", "有", "阳性", "+"}
_NO = {"no", "n", "0", "false", "f", "否", "无", "阴性"}
_SEX = {
    "m": "M",
    "male": "M",
    "man": "M",
    "男": "M",
    "男性": "M",
    "f": "F",
    "female": "F",
    "woman": "F",
    "女": "F",
    "女性": "F",
}
_MODALITY_NONE = {"none", "无", "no", "systemic only", "仅系统治疗"}
_TUMOR_NUMBER = {
    "single": "single",
    "solitary": "single",
    "1": "single",
    "单发": "single",
    "单个": "single",
    "multiple": "multiple",
    "multi": "multiple",
    "多发": "multiple",
    "多个": "multiple",
}
# Keys as produced by _group_key (spaces and + & _ / - removed).
_GROUP = {
    "systemic": s.SYSTEMIC,
    "系统治疗": s.SYSTEMIC,
    "localsystemic": s.LOCAL_SYSTEMIC,
    "局部系统治疗": s.LOCAL_SYSTEMIC,
    "局部联合系统治疗": s.LOCAL_SYSTEMIC,
}
_DATE_RE = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MAX_LISTED = 5
_ALBI_CUTS = (-2.60, -1.39)

Normaliser = Callable[[object], object]
Factorized = tuple[np.ndarray, np.ndarray] | None  # (codes, distinct values) as pd.factorize


def _key(value: object) -> str:
    """Lower-cased, width-folded (NFKC), whitespace-collapsed text of a cell."""
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    return re.sub(r"\s+", " ", text)


def _is_missing(value: object) -> bool:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return True
    return isinstance(value, str) and _key(value) in MISSING_TOKENS


def _integral_text(value: object) -> str:
    """'1', 1, 1.0 and True all become '1' so that Excel's numbers match text codings."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float | np.integer | np.floating) and float(value).is_integer():
        return str(int(value))
    key = _key(value)
    if re.fullmatch(r"[+-]?\d+\.0+", key):
        return key.split(".")[0].lstrip("+")
    return key


# Messages -----------------------------------------------------------------------------------


def _where(df: pd.DataFrame, mask: np.ndarray | pd.Series) -> str:
    """'row 3 (patient_id P002), row 9 (patient_id P008) and 4 more rows'."""
    mask = np.asarray(mask, dtype=bool)
    rows = df.index[mask]
    ids = df[s.PATIENT_ID].to_numpy()[mask] if s.PATIENT_ID in df.columns else [None] * len(rows)
    parts = []
    for row, pid in list(zip(rows, ids, strict=True))[:_MAX_LISTED]:
        if _is_missing(pid):
            parts.append(_("row {row}").format(row=row))
        else:
            parts.append(_("row {row} (patient_id {patient_id})").format(row=row, patient_id=pid))
    text = ", ".join(parts)
    if len(rows) > _MAX_LISTED:
        text += _(" and {n} more rows").format(n=len(rows) - _MAX_LISTED)
    return text


def _quoted(values) -> str:
    uniq = [v if len(v) <= 40 else v[:37] + "..." for v in dict.fromkeys(str(v) for v in values)]
    text = ", ".join(f"'{v}'" for v in uniq[:_MAX_LISTED])
    if len(uniq) > _MAX_LISTED:
        text += _(" and {n} other values").format(n=len(uniq) - _MAX_LISTED)
    return text


def _bad_values(df: pd.DataFrame, column: str, mask, expected: str) -> str:
    raw = df[column].to_numpy()[np.asarray(mask, dtype=bool)]
    return _(
        "Column '{column}' has values that cannot be used: {values} (in {where}). Expected "
        "{expected}. Correct these cells in your file (or leave them empty if the value is "
        "unknown) and upload it again."
    ).format(column=column, values=_quoted(raw), where=_where(df, mask), expected=expected)


# Per-kind normalisation (on unique values: fast for 100,000 rows) -----------------------------


def _map_distinct(
    series: pd.Series, fn: Normaliser, factorized: Factorized = None, bulk=None
) -> tuple[np.ndarray, list, np.ndarray]:
    """(codes, ``fn`` of each distinct value + a last NaN slot for code -1, rejected mask);
    ``bulk(distinct values)`` may give many results at once (None where ``fn`` must decide)."""
    codes, uniques = factorized or pd.factorize(series, use_na_sentinel=True)
    done = [None] * len(uniques) if bulk is None else bulk(uniques)
    out: list[object] = []
    bad = np.zeros(len(uniques) + 1, dtype=bool)  # last slot: code -1 (NaN) is never bad
    for i, value in enumerate(uniques):
        if done[i] is not None or _is_missing(value):
            out.append(np.nan if done[i] is None else done[i])
            continue
        try:
            out.append(fn(value))
        except KeyError:
            out.append(np.nan)
            bad[i] = True
    out.append(np.nan)
    return codes, out, bad


def _map_unique(
    series: pd.Series, fn: Normaliser, dtype: str = "object", factorized: Factorized = None
) -> tuple[pd.Series, np.ndarray]:
    """Apply ``fn`` to each distinct value; returns (result, mask of values ``fn`` rejected).

    ``fn`` raises ``KeyError`` for an unusable value. With ``dtype="Int64"`` or
    ``"datetime64[ns]"`` the distinct results are converted once and then spread by code
    (object-to-Int64 or -datetime per row is slow).
    """
    bulk = _iso_dates if dtype == "datetime64[ns]" else None
    codes, out, bad = _map_distinct(series, fn, factorized, bulk)
    if dtype == "datetime64[ns]":
        # Converted once per distinct date (object-to-datetime per row is slow), then spread.
        dates = pd.to_datetime(pd.Series(out, dtype=object)).astype("datetime64[ns]")
        return pd.Series(dates.to_numpy()[codes], index=series.index), bad[codes]
    if dtype == "Int64":
        values = pd.array(np.asarray(out, dtype="float64"), dtype="Int64")[codes]
        return pd.Series(values, index=series.index), bad[codes]
    result = pd.Series(np.asarray(out, dtype=object)[codes], index=series.index, dtype=object)
    return result, bad[codes]


def _lookup(table: dict[str, Hashable]) -> Normaliser:
    return lambda v: table[_integral_text(v)]


def _category_lookup(column: str) -> dict[str, Hashable]:
    levels = s.LEVELS[column]
    table: dict[str, Hashable] = {str(lv).lower(): lv for lv in levels}
    if levels == (s.NO, s.YES):
        table = {**{k: s.YES for k in _YES}, **{k: s.NO for k in _NO}}
    elif column == s.SEX:
        table = dict(_SEX)
    elif column == s.TUMOR_NUMBER:
        table = dict(_TUMOR_NUMBER)
    elif column == s.TREATMENT_GROUP:
        table = dict(_GROUP)
    elif column == s.LOCAL_MODALITY:
        table.update({k: s.MODALITY_NONE for k in _MODALITY_NONE})
    elif column == s.CHILD_PUGH_CLASS:
        table.update({f"child-pugh {k}": v for k, v in table.items()})
    elif column == s.BCLC_STAGE:
        table.update({f"bclc {k}": v for k, v in table.items()})
    return table


def _group_key(value: object) -> str:
    # "Local + Systemic", "local+systemic" and "local & systemic" are the same arm.
    return re.sub(r"[\s&+_/-]", "", _key(value))


def _numeric_text(raw: pd.Series, factorized: Factorized = None) -> pd.Series:
    """``pd.to_numeric(raw, errors="coerce")``, computed once per distinct text for CSV columns."""
    if factorized is None and (
        raw.dtype != object or pd.api.types.infer_dtype(raw, skipna=True) != "string"
    ):
        return pd.to_numeric(raw, errors="coerce")
    codes, uniques = factorized or pd.factorize(raw, use_na_sentinel=True)
    numbers = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce")
    numbers = np.append(numbers.to_numpy(dtype="float64", na_value=np.nan), np.nan)
    return pd.Series(numbers[codes], index=raw.index)


def _to_number(
    df: pd.DataFrame, column: str, decimal_comma: bool, errors: list[str], factorized: Factorized
) -> pd.Series:
    raw = df[column]
    out = _numeric_text(raw, factorized)
    if out.dtype == object:  # e.g. booleans from Excel
        out = pd.to_numeric(out.astype("string"), errors="coerce")
    out = out.astype("float64")
    failed = out.isna().to_numpy()
    if failed.any():
        failed[failed] = ~raw[failed].map(_is_missing).to_numpy(dtype=bool)
    if failed.any():
        # Second chance for values pandas rejects but a clinician would write: "3,5" in
        # semicolon-separated files (decimal comma), full-width digits.
        def fix(v: object) -> float:
            text = _key(v)
            if decimal_comma and re.fullmatch(r"[+-]?\d+,\d+", text):
                text = text.replace(",", ".")
            try:
                return float(text)
            except ValueError:
                raise KeyError(v) from None

        fixed, still_bad = _map_unique(raw[failed], fix)
        out[failed] = fixed.astype("float64").to_numpy()
        if still_bad.any():
            mask = np.zeros(len(raw), dtype=bool)
            mask[np.flatnonzero(failed)[still_bad]] = True
            expected = (
                _(
                    "a number; text such as '<20' or '>1000' cannot be analysed, give the "
                    "number itself"
                )
                if decimal_comma
                else _(
                    "a number (use a point as the decimal separator); text such as '<20' or "
                    "'>1000' cannot be analysed, give the number itself"
                )
            )
            errors.append(_bad_values(df, column, mask, expected))
    _reject_non_finite(df, column, out, errors)
    col = s.COLUMN_BY_NAME.get(column)
    if col is not None:
        values, mask = out.to_numpy(), np.zeros(len(out), dtype=bool)
        if col.minimum is not None:
            mask |= values < col.minimum
        if col.maximum is not None:
            mask |= values > col.maximum
        if mask.any():
            rng = (
                _("between {low} and {high}").format(low=f"{col.minimum:g}", high=f"{col.maximum:g}")
                if col.maximum is not None
                else _("a number of at least {low} (negative values are impossible)").format(
                    low=f"{col.minimum:g}"
                )
            )
            unit = f" {_(col.unit)}" if col.unit else ""
            errors.append(_bad_values(df, column, mask, f"{rng}{unit}"))
    return out


def _reject_non_finite(df: pd.DataFrame, column: str, out: pd.Series, errors: list[str]) -> None:
    """'inf', '-inf', '1e309' (overflows to inf) and 'NaN' typed in a number column are errors.

    ``out`` becomes NaN there, so the range check and the analyses never see them; an empty
    cell (or NA, '-', ...) stays the way to say "unknown".
    """
    infinite = np.isinf(out.to_numpy())
    nan_text = out.isna().to_numpy()
    if nan_text.any():
        nan_text[nan_text] = (
            df[column][nan_text]
            .map(lambda v: isinstance(v, str) and _key(v).lstrip("+-") == "nan")
            .to_numpy(dtype=bool)
        )
    bad = infinite | nan_text
    if bad.any():
        out[infinite] = np.nan
        expected = _(
            "a finite number; infinity, 'NaN' and numbers too large for a computer (such as "
            "1e309) are not measurements"
        )
        errors.append(_bad_values(df, column, bad, expected))


def _to_date(value: object) -> pd.Timestamp:
    # Dates at midnight: an Excel date-time (08:30) and a text date must give the same number
    # of days between two dates, so no day is lost when months are derived.
    if isinstance(value, _dt.datetime | _dt.date | pd.Timestamp | np.datetime64):
        date = pd.Timestamp(value).normalize()
    else:
        m = _DATE_RE.match(_key(value))
        if m is None:
            raise KeyError(value)
        try:
            date = pd.Timestamp(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise KeyError(value) from None
    if not _FIRST_DATE <= date <= _LAST_DATE:  # e.g. 1500-01-01: a typo, and past datetime64[ns]
        raise KeyError(value)
    return date


_FIRST_DATE, _LAST_DATE = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")


def _iso_dates(uniques: np.ndarray) -> list:
    """``_to_date`` of the values written exactly YYYY-MM-DD, in one parse; None elsewhere
    (other writings and dates the parser refuses are left to ``_to_date``)."""
    iso = np.flatnonzero([isinstance(v, str) and bool(_ISO_DATE.fullmatch(v)) for v in uniques])
    text = pd.Series(uniques[iso], dtype=object)
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    done = np.full(len(uniques), None, dtype=object)
    done[iso[parsed.notna().to_numpy()]] = list(parsed.dropna().to_numpy())  # unboxed: faster
    return list(done)


def _kind(column: str) -> str:
    return s.COLUMN_BY_NAME[column].kind if column in s.COLUMN_BY_NAME else "grade"


def _coder(column: str) -> tuple[Normaliser, str] | None:
    """(value -> coded value, what is expected) for coded columns; None for numbers, dates, text.

    The normaliser raises ``KeyError`` for a value it cannot code. Shared by validation and
    :func:`recoding_preview`, so the preview shows exactly what loading will do.
    """
    kind = _kind(column)
    if kind in ("integer", "event", "grade") or column == s.ALBI_GRADE:
        if kind == "event":
            table = {**{k: 1 for k in _YES}, **{k: 0 for k in _NO}}
            expected = _(
                "0 or 1 (1 = event, 0 = censored; yes/no, true/false and 是/否 also work)"
            )
        else:
            col = s.COLUMN_BY_NAME.get(column)
            lo, hi = (
                (1, 3) if column == s.ALBI_GRADE else (col.minimum, col.maximum) if col else (0, 5)
            )
            table = {str(i): i for i in range(int(lo), int(hi) + 1)}
            expected = _("a whole number from {low} to {high}").format(low=int(lo), high=int(hi))
        return _lookup(table), expected
    if kind == "category":
        table = _category_lookup(column)
        key_fn = _group_key if column == s.TREATMENT_GROUP else _integral_text
        allowed = ", ".join(str(v) for v in s.LEVELS[column])
        return (lambda v: table[key_fn(v)]), _("one of {allowed} (upper or lower case)").format(
            allowed=allowed
        )
    return None


def _normalise_column(
    df: pd.DataFrame, column: str, decimal_comma: bool, errors: list[str], factorized: Factorized
) -> pd.Series:
    kind = _kind(column)
    raw = df[column]
    if kind == "number":
        return _to_number(df, column, decimal_comma, errors, factorized)
    if kind == "date":
        out, bad = _map_unique(raw, _to_date, "datetime64[ns]", factorized)
        if bad.any():
            expected = _("a date written as YYYY-MM-DD (e.g. 2023-04-17) or an Excel date cell")
            errors.append(_bad_values(df, column, bad, expected))
        return out
    coder = _coder(column)
    if coder is None:
        return _to_text(raw, factorized)
    fn, expected = coder
    coded = kind != "category" or column == s.ALBI_GRADE
    out, bad = _map_unique(raw, fn, "Int64" if coded else "object", factorized)
    if bad.any():
        errors.append(_bad_values(df, column, bad, expected))
    return out.astype("Int64") if coded else out


def recoding_preview(
    raw: pd.DataFrame, mapping: Mapping[str, str | None], max_values: int = 20
) -> pd.DataFrame:
    """How each distinct value of the coded columns will be read, before the file is loaded.

    Parameters
    ----------
    raw : DataFrame
        The user's table as :func:`hcc_core.io.read_table` returns it.
    mapping : dict
        {user column -> canonical column, or None/"" for "do not use"}.
    max_values : int
        At most this many distinct values per column (the most frequent).

    Returns
    -------
    DataFrame
        ``field, column, value, becomes, rows, recognised``: one row per distinct value of each
        mapped coded column (categories, yes/no, 0/1 events, grades): e.g. 男 -> M, 无 -> no,
        是 -> 1. ``becomes`` is "(empty)" for values read as missing (such as 未知) and "" when
        the value is not recognised (``recognised`` False; loading will report it).

    Notes
    -----
    Uses the very normalisers of :func:`validate_cohort`; numbers, dates and free text are
    read as written and not listed. Like a ``table(x, recoded)`` cross-tabulation in R.
    """
    rows = []
    for user, canonical in mapping.items():
        coder = _coder(str(canonical)) if canonical and user in raw.columns else None
        if coder is None:
            continue
        fn, _ = coder
        counts = raw[user].value_counts(dropna=True, sort=True).head(max_values)
        for value, n in counts.items():
            recognised = True
            if _is_missing(value):
                becomes = "(empty)"
            else:
                try:
                    becomes = str(fn(value))
                except KeyError:
                    becomes, recognised = "", False
            rows.append(
                {
                    "field": canonical,
                    "column": str(user),
                    "value": _integral_text_id(value),
                    "becomes": becomes,
                    "rows": int(n),
                    "recognised": recognised,
                }
            )
    columns = ["field", "column", "value", "becomes", "rows", "recognised"]
    return pd.DataFrame(rows, columns=columns)


def _to_text(raw: pd.Series, factorized: Factorized = None) -> pd.Series:
    """Free text (patient_id, agents): trimmed as written; missing tokens become NaN."""
    if factorized is None and pd.api.types.infer_dtype(raw, skipna=True) not in ("string", "empty"):
        return raw.map(lambda v: np.nan if _is_missing(v) else _integral_text_id(v)).astype(object)
    codes, uniques = factorized or pd.factorize(raw, use_na_sentinel=True)
    texts = np.full(len(uniques) + 1, np.nan, dtype=object)  # the last slot: code -1
    texts[:-1] = [v.strip() for v in uniques]  # each distinct text once, then spread by code
    texts[[isinstance(t, str) and t.lower() in MISSING_TOKENS for t in texts]] = np.nan
    return pd.Series(texts[codes], index=raw.index, dtype=object)


def _integral_text_id(value: object) -> str:
    # Excel stores 1001 as 1001.0; the id the clinician typed is "1001".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# Derivations -------------------------------------------------------------------------------


def derive_albi(albumin_g_l: pd.Series, bilirubin_umol_l: pd.Series) -> pd.Series:
    """ALBI score from albumin (g/L) and bilirubin (umol/L).

    Notes
    -----
    Johnson et al., J Clin Oncol 2015: 0.66 x log10(bilirubin) - 0.085 x albumin. Missing or
    non-positive bilirubin gives NaN. No R package needed: same arithmetic in base R.
    """
    bili = pd.to_numeric(bilirubin_umol_l, errors="coerce").astype("float64")
    alb = pd.to_numeric(albumin_g_l, errors="coerce").astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 0.66 * np.log10(bili.where(bili > 0)) - 0.085 * alb
    return score.astype("float64")


def albi_grade_from_score(score: pd.Series) -> pd.Series:
    """ALBI grade (Int64): 1 if score <= -2.60, 2 if <= -1.39, else 3; <NA> where score is NaN."""
    values = pd.to_numeric(score, errors="coerce").to_numpy(dtype="float64")
    grade = np.where(values <= _ALBI_CUTS[0], 1, np.where(values <= _ALBI_CUTS[1], 2, 3))
    return pd.Series(pd.array(grade, dtype="Int64"), index=score.index).mask(np.isnan(values))


def _months_between(start: pd.Series, end: pd.Series) -> pd.Series:
    return ((end - start).dt.days / s.DAYS_PER_MONTH).astype("float64")


def _derive_times(out: pd.DataFrame, warnings: list[str], errors: list[str]) -> list[str]:
    derived: list[str] = []
    if s.TREATMENT_START_DATE not in out.columns:
        return derived
    start = out[s.TREATMENT_START_DATE]
    nat = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    death = out.get(s.DEATH_DATE, nat)
    last = out.get(s.LAST_FOLLOWUP_DATE, nat)
    prog = out.get(s.PROGRESSION_DATE, nat)
    for date_col, series in (
        (s.DEATH_DATE, death),
        (s.LAST_FOLLOWUP_DATE, last),
        (s.PROGRESSION_DATE, prog),
    ):
        before = (series < start).to_numpy(dtype=bool)
        if before.any():
            errors.append(_dates_before_start(out, date_col, before))
    if errors:
        return derived
    plans = []
    if s.OS_MONTHS not in out.columns and (s.DEATH_DATE in out or s.LAST_FOLLOWUP_DATE in out):
        end = death.fillna(last)
        event = death.notna().astype("Int64").mask(end.isna())
        plans.append(
            (s.OS_MONTHS, s.OS_EVENT, end, event, _("death_date or else last_followup_date"))
        )
    if s.PFS_MONTHS not in out.columns and s.PROGRESSION_DATE in out.columns:
        end = prog.fillna(death).fillna(last)
        event = (prog.notna() | death.notna()).astype("Int64").mask(end.isna())
        plans.append(
            (
                s.PFS_MONTHS,
                s.PFS_EVENT,
                end,
                event,
                _("progression_date, else death_date, else last_followup_date"),
            )
        )
    for time_col, event_col, end, event, source in plans:
        out[time_col] = _months_between(start, end)
        derived.append(time_col)
        what = f"'{time_col}'"
        if event_col not in out.columns:
            out[event_col] = event
            derived.append(event_col)
            what = _("'{time}' and '{event}'").format(time=time_col, event=event_col)
        n = int(out[time_col].notna().sum())
        warnings.append(
            _(
                "{what} were derived from treatment_start_date and {source} for {n} of "
                "{total} patients (days / {days}), because the file has no '{column}' column."
            ).format(
                what=what, source=source, n=n, total=len(out), days=s.DAYS_PER_MONTH,
                column=time_col,
            )
        )
    return derived


def _derive_group(
    out: pd.DataFrame, has_group: bool, warnings: list[str], errors: list[str]
) -> None:
    modality = out.get(s.LOCAL_MODALITY)
    if modality is None:
        group = out[s.TREATMENT_GROUP]
    else:
        # on the arrays: pandas' object-dtype comparisons cost ~10 ms each at 100,000 rows
        mod, known = modality.to_numpy(), modality.notna().to_numpy()
        arms = np.array([s.LOCAL_SYSTEMIC, s.SYSTEMIC, np.nan], dtype=object)
        implied = arms.take(np.where(known, mod == s.MODALITY_NONE, 2))
        if has_group:
            group, found = out[s.TREATMENT_GROUP].to_numpy(), out[s.TREATMENT_GROUP].notna()
            clash = known & found.to_numpy() & (implied != group)
            if clash.any():
                errors.append(
                    _(
                        "Columns 'local_modality' and 'treatment_group' disagree in {where}: "
                        "local_modality 'none' must go with treatment_group '{systemic}', and "
                        "mTACE, HAIC or IMRT with '{local}'. Correct one of the two columns (or "
                        "remove treatment_group; it is derived from local_modality)."
                    ).format(where=_where(out, clash), systemic=s.SYSTEMIC, local=s.LOCAL_SYSTEMIC)
                )
            # Empty modality in the systemic arm can only mean "no local therapy".
            fill = ~known & (group == s.SYSTEMIC)
            if fill.any():
                out.loc[fill, s.LOCAL_MODALITY] = s.MODALITY_NONE
                warnings.append(
                    _(
                        "'local_modality' was empty for {n} patients in the {group} group and "
                        "was set to 'none'."
                    ).format(n=int(fill.sum()), group=s.SYSTEMIC)
                )
            implied = np.where(found, group, implied)
        out[s.TREATMENT_GROUP] = pd.Series(implied, index=out.index, dtype=object)
    missing = out[s.TREATMENT_GROUP].isna().to_numpy(dtype=bool)
    if missing.any():
        cols = (
            _("'treatment_group' or 'local_modality'")
            if modality is not None
            else "'treatment_group'"
        )
        errors.append(
            _(
                "{n} patients have no treatment group ({where}). Fill in {columns} for them: "
                "write 'none' in local_modality for systemic therapy alone, or mTACE, HAIC or "
                "IMRT for local plus systemic therapy. An empty local_modality is not read as "
                "'none' because it may just be unrecorded."
            ).format(n=int(missing.sum()), where=_where(out, missing), columns=cols)
        )


# Entry point ---------------------------------------------------------------------------------


def validate_cohort(
    raw: pd.DataFrame,
    source_name: str = "the file",
    *,
    decimal_comma: bool = False,
    hints: Mapping[str, str] | None = None,
    death_as_pfs_event: bool = True,
    factorized: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Normalise codings, check consistency and derive fields of a canonically named table.

    Parameters
    ----------
    raw : DataFrame
        Columns already carry canonical names (or ``ae_*``); cells are text or Excel values;
        the index holds the row numbers shown in messages (header = row 1).
    source_name : str
        Name of the file, used in messages.
    decimal_comma : bool
        Accept ``3,5`` as 3.5 (semicolon-separated files from European spreadsheet programs).
    hints : dict, optional
        {canonical column -> user column that looks like it}, quoted when a required column
        is missing.
    death_as_pfs_event : bool
        A death (os_event = 1) at the time PFS is censored (pfs_event = 0, same time) is
        counted as a PFS event (default, the RECIST/mRECIST definition) or kept censored.
        Either way the patients are flagged in the bool column ``pfs_death_at_censoring``
        (present only when there are any) and named in a warning.
    factorized : dict, optional
        {column -> (codes, distinct values)} exactly as ``pd.factorize(raw[column])`` gives
        them (up to order), e.g. from the CSV reader, so that the cells are not hashed again.

    Returns
    -------
    (data, warnings, derived)
        The canonical frame (dtypes per the data contract, RangeIndex), full-sentence
        warnings, and the names of derived columns.

    Raises
    ------
    CohortError
        With every problem found, each naming the column, rows, values and the fix.

    Notes
    -----
    ALBI per Johnson et al. 2015; months from dates = days / 30.4375 (as R's
    ``as.numeric(difftime(end, start, units = "days")) / 30.4375``).
    """
    if source_name == "the file":
        source_name = _("the file")
    where = _("The file '{name}'").format(name=source_name)
    hints = hints or {}

    def hint(*columns: str) -> str:
        found = [
            _("'{user}' looks like {column}").format(user=hints[c], column=c)
            for c in columns
            if c in hints
        ]
        return _(" (Your column {found}.)").format(found=_(" and ").join(found)) if found else ""

    if s.PATIENT_ID not in raw.columns:
        raise CohortError(
            _(
                "{where} has no '{column}' column. Every row needs a unique patient identifier: "
                "name that column 'patient_id' or map one of your columns to it in the upload "
                "step.{hint}"
            ).format(where=where, column=s.PATIENT_ID, hint=hint(s.PATIENT_ID))
        )
    has_group = s.TREATMENT_GROUP in raw.columns
    if not has_group and s.LOCAL_MODALITY not in raw.columns:
        raise CohortError(
            _(
                "{where} has neither a 'local_modality' nor a 'treatment_group' column, so the "
                "patients cannot be split into treatment groups. Add one of them (local_modality: "
                "none, mTACE, HAIC or IMRT; treatment_group: systemic or local+systemic) or map "
                "one of your columns to it in the upload step.{hint}"
            ).format(where=where, hint=hint(s.LOCAL_MODALITY, s.TREATMENT_GROUP))
        )
    errors: list[str] = []
    warnings: list[str] = []
    ordered = [c.name for c in s.COLUMNS if c.name in raw.columns]
    extra = [c for c in raw.columns if c not in s.COLUMN_BY_NAME]
    ordered += [c for c in extra if str(c).startswith(s.AE_PREFIX)]
    unknown = [c for c in extra if not str(c).startswith(s.AE_PREFIX)]
    if unknown:
        warnings.append(
            _(
                "{n} column(s) are not in the data dictionary and were not used: {columns}."
            ).format(n=len(unknown), columns=", ".join(repr(c) for c in unknown))
        )
    # intp codes: numpy spreads values by them faster than by the reader's int8/int16 codes
    factorized = {c: (np.asarray(k, np.intp), u) for c, (k, u) in (factorized or {}).items()}
    out = pd.DataFrame(  # new arrays, one per column: nothing shared with the user's table
        {c: _normalise_column(raw, c, decimal_comma, errors, factorized.get(c)) for c in ordered},
        index=raw.index,
        copy=False,
    )

    ids = out[s.PATIENT_ID]
    no_id = ids.isna().to_numpy()
    if no_id.any():
        errors.append(
            _(
                "Column 'patient_id' is empty in {where}. Give every patient an identifier (or "
                "delete rows that are not patients)."
            ).format(where=_where(out, no_id))
        )
    codes, uniques = pd.factorize(ids)  # missing: -1, never a duplicate
    dup = (np.bincount(codes[codes >= 0], minlength=len(uniques)) > 1)[codes] & (codes >= 0)
    if dup.any():
        errors.append(
            _(
                "Column 'patient_id' has duplicate identifiers {values} in {where}. Each patient "
                "must appear on exactly one row: merge or renumber the duplicated rows."
            ).format(values=_quoted(ids[dup]), where=_where(out, dup))
        )
    if errors:
        raise CohortError(_join(where, errors))

    _derive_group(out, has_group, warnings, errors)
    derived: list[str] = [] if has_group else [s.TREATMENT_GROUP]
    derived += _derive_times(out, warnings, errors)
    if s.ALBI_SCORE not in out.columns and {s.ALBUMIN, s.BILIRUBIN} <= set(out.columns):
        out[s.ALBI_SCORE] = derive_albi(out[s.ALBUMIN], out[s.BILIRUBIN])
        derived.append(s.ALBI_SCORE)
    if s.ALBI_GRADE not in out.columns and s.ALBI_SCORE in out.columns:
        out[s.ALBI_GRADE] = albi_grade_from_score(out[s.ALBI_SCORE])
        derived.append(s.ALBI_GRADE)
    _check_survival(out, errors, warnings, death_as_pfs_event)
    if s.PFS_DEATH_AT_CENSORING in out.columns:
        derived.append(s.PFS_DEATH_AT_CENSORING)
    derived += _derive_competing(out, warnings, errors)
    _check_competing(out, errors)
    if errors:
        raise CohortError(_join(where, errors))

    for label, (time_col, event_col) in s.ENDPOINTS.items():
        if time_col in out.columns:
            n_missing = int(out[time_col].isna().sum())
            if n_missing:
                warnings.append(
                    _(
                        "{n} of {total} patients have no '{column}'; they stay in the cohort but "
                        "{endpoint} analyses will exclude them."
                    ).format(n=n_missing, total=len(out), column=time_col, endpoint=label.upper())
                )
            if event_col not in out.columns:
                warnings.append(
                    _(
                        "The file has '{time}' but no '{event}', so {endpoint} cannot be "
                        "analysed; add '{event}' (1 = event, 0 = censored)."
                    ).format(time=time_col, event=event_col, endpoint=label.upper())
                )
    columns = [c.name for c in s.COLUMNS if c.name in out.columns]
    columns += [c for c in out.columns if c not in s.COLUMN_BY_NAME]
    # the columns in contract order under a fresh RangeIndex, copied (and consolidated) once
    data = pd.DataFrame({c: out[c] for c in columns}, copy=False)
    data.index = pd.RangeIndex(len(data))
    data = data.copy()
    data[s.PATIENT_ID] = data[s.PATIENT_ID].astype(str)
    return data, warnings, derived


def _check_survival(
    out: pd.DataFrame, errors: list[str], warnings: list[str], death_as_pfs_event: bool
) -> None:
    cols = set(out.columns)
    if {s.OS_MONTHS, s.PFS_MONTHS} <= cols:
        longer = (out[s.PFS_MONTHS] > out[s.OS_MONTHS] + 1e-9).to_numpy(dtype=bool)
        if longer.any():
            errors.append(
                _(
                    "'pfs_months' is longer than 'os_months' in {where}. Progression-free "
                    "survival ends at progression or death, so it cannot exceed overall "
                    "survival: check both times for these patients."
                ).format(where=_where(out, longer))
            )
    if {s.OS_MONTHS, s.PFS_MONTHS, s.OS_EVENT, s.PFS_EVENT} <= cols:
        same = np.isclose(
            out[s.PFS_MONTHS].to_numpy(dtype="float64", na_value=np.nan),
            out[s.OS_MONTHS].to_numpy(dtype="float64", na_value=np.nan),
            rtol=0,
            atol=1e-6,
        )
        censored_death = (
            same
            & (out[s.OS_EVENT] == 1).fillna(False).to_numpy(dtype=bool)
            & (out[s.PFS_EVENT] == 0).fillna(False).to_numpy(dtype=bool)
        )
        if censored_death.any():
            out[s.PFS_DEATH_AT_CENSORING] = censored_death
            n = int(censored_death.sum())
            if death_as_pfs_event:
                out.loc[censored_death, s.PFS_EVENT] = 1
                what = _(
                    "These deaths are counted as PFS events (RECIST/mRECIST: PFS ends at "
                    "progression or death); every PFS result says so. To keep them censored as "
                    "in the file, choose that on the upload page."
                )
            else:
                what = _(
                    "They are kept censored as in the file, as chosen; under RECIST/mRECIST "
                    "these deaths are PFS events, so PFS may be overestimated."
                )
            warnings.append(
                _(
                    "{n} patient(s) died (os_event = 1) at the time their progression-free "
                    "survival was censored (pfs_event = 0): {where}. {what}"
                ).format(n=n, where=_where(out, censored_death), what=what)
            )


def _derive_competing(out: pd.DataFrame, warnings: list[str], errors: list[str]) -> list[str]:
    """progression_event from the dates, local_start_months from local_start_date."""
    derived: list[str] = []
    cols = set(out.columns)
    if s.PROGRESSION_EVENT not in cols and {s.PROGRESSION_DATE, s.PFS_EVENT} <= cols:
        pfs = (out[s.PFS_EVENT] == 1).fillna(False).to_numpy(dtype=bool)
        prog = out[s.PROGRESSION_DATE].notna().to_numpy()
        death = (
            out[s.DEATH_DATE].notna().to_numpy()
            if s.DEATH_DATE in cols
            else np.zeros(len(out), bool)
        )
        known = pfs & (prog | death)  # 1 under the mask, as pd.array(floats) puts (19 ms)
        value = pd.arrays.IntegerArray(np.where(known & ~prog, 0, 1).astype(np.int64), ~known)
        out[s.PROGRESSION_EVENT] = value
        derived.append(s.PROGRESSION_EVENT)
        warnings.append(
            _(
                "'{column}' was derived from progression_date and death_date for {n} of {total} "
                "patients (1 = progression, 0 = death without progression), because the file "
                "has no such column."
            ).format(column=s.PROGRESSION_EVENT, n=int(known.sum()), total=len(out))
        )
    if s.LOCAL_START_DATE in cols and s.TREATMENT_START_DATE in cols:
        start, local = out[s.TREATMENT_START_DATE], out[s.LOCAL_START_DATE]
        before = (local < start).to_numpy(dtype=bool)
        if before.any():
            errors.append(_dates_before_start(out, s.LOCAL_START_DATE, before))
        elif s.LOCAL_START_MONTHS not in cols:
            out[s.LOCAL_START_MONTHS] = _months_between(start, local)
            derived.append(s.LOCAL_START_MONTHS)
            warnings.append(
                _(
                    "'{column}' was derived from treatment_start_date and local_start_date for "
                    "{n} of {total} patients (days / {days})."
                ).format(
                    column=s.LOCAL_START_MONTHS,
                    n=int(out[s.LOCAL_START_MONTHS].notna().sum()),
                    total=len(out),
                    days=s.DAYS_PER_MONTH,
                )
            )
    return derived


def _check_competing(out: pd.DataFrame, errors: list[str]) -> None:
    """Progression type, cause of death and local start must agree with the survival columns."""
    cols = set(out.columns)

    def flag(mask, text: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            errors.append(_(text).format(where=_where(out, mask)))

    def equals(column: str, value) -> np.ndarray:
        return (out[column] == value).fillna(False).to_numpy(dtype=bool)

    if {s.PROGRESSION_EVENT, s.PFS_EVENT} <= cols:
        flag(
            equals(s.PROGRESSION_EVENT, 1) & equals(s.PFS_EVENT, 0),
            N_(
                "'progression_event' is 1 (progression) but 'pfs_event' is 0 (censored) in "
                "{where}. A progression is a PFS event: set pfs_event to 1, or empty "
                "progression_event if the patient has not progressed."
            ),
        )
    if {s.PROGRESSION_EVENT, s.OS_EVENT} <= cols:
        flag(
            equals(s.PROGRESSION_EVENT, 0) & equals(s.OS_EVENT, 0),
            N_(
                "'progression_event' is 0 (death without progression) but 'os_event' is 0 "
                "(alive) in {where}. Correct one of the two columns for these patients."
            ),
        )
    if {s.DEATH_CAUSE, s.OS_EVENT} <= cols:
        flag(
            out[s.DEATH_CAUSE].notna().to_numpy() & equals(s.OS_EVENT, 0),
            N_(
                "'death_cause' is filled in but 'os_event' is 0 (alive) in {where}. Empty "
                "death_cause for living patients, or set os_event to 1."
            ),
        )
    if s.LOCAL_START_MONTHS in cols:
        local = out[s.LOCAL_START_MONTHS].to_numpy(dtype="float64", na_value=np.nan)
        if s.TREATMENT_GROUP in cols:
            flag(
                np.isfinite(local) & equals(s.TREATMENT_GROUP, s.SYSTEMIC),
                N_(
                    "'local_start_months' is filled in for patients in the systemic-only group "
                    "in {where}. Patients who received local therapy belong to the "
                    "local+systemic group: correct local_modality/treatment_group or empty "
                    "local_start_months."
                ),
            )
        if s.OS_MONTHS in cols:
            os_t = out[s.OS_MONTHS].to_numpy(dtype="float64", na_value=np.nan)
            flag(
                local > os_t + 1e-9,
                N_(
                    "'local_start_months' is later than 'os_months' in {where}: local therapy "
                    "cannot start after death or the last follow-up. Check both times (or "
                    "dates) for these patients."
                ),
            )


def _dates_before_start(out: pd.DataFrame, column: str, before: np.ndarray) -> str:
    return _(
        "Column '{column}' has dates before treatment_start_date in {where}. Check both dates "
        "in your file and upload it again."
    ).format(column=column, where=_where(out, before))


def _join(where: str, errors: list[str]) -> str:
    if len(errors) == 1:
        return _("{where} cannot be used. {error}").format(where=where, error=errors[0])
    listed = "\n".join(f"{i}. {e}" for i, e in enumerate(errors, 1))
    return _("{where} cannot be used; it has {n} problems:\n{listed}").format(
        where=where, n=len(errors), listed=listed
    )
