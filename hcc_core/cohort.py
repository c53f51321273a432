"""Cohort filters: a frozen :class:`Filters` value, vectorised :func:`apply_filters`, URL params.

``apply_filters`` returns the filtered DataFrame (rows in their original order and index). A
filter on a column the cohort lacks is not an error: it is skipped, and
:func:`ignored_filters` gives the full-sentence report to show next to the result.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema as s
from . import suppression
from .i18n import N_, _, pgettext

__all__ = [
    "AFP_HIGH_NG_ML",
    "Filters",
    "apply_filters",
    "ignored_filters",
    "describe_filters",
    "group_counts",
    "format_group_counts",
    "pfs_death_notes",
]

AFP_HIGH_NG_ML = 400.0  # the paper's (and BCLC's) high-AFP threshold: AFP >= 400 ng/mL

# field name -> (column, URL key, label) for the "one of these levels" filters
_LEVEL_FILTERS: dict[str, tuple[str, str, str]] = {
    "local_modalities": (s.LOCAL_MODALITY, "modality", N_("local modality")),
    "child_pugh_classes": (s.CHILD_PUGH_CLASS, "child_pugh", N_("Child-Pugh class")),
    "bclc_stages": (s.BCLC_STAGE, "bclc", N_("BCLC stage")),
    "tumor_numbers": (s.TUMOR_NUMBER, "tumor_number", N_("tumour number")),
    "albi_grades": (s.ALBI_GRADE, "albi", N_("ALBI grade")),
}


def _levels(column: str, values: Iterable[object]) -> tuple:
    """Known levels among ``values``, deduplicated, in schema order (unknown values dropped)."""
    allowed = s.LEVELS[column]
    by_text = {str(lv).lower(): lv for lv in allowed}
    chosen = set()
    for v in values:
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        lv = by_text.get(str(v).strip().lower())
        if lv is not None:
            chosen.add(lv)
    return tuple(lv for lv in allowed if lv in chosen)


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class Filters:
    """Which patients to keep. Every field's default means "no filter".

    Attributes
    ----------
    local_modalities : tuple of str
        Keep these ``local_modality`` levels (e.g. ``("none", "mTACE")``); empty = all.
    child_pugh_classes, bclc_stages, tumor_numbers : tuple of str
        Keep these levels of ``child_pugh_class``, ``bclc_stage``, ``tumor_number``.
    albi_grades : tuple of int
        Keep these ALBI grades (1, 2, 3).
    afp_high : bool or None
        True keeps AFP >= 400 ng/mL, False keeps AFP < 400 ng/mL, None keeps all.
    age_min, age_max : float or None
        Inclusive age bounds in years.

    Values are normalised on construction: lists become tuples in schema order, case is
    folded, unknown levels are dropped, so equal selections compare (and hash) equal.
    """

    local_modalities: tuple[str, ...] = ()
    child_pugh_classes: tuple[str, ...] = ()
    bclc_stages: tuple[str, ...] = ()
    tumor_numbers: tuple[str, ...] = ()
    albi_grades: tuple[int, ...] = ()
    afp_high: bool | None = None
    age_min: float | None = None
    age_max: float | None = None

    def __post_init__(self) -> None:
        for name, (column, _key, _label) in _LEVEL_FILTERS.items():
            value = getattr(self, name)
            if isinstance(value, str | int):
                value = (value,)
            object.__setattr__(self, name, _levels(column, value or ()))
        for name in ("age_min", "age_max"):
            value = getattr(self, name)
            object.__setattr__(self, name, None if value is None else _finite(value))
        if self.afp_high is not None:
            object.__setattr__(self, "afp_high", bool(self.afp_high))

    @property
    def is_active(self) -> bool:
        """True if any filter is set."""
        return self != Filters()

    def to_query_params(self) -> dict[str, str]:
        """Only the active filters as URL query parameters (no patient data).

        e.g. ``{"modality": "none,mTACE", "afp": "high", "age_min": "50"}``.
        """
        params: dict[str, str] = {}
        for name, (_col, key, _label) in _LEVEL_FILTERS.items():
            value = getattr(self, name)
            if value:
                params[key] = ",".join(str(v) for v in value)
        if self.afp_high is not None:
            params["afp"] = "high" if self.afp_high else "low"
        for name in ("age_min", "age_max"):
            value = getattr(self, name)
            if value is not None:
                params[name] = f"{value:g}" if float(f"{value:g}") == value else repr(value)
        return params

    @classmethod
    def from_query_params(cls, params: Mapping[str, object]) -> Filters:
        """Filters from URL query parameters; unknown keys and garbled values are ignored.

        Never raises: a shared link that is out of date or edited by hand gives fewer filters,
        not an error. Accepts ``str`` or list-of-``str`` values (as ``st.query_params`` does).
        """
        try:
            get = dict(params).get
        except (TypeError, ValueError):
            return cls()

        def text(key: str) -> str:
            value = get(key)
            if isinstance(value, list | tuple):
                value = ",".join(str(v) for v in value)
            return value if isinstance(value, str) else ""

        kwargs: dict[str, object] = {}
        for name, (_col, key, _label) in _LEVEL_FILTERS.items():
            kwargs[name] = tuple(text(key).split(","))
        kwargs["afp_high"] = {"high": True, "low": False}.get(text("afp").strip().lower())
        for name in ("age_min", "age_max"):
            kwargs[name] = _finite(text(name).strip() or None)
        return cls(**kwargs)  # type: ignore[arg-type]


def _active(filters: Filters) -> list[tuple[str, str]]:
    """(column, label) of each active filter."""
    active = [
        (col, _(label))
        for name, (col, _key, label) in _LEVEL_FILTERS.items()
        if getattr(filters, name)
    ]
    if filters.afp_high is not None:
        active.append((s.AFP, "AFP"))
    if filters.age_min is not None or filters.age_max is not None:
        active.append((s.AGE, _("age")))
    return active


def apply_filters(df: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Rows of ``df`` that pass every active filter whose column ``df`` has.

    Parameters
    ----------
    df : DataFrame
        A canonical cohort (``Cohort.data``) or a hand-built frame with some of its columns.
    filters : Filters
        The selection.

    Returns
    -------
    DataFrame
        The matching rows, same columns, original order and index (``df`` itself when every
        row passes; treat the result as read-only). A patient whose value is
        missing in a filtered column does not match that filter. Filters on absent columns
        are skipped; report them with :func:`ignored_filters`.

    Notes
    -----
    One boolean mask, combined column by column (vectorised); like R's
    ``subset(df, child_pugh_class %in% c("A", "B") & age >= 50)``.
    """
    mask = np.ones(len(df), dtype=bool)
    for name, (column, _key, _label) in _LEVEL_FILTERS.items():
        chosen = getattr(filters, name)
        if chosen and column in df.columns:
            values = df[column]
            if column == s.ALBI_GRADE:
                values = pd.to_numeric(values, errors="coerce")
            mask &= values.isin(chosen).to_numpy(dtype=bool)
    if filters.afp_high is not None and s.AFP in df.columns:
        afp = pd.to_numeric(df[s.AFP], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            mask &= (afp >= AFP_HIGH_NG_ML) if filters.afp_high else (afp < AFP_HIGH_NG_ML)
    if s.AGE in df.columns and (filters.age_min is not None or filters.age_max is not None):
        age = pd.to_numeric(df[s.AGE], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            if filters.age_min is not None:
                mask &= age >= filters.age_min
            if filters.age_max is not None:
                mask &= age <= filters.age_max
    return df if mask.all() else df[mask]


def ignored_filters(df: pd.DataFrame, filters: Filters) -> list[str]:
    """Full sentences naming each active filter skipped because ``df`` lacks its column."""
    return [
        _("The {label} filter was not applied because this cohort has no '{column}' column.").format(
            label=label, column=column
        )
        for column, label in _active(filters)
        if column not in df.columns
    ]


def describe_filters(filters: Filters) -> list[str]:
    """Short phrases for the active filters, e.g. ``["Child-Pugh class A or B", "age 50-70"]``."""
    out = []
    for name, (_col, _key, label) in _LEVEL_FILTERS.items():
        chosen = getattr(filters, name)
        if chosen:
            out.append(f"{_(label)} {_(' or ').join(str(v) for v in chosen)}")
    if filters.afp_high is not None:
        out.append(f"AFP {'>=' if filters.afp_high else '<'} {AFP_HIGH_NG_ML:g} ng/mL")
    lo, hi = filters.age_min, filters.age_max
    if lo is not None and hi is not None:
        out.append(_("age {low}-{high} years").format(low=f"{lo:g}", high=f"{hi:g}"))
    elif lo is not None:
        out.append(_("age >= {low} years").format(low=f"{lo:g}"))
    elif hi is not None:
        out.append(_("age <= {high} years").format(high=f"{hi:g}"))
    return out


def group_counts(df: pd.DataFrame) -> dict[str, int]:
    """Patients per treatment group: every schema level (0 if absent), then any other value.

    Patients without a group are counted under ``"missing"`` (only if there are any).
    """
    counts = df[s.TREATMENT_GROUP].value_counts(dropna=True) if s.TREATMENT_GROUP in df else {}
    out = {level: int(counts.get(level, 0)) for level in s.LEVELS[s.TREATMENT_GROUP]}
    for level, n in dict(counts).items():
        out.setdefault(str(level), int(n))
    n_missing = len(df) - sum(out.values())
    if n_missing:
        out["missing"] = n_missing
    return out


def _group_word(group: str) -> str:
    """The group's code as the sidebar writes it ("systemic"), in the interface language."""
    words = {
        "systemic": pgettext("treatment group", "systemic"),
        "local+systemic": pgettext("treatment group", "local+systemic"),
        "missing": pgettext("treatment group", "missing"),
    }
    return words.get(group, group)


def format_group_counts(filtered: pd.DataFrame, full: pd.DataFrame) -> str:
    """'n = 40 of 95 patients (18 systemic, 22 local+systemic)'."""
    parts = ", ".join(f"{suppression.shown(n)} {_group_word(group)}"
                      for group, n in group_counts(filtered).items())
    return _("n = {n} of {total} patients ({parts})").format(
        n=suppression.shown(len(filtered)), total=len(full), parts=parts
    )


def pfs_death_notes(df: pd.DataFrame, endpoint: str, rows: np.ndarray | None = None) -> tuple:
    """The note every PFS result carries when it includes deaths at the time PFS was censored.

    Parameters
    ----------
    df : DataFrame
        The cohort (or the rows given to the analysis).
    endpoint : str
        ``"os"`` or ``"pfs"``; only PFS gets a note.
    rows : bool array, optional
        The rows of ``df`` the analysis used (default: all).

    Returns
    -------
    tuple of str
        Empty unless some analysed patient has ``pfs_death_at_censoring`` (set by
        ``load_cohort``); then one sentence saying how many and whether their deaths were
        counted as PFS events (``pfs_event`` = 1) or kept censored.

    Notes
    -----
    RECIST/mRECIST define PFS as the time to progression or death, so a death recorded at the
    time PFS was censored is an event; in R, ``pfs_event[death_at_censoring] <- 1`` before
    ``Surv(pfs_months, pfs_event)``.
    """
    if endpoint != "pfs" or s.PFS_DEATH_AT_CENSORING not in df.columns:
        return ()
    flag = df[s.PFS_DEATH_AT_CENSORING].to_numpy(dtype=bool, na_value=False)
    if rows is not None:
        flag = flag & np.asarray(rows, dtype=bool)
    if not flag.any():
        return ()
    counted = flag & (df[s.PFS_EVENT].to_numpy(dtype="float64", na_value=np.nan) == 1)
    notes = []
    if counted.any():
        notes.append(
            _(
                "{n} patient(s) died at the time their PFS was censored in the file; these "
                "deaths are counted as PFS events (RECIST/mRECIST definition: PFS ends at "
                "progression or death). The upload page can keep them censored instead."
            ).format(n=int(counted.sum()))
        )
    if (flag & ~counted).any():
        notes.append(
            _(
                "{n} patient(s) died at the time their PFS was censored and are kept censored, "
                "as chosen on the upload page; under RECIST/mRECIST these deaths are PFS "
                "events, so PFS may be overestimated."
            ).format(n=int((flag & ~counted).sum()))
        )
    return tuple(notes)
