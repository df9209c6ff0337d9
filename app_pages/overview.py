"""Overview: fleet KPIs per lessee and depot (from `fleet.reports.fleet_summary`), in the page's scope."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _data
from app_pages._shell import page_context
from fleet import app_services as svc

NOT_YET = "not available yet"

ctx = page_context("Overview")
rows = _data.overview(ctx.url, ctx.lessee_code, ctx.today)

ev = sum(r.electric_trucks for r in rows)
diesel = sum(r.diesel_trucks for r in rows)
leases = sum(r.active_leases for r in rows)
rent = sum(r.monthly_rent_cny for r in rows)
km = sum(r.km_30d for r in rows)
kwh = sum(r.kwh_30d for r in rows)

cols = st.columns(6)
cols[0].metric("Electric trucks", f"{ev:,}", border=True)
cols[1].metric("Diesel trucks", f"{diesel:,}", border=True, help="The lessees' own diesel trucks (mixed fleet).")
cols[2].metric("Active leases", f"{leases:,}", border=True, help=f"Leases running on {ctx.today.isoformat()}.")
cols[3].metric("Rent [CNY/month]", f"{rent:,.0f}", border=True, help="Monthly rent of the active leases.")
cols[4].metric("km, 30 days", f"{km:,.0f}", border=True, help="Metered distance in the 30 days up to the "
               "reference date.")
cols[5].metric("kWh, 30 days", f"{kwh:,.0f}", border=True,
               help="Metered at the charger (kwh_charger) per vehicle and day, same 30 days.")

# Figures of modules not merged yet: say so, never show a made-up number.
later = st.columns(3)
for col, (label, source) in zip(later, [
    ("Charging cost, 30 days [CNY]", "Comes with the charging scheduler (charging/, stored charging plans)."),
    ("Emissions avoided [t CO2e]", "Comes with fleet.emissions (ex-ante from plans, ex-post from metered data)."),
    ("Latest nightly run", "Comes with the nightly job (fleet.nightly, JobRun rows)."),
]):
    col.metric(label, "—", delta=NOT_YET, delta_color="off", delta_arrow="off", border=True, help=source)

if not rows:
    st.info("No depots in this scope yet. Depots are added with the demo loader (`evfleet demo`) "
            "or by the lessor's data team.")
    st.stop()

service_date = rows[0].next_service_date
orders_label = f"Orders {service_date.isoformat()}" if service_date else "Orders (next day)"

if ctx.is_lessor:
    st.subheader("Per lessee")
    per_lessee = pd.DataFrame([{
        "Lessee": t.lessee, "Depots": t.depots, "EV trucks": t.electric_trucks, "Diesel trucks": t.diesel_trucks,
        "Active leases": t.active_leases, "Rent [CNY/month]": t.monthly_rent_cny, "km 30 d": t.km_30d,
        "kWh 30 d": t.kwh_30d,
    } for t in svc.totals_by_lessee(rows)]).set_index("Lessee")
    st.table(per_lessee.style.format("{:,.0f}", subset=["Rent [CNY/month]", "km 30 d", "kWh 30 d"]))

st.subheader("Per depot")
per_depot = pd.DataFrame([{
    "Depot": r.depot, "Name": r.depot_name, "Lessee": r.lessee, "EV trucks": r.electric_trucks,
    "Diesel trucks": r.diesel_trucks, "Active leases": r.active_leases,
    "Rent [CNY/month]": r.monthly_rent_cny, "Connectors": r.connectors, "Charger [kW]": r.connector_kw,
    "Grid limit [kW]": r.grid_limit_kw, orders_label: r.orders_next_day, "km 30 d": r.km_30d,
    "kWh 30 d": r.kwh_30d, "kWh/km": r.kwh_30d / r.km_30d if r.km_30d else None,
} for r in rows]).set_index("Depot")
whole = ["Rent [CNY/month]", "Charger [kW]", "Grid limit [kW]", "km 30 d", "kWh 30 d"]
st.table(per_depot.style.format("{:,.0f}", subset=whole).format("{:.2f}", subset=["kWh/km"], na_rep="–"))
st.caption(f"Metered km and kWh: the 30 days up to {ctx.today.isoformat()}. Orders: the next service date with "
           "orders after the reference date. Charger kW is the sum of connector ratings; cabinets may share less.")

st.subheader("Distance per depot, last 30 days [km]")
distance = pd.DataFrame({"km": [r.km_30d for r in rows]}, index=[r.depot for r in rows])
st.bar_chart(distance, height=60 + 40 * len(rows), horizontal=True, x_label="km, last 30 days", y_label="")
