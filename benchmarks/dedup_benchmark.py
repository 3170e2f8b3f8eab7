#!/usr/bin/env python
"""Accuracy and speed of livingreview.dedup on labelled sets, any CSV, or synthetic data.

Three modes:

``dedup_benchmark.py DIR``
    DIR holds one folder per set with ``records.csv`` (column ``ID`` plus any of title,
    author, year, journal, volume, number, pages, doi) and ``truth.csv`` (column
    ``merged_ids``: IDs of one true duplicate group joined by ``;``). Prints per set:
    records, true pairs, predicted pairs, false-positive pairs, pairwise precision and
    recall, seconds, records/s. Default DIR: ``../shared/benchmarks/dedup``.

``dedup_benchmark.py --records FILE.csv --emit-clusters OUT.csv``
    Deduplicates any file in that column layout and writes one row per duplicate group
    (column ``merged_ids``).

``dedup_benchmark.py --synthetic N [--seed S]``
    Generates a labelled set of N realistic records (duplicates with the spelling,
    DOI-prefix, page-range, journal-abbreviation and missing-field variations real
    exports show, plus the traps: shared supplement DOIs, generic titles by one author)
    and reports seconds, peak memory and accuracy.

Seconds cover deduplication only (reading the CSV and importing Python are excluded);
peak memory is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import string
import sys
import time
from collections.abc import Iterable, Sequence
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from livingreview.dedup.benchmark import duplicate_groups, records_from_benchmark
from livingreview.dedup.settings import MatchSettings  # noqa: E402
from livingreview.io import atomic_open  # noqa: E402

DEFAULT_SETS = ROOT.parent / "shared" / "benchmarks" / "dedup"
csv.field_size_limit(10**7)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def pairs_of(groups: Iterable[Sequence[str]]) -> set[tuple[str, str]]:
    """Every unordered pair of IDs inside one group."""
    pairs: set[tuple[str, str]] = set()
    for group in groups:
        for a, b in combinations(sorted(set(group)), 2):
            pairs.add((a, b))
    return pairs


def truth_groups(path: Path) -> list[list[str]]:
    return [row["merged_ids"].split(";") for row in read_csv(path) if row.get("merged_ids")]


def evaluate(
    predicted: Iterable[Sequence[str]], truth: Iterable[Sequence[str]]
) -> dict[str, float]:
    """Pairwise counts, precision and recall."""
    predicted_pairs, true_pairs = pairs_of(predicted), pairs_of(truth)
    tp = len(predicted_pairs & true_pairs)
    fp = len(predicted_pairs - true_pairs)
    return {
        "true_pairs": len(true_pairs),
        "predicted_pairs": len(predicted_pairs),
        "false_positive_pairs": fp,
        "false_negative_pairs": len(true_pairs) - tp,
        "precision": tp / len(predicted_pairs) if predicted_pairs else 1.0,
        "recall": tp / len(true_pairs) if true_pairs else 1.0,
    }


def run_set(folder: Path, settings: MatchSettings) -> dict[str, float]:
    """Deduplicate one labelled set and score it."""
    records = records_from_benchmark(read_csv(folder / "records.csv"))
    start = time.perf_counter()
    groups = duplicate_groups(records, settings)
    seconds = time.perf_counter() - start
    scores = evaluate(groups, truth_groups(folder / "truth.csv"))
    scores.update(
        {
            "set": folder.name,
            "records": len(records),
            "seconds": seconds,
            "records_per_s": len(records) / seconds if seconds else float("inf"),
        }
    )
    return scores


def show_errors(folder: Path, settings: MatchSettings, limit: int) -> None:
    """Print false-positive and missed pairs side by side (for tuning)."""
    rows = {row["ID"]: row for row in read_csv(folder / "records.csv")}
    groups = duplicate_groups(records_from_benchmark(rows.values()), settings)
    predicted, true = pairs_of(groups), pairs_of(truth_groups(folder / "truth.csv"))
    fields = ("title", "author", "year", "journal", "volume", "pages", "doi")
    for label, pairs in (("FALSE POSITIVE", predicted - true), ("MISSED", true - predicted)):
        for a, b in sorted(pairs)[:limit]:
            from livingreview.dedup.keys import features_of
            from livingreview.dedup.match import compare

            fa, fb = (features_of(records_from_benchmark([rows[x]])[0]) for x in (a, b))
            print(f"--- {label} {a} {b} {compare(fa, fb, settings)}")
            for name in fields:
                va, vb = rows[a].get(name, ""), rows[b].get(name, "")
                print(f"  {name:8} {va[:300]!r}\n  {'':8} {vb[:300]!r}")


#: BibDedupe 0.11.0 on the shared sets (as the reference material reports it): recall, false-positive pairs, seconds.
PEER = {
    "cytology_screening": (0.9846, 0, 4.2),
    "haematology": (0.8282, 2, 3.0),
    "respiratory": (0.9253, 0, 4.2),
    "stroke": (0.9958, 0, 2.7),
    "digital_work": (0.9982, 0, 19.7),
    "special_cases": (0.3333, 0, 0.2),
    "asysd_diabetes": (0.9937, 0, 5.4),
}


def print_peer_table(results: list[dict[str, float]]) -> None:
    """These figures beside BibDedupe's (the table kept in resources/dedup/README.md)."""
    print(
        "| set | records | true pairs | false-positive pairs | recall | BibDedupe recall "
        "| seconds | BibDedupe seconds | speed-up |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        recall, _, seconds = PEER.get(r["set"], (float("nan"), 0, float("nan")))
        print(
            f"| {r['set']} | {r['records']:,} | {r['true_pairs']:,} | {r['false_positive_pairs']} | "
            f"{r['recall']:.4f} | {recall:.4f} | {r['seconds']:.2f} | {seconds:.1f} | "
            f"{seconds / r['seconds'] if r['seconds'] else float('inf'):.0f}x |"
        )


SETS_HEADER = (
    "set",
    "records",
    "true_pairs",
    "predicted_pairs",
    "false_positive_pairs",
    "precision",
    "recall",
    "seconds",
    "records_per_s",
)


def print_table(results: list[dict[str, float]]) -> None:
    print("| " + " | ".join(SETS_HEADER) + " |")
    print("|" + "---|" * len(SETS_HEADER))
    for r in results:
        print(
            f"| {r['set']} | {r['records']:,} | {r['true_pairs']:,} | {r['predicted_pairs']:,} | "
            f"{r['false_positive_pairs']} | {r['precision']:.4f} | {r['recall']:.4f} | "
            f"{r['seconds']:.2f} | {r['records_per_s']:,.0f} |"
        )


# --------------------------------------------------------------------------- synthetic

_WORDS = (
    "autoimmune hepatitis tacrolimus cyclosporine azathioprine budesonide prednisolone "
    "remission relapse fibrosis cirrhosis liver transplantation outcome cohort trial "
    "randomised controlled children adults treatment refractory response biochemical "
    "histological mycophenolate second-line therapy long-term safety efficacy analysis "
    "retrospective prospective multicentre registry patients disease management review "
    "serum immunoglobulin antibodies biopsy elastography survival mortality risk factors "
    "genetic association study clinical features diagnosis scoring system validation "
    "european american asian population incidence prevalence trends quality life"
).split()
_SURNAMES = (
    "Wang Li Zhang Liu Chen Smith Jones Garcia Muller Rossi Kim Lee Park Nguyen Tanaka "
    "Sato Johnson Brown Davis Martin Bernard Dubois Schmidt Schneider Fischer Weber "
    "Heneghan Lohse Manns Vierling Czaja Terziroli Beretta Baven Pronk Hoek Verma Singh "
    "Kumar Patel Khan Silva Santos Costa Novak Kowalski Ivanov Petrov Hansen Larsen"
).split()
_JOURNALS = (
    ("Journal of Hepatology", "J Hepatol"),
    ("Hepatology", "Hepatology"),
    ("Alimentary Pharmacology and Therapeutics", "Aliment Pharmacol Ther"),
    ("Liver International", "Liver Int"),
    ("American Journal of Gastroenterology", "Am J Gastroenterol"),
    ("Clinical Gastroenterology and Hepatology", "Clin Gastroenterol Hepatol"),
    ("Digestive Diseases and Sciences", "Dig Dis Sci"),
    ("World Journal of Gastroenterology", "World J Gastroenterol"),
    ("Journal of Clinical and Translational Hepatology", "J Clin Transl Hepatol"),
    ("European Journal of Gastroenterology and Hepatology", "Eur J Gastroenterol Hepatol"),
)


def _author(rng: random.Random) -> tuple[str, str]:
    surname = rng.choice(_SURNAMES) + (rng.choice(["", "", "", "-" + rng.choice(_SURNAMES)]))
    initials = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(1, 2)))
    return surname, initials


def _vary_title(title: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.25:
        return title.upper() if rng.random() < 0.3 else title.rstrip(".") + "."
    if roll < 0.4:
        return title + " [Chinese]"
    if roll < 0.55:
        chars = list(title)
        k = rng.randrange(len(chars))
        chars[k] = rng.choice(string.ascii_lowercase)
        return "".join(chars)
    if roll < 0.65:
        return title.replace(" and ", " & ").replace(":", " -")
    return title


def synthetic_set(n: int, seed: int = 1) -> tuple[list[dict[str, str]], list[list[str]]]:
    """N labelled records: ~70 % unique publications, the rest their duplicates."""
    rng = random.Random(seed)
    records: list[dict[str, str]] = []
    truth: list[list[str]] = []
    pub = 0
    while len(records) < n:
        pub += 1
        title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 16))).capitalize()
        authors = [_author(rng) for _ in range(rng.randint(1, 8))]
        year = rng.randint(1990, 2025)
        journal = rng.choice(_JOURNALS)
        volume = str(rng.randint(1, 80))
        issue = str(rng.randint(1, 12))
        first = rng.randint(1, 2500)
        last = first + rng.randint(1, 15)
        doi = f"10.5555/synthetic.{seed}.{pub:07d}"  # 10.5555: Crossref's test prefix
        generic = rng.random() < 0.01
        if generic:  # the "Editorial" trap: same title, same editor, different items
            title, authors = "Editorial introduction", [("Zwass", "V")]
        base = {"title": title, "year": str(year), "volume": volume, "number": issue}
        copies = 1 if generic else rng.choices([1, 2, 3, 4], weights=[70, 18, 9, 3])[0]
        ids = []
        for copy in range(copies):
            rid = f"s{len(records):07d}"
            ids.append(rid)
            bibtex = copy % 2 == 0
            row = dict(base, ID=rid)
            if copy:
                row["title"] = _vary_title(title, rng)
            row["author"] = (
                " and ".join(f"{s}, {' '.join(i)}" for s, i in authors)
                if bibtex
                else "; ".join(f"{s} {i}" for s, i in authors)
            )
            row["journal"] = journal[copy % 2]
            row["pages"] = (
                f"{first}-{last}"
                if copy % 2 == 0
                else f"{first}-{str(last)[-len(str(last - first)) :]}"
            )
            row["doi"] = (
                "" if rng.random() < 0.2 else (f"http://dx.doi.org/{doi}" if copy % 2 else doi)
            )
            if copy and rng.random() < 0.1:
                row["pages"] = ""
            records.append(row)
        if len(ids) > 1:
            truth.append(ids)
    return records[:n], [[i for i in g if int(i[1:]) < n] for g in truth if int(g[1][1:]) < n]


def run_synthetic(n: int, seed: int, settings: MatchSettings) -> dict[str, float]:
    rows, truth = synthetic_set(n, seed)
    records = records_from_benchmark(rows)
    del rows
    start = time.perf_counter()
    groups = duplicate_groups(records, settings)
    seconds = time.perf_counter() - start
    scores = evaluate(groups, truth)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scores.update(
        {
            "set": f"synthetic_{n}",
            "records": n,
            "seconds": seconds,
            "records_per_s": n / seconds,
            "peak_mib": peak_kib / 1024,
        }
    )
    return scores


def emit_clusters(records_path: Path, out_path: Path, settings: MatchSettings) -> int:
    records = records_from_benchmark(read_csv(records_path))
    groups = duplicate_groups(records, settings)
    with atomic_open(out_path) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["merged_ids"])
        for group in groups:
            writer.writerow([";".join(group)])
    return len(groups)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "sets",
        nargs="?",
        type=Path,
        default=DEFAULT_SETS,
        help="folder of labelled sets (default: ../shared/benchmarks/dedup)",
    )
    parser.add_argument("--only", nargs="*", help="run only these set names")
    parser.add_argument("--records", type=Path, help="CSV to deduplicate (with --emit-clusters)")
    parser.add_argument("--emit-clusters", type=Path, help="where to write merged_ids rows")
    parser.add_argument(
        "--synthetic",
        type=int,
        nargs="*",
        metavar="N",
        help="generate labelled sets of N records and time them",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--show-errors",
        type=int,
        default=0,
        metavar="K",
        help="print up to K false-positive and K missed pairs per set",
    )
    parser.add_argument(
        "--peer",
        action="store_true",
        help="print the table beside BibDedupe's figures (resources/dedup/README.md)",
    )
    args = parser.parse_args(argv)
    settings = MatchSettings()

    if args.records or args.emit_clusters:
        if not (args.records and args.emit_clusters):
            parser.error("--records and --emit-clusters go together")
        count = emit_clusters(args.records, args.emit_clusters, settings)
        print(f"{count} duplicate groups written to {args.emit_clusters}")
        return 0
    if args.synthetic:
        results = [run_synthetic(n, args.seed, settings) for n in args.synthetic]
        print(
            "| records | seconds | records/s | peak MiB | false-positive pairs | precision | recall |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for r in results:
            print(
                f"| {r['records']:,} | {r['seconds']:.1f} | {r['records_per_s']:,.0f} | "
                f"{r['peak_mib']:,.0f} | {r['false_positive_pairs']} | {r['precision']:.4f} | "
                f"{r['recall']:.4f} |"
            )
        return 0

    if not args.sets.is_dir():
        print(
            f"benchmark sets not found at {args.sets}: pass a folder such as "
            "../shared/benchmarks/dedup (the optional long benchmark needs ../shared)",
            file=sys.stderr,
        )
        return 2
    folders = sorted(p for p in args.sets.iterdir() if (p / "records.csv").is_file())
    if args.only:
        folders = [p for p in folders if p.name in args.only]
    results = []
    for folder in folders:
        results.append(run_set(folder, settings))
        if args.show_errors:
            show_errors(folder, settings, args.show_errors)
    if args.peer:
        print_peer_table(results)
    else:
        print_table(results)
    return 1 if any(r["false_positive_pairs"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
