"""Random-effects meta-analysis of single proportions (the review's remission rate).

Consumes study-level counts (rows with ``study, subgroup, n, events``; from a TSV such as
``bin/pool STUDIES.tsv`` or a pandas DataFrame built by the synthesis rule) and produces one
block of rows per subgroup in the ``meta_analysis.tsv`` layout (:data:`COLUMNS`), one row per
method, each as R's metafor computes it:

- ``DL``, ``REML``: inverse-variance random-effects models on the logit scale
  (``rma(measure = "PLO")``), in :mod:`.logit`;
- ``GLMM``: the binomial-normal model (``rma.glmm(measure = "PLO")``, lme4's adaptive
  7-point quadrature), in :mod:`.glmm`.

95% CI and prediction interval use the normal quantile; per-arm exact Clopper-Pearson
intervals are in :mod:`.intervals`. :mod:`.pool` validates the input and is the entry point
(:func:`pool`, :func:`pool_file`); :mod:`.cli` is ``bin/pool``. Reference values computed with
R (metafor 3.8-1, lme4 1.1-31) are in ``tests/fixtures/metafor/`` together with the R script
that made them.
"""
