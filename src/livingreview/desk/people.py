"""People and their roles on the desk, read from the config (never from a request).

A role is a list of ids under a config key.  Each role has its own pages; the server checks
the role on every request.  Adding a role means adding a :class:`Role` here and a views module
with its pages.

Roles and the rules on combining them (checked when the desk starts, :func:`people_from_config`):

* ``reviewer`` (``screening.reviewers``) screens; ``adjudicator`` (``screening.adjudicators``)
  settles screening conflicts *and* extraction discrepancies.  While screening is blinded a
  reviewer may not adjudicate (the conflict pages show every reviewer's decisions).
* ``extractor`` (``extraction.extractors``) extracts data, blinded from the other extractors
  of a study until both have saved; an extractor may never adjudicate (the adjudicator's
  comparison shows every extractor's sheet).  Extractors may screen.
* ``data_manager`` (``dedup.data_managers``) decides uncertain duplicate pairs; the pages show
  bibliographic records only, so a data manager may hold any other role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..text import PERSON_ID_RULE, usable_person_id

REVIEWER = "reviewer"
ADJUDICATOR = "adjudicator"
EXTRACTOR = "extractor"
DATA_MANAGER = "data_manager"


@dataclass(frozen=True)
class Role:
    """A kind of work on the desk: who has it (config key) and where their pages start."""

    name: str
    config_key: tuple[str, ...]
    label: str
    home: str


ROLES: dict[str, Role] = {
    REVIEWER: Role(REVIEWER, ("screening", "reviewers"), "screens publications", "/screen"),
    ADJUDICATOR: Role(
        ADJUDICATOR, ("screening", "adjudicators"), "settles conflicts", "/adjudicate"
    ),
    EXTRACTOR: Role(EXTRACTOR, ("extraction", "extractors"), "extracts study data", "/extract"),
    DATA_MANAGER: Role(
        DATA_MANAGER, ("dedup", "data_managers"), "decides duplicate pairs", "/duplicates"
    ),
}


@dataclass(frozen=True)
class Person:
    """Someone who may sign in, with every role the config gives them."""

    id: str
    roles: tuple[str, ...]

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def home(self) -> str:
        """Where signing in lands: the first role's pages (screening before adjudication)."""
        return ROLES[self.roles[0]].home


def _lookup(config: Mapping[str, Any], key: tuple[str, ...]) -> list[str]:
    node: Any = config
    for part in key:
        if not isinstance(node, Mapping):
            return []
        node = node.get(part, [])
    return [str(item) for item in node or []]


def people_from_config(config: Mapping[str, Any]) -> dict[str, Person]:
    """Everyone named under a role's config key, checked beyond what the schema says.

    Raises:
        ConfigError: an id that cannot name a sheet, is the baseline reviewer's, belongs to
            both a reviewer and an adjudicator while screening is blinded (the adjudication
            pages show every reviewer's decisions), or to both an extractor and an adjudicator
            (the extraction adjudication shows every extractor's sheet).
    """
    screening = config["screening"]
    baseline = str(screening["baseline_reviewer"])
    roles_of: dict[str, list[str]] = {}
    for role in ROLES.values():
        key = ".".join(role.config_key)
        for ident in _lookup(config, role.config_key):
            if not usable_person_id(ident):
                raise ConfigError(
                    key, f"id {ident!r} is not usable as a person's id", PERSON_ID_RULE
                )
            if ident == baseline:
                raise ConfigError(
                    key,
                    f"{ident!r} is the baseline reviewer (the published review's decisions), "
                    "not a person who signs in",
                    "another id",
                )
            roles_of.setdefault(ident, []).append(role.name)
    if screening["blinded"]:
        both = sorted(p for p, r in roles_of.items() if REVIEWER in r and ADJUDICATOR in r)
        if both:
            raise ConfigError(
                "screening.adjudicators",
                f"{', '.join(both)} also screen(s), but screening is blinded and adjudicators "
                "see every reviewer's decisions",
                "adjudicators who are not in screening.reviewers (or set screening.blinded: false)",
            )
    both = sorted(p for p, r in roles_of.items() if EXTRACTOR in r and ADJUDICATOR in r)
    if both:
        raise ConfigError(
            "extraction.extractors",
            f"{', '.join(both)} also adjudicate(s), but extractors are blinded from each other "
            "and adjudicators see every extractor's sheet",
            "extractors who are not in screening.adjudicators",
        )
    return {ident: Person(ident, tuple(roles)) for ident, roles in roles_of.items()}
