# Stage 'imports': other databases' export files -> the normalised record table.
#
# One job per export declared under `imports:` in config.yaml. Output contract:
# results/imports/<database>/<search_date>/records.tsv with exactly
# livingreview.records.RECORD_COLUMNS (record_id = <database>:<accession or hash>,
# source = database, run = search date), plus summary.json (files, SHA-256, counts).

# Input functions (imported_tables, ...) are in common.smk.

from livingreview.imports import check_import_files, check_import_specs  # noqa: E402

# Checks the schema cannot express (one entry per database and date, files exist...), before
# any job runs.
check_import_specs(config["imports"])
check_import_files(config["imports"])



localrules:
    check_export,
    import_export,


rule check_export:
    input:
        files=lambda wildcards: _import_spec(wildcards)["files"],
        modules=package_modules("records", "imports", "checks"),
    output:
        receipt=temp("results/checks/imports/{database}/{search_date}.json"),
    params:
        check="export",
        spec=lambda wildcards: dict(_import_spec(wildcards)),
    wildcard_constraints:
        database=r"[a-z][a-z0-9_]*",
        search_date=r"\d{4}-\d{2}-\d{2}",
    log:
        "logs/checks/imports/{database}/{search_date}.log",
    threads: 1
    resources:
        mem_mb=512,
    script:
        "../scripts/check_human_input.py"


rule import_export:
    input:
        # Parsed first in a rule of its own: a broken file leaves the earlier import intact.
        checked=rules.check_export.output.receipt,
        files=lambda wildcards: _import_spec(wildcards)["files"],
        modules=package_modules("records", "imports"),
    output:
        records="results/imports/{database}/{search_date}/records.tsv",
        summary=report(
            "results/imports/{database}/{search_date}/summary.json",
            caption="../report/import_summary.rst",
            category="Search provenance",
            labels={"source": "{database}", "run": "{search_date}"},
        ),
    params:
        spec=lambda wildcards: dict(_import_spec(wildcards)),
    wildcard_constraints:
        database=r"[a-z][a-z0-9_]*",
        search_date=r"\d{4}-\d{2}-\d{2}",
    log:
        "logs/imports/{database}/{search_date}.log",
    threads: 1
    resources:
        mem_mb=512,
    script:
        "../scripts/import_export.py"


TARGETS["imports"] = imported_tables() + [
    import_table_path(spec, "summary.json") for spec in config["imports"]
]
