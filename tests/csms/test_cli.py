"""`evfleet csms` and `evfleet bench charging-rolling` stay thin: errors name the input, the bench writes JSON."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from fleet.cli.main import app

runner = CliRunner()


def test_serve_names_an_unknown_depot(demo_engine: Engine) -> None:
    result = runner.invoke(app, ["csms", "serve", "--depot", "NOPE", "--db", str(demo_engine.url)])
    assert result.exit_code == 1 and "depot 'NOPE': no such depot" in result.output


def test_rolling_bench_prints_and_writes_every_policy(tmp_path: Path) -> None:
    out = tmp_path / "rolling.json"
    result = runner.invoke(
        app, ["bench", "charging-rolling", "--sizes", "8", "--nights", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    names = {r["name"] for r in rows}
    assert names == {"day-ahead", "rolling", "uncontrolled", "edf", "timer", "balanced", "hindsight (bound)"}
    rolling = next(r for r in rows if r["name"] == "rolling")
    bound = next(r for r in rows if r["name"] == "hindsight (bound)")
    assert rolling["ready"] == rolling["trucks"] == 8
    assert rolling["night_cny"] >= bound["night_cny"] - 0.01  # no policy beats hindsight
    assert "rolling" in result.output and "hindsight" in result.output
