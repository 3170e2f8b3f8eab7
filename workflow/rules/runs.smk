# Stage 'runs': the record of one run, written last.
#
# results/runs/<run_date>/{summary.json, summary.md, manifest.json}: what this run found,
# what changed since the previous run record, and the SHA-256 of every input, code file and
# output. The record reads exactly the files declared below (livingreview.runs.inputs).
# bin/scheduled-update forces this rule (--forcerun run_record), so every scheduled run
# leaves a fresh record even when nothing else had to be rebuilt; a plain `snakemake`
# rebuilds it whenever a declared input changes (any output, input file, code file, config).
# With runs.notify_command set, notify_run then runs that command with the summary path.
#
# How a run ends on screen (livingreview.runs.ending): after success, the to-do block of the
# run's record; after a failure, the failed job's marker line and, as the last line, the
# error's message (the traceback stays in the job's log); when Snakemake refuses to start
# because a scheduled run holds the project, a last line that says so.

import atexit  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402

from livingreview.runs.ending import RunEnding  # noqa: E402
from livingreview.runs.inputs import archived_studies_before  # noqa: E402
from livingreview.runs.manifest import (
    code_files,
    input_files,
    public_config,
)  # noqa: E402

RUNS_ROOT = "results/runs"

# Every default target of the other stages: the record is the last step of a run.
# (runs.smk is included last in the Snakefile, so every stage has filled TARGETS by now.)
RUN_RECORD_OUTPUTS = [
    str(path) for stage, paths in TARGETS.items() if stage != "runs" for path in paths
]


localrules:
    run_record,
    notify_run,


# Read but not declared: the earlier run records results/runs/<earlier date>/ (to say what
# changed). They are this rule's own outputs for other dates; declared, Snakemake would
# rebuild an old run's record from today's results.
rule run_record:
    input:
        receipts=pubmed_receipts(),
        records_unique="results/records/unique.tsv",
        records_duplicates="results/records/duplicates.tsv",
        records_runs="results/records/runs.tsv",
        screening_status="results/screening/status.tsv",
        # the to-do files (and decisions dated after the run), from each stage that has them
        records_todo=written_by_rules(["results/records/todo.tsv"]),
        screening_todo=written_by_rules(["results/screening/todo.tsv"]),
        screening_deferred=written_by_rules(["results/screening/deferred.tsv"]),
        extraction_todo=written_by_rules(["results/extraction/todo.tsv"]),
        extraction_studies="results/extraction/studies.tsv",
        estimates=[
            "results/synthesis/outcomes.tsv",
            "results/synthesis/tests.tsv",
            "results/synthesis/meta_analysis.tsv",
        ],
        whats_new="results/synthesis/whats_new.tsv",
        # the previous version of the synthesis, as whats_new compares with it
        previous_version_studies=lambda wildcards: archived_studies_before(
            config["synthesis"]["history_dir"], wildcards.run_date
        ),
        outputs=RUN_RECORD_OUTPUTS,
        # checksummed in the manifest: files people keep, and the whole workflow's code
        inputs=human_inputs(input_files(config)),
        workflow_code=relative_to_workdir(code_files(workflow.basedir)),
        code=script_code("run_record.py"),
    output:
        summary_json=f"{RUNS_ROOT}/{{run_date}}/summary.json",
        summary_md=report(
            f"{RUNS_ROOT}/{{run_date}}/summary.md",
            caption="../report/run_record.rst",
            category="Run record",
            labels={"item": "run {run_date}"},
        ),
        manifest=f"{RUNS_ROOT}/{{run_date}}/manifest.json",
    log:
        "logs/runs/record-{run_date}.log",
    benchmark:
        "logs/benchmarks/runs/record-{run_date}.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        # The effective config, secrets removed (also kept out of .snakemake/metadata).
        config=public_config(config),
        snapshot_root=PUBMED_ROOT,
    script:
        "../scripts/run_record.py"


rule notify_run:
    input:
        summary_md=f"{RUNS_ROOT}/{{run_date}}/summary.md",
        summary_json=f"{RUNS_ROOT}/{{run_date}}/summary.json",
        code=script_code("run_notify.py"),
    output:
        receipt=f"{RUNS_ROOT}/{{run_date}}/notification.json",
    log:
        "logs/runs/notify-{run_date}.log",
    benchmark:
        "logs/benchmarks/runs/notify-{run_date}.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=100,
    params:
        command=config["runs"]["notify_command"],
        timeout=config["runs"]["notify_timeout_seconds"],
    script:
        "../scripts/run_notify.py"


TARGETS["runs"] = [
    f"{RUNS_ROOT}/{config['run_date']}/{name}"
    for name in ("summary.json", "summary.md", "manifest.json")
] + (
    [f"{RUNS_ROOT}/{config['run_date']}/notification.json"]
    if config["runs"]["notify_command"]
    else []
)


RUN_ENDING = RunEnding(
    summary_json=f"{RUNS_ROOT}/{config['run_date']}/summary.json", started=time.time()
)
if not (workflow.remote_exec or workflow.subprocess_exec):  # the main process only
    logging.getLogger("snakemake.logging").addHandler(RUN_ENDING.lock_watch)
    atexit.register(RUN_ENDING.last_words)


onsuccess:
    RUN_ENDING.succeeded()


onerror:
    RUN_ENDING.failed(log)
