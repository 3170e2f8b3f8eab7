"""The rules that recover duplicates exports disguise, each with a case it must merge and a
case it must leave apart.

Records are built here in the benchmark column layout (ID, title, author, year, journal,
volume, number, pages, doi); titles are made up for the tests and DOIs use Crossref's
test prefix 10.5555, so nothing here is a recorded fact.
"""

from __future__ import annotations

import pytest

from livingreview.dedup.benchmark import duplicate_groups, records_from_benchmark
from livingreview.dedup.keys import features_of
from livingreview.dedup.match import MAYBE, NONE, SAME, compare
from livingreview.dedup.normalise import normalise_issue, title_language
from livingreview.dedup.notices import correction_notice, erratum_notes
from livingreview.dedup.settings import MatchSettings

S = MatchSettings()
ARTICLE = {
    "title": "Tacrolimus as second-line therapy in autoimmune hepatitis: a multicentre cohort",
    "author": "Smith, J and Jones, K and Brown, L",
    "year": "2019",
    "journal": "Journal of Hepatology",
    "volume": "70",
    "number": "3",
    "pages": "410-418",
}


def rec(record_id: str, **fields: str) -> dict[str, str]:
    return dict(ARTICLE, ID=record_id, **fields)


def decide(a: dict[str, str], b: dict[str, str]):
    fa, fb = (features_of(r) for r in records_from_benchmark([a, b]))
    return compare(fa, fb, S)


def groups(*rows: dict[str, str]) -> list[list[str]]:
    return duplicate_groups(records_from_benchmark(rows))


# ----------------------------------------------------------------------- correction notices


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Erratum: Tacrolimus in AIH", ("Tacrolimus in AIH", "", "", "")),
        ("Correction to: Tacrolimus in AIH", ("Tacrolimus in AIH", "", "", "")),
        ("ERRATUM - Tacrolimus in AIH", ("Tacrolimus in AIH", "", "", "")),
        ("Tacrolimus in AIH (vol 70, pg 410, 2019)", ("Tacrolimus in AIH", "70", "410", "")),
        (
            "Tacrolimus in AIH (Journal of Hepatology (2019) 70 (410-418))",
            ("Tacrolimus in AIH", "70", "410", ""),
        ),
        (
            "Erratum to 'Tacrolimus in AIH' [J. Hepatol. 70(3) (2019) 410-418]",
            ("'Tacrolimus in AIH'", "70", "410", ""),
        ),
    ],
)
def test_correction_notices_are_recognised_with_what_they_cite(title, expected):
    assert correction_notice(title) == expected


@pytest.mark.parametrize(
    "title",
    [
        "Correction of hallux valgus in adults",  # an article about a correction
        "Correctional programmes for offenders",
        "RETRACTED: Tacrolimus in AIH",  # retractions stay visible on their own
        "Erratum",  # nothing named
        "Tacrolimus in AIH (ALTS study)",
        "Tacrolimus in AIH (2019 update)",
    ],
)
def test_titles_that_are_not_correction_notices(title):
    assert correction_notice(title) is None


def test_erratum_notes_name_volume_and_first_page():
    assert erratum_notes("X.[Erratum appears in J Hepatol. 2019 Jun;70(6):1240]") == (
        ("70", "1240"),
    )
    assert erratum_notes("X.[Erratum appears in J Hepatol. 2019 Jun") == ()


def test_two_copies_of_one_notice_merge_and_notices_on_other_pages_do_not():
    wos = rec(
        "wos", title=ARTICLE["title"] + " (vol 70, pg 410, 2019)", author="Smith, J", pages="1240"
    )
    embase = rec(
        "emb",
        title="Erratum: " + ARTICLE["title"] + " (Journal of Hepat",
        author="Smith, J.",
        pages="1240-1240",
    )
    assert decide(wos, embase).rule == "notice_copy"
    second_erratum = dict(embase, ID="emb2", pages="1702")
    assert decide(wos, second_erratum).decision != SAME


def test_article_whose_note_names_the_erratum_joins_it():
    original = rec(
        "medline", title=ARTICLE["title"] + ".[Erratum appears in J Hepatol. 2019 Jun;70(6):1240]"
    )
    erratum = rec("embase", title=ARTICLE["title"], author="Smith, J", pages="1240")
    result = decide(original, erratum)
    assert (result.decision, result.rule) == (SAME, "erratum_named")
    elsewhere = dict(erratum, pages="1302")
    assert decide(original, elsewhere).decision != SAME


def test_notice_repeating_title_and_byline_joins_its_article_in_the_same_volume():
    article = rec("a", doi="10.5555/article")
    notice = rec("n", title="Erratum to - " + ARTICLE["title"], pages="1240", doi="10.5555/notice")
    result = decide(article, notice)
    assert (result.decision, result.rule) == (SAME, "erratum_of")
    # the article exported with a truncated title is still named by the notice
    truncated = dict(article, title=ARTICLE["title"][:60])
    assert decide(truncated, notice).decision == SAME


def test_notice_in_a_later_volume_stays_a_record_of_its_own():
    article = rec("a", doi="10.5555/article")
    notice = rec(
        "n",
        title="Erratum to - " + ARTICLE["title"],
        volume="71",
        year="2019",
        pages="12",
        doi="10.5555/notice",
    )
    assert decide(article, notice).decision == NONE
    assert groups(article, notice) == []
    # without pages nothing else conflicts: the volume alone keeps them apart
    for volume in ("71", ""):
        unpaged = dict(notice, volume=volume, pages="")
        assert decide(article, unpaged).rule == "notice_in_other_volume"


def test_notice_needs_the_full_byline_or_a_human_decides():
    article = rec("a")
    anonymous = rec("n", title="Erratum: " + ARTICLE["title"], author="Smith, J", pages="1240")
    assert decide(article, anonymous).decision == MAYBE
    citing = rec(
        "w", title=ARTICLE["title"] + " (vol 70, pg 410, 2019)", author="Smith, J", pages="1240"
    )
    result = decide(article, citing)
    assert (result.decision, result.rule) == (MAYBE, "notice_cites_article")


def test_notice_about_another_article_with_a_similar_title_is_not_merged():
    review = rec("r", title="Review - " + ARTICLE["title"], author="Smith, J", pages="75-76")
    notice = rec("n", title="Erratum - " + ARTICLE["title"], author="Smith, J", pages="165")
    assert decide(review, notice).decision != SAME


def test_correction_of_a_reply_or_of_a_generic_item_is_not_linked():
    article = rec("a")
    reply = rec("r", title="Erratum: Reply to " + ARTICLE["title"], pages="1240")
    assert (decide(article, reply).decision, decide(article, reply).rule) == (NONE, "notice_title")
    editorial = rec("e", title="Editorial", author="Smith, J", pages="1240")
    corrected = rec("c", title="Correction: Editorial", author="Smith, J", pages="1240")
    assert decide(editorial, corrected).decision != SAME


def test_a_notice_never_chains_two_articles_with_different_dois():
    article = rec("a", doi="10.5555/article.1")
    other = rec("b", doi="10.5555/article.2")  # same title, other DOI: a different paper
    notice = rec("n", title="Erratum to - " + ARTICLE["title"], pages="1240", doi="10.5555/notice")
    found = groups(article, other, notice)
    assert len(found) <= 1 and all(not {"a", "b"} <= set(g) for g in found)


# ----------------------------------------------------------------------- volume and page debris


def test_supplement_number_in_the_volume_cell_is_not_a_conflict():
    base = {
        "title": "Incretin effects on arterial lesions in a mouse model of atherosclerosis",
        "author": "Chen R.Wang Y.Liang L.",
        "year": "2014",
        "journal": "Diabetes/Metabolism Research and Reviews",
    }
    full = dict(base, ID="a", volume="30", number="SUPPL. 3", pages="51", doi="10.5555/supplement")
    other_page = dict(
        base, ID="b", volume="30", number="SUPPL. 3", pages="52", doi="10.5555/supplement"
    )
    shifted = dict(base, ID="c", volume="3", number="", pages="51")
    assert groups(full, other_page, shifted) == [["a", "b", "c"]]


def test_issue_number_of_another_journal_is_still_a_conflict():
    a = rec("a", journal="Pediatric Nephrology", volume="26", number="9", pages="1663")
    b = rec("b", journal="Journal of Thrombosis and Haemostasis", volume="9", number="", pages="")
    assert decide(a, b).decision != SAME
    assert normalise_issue("S3") == "3" and normalise_issue("Spring") == ""


def test_volume_cell_holding_the_year_is_ignored():
    a = {
        "ID": "a",
        "title": "Upwork's CEO on how an introverted engineer learned to lead",
        "author": "Kasriel, S.",
        "year": "2016",
        "journal": "Harvard Business Review",
        "volume": "2016",
    }
    b = dict(
        a,
        ID="b",
        title="How did it ... Upwork's CEO on how an introverted engineer learned to lead",
        author="Kasriel, Stephane",
        volume="94",
        pages="35+",
    )
    assert decide(a, b).decision == SAME
    assert decide(dict(a, volume="93"), b).decision == MAYBE  # a real volume that differs


def test_first_page_typo_with_the_same_last_page_merges():
    short = {"title": "Disease recurrence in paediatric renal transplantation"}
    a = rec("a", pages="2297-2108", **short)
    b = rec("b", pages="2097-2108", **short)
    assert decide(a, b).decision == SAME
    assert decide(rec("c", pages="2297-2310", **short), b).decision == MAYBE  # ends apart too


# ----------------------------------------------------------------------- titles


def test_subtitle_or_section_tag_dropped_on_a_one_page_item():
    a = rec("a", title="The all-seeing employer - [careers]", author="Patel-Predd, P.", pages="23")
    b = rec("b", title="The all-seeing employer", author="Patel-Predd, Prachi", pages="23")
    assert decide(a, b).rule == "title_prefix_same_pages"
    assert decide(a, dict(b, volume="71")).decision != SAME


def test_translated_title_by_a_sole_author_in_the_same_pages():
    a = rec(
        "a",
        title="Review-Artikel: Zum aktuellen Stand des Plattformkapitalismus.",
        author="Heiland, Heiner",
        journal="Industrielle Beziehungen",
        volume="25",
        pages="128-139",
    )
    b = rec(
        "b",
        title="Review article: The current situation of platform capitalism",
        author="Heiland, H.",
        journal="Industrielle Beziehungen",
        volume="25",
        pages="128-139",
    )
    assert (decide(a, b).decision, decide(a, b).rule) == (SAME, "same_issue_pages")
    assert title_language("zum aktuellen stand des plattformkapitalismus") == "de"


def test_two_english_titles_by_one_author_on_the_same_pages_wait_for_a_human():
    # Predatory journals reuse page ranges; a sole author's two papers are not one.
    a = rec(
        "a",
        title="The commodification of digital labour in the gig economy",
        author="Durlauf, Maria",
        volume="7",
        pages="54-59",
    )
    b = rec(
        "b",
        title="Big data analytics in human resource management and hiring algorithms",
        author="Durlauf, Maria",
        volume="7",
        pages="54-59",
    )
    assert decide(a, b).decision == MAYBE


# ----------------------------------------------------------------------- short titles


def test_short_title_same_pages_with_online_and_print_years():
    a = rec(
        "a",
        title="Haemolytic uraemic syndrome",
        author="Kavanagh, D. and Goodship, T.",
        journal="Nephron",
        volume="118",
        year="2011",
        pages="c37-c42",
    )
    b = dict(a, ID="b", journal="Nephron Clinical Practice", year="2010", pages="37-42")
    assert decide(a, b).rule == "short_title_same_issue"
    assert decide(a, dict(b, year="2009")).decision == NONE


def test_meeting_abstract_book_listed_twice():
    a = {
        "ID": "a",
        "title": "2015 BioIron Meeting Abstracts",
        "author": "Anonymous",
        "year": "2016",
        "journal": "American Journal of Hematology",
        "volume": "91",
        "pages": "NA",
    }
    b = dict(
        a, ID="b", journal="American Journal of Hematology. Conference: 6th Meeting of BioIron"
    )
    assert decide(a, b).rule == "short_title_same_volume"
    assert decide(a, dict(b, volume="92")).decision != SAME
    assert decide(dict(a, number="1"), dict(b, number="2")).decision != SAME


def test_generic_short_titles_in_one_volume_stay_apart():
    a = {
        "ID": "a",
        "title": "Poster Abstracts",
        "author": "Anonymous",
        "year": "2011",
        "journal": "Heart",
        "volume": "97",
    }
    assert decide(a, dict(a, ID="b")).decision != SAME
    editorial = {
        "ID": "e",
        "title": "Editorial introduction",
        "author": "Zwass, V",
        "year": "2000",
        "journal": "J Manage Inform Syst",
        "volume": "16",
    }
    assert decide(editorial, dict(editorial, ID="f")).decision != SAME


# ----------------------------------------------------------------------- one article, two places


def test_article_printed_twice_with_two_dois():
    a = rec("a", year="2009", volume="24", pages="46-54", doi="10.5555/printed.1")
    b = rec("b", year="2010", volume="25", pages="56-64", doi="10.5555/printed.2")
    result = decide(a, b)
    assert (result.decision, result.rule) == (SAME, "identical_title_byline")


@pytest.mark.parametrize(
    "change",
    [
        {"pages": "56-57"},  # a one-page abstract and the full paper: different lengths
        {"author": "Smith, J"},  # a sole author
        {"author": "Smith, J and Jones, K and Green, P"},  # another byline
        {"journal": "Liver International"},  # another journal
        {"year": "2012"},  # years apart
    ],
)
def test_two_dois_stay_apart_unless_title_byline_journal_and_length_all_agree(change):
    a = rec("a", year="2009", volume="24", pages="46-54", doi="10.5555/printed.1")
    later = {"year": "2010", "volume": "25", "pages": "56-64", "doi": "10.5555/printed.2"}
    b = rec("b", **{**later, **change})
    assert decide(a, b).decision != SAME
