"""Database edge of the emissions package: the factor table, and table rows turned into plain records.

All reads go through `fleet.scope`, so a lessee's report can only see its own vehicles. Party ids in the
records are the lessee and lessor *codes* (what the CLI takes); vehicle ids are plates.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from sqlmodel import Session

from fleet.emissions.calc import Period
from fleet.emissions.quality import FLAG_CODES, RowFlag
from fleet.emissions.records import Lease, LeaseBook, Party, VehicleDay
from fleet.factors import Factor, FactorError, FactorRegistry
from fleet.models import (
    ChargingPlan,
    ChargingSession,
    ChargingSlot,
    Claimant,
    Connector,
    Depot,
    EmissionFactor,
    Lessee,
    Lessor,
    PlanStatus,
    RoutePlan,
    RouteStop,
    Vehicle,
    VehicleModel,
)
from fleet.models import Lease as LeaseRow
from fleet.models import VehicleDay as VehicleDayRow
from fleet.scope import Scope, add_rows, list_rows, select_rows

# ---------------------------------------------------------------------------------------------- factor table


@dataclass(frozen=True)
class FactorLoadResult:
    inserted: int
    unchanged: int


def _factor_from_row(row: EmissionFactor) -> Factor:
    return Factor(
        key=row.key,
        value=float(row.value),
        unit=row.unit,
        data_year=row.data_year,
        scope=row.scope,
        region=row.region,
        source=row.source,
        confidence=row.confidence,
        note=row.note,
    )


def load_factor_table(session: Session, scope: Scope, registry: FactorRegistry) -> FactorLoadResult:
    """Insert the registry's new keys; a key already stored with another value or source is refused, never updated.

    Needs the lessor's scope (the factor table is shared reference data).
    """
    stored = {row.key: row for row in list_rows(session, scope, EmissionFactor)}
    fresh, unchanged, clashes = [], 0, []
    for factor in registry:
        row = stored.get(factor.key)
        if row is None:
            fresh.append(
                EmissionFactor(
                    key=factor.key,
                    value=Decimal(repr(factor.value)),
                    unit=factor.unit,
                    data_year=factor.data_year,
                    scope=factor.scope,
                    region=factor.region,
                    source=factor.source,
                    confidence=factor.confidence,
                    note=factor.note,
                )
            )
        elif _factor_from_row(row) == factor:
            unchanged += 1
        else:
            clashes.append(
                f"{factor.key}: stored {float(row.value)} {row.unit} ({row.confidence}), "
                f"file has {factor.value} {factor.unit} ({factor.confidence})"
            )
    if clashes:
        raise FactorError(
            "factors are never edited in place; add a new key instead. Changed: " + "; ".join(clashes)
        )
    add_rows(session, scope, fresh)
    session.flush()
    return FactorLoadResult(inserted=len(fresh), unchanged=unchanged)


def registry_from_table(session: Session, scope: Scope) -> FactorRegistry:
    return FactorRegistry(_factor_from_row(r) for r in list_rows(session, scope, EmissionFactor))


# ---------------------------------------------------------------------------------------------------- leases


@dataclass(frozen=True)
class LeaseProblem:
    lease_code: str
    plate: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"lease": self.lease_code, "plate": self.plate, "reason": self.reason}


@dataclass(frozen=True)
class DbContext:
    """Lookups shared by the readers: ids to codes and plates."""

    book: LeaseBook
    lease_problems: tuple[LeaseProblem, ...]
    plates: dict[int, str]
    vehicle_ids: dict[str, int]
    lessee_codes: dict[int, str]
    depot_codes: dict[int, str]
    lessor_code: str
    models: dict[int, VehicleModel]
    vehicle_models: dict[int, int]
    depot_efficiency: dict[int, float]


def read_context(session: Session, scope: Scope, vehicle_ids: list[int] | None = None) -> DbContext:
    """Leases with their vehicle, model, replaced diesel model, parties and depot, as a LeaseBook.

    charging_efficiency: the lowest `Connector.efficiency` of the vehicle's depot (conservative: the lower it is,
    the more grid kWh a vehicle-side reading implies). The schema has no per-lease or per-vehicle efficiency.
    `vehicle_ids`: only these vehicles, their leases and their depots' connectors (`fleet.emissions.monthly`
    screens a few vehicle-months of a large lessor day by day); the same book restricted to them.
    """
    lessor = list_rows(session, scope, Lessor)[0]
    lessees = {lessee.id: lessee for lessee in list_rows(session, scope, Lessee)}
    depots = {d.id: d for d in list_rows(session, scope, Depot)}
    only = () if vehicle_ids is None else (Vehicle.id.in_(vehicle_ids),)  # type: ignore[union-attr]
    vehicles = {v.id: v for v in list_rows(session, scope, Vehicle, *only)}
    models = {m.id: m for m in list_rows(session, scope, VehicleModel)}
    efficiency: dict[int, float] = {}
    depot_filter = (
        ()
        if vehicle_ids is None
        else (Connector.depot_id.in_({v.depot_id for v in vehicles.values() if v.depot_id}),)  # type: ignore[attr-defined]
    )
    for c in list_rows(session, scope, Connector, *depot_filter):
        efficiency[c.depot_id] = min(efficiency.get(c.depot_id, 1.0), c.efficiency)
    leases, problems = [], []
    lease_filter = () if vehicle_ids is None else (LeaseRow.vehicle_id.in_(vehicle_ids),)  # type: ignore[attr-defined]
    for row in list_rows(session, scope, LeaseRow, *lease_filter, order_by=LeaseRow.code):
        vehicle = vehicles.get(row.vehicle_id)
        if vehicle is None:
            continue
        model = models.get(vehicle.model_id)
        diesel = models.get(row.replaced_diesel_model_id) if row.replaced_diesel_model_id else None
        if diesel is None or not diesel.diesel_l_per_100km:
            problems.append(
                LeaseProblem(
                    row.code,
                    vehicle.plate,
                    "no replaced diesel model with L/100 km on the "
                    "lease: no baseline, its vehicle-days are not counted",
                )
            )
            continue
        lessee = lessees.get(row.lessee_id) if row.lessee_id else None
        if lessee is None:
            problems.append(LeaseProblem(row.code, vehicle.plate, "lease has no lessee"))
            continue
        leases.append(
            Lease(
                lease_id=row.code,
                vehicle_id=vehicle.plate,
                lessee_id=lessee.code,
                lessor_id=lessor.code,
                start=row.start_date,
                end=row.end_date,
                baseline_model=f"{diesel.code} ({diesel.name})",
                baseline_l_per_100km=diesel.diesel_l_per_100km,
                claimant="lessor" if row.emissions_claimant == Claimant.LESSOR else "lessee",
                depot_id=depots[vehicle.depot_id].code if vehicle.depot_id in depots else "",
                plate=vehicle.plate,
                vin=vehicle.vin,
                ev_model=f"{model.code} ({model.name})" if model else "",
                battery_kwh=model.battery_kwh if model else None,
                charging_efficiency=efficiency.get(vehicle.depot_id) if vehicle.depot_id else None,
                investment_cny=row.purchase_price_fen / 100.0,
            )
        )
    parties = {lessor.code: Party(lessor.code, lessor.name, "Shenzhen")}
    for lessee in lessees.values():
        districts = sorted({d.district for d in depots.values() if d.lessee_id == lessee.id and d.district})
        parties[lessee.code] = Party(
            lessee.code,
            lessee.name,
            "Shenzhen" + (f" ({', '.join(districts)})" if districts else ""),
            lessee.unified_social_credit_code or "",
        )
    return DbContext(
        book=LeaseBook(tuple(leases), parties),
        lease_problems=tuple(problems),
        plates={v.id: v.plate for v in vehicles.values()},
        vehicle_ids={v.plate: v.id for v in vehicles.values()},
        lessee_codes={lessee.id: lessee.code for lessee in lessees.values()},
        depot_codes={d.id: d.code for d in depots.values()},
        lessor_code=lessor.code,
        models=models,
        vehicle_models={v.id: v.model_id for v in vehicles.values()},
        depot_efficiency=efficiency,
    )


# --------------------------------------------------------------------------------------------- metered data


def read_metered(session: Session, scope: Scope, ctx: DbContext, period: Period) -> list[VehicleDay]:
    """Metered vehicle-days in the period; charging sessions fill a missing charger reading.

    Sessions count on the local (Asia/Shanghai) date they end, so an overnight charge belongs to the day it
    powers (as a ChargingPlan belongs to its service date). A day's `kwh_charger` from the trip record wins
    over sessions, so energy is never counted from both.
    """
    return read_metered_with_flags(session, scope, ctx, period)[0]


def read_metered_with_flags(
    session: Session, scope: Scope, ctx: DbContext, period: Period, vehicle_ids: list[int] | None = None
) -> tuple[list[VehicleDay], list[RowFlag]]:
    """As `read_metered`, plus a flag for each vehicle-day with charging sessions but no trip record: that
    energy has no distance (hence no baseline) and is left out, visibly. `vehicle_ids`: only these vehicles."""
    sessions: dict[tuple[int, dt.date], float] = defaultdict(float)
    session_refs: dict[tuple[int, dt.date], list[str]] = defaultdict(list)
    only_sessions = () if vehicle_ids is None else (ChargingSession.vehicle_id.in_(vehicle_ids),)  # type: ignore[attr-defined]
    only_days = () if vehicle_ids is None else (VehicleDayRow.vehicle_id.in_(vehicle_ids),)  # type: ignore[attr-defined]
    for s in list_rows(session, scope, ChargingSession, *only_sessions):
        day = s.ended_at.date()
        if period.contains(day):
            sessions[(s.vehicle_id, day)] += s.kwh
            session_refs[(s.vehicle_id, day)].append(str(s.id))
    records = []
    # Named columns, not ORM objects: a lessee's year is 146,000 rows at scale (docs/scale.md); same values.
    rows = session.execute(
        select_rows(
            scope,
            VehicleDayRow,
            VehicleDayRow.day >= period.start,
            VehicleDayRow.day <= period.end,
            *only_days,
        )
        .with_only_columns(
            VehicleDayRow.id,
            VehicleDayRow.import_batch_id,
            VehicleDayRow.vehicle_id,
            VehicleDayRow.lessee_id,
            VehicleDayRow.depot_id,
            VehicleDayRow.day,
            VehicleDayRow.km,
            VehicleDayRow.kwh_charger,
            VehicleDayRow.kwh_vehicle,
            VehicleDayRow.tonne_km,
            VehicleDayRow.diesel_litres,
        )
        .order_by(VehicleDayRow.id)
    ).all()
    for row in rows:
        ref = f"vehicleday#{row.id}" + (
            f" (import batch {row.import_batch_id})" if row.import_batch_id else ""
        )
        kwh_charger = row.kwh_charger
        if kwh_charger is None and (row.vehicle_id, row.day) in sessions:
            kwh_charger = sessions[(row.vehicle_id, row.day)]
            ref += f" + chargingsession#{','.join(session_refs[(row.vehicle_id, row.day)])}"
        records.append(
            VehicleDay(
                vehicle_id=ctx.plates.get(row.vehicle_id, f"vehicle#{row.vehicle_id}"),
                lessee_id=ctx.lessee_codes.get(row.lessee_id, "") if row.lessee_id else "",
                depot_id=ctx.depot_codes.get(row.depot_id, "") if row.depot_id else "",
                day=row.day,
                km=row.km,
                kwh_charger=kwh_charger,
                kwh_vehicle=row.kwh_vehicle,
                tonne_km=row.tonne_km,
                diesel_litres=row.diesel_litres,
                row_ref=ref,
            )
        )
    with_trip = {(row.vehicle_id, row.day) for row in rows}
    flags = [
        RowFlag(
            f"chargingsession#{','.join(session_refs[key])}",
            ctx.plates.get(key[0], f"vehicle#{key[0]}"),
            key[1],
            "charging_without_trip",
            f"{FLAG_CODES['charging_without_trip']}: {kwh:.1f} kWh not counted",
        )
        for key, kwh in sorted(sessions.items(), key=lambda kv: (ctx.plates.get(kv[0][0], ""), kv[0][1]))
        if key not in with_trip
    ]
    return records, flags


# ------------------------------------------------------------------------------------------------------ plans


def _routes_from_solution(solution: dict, ctx: DbContext) -> dict[int, tuple[float, float]]:
    """Vehicle id -> (km, driven kWh) summed over a stored routing solution's routes (`RoutingSolution.to_dict`).

    The pipeline stores per-route distance and energy there; its RouteStop rows carry no leg distances.
    Routes name the vehicle by plate in `vehicle_type` (or `vehicle_id` as 'plate#n').
    """
    found: dict[int, list[float]] = {}
    for route in solution.get("routes", []):
        plate = route.get("vehicle_type", "")
        if plate not in ctx.vehicle_ids:
            plate = str(route.get("vehicle_id", "")).split("#")[0]
        vehicle_id = ctx.vehicle_ids.get(plate)
        if vehicle_id is None or not route.get("stops"):
            continue
        entry = found.setdefault(vehicle_id, [0.0, 0.0])
        entry[0] += float(route.get("distance_km", 0.0))
        entry[1] += float(route.get("energy_kwh", 0.0))
    return {k: (v[0], v[1]) for k, v in found.items()}


def read_planned(session: Session, scope: Scope, ctx: DbContext, period: Period) -> list[VehicleDay]:
    """Ex-ante vehicle-days: current route and charging plans where they exist, else the lease's expectation.

    Route plans give km and driven kWh (the stored solution's routes, else Σ km_from_previous and the state of
    charge of the stops), and t·km where stops carry leg distances (load carried on each leg). The driven kWh,
    divided by the charging efficiency, is the day's grid energy: one night's charging plan refills the previous
    day and sets the next day's reserve, so it is not one day's consumption (on the demo's first planned day it
    was about twice the driven energy). The charging plan's grid kWh (Σ power × slot length) is used only for a
    routed day without driven energy. Days of a lease with no route plan take expected_km_per_year /
    days-in-year and the model's mean consumption (empty/full), as a planning figure.
    """
    planned: dict[tuple[int, dt.date], dict[str, float | str | None]] = {}
    route_plans = list_rows(
        session,
        scope,
        RoutePlan,
        RoutePlan.status == PlanStatus.CURRENT,
        RoutePlan.service_date >= period.start,
        RoutePlan.service_date <= period.end,
    )
    leased_plates = {lease.vehicle_id for lease in ctx.book.leases}
    for plan in route_plans:
        stops = list_rows(session, scope, RouteStop, RouteStop.plan_id == plan.id)
        by_vehicle: dict[int, list[RouteStop]] = defaultdict(list)
        for stop in stops:
            by_vehicle[stop.vehicle_id].append(stop)
        from_solution = _routes_from_solution(plan.solution or {}, ctx)
        for vehicle_id in sorted(set(by_vehicle) | set(from_solution)):
            if ctx.plates.get(vehicle_id) not in leased_plates:
                continue  # the lessee's own diesel trucks: no lease, no reduction to plan
            vstops = sorted(by_vehicle.get(vehicle_id, []), key=lambda s: s.sequence)
            leg_km = sum(s.km_from_previous for s in vstops)
            tkm = sum(prev.load_kg / 1000.0 * cur.km_from_previous for prev, cur in pairwise(vstops))
            if vehicle_id in from_solution:
                km, kwh_vehicle = from_solution[vehicle_id]
            else:
                km, kwh_vehicle = leg_km, None
                if (
                    vstops
                    and vstops[0].soc_departure_kwh is not None
                    and vstops[-1].soc_arrival_kwh is not None
                ):
                    kwh_vehicle = (
                        vstops[0].soc_departure_kwh
                        - vstops[-1].soc_arrival_kwh
                        + sum(s.charged_kwh for s in vstops)
                    )
            planned[(vehicle_id, plan.service_date)] = {
                "km": km,
                "tkm": tkm if leg_km > 0 else None,
                "kwh_vehicle": kwh_vehicle,
                "kwh_charger": None,
                "depot": ctx.depot_codes.get(plan.depot_id, ""),
                "ref": f"routeplan#{plan.id} v{plan.version}",
            }
    charging_plans = list_rows(
        session,
        scope,
        ChargingPlan,
        ChargingPlan.status == PlanStatus.CURRENT,
        ChargingPlan.service_date >= period.start,
        ChargingPlan.service_date <= period.end,
    )
    for plan in charging_plans:
        hours = plan.slot_minutes / 60.0
        energy: dict[int, float] = defaultdict(float)
        for slot in list_rows(session, scope, ChargingSlot, ChargingSlot.plan_id == plan.id):
            energy[slot.vehicle_id] += slot.power_kw * hours
        for vehicle_id, kwh in energy.items():
            entry = planned.get((vehicle_id, plan.service_date))
            if entry is not None and entry["kwh_vehicle"] is None:
                entry["kwh_charger"] = kwh
                entry["ref"] = f"{entry['ref']} + chargingplan#{plan.id} v{plan.version}"

    records = []
    for (vehicle_id, day), e in sorted(
        planned.items(), key=lambda kv: (ctx.plates.get(kv[0][0], ""), kv[0][1])
    ):
        plate = ctx.plates.get(vehicle_id, f"vehicle#{vehicle_id}")
        lease = ctx.book.lease_on(plate, day)
        records.append(
            VehicleDay(
                plate,
                lease.lessee_id if lease else "",
                str(e["depot"]),
                day,
                float(e["km"]),
                kwh_charger=e["kwh_charger"],
                kwh_vehicle=e["kwh_vehicle"],
                tonne_km=None if e["tkm"] is None else float(e["tkm"]),
                row_ref=str(e["ref"]),
            )
        )

    lease_rows = {r.code: r for r in list_rows(session, scope, LeaseRow)}
    for lease in ctx.book.leases:
        row = lease_rows.get(lease.lease_id)
        vehicle_id = ctx.vehicle_ids.get(lease.vehicle_id)
        if row is None or not row.expected_km_per_year or vehicle_id is None:
            continue
        model = ctx.models.get(ctx.vehicle_models.get(vehicle_id, -1))
        if (
            model is None
            or model.consumption_kwh_per_km_empty is None
            or model.consumption_kwh_per_km_full is None
        ):
            continue
        per_km = (model.consumption_kwh_per_km_empty + model.consumption_kwh_per_km_full) / 2.0
        for day in period.days():
            if not lease.covers(day) or (vehicle_id, day) in planned:
                continue
            days_in_year = 366 if day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0) else 365
            km = row.expected_km_per_year / days_in_year
            records.append(
                VehicleDay(
                    lease.vehicle_id,
                    lease.lessee_id,
                    lease.depot_id,
                    day,
                    km,
                    kwh_vehicle=km * per_km,
                    row_ref=f"lease {lease.lease_id}: expected_km_per_year "
                    f"{row.expected_km_per_year:g}, model {model.code} mean consumption",
                )
            )
    return records
