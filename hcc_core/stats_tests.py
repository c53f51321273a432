"""Small, fast statistical tests shared by Table 1, response and adverse-event tables.

Plain numpy on counts and arrays, so the dashboard can recompute every table on each
filter click. Each helper is cross-checked against scipy or R in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special

from .i18n import _

__all__ = [
    "FISHER_RESAMPLES",
    "FISHER_SEED",
    "FISHER_EXACT_MAX_WORK",
    "SHAPIRO_MAX_N",
    "ContingencyTest",
    "CONTINGENCY_COLUMNS",
    "HypothesisTest",
    "pearson_chi2",
    "fisher_exact_p",
    "fisher_test",
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
# Work limit of the exact r x c network search (partial tables expanded plus final splits
# enumerated). Every table in the R fixtures that R's fisher.test computes exactly with its
# default workspace needs at most ~2.9 million (a 5 x 5 table of 60 patients, ~10 s here);
# 2 x c and r x 2 tables of a few hundred patients need well under 1 million (< 1 s).
FISHER_EXACT_MAX_WORK = 3_000_000
# tol of R's FEXACT: a table counts when log P <= log P(observed) + tol
_FEXACT_TOL = 3.45254e-7
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
    fisher_se: float = np.nan  # Monte-Carlo standard error of fisher_p (NaN when exact)

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
    "fisher_se",
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


def _even_max(s: np.ndarray, m, lgf: np.ndarray) -> np.ndarray:
    """Largest sum of -log x! over m cells adding up to s (spread evenly); 0 when m = 0."""
    m = np.asarray(m)
    mm = np.maximum(m, 1)
    q, r = s // mm, s % mm
    v = -((mm - r) * lgf[q] + r * lgf[np.minimum(q + 1, lgf.size - 1)])
    return np.where(m > 0, v, 0.0)


def _compositions(caps: np.ndarray, total: int) -> np.ndarray:
    """Every integer vector y with 0 <= y <= caps and sum(y) = total (one per row)."""
    y = np.zeros((1, caps.size), dtype=np.int64)
    rem = np.array([total])
    for i in range(caps.size):
        lo = np.maximum(0, rem - caps[i + 1 :].sum())
        hi = np.minimum(caps[i], rem)
        idx, x = _expand(lo, hi)
        y = y[idx]
        y[:, i] = x
        rem = rem[idx] - x
    return y


def _expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parent index and value for every integer in [lo, hi] of every parent."""
    nch = hi - lo + 1
    idx = np.repeat(np.arange(lo.size), nch)
    return idx, lo[idx] + np.arange(idx.size) - np.repeat(np.cumsum(nch) - nch, nch)


class _OverBudget(Exception):
    pass


class _Network:
    """Fisher's exact p for an r x c table by a network algorithm (Mehta and Patel 1983).

    Columns are filled one cell at a time. A partial table is a node (the remaining row sums,
    sorted at column ends since rows are then exchangeable) plus its past log-probability;
    equal (node, past) pairs are merged. Bounds on the best and worst completion decide
    whether all of a node's completions are as or less probable than the observed table
    (summed in closed form), none are (dropped), or it must be expanded. The last two columns
    are finished node by node: every split of the rows between them is enumerated once and
    searched with each past value.
    """

    def __init__(self, t: np.ndarray, max_work: int):
        if t.shape[0] > t.shape[1]:
            t = t.T  # fewer rows: fewer ways to fill a column
        self.r, self.c = t.shape
        self.cs = np.sort(t.sum(axis=0))[::-1]
        rs = t.sum(axis=1)
        n = int(rs.sum())
        self.n = n
        self.lgf = lgf = special.gammaln(np.arange(n + 2) + 1.0)
        self.obs = -lgf[t].sum() + _FEXACT_TOL
        self.const = lgf[rs].sum() + lgf[self.cs].sum() - lgf[n]
        self.rs = rs
        cs = self.cs

        def later(v):  # sums over the columns after each column
            return np.concatenate([np.cumsum(v[::-1])[::-1][1:], [0]])

        self.g_later = later(_even_max(cs, np.full(self.c, self.r), lgf))
        self.sp_later = later(-lgf[cs])
        self.n_later = later(cs)
        self.lgc_later = later(lgf[cs])
        self.work, self.max_work = 0, max_work

    def _spend(self, amount: int) -> None:
        self.work += int(amount)
        if self.work > self.max_work:
            raise _OverBudget

    def p_value(self) -> float:
        r, c, lgf, cs = self.r, self.c, self.lgf, self.cs
        S = np.sort(self.rs)[None, :].astype(np.int64)
        rem, past, cnt = np.array([cs[0]]), np.zeros(1), np.ones(1)
        total = 0.0
        for k in range(c - 2):
            for i in range(r):
                lo = np.maximum(0, rem - S[:, i + 1 :].sum(axis=1))
                hi = np.minimum(S[:, i], rem)
                self._spend((hi - lo + 1).sum())
                idx, x = _expand(lo, hi)
                S, cnt = S[idx], cnt[idx]
                S[:, i] -= x
                rem, past = rem[idx] - x, past[idx] - lgf[x]
                kk, ii = (k + 1, 0) if i == r - 1 else (k, i + 1)
                if i == r - 1:
                    S.sort(axis=1)
                    rem = np.full(rem.size, cs[kk])
                if kk == c - 2 and ii == 0:
                    break
                mass, keep = self._classify(S, rem, past, cnt, kk, ii)
                total += mass
                S, rem, past, cnt = self._merge(S[keep], rem[keep], past[keep], cnt[keep])
                if rem.size == 0:
                    return min(1.0, total)
        return min(1.0, total + self._last_two(S, past, cnt))

    def _classify(self, S, rem, past, cnt, k, i):
        """Mass of nodes all of whose completions count, and the mask of undecided ones."""
        r, c, lgf = self.r, self.c, self.lgf
        later = c - k - 1  # whole columns after the current one
        by_column = _even_max(rem, r - i, lgf) + self.g_later[k]
        cells = np.where(np.arange(r) < i, later, later + 1)
        by_row = _even_max(S, cells[None, :], lgf).sum(axis=1)
        best = np.minimum(by_column, by_row)  # upper bound of the most probable completion
        worst = np.maximum(-lgf[rem] + self.sp_later[k], -lgf[S].sum(axis=1))  # lower bound
        every = past + best <= self.obs
        mass = 0.0
        if every.any():
            Sa, ra = S[every], rem[every]
            tail = Sa[:, i:].sum(axis=1)
            # sum over completions of prod 1/x!: multinomial count with Vandermonde's identity
            log_total = (
                lgf[self.n_later[k]]
                - self.lgc_later[k]
                - lgf[Sa].sum(axis=1)
                + lgf[tail]
                - lgf[ra]
                - lgf[tail - ra]
            )
            mass = float(np.sum(cnt[every] * np.exp(self.const + past[every] + log_total)))
        return mass, ~every & (past + worst <= self.obs)

    def _merge(self, S, rem, past, cnt):
        if rem.size < 2:
            return S, rem, past, cnt
        node = rem.astype(np.int64)
        for j in range(self.r):
            node = node * (self.n + 1) + S[:, j]
        pkey = np.round(past * 1e8).astype(np.int64)
        order = np.lexsort((pkey, node))
        a, b = node[order], pkey[order]
        new = np.concatenate(([True], (a[1:] != a[:-1]) | (b[1:] != b[:-1])))
        if new.all():
            return S, rem, past, cnt
        cnt = np.bincount(np.cumsum(new) - 1, weights=cnt[order])
        first = order[new]
        return S[first], rem[first], past[first], cnt

    def _last_two(self, S, past, cnt) -> float:
        lgf, ca = self.lgf, self.cs[self.c - 2]
        node = np.zeros(S.shape[0], dtype=np.int64)
        for j in range(self.r):
            node = node * (self.n + 1) + S[:, j]
        order = np.argsort(node, kind="stable")
        total = 0.0
        for grp in np.split(order, np.flatnonzero(np.diff(node[order])) + 1):
            caps = S[grp[0]]
            y = _compositions(caps, ca)
            self._spend(y.shape[0])
            v = np.sort(-(lgf[y].sum(axis=1) + lgf[caps[None, :] - y].sum(axis=1)))
            cum = np.cumsum(np.exp(v - v[-1]))
            pos = np.searchsorted(v, self.obs - past[grp], side="right")
            got = np.where(pos > 0, cum[np.maximum(pos - 1, 0)], 0.0)
            total += float(np.sum(cnt[grp] * got * np.exp(self.const + past[grp] + v[-1])))
        return total


def _fisher_network(t: np.ndarray, max_work: int = FISHER_EXACT_MAX_WORK) -> float | None:
    """Exact r x c Fisher p as R's FEXACT, or None when the search exceeds ``max_work``."""
    try:
        return _Network(t.astype(np.int64), max_work).p_value()
    except _OverBudget:
        return None


def _fisher_monte_carlo(t: np.ndarray, n_resamples: int, seed: int) -> tuple[float, float]:
    """Monte-Carlo Fisher p ((1 + hits) / (B + 1)) and its standard error."""
    from scipy import stats  # here, not at import: scipy.stats adds ~0.5 s to a server's start

    sims = stats.random_table(t.sum(axis=1), t.sum(axis=0)).rvs(
        size=n_resamples, method="patefield", random_state=np.random.default_rng(seed)
    )
    # R's statistic: -sum(log x!) ; a table is "as or more extreme" if no more probable.
    observed = -special.gammaln(t + 1).sum()
    simulated = -special.gammaln(sims + 1).sum(axis=(1, 2))
    almost_one = 1 + 64 * np.finfo(float).eps
    p = float((1 + np.sum(simulated <= observed / almost_one)) / (n_resamples + 1))
    return p, float(np.sqrt(p * (1 - p) / n_resamples))


def fisher_test(
    table, n_resamples: int = FISHER_RESAMPLES, seed: int = FISHER_SEED
) -> tuple[float, str, float]:
    """Fisher's exact test: ``(p_value, method, monte_carlo_se)``.

    ``method`` is ``"exact"`` (SE NaN) or, for a table too large for the exact search
    (more than ``FISHER_EXACT_MAX_WORK`` steps), ``"monte-carlo"`` with its standard error.
    NaN, ``""`` and NaN when the table has fewer than two non-empty rows or columns.

    Notes
    -----
    2 x 2: the two-sided sum of hypergeometric probabilities no larger than the observed one,
    R ``fisher.test(x)``. Larger tables: a network algorithm summing the probabilities of all
    tables with the observed margins that are no more probable than the observed one (R's
    FEXACT rule and tolerance), equal to R ``fisher.test(x)`` wherever R computes it with its
    default workspace (and beyond). Too large for that: ``n_resamples`` tables drawn with the
    observed margins (Patefield's algorithm, fixed seed), as R ``fisher.test(x,
    simulate.p.value = TRUE, B = n_resamples)`` with a different random stream.
    """
    t = _reduce(table)
    if t.shape[0] < 2 or t.shape[1] < 2:
        return np.nan, "", np.nan
    if t.shape == (2, 2):
        return _fisher_2x2(t), "exact", np.nan
    p = _fisher_network(t)
    if p is not None:
        return p, "exact", np.nan
    p, se = _fisher_monte_carlo(t, int(n_resamples), int(seed))
    return p, "monte-carlo", se


def fisher_exact_p(
    table, n_resamples: int = FISHER_RESAMPLES, seed: int = FISHER_SEED
) -> tuple[float, str]:
    """Fisher's exact test p-value and method: ``fisher_test`` without the Monte-Carlo SE.

    Returns ``(p_value, method)``, method ``"exact"`` (R ``fisher.test(x)``, any table size up
    to ``FISHER_EXACT_MAX_WORK``) or ``"monte-carlo"`` beyond it (see ``fisher_test``).
    """
    p, method, _ = fisher_test(table, n_resamples, seed)
    return p, method


def fisher_note(larger_tables: bool, monte_carlo_se=None) -> str:
    """How Fisher's p was obtained, for footnotes.

    ``larger_tables``: some table is larger than 2 x 2. ``monte_carlo_se``: the standard
    errors of the p-values that had to be estimated by Monte-Carlo (NaN entries = exact).
    """
    se = np.asarray([] if monte_carlo_se is None else monte_carlo_se, dtype=float).ravel()
    se = se[np.isfinite(se)]
    if not larger_tables and se.size == 0:
        return _("exact")
    if not se.size:
        return _(
            "exact: hypergeometric for 2 x 2 tables, network algorithm for larger ones "
            "(as R fisher.test)"
        )
    return _(
        "exact: hypergeometric for 2 x 2 tables, network algorithm for larger ones "
        "(as R fisher.test); tables too large for the exact search: Monte-Carlo estimate from "
        "{n} random tables with the observed margins (seed {seed}), standard error up to {se}"
    ).format(n=f"{FISHER_RESAMPLES:,}", seed=FISHER_SEED, se=f"{se.max():.4f}")


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
    fisher_p, fisher_method, fisher_se = np.nan, "", np.nan
    if np.isfinite(stat) and (low or fisher == "always"):
        fisher_p, fisher_method, fisher_se = fisher_test(table)
    return ContingencyTest(stat, df, p, min_expected, low, fisher_p, fisher_method, fisher_se)


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
    from scipy import stats  # here, not at import: scipy.stats adds ~0.5 s to a server's start

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
