"""An NCBI E-utilities client as one object: identity, key, base URL, rate limit, retries, checks.

Consumes: E-utilities answers, either over HTTP (live) or from recorded files (replay, see
:class:`~livingreview.search.replay.ReplayTransport`); both go through the same
:class:`EntrezClient`, so replay exercises the same checks and parsers as a live search.

Produces: checked response bytes plus parsed esearch results (Bio.Entrez's validating parser).

Why an object and not ``Bio.Entrez`` globals: Snakemake runs several scripts in one process
only rarely, but tests do, and Bio.Entrez keeps email/key/tool in module globals and retries
HTTP 429 immediately.  Here each client carries its own settings; the rate limiter is shared
by every client of the process (NCBI counts requests per machine/key, not per object).

The API key is read from the environment variable named in the config (``entrez.api_key_env``)
inside the client; it is never a parameter of a Snakemake rule, never logged and never part of
a URL this module hands out (:func:`redact`).
"""

from __future__ import annotations

import http.client
import io
import logging
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar
from xml.parsers import expat

from Bio import Entrez

from ..errors import ConfigError, NetworkError
from .pubmed import with_known_dtd  # the offline DTD fallback of esearch answers

log = logging.getLogger(__name__)

#: What a response check returns (parsed rows, an esearch result...).
Checked = TypeVar("Checked")

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
#: NCBI's published limits: 3 requests/s without an API key, 10/s with one.
RATE_WITHOUT_KEY = 3.0
RATE_WITH_KEY = 10.0
#: seconds added to every interval of the shared limiters (timer jitter, clock skew)
SAFETY_MARGIN = 0.02
#: esearch returns at most this many IDs for one query (retstart + retmax cap).
ESEARCH_MAX_IDS = 9999

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SECRET_PARAMS = ("api_key",)


def redact(url_or_query: str) -> str:
    """Remove ``api_key=...`` from a URL or query string before it is logged or stored.

    >>> redact("https://x/esearch.fcgi?db=pubmed&api_key=abc123&term=a")
    'https://x/esearch.fcgi?db=pubmed&term=a'
    >>> redact("api_key=abc&db=pubmed")
    'db=pubmed'
    """
    return re.sub(r"(?:(?<=[?&])|^)api_key=[^&#]*(?:&|$)", "", url_or_query).rstrip("&?")


# --------------------------------------------------------------------------- rate limiting


class RateLimiter:
    """Spaces requests at least ``1/rate`` seconds apart (thread-safe).

    One instance per rate is shared by the whole process (:meth:`shared`), so two clients
    in one process cannot together exceed NCBI's limit.  Across processes the Snakemake
    resource ``ncbi_api=1`` lets only one E-utilities job run at a time.
    """

    _shared: dict[float, RateLimiter] = {}
    _shared_lock = threading.Lock()

    def __init__(
        self,
        rate_per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        margin: float = 0.0,
    ):
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        # ``margin`` keeps N+1 requests from landing in one second through timer jitter.
        self.interval = 1.0 / rate_per_second + margin
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0

    @classmethod
    def shared(cls, rate_per_second: float) -> RateLimiter:
        with cls._shared_lock:
            if rate_per_second not in cls._shared:
                cls._shared[rate_per_second] = cls(rate_per_second, margin=SAFETY_MARGIN)
            return cls._shared[rate_per_second]

    def wait(self) -> float:
        """Block until the next request may go out; return the seconds waited."""
        with self._lock:
            now = self._clock()
            delay = max(0.0, self._next - now)
            if delay:
                self._sleep(delay)
            self._next = max(now, self._next) + self.interval
            return delay


# --------------------------------------------------------------------------- transports


class TransientError(Exception):
    """A failure worth retrying: HTTP 429/5xx, timeout, reset, truncated or HTML body."""

    def __init__(self, cause: str, retry_after: float | None = None):
        super().__init__(cause)
        self.cause = cause
        self.retry_after = retry_after


class PermanentError(Exception):
    """A failure that a retry will not fix (HTTP 4xx other than 429)."""


class Transport(Protocol):
    """Sends one E-utilities request; returns the body bytes or raises Transient/PermanentError."""

    rate_limited: bool

    def send(self, url: str, params: Mapping[str, str], timeout: float) -> bytes: ...


class HttpTransport:
    """Plain HTTP POST (NCBI accepts POST for every utility; long ID lists fit in the body)."""

    rate_limited = True

    def send(self, url: str, params: Mapping[str, str], timeout: float) -> bytes:
        data = urllib.parse.urlencode(params).encode("ascii")
        request = urllib.request.Request(url, data=data, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            retry_after = _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            exc.close()
            if status == 429 or status >= 500:
                raise TransientError(f"HTTP {status} {exc.reason}", retry_after) from None
            raise PermanentError(f"HTTP {status} {exc.reason}") from None
        except (TimeoutError, socket.timeout) as exc:
            raise TransientError(f"timed out after {timeout:g} s ({exc})") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise TransientError(f"timed out after {timeout:g} s") from None
            raise TransientError(f"connection failed: {reason}") from None
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            raise TransientError(f"connection failed: {type(exc).__name__}: {exc}") from None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


# --------------------------------------------------------------------------- response checks

_HTML_START = re.compile(rb"^\s*(?:<!DOCTYPE\s+html|<html)", re.IGNORECASE)
_ERROR_ELEMENT = re.compile(rb"<ERROR>(.*?)</ERROR>", re.DOTALL)


def check_xml_body(body: bytes) -> None:
    """Raise :class:`TransientError` unless ``body`` is complete XML without an ``<ERROR>``.

    NCBI under load answers with HTML pages, truncated XML or ``<ERROR>`` elements inside an
    otherwise valid document, all with HTTP 200; each of these is retried by the client.
    The well-formedness check uses expat without loading any DTD (no network).
    """
    if not body.strip():
        raise TransientError("empty response body")
    if _HTML_START.match(body):
        title = re.search(rb"<title>(.*?)</title>", body, re.IGNORECASE | re.DOTALL)
        raise TransientError(
            "HTML page instead of XML"
            + (f" (title: {title.group(1).decode('utf-8', 'replace').strip()!r})" if title else "")
        )
    error = _ERROR_ELEMENT.search(body)
    if error:
        raise TransientError(
            f"<ERROR> in response: {error.group(1).decode('utf-8', 'replace').strip()}"
        )
    parser = expat.ParserCreate()
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise TransientError(f"malformed or truncated XML: {exc}") from None


# --------------------------------------------------------------------------- results


@dataclass
class EsearchResult:
    """What one esearch call returned, with the raw bytes kept for the snapshot."""

    count: int
    ids: list[str]
    query_translation: str
    webenv: str | None
    query_key: str | None
    warnings: list[str]
    errors: list[str]
    raw: bytes
    request: dict[str, str] = field(default_factory=dict)


def parse_esearch(body: bytes) -> EsearchResult:
    """Parse an esearch answer with Bio.Entrez's validating parser (DTD bundled)."""
    check_xml_body(body)
    patched, replaced = with_known_dtd(body)
    if replaced:
        log.warning(
            "esearch answer names %s, which Biopython does not bundle; parsed with esearch.dtd "
            "without validation (update biopython)",
            replaced,
        )
    try:
        record = Entrez.read(io.BytesIO(patched), validate=replaced is None)
    except RuntimeError as exc:  # Bio.Entrez raises RuntimeError for <ERROR> elements
        raise TransientError(f"error in esearch answer: {exc}") from None
    except Exception as exc:  # CorruptedXMLError, NotXMLError, ValidationError
        raise TransientError(f"unreadable esearch answer: {type(exc).__name__}: {exc}") from None
    if "Count" not in record:
        raise TransientError("esearch answer has no <Count>")
    warnings = _flatten_messages(record.get("WarningList", {}))
    errors = _flatten_messages(record.get("ErrorList", {}))
    return EsearchResult(
        count=int(record["Count"]),
        ids=[str(i) for i in record.get("IdList", [])],
        query_translation=str(record.get("QueryTranslation", "")),
        webenv=str(record["WebEnv"]) if "WebEnv" in record else None,
        query_key=str(record["QueryKey"]) if "QueryKey" in record else None,
        warnings=warnings,
        errors=errors,
        raw=body,
    )


def _flatten_messages(section: Mapping) -> list[str]:
    messages = []
    for kind, values in dict(section).items():
        for value in values if isinstance(values, list) else [values]:
            messages.append(f"{kind}: {value}")
    return messages


# --------------------------------------------------------------------------- the client


class EntrezClient:
    """One E-utilities client: identity, key, base URL, rate limiter, retries and checks.

    Args:
        email, tool: sent with every live request as NCBI asks; required in live mode.
        api_key_env: name of the environment variable holding the API key (may be unset).
        base_url: E-utilities address (a mirror or a loopback test server may stand in).
        transport: :class:`HttpTransport` (default) or :class:`ReplayTransport`.
        timeout: seconds per request.  max_tries: attempts per request (first one included).
        backoff: first retry wait in seconds; doubles each retry up to ``max_backoff``.
    """

    def __init__(
        self,
        *,
        email: str = "",
        tool: str = "",
        api_key_env: str = "NCBI_API_KEY",
        base_url: str = DEFAULT_BASE_URL,
        transport: Transport | None = None,
        timeout: float = 60.0,
        max_tries: int = 5,
        backoff: float = 2.0,
        max_backoff: float = 60.0,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.transport: Transport = transport or HttpTransport()
        live = getattr(self.transport, "rate_limited", True)
        if live:
            if not email or not _EMAIL.match(email):
                raise ConfigError(
                    "entrez.email",
                    f"live PubMed searches need a contact e-mail address NCBI can write to (found {email!r})",
                    "an address like name@example.org, e.g. --config entrez='{email: you@uni.edu}'",
                )
            if not tool or not re.match(r"^[A-Za-z0-9_.-]+$", tool):
                raise ConfigError(
                    "entrez.tool",
                    f"found {tool!r}",
                    "a name without spaces, e.g. livingreview-cni-aih",
                )
        self.email = email
        self.tool = tool
        self.api_key_env = api_key_env
        self._api_key = os.environ.get(api_key_env, "").strip() if api_key_env else ""
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = float(timeout)
        self.max_tries = max(1, int(max_tries))
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.limiter = limiter or RateLimiter.shared(
            RATE_WITH_KEY if self._api_key else RATE_WITHOUT_KEY
        )
        self._sleep = sleep
        #: every request sent (retries included), without the key: (utility, params) pairs
        self.requests: list[dict[str, str]] = []
        if live:
            log.info(
                "E-utilities client: base %s, tool %s, API key %s (variable %s), max %.0f requests/s",
                self.base_url,
                tool,
                "set" if self._api_key else "not set",
                api_key_env,
                1 / self.limiter.interval,
            )

    @property
    def has_api_key(self) -> bool:
        return bool(self._api_key)

    @property
    def request_count(self) -> int:
        return len(self.requests)

    # -- low level ------------------------------------------------------------------------

    def call(
        self, utility: str, params: Mapping[str, str], check: Callable[[bytes], Checked]
    ) -> tuple[bytes, Checked]:
        """Send one request with retries; ``check(body)`` must return a value or raise TransientError.

        Returns the body and the value ``check`` returned.  After the last failed attempt a
        :class:`NetworkError` names the utility, the public parameters and the last cause.
        """
        url = self.base_url + utility
        public = {k: str(v) for k, v in params.items() if k not in _SECRET_PARAMS}
        if getattr(self.transport, "rate_limited", True):
            public.setdefault("tool", self.tool)
            public.setdefault("email", self.email)
        sent = dict(public)
        if self._api_key and getattr(self.transport, "rate_limited", True):
            sent["api_key"] = self._api_key
        description = f"{utility} {_describe(public)}"
        last_cause = ""
        for attempt in range(1, self.max_tries + 1):
            if getattr(self.transport, "rate_limited", True):
                waited = self.limiter.wait()
                if waited > 0.05:
                    log.debug("rate limit: waited %.2f s", waited)
            self.requests.append({"utility": utility, **public})
            log.info(
                "request %d: %s (attempt %d/%d)",
                self.request_count,
                description,
                attempt,
                self.max_tries,
            )
            try:
                body = self.transport.send(url, sent, self.timeout)
                value = check(body)
                return body, value
            except TransientError as exc:
                last_cause = exc.cause
                if attempt == self.max_tries:
                    break
                wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                if exc.retry_after is not None:
                    wait = min(self.max_backoff, max(wait, exc.retry_after))
                log.warning("%s failed: %s; retrying in %.1f s", utility, exc.cause, wait)
                self._sleep(wait)
            except PermanentError as exc:
                raise NetworkError(
                    f"E-utilities {description} at {redact(url)} failed: {exc}. This is not a "
                    "temporary fault: check entrez.base_url and the query, then rerun."
                ) from None
        raise NetworkError(
            f"E-utilities {description} at {redact(url)} still failing after {self.max_tries} "
            f"attempts; last cause: {last_cause}. No snapshot was written; rerun later (NCBI "
            "may be overloaded) or raise entrez.max_tries."
        )

    # -- utilities --------------------------------------------------------------------------

    def esearch(
        self,
        term: str,
        *,
        db: str = "pubmed",
        mindate: str | None = None,
        maxdate: str | None = None,
        datetype: str = "crdt",
        retmax: int = ESEARCH_MAX_IDS,
        usehistory: bool = True,
    ) -> EsearchResult:
        """esearch with the history server; checks that the ID list matches Count.

        A Count above :data:`ESEARCH_MAX_IDS` is returned as is (the caller splits the window);
        otherwise fewer IDs than Count (and than retmax) is a transient fault and retried.
        """
        params = {"db": db, "term": term, "retmax": str(retmax)}
        if usehistory:
            params["usehistory"] = "y"
        if mindate or maxdate:
            if not (mindate and maxdate):
                raise ValueError("mindate and maxdate go together")
            params.update({"datetype": datetype, "mindate": mindate, "maxdate": maxdate})

        def check(body: bytes) -> EsearchResult:
            result = parse_esearch(body)
            expected = min(result.count, retmax)
            if result.count <= ESEARCH_MAX_IDS and len(result.ids) != expected:
                raise TransientError(
                    f"esearch Count is {result.count} but {len(result.ids)} IDs came back (expected {expected})"
                )
            if len(set(result.ids)) != len(result.ids):
                raise TransientError("esearch ID list contains duplicates")
            if usehistory and result.count and not (result.webenv and result.query_key):
                raise TransientError("esearch answer lacks WebEnv/QueryKey although usehistory=y")
            return result

        _, result = self.call("esearch.fcgi", params, check)
        result.request = {k: v for k, v in params.items()}
        return result

    def efetch(
        self,
        *,
        db: str = "pubmed",
        ids: Sequence[str] | None = None,
        webenv: str | None = None,
        query_key: str | None = None,
        retstart: int = 0,
        retmax: int = 200,
        check: Callable[[bytes], Checked] | None = None,
    ) -> tuple[bytes, Checked | None]:
        """efetch XML by ID list or by history (WebEnv + query_key + retstart/retmax).

        ``check`` (e.g. "parses as PubMed XML and holds exactly these PMIDs") runs inside the
        retry loop, so a truncated or incomplete batch is fetched again.
        """
        params: dict[str, str] = {"db": db, "retmode": "xml"}
        if ids is not None:
            params["id"] = ",".join(ids)
        elif webenv and query_key:
            params.update(
                {
                    "WebEnv": webenv,
                    "query_key": query_key,
                    "retstart": str(retstart),
                    "retmax": str(retmax),
                }
            )
        else:
            raise ValueError("efetch needs ids or webenv + query_key")

        def full_check(body: bytes) -> Checked | None:
            check_xml_body(body)
            return check(body) if check else None

        return self.call("efetch.fcgi", params, full_check)


def _describe(params: Mapping[str, str]) -> str:
    shown = []
    for key, value in params.items():
        if key in ("tool", "email"):
            continue
        if key == "id" and value.count(",") > 3:
            value = f"{value.count(',') + 1} IDs"
        elif key == "term" and len(value) > 60:
            value = value[:57] + "..."
        shown.append(f"{key}={value}")
    return " ".join(shown)
