"""Route planner page, plan versions and hand edits: list, compare, publish, restore, stale-plan warnings; preview
an edit with the routing checker's verdict and save it as a draft.

Services take the page's session and the scope's lessee code (`None` = the lessor); they never commit. Saving an
edit also plans the night's charging (CP-SAT), so it runs in a worker process (`save_edit` takes the database
URL, like `fleet.services.solving.solve_and_store`). docs/plan-versions.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlmodel import Session

from fleet.i18n import _
from fleet.models import ChargingPlan, PlanStatus, RoutePlan
from fleet.pipeline import PlanCheckFailed
from fleet.planning.diff import JobPlace, moved_jobs, placements
from fleet.planning.drafts import (
    EditRejected,
    StaleWarning,
    plan_row,
    restore_version,
    save_draft,
    stale_warnings,
    unavailable_trucks,
)
from fleet.planning.edits import EditError, EditResult, apply, evaluate
from fleet.planning.publish import publish_version
from fleet.scope import list_rows
from fleet.services.scope import depot_in_scope, in_scope
from fleet.services.session import unit_of_work
from routing.io.json_io import problem_from_dict
from routing.solution import RoutingSolution

__all__ = [
    "STATUS_LABELS",
    "EditError",
    "EditRejected",
    "PlanCheckFailed",
    "VersionComparison",
    "compare_versions",
    "plan_warnings",
    "preview_edits",
    "publish",
    "restore",
    "save_draft",
    "save_edit",
    "version_numbers",
    "versions_frame",
]

STATUS_LABELS = {
    PlanStatus.DRAFT.value: "draft",
    "current": "published",
    PlanStatus.SUPERSEDED.value: "superseded",
}


def _plan(session: Session, lessee_code: str | None, depot_code: str, day: dt.date, version: int | None):  # type: ignore[no-untyped-def]
    scope = in_scope(session, lessee_code)
    depot = depot_in_scope(session, scope, depot_code)
    return scope, depot, plan_row(session, scope, depot.id, day, version)


def versions_frame(session: Session, lessee_code: str | None, depot_code: str, day: dt.date) -> pd.DataFrame:
    """Every route plan version of the depot-day, newest first: status, origin, author, reason, when, and its
    km, routing cost [CNY], driven kWh, trucks, unserved jobs and the night's charging cost [CNY]."""
    scope = in_scope(session, lessee_code)
    depot = depot_in_scope(session, scope, depot_code)
    plans = list_rows(
        session,
        scope,
        RoutePlan,
        RoutePlan.depot_id == depot.id,
        RoutePlan.service_date == day,
        order_by=RoutePlan.version.desc(),
    )
    charging = {
        c.version: c
        for c in list_rows(
            session, scope, ChargingPlan, ChargingPlan.depot_id == depot.id, ChargingPlan.service_date == day
        )
    }
    rows = [
        {
            "version": p.version,
            "status": STATUS_LABELS.get(p.status.value, p.status.value),
            "origin": p.origin or "",
            "author": p.author or "",
            "reason": p.reason or "",
            "created": p.created_at,
            "based_on": p.based_on_version,
            "km": round(p.total_km, 1),
            "cost_cny": round(p.total_cost_fen / 100, 2),
            "kwh": round(p.total_kwh, 1),
            "trucks": p.vehicles_used,
            "unserved": len(p.unserved),
            "charging_cny": round(charging[p.version].total_cost_fen / 100, 2)
            if p.version in charging
            else None,
        }
        for p in plans
    ]
    cols = [
        "version",
        "status",
        "origin",
        "author",
        "reason",
        "created",
        "based_on",
        "km",
        "cost_cny",
        "kwh",
        "trucks",
        "unserved",
        "charging_cny",
    ]
    return pd.DataFrame(rows, columns=cols)


def version_numbers(session: Session, lessee_code: str | None, depot_code: str, day: dt.date) -> list[int]:
    return [int(v) for v in versions_frame(session, lessee_code, depot_code, day)["version"]]


@dataclass(frozen=True)
class VersionComparison:
    """Version `a` against version `b` of one depot-day (b - a in the deltas).

    `moved`: the jobs whose truck or position changed (docs/plan-versions.md, 'Stops moved'), one row each."""

    a: int
    b: int
    totals: pd.DataFrame  # index: km, cost_cny, kwh, trucks, unserved, stops_moved; columns: a, b, change
    trucks: pd.DataFrame  # one row per truck used in either: km, stops and kWh in a and b, jobs moved
    moved: pd.DataFrame  # job, truck and position in a and b
    stops_moved: int
    trucks_changed: int  # jobs whose truck changed (served <-> unserved included)


def compare_versions(
    session: Session, lessee_code: str | None, depot_code: str, day: dt.date, a: int, b: int
) -> VersionComparison:
    scope = in_scope(session, lessee_code)
    depot = depot_in_scope(session, scope, depot_code)
    pa, pb = plan_row(session, scope, depot.id, day, a), plan_row(session, scope, depot.id, day, b)
    if pa is None or pb is None:
        raise ValueError(f"version {a if pa is None else b} does not exist for {depot_code} {day}")
    sa, sb = RoutingSolution.from_dict(dict(pa.solution)), RoutingSolution.from_dict(dict(pb.solution))
    where_a, where_b = placements(sa), placements(sb)
    moved = moved_jobs(where_a, where_b)

    def totals(p: RoutePlan) -> dict[str, float]:
        return {
            "km": round(p.total_km, 1),
            "cost_cny": round(p.total_cost_fen / 100, 2),
            "kwh": round(p.total_kwh, 1),
            "trucks": float(p.vehicles_used),
            "unserved": float(len(p.unserved)),
        }

    ta, tb = totals(pa), totals(pb)
    frame = pd.DataFrame({f"v{a}": ta, f"v{b}": tb})
    frame["change"] = (frame[f"v{b}"] - frame[f"v{a}"]).round(2)
    frame.loc["stops_moved"] = [None, None, float(len(moved))]

    def per_truck(sol: RoutingSolution) -> dict[str, tuple[float, int, float]]:
        return {r.vehicle_type: (r.distance_km, len(r.job_ids), r.energy_kwh) for r in sol.routes if r.stops}

    ra, rb = per_truck(sa), per_truck(sb)
    moved_by_truck: dict[str, int] = {}
    for job in moved:
        for place in (where_a.get(job), where_b.get(job)):
            if place is not None:
                moved_by_truck[place.truck] = moved_by_truck.get(place.truck, 0) + 1
    trucks = pd.DataFrame(
        [
            {
                "truck": t,
                f"km_v{a}": round(ra.get(t, (0.0, 0, 0.0))[0], 1),
                f"km_v{b}": round(rb.get(t, (0.0, 0, 0.0))[0], 1),
                f"stops_v{a}": ra.get(t, (0.0, 0, 0.0))[1],
                f"stops_v{b}": rb.get(t, (0.0, 0, 0.0))[1],
                f"kwh_v{a}": round(ra.get(t, (0.0, 0, 0.0))[2], 1),
                f"kwh_v{b}": round(rb.get(t, (0.0, 0, 0.0))[2], 1),
                "jobs_moved": moved_by_truck.get(t, 0),
            }
            for t in sorted(set(ra) | set(rb))
        ]
    )

    def show(p: JobPlace | None) -> tuple[str, int | None]:
        return ("unserved", None) if p is None else (p.truck, p.position)

    moved_rows = pd.DataFrame(
        [
            {
                "job": j,
                f"truck_v{a}": show(where_a.get(j))[0],
                f"position_v{a}": show(where_a.get(j))[1],
                f"truck_v{b}": show(where_b.get(j))[0],
                f"position_v{b}": show(where_b.get(j))[1],
            }
            for j in moved
        ],
        columns=["job", f"truck_v{a}", f"position_v{a}", f"truck_v{b}", f"position_v{b}"],
    )
    changed = sum(1 for j in moved if show(where_a.get(j))[0] != show(where_b.get(j))[0])
    return VersionComparison(a, b, frame, trucks, moved_rows, len(moved), changed)


def publish(
    session: Session, lessee_code: str | None, depot_code: str, day: dt.date, version: int, by: str
) -> None:
    """Make `version` the published plan (one transaction: the unit of work). Refused when it sends out a truck
    that is no longer available (set to maintenance, retired or moved since)."""
    scope, depot, plan = _plan(session, lessee_code, depot_code, day, version)
    if plan is None:
        raise ValueError(f"version {version} does not exist for {depot_code} {day}")
    gone = unavailable_trucks(session, scope, plan)
    if gone:
        raise PlanCheckFailed(
            f"version {version} sends out truck(s) {', '.join(gone)}, no longer available: edit the plan first"
        )
    publish_version(session, depot.id, day, version, by=by.strip() or "planner")


def restore(
    session: Session,
    lessee_code: str | None,
    depot_code: str,
    day: dt.date,
    version: int,
    by: str,
    reason: str,
) -> int:
    """Bring back `version` as a new published copy (`fleet.planning.drafts.restore_version`); its number."""
    scope = in_scope(session, lessee_code)
    depot = depot_in_scope(session, scope, depot_code)
    return restore_version(session, scope, depot.id, day, version, by, reason).version


def plan_warnings(
    session: Session, lessee_code: str | None, depot_code: str, day: dt.date, version: int | None = None
) -> list[StaleWarning]:
    """Stale-plan warnings of `version` (None: the published plan); [] without a plan."""
    scope, _depot, plan = _plan(session, lessee_code, depot_code, day, version)
    return [] if plan is None else stale_warnings(session, scope, plan)


def preview_edits(
    session: Session,
    lessee_code: str | None,
    depot_code: str,
    day: dt.date,
    base_version: int,
    edits: list[dict[str, Any]],
) -> EditResult:
    """`edits` applied in order to version `base_version`, then re-checked by the routing checker (no write)."""
    _scope, _depot, plan = _plan(session, lessee_code, depot_code, day, base_version)
    if plan is None:
        raise ValueError(f"version {base_version} does not exist for {depot_code} {day}")
    problem = problem_from_dict(dict(plan.problem), f"route plan {plan.id}")
    solution = RoutingSolution.from_dict(dict(plan.solution))
    for edit in edits:
        solution = apply(problem, solution, edit)
    return evaluate(problem, solution)


def save_edit(
    url: str,
    lessee_code: str | None,
    depot_code: str,
    day: dt.date,
    base_version: int,
    edits: list[dict[str, Any]],
    author: str,
    reason: str,
    charging_time_limit_s: float = 5.0,
) -> dict[str, Any]:
    """Apply `edits` to `base_version`, refuse them if the routing checker finds any violation (EditRejected names
    each), else store a new DRAFT version with its night's charging (origin 'edit'). Runs in a worker process
    (`solving.run_isolated`): takes the URL and opens its own unit of work. Returns the result row."""
    with unit_of_work(url) as session:
        scope = in_scope(session, lessee_code)
        depot = depot_in_scope(session, scope, depot_code)
        result = preview_edits(session, lessee_code, depot_code, day, base_version, edits)
        if not result.feasible:
            shown = tuple(
                v.text() for v in result.violations
            )  # in the page's locale (run_isolated passes it)
            raise EditRejected(_("refused: ") + "; ".join(shown[:5]), shown)
        plan = plan_row(session, scope, depot.id, day, base_version)
        problem = problem_from_dict(dict(plan.problem), f"route plan {plan.id}")  # type: ignore[union-attr]
        return save_draft(
            session,
            scope,
            depot.id,
            day,
            result.solution,
            author,
            reason,
            "edit",
            problem=problem,
            based_on_version=base_version,
            charging_time_limit_s=charging_time_limit_s,
        ).to_dict()
