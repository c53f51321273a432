"""hcc_core: the statistics behind the HCC Cohort Explorer.

Pure functions on pandas DataFrames; never imports streamlit. See ``schema`` for column
names, ``io.load_cohort`` for reading files, and one module per analysis.
"""

from .cohort import (
    Filters,
    apply_filters,
    describe_filters,
    format_group_counts,
    group_counts,
    ignored_filters,
)
from .errors import CohortError, MissingColumnsError
from .io import DEFAULT_MAX_BYTES, Cohort, load_cohort, read_table, suggest_mapping

__all__ = [
    "CohortError",
    "MissingColumnsError",
    "DEFAULT_MAX_BYTES",
    "Cohort",
    "load_cohort",
    "read_table",
    "suggest_mapping",
    "Filters",
    "apply_filters",
    "describe_filters",
    "format_group_counts",
    "group_counts",
    "ignored_filters",
]
