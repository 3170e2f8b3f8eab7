# Living systematic review: calcineurin inhibitors in adult autoimmune hepatitis.
#
# This file is the table of contents. Each stage lives in workflow/rules/<stage>.smk, the
# logic in the package src/livingreview/, and every config key in
# workflow/schemas/config.schema.yaml. See README.md and docs/data-contracts.md.

import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")
sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from livingreview.runs.planning import planning_errors_marked  # noqa: E402


configfile: "config.yaml"


# An error found while planning (an invalid config...) is logged with this run's marker and
# the run recorded as failed, as a failed job would be (livingreview.runs.planning).
with planning_errors_marked(lambda: config.get("run_date")):

    include: "workflow/rules/common.smk"
    include: "workflow/rules/search.smk"
    include: "workflow/rules/imports.smk"
    include: "workflow/rules/dedup.smk"
    include: "workflow/rules/screening.smk"
    include: "workflow/rules/extraction.smk"
    include: "workflow/rules/synthesis.smk"
    include: "workflow/rules/prisma.smk"
    include: "workflow/rules/report.smk"
    include: "workflow/rules/runs.smk"


rule all:
    default_target: True
    input:
        all_targets(),
