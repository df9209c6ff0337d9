"""Trends: per depot and per truck over days or weeks (on-time share, km per stop, kWh per km, charging CNY per
kWh, utilisation, failed nights); fleet.services.trends says what each figure rests on."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from app_pages._shell import page_context
from fleet import services
from fleet.services import trends as svc
from fleet.services.i18n import _, localised

ctx = page_context("Trends")  # msgid, translated by page_context
left, mid, right = st.columns(3)
periods = {p: _(svc.PERIOD_LABELS[p]) for p in svc.PERIODS}
period = left.radio(
    _("Per"), svc.PERIODS, index=1, horizontal=True, key="trends_period", format_func=periods.get
)
end = mid.date_input(_("Up to"), value=ctx.today, key="trends_end")
weeks = right.number_input(_("Weeks back"), min_value=1, max_value=104, value=8, step=1, key="trends_weeks")
start = end - dt.timedelta(weeks=int(weeks)) + dt.timedelta(days=1)
st.caption(
    _(
        "{start} to {end}. On time is the planned share (served within the window ÷ orders; no delivery scans "
        "yet); kWh per km is metered (charger kWh ÷ km); charging CNY per kWh is the plans' energy (funds "
        "included) plus the night's pro-rated demand charge; trucks used ÷ trucks at the depot now."
    ).format(start=start.isoformat(), end=end.isoformat())
)
with services.unit_of_work(ctx.url) as session:
    depots = svc.depot_trends(session, ctx.lessee_code, start, end, period)
    trucks = svc.truck_trends(session, ctx.lessee_code, start, end, period)
by_depot, by_truck = st.tabs([_("Per depot"), _("Per truck")])
with by_depot:
    if depots.empty:
        st.info(_("No plans, meter readings or nightly runs in this period and scope."))
    else:
        metrics = {
            c: _(spec.label)
            for c, spec in svc.DEPOT_COLUMNS.items()
            if c not in ("period", "depot", "orders")
        }
        metric = st.selectbox(_("Chart"), list(metrics), format_func=metrics.get, key="trends_metric")
        chart = depots.pivot_table(index="period", columns="depot", values=metric)
        st.line_chart(chart, y_label=metrics[metric])
        st.dataframe(localised(depots, svc.DEPOT_COLUMNS), hide_index=True, width="stretch")
with by_truck:
    if trucks.empty:
        st.info(_("No metered days or planned stops in this period and scope."))
    else:
        st.dataframe(localised(trucks, svc.TRUCK_COLUMNS), hide_index=True, width="stretch")
