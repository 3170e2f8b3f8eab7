"""The desk reads the config as the workflow does (Snakemake's merge of several
``--configfile``s, the schema's defaults) and follows the project as it changes: a new
reviewer, changed exclusion reasons or a newly declared import count without a restart.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from conftest import ROOT
from desk_support import TA_HEADER, make_project, pid, pinned_clock, write_table

from livingreview.config import load_config, update_config
from livingreview.dedup.inputs import record_tables
from livingreview.desk.app import build_desk
from livingreview.desk.decisions import Verdict
from livingreview.desk.errors import SheetProblems
from livingreview.desk.project import Project
from livingreview.records import RECORD_COLUMNS

LAYERS = {
    "config.yaml": {
        "run_date": "2026-11-23",
        "screening": {"reviewers": ["a", "b"], "ranking": {"folds": 5, "shrinkage": 10}},
        "dedup": {"source_priority": ["pubmed", "embase"], "title_same": 90},
        "prisma": {"registers": ["ctgov"], "source_labels": {"pubmed": "PubMed"}},
        "scalar_then_mapping": "x",
        "mapping_then_scalar": {"k": 1},
        "emptied": {"k": 1},
    },
    "team.yaml": {
        "screening": {"reviewers": ["c", "d", "e"], "ranking": {"folds": 3}},
        "dedup": {"source_priority": ["embase"]},
        "scalar_then_mapping": {"now": "a mapping"},
        "mapping_then_scalar": 7,
        "emptied": None,
    },
    "server.yaml": {
        "screening": {"ranking": {"shrinkage": 2}},
        "prisma": {"source_labels": {"embase": "Embase"}, "registers": []},
        "run_date": "2026-12-01",
    },
}

SNAKEFILE = """
import json

configfile: "config.yaml"

with open("merged.json", "w") as handle:
    json.dump(config, handle, sort_keys=True)

rule all:
    input: []
"""


def snakemake_config(folder, *options: str) -> dict:
    """The config a real Snakemake run sees in ``folder`` with these options."""
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "snakemake"), "--cores", "1", "--dry-run", *options],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return json.loads((folder / "merged.json").read_text())


def test_several_configfiles_merge_as_snakemake_merges_them(tmp_path):
    for name, content in LAYERS.items():
        (tmp_path / name).write_text(yaml.safe_dump(content))
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    by_snakemake = snakemake_config(tmp_path, "--configfile", "team.yaml", "server.yaml")
    assert load_config(tmp_path, ["team.yaml", "server.yaml"]) == by_snakemake
    # not "the later file wins" nor "only mappings merge": key by key, recursively
    assert by_snakemake["screening"] == {
        "reviewers": ["c", "d", "e"],
        "ranking": {"folds": 3, "shrinkage": 2},
    }
    assert by_snakemake["scalar_then_mapping"] == {"now": "a mapping"}
    assert by_snakemake["emptied"] is None
    # Snakemake's option takes its files after one --configfile: repeated, the last one wins
    repeated = snakemake_config(
        tmp_path, "--configfile", "team.yaml", "--configfile", "server.yaml"
    )
    assert repeated == load_config(tmp_path, ["server.yaml"])


def test_update_config_replaces_lists_and_merges_mappings():
    config = {"a": {"b": [1, 2], "c": {"d": 1}}}
    update_config(config, {"a": {"b": [3], "c": {"e": 2}}})
    assert config == {"a": {"b": [3], "c": {"d": 1, "e": 2}}}


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "project", maybe_pairs=[(1, 2)])


def edit_config(project, change) -> None:
    path = project / "config.yaml"
    config = yaml.safe_load(path.read_text())
    change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def test_the_desk_lists_the_record_tables_the_workflow_reads(project):
    loaded = Project.load(project)
    assert loaded.record_tables() == [project / t for t in record_tables(loaded.config, project)]
    assert [t.relative_to(project).as_posix() for t in loaded.record_tables()] == [
        "results/search/tables/pubmed-2021-10-31.tsv",
        "results/search/tables/pubmed-2026-11-23.tsv",
        "results/imports/embase/2021-10-31/records.tsv",
    ]


def test_a_new_reviewer_and_new_reasons_count_without_a_restart(project, tmp_path):
    desk = build_desk(project, clock=pinned_clock, state_dir=tmp_path / "state")
    assert "reviewer-3" not in desk.project.people
    with pytest.raises(SheetProblems):
        desk.screening.decide("title_abstract", "reviewer-1", pid(1), Verdict("exclude", "too_old"))

    def change(config):
        config["screening"]["reviewers"].append("reviewer-3")
        config["screening"]["exclusion_reasons"].append({"id": "too_old", "label": "Too old"})

    edit_config(project, change)
    assert desk.project.people["reviewer-3"].has("reviewer")
    assert desk.tokens.fingerprint_of("reviewer-3") is not None  # a sign-in link exists
    desk.screening.decide("title_abstract", "reviewer-1", pid(1), Verdict("exclude", "too_old"))
    sheet = desk.project.decisions_dir / "title_abstract" / "reviewer-1.tsv"
    assert sheet.read_text() == TA_HEADER + f"{pid(1)}\texclude\ttoo_old\t\t2026-11-23\n"


def test_an_invalid_change_keeps_the_last_valid_config_and_says_why(project):
    loaded = Project.load(project)
    edit_config(project, lambda config: config["screening"].update(dual="sometimes"))
    assert loaded.settings.dual is True
    assert "screening.dual" in loaded.problem
    edit_config(project, lambda config: config["screening"].update(dual=False))
    assert loaded.settings.dual is False and loaded.problem == ""


def test_a_new_import_counts_and_an_unbuilt_table_is_named_not_taken_for_a_typo(project, tmp_path):
    desk = build_desk(project, clock=pinned_clock, state_dir=tmp_path / "state")
    table = project / "results" / "imports" / "wos" / "2026-11-20" / "records.tsv"

    def declare(config):
        config["imports"].append(
            {
                "database": "wos",
                "search_date": "2026-11-20",
                "format": "ris",
                "dialect": "wos",
                "files": ["resources/imports/wos/2026-11-20.ris"],
            }
        )

    edit_config(project, declare)
    assert table in desk.project.record_tables()
    with open(desk.project.verdicts_sheet, "a", encoding="utf-8") as handle:
        handle.write(f"{pid(1)}\twos:000111\tdifferent\tdata-manager-1\t2026-11-20\t\n")
    pair = desk.duplicates.pair(pid(1), pid(2))
    with pytest.raises(SheetProblems) as refused:
        desk.duplicates.decide("data-manager-1", pair, "different")
    first, typo = refused.value.problems
    assert first.file == "results/imports/wos/2026-11-20/records.tsv"
    assert "not built yet" in first.message and "run the workflow" in (first.allowed or "")
    assert (typo.line, typo.field) == (3, "record_id_b")
    # once the workflow has imported it, the verdict on its record is taken
    record = {"record_id": "wos:000111", "source": "wos", "run": "2026-11-20", "title": "Other"}
    write_table(table, RECORD_COLUMNS, [record])
    desk.duplicates.decide("data-manager-1", pair, "different")
