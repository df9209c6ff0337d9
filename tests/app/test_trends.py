"""Trends (issue 21 item 7): per depot and truck over days and weeks, each figure checked against the rows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from fleet.models import Depot, Lessee, Order, PlanStatus, RoutePlan, RouteStop, Vehicle, VehicleDay
from fleet.services import unit_of_work
from fleet.services.trends import depot_trends, truck_trends
from tests.app.conftest import FAILING_DEPOT, PLANNED_DEPOT, SERVICE_DATE, AppRunner, url_of

MONDAY = SERVICE_DATE - dt.timedelta(days=SERVICE_DATE.weekday())
WEEK = (MONDAY, MONDAY + dt.timedelta(days=6))


def test_depot_day_figures_match_the_stored_plan(planned_engine: Engine) -> None:
    with unit_of_work(url_of(planned_engine)) as s:
        days = depot_trends(s, None, SERVICE_DATE, SERVICE_DATE, "day")
    with Session(planned_engine) as s:
        depot = s.exec(select(Depot).where(Depot.code == PLANNED_DEPOT)).one()
        plan = s.exec(
            select(RoutePlan).where(RoutePlan.depot_id == depot.id, RoutePlan.status == PlanStatus.CURRENT)
        ).one()
        stops = s.exec(
            select(func.count()).where(RouteStop.plan_id == plan.id, RouteStop.kind == "job")
        ).one()
        orders = s.exec(
            select(func.count()).where(Order.depot_id == depot.id, Order.service_date == SERVICE_DATE)
        ).one()
        trucks = s.exec(select(func.count()).where(Vehicle.depot_id == depot.id)).one()
    row = days.set_index("depot").loc[PLANNED_DEPOT]
    assert row["orders"] == orders
    assert row["on_time_share"] == pytest.approx(100 * stops / orders, abs=1e-2)  # planned within the window
    assert row["km_per_stop"] == pytest.approx(plan.total_km / stops, abs=1e-3)
    assert row["utilisation"] == pytest.approx(100 * plan.vehicles_used / trucks, abs=1e-2)
    assert row["failed_nights"] == 0 and row["charging_cny_per_kwh"] > 0
    failed = days.set_index("depot").loc[FAILING_DEPOT]
    assert failed["failed_nights"] == 1 and failed["km_per_stop"] != failed["km_per_stop"]  # NaN: no plan


def test_weeks_sum_their_days_and_a_lessee_sees_only_its_depots(planned_engine: Engine) -> None:
    url = url_of(planned_engine)
    with unit_of_work(url) as s:
        weeks = depot_trends(s, None, *WEEK, "week")
        days = depot_trends(s, None, *WEEK, "day")
        lessee = s.exec(
            select(Lessee).join(Depot, Depot.lessee_id == Lessee.id).where(Depot.code == PLANNED_DEPOT)
        ).first()
        own = depot_trends(s, lessee.code, *WEEK, "week")
    assert set(weeks["period"]) == {WEEK[0]}
    per_depot = days.groupby("depot")["orders"].sum()
    assert dict(zip(weeks["depot"], weeks["orders"])) == per_depot.to_dict()
    with Session(planned_engine) as s:
        mine = {d.code for d in s.exec(select(Depot).where(Depot.lessee_id == lessee.id)).all()}
    assert set(own["depot"]) <= mine and PLANNED_DEPOT in set(own["depot"])


def test_truck_weeks_match_the_metered_days(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        last = s.exec(select(func.max(VehicleDay.day))).one()
        start = last - dt.timedelta(days=27)
        km = s.exec(
            select(Vehicle.plate, func.sum(VehicleDay.km))
            .join(Vehicle, Vehicle.id == VehicleDay.vehicle_id)
            .where(VehicleDay.day >= start, VehicleDay.day <= last)
            .group_by(Vehicle.plate)
        ).all()
    with unit_of_work(url_of(demo_engine)) as s:
        weeks = truck_trends(s, None, start, last, "week")
    totals = weeks.groupby("plate")["km"].sum()
    for plate, metered in km:
        assert totals[plate] == pytest.approx(metered, abs=0.1 * 5)  # rounded to 0.1 km per week
    assert weeks["utilisation"].between(0, 100).all()
    with pytest.raises(ValueError, match="period"):
        truck_trends(s, None, start, last, "month")


def test_trends_page_renders(run_app: AppRunner, planned_engine: Engine) -> None:
    at = run_app(url_of(planned_engine), page="trends")
    assert not at.exception, [e.value for e in at.exception]
