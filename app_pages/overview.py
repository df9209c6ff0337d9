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
from fleet.services.i18n import _, fmt_date, fmt_number

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
cols[0].metric(_("Electric trucks"), fmt_number(ev, 0), border=True)
cols[1].metric(
    _("Diesel trucks"),
    fmt_number(diesel, 0),
    border=True,
    help=_("The lessees' own diesel trucks (mixed fleet)."),
)
cols[2].metric(
    _("Active leases"),
    fmt_number(leases, 0),
    border=True,
    help=_("Leases running on {date}.").format(date=fmt_date(ctx.today)),
)
cols[3].metric(
    _("Rent [CNY/month]"), fmt_number(rent, 0), border=True, help=_("Monthly rent of the active leases.")
)
cols[4].metric(
    _("km, 30 days"),
    fmt_number(km, 0),
    border=True,
    help=_("Metered distance in the 30 days up to the reference date."),
)
cols[5].metric(
    _("kWh, 30 days"),
    fmt_number(kwh, 0),
    border=True,
    help=_("Metered at the charger per vehicle and day, same 30 days."),
)

later = st.columns(3)
charging_help = _(
    "Sum of the current charging plans for the nights before service dates {first} to {last} (incl. "
    "tomorrow's), as the scheduler costed them (energy + demand charge)."
).format(first=fmt_date(first), last=fmt_date(last))
if charging:
    later[0].metric(
        _("Charging cost, planned nights [CNY]"),
        fmt_number(sum(c.cost_cny for c in charging), 2),
        delta=_("{n} depot-nights").format(n=sum(c.nights for c in charging)),
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=charging_help,
    )
else:
    later[0].metric(
        _("Charging cost, planned nights [CNY]"),
        "—",
        delta=_("no charging plans stored"),
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=charging_help,
    )
avoided_help = _(
    "Ex-post reduction from metered km and charger kWh (fleet.emissions, profile {profile}), the scope's "
    "trucks whoever claims it."
).format(profile=emissions_svc.DEFAULT_PROFILE)
if avoided:
    later[1].metric(
        _("Emissions avoided, month to date [t CO2]"),
        fmt_number(avoided[0], 2),
        delta=avoided[1],
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=avoided_help,
    )
else:
    later[1].metric(
        _("Emissions avoided, month to date [t CO2]"),
        "—",
        delta=_("no metered days this month"),
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=avoided_help,
    )
if latest:
    later[2].metric(
        _("Latest nightly run"),
        latest.status_label(),
        delta=_("{date} · {ok}/{depots} depots ok").format(
            date=latest.service_date, ok=latest.succeeded, depots=latest.depots
        ),
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=_("Run {run}; details on the Nightly jobs page.").format(run=latest.run_key),
    )
    if latest.failed:
        st.error(
            _(
                "Latest nightly run ({date}) failed for {depots}: see Nightly jobs to read the error and re-run."
            ).format(date=latest.service_date, depots=", ".join(latest.failed))
        )
else:
    later[2].metric(
        _("Latest nightly run"),
        "—",
        delta=_("no runs yet"),
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=_("`evfleet nightly --date YYYY-MM-DD` records one job per depot-day."),
    )

if not rows:
    st.info(
        _(
            "No depots in this scope yet. Depots are added with the demo loader (`evfleet demo`) or by the "
            "lessor's data team."
        )
    )
    st.stop()

service_date = rows[0].next_service_date
orders_label = (
    _("Orders {date}").format(date=fmt_date(service_date)) if service_date else _("Orders (next day)")
)
RENT, KM30, KWH30 = _("Rent [CNY/month]"), _("km 30 d"), _("kWh 30 d")
EV, DIESEL, LEASES = _("EV trucks"), _("Diesel trucks"), _("Active leases")

if ctx.is_lessor:
    st.subheader(_("Per lessee"))
    per_lessee = pd.DataFrame(
        [
            {
                _("Lessee"): t.lessee,
                _("Depots"): t.depots,
                EV: t.electric_trucks,
                DIESEL: t.diesel_trucks,
                LEASES: t.active_leases,
                RENT: t.monthly_rent_cny,
                KM30: t.km_30d,
                KWH30: t.kwh_30d,
            }
            for t in overview_svc.totals_by_lessee(rows)
        ]
    ).set_index(_("Lessee"))
    st.table(per_lessee.style.format(lambda v: fmt_number(v, 0), subset=[RENT, KM30, KWH30]))

st.subheader(_("Per depot"))
charging_by_depot = {c.depot: c.cost_cny for c in charging}
per_depot = pd.DataFrame(
    [
        {
            _("Depot"): r.depot,
            _("Name"): r.depot_name,
            _("Lessee"): r.lessee,
            EV: r.electric_trucks,
            DIESEL: r.diesel_trucks,
            LEASES: r.active_leases,
            RENT: r.monthly_rent_cny,
            _("Connectors"): r.connectors,
            _("Charger [kW]"): r.connector_kw,
            _("Grid limit [kW]"): r.grid_limit_kw,
            orders_label: r.orders_next_day,
            KM30: r.km_30d,
            KWH30: r.kwh_30d,
            _("kWh/km"): r.kwh_30d / r.km_30d if r.km_30d else None,
            _("Charging plans [CNY]"): charging_by_depot.get(r.depot),
        }
        for r in rows
    ]
).set_index(_("Depot"))
whole = [RENT, _("Charger [kW]"), _("Grid limit [kW]"), KM30, KWH30]
st.table(
    per_depot.style.format(lambda v: fmt_number(v, 0), subset=whole).format(
        lambda v: fmt_number(v, 2), subset=[_("kWh/km"), _("Charging plans [CNY]")]
    )
)
st.caption(
    _(
        "Metered km and kWh: the 30 days up to {date}. Orders: the next service date with orders after the "
        "reference date. Charger kW is the sum of connector ratings; cabinets may share less."
    ).format(date=fmt_date(ctx.today))
)

st.subheader(_("Distance per depot, last 30 days [km]"))
distance = pd.DataFrame({"km": [r.km_30d for r in rows]}, index=[r.depot for r in rows])
st.bar_chart(distance, height=60 + 40 * len(rows), horizontal=True, x_label=_("km, last 30 days"), y_label="")
