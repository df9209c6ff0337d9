"""Overview: fleet KPIs per lessee and depot (from `fleet.reports.fleet_summary`), in the page's scope."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages import _data
from app_pages._shell import page_context
from fleet import services
from fleet.services import emissions as emissions_svc
from fleet.services import overview as overview_svc

ctx = page_context("Overview")
# Charging cost of the stored (current) plans, emissions avoided (metered), the latest nightly run.
first, last = ctx.today - dt.timedelta(days=29), ctx.today + dt.timedelta(days=1)
with services.unit_of_work(ctx.url) as session:  # this render's reads
    rows = _data.overview(session, ctx.url, ctx.lessee_code, ctx.today)
    charging = _data.planned_charging(session, ctx.url, ctx.lessee_code, first, last)
    avoided = _data.emissions_avoided(session, ctx.url, ctx.lessee_code, ctx.today)
    latest = _data.latest_run(session, ctx.url, ctx.lessee_code)

ev = sum(r.electric_trucks for r in rows)
diesel = sum(r.diesel_trucks for r in rows)
leases = sum(r.active_leases for r in rows)
rent = sum(r.monthly_rent_cny for r in rows)
km = sum(r.km_30d for r in rows)
kwh = sum(r.kwh_30d for r in rows)

cols = st.columns(6)
cols[0].metric("Electric trucks", f"{ev:,}", border=True)
cols[1].metric(
    "Diesel trucks", f"{diesel:,}", border=True, help="The lessees' own diesel trucks (mixed fleet)."
)
cols[2].metric(
    "Active leases", f"{leases:,}", border=True, help=f"Leases running on {ctx.today.isoformat()}."
)
cols[3].metric("Rent [CNY/month]", f"{rent:,.0f}", border=True, help="Monthly rent of the active leases.")
cols[4].metric(
    "km, 30 days", f"{km:,.0f}", border=True, help="Metered distance in the 30 days up to the reference date."
)
cols[5].metric(
    "kWh, 30 days",
    f"{kwh:,.0f}",
    border=True,
    help="Metered at the charger (kwh_charger) per vehicle and day, same 30 days.",
)

later = st.columns(3)
charging_help = (
    f"Sum of the current charging plans for the nights before service dates {first.isoformat()} to "
    f"{last.isoformat()} (incl. tomorrow's), as the scheduler costed them (energy + demand charge)."
)
if charging:
    later[0].metric(
        "Charging cost, planned nights [CNY]",
        f"{sum(c.cost_cny for c in charging):,.2f}",
        delta=f"{sum(c.nights for c in charging)} depot-nights",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=charging_help,
    )
else:
    later[0].metric(
        "Charging cost, planned nights [CNY]",
        "—",
        delta="no charging plans stored",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=charging_help,
    )
avoided_help = (
    "Ex-post reduction from metered km and charger kWh (fleet.emissions, profile "
    f"{emissions_svc.DEFAULT_PROFILE}), the scope's trucks whoever claims it."
)
if avoided:
    later[1].metric(
        "Emissions avoided, month to date [t CO2]",
        f"{avoided[0]:,.2f}",
        delta=avoided[1],
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=avoided_help,
    )
else:
    later[1].metric(
        "Emissions avoided, month to date [t CO2]",
        "—",
        delta="no metered days this month",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=avoided_help,
    )
if latest:
    later[2].metric(
        "Latest nightly run",
        latest.status,
        delta=f"{latest.service_date} · {latest.succeeded}/{latest.depots} depots ok",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=f"Run {latest.run_key}; details on the Nightly jobs page.",
    )
    if latest.failed:
        st.error(
            f"Latest nightly run ({latest.service_date}) failed for {', '.join(latest.failed)}: see Nightly "
            "jobs to read the error and re-run."
        )
else:
    later[2].metric(
        "Latest nightly run",
        "—",
        delta="no runs yet",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="`evfleet nightly --date YYYY-MM-DD` records one job per depot-day.",
    )

if not rows:
    st.info(
        "No depots in this scope yet. Depots are added with the demo loader (`evfleet demo`) "
        "or by the lessor's data team."
    )
    st.stop()

service_date = rows[0].next_service_date
orders_label = f"Orders {service_date.isoformat()}" if service_date else "Orders (next day)"

if ctx.is_lessor:
    st.subheader("Per lessee")
    per_lessee = pd.DataFrame(
        [
            {
                "Lessee": t.lessee,
                "Depots": t.depots,
                "EV trucks": t.electric_trucks,
                "Diesel trucks": t.diesel_trucks,
                "Active leases": t.active_leases,
                "Rent [CNY/month]": t.monthly_rent_cny,
                "km 30 d": t.km_30d,
                "kWh 30 d": t.kwh_30d,
            }
            for t in overview_svc.totals_by_lessee(rows)
        ]
    ).set_index("Lessee")
    st.table(per_lessee.style.format("{:,.0f}", subset=["Rent [CNY/month]", "km 30 d", "kWh 30 d"]))

st.subheader("Per depot")
charging_by_depot = {c.depot: c.cost_cny for c in charging}
per_depot = pd.DataFrame(
    [
        {
            "Depot": r.depot,
            "Name": r.depot_name,
            "Lessee": r.lessee,
            "EV trucks": r.electric_trucks,
            "Diesel trucks": r.diesel_trucks,
            "Active leases": r.active_leases,
            "Rent [CNY/month]": r.monthly_rent_cny,
            "Connectors": r.connectors,
            "Charger [kW]": r.connector_kw,
            "Grid limit [kW]": r.grid_limit_kw,
            orders_label: r.orders_next_day,
            "km 30 d": r.km_30d,
            "kWh 30 d": r.kwh_30d,
            "kWh/km": r.kwh_30d / r.km_30d if r.km_30d else None,
            "Charging plans [CNY]": charging_by_depot.get(r.depot),
        }
        for r in rows
    ]
).set_index("Depot")
whole = ["Rent [CNY/month]", "Charger [kW]", "Grid limit [kW]", "km 30 d", "kWh 30 d"]
st.table(
    per_depot.style.format("{:,.0f}", subset=whole)
    .format("{:.2f}", subset=["kWh/km"], na_rep="–")
    .format("{:,.2f}", subset=["Charging plans [CNY]"], na_rep="–")
)
st.caption(
    f"Metered km and kWh: the 30 days up to {ctx.today.isoformat()}. Orders: the next service date with "
    "orders after the reference date. Charger kW is the sum of connector ratings; cabinets may share less."
)

st.subheader("Distance per depot, last 30 days [km]")
distance = pd.DataFrame({"km": [r.km_30d for r in rows]}, index=[r.depot for r in rows])
st.bar_chart(distance, height=60 + 40 * len(rows), horizontal=True, x_label="km, last 30 days", y_label="")
