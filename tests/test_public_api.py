"""Every package that exports names declares them in a literal `__all__`, and every listed name resolves."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("routing", "charging", "fleet")


def _packages() -> list[Path]:
    return sorted(p for lib in LIBRARIES for p in (ROOT / lib).rglob("__init__.py"))


def _module_name(init: Path) -> str:
    return ".".join(init.parent.relative_to(ROOT).parts)


def _exports_names(tree: ast.Module) -> bool:
    """Does the package body bind public names: re-exports, definitions, or a lazy module `__getattr__`?"""
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            if any(not (a.asname or a.name).startswith("_") for a in node.names):
                return True
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if node.name == "__getattr__" or not node.name.startswith("_"):
                return True
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and not t.id.startswith("_") for t in targets):
                return True
    return False


def _literal_all(tree: ast.Module) -> list[str] | None:
    """`__all__` as written, or None when the package has none; fails unless it is a literal list/tuple of str."""
    found = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            assert isinstance(node.value, (ast.List, ast.Tuple)), "__all__ must be a literal list or tuple"
            names = ast.literal_eval(node.value)
            assert all(isinstance(n, str) for n in names), "__all__ must list strings"
            found = list(names)
        elif (
            isinstance(node, (ast.AugAssign, ast.AnnAssign)) and getattr(node.target, "id", None) == "__all__"
        ):
            pytest.fail("__all__ must be one literal assignment, not built up")
    return found


@pytest.mark.parametrize("init", _packages(), ids=_module_name)
def test_all_is_literal_and_resolves(init: Path) -> None:
    tree = ast.parse(init.read_text(), filename=str(init))
    names = _literal_all(tree)
    if names is None:
        assert not _exports_names(tree), f"{init.relative_to(ROOT)} exports names but has no literal __all__"
        return
    assert len(names) == len(set(names)), f"duplicate names in __all__: {names}"
    module = importlib.import_module(_module_name(init))
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"{module.__name__}.__all__ names what it cannot resolve: {missing}"


def test_routing_names_resolve_to_the_right_objects() -> None:
    import routing
    from routing.check import check_solution
    from routing.problem import RoutingProblem
    from routing.solution import RoutingSolution
    from routing.solve import solve

    assert routing.RoutingProblem is RoutingProblem
    assert routing.RoutingSolution is RoutingSolution
    assert routing.check_solution is check_solution
    assert routing.solve_problem is solve  # also after `routing.solve` (the module) has been imported


def test_routing_problem_alone_does_not_load_the_solver() -> None:
    code = "import sys, routing, routing.problem; print('ortools' in sys.modules or 'routing.solve' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
