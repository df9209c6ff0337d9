"""Shared steps of the Route planner plan-details tests: open the page on the planned depot-day, and overwrite a
recorded column (road_network, routing_settings) of that depot's stored plans."""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.models import Depot, RoutePlan
from tests.app.conftest import PLANNED_DEPOT, SERVICE_DATE, AppRunner, url_of


def open_route_planner(run_app: AppRunner, engine: Engine, locale: str | None = None):  # type: ignore[no-untyped-def]
    at = run_app(url_of(engine), "routes")
    if locale:
        at.selectbox(key="locale_choice").set_value(locale).run()
    at.selectbox(key="routes_depot").set_value(PLANNED_DEPOT).run()
    at.date_input(key=f"routes_date_{PLANNED_DEPOT}").set_value(SERVICE_DATE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def set_plan_record(engine: Engine, column: str, value: Any) -> None:
    """Set `column` of every stored plan of the planned depot to `value` (None: a plan stored before it existed)."""
    with Session(engine) as s:
        depot = s.exec(select(Depot).where(Depot.code == PLANNED_DEPOT)).one()
        for plan in s.exec(select(RoutePlan).where(RoutePlan.depot_id == depot.id)).all():
            setattr(plan, column, value)
            s.add(plan)
        s.commit()
    st.cache_data.clear()  # the page caches the published plan's view (app_pages._data)
