# Stage 'report': `snakemake --report results/report.html` builds a self-contained HTML report
# for auditors from every output flagged with report() in the stage files (PRISMA diagram and
# counts, search provenance, deduplication summary, screening status, pooled estimates and
# forest plots, what's new), each with a caption in workflow/report/*.rst saying how it was
# made. This file only names the report's front page; no rule runs for it.


report: "../report/workflow.rst"
