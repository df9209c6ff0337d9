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
cols[0].metric("Electric trucks", f"{ev:,}")
cols[1].metric("Diesel trucks", f"{diesel:,}", help="The lessees' own diesel trucks in the mixed fleet.")
cols[2].metric("Active leases", f"{leases:,}", help=f"Leases running on {ctx.today.isoformat()}.")
cols[3].metric("Lease rent [CNY/month]", f"{rent:,.0f}")
cols[4].metric("Distance, last 30 days [km]", f"{km:,.0f}")
cols[5].metric("Charged energy, last 30 days [kWh]", f"{kwh:,.0f}",
               help="Metered at the charger (kwh_charger) per vehicle and day.")

later = st.columns(3)
later[0].metric("Charging cost, last 30 days [CNY]", NOT_YET,
                help="Comes with the charging scheduler (charging/ and stored charging plans).")
later[1].metric("Emissions avoided [t CO2e]", NOT_YET,
                help="Comes with fleet.emissions (ex-ante from plans, ex-post from metered data).")
later[2].metric("Latest nightly run", NOT_YET, help="Comes with the nightly job (fleet.nightly, JobRun rows).")

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
        "Active leases": t.active_leases, "Rent [CNY/month]": f"{t.monthly_rent_cny:,.0f}",
        "km 30 d": f"{t.km_30d:,.0f}", "kWh 30 d": f"{t.kwh_30d:,.0f}",
    } for t in svc.totals_by_lessee(rows)])
    st.table(per_lessee.set_index("Lessee"))

st.subheader("Per depot")
per_depot = pd.DataFrame([{
    "Depot": r.depot, "Name": r.depot_name, "Lessee": r.lessee, "EV trucks": r.electric_trucks,
    "Diesel trucks": r.diesel_trucks, "Active leases": r.active_leases,
    "Rent [CNY/month]": f"{r.monthly_rent_cny:,.0f}", "Connectors": r.connectors,
    "Charger [kW]": f"{r.connector_kw:,.0f}", "Grid limit [kW]": f"{r.grid_limit_kw:,.0f}",
    orders_label: r.orders_next_day, "km 30 d": f"{r.km_30d:,.0f}", "kWh 30 d": f"{r.kwh_30d:,.0f}",
    "kWh/km": f"{r.kwh_30d / r.km_30d:.2f}" if r.km_30d else "–",
} for r in rows])
st.table(per_depot.set_index("Depot"))
st.caption(f"Metered km and kWh: the 30 days up to {ctx.today.isoformat()}. Orders: the next service date with "
           "orders after the reference date. Charger kW is the sum of connector ratings; cabinets may share less.")

st.subheader("Distance per depot, last 30 days [km]")
st.bar_chart(pd.DataFrame({"km": [r.km_30d for r in rows]}, index=[r.depot for r in rows]), height=220)
