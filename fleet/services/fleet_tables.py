"""Fleet & leases page, paged: the vehicles and leases tables one page at a time with filters and totals in SQL.

A lessor has 80,000 trucks and leases (issue 24): the page never loads a whole table into Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlmodel import Session, select

from fleet.models import Depot, Lease, Lessee, Vehicle, VehicleModel, VehicleStatus
from fleet.scope import Scope, list_rows, select_rows
from fleet.services.fleet_leases import LEASE_COLUMNS, VEHICLE_COLUMNS, _lookups
from fleet.services.scope import in_scope

PAGE_SIZE = (
    100  # rows per page of the Fleet & leases tables (a lessor has 80,000 trucks and leases, issue 24)
)


@dataclass(frozen=True)
class TablePage:
    """One page of a filtered table: its rows, how many rows match the filters and how many the scope has,
    and the sum of the matching leases' monthly rent [CNY] (leases only). Counts and sums come from SQL."""

    frame: pd.DataFrame
    matched: int
    total: int
    page: int  # 1-based
    pages: int
    rent_cny: float = 0.0
    page_size: int = PAGE_SIZE


def _contains(columns: tuple[Any, ...], text: str) -> Any:
    """Case-insensitive substring match on any of the columns (LIKE with escaped wildcards)."""
    import sqlalchemy as sa

    needle = text.strip().lower()
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.or_(*[sa.func.lower(c).like(f"%{escaped}%", escape="\\") for c in columns])


def _page_bounds(matched: int, page: int, page_size: int) -> tuple[int, int]:
    pages = max(1, -(-matched // page_size))
    return min(max(1, page), pages), pages


def _code_ids(session: Session, scope: Scope, model: type, codes: tuple[str, ...] | list[str]) -> list[int]:
    if not codes:
        return []
    return [r.id for r in list_rows(session, scope, model, model.code.in_(list(codes)))]  # type: ignore[attr-defined]


def vehicles_page(
    session: Session,
    lessee_code: str | None,
    *,
    lessees: list[str] | tuple[str, ...] = (),
    depots: list[str] | tuple[str, ...] = (),
    models: list[str] | tuple[str, ...] = (),
    statuses: list[str] | tuple[str, ...] = (),
    text: str = "",
    page: int = 1,
    page_size: int | None = None,
) -> TablePage:
    """One page of the vehicles in scope (by plate) matching the filters: WHERE, COUNT, LIMIT/OFFSET in SQL, so
    80,000 trucks are never read for a page of 100 (`vehicles_frame` holds the same columns for all)."""
    import sqlalchemy as sa

    page_size = page_size or PAGE_SIZE
    scope = in_scope(session, lessee_code)
    where: list[Any] = []
    if lessees:
        where.append(Vehicle.lessee_id.in_(_code_ids(session, scope, Lessee, lessees)))  # type: ignore[union-attr]
    if depots:
        where.append(Vehicle.depot_id.in_(_code_ids(session, scope, Depot, depots)))  # type: ignore[union-attr]
    if models:
        ids = [m.id for m in session.exec(select(VehicleModel).where(VehicleModel.code.in_(list(models))))]  # type: ignore[attr-defined]
        where.append(Vehicle.model_id.in_(ids))  # type: ignore[attr-defined]
    if statuses:
        where.append(Vehicle.status.in_([VehicleStatus(s) for s in statuses]))  # type: ignore[attr-defined]
    if text.strip():
        where.append(_contains((Vehicle.plate, Vehicle.vin), text))
    count = lambda *w: session.execute(  # noqa: E731
        sa.select(sa.func.count()).select_from(select_rows_subquery(scope, Vehicle, *w))
    ).scalar_one()
    total, matched = count(), count(*where) if where else None
    matched = total if matched is None else matched
    page, pages = _page_bounds(matched, page, page_size)
    rows = session.exec(
        select_rows(scope, Vehicle, *where)
        .order_by(Vehicle.plate)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    lookups = _page_lookups(session, scope)
    frame = pd.DataFrame(
        [
            {
                "plate": v.plate,
                "vin": v.vin,
                "model": lookups.models[v.model_id].code,
                "kind": lookups.models[v.model_id].kind.value,
                "depot": lookups.depots.get(v.depot_id, "") if v.depot_id else "",
                "lessee": lookups.lessees.get(v.lessee_id, ""),
                "status": v.status.value,
                "commissioned_on": v.commissioned_on,
            }
            for v in rows
        ],
        columns=VEHICLE_COLUMNS,
    )
    return TablePage(frame, int(matched), int(total), page, pages, 0.0, page_size)


@dataclass(frozen=True)
class _Lookups:
    lessees: dict[int, str]
    depots: dict[int, str]
    models: dict[int, VehicleModel]


def _page_lookups(session: Session, scope: Scope) -> _Lookups:
    """Codes of the scope's lessees and depots (1,000 depots at most) and the shared models."""
    lessees, depots, models = _lookups(session, scope)
    return _Lookups(lessees, depots, models)


def leases_page(
    session: Session,
    lessee_code: str | None,
    today: dt.date,
    *,
    lessees: list[str] | tuple[str, ...] = (),
    depots: list[str] | tuple[str, ...] = (),
    active_only: bool = False,
    text: str = "",
    page: int = 1,
    page_size: int | None = None,
) -> TablePage:
    """One page of the leases in scope (by code) matching the filters, with the matching leases' rent summed in
    SQL; the plate and depot come from the lease's vehicle (one join)."""
    import sqlalchemy as sa

    page_size = page_size or PAGE_SIZE
    scope = in_scope(session, lessee_code)
    vehicle = sa.orm.aliased(Vehicle)
    where: list[Any] = []
    if lessees:
        where.append(Lease.lessee_id.in_(_code_ids(session, scope, Lessee, lessees)))  # type: ignore[union-attr]
    if depots:
        where.append(vehicle.depot_id.in_(_code_ids(session, scope, Depot, depots)))  # type: ignore[union-attr]
    if active_only:
        where += [Lease.start_date <= today, Lease.end_date >= today]
    if text.strip():
        where.append(_contains((Lease.code, vehicle.plate), text))
    base = select_rows(scope, Lease).outerjoin(vehicle, vehicle.id == Lease.vehicle_id)
    total = session.execute(
        sa.select(sa.func.count()).select_from(select_rows_subquery(scope, Lease))
    ).scalar_one()
    owned = select_rows(scope, Lease).whereclause
    counted = session.execute(
        sa.select(sa.func.count(Lease.id), sa.func.coalesce(sa.func.sum(Lease.monthly_rent_fen), 0))
        .select_from(Lease)
        .outerjoin(vehicle, vehicle.id == Lease.vehicle_id)
        .where(owned, *where)
    ).one()
    matched, rent_fen = int(counted[0]), int(counted[1])
    page, pages = _page_bounds(matched, page, page_size)
    rows = session.execute(
        base.where(*where)
        .add_columns(vehicle.plate, vehicle.depot_id)
        .order_by(Lease.code)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    lookups = _page_lookups(session, scope)
    frame = pd.DataFrame(
        [
            {
                "code": le.code,
                "plate": plate or "",
                "lessee": lookups.lessees.get(le.lessee_id, ""),
                "depot": lookups.depots.get(depot_id, "") if depot_id else "",
                "start_date": le.start_date,
                "end_date": le.end_date,
                "active": le.start_date <= today <= le.end_date,
                "monthly_rent_cny": le.monthly_rent_fen / 100,
                "deposit_cny": le.deposit_fen / 100,
                "purchase_price_cny": le.purchase_price_fen / 100,
                "residual_value_cny": le.residual_value_fen / 100,
                "replaced_diesel_model": lookups.models[le.replaced_diesel_model_id].code
                if le.replaced_diesel_model_id in lookups.models
                else "",
                "loan_annual_rate": float(le.loan_annual_rate),
                "loan_term_months": le.loan_term_months,
                "expected_km_per_year": le.expected_km_per_year,
                "emissions_claimant": le.emissions_claimant.value,
            }
            for le, plate, depot_id in rows
        ],
        columns=LEASE_COLUMNS,
    )
    return TablePage(frame, matched, int(total), page, pages, rent_fen / 100, page_size)


def select_rows_subquery(scope: Scope, model: type, *where: Any) -> Any:
    """The scope's rows of `model` matching `where`, as a subquery of their ids (for COUNT)."""
    return select_rows(scope, model, *where).with_only_columns(model.id).subquery()  # type: ignore[attr-defined]


def plate_in_scope(session: Session, lessee_code: str | None, plate: str) -> bool:
    """Whether the plate names a vehicle in scope (the lease form takes a typed plate, not a list of 80,000)."""
    scope = in_scope(session, lessee_code)
    return session.exec(select_rows(scope, Vehicle, Vehicle.plate == plate.strip())).first() is not None
