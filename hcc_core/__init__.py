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
from .response import ResponseResult, format_response, response_rates
from .safety import AEResult, ae_table, format_ae_table
from .tables import LABELS, TableOneResult, format_table_one, group_column, label_of, table_one

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
    "LABELS",
    "TableOneResult",
    "table_one",
    "format_table_one",
    "group_column",
    "label_of",
    "ResponseResult",
    "response_rates",
    "format_response",
    "AEResult",
    "ae_table",
    "format_ae_table",
]
