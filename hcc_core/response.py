"""Tumour response (mRECIST): CR/PR/SD/PD/NE, objective response and disease control rates.

``response_rates`` returns numbers; ``format_response`` makes the display strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema as S
from .errors import CohortError
from .stats_tests import (
    CONTINGENCY_COLUMNS,
    clopper_pearson,
    contingency_test,
    fisher_note,
)
from .stats_tests import newcombe_difference as _newcombe
from .tables import (
    _count_table,
    _Footnoted,
    _frame,
    _group_header,
    _group_index,
    _group_notes,
    format_n_pct,
    format_p,
    group_column,
)

__all__ = [
    "RESPONSE_LEVELS",
    "RATE_DEFINITIONS",
    "ResponseResult",
    "response_rates",
    "format_response",
]

RESPONSE_LEVELS: tuple[str, ...] = S.LEVELS[S.BEST_RESPONSE]  # CR, PR, SD, PD, NE
RATE_DEFINITIONS: dict[str, tuple[str, ...]] = {
    "ORR": ("CR", "PR"),
    "DCR": ("CR", "PR", "SD"),
}


@dataclass(frozen=True)
class ResponseResult(_Footnoted):
    """Response table as numbers.

    ``table`` has one row per ``category`` (CR, PR, SD, PD, NE, ORR, DCR) with ``kind``
    ("response" or "rate"), per group ``n[g], pct[g], ci_low[g], ci_high[g]`` (percent,
    Clopper-Pearson), per non-reference group ``diff[g], diff_ci_low[g], diff_ci_high[g]``
    (percentage points, group minus reference), and, on the ORR and DCR rows, ``statistic,
    df, p_value, min_expected, low_expected, fisher_p, fisher_method``. ``denominators``:
    patients per group with a known best response; ``n_excluded``: those without.
    """

    table: pd.DataFrame
    by: str
    groups: tuple
    reference: object
    denominators: dict
    n_excluded: dict
    n_group_missing: int
    method: str
    notes: tuple[str, ...]

    @property
    def counts(self) -> pd.DataFrame:
        """Best response long: ``group, response, n, percent`` (CR..NE per group, in order)."""
        t = self.table[self.table["kind"] == "response"]
        return pd.DataFrame(
            {
                "group": np.repeat(np.array(self.groups, dtype=object), len(t)),
                "response": np.tile(t["category"].to_numpy(), len(self.groups)),
                "n": np.concatenate([t[group_column("n", g)].to_numpy() for g in self.groups]),
                "percent": np.concatenate(
                    [t[group_column("pct", g)].to_numpy() for g in self.groups]
                ),
            }
        )



def _response_codes(series: pd.Series) -> np.ndarray:
    # Normalise the few distinct values, not every row ("pr " -> "PR").
    raw, uniques = pd.factorize(series)
    clean = [str(u).strip().upper() for u in uniques]
    unknown = sorted(set(clean) - set(RESPONSE_LEVELS))
    if unknown:
        raise CohortError(
            f"The response table found best_response value(s) {', '.join(map(repr, unknown))}; "
            f"use one of {', '.join(RESPONSE_LEVELS)} (mRECIST; NE = not evaluable), or leave "
            "the cell empty if no assessment was made."
        )
    perm = np.array([RESPONSE_LEVELS.index(c) for c in clean] + [-1], dtype=np.int64)
    return perm[raw]


def response_rates(df: pd.DataFrame, by: str = S.TREATMENT_GROUP) -> ResponseResult:
    """Best response counts, ORR and DCR by group, with exact CIs, differences and tests.

    Parameters
    ----------
    df : one row per patient with ``best_response`` (CR, PR, SD, PD, NE) and ``by``.
    by : grouping column; the first level (schema order) is the reference.

    Returns
    -------
    ResponseResult : numeric table plus the footnote text (``method``) and notes.

    Raises
    ------
    MissingColumnsError : ``best_response`` or ``by`` is absent.
    CohortError : a best_response value is not an mRECIST category.

    Notes
    -----
    ORR = (CR + PR) / N and DCR = (CR + PR + SD) / N, N = all patients of the group with a
    recorded best response (NE counts as a non-responder), as in the paper. Clopper-Pearson
    CIs (R ``binom.test``), Newcombe hybrid-score CI for the difference
    (R ``DescTools::BinomDiffCI(method = "score")``), Pearson chi-square without
    continuity correction (R ``chisq.test(correct = FALSE)``) and Fisher's exact test.
    """
    analysis = "response table"
    S.require_columns(df, [S.BEST_RESPONSE], analysis)
    grp = _group_index(df, by, analysis)
    counts, missing = _count_table(
        grp.codes, _response_codes(df[S.BEST_RESPONSE]), len(grp.levels), len(RESPONSE_LEVELS)
    )
    denom = counts.sum(axis=1)
    index = {lv: j for j, lv in enumerate(RESPONSE_LEVELS)}
    rates = {
        name: counts[:, [index[c] for c in cats]].sum(axis=1)
        for name, cats in RATE_DEFINITIONS.items()
    }
    usable = denom > 0
    ref = next((i for i in range(len(grp.levels)) if usable[i]), 0)
    rows = []
    for name, k in [*((lv, counts[:, j]) for j, lv in enumerate(RESPONSE_LEVELS)), *rates.items()]:
        is_rate = name in RATE_DEFINITIONS
        low, high = clopper_pearson(k, denom)
        with np.errstate(invalid="ignore", divide="ignore"):
            row = {"category": name, "kind": "rate" if is_rate else "response"}
            for i, g in enumerate(grp.levels):
                row[group_column("n", g)] = int(k[i])
                row[group_column("pct", g)] = 100.0 * k[i] / denom[i] if denom[i] else np.nan
                row[group_column("ci_low", g)] = 100.0 * low[i]
                row[group_column("ci_high", g)] = 100.0 * high[i]
        d, dl, dh = _newcombe(k, denom, k[ref], denom[ref])
        for i, g in enumerate(grp.levels):
            if i != ref:
                row[group_column("diff", g)] = 100.0 * d[i]
                row[group_column("diff_ci_low", g)] = 100.0 * dl[i]
                row[group_column("diff_ci_high", g)] = 100.0 * dh[i]
        if is_rate and usable.sum() >= 2:
            ct = contingency_test(np.column_stack([k, denom - k]), fisher="always")
            row.update(**ct.as_dict())
        rows.append(row)
    others = [g for i, g in enumerate(grp.levels) if i != ref]
    table = _frame(
        rows,
        grp.levels,
        ("n", "pct", "ci_low", "ci_high"),
        lead=("category", "kind"),
        tail=(
            *(group_column(s, g) for g in others for s in ("diff", "diff_ci_low", "diff_ci_high")),
            *CONTINGENCY_COLUMNS,
        ),
    )
    notes = _group_notes(grp, by)
    if missing.sum():
        notes.append(
            f"{int(missing.sum())} patient(s) without a recorded best response are "
            "excluded from the denominators."
        )
    return ResponseResult(
        table=table,
        by=by,
        groups=grp.levels,
        reference=grp.levels[ref],
        denominators={g: int(n) for g, n in zip(grp.levels, denom, strict=True)},
        n_excluded={g: int(n) for g, n in zip(grp.levels, missing, strict=True)},
        n_group_missing=grp.n_missing,
        method=_method(len(grp.levels), grp.levels[ref]),
        notes=tuple(notes),
    )


def _method(n_groups: int, reference) -> str:
    fisher = fisher_note(n_groups > 2)
    return (
        "Best overall response by mRECIST. ORR = (CR + PR) / N and DCR = (CR + PR + SD) / N, "
        "where N is every patient of the group with a recorded best response (as in the "
        "paper); NE (not evaluable) counts as a non-responder; patients with no recorded "
        "best response are excluded and counted. 95% CIs: Clopper-Pearson (exact). "
        f"Differences: group minus {reference}, percentage points, 95% CI by Newcombe's "
        "hybrid score method (from Wilson intervals). Tests: Pearson chi-square without "
        f"continuity correction (as in the paper) and Fisher's exact test ({fisher}); "
        "'*' marks an expected count < 5, where Fisher's p is the one to read."
    )


def format_response(result: ResponseResult, digits: int = 2) -> pd.DataFrame:
    """Display strings for the response table, like the paper's Table 2.

    Rows CR, PR, SD, PD (NE only when present), ORR, DCR; cells "8 (20.51)", with the
    95% CI ("9.30-36.46") for ORR and DCR; columns "Difference (95% CI)" per non-reference
    group, "Chi-square", "P-value", "Fisher P". Footnote: ``result.method``.
    """
    t = result.table
    groups = result.groups
    heads = [_group_header(g, result.denominators[g]) for g in groups]
    others = [g for g in groups if g != result.reference]
    out = []
    for _, row in t.iterrows():
        if row["category"] == "NE" and all(row[group_column("n", g)] == 0 for g in groups):
            continue
        rate = row["kind"] == "rate"
        cells = {"": row["category"]}
        for g, h in zip(groups, heads, strict=True):
            text = format_n_pct(row[group_column("n", g)], row[group_column("pct", g)], digits)
            if rate and np.isfinite(row[group_column("ci_low", g)]):
                text += (
                    f" [{row[group_column('ci_low', g)]:.{digits}f}-"
                    f"{row[group_column('ci_high', g)]:.{digits}f}]"
                )
            cells[h] = text
        for g in others:
            d = row[group_column("diff", g)]
            cells[f"Difference vs {result.reference} ({g})"] = (
                f"{d:.{digits}f} ({row[group_column('diff_ci_low', g)]:.{digits}f}, "
                f"{row[group_column('diff_ci_high', g)]:.{digits}f})"
                if rate and np.isfinite(d)
                else ""
            )
        cells["Chi-square"] = (
            f"{row['statistic']:.3f}" if rate and np.isfinite(row["statistic"]) else ""
        )
        cells["P-value"] = (
            format_p(row["p_value"]) + (" *" if row["low_expected"] else "") if rate else ""
        )
        cells["Fisher P"] = format_p(row["fisher_p"]) if rate else ""
        out.append(cells)
    return pd.DataFrame(out)
