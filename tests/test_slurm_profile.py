"""The cluster side without a cluster: the SLURM profile's contents, the local rules, and how
bin/scheduled-update builds a cluster run and picks its exit code from replayed output.

The real thing (a single-node SLURM, a full run, the no-op, the exit codes) is
benchmarks/slurm_drill.py, which needs SLURM installed and is not part of the test suite.
The replayed outputs in tests/fixtures/scheduled/ are what Snakemake 9.27.1 with
snakemake-executor-plugin-slurm 2.8.0 printed on a single-node SLURM 22.05 (see the README
there); the fake snakemake below prints them, as the real one did, so that the real
bin/scheduled-update classifies them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, copy_project
from test_scheduled import RUN_DATE, make_project

from livingreview.runs.scheduler import EXIT_FAILURE, EXIT_INPUT, SUBMISSION_FAILED, classify_run

FIXTURES = ROOT / "tests" / "fixtures" / "scheduled"
SLURM_PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"
DEFAULT_PROFILE = ROOT / "profiles" / "default" / "config.yaml"
BAD_PARTITION = (
    "sbatch: error: invalid partition specified: nope; "
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
    with SnakemakeApi(OutputSettings()) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(config={"run_date": RUN_DATE}),
            snakefile=project / "Snakefile",
            workdir=project,
        )
        workflow = workflow_api._workflow
        yield {rule.name: rule for rule in workflow.rules}, set(workflow._localrules)


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


def test_a_stale_marker_printed_again_is_not_this_runs_failure():
    """The failure a cluster user met, replayed: an earlier run failed on an invalid
    verdicts sheet (exit 3); the next run, the sheet fixed, could not submit a job (bad
    partition), and Snakemake printed the job's old log, marker included."""
    text = (FIXTURES / "slurm_bad_partition_after_invalid_sheet.log").read_text()
    assert "LIVINGREVIEW-ERROR ValidationError exit_code=3" in text  # the stale marker
    failure = classify_run(text, run_id="2026-11-23T204431Z-17190")
    assert (failure.code, failure.reason, failure.detail) == (
        EXIT_FAILURE,
        SUBMISSION_FAILED,
        BAD_PARTITION,
    )


def test_this_runs_marker_still_decides():
    text = (FIXTURES / "invalid_verdict.log").read_text().replace("@RUN_ID@", "this-run")
    assert classify_run(text, run_id="this-run").code == EXIT_INPUT
    assert classify_run(text, run_id="another-run").code == EXIT_FAILURE


def test_an_invalid_account_is_a_submission_failure_with_the_plugins_message():
    failure = classify_run((FIXTURES / "slurm_invalid_account.log").read_text(), run_id="x")
    assert failure.code == EXIT_FAILURE and failure.reason == SUBMISSION_FAILED
    assert failure.detail == (
        "The given account my_account appears to be invalid. Available accounts: real_account"
    )


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


def test_submission_failure_after_an_invalid_sheet_exits_1_with_the_schedulers_message(
    fake_cluster,
):
    result, _ = run_with_fake(
        fake_cluster,
        "--profile",
        "profiles/slurm",
        output="slurm_bad_partition_after_invalid_sheet.log",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert BAD_PARTITION in last and last.endswith("exit 1"), last


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
