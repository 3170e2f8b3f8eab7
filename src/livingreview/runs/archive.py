"""The archive of human inputs: the exact bytes of every file people keep that a run used,
stored once by content (``results/runs/inputs/<sha256>``).

Hand edits of decision sheets, verdicts and extraction sheets are not journalled, so a past
run can only be rebuilt from the bytes it read. Every run's manifest lists its inputs by path
and SHA-256; each run stores the bytes of those digests here (a digest already stored is not
written again, and a stored file is never changed), and its entry lists ``path -> digest``.
:mod:`.reproduce` restores them into a fresh copy of the project.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..io import atomic_open

#: The archive, relative to the project root (next to the runs' own folders).
INPUTS_ARCHIVE = "results/runs/inputs"


class ArchiveError(RuntimeError):
    """A file the archive should hold is missing or damaged."""


@dataclass
class ArchivedInputs:
    """What one run archived: ``path -> digest`` of each input, and the inputs whose bytes had
    changed since the run's record was written (their digest could not be stored)."""

    files: dict[str, str] = field(default_factory=dict)
    changed_since_record: list[str] = field(default_factory=list)


def stored_path(digest: str, archive: str | Path = INPUTS_ARCHIVE) -> Path:
    return Path(archive) / digest


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_bytes(data: bytes, archive: str | Path = INPUTS_ARCHIVE) -> str:
    """Store ``data`` under its SHA-256 (once; read-only) and return the digest."""
    digest = _sha256_bytes(data)
    target = stored_path(digest, archive)
    if not target.is_file():
        with atomic_open(target, "wb") as out:
            out.write(data)
        os.chmod(target, 0o444)
    return digest


def archive_inputs(
    manifest_inputs: Mapping[str, Mapping[str, Any]],
    base: str | Path = ".",
    archive: str | Path = INPUTS_ARCHIVE,
) -> ArchivedInputs:
    """Store the bytes of every input a run's manifest lists (``{path: {"sha256": ...}}``).

    A file whose digest is already stored is not read again. A file whose bytes no longer
    have the manifest's digest (someone saved it while the run was working) is listed in
    ``changed_since_record``: its new content belongs to the next run.
    """
    result = ArchivedInputs()
    for path, entry in sorted(manifest_inputs.items()):
        digest = str(entry["sha256"])
        result.files[path] = digest
        if stored_path(digest, archive).is_file():
            continue
        try:
            data = (Path(base) / path).read_bytes()
        except OSError:
            result.changed_since_record.append(path)
            continue
        if _sha256_bytes(data) != digest:
            result.changed_since_record.append(path)
            continue
        store_bytes(data, archive)
    return result


def restore_inputs(
    files: Mapping[str, str], destination: str | Path, archive: str | Path = INPUTS_ARCHIVE
) -> None:
    """Write each archived file to ``destination/<path>`` with exactly its archived bytes."""
    for path, digest in sorted(files.items()):
        source = stored_path(digest, archive)
        if not source.is_file():
            raise ArchiveError(
                f"{source}: the archived bytes of {path} (sha256 {digest}) are missing; "
                f"the run cannot be rebuilt exactly without them"
            )
        data = source.read_bytes()
        if _sha256_bytes(data) != digest:
            raise ArchiveError(f"{source}: its bytes no longer have the digest it is named by")
        target = Path(destination) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            out.write(data)
        os.chmod(target, 0o644)
