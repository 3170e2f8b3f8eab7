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
