"""Which files of this package a workflow script runs: the code inputs of its rule.

Snakemake reruns a job when its script changes, but not when a module the script imports
changes. Each rule therefore declares the package files its script imports, directly or
through other modules, as inputs. Deriving that list from the ``import`` statements (instead
of keeping it by hand) means a new import can never be forgotten: a change to any module a
job runs reruns that job, and a change to an unrelated module reruns nothing.

Data files inside an imported subpackage (templates, tables the code reads) count as code too.
Only module-level imports are followed, which is why the package keeps every import at the top
of its modules (``tests/test_style.py`` checks that).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = "livingreview"


def imported_package_files(script: str | Path, src_root: str | Path) -> list[str]:
    """Every package file ``script`` runs: imported modules, their ``__init__`` files and the
    data files of imported subpackages, sorted, as paths under ``src_root``.

    >>> import tempfile, textwrap
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "livingreview" / "stage").mkdir(parents=True)
    >>> for name, text in {"__init__.py": "", "io.py": "import os",
    ...                    "stage/__init__.py": "from .read import read_sheet",
    ...                    "stage/read.py": "from ..io import x",
    ...                    "stage/table.tsv": "a\\tb", "unused.py": ""}.items():
    ...     _ = (root / "livingreview" / name).write_text(text)
    >>> script = root / "script.py"
    >>> _ = script.write_text("from livingreview.stage import read_sheet")
    >>> [Path(p).relative_to(root).as_posix() for p in imported_package_files(script, root)]
    ['livingreview/__init__.py', 'livingreview/io.py', 'livingreview/stage/__init__.py', \
'livingreview/stage/read.py', 'livingreview/stage/table.tsv']
    """
    src = Path(src_root)
    seen: set[Path] = set()
    pending = [
        path
        for module in _imported_modules(Path(script), None)
        for path in _module_files(src, module)
    ]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        if path.suffix != ".py":
            continue
        package = _package_of(src, path)
        for module in _imported_modules(path, package):
            pending.extend(_module_files(src, module))
    return sorted(str(path) for path in seen)


def _package_of(src: Path, path: Path) -> str:
    """Dotted package that ``path`` belongs to (relative imports resolve against it)."""
    # a module's package is its folder; so is an ``__init__``'s (the package it defines)
    return ".".join(path.relative_to(src).parts[:-1])


@cache
def _parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_modules(path: Path, package: str | None) -> list[str]:
    """Dotted names of this package's modules that ``path`` imports at module level.

    ``from X import name`` may name a submodule or an attribute; both candidates are
    returned and :func:`_module_files` keeps those that exist.
    """
    names: list[str] = []
    for node in _parsed(path).body:
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            if base is None:
                continue
            names.append(base)
            names.extend(f"{base}.{alias.name}" for alias in node.names)
    return [name for name in names if name == PACKAGE or name.startswith(PACKAGE + ".")]


def _absolute(node: ast.ImportFrom, package: str | None) -> str | None:
    if not node.level:
        return node.module
    if package is None:
        return None
    parts = package.split(".")
    if node.level > 1:
        parts = parts[: -(node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _module_files(src: Path, dotted: str) -> list[Path]:
    """Files that importing ``dotted`` executes: each package's ``__init__`` on the way, the
    module itself, and the data files of a subpackage."""
    files: list[Path] = []
    parts = dotted.split(".")
    for depth in range(1, len(parts) + 1):
        directory = src.joinpath(*parts[:depth])
        init = directory / "__init__.py"
        if init.is_file():
            files.append(init)
            if depth > 1 and depth == len(parts):
                files.extend(_data_files(directory))
        elif depth == len(parts) and directory.with_suffix(".py").is_file():
            files.append(directory.with_suffix(".py"))
    return files


def _data_files(directory: Path) -> list[Path]:
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    )
