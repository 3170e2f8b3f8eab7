"""The E-utilities client against a loopback server started by the test (no NCBI needed).

Also defines :class:`FakeEutils`, a small in-process E-utilities stand-in (esearch with
history and date windows, efetch by ID list or WebEnv) with scripted faults, reused by
test_search_snapshots.py and the workflow test.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from livingreview.errors import NetworkError
from livingreview.search.entrez import RATE_WITHOUT_KEY, EntrezClient, RateLimiter

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT / "resources" / "search" / "pubmed" / "efetch"
ESEARCH_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch '
    '20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
PUBMED_HEAD = (
    '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st '
    'January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)


def recorded_articles() -> dict[str, str]:
    """PMID -> <PubmedArticle> fragment, from the project's replay recordings."""
    out = {}
    for path in sorted(RECORDED.glob("*.xml")):
        text = path.read_text(encoding="utf-8")
        out[path.stem] = text[
            text.find("<PubmedArticle>") : text.rfind("</PubmedArticle>") + len("</PubmedArticle>")
        ]
    return out


class FakeEutils:
    """A loopback E-utilities server.

    ``records`` maps PMID -> creation date (test data, not a claim about PubMed); article XML
    comes from the replay recordings.  ``faults`` is a list of fault names consumed one per
    request: ``429``, ``500``, ``truncate``, ``reset``, ``slow``, ``html``, ``error``,
    ``short`` (esearch lists fewer IDs than Count), ``drop`` (efetch omits one record), or
    ``None`` for a normal answer.  Every request's time and parameters are kept.
    """

    def __init__(self, records: dict[str, dt.date], slow_seconds: float = 1.0):
        self.records = records
        self.articles = recorded_articles()
        self.faults: list[str | None] = []
        self.always: str | None = None
        self.slow_seconds = slow_seconds
        self.log: list[tuple[float, str, dict[str, str]]] = []
        self.history: dict[str, list[str]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # shutdown() waits for the serving loop to look up (every poll_interval seconds, half
        # a second by default): a short one lets each test end as soon as its requests do.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/eutils/"

    def __enter__(self) -> FakeEutils:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, utility: str) -> int:
        return sum(1 for _, u, _ in self.log if u == utility)

    # -- answers -----------------------------------------------------------------------------

    def esearch(self, params: dict[str, str], fault: str | None) -> bytes:
        ids = sorted(self.records, key=int, reverse=True)
        if "mindate" in params:
            lo = dt.datetime.strptime(params["mindate"], "%Y/%m/%d").date()
            hi = dt.datetime.strptime(params["maxdate"], "%Y/%m/%d").date()
            ids = [i for i in ids if lo <= self.records[i] <= hi]
        retmax = int(params.get("retmax", "20"))
        listed = ids[:retmax]
        if fault == "short" and listed:
            listed = listed[:-1]
        token = f"MCID_{len(self.history) + 1}"
        self.history[token] = ids
        body = (
            f"<eSearchResult><Count>{len(ids)}</Count><RetMax>{len(listed)}</RetMax><RetStart>0</RetStart>"
            f"<QueryKey>1</QueryKey><WebEnv>{token}</WebEnv><IdList>"
            + "".join(f"<Id>{i}</Id>" for i in listed)
            + "</IdList><TranslationSet/><QueryTranslation>fake[All Fields]</QueryTranslation></eSearchResult>"
        )
        return (ESEARCH_HEAD + body).encode()

    def efetch(self, params: dict[str, str], fault: str | None) -> bytes:
        if "id" in params:
            ids = params["id"].split(",")
        else:
            start, size = int(params["retstart"]), int(params["retmax"])
            ids = self.history[params["WebEnv"]][start : start + size]
        if fault == "drop":
            ids = ids[:-1]
        return (
            PUBMED_HEAD
            + "<PubmedArticleSet>\n"
            + "\n".join(self.articles[i] for i in ids)
            + "\n</PubmedArticleSet>\n"
        ).encode()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                params = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                utility = self.path.rsplit("/", 1)[-1]
                fake.log.append((time.monotonic(), utility, params))
                fault = fake.faults.pop(0) if fake.faults else fake.always
                if fault == "429":
                    return self._send(429, b"Too Many Requests", extra={"Retry-After": "0"})
                if fault == "500":
                    return self._send(500, b"<html>oops</html>")
                if fault == "reset":
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
                    self.connection.close()
                    return None
                if fault == "slow":
                    time.sleep(fake.slow_seconds)
                if fault == "html":
                    return self._send(
                        200,
                        b"<!DOCTYPE html><html><head><title>Service unavailable</title></head></html>",
                    )
                if fault == "error":
                    return self._send(
                        200,
                        ESEARCH_HEAD.encode()
                        + b"<eSearchResult><ERROR>Search Backend failed</ERROR></eSearchResult>",
                    )
                body = (
                    fake.esearch(params, fault)
                    if utility == "esearch.fcgi"
                    else fake.efetch(params, fault)
                )
                if fault == "truncate":
                    body = body[: len(body) // 2]
                return self._send(200, body)

            def _send(self, status, body, extra=None):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in (extra or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler


RECORDS = {
    "31658173": dt.date(2019, 10, 29),
    "26458216": dt.date(2015, 10, 14),
    "4088113": dt.date(1985, 11, 11),
}


def make_client(server: FakeEutils, **kwargs) -> EntrezClient:
    options = dict(
        email="review@example.org",
        tool="livingreview-test",
        base_url=server.base_url,
        timeout=0.5,
        max_tries=4,
        backoff=0.01,
        limiter=RateLimiter(50.0),
        api_key_env="LR_TEST_NO_KEY",
    )
    options.update(kwargs)
    return EntrezClient(**options)


def test_429_twice_then_success():
    with FakeEutils(RECORDS) as server:
        server.faults = ["429", "429"]
        result = make_client(server).esearch("cni", mindate="1800/01/01", maxdate="2021/10/31")
    assert result.count == 3 and sorted(result.ids) == sorted(RECORDS)
    assert server.count("esearch.fcgi") == 3


def test_500_every_time_fails_cleanly_with_the_cause():
    with FakeEutils(RECORDS) as server:
        server.always = "500"
        with pytest.raises(NetworkError, match=r"after 4 attempts; last cause: HTTP 500"):
            make_client(server).esearch("cni")
    assert server.count("esearch.fcgi") == 4


@pytest.mark.parametrize("fault", ["truncate", "reset", "slow", "html", "error", "short"])
def test_transient_fault_is_retried_then_succeeds(fault):
    with FakeEutils(RECORDS) as server:
        server.faults = [fault]
        result = make_client(server).esearch("cni")
    assert result.count == 3 and len(result.ids) == 3
    assert server.count("esearch.fcgi") == 2


def test_slow_answer_reports_the_timeout():
    with FakeEutils(RECORDS) as server:
        server.always = "slow"
        with pytest.raises(NetworkError, match="timed out"):
            make_client(server, max_tries=2, timeout=0.2).esearch("cni")


def test_count_not_matching_ids_fails_after_retries():
    with FakeEutils(RECORDS) as server:
        server.always = "short"
        with pytest.raises(NetworkError, match="Count is 3 but 2 IDs"):
            make_client(server).esearch("cni")


def test_efetch_truncated_batch_is_fetched_again():
    with FakeEutils(RECORDS) as server:
        client = make_client(server)
        server.faults = ["truncate"]
        body, _ = client.efetch(ids=["31658173", "4088113"])
    assert b"</PubmedArticleSet>" in body and server.count("efetch.fcgi") == 2


def test_request_rate_never_exceeds_ncbi_limit_without_key():
    with FakeEutils(RECORDS) as server:
        server.faults = ["429", None, "500", None, None]
        client = make_client(server, limiter=RateLimiter.shared(RATE_WITHOUT_KEY))
        client.esearch("cni")
        client.esearch("cni")
        client.esearch("cni")
    times = [t for t, _, _ in server.log]
    assert len(times) == 5
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 1 / RATE_WITHOUT_KEY - 0.02, gaps
    # and any window of one second holds at most 3 requests
    assert all(sum(1 for t in times if s <= t < s + 1.0) <= 3 for s in times)


def test_key_is_sent_but_never_in_client_records(monkeypatch):
    monkeypatch.setenv("LR_TEST_KEY", "sekrit-key-123")
    with FakeEutils(RECORDS) as server:
        client = make_client(server, api_key_env="LR_TEST_KEY")
        client.esearch("cni")
    assert server.log[0][2]["api_key"] == "sekrit-key-123"
    assert (
        server.log[0][2]["email"] == "review@example.org"
        and server.log[0][2]["tool"] == "livingreview-test"
    )
    assert "sekrit" not in repr(client.requests) and "sekrit" not in repr(
        vars(client).get("requests")
    )
    assert client.has_api_key


def test_rate_limiter_spaces_calls_with_a_fake_clock():
    now = [0.0]
    waits = []
    limiter = RateLimiter(
        10.0,
        clock=lambda: now[0],
        sleep=lambda s: (waits.append(s), now.__setitem__(0, now[0] + s)),
    )
    for _ in range(4):
        limiter.wait()
    assert waits == pytest.approx([0.1, 0.1, 0.1])
    assert RateLimiter.shared(3.0) is RateLimiter.shared(3.0)


def test_connection_refused_is_a_network_error():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    client = EntrezClient(
        email="a@b.org",
        tool="t",
        base_url=f"http://127.0.0.1:{port}/",
        max_tries=2,
        backoff=0.01,
        limiter=RateLimiter(50.0),
    )
    with pytest.raises(NetworkError, match=re.escape("connection failed")):
        client.esearch("x")
