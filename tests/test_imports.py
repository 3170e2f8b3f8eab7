"""Parsing of export files into the normalised record table (livingreview.imports)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from livingreview.bibliographic import LANGUAGE_CODES, MONTH_NUMBERS, month_number
from livingreview.dedup.normalise import author_surnames, normalise_title, page_range
from livingreview.dependencies import imported_package_files
from livingreview.errors import ConfigError, InputFileError
from livingreview.imports.delimited import (
    check_column_mapping,
    delimited_row,
    mapped_columns,
    parse_delimited,
)
from livingreview.imports.fields import normalise_author, normalise_date, normalise_language
from livingreview.imports.medline import parse_medline
from livingreview.imports.ris import RIS_DIALECTS, parse_ris, scan_ris
from livingreview.imports.specs import exports_of_run
from livingreview.imports.stage import build_records, import_export, write_import
from livingreview.io import read_tsv
from livingreview.records import RECORD_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures"
IMPORTS = FIXTURES / "imports"
MEDLINE = FIXTURES / "medline"
CSV_COLUMNS = {
    "accession": "Accession Number",
    "title": "Title",
    "authors": "Authors",
    "year": "Publication Year",
    "journal": "Source Title",
    "doi": "DOI",
    "pmid": "PubMed ID",
}


def test_embase_dialect_reads_accession_pmid_doi_and_wrapped_abstract():
    rows = parse_ris(IMPORTS / "embase.ris", "embase")
    assert [r["accession"] for r in rows] == ["621381829", "621381823", ""]
    # conference abstracts of one supplement share the DOI; both rows are kept
    assert rows[0]["doi"] == rows[1]["doi"] == "10.1186/s12919-018-0099-8"
    assert rows[0]["abstract"].endswith("daily functioning and mental wellbeing.")
    assert "dyskinesia (PCD)" in rows[0]["abstract"]  # continuation line joined
    assert rows[0]["authors"] == ["Behan L", "Rubbo B", "Lucas JS", "Galvin AD"]
    assert rows[0]["publication_types"] == ["Conference Abstract"]
    assert rows[0]["language"] == ["eng"]
    pape = rows[2]
    assert pape["pmid"] == "31658173"
    assert pape["doi"] == "10.1097/meg.0000000000001580"
    assert pape["pages"] == "727-732"
    assert pape["journal_abbrev"] == "Eur. J. Gastroenterol. Hepatol."
    assert pape["date_published"] == "2020-06-01"


def test_wos_dialect_reads_wos_accession_and_split_date():
    rows = parse_ris(IMPORTS / "wos.ris", "wos")
    assert [r["accession"] for r in rows] == ["WOS:000424022700066", "WOS:000424022700040"]
    assert rows[0]["title"].startswith(
        "Caregivers' views on stigmatization and discrimination of people affected"
    )
    assert rows[0]["authors"] == ["Asampong E", "Gyeke MDP", "Oduro R"]
    assert rows[0]["journal"] == "PLOS NEGLECTED TROPICAL DISEASES"
    assert rows[0]["journal_abbrev"] == "Plos Neglect. Trop. Dis."
    assert rows[0]["date_published"] == "2018-01"
    assert rows[1]["publication_types"] == ["Review"]


def test_cochrane_dialect_reads_cn_accession_and_pubmed_in_text():
    rows = parse_ris(IMPORTS / "cochrane.ris", "cochrane_central")
    assert rows[0]["accession"] == "CN-00000000"
    assert rows[0]["pmid"] == "31658173"  # from 'N1  - PUBMED 31658173'
    assert rows[0]["pages"] == "727-732"  # SP holding the whole range
    assert rows[1]["accession"] == ""  # 'PUBMED ...' in AN is no CENTRAL number
    assert rows[1]["pmid"] == "17589903"
    assert rows[1]["pages"] == "3232-3236"


@pytest.mark.parametrize("name", ["pubmed_result1.txt", "pubmed_result2.txt", "pubmed_result3.txt"])
def test_medline_fixtures_every_record_read(name):
    path = MEDLINE / name
    rows = parse_medline(path)
    expected = [
        line[6:].strip() for line in path.read_text().splitlines() if line.startswith("PMID-")
    ]
    assert [r["pmid"] for r in rows] == expected
    assert all(r["title"] for r in rows)


def test_medline_fields():
    rows = parse_medline(MEDLINE / "pubmed_result2.txt")
    genome = next(r for r in rows if r["pmid"] == "16377612")
    assert genome["doi"] == "10.1093/bioinformatics/btk021"
    assert genome["authors"] == ["Pritchard L", "White JA", "Birch PR", "Toth IK"]
    assert genome["journal_abbrev"] == "Bioinformatics"
    assert genome["pages"] == "616-7"
    assert "Research Support, Non-U.S. Gov't" in genome["publication_types"]
    assert "Software" in genome["mesh_terms"]
    assert not any(term.startswith("*") or "/" in term for term in genome["mesh_terms"])
    first = parse_medline(MEDLINE / "pubmed_result1.txt")[0]
    assert first["date_created"] == "2002-09-16"
    assert first["date_entrez"] == "2002-09-17"
    assert first["date_published"] == "2002-09"


def test_csv_with_mapping_and_tsv():
    rows = parse_delimited(IMPORTS / "export.csv", CSV_COLUMNS, ",")
    assert rows[0]["accession"] == "WOS:000424022700066"
    assert rows[0]["pmid"] == "29377890"
    assert rows[0]["authors"] == ["Asampong E", "Gyeke MDP", "Oduro R"]
    assert rows[1]["accession"] == "" and rows[1]["doi"] == ""
    assert rows[1]["__line__"] == 3
    tsv = parse_delimited(
        IMPORTS / "export.tsv",
        {"title": "Title", "authors": "Author", "year": "Year", "doi": "DOI"},
        "\t",
    )
    assert tsv[0]["doi"] == "10.3748/wjg.v13.i23.3232"
    assert tsv[0]["authors"] == ["Larsen FS", "Vainer B"]


def _spec(file: Path, **extra) -> dict:
    spec = {
        "database": "embase",
        "search_date": "2021-10-31",
        "format": "ris",
        "dialect": "embase",
        "files": [str(file)],
    }
    spec.update(extra)
    return spec


def test_record_ids_use_accession_else_hash_and_match_the_contract():
    records, summary = import_export(_spec(IMPORTS / "embase.ris"))
    ids = [r["record_id"] for r in records]
    assert ids[:2] == ["embase:621381829", "embase:621381823"]
    assert ids[2].startswith("embase:h") and len(ids[2]) == len("embase:") + 17
    assert all(r["source"] == "embase" and r["run"] == "2021-10-31" for r in records)
    assert all(list(r) == list(RECORD_COLUMNS) for r in records)
    assert records[2]["first_author"] == "Pape"
    assert records[0]["publication_types"] == "Conference Abstract"
    assert summary["records"] == 3 and summary["with_pmid"] == 1 and summary["hashed_ids"] == 1


def test_ids_are_stable_across_reimport_and_reordering(tmp_path):
    original = (IMPORTS / "cochrane.ris").read_text()
    first, second = original.split("ER  - \n\n")
    reordered = tmp_path / "reordered.ris"
    reordered.write_text(second + "\n" + first + "ER  - \n")
    ids_a = {
        r["title"]: r["record_id"]
        for r in import_export(_spec(IMPORTS / "cochrane.ris", dialect="cochrane_central"))[0]
    }
    ids_b = {
        r["title"]: r["record_id"]
        for r in import_export(_spec(reordered, dialect="cochrane_central"))[0]
    }
    ids_c = {
        r["title"]: r["record_id"]
        for r in import_export(_spec(IMPORTS / "cochrane.ris", dialect="cochrane_central"))[0]
    }
    assert ids_a == ids_b == ids_c
    assert len(set(ids_a.values())) == 2


def test_hash_twins_are_told_apart_without_dropping_a_row():
    base = {
        "accession": "",
        "title": "Reply",
        "year": "2020",
        "authors": ["Smith J"],
        "__line__": 1,
    }
    raws = [
        (Path("f.ris"), {**base, "volume": "71"}),
        (Path("f.ris"), {**base, "volume": "72"}),
        (Path("f.ris"), {**base, "volume": "72"}),
        (Path("f.ris"), {**base, "accession": "L1", "title": "x"}),
        (Path("f.ris"), {**base, "accession": "L1", "title": "x"}),
    ]
    records = build_records(raws, "embase", "2021-10-31")
    ids = [r["record_id"] for r in records]
    assert len(records) == 5 and len(set(ids)) == 5
    assert ids[2] == ids[1] + "~2"
    assert ids[3:] == ["embase:L1", "embase:L1~2"]


def test_write_import_writes_exact_columns_and_summary(tmp_path):
    out, summary_path = tmp_path / "records.tsv", tmp_path / "summary.json"
    write_import(_spec(IMPORTS / "wos.ris", database="wos", dialect="wos"), out, summary_path)
    rows = read_tsv(out, required=RECORD_COLUMNS, allowed=RECORD_COLUMNS)
    assert [r["record_id"] for r in rows] == ["wos:WOS:000424022700066", "wos:WOS:000424022700040"]
    summary = json.loads(summary_path.read_text())
    assert summary["records"] == 2 and len(summary["files"][0]["sha256"]) == 64


def test_several_files_form_one_export(tmp_path):
    part = tmp_path / "part2.ris"
    shutil.copy(IMPORTS / "embase.ris", part)
    spec = _spec(IMPORTS / "embase.ris")
    spec["files"].append(str(part))
    records, summary = import_export(spec)
    assert summary["records"] == 6 and [f["records"] for f in summary["files"]] == [3, 3]
    assert len({r["record_id"] for r in records}) == 6  # the overlap keeps every row, ids unique


def test_one_language_table_for_imports_and_title_notes():
    """Exports' language names and the language notes of titles come from one table, so a
    language the importer codes is also a note the title normaliser strips."""
    assert normalise_language("Finnish") == "fin" and normalise_language("German") == "ger"
    assert normalise_title("Hoito autoimmuunihepatiitissa. [Finnish]") == normalise_title(
        "Hoito autoimmuunihepatiitissa"
    )
    assert all(normalise_language(name.title()) == code for name, code in LANGUAGE_CODES.items())


def test_one_month_table_for_every_reader():
    assert normalise_date("2019 Sept") == "2019-09"
    assert page_range("Sep-17") == ("", "")  # a spreadsheet turned 9-17 into a date
    assert all(month_number(name) == number for name, number in MONTH_NUMBERS.items())


def test_initials_of_up_to_five_letters_in_both_readers():
    assert normalise_author("Vierling J.M.F.R.H.") == "Vierling JMFRH"
    assert author_surnames("Vierling J.M.F.R.H.") == ("vierling",)


def test_csv_steps_check_mapping_header_and_row():
    with pytest.raises(ConfigError, match="no column mapped to 'title'"):
        check_column_mapping({"doi": "DOI"})
    with pytest.raises(InputFileError, match=r"line 1, field 'doi'.*header lacks"):
        mapped_columns(Path("x.csv"), ["Title"], {"title": "Title", "doi": "DOI"})
    index = mapped_columns(Path("x.csv"), ["DOI", "Title"], {"title": "Title", "doi": "DOI"})
    assert index == {"title": 1, "doi": 0}
    with pytest.raises(InputFileError, match=r"line 7, field 'doi'"):
        delimited_row(Path("x.csv"), 7, ["no doi", "T"], index, {"title": "Title"}, None)
    row = delimited_row(Path("x.csv"), 7, ["10.1000/X", "A  T"], index, {"title": "Title"}, None)
    assert (row["title"], row["doi"], row["__line__"]) == ("A T", "10.1000/x", 7)


def test_ris_scan_names_the_line_of_each_kind_of_mistake():
    wos = RIS_DIALECTS["wos"]
    ok = "TY  - JOUR\nTI  - A title\n  wrapped\nER  - \n\nTY  - JOUR\nTI  - B\nER  - \n"
    assert [c.start_line for c in scan_ris(Path("x.ris"), ok, wos)] == [1, 6]
    cases = {
        "TY  - JOUR\nTi  - x\nER  - \n": r"line 2, field 'Ti': malformed RIS tag line",
        "TI  - x\n": r"line 1, field 'TI': text outside a RIS record",
        "TY  - NOPE\nER  - \n": r"line 1, field 'TY': unknown RIS reference type",
        "TY  - JOUR\n  x\nER  - \n": r"line 2, field 'TY': continuation line after 'TY'",
        "TY  - JOUR\nZZ  - x\nER  - \n": r"line 2, field 'ZZ': unknown tag",
        "TY  - JOUR\nTY  - JOUR\nER  - \n": r"line 2, field 'ER': record starts before",
        "TY  - JOUR\nTI  - x\n": r"line 1, field 'ER': file ends inside a record",
    }
    for text, message in cases.items():
        with pytest.raises(InputFileError, match=message):
            scan_ris(Path("x.ris"), text, wos)


def test_rule_code_inputs_follow_the_subpackages():
    """A change to any module of imports/ or dedup/ that a job runs reruns it (the rule inputs
    are derived from the scripts' imports); the dedup job never runs the benchmark module, nor
    the module that lists its record tables while the workflow is planned, so a change there
    reruns nothing."""
    src = Path(__file__).resolve().parents[1] / "src"
    scripts = Path(__file__).resolve().parents[1] / "workflow" / "scripts"
    for script, folder, not_run in (
        ("import_export.py", "imports", set()),
        ("dedup.py", "dedup", {"benchmark.py", "inputs.py"}),
    ):
        found = {
            Path(p).name
            for p in imported_package_files(scripts / script, src)
            if f"/{folder}/" in p
        }
        expected = {p.name for p in (src / "livingreview" / folder).glob("*.py")} - not_run
        assert found == expected, (script, sorted(expected ^ found))


def test_exports_of_run_split_by_search_date():
    specs = [
        {"database": "embase", "search_date": "2021-10-31"},
        {"database": "wos", "search_date": "2026-11-24"},
        {"database": "cochrane", "search_date": "2026-11-23"},
    ]
    included, deferred = exports_of_run(specs, "2026-11-23")
    assert [s["database"] for s in included] == ["embase", "cochrane"]
    assert [s["database"] for s in deferred] == ["wos"]
    assert exports_of_run(specs, "2026-11-24") == (specs, [])
    with pytest.raises(ConfigError, match="run_date"):
        exports_of_run(specs, "23/11/2026")
