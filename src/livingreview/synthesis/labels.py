"""Names for new studies as readers know them: first author and year, from the study's records.

The published review's studies carry their labels in ``resources/baseline/studies.tsv``
("Efe 2017"). A study added by an update is known to the workflow by the id its full-text
screeners gave it; readers of a forest plot need the same "First author year" form. The
label is taken from the study's own records: its included reports (``included_reports.tsv``
of the screening stage, linking publications to study ids) joined with the deduplicated
publications (``unique.tsv``), the earliest report naming the study.

Each new study also says when it was new: the first update run that found one of its reports
(``first_run`` of the publication), so a forest plot can mark it "new 2026-11-23".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

#: ``version`` of a study-table row added by an update (``baseline``: the published review).
UPDATE_VERSION = "update"


@dataclass(frozen=True)
class StudyName:
    """How a new study is shown: its label and the run that first found it."""

    label: str
    new_in: str


def _report_label(publication: Mapping[str, str]) -> str:
    """'First author year' of one publication, or '' without an author.

    >>> _report_label({"first_author": "Al Taii", "year": "2017"})
    'Al Taii 2017'
    >>> _report_label({"first_author": "", "authors": "Hegade V; Tirou K", "year": ""})
    'Hegade'
    """
    author = publication.get("first_author", "").strip()
    if not author:
        first = publication.get("authors", "").split(";")[0].strip()
        author = first.rsplit(" ", 1)[0] if " " in first else first
    year = publication.get("year", "").strip()
    return f"{author} {year}".strip() if author else ""


def new_study_names(
    arms: Iterable[Mapping[str, object]],
    included_reports: Iterable[Mapping[str, str]],
    publications: Iterable[Mapping[str, str]],
) -> dict[str, StudyName]:
    """For each new study in ``arms`` (version ``update``): its label and first run.

    The label comes from the study's earliest included report (by year, then publication
    id) that names an author; a study whose reports name none keeps its study id. A label
    that another study already uses (a baseline study, or a second new study by the same
    author in the same year) gets the study id added, so labels stay unique.
    """
    arms = list(arms)
    new_ids = sorted({str(a["study_id"]) for a in arms if a["version"] == UPDATE_VERSION})
    taken = {str(a["label"]) for a in arms if a["version"] != UPDATE_VERSION}
    by_id = {p["publication_id"]: p for p in publications}
    reports: dict[str, list[Mapping[str, str]]] = {}
    for report in included_reports:
        publication = by_id.get(report["publication_id"])
        if publication is not None:
            reports.setdefault(report["study_id"].strip(), []).append(publication)
    names: dict[str, StudyName] = {}
    for study_id in new_ids:
        found = sorted(
            reports.get(study_id, []), key=lambda p: (p.get("year") or "9999", p["publication_id"])
        )
        labels = [label for label in map(_report_label, found) if label]
        label = labels[0] if labels else study_id
        if label in taken:
            label = f"{label} ({study_id})"
        taken.add(label)
        first_runs = sorted(p.get("first_run", "") for p in found if p.get("first_run"))
        names[study_id] = StudyName(label=label, new_in=first_runs[0] if first_runs else "")
    return names


def label_new_studies(
    arms: Sequence[Mapping[str, object]], names: Mapping[str, StudyName]
) -> list[dict[str, object]]:
    """The arms with each new study's label replaced by its name (other rows unchanged)."""
    return [
        {**arm, "label": names[str(arm["study_id"])].label}
        if str(arm["study_id"]) in names
        else dict(arm)
        for arm in arms
    ]
