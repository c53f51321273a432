"""Subgroup forest: the treatment hazard ratio within subgroup levels, and interaction tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from .. import schema
from ..cohort import pfs_death_notes
from ..errors import CohortError
from ..i18n import N_, _
from ..survival import _factorize, _survival_data
from ..tables import shown_level
from .batch import Part, fit_parts
from .design import _drop_collinear, _encode, _order_levels, _values
from .results import _z, wald

__all__ = ["subgroup_forest"]


def subgroup_forest(
    df: pd.DataFrame,
    endpoint: str,
    subgroups,
    treatment: str = schema.TREATMENT_GROUP,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Treatment hazard ratio within each level of each subgroup variable (forest plot data).

    Parameters
    ----------
    subgroups : categorical columns (or ``bclc_ab_vs_c``) to split by.
    treatment : two-arm column; its first level (schema order) is the reference arm.

    Returns
    -------
    DataFrame with one row per subgroup level (first an ``overall`` row): ``subgroup, level, n,
    events, n_reference, events_reference, n_comparator, events_comparator, hr, hr_lower,
    hr_upper, p_value, p_interaction, note``. Levels where the HR cannot be estimated (an arm
    empty or without events) get NaN and a ``note``. ``p_interaction`` (same on every row of a
    subgroup) is the likelihood-ratio test of treatment x subgroup. Patients with a missing
    subgroup value are left out of that subgroup's rows and its interaction test, and counted in
    those rows' ``note``. ``attrs`` hold ``method``, ``reference``, ``comparator`` and ``notes``.

    Notes
    -----
    Unadjusted Cox model ``coxph(Surv(t, e) ~ treatment)`` within each level (Efron ties, Wald
    CI); interaction: ``anova(coxph(~ treatment + sub), coxph(~ treatment * sub))``. Subgroup
    findings are exploratory: with many subgroups some interaction p < 0.05 arise by chance.
    Computed without one engine call per row: the per-level fits and the interaction models
    run as one ``batch.fit_parts`` call (each its own fit, with R's start, step halving and
    stopping rule), on rows collapsed per arm x level cell and time. A level whose HR has no
    finite maximum, and an interaction test that cannot be computed, carry a note saying why.
    """
    subs = [subgroups] if isinstance(subgroups, str) else list(subgroups)
    z = _z(conf_level)
    sd = _survival_data(df, endpoint, N_("subgroup analysis"))
    schema.require_columns(df, [treatment], N_("subgroup analysis"))
    # Sort by time once: every fit below is on a boolean subset of these arrays, which keeps
    # the order, so no fit sorts again (and each sees its rows in the same order as before).
    order = np.lexsort((-sd.event, sd.time))  # deaths first among ties
    rows_sorted = np.flatnonzero(sd.keep)[order]  # positions in df, time-ascending
    arm_code, arms = _coded((True, *_factorize(df[treatment]), None), rows_sorted, treatment)
    if len(arms) != 2:
        raise CohortError(
            _(
                "The subgroup forest compares two arms, but '{column}' has {n} level(s) among "
                "patients with the endpoint. Choose a two-level treatment column or filter the "
                "cohort to two arms."
            ).format(column=treatment, n=len(arms))
        )
    time, event = sd.time[order], sd.event[order]
    ok_arm = arm_code >= 0
    trt = (arm_code == 1).astype(float)
    dead, is_ref, is_cmp = event == 1, arm_code == 0, arm_code == 1  # counted, not summed

    fits: list[tuple[dict, np.ndarray]] = []  # rows whose HR is estimable, and their rows
    extra: dict[int, list[str]] = {}  # notes added to a row after its fit's note

    def level_row(sub: str, level, sel: np.ndarray) -> dict:
        sel = sel & ok_arm
        ref, cmp_ = sel & is_ref, sel & is_cmp
        row = {
            "subgroup": sub,
            "level": level,
            "n": np.count_nonzero(sel),
            "events": np.count_nonzero(sel & dead),
            "n_reference": np.count_nonzero(ref),
            "events_reference": np.count_nonzero(ref & dead),
            "n_comparator": np.count_nonzero(cmp_),
            "events_comparator": np.count_nonzero(cmp_ & dead),
            "hr": np.nan,
            "hr_lower": np.nan,
            "hr_upper": np.nan,
            "p_value": np.nan,
            "p_interaction": np.nan,
            "note": "",
        }
        if row["n_reference"] == 0 or row["n_comparator"] == 0:
            empty = arms[0] if row["n_reference"] == 0 else arms[1]
            row["note"] = _("No patients in arm '{arm}'; HR not estimable.").format(
                arm=shown_level(treatment, empty))
        elif row["events_reference"] == 0 or row["events_comparator"] == 0:
            none = arms[0] if row["events_reference"] == 0 else arms[1]
            row["note"] = _("No events in arm '{arm}'; HR not estimable.").format(
                arm=shown_level(treatment, none))
        else:
            fits.append((row, sel))
        return row

    def add_note(r: dict, msg: str) -> None:
        extra.setdefault(id(r), []).append(msg)

    rows = [level_row("overall", "all", np.ones(time.size, dtype=bool))]
    notes = list(pfs_death_notes(df, endpoint, sd.keep))
    tests: list = []  # (rows of a subgroup, its interaction models)
    for sub in subs:
        if sub == treatment:
            continue
        enc = _encode(df, sub)
        if not enc[0]:  # a numeric column: its distinct values are the levels
            enc = (True, *_factorize(_values(df, sub)), None)
        code, levels = _coded(enc, rows_sorted, sub)
        if len(levels) > 12:
            raise CohortError(
                _(
                    "'{column}' has {n} distinct values; subgroups need a categorical column "
                    "(e.g. child_pugh_class, bclc_stage)."
                ).format(column=sub, n=len(levels))
            )
        known = ok_arm & (code >= 0)
        if sub == schema.LOCAL_MODALITY and treatment == schema.TREATMENT_GROUP:
            # Treatment is nested in modality, so "within a level" has no comparator: each
            # local modality is compared with all systemic-only patients instead, and the
            # p-value tests whether the modalities' effects differ (heterogeneity).
            local = [i for i, lv in enumerate(levels) if lv != schema.MODALITY_NONE]
            sub_rows = [
                level_row(sub, levels[i], known & ((code == i) | (trt == 0))) for i in local
            ]
            for r in sub_rows:
                add_note(r, _("vs all systemic-only patients"))
            tests.append((sub_rows, _heterogeneity_models(event, trt, code, local, known)))
        else:
            sub_rows = [level_row(sub, lv, code == i) for i, lv in enumerate(levels)]
            tests.append(
                (sub_rows, _interaction_models(event, trt, code, range(len(levels)), known))
            )
        n_unknown = int((ok_arm & (code < 0)).sum())
        if n_unknown:
            msg = _(
                "{n} patient(s) with a missing '{column}' were excluded from this subgroup and "
                "its interaction test."
            ).format(n=n_unknown, column=sub)
            notes.append(msg)
            for r in sub_rows:
                add_note(r, msg)
        rows.extend(sub_rows)
    # every fit of the forest in one engine call: the estimable levels (and the overall row),
    # then the interaction tests' base and full models
    models = [t[1] for t in tests]
    level_parts = [Part(np.flatnonzero(sel), trt[sel][:, None], arm_code[sel]) for _, sel in fits]
    test_parts = [part for m in models if not isinstance(m, str) for part in m[:2]]
    res = fit_parts(time, event, level_parts + test_parts) if level_parts or test_parts else None
    nf = len(level_parts)
    for sub_rows, (p_int, why) in zip(
        (t[0] for t in tests), _lr_tests(res, nf, models), strict=True
    ):
        for r in sub_rows:
            r["p_interaction"] = p_int
            if why:
                add_note(r, why)
    if fits:
        cols = wald(res.beta[:nf, 0], np.sqrt(res.var[:nf, 0, 0]), z)
        for j, (row, _sel) in enumerate(fits):
            se = cols["se"][j]
            if not (res.converged[j] and not res.infinite[j].any() and np.isfinite(se)):
                row["note"] = (
                    "HR not estimable: the likelihood has no finite maximum (events in one "
                    "arm only while both arms are at risk)."
                )
                continue
            row.update({k: float(cols[k][j]) for k in ("hr", "hr_lower", "hr_upper", "p_value")})
    for r in rows:
        for msg in extra.get(id(r), ()):
            r["note"] = (r["note"] + " " if r["note"] else "") + msg
    out = pd.DataFrame({k: [r[k] for r in rows] for k in rows[0]})
    out.attrs["method"] = _(
        "Cox model per subgroup level (treatment only, Efron ties; HR {comparator} vs "
        "{reference}, Wald {level} CI); interaction: likelihood-ratio test of treatment x subgroup"
    ).format(comparator=shown_level(treatment, arms[1]),
             reference=shown_level(treatment, arms[0]), level=f"{conf_level:.0%}")
    out.attrs["reference"], out.attrs["comparator"] = arms[0], arms[1]
    out.attrs["notes"] = tuple(notes)
    return out


def _coded(enc: tuple, rows: np.ndarray, name: str) -> tuple[np.ndarray, list]:
    """Levels of a categorical encoded column (``design._encode``) among ``rows`` in schema order (as
    ``_levels``), and each row's index into them (-1 if missing). Integer codes are NA-safe:
    comparing an object array holding pd.NA with a level raises "boolean value of NA is
    ambiguous"."""
    raw = enc[1][rows]
    uniques = enc[2]
    used = np.bincount(raw[raw >= 0], minlength=len(uniques)) > 0
    levels = _order_levels(name, [uniques[i] for i in np.flatnonzero(used)])
    pos = {lv: i for i, lv in enumerate(levels)}
    lut = np.array([pos.get(u, -1) for u in uniques] + [-1], dtype=np.int64)
    return lut[raw], levels


def _cells(trt, code, sel):
    """The rows ``sel`` grouped into arm x level cells: the rows, each row's cell, and each
    cell's treatment, level and size (both interaction tests' designs are functions of these)."""
    rows = np.flatnonzero(sel)
    key = code[rows] * 2 + trt[rows].astype(np.int64)  # small integers >= 0: counted, not sorted
    counts = np.bincount(key)
    uniq = np.flatnonzero(counts)  # as np.unique: ascending
    index = np.zeros(counts.size, dtype=np.int64)
    index[uniq] = np.arange(uniq.size)
    return rows, index[key], (uniq % 2).astype(float)[:, None], uniq // 2, counts[uniq]


def _models(rows, cell, xcell_base, xcell_full, size):
    """Base and full model parts from per-cell designs (collinear columns dropped as R's NA)."""
    names = [f"c{j}" for j in range(xcell_full.shape[1])]
    nb = xcell_base.shape[1]
    base, names_b, _, _ = _drop_collinear(xcell_base, names[:nb], names[:nb], size)
    full, names_f, _, _ = _drop_collinear(xcell_full, names, names, size)
    dof = len(names_f) - len(names_b)
    if dof <= 0:
        return None
    return Part(rows, base[cell], cell), Part(rows, full[cell], cell), dof


_NO_EVENTS = N_(
    "Interaction test not estimable: no events among patients with this subgroup known."
)
_ONE_LEVEL = N_("Interaction test not estimable: fewer than two levels have patients.")
_NO_TERMS = N_(
    "Interaction test not estimable: no treatment x subgroup term can be estimated (each level "
    "holds one arm only)."
)


def _interaction_models(event, trt, code, levels, sel):
    """Treatment + subgroup vs treatment * subgroup on patients with the subgroup known
    (``code``: level indices; ``levels``: the indices to test, first = reference)."""
    if event[sel].sum() == 0:
        return _NO_EVENTS
    rows, cell, t, kc, size = _cells(trt, code, sel)
    present = [lv for lv in levels if (kc == lv).any()]
    if len(present) < 2:
        return _ONE_LEVEL
    dummies = np.column_stack([(kc == lv).astype(float) for lv in present[1:]])
    base = np.hstack((t, dummies))
    return _models(rows, cell, base, np.hstack((base, t * dummies)), size) or _NO_TERMS


def _heterogeneity_models(event, trt, code, local_levels, sel):
    """One treatment effect vs one effect per local modality (R: anova(coxph(~ trt),
    coxph(~ modality))); ``local_levels`` are the local modalities' level indices."""
    if event[sel].sum() == 0:
        return _NO_EVENTS
    rows, cell, t, kc, size = _cells(trt, code, sel)
    present = [lv for lv in local_levels if (kc == lv).any()]
    if len(present) < 2:
        return _ONE_LEVEL
    full = np.column_stack([(kc == lv).astype(float) for lv in present])
    return _models(rows, cell, t, full, size) or _NO_TERMS


def _lr_tests(res, first: int, models) -> list[tuple[float, str]]:
    """Likelihood-ratio p-value (and a note, or "") of each (base, full, dof) model pair, from
    the engine's ``res`` whose groups ``first``, ``first + 1``, ... are the pairs' base and
    full models in order (a model given as a string is the note of a test not computed)."""
    out: list[tuple[float, str]] = []
    j = first
    for m in models:
        if isinstance(m, str):
            out.append((float("nan"), m))
            continue
        ll = res.loglik[j : j + 2]
        inf = [bool(res.infinite[k].any()) or not res.converged[k] for k in (j, j + 1)]
        j += 2
        stat = max(2 * (ll[1] - ll[0]), 0.0)
        why = ""
        if inf[0] or inf[1]:
            why = _(
                "Interaction test approximate: a coefficient of its models may be infinite (an "
                "arm x level cell without events)."
            )
        out.append((float(special.chdtrc(m[2], stat)), why))
    return out
