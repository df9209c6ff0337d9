"""Minimal-change re-plan (``routing.replan``) of plans with RELOAD stops (multi-trip) and BREAK stops (drivers'
4 h / 20 min rule).

The re-planned rest of the day must pass the checker on its own (the remaining problem, as a stored draft is
re-checked) AND, stitched after the fixed stops, on the whole day's problem: a reload after the cut is still at
the depot (not where the truck stands when the day is cut), and the driving done before the cut counts toward
the next rest. Planar km at 60 km/h: 1 km = 1 min.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from routing import trips
from routing.check import Constraint, check_solution
from routing.evaluate import Geometry
from routing.io.json_io import problem_from_dict, problem_to_dict
from routing.problem import BreakRule, Job, Location, RoutingProblem, TimeWindow, VehicleKind, VehicleType
from routing.replan import replan
from routing.solution import Route, RoutingSolution, SolverStats, StopKind, UnservedJob, UnservedReason

STATS = SolverStats("feasible", 0.0, 0, 1.0)

TRUCK = VehicleType(
    "T",
    2,
    1000.0,
    "D",
    kind=VehicleKind.DIESEL,
    diesel_l_per_100km=20.0,
    cost_per_km=1.0,
    shift_end=600.0,
    max_trips=2,
    reload_minutes=15.0,
)


def plan(p: RoutingProblem, routes: dict[str, list]) -> RoutingSolution:
    geo = Geometry.of(p)
    vts = dict(p.vehicle_ids())
    out = []
    for vid, visits in routes.items():
        ev = trips.evaluate(geo, vid, vts[vid], visits, vts[vid].shift_start)
        assert ev.feasible, ev.violations
        out.append(ev.route)
    sol = RoutingSolution(p.name, tuple(out), (), STATS)
    assert check_solution(p, sol).feasible
    return sol


def whole_day(p: RoutingProblem, current: RoutingSolution, result) -> RoutingSolution:
    """The day as driven: each truck's fixed stops, then its re-planned rest, figures recomputed by the checker
    from those decisions (order, departure, charges, rests)."""
    rem = result.remainder
    cur = {r.vehicle_id: r for r in current.routes}
    new = {rem.orig_of[r.vehicle_id]: r for r in result.solution.routes}
    routes = []
    for vid, vt in p.vehicle_ids():
        fixed = rem.fixed.get(vid, ())
        rest = new.get(vid)
        if not fixed and rest is None:
            continue
        base = cur.get(vid) or rest
        stops = tuple(fixed) + (rest.stops if rest is not None else ())
        departure = cur[vid].departure if fixed else rest.departure  # type: ignore[union-attr]
        routes.append(Route(vid, vt.id, vt.start_depot, vt.end, departure, 0.0, stops, 0.0, 0.0))
        assert base is not None
    served = {s.id for r in routes for s in r.stops if s.kind is StopKind.JOB}
    unserved = tuple(UnservedJob(j.id, UnservedReason.DROPPED, "-") for j in p.jobs if j.id not in served)
    rough = RoutingSolution(p.name, tuple(routes), unserved, STATS)
    return RoutingSolution(p.name, check_solution(p, rough).routes, unserved, STATS)


def assert_day_feasible(p: RoutingProblem, current: RoutingSolution, result) -> None:
    assert result.ok, (result.check.summary(), result.locks.summary())
    report = check_solution(p, whole_day(p, current, result))
    assert report.feasible, report.summary()


# ---- reloads ------------------------------------------------------------------------------------------------


def reload_day(max_trips: int = 2) -> tuple[RoutingProblem, RoutingSolution]:
    """T#1 takes a (800 kg, east) then reloads for b (800 kg, north); T#2 takes c (300 kg, west)."""
    locs = (
        Location("D", x=0, y=0),
        Location("A", x=30, y=0),
        Location("B", x=0, y=30),
        Location("C", x=-30, y=0),
    )
    jobs = (Job("a", "A", 800.0, service_minutes=10.0), Job("b", "B", 800.0, service_minutes=10.0))
    jobs += (Job("c", "C", 300.0, service_minutes=10.0),)
    p = RoutingProblem(locs, jobs, (replace(TRUCK, max_trips=max_trips),), name="reload-day")
    a, b, c = p.jobs
    return p, plan(p, {"T#1": [a, trips.Reload("D"), b], "T#2": [c]})


def test_before_the_day_an_urgent_order_keeps_the_reload() -> None:
    p, cur = reload_day()
    urgent = Job("u", "U", 150.0, service_minutes=5.0)
    r = replan(
        p,
        cur,
        urgent=[urgent],
        urgent_locations=[Location("U", x=31, y=2)],
        time_limit_s=0.5,
        compare_free=False,
    )
    day = replace(p, locations=(*p.locations, Location("U", x=31, y=2)), jobs=(*p.jobs, urgent))
    assert_day_feasible(day, cur, r)
    seqs = r.day_sequences()
    assert set(seqs["T#1"][:2]) == {"a", "u"} and seqs["T#1"][2:] == ("D", "b") and seqs["T#2"] == ("c",)
    assert not r.moves.moved


def test_mid_trip_the_planned_reload_stays_at_the_depot() -> None:
    """Cut while T#1 drives to a: the rest of its day starts at A, but its reload is at D, not at A."""
    p, cur = reload_day()
    t1 = next(x for x in cur.routes if x.vehicle_id == "T#1")
    now = t1.departure + 5.0
    r = replan(p, cur, now=now, time_limit_s=0.5, compare_free=False)
    sub = r.remainder.problem.vehicle_type(r.remainder.sub_of["T#1"].rsplit("#", 1)[0])
    assert sub.start_depot == "A" and sub.reload_at == "D" and sub.max_trips == 2
    # A stored draft keeps the remaining problem as JSON (fleet.planning.replan.store_draft): the depot survives.
    back = problem_from_dict(problem_to_dict(r.remainder.problem))
    assert back == r.remainder.problem
    assert_day_feasible(p, cur, r)
    assert r.day_sequences()["T#1"] == ("a", "D", "b")


def test_after_the_reload_no_trip_is_left() -> None:
    """Cut while T#1 drives back to reload: that reload is its second trip, so the rest of its day may not add a
    third for an urgent 900 kg that b's trip cannot carry (T#2, home already, is out of service)."""
    p, cur = reload_day()
    t1 = next(x for x in cur.routes if x.vehicle_id == "T#1")
    now = t1.stops[0].departure + 5.0
    big = Job("u", "U", 900.0, service_minutes=5.0)
    r = replan(
        p,
        cur,
        now=now,
        unavailable=["T#2"],
        urgent=[big],
        urgent_locations=[Location("U", x=2, y=31)],
        time_limit_s=0.5,
        compare_free=False,
    )
    sub = r.remainder.problem.vehicle_type(r.remainder.sub_of["T#1"].rsplit("#", 1)[0])
    assert sub.start_depot == "D" and sub.max_trips == 1
    day = replace(p, locations=(*p.locations, Location("U", x=2, y=31)), jobs=(*p.jobs, big))
    assert_day_feasible(day, cur, r)
    assert r.day_sequences()["T#1"] == ("a", "D", "b") and "u" in {u.job_id for u in r.solution.unserved}


def test_breakdown_hands_the_jobs_over_with_their_reload() -> None:
    """T#1 breaks down before leaving: T#2 (three trips a day here) must take a and b, 1,600 kg, i.e. with a
    reload between them."""
    p, cur = reload_day(max_trips=3)
    r = replan(p, cur, unavailable=["T#1"], time_limit_s=0.5, compare_free=False)
    assert_day_feasible(p, cur, r)
    seq = r.day_sequences()["T#2"]
    assert {"a", "b", "c"} <= set(seq) and "D" in seq


# ---- breaks -------------------------------------------------------------------------------------------------

DRIVER = VehicleType(
    "K",
    1,
    1000.0,
    "D",
    kind=VehicleKind.DIESEL,
    diesel_l_per_100km=20.0,
    cost_per_km=1.0,
    break_rule=BreakRule(),
)


def breaks_day() -> tuple[RoutingProblem, RoutingSolution]:
    """D - A (125 min) - B (125 min) - D (177 min): a rest is needed before B and before home."""
    locs = (Location("D", x=0, y=0), Location("A", x=125, y=0), Location("B", x=125, y=125))
    jobs = (
        Job("a", "A", 100.0, service_minutes=10.0),
        Job("b", "B", 100.0, (TimeWindow(0.0, 600.0),), service_minutes=10.0),
    )
    p = RoutingProblem(locs, jobs, (DRIVER,), name="breaks-day")
    sol = plan(p, {"K#1": list(p.jobs)})
    assert [s.kind for s in sol.routes[0].stops].count(StopKind.BREAK) == 2
    return p, sol


def test_planned_breaks_are_recomputed_not_read_as_stations() -> None:
    p, cur = breaks_day()
    r = replan(p, cur, time_limit_s=0.5, compare_free=False)
    assert_day_feasible(p, cur, r)
    assert [s.kind for s in r.solution.routes[0].stops].count(StopKind.BREAK) == 2


@pytest.mark.parametrize("cut", ["driving to a", "serving a"])
def test_driving_before_the_cut_counts_toward_the_next_rest(cut: str) -> None:
    """Cut before the first rest: 125 min driven, B is 125 min away; the rest of the day must rest first."""
    p, cur = breaks_day()
    a = cur.routes[0].stops[0]
    now = a.arrival - 10.0 if cut == "driving to a" else a.service_start + 1.0
    r = replan(p, cur, now=now, time_limit_s=0.5, compare_free=False)
    sub = r.remainder.problem.vehicle_types[0]
    assert sub.driving_at_start_minutes == pytest.approx(125.0)
    assert problem_from_dict(problem_to_dict(r.remainder.problem)) == r.remainder.problem
    assert_day_feasible(p, cur, r)
    first = r.solution.routes[0].stops[0]
    assert first.kind is StopKind.BREAK and first.location == "A"
    # Without that rest the checker of the remaining problem sees the 250 min; a rested driver would not.
    route = r.solution.routes[0]
    stripped = replace(r.solution, routes=(replace(route, stops=route.stops[1:]),))
    sub_p = r.remainder.problem
    rested = replace(sub_p, vehicle_types=(replace(sub, driving_at_start_minutes=0.0),))
    assert Constraint.DRIVING_TIME in {v.constraint for v in check_solution(sub_p, stripped).violations}
    assert Constraint.DRIVING_TIME not in {v.constraint for v in check_solution(rested, stripped).violations}


# ---- the ejection pool ----------------------------------------------------------------------------------------


def packed_day() -> tuple[RoutingProblem, RoutingSolution]:
    """Three 1,000-kg trucks (the rest rule on) carry 900, 550 and 500 kg; an urgent 700 kg fits on none, and
    taking one order out of one truck and putting it on another does not make room either. Room exists after two
    moves: u on T#2 instead of j2 (550), j2 on T#1 instead of j1 and j3 (350 + 100), those to T#3 and T#2."""
    points = [(9, -7), (4, -5), (-10, -9), (-4, -3), (-9, 4)]
    demand = [450.0, 350.0, 550.0, 100.0, 500.0]
    locs = (Location("D", x=0, y=0), *(Location(f"L{i}", x=x, y=y) for i, (x, y) in enumerate(points)))
    jobs = tuple(Job(f"j{i}", f"L{i}", kg, service_minutes=5.0) for i, kg in enumerate(demand))
    truck = replace(TRUCK, count=3, max_trips=1, reload_minutes=0.0, break_rule=BreakRule())
    p = RoutingProblem(locs, jobs, (truck,), name="packed-day")
    j = p.jobs
    return p, plan(p, {"T#1": [j[0], j[1], j[3]], "T#2": [j[2]], "T#3": [j[4]]})


def test_an_urgent_order_placed_by_a_chain_of_ejections() -> None:
    """Reload/break problems skipped the solver's ejection pool (it builds single-trip routes without rests), so
    this order stayed unserved; the pool on the routes ``routing.trips`` judges places it."""
    p, cur = packed_day()
    urgent = Job("u", "U", 700.0, service_minutes=5.0)
    where = Location("U", x=6, y=0)
    r = replan(p, cur, urgent=[urgent], urgent_locations=[where], time_limit_s=1.0, compare_free=False)
    day = replace(p, locations=(*p.locations, where), jobs=(*p.jobs, urgent))
    assert_day_feasible(day, cur, r)
    assert not r.solution.unserved, r.solution.unserved
    loads = sorted(sum(day.job(s).demand_kg for s in seq) for seq in r.day_sequences().values())
    assert loads[-1] <= 1000.0 and sum(loads) == pytest.approx(2650.0)
