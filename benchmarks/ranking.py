#!/usr/bin/env python
"""How well the queue's ranking score finds the included publications of the baseline.

    .venv/bin/python benchmarks/ranking.py [--seeds 10] [--unique results/records/unique.tsv]

Needs a finished default run (``snakemake --cores 4``) for ``results/records/unique.tsv``;
the decisions are read from ``resources/screening/`` with the screening stage's own reader and
resolution, and labelled exactly as the queues learn (:func:`settled_labels`) at each stage:

* title/abstract: "included" = passed to full text (23 of the baseline's 48), excluded at
  title/abstract otherwise (25);
* full text: "included" = included in the review (20), excluded at either stage (28).

Prints two Markdown tables, for the README:

1. the out-of-fold evaluation written to ``results/screening/ranking_evaluation.tsv``
   (stratified 5-fold cross-validation, weights learnt on the other folds);
2. a screening simulation on the labelled publications: a reviewer starts from one included
   and one excluded publication (drawn at random, per seed) and screens the rest one at a
   time in the order given by
   - *retrained*: the score learnt again after every decision (what each run now does for a
     reviewer's queue, from the settled decisions plus the reviewer's own),
   - *every 10*: learnt again after every 10 decisions only (a run per 10 decisions),
   - *fixed*: the score learnt once, on the two starting decisions, and never again,
   - *random*: a random order (per seed);
   each figure is the number of publications screened (the two starting ones included) until
   95% and until 100% of the included ones were found: mean, and min-max over the seeds.

Ties in score are broken as in the queues (first run, then publication id). Not run in CI.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from livingreview.errors import ProblemCollector  # noqa: E402
from livingreview.screening.publications import load_publications  # noqa: E402
from livingreview.screening.ranking import (  # noqa: E402
    evaluate_ranking,
    learn_weights,
    ranking_terms,
    score_terms,
    settled_labels,
)
from livingreview.screening.resolve import resolve_publications  # noqa: E402
from livingreview.screening.settings import (  # noqa: E402
    RankingSettings,
    ScreeningSettings,
    sheet_paths,
)
from livingreview.screening.sheets import read_sheets  # noqa: E402
from livingreview.screening.vocabulary import FULL_TEXT, STAGES, TITLE_ABSTRACT  # noqa: E402

QUESTION = {
    TITLE_ABSTRACT: "title/abstract (included = passed to full text)",
    FULL_TEXT: "full text (included = included in the review)",
}


@dataclass(frozen=True)
class Labelled:
    """The labelled publications of one stage, in a fixed order, with their terms."""

    ids: tuple[str, ...]
    included: Mapping[str, bool]
    terms: Mapping[str, set[str]]
    tie_break: Mapping[str, tuple[str, str]]

    @property
    def positives(self) -> list[str]:
        return [p for p in self.ids if self.included[p]]

    @property
    def negatives(self) -> list[str]:
        return [p for p in self.ids if not self.included[p]]


def load_labelled(unique: Path) -> dict[str, Labelled]:
    """Every stage's labels, exactly as this project's run learns them."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    section = config["screening"]
    settings = ScreeningSettings.from_params(section, str(config["run_date"]))
    index = load_publications(unique)
    problems = ProblemCollector()
    decisions = read_sheets(sheet_paths(ROOT / section["decisions_dir"]), settings, index, problems)
    problems.raise_any()
    resolution = resolve_publications(index, decisions, settings, problems)
    terms = {pid: ranking_terms(row) for pid, row in index.rows.items()}
    tie_break = {pid: (row.get("first_run", ""), pid) for pid, row in index.rows.items()}
    out = {}
    for stage in STAGES:
        labels = settled_labels(stage, resolution)
        out[stage] = Labelled(tuple(sorted(labels)), labels, terms, tie_break)
    return out


def ranking_settings() -> RankingSettings:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    return RankingSettings(**dict(config["screening"].get("ranking") or {}))


def ranked(
    candidates: Sequence[str], data: Labelled, known: Sequence[str], settings: RankingSettings
) -> list[str]:
    """``candidates`` in queue order, by weights learnt on the ``known`` publications."""
    weights = learn_weights(
        [data.terms[p] for p in known if data.included[p]],
        [data.terms[p] for p in known if not data.included[p]],
        settings,
    )
    return sorted(
        candidates, key=lambda p: (-score_terms(data.terms[p], weights), data.tie_break[p])
    )


def screened_until(order: Sequence[str], data: Labelled) -> tuple[int, int]:
    """Publications read, in ``order``, until 95% and until all of the included were found."""
    needed95 = math.ceil(0.95 * len(data.positives))
    found, at95 = 0, 0
    for read, pid in enumerate(order, start=1):
        found += data.included[pid]
        if found == needed95 and not at95:
            at95 = read
        if found == len(data.positives):
            return at95, read
    raise AssertionError("the order lacks included publications")


def retrained_order(
    data: Labelled, start: list[str], settings: RankingSettings, every: int = 1
) -> list[str]:
    """Screen one at a time, learning the score again after every ``every`` decisions."""
    known = list(start)
    remaining = [p for p in data.ids if p not in start]
    while remaining:
        batch = ranked(remaining, data, known, settings)[:every]
        known += batch
        remaining = [p for p in remaining if p not in batch]
    return known


def fixed_order(data: Labelled, start: list[str], settings: RankingSettings) -> list[str]:
    """The score learnt once on the starting decisions, never again."""
    return start + ranked([p for p in data.ids if p not in start], data, start, settings)


def random_order(data: Labelled, start: list[str], rng: random.Random) -> list[str]:
    rest = [p for p in data.ids if p not in start]
    rng.shuffle(rest)
    return start + rest


def simulate(
    data: Labelled, seeds: int, settings: RankingSettings
) -> dict[str, list[tuple[int, int]]]:
    """Per ordering, (screened to 95%, to 100%) for each seed."""
    orderings: dict[str, Callable[[list[str], random.Random], list[str]]] = {
        "retrained": lambda start, _: retrained_order(data, start, settings),
        "every 10": lambda start, _: retrained_order(data, start, settings, every=10),
        "fixed": lambda start, _: fixed_order(data, start, settings),
        "random": lambda start, rng: random_order(data, start, rng),
    }
    results: dict[str, list[tuple[int, int]]] = {name: [] for name in orderings}
    for seed in range(seeds):
        rng = random.Random(seed)
        start = [rng.choice(data.positives), rng.choice(data.negatives)]
        for name, order_of in orderings.items():
            results[name].append(screened_until(order_of(start, rng), data))
    return results


def spread(values: Sequence[int]) -> str:
    return f"{statistics.mean(values):.1f} ({min(values)}-{max(values)})"


def evaluation_table(labelled: Mapping[str, Labelled], settings: RankingSettings) -> list[str]:
    lines = [
        "| stage | labelled (included / excluded) | ROC AUC | average precision (random) "
        "| read to find 95% | read to find all |",
        "|---|---|---|---|---|---|",
    ]
    for stage, data in labelled.items():
        metrics = {
            str(row["metric"]): str(row["value"])
            for row in evaluate_ranking(
                [data.terms[p] for p in data.positives],
                [data.terms[p] for p in data.negatives],
                settings,
            )
        }
        chance = len(data.positives) / len(data.ids)
        lines.append(
            f"| {QUESTION[stage]} | {len(data.positives)} / {len(data.negatives)} "
            f"| {metrics['roc_auc']} | {metrics['average_precision']} ({chance:.3f}) "
            f"| {metrics['screened_to_find_95pct']} | {metrics['screened_to_find_all']} |"
        )
    return lines


def simulation_table(
    labelled: Mapping[str, Labelled], seeds: int, settings: RankingSettings
) -> list[str]:
    lines = [
        "| stage | order | read to find 95%: mean (min-max) | read to find all: mean (min-max) |",
        "|---|---|---|---|",
    ]
    names = {
        "retrained": "retrained after every decision",
        "every 10": "retrained after every 10 decisions",
        "fixed": "fixed: learnt once on the starting two",
        "random": "random",
    }
    for stage, data in labelled.items():
        for name, runs in simulate(data, seeds, settings).items():
            lines.append(
                f"| {QUESTION[stage]} | {names[name]} | {spread([r[0] for r in runs])} "
                f"| {spread([r[1] for r in runs])} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--unique", type=Path, default=ROOT / "results/records/unique.tsv")
    args = parser.parse_args(argv)
    if not args.unique.is_file():
        print(f"{args.unique} not found: run the workflow first (snakemake --cores 4)")
        return 2
    started = time.perf_counter()
    settings = ranking_settings()
    labelled = load_labelled(args.unique)
    total = len(next(iter(labelled.values())).ids)
    print(f"Out-of-fold evaluation ({settings.folds}-fold, {total} labelled publications):\n")
    print("\n".join(evaluation_table(labelled, settings)))
    print(
        f"\nScreening simulation ({args.seeds} seeds; start: 1 included + 1 excluded at random; "
        f"publications read of {total}, the starting two included):\n"
    )
    print("\n".join(simulation_table(labelled, args.seeds, settings)))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{time.perf_counter() - started:.1f} s in all; load average {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
