# Stage 'imports': other databases' export files -> the normalised record table.
#
# One job per export declared under `imports:` in config.yaml whose entry run is on or
# before run_date (exports_in_run, common.smk; a later one waits for a later run). The entry
# run is the export's `entry_run`, by default the first run dated on or after its
# search_date. Output contract: results/imports/<database>/<search_date>/records.tsv with
# exactly livingreview.records.RECORD_COLUMNS (record_id = <database>:<accession or hash>,
# source = database, run = entry run), plus summary.json (files, SHA-256, counts, dates).

# Input functions (imported_tables, ...) are in common.smk.

from livingreview.dedup.inputs import recorded_exports  # noqa: E402
from livingreview.imports.specs import (
    check_entry_runs,
    check_import_files,
    check_import_specs,
    check_recorded_runs,
    import_job_spec,
)  # noqa: E402

# Checks the schema cannot express (one entry per database and date, files exist, an
# entry_run that is a run of the project...), before any job runs.
check_import_specs(config["imports"])
check_import_files(config["imports"])
check_entry_runs(config["imports"], pubmed_snapshot_dates(), config["run_date"])
# An export declared after a run was recorded must not enter that run or an earlier one (nor
# this run_date's, when it would outrank an export that run held: the ids it issued stay).
check_recorded_runs(
    resolved_imports(config),
    recorded_exports(),
    config["run_date"],
    config["dedup"]["source_priority"],
)


localrules:
    check_export,
    import_export,


rule check_export:
    input:
        files=export_files,
        code=script_code("check_export.py"),
    output:
        receipt=temp("results/checks/imports/{database}/{search_date}.json"),
    log:
        "logs/checks/imports/{database}/{search_date}.log",
    benchmark:
        "logs/benchmarks/checks/imports/{database}/{search_date}.tsv"
    wildcard_constraints:
        database=r"[a-z][a-z0-9_]*",
        search_date=r"\d{4}-\d{2}-\d{2}",
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=512,
    params:
        # content of the human inputs: an edit reruns whatever its timestamp
        human_content=human_content(export_files),
        # the import's settings; its prisma_s: description does not change the records
        spec=lambda wildcards: import_job_spec(_import_spec(wildcards)),
    script:
        "../scripts/check_export.py"


rule import_export:
    input:
        # Parsed first in a rule of its own: a broken file leaves the earlier import intact.
        checked=rules.check_export.output.receipt,
        files=export_files,
        code=script_code("import_export.py"),
    output:
        records="results/imports/{database}/{search_date}/records.tsv",
        summary=report(
            "results/imports/{database}/{search_date}/summary.json",
            caption="../report/import_summary.rst",
            category="Search provenance",
            labels={"source": "{database}", "run": "{search_date}"},
        ),
    log:
        "logs/imports/{database}/{search_date}.log",
    benchmark:
        "logs/benchmarks/imports/{database}/{search_date}.tsv"
    wildcard_constraints:
        database=r"[a-z][a-z0-9_]*",
        search_date=r"\d{4}-\d{2}-\d{2}",
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=512,
    params:
        # content of the human inputs: an edit reruns whatever its timestamp
        human_content=human_content(export_files),
        # the import's settings; its prisma_s: description does not change the records
        spec=lambda wildcards: import_job_spec(_import_spec(wildcards)),
    script:
        "../scripts/import_export.py"


TARGETS["imports"] = imported_tables() + [
    import_table_path(spec, "summary.json") for spec in exports_in_run()
]
