"""Take (or verify) the PubMed snapshot of one run date; publish its table and receipt."""

import signal
import sys
from pathlib import Path

from livingreview.logs import log_path_of, setup_logging
from livingreview.search.entrez import EntrezClient
from livingreview.search.replay import ReplayTransport
from livingreview.search.snapshot import keep_existing_snapshot, publish_snapshot, take_snapshot


def main(snakemake):
    setup_logging(log_path_of(snakemake))
    # Snakemake stops jobs with SIGTERM: turn it into an exception so the temporary
    # snapshot folder is removed on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    p = snakemake.params
    root = Path(p.snapshot_root)
    run_date = snakemake.wildcards.run_date
    # An existing snapshot is verified and kept before anything could fail (no client needed).
    if keep_existing_snapshot(root, run_date, dict(p.queries)):
        publish_snapshot(root, run_date, snakemake.output.table, snakemake.output.receipt)
        return
    transport = ReplayTransport(p.replay_dir) if p.mode == "replay" else None
    client = EntrezClient(
        email=p.email,
        tool=p.tool,
        api_key_env=p.api_key_env,
        base_url=p.base_url,
        transport=transport,
        timeout=p.timeout,
        max_tries=p.max_tries,
        backoff=p.backoff,
    )
    take_snapshot(
        root=root,
        run_date=run_date,
        baseline_until=p.baseline_until,
        baseline_from=p.baseline_from,
        datetype=p.date_type,
        queries=dict(p.queries),
        client=client,
        mode=p.mode,
        batch_size=p.batch_size,
        max_ids=p.max_ids,
    )
    publish_snapshot(root, run_date, snakemake.output.table, snakemake.output.receipt)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821
