"""The desk's refusals: blinding, roles, CSRF, path traversal, secrets kept out of logs."""

from __future__ import annotations

import copy
import logging
import os
import stat
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT
from desk_support import TA_HEADER, make_project, pid, pinned_clock
from starlette.testclient import TestClient
from test_desk_http import BASE, CONFLICT, journal, sheet, signed_in, token

from livingreview.desk.app import create_app
from livingreview.desk.errors import StateFileError
from livingreview.desk.people import people_from_config
from livingreview.errors import ConfigError


@pytest.fixture
def project(tmp_path):
    root = make_project(
        tmp_path / "project",
        n=5,
        conflicts=[(4, "title_abstract", CONFLICT)],
        queued_for={5: ("reviewer-2",)},
    )
    ta = root / "resources" / "screening" / "title_abstract"
    (ta / "reviewer-1.tsv").write_text(TA_HEADER + f"{pid(4)}\tinclude\t\tR1-NOTE\t2026-11-20\n")
    (ta / "reviewer-2.tsv").write_text(
        TA_HEADER + f"{pid(4)}\texclude\tnot_aih\tSECRET-R2\t2026-11-21\n"
    )
    return root


@pytest.fixture
def app(project, tmp_path):
    return create_app(project, clock=pinned_clock, state_dir=tmp_path / "state")


# --------------------------------------------------------------------------- blinding and roles


def test_reviewer_one_never_sees_reviewer_twos_decisions_or_conflicts(app):
    client, _ = signed_in(app, "reviewer-1")
    pages = [
        client.get(path)
        for path in [
            "/screen/title_abstract/decisions",
            "/screen/full_text/decisions",
            f"/screen/title_abstract/record/{pid(1)}",
            f"/screen/title_abstract/record/{pid(4)}",
            "/adjudicate",
            f"/adjudicate/title_abstract/record/{pid(4)}",
        ]
    ]
    assert [p.status_code for p in pages] == [200, 200, 200, 200, 403, 403]
    for page in pages:
        assert "SECRET-R2" not in page.text and "not_aih)" not in page.text
        assert "reviewer-2" not in page.text


def test_a_reviewer_cannot_open_or_decide_another_reviewers_publication(app, project):
    client, csrf = signed_in(app, "reviewer-1")
    assert client.get(f"/screen/title_abstract/record/{pid(5)}").status_code == 404
    response = client.post(
        f"/screen/title_abstract/record/{pid(5)}", data={"csrf": csrf, "decision": "include"}
    )
    assert response.status_code == 404
    assert pid(5) not in sheet(project, "title_abstract", "reviewer-1.tsv")
    assert pid(5) not in sheet(project, "title_abstract", "reviewer-2.tsv")


def test_a_reviewer_cannot_write_another_reviewers_sheet(app, project):
    """No address or form field names a sheet: extra fields are ignored."""
    before = sheet(project, "title_abstract", "reviewer-2.tsv")
    client, csrf = signed_in(app, "reviewer-1")
    client.post(
        f"/screen/title_abstract/record/{pid(1)}",
        data={"csrf": csrf, "decision": "include", "reviewer": "reviewer-2", "sheet": "reviewer-2"},
    )
    assert sheet(project, "title_abstract", "reviewer-2.tsv") == before
    assert pid(1) in sheet(project, "title_abstract", "reviewer-1.tsv")


def test_a_reviewer_cannot_adjudicate(app, project):
    client, csrf = signed_in(app, "reviewer-1")
    for url in [
        f"/adjudicate/title_abstract/record/{pid(4)}",
        f"/adjudicate/title_abstract/record/{pid(4)}/withdraw",
    ]:
        assert client.post(url, data={"csrf": csrf, "decision": "include"}).status_code == 403
    assert not (project / "resources/screening/title_abstract/adjudication.tsv").exists()


def test_an_adjudicator_cannot_screen(app, project):
    client, csrf = signed_in(app, "adjudicator-1")
    assert client.get(f"/screen/title_abstract/record/{pid(1)}").status_code == 403
    response = client.post(
        f"/screen/title_abstract/record/{pid(1)}", data={"csrf": csrf, "decision": "include"}
    )
    assert response.status_code == 403
    assert not (project / "resources/screening/title_abstract/adjudicator-1.tsv").exists()


# --------------------------------------------------------------------------- CSRF


@pytest.mark.parametrize(
    "data, headers",
    [
        ({}, {}),
        ({"csrf": "wrong"}, {}),
        ("csrf-ok", {"origin": "https://evil.example"}),
        ("csrf-ok", {"origin": "null"}),
        ("csrf-ok", {"sec-fetch-site": "cross-site"}),
    ],
)
def test_posts_without_the_sessions_csrf_token_or_from_elsewhere_are_refused(
    app, project, data, headers
):
    client, csrf = signed_in(app, "reviewer-1")
    form = {"csrf": csrf} if data == "csrf-ok" else dict(data)
    for url in [f"/screen/title_abstract/record/{pid(1)}", "/screen/title_abstract/undo"]:
        response = client.post(url, data={**form, "decision": "include"}, headers=headers)
        assert response.status_code == 403, url
    assert pid(1) not in sheet(project, "title_abstract", "reviewer-1.tsv")
    assert journal(project) == []


def test_same_origin_posts_pass(app, project):
    client, csrf = signed_in(app, "reviewer-1")
    response = client.post(
        f"/screen/title_abstract/record/{pid(1)}",
        data={"csrf": csrf, "decision": "include"},
        headers={"origin": BASE, "sec-fetch-site": "same-origin"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_another_sessions_csrf_token_does_not_work(app, project):
    client, _ = signed_in(app, "reviewer-1")
    _, other_csrf = signed_in(app, "reviewer-2")
    response = client.post(
        f"/screen/title_abstract/record/{pid(1)}", data={"csrf": other_csrf, "decision": "include"}
    )
    assert response.status_code == 403


# --------------------------------------------------------------------------- ids from the address


@pytest.mark.parametrize(
    "path",
    [
        "/screen/..%2F..%2Fconfig.yaml/record/pubmed:100001",
        "/screen/title_abstract/record/..%2F..%2F..%2Fconfig.yaml",
        "/screen/title_abstract/record/pubmed:..%2F..%2Freviewer-2",
        "/screen/title_abstract/record/pubmed:100001%2F..%2F..%2Freviewer-2",
        "/screen/..%2Ffull_text/decisions",
        "/adjudicate/..%2Ftitle_abstract/record/pubmed:100004",
        "/adjudicate/title_abstract/record/..%2Freviewer-2.tsv",
    ],
)
def test_ids_with_path_parts_are_refused(app, project, path):
    client, csrf = signed_in(app, "adjudicator-1" if path.startswith("/adj") else "reviewer-1")
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    assert client.get(path).status_code == 404
    assert client.post(path, data={"csrf": csrf, "decision": "include"}).status_code in (404, 405)
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before


# --------------------------------------------------------------------------- secrets


def test_tokens_never_reach_logs_sheets_or_journal(app, project, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = [token(app, p) for p in ("reviewer-1", "reviewer-2", "adjudicator-1")]
    client = TestClient(app, base_url=BASE)
    client.get("/signin", params={"token": secrets[0][:-1] + "x"})
    client, csrf = signed_in(app, "reviewer-1")
    client.post(
        f"/screen/title_abstract/record/{pid(1)}", data={"csrf": csrf, "decision": "include"}
    )
    signed_in(app, "adjudicator-1")
    # The test client's own HTTP library logs the URLs it requests; everything else counts.
    client_side = ("httpx", "httpcore", "httpx2", "httpcore2")
    text = "\n".join(
        r.getMessage() for r in caplog.records if r.name.split(".")[0] not in client_side
    )
    assert "signed in: reviewer-1" in text and "GET /signin 303" in text
    for secret in secrets:
        assert secret not in text
        assert secret[:12] not in text
        for path in (project / "resources").rglob("*"):
            if path.is_file():
                assert secret not in path.read_text(errors="replace"), path


def test_state_files_are_private_and_refused_when_not(project, tmp_path):
    state = tmp_path / "state"
    create_app(project, clock=pinned_clock, state_dir=state)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for name in ("tokens.json", "session.key"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600
    os.chmod(state / "tokens.json", 0o644)
    with pytest.raises(StateFileError, match="chmod 600"):
        create_app(project, clock=pinned_clock, state_dir=state)


def test_rotating_one_token_keeps_the_others(app):
    desk = app.state.desk
    before = desk.tokens.ensure(desk.project.people)
    desk.tokens.rotate(["reviewer-2"], everyone=False)
    after = desk.tokens.ensure(desk.project.people)
    assert after["reviewer-1"] == before["reviewer-1"]
    assert after["reviewer-2"] != before["reviewer-2"]
    assert desk.tokens.person_for(before["reviewer-2"], desk.project.people) is None
    assert desk.tokens.person_for(after["reviewer-2"], desk.project.people) == "reviewer-2"


def test_the_command_prints_one_link_per_person_and_rotates(project):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = [sys.executable, "-m", "livingreview.desk", "--directory", str(project)]
    links = subprocess.run([*run, "links"], capture_output=True, text=True, env=env, check=True)
    lines = links.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["reviewer-1", "reviewer"],
        ["reviewer-2", "reviewer"],
        ["adjudicator-1", "adjudicator"],
        ["extractor-1", "extractor"],
        ["extractor-2", "extractor"],
        ["data-manager-1", "data_manager"],
    ]
    assert all(" http://127.0.0.1:8765/signin?token=" in line for line in lines)
    rotated = subprocess.run(
        [*run, "rotate-tokens", "reviewer-1"], capture_output=True, text=True, env=env, check=True
    )
    new_line = rotated.stdout.splitlines()[-1]
    assert new_line.startswith("reviewer-1") and new_line != lines[0]
    again = subprocess.run([*run, "links"], capture_output=True, text=True, env=env, check=True)
    assert again.stdout.splitlines() == [new_line, *lines[1:]]
    assert stat.S_IMODE((project / ".desk").stat().st_mode) == 0o700
    bad = subprocess.run([*run, "rotate-tokens", "nobody"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "unknown person nobody" in bad.stderr


# --------------------------------------------------------------------------- config


@pytest.fixture
def config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def test_the_default_config_names_every_role(config):
    people = people_from_config(config)
    assert {p: v.roles for p, v in people.items()} == {
        "reviewer-1": ("reviewer",),
        "reviewer-2": ("reviewer",),
        "adjudicator-1": ("adjudicator",),
        "extractor-1": ("extractor",),
        "extractor-2": ("extractor",),
        "data-manager-1": ("data_manager",),
    }


def test_an_adjudicator_who_screens_is_refused_while_blinded(config):
    config["screening"]["adjudicators"] = ["reviewer-2"]
    with pytest.raises(ConfigError, match="screening.adjudicators.*blinded"):
        people_from_config(config)
    unblinded = copy.deepcopy(config)
    unblinded["screening"]["blinded"] = False
    assert people_from_config(unblinded)["reviewer-2"].roles == ("reviewer", "adjudicator")


def test_bad_role_ids_are_refused(config, project):
    config["screening"]["adjudicators"] = ["baven-pronk-2022"]
    with pytest.raises(ConfigError, match="baseline reviewer"):
        people_from_config(config)
    text = (project / "config.yaml").read_text()
    (project / "config.yaml").write_text(
        text.replace("adjudicators: [adjudicator-1]", "adjudicators: [../root]")
    )
    with pytest.raises(ConfigError, match="screening.adjudicators.0"):
        create_app(project, clock=pinned_clock, state_dir=project / "state")


def test_a_served_desk_logs_no_token(project, tmp_path):
    """The real server (uvicorn, as bin/desk runs it): its output never shows a token."""
    import socket
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "livingreview.desk", "--directory", str(project)]
    links = subprocess.run([*command, "links"], capture_output=True, text=True, env=env, check=True)
    secrets = [line.rsplit("token=", 1)[1] for line in links.stdout.splitlines()]
    log_path = tmp_path / "desk.log"
    with open(log_path, "w") as log_file:
        server = subprocess.Popen(
            [*command, "--port", str(port), "--no-links"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    urllib.request.urlopen(f"{base}/signin", timeout=2)
                    break
                except (urllib.error.URLError, ConnectionError):
                    time.sleep(0.05)
            for presented in (secrets[0], secrets[1] + "x"):
                try:
                    pasted = urllib.request.Request(
                        f"{base}/signin?token={presented}", headers={"Sec-Fetch-Site": "none"}
                    )
                    urllib.request.urlopen(pasted, timeout=5)
                except urllib.error.HTTPError as error:
                    assert error.code == 403
        finally:
            server.terminate()
            server.wait(timeout=20)
    output = log_path.read_text()
    assert "signed in: reviewer-1" in output and "GET /signin 403" in output
    for secret in secrets:
        assert secret not in output and secret[:12] not in output
