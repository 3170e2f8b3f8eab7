"""Small parts of the desk: byte-preserving sheet edits, term marking, the journal."""

from __future__ import annotations

import json

from livingreview.desk.highlight import Highlighter
from livingreview.desk.humanfiles import Journal, TsvDocument


def test_a_sheet_is_kept_byte_for_byte_around_an_edit():
    text = (
        "\ufeffrecord_id\tdecision\treason\tnote\tdecided_on\r\n"
        'a:1\tinclude\t\t"two\r\nlines"\t2026-01-01\r\n'
        "\r\n"
        "a:2\texclude\tx\tn\t2026-01-02"
    )
    document = TsvDocument.parse(text)
    assert document.text() == text
    assert [cells["record_id"] for _, cells in document.rows()] == ["a:1", "a:2"]
    copy = document.copy()
    copy.append({"record_id": "a:3", "decision": "maybe", "note": 'say "hi"\tthere'})
    assert document.text() == text  # the original is untouched
    assert copy.text() == text + '\r\na:3\tmaybe\t\t"say ""hi"" there"\t\r\n'
    assert copy.line_of(3) == 6
    copy.replace(0, {"record_id": "a:1", "decision": "exclude", "decided_on": "2026-02-02"})
    assert copy.text().splitlines()[1] == "a:1\texclude\t\t\t2026-02-02"


def test_terms_are_marked_on_escaped_text_never_inside_markup():
    mark = Highlighter(["PSC", "transplant*", "autoimmune hepatitis", "amp", "lt"]).mark
    assert str(mark("Liver transplantation & PSC <b>")) == (
        "Liver <mark>transplantation</mark> &amp; <mark>PSC</mark> &lt;b&gt;"
    )
    assert str(mark("autoimmune-hepatitis; pscs")) == "<mark>autoimmune-hepatitis</mark>; pscs"
    assert str(Highlighter([]).mark("<i>x</i>")) == "&lt;i&gt;x&lt;/i&gt;"


def test_the_journal_survives_a_partial_last_line(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append({"id": "1"})
    with open(journal.path, "a") as handle:
        handle.write('{"id": "cut by a cra')
    assert [e["id"] for e in journal.entries()] == ["1"]
    journal.append({"id": "2"})
    assert [e["id"] for e in journal.entries()] == ["1", "2"]
    lines = journal.path.read_text().splitlines()
    assert json.loads(lines[-1]) == {"id": "2"}
