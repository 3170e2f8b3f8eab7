# Stage 'prisma': the PRISMA 2020 flow counted from records.
#
# Every record of every run (search snapshots and imported exports), the dedup stage's
# publications and the screening stage's statuses -> a record-level ledger (one row per
# flow, box and record/report/study), prisma.csv in the PRISMA2020 R package's template
# layout, a per-flow count table, and the diagram drawn from those counts. The identities
# of the diagram are checked on every run; a violation fails the job naming the boxes and
# the record ids (livingreview.prisma.check_identities).

PRISMA_REPORT = "PRISMA 2020 flow"


localrules:
    prisma_ledger,
    prisma_flowchart,
    prisma_report_lists,


# A checkpoint: the diagrams read its count table by content (checkpoint_inputs in
# common.smk), so a decision that moves no count (the first of two reviewers' decisions on a
# publication) does not redraw them.
checkpoint prisma_ledger:
    input:
        # Every PubMed snapshot this run uses (input function, as for the dedup stage).
        snapshots=pubmed_snapshots,
        imports=imported_tables(),
        unique="results/records/unique.tsv",
        duplicates="results/records/duplicates.tsv",
        dedup_runs="results/records/runs.tsv",
        status="results/screening/status.tsv",
        studies=baseline_studies(),
        code=script_code("prisma_ledger.py"),
    output:
        ledger=report(
            "results/prisma/ledger.tsv",
            caption="../report/prisma_ledger.rst",
            category=PRISMA_REPORT,
            labels={"item": "record-level ledger"},
        ),
        prisma=report(
            "results/prisma/prisma.csv",
            caption="../report/prisma_csv.rst",
            category=PRISMA_REPORT,
            labels={"item": "prisma.csv (PRISMA2020 template)"},
        ),
        prisma_baseline=report(
            "results/prisma/prisma_baseline.csv",
            caption="../report/prisma_baseline_csv.rst",
            category=PRISMA_REPORT,
            labels={
                "item": "prisma_baseline.csv (published review, reconstructed; PRISMA2020 template)"
            },
        ),
        counts=report(
            "results/prisma/counts.tsv",
            caption="../report/prisma_counts.rst",
            category=PRISMA_REPORT,
            labels={"item": "counts per update run and cumulative"},
        ),
    log:
        "logs/prisma/prisma_ledger.log",
    benchmark:
        "logs/benchmarks/prisma/prisma_ledger.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        # content of the human inputs: an edit reruns whatever its timestamp
        human_content=human_content(baseline_studies()),
        baseline_until=config["search"]["baseline_until"],
        registers=config["prisma"]["registers"],
        source_labels=config["prisma"]["source_labels"],
        unpublished_designs=config["prisma"]["unpublished_designs"],
        unpublished_identified_via=config["prisma"]["unpublished_identified_via"],
    script:
        "../scripts/prisma_ledger.py"


rule prisma_flowchart:
    input:
        counts=checkpoint_input("results/prisma/counts.tsv"),
        # platform and date of each search, and PRISMA-S gaps (search stage)
        searches="results/search/prisma_s.tsv",
        code=script_code("prisma_flowchart.py"),
    output:
        svg=report(
            "results/prisma/flow.svg",
            caption="../report/prisma_flow.rst",
            category=PRISMA_REPORT,
            labels={"item": "flow diagram (update, cumulative)"},
        ),
        pdf="results/prisma/flow.pdf",
        png="results/prisma/flow.png",
        baseline_svg=report(
            "results/prisma/flow_baseline.svg",
            caption="../report/prisma_flow_baseline.rst",
            category=PRISMA_REPORT,
            labels={
                "item": "flow diagram (published review, reconstructed from its included studies and the reconstructed searches)"
            },
        ),
        baseline_pdf="results/prisma/flow_baseline.pdf",
        baseline_png="results/prisma/flow_baseline.png",
    log:
        "logs/prisma/prisma_flowchart.log",
    benchmark:
        "logs/benchmarks/prisma/prisma_flowchart.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        counts_content=checkpoint_content("results/prisma/counts.tsv"),
        source_labels=config["prisma"]["source_labels"],
        baseline_until=config["search"]["baseline_until"],
        titles={
            "cumulative": (
                f"{config['prisma']['review_title']}: PRISMA 2020 flow of the update, "
                f"searches {config['search']['baseline_until']} to {config['run_date']}"
            ),
            "baseline": (
                f"{config['prisma']['review_title']}: published review (search to "
                f"{config['search']['baseline_until']}), reconstructed from its included "
                "studies and the reconstructed searches"
            ),
        },
        footnote=(
            "Counted from results/prisma/ledger.tsv (one row per record, report or study). "
            "Dashed boxes: not yet decided, shown so that no record drops out of the count: "
            "identified - removed = screened + awaiting screening; sought - not retrieved = "
            "assessed + awaiting assessment."
        ),
    script:
        "../scripts/prisma_flowchart.py"


# The reports behind the boxes, cited: excluded at full text with their reasons (PRISMA 2020
# item 16b) and the included reports of each study, read from the ledger so that they list
# exactly what the diagrams count.
rule prisma_report_lists:
    input:
        ledger=checkpoint_input("results/prisma/ledger.tsv"),
        unique="results/records/unique.tsv",
        code=script_code("prisma_report_lists.py"),
    output:
        excluded=report(
            "results/prisma/excluded_reports.tsv",
            caption="../report/prisma_excluded_reports.rst",
            category=PRISMA_REPORT,
            labels={"item": "reports excluded at full text, with reasons (item 16b)"},
        ),
        included=report(
            "results/prisma/included_reports_by_study.tsv",
            caption="../report/prisma_included_reports.rst",
            category=PRISMA_REPORT,
            labels={"item": "included studies and their reports"},
        ),
    log:
        "logs/prisma/prisma_report_lists.log",
    benchmark:
        "logs/benchmarks/prisma/prisma_report_lists.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        ledger_content=checkpoint_content("results/prisma/ledger.tsv"),
    script:
        "../scripts/prisma_report_lists.py"


TARGETS["prisma"] = [
    *rules.prisma_ledger.output,
    *rules.prisma_flowchart.output,
    *rules.prisma_report_lists.output,
]
