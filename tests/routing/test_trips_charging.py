"""Charging plans of the float evaluation of reload/break problems (``routing.trips.evaluate``).

A route that needs two charging stations in a row: the greedy rule ("just enough to reach the next charging
opportunity") takes the bare minimum at the first (fast) station and the rest at the second (slow) one, and is
late; charging more at the fast one is on time (the single-trip path finds that plan with
``routing.evaluate.lp_charges``). Every route ``trips.evaluate`` calls feasible must pass the checker.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from routing import trips
from routing.check import check_solution
from routing.evaluate import Geometry, evaluate_route, lp_charges
from routing.problem import (
    Battery,
    BreakRule,
    ChargingStation,
    Job,
    Location,
    RoutingProblem,
    TimeWindow,
    VehicleType,
)
from routing.solution import RoutingSolution, SolverStats, StopKind

STATS = SolverStats("feasible", 0.0, 0, 1.0)


def line_problem(**vt_changes) -> RoutingProblem:
    """D(0) - S0(40, 300 kW) - S1(80, 10 kW) - J(100) on a line, 1 min and 1 kWh per km, a 50-kWh battery.

    D-S1 (80 km) and S0-J (60 km) are beyond the battery: out and back the route is S0 S1 J S1 S0. Greedy: S0
    takes 30 kWh (6 min), S1 40 kWh (240 min): J at 346. Charging S0 full (40 kWh, 8 min) leaves 30 kWh for S1
    (180 min): J at 288, inside its window [0, 300]."""
    locs = (
        Location("D", x=0, y=0),
        Location("S0", x=40, y=0),
        Location("S1", x=80, y=0),
        Location("J", x=100, y=0),
    )
    ev = VehicleType("ev", 1, 100.0, "D", battery=Battery(50.0, 1.0, 1.0), **vt_changes)
    return RoutingProblem(
        locs,
        (Job("job", "J", 10.0, (TimeWindow(0.0, 300.0),)),),
        (ev,),
        stations=(ChargingStation("S0", "S0", 300.0), ChargingStation("S1", "S1", 10.0)),
        name="line",
    )


def checked(p: RoutingProblem, ev: trips.RouteEval) -> None:
    report = check_solution(p, RoutingSolution(p.name, (ev.route,), (), STATS))
    assert report.feasible, report.summary()


def test_the_case_greedy_charging_is_late_where_a_plan_exists() -> None:
    p = line_problem()
    geo, vt = Geometry.of(p), p.vehicle_types[0]
    s0, s1 = p.stations
    visits = [s0, s1, p.jobs[0], s1, s0]
    assert not evaluate_route(geo, "ev#1", vt, visits, 0.0).feasible  # greedy: J at 346
    assert lp_charges(geo, vt, visits, 0.0) is not None  # a plan exists


@pytest.mark.parametrize(
    "changes",
    [{"max_trips": 2, "reload_minutes": 15.0}, {"break_rule": BreakRule()}],
    ids=["reloads", "breaks"],
)
def test_two_stations_in_a_row_get_a_charging_plan_that_fits(changes: dict) -> None:
    p = line_problem(**changes)
    geo, vt = Geometry.of(p), p.vehicle_types[0]
    s0, s1 = p.stations
    ev = trips.evaluate(geo, "ev#1", vt, [s0, s1, p.jobs[0], s1, s0], 0.0)
    assert ev.feasible, ev.violations
    first = ev.route.stops[0]
    assert first.id == "S0" and first.energy_charged_kwh > 30.0 + 1e-6  # more than just enough
    checked(p, ev)


def test_two_stations_in_a_row_on_the_second_trip() -> None:
    """The same leg after a short first trip (2 min out and back, 5 min reload): J at 295 with the plan."""
    p = line_problem(max_trips=2, reload_minutes=5.0, depot_charge_kw=60.0)
    near = Location("N", x=-1, y=0)
    p = replace(
        p,
        locations=(*p.locations, near),
        jobs=(*p.jobs, Job("near", "N", 10.0)),
    )
    geo, vt = Geometry.of(p), p.vehicle_types[0]
    s0, s1 = p.stations
    job, first = p.jobs
    ev = trips.evaluate(geo, "ev#1", vt, [first, trips.Reload("D"), s0, s1, job, s1, s0], 0.0)
    assert ev.feasible, ev.violations
    assert [s.kind for s in ev.route.stops].count(StopKind.RELOAD) == 1
    checked(p, ev)


def test_a_reload_without_a_depot_charger_is_no_charging_opportunity() -> None:
    """A(20) on the first trip, B(-20) on the second; S(10) on the way back is the last charger before B: the
    greedy rule must charge there for the second trip, as the reload charges nothing."""
    locs = (
        Location("D", x=0, y=0),
        Location("A", x=20, y=0),
        Location("S", x=10, y=0),
        Location("B", x=-20, y=0),
    )
    ev_type = VehicleType(
        "ev", 1, 1000.0, "D", battery=Battery(50.0, 1.0, 1.0), max_trips=2, reload_minutes=10.0
    )
    p = RoutingProblem(
        locs,
        (Job("a", "A", 800.0), Job("b", "B", 800.0)),
        (ev_type,),
        stations=(ChargingStation("S", "S", 60.0),),
        name="no-depot-charger",
    )
    geo = Geometry.of(p)
    a, b = p.jobs
    ev = trips.evaluate(geo, "ev#1", ev_type, [a, p.stations[0], trips.Reload("D"), b], 0.0)
    assert ev.feasible, ev.violations
    assert ev.route.stops[1].energy_charged_kwh == pytest.approx(30.0)
    checked(p, ev)
