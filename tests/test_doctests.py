"""The examples in the package's docstrings are tests: every module's doctests run here."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import livingreview

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(livingreview.__path__, prefix="livingreview.")
)


def test_every_module_is_found():
    assert "livingreview.text" in MODULES and "livingreview.errors" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
