"""Filters on hand-built frames: exact selections, ignored filters, URL params, properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from hcc_core import (
    Filters,
    apply_filters,
    describe_filters,
    format_group_counts,
    group_counts,
    ignored_filters,
)
from hcc_core import schema as s


def frame() -> pd.DataFrame:
    """Eight patients with plain int/float/str columns, as a test would build them by hand."""
    return pd.DataFrame(
        {
            s.PATIENT_ID: list("abcdefgh"),
            s.LOCAL_MODALITY: ["none", "mTACE", "HAIC", "IMRT", "none", "mTACE", None, "HAIC"],
            s.TREATMENT_GROUP: [
                "systemic",
                "local+systemic",
                "local+systemic",
                "local+systemic",
                "systemic",
                "local+systemic",
                "systemic",
                "local+systemic",
            ],
            s.CHILD_PUGH_CLASS: ["A", "A", "B", "A", "B", "A", "A", None],
            s.BCLC_STAGE: ["C", "B", "C", "C", "B", "A", "C", "C"],
            s.TUMOR_NUMBER: "single multiple multiple single single multiple single single".split(),
            s.AFP: [10.0, 400.0, 399.9, np.nan, 5000.0, 20.0, 400.1, 1.0],
            s.ALBI_GRADE: [1, 2, 2, 3, 1, 2, 1, 2],
            s.AGE: [45, 50, 61.5, 70, 39, 80, 55, np.nan],
        }
    )


def ids(df: pd.DataFrame) -> list[str]:
    return df[s.PATIENT_ID].tolist()


def test_default_filters_keep_everything():
    df = frame()
    assert not Filters().is_active
    assert ids(apply_filters(df, Filters())) == list("abcdefgh")
    assert ignored_filters(df, Filters()) == [] and describe_filters(Filters()) == []


def test_each_filter_selects_exactly():
    df = frame()
    cases = {
        Filters(local_modalities=("none",)): "ae",
        Filters(local_modalities=("mTACE", "HAIC")): "bcfh",
        Filters(child_pugh_classes=("B",)): "ce",
        Filters(bclc_stages=("B", "A")): "bef",
        Filters(tumor_numbers=("multiple",)): "bcf",
        Filters(afp_high=True): "beg",  # AFP >= 400: 400.0, 5000, 400.1
        Filters(afp_high=False): "acfh",  # AFP < 400; missing AFP (d) matches neither
        Filters(albi_grades=(1,)): "aeg",
        Filters(age_min=50, age_max=70): "bcdg",  # inclusive bounds
        Filters(age_max=45): "ae",
        Filters(child_pugh_classes=("A",), bclc_stages=("C",), albi_grades=(1, 3)): "adg",
    }
    for filters, expected in cases.items():
        assert "".join(ids(apply_filters(df, filters))) == expected, filters


def test_filters_work_on_nullable_canonical_dtypes():
    df = frame()
    df[s.ALBI_GRADE] = df[s.ALBI_GRADE].astype("Int64")
    df.loc[0, s.ALBI_GRADE] = pd.NA
    assert ids(apply_filters(df, Filters(albi_grades=(1,)))) == ["e", "g"]


def test_missing_column_is_ignored_and_reported():
    df = frame().drop(columns=[s.BCLC_STAGE, s.AFP])
    f = Filters(bclc_stages=("C",), afp_high=True, child_pugh_classes=("A",))
    assert ids(apply_filters(df, f)) == list("abdfg")
    assert ignored_filters(df, f) == [
        "The BCLC stage filter was not applied because this cohort has no 'bclc_stage' column.",
        "The AFP filter was not applied because this cohort has no 'afp_ng_ml' column.",
    ]


def test_values_are_normalised_on_construction():
    f = Filters(
        local_modalities=["haic", "NONE", "bogus", "HAIC"],
        albi_grades=["2", 1.0],
        child_pugh_classes="a",
        age_min="40",
    )
    assert f.local_modalities == ("none", "HAIC")
    assert f.albi_grades == (1, 2)
    assert f.child_pugh_classes == ("A",)
    assert f.age_min == 40.0
    assert f == Filters(
        local_modalities=("HAIC", "none"), albi_grades=(2, 1), child_pugh_classes=("A",), age_min=40
    )
    assert hash(f) == hash(
        Filters(
            local_modalities=("none", "HAIC"),
            albi_grades=(1, 2),
            child_pugh_classes=("A",),
            age_min=40.0,
        )
    )


def test_query_params_round_trip_and_format():
    f = Filters(
        local_modalities=("none", "mTACE"),
        bclc_stages=("C",),
        afp_high=False,
        albi_grades=(1, 2),
        age_min=40,
        age_max=75.5,
    )
    params = f.to_query_params()
    assert params == {
        "modality": "none,mTACE",
        "bclc": "C",
        "albi": "1,2",
        "afp": "low",
        "age_min": "40",
        "age_max": "75.5",
    }
    assert Filters.from_query_params(params) == f
    assert Filters().to_query_params() == {}


def test_garbled_query_params_are_ignored():
    got = Filters.from_query_params(
        {
            "modality": "HAIC,,zzz",
            "albi": "7,two",
            "afp": "maybe",
            "age_min": "nan",
            "age_max": "1e999",
            "child_pugh": ["b", "C"],
            "patient_id": "P1",
            "utm": "x",
        }
    )
    assert got == Filters(local_modalities=("HAIC",), child_pugh_classes=("B", "C"))
    assert Filters.from_query_params(None) == Filters()  # type: ignore[arg-type]
    assert Filters.from_query_params({"age_min": object()}) == Filters()


def test_describe_filters():
    f = Filters(child_pugh_classes=("A", "B"), afp_high=True, age_min=50, age_max=70)
    assert describe_filters(f) == ["Child-Pugh class A or B", "AFP >= 400 ng/mL", "age 50-70 years"]


def test_group_counts_and_format():
    df = frame()
    sub = apply_filters(df, Filters(bclc_stages=("C",)))
    assert group_counts(sub) == {"systemic": 2, "local+systemic": 3}
    assert group_counts(sub.iloc[:0]) == {"systemic": 0, "local+systemic": 0}
    assert format_group_counts(sub, df) == "n = 5 of 8 patients (2 systemic, 3 local+systemic)"
    odd = df.assign(**{s.TREATMENT_GROUP: ["systemic"] * 6 + [None, "other"]})
    assert group_counts(odd) == {"systemic": 6, "local+systemic": 0, "other": 1, "missing": 1}


def test_apply_filters_100k_rows_is_fast():
    rng = np.random.default_rng(0)
    n = 100_000
    big = pd.DataFrame(
        {
            s.LOCAL_MODALITY: rng.choice(["none", "mTACE", "HAIC", "IMRT"], n).astype(object),
            s.CHILD_PUGH_CLASS: rng.choice(["A", "B"], n).astype(object),
            s.AFP: rng.lognormal(4, 2, n),
            s.AGE: rng.normal(60, 10, n),
            s.ALBI_GRADE: pd.array(rng.integers(1, 4, n), dtype="Int64"),
        }
    )
    f = Filters(
        local_modalities=("mTACE", "none"),
        child_pugh_classes=("A",),
        afp_high=True,
        albi_grades=(1, 2),
        age_min=40,
        age_max=70,
    )
    out = apply_filters(big, f)
    expected = (
        big[s.LOCAL_MODALITY].isin(["mTACE", "none"])
        & (big[s.CHILD_PUGH_CLASS] == "A")
        & (big[s.AFP] >= 400)
        & big[s.ALBI_GRADE].isin([1, 2]).to_numpy(bool)
        & big[s.AGE].between(40, 70)
    )
    assert len(out) == int(expected.sum())


# Properties --------------------------------------------------------------------------------

filters_strategy = st.builds(
    Filters,
    local_modalities=st.lists(st.sampled_from(s.LEVELS[s.LOCAL_MODALITY] + ("junk",))),
    child_pugh_classes=st.lists(st.sampled_from(s.LEVELS[s.CHILD_PUGH_CLASS])),
    bclc_stages=st.lists(st.sampled_from(s.LEVELS[s.BCLC_STAGE])),
    tumor_numbers=st.lists(st.sampled_from(s.LEVELS[s.TUMOR_NUMBER])),
    albi_grades=st.lists(st.sampled_from((1, 2, 3))),
    afp_high=st.sampled_from((None, True, False)),
    age_min=st.one_of(st.none(), st.floats(0, 120)),
    age_max=st.one_of(st.none(), st.floats(0, 120)),
)


@settings(max_examples=200, deadline=None)
@given(filters_strategy, st.integers(0, 7))
def test_filters_never_add_rows_and_keep_order(filters, n_drop):
    df = frame().iloc[n_drop:]
    out = apply_filters(df, filters)
    assert len(out) <= len(df)
    assert set(out.index) <= set(df.index)
    assert list(out.index) == sorted(out.index)  # original order kept
    assert apply_filters(out, filters).equals(out)  # idempotent
    # A stricter filter (added constraint) never keeps more rows.
    if not filters.tumor_numbers:
        stricter = Filters(**{**filters.__dict__, "tumor_numbers": ("single",)})
        assert len(apply_filters(df, stricter)) <= len(out)


@settings(max_examples=200, deadline=None)
@given(filters_strategy)
def test_query_params_round_trip_property(filters):
    params = filters.to_query_params()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    assert Filters.from_query_params(params) == filters


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=12), st.one_of(st.text(max_size=20), st.lists(st.text(max_size=8)))
    )
)
def test_from_query_params_never_raises(params):
    assert isinstance(Filters.from_query_params(params), Filters)


# Deaths at the time PFS was censored (issue 11 item 6) ---------------------------------------

_PFS_FILE = (
    "patient_id,local_modality,os_months,os_event,pfs_months,pfs_event\n"
    "P1,none,10,1,10,1\nP2,HAIC,7.5,1,7.5,0\nP3,none,9,1,4,0\nP4,HAIC,12,0,12,0\n"
    "P5,none,6,1,6,0\n"
)
_COUNTED = (
    "2 patient(s) died at the time their PFS was censored in the file; these deaths are "
    "counted as PFS events (RECIST/mRECIST definition: PFS ends at progression or death). The "
    "upload page can keep them censored instead."
)


def test_every_pfs_result_notes_deaths_counted_as_events_with_hand_computed_km():
    from hcc_core import fit_km, load_cohort, logrank_test, pfs_death_notes, rmst

    data = load_cohort(_PFS_FILE.encode()).data
    km = fit_km(data, "pfs")
    # PFS times 4+, 6, 7.5, 10, 12+: S = 3/4 at 6, 3/4 * 2/3 = 1/2 at 7.5, 1/2 * 1/2 at 10
    np.testing.assert_allclose(km.at([6, 7.5, 10])["survival"], [0.75, 0.5, 0.25], atol=1e-12)
    assert km.notes == (_COUNTED,)
    assert logrank_test(data, "pfs", "treatment_group").notes == (_COUNTED,)
    assert rmst(data, "pfs", None, tau=10).attrs["notes"] == (_COUNTED,)
    assert fit_km(data, "os").notes == ()  # OS is untouched
    assert pfs_death_notes(data, "pfs", data["patient_id"].isin(["P1", "P3"])) == ()
    one = pfs_death_notes(apply_filters(data, Filters(local_modalities=("HAIC",))), "pfs")
    assert one == (_COUNTED.replace("2 patient(s)", "1 patient(s)"),)


def test_kept_censored_deaths_are_noted_and_km_uses_the_file_coding():
    from hcc_core import fit_km, load_cohort

    data = load_cohort(_PFS_FILE.encode(), death_as_pfs_event=False).data
    km = fit_km(data, "pfs")
    # only P1's event at 10 with P1 and P4 at risk: S = 1/2
    np.testing.assert_allclose(km.at([9, 10])["survival"], [1.0, 0.5], atol=1e-12)
    assert km.notes == (
        "2 patient(s) died at the time their PFS was censored and are kept censored, as chosen "
        "on the upload page; under RECIST/mRECIST these deaths are PFS events, so PFS may be "
        "overestimated.",
    )


def test_pfs_note_counts_only_analysed_patients():
    from hcc_core import fit_km, load_cohort

    data = load_cohort(_PFS_FILE.encode()).data
    data.loc[data["patient_id"] == "P5", "pfs_months"] = np.nan  # excluded from the analysis
    km = fit_km(data, "pfs")
    assert km.notes[0] == "1 patient(s) without 'pfs_months' or 'pfs_event' were excluded."
    assert km.notes[1] == _COUNTED.replace("2 patient(s)", "1 patient(s)")


def test_cox_results_on_pfs_note_deaths_at_censoring_of_analysed_patients():
    from hcc_core import cox_univariable, fit_cox, load_cohort, subgroup_forest

    text = (
        "patient_id,local_modality,age,os_months,os_event,pfs_months,pfs_event\n"
        "P1,none,60,10,1,10,1\nP2,HAIC,55,7.5,1,7.5,0\nP3,none,70,9,1,4,0\n"
        "P4,HAIC,,12,0,12,0\nP5,none,50,6,1,6,0\nP6,mTACE,65,14,0,3,1\n"
        "P7,none,58,5,1,2,1\nP8,IMRT,62,11,1,8,1\n"
    )
    data = load_cohort(text.encode()).data
    assert data["pfs_death_at_censoring"].sum() == 2  # P2 and P5
    assert _COUNTED in fit_cox(data, "pfs", ["age"]).notes
    assert _COUNTED in cox_univariable(data, "pfs", ["age"]).attrs["notes"]
    assert _COUNTED in subgroup_forest(data, "pfs", []).attrs["notes"]
    assert not any("died at the time" in n for n in fit_cox(data, "os", ["age"]).notes)
    # the analysed patients only: without P5 (local_modality none) one death is left
    one = _COUNTED.replace("2 patient(s)", "1 patient(s)")
    assert one in fit_cox(data[data["patient_id"] != "P5"], "pfs", ["age"]).notes
