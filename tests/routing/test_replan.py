"""Minimal-change re-plan (routing.replan) and its lock checker (routing.locks) on a hand-made nine-job day.

Three clusters of three jobs (east, north, west of the depot, planar km, 60 km/h so 1 km = 1 min) and four
identical electric vans; the current plan gives each cluster to one van and leaves V#4 idle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from routing.evaluate import Geometry, evaluate_route
from routing.locks import Locks, VehicleState, check_locks, fixed_stop_count
from routing.problem import (
    Battery,
    Job,
    Location,
    Objective,
    RoutingProblem,
    TimeWindow,
    VehicleKind,
    VehicleType,
)
from routing.replan import ReplanError, remaining_problem, replan
from routing.solution import RoutingSolution, SolverStats

POINTS = {
    "e1": (10, 0),
    "e2": (12, 1),
    "e3": (11, -1),
    "n1": (0, 10),
    "n2": (1, 12),
    "n3": (-1, 11),
    "w1": (-10, 0),
    "w2": (-12, 1),
    "w3": (-11, -1),
}
PLAN = {"V#1": ["e1", "e2", "e3"], "V#2": ["n1", "n2", "n3"], "V#3": ["w1", "w2", "w3"]}


def make_problem() -> RoutingProblem:
    locs = (Location("D", x=0.0, y=0.0),) + tuple(
        Location(k, x=float(x), y=float(y)) for k, (x, y) in POINTS.items()
    )
    jobs = tuple(
        Job(k, k, demand_kg=100.0, time_windows=(TimeWindow(0.0, 400.0),), service_minutes=10.0)
        for k in POINTS
    )
    van = VehicleType(
        "V",
        count=4,
        payload_kg=1000.0,
        kind=VehicleKind.ELECTRIC,
        battery=Battery(100.0, 1.0, reserve_soc=0.1, initial_soc=0.9),
        start_depot="D",
        fixed_cost=100.0,
        cost_per_km=1.0,
        shift_start=0.0,
        shift_end=600.0,
        speed_kmh=60.0,
    )
    return RoutingProblem(locs, jobs, (van,), objective=Objective.COST, name="nine")


def make_plan(problem: RoutingProblem, plan: dict[str, list[str]]) -> RoutingSolution:
    geo = Geometry.of(problem)
    vt = problem.vehicle_types[0]
    routes = []
    for vid, ids in plan.items():
        ev = evaluate_route(geo, vid, vt, [problem.job(j) for j in ids])
        assert ev.feasible, ev.violations
        routes.append(ev.route)
    return RoutingSolution(problem.name, tuple(routes), (), SolverStats("feasible", 0.0, 0, 1.0))


@pytest.fixture(scope="module")
def day() -> tuple[RoutingProblem, RoutingSolution]:
    p = make_problem()
    return p, make_plan(p, PLAN)


def jobs_of(seqs: dict[str, tuple[str, ...]], vid: str) -> tuple[str, ...]:
    return tuple(s for s in seqs.get(vid, ()) if s in POINTS)


def test_locked_routes_are_unchanged_by_a_replan(day) -> None:
    p, cur = day
    locked = replan(
        p,
        cur,
        unavailable=["V#3"],
        locks=Locks(vehicles={"V#1"}, routes={"V#2"}),
        time_limit_s=0.4,
        compare_free=False,
    )
    seqs = locked.day_sequences()
    assert jobs_of(seqs, "V#1") == tuple(PLAN["V#1"]) and jobs_of(seqs, "V#2") == tuple(PLAN["V#2"])
    assert set(jobs_of(seqs, "V#4")) == set(PLAN["V#3"])  # the only unlocked van takes the broken one's jobs
    assert locked.ok, (locked.check.summary(), locked.locks.summary())
    # Without the locks the cheaper answer puts the west jobs on a van already out: the locks did the work.
    free = replan(p, cur, unavailable=["V#3"], time_limit_s=0.4, compare_free=False)
    seqs = free.day_sequences()
    assert jobs_of(seqs, "V#1") != tuple(PLAN["V#1"]) or jobs_of(seqs, "V#2") != tuple(PLAN["V#2"])


def test_a_locked_route_of_a_broken_truck_goes_whole_to_a_spare(day) -> None:
    p, cur = day
    r = replan(p, cur, unavailable=["V#3"], locks=Locks(routes={"V#3"}), time_limit_s=0.3, compare_free=False)
    assert r.ok, (r.check.summary(), r.locks.summary())
    seqs = r.day_sequences()
    assert jobs_of(seqs, "V#4") == tuple(PLAN["V#3"])  # same orders, same order, on the spare
    ids = {j.id for j in p.jobs}
    split = {**seqs, "V#4": ("w1", "w2"), "V#1": seqs["V#1"] + ("w3",)}
    report = check_locks(cur, split, Locks(routes={"V#3"}), job_ids=ids, unavailable=["V#3"])
    assert [v.lock for v in report.violations] == ["vehicle"]


def test_a_locked_stop_stays_on_its_truck_in_order(day) -> None:
    p, _ = day
    # A poor plan: V#1 drives east and also fetches w1 in the west, between e1 and e2.
    cur = make_plan(p, {"V#1": ["e1", "w1", "e2", "e3"], "V#2": ["n1", "n2", "n3"], "V#3": ["w2", "w3"]})
    unlocked = replan(
        p, cur, move_penalty=0.0, time_limit_s=2.0, compare_free=False, seed=1
    )  # stops when stuck
    assert "w1" in jobs_of(unlocked.day_sequences(), "V#3")  # the search does move it when allowed
    kept = replan(
        p,
        cur,
        move_penalty=0.0,
        locks=Locks(stops={"e1", "w1", "e3"}),
        time_limit_s=0.5,
        compare_free=False,
        seed=1,
    )
    v1 = jobs_of(kept.day_sequences(), "V#1")
    assert {"e1", "w1", "e3"} <= set(v1)
    assert [s for s in v1 if s in {"e1", "w1", "e3"}] == ["e1", "w1", "e3"]
    assert kept.ok, (kept.check.summary(), kept.locks.summary())


def test_breakdown_moves_at_most_its_stops_plus_a_bound(day) -> None:
    p, cur = day
    r = replan(p, cur, unavailable=["V#2"], time_limit_s=0.5, free_time_limit_s=1.0)
    assert r.ok and r.free_check is not None and r.free_check.feasible
    assert set(r.moves.moved_from_unavailable) == set(PLAN["V#2"])
    assert len(r.moves.moved) <= len(PLAN["V#2"]) + 1
    assert not r.moves.dropped
    assert r.free_moves is not None and r.free_moves_relabelled is not None
    assert len(r.free_moves_relabelled.moved) <= len(r.free_moves.moved)


def test_midday_fixes_served_stops_and_starts_trucks_where_they_are(day) -> None:
    p, cur = day
    v1 = next(r for r in cur.routes if r.vehicle_id == "V#1")
    now = v1.stops[0].departure + 0.5  # V#1 has served e1 and is driving to e2
    assert fixed_stop_count(v1, now) == 2
    rem = remaining_problem(p, cur, now=now, unavailable=["V#3"])
    vt1 = rem.problem.vehicle_types[[vid for vid, _ in rem.problem.vehicle_ids()].index(rem.sub_of["V#1"])]
    assert vt1.start_depot == "e2" and vt1.shift_start == pytest.approx(v1.stops[1].departure)
    assert vt1.battery.initial_kwh == pytest.approx(v1.stops[1].soc_departure_kwh)
    assert vt1.fixed_cost == 0.0  # the driver-day is already spent
    assert {"e1", "e2"}.isdisjoint(j.id for j in rem.problem.jobs)
    w = next(r for r in cur.routes if r.vehicle_id == "V#3")
    assert rem.fixed["V#3"] == tuple(s for s in w.stops if s.service_start <= now)
    # A telematics state overrides the plan: position and charge.
    state = VehicleState("V#1", location=Location("gps", x=11.0, y=0.5), soc_kwh=50.0)
    r = replan(p, cur, now=now, unavailable=["V#3"], states=[state], time_limit_s=0.4, compare_free=False)
    assert r.ok, (r.check.summary(), r.locks.summary())
    seqs = r.day_sequences()
    assert seqs["V#1"][:2] == ("e1", "e2")
    route = next(x for x in r.solution.routes if x.vehicle_id == r.remainder.sub_of["V#1"])
    assert route.start_depot == "gps" and route.soc_departure_kwh == pytest.approx(50.0)
    assert route.departure >= now


def test_lock_checker_catches_violations(day) -> None:
    p, cur = day
    ids = {j.id for j in p.jobs}
    locks = Locks(vehicles={"V#1"}, stops={"n1", "n3"})
    good = {"V#1": ("e1", "e2", "e3"), "V#2": ("n1", "n2", "n3"), "V#4": ("w1", "w2", "w3")}
    assert check_locks(cur, good, locks, job_ids=ids).ok
    cases = {
        "vehicle": {**good, "V#1": ("e1", "e3", "e2")},  # locked route re-ordered
        "stop": {**good, "V#2": ("n2", "n3"), "V#4": ("n1", "w1", "w2", "w3")},  # locked stop left its truck
    }
    for lock, new in cases.items():
        report = check_locks(cur, new, locks, job_ids=ids)
        assert not report.ok and {v.lock for v in report.violations} == {lock}, report.summary()
    reordered = check_locks(cur, {**good, "V#2": ("n3", "n2", "n1")}, locks, job_ids=ids)
    assert [v.lock for v in reordered.violations] == ["stop"]
    v1 = next(r for r in cur.routes if r.vehicle_id == "V#1")
    now = v1.stops[1].service_start
    rewritten = {**good, "V#1": ("e2", "e1", "e3")}
    assert "fixed" in {v.lock for v in check_locks(cur, rewritten, Locks(), job_ids=ids, now=now).violations}
    # A real re-plan whose output is then tampered with: a locked job moved by hand.
    r = replan(p, cur, unavailable=["V#3"], locks=locks, time_limit_s=0.3, compare_free=False)
    seqs = r.day_sequences()
    tampered = {k: tuple(s for s in v if s != "n1") for k, v in seqs.items()}
    tampered["V#3"] = ("n1",)
    assert not check_locks(cur, tampered, locks, job_ids=ids, unavailable=["V#3"]).ok
    assert check_locks(cur, seqs, locks, job_ids=ids, unavailable=["V#3"]).ok


def test_bad_requests_are_refused_with_the_reason(day) -> None:
    p, cur = day
    with pytest.raises(ReplanError, match="both locked and unavailable"):
        replan(p, cur, unavailable=["V#1"], locks=Locks(vehicles={"V#1"}), compare_free=False)
    with pytest.raises(ReplanError, match="unavailable: unlock it"):
        replan(p, cur, unavailable=["V#1"], locks=Locks(stops={"e1"}), compare_free=False)
    with pytest.raises(ReplanError, match="not a vehicle"):
        replan(p, cur, unavailable=["X#9"], compare_free=False)


def test_urgent_job_is_placed_without_moving_others(day) -> None:
    p, cur = day
    urgent = Job("u1", "u1", demand_kg=50.0, time_windows=(TimeWindow(0.0, 400.0),), priority=2)
    r = replan(
        p,
        cur,
        urgent=[urgent],
        urgent_locations=[Location("u1", x=11.0, y=2.0)],
        time_limit_s=0.3,
        compare_free=False,
    )
    assert r.ok and r.moves.added == ("u1",) and not r.moves.moved
    assert "u1" in r.day_sequences()["V#1"]


def test_lock_checker_is_independent_of_the_solver() -> None:
    tree = ast.parse((Path(__file__).resolve().parents[2] / "routing" / "locks.py").read_text())
    names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert names <= {"__future__", "collections.abc", "dataclasses", "routing.problem", "routing.solution"}, (
        names
    )
