"""SLURM acceptance drill: the workflow through profiles/slurm on a real (single-node) SLURM.

    bin/bootstrap --cluster                                  # the plugin, once
    .venv/bin/python benchmarks/slurm_drill.py [--partition P] [--account A] [--keep-cluster]

Uses a running SLURM when ``sinfo`` answers (its default partition unless --partition; the
project folder must then be visible on the compute nodes, since the drill works in a
temporary folder inside it). Otherwise, as root on a machine with Debian's ``slurm-wlm`` and
``munge`` packages and no /etc/slurm/slurm.conf, it starts a single-node cluster without job
accounting (munged, slurmctld, slurmd; the node's CPUs and memory from ``slurmd -C``), and
stops it and removes the configuration it wrote at the end (unless --keep-cluster). Where
neither is possible it prints ``skipped: <reason>`` and exits 0.

In temporary copies of the project (default replay config, run date 2026-11-23):

1. a local run (profiles/default), the reference;
2. a full run through a copy of profiles/slurm (partition and account set for this cluster),
   timed; every output must equal the local run's byte for byte, timestamps aside (search
   provenance and receipts, run records: compared with their ISO timestamps masked);
3. no-change runs, timed (median): nothing submitted, every result but the run record kept;
4. an invalid verdict in resources/dedup/verdicts.tsv: exit 3, no retry, results kept;
5. right after it, the sheet fixed, a pooled result removed (so that a job must be
   submitted) and a partition that does not exist: exit 1 with sbatch's message last;
6. the sheet fixed and the right partition, through a copy of the profile with a user's own
   ``resources: [ncbi_api=3]`` and ``cores: 1``: exit 0, those settings in effect (not
   profiles/default's), outputs equal the local run's again.

Prints each step's exit code and time and a summary (the figures quoted in the README).
Exits 1 when a check fails. Not run in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from project_copy import WORKFLOW_PARTS
from project_copy import copy_project as copy_parts

ROOT = Path(__file__).resolve().parents[1]
PARTS = (*WORKFLOW_PARTS, "bin")
RUN_DATE = "2026-11-23"
VENV = Path(sys.executable).parent.parent
SLURM_CONF = Path("/etc/slurm/slurm.conf")
CONF_MARKER = "# Written by benchmarks/slurm_drill.py for a single-node drill; removed after it."
BAD_VERDICT = (
    "embase:h47cc9b3331226055\tpubmed:27633047\tperhaps\tdrill\t2021-11-29\tnot a verdict\n"
)
ISO_TIME = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?")


class Skip(Exception):
    """The drill cannot run here; the message says why."""


class DrillFailure(Exception):
    """A check failed."""


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def answers(command: list[str]) -> bool:
    try:
        return run(command, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# ----------------------------------------------------------------------------- the cluster


def wait_until(predicate, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise Skip(f"{what} did not come up within {seconds:.0f} s")
        time.sleep(0.5)


def node_line() -> str:
    """``NodeName=... CPUs=... RealMemory=...`` for this machine (from ``slurmd -C``)."""
    first = run(["slurmd", "-C"], timeout=30).stdout.splitlines()[0]
    fields = dict(item.split("=", 1) for item in first.split() if "=" in item)
    memory = max(1000, int(fields.get("RealMemory", "2000")) - 1024)  # leave some to the OS
    keep = ("NodeName", "CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore")
    return " ".join(f"{key}={fields[key]}" for key in keep if key in fields) + (
        f" RealMemory={memory} State=UNKNOWN"
    )


@contextlib.contextmanager
def started_cluster(state: Path, keep: bool) -> Iterator[str]:
    """Start munged (if needed), slurmctld and slurmd; yield the partition; stop them after."""
    missing = [p for p in ("slurmctld", "slurmd", "munged", "sbatch") if not shutil.which(p)]
    if missing:
        raise Skip(
            f"SLURM is not installed ({', '.join(missing)} missing; Debian: "
            "apt-get install slurm-wlm munge) and no running cluster answers sinfo"
        )
    if os.geteuid() != 0:
        raise Skip("starting a single-node SLURM needs root (or start one and rerun)")
    if SLURM_CONF.exists():
        raise Skip(
            f"{SLURM_CONF} exists but sinfo does not answer: start that cluster (or move the "
            "file away to let the drill start its own) and rerun"
        )
    host = socket.gethostname().split(".")[0]
    state.mkdir(parents=True)
    for folder in ("state", "spool", "log"):
        (state / folder).mkdir()
    SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
    SLURM_CONF.write_text(
        f"""{CONF_MARKER}
ClusterName=drill
SlurmctldHost={host}
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={state}/state
SlurmdSpoolDir={state}/spool
SlurmctldPidFile={state}/slurmctld.pid
SlurmdPidFile={state}/slurmd.pid
SlurmctldLogFile={state}/log/slurmctld.log
SlurmdLogFile={state}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
{node_line()}
PartitionName=drill Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""
    )
    started: list[Path] = []
    munge_pid = Path("/run/munge/munged.pid")
    try:
        if not answers(["munge", "-n"]):
            key = Path("/etc/munge/munge.key")
            if not key.exists():
                run(["mungekey", "--create"], check=True)
                shutil.chown(key, "munge", "munge")
            Path("/run/munge").mkdir(parents=True, exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            run(["runuser", "-u", "munge", "--", "munged"], check=True)
            started.append(munge_pid)
            wait_until(lambda: answers(["munge", "-n"]), "munged")
        run(["slurmctld"], check=True)
        started.append(state / "slurmctld.pid")
        run(["slurmd"], check=True)
        started.append(state / "slurmd.pid")
        wait_until(
            lambda: "idle" in run(["sinfo", "-h", "-o", "%T"], timeout=20).stdout,
            "the single-node SLURM",
        )
        print(f"started a single-node SLURM on {host} (no job accounting), partition 'drill'")
        yield "drill"
    finally:
        if keep:
            print(
                f"left SLURM running (--keep-cluster): stop it with kill $(cat {state}/slurmd.pid) "
                f"$(cat {state}/slurmctld.pid), then remove {SLURM_CONF}"
            )
        else:
            for pid_file in reversed(started):
                with contextlib.suppress(OSError, ValueError):
                    os.kill(int(pid_file.read_text().split()[0]), 15)
            time.sleep(1)
            if SLURM_CONF.exists() and SLURM_CONF.read_text().startswith(CONF_MARKER):
                SLURM_CONF.unlink()
            print("stopped the drill's SLURM daemons and removed its slurm.conf")


@contextlib.contextmanager
def cluster(partition: str | None, state: Path, keep: bool) -> Iterator[str]:
    if answers(["sinfo", "-h"]):
        if partition is None:
            names = run(["sinfo", "-h", "-o", "%P"], timeout=20).stdout.split()
            defaults = [name.rstrip("*") for name in names if name.endswith("*")]
            if not defaults:
                raise Skip("the running SLURM has no default partition: pass --partition")
            partition = defaults[0]
        print(f"using the running SLURM, partition '{partition}'")
        yield partition
        return
    with started_cluster(state, keep) as own:
        yield partition or own


# ----------------------------------------------------------------------------- the project


def copy_project(destination: Path) -> Path:
    return copy_parts(destination, PARTS)


def drill_profile(
    project: Path, name: str, partition: str, account: str | None, user_edits: bool = False
) -> str:
    """profiles/<name>: profiles/slurm with this cluster's partition (and account); with
    ``user_edits``, also a user's own settings (ncbi_api=3, cores: 1) that must take effect."""
    text = (project / "profiles" / "slurm" / "config.yaml").read_text()
    if user_edits:
        text = text.replace("\n  - ncbi_api=1\n", "\n  - ncbi_api=3\n") + "cores: 1\n"
    text = re.sub(r'slurm_partition="[^"]*"', f'slurm_partition="{partition}"', text)
    if account:
        text = re.sub(r'slurm_account="[^"]*"', f'slurm_account="{account}"', text)
    else:
        text = re.sub(r'\n  - slurm_account="[^"]*"', "", text)
    (project / "profiles" / name).mkdir()
    (project / "profiles" / name / "config.yaml").write_text(text)
    return f"profiles/{name}"


def scheduled_update(project: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    env = {
        **os.environ,
        "LIVINGREVIEW_VENV": str(VENV),
        "PYTHONPATH": str(project / "src"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("SLURM_JOB_ID", None)
    started = time.perf_counter()
    result = subprocess.run(
        [str(project / "bin" / "scheduled-update"), "--run-date", RUN_DATE, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    return result, time.perf_counter() - started


def files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def compare_results(reference: Path, other: Path) -> tuple[list[str], list[str]]:
    """(files that differ, files that differ only in ISO timestamps) between two results/."""
    ours, theirs = files(reference / "results"), files(other / "results")
    differ, timestamps = [], []
    for name in sorted(ours.keys() | theirs.keys()):
        a, b = ours.get(name), theirs.get(name)
        if a == b:
            continue
        if a is None or b is None:
            differ.append(f"{name} ({'missing' if b is None else 'extra'})")
        elif name.endswith("manifest.json"):
            continue  # below, once the timestamp-only files are known
        elif ISO_TIME.sub(b"T", a) == ISO_TIME.sub(b"T", b):
            timestamps.append(name)
        else:
            differ.append(name)
    for name in sorted(ours.keys() & theirs.keys()):
        if name.endswith("manifest.json") and ours[name] != theirs[name]:
            a, b = (json.loads(side[name]) for side in (ours, theirs))
            for manifest in (a, b):
                manifest.pop("generated_at", None)
                for path in timestamps:  # their checksums differ with their timestamps
                    manifest["outputs"].pop(f"results/{path}", None)
            (timestamps if a == b else differ).append(name)
    return differ, timestamps


def check(condition: bool, message: str, result: subprocess.CompletedProcess | None = None):
    if not condition:
        output = "" if result is None else "\n" + (result.stdout + result.stderr)[-6000:]
        raise DrillFailure(message + output)
    print(f"  ok: {message}")


def last_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else ""


def drill(args: argparse.Namespace, folder: Path) -> dict[str, float | int]:
    figures: dict[str, float | int] = {}
    with cluster(args.partition, folder / "slurm", args.keep_cluster) as partition:
        local = copy_project(folder / "local")
        result, seconds = scheduled_update(local)
        check(result.returncode == 0, f"local run: exit 0 ({seconds:.1f} s)", result)
        figures["local_full_s"] = seconds
        result, seconds = scheduled_update(local)
        check(result.returncode == 0, f"local no-change run: exit 0 ({seconds:.1f} s)", result)
        figures["local_noop_s"] = seconds

        project = copy_project(folder / "slurm-run")
        profile = drill_profile(project, "drill", partition, args.account)
        bad = drill_profile(project, "drill-bad-partition", "drill-no-such-partition", args.account)

        result, seconds = scheduled_update(project, "--profile", profile)
        check(result.returncode == 0, f"full SLURM run: exit 0 ({seconds:.1f} s)", result)
        figures["slurm_full_s"] = seconds
        submitted = result.stdout.count("has been submitted with SLURM jobid")
        check(submitted > 0, f"full SLURM run: {submitted} jobs submitted with sbatch", result)
        differ, timestamps = compare_results(local, project)
        check(
            not differ,
            f"every output equals the local run's byte for byte ({len(timestamps)} files "
            "differ in their timestamps only: " + ", ".join(timestamps) + ")"
            if not differ
            else "outputs differ from the local run: " + ", ".join(differ),
        )

        before = files(project / "results")
        noop_times = []
        for _ in range(args.repeats):
            result, seconds = scheduled_update(project, "--profile", profile)
            check(result.returncode == 0, f"no-change run: exit 0 ({seconds:.1f} s)", result)
            check("has been submitted" not in result.stdout, "no-change run submits nothing")
            noop_times.append(seconds)
        after = files(project / "results")
        changed = [name for name in before if after.get(name) != before[name]]
        check(
            all(name.startswith(f"runs/{RUN_DATE}/") for name in changed),
            "no-change runs rewrite only that run's record",
        )
        figures["slurm_noop_median_s"] = statistics.median(noop_times)

        verdicts = project / "resources" / "dedup" / "verdicts.tsv"
        original = verdicts.read_bytes()
        verdicts.write_bytes(original + BAD_VERDICT.encode())
        before = files(project / "results")
        result, seconds = scheduled_update(project, "--profile", profile)
        check(result.returncode == 3, f"invalid verdict: exit 3 ({seconds:.1f} s)", result)
        check("Trying to restart job" not in result.stdout, "the invalid sheet is not retried")
        check(files(project / "results") == before, "the invalid sheet leaves every result")
        figures["invalid_sheet_exit"], figures["invalid_sheet_s"] = result.returncode, seconds

        # Fixed; and a job to submit: a pooled result removed by hand (human sheets are read
        # by content, so the fixed sheet alone reruns nothing).
        verdicts.write_bytes(original)
        (project / "results" / "synthesis" / "meta_analysis.tsv").unlink()
        result, seconds = scheduled_update(project, "--profile", bad)
        check(
            result.returncode == 1,
            f"right after it, a partition that does not exist: exit 1 ({seconds:.1f} s)",
            result,
        )
        check(
            "invalid partition" in last_line(result).lower(),
            f"the last line is sbatch's message: {last_line(result)}",
            result,
        )
        figures["bad_partition_exit"], figures["bad_partition_s"] = result.returncode, seconds

        # ... through a copy of the profile with a user's edits, which must win over
        # profiles/default (the sbatch call shows the cores a job gets; --verbose prints it)
        mine = drill_profile(project, "drill-mine", partition, args.account, user_edits=True)
        result, seconds = scheduled_update(project, "--profile", mine, "--verbose")
        check(
            result.returncode == 0,
            f"fixed sheet, right partition: exit 0 ({seconds:.1f} s)",
            result,
        )
        check(
            'ncbi_api=Resource("ncbi_api", 3)' in result.stdout
            and re.search(r"sbatch call: .* --cores '?1'? ", result.stdout) is not None,
            "the profile copy's own settings take effect (ncbi_api=3, jobs get --cores 1)",
            result,
        )
        differ, _ = compare_results(local, project)
        check(not differ, "outputs equal the local run's again: " + ", ".join(differ))
        figures["recovery_s"] = seconds
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partition", help="partition of a running cluster (default: its default)")
    parser.add_argument("--account", help="SLURM account, if the cluster needs one")
    parser.add_argument("--repeats", type=int, default=3, help="no-change runs (default 3)")
    parser.add_argument("--keep-cluster", action="store_true", help="leave a started SLURM up")
    args = parser.parse_args(argv)
    if not (VENV / "bin" / "snakemake").exists():
        print(f"skipped: {VENV}/bin/snakemake not found (run bin/bootstrap)")
        return 0
    if not any(VENV.glob("lib/python3*/site-packages/snakemake_executor_plugin_slurm")):
        print("skipped: the SLURM executor plugin is not installed (run bin/bootstrap --cluster)")
        return 0
    # inside the project: on a real cluster the compute nodes see it (shared file system)
    (ROOT / ".snakemake").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="slurm-drill-", dir=ROOT / ".snakemake"))
    load_before = os.getloadavg()[0]
    try:
        figures = drill(args, folder)
    except Skip as reason:
        print(f"skipped: {reason}")
        return 0
    except DrillFailure as failure:
        print(f"FAILED: {failure}")
        return 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"\nSLURM drill passed ({os.cpu_count()} CPUs, load average {load_before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after, Python {sys.version.split()[0]}): "
        f"SLURM full run {figures['slurm_full_s']:.0f} s (local {figures['local_full_s']:.0f} s); "
        f"no-change run {figures['slurm_noop_median_s']:.1f} s, median of {args.repeats} "
        f"(local {figures['local_noop_s']:.1f} s); invalid sheet exit {figures['invalid_sheet_exit']} "
        f"({figures['invalid_sheet_s']:.0f} s); bad partition right after it exit "
        f"{figures['bad_partition_exit']} ({figures['bad_partition_s']:.0f} s); "
        f"fixed, partial rerun {figures['recovery_s']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
