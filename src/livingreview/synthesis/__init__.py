"""Cross-tabulations, the published hypothesis tests, and the rows the meta-analysis pools.

Consumes the per-study arms (``results/extraction/studies.tsv``: one row per study and CNI)
and the Fig. 2 cross-tabulations (see :mod:`livingreview.baseline`) and produces:

- :mod:`.outcomes`: the outcome table (per CNI, per reason for starting, per line) and the
  three published tests (Baven-Pronk et al. 2022, Fig. 2 and Results);
- :mod:`.summary`: ``summary.md``, the outcome tables with percentages beside the article's;
- :mod:`.remission`: the remission counts per study arm (and per study for both CNIs) that
  :mod:`livingreview.meta` pools and :mod:`livingreview.forest` draws, with exact intervals;
- :mod:`.labels`: new studies named "First author year" from their records, with the update
  run that first found them.
"""
