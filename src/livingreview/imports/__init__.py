"""Import other databases' export files into the normalised record table.

Consumes the export files declared under ``imports:`` in ``config.yaml`` (files kept in
``resources/imports/<database>/``), in one of these formats, each with a module of its own:

* RIS in three vendor dialects, parsed with :mod:`rispy` (:mod:`.ris`);
* PubMed MEDLINE/NBIB text, parsed with :func:`Bio.Medline.parse` (:mod:`.medline`);
* CSV/TSV exports with a column mapping given in the config (:mod:`.delimited`).

Produces, per declared export, rows with exactly :data:`livingreview.records.RECORD_COLUMNS`
(:mod:`.stage`): ``record_id = <database>:<accession>`` (the database's own accession number
when the export has one, else ``<database>:h<16 hex>``, a hash of the normalised title, year
and first author; see :func:`~.fields.stable_local_id`), ``source = <database>``,
``run = <search date>``. Field normalisers live in :mod:`.fields`; the config's export
declarations are checked and looked up in :mod:`.specs`.

Nothing is skipped silently: every line of a RIS or MEDLINE file is checked before the
parser sees it (rispy and Bio.Medline both accept malformed input without complaint), and a
bad byte, an unknown tag, a record without a title, a truncated record, a CSV without a
mapped column or an unknown format raises :class:`~livingreview.errors.InputFileError`
naming the file, line and field. Parsing happens before anything is written.
"""

from __future__ import annotations

from .delimited import CSV_FIELDS, parse_delimited
from .encoding import read_export_text
from .fields import (
    extract_year,
    join_pages,
    normalise_author,
    normalise_date,
    normalise_language,
    stable_local_id,
    surname,
)
from .medline import MEDLINE_TAGS, parse_medline
from .ris import RIS_DIALECTS, RisDialect, parse_ris
from .specs import (
    DATABASE_NAME,
    FORMATS,
    check_import_files,
    check_import_specs,
    exports_of_run,
    find_spec,
    import_table_path,
)
from .stage import build_records, import_export, parse_export_file, to_record, write_import

__all__ = [
    "CSV_FIELDS",
    "DATABASE_NAME",
    "FORMATS",
    "MEDLINE_TAGS",
    "RIS_DIALECTS",
    "RisDialect",
    "build_records",
    "check_import_files",
    "check_import_specs",
    "exports_of_run",
    "extract_year",
    "find_spec",
    "import_export",
    "import_table_path",
    "join_pages",
    "normalise_author",
    "normalise_date",
    "normalise_language",
    "parse_delimited",
    "parse_export_file",
    "parse_medline",
    "parse_ris",
    "read_export_text",
    "stable_local_id",
    "surname",
    "to_record",
    "write_import",
]
