"""Living systematic review of calcineurin inhibitors (CNIs) in adult autoimmune hepatitis.

One module per workflow stage; the Snakemake scripts in ``workflow/scripts/`` are thin
wrappers that read paths and parameters and call one function from here:

- :mod:`livingreview.config`     validate ``config.yaml`` against its JSON schema
- :mod:`livingreview.baseline`   the published 2021 review (Baven-Pronk et al. 2022) as data
- :mod:`livingreview.synthesis`  cross-tabulations and the published hypothesis tests
- :mod:`livingreview.io`         atomic writes and line-aware TSV reading
- :mod:`livingreview.errors`     exception classes with actionable messages
"""

__version__ = "0.1.0"
