"""Shared loader for the R reference fixtures (r_reference.json and the CSVs R wrote)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["REF", "R", "RTOL", "load", "vec"]

REF = Path(__file__).resolve().parent
R = json.loads((REF / "r_reference.json").read_text())
RTOL = 1e-6  # agreement with R required by the tests (observed: ~1e-13)


def load(name: str) -> pd.DataFrame:
    """A dataset exactly as R wrote and re-read it (``data_<name>.csv``)."""
    return pd.read_csv(REF / f"data_{name}.csv", dtype={"bclc_stage": str})


def vec(values) -> np.ndarray:
    """JSON scalar or list (null = NA) -> float array."""
    return np.array([np.nan if v is None else v for v in np.atleast_1d(values)], dtype=float)
