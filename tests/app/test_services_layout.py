"""The service layer's shape: small modules in `fleet/services/`, and pages that reach `fleet` only through it."""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 500
PAGE_FILES = sorted((REPO_ROOT / "app_pages").glob("*.py")) + [REPO_ROOT / "streamlit_app.py"]


def _fleet_imports(path: Path) -> list[str]:
    """Every module under `fleet` the file imports (`import fleet.x`, `from fleet.x import y`, `from fleet import
    y` as `fleet.y`), at any depth of the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name == "fleet" or a.name.startswith("fleet.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "fleet":
                found += [f"fleet.{a.name}" for a in node.names]
            elif node.module.startswith("fleet."):
                found.append(node.module)
    return found


def test_no_service_module_is_over_the_limit() -> None:
    modules = sorted((REPO_ROOT / "fleet" / "services").glob("*.py"))
    assert len(modules) > 5
    long = {p.name: n for p in modules if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"fleet/services modules over {MAX_LINES} lines: {long}"


def test_pages_import_only_the_services_from_fleet() -> None:
    assert len(PAGE_FILES) > 5
    outside = {
        p.relative_to(REPO_ROOT).as_posix(): bad
        for p in PAGE_FILES
        if (
            bad := [
                m for m in _fleet_imports(p) if m != "fleet.services" and not m.startswith("fleet.services.")
            ]
        )
    }
    assert not outside, f"pages importing from fleet outside fleet.services: {outside}"


def test_the_import_check_sees_every_form(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text(
        "import fleet.db\nfrom fleet import models, services\nfrom fleet.scope import ScopeError\n"
        "from fleet.services import charging\n\ndef f():\n    from fleet.reports import DepotSummary\n",
        encoding="utf-8",
    )
    assert _fleet_imports(page) == [
        "fleet.db",
        "fleet.models",
        "fleet.services",
        "fleet.scope",
        "fleet.services",
        "fleet.reports",
    ]
