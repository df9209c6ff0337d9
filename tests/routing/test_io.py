"""Readers and writers: benchmark text files, BKS tables, problem/solution JSON, result files."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import pytest

from routing.io.bks import read_bks
from routing.io.evrptw import evrptw_to_problem, read_evrptw
from routing.io.json_io import (
    ProblemFileError,
    problem_from_dict,
    problem_to_dict,
    read_problem_json,
    read_solution_json,
    write_problem_json,
    write_solution_json,
)
from routing.io.results import BenchResult, read_results, write_results
from routing.io.solomon import InstanceFormatError, read_solomon, solomon_to_problem
from routing.problem import (
    Battery,
    ChargingStation,
    Job,
    Location,
    Objective,
    RechargePolicy,
    RoutingProblem,
    TimeWindow,
    VehicleKind,
    VehicleType,
)
from routing.solution import Route, RoutingSolution, SolverStats, Stop, StopKind, UnservedJob, UnservedReason
from tests.routing.bench_data import bench_dir

TINY_SOLOMON = """TINY

VEHICLE
NUMBER     CAPACITY
  2         50

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0         0          0          0       100          0
    1      3         4         10          0        50         10
    2      6         8         20         20        60         10
"""


def test_read_solomon_tiny_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "TINY.txt"
    path.write_bytes(TINY_SOLOMON.replace("\n", "\r\n").encode())
    inst = read_solomon(path)
    assert inst.name == "TINY" and inst.vehicles == 2 and inst.capacity == 50.0
    assert [n.number for n in inst.nodes] == [0, 1, 2]
    assert inst.nodes[2].ready == 20.0 and inst.nodes[2].due == 60.0 and inst.nodes[2].service == 10.0


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("VEHICLE\n", "VEHICLES\n", "missing VEHICLE or CUSTOMER"),
        (
            "    1      3         4         10",
            "    1      3         x         10",
            r":11: y 'x' is not a number",
        ),
        (
            "    2      6         8         20         20        60         10",
            "    2      6",
            "needs 7 fields",
        ),
        (
            "    2      6         8         20         20        60",
            "    3      6         8         20         20        60",
            "customer number 3, expected 2",
        ),
        ("20         20        60", "20         70        60", "due date 60.0 before ready time 70.0"),
    ],
)
def test_read_solomon_errors_name_line_and_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(TINY_SOLOMON.replace(old, new))
    with pytest.raises(InstanceFormatError, match=message):
        read_solomon(path)


def test_read_solomon_missing_file_is_clear(tmp_path: Path) -> None:
    with pytest.raises(InstanceFormatError, match="cannot read"):
        read_solomon(tmp_path / "nope.txt")


def test_solomon_to_problem_keeps_conventions(tmp_path: Path) -> None:
    path = tmp_path / "TINY.txt"
    path.write_text(TINY_SOLOMON)
    p = solomon_to_problem(read_solomon(path))
    assert p.name == "TINY" and p.objective is Objective.HIERARCHICAL
    assert [j.id for j in p.jobs] == ["1", "2"]
    (vt,) = p.vehicle_types
    assert vt.count == 2 and vt.payload_kg == 50.0 and vt.start_depot == "0"
    assert vt.shift_end == 100.0 and vt.speed_kmh == 60.0  # travel minutes == distance
    assert not vt.is_electric
    assert p.jobs[1].time_windows == (TimeWindow(20.0, 60.0),)
    assert p.locations[2].x == 6.0 and p.locations[2].y == 8.0


def test_all_solomon_instances_parse() -> None:
    files = sorted((bench_dir() / "solomon").glob("*.txt"))
    assert len(files) == 56
    for f in files:
        inst = read_solomon(f)
        assert len(inst.nodes) == 101, f
        assert inst.name == f.stem


def test_read_evrptw_c208c5() -> None:
    inst = read_evrptw(bench_dir() / "evrptw" / "5" / "c208C5.txt")
    assert inst.name == "c208C5"
    assert inst.depot.string_id == "D0"
    assert [s.string_id for s in inst.stations] == ["S0", "S11", "S14"]
    assert [c.string_id for c in inst.customers] == ["C39", "C50", "C60", "C58", "C53"]
    assert (inst.battery_capacity, inst.load_capacity, inst.consumption_rate) == (77.75, 700.0, 1.0)
    assert (inst.recharge_time_per_unit, inst.speed) == (3.47, 1.0)
    assert inst.node("C39").ready == 1642.0


def test_all_evrptw_instances_parse() -> None:
    files = sorted((bench_dir() / "evrptw").glob("*/*.txt"))
    assert len(files) == 92
    for f in files:
        inst = read_evrptw(f)
        assert inst.nodes[1].string_id == "S0", f  # S0 stands at the depot
        assert (inst.nodes[1].x, inst.nodes[1].y) == (inst.depot.x, inst.depot.y)


def test_evrptw_to_problem_reproduces_full_recharge_time() -> None:
    inst = read_evrptw(bench_dir() / "evrptw" / "5" / "c208C5.txt")
    p = evrptw_to_problem(inst)
    assert p.recharge_policy is RechargePolicy.FULL
    (vt,) = p.vehicle_types
    assert vt.battery is not None and vt.battery.capacity_kwh == 77.75 and vt.battery.reserve_soc == 0.0
    assert vt.count == 5 and vt.speed_kmh == 60.0
    station = p.station("S11")
    # 10 kWh recharged at power 60/g kW takes g * 10 minutes.
    assert 10.0 / station.power_kw * 60.0 == pytest.approx(3.47 * 10.0)


EVRPTW_TINY = """StringID   Type       x          y          demand     ReadyTime  DueDate    ServiceTime
D0         d          0.0        0.0        0.0        0.0        100.0      0.0
S0         f          0.0        0.0        0.0        0.0        100.0      0.0
C1         c          3.0        4.0        5.0        0.0        50.0       1.0

Q Vehicle fuel tank capacity /20.0/
C Vehicle load capacity /10.0/
r fuel consumption rate /1.0/
g inverse refueling rate /2.0/
v average Velocity /1.0/
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("C1         c", "C1         x", "Type 'x' of C1 is not d, f or c"),
        ("S0         f", "D0         f", "duplicate StringID D0"),
        ("g inverse refueling rate /2.0/\n", "", "missing vehicle parameter"),
        ("/20.0/", "/twenty/", "parameter row must look like"),
        ("StringID", "Name", "expected the 'StringID"),
        ("3.0        4.0        5.0", "3.0        4.0", "needs 8 fields"),
    ],
)
def test_read_evrptw_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(EVRPTW_TINY.replace(old, new))
    with pytest.raises(InstanceFormatError, match=message):
        read_evrptw(path)


def test_read_bks_tables() -> None:
    solomon = read_bks(bench_dir() / "solomon" / "bks.csv")
    assert len(solomon) == 56
    assert (solomon["R101"].vehicles, solomon["R101"].distance) == (19, 1650.80)
    assert solomon["R101"].distance_only == 1642.88 and solomon["R101"].distance_only_vehicles == 20
    assert solomon["R109"].distance_only_flag.startswith("SUSPECT")
    evrptw = read_bks(bench_dir() / "evrptw" / "bks.csv")
    assert len(evrptw) == 92
    assert evrptw["c101C5"].optimal is True and evrptw["c101C5"].size == 5
    assert evrptw["rc201C10"].optimal is False
    assert evrptw["c101_21"].optimal is None and evrptw["c101_21"].vehicles == 12


def test_read_bks_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "bks.csv"
    path.write_text("instance,vehicles,distance\nX1,two,10\n")
    with pytest.raises(InstanceFormatError, match=r":2: column 'vehicles' = 'two' is not a number"):
        read_bks(path)


def _rich_problem() -> RoutingProblem:
    return RoutingProblem(
        locations=(
            Location("D", lat=22.54, lon=114.05),
            Location("A", lat=22.60, lon=114.10),
            Location("S", lat=22.58, lon=114.00),
        ),
        jobs=(
            Job(
                "j1",
                "A",
                demand_kg=120.0,
                time_windows=(TimeWindow(60, 120), TimeWindow(300, 360)),
                service_minutes=15,
                required_kind=VehicleKind.ELECTRIC,
                drop_penalty=500.0,
                priority=2,
            ),
        ),
        vehicle_types=(
            VehicleType(
                "ev",
                2,
                1800.0,
                "D",
                battery=Battery(81.0, 0.6, 0.9, reserve_soc=0.15, initial_soc=0.95, max_charge_kw=80.0),
                fixed_cost=300.0,
                cost_per_km=0.8,
                shift_start=360,
                shift_end=1080,
                max_duration_minutes=600,
            ),
            VehicleType(
                "diesel", 1, 2000.0, "D", kind=VehicleKind.DIESEL, diesel_l_per_100km=18.0, end_depot="D"
            ),
        ),
        stations=(ChargingStation("S", "S", 120.0, public=True),),
        recharge_policy=RechargePolicy.PARTIAL,
        objective=Objective.COST,
        road_detour_factor=1.3,
        time_origin=datetime(2026, 11, 26, 0, 0),
        name="shenzhen-mini",
    )


def test_problem_json_round_trip(tmp_path: Path) -> None:
    p = _rich_problem()
    path = tmp_path / "p.json"
    write_problem_json(p, path)
    assert read_problem_json(path) == p
    matrix = RoutingProblem(
        locations=(Location("D"), Location("A")),
        jobs=(Job("j", "A"),),
        vehicle_types=(VehicleType("v", 1, 10.0, "D", kind=VehicleKind.DIESEL, diesel_l_per_100km=20.0),),
        distance_km=((0.0, 2.5), (2.5, 0.0)),
        travel_minutes=((0.0, 5.0), (6.0, 0.0)),
    )
    assert problem_from_dict(json.loads(json.dumps(problem_to_dict(matrix)))) == matrix


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["jobs"][0].update(demand_kg=-5), r"p.json: Job 'j1': field 'demand_kg' = -5"),
        (lambda d: d["jobs"][0].update(colour="red"), r"jobs\[0\]: unknown field\(s\) \['colour'\]"),
        (lambda d: d["jobs"][0].update(time_windows=[[5]]), "time_windows"),
        (lambda d: d["vehicle_types"][0]["battery"].update(reserve_soc=1.5), "'reserve_soc' = 1.5"),
        (lambda d: d.update(locations="D"), "field 'locations' must be a list"),
        (lambda d: d.update(format="other/9"), "field 'format'"),
        (lambda d: d.update(objective="fastest"), "'fastest' is not a valid Objective"),
    ],
)
def test_problem_json_errors_name_the_field(tmp_path: Path, mutate, message: str) -> None:
    d = problem_to_dict(_rich_problem())
    mutate(d)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(d))
    with pytest.raises(ProblemFileError, match=message):
        read_problem_json(path)


def test_problem_json_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("{\n  'single quotes': 1}")
    with pytest.raises(ProblemFileError, match="invalid JSON at line 2"):
        read_problem_json(path)


def test_solution_json_round_trip(tmp_path: Path) -> None:
    stop = Stop(StopKind.STATION, "S", "S", 10.0, 10.0, 20.0, 100.0, 20.0, 40.0, 20.0, 10.0)
    sol = RoutingSolution(
        problem_name="x",
        routes=(
            Route(
                "ev#1",
                "ev",
                "D",
                "D",
                0.0,
                30.0,
                (stop,),
                100.0,
                12.0,
                energy_kwh=5.0,
                cost=9.5,
                soc_departure_kwh=25.0,
                soc_arrival_kwh=35.0,
                energy_charged_kwh=20.0,
                charging_minutes=10.0,
            ),
        ),
        unserved=(UnservedJob("j2", UnservedReason.TIME_WINDOW, "closes at 08:00"),),
        stats=SolverStats("partial", 1.5, 7, 2.0, phases=("construct", "search")),
    )
    path = tmp_path / "s.json"
    write_solution_json(sol, path)
    assert read_solution_json(path) == sol
    path.write_text(json.dumps({"routes": []}))
    with pytest.raises(ProblemFileError, match="not a routing solution"):
        read_solution_json(path)


def test_result_file_shared_format(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    ours = BenchResult(
        "c208C5", [["C50", "S14", "C39"]], 158.4806595843, 1, 1.23456, True, extra={"gap_pct": 0.0}
    )
    peer = BenchResult("R101", [[1, 2]], 10.0, 1, 2.0, False, solver="pyvrp", violations=["x"])
    write_results(path, [ours], peer_results=[peer], meta={"suite": "evrptw"})
    data = json.loads(path.read_text())
    entry = data["results"][0]
    for key in ("instance", "routes", "distance", "vehicles", "seconds", "feasible"):
        assert key in entry
    assert entry["routes"] == [["C50", "S14", "C39"]] and entry["gap_pct"] == 0.0
    assert math.isclose(entry["distance"], 158.480660) and entry["seconds"] == 1.235
    assert read_results(path, "peer_results")[0]["solver"] == "pyvrp"
    assert data["meta"] == {"suite": "evrptw"}


def test_result_file_reads_back_whole(tmp_path: Path) -> None:
    """``from_dict`` inverts ``to_dict`` (extra keys back in ``extra``, no solution as inf), and a file that is
    not a result file is refused with its name."""
    from routing.io.results import read_result_file

    path = tmp_path / "r.json"
    ours = BenchResult("R101", [[1, 2], [3]], 12.5, 2, 1.5, True, extra={"gap_pct": 1.25})
    none = BenchResult("R102", [], math.inf, 0, 3.0, False, violations=["crash: X"])
    peer = BenchResult("R101", [[2, 1, 3]], 11.0, 1, 2.0, True, solver="pyvrp")
    write_results(path, [ours, none], peer_results=[peer], meta={"suite": "solomon"})
    doc = read_result_file(path)
    assert [BenchResult.from_dict(e) for e in doc.results] == [ours, none]
    assert [BenchResult.from_dict(e, "pyvrp") for e in doc.peer_results] == [peer]
    assert doc.meta == {"suite": "solomon"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"results": [], "meta": ["solomon"]}))
    with pytest.raises(ValueError, match=r"bad\.json: 'meta' must be an object"):
        read_result_file(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"bad\.json: not a JSON object"):
        read_result_file(bad)
