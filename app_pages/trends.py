"""Trends: per depot and per truck over days or weeks (on-time share, km per stop, kWh per km, charging CNY per
kWh, utilisation, failed nights); fleet.services.trends says what each figure rests on."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from app_pages._shell import page_context
from fleet import services
from fleet.services import trends as svc

ctx = page_context("Trends")
left, mid, right = st.columns(3)
period = left.radio("Per", svc.PERIODS, index=1, horizontal=True, key="trends_period", format_func=str.title)
end = mid.date_input("Up to", value=ctx.today, key="trends_end")
weeks = right.number_input("Weeks back", min_value=1, max_value=104, value=8, step=1, key="trends_weeks")
start = end - dt.timedelta(weeks=int(weeks)) + dt.timedelta(days=1)
st.caption(
    f"{start.isoformat()} to {end.isoformat()}. On time is the planned share (served within the window ÷ orders; "
    "no delivery scans yet); kWh per km is metered (charger kWh ÷ km); charging CNY per kWh is the plans' energy "
    "(funds included) plus the night's pro-rated demand charge; trucks used ÷ trucks at the depot now."
)
with services.unit_of_work(ctx.url) as session:
    depots = svc.depot_trends(session, ctx.lessee_code, start, end, period)
    trucks = svc.truck_trends(session, ctx.lessee_code, start, end, period)
by_depot, by_truck = st.tabs(["Per depot", "Per truck"])
with by_depot:
    if depots.empty:
        st.info("No plans, meter readings or nightly runs in this period and scope.")
    else:
        metric = st.selectbox(
            "Chart",
            [c for c in svc.DEPOT_COLUMNS if c not in ("period", "depot", "orders")],
            format_func=svc.DEPOT_COLUMNS.get,
            key="trends_metric",
        )
        chart = depots.pivot_table(index="period", columns="depot", values=metric)
        st.line_chart(chart, y_label=svc.DEPOT_COLUMNS[metric])
        st.dataframe(
            depots.rename(columns=svc.DEPOT_COLUMNS),
            hide_index=True,
            use_container_width=True,
            column_config={
                svc.DEPOT_COLUMNS["on_time_share"]: st.column_config.NumberColumn(format="%.1f"),
                svc.DEPOT_COLUMNS["km_per_stop"]: st.column_config.NumberColumn(format="%.2f"),
                svc.DEPOT_COLUMNS["kwh_per_km"]: st.column_config.NumberColumn(format="%.3f"),
                svc.DEPOT_COLUMNS["charging_cny_per_kwh"]: st.column_config.NumberColumn(format="%.3f"),
                svc.DEPOT_COLUMNS["utilisation"]: st.column_config.NumberColumn(format="%.0f"),
            },
        )
with by_truck:
    if trucks.empty:
        st.info("No metered days or planned stops in this period and scope.")
    else:
        st.dataframe(
            trucks.rename(columns=svc.TRUCK_COLUMNS),
            hide_index=True,
            use_container_width=True,
            column_config={
                svc.TRUCK_COLUMNS["kwh_per_km"]: st.column_config.NumberColumn(format="%.3f"),
                svc.TRUCK_COLUMNS["km_per_stop"]: st.column_config.NumberColumn(format="%.2f"),
            },
        )
