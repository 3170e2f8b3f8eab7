# Stage 'synthesis': outcome cross-tabulations and the published tests, the random-effects
# meta-analysis of the remission proportion with forest plots, and what the update changed.


rule crosstabulate:
    input:
        studies="results/extraction/studies.tsv",
        subgroups="results/extraction/subgroups.tsv",
        baseline=baseline_files(),
        modules=package_modules("records", "baseline", "extraction", "synthesis"),
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
    threads: 1
    resources:
        mem_mb=500,
    script:
        "../scripts/crosstabulate.py"


FOREST_TITLES = {
    "cyclosporine": "Cyclosporine: remission",
    "tacrolimus": "Tacrolimus: remission",
    "both": "Cyclosporine and tacrolimus: remission",
}


rule pool_remission:
    input:
        studies="results/extraction/studies.tsv",
        modules=package_modules("records", "baseline", "extraction", "synthesis", "meta", "forest"),
    output:
        meta=report(
            "results/synthesis/meta_analysis.tsv",
            caption="../report/meta_analysis.rst",
            category="Synthesis",
            labels={"item": "pooled estimates"},
        ),
        proportions="results/synthesis/study_proportions.tsv",
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
    log:
        "logs/synthesis/pool_remission.log",
    params:
        forest_titles=FOREST_TITLES,
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/pool_remission.py"


rule whats_new:
    input:
        meta="results/synthesis/meta_analysis.tsv",
        studies="results/extraction/studies.tsv",
        modules=package_modules("records", "baseline", "extraction", "synthesis", "meta", "updates"),
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
    params:
        run_date=config["run_date"],
        history_dir=config["synthesis"]["history_dir"],
        estimate_change=config["synthesis"]["whats_new"]["estimate_change"],
        flag_previous_outside_ci=config["synthesis"]["whats_new"]["flag_previous_outside_ci"],
    threads: 1
    resources:
        mem_mb=500,
    script:
        "../scripts/whats_new.py"


TARGETS["synthesis"] = [
    *rules.crosstabulate.output,
    *rules.pool_remission.output,
    *rules.whats_new.output,
]
