"""The cluster side without a cluster: the SLURM profile's contents, the local rules, how
bin/scheduled-update builds a cluster run, and how a job the cluster refused ends the run.

The real thing (a single-node SLURM, a full run, the no-op, the exit codes) is
benchmarks/slurm_drill.py, which needs SLURM installed and is not part of the test suite.
A refused submission is checked with real Snakemake runs through a minimal cluster executor
(tests/executors/snakemake_executor_plugin_testcluster), which submits with whatever
``sbatch`` is on PATH and reports back through the executor interface as the SLURM plugin
does; a stand-in ``sbatch`` refuses the job with sbatch's own words, or accepts it (and the
job then fails on the cluster). The exit code must come from the run's entry, which the
project's logger plugin fills from Snakemake's structured events, never from message text.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, copy_finished_run, copy_project
from run_support import ending_of
from test_scheduled import RUN_DATE, make_project, scheduler_env

from livingreview.errors import ValidationError
from livingreview.logs import error_marker
from livingreview.runs.registry import SUBMISSION_FAILURE, latest_run, new_run_id, read_run
from livingreview.runs.scheduler import (
    EXIT_FAILURE,
    EXIT_INPUT,
    SUBMISSION_FAILED,
    classify_run,
    classify_scheduled_run,
)

FIXTURES = ROOT / "tests" / "fixtures" / "scheduled"
SLURM_PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"
DEFAULT_PROFILE = ROOT / "profiles" / "default" / "config.yaml"
EXECUTORS = ROOT / "tests" / "executors"
#: What sbatch says when the partition does not exist (SLURM 22.05).
SBATCH_REFUSAL = (
    "sbatch: error: invalid partition specified: nope\n"
    "sbatch: error: Batch job submission failed: Invalid partition name specified"
)


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


# ----------------------------------------------------------------------------- the profiles


def test_slurm_profile_repeats_what_it_needs_from_the_workflow_profile():
    """The SLURM profile is used alone (--workflow-profile none), so it must not lose the
    ncbi_api limit or the rerun and logging behaviour profiles/default sets."""
    slurm, default = load(SLURM_PROFILE), load(DEFAULT_PROFILE)
    for key, value in default.items():
        if key == "cores":  # local cores; on a cluster: jobs and local-cores
            continue
        assert key in slurm, f"profiles/slurm lacks '{key}' (set in profiles/default)"
        assert slurm[key] == value, key
    assert slurm["executor"] == "slurm"
    assert "cores" not in slurm  # jobs get --cores from their allocation
    assert {"jobs", "local-cores"} <= slurm.keys()


def test_no_profile_retries_failures_and_node_failures_are_requeued_by_slurm():
    """Snakemake's `retries` repeats every failure, an invalid sheet included; only a job
    lost to a node failure is worth repeating, which sbatch --requeue does."""
    slurm, default = load(SLURM_PROFILE), load(DEFAULT_PROFILE)
    assert "retries" not in slurm and "retries" not in default
    assert slurm["slurm-requeue"] is True


def test_status_checks_are_tuned_and_squeue_is_offered_for_clusters_without_accounting():
    slurm = load(SLURM_PROFILE)
    # the plugin's default (40 s) costs 40 s per step and at the end of every run
    assert 1 <= slurm["slurm-init-seconds-before-status-checks"] <= 10
    text = SLURM_PROFILE.read_text()
    assert "\n# slurm-status-command: squeue\n" in text
    assert "without job accounting" in text


def test_both_profiles_say_what_wins():
    for path in (SLURM_PROFILE, DEFAULT_PROFILE):
        assert "--workflow-profile none" in path.read_text(), path


def test_install_line_names_the_projects_venv_and_a_tested_plugin_version():
    pins = (ROOT / "requirements-cluster.txt").read_text()
    assert "\nsnakemake-executor-plugin-slurm==2.8.0\n" in pins
    assert "requirements-cluster.txt" in (ROOT / "bin" / "bootstrap").read_text()
    assert "slurm" not in (ROOT / "requirements.txt").read_text()  # laptops and CI go without
    for path in (SLURM_PROFILE, ROOT / "README.md", ROOT / "docs" / "scheduling.md"):
        text = path.read_text()
        assert "bin/bootstrap --cluster" in text, path
        assert "\npip install snakemake-executor-plugin-slurm" not in text, path
        assert "# pip install" not in text and "(`pip install" not in text, path


# ----------------------------------------------------------------------------- local rules


@pytest.fixture(scope="module")
def parsed_workflow(tmp_path_factory):
    """The workflow's rules as Snakemake parses them (in a copy: parsing creates .snakemake)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    project = copy_project(tmp_path_factory.mktemp("parsed") / "project")
    # Parsing in this process makes it the "planner" of a run (runs.smk puts its pid and a
    # run id into os.environ for the jobs it starts): put the environment back afterwards, or
    # every snakemake this test worker starts later would take itself for a job of it.
    environment = dict(os.environ)
    with SnakemakeApi(OutputSettings()) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(config={"run_date": RUN_DATE}),
            snakefile=project / "Snakefile",
            workdir=project,
        )
        workflow = workflow_api._workflow
        rules = {rule.name: rule for rule in workflow.rules}, set(workflow._localrules)
    os.environ.clear()
    os.environ.update(environment)
    yield rules


def test_quick_rules_run_where_snakemake_runs(parsed_workflow):
    rules, local = parsed_workflow
    checks = {name for name in rules if name.startswith("check_")}
    assert checks >= {"check_dedup_verdicts", "check_screening_sheets", "check_extraction_sheets"}
    quick = {"search_pubmed", "import_export", "screen", "prisma_ledger", "prisma_flowchart"}
    quick |= {"merge_extractions", "crosstabulate", "forest_plots", "whats_new"}
    quick |= {"run_record", "notify_run"}
    assert checks | quick <= local, sorted((checks | quick) - local)
    # what a cluster is for: these two are submitted
    assert {"dedup", "pool_remission"} <= set(rules) - local


def test_no_rule_retries_and_submitted_rules_declare_memory(parsed_workflow):
    rules, local = parsed_workflow
    assert [name for name, rule in rules.items() if rule._restart_times] == []
    for name in set(rules) - local - {"all"}:
        assert "mem_mb" in rules[name].resources, name


# ----------------------------------------------------------------------------- exit codes


def refused_run(tmp_path: Path, invalid_input_too: bool = False) -> str:
    """A run ended as the logger plugin ends one whose job the cluster refused (told by the
    plugin, then onerror, then the handler's close); with ``invalid_input_too``, a job of
    the same run also failed on an invalid sheet (its log holds the run's marker)."""
    run_id = new_run_id("scheduled")
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    if invalid_input_too:
        marker = error_marker(ValidationError("sheet.tsv", "bad"), run_id=run_id)
        (logs / "check.log").write_text(
            "x ERROR livingreview: ValidationError: sheet.tsv, line 2: bad\n" + marker + "\n"
        )
    run = ending_of(tmp_path, run_id, RUN_DATE, logs=logs)
    run.job_not_submitted(
        "dedup", 6, f"SLURM sbatch failed. The error message was '{SBATCH_REFUSAL}'."
    )
    run.failed()
    run.finish(failed=True)
    return run_id


def test_the_entry_of_a_refused_run_decides_submission_failed_with_the_executors_message(
    tmp_path,
):
    run_id = refused_run(tmp_path)
    entry = read_run(run_id, tmp_path / "runs")
    assert entry is not None and entry.failure_kind == SUBMISSION_FAILURE
    assert entry.details["not_submitted"][0]["message"].endswith(
        "Invalid partition name specified'."
    )
    failure = classify_scheduled_run(run_id, "", tmp_path / "logs", tmp_path / "runs")
    assert (failure.code, failure.reason) == (EXIT_FAILURE, SUBMISSION_FAILED)
    assert failure.detail == (
        "job dedup (jobid 6) could not be submitted to the cluster: SLURM sbatch failed. The "
        "error message was 'sbatch: error: invalid partition specified: nope sbatch: error: "
        "Batch job submission failed: Invalid partition name specified'."
    )


def test_text_that_reads_like_a_refusal_decides_nothing(tmp_path):
    """The printed output is no longer read for submission failures: without the entry's
    field, sbatch's words in the output are just text."""
    text = f"Error in rule dedup:\n    message: SLURM sbatch failed. The error message was '{SBATCH_REFUSAL}'.\n"
    assert classify_run(text, run_id="x").reason == "other failure"
    run_id = new_run_id("scheduled")
    failure = classify_scheduled_run(run_id, text, tmp_path / "logs", tmp_path / "runs")
    assert failure.reason != SUBMISSION_FAILED


def test_invalid_input_of_the_same_run_still_wins_over_a_refused_job(tmp_path):
    run_id = refused_run(tmp_path, invalid_input_too=True)
    entry = read_run(run_id, tmp_path / "runs")
    assert entry is not None and entry.failure_kind == ""
    assert entry.error == "Error: sheet.tsv, line 2: bad"
    failure = classify_scheduled_run(run_id, "", tmp_path / "logs", tmp_path / "runs")
    assert (failure.code, failure.detail) == (EXIT_INPUT, "sheet.tsv, line 2: bad")


def test_this_runs_marker_still_decides():
    text = (FIXTURES / "invalid_verdict.log").read_text().replace("@RUN_ID@", "this-run")
    assert classify_run(text, run_id="this-run").code == EXIT_INPUT
    assert classify_run(text, run_id="another-run").code == EXIT_FAILURE


# ----------------------------------------------------------------------------- the script


FAKE_SNAKEMAKE = """#!/usr/bin/env bash
# Stand-in for snakemake: records its arguments, prints a replayed output, exits with it.
# (bin/scheduled-update clears a stale lock with --unlock first: that call just succeeds.)
for arg in "$@"; do [ "$arg" = --unlock ] && exit 0; done
printf '%s\\n' "$@" > "$(dirname "$0")/../args.txt"
[ -n "${FAKE_OUTPUT:-}" ] || exit 0
sed "s/@RUN_ID@/$LIVINGREVIEW_RUN_ID/g" "$FAKE_OUTPUT"
exit 1
"""


@pytest.fixture
def fake_cluster(tmp_path):
    """A project copy, a fake .venv whose snakemake replays an output and which holds the
    plugin's package folder (only its presence is checked), and an sacct that fails like
    SLURM's without job accounting."""
    project = make_project(tmp_path / "project")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "snakemake").write_text(FAKE_SNAKEMAKE)
    (venv / "bin" / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (venv / "lib" / "python3.11" / "site-packages" / "snakemake_executor_plugin_slurm").mkdir(
        parents=True
    )
    sacct = tmp_path / "slurm-bin" / "sacct"
    sacct.parent.mkdir()
    sacct.write_text("#!/bin/sh\necho 'Slurm accounting storage is disabled' >&2\nexit 1\n")
    for program in (venv / "bin" / "snakemake", venv / "bin" / "python", sacct):
        program.chmod(0o755)
    return project, venv


def run_with_fake(
    fake_cluster, *args: str, output: str | None = None, plugin: bool = True
) -> tuple[subprocess.CompletedProcess, list[str]]:
    """bin/scheduled-update with the fake snakemake; returns the result and its arguments."""
    project, venv = fake_cluster
    if not plugin:
        shutil.rmtree(venv / "lib")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SNAKEMAKE_PROFILE", "FAKE_OUTPUT", "LIVINGREVIEW_RUN_ID")
    }
    env.update(
        LIVINGREVIEW_VENV=str(venv),
        PYTHONPATH=str(project / "src"),
        PATH=os.pathsep.join([str(venv.parent / "slurm-bin"), "/usr/bin", "/bin"]),
        PYTHONDONTWRITEBYTECODE="1",
    )
    if output:
        env["FAKE_OUTPUT"] = str(FIXTURES / output)
    result = subprocess.run(
        [str(project / "bin" / "scheduled-update"), "--run-date", RUN_DATE, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    args_file = venv / "args.txt"
    return result, args_file.read_text().splitlines() if args_file.exists() else []


def test_a_cluster_profile_is_used_alone_and_squeue_replaces_a_failing_sacct(fake_cluster):
    result, args = run_with_fake(fake_cluster, "--profile", "profiles/slurm")
    assert result.returncode == 0, result.stdout + result.stderr
    joined = " ".join(args)
    assert "--profile profiles/slurm" in joined
    assert "--workflow-profile none" in joined
    assert "--slurm-status-command squeue" in joined
    assert "is used alone" in result.stderr and "sacct does not answer" in result.stderr


def test_without_a_profile_nothing_is_added(fake_cluster):
    result, args = run_with_fake(fake_cluster)
    assert result.returncode == 0, result.stdout + result.stderr
    assert args and "--workflow-profile" not in args and "--slurm-status-command" not in args


def test_an_explicit_workflow_profile_or_status_command_is_respected(fake_cluster):
    project, _ = fake_cluster
    profile = project / "profiles" / "mine"
    shutil.copytree(project / "profiles" / "slurm", profile)
    with open(profile / "config.yaml", "a") as handle:
        handle.write("slurm-status-command: sacct\n")
    result, args = run_with_fake(
        fake_cluster, f"--profile={profile}", "--workflow-profile", "profiles/default"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert args.count("--workflow-profile") == 1 and "none" not in args
    assert "--slurm-status-command" not in args


def test_an_invalid_sheet_of_this_run_still_exits_3(fake_cluster):
    result, _ = run_with_fake(
        fake_cluster, "--profile", "profiles/slurm", output="invalid_verdict.log"
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "invalid human input or config" in result.stderr.strip().splitlines()[-1]


def test_a_missing_plugin_is_named_with_the_install_command(fake_cluster, tmp_path):
    """Checked before Snakemake starts (not read from Snakemake's message): exit 1, the last
    line naming the install command, and no snakemake started."""
    result, args = run_with_fake(fake_cluster, "--profile", "profiles/slurm", plugin=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert args == []  # snakemake was never started
    last = result.stderr.strip().splitlines()[-1]
    assert "invalid choice: 'slurm'" in last and "bin/bootstrap --cluster" in last, last


# ----------------------------------------------------------------------------- real runs


@pytest.fixture
def cluster_project(default_run, tmp_path) -> Path:
    """A copy of a finished run with bin/, whose last dedup log still holds the marker of an
    earlier run that failed on an invalid sheet (exit 3): Snakemake names that log when the
    job fails again, and it must not decide this run's code."""
    project = copy_finished_run(default_run, tmp_path / "project")
    shutil.copytree(ROOT / "bin", project / "bin")
    log = project / "logs" / "dedup" / "dedup.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as handle:
        handle.write(
            error_marker(ValidationError("sheet.tsv", "old"), run_id=new_run_id("manual")) + "\n"
        )
    return project


def scheduled_run_with(
    project: Path, commands: dict[str, str], *args: str
) -> subprocess.CompletedProcess:
    """bin/scheduled-update with stand-ins for the cluster's commands (name: shell script
    body) first on PATH and the test executors importable; dedup (a rule submitted to the
    cluster) is forced to run."""
    stand_ins = project.parent / "cluster-bin"
    stand_ins.mkdir(exist_ok=True)
    for name, body in commands.items():
        (stand_ins / name).write_text("#!/bin/sh\n" + body)
        (stand_ins / name).chmod(0o755)
    env = scheduler_env(project)
    env["PYTHONPATH"] += os.pathsep + str(EXECUTORS)
    env["PATH"] = os.pathsep.join([str(stand_ins), env["PATH"]])
    return subprocess.run(
        [str(project / "bin" / "scheduled-update"), "--run-date", RUN_DATE]
        + ["--forcerun", "dedup", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def run_on_test_cluster(project: Path, sbatch: str) -> subprocess.CompletedProcess:
    """Through the test cluster executor, ``sbatch`` the stand-in's script body."""
    return scheduled_run_with(
        project, {"sbatch": sbatch}, "--executor", "testcluster", "--jobs", "1"
    )


REFUSING_SBATCH = "".join(f"echo '{line}' >&2\n" for line in SBATCH_REFUSAL.splitlines()) + (
    "exit 1\n"
)


@pytest.mark.workflow
def test_a_job_the_cluster_refuses_ends_the_run_as_submission_failed_with_sbatchs_message(
    cluster_project,
):
    result = run_on_test_cluster(cluster_project, REFUSING_SBATCH)
    assert result.returncode == EXIT_FAILURE, result.stdout + result.stderr
    entry = latest_run(cluster_project / "results" / "runs")
    assert entry is not None and entry.run_id in result.stderr
    assert (entry.status, entry.failure_kind) == ("failed", SUBMISSION_FAILURE)
    [refused] = entry.details["not_submitted"]
    assert refused["rule"] == "dedup" and SBATCH_REFUSAL in refused["message"]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"scheduled-update: FAILED ({SUBMISSION_FAILED}): ")
    assert entry.error.removeprefix("Error: ") in last
    assert " ".join(SBATCH_REFUSAL.split()) in last and last.endswith("; exit 1"), last


@pytest.mark.workflow
def test_a_job_that_fails_on_the_cluster_after_it_was_accepted_is_no_submission_failure(
    cluster_project,
):
    result = run_on_test_cluster(cluster_project, "echo 4242\n")
    assert result.returncode == EXIT_FAILURE, result.stdout + result.stderr
    assert "cluster job '4242' failed" in result.stdout  # the job was submitted, then failed
    entry = latest_run(cluster_project / "results" / "runs")
    assert entry is not None and (entry.status, entry.failure_kind) == ("failed", "")
    last = result.stderr.strip().splitlines()[-1]
    assert SUBMISSION_FAILED not in last and last.endswith("; exit 1"), last


SLURM_PLUGIN_INSTALLED = importlib.util.find_spec("snakemake_executor_plugin_slurm") is not None


@pytest.mark.workflow
@pytest.mark.skipif(
    not SLURM_PLUGIN_INSTALLED, reason="the SLURM executor plugin (bin/bootstrap --cluster)"
)
def test_the_slurm_plugins_refused_submission_is_told_by_the_same_events(cluster_project):
    """The real SLURM executor plugin (2.8.0) with profiles/slurm, SLURM's commands replaced
    by stand-ins (sbatch refuses the partition; the others fail, as on a cluster without
    accounting): the plugin's report carries no cluster job id, so the run's entry says
    submission, and the last line gives the plugin's message with sbatch's words."""
    failing = "exit 1\n"
    commands = {name: failing for name in ("sacct", "sacctmgr", "sinfo", "squeue", "scancel")}
    commands |= {"scontrol": failing, "sshare": failing, "sbatch": REFUSING_SBATCH}
    result = scheduled_run_with(
        cluster_project,
        commands,
        "--profile",
        "profiles/slurm",
        "--default-resources",
        "slurm_partition=nope",
        "mem_mb=1000",
        "runtime=30",
    )
    assert result.returncode == EXIT_FAILURE, result.stdout + result.stderr
    entry = latest_run(cluster_project / "results" / "runs")
    assert entry is not None and entry.failure_kind == SUBMISSION_FAILURE
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"scheduled-update: FAILED ({SUBMISSION_FAILED}): job dedup ")
    assert "SLURM sbatch failed" in last and " ".join(SBATCH_REFUSAL.split()) in last
