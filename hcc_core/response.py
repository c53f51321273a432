"""Tumour response (mRECIST): CR/PR/SD/PD/NE, objective response and disease control rates.

``response_rates`` returns numbers; ``format_response`` makes the display strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema as S
from . import suppression
from .errors import CohortError
from .formatting import DASH, format_n_pct, format_number, format_p, rows_of, symbol_notes
from .i18n import N_, _
from .memo import factorize
from .stats_tests import (
    CONTINGENCY_COLUMNS,
    clopper_pearson,
    contingency_test,
    fisher_note,
)
from .stats_tests import newcombe_difference as _newcombe
from .tables import (
    FISHER_HEAD,
    OVERALL,
    P_HEAD,
    _count_table,
    _Footnoted,
    _frame,
    _group_header,
    _group_index,
    _group_notes,
    group_column,
    level_label,
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
    patients per group with a known best response; ``n_excluded``: those without. With
    ``overall`` the ``n, pct, ci_low, ci_high`` columns also exist for ``OVERALL`` (every
    patient with a group), first; differences and tests compare the groups only.
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
    overall: bool = False

    def _per_group_n(self) -> dict:
        return self.denominators  # the header's N: patients with a recorded best response

    @property
    def counts(self) -> pd.DataFrame:
        """Best response long: ``group, response, n, percent`` (CR..NE per column, in order;
        the ``OVERALL`` column first when present)."""
        t = self.table[self.table["kind"] == "response"]
        cols = self.columns
        return pd.DataFrame(
            {
                "group": np.repeat(np.array(cols, dtype=object), len(t)),
                "response": np.tile(t["category"].to_numpy(), len(cols)),
                "n": np.concatenate([t[group_column("n", g)].to_numpy() for g in cols]),
                "percent": np.concatenate([t[group_column("pct", g)].to_numpy() for g in cols]),
            }
        )


def _response_codes(series: pd.Series) -> np.ndarray:
    # Normalise the few distinct values, not every row ("pr " -> "PR").
    raw, uniques = factorize(series)
    clean = [str(u).strip().upper() for u in uniques]
    unknown = sorted(set(clean) - set(RESPONSE_LEVELS))
    if unknown:
        raise CohortError(
            _(
                "The response table found best_response value(s) {values}; use one of {levels} "
                "(mRECIST; NE = not evaluable), or leave the cell empty if no assessment was "
                "made."
            ).format(values=", ".join(map(repr, unknown)), levels=", ".join(RESPONSE_LEVELS))
        )
    perm = np.array([RESPONSE_LEVELS.index(c) for c in clean] + [-1], dtype=np.int64)
    return perm[raw]


def response_rates(
    df: pd.DataFrame, by: str = S.TREATMENT_GROUP, overall: bool = False
) -> ResponseResult:
    """Best response counts, ORR and DCR by group, with exact CIs, differences and tests.

    Parameters
    ----------
    df : one row per patient with ``best_response`` (CR, PR, SD, PD, NE) and ``by``.
    by : grouping column; the first level (schema order) is the reference.
    overall : add an ``OVERALL`` column (every patient with a group), with its exact CIs.

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
    analysis = N_("response table")
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
    columns = (OVERALL, *grp.levels) if overall else grp.levels
    rows = []
    for name, k in [*((lv, counts[:, j]) for j, lv in enumerate(RESPONSE_LEVELS)), *rates.items()]:
        is_rate = name in RATE_DEFINITIONS
        # The overall column is one more binomial: all groups' counts over all denominators.
        kk = np.concatenate([[k.sum()], k]) if overall else k
        nn = np.concatenate([[denom.sum()], denom]) if overall else denom
        low, high = clopper_pearson(kk, nn)
        with np.errstate(invalid="ignore", divide="ignore"):
            row = {"category": name, "kind": "rate" if is_rate else "response"}
            for i, g in enumerate(columns):
                row[group_column("n", g)] = int(kk[i])
                row[group_column("pct", g)] = 100.0 * kk[i] / nn[i] if nn[i] else np.nan
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
        columns,
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
            _(
                "{n} patient(s) without a recorded best response are excluded from the "
                "denominators."
            ).format(n=int(missing.sum()))
        )
    return ResponseResult(
        table=table,
        by=by,
        groups=grp.levels,
        reference=grp.levels[ref],
        denominators={g: int(n) for g, n in zip(grp.levels, denom, strict=True)},
        n_excluded={g: int(n) for g, n in zip(grp.levels, missing, strict=True)},
        n_group_missing=grp.n_missing,
        method=_method(len(grp.levels), level_label(by, grp.levels[ref])),
        notes=tuple(notes),
        overall=overall,
    )


def _method(n_groups: int, reference) -> str:
    fisher = fisher_note(n_groups > 2)
    return _(
        "Best overall response by mRECIST. ORR = (CR + PR) / N and DCR = (CR + PR + SD) / N, "
        "where N is every patient of the group with a recorded best response (as in the "
        "paper); NE (not evaluable) counts as a non-responder; patients with no recorded "
        "best response are excluded and counted. 95% CIs: Clopper-Pearson (exact). "
        "Differences: group minus {reference}, percentage points, 95% CI by Newcombe's "
        "hybrid score method (from Wilson intervals). Tests: Pearson chi-square without "
        "continuity correction (as in the paper) and Fisher's exact test ({fisher}); "
        "'*' marks an expected count < 5, where Fisher's p is the one to read."
    ).format(reference=reference, fisher=fisher)


RESPONSE_SYMBOLS = {
    DASH: N_(
        "no patient of the group has a recorded best response, or no test is possible "
        "(fewer than two groups with patients)"
    ),
}
_CATEGORY_WORDS = {"NE": N_("NE (not evaluable)")}


def _rate_cell(row, g) -> str:
    n, pct = row[group_column("n", g)], row[group_column("pct", g)]
    if not np.isfinite(pct):
        return DASH
    text = format_n_pct(n, pct)
    if row["kind"] == "rate" and not suppression.hides(n):  # a CI would give a hidden n back
        lo, hi = (format_number(row[group_column(c, g)], "pct") for c in ("ci_low", "ci_high"))
        text += f" [{lo}-{hi}]"
    return text


def format_response(result: ResponseResult, digits: int | None = None) -> pd.DataFrame:
    """Display strings for the response table, like the paper's Table 2.

    Rows CR, PR, SD, PD (NE only when present), ORR, DCR; cells "8 (20.51)", with the
    95% CI ("[9.30-36.46]") for ORR and DCR; an "Overall (N = ...)" column first with
    ``result.overall``; per non-reference group a difference column ("Local + systemic vs
    Systemic, difference (95% CI)"); then "Chi-square", "p", "Fisher's exact p".
    ``attrs["notes"]`` explains any "-"; footnote: ``result.method``. ``digits`` is
    accepted for compatibility; percentages follow ``formatting.DIGITS``.
    """
    t = result.table
    groups, cols, n = result.groups, result.columns, result.column_n
    heads = [_group_header(result.by, g, n[g]) for g in cols]
    ref = result.reference
    others = [g for g in groups if g != ref]
    diff_head = {
        g: _("{group} vs {reference}, difference (95% CI)").format(
            group=level_label(result.by, g), reference=level_label(result.by, ref)
        )
        for g in others
    }
    chi_head, fisher_head = _("Chi-square"), _(FISHER_HEAD)
    out = []
    for row in rows_of(t):
        if row["category"] == "NE" and all(row[group_column("n", g)] == 0 for g in groups):
            continue
        rate = row["kind"] == "rate"
        word = _CATEGORY_WORDS.get(row["category"])
        cells = {"": _(word) if word else row["category"]}
        for g, h in zip(cols, heads, strict=True):
            cells[h] = _rate_cell(row, g)
        for g in others:
            d = row[group_column("diff", g)]
            if rate and suppression.reveals(
                    (row[group_column("n", g)], row[group_column("n", ref)])):
                # With the groups' sizes in the headers, the difference gives the count back.
                cells[diff_head[g]] = suppression.withheld_cell()
                continue
            cells[diff_head[g]] = (
                f"{format_number(d, 'pct')} ({format_number(row[group_column('diff_ci_low', g)], 'pct')}, "
                f"{format_number(row[group_column('diff_ci_high', g)], 'pct')})"
                if np.isfinite(d)
                else DASH
            ) if rate else ""
        cells[chi_head] = format_number(row["statistic"], "statistic") if rate else ""
        cells[P_HEAD] = (
            format_p(row["p_value"]) + (" *" if row["low_expected"] else "") if rate else ""
        )
        cells[fisher_head] = format_p(row["fisher_p"]) if rate else ""
        out.append(cells)
    table = pd.DataFrame(out)
    table.attrs["notes"] = symbol_notes(table, {k: _(v) for k, v in RESPONSE_SYMBOLS.items()})
    return table
