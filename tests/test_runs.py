"""The run record (summary, manifest, notification) and the scheduler's helpers, without Snakemake."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from livingreview.dedup.tables import RUN_COLUMNS
from livingreview.errors import ConfigError, ReviewError
from livingreview.io import sha256_file, write_tsv
from livingreview.logs import error_marker
from livingreview.runs.archive import archive_inputs, restore_inputs
from livingreview.runs.estimates import compare_estimates
from livingreview.runs.inputs import RunInputs, archived_studies_before
from livingreview.runs.manifest import (
    REDACTED,
    code_files,
    input_files,
    private_words,
    public_config,
)
from livingreview.runs.notify import notify, notify_argv
from livingreview.runs.planning import write_planning_log
from livingreview.runs.record import build_run_record, write_run_record
from livingreview.runs.register import register_failure
from livingreview.runs.registry import new_run_id, trigger_of
from livingreview.runs.scheduler import (
    EXIT_FAILURE,
    EXIT_INPUT,
    EXIT_NETWORK,
    classify_failure,
    classify_scheduled_run,
    clean_stale_temporaries,
)
from livingreview.runs.summary import render_summary
from livingreview.todo import TODO_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.timezone.utc)


# ----------------------------------------------------------------------------- exit codes


def test_markers_from_job_output_decide_the_exit_code():
    assert classify_failure(
        "x\nERROR livingreview: LIVINGREVIEW-ERROR NetworkError exit_code=4\n"
    ) == (EXIT_NETWORK, "NetworkError")
    assert classify_failure("LIVINGREVIEW-ERROR ValidationError exit_code=3") == (
        EXIT_INPUT,
        "ValidationError",
    )
    assert classify_failure("LIVINGREVIEW-ERROR KeyError exit_code=1") == (EXIT_FAILURE, "KeyError")


def test_invalid_input_wins_over_network_when_both_occur():
    text = "LIVINGREVIEW-ERROR NetworkError exit_code=4\nLIVINGREVIEW-ERROR InputFileError exit_code=3\n"
    assert classify_failure(text)[0] == EXIT_INPUT


def test_snakemakes_own_messages_decide_nothing():
    """Only the project's own markers count: Snakemake's wording is not read."""
    parse_error = 'ConfigError in file "/x/workflow/rules/common.smk", line 13:\nconfig: ...'
    assert classify_failure(parse_error)[0] == EXIT_FAILURE
    assert classify_failure("LockException:\nError: Directory cannot be locked.")[0] == EXIT_FAILURE
    assert classify_failure("")[0] == EXIT_FAILURE


def test_a_scheduled_run_is_classified_by_its_own_markers_and_entry(tmp_path):
    """The project's job logs (and the log of an error found while planning) with a marker of
    this run decide the code; the entry's error line is the message; another run's marker in
    the same folder does not count."""
    run_id = new_run_id("scheduled")
    other = new_run_id("manual", now=0)
    logs = tmp_path / "logs"
    write_planning_log(ConfigError("run_date", "not a date", "YYYY-MM-DD"), run_id, logs / "p")
    (logs / "old.log").write_text(f"LIVINGREVIEW-ERROR NetworkError exit_code=4 run={other}\n")
    register_failure(run_id, "2026-11-23", "Error: config: key 'run_date': ...", tmp_path / "r")
    failure = classify_scheduled_run(run_id, "", logs, tmp_path / "r")
    assert (failure.code, failure.reason) == (EXIT_INPUT, "ConfigError")
    assert failure.detail == "config: key 'run_date': ..."
    # a marker in the output the run printed (a cluster job's) counts too, this run's only
    printed = f"LIVINGREVIEW-ERROR NetworkError exit_code=4 run={run_id}\n"
    assert classify_scheduled_run(new_run_id("scheduled"), printed, logs).code == EXIT_FAILURE
    assert classify_scheduled_run(run_id, printed, logs).code == EXIT_INPUT


def test_marker_matches_what_the_logging_helper_writes():
    from livingreview.errors import NetworkError

    assert classify_failure(error_marker(NetworkError("down")))[0] == EXIT_NETWORK


def test_uncaught_exception_in_a_script_prints_the_marker(tmp_path):
    script = (
        "from livingreview.logs import setup_logging\n"
        "from livingreview.errors import InputFileError\n"
        f"setup_logging({str(tmp_path / 'job.log')!r})\n"
        "raise InputFileError('sheet.tsv', 'bad cell', line=4, field='decision', value='perhaps')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "LIVINGREVIEW-ERROR InputFileError exit_code=3" in result.stderr
    log_text = (tmp_path / "job.log").read_text()
    assert "sheet.tsv, line 4, field 'decision'" in log_text
    assert classify_failure(log_text)[0] == EXIT_INPUT


def test_command_line_classify(tmp_path):
    run_id = new_run_id("scheduled")
    output = tmp_path / "run.log"
    output.write_text(f"... LIVINGREVIEW-ERROR NetworkError exit_code=4 run={run_id}\n")
    result = subprocess.run(
        [
            *RUNS_CLI,
            "--root",
            str(tmp_path),
            "classify",
            "--run-id",
            run_id,
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["4", "NetworkError"]


RUNS_CLI = [sys.executable, "-m", "livingreview.runs"]


def test_command_line_lists_and_shows_runs(tmp_path):
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*RUNS_CLI, "--root", str(tmp_path), *args], capture_output=True, text=True, timeout=60
        )

    assert cli("latest").returncode == 1
    new_id = cli("new-id", "desk").stdout.strip()
    assert trigger_of(new_id) == "desk"
    first, second = new_run_id("manual", now=0), new_run_id("desk", now=60)
    register_failure(first, "2026-11-23", "Error: x", tmp_path / "results" / "runs")
    register_failure(second, "2026-11-30", "Error: y", tmp_path / "results" / "runs")
    assert json.loads(cli("latest").stdout)["run_id"] == second
    assert json.loads(cli("show", first).stdout)["error"] == "Error: x"
    assert cli("show", "not-a-run").returncode == 2
    rows = cli("list", "--date", "2026-11-23").stdout.splitlines()
    assert rows[0].startswith("run_id\ttrigger\trun_date") and len(rows) == 2
    assert rows[1].split("\t")[:3] == [first, "manual", "2026-11-23"]


# ----------------------------------------------------------------------------- stale temporaries


def test_clean_stale_temporaries_removes_only_leftovers(tmp_path):
    results = tmp_path / "results"
    (results / "records").mkdir(parents=True)
    keep = results / "records" / "unique.tsv"
    keep.write_text("publication_id\n")
    hidden_keep = results / ".keep"
    hidden_keep.write_text("")
    leftover_file = results / "records" / ".unique.tsv.k2j3h4.tmp"
    leftover_file.write_text("half a ta")
    leftover_dir = results / "search" / "pubmed" / ".tmp-2026-11-23-4242"
    (leftover_dir / "raw").mkdir(parents=True)
    (leftover_dir / "raw" / "esearch_cni_aih_001.xml").write_text("<x/>")
    snapshot = results / "search" / "pubmed" / "2021-10-31"
    snapshot.mkdir()
    (snapshot / "records.tsv").write_text("record_id\n")

    removed = clean_stale_temporaries(results)

    assert set(removed) == {leftover_file, leftover_dir}
    assert keep.exists() and hidden_keep.exists() and (snapshot / "records.tsv").exists()
    assert not leftover_file.exists() and not leftover_dir.exists()
    assert clean_stale_temporaries(tmp_path / "absent") == []


def test_an_atomic_write_killed_midway_leaves_the_old_file_and_a_cleanable_leftover(tmp_path):
    target = tmp_path / "results" / "records" / "unique.tsv"
    target.parent.mkdir(parents=True)
    target.write_text("old complete table\n")
    child = (
        "import sys, time\n"
        "from livingreview.io import atomic_open\n"
        f"with atomic_open({str(target)!r}) as handle:\n"
        "    handle.write('new half')\n"
        "    handle.flush()\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "writing"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert target.read_text() == "old complete table\n"
    leftovers = list(target.parent.glob(".unique.tsv.*.tmp"))
    assert len(leftovers) == 1
    assert clean_stale_temporaries(tmp_path / "results") == leftovers
    assert sorted(p.name for p in target.parent.iterdir()) == ["unique.tsv"]


# ----------------------------------------------------------------------------- config and manifest


def test_public_config_drops_secrets_but_keeps_variable_names():
    config = {
        "entrez": {"api_key_env": "NCBI_API_KEY", "email": "a@b.org"},
        "runs": {
            "notify_command": "post https://hooks.example.org/T0/B0/s3cr3t",
            "notify_timeout_seconds": 5,
        },
        "x": {"password": "hunter2", "token": "", "list": [{"secret": "s"}]},
    }
    cleaned = public_config(config)
    assert cleaned["entrez"] == {"api_key_env": "NCBI_API_KEY", "email": "a@b.org"}
    assert cleaned["runs"]["notify_command"] == REDACTED
    assert cleaned["x"]["password"] == REDACTED
    assert cleaned["x"]["token"] == ""
    assert cleaned["x"]["list"] == [{"secret": REDACTED}]
    assert "s3cr3t" not in json.dumps(cleaned) and "hunter2" not in json.dumps(cleaned)
    assert config["x"]["password"] == "hunter2"  # the input is not modified


def test_compare_estimates_lists_each_change():
    before = {
        "outcomes.tsv": [{"grouping": "cni", "group": "tacrolimus", "n": "219", "remission": "130"}]
    }
    after = {
        "outcomes.tsv": [
            {"grouping": "cni", "group": "tacrolimus", "n": "231", "remission": "139"},
            {"grouping": "cni", "group": "cyclosporine", "n": "59", "remission": "35"},
        ],
        "meta_analysis.tsv": [{"analysis": "remission", "subgroup": "", "estimate": "0.6"}],
    }
    assert compare_estimates(before, before) == []
    assert compare_estimates(after, before) == [
        "meta_analysis.tsv: new table",
        "outcomes.tsv: row cni / tacrolimus: n 219 -> 231",
        "outcomes.tsv: row cni / tacrolimus: remission 130 -> 139",
        "outcomes.tsv: row cni / cyclosporine added",
    ]
    assert compare_estimates(before, after)[0] == "meta_analysis.tsv: table no longer produced"


def write_todo(path: Path, tasks) -> None:
    """A stage's todo.tsv (the contract's columns) from (role, person, stage, task, count,
    items_in, act_in) tuples."""
    write_tsv(path, [dict(zip(TODO_COLUMNS, task)) for task in tasks], TODO_COLUMNS)


def _project(tmp_path: Path) -> Path:
    """A small working directory shaped like a finished run."""
    base = tmp_path / "project"
    (base / "resources" / "baseline").mkdir(parents=True)
    (base / "resources" / "baseline" / "arms.tsv").write_text("study_id\tn\npape-2019\t5\n")
    (base / "elsewhere").mkdir()
    (base / "elsewhere" / "export.ris").write_text("TY  - JOUR\nER  - \n")
    (base / "Snakefile").write_text("# toc\n")
    (base / "workflow" / "rules").mkdir(parents=True)
    (base / "workflow" / "rules" / "runs.smk").write_text("# runs\n")
    (base / "src" / "livingreview" / "__pycache__").mkdir(parents=True)
    (base / "src" / "livingreview" / "runs.py").write_text("# code\n")
    (base / "src" / "livingreview" / "__pycache__" / "runs.cpython-311.pyc").write_bytes(b"\0")
    receipts = base / "results" / "search" / "receipts"
    receipts.mkdir(parents=True)
    (receipts / "pubmed-2021-10-31.json").write_text(
        json.dumps({"run_date": "2021-10-31", "kind": "baseline", "files": {}})
    )
    (receipts / "pubmed-2026-11-23.json").write_text(
        json.dumps(
            {
                "run_date": "2026-11-23",
                "kind": "update",
                "mode": "replay",
                "window": {"start": "2021/10/31", "end": "2026/11/23"},
                "pmids_returned": ["1", "2", "3"],
                "pmids_new": ["2", "3"],
                "pmids_already_held": ["1"],
                "request_count": 2,
                "files": {"records.tsv": "ab" * 32, "raw/efetch_001.xml": "cd" * 32},
            }
        )
    )
    records = base / "results" / "records"
    write_tsv(
        records / "unique.tsv", [{"publication_id": f"p{i}"} for i in range(5)], ["publication_id"]
    )
    write_tsv(records / "duplicates.tsv", [{"record_id": "embase:x"}], ["record_id"])
    counts = {
        "previously_retrieved": 1,
        "duplicates_of_earlier_runs": 0,
        "duplicates_within_run": 0,
        "new_publications": 2,
        "duplicates_removed": 1,
    }
    embase = {
        "records_identified": 4,
        "previously_retrieved": 0,
        "duplicates_of_earlier_runs": 3,
        "duplicates_within_run": 0,
        "new_publications": 1,
        "duplicates_removed": 3,
    }
    baseline = {
        "records_identified": 9,
        "previously_retrieved": 0,
        "duplicates_of_earlier_runs": 0,
        "duplicates_within_run": 1,
        "new_publications": 8,
        "duplicates_removed": 1,
    }
    write_tsv(
        records / "runs.tsv",
        [
            {"run": "2021-10-31", "source": "pubmed", **baseline},
            {"run": "2021-10-31", "source": "all", **baseline},
            # an Embase export searched between the two runs belongs to the second
            {"run": "2026-11-20", "source": "embase", **embase},
            {"run": "2026-11-20", "source": "all", **embase},
            {"run": "2026-11-23", "source": "pubmed", "records_identified": 3, **counts},
            {"run": "2026-11-23", "source": "all", "records_identified": 3, **counts},
        ],
        RUN_COLUMNS,
    )
    write_todo(
        records / "todo.tsv",
        [
            (
                "data_manager",
                "",
                "dedup",
                "decide uncertain duplicate pairs",
                1,
                "results/records/maybe.tsv",
                "resources/dedup/verdicts.tsv",
            )
        ],
    )
    screening = base / "results" / "screening"
    write_tsv(
        screening / "status.tsv",
        [
            {"publication_id": "p1", "status": "awaiting_title_abstract"},
            {"publication_id": "p2", "status": "awaiting_full_text"},
            {"publication_id": "p3", "status": "included"},
            {"publication_id": "p4", "status": "included"},
        ],
        ["publication_id", "status"],
    )
    # Both conflicts were settled (p4's by adjudication); the stage's to-do has none left.
    write_tsv(
        screening / "conflicts.tsv",
        [{"publication_id": "p4", "state": "adjudicated"}],
        ["publication_id", "state"],
    )
    queue = "results/screening/queue/{}/{}.tsv"
    sheet = "resources/screening/{}/{}.tsv"
    write_todo(
        screening / "todo.tsv",
        [
            (
                "reviewer",
                "reviewer-1",
                "title_abstract",
                "screen publications",
                1,
                queue.format("title_abstract", "reviewer-1"),
                sheet.format("title_abstract", "reviewer-1"),
            ),
            (
                "reviewer",
                "reviewer-2",
                "title_abstract",
                "screen publications",
                1,
                queue.format("title_abstract", "reviewer-2"),
                sheet.format("title_abstract", "reviewer-2"),
            ),
            (
                "reviewer",
                "reviewer-2",
                "full_text",
                "screen publications",
                1,
                queue.format("full_text", "reviewer-2"),
                sheet.format("full_text", "reviewer-2"),
            ),
        ],
    )
    write_todo(
        base / "results" / "extraction" / "todo.tsv",
        [
            (
                "adjudicator",
                "",
                "extraction",
                "settle extraction discrepancies",
                1,
                "results/extraction/discrepancies.tsv",
                "resources/extraction/new-2025/adjudicated.tsv",
            ),
            (
                "extractor",
                "",
                "extraction",
                "extract data of included studies",
                2,
                "results/extraction/status.tsv",
                "resources/extraction/",
            ),
        ],
    )
    write_tsv(
        base / "results" / "extraction" / "studies.tsv",
        [
            {"study_id": "pape-2019", "cni": "tacrolimus", "version": "baseline", "n": "5"},
            {"study_id": "new-2025", "cni": "tacrolimus", "version": "2026-11-23", "n": "7"},
            {"study_id": "new-2025", "cni": "cyclosporine", "version": "2026-11-23", "n": "1"},
        ],
        ["study_id", "cni", "version", "n"],
    )
    write_tsv(
        base / "results" / "synthesis" / "outcomes.tsv",
        [{"grouping": "cni", "group": "tacrolimus", "n": "12", "remission": "8"}],
        ["grouping", "group", "n", "remission"],
    )
    # written by a stage but not declared to the run record: never read
    (base / "results" / "stray.tsv").write_text("x\n")
    return base


CONFIG = {
    "run_date": "2026-11-23",
    "baseline": {"dir": "resources/baseline"},
    "imports": [
        {"database": "embase", "search_date": "2026-11-20", "files": ["elsewhere/export.ris"]},
        {"database": "wos", "search_date": "2026-12-01", "files": ["resources/wos.txt"]},
    ],
    "search": {"queries": {"q": '"autoimmune hepatitis"[tiab] AND tacrolimus[tiab]'}},
    "runs": {"notify_command": "post-it --token abc", "notify_timeout_seconds": 10},
}


def _inputs(base: Path, config=CONFIG) -> RunInputs:
    """The run record's inputs as the rule declares them (paths relative to ``base``)."""
    named = {
        "receipts": [
            "results/search/receipts/pubmed-2021-10-31.json",
            "results/search/receipts/pubmed-2026-11-23.json",
        ],
        "records_unique": "results/records/unique.tsv",
        "records_duplicates": "results/records/duplicates.tsv",
        "records_runs": "results/records/runs.tsv",
        "records_todo": ["results/records/todo.tsv"],
        "screening_status": "results/screening/status.tsv",
        "screening_todo": ["results/screening/todo.tsv"],
        "extraction_todo": ["results/extraction/todo.tsv"],
        "extraction_studies": "results/extraction/studies.tsv",
        "estimates": ["results/synthesis/outcomes.tsv"],
        "whats_new": [],
        "previous_version_studies": [],
        "outputs": ["results/records/unique.tsv"],
        "inputs": input_files(config, base),
        "workflow_code": code_files(base),
        "code": ["src/livingreview/runs.py"],
    }
    return RunInputs.from_named(named)


def test_first_record_summarises_every_stage(tmp_path, monkeypatch):
    base = _project(tmp_path)
    monkeypatch.chdir(base)
    summary, manifest = build_run_record(
        "2026-11-23", CONFIG, _inputs(base), code_base=base, now=NOW
    )

    assert summary["search"]["pmids_new"] == 2 and summary["search"]["pmids_returned"] == 3
    records = summary["records"]
    # every source of the run: PubMed's update and the Embase export searched since the last run
    assert records["runs_taken_in"] == ["2026-11-20", "2026-11-23"]
    assert records["this_run_by_source"]["embase"]["records_identified"] == 4
    assert records["this_run_by_source"]["pubmed"]["records_identified"] == 3
    assert records["this_run"]["records_identified"] == 7
    assert records["this_run"]["new_publications"] == 3
    assert records["this_run"]["duplicates_removed"] == 4
    assert records["publications_total"] == 5
    assert records["duplicate_records_total"] == 1
    assert records["uncertain_pairs_awaiting_verdict"] == 1
    assert records["exports_after_run_date"] == [
        {
            "database": "wos",
            "search_date": "2026-12-01",
            "files": ["resources/wos.txt"],
            "entry_run": None,
        }
    ]
    screening = summary["screening"]
    assert screening["awaiting_by_reviewer"] == {
        "reviewer-1": {"title_abstract": 1, "total": 1},
        "reviewer-2": {"title_abstract": 1, "full_text": 1, "total": 2},
    }
    # conflicts.tsv still lists the adjudicated conflict: only open ones count
    assert screening["conflicts_awaiting_adjudication"] == 0
    assert "decisions_dated_after_run" not in screening
    extraction = summary["extraction"]
    assert extraction["studies_added_this_run"] == ["new-2025"]
    assert extraction["studies_total"] == 2 and extraction["arms_total"] == 3
    assert extraction["studies_by_version"] == {"2026-11-23": 1, "baseline": 1}
    assert extraction["arms_by_version"] == {"2026-11-23": 2, "baseline": 1}
    assert extraction["patients_total"] == 13
    assert extraction["studies_awaiting_extraction"] == 2
    assert extraction["studies_with_discrepancies"] == 1
    assert summary["pooled_estimates"]["changed"] is None
    # the to-do block: every stage's tasks, in stage order, each with where to act
    tasks = summary["todo"]["tasks"]
    assert [(r["stage"], r["role"], r["person"]) for r in tasks] == [
        ("dedup", "data_manager", ""),
        ("title_abstract", "reviewer", "reviewer-1"),
        ("title_abstract", "reviewer", "reviewer-2"),
        ("full_text", "reviewer", "reviewer-2"),
        ("extraction", "adjudicator", ""),
        ("extraction", "extractor", ""),
    ]
    assert summary["todo"]["missing"] == []

    assert set(manifest["inputs"]) == {"resources/baseline/arms.tsv", "elsewhere/export.ris"}
    assert set(manifest["code"]) == {
        "Snakefile",
        "workflow/rules/runs.smk",
        "src/livingreview/runs.py",
    }
    assert "results/records/unique.tsv" in manifest["outputs"]
    assert "results/stray.tsv" not in manifest["outputs"]  # not declared, not read
    assert not any(p.startswith("results/runs/") for p in manifest["outputs"])
    receipt = "results/search/receipts/pubmed-2026-11-23.json"
    snapshot = "results/search/pubmed/2026-11-23"
    assert manifest["outputs"][f"{snapshot}/records.tsv"] == {
        "sha256": "ab" * 32,
        "recorded_in": receipt,
    }
    assert manifest["outputs"][f"{snapshot}/provenance.json"]["sha256"] == sha256_file(receipt)
    assert manifest["inputs"]["elsewhere/export.ris"]["sha256"] == sha256_file(
        base / "elsewhere" / "export.ris"
    )
    assert manifest["config"]["runs"]["notify_command"] == REDACTED
    assert manifest["software"]["snakemake"] and manifest["software"]["python"]

    text = render_summary(summary)
    # the to-do block comes first, each task with the file that lists it and where to act
    assert text.split("\n")[4:7] == [
        "## To do",
        "- data_manager (deduplication): decide uncertain duplicate pairs: 1, listed in "
        "`results/records/maybe.tsv`; act in `resources/dedup/verdicts.tsv`",
        "- reviewer-1 (reviewer, title/abstract): screen publications: 1, listed in "
        "`results/screening/queue/title_abstract/reviewer-1.tsv`; act in "
        "`resources/screening/title_abstract/reviewer-1.tsv`",
    ]
    assert (
        "- new records found in this run: 7 (embase 4, pubmed 3): 3 new publications, "
        "4 duplicates removed" in text
    )
    assert "not part of this run: the wos export searched 2026-12-01" in text
    assert "awaiting reviewer-2: 2 publications (title/abstract 1, full text 1)" in text
    assert "conflicts awaiting adjudication: 0" in text
    assert "dated after this run" not in text
    assert "studies in the synthesis: 2 (3 arms, 13 patients)" in text
    assert "studies added in this run: 1 (new-2025)" in text
    assert "studies awaiting extraction: 2; with extraction discrepancies to settle: 1" in text


def test_studies_added_are_those_absent_from_the_previous_archived_version(tmp_path, monkeypatch):
    base = _project(tmp_path)
    monkeypatch.chdir(base)
    history = base / "results" / "synthesis" / "history"
    for day, studies in (("2026-11-16", ["pape-2019", "new-2025"]), ("2026-11-30", ["x"])):
        write_tsv(history / day / "studies.tsv", [{"study_id": s} for s in studies], ["study_id"])
        write_tsv(history / day / "meta_analysis.tsv", [], ["subgroup"])
    previous = archived_studies_before(history, "2026-11-23")
    assert previous == [str(history / "2026-11-16" / "studies.tsv")]
    assert archived_studies_before(history, "2026-11-16") == []
    inputs = replace(_inputs(base), previous_version_studies=previous[0])
    summary, _ = build_run_record("2026-11-23", CONFIG, inputs, code_base=base, now=NOW)
    assert summary["extraction"]["studies_added_this_run"] == []


def test_stages_the_rule_does_not_declare_are_reported_missing_not_guessed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    summary, manifest = build_run_record(
        "2026-11-23", {"run_date": "2026-11-23"}, RunInputs(), code_base=tmp_path, now=NOW
    )
    for section in ("search", "records", "screening", "extraction"):
        assert summary[section]["available"] is False and summary[section]["missing"]
    assert manifest["outputs"] == {}
    assert "not produced by this run" in render_summary(summary)


def test_record_inputs_come_from_the_rule_by_name():
    inputs = RunInputs.from_named(
        {"records_runs": "r.tsv", "receipts": ["a.json"], "whats_new": [], "code": ["x.py"]}
    )
    assert inputs.records_runs == "r.tsv" and inputs.receipts == ("a.json",)
    assert inputs.whats_new is None
    with pytest.raises(ConfigError, match="is not an input the run record knows"):
        RunInputs.from_named({"records_runz": "r.tsv"})
    with pytest.raises(ConfigError, match="names 2 files"):
        RunInputs.from_named({"records_runs": ["a.tsv", "b.tsv"]})


def test_next_record_says_what_changed_since_the_previous_one(tmp_path, monkeypatch):
    base = _project(tmp_path)
    monkeypatch.chdir(base)
    first = base / "results" / "runs" / "by-date" / "2026-11-23"
    write_run_record(
        "2026-11-23",
        CONFIG,
        _inputs(base),
        summary_json=first / "summary.json",
        summary_md=first / "summary.md",
        manifest_json=first / "manifest.json",
        code_base=base,
    )
    later = {**CONFIG, "run_date": "2026-11-30"}
    # nothing changed: the next record says so
    summary, _ = build_run_record("2026-11-30", later, _inputs(base), code_base=base, now=NOW)
    assert summary["pooled_estimates"] == {
        "tables": ["results/synthesis/outcomes.tsv"],
        "compared_with": "2026-11-23",
        "changed": False,
        "differences": [],
    }
    assert summary["file_changes"]["outputs"] == {"added": [], "removed": [], "changed": []}
    assert "unchanged since the run of 2026-11-23" in render_summary(summary)

    # a new study changes the estimate and the input files
    write_tsv(
        base / "results" / "synthesis" / "outcomes.tsv",
        [{"grouping": "cni", "group": "tacrolimus", "n": "20", "remission": "13"}],
        ["grouping", "group", "n", "remission"],
    )
    (base / "resources" / "baseline" / "arms.tsv").write_text("study_id\tn\npape-2019\t6\n")
    inputs = replace(_inputs(base), outputs=("results/synthesis/outcomes.tsv",))
    summary, _ = build_run_record("2026-11-30", later, inputs, code_base=base, now=NOW)
    assert summary["pooled_estimates"]["changed"] is True
    assert summary["pooled_estimates"]["differences"] == [
        "results/synthesis/outcomes.tsv: row cni / tacrolimus: n 12 -> 20",
        "results/synthesis/outcomes.tsv: row cni / tacrolimus: remission 8 -> 13",
    ]
    assert summary["file_changes"]["inputs"]["changed"] == ["resources/baseline/arms.tsv"]
    assert summary["file_changes"]["outputs"]["changed"] == ["results/synthesis/outcomes.tsv"]
    assert "**changed** since the run of 2026-11-23" in render_summary(summary)

    # a later record never compares with itself or with a later one
    summary, _ = build_run_record("2026-11-23", CONFIG, _inputs(base), code_base=base, now=NOW)
    assert summary["pooled_estimates"]["compared_with"] is None


# ----------------------------------------------------------------------------- notification


def test_notify_argv_appends_or_substitutes_the_summary_path():
    assert notify_argv("tool --flag 'two words'", "s.md") == ["tool", "--flag", "two words", "s.md"]
    assert notify_argv(["tool", "{summary}", "x"], "s.md") == ["tool", "s.md", "x"]
    with pytest.raises(ConfigError):
        notify_argv("  ", "s.md")


def test_notify_runs_the_command_with_the_summary(tmp_path):
    summary_md = tmp_path / "summary.md"
    summary_md.write_text("# Run\n")
    seen = tmp_path / "seen.txt"
    script = tmp_path / "notify.py"
    script.write_text(
        "import os, sys\n"
        f"open({str(seen)!r}, 'w').write(sys.argv[1] + '|' + os.environ['LIVINGREVIEW_RUN_DATE']"
        " + '|' + os.environ['LIVINGREVIEW_SUMMARY_JSON'])\n"
    )
    receipt = tmp_path / "notification.json"
    notify(
        f"{sys.executable} {script}",
        summary_md=summary_md,
        summary_json=tmp_path / "summary.json",
        run_date="2026-11-23",
        timeout=30,
        receipt=receipt,
    )
    assert seen.read_text() == f"{summary_md}|2026-11-23|{tmp_path / 'summary.json'}"
    assert json.loads(receipt.read_text())["exit_status"] == 0


def test_failed_notification_raises_and_writes_no_receipt(tmp_path):
    receipt = tmp_path / "notification.json"
    with pytest.raises(ReviewError, match="exited with 3"):
        notify(
            [sys.executable, "-c", "import sys; sys.exit(3)"],
            summary_md="s.md",
            summary_json="s.json",
            run_date="2026-11-23",
            timeout=30,
            receipt=receipt,
        )
    with pytest.raises(ConfigError, match="not found"):
        notify(
            "/nonexistent/notify-team",
            summary_md="s.md",
            summary_json="s.json",
            run_date="2026-11-23",
            timeout=30,
            receipt=receipt,
        )
    with pytest.raises(ReviewError, match="did not finish within"):
        notify(
            [sys.executable, "-c", "import time; time.sleep(10)"],
            summary_md="s.md",
            summary_json="s.json",
            run_date="2026-11-23",
            timeout=0.5,
            receipt=receipt,
        )
    assert not receipt.exists()


# ----------------------------------------------------------------------------- config schema


def test_runs_section_is_in_the_schema_and_the_default_config():
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    runs = schema["properties"]["runs"]
    assert runs["additionalProperties"] is False
    for key, spec in runs["properties"].items():
        assert spec.get("description") and "default" in spec, key
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    assert set(config["runs"]) == set(runs["properties"])


def test_inputs_are_archived_once_by_content_and_private_files_never(tmp_path):
    base = tmp_path / "project"
    (base / "resources").mkdir(parents=True)
    sheet = base / "resources" / "sheet.tsv"
    sheet.write_text("a\tb\n")
    hook = base / "bin" / "notify"
    hook.parent.mkdir()
    hook.write_text("TOKEN=not-for-the-archive\n")
    manifest_inputs = {
        "resources/sheet.tsv": {"sha256": sha256_file(sheet)},
        "bin/notify": {"sha256": sha256_file(hook)},
    }
    private = private_words({"runs": {"notify_command": "bin/notify --quiet"}})
    archive = tmp_path / "archive"
    result = archive_inputs(manifest_inputs, base, archive, private)
    assert result.private == ["bin/notify"] and result.changed_since_record == []
    assert sorted(p.name for p in archive.iterdir()) == [sha256_file(sheet)]
    sheet.write_text("changed while the run worked\n")
    again = archive_inputs({"resources/new.tsv": {"sha256": "f" * 64}}, base, archive)
    assert again.changed_since_record == ["resources/new.tsv"]
    restore_inputs(
        {"resources/sheet.tsv": sha256_file(archive / result.files["resources/sheet.tsv"])},
        tmp_path / "out",
        archive,
    )
    assert (tmp_path / "out" / "resources" / "sheet.tsv").read_text() == "a\tb\n"
