# Stage 'extraction': the studies in the current synthesis (published baseline + accepted
# new extractions), one row per study and CNI, with provenance; subgroup rows; discrepancies
# between extractors.


rule merge_extractions:
    input:
        baseline=baseline_files(),
        sheets=extraction_sheets(),
        included=included_reports(),
        modules=package_modules("records", "baseline", "extraction"),
    output:
        studies="results/extraction/studies.tsv",
        subgroups="results/extraction/subgroups.tsv",
        discrepancies="results/extraction/discrepancies.tsv",
        status="results/extraction/status.tsv",
    log:
        "logs/extraction/merge_extractions.log",
    params:
        min_extractors=config["extraction"]["min_extractors"],
    threads: 1
    resources:
        mem_mb=500,
    script:
        "../scripts/merge_extractions.py"


TARGETS["extraction"] = rules.merge_extractions.output
