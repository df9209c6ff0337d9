"""Route planner: the plan details say which road network produced the plan's travel matrices, in English and
Chinese; a plan stored before it was recorded says so."""

from __future__ import annotations

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.models import Depot, RoutePlan
from tests.app.conftest import PLANNED_DEPOT, SERVICE_DATE, AppRunner, url_of

pytestmark = pytest.mark.slow

OSM_INFO = {
    "provider": "osm",
    "source": "shenzhen.osm.pbf",
    "sha256": "0123456789abcdef" * 4,
    "nodes": 123456,
    "edges": 250000,
    "truck_max_kmh": 80.0,
}


def _open(run_app: AppRunner, engine: Engine, locale: str | None = None):  # type: ignore[no-untyped-def]
    at = run_app(url_of(engine), "routes")
    if locale:
        at.selectbox(key="locale_choice").set_value(locale).run()
    at.selectbox(key="routes_depot").set_value(PLANNED_DEPOT).run()
    at.date_input(key=f"routes_date_{PLANNED_DEPOT}").set_value(SERVICE_DATE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _set_network(engine: Engine, info: dict | None) -> None:
    with Session(engine) as s:
        depot = s.exec(select(Depot).where(Depot.code == PLANNED_DEPOT)).one()
        for plan in s.exec(select(RoutePlan).where(RoutePlan.depot_id == depot.id)).all():
            plan.road_network = info
            s.add(plan)
        s.commit()
    st.cache_data.clear()  # the page caches the published plan's view (app_pages._data)


def _matrices_label(at) -> str:  # type: ignore[no-untyped-def]
    labels = [e.label for e in at.expander if "matrices" in e.label or "矩阵" in e.label]
    assert len(labels) == 1, [e.label for e in at.expander]
    return labels[0]


def test_plan_details_name_the_road_network(run_app: AppRunner, planned_copy: Engine) -> None:
    # The nightly run recorded the default model.
    at = _open(run_app, planned_copy)
    assert _matrices_label(at) == (
        "Travel matrices: great circle × 1.30 road detour at 25 km/h (no road network)"
    )
    _set_network(planned_copy, OSM_INFO)
    at = _open(run_app, planned_copy)
    assert _matrices_label(at) == (
        "Travel matrices: OpenStreetMap extract shenzhen.osm.pbf (SHA-256 0123456789ab…, 123,456 nodes), "
        "trucks capped at 80 km/h"
    )
    assert any(j.value and "shenzhen.osm.pbf" in str(j.value) for j in at.json)
    at = _open(run_app, planned_copy, "zh_CN")
    assert _matrices_label(at) == (
        "行驶距离与时间矩阵：OpenStreetMap 路网文件 shenzhen.osm.pbf（SHA-256 0123456789ab…，123,456 个节点），"
        "货车限速 80 km/h"
    )
    _set_network(planned_copy, None)
    at = _open(run_app, planned_copy)
    assert (
        _matrices_label(at)
        == "Travel matrices: not recorded (stored before it was recorded: the great-circle model)"
    )
