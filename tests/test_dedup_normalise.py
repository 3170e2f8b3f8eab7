"""Normalisers used by deduplication: each form real exports use must compare equal."""

from __future__ import annotations

import pytest

from livingreview.dedup import normalise
from livingreview.dedup.keys import features_of, is_generic_title
from livingreview.records import normalise_doi


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "Efficacy observation of batroxobin for vascular cognitive impairment. [Chinese]",
            "Efficacy observation of batroxobin for vascular cognitive impairment",
        ),
        (
            "[A study on the use of mycobacterium vaccine in tuberculous pleurisy]",
            "A study on the use of mycobacterium vaccine in tuberculous pleurisy.",
        ),
        (
            "Cervical neoplasia and the HIV-infected patient. [Review] [70 refs]",
            "Cervical neoplasia and the HIV-infected patient",
        ),
        (
            "LOW-DOSE TACROLIMUS AMELIORATES LIVER INFLAMMATION",
            "Low-dose tacrolimus ameliorates liver inflammation",
        ),
        (
            "Seller uncertainty in sharing economy &ndash; a perspective",
            "Seller uncertainty in sharing economy – a perspective",
        ),
        ("Léna and Caër", "Lena and Caer"),
    ],
)
def test_title_variants_normalise_equal(a, b):
    assert normalise.normalise_title(a) == normalise.normalise_title(b)


def test_bracketed_words_that_are_not_notes_are_kept():
    assert normalise.normalise_title("Outcomes in AIH (ALTS)") == "outcomes in aih alts"
    assert normalise.normalise_title("Tacrolimus [FK506] in AIH") == "tacrolimus fk506 in aih"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Zuna, R E and Wang, S S and Schiffman, M", ("zuna", "wang", "schiffman")),
        ("Larsen FS; Vainer B; Eefsen M", ("larsen", "vainer", "eefsen")),
        ("Adeli K.Lewis G. F.", ("adeli", "lewis")),
        ("Adingupu D. D.Gronros J.El Hachmane M.", ("adingupu", "gronros", "elhachmane")),
        ("Le Quintrec, M. and Zuber, J.", ("lequintrec", "zuber")),
        ("Durlauf, Maria", ("durlauf",)),
        ("Smith J, Jones K", ("smith", "jones")),
        ("Duclos-Vallée JC; Sebagh M", ("duclosvallee", "sebagh")),
        ("NA", ()),
        ("", ()),
    ],
)
def test_author_surnames(raw, expected):
    assert normalise.author_surnames(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("221-8", ("221", "228")),
        ("221-228", ("221", "228")),
        ("1040-7", ("1040", "1047")),
        ("376 -- 383", ("376", "383")),
        ("e0137960", ("137960", "")),
        ("S35-S36", ("35", "36")),
        ("iii428-iii429", ("428", "429")),
        ("Oct-17", ("", "")),
        ("NA", ("", "")),
        ("", ("", "")),
    ],
)
def test_page_range(raw, expected):
    assert normalise.page_range(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("38", "38"),
        ("Vol. 38", "38"),
        ("147 Suppl 1", "147"),
        ("1)", ""),
        ("Korsakova. Part 2. 117", ""),
        ("UNKNOWN", ""),
        ("2015-April", ""),
    ],
)
def test_volume(raw, expected):
    assert normalise.normalise_volume(raw) == expected


@pytest.mark.parametrize(
    ("a", "b", "compatible"),
    [
        ("Curr Opin Lipidol", "Current Opinion in Lipidology", True),
        ("J Hepatol", "Journal of Hepatology", True),
        ("Seminars in Thrombosis & Hemostasis", "Seminars in Thrombosis and Hemostasis", True),
        ("World J Gastroenterol", "World Journal of Gastroenterology", True),
        ("Hepatology", "J Hepatol", False),
        ("Annals of Internal Medicine", "ACP Journal Club", False),
        ("", "Gut", True),
    ],
)
def test_journals_compatible(a, b, compatible):
    assert (
        normalise.journals_compatible(normalise.journal_tokens(a), normalise.journal_tokens(b))
        is compatible
    )


def test_doi_forms_used_by_exports_agree():
    forms = [
        "10.1016/S0168-8278(05)80615-4",
        "https://doi.org/10.1016/s0168-8278(05)80615-4",
        "http://dx.doi.org/10.1016/S0168-8278(05)80615-4",
        "doi: 10.1016/S0168-8278(05)80615-4.",
    ]
    assert {normalise_doi(f) for f in forms} == {"10.1016/s0168-8278(05)80615-4"}
    encoded = features_of(
        {"record_id": "x", "doi": "http://dx.doi.org/10.1016/S0168-8278%2805%2980615-4"}
    )
    assert encoded.doi == "10.1016/s0168-8278(05)80615-4"


@pytest.mark.parametrize(
    ("title", "generic"),
    [
        ("Editorial introduction", True),
        ("Reply", True),
        ("Erratum", True),
        ("Remarks from MIS Quarterly Editor - Editor's Comments", True),
        ("Tacrolimus in autoimmune hepatitis: a reply to critics", False),
        ("Editorial introduction to the special issue on IT resilience", False),
    ],
)
def test_generic_titles(title, generic):
    assert is_generic_title(title) is generic


def test_missing_markers():
    for value in ("", " ", "NA", "n/a", "unknown", "UNKNOWN", None):
        assert normalise.is_missing(value)
    assert not normalise.is_missing("0")
