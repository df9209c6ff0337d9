"""Pickers several pages share: the scope's depots with the dates they have orders for, and the default date."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, select

from fleet.models import Depot, Lessee, Order
from fleet.scope import list_rows, select_rows
from fleet.services.scope import in_scope

__all__ = ["DepotOption", "default_service_date", "depot_options"]


@dataclass(frozen=True)
class DepotOption:
    """A depot of the scope and the service dates it has orders for."""

    code: str
    name: str
    lessee: str
    order_dates: tuple[dt.date, ...]

    @property
    def label(self) -> str:
        return f"{self.code} · {self.name} ({self.lessee})"


def depot_options(session: Session, lessee_code: str | None) -> list[DepotOption]:
    """The depots in scope, each with the dates it has orders for (the dates worth planning)."""
    scope = in_scope(session, lessee_code)
    lessees = {le.id: le.code for le in list_rows(session, scope, Lessee)}
    dates: dict[int, set[dt.date]] = defaultdict(set)
    scoped = select_rows(scope, Order).whereclause  # the scope's own rule, applied to a projection
    query = select(Order.depot_id, Order.service_date).where(scoped).distinct()
    for depot_id, day in session.exec(query).all():
        dates[depot_id].add(day)
    return [
        DepotOption(
            d.code,
            d.name,
            lessees.get(d.lessee_id, "lessor") if d.lessee_id else "lessor",
            tuple(sorted(dates.get(d.id, ()))),
        )
        for d in list_rows(session, scope, Depot, order_by=Depot.code)
    ]


def default_service_date(option: DepotOption | None, today: dt.date) -> dt.date:
    """The first date after `today` with orders (tomorrow's plan), else the last date with orders, else tomorrow."""
    tomorrow = today + dt.timedelta(days=1)
    if option is None or not option.order_dates:
        return tomorrow
    later = [d for d in option.order_dates if d >= tomorrow]
    return later[0] if later else option.order_dates[-1]
