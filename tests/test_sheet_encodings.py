"""Sheets as spreadsheet programs save them: UTF-8 with or without BOM, UTF-16 with BOM
(Excel "Unicode Text"), Windows-1252 (Excel "Text (Tab delimited)") when unambiguous, CRLF."""

from __future__ import annotations

import pytest

from livingreview.errors import InputFileError
from livingreview.io import read_rows, read_tsv

ROWS = [
    ["record_id", "decision", "reason", "note", "decided_on"],
    ["pubmed:1", "exclude", "language", "écrit en français – pédiatrie", "2026-11-20"],
    ["pubmed:2", "include", "", "", "2026-11-21"],
]
EXPECTED = [dict(zip(ROWS[0], row, strict=True)) for row in ROWS[1:]]


def sheet_text(newline: str) -> str:
    return newline.join("\t".join(row) for row in ROWS) + newline


@pytest.mark.parametrize(
    "encoding, newline",
    [
        ("utf-8", "\n"),
        ("utf-8-sig", "\r\n"),  # UTF-8 with BOM, Windows line ends
        ("utf-16", "\r\n"),  # Excel "Unicode Text": UTF-16 LE with BOM, CRLF
        ("utf-16-be", "\n"),  # BOM written below
        ("cp1252", "\r\n"),  # Excel "Text (Tab delimited)" on Windows
    ],
)
def test_sheet_is_read_in_every_encoding_spreadsheets_save(tmp_path, encoding, newline):
    path = tmp_path / "reviewer-1.tsv"
    data = sheet_text(newline).encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path.write_bytes(data)
    assert read_rows(path) == EXPECTED
    assert [row["__line__"] for row in read_tsv(path)] == ["2", "3"]


def test_damaged_utf8_is_refused_not_read_as_windows_1252(tmp_path):
    path = tmp_path / "reviewer-1.tsv"
    good = sheet_text("\n").encode("utf-8")
    path.write_bytes(good + b"pubmed:3\tmaybe\t\t\xe9crit\t2026-11-22\n")
    with pytest.raises(InputFileError) as info:
        read_tsv(path)
    message = str(info.value)
    assert "line 4" in message and "not UTF-8 text" in message
    assert "Unicode Text (*.txt)" in message and "Tab-separated values (.tsv)" in message


def test_bytes_undefined_in_windows_1252_are_refused(tmp_path):
    path = tmp_path / "reviewer-1.tsv"
    path.write_bytes(b"record_id\tnote\npubmed:1\t\x81\x8d\n")
    with pytest.raises(InputFileError, match="line 2: is not UTF-8 text"):
        read_tsv(path)


@pytest.mark.parametrize("text", [sheet_text("\n"), "record_id\tnote\npubmed:1\tplain\n"])
def test_utf16_without_bom_is_refused(tmp_path, text):
    path = tmp_path / "reviewer-1.tsv"
    path.write_bytes(text.encode("utf-16-le"))
    with pytest.raises(InputFileError, match="is not text"):
        read_tsv(path)
