"""The Route planner's re-plan panel: mend the depot-day's published plan (or a draft the planner chooses) after a
breakdown or an urgent order (`fleet.planning.replan`, docs/replan.md), honouring the planner's locks, and keep the
result as a DRAFT version.

Before the day (no `now`) the re-plan's remaining problem is the whole day's problem (one vehicle type per
available truck, type id = plate; jobs = order references), so it is stored through
`fleet.planning.drafts.save_draft` like a hand edit: checked again by `routing.check`, the night's charging planned
and checked, author, reason and origin 'replan' recorded. Mid-day (`now` set) the re-planned rest starts where each
truck is, which the day's problem cannot express; it is stored by `fleet.planning.replan.store_draft` (fixed stops
plus the re-planned rest, re-checkable against the remaining problem) with author, reason and origin filled in; the
night's charging is not re-planned then, because that night is over.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fleet.models import LOCAL_TZ, RoutePlan
from fleet.planning.drafts import save_draft
from fleet.planning.replan import FleetLocks, ReplanOutcome, ReplanRequestError, replan, store_draft
from fleet.planning.violation_text import notice_text
from fleet.scope import get_row
from fleet.services.scope import depot_in_scope, in_scope
from fleet.services.session import unit_of_work
from routing.solution import RoutingSolution

__all__ = ["ReplanRequestError", "notice_text", "parse_now", "replan_to_draft"]


def parse_now(day: dt.date, text: str) -> dt.datetime | None:
    """'HH:MM' local time on `day` (Asia/Shanghai), or None for an empty text (before the day)."""
    text = text.strip()
    if not text:
        return None
    try:
        clock = dt.datetime.strptime(text, "%H:%M").time()
    except ValueError:
        raise ReplanRequestError(f"time {text!r}: expected HH:MM, e.g. 11:00") from None
    return dt.datetime.combine(day, clock, tzinfo=LOCAL_TZ)


def _whole_day(outcome: ReplanOutcome) -> bool:
    """True when the remaining problem is the day's own (no cut at `now`, truck ids unchanged)."""
    rem = outcome.result.remainder
    return rem.now is None and all(k == v for k, v in rem.orig_of.items()) and not any(rem.fixed.values())


def replan_to_draft(
    url: str,
    lessee_code: str | None,
    depot_code: str,
    day: dt.date,
    unavailable: list[str],
    locks: dict[str, list[str]],
    urgent: list[str],
    now_hhmm: str,
    time_limit_s: float,
    author: str,
    reason: str,
    seed: int = 0,
    base_version: int | None = None,
) -> dict[str, Any]:
    """Re-plan version `base_version` of the depot-day (None: the published plan; a draft the planner is working on
    otherwise) and store it as a new draft; returns the version and the moves
    report (this re-plan against a free re-solve of the same remaining problem). Runs in a worker process
    (`solving.run_isolated`): takes the URL and opens its own unit of work. `locks` has the keys 'vehicles',
    'routes' (plates) and 'stops' (order references). Raises ReplanRequestError (named plate, order or lock) or
    EditRejected; nothing is stored then."""
    if not reason.strip():
        raise ReplanRequestError("a reason is required for a re-planned version")
    with unit_of_work(url) as session:
        scope = in_scope(session, lessee_code)
        depot = depot_in_scope(session, scope, depot_code)
        outcome = replan(
            session,
            depot.code,
            day,
            locks=FleetLocks(
                vehicles=tuple(locks.get("vehicles", ())),
                routes=tuple(locks.get("routes", ())),
                stops=tuple(locks.get("stops", ())),
            ),
            unavailable_vehicles=tuple(unavailable),
            urgent_orders=tuple(urgent),
            now=parse_now(day, now_hhmm),
            seed=seed,
            time_limit_s=time_limit_s,
            scope=scope,
            base_version=base_version,
        )
        r = outcome.result
        if not r.ok:
            raise ReplanRequestError(
                "the re-plan fails its checks and is not stored: "
                + (r.check.summary() if not r.check.feasible else r.locks.summary())
            )
        summary = outcome.summary()
        if _whole_day(outcome):
            stored = save_draft(
                session,
                scope,
                depot.id,
                day,
                RoutingSolution.from_dict(r.solution.to_dict()),
                author,
                reason,
                "replan",
                problem=r.remainder.problem,
                based_on_version=outcome.based_on_version,
                charging_time_limit_s=5.0,
                seed=seed,
            ).to_dict()
            version = int(stored["version"])
            how = "save_draft"
        else:
            plan_id = store_draft(session, outcome, reason=reason, scope=scope)
            row = get_row(session, scope, RoutePlan, plan_id)
            row.author, row.reason, row.origin = author.strip() or "planner", reason.strip(), "replan"
            row.based_on_version = outcome.based_on_version
            session.add(row)
            version = row.version
            how = "store_draft"
    return {
        "version": version,
        "based_on_version": outcome.based_on_version,
        "stored_by": how,
        "summary": summary,
        "moved": list(r.moves.moved),
        "moved_forced": list(r.moves.moved_from_unavailable),
        "free_moved": len(r.free_moves.moved) if r.free_moves else None,
        "free_moved_relabelled": len(r.free_moves_relabelled.moved) if r.free_moves_relabelled else None,
        "trucks": summary["trucks"],
        "warnings": list(outcome.warnings),
        "notices": [{"code": n.code, "params": n.params} for n in outcome.notices],
    }
