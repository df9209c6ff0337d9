"""`evfleet charge solve` and `evfleet bench charging` through Typer's runner."""

import json

from typer.testing import CliRunner

from charging.check import check
from charging.problem import ChargingProblem
from charging.result import ChargingSchedule
from fleet.cli.main import app
from tests.charging.scenarios import connector, night, vehicle

runner = CliRunner()


def test_solve_writes_a_checked_schedule(tmp_path) -> None:
    scenario = tmp_path / "s.json"
    data = night([vehicle("粤B·D12345"), vehicle("V2")], [connector("DC1")])
    scenario.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "schedule.json"
    result = runner.invoke(
        app,
        [
            "charge",
            "solve",
            str(scenario),
            "--out",
            str(out),
            "--objective",
            "peak",
            "--time-limit",
            "10",
            "--seed",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    for key in ("status", "objective", "vehicles", "site_import_kw", "cost", "unmet", "baselines"):
        assert key in written
    assert set(written["cost"]) >= {"energy", "demand", "export", "total"}
    assert set(written["baselines"]) >= {"uncontrolled", "edf"}
    assert written["objective"] == "peak" and written["check"]["ok"]
    problem = ChargingProblem.from_json(data)
    assert check(problem, ChargingSchedule.from_json(written)).ok


def test_solve_bad_input_names_the_field(tmp_path) -> None:
    scenario = tmp_path / "bad.json"
    data = night([vehicle("V1", energy_target_kwh=500.0)])
    scenario.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(app, ["charge", "solve", str(scenario), "--out", str(tmp_path / "o.json")])
    assert result.exit_code == 2
    assert "vehicle V1" in result.output and "energy_target_kwh" in result.output
    assert "Traceback" not in result.output
    missing = runner.invoke(
        app, ["charge", "solve", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o.json")]
    )
    assert missing.exit_code == 2 and "cannot read" in missing.output
    scenario.write_text("{not json", encoding="utf-8")
    broken = runner.invoke(app, ["charge", "solve", str(scenario), "--out", str(tmp_path / "o.json")])
    assert broken.exit_code == 2 and "not valid JSON" in broken.output


def test_bench_small(tmp_path) -> None:
    out = tmp_path / "bench.json"
    result = runner.invoke(
        app,
        [
            "bench",
            "charging",
            "--sizes",
            "8",
            "--shared",
            "8:4",
            "--tight",
            "",
            "--time-limit",
            "10",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["rows"]
    assert [(r["vehicles"], r["connectors"]) for r in rows] == [(8, 8), (8, 4)]
    assert all(r["check_ok"] for r in rows)
    assert rows[1]["gap"] is not None
    # The reported gap names its bound: the strongest valid one, never below the LP relaxation.
    assert rows[1]["bound_basis"] in ("LP relaxation", "column generation (Lagrangian)", "MIP bound")
    assert (
        rows[1]["bound"] >= rows[1]["lp_bound"] - 1e-9 and rows[1]["gap_to_bound"] <= rows[1]["gap"] + 1e-12
    )
    assert rows[0]["bound_basis"] is None  # one connector each: a plain LP, no bound to report


def test_example_scenario_solves_and_checks(tmp_path) -> None:
    """The documented example (tests/charging/data/example_scenario.json) solves cleanly."""
    from pathlib import Path

    path = Path(__file__).parent / "data" / "example_scenario.json"
    out = tmp_path / "schedule.json"
    result = runner.invoke(app, ["charge", "solve", str(path), "--out", str(out), "--time-limit", "20"])
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["check"]["ok"] and not written["unmet"]
    assert written["gap"] is not None and written["gap"] <= 0.01
    dr_window = written["site_import_kw"][4:8]  # 18:00-19:00, DR cap 60 kW
    assert max(dr_window) <= 60.0 + 1e-6


def test_solve_shows_energy_and_demand_apart_and_the_observed_baseline(tmp_path) -> None:
    """`--observed` adds what the depot really did: V1 drew 20 kWh at 20 kW from 18:00 (grid side)."""
    scenario = tmp_path / "s.json"
    data = night([vehicle("V1")], [connector("DC1")])
    scenario.write_text(json.dumps(data), encoding="utf-8")
    sessions = tmp_path / "sessions.csv"
    arrival = data["vehicles"][0]["arrival"]
    sessions.write_text(
        f"vehicle,start,end,kwh\nV1,{arrival},{arrival[:11]}19:00:00+08:00,20\n", encoding="utf-8"
    )
    out = tmp_path / "o.json"
    result = runner.invoke(
        app, ["charge", "solve", str(scenario), "--out", str(out), "--observed", str(sessions)]
    )
    assert result.exit_code == 0, result.output
    for column in ("energy CNY", "demand CNY/night", "night bill CNY", "night-bill saving %"):
        assert column in result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert "observed" in written["baselines"]
    seen = written["baselines"]["observed"]
    assert seen["cost"]["energy"] > 0
    bad = tmp_path / "bad.csv"
    bad.write_text("vehicle,start,end,kwh\nV1,yesterday,2026-11-24T19:00:00+08:00,20\n", encoding="utf-8")
    refused = runner.invoke(
        app, ["charge", "solve", str(scenario), "--out", str(out), "--observed", str(bad)]
    )
    assert refused.exit_code == 2 and "row 2" in refused.output
