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
