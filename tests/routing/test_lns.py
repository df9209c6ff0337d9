"""Ruin and recreate (routing.lns): same jobs, feasible routes, never longer, never a vehicle more."""

from __future__ import annotations

import time

import pytest

from routing.bench import problem_for, select_instances
from routing.construct import Builder, job_order
from routing.evaluate import Geometry, evaluate_route
from routing.lns import improve
from routing.problem import ChargingStation, Job, Objective
from routing.solve import diagnose
from tests.routing.bench_data import bench_dir


@pytest.mark.parametrize(("suite", "name"), [("solomon", "RC101"), ("evrptw", "r102C15"), ("evrptw", "c204_21")])
def test_improve_shortens_routes_keeping_jobs_fleet_and_feasibility(suite: str, name: str) -> None:
    (ref,) = select_instances(bench_dir(), suite, [name])
    problem, _ = problem_for(ref, suite, Objective.HIERARCHICAL)
    geo = Geometry.of(problem)
    builder = Builder(geo, diagnose(geo).allowed_types)
    vehicles = problem.vehicle_ids()
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
    (ref,) = select_instances(bench_dir(), "evrptw", ["c101C5"])
    problem, _ = problem_for(ref, "evrptw", Objective.HIERARCHICAL)
    geo = Geometry.of(problem)
    builder = Builder(geo, diagnose(geo).allowed_types)
    vehicles = problem.vehicle_ids()
    job = problem.jobs[0]
    alone = [builder.repaired(vehicles[0][1], [job])] + [[] for _ in vehicles[1:]]
    routes, log = improve(builder, vehicles, alone, time.monotonic() + 0.5)
    assert routes == alone and log.iterations == 0
