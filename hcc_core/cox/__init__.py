"""Cox proportional-hazards regression: one engine and what uses it.

``engine``       the partial likelihood (Efron/Breslow, weights, strata, (start, stop]) and its
                 Newton-Raphson: the one place the likelihood is computed
``arrays``       ``coxph_arrays``: R ``coxph`` on arrays, with the robust (sandwich) variance
``batch``        many small fits in one engine call (univariable screen, subgroup forest)
``design``       design matrix: derived covariates, factor coding, complete cases
``results``      ``fit_cox`` and ``cox_univariable`` on a cohort frame
``forest``       ``subgroup_forest`` and its interaction tests
``zph``          proportional-hazards test (R ``cox.zph``)
``concordance``  Harrell's C (R ``concordance``)
``time_to_event`` cause-specific hazards, time-dependent local therapy, piecewise HRs (issue 16)
"""

from .arrays import CoxFit, coxph_arrays
from .design import (
    AFP_400,
    BCLC_AB_VS_C,
    DERIVED_COVARIATES,
    LOG10_AFP,
    PAPER_COX_COVARIATES,
    term_label,
)
from .design import _design as _design  # the underscored names: used by hcc_core.propensity
from .design import _encode as _encode
from .design import _order_levels as _order_levels
from .forest import subgroup_forest
from .results import CoxResult, cox_univariable, fit_cox

__all__ = [
    "AFP_400",
    "BCLC_AB_VS_C",
    "DERIVED_COVARIATES",
    "LOG10_AFP",
    "PAPER_COX_COVARIATES",
    "CoxFit",
    "CoxResult",
    "coxph_arrays",
    "cox_univariable",
    "fit_cox",
    "subgroup_forest",
    "term_label",
]
