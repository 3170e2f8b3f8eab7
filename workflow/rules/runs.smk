# Stage 'runs': every run's own entry, and the record of its run_date, written last.
#
# A *run* is one start of the workflow (docs/architecture.md, "Runs"): it has an id (the
# launcher's LIVINGREVIEW_RUN_ID, else a new "manual" one) and, once it ends, an entry of its
# own in results/runs/<run_id>/ (livingreview.runs.registry), never overwritten by a later run
# of the same run_date.
#
# run_record writes the content-derived record of the run_date,
# results/runs/by-date/<run_date>/{summary.json, summary.md, manifest.json}: what the review
# found, what changed since the record of the previous run_date, and the SHA-256 of every
# input, code file and output. It reads exactly the files declared below
# (livingreview.runs.inputs) and reruns only when one of them changes. With
# runs.notify_command set, notify_run then runs that command with the summary path.
#
# No job registers the run: when Snakemake stops, after every run, even one with nothing to
# do, the project's logger plugin (--logger livingreview, set in profiles/; module
# snakemake_logger_plugin_livingreview) ends the run announced below (RUN_ENDING): it copies
# the record of run_date into results/runs/<run_id>/, archives the human inputs the manifest
# lists by content (results/runs/inputs/<sha256>), archives the synthesis as the run's history
# entry and records the run (index.tsv, latest.json). A run that built chosen targets, which
# left the record of its date behind, gets an entry without a record; a failed run, an entry
# with status failed and the line it ends with. Without the plugin, onsuccess / onerror
# record runs that had jobs to run.
#
# How a run ends on screen (livingreview.runs.ending): after success, the to-do block of the
# run's record; after a failure, the failed jobs' marker lines (found in the project's own job
# logs by this run's id) and the error's message (onerror). Before anything is planned, a run
# refuses to start while another run (a scheduled update, a desk refresh) holds the project's
# run lock.

from livingreview.runs.ending import (  # noqa: E402
    ProjectBusyError,
    RunEnding,
    announce_run,
    busy_message,
    is_planner,
)
from livingreview.runs.inputs import archived_studies_before  # noqa: E402
from livingreview.runs.manifest import (  # noqa: E402
    code_files,
    input_files,
    private_words,
    public_config,
)
from livingreview.runs.register import BY_DATE_DIR  # noqa: E402
from livingreview.runs.registry import (
    RUNS_DIR,
    current_run_id,
    trigger_of,
)  # noqa: E402
from livingreview.runs.runlock import claim_run_lock  # noqa: E402

RUNS_ROOT = BY_DATE_DIR
# This run's id: the launcher's, or a new manual one put into the environment, which every
# job inherits (their error markers name it).
RUN_ID = current_run_id()
# Checked by the process that plans the run only: its jobs (which read this file again) are
# part of the run, whoever took the lock since.
PLANNER = is_planner()
BUSY = busy_message(Path.cwd(), RUN_ID) if PLANNER else None
if BUSY:
    raise ProjectBusyError(BUSY)
# A run typed without a launcher holds the run lock until its planner exits, so that a desk
# refresh or a scheduled run waits for it (and never meets Snakemake's directory lock).
if PLANNER and not claim_run_lock(Path.cwd(), trigger_of(RUN_ID), RUN_ID):
    raise ProjectBusyError(
        busy_message(Path.cwd(), RUN_ID)
        or "another run took this project's run lock just now; run again in a minute"
    )

RUN_RECORD_OUTPUTS = [
    str(path) for stage, paths in TARGETS.items() if stage != "runs" for path in paths
]


localrules:
    run_record,
    notify_run,


# Read but not declared: the records of earlier dates results/runs/by-date/<date>/ (to say
# what changed). They are this rule's own outputs for other dates; declared, Snakemake would
# rebuild an old run's record from today's results.
rule run_record:
    input:
        receipts=pubmed_receipts(),
        records_unique="results/records/unique.tsv",
        records_duplicates="results/records/duplicates.tsv",
        records_runs="results/records/runs.tsv",
        screening_status="results/screening/status.tsv",
        screening_agreement="results/screening/agreement.tsv",
        # this version's PRISMA box counts and full-text exclusion reasons
        prisma_counts="results/prisma/counts.tsv",
        # the to-do files, from each stage that has them
        records_todo=written_by_rules(["results/records/todo.tsv"]),
        screening_todo=written_by_rules(["results/screening/todo.tsv"]),
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


# What the run leaves when it ends, announced to the project's logger plugin in this process
# (nothing of it is written before the run ends; the private words never are).
RUN_ENDING = announce_run(
    RunEnding(
        run_id=RUN_ID,
        run_date=config["run_date"],
        run_summary=f"{RUNS_DIR}/{RUN_ID}/summary.json",
        date_summary=f"{RUNS_ROOT}/{config['run_date']}/summary.json",
        history_dir=config["synthesis"]["history_dir"],
        synthesis_files=(
            "results/synthesis/meta_analysis.tsv",
            "results/extraction/studies.tsv",
        ),
        private=frozenset(private_words(config)),
        code_base=workflow.basedir,
    )
)


onsuccess:
    RUN_ENDING.succeeded()


onerror:
    RUN_ENDING.failed(log)
