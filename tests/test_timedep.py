"""Time-dependent local therapy: tmerge-style (start, stop] data and Simon-Makuch curves vs R.

R (tests/reference/make_reference_tte.R): ``tmerge(d, d, id, event = event(time, status))``,
``tmerge(td, d, id, local = tdc(local_start_months))``;
``survfit(Surv(tstart, tstop, event) ~ local, data = td, conf.type = "log-log")``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_core import CohortError
from hcc_core import schema as s
from hcc_core.timedep import LOCAL_STATES, simon_makuch, split_at_local_start

REF = Path(__file__).resolve().parent / "reference"
R_TTE = json.loads((REF / "tte_reference.json").read_text())
DEMO = pd.read_csv(REF / "data_tte_demo.csv")


def _vec(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_split_equals_tmerge(endpoint):
    ref = R_TTE["time_dependent"][f"demo_{endpoint}"]
    td = split_at_local_start(DEMO, endpoint)
    d = td.data
    assert len(d) == ref["n_rows"]
    assert d[s.PATIENT_ID].tolist() == ref["id"]
    np.testing.assert_allclose(d["tstart"], ref["tstart"], rtol=1e-12)
    np.testing.assert_allclose(d["tstop"], ref["tstop"], rtol=1e-12)
    assert d["event"].tolist() == ref["event"] and d["local"].tolist() == ref["local"]


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_simon_makuch_equals_survfit_on_counting_process_data(endpoint):
    ref = R_TTE["time_dependent"][f"demo_{endpoint}"]
    sm = simon_makuch(DEMO, endpoint)
    r = ref["sm"]
    strata = np.array(r["strata"])
    for j, group in enumerate(LOCAL_STATES):
        sel = strata == f"local={j}"
        times = _vec(r["time"])[sel]
        at = sm.at(times)
        at = at[at["group"] == group]
        np.testing.assert_allclose(at["survival"], _vec(r["surv"])[sel], rtol=1e-9)
        np.testing.assert_allclose(at["lower"], _vec(r["lower"])[sel], rtol=1e-9)
        np.testing.assert_allclose(at["upper"], _vec(r["upper"])[sel], rtol=1e-9)
        risk = sm.risk_table(times)
        risk = risk[risk["group"] == group]
        assert risk["at_risk"].tolist() == _vec(r["n_risk"])[sel].astype(int).tolist()
    summary = sm.summary.set_index("group")
    for column, key in (
        ("median", "sm_median"),
        ("median_lower", "sm_median_lower"),
        ("median_upper", "sm_median_upper"),
    ):
        np.testing.assert_allclose(summary.loc[list(LOCAL_STATES), column], _vec(ref[key]))
    assert "Simon-Makuch" in sm.method and "tmerge" in sm.method


def test_split_rules_and_exclusions():
    df = pd.DataFrame(
        {
            s.PATIENT_ID: ["a", "b", "c", "d", "e"],
            s.TREATMENT_GROUP: [
                "systemic",
                "local+systemic",
                "local+systemic",
                "local+systemic",
                "local+systemic",
            ],
            s.OS_MONTHS: [5.0, 10.0, 8.0, 6.0, np.nan],
            s.OS_EVENT: [1, 1, 0, 1, 1],
            s.LOCAL_START_MONTHS: [np.nan, 2.0, 0.0, np.nan, 1.0],
        }
    )
    td = split_at_local_start(df, "os")
    d = td.data
    assert d[s.PATIENT_ID].tolist() == ["a", "b", "b", "c"]
    assert d[["tstart", "tstop", "event", "local"]].values.tolist() == [
        [0.0, 5.0, 1, 0],
        [0.0, 2.0, 0, 0],
        [2.0, 10.0, 1, 1],
        [0.0, 8.0, 0, 1],
    ]
    assert (td.n_patients, td.n_excluded) == (3, 2)
    assert "1 local+systemic patient(s) without 'local_start_months'" in td.notes[1]
    with pytest.raises(CohortError, match="needs the column"):
        split_at_local_start(df.drop(columns=s.LOCAL_START_MONTHS), "os")
