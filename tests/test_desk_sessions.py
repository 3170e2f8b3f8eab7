"""The desk's sessions and sign-in, hardened against an attacker's probes.

Server-side sessions that sign-out, token rotation and expiry end; a throttle that counts
only failures and never locks a right token out; forwarded headers believed only from a
configured proxy; Secure cookies behind an https public URL and opt-in HSTS; a confirmation
page for sign-in links opened from another site; form bodies that are not UTF-8 refused.
Synthetic project (tests/desk_support.py); HTTP through Starlette's test client, one real
``bin/desk`` server, and one real Chromium for the confirmation page.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from browser_support import Browser, Server, chromium
from conftest import ROOT
from desk_support import TA_HEADER, csrf_of, make_project, pid, pinned_clock
from starlette.testclient import TestClient

from livingreview.desk.app import create_app
from livingreview.desk.cli import _parser, main, server_options
from livingreview.desk.errors import StateFileError
from livingreview.desk.sessions import (
    COOKIE,
    PENDING_COOKIE,
    SESSIONS_FILE,
    SignInThrottle,
    throttle_key,
)

BASE = "http://127.0.0.1:8765"
PASTED = {"sec-fetch-site": "none"}
CROSS_SITE = {"sec-fetch-site": "cross-site"}
CONFLICT = "reviewer-1=include; reviewer-2=exclude(not_aih)"
STUDY = "smith-2025"
DECISIONS = "/screen/title_abstract/decisions"


@pytest.fixture
def project(tmp_path) -> Path:
    root = make_project(
        tmp_path / "project",
        n=8,
        full_text=[6, 7],
        conflicts=[(4, "title_abstract", CONFLICT)],
        maybe_pairs=[(1, 2)],
        new_studies={STUDY: (6,)},
    )
    ta = root / "resources" / "screening" / "title_abstract"
    (ta / "reviewer-1.tsv").write_text(TA_HEADER + f"{pid(4)}\tinclude\t\t\t2026-11-20\n")
    (ta / "reviewer-2.tsv").write_text(TA_HEADER + f"{pid(4)}\texclude\tnot_aih\t\t2026-11-21\n")
    return root


@pytest.fixture
def app(project):
    return create_app(project, clock=pinned_clock)  # state in <project>/.desk, as bin/desk


def token(app, person: str) -> str:
    desk = app.state.desk
    return desk.tokens.ensure(desk.project.people)[person]


def signed_in(app, person: str, **client_options) -> tuple[TestClient, str, str]:
    """A client signed in by a pasted link: the client, its CSRF token, its cookie's value."""
    client = TestClient(app, base_url=BASE, **client_options)
    response = client.get("/signin", params={"token": token(app, person)}, headers=PASTED)
    assert response.status_code == 200, response.text
    return client, csrf_of(client.get("/").text), client.cookies[COOKIE]


def with_cookie(app, value: str) -> TestClient:
    """A fresh browser presenting a copy of a session cookie (as an attacker who kept it)."""
    return TestClient(app, base_url=BASE, cookies={COOKIE: value})


def human_files(project: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(project)): p.read_bytes()
        for p in sorted((project / "resources").rglob("*"))
        if p.is_file()
    }


def sheet(project: Path, name: str = "reviewer-1.tsv") -> str:
    return (project / "resources" / "screening" / "title_abstract" / name).read_text()


# --------------------------------------------------------------------------- sessions end


def test_a_cookie_kept_after_sign_out_opens_nothing_and_saves_nothing(app, project):
    client, csrf, cookie = signed_in(app, "reviewer-1")
    out = client.post("/signout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    copy = with_cookie(app, cookie)
    assert copy.get("/screen/title_abstract/decisions").status_code == 401
    before = sheet(project)
    saved = copy.post(
        f"/screen/title_abstract/record/{pid(1)}",
        data={"csrf": csrf, "decision": "include"},
        follow_redirects=False,
    )
    assert saved.status_code == 401
    assert sheet(project) == before


def test_rotating_a_token_on_the_command_line_ends_that_persons_sessions(app, project):
    """``bin/desk rotate-tokens reviewer-1`` in another process, while this desk serves."""
    one, _, _ = signed_in(app, "reviewer-1")
    two, _, _ = signed_in(app, "reviewer-2")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "livingreview.desk", "--directory", str(project)]
    subprocess.run([*command, "rotate-tokens", "reviewer-1"], env=env, check=True, text=True)
    assert one.get("/screen/title_abstract/decisions").status_code == 401
    assert two.get("/screen/title_abstract/decisions").status_code == 200
    subprocess.run([*command, "rotate-tokens"], env=env, check=True, text=True)
    assert two.get("/screen/title_abstract/decisions").status_code == 401


def test_a_session_ends_twelve_hours_after_sign_in(app):
    client, _, _ = signed_in(app, "reviewer-1")
    desk = app.state.desk
    desk.clock = lambda: pinned_clock().replace(hour=23, minute=59)
    assert client.get("/screen/title_abstract/decisions").status_code == 200
    desk.clock = lambda: pinned_clock().replace(day=24, hour=0, minute=0)
    assert client.get("/screen/title_abstract/decisions").status_code == 401
    signed_in(app, "reviewer-2")  # a write drops the ended session from the table
    table = json.loads((project_of(app) / ".desk" / SESSIONS_FILE).read_text())
    assert [v["person"] for v in table["sessions"].values()] == ["reviewer-2"]


def project_of(app) -> Path:
    return app.state.desk.project.root


def test_sessions_survive_a_restart_in_a_private_file_without_tokens_or_ids(app, project):
    client, csrf, cookie = signed_in(app, "reviewer-1")
    path = project / ".desk" / SESSIONS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert cookie not in text and csrf not in text
    for secret in app.state.desk.tokens.ensure(app.state.desk.project.people).values():
        assert secret not in text
    restarted = create_app(project, clock=pinned_clock)
    assert with_cookie(restarted, cookie).get("/screen/title_abstract/decisions").status_code == 200
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_damaged_or_open_sessions_file_is_refused_at_start(app, project):
    signed_in(app, "reviewer-1")
    path = project / ".desk" / SESSIONS_FILE
    os.chmod(path, 0o644)
    with pytest.raises(StateFileError, match="chmod 600"):
        create_app(project, clock=pinned_clock)
    path.write_text("{not json")
    os.chmod(path, 0o600)
    with pytest.raises(StateFileError, match="delete it"):
        create_app(project, clock=pinned_clock)


def test_signing_in_again_ends_the_browsers_previous_session_and_sessions_are_capped(app):
    client, _, first = signed_in(app, "reviewer-1")
    client.get("/signin", params={"token": token(app, "reviewer-1")}, headers=PASTED)
    assert client.cookies[COOKIE] != first
    assert with_cookie(app, first).get(DECISIONS).status_code == 401
    cookies = [signed_in(app, "reviewer-1")[2] for _ in range(21)]
    assert with_cookie(app, cookies[0]).get(DECISIONS).status_code == 401
    assert with_cookie(app, cookies[1]).get(DECISIONS).status_code == 200
    assert with_cookie(app, cookies[-1]).get(DECISIONS).status_code == 200
    live = app.state.desk.sessions.live(pinned_clock().timestamp())
    assert len(live) == 20


# --------------------------------------------------------------------------- the throttle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_right_token_signs_in_whatever_failed_before(project):
    clock = Clock()
    app = create_app(project, clock=pinned_clock, throttle=SignInThrottle(clock, free=3))
    client = TestClient(app, base_url=BASE)
    for i in range(100):
        client.get(
            "/signin", params={"token": f"guess-{i}"}, headers={"x-forwarded-for": f"10.{i}"}
        )
    refused = client.get("/signin", params={"token": "guess"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    good = client.get(
        "/signin",
        params={"token": token(app, "reviewer-1")},
        headers=PASTED,
        follow_redirects=False,
    )
    assert good.status_code == 303 and good.headers["location"] == "/welcome"


def test_the_throttle_counts_per_address_forgets_and_stays_bounded():
    clock = Clock()
    throttle = SignInThrottle(clock, free=2, base=10, forget_after=3600, max_addresses=100)
    for _ in range(3):
        throttle.failed("192.0.2.1")
    assert throttle.retry_after("192.0.2.1") == 20
    assert throttle.retry_after("192.0.2.2") == 0  # other addresses are not held back
    clock.now += 3600
    assert throttle.retry_after("192.0.2.1") == 0
    for i in range(5000):
        throttle.failed(f"10.{i // 256 % 256}.{i % 256}.1")
    assert throttle.tracked() == 100
    # One IPv6 host holds a /64: its addresses count together.
    assert throttle_key("2001:db8::1") == throttle_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert throttle_key("::ffff:192.0.2.7") == "192.0.2.7"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_bin_desk_ignores_forwarded_for_without_a_proxy_and_never_locks_out_a_link(
    project, tmp_path
):
    """The probe: rotating X-Forwarded-For against the real server on loopback."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "livingreview.desk", "--directory", str(project)]
    links = subprocess.run([*command, "links"], capture_output=True, text=True, env=env, check=True)
    link = links.stdout.splitlines()[1].rsplit(" ", 1)[1].replace("8765", str(port))
    log_path = tmp_path / "desk.log"
    with open(log_path, "w") as log_file:
        server = subprocess.Popen(
            [*command, "--port", str(port), "--no-links", "--no-refresh"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(400):
                try:
                    urllib.request.urlopen(f"{base}/signin", timeout=2)
                    break
                except (urllib.error.URLError, ConnectionError):
                    time.sleep(0.05)
            codes = [
                get(f"{base}/signin?token=guess{i}", {"X-Forwarded-For": f"198.51.100.{i}"})[0]
                for i in range(12)
            ]
            status, headers = get(link, {"Sec-Fetch-Site": "none", "X-Forwarded-For": "1.2.3.4"})
        finally:
            server.terminate()
            server.wait(timeout=20)
    assert codes[:5] == [403] * 5 and 429 in codes[5:]  # all counted as 127.0.0.1
    assert status == 303 and headers["location"] == "/welcome"
    assert "Secure" not in headers["set-cookie"]
    output = log_path.read_text()
    assert "no proxy trusted" in output
    assert "too many failed attempts" in output and "198.51.100." not in output
    assert "signed in: reviewer-2 from 127.0.0.1" in output


def test_forwarded_headers_are_believed_only_from_a_configured_proxy():
    parse = _parser().parse_args
    plain = server_options(parse([]))
    assert plain["proxy_headers"] is False and plain["forwarded_allow_ips"] is None
    behind = server_options(parse(["--public-url", "https://desk.example.org"]))
    assert behind["proxy_headers"] is True and behind["forwarded_allow_ips"] == "127.0.0.1"
    named = server_options(parse(["--forwarded-allow-ips", "10.0.0.5"]))
    assert named["proxy_headers"] is True and named["forwarded_allow_ips"] == "10.0.0.5"
    off = server_options(
        parse(["--public-url", "https://desk.example.org", "--forwarded-allow-ips", ""])
    )
    assert off["proxy_headers"] is False


def test_hsts_needs_an_https_public_url(capsys):
    assert main(["--hsts-seconds", "600", "links"]) == 2
    assert "needs an https --public-url" in capsys.readouterr().err
    assert main(["--hsts-seconds", "600", "--public-url", "http://desk.example.org"]) == 2
    help_text = " ".join(_parser().format_help().split())
    assert "--hsts-seconds" in help_text and "whatever the port" in help_text


# --------------------------------------------------------------------------- Secure and HSTS


def test_an_https_public_url_makes_the_cookie_secure_whatever_the_proxy_says(project):
    app = create_app(project, clock=pinned_clock, public_url="https://desk.example.org/")
    client = TestClient(app, base_url=BASE)  # plain http, no X-Forwarded-Proto
    response = client.get(
        "/signin",
        params={"token": token(app, "reviewer-1")},
        headers=PASTED,
        follow_redirects=False,
    )
    assert "secure" in response.headers["set-cookie"].lower()
    assert "strict-transport-security" not in response.headers
    pending = client.get(
        "/signin",
        params={"token": token(app, "reviewer-1")},
        headers=CROSS_SITE,
        follow_redirects=False,
    )
    assert "secure" in pending.headers["set-cookie"].lower()
    plain = create_app(project, clock=pinned_clock)
    response = TestClient(plain, base_url=BASE).get(
        "/signin",
        params={"token": token(plain, "reviewer-1")},
        headers=PASTED,
        follow_redirects=False,
    )
    assert "secure" not in response.headers["set-cookie"].lower()


def test_hsts_is_sent_when_asked_for(project):
    app = create_app(
        project, clock=pinned_clock, public_url="https://desk.example.org", hsts_seconds=600
    )
    client = TestClient(app, base_url=BASE)
    for path in ["/signin", "/static/desk.css", "/no-such-page"]:
        assert client.get(path).headers["strict-transport-security"] == "max-age=600", path


# --------------------------------------------------------------------------- cross-site sign-in


def test_a_link_opened_from_another_site_asks_before_signing_in(app):
    victim = TestClient(app, base_url=BASE)
    landed = victim.get("/signin", params={"token": token(app, "reviewer-2")}, headers=CROSS_SITE)
    assert landed.status_code == 200 and str(landed.url) == f"{BASE}/signin/confirm"
    assert "Continue as reviewer-2?" in landed.text
    assert "token" not in str(landed.url) and token(app, "reviewer-2") not in landed.text
    assert COOKIE not in victim.cookies
    assert victim.get("/screen").status_code == 401  # not signed in by the other site
    confirm_csrf = csrf_of(landed.text)
    # A forged POST from elsewhere, or without the token, does not complete it.
    assert (
        victim.post("/signin/confirm", data={"csrf": confirm_csrf}, headers=CROSS_SITE).status_code
        == 403
    )
    assert victim.post("/signin/confirm", data={"csrf": "x"}).status_code == 403
    assert COOKIE not in victim.cookies
    done = victim.post(
        "/signin/confirm",
        data={"csrf": confirm_csrf},
        headers={"sec-fetch-site": "same-origin", "origin": BASE},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/welcome"
    assert victim.get("/screen/title_abstract/decisions").status_code == 200
    # The confirmation is used up.
    again = victim.post("/signin/confirm", data={"csrf": confirm_csrf})
    assert again.status_code == 400


def test_another_browsers_confirmation_token_does_not_work(app):
    attacker = TestClient(app, base_url=BASE)
    page = attacker.get("/signin", params={"token": token(app, "reviewer-2")}, headers=CROSS_SITE)
    victim = TestClient(app, base_url=BASE)
    victim.get("/signin", params={"token": token(app, "reviewer-1")}, headers=CROSS_SITE)
    forged = victim.post("/signin/confirm", data={"csrf": csrf_of(page.text)})
    assert forged.status_code == 403
    no_cookie = TestClient(app, base_url=BASE).post(
        "/signin/confirm", data={"csrf": csrf_of(page.text)}
    )
    assert (
        no_cookie.status_code == 400 and "Open your personal sign-in link again" in no_cookie.text
    )


@pytest.mark.parametrize(
    "headers, direct",
    [
        ({"sec-fetch-site": "none"}, True),
        ({"sec-fetch-site": "same-origin"}, True),
        ({"sec-fetch-site": "same-site"}, True),
        ({"sec-fetch-site": "cross-site"}, False),
        ({}, False),  # a browser too old to say where the navigation came from
    ],
)
def test_who_signs_in_at_once(app, headers, direct):
    client = TestClient(app, base_url=BASE)
    response = client.get(
        "/signin",
        params={"token": token(app, "reviewer-1")},
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == ("/welcome" if direct else "/signin/confirm")
    assert (COOKIE in client.cookies) is direct
    assert (PENDING_COOKIE in client.cookies) is not direct


def test_a_rotation_before_the_confirmation_cancels_it(app):
    victim = TestClient(app, base_url=BASE)
    page = victim.get("/signin", params={"token": token(app, "reviewer-2")}, headers=CROSS_SITE)
    app.state.desk.tokens.rotate(["reviewer-2"], everyone=False)
    done = victim.post("/signin/confirm", data={"csrf": csrf_of(page.text)})
    assert done.status_code == 403 and COOKIE not in victim.cookies


class OtherSite:
    """Another site (``localhost``, not ``127.0.0.1``) whose page links to a sign-in link."""

    def __init__(self, link: str):
        page = f'<!doctype html><title>mail</title><a id="link" href="{link}">open</a>'.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.browser
def test_in_chromium_a_link_from_another_site_needs_a_click_to_sign_in(project, tmp_path):
    executable = chromium()
    from playwright.sync_api import sync_playwright

    app = create_app(project, clock=pinned_clock)
    links = app.state.desk.tokens.ensure(app.state.desk.project.people)
    with Server(app) as base, sync_playwright() as playwright:
        with OtherSite(f"{base}/signin?token={links['reviewer-2']}") as other:
            browser = Browser(playwright, executable, tmp_path / "profile", base, links)
            try:
                page = browser.page
                page.goto(other)
                page.click("#link")
                page.wait_for_url(f"{base}/signin/confirm")
                assert page.text_content("h1") == "Continue as reviewer-2?"
                cookies = {c["name"] for c in browser.context.cookies()}
                assert COOKIE not in cookies and PENDING_COOKIE in cookies
                page.click("#confirm")
                page.wait_for_url("**/screen/title_abstract/record/*")
                assert "reviewer-2" in page.text_content(".who")
                assert page.url.startswith(base)
                # Pasting one's own link signs in at once (as every browser test does).
                browser.sign_in("reviewer-1")
                page.wait_for_url("**/screen/title_abstract/record/*")
                assert "reviewer-1" in page.text_content(".who")
            finally:
                browser.context.close()


# --------------------------------------------------------------------------- form bodies


FORM = "application/x-www-form-urlencoded"


def posts() -> list[tuple[str, str, str]]:
    """(person, path, fields) of every kind of POST the desk takes, with a Latin-1 note."""
    note = "note=caf%E9"  # "café" in Latin-1: not UTF-8
    return [
        ("reviewer-1", f"/screen/title_abstract/record/{pid(1)}", f"decision=include&{note}"),
        ("reviewer-1", "/screen/title_abstract/undo", note),
        (
            "adjudicator-1",
            f"/adjudicate/title_abstract/record/{pid(4)}",
            f"decision=include&{note}",
        ),
        ("adjudicator-1", f"/adjudicate/title_abstract/record/{pid(4)}/withdraw", note),
        ("extractor-1", f"/extract/{STUDY}", f"op=save&version=absent&r0.notes=caf%E9&{note}"),
        ("data-manager-1", "/duplicates/pair", f"a={pid(1)}&b={pid(2)}&verdict=same&{note}"),
        ("data-manager-1", "/duplicates/withdraw", f"a={pid(1)}&b={pid(2)}&{note}"),
        ("adjudicator-1", "/refresh", f"back=/&{note}"),
        ("reviewer-1", "/signout", note),
    ]


@pytest.mark.parametrize("index", range(len(posts())))
def test_a_form_that_is_not_utf8_is_refused_and_nothing_is_written(app, project, index):
    person, path, fields = posts()[index]
    client, csrf, cookie = signed_in(app, person)
    before = human_files(project)
    form = f"csrf={csrf}&{fields}"
    for body, content_type in [
        (form.encode(), FORM),  # percent-encoded Latin-1
        (form.replace("%E9", "\xe9").encode("latin-1"), FORM),  # raw Latin-1 bytes
        (form.replace("%E9", "%C3%A9").encode(), f"{FORM}; charset=windows-1252"),
    ]:
        headers = {"content-type": content_type}
        response = client.post(path, content=body, headers=headers, follow_redirects=False)
        assert response.status_code == 400, (path, body, response.text)
        assert "nothing was saved" in response.text
    multipart = client.post(path, files={"note": ("n.txt", b"x")}, data={"csrf": csrf})
    assert multipart.status_code == 415
    assert human_files(project) == before
    assert with_cookie(app, cookie).get("/", follow_redirects=False).status_code == 303


def test_the_confirmation_post_refuses_a_body_that_is_not_utf8(app):
    victim = TestClient(app, base_url=BASE)
    page = victim.get("/signin", params={"token": token(app, "reviewer-2")}, headers=CROSS_SITE)
    response = victim.post(
        "/signin/confirm",
        content=f"csrf={csrf_of(page.text)}&x=%FF".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400 and COOKIE not in victim.cookies


def test_utf8_text_is_saved_as_typed(app, project):
    client, csrf, _ = signed_in(app, "reviewer-1")
    response = client.post(
        f"/screen/title_abstract/record/{pid(1)}",
        content=f"csrf={csrf}&decision=include&note=caf%C3%A9+%E2%80%93+ok".encode(),
        headers={"content-type": "application/x-www-form-urlencoded; charset=UTF-8"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert f"{pid(1)}\tinclude\t\tcafé – ok\t" in sheet(project)
