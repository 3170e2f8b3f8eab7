"""Tables every reader of bibliographic records shares: month names, language names and the
shape of written author initials.

One copy each, so that the PubMed parser, the export importers and the deduplication
normalisers agree on what ``Sept``, ``Finnish`` or ``A.B.`` mean.
"""

from __future__ import annotations

import re

#: Month names and abbreviations, lower case, to the month's number (``sept`` included,
#: as some exports write it).
MONTH_NUMBERS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}

#: The twelve three-letter month abbreviations (``jan`` ... ``dec``).
MONTH_ABBREVIATIONS: tuple[str, ...] = tuple(name for name in MONTH_NUMBERS if len(name) == 3)

#: Language names as exports and title notes (``[Chinese]``) write them, lower case, to
#: their ISO 639-2 (bibliographic) code, the code PubMed's ``Language`` element uses.
LANGUAGE_CODES: dict[str, str] = {
    "english": "eng",
    "french": "fre",
    "german": "ger",
    "spanish": "spa",
    "italian": "ita",
    "dutch": "dut",
    "portuguese": "por",
    "chinese": "chi",
    "japanese": "jpn",
    "korean": "kor",
    "russian": "rus",
    "polish": "pol",
    "turkish": "tur",
    "persian": "per",
    "swedish": "swe",
    "danish": "dan",
    "norwegian": "nor",
    "czech": "cze",
    "hungarian": "hun",
    "greek": "gre",
    "finnish": "fin",
    "hebrew": "heb",
    "arabic": "ara",
    "croatian": "hrv",
    "serbian": "srp",
    "slovak": "slo",
    "slovenian": "slv",
    "romanian": "rum",
    "bulgarian": "bul",
    "ukrainian": "ukr",
    "lithuanian": "lit",
    "estonian": "est",
    "latvian": "lav",
}

#: Author initials as bylines write them after a surname: one to five capitals, each
#: optionally followed by a full stop or a hyphen (``J``, ``JPH``, ``E.T.T.L.``, ``J.-L.``).
AUTHOR_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,5}$")


def month_number(name: str) -> int | None:
    """The number of a month written as a name or abbreviation (any case), else None.

    >>> month_number("Sept"), month_number("DEC"), month_number("Spring")
    (9, 12, None)
    """
    return MONTH_NUMBERS.get(name.casefold())


def is_author_initials(token: str) -> bool:
    """True when ``token`` is a byline's initials rather than part of a surname.

    >>> is_author_initials("E.T.T.L."), is_author_initials("JPH"), is_author_initials("Berg")
    (True, True, False)
    """
    return AUTHOR_INITIALS.match(token) is not None
