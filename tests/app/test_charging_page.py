"""Charging page (AppTest) and its services: the stored night, baselines, Gantt bars, what-if not stored."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from fleet.models import ChargingPlan, ChargingSlot, Depot
from fleet.pipeline import current_charging_plan
from fleet.scope import scope_for
from fleet.services import charging as svc
from fleet.services import unit_of_work
from tests.app.conftest import PLANNED_DEPOT, SERVICE_DATE, AppRunner, url_of

pytestmark = pytest.mark.slow
WHATIF = "FormSubmitter:charging_whatif_form-Re-schedule (not stored)"


def _plan(engine: Engine) -> ChargingPlan:
    with Session(engine) as s:
        depot = s.exec(select(Depot).where(Depot.code == PLANNED_DEPOT)).one()
        plan = current_charging_plan(s, scope_for(s), depot.id, SERVICE_DATE)
        assert plan is not None
        s.expunge(plan)
        return plan


def _open(run_app: AppRunner, engine: Engine, **kw):  # type: ignore[no-untyped-def]
    at = run_app(url_of(engine), "charging", **kw)
    at.selectbox(key="charging_depot").set_value(PLANNED_DEPOT).run()
    at.date_input(key=f"charging_date_{PLANNED_DEPOT}").set_value(SERVICE_DATE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {m.label: m for m in at.metric}


def test_stored_night_shows_cost_savings_and_charts(run_app: AppRunner, planned_engine: Engine) -> None:
    at = _open(run_app, planned_engine, lessee="FRESH")
    plan = _plan(planned_engine)
    m = _metrics(at)
    assert m["Charging cost [CNY]"].value == f"{plan.total_cost_fen / 100:,.2f}"
    # Savings on the bill's basis: energy apart, and the night with the demand charge pro-rated (never a month's
    # demand charge booked on one night).
    unc, own = plan.baselines["uncontrolled"]["cost"], plan.solution["cost"]
    assert m["Energy saving vs uncontrolled [CNY]"].value == f"{unc['energy'] - own['energy']:,.2f}"
    night = unc["night_bill"] - own["night_bill"]
    assert m["Night saving vs uncontrolled [CNY]"].value == f"{night:,.2f}"
    assert m["Night saving vs uncontrolled [CNY]"].delta == f"{100 * night / unc['night_bill']:.1f} %"
    assert plan.demand_cost_fen == round(own["demand_night"] * 100)  # the stored night's demand is pro-rated
    assert m["Peak [kW]"].value == f"{plan.peak_kw:,.1f}"
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(specs) == 2 and "connector" in json.dumps(specs[0])
    load = json.dumps(specs[1])
    assert '"band"' in load and '"rule"' in load and "step-after" in load  # TOU bands, grid limit, load
    costs = at.table[0].value
    assert {"optimised", "uncontrolled", "earliest deadline first"} <= set(costs.index)


def test_gantt_bars_hold_the_stored_energy(planned_engine: Engine) -> None:
    with unit_of_work(url_of(planned_engine)) as s:
        stored = svc.current_charging_view(s, None, PLANNED_DEPOT, SERVICE_DATE)
    assert stored is not None
    plan = _plan(planned_engine)
    with Session(planned_engine) as s:
        slots = s.exec(select(ChargingSlot).where(ChargingSlot.plan_id == plan.id)).all()
    assert stored.view.bars["kwh"].sum() == pytest.approx(
        sum(x.power_kw for x in slots) * plan.slot_minutes / 60
    )
    connectors = {c["id"] for c in plan.problem["connectors"]}
    assert set(stored.view.bars["connector"]) <= connectors
    assert (stored.view.load["site_kw"] <= stored.view.grid_limit_kw + 1e-6).all()


def test_what_if_on_grid_limit_and_tariff_is_not_stored(run_app: AppRunner, planned_engine: Engine) -> None:
    plan = _plan(planned_engine)
    with Session(planned_engine) as s:
        before = s.exec(select(func.count()).select_from(ChargingPlan)).one()
    at = _open(run_app, planned_engine)
    limit = round(plan.peak_kw * 0.8)
    at.number_input(key="charging_wi_limit").set_value(float(limit))
    at.selectbox(key="charging_wi_tariff").set_value("sz_market_tou_2024")
    at.slider(key="charging_wi_seconds").set_value(2)
    at.button(key=WHATIF).click().run()
    assert not at.exception, [e.value for e in at.exception]
    compare = at.table[1].value
    assert compare.loc["peak [kW]", "stored plan"] == pytest.approx(plan.peak_kw)
    assert compare.loc["peak [kW]", "what-if"] <= limit + 1e-6
    assert any("tariff sz_market_tou_2024" in md.value for md in at.markdown)
    with Session(planned_engine) as s:
        assert s.exec(select(func.count()).select_from(ChargingPlan)).one() == before


def test_page_without_a_charging_plan_says_how_to_get_one(run_app: AppRunner, demo_engine: Engine) -> None:
    at = _open(run_app, demo_engine)
    assert any("No stored charging plan" in i.value for i in at.info)


def test_readiness_comes_first_and_agrees_with_the_plan(run_app: AppRunner, planned_engine: Engine) -> None:
    """Every truck's departure energy against its need, earliest departure first; the short ones are the plan's
    unmet trucks."""
    from charging.problem import ChargingProblem

    plan = _plan(planned_engine)
    problem = ChargingProblem.from_json(plan.problem)
    ready = svc.readiness(problem, plan.solution)
    assert list(ready["truck"]) == [v.id for v in sorted(problem.vehicles, key=lambda v: (v.departure, v.id))]
    assert set(ready.loc[ready["short [kWh]"] > 0, "truck"]) == {u["id"] for u in plan.unmet}
    planned = {v["id"]: v["energy_departure_kwh"] for v in plan.solution["vehicles"]}
    assert all(row["leaves with [kWh]"] == planned[row["truck"]] for _, row in ready.iterrows())
    at = _open(run_app, planned_engine, lessee="FRESH")
    assert any(m.value.startswith("**Readiness:") for m in at.markdown)
