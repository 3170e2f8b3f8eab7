# Stage 'screening': reviewer decision sheets -> status, conflicts, queues, study links.
#
# Input contract: results/records/unique.tsv (dedup stage) and the human sheets
# <screening.decisions_dir>/<stage>/<reviewer>.tsv and .../<stage>/adjudication.tsv, which
# the workflow only reads. Outputs under results/screening/ (resources/screening/README.md):
# status.tsv (PRISMA reads it), conflicts.tsv, included_reports.tsv (extraction reads it),
# queue/<stage>/<reviewer>.tsv, ranking_weights.tsv, ranking_evaluation.tsv, guide.md, todo.tsv
# (who has what to do; the run record collects it), summary.txt (the same counts in a line) and
# agreement.tsv (Cohen's kappa and proportionate agreement per stage, before adjudication).
# Every decision in the sheets counts, whatever its date; one dated after today is an error,
# found by check_screening_sheets, which reads the clock when it runs.

from livingreview.screening.settings import (  # noqa: E402
    queue_paths,
    screening_params,
    screening_settings,
    sheet_paths,
)  # noqa: E402

# The stage's settings, built once from the validated config and passed by every rule.
SCREENING_SETTINGS = screening_params(config)
# Checks the schema cannot express (dual needs two reviewers...), before any job runs.
screening_settings(config)

SCREENING_RESULTS = "results/screening"


localrules:
    check_screening_sheets,
    screen,


rule check_screening_sheets:
    input:
        unique="results/records/unique.tsv",
        sheets=screening_sheets,
        studies=baseline_studies(),
        code=script_code("check_screening_sheets.py"),
    output:
        receipt=temp("results/checks/screening_sheets.json"),
    log:
        "logs/checks/screening_sheets.log",
    benchmark:
        "logs/benchmarks/checks/screening_sheets.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        # content of the human inputs: an edit reruns whatever its timestamp
        human_content=human_content(screening_sheets, baseline_studies()),
        settings=SCREENING_SETTINGS,
        run_date=config["run_date"],
    script:
        "../scripts/check_screening_sheets.py"


# A checkpoint: when it has run, Snakemake re-evaluates the jobs that read its outputs, and
# those reading included_reports.tsv by content (extraction, forest plots) rerun only if it
# changed (checkpoint_inputs in common.smk).
checkpoint screen:
    input:
        # Checked first in a rule of its own: an invalid sheet leaves earlier results intact.
        checked=rules.check_screening_sheets.output.receipt,
        unique="results/records/unique.tsv",
        maybe="results/records/maybe.tsv",
        # every decision and adjudication sheet present now: a new or edited sheet reruns
        sheets=screening_sheets,
        studies=baseline_studies(),
        code=script_code("screen.py"),
    output:
        status=report(
            f"{SCREENING_RESULTS}/status.tsv",
            caption="../report/screening_status.rst",
            category="Screening",
            labels={"item": "status per publication"},
        ),
        conflicts=report(
            f"{SCREENING_RESULTS}/conflicts.tsv",
            caption="../report/screening_conflicts.rst",
            category="Screening",
            labels={"item": "conflicts and adjudications"},
        ),
        included=f"{SCREENING_RESULTS}/included_reports.tsv",
        weights=f"{SCREENING_RESULTS}/ranking_weights.tsv",
        evaluation=f"{SCREENING_RESULTS}/ranking_evaluation.tsv",
        guide=f"{SCREENING_RESULTS}/guide.md",
        summary=f"{SCREENING_RESULTS}/summary.txt",
        todo=f"{SCREENING_RESULTS}/todo.tsv",
        agreement=report(
            f"{SCREENING_RESULTS}/agreement.tsv",
            caption="../report/screening_agreement.rst",
            category="Screening",
            labels={"item": "agreement between reviewers (Cohen's kappa)"},
        ),
        queues=queue_paths(SCREENING_RESULTS, config["screening"]["reviewers"]),
    log:
        "logs/screening/screen.log",
    benchmark:
        "logs/benchmarks/screening/screen.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        # content of the human inputs: an edit reruns whatever its timestamp
        human_content=human_content(screening_sheets, baseline_studies()),
        settings=SCREENING_SETTINGS,
        criteria=config["screening"]["eligibility_criteria"],
        run_date=config["run_date"],
        # where todo.tsv sends people to act
        decisions_dir=config["screening"]["decisions_dir"],
    script:
        "../scripts/screen.py"


TARGETS["screening"] = [
    rules.screen.output.status,
    rules.screen.output.conflicts,
    rules.screen.output.included,
    rules.screen.output.summary,
    rules.screen.output.todo,
    rules.screen.output.agreement,
    *rules.screen.output.queues,
]
