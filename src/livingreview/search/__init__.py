"""Stage 'search': PubMed through NCBI E-utilities into dated, immutable snapshots.

Consumes the named queries, the run date and the baseline window from the config (rule
params), and E-utilities answers, live over HTTP or replayed from recordings. Produces, per
run date, a snapshot ``results/search/pubmed/<date>/`` (never rewritten) and its declared
copies ``results/search/tables/pubmed-<date>.tsv`` (what dedup reads) and
``results/search/receipts/pubmed-<date>.json`` (its provenance, what the report and the run
record read).

Modules, in the order a search runs:

- :mod:`~livingreview.search.windows`: run dates, date windows, the snapshots a run uses;
- :mod:`~livingreview.search.entrez`: the E-utilities client (rate limit, retries, checks);
- :mod:`~livingreview.search.replay`: recorded answers served instead of HTTP (offline runs);
- :mod:`~livingreview.search.pubmed`: PubMed XML -> rows of the shared record table;
- :mod:`~livingreview.search.retrieve`: esearch by date slices, efetch of the new PMIDs;
- :mod:`~livingreview.search.snapshot`: taking, verifying and publishing snapshots.
"""

from .entrez import (
    DEFAULT_BASE_URL,
    ESEARCH_MAX_IDS,
    RATE_WITH_KEY,
    RATE_WITHOUT_KEY,
    EntrezClient,
    EsearchResult,
    HttpTransport,
    PermanentError,
    RateLimiter,
    TransientError,
    Transport,
    check_xml_body,
    parse_esearch,
    redact,
)
from .pubmed import newest_bundled_pubmed_dtd, parse_pubmed_xml, with_known_dtd
from .replay import ReplayTransport
from .retrieve import Slice, fetch_new, search_slices
from .snapshot import (
    PROVENANCE,
    RECORDS,
    SEALED,
    discover_snapshots,
    keep_existing_snapshot,
    known_pmids,
    publish_snapshot,
    restore_records,
    snapshot_files,
    take_snapshot,
    verify_snapshot,
)
from .windows import Window, entrez_date, parse_date, run_window, snapshot_dates

__all__ = [
    "DEFAULT_BASE_URL",
    "ESEARCH_MAX_IDS",
    "PROVENANCE",
    "RATE_WITHOUT_KEY",
    "RATE_WITH_KEY",
    "RECORDS",
    "SEALED",
    "EntrezClient",
    "EsearchResult",
    "HttpTransport",
    "PermanentError",
    "RateLimiter",
    "ReplayTransport",
    "Slice",
    "TransientError",
    "Transport",
    "Window",
    "check_xml_body",
    "discover_snapshots",
    "entrez_date",
    "fetch_new",
    "keep_existing_snapshot",
    "known_pmids",
    "newest_bundled_pubmed_dtd",
    "parse_date",
    "parse_esearch",
    "parse_pubmed_xml",
    "publish_snapshot",
    "redact",
    "restore_records",
    "run_window",
    "search_slices",
    "snapshot_dates",
    "snapshot_files",
    "take_snapshot",
    "verify_snapshot",
    "with_known_dtd",
]
