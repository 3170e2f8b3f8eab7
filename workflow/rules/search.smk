# Stage 'search': PubMed through E-utilities (live or replayed) into dated, immutable
# snapshots results/search/pubmed/<date>/ (raw/, records.tsv, sealed/, provenance.json).
#
# Immutability against Snakemake's habits: Snakemake deletes a job's declared outputs before
# rerunning it (code change, --forcerun) and after a failure. So the snapshot folder is never
# a declared output: the job builds it in a hidden temporary sibling folder, renames it into
# place when complete, and then publishes two declared copies outside it, the record table
# results/search/tables/pubmed-<date>.tsv (what later stages read) and the receipt
# results/search/receipts/pubmed-<date>.json (provenance, for the report). Rerunning the job
# for an existing snapshot verifies its checksums and republishes the copies; nothing in the
# snapshot is ever rewritten. See livingreview.search.

# Input functions (pubmed_snapshots, ...) are in common.smk.


rule search_pubmed:
    input:
        earlier=_earlier_pubmed_snapshots,
        code=script_code("search_pubmed.py"),
    output:
        table=f"{PUBMED_TABLES}/pubmed-{{run_date}}.tsv",
        receipt=report(
            "results/search/receipts/pubmed-{run_date}.json",
            caption="../report/search_provenance.rst",
            category="Search provenance",
            labels={"source": "PubMed", "run": "{run_date}"},
        ),
    log:
        "logs/search/pubmed-{run_date}.log",
    benchmark:
        "logs/benchmarks/search/pubmed-{run_date}.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        ncbi_api=1,
        mem_mb=1000,
    params:
        snapshot_root=PUBMED_ROOT,
        mode=config["search"]["mode"],
        baseline_until=config["search"]["baseline_until"],
        baseline_from=config["search"]["baseline_from"],
        date_type=config["search"]["date_type"],
        queries=config["search"]["queries"],
        replay_dir=config["search"]["replay_dir"],
        batch_size=config["search"]["batch_size"],
        max_ids=config["search"]["max_ids_per_search"],
        # No API key here: the client reads it from the environment variable named by
        # api_key_env, so it never reaches .snakemake/metadata, logs or outputs.
        email=config["entrez"]["email"],
        tool=config["entrez"]["tool"],
        api_key_env=config["entrez"]["api_key_env"],
        base_url=config["entrez"]["base_url"],
        timeout=config["entrez"]["timeout_seconds"],
        max_tries=config["entrez"]["max_tries"],
        backoff=config["entrez"]["backoff_seconds"],
    script:
        "../scripts/search_pubmed.py"


# Network step: on a cluster it runs on the head node, where NCBI is reachable.
localrules:
    search_pubmed,


# PRISMA-S: every search this run uses (PubMed snapshots and imported exports), with its
# platform, strategy, limits, date and records, and the items not reported; and the published
# review's databases this project has no records of (search.baseline_other_databases).
rule prisma_s:
    input:
        receipts=pubmed_receipts(),
        imports=[import_table_path(spec, "summary.json") for spec in exports_in_run()],
        code=script_code("prisma_s.py"),
    output:
        table=report(
            "results/search/prisma_s.tsv",
            caption="../report/search_prisma_s.rst",
            category="Search provenance",
            labels={"source": "all searches", "run": "PRISMA-S"},
        ),
    log:
        "logs/search/prisma_s.log",
    benchmark:
        "logs/benchmarks/search/prisma_s.tsv"
    conda:
        "../envs/livingreview.yaml"
    threads: 1
    resources:
        mem_mb=300,
    params:
        # each export's config entry (prisma_s: and what names it), in input order
        exports=[dict(spec) for spec in exports_in_run()],
        # the published review's databases this project has no records of
        unreconstructed=config["search"]["baseline_other_databases"],
        baseline_until=config["search"]["baseline_until"],
    script:
        "../scripts/prisma_s.py"


localrules:
    prisma_s,


TARGETS["search"] = [
    *pubmed_snapshots(),
    *pubmed_receipts(),
    rules.prisma_s.output.table,
]
