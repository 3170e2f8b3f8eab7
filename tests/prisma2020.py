"""prisma.csv as the PRISMA2020 R package reads it: its template's row keys, its lookups, and
its own code run in R (when R is installed).

``fixtures/prisma/PRISMA2020-1.1.4-keys.tsv`` holds the row keys of the package's current
template; ``fixtures/prisma/PRISMA2020-1.1.4/`` the R files that read and draw the CSV (MIT,
see the licence note there). Release 1.1.3 has the same reading code (PRISMA_data.R and its
helpers are byte-identical), so checking against 1.1.4 checks both.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from livingreview.prisma.flowchart import fmt
from livingreview.prisma.prisma_csv import csv_label
from livingreview.prisma.template import MULTI_BOXES

FIXTURES = Path(__file__).parent / "fixtures" / "prisma"
R_SOURCES = FIXTURES / "PRISMA2020-1.1.4"
KEYS = FIXTURES / "PRISMA2020-1.1.4-keys.tsv"
R_CHECK = Path(__file__).parent / "prisma2020_check.R"


def template_keys() -> list[tuple[str, str, str]]:
    """(data, node, box) of every row of the package's current template, in order."""
    with open(KEYS, encoding="utf-8", newline="") as handle:
        return [(r["data"], r["node"], r["box"]) for r in csv.DictReader(handle, delimiter="\t")]


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def r_lookups() -> list[tuple[int, str]]:
    """Every ``grep(pattern, data[, column])`` of PRISMA_data(): (column, pattern)."""
    text = (R_SOURCES / "PRISMA_data.R").read_text(encoding="utf-8")
    found = re.findall(r'grep\(\s*"([^"]+)",\s*data\[, (\d)\]', text)
    return [(int(column), pattern) for pattern, column in found]


def matching_rows(rows: Sequence[Mapping[str, str]], column: int, pattern: str) -> list[int]:
    """Rows ``grep(pattern, data[, column])`` returns; read.csv makes "NA" a missing value,
    which no pattern matches."""
    name = ("data", "node", "box")[column - 1]
    return [i for i, row in enumerate(rows) if row[name] != "NA" and re.search(pattern, row[name])]


# ----------------------------------------------------------------------------- R


def r_unavailable() -> str | None:
    """Why the package's R code cannot run here, or None."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return (
            "Rscript not found: install R with the scales and stringr packages "
            "(Debian: apt-get install r-base-core r-cran-scales r-cran-stringr)"
        )
    # One R start for both packages (each costs a few tenths of a second): R prints the
    # names of those it cannot load.
    probe = subprocess.run(
        [
            rscript,
            "-e",
            'for (p in c("scales", "stringr")) '
            "if (!requireNamespace(p, quietly = TRUE)) cat(p, '\\n')",
        ],
        capture_output=True,
        text=True,
    )
    if probe.returncode:
        return f"Rscript failed checking for the scales and stringr packages: {probe.stderr}"
    for package in probe.stdout.split():
        return f"the R package {package} is not installed (Debian: r-cran-{package})"
    return None


@dataclass
class Loaded:
    """What PRISMA_data() read from one CSV, and the DOT text PRISMA_flowdiagram() drew."""

    values: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    dot: str = ""

    def number(self, name: str) -> int:
        """A count as PRISMA_data() formatted it ("1,234")."""
        return int(self.values[name].replace(",", ""))

    def labels(self) -> list[str]:
        """The text of every box of the diagram."""
        return re.findall(r"label = '([^']*)'", self.dot)


def load_in_prisma2020(paths: Sequence[Path]) -> dict[str, Loaded]:
    """Run the package's reading and drawing code on each CSV (warnings are errors)."""
    result = subprocess.run(
        ["Rscript", str(R_CHECK), str(R_SOURCES), *map(str, paths)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Warning" not in result.stderr, result.stderr
    loaded: dict[str, Loaded] = {}
    current = Loaded()
    for line in result.stdout.splitlines():
        kind, name, *rest = line.split("\t")
        if kind == "file":
            current = loaded[name] = Loaded()
        elif kind == "value":
            current.values[name] = rest[0].replace("\\n", "\n")
        elif kind == "reasons":
            current.reasons.setdefault(name, []).append((rest[0], rest[1]))
        elif kind == "dot":
            current.dot = "\t".join([name, *rest]).replace("\\n", "\n")
    assert set(loaded) == {str(p) for p in paths}
    return loaded


# ----------------------------------------------------------------------------- the same numbers


def _flat(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def drawn_phrases(
    counts: Mapping[str, int], show_previous: bool, show_other: bool = True
) -> Counter[str]:
    """The "Text (n = N)" phrases both diagrams print for the counted boxes, with how often
    (the two arms share some texts)."""
    phrases: Counter[str] = Counter()

    def add(text: str, box: str) -> None:
        phrases[f"{text} (n = {fmt(counts[box])})"] += 1

    for text, box in (
        ("Databases", "database_results"),
        ("Registers", "register_results"),
        ("Duplicate records", "duplicates"),
        ("Records marked as ineligible by automation tools", "excluded_automatic"),
        ("Records removed for other reasons", "excluded_other"),
        ("Records screened", "records_screened"),
        ("Records excluded", "records_excluded"),
        ("Reports sought for retrieval", "dbr_sought_reports"),
        ("Reports not retrieved", "dbr_notretrieved_reports"),
        ("Reports assessed for eligibility", "dbr_assessed"),
        ("New studies included in review", "new_studies"),
    ):
        add(text, box)
    if counts.get("known_study_reports", 0):
        phrases[f"{fmt(counts['new_reports'] - counts['known_study_reports'])} of new studies"] += 1
        phrases[f"{fmt(counts['known_study_reports'])} of studies already included"] += 1
    else:
        add("Reports of new included studies", "new_reports")
    for text, box in (
        ("Records awaiting screening", "awaiting_title_abstract"),
        ("Reports awaiting assessment", "awaiting_full_text"),
    ):
        if counts.get(box, 0):
            add(text, box)
    if show_other:
        for text, box in (
            ("Websites", "website_results"),
            ("Organisations", "organisation_results"),
            ("Citation searching", "citations_results"),
            ("Reports sought for retrieval", "other_sought_reports"),
            ("Reports not retrieved", "other_notretrieved_reports"),
            ("Reports assessed for eligibility", "other_assessed"),
        ):
            add(text, box)
    if show_previous:
        for text, box in (
            ("Studies included in previous version of review", "previous_studies"),
            ("Reports of studies included in previous version of review", "previous_reports"),
            ("Total studies included in review", "total_studies"),
            ("Reports of total included studies", "total_reports"),
        ):
            add(text, box)
    return phrases


def assert_text_shows(text: str, phrases: Counter[str]) -> None:
    flat = _flat(text)
    for phrase, times in phrases.items():
        assert flat.count(phrase) >= times, (phrase, flat)


def assert_read_as_counted(
    loaded: Loaded,
    counts: Mapping[str, int],
    breakdowns: Mapping[str, Sequence[tuple[str, int]]],
) -> None:
    """PRISMA_data() read every count of the ledger, and the diagram it draws shows them."""
    for name, value in loaded.values.items():
        if name in counts:
            assert loaded.number(name) == counts[name], name
    assert loaded.values["total_studies_ma"] == loaded.values["total_reports_ma"] == "0"
    for box in ("dbr_excluded", "other_excluded"):
        items = breakdowns.get(box, [])
        expected = [(csv_label(label), fmt(n)) for label, n in items] or [("", "0")]
        assert loaded.reasons[box] == expected, box
    for box, placeholder in (
        ("database_specific_results", "Database"),
        ("register_specific_results", "Register"),
    ):
        items = breakdowns.get(box, [])
        expected = [(csv_label(label), fmt(n)) for label, n in items] or [
            (f"{placeholder} {i}", "NA") for i in (1, 2, 3)
        ]
        assert loaded.reasons[box] == expected, box
    labels = loaded.labels()
    show_previous = counts["previous_studies"] > 0 or counts["previous_reports"] > 0
    assert_text_shows("\n".join(labels), drawn_phrases(counts, show_previous))
    identified = next(label for label in labels if label.startswith("Records identified from:\nD"))
    # no breakdown line without a label (what "0" in a *_specific_results cell would draw)
    assert not [line for line in identified.splitlines() if line.lstrip().startswith("(n =")]
    for box in MULTI_BOXES:
        for label, n in breakdowns.get(box, []):
            assert f"{csv_label(label)} (n = {fmt(n)})" in _flat("\n".join(labels)), (box, label)
