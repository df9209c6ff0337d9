"""Trends page (issue 21 item 7): per depot and per truck over days or weeks, from plans, meters and job runs.

Every figure is aggregated in SQL per depot (or truck) and day, so a year of a large lessor's data comes back as
a few thousand rows; weeks are sums of days. What each column rests on:

- on-time share: orders served within their window in the plan in force ÷ orders of the day (unserved orders
  count as late). It is the *planned* share: evfleet has no delivery scans yet; telematics or proof of delivery
  would replace it.
- km per stop: planned km ÷ planned job stops (plans in force).
- kWh per km: metered charger kWh ÷ metered km (imported VehicleDay rows with both).
- charging CNY per kWh: the plans' energy cost (funds included) + the night's pro-rated demand share ÷ kWh.
- utilisation: trucks routed ÷ trucks at the depot now (per depot); days with metered km ÷ days (per truck).
- failed nights: depot-days whose latest nightly job failed or was abandoned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, func

from fleet.i18n import N_, Column
from fleet.models import (
    ChargingPlan,
    Depot,
    JobRun,
    JobStatus,
    Order,
    PlanStatus,
    RoutePlan,
    RouteStop,
    Vehicle,
    VehicleDay,
)
from fleet.scope import Scope, select_rows
from fleet.services.scope import in_scope

__all__ = ["DEPOT_COLUMNS", "PERIODS", "PERIOD_LABELS", "TRUCK_COLUMNS", "depot_trends", "truck_trends"]

PERIODS = ("day", "week")
# Column -> the label a planner reads, with its unit (an English msgid) and its decimals (fleet.i18n.Column).
DEPOT_COLUMNS: Mapping[str, Column] = {
    "period": Column(N_("Period")),
    "depot": Column(N_("Depot")),
    "orders": Column(N_("Orders")),
    "on_time_share": Column(N_("On time (planned) [%]"), 1),
    "km_per_stop": Column(N_("km per stop"), 2),
    "kwh_per_km": Column(N_("kWh per km (metered)"), 3),
    "charging_cny_per_kwh": Column(N_("Charging [CNY/kWh]"), 3),
    "utilisation": Column(N_("Trucks used [%]"), 0),
    "failed_nights": Column(N_("Failed nights")),
}
TRUCK_COLUMNS: Mapping[str, Column] = {
    "period": Column(N_("Period")),
    "plate": Column(N_("Truck")),
    "depot": Column(N_("Depot")),
    "km": Column(N_("km (metered)"), 1),
    "kwh_per_km": Column(N_("kWh per km (metered)"), 3),
    "stops": Column(N_("Stops (planned)")),
    "km_per_stop": Column(N_("km per stop (planned)"), 2),
    "utilisation": Column(N_("Days on the road [%]"), 0),
}
PERIOD_LABELS = {"day": N_("day"), "week": N_("week")}


def _period(day: pd.Series, period: str) -> pd.Series:
    """The day itself, or the Monday of its ISO week."""
    days = pd.to_datetime(day)
    if period == "week":
        days = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    return days.dt.date


def _in_force(
    scope: Scope, model: type[RoutePlan] | type[ChargingPlan], start: dt.date, end: dt.date
) -> sa.Select:
    return select_rows(
        scope,
        model,
        model.status == PlanStatus.PUBLISHED,
        model.service_date >= start,
        model.service_date <= end,
    )


def _check(period: str, start: dt.date, end: dt.date) -> None:
    if period not in PERIODS:
        raise ValueError(f"period: one of {', '.join(PERIODS)}, got {period!r}")
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")


def depot_trends(
    session: Session, lessee_code: str | None, start: dt.date, end: dt.date, period: str = "day"
) -> pd.DataFrame:
    """One row per depot and day (or ISO week) between `start` and `end` inclusive with any plan, meter or job."""
    _check(period, start, end)
    scope = in_scope(session, lessee_code)
    depots = {d.id: d.code for d in session.exec(select_rows(scope, Depot)).all()}
    trucks = dict(
        session.execute(
            select_rows(scope, Vehicle)
            .with_only_columns(Vehicle.depot_id, func.count(Vehicle.id))
            .group_by(Vehicle.depot_id)
        ).all()
    )
    keys = ["depot_id", "day"]
    orders = pd.DataFrame(
        session.execute(
            select_rows(scope, Order, Order.service_date >= start, Order.service_date <= end)
            .with_only_columns(Order.depot_id, Order.service_date, func.count(Order.id))
            .group_by(Order.depot_id, Order.service_date)
        ).all(),
        columns=[*keys, "orders"],
    )
    routes = _in_force(scope, RoutePlan, start, end).subquery()
    plans = pd.DataFrame(
        session.execute(
            sa.select(
                routes.c.id,
                routes.c.depot_id,
                routes.c.service_date,
                routes.c.total_km,
                routes.c.vehicles_used,
            )
        ).all(),
        columns=["plan_id", *keys, "km", "vehicles_used"],
    )
    stops = pd.DataFrame(
        session.execute(
            sa.select(
                RouteStop.plan_id,
                func.count(RouteStop.id),
                func.sum(sa.case((RouteStop.service_start <= Order.window_end, 1), else_=0)),
            )
            .join(Order, Order.id == RouteStop.order_id)
            .where(RouteStop.plan_id.in_(sa.select(routes.c.id)), RouteStop.kind == "job")
            .group_by(RouteStop.plan_id)
        ).all(),
        columns=["plan_id", "stops", "on_time"],
    )
    charging = _in_force(scope, ChargingPlan, start, end).subquery()
    cost = pd.DataFrame(
        session.execute(
            sa.select(
                charging.c.depot_id,
                charging.c.service_date,
                charging.c.energy_cost_fen + charging.c.demand_cost_fen,
                charging.c.total_kwh,
            )
        ).all(),
        columns=[*keys, "charging_fen", "charging_kwh"],
    )
    metered = pd.DataFrame(
        session.execute(
            select_rows(
                scope,
                VehicleDay,
                VehicleDay.day >= start,
                VehicleDay.day <= end,
                VehicleDay.kwh_charger.is_not(None),
            )
            .with_only_columns(
                VehicleDay.depot_id, VehicleDay.day, func.sum(VehicleDay.km), func.sum(VehicleDay.kwh_charger)
            )
            .group_by(VehicleDay.depot_id, VehicleDay.day)
        ).all(),
        columns=[*keys, "metered_km", "metered_kwh"],
    )
    latest = (
        select_rows(scope, JobRun, JobRun.service_date >= start, JobRun.service_date <= end)
        .with_only_columns(JobRun.depot_id, JobRun.service_date, func.max(JobRun.id).label("last"))
        .group_by(JobRun.depot_id, JobRun.service_date)
        .subquery()
    )
    failed = pd.DataFrame(
        session.execute(
            sa.select(JobRun.depot_id, JobRun.service_date, sa.literal(1))
            .join(latest, latest.c.last == JobRun.id)
            .where(JobRun.status.in_([JobStatus.FAILED, JobStatus.ABANDONED]))
        ).all(),
        columns=[*keys, "failed_nights"],
    )
    plans = plans.merge(stops, on="plan_id", how="left").drop(columns="plan_id")
    frame = orders
    for part in (plans, cost, metered, failed):
        frame = frame.merge(part, on=keys, how="outer")
    columns = list(DEPOT_COLUMNS)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = frame.fillna(0)
    # Trucks at the depot on each day that has a route plan: the denominator of the trucks-used share.
    frame["trucks"] = frame["depot_id"].map(trucks).fillna(0).where(frame["km"] > 0, 0)
    frame["period"] = _period(frame["day"], period)
    frame["depot"] = frame["depot_id"].map(depots)
    sums = ["orders", "km", "vehicles_used", "stops", "on_time", "charging_fen", "charging_kwh"]
    sums += ["metered_km", "metered_kwh", "failed_nights", "trucks"]
    grouped = frame.groupby(["period", "depot"], as_index=False)[sums].sum()
    out = pd.DataFrame({"period": grouped["period"], "depot": grouped["depot"], "orders": grouped["orders"]})
    out["on_time_share"] = _ratio(grouped["on_time"], grouped["orders"]) * 100
    out["km_per_stop"] = _ratio(grouped["km"], grouped["stops"])
    out["kwh_per_km"] = _ratio(grouped["metered_kwh"], grouped["metered_km"])
    out["charging_cny_per_kwh"] = _ratio(grouped["charging_fen"] / 100, grouped["charging_kwh"])
    out["utilisation"] = _ratio(grouped["vehicles_used"], grouped["trucks"]) * 100
    out["failed_nights"] = grouped["failed_nights"].astype(int)
    out["orders"] = out["orders"].astype(int)
    return out[columns].sort_values(["period", "depot"]).reset_index(drop=True)


def _days_in(first: dt.date, period: str, start: dt.date, end: dt.date) -> int:
    """Days of the period (a day, or the ISO week from `first`) that lie within [start, end]."""
    last = first + dt.timedelta(days=6 if period == "week" else 0)
    return (min(last, end) - max(first, start)).days + 1


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num ÷ den, empty (NaN) where there is nothing to divide by: no figure is made up from zero."""
    den = den.astype(float)
    return (num.astype(float) / den.where(den > 0)).round(4)


def truck_trends(
    session: Session, lessee_code: str | None, start: dt.date, end: dt.date, period: str = "week"
) -> pd.DataFrame:
    """One row per truck and day (or ISO week) with metered km or planned stops."""
    _check(period, start, end)
    scope = in_scope(session, lessee_code)
    keys = ["vehicle_id", "day"]
    metered = pd.DataFrame(
        session.execute(
            select_rows(scope, VehicleDay, VehicleDay.day >= start, VehicleDay.day <= end)
            .with_only_columns(
                VehicleDay.vehicle_id,
                VehicleDay.day,
                func.sum(VehicleDay.km),
                func.sum(sa.case((VehicleDay.kwh_charger.is_not(None), VehicleDay.km), else_=0)),
                func.sum(VehicleDay.kwh_charger),
            )
            .group_by(VehicleDay.vehicle_id, VehicleDay.day)
        ).all(),
        columns=[*keys, "km", "km_with_kwh", "kwh"],
    )
    routes = _in_force(scope, RoutePlan, start, end).subquery()
    planned = pd.DataFrame(
        session.execute(
            sa.select(
                RouteStop.vehicle_id,
                routes.c.service_date,
                func.sum(sa.case((RouteStop.kind == "job", 1), else_=0)),
                func.sum(RouteStop.km_from_previous),
            )
            .join(routes, routes.c.id == RouteStop.plan_id)
            .group_by(RouteStop.vehicle_id, routes.c.service_date)
        ).all(),
        columns=[*keys, "stops", "planned_km"],
    )
    frame = metered.merge(planned, on=keys, how="outer")
    columns = list(TRUCK_COLUMNS)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    # Plates and depots as named columns, read only when there is something to show: 80,000 Vehicle objects took
    # 5 s of a lessor's empty Trends page (issue 24).
    depots = dict(session.execute(select_rows(scope, Depot).with_only_columns(Depot.id, Depot.code)).all())
    vehicles = {
        vid: (plate, depots.get(depot_id, ""))
        for vid, plate, depot_id in session.execute(
            select_rows(scope, Vehicle).with_only_columns(Vehicle.id, Vehicle.plate, Vehicle.depot_id)
        ).all()
    }
    frame = frame.fillna(0)
    frame["on_road"] = (frame["km"] > 0).astype(int)
    frame["period"] = _period(frame["day"], period)
    grouped = frame.groupby(["period", "vehicle_id"], as_index=False)[
        ["km", "km_with_kwh", "kwh", "stops", "planned_km", "on_road"]
    ].sum()
    out = pd.DataFrame({"period": grouped["period"]})
    days = grouped["period"].map(lambda p: _days_in(p, period, start, end))
    out["plate"] = grouped["vehicle_id"].map(lambda v: vehicles.get(v, ("?", ""))[0])
    out["depot"] = grouped["vehicle_id"].map(lambda v: vehicles.get(v, ("?", ""))[1])
    out["km"] = grouped["km"].round(1)
    out["kwh_per_km"] = _ratio(grouped["kwh"], grouped["km_with_kwh"])
    out["stops"] = grouped["stops"].astype(int)
    out["km_per_stop"] = _ratio(grouped["planned_km"], grouped["stops"])
    out["utilisation"] = (grouped["on_road"] / days * 100).round(1)
    return out[columns].sort_values(["period", "plate"]).reset_index(drop=True)
