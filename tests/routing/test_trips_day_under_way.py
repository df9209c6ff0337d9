"""The OR-Tools model and the search on a route that continues a day (``routing.replan``'s remaining problems):
driving done before the start (``VehicleType.driving_at_start_minutes``) counts toward the 4 h limit, and a
truck away from its reload depot (``VehicleType.reload_depot``) may go back there first.

Planar km at 60 km/h: 1 km = 1 min.
"""

from __future__ import annotations

import pytest

from routing.check import check_solution
from routing.model import build_model, make_nodes
from routing.problem import (
    Battery,
    BreakRule,
    Job,
    Location,
    Objective,
    RoutingProblem,
    TimeWindow,
    VehicleKind,
    VehicleType,
)
from routing.solution import RoutingSolution, StopKind
from routing.solve import _Runner, solve
from routing.trips import reload_copies

DIESEL = {
    "kind": VehicleKind.DIESEL,
    "diesel_l_per_100km": 20.0,
    "cost_per_km": 1.0,
    "break_rule": BreakRule(),
}


def tired_problem(fresh: bool = True) -> RoutingProblem:
    """a (20 min out, window closing at 25) and b (20 min out). The tired driver has driven 230 of his 240 min:
    he must rest 20 min before any arc, so he reaches a at 40 at the earliest. The fresh truck costs 500 more
    to use, so a model that ignores the driving already done gives the tired driver both."""
    locs = (Location("D", x=0, y=0), Location("A", x=20, y=0), Location("B", x=0, y=20))
    types = [VehicleType("tired", 1, 1000.0, "D", driving_at_start_minutes=230.0, **DIESEL)]
    if fresh:
        types.append(VehicleType("fresh", 1, 1000.0, "D", fixed_cost=500.0, **DIESEL))
    jobs = (Job("a", "A", 10.0, (TimeWindow(0.0, 25.0),)), Job("b", "B", 10.0))
    return RoutingProblem(locs, jobs, tuple(types), objective=Objective.COST, name="tired")


def assert_checked(p: RoutingProblem, sol: RoutingSolution) -> None:
    report = check_solution(p, sol)
    assert report.feasible, report.summary()
    assert not sol.extra.get("violations"), sol.extra


@pytest.mark.parametrize("intervals", [False, True], ids=["reserved-times", "break-intervals"])
def test_the_model_counts_the_driving_before_the_start(intervals: bool) -> None:
    """Both models of the breaks (times that reserve the rests; OR-Tools break intervals), without the ruin-and-
    recreate behind them: before, each gave the tired driver a (arriving at 40 after his rest: refused)."""
    p = tired_problem()
    runner = _Runner(p, 0, 0, None, break_intervals=intervals)
    sol = runner.to_solution(runner._solve(2.0), 2.0, 0, 2.0, 1)
    assert_checked(p, sol)
    assert not sol.unserved
    by_vehicle = {r.vehicle_id: r.job_ids for r in sol.routes}
    assert "a" not in by_vehicle.get("tired#1", ())


def test_solve_gives_a_plan_the_checker_accepts() -> None:
    p = tired_problem()
    sol = solve(p, time_limit_s=2.0, seed=0)
    assert_checked(p, sol)
    assert not sol.unserved


@pytest.mark.parametrize("intervals", [False, True], ids=["reserved-times", "break-intervals"])
def test_a_tired_driver_alone_rests_before_his_first_arc(intervals: bool) -> None:
    """Only the tired truck, a's window open until 60: a rest at the depot first, a at 40."""
    p = tired_problem(fresh=False)
    p = RoutingProblem(
        p.locations,
        (Job("a", "A", 10.0, (TimeWindow(0.0, 60.0),)), p.jobs[1]),
        p.vehicle_types,
        objective=Objective.COST,
        name="tired-alone",
    )
    runner = _Runner(p, 0, 0, None, break_intervals=intervals)
    sol = runner.to_solution(runner._solve(2.0), 2.0, 0, 2.0, 1)
    assert_checked(p, sol)
    assert not sol.unserved
    (route,) = sol.routes
    assert route.stops[0].kind is StopKind.BREAK and route.stops[0].location == "D"


# ---- a reload first ---------------------------------------------------------------------------------------


def away_problem(jobs: tuple[Job, ...] | None = None) -> RoutingProblem:
    """A truck at A (10 km from its depot D) with 12 of 60 kWh: b and c (25-27 km north of D) are out of reach
    unless it goes back to D first and charges while it reloads (60 kW at the bays)."""
    locs = (
        Location("D", x=0, y=0),
        Location("A", x=10, y=0),
        Location("B", x=0, y=25),
        Location("C", x=3, y=27),
    )
    ev = VehicleType(
        "ev",
        1,
        1000.0,
        "A",
        end_depot="D",
        reload_depot="D",
        max_trips=2,
        reload_minutes=10.0,
        depot_charge_kw=60.0,
        battery=Battery(60.0, 1.0, 1.0, initial_soc=0.2),
    )
    jobs = jobs or (Job("b", "B", 100.0, service_minutes=5.0), Job("c", "C", 100.0, service_minutes=5.0))
    return RoutingProblem(locs, jobs, (ev,), objective=Objective.DISTANCE, name="away")


def test_the_model_reads_a_route_with_a_reload_first() -> None:
    p = away_problem()
    runner = _Runner(p, 0, 0, None)
    bm = build_model(runner.model_geo, runner.nodeset, p.vehicle_ids(), objective=p.objective)
    nodes = runner.nodeset.nodes
    reload = next(i for i, nd in enumerate(nodes) if nd.kind == "reload")
    seq = [reload, runner.nodeset.job_node["b"], runner.nodeset.job_node["c"]]
    bm.routing.CloseModel()
    assert bm.routing.ReadAssignmentFromRoutes([[bm.manager.NodeToIndex(i) for i in seq]], True) is not None


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_solve_sends_the_truck_back_to_charge_first(n_jobs: int) -> None:
    p = away_problem()
    if n_jobs == 1:
        p = away_problem(p.jobs[:1])
    # One reload copy even for one job: the reload comes before it.
    assert reload_copies(p, n_jobs) == {"ev#1": 1}
    sol = solve(p, time_limit_s=2.0, seed=0)
    assert_checked(p, sol)
    assert not sol.unserved, sol.unserved
    (route,) = sol.routes
    first = route.stops[0]
    assert first.kind is StopKind.RELOAD and first.id == "D" and first.energy_charged_kwh > 30.0


def test_a_multi_trip_route_may_end_elsewhere_than_it_starts() -> None:
    """Start A, end D, two trips, two jobs: building the model crashed the process (the load dimension's slack
    was set on ``NodeToIndex`` of the end-only depot, i.e. index -1)."""
    locs = (
        Location("D", x=0, y=0),
        Location("A", x=10, y=0),
        Location("B", x=0, y=25),
        Location("C", x=0, y=-25),
    )
    truck = VehicleType(
        "t",
        1,
        1000.0,
        "A",
        end_depot="D",
        max_trips=2,
        reload_minutes=10.0,
        kind=VehicleKind.DIESEL,
        diesel_l_per_100km=20.0,
    )
    p = RoutingProblem(
        locs,
        (Job("b", "B", 800.0), Job("c", "C", 800.0)),
        (truck,),
        objective=Objective.DISTANCE,
        name="ends",
    )
    nodes = make_nodes(_Runner(p, 0, 0, None).geo, list(p.jobs), {}, reload_copies(p, 2))
    assert sum(1 for nd in nodes.nodes if nd.kind == "reload") == 1
    sol = solve(p, time_limit_s=1.0, seed=0)
    assert_checked(p, sol)
    assert not sol.unserved
