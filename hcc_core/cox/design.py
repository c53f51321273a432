"""Design matrix of a Cox model: derived covariates, factor coding, complete cases, collinearity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema
from ..i18n import N_, _
from ..memo import IdentityMemo
from ..survival import _factorize
from ..tables import LEVEL_LABELS, label_of
from .engine import _gram as gram

__all__ = [
    "AFP_400",
    "BCLC_AB_VS_C",
    "DERIVED_COVARIATES",
    "LOG10_AFP",
    "PAPER_COX_COVARIATES",
    "term_label",
]

# Derived covariates (computed from canonical columns when named in ``covariates``)
BCLC_AB_VS_C = (
    "bclc_ab_vs_c"  # levels "A/B" (reference; BCLC 0 counted here) and "C" (D counted here)
)
LOG10_AFP = "log10_afp"  # log10 of AFP in ng/mL, AFP below 1 ng/mL floored at 1
AFP_400 = "afp_400"  # levels "< 400" (reference) and ">= 400" ng/mL, the usual HCC cut-off
DERIVED_COVARIATES: dict[str, str] = {
    BCLC_AB_VS_C: "BCLC stage C (or D) vs A/B (or 0), from bclc_stage",
    LOG10_AFP: "log10 AFP (ng/mL; values below 1 set to 1), from afp_ng_ml",
    AFP_400: "AFP >= 400 vs < 400 ng/mL, from afp_ng_ml",
}
_DERIVED_LEVELS = {BCLC_AB_VS_C: ("A/B", "C"), AFP_400: ("< 400", ">= 400")}
_BCLC_AB_C = {"0": "A/B", "A": "A/B", "B": "A/B", "C": "C", "D": "C"}  # stage -> BCLC_AB_VS_C

# The paper's multivariable model (Methods): treatment + age, sex, Child-Pugh (A vs B),
# BCLC (A/B vs C), maximum diameter, tumour number, log AFP, ALBI score.
PAPER_COX_COVARIATES: tuple[str, ...] = (
    schema.TREATMENT_GROUP,
    schema.AGE,
    schema.SEX,
    schema.CHILD_PUGH_CLASS,
    BCLC_AB_VS_C,
    schema.MAX_DIAMETER,
    schema.TUMOR_NUMBER,
    LOG10_AFP,
    schema.ALBI_SCORE,
)

_COLLINEAR_TOL = 1e-9


def _values(df: pd.DataFrame, name: str) -> pd.Series:
    if name == BCLC_AB_VS_C:
        schema.require_columns(df, [schema.BCLC_STAGE], N_("Cox model"))
        stage = df[schema.BCLC_STAGE].astype("object")
        out = stage.map(_BCLC_AB_C)
        return out.where(stage.notna())
    if name == AFP_400:
        schema.require_columns(df, [schema.AFP], N_("Cox model"))
        afp = pd.to_numeric(df[schema.AFP], errors="coerce")
        return pd.Series(
            np.where(afp >= 400, ">= 400", "< 400"), index=df.index, dtype=object
        ).where(afp.notna())
    if name == LOG10_AFP:
        schema.require_columns(df, [schema.AFP], N_("Cox model"))
        afp = pd.to_numeric(df[schema.AFP], errors="coerce")
        return np.log10(afp.clip(lower=1.0))
    schema.require_columns(df, [name], N_("Cox model"))
    return df[name]


# Terms that are not a column: the time-dependent local-therapy term (cox.time_to_event).
TERM_WORDS = {"local therapy (time-dependent)": N_("Local therapy (time-dependent)")}


def term_label(term: str) -> str:
    """Human label of a model term: 'sex[F]' -> 'Sex: Female vs Male', 'age' -> 'Age (years)'.

    A categorical term ``column[level]`` is named against the column's reference level (its
    first level in schema order, or the derived covariate's first level).
    """
    if term in TERM_WORDS:
        return _(TERM_WORDS[term])
    if not term.endswith("]") or "[" not in term:
        return label_of(term)
    column, level = term[:-1].split("[", 1)
    names = {k: _(v) for k, v in LEVEL_LABELS.get(column, {}).items()}
    levels = _DERIVED_LEVELS.get(column) or schema.LEVELS.get(column, ())
    ref = f" vs {names.get(levels[0], levels[0])}" if levels and str(levels[0]) != level else ""
    return f"{label_of(column)}: {names.get(level, level)}{ref}"


def _is_categorical(name: str, s: pd.Series) -> bool:
    return (
        name in schema.CATEGORICAL
        or name in _DERIVED_LEVELS
        or not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))
    )


def _order_levels(name: str, present: list) -> list:
    """Levels in schema order (unknown extras sorted after), as ``schema.levels_of``."""
    known = _DERIVED_LEVELS.get(name, schema.LEVELS.get(name, ()))
    first = [lv for lv in known if lv in set(present)]
    return first + sorted((v for v in present if v not in set(first)), key=str)


@dataclass(frozen=True)
class _Design:
    X: np.ndarray  # (n, p) float, complete cases only
    terms: list[str]
    assign: dict[str, list[int]]  # covariate -> its columns in X
    keep: np.ndarray  # bool over the endpoint-valid rows
    notes: tuple[str, ...]
    categorical: bool = False  # every covariate is a factor (rows take few distinct values)


def _numeric(df: pd.DataFrame, column: str) -> np.ndarray:
    """A column as float64 with NaN for missing (plain float columns without pandas coercion)."""
    s = df[column]
    if s.dtype == np.float64:
        return s.to_numpy()
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _encode(frame: pd.DataFrame, c: str) -> tuple:
    """One covariate as arrays: (is_categorical, codes or values, categories, missing mask).

    Computed once per frame and column (``hcc_core.memo``): a refresh fits the multivariable
    model, the univariable screen and the subgroup forest on the same filtered frame. Callers
    take copies of the rows they use and never write into the arrays.
    """
    return _ENCODED.get(frame, c)


def _encode_column(frame: pd.DataFrame, c: str) -> tuple:
    """``_encode`` computed afresh."""
    if c == LOG10_AFP:  # as _values, without building a Series
        schema.require_columns(frame, [schema.AFP], N_("Cox model"))
        x = np.log10(np.clip(_numeric(frame, schema.AFP), 1.0, None))
        return False, x, None, np.isnan(x)
    if c == AFP_400:  # as _values: missing AFP is missing
        schema.require_columns(frame, [schema.AFP], N_("Cox model"))
        afp = _numeric(frame, schema.AFP)
        codes = np.where(np.isnan(afp), -1, (afp >= 400).astype(np.int64))
        return True, codes, list(_DERIVED_LEVELS[AFP_400]), codes < 0
    if c == BCLC_AB_VS_C:  # as _values: each stage's code mapped to its derived level
        schema.require_columns(frame, [schema.BCLC_STAGE], N_("Cox model"))
        raw, stages = _factorize(frame[schema.BCLC_STAGE])
        derived = [_BCLC_AB_C.get(v) if isinstance(v, str) else None for v in stages]
        cats = list(dict.fromkeys(v for v in derived if v is not None))
        lut = np.array([cats.index(v) if v is not None else -1 for v in derived] + [-1])
        codes = lut[raw]
        return True, codes, cats, codes < 0
    if c not in _DERIVED_LEVELS:
        schema.require_columns(frame, [c], N_("Cox model"))
        if not _is_categorical(c, frame[c]):
            x = _numeric(frame, c)
            return False, x, None, np.isnan(x)
    v = _values(frame, c)
    if _is_categorical(c, v):
        codes, uniques = _factorize(v)
        return True, codes, uniques, codes < 0
    x = pd.to_numeric(v, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return False, x, None, np.isnan(x)


def _take(enc: tuple, rows: np.ndarray) -> tuple:
    """An encoded covariate restricted to ``rows`` (a boolean mask or an index array)."""
    is_cat, data, cats, miss = enc
    return is_cat, data[rows], cats, miss[rows]


def _design(encoded: dict[str, tuple], n_rows: int, ok: np.ndarray | None = None) -> _Design:
    """Model matrix (treatment-coded factors against their first level), complete cases.

    ``encoded`` maps each covariate to its ``_encode`` arrays over the same ``n_rows`` rows.
    """
    keep = np.ones(n_rows, dtype=bool)
    missing = {}
    for c, (*_parts, miss) in encoded.items():
        if miss.any():
            missing[c] = int(miss.sum())
            keep &= ~miss
    n_missing = int((~keep).sum()) if ok is None else int((~keep & ok).sum())
    if ok is not None:
        keep &= ok
    notes = []
    if missing:
        detail = ", ".join(f"{c}: {k}" for c, k in missing.items())
        notes.append(
            _(
                "{n} patient(s) with a missing covariate were excluded (complete-case analysis; "
                "missing values by column: {detail})."
            ).format(n=n_missing, detail=detail)
        )
    cols, terms, owner = [], [], []
    for c, (is_cat, data, cats, _miss) in encoded.items():
        data = data[keep]
        if is_cat:
            used = (
                np.bincount(data, minlength=len(cats)) > 0
                if data.size
                else np.zeros(len(cats), bool)
            )
            present = [cats[i] for i in np.flatnonzero(used)]
            lv = _order_levels(c, present)
            if len(lv) < 2:
                notes.append(
                    _(
                        "'{column}' takes a single value in these patients and was dropped from "
                        "the model."
                    ).format(column=c)
                )
                continue
            code_of = {cat: i for i, cat in enumerate(cats)}
            for level in lv[1:]:
                cols.append((data == code_of[level]).astype(float))
                terms.append(f"{c}[{level}]")
                owner.append(c)
        else:
            if data.size and np.ptp(data) == 0:
                notes.append(
                    _("'{column}' is constant in these patients and was dropped from the model.").format(
                        column=c
                    )
                )
                continue
            cols.append(data)
            terms.append(c)
            owner.append(c)
    X = np.column_stack(cols) if cols else np.empty((int(keep.sum()), 0))
    X, terms, owner, dropped = _drop_collinear(X, terms, owner)
    if dropped:
        notes.append(
            _(
                "Term(s) {terms} are linear combinations of other terms in these patients and "
                "were dropped (R would report NA)."
            ).format(terms=", ".join(dropped))
        )
    assign: dict[str, list[int]] = {}
    for j, c in enumerate(owner):
        assign.setdefault(c, []).append(j)
    categorical = all(enc[0] for enc in encoded.values())
    return _Design(X, terms, assign, keep, tuple(notes), categorical)


def _drop_collinear(X, terms, owner, weights=None):
    """Drop columns that add no rank, in order (like coxph's singular-column check).

    ``weights``: each row of ``X`` stands for that many rows (e.g. cells of ``_cell_counts``).
    """
    if X.shape[1] == 0:
        return X, terms, owner, []
    if weights is not None:
        Xc = X - (weights @ X) / weights.sum()
        G = (Xc.T * weights) @ Xc
    else:
        Xc = X - X.mean(axis=0)
        G = gram(np.ascontiguousarray(Xc.T)[None], np.ones((1, X.shape[0])))[0]
    # Each column's part not explained by the kept columns before it: Gaussian elimination on
    # the Gram matrix (Schur complements), eliminating only the kept columns.
    kept: list[int] = []
    S = G.copy()
    diag = np.diag(G).tolist()
    p = X.shape[1]
    for j in range(p):
        if S[j, j] > _COLLINEAR_TOL * max(diag[j], 1e-300) and diag[j] > 0:
            kept.append(j)
            if j + 1 < p:
                S[j + 1 :, j + 1 :] -= np.outer(S[j + 1 :, j], S[j, j + 1 :]) / S[j, j]
    if len(kept) == p:  # the common case: nothing to drop, no copy
        return X, list(terms), list(owner), []
    dropped = [terms[j] for j in range(p) if j not in kept]
    return X[:, kept], [terms[j] for j in kept], [owner[j] for j in kept], dropped


_ENCODED = IdentityMemo(_encode_column)
