"""Mark configured terms in record text, safely.

Titles and abstracts come from databases and may contain markup (``<i>``, MathML such as
``<mml:math>``) or anything else; they are shown as text.  Terms are found on the *raw* text
and every piece is escaped before ``<mark>`` tags are put around the matches, so a match can
never fall inside an HTML entity and no record text is ever interpreted as markup.

>>> Highlighter(["tacrolimus", "transplant*"]).mark("Tacrolimus <i>after</i> transplantation")
Markup('<mark>Tacrolimus</mark> &lt;i&gt;after&lt;/i&gt; <mark>transplantation</mark>')
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup, escape


def term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex for all terms: whole words, ``*`` at the end = any ending.

    Spaces in a phrase match any run of whitespace or hyphens ("autoimmune hepatitis" also
    marks "autoimmune-hepatitis").
    """
    parts = []
    for term in sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True):
        wildcard = term.endswith("*")
        words = term.rstrip("*").split()
        body = r"[\s\-]+".join(re.escape(w) for w in words)
        parts.append(body + (r"\w*" if wildcard else ""))
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


class Highlighter:
    """Marks the configured terms (``screening.highlight_terms``)."""

    def __init__(self, terms: Iterable[str]):
        self.pattern = term_pattern(terms)

    def mark(self, text: str) -> Markup:
        """``text`` escaped, with each term match wrapped in ``<mark>``."""
        if not text:
            return Markup("")
        if self.pattern is None:
            return escape(text)
        out = []
        last = 0
        for match in self.pattern.finditer(text):
            out.append(escape(text[last : match.start()]))
            out.append(Markup("<mark>") + escape(match.group(0)) + Markup("</mark>"))
            last = match.end()
        out.append(escape(text[last:]))
        return Markup("").join(out)
