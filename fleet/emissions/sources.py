"""Database edge of the emissions package: the factor table, and table rows turned into plain records.

All reads go through `fleet.scope`, so a lessee's report can only see its own vehicles. Party ids in the
records are the lessee and lessor *codes* (what the CLI takes); vehicle ids are plates.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session

from fleet.emissions.calc import Period
from fleet.emissions.plans import plan_days, plan_records, read_plan_rows
from fleet.emissions.quality import FLAG_CODES, RowFlag
from fleet.emissions.records import Lease, LeaseBook, Party, VehicleDay
from fleet.factors import Factor, FactorError, FactorRegistry
from fleet.models import (
    ChargingSession,
    Claimant,
    Connector,
    Depot,
    EmissionFactor,
    Lessee,
    Lessor,
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


def read_planned(session: Session, scope: Scope, ctx: DbContext, period: Period) -> list[VehicleDay]:
    """Ex-ante vehicle-days: current route and charging plans where they exist (`fleet.emissions.plans`: their km,
    driven kWh, t·km and, for a routed day without driven energy, the charging plan's grid kWh), else the lease's
    expectation: expected_km_per_year / days-in-year and the model's mean consumption (empty/full), as a planning
    figure. The lessor's table from SQL sums (`fleet.emissions.plan_ante`) computes the same plan days."""
    leased = {
        ctx.vehicle_ids[lease.vehicle_id] for lease in ctx.book.leases if lease.vehicle_id in ctx.vehicle_ids
    }
    planned = plan_days(read_plan_rows(session, scope, period), ctx.vehicle_ids, leased)
    records = plan_records(planned, ctx.plates, ctx.depot_codes, ctx.book)

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
