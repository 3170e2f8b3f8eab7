# Living systematic review: calcineurin inhibitors in adult autoimmune hepatitis.
#
# This file is the table of contents. Each stage lives in workflow/rules/<stage>.smk, the
# logic in the package src/livingreview/, and every config key in
# workflow/schemas/config.schema.yaml. See README.md and docs/data-contracts.md.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


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
