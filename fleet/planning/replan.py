"""Re-plan a depot-day's current route plan with few changes (issue 21, item 2): after a breakdown, a truck set to
maintenance, or an urgent order; before the day starts or mid-day.

`replan` reads the current (published) route plan of the depot and date, translates plates and order references
into the routing ids, calls the pure `routing.replan.replan` and returns a typed `ReplanOutcome`. It never writes:
the published plan stays as it is. `store_draft` is the small adapter that keeps an outcome as a new plan version
with status draft (until the plan-versions service's own `save_draft` takes over; see docs/replan.md).

Trucks of the plan whose status is no longer in service (maintenance, retired) are taken as unavailable even
when not named, and said so: issue 21 found a plan still sending a truck under maintenance out with 15 jobs.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sqlmodel import Session, func, select

from fleet.models import LOCAL_TZ, Depot, Order, PlanStatus, RoutePlan, RouteStop, Vehicle, VehicleStatus
from fleet.planning.build import order_job
from fleet.planning.inputs import OrderIn, local_midnight
from fleet.scope import Scope, add_rows, get_row, list_rows, scope_for, select_rows
from routing.io.json_io import problem_from_dict, problem_to_dict
from routing.locks import Locks
from routing.matrix import haversine_pairs_km
from routing.problem import RoutingProblem
from routing.replan import DEFAULT_MOVE_PENALTY, ReplanResult
from routing.replan import replan as replan_routes
from routing.solution import RoutingSolution, StopKind

IN_SERVICE = frozenset({VehicleStatus.LEASED, VehicleStatus.OWNED_BY_LESSEE, VehicleStatus.AVAILABLE})


class ReplanRequestError(ValueError):
    """The request names something the depot-day does not have (which plate, order or time, and why)."""


@dataclass(frozen=True)
class FleetLocks:
    """Locks in the planner's terms: plates (``vehicles``, ``routes``: a route is named by its truck) and order
    references (``stops``)."""

    vehicles: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    stops: tuple[str, ...] = ()


@dataclass(frozen=True)
class TruckChange:
    """One truck's day before and after the re-plan: stop counts, orders taken on and handed over, cost [CNY] of
    the rest of its day (driver-day, km and hours of what is still to drive)."""

    plate: str
    status: str  # "unavailable: <why>" | "locked" | "in service"
    orders_before: int
    orders_after: int
    orders_in: tuple[str, ...]
    orders_out: tuple[str, ...]
    fixed_stops: int


@dataclass(frozen=True)
class ReplanNotice:
    """One warning of a re-plan, structured for the planner's language (`fleet.planning.violation_text.
    notice_text`); `ReplanOutcome.warnings` has the same in English. ``params`` are JSON-ready."""

    code: str
    params: dict[str, Any]


@dataclass(frozen=True)
class ReplanOutcome:
    """What a re-plan proposes; nothing of it is stored (see `store_draft`)."""

    depot_code: str
    service_date: dt.date
    based_on_plan_id: int
    based_on_version: int
    now: dt.datetime | None
    unavailable: tuple[tuple[str, str], ...]  # (plate, why)
    urgent_orders: tuple[str, ...]
    unplanned_orders: tuple[str, ...]  # orders of the day in no plan and not named urgent (a stale plan)
    trucks: tuple[TruckChange, ...]
    result: ReplanResult
    warnings: tuple[str, ...] = ()
    plates: dict[str, str] = field(default_factory=dict, repr=False)  # routing vehicle id -> plate
    notices: tuple[ReplanNotice, ...] = ()  # the warnings, structured (same order)

    @property
    def moved(self) -> int:
        return len(self.result.moves.moved)

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures: moves of the re-plan and of the free re-solve, costs, checks."""
        r = self.result
        out: dict[str, Any] = {
            "depot": self.depot_code,
            "service_date": self.service_date.isoformat(),
            "based_on": {"plan_id": self.based_on_plan_id, "version": self.based_on_version},
            "now": self.now.isoformat() if self.now else None,
            "unavailable": [{"plate": p, "why": w} for p, w in self.unavailable],
            "urgent_orders": list(self.urgent_orders),
            "unplanned_orders": list(self.unplanned_orders),
            "move_penalty_cny": r.move_penalty,
            "replan": {
                **r.moves.to_dict(),
                "cost": round(r.objective, 2),
                "unserved": [u.job_id for u in r.solution.unserved],
                "checker": "feasible" if r.check.feasible else r.check.summary(),
                "locks": "honoured" if r.locks.ok else r.locks.summary(),
                "seconds": r.seconds,
            },
            "warnings": list(self.warnings),
        }
        if r.free is not None and r.free_moves is not None and r.free_locks is not None:
            out["free_resolve"] = {
                **r.free_moves.to_dict(),
                "moved_after_relabelling": len(r.free_moves_relabelled.moved)
                if r.free_moves_relabelled
                else None,
                "cost": round(r.free_objective or 0.0, 2),
                "unserved": [u.job_id for u in r.free.unserved],
                "checker": "feasible" if r.free_check and r.free_check.feasible else "infeasible",
                "locks_broken": len(r.free_locks.violations),
            }
        out["trucks"] = [asdict(t) for t in self.trucks]
        return out


def _depot(session: Session, scope: Scope, depot: str | int) -> Depot:
    if isinstance(depot, int):
        return get_row(session, scope, Depot, depot)
    row = session.exec(select_rows(scope, Depot, Depot.code == depot)).first()
    if row is None:
        raise ReplanRequestError(f"depot {depot!r}: no such depot in the scope of {scope.describe()}")
    return row


def _base_plan(session: Session, scope: Scope, depot: Depot, day: dt.date, version: int | None) -> RoutePlan:
    """The version a re-plan mends: `version` (a draft, or any stored version), or the published one (None)."""
    which = RoutePlan.status == PlanStatus.CURRENT if version is None else RoutePlan.version == version
    plan = session.exec(
        select_rows(scope, RoutePlan, RoutePlan.depot_id == depot.id, RoutePlan.service_date == day, which)
    ).first()
    if plan is None and version is not None:
        raise ReplanRequestError(f"depot {depot.code}, {day.isoformat()}: no route plan version {version}")
    if plan is None:
        raise ReplanRequestError(
            f"depot {depot.code}, {day.isoformat()}: no current route plan to re-plan "
            f"(plan it first: evfleet nightly --date {day.isoformat()} --depots {depot.code})"
        )
    return plan


def _order_in(o: Order) -> OrderIn:
    return OrderIn(
        id=o.id,  # type: ignore[arg-type]
        ref=o.external_ref,
        lat=o.latitude,
        lon=o.longitude,
        demand_kg=o.demand_kg,
        window_start=o.window_start,  # type: ignore[arg-type]
        window_end=o.window_end,  # type: ignore[arg-type]
        service_minutes=o.service_minutes,
        required_kind=o.required_kind.value if o.required_kind else None,
        priority=o.priority,
    )


def _minutes(problem: RoutingProblem, day: dt.date, t: dt.datetime) -> float:
    origin = problem.time_origin or local_midnight(day)
    if t.tzinfo is None:
        t = t.replace(tzinfo=LOCAL_TZ)
    return (t - origin).total_seconds() / 60.0


def replan(
    session: Session,
    depot: str | int,
    date: dt.date,
    *,
    locks: FleetLocks = FleetLocks(),
    unavailable_vehicles: Sequence[str] = (),
    urgent_orders: Sequence[str] = (),
    now: dt.datetime | None = None,
    seed: int = 0,
    time_limit_s: float = 10.0,
    move_penalty: float = DEFAULT_MOVE_PENALTY,
    compare_free: bool = True,
    scope: Scope | None = None,
    base_version: int | None = None,
) -> ReplanOutcome:
    """Re-plan a route plan of ``depot`` (code or id) on ``date`` with few changes; nothing is written.

    ``base_version`` is the version mended (a draft the planner is working on, say); None: the published one.
    Moves are counted against it and its routes are what the locks keep.

    ``unavailable_vehicles``/``locks`` name plates and order references; ``urgent_orders`` are references of
    orders of that depot and date that the plan does not have yet; ``now`` (local time if naive) cuts the day:
    stops already driven to stay fixed. ``time_limit_s`` [s] bounds the re-plan and, separately, the free re-solve
    it is compared with (``compare_free``). ``move_penalty`` [CNY per order moved to another truck].
    """
    scope = scope or scope_for(session)
    dep = _depot(session, scope, depot)
    plan = _base_plan(session, scope, dep, date, base_version)
    problem = problem_from_dict(plan.problem, source=f"route plan {plan.id}")
    current = RoutingSolution.from_dict(plan.solution)
    vid_of = {vt.id: f"{vt.id}#1" for vt in problem.vehicle_types if vt.count == 1}
    plate_of = {v: p for p, v in vid_of.items()}

    def vehicle(plate: str, what: str) -> str:
        if plate not in vid_of:
            raise ReplanRequestError(
                f"{what} {plate!r}: not a truck of the {dep.code} plan for {date.isoformat()} "
                f"(its trucks: {', '.join(sorted(vid_of))})"
            )
        return vid_of[plate]

    down: dict[str, str] = {}
    for plate in unavailable_vehicles:
        down[vehicle(plate, "unavailable vehicle")] = "named unavailable"
    rows = list_rows(session, scope, Vehicle, Vehicle.plate.in_(list(vid_of)))  # type: ignore[attr-defined]
    used = {r.vehicle_id for r in current.routes if r.stops}
    warnings: list[str] = []
    notices: list[ReplanNotice] = []
    for row in rows:
        vid = vid_of[row.plate]
        if row.status not in IN_SERVICE and vid not in down:
            down[vid] = f"status {row.status.value}"
            if vid in used:
                warnings.append(f"{row.plate} is in the plan but its status is now {row.status.value}")
                notices.append(
                    ReplanNotice("status_changed", {"plate": row.plate, "status": row.status.value})
                )
    job_ids = {j.id for j in problem.jobs}
    for ref in (*locks.stops,):
        if ref not in job_ids:
            raise ReplanRequestError(f"locked stop {ref!r}: not an order of the {dep.code} plan")
    routing_locks = Locks(
        vehicles={vehicle(p, "locked vehicle") for p in locks.vehicles},
        routes={vehicle(p, "locked route") for p in locks.routes},
        stops=set(locks.stops),
    )
    day_orders = list_rows(
        session,
        scope,
        Order,
        Order.depot_id == dep.id,
        Order.service_date == date,
        order_by=Order.external_ref,
    )
    by_ref = {o.external_ref: o for o in day_orders}
    origin = problem.time_origin or local_midnight(date)
    urgent_jobs, urgent_locs = [], []
    for ref in urgent_orders:
        if ref in job_ids:
            raise ReplanRequestError(f"urgent order {ref!r} is already in the plan")
        if ref not in by_ref:
            raise ReplanRequestError(f"urgent order {ref!r}: no order of {dep.code} on {date.isoformat()}")
        loc, job = order_job(_order_in(by_ref[ref]), origin)
        urgent_locs.append(loc)
        urgent_jobs.append(job)
    unplanned = tuple(r for r in by_ref if r not in job_ids and r not in urgent_orders)
    if unplanned:
        warnings.append(f"{len(unplanned)} order(s) of the day are in no plan and were not named urgent")
        notices.append(ReplanNotice("unplanned_orders", {"n": len(unplanned)}))
    now_min = None if now is None else _minutes(problem, date, now)
    result = replan_routes(
        problem,
        current,
        locks=routing_locks,
        unavailable=down,
        urgent=urgent_jobs,
        urgent_locations=urgent_locs,
        now=now_min,
        move_penalty=move_penalty,
        time_limit_s=time_limit_s,
        seed=seed,
        compare_free=compare_free,
    )
    warnings += list(result.remainder.notes)
    for note in result.remainder.events:
        values = dict(note.values)
        plate = plate_of.get(note.vehicle, note.vehicle)
        if note.code == "available_after_shift":
            clock = {
                k: f"{origin + dt.timedelta(minutes=values[k]):%H:%M}" for k in ("available", "shift_end")
            }
            notices.append(
                ReplanNotice(
                    note.code, {"plate": plate, "at": clock["available"], "shift_end": clock["shift_end"]}
                )
            )
        else:
            notices.append(
                ReplanNotice(
                    note.code,
                    {
                        "plate": plate,
                        "soc": f"{values['soc_kwh']:.1f}",
                        "taken": f"{values['taken'] * 100:.1f} %",
                    },
                )
            )
    if result.free is not None:
        left = {u.job_id for u in result.solution.unserved} - {u.job_id for u in result.free.unserved}
        if left:
            warnings.append(
                f"{len(left)} order(s) left unserved that the free re-solve serves ({', '.join(sorted(left))}): "
                "a lock or the move penalty keeps them out"
            )
            notices.append(ReplanNotice("left_unserved", {"n": len(left), "orders": ", ".join(sorted(left))}))
    return ReplanOutcome(
        depot_code=dep.code,
        service_date=date,
        based_on_plan_id=plan.id,  # type: ignore[arg-type]
        based_on_version=plan.version,
        now=now,
        unavailable=tuple((plate_of[v], why) for v, why in sorted(down.items())),
        urgent_orders=tuple(urgent_orders),
        unplanned_orders=unplanned,
        trucks=_trucks(current, result, down, routing_locks, plate_of),
        result=result,
        warnings=tuple(warnings),
        plates=plate_of,
        notices=tuple(notices),
    )


def _trucks(
    current: RoutingSolution,
    result: ReplanResult,
    down: dict[str, str],
    locks: Locks,
    plate_of: dict[str, str],
) -> tuple[TruckChange, ...]:
    before = {r.vehicle_id: [s.id for s in r.stops if s.kind is StopKind.JOB] for r in current.routes}
    jobs = {j.id for j in result.remainder.problem.jobs} | {
        s.id for stops in result.remainder.fixed.values() for s in stops if s.kind is StopKind.JOB
    }
    after = {v: [s for s in seq if s in jobs] for v, seq in result.day_sequences().items()}
    out = []
    for vid in sorted(set(before) | set(after) | set(down), key=lambda v: plate_of.get(v, v)):
        b, a = before.get(vid, []), after.get(vid, [])
        if not b and not a and vid not in down:
            continue
        status = (
            f"unavailable: {down[vid]}" if vid in down else "locked" if vid in locks.frozen else "in service"
        )
        out.append(
            TruckChange(
                plate=plate_of.get(vid, vid),
                status=status,
                orders_before=len(b),
                orders_after=len(a),
                orders_in=tuple(j for j in a if j not in b),
                orders_out=tuple(j for j in b if j not in a),
                fixed_stops=len(result.remainder.fixed.get(vid, ())),
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------------------------------------------
# Storing an outcome as a draft version (adapter until the plan-versions service's save_draft)
# --------------------------------------------------------------------------------------------------------------
def store_draft(
    session: Session, outcome: ReplanOutcome, *, reason: str = "", scope: Scope | None = None
) -> int:
    """Keep ``outcome`` as a new route plan version with status draft (never current: the published plan is not
    touched) with its stops for the whole day (fixed stops, then the re-planned rest); returns the plan id.

    The row's ``problem``/``solution`` are the remaining problem and the re-planned rest, so the draft can be
    re-checked by ``routing.check``; its totals are those of the rest of the day (the whole day when re-planned
    before any truck left); ``solver_stats["replan"]`` holds the move report, the free re-solve comparison and the
    plan it was based on. Refuses an outcome that fails its checks.
    """
    scope = scope or scope_for(session)
    r = outcome.result
    if not r.ok:
        raise ReplanRequestError(
            "the re-plan fails its checks and is not stored: "
            + (r.check.summary() if not r.check.feasible else r.locks.summary())
        )
    base = get_row(session, scope, RoutePlan, outcome.based_on_plan_id)
    rem = r.remainder
    own = {"lessor_id": base.lessor_id, "lessee_id": base.lessee_id}
    row = RoutePlan(
        **own,
        depot_id=base.depot_id,
        service_date=base.service_date,
        version=_next_version(session, base.depot_id, base.service_date),
        status=PlanStatus.DRAFT,
        vehicles_used=r.solution.vehicles_used,
        total_km=r.solution.total_distance_km,
        total_kwh=r.solution.total_energy_kwh,
        total_litres=r.solution.total_fuel_l,
        total_cost_fen=int(round(r.objective * 100)),
        unserved=[
            {"job": u.job_id, "reason": u.reason.value, "detail": u.detail} for u in r.solution.unserved
        ],
        solver_stats={
            "replan": {**outcome.summary(), "reason": reason, "totals_basis": "rest of the day from now"},
            "checker": "feasible",
        },
        problem=problem_to_dict(rem.problem),
        solution=r.solution.to_dict(),
        road_network=base.road_network,  # the remaining problem keeps the base plan's matrices
        routing_settings=base.routing_settings,  # and its speed profile, zones, breaks and trips
    )
    add_rows(session, scope, [row])
    session.flush()
    plates = list(outcome.plates.values())
    vehicle_ids = {
        v.plate: v.id
        for v in list_rows(session, scope, Vehicle, Vehicle.plate.in_(plates))  # type: ignore[attr-defined]
    }
    order_ids = {
        o.external_ref: o.id
        for o in list_rows(
            session, scope, Order, Order.depot_id == base.depot_id, Order.service_date == base.service_date
        )
    }
    p = rem.problem
    coords = {loc.id: (loc.lat, loc.lon) for loc in p.locations}
    depot_loc = p.locations[0].id
    origin = p.time_origin or local_midnight(base.service_date)
    new_routes = {rem.orig_of[x.vehicle_id]: x for x in r.solution.routes if x.stops}
    departures = {x["vehicle_id"]: float(x["departure"]) for x in base.solution.get("routes", [])}

    def at(minutes: float | None) -> dt.datetime | None:
        return None if minutes is None else origin + dt.timedelta(minutes=minutes)

    stops: list[RouteStop] = []
    for vid in sorted({v for v, f in rem.fixed.items() if f} | set(new_routes)):
        seq = list(rem.fixed.get(vid, ()))
        if vid in new_routes:
            seq += list(new_routes[vid].stops)
        home = [] if vid in rem.unavailable else [depot_loc]
        path = [depot_loc] + [s.location for s in seq] + home
        legs = (
            _legs(coords, path, p.road_detour_factor)
            if p.distance_km is None
            else [float(p.distance_km[p.index_of(a)][p.index_of(b)]) for a, b in itertools.pairwise(path)]
        )
        common = {**own, "plan_id": row.id, "vehicle_id": vehicle_ids[outcome.plates[vid]]}
        lat, lon = coords[depot_loc]
        first = departures.get(vid, new_routes[vid].departure if vid in new_routes else None)
        stops.append(
            RouteStop(**common, sequence=0, kind="depot", latitude=lat, longitude=lon, departure=at(first))
        )
        for k, s in enumerate(seq, start=1):
            lat, lon = coords[s.location]
            job = s.kind is StopKind.JOB
            stops.append(
                RouteStop(
                    **common,
                    sequence=k,
                    kind=s.kind.value,
                    order_id=order_ids.get(s.id) if job else None,
                    station_ref=None if job else s.id,
                    latitude=lat,
                    longitude=lon,
                    arrival=at(s.arrival),
                    service_start=at(s.service_start),
                    departure=at(s.departure),
                    load_kg=s.load_kg,
                    soc_arrival_kwh=s.soc_arrival_kwh,
                    soc_departure_kwh=s.soc_departure_kwh,
                    charged_kwh=s.energy_charged_kwh,
                    km_from_previous=legs[k - 1],
                )
            )
        if home:
            end = new_routes.get(vid)
            lat, lon = coords[depot_loc]
            stops.append(
                RouteStop(
                    **common,
                    sequence=len(seq) + 1,
                    kind="depot",
                    latitude=lat,
                    longitude=lon,
                    arrival=at(end.arrival) if end else None,
                    soc_arrival_kwh=end.soc_arrival_kwh if end else None,
                    km_from_previous=legs[len(seq)],
                )
            )
    add_rows(session, scope, stops)
    session.flush()
    return row.id  # type: ignore[return-value]


def _next_version(session: Session, depot_id: int, day: dt.date) -> int:
    """The next version number of the depot-day's route plans (as `fleet.pipeline.next_version`, without importing
    the pipeline's solvers)."""
    top = session.exec(
        select(func.max(RoutePlan.version)).where(
            RoutePlan.depot_id == depot_id, RoutePlan.service_date == day
        )
    ).first()
    return int(top or 0) + 1


def _legs(
    coords: dict[str, tuple[float | None, float | None]], path: list[str], detour: float
) -> list[float]:
    """Road km of each leg of ``path`` (location ids), by the routing problem's own distance rule."""
    if len(path) < 2:
        return []
    lat = np.array([coords[x][0] for x in path], dtype=float)
    lon = np.array([coords[x][1] for x in path], dtype=float)
    return [float(x) * detour for x in haversine_pairs_km(lat[:-1], lon[:-1], lat[1:], lon[1:])]


__all__ = [
    "FleetLocks",
    "ReplanOutcome",
    "ReplanRequestError",
    "TruckChange",
    "replan",
    "store_draft",
]
