"""Which files of this package a workflow script runs: the code inputs of its rule.

Snakemake reruns a job when its script changes, but not when a module the script imports
changes. Each rule therefore declares the package files its script imports, directly or
through other modules, as inputs. Deriving that list from the ``import`` statements (instead
of keeping it by hand) means a new import can never be forgotten: a change to any module a
job runs reruns that job, and a change to an unrelated module reruns nothing.

Data files inside an imported subpackage (templates, tables the code reads) count as code too.
Only module-level imports are followed, which is why the package keeps every import at the top
of its modules (``tests/test_style.py`` checks that).

Tracing means parsing every module, which costs about a second; Snakemake parses the workflow
at every start, also when nothing is to be done. :func:`code_inputs` therefore keeps the
traced lists in a cache keyed by the content digest of every file of the package and of the
scripts: while no byte of code changes, the lists are read back (a few milliseconds); after a
change, only the modules whose content changed are parsed again. A stale cache cannot be
used, whatever the timestamps say, because the key is the content itself.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

PACKAGE = "livingreview"
#: Bumped whenever the tracing rules change, so that no list traced by older rules is reused.
CACHE_FORMAT = 2


def imported_package_files(script: str | Path, src_root: str | Path) -> list[str]:
    """Every package file ``script`` runs: imported modules, their ``__init__`` files and the
    data files of the subpackages they belong to, sorted, as paths under ``src_root``.

    >>> import tempfile, textwrap
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "livingreview" / "stage").mkdir(parents=True)
    >>> for name, text in {"__init__.py": "", "io.py": "import os",
    ...                    "stage/__init__.py": "",
    ...                    "stage/read.py": "from ..io import x",
    ...                    "stage/table.tsv": "a\\tb", "unused.py": ""}.items():
    ...     _ = (root / "livingreview" / name).write_text(text)
    >>> script = root / "script.py"
    >>> _ = script.write_text("from livingreview.stage.read import read_sheet")
    >>> [Path(p).relative_to(root).as_posix() for p in imported_package_files(script, root)]
    ['livingreview/__init__.py', 'livingreview/io.py', 'livingreview/stage/__init__.py', \
'livingreview/stage/read.py', 'livingreview/stage/table.tsv']
    """
    return _Tracer(Path(src_root)).files_of(Path(script))


def code_inputs(
    scripts: Iterable[str | Path], src_root: str | Path, cache_file: str | Path
) -> dict[str, list[str]]:
    """:func:`imported_package_files` of each script, by the script's file name, read from
    ``cache_file`` when no file of the package or of the scripts changed since it was written
    (see the module's docstring), traced and written back otherwise.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "src" / "livingreview").mkdir(parents=True)
    >>> _ = (root / "src" / "livingreview" / "__init__.py").write_text("")
    >>> _ = (root / "src" / "livingreview" / "io.py").write_text("import os")
    >>> script = root / "job.py"
    >>> _ = script.write_text("from livingreview.io import atomic_open")
    >>> cache_file = root / "cache" / "code-inputs.json"
    >>> first = code_inputs([script], root / "src", cache_file)
    >>> [Path(p).name for p in first["job.py"]]
    ['__init__.py', 'io.py']
    >>> code_inputs([script], root / "src", cache_file) == first and cache_file.is_file()
    True
    >>> _ = script.write_text("import livingreview")
    >>> [Path(p).name for p in code_inputs([script], root / "src", cache_file)["job.py"]]
    ['__init__.py']
    """
    src = Path(src_root)
    script_paths = sorted(Path(script) for script in scripts)
    digests = _digests([*script_paths, *_package_files(src / PACKAGE)])
    # named by where they are in the project, so that a copied or moved project keeps its key
    names = {path: f"script:{path.name}" for path in script_paths}
    key = hashlib.sha256(
        json.dumps(
            [
                CACHE_FORMAT,
                sorted(
                    [names.get(path) or _relative(path, src), digest]
                    for path, digest in digests.items()
                ),
            ]
        ).encode()
    ).hexdigest()
    cached = _read_cache(Path(cache_file))
    if cached.get("key") == key:
        return {
            name: [str(src / relative) for relative in files]
            for name, files in cached["scripts"].items()
        }
    tracer = _Tracer(src, digests, cached.get("imports", {}))
    found = {script.name: tracer.files_of(script) for script in script_paths}
    _write_cache(
        Path(cache_file),
        {
            "key": key,
            "scripts": {
                name: [_relative(Path(path), src) for path in files]
                for name, files in found.items()
            },
            "imports": tracer.known_imports(),
        },
    )
    return found


class _Tracer:
    """Follows module-level imports through the package under ``src``.

    ``digests`` (path -> content digest) and ``known`` (relative path -> [digest, imported
    modules]) let it reuse the imports of a module whose content did not change.
    """

    def __init__(
        self,
        src: Path,
        digests: Mapping[Path, str] | None = None,
        known: Mapping[str, list] | None = None,
    ) -> None:
        self.src = src
        self.digests = digests or {}
        self.known = known or {}
        self.imports: dict[Path, tuple[str, ...]] = {}
        # per tracer, not per process: a long-lived process may trace again after files moved
        self.module_files: dict[str, tuple[Path, ...]] = {}
        self.data_files: dict[Path, tuple[Path, ...]] = {}

    def files_of(self, script: Path) -> list[str]:
        seen: set[Path] = set()
        pending = [
            path for module in self._imports_of(script, None) for path in self._files(module)
        ]
        while pending:
            path = pending.pop()
            if path in seen:
                continue
            seen.add(path)
            if path.suffix != ".py":
                continue
            for module in self._imports_of(path, _package_of(self.src, path)):
                pending.extend(self._files(module))
        return sorted(str(path) for path in seen)

    def known_imports(self) -> dict[str, list]:
        """What was traced, for the cache: relative path -> [digest, imported modules]."""
        return {
            _relative(path, self.src): [self.digests[path], list(modules)]
            for path, modules in self.imports.items()
            if path in self.digests and path.is_relative_to(self.src)
        }

    def _imports_of(self, path: Path, package: str | None) -> tuple[str, ...]:
        if path not in self.imports:
            digest = self.digests.get(path)
            entry = self.known.get(_relative(path, self.src)) if digest else None
            if entry and entry[0] == digest:
                self.imports[path] = tuple(entry[1])
            else:
                self.imports[path] = _imported_modules(path, package)
        return self.imports[path]

    def _files(self, dotted: str) -> tuple[Path, ...]:
        """Files that importing ``dotted`` executes: each package's ``__init__`` on the way
        (with the data files of a subpackage, which its modules may read) and the module."""
        if dotted in self.module_files:
            return self.module_files[dotted]
        files: list[Path] = []
        parts = dotted.split(".")
        for depth in range(1, len(parts) + 1):
            directory = self.src.joinpath(*parts[:depth])
            init = directory / "__init__.py"
            if init.is_file():
                files.append(init)
                if depth > 1:
                    if directory not in self.data_files:
                        self.data_files[directory] = _data_files(directory)
                    files.extend(self.data_files[directory])
            elif depth == len(parts) and directory.with_suffix(".py").is_file():
                files.append(directory.with_suffix(".py"))
        self.module_files[dotted] = tuple(files)
        return self.module_files[dotted]


def _package_of(src: Path, path: Path) -> str:
    """Dotted package that ``path`` belongs to (relative imports resolve against it)."""
    # a module's package is its folder; so is an ``__init__``'s (the package it defines)
    return ".".join(path.relative_to(src).parts[:-1])


def _imported_modules(path: Path, package: str | None) -> tuple[str, ...]:
    """Dotted names of this package's modules that ``path`` imports at module level.

    ``from X import name`` may name a submodule or an attribute; both candidates are
    returned and :meth:`_Tracer._files` keeps those that exist.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            if base is None:
                continue
            names.append(base)
            names.extend(f"{base}.{alias.name}" for alias in node.names)
    return tuple(name for name in names if name == PACKAGE or name.startswith(PACKAGE + "."))


def _absolute(node: ast.ImportFrom, package: str | None) -> str | None:
    if not node.level:
        return node.module
    if package is None:
        return None
    parts = package.split(".")
    if node.level > 1:
        parts = parts[: -(node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _data_files(directory: Path) -> tuple[Path, ...]:
    return tuple(
        sorted(
            path
            for path in directory.rglob("*")
            if path.is_file() and path.suffix != ".py" and not _is_bytecode(path)
        )
    )


def _is_bytecode(path: Path) -> bool:
    return path.suffix in {".pyc", ".pyo"} or "__pycache__" in path.parts


def _package_files(package: Path) -> list[Path]:
    """Every file of the package (modules and data files), bytecode left out."""
    found: list[Path] = []
    for directory, subdirectories, names in os.walk(package):
        subdirectories[:] = sorted(name for name in subdirectories if name != "__pycache__")
        found.extend(
            Path(directory, name) for name in sorted(names) if not _is_bytecode(Path(name))
        )
    return found


def _digests(paths: Iterable[Path]) -> dict[Path, str]:
    return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths}


def _relative(path: Path, src: Path) -> str:
    return path.relative_to(src).as_posix() if path.is_relative_to(src) else str(path)


def _read_cache(cache_file: Path) -> dict:
    """The cache's content, or nothing when it is missing or unreadable (it is rebuilt)."""
    try:
        content = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}


def _write_cache(cache_file: Path, content: dict) -> None:
    """Write atomically (two workflows parsing at once each write a whole file); a folder
    that cannot be written only costs the next parse its speed."""
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache_file.parent, prefix=".code-inputs-")
    except OSError:
        return
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(content, stream, sort_keys=True)
        os.replace(temporary, cache_file)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
