"""The solver on multi-trip problems (reloads at the depot) and drivers' breaks; every plan passes the checker.

Small instances, 3 s each (OR-Tools path: ``routing.trips``).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from routing.check import Constraint, check_solution
from routing.evaluate import Geometry
from routing.model import make_nodes
from routing.problem import (
    Battery,
    BreakRule,
    Job,
    Location,
    RoutingProblem,
    TimeWindow,
    VehicleKind,
    VehicleType,
)
from routing.solution import RoutingSolution, StopKind
from routing.solve import solve
from routing.trips import extended, reload_copies

POINTS = [(10, 0), (12, 3), (0, 10), (-3, 12), (-10, 0), (-11, -4)]


def reload_problem(vt: VehicleType) -> RoutingProblem:
    """Six 400-kg deliveries around a depot: 2,400 kg for one 1,000-kg truck, so at least three trips."""
    locs = (Location("D", x=0, y=0), *(Location(f"L{i}", x=x, y=y) for i, (x, y) in enumerate(POINTS)))
    jobs = tuple(Job(f"j{i}", f"L{i}", 400.0, service_minutes=10.0) for i in range(len(POINTS)))
    return RoutingProblem(locs, jobs, (vt,), name="reloads")


DIESEL = VehicleType(
    "truck",
    1,
    1000.0,
    "D",
    kind=VehicleKind.DIESEL,
    diesel_l_per_100km=20.0,
    max_trips=3,
    reload_minutes=20.0,
    shift_end=600.0,
)
# 30 kWh at 0.5-1.0 kWh/km cannot drive the ~78 km of three trips: it must charge at the depot's 60 kW.
EV = VehicleType(
    "ev",
    1,
    1000.0,
    "D",
    battery=Battery(30.0, 0.5, 1.0, reserve_soc=0.1, initial_soc=1.0),
    max_trips=3,
    reload_minutes=20.0,
    depot_charge_kw=60.0,
    shift_end=600.0,
)


def assert_feasible(problem: RoutingProblem, sol: RoutingSolution) -> None:
    report = check_solution(problem, sol)
    assert report.feasible, report.summary()
    assert not sol.extra.get("violations"), sol.extra
    assert not sol.unserved, sol.unserved


@pytest.mark.parametrize("vt", [DIESEL, EV], ids=["diesel", "electric"])
def test_one_truck_serves_more_than_a_truckload_by_reloading(vt: VehicleType) -> None:
    p = reload_problem(vt)
    sol = solve(p, time_limit_s=3.0, seed=0)
    assert_feasible(p, sol)
    (route,) = sol.routes
    reloads = [s for s in route.stops if s.kind is StopKind.RELOAD]
    assert len(reloads) == 2  # three trips, none above the payload (the checker verified each)
    assert all(s.location == "D" for s in reloads)
    assert sum(j.demand_kg for j in p.jobs) > vt.payload_kg
    if vt.is_electric:
        assert sum(s.energy_charged_kwh for s in reloads) > 0.0
        assert route.energy_kwh > vt.battery.capacity_kwh * (1 - vt.battery.reserve_soc)  # type: ignore[union-attr]


def test_without_reloads_the_truck_cannot_serve_everything() -> None:
    p = reload_problem(replace(DIESEL, max_trips=1))
    sol = solve(p, time_limit_s=2.0, seed=0)
    assert check_solution(p, sol).feasible
    assert len(sol.unserved) >= 3  # 1,000 kg of 2,400 at most


def test_single_trip_problems_get_no_reload_nodes() -> None:
    p = reload_problem(replace(DIESEL, max_trips=1))
    assert not extended(p)
    assert reload_copies(p, len(p.jobs)) == {}
    nodes = make_nodes(Geometry.of(p), list(p.jobs), {}, None)
    assert [n.kind for n in nodes.nodes].count("reload") == 0


# D and four customers 100-200 km out: a day of 447 km at 60 km/h needs a rest every 4 h of driving.
FAR = [(100, 0), (150, 20), (200, 0), (150, -60)]
DRIVER = VehicleType(
    "truck",
    2,
    1000.0,
    "D",
    kind=VehicleKind.DIESEL,
    diesel_l_per_100km=20.0,
    break_rule=BreakRule(),
    shift_end=900.0,
)


def breaks_problem(vt: VehicleType = DRIVER, windows: bool = False) -> RoutingProblem:
    locs = (Location("D", x=0, y=0), *(Location(f"L{i}", x=x, y=y) for i, (x, y) in enumerate(FAR)))
    jobs = tuple(
        Job(
            f"j{i}",
            f"L{i}",
            10.0,
            time_windows=(TimeWindow(0.0, 700.0),) if windows else (),
            service_minutes=10.0,
        )
        for i in range(len(FAR))
    )
    return RoutingProblem(locs, jobs, (vt,), name="breaks")


@pytest.mark.parametrize("windows", [False, True], ids=["no-windows", "windows"])
def test_a_long_route_gets_its_break(windows: bool) -> None:
    p = breaks_problem(windows=windows)
    sol = solve(p, time_limit_s=3.0, seed=0)
    assert_feasible(p, sol)
    total_driving = sum(
        r.arrival - r.departure - sum(s.departure - s.arrival for s in r.stops) for r in sol.routes
    )
    assert total_driving > 240.0  # more than one 4-h stretch in the plan
    breaks = [s for r in sol.routes for s in r.stops if s.kind is StopKind.BREAK]
    assert breaks and all(s.departure - s.arrival >= 20.0 - 1e-9 for s in breaks)
    # The same plan with its breaks taken out breaks the rule: the checker sees the long stretch.
    stripped = RoutingSolution(
        sol.problem_name,
        tuple(
            replace(r, stops=tuple(s for s in r.stops if s.kind is not StopKind.BREAK)) for r in sol.routes
        ),
        sol.unserved,
        sol.stats,
    )
    assert Constraint.DRIVING_TIME in {v.constraint for v in check_solution(p, stripped).violations}


def test_multi_trip_with_breaks_together() -> None:
    # The reload instance five times larger: three trips of about 130 km (and min) each.
    vt = replace(DIESEL, break_rule=BreakRule(), shift_end=900.0)
    p = reload_problem(vt)
    p = replace(p, locations=tuple(replace(loc, x=5 * loc.x, y=5 * loc.y) for loc in p.locations))
    sol = solve(p, time_limit_s=3.0, seed=0)
    assert_feasible(p, sol)
    kinds = [s.kind for r in sol.routes for s in r.stops]
    assert kinds.count(StopKind.RELOAD) == 2 and StopKind.BREAK in kinds


def test_json_round_trip_and_cli_solve(tmp_path) -> None:
    import json

    from typer.testing import CliRunner

    from fleet.cli.main import app
    from routing.io.json_io import problem_to_dict, read_problem_json, write_problem_json

    p = reload_problem(replace(EV, break_rule=BreakRule(min_rest_minutes=30.0)))
    pfile, sfile = tmp_path / "p.json", tmp_path / "s.json"
    write_problem_json(p, pfile)
    back = read_problem_json(pfile)
    assert back == p and back.vehicle_types[0].break_rule == BreakRule(240.0, 30.0)
    # Single-trip problems' files keep their old shape (no new keys at the defaults).
    plain = problem_to_dict(reload_problem(replace(DIESEL, max_trips=1, reload_minutes=0.0)))[
        "vehicle_types"
    ][0]
    assert not {"max_trips", "reload_minutes", "depot_charge_kw", "break_rule"} & set(plain)
    result = CliRunner().invoke(app, ["route", "solve", str(pfile), "--time-limit", "2", "--out", str(sfile)])
    assert result.exit_code == 0, result.output
    sol = json.loads(sfile.read_text())
    kinds = [s["kind"] for r in sol["routes"] for s in r["stops"]]
    assert kinds.count("reload") == 2 and sol["totals"]["unserved"] == 0
    check = CliRunner().invoke(app, ["route", "check", str(pfile), str(sfile)])
    assert check.exit_code == 0 and "feasible" in check.output


def test_break_intervals_path_also_passes_the_checker() -> None:
    """The fallback model (OR-Tools break intervals, ``routing.trips.add_to_model``) on the long route."""
    from routing.solve import _Runner

    p = breaks_problem()
    runner = _Runner(p, 0, 0, None, break_intervals=True)
    sol = runner.to_solution(runner.solve(3.0), 3.0, 0, 3.0, 1)
    assert_feasible(p, sol)
    assert any(s.kind is StopKind.BREAK for r in sol.routes for s in r.stops)


def test_break_inflation_reserves_the_rests() -> None:
    import numpy as np

    from routing.trips import break_inflation

    # Short arcs (<= 120 min = D/2): one 20-min rest per (240 - a_max) min of driving at most.
    assert break_inflation(DRIVER, np.array([[0.0, 60.0], [60.0, 0.0]])) == pytest.approx((1 + 20 / 180, 0.0))
    # Long arcs: 2R/D per minute plus one rest per trip; arcs above the limit are not counted.
    assert break_inflation(DRIVER, np.array([[0.0, 200.0], [300.0, 0.0]])) == pytest.approx(
        (1 + 40 / 240, 20.0)
    )
    assert break_inflation(replace(DRIVER, break_rule=None), np.zeros((2, 2))) == (1.0, 0.0)
