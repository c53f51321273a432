"""Problems a user can fix, as full sentences.

Every error raised for bad input is a :class:`CohortError` (a ``ValueError``), so the
dashboard can show its message instead of a traceback.
"""

from __future__ import annotations

from .i18n import _

__all__ = ["CohortError", "MissingColumnsError"]


class CohortError(ValueError):
    """The cohort cannot be used as given; the message says what to change."""


class MissingColumnsError(CohortError):
    """An analysis needs columns that this cohort does not have."""

    def __init__(self, analysis: str, missing: list[str]) -> None:
        self.analysis = analysis
        self.missing = tuple(missing)
        cols = ", ".join(f"'{c}'" for c in missing)
        # ``analysis`` is an English name marked with N_() by the caller, translated here.
        super().__init__(
            _(
                "The {analysis} needs the column(s) {columns}, which this cohort does not "
                "have. Add them to your file (see the data dictionary for names and codings) "
                "or map one of your columns to them in the upload step."
            ).format(analysis=_(analysis), columns=cols)
        )
