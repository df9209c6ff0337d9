"""The Route planner's re-plan panel (AppTest): a breakdown with a locked route, stored as a draft through
`fleet.planning.drafts.save_draft` (origin 'replan', author, reason), locks honoured, few moves."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.models import Order, RoutePlan, RouteStop, Vehicle
from fleet.planning.replan import replan
from fleet.services.replanning import ReplanRequestError, parse_now
from tests.app.conftest import PLANNED_DEPOT, SERVICE_DATE, AppRunner, url_of

pytestmark = pytest.mark.slow


def _routes(engine: Engine, version: int) -> dict[str, list[int | None]]:
    """{plate: [order id, ...] in driving order} of a stored version."""
    with Session(engine) as s:
        plan = s.exec(select(RoutePlan).where(RoutePlan.version == version)).one()
        rows = s.exec(
            select(RouteStop, Vehicle)
            .join(Vehicle, Vehicle.id == RouteStop.vehicle_id)
            .where(RouteStop.plan_id == plan.id, RouteStop.kind == "job")
            .order_by(RouteStop.vehicle_id, RouteStop.sequence)
        ).all()
    out: dict[str, list[int | None]] = {}
    for stop, vehicle in rows:
        out.setdefault(vehicle.plate, []).append(stop.order_id)
    return out


def test_breakdown_replan_keeps_the_locked_route_and_moves_few(
    run_app: AppRunner, planned_copy: Engine
) -> None:
    before = _routes(planned_copy, 1)
    broken, locked = sorted(before)[:2]
    at = run_app(url_of(planned_copy), "routes")
    at.selectbox(key="routes_depot").set_value(PLANNED_DEPOT).run()
    at.date_input(key=f"routes_date_{PLANNED_DEPOT}").set_value(SERVICE_DATE).run()
    at.multiselect(key="replan_unavailable").set_value([broken])
    at.multiselect(key="replan_lock_routes").set_value([locked])
    at.slider(key="replan_limit").set_value(1)
    at.text_input(key="replan_reason").input("breakdown").run()
    at.button(key="replan_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with Session(planned_copy) as s:
        draft = s.exec(select(RoutePlan).where(RoutePlan.version == 2)).one()
        published = s.exec(select(RoutePlan).where(RoutePlan.version == 1)).one()
    assert (draft.status.value, draft.origin, draft.author, draft.reason) == (
        "draft",
        "replan",
        "planner",
        "breakdown",
    )
    assert published.status.value == "current"  # a re-plan never publishes by itself
    after = _routes(planned_copy, 2)
    assert broken not in after and after[locked] == before[locked]
    moved = {o for p, orders in after.items() for o in orders if o not in before.get(p, [])}
    assert len(moved) <= len(before[broken]) + 2  # that truck's stops plus a few
    assert any("Re-planned draft version 2" in s.value for s in at.success)


def test_now_is_local_time_and_bad_input_is_named() -> None:
    assert parse_now(SERVICE_DATE, "") is None
    assert parse_now(SERVICE_DATE, "11:00").hour == 11  # type: ignore[union-attr]
    with pytest.raises(ReplanRequestError, match="11h"):
        parse_now(SERVICE_DATE, "11h")


def test_replan_from_a_draft_keeps_the_drafts_locked_route(run_app: AppRunner, planned_copy: Engine) -> None:
    """The planner re-plans a draft, not the published plan: a hand edit took an order off one truck (draft 2);
    the re-plan chosen on draft 2 with that route locked keeps the route as in the draft (without the order),
    not as published, and records draft 2 as its base."""
    from fleet.services import plan_versions as pv

    published = _routes(planned_copy, 1)
    edited, broken = sorted(published, key=lambda p: (-len(published[p]), p))[:2]
    with Session(planned_copy) as s:
        job = s.exec(select(Order).where(Order.id == published[edited][0])).one().external_ref
        with pytest.raises(ReplanRequestError, match="no route plan version 9"):
            replan(s, PLANNED_DEPOT, SERVICE_DATE, base_version=9)
    pv.save_edit(
        url_of(planned_copy),
        None,
        PLANNED_DEPOT,
        SERVICE_DATE,
        1,
        [{"op": "unassign", "job": job}],
        "ann",
        "hold",
    )
    draft = _routes(planned_copy, 2)
    assert draft[edited] == published[edited][1:]  # the draft differs from the published plan on that truck
    at = run_app(url_of(planned_copy), "routes")
    at.selectbox(key="routes_depot").set_value(PLANNED_DEPOT).run()
    at.date_input(key=f"routes_date_{PLANNED_DEPOT}").set_value(SERVICE_DATE).run()
    base = at.selectbox(key=f"replan_base_{PLANNED_DEPOT}_{SERVICE_DATE.isoformat()}")
    assert base.value == 1 and base.options == ["1 · published", "2 · draft"]  # the published plan by default
    base.set_value(2).run()
    at.multiselect(key="replan_unavailable").set_value([broken])
    at.multiselect(key="replan_lock_routes").set_value([edited])
    at.slider(key="replan_limit").set_value(1)
    at.text_input(key="replan_reason").input("breakdown on the draft").run()
    at.button(key="replan_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with Session(planned_copy) as s:
        third = s.exec(select(RoutePlan).where(RoutePlan.version == 3)).one()
    assert (third.status.value, third.origin, third.based_on_version) == ("draft", "replan", 2)
    after = _routes(planned_copy, 3)
    assert after[edited] == draft[edited] != published[edited]  # locked as in the draft, stop for stop
    assert broken not in after
