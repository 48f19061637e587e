"""Packages whose re-exports are imported on first use (``__getattr__``): the map of names to
modules must say exactly what the ``TYPE_CHECKING`` imports (which mypy and readers see) say,
and every name must resolve to the object its module defines."""

from __future__ import annotations

import ast
import importlib
import inspect

import pytest

LAZY_PACKAGES = ["postroom.services", "postroom.runtime"]


def checked_imports(package: str) -> dict[str, str]:
    """name -> relative module, from the package's ``if TYPE_CHECKING:`` block."""
    tree = ast.parse(inspect.getsource(importlib.import_module(package)))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom)
                for alias in stmt.names:
                    found[alias.asname or alias.name] = "." * stmt.level + (stmt.module or "")
    return found


@pytest.mark.fast
@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_the_lazy_map_matches_the_checked_imports(package: str) -> None:
    module = importlib.import_module(package)
    assert module._EXPORTS == checked_imports(package)  # noqa: SLF001
    assert sorted(module.__all__) == sorted(module._EXPORTS)  # noqa: SLF001


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_name_resolves_to_its_module_object(package: str) -> None:
    """Not in the fast tier: it imports every service, and some library imported on the way
    (under croniter) runs `file` through a subprocess the first time."""
    module = importlib.import_module(package)
    for name, source in module._EXPORTS.items():  # noqa: SLF001
        defined = importlib.import_module(source, package)
        assert getattr(module, name) is getattr(defined, name), name


@pytest.mark.fast
@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_an_unknown_name_is_an_attribute_error(package: str) -> None:
    module = importlib.import_module(package)
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018
