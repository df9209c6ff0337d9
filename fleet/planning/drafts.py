"""Plan versions beyond the nightly solve: store given routes as a draft (`save_draft`: a planner's edit, a
re-plan), restore an earlier version, and say when a stored plan has gone stale.

Every version written here passes the same gates as the nightly's: the routing checker on the plan's own
problem, then the night's charging planned and checked for exactly these routes (`fleet.pipeline.plan_charging`),
written whole in the caller's transaction (`fleet.pipeline.persist`). docs/plan-versions.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, func

from fleet.i18n import _
from fleet.models import (
    ChargingPlan,
    ChargingSlot,
    Connector,
    Depot,
    Order,
    PlanStatus,
    PowerGroup,
    RoutePlan,
    RouteStop,
    Tariff,
    Vehicle,
    VehicleStatus,
    utcnow,
)
from fleet.pipeline import (
    DepotDayResult,
    PlanCheckFailed,
    RunOptions,
    SolvedDepotDay,
    next_version,
    persist,
    plan_charging,
)
from fleet.planning.edits import evaluate
from fleet.planning.inputs import load_depot_day
from fleet.planning.publish import lock_depot, publish_version
from fleet.scope import Scope, add_rows, get_row, list_rows, select_rows
from routing.io.json_io import problem_from_dict
from routing.problem import RoutingProblem
from routing.solution import RoutingSolution

ORIGINS = ("nightly", "solve", "edit", "restore", "replan")
AVAILABLE = (VehicleStatus.LEASED, VehicleStatus.OWNED_BY_LESSEE, VehicleStatus.AVAILABLE)


class EditRejected(PlanCheckFailed):
    """Routes the routing checker rejects: nothing is stored. `violations` name truck, stop and rule."""

    def __init__(self, message: str, violations: tuple[str, ...]) -> None:
        super().__init__(message)
        self.violations = violations


def plan_row(
    session: Session, scope: Scope, depot_id: int, service_date: dt.date, version: int | None = None
) -> RoutePlan | None:
    """Route plan `version` of the depot-day (None: the published one), in scope."""
    where = [RoutePlan.depot_id == depot_id, RoutePlan.service_date == service_date]
    where.append(
        RoutePlan.status == PlanStatus.PUBLISHED if version is None else RoutePlan.version == version
    )
    return session.exec(select_rows(scope, RoutePlan, *where)).first()


def save_draft(
    session: Session,
    scope: Scope,
    depot_id: int,
    service_date: dt.date,
    routes: RoutingSolution,
    author: str,
    reason: str,
    origin: str,
    *,
    problem: RoutingProblem | None = None,
    based_on_version: int | None = None,
    charging_time_limit_s: float = 10.0,
    seed: int = 0,
) -> DepotDayResult:
    """Store `routes` as a new DRAFT version of the depot-day, never touching the published one.

    `problem`: the routing problem the routes answer (default: the stored problem of `based_on_version`, else of
    the published version). The routes must pass `routing.check` on it (EditRejected lists the violations
    otherwise), every routed truck must still be available and every job still an order; the night's charging is
    planned and checked for these routes. `origin` is one of ORIGINS ('edit', 'replan', ...). Flushes in the
    caller's transaction; the caller commits."""
    if not reason.strip():
        raise ValueError("a reason is required for a new plan version")
    if origin not in ORIGINS:
        raise ValueError(f"origin {origin!r}: expected one of {', '.join(ORIGINS)}")
    base = plan_row(session, scope, depot_id, service_date, based_on_version)
    if problem is None:
        if base is None:
            raise ValueError(f"no stored plan to base a draft on (version {based_on_version or 'published'})")
        problem = problem_from_dict(dict(base.problem), f"route plan {base.id}")
        based_on_version = base.version
    result = evaluate(problem, routes)
    if not result.feasible:
        shown = tuple(v.text() for v in result.violations)  # in the caller's locale (fleet.i18n)
        raise EditRejected(
            _("the routing checker rejects these routes ({n} violation(s)): ").format(n=len(shown))
            + "; ".join(shown[:5]),
            shown,
        )
    inputs = load_depot_day(session, scope, depot_id, service_date)
    options = RunOptions(charging_time_limit_s=charging_time_limit_s, seed=seed)
    cp, sched, seconds = plan_charging(inputs, problem, result.solution, options)
    # The draft answers the base plan's problem, so its matrices came from the base plan's road network.
    network = base.road_network if base is not None else None
    solved = SolvedDepotDay(inputs, problem, result.solution, cp, sched, 0.0, seconds, network)
    return persist(
        session,
        scope,
        solved,
        publish="never",
        author=author.strip() or "planner",
        reason=reason.strip(),
        origin=origin,
        based_on_version=based_on_version,
    )


def _copy(row: Any, **changes: Any) -> Any:
    data = row.model_dump(exclude={"id"})
    data.update(changes)
    return type(row)(**data)


def restore_version(
    session: Session,
    scope: Scope,
    depot_id: int,
    service_date: dt.date,
    version: int,
    author: str,
    reason: str,
) -> RoutePlan:
    """Bring back `version` as a NEW version that is published at once (an exact copy of its route plan, stops,
    charging plan and slots; origin 'restore', based_on_version = `version`). The history is never rewritten:
    the old row stays as it was, the published version before the restore becomes superseded.

    Refused when the old plan routes a truck no longer available at the depot (stale_warnings names it)."""
    if not reason.strip():
        raise ValueError("a reason is required to restore a version")
    old = plan_row(session, scope, depot_id, service_date, version)
    if old is None:
        raise ValueError(f"no route plan version {version} for this depot-day")
    gone = unavailable_trucks(session, scope, old)
    if gone:
        raise PlanCheckFailed(
            f"version {version} routes truck(s) {', '.join(gone)}, no longer available: edit it instead"
        )
    lock_depot(session, depot_id)
    new_version = max(
        next_version(session, RoutePlan, depot_id, service_date),
        next_version(session, ChargingPlan, depot_id, service_date),
    )
    route = _copy(
        old,
        version=new_version,
        status=PlanStatus.DRAFT,
        created_at=utcnow(),
        author=author.strip() or "planner",
        reason=reason.strip(),
        origin="restore",
        based_on_version=version,
        published_at=None,
        published_by=None,
        job_run_id=None,
    )
    add_rows(session, scope, [route])
    session.flush()
    stops = list_rows(session, scope, RouteStop, RouteStop.plan_id == old.id, order_by=RouteStop.id)
    add_rows(session, scope, [_copy(s, plan_id=route.id) for s in stops])
    charging = session.exec(
        select_rows(
            scope,
            ChargingPlan,
            ChargingPlan.depot_id == depot_id,
            ChargingPlan.service_date == service_date,
            ChargingPlan.version == version,
        )
    ).first()
    if charging is not None:
        cp = _copy(
            charging, version=new_version, status=PlanStatus.DRAFT, created_at=utcnow(), job_run_id=None
        )
        add_rows(session, scope, [cp])
        session.flush()
        slots = list_rows(session, scope, ChargingSlot, ChargingSlot.plan_id == charging.id)
        add_rows(session, scope, [_copy(s, plan_id=cp.id) for s in slots])
    session.flush()
    return publish_version(session, depot_id, service_date, new_version, by=author.strip() or "planner")


# ----------------------------------------------------------------------------------------------- staleness


def _plan_trucks(plan: RoutePlan) -> dict[str, int]:
    """Plate -> jobs routed in the stored plan."""
    out: dict[str, int] = {}
    for r in plan.solution.get("routes", ()):
        jobs = sum(1 for s in r.get("stops", ()) if s.get("kind") == "job")
        if jobs:
            out[r["vehicle_type"]] = jobs
    return out


def unavailable_trucks(session: Session, scope: Scope, plan: RoutePlan) -> list[str]:
    """Trucks the plan sends out that are no longer available at its depot (maintenance, retired, moved)."""
    trucks = _plan_trucks(plan)
    if not trucks:
        return []
    rows = {v.plate: v for v in list_rows(session, scope, Vehicle, Vehicle.plate.in_(list(trucks)))}
    return sorted(
        p
        for p in trucks
        if p not in rows or rows[p].status not in AVAILABLE or rows[p].depot_id != plan.depot_id
    )


@dataclass(frozen=True)
class StaleWarning:
    """Why a stored plan may no longer fit the depot-day. `kind`: vehicles | orders | chargers | tariff | depot."""

    kind: str
    message: str


def _latest(session: Session, scope: Scope, model: Any, *where: Any) -> dt.datetime | None:
    return session.exec(
        select_rows(scope, model, *where).with_only_columns(func.max(model.updated_at))
    ).first()


def _local(t: dt.datetime) -> str:
    from fleet.models import LOCAL_TZ

    if t.tzinfo is None:  # aggregates on SQLite come back naive UTC (no column type on max())
        t = t.replace(tzinfo=dt.UTC)
    return f"{t.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"


def _aware(t: Any) -> dt.datetime | None:
    if t is None:
        return None
    if isinstance(t, str):
        t = dt.datetime.fromisoformat(t)
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def inputs_made_at(session: Session, scope: Scope, plan: RoutePlan) -> dt.datetime | None:
    """When the inputs of `plan`'s routing problem were read: its own creation time, or for an edit or a restore
    (which reuse an earlier version's problem) the creation time of the version they go back to."""
    seen = set()
    while plan.origin in ("edit", "restore") and plan.based_on_version is not None and plan.id not in seen:
        seen.add(plan.id)
        base = plan_row(session, scope, plan.depot_id, plan.service_date, plan.based_on_version)
        if base is None:
            break
        plan = base
    return plan.created_at


def stale_warnings(session: Session, scope: Scope, plan: RoutePlan) -> list[StaleWarning]:
    """What changed at the plan's depot after the plan was made: trucks it sends out that are no longer
    available (each named, with its jobs), orders added or removed, and the latest change to vehicles, orders,
    connectors or power groups, the depot and its tariff when later than the plan's `created_at`. Rows older than
    migration 0008 have no `updated_at` and raise nothing on their own."""
    out: list[StaleWarning] = []
    made = _aware(inputs_made_at(session, scope, plan))
    trucks = _plan_trucks(plan)
    rows = {v.plate: v for v in list_rows(session, scope, Vehicle, Vehicle.plate.in_(list(trucks) or [""]))}
    for plate in unavailable_trucks(session, scope, plan):
        v = rows.get(plate)
        if v is None:
            state = "gone"
        elif v.status not in AVAILABLE:
            state = "in maintenance" if v.status == VehicleStatus.MAINTENANCE else v.status.value
        else:
            state = "at another depot"
        out.append(
            StaleWarning(
                "vehicles",
                f"truck {plate} is {state} but this plan still sends it out with {trucks[plate]} job(s): "
                "move its jobs to other trucks (edit) or re-solve",
            )
        )
    refs = {j["id"] for j in plan.problem.get("jobs", ())}
    now = {
        o.external_ref
        for o in list_rows(
            session, scope, Order, Order.depot_id == plan.depot_id, Order.service_date == plan.service_date
        )
    }
    if now - refs:
        added = sorted(now - refs)
        out.append(
            StaleWarning("orders", f"{len(added)} order(s) added since the plan: {', '.join(added[:8])}")
        )
    if refs - now:
        gone = sorted(refs - now)
        out.append(
            StaleWarning("orders", f"{len(gone)} order(s) removed since the plan: {', '.join(gone[:8])}")
        )
    depot = get_row(session, scope, Depot, plan.depot_id)
    checks: list[tuple[str, str, Any]] = [
        ("vehicles", "vehicles", _latest(session, scope, Vehicle, Vehicle.depot_id == plan.depot_id)),
        (
            "orders",
            "orders of the day",
            _latest(
                session,
                scope,
                Order,
                Order.depot_id == plan.depot_id,
                Order.service_date == plan.service_date,
            ),
        ),
        ("chargers", "connectors", _latest(session, scope, Connector, Connector.depot_id == plan.depot_id)),
        (
            "chargers",
            "power groups",
            _latest(session, scope, PowerGroup, PowerGroup.depot_id == plan.depot_id),
        ),
        ("depot", "the depot's settings", depot.updated_at),
    ]
    if depot.tariff_id is not None:
        tariff = session.get(Tariff, depot.tariff_id)
        checks.append(
            ("tariff", f"tariff {tariff.code if tariff else depot.tariff_id}", tariff and tariff.updated_at)
        )
    if made is not None:
        for kind, what, when in checks:
            when = _aware(when)
            if when is not None and when > made:
                out.append(
                    StaleWarning(
                        kind,
                        f"{what} changed at {_local(when)}, after this plan was made ({_local(made)})",
                    )
                )
    return out
