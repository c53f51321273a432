"""The meeting pack: results in words, a provenance stamp, slides (.pptx) and a report (.docx).

Nothing here computes a statistic. Every number comes from a result object the pages show
(``KMResult``, ``LogRankResult``, ``CoxResult``, ``TableOneResult``, ``ResponseResult``,
``AEResult``) and tables are the pages' own display tables (``format_table_one`` ...), so the
slides say what the screen says. Charts arrive as PNG bytes rendered from the pages' charts.

Every output carries where it came from (:class:`Provenance`): the population in words, n,
endpoint and method, the date, the app version and a data fingerprint (the first 12 hex digits
of the SHA-256 of the loaded file, checkable with ``sha256sum``), and "synthetic demo data"
where it is. Fonts are left to the document theme, so Chinese text can be added later.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import charts, suppression
from . import schema as S
from .cohort import Filters, describe_filters
from .cox import PAPER_COX_COVARIATES, fit_cox, term_label
from .errors import CohortError
from .i18n import N_, _
from .response import format_response, response_rates
from .safety import ae_table, format_ae_table
from .survival import fit_km, logrank_test
from .tables import format_p, format_table_one, label_of, level_label, table_one

__all__ = [
    "APP_NAME",
    "APP_VERSION",
    "Provenance",
    "make_provenance",
    "filter_tag",
    "file_name",
    "fingerprint",
    "survival_sentence",
    "stamp_chart_spec",
    "EndpointSection",
    "MeetingPack",
    "pack_sentences",
    "pack_methods",
    "pack_caveats",
    "build_slides",
    "build_report",
    "PackSettings",
    "collect_pack",
    "answer_lines",
    "cox_display",
    "ENDPOINT_TITLES",
    "ENDPOINT_SHORT",
]

APP_NAME = "HCC Cohort Explorer"
APP_VERSION = "0.1.0"  # = pyproject.toml's version (a test keeps them equal)
# Texts below are English msgids (N_): shown through _() in the language of the run.
DEMO_WORDS = N_("synthetic demo data")
DEMO_SUBTITLE = N_("Synthetic demo data: simulated patients, not real patient data")
ENDPOINT_SHORT = {"os": "OS", "pfs": "PFS"}
ENDPOINT_WORDS = {"os": N_("overall survival (OS)"), "pfs": N_("progression-free survival (PFS)")}
ENDPOINT_TITLES = {
    "os": N_("Overall survival (OS)"),
    "pfs": N_("Progression-free survival (PFS)"),
}
EVENT_WORDS = {"os": N_("deaths"), "pfs": N_("progressions or deaths")}
NON_RANDOMISED = N_(
    "Non-randomised comparison: differences between groups may reflect who was selected for "
    "local therapy rather than its effect. Read hazard ratios together with the multivariable "
    "model and the baseline table."
)

# Short URL-like keys for file names: km_os_cp-A_bclc-C.png
_TAG_KEYS = {
    "local_modalities": "mod",
    "child_pugh_classes": "cp",
    "bclc_stages": "bclc",
    "tumor_numbers": "tn",
    "albi_grades": "albi",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9.+_-]+")


# ---- provenance -------------------------------------------------------------------------------
def fingerprint(sha256: str) -> str:
    """The data fingerprint shown everywhere: the first 12 hex digits of a SHA-256."""
    return str(sha256)[:12].lower()


def filter_tag(filters: Filters) -> str:
    """A short, file-name-safe tag of the active filters, e.g. ``"cp-A_bclc-C"``; ``"all"``.

    Levels of one filter are joined with ``+`` (``mod-HAIC+none``); AFP reads ``afp-high`` or
    ``afp-low``; age ``age-50-70`` (``age-50-`` or ``age--70`` for one bound).
    """
    parts = []
    for name, key in _TAG_KEYS.items():
        chosen = getattr(filters, name)
        if chosen:
            parts.append(f"{key}-{'+'.join(str(v) for v in chosen)}")
    if filters.afp_high is not None:
        parts.append("afp-high" if filters.afp_high else "afp-low")
    if filters.age_min is not None or filters.age_max is not None:
        lo = "" if filters.age_min is None else f"{filters.age_min:g}"
        hi = "" if filters.age_max is None else f"{filters.age_max:g}"
        parts.append(f"age-{lo}-{hi}")
    return "_".join(_UNSAFE.sub("", p) for p in parts) or "all"


def file_name(what: str, filters: Filters, ext: str, endpoint: str | None = None) -> str:
    """``{what}[_{endpoint}]_{filter tag}.{ext}``, e.g. ``km_os_cp-A_bclc-C.png``."""
    parts = [_UNSAFE.sub("-", p) for p in (what, endpoint) if p]
    return f"{'_'.join([*parts, filter_tag(filters)])}.{ext.lstrip('.')}"


@dataclass(frozen=True)
class Provenance:
    """Where a result came from, stamped on every slide, report, chart and table export.

    Attributes
    ----------
    population : filters in words ("Child-Pugh class A; BCLC stage C") or "all patients".
    n, n_total : patients after filters, and in the loaded cohort.
    source : the cohort's name ("Synthetic demo cohort", "Uploaded: cohort.xlsx").
    fingerprint : first 12 hex digits of the SHA-256 of the loaded file.
    is_demo : the synthetic demo cohort is loaded.
    created : when the output was made (UTC).
    tag : :func:`filter_tag` of the filters, for file names.
    app_version : this app's version.
    suppressed_below : small-cell suppression threshold of these outputs (None: off); the
        stamp then says "Counts below 5 shown as <5.", and the pack is built with it.
    """

    population: str
    n: int
    n_total: int
    source: str
    fingerprint: str
    is_demo: bool
    created: dt.datetime
    tag: str = "all"
    app_version: str = APP_VERSION
    suppressed_below: int | None = None  # small-cell suppression of the outputs (or None)

    @property
    def suppression_note(self) -> str | None:
        """ "Counts below 5 shown as <5." when the outputs suppress small counts."""
        with suppression.suppressing(self.suppressed_below):
            return suppression.footnote()

    @property
    def date(self) -> str:
        return self.created.strftime("%Y-%m-%d %H:%M UTC")

    @property
    def patients(self) -> str:
        return _("{n} of {total} patients").format(n=self.n, total=self.n_total)

    def lines(self, *, endpoint: str | None = None, method: str | None = None) -> list[str]:
        """The stamp as lines ("Population: ...", "Patients: ...", ...) for notes and footers."""
        out = [
            _("Population: {population}").format(population=self.population),
            _("Patients: {patients}").format(patients=self.patients),
        ]
        if endpoint:
            words = ENDPOINT_WORDS.get(endpoint)
            out.append(_("Endpoint: {endpoint}").format(endpoint=_(words) if words else endpoint))
        if method:
            out.append(_("Method: {method}").format(method=method))
        source = f"{self.source} ({_(DEMO_WORDS)})" if self.is_demo else self.source
        out += [
            _(
                "Data: {source}, fingerprint {fingerprint} (first 12 hex digits of the data's "
                "SHA-256)"
            ).format(source=source, fingerprint=self.fingerprint),
            _("Made {date} with {app} {version}").format(
                date=self.date, app=APP_NAME, version=self.app_version
            ),
        ]
        if self.suppression_note:
            out.append(self.suppression_note)
        return out

    def footer(self, *, endpoint: str | None = None, method: str | None = None) -> str:
        """The stamp on one line, for slide and page footers and chart footnotes."""
        parts = [self.population, _n_of(self.n, self.n_total)]
        if endpoint:
            parts.append(ENDPOINT_SHORT.get(endpoint, endpoint))
        if method:
            parts.append(method)
        parts += [
            self.date,
            f"{APP_NAME} {self.app_version}",
            _("data {fingerprint}").format(fingerprint=self.fingerprint),
        ]
        if self.is_demo:
            parts.append(_(DEMO_WORDS))
        if self.suppression_note:
            parts.append(self.suppression_note)
        return " · ".join(parts)


def _n_of(n: int, total: int) -> str:
    return _("n = {n} of {total}").format(n=suppression.shown(n), total=total)


def make_provenance(
    filters: Filters,
    *,
    n: int,
    n_total: int,
    source: str,
    sha256: str,
    is_demo: bool,
    created: dt.datetime | None = None,
    population: str | None = None,
) -> Provenance:
    """Build the :class:`Provenance` of the current view.

    Parameters
    ----------
    filters : the active filters (described in words with ``describe_filters``).
    n, n_total : patients after filters, and in the loaded cohort.
    source : the cohort's name as the sidebar shows it.
    sha256 : SHA-256 (hex) of the loaded data; its first 12 digits are the fingerprint.
    is_demo : the synthetic demo cohort is loaded.
    created : time of the output (default: now, UTC).
    population : the filters in words as the app's sidebar says them (default: built with
        ``describe_filters``).
    """
    words = describe_filters(filters)
    return Provenance(
        population=population or (_("; ").join(words) if words else _("all patients")),
        n=int(n),
        n_total=int(n_total),
        source=source,
        fingerprint=fingerprint(sha256),
        is_demo=bool(is_demo),
        created=(created or dt.datetime.now(dt.UTC)).replace(microsecond=0),
        tag=filter_tag(filters),
        suppressed_below=suppression.current(),
    )


def stamp_chart_spec(
    spec: dict,
    provenance: Provenance,
    *,
    title: str | None = None,
    endpoint: str | None = None,
    method: str | None = None,
    width: int = 760,
) -> dict:
    """A Vega-Lite spec with a footnote carrying the stamp, and a title when given.

    Parameters
    ----------
    spec : the chart's Vega-Lite dict (``chart.to_dict()``); not modified.
    provenance : where the data came from.
    title : what the chart shows, e.g. "Overall survival (OS) by treatment group"; with a
        subtitle naming the population and n. None keeps the chart's own title only.
    endpoint, method : named in the footnote (and the endpoint in the subtitle).
    width : footnote width in pixels (lines wrap at about ``width / 6`` characters).

    Returns
    -------
    dict
        ``{"vconcat": [chart, footnote]}`` (plus ``"title"``) with the chart's top-level
        ``config``, ``datasets`` and ``params`` kept at the top; renders with vl-convert.
        The footnote says: population, n, endpoint, method, date, app version, data
        fingerprint and source, and "synthetic demo data" where it is.
    """
    inner = {k: v for k, v in spec.items() if k not in _TOP_LEVEL_ONLY}
    who = f"{provenance.population} · {_n_of(provenance.n, provenance.n_total)}"
    if endpoint:
        who += f" · {ENDPOINT_SHORT.get(endpoint, endpoint)}"
    parts = (
        who,
        method,
        provenance.date,
        f"{APP_NAME} {provenance.app_version}",
        _("data {fingerprint} ({source})").format(
            fingerprint=provenance.fingerprint, source=provenance.source
        ),
        _(DEMO_WORDS) if provenance.is_demo else None,
    )
    foot = _wrap(" · ".join(p for p in parts if p), max(40, width // 6))
    footnote = {
        "data": {"values": [{"i": i, "line": line} for i, line in enumerate(foot)]},
        "mark": {
            "type": "text",
            "align": "left",
            "baseline": "top",
            "fontSize": 11,
            "color": "#444",
        },
        "encoding": {
            "y": {"field": "i", "type": "ordinal", "axis": None},
            "text": {"field": "line", "type": "nominal"},
            "x": {"value": 0},
        },
        "width": width,
        "height": 15 * len(foot),
    }
    out = {k: v for k, v in spec.items() if k in _TOP_LEVEL_ONLY}
    if title:
        subtitle = [who]
        if provenance.is_demo:
            subtitle.append(_(DEMO_SUBTITLE))
        out["title"] = {"text": title, "subtitle": subtitle, "anchor": "start"}
    out["vconcat"] = [inner, footnote]
    return out


_TOP_LEVEL_ONLY = (
    "$schema",
    "config",
    "datasets",
    "params",
    "background",
    "padding",
    "autosize",
    "usermeta",
)


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


# ---- results in words -------------------------------------------------------------------------
def _months(x: float) -> str:
    return "NE" if x is None or not np.isfinite(x) else f"{x:.1f}"


def _ci(lo: float, hi: float) -> str:
    return f"{_months(lo)}-{_months(hi)}"


def _hr_text(hr: float, lo: float, hi: float) -> str | None:
    if not all(np.isfinite(v) for v in (hr, lo, hi)) or hr <= 0 or hi > 1e6:
        return None
    return f"{hr:.2f}"


def _p_words(p: float) -> str:
    text = format_p(p)
    if text == "-":
        return _("p not available")
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _therapy(by: str, level) -> str | None:
    """The treatment a group received, in words ("systemic therapy alone"), or None."""
    if by == S.TREATMENT_GROUP:
        return {
            S.SYSTEMIC: _("systemic therapy alone"),
            S.LOCAL_SYSTEMIC: _("local + systemic therapy"),
        }.get(level, str(level))
    if by == S.LOCAL_MODALITY:
        if level == S.MODALITY_NONE:
            return _("systemic therapy alone")
        return _("{modality} + systemic therapy").format(modality=level)
    return None


def _arm(by: str, level) -> str:
    """The prepositional phrase a clinician writes for a group."""
    therapy = _therapy(by, level)
    if therapy is not None:
        return _("with {therapy}").format(therapy=therapy)
    return _("in {label} {level}").format(label=label_of(by), level=level_label(by, level))


def _group_name(by: str, level) -> str:
    therapy = _therapy(by, level)
    if therapy is not None:
        return therapy
    return f"{label_of(by)} {level_label(by, level)}"


def _conf_words(conf_level: float) -> str:
    return _("{level}% CI").format(level=f"{round(100 * conf_level):d}")


def _median_parts(row, first: bool, conf: str) -> tuple[str, str]:
    """("20.3 months" or "not reached", "95% CI 15.7-NE" or "15.7-NE")."""
    ci = _ci(row["median_lower"], row["median_upper"])
    ci = f"{conf} {ci}" if first else ci
    if not np.isfinite(row["median"]):
        return _("not reached"), ci
    return _("{months} months").format(months=f"{row['median']:.1f}"), ci


def _median_words(row, first: bool, conf: str) -> str:
    value, ci = _median_parts(row, first, conf)
    return _("{value} ({ci})").format(value=value, ci=ci)


def _hr_of(cox, by: str, level):
    """(hr, lower, upper) of ``by[level]`` in a Cox result, or None."""
    if cox is None:
        return None
    term = f"{by}[{level}]"
    if term not in cox.table.index:
        return None
    r = cox.table.loc[term]
    return float(r["hr"]), float(r["hr_lower"]), float(r["hr_upper"])


def survival_sentence(km, logrank=None, cox=None) -> str:
    """One sentence a clinician writes for an endpoint, built from the results.

    Parameters
    ----------
    km : KMResult
        ``fit_km(df, endpoint, by=...)``: medians and their CIs, n and events per group.
    logrank : LogRankResult, optional
        ``logrank_test(df, endpoint, by)``: the log-rank p.
    cox : CoxResult, optional
        ``fit_cox(df, endpoint, (by,))``: hazard ratios of each group against the first.

    Returns
    -------
    str
        e.g. "Median OS was 20.3 months (95% CI 15.7-NE) with local + systemic therapy vs 14.7
        months (10.0-21.2) with systemic therapy alone (HR 0.57, 95% CI 0.33-0.99; log-rank
        p = 0.045; 95 patients, 52 deaths)." Months and their CIs to one decimal ("NE" where a
        bound is not reached), HRs to two, p as on the pages; comparison groups first, the
        reference (first) group last, as the HR reads.

    Notes
    -----
    Wording only; every number is read from ``km.summary``, ``logrank.p_value`` and
    ``cox.table`` (R: ``survfit``, ``survdiff``, ``coxph``).
    """
    name = ENDPOINT_SHORT.get(km.endpoint, km.endpoint.upper())
    conf = _conf_words(km.conf_level)
    summary = km.summary.reset_index(drop=True)
    n, events = int(summary["n"].sum()), int(summary["events"].sum())
    tally = _("{n} patients, {events} {event_words}").format(
        n=suppression.shown(n), events=suppression.shown(events), event_words=_(EVENT_WORDS.get(km.endpoint, N_("events")))
    )
    if km.by is None or len(summary) < 2:
        row = summary.iloc[0]
        where = "" if km.by is None else f" {_arm(km.by, row['group'])}"
        value, ci = _median_parts(row, True, conf)
        return _("Median {endpoint} was {value} ({ci}; {tally}){where}.").format(
            endpoint=name, value=value, ci=ci, tally=tally, where=where
        )
    ref, others = summary.iloc[0], [summary.iloc[i] for i in range(1, len(summary))]
    arm_text = _("{median} {arm}")
    arms = [
        arm_text.format(median=_median_words(r, i == 0, conf), arm=_arm(km.by, r["group"]))
        for i, r in enumerate(others)
    ]
    ref_text = arm_text.format(
        median=_median_words(ref, False, conf), arm=_arm(km.by, ref["group"])
    )
    if len(others) == 1:
        body = _("{group} vs {reference}").format(group=arms[0], reference=ref_text)
    else:
        body = _("{groups} and {reference}").format(groups=", ".join(arms), reference=ref_text)
    stats = []
    hrs = []
    for r in others:
        est = _hr_of(cox, km.by, r["group"])
        shown = _hr_text(*est) if est else None
        if len(others) == 1:
            hrs.append(
                _("HR {hr}, {conf} {low}-{high}").format(
                    hr=shown, conf=conf, low=f"{est[1]:.2f}", high=f"{est[2]:.2f}"
                )
                if shown
                else _("HR not estimable")
            )
        else:
            label = _group_name(km.by, r["group"])
            hrs.append(
                f"{label} {shown} ({est[1]:.2f}-{est[2]:.2f})"
                if shown
                else _("{group} not estimable").format(group=label)
            )
    if cox is not None:
        if len(others) == 1:
            stats.append(hrs[0])
        else:
            stats.append(
                _("HR vs {reference}: {hrs}").format(
                    reference=_group_name(km.by, ref["group"]), hrs=", ".join(hrs)
                )
            )
    if logrank is not None:
        stats.append(_("log-rank {p}").format(p=_p_words(logrank.p_value)))
    stats.append(tally)
    return _("Median {endpoint} was {body} ({stats}).").format(
        endpoint=name, body=body, stats=_("; ").join(stats)
    )


# ---- the pack -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EndpointSection:
    """One endpoint's survival results as the Survival page shows them."""

    endpoint: str
    km: object  # KMResult
    logrank: object | None = None  # LogRankResult
    cox: object | None = None  # CoxResult of the grouping alone: the HR(s)
    chart_png: bytes | None = None  # the page's KM chart with its risk table

    @property
    def sentence(self) -> str:
        return survival_sentence(self.km, self.logrank, self.cox)


@dataclass(frozen=True)
class MeetingPack:
    """Everything a tumour-board pack shows, as the pages computed it.

    ``tables`` are the pages' display tables (``format_table_one``, ``format_response``,
    ``format_ae_table``); ``results`` their result objects (for methods and notes).
    ``unavailable`` holds a sentence per analysis that could not run on this cohort.
    """

    provenance: Provenance
    survival: tuple[EndpointSection, ...] = ()
    cox_model: object | None = None  # CoxResult (multivariable, the Cox page's)
    cox_table: pd.DataFrame | None = None  # its display table (label, hr, ...)
    forest_png: bytes | None = None
    table_one: object | None = None  # TableOneResult
    table_one_display: pd.DataFrame | None = None
    response: object | None = None  # ResponseResult
    response_display: pd.DataFrame | None = None
    response_png: bytes | None = None
    adverse_events: object | None = None  # AEResult
    adverse_events_display: pd.DataFrame | None = None
    unavailable: tuple[str, ...] = field(default=())


def pack_sentences(pack: MeetingPack) -> list[str]:
    """The results in words: one sentence per endpoint."""
    return [s.sentence for s in pack.survival]


def pack_methods(pack: MeetingPack) -> list[tuple[str, str]]:
    """(analysis, method) pairs naming each estimator and test as the pages do."""
    out = []
    for s in pack.survival:
        name = ENDPOINT_SHORT.get(s.endpoint, s.endpoint)
        out.append((_("Survival ({endpoint})").format(endpoint=name), s.km.method))
        if s.logrank is not None:
            out.append((_("Comparison ({endpoint})").format(endpoint=name), s.logrank.method))
        if s.cox is not None:
            out.append((_("Hazard ratio ({endpoint})").format(endpoint=name), s.cox.method))
    if pack.cox_model is not None:
        out.append((_("Multivariable Cox model"), pack.cox_model.method))
    for label, res in (
        (_("Table 1"), pack.table_one),
        (_("Response"), pack.response),
        (_("Adverse events"), pack.adverse_events),
    ):
        if res is not None:
            out.append((label, res.method))
    return out


def pack_caveats(pack: MeetingPack) -> list[str]:
    """Caveats and notes the pages show beside these results (deduplicated, in order)."""
    out: list[str] = []
    if pack.provenance.is_demo:
        out.append(
            _(
                "Synthetic demo cohort: simulated patients calibrated to Xia et al., Hepat "
                "Mon 2026. Not real patient data."
            )
        )
    for s in pack.survival:
        if s.km.by in (S.TREATMENT_GROUP, S.LOCAL_MODALITY):
            out.append(_(NON_RANDOMISED))
        summary = s.km.summary
        small = summary[(summary["n"] < 10) | (summary["events"] < 5)]
        if len(small):
            groups = ", ".join(
                _("{group}: n = {n}, {events} events").format(
                    group=_group_name(s.km.by, g) if s.km.by else _("all"),
                    n=suppression.shown(n), events=suppression.shown(e)
                )
                for g, n, e in zip(small["group"], small["n"], small["events"], strict=True)
            )
            out.append(
                _(
                    "{endpoint}: small groups ({groups}). Estimates are unstable with fewer "
                    "than 10 patients or 5 events per group."
                ).format(endpoint=ENDPOINT_SHORT.get(s.endpoint, s.endpoint), groups=groups)
            )
        out += list(s.km.notes)
        if s.cox is not None:
            out += list(s.cox.notes)
    if pack.cox_model is not None:
        out += list(pack.cox_model.notes)
    for res in (pack.table_one, pack.response, pack.adverse_events):
        if res is not None:
            out += list(res.notes)
    out += list(pack.unavailable)
    return list(dict.fromkeys(out))


def answer_lines(section: EndpointSection) -> list[str]:
    """The answer box beside a KM chart: n, events, median (CI) per group; HR; log-rank p."""
    km = section.km
    conf = _conf_words(km.conf_level)
    lines = []
    for _row, r in km.summary.iterrows():
        label = _group_name(km.by, r["group"]) if km.by else _("all patients")
        med = _median_parts(r, True, conf)
        events = _("deaths") if km.endpoint == "os" else _("events")
        lines.append(
            _("{group}: n = {n}, {events} {event_words}; median {median} ({ci})").format(
                group=f"{label[:1].upper()}{label[1:]}",
                n=suppression.shown(r["n"]),
                events=suppression.shown(r["events"]),
                event_words=events,
                median=med[0],
                ci=med[1],
            )
        )
    if section.cox is not None and km.by is not None:
        ref = km.summary["group"].iloc[0]
        for g in km.summary["group"].iloc[1:]:
            est = _hr_of(section.cox, km.by, g)
            shown = _hr_text(*est) if est else None
            p = section.cox.table.loc[f"{km.by}[{g}]", "p_value"] if est else np.nan
            vs = _("{group} vs {reference}").format(
                group=_group_name(km.by, g), reference=_group_name(km.by, ref)
            )
            lines.append(
                _("HR {versus}: {hr} ({conf} {low}-{high}), Wald {p}").format(
                    versus=vs,
                    hr=shown,
                    conf=conf,
                    low=f"{est[1]:.2f}",
                    high=f"{est[2]:.2f}",
                    p=_p_words(p),
                )
                if shown
                else _("HR {versus}: not estimable").format(versus=vs)
            )
    if section.logrank is not None:
        lines.append(_("Log-rank {p}").format(p=_p_words(section.logrank.p_value)))
    return lines


def cox_display(table: pd.DataFrame) -> pd.DataFrame:
    """The Cox page's model table in words: term, HR (95% CI), p."""
    not_estimable = _("not estimable")
    return pd.DataFrame(
        {
            _("Term"): table["label"].astype(str),
            _("HR (95% CI)"): [
                not_estimable
                if not (np.isfinite(h) and np.isfinite(lo) and np.isfinite(hi))
                or hi > 1e6
                or h <= 0
                else f"{h:.2f} ({lo:.2f}-{hi:.2f})"
                for h, lo, hi in zip(table["hr"], table["hr_lower"], table["hr_upper"], strict=True)
            ],
            "p": [format_p(p) for p in table["p_value"]],
        }
    )


def _slide_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A display table without the columns only a statistician reads (they are in the report)."""
    report_only = {_(c) for c in _REPORT_ONLY}
    return frame[[c for c in frame.columns if c not in report_only]]


_REPORT_ONLY = (N_("Test"), N_("Statistic"), N_("Missing"), N_("Chi-square"))


# ---- slides -------------------------------------------------------------------------------------
def _with_suppression_of_pack(build):
    """Build under the pack's suppression setting: downloads are built after the page's run."""

    def wrapped(pack: MeetingPack) -> bytes:
        with suppression.suppressing(pack.provenance.suppressed_below):
            return build(pack)

    wrapped.__doc__, wrapped.__name__ = build.__doc__, build.__name__
    return wrapped


@_with_suppression_of_pack
def build_slides(pack: MeetingPack) -> bytes:
    """The pack as 16:9 slides (.pptx bytes), large type, native tables, charts as images.

    Slides: title; results in words; KM per endpoint (chart with risk table and the answer
    box); Cox forest; Table 1; response; adverse events; methods and caveats. Every slide's
    footer carries the provenance stamp.

    Notes
    -----
    python-pptx; fonts are the theme's (no font is forced, so CJK text can fall back).
    """
    from .office import SlideDeck  # python-pptx loads on the first download, not at start

    prov = pack.provenance
    deck = SlideDeck(prov)
    subtitle = [
        _("Population: {population}").format(population=prov.population),
        f"{prov.patients} · {prov.source}",
        f"{prov.date} · {APP_NAME} {prov.app_version} · "
        + _("data {fingerprint}").format(fingerprint=prov.fingerprint),
    ]
    if prov.is_demo:
        subtitle.append(_(DEMO_SUBTITLE))
    deck.title_slide(_("{app}: tumour-board pack").format(app=APP_NAME), subtitle)
    if pack.survival:
        deck.bullets(
            _("Results in words"),
            pack_sentences(pack),
            size=22,
            method=_("Kaplan-Meier, log-rank test, Cox model"),
        )
    for s in pack.survival:
        deck.chart_with_box(
            _endpoint_title(s), s.chart_png, answer_lines(s), endpoint=s.endpoint,
            method=s.km.method,
        )
    if pack.cox_model is not None:
        m = pack.cox_model
        title = _("Cox model ({endpoint}): {n} patients, {events} events").format(
            endpoint=ENDPOINT_SHORT.get(m.endpoint, m.endpoint), n=suppression.shown(m.n),
            events=suppression.shown(m.events)
        )
        if pack.forest_png is not None:
            deck.chart(title, pack.forest_png, endpoint=m.endpoint, method=m.method)
        if pack.cox_table is not None:
            deck.table(
                title,
                cox_display(pack.cox_table),
                endpoint=m.endpoint,
                method=m.method,
                notes=m.notes,
            )
    if pack.table_one_display is not None:
        deck.table(
            _(TABLE_ONE_TITLE),
            _slide_columns(pack.table_one_display),
            method=_("Table 1 tests: see Methods; '*' expected count < 5, read Fisher's exact p"),
        )
    if pack.response_display is not None:
        deck.table(
            _("Tumour response (mRECIST): ORR and DCR"),
            _slide_columns(pack.response_display),
            method=_("Clopper-Pearson CIs; chi-square and Fisher's exact test"),
            notes=(
                _(
                    "ORR = CR + PR; DCR = CR + PR + SD; [95% CI]; difference (95% CI) in "
                    "percentage points."
                ),
            ),
        )
    if pack.adverse_events_display is not None:
        deck.table(
            _(AE_TITLE),
            pack.adverse_events_display,
            method=_("n (%); chi-square, Fisher's exact test where '*'"),
        )
    deck.bullets(_("Methods"), [f"{a}: {m}" for a, m in pack_methods(pack)], size=14)
    deck.bullets(_("Caveats"), pack_caveats(pack) or [_("None noted.")], size=16)
    return deck.save()


TABLE_ONE_TITLE = N_("Baseline characteristics (Table 1)")
RESPONSE_TITLE = N_("Tumour response (mRECIST)")
AE_TITLE = N_("Adverse events (CTCAE v5)")


def _endpoint_title(section: EndpointSection) -> str:
    """"Overall survival (OS) by treatment group", in the current language."""
    words = ENDPOINT_TITLES.get(section.endpoint)
    title = _(words) if words else section.endpoint
    if section.km.by:
        title = _("{endpoint} by {grouping}").format(
            endpoint=title, grouping=label_of(section.km.by).lower()
        )
    return title


# ---- report -------------------------------------------------------------------------------------
@_with_suppression_of_pack
def build_report(pack: MeetingPack) -> bytes:
    """The pack as a Word report (.docx bytes): the slides' content as a document.

    Sections: provenance, results in words, survival per endpoint (chart, answer, notes),
    multivariable Cox model, Table 1, response, adverse events, a Methods paragraph naming
    each estimator and test as the pages do, and caveats. The footer of every page carries
    the stamp.

    Notes
    -----
    python-docx; native Word tables (editable), charts as 2x PNG images.
    """
    from .office import ReportDocument  # python-docx: on the first download, not at start

    prov = pack.provenance
    doc = ReportDocument(prov)
    doc.heading(_("{app}: tumour-board report").format(app=APP_NAME), 0)
    for line in prov.lines():
        doc.paragraph(line, size=10)
    doc.heading(_("Results in words"), 1)
    for sentence in pack_sentences(pack) or [
        _("No survival analysis could run on this cohort.")
    ]:
        doc.paragraph(sentence)
    for s in pack.survival:
        doc.heading(_endpoint_title(s), 1)
        doc.picture(
            s.chart_png,
            _("Kaplan-Meier estimate of {endpoint} with numbers at risk.").format(
                endpoint=_(ENDPOINT_WORDS[s.endpoint])
            )
            + " "
            + prov.footer(endpoint=s.endpoint),
        )
        for line in answer_lines(s):
            doc.bullet(line)
        doc.paragraph(s.km.method, size=9)
    if pack.cox_model is not None:
        m = pack.cox_model
        doc.heading(
            _("Multivariable Cox model ({endpoint})").format(
                endpoint=ENDPOINT_SHORT.get(m.endpoint, m.endpoint)
            ),
            1,
        )
        doc.paragraph(
            _("{n} patients, {events} events; concordance (Harrell's C) {c}.").format(
                n=suppression.shown(m.n), events=suppression.shown(m.events),
                c=f"{m.concordance:.3f}"
            )
        )
        doc.picture(pack.forest_png, _("Hazard ratios (95% CI) of the multivariable model."))
        if pack.cox_table is not None:
            doc.table(cox_display(pack.cox_table))
        for note in m.notes:
            doc.paragraph(note, size=9)
    for title, display, res in (
        (TABLE_ONE_TITLE, pack.table_one_display, pack.table_one),
        (RESPONSE_TITLE, pack.response_display, pack.response),
        (AE_TITLE, pack.adverse_events_display, pack.adverse_events),
    ):
        if display is None:
            continue
        doc.heading(_(title), 1)
        if title == RESPONSE_TITLE and res is not None and suppression.reveals(res.counts["n"]):
            doc.paragraph(suppression.chart_withheld_note(), size=9)
        elif title == RESPONSE_TITLE and pack.response_png is not None:
            doc.picture(pack.response_png, _("Best overall response (mRECIST) per group."))
        doc.table(display)
        for line in res.footnotes if res is not None else ():
            doc.paragraph(line, size=9)
    doc.heading(_("Methods"), 1)
    doc.paragraph(" ".join(f"{a}: {m.rstrip('.')}." for a, m in pack_methods(pack)))
    doc.heading(_("Caveats"), 1)
    for line in pack_caveats(pack) or [_("None noted.")]:
        doc.bullet(line)
    return doc.save()


# ---- collecting the pack ------------------------------------------------------------------------
@dataclass(frozen=True)
class PackSettings:
    """The pages' settings the pack follows (the Survival and Cox pages' choices).

    Attributes
    ----------
    by : the Survival page's "Compare by" column (None = whole cohort).
    conf_type : the Survival page's CI type for Kaplan-Meier.
    cox_endpoint : the Cox page's endpoint.
    covariates : the Cox page's multivariable model.
    endpoints : survival endpoints in the pack.
    font_size : chart text size in px (the pages' presentation mode uses 20).
    table_one_by, response_by, ae_by : (compare-by column, Overall column shown) of the
        Table 1, Response and Safety pages.
    """

    by: str | None = S.TREATMENT_GROUP
    conf_type: str = "log-log"
    cox_endpoint: str = "os"
    covariates: tuple[str, ...] = tuple(PAPER_COX_COVARIATES)
    endpoints: tuple[str, ...] = ("os", "pfs")
    font_size: int = 14
    table_one_by: tuple[str, bool] = (S.TREATMENT_GROUP, True)
    response_by: tuple[str, bool] = (S.TREATMENT_GROUP, True)
    ae_by: tuple[str, bool] = (S.TREATMENT_GROUP, True)


def _png(chart, scale: float) -> bytes | None:
    return charts.chart_png(chart, scale=scale) if scale > 0 else None


def collect_pack(
    df: pd.DataFrame,
    provenance: Provenance,
    settings: PackSettings | None = None,
    *,
    scale: float = 3.0,
) -> MeetingPack:
    """Run the pages' analyses with the pages' settings and gather them into a pack.

    Parameters
    ----------
    df : the filtered cohort the pages show.
    provenance : its stamp (:func:`make_provenance`).
    settings : the pages' current choices; default as the pages open.
    scale : chart PNG scale (3 = about 2,300 px wide, sharp on a projector); 0 = no charts.

    Returns
    -------
    MeetingPack
        Results from the same functions and arguments the pages call (``fit_km``,
        ``logrank_test``, ``fit_cox``, ``table_one``, ``response_rates``, ``ae_table``) and
        their display tables. An analysis that cannot run on this cohort is left out and its
        reason kept in ``unavailable`` (shown under Caveats).
    """
    with suppression.suppressing(provenance.suppressed_below):
        return _collect(df, provenance, settings or PackSettings(), scale)


def _collect(
    df: pd.DataFrame, provenance: Provenance, settings: PackSettings, scale: float
) -> MeetingPack:
    unavailable: list[str] = []

    def run(what: str, fn, *args, **kwargs):
        try:
            return fn(df, *args, **kwargs)
        except CohortError as exc:
            unavailable.append(_("{what} is not in this pack: {error}").format(what=what, error=exc))
            return None

    by = settings.by if settings.by in df.columns else None
    sections = []
    for ep in settings.endpoints:
        name = ENDPOINT_SHORT.get(ep, ep)
        km = run(
            _("Survival ({endpoint})").format(endpoint=name),
            fit_km,
            ep,
            by=by,
            conf_type=settings.conf_type,
        )
        if km is None:
            continue
        lr = cox = None
        if by is not None and len(km.summary) > 1:
            lr = run(_("Log-rank test ({endpoint})").format(endpoint=name), logrank_test, ep, by)
            cox = run(_("Hazard ratio ({endpoint})").format(endpoint=name), fit_cox, ep, (by,))
        p_text = _("Log-rank {p}").format(p=_p_words(lr.p_value)) if lr is not None else None
        names = {str(g): level_label(by, g) for g in km.summary["group"]} if by else None
        chart = charts.km_chart(
            km, p_value_text=p_text, font_size=settings.font_size, group_labels=names
        )
        png = _png(chart, scale)
        sections.append(EndpointSection(ep, km, lr, cox, png))
    model = cox_table = forest = None
    covariates = tuple(c for c in settings.covariates if c)
    if covariates:
        model = run(_("The multivariable Cox model"), fit_cox, settings.cox_endpoint, covariates)
    if model is not None:
        cox_table = model.table.reset_index(names="term")
        cox_table.insert(0, "label", [term_label(t) for t in cox_table["term"]])
        forest = _png(charts.forest_chart(cox_table, font_size=settings.font_size), scale)
    t1 = run(
        _("Table 1"), table_one, by=settings.table_one_by[0], overall=settings.table_one_by[1]
    )
    resp = run(
        _("Tumour response"),
        response_rates,
        by=settings.response_by[0],
        overall=settings.response_by[1],
    )
    ae = run(_("Adverse events"), ae_table, by=settings.ae_by[0], overall=settings.ae_by[1])
    return MeetingPack(
        provenance=provenance,
        survival=tuple(sections),
        cox_model=model,
        cox_table=cox_table,
        forest_png=forest,
        table_one=t1,
        table_one_display=format_table_one(t1) if t1 is not None else None,
        response=resp,
        response_display=format_response(resp) if resp is not None else None,
        response_png=(
            _png(charts.response_bar_chart(resp.counts, font_size=settings.font_size), scale)
            if resp is not None and not suppression.reveals(resp.counts["n"])
            else None
        ),
        adverse_events=ae,
        adverse_events_display=format_ae_table(ae) if ae is not None else None,
        unavailable=tuple(unavailable),
    )
