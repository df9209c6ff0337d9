"""Scenario files (JSON round trip, variants, tornado set-up) and `evfleet roi --scenario`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.finance.evaluate import evaluate
from fleet.finance.inputs import Scenario
from fleet.finance.scenario import read_scenario_file, scenario_from_dict, scenario_to_dict
from fleet.finance.sensitivity import tornado

EXAMPLE = Path(__file__).resolve().parents[2] / "fleet" / "finance" / "examples" / "shenzhen_4_5t.json"

SCENARIO = {
    "format": "evfleet.finance.scenario/1",
    "name": "test",
    "usage": {"km_per_year": 50_000},
    "lease": {
        "monthly_rent": 4_200,
        "deposit": 8_000,
        "start": "2025-03-01",
        "loan": {"share_of_net_price": 0.6, "annual_rate": 0.045, "term_months": 36},
    },
    "carbon": {"price_scenario": "cea_2024_year_end"},
    "lessee": {"diesel_price_cny_per_l": 7.9},
    "variants": [{"name": "cheap power", "set": {"lessee.electricity_cny_per_kwh": 0.293}}],
}


def _write(tmp_path: Path, data: object, name: str = "s.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_round_trip_keeps_every_field() -> None:
    loaded = scenario_from_dict({k: v for k, v in SCENARIO.items() if k not in ("format", "variants")})
    assert scenario_from_dict({k: v for k, v in scenario_to_dict(loaded).items() if k != "format"}) == loaded
    assert loaded.carbon.price_cny_per_t == 97.49
    assert loaded.lease.start.isoformat() == "2025-03-01"


def test_shipped_example_loads(tmp_path: Path) -> None:
    loaded = read_scenario_file(EXAMPLE)
    assert loaded.base.lease.loan.share_of_net_price == 0.7
    assert loaded.variants[0].name == "carbon at CEA 2024 year-end"
    assert loaded.variants[0].carbon.price_cny_per_t == 97.49 and loaded.base.carbon.price_cny_per_t == 51.33


def test_tornado_has_the_six_drivers_and_consistent_deltas() -> None:
    scenario = read_scenario_file(EXAMPLE).base
    table = tornado(scenario)
    assert {r.driver for r in table.rows} == {
        "diesel price",
        "electricity price",
        "utilisation",
        "residual value",
        "interest rate",
        "carbon price",
    }
    by_name = {r.driver: r for r in table.rows}
    assert by_name["diesel price"].npv_low == by_name["diesel price"].npv_high == table.base_npv
    assert (
        by_name["diesel price"].saving_high > table.base_saving_per_month > by_name["diesel price"].saving_low
    )
    assert by_name["carbon price"].npv_high > table.base_npv > by_name["carbon price"].npv_low
    assert (
        by_name["interest rate"].equity_npv_low
        > table.base_equity_npv
        > by_name["interest rate"].equity_npv_high
    )
    assert by_name["residual value"].low_value == pytest.approx(0.75 * scenario.lease.residual_value)
    swings = [r.npv_swing for r in table.rows]
    assert swings == sorted(swings, reverse=True)


def test_cli_json_matches_the_library(tmp_path: Path) -> None:
    path = _write(tmp_path, SCENARIO)
    result = CliRunner().invoke(app, ["roi", "--scenario", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    expected = evaluate(read_scenario_file(path).base)
    assert report["lessor"]["project"]["npv"] == round(expected.lessor.project.npv, 2)
    assert report["lessor"]["dscr_min"] == round(expected.lessor.dscr_min, 8)
    assert report["lessee"]["saving_per_month"] == round(expected.lessee.saving_per_month, 2)
    assert [v["name"] for v in report["variants"]] == ["cheap power"]
    assert len(report["tornado"]["rows"]) == 6
    flagged = {a["field"]: a["flag"] for a in report["assumptions"]}
    assert flagged["lease.price"] == "unverified"
    assert "usage.km_per_year" not in flagged  # given in the file, not a default
    assert "fen" in report["note"]


def test_cli_table_flags_unverified_defaults(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["roi", "--scenario", str(_write(tmp_path, SCENARIO))])
    assert result.exit_code == 0, result.output
    for text in ("Lessor", "NPV", "DSCR", "break-even", "UNVERIFIED", "Sensitivity", "cheap power"):
        assert text in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"lease": {"term_months": 0}}, "lease.term_months"),
        ({"lease": {"residual_value": 10_000_000}}, "lease.residual_value"),
        ("{not json", "not valid JSON"),
    ],
    ids=["term 0", "residual above price", "bad json"],
)
def test_cli_bad_file_exits_non_zero_naming_the_problem(
    tmp_path: Path, content: object, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    result = CliRunner().invoke(app, ["roi", "--scenario", str(path)])
    assert result.exit_code == 2
    assert message in result.output and "bad.json" in result.output
    assert "Traceback" not in result.output


def test_cli_needs_exactly_one_source(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["roi"])
    assert result.exit_code == 2 and "exactly one" in result.output


def test_default_scenario_reports_negative_npv_at_the_6_percent_rent() -> None:
    """The default rent earns exactly 6 % before tax and the battery reserve, so after them NPV at 6 % is < 0."""
    assert evaluate(Scenario()).lessor.project.npv < 0


def test_loan_without_a_term_runs_over_the_lease_term() -> None:
    loaded = scenario_from_dict({"lease": {"term_months": 36, "loan": {"share_of_net_price": 0.5}}})
    assert loaded.lease.loan.term_months == 36
