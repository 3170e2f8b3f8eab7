# Stage 'extraction': the studies in the current synthesis (published baseline + accepted
# new extractions), one row per study and CNI, with provenance.


rule merge_extractions:
    input:
        baseline=baseline_files(),
        modules=package_modules("records", "baseline", "extraction"),
    output:
        studies="results/extraction/studies.tsv",
    log:
        "logs/extraction/merge_extractions.log",
    threads: 1
    resources:
        mem_mb=500,
    script:
        "../scripts/merge_extractions.py"


TARGETS["extraction"] = rules.merge_extractions.output
