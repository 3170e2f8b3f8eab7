"""Living systematic review of calcineurin inhibitors (CNIs) in adult autoimmune hepatitis.

One subpackage or module per workflow stage; the Snakemake scripts in ``workflow/scripts/``
are thin wrappers that read paths and parameters and call one function from here. Every module
is listed, package by package, in ``docs/architecture.md`` ("Where the code lives"); names are
imported from the module that defines them (no package re-exports).
"""

__version__ = "0.1.0"
