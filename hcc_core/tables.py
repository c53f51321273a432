"""Table 1: baseline characteristics by group, with tests, SMDs and missing counts.

``table_one`` returns numbers; ``format_table_one`` turns them into the display strings.
Variable labels for every table live here (``LABELS``), in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema as S
from . import suppression
from .errors import CohortError, MissingColumnsError
from .formatting import (
    DASH,
    INDENT,
    NE,
    format_n_pct,
    format_number,
    format_p,
    rows_of,
    symbol_notes,
)
from .i18n import DEFAULT_LANGUAGE, N_, _, get_language
from .memo import factorize
from .stats_tests import (
    CONTINGENCY_COLUMNS,
    SHAPIRO_MAX_N,
    anova_oneway,
    contingency_test,
    fisher_note,
    is_normal,
    kruskal_wallis,
    mann_whitney_spss,
    max_pairwise,
    smd_categorical,
    smd_continuous,
    spss_quartiles,
    student_t,
)

__all__ = [
    "ANY_AE",
    "OVERALL",
    "COMPARE_BY",
    "LABELS",
    "LEVEL_LABELS",
    "DEFAULT_TABLE_ONE_VARIABLES",
    "TableOneResult",
    "table_one",
    "format_table_one",
    "group_column",
    "label_of",
    "level_label",
    "shown_level",
    "format_p",
    "format_n_pct",
]

# Pseudo-column of the adverse-event table: each patient's worst grade over all terms.
ANY_AE = "ae_any"
# Name of the all-patients column (``n[Overall]``) of a table built with ``overall=True``.
OVERALL = "Overall"
_OVERALL_WORD = N_("Overall")  # the column's header, translated (OVERALL itself is a key)
# Groupings the table pages offer ("Compare by"): column -> label.
COMPARE_BY: dict[str, str] = {
    S.TREATMENT_GROUP: N_("Treatment group"),
    S.LOCAL_MODALITY: N_("Local modality"),
}

LABELS: dict[str, str] = {
    S.AGE: N_("Age (years)"),
    S.SEX: N_("Sex"),
    S.ALBUMIN: N_("Albumin (g/L)"),
    S.BILIRUBIN: N_("Total bilirubin (umol/L)"),
    S.ALBI_SCORE: N_("ALBI score"),
    S.ALBI_GRADE: N_("ALBI grade"),
    S.CHILD_PUGH_CLASS: N_("Child-Pugh class"),
    S.CHILD_PUGH_SCORE: N_("Child-Pugh score"),
    S.TUMOR_NUMBER: N_("Number of tumours"),
    S.MAX_DIAMETER: N_("Maximum tumour diameter (cm)"),
    S.BCLC_STAGE: N_("BCLC stage"),
    S.AFP: N_("AFP (ng/mL)"),
    S.CHRONIC_HEPATITIS: N_("History of chronic hepatitis"),
    S.AV_FISTULA: N_("Arteriovenous fistula"),
    S.EXTRAHEPATIC_SUPPLY: N_("Extrahepatic blood supply"),
    S.TREATMENT_GROUP: N_("Treatment group"),
    S.LOCAL_MODALITY: N_("Local modality"),
    S.BEST_RESPONSE: N_("Best response (mRECIST)"),
    S.OS_MONTHS: N_("Overall survival (months)"),
    S.PFS_MONTHS: N_("Progression-free survival (months)"),
    S.PROGRESSION_EVENT: N_("First PFS event (1 = progression, 0 = death)"),
    S.DEATH_CAUSE: N_("Cause of death"),
    S.LOCAL_START_MONTHS: N_("Start of local therapy (months)"),
    S.LOCAL_START_DATE: N_("Start of local therapy (date)"),
    # Derived Cox covariates (hcc_core.cox)
    "bclc_ab_vs_c": N_("BCLC stage (grouped)"),
    "log10_afp": N_("log10 AFP (per 10-fold increase)"),
    "afp_400": N_("AFP (ng/mL)"),
    ANY_AE: N_("Any adverse event"),
    "ae_pain": N_("Pain"),
    "ae_fever": N_("Fever"),
    "ae_vomiting": N_("Vomiting"),
    "ae_hypertension": N_("Hypertension"),
    "ae_hand_foot_syndrome": N_("Hand-foot syndrome"),
    "ae_rash": N_("Rash"),
    "ae_hypothyroidism": N_("Hypothyroidism"),
    "ae_diarrhea": N_("Diarrhea"),
    "ae_elevated_alt_ast": N_("Elevated ALT/AST"),
    "ae_elevated_bilirubin": N_("Elevated bilirubin"),
}

LEVEL_LABELS: dict[str, dict] = {
    S.SEX: {"M": N_("Male"), "F": N_("Female")},
    S.TUMOR_NUMBER: {"single": N_("Single"), "multiple": N_("Multiple")},
    S.TREATMENT_GROUP: {S.SYSTEMIC: N_("Systemic"), S.LOCAL_SYSTEMIC: N_("Local + systemic")},
    S.LOCAL_MODALITY: {S.MODALITY_NONE: N_("Systemic only")},
    **{
        c: {S.NO: N_("No"), S.YES: N_("Yes")}
        for c in (S.CHRONIC_HEPATITIS, S.AV_FISTULA, S.EXTRAHEPATIC_SUPPLY)
    },
}

# The paper's Table 1 rows, in its order.
DEFAULT_TABLE_ONE_VARIABLES: tuple[str, ...] = (
    S.AGE,
    S.SEX,
    S.ALBUMIN,
    S.BILIRUBIN,
    S.ALBI_SCORE,
    S.CHILD_PUGH_CLASS,
    S.TUMOR_NUMBER,
    S.MAX_DIAMETER,
    S.BCLC_STAGE,
    S.AFP,
    S.CHRONIC_HEPATITIS,
    S.AV_FISTULA,
    S.EXTRAHEPATIC_SUPPLY,
)

_CONTINUOUS_KINDS = ("number", "integer")


def label_of(column: str) -> str:
    """Human label of a column ("Age (years)"), in the current language; unknown columns get
    a tidied name."""
    if column in LABELS:
        return _(LABELS[column])
    name = column[len(S.AE_PREFIX) :] if column.startswith(S.AE_PREFIX) else column
    return name.replace("_", " ").capitalize()


def level_label(column: str, level) -> str:
    """Human label of a level: ``level_label("local_modality", "none")`` is "Systemic only"."""
    label = LEVEL_LABELS.get(column, {}).get(level)
    return str(level) if label is None else _(label)


def shown_level(column: str, level) -> str:
    """A level as a sentence shows it: the data's code in English ("local+systemic"), in words
    (:func:`level_label`) in a translated interface ("局部 + 系统治疗"), as the app shows groups."""
    return str(level) if get_language() == DEFAULT_LANGUAGE else level_label(column, level)


def group_column(stat: str, group) -> str:
    """Name of the per-group column of a result table, e.g. ``n[systemic]``."""
    return f"{stat}[{group}]"


@dataclass(frozen=True)
class _Groups:
    codes: np.ndarray  # group index per row, -1 if the group is missing
    levels: tuple
    sizes: np.ndarray
    n_missing: int


def _group_index(df: pd.DataFrame, by: str, analysis: str) -> _Groups:
    S.require_columns(df, [by], analysis)
    if len(df) == 0:
        raise CohortError(
            _(
                "The {analysis} has no patients to describe: the cohort is empty. Relax the "
                "filters or load a cohort with patients."
            ).format(analysis=_(analysis))
        )
    codes, levels = _codes(df[by], by)
    if not levels:
        raise CohortError(
            _(
                "The {analysis} needs a group for each patient, but the column '{column}' is "
                "empty. Fill it in or choose another grouping column."
            ).format(analysis=_(analysis), column=by)
        )
    if OVERALL in levels:
        raise CohortError(
            _(
                "The {analysis} uses the name '{overall}' for the all-patients column, but the "
                "grouping column '{column}' has a group with that name. Rename that group."
            ).format(analysis=_(analysis), overall=OVERALL, column=by)
        )
    sizes = np.bincount(codes[codes >= 0], minlength=len(levels))
    return _Groups(codes, tuple(levels), sizes, int((codes < 0).sum()))


def _codes(series: pd.Series, column: str, levels=None) -> tuple[np.ndarray, list]:
    """Level index per row (-1 if missing) and the levels, in schema order.

    Same order as ``schema.levels_of`` (known levels first, unknown extras sorted after);
    with ``levels`` given, values outside them are coded -1. One factorize, no Categorical.
    """
    raw, uniques = factorize(series)
    if levels is None:
        present = set(uniques)
        known = [lv for lv in S.LEVELS.get(column, ()) if lv in present]
        levels = known + sorted((v for v in uniques if v not in set(known)), key=str)
    position = {lv: i for i, lv in enumerate(levels)}
    perm = np.array([position.get(u, -1) for u in uniques] + [-1], dtype=np.int64)
    return perm[raw], list(levels)


def _numeric(series: pd.Series, column: str, analysis: str) -> np.ndarray:
    try:
        return pd.to_numeric(series, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (ValueError, TypeError):
        raise CohortError(
            _(
                "The {analysis} needs numbers in the column '{column}', but it holds text. "
                "Correct the values or leave them empty."
            ).format(analysis=_(analysis), column=column)
        ) from None


def _count_table(gcodes: np.ndarray, vcodes: np.ndarray, n_groups: int, n_levels: int):
    """Counts per (group, level) and missing values per group, by one bincount each."""
    known = (gcodes >= 0) & (vcodes >= 0)
    counts = np.bincount(gcodes[known] * n_levels + vcodes[known], minlength=n_groups * n_levels)
    missing = np.bincount(gcodes[(gcodes >= 0) & (vcodes < 0)], minlength=n_groups)
    return counts.reshape(n_groups, n_levels), missing


def _is_continuous(series: pd.Series, column: str) -> bool:
    col = S.COLUMN_BY_NAME.get(column)
    if col is not None:
        return col.kind in _CONTINUOUS_KINDS
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return False
    return series.nunique() > 2


class _Footnoted:
    """Shared by the table results: ``method``, ``notes``, ``groups``, ``overall`` are fields."""

    method: str
    notes: tuple[str, ...]
    groups: tuple
    overall: bool

    @property
    def footnotes(self) -> tuple[str, ...]:
        """``method`` followed by the notes: every line the UI shows under the table."""
        return (self.method, *self.notes)

    @property
    def columns(self) -> tuple:
        """The table's columns left to right: ``OVERALL`` first when present, then the groups."""
        return (OVERALL, *self.groups) if self.overall else self.groups

    def _per_group_n(self) -> dict:
        return self.group_n

    @property
    def column_n(self) -> dict:
        """Patients per column (the header's N), the overall column included."""
        n = self._per_group_n()
        return {OVERALL: sum(n.values()), **n}


@dataclass(frozen=True)
class TableOneResult(_Footnoted):
    """Table 1 as numbers.

    ``table`` has one row per continuous variable and one row per level of each
    categorical variable, with columns ``variable, label, level, kind, summary``, per
    group ``n[g], pct[g], mean[g], sd[g], median[g], q1[g], q3[g], missing[g]`` (see
    :func:`group_column`), then ``test, statistic, df, p_value, min_expected,
    low_expected, fisher_p, fisher_method, smd, missing``. Variable-level values
    (test, p, SMD, missing) repeat on each level row of a categorical variable. With
    ``overall`` the same per-group columns exist for ``OVERALL`` (every patient with a
    group), placed first; tests and SMDs compare the groups only.
    """

    table: pd.DataFrame
    by: str
    groups: tuple
    group_n: dict
    variables: tuple[str, ...]
    absent: tuple[str, ...]
    n_group_missing: int
    method: str
    notes: tuple[str, ...]
    overall: bool = False


def _describe(x: np.ndarray) -> dict:
    q1, med, q3 = spss_quartiles(x)
    return dict(
        n=len(x),
        mean=x.mean() if len(x) else np.nan,
        sd=x.std(ddof=1) if len(x) > 1 else np.nan,
        median=med,
        q1=q1,
        q3=q3,
    )


def _continuous_rows(values, grp: _Groups, normal_alpha: float, overall: bool = False):
    n_groups = len(grp.levels)
    miss = np.isnan(values)
    missing = np.bincount(grp.codes[miss & (grp.codes >= 0)], minlength=n_groups)
    xs = [values[(grp.codes == g) & ~miss] for g in range(n_groups)]
    present = [x for x in xs if len(x) > 0]
    normal = bool(present) and all(is_normal(x, normal_alpha) for x in present)
    stats = {g: _describe(x) for g, x in zip(grp.levels, xs, strict=True)}
    test = None
    if len(present) >= 2:
        if len(present) == 2:
            test = student_t(*present) if normal else mann_whitney_spss(*present)
        else:
            test = anova_oneway(present) if normal else kruskal_wallis(present)
    pairs = [(s["mean"], s["sd"]) for s in stats.values() if s["n"] > 0]
    smd = max_pairwise(pairs, lambda a, b: smd_continuous(a[0], a[1], b[0], b[1]))
    common = dict(summary="mean_sd" if normal else "median_iqr", missing=int(missing.sum()))
    if test is not None:
        common.update(test=test.test, statistic=test.statistic, df=test.df, p_value=test.p_value)
    row = {"level": None, **common, "smd": smd}
    for i, g in enumerate(grp.levels):
        for key, val in stats[g].items():
            row[group_column(key, g)] = val
        row[group_column("missing", g)] = int(missing[i])
    if overall:
        for key, val in _describe(values[(grp.codes >= 0) & ~miss]).items():
            row[group_column(key, OVERALL)] = val
        row[group_column("missing", OVERALL)] = int(missing.sum())
    return [row]


def _categorical_rows(series, grp: _Groups, column: str, overall: bool = False):
    n_groups = len(grp.levels)
    codes, levels = _codes(series, column)
    counts, missing = _count_table(grp.codes, codes, n_groups, len(levels))
    all_counts, all_known = counts.sum(axis=0), counts.sum()
    known = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        props = counts / known
    common = dict(summary="n_pct", missing=int(missing.sum()))
    if (known[:, 0] > 0).sum() >= 2:
        ct = contingency_test(counts)
        common.update(test="Chi-square", **ct.as_dict())
    present = [props[i] for i in range(n_groups) if known[i, 0] > 0]
    common["smd"] = max_pairwise(present, smd_categorical)
    rows = []
    # No known value at all: one row still carries the missing counts.
    for j, level in enumerate(levels or [None]):
        row = {"level": level, **common}
        for i, g in enumerate(grp.levels):
            row[group_column("n", g)] = int(counts[i, j]) if levels else 0
            row[group_column("pct", g)] = 100.0 * props[i, j] if levels else np.nan
            row[group_column("missing", g)] = int(missing[i])
        if overall:
            row[group_column("n", OVERALL)] = int(all_counts[j]) if levels else 0
            row[group_column("pct", OVERALL)] = (
                100.0 * all_counts[j] / all_known if levels and all_known else np.nan
            )
            row[group_column("missing", OVERALL)] = int(missing.sum())
        rows.append(row)
    return rows


def _table_one_method(n_groups: int, mc_se: np.ndarray) -> str:
    two = n_groups <= 2
    normal_test, other_test = (
        (
            _("Student's t-test (equal variances, as SPSS)"),
            _(
                "Mann-Whitney U test, reported as Z (normal approximation, tie-corrected, no "
                "continuity correction, as SPSS)"
            ),
        )
        if two
        else (_("one-way ANOVA (F)"), _("Kruskal-Wallis H test (tie-corrected)"))
    )
    text = [
        _(
            "Continuous variables: Shapiro-Wilk test in each group (alpha 0.05; a group of more "
            "than {max_n} patients is tested on a random subsample of {max_n}, fixed seed; "
            "fewer than 3 values, or all equal, count as non-normal). Normal in every group: "
            "mean +/- SD and {normal_test}; otherwise median (Q1, Q3) and {other_test}. "
            "Quartiles as SPSS computes them (weighted average at (n+1)p; R quantile type 6)."
        ).format(max_n=f"{SHAPIRO_MAX_N:,}", normal_test=normal_test, other_test=other_test),
        _(
            "Categorical variables: n (%) of patients with a known value; Pearson chi-square "
            "without continuity correction (as in the paper). Where any expected count is < 5 "
            "the row is flagged and Fisher's exact p is given alongside ({fisher})."
        ).format(fisher=fisher_note(mc_se.size > 0 or not two, mc_se)),
        _(
            "SMD: standardised mean difference (continuous: |m1 - m2| / sqrt((s1^2 + s2^2) / 2); "
            "categorical: multi-level SMD of Yang & Dalton 2012, as R tableone)."
        )
        if two
        else _(
            "SMD: standardised mean difference (continuous: |m1 - m2| / sqrt((s1^2 + s2^2) / 2); "
            "categorical: multi-level SMD of Yang & Dalton 2012, as R tableone); with more than "
            "two groups the largest pairwise SMD is shown (R tableone prints the mean of the "
            "pairwise SMDs)."
        ),
        _("Missing values are counted per variable and excluded from that variable's statistics."),
    ]
    return " ".join(text)


def table_one(
    df: pd.DataFrame,
    by: str = S.TREATMENT_GROUP,
    variables: list[str] | tuple[str, ...] | None = None,
    normal_alpha: float = 0.05,
    overall: bool = False,
) -> TableOneResult:
    """Baseline characteristics by group, as in the paper's Table 1 (and better).

    Parameters
    ----------
    df : one row per patient, columns named as in ``schema``.
    by : grouping column; its levels appear in schema order.
    variables : columns to describe; default: the paper's Table 1 rows present in ``df``.
    normal_alpha : Shapiro-Wilk level below which a group counts as non-normal.
    overall : add an ``OVERALL`` column describing every patient with a group (R tableone
        ``print(..., addOverall = TRUE)``); the choice of mean/SD or median/IQR follows the
        groups, and tests compare the groups only.

    Returns
    -------
    TableOneResult : numeric table plus the footnote text (``method``) and notes.

    Raises
    ------
    MissingColumnsError : ``by`` is absent, or none of the variables is present.

    Notes
    -----
    Tests as SPSS reports them (t-test, Mann-Whitney Z, Pearson chi-square) with Fisher's
    exact p where expected counts are small. R: ``tableone::CreateTableOne(vars, strata,
    argsApprox = list(correct = FALSE))`` plus ``wilcox.test`` and ``fisher.test``.
    """
    analysis = N_("Table 1")
    requested = tuple(DEFAULT_TABLE_ONE_VARIABLES if variables is None else variables)
    grp = _group_index(df, by, analysis)
    present = tuple(v for v in dict.fromkeys(requested) if v in df.columns and v != by)
    absent = tuple(v for v in requested if v not in df.columns)
    if not present:
        raise MissingColumnsError(analysis, list(absent) or list(requested))
    rows = []
    for var in present:
        series = df[var]
        if _is_continuous(series, var):
            new = _continuous_rows(_numeric(series, var, analysis), grp, normal_alpha, overall)
            kind = "continuous"
        else:
            new = _categorical_rows(series, grp, var, overall)
            kind = "categorical"
        for row in new:
            rows.append({"variable": var, "label": label_of(var), "kind": kind, **row})
    columns = (OVERALL, *grp.levels) if overall else grp.levels
    table = _frame(rows, columns, ("n", "pct", "mean", "sd", "median", "q1", "q3", "missing"))
    notes = _group_notes(grp, by)
    if absent:
        notes.append(
            _("Not in this cohort: {labels}.").format(labels=", ".join(label_of(v) for v in absent))
        )
    mc_se = table.loc[table["fisher_method"] == "monte-carlo", "fisher_se"].to_numpy(float)
    return TableOneResult(
        table=table,
        by=by,
        groups=grp.levels,
        group_n={g: int(n) for g, n in zip(grp.levels, grp.sizes, strict=True)},
        variables=present,
        absent=absent,
        n_group_missing=grp.n_missing,
        method=_table_one_method(len(grp.levels), mc_se),
        notes=tuple(notes),
        overall=overall,
    )


_TEST_COLUMNS = (
    "test",
    *CONTINGENCY_COLUMNS,
    "smd",
    "missing",
)


def _frame(rows: list[dict], groups: tuple, stats: tuple, lead=None, tail=_TEST_COLUMNS):
    """Rows to a DataFrame with a fixed column order, one array per column (fast).

    Absent values: NaN for numbers, False for ``low_expected``, "" for test names.
    """
    lead = lead or ("variable", "label", "level", "kind", "summary")
    columns = [*lead, *(group_column(s, g) for g in groups for s in stats), *tail]
    data = {}
    for col in columns:
        default = _DEFAULTS.get(col, np.nan)
        values = [r.get(col, default) for r in rows]
        text = col in lead or col in _TEXT_COLUMNS
        data[col] = np.array(values, dtype=object if text else None)
    return pd.DataFrame(data, copy=False)  # the arrays are this frame's own: no second copy


_DEFAULTS = {"test": "", "fisher_method": "", "low_expected": False}
_TEXT_COLUMNS = ("test", "fisher_method")


def _group_notes(grp: _Groups, by: str) -> list[str]:
    notes = []
    if len(grp.levels) < 2:
        notes.append(
            _("Only one group in '{column}': no between-group test is possible (p = NaN).").format(
                column=by
            )
        )
    if grp.n_missing:
        notes.append(
            _("{n} patient(s) without a value in '{column}' are left out.").format(
                n=grp.n_missing, column=by
            )
        )
    return notes


# Display ---------------------------------------------------------------------------

P_HEAD = "p"
FISHER_HEAD = "Fisher's exact p"


def _group_header(by: str, g, n: int) -> str:
    """Column header of a group: "Local + systemic (N = 56)", "Overall (N = 95)".

    A group smaller than the suppression threshold says "(N = <5)" (hcc_core.suppression).
    """
    size = suppression.count_text(n) or n
    return f"{_(_OVERALL_WORD) if g == OVERALL else level_label(by, g)} (N = {size})"


_TEST_SYMBOL = {
    "t-test": "t",
    "Mann-Whitney U": "Z",
    "Chi-square": "chi2",
    "ANOVA": "F",
    "Kruskal-Wallis": "H",
}


_TEST_HEADS = (N_("Test"), N_("Statistic"), P_HEAD, N_(FISHER_HEAD), N_("SMD"), N_("Missing"))


def _test_cells(row) -> dict:
    fisher = format_p(row["fisher_p"]) if row["low_expected"] else ""
    cells = (
        _TEST_SYMBOL.get(row["test"], row["test"]) or DASH,
        format_number(row["statistic"], "statistic"),
        format_p(row["p_value"]) + (" *" if row["low_expected"] else ""),
        fisher,
        format_number(row["smd"], "smd"),
        str(int(row["missing"])),
    )
    return dict(zip(_test_heads(), cells, strict=True))


def _test_heads() -> list[str]:
    return [_(h) for h in _TEST_HEADS]


def _continuous_cell(row, g, summary: str) -> str:
    if not row[group_column("n", g)]:
        return DASH
    if summary == "mean_sd":
        m, sd = row[group_column("mean", g)], row[group_column("sd", g)]
        return f"{format_number(m)} +/- {format_number(sd, missing=NE)}"
    med, q1, q3 = (format_number(row[group_column(k, g)]) for k in ("median", "q1", "q3"))
    return f"{med} ({q1}, {q3})"


TABLE_ONE_SYMBOLS = {
    NE: N_("a standard deviation needs at least two patients with a value"),
    DASH: N_(
        "no patient of the group has a value, or no test is possible (fewer than two "
        "groups with values)"
    ),
}


def format_table_one(
    result: TableOneResult, digits: int | None = None, compact_binary: bool = True
) -> pd.DataFrame:
    """Display strings for Table 1: one column per group ("Systemic (N = 39)").

    Continuous rows read "60.95 +/- 11.18" or "41.20 (36.40, 45.30)"; categorical rows
    "35 (89.74)" under a header row carrying the test. With ``compact_binary`` a no/yes
    variable is one row showing the "yes" count, as in the paper. P-values marked "*"
    have an expected count < 5 (see "Fisher's exact p"). With ``result.overall`` an
    "Overall (N = ...)" column comes first. ``attrs["notes"]`` explains any "NE" or "-";
    footnote: ``result.method``. ``digits`` overrides the percentage digits.
    """
    cols = result.columns
    n = result.column_n
    heads = [_group_header(result.by, g, n[g]) for g in cols]
    characteristic = _("Characteristic")
    out = []
    blocks: dict = {}  # rows per variable, in order
    for row in rows_of(result.table):
        blocks.setdefault(row["variable"], []).append(row)
    for var, block in blocks.items():
        first = block[0]
        label = label_of(var)
        tests = _test_cells(first)
        if first["kind"] == "continuous":
            cells = {
                h: _continuous_cell(first, g, first["summary"])
                for g, h in zip(cols, heads, strict=True)
            }
            out.append({characteristic: label, **cells, **tests})
            continue
        levels = [row["level"] for row in block]
        if compact_binary and set(levels) <= {S.NO, S.YES} and S.LEVELS.get(var) == (S.NO, S.YES):
            yes = [row for row in block if row["level"] == S.YES]
            cells = {
                h: (
                    format_n_pct(
                        yes[0][group_column("n", g)],
                        yes[0][group_column("pct", g)],
                        digits,
                    )
                    if len(yes)
                    else "0"
                )
                for g, h in zip(cols, heads, strict=True)
            }
            out.append({characteristic: label, **cells, **tests})
            continue
        out.append({characteristic: label, **dict.fromkeys(heads, ""), **tests})
        for row in block:
            if pd.isna(row["level"]):
                continue
            cells = {
                h: format_n_pct(row[group_column("n", g)], row[group_column("pct", g)], digits)
                for g, h in zip(cols, heads, strict=True)
            }
            out.append(
                {
                    characteristic: f"{INDENT}{level_label(var, row['level'])}",
                    **cells,
                    **dict.fromkeys(tests, ""),
                }
            )
    table = pd.DataFrame(out, columns=[characteristic, *heads, *_test_heads()])
    table.attrs["notes"] = symbol_notes(table, {k: _(v) for k, v in TABLE_ONE_SYMBOLS.items()})
    return table
