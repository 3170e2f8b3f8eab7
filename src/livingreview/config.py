"""Validate the workflow configuration against ``workflow/schemas/config.schema.yaml``.

Snakemake's own ``validate`` reports the first jsonschema message; this module reports
*every* problem with the dotted key, the value found and what the schema allows, and fills
in schema defaults so that the rest of the workflow never guesses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .errors import ConfigError
from .schema import CONFIG_FILE, fill_defaults, load_schema


def update_config(config: dict[str, Any], overwrite: Mapping[str, Any]) -> dict[str, Any]:
    """Update ``config`` in place with ``overwrite`` as Snakemake does for each further
    ``--configfile`` (``snakemake.utils.update_config``; the package never imports
    snakemake): key by key, recursively where the new value is a mapping (replacing whatever
    was there if it was not one), any other value replacing the old one, lists included.

    >>> update_config({"a": {"x": 1, "y": [1]}, "b": 2}, {"a": {"y": [2]}, "b": {"z": 3}})
    {'a': {'x': 1, 'y': [2]}, 'b': {'z': 3}}
    """
    for key, value in overwrite.items():
        if isinstance(value, Mapping):
            current = config.get(key)
            config[key] = update_config(current if isinstance(current, dict) else {}, value)
        else:
            config[key] = value
    return config


def read_configfile(path: str | Path) -> dict[str, Any]:
    """One config file (YAML, or JSON, which YAML reads), as a mapping.

    Raises:
        ConfigError: the file is missing, not YAML, or does not hold a mapping.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise ConfigError("configfile", f"{path} not found", "an existing YAML file") from None
    except yaml.YAMLError as error:
        raise ConfigError("configfile", f"{path} is not valid YAML: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("configfile", f"{path} does not hold a mapping", "key: value pairs")
    return data


def load_config(root: str | Path, configfiles: Sequence[str | Path] = ()) -> dict[str, Any]:
    """The config a run of the project at ``root`` sees with these ``--configfile`` options,
    merged by Snakemake's rules: ``config.yaml`` first, then the further files merged with
    each other in order and over it (:func:`update_config`); relative paths are taken from
    ``root``. Not validated yet: see :func:`prepare_config`."""
    root = Path(root)
    base = root / CONFIG_FILE
    config = read_configfile(base) if base.is_file() or not configfiles else {}
    overwrite: dict[str, Any] = {}
    for extra in configfiles:
        path = Path(extra)
        update_config(overwrite, read_configfile(path if path.is_absolute() else root / path))
    return update_config(config, overwrite)


def prepare_config(config: dict[str, Any], schema_path: str | Path) -> dict[str, Any]:
    """What the workflow does with its config before anything else: check it against the
    schema, fill in the schema's defaults (the one home of every default) and check what the
    schema cannot say about dates. The Snakefile and the reviewers' desk both call this.

    Raises:
        ConfigError: naming every key that is wrong.
    """
    validate_config(config, schema_path)
    check_run_date(config)
    return config


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


def validate_config(config: dict[str, Any], schema_path: str | Path) -> dict[str, Any]:
    """Check ``config`` in place against the schema and fill defaults; return it.

    Raises:
        ConfigError: listing every violation, each with its dotted key and allowed values.
    """
    schema = load_schema(schema_path)
    fill_defaults(config, schema)
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
