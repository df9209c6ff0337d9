"""Route planner page (AppTest) and its services: stored plan, solve now, map layers, fleet comparison, sheets."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.models import Depot, Order, RoutePlan, RouteStop, Vehicle
from fleet.pipeline import current_route_plan
from fleet.scope import scope_for
from fleet.services import route_planner as svc
from fleet.services import solving, unit_of_work
from tests.app.conftest import PLANNED_DEPOT, SERVICE_DATE, AppRunner, url_of

pytestmark = pytest.mark.slow


def _current(engine: Engine) -> RoutePlan:
    with Session(engine) as s:
        depot = s.exec(select(Depot).where(Depot.code == PLANNED_DEPOT)).one()
        plan = current_route_plan(s, scope_for(s), depot.id, SERVICE_DATE)
        assert plan is not None
        s.expunge(plan)
        return plan


def _open(run_app: AppRunner, engine: Engine, **kw):  # type: ignore[no-untyped-def]
    at = run_app(url_of(engine), "routes", **kw)
    at.selectbox(key="routes_depot").set_value(PLANNED_DEPOT).run()
    at.date_input(key=f"routes_date_{PLANNED_DEPOT}").set_value(SERVICE_DATE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _layers(at) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    (chart,) = at.get("deck_gl_json_chart")
    spec = json.loads(chart.proto.json)
    # No basemap: no provider, and pydeck's "no style" sentinel, which Streamlit draws without any basemap (a
    # missing mapStyle would make it fetch Carto's style and tiles).
    assert spec.get("mapStyle") == "__MAP_STYLE__" and "mapProvider" not in spec
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert not [k for layer in layers.values() for k, v in layer.items() if v in ("@@=pixels", "@@=meters")]
    return layers


def test_stored_plan_shows_map_layers_metrics_and_timeline(
    run_app: AppRunner, planned_engine: Engine
) -> None:
    at = _open(run_app, planned_engine)
    plan = _current(planned_engine)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Trucks used"] == str(plan.vehicles_used)
    assert metrics["Distance [km]"] == f"{plan.total_km:,.1f}"
    assert metrics["Unserved jobs"] == str(len(plan.unserved))
    layers = _layers(at)
    assert len(layers["routes"]["data"]) == plan.vehicles_used
    colours = {tuple(p["colour"]) for p in layers["routes"]["data"]}
    assert len(colours) == plan.vehicles_used  # each route its own colour
    with Session(planned_engine) as s:
        visits = s.exec(
            select(RouteStop).where(RouteStop.plan_id == plan.id, RouteStop.kind != "depot")
        ).all()
    assert len(layers["stops"]["data"]) == len(visits)
    assert len(layers["stations"]["data"]) == 1
    # Timeline: the chosen truck's stops with state of charge falling along the route.
    label = "Charge on arrival [kWh]"  # route_labels.SHEET_COLUMNS["soc_arrival_kwh"], shown in English
    sheet = [d.value for d in at.dataframe if label in d.value.columns][-1]  # the route sheet
    assert "soc_arrival_kwh" not in sheet.columns  # human labels, not the frame's names
    soc = sheet[label].dropna().tolist()
    assert soc and soc == sorted(soc, reverse=True)


def test_page_without_a_plan_offers_to_solve(run_app: AppRunner, demo_engine: Engine) -> None:
    at = _open(run_app, demo_engine)
    assert any("No stored route plan" in i.value for i in at.info)
    assert not at.get("deck_gl_json_chart")


def test_solve_now_stores_a_draft_beside_the_published_plan(run_app: AppRunner, planned_copy: Engine) -> None:
    before = _current(planned_copy)
    at = _open(run_app, planned_copy, lessee="FRESH")
    at.slider(key="routes_time_limit").set_value(1).run()
    at.button(key="routes_solve").click().run()
    assert not at.exception, [e.value for e in at.exception]
    after = _current(planned_copy)
    assert after.version == before.version  # a re-solve never replaces the published plan by itself
    with Session(planned_copy) as s:
        draft = s.exec(select(RoutePlan).where(RoutePlan.version == before.version + 1)).one()
    assert (draft.status.value, draft.origin, draft.author) == ("draft", "solve", "planner")
    assert f"Stored draft version {draft.version}" in at.success[0].value
    metrics = {m.label: m.value for m in at.metric}  # the page still shows the published plan
    assert metrics["Trucks used"] == str(after.vehicles_used)
    assert metrics["Distance [km]"] == f"{after.total_km:,.1f}"


def test_compare_electric_only_and_mixed(run_app: AppRunner, planned_engine: Engine) -> None:
    at = _open(run_app, planned_engine)
    at.slider(key="routes_compare_limit").set_value(1)
    at.button(key="routes_compare").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.table[-1].value
    assert list(table.columns) == list(solving.FLEET_VARIANTS)
    with Session(planned_engine) as s:
        depot = s.exec(select(Depot).where(Depot.code == PLANNED_DEPOT)).one()
        trucks = s.exec(select(Vehicle).where(Vehicle.depot_id == depot.id)).all()
    assert int(table.loc["trucks available", "mixed fleet"]) == len(trucks)
    assert int(table.loc["diesel used", "electric only"]) == 0


def test_route_sheets_per_driver(planned_engine: Engine) -> None:
    with unit_of_work(url_of(planned_engine)) as s:
        view = svc.current_route_view(s, None, PLANNED_DEPOT, SERVICE_DATE)
    assert view is not None
    plan = _current(planned_engine)
    with Session(planned_engine) as s:
        stops = s.exec(select(RouteStop).where(RouteStop.plan_id == plan.id)).all()
        plates = {v.id: v.plate for v in s.exec(select(Vehicle)).all()}
    per_truck = pd.Series([plates[st.vehicle_id] for st in stops]).value_counts()
    first = view.routes["vehicle"].iloc[0]
    csv = pd.read_csv(
        io.BytesIO(svc.route_sheet_csv(view, first)), encoding="utf-8-sig", dtype={"phone": str}
    )
    assert len(csv) == per_truck[first]
    assert csv["kind"].iloc[0] == csv["kind"].iloc[-1] == "depot" and (csv["kind"] == "job").any()
    with Session(planned_engine) as s:  # each delivery names its customer, with the phone, as the order does
        customers = {o.external_ref: (o.customer_name, o.customer_phone) for o in s.exec(select(Order)).all()}
    jobs = csv[csv["kind"] == "job"]
    assert [(n, p) for n, p in zip(jobs["name"], jobs["phone"])] == [customers[r] for r in jobs["stop"]]
    book = openpyxl.load_workbook(io.BytesIO(svc.route_sheets_xlsx(view)))
    assert book.sheetnames == ["routes", *view.routes["vehicle"]]
    assert {name: book[name].max_row - 1 for name in book.sheetnames[1:]} == per_truck.to_dict()


def test_a_plan_with_nothing_routed_still_flattens(planned_engine: Engine) -> None:
    plan = _current(planned_engine)
    jobs = [j["id"] for j in plan.problem["jobs"]][:2]
    solution = {
        "routes": [],
        "stats": {"status": "infeasible"},
        "unserved": [{"job_id": j, "reason": "no_vehicle", "detail": "test"} for j in jobs],
    }
    view = svc.route_view_from_json(plan.problem, solution, PLANNED_DEPOT, SERVICE_DATE)
    assert view.routes.empty and view.stops.empty and view.vehicles_used == 0
    assert view.unserved["job"].tolist() == jobs and view.unserved["lat"].notna().all()


def test_a_crashing_or_failing_solver_process_becomes_a_message() -> None:
    import os

    with pytest.raises(solving.SolveFailed, match="the solver process died"):
        solving.run_isolated(os._exit, 3)  # as an OR-Tools segfault would: the web server lives on
    with pytest.raises(solving.SolveFailed, match="ValueError: invalid literal"):
        solving.run_isolated(int, "not a number")
    assert solving.run_isolated(int, "42") == 42
