"""Read-only summaries of the business for the CLI and the app (always through a scope)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, func

from fleet.models import (
    Connector,
    Depot,
    Lease,
    Lessee,
    Order,
    Vehicle,
    VehicleDay,
    VehicleKind,
    VehicleModel,
)
from fleet.scope import Scope, list_rows, select_rows


@dataclass(frozen=True)
class DepotSummary:
    lessee: str
    depot: str
    depot_name: str
    electric_trucks: int
    diesel_trucks: int
    active_leases: int
    monthly_rent_cny: float
    connectors: int
    connector_kw: float
    grid_limit_kw: float
    next_service_date: dt.date | None
    orders_next_day: int
    km_30d: float
    kwh_30d: float


def next_service_date(session: Session, scope: Scope, today: dt.date) -> dt.date | None:
    """The first date after `today` with orders, else the last date with orders (demo data are dated)."""
    later = session.exec(
        select_rows(scope, Order, Order.service_date > today).with_only_columns(func.min(Order.service_date))
    ).first()
    if later:
        return later
    return session.exec(select_rows(scope, Order).with_only_columns(func.max(Order.service_date))).first()


def fleet_summary(session: Session, scope: Scope, today: dt.date | None = None) -> list[DepotSummary]:
    """One row per depot in scope: fleet, leases, charging capacity, tomorrow's orders, metered last 30 days."""
    today = today or dt.date.today()
    lessees = {le.id: le.code for le in list_rows(session, scope, Lessee)}
    fleet = _fleet_by_depot(session, scope)
    leases = _active_leases_by_depot(session, scope, today)
    connectors: dict[int, list[float]] = defaultdict(list)
    for depot_id, max_kw in session.execute(
        select_rows(scope, Connector)
        .with_only_columns(Connector.depot_id, Connector.max_kw)
        .order_by(Connector.id)
    ).all():
        connectors[depot_id].append(max_kw)
    service_date = next_service_date(session, scope, today)
    orders_by_depot: dict[int, int] = defaultdict(int)
    if service_date is not None:
        q = (
            select_rows(scope, Order, Order.service_date == service_date)
            .with_only_columns(Order.depot_id, func.count())
            .group_by(Order.depot_id)
        )
        orders_by_depot.update(dict(session.execute(q).all()))
    since = today - dt.timedelta(days=30)
    metered = session.execute(
        select_rows(scope, VehicleDay, VehicleDay.day > since, VehicleDay.day <= today)
        .with_only_columns(VehicleDay.depot_id, func.sum(VehicleDay.km), func.sum(VehicleDay.kwh_charger))
        .group_by(VehicleDay.depot_id)
    ).all()
    km = {d: (k or 0.0, e or 0.0) for d, k, e in metered}
    rows = []
    for depot in list_rows(session, scope, Depot, order_by=Depot.code):
        ev, total = fleet.get(depot.id, (0, 0))
        n_leases, rent_fen = leases.get(depot.id, (0, 0))
        cons = connectors.get(depot.id, [])
        rows.append(
            DepotSummary(
                lessee=lessees.get(depot.lessee_id, "-"),
                depot=depot.code,
                depot_name=depot.name,
                electric_trucks=ev,
                diesel_trucks=total - ev,
                active_leases=n_leases,
                monthly_rent_cny=rent_fen / 100,
                connectors=len(cons),
                connector_kw=sum(cons),
                grid_limit_kw=depot.grid_import_limit_kw,
                next_service_date=service_date,
                orders_next_day=orders_by_depot.get(depot.id, 0),
                km_30d=km.get(depot.id, (0.0, 0.0))[0],
                kwh_30d=km.get(depot.id, (0.0, 0.0))[1],
            )
        )
    return rows


def _fleet_by_depot(session: Session, scope: Scope) -> dict[int, tuple[int, int]]:
    """Per depot: (battery-electric trucks, all trucks) in scope, counted in SQL (GROUP BY depot and kind)."""
    rows = session.execute(
        select_rows(scope, Vehicle)
        .join(VehicleModel, VehicleModel.id == Vehicle.model_id)
        .with_only_columns(Vehicle.depot_id, VehicleModel.kind, func.count())
        .group_by(Vehicle.depot_id, VehicleModel.kind)
    ).all()
    out: dict[int, tuple[int, int]] = {}
    for depot_id, kind, n in rows:
        ev, total = out.get(depot_id, (0, 0))
        out[depot_id] = (ev + (n if kind == VehicleKind.BEV else 0), total + n)
    return out


def _active_leases_by_depot(session: Session, scope: Scope, today: dt.date) -> dict[int, tuple[int, int]]:
    """Per depot of the leased truck (trucks in scope): (leases running on `today`, their monthly rent [fen])."""
    trucks = select_rows(scope, Vehicle).with_only_columns(Vehicle.id, Vehicle.depot_id).subquery()
    rows = session.execute(
        select_rows(scope, Lease, Lease.start_date <= today, Lease.end_date >= today)
        .join(trucks, trucks.c.id == Lease.vehicle_id)
        .with_only_columns(trucks.c.depot_id, func.count(), func.sum(Lease.monthly_rent_fen))
        .group_by(trucks.c.depot_id)
    ).all()
    return {depot_id: (int(n), int(rent or 0)) for depot_id, n, rent in rows}
