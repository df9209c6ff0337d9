"""Route planner: the depot-day's stored route plan, or solve now (stored as a new version like the nightly job);
map, per-truck timeline with state of charge, unserved jobs, electric-only vs mixed fleet, route sheets."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import _data
from app_pages._pickers import depot_and_date
from app_pages._route_map import show_route_map
from app_pages._shell import after_write, page_context
from fleet import services
from fleet.services import route_planner as svc
from fleet.services import solving
from fleet.services.frames import wall_clock

ctx = page_context("Route planner")
with services.unit_of_work(ctx.url) as session:  # this render's reads; solves run in a worker process
    picked = depot_and_date(ctx, session, "routes")
    if picked is None:
        st.stop()
    depot, day = picked
    orders = _data.order_count(session, ctx.url, ctx.lessee_code, depot.code, day)
    view = _data.route_plan(session, ctx.url, ctx.lessee_code, depot.code, day)

with st.expander("Solve now", expanded=view is None):
    st.caption(
        "Routes and the night's charging for this depot-day, checked by the independent checkers and "
        "stored as a new current version (the previous one is kept as superseded), as the nightly job does."
    )
    limit = st.slider("Routing time limit [s]", 1, 120, 10, key="routes_time_limit")
    if st.button("Solve and store", type="primary", disabled=orders == 0, key="routes_solve"):
        with st.status(f"Solving {depot.code} {day.isoformat()} ({orders} orders)…", expanded=True) as status:
            bar = st.progress(0.0, text="starting the solver process")
            try:
                result = solving.run_isolated(
                    solving.solve_and_store,
                    ctx.url,
                    ctx.lessee_code,
                    depot.code,
                    day,
                    float(limit),
                    on_wait=lambda s: bar.progress(min(s / (limit + 4.0), 0.99), text=f"{s:.0f} s elapsed"),
                )
            except solving.SolveFailed as exc:
                status.update(label="Solve failed; nothing was stored", state="error")
                st.error(str(exc))
                st.stop()
            status.update(label=f"Stored version {result['version']}", state="complete")
        after_write(
            f"Stored route plan version {result['version']} for {depot.code} {day.isoformat()}: "
            f"{result['vehicles_used']} trucks, {result['km']:,.1f} km, {result['unserved']} unserved; "
            f"charging {result['charging_cost_cny']:,.2f} CNY."
        )
    if orders == 0:
        st.info(f"{depot.code} has no orders on {day.isoformat()}: nothing to plan.")

if view is None:
    st.info(
        f"No stored route plan for {depot.code} on {day.isoformat()} ({orders} orders). Solve it above, or "
        f"run `evfleet nightly --date {day.isoformat()} --depots {depot.code}`."
    )
    st.stop()

created = f", stored {view.created_at:%Y-%m-%d %H:%M}" if view.created_at else ""
st.caption(
    f"Current plan: version {view.version}{created} · solver {view.solver_status} in "
    f"{view.solver_seconds:.1f} s"
)
cols = st.columns(6)
cols[0].metric("Trucks used", f"{view.vehicles_used}", border=True)
cols[1].metric("Distance [km]", f"{view.km:,.1f}", border=True)
cols[2].metric("Energy [kWh]", f"{view.kwh:,.1f}", border=True)
cols[3].metric("Diesel [L]", f"{view.litres:,.1f}", border=True)
cols[4].metric(
    "Routing cost [CNY]",
    f"{view.cost_cny:,.0f}",
    border=True,
    help="Drivers plus energy and fuel at planning prices (the objective the routes minimise).",
)
cols[5].metric("Unserved jobs", f"{len(view.unserved)}", border=True)

tab_map, tab_time, tab_unserved, tab_compare, tab_sheets = st.tabs(
    ["Map", "Timeline", f"Unserved ({len(view.unserved)})", "Electric vs mixed", "Route sheets"]
)

with tab_map:
    show_route_map(view)
    st.dataframe(
        wall_clock(view.routes.drop(columns=["colour"]), "departure", "return"),
        hide_index=True,
        placeholder="–",
        column_config={
            "departure": st.column_config.TimeColumn(format="HH:mm"),
            "return": st.column_config.TimeColumn(format="HH:mm"),
        },
    )

with tab_time:
    if view.routes.empty:
        st.info("No truck is routed in this plan.")
    else:
        spans = wall_clock(
            view.routes.assign(start=view.routes["departure"], end=view.routes["return"])[
                ["vehicle", "kind", "start", "end", "jobs", "km"]
            ],
            "start",
            "end",
        )
        gantt = (
            alt.Chart(spans)
            .mark_bar()
            .encode(
                x=alt.X("start:T", title="time", axis=alt.Axis(format="%H:%M")),
                x2="end:T",
                y=alt.Y("vehicle:N", sort=None, title=None),
                color=alt.Color("kind:N"),
                tooltip=["vehicle", "kind", "jobs", alt.Tooltip("km:Q", format=".1f")],
            )
        )
        st.altair_chart(gantt.properties(height=alt.Step(24)), width="stretch")
        vehicle = st.selectbox("Truck", list(view.routes["vehicle"]), key="routes_vehicle")
        stops = view.stops[view.stops["vehicle"] == vehicle]
        soc = pd.DataFrame(
            [
                {"time": t, "kWh": e}
                for _, s in stops.iterrows()
                for t, e in ((s["arrival"], s["soc_arrival_kwh"]), (s["departure"], s["soc_departure_kwh"]))
                if pd.notna(t) and pd.notna(e)
            ],
            columns=["time", "kWh"],
        )
        soc = wall_clock(soc, "time")
        if len(soc):
            st.markdown(f"**State of charge along the route of {vehicle} [kWh]**")
            st.altair_chart(
                alt.Chart(soc)
                .mark_line(point=True)
                .encode(
                    x=alt.X("time:T", axis=alt.Axis(format="%H:%M")),
                    y=alt.Y("kWh:Q", title="state of charge [kWh]"),
                    tooltip=[alt.Tooltip("time:T", format="%H:%M"), alt.Tooltip("kWh:Q", format=".1f")],
                ),
                width="stretch",
            )
        else:
            st.caption(f"{vehicle} is a diesel truck: no state of charge.")
        st.dataframe(svc.route_sheet(view, vehicle), hide_index=True, placeholder="–")

with tab_unserved:
    if len(view.unserved):
        st.dataframe(view.unserved, hide_index=True, placeholder="–")
    else:
        st.success(f"All {orders} jobs are served.")

with tab_compare:
    st.caption(
        "Routes the same orders twice in memory (nothing is stored): with every available truck, and with "
        "the electric trucks only."
    )
    compare_limit = st.slider("Time limit per variant [s]", 1, 60, 5, key="routes_compare_limit")
    compare_key = f"routes_compare_{depot.code}_{day.isoformat()}"
    if st.button("Compare", key="routes_compare"):
        with st.status("Routing both fleets…", expanded=True) as status:
            bar = st.progress(0.0)
            try:
                with services.unit_of_work(
                    ctx.url
                ) as session:  # this action's read: the stored plan's problem
                    problem = svc.stored_routing_problem(session, ctx.lessee_code, depot.code, day)
                if problem is None:  # gone since the page was drawn (another process changed the database)
                    raise solving.SolveFailed(f"no stored route plan for {depot.code} {day.isoformat()}")
                st.session_state[compare_key] = solving.run_isolated(
                    solving.compare_fleets,
                    problem,
                    float(compare_limit),
                    on_wait=lambda s: bar.progress(
                        min(s / (2 * compare_limit + 4.0), 0.99), text=f"{s:.0f} s"
                    ),
                )
                status.update(label="Both fleets routed", state="complete")
            except solving.SolveFailed as exc:
                status.update(label="Comparison failed", state="error")
                st.error(str(exc))
    if compare_key in st.session_state:
        table = st.session_state[compare_key]
        shown = table.map(lambda v: f"{v:,.1f}" if isinstance(v, float) else str(v)).T
        st.table(shown)

with tab_sheets:
    if view.routes.empty:
        st.info("No truck is routed in this plan: no route sheets.")
    else:
        chosen = st.selectbox("Driver's truck", list(view.routes["vehicle"]), key="routes_sheet_vehicle")
        stem = f"route-{depot.code}-{day.isoformat()}"
        left, right = st.columns(2)
        left.download_button(
            "Route sheet (CSV)",
            svc.route_sheet_csv(view, chosen),
            f"{stem}-{chosen}.csv",
            "text/csv",
            key="routes_csv",
        )
        right.download_button(
            "All route sheets (XLSX, one sheet per truck)",
            svc.route_sheets_xlsx(view),
            f"{stem}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key="routes_xlsx",
        )
        st.dataframe(svc.route_sheet(view, chosen), hide_index=True, placeholder="–")
