"""Route planner: the plan details say what else shaped the routes (speed profile, access zones, driver breaks,
trips; RoutePlan.routing_settings), in English and Chinese; a plan stored before 0018 says it was not recorded."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tests.app._plan_details import open_route_planner, set_plan_record
from tests.app.conftest import AppRunner

pytestmark = pytest.mark.slow

RECORD = {
    "speed_profile": {"name": "shenzhen-rush-hour", "periods": [[0.0, 1.0], [420.0, 0.8], [1020.0, 0.63]]},
    "zones": [{"name": "futian-green-logistics", "sha256": "ab" * 32}],
    "zones_sha256": "0123456789abcdef" * 4,
    "break_rule": {"max_driving_minutes": 240.0, "min_rest_minutes": 20.0},
    "max_trips": 2,
    "reload_minutes": 25.0,
    "depot_charge_kw": 120.0,
}


def _open(run_app: AppRunner, engine: Engine, locale: str | None = None):  # type: ignore[no-untyped-def]
    return open_route_planner(run_app, engine, locale)


def _set(engine: Engine, value: dict | None) -> None:
    set_plan_record(engine, "routing_settings", value)


def _settings(at):  # type: ignore[no-untyped-def]
    found = [e for e in at.expander if e.label.startswith(("Routing settings", "路线规划设置"))]
    assert len(found) == 1, [e.label for e in at.expander]
    return found[0].label, [m.value for m in found[0].markdown]


def test_plan_details_show_the_routing_settings(run_app: AppRunner, planned_copy: Engine) -> None:
    at = _open(run_app, planned_copy)  # the nightly recorded the depot's defaults: breaks off, one trip
    label, _lines = _settings(at)
    assert label == "Routing settings: no speed profile, 0 access zone(s), breaks off, 1 trip(s) per truck"
    _set(planned_copy, RECORD)
    label, lines = _settings(_open(run_app, planned_copy))
    assert label == "Routing settings: shenzhen-rush-hour, 1 access zone(s), breaks on, 2 trip(s) per truck"
    assert lines == [
        (
            "- Speed profile shenzhen-rush-hour (speed factor by time of day: from 00:00 ×1.00, "
            "from 07:00 ×0.80, from 17:00 ×0.63)"
        ),
        "- Access zones applied: futian-green-logistics (SHA-256 0123456789ab…)",
        "- Driver breaks: a rest of at least 20 min after at most 240 min of driving",
        "- Up to 2 trips per truck, 25 min per reload at the depot",
    ]
    label, lines = _settings(_open(run_app, planned_copy, "zh_CN"))
    assert label == "路线规划设置：shenzhen-rush-hour, 1 个限制区, 安排休息, 每车 2 趟"
    assert lines[2] == "- 驾驶员休息：连续驾驶不超过 240 分钟后休息至少 20 分钟"
    _set(planned_copy, None)
    label, lines = _settings(_open(run_app, planned_copy))
    assert label == "Routing settings: not recorded"
    assert lines == [
        "- not recorded (stored before these settings existed: free-flow travel, no zones, no breaks)"
    ]
