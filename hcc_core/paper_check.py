"""Paper check: the published results of Xia et al. (Hepat Mon 2026) recomputed from a cohort.

``paper_check(df)`` recomputes every number the paper reports (Tables 1-3, Kaplan-Meier
medians, log-rank tests, adjusted Cox hazard ratios) through the ``hcc_core`` API and lays it
beside the published value, plus the paper's internal inconsistencies, each computed from the
data and the published figures rather than asserted. Published values come from
``data/published_values.json``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema as S
from .cox import PAPER_COX_COVARIATES, fit_cox
from .errors import CohortError
from .i18n import N_, _
from .response import response_rates
from .safety import ae_table
from .stats_tests import mann_whitney_spss, student_t
from .survival import fit_km, logrank_test, rmst
from .tables import group_column, label_of, table_one

__all__ = [
    "PUBLISHED_VALUES_PATH",
    "STATUSES",
    "STATUS_LABELS",
    "ABSTRACT_CLAIMS",
    "load_published_values",
    "paper_check",
]

PUBLISHED_VALUES_PATH = Path(__file__).resolve().parents[1] / "data" / "published_values.json"
REPRODUCED, DIFFERS, INCONSISTENT = "reproduced", "differs", "inconsistent in paper"
STATUSES: tuple[str, ...] = (REPRODUCED, DIFFERS, INCONSISTENT)
#: How each status reads (``_(STATUS_LABELS[status])``); the ``status`` column keeps the code.
STATUS_LABELS = {REPRODUCED: N_("reproduced"), DIFFERS: N_("differs"),
                 INCONSISTENT: N_("inconsistent in paper")}
COLUMNS = ("section", "quantity", "group", "published", "recomputed", "tolerance", "status", "note")

# published_values.json keys -> schema levels of treatment_group.
_GROUPS = {"systemic": S.SYSTEMIC, "local_systemic": S.LOCAL_SYSTEMIC}
_Z95 = 1.959963984540054
# Three-decimal published statistics reproduce when the recomputed value rounds to them.
_ROUNDING = 0.0005 + 1e-9

# The abstract's figures for the local+systemic group, which contradict Table 2 (the JSON
# records them only inside a sentence of ``internal_inconsistencies``).
ABSTRACT_CLAIMS: dict[str, float] = {
    "orr_pct": 36.8,
    "dcr_pct": 71.4,
    "orr_chi2": 5.132,
    "dcr_chi2": 5.586,
}


@lru_cache(maxsize=4)
def _load(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def load_published_values(path: str | Path | None = None) -> dict:
    """The paper's transcribed results (``data/published_values.json`` by default).

    Raises
    ------
    CohortError : the file is missing.
    """
    p = Path(path) if path is not None else PUBLISHED_VALUES_PATH
    if not p.exists():
        raise CohortError(
            _(
                "The published values file '{path}' was not found. Restore "
                "data/published_values.json from the repository; the paper check compares "
                "against it."
            ).format(path=p)
        )
    return json.loads(_load(str(p)))


class _Rows:
    """Collects the check's rows; ``add`` decides the status from value and tolerance."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(
        self,
        section,
        quantity,
        group,
        published,
        recomputed,
        tolerance=0.0,
        note="",
        relative=False,
        status=None,
    ) -> str:
        pub = float(published) if published is not None else np.nan
        rec = float(recomputed) if recomputed is not None else np.nan
        tol = tolerance * abs(pub) if relative else tolerance
        if status is None:
            ok = np.isfinite(pub) and np.isfinite(rec) and abs(rec - pub) <= tol + 1e-12
            status = REPRODUCED if ok else DIFFERS
        self.rows.append(
            dict(
                section=section,
                quantity=quantity,
                group=group or "",
                published=pub,
                recomputed=rec,
                tolerance=tol,
                status=status,
                note=note,
            )
        )
        return status

    def skipped(self, section: str, exc: Exception) -> None:
        self.add(
            _(section),
            _("(section not checked)"),
            "",
            None,
            None,
            status=DIFFERS,
            note=_("Not checked on this cohort: {error}").format(error=exc),
        )

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(COLUMNS))


# ---- Table 1 ---------------------------------------------------------------------------------
_T1_COUNTS = {  # json key -> (column, level, label)
    "male_n": (S.SEX, "M", N_("Male")),
    "child_pugh_A_n": (S.CHILD_PUGH_CLASS, "A", N_("Child-Pugh A")),
    "child_pugh_B_n": (S.CHILD_PUGH_CLASS, "B", N_("Child-Pugh B")),
    "tumor_single_n": (S.TUMOR_NUMBER, "single", N_("Single tumour")),
    "tumor_multiple_n": (S.TUMOR_NUMBER, "multiple", N_("Multiple tumours")),
    "chronic_hepatitis_n": (S.CHRONIC_HEPATITIS, S.YES, N_("Chronic hepatitis")),
    "av_fistula_n": (S.AV_FISTULA, S.YES, N_("Arteriovenous fistula")),
    "extrahepatic_supply_n": (S.EXTRAHEPATIC_SUPPLY, S.YES, N_("Extrahepatic blood supply")),
}
_T1_QUARTILES = {
    "albumin_g_l_median_iqr": (S.ALBUMIN, N_("Albumin (g/L)")),
    "bilirubin_umol_l_median_iqr": (S.BILIRUBIN, N_("Total bilirubin (umol/L)")),
    "albi_median_iqr": (S.ALBI_SCORE, N_("ALBI score")),
    "max_diameter_cm_median_iqr": (S.MAX_DIAMETER, N_("Maximum tumour diameter (cm)")),
    "afp_ng_ml_median_iqr": (S.AFP, N_("AFP (ng/mL)")),
}


def _fisher_row(out: _Rows, section: str, quantity: str, published_p, test_row) -> None:
    """Where the paper used chi-square with an expected count < 5: the Fisher p it should give."""
    if not bool(test_row["low_expected"]):
        return
    out.add(
        section,
        _("{quantity}: Fisher's exact p").format(quantity=quantity),
        "",
        published_p,
        test_row["fisher_p"],
        status=INCONSISTENT,
        note=_(
            "The paper used Pearson chi-square although the smallest expected count is "
            "{expected} (< 5); Fisher's exact test ({method}) gives p = {p}."
        ).format(expected=f"{test_row['min_expected']:.2f}", method=test_row["fisher_method"],
                 p=f"{test_row['fisher_p']:.3f}"),
    )


def _table1(out: _Rows, df: pd.DataFrame, pv: dict) -> None:
    sec = _("Table 1")
    t1 = pv["table1"]
    tab = table_one(df).table
    row_of = {
        (v, lv): r
        for v, lv, r in zip(tab["variable"], tab["level"], tab.to_dict("records"), strict=True)
    }
    age = row_of[(S.AGE, None)]
    for key, g in _GROUPS.items():
        mean, sd = t1["age_mean_sd"][key]
        out.add(sec, _("Age, mean"), g, mean, age[group_column("mean", g)], 0.05)
        out.add(sec, _("Age, SD"), g, sd, age[group_column("sd", g)], 0.05)
    x = [
        df.loc[df[S.TREATMENT_GROUP] == g, S.AGE].dropna().to_numpy(float) for g in _GROUPS.values()
    ]
    t = student_t(*x)
    out.add(sec, _("Age: t statistic"), "", t1["age_mean_sd"]["stat"], t.statistic, 0.01)
    out.add(sec, _("Age: t-test p"), "", t1["age_mean_sd"]["p"], t.p_value, 0.005)

    done_tests = set()
    for key, (col, level, label) in _T1_COUNTS.items():
        label = _(label)
        r = row_of[(col, level)]
        for gkey, g in _GROUPS.items():
            out.add(sec, _("{label}, n").format(label=label), g, t1[key][gkey],
                    r[group_column("n", g)])
        if "stat" in t1[key] and col not in done_tests:
            done_tests.add(col)
            out.add(sec, _("{label}: chi-square").format(label=label), "", t1[key]["stat"],
                    r["statistic"], _ROUNDING)
            out.add(sec, _("{label}: p").format(label=label), "", t1[key]["p"], r["p_value"],
                    _ROUNDING)
            _fisher_row(out, sec, label, t1[key]["p"], r)
    for lv in ("A", "B", "C"):
        r = row_of[(S.BCLC_STAGE, lv)]
        for gkey, g in _GROUPS.items():
            out.add(sec, _("BCLC {stage}, n").format(stage=lv), g, t1["bclc_n"][gkey][lv], r[group_column("n", g)])
    bclc = _("BCLC stage")
    out.add(sec, _("{label}: chi-square").format(label=bclc), "", t1["bclc_n"]["stat"], r["statistic"], _ROUNDING)
    out.add(sec, _("{label}: p").format(label=bclc), "", t1["bclc_n"]["p"], r["p_value"], _ROUNDING)
    _fisher_row(out, sec, bclc, t1["bclc_n"]["p"], r)

    for key, (col, label) in _T1_QUARTILES.items():
        label = _(label)
        r = row_of[(col, None)]
        for gkey, g in _GROUPS.items():
            med, q1, q3 = t1[key][gkey]
            for stat, pub in (("median", med), ("Q1", q1), ("Q3", q3)):
                out.add(
                    sec,
                    _("{label}, {statistic}").format(
                        label=label, statistic=_("median") if stat == "median" else stat),
                    g,
                    pub,
                    r[group_column(stat.lower(), g)],
                    0.01,
                    relative=True,
                    note=_("SPSS quartiles (weighted average at (n + 1) p)."),
                )
        x = [
            df.loc[df[S.TREATMENT_GROUP] == g, col].dropna().to_numpy(float)
            for g in _GROUPS.values()
        ]
        mw = mann_whitney_spss(*x)
        out.add(
            sec,
            _("{label}: Mann-Whitney Z").format(label=label),
            "",
            t1[key]["z"],
            mw.statistic,
            0.01,
            note=_("A rank statistic depends on the whole distribution, not only the "
                   "quartiles the paper reports."),
        )


# ---- Table 2 ---------------------------------------------------------------------------------
def _table2(out: _Rows, df: pd.DataFrame, pv: dict) -> None:
    sec = _("Table 2 (mRECIST)")
    t2 = pv["table2_response_mrecist"]
    tab = response_rates(df).table.set_index("category")
    for cat in ("CR", "PR", "SD", "PD"):
        for gkey, g in _GROUPS.items():
            out.add(sec, _("{label}, n").format(label=cat), g, t2[gkey][cat],
                    tab.loc[cat, group_column("n", g)])
    for rate in ("ORR", "DCR"):
        pub = t2[rate.lower()]
        for gkey, g in _GROUPS.items():
            out.add(sec, _("{label}, n").format(label=rate), g, pub[gkey],
                    tab.loc[rate, group_column("n", g)])
        out.add(sec, _("{label}: chi-square").format(label=rate), "", pub["chi2"],
                tab.loc[rate, "statistic"], _ROUNDING)
        out.add(sec, _("{label}: p").format(label=rate), "", pub["p"], tab.loc[rate, "p_value"],
                _ROUNDING)


# ---- Table 3 ---------------------------------------------------------------------------------
def _table3(out: _Rows, df: pd.DataFrame, pv: dict) -> None:
    sec = _("Table 3 (CTCAE v5)")
    t3 = pv["table3_adverse_events_ctcae5"]
    tab = ae_table(df).table
    by = {
        (t, b): r for t, b, r in zip(tab["term"], tab["band"], tab.to_dict("records"), strict=True)
    }
    anyr, any3 = by[("ae_any", "1-2")], by[("ae_any", ">=3")]
    for gkey, g in _GROUPS.items():
        out.add(
            sec,
            _("Any adverse event, grade 1-2, n"),
            g,
            t3["any_grade_1_2"][gkey],
            anyr[group_column("n", g)],
        )
        out.add(
            sec,
            _("Any adverse event, grade >= 3, n"),
            g,
            t3["any_grade_3_plus"][gkey],
            any3[group_column("n", g)],
        )
    out.add(
        sec,
        _("Any adverse event: chi-square"),
        "",
        t3["any_grade_1_2"]["chi2"],
        anyr["statistic"],
        _ROUNDING,
    )
    out.add(
        sec,
        _("Any adverse event: p < 0.001"),
        "",
        0.001,
        anyr["p_value"],
        status=REPRODUCED if anyr["p_value"] < 0.001 else DIFFERS,
        note=_("Published as '< 0.001'."),
    )
    sums = dict.fromkeys(_GROUPS, 0)
    for key, val in t3.items():
        if not isinstance(val, dict) or "category" not in val:
            continue
        term = S.AE_PREFIX + key
        r = by[(term, "any")]
        label = label_of(term)
        counts_ok = True
        for gkey, g in _GROUPS.items():
            sums[gkey] += val[gkey]
            st = out.add(sec, _("{label}, n").format(label=label), g, val[gkey],
                         r[group_column("n", g)])
            counts_ok &= st == REPRODUCED
        # p from reproduced counts that misses the published p: the paper's slip, not the data's.
        ok = abs(r["p_value"] - val["p"]) <= _ROUNDING
        status = REPRODUCED if ok else (INCONSISTENT if counts_ok else DIFFERS)
        note = (
            ""
            if ok
            else (
                _("Pearson chi-square on the published counts gives p = {p4}, which rounds to "
                  "{p3}, not {published}.").format(p4=f"{r['p_value']:.4f}",
                                                    p3=f"{r['p_value']:.3f}",
                                                    published=f"{val['p']:.3f}")
                if counts_ok
                else ""
            )
        )
        out.add(
            sec,
            _("{label}: p (chi-square)").format(label=label),
            "",
            val["p"],
            r["p_value"],
            _ROUNDING,
            note=note,
            status=status,
        )
        _fisher_row(out, sec, label, val["p"], r)
    for gkey, g in _GROUPS.items():
        out.add(
            _("Paper consistency"),
            _("Sum of per-term AE counts = patients with any AE"),
            g,
            sums[gkey],
            anyr[group_column("n", g)],
            note=_("The per-term counts add up exactly to the 'any AE' count, so each patient "
                   "with an AE had exactly one listed AE."),
        )


# ---- survival ---------------------------------------------------------------------------------
def _survival(out: _Rows, df: pd.DataFrame, pv: dict) -> dict:
    sv = pv["survival"]
    results = {}
    for ep in ("os", "pfs"):
        sec = _("{endpoint} (Kaplan-Meier, log-rank, Cox)").format(endpoint=ep.upper())
        pub = sv[ep]
        km = fit_km(df, ep, by=S.TREATMENT_GROUP).summary.set_index("group")
        lr = logrank_test(df, ep, S.TREATMENT_GROUP)
        cox = fit_cox(df, ep, PAPER_COX_COVARIATES)
        term = f"{S.TREATMENT_GROUP}[{S.LOCAL_SYSTEMIC}]"
        hr = cox.table.loc[term]
        results[ep] = dict(km=km, cox=cox, hr=hr)
        for gkey, g in _GROUPS.items():
            if "deaths" in pub:
                out.add(sec, _("Deaths, n"), g, pub["deaths"][gkey], km.loc[g, "events"])
            note = (
                ""
                if "deaths" in pub
                else _("PFS events are not reported in the paper; this cohort has {n}.").format(
                    n=int(km.loc[g, "events"]))
            )
            out.add(
                sec,
                _("Median survival (months)"),
                g,
                pub["median_months"][gkey],
                km.loc[g, "median"],
                0.25,
                note=note,
            )
        out.add(sec, _("Log-rank chi-square"), "", pub["logrank_chi2"], lr.statistic, 0.2)
        out.add(sec, _("Log-rank p"), "", pub["logrank_p"], lr.p_value, 0.005)
        out.add(
            sec,
            _("Adjusted HR, local+systemic vs systemic"),
            "",
            pub["adjusted_hr"],
            hr["hr"],
            0.02,
            note=_("Cox model with the paper's covariates (age, sex, Child-Pugh A vs B, BCLC "
                   "A/B vs C, maximum diameter, tumour number, log10 AFP, ALBI score), Efron "
                   "ties."),
        )
        out.add(
            sec, _("Adjusted HR, 95% CI lower"), "", pub["adjusted_hr_ci"][0], hr["hr_lower"], 0.03
        )
        out.add(
            sec, _("Adjusted HR, 95% CI upper"), "", pub["adjusted_hr_ci"][1], hr["hr_upper"], 0.03
        )
        out.add(sec, _("Adjusted HR p"), "", pub["adjusted_p"], hr["p_value"], 0.01)
    return results


def _cox_precision(out: _Rows, pv: dict, fits: dict) -> None:
    """Is the published CI as narrow as the number of events allows?"""
    for ep, fit in fits.items():
        lo, hi = pv["survival"][ep]["adjusted_hr_ci"]
        se_pub = np.log(hi / lo) / (2 * _Z95)
        events = fit["cox"].events
        se_min = 2 / np.sqrt(events)  # binary covariate: information <= 1/4 per event
        quantity = _("{endpoint} adjusted HR: SE of log HR implied by the 95% CI").format(
            endpoint=ep.upper())
        if se_pub < se_min:
            out.add(
                _("Paper consistency"),
                quantity,
                "",
                se_pub,
                fit["hr"]["se"],
                status=INCONSISTENT,
                note=_(
                    "For a binary covariate the Cox information is at most 1/4 per event, "
                    "so with {events} events SE(log HR) >= 2/sqrt({events}) = {se_min} "
                    "(95% CI upper/lower ratio >= {ratio_min}). The published CI {lo}-{hi} "
                    "(ratio {ratio}, SE {se}) is narrower than any data with this many events "
                    "allow."
                ).format(events=events, se_min=f"{se_min:.3f}",
                         ratio_min=f"{np.exp(2 * _Z95 * se_min):.2f}", lo=lo, hi=hi,
                         ratio=f"{hi / lo:.2f}", se=f"{se_pub:.3f}"),
            )
        else:
            out.add(
                _("Paper consistency"),
                quantity,
                "",
                se_pub,
                fit["hr"]["se"],
                0.015,
                note=_("Needs at least 4 / SE^2 = {needed} events; this cohort has {events}.")
                .format(needed=f"{4 / se_pub**2:.0f}", events=events),
            )


def _pd_versus_median(out: _Rows, df: pd.DataFrame, pv: dict) -> None:
    """Best response PD (progression at the first scan) against the published median PFS."""
    t2 = pv["table2_response_mrecist"]
    med_pub = pv["survival"]["pfs"]["median_months"]
    pd_rows = (df[S.BEST_RESPONSE] == "PD") & (df[S.PFS_EVENT] == 1)
    for gkey, g in _GROUPS.items():
        n = sum(t2[gkey].values())
        n_pd = t2[gkey]["PD"]
        in_g = df[S.TREATMENT_GROUP] == g
        times = df.loc[pd_rows & in_g, S.PFS_MONTHS].dropna()
        if times.empty:
            continue
        first_scan = float(times.median())
        # Every PD patient progressing at the first assessment, everything else unchanged.
        alt = df.loc[in_g].copy()
        is_pd = alt[S.BEST_RESPONSE] == "PD"
        alt.loc[is_pd, S.PFS_MONTHS] = np.minimum(alt.loc[is_pd, S.PFS_MONTHS], first_scan)
        alt.loc[is_pd, S.PFS_EVENT] = 1
        bound = float(fit_km(alt, "pfs").summary["median"].iloc[0])
        late = times[times > 2 * first_scan]
        quantity = _("Median PFS if every PD patient progressed at the first assessment "
                     "(months)")
        if n_pd / n >= 0.5 and bound < med_pub[gkey] - 0.25:
            where = (
                _(" This cohort reproduces {median} only by placing {n} PD progression(s) at "
                  "{times} months.").format(median=med_pub[gkey], n=len(late),
                                             times=", ".join(f"{t:.2f}" for t in late))
                if len(late)
                else ""
            )
            out.add(
                _("Paper consistency"),
                quantity,
                g,
                med_pub[gkey],
                bound,
                status=INCONSISTENT,
                note=_(
                    "{n_pd} of {n} patients ({pct}%) had best response PD, i.e. progression "
                    "at the first mRECIST assessment (median {first_scan} months in these "
                    "data). Then S_PFS <= {s_max} < 0.5 from that assessment on, so the median "
                    "PFS is at most {bound} months, not the published {published}."
                ).format(n_pd=n_pd, n=n, pct=f"{100 * n_pd / n:.1f}",
                         first_scan=f"{first_scan:.2f}", s_max=f"{(n - n_pd) / n:.3f}",
                         bound=f"{bound:.2f}", published=med_pub[gkey]) + where,
            )
        else:
            out.add(
                _("Paper consistency"),
                quantity,
                g,
                med_pub[gkey],
                bound,
                0.25,
                note=_("{n_pd} of {n} patients had best response PD: compatible with the "
                       "published median.").format(n_pd=n_pd, n=n),
            )


def _abstract_and_text(out: _Rows, df: pd.DataFrame, pv: dict, fits: dict) -> None:
    sec = _("Paper consistency")
    tab = response_rates(df).table.set_index("category")
    ls = S.LOCAL_SYSTEMIC
    t2 = pv["table2_response_mrecist"]
    n_ls = sum(t2["local_systemic"].values())
    for rate in ("ORR", "DCR"):
        k = rate.lower()
        claim = ABSTRACT_CLAIMS[f"{k}_pct"]
        nearest = round(claim * n_ls / 100)
        if round(100 * nearest / n_ls, 1) == claim:
            which = _("would be {k}/{n}").format(k=nearest, n=n_ls)
        else:
            which = _("matches no count out of {n}").format(n=n_ls)
        out.add(
            sec,
            _("Abstract {rate} (%)").format(rate=rate),
            ls,
            claim,
            tab.loc[rate, group_column("pct", ls)],
            status=INCONSISTENT,
            note=_(
                "Table 2 and the Results give {k}/{n} = {pct}%, which the counts reproduce; "
                "the abstract's {claim}% {which}."
            ).format(k=t2[k]["local_systemic"], n=n_ls,
                     pct=f"{tab.loc[rate, group_column('pct', ls)]:.2f}", claim=claim,
                     which=which),
        )
        out.add(
            sec,
            _("Abstract {rate} chi-square").format(rate=rate),
            "",
            ABSTRACT_CLAIMS[f"{k}_chi2"],
            tab.loc[rate, "statistic"],
            status=INCONSISTENT,
            note=_("Table 2 gives chi-square {chi2}, which the counts reproduce.").format(
                chi2=t2[k]["chi2"]),
        )
    # "Mean" OS/PFS in the abstract are the Kaplan-Meier medians of the Results.
    for ep, fit in fits.items():
        km = fit["km"]
        tau = float(df[S.OS_MONTHS].max()) if S.OS_MONTHS in df else np.nan
        means = rmst(df, ep, S.TREATMENT_GROUP, tau).set_index("group")["rmst"]
        for gkey, g in _GROUPS.items():
            pub = pv["survival"][ep]["median_months"][gkey]
            out.add(
                sec,
                _("Abstract 'mean {endpoint}' (months)").format(endpoint=ep.upper()),
                g,
                pub,
                km.loc[g, "median"],
                status=INCONSISTENT,
                note=_(
                    "The abstract calls {published} months a mean; the Results call it the "
                    "median, and it matches the Kaplan-Meier median ({median}). The "
                    "restricted mean up to {tau} months is {rmst} in this cohort."
                ).format(published=pub, median=f"{km.loc[g, 'median']:.2f}",
                         tau=f"{tau:.1f}", rmst=f"{means[g]:.2f}"),
            )
    n_sys = int((df[S.TREATMENT_GROUP] == S.SYSTEMIC).sum())
    dcr_sys = t2["dcr"]["systemic"]
    out.add(
        sec,
        _("Results text: denominator of the systemic DCR '48.72% (19/56)'"),
        S.SYSTEMIC,
        56,
        n_sys,
        status=INCONSISTENT,
        note=_(
            "{k}/{n} = {pct}% (the published percentage); {k}/56 would be {pct56}%: '56' is "
            "a typo for 39."
        ).format(k=dcr_sys, n=n_sys, pct=f"{100 * dcr_sys / n_sys:.2f}",
                 pct56=f"{100 * dcr_sys / 56:.2f}"),
    )


def paper_check(df: pd.DataFrame, published: dict | None = None) -> pd.DataFrame:
    """Every published number of Xia et al. beside its value recomputed from ``df``.

    Parameters
    ----------
    df : canonical cohort frame (the demo cohort reproduces the paper).
    published : published values; default ``load_published_values()``.

    Returns
    -------
    DataFrame with columns ``section, quantity, group, published, recomputed, tolerance,
    status, note``; ``status`` is ``reproduced`` (within tolerance), ``differs`` or
    ``inconsistent in paper`` (the paper contradicts itself or its own data; the note says
    how, with numbers computed here). Sections that cannot run on ``df`` appear as one
    ``differs`` row naming the problem.

    Notes
    -----
    Tolerances: counts exact; chi-squares and p-values must round to the published three
    decimals; age mean/SD 0.05; medians/quartiles 1%; KM medians 0.25 months; log-rank
    chi-square 0.2; Cox HR 0.02 and CI bounds 0.03. R: ``survfit``, ``survdiff``,
    ``coxph(ties = "efron")``, ``chisq.test(correct = FALSE)``, ``fisher.test``.
    """
    pv = published if published is not None else load_published_values()
    out = _Rows()

    def guarded(name: str, run, default=None):
        # A section this cohort cannot feed becomes one row that says why, not an error.
        try:
            return run()
        except (CohortError, KeyError) as exc:
            out.skipped(name, exc)
            return default

    guarded(N_("Table 1"), lambda: _table1(out, df, pv))
    guarded(N_("Table 2"), lambda: _table2(out, df, pv))
    guarded(N_("Table 3"), lambda: _table3(out, df, pv))
    fits = guarded(N_("Survival"), lambda: _survival(out, df, pv), default={})
    guarded(N_("Abstract"), lambda: _abstract_and_text(out, df, pv, fits))
    guarded(N_("PD vs median PFS"), lambda: _pd_versus_median(out, df, pv))
    guarded(N_("Cox precision"), lambda: _cox_precision(out, pv, fits))
    return out.frame()
