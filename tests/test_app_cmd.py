"""`evfleet app` starts `streamlit run` on the entry script installed with evfleet and passes extra arguments on."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from fleet.cli import app_cmd
from fleet.cli.main import app


def test_app_runs_streamlit_on_the_entry_script_with_extra_args(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []

    def fake_exec(path: str, argv: list[str]) -> None:
        started.append(argv)
        raise typer.Exit(0)

    monkeypatch.setattr(app_cmd.os, "execv", fake_exec)
    monkeypatch.setattr(app_cmd.subprocess, "call", lambda argv: fake_exec(argv[0], argv))
    result = CliRunner().invoke(app, ["app", "--server.port", "8599", "--server.headless", "true"])
    assert result.exit_code == 0, result.output
    [argv] = started
    assert argv[:4] == [sys.executable, "-m", "app_pages._server", "run"]
    script = Path(argv[4])
    assert script.name == "streamlit_app.py" and script.is_file()
    assert (script.parent / "app_pages" / "overview.py").is_file()  # page paths are relative to the script
    assert argv[-4:] == ["--server.port", "8599", "--server.headless", "true"]  # after the defaults: they win


def test_the_server_imports_every_page_import_before_it_listens() -> None:
    """The launcher's module list is read from the pages' import statements; a fresh interpreter that runs the
    warm-up holds every one of them (and the services the Overview reads) before Streamlit starts."""
    import subprocess

    from app_pages._server import APP_DIR, page_imports

    modules = page_imports()
    assert {"streamlit", "pandas", "fleet.services", "app_pages._shell"} <= set(modules)
    overview = (APP_DIR / "overview.py").read_text(encoding="utf-8")
    assert all(m in modules for m in page_imports([APP_DIR / "overview.py"])) and "import" in overview
    script = (
        "import sys; from app_pages._server import page_imports, warm; warm(); "
        "missing = [m for m in page_imports() if m not in sys.modules]; print(missing); sys.exit(bool(missing))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_page_imports_reads_absolute_imports_only(tmp_path: Path) -> None:
    from app_pages._server import page_imports

    page = tmp_path / "page.py"
    page.write_text(
        "import json, os.path as p\nfrom fleet.services import x\nfrom . import sibling\n"
        "def f():\n    import csv\n",
        encoding="utf-8",
    )
    assert page_imports([page]) == ["json", "os.path", "fleet.services", "csv"]
