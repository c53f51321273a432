"""Table 1: the paper's chi-square statistics from its counts, and SPSS/R cross-checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hcc_core import schema as S
from hcc_core.errors import CohortError, MissingColumnsError
from hcc_core.stats_tests import (
    fisher_exact_p,
    is_normal,
    mann_whitney_spss,
    smd_continuous,
    spss_quartiles,
)
from hcc_core.tables import format_p, format_table_one, group_column, table_one

DATA = Path(__file__).resolve().parents[1] / "data"
PUBLISHED = json.loads((DATA / "published_values.json").read_text(encoding="utf-8"))
T1 = PUBLISHED["table1"]
SYS, LOC = S.SYSTEMIC, S.LOCAL_SYSTEMIC
KEY = {SYS: "systemic", LOC: "local_systemic"}
N = {SYS: 39, LOC: 56}

# R: x, y below; values pasted from R 4.x (see each test's docstring).
X = np.array([3.1, 4.2, 4.2, 5.0, 5.5, 6.1, 6.1, 6.1, 7.3, 9.8, 12.4])
Y = np.array([4.2, 5.0, 6.1, 7.7, 8.0, 8.0, 9.1, 10.5, 11.0, 13.2, 15.9, 20.1])


def _levels(counts: dict[str, dict]) -> list:
    """One value per patient, systemic group first, from {group: {level: count}}."""
    out = []
    for g in N:
        vals = [lv for lv, n in counts[g].items() for _ in range(n)]
        assert len(vals) == N[g]
        out += vals
    return out


def _yes_no(entry: str) -> list:
    return _levels({g: {S.YES: T1[entry][KEY[g]], S.NO: N[g] - T1[entry][KEY[g]]} for g in N})


@pytest.fixture(scope="module")
def paper_table_one_df() -> pd.DataFrame:
    """The paper's 95 patients, expanded from Table 1's counts."""
    cp = {g: {"A": T1["child_pugh_A_n"][KEY[g]], "B": T1["child_pugh_B_n"][KEY[g]]} for g in N}
    tn = {
        g: {"single": T1["tumor_single_n"][KEY[g]], "multiple": T1["tumor_multiple_n"][KEY[g]]}
        for g in N
    }
    return pd.DataFrame(
        {
            S.TREATMENT_GROUP: [g for g in N for _ in range(N[g])],
            S.SEX: _levels(
                {g: {"M": T1["male_n"][KEY[g]], "F": N[g] - T1["male_n"][KEY[g]]} for g in N}
            ),
            S.CHILD_PUGH_CLASS: _levels(cp),
            S.TUMOR_NUMBER: _levels(tn),
            S.BCLC_STAGE: _levels({g: T1["bclc_n"][KEY[g]] for g in N}),
            S.CHRONIC_HEPATITIS: _yes_no("chronic_hepatitis_n"),
            S.AV_FISTULA: _yes_no("av_fistula_n"),
            S.EXTRAHEPATIC_SUPPLY: _yes_no("extrahepatic_supply_n"),
        }
    )


@pytest.mark.parametrize(
    "column, entry",
    [
        (S.SEX, "male_n"),
        (S.CHILD_PUGH_CLASS, "child_pugh_A_n"),
        (S.TUMOR_NUMBER, "tumor_single_n"),
        (S.BCLC_STAGE, "bclc_n"),
        (S.CHRONIC_HEPATITIS, "chronic_hepatitis_n"),
        (S.AV_FISTULA, "av_fistula_n"),
        (S.EXTRAHEPATIC_SUPPLY, "extrahepatic_supply_n"),
    ],
)
def test_paper_table1_chi_square(paper_table_one_df, column, entry):
    res = table_one(paper_table_one_df)
    row = res.table[res.table["variable"] == column].iloc[0]
    assert row["test"] == "Chi-square"
    assert round(row["statistic"], 3) == T1[entry]["stat"]
    assert round(row["p_value"], 3) == T1[entry]["p"]


def test_paper_table1_counts_and_display(paper_table_one_df):
    res = table_one(paper_table_one_df)
    assert res.groups == (SYS, LOC) and res.group_n == N
    male = res.table[(res.table["variable"] == S.SEX) & (res.table["level"] == "M")].iloc[0]
    assert male[group_column("n", SYS)] == 35
    assert male[group_column("pct", SYS)] == pytest.approx(89.74359, abs=1e-5)
    shown = format_table_one(res).set_index("Characteristic")
    assert shown.loc["\u2003\u2003Male", "Systemic (N = 39)"] == "35 (89.74)"
    assert shown.loc["\u2003\u2003Male", "Local + systemic (N = 56)"] == "48 (85.71)"
    # compact yes/no row, as the paper prints it
    assert shown.loc["Arteriovenous fistula", "Local + systemic (N = 56)"] == "10 (17.86)"
    assert shown.loc["Arteriovenous fistula", "p"] == "0.156"
    assert shown.loc["Arteriovenous fistula", "Statistic"] == "2.011"
    # sex: expected count 12 * 39 / 95 = 4.93 < 5 -> flagged, Fisher alongside (R fisher.test)
    assert shown.loc["Sex", "p"] == "0.561 *"
    assert shown.loc["Sex", "Fisher's exact p"] == format_p(
        stats.fisher_exact([[35, 4], [48, 8]]).pvalue
    )
    # absent continuous rows are listed, not invented
    assert S.AGE in res.absent and S.AFP in res.absent
    assert any("Age (years)" in n for n in res.notes)


def test_paper_bclc_fisher_is_exact_and_equals_r(paper_table_one_df):
    """R: fisher.test(matrix(c(7,5,20,29,12,22), 2))$p.value = 0.362660211757645."""
    res = table_one(paper_table_one_df, variables=[S.BCLC_STAGE])
    row = res.table.iloc[0]
    assert bool(row["low_expected"]) and row["fisher_method"] == "exact"
    assert row["fisher_p"] == pytest.approx(0.362660211757645, rel=1e-9)
    assert np.isnan(row["fisher_se"])
    assert "(exact)" in res.method and "Monte-Carlo" not in res.method


def test_fisher_2x2_matches_r_and_scipy():
    """R: fisher.test(matrix(c(0,39,5,51), 2, byrow=TRUE))$p.value = 0.0758635420576747."""
    assert fisher_exact_p([[0, 39], [5, 51]]) == (
        pytest.approx(0.0758635420576747, rel=1e-9),
        "exact",
    )
    for t in ([[3, 7], [9, 1]], [[20, 19], [49, 7]], [[1, 38], [4, 52]]):
        assert fisher_exact_p(t)[0] == pytest.approx(stats.fisher_exact(t).pvalue, rel=1e-9)


def _continuous_df(x, y, column=S.AGE):
    return pd.DataFrame(
        {S.TREATMENT_GROUP: [SYS] * len(x) + [LOC] * len(y), column: np.concatenate([x, y])}
    )


def test_normal_branch_student_t_matches_r():
    """R: t.test(x, y, var.equal=TRUE): t = -2.22320693420153, p = 0.0373113131978268;
    shapiro.test(x)$p = 0.109, shapiro.test(y)$p = 0.335 -> both normal (is_normal at 0.05);
    SMD from R MatchIt (summary(matchit(tr ~ x, method = NULL, estimand = "ATE")), pooled SD),
    committed in tests/reference/r_reference.json (smd.continuous)."""
    from reference.rref import R

    assert stats.shapiro(X).pvalue == pytest.approx(0.109, abs=5e-4)
    assert stats.shapiro(Y).pvalue == pytest.approx(0.335, abs=5e-4)
    assert is_normal(X) and is_normal(Y) and not is_normal(Y, alpha=0.4)
    res = table_one(_continuous_df(X, Y), variables=[S.AGE])
    row = res.table.iloc[0]
    assert row["summary"] == "mean_sd" and row["test"] == "t-test"
    assert row["statistic"] == pytest.approx(-2.22320693420153, rel=1e-10)
    assert row["p_value"] == pytest.approx(0.0373113131978268, rel=1e-9)
    assert row["df"] == 21
    assert row[group_column("mean", SYS)] == pytest.approx(6.34545454545455)
    assert row[group_column("sd", LOC)] == pytest.approx(4.63327883115971)
    assert R["smd"]["continuous"]["x"] == X.tolist() and R["smd"]["continuous"]["y"] == Y.tolist()
    assert row["smd"] == pytest.approx(R["smd"]["continuous"]["smd"], rel=1e-10)
    shown = format_table_one(res).iloc[0]
    assert shown["Systemic (N = 11)"] == "6.35 +/- 2.68"
    assert shown["Test"] == "t" and shown["p"] == "0.037"


def test_mann_whitney_spss_z_matches_r():
    """R: wilcox.test(x, y, exact=FALSE, correct=FALSE)$p.value = 0.0305668671637925;
    Z by the SPSS formula in R (min U, tie-corrected sigma) = -2.16266614020688."""
    res = mann_whitney_spss(X, Y)
    assert res.statistic == pytest.approx(-2.16266614020688, rel=1e-10)
    assert res.p_value == pytest.approx(0.0305668671637925, rel=1e-9)
    # SPSS reports the Z of the smaller U: the same whichever group comes first
    assert mann_whitney_spss(Y, X).statistic == pytest.approx(res.statistic, rel=1e-12)


def test_nonnormal_branch_uses_median_iqr_and_mann_whitney():
    skewed = np.array([1.0, 1.1, 1.2, 1.3, 1.3, 1.5, 1.6, 2.0, 2.2, 30.0, 45.0, 80.0])
    assert is_normal(Y) and not is_normal(skewed)
    res = table_one(_continuous_df(skewed, Y, S.AFP), variables=[S.AFP])
    row = res.table.iloc[0]
    assert row["summary"] == "median_iqr" and row["test"] == "Mann-Whitney U"
    ref = stats.mannwhitneyu(skewed, Y, method="asymptotic", use_continuity=False)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert row["statistic"] < 0
    # R: quantile(skewed, c(.25,.5,.75), type = 6) = 1.225, 1.55, 23.05
    assert [row[group_column(k, SYS)] for k in ("q1", "median", "q3")] == pytest.approx(
        [1.225, 1.55, 23.05]
    )
    shown = format_table_one(res).iloc[0]
    assert shown["Systemic (N = 12)"] == "1.55 (1.23, 23.05)"
    assert shown["Test"] == "Z"
    assert "SPSS" in res.method and "quantile type 6" in res.method


def test_spss_quartiles_match_r_type6_and_numpy_weibull():
    """R: quantile(x, c(.25,.5,.75), type=6) = 4.2 6.1 7.3; for y = 6.5 8.55 12.65."""
    assert spss_quartiles(X) == pytest.approx([4.2, 6.1, 7.3])
    assert spss_quartiles(Y) == pytest.approx([6.5, 8.55, 12.65])
    rng = np.random.default_rng(7)
    for n in range(1, 30):
        x = rng.normal(size=n)
        assert spss_quartiles(x) == pytest.approx(
            np.percentile(x, [25, 50, 75], method="weibull"), rel=1e-12
        )


def test_shapiro_branch_needs_every_group_normal():
    rng = np.random.default_rng(3)
    normal = rng.normal(50, 5, 40)
    skewed = np.exp(rng.normal(0, 1.2, 40))
    assert is_normal(normal) and not is_normal(skewed)
    res = table_one(_continuous_df(normal, skewed, S.ALBUMIN), variables=[S.ALBUMIN])
    assert res.table.iloc[0]["summary"] == "median_iqr"
    # more than 5,000 values: the test runs on a fixed-seed subsample of 5,000
    from scipy import stats

    from hcc_core.stats_tests import FISHER_SEED, SHAPIRO_MAX_N

    big = np.exp(rng.normal(0, 0.05, 6000))  # mildly skewed: rejected at n = 5,000
    sub = np.random.default_rng(FISHER_SEED).choice(big, SHAPIRO_MAX_N, replace=False)
    assert stats.shapiro(sub).pvalue < 0.05
    assert not is_normal(big)
    assert is_normal(rng.normal(size=6000))
    assert not is_normal(np.array([1.0, 1.0, 1.0])) and not is_normal(np.array([1.0, 2.0]))


def test_categorical_smd_matches_r():
    """R (tests/reference/make_reference.R, smd.binary / smd.multi): MatchIt's SMD for the
    paper's sex (35/39 vs 48/56) and Yang-Dalton with MASS::ginv for the BCLC counts."""
    from reference.rref import R

    res = table_one(paper_table_one_df_for_smd(), variables=[S.SEX, S.BCLC_STAGE])
    smd = res.table.groupby("variable")["smd"].first()
    assert smd[S.SEX] == pytest.approx(R["smd"]["binary"]["smd"], rel=1e-10)
    bclc = R["smd"]["multi"][1]
    assert bclc["p1"] == pytest.approx([7 / 39, 20 / 39, 12 / 39], rel=1e-15)
    assert smd[S.BCLC_STAGE] == pytest.approx(bclc["smd"], rel=1e-9)


def paper_table_one_df_for_smd() -> pd.DataFrame:
    """Sex and BCLC stage of the paper's 95 patients, from Table 1's counts."""
    sex = {SYS: {"M": 35, "F": 4}, LOC: {"M": 48, "F": 8}}
    bclc = {SYS: {"A": 7, "B": 20, "C": 12}, LOC: {"A": 5, "B": 29, "C": 22}}
    return pd.DataFrame(
        {
            S.TREATMENT_GROUP: [SYS] * 39 + [LOC] * 56,
            S.SEX: _levels(sex),
            S.BCLC_STAGE: _levels(bclc),
        }
    )


def test_missing_values_are_counted_not_dropped():
    df = _continuous_df(X, Y)
    df[S.SEX] = ["M", "F"] * 11 + ["M"]
    df.loc[[0, 1, 15], S.AGE] = np.nan
    df.loc[2, S.SEX] = None
    res = table_one(df, variables=[S.AGE, S.SEX, S.AFP])
    t = res.table.set_index(["variable", "level"])
    age = t.loc[(S.AGE, None)]
    assert age["missing"] == 3 and age[group_column("missing", SYS)] == 2
    assert age[group_column("n", SYS)] == 9 and age[group_column("n", LOC)] == 11
    sex = res.table[res.table["variable"] == S.SEX]
    assert (sex["missing"] == 1).all()
    assert sex[group_column("n", SYS)].sum() == 10  # percentages of the 10 known
    assert sex[group_column("pct", SYS)].sum() == pytest.approx(100.0)
    assert res.absent == (S.AFP,)


def test_three_groups_anova_kruskal_rxc_and_max_pairwise_smd():
    rng = np.random.default_rng(11)
    df = pd.DataFrame(
        {
            S.LOCAL_MODALITY: np.repeat(["none", "mTACE", "HAIC"], 30),
            S.AGE: np.concatenate([rng.normal(m, 5, 30) for m in (55, 60, 58)]),
            S.AFP: np.exp(rng.normal(5, 2, 90)),
            S.SEX: rng.choice(["M", "F"], 90, p=[0.8, 0.2]),
        }
    )
    res = table_one(df, by=S.LOCAL_MODALITY, variables=[S.AGE, S.AFP, S.SEX])
    assert res.groups == ("none", "mTACE", "HAIC")  # schema order
    rows = res.table.set_index("variable")
    groups = [df.loc[df[S.LOCAL_MODALITY] == g, S.AGE].to_numpy() for g in res.groups]
    age = rows.loc[S.AGE]
    assert age["test"] == "ANOVA"
    assert age["statistic"] == pytest.approx(stats.f_oneway(*groups).statistic, rel=1e-10)
    afp_groups = [df.loc[df[S.LOCAL_MODALITY] == g, S.AFP].to_numpy() for g in res.groups]
    assert rows.loc[S.AFP, "test"] == "Kruskal-Wallis"
    assert rows.loc[S.AFP, "p_value"] == pytest.approx(stats.kruskal(*afp_groups).pvalue)
    sex = rows.loc[S.SEX].iloc[0]
    ct = pd.crosstab(df[S.LOCAL_MODALITY], df[S.SEX])
    chi = stats.chi2_contingency(ct, correction=False)
    assert sex["statistic"] == pytest.approx(chi.statistic) and sex["df"] == 2
    means = [g.mean() for g in groups]
    sds = [g.std(ddof=1) for g in groups]
    pair = [smd_continuous(means[i], sds[i], means[j], sds[j]) for i, j in ((0, 1), (0, 2), (1, 2))]
    assert age["smd"] == pytest.approx(max(pair))
    assert "largest pairwise SMD" in res.method and "ANOVA" in res.method


def test_one_group_gives_no_test_and_a_note():
    df = pd.DataFrame({S.TREATMENT_GROUP: [SYS] * 11, S.AGE: X, S.SEX: ["M"] * 6 + ["F"] * 5})
    res = table_one(df, variables=[S.AGE, S.SEX])
    assert res.table["p_value"].isna().all() and res.table["smd"].isna().all()
    assert res.table["test"].eq("").all()
    assert "Only one group" in res.notes[0]
    assert format_table_one(res).iloc[0]["p"] == "-"


def test_errors_name_the_analysis():
    df = pd.DataFrame({S.AGE: X})
    with pytest.raises(
        MissingColumnsError, match="The Table 1 needs the column\\(s\\) 'treatment_group'"
    ):
        table_one(df)
    with pytest.raises(MissingColumnsError, match="'albumin_g_l'"):
        table_one(_continuous_df(X, Y), variables=[S.ALBUMIN])
    with pytest.raises(CohortError, match="cohort is empty"):
        table_one(_continuous_df(X, Y).iloc[:0])
    bad = _continuous_df(X, Y).astype({S.AGE: object})
    bad.loc[0, S.AGE] = "sixty"
    with pytest.raises(CohortError, match="needs numbers in the column 'age'"):
        table_one(bad, variables=[S.AGE])


def test_format_p():
    assert [format_p(p) for p in (0.0000982, 0.001, 0.03552, 0.5, np.nan)] == [
        "< 0.001",
        "0.001",
        "0.036",
        "0.500",
        "-",
    ]


def _paper_like_cohort(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({S.TREATMENT_GROUP: rng.choice([SYS, LOC], n, p=[39 / 95, 56 / 95])})
    for col, lv in (
        (S.SEX, ["M", "F"]),
        (S.CHILD_PUGH_CLASS, ["A", "B"]),
        (S.TUMOR_NUMBER, ["single", "multiple"]),
        (S.BCLC_STAGE, ["A", "B", "C"]),
        (S.CHRONIC_HEPATITIS, [S.NO, S.YES]),
        (S.AV_FISTULA, [S.NO, S.YES]),
        (S.EXTRAHEPATIC_SUPPLY, [S.NO, S.YES]),
        (S.BEST_RESPONSE, ["CR", "PR", "SD", "PD"]),
    ):
        df[col] = rng.choice(lv, n)
    for col, loc, scale in ((S.AGE, 60, 11), (S.ALBUMIN, 42, 5), (S.ALBI_SCORE, -2.7, 0.4)):
        df[col] = rng.normal(loc, scale, n)
    for col in (S.BILIRUBIN, S.MAX_DIAMETER, S.AFP):
        df[col] = np.exp(rng.normal(2, 1, n))
    for term in S.AE_TERMS:
        df[term] = pd.array(rng.choice([0, 1, 2], n, p=[0.9, 0.07, 0.03]), dtype="Int64")
    return df


def test_registry_scale_cohort_gets_all_rows_and_states_subsampled_normality():
    """At n = 100,000 every variable is summarised and the Shapiro-Wilk subsample is stated.

    Speed is measured by bench/, not here.
    """
    big = _paper_like_cohort(100_000, seed=1)
    res = table_one(big)
    assert len(res.variables) == 13
    assert "random subsample of 5,000" in " ".join(res.footnotes)
    age = res.table[res.table["variable"] == S.AGE].iloc[0]
    n_total = sum(age[f"n[{g}]"] for g in res.groups)
    assert n_total == 100_000


def test_footnotes_are_method_then_notes(paper_table_one_df):
    res = table_one(paper_table_one_df)
    assert res.footnotes == (res.method, *res.notes)
    assert "Not in this cohort" in res.footnotes[-1]


def test_a_variable_with_no_known_value_still_shows_its_missing_count():
    df = _continuous_df(X, Y)
    df[S.SEX] = None
    df[S.ALBUMIN] = np.nan
    res = table_one(df, variables=[S.SEX, S.ALBUMIN])
    rows = res.table.set_index("variable")
    assert rows.loc[S.SEX, "missing"] == 23 and rows.loc[S.SEX, group_column("missing", SYS)] == 11
    assert rows.loc[S.ALBUMIN, "missing"] == 23 and rows.loc[S.ALBUMIN, group_column("n", LOC)] == 0
    assert np.isnan(rows.loc[S.SEX, "p_value"]) and np.isnan(rows.loc[S.ALBUMIN, "p_value"])
    shown = format_table_one(res).set_index("Characteristic")
    assert shown.loc["Sex", "Missing"] == "23" and shown.loc["Albumin (g/L)", "p"] == "-"
    assert len(shown) == 2  # no level rows for a variable without levels


def _five_patients() -> pd.DataFrame:
    """Three systemic-only patients and two local + systemic (one HAIC, one IMRT)."""
    return pd.DataFrame(
        {
            S.TREATMENT_GROUP: [SYS, SYS, SYS, LOC, LOC],
            S.LOCAL_MODALITY: ["none", "none", "none", "HAIC", "IMRT"],
            S.AGE: [50, 60, 70, 40, 80],
            S.SEX: ["M", "F", "M", "M", "M"],
        }
    )


def test_overall_column_by_hand():
    """Overall = every patient with a group. Ages 40, 50, 60, 70, 80: median 60, SPSS
    quartiles at (n + 1)p = 1.5 and 4.5 -> 45 and 75, mean 60, SD sqrt(1000 / 4) = 15.8114;
    sex 4 male (80 %), 1 female (20 %). Tests still compare the two groups only."""
    res = table_one(_five_patients(), overall=True)
    assert res.columns == ("Overall", SYS, LOC) and res.column_n["Overall"] == 5
    age = res.table[res.table["variable"] == S.AGE].iloc[0]
    assert age[group_column("n", "Overall")] == 5
    assert age[group_column("median", "Overall")] == 60
    assert (age[group_column("q1", "Overall")], age[group_column("q3", "Overall")]) == (45, 75)
    assert age[group_column("sd", "Overall")] == pytest.approx(15.8113883, abs=1e-6)
    assert age["test"] == "Mann-Whitney U"
    male = res.table[(res.table["variable"] == S.SEX) & (res.table["level"] == "M")].iloc[0]
    assert male[group_column("n", "Overall")] == 4
    assert male[group_column("pct", "Overall")] == pytest.approx(80.0)
    shown = format_table_one(res).set_index("Characteristic")
    assert list(shown.columns[:3]) == [
        "Overall (N = 5)",
        "Systemic (N = 3)",
        "Local + systemic (N = 2)",
    ]
    assert shown.loc["Age (years)", "Overall (N = 5)"] == "60.00 (45.00, 75.00)"
    assert shown.loc["\u2003\u2003Male", "Overall (N = 5)"] == "4 (80.00)"
    # without overall=True nothing changes
    plain = table_one(_five_patients())
    assert plain.columns == (SYS, LOC) and group_column("n", "Overall") not in plain.table


def test_compare_by_local_modality_labels_groups_in_words():
    res = table_one(_five_patients(), by=S.LOCAL_MODALITY, overall=True)
    assert res.groups == ("none", "HAIC", "IMRT")
    shown = format_table_one(res)
    assert list(shown.columns[1:5]) == [
        "Overall (N = 5)",
        "Systemic only (N = 3)",
        "HAIC (N = 1)",
        "IMRT (N = 1)",
    ]
    sex = res.table[(res.table["variable"] == S.SEX) & (res.table["level"] == "M")].iloc[0]
    assert [sex[group_column("n", g)] for g in ("none", "HAIC", "IMRT")] == [2, 1, 1]


def test_display_never_shows_nan_and_explains_placeholders():
    """A group without any value shows "-" (and no test is possible), with a footnote."""
    df = pd.DataFrame(
        {S.TREATMENT_GROUP: [SYS, SYS, SYS, LOC, LOC], S.AGE: [1.0, 2.0, 3.0, np.nan, np.nan]}
    )
    shown = format_table_one(table_one(df, variables=[S.AGE], overall=True))
    text = shown.to_string()
    assert "nan" not in text.lower() and "None" not in text
    assert shown.iloc[0]["Local + systemic (N = 2)"] == "-" and shown.iloc[0]["p"] == "-"
    # the only group with values (1, 2, 3) passes Shapiro-Wilk: mean 2, SD 1
    assert shown.iloc[0]["Overall (N = 5)"] == "2.00 +/- 1.00"
    assert any(n.startswith('"-": no patient of the group') for n in shown.attrs["notes"])


def test_overall_name_clash_is_a_clear_error():
    df = pd.DataFrame({"arm": ["Overall", "x"], S.SEX: ["M", "F"]})
    with pytest.raises(CohortError, match="has a group with that name"):
        table_one(df, by="arm", overall=True)
