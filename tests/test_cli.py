"""The console script: help for every command, the demo job, imports with clear errors."""

from __future__ import annotations

import csv
from pathlib import Path

import typer
from typer.testing import CliRunner

from fleet.cli.main import app

runner = CliRunner()


def _commands(group: typer.Typer, prefix: str = "") -> list[tuple[str, str | None]]:
    found = []
    for cmd in group.registered_commands:
        found.append(
            (prefix + (cmd.name or cmd.callback.__name__), cmd.help or (cmd.callback.__doc__ or None))
        )
    for sub in group.registered_groups:
        found.append((prefix + sub.name, sub.help))
        found.extend(_commands(sub.typer_instance, prefix + sub.name + " "))
    return found


def test_every_command_has_a_one_line_help() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    commands = _commands(app)
    assert {"demo", "summary", "import", "db", "bench"} <= {name for name, _ in commands}
    for name, help_text in commands:
        assert help_text and help_text.strip(), f"`evfleet {name}` has no help"
        if " " not in name:
            assert name in result.output


def test_demo_then_summary_for_one_lessee(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(app, ["demo", "--db", url, "--today", "2026-11-25"])
    assert result.exit_code == 0, result.output
    assert "demo loaded" in result.output and "SZ-BA" in result.output and "total" in result.output
    again = runner.invoke(app, ["demo", "--db", url, "--today", "2026-11-25"])
    assert again.exit_code == 0 and "already" in again.output
    one = runner.invoke(app, ["summary", "--db", url, "--lessee", "FRESH", "--today", "2026-11-25"])
    assert one.exit_code == 0, one.output
    assert "SZ-NS" in one.output and "SZ-BA" not in one.output
    bad = runner.invoke(app, ["summary", "--db", url, "--lessee", "NOPE"])
    assert bad.exit_code == 1 and "unknown lessee code 'NOPE'" in bad.output


def test_import_reports_row_and_field(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert runner.invoke(app, ["demo", "--db", url]).exit_code == 0
    f = tmp_path / "orders.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "external_ref",
                "depot_code",
                "service_date",
                "latitude",
                "longitude",
                "demand_kg",
                "window_start",
                "window_end",
                "service_minutes",
            ]
        )
        w.writerow(
            [
                "N-1",
                "SZ-NS",
                "2026-12-10",
                "22.54",
                "113.95",
                "-4",
                "2026-12-10T07:00",
                "2026-12-10T09:00",
                "10",
            ]
        )
    result = runner.invoke(app, ["import", "orders", str(f), "--lessee", "FRESH", "--db", url])
    assert result.exit_code == 1
    assert "orders.csv, row 2, column 'demand_kg', value '-4': must not be negative" in result.output
    assert "Traceback" not in result.output
    f.write_text(f.read_text(encoding="utf-8").replace(",-4,", ",4,"), encoding="utf-8")
    ok = runner.invoke(app, ["import", "orders", str(f), "--lessee", "FRESH", "--db", url])
    assert ok.exit_code == 0 and "1 orders imported" in ok.output


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    from fleet.migrate import head_revision

    head = head_revision()
    up = runner.invoke(app, ["db", "upgrade", "--db", url])
    assert up.exit_code == 0 and f"revision {head}" in up.output
    cur = runner.invoke(app, ["db", "current", "--db", url])
    assert cur.exit_code == 0 and f"revision {head} (newest {head})" in cur.output


def test_cli_start_up_does_not_import_the_solvers() -> None:
    """The CLI imports OR-Tools only inside the commands that solve (start-up time of every command)."""
    import subprocess
    import sys

    code = "import sys, fleet.cli.main; print(sorted(m for m in ('ortools', 'charging.optimize', 'routing.solve', 'scipy') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]", out
    from charging.optimize import OBJECTIVES
    from fleet.cli.charging_cmd import OBJECTIVES as CLI_OBJECTIVES

    assert tuple(OBJECTIVES) == CLI_OBJECTIVES


def test_an_older_schema_asks_for_db_upgrade_not_a_dead_database(tmp_path: Path) -> None:
    """A database one migration behind reads as out of date (run `evfleet db upgrade`), never as unreachable."""
    from fleet.demo.load import load_demo
    from fleet.migrate import downgrade, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url)
    from fleet.db import make_engine

    engine = make_engine(url)
    load_demo(engine)
    engine.dispose()
    downgrade(url, "0002")
    result = CliRunner().invoke(app, ["nightly", "--date", "2026-11-26", "--depots", "SZ-NS", "--db", url])
    assert result.exit_code != 0
    assert "evfleet db upgrade" in result.output and "unreachable" not in result.output, result.output
