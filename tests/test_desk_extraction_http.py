"""The extraction forms and their adjudication, driven in-process with Starlette's test client.

Synthetic publications and made-up counts only (tests/desk_support.py): the study
``smith-2025`` (publication 6) awaits extraction, ``lee-2024`` (publication 7) was accepted by
the last run.  Every refusal is compared with what the workflow's own validator says about
the same sheet typed by hand.
"""

from __future__ import annotations

import copy
import json
import shutil
import threading
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from desk_support import form_cells, make_project, pinned_clock, sheet_text, sign_in
from extraction_rows import INTOLERANCE_SUBGROUP, TACROLIMUS_ARM
from markupsafe import escape

from livingreview.desk.app import create_app
from livingreview.desk.people import people_from_config
from livingreview.errors import ConfigError, ProblemCollector, ReviewError
from livingreview.extraction.merge import check_sheets
from livingreview.extraction.sheets import collect_sheet, find_sheets

STUDY = "smith-2025"
SETTLED = "lee-2024"
# An arm without the optional reason counts (the form must accept that).
ARM = {k: v for k, v in TACROLIMUS_ARM.items() if not k.startswith("reason_")}
CSA = {**ARM, "cni": "cyclosporine", "n": "5", "remission": "2", "response": "1"}
SUBGROUP = INTOLERANCE_SUBGROUP


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(
        tmp_path / "project",
        n=8,
        full_text=[6, 7],
        new_studies={STUDY: (6,), SETTLED: (7,)},
        study_status={SETTLED: "accepted"},
    )


@pytest.fixture
def app(project, tmp_path):
    return create_app(project, clock=pinned_clock, state_dir=tmp_path / "state")


def sheet(project: Path, name: str, study: str = STUDY) -> Path:
    return project / "resources" / "extraction" / study / f"{name}.tsv"


def journal(project: Path) -> list[dict]:
    path = project / "resources" / "extraction" / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def save(client, csrf, rows, version="absent", study=STUDY, **extra):
    data = {"csrf": csrf, "version": version, "op": "save", **form_cells(rows), **extra}
    return client.post(f"/extract/{study}", data=data, follow_redirects=False)


def version_in(page: str) -> str:
    marker = 'name="version" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def workflow_messages(folder: Path, text: str, name: str = "extractor-1") -> list[str]:
    """What the workflow's validator says about ``text`` typed by hand as ``name``'s sheet,
    with the path as the workflow's rules name it (relative to the project)."""
    relative = Path("resources") / "extraction" / STUDY / f"{name}.tsv"
    (folder / relative).parent.mkdir(parents=True, exist_ok=True)
    (folder / relative).write_text(text)
    problems = ProblemCollector()
    collect_sheet(folder / relative, problems)
    return [str(e).replace(str(folder) + "/", "") for e in problems.errors]


# --------------------------------------------------------------------------- roles and access


def test_extraction_pages_need_a_session_and_the_role(app):
    anonymous, _ = sign_in(app, "reviewer-1")
    anonymous.cookies.clear()
    for path in ("/extract", f"/extract/{STUDY}", f"/adjudicate/extraction/{STUDY}"):
        assert anonymous.get(path).status_code == 401, path
    for path in (f"/extract/{STUDY}", f"/extract/{STUDY}/check"):
        assert anonymous.post(path, data=form_cells([ARM])).status_code == 401, path
    for person in ("reviewer-1", "adjudicator-1", "data-manager-1"):
        client, csrf = sign_in(app, person)
        assert client.get(f"/extract/{STUDY}").status_code == 403, person
        assert save(client, csrf, [ARM]).status_code == 403, person
    for person in ("extractor-1", "reviewer-1", "data-manager-1"):
        client, csrf = sign_in(app, person)
        assert client.get(f"/adjudicate/extraction/{STUDY}").status_code == 403, person


def test_an_extractor_lands_on_the_studies_with_their_reports(app):
    client, _ = sign_in(app, "extractor-1")
    page = client.get("/")
    assert str(page.url).endswith("/extract")
    assert f'href="/extract/{STUDY}"' in page.text and "awaiting_extraction" in page.text
    assert "synthetic case series 6" in page.text
    form = client.get(f"/extract/{STUDY}").text
    for expected in (
        "https://pubmed.ncbi.nlm.nih.gov/100006/",
        "remission = normalisation of AST and ALT",
        "*second-line* = CNI after corticosteroids",
        'value="add-arm"',
        'value="indication:intolerance"',
    ):
        assert expected in form, expected


def test_a_form_without_csrf_or_from_another_site_is_refused(app, project):
    client, csrf = sign_in(app, "extractor-1")
    assert save(client, "", [ARM]).status_code == 403
    assert client.post(f"/extract/{STUDY}/check", data=form_cells([ARM])).status_code == 403
    response = client.post(
        f"/extract/{STUDY}",
        data={"csrf": csrf, "version": "absent", "op": "save", **form_cells([ARM])},
        headers={"origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert not sheet(project, "extractor-1").exists() and journal(project) == []


def test_ids_from_the_address_are_checked(app, project):
    client, csrf = sign_in(app, "extractor-1")
    for study in ("..%2F..%2Fscreening", "nobody-2020", "smith-2025%2F..", "SMITH-2025"):
        assert client.get(f"/extract/{study}").status_code == 404, study
        assert save(client, csrf, [ARM], study=study).status_code == 404, study
    assert not (project / "resources" / "screening" / "extractor-1.tsv").exists()
    assert journal(project) == []


def test_an_extractor_who_adjudicates_is_refused():
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["screening"]["adjudicators"] = ["extractor-2"]
    with pytest.raises(ConfigError, match="extraction.extractors.*blinded"):
        people_from_config(config)
    reviewer = copy.deepcopy(config)
    reviewer["screening"]["adjudicators"] = ["adjudicator-1"]
    reviewer["extraction"]["extractors"] = ["reviewer-1", "adjudicated"]
    with pytest.raises(ConfigError, match="not usable"):
        people_from_config(reviewer)
    reviewer["extraction"]["extractors"] = ["reviewer-1"]
    assert people_from_config(reviewer)["reviewer-1"].roles == ("reviewer", "extractor")


# --------------------------------------------------------------------------- the form


def test_adding_and_removing_rows_writes_nothing(app, project):
    client, csrf = sign_in(app, "extractor-1")
    base = {"csrf": csrf, "version": "absent"}
    page = client.post(
        f"/extract/{STUDY}", data={**base, "op": "add-arm", "new_cni": "cyclosporine"}
    ).text
    assert 'name="r0.record_type" value="arm"' in page and "cyclosporine arm" in page
    cells = {**form_cells([ARM]), **base}
    page = client.post(
        f"/extract/{STUDY}",
        data={**cells, "op": "add-subgroup", "new_cni": "tacrolimus", "new_subgroup": "line:third"},
    ).text
    assert 'name="r1.record_type" value="subgroup"' in page and "tacrolimus, line: third" in page
    assert 'name="r0.n" id="r0.n" value="10"' in page  # typed values are kept
    page = client.post(
        f"/extract/{STUDY}", data={**form_cells([ARM, SUBGROUP]), **base, "op": "remove-0"}
    ).text
    assert "tacrolimus arm" not in page and "tacrolimus, indication: intolerance" in page
    bad = client.post(
        f"/extract/{STUDY}", data={**base, "op": "add-subgroup", "new_subgroup": "age:old"}
    )
    assert bad.status_code == 404
    assert not sheet(project, "extractor-1").exists() and journal(project) == []


def test_saving_writes_the_sheet_typing_it_by_hand_would_give(app, project):
    client, csrf = sign_in(app, "extractor-1")
    rows = [
        {**ARM, "female": "7", "male": "3", "sex_unknown": "0", "age_years": "47 (22-70)"},
        SUBGROUP,
    ]
    response = save(client, csrf, rows)
    assert response.status_code == 303
    assert response.headers["location"] == f"/extract/{STUDY}?saved=1"
    text = sheet(project, "extractor-1").read_text()
    assert text == sheet_text(rows)
    header = text.splitlines()[0].split("\t")
    assert "female" in header and "dose_unit" not in header  # empty optional columns left out
    [entry] = journal(project)
    assert (entry["who"], entry["role"], entry["action"]) == ("extractor-1", "extractor", "extract")
    assert entry["sheet"] == f"resources/extraction/{STUDY}/extractor-1.tsv"
    assert entry["record"] == STUDY and entry["before"] is None
    assert entry["after"][1] == SUBGROUP
    page = client.get(f"/extract/{STUDY}?saved=1").text
    assert "Saved your sheet" in page and 'value="47 (22-70)"' in page
    assert "Takes effect at the next run" in page


def test_reopening_and_changing_is_journalled_and_an_unchanged_save_writes_nothing(app, project):
    client, csrf = sign_in(app, "extractor-1")
    save(client, csrf, [ARM])
    version = version_in(client.get(f"/extract/{STUDY}").text)
    assert save(client, csrf, [ARM], version).status_code == 303
    assert len(journal(project)) == 1  # nothing changed, nothing written
    changed = {**ARM, "remission": "5", "unknown": "2"}
    assert save(client, csrf, [changed, CSA], version).status_code == 303
    assert sheet(project, "extractor-1").read_text() == sheet_text([changed, CSA])
    entry = journal(project)[-1]
    assert entry["action"] == "change"
    assert entry["before"] == [ARM] and entry["after"] == [changed, CSA]


def test_a_sheet_changed_since_the_form_was_shown_is_not_overwritten(app, project):
    client, csrf = sign_in(app, "extractor-1")
    save(client, csrf, [ARM])
    version = version_in(client.get(f"/extract/{STUDY}").text)
    by_hand = sheet_text([{**ARM, "notes": "typed by hand"}])
    sheet(project, "extractor-1").write_text(by_hand)
    response = save(client, csrf, [CSA], version)
    assert response.status_code == 409 and "has changed since this form was shown" in response.text
    assert sheet(project, "extractor-1").read_text() == by_hand
    assert save(client, csrf, [CSA], "absent").status_code == 409  # a second tab's new sheet


def test_a_sheet_the_workflow_refuses_on_disk_is_shown_with_its_message(app, project, tmp_path):
    client, csrf = sign_in(app, "extractor-1")
    broken = sheet_text([{**ARM, "remission": "9"}])
    sheet(project, "extractor-1").parent.mkdir(parents=True)
    sheet(project, "extractor-1").write_text(broken)
    page = client.get(f"/extract/{STUDY}").text
    [expected] = workflow_messages(tmp_path / "workflow", broken)
    assert "Your sheet on disk has problems" in page and escape(expected) in page
    assert save(client, csrf, [ARM], version_in(page)).status_code == 303


def test_an_accepted_study_is_read_only(app, project):
    client, csrf = sign_in(app, "extractor-1")
    page = client.get(f"/extract/{SETTLED}").text
    assert "accepted this study's extraction" in page and 'value="save"' not in page
    response = save(client, csrf, [ARM], study=SETTLED)
    assert response.status_code == 403 and "can no longer be changed here" in response.text
    assert not sheet(project, "extractor-1", SETTLED).exists()


def test_the_workflow_reads_what_the_desk_wrote(app, project):
    client, csrf = sign_in(app, "extractor-1")
    save(client, csrf, [ARM, SUBGROUP])
    client2, csrf2 = sign_in(app, "extractor-2")
    save(client2, csrf2, [ARM, SUBGROUP])
    folder = project / "resources" / "extraction"
    assert (folder / "journal.jsonl").is_file()
    sheets = find_sheets(folder)  # the journal and the lock beside the sheets are not sheets
    assert [Path(s).name for s in sheets] == ["extractor-1.tsv", "extractor-2.tsv"]
    check_sheets(
        ROOT / "resources" / "baseline",
        sheets,
        project / "results/screening/included_reports.tsv",
        2,
    )


# --------------------------------------------------------------------------- one test per rule

INTOLERANCE = dict(SUBGROUP)
INSUFFICIENT = {**SUBGROUP, "group": "insufficient_response", "n": "8", "remission": "5"}
INSUFFICIENT.update(response="2", failure="1", unknown="0")
RULES = {
    "outcomes add up to n (arm)": ([{**ARM, "remission": "5"}], "outcomes add up to 9, not n = 10"),
    "outcomes add up to n (subgroup)": (
        [ARM, {**SUBGROUP, "unknown": "0"}],
        "outcomes add up to 2, not n = 3",
    ),
    "sex all or none": ([{**ARM, "female": "6"}], "sexes: fill all of female, male, sex_unknown"),
    "sex adds up to n": (
        [{**ARM, "female": "6", "male": "3", "sex_unknown": "0"}],
        "sexes add up to 9, not n = 10",
    ),
    "reasons all or none": (
        [{**ARM, "reason_intolerance": "2"}],
        "reasons for starting: fill all of",
    ),
    "reasons add up to n": (
        [
            {
                **ARM,
                "reason_insufficient_response": "7",
                "reason_intolerance": "2",
                "reason_not_specified": "0",
            }
        ],
        "reasons for starting add up to 9, not n = 10",
    ),
    "lines all or none": ([{**ARM, "line_third": "1"}], "lines of treatment: fill all of"),
    "lines add up to n": (
        [{**ARM, "line_second": "8", "line_third": "1", "line_unknown": "0"}],
        "lines of treatment add up to 9, not n = 10",
    ),
    "discontinuations within n": ([{**ARM, "discontinued_total": "11"}], "exceeds n = 10"),
    "adverse-event discontinuations within the total": (
        [{**ARM, "discontinued_total": "2", "discontinued_adverse_events": "3"}],
        "exceeds discontinued_total",
    ),
    "a subgroup within its arm": (
        [ARM, {**SUBGROUP, "n": "11", "remission": "8", "response": "2", "failure": "0"}],
        "subgroup count exceeds the arm's n = 10",
    ),
    "the subgroups of one grouping within their arm": (
        [ARM, INSUFFICIENT, INTOLERANCE],
        "indication subgroups together have n = 11, more than the arm's 10",
    ),
    "a subgroup needs its arm": ([SUBGROUP], "subgroup row for tacrolimus but no arm row"),
    "one row per arm": ([ARM, ARM], "second row for the same arm or subgroup"),
    "CNI from the list": ([{**ARM, "cni": "sirolimus"}], "unknown CNI"),
    "grouping from the list": ([ARM, {**SUBGROUP, "grouping": "age"}], "unknown subgroup grouping"),
    "group of the grouping": ([ARM, {**SUBGROUP, "group": "third"}], "unknown subgroup"),
    "no grouping on an arm row": ([{**ARM, "grouping": "line"}], "must be empty on an arm row"),
    "record type from the list": ([{**ARM, "record_type": "Arm"}], "unknown record type"),
    "dose unit from the list": ([{**ARM, "dose_unit": "mg"}], "unknown dose unit"),
    "trough targeted from the list": (
        [{**ARM, "trough_targeted": "sometimes"}],
        "value not allowed",
    ),
    "counts are whole numbers": ([{**ARM, "n": "10.0"}], "must be a whole number of patients"),
    "counts are not negative": ([{**ARM, "remission": "-1"}], "must be a whole number"),
    "counts are numbers": ([{**ARM, "response": "two"}], "must be a whole number of patients"),
    "arm counts are required": ([{**ARM, "failure": ""}], "required on an arm row"),
    "a sheet has rows": ([], "sheet has no rows"),
}


@pytest.mark.parametrize("rule", list(RULES))
def test_the_form_refuses_what_the_workflow_refuses_with_its_message(app, project, tmp_path, rule):
    rows, fragment = RULES[rule]
    expected = workflow_messages(tmp_path / "workflow", sheet_text(rows))
    assert expected and fragment in expected[0]
    client, csrf = sign_in(app, "extractor-1")
    checked = client.post(
        f"/extract/{STUDY}/check", data=form_cells(rows), headers={"x-csrf-token": csrf}
    ).json()
    assert checked["ok"] is False
    assert [p["message"] for p in checked["problems"]] == expected
    response = save(client, csrf, rows)
    assert response.status_code == 422
    assert f"Not saved: {escape(expected[0])}" in response.text
    for message in expected:
        assert escape(message) in response.text
    assert not sheet(project, "extractor-1").exists() and journal(project) == []


def test_a_valid_sheet_is_accepted_by_the_check_as_by_the_workflow(app, tmp_path):
    rows = [ARM, INSUFFICIENT, {**INTOLERANCE, "n": "2", "remission": "1"}]
    assert workflow_messages(tmp_path / "workflow", sheet_text(rows)) == []
    client, csrf = sign_in(app, "extractor-1")
    checked = client.post(
        f"/extract/{STUDY}/check", data=form_cells(rows), headers={"x-csrf-token": csrf}
    )
    assert checked.json() == {"ok": True, "problems": []}


def test_a_study_no_longer_included_is_refused_with_the_workflow_message(
    app, project, tmp_path, monkeypatch
):
    included = project / "results/screening/included_reports.tsv"
    included.write_text("publication_id\tstudy_id\n")
    client, csrf = sign_in(app, "extractor-1")
    response = save(client, csrf, [ARM])
    assert response.status_code == 422
    folder = tmp_path / "workflow"  # the same sheet typed by hand, read by the check rule
    workflow_messages(folder, sheet_text([ARM]))
    monkeypatch.chdir(folder)
    relative = Path("resources/extraction") / STUDY / "extractor-1.tsv"
    with pytest.raises(ReviewError) as raised:
        check_sheets(ROOT / "resources" / "baseline", [relative], included, 2)
    assert "study is not included at full text" in str(raised.value)
    assert escape(str(raised.value)) in response.text


# --------------------------------------------------------------------------- blinding


def test_extractors_are_blinded_from_each_other_until_both_have_saved(app, project):
    one, csrf1 = sign_in(app, "extractor-1")
    two, csrf2 = sign_in(app, "extractor-2")
    save(one, csrf1, [{**ARM, "age_years": "SECRET-AGE-E1", "notes": "SECRET-NOTE-E1"}])
    page = two.get(f"/extract/{STUDY}").text
    assert "Hidden until you have saved yours" in page
    assert "SECRET" not in page and "extractor-1.tsv" not in page
    checked = two.post(
        f"/extract/{STUDY}/check", data=form_cells([ARM]), headers={"x-csrf-token": csrf2}
    )
    assert "SECRET" not in checked.text
    save(two, csrf2, [{**ARM, "remission": "5", "unknown": "2", "notes": "mine"}])
    page = two.get(f"/extract/{STUDY}").text
    assert "differs from yours in 3 cell(s)" in page
    assert "SECRET-AGE-E1" in page  # the differing cells, now that both have saved
    assert "SECRET-NOTE-E1" not in page  # notes are not compared, so never shown


# --------------------------------------------------------------------------- adjudication


def two_sheets(app, first, second):
    for person, rows in (("extractor-1", first), ("extractor-2", second)):
        client, csrf = sign_in(app, person)
        assert save(client, csrf, rows).status_code == 303


def test_the_adjudicator_sees_the_study_once_two_sheets_exist(app):
    client, _ = sign_in(app, "adjudicator-1")
    assert f"/adjudicate/extraction/{STUDY}" not in client.get("/adjudicate").text
    assert "Nothing to adjudicate" in client.get(f"/adjudicate/extraction/{STUDY}").text
    two_sheets(app, [ARM], [{**ARM, "remission": "5", "unknown": "2"}])
    listing = client.get("/adjudicate").text
    assert f'href="/adjudicate/extraction/{STUDY}"' in listing
    assert "2 differing cell(s) to settle" in listing


def test_differences_are_highlighted_and_settled_cell_by_cell(app, project):
    first = [{**ARM, "age_years": "47"}, SUBGROUP]
    second = [{**ARM, "remission": "5", "unknown": "2", "age_years": "47"}]
    two_sheets(app, first, second)
    client, csrf = sign_in(app, "adjudicator-1")
    page = client.get(f"/adjudicate/extraction/{STUDY}").text
    assert page.count('<tr class="differs') == 2  # remission and unknown of the arm
    assert 'id="cell-r0.remission"' in page and 'data-fill="5"' in page
    assert "Only extractor-1 has this row" in page
    version = version_in(page)
    base = {"csrf": csrf, "version": version, "r0.n": "10", "r0.response": "2", "r0.failure": "1"}
    base["r0.age_years"] = "47"
    refused = client.post(f"/adjudicate/extraction/{STUDY}", data=base)
    assert refused.status_code == 422 and "3 choice(s) left to make" in refused.text
    assert "tacrolimus arm, remission: take one sheet&#39;s value or type one" in refused.text
    chosen = {
        **base,
        "pick.r0.remission": "0",  # extractor-1's 6
        "pick.r0.unknown": "typed",
        "r0.unknown": "1",
        "keep.r1": "yes",
        **{f"r1.{c}": SUBGROUP[c] for c in ("n", "remission", "response", "failure", "unknown")},
    }
    saved = client.post(f"/adjudicate/extraction/{STUDY}", data=chosen, follow_redirects=False)
    assert saved.status_code == 303
    agreed = sheet(project, "adjudicated")
    assert agreed.read_text() == sheet_text([{**ARM, "age_years": "47"}, SUBGROUP])
    entry = journal(project)[-1]
    assert (entry["who"], entry["role"], entry["action"]) == (
        "adjudicator-1",
        "adjudicator",
        "adjudicate",
    )
    listing = client.get("/adjudicate").text
    assert "<strong>adjudicated</strong> (pending" in listing
    again = client.get(f"/adjudicate/extraction/{STUDY}").text
    assert "is saved; the values below are its own" in again


def test_an_adjudicated_sheet_the_workflow_refuses_is_not_saved(app, project, tmp_path):
    two_sheets(app, [ARM], [{**ARM, "remission": "5", "unknown": "2"}])
    client, csrf = sign_in(app, "adjudicator-1")
    version = version_in(client.get(f"/adjudicate/extraction/{STUDY}").text)
    data = {"csrf": csrf, "version": version, "r0.n": "10", "r0.response": "2", "r0.failure": "1"}
    data.update({"pick.r0.remission": "1", "pick.r0.unknown": "0"})  # 5 + 2 + 1 + 1 = 9
    response = client.post(f"/adjudicate/extraction/{STUDY}", data=data)
    bad = {**ARM, "remission": "5", "unknown": "1"}
    [expected] = workflow_messages(tmp_path / "workflow", sheet_text([bad]), "adjudicated")
    assert response.status_code == 422 and escape(expected) in response.text
    assert not sheet(project, "adjudicated").exists()


def test_an_adjudicated_sheet_can_be_withdrawn_before_a_run(app, project):
    two_sheets(app, [ARM], [{**ARM, "remission": "5", "unknown": "2"}])
    client, csrf = sign_in(app, "adjudicator-1")
    version = version_in(client.get(f"/adjudicate/extraction/{STUDY}").text)
    data = {"csrf": csrf, "version": version, **form_cells([ARM])}
    data.update({"pick.r0.remission": "0", "pick.r0.unknown": "0"})
    client.post(f"/adjudicate/extraction/{STUDY}", data=data)
    page = client.get(f"/adjudicate/extraction/{STUDY}").text
    stale = client.post(
        f"/adjudicate/extraction/{STUDY}/withdraw", data={"csrf": csrf, "version": "absent"}
    )
    assert stale.status_code == 409 and sheet(project, "adjudicated").exists()
    withdrawn = client.post(
        f"/adjudicate/extraction/{STUDY}/withdraw",
        data={"csrf": csrf, "version": version_in(page.split('id="withdraw"')[0])},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303 and not sheet(project, "adjudicated").exists()
    entry = journal(project)[-1]
    assert entry["action"] == "undo" and entry["after"] is None and entry["before"] == [ARM]


def test_extraction_journal_and_lock_live_beside_the_sheets(app, project):
    two_sheets(app, [ARM], [ARM])
    folder = project / "resources" / "extraction"
    assert (folder / ".desk.lock").exists() and (folder / "journal.jsonl").exists()
    assert not (project / "resources" / "screening" / "journal.jsonl").exists()
    shutil.rmtree(folder / STUDY)
    assert find_sheets(folder) == []


def test_two_tabs_saving_one_new_sheet_at_once_keep_one_and_refuse_the_other(app, project):
    """Both forms were filled from 'no sheet yet': the lock lets one write; the other finds
    a sheet it has not seen and is refused (409), so no save is silently lost."""
    client, csrf = sign_in(app, "extractor-1")
    other, csrf2 = sign_in(app, "extractor-2")
    barrier = threading.Barrier(3)
    results: dict[str, int] = {}

    def post(name, client, csrf, rows):
        barrier.wait()
        results[name] = save(client, csrf, rows).status_code

    threads = [
        threading.Thread(target=post, args=("tab-1", client, csrf, [ARM])),
        threading.Thread(target=post, args=("tab-2", client, csrf, [CSA])),
        threading.Thread(target=post, args=("extractor-2", other, csrf2, [ARM, CSA])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted([results["tab-1"], results["tab-2"]]) == [303, 409]
    assert results["extractor-2"] == 303
    kept = [ARM] if results["tab-1"] == 303 else [CSA]
    assert sheet(project, "extractor-1").read_text() == sheet_text(kept)
    assert sheet(project, "extractor-2").read_text() == sheet_text([ARM, CSA])
    assert sorted(e["who"] for e in journal(project)) == ["extractor-1", "extractor-2"]


def test_the_adjudication_check_answers_for_the_composed_sheet(app, project):
    two_sheets(app, [ARM], [{**ARM, "remission": "5", "unknown": "2"}])
    client, csrf = sign_in(app, "adjudicator-1")
    url = f"/adjudicate/extraction/{STUDY}"
    cells = {"r0.n": "10", "r0.response": "2", "r0.failure": "1"}
    mixed = {**cells, "pick.r0.remission": "1", "pick.r0.unknown": "0"}  # 5 and 1: 9, not 10
    answer = client.post(f"{url}/check", data=mixed, headers={"x-csrf-token": csrf}).json()
    assert [(p["row"], p["field"]) for p in answer["problems"]] == [(0, "remission")]
    assert "adjudicated.tsv, line 2, field 'remission'" in answer["problems"][0]["message"]
    agreed = {**cells, "pick.r0.remission": "0", "pick.r0.unknown": "0"}
    answer = client.post(f"{url}/check", data=agreed, headers={"x-csrf-token": csrf}).json()
    assert answer == {"ok": True, "problems": []}
    assert client.post(f"{url}/check", data=agreed).status_code == 403  # no CSRF token
    assert client.post(url, data={**agreed, "version": "absent"}).status_code == 403
    settled = client.post(
        f"/adjudicate/extraction/{SETTLED}", data={"csrf": csrf, "version": "absent"}
    )
    assert settled.status_code == 404 and not sheet(project, "adjudicated").exists()


def test_a_cell_longer_than_a_cell_may_hold_is_refused_not_cut(app, project):
    client, csrf = sign_in(app, "extractor-1")
    response = save(client, csrf, [{**TACROLIMUS_ARM, "notes": "n" * 2001}])
    assert response.status_code == 422
    assert "cell &#39;notes&#39; of row 1 is 2,001 characters long" in response.text
    assert not sheet(project, "extractor-1").exists() and journal(project) == []
