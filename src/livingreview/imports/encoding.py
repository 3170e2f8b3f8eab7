"""Reading an export file's text in its declared encoding, without guessing.

Exports come from database vendors, not spreadsheets: their encoding is declared in the
config (``imports[].encoding``, UTF-8 by default) and a byte that does not fit it is an
error at that byte, never a silent replacement character in a title.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError, InputFileError


def read_export_text(path: str | Path, encoding: str = "utf-8") -> str:
    """The file's text in ``encoding`` (a UTF-8 BOM is dropped), or an error at the bad byte.

    Raises:
        InputFileError: the file is missing, empty, not valid text in ``encoding``, or holds
            NUL bytes (a binary or UTF-16 file).
        ConfigError: ``encoding`` is not a codec Python knows.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(
            path,
            "export file not found",
            field="files",
            allowed="an existing file; check imports[].files in config.yaml",
        ) from None
    text = _decode(path, data, encoding)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputFileError(
            path,
            "holds NUL bytes (binary or UTF-16 file?)",
            line=line,
            field="encoding",
            allowed=f"{encoding} text",
        )
    if not text.strip():
        raise InputFileError(path, "is empty", line=1, allowed="at least one record")
    return text


def _decode(path: Path, data: bytes, encoding: str) -> str:
    codec = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(
            path,
            f"is not valid {encoding} text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            line=line,
            field="encoding",
            allowed=f"{encoding}; re-export the file as UTF-8 or set imports[].encoding",
        ) from None
    except LookupError:
        raise ConfigError(
            "imports[].encoding",
            f"unknown text encoding {encoding!r}",
            "a Python codec name such as utf-8, latin-1, cp1252",
        ) from None
