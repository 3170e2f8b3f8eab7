"""docs/architecture.md is true to the code: the modules it names are the package's modules."""

from __future__ import annotations

import re

from conftest import ROOT

DOC = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "src" / "livingreview"


def section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def listed_modules() -> set[str]:
    """`package/module` for every module the list under "Where the code lives" names (a
    bullet per package, `top level` for the package's own modules)."""
    modules: set[str] = set()
    bullets = re.split(r"\n- ", section("Where the code lives"))[1:]
    assert bullets, "no list of modules found"
    for bullet in bullets:
        head, _, rest = bullet.partition(":")
        package = "" if head == "top level" else head.strip("`")
        # module names are backquoted identifiers; other quoted things name files or folders
        modules.update(
            package + name
            for name in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", rest)
            if not name.startswith("bin")
        )
    return modules


def tree_modules() -> set[str]:
    return {
        path.relative_to(PACKAGE).with_suffix("").as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name != "__init__.py"
    }


def test_every_module_of_the_package_is_listed_and_every_listed_module_exists():
    listed, tree = listed_modules(), tree_modules()
    assert sorted(tree - listed) == [], "modules missing from docs/architecture.md"
    assert sorted(listed - tree) == [], "docs/architecture.md lists modules that do not exist"


def test_the_stage_table_names_packages_modules_and_rule_files_that_exist():
    table = [
        line.split("|")[1:-1]
        for line in section("Stages and the files between them").splitlines()
        if line.startswith("| ") and not line.startswith("| stage")
    ]
    assert table
    for _stage, rule_file, package, *_ in table:
        for name in re.findall(r"`([^`]+)`", rule_file):
            assert (ROOT / "workflow" / "rules" / name).is_file(), name
        for name in re.findall(r"`([a-z_]+/?)`", package):
            path = PACKAGE / name
            assert (path / "__init__.py").is_file() or path.with_suffix(".py").is_file(), name


def test_stage_packages_re_export_nothing():
    """Names are imported from the module that defines them (docs/architecture.md): an
    ``__init__`` that imports its modules makes importing any one of them load the whole
    stage, and every job that runs one module depend on all of them."""
    exporting = [
        init.relative_to(ROOT).as_posix()
        for init in PACKAGE.glob("*/__init__.py")
        if re.search(r"^(from|import) ", init.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert exporting == []
