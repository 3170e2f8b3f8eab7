"""Cross-tabulations, the published hypothesis tests, and the rows the meta-analysis pools.

Consumes the per-study arms (``results/extraction/studies.tsv``: one row per study and CNI)
and the Fig. 2 cross-tabulations (see :mod:`livingreview.baseline`) and produces:

- :mod:`.outcomes`: the outcome table (per CNI, per reason for starting, per line) and the
  three published tests (Baven-Pronk et al. 2022, Fig. 2 and Results);
- :mod:`.summary`: ``summary.md``, the outcome tables with percentages beside the article's;
- :mod:`.remission`: the remission counts per study arm (and per study for both CNIs) that
  :mod:`livingreview.meta` pools and :mod:`livingreview.forest` draws, with exact intervals;
- :mod:`.labels`: new studies named "First author year" from their records, with the update
  run that first found them.
"""

from .labels import UPDATE_VERSION, StudyName, label_new_studies, new_study_names
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
from .summary import (
    CURRENT_COLUMN,
    GROUP_LABELS,
    GROUPING_LABELS,
    PUBLISHED_COLUMN,
    OutcomeSummary,
    data_changed,
    format_p,
    percent,
    summarise_outcomes,
    summary_markdown,
)

__all__ = [
    "CURRENT_COLUMN",
    "GROUPING_LABELS",
    "GROUP_LABELS",
    "OUTCOME_COLUMNS",
    "OUTCOME_ORDER_TEXT",
    "POOLED_GROUPS",
    "PUBLISHED_COLUMN",
    "STUDY_PROPORTION_COLUMNS",
    "TEST_COLUMNS",
    "UPDATE_VERSION",
    "OutcomeRow",
    "OutcomeSummary",
    "RemissionRow",
    "StudyName",
    "StudyProportionRow",
    "TestRow",
    "data_changed",
    "format_p",
    "label_new_studies",
    "linear_by_linear",
    "new_study_names",
    "outcome_rows",
    "percent",
    "published_tests",
    "remission_rows",
    "study_proportions",
    "summarise_outcomes",
    "summary_markdown",
]
