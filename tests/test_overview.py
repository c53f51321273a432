"""cohort_overview on hand-built frames."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hcc_core.overview import cohort_overview


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "patient_id": ["a", "b", "c", "d", "e"],
        "local_modality": ["HAIC", "none", "mTACE", "none", "HAIC"],
        "treatment_group": ["local+systemic", "systemic", "local+systemic", "systemic",
                            "local+systemic"],
        "os_event": pd.array([1, 0, 1, 1, pd.NA], dtype="Int64"),
        "pfs_event": pd.array([1, 1, 1, 1, 0], dtype="Int64"),
        "age": [50.0, np.nan, 61.0, 70.0, np.nan],
        "treatment_start_date": pd.to_datetime(["2021-01-05", "2020-09-01", None,
                                                "2024-09-30", "2022-02-02"]),
    })


def test_headline_counts():
    ov = cohort_overview(_frame())
    assert ov.headline == {"Patients": 5, "Deaths": 3, "Progressions or deaths": 4}


def test_by_group_in_schema_order_with_counts():
    t = cohort_overview(_frame()).by_group
    assert list(zip(t["treatment_group"], t["local_modality"], t["patients"], strict=True)) == [
        ("systemic", "none", 2), ("local+systemic", "mTACE", 1), ("local+systemic", "HAIC", 2)]
    assert list(t["deaths"]) == [1, 1, 1]


def test_missing_counts_every_present_column():
    m = cohort_overview(_frame()).missing.set_index("column")
    assert m.loc["age", "missing"] == 2 and m.loc["age", "missing_percent"] == 40.0
    assert m.loc["os_event", "missing"] == 1
    assert m.loc["patient_id", "missing"] == 0


def test_date_range_sentence():
    assert cohort_overview(_frame()).date_range == (
        "Treatment started between 2020-09-01 and 2024-09-30.")


def test_by_group_missing_and_unknown_levels_sort_last_in_order_of_appearance():
    """A missing group and an unknown modality ("RFA") form their own rows after the known
    levels; deaths/PFS events are summed per row with missing events counted as 0."""
    df = _frame()
    df.loc[1, "treatment_group"] = np.nan
    df.loc[0, "local_modality"] = "RFA"
    t = cohort_overview(df).by_group
    assert list(zip(t["treatment_group"].fillna("NA"), t["local_modality"], strict=True)) == [
        ("systemic", "none"), ("local+systemic", "mTACE"), ("local+systemic", "HAIC"),
        ("local+systemic", "RFA"), ("NA", "none")]
    assert list(t["patients"]) == [1, 1, 1, 1, 1]
    assert list(t["deaths"]) == [1, 1, 0, 1, 0]
    assert list(t["pfs_events"]) == [1, 1, 0, 1, 1]
    assert str(t["patients"].dtype) == "int64" and str(t["deaths"].dtype) == "int64"
