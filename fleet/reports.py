"""Read-only summaries of the business for the CLI and the app (always through a scope)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, func, select

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
    models = {m.id: m for m in session.exec(select(VehicleModel)).all()}
    vehicles = list_rows(session, scope, Vehicle)
    leases = [le for le in list_rows(session, scope, Lease) if le.start_date <= today <= le.end_date]
    connectors = list_rows(session, scope, Connector)
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
    vehicle_depot = {v.id: v.depot_id for v in vehicles}
    rows = []
    for depot in list_rows(session, scope, Depot, order_by=Depot.code):
        fleet = [v for v in vehicles if v.depot_id == depot.id]
        ev = sum(1 for v in fleet if models[v.model_id].kind == VehicleKind.BEV)
        dl = [le for le in leases if vehicle_depot.get(le.vehicle_id) == depot.id]
        cons = [c for c in connectors if c.depot_id == depot.id]
        rows.append(
            DepotSummary(
                lessee=lessees.get(depot.lessee_id, "-"),
                depot=depot.code,
                depot_name=depot.name,
                electric_trucks=ev,
                diesel_trucks=len(fleet) - ev,
                active_leases=len(dl),
                monthly_rent_cny=sum(le.monthly_rent_fen for le in dl) / 100,
                connectors=len(cons),
                connector_kw=sum(c.max_kw for c in cons),
                grid_limit_kw=depot.grid_import_limit_kw,
                next_service_date=service_date,
                orders_next_day=orders_by_depot.get(depot.id, 0),
                km_30d=km.get(depot.id, (0.0, 0.0))[0],
                kwh_30d=km.get(depot.id, (0.0, 0.0))[1],
            )
        )
    return rows
