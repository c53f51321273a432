"""hcc_core: the statistics behind the HCC Cohort Explorer.

Pure functions on pandas DataFrames; never imports streamlit. See ``schema`` for column
names, ``io.load_cohort`` for reading files, and one module per analysis.
"""

from .adjusted import AdjustedComparison, adjusted_comparison
from .cohort import (
    Filters,
    apply_filters,
    describe_filters,
    format_group_counts,
    group_counts,
    ignored_filters,
    pfs_death_notes,
)
from .competing import CIFResult, GrayTestResult, cumulative_incidence, gray_test
from .cox import (
    AFP_400,
    BCLC_AB_VS_C,
    DERIVED_COVARIATES,
    LOG10_AFP,
    PAPER_COX_COVARIATES,
    CoxFit,
    CoxResult,
    cox_univariable,
    coxph_arrays,
    fit_cox,
    subgroup_forest,
    term_label,
)
from .cox.time_to_event import (
    PiecewiseResult,
    TimeDependentCoxResult,
    fit_cause_specific_cox,
    fit_time_dependent_cox,
    piecewise_hr,
)
from .cox_plan import CoxPlan, LeftOut, plan_cox
from .errors import CohortError, MissingColumnsError
from .export import sheets_to_excel_bytes, to_csv_bytes, to_excel_bytes
from .finegray import FineGrayResult, fit_finegray
from .formatting import format_hr, format_n_pct, format_p, hr_estimable, readable_columns
from .io import (
    DEFAULT_MAX_BYTES,
    Cohort,
    Upload,
    default_sheet,
    load_cohort,
    read_table,
    read_upload,
    suggest_mapping,
    unmatched_required,
    workbook_sheets,
)
from .landmark import LandmarkResult, landmark
from .overview import OverviewResult, cohort_overview
from .paper_check import load_published_values, paper_check
from .propensity import PAPER_PS_COVARIATES, PropensityResult, e_value, fit_propensity
from .response import ResponseResult, format_response, response_rates
from .safety import AEResult, ae_table, format_ae_table
from .survival import (
    CONF_TYPES,
    FollowUpResult,
    KMResult,
    LogRankResult,
    adjust_p_values,
    fit_km,
    logrank_test,
    median_follow_up,
    pairwise_logrank,
    rmst,
)
from .tables import (
    COMPARE_BY,
    LABELS,
    OVERALL,
    TableOneResult,
    format_table_one,
    group_column,
    label_of,
    level_label,
    table_one,
)
from .timedep import TimeDependentData, simon_makuch, split_at_local_start
from .validate import recoding_preview

__all__ = [
    "KMResult",
    "LogRankResult",
    "FollowUpResult",
    "CONF_TYPES",
    "fit_km",
    "logrank_test",
    "pairwise_logrank",
    "rmst",
    "median_follow_up",
    "adjust_p_values",
    "CoxResult",
    "PAPER_COX_COVARIATES",
    "DERIVED_COVARIATES",
    "BCLC_AB_VS_C",
    "LOG10_AFP",
    "AFP_400",
    "fit_cox",
    "coxph_arrays",
    "CoxFit",
    "cox_univariable",
    "subgroup_forest",
    "term_label",
    "CoxPlan",
    "LeftOut",
    "plan_cox",
    "format_hr",
    "format_n_pct",
    "format_p",
    "hr_estimable",
    "readable_columns",
    "COMPARE_BY",
    "OVERALL",
    "level_label",
    "CohortError",
    "MissingColumnsError",
    "to_csv_bytes",
    "to_excel_bytes",
    "sheets_to_excel_bytes",
    "DEFAULT_MAX_BYTES",
    "Cohort",
    "load_cohort",
    "default_sheet",
    "unmatched_required",
    "workbook_sheets",
    "recoding_preview",
    "read_table",
    "read_upload",
    "Upload",
    "suggest_mapping",
    "Filters",
    "apply_filters",
    "describe_filters",
    "format_group_counts",
    "group_counts",
    "ignored_filters",
    "pfs_death_notes",
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
    "paper_check",
    "OverviewResult",
    "cohort_overview",
    "load_published_values",
    "CIFResult",
    "GrayTestResult",
    "cumulative_incidence",
    "gray_test",
    "LandmarkResult",
    "landmark",
    "FineGrayResult",
    "fit_finegray",
    "PropensityResult",
    "PAPER_PS_COVARIATES",
    "fit_propensity",
    "e_value",
    "TimeDependentData",
    "simon_makuch",
    "split_at_local_start",
    "PiecewiseResult",
    "TimeDependentCoxResult",
    "fit_cause_specific_cox",
    "fit_time_dependent_cox",
    "piecewise_hr",
    "AdjustedComparison",
    "adjusted_comparison",
]
