"""The ruin-and-recreate on reload/break problems (``routing.lns_trips``): from the construction's routes, with a
fixed seed and iteration count, its result passes the checker and is never worse than the construction; on a
reload problem it serves what one trip could not carry, on a break problem it uses the room the break reserve of
the construction's travel times left. Under a second each."""

from __future__ import annotations

import time

import pytest

from routing import lns_trips, trips
from routing.check import check_solution
from routing.construct import Builder, job_order
from routing.evaluate import Geometry
from routing.problem import Job, Objective, RoutingProblem
from routing.scenarios import random_problem
from routing.solution import RoutingSolution, SolverStats, StopKind, UnservedJob, UnservedReason
from routing.solve import diagnose
from tests.routing.test_trips_breaks_random import with_rules
from tests.routing.test_trips_breaks_solve import DIESEL, EV, breaks_problem, reload_problem

STATS = SolverStats("feasible", 0.0, 0, 1.0)


def constructed(p: RoutingProblem):
    """The solver's construction (``routing.solve._Runner``: cheapest insertion with stations, on the
    break-reserving travel times for break problems), without its deadline-bound route elimination."""
    geo = Geometry.of(p)
    diag = diagnose(geo)
    b = Builder(trips.construction_geometry(geo) if trips.uses_breaks(p) else geo, diag.allowed_types)
    jobs = [j for j in p.jobs if j.id in diag.allowed_types]
    return geo, diag, jobs, b.insert_all(p.vehicle_ids(), job_order(geo, jobs))


def solution(p: RoutingProblem, geo: Geometry, routes, starts=None) -> RoutingSolution:
    out = []
    for v, ((vid, vt), seq) in enumerate(zip(p.vehicle_ids(), routes)):
        if any(isinstance(x, Job) for x in seq):
            ev = trips.evaluate(geo, vid, vt, list(seq), vt.shift_start if starts is None else starts[v])
            assert ev.feasible, ev.violations
            out.append(ev.route)
    served = {j for r in out for j in r.job_ids}
    unserved = tuple(
        UnservedJob(j.id, UnservedReason.DROPPED, "left out") for j in p.jobs if j.id not in served
    )
    return RoutingSolution(p.name, tuple(out), unserved, STATS)


def key(p: RoutingProblem, sol: RoutingSolution, jobs: list[Job]) -> tuple[int, float]:
    """(mandatory jobs left out, objective with the optional jobs' penalties), as ``routing.solve._rank``."""
    served = {j for r in sol.routes for j in r.job_ids}
    out = [j for j in jobs if j.id not in served]
    value = sol.total_cost if p.objective is Objective.COST else sol.total_distance_km
    return sum(1 for j in out if j.drop_penalty is None), value + sum(j.drop_penalty or 0.0 for j in out)


def improved(p: RoutingProblem, iterations: int = 150):
    geo, diag, jobs, routes = constructed(p)
    served = {x.id for r in routes for x in r if isinstance(x, Job)}
    best, log = lns_trips.improve(
        geo,
        diag.allowed_types,
        p.vehicle_ids(),
        routes,
        time.monotonic() + 30.0,
        seed=0,
        absent=[j for j in jobs if j.id not in served],
        max_iterations=iterations,
    )
    before, after = solution(p, geo, routes), solution(p, geo, best.routes, best.starts)
    for sol in (before, after):
        report = check_solution(p, sol)
        assert report.feasible, report.summary()
    assert key(p, after, jobs) <= key(p, before, jobs)
    return before, after, jobs, log


@pytest.mark.parametrize("vt", [DIESEL, EV], ids=["diesel", "electric"])
def test_reloads_serve_what_one_trip_could_not(vt) -> None:
    p = reload_problem(vt)
    before, after, _jobs, log = improved(p)
    assert sum(len(r.job_ids) for r in before.routes) == 2  # 1,000 kg of 2,400: one trip
    (route,) = after.routes
    assert len(route.job_ids) == 6 and [s.kind for s in route.stops].count(StopKind.RELOAD) == 2
    assert log.start_absent == 4 and log.absent == 0


def test_breaks_the_exact_evaluation_shortens_the_constructed_routes() -> None:
    """random_problem seed 1 with the 4 h / 20 min rule: the construction, on travel times that reserve the
    rests, drove 100.5 km; with the breaks placed exactly the same jobs take 86.2 km."""
    p = with_rules(random_problem(1), breaks=True)
    before, after, jobs, _ = improved(p)
    assert key(p, after, jobs)[0] == key(p, before, jobs)[0]
    assert after.total_distance_km < before.total_distance_km - 10.0


def test_a_long_route_keeps_its_breaks() -> None:
    p = breaks_problem()
    _before, after, _, _ = improved(p, iterations=50)
    assert any(s.kind is StopKind.BREAK for r in after.routes for s in r.stops)


def test_reloads_empty_a_route() -> None:
    """random_problem seed 4 (cost objective) with two trips per vehicle: one truck does both routes' work."""
    p = with_rules(random_problem(4), trips=2)
    before, after, _jobs, _ = improved(p)
    assert len(after.routes) < len(before.routes)
    assert after.total_cost < before.total_cost


def test_normalized_drops_empty_trips() -> None:
    a, b = Job("a", "A"), Job("b", "B")
    r = trips.Reload("D")
    assert lns_trips.normalized([r, a, r, r, b, r]) == [a, r, b]
    assert lns_trips.normalized([a, r]) == [a]
