# Stage 'extraction': the studies in the current synthesis (published baseline + accepted
# new extractions), one row per study and CNI, with provenance; subgroup rows; discrepancies
# between extractors.


rule check_extraction_sheets:
    input:
        baseline=baseline_files(),
        sheets=extraction_sheets(),
        included=included_reports(),
        modules=package_modules("records", "baseline", "extraction", "checks"),
    output:
        receipt=temp("results/checks/extraction_sheets.json"),
    params:
        check="extraction_sheets",
        min_extractors=config["extraction"]["min_extractors"],
    log:
        "logs/checks/extraction_sheets.log",
    threads: 1
    resources:
        mem_mb=500,
    script:
        "../scripts/check_human_input.py"


rule merge_extractions:
    input:
        # Checked first in a rule of its own: an invalid sheet leaves earlier results intact.
        checked=rules.check_extraction_sheets.output.receipt,
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
