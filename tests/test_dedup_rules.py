"""Matching rules and the traps: exact keys never blindly, fuzzy only when nothing conflicts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from livingreview.dedup.benchmark import duplicate_groups, records_from_benchmark
from livingreview.dedup.cluster import cluster_records
from livingreview.dedup.keys import candidate_pairs, features_of
from livingreview.dedup.match import MAYBE, NONE, SAME, compare
from livingreview.dedup.settings import MatchSettings
from livingreview.errors import ConfigError
from livingreview.records import empty_record

FIXTURES = Path(__file__).parent / "fixtures" / "dedup"
S = MatchSettings()


def cni_records() -> list[dict[str, str]]:
    """The ten real records (PMID and DOI known) from fixtures/dedup/cni_records.tsv."""
    with open(FIXTURES / "cni_records.tsv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def record(record_id: str, **fields: str) -> dict[str, str]:
    row = empty_record()
    row.update(record_id=record_id, source=record_id.split(":")[0], run="2021-10-31", **fields)
    return row


def pubmed(fact: dict[str, str]) -> dict[str, str]:
    return record(
        f"pubmed:{fact['pmid']}",
        **{
            k: fact[k]
            for k in (
                "pmid",
                "doi",
                "title",
                "authors",
                "journal",
                "year",
                "volume",
                "issue",
                "pages",
            )
        },
    )


def embase_style(fact: dict[str, str], number: int) -> dict[str, str]:
    """The same paper as another database exports it: no PMID, DOI URL, other spellings."""
    first, _, last = fact["pages"].partition("-")
    if last and len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return record(
        f"embase:{number}",
        doi=f"https://doi.org/{fact['doi'].upper()}",
        title=fact["title"].upper() + ".",
        authors=fact["authors"].replace("; ", " and "),
        journal=fact["journal"],
        year=fact["year"],
        volume=f"Vol. {fact['volume']}",
        pages=f"{first}-{last}" if last else first,
    )


def decide(a: dict[str, str], b: dict[str, str]):
    return compare(features_of(a), features_of(b), S)


def test_same_pmid_merges():
    fact = cni_records()[0]
    other = record("wos:1", pmid=fact["pmid"], title="Something else entirely in the record")
    assert decide(pubmed(fact), other).rule == "pmid"


def test_two_pmids_never_merge_even_with_identical_titles():
    a, b = cni_records()[:2]
    twin = dict(
        pubmed(b), title=a["title"], authors=a["authors"], journal=a["journal"], year=a["year"]
    )
    assert decide(pubmed(a), twin).decision == NONE


def test_other_database_spelling_merges_on_doi():
    for number, fact in enumerate(cni_records()):
        result = decide(pubmed(fact), embase_style(fact, number))
        assert (result.decision, result.rule) == (SAME, "doi"), fact["title"]


def test_without_doi_the_fuzzy_rule_merges_other_spellings():
    for number, fact in enumerate(cni_records()):
        variant = dict(embase_style(fact, number), doi="")
        result = decide(pubmed(fact), variant)
        assert result.decision == SAME, (fact["title"], result)


def test_shared_supplement_doi_with_different_titles_is_not_merged():
    # Conference supplements give one DOI to every abstract in the issue.
    doi = "10.5555/supplement.2021.1"
    a = record(
        "embase:a",
        doi=doi,
        title="Tacrolimus as second-line therapy in autoimmune hepatitis",
        authors="Smith J; Jones K",
        year="2021",
        volume="74",
        pages="S512",
    )
    b = record(
        "embase:b",
        doi=doi,
        title="Budesonide in paediatric autoimmune hepatitis: a registry study",
        authors="Smith J; Brown L",
        year="2021",
        volume="74",
        pages="S513",
    )
    assert decide(a, b).decision == MAYBE
    assert duplicate_groups([a, b]) == []


def test_editorial_introductions_by_one_editor_are_different_items():
    rows = [
        {
            "ID": f"e{i}",
            "title": "Editorial Introduction",
            "author": "Zwass, Vladimir",
            "year": year,
            "journal": "Journal of Management Information Systems",
            "volume": volume,
            "pages": pages,
        }
        for i, (year, volume, pages) in enumerate(
            [
                ("2000", "16", "3--4"),
                ("2000", "16", "1--2"),
                ("2001", "17", "1--2"),
                ("2000", "16", ""),
            ]
        )
    ]
    assert duplicate_groups(records_from_benchmark(rows)) == []


def test_editorial_listed_twice_for_the_same_issue_and_pages_is_one_item():
    row = {
        "title": "Editorial Introduction",
        "author": "Zwass, Vladimir",
        "year": "2000",
        "journal": "Journal of Management Information Systems",
        "volume": "16",
        "pages": "3--4",
    }
    rows = [dict(row, ID="a"), dict(row, ID="b", journal="J Manage Inform Syst")]
    assert duplicate_groups(records_from_benchmark(rows)) == [["a", "b"]]


def test_identical_reply_titles_in_different_pages_are_not_merged():
    row = {
        "title": "Reply",
        "author": "Heneghan, M A",
        "year": "2019",
        "journal": "Hepatology",
        "volume": "70",
    }
    rows = [dict(row, ID="a", pages="1100"), dict(row, ID="b", pages="2210")]
    assert duplicate_groups(records_from_benchmark(rows)) == []


def test_same_title_different_year_and_pages_is_not_merged():
    fact = cni_records()[3]
    later = dict(
        pubmed(fact),
        record_id="embase:1",
        pmid="",
        doi="",
        year=str(int(fact["year"]) + 3),
        pages="100-110",
    )
    assert decide(pubmed(fact), later).decision == NONE


def test_one_word_changed_in_a_registry_title_is_not_merged_without_corroboration():
    a = {
        "ID": "a",
        "title": "An open-label multi-center clinical trial of eculizumab in pediatric patients",
        "author": "Alexion Pharmaceuticals, Inc",
        "year": "2011",
    }
    b = dict(
        a, ID="b", title="An open-label multi-center clinical trial of eculizumab in adult patients"
    )
    assert duplicate_groups(records_from_benchmark([a, b])) == []


def test_translated_title_suffix_and_short_page_range_merge():
    rows = [
        {
            "ID": "a",
            "title": "Efficacy observation of batroxobin for treatment of vascular cognitive impairment. [Chinese]",
            "author": "Zhai, Q. J. and Yue, X. Y. and Hong, Z.",
            "year": "2010",
            "journal": "Chinese Journal of Cerebrovascular Diseases",
            "volume": "7",
            "pages": "73-6",
        },
        {
            "ID": "b",
            "title": "Efficacy observation of batroxobin for treatment of vascular cognitive impairment",
            "author": "Zhai Q; Yue X; Hong Z",
            "year": "2010",
            "journal": "Chin J Cerebrovasc Dis",
            "volume": "7",
            "pages": "73-76",
        },
    ]
    assert duplicate_groups(records_from_benchmark(rows)) == [["a", "b"]]


def test_transitive_chain_is_refused_when_members_conflict():
    # b matches a (no DOI on b) and c (no DOI on b); a and c have different DOIs.
    base = {
        "title": "Tacrolimus for refractory autoimmune hepatitis in adults: a cohort study",
        "author": "Smith, J and Jones, K",
        "year": "2020",
        "journal": "Liver Int",
        "volume": "40",
    }
    rows = [
        dict(base, ID="a", doi="10.5555/test.1"),
        dict(base, ID="b"),
        dict(base, ID="c", doi="10.5555/test.2"),
    ]
    groups = duplicate_groups(records_from_benchmark(rows))
    assert len(groups) == 1 and len(groups[0]) == 2 and "b" in groups[0]


def test_verdicts_override_rules():
    fact = cni_records()[0]
    a, b = pubmed(fact), embase_style(fact, 1)
    features = [features_of(a), features_of(b)]
    apart = cluster_records(features, S, verdict_different=[(0, 1)])
    assert apart.cluster_of[0] != apart.cluster_of[1]
    c = record("wos:9", title="A record the rules would never match", year="1990")
    together = cluster_records([features_of(a), features_of(c)], S, verdict_same=[(0, 1)])
    assert together.cluster_of[0] == together.cluster_of[1]
    assert together.tree[0].rule == "verdict"


def test_blocking_is_near_linear_and_finds_the_variants():
    facts = cni_records()
    rows = [pubmed(f) for f in facts] + [embase_style(f, i) for i, f in enumerate(facts)]
    features = [features_of(r) for r in rows]
    pairs = candidate_pairs(features, S.max_block)
    assert {(i, i + len(facts)) for i in range(len(facts))} <= pairs
    assert len(pairs) < 3 * len(rows)


def test_oversized_block_is_compared_between_neighbours_only():
    rows = [
        {"ID": f"r{i}", "title": "Editorial", "author": "Zwass, V", "year": "2000"}
        for i in range(60)
    ]
    features = [features_of(r) for r in records_from_benchmark(rows)]
    assert len(candidate_pairs(features, 10)) < 60 * 21


def test_settings_are_checked():
    with pytest.raises(ConfigError, match="title_maybe"):
        MatchSettings(title_same=80, title_maybe=90)
    with pytest.raises(ConfigError, match="dedup.bogus"):
        MatchSettings.from_params({"bogus": 1})
    assert MatchSettings.from_params({"source_priority": ["pubmed", "embase"]}).source_priority == (
        "pubmed",
        "embase",
    )
