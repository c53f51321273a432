"""hcc_core.stats_tests against R: Fisher's exact test on r x c tables and the SMDs.

Reference values come from the committed R script ``tests/reference/make_reference.R``
(``fisher`` and ``smd`` in ``r_reference.json``); each case carries its R call.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from reference.rref import R, vec

from hcc_core.stats_tests import (
    FISHER_RESAMPLES,
    FISHER_SEED,
    _fisher_monte_carlo,
    contingency_test,
    fisher_exact_p,
    fisher_note,
    fisher_test,
    smd_categorical,
    smd_continuous,
)

EXACT = [i for i, c in enumerate(R["fisher"]) if c["p"] is not None]
BEYOND = [i for i, c in enumerate(R["fisher"]) if c["p"] is None]


def _table(case) -> np.ndarray:
    return np.array(case["table"], dtype=float)


def test_fixture_covers_the_table_shapes_a_cohort_produces():
    shapes = {_table(R["fisher"][i]).shape for i in EXACT}
    assert {(2, 3), (2, 5), (3, 3), (3, 4), (4, 4), (4, 5), (5, 5)} <= shapes
    assert max(_table(R["fisher"][i]).sum() for i in EXACT) >= 300
    assert len(BEYOND) >= 5  # tables R's default workspace cannot do exactly


@pytest.mark.parametrize("i", EXACT)
def test_fisher_rxc_is_exact_and_equals_r(i):
    """R: fisher.test(x)$p.value with the default workspace (call in each fixture case)."""
    case = R["fisher"][i]
    p, method = fisher_exact_p(case["table"])
    assert method == "exact", case["call"]
    assert p == pytest.approx(case["p"], rel=1e-6, abs=1e-12), case["call"]


def test_paper_bclc_table_is_exact():
    """R: fisher.test(matrix(c(7,5,20,29,12,22), 2))$p.value = 0.362660211757645."""
    p, method, se = fisher_test([[7, 20, 12], [5, 29, 22]])
    assert method == "exact" and np.isnan(se)
    assert p == pytest.approx(0.362660211757645, rel=1e-9)
    # transposed and with an empty row/column: the same test
    assert fisher_exact_p([[7, 5], [20, 29], [0, 0], [12, 22]])[0] == pytest.approx(p, rel=1e-12)


def test_fisher_monte_carlo_only_beyond_the_exact_limit_with_its_se():
    """A 4 x 5 table of 200 patients: R's fisher.test stops (FEXACT workspace); R's own estimate
    set.seed(1); fisher.test(x, simulate.p.value = TRUE, B = 200000)$p.value is in the fixture.
    Ours is a Monte-Carlo estimate from 10,000 tables with its SE, within 4 SE of R's."""
    case = next(R["fisher"][i] for i in BEYOND if _table(R["fisher"][i]).shape == (4, 5))
    t = _table(case)
    start = time.perf_counter()
    p, method, se = fisher_test(t)
    assert time.perf_counter() - start < 60
    assert method == "monte-carlo"
    assert se == pytest.approx(np.sqrt(p * (1 - p) / FISHER_RESAMPLES), rel=1e-12)
    r_se = np.sqrt(case["p_simulated"] * (1 - case["p_simulated"]) / 200_000)
    assert abs(p - case["p_simulated"]) < 4 * np.hypot(se, r_se)
    # the estimate is recomputed (no cache) and reproducible with the fixed seed ...
    again = _fisher_monte_carlo(t, FISHER_RESAMPLES, FISHER_SEED)
    assert again == (p, se) and _fisher_monte_carlo(t, FISHER_RESAMPLES, FISHER_SEED) == again
    # ... and it is a random estimate: another seed gives another value within a few SE
    other, _ = _fisher_monte_carlo(t, FISHER_RESAMPLES, FISHER_SEED + 1)
    assert other != p and abs(other - p) < 6 * se
    # the footnote says so, with the SE
    note = fisher_note(True, [np.nan, se])
    assert "Monte-Carlo" in note and f"{se:.4f}" in note and "10,000" in note


def test_fisher_note_says_exact_for_every_size():
    assert fisher_note(False) == "exact"
    assert fisher_note(True).startswith("exact: hypergeometric for 2 x 2 tables, network")
    assert "Monte-Carlo" not in fisher_note(True, [np.nan])


def test_contingency_test_carries_fisher_method_and_se():
    """R: fisher.test(matrix(c(7,5,20,29,12,22), 2)) -> 0.362660211757645 (exact)."""
    ct = contingency_test(np.array([[7, 20, 12], [5, 29, 22]]), fisher="always")
    assert ct.fisher_method == "exact" and np.isnan(ct.fisher_se)
    assert ct.fisher_p == pytest.approx(0.362660211757645, rel=1e-9)
    assert set(ct.as_dict()) >= {"fisher_p", "fisher_method", "fisher_se"}


def test_fisher_2x2_and_degenerate_tables():
    """R: fisher.test(matrix(c(0,39,5,51), 2, byrow=TRUE))$p.value = 0.0758635420576747."""
    assert fisher_exact_p([[0, 39], [5, 51]])[0] == pytest.approx(0.0758635420576747, rel=1e-9)
    p, method = fisher_exact_p([[3, 0, 0], [4, 0, 0]])  # one non-empty column
    assert np.isnan(p) and method == ""


def test_smd_continuous_matches_r_matchit():
    """R: summary(matchit(tr ~ x, method = NULL, estimand = 'ATE'), standardize = TRUE):
    Std. Mean Diff. with the pooled SD sqrt((s1^2 + s0^2) / 2)."""
    case = R["smd"]["continuous"]
    x, y = vec(case["x"]), vec(case["y"])
    got = smd_continuous(x.mean(), x.std(ddof=1), y.mean(), y.std(ddof=1))
    assert got == pytest.approx(case["smd"], rel=1e-10)


def test_smd_binary_matches_r_matchit():
    """R: the paper's sex, 35/39 vs 48/56 men; MatchIt's SMD with variance p(1 - p)."""
    case = R["smd"]["binary"]
    a, b = case["k1"] / case["n1"], case["k2"] / case["n2"]
    assert smd_categorical([1 - a, a], [1 - b, b]) == pytest.approx(case["smd"], rel=1e-10)


@pytest.mark.parametrize("i", range(len(R["smd"]["multi"])))
def test_smd_multilevel_matches_r(i):
    """R: sqrt((T - C)' MASS::ginv(S) (T - C)) over levels 2..k (Yang and Dalton 2012)."""
    case = R["smd"]["multi"][i]
    got = smd_categorical(vec(case["p1"]), vec(case["p2"]))
    assert got == pytest.approx(case["smd"], rel=1e-9)


def test_is_normal_uses_public_shapiro_on_finite_data_only():
    """R: shapiro.test(c(3.1, 4.2, 4.2, 5.0, 5.5, 6.1, 6.1, 6.1, 7.3, 9.8, 12.4))$p.value = 0.109
    (normal at 0.05, not at 0.2). No private scipy wrapper; non-finite input is an error."""
    import inspect

    from hcc_core import stats_tests

    x = np.array([3.1, 4.2, 4.2, 5.0, 5.5, 6.1, 6.1, 6.1, 7.3, 9.8, 12.4])
    assert stats_tests.is_normal(x) and not stats_tests.is_normal(x, alpha=0.2)
    assert "__wrapped__" not in inspect.getsource(stats_tests)
    with pytest.raises(ValueError, match="finite"):
        stats_tests.is_normal(np.append(x, np.inf))
