"""Reconciliation of the trucks' own telematics with the plan and the chargers, per truck and day.

Two checks, each on a telematics vehicle-day (VehicleDay with source 'telematics:gbt32960'):

- distance: odometer km against the planned km of the current route plan of that service day (the sum of the
  truck's `RouteStop.km_from_previous`). Off by more than `km_tolerance` (default 20 %) -> `km_vs_plan`.
- energy: the vehicle's kWh into the pack against the charger meters' kWh of the same day (charging sessions
  ending that day, as `fleet.emissions.sources` books them, and a charger reading on an imported trip row).
  The ratio battery-side / grid-side is a charging efficiency and must lie in `efficiency_range` (default
  0.80..1.02: losses of a few to 20 %, 2 % for meter tolerance) -> otherwise `kwh_vs_charger`.

Grades (the data-quality grade the emissions report shows next to each telematics day):
``reconciled`` both checks had a counterpart and passed; ``partly reconciled`` one had none (no plan, no
charger meter) and the other passed; ``unreconciled`` neither had a counterpart; ``disagrees`` a check failed.
Disagreeing days are flagged in the emissions report (listed with the other data-quality flags; the figures
still count them: nothing says which side is wrong). Thresholds are evfleet screening assumptions (unverified).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session

from fleet.emissions.calc import Period
from fleet.emissions.quality import FLAG_CODES, RowFlag
from fleet.models import ChargingSession, PlanStatus, RoutePlan, RouteStop, Vehicle, VehicleDay
from fleet.scope import Scope, list_rows
from fleet.telematics.ingest import SOURCE


@dataclass(frozen=True)
class Reconciliation:
    vehicle_id: int
    plate: str
    day: dt.date
    km_odometer: float
    km_planned: float | None
    kwh_vehicle: float | None
    kwh_charger: float | None
    problems: tuple[str, ...]
    grade: str
    vehicle_day_id: int

    @property
    def km_ratio(self) -> float | None:
        return self.km_odometer / self.km_planned if self.km_planned else None

    @property
    def efficiency(self) -> float | None:
        return (
            self.kwh_vehicle / self.kwh_charger if self.kwh_charger and self.kwh_vehicle is not None else None
        )


def grade_of(
    km_odometer: float,
    km_planned: float | None,
    kwh_vehicle: float | None,
    kwh_charger: float | None,
    km_tolerance: float = 0.20,
    efficiency_range: tuple[float, float] = (0.80, 1.02),
) -> tuple[tuple[str, ...], str]:
    """(problem codes, grade) of one truck-day (pure)."""
    problems, counterparts = [], 0
    if km_planned:
        counterparts += 1
        if abs(km_odometer - km_planned) > km_tolerance * km_planned:
            problems.append("km_vs_plan")
    if kwh_charger and kwh_vehicle is not None:
        counterparts += 1
        low, high = efficiency_range
        if not low <= kwh_vehicle / kwh_charger <= high:
            problems.append("kwh_vs_charger")
    if problems:
        return tuple(problems), "disagrees"
    return (), {2: "reconciled", 1: "partly reconciled"}.get(counterparts, "unreconciled")


def reconcile(session: Session, scope: Scope, period: Period) -> list[Reconciliation]:
    """Every telematics vehicle-day of the scope in `period`, reconciled."""
    rows = list_rows(
        session,
        scope,
        VehicleDay,
        VehicleDay.source == SOURCE,
        VehicleDay.day >= period.start,
        VehicleDay.day <= period.end,
    )
    if not rows:
        return []
    plates = {v.id: v.plate for v in list_rows(session, scope, Vehicle)}
    planned: dict[tuple[int, dt.date], float] = defaultdict(float)
    plans = {
        p.id: p.service_date
        for p in list_rows(
            session,
            scope,
            RoutePlan,
            RoutePlan.status == PlanStatus.CURRENT,
            RoutePlan.service_date >= period.start,
            RoutePlan.service_date <= period.end,
        )
    }
    if plans:
        for stop in list_rows(session, scope, RouteStop, RouteStop.plan_id.in_(plans)):  # type: ignore[attr-defined]
            planned[(stop.vehicle_id, plans[stop.plan_id])] += stop.km_from_previous
    charger: dict[tuple[int, dt.date], float] = defaultdict(float)
    for s in list_rows(session, scope, ChargingSession):
        if s.ended_at is not None and period.contains(s.ended_at.date()):
            charger[(s.vehicle_id, s.ended_at.date())] += s.kwh
    for other in list_rows(
        session,
        scope,
        VehicleDay,
        VehicleDay.source != SOURCE,
        VehicleDay.day >= period.start,
        VehicleDay.day <= period.end,
    ):
        if other.kwh_charger is not None:
            charger[(other.vehicle_id, other.day)] += other.kwh_charger
    out = []
    for row in rows:
        key = (row.vehicle_id, row.day)
        problems, grade = grade_of(row.km, planned.get(key), row.kwh_vehicle, charger.get(key))
        out.append(
            Reconciliation(
                row.vehicle_id,
                plates.get(row.vehicle_id, f"vehicle#{row.vehicle_id}"),
                row.day,
                row.km,
                planned.get(key),
                row.kwh_vehicle,
                charger.get(key),
                problems,
                grade,
                row.id,  # type: ignore[arg-type]
            )
        )
    return sorted(out, key=lambda r: (r.plate, r.day))


def reconciliation_flags(items: list[Reconciliation]) -> list[RowFlag]:
    """Data-quality flags of the disagreeing days, for the emissions report (`extra_flags`)."""
    flags = []
    for r in items:
        for code in r.problems:
            detail = (
                f"{r.km_odometer:.1f} km metered vs {r.km_planned:.1f} km planned"
                if code == "km_vs_plan"
                else f"{r.kwh_vehicle:.1f} kWh into the pack vs {r.kwh_charger:.1f} kWh at the chargers"
            )
            flags.append(
                RowFlag(
                    f"vehicleday#{r.vehicle_day_id}", r.plate, r.day, code, f"{FLAG_CODES[code]}: {detail}"
                )
            )
    return flags
