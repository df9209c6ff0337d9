"""Layers: the pure libraries (`routing/`, `charging/`) import nothing from the business layer, the app or the
database stack, and the data package (`data/`, installed as `evfleet_data`) is a leaf that imports only stdlib."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PURE_PACKAGES = ("routing", "charging")
FORBIDDEN_IN_PURE = frozenset({"fleet", "data", "streamlit", "app_pages", "sqlmodel", "sqlalchemy"})


def imported_top_level_names(source: str) -> set[str]:
    """Top-level module names of every absolute import (`import a.b` -> a, `from a.b import c` -> a)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def violations(path: Path, forbidden: frozenset[str]) -> list[str]:
    found = imported_top_level_names(path.read_text(encoding="utf-8")) & forbidden
    return [f"{path.relative_to(REPO)} imports {name}" for name in sorted(found)]


def test_checker_sees_every_import_form() -> None:
    snippet = (
        "import os\nimport fleet.models\nfrom data.reference import X\nfrom sqlmodel import Session\n"
        "def f():\n    import streamlit as st\n    from app_pages import PAGES\n"
        "from . import sibling\nfrom evfleet_data import TARIFFS_JSON\nimport sqlalchemy.orm as orm\n"
    )
    names = imported_top_level_names(snippet)
    assert names & FORBIDDEN_IN_PURE == FORBIDDEN_IN_PURE
    assert names - FORBIDDEN_IN_PURE == {"os", "evfleet_data"}


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_libraries_do_not_import_upper_layers(package: str) -> None:
    files = sorted((REPO / package).rglob("*.py"))
    assert files, f"no modules under {package}/"
    problems = [v for f in files for v in violations(f, FORBIDDEN_IN_PURE)]
    assert not problems, "\n".join(problems)


def test_data_package_imports_only_the_standard_library() -> None:
    init = REPO / "data" / "__init__.py"
    names = imported_top_level_names(init.read_text(encoding="utf-8"))
    assert names <= set(sys.stdlib_module_names) | {"__future__"}, sorted(
        names - set(sys.stdlib_module_names)
    )
    assert [p.relative_to(REPO / "data") for p in (REPO / "data").rglob("*.py")] == [Path("__init__.py")]


def test_data_package_is_the_installed_evfleet_data() -> None:
    import evfleet_data

    assert Path(evfleet_data.__file__).resolve() == (REPO / "data" / "__init__.py").resolve()
    for path in (evfleet_data.TARIFFS_JSON, evfleet_data.EMISSION_FACTORS_CSV, evfleet_data.VEHICLES_CSV):
        assert path.is_file(), path
    assert (evfleet_data.DEMO_DIR / "depots.csv").is_file()
