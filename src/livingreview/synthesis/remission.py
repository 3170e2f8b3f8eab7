"""The remission proportion per study: the rows the meta-analysis pools and the forest plots draw.

Denominators are all treated patients, as in the article (unknown outcomes count as not in
remission). Each CNI is pooled over its study arms; both CNIs together over *studies*, a study
that used both contributing its arms summed, so that no study's patients count twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypedDict

from ..baseline import CNIS
from ..meta.intervals import clopper_pearson

STUDY_PROPORTION_COLUMNS: tuple[str, ...] = (
    "subgroup",
    "study",
    "study_id",
    "cni",
    "n",
    "events",
    "proportion",
    "ci_low",
    "ci_high",
)


class RemissionRow(TypedDict):
    """One unit of a pooled group, in ``bin/pool``'s input layout plus its study and CNI.

    ``cni`` is the arm's CNI, or in group ``both`` every CNI the study used (``; ``).
    """

    study: str
    subgroup: str
    n: int
    events: int
    study_id: str
    cni: str


class StudyProportionRow(TypedDict):
    """One row of ``study_proportions.tsv``: a unit's remission proportion and exact CI."""

    subgroup: str
    study: str
    study_id: str
    cni: str
    n: int
    events: int
    proportion: float
    ci_low: float
    ci_high: float


def remission_rows(arms: Iterable[Mapping[str, object]]) -> list[RemissionRow]:
    """Study-level remission counts in the ``study, subgroup, n, events`` layout of bin/pool.

    One row per study arm in its CNI's group. In group ``both`` one row per *study*, its arms
    summed (Pape 2019, Roberts 2020 and the Dutch cohort treated patients with each CNI;
    counting their arms separately would treat one study's patients as two independent
    studies).
    """
    arms = list(arms)
    rows: list[RemissionRow] = []
    for cni in CNIS:
        for arm in (a for a in arms if a["cni"] == cni):
            rows.append(
                RemissionRow(
                    study=str(arm["label"]),
                    subgroup=cni,
                    n=int(str(arm["n"])),
                    events=int(str(arm["remission"])),
                    study_id=str(arm["study_id"]),
                    cni=cni,
                )
            )
    studies: dict[str, list[Mapping[str, object]]] = {}
    for arm in arms:
        studies.setdefault(str(arm["study_id"]), []).append(arm)
    for study_id, study_arms in studies.items():
        rows.append(
            RemissionRow(
                study=str(study_arms[0]["label"]),
                subgroup="both",
                n=sum(int(str(a["n"])) for a in study_arms),
                events=sum(int(str(a["remission"])) for a in study_arms),
                study_id=study_id,
                cni="; ".join(str(a["cni"]) for a in study_arms),
            )
        )
    return rows


def study_proportions(
    rows: Iterable[RemissionRow], level: float = 0.95
) -> list[StudyProportionRow]:
    """Each unit's remission proportion with its exact (Clopper-Pearson) interval."""
    out = []
    for row in rows:
        low, high = clopper_pearson(row["events"], row["n"], level)
        out.append(
            StudyProportionRow(
                subgroup=row["subgroup"],
                study=row["study"],
                study_id=row["study_id"],
                cni=row["cni"],
                n=row["n"],
                events=row["events"],
                proportion=row["events"] / row["n"],
                ci_low=low,
                ci_high=high,
            )
        )
    return out
