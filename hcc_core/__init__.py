"""hcc_core: the statistics behind the HCC Cohort Explorer.

Pure functions on pandas DataFrames; never imports streamlit. See ``schema`` for column
names, ``io.load_cohort`` for reading files, and one module per analysis.
"""

from .errors import CohortError, MissingColumnsError

__all__ = ["CohortError", "MissingColumnsError"]
