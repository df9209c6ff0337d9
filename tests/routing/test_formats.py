"""Friendlier inputs: problem files recognised by content (JSON, Solomon, E-VRPTW, EVRP), `--fleet auto`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fleet.cli.main import app
from routing.check import check_solution
from routing.io.detect import ProblemFormat, detect_format, open_fleet, read_problem_file, with_fleet
from routing.io.evrp import evrp_to_problem, read_evrp
from routing.io.json_io import read_solution_json, write_problem_json
from routing.io.solomon import InstanceFormatError
from routing.problem import Objective, RechargePolicy
from tests.routing.test_io import EVRPTW_TINY, TINY_SOLOMON

runner = CliRunner()

# Two customers 8 km out on either side; the battery (14 kWh at 1 kWh/km) cannot do an out-and-back to either
# (16 km) nor both in one tour (27.3 km) without the station at (4, 4): every feasible plan charges there.
EVRP_TINY = """Name: tiny-e3
COMMENT: hand-made for evfleet tests
TYPE: EVRP
OPTIMAL_VALUE: 0
VEHICLES: 1
DIMENSION: 3
STATIONS: 1
CAPACITY: 10
ENERGY_CAPACITY: 14
ENERGY_CONSUMPTION: 1.0
EDGE_WEIGHT_TYPE: EUC_2D
NODE_COORD_SECTION
1 0 0
2 8 0
3 0 8
4 4 4
DEMAND_SECTION
1 0
2 4
3 4
STATIONS_COORD_SECTION
4
DEPOT_SECTION
1
-1
EOF
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("formats")
    out = {
        "solomon": d / "tiny_solomon.txt",
        "evrptw": d / "tiny_evrptw.txt",
        "evrp": d / "tiny.evrp",
    }
    out["solomon"].write_text(TINY_SOLOMON)
    out["evrptw"].write_text(EVRPTW_TINY)
    out["evrp"].write_text(EVRP_TINY)
    out["json"] = d / "tiny.json"
    problem, _ = read_problem_file(out["solomon"])
    write_problem_json(problem, out["json"])
    return out


def test_each_layout_is_recognised_by_content(files: dict[str, Path], tmp_path: Path) -> None:
    for name, path in files.items():
        assert detect_format(path) is ProblemFormat(name)
    # Names say nothing: a .txt holding EVRP is still EVRP.
    renamed = tmp_path / "instance.txt"
    renamed.write_text(EVRP_TINY)
    assert detect_format(renamed) is ProblemFormat.EVRP
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\nworld\n")
    with pytest.raises(InstanceFormatError, match=r"format not recognised.*NODE_COORD_SECTION.*'hello'"):
        detect_format(junk)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(InstanceFormatError, match="empty file"):
        detect_format(empty)


def test_read_evrp_maps_the_competition_conventions(files: dict[str, Path]) -> None:
    inst = read_evrp(files["evrp"])
    assert inst.customers == (2, 3) and inst.stations == (4,) and inst.depot == 1 and inst.min_vehicles == 1
    p = evrp_to_problem(inst)
    assert p.objective is Objective.DISTANCE and p.recharge_policy is RechargePolicy.FULL
    assert [j.id for j in p.jobs] == ["2", "3"] and p.vehicle_count == 2
    # The depot recharges too (competition rule), beside the listed station.
    assert sorted(s.location for s in p.stations) == ["1", "4"]
    assert p.vehicle_types[0].battery.capacity_kwh == 14.0


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("ENERGY_CAPACITY: 14\n", "", "ENERGY_CAPACITY is missing"),
        ("2 4\n3 4", "2 4\n3 -4", r":\d+: negative demand"),
        ("4 4 4\n", "4 4\n", "NODE_COORD_SECTION row needs"),
        ("DEPOT_SECTION\n1\n", "DEPOT_SECTION\n", "exactly one depot"),
        ("STATIONS_COORD_SECTION\n4", "STATIONS_COORD_SECTION\n9", r"node\(s\) \[9\] have no row"),
    ],
)
def test_read_evrp_errors_name_the_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "bad.evrp"
    path.write_text(EVRP_TINY.replace(old, new))
    with pytest.raises(InstanceFormatError, match=message):
        read_evrp(path)


def test_fleet_auto_and_number(files: dict[str, Path]) -> None:
    p, fmt = read_problem_file(files["solomon"])
    assert fmt is ProblemFormat.SOLOMON and p.vehicle_count == 2
    assert open_fleet(p).vehicle_count == len(p.jobs) == 2
    assert with_fleet(p, "auto").vehicle_count == 2 and with_fleet(p, "1").vehicle_count == 1
    assert with_fleet(p, None) is p
    for bad, message in (("0", "positive integer"), ("many", "'auto' or a positive integer")):
        with pytest.raises(ValueError, match=message):
            with_fleet(p, bad)


def test_route_solve_says_what_it_read_and_fleet_auto_serves_everyone(
    files: dict[str, Path], tmp_path: Path
) -> None:
    # EVRP: both customers fit one vehicle, but only with the station stop.
    out = tmp_path / "sol.json"
    res = runner.invoke(app, ["route", "solve", str(files["evrp"]), "--time-limit", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "EVRP competition" in res.output and "recognised by content" in res.output
    sol = json.loads(out.read_text())
    assert not sol["unserved"]
    stops = [s["id"] for r in sol["routes"] for s in r["stops"]]
    assert "S4" in stops  # no plan reaches both customers without a charge
    # Solomon: the file allows 1 vehicle but the demands (10 + 45) need 2 of capacity 50.
    small = tmp_path / "small_fleet.txt"
    small.write_text(
        TINY_SOLOMON.replace("  2         50", "  1         50").replace("20         20", "45         20")
    )
    res = runner.invoke(app, ["route", "solve", str(small), "--time-limit", "1", "--out", str(out)])
    assert "unserved" in res.output and len(read_solution_json(out).unserved) == 1
    res = runner.invoke(
        app, ["route", "solve", str(small), "--time-limit", "1", "--fleet", "auto", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "Solomon" in res.output and "fleet open" in res.output
    p, _ = read_problem_file(small, fleet="auto")
    sol = read_solution_json(out)
    assert not sol.unserved and sol.vehicles_used == 2 and check_solution(p, sol).feasible
    bad = runner.invoke(app, ["route", "solve", str(files["solomon"]), "--time-limit", "1", "--fleet", "x"])
    assert bad.exit_code == 2 and "--fleet 'x'" in bad.output and "Traceback" not in bad.output
