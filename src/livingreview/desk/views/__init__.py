"""The desk's pages, one module per role (plus signing in and the record display they share).

A new role adds a module here with its ``ROUTES`` and a :class:`~..people.Role` entry.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import adjudication, duplicates, extraction, refresh, screening, signin


def routes() -> list[BaseRoute]:
    return [
        *signin.ROUTES,
        *screening.ROUTES,
        *adjudication.ROUTES,
        *extraction.ROUTES,
        *duplicates.ROUTES,
        *refresh.ROUTES,
    ]
