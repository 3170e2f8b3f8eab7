"""Rebuild the reconstructed baseline Embase-style RIS export from facts.tsv.

    .venv/bin/python resources/imports/embase/reconstruction/build_export.py [--check-sources REFERENCE_DIR]

facts.tsv holds one row per record, transcribed from the seed's reference list and from
records/real-records.json of the team's reference material (its columns seed_ref / real_record say which); this script
only re-formats those facts the way an Embase RIS export writes them (see ../../README.md).
With --check-sources it first verifies that every DOI, PMID and title in facts.tsv occurs in
those two sources, and stops if one does not.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FACTS = HERE / "facts.tsv"
OUTPUT = HERE.parent / "2021-10-31-baseline-reconstructed.ris"


def embase_author(author: str) -> str:
    """'Drenth JPH' -> 'Drenth J.P.H.' (Embase RIS writes initials with full stops)."""
    parts = author.split(" ")
    if len(parts) >= 2 and re.fullmatch(r"[A-Z]{1,5}", parts[-1]):
        return " ".join(parts[:-1]) + " " + "".join(f"{letter}." for letter in parts[-1])
    return author


def embase_abbrev(nlm_abbrev: str, full_title: str) -> str:
    """'Eur J Gastroenterol Hepatol' -> 'Eur. J. Gastroenterol. Hepatol.': a full stop after
    every word that is not a whole word of the full journal title."""
    full_words = {word.casefold() for word in re.findall(r"[\w-]+", full_title)}
    return " ".join(
        word if word.casefold() in full_words else f"{word}." for word in nlm_abbrev.split()
    )


def doi_form(doi: str, index: int) -> str:
    """The DOI written the four ways exports write it, in turn (all the same DOI)."""
    return (
        f"https://doi.org/{doi}",
        f"http://dx.doi.org/{doi}",
        doi.upper(),
        doi,
    )[index % 4]


def split_pages(pages: str) -> tuple[str, str]:
    start, _, end = pages.partition("-")
    return start.strip(), end.strip()


def build(rows: list[dict[str, str]]) -> str:
    lines: list[str] = []
    for index, row in enumerate(rows):
        lines.append("TY  - JOUR")
        lines.append("DB  - Embase")
        lines.append(f"T1  - {row['title']}")
        for author in filter(None, (a.strip() for a in row["authors"].split(";"))):
            lines.append(f"A1  - {embase_author(author)}")
        if row["year"]:
            lines.append(f"Y1  - {row['year']}//")
        if row["journal"]:
            lines.append(f"JF  - {row['journal']}")
        if row["journal_abbrev"]:
            lines.append(f"JA  - {embase_abbrev(row['journal_abbrev'], row['journal'])}")
        for tag, column in (("VL", "volume"), ("IS", "issue")):
            if row[column]:
                lines.append(f"{tag}  - {row[column]}")
        start, end = split_pages(row["pages"])
        if start:
            lines.append(f"SP  - {start}")
        if end:
            lines.append(f"EP  - {end}")
        if row["pmid"]:
            lines.append(f"C5  - {row['pmid']}")
        if row["doi"]:
            lines.append(f"DO  - {doi_form(row['doi'], index)}")
        if row["publication_type"]:
            lines.append(f"M3  - {row['publication_type']}")
        lines.append("ER  - ")
        lines.append("")
    return "\n".join(lines)


def check_sources(rows: list[dict[str, str]], shared: Path) -> list[str]:
    """Every DOI, PMID and title of facts.tsv must occur in the seed or in real-records.json."""
    seed = (shared / "seed" / "baven-pronk-2022-cni-aih.txt").read_text(encoding="utf-8")
    real = json.loads((shared / "records" / "real-records.json").read_text(encoding="utf-8"))
    seed_compact = re.sub(r"\s+", "", seed).casefold()
    seed_words = " ".join(re.sub(r"-\s*\n\s*-?\s*", "", seed).replace("-", "").split()).casefold()
    problems = []
    for row in rows:
        real_row = real[int(row["real_record"])] if row["real_record"] else None
        doi = row["doi"].casefold()
        if doi and doi not in seed_compact and not (real_row and real_row["doi"].casefold() == doi):
            problems.append(f"{row['key']}: DOI {row['doi']} not in the sources")
        if row["pmid"] and not (real_row and real_row["pmid"] == row["pmid"]):
            problems.append(f"{row['key']}: PMID {row['pmid']} not recorded in real-records.json")
        title = row["title"].casefold().rstrip(".")
        if real_row and real_row["title"].casefold().rstrip(".") == title:
            continue
        # The seed breaks words across lines ("treat-ment") and repeats a line at some
        # breaks, so compare runs of five words, ignoring punctuation.
        words = re.findall(r"[a-z0-9]+", title.replace("-", ""))
        seed_loose = " ".join(re.findall(r"[a-z0-9]+", seed_words))
        runs = [" ".join(words[i : i + 5]) for i in range(max(1, len(words) - 4))]
        if not all(run in seed_loose for run in runs):
            problems.append(f"{row['key']}: title not found in the sources")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-sources", type=Path, help="folder holding seed/ and records/")
    args = parser.parse_args()
    with FACTS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    if args.check_sources:
        problems = check_sources(rows, args.check_sources)
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return 1
        print(f"{len(rows)} records checked against {args.check_sources}")
    OUTPUT.write_text(build(rows), encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(rows)} records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
