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
    assert argv[:4] == [sys.executable, "-m", "streamlit", "run"]
    script = Path(argv[4])
    assert script.name == "streamlit_app.py" and script.is_file()
    assert (script.parent / "app_pages" / "overview.py").is_file()  # page paths are relative to the script
    assert argv[-4:] == ["--server.port", "8599", "--server.headless", "true"]  # after the defaults: they win
