# Stage 'search': PubMed through E-utilities (live or replayed) into dated, immutable
# snapshots results/search/pubmed/<date>/ (raw/, records.tsv, sealed/, provenance.json).
#
# Immutability against Snakemake's habits: Snakemake deletes a job's declared outputs before
# rerunning it (code change, --forcerun) and after a failure. Only records.tsv is declared;
# the snapshot is built in a hidden temporary sibling folder and renamed into place when
# complete. If the job runs again for an existing snapshot, it verifies the checksums in
# provenance.json and puts records.tsv back from sealed/records.tsv (a hard link to the same
# bytes), so nothing in the snapshot is ever rewritten. See livingreview.search.

# Input functions (pubmed_snapshots, ...) are in common.smk.


rule search_pubmed:
    input:
        earlier=_earlier_pubmed_snapshots,
        code=package_modules("records", "entrez", "pubmed", "search"),
    output:
        records=f"{PUBMED_ROOT}/{{run_date}}/records.tsv",
    log:
        "logs/search/pubmed-{run_date}.log",
    params:
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
    threads: 1
    resources:
        ncbi_api=1,
    script:
        "../scripts/search_pubmed.py"


rule search_receipt:
    input:
        records=f"{PUBMED_ROOT}/{{run_date}}/records.tsv",
        code=package_modules("search"),
    output:
        receipt=report(
            "results/search/receipts/pubmed-{run_date}.json",
            caption="../report/search_provenance.rst",
            category="Search provenance",
            labels={"source": "PubMed", "run": "{run_date}"},
        ),
    log:
        "logs/search/receipt-{run_date}.log",
    threads: 1
    resources:
        mem_mb=200,
    script:
        "../scripts/search_receipt.py"


# Network step: on a cluster it runs on the head node, where NCBI is reachable; the receipt
# is a file copy.
localrules:
    search_pubmed,
    search_receipt,


TARGETS["search"] = [
    *pubmed_snapshots(),
    *(f"results/search/receipts/pubmed-{day}.json" for day in pubmed_snapshot_dates()),
]
