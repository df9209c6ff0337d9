"""Every page renders in Chinese (AppTest): translated titles, no placeholder left unfilled or mistyped."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from app_pages import PAGES
from fleet.i18n import _, use_locale
from tests.app.conftest import PLANNED_DEPOT, SERVICE_DATE, AppRunner, url_of

pytestmark = pytest.mark.slow


def test_every_page_renders_in_chinese(run_app: AppRunner, planned_engine: Engine) -> None:
    at = run_app(url_of(planned_engine))
    at.selectbox(key="locale_choice").set_value("zh_CN").run()
    for page in PAGES:
        if not page.default:
            at.switch_page(page.path).run()
        assert not at.exception, (page.path, [e.value for e in at.exception])
        with use_locale("zh_CN"):
            assert at.title[0].value == _(page.title) != page.title
        assert "{" not in " ".join(c.value for c in at.caption), page.path  # every placeholder filled


def test_charging_page_in_chinese_leads_with_readiness(run_app: AppRunner, planned_engine: Engine) -> None:
    at = run_app(url_of(planned_engine), "charging")
    at.selectbox(key="locale_choice").set_value("zh_CN").run()
    at.selectbox(key="charging_depot").set_value(PLANNED_DEPOT).run()
    at.date_input(key=f"charging_date_{PLANNED_DEPOT}").set_value(SERVICE_DATE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.markdown[0].value.startswith("**出车准备：")  # readiness before any cost figure
    ready = at.dataframe[0].value
    assert list(ready.columns[:3]) == ["车辆", "是否就绪", "出发"]
    assert set(ready["是否就绪"]) <= {"就绪", "电量不足"}
    labels = [m.label for m in at.metric]
    assert labels[:3] == ["充电费用 [元]", "电量电费 [元]", "需量电费（每夜分摊）[元]"]


def test_a_refused_edit_names_the_rule_in_chinese(run_app: AppRunner, planned_engine: Engine) -> None:
    """Route planner in zh-CN: an edit that breaks a time window is refused with the checker's violation in
    Chinese, naming the rule (时间窗) and the order, with the clock times."""
    from sqlmodel import Session, select

    from fleet.models import PlanStatus, RoutePlan
    from routing.solution import RoutingSolution
    from tests.app.test_plan_versions import window_breaking_move

    with Session(planned_engine) as s:
        plan = s.exec(select(RoutePlan).where(RoutePlan.status == PlanStatus.PUBLISHED)).one()
    edit, job = window_breaking_move(plan)
    at = run_app(url_of(planned_engine), "routes")
    at.selectbox(key="locale_choice").set_value("zh_CN").run()
    with use_locale("zh_CN"):  # AppTest formats select-box options in this thread: as the page does
        at.selectbox(key="routes_depot").set_value(PLANNED_DEPOT).run()
        at.date_input(key=f"routes_date_{PLANNED_DEPOT}").set_value(SERVICE_DATE).run()
        at.selectbox(key="routes_edit_truck").set_value(edit["truck"]).run()
        at.selectbox(key="routes_edit_job").set_value(job).run()
        stops = next(
            r
            for r in RoutingSolution.from_dict(dict(plan.solution)).routes
            if r.vehicle_type == edit["truck"]
        )
        at.number_input(key="routes_edit_position").set_value(len(stops.stops) + 1).run()  # last
        at.button(key="routes_edit_add").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(e.value.startswith("线路校验器拒绝") for e in at.error), [e.value for e in at.error]
    shown = [m.value for m in at.markdown if "时间窗：" in m.value]
    assert shown, [m.value for m in at.markdown]
    assert f"（订单 {job}）" in shown[0] and edit["truck"] in shown[0]
    assert "after window end" not in " ".join(m.value for m in at.markdown)
