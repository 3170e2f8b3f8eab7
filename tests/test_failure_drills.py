"""Failure drills: the scheduled run under a killed process, an unreachable NCBI,
two simultaneous starts and an invalid decision file.

Live-mode runs talk to a loopback E-utilities server (127.0.0.1 only) that answers from the
project's recorded replay answers through the search stage's own ReplayTransport, and that
can stall a request or be switched off. Everything runs in temporary copies of the project.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from test_scheduled import (  # noqa: F401 (fixtures)
    RUN_DATE,
    checksums,
    completed_copy,
    completed_project,
    human_files,
    make_project,
    scheduled_update,
    start_scheduled_update,
)

from livingreview.runs.registry import latest_run
from livingreview.search.replay import ReplayTransport

pytestmark = pytest.mark.workflow

BASELINE = "2021-10-31"


class LoopbackEutils:
    """A stand-in for NCBI on 127.0.0.1 serving recorded answers; can stall the n-th efetch."""

    def __init__(self, replay_dir: Path, stall_efetch: int | None = None):
        self.transport = ReplayTransport(replay_dir)
        self.stall_efetch = stall_efetch
        self.efetch_seen = 0
        self.stalled = threading.Event()  # set when a request is being held
        self.release = threading.Event()  # set to let held requests finish
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("ascii")
                params = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
                utility = self.path.rstrip("/").rsplit("/", 1)[-1]
                if utility == "efetch.fcgi":
                    with server.lock:
                        server.efetch_seen += 1
                        hold = (
                            server.stall_efetch is not None
                            and server.efetch_seen >= server.stall_efetch
                        )
                    if hold:
                        server.stalled.set()
                        server.release.wait(120)
                try:
                    answer = server.transport.send("http://x/" + utility, params, 5)
                    status = 200
                except Exception as exc:  # an unrecorded request: a client error, as NCBI would say
                    answer, status = str(exc).encode(), 400
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def go_live(project: Path, base_url: str) -> None:
    """Switch the copy's config to live searches against ``base_url`` (short retries)."""
    config_path = project / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["search"]["mode"] = "live"
    config["entrez"].update(
        email="drills@example.org",
        base_url=base_url,
        timeout_seconds=10,
        max_tries=2,
        backoff_seconds=0,
    )
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))


def kill_run(process, project: Path) -> None:
    """SIGKILL the whole run (its process group), then anything it left working in the copy."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    for _ in range(50):
        strays = [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _works_in(p, project)
        ]
        if not strays:
            break
        for pid in strays:  # only processes of this drill's copy, started by this test
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    wait_until_lock_released(project)


def wait_until_lock_released(project: Path, seconds: float = 30.0) -> None:
    """A killed process holds the run's flock until the kernel has closed its files."""
    lock = project / ".snakemake" / "scheduled-update.lock"
    if not lock.exists():
        return
    deadline = time.monotonic() + seconds
    with open(lock, "a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(handle, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise AssertionError("the killed run still holds the scheduler lock") from None
                time.sleep(0.1)


def _works_in(proc: Path, project: Path) -> bool:
    try:
        return Path(os.readlink(proc / "cwd")).is_relative_to(project)
    except OSError:
        return False


def snapshot_tmp_dirs(project: Path) -> list[Path]:
    return sorted((project / "results" / "search" / "pubmed").glob(".tmp-*"))


def leftover_temporaries(project: Path) -> list[Path]:
    return [
        p
        for p in (project / "results").rglob(".*")
        if p.name.startswith(".tmp-") or p.name.endswith(".tmp")
    ]


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(tmp_path / "project")


def test_killed_mid_fetch_next_run_completes_and_nothing_partial_survives(project):
    """SIGKILL while the update snapshot is half built (its esearch answers written, efetch held)."""
    server = LoopbackEutils(project / "resources" / "search" / "pubmed", stall_efetch=2)
    try:
        go_live(project, server.base_url)
        human_before = human_files(project)
        run = start_scheduled_update(project, "--run-date", RUN_DATE)
        assert server.stalled.wait(120), (
            run.communicate()[0] if run.poll() is not None else "no efetch"
        )
        baseline = project / "results" / "search" / "pubmed" / BASELINE
        baseline_sums = checksums(baseline)
        assert (
            "provenance.json" in baseline_sums
        )  # the baseline snapshot was complete before the kill
        assert snapshot_tmp_dirs(project), "the update snapshot should be half built at this point"
        kill_run(run, project)

        assert not (project / "results" / "search" / "pubmed" / RUN_DATE).exists()
        assert (project / ".snakemake" / "locks").is_dir() and any(
            (project / ".snakemake" / "locks").iterdir()
        )

        server.stall_efetch = None
        server.release.set()
        result = scheduled_update(project, "--run-date", RUN_DATE)
        assert result.returncode == 0, result.stdout + result.stderr
        # the killed run's Snakemake lock was cleared (with --unlock) before the run, which
        # would otherwise have stopped at once ("Directory cannot be locked")
        locks = project / ".snakemake" / "locks"
        assert not locks.exists() or not any(locks.iterdir())
        assert (project / "results" / "search" / "pubmed" / RUN_DATE / "provenance.json").exists()
        assert (project / "results" / "runs" / "by-date" / RUN_DATE / "summary.json").exists()
        entry = latest_run(project / "results" / "runs")
        assert entry.status == "succeeded" and entry.trigger == "scheduled"
        assert leftover_temporaries(project) == []
        assert checksums(baseline) == baseline_sums
        assert human_files(project) == human_before
    finally:
        server.stop()


def test_ncbi_unreachable_fails_with_exit_4_and_keeps_previous_results(project):
    server = LoopbackEutils(project / "resources" / "search" / "pubmed")
    go_live(project, server.base_url)
    try:
        first = scheduled_update(project, "--run-date", RUN_DATE)
        assert first.returncode == 0, first.stdout + first.stderr
    finally:
        server.stop()  # from now on nothing listens on that port: connection refused
    snapshots_before = checksums(project / "results" / "search" / "pubmed")
    results_before = checksums(project / "results", skip=("runs/",))
    human_before = human_files(project)

    result = scheduled_update(project, "--run-date", "2026-11-30")

    assert result.returncode == 4, result.stdout + result.stderr
    assert "still failing after 2 attempts" in result.stdout
    assert "NCBI/network failure" in result.stderr
    assert checksums(project / "results" / "search" / "pubmed") == snapshots_before
    assert not (project / "results" / "search" / "pubmed" / "2026-11-30").exists()
    assert leftover_temporaries(project) == []
    assert human_files(project) == human_before
    # every earlier result, byte for byte; the run's own entry says it failed and why
    assert checksums(project / "results", skip=("runs/",)) == results_before
    entry = latest_run(project / "results" / "runs")
    assert (entry.status, entry.run_date) == ("failed", "2026-11-30")
    assert "still failing after 2 attempts" in entry.error


def test_two_starts_at_once_one_runs_the_other_exits_75(project):
    server = LoopbackEutils(project / "resources" / "search" / "pubmed", stall_efetch=1)
    try:
        go_live(project, server.base_url)
        # One core: while the first run's search is held, it cannot run any other job, so
        # whatever changes under results/ from here on would be the second start's doing.
        first = start_scheduled_update(project, "--run-date", RUN_DATE, "--cores", "1")
        assert server.stalled.wait(120)
        logs_before = sorted((project / "logs" / "scheduled").iterdir())
        results_before = checksums(project / "results")

        second = scheduled_update(project, "--run-date", RUN_DATE, timeout=60)

        assert second.returncode == 75, second.stdout + second.stderr
        assert sorted((project / "logs" / "scheduled").iterdir()) == logs_before
        assert checksums(project / "results") == results_before
        server.release.set()
        output, _ = first.communicate(timeout=300)
        assert first.returncode == 0, output
    finally:
        if first.poll() is None:
            kill_run(first, project)
        server.stop()


def test_invalid_decision_file_stops_the_run_and_overwrites_nothing(completed_copy):  # noqa: F811 (pytest fixture)
    project = completed_copy
    status = (project / "results" / "screening" / "status.tsv").read_text().splitlines()
    publication = status[1].split("\t")[0]
    sheet = project / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
    sheet.parent.mkdir(parents=True, exist_ok=True)
    sheet.write_text(
        f"record_id\tdecision\treason\tnote\tdecided_on\n{publication}\tperhaps\t\t\t2026-11-20\n"
    )
    results_before = checksums(project / "results", skip=("runs/",))
    human_before = human_files(project)

    result = scheduled_update(project, "--run-date", RUN_DATE)

    assert result.returncode == 3, result.stdout + result.stderr
    entry = latest_run(project / "results" / "runs")
    assert entry.status == "failed" and "reviewer-1.tsv, line 2, field 'decision'" in entry.error
    assert entry.error.removeprefix("Error: ") in result.stderr.strip().splitlines()[-1]
    assert "reviewer-1.tsv, line 2, field 'decision'" in result.stdout
    assert "(found 'perhaps')" in result.stdout
    assert "invalid human input or config" in result.stderr
    assert human_files(project) == human_before
    after = checksums(project / "results", skip=("runs/",))
    assert [p for p in after if p in results_before and after[p] != results_before[p]] == []
    assert [p for p in after if p not in results_before] == []


def test_invalid_decision_file_keeps_every_previous_result(completed_copy):  # noqa: F811 (pytest fixture)
    project = completed_copy
    publication = (
        (project / "results" / "screening" / "status.tsv")
        .read_text()
        .splitlines()[1]
        .split("\t")[0]
    )
    sheet = project / "resources" / "screening" / "title_abstract" / "reviewer-1.tsv"
    sheet.parent.mkdir(parents=True, exist_ok=True)
    sheet.write_text(
        f"record_id\tdecision\treason\tnote\tdecided_on\n{publication}\tperhaps\t\t\t2026-11-20\n"
    )
    before = checksums(project / "results", skip=("runs/",))
    assert scheduled_update(project, "--run-date", RUN_DATE).returncode == 3
    assert checksums(project / "results", skip=("runs/",)) == before
