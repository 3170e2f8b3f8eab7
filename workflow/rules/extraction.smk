# Stage 'extraction': the studies in the current synthesis (published baseline + accepted
# new extractions), one row per study and CNI, with provenance; subgroup rows; discrepancies
# between extractors.
#
# Reruns follow content, not timestamps, across the two checkpoints of this part of the
# workflow (checkpoint_inputs in common.smk): the screening stage rewrites
# included_reports.tsv on every decision, and this stage reruns only when its content
# changed; merge_extractions is itself a checkpoint, so the synthesis reruns only when the
# study and subgroup tables it writes changed (a title/abstract decision changes neither).


# Quick steps (well under a second): on a cluster they run where Snakemake runs, since as
# SLURM jobs they would cost a queue wait and two Snakemake start-ups each.
localrules:
    check_extraction_sheets,
    merge_extractions,


rule check_extraction_sheets:
    input:
        baseline=baseline_files(),
        sheets=extraction_sheets(),
        included=checkpoint_inputs(included_reports()),
        code=script_code("check_extraction_sheets.py"),
    output:
        receipt=temp("results/checks/extraction_sheets.json"),
    log:
        "logs/checks/extraction_sheets.log",
    benchmark:
        "logs/benchmarks/checks/extraction_sheets.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        # content of the human inputs: an edit reruns whatever its timestamp
        human_content=human_content(baseline_files(), extraction_sheets()),
        # content of the screening checkpoint's inclusions: a changed file reruns
        included_content=checkpoint_content(*included_reports()),
        min_extractors=config["extraction"]["min_extractors"],
    script:
        "../scripts/check_extraction_sheets.py"


# A checkpoint: the synthesis reads its study and subgroup tables by content.
checkpoint merge_extractions:
    input:
        # Checked first in a rule of its own: an invalid sheet leaves earlier results intact.
        checked=rules.check_extraction_sheets.output.receipt,
        baseline=baseline_files(),
        sheets=extraction_sheets(),
        included=checkpoint_inputs(included_reports()),
        code=script_code("merge_extractions.py"),
    output:
        studies="results/extraction/studies.tsv",
        subgroups="results/extraction/subgroups.tsv",
        discrepancies=report(
            "results/extraction/discrepancies.tsv",
            caption="../report/extraction_discrepancies.rst",
            category="Extraction",
            labels={"item": "discrepancies between extractors"},
        ),
        status=report(
            "results/extraction/status.tsv",
            caption="../report/extraction_status.rst",
            category="Extraction",
            labels={"item": "status per new study"},
        ),
        todo="results/extraction/todo.tsv",
    log:
        "logs/extraction/merge_extractions.log",
    benchmark:
        "logs/benchmarks/extraction/merge_extractions.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        # content of the human inputs: an edit reruns whatever its timestamp
        human_content=human_content(baseline_files(), extraction_sheets()),
        # content of the screening checkpoint's inclusions: a changed file reruns
        included_content=checkpoint_content(*included_reports()),
        min_extractors=config["extraction"]["min_extractors"],
        extraction_dir=config["extraction"]["dir"],
    script:
        "../scripts/merge_extractions.py"


TARGETS["extraction"] = rules.merge_extractions.output
