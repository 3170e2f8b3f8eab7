"""Rebuild the replay recordings in this folder from sources.yaml and config.yaml.

    .venv/bin/python resources/search/pubmed/build_recordings.py

Writes ``index.json``, ``esearch/*.xml`` (one esearch answer per recorded query and window)
and ``efetch/<pmid>.xml`` (one PubMed record per file, in PubMed's efetch XML format).  Only
facts listed in sources.yaml go into the XML; see README.md for what these recordings are
(a reconstruction standing in for a capture) and what they are not.

The recorded windows are the baseline (search.baseline_from..baseline_until) and one update
window (search.baseline_until..D) for run_date and for every date in search.update_runs of
config.yaml, each for every named query in search.queries.  Rerun this script after changing
any of those keys, or the replay will (rightly) report that it has no recording.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import yaml

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[2]

DOCTYPE_ESEARCH = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch '
    '20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
DOCTYPE_PUBMED = (
    '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st '
    'January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)


def split_author(name: str) -> tuple[str, str]:
    """'Terziroli Beretta-Piccoli B' -> ('Terziroli Beretta-Piccoli', 'B')."""
    last, _, initials = name.rpartition(" ")
    return last, initials


def article_xml(rec: dict) -> str:
    """One PubmedArticle with only the fields the source gives."""
    e = lambda v: escape(str(v))  # noqa: E731
    lines = [
        "<PubmedArticle>",
        '  <MedlineCitation Status="MEDLINE" Owner="NLM">',
        f'    <PMID Version="1">{e(rec["pmid"])}</PMID>',
        '    <Article PubModel="Print">',
        "      <Journal>",
        '        <JournalIssue CitedMedium="Print">',
    ]
    for key, tag in (("volume", "Volume"), ("issue", "Issue")):
        if rec.get(key):
            lines.append(f"          <{tag}>{e(rec[key])}</{tag}>")
    lines.append(
        "          <PubDate>"
        + (f"<Year>{e(rec['year'])}</Year>" if rec.get("year") else "")
        + "</PubDate>"
    )
    lines.append("        </JournalIssue>")
    if rec.get("journal"):
        lines.append(f"        <Title>{e(rec['journal'])}</Title>")
    if rec.get("journal_abbrev"):
        lines.append(f"        <ISOAbbreviation>{e(rec['journal_abbrev'])}</ISOAbbreviation>")
    lines.append("      </Journal>")
    lines.append(f"      <ArticleTitle>{e(rec['title'])}</ArticleTitle>")
    if rec.get("pages"):
        lines.append(f"      <Pagination><MedlinePgn>{e(rec['pages'])}</MedlinePgn></Pagination>")
    if rec.get("doi"):
        lines.append(f'      <ELocationID EIdType="doi" ValidYN="Y">{e(rec["doi"])}</ELocationID>')
    if rec.get("authors"):
        complete = "Y" if rec.get("complete") else "N"
        lines.append(f'      <AuthorList CompleteYN="{complete}">')
        for name in rec["authors"]:
            last, initials = split_author(name)
            lines.append(
                f'        <Author ValidYN="Y"><LastName>{e(last)}</LastName><Initials>{e(initials)}</Initials></Author>'
            )
        lines.append("      </AuthorList>")
    if rec.get("publication_types"):
        lines.append("      <PublicationTypeList>")
        lines += [
            f"        <PublicationType>{e(p)}</PublicationType>" for p in rec["publication_types"]
        ]
        lines.append("      </PublicationTypeList>")
    lines.append("    </Article>")
    if rec.get("journal_abbrev"):
        lines.append(
            f"    <MedlineJournalInfo><MedlineTA>{e(rec['journal_abbrev'])}</MedlineTA></MedlineJournalInfo>"
        )
    lines.append("  </MedlineCitation>")
    lines.append("  <PubmedData>")
    lines.append("    <ArticleIdList>")
    lines.append(f'      <ArticleId IdType="pubmed">{e(rec["pmid"])}</ArticleId>')
    if rec.get("doi"):
        lines.append(f'      <ArticleId IdType="doi">{e(rec["doi"])}</ArticleId>')
    lines.append("    </ArticleIdList>")
    lines.append("  </PubmedData>")
    lines.append("</PubmedArticle>")
    return "\n".join(lines)


def esearch_xml(ids: list[str], token: str) -> str:
    """An esearch answer listing ``ids``; Count is their number. No QueryTranslation (see README)."""
    id_list = "".join(f"\n<Id>{i}</Id>" for i in ids)
    history = f"<QueryKey>1</QueryKey><WebEnv>{escape(token)}</WebEnv>" if ids else ""
    return (
        DOCTYPE_ESEARCH
        + f"<eSearchResult><Count>{len(ids)}</Count><RetMax>{len(ids)}</RetMax><RetStart>0</RetStart>"
        + history
        + f"<IdList>{id_list}\n</IdList><TranslationSet/></eSearchResult>\n"
    )


def main() -> int:
    config = yaml.safe_load((PROJECT / "config.yaml").read_text(encoding="utf-8"))
    search = config["search"]
    sources = yaml.safe_load((HERE / "sources.yaml").read_text(encoding="utf-8"))["records"]
    pmids = [r["pmid"] for r in sources]
    if len(set(pmids)) != len(pmids):
        raise SystemExit("sources.yaml lists a PMID twice")
    for folder in ("esearch", "efetch"):
        (HERE / folder).mkdir(exist_ok=True)
        for old in (HERE / folder).glob("*.xml"):
            old.unlink()
    for rec in sources:
        text = (
            DOCTYPE_PUBMED + "<PubmedArticleSet>\n" + article_xml(rec) + "\n</PubmedArticleSet>\n"
        )
        (HERE / "efetch" / f"{rec['pmid']}.xml").write_text(text, encoding="utf-8")

    def ids_for(run: str) -> list[str]:
        # esearch lists newest PMIDs first, as PubMed's default sort does.
        return sorted((r["pmid"] for r in sources if r["run"] == run), key=int, reverse=True)

    baseline_until = search["baseline_until"].replace("-", "/")
    windows = [("baseline", search["baseline_from"].replace("-", "/"), baseline_until)]
    for day in sorted({config["run_date"], *search.get("update_runs", [])}):
        if day > search["baseline_until"]:
            windows.append(("update", baseline_until, day.replace("-", "/")))
    entries = []
    for name, term in search["queries"].items():
        for run, mindate, maxdate in windows:
            file = f"esearch/{name}_{mindate.replace('/', '')}_{maxdate.replace('/', '')}.xml"
            token = f"REPLAY_{name}_{mindate.replace('/', '')}_{maxdate.replace('/', '')}"
            (HERE / file).write_text(esearch_xml(ids_for(run), token), encoding="utf-8")
            entries.append(
                {
                    "db": "pubmed",
                    "term": term,
                    "datetype": search.get("date_type", "crdt"),
                    "mindate": mindate,
                    "maxdate": maxdate,
                    "file": file,
                    "run": run,
                }
            )
    index = {
        "about": "Reconstructed E-utilities answers standing in for a capture; see README.md.",
        "esearch": entries,
        "efetch_dir": "efetch",
    }
    (HERE / "index.json").write_text(
        json.dumps(index, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"{len(sources)} records, {len(entries)} esearch recordings written to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
