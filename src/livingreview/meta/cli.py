"""``bin/pool STUDIES.tsv OUT.tsv``: the meta-analysis as a command for any table."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from ..errors import ReviewError
from .pool import pool_file

USAGE = """usage: bin/pool STUDIES.tsv OUT.tsv

Random-effects meta-analysis of proportions (logit; DL, REML and binomial-normal GLMM, as
R's metafor computes them) for every subgroup of STUDIES.tsv.

STUDIES.tsv  tab-separated with columns study, subgroup, n, events (subgroup may be empty)
OUT.tsv      written in the meta_analysis.tsv layout, one block of rows per subgroup
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point of ``bin/pool``; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(USAGE, end="")
        return 0
    if len(args) != 2:
        print(USAGE, end="", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="pool: %(levelname)s: %(message)s")
    try:
        rows = pool_file(args[0], args[1])
    except ReviewError as exc:
        print(f"pool: error: {exc}", file=sys.stderr)
        return exc.exit_code
    groups = len({row["subgroup"] for row in rows})
    print(f"pool: wrote {len(rows)} rows for {groups} subgroup(s) to {args[1]}", file=sys.stderr)
    return 0
