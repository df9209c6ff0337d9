"""Route planner: the plan details say which road network produced the plan's travel matrices, in English and
Chinese; a plan stored before it was recorded says so."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tests.app._plan_details import open_route_planner, set_plan_record
from tests.app.conftest import AppRunner

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
    return open_route_planner(run_app, engine, locale)


def _set_network(engine: Engine, value: dict | None) -> None:
    set_plan_record(engine, "road_network", value)


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
