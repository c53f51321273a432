"""Small, fast statistical tests shared by Table 1, response and adverse-event tables.

Plain numpy on counts and arrays, so the dashboard can recompute every table on each
filter click. Each helper is cross-checked against scipy or R in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special, stats

__all__ = [
    "FISHER_RESAMPLES",
    "FISHER_SEED",
    "SHAPIRO_MAX_N",
    "ContingencyTest",
    "CONTINGENCY_COLUMNS",
    "HypothesisTest",
    "pearson_chi2",
    "fisher_exact_p",
    "contingency_test",
    "fisher_note",
    "student_t",
    "mann_whitney_spss",
    "anova_oneway",
    "kruskal_wallis",
    "is_normal",
    "spss_quartiles",
    "clopper_pearson",
    "wilson",
    "newcombe_difference",
    "smd_continuous",
    "smd_categorical",
    "max_pairwise",
]

FISHER_RESAMPLES = 10_000
FISHER_SEED = 20240101
SHAPIRO_MAX_N = 5000


@dataclass(frozen=True)
class HypothesisTest:
    """One test: its name, statistic, degrees of freedom (NaN if none) and two-sided p."""

    test: str
    statistic: float
    df: float
    p_value: float


NO_TEST = HypothesisTest("", np.nan, np.nan, np.nan)


@dataclass(frozen=True)
class ContingencyTest:
    """Pearson chi-square on a table, with Fisher's p when any expected count is < 5."""

    statistic: float
    df: float
    p_value: float
    min_expected: float
    low_expected: bool
    fisher_p: float
    fisher_method: str

    def as_dict(self) -> dict:
        """The fields as a plain dict (keys = ``CONTINGENCY_COLUMNS``)."""
        return dict(self.__dict__)


CONTINGENCY_COLUMNS: tuple[str, ...] = (
    "statistic",
    "df",
    "p_value",
    "min_expected",
    "low_expected",
    "fisher_p",
    "fisher_method",
)


def _reduce(table) -> np.ndarray:
    t = np.asarray(table, dtype=float)
    # An empty row (a group with no known value) or column carries no information.
    return t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]


def pearson_chi2(table) -> tuple[float, float, float, float]:
    """Pearson chi-square without continuity correction on an r x c table of counts.

    Returns ``(statistic, df, p_value, min_expected)``; all NaN when, after dropping
    empty rows and columns, fewer than two rows or columns remain.

    Notes
    -----
    The paper's (SPSS "Pearson Chi-Square") test; R: ``chisq.test(x, correct = FALSE)``.
    """
    t = _reduce(table)
    if t.shape[0] < 2 or t.shape[1] < 2:
        return np.nan, np.nan, np.nan, np.nan
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / t.sum()
    stat = float(((t - expected) ** 2 / expected).sum())
    df = float((t.shape[0] - 1) * (t.shape[1] - 1))
    return stat, df, float(special.chdtrc(df, stat)), float(expected.min())


def _fisher_2x2(t: np.ndarray) -> float:
    (a, b), (c, d) = t
    r1, c1, n = a + b, a + c, a + b + c + d
    x = np.arange(max(0.0, r1 + c1 - n), min(r1, c1) + 1)
    logp = (
        special.gammaln(r1 + 1)
        + special.gammaln(n - r1 + 1)
        + special.gammaln(c1 + 1)
        + special.gammaln(n - c1 + 1)
        - special.gammaln(n + 1)
        - special.gammaln(x + 1)
        - special.gammaln(r1 - x + 1)
        - special.gammaln(c1 - x + 1)
        - special.gammaln(n - r1 - c1 + x + 1)
    )
    pmf = np.exp(logp)
    observed = pmf[int(a - x[0])]
    # Same relative tolerance as R's fisher.test and scipy for ties in probability.
    return float(min(1.0, pmf[pmf <= observed * (1 + 1e-7)].sum()))


@lru_cache(maxsize=512)
def _fisher_monte_carlo(cells: tuple, shape: tuple, n_resamples: int, seed: int) -> float:
    t = np.asarray(cells, dtype=float).reshape(shape)
    sims = stats.random_table(t.sum(axis=1), t.sum(axis=0)).rvs(
        size=n_resamples, method="patefield", random_state=np.random.default_rng(seed)
    )
    # R's statistic: -sum(log x!) ; a table is "as or more extreme" if no more probable.
    observed = -special.gammaln(t + 1).sum()
    simulated = -special.gammaln(sims + 1).sum(axis=(1, 2))
    almost_one = 1 + 64 * np.finfo(float).eps
    return float((1 + np.sum(simulated <= observed / almost_one)) / (n_resamples + 1))


def fisher_exact_p(
    table, n_resamples: int = FISHER_RESAMPLES, seed: int = FISHER_SEED
) -> tuple[float, str]:
    """Fisher's exact test p-value: exact for 2 x 2, Monte-Carlo for larger tables.

    Returns ``(p_value, method)`` where method is ``"exact"`` or ``"monte-carlo"``
    (NaN and ``""`` when the table has fewer than two non-empty rows or columns).

    Notes
    -----
    2 x 2: the two-sided sum of hypergeometric probabilities no larger than the observed
    one; R ``fisher.test(x)``. Larger tables: tables with the observed margins drawn by
    Patefield's algorithm with a fixed seed; R ``fisher.test(x, simulate.p.value = TRUE,
    B = 10000)`` (same statistic and (1 + hits) / (B + 1) estimate, different random stream).
    """
    t = _reduce(table)
    if t.shape[0] < 2 or t.shape[1] < 2:
        return np.nan, ""
    if t.shape == (2, 2):
        return _fisher_2x2(t), "exact"
    cells = tuple(int(v) for v in t.ravel())
    return _fisher_monte_carlo(cells, t.shape, int(n_resamples), int(seed)), "monte-carlo"


def fisher_note(larger_tables: bool) -> str:
    """How Fisher's p was obtained, for footnotes ("exact" or the Monte-Carlo settings)."""
    if not larger_tables:
        return "exact"
    return (
        f"exact for 2 x 2 tables; larger tables: Monte-Carlo estimate from {FISHER_RESAMPLES:,} "
        f"random tables with the observed margins, seed {FISHER_SEED}"
    )


def contingency_test(table, fisher: str = "auto") -> ContingencyTest:
    """Pearson chi-square plus Fisher's p (``fisher``: ``"auto"`` if expected < 5, ``"always"``).

    Notes
    -----
    R: ``chisq.test(x, correct = FALSE)`` and ``fisher.test(x)``.
    """
    t = np.asarray(table)
    # Counts repeat across bands, terms and filter clicks: cache by the table's content.
    return _contingency_cached(tuple(t.ravel().tolist()), t.shape, fisher)


@lru_cache(maxsize=4096)
def _contingency_cached(cells: tuple, shape: tuple, fisher: str) -> ContingencyTest:
    table = np.asarray(cells, dtype=float).reshape(shape)
    stat, df, p, min_expected = pearson_chi2(table)
    low = bool(min_expected < 5) if np.isfinite(min_expected) else False
    fisher_p, fisher_method = np.nan, ""
    if np.isfinite(stat) and (low or fisher == "always"):
        fisher_p, fisher_method = fisher_exact_p(table)
    return ContingencyTest(stat, df, p, min_expected, low, fisher_p, fisher_method)


def student_t(x: np.ndarray, y: np.ndarray) -> HypothesisTest:
    """Student's two-sample t-test assuming equal variances (statistic = mean(x) - mean(y) side).

    Notes
    -----
    SPSS "Equal variances assumed" row; R ``t.test(x, y, var.equal = TRUE)``.
    """
    n1, n2 = len(x), len(y)
    df = n1 + n2 - 2
    if n1 < 1 or n2 < 1 or df < 1:
        return NO_TEST
    pooled = (
        (n1 - 1) * np.var(x, ddof=1 if n1 > 1 else 0)
        + (n2 - 1) * np.var(y, ddof=1 if n2 > 1 else 0)
    ) / df
    se = np.sqrt(pooled * (1 / n1 + 1 / n2))
    if not se > 0:
        return NO_TEST
    t = (np.mean(x) - np.mean(y)) / se
    return HypothesisTest("t-test", float(t), float(df), float(2 * special.stdtr(df, -abs(t))))


def _average_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    return (upper - (counts - 1) / 2.0)[inverse], counts


def mann_whitney_spss(x: np.ndarray, y: np.ndarray) -> HypothesisTest:
    """Mann-Whitney U test reported as SPSS does: Z from the smaller U, tie-corrected.

    The statistic is Z = (min(U1, U2) - n1 n2 / 2) / sigma, so it is never positive;
    sigma is corrected for ties and no continuity correction is applied.

    Notes
    -----
    SPSS NPAR TESTS /M-W (asymptotic); R ``wilcox.test(x, y, exact = FALSE, correct = FALSE)``
    gives the same p-value.
    """
    n1, n2 = len(x), len(y)
    if n1 < 1 or n2 < 1:
        return NO_TEST
    ranks, ties = _average_ranks(np.concatenate([x, y]))
    n = n1 + n2
    u1 = ranks[:n1].sum() - n1 * (n1 + 1) / 2.0
    u = min(u1, n1 * n2 - u1)
    tie_term = (ties**3 - ties).sum() / (n * (n - 1)) if n > 1 else 0.0
    sigma = np.sqrt(n1 * n2 / 12.0 * ((n + 1) - tie_term))
    if not sigma > 0:
        return NO_TEST
    z = (u - n1 * n2 / 2.0) / sigma
    return HypothesisTest("Mann-Whitney U", float(z), np.nan, float(2 * special.ndtr(-abs(z))))


def anova_oneway(groups: list[np.ndarray]) -> HypothesisTest:
    """One-way ANOVA F test (equal variances). R: ``oneway.test(y ~ g, var.equal = TRUE)``."""
    groups = [g for g in groups if len(g) > 0]
    k, n = len(groups), sum(len(g) for g in groups)
    if k < 2 or n - k < 1:
        return NO_TEST
    grand = np.concatenate(groups).mean()
    between = sum(len(g) * (g.mean() - grand) ** 2 for g in groups) / (k - 1)
    within = sum(((g - g.mean()) ** 2).sum() for g in groups) / (n - k)
    if not within > 0:
        return NO_TEST
    f = between / within
    return HypothesisTest("ANOVA", float(f), float(k - 1), float(special.fdtrc(k - 1, n - k, f)))


def kruskal_wallis(groups: list[np.ndarray]) -> HypothesisTest:
    """Kruskal-Wallis H test, tie-corrected. R: ``kruskal.test(y ~ g)``."""
    groups = [g for g in groups if len(g) > 0]
    if len(groups) < 2:
        return NO_TEST
    ranks, ties = _average_ranks(np.concatenate(groups))
    n = len(ranks)
    bounds = np.cumsum([0] + [len(g) for g in groups])
    h = sum(ranks[a:b].sum() ** 2 / (b - a) for a, b in zip(bounds[:-1], bounds[1:], strict=True))
    h = 12.0 / (n * (n + 1)) * h - 3 * (n + 1)
    correction = 1 - (ties**3 - ties).sum() / (n**3 - n)
    if not correction > 0:
        return NO_TEST
    h /= correction
    df = len(groups) - 1
    return HypothesisTest("Kruskal-Wallis", float(h), float(df), float(special.chdtrc(df, h)))


def is_normal(x: np.ndarray, alpha: float = 0.05, seed: int = FISHER_SEED) -> bool:
    """Shapiro-Wilk normality decision: True when p >= ``alpha``.

    Fewer than 3 values or all values equal: False (no evidence of normality, so the
    nonparametric summary is used). More than 5,000 values: the test is run on a random
    subsample of 5,000 drawn with a fixed seed (scipy's p-value is only accurate up to 5,000).

    ``x`` must be finite (Table 1 passes the observed values of a validated column); a NaN or
    infinite value raises ``ValueError`` rather than being dropped silently.

    Notes
    -----
    ``scipy.stats.shapiro`` (public API); R: ``shapiro.test(x)`` (also limited to 5,000 values).
    """
    x = np.asarray(x, dtype=float)
    if not np.isfinite(x).all():
        raise ValueError("is_normal needs finite values; drop missing values before calling it.")
    if len(x) < 3 or np.ptp(x) == 0:
        return False
    if len(x) > SHAPIRO_MAX_N:
        x = np.random.default_rng(seed).choice(x, SHAPIRO_MAX_N, replace=False)
    return bool(stats.shapiro(x).pvalue >= alpha)


def spss_quartiles(x: np.ndarray) -> np.ndarray:
    """Q1, median, Q3 as SPSS computes them (weighted average at (n + 1) p).

    Notes
    -----
    numpy ``method="weibull"``; R ``quantile(x, type = 6)``.
    """
    n = len(x)
    if n == 0:
        return np.full(3, np.nan)
    xs = np.sort(x)
    pos = np.clip(np.array([0.25, 0.5, 0.75]) * (n + 1) - 1, 0, n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    return xs[lo] + (pos - lo) * (xs[hi] - xs[lo])


def clopper_pearson(k, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) binomial confidence interval for k / n, vectorised.

    Notes
    -----
    R: ``binom.test(k, n)$conf.int``.
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    a = (1 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, special.betaincinv(k, n - k + 1, a), 0.0)
        high = np.where(k < n, special.betaincinv(k + 1, n - k, 1 - a), 1.0)
    bad = ~(n > 0)
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def wilson(k, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k / n (no continuity correction), vectorised.

    Notes
    -----
    R: ``prop.test(k, n, correct = FALSE)$conf.int``.
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    z = special.ndtri(1 - (1 - level) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def newcombe_difference(k1, n1, k2, n2, level: float = 0.95):
    """Difference p1 - p2 with Newcombe's hybrid score interval (method 10), vectorised.

    Returns ``(difference, low, high)``.

    Notes
    -----
    Newcombe (1998) Stat Med 17:873, method 10, from two Wilson intervals;
    R ``DescTools::BinomDiffCI(k1, n1, k2, n2, method = "score")``.
    """
    k1, n1, k2, n2 = (np.asarray(v, dtype=float) for v in (k1, n1, k2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, level)
    l2, u2 = wilson(k2, n2, level)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


def smd_continuous(m1: float, s1: float, m2: float, s2: float) -> float:
    """Absolute SMD |m1 - m2| / sqrt((s1^2 + s2^2) / 2). R: ``tableone::ExtractSmd``."""
    denom = np.sqrt((s1**2 + s2**2) / 2.0)
    if not np.isfinite(denom):
        return np.nan
    if denom == 0:
        return 0.0 if m1 == m2 else np.inf
    return float(abs(m1 - m2) / denom)


def smd_categorical(p1: np.ndarray, p2: np.ndarray) -> float:
    """Multi-level SMD of Yang and Dalton (2012) from two vectors of level proportions.

    sqrt((T - C)' S^-1 (T - C)) over all levels but the first, with S the average of the
    two multinomial covariance matrices; a generalised inverse handles singular S.

    Notes
    -----
    As R ``tableone`` (``StdDiffMulti``, which uses ``MASS::ginv``).
    """
    t, c = np.asarray(p1, dtype=float)[1:], np.asarray(p2, dtype=float)[1:]
    if t.size == 0 or not (np.all(np.isfinite(t)) and np.all(np.isfinite(c))):
        return np.nan
    if t.size == 1:
        # Binary variable: the closed form, without a matrix inverse.
        denom = np.sqrt((t[0] * (1 - t[0]) + c[0] * (1 - c[0])) / 2.0)
        return float(abs(t[0] - c[0]) / denom) if denom > 0 else (0.0 if t[0] == c[0] else np.inf)
    s = (np.diag(t) - np.outer(t, t) + np.diag(c) - np.outer(c, c)) / 2.0
    diff = t - c
    if not np.any(diff):
        return 0.0
    value = float(diff @ np.linalg.pinv(s) @ diff)
    return float(np.sqrt(max(value, 0.0)))


def max_pairwise(values: list, func) -> float:
    """Largest ``func(a, b)`` over all pairs of ``values`` (NaN if fewer than two)."""
    out = [
        func(values[i], values[j]) for i in range(len(values)) for j in range(i + 1, len(values))
    ]
    out = [v for v in out if np.isfinite(v)]
    return float(max(out)) if out else np.nan
