"""Solver behaviour on tiny instances; every solution goes through the independent checker."""

from __future__ import annotations

import pytest

from routing.check import check_solution
from routing.problem import (
    Battery,
    ChargingStation,
    Job,
    Location,
    Objective,
    RechargePolicy,
    RoutingProblem,
    TimeWindow,
    VehicleKind,
    VehicleType,
)
from routing.solution import StopKind, UnservedReason
from routing.solve import solve


def _checked(problem: RoutingProblem, **kw):
    sol = solve(problem, **{"time_limit_s": 1.0, "seed": 0, **kw})
    report = check_solution(problem, sol)
    assert report.feasible, report.summary()
    assert not sol.extra.get("violations")
    return sol


def _ev(count=2, capacity=100.0, rate=1.0, payload=100.0, **kw) -> VehicleType:
    return VehicleType("ev", count, payload, "D", battery=Battery(capacity, rate), **kw)


def _diesel(count=1, payload=100.0, **kw) -> VehicleType:
    return VehicleType("diesel", count, payload, "D", kind=VehicleKind.DIESEL, diesel_l_per_100km=25.0, **kw)


def _grid_problem(**kw) -> RoutingProblem:
    locs = [Location("D", x=0, y=0)] + [
        Location(f"L{i}", x=(i % 3) * 10 - 10, y=(i // 3) * 10 - 5) for i in range(6)
    ]
    jobs = tuple(
        Job(f"J{i}", f"L{i}", demand_kg=20, time_windows=(TimeWindow(0, 200),), service_minutes=5)
        for i in range(6)
    )
    args = {"locations": tuple(locs), "jobs": jobs, "vehicle_types": (_ev(count=3),)}
    args.update(kw)
    return RoutingProblem(**args)


def test_small_vrptw_all_served_and_fleet_minimised():
    sol = _checked(_grid_problem())
    assert not sol.unserved
    assert sol.vehicles_used == 2  # 120 kg of demand, 100 kg payload
    assert sol.stats.status == "feasible"
    assert sorted(j for r in sol.routes for j in r.job_ids) == [f"J{i}" for i in range(6)]


def test_same_seed_gives_same_routes():
    p = _grid_problem(objective=Objective.DISTANCE)
    a = solve(p, time_limit_s=0.5, seed=3)
    b = solve(p, time_limit_s=0.5, seed=3)
    assert [r.stop_ids for r in a.routes] == [r.stop_ids for r in b.routes]
    assert a.total_distance_km == pytest.approx(b.total_distance_km)


def test_unserved_jobs_carry_their_reason():
    locs = (
        Location("D", x=0, y=0),
        Location("near", x=5, y=0),
        Location("far", x=80, y=0),
        Location("late", x=0, y=30),
    )
    jobs = (
        Job("ok", "near", demand_kg=10),
        Job("heavy", "near", demand_kg=500),
        Job("far", "far", demand_kg=10),  # 160 km round trip, 100 kWh at 1 kWh/km, no station
        Job("closed", "late", time_windows=(TimeWindow(0, 10),)),  # 30 min away at 60 km/h
        Job("diesel_only", "near", required_kind=VehicleKind.DIESEL),
    )
    p = RoutingProblem(locations=locs, jobs=jobs, vehicle_types=(_ev(),))
    sol = _checked(p)
    reasons = {u.job_id: u.reason for u in sol.unserved}
    assert reasons == {
        "heavy": UnservedReason.CAPACITY,
        "far": UnservedReason.OUT_OF_RANGE,
        "closed": UnservedReason.TIME_WINDOW,
        "diesel_only": UnservedReason.NO_VEHICLE_KIND,
    }
    assert [r.job_ids for r in sol.routes] == [("ok",)]
    assert sol.stats.status == "partial"


def test_mixed_fleet_diesel_takes_what_evs_cannot():
    locs = (Location("D", x=0, y=0), Location("near", x=5, y=0), Location("far", x=80, y=0))
    jobs = (
        Job("a", "near", demand_kg=10),
        Job("b", "far", demand_kg=10),
        Job("c", "near", demand_kg=10, required_kind=VehicleKind.ELECTRIC),
    )
    p = RoutingProblem(locations=locs, jobs=jobs, vehicle_types=(_ev(), _diesel()), objective=Objective.COST)
    sol = _checked(p)
    assert not sol.unserved
    by_type = {r.vehicle_type: set(r.job_ids) for r in sol.routes}
    assert "b" in by_type["diesel"]
    assert "c" in by_type["ev"]
    diesel = next(r for r in sol.routes if r.vehicle_type == "diesel")
    assert diesel.fuel_l == pytest.approx(diesel.distance_km * 0.25)
    assert diesel.soc_departure_kwh is None


def _line(stations: tuple[float, ...], job_x: float, policy=RechargePolicy.PARTIAL, reserve=0.0):
    locs = [Location("D", x=0, y=0), Location("J", x=job_x, y=0)]
    sts = []
    for k, x in enumerate(stations):
        locs.append(Location(f"S{k}", x=x, y=0))
        sts.append(ChargingStation(f"S{k}", f"S{k}", power_kw=60.0))
    ev = VehicleType("ev", 1, 100.0, "D", battery=Battery(50.0, 1.0, 1.2, reserve_soc=reserve))
    return RoutingProblem(
        locations=tuple(locs),
        jobs=(Job("job", "J", demand_kg=50.0),),
        vehicle_types=(ev,),
        stations=tuple(sts),
        recharge_policy=policy,
    )


def test_recharge_stop_when_the_trip_exceeds_the_battery():
    # 0 -> 40 km out (at 1.1 kWh/km with half load) and back empty: 44 + 40 = 84 kWh > 50 kWh.
    sol = _checked(_line((20.0,), 40.0))
    (route,) = sol.routes
    assert StopKind.STATION in {s.kind for s in route.stops}
    assert route.energy_charged_kwh > 0
    # Partial recharging takes only what the rest of the route needs: back at the reserve (0 here).
    assert route.soc_arrival_kwh == pytest.approx(0.0, abs=1e-6)
    station = next(s for s in route.stops if s.kind is StopKind.STATION)
    assert station.charging_minutes == pytest.approx(station.energy_charged_kwh)  # 60 kW: 1 min per kWh


def test_two_consecutive_stations_on_a_long_leg():
    # Stations every 40 km, a 45 kWh usable window (10 % reserve), 44 kWh per 40 km loaded: the job at 100 km
    # needs S0, S1 in a row on the way out (and S1, S0 on the way back).
    sol = _checked(_line((40.0, 80.0), 100.0, reserve=0.1), time_limit_s=2.0)
    (route,) = sol.routes
    ids = route.stop_ids
    k = ids.index("job")
    assert ids[:k] == ("S0", "S1")
    assert all(s.soc_arrival_kwh >= 5.0 - 1e-6 for s in route.stops)


def test_full_recharge_policy_charges_to_capacity():
    sol = _checked(_line((20.0,), 40.0, policy=RechargePolicy.FULL))
    station = next(s for r in sol.routes for s in r.stops if s.kind is StopKind.STATION)
    assert station.soc_departure_kwh == pytest.approx(50.0)


@pytest.mark.slow
def test_evrptw_c208c5_reaches_the_proven_optimum():
    from tests.routing.bench_data import bench_dir

    path = bench_dir() / "evrptw" / "5" / "c208C5.txt"
    from routing.io.evrptw import evrptw_to_problem, read_evrptw

    p = evrptw_to_problem(read_evrptw(path))
    sol = _checked(p, time_limit_s=3.0)
    assert sol.vehicles_used == 1
    assert sol.total_distance_km == pytest.approx(158.48, abs=0.01)  # BKS, needs two stations in a row


@pytest.mark.slow
def test_parallel_workers_keep_the_best():
    sol = _checked(_grid_problem(objective=Objective.DISTANCE), time_limit_s=3.0, workers=2)
    assert sol.stats.workers == 2
    assert not sol.unserved


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="time_limit_s"):
        solve(_grid_problem(), time_limit_s=0)
    with pytest.raises(ValueError, match="workers"):
        solve(_grid_problem(), time_limit_s=1, workers=0)


def test_second_time_window_and_cheap_optional_job():
    locs = (Location("D", x=0, y=0), Location("A", x=30, y=0), Location("B", x=0, y=-40))
    jobs = (
        # 30 min away: the first window has closed on arrival, the second one is used.
        Job("two_windows", "A", time_windows=(TimeWindow(0, 10), TimeWindow(100, 120))),
        # Optional and worth less than the 80 km detour it costs.
        Job("optional", "B", drop_penalty=1.0),
    )
    p = RoutingProblem(
        locations=locs, jobs=jobs, vehicle_types=(_diesel(count=2),), objective=Objective.DISTANCE
    )
    sol = _checked(p)
    (route,) = sol.routes
    assert route.stops[0].service_start == pytest.approx(100.0)
    assert [(u.job_id, u.reason) for u in sol.unserved] == [("optional", UnservedReason.DROPPED)]
    assert sol.stats.status == "feasible"


def test_max_duration_splits_routes():
    locs = (Location("D", x=0, y=0), Location("A", x=20, y=0), Location("B", x=-20, y=0))
    jobs = (Job("a", "A", service_minutes=30), Job("b", "B", service_minutes=30))
    # One route would take 2 x 40 min driving + 60 min service = 140 min > 100 min.
    p = RoutingProblem(
        locations=locs, jobs=jobs, vehicle_types=(_diesel(count=2, max_duration_minutes=100.0),)
    )
    sol = _checked(p)
    assert sol.vehicles_used == 2
    assert all(r.duration_minutes <= 100.0 + 1e-6 for r in sol.routes)


def test_a_route_or_tools_empties_after_the_ruin_recreate_gives_the_smaller_fleet_another_ruin_recreate(
    monkeypatch,
):
    """The pool and the ruin-and-recreate are made to leave three routes where two carry the 120 kg; OR-Tools
    (fleet cost on) empties one, stops there, and the loop runs the ruin-and-recreate on the two left."""
    import routing.solve as S
    from routing.eject import EliminationLog
    from routing.lns import FleetLog, LnsLog

    def spread(builder, vehicles, routes, deadline, seed=0):  # one route per vehicle: three where two do
        jobs = [x for r in routes for x in r if isinstance(x, Job)]
        out = [[] for _ in vehicles]
        for k, job in enumerate(jobs):
            out[k % 3].append(job)
        out = [builder.repaired(vt, r) if r else [] for (_, vt), r in zip(vehicles, out)]
        assert all(r is not None for r in out)
        log = EliminationLog()
        log.notes.append("test pool: three routes")
        return out, log

    fleets: list[int] = []

    def unchanged(builder, vehicles, routes, deadline, seed=0):
        fleets.append(sum(1 for r in routes if r))
        log = LnsLog(start_km=0.0, best_km=0.0)
        return [list(r) for r in routes], log

    monkeypatch.setattr(S, "eliminate_routes", lambda builder, vehicles, routes, deadline: routes)
    monkeypatch.setattr(S, "eliminate_with_pool", spread)
    # The absent-customer ruin-and-recreate would empty the third route first: left out, so that the route
    # left for OR-Tools to empty is there.
    monkeypatch.setattr(
        S, "reduce_fleet", lambda builder, vehicles, routes, deadline, **kw: (routes, FleetLog())
    )
    monkeypatch.setattr(S, "lns_improve", unchanged)
    sol = _checked(_grid_problem(), time_limit_s=2.0)
    assert sol.vehicles_used == 2
    assert fleets[:2] == [3, 2], sol.stats.phases
    assert any("or-tools emptied a route" in p for p in sol.stats.phases), sol.stats.phases


def test_the_absent_customer_ruin_recreate_takes_over_where_the_pool_stops(monkeypatch):
    """The pool is made to stop at three routes where two carry the 120 kg: ``reduce_fleet`` empties the third
    within the elimination's share, before the distance search (its note is in the phases)."""
    import routing.solve as S
    from routing.eject import EliminationLog

    def spread(builder, vehicles, routes, deadline, seed=0):
        jobs = [x for r in routes for x in r if isinstance(x, Job)]
        out = [[] for _ in vehicles]
        for k, job in enumerate(jobs):
            out[k % 3].append(job)
        return [builder.repaired(vt, r) if r else [] for (_, vt), r in zip(vehicles, out)], EliminationLog()

    monkeypatch.setattr(S, "eliminate_routes", lambda builder, vehicles, routes, deadline: routes)
    monkeypatch.setattr(S, "eliminate_with_pool", spread)
    sol = _checked(_grid_problem(), time_limit_s=2.0)
    assert sol.vehicles_used == 2
    assert any(p.startswith("ruin-recreate fleet: 3 -> 2 routes") for p in sol.stats.phases), sol.stats.phases
