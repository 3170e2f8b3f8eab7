# Shared by every stage: config validation, package-module inputs, target list.

import os
import sys
from pathlib import Path

# The package lives in src/. Jobs must run the code of *this* checkout (the files that
# script_code() declares as inputs), whatever copy an editable install points at: put src/
# first on the path of this process and of every script job it starts.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from livingreview.config import prepare_config, use_checkout_sources  # noqa: E402
from livingreview.dependencies import code_inputs  # noqa: E402
from livingreview.io import content_digest  # noqa: E402

use_checkout_sources(Path(workflow.basedir) / "src")
# Validate before any job is scheduled: nothing is written when the config is wrong.
prepare_config(
    config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
)


wildcard_constraints:
    run_date=r"\d{4}-\d{2}-\d{2}",


# The package files each workflow script runs (its imports, followed through the package),
# traced once per content of the code and kept in .snakemake/ (livingreview.dependencies).
SCRIPT_CODE = code_inputs(
    sorted((Path(workflow.basedir) / "workflow" / "scripts").glob("*.py")),
    Path(workflow.basedir) / "src",
    Path(".snakemake") / "livingreview" / "code-inputs.json",
)


def script_code(script):
    """The package files a workflow script runs (its imports, followed through the package),
    declared as the rule's inputs: Snakemake tracks the script itself but not what it imports,
    so without them a change to a module would not rerun the jobs that use it."""
    return relative_to_workdir(SCRIPT_CODE[script])


def relative_to_workdir(paths):
    """Paths inside the working directory made relative to it: Snakemake's record of a job's
    inputs then survives moving or copying the project (absolute paths would make every job
    look changed in the new place and rerun it all)."""
    working_directory = os.path.join(Path.cwd().resolve(), "")
    return [
        path[len(working_directory) :] if path.startswith(working_directory) else path
        for path in map(str, paths)
    ]


def human_inputs(paths):
    """Files people write (sheets, verdicts, exports, the published review's tables), declared
    as inputs whose *timestamp* does not count (ancient): what counts is their content, which
    every rule that reads them passes as a parameter (human_content), so that an edit is
    picked up whatever timestamp the file comes back with, and a touch reruns nothing.
    """
    return [ancient(path) for path in paths]


def human_input(path):
    """One human-owned input file (see human_inputs)."""
    return ancient(path)


def human_content(*sources):
    """Rule parameter: the content digest of human inputs (see human_inputs). Each source is
    a path, a list of paths or an input function returning them. Snakemake reruns a job whose
    parameters changed (only parameters computed without the job's `input` count, hence the
    paths are named here again); no script reads this value."""

    def digest(wildcards):
        files = []
        for source in sources:
            value = source(wildcards) if callable(source) else source
            files.extend([value] if isinstance(value, str) else value)
        return content_digest(files)

    return digest


def checkpoint_inputs(paths):
    """Outputs of a checkpoint (screen, merge_extractions, prisma_ledger) read by their
    content, declared with their timestamp ignored (ancient): the checkpoint rewriting them
    does not by itself rerun their consumers. Snakemake plans the whole DAG first, so the
    digest (checkpoint_content, a param) is that of the previous run's file; when the
    checkpoint finishes, Snakemake re-creates the jobs that depend on it, the digest is
    computed anew, and only a changed file reruns them (docs/architecture.md, "How reruns are
    decided"). Only a checkpoint's outputs may be declared this way."""
    return [ancient(path) for path in paths]


def checkpoint_input(path):
    """One checkpoint output read by content (see checkpoint_inputs)."""
    return ancient(path)


def checkpoint_content(*paths):
    """Rule parameter: the content digest of checkpoint outputs (see checkpoint_inputs); the
    files absent before a first run count as absent (their consumers run then anyway).
    """

    def digest(wildcards):
        return content_digest(path for path in paths if Path(path).exists())

    return digest


def written_by_rules(paths):
    """The paths among ``paths`` that this workflow writes (some job's output), so that a
    file a stage may write is an input only where that stage writes it. Call it after every
    include."""
    outputs = {str(path) for job_rule in workflow.rules for path in job_rule.output}
    return [path for path in paths if path in outputs]


# Each stage file adds its default targets with TARGETS["<stage>"] = [...]
TARGETS = {}


def all_targets():
    """Everything `snakemake` builds by default, stage by stage."""
    return [path for stage_targets in TARGETS.values() for path in stage_targets]


BASELINE_TABLES = (
    "studies.tsv",
    "arms.tsv",
    "crosstabs.tsv",
    "published_percentages.tsv",
    "discontinuations.tsv",
)


def baseline_files():
    """The published review's tables (resources/baseline/ by default)."""
    return human_inputs(
        str(Path(config["baseline"]["dir"]) / name) for name in BASELINE_TABLES
    )


def baseline_studies():
    """The published review's studies table alone (screening and PRISMA read it)."""
    return human_input(str(Path(config["baseline"]["dir"]) / "studies.tsv"))


def extraction_sheets():
    """Every human extraction sheet: resources/extraction/<study_id>/<extractor>.tsv."""
    from livingreview.extraction.sheets import find_sheets

    return human_inputs(find_sheets(config["extraction"]["dir"]))


def screening_sheets(wildcards=None):
    """Every decision and adjudication sheet present now (a new or edited sheet reruns)."""
    return human_inputs(sheet_paths(config["screening"]["decisions_dir"]))


def dedup_verdicts():
    """The dedup verdicts sheet (resources/dedup/verdicts.tsv by default)."""
    return human_input(config["dedup"]["verdicts"])


def included_reports():
    """Full-text inclusions (publication -> study links) written by the screening stage."""
    return ["results/screening/included_reports.tsv"]


# --- search: PubMed snapshots ----------------------------------------------------------

# The dedup stage's record tables come from the package (the reviewers' desk lists them
# from the same functions).
from livingreview.dedup.inputs import (  # noqa: E402
    PUBMED_ROOT,
    PUBMED_TABLES,
    import_tables,
    pubmed_tables,
    resolved_imports,
    run_snapshot_dates,
)


def pubmed_snapshot_dates():
    """Baseline, then every update run up to run_date (config list + snapshots on disk)."""
    return run_snapshot_dates(config)


def pubmed_snapshots(wildcards=None):
    """The record table of every PubMed snapshot this run uses, baseline first (dedup's input).

    These are the declared copies results/search/tables/pubmed-<date>.tsv, byte-identical to
    the snapshots' records.tsv, which no rule declares (so Snakemake never deletes them).

    Works called at parse time (``pubmed_snapshots()``) or as an input function.
    """
    return pubmed_tables(config)


def pubmed_receipts():
    """The receipt (copy of the provenance) of every PubMed snapshot this run uses."""
    return [
        f"results/search/receipts/pubmed-{day}.json" for day in pubmed_snapshot_dates()
    ]


def _earlier_pubmed_snapshots(wildcards):
    """Snapshots are taken in date order: an update fetches only PMIDs no earlier one holds."""
    return [
        f"{PUBMED_TABLES}/pubmed-{day}.tsv"
        for day in pubmed_snapshot_dates()
        if day < wildcards.run_date
    ]


# --- imports: other databases' exports ---------------------------------------------------

from livingreview.imports.specs import (
    exports_of_run,
    find_spec,
    import_table_path,
)  # noqa: E402


def exports_in_run():
    """The declared exports this run uses: those whose entry run (imports[].entry_run, by
    default the first run dated on or after the search) is on or before run_date. A later
    export is deferred (neither imported, deduplicated nor counted) until that run."""
    included, _deferred = exports_of_run(
        config["imports"], config["run_date"], pubmed_snapshot_dates()
    )
    return included


def imported_tables():
    """records.tsv of every export this run uses (input of the dedup and PRISMA stages)."""
    return import_tables(config)


def _import_spec(wildcards):
    """One declared export with the run it enters resolved (its records' `run`)."""
    return find_spec(
        resolved_imports(config), wildcards.database, wildcards.search_date
    )


def export_files(wildcards):
    """The files of one declared export (input function of the imports rules)."""
    return human_inputs(_import_spec(wildcards)["files"])
