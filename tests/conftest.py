"""Shared test helpers: the project root and a disposable copy of the workflow."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
WORKFLOW_PARTS = ("Snakefile", "config.yaml", "workflow", "src", "resources", "profiles")


def copy_project(destination: Path) -> Path:
    """Copy what a workflow run needs into ``destination`` (never run in the real tree).

    The package's compiled modules come along (``src/**/__pycache__``, made when the tests
    imported it): Python checks each against its source's size and time, which the copy keeps,
    so every job of the copy's runs loads them instead of compiling the package again (with
    PYTHONDONTWRITEBYTECODE set, each job would compile every module it imports). A module a
    test edits no longer matches, and is compiled from its new source."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in WORKFLOW_PARTS:
        source = ROOT / part
        if source.is_dir():
            ignore = None if part == "src" else shutil.ignore_patterns("__pycache__")
            shutil.copytree(source, destination / part, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, destination / part)
    return destination


def run_snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the workflow in ``workdir`` with the project's Snakemake."""
    command = [str(SNAKEMAKE), "--cores", "2", "--directory", str(workdir), *args]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """Keep the compiled test modules between runs, even where PYTHONDONTWRITEBYTECODE is set
    (container images often set it): pytest rewrites the asserts of every test module when it
    imports it, about 6 s of CPU for this suite in each process (each xdist worker imports all
    of them), unless it finds the result it cached in ``tests/__pycache__`` (ignored by git,
    like the ``src/`` caches that the modules' own imports write at the same time). Only while
    a test module is imported; tests and the processes they start see the setting as given."""
    if not isinstance(collector, pytest.Module) or not sys.dont_write_bytecode:
        return (yield)
    sys.dont_write_bytecode = False
    try:
        return (yield)
    finally:
        sys.dont_write_bytecode = True


@pytest.fixture(scope="session")
def default_run(tmp_path_factory, worker_id: str) -> Path:
    """One complete run of the default workflow, shared by the read-only workflow tests.

    Under pytest-xdist the workflow runs once for the whole session, by the first worker that
    needs it (the others wait on a lock), and each worker then reads a copy of its own
    (:func:`copy_finished_run`): no two processes ever work in the same directory, as before,
    and the second worker is spared a complete run of its own."""
    if worker_id == "master":
        workdir = copy_project(tmp_path_factory.mktemp("default_run"))
        run_snakemake(workdir)
        return workdir
    shared = tmp_path_factory.getbasetemp().parent  # this session's, common to its workers
    finished = shared / "default_run"
    with open(shared / "default_run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not finished.exists():
            # Built aside and renamed when complete: after a failed run the next worker tries
            # again (and fails with the same message) instead of reading a half-made run.
            building = copy_project(Path(tempfile.mkdtemp(dir=shared, prefix="default_run.")))
            run_snakemake(building)
            building.rename(finished)
    return copy_finished_run(finished, tmp_path_factory.mktemp("default_run") / "project")


def copy_finished_run(finished: Path, destination: Path) -> Path:
    """A private copy of a finished run (the default run, or a scheduled one), timestamps and
    Snakemake's records kept: nothing in it is out of date, so a test that then edits inputs
    reruns only the jobs its edit affects (what a team's next run does), not the whole
    workflow."""
    shutil.copytree(finished, destination, symlinks=True)
    return destination


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """A fresh copy of the project for tests that change inputs."""
    return copy_project(tmp_path / "project")


# The files that run the workflow most, slowest first. Under pytest-xdist (one worker per core,
# whole files each) they are handed out first, so no worker is left alone with a long file at
# the end; without xdist the order changes nothing that a test may depend on.
SLOWEST_FIRST = (
    "test_desk_refresh_browser.py",
    "test_update_cycle.py",
    "test_checkpoint_reruns.py",
    "test_reproduce.py",
    "test_content_reruns.py",
    "test_failure_drills.py",
    "test_scheduled.py",
    "test_desk_browser_extraction.py",
    "test_run_ending.py",
    "test_desk_browser.py",
    "test_imports_workflow.py",
    "test_screening_workflow.py",
    "test_extraction_workflow.py",
    "test_workflow.py",
    # then the slowest of the fast loop's (measured with -n 0, each 2-7 s)
    "test_meta_metafor.py",
    "test_desk_refresh.py",
    "test_desk_extraction_http.py",
    "test_forest.py",
    "test_desk_security.py",
    "test_pool_cli.py",
    "test_desk_http.py",
    "test_slurm_profile.py",
    "test_prisma2020.py",
    "test_entrez_loopback.py",
    "test_dependencies.py",
    "test_desk_project.py",
    "test_dedup_benchmark.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the slowest files first (stable otherwise): see SLOWEST_FIRST."""
    rank = {name: position for position, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
