"""The config schema as data: where it is, read once per version, and its defaults.

Kept apart from :mod:`livingreview.config` (which validates with jsonschema) so that the
settings classes of the stages take their defaults from the schema without importing the
validator: the schema is the one home of every default.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

#: The workflow's config file (``configfile:`` in the Snakefile), relative to the project.
CONFIG_FILE = "config.yaml"
#: The config schema, relative to the project.
SCHEMA_FILE = Path("workflow") / "schemas" / "config.schema.yaml"


#: This checkout's schema: the one home of every setting's default.
CHECKOUT_SCHEMA = Path(__file__).resolve().parents[2] / SCHEMA_FILE


@functools.cache
def schema_defaults() -> dict[str, Any]:
    """Every default of this checkout's schema, as a config that sets nothing would get them
    (sections with a default, filled recursively). Settings classes take their defaults from
    here, so a default is written once, in the schema. Do not change the result."""
    defaults: dict[str, Any] = {}
    fill_defaults(defaults, load_schema(CHECKOUT_SCHEMA))
    return defaults


#: libyaml's safe loader where PyYAML has it (15 times faster on the schema), else Python's.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_schema(schema_path: str | Path) -> dict[str, Any]:
    """The schema at ``schema_path``, parsed once per version of the file (shared: callers
    must not change it)."""
    info = os.stat(schema_path)
    return _parsed_schema(str(schema_path), info.st_mtime_ns, info.st_size)


@functools.cache
def _parsed_schema(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)


def fill_defaults(instance: Any, schema: Mapping[str, Any]) -> None:
    """Set ``default`` values from the schema for missing object keys, recursively."""
    if not isinstance(instance, dict) or schema.get("type") not in (None, "object"):
        return
    for key, subschema in schema.get("properties", {}).items():
        if key not in instance and "default" in subschema:
            instance[key] = copy.deepcopy(subschema["default"])
        if key in instance:
            fill_defaults(instance[key], subschema)
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        for key, value in instance.items():
            if key not in schema.get("properties", {}):
                fill_defaults(value, extra)
