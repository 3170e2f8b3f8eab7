"""Cross-tabulations, the published hypothesis tests, and the rows the meta-analysis pools.

Consumes the per-study arms (``results/extraction/studies.tsv``: one row per study and CNI)
and the Fig. 2 cross-tabulations (see :mod:`livingreview.baseline`) and produces:

- :mod:`.outcomes`: the outcome table (per CNI, per reason for starting, per line) and the
  three published tests (Baven-Pronk et al. 2022, Fig. 2 and Results);
- :mod:`.summary`: ``summary.md``, the outcome tables with percentages beside the article's;
- :mod:`.remission`: the remission counts per study arm (and per study for both CNIs) that
  :mod:`livingreview.meta` pools and :mod:`livingreview.forest` draws, with exact intervals.
"""

from .outcomes import (
    OUTCOME_COLUMNS,
    OUTCOME_ORDER_TEXT,
    TEST_COLUMNS,
    OutcomeRow,
    TestRow,
    linear_by_linear,
    outcome_rows,
    published_tests,
)
from .remission import (
    POOLED_GROUPS,
    STUDY_PROPORTION_COLUMNS,
    RemissionRow,
    StudyProportionRow,
    remission_rows,
    study_proportions,
)
from .summary import GROUP_LABELS, GROUPING_LABELS, format_p, percent, summary_markdown

__all__ = [
    "GROUPING_LABELS",
    "GROUP_LABELS",
    "OUTCOME_COLUMNS",
    "OUTCOME_ORDER_TEXT",
    "POOLED_GROUPS",
    "STUDY_PROPORTION_COLUMNS",
    "TEST_COLUMNS",
    "OutcomeRow",
    "RemissionRow",
    "StudyProportionRow",
    "TestRow",
    "format_p",
    "linear_by_linear",
    "outcome_rows",
    "percent",
    "published_tests",
    "remission_rows",
    "study_proportions",
    "summary_markdown",
]
