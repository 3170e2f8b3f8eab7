"""Deduplication across sources and runs: every record collapses to one publication.

Consumes the normalised record tables of every PubMed snapshot and every imported export
(columns :data:`livingreview.records.RECORD_COLUMNS`) plus the human verdicts sheet
``resources/dedup/verdicts.tsv``; produces

* ``unique.tsv``: one row per publication with a ``publication_id`` that never moves
  (the record of the earliest run, then source priority, then record_id; a record's run is
  its snapshot's date or the run its export entered, ``imports[].entry_run``, never the
  export's search date, so ids follow from config and records whatever order exports
  arrive in), the
  canonical record shown to screeners (PubMed first, then the richest metadata), every
  member record and source, and the canonical record's columns;
* ``duplicates.tsv``: every other member record with the publication it joined, the
  record it matched, the rule and the score (each merge explained);
* ``maybe.tsv``: uncertain pairs for a human to decide in ``verdicts.tsv``;
* ``todo.tsv``: the pairs still awaiting a verdict, as the stage's line of the run's to-do
  (columns: :data:`livingreview.todo.TODO_COLUMNS`);
* ``runs.tsv``: per run and source, records identified, duplicates removed and new
  publications (the PRISMA "duplicates removed" box of each update).

Matching is explicit, rule by rule, so each merge can be explained:

1. human verdicts (``same`` merges, ``different`` forbids a merge, on every run);
2. exact keys, never blindly: one PMID merges, two different PMIDs forbid a merge; one DOI
   merges only when the titles agree too (conference supplements share one DOI);
3. fuzzy matching with rapidfuzz on the normalised title, checked against authors, year,
   volume, pages and journal; short or generic titles ("Editorial introduction", "Reply")
   need agreeing pages, volume or DOI, never the title alone;
4. correction notices (``Erratum: X``, ``X (vol 85, pg 553, 2010)``) join the article
   they correct only inside its volume, when they repeat its exact title and byline or
   the article's MEDLINE note names the notice's page; anything weaker goes to a human.

Export debris that would otherwise block a merge is recognised explicitly: a volume cell
holding the year or the other record's supplement number, a first page one typo off with
the same last page, a title exported without its subtitle or in translation, one article
cited at two places with an identical title, byline and page count.

Candidate pairs come from blocking (DOI, PMID, title prefix and suffix, year+volume+page),
so cost grows near-linearly with the number of records. Clusters are built by merging the
strongest pairs first, and a merge is refused when any two records of the two clusters
conflict (different DOIs, PMIDs, years, pages or a human ``different``), so transitive
chains never join unrelated records. Across runs, pairs are merged in run order and a new
record may join one earlier publication but never fuse two earlier publications (that
pair goes to ``maybe.tsv``), so a publication_id that screening decisions are keyed to
never disappears because new records arrived.

The subpackage, by what each module holds:

* :mod:`.normalise`, :mod:`.notices`: matching normalisers (titles, authors, journals,
  pages, volumes; correction notices);
* :mod:`.keys`: a record's comparable :class:`~.keys.Features` and the blocking keys;
* :mod:`.conflicts`, :mod:`.match`: why a pair cannot match, and :func:`~.match.compare`;
* :mod:`.cluster`: publications from the decided pairs;
* :mod:`.verdicts`: the human verdicts sheet;
* :mod:`.tables`: the stage itself, record tables in and the four tables out;
* :mod:`.benchmark`: the labelled benchmark sets' layout;
* :mod:`.settings`: thresholds and source priority.
"""
