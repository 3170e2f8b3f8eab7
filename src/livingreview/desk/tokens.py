"""Per-person sign-in tokens and the session signing key, kept outside version control.

State lives in ``.desk/`` at the project root (git-ignored): the folder is mode 0700, its
files 0600, like an SSH key; the desk refuses to start when they are readable by others.

* ``tokens.json``: one random token per person (``secrets.token_urlsafe(32)``, 256 bits),
  made once and kept until rotated.  Tokens are stored in plain text so that ``bin/desk``
  can print each person's sign-in link again at every start (as Jupyter does); the file's
  permissions are what protects them.  Presented tokens are compared in constant time.
* ``session.key``: the key that derives each session's CSRF token (and a pending sign-in's).
* ``sessions.json``: the live sessions (:mod:`.sessions`; hashes of session ids, no tokens).

Rotating a person's token (``bin/desk rotate-tokens ID``) invalidates that person's link
and ends every session of theirs at once, also in a running desk (which re-reads the
files when they change).  Rotating everyone also renews the key and ends every session.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import threading
from collections.abc import Iterable
from pathlib import Path

from .errors import StateFileError
from .humanfiles import replace_file
from .sessions import SessionTable

TOKENS_FILE = "tokens.json"
KEY_FILE = "session.key"


def fingerprint(token: str) -> str:
    """A short, non-reversible tag of a token (tells whether a token changed; kept in memory)."""
    return hashlib.sha256(b"livingreview-desk-session\0" + token.encode()).hexdigest()[:24]


class TokenStore:
    """Reads, creates and rotates the tokens and signing key under ``state_dir``."""

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int], dict[str, str]] | None = None
        self._key_cache: tuple[tuple[int, int], bytes] | None = None

    # -- files ------------------------------------------------------------------------------

    def _ensure_dir(self) -> None:
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o700)

    def _check_private(self, path: Path) -> os.stat_result:
        info = path.stat()
        if info.st_mode & 0o077:
            raise StateFileError(
                f"{path} is readable or writable by others (mode {stat.filemode(info.st_mode)}); "
                f"it holds sign-in secrets. Run: chmod 600 {path} (and chmod 700 {path.parent}), "
                "then rotate the tokens if others may have read it: bin/desk rotate-tokens"
            )
        return info

    def _write_private(self, path: Path, data: bytes) -> None:
        self._ensure_dir()
        old = os.umask(0o077)
        try:
            if path.exists():
                os.chmod(path, 0o600)
            replace_file(path, data)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)

    def _read_tokens(self) -> dict[str, str]:
        path = self.state_dir / TOKENS_FILE
        try:
            info = self._check_private(path)
        except FileNotFoundError:
            return {}
        key = (info.st_mtime_ns, info.st_size)
        if self._cache and self._cache[0] == key:
            return self._cache[1]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            tokens = {str(k): str(v["token"]) for k, v in data["tokens"].items()}
        except (ValueError, KeyError, TypeError) as error:
            raise StateFileError(
                f"{path} is not a token file the desk wrote ({error}); move it aside and run "
                "bin/desk rotate-tokens to make new links"
            ) from None
        self._cache = (key, tokens)
        return tokens

    def _save_tokens(self, tokens: dict[str, str]) -> None:
        body = {"format": 1, "tokens": {k: {"token": v} for k, v in sorted(tokens.items())}}
        self._write_private(
            self.state_dir / TOKENS_FILE, (json.dumps(body, indent=2) + "\n").encode()
        )
        self._cache = None

    # -- tokens -------------------------------------------------------------------------------

    def ensure(self, people: Iterable[str]) -> dict[str, str]:
        """Tokens of ``people``, making one for anybody who has none yet."""
        people = list(people)
        with self._lock:
            tokens = dict(self._read_tokens())
            missing = [p for p in people if p not in tokens]
            for person in missing:
                tokens[person] = secrets.token_urlsafe(32)
            if missing or not (self.state_dir / TOKENS_FILE).exists():
                self._save_tokens(tokens)
            self.signing_key()
            return {p: tokens[p] for p in people}

    def rotate(self, people: Iterable[str], everyone: bool) -> dict[str, str]:
        """New tokens for ``people``: their old links stop working and their sessions end.

        With ``everyone`` the signing key is renewed too, and every session ends.
        """
        people = list(people)
        with self._lock:
            tokens = dict(self._read_tokens())
            for person in people:
                tokens[person] = secrets.token_urlsafe(32)
            self._save_tokens(tokens)
            if everyone:
                self._write_private(self.state_dir / KEY_FILE, secrets.token_hex(32).encode())
                self._key_cache = None
        sessions = self.sessions()
        if everyone:
            sessions.end_all()
        else:
            sessions.end_people(people)
        return {p: tokens[p] for p in people}

    def sessions(self) -> SessionTable:
        """The table of live sessions kept next to the tokens."""
        return SessionTable(self.state_dir, self.signing_key)

    def person_for(self, presented: str, people: Iterable[str]) -> str | None:
        """The person whose token equals ``presented``, comparing every token in constant time."""
        tokens = self._read_tokens()
        given = hashlib.sha256(presented.encode("utf-8", "replace")).digest()
        found = None
        for person in sorted(people):
            token = tokens.get(person)
            if token is None:
                continue
            if hmac.compare_digest(given, hashlib.sha256(token.encode()).digest()):
                found = person
        return found

    def fingerprint_of(self, person: str) -> str | None:
        """Fingerprint of ``person``'s current token (None: they have none); held in memory
        by a pending sign-in, to notice a rotation before it is confirmed."""
        token = self._read_tokens().get(person)
        return fingerprint(token) if token else None

    def signing_key(self) -> bytes:
        """The session signing key, made on first use."""
        path = self.state_dir / KEY_FILE
        try:
            info = self._check_private(path)
        except FileNotFoundError:
            self._write_private(path, secrets.token_hex(32).encode())
            info = self._check_private(path)
        key = (info.st_mtime_ns, info.st_size)
        if self._key_cache and self._key_cache[0] == key:
            return self._key_cache[1]
        value = path.read_bytes().strip()
        if len(value) < 32:
            raise StateFileError(f"{path} is too short to be a signing key; delete it to make one")
        self._key_cache = (key, value)
        return value
