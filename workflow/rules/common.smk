# Shared by every stage: config validation, package-module inputs, target list.

import sys
from pathlib import Path

# The package lives in src/; bin/bootstrap installs it editable, this keeps a plain
# `snakemake` from a checkout working too.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from livingreview.config import validate_config  # noqa: E402

# Validate before any job is scheduled: nothing is written when the config is wrong.
validate_config(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")

PACKAGE = Path(workflow.basedir) / "src" / "livingreview"
SCRIPTS = Path(workflow.basedir) / "workflow" / "scripts"


wildcard_constraints:
    run_date=r"\d{4}-\d{2}-\d{2}",


def package_modules(*names):
    """Paths of the package modules a script imports, declared as rule inputs so that a
    code change reruns the rule (Snakemake only tracks the script itself)."""
    shared = ["__init__", "errors", "io", "logs"]
    return [str(PACKAGE / f"{name}.py") for name in dict.fromkeys([*shared, *names])]


# Each stage file adds its default targets with TARGETS["<stage>"] = [...]
TARGETS = {}


def all_targets():
    """Everything `snakemake` builds by default, stage by stage."""
    return [path for stage_targets in TARGETS.values() for path in stage_targets]


BASELINE_TABLES = (
    "studies.tsv",
    "arms.tsv",
    "crosstabs.tsv",
    "published_percentages.tsv",
    "discontinuations.tsv",
)


def baseline_files():
    """The published review's tables (resources/baseline/ by default)."""
    return [str(Path(config["baseline"]["dir"]) / name) for name in BASELINE_TABLES]


def extraction_sheets():
    """Every human extraction sheet: resources/extraction/<study_id>/<extractor>.tsv."""
    folder = Path(config["extraction"]["dir"])
    return sorted(str(p) for p in folder.glob("*/*.tsv"))


def included_reports():
    """Full-text inclusions (publication -> study links) from the screening stage, once it exists."""
    return ["results/screening/included_reports.tsv"] if "screening_included" in INCLUDED_OUTPUTS else []


# Set by the screening stage when it provides results/screening/included_reports.tsv.
INCLUDED_OUTPUTS = set()
