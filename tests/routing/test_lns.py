"""Ruin and recreate (routing.lns): same jobs, feasible routes, never longer, never a vehicle more."""

from __future__ import annotations

import time

import pytest

from routing.bench import problem_for, select_instances
from routing.construct import Builder, job_order
from routing.evaluate import Geometry, evaluate_route
from routing.lns import _State, improve
from routing.problem import ChargingStation, Job, Objective, RoutingProblem, VehicleKind, VehicleType
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


@pytest.mark.parametrize(("suite", "name"), [("solomon", "RC101"), ("evrptw", "rc102_21")])
def test_compiled_filter_gives_the_python_filters_candidates_and_search(suite: str, name: str) -> None:
    """routing.kernels is a faster path, not another search: the same candidates in the same order after every
    route change, so a fixed number of iterations from the same routes ends in the same plan."""
    from routing.kernels import CompiledFilter

    problem, geo, builder, vehicles = _setup(suite, name)
    start = builder.insert_all(vehicles, job_order(geo, list(problem.jobs)))
    assert CompiledFilter.usable(builder)
    fast = _State(builder, vehicles, start, CompiledFilter(builder, vehicles))
    slow = _State(builder, vehicles, start)
    jobs = [x for r in start for x in r if isinstance(x, Job)]
    for job in jobs[:40]:
        expected = sorted(
            (d, v, pos) for v, r in enumerate(slow.routes) if r for d, pos in slow.positions(v, job)
        )
        got = fast.compiled.candidates(fast, job)
        assert [(v, pos) for _, v, pos in got] == [(v, pos) for _, v, pos in expected]
        assert [d for d, _, _ in got] == pytest.approx([d for d, _, _ in expected])
    # After a route changes, its compiled row follows.
    v = next(k for k, r in enumerate(start) if len(r) > 2)
    shorter = builder.repaired(vehicles[v][1], start[v][1:]) or start[v]
    fast.set(v, shorter)
    slow.set(v, shorter)
    job = next(x for x in start[v] if isinstance(x, Job))
    got = [(v2, p) for _, v2, p in fast.compiled.candidates(fast, job)]
    expected = [
        (v2, p)
        for _, v2, p in sorted(
            (d, v2, p) for v2, r in enumerate(slow.routes) if r for d, p in slow.positions(v2, job)
        )
    ]
    assert got == expected and any(v2 == v for v2, _ in got)
    runs = [
        # The greedy station repair in both (the station DP reads the compiled tables: routing.station_dp).
        improve(
            builder,
            vehicles,
            start,
            time.monotonic() + 1e6,
            seed=3,
            compiled=c,
            max_iterations=60,
            stations=False,
        )
        for c in (True, False)
    ]
    assert runs[0][1].iterations == runs[1][1].iterations == 60
    assert runs[0][1].best_km == pytest.approx(runs[1][1].best_km)
    assert [[x.id for x in r] for r in runs[0][0]] == [[x.id for x in r] for r in runs[1][0]]


def test_several_windows_per_job_keep_the_python_filter() -> None:
    from routing.kernels import CompiledFilter
    from routing.problem import Location, TimeWindow

    problem = RoutingProblem(
        locations=(Location("D", x=0, y=0), Location("A", x=3, y=4)),
        jobs=(Job("a", "A", 1.0, (TimeWindow(0, 10), TimeWindow(20, 30))),),
        vehicle_types=(VehicleType("v", 1, 10.0, "D", kind=VehicleKind.DIESEL, diesel_l_per_100km=0.0),),
    )
    geo = Geometry.of(problem)
    assert not CompiledFilter.usable(Builder(geo, diagnose(geo).allowed_types))


def test_reduce_fleet_empties_routes_keeping_every_job_once_and_feasible() -> None:
    """From one customer per vehicle (C101 with an open fleet), the absent-customer ruin-and-recreate must
    empty routes and never lose or duplicate a customer."""
    from routing.io.detect import open_fleet
    from routing.lns import reduce_fleet

    (ref,) = select_instances(bench_dir(), "solomon", ["C101"])
    problem = open_fleet(problem_for(ref, "solomon", Objective.HIERARCHICAL)[0])
    geo = Geometry.of(problem)
    builder = Builder(geo, diagnose(geo).allowed_types)
    vehicles = problem.vehicle_ids()
    jobs = list(problem.jobs)[:40]
    start = [[j] for j in jobs] + [[] for _ in vehicles[len(jobs) :]]
    routes, log = reduce_fleet(builder, vehicles, start, time.monotonic() + 1.5, seed=0, floor=4)
    assert log.start_routes == 40 and log.routes == sum(1 for r in routes if r) < 40 - 5
    assert sorted(x.id for r in routes for x in r) == sorted(j.id for j in jobs)
    for (vid, vt), seq in zip(vehicles, routes):
        assert evaluate_route(geo, vid, vt, seq).feasible
    assert "40 ->" in log.note()
