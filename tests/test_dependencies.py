"""Code inputs: the package files each workflow script runs, traced from its imports and
kept in a cache keyed by the content of the code (livingreview.dependencies)."""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path

import pytest
from conftest import ROOT

import livingreview.dependencies as dependencies
from livingreview.dependencies import code_inputs, imported_package_files

SCRIPTS = sorted((ROOT / "workflow" / "scripts").glob("*.py"))


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "src" / "livingreview" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "src"


def test_the_cached_lists_equal_the_traced_ones_and_are_read_back_untraced(tmp_path, monkeypatch):
    cache_file = tmp_path / "code-inputs.json"
    first = code_inputs(SCRIPTS, ROOT / "src", cache_file)
    assert first == {
        script.name: imported_package_files(script, ROOT / "src") for script in SCRIPTS
    }

    def no_parsing(path, package):
        raise AssertionError(f"{path} parsed again although no code changed")

    monkeypatch.setattr(dependencies, "_imported_modules", no_parsing)
    assert code_inputs(SCRIPTS, ROOT / "src", cache_file) == first


def test_a_new_import_is_followed_whatever_the_timestamps_say(tmp_path):
    src = write_package(
        tmp_path,
        {"__init__.py": "", "io.py": "import os\n", "text.py": "", "records.py": ""},
    )
    script = tmp_path / "job.py"
    script.write_text("from livingreview.io import atomic_open\n", encoding="utf-8")
    cache_file = tmp_path / ".snakemake" / "code-inputs.json"

    def names() -> list[str]:
        return sorted(Path(p).name for p in code_inputs([script], src, cache_file)["job.py"])

    assert names() == ["__init__.py", "io.py"]
    module = src / "livingreview" / "io.py"
    before = module.stat()
    module.write_text("from . import text\n", encoding="utf-8")  # same size and timestamp
    os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert names() == ["__init__.py", "io.py", "text.py"]


def test_a_copied_project_reads_the_cache_back(tmp_path, monkeypatch):
    """The key names files by where they are in the project: a copy keeps its cache."""
    files = {"__init__.py": "", "io.py": "import os\n"}
    projects = [tmp_path / "here", tmp_path / "elsewhere" / "copy"]
    for project in projects:
        write_package(project, files)
        (project / "job.py").write_text("from livingreview import io\n", encoding="utf-8")
    cache_file = tmp_path / "code-inputs.json"
    here, copy = projects
    found = code_inputs([here / "job.py"], here / "src", cache_file)
    monkeypatch.setattr(dependencies, "_imported_modules", None)  # parsing would fail
    assert code_inputs([copy / "job.py"], copy / "src", cache_file) == {
        "job.py": [path.replace(str(here), str(copy)) for path in found["job.py"]]
    }


def test_an_unreadable_cache_is_rebuilt(tmp_path):
    cache_file = tmp_path / "code-inputs.json"
    cache_file.write_text("{not json", encoding="utf-8")
    script = ROOT / "workflow" / "scripts" / "prisma_ledger.py"
    found = code_inputs([script], ROOT / "src", cache_file)
    assert found["prisma_ledger.py"] == imported_package_files(script, ROOT / "src")
    assert json.loads(cache_file.read_text(encoding="utf-8"))["scripts"]


def test_data_files_count_for_a_module_imported_from_its_subpackage(tmp_path):
    """A module reads its subpackage's data files (a template, a table): they are code inputs
    of every job that imports a module of that subpackage."""
    src = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "stage/__init__.py": "",
            "stage/template.py": "",
            "stage/template.csv": "a,b\n",
            "stage/pages/index.html": "<p>\n",
        },
    )
    script = tmp_path / "job.py"
    script.write_text("from livingreview.stage.template import TEMPLATE\n", encoding="utf-8")
    files = {
        Path(p).relative_to(src / "livingreview").as_posix()
        for p in imported_package_files(script, src)
    }
    assert {"stage/template.csv", "stage/pages/index.html", "stage/template.py"} <= files


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_every_script_runs_only_package_files_that_exist(script):
    files = imported_package_files(script, ROOT / "src")
    assert files and all(Path(path).is_file() for path in files)


def loaded_package_files(script: Path) -> list[str]:
    """The package files that executing ``script``'s module-level imports loads, from a
    clean slate: this package's modules are taken out of ``sys.modules`` for the import and
    put back afterwards (third-party libraries stay loaded, which is what makes this cheap
    enough to do in the test process)."""
    ours = lambda name: name.split(".")[0] == "livingreview"  # noqa: E731
    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    try:
        for name in saved:
            del sys.modules[name]
        tree = ast.parse(script.read_text(encoding="utf-8"))
        imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        exec(compile(ast.Module(body=imports, type_ignores=[]), str(script), "exec"), {})
        return sorted(
            module.__file__
            for name, module in sys.modules.items()
            if ours(name) and getattr(module, "__file__", None)
        )
    finally:
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_every_module_a_job_loads_is_one_of_its_code_inputs(script, monkeypatch):
    """What executing a script's imports really loads is among its traced inputs: no module
    a job runs can change without rerunning it."""
    monkeypatch.syspath_prepend(str(ROOT / "src"))
    loaded = loaded_package_files(script)
    traced = set(imported_package_files(script, ROOT / "src"))
    assert loaded and sorted(set(loaded) - traced) == []
