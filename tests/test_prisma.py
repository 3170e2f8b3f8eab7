"""PRISMA 2020 ledger, counts, prisma.csv and identity checks (livingreview.prisma).

The scenarios are small constructed flows: a baseline run (the published review) and two
update runs, written as the dedup and screening stages' tables. The baseline test uses the
project's real resources/baseline/studies.tsv (20 studies + the Dutch cohort).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from livingreview.dependencies import imported_package_files
from livingreview.errors import ConsistencyError, InputFileError, ValidationError
from livingreview.io import read_tsv, write_tsv
from livingreview.prisma.counts import count_table, flow_breakdowns, flow_counts, read_counts
from livingreview.prisma.identities import check_baseline, check_identities
from livingreview.prisma.inputs import (
    BaselineStudy,
    FlowSettings,
    Publication,
    RecordRef,
    Status,
    read_baseline_studies,
)
from livingreview.prisma.ledger import LEDGER_COLUMNS, build_ledger, flows_of
from livingreview.prisma.prisma_csv import (
    csv_label,
    parse_multi_cell,
    prisma_csv_rows,
    render_prisma_csv,
)
from livingreview.prisma.stage import build_prisma
from livingreview.prisma.template import (
    EXTENSION_ROWS,
    MULTI_BOXES,
    STATUS_BOXES,
    TEMPLATE_COLUMNS,
    TEMPLATE_ROWS,
)
from livingreview.screening.vocabulary import STATUSES

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ROOT / "resources" / "baseline" / "studies.tsv"
BASELINE = "2021-10-31"
RUN1, RUN2 = "2024-05-01", "2026-11-23"
SETTINGS = FlowSettings(
    baseline_until=BASELINE,
    registers=frozenset({"ctgov"}),
    source_labels={"pubmed": "MEDLINE (PubMed)", "embase": "Embase", "ctgov": "ClinicalTrials.gov"},
)


# ----------------------------------------------------------------------------- scenario


class Scenario:
    """Records, publications and statuses of a constructed review, as in-memory inputs."""

    def __init__(self, studies: list[BaselineStudy]):
        self.records: list[RecordRef] = []
        self.publications: dict[str, Publication] = {}
        self.statuses: dict[str, Status] = {}
        self.rules: dict[str, str] = {}
        self.studies = studies

    def publication(self, run, status, *members, study="", reasons=(), source=None):
        """A publication first seen in ``run``; ``members`` are (record_id, run) pairs."""
        members = members or ((None, run),)
        ids = []
        for record_id, record_run in members:
            record_id = record_id or f"pubmed:{len(self.records) + 1000}"
            src = source or record_id.split(":")[0]
            self.records.append(RecordRef(record_id, src, record_run))
            ids.append(record_id)
            if record_id != ids[0]:
                self.rules[record_id] = "doi_title 98"
        pid = ids[0]
        self.publications[pid] = Publication(pid, run, tuple(dict.fromkeys(ids)))
        if status:
            self.statuses[pid] = Status(pid, status, tuple(reasons), study)
        return pid

    def ledger(self):
        return build_ledger(
            self.records, self.publications, self.statuses, self.rules, self.studies, SETTINGS
        )


def small_studies():
    return [
        BaselineStudy("alpha-2001", "Alpha 2001", False),
        BaselineStudy("beta-2010", "Beta 2010", False),
        BaselineStudy("cohort", "Cohort", True),
    ]


def small_scenario() -> Scenario:
    s = Scenario(small_studies())
    s.publication(
        BASELINE,
        "included",
        ("pubmed:1", BASELINE),
        ("embase:E1", BASELINE),
        ("pubmed:1", RUN2),
        study="alpha-2001",
    )
    s.publication(BASELINE, "included", ("embase:E2", BASELINE), study="beta-2010")
    s.publication(
        BASELINE, "excluded_title_abstract", ("pubmed:2", BASELINE), reasons=["Review, no data"]
    )
    # run 1: a new study, one record awaiting screening
    s.publication(RUN1, "included", ("pubmed:3", RUN1), study="gamma-2023")
    s.publication(RUN1, "awaiting_title_abstract", ("pubmed:5", RUN1))
    # run 2: another report of gamma, a report of a previous study, the full range of statuses
    s.publication(RUN2, "included", ("pubmed:9", RUN2), ("embase:E3", RUN2), study="gamma-2023")
    s.publication(RUN2, "included", ("pubmed:4", RUN2), study="alpha-2001")
    s.publication(RUN2, "included", ("embase:E4", RUN2), study="delta-2025")
    s.publication(
        RUN2, "excluded_full_text", ("pubmed:6", RUN2), reasons=["Not adults", "Meeting abstract"]
    )
    s.publication(RUN2, "excluded_full_text", ("pubmed:10", RUN2), reasons=["Not adults"])
    s.publication(RUN2, "awaiting_full_text", ("pubmed:7", RUN2))
    s.publication(RUN2, "full_text_not_retrieved", ("pubmed:8", RUN2))
    s.publication(RUN2, "excluded_title_abstract", ("ctgov:NCT1", RUN2))
    return s


def counts(ledger, flow):
    return flow_counts(ledger, flow)


# ----------------------------------------------------------------------------- the flows


def test_update_runs_previous_new_and_total_boxes():
    ledger = small_scenario().ledger()
    check_identities(ledger)
    assert flows_of(ledger) == ["baseline", RUN1, RUN2, "cumulative"]

    base = counts(ledger, "baseline")
    assert (base["database_results"], base["duplicates"], base["records_screened"]) == (4, 1, 3)
    assert (base["organisation_results"], base["other_assessed"]) == (1, 1)
    assert (
        base["new_studies"],
        base["new_reports"],
        base["total_studies"],
        base["total_reports"],
    ) == (3, 3, 3, 3)

    run1 = counts(ledger, RUN1)
    assert (run1["previous_studies"], run1["previous_reports"]) == (3, 3)
    assert (run1["records_screened"], run1["awaiting_title_abstract"]) == (1, 1)
    assert (
        run1["new_studies"],
        run1["new_reports"],
        run1["total_studies"],
        run1["total_reports"],
    ) == (1, 1, 4, 4)

    run2 = counts(ledger, RUN2)
    assert (run2["previous_studies"], run2["previous_reports"]) == (4, 4)
    # pubmed:1 retrieved again and embase:E3 are the duplicates; ctgov is a register
    assert (run2["database_results"], run2["register_results"], run2["duplicates"]) == (9, 1, 2)
    assert (run2["records_screened"], run2["records_excluded"], run2["dbr_sought_reports"]) == (
        8,
        1,
        7,
    )
    assert (run2["dbr_notretrieved_reports"], run2["awaiting_full_text"], run2["dbr_assessed"]) == (
        1,
        1,
        5,
    )
    assert (run2["dbr_excluded"], run2["new_reports"]) == (2, 3)
    # gamma is already in the previous version of run 2; only delta is new
    assert sorted(r["id"] for r in ledger if r["flow"] == RUN2 and r["box"] == "new_studies") == [
        "delta-2025"
    ]
    assert (run2["total_studies"], run2["total_reports"]) == (5, 7)

    cumulative = counts(ledger, "cumulative")
    assert (cumulative["previous_studies"], cumulative["previous_reports"]) == (3, 3)
    assert (cumulative["new_studies"], cumulative["new_reports"]) == (2, 4)
    assert (cumulative["total_studies"], cumulative["total_reports"]) == (5, 7)
    assert cumulative["awaiting_title_abstract"] == 1 and cumulative["awaiting_full_text"] == 1


def test_duplicate_rows_say_why():
    ledger = small_scenario().ledger()
    details = {
        r["id"]: r["detail"] for r in ledger if r["flow"] == RUN2 and r["box"] == "duplicates"
    }
    assert details["pubmed:1"] == f"retrieved again (first in run {BASELINE})"
    assert details["embase:E3"] == "duplicate of pubmed:9 (doi_title 98)"


def test_exclusion_reasons_are_listed_and_csv_safe():
    ledger = small_scenario().ledger()
    assert flow_breakdowns(ledger, RUN2)["dbr_excluded"] == [("Not adults", 2)]
    rows = {r["data"]: r for r in prisma_csv_rows(ledger, "baseline")}
    # the title/abstract reason never reaches dbr_excluded; database breakdown in one cell
    assert rows["dbr_excluded"]["n"] == "0"
    assert rows["database_specific_results"]["n"] == "Embase, 2; MEDLINE (PubMed), 2"
    note = [
        r["note"]
        for r in ledger
        if r["flow"] == RUN2 and r["box"] == "dbr_excluded" and r["id"] == "pubmed:6"
    ]
    assert note == ["also: Meeting abstract"]


def test_prisma_csv_agrees_with_the_ledger_and_keeps_the_template_layout():
    ledger = small_scenario().ledger()
    text = render_prisma_csv(prisma_csv_rows(ledger, "cumulative"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == TEMPLATE_COLUMNS
    template = [r[0] for r in TEMPLATE_ROWS]
    assert [r["data"] for r in rows][: len(template)] == template
    expected = flow_counts(ledger, "cumulative")
    breakdowns = flow_breakdowns(ledger, "cumulative")
    for row in rows:
        data = row["data"]
        if data in MULTI_BOXES:
            total = sum(n for _, n in parse_multi_cell(row["n"]))
            assert total == expected[data]
            if data.endswith("_specific_results"):
                assert total == expected[data.replace("_specific", "")]
            assert parse_multi_cell(row["n"]) == [
                (csv_label(label), n) for label, n in breakdowns[data]
            ]
        elif data in expected:
            assert (
                int(row["n"])
                == expected[data]
                == sum(1 for r in ledger if r["flow"] == "cumulative" and r["box"] == data)
            )
    # the extra rows use names no PRISMA_data() pattern matches
    patterns = [r[0] for r in TEMPLATE_ROWS if r[0] != "NA"]
    for name, *_ in EXTENSION_ROWS:
        assert not any(p in name for p in patterns)


def test_count_table_round_trips(tmp_path):
    ledger = small_scenario().ledger()
    table, columns = count_table(ledger)
    write_tsv(tmp_path / "counts.tsv", table, columns)
    counts_back, breakdowns, flows = read_counts(tmp_path / "counts.tsv")
    assert flows == ["baseline", RUN1, RUN2, "cumulative"]
    for flow in flows:
        assert counts_back[flow] == flow_counts(ledger, flow)
        for box, items in flow_breakdowns(ledger, flow).items():
            assert sorted(breakdowns[flow].get(box, [])) == sorted(items)


def test_no_update_run_yet_gives_an_empty_update_with_the_previous_version():
    s = small_scenario()
    s.records = [r for r in s.records if r.run == BASELINE]
    s.publications = {k: p for k, p in s.publications.items() if p.first_run == BASELINE}
    ledger = s.ledger()
    check_identities(ledger)
    cumulative = counts(ledger, "cumulative")
    assert (
        cumulative["previous_studies"],
        cumulative["new_studies"],
        cumulative["total_studies"],
    ) == (3, 0, 3)
    assert cumulative["database_results"] == 0


# ----------------------------------------------------------------------------- violations


def _broken(ledger, flow, box, ident=None, drop=True, add=None):
    out = []
    for row in ledger:
        if (
            drop
            and row["flow"] == flow
            and row["box"] == box
            and (ident is None or row["id"] == ident)
        ):
            continue
        out.append(row)
    if add:
        out.append({**{c: "" for c in LEDGER_COLUMNS}, "flow": flow, **add})
    return out


def _violation(ledger, *fragments):
    with pytest.raises(ConsistencyError) as caught:
        check_identities(ledger)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_publication_without_screening_status_breaks_identified_minus_duplicates():
    s = small_scenario()
    del s.statuses["pubmed:3"]
    _violation(
        s.ledger(),
        f"[{RUN1}] identified - duplicates",
        "only in identified records not removed as duplicates: pubmed:3",
    )


def test_record_unknown_to_dedup_is_named():
    s = small_scenario()
    s.records.append(RecordRef("pubmed:777", "pubmed", RUN2))
    _violation(s.ledger(), "pubmed:777", "records_screened")


def test_status_for_a_publication_with_no_record_is_named():
    s = small_scenario()
    s.publications["pubmed:888"] = Publication("pubmed:888", RUN2, ("pubmed:888",))
    s.statuses["pubmed:888"] = Status("pubmed:888", "excluded_title_abstract")
    _violation(
        s.ledger(),
        "only in excluded_automatic + excluded_other + awaiting_title_abstract + records_screened: pubmed:888",
    )


@pytest.mark.parametrize(
    ("box", "ident", "fragments"),
    [
        (
            "database_specific_results",
            "pubmed:4",
            ["database_results = sum of database_specific_results", "pubmed:4@"],
        ),
        ("duplicates", "embase:E3", ["identified - duplicates", "embase:E3"]),
        (
            "records_excluded",
            "ctgov:NCT1",
            ["records_screened - records_excluded = dbr_sought_reports", "ctgov:NCT1"],
        ),
        (
            "dbr_notretrieved_reports",
            "pubmed:8",
            [
                "dbr_sought_reports - dbr_notretrieved_reports - awaiting_full_text = dbr_assessed",
                "pubmed:8",
            ],
        ),
        ("awaiting_full_text", "pubmed:7", ["= dbr_assessed", "pubmed:7"]),
        (
            "dbr_excluded",
            "pubmed:10",
            [
                "dbr_assessed - dbr_excluded + other_assessed - other_excluded = new_reports",
                "pubmed:10",
            ],
        ),
        ("new_reports", "embase:E4", ["= new_reports", "embase:E4"]),
        ("new_studies", "delta-2025", ["new_studies = studies of new_reports", "delta-2025"]),
        (
            "total_studies",
            "delta-2025",
            ["previous_studies + new_studies = total_studies", "delta-2025"],
        ),
        (
            "total_reports",
            "pubmed:4",
            ["previous_reports + new_reports = total_reports", "pubmed:4"],
        ),
        ("previous_studies", "beta-2010", ["previous version = total of", "beta-2010"]),
    ],
)
def test_each_identity_violation_is_caught(box, ident, fragments):
    ledger = small_scenario().ledger()
    _violation(_broken(ledger, RUN2, box, ident), f"[{RUN2}]", *fragments)


def test_a_report_counted_twice_is_caught():
    ledger = small_scenario().ledger()
    extra = {
        "run": RUN2,
        "box": "new_reports",
        "id": "pubmed:4",
        "id_type": "publication",
        "study_id": "alpha-2001",
    }
    _violation(
        _broken(ledger, RUN2, "new_reports", drop=False, add=extra), "counted twice: pubmed:4"
    )


def test_a_record_in_two_boxes_after_dedup_is_caught():
    ledger = small_scenario().ledger()
    extra = {"run": RUN1, "box": "excluded_other", "id": "pubmed:5", "id_type": "publication"}
    _violation(_broken(ledger, RUN1, "x", drop=False, add=extra), "pubmed:5 is in both")


def test_cumulative_must_equal_the_sum_of_runs():
    ledger = small_scenario().ledger()
    _violation(
        _broken(ledger, "cumulative", "records_excluded", "ctgov:NCT1"),
        "[cumulative] records_excluded = sum over update runs",
        "ctgov:NCT1",
    )


def test_other_methods_identities():
    ledger = small_scenario().ledger()
    _violation(
        _broken(ledger, "baseline", "other_assessed"),
        "other_sought_reports - other_notretrieved_reports = other_assessed",
        "unpublished:cohort",
    )


# ----------------------------------------------------------------------------- the baseline


def seed_baseline_scenario() -> Scenario:
    """The published review's 20 literature studies, each found as a baseline record.

    Record ids come from the reference list in studies.tsv (PMID where printed, else the
    reference number as an Embase-style accession), plus two excluded records and one
    duplicate, so the flow has every step.
    """
    studies = read_baseline_studies(STUDIES, ["unpublished case series"])
    s = Scenario(studies)
    for row in read_tsv(STUDIES, required=("study_id", "pmid", "ref", "design")):
        if row["design"] == "unpublished case series":
            continue
        record = f"pubmed:{row['pmid']}" if row["pmid"] else f"embase:ref{row['ref']}"
        members = [(record, BASELINE)]
        if row["study_id"] == "pape-2019":
            members.append((f"embase:ref{row['ref']}", BASELINE))
        s.publication(BASELINE, "included", *members, study=row["study_id"])
    s.publication(
        BASELINE, "excluded_title_abstract", ("embase:rr13", BASELINE), reasons=["Review"]
    )
    s.publication(BASELINE, "excluded_full_text", ("embase:rr12", BASELINE), reasons=["Review"])
    return s


def test_baseline_flow_is_the_published_review():
    s = seed_baseline_scenario()
    assert len(s.studies) == 21 and sum(st.unpublished for st in s.studies) == 1
    ledger = s.ledger()
    check_identities(ledger)
    check_baseline(ledger, s.studies)
    base = counts(ledger, "baseline")
    assert (
        base["database_results"] == 23
        and base["duplicates"] == 1
        and base["records_screened"] == 22
    )
    assert base["dbr_assessed"] == 21 and base["dbr_excluded"] == 1
    via_databases = {
        r["study_id"] for r in ledger if r["flow"] == "baseline" and r["box"] == "dbr_assessed"
    } - {""}
    assert len(via_databases) == 20
    assert [
        r["id"] for r in ledger if r["flow"] == "baseline" and r["box"] == "organisation_results"
    ] == ["unpublished:dutch-cohort"]
    assert (base["new_studies"], base["total_studies"], base["total_reports"]) == (21, 21, 21)
    cumulative = counts(ledger, "cumulative")
    assert (
        cumulative["previous_studies"],
        cumulative["previous_reports"],
        cumulative["total_studies"],
    ) == (21, 21, 21)


def test_baseline_study_not_traced_fails_with_its_id():
    s = seed_baseline_scenario()
    pid = next(p for p, st in s.statuses.items() if st.study_id == "efe-2017")
    s.statuses[pid] = Status(pid, "excluded_full_text", ("Review",))
    ledger = s.ledger()
    check_identities(ledger)
    with pytest.raises(ConsistencyError, match="efe-2017"):
        check_baseline(ledger, s.studies)


def test_baseline_inclusion_of_an_unpublished_study_id_fails():
    s = seed_baseline_scenario()
    s.publication(BASELINE, "included", ("embase:rr8", BASELINE), study="jackson-1995")
    with pytest.raises(ConsistencyError, match="absent from the published review: jackson-1995"):
        check_baseline(s.ledger(), s.studies)


# ----------------------------------------------------------------------------- files


def write_scenario(s: Scenario, folder: Path) -> dict[str, Path]:
    """The scenario as the stages' files (record tables, unique, duplicates, runs, status)."""
    tables = {}
    for ref in s.records:
        tables.setdefault((ref.source, ref.run), []).append(
            {"record_id": ref.record_id, "source": ref.source, "run": ref.run}
        )
    paths = {}
    for (source, run), rows in tables.items():
        path = folder / source / run / "records.tsv"
        write_tsv(path, rows, ("record_id", "source", "run"))
        paths.setdefault("records", []).append(path)
    write_tsv(
        folder / "unique.tsv",
        [
            {
                "publication_id": p.publication_id,
                "member_record_ids": "; ".join(p.members),
                "first_run": p.first_run,
            }
            for p in s.publications.values()
        ],
        ("publication_id", "member_record_ids", "first_run"),
    )
    write_tsv(
        folder / "duplicates.tsv",
        [
            {"record_id": r, "duplicate_of": "", "rule": rule.split()[0], "score": rule.split()[1]}
            for r, rule in s.rules.items()
        ],
        ("record_id", "duplicate_of", "rule", "score"),
    )
    write_tsv(
        folder / "status.tsv",
        [
            {
                "publication_id": st.publication_id,
                "status": st.status,
                "exclusion_reason_label": "; ".join(st.reasons),
                "study_id": st.study_id,
            }
            for st in s.statuses.values()
        ],
        ("publication_id", "status", "exclusion_reason_label", "study_id"),
    )
    ledger = s.ledger()
    runs = {}
    for row in ledger:
        if row["flow"] != "cumulative" and row["box"] in (
            "database_results",
            "register_results",
            "duplicates",
        ):
            for source in (row["source"], "all"):
                c = runs.setdefault(
                    (row["run"], source),
                    {
                        "run": row["run"],
                        "source": source,
                        "records_identified": 0,
                        "duplicates_removed": 0,
                    },
                )
                c["records_identified" if row["box"] != "duplicates" else "duplicates_removed"] += 1
    write_tsv(
        folder / "runs.tsv",
        runs.values(),
        ("run", "source", "records_identified", "duplicates_removed"),
    )
    write_tsv(
        folder / "studies.tsv",
        [
            {
                "study_id": st.study_id,
                "label": st.label,
                "design": "unpublished case series" if st.unpublished else "case series",
            }
            for st in s.studies
        ],
        ("study_id", "label", "design"),
    )
    return {
        **{k: folder / f"{k}.tsv" for k in ("unique", "duplicates", "runs", "status", "studies")},
        "records": paths["records"],
    }


def run_build(paths, out: Path):
    return build_prisma(
        paths["records"],
        paths["unique"],
        paths["duplicates"],
        paths["runs"],
        paths["status"],
        paths["studies"],
        SETTINGS,
        ledger_path=out / "ledger.tsv",
        prisma_csv=out / "prisma.csv",
        prisma_baseline_csv=out / "prisma_baseline.csv",
        counts_path=out / "counts.tsv",
    )


def test_build_prisma_writes_consistent_files(tmp_path):
    paths = write_scenario(small_scenario(), tmp_path / "in")
    out = tmp_path / "out"
    run_build(paths, out)
    ledger = read_tsv(out / "ledger.tsv", required=LEDGER_COLUMNS, allowed=LEDGER_COLUMNS)
    keys = [(r["flow"], r["box"], r["id"], r["run"]) for r in ledger]
    assert len(keys) == len(set(keys)), "one row per (flow, box, item)"
    check_identities(ledger)
    with open(out / "prisma.csv", encoding="utf-8", newline="") as handle:
        rows = {r["data"]: r for r in csv.DictReader(handle)}
    assert rows["total_studies"]["n"] == "5" and rows["previous_studies"]["n"] == "3"
    assert rows["awaiting_title_abstract"]["n"] == "1"
    assert rows["dbr_excluded"]["n"] == "Not adults, 2"
    with open(out / "prisma_baseline.csv", encoding="utf-8", newline="") as handle:
        base = {r["data"]: r for r in csv.DictReader(handle)}
    assert base["organisation_results"]["n"] == "1" and base["total_studies"]["n"] == "3"


def test_build_prisma_checks_dedup_counts_and_writes_nothing_on_error(tmp_path):
    paths = write_scenario(small_scenario(), tmp_path / "in")
    rows = read_tsv(paths["runs"])
    for row in rows:
        if row["run"] == RUN2 and row["source"] == "pubmed":
            row["duplicates_removed"] = "0"
    write_tsv(paths["runs"], rows, ("run", "source", "records_identified", "duplicates_removed"))
    with pytest.raises(
        ConsistencyError,
        match=f"duplicates_removed of run {RUN2} source pubmed is 0, the ledger counts 1",
    ):
        run_build(paths, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unknown_status_is_a_validation_error(tmp_path):
    paths = write_scenario(small_scenario(), tmp_path / "in")
    text = paths["status"].read_text().replace("awaiting_full_text", "waiting")
    paths["status"].write_text(text)
    with pytest.raises(
        ValidationError,
        match="unknown screening status.*'waiting'.*allowed: awaiting_title_abstract",
    ):
        run_build(paths, tmp_path / "out")


def test_missing_column_is_an_input_file_error(tmp_path):
    paths = write_scenario(small_scenario(), tmp_path / "in")
    paths["unique"].write_text("publication_id\tfirst_run\npubmed:1\t2021-10-31\n")
    with pytest.raises(InputFileError, match="missing column.*member_record_ids"):
        run_build(paths, tmp_path / "out")


def test_the_ledger_rule_reruns_when_any_module_or_the_template_changes():
    """Code inputs are derived from the script's imports (livingreview.dependencies): every
    module of the subpackage the ledger job runs, and the template data file, are inputs; the
    drawing code and the report lists are not (the ledger job does not import them)."""
    files = {
        Path(p).relative_to(ROOT / "src" / "livingreview" / "prisma").as_posix()
        for p in imported_package_files(
            ROOT / "workflow" / "scripts" / "prisma_ledger.py", ROOT / "src"
        )
        if "/prisma/" in Path(p).as_posix()
    }
    package = ROOT / "src" / "livingreview" / "prisma"
    modules = {p.name for p in package.glob("*.py")} - {"flowchart.py", "report_lists.py"}
    assert modules | {"template.csv"} <= files
    assert "flowchart.py" not in files and "report_lists.py" not in files


def test_prisma_counts_every_screening_status_and_no_other():
    """PRISMA takes the six statuses from the screening stage's vocabulary: one per box path."""
    assert tuple(STATUS_BOXES) == STATUSES
