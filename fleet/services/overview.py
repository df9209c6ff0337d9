"""Overview page: fleet KPIs per depot and per lessee, and the planned charging cost of the current plans."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session

from fleet.models import ChargingPlan, Depot, PlanStatus
from fleet.reports import DepotSummary, fleet_summary
from fleet.scope import list_rows
from fleet.services.scope import in_scope

__all__ = [
    "DepotSummary",
    "LesseeTotals",
    "PlannedCharging",
    "overview",
    "planned_charging",
    "totals_by_lessee",
]


@dataclass(frozen=True)
class LesseeTotals:
    lessee: str
    depots: int
    electric_trucks: int
    diesel_trucks: int
    active_leases: int
    monthly_rent_cny: float
    km_30d: float
    kwh_30d: float


def overview(session: Session, lessee_code: str | None, today: dt.date) -> list[DepotSummary]:
    """`fleet.reports.fleet_summary` in the scope: one row per depot."""
    return fleet_summary(session, in_scope(session, lessee_code), today)


def totals_by_lessee(rows: list[DepotSummary]) -> list[LesseeTotals]:
    """Depot rows summed per lessee (in order of first appearance)."""
    acc: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        a = acc[r.lessee]
        a["depots"] += 1
        for name in (
            "electric_trucks",
            "diesel_trucks",
            "active_leases",
            "monthly_rent_cny",
            "km_30d",
            "kwh_30d",
        ):
            a[name] += getattr(r, name)
    return [
        LesseeTotals(
            lessee=k,
            depots=int(v["depots"]),
            electric_trucks=int(v["electric_trucks"]),
            diesel_trucks=int(v["diesel_trucks"]),
            active_leases=int(v["active_leases"]),
            monthly_rent_cny=round(v["monthly_rent_cny"], 2),
            km_30d=v["km_30d"],
            kwh_30d=v["kwh_30d"],
        )
        for k, v in acc.items()
    ]


@dataclass(frozen=True)
class PlannedCharging:
    """Current charging plans of a depot over a date range: nights, cost [CNY], energy [kWh], peak [kW]."""

    depot: str
    nights: int
    cost_cny: float
    kwh: float
    peak_kw: float


def planned_charging(
    session: Session, lessee_code: str | None, first: dt.date, last: dt.date
) -> list[PlannedCharging]:
    """Sum of the current charging plans per depot for service dates in [first, last] (Overview)."""
    scope = in_scope(session, lessee_code)
    depots = {d.id: d.code for d in list_rows(session, scope, Depot)}
    acc: dict[str, list[float]] = {}
    for plan in list_rows(
        session,
        scope,
        ChargingPlan,
        ChargingPlan.status == PlanStatus.CURRENT,
        ChargingPlan.service_date >= first,
        ChargingPlan.service_date <= last,
    ):
        a = acc.setdefault(depots.get(plan.depot_id, str(plan.depot_id)), [0, 0.0, 0.0, 0.0])
        a[0] += 1
        a[1] += plan.total_cost_fen / 100
        a[2] += plan.total_kwh or 0.0
        a[3] = max(a[3], plan.peak_kw or 0.0)
    return [PlannedCharging(k, int(v[0]), v[1], v[2], v[3]) for k, v in sorted(acc.items())]
