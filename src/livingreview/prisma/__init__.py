"""PRISMA 2020 flow of the living review, counted from records and checked on every run.

Consumes the record tables of every source and run (PubMed snapshots and imported exports),
the dedup stage's ``unique.tsv``, ``duplicates.tsv`` and ``runs.tsv``, the screening stage's
``status.tsv`` and the published review's ``studies.tsv``; produces (``results/prisma/``)
the record-level ``ledger.tsv``, ``prisma.csv`` / ``prisma_baseline.csv`` in the PRISMA2020
R package's template layout, ``counts.tsv`` and the diagrams.

Modules, in the order the data flows:

* :mod:`~livingreview.prisma.template`: the PRISMA2020 template (``template.csv``, a data
  file of this package, MIT) and the boxes of the ledger;
* :mod:`~livingreview.prisma.inputs`: readers of the other stages' tables;
* :mod:`~livingreview.prisma.ledger`: one row per (flow, box, item);
* :mod:`~livingreview.prisma.identities`: the diagram's identities as set identities that
  name the ids breaking them;
* :mod:`~livingreview.prisma.counts`: counts per box and the wide ``counts.tsv``;
* :mod:`~livingreview.prisma.prisma_csv`: ``prisma.csv`` in the template layout;
* :mod:`~livingreview.prisma.stage`: the ledger job (:func:`build_prisma`);
* :mod:`~livingreview.prisma.flowchart`: the diagram, drawn from ``counts.tsv``. It is not
  imported here, so the ledger job neither loads matplotlib nor reruns when only the
  drawing code changes; import it as ``from livingreview.prisma import flowchart``;
* :mod:`~livingreview.prisma.report_lists`: the reports excluded at full text (PRISMA item
  16b) and the included reports per study, cited, read from the ledger.

Records still awaiting a decision are counted in two extra boxes, ``awaiting_title_abstract``
and ``awaiting_full_text``, and new reports of a study already included in a third,
``known_study_reports`` (appended to ``prisma.csv`` under names the R package ignores, and
written into the text of the boxes it draws), so nothing is silently dropped, the identities
hold with them and no label says more than the data.
"""
