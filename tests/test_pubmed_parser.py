"""PubMed XML -> record rows, on real NCBI answers (tests/fixtures/entrez, Biopython licence)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from Bio.Entrez import Parser as EntrezParser

from livingreview.errors import InputFileError
from livingreview.records import RECORD_COLUMNS
from livingreview.search.pubmed import newest_bundled_pubmed_dtd, parse_pubmed_xml, with_known_dtd

FIXTURES = Path(__file__).parent / "fixtures" / "entrez"


def parse(name: str) -> list[dict[str, str]]:
    return parse_pubmed_xml((FIXTURES / name).read_bytes(), "2021-10-31", name)


def test_every_row_has_exactly_the_record_columns():
    for name in ("pubmed1.xml", "pubmed2.xml", "pubmed5.xml", "pubmed6.xml", "pubmed7.xml"):
        for row in parse(name):
            assert tuple(row) == RECORD_COLUMNS
            assert row["record_id"] == f"pubmed:{row['pmid']}" and row["source"] == "pubmed"
            assert row["run"] == "2021-10-31"


def test_record_without_abstract():
    rows = {r["pmid"]: r for r in parse("pubmed1.xml")}
    row = rows["12091962"]
    assert row["abstract"] == ""
    assert row["title"] == "The treatment of AIDS behind the walls of correctional facilities."
    assert row["authors"] == "Olivero JM" and row["first_author"] == "Olivero"
    assert (row["journal_abbrev"], row["year"], row["volume"], row["issue"], row["pages"]) == (
        "Soc Justice",
        "1990",
        "17",
        "1",
        "113-25",
    )
    assert row["publication_types"] == "Journal Article; Review"
    assert row["language"] == "eng"
    assert "Acquired Immunodeficiency Syndrome" in row["mesh_terms"].split("; ")


def test_doi_dates_and_authors():
    rows = {r["pmid"]: r for r in parse("pubmed2.xml")}
    row = rows["11748933"]
    assert row["doi"] == "10.1006/cryo.2001.2328"
    assert row["authors"].startswith("Taddei AR; Barbato F")
    assert row["date_created"] == "2001-12-26" and row["date_entrez"] == "2001-12-26"
    assert row["date_published"] == "2001-06"
    assert rows["9997" if "9997" in rows else "11700088"]["pmid"]


def test_structured_abstract_keeps_labels_and_literal_less_than():
    (row,) = parse("pubmed5.xml")
    assert row["abstract"].startswith("OBJECTIVES: Animal studies")
    assert " METHODS: " in row["abstract"] and " CONCLUSIONS: " in row["abstract"]
    assert "(0.4-<4.5 mIU/L)" in row["abstract"]  # <u>&lt;</u> -> '<', markup gone
    assert "ORQ3=4.15" in row["abstract"]
    assert not re.search(r"</?(sub|sup|u|i|b)>", row["abstract"])


def test_html_in_title_and_mathml_in_abstract_become_text():
    (row6,) = parse("pubmed6.xml")
    assert row6["title"].startswith('A "Blood Relationship" Between the Overlooked')
    (row7,) = parse("pubmed7.xml")
    for row in (row6, row7):
        assert "<" not in row["title"]
        assert not re.search(r"</?(math|mml:|mrow|mi|mo|mn|msub|sub|sup)\b", row["abstract"])
        assert "  " not in row["abstract"]
    assert "He" in row7["abstract"] and row7["doi"] == "10.1117/1.jmi.5.2.026002"


def test_dtd_not_bundled_still_parses_offline(monkeypatch):
    body = (FIXTURES / "pubmed2.xml").read_bytes()
    future = re.sub(rb"pubmed_\d{6}\.dtd|pubmed_\w+\.dtd", b"pubmed_990101.dtd", body, count=1)
    if future == body:  # fixture names its DTD differently: put one in
        future = re.sub(
            rb"<!DOCTYPE[^>]*>",
            b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2099//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_990101.dtd">',
            body,
            count=1,
        )
    assert b"pubmed_990101.dtd" in future

    def no_network(*args, **kwargs):
        raise AssertionError("the parser tried to download a DTD")

    monkeypatch.setattr(EntrezParser, "urlopen", no_network)
    rewritten, replaced = with_known_dtd(future)
    assert replaced == "pubmed_990101.dtd" and newest_bundled_pubmed_dtd().encode() in rewritten
    rows = parse_pubmed_xml(future, "2026-11-23")
    assert [r["pmid"] for r in rows] == [r["pmid"] for r in parse("pubmed2.xml")]


def test_esearch_answer_naming_an_unknown_dtd_still_parses_offline(monkeypatch):
    from livingreview.search.entrez import parse_esearch

    body = (FIXTURES / "esearch2.xml").read_bytes()
    future = body.replace(b"/20060628/esearch.dtd", b"/20990101/esearch_new.dtd", 1)
    assert future != body

    def no_network(*args, **kwargs):
        raise AssertionError("the parser tried to download a DTD")

    monkeypatch.setattr(EntrezParser, "urlopen", no_network)
    result = parse_esearch(future)
    assert result.count == 42249 and result.ids == parse_esearch(body).ids


def test_bundled_dtd_is_left_alone():
    body = (FIXTURES / "pubmed5.xml").read_bytes()
    assert with_known_dtd(body) == (body, None)


@pytest.mark.parametrize(
    "name, cut", [("pubmed2.xml", 0.6), ("pubmed3.html", 1.0), ("einfo4.xml", 1.0)]
)
def test_truncated_html_or_wrong_documents_are_errors_naming_the_origin(name, cut):
    body = (FIXTURES / name).read_bytes()
    body = body[: int(len(body) * cut)]
    with pytest.raises(InputFileError, match=re.escape(name)):
        parse_pubmed_xml(body, "2021-10-31", name)
