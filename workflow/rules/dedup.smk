# Stage 'dedup': every record of every PubMed snapshot and imported export -> one row per
# publication, each merge explained (see livingreview.dedup and resources/dedup/README.md).
#
# Inputs come from two functions of the other stages: pubmed_snapshots() (search.smk) and
# imported_tables() (imports.smk). resources/dedup/verdicts.tsv is human-owned and only read.

from livingreview.dedup.settings import MatchSettings, match_params  # noqa: E402

# The matching settings, built once from the validated config and passed by both rules;
# checked (title_maybe not above title_same...) before any job runs.
DEDUP_SETTINGS = match_params(config)
MatchSettings.from_params(DEDUP_SETTINGS)


# On a cluster the check runs where Snakemake runs (it costs what dedup costs: well under a
# second here, seconds for 100,000 records), so dedup starts without a queue wait of its own.
localrules:
    check_dedup_verdicts,


rule check_dedup_verdicts:
    input:
        snapshots=pubmed_snapshots(),
        imports=imported_tables(),
        verdicts=dedup_verdicts(),
        code=script_code("check_dedup_verdicts.py"),
    output:
        receipt=temp("results/checks/dedup_verdicts.json"),
    log:
        "logs/checks/dedup_verdicts.log",
    benchmark:
        "logs/benchmarks/checks/dedup_verdicts.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        # content of the human inputs: an edit reruns whatever its timestamp
        human_content=human_content(dedup_verdicts()),
        settings=DEDUP_SETTINGS,
        # verdicts decided after it wait for a later run
        run_date=str(config["run_date"]),
    script:
        "../scripts/check_dedup_verdicts.py"


rule dedup:
    input:
        # Checked first in a rule of its own: an invalid sheet leaves earlier results intact.
        checked=rules.check_dedup_verdicts.output.receipt,
        snapshots=pubmed_snapshots(),
        imports=imported_tables(),
        verdicts=dedup_verdicts(),
        code=script_code("dedup.py"),
    output:
        unique="results/records/unique.tsv",
        duplicates=report(
            "results/records/duplicates.tsv",
            caption="../report/dedup_duplicates.rst",
            category="Deduplication",
            labels={"item": "merged records, with the rule or verdict"},
        ),
        maybe=report(
            "results/records/maybe.tsv",
            caption="../report/dedup_maybe.rst",
            category="Deduplication",
            labels={"item": "uncertain pairs awaiting a verdict"},
        ),
        # uncertain pairs awaiting a verdict: the data manager's line of the run's to-do
        todo="results/records/todo.tsv",
        runs=report(
            "results/records/runs.tsv",
            caption="../report/dedup_runs.rst",
            category="Deduplication",
            labels={"item": "per run and source"},
        ),
    log:
        "logs/dedup/dedup.log",
    benchmark:
        "logs/benchmarks/dedup/dedup.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        # content of the human inputs: an edit reruns whatever its timestamp
        human_content=human_content(dedup_verdicts()),
        settings=DEDUP_SETTINGS,
        # verdicts decided after it wait for a later run
        run_date=str(config["run_date"]),
    script:
        "../scripts/dedup.py"


TARGETS["dedup"] = list(rules.dedup.output)
