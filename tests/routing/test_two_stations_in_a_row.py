"""A job that needs two charging stations in a row on the way out and on the way back.

C1 is 100 km from the depot with a 50 kWh battery at 1 kWh/km: no single station bridges the depot and C1, and
the only feasible route is S0 S1 C1 S1 S0 (hops of 42.0, 38.5, 24.0 km). S5 lies 0.9 km from C1 and S2-S4 off
the way, so the construction's greedy station repair spent its four insertions on stations that only moved the
failure's index (S5 before C1) and left C1 unserved; ``solve`` then reported it dropped although the route exists.
The same for multi-trip and for drivers' breaks (at 48 km/h the 209 km need a rest). Both checkers verify the
answers: ``routing.check`` on the typed problem and the benchmark's own E-VRPTW checker on the id lists.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from routing.check import check_solution
from routing.check_bench import check_evrptw_routes
from routing.construct import Builder
from routing.evaluate import Geometry
from routing.io.evrptw import evrptw_to_problem, read_evrptw
from routing.lns_trips import TripRoutes
from routing.problem import BreakRule, RoutingProblem
from routing.solution import StopKind
from routing.solve import solve

STATIONS = [(40.9, 9.7), (79.2, 13.3), (20.2, 28.6), (-3.0, -17.8), (92.3, -26.8), (99.5, 0.8)]


@pytest.fixture
def far(tmp_path: Path):
    rows = [
        "StringID   Type       x          y          demand     ReadyTime  DueDate    ServiceTime",
        "D0 d 0.0 0.0 0.0 0.0 1000.0 0.0",
        *(f"S{i} f {x} {y} 0.0 0.0 1000.0 0.0" for i, (x, y) in enumerate(STATIONS)),
        "C1 c 100.0 0.0 10.0 0.0 1000.0 10.0",
        "",
        "Q Vehicle fuel tank capacity /50.0/",
        "C Vehicle load capacity /100.0/",
        "r fuel consumption rate /1.0/",
        "g inverse refueling rate /1.0/",
        "v average Velocity /0.8/",
    ]
    path = tmp_path / "far.txt"
    path.write_text("\n".join(rows) + "\n")
    return read_evrptw(path)


def variant(inst, changes: dict) -> RoutingProblem:
    p = evrptw_to_problem(inst, vehicles=1)
    return replace(p, vehicle_types=(replace(p.vehicle_types[0], **changes),))


VARIANTS = [{}, {"max_trips": 2, "reload_minutes": 15.0}, {"break_rule": BreakRule()}]


def test_the_greedy_repair_alone_leaves_the_job_out_and_the_bridging_one_builds_the_route(far) -> None:
    p = variant(far, {})
    b = Builder(Geometry.of(p), {"C1": {"ev"}})
    vt, job = p.vehicle_types[0], p.jobs[0]
    first = b.scan(vt, [job])
    assert first.what == "battery"
    assert b._repaired_greedy(vt, [job], first) == (None, True)
    route = b.repaired(vt, [job])
    assert route is not None
    assert [x.id for x in route] == ["S0", "S1", "C1", "S1", "S0"]


def test_the_trip_search_station_repair_builds_it_too(far) -> None:
    p = variant(far, VARIANTS[1])
    geo = Geometry.of(p)
    tr = TripRoutes(geo, p.vehicle_ids())
    ev, _, _ = tr.evaluate(0, [p.jobs[0]])
    fixed = tr.restation(0, [p.jobs[0]], ev)
    assert fixed is not None
    assert [x.id for x in fixed[0]] == ["S0", "S1", "C1", "S1", "S0"]
    assert fixed[1][0].feasible


@pytest.mark.parametrize("changes", VARIANTS, ids=["plain", "reloads", "breaks"])
def test_solve_serves_the_far_job_and_both_checkers_accept(far, changes: dict) -> None:
    p = variant(far, changes)
    sol = solve(p, time_limit_s=2.0, seed=0)
    assert not sol.unserved, sol.unserved
    report = check_solution(p, sol)
    assert report.feasible, report.summary()
    (route,) = sol.routes
    ids = [s.id for s in route.stops if s.kind in (StopKind.JOB, StopKind.STATION)]
    assert ids.count("C1") == 1 and sum(1 for i in ids if i.startswith("S")) >= 4
    bench = check_evrptw_routes(far, [ids], reported_distance=sol.total_distance_km, reported_vehicles=1)
    assert bench.feasible, bench.summary()
    if "break_rule" in changes:
        assert any(s.kind is StopKind.BREAK for s in route.stops)  # 261 min of driving: a rest is needed
