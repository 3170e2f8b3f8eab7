"""How many E-utilities requests does a PubMed search cost?

    .venv/bin/python benchmarks/search_requests.py [N ...] [--batch-size 200] [--cap 9999]

For each N, runs the real search code (livingreview.search.take_snapshot) against an
in-process stand-in for E-utilities that holds N synthetic records spread evenly over
1990-2021 by creation date, then an update run with no new PMIDs, and prints the requests
each cost.  The synthetic records exist only in memory for this count; they are not data.

Expected: baseline = esearch per date slice (more slices once N > cap) + ceil(N / batch)
efetch; an update with nothing new = one esearch per slice and no efetch.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import math
import sys
import tempfile
from pathlib import Path

from livingreview.search.entrez import EntrezClient
from livingreview.search.snapshot import take_snapshot

HEAD_ESEARCH = '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
HEAD_PUBMED = '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'


class SyntheticEutils:
    """Counts requests; answers esearch by creation-date window and efetch by IDs/history."""

    rate_limited = False

    def __init__(self, n: int):
        start, days = dt.date(1990, 1, 1), (dt.date(2021, 10, 1) - dt.date(1990, 1, 1)).days
        self.created = {
            str(i + 1): start + dt.timedelta(days=(i * days) // max(n, 1)) for i in range(n)
        }
        self.history: dict[str, list[str]] = {}
        self.counts = {"esearch.fcgi": 0, "efetch.fcgi": 0}

    def send(self, url: str, params, timeout: float) -> bytes:
        utility = url.rsplit("/", 1)[-1]
        self.counts[utility] += 1
        if utility == "esearch.fcgi":
            lo = dt.datetime.strptime(params["mindate"], "%Y/%m/%d").date()
            hi = dt.datetime.strptime(params["maxdate"], "%Y/%m/%d").date()
            ids = [i for i, d in self.created.items() if lo <= d <= hi]
            listed = ids[: int(params["retmax"])]
            token = f"W{len(self.history)}"
            self.history[token] = ids
            return (
                HEAD_ESEARCH
                + f"<eSearchResult><Count>{len(ids)}</Count><RetMax>{len(listed)}</RetMax>"
                f"<RetStart>0</RetStart><QueryKey>1</QueryKey><WebEnv>{token}</WebEnv><IdList>"
                + "".join(f"<Id>{i}</Id>" for i in listed)
                + "</IdList></eSearchResult>"
            ).encode()
        if "id" in params:
            ids = params["id"].split(",")
        else:
            start = int(params["retstart"])
            ids = self.history[params["WebEnv"]][start : start + int(params["retmax"])]
        articles = "".join(
            f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{i}</PMID>'
            f'<Article PubModel="Print"><Journal><JournalIssue CitedMedium="Print"><PubDate><Year>2000</Year>'
            f"</PubDate></JournalIssue></Journal><ArticleTitle>synthetic {i}</ArticleTitle></Article>"
            f"</MedlineCitation></PubmedArticle>"
            for i in ids
        )
        return (HEAD_PUBMED + "<PubmedArticleSet>" + articles + "</PubmedArticleSet>").encode()


def measure(n: int, batch_size: int, cap: int) -> tuple[dict, dict]:
    server = SyntheticEutils(n)
    with tempfile.TemporaryDirectory() as tmp:
        common = dict(
            root=Path(tmp),
            baseline_until="2021-10-31",
            baseline_from="1800-01-01",
            datetype="crdt",
            queries={"q": "synthetic"},
            mode="replay",
            batch_size=batch_size,
            max_ids=cap,
        )
        take_snapshot(run_date="2021-10-31", client=EntrezClient(transport=server), **common)
        baseline = dict(server.counts)
        server.counts = {"esearch.fcgi": 0, "efetch.fcgi": 0}
        take_snapshot(run_date="2024-01-31", client=EntrezClient(transport=server), **common)
        update = dict(server.counts)
    return baseline, update


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="*", type=int, default=[0, 50, 1000, 25000])
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--cap", type=int, default=9999)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    print(
        f"{'hits':>8} {'baseline esearch':>17} {'efetch':>7} {'ceil(N/batch)':>16} {'update esearch':>15} {'update efetch':>14}"
    )
    for n in args.n:
        baseline, update = measure(n, args.batch_size, args.cap)
        print(
            f"{n:>8} {baseline['esearch.fcgi']:>17} {baseline['efetch.fcgi']:>7} "
            f"{math.ceil(n / args.batch_size):>16} {update['esearch.fcgi']:>15} {update['efetch.fcgi']:>14}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
