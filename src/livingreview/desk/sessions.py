"""Signed session cookies and the brake on repeated failed sign-ins.

A session cookie names the person, carries the session's CSRF token, when it was issued and
the fingerprint of the sign-in token it was made from, and is signed with HMAC-SHA256 by the
key in ``.desk/session.key``.  The server keeps no session table: a cookie is valid while its
signature checks, it is younger than :data:`SESSION_SECONDS` and the person's token has not
been rotated since.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "desk_session"
SESSION_SECONDS = 12 * 3600
_DOMAIN = b"livingreview-desk-cookie-v1\0"


@dataclass(frozen=True)
class Session:
    """What a valid cookie says."""

    person: str
    csrf: str
    issued: int
    token_fp: str

    @classmethod
    def new(cls, person: str, token_fp: str, now: float) -> Session:
        return cls(person, secrets.token_urlsafe(24), int(now), token_fp)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(session: Session, key: bytes) -> str:
    """Cookie value: base64(json) '.' base64(hmac)."""
    payload = json.dumps(
        {"p": session.person, "c": session.csrf, "i": session.issued, "t": session.token_fp},
        separators=(",", ":"),
    ).encode()
    mac = hmac.new(key, _DOMAIN + payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def verify(value: str, key: bytes, now: float, max_age: int = SESSION_SECONDS) -> Session | None:
    """The session in a cookie value, or None when forged, malformed or expired."""
    try:
        payload_text, mac_text = value.split(".", 1)
        payload = _unb64(payload_text)
        mac = _unb64(mac_text)
    except (ValueError, TypeError):
        return None
    expected = hmac.new(key, _DOMAIN + payload, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        data = json.loads(payload)
        session = Session(str(data["p"]), str(data["c"]), int(data["i"]), str(data["t"]))
    except (ValueError, KeyError, TypeError):
        return None
    if not (session.issued - 60 <= now <= session.issued + max_age):
        return None
    return session


class SignInThrottle:
    """Slows down guessing: exponential lock-out per client address, and a cap for everyone.

    After ``free`` failed sign-ins from one address, each further attempt from it is refused
    with HTTP 429 for ``base * 2**(failures - free)`` seconds (at most ``max_delay``), without
    even checking the token.  More than ``global_limit`` failures from all addresses within
    ``window`` seconds refuse every sign-in until the window has room again (a distributed
    guesser cannot spread out).  A success clears its address.  State is per desk process.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        free: int = 5,
        base: float = 1.0,
        max_delay: float = 900.0,
        global_limit: int = 100,
        window: float = 60.0,
    ):
        self.clock = clock
        self.free = free
        self.base = base
        self.max_delay = max_delay
        self.global_limit = global_limit
        self.window = window
        self._lock = threading.Lock()
        self._per_ip: dict[str, tuple[int, float]] = {}
        self._recent: deque[float] = deque()

    def retry_after(self, address: str) -> int:
        """Seconds this address must wait before its next attempt counts (0: go ahead)."""
        now = self.clock()
        with self._lock:
            while self._recent and self._recent[0] <= now - self.window:
                self._recent.popleft()
            wait = 0.0
            if len(self._recent) >= self.global_limit:
                wait = self._recent[0] + self.window - now
            failures, last = self._per_ip.get(address, (0, 0.0))
            if failures >= self.free:
                delay = min(self.base * 2 ** (failures - self.free), self.max_delay)
                wait = max(wait, last + delay - now)
            return max(0, int(wait + 0.999))

    def failed(self, address: str) -> None:
        now = self.clock()
        with self._lock:
            failures, _ = self._per_ip.get(address, (0, 0.0))
            self._per_ip[address] = (failures + 1, now)
            self._recent.append(now)
            if len(self._per_ip) > 10_000:  # bound memory: forget the oldest addresses
                for old in sorted(self._per_ip, key=lambda a: self._per_ip[a][1])[:5_000]:
                    del self._per_ip[old]

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._per_ip.pop(address, None)
