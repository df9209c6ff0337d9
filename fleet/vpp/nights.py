"""Tonight's depot nights for the VPP: stored charging plans with each lease's V2G consent applied.

A truck may discharge only when its lease consents (`Lease.v2g_consent`) and its connector is V2G; it is never
discharged below `V2G_FLOOR_SOC` of its pack. On an event night the depot follows per-slot setpoints, so the
night's operability limits (power changes per truck) are lifted for the re-planned trucks: charging.dispatch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlmodel import Session, select

from charging.dispatch import DepotNight
from charging.problem import ChargingProblem, Operability
from charging.result import ChargingSchedule
from fleet.models import ChargingPlan, Depot, Lease, Lessee, PlanStatus, Vehicle
from fleet.scope import Scope, select_rows

V2G_FLOOR_SOC = 0.3
"""Least state of charge a consenting truck is discharged to: a planning assumption (unverified), no sourced value
(data/reference/GRID-PROGRAMMES.md has none); the departure target still binds on top of it."""

DEFAULT_LESSEE_SHARE = Decimal("0.5")
"""The lessee's share of event revenue when its lease names none: a planning assumption (unverified)."""


@dataclass(frozen=True)
class LeaseTerms:
    """What settlement needs to know about the lease of one truck (plate)."""

    lease_code: str
    lessee_code: str
    v2g_consent: bool
    lessee_share: Decimal


@dataclass(frozen=True)
class ZonedNight:
    depot_code: str
    zone: str
    night: DepotNight
    leases: Mapping[str, LeaseTerms]  # plate -> terms; trucks without a lease are the lessor's


def event_problem(
    problem: ChargingProblem, consent: Mapping[str, bool], floor_soc: float = V2G_FLOOR_SOC
) -> ChargingProblem:
    """The night's problem as the VPP dispatches it: V2G per consent, floor at `floor_soc`, no operability."""
    if not 0 <= floor_soc <= 1:
        raise ValueError(f"floor_soc: {floor_soc} is not a fraction in [0, 1]")
    vehicles = tuple(
        replace(v, v2g=bool(consent.get(v.id, False)), min_energy_kwh=floor_soc * v.capacity_kwh)
        for v in problem.vehicles
    )
    return replace(problem, vehicles=vehicles, operability=Operability())


def zone_of(depot: Depot) -> str:
    return depot.grid_zone or depot.district or "(no zone)"


def lease_terms(session: Session, scope: Scope, day: dt.date) -> dict[str, LeaseTerms]:
    """Plate -> terms of the lease running on `day` (one query)."""
    rows = session.exec(
        select(Lease, Vehicle.plate, Lessee.code)
        .join(Vehicle, Vehicle.id == Lease.vehicle_id)
        .join(Lessee, Lessee.id == Lease.lessee_id)
        .where(select_rows(scope, Lease).whereclause, Lease.start_date <= day, Lease.end_date >= day)
    ).all()
    return {
        plate: LeaseTerms(
            lease.code,
            lessee_code,
            bool(lease.v2g_consent),
            DEFAULT_LESSEE_SHARE if lease.vpp_lessee_share is None else Decimal(lease.vpp_lessee_share),
        )
        for lease, plate, lessee_code in rows
    }


def load_nights(
    session: Session,
    scope: Scope,
    service_date: dt.date,
    zone: str | None = None,
    floor_soc: float = V2G_FLOOR_SOC,
) -> list[ZonedNight]:
    """Every depot's current charging plan for the night before `service_date` (optionally one zone)."""
    depots = {d.id: d for d in session.exec(select_rows(scope, Depot)).all()}
    plans = session.exec(
        select_rows(
            scope,
            ChargingPlan,
            ChargingPlan.service_date == service_date,
            ChargingPlan.status == PlanStatus.CURRENT,
        )
    ).all()
    terms = lease_terms(session, scope, service_date)
    out = []
    for plan in sorted(plans, key=lambda p: depots[p.depot_id].code):
        depot = depots[plan.depot_id]
        if zone is not None and zone_of(depot) != zone:
            continue
        if not plan.problem or not plan.solution:
            continue
        problem = ChargingProblem.from_json(plan.problem)
        consent = {v.id: terms[v.id].v2g_consent for v in problem.vehicles if v.id in terms}
        night = DepotNight(
            depot.code, event_problem(problem, consent, floor_soc), ChargingSchedule.from_json(plan.solution)
        )
        leases = {v.id: terms[v.id] for v in problem.vehicles if v.id in terms}
        out.append(ZonedNight(depot.code, zone_of(depot), night, leases))
    return out


__all__ = [
    "DEFAULT_LESSEE_SHARE",
    "V2G_FLOOR_SOC",
    "LeaseTerms",
    "ZonedNight",
    "event_problem",
    "lease_terms",
    "load_nights",
    "zone_of",
]
