"""Validate the workflow configuration against ``workflow/schemas/config.schema.yaml``.

Snakemake's own ``validate`` reports the first jsonschema message; this module reports
*every* problem with the dotted key, the value found and what the schema allows, and fills
in schema defaults so that the rest of the workflow never guesses.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .errors import ConfigError


def load_schema(schema_path: str | Path) -> dict[str, Any]:
    # libyaml's loader when PyYAML has it: the pure-Python one takes ten times as long on the
    # schema, at every start of the workflow.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(schema_path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


def _dotted(path: list[Any]) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


def _allowed(error: jsonschema.ValidationError) -> str | None:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "enum":
        return ", ".join(repr(v) for v in error.validator_value)
    if error.validator == "additionalProperties":
        props = sorted(schema.get("properties", {}))
        return "the keys " + ", ".join(props) if props else None
    if error.validator == "type":
        return f"a value of type {error.validator_value}"
    if error.validator in {"pattern", "format"}:
        return schema.get("description") or f"{error.validator} {error.validator_value!r}"
    if error.validator in {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}:
        return f"{error.validator} {error.validator_value}"
    if "description" in schema:
        return schema["description"]
    return None


def _fill_defaults(instance: Any, schema: Mapping[str, Any]) -> None:
    """Set ``default`` values from the schema for missing object keys, recursively."""
    if not isinstance(instance, dict) or schema.get("type") not in (None, "object"):
        return
    for key, subschema in schema.get("properties", {}).items():
        if key not in instance and "default" in subschema:
            instance[key] = copy.deepcopy(subschema["default"])
        if key in instance:
            _fill_defaults(instance[key], subschema)
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        for key, value in instance.items():
            if key not in schema.get("properties", {}):
                _fill_defaults(value, extra)


def validate_config(config: dict[str, Any], schema_path: str | Path) -> dict[str, Any]:
    """Check ``config`` in place against the schema and fill defaults; return it.

    Raises:
        ConfigError: listing every violation, each with its dotted key and allowed values.
    """
    schema = load_schema(schema_path)
    _fill_defaults(config, schema)
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return config
    first = errors[0]
    if len(errors) == 1:
        raise ConfigError(_dotted(list(first.absolute_path)), first.message, _allowed(first))
    details = "; ".join(
        f"'{_dotted(list(e.absolute_path))}': {e.message}"
        + (f" (allowed: {_allowed(e)})" if _allowed(e) else "")
        for e in errors
    )
    raise ConfigError(_dotted(list(first.absolute_path)), f"{len(errors)} problems: {details}")


def use_checkout_sources(src: str | Path) -> None:
    """Make script jobs import this checkout's package, whatever an editable install points at.

    Snakemake declares the package modules of *this* checkout as rule inputs; the code that
    runs must be the same files, also in a second clone or a test's temporary copy.
    """
    current = os.environ.get("PYTHONPATH", "")
    parts = [str(src), *(p for p in current.split(os.pathsep) if p and p != str(src))]
    os.environ["PYTHONPATH"] = os.pathsep.join(parts)


def check_run_date(config: Mapping[str, Any]) -> None:
    """The run must stand for a date on or after the published search's end."""
    run_date = str(config["run_date"])
    baseline_until = str(config.get("search", {}).get("baseline_until", ""))
    if baseline_until and run_date < baseline_until:
        raise ConfigError(
            "run_date",
            f"{run_date} is before search.baseline_until {baseline_until}",
            f"a date on or after {baseline_until} (the published search covers everything before it)",
        )
