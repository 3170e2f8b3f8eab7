"""Broken export files stop the import with an error naming file, line and field; nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from livingreview.errors import ConfigError, InputFileError
from livingreview.imports.specs import check_import_specs
from livingreview.imports.stage import import_export, write_import

FIXTURES = Path(__file__).parent / "fixtures"
EMBASE = (FIXTURES / "imports" / "embase.ris").read_text()
MEDLINE = (FIXTURES / "medline" / "pubmed_result2.txt").read_text()
CSV = (FIXTURES / "imports" / "export.csv").read_text()
CSV_COLUMNS = {
    "accession": "Accession Number",
    "title": "Title",
    "authors": "Authors",
    "year": "Publication Year",
    "doi": "DOI",
    "pmid": "PubMed ID",
}


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _fails(
    tmp_path: Path, path: Path, spec_extra: dict, *, line: int | None, field: str | None, match: str
) -> InputFileError:
    """Assert the import raises InputFileError with file/line/field and writes nothing."""
    spec = {"database": "db", "search_date": "2021-10-31", "files": [str(path)], **spec_extra}
    out, summary = tmp_path / "out" / "records.tsv", tmp_path / "out" / "summary.json"
    with pytest.raises(InputFileError, match=match) as info:
        write_import(spec, out, summary)
    error = info.value
    assert error.path == str(path)
    assert error.line == line
    assert error.field == field
    assert str(path) in str(error)
    assert not out.exists() and not summary.exists()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    return error


RIS = {"format": "ris", "dialect": "embase"}


def test_bad_encoding_names_the_line(tmp_path):
    data = EMBASE.encode("utf-8").replace(b"Background", b"Backgr\xe9und")
    path = _write(tmp_path, "latin1.ris", data)
    _fails(tmp_path, path, RIS, line=10, field="encoding", match="not valid utf-8")


def test_latin1_declared_encoding_is_read(tmp_path):
    path = _write(tmp_path, "latin1.ris", EMBASE.replace("Behan L.", "Béhan L.").encode("latin-1"))
    records, _ = import_export(
        {
            "database": "db",
            "search_date": "2021-10-31",
            "files": [str(path)],
            "encoding": "latin-1",
            **RIS,
        }
    )
    assert records[0]["authors"].startswith("Béhan L")


def test_utf16_file_is_refused(tmp_path):
    path = _write(tmp_path, "utf16.ris", EMBASE.encode("utf-16"))
    _fails(tmp_path, path, RIS, line=1, field="encoding", match="not valid utf-8")


def test_unknown_ris_tag(tmp_path):
    path = _write(tmp_path, "tag.ris", EMBASE.replace("SN  - 1753-6561", "MH  - quality of life"))
    _fails(tmp_path, path, RIS, line=15, field="MH", match="unknown tag")


def test_malformed_ris_tag_line(tmp_path):
    path = _write(tmp_path, "tag.ris", EMBASE.replace("VL  - 12\n", "VL - 12\n", 1))
    _fails(tmp_path, path, RIS, line=13, field="VL", match="malformed RIS tag")


def test_missing_title(tmp_path):
    text = EMBASE.replace(
        "T1  - Development of a bioinformatics analysis method for diagnosis of.\n", ""
    )
    path = _write(tmp_path, "notitle.ris", text)
    _fails(tmp_path, path, RIS, line=21, field="T1/TI", match="no title")


def test_truncated_ris(tmp_path):
    text = EMBASE.rsplit("ER  - ", 1)[0]
    path = _write(tmp_path, "cut.ris", text)
    _fails(tmp_path, path, RIS, line=36, field="ER", match="truncated")


def test_text_before_the_first_record(tmp_path):
    path = _write(tmp_path, "head.ris", "Ovid export, 3 records\n" + EMBASE)
    _fails(tmp_path, path, RIS, line=1, field=None, match="outside a RIS record")


def test_unknown_reference_type(tmp_path):
    path = _write(tmp_path, "ty.ris", EMBASE.replace("TY  - JOUR", "TY  - ARTICLE", 1))
    _fails(tmp_path, path, RIS, line=1, field="TY", match="unknown RIS reference type")


def test_medline_file_declared_as_ris(tmp_path):
    path = _write(tmp_path, "medline.ris", MEDLINE)
    _fails(tmp_path, path, RIS, line=2, field="PMID", match="malformed RIS tag line")


def test_bad_doi_and_pmid_in_ris(tmp_path):
    path = _write(
        tmp_path,
        "doi.ris",
        EMBASE.replace("DO  - 10.1097/MEG.0000000000001580", "DO  - see full text"),
    )
    _fails(tmp_path, path, RIS, line=49, field="DO", match="does not hold a DOI")
    path = _write(tmp_path, "pmid.ris", EMBASE.replace("C5  - 31658173", "C5  - unknown"))
    _fails(tmp_path, path, RIS, line=48, field="C5", match="not a PubMed ID")


MED = {"format": "medline"}


def test_medline_garbage_line(tmp_path):
    lines = MEDLINE.splitlines()
    lines.insert(4, "this line is not MEDLINE")
    path = _write(tmp_path, "garbage.txt", "\n".join(lines) + "\n")
    _fails(tmp_path, path, MED, line=5, field=None, match="not a MEDLINE tag line")


def test_medline_unknown_tag(tmp_path):
    path = _write(tmp_path, "tag.txt", MEDLINE.replace("OWN - NLM", "XYZ - NLM", 1))
    _fails(tmp_path, path, MED, line=3, field="XYZ", match="unknown MEDLINE tag")


def test_medline_record_without_pmid_or_title(tmp_path):
    path = _write(tmp_path, "nopmid.txt", MEDLINE.replace("PMID- 16403221\n", "", 1))
    _fails(tmp_path, path, MED, line=2, field="OWN", match="does not start with PMID")
    no_title = "\n".join(l for l in MEDLINE.splitlines() if not l.startswith("TI  - GenomeDiagram"))
    lines = no_title.splitlines()
    # drop the continuation lines of the removed title as well
    path = _write(tmp_path, "notitle.txt", "\n".join(lines) + "\n")
    with pytest.raises(InputFileError):
        import_export({"database": "db", "search_date": "2021-10-31", "files": [str(path)], **MED})


def test_medline_records_glued_together(tmp_path):
    path = _write(
        tmp_path, "glued.txt", MEDLINE.replace("\n\nPMID- 16377612", "\nPMID- 16377612", 1)
    )
    # the second record's PMID line (line 67 in the intact file, 66 once the blank line is gone)
    _fails(tmp_path, path, MED, line=66, field="PMID", match="second PMID")


CSV_SPEC = {"format": "csv", "columns": CSV_COLUMNS}


def test_csv_with_wrong_columns(tmp_path):
    path = _write(tmp_path, "cols.csv", CSV.replace("Publication Year", "PY", 1))
    error = _fails(tmp_path, path, CSV_SPEC, line=1, field="year", match="lacks the column")
    assert "'PY'" in str(error)  # the header found is listed


def test_csv_row_with_too_many_cells_and_missing_title(tmp_path):
    path = _write(tmp_path, "cells.csv", CSV + "x,y,z,1,2,3,4,5,6\n")
    _fails(tmp_path, path, CSV_SPEC, line=4, field=None, match="row has 9 cells")
    path = _write(tmp_path, "notitle.csv", CSV + "WOS:000424022700040,,Delea MG,2018,,,,\n")
    _fails(tmp_path, path, CSV_SPEC, line=4, field="title", match="no title")


def test_unknown_format_is_refused(tmp_path):
    path = _write(tmp_path, "x.bib", "@article{x, title={y}}\n")
    with pytest.raises(ConfigError, match="unknown format 'bibtex'"):
        write_import(
            {
                "database": "db",
                "search_date": "2021-10-31",
                "files": [str(path)],
                "format": "bibtex",
            },
            tmp_path / "r.tsv",
            tmp_path / "s.json",
        )
    assert not (tmp_path / "r.tsv").exists()
    from livingreview.imports.stage import parse_export_file

    with pytest.raises(InputFileError, match="unknown export format") as info:
        parse_export_file(path, {"format": "bibtex"})
    assert info.value.field == "format"


def test_missing_file(tmp_path):
    _fails(tmp_path, tmp_path / "absent.ris", RIS, line=None, field="files", match="not found")


def test_config_checks():
    good = {
        "database": "embase",
        "search_date": "2021-10-31",
        "format": "ris",
        "dialect": "embase",
        "files": ["a"],
    }
    check_import_specs([good])
    with pytest.raises(ConfigError, match="second export"):
        check_import_specs([good, dict(good)])
    with pytest.raises(ConfigError, match="dialect"):
        check_import_specs([{**good, "dialect": None}])
    with pytest.raises(ConfigError, match="column mapping"):
        check_import_specs([{**good, "format": "csv"}])
    with pytest.raises(ConfigError, match="not a usable name"):
        check_import_specs([{**good, "database": "Web of Science"}])


def test_declared_export_file_must_exist(tmp_path):
    from livingreview.imports.specs import check_import_files

    present = tmp_path / "present.ris"
    present.write_text("x")
    spec = {"database": "wos", "search_date": "2026-11-23", "format": "ris", "dialect": "wos"}
    check_import_files([{**spec, "files": [str(present)]}])
    with pytest.raises(
        ConfigError, match=r"imports\[0\]\.files\[1\]'.*does-not-exist.ris does not exist"
    ):
        check_import_files(
            [{**spec, "files": [str(present), str(tmp_path / "does-not-exist.ris")]}]
        )


def test_csv_short_row_bad_doi_and_bad_year_are_errors(tmp_path):
    from livingreview.imports.delimited import parse_delimited

    columns = {"title": "Title", "doi": "DOI", "year": "Year"}
    path = tmp_path / "export.csv"
    path.write_text("Title,DOI,Year\nA paper,10.1000/x,2024\nShort row,10.1000/y\n")
    with pytest.raises(InputFileError, match="line 3: row has 2 cells but the header has 3"):
        parse_delimited(path, columns, ",")
    path.write_text("Title,DOI,Year\nA paper,notadoi,2024\n")
    with pytest.raises(InputFileError, match="line 2, field 'doi': DOI cell does not hold a DOI"):
        parse_delimited(path, columns, ",")
    path.write_text("Title,DOI,Year\nA paper,10.1000/x,twenty\n")
    with pytest.raises(
        InputFileError, match="line 2, field 'year': year cell holds no four-digit year"
    ):
        parse_delimited(path, columns, ",")
