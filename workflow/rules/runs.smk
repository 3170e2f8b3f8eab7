# Stage 'runs': the record of one run, written last.
#
# results/runs/<run_date>/{summary.json, summary.md, manifest.json}: what this run found,
# what changed since the previous run record, and the SHA-256 of every input, code file and
# output. bin/scheduled-update forces this rule (--forcerun run_record), so every scheduled
# run leaves a fresh record even when nothing else had to be rebuilt; a plain `snakemake`
# rebuilds it whenever a final output, the config or the code changes.
# With runs.notify_command set, notify_run then runs that command with the summary path.

from livingreview.runs import public_config  # noqa: E402

RUNS_ROOT = "results/runs"

# Every default target of the other stages: the record is the last step of a run.
# (runs.smk is included last in the Snakefile, so every stage has filled TARGETS by now.)
RUN_RECORD_INPUTS = [
    str(path) for stage, paths in TARGETS.items() if stage != "runs" for path in paths
]


localrules:
    run_record,
    notify_run,


rule run_record:
    input:
        final=RUN_RECORD_INPUTS,
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
