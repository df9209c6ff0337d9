"""The independent checker on multi-trip routes (reloads at the depot) and on drivers' breaks.

Rules: ``routing.problem`` docstring, 'Multi-trip' and 'Driver breaks' (China: 道路交通安全法实施条例 第六十二条,
at most 4 h of continuous driving without a rest of at least 20 min). Each rule has a hand-computed passing plan
and plans that violate it; a violating plan is first made self-consistent (its figures recomputed by the checker)
so that the rule in question is the ONLY violation left.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from routing import trips
from routing.check import Constraint, check_solution
from routing.evaluate import Geometry
from routing.problem import (
    Battery,
    BreakRule,
    Job,
    Location,
    RoutingProblem,
    VehicleKind,
    VehicleType,
)
from routing.solution import Route, RoutingSolution, SolverStats, Stop, StopKind

STATS = SolverStats("feasible", 0.0, 0, 1.0)

# Multi-trip: D(0,0), A(10,0), B(0,10); 60 km/h = 1 min per km; payload 1000 kg.
EV = VehicleType(
    "ev",
    1,
    1000.0,
    "D",
    battery=Battery(100.0, 0.5, 1.0, reserve_soc=0.1, initial_soc=0.5),
    speed_kmh=60.0,
    max_trips=2,
    reload_minutes=15.0,
    depot_charge_kw=60.0,
)


def trips_problem(vt: VehicleType = EV, extra_jobs: tuple[Job, ...] = ()) -> RoutingProblem:
    return RoutingProblem(
        locations=(Location("D", x=0, y=0), Location("A", x=10, y=0), Location("B", x=0, y=10)),
        jobs=(Job("a", "A", 800.0, service_minutes=10.0), Job("b", "B", 800.0, service_minutes=10.0))
        + extra_jobs,
        vehicle_types=(vt,),
        name="trips",
    )


def two_trip_route() -> Route:
    """Hand-computed. Trip 1: 800 kg on D-A (0.9 kWh/km, 9 kWh), empty A-D (0.5, 5 kWh); the reload charges
    30 kWh at 60 kW = 30 min, longer than the 15-min reload, so it leaves at 30 + 30. Trip 2 the same to B."""
    a = Stop(StopKind.JOB, "a", "A", 10.0, 10.0, 20.0, 0.0, 41.0, 41.0)
    r = Stop(StopKind.RELOAD, "D", "D", 30.0, 30.0, 60.0, 800.0, 36.0, 66.0, 30.0, 30.0)
    b = Stop(StopKind.JOB, "b", "B", 70.0, 70.0, 80.0, 0.0, 57.0, 57.0)
    return Route(
        "ev#1",
        "ev",
        "D",
        "D",
        departure=0.0,
        arrival=90.0,
        stops=(a, r, b),
        load_departure_kg=800.0,
        distance_km=40.0,
        energy_kwh=28.0,
        soc_departure_kwh=50.0,
        soc_arrival_kwh=52.0,
        energy_charged_kwh=30.0,
        charging_minutes=30.0,
    )


def sol(problem: RoutingProblem, *routes: Route) -> RoutingSolution:
    return RoutingSolution(problem.name, tuple(routes), (), STATS)


def constraints(report) -> set[Constraint]:
    return {v.constraint for v in report.violations}


def only_violation(problem: RoutingProblem, route: Route) -> set[Constraint]:
    """The constraints a route breaks once its reported figures are the checker's own (decisions kept)."""
    first = check_solution(problem, sol(problem, route))
    again = check_solution(problem, sol(problem, first.routes[0]))
    assert Constraint.MISMATCH not in constraints(again), again.summary()
    return constraints(again)


# ---- multi-trip ---------------------------------------------------------------------------------------------


def test_hand_computed_two_trip_route_is_feasible() -> None:
    p = trips_problem()
    report = check_solution(p, sol(p, two_trip_route()))
    assert report.feasible, report.summary()
    assert report.totals.energy_charged_kwh == pytest.approx(30.0)
    assert report.totals.jobs_served == 2


def test_the_same_two_trips_break_the_payload_without_a_reload() -> None:
    p = trips_problem()
    r = two_trip_route()
    single = replace(r, stops=(r.stops[0], r.stops[2]))
    assert Constraint.PAYLOAD in only_violation(p, single)


def test_trip_over_payload_between_reloads() -> None:
    # A third job at B puts 800 + 300 kg on the second trip.
    p = trips_problem(extra_jobs=(Job("c", "B", 300.0),))
    r = two_trip_route()
    c = Stop(StopKind.JOB, "c", "B", 80.0, 80.0, 80.0, 0.0)
    over = replace(r, stops=(*r.stops, c))
    report = check_solution(p, sol(p, over))
    payload = [v for v in report.violations if v.constraint is Constraint.PAYLOAD]
    assert payload and payload[0].stop == 1 and payload[0].found == pytest.approx(1100.0)
    assert only_violation(p, over) == {Constraint.PAYLOAD}


def test_reload_at_a_non_depot_location() -> None:
    p = trips_problem(extra_jobs=(Job("c", "B", 100.0),))
    # Serve a at A, "reload" at A itself, then b and c at B.
    a = Stop(StopKind.JOB, "a", "A", 10.0, 10.0, 20.0, 0.0)
    r = Stop(StopKind.RELOAD, "A", "A", 20.0, 20.0, 35.0, 900.0)
    b = Stop(StopKind.JOB, "b", "B", 0.0, 0.0, 0.0, 100.0)
    c = Stop(StopKind.JOB, "c", "B", 0.0, 0.0, 0.0, 0.0)
    route = replace(two_trip_route(), stops=(a, r, b, c))
    assert only_violation(p, route) == {Constraint.RELOAD}


def test_reload_away_from_the_reload_depot_names_that_depot() -> None:
    """A route that continues a day from A (``reload_depot`` D, as routing.replan sets it): its reload belongs at
    D, and the message says "reload depot", not "start depot" (A is where it starts). The solver's float
    evaluation words it the same way."""
    vt = replace(EV, start_depot="A", end_depot="D", reload_depot="D")
    p = trips_problem(vt=vt, extra_jobs=(Job("c", "B", 100.0),))
    a = Stop(StopKind.JOB, "a", "A", 0.0, 0.0, 10.0, 0.0)
    r = Stop(StopKind.RELOAD, "A", "A", 10.0, 10.0, 25.0, 900.0)
    b = Stop(StopKind.JOB, "b", "B", 0.0, 0.0, 0.0, 100.0)
    c = Stop(StopKind.JOB, "c", "B", 0.0, 0.0, 0.0, 0.0)
    route = replace(two_trip_route(), start_depot="A", stops=(a, r, b, c))
    report = check_solution(p, sol(p, route))
    (v,) = [v for v in report.violations if v.constraint is Constraint.RELOAD]
    assert v.message == "reload away from the vehicle's reload depot"
    assert (v.expected, v.found, v.rule) == ("D", "A", "reload.away")
    # The default (no reload_depot): the start depot, as before.
    plain = check_solution(
        trips_problem(extra_jobs=(Job("c", "B", 100.0),)), sol(p, replace(route, start_depot="D"))
    )
    (w,) = [w for w in plain.violations if w.constraint is Constraint.RELOAD]
    assert w.message == "reload away from the vehicle's start depot" and w.expected == "D"
    geo = Geometry.of(p)
    jobs = {j.id: j for j in p.jobs}
    ev = trips.evaluate(geo, "ev#1", vt, [jobs["a"], trips.Reload("A"), jobs["b"], jobs["c"]], 0.0)
    assert "ev#1: reload at A, not at the reload depot D" in ev.violations


def test_more_trips_than_max_trips() -> None:
    p = trips_problem(vt=replace(EV, max_trips=1))
    assert only_violation(p, two_trip_route()) == {Constraint.RELOAD}


def test_reload_charge_needs_a_depot_charger() -> None:
    p = trips_problem(vt=replace(EV, depot_charge_kw=None))
    report = check_solution(p, sol(p, two_trip_route()))
    assert Constraint.CHARGING in constraints(report)
    assert report.routes[0].stops[1].departure == pytest.approx(30.0 + 15.0)  # reload time only


def test_short_charge_during_reload_takes_the_reload_time() -> None:
    p = trips_problem()
    r = two_trip_route()
    small = replace(r.stops[1], energy_charged_kwh=5.0, charging_minutes=5.0)
    report = check_solution(p, sol(p, replace(r, stops=(r.stops[0], small, r.stops[2]))))
    stop = report.routes[0].stops[1]
    assert stop.departure == pytest.approx(30.0 + 15.0)  # max(reload 15 min, charging 5 min)
    assert stop.soc_departure_kwh == pytest.approx(41.0)
    assert only_violation(p, report.routes[0]) == set()


# ---- driver breaks ------------------------------------------------------------------------------------------

# D(0,0), A(125,0), B(125,125); 60 km/h: D-A 125 min, A-B 125 min, B-D 176.78 min of driving.
TRUCK = VehicleType(
    "truck",
    1,
    1000.0,
    "D",
    kind=VehicleKind.DIESEL,
    diesel_l_per_100km=20.0,
    speed_kmh=60.0,
    break_rule=BreakRule(),
)
BD = 125.0 * math.sqrt(2.0)


def breaks_problem(vt: VehicleType = TRUCK, service: float = 10.0) -> RoutingProblem:
    return RoutingProblem(
        locations=(Location("D", x=0, y=0), Location("A", x=125, y=0), Location("B", x=125, y=125)),
        jobs=(Job("a", "A", 100.0, service_minutes=service), Job("b", "B", 100.0, service_minutes=service)),
        vehicle_types=(vt,),
        name="breaks",
    )


def route_with_breaks() -> Route:
    """Hand-computed: 125 min to A, 10 min service, 20-min break at A, 125 min to B, 10 min service, 20-min
    break at B, 176.78 min home: 125, 125 and 176.78 min of continuous driving, each <= 240."""
    stops = (
        Stop(StopKind.JOB, "a", "A", 125.0, 125.0, 135.0, 100.0),
        Stop(StopKind.BREAK, "A", "A", 135.0, 135.0, 155.0, 100.0),
        Stop(StopKind.JOB, "b", "B", 280.0, 280.0, 290.0, 0.0),
        Stop(StopKind.BREAK, "B", "B", 290.0, 290.0, 310.0, 0.0),
    )
    km = 250.0 + BD
    return Route(
        "truck#1",
        "truck",
        "D",
        "D",
        departure=0.0,
        arrival=310.0 + BD,
        stops=stops,
        load_departure_kg=200.0,
        distance_km=km,
        fuel_l=km * 0.2,
    )


def test_hand_computed_route_with_breaks_is_feasible() -> None:
    p = breaks_problem()
    report = check_solution(p, sol(p, route_with_breaks()))
    assert report.feasible, report.summary()


def test_four_hours_ten_minutes_of_driving_without_a_rest() -> None:
    p = breaks_problem(service=0.0)
    r = route_with_breaks()
    no_first_break = replace(r, stops=(r.stops[0], r.stops[2], r.stops[3]))
    report = check_solution(p, sol(p, no_first_break))
    driving = [v for v in report.violations if v.constraint is Constraint.DRIVING_TIME]
    assert len(driving) == 1 and driving[0].found == pytest.approx(250.0)  # 4 h 10 min on arrival at B
    assert only_violation(p, no_first_break) == {Constraint.DRIVING_TIME}


def test_a_rest_shorter_than_20_minutes_does_not_count() -> None:
    p = breaks_problem()
    r = route_with_breaks()
    short = replace(r.stops[1], departure=r.stops[1].arrival + 19.0)
    assert only_violation(p, replace(r, stops=(r.stops[0], short, *r.stops[2:]))) == {Constraint.DRIVING_TIME}


def test_service_time_is_not_rest() -> None:
    # 30 min of unloading at A is work: without a BREAK stop the 4-h limit is still broken at B.
    p = breaks_problem(service=30.0)
    r = route_with_breaks()
    assert only_violation(p, replace(r, stops=(r.stops[0], r.stops[2], r.stops[3]))) == {
        Constraint.DRIVING_TIME
    }


def test_the_last_leg_home_counts_too() -> None:
    p = breaks_problem()
    r = route_with_breaks()
    report = check_solution(p, sol(p, replace(r, stops=r.stops[:3])))
    driving = [v for v in report.violations if v.constraint is Constraint.DRIVING_TIME]
    assert len(driving) == 1 and driving[0].found == pytest.approx(125.0 + BD)
    assert driving[0].where == "D"


def test_no_break_rule_no_limit() -> None:
    p = breaks_problem(vt=replace(TRUCK, break_rule=None))
    r = route_with_breaks()
    assert only_violation(p, replace(r, stops=(r.stops[0], r.stops[2]))) == set()


def test_round_trip_of_new_stop_kinds_through_dict() -> None:
    p = trips_problem()
    s = sol(p, two_trip_route())
    back = RoutingSolution.from_dict(s.to_dict())
    assert back.routes[0].stops[1].kind is StopKind.RELOAD
    assert check_solution(p, back).feasible
