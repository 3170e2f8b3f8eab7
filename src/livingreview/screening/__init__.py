"""Screening: reviewer decision sheets -> status, conflicts, queues and study links.

Consumes

* ``results/records/unique.tsv`` (dedup stage): one row per publication with a stable
  ``publication_id``, its ``member_record_ids`` and the canonical record's columns;
* the human decision sheets ``<decisions_dir>/<stage>/<reviewer>.tsv`` (stage
  ``title_abstract`` or ``full_text``; columns :data:`DECISION_COLUMNS`, full text adds
  ``study_id``) and ``<decisions_dir>/<stage>/adjudication.tsv`` (adds ``adjudicator``).
  They are read only: nothing here ever writes them;
* the baseline study table (``resources/baseline/studies.tsv``) to flag new study ids.

Produces (as tables returned by :func:`screen`; the workflow script writes them)

* ``status.tsv``: the resolved status of every publication (:data:`STATUSES`), with the
  exclusion reason, study id, who decided and when (PRISMA counts every box from it);
* ``conflicts.tsv``: every disagreement between reviewers, open or adjudicated;
* ``included_reports.tsv``: full-text inclusions linked to their ``study_id``;
* ``queue/<stage>/<reviewer>.tsv``: what each reviewer still has to decide, likely
  inclusions first, with eligibility hints (which never decide anything);
* ``ranking_weights.tsv`` and ``ranking_evaluation.tsv``: the transparent ranking score;
* ``todo.tsv`` and a one-line summary of who has what to do, from one count.

A decision may name the ``publication_id`` or any member ``record_id`` of a publication, so a
record that joins a cluster later inherits the cluster's screening state and is never queued
again.  Every sheet is validated before anything is returned; a bad cell raises
:class:`~livingreview.errors.ValidationError` naming the file, line, field, value and what is
allowed (all problems are logged, the first is raised).

Where things are: :mod:`.vocabulary` (stages, decisions, statuses), :mod:`.settings` (the
config section, sheet and queue paths), :mod:`.publications` (inputs from other stages),
:mod:`.sheets` (reading and checking sheets), :mod:`.resolve` (agreement, conflicts,
adjudication, assignment), :mod:`.hints`, :mod:`.ranking`, :mod:`.tables` (typed output rows),
:mod:`.queues`, :mod:`.todo` (who has what to do: the to-do list and the summary) and :mod:`.stage` (:func:`screen`, the guide, the check).
"""
