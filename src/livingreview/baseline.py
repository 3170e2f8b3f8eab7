"""The published review (Baven-Pronk et al. 2022, search to October 2021) as data.

Consumes the hand-encoded tables in ``resources/baseline/`` (see its README for how each
value was read from the article) and returns them validated:

- ``studies.tsv``: one row per included study (20 from the literature plus the Dutch cohort)
- ``arms.tsv``: one row per study and CNI with n, reasons for starting, line of treatment,
  outcome counts and the descriptive columns of Tables 1-5
- ``crosstabs.tsv``: the Fig. 2 cross-tabulations (outcome by reason for starting and by line)
  that the published tables do not allow to split per study
- ``published_percentages.tsv``: the percentages printed in the Results, for the summary
- ``discontinuations.tsv``: discontinuation counts as printed (inconsistencies kept)

Validation is strict because these numbers are the previous version of the review: every
count must be a non-negative integer, reasons/lines/outcomes must add up to n, and the
cross-tabulation totals must agree with the per-study reasons and lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConsistencyError, ValidationError
from .io import read_tsv
from .records import normalise_doi

CNIS: tuple[str, ...] = ("cyclosporine", "tacrolimus")
OUTCOMES: tuple[str, ...] = ("remission", "response", "failure", "unknown")
REASONS: tuple[str, ...] = ("insufficient_response", "intolerance", "not_specified")
LINES: tuple[str, ...] = ("second", "third", "unknown")
#: Groups of the Fig. 2 cross-tabulations, in display order.
CROSSTAB_GROUPS: dict[str, tuple[str, ...]] = {
    "indication": ("insufficient_response", "intolerance"),
    "line": ("second", "third"),
}
#: Which per-arm columns a cross-tabulation group's total must equal.
CROSSTAB_ARM_COLUMN: dict[tuple[str, str], str] = {
    ("indication", "insufficient_response"): "reason_insufficient_response",
    ("indication", "intolerance"): "reason_intolerance",
    ("line", "second"): "line_second",
    ("line", "third"): "line_third",
}

STUDY_COLUMNS = (
    "study_id",
    "label",
    "ref",
    "first_author",
    "year_in_tables",
    "year_of_reference",
    "cnis",
    "design",
    "citation",
    "pmid",
    "doi",
    "identifier_note",
    "provenance",
)
ARM_COUNT_COLUMNS = (
    "n",
    *(f"reason_{r}" for r in REASONS),
    *(f"line_{l}" for l in LINES),
    *OUTCOMES,
)
ARM_TEXT_COLUMNS = (
    "line_derivation",
    "portion_of_series",
    "age_years",
    "pretreatment",
    "pretreatment_duration_months",
    "start_dose",
    "start_dose_unit",
    "trough_level_ng_ml",
    "co_medication",
    "treatment_duration_months",
    "adverse_events",
    "follow_up_months",
    "extraction_notes",
    "provenance",
)
ARM_COLUMNS = ("study_id", "cni", *ARM_COUNT_COLUMNS, *ARM_TEXT_COLUMNS)
CROSSTAB_COLUMNS = ("grouping", "group", "outcome", "count", "provenance")
PERCENT_COLUMNS = ("grouping", "group", "outcome", "percent", "provenance")
DISCONTINUATION_COLUMNS = (
    "cni",
    "reason",
    "patients",
    "denominator",
    "percent_as_printed",
    "provenance",
    "note",
)
DESIGNS = ("case report", "case series", "unpublished case series")


@dataclass(frozen=True)
class Baseline:
    """The validated baseline tables; rows keep their source file and line."""

    studies: list[dict[str, str]]
    arms: list[dict[str, object]]
    crosstabs: list[dict[str, object]]
    percentages: list[dict[str, object]]
    discontinuations: list[dict[str, object]]


def parse_count(path: Path | str, row: Mapping[str, str], field: str) -> int:
    """A non-negative integer cell, or a ValidationError naming file, line and field."""
    raw = row.get(field, "").strip()
    if not raw.isdigit():
        raise ValidationError(
            path,
            "must be a whole number of patients",
            line=int(row["__line__"]),
            field=field,
            value=raw,
            allowed="a non-negative integer",
        )
    return int(raw)


def _require_choice(path: Path, row: dict[str, str], field: str, allowed: Iterable[str]) -> str:
    value = row[field].strip()
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValidationError(
            path,
            "value not allowed",
            line=int(row["__line__"]),
            field=field,
            value=value,
            allowed=", ".join(allowed),
        )
    return value


def load_studies(path: Path) -> list[dict[str, str]]:
    rows = read_tsv(path, required=STUDY_COLUMNS, allowed=STUDY_COLUMNS)
    seen: set[str] = set()
    for row in rows:
        line = int(row["__line__"])
        study_id = row["study_id"].strip()
        if not study_id:
            raise ValidationError(path, "study_id is empty", line=line, field="study_id")
        if study_id in seen:
            raise ValidationError(
                path, "duplicate study_id", line=line, field="study_id", value=study_id
            )
        seen.add(study_id)
        for cni in row["cnis"].split(";"):
            if cni.strip() not in CNIS:
                raise ValidationError(
                    path,
                    "unknown CNI",
                    line=line,
                    field="cnis",
                    value=cni.strip(),
                    allowed=", ".join(CNIS),
                )
        _require_choice(path, row, "design", DESIGNS)
        if row["pmid"] and not row["pmid"].isdigit():
            raise ValidationError(
                path, "PMID must be digits", line=line, field="pmid", value=row["pmid"]
            )
        if row["doi"] and normalise_doi(row["doi"]) != row["doi"]:
            raise ValidationError(
                path,
                "DOI must be written normalised",
                line=line,
                field="doi",
                value=row["doi"],
                allowed="lower case, starting '10.', no URL prefix",
            )
    return rows


def load_arms(path: Path, study_ids: set[str]) -> list[dict[str, object]]:
    rows = read_tsv(path, required=ARM_COLUMNS, allowed=ARM_COLUMNS)
    arms: list[dict[str, object]] = []
    seen: set[tuple[str, str]] = set()
    for row in rows:
        line = int(row["__line__"])
        if row["study_id"] not in study_ids:
            raise ValidationError(
                path,
                "study_id is not in studies.tsv",
                line=line,
                field="study_id",
                value=row["study_id"],
            )
        cni = _require_choice(path, row, "cni", CNIS)
        key = (row["study_id"], cni)
        if key in seen:
            raise ValidationError(
                path, "second row for the same study and CNI", line=line, field="cni", value=cni
            )
        seen.add(key)
        counts = {field: parse_count(path, row, field) for field in ARM_COUNT_COLUMNS}
        arm: dict[str, object] = {**row, **counts}
        n = counts["n"]
        for label, fields in (
            ("reasons for starting", [f"reason_{r}" for r in REASONS]),
            ("lines of treatment", [f"line_{l}" for l in LINES]),
            ("outcomes", list(OUTCOMES)),
        ):
            total = sum(counts[f] for f in fields)
            if total != n:
                raise ValidationError(
                    path,
                    f"{label} add up to {total}, not n = {n}",
                    line=line,
                    field=fields[0],
                    allowed=f"{' + '.join(fields)} = n",
                )
        arm["source_file"] = str(path)
        arm["source_line"] = line
        arms.append(arm)
    return arms


def load_crosstabs(path: Path) -> list[dict[str, object]]:
    rows = read_tsv(path, required=CROSSTAB_COLUMNS, allowed=CROSSTAB_COLUMNS)
    cells: list[dict[str, object]] = []
    seen: set[tuple[str, str, str]] = set()
    for row in rows:
        line = int(row["__line__"])
        grouping = _require_choice(path, row, "grouping", CROSSTAB_GROUPS)
        group = _require_choice(path, row, "group", CROSSTAB_GROUPS[grouping])
        outcome = _require_choice(path, row, "outcome", OUTCOMES)
        if (grouping, group, outcome) in seen:
            raise ValidationError(path, "duplicate cell", line=line, field="outcome", value=outcome)
        seen.add((grouping, group, outcome))
        cells.append({**row, "count": parse_count(path, row, "count")})
    for grouping, groups in CROSSTAB_GROUPS.items():
        for group in groups:
            missing = [o for o in OUTCOMES if (grouping, group, o) not in seen]
            if missing:
                raise ValidationError(
                    path,
                    f"cross-tabulation {grouping}={group} lacks outcome(s) {', '.join(missing)}",
                    allowed="one row per outcome: " + ", ".join(OUTCOMES),
                )
    return cells


def load_percentages(path: Path) -> list[dict[str, object]]:
    rows = read_tsv(path, required=PERCENT_COLUMNS, allowed=PERCENT_COLUMNS)
    groups = {"cni": CNIS, **CROSSTAB_GROUPS}
    percentages: list[dict[str, object]] = []
    for row in rows:
        grouping = _require_choice(path, row, "grouping", groups)
        _require_choice(path, row, "group", groups[grouping])
        _require_choice(path, row, "outcome", OUTCOMES)
        percentages.append({**row, "percent": parse_count(path, row, "percent")})
    return percentages


def load_discontinuations(path: Path) -> list[dict[str, object]]:
    rows = read_tsv(path, required=DISCONTINUATION_COLUMNS, allowed=DISCONTINUATION_COLUMNS)
    discontinuations: list[dict[str, object]] = []
    for row in rows:
        _require_choice(path, row, "cni", CNIS)
        discontinuations.append(
            {
                **row,
                "patients": parse_count(path, row, "patients"),
                "denominator": parse_count(path, row, "denominator"),
            }
        )
    return discontinuations


def _validated_count(value: object) -> int:
    """A count this module has already parsed (see :func:`parse_count`)."""
    if isinstance(value, int):
        return value
    raise TypeError(f"expected a parsed count, got {value!r}")


def check_crosstab_totals(
    arms: list[dict[str, object]], crosstabs: list[dict[str, object]], path: Path
) -> None:
    """Each Fig. 2 group total must equal the per-study count it summarises (Tables 2 and 4)."""
    for (grouping, group), column in CROSSTAB_ARM_COLUMN.items():
        crosstab_total = sum(
            _validated_count(c["count"])
            for c in crosstabs
            if c["grouping"] == grouping and c["group"] == group
        )
        arm_total = sum(_validated_count(a[column]) for a in arms)
        if crosstab_total != arm_total:
            raise ConsistencyError(
                f"{path}: the {grouping}={group} cross-tabulation totals {crosstab_total} patients, "
                f"but the per-study column '{column}' of arms.tsv adds up to {arm_total}; "
                "one of the two baseline files was mis-entered"
            )


def load_baseline(folder: str | Path) -> Baseline:
    """Read and validate every baseline table in ``folder``."""
    folder = Path(folder)
    studies = load_studies(folder / "studies.tsv")
    arms = load_arms(folder / "arms.tsv", {s["study_id"] for s in studies})
    crosstabs = load_crosstabs(folder / "crosstabs.tsv")
    check_crosstab_totals(arms, crosstabs, folder / "crosstabs.tsv")
    return Baseline(
        studies=studies,
        arms=arms,
        crosstabs=crosstabs,
        percentages=load_percentages(folder / "published_percentages.tsv"),
        discontinuations=load_discontinuations(folder / "discontinuations.tsv"),
    )
