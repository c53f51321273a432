"""Propensity scores: the PS model, weights, matching, covariate balance and the E-value.

The PS model is a logistic regression fitted by R ``glm.fit``'s own iteration (IRLS from
``mustart = (y + 0.5) / 2``, stop when the relative change in deviance is below 1e-8, at most
25 iterations), so coefficients agree with R to rounding. Covariates are encoded by the Cox
model's design-matrix code (the same names, derived ones included, complete cases). Matching is
a transcription of MatchIt 4.5's ``nn_matchC_vec`` (nearest neighbour on the logit of the PS,
without replacement, largest PS first, caliper in SDs of the logit). Balance follows cobalt's
``bal.tab(binary = "std", s.d.denom = "pooled")``. Checked against R in
``tests/test_propensity.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg

from . import schema
from .cox.design import PAPER_COX_COVARIATES, _design, _encode, _order_levels, term_label
from .errors import CohortError
from .i18n import N_, _
from .matching import match_columns, nearest_match

__all__ = [
    "PropensityResult",
    "PAPER_PS_COVARIATES",
    "METHODS",
    "fit_propensity",
    "e_value",
]

# The paper's multivariable model without the treatment itself.
PAPER_PS_COVARIATES: tuple[str, ...] = tuple(
    c for c in PAPER_COX_COVARIATES if c != schema.TREATMENT_GROUP
)
METHODS: dict[str, str] = {
    "iptw": N_("Inverse probability of treatment weighting"),
    "overlap": N_("Overlap weighting"),
    "match": N_("Nearest-neighbour matching"),
}
_ESTIMANDS = {"iptw": ("ATE", "ATT"), "overlap": ("ATO",), "match": ("ATT",)}
ESTIMAND_TEXT: dict[str, str] = {
    "ATE": "average treatment effect in the whole cohort (ATE)",
    "ATT": "average treatment effect in the treated (ATT)",
    "ATO": "average treatment effect in the overlap population (ATO)",
}
SMD_THRESHOLD = 0.1
C_STAT_THRESHOLD = 0.8
EXTREME_WEIGHT = 10.0  # a weight above 10 times its group's mean weight
_GLM_EPS, _GLM_MAXIT = 1e-8, 25  # glm.control()
_DBL_EPS = np.finfo(float).eps
_BALANCE_COLUMNS = ["label", "binary", "smd_before", "smd_after", "vr_before", "vr_after"]


@dataclass(frozen=True)
class PropensityResult:
    """A propensity-score analysis.

    Attributes
    ----------
    data : the analysed rows (the input's columns plus ``ps``, ``ps_logit``, ``weight`` and, for
        matching, ``subclass``); trimmed and unmatched rows are not in it.
    balance : indexed by term (``age``, ``sex[F]``, every level of a 3+ level factor) with
        ``label, binary, smd_before, smd_after, vr_before, vr_after`` (variance ratios treated /
        control, NaN for binary terms).
    ess : indexed by group label with ``n_before, n_after, sum_weights, min_weight,
        max_weight, ess``.
    model : the PS model's ``coef, se, odds_ratio`` indexed by term (``(Intercept)`` first).
    scores : every patient in the PS model (the input's index): ``group, ps, ps_logit,
        weight`` (weight 0 when trimmed or unmatched).
    """

    data: pd.DataFrame
    scores: pd.DataFrame
    balance: pd.DataFrame
    ess: pd.DataFrame
    model: pd.DataFrame
    treatment: str
    treated: str
    control: str
    covariates: tuple[str, ...]
    method_key: str
    estimand: str
    c_statistic: float
    caliper_logit: float  # NaN when not matching or without a caliper
    n_input: int
    n_excluded: int  # missing treatment or covariate
    n_trimmed: int
    n_unmatched: int
    converged: bool
    iterations: int
    notes: tuple[str, ...]
    warnings: tuple[str, ...]
    method: str

    @property
    def estimand_text(self) -> str:
        """The estimand in words."""
        return ESTIMAND_TEXT[self.estimand]

    @property
    def overlap(self) -> tuple[float, float]:
        """Common support: the PS range both groups reach (lower, upper); NaN if none."""
        g = self.scores.groupby("group", sort=False)["ps"]
        lo, hi = float(g.min().max()), float(g.max().min())
        return (lo, hi) if lo <= hi else (np.nan, np.nan)

    @property
    def n_outside_overlap(self) -> int:
        """Patients whose PS lies outside the common support."""
        lo, hi = self.overlap
        ps = self.scores["ps"]
        return int(len(ps) if np.isnan(lo) else ((ps < lo) | (ps > hi)).sum())

    def ps_histogram(self, bins: int = 20) -> pd.DataFrame:
        """PS counts per group in ``bins`` equal bins over [0, 1]: ``group, bin_start,
        bin_end, count`` (all patients in the PS model, before weighting)."""
        edges = np.linspace(0.0, 1.0, bins + 1)
        rows = []
        for group in (self.treated, self.control):
            ps = self.scores.loc[self.scores["group"] == group, "ps"].to_numpy()
            counts, _ = np.histogram(ps, bins=edges)
            rows.append(
                pd.DataFrame(
                    {"group": group, "bin_start": edges[:-1], "bin_end": edges[1:], "count": counts}
                )
            )
        return pd.concat(rows, ignore_index=True)


# ---- PS model: R glm.fit(family = binomial()) ---------------------------------------------------
def _linkinv(eta: np.ndarray) -> np.ndarray:
    """binomial()$linkinv (R's C logit_linkinv, with its +-30 thresholds)."""
    t = np.where(
        eta < -30, _DBL_EPS, np.where(eta > 30, 1 / _DBL_EPS, np.exp(np.clip(eta, -30, 30)))
    )
    return t / (1 + t)


def _mu_eta(eta: np.ndarray) -> np.ndarray:
    e = np.exp(np.clip(eta, -30, 30))
    return np.where(np.abs(eta) > 30, _DBL_EPS, e / (1 + e) ** 2)


def _deviance(y: np.ndarray, mu: np.ndarray) -> float:
    return float(-2 * np.sum(np.where(y == 1, np.log(mu), np.log1p(-mu))))


def _glm_logit(X: np.ndarray, y: np.ndarray):
    """IRLS as R ``glm.fit``: (coef, vcov, fitted eta, iterations, converged).

    The covariance is R's ``summary.glm`` one: from the weights of the last iteration (before its
    update), as R keeps the QR decomposition of that step.
    """
    mu = (y + 0.5) / 2
    eta = np.log(mu / (1 - mu))
    dev_old = _deviance(y, mu)
    converged, iters = False, 0
    for iters in range(1, _GLM_MAXIT + 1):  # noqa: B007 (the count is returned)
        me = _mu_eta(eta)
        z = eta + (y - mu) / me
        w = np.sqrt(me**2 / (mu * (1 - mu)))
        q, r = np.linalg.qr(X * w[:, None])
        beta = linalg.solve_triangular(r, q.T @ (z * w))
        eta = X @ beta
        mu = _linkinv(eta)
        dev = _deviance(y, mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < _GLM_EPS:
            converged = True
            break
        dev_old = dev
    rinv = linalg.solve_triangular(r, np.eye(r.shape[0]))
    return beta, rinv @ rinv.T, eta, iters, converged


def _c_statistic(ps: np.ndarray, z: np.ndarray) -> float:
    """Area under the ROC curve of the PS (Mann-Whitney form, ties count one half)."""
    from scipy import stats  # here, not at import: scipy.stats adds ~0.5 s to a server's start

    r = stats.rankdata(ps)
    n1, n0 = z.sum(), (1 - z).sum()
    return float((r[z == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


# ---- weights and matching -----------------------------------------------------------------------
def _weights(ps: np.ndarray, z: np.ndarray, method: str, estimand: str, stabilize: bool):
    if method == "overlap":
        return np.where(z == 1, 1 - ps, ps)
    if estimand == "ATT":
        return np.where(z == 1, 1.0, ps / (1 - ps))
    pt = z.mean() if stabilize else 1.0
    pc = 1 - z.mean() if stabilize else 1.0
    return np.where(z == 1, pt / ps, pc / (1 - ps))


# ---- balance (cobalt bal.tab, binary = "std", s.d.denom = "pooled") ----------------------------
def _balance_terms(encoded: dict, keep: np.ndarray) -> dict[str, np.ndarray]:
    """Each covariate's balance terms: numeric as is, a 2-level factor as its second level,
    a factor of 3+ levels as every level (cobalt's split of factors)."""
    out = {}
    for c, (is_cat, data, cats, _miss) in encoded.items():
        data = data[keep]
        if not is_cat:
            out[c] = data
            continue
        present = [cats[i] for i in np.flatnonzero(np.bincount(data, minlength=len(cats)))]
        levels = _order_levels(c, present)
        code_of = {cat: i for i, cat in enumerate(cats)}
        for level in levels[1:] if len(levels) == 2 else levels:
            out[f"{c}[{level}]"] = (data == code_of[level]).astype(float)
    return out


def _w_mean(x: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * x) / np.sum(w))


def _w_var(x: np.ndarray, w: np.ndarray) -> float:
    """cobalt's weighted variance: sum(w (x - m)^2) sum(w) / (sum(w)^2 - sum(w^2))."""
    sw = w.sum()
    return float(np.sum(w * (x - _w_mean(x, w)) ** 2) * sw / (sw**2 - np.sum(w**2)))


def _balance(terms: dict, z: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    t, c = z == 1, z == 0
    one = np.ones(z.size)
    rows, names = [], []
    for name, x in terms.items():
        if np.unique(x).size < 2:  # constant here (e.g. filtered on it): dropped from the model
            continue
        names.append(name)
        binary = np.unique(x).size == 2
        if binary:
            s2 = [x[g].mean() * (1 - x[g].mean()) for g in (t, c)]
        else:
            s2 = [np.var(x[g], ddof=1) for g in (t, c)]
        denom = np.sqrt(np.mean(s2))

        def smd(ww, x=x, denom=denom):
            return (_w_mean(x[t], ww[t]) - _w_mean(x[c], ww[c])) / denom

        def vr(ww, x=x, binary=binary):
            # np.divide: a group whose term does not vary (a subgroup filtered on it) gives
            # inf or NaN as in R, not a Python ZeroDivisionError.
            return np.nan if binary else np.divide(_w_var(x[t], ww[t]), _w_var(x[c], ww[c]))

        with np.errstate(divide="ignore", invalid="ignore"):
            rows.append((term_label(name), binary, smd(one), smd(w), vr(one), vr(w)))
    return pd.DataFrame(rows, columns=_BALANCE_COLUMNS, index=pd.Index(names, name="term"))


def _ess_table(z, w_before, w_after, treated, control) -> pd.DataFrame:
    rows = []
    for g in (1, 0):
        wa = w_after[(z == g) & (w_after > 0)]
        rows.append(
            {
                "n_before": int((w_before[z == g] > 0).sum()),
                "n_after": int(wa.size),
                "sum_weights": float(wa.sum()),
                "min_weight": float(wa.min()) if wa.size else np.nan,
                "max_weight": float(wa.max()) if wa.size else np.nan,
                "ess": float(wa.sum() ** 2 / np.sum(wa**2)) if wa.size else np.nan,
            }
        )
    return pd.DataFrame(rows, index=pd.Index([treated, control], name="group"))


def _adjustment_warnings(balance, z, weight, method, names, cstat) -> list[str]:
    """Residual imbalance, extreme weights and poor overlap, in words."""
    treated, control = names
    out: list[str] = []
    bad = balance.index[np.abs(balance["smd_after"]) > SMD_THRESHOLD].tolist()
    if bad:
        out.append(
            _(
                "{n} term(s) remain imbalanced after adjustment (|SMD| > {threshold}): {terms}. "
                "Consider other covariates, a caliper, or an outcome model that also adjusts for "
                "them."
            ).format(n=len(bad), threshold=SMD_THRESHOLD, terms=", ".join(bad))
        )
    if method != "match":
        extreme = []
        for g, name in ((1, treated), (0, control)):
            wg = weight[(z == g) & (weight > 0)]
            if wg.size and wg.max() > EXTREME_WEIGHT * wg.mean():
                extreme.append(
                    _("{group}: largest weight {largest}, mean {mean}").format(
                        group=name, largest=f"{wg.max():.1f}", mean=f"{wg.mean():.2f}"
                    )
                )
        if extreme:
            out.append(
                _(
                    "Extreme weights (above 10 times the group's mean weight; {detail}): a few "
                    "patients dominate the estimate. Consider trimming or overlap weights."
                ).format(detail=_("; ").join(extreme))
            )
    if cstat > C_STAT_THRESHOLD:
        out.append(
            _(
                "The propensity score separates the groups well (c-statistic {c} > {threshold}): "
                "the groups overlap poorly and any adjustment extrapolates."
            ).format(c=f"{cstat:.2f}", threshold=C_STAT_THRESHOLD)
        )
    return out


# ---- public API ---------------------------------------------------------------------------------
def _check_args(method, estimand, ratio, caliper, trim) -> str:
    if method not in METHODS:
        raise CohortError(
            _("Unknown propensity-score method '{method}'; choose one of {methods}.").format(
                method=method, methods=", ".join(METHODS)
            )
        )
    allowed = _ESTIMANDS[method]
    estimand = allowed[0] if estimand is None else str(estimand).upper()
    if estimand not in allowed:
        raise CohortError(
            _(
                "{method} estimates the {allowed}, not the {estimand}. Choose another estimand "
                "or method."
            ).format(
                method=_(METHODS[method]), allowed=_(" or the ").join(allowed), estimand=estimand
            )
        )
    if method == "match" and (int(ratio) != ratio or ratio < 1):
        raise CohortError(
            _("The matching ratio must be a whole number of 1 or more, not {ratio}.").format(
                ratio=ratio
            )
        )
    if caliper is not None and not caliper > 0:
        raise CohortError(
            _("The caliper must be a positive number of SDs, not {caliper}.").format(
                caliper=caliper
            )
        )
    if trim is not None and not 0 < trim < 0.5:
        raise CohortError(
            _("Trimming needs a threshold between 0 and 0.5, not {trim}.").format(trim=trim)
        )
    return estimand


def _treatment(df: pd.DataFrame, treatment: str) -> tuple[np.ndarray, str, str]:
    schema.require_columns(df, [treatment], N_("propensity-score analysis"))
    levels = schema.levels_of(df, treatment)
    if len(levels) != 2:
        found = ", ".join(map(str, levels)) or _("none")
        raise CohortError(
            _(
                "A propensity score compares two treatment groups, but '{column}' has {n} "
                "value(s) here ({found}). Filter the cohort to two groups first."
            ).format(column=treatment, n=len(levels), found=found)
        )
    v = df[treatment]
    z = np.where(v.isna(), np.nan, (v == levels[1]).astype(float))
    return z, str(levels[1]), str(levels[0])


def fit_propensity(
    df: pd.DataFrame,
    covariates=PAPER_PS_COVARIATES,
    *,
    treatment: str = schema.TREATMENT_GROUP,
    method: str = "iptw",
    estimand: str | None = None,
    stabilize: bool = True,
    caliper: float | None = 0.2,
    ratio: int = 1,
    trim: float | None = None,
) -> PropensityResult:
    """Propensity score, weights or matched set, and covariate balance.

    Parameters
    ----------
    df : canonical cohort frame.
    covariates : PS model covariates, named as for ``fit_cox`` (derived ``log10_afp``,
        ``bclc_ab_vs_c`` included); the treatment column itself is ignored if listed.
    treatment : two-level column; its second level (schema order) is "treated".
    method : ``"iptw"`` (inverse probability weights), ``"overlap"`` (overlap weights) or
        ``"match"`` (1:``ratio`` nearest neighbour on the logit of the PS, no replacement).
    estimand : ``"ATE"`` or ``"ATT"`` for IPTW; matching estimates the ATT, overlap weights the
        ATO. None takes the method's first (ATE, ATO, ATT).
    stabilize : ATE weights multiplied by the group's fraction of patients.
    caliper : matching only, in SDs of the logit of the PS (None: no caliper).
    ratio : controls per treated patient when matching.
    trim : drop patients with a PS outside [trim, 1 - trim] (counted in the notes).

    Returns
    -------
    PropensityResult

    Raises
    ------
    CohortError for a treatment without two groups, too few patients, or invalid options.

    Notes
    -----
    R: ``glm(z ~ covariates, family = binomial)``; ``MatchIt::matchit(..., method = "nearest",
    distance = "glm", link = "linear.logit", caliper = 0.2, ratio = 1, replace = FALSE,
    m.order = "largest")``; balance as ``cobalt::bal.tab(binary = "std", s.d.denom =
    "pooled")`` (every level of a factor, the unadjusted sample's pooled SD as denominator).
    """
    estimand = _check_args(method, estimand, ratio, caliper, trim)
    covs = [
        c
        for c in dict.fromkeys([covariates] if isinstance(covariates, str) else covariates)
        if c != treatment
    ]
    if not covs:
        raise CohortError(
            _("A propensity-score model needs at least one covariate; choose some.")
        )
    z_all, treated, control = _treatment(df, treatment)
    has_t = ~np.isnan(z_all)
    encoded = {c: _encode(df, c) for c in covs}
    des = _design(
        {c: (e[0], e[1][has_t], e[2], e[3][has_t]) for c, e in encoded.items()}, int(has_t.sum())
    )
    rows = np.flatnonzero(has_t)[des.keep]
    z = z_all[rows]
    notes = list(des.notes)
    n_missing_t = int((~has_t).sum())
    if n_missing_t:
        notes.insert(
            0,
            _("{n} patient(s) without a treatment group were excluded.").format(n=n_missing_t),
        )
    n1, n0 = int(z.sum()), int(z.size - z.sum())
    if min(n1, n0) < 2 or not des.terms:
        raise CohortError(
            _(
                "The propensity-score model needs at least two patients in each group and one "
                "covariate that varies; after excluding missing values there are {n1} "
                "({treated}) and {n0} ({control}). Relax the filters or choose other covariates."
            ).format(n1=n1, treated=treated, n0=n0, control=control)
        )
    X = np.column_stack([np.ones(z.size), des.X])
    beta, vcov, eta, iters, converged = _glm_logit(X, z)
    ps = _linkinv(eta)
    se = np.sqrt(np.diag(vcov))
    model = pd.DataFrame(
        {"coef": beta, "se": se, "odds_ratio": np.exp(beta)},
        index=pd.Index(["(Intercept)", *des.terms], name="term"),
    )
    cstat = _c_statistic(ps, z)
    warnings = []
    if not converged:
        warnings.append(
            _(
                "The propensity-score model did not converge in {n} iterations; its scores are "
                "unreliable. Remove covariates that separate the groups."
            ).format(n=_GLM_MAXIT)
        )
    if np.any(ps < 10 * _DBL_EPS) or np.any(ps > 1 - 10 * _DBL_EPS):
        warnings.append(
            _(
                "Some fitted propensity scores are numerically 0 or 1: a covariate (or "
                "combination) separates the groups, so those patients have no comparable "
                "counterpart."
            )
        )

    analysed = np.ones(z.size, dtype=bool)
    n_trimmed = 0
    if trim is not None:
        analysed = (ps >= trim) & (ps <= 1 - trim)
        n_trimmed = int((~analysed).sum())
        notes.append(
            _(
                "{n} patient(s) with a propensity score outside [{low}, {high}] were trimmed "
                "(the model was not refitted)."
            ).format(n=n_trimmed, low=f"{trim:g}", high=f"{1 - trim:g}")
        )
    weight = np.zeros(z.size)
    subclass = None
    caliper_logit, n_unmatched = np.nan, 0
    if method == "match":
        sub_rows = np.flatnonzero(analysed)
        zz, lp = z[sub_rows], eta[sub_rows]
        cal = np.inf
        if caliper is not None:
            caliper_logit = cal = float(caliper * np.std(lp, ddof=1))
        matches = nearest_match(lp, zz, int(ratio), cal)
        sc, wt = match_columns(matches, np.flatnonzero(zz == 1), zz.size)
        weight[sub_rows], subclass = wt, np.zeros(z.size, dtype=np.int64)
        subclass[sub_rows] = sc
        n_unmatched = int(((zz == 1) & (wt == 0)).sum())
        n_ctrl_unused = int(((zz == 0) & (wt == 0)).sum())
        cal_text = (
            _("no caliper")
            if caliper is None
            else _("caliper {caliper} SD of the logit = {logit}").format(
                caliper=f"{caliper:g}", logit=f"{caliper_logit:.4f}"
            )
        )
        notes.append(
            _(
                "1:{ratio} nearest-neighbour matching ({caliper}): {matched} of {n} {treated} "
                "patients matched; {unmatched} without a match and {unused} unused {control} "
                "patients are not analysed."
            ).format(
                ratio=int(ratio),
                caliper=cal_text,
                matched=int((zz == 1).sum()) - n_unmatched,
                n=int((zz == 1).sum()),
                treated=treated,
                unmatched=n_unmatched,
                unused=n_ctrl_unused,
                control=control,
            )
        )
        if not (weight[z == 1] > 0).any():
            raise CohortError(
                _(
                    "No patient could be matched within the caliper. Widen the caliper or use "
                    "weighting instead."
                )
            )
    else:
        weight[analysed] = _weights(ps[analysed], z[analysed], method, estimand, stabilize)

    terms = _balance_terms({c: encoded[c] for c in covs}, np.flatnonzero(has_t)[des.keep])
    balance = _balance(terms, z, weight)
    ess = _ess_table(z, np.ones(z.size), weight, treated, control)
    warnings += _adjustment_warnings(balance, z, weight, method, (treated, control), cstat)

    keep_rows = weight > 0
    scores = pd.DataFrame(
        {"group": np.where(z == 1, treated, control), "ps": ps, "ps_logit": eta, "weight": weight},
        index=df.index[rows],
    )
    data = df.iloc[rows[keep_rows]].copy()
    data["ps"], data["ps_logit"], data["weight"] = ps[keep_rows], eta[keep_rows], weight[keep_rows]
    if subclass is not None:
        data["subclass"] = subclass[keep_rows]
    return PropensityResult(
        data=data,
        scores=scores,
        balance=balance,
        ess=ess,
        model=model,
        treatment=treatment,
        treated=treated,
        control=control,
        covariates=tuple(covs),
        method_key=method,
        estimand=estimand,
        c_statistic=cstat,
        caliper_logit=caliper_logit,
        n_input=len(df),
        n_excluded=len(df) - z.size,
        n_trimmed=n_trimmed,
        n_unmatched=n_unmatched,
        converged=converged,
        iterations=iters,
        notes=tuple(notes),
        warnings=tuple(warnings),
        method=_describe(method, estimand, stabilize, caliper, ratio, covs),
    )


def _describe(method, estimand, stabilize, caliper, ratio, covs) -> str:
    if method == "match":
        cal = (
            _("no caliper")
            if caliper is None
            else _("caliper {caliper} SD of the logit").format(caliper=f"{caliper:g}")
        )
        how = _(
            "1:{ratio} nearest-neighbour matching on the logit of the propensity score without "
            "replacement, largest score first, {caliper} (R MatchIt)"
        ).format(ratio=int(ratio), caliper=cal)
    elif method == "overlap":
        how = _("overlap weights (treated 1 - PS, controls PS)")
    elif estimand == "ATT":
        how = _(
            "inverse probability of treatment weights for the ATT (treated 1, controls PS/(1-PS))"
        )
    elif stabilize:
        how = _(
            "inverse probability of treatment weights for the ATE, stabilised by the group "
            "fractions"
        )
    else:
        how = _("inverse probability of treatment weights for the ATE")
    return _(
        "{how}; propensity score from logistic regression (R glm, binomial) on {covariates}; "
        "balance as standardised mean differences with the pooled SD of the unadjusted sample "
        "(cobalt bal.tab, binary = 'std', s.d.denom = 'pooled')."
    ).format(how=how, covariates=", ".join(term_label(c) for c in covs))


def e_value(hr: float, lower: float, upper: float, rare: bool = False) -> tuple[float, float]:
    """E-value of a hazard ratio and of its confidence limit nearest 1.

    Parameters
    ----------
    hr, lower, upper : the hazard ratio and its confidence interval.
    rare : True when the outcome is rare (under ~15% by the end of follow-up): the HR is then
        taken as a risk ratio. Otherwise the common-outcome transformation
        RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)) is used.

    Returns
    -------
    (point, ci): the minimum strength of association (risk-ratio scale) an unmeasured
    confounder would need with both treatment and outcome to explain the estimate away, and to
    move the CI to include 1 (1 when it already does).

    Notes
    -----
    VanderWeele and Ding (Ann Intern Med 2017); R ``EValue::evalues.HR(est, lo, hi, rare)``.
    """
    vals = np.array([hr, lower, upper], dtype=float)
    if not np.all(np.isfinite(vals)) or np.any(vals <= 0) or not lower <= hr <= upper:
        return np.nan, np.nan

    def rr(h: float) -> float:
        return h if rare else (1 - 0.5 ** np.sqrt(h)) / (1 - 0.5 ** np.sqrt(1 / h))

    def ev(r: float) -> float:
        r = 1 / r if r < 1 else r
        return float(r + np.sqrt(r * (r - 1)))

    point = ev(rr(hr))
    ci = 1.0 if lower <= 1 <= upper else ev(rr(upper if hr < 1 else lower))
    return point, ci
