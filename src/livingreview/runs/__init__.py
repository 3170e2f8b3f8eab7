"""Stage 'runs': the record of one run, written last, and the scheduler's helpers.

Consumes what the run's stages wrote, exactly the files the rule ``run_record`` declares
(:mod:`.inputs`). Produces ``results/runs/<run_date>/``: ``summary.json`` and ``summary.md``
(what this run found and what changed since the previous run record), ``manifest.json`` (the
config without secrets, software versions and the checksums of every input, code file and
output) and, with ``runs.notify_command`` set, ``notification.json``.

Modules:

- :mod:`.inputs`: the declared inputs, by name;
- :mod:`.record`: the run record assembled (summary.json, manifest.json);
- :mod:`.stages`: what each stage's files say about the run;
- :mod:`.todo`: the to-do block, from the stages' to-do files;
- :mod:`.estimates`: whether the pooled estimates moved;
- :mod:`.manifest`: checksums, software versions, the config without secrets;
- :mod:`.summary`: summary.md;
- :mod:`.notify`: the notification command;
- :mod:`.ending`: what a run prints last (to-do block, the one error line);
- :mod:`.scheduler`: exit codes and clean-up for ``bin/scheduled-update``
  (``python -m livingreview.runs --help``).
"""

from ..todo import TODO_COLUMNS, TodoRow, read_todo
from .ending import RunEnding, print_todo
from .estimates import ESTIMATE_TABLES, compare_estimates, read_estimate_tables
from .inputs import RunInputs, archived_studies_before
from .manifest import (
    REDACTED,
    SOFTWARE,
    checksum_files,
    code_files,
    compare_files,
    config_paths,
    input_files,
    list_files,
    public_config,
    software_versions,
)
from .notify import notify, notify_argv
from .record import (
    RECORD_VERSION,
    build_manifest,
    build_run_record,
    previous_run,
    write_run_record,
)
from .scheduler import (
    EXIT_BUSY,
    EXIT_FAILURE,
    EXIT_INPUT,
    EXIT_NETWORK,
    EXIT_OK,
    EXIT_USAGE,
    PLUGIN_MISSING,
    SUBMISSION_FAILED,
    Failure,
    classify_failure,
    classify_run,
    clean_stale_temporaries,
    exit_code_of_class,
    submission_failure,
)
from .summary import render_summary
from .todo import todo_block

__all__ = [
    "ESTIMATE_TABLES",
    "EXIT_BUSY",
    "EXIT_FAILURE",
    "EXIT_INPUT",
    "EXIT_NETWORK",
    "EXIT_OK",
    "EXIT_USAGE",
    "PLUGIN_MISSING",
    "SUBMISSION_FAILED",
    "Failure",
    "RECORD_VERSION",
    "REDACTED",
    "SOFTWARE",
    "TODO_COLUMNS",
    "TodoRow",
    "RunEnding",
    "RunInputs",
    "archived_studies_before",
    "build_manifest",
    "build_run_record",
    "checksum_files",
    "classify_failure",
    "classify_run",
    "clean_stale_temporaries",
    "code_files",
    "compare_estimates",
    "compare_files",
    "config_paths",
    "exit_code_of_class",
    "input_files",
    "list_files",
    "notify",
    "notify_argv",
    "previous_run",
    "print_todo",
    "public_config",
    "read_todo",
    "read_estimate_tables",
    "render_summary",
    "software_versions",
    "submission_failure",
    "todo_block",
    "write_run_record",
]
