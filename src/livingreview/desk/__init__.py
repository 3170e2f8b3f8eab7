"""The reviewers' desk: screening, adjudication, data extraction and duplicate verdicts in the
browser, writing the human sheets.

A small web application on top of the package (Starlette, Jinja2 with autoescaping, plain
HTML and a little JavaScript).  It reads the last workflow run's results (queues, conflicts,
status, extraction status, uncertain duplicate pairs) and writes exactly the sheets people
would type by hand: ``resources/screening/<stage>/<reviewer>.tsv`` and
``<stage>/adjudication.tsv``, ``resources/extraction/<study>/<extractor>.tsv`` and
``adjudicated.tsv``, ``resources/dedup/verdicts.tsv``; each validated by the workflow's own
code, written atomically under a lock, with every change journalled (``journal.jsonl`` beside
the sheets).  The workflow stays the only reader of those files and the desk never writes
under ``results/``.

Modules: :mod:`.people` (roles from the config), :mod:`.project`, :mod:`.lastrun` (what the
last run wrote), :mod:`.humanfiles` (the one writer: lock, journal, atomic replace),
:mod:`.decisions` (screening sheets), :mod:`.extraction`, :mod:`.extractionform` and
:mod:`.comparison` (extraction sheets and their adjudication), :mod:`.duplicates` (dedup
verdicts), :mod:`.refresh` (the workflow run the desk starts after saves), :mod:`.views` (one
module of pages per role), :mod:`.web`, :mod:`.app`.

Start it with ``bin/desk`` (see ``python -m livingreview.desk --help``).
"""
