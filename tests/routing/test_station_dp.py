"""Station placement by DP (routing.station_dp): least km against brute force over every placement, every
answer feasible for the float evaluator, and the compiled best insertion against trying every position."""

from __future__ import annotations

import itertools
import random
import time

import numpy as np
import pytest

from routing.construct import Builder, eliminate_routes, job_order
from routing.evaluate import Geometry, evaluate_route
from routing.kernels import CompiledFilter
from routing.lns import _jobs, _State
from routing.problem import (
    Battery,
    ChargingStation,
    Job,
    Location,
    Objective,
    RechargePolicy,
    RoutingProblem,
    TimeWindow,
    VehicleType,
)
from routing.solve import diagnose
from routing.station_dp import StationPlacer
from tests.routing.test_lns import _setup


def _random_problem(seed: int) -> RoutingProblem:
    """3-5 customers, 3-4 stations, a battery too small for most routes without a stop, windows of varied width
    (some tight enough that a long charge makes a customer late); 1 km = 1 min."""
    rng = random.Random(seed)
    n_jobs, n_st = rng.randint(3, 5), rng.randint(3, 4)
    locs = [Location("D", x=50.0, y=50.0)]
    jobs = []
    for k in range(n_jobs):
        locs.append(Location(f"c{k}", x=rng.uniform(0, 100), y=rng.uniform(0, 100)))
        start = rng.uniform(0, 300)
        width = rng.choice([40.0, 120.0, 1000.0])
        jobs.append(Job(f"c{k}", f"c{k}", 1.0, (TimeWindow(start, start + width),), rng.uniform(0, 20)))
    stations = []
    for k in range(n_st):
        locs.append(Location(f"s{k}", x=rng.uniform(0, 100), y=rng.uniform(0, 100)))
        stations.append(ChargingStation(f"s{k}", f"s{k}", power_kw=rng.choice([30.0, 60.0, 120.0])))
    vt = VehicleType(
        "ev",
        count=1,
        payload_kg=100.0,
        start_depot="D",
        battery=Battery(capacity_kwh=rng.uniform(60, 160), consumption_empty_kwh_per_km=1.0),
        shift_start=0.0,
        shift_end=rng.choice([900.0, 1500.0]),
    )
    return RoutingProblem(
        locations=tuple(locs),
        jobs=tuple(jobs),
        vehicle_types=(vt,),
        stations=tuple(stations),
        recharge_policy=RechargePolicy.FULL,
        objective=Objective.DISTANCE,
        name=f"dp{seed}",
    )


def _in_window_order(problem: RoutingProblem) -> list[Job]:
    return sorted(problem.jobs, key=lambda j: j.time_windows[0].start)


def _brute(geo: Geometry, vt: VehicleType, jobs: list[Job]) -> float | None:
    """Least km over every placement of at most one station per arc, each judged by ``evaluate_route``."""
    best = None
    options = [None, *geo.problem.stations]
    for pick in itertools.product(options, repeat=len(jobs) + 1):
        seq: list = []
        for k, j in enumerate(jobs):
            if pick[k] is not None:
                seq.append(pick[k])
            seq.append(j)
        if pick[-1] is not None:
            seq.append(pick[-1])
        ev = evaluate_route(geo, "v", vt, seq)
        if ev.feasible and (best is None or ev.route.distance_km < best - 1e-9):
            best = ev.route.distance_km
    return best


@pytest.mark.parametrize("seed", range(40))
def test_dp_finds_the_least_km_placement_of_brute_force(seed: int) -> None:
    problem = _random_problem(seed)
    geo = Geometry.of(problem)
    builder = Builder(geo, diagnose(geo).allowed_types)
    vehicles = problem.vehicle_ids()[:1]
    vt = vehicles[0][1]
    assert StationPlacer.usable(builder, vehicles)
    placer = StationPlacer(builder, vehicles)
    jobs = _in_window_order(problem)
    for n in range(1, len(jobs) + 1):
        expected = _brute(geo, vt, jobs[:n])
        got = placer.place(0, jobs[:n])
        if expected is None:
            assert got is None, (n, got)
            continue
        assert got is not None, (n, expected)
        seq, km = got
        assert km == pytest.approx(expected, abs=1e-7)
        assert [x for x in seq if isinstance(x, Job)] == jobs[:n]
        ev = evaluate_route(geo, "v", vt, seq)
        assert ev.feasible, ev.violations
        assert ev.route.distance_km == pytest.approx(km, abs=1e-7)


def test_brute_force_cases_need_stations_and_reject_some_orders() -> None:
    """The random cases above are not trivial: of their prefixes, some need a station and some have no
    feasible placement at all."""
    counts = {"infeasible": 0, "station": 0, "direct": 0}
    for seed in range(40):
        problem = _random_problem(seed)
        geo = Geometry.of(problem)
        builder = Builder(geo, diagnose(geo).allowed_types)
        placer = StationPlacer(builder, problem.vehicle_ids()[:1])
        jobs = _in_window_order(problem)
        for n in range(1, len(jobs) + 1):
            got = placer.place(0, jobs[:n])
            if got is None:
                counts["infeasible"] += 1
            elif any(isinstance(x, ChargingStation) for x in got[0]):
                counts["station"] += 1
            else:
                counts["direct"] += 1
    assert min(counts.values()) >= 15, counts


@pytest.mark.parametrize("name", ["rc102_21", "r201_21"])
def test_compiled_best_insertion_matches_every_position_tried(name: str) -> None:
    """For a few customers taken out of constructed routes: the kernel's growth equals the least over every
    route and position of (DP km with the customer there) - (route km now), when nothing blinks."""
    problem, geo, builder, vehicles = _setup("evrptw", name)
    start = builder.insert_all(vehicles, job_order(geo, list(problem.jobs)))
    start = eliminate_routes(builder, vehicles, start, time.monotonic() + 2.0)
    used = [v for v, r in enumerate(start) if r]
    fleet = [vehicles[v] for v in used]
    kern = CompiledFilter(builder, fleet)
    placer = StationPlacer(builder, fleet)
    st = _State(builder, fleet, [start[v] for v in used], kern, placer)
    rng = random.Random(3)
    tried = 0
    for v in rng.sample(range(len(fleet)), 4):
        jobs = _jobs(st.routes[v])
        job = jobs[len(jobs) // 2]
        trial = st.copy()
        rest = [x for x in jobs if x is not job]
        placed = placer.place(v, rest)
        assert placed is not None
        trial.set(v, placed[0], placed[1])
        trial.where.pop(job.id, None)
        det, route, pos = kern.candidate_arrays(trial, job)
        kms = np.array(trial.kms)
        lb = det - (kms - trial.plain)[route]
        order = np.argsort(lb, kind="stable")
        skip = np.zeros(det.size, dtype=bool)
        bi, delta, _ = placer.best_insertion(
            job, route[order], pos[order], lb[order], skip, trial.rows, trial.row_len, kms
        )
        best = None
        for r in range(len(fleet)):
            if not trial.routes[r]:
                continue
            base = _jobs(trial.routes[r])
            if sum(j.demand_kg for j in base) + job.demand_kg > fleet[r][1].payload_kg + 1e-6:
                continue  # the DP reads no load: the compiled filter checks the payload
            for p in range(len(base) + 1):
                got = placer.place(r, base[:p] + [job] + base[p:])
                if got is not None:
                    g = got[1] - trial.kms[r]
                    best = g if best is None else min(best, g)
        if best is None:
            assert bi < 0
            continue
        tried += 1
        assert bi >= 0
        assert delta == pytest.approx(best, abs=1e-7)
    assert tried >= 3


def test_compiled_ejection_with_stations_takes_the_first_feasible_move_in_order() -> None:
    """routing.eject's electric path: the move returned is feasible with its DP stations, and no move earlier in
    the order (least penalty, fewer ejected, least detour between customers) is feasible."""
    problem, geo, builder, vehicles = _setup("evrptw", "rc102_21")
    start = builder.insert_all(vehicles, job_order(geo, list(problem.jobs)))
    used = [v for v, r in enumerate(start) if r]
    placer = StationPlacer(builder, vehicles)
    rng = random.Random(5)
    checked = 0
    for closed in rng.sample(used, 3):
        job = _jobs(start[closed])[0]
        cand = [v for v in used if v != closed]
        pen = {j.id: rng.randint(0, 2) for r in start for j in _jobs(r)}
        got = placer.ejection(job, start, cand, pen, 2, 10**9)
        # Every move, in the kernel's order, judged by the DP from Python.
        moves = []
        for v in cand:
            cur = _jobs(start[v])
            n = len(cur)
            for pos in range(n + 1):
                a = builder.geo.loc(vehicles[v][1].start_depot) if pos == 0 else builder.loc[cur[pos - 1].id]
                b = builder.geo.loc(vehicles[v][1].end) if pos == n else builder.loc[cur[pos].id]
                jl = builder.loc[job.id]
                detour = builder.dist[a][jl] + builder.dist[jl][b] - builder.dist[a][b]
                for i1 in range(n):
                    for i2 in [None, *range(i1 + 1, n)]:
                        out = [i1] if i2 is None else [i1, i2]
                        p = sum(pen[cur[i].id] for i in out)
                        moves.append(((p, len(out), detour), v, pos, out))
        moves.sort(key=lambda m: m[0])
        first = None
        for key, v, pos, out in moves:
            cur = _jobs(start[v])
            kept = [x for i, x in enumerate(cur) if i not in out]
            kept.insert(pos - sum(1 for i in out if i < pos), job)
            if sum(j.demand_kg for j in kept) > vehicles[v][1].payload_kg + 1e-6:
                continue
            if placer.place(v, kept) is not None:
                first = (key, v)
                break
        if first is None:
            assert got is None
            continue
        checked += 1
        assert got is not None
        v, seq, ejected = got
        key = first[0]
        # Ties in the key may pick another move of the same key: compare keys, check the move itself.
        cur = _jobs(start[v])
        p_got = sum(pen[j.id] for j in ejected)
        assert (p_got, len(ejected)) == key[:2]
        assert all(j in cur for j in ejected) and job in seq
        assert sorted(x.id for x in _jobs(seq)) == sorted([job.id] + [x.id for x in cur if x not in ejected])
        ev = evaluate_route(geo, vehicles[v][0], vehicles[v][1], seq)
        assert ev.feasible, ev.violations
    assert checked >= 2


def test_solver_answers_with_dp_stations_pass_the_checker_on_random_problems() -> None:
    """Fuzz problems (``random_problem``: reserve, initial charge below full, charge limits, a diesel truck,
    planar or geographic) made DP-usable (constant consumption, full recharging, one window, no maximum
    duration): every answer passes ``routing.check``, and some of them stop at stations."""
    from dataclasses import replace

    from routing.check import check_solution
    from routing.scenarios import random_problem
    from routing.solve import solve

    with_stations = 0
    for seed in range(12):
        p = random_problem(seed)
        vts = tuple(
            replace(
                vt,
                max_duration_minutes=None,
                battery=replace(vt.battery, consumption_full_kwh_per_km=None),
            )
            if vt.battery
            else vt
            for vt in p.vehicle_types
        )
        jobs = tuple(replace(j, time_windows=j.time_windows[:1]) for j in p.jobs)
        p = replace(p, vehicle_types=vts, jobs=jobs, recharge_policy=RechargePolicy.FULL)
        geo = Geometry.of(p)
        assert StationPlacer.usable(Builder(geo, diagnose(geo).allowed_types), p.vehicle_ids())
        sol = solve(p, time_limit_s=0.5, seed=seed)
        report = check_solution(p, sol)
        assert not report.violations, (seed, report.violations[:3])
        assert not sol.extra.get("violations"), seed
        with_stations += any(s.kind.value == "station" for r in sol.routes for s in r.stops)
    assert with_stations >= 2, with_stations
