"""Per vehicle-day emissions, aggregation to months, years, vehicles, lessees, depots and lessors.

Everything is computed per vehicle-day and summed, so a lessee's annual figure is by construction the sum of
its vehicles and months, and the reduction is kept signed (a negative day is reported, not clipped).
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, fields
from datetime import date, timedelta

from fleet.emissions.profiles import (
    ResolvedProfile,
    baseline_distance_t,
    baseline_fuel_t,
    grid_energy_kwh,
    improvement_factor,
    leakage_t,
    project_t,
    reduction_t,
)
from fleet.emissions.records import Lease, VehicleDay

EX_POST = "ex-post"
EX_ANTE = "ex-ante"


# ------------------------------------------------------------------------------------------------------ periods
@dataclass(frozen=True)
class Period:
    """A calendar day, month or year: `label` is 2026-11-05, 2026-11 or 2026."""

    label: str
    granularity: str
    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def year(self) -> int:
        return self.start.year

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def parse_period(text: str) -> Period:
    """'2026', '2026-11' or '2026-11-05' to a Period; anything else is refused with the expected forms."""
    text = text.strip()
    if re.fullmatch(r"\d{4}", text):
        year = int(text)
        return Period(text, "year", date(year, 1, 1), date(year, 12, 31))
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if match:
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(f"period {text!r}: month must be 01-12")
        return Period(
            text, "month", date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        )
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"period {text!r} is not YYYY, YYYY-MM or YYYY-MM-DD") from None
    return Period(text, "day", day, day)


def period_label(day: date, granularity: str) -> str:
    if granularity == "day":
        return day.isoformat()
    if granularity == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if granularity == "year":
        return f"{day.year:04d}"
    raise ValueError(f"granularity must be day, month or year, got {granularity!r}")


# ------------------------------------------------------------------------------------------------- vehicle-days
@dataclass(frozen=True)
class DayResult:
    """One vehicle-day's emissions under one profile [t], with what it came from."""

    kind: str
    vehicle_id: str
    lease_id: str
    lessee_id: str
    lessor_id: str
    depot_id: str
    claimant_id: str
    day: date
    km: float
    grid_kwh: float
    tonne_km: float
    baseline_method: str
    baseline_litres: float
    ir_t: float
    baseline_t: float
    project_t: float
    leakage_t: float
    reduction_t: float
    baseline_ttw_t: float | None
    project_ttw_t: float | None
    grid_key: str
    row_ref: str
    energy_source: str = ""


ENERGY_CHARGER = "charger meter"
ENERGY_VEHICLE = "vehicle-side kWh / charging efficiency"


def compute_day(row: VehicleDay, lease: Lease, resolved: ResolvedProfile, kind: str = EX_POST) -> DayResult:
    """Baseline, project, leakage and reduction of one accepted vehicle-day (data/reference/METHODOLOGY.md §2.6)."""
    profile = resolved.profile
    method = profile.baseline_method
    if method == "auto":
        method = "fuel" if row.diesel_litres is not None else "distance"
    density = resolved.density.value
    if method == "fuel":
        if row.diesel_litres is None:
            raise ValueError(f"{row.row_ref or row.vehicle_id}: fuel-based baseline needs diesel_litres")
        litres = row.diesel_litres
        ir_t = 1.0
        baseline = baseline_fuel_t(litres, density, resolved.diesel_ef.value)
    else:
        litres = row.km * lease.baseline_l_per_100km / 100.0
        ir_t = 1.0
        if resolved.ir_per_year is not None:
            year_index = row.day.year - lease.first_service_year + 1
            ir_t = improvement_factor(resolved.ir_per_year.value, year_index, profile.ir_exponent_offset)
        baseline = baseline_distance_t(
            row.km, lease.baseline_l_per_100km, density, resolved.diesel_ef.value, ir_t
        )
    energy = grid_energy_kwh(row.kwh_charger, row.kwh_vehicle, lease.charging_efficiency)
    project = project_t(energy, resolved.grid_ef.value, resolved.tdl_multiplier)
    leakage = leakage_t(baseline, lease.leakage_fraction)
    baseline_ttw = project_ttw = None
    if resolved.ttw_diesel_ef is not None:
        baseline_ttw = baseline_fuel_t(litres, density, resolved.ttw_diesel_ef.value) * ir_t
        project_ttw = 0.0  # a battery-electric truck has no tank-to-wheel emissions (GLEC v3, data/reference/METHODOLOGY.md §2.5)
    return DayResult(
        kind=kind,
        vehicle_id=row.vehicle_id,
        lease_id=lease.lease_id,
        lessee_id=lease.lessee_id,
        lessor_id=lease.lessor_id,
        depot_id=row.depot_id or lease.depot_id,
        claimant_id=lease.claimant_id,
        day=row.day,
        km=row.km,
        grid_kwh=energy,
        tonne_km=row.tonne_km or 0.0,
        baseline_method=method,
        baseline_litres=litres,
        ir_t=ir_t,
        baseline_t=baseline,
        project_t=project,
        leakage_t=leakage,
        reduction_t=reduction_t(baseline, project, leakage),
        baseline_ttw_t=baseline_ttw,
        project_ttw_t=project_ttw,
        grid_key=resolved.grid_ef.key,
        row_ref=row.row_ref,
        energy_source=ENERGY_CHARGER if row.kwh_charger is not None else ENERGY_VEHICLE,
    )


# --------------------------------------------------------------------------------------------------- aggregation
@dataclass(frozen=True)
class Totals:
    """Sums over vehicle-days [km, kWh, t·km, L, t]; `vehicle_days` counts the days summed."""

    vehicle_days: int = 0
    km: float = 0.0
    grid_kwh: float = 0.0
    tonne_km: float = 0.0
    baseline_litres: float = 0.0
    baseline_t: float = 0.0
    project_t: float = 0.0
    leakage_t: float = 0.0
    reduction_t: float = 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def total(results: Iterable[DayResult]) -> Totals:
    """Sum in a fixed order (sorted by vehicle and day) so that re-runs give the same floating-point result."""
    acc = defaultdict(float)
    count = 0
    for r in sorted(results, key=lambda r: (r.vehicle_id, r.day, r.kind)):
        count += 1
        for name in (
            "km",
            "grid_kwh",
            "tonne_km",
            "baseline_litres",
            "baseline_t",
            "project_t",
            "leakage_t",
            "reduction_t",
        ):
            acc[name] += getattr(r, name)
    return Totals(vehicle_days=count, **acc)


def group_totals(
    results: Iterable[DayResult], key: Callable[[DayResult], Hashable]
) -> dict[Hashable, Totals]:
    """Totals per group, groups in sorted order."""
    groups: dict[Hashable, list[DayResult]] = defaultdict(list)
    for r in results:
        groups[key(r)].append(r)
    return {k: total(groups[k]) for k in sorted(groups)}


def by_vehicle_period(results: Iterable[DayResult], granularity: str) -> dict[Hashable, Totals]:
    """(vehicle id, period label) -> totals, for day, month or year."""
    return group_totals(results, lambda r: (r.vehicle_id, period_label(r.day, granularity)))


def by_period(results: Iterable[DayResult], granularity: str) -> dict[Hashable, Totals]:
    return group_totals(results, lambda r: period_label(r.day, granularity))


def by_lessee(results: Iterable[DayResult]) -> dict[Hashable, Totals]:
    return group_totals(results, lambda r: r.lessee_id)


def by_depot(results: Iterable[DayResult]) -> dict[Hashable, Totals]:
    return group_totals(results, lambda r: r.depot_id)


def by_lessor(results: Iterable[DayResult]) -> dict[Hashable, Totals]:
    return group_totals(results, lambda r: r.lessor_id)


def by_claimant(results: Iterable[DayResult]) -> dict[Hashable, Totals]:
    return group_totals(results, lambda r: r.claimant_id)


# --------------------------------------------------------------------------------------------------- intensity
def intensities(results: Iterable[DayResult], withheld: bool) -> dict[str, object]:
    """GHG intensities [gCO2e/t·km] over the vehicle-days that carry t·km (ISO 14083 Intensity_TOC, U).

    Only days with t·km > 0 enter numerator and denominator, so a day without payload data cannot dilute the
    figure; the coverage is stated. When the reduction is withheld (no WTW electricity factor) the electric
    trucks' WTW intensity is withheld too and the partial (generation CO2 only) figure is named as such.
    """
    all_rows = list(results)
    rows = [r for r in all_rows if r.tonne_km > 0]
    tkm = sum(r.tonne_km for r in rows)

    def g(value: float) -> float | None:
        return round(value * 1e6 / tkm, 6) if tkm > 0 else None

    baseline = sum(r.baseline_t for r in rows)
    project = sum(r.project_t for r in rows)
    ttw = [r.baseline_ttw_t for r in rows if r.baseline_ttw_t is not None]
    return {
        "vehicle_days_with_tonne_km": len(rows),
        "vehicle_days_without_tonne_km": len(all_rows) - len(rows),
        "tonne_km": round(tkm, 6),
        "baseline_g_per_tkm": g(baseline),
        "baseline_ttw_g_per_tkm": g(sum(ttw)) if ttw else None,
        "project_g_per_tkm": None if withheld else g(project),
        "project_ttw_g_per_tkm": 0.0 if ttw and tkm > 0 else None,
        "project_partial_generation_co2_g_per_tkm": g(project) if withheld else None,
        "grid_kwh_per_tkm": round(sum(r.grid_kwh for r in rows) / tkm, 6) if tkm > 0 else None,
    }
