"""Recorded E-utilities answers served instead of HTTP: offline, reproducible searches.

Consumes a recording folder (``search.replay_dir``, by default ``resources/search/pubmed/``;
its README says how the recordings were made). Produces, for each request the
:class:`~livingreview.search.entrez.EntrezClient` sends, the bytes a live E-utilities server
would have answered, so a replayed search runs the same client checks and parsers as a live
one. A request the recordings do not cover is a :class:`~livingreview.errors.ConfigError` that
suggests live mode.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ..errors import ConfigError
from .entrez import parse_esearch


class ReplayTransport:
    """Serves recorded E-utilities answers instead of HTTP, for offline and reproducible runs.

    A recording folder holds ``index.json``::

        {"esearch": [{"db": "pubmed", "term": "...", "datetype": "crdt",
                      "mindate": "1800/01/01", "maxdate": "2021/10/31",
                      "file": "esearch/baseline.xml"}, ...],
         "efetch_dir": "efetch"}

    and one PubMed XML file per PMID under ``efetch_dir`` (``<pmid>.xml``).  An esearch is
    answered only for exactly the recorded (db, term, datetype, mindate, maxdate); an efetch
    (by ID list or by the WebEnv of a served esearch) is answered by concatenating the
    per-PMID articles into one ``PubmedArticleSet`` document.
    """

    rate_limited = False

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        index_path = self.folder / "index.json"
        try:
            self.index = json.loads(index_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                "search.replay_dir",
                f"no recording index at {index_path}",
                "a folder with index.json (see resources/search/pubmed/README.md), or search.mode: live",
            ) from None
        self._history: dict[tuple[str, str], list[str]] = {}

    def send(self, url: str, params: Mapping[str, str], timeout: float) -> bytes:
        utility = url.rstrip("/").rsplit("/", 1)[-1]
        if utility == "esearch.fcgi":
            return self._esearch(params)
        if utility == "efetch.fcgi":
            return self._efetch(params)
        raise ConfigError(
            "search.mode", f"replay has no recordings for {utility}", "esearch, efetch"
        )

    def _esearch(self, params: Mapping[str, str]) -> bytes:
        wanted = {k: params.get(k, "") for k in ("db", "term", "datetype", "mindate", "maxdate")}
        for entry in self.index.get("esearch", []):
            if all(entry.get(k, "") == v for k, v in wanted.items()):
                body = (self.folder / entry["file"]).read_bytes()
                result = parse_esearch(body)
                if result.webenv and result.query_key:
                    self._history[(result.webenv, result.query_key)] = result.ids
                return body
        windows = sorted(
            f"{e.get('mindate')}-{e.get('maxdate')}" for e in self.index.get("esearch", [])
        )
        same_term = any(e.get("term") == wanted["term"] for e in self.index.get("esearch", []))
        problem = (
            f"replay mode has no recorded esearch for the window {wanted['mindate']}..{wanted['maxdate']} "
            f"({wanted['datetype']})"
            if same_term
            else "replay mode has no recording for this query text (was the query in config.yaml changed?)"
        )
        raise ConfigError(
            "search.mode",
            f"{problem} in {self.folder}; recorded windows: {', '.join(windows) or 'none'}",
            "a run_date the recordings cover, or search.mode: live (with entrez.email set) to "
            "search PubMed itself",
        )

    def _efetch(self, params: Mapping[str, str]) -> bytes:
        if "id" in params:
            ids = [i for i in params["id"].split(",") if i]
        else:
            key = (params.get("WebEnv", ""), params.get("query_key", ""))
            if key not in self._history:
                raise ConfigError(
                    "search.mode",
                    f"replay efetch for unknown WebEnv/query_key {key}",
                    "an esearch served earlier in this run",
                )
            start = int(params.get("retstart", "0"))
            ids = self._history[key][start : start + int(params.get("retmax", "20"))]
        efetch_dir = self.folder / self.index.get("efetch_dir", "efetch")
        articles = []
        for pmid in ids:
            path = efetch_dir / f"{pmid}.xml"
            if not path.exists():
                raise ConfigError(
                    "search.mode",
                    f"replay has no recorded PubMed record for PMID {pmid} ({path})",
                    "search.mode: live to fetch it from PubMed",
                )
            text = path.read_text(encoding="utf-8")
            start, end = text.find("<PubmedArticle>"), text.rfind("</PubmedArticle>")
            if start < 0 or end < 0:
                raise ConfigError(
                    "search.replay_dir",
                    f"{path} holds no <PubmedArticle>",
                    "one PubMed record per file",
                )
            articles.append(text[start : end + len("</PubmedArticle>")])
        header = (
            '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
            '1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
        )
        return (
            header + "<PubmedArticleSet>\n" + "\n".join(articles) + "\n</PubmedArticleSet>\n"
        ).encode("utf-8")
