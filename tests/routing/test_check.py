"""The independent checker: a hand-computed feasible plan passes; each constraint type is caught."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.check import Constraint, check_solution
from routing.check_bench import check_evrptw_routes, check_result_file, check_solomon_routes
from routing.io.evrptw import evrptw_to_problem, read_evrptw
from routing.io.results import BenchResult, write_results
from routing.io.solomon import read_solomon
from routing.problem import (
    Battery,
    ChargingStation,
    Job,
    Location,
    RechargePolicy,
    RoutingProblem,
    TimeWindow,
    VehicleKind,
    VehicleType,
)
from routing.solution import Route, RoutingSolution, SolverStats, Stop, StopKind, UnservedJob, UnservedReason
from tests.routing.bench_data import bench_dir

STATS = SolverStats("feasible", 0.0, 0, 1.0)

# Planar depot D(0,0), A(3,4), B(6,8): D-A 5 km, A-B 5 km, B-D 10 km; 60 km/h = 1 min per km.
EV = VehicleType(
    "ev",
    2,
    1000.0,
    "D",
    battery=Battery(10.0, 0.1, 0.2, reserve_soc=0.1, initial_soc=1.0),
    fixed_cost=100.0,
    cost_per_km=2.0,
    cost_per_hour=60.0,
    shift_start=0.0,
    shift_end=480.0,
    max_duration_minutes=300.0,
    speed_kmh=60.0,
)
DIESEL = VehicleType(
    "truck", 1, 1000.0, "D", kind=VehicleKind.DIESEL, diesel_l_per_100km=20.0, speed_kmh=60.0
)


def problem(**kw) -> RoutingProblem:
    args = {
        "locations": (Location("D", x=0, y=0), Location("A", x=3, y=4), Location("B", x=6, y=8)),
        "jobs": (
            Job("a", "A", 500.0, (TimeWindow(0, 100),), 10.0),
            Job("b", "B", 500.0, (TimeWindow(30, 60),), 10.0),
        ),
        "vehicle_types": (EV, DIESEL),
        "name": "tiny",
    }
    args.update(kw)
    return RoutingProblem(**args)


def feasible_route() -> Route:
    """Hand-computed: load 1000 kg on D-A (0.2 kWh/km), 500 kg on A-B (0.15), empty on B-D (0.1)."""
    a = Stop(
        StopKind.JOB,
        "a",
        "A",
        arrival=5.0,
        service_start=5.0,
        departure=15.0,
        load_kg=500.0,
        soc_arrival_kwh=9.0,
        soc_departure_kwh=9.0,
    )
    b = Stop(
        StopKind.JOB,
        "b",
        "B",
        arrival=20.0,
        service_start=30.0,
        departure=40.0,
        load_kg=0.0,
        soc_arrival_kwh=8.25,
        soc_departure_kwh=8.25,
    )
    return Route(
        "ev#1",
        "ev",
        "D",
        "D",
        departure=0.0,
        arrival=50.0,
        stops=(a, b),
        load_departure_kg=1000.0,
        distance_km=20.0,
        energy_kwh=2.75,
        cost=100.0 + 2.0 * 20.0 + 60.0 * 50.0 / 60.0,
        soc_departure_kwh=10.0,
        soc_arrival_kwh=7.25,
    )


def solution(*routes: Route, unserved: tuple[UnservedJob, ...] = (), name: str = "tiny") -> RoutingSolution:
    return RoutingSolution(name, tuple(routes), unserved, STATS)


def constraints(report) -> set[Constraint]:
    return {v.constraint for v in report.violations}


def test_hand_computed_plan_is_feasible_with_exact_totals() -> None:
    report = check_solution(problem(), solution(feasible_route()))
    assert report.feasible, report.summary()
    t = report.totals
    assert (t.vehicles, t.jobs_served, t.jobs_unserved) == (1, 2, 0)
    assert t.distance_km == pytest.approx(20.0)
    assert t.energy_kwh == pytest.approx(2.75)
    assert t.cost == pytest.approx(190.0)
    assert t.fuel_l == 0.0


def test_diesel_route_litres_and_no_soc() -> None:
    r = feasible_route()
    stops = tuple(replace(s, soc_arrival_kwh=None, soc_departure_kwh=None) for s in r.stops)
    d = replace(
        r,
        vehicle_id="truck#1",
        vehicle_type="truck",
        stops=stops,
        energy_kwh=0.0,
        fuel_l=4.0,
        cost=0.0,
        soc_departure_kwh=None,
        soc_arrival_kwh=None,
    )
    report = check_solution(problem(), solution(d))
    assert report.feasible, report.summary()
    assert report.totals.fuel_l == pytest.approx(4.0)  # 20 km at 20 L/100 km


def find(report, constraint: Constraint):
    hits = [v for v in report.violations if v.constraint is constraint]
    assert hits, f"{constraint} not reported; got: {report.summary()}"
    return hits[0]


def test_time_window_violation_names_stop_and_figures() -> None:
    p = problem(
        jobs=(
            Job("a", "A", 500.0, (TimeWindow(0, 100),), 10.0),
            Job("b", "B", 500.0, (TimeWindow(0, 15),), 10.0),
        )
    )
    v = find(check_solution(p, solution(feasible_route())), Constraint.TIME_WINDOW)
    assert (v.vehicle, v.stop, v.where, v.quantity) == ("ev#1", 1, "b", "service_start")
    assert v.expected == 15.0 and v.found == pytest.approx(20.0)


def test_second_time_window_is_used_when_the_first_has_closed() -> None:
    p = problem(
        jobs=(
            Job("a", "A", 500.0, (TimeWindow(0, 100),), 10.0),
            Job("b", "B", 500.0, (TimeWindow(0, 10), TimeWindow(30, 60)), 10.0),
        )
    )
    assert check_solution(p, solution(feasible_route())).feasible


def test_shift_start_shift_end_and_max_duration() -> None:
    early = replace(feasible_route(), departure=-5.0)
    assert Constraint.SHIFT_START in constraints(check_solution(problem(), solution(early)))
    late = problem(vehicle_types=(replace(EV, shift_end=45.0), DIESEL))
    v = find(check_solution(late, solution(feasible_route())), Constraint.SHIFT_END)
    assert (v.expected, v.found, v.where) == (45.0, pytest.approx(50.0), "D")
    short = problem(vehicle_types=(replace(EV, max_duration_minutes=40.0), DIESEL))
    v = find(check_solution(short, solution(feasible_route())), Constraint.MAX_DURATION)
    assert v.found == pytest.approx(50.0)


def test_payload() -> None:
    small = problem(vehicle_types=(replace(EV, payload_kg=900.0), DIESEL))
    v = find(check_solution(small, solution(feasible_route())), Constraint.PAYLOAD)
    assert (v.expected, v.found) == (900.0, 1000.0)


def test_reserve_soc_with_load_dependent_consumption() -> None:
    # 3 kWh at departure, reserve 1 kWh: 3 - 1.0 - 0.75 = 1.25 at B, then 1.25 - 1.0 = 0.25 back at D.
    low = problem(vehicle_types=(replace(EV, battery=replace(EV.battery, initial_soc=0.3)), DIESEL))
    report = check_solution(low, solution(feasible_route()))
    v = find(report, Constraint.RESERVE_SOC)
    assert v.where == "D" and v.stop is None
    assert (v.expected, v.found) == (pytest.approx(1.0), pytest.approx(0.25))
    # The figures the solution reported (for a full battery) are flagged too.
    assert any(
        m.quantity == "soc_arrival_kwh" for m in report.violations if m.constraint is Constraint.MISMATCH
    )


def test_duplicate_missing_and_unserved_conflicts() -> None:
    r = feasible_route()
    twice = replace(r, stops=(r.stops[0], r.stops[0], r.stops[1]))
    assert find(check_solution(problem(), solution(twice)), Constraint.DUPLICATE_JOB).where == "a"
    only_a = replace(r, stops=(r.stops[0],))
    v = find(check_solution(problem(), solution(only_a)), Constraint.MISSING_JOB)
    assert v.where == "b"
    listed = check_solution(problem(), solution(only_a, unserved=(UnservedJob("b", UnservedReason.DROPPED),)))
    assert Constraint.MISSING_JOB not in constraints(listed)
    both = solution(r, unserved=(UnservedJob("a", UnservedReason.CAPACITY),))
    assert find(check_solution(problem(), both), Constraint.UNSERVED_CONFLICT).where == "a"


def test_vehicle_kind_vehicle_ids_and_unknown_stops() -> None:
    p = problem(
        jobs=(
            Job("a", "A", 500.0, (TimeWindow(0, 100),), 10.0, required_kind=VehicleKind.DIESEL),
            Job("b", "B", 500.0, (TimeWindow(30, 60),), 10.0),
        )
    )
    v = find(check_solution(p, solution(feasible_route())), Constraint.VEHICLE_KIND)
    assert (v.where, v.expected, v.found) == ("a", "diesel", "electric")
    ghost = replace(feasible_route(), vehicle_id="ev#3")
    assert find(check_solution(problem(), solution(ghost)), Constraint.VEHICLE).vehicle == "ev#3"
    r = feasible_route()
    again = replace(r, stops=())
    assert Constraint.VEHICLE in constraints(check_solution(problem(), solution(r, again)))
    odd = replace(r, stops=(r.stops[0], replace(r.stops[1], id="zz")))
    assert find(check_solution(problem(), solution(odd)), Constraint.UNKNOWN_ID).where == "zz"


def test_reported_figures_must_match() -> None:
    r = feasible_route()
    wrong = replace(r, distance_km=19.0, stops=(replace(r.stops[0], arrival=4.0), r.stops[1]))
    report = check_solution(problem(), solution(wrong))
    found = {(v.quantity, v.stop) for v in report.violations if v.constraint is Constraint.MISMATCH}
    assert ("distance_km", None) in found and ("arrival", 0) in found
    assert (
        find(check_solution(problem(), solution(r, name="other")), Constraint.MISMATCH).quantity
        == "problem_name"
    )


# Charging: D(0,0) - S(10,0) - A(20,0); 0.1 kWh/km flat, 4 kWh battery, 0.4 kWh reserve; station 60 kW, vehicle
# limited to 30 kW. D-S-A-S-D = 40 km = 4 kWh, so 1 kWh must be taken at S on the way back (2 min at 30 kW).
CHARGE_EV = VehicleType(
    "ev", 1, 1000.0, "D", battery=Battery(4.0, 0.1, 0.1, reserve_soc=0.1, max_charge_kw=30.0), speed_kmh=60.0
)


def charge_problem(
    policy: RechargePolicy = RechargePolicy.PARTIAL, vehicle: VehicleType = CHARGE_EV
) -> RoutingProblem:
    return RoutingProblem(
        locations=(Location("D", x=0, y=0), Location("S", x=10, y=0), Location("A", x=20, y=0)),
        jobs=(Job("a", "A", 100.0),),
        vehicle_types=(vehicle,),
        stations=(ChargingStation("s", "S", 60.0),),
        recharge_policy=policy,
        name="charge",
    )


def charge_route(energy: float = 1.0) -> Route:
    minutes = energy / 30.0 * 60.0
    s1 = Stop(StopKind.STATION, "s", "S", 10.0, 10.0, 10.0, 100.0, 3.0, 3.0, 0.0, 0.0)
    a = Stop(StopKind.JOB, "a", "A", 20.0, 20.0, 20.0, 0.0, 2.0, 2.0)
    s2 = Stop(StopKind.STATION, "s", "S", 30.0, 30.0, 30.0 + minutes, 0.0, 1.0, 1.0 + energy, energy, minutes)
    return Route(
        "ev#1",
        "ev",
        "D",
        "D",
        0.0,
        40.0 + minutes,
        (s1, a, s2),
        100.0,
        40.0,
        energy_kwh=4.0,
        soc_departure_kwh=4.0,
        soc_arrival_kwh=energy,
        energy_charged_kwh=energy,
        charging_minutes=minutes,
    )


def test_partial_charging_plan_is_feasible() -> None:
    report = check_solution(charge_problem(), RoutingSolution("charge", (charge_route(),), (), STATS))
    assert report.feasible, report.summary()
    assert report.totals.energy_charged_kwh == pytest.approx(1.0)
    assert report.totals.charging_minutes == pytest.approx(2.0)


def test_charging_violations() -> None:
    none = check_solution(charge_problem(), RoutingSolution("charge", (charge_route(0.0),), (), STATS))
    v = find(none, Constraint.RESERVE_SOC)
    assert v.where == "D" and v.found == pytest.approx(0.0) and v.expected == pytest.approx(0.4)
    too_much = check_solution(charge_problem(), RoutingSolution("charge", (charge_route(3.5),), (), STATS))
    assert find(too_much, Constraint.BATTERY_CAPACITY).stop == 2
    negative = check_solution(charge_problem(), RoutingSolution("charge", (charge_route(-0.5),), (), STATS))
    assert Constraint.CHARGING in constraints(negative)
    full = check_solution(
        charge_problem(RechargePolicy.FULL), RoutingSolution("charge", (charge_route(1.0),), (), STATS)
    )
    first, second = (v for v in full.violations if v.constraint is Constraint.CHARGING)
    assert (first.stop, first.expected, first.found) == (0, pytest.approx(1.0), 0.0)  # 3 of 4 kWh on arrival
    assert (second.stop, second.expected, second.found) == (2, pytest.approx(2.0), 1.0)
    diesel = replace(DIESEL, id="ev")
    r = charge_route()
    stops = tuple(replace(s, soc_arrival_kwh=None, soc_departure_kwh=None) for s in r.stops)
    d = check_solution(
        charge_problem(vehicle=diesel), RoutingSolution("charge", (replace(r, stops=stops),), (), STATS)
    )
    assert find(d, Constraint.CHARGING).message.startswith("diesel vehicle")


def test_full_recharge_convention_on_the_published_c208c5_optimum() -> None:
    """The 5-customer optimum needs two stations in a row; its distance is the published 158.48."""
    inst = read_evrptw(bench_dir() / "evrptw" / "5" / "c208C5.txt")
    best = ["C50", "C53", "C58", "C60", "S14", "S11", "C39"]
    check = check_evrptw_routes(inst, [best], reported_distance=158.48, reported_vehicles=1)
    assert check.feasible, check.summary()
    assert check.distance == pytest.approx(158.48, abs=0.005)
    # Without the second station the battery runs flat before it is back at the depot.
    flat = check_evrptw_routes(inst, [[c for c in best if c != "S11"]])
    v = next(v for v in flat.violations if v.constraint is Constraint.RESERVE_SOC)
    assert v.where == "D0" and v.found < 0
    # The same plan through the typed problem: the general checker agrees on feasibility.
    p = evrptw_to_problem(inst)
    assert check_solution(p, _route_from_ids(p, best)).feasible


def _route_from_ids(p: RoutingProblem, ids: list[str]) -> RoutingSolution:
    """Decisions only (order, departure, full recharge); figures taken from the checker's own recomputation."""
    stations = {s.id for s in p.stations}
    stops = tuple(
        Stop(StopKind.STATION if i in stations else StopKind.JOB, i, i, 0.0, 0.0, 0.0, 0.0) for i in ids
    )
    rough = Route("ev#1", "ev", "D0", "D0", 0.0, 0.0, stops, 0.0, 0.0)
    first = check_solution(p, RoutingSolution(p.name, (rough,), (), STATS))
    (recomputed,) = first.routes
    return RoutingSolution(p.name, (recomputed,), (), STATS)


TINY_SOLOMON = """TINY

VEHICLE
NUMBER     CAPACITY
  1         25

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME
    0      0         0          0          0        40          0
    1      3         4         10          0        10          5
    2      6         8         10         12        20          5
"""


def test_solomon_route_checker(tmp_path: Path) -> None:
    path = tmp_path / "TINY.txt"
    path.write_text(TINY_SOLOMON)
    inst = read_solomon(path)
    ok = check_solomon_routes(inst, [[1, 2]], reported_distance=20.0, reported_vehicles=1)
    assert ok.feasible, ok.summary()
    assert (ok.distance, ok.vehicles) == (20.0, 1)
    # 2 then 1: arrives at 1 at 10 + 5 + 5 = ... after its due date 10.
    late = check_solomon_routes(inst, [[2, 1]])
    assert {v.constraint for v in late.violations} == {Constraint.TIME_WINDOW}
    two = check_solomon_routes(inst, [[1], [2, 2]], reported_distance=1.0, reported_vehicles=3)
    kinds = {v.constraint for v in two.violations}
    assert kinds == {Constraint.VEHICLE, Constraint.DUPLICATE_JOB, Constraint.MISMATCH}
    heavy = check_solomon_routes(replace(inst, capacity=15.0), [[1, 2]])
    assert {v.constraint for v in heavy.violations} == {Constraint.PAYLOAD}
    missing = check_solomon_routes(inst, [[1, 7]])
    assert {v.constraint for v in missing.violations} == {Constraint.UNKNOWN_ID, Constraint.MISSING_JOB}
    closed = check_solomon_routes(
        replace(inst, nodes=(replace(inst.nodes[0], due=19.0),) + inst.nodes[1:]), [[1, 2]]
    )
    assert {v.constraint for v in closed.violations} == {Constraint.SHIFT_END}


def test_evrptw_route_checker_rejects_depot_and_unknown_ids() -> None:
    inst = read_evrptw(bench_dir() / "evrptw" / "5" / "c101C5.txt")
    singles = [[c.string_id] for c in inst.customers]
    assert check_evrptw_routes(inst, singles).feasible
    bad = check_evrptw_routes(inst, singles + [["D0"], ["X9"]])
    assert [v.where for v in bad.violations] == ["D0", "X9"]


def test_result_file_checker(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    write_results(
        out,
        [
            BenchResult("c208C5", [["C50", "C53", "C58", "C60", "S14", "S11", "C39"]], 158.48, 1, 1.0, True),
            BenchResult("c208C5", [["C50", "C53", "C58", "C60", "S14", "C39"]], 150.0, 1, 1.0, True),
        ],
    )
    (s1, first), (s2, second) = check_result_file(out, "evrptw", bench_dir())
    assert (s1, s2) == ("evfleet", "evfleet")
    assert first.feasible and not second.feasible


@pytest.mark.parametrize(
    ("reason", "job", "refuted"),
    [
        (UnservedReason.CAPACITY, Job("b", "B", 5000.0), False),
        (UnservedReason.CAPACITY, Job("b", "B", 500.0), True),
        (UnservedReason.TIME_WINDOW, Job("b", "B", 10.0, (TimeWindow(0, 9),)), False),  # B is 10 min away
        (UnservedReason.TIME_WINDOW, Job("b", "B", 10.0, (TimeWindow(0, 11),)), True),
        (UnservedReason.NO_VEHICLE_KIND, Job("b", "B", required_kind=VehicleKind.DIESEL), True),
        (UnservedReason.OUT_OF_RANGE, Job("b", "B", 10.0), True),
        (UnservedReason.DROPPED, Job("b", "B", 10.0), False),
    ],
)
def test_unserved_reasons_are_verified(reason: UnservedReason, job: Job, refuted: bool) -> None:
    p = problem(jobs=(Job("a", "A", 500.0, (TimeWindow(0, 100),), 10.0), job))
    only_a = replace(feasible_route(), stops=(feasible_route().stops[0],))
    report = check_solution(p, solution(only_a, unserved=(UnservedJob("b", reason),)))
    hits = [v for v in report.violations if v.constraint is Constraint.UNSERVED_REASON]
    assert bool(hits) is refuted, report.summary()
    if refuted:
        assert (hits[0].where, hits[0].found) == ("b", reason.value)


@settings(max_examples=60, deadline=None)
@given(
    order=st.permutations(["a", "s", "b"]),
    departure=st.floats(0.0, 50.0),
    charge=st.floats(0.0, 1.0),
    vehicle=st.sampled_from(["ev#1", "ev#2"]),
)
def test_recomputed_routes_are_self_consistent(
    order: list[str], departure: float, charge: float, vehicle: str
) -> None:
    """Feeding the checker's own recomputation back in never yields a MISMATCH, whatever the decisions."""
    p = problem(
        locations=(
            Location("D", x=0, y=0),
            Location("A", x=3, y=4),
            Location("B", x=6, y=8),
            Location("S", x=5, y=0),
        ),
        stations=(ChargingStation("s", "S", 50.0),),
    )
    stops = tuple(
        Stop(
            StopKind.STATION if i == "s" else StopKind.JOB,
            i,
            i.upper(),
            0.0,
            0.0,
            0.0,
            0.0,
            energy_charged_kwh=charge if i == "s" else 0.0,
        )
        for i in order
    )
    rough = Route(vehicle, "ev", "D", "D", departure, 0.0, stops, 0.0, 0.0)
    first = check_solution(p, solution(rough))
    (again,) = first.routes
    second = check_solution(p, solution(again))
    assert not [v for v in second.violations if v.constraint is Constraint.MISMATCH], second.summary()
    assert {v.constraint for v in second.violations} <= {v.constraint for v in first.violations}
    assert second.totals == first.totals


def test_every_violation_names_its_rule_for_words_in_another_language() -> None:
    """`Violation.rule` is one of `RULES`, each prefixed by its constraint; every rule the checker source can
    report is listed (a caller translating violations must know them all)."""
    import re

    from routing import check

    source = Path(check.__file__).read_text(encoding="utf-8")
    body = source.split('"""Every `Violation.rule`')[1]  # after the RULES tuple itself
    used = set(re.findall(r'"([a-z_]+\.[a-z_]+)"', body))
    assert used == set(check.RULES)
    constraints = {c.value for c in Constraint}
    assert all(r.split(".")[0] in constraints for r in check.RULES)
    late = replace(feasible_route(), departure=100.0)
    report = check_solution(problem(), solution(late))
    assert report.violations and all(v.rule in check.RULES for v in report.violations)
    window = next(v for v in report.violations if v.constraint is Constraint.TIME_WINDOW)
    assert window.rule == "time_window.late" and (window.expected, window.found) == (100, 105.0)
    assert "time_window.late" not in str(window)  # str() is as before: constraint, message, place, figures
