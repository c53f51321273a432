"""hcc_core.cox against R's coxph / cox.zph (fixtures from tests/reference/make_reference.R)
and against lifelines' CoxPHFitter (Efron ties)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference.rref import RTOL, R, load, vec

from hcc_core import CohortError
from hcc_core.cox import (
    BCLC_AB_VS_C,
    LOG10_AFP,
    PAPER_COX_COVARIATES,
    cox_univariable,
    fit_cox,
    subgroup_forest,
)
from hcc_core.cox.concordance import concordance

COX_CASES = sorted(R["cox"])


def _fit(key):
    case = R["cox"][key]
    covs = [str(c) for c in np.atleast_1d(case["covariates"])]
    return case, fit_cox(load(case["dataset"]), case["endpoint"], covs)


@pytest.mark.parametrize("key", COX_CASES)
def test_cox_table_matches_r(key):
    """R: fit <- coxph(Surv(time, status) ~ covariates); summary(fit)$coefficients, $conf.int."""
    case, res = _fit(key)
    t = res.table
    assert list(t.index) == [str(x) for x in np.atleast_1d(case["term"])]
    for col in ("coef", "se", "hr_lower", "hr_upper", "p_value"):
        assert np.allclose(t[col], vec(case[col]), rtol=RTOL), col
    assert np.allclose(t["hr"], np.exp(vec(case["coef"])), rtol=RTOL)
    assert res.n == case["n"] and res.events == case["events"]


@pytest.mark.parametrize("key", COX_CASES)
def test_cox_fit_statistics_match_r(key):
    """R: fit$loglik, fit$iter, fit$concordance['concordance']."""
    case, res = _fit(key)
    assert np.allclose(res.loglik, vec(case["loglik"]), rtol=1e-9)
    assert res.iterations == case["iter"]
    assert res.concordance == pytest.approx(case["concordance"], rel=1e-9)


@pytest.mark.parametrize("key", COX_CASES)
def test_cox_zph_matches_r(key):
    """R (survival >= 3): cox.zph(fit, transform = 'km')$table, per term and GLOBAL."""
    case, res = _fit(key)
    z = case["zph"]
    assert list(res.ph_test.index) == [str(x) for x in np.atleast_1d(z["term"])]
    assert np.allclose(res.ph_test["chisq"], vec(z["chisq"]), rtol=RTOL)
    assert res.ph_test["df"].tolist() == vec(z["df"]).astype(int).tolist()
    assert np.allclose(res.ph_test["p_value"], vec(z["p_value"]), rtol=RTOL)


def test_veteran_ph_violation_is_noted():
    """R: cox.zph on the veteran model flags karno (p ~ 3e-4) and celltype."""
    _, res = _fit("veteran/full")
    assert any(
        "proportional-hazards assumption looks violated" in n and "Karno (p = " in n
        for n in res.notes
    )
    assert "cox.zph" in res.method and "Efron" in res.method


def test_cox_agrees_with_lifelines():
    """lifelines CoxPHFitter (Efron ties, no penalty) on the veteran model."""
    import lifelines  # a pinned test requirement: its absence is a failure, not a skip

    df = load("veteran")
    covs = ["treatment_group", "karno", "diagtime", "age", "prior"]
    res = fit_cox(df, "os", covs)
    x = df[["os_months", "os_event", "karno", "diagtime", "age", "prior"]].copy()
    x["trt"] = (df["treatment_group"] == "local+systemic").astype(float)
    cph = lifelines.CoxPHFitter().fit(x, "os_months", "os_event")
    names = {"treatment_group[local+systemic]": "trt"}
    for term in res.table.index:
        lf = names.get(term, term)
        assert res.table.loc[term, "coef"] == pytest.approx(
            cph.params_[lf], abs=1e-5
        )  # lifelines stops earlier than R
        assert res.table.loc[term, "se"] == pytest.approx(cph.standard_errors_[lf], rel=1e-4)
    assert res.concordance == pytest.approx(cph.concordance_index_, rel=1e-6)


def test_paper_preset_and_derived_covariates():
    """The paper's model on the demo cohort: derived BCLC A/B vs C and log10 AFP, named clearly."""
    assert "demo/paper/os" in R["cox"], "re-run tests/reference/make_reference.R"
    case, res = _fit("demo/paper/os")
    assert "treatment_group[local+systemic]" in res.table.index
    assert f"{BCLC_AB_VS_C}[C]" in res.table.index and LOG10_AFP in res.table.index
    assert tuple(res.covariates) == PAPER_COX_COVARIATES
    assert any("fewer than 10" in n for n in res.notes)  # 52 events / 9 coefficients


def test_derived_covariates_from_canonical_columns():
    df = pd.DataFrame(
        {
            "os_months": [1.0, 2, 3, 4, 5, 6, 7, 8],
            "os_event": [1, 1, 0, 1, 1, 0, 1, 1],
            "bclc_stage": ["0", "A", "B", "C", "D", "C", "A", "B"],
            "afp_ng_ml": [0.5, 10, 100, 1000, 5, 50, 1, 20000],
        }
    )
    res = fit_cox(df, "os", [BCLC_AB_VS_C, LOG10_AFP])
    assert list(res.table.index) == ["bclc_ab_vs_c[C]", "log10_afp"]
    # the same model with the derived columns built by hand
    manual = df.assign(
        bc=np.where(df["bclc_stage"].isin(["C", "D"]), 1.0, 0.0),
        la=np.log10(df["afp_ng_ml"].clip(lower=1)),
    )
    res2 = fit_cox(manual, "os", ["bc", "la"])
    assert np.allclose(res.table["coef"], res2.table["coef"], rtol=1e-12)


def test_constant_covariate_is_dropped_with_note():
    df = load("lung")
    males = df[df["sex"] == "M"]
    res = fit_cox(males, "os", ["age", "sex"])
    assert list(res.table.index) == ["age"]
    assert any("'sex' takes a single value" in n for n in res.notes)
    alone = fit_cox(df[df["sex"] == "M"], "os", ["age"])
    assert res.table.loc["age", "coef"] == pytest.approx(alone.table.loc["age", "coef"])


def test_missing_covariates_excluded_and_counted():
    """lung: ph.ecog has 1 NA and wt.loss 14 NA -> R fits n = 213 (15 rows dropped)."""
    _, res = _fit("lung/age+sex+ph_ecog+wt_loss")
    assert res.n == 213 and res.n_excluded == 15
    assert any(
        "15 patient(s) with a missing covariate" in n and "wt_loss: 14" in n for n in res.notes
    )


def test_cox_errors():
    df = load("lung")
    with pytest.raises(CohortError, match="needs events"):
        fit_cox(df.assign(os_event=0), "os", ["age"])
    with pytest.raises(CohortError, match="None of the chosen covariates varies"):
        fit_cox(df[df["sex"] == "M"], "os", ["sex"])
    with pytest.raises(CohortError, match="needs the column"):
        fit_cox(df, "os", ["albi_score"])


def test_separation_is_noted():
    """All deaths in one arm while both arms are at risk: R warns 'coefficient may be infinite'."""
    df = pd.DataFrame(
        {
            "os_months": [1.0, 2, 3, 4, 5, 6, 7, 8],
            "os_event": [1, 1, 1, 1, 0, 0, 0, 0],
            "treatment_group": ["systemic"] * 4 + ["local+systemic"] * 4,
        }
    )
    res = fit_cox(df, "os", ["treatment_group"])
    assert any("may be infinite" in n or "did not converge" in n for n in res.notes)


def test_univariable_matches_single_fits():
    df = load("veteran")
    uni = cox_univariable(df, "os", ["karno", "celltype"])
    single = fit_cox(df, "os", ["celltype"]).table
    assert uni.loc["celltype[smallcell]", "coef"] == pytest.approx(
        single.loc["celltype[smallcell]", "coef"]
    )
    assert uni.loc["karno", "covariate"] == "karno" and uni.loc["karno", "n"] == 137
    assert list(uni.columns[1:7]) == ["coef", "se", "hr", "hr_lower", "hr_upper", "p_value"]


def test_concordance_hand_computed():
    """4 subjects; comparable pairs (earlier time is an event): (1,2) (1,3) (1,4) (3,4) and the
    censored subject tied at time 3 counts as longer. lp ties count 1/2."""
    time_ = np.array([1.0, 3, 3, 5])
    event = np.array([1.0, 0, 1, 0])
    lp = np.array([2.0, 1, 1, 0])
    # pairs: (1 vs 2) conc, (1 vs 3) conc, (1 vs 4) conc, (3 vs 2) tied lp, (3 vs 4) conc
    assert concordance(time_, event, lp) == pytest.approx((4 + 0.5) / 5)


def test_subgroup_forest_structure_and_values():
    """Within-level HR equals a treatment-only Cox fit on that level; R: coxph(~ trt, subset)."""
    df = load("veteran")
    out = subgroup_forest(df, "os", ["celltype"])
    assert out.loc[0, "subgroup"] == "overall"
    trt_only = fit_cox(df, "os", ["treatment_group"]).table.iloc[0]
    assert out.loc[0, "hr"] == pytest.approx(trt_only["hr"])
    sq = out[(out["subgroup"] == "celltype") & (out["level"] == "squamous")].iloc[0]
    direct = fit_cox(df[df["celltype"] == "squamous"], "os", ["treatment_group"]).table.iloc[0]
    assert sq["hr"] == pytest.approx(direct["hr"]) and sq["hr_upper"] == pytest.approx(
        direct["hr_upper"]
    )
    assert sq["n_reference"] + sq["n_comparator"] == sq["n"] == (df["celltype"] == "squamous").sum()
    assert out.attrs["reference"] == "systemic" and out.attrs["comparator"] == "local+systemic"


def test_subgroup_forest_matches_r_on_veteran():
    """R (tests/reference/make_reference_cox.R, fixture forest_veteran):
    anova(coxph(Surv(os_months, os_event) ~ trt + celltype, vet),
          coxph(Surv(os_months, os_event) ~ trt * celltype, vet))      # p_interaction
    coxph(Surv(os_months, os_event) ~ trt, subset(vet, celltype == lv))  # each level's HR
    (This replaces a test that compared subgroup_forest with fit_cox, i.e. with itself.)"""
    import json

    from reference.rref import REF

    ref = json.loads((REF / "r_cox_reference.json").read_text())["forest_veteran"]
    out = subgroup_forest(load("veteran"), "os", ["celltype"])
    cell = out[out["subgroup"] == "celltype"].set_index("level")
    assert cell["p_interaction"].tolist() == pytest.approx(
        [ref["p_interaction"]] * len(cell), rel=1e-6
    )
    assert sorted(cell.index) == [lv["level"] for lv in ref["levels"]]
    for lv in ref["levels"]:
        got = cell.loc[lv["level"], ["hr", "hr_lower", "hr_upper", "p_value"]].tolist()
        want = [lv["hr"], lv["hr_lower"], lv["hr_upper"], lv["p_value"]]
        assert got == pytest.approx(want, rel=1e-6), lv["level"]


def test_subgroup_level_without_events_gets_nan_and_note():
    df = load("edge_noevents").assign(sex=["M", "M", "F", "F", "F", "M", "M", "F", "F", "F"])
    out = subgroup_forest(df, "os", ["sex"])
    assert out["hr"].isna().all()  # the local+systemic arm has no events anywhere
    assert out["note"].str.contains("No events in arm 'local\\+systemic'").all()


def test_subgroup_needs_two_arms():
    df = load("veteran")
    with pytest.raises(CohortError, match="compares two arms"):
        subgroup_forest(df, "os", ["prior"], treatment="celltype")


# ---- derived AFP >= 400 subgroup and the local-modality rows of the forest ----------------------
def _demo():
    from hcc_core import load_cohort
    from tests.conftest import DATA

    return load_cohort(DATA / "demo_cohort.csv").data


def test_forest_afp_400_levels_and_interaction_match_r():
    """R: d$afp400 <- factor(ifelse(d$afp_ng_ml >= 400, "hi", "lo"), levels = c("lo", "hi"))
    anova(coxph(Surv(os_months, os_event) ~ trt + afp400, d),
          coxph(Surv(os_months, os_event) ~ trt * afp400, d))  # p = 0.740966868425544
    table(d$afp400)  # lo 56, hi 39
    """
    f = subgroup_forest(_demo(), "os", ["afp_400"]).set_index(["subgroup", "level"])
    assert f.loc["afp_400", "n"].tolist() == [56, 39]
    assert list(f.loc["afp_400"].index) == ["< 400", ">= 400"]
    assert f.loc[("afp_400", ">= 400"), "p_interaction"] == pytest.approx(
        0.740966868425544, rel=1e-6
    )


def test_forest_modality_rows_compare_each_modality_with_systemic_like_r():
    """R: s <- subset(d, local_modality %in% c("none", "HAIC"))
    exp(c(coef(f), confint(f))) for f <- coxph(Surv(os_months, os_event) ~ trt, s)
      # 0.394286660311648 0.175421790727843 0.886218125209446
    anova(coxph(Surv(os_months, os_event) ~ trt, d),
          coxph(Surv(os_months, os_event) ~ local_modality, d))  # p = 0.224004346194544
    """
    df = _demo()
    f = subgroup_forest(df, "os", ["local_modality"]).set_index(["subgroup", "level"])
    assert list(f.loc["local_modality"].index) == ["mTACE", "HAIC", "IMRT"]
    haic = f.loc[("local_modality", "HAIC")]
    assert [haic["hr"], haic["hr_lower"], haic["hr_upper"]] == pytest.approx(
        [0.394286660311648, 0.175421790727843, 0.886218125209446], rel=1e-6
    )
    assert haic["n_reference"] == int((df["treatment_group"] == "systemic").sum())
    assert haic["n_comparator"] == int((df["local_modality"] == "HAIC").sum())
    assert "vs all systemic-only patients" in haic["note"]
    assert haic["p_interaction"] == pytest.approx(0.224004346194544, rel=1e-6)


@pytest.mark.parametrize(
    ("term", "label"),
    [
        ("treatment_group[local+systemic]", "Treatment group: Local + systemic vs Systemic"),
        ("sex[F]", "Sex: Female vs Male"),
        ("child_pugh_class[B]", "Child-Pugh class: B vs A"),
        ("bclc_ab_vs_c[C]", "BCLC stage (grouped): C vs A/B"),
        ("albi_grade[2]", "ALBI grade: 2 vs 1"),
        ("age", "Age (years)"),
        ("log10_afp", "log10 AFP (per 10-fold increase)"),
    ],
)
def test_term_labels_name_level_against_reference(term, label):
    from hcc_core import term_label

    assert term_label(term) == label


def test_subgroup_with_missing_nullable_int_level_matches_r():
    """albi_grade as pandas nullable Int64 with pd.NA (used to raise 'boolean value of NA is
    ambiguous'). Missing values are left out of the subgroup's rows and its interaction test.

    R: d$albi <- factor(albi, levels = c(1, 2))   # two NA
    f <- coxph(Surv(t, e) ~ trt, subset(d, albi == 1)); exp(c(coef(f), confint(f)))
      # 3.17944947176912 0.330036379326286 30.6296504772248, p 0.316916362934272
    albi == 2: 0.71638039145348 0.158665858462467 3.23447571035226, p 0.664520706335601
    anova(coxph(Surv(t, e) ~ trt + albi, d), coxph(Surv(t, e) ~ trt * albi, d))
      # p = 0.274669667412505
    """
    df = pd.DataFrame(
        {
            "os_months": [2.1, 3.5, 4.0, 5.2, 6.8, 7.1, 8.3, 9.9, 10.4, 11.0]
            + [12.5, 13.1, 14.7, 15.2, 16.9, 18.0, 19.4, 20.6, 22.3, 24.0],
            "os_event": [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0],
            "treatment_group": ["systemic", "local+systemic"] * 10,
            "albi_grade": pd.array(
                [1, 2, 1, 2, pd.NA, 1, 2, 1, 1, 2, 2, 1, pd.NA, 2, 1, 1, 2, 2, 1, 2], dtype="Int64"
            ),
        }
    )
    out = subgroup_forest(df, "os", ["albi_grade"])
    albi = out[out["subgroup"] == "albi_grade"].set_index("level")
    assert list(albi.index) == [1, 2]
    assert albi["n"].tolist() == [9, 9] and out.loc[0, "n"] == 20
    assert albi.loc[1, ["hr", "hr_lower", "hr_upper", "p_value"]].tolist() == pytest.approx(
        [3.17944947176912, 0.330036379326286, 30.6296504772248, 0.316916362934272], rel=1e-6
    )
    assert albi.loc[2, ["hr", "hr_lower", "hr_upper", "p_value"]].tolist() == pytest.approx(
        [0.71638039145348, 0.158665858462467, 3.23447571035226, 0.664520706335601], rel=1e-6
    )
    assert albi["p_interaction"].tolist() == pytest.approx([0.274669667412505] * 2, rel=1e-6)
    msg = "2 patient(s) with a missing 'albi_grade' were excluded"
    assert all(msg in note for note in albi["note"])
    assert any(msg in note for note in out.attrs["notes"])
    assert out.loc[0, "note"] == ""


def test_univariable_rows_equal_fit_cox_on_each_covariate():
    """cox_univariable sorts once and skips the diagnostics; each row must still be exactly the
    single-covariate fit_cox (own complete cases: lung wt_loss has 14 NA, ph_ecog 1 NA)."""
    df = load("lung")
    covs = ["age", "sex", "ph_ecog", "wt_loss"]
    uni = cox_univariable(df, "os", covs)
    for c in covs:
        single = fit_cox(df, "os", [c])
        rows = uni[uni["covariate"] == c]
        assert list(rows.index) == list(single.table.index)
        cols = [c for c in single.table.columns if c != "robust_se"]
        assert np.allclose(
            rows[cols].to_numpy(dtype=float), single.table[cols].to_numpy(), rtol=1e-12, atol=0
        )
        assert (rows["n"] == single.n).all() and (rows["events"] == single.events).all()
    assert uni.loc["wt_loss", "n"] == 214 and uni.loc["age", "n"] == 228


def test_large_cohort_products_equal_blas_products(monkeypatch):
    """From engine.NUMPY_ROWS rows on, the information's X'WX uses numpy sums instead of BLAS;
    it must give the same loglik, score, information and cox.zph pieces (heavy ties: 3,000
    rows on 40 distinct times, 3 covariates)."""
    from hcc_core.cox import engine

    rng = np.random.default_rng(7)
    n = 3000
    time_ = rng.integers(1, 41, n).astype(float)
    event = (rng.random(n) < 0.7).astype(float)
    X = np.column_stack([rng.normal(size=n), rng.random(n) < 0.4, rng.normal(2, 1, n)])
    beta = np.array([[0.3, -0.5, 0.1]])
    rs = engine.prepare(time_, event, X)
    g = rng.normal(size=rs.kg.size)
    small = engine.loglik(rs, beta, g)
    monkeypatch.setattr(engine, "NUMPY_ROWS", 1000)
    large = engine.loglik(rs, beta, g)
    for a, b in zip(small, large, strict=True):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-12 * np.abs(a).max())


# ---- subgroup forest: vectorised per-level fits and per-cell interaction models -----------------
def _level_frame(df, sub, level):
    """The rows of one forest row, as a frame for fit_cox (local modality: vs systemic-only)."""
    from hcc_core.cox.design import _values

    is_level = _values(df, sub).eq(level).fillna(False).astype(bool)
    if sub == "local_modality":
        is_level |= df["treatment_group"].eq("systemic")
    return df[is_level.to_numpy()]


def _assert_forest_equals_single_fits(df, endpoint, subs):
    out = subgroup_forest(df, endpoint, subs)
    checked = 0
    for _, row in out.iterrows():
        part = (
            df if row["subgroup"] == "overall" else _level_frame(df, row["subgroup"], row["level"])
        )
        if np.isnan(row["hr"]):
            continue
        single = fit_cox(part, endpoint, ["treatment_group"])
        t = single.table.iloc[0]
        got = row[["hr", "hr_lower", "hr_upper", "p_value"]].to_numpy(dtype=float)
        want = t[["hr", "hr_lower", "hr_upper", "p_value"]].to_numpy(dtype=float)
        assert np.allclose(got, want, rtol=1e-9, atol=0), (row["subgroup"], row["level"])
        assert row["n"] == single.n and row["events"] == single.events
        checked += 1
    return out, checked


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_forest_levels_equal_single_fit_cox_on_demo_cohort(endpoint):
    """Every estimable forest row (one vectorised Newton run over all levels) equals
    fit_cox(df[level], endpoint, ["treatment_group"]) to 1e-9 relative."""
    subs = ["child_pugh_class", "bclc_stage", "tumor_number", "afp_400", "albi_grade"]
    out, checked = _assert_forest_equals_single_fits(_demo(), endpoint, [*subs, "local_modality"])
    assert checked == out["hr"].notna().sum() >= 12


def test_forest_levels_equal_single_fits_on_random_cohort_with_ties():
    """Heavy ties (30 distinct times for 600 patients), missing subgroup values, levels of very
    different sizes; plus a level whose likelihood has no finite maximum (the fallback path)."""
    rng = np.random.default_rng(11)
    n = 600
    df = pd.DataFrame(
        {
            "os_months": rng.integers(1, 31, n).astype(float),
            "os_event": (rng.random(n) < 0.6).astype(int),
            "treatment_group": np.where(rng.random(n) < 0.45, "local+systemic", "systemic"),
            "bclc_stage": rng.choice(["0", "A", "B", "C", "D"], n, p=[0.05, 0.2, 0.35, 0.3, 0.1]),
            "child_pugh_class": rng.choice(["A", "B", "C"], n, p=[0.6, 0.3, 0.1]),
            "albi_grade": pd.array(
                np.where(rng.random(n) < 0.1, None, rng.integers(1, 4, n)), dtype="Int64"
            ),
        }
    )
    # separation in Child-Pugh C: systemic deaths at months 1-2, local+systemic deaths after
    # every systemic patient has left the risk set
    c = np.flatnonzero(df["child_pugh_class"].eq("C"))
    arm = df["treatment_group"].iloc[c].eq("systemic").to_numpy()
    df.loc[c[arm], "os_months"] = rng.integers(1, 3, arm.sum()).astype(float)
    df.loc[c[~arm], "os_months"] = rng.integers(5, 30, (~arm).sum()).astype(float)
    df.loc[c, "os_event"] = 1
    out, checked = _assert_forest_equals_single_fits(
        df, "os", ["bclc_stage", "child_pugh_class", "albi_grade"]
    )
    assert checked == 1 + 5 + 2 + 3
    sep = out[(out["subgroup"] == "child_pugh_class") & (out["level"] == "C")].iloc[0]
    assert np.isnan(sep["hr"]) and "no finite maximum" in sep["note"]
    single = fit_cox(df[df["child_pugh_class"] == "C"], "os", ["treatment_group"])
    # R: coxph converges in 19 iterations at coef -21.85 and warns "Loglik converged before
    # variable 1; coefficient may be infinite": the single fit says so too
    assert single.converged and single.iterations == 19
    assert single.table.iloc[0]["coef"] == pytest.approx(-21.85258691, rel=1e-6)
    assert any("may be infinite" in note for note in single.notes)


def test_batched_fits_equal_single_fits():
    """fit_parts over many overlapping subsets (tied times, unequal arms; rows collapsed per
    arm) gives each subset's own coxph_arrays fit: beta, variance, log-likelihoods, iterations."""
    from hcc_core import coxph_arrays
    from hcc_core.cox.batch import Part, fit_parts

    rng = np.random.default_rng(5)
    n = 2000
    time_ = np.sort(rng.integers(1, 60, n).astype(float))
    event = (rng.random(n) < 0.5).astype(float)
    trt = (rng.random(n) < 0.3).astype(float)
    masks = [rng.random(n) < q for q in (0.05, 0.2, 0.5, 0.9)] + [np.ones(n, dtype=bool)]
    parts = [Part(np.flatnonzero(m), trt[m][:, None], trt[m].astype(int)) for m in masks]
    res = fit_parts(time_, event, parts)
    assert res.converged.all() and not res.infinite.any()
    for j, m in enumerate(masks):
        fit = coxph_arrays(None, time_[m], event[m], trt[m][:, None])
        assert res.beta[j, 0] == pytest.approx(fit.coef[0], rel=1e-10)
        assert res.var[j, 0, 0] == pytest.approx(fit.vcov[0, 0], rel=1e-10)
        assert res.loglik[j] == pytest.approx(fit.loglik[1], rel=1e-13)
        assert res.iterations[j] == fit.iterations


def test_batched_fits_of_different_sizes_equal_single_fits():
    """Models with 1, 2 and 3 coefficients in one engine run (smaller ones padded with zero
    columns) each give their own coxph_arrays fit; the padding stays exactly zero."""
    from hcc_core import coxph_arrays
    from hcc_core.cox.batch import Part, fit_parts

    rng = np.random.default_rng(11)
    n = 300
    time_ = rng.integers(1, 40, n).astype(float)
    event = (rng.random(n) < 0.6).astype(float)
    order = np.lexsort((-event, time_))  # fit_parts: time ascending, deaths first among ties
    time_, event = time_[order], event[order]
    X = np.column_stack([rng.random(n) < 0.4, rng.normal(size=n), rng.random(n) < 0.5]) * 1.0
    sel = [np.ones(n, dtype=bool), rng.random(n) < 0.6, rng.random(n) < 0.8]
    parts = [Part(np.flatnonzero(m), X[m][:, :k]) for k, m in zip((1, 3, 2), sel, strict=True)]
    res = fit_parts(time_, event, parts)
    assert res.beta.shape == (3, 3) and res.converged.all()
    for j, (k, m) in enumerate(zip((1, 3, 2), sel, strict=True)):
        fit = coxph_arrays(None, time_[m], event[m], X[m][:, :k])
        assert res.beta[j, :k] == pytest.approx(fit.coef, rel=1e-10)
        assert res.var[j, :k, :k] == pytest.approx(fit.vcov, rel=1e-10)
        assert res.loglik[j] == pytest.approx(fit.loglik[1], rel=1e-13)
        assert res.iterations[j] == fit.iterations
        assert (res.beta[j, k:] == 0).all() and (res.var[j, k:] == 0).all()
        assert (res.var[j, :, k:] == 0).all() and not res.infinite[j].any()


def test_batch_with_a_slow_group_equals_single_fits():
    """A group that needs many iterations (separation: events in one arm only) is evaluated on
    its own once the others have converged; every group still gets its single fit: beta,
    variance, iterations and the may-be-infinite flag."""
    from hcc_core import coxph_arrays
    from hcc_core.cox.batch import Part, fit_parts

    rng = np.random.default_rng(7)
    n = 400
    time_ = rng.integers(1, 50, n).astype(float)
    trt = (rng.random(n) < 0.5).astype(float)
    event = (rng.random(n) < 0.6).astype(float)
    sep = np.zeros(n, dtype=bool)
    sep[:60] = True
    event[:60] = trt[:60]  # in the first 60 rows only the treated arm has events
    order = np.lexsort((-event, time_))
    time_, event, trt, sep = time_[order], event[order], trt[order], sep[order]
    masks = [sep] + [rng.random(n) < q for q in (0.3, 0.5, 0.7, 0.9)]
    parts = [Part(np.flatnonzero(m), trt[m][:, None]) for m in masks]
    res = fit_parts(time_, event, parts)
    assert res.iterations[0] > res.iterations[1:].max() + 5
    for j, m in enumerate(masks):
        fit = coxph_arrays(None, time_[m], event[m], trt[m][:, None])
        # the separated group's coefficient drifts towards infinity until the log-likelihood
        # stops changing (R: about 21 here); its last digits carry no information
        rel = 1e-6 if j == 0 else 1e-10
        assert res.beta[j, 0] == pytest.approx(fit.coef[0], rel=rel)
        assert res.var[j, 0, 0] == pytest.approx(fit.vcov[0, 0], rel=rel)
        assert res.loglik[j] == pytest.approx(fit.loglik[1], rel=1e-13)
        assert res.iterations[j] == fit.iterations
        assert bool(res.infinite[j, 0]) == (0 in fit.infinite)
    assert res.infinite[0, 0] and not res.infinite[1:].any()


def test_collapsed_rows_equal_full_rows():
    """Identical rows collapsed into one with a count give the same Efron loglik, score and
    information as the rows themselves (R's likelihood for that many identical rows), and the
    same fit: an interaction model whose covariates are functions of arm x level cells."""
    from hcc_core.cox import engine
    from hcc_core.cox.batch import _collapse

    rng = np.random.default_rng(3)
    n = 800
    time_ = np.sort(rng.integers(1, 25, n).astype(float))
    event = (rng.random(n) < 0.7).astype(float)
    trt = (rng.random(n) < 0.5).astype(float)
    code = rng.integers(0, 3, n)
    d = np.column_stack([code == 1, code == 2]).astype(float)
    X = np.column_stack([trt, d, trt[:, None] * d])
    block = np.unique(time_, return_inverse=True)[1]
    keep, cnt = _collapse(block, event, code * 2 + trt.astype(int))
    assert keep.size < n / 2 and cnt.sum() == n
    full = engine.prepare(time_, event, X)
    small = engine.prepare(time_[keep], event[keep], X[keep], counts=cnt)
    b = np.array([[0.4, -0.3, 0.2, 0.1, -0.5]])
    for a, c in zip(engine.loglik(full, b), engine.loglik(small, b), strict=True):
        assert np.allclose(a, c, rtol=1e-12, atol=1e-12 * np.abs(a).max())
    fa, fc = engine.newton(full), engine.newton(small)
    assert np.allclose(fa.beta, fc.beta, rtol=1e-10) and (fa.iterations == fc.iterations).all()
    assert fc.loglik[0] == pytest.approx(fa.loglik[0], rel=1e-13)


def test_modality_heterogeneity_when_treatment_is_not_a_function_of_modality():
    """The heterogeneity LR test counts risk sets per arm x modality cell, so a user file whose
    treatment_group disagrees with local_modality (a HAIC patient labelled systemic) gets the
    same p as the models fitted row by row: anova(coxph(~ trt), coxph(~ modality))."""
    from scipy.stats import chi2

    df = _demo()
    haic = np.flatnonzero(df["local_modality"].eq("HAIC").to_numpy())[:2]
    df.loc[df.index[haic], "treatment_group"] = "systemic"
    f = subgroup_forest(df, "os", ["local_modality"]).set_index(["subgroup", "level"])
    base = fit_cox(df, "os", ["treatment_group"])
    full = fit_cox(df, "os", ["local_modality"])
    p = chi2.sf(2 * (full.loglik[1] - base.loglik[1]), len(full.table) - 1)
    assert f.loc[("local_modality", "HAIC"), "p_interaction"] == pytest.approx(p, rel=1e-9)


# ---- univariable fits: one vectorised Newton run over all one-column models ---------------------
def _assert_univariable_equals_single_fits(df, endpoint, covs):
    """Each cox_univariable row (one batched engine run, factors on collapsed rows) equals
    fit_cox(df, endpoint, [cov]) to 1e-9 relative."""
    uni = cox_univariable(df, endpoint, covs)
    cols = ["coef", "se", "hr", "hr_lower", "hr_upper", "p_value"]
    for c in covs:
        single = fit_cox(df, endpoint, [c])
        rows = uni[uni["covariate"] == c]
        assert list(rows.index) == list(single.table.index)
        got = rows[cols].to_numpy(dtype=float)
        # a coefficient that may be infinite is wherever the log-likelihood stopped changing:
        # rounding (collapsed rows vs all rows) moves it far more than a finite estimate
        infinite = any("may be infinite" in note for note in single.notes)
        rtol = 1e-6 if infinite else 1e-9
        assert np.allclose(got, single.table[cols].to_numpy(), rtol=rtol, atol=0), c
        assert (rows["n"] == single.n).all() and (rows["events"] == single.events).all()
    return uni


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_univariable_preset_equals_single_fits_on_demo_cohort(endpoint):
    uni = _assert_univariable_equals_single_fits(_demo(), endpoint, list(PAPER_COX_COVARIATES))
    assert len(uni) == len(PAPER_COX_COVARIATES)  # all one-coefficient models


def test_univariable_equals_single_fits_on_random_cohort_with_ties_and_missing():
    """Heavy ties (25 distinct times for 800 patients), missing values in several covariates
    (each fit on its own complete cases), a 3-level factor (per-fit path), a constant
    covariate (note), and a 0/1 covariate with separation (flagged: refitted per fit)."""
    rng = np.random.default_rng(23)
    n = 800
    miss = rng.random((4, n)) < np.array([[0.0], [0.1], [0.25], [0.05]])
    age = np.where(miss[1], np.nan, rng.normal(65, 9, n).round())
    afp = np.where(miss[2], np.nan, np.exp(rng.normal(4, 2.5, n)))
    albi = np.where(miss[3], np.nan, rng.normal(-2.2, 0.6, n))
    df = pd.DataFrame(
        {
            "os_months": rng.integers(1, 26, n).astype(float),
            "os_event": (rng.random(n) < 0.65).astype(int),
            "pfs_months": rng.integers(1, 13, n).astype(float),
            "pfs_event": (rng.random(n) < 0.8).astype(int),
            "treatment_group": np.where(rng.random(n) < 0.4, "local+systemic", "systemic"),
            "age": age,
            "sex": np.where(rng.random(n) < 0.15, None, rng.choice(["M", "F"], n)),
            "child_pugh_class": rng.choice(["A", "B"], n, p=[0.7, 0.3]),
            "bclc_stage": np.where(rng.random(n) < 0.05, None, rng.choice(["A", "B", "C"], n)),
            "max_tumor_diameter_cm": rng.gamma(2, 3, n).round(1),
            "tumor_number": rng.choice(["1", "2-3", ">3"], n),
            "afp_ng_ml": afp,
            "albi_score": albi,
            "albumin_g_l": np.full(n, 35.0),
            "sep": (rng.random(n) < 0.3).astype(float),
        }
    )
    sep = df["sep"].eq(1).to_numpy()  # no events while any sep = 0 patient is at risk
    df.loc[~sep, "os_months"] = rng.integers(1, 5, (~sep).sum()).astype(float)
    df.loc[sep, "os_months"] = rng.integers(6, 26, sep.sum()).astype(float)
    df.loc[sep, "os_event"] = (rng.random(sep.sum()) < 0.5).astype(int)
    covs = [*PAPER_COX_COVARIATES, "albumin_g_l", "sep"]
    for endpoint in ("os", "pfs"):
        uni = _assert_univariable_equals_single_fits(
            df, endpoint, [c for c in covs if c != "albumin_g_l"]
        )
        assert uni.loc["age", "n"] == int((~miss[1]).sum())
        assert list(uni.loc[uni["covariate"] == "tumor_number"].index) == [
            "tumor_number[2-3]",
            "tumor_number[>3]",
        ]
    out = cox_univariable(df, "os", covs)
    assert "albumin_g_l" not in set(out["covariate"])
    assert any("'albumin_g_l' was not fitted" in note for note in out.attrs["notes"])
    # beta runs off to -inf: fit_cox and the univariable screen both say it may be infinite
    # (issue #11 item 4)
    sep_fit = fit_cox(df, "os", ["sep"])
    assert any("may be infinite" in note for note in sep_fit.notes)
    assert out.loc["sep", "coef"] == pytest.approx(sep_fit.table.loc["sep", "coef"], rel=1e-6)
    assert any(
        note.startswith("'sep': The log-likelihood converged before the coefficient(s) of sep")
        and "may be infinite" in note
        for note in out.attrs["notes"]
    )


def test_subgroup_interaction_that_cannot_be_estimated_carries_a_note():
    """Issue 11 item 4: each sex holds one arm only, so no treatment x sex term can be estimated
    (R: coxph(~ trt * sex) gives NA for it); the p-value is NaN and every row of the subgroup
    says why."""
    df = pd.DataFrame(
        {
            "os_months": [2.0, 3, 4, 5, 6, 7, 8, 9, 10, 11],
            "os_event": [1, 1, 0, 1, 1, 1, 0, 1, 1, 0],
            "treatment_group": ["systemic"] * 5 + ["local+systemic"] * 5,
            "sex": ["F"] * 5 + ["M"] * 5,
        }
    )
    out = subgroup_forest(df, "os", ["sex"])
    rows = out[out["subgroup"] == "sex"]
    assert rows["p_interaction"].isna().all()
    assert rows["note"].str.contains("Interaction test not estimable").all()
    assert rows["note"].str.contains("No patients in arm").all()  # and no per-sex HR either


def test_drop_collinear_keeps_the_first_columns_of_full_rank():
    """Columns that are linear combinations of earlier kept ones (a sum, a multiple, a
    constant, a complementary dummy) are dropped in order, as coxph reports them NA."""
    from hcc_core.cox.design import _drop_collinear

    rng = np.random.default_rng(0)
    x1, x2, x3 = rng.normal(size=(3, 50))
    X = np.column_stack([x1, x2, x1 + 2 * x2, x3, np.ones(50), 3 * x2])
    _, kept, _, dropped = _drop_collinear(X, list("abcdef"), list("abcdef"))
    assert kept == ["a", "b", "d"] and dropped == ["c", "e", "f"]
    d = (rng.random(50) < 0.5).astype(float)
    _, kept, _, dropped = _drop_collinear(
        np.column_stack([d, 1 - d, x3]), ["d", "1-d", "x"], [0] * 3
    )
    assert kept == ["d", "x"] and dropped == ["1-d"]
