"""Response rates: the paper's Table 2 from its counts, exact CIs, Newcombe differences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hcc_core import schema as S
from hcc_core.errors import CohortError, MissingColumnsError
from hcc_core.response import format_response, response_rates
from hcc_core.stats_tests import clopper_pearson, newcombe_difference
from hcc_core.tables import group_column as col

DATA = Path(__file__).resolve().parents[1] / "data"
T2 = json.loads((DATA / "published_values.json").read_text(encoding="utf-8"))[
    "table2_response_mrecist"
]
SYS, LOC = S.SYSTEMIC, S.LOCAL_SYSTEMIC


def _frame(counts: dict[str, dict[str, int]], by: str = S.TREATMENT_GROUP) -> pd.DataFrame:
    """One row per patient from {group: {response: count}}."""
    groups, responses = [], []
    for g, per in counts.items():
        for response, n in per.items():
            groups += [g] * n
            responses += [response] * n
    return pd.DataFrame({by: groups, S.BEST_RESPONSE: responses})


@pytest.fixture(scope="module")
def paper() -> pd.DataFrame:
    return _frame({SYS: T2["systemic"], LOC: T2["local_systemic"]})


def test_paper_orr_dcr_chi_square(paper):
    res = response_rates(paper)
    rows = res.table.set_index("category")
    assert res.denominators == {SYS: 39, LOC: 56}
    for rate, entry in (("ORR", "orr"), ("DCR", "dcr")):
        assert rows.loc[rate, col("n", SYS)] == T2[entry]["systemic"]
        assert rows.loc[rate, col("n", LOC)] == T2[entry]["local_systemic"]
        assert round(rows.loc[rate, "statistic"], 3) == T2[entry]["chi2"]
        assert round(rows.loc[rate, "p_value"], 3) == T2[entry]["p"]
        assert rows.loc[rate, "df"] == 1
    assert rows.loc["ORR", col("pct", LOC)] == pytest.approx(41.0714286)
    assert rows.loc["PD", col("pct", SYS)] == pytest.approx(51.2820513)


def test_paper_fisher_matches_r(paper):
    """R: fisher.test(matrix(c(8,31,23,33), 2, byrow=TRUE))$p.value = 0.0458371125883883;
    DCR: fisher.test(matrix(c(19,20,43,13), 2, byrow=TRUE))$p.value = 0.0080850335955367."""
    rows = response_rates(paper).table.set_index("category")
    assert rows.loc["ORR", "fisher_p"] == pytest.approx(0.0458371125883883, rel=1e-9)
    assert rows.loc["DCR", "fisher_p"] == pytest.approx(0.0080850335955367, rel=1e-9)
    assert rows.loc["ORR", "fisher_method"] == "exact"


def test_clopper_pearson_matches_r(paper):
    """R: binom.test(8, 39)$conf.int = 0.092963927283 0.364644240695."""
    low, high = clopper_pearson(8, 39)
    assert (low, high) == (
        pytest.approx(0.092963927283, abs=1e-11),
        pytest.approx(0.364644240695, abs=1e-11),
    )
    rows = response_rates(paper).table.set_index("category")
    assert rows.loc["ORR", col("ci_low", SYS)] == pytest.approx(9.2963927283, abs=1e-8)
    assert rows.loc["ORR", col("ci_high", SYS)] == pytest.approx(36.4644240695, abs=1e-8)
    # edges: 0/n and n/n are one-sided, as binom.test gives
    assert clopper_pearson(0, 39)[0] == 0 and clopper_pearson(39, 39)[1] == 1
    ref = stats.binomtest(23, 56).proportion_ci(method="exact")
    assert clopper_pearson(23, 56)[0] == pytest.approx(ref.low, rel=1e-9)


def test_newcombe_difference_matches_published_example():
    """Newcombe (1998) Stat Med 17:873, Table II example (a): 56/70 - 48/80 = 0.2000,
    method 10 interval 0.0524 to 0.3339."""
    d, low, high = newcombe_difference(56, 70, 48, 80)
    assert d == pytest.approx(0.2)
    assert round(float(low), 4) == 0.0524 and round(float(high), 4) == 0.3339
    res = response_rates(_frame({SYS: {"PR": 48, "PD": 32}, LOC: {"CR": 56, "SD": 14}}))
    orr = res.table.set_index("category").loc["ORR"]
    assert res.reference == SYS
    assert orr[col("diff", LOC)] == pytest.approx(20.0)
    assert round(orr[col("diff_ci_low", LOC)], 2) == 5.24
    assert round(orr[col("diff_ci_high", LOC)], 2) == 33.39
    assert "Newcombe" in res.method


def test_ne_is_a_non_responder_and_missing_is_excluded(paper):
    df = pd.concat(
        [
            paper,
            pd.DataFrame(
                {S.TREATMENT_GROUP: [SYS, SYS, LOC], S.BEST_RESPONSE: ["NE", None, np.nan]}
            ),
        ],
        ignore_index=True,
    )
    res = response_rates(df)
    rows = res.table.set_index("category")
    assert res.denominators == {SYS: 40, LOC: 56}
    assert res.n_excluded == {SYS: 1, LOC: 1}
    assert rows.loc["NE", col("n", SYS)] == 1
    assert rows.loc["ORR", col("pct", SYS)] == pytest.approx(100 * 8 / 40)
    assert "2 patient(s) without a recorded best response" in res.notes[0]
    assert "NE (not evaluable) counts as a non-responder" in res.method
    shown = format_response(res)
    assert "NE (not evaluable)" in set(shown[""])


def test_values_are_normalised_and_bad_values_named():
    df = _frame({SYS: {" pr": 2, "pd": 3}, LOC: {"CR ": 1, "sd": 4}})
    rows = response_rates(df).table.set_index("category")
    assert rows.loc["PR", col("n", SYS)] == 2 and rows.loc["DCR", col("n", LOC)] == 5
    bad = _frame({SYS: {"PR": 2, "partial": 1}, LOC: {"CR": 1}})
    with pytest.raises(CohortError, match="found best_response value\\(s\\) 'PARTIAL'"):
        response_rates(bad)


def test_missing_columns_name_the_analysis(paper):
    with pytest.raises(
        MissingColumnsError, match="The response table needs the column\\(s\\) 'best_response'"
    ):
        response_rates(paper.drop(columns=[S.BEST_RESPONSE]))
    with pytest.raises(MissingColumnsError, match="'local_modality'"):
        response_rates(paper, by=S.LOCAL_MODALITY)


def test_three_groups_r_by_2_chi_square_and_exact_fisher():
    """R: fisher.test(matrix(c(5, 10, 3, 20, 10, 10), 3))$p.value = 0.0952526028507617."""
    df = _frame(
        {
            "none": {"PR": 5, "PD": 20},
            "mTACE": {"CR": 2, "PR": 8, "SD": 10},
            "HAIC": {"PR": 3, "SD": 4, "PD": 6},
        },
        by=S.LOCAL_MODALITY,
    )
    res = response_rates(df, by=S.LOCAL_MODALITY)
    orr = res.table.set_index("category").loc["ORR"]
    chi = stats.chi2_contingency([[5, 20], [10, 10], [3, 10]], correction=False)
    assert orr["statistic"] == pytest.approx(chi.statistic) and orr["df"] == 2
    assert orr["fisher_method"] == "exact"
    assert orr["fisher_p"] == pytest.approx(0.0952526028507617, rel=1e-9)
    assert col("diff", "mTACE") in res.table and col("diff", "none") not in res.table
    assert orr[col("diff", "mTACE")] == pytest.approx(100 * (10 / 20 - 5 / 25))


def test_one_group_no_test():
    res = response_rates(_frame({SYS: {"PR": 3, "PD": 5}}))
    assert res.table["p_value"].isna().all()
    assert "Only one group" in res.notes[0]
    assert format_response(res).set_index("").loc["ORR", "p"] == "-"


def test_format_response_paper_strings(paper):
    shown = format_response(response_rates(paper)).set_index("")
    assert list(shown.index) == ["CR", "PR", "SD", "PD", "ORR", "DCR"]  # NE absent: hidden
    assert shown.loc["CR", "Systemic (N = 39)"] == "1 (2.56)"
    assert shown.loc["ORR", "Systemic (N = 39)"] == "8 (20.51) [9.30-36.46]"
    assert shown.loc["ORR", "Chi-square"] == "4.420"
    assert shown.loc["ORR", "p"] == "0.036"
    assert shown.loc["DCR", "p"] == "0.005"
    assert shown.loc["DCR", "Fisher's exact p"] == "0.008"
    assert shown.loc["ORR", "Local + systemic vs Systemic, difference (95% CI)"].startswith("20.56 (")


def test_counts_long_view_for_the_bar_chart(paper):
    res = response_rates(paper)
    counts = res.counts
    assert list(counts.columns) == ["group", "response", "n", "percent"]
    assert counts["response"].tolist()[:5] == ["CR", "PR", "SD", "PD", "NE"]
    sys_pd = counts[(counts["group"] == SYS) & (counts["response"] == "PD")].iloc[0]
    assert sys_pd["n"] == 20 and sys_pd["percent"] == pytest.approx(100 * 20 / 39)
    assert counts.groupby("group")["n"].sum().to_dict() == {SYS: 39, LOC: 56}
    assert res.footnotes[0] == res.method


def test_overall_column_by_hand(paper):
    """Overall ORR = (8 + 20) / 95 with its own Clopper-Pearson CI (scipy binomtest, exact =
    R binom.test); the test still compares the two groups only."""
    sys_orr = T2["systemic"]["CR"] + T2["systemic"]["PR"]
    loc_orr = T2["local_systemic"]["CR"] + T2["local_systemic"]["PR"]
    res = response_rates(paper, overall=True)
    assert res.columns == ("Overall", SYS, LOC) and res.column_n["Overall"] == 95
    orr = res.table.set_index("category").loc["ORR"]
    k = sys_orr + loc_orr
    assert orr[col("n", "Overall")] == k
    assert orr[col("pct", "Overall")] == pytest.approx(100 * k / 95)
    ci = stats.binomtest(k, 95).proportion_ci(method="exact")
    assert orr[col("ci_low", "Overall")] == pytest.approx(100 * ci.low, abs=1e-8)
    assert orr[col("ci_high", "Overall")] == pytest.approx(100 * ci.high, abs=1e-8)
    plain = response_rates(paper).table.set_index("category").loc["ORR"]
    assert orr["p_value"] == plain["p_value"]
    shown = format_response(res).set_index("")
    assert shown.columns[0] == "Overall (N = 95)"
    assert shown.loc["ORR", "Overall (N = 95)"].startswith(f"{k} ({100 * k / 95:.2f}) [")
    assert res.counts.groupby("group")["n"].sum().to_dict() == {"Overall": 95, SYS: 39, LOC: 56}


def test_compare_by_local_modality_by_hand():
    """ORR by modality: systemic only 2/10, HAIC 3/5; difference HAIC - systemic only
    = 40 points; headers name the groups in words."""
    df = _frame({"none": {"PR": 2, "PD": 8}, "HAIC": {"CR": 1, "PR": 2, "SD": 2}},
                by=S.LOCAL_MODALITY)
    res = response_rates(df, by=S.LOCAL_MODALITY, overall=True)
    assert res.reference == "none"
    orr = res.table.set_index("category").loc["ORR"]
    assert orr[col("diff", "HAIC")] == pytest.approx(40.0)
    assert orr[col("n", "Overall")] == 5 and orr[col("pct", "Overall")] == pytest.approx(100 / 3)
    shown = format_response(res)
    assert list(shown.columns[1:4]) == ["Overall (N = 15)", "Systemic only (N = 10)",
                                        "HAIC (N = 5)"]
    assert "HAIC vs Systemic only, difference (95% CI)" in shown.columns
    assert "nan" not in shown.to_string().lower()


def test_a_group_without_recorded_response_shows_a_dash_with_a_footnote():
    df = pd.DataFrame({S.TREATMENT_GROUP: [SYS, SYS, LOC], S.BEST_RESPONSE: ["PR", "PD", None]})
    shown = format_response(response_rates(df)).set_index("")
    assert shown.loc["ORR", "Local + systemic (N = 0)"] == "-"
    assert "nan" not in shown.to_string().lower()
    assert any(n.startswith('"-": no patient of the group') for n in shown.attrs["notes"])
