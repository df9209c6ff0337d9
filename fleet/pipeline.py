"""One depot-day end to end: read inputs, route, derive charging needs, schedule, check, persist atomically.

Both plans are written as a new version for (depot, service date) in ONE transaction. Whether that version is
published (`RunOptions.publish`, docs/plan-versions.md): by default only when the depot-day has no published
plan yet; otherwise it is stored as a draft and the published plan stays until a planner publishes another
version (`fleet.planning.publish`). Readers (`current_route_plan`, `current_charging_plan`) read the published
version and see the old plans or the new ones, never a mix; a process killed mid-way leaves the previous version
untouched. A plan that fails its independent checker is never stored.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from charging.baselines import observed as observed_baseline
from charging.baselines import summarize
from charging.check import check as check_schedule
from charging.optimize import schedule as schedule_charging
from charging.problem import ChargingProblem, problem_to_json
from charging.result import ChargingSchedule
from fleet.audit import record_event
from fleet.db import session_scope
from fleet.models import (
    ChargingPlan,
    ChargingSlot,
    PlanStatus,
    RoutePlan,
    RouteStop,
)
from fleet.planning.build import (
    DEPOT_LOCATION,
    PlanningPolicy,
    charging_needs,
    charging_problem,
    routing_problem,
)
from fleet.planning.inputs import DepotDayInputs, load_depot_day, local_midnight
from fleet.planning.publish import lock_depot, publish_version, published_version
from fleet.planning.realism import settings_record
from fleet.scope import Scope, add_rows, select_rows
from routing.check import check_solution
from routing.io.json_io import problem_to_dict
from routing.matrix import RoadNetworkSpec, haversine_pairs_km
from routing.problem import RoutingProblem
from routing.solution import RoutingSolution, StopKind
from routing.solve import solve as solve_routes


class PlanCheckFailed(RuntimeError):
    """A solver returned a plan its independent checker rejects; it is not stored."""


@dataclass(frozen=True)
class RunOptions:
    time_limit_s: float = 30.0  # routing budget per depot [s]; charging gets `charging_time_limit_s`
    charging_time_limit_s: float = 20.0
    seed: int = 0
    routing_workers: int = 1
    charging_workers: int = 1  # CP-SAT threads: keep 1 inside a worker pool
    policy: PlanningPolicy = field(default_factory=PlanningPolicy)
    # Test-only fault injection: "raise" or "exit" (kills the worker process) before solving.
    fault: str | None = None
    # When the new version is published: "if_none" (only when the depot-day has no published plan: a re-solve
    # never replaces the published plan by itself), "always", or "never" (always a draft).
    publish: str = "if_none"
    author: str = "nightly"
    reason: str = ""
    origin: str = "nightly"  # nightly | solve | edit | restore | replan
    # Where the travel matrices come from (routing.matrix.RoadNetworkSpec, docs/road-networks.md): "haversine"
    # (the default: great circle x the policy's detour factor at its speed), "osm:PATH", "osrm:URL",
    # "valhalla:URL". Recorded in the stored plan (RoutePlan.road_network).
    road_network: str = "haversine"


PUBLISH_POLICIES = ("if_none", "always", "never")


@dataclass(frozen=True)
class DepotDayResult:
    depot_code: str
    service_date: str
    route_plan_id: int
    charging_plan_id: int | None
    version: int
    published: bool  # False: stored as a draft beside the published version (docs/plan-versions.md)
    orders: int
    vehicles_available: int
    vehicles_used: int
    electric_used: int
    unserved: int
    km: float
    route_kwh: float
    litres: float
    charging_kwh: float
    # The optimiser's objective [CNY]: energy + the demand charge on the month's peak increase. Never a headline.
    charging_cost_cny: float
    edf_cost_cny: float | None
    # The night's bill [CNY] as a bill would show it: energy, and the demand charge pro-rated (monthly charge on
    # the night's site peak ÷ days in the month), for the plan and per baseline {name: {energy_cny, ...}}.
    energy_cny: float
    demand_night_cny: float
    short_kwh: float  # energy the plan could not deliver by departure, over all trucks
    trucks_overnight: int  # electric trucks charging tonight
    trucks_ready: int  # of them, those that leave with the energy for their next route
    baseline_bills: dict[str, dict[str, float | None]]
    peak_kw: float
    routing_seconds: float
    charging_seconds: float
    routing_status: str
    charging_status: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SolvedDepotDay:
    inputs: DepotDayInputs
    routing_problem: RoutingProblem
    routes: RoutingSolution
    charging_problem: ChargingProblem | None
    charging: ChargingSchedule | None
    routing_seconds: float
    charging_seconds: float
    # Provenance of the travel matrices (a provider's describe()); None when not known (an edit of an old plan).
    road_network: dict[str, Any] | None = None


def road_network_matrices(
    problem: RoutingProblem, spec: str, policy: PlanningPolicy
) -> tuple[RoutingProblem, dict[str, Any]]:
    """The routing problem with the travel matrices of the road network `spec`, and their provenance.

    Haversine (the default) leaves the problem exactly as built (no matrices: the solver and the checker apply
    the great circle x detour factor at the vehicles' speed themselves), so default plans are unchanged. Any
    other source fills `distance_km` [km] and `travel_minutes` [min] for every location, depot first; a pair
    the network cannot route fails the depot with the points named (routing.matrix.UnreachablePairsError)."""
    road = RoadNetworkSpec.parse(spec)
    provider = road.provider(policy.road_detour_factor, policy.speed_kmh)
    if road.kind == "haversine":
        return problem, provider.describe()
    points = [(float(loc.lat), float(loc.lon)) for loc in problem.locations]  # type: ignore[arg-type]
    t0 = time.perf_counter()
    m = provider.table(points)
    info = {**provider.describe(), "points": len(points), "seconds": round(time.perf_counter() - t0, 3)}
    return replace(problem, distance_km=m.distance_km.tolist(), travel_minutes=m.duration_min.tolist()), info


def solve_depot_day(inputs: DepotDayInputs, options: RunOptions) -> SolvedDepotDay:
    """Pure optimisation of one depot-day (no database): routes, then the night's charging; both checked."""
    if options.fault == "raise":
        raise RuntimeError(f"injected fault for depot {inputs.depot_code}")
    if options.fault == "exit":
        os._exit(13)  # simulate a crashing solver process (OR-Tools segfault)
    rp, network = road_network_matrices(
        routing_problem(inputs, options.policy), options.road_network, options.policy
    )
    t0 = time.perf_counter()
    routes = solve_routes(
        rp, time_limit_s=options.time_limit_s, seed=options.seed, workers=options.routing_workers
    )
    t_route = time.perf_counter() - t0
    report = check_solution(rp, routes)
    if not report.feasible:
        raise PlanCheckFailed(f"routes of {inputs.depot_code} fail the checker: {report.summary()}")
    cp, sched, t_charge = plan_charging(inputs, rp, routes, options)
    return SolvedDepotDay(inputs, rp, routes, cp, sched, t_route, t_charge, network)


def plan_charging(
    inputs: DepotDayInputs, rp: RoutingProblem, routes: RoutingSolution, options: RunOptions
) -> tuple[ChargingProblem | None, ChargingSchedule | None, float]:
    """The night's charging for checked routes: needs, problem, schedule (checked), and its seconds [s]. Used by
    the solve above and by a planner's edited or re-planned routes (`fleet.planning.drafts.save_draft`)."""
    needs = charging_needs(inputs, rp, routes, options.policy)
    cp = charging_problem(inputs, needs, options.policy)
    sched = None
    t1 = time.perf_counter()
    if cp is not None:
        sched = schedule_charging(
            cp,
            time_limit_s=options.charging_time_limit_s,
            seed=options.seed,
            num_workers=options.charging_workers,
        )
        if inputs.observed_sessions:
            # What the depot really did that night, when its charging sessions have been imported.
            seen = observed_baseline(cp, inputs.observed_sessions)
            sched = replace(
                sched, baselines={**sched.baselines, "observed": summarize("observed", seen, sched.cost)}
            )
        if sched.status == "infeasible":
            # The site's base load alone breaks its grid limit or a demand-response cap: no schedule can hold it.
            raise PlanCheckFailed(
                f"charging of {inputs.depot_code} is infeasible: "
                + ("; ".join(sched.warnings) or "the site cannot stay within its limits")
            )
        verdict = check_schedule(cp, sched)
        if verdict.violations:
            raise PlanCheckFailed(
                f"charging of {inputs.depot_code} fails the checker: {verdict.violations[:5]}"
            )
    return cp, sched, time.perf_counter() - t1


def _leg_km(points: list[tuple[float, float]], detour: float) -> list[float]:
    """Road km of each leg between consecutive points (the routing problem's own distance rule, haversine)."""
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    return [float(x) for x in haversine_pairs_km(lat[:-1], lon[:-1], lat[1:], lon[1:]) * detour]


def matrix_legs(problem: RoutingProblem, path: list[str]) -> list[float]:
    """Road km of each leg of `path` (location ids) from the problem's distance matrix."""
    dist = problem.distance_km
    assert dist is not None
    idx = [problem.index_of(x) for x in path]
    return [float(dist[a][b]) for a, b in itertools.pairwise(idx)]


def _fen(cny: float) -> int:
    return int(round(cny * 100))


def _require_known(
    inp: DepotDayInputs, routes: RoutingSolution, vehicles: dict[str, Any], orders: dict[str, Any]
) -> None:
    """Every routed truck must still be available at the depot and every job still an order of the day (an
    edited or re-planned route can name a truck set to maintenance since): say which, instead of a KeyError."""
    gone = sorted({r.vehicle_type for r in routes.routes if r.stops and r.vehicle_type not in vehicles})
    if gone:
        raise PlanCheckFailed(
            f"{inp.depot_code} {inp.service_date}: truck(s) {', '.join(gone)} are routed but no longer available "
            "at the depot (maintenance, retired or moved): move their jobs to other trucks first"
        )
    missing = sorted(
        {s.id for r in routes.routes for s in r.stops if s.kind is StopKind.JOB and s.id not in orders}
    )
    if missing:
        raise PlanCheckFailed(
            f"{inp.depot_code} {inp.service_date}: job(s) {', '.join(missing)} are routed but no longer orders "
            "of the day"
        )


def next_version(session: Session, model: type, depot_id: int, service_date: dt.date) -> int:
    current = session.exec(
        select(func.max(model.version)).where(model.depot_id == depot_id, model.service_date == service_date)
    ).first()
    return int(current or 0) + 1


def persist(
    session: Session,
    scope: Scope,
    solved: SolvedDepotDay,
    job_run_id: int | None = None,
    after_write_hook: Any = None,
    *,
    publish: str = "if_none",
    author: str = "nightly",
    reason: str = "",
    origin: str = "nightly",
    based_on_version: int | None = None,
) -> DepotDayResult:
    """Write both plans as a new version in the caller's transaction (all or nothing), published or a draft by
    the `publish` policy ("if_none", "always", "never"; see RunOptions)."""
    if publish not in PUBLISH_POLICIES:
        raise ValueError(f"publish={publish!r}: expected one of {', '.join(PUBLISH_POLICIES)}")
    inp, routes, sched = solved.inputs, solved.routes, solved.charging
    own = {"lessor_id": inp.lessor_id, "lessee_id": inp.lessee_id}
    # Serialise writers of this depot's plans (PostgreSQL row lock; SQLite has one writer anyway): two nightly
    # runs for the same date then take versions one after the other, and the partial unique index
    # uq_*_one_current guarantees that at most one version is published whatever happens.
    lock_depot(session, inp.depot_id)
    version = max(
        next_version(session, RoutePlan, inp.depot_id, inp.service_date),
        next_version(session, ChargingPlan, inp.depot_id, inp.service_date),
    )
    clock0 = local_midnight(inp.service_date)
    vehicles = {v.plate: v for v in inp.vehicles}
    orders = {o.ref: o for o in inp.orders}
    _require_known(inp, routes, vehicles, orders)
    electric_used = sum(1 for r in routes.routes if r.stops and vehicles[r.vehicle_type].kind == "bev")
    rp = RoutePlan(
        **own,
        depot_id=inp.depot_id,
        service_date=inp.service_date,
        version=version,
        status=PlanStatus.DRAFT,
        job_run_id=job_run_id,
        vehicles_used=routes.vehicles_used,
        total_km=routes.total_distance_km,
        total_kwh=routes.total_energy_kwh,
        total_litres=routes.total_fuel_l,
        total_cost_fen=_fen(routes.total_cost),
        unserved=[{"job": u.job_id, "reason": u.reason.value, "detail": u.detail} for u in routes.unserved],
        solver_stats={
            **asdict(routes.stats),
            "seconds_wall": round(solved.routing_seconds, 3),
            "checker": "feasible",
        },
        problem=problem_to_dict(solved.routing_problem),
        solution=routes.to_dict(),
        author=author[:80],
        reason=reason[:500],
        origin=origin[:20],
        based_on_version=based_on_version,
        road_network=solved.road_network,
        routing_settings=settings_record(solved.routing_problem),
    )
    add_rows(session, scope, [rp])
    session.flush()
    stops = []
    for route in routes.routes:
        if not route.stops:
            continue
        vid = vehicles[route.vehicle_type].id
        seq = 0

        def at(minutes: float) -> dt.datetime:
            return clock0 + dt.timedelta(minutes=minutes)

        problem = solved.routing_problem
        # Where each stop is: a job at its order, a station or a reload at the depot, a driver's break where the
        # truck is (the preceding stop's location), all read from the problem's locations.
        where = {loc.id: (loc.lat, loc.lon) for loc in problem.locations}
        points = [(inp.lat, inp.lon)] + [where[s.location] for s in route.stops] + [(inp.lat, inp.lon)]
        if problem.distance_km is not None:  # a road network's matrix: the legs the solver planned with
            legs = matrix_legs(problem, [DEPOT_LOCATION, *(s.location for s in route.stops), DEPOT_LOCATION])
        else:
            legs = _leg_km(points, problem.road_detour_factor)
        stops.append(
            RouteStop(
                **own,
                plan_id=rp.id,
                vehicle_id=vid,
                sequence=seq,
                kind="depot",
                latitude=inp.lat,
                longitude=inp.lon,
                departure=at(route.departure),
                load_kg=route.load_departure_kg,
                soc_departure_kwh=route.soc_departure_kwh,
            )
        )
        for s in route.stops:
            seq += 1
            job = s.kind is StopKind.JOB
            o = orders.get(s.id) if job else None
            stops.append(
                RouteStop(
                    **own,
                    plan_id=rp.id,
                    vehicle_id=vid,
                    sequence=seq,
                    kind=s.kind.value,
                    order_id=o.id if o else None,
                    station_ref=None if job else s.id,
                    latitude=o.lat if o else float(where[s.location][0]),  # type: ignore[arg-type]
                    longitude=o.lon if o else float(where[s.location][1]),  # type: ignore[arg-type]
                    arrival=at(s.arrival),
                    service_start=at(s.service_start),
                    departure=at(s.departure),
                    load_kg=s.load_kg,
                    soc_arrival_kwh=s.soc_arrival_kwh,
                    soc_departure_kwh=s.soc_departure_kwh,
                    charged_kwh=s.energy_charged_kwh,
                    km_from_previous=legs[seq - 1],
                )
            )
        stops.append(
            RouteStop(
                **own,
                plan_id=rp.id,
                vehicle_id=vid,
                sequence=seq + 1,
                kind="depot",
                latitude=inp.lat,
                longitude=inp.lon,
                arrival=at(route.arrival),
                load_kg=0.0,
                soc_arrival_kwh=route.soc_arrival_kwh,
                km_from_previous=legs[seq],
            )
        )
    add_rows(session, scope, stops)
    cp_row = None
    if sched is not None and solved.charging_problem is not None:
        base = sched.baselines
        cp_row = ChargingPlan(
            **own,
            depot_id=inp.depot_id,
            service_date=inp.service_date,
            version=version,
            status=PlanStatus.DRAFT,
            job_run_id=job_run_id,
            slot_minutes=sched.slot_minutes,
            horizon_start=solved.charging_problem.start,
            horizon_end=solved.charging_problem.end,
            # The night as billed: energy, the demand charge pro-rated over the month's days, export credit; the
            # objective's peak-increase charge stays in solver_stats (a month pays it once, not this night).
            energy_cost_fen=_fen(sched.cost.energy),
            demand_cost_fen=_fen(sched.cost.demand_night or 0.0),
            export_revenue_fen=_fen(sched.cost.export),
            total_cost_fen=_fen(
                sched.cost.night_bill if sched.cost.night_bill is not None else sched.cost.total
            ),
            peak_kw=sched.peak_kw,
            total_kwh=sum(p for v in sched.vehicles for p in v.power_kw if p > 0) * sched.slot_minutes / 60,
            baselines={k: b.to_json() for k, b in base.items()},
            unmet=[{"id": u.id, "shortfall_kwh": u.shortfall_kwh, "reason": u.reason} for u in sched.unmet],
            solver_stats={
                "objective_cost_cny": round(sched.cost.total, 4),
                "demand_increase_cny": round(sched.cost.demand, 4),
                "status": sched.status,
                "solver": sched.solver,
                "gap": sched.gap,
                "timings_s": dict(sched.timings_s),
                "seconds_wall": round(solved.charging_seconds, 3),
                "checker": "feasible",
            },
            problem=problem_to_json(solved.charging_problem),
            solution=sched.to_json(),
        )
        add_rows(session, scope, [cp_row])
        session.flush()
        connectors = {c.code: c.id for c in inp.connectors}
        slots = []
        for vs in sched.vehicles:
            vid = vehicles[vs.id].id
            for k, p in enumerate(vs.power_kw):
                if abs(p) > 1e-6:
                    slots.append(
                        ChargingSlot(
                            **own,
                            plan_id=cp_row.id,
                            vehicle_id=vid,
                            connector_id=connectors.get(vs.connector or ""),
                            slot_start=dt.datetime.fromisoformat(sched.slot_starts[k]),
                            power_kw=float(p),
                        )
                    )
        add_rows(session, scope, slots)
    session.flush()
    if after_write_hook is not None:
        after_write_hook()  # tests: die here to prove that nothing partial becomes visible
    published = publish == "always" or (
        publish == "if_none" and published_version(session, inp.depot_id, inp.service_date) is None
    )
    if published:  # demote the published versions and promote the new ones, inside the same transaction
        publish_version(session, inp.depot_id, inp.service_date, version, by=author)
    record_event(
        session,
        rp,
        "create",
        key=f"{inp.depot_code} {inp.service_date.isoformat()} v{version}",
        changes={"km": round(routes.total_distance_km, 1), "vehicles_used": routes.vehicles_used},
        reason=("published" if published else "draft") + (", nightly plan" if job_run_id is not None else ""),
    )
    session.flush()
    edf = base.get("edf") if sched is not None else None
    return DepotDayResult(
        depot_code=inp.depot_code,
        service_date=inp.service_date.isoformat(),
        route_plan_id=rp.id,
        charging_plan_id=cp_row.id if cp_row else None,
        version=version,
        published=published,
        orders=len(inp.orders),
        vehicles_available=len(inp.vehicles),
        vehicles_used=routes.vehicles_used,
        electric_used=electric_used,
        unserved=len(routes.unserved),
        km=routes.total_distance_km,
        route_kwh=routes.total_energy_kwh,
        litres=routes.total_fuel_l,
        charging_kwh=cp_row.total_kwh if cp_row else 0.0,
        charging_cost_cny=sched.cost.total if sched else 0.0,
        edf_cost_cny=edf.cost.total if edf else None,
        energy_cny=sched.cost.energy if sched else 0.0,
        demand_night_cny=(sched.cost.demand_night or 0.0) if sched else 0.0,
        short_kwh=float(sum(u.shortfall_kwh for u in sched.unmet)) if sched else 0.0,
        trucks_overnight=len(sched.vehicles) if sched else 0,
        trucks_ready=len(sched.vehicles) - len(sched.unmet) if sched else 0,
        baseline_bills={name: b.bill() for name, b in base.items()} if sched is not None else {},
        peak_kw=sched.peak_kw if sched else 0.0,
        routing_seconds=solved.routing_seconds,
        charging_seconds=solved.charging_seconds,
        routing_status=routes.stats.status,
        charging_status=sched.status if sched else "none",
    )


def run_depot_day(
    engine: Engine,
    scope: Scope,
    depot_id: int,
    service_date: dt.date,
    options: RunOptions,
    job_run_id: int | None = None,
    after_write_hook: Any = None,
) -> DepotDayResult:
    """Read (short transaction), solve (no transaction open), write (one transaction)."""
    with session_scope(engine) as session:
        inputs = load_depot_day(session, scope, depot_id, service_date)
    solved = solve_depot_day(inputs, options)
    with session_scope(engine) as session:
        return persist(
            session,
            scope,
            solved,
            job_run_id,
            after_write_hook,
            publish=options.publish,
            author=options.author,
            reason=options.reason,
            origin=options.origin,
        )


def current_route_plan(
    session: Session, scope: Scope, depot_id: int, service_date: dt.date
) -> RoutePlan | None:
    return session.exec(
        select_rows(
            scope,
            RoutePlan,
            RoutePlan.depot_id == depot_id,
            RoutePlan.service_date == service_date,
            RoutePlan.status == PlanStatus.CURRENT,
        )
    ).first()


def current_charging_plan(
    session: Session,
    scope: Scope,
    depot_id: int,
    service_date: dt.date,
) -> ChargingPlan | None:
    return session.exec(
        select_rows(
            scope,
            ChargingPlan,
            ChargingPlan.depot_id == depot_id,
            ChargingPlan.service_date == service_date,
            ChargingPlan.status == PlanStatus.CURRENT,
        )
    ).first()


__all__ = [
    "DEPOT_LOCATION",
    "DepotDayResult",
    "PlanCheckFailed",
    "RunOptions",
    "current_charging_plan",
    "current_route_plan",
    "persist",
    "plan_charging",
    "road_network_matrices",
    "run_depot_day",
    "solve_depot_day",
]
