"""Server-side sessions, pending cross-site sign-ins, and the brake on failed sign-ins.

A session cookie holds nothing but a random session id (256 bits).  The session is live only
while the table of live sessions, ``.desk/sessions.json``, lists it: signing out, rotating the
person's token (``bin/desk rotate-tokens``) and the expiry delete its entry, and from then on
the cookie opens nothing, whoever kept a copy of it.

The table is a file, not memory, so that restarting the desk (an upgrade, a reboot) does not
sign everyone out, and so that ``bin/desk rotate-tokens`` in another process ends sessions of
the running desk at once.  It never holds a token or a session id: each entry is keyed by the
SHA-256 of the session id and holds the person, when it was made and when it ends.  Whoever
reads the file learns who is signed in, but cannot use a session.  It is written atomically
(a new file renamed over it) with mode 0600, under an ``flock`` that every process takes for
its read-modify-write, and re-read whenever it changed on disk.

A session's CSRF token is derived from its id with the signing key (HMAC), so it needs no
storage either and changes with the key.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import StateFileError

log = logging.getLogger("livingreview.desk")

COOKIE = "desk_session"
#: A session ends this long after sign-in, whatever happens in between.
SESSION_SECONDS = 12 * 3600
#: Live sessions kept per person (a person signing in on many browsers); the oldest ends first.
MAX_SESSIONS_PER_PERSON = 20
SESSIONS_FILE = "sessions.json"
LOCK_FILE = "sessions.lock"
#: The cookie that ties a pending cross-site sign-in to the browser that started it.
PENDING_COOKIE = "desk_signin"
PENDING_SECONDS = 600
MAX_PENDING = 1000
_MAX_ID = 128


def _hash(session_id: str) -> str:
    return hashlib.sha256(b"livingreview-desk-session-id\0" + session_id.encode()).hexdigest()


def derived_token(key: bytes, purpose: str, secret: str) -> str:
    """A token bound to ``secret`` by the signing key (CSRF tokens; nothing is stored)."""
    mac = hmac.new(key, f"{purpose}\0{secret}".encode(), hashlib.sha256)
    return mac.hexdigest()[:43]


def tokens_equal(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode("utf-8", "replace"), expected.encode())


def _plausible_id(value: str) -> bool:
    return 16 <= len(value) <= _MAX_ID and value.isascii()


@dataclass(frozen=True)
class Session:
    """A live session: whose it is, its CSRF token, when it began and ends (epoch seconds)."""

    person: str
    csrf: str
    issued: int
    expires: int
    #: SHA-256 of the session id: the table's key (ends this session).
    key: str


def _write_private_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` by a new file with ``data``, mode 0600 from its creation on."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class SessionTable:
    """The live sessions of one desk, in ``<state_dir>/sessions.json``.

    ``key`` returns the signing key (CSRF tokens are derived with it).  Every change takes
    the file lock and starts from the file, so that two processes (the desk and
    ``bin/desk rotate-tokens``) never undo each other's changes.
    """

    def __init__(
        self,
        state_dir: Path,
        key: Callable[[], bytes],
        lifetime: int = SESSION_SECONDS,
        per_person: int = MAX_SESSIONS_PER_PERSON,
    ):
        self.path = state_dir / SESSIONS_FILE
        self.lock_path = state_dir / LOCK_FILE
        self.key = key
        self.lifetime = lifetime
        self.per_person = per_person
        self._thread_lock = threading.Lock()
        self._cache: tuple[tuple[int, int, int], dict[str, dict[str, object]]] | None = None

    # -- the file --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._thread_lock:
            descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
            finally:
                os.close(descriptor)  # releases the flock

    def _read(self) -> dict[str, dict[str, object]]:
        """The entries on disk (cached while the file is unchanged)."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return {}
        if info.st_mode & 0o077:
            raise StateFileError(
                f"{self.path} is readable or writable by others (mode "
                f"{stat.filemode(info.st_mode)}). Run: chmod 600 {self.path}"
            )
        signature = (info.st_ino, info.st_mtime_ns, info.st_size)
        if self._cache and self._cache[0] == signature:
            return self._cache[1]
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            entries = {
                str(k): {
                    "person": str(v["person"]),
                    "issued": int(v["issued"]),
                    "expires": int(v["expires"]),
                }
                for k, v in data["sessions"].items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise StateFileError(
                f"{self.path} is not a session table the desk wrote ({error}); delete it "
                "(everyone signs in again with their link)"
            ) from None
        self._cache = (signature, entries)
        return entries

    def _write(self, entries: dict[str, dict[str, object]]) -> None:
        body = {"format": 1, "sessions": entries}  # oldest first: the order they were made
        _write_private_atomically(self.path, (json.dumps(body, indent=1) + "\n").encode())
        self._cache = None

    def check(self) -> None:
        """Raise :class:`StateFileError` when the table is damaged or readable by others."""
        self._read()

    # -- sessions --------------------------------------------------------------------------

    def _session(self, session_id: str, key: str, entry: dict[str, object]) -> Session:
        return Session(
            person=str(entry["person"]),
            csrf=derived_token(self.key(), "csrf", session_id),
            issued=int(str(entry["issued"])),
            expires=int(str(entry["expires"])),
            key=key,
        )

    def create(self, person: str, now: float) -> tuple[str, Session]:
        """A new session for ``person``: its id (the cookie's value) and the session."""
        session_id = secrets.token_urlsafe(32)
        key = _hash(session_id)
        entry: dict[str, object] = {
            "person": person,
            "issued": int(now),
            "expires": int(now) + self.lifetime,
        }
        with self._locked():
            entries = {k: v for k, v in self._read().items() if int(str(v["expires"])) > now}
            mine = sorted(
                (k for k, v in entries.items() if v["person"] == person),
                key=lambda k: int(str(entries[k]["issued"])),
            )
            for old in mine[: max(0, len(mine) - self.per_person + 1)]:
                del entries[old]
            entries[key] = entry
            self._write(entries)
        return session_id, self._session(session_id, key, entry)

    def lookup(self, session_id: str, now: float) -> Session | None:
        """The live session with this id, or None (unknown, ended or expired)."""
        if not _plausible_id(session_id):
            return None
        key = _hash(session_id)
        try:
            entry = self._read().get(key)
        except StateFileError as error:
            log.error("%s", error)  # fail closed: nobody is signed in until it is fixed
            return None
        if entry is None:
            return None
        session = self._session(session_id, key, entry)
        if not (session.issued - 60 <= now < session.expires):
            return None
        return session

    def _remove(self, keep: Callable[[str, dict[str, object]], bool]) -> int:
        with self._locked():
            entries = self._read()
            kept = {k: v for k, v in entries.items() if keep(k, v)}
            if len(kept) != len(entries) or not self.path.exists():
                self._write(kept)
            return len(entries) - len(kept)

    def end(self, key: str) -> None:
        """End one session (signing out)."""
        self._remove(lambda k, _: k != key)

    def end_people(self, people: Iterable[str]) -> int:
        """End every session of ``people`` (their token was rotated); how many ended."""
        gone = set(people)
        return self._remove(lambda _, v: v["person"] not in gone)

    def end_all(self) -> int:
        return self._remove(lambda *_: False)

    def live(self, now: float) -> list[tuple[str, int]]:
        """(person, expires) of every live session (for the command line; no ids)."""
        return sorted(
            (str(v["person"]), int(str(v["expires"])))
            for v in self._read().values()
            if int(str(v["expires"])) > now
        )


@dataclass(frozen=True)
class PendingSignIn:
    person: str
    token_fingerprint: str
    expires: float


class PendingSignIns:
    """Sign-ins that came from another site, waiting for the person to confirm them.

    Kept in memory only (a restart asks again), keyed by the hash of a random nonce that
    only the browser that followed the link holds (in :data:`PENDING_COOKIE`); bounded.
    """

    def __init__(self, clock: Callable[[], float] = time.time, limit: int = MAX_PENDING):
        self.clock = clock
        self.limit = limit
        self._lock = threading.Lock()
        self._pending: OrderedDict[str, PendingSignIn] = OrderedDict()

    def add(self, person: str, token_fingerprint: str) -> str:
        nonce = secrets.token_urlsafe(32)
        with self._lock:
            self._pending[_hash(nonce)] = PendingSignIn(
                person, token_fingerprint, self.clock() + PENDING_SECONDS
            )
            while len(self._pending) > self.limit:
                self._pending.popitem(last=False)
        return nonce

    def get(self, nonce: str) -> PendingSignIn | None:
        if not _plausible_id(nonce):
            return None
        with self._lock:
            pending = self._pending.get(_hash(nonce))
            if pending is not None and pending.expires <= self.clock():
                del self._pending[_hash(nonce)]
                return None
            return pending

    def take(self, nonce: str) -> PendingSignIn | None:
        pending = self.get(nonce)
        if pending is not None:
            with self._lock:
                self._pending.pop(_hash(nonce), None)
        return pending


def throttle_key(address: str) -> str:
    """What the throttle counts by: the address, or its /64 network for IPv6 (one host
    commonly holds a whole /64, so single IPv6 addresses cost an attacker nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class SignInThrottle:
    """Slows down failed sign-ins, per client address; a right token is never held back.

    After ``free`` failed sign-ins from one address, a further *failed* attempt from it
    within ``base * 2**(failures - free)`` seconds (at most ``max_delay``) of the last one is
    answered 429 instead of 403.  A valid token signs in whatever its address did before, so
    nobody can lock a reviewer out by failing on purpose.  An address is forgotten
    ``forget_after`` seconds after its last failure; at most ``max_addresses`` are kept
    (the least recently failing go first), so memory stays bounded whatever comes.

    The token's 256 bits are what make guessing hopeless; the throttle bounds the work and
    log lines failures cost and tells a misbehaving client to wait.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        free: int = 5,
        base: float = 1.0,
        max_delay: float = 900.0,
        forget_after: float = 3600.0,
        max_addresses: int = 10_000,
    ):
        self.clock = clock
        self.free = free
        self.base = base
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.max_addresses = max_addresses
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def _current(self, key: str, now: float) -> tuple[int, float]:
        failures, last = self._failures.get(key, (0, 0.0))
        if failures and now - last >= self.forget_after:
            del self._failures[key]
            return 0, 0.0
        return failures, last

    def retry_after(self, address: str) -> int:
        """Seconds a failing ``address`` must wait before a failure is checked again (0: none)."""
        now = self.clock()
        with self._lock:
            failures, last = self._current(throttle_key(address), now)
            if failures < self.free:
                return 0
            delay = min(self.base * 2 ** (failures - self.free), self.max_delay)
            return max(0, int(last + delay - now + 0.999))

    def failed(self, address: str) -> None:
        """Count one failed sign-in from ``address``."""
        key = throttle_key(address)
        now = self.clock()
        with self._lock:
            failures, _ = self._current(key, now)
            self._failures[key] = (failures + 1, now)
            self._failures.move_to_end(key)
            while len(self._failures) > self.max_addresses:
                self._failures.popitem(last=False)

    def tracked(self) -> int:
        """How many addresses the throttle remembers (bounded by ``max_addresses``)."""
        return len(self._failures)
