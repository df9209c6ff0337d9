"""Ruin and recreate (routing.lns): same jobs, feasible routes, never longer, never a vehicle more."""

from __future__ import annotations

import time

import pytest

from routing.bench import problem_for, select_instances
from routing.construct import Builder, job_order
from routing.evaluate import Geometry, evaluate_route
from routing.lns import _State, improve
from routing.problem import ChargingStation, Job, Objective, RoutingProblem, VehicleType
from routing.solve import diagnose
from tests.routing.bench_data import bench_dir


def _setup(suite: str, name: str) -> tuple[RoutingProblem, Geometry, Builder, list[tuple[str, VehicleType]]]:
    """A bench instance as the solver sees it: problem, geometry, construction builder and vehicles."""
    (ref,) = select_instances(bench_dir(), suite, [name])
    problem, _ = problem_for(ref, suite, Objective.HIERARCHICAL)
    geo = Geometry.of(problem)
    return problem, geo, Builder(geo, diagnose(geo).allowed_types), problem.vehicle_ids()


@pytest.mark.parametrize(
    ("suite", "name"), [("solomon", "RC101"), ("evrptw", "r102C15"), ("evrptw", "c204_21")]
)
def test_improve_shortens_routes_keeping_jobs_fleet_and_feasibility(suite: str, name: str) -> None:
    problem, geo, builder, vehicles = _setup(suite, name)
    start = builder.insert_all(vehicles, job_order(geo, list(problem.jobs)))
    routes, log = improve(builder, vehicles, start, time.monotonic() + 2.0, seed=0)
    assert log.iterations > 0
    assert log.best_km < log.start_km  # cheapest insertion leaves plenty to gain in 2 s
    km = sum(builder.km(vt, r) for (_, vt), r in zip(vehicles, routes) if r)
    assert km == pytest.approx(log.best_km)
    served = sorted(x.id for r in routes for x in r if isinstance(x, Job))
    assert served == sorted(x.id for r in start for x in r if isinstance(x, Job))
    for v, ((vid, vt), seq) in enumerate(zip(vehicles, routes)):
        if not start[v]:
            assert not seq, f"{vid} had no route and was given one"
        ev = evaluate_route(geo, vid, vt, seq)
        assert ev.feasible, ev.violations
    if suite == "evrptw" and name.endswith("_21"):
        assert any(isinstance(x, ChargingStation) for r in routes for x in r)


def test_improve_with_one_job_returns_it_unchanged() -> None:
    problem, _, builder, vehicles = _setup("evrptw", "c101C5")
    job = problem.jobs[0]
    alone = [builder.repaired(vehicles[0][1], [job])] + [[] for _ in vehicles[1:]]
    routes, log = improve(builder, vehicles, alone, time.monotonic() + 0.5)
    assert routes == alone and log.iterations == 0


@pytest.mark.parametrize(("suite", "name"), [("solomon", "R101"), ("evrptw", "rc102_21")])
def test_positions_filter_never_rejects_a_feasible_insertion(suite: str, name: str) -> None:
    """The O(1) filter (single-window fast path included) may pass positions the repair then rejects, but
    every position where the repaired route is feasible must pass it."""
    problem, geo, builder, vehicles = _setup(suite, name)
    jobs = job_order(geo, list(problem.jobs))
    routes = builder.insert_all(vehicles, jobs[:60])
    checked = 0
    for job in jobs[60:]:
        for (_, vt), seq in zip(vehicles, routes):
            if not seq:
                continue
            passed = {pos for _, pos in builder.positions(vt, builder.slack_table(vt, seq), job)}
            for pos in range(len(seq) + 1):
                if builder.repaired(vt, seq[:pos] + [job] + seq[pos:]) is not None:
                    assert pos in passed, (job.id, pos)
                    checked += 1
    assert checked > 0


def test_cached_positions_follow_the_route_they_were_computed_for() -> None:
    problem, geo, builder, vehicles = _setup("evrptw", "c101_21")
    routes = builder.insert_all(vehicles, job_order(geo, list(problem.jobs)))
    st = _State(builder, vehicles, routes)
    v = next(i for i, r in enumerate(routes) if len(r) > 3)
    job = next(x for x in routes[v] if isinstance(x, Job))
    other = next(j for j in problem.jobs if all(j is not x for x in routes[v]))
    before = st.positions(v, other)
    trial = st.copy()
    shorter = [x for x in routes[v] if x is not job]
    trial.set(v, shorter)
    vt = vehicles[v][1]
    fresh = builder.positions(vt, builder.slack_table(vt, shorter), other)
    assert fresh != before  # a stale cache would be caught
    assert trial.positions(v, other) == fresh
    assert st.positions(v, other) == before
