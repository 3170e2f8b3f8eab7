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

from .cli import USAGE, main
from .glmm import BinomialNormalModel, pool_glmm
from .intervals import clopper_pearson, ilogit, random_effects_result, z_quantile
from .logit import (
    CONTINUITY,
    cochran_q,
    logit_effects,
    pool_inverse_variance,
    tau2_dl,
    tau2_reml,
    typical_variance,
)
from .pool import pool, pool_file, pool_group, read_studies, study_count, validate_rows
from .results import COLUMNS, INPUT_COLUMNS, METHODS, Pooled, PooledRow, StudyCount

__all__ = [
    "COLUMNS",
    "CONTINUITY",
    "INPUT_COLUMNS",
    "METHODS",
    "USAGE",
    "BinomialNormalModel",
    "Pooled",
    "PooledRow",
    "StudyCount",
    "clopper_pearson",
    "cochran_q",
    "ilogit",
    "logit_effects",
    "main",
    "pool",
    "pool_file",
    "pool_glmm",
    "pool_group",
    "pool_inverse_variance",
    "random_effects_result",
    "read_studies",
    "study_count",
    "tau2_dl",
    "tau2_reml",
    "typical_variance",
    "validate_rows",
    "z_quantile",
]
