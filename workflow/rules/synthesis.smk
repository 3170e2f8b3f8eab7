# Stage 'synthesis': outcome cross-tabulations and the published tests, the random-effects
# meta-analysis of the remission proportion with forest plots, and what the update changed.
#
# The extraction tables and the screening stage's inclusions are outputs of checkpoints
# (merge_extractions, screen), read by content (checkpoint_inputs in common.smk): a
# screening decision that leaves them unchanged reruns nothing here.


# Quick steps (a second or a few): on a cluster they run where Snakemake runs, since as
# SLURM jobs they would cost a queue wait and two Snakemake start-ups each (the forest plots
# are drawn there too, like the PRISMA diagrams). pool_remission, the meta-analysis, is
# submitted.
localrules:
    crosstabulate,
    forest_plots,
    whats_new,


EXTRACTION_TABLES = {
    "studies": "results/extraction/studies.tsv",
    "subgroups": "results/extraction/subgroups.tsv",
}


rule crosstabulate:
    input:
        studies=checkpoint_input(EXTRACTION_TABLES["studies"]),
        subgroups=checkpoint_input(EXTRACTION_TABLES["subgroups"]),
        baseline=baseline_files(),
        code=script_code("crosstabulate.py"),
    output:
        outcomes="results/synthesis/outcomes.tsv",
        tests="results/synthesis/tests.tsv",
        summary=report(
            "results/synthesis/summary.md",
            caption="../report/outcomes_summary.rst",
            category="Synthesis",
            labels={"item": "outcomes and published tests"},
        ),
    log:
        "logs/synthesis/crosstabulate.log",
    benchmark:
        "logs/benchmarks/synthesis/crosstabulate.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        # content of the human inputs: an edit reruns whatever its timestamp
        human_content=human_content(baseline_files()),
        # content of the extraction checkpoint's tables: a changed table reruns
        extraction_content=checkpoint_content(*EXTRACTION_TABLES.values()),
    script:
        "../scripts/crosstabulate.py"


FOREST_TITLES = {
    "cyclosporine": "Cyclosporine: remission",
    "tacrolimus": "Tacrolimus: remission",
    "both": "Cyclosporine and tacrolimus: remission",
}


rule pool_remission:
    input:
        studies=checkpoint_input(EXTRACTION_TABLES["studies"]),
        code=script_code("pool_remission.py"),
    output:
        meta=report(
            "results/synthesis/meta_analysis.tsv",
            caption="../report/meta_analysis.rst",
            category="Synthesis",
            labels={"item": "pooled estimates"},
        ),
    log:
        "logs/synthesis/pool_remission.log",
    benchmark:
        "logs/benchmarks/synthesis/pool_remission.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        extraction_content=checkpoint_content(EXTRACTION_TABLES["studies"]),
    script:
        "../scripts/pool_remission.py"


rule forest_plots:
    input:
        studies=checkpoint_input(EXTRACTION_TABLES["studies"]),
        meta="results/synthesis/meta_analysis.tsv",
        # A new study's records give its label (first author, year) and the run that found it.
        included=checkpoint_inputs(included_reports()),
        publications="results/records/unique.tsv",
        code=script_code("forest_plots.py"),
    output:
        **{
            f"forest_{group}_{ext}": report(
                f"results/synthesis/forest_{group}.{ext}",
                caption="../report/forest.rst",
                category="Synthesis",
                subcategory="Forest plots",
                labels={"group": group, "format": ext},
            )
            for group in FOREST_TITLES
            for ext in ("svg", "png")
        },
        proportions="results/synthesis/study_proportions.tsv",
    log:
        "logs/synthesis/forest_plots.log",
    benchmark:
        "logs/benchmarks/synthesis/forest_plots.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        forest_titles=FOREST_TITLES,
        primary_method=config["synthesis"]["primary_method"],
        checkpoints_content=checkpoint_content(
            EXTRACTION_TABLES["studies"], *included_reports()
        ),
    script:
        "../scripts/forest_plots.py"


# whats_new also reads the newest archive entry of an earlier run_date in synthesis.history_dir
# (each run's registration archives its estimates in history_dir/<run_id>/, runs.smk); neither
# is declared, because Snakemake deletes declared outputs before a rerun, after a failure and
# with --delete-all-output, and the archive is the record of what each version of the review
# said: it must outlive every rerun.
rule whats_new:
    input:
        meta="results/synthesis/meta_analysis.tsv",
        studies=checkpoint_input(EXTRACTION_TABLES["studies"]),
        code=script_code("whats_new.py"),
    output:
        tsv="results/synthesis/whats_new.tsv",
        markdown=report(
            "results/synthesis/whats_new.md",
            caption="../report/whats_new.rst",
            category="What's new",
            labels={"item": "what's new"},
        ),
    log:
        "logs/synthesis/whats_new.log",
    benchmark:
        "logs/benchmarks/synthesis/whats_new.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        extraction_content=checkpoint_content(EXTRACTION_TABLES["studies"]),
        run_date=config["run_date"],
        history_dir=config["synthesis"]["history_dir"],
        estimate_change=config["synthesis"]["whats_new"]["estimate_change"],
        flag_previous_outside_ci=config["synthesis"]["whats_new"][
            "flag_previous_outside_ci"
        ],
    script:
        "../scripts/whats_new.py"


TARGETS["synthesis"] = [
    *rules.crosstabulate.output,
    *rules.pool_remission.output,
    *rules.forest_plots.output,
    *rules.whats_new.output,
]
