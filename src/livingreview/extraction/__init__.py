"""Studies in the current synthesis: the published review's arms plus accepted new extractions.

Consumes the validated baseline (:mod:`livingreview.baseline`), the human extraction sheets in
``resources/extraction/<study_id>/<extractor>.tsv`` (read only) and the full-text inclusions
of the screening stage, and produces:

- ``studies.tsv``: one row per study and CNI in the current synthesis (baseline + accepted new
  studies), with the counts the synthesis uses and the file and line each row came from;
- ``subgroups.tsv``: accepted new studies' outcome counts by reason for starting and by line,
  which the synthesis adds to the previous version's Fig. 2 cross-tabulations;
- ``discrepancies.tsv``: every cell where two extractors' sheets for one study differ, until an
  ``adjudicated.tsv`` sheet in the study's folder resolves them;
- ``status.tsv``: per new study, whether its extraction is accepted and why not.

Modules: :mod:`.sheets` (the sheets people type: columns, reading, every rule),
:mod:`.merge` (dual extraction compared, adjudication, acceptance), :mod:`.tables` (the
tables this stage writes, their row types, reading them back), :mod:`.todo` (what is left for
extractors and the adjudicator: ``todo.tsv``).
"""

from ..text import ADJUDICATED_SHEET
from ..todo import TODO_COLUMNS, TodoRow
from .merge import (
    ACCEPTED,
    AWAITING_EXTRACTION,
    DISCREPANCIES,
    ExtractionResult,
    StudyDecision,
    check_sheets,
    compare_sheets,
    decide_study,
    included_study_ids,
    merge_extractions,
    read_study_sheets,
)
from .sheets import (
    ARM_REQUIRED_COUNTS,
    DOSE_UNITS,
    SHEET_COLUMNS,
    SHEET_COUNT_COLUMNS,
    SHEET_KEY_COLUMNS,
    SHEET_OPTIONAL_COLUMNS,
    SHEET_REQUIRED_COLUMNS,
    SHEET_TEXT_COLUMNS,
    TROUGH_TARGETED,
    Sheet,
    SheetRow,
    collect_sheet,
    find_sheets,
    read_sheet,
    validate_sheet_rows,
)
from .tables import (
    DISCREPANCY_COLUMNS,
    STATUS_COLUMNS,
    STUDY_TABLE_COLUMNS,
    SUBGROUP_COUNTS,
    SUBGROUP_TABLE_COLUMNS,
    ArmCounts,
    ArmRow,
    DiscrepancyRow,
    OutcomeCounts,
    StatusRow,
    SubgroupRow,
    baseline_study_rows,
    read_study_table,
    read_subgroup_table,
)
from .todo import EXTRACT_TASK, SETTLE_TASK, extraction_todo

__all__ = [
    "EXTRACT_TASK",
    "SETTLE_TASK",
    "TODO_COLUMNS",
    "TodoRow",
    "extraction_todo",
    "ACCEPTED",
    "ADJUDICATED_SHEET",
    "ARM_REQUIRED_COUNTS",
    "AWAITING_EXTRACTION",
    "DISCREPANCIES",
    "DISCREPANCY_COLUMNS",
    "DOSE_UNITS",
    "SHEET_COLUMNS",
    "SHEET_COUNT_COLUMNS",
    "SHEET_KEY_COLUMNS",
    "SHEET_OPTIONAL_COLUMNS",
    "SHEET_REQUIRED_COLUMNS",
    "SHEET_TEXT_COLUMNS",
    "STATUS_COLUMNS",
    "STUDY_TABLE_COLUMNS",
    "SUBGROUP_COUNTS",
    "SUBGROUP_TABLE_COLUMNS",
    "TROUGH_TARGETED",
    "ArmCounts",
    "ArmRow",
    "DiscrepancyRow",
    "ExtractionResult",
    "OutcomeCounts",
    "Sheet",
    "SheetRow",
    "StatusRow",
    "StudyDecision",
    "SubgroupRow",
    "baseline_study_rows",
    "check_sheets",
    "collect_sheet",
    "compare_sheets",
    "decide_study",
    "find_sheets",
    "included_study_ids",
    "merge_extractions",
    "read_sheet",
    "read_study_sheets",
    "read_study_table",
    "read_subgroup_table",
    "validate_sheet_rows",
]
