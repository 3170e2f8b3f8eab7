"""The configuration schema: the default validates, mistakes are named, no key is unknown."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from conftest import ROOT

from livingreview.config import check_run_date, validate_config
from livingreview.errors import ConfigError
from livingreview.schema import load_schema
from livingreview.text import PERSON_ID

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture
def default_config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def test_default_config_validates(default_config):
    validate_config(default_config, SCHEMA)


def test_unknown_key_is_named_with_allowed_keys(default_config):
    default_config["baseline"]["dri"] = "x"
    with pytest.raises(
        ConfigError, match=r"key 'baseline'.*'dri' was unexpected.*allowed: the keys dir"
    ):
        validate_config(default_config, SCHEMA)


def test_bad_run_date_is_named(default_config):
    default_config["run_date"] = "25/11/2026"
    with pytest.raises(ConfigError, match=r"key 'run_date'.*25/11/2026"):
        validate_config(default_config, SCHEMA)


def test_defaults_are_filled(default_config):
    del default_config["baseline"]["dir"]
    config = validate_config(copy.deepcopy(default_config), SCHEMA)
    assert config["baseline"]["dir"] == "resources/baseline"


def _schema_paths(schema, prefix=()):
    """Every dotted key path the schema declares (objects only)."""
    paths = set()
    for key, sub in schema.get("properties", {}).items():
        paths.add(prefix + (key,))
        if isinstance(sub, dict):
            paths |= _schema_paths(sub, prefix + (key,))
            if isinstance(sub.get("items"), dict):
                paths |= _schema_paths(sub["items"], prefix + (key,))
            if isinstance(sub.get("additionalProperties"), dict):
                paths |= _schema_paths(sub["additionalProperties"], prefix + (key, "*"))
    return paths


def test_every_config_key_the_rules_read_is_in_the_schema():
    paths = _schema_paths(load_schema(SCHEMA))
    used = set()
    for smk in [ROOT / "Snakefile", *(ROOT / "workflow" / "rules").glob("*.smk")]:
        for match in re.finditer(r"config((?:\[\"[A-Za-z0-9_]+\"\])+)", smk.read_text()):
            used.add(tuple(re.findall(r"\[\"([A-Za-z0-9_]+)\"\]", match.group(1))))
    assert used, "no config access found: the pattern is out of date"
    missing = sorted(".".join(key) for key in used if key not in paths)
    assert not missing, f"config keys read by rules but absent from the schema: {missing}"


def test_every_schema_property_has_a_description():
    def walk(schema, where):
        for key, sub in schema.get("properties", {}).items():
            assert "description" in sub, f"{where}{key} lacks a description"
            if sub.get("type") == "object":
                assert sub.get("additionalProperties") is not True, (
                    f"{where}{key} allows unknown keys"
                )
                walk(sub, f"{where}{key}.")

    walk(load_schema(SCHEMA), "")


def test_run_date_before_the_published_search_is_refused(default_config):
    check_run_date(default_config)
    default_config["run_date"] = "2020-01-01"
    with pytest.raises(
        ConfigError, match=r"key 'run_date': 2020-01-01 is before search.baseline_until 2021-10-31"
    ):
        check_run_date(default_config)


def test_live_mode_needs_an_email_before_any_job_runs(default_config):
    default_config["search"]["mode"] = "live"
    with pytest.raises(ConfigError, match=r"key 'entrez.email'.*e-mail address NCBI can write to"):
        validate_config(default_config, SCHEMA)
    default_config["entrez"]["email"] = "reviewer@example.org"
    validate_config(default_config, SCHEMA)


def test_the_schemas_person_id_is_the_packages():
    """One rule for people's ids: the schema's $defs/person_id is the package's pattern."""
    schema = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
    assert schema["$defs"]["person_id"]["pattern"] == PERSON_ID.pattern
