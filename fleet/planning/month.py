"""A depot's billing month from its stored plans: the nights `charging.month.simulate_month` replays.

Each current charging plan keeps its exact solver input (`ChargingPlan.problem`), so the month is replayed on the
nights as they were planned; the depot's billing rules come from the database as they are now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session

from charging.billing import BillingRules, days_in_month
from charging.problem import ChargingProblem
from fleet.models import ChargingPlan, Depot, PlanStatus, Tariff, Vehicle
from fleet.planning.inputs import billing_rules, local_midnight, night_sessions
from fleet.scope import Scope, list_rows

__all__ = ["MonthNights", "month_nights", "parse_month"]


@dataclass(frozen=True)
class MonthNights:
    depot_code: str
    month: dt.date  # first day
    rules: BillingRules
    nights: tuple[ChargingProblem, ...]
    missing: tuple[dt.date, ...]  # nights of the month without a stored plan
    # billing night -> metered charging sessions (plate, start, end, grid kWh) of that night, where imported
    observed: dict[dt.date, tuple[tuple[str, dt.datetime, dt.datetime, float], ...]] = field(
        default_factory=dict
    )


def parse_month(text: str) -> dt.date:
    """'YYYY-MM' -> the first day of that month; a clear error otherwise."""
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise ValueError(f"month: expected YYYY-MM (e.g. 2026-11), got {text!r}") from None


def month_nights(session: Session, scope: Scope, depot_code: str, month: dt.date) -> MonthNights:
    """The current charging plans whose night starts in `month`, in date order, with the depot's billing rules."""
    depots = list_rows(session, scope, Depot, Depot.code == depot_code)
    if not depots:
        raise ValueError(f"depot {depot_code!r}: not found in scope")
    depot = depots[0]
    tariff = session.get(Tariff, depot.tariff_id) if depot.tariff_id else None
    if tariff is None:
        raise ValueError(f"depot {depot.code} has no tariff: set depot.tariff_id")
    first = month.replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    plans = list_rows(
        session,
        scope,
        ChargingPlan,
        ChargingPlan.depot_id == depot.id,
        ChargingPlan.status == PlanStatus.CURRENT,
        ChargingPlan.horizon_start >= local_midnight(first),
        ChargingPlan.horizon_start < local_midnight(after),
        order_by=ChargingPlan.horizon_start,
    )
    nights = tuple(ChargingProblem.from_json(p.problem) for p in plans if p.problem)
    plates = {v.id: v.plate for v in list_rows(session, scope, Vehicle, Vehicle.depot_id == depot.id)}
    observed: dict[dt.date, tuple[tuple[str, dt.datetime, dt.datetime, float], ...]] = {}
    for plan in plans:
        if plan.problem:
            sessions = night_sessions(session, scope, depot.id, plan.service_date, plates)
            if sessions:
                observed[plan.service_date - dt.timedelta(days=1)] = sessions
    planned = {n.billing_night for n in nights}
    every = (first + dt.timedelta(days=k) for k in range(days_in_month(first)))
    return MonthNights(
        depot_code=depot.code,
        month=first,
        rules=billing_rules(depot, tariff),
        nights=nights,
        missing=tuple(d for d in every if d not in planned),
        observed=observed,
    )
