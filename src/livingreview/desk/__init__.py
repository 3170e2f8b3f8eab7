"""The reviewers' desk: screening and adjudication in the browser, writing the human sheets.

A small web application on top of the package (Starlette, Jinja2 with autoescaping, plain
HTML and a little JavaScript).  It reads the last workflow run's results (queues, conflicts,
status) and writes exactly the sheets people would type by hand
(``resources/screening/<stage>/<reviewer>.tsv``, ``<stage>/adjudication.tsv``), validated
by the workflow's own reader, atomically, under a lock, with every change journalled
(``resources/screening/journal.jsonl``).  The workflow stays the only reader of those files
and the desk never writes under ``results/``.

Start it with ``bin/desk`` (see ``python -m livingreview.desk --help``).
"""

from __future__ import annotations

from .app import build_desk, create_app

__all__ = ["build_desk", "create_app"]
