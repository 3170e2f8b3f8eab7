# Stage 'synthesis': outcome cross-tabulations, the published tests and a readable summary.


rule crosstabulate:
    input:
        studies="results/extraction/studies.tsv",
        baseline=baseline_files(),
        modules=package_modules("records", "baseline", "extraction", "synthesis"),
    output:
        outcomes="results/synthesis/outcomes.tsv",
        tests="results/synthesis/tests.tsv",
        summary="results/synthesis/summary.md",
    log:
        "logs/synthesis/crosstabulate.log",
    threads: 1
    resources:
        mem_mb=500,
    script:
        "../scripts/crosstabulate.py"


TARGETS["synthesis"] = rules.crosstabulate.output
