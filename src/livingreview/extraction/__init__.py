"""Studies in the current synthesis: the published review's arms plus accepted new extractions.

Consumes the validated baseline (:mod:`livingreview.baseline`), the human extraction sheets in
``resources/extraction/<study_id>/<extractor>.tsv`` (read only) and the full-text inclusions
of the screening stage, and produces:

- ``studies.tsv``: one row per study and CNI in the current synthesis (baseline + accepted new
  studies), with the counts the synthesis uses and the file and line each row came from;
- ``subgroups.tsv``: accepted new studies' outcome counts by reason for starting and by line,
  which the synthesis adds to the previous version's Fig. 2 cross-tabulations;
- ``discrepancies.tsv``: every cell where two extractors' sheets for one study differ, until an
  ``adjudicated.tsv`` sheet in the study's folder resolves them;
- ``status.tsv``: per new study, whether its extraction is accepted and why not.

Modules: :mod:`.sheets` (the sheets people type: columns, reading, every rule),
:mod:`.merge` (dual extraction compared, adjudication, acceptance), :mod:`.tables` (the
tables this stage writes, their row types, reading them back), :mod:`.todo` (what is left for
extractors and the adjudicator: ``todo.tsv``).
"""
