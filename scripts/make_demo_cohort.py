"""Generate ``data/demo_cohort.csv``: a synthetic 95-patient cohort calibrated to the paper.

Xia et al., Hepat Mon. 2026;26(1):e168214 (TACE-resistant HCC, systemic therapy n = 39 vs
local+systemic therapy n = 56). The patients are invented; the generator only makes the
published summary figures come out right. See ``data/README.md`` for every assumption.

Usage::

    .venv/bin/python scripts/make_demo_cohort.py [--out data/demo_cohort.csv]

The script is seeded and deterministic: the same output byte for byte on every run.
It is self-contained on purpose (numpy/pandas/scipy only) so that the demo data never depend
on the engine they are used to check.

Steps
-----
1. Baseline covariates per group by exact counts (categorical) and quantile matching
   (continuous, SPSS quartiles = numpy ``method="weibull"``), then correlated with each
   other by rank (Child-Pugh B among the worst ALBI, BCLC A among the smallest tumours).
2. Best response by exact counts, better response for better prognosis.
3. Survival: a seeded local search over death / progression days (and the pairing of
   enrolment dates to patients) that keeps the structural rules (death counts, PD
   progression at the first assessment, no tied event days) and minimises the distance to
   the published medians, log-rank chi-squares and adjusted Cox hazard ratios.
4. Adverse events: exactly one grade 1-2 event per affected patient, by exact counts.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "data" / "demo_cohort.csv"

SEED = 168214  # the paper's article number
N = {"systemic": 39, "local+systemic": 56}
GROUPS = ("systemic", "local+systemic")

ENROL_FIRST = date(2020, 9, 1)
ENROL_LAST = date(2024, 9, 30)
CENSOR_DATE = date(2024, 12, 31)
DAYS_PER_MONTH = 30.4375

# Assumption (not reported): split of the 56 local+systemic patients.
MODALITY_SPLIT = {"mTACE": 24, "HAIC": 20, "IMRT": 12}

# ---- published targets (Table 1-3 and Results; mirrored in data/published_values.json) ----
AGE = {"systemic": (60.95, 11.18), "local+systemic": (60.43, 10.37)}
MALE = {"systemic": 35, "local+systemic": 48}
CP_B = {"systemic": 9, "local+systemic": 9}
SINGLE = {"systemic": 4, "local+systemic": 4}
BCLC = {"systemic": {"A": 7, "B": 20, "C": 12}, "local+systemic": {"A": 5, "B": 29, "C": 22}}
HEPATITIS = {"systemic": 32, "local+systemic": 45}
AV_FISTULA = {"systemic": 3, "local+systemic": 10}
EXTRAHEPATIC = {"systemic": 9, "local+systemic": 12}
# (minimum, Q1, median, Q3, maximum): quartiles published, extremes assumed.
ALBUMIN = {
    "systemic": (29.0, 36.4, 41.2, 45.3, 51.5),
    "local+systemic": (30.1, 38.28, 43.05, 45.75, 52.0),
}
BILIRUBIN = {
    "systemic": (5.6, 12.2, 19.4, 25.9, 44.0),
    "local+systemic": (6.1, 12.73, 16.15, 21.6, 41.0),
}
ALBI = {"systemic": (-3.0, -2.7, -2.3), "local+systemic": (-3.07, -2.84, -2.45)}
DIAMETER = {"systemic": (1.2, 2.8, 5.1, 7.7, 14.8), "local+systemic": (1.5, 3.73, 6.2, 9.65, 16.5)}
AFP = {
    "systemic": (1.8, 30.8, 182.6, 2227.0, 60000.0),
    "local+systemic": (1.5, 14.33, 157.0, 2587.0, 72000.0),
}
RESPONSE = {
    "systemic": {"CR": 1, "PR": 7, "SD": 11, "PD": 20},
    "local+systemic": {"CR": 3, "PR": 20, "SD": 20, "PD": 13},
}
DEATHS = {"systemic": 23, "local+systemic": 29}
AE_COUNTS = {
    "ae_pain": (0, 5),
    "ae_fever": (0, 4),
    "ae_vomiting": (1, 4),
    "ae_hypertension": (4, 7),
    "ae_hand_foot_syndrome": (1, 4),
    "ae_rash": (4, 6),
    "ae_hypothyroidism": (3, 7),
    "ae_diarrhea": (3, 5),
    "ae_elevated_alt_ast": (2, 3),
    "ae_elevated_bilirubin": (2, 4),
}
# Survival targets and the tolerance each is judged by (the replication tests' tolerances).
TARGETS = {
    "os_median_sys": (14.67, 0.25),
    "os_median_ls": (20.29, 0.25),
    "os_chi2": (4.025, 0.2),
    "os_hr": (0.58, 0.02),
    "os_lo": (0.34, 0.03),
    "os_hi": (0.98, 0.03),
    "pfs_median_sys": (12.03, 0.25),
    "pfs_median_ls": (18.64, 0.25),
    "pfs_chi2": (6.788, 0.2),
    "pfs_hr": (0.51, 0.02),
    "pfs_lo": (0.31, 0.03),
    "pfs_hi": (0.85, 0.03),
    "os_p": (0.042, 0.01),
    "pfs_p": (0.009, 0.005),
}

# mRECIST first assessment 6-12 weeks after the start of systemic therapy (assumption).
FIRST_SCAN = (42, 84)
PD_ANCHOR_DAY = 366  # 12.02 months: the latest day a systemic PD progression can have.
MIN_GAP_PROG_DEATH = 21


# ---------------------------------------------------------------------------- covariates
def _weibull_quartiles(x: np.ndarray) -> np.ndarray:
    return np.quantile(x, [0.25, 0.5, 0.75], method="weibull")


def quantile_matched(n: int, knots: tuple, decimals: int, log: bool = False) -> np.ndarray:
    """Sorted values whose SPSS quartiles equal the knots' middle three, rounded."""
    p = np.arange(1, n + 1) / (n + 1)
    kp = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    kv = np.log(np.array(knots, float)) if log else np.array(knots, float)
    x = np.interp(p, kp, kv)
    x = np.exp(x) if log else x
    target = np.array(knots[1:4], float)
    # Shift the two order statistics around each quartile by the residual error.
    for k, q in enumerate((0.25, 0.5, 0.75)):
        h = (n + 1) * q
        lo, hi = int(np.floor(h)) - 1, int(np.ceil(h)) - 1
        err = target[k] - _weibull_quartiles(x)[k]
        x[lo] += err
        if hi != lo:
            x[hi] += err
    x = np.round(x, decimals)
    return np.sort(x)


def integer_ages(n: int, mean: float, sd: float) -> np.ndarray:
    """Integer ages with sample mean and SD (ddof=1) as close as possible to the targets."""
    z = stats.norm.ppf(np.arange(1, n + 1) / (n + 1))
    z = (z - z.mean()) / z.std(ddof=1)
    a = np.round(mean + sd * z).astype(int)

    def cost(v: np.ndarray) -> float:
        return abs(v.mean() - mean) + abs(v.std(ddof=1) - sd)

    # Greedy single-year moves, then mean-preserving pairs (+1 on one, -1 on another).
    improved = True
    while improved:
        improved = False
        for i in range(n):
            for step in (-1, 1):
                b = a.copy()
                b[i] += step
                if cost(b) < cost(a) - 1e-12:
                    a, improved = b, True
        for i in range(n):
            for j in range(n):
                if i != j:
                    b = a.copy()
                    b[i] += 1
                    b[j] -= 1
                    if cost(b) < cost(a) - 1e-12:
                        a, improved = b, True
    return np.sort(a)


def albi_score(albumin: np.ndarray, bilirubin: np.ndarray) -> np.ndarray:
    return 0.66 * np.log10(bilirubin) - 0.085 * albumin


def pair_albumin_bilirubin(alb: np.ndarray, bil: np.ndarray, target: tuple, rng) -> np.ndarray:
    """Permutation of bilirubin (paired with sorted albumin) hitting the ALBI quartiles."""
    n = len(alb)
    # Start from a mildly inverse pairing: low albumin tends to go with high bilirubin.
    noisy = np.argsort(np.argsort(-np.arange(n) + rng.normal(0, n * 0.45, n)))
    perm = noisy.copy()
    t = np.array(target)

    def cost(pm: np.ndarray) -> float:
        return float(np.sum(((_weibull_quartiles(albi_score(alb, bil[pm])) - t) / t) ** 2))

    c = cost(perm)
    for _ in range(20000):
        i, j = rng.integers(0, n, 2)
        perm[i], perm[j] = perm[j], perm[i]
        c2 = cost(perm)
        if c2 <= c:
            c = c2
        else:
            perm[i], perm[j] = perm[j], perm[i]
        if c < 1e-7:
            break
    return perm


def rank_assign(score: np.ndarray, counts: dict, order: list) -> np.ndarray:
    """Give the lowest ``score`` values the first level of ``order``, and so on, by counts."""
    out = np.empty(len(score), dtype=object)
    idx = np.argsort(score, kind="stable")
    start = 0
    for level in order:
        out[idx[start : start + counts[level]]] = level
        start += counts[level]
    return out


def make_group(group: str, rng) -> pd.DataFrame:
    n = N[group]
    # Latent liver (worse = higher) and tumour burden (bigger = higher) factors.
    liver = rng.normal(size=n)
    burden = rng.normal(size=n)
    df = pd.DataFrame(index=range(n))
    df["treatment_group"] = group
    df["age"] = rng.permutation(integer_ages(n, *AGE[group])).astype(float)
    df["sex"] = rng.permutation(np.array(["M"] * MALE[group] + ["F"] * (n - MALE[group])))

    alb = quantile_matched(n, ALBUMIN[group], 1)
    bil = quantile_matched(n, BILIRUBIN[group], 1)
    perm = pair_albumin_bilirubin(alb, bil, ALBI[group], rng)
    albi = albi_score(alb, bil[perm])
    # Patients with worse latent liver function get the worse ALBI pairs.
    pair_rank = np.argsort(np.argsort(albi))
    pat_rank = np.argsort(np.argsort(liver))
    pair_of_patient = np.argsort(pair_rank)[pat_rank]
    df["albumin_g_l"] = alb[pair_of_patient]
    df["bilirubin_umol_l"] = bil[perm][pair_of_patient]
    df["albi_score"] = np.round(
        albi_score(df["albumin_g_l"].to_numpy(), df["bilirubin_umol_l"].to_numpy()), 4
    )
    df["albi_grade"] = np.where(
        df["albi_score"] <= -2.60, 1, np.where(df["albi_score"] <= -1.39, 2, 3)
    )

    # Child-Pugh B among the sicker livers (ALBI rank plus noise).
    cp_score = df["albi_score"].rank().to_numpy() + rng.normal(0, n * 0.12, n)
    df["child_pugh_class"] = rank_assign(
        cp_score, {"A": n - CP_B[group], "B": CP_B[group]}, ["A", "B"]
    )
    healthy = (df["albumin_g_l"] > 35) & (df["bilirubin_umol_l"] < 34)
    df["child_pugh_score"] = np.where(
        df["child_pugh_class"] == "B", 7, np.where(healthy & (rng.random(n) < 0.8), 5, 6)
    )

    diam = quantile_matched(n, DIAMETER[group], 1)
    d_rank = np.argsort(np.argsort(burden + rng.normal(0, 0.5, n)))
    df["max_tumor_diameter_cm"] = diam[d_rank]
    # BCLC A among the smallest tumours, C weakly among the larger ones.
    b_score = df["max_tumor_diameter_cm"].rank().to_numpy() + rng.normal(0, n * 0.25, n)
    bclc_a = rank_assign(b_score, {"A": BCLC[group]["A"], "X": n - BCLC[group]["A"]}, ["A", "X"])
    rest = np.flatnonzero(bclc_a == "X")
    c_score = burden[rest] + rng.normal(0, 1.2, len(rest))
    bc = rank_assign(c_score, {"B": BCLC[group]["B"], "C": BCLC[group]["C"]}, ["B", "C"])
    bclc = bclc_a.copy()
    bclc[rest] = bc
    df["bclc_stage"] = bclc
    # Single tumours preferably in BCLC A, then the smallest.
    s_score = (
        (bclc != "A") * n + df["max_tumor_diameter_cm"].rank().to_numpy() + rng.normal(0, 3, n)
    )
    df["tumor_number"] = rank_assign(
        s_score, {"single": SINGLE[group], "multiple": n - SINGLE[group]}, ["single", "multiple"]
    )
    # BCLC A with several nodules means every nodule <= 3 cm: swap in small diameters
    # (a swap within the group leaves its quartiles unchanged).
    diam_col = df["max_tumor_diameter_cm"].to_numpy().copy()
    bad = np.flatnonzero((bclc == "A") & (df["tumor_number"] == "multiple") & (diam_col > 3.0))
    pool = np.flatnonzero((bclc != "A") & (diam_col <= 3.0))
    pool = pool[np.argsort(-diam_col[pool], kind="stable")]
    assert len(pool) >= len(bad), "not enough small tumours for BCLC A"
    for i, j in zip(bad, pool[: len(bad)], strict=True):
        diam_col[i], diam_col[j] = diam_col[j], diam_col[i]
    df["max_tumor_diameter_cm"] = diam_col
    afp = quantile_matched(n, AFP[group], 2, log=True)
    a_rank = np.argsort(np.argsort(burden + (bclc == "C") * 0.5 + rng.normal(0, 1.2, n)))
    df["afp_ng_ml"] = afp[a_rank]

    def yes_no(k: int) -> np.ndarray:
        return rng.permutation(np.array(["yes"] * k + ["no"] * (n - k)))

    df["chronic_hepatitis"] = yes_no(HEPATITIS[group])
    df["av_fistula"] = yes_no(AV_FISTULA[group])
    df["extrahepatic_supply"] = yes_no(EXTRAHEPATIC[group])

    if group == "systemic":
        df["local_modality"] = "none"
    else:
        df["local_modality"] = rng.permutation(
            np.concatenate([[m] * k for m, k in MODALITY_SPLIT.items()])
        )
    df["targeted_agent"] = np.where(rng.random(n) < 0.75, "lenvatinib", "sorafenib")
    df["immunotherapy_agent"] = np.where(rng.random(n) < 0.6, "camrelizumab", "tislelizumab")

    # Prognostic index (log-hazard scale, assumed effects) used to seed the survival search.
    df["_prog"] = (
        0.015 * (df["age"] - 60)
        + 0.45 * (df["child_pugh_class"] == "B")
        + 0.45 * (bclc == "C")
        + 0.06 * (df["max_tumor_diameter_cm"] - 6)
        + 0.25 * (np.log10(df["afp_ng_ml"]) - 2.3)
        + 0.6 * (df["albi_score"] + 2.7)
        + 0.2 * (df["tumor_number"] == "multiple")
    )
    resp_score = -df["_prog"].to_numpy() + rng.normal(0, 0.6, n)
    df["best_response"] = rank_assign(-resp_score, RESPONSE[group], ["CR", "PR", "SD", "PD"])
    return df


# ---------------------------------------------------------------------- survival statistics
def km_median(t: np.ndarray, e: np.ndarray) -> float:
    """Smallest time with KM survival <= 0.5 (nan if not reached; inf-guard for S == 0.5)."""
    order = np.lexsort((1 - e, t))
    t, e = t[order], e[order]
    n = len(t)
    at_risk = n - np.arange(n)
    factors = np.where(e == 1, 1 - 1 / at_risk, 1.0)
    s = np.cumprod(factors)
    hit = np.flatnonzero((s <= 0.5 + 1e-12) & (e == 1))
    if len(hit) == 0:
        return float("nan")
    if abs(s[hit[0]] - 0.5) < 1e-9:
        return float("inf")  # S exactly 0.5: R and lifelines disagree; avoid such data.
    return float(t[hit[0]])


def logrank_chi2(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> float:
    ev_times = np.unique(t[e == 1])
    ts = np.sort(t)
    ts1 = np.sort(t[g == 1])
    n = len(t) - np.searchsorted(ts, ev_times, side="left")
    n1 = len(ts1) - np.searchsorted(ts1, ev_times, side="left")
    d = np.bincount(np.searchsorted(ev_times, t[e == 1]), minlength=len(ev_times))
    d1 = np.bincount(np.searchsorted(ev_times, t[(e == 1) & (g == 1)]), minlength=len(ev_times))
    exp1 = d * n1 / n
    var = d * (n1 / n) * (1 - n1 / n) * (n - d) / np.maximum(n - 1, 1)
    return float((d1.sum() - exp1.sum()) ** 2 / var.sum())


def cox_breslow(t: np.ndarray, e: np.ndarray, x: np.ndarray, beta0=None):
    """Cox PH by Newton-Raphson; exact (= Efron = Breslow) when event times are untied."""
    order = np.argsort(-t, kind="stable")
    t, e, x = t[order], e[order], x[order]
    # Risk set of row i: all rows with time >= t_i -> cumulative sums up to the last tie.
    last = np.searchsorted(-t, -t, side="right") - 1
    ev = e == 1
    beta = np.zeros(x.shape[1]) if beta0 is None else beta0.copy()
    xx = x[:, :, None] * x[:, None, :]
    for _ in range(30):
        w = np.exp(x @ beta)
        s0 = np.cumsum(w)[last][ev]
        s1 = np.cumsum(w[:, None] * x, axis=0)[last][ev]
        s2 = np.cumsum(w[:, None, None] * xx, axis=0)[last][ev]
        m = s1 / s0[:, None]
        grad = (x[ev] - m).sum(axis=0)
        info = (s2 / s0[:, None, None] - m[:, :, None] * m[:, None, :]).sum(axis=0)
        step = np.linalg.solve(info, grad)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-9:
            break
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    return beta, se


def cox_design(df: pd.DataFrame) -> np.ndarray:
    """Treatment first, then the paper's eight covariates."""
    return np.column_stack(
        [
            (df["treatment_group"] == "local+systemic").astype(float),
            df["age"],
            (df["sex"] == "F").astype(float),
            (df["child_pugh_class"] == "B").astype(float),
            (df["bclc_stage"] == "C").astype(float),
            df["max_tumor_diameter_cm"],
            (df["tumor_number"] == "multiple").astype(float),
            np.log10(df["afp_ng_ml"]),
            df["albi_score"],
        ]
    )


# --------------------------------------------------------------------------- survival search
class SurvivalState:
    """Days since start of therapy for every patient; observed data derived on demand."""

    def __init__(self, df: pd.DataFrame, rng) -> None:
        self.rng = rng
        self.n = len(df)
        self.g = (df["treatment_group"] == "local+systemic").to_numpy().astype(int)
        self.sys = self.g == 0
        self.resp = df["best_response"].to_numpy()
        self.pd = self.resp == "PD"
        self.good = np.isin(self.resp, ["CR", "PR"])
        self.x = cox_design(df)
        self.x = (self.x - self.x.mean(axis=0)) / self.x.std(
            axis=0
        )  # HRs unchanged for x[:,0] scale
        self.treat_sd = cox_design(df)[:, 0].std()
        # Earliest progression / death without progression for non-PD patients: CR/PR later
        # than SD; in the systemic group not before the PD anchor (the published median).
        self.lo_event = np.where(self.sys, PD_ANCHOR_DAY + 1, np.where(self.good, 168, 112))
        prog = df["_prog"].to_numpy()
        # Enrolment: follow-up (days to the censoring date) evenly spread, per group.
        span = (ENROL_LAST - ENROL_FIRST).days
        self.start = np.zeros(self.n, int)
        for gv in (0, 1):
            idx = np.flatnonzero(self.g == gv)
            offs = np.sort(rng.integers(0, span + 1, len(idx)))
            self.start[idx] = rng.permutation(offs)
        self.cens = (CENSOR_DATE - ENROL_FIRST).days - self.start
        # Systemic PD anchor: the PD patient progressing at the published median PFS.
        self.anchor = -1
        # Initial latent times from a crude parametric model.
        self.prog = np.zeros(self.n, bool)
        self.p_day = np.zeros(self.n, int)
        self.dead = np.zeros(self.n, bool)
        self.t_day = np.zeros(self.n, int)
        scale_os = np.where(self.sys, 560.0, 780.0) * np.exp(-0.6 * prog)
        scale_pfs = (
            np.where(self.sys, 520.0, 640.0) * np.where(self.good, 1.6, 1.0) * np.exp(-0.6 * prog)
        )
        pd_idx = np.flatnonzero(self.pd)
        self.prog[pd_idx] = True
        self.p_day[pd_idx] = rng.choice(
            np.arange(FIRST_SCAN[0], FIRST_SCAN[1] + 1), len(pd_idx), replace=False
        )
        for i in range(self.n):
            if not self.pd[i]:
                p = int(self.lo_prog(i) + rng.exponential(scale_pfs[i]))
                if p < self.cens[i]:
                    self.prog[i], self.p_day[i] = True, p
        sys_pd = np.flatnonzero(self.sys & self.pd & (self.cens > PD_ANCHOR_DAY + 200))
        self.anchor = int(sys_pd[np.argmin(prog[sys_pd])])
        self.p_day[self.anchor] = PD_ANCHOR_DAY
        for gv, name in ((0, "systemic"), (1, "local+systemic")):
            idx = np.flatnonzero(self.g == gv)
            latent = np.array([self.lo_death(i) + rng.exponential(scale_os[i]) for i in idx])
            # The DEATHS[name] patients with the smallest latent/censoring ratio die.
            ratio = latent / np.maximum(self.cens[idx] - self.lo_death(idx) + 1, 1)
            chosen = idx[np.argsort(ratio)[: DEATHS[name]]]
            for i in chosen:
                self.dead[i] = True
                lo, hi = self.lo_death(i), self.cens[i]
                self.t_day[i] = (
                    int(min(max(latent[np.flatnonzero(idx == i)[0]], lo), hi)) if hi >= lo else hi
                )
        self.repair()

    # Lower bounds that encode best response and the systemic median-PFS rule.
    def lo_prog(self, i):
        return self.lo_event[i]

    def lo_death(self, i):
        return np.where(self.prog[i], self.p_day[i] + MIN_GAP_PROG_DEATH, self.lo_event[i])

    def repair(self) -> None:
        """Clip to feasibility: death after progression, everything before censoring."""
        for i in range(self.n):
            if self.prog[i] and not self.pd[i] and self.p_day[i] > self.cens[i]:
                self.prog[i] = False
            if self.dead[i]:
                lo = int(self.lo_death(i))
                if lo > self.cens[i] and self.prog[i] and not self.pd[i]:
                    self.prog[i] = False
                    lo = int(self.lo_death(i))
                self.t_day[i] = min(max(self.t_day[i], lo), self.cens[i])
        # Untie event days (ties would make Efron and Breslow differ): move the tied
        # patient's death (OS tie) or progression (PFS tie) by one day, within its bounds.
        for _ in range(1000):
            tie = None
            for ep, (t, e) in (("os", self.os()), ("pfs", self.pfs())):
                ev = np.flatnonzero(e == 1)
                vals, counts = np.unique(t[ev], return_counts=True)
                if np.any(counts > 1):
                    tie = (ep, int(ev[t[ev] == vals[counts > 1][0]][-1]))
                    break
            if tie is None:
                return
            ep, i = tie
            if ep == "pfs" and self.prog[i]:
                hi = FIRST_SCAN[1] if self.pd[i] else self.cens[i]
                self.p_day[i] += 1 if self.p_day[i] < hi else -1
            else:
                self.t_day[i] += 1 if self.t_day[i] < self.cens[i] else -1

    def feasible(self) -> bool:
        if np.any(self.dead & (self.t_day > self.cens)):
            return False
        if np.any(self.prog & (self.p_day > self.cens)):
            return False
        lo = self.lo_death(np.arange(self.n))
        if np.any(self.dead & (self.t_day < lo)):
            return False
        nonpd_prog = self.prog & ~self.pd
        if np.any(nonpd_prog & (self.p_day < self.lo_event)):
            return False
        os_ev = self.t_day[self.dead]
        if len(np.unique(os_ev)) < len(os_ev):
            return False
        pt, pe = self.pfs()
        pev = pt[pe == 1]
        return len(np.unique(pev)) == len(pev)

    def os(self):
        return np.where(self.dead, self.t_day, self.cens), self.dead.astype(int)

    def pfs(self):
        t = np.where(self.prog, self.p_day, np.where(self.dead, self.t_day, self.cens))
        return t, (self.prog | self.dead).astype(int)

    def evaluate(self) -> dict:
        out = {}
        for ep, (t, e) in (("os", self.os()), ("pfs", self.pfs())):
            m = t / DAYS_PER_MONTH
            out[f"{ep}_median_sys"] = km_median(m[self.sys], e[self.sys])
            out[f"{ep}_median_ls"] = km_median(m[~self.sys], e[~self.sys])
            out[f"{ep}_chi2"] = logrank_chi2(m, e, self.g)
            beta, se = cox_breslow(m, e, self.x)
            b, s = beta[0] / self.treat_sd, se[0] / self.treat_sd
            out[f"{ep}_hr"] = np.exp(b)
            out[f"{ep}_lo"] = np.exp(b - 1.959963984540054 * s)
            out[f"{ep}_hi"] = np.exp(b + 1.959963984540054 * s)
            out[f"{ep}_p"] = 2 * stats.norm.sf(abs(b / s))
        return out

    def order_penalty(self) -> float:
        """Penalty unless mean PFS is CR/PR > SD > PD (by >= 60 days) within each group."""
        t, _ = self.pfs()
        pen = 0.0
        for gv in (0, 1):
            m = self.g == gv
            a, b, c = (
                t[m & self.good].mean(),
                t[m & (self.resp == "SD")].mean(),
                t[m & self.pd].mean(),
            )
            pen += max(0.0, 60 - (a - b)) / 30 + max(0.0, 60 - (b - c)) / 30
        return pen

    def snapshot(self):
        return (
            self.prog.copy(),
            self.p_day.copy(),
            self.dead.copy(),
            self.t_day.copy(),
            self.start.copy(),
            self.cens.copy(),
        )

    def restore(self, snap) -> None:
        self.prog, self.p_day, self.dead, self.t_day, self.start, self.cens = (
            a.copy() for a in snap
        )

    def propose(self) -> None:
        """One random move (may leave the state infeasible; the caller checks)."""
        rng = self.rng
        move = rng.integers(0, 6)
        i = int(rng.integers(0, self.n))
        if move == 0 and self.dead[i]:  # move a death
            lo, hi = int(self.lo_death(i)), int(self.cens[i])
            if hi >= lo:
                self.t_day[i] = int(np.clip(self.t_day[i] + rng.normal(0, 60), lo, hi))
        elif move == 1 and self.prog[i] and not self.pd[i]:  # move a progression
            hi = self.t_day[i] - MIN_GAP_PROG_DEATH if self.dead[i] else self.cens[i]
            lo = int(self.lo_prog(i))
            if hi >= lo:
                self.p_day[i] = int(np.clip(self.p_day[i] + rng.normal(0, 60), lo, hi))
        elif move == 2 and not self.pd[i]:  # toggle a progression
            if self.prog[i]:
                self.prog[i] = False
            else:
                hi = self.t_day[i] - MIN_GAP_PROG_DEATH if self.dead[i] else self.cens[i]
                lo = int(self.lo_prog(i))
                if hi >= lo:
                    self.prog[i], self.p_day[i] = True, int(rng.integers(lo, hi + 1))
        elif move == 3:  # swap vital status with a same-group patient
            same = np.flatnonzero((self.g == self.g[i]) & (self.dead != self.dead[i]))
            if len(same):
                j = int(rng.choice(same))
                a, b = (i, j) if self.dead[i] else (j, i)
                lo, hi = int(self.lo_death(b)), int(self.cens[b])
                if hi >= lo:
                    self.dead[a], self.dead[b] = False, True
                    self.t_day[b] = int(rng.integers(lo, hi + 1))
        elif move == 4 and self.pd[i] and i != self.anchor:  # shift a first-scan progression
            self.p_day[i] = int(rng.integers(FIRST_SCAN[0], FIRST_SCAN[1] + 1))
        elif move == 5:  # swap enrolment dates of two patients (any group)
            j = int(rng.integers(0, self.n))
            self.start[[i, j]] = self.start[[j, i]]
            self.cens[[i, j]] = self.cens[[j, i]]


def loss(stats_: dict) -> float:
    total = 0.0
    for k, (target, tol) in TARGETS.items():
        v = stats_[k]
        if not np.isfinite(v):
            return float("inf")
        total += ((v - target) / tol) ** 2
    return total


def search_survival(
    df: pd.DataFrame, rng, max_iter: int = 40000, verbose: bool = False
) -> SurvivalState:
    st = SurvivalState(df, rng)
    assert st.feasible(), "initial survival state is infeasible"
    cur = loss(st.evaluate()) + st.order_penalty()
    temp = 0.5
    for it in range(max_iter):
        snap = st.snapshot()
        st.propose()
        if not st.feasible():
            st.restore(snap)
            continue
        new = loss(st.evaluate()) + st.order_penalty()
        if new <= cur or rng.random() < np.exp(-(new - cur) / temp):
            cur = new
        else:
            st.restore(snap)
        temp = max(0.5 * (1 - it / (0.6 * max_iter)), 1e-4)
        if verbose and it % 2000 == 0:
            print(f"iter {it}: loss {cur:.4f}", file=sys.stderr)
        if cur < 0.02 and it > 0.6 * max_iter:
            break
    return st


# ---------------------------------------------------------------------------- assembly
def assign_adverse_events(df: pd.DataFrame, rng) -> pd.DataFrame:
    """Exactly one grade 1-2 event per affected patient, with the published counts."""
    for col in AE_COUNTS:
        df[col] = 0
    grade2_share = {
        "ae_pain": 0.4,
        "ae_fever": 0.25,
        "ae_elevated_alt_ast": 0.34,
        "ae_elevated_bilirubin": 0.34,
    }
    for k, group in enumerate(GROUPS):
        idx = rng.permutation(np.flatnonzero(df["treatment_group"].to_numpy() == group))
        # Local-therapy events only where there was local therapy (systemic counts are 0 anyway).
        pos = 0
        for col, counts in AE_COUNTS.items():
            take = idx[pos : pos + counts[k]]
            pos += counts[k]
            n2 = int(round(grade2_share.get(col, 0.0) * len(take)))
            df.loc[take, col] = 1
            df.loc[take[:n2], col] = 2
    return df


def add_competing_columns(df: pd.DataFrame, rng) -> pd.DataFrame:
    """progression_event, death_cause and the start of local therapy (issue 16).

    Drawn from their own random stream after everything else, so the published figures (and
    every other column) are untouched. Assumptions, not reported in the paper: about 1 in 8
    deaths after progression and about 2 in 5 deaths without progression are not HCC-related;
    local therapy starts within a month of systemic therapy for 60% of the local+systemic
    patients, within 1-3 months for 30% and within 3-7 months for 10% (never after death or
    the last follow-up).
    """
    start = pd.to_datetime(df["treatment_start_date"])
    prog = df["progression_date"].fillna("") != ""
    dead = df["death_date"].fillna("") != ""
    pfs_event = pd.to_numeric(df["pfs_event"]) == 1
    df["progression_event"] = np.where(pfs_event, np.where(prog, "1", "0"), "")
    p_other = np.where(prog, 0.12, 0.4)
    other = rng.random(len(df)) < p_other
    df["death_cause"] = np.where(dead, np.where(other, "other", "hcc"), "")
    end = pd.to_datetime(df["last_followup_date"])
    follow_days = (end - start).dt.days.to_numpy()
    band = rng.choice(3, size=len(df), p=[0.6, 0.3, 0.1])
    low, high = np.array([0, 30, 91])[band], np.array([30, 91, 213])[band]
    day = low + np.floor(rng.random(len(df)) * (high - low)).astype(int)
    day = np.maximum(np.minimum(day, follow_days - 1), 0)
    local = (df["treatment_group"] == "local+systemic").to_numpy()
    df["local_start_months"] = np.where(local, np.round(day / DAYS_PER_MONTH, 2), np.nan)
    df["local_start_date"] = [
        (s + timedelta(days=int(d))).date().isoformat() if is_local else ""
        for s, d, is_local in zip(start, day, local, strict=True)
    ]
    return df


def build(seed: int = SEED, verbose: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.concat([make_group(g, rng) for g in GROUPS], ignore_index=True)
    st = search_survival(df, rng, verbose=verbose)
    if verbose:
        for k, v in st.evaluate().items():
            print(f"{k:16s} {v:8.3f}  target {TARGETS[k][0]}", file=sys.stderr)
    start = np.array([ENROL_FIRST + timedelta(days=int(s)) for s in st.start])
    os_t, os_e = st.os()
    pfs_t, pfs_e = st.pfs()
    df["os_months"] = np.round(os_t / DAYS_PER_MONTH, 2)
    df["os_event"] = os_e
    df["pfs_months"] = np.round(pfs_t / DAYS_PER_MONTH, 2)
    df["pfs_event"] = pfs_e
    df["treatment_start_date"] = [d.isoformat() for d in start]
    df["progression_date"] = [
        (s + timedelta(days=int(p))).isoformat() if pr else ""
        for s, p, pr in zip(start, st.p_day, st.prog, strict=True)
    ]
    df["death_date"] = [
        (s + timedelta(days=int(t))).isoformat() if d else ""
        for s, t, d in zip(start, st.t_day, st.dead, strict=True)
    ]
    df["last_followup_date"] = [
        (s + timedelta(days=int(t))).isoformat() if d else CENSOR_DATE.isoformat()
        for s, t, d in zip(start, st.t_day, st.dead, strict=True)
    ]
    df = assign_adverse_events(df, rng)
    # Shuffle row order and number patients so that group membership is not visible in the id.
    df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    df.insert(0, "patient_id", [f"P{i + 1:03d}" for i in range(len(df))])
    df = add_competing_columns(df, np.random.default_rng([seed, 16]))
    columns = [
        "patient_id",
        "local_modality",
        "treatment_group",
        "age",
        "sex",
        "albumin_g_l",
        "bilirubin_umol_l",
        "albi_score",
        "albi_grade",
        "child_pugh_class",
        "child_pugh_score",
        "bclc_stage",
        "tumor_number",
        "max_tumor_diameter_cm",
        "afp_ng_ml",
        "chronic_hepatitis",
        "av_fistula",
        "extrahepatic_supply",
        "targeted_agent",
        "immunotherapy_agent",
        "os_months",
        "os_event",
        "pfs_months",
        "pfs_event",
        "best_response",
        *AE_COUNTS,
        "treatment_start_date",
        "progression_date",
        "death_date",
        "last_followup_date",
        "progression_event",
        "death_cause",
        "local_start_months",
        "local_start_date",
    ]
    df["age"] = df["age"].astype(int)
    return df[columns]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output CSV path")
    parser.add_argument("--verbose", action="store_true", help="print search progress")
    args = parser.parse_args(argv)
    df = build(verbose=args.verbose)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out, index=False, lineterminator="\n")
    print(f"wrote {len(df)} patients to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
