"""Route planner: the depot-day's published route plan and its versions (drafts from re-solves, edits and
re-plans), solve now (a draft when a plan is published), edit routes by hand with the routing checker's verdict,
compare, publish, restore; map, per-truck timeline with state of charge, unserved jobs, electric-only vs mixed
fleet, route sheets. docs/plan-versions.md."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import _data
from app_pages._pickers import depot_and_date
from app_pages._route_map import show_route_map
from app_pages._shell import after_write, page_context
from fleet import services
from fleet.services import audit as audit_svc
from fleet.services import plan_versions as versions_svc
from fleet.services import route_planner as svc
from fleet.services import solving
from fleet.services.frames import wall_clock

# Every user-visible string of the versions and edit parts in one place (to be wrapped by the catalogue later).
L = {
    "author": "Your name (recorded as the author)",
    "shown": "Plan version shown",
    "published_caption": "Published plan: version {v}",
    "draft_caption": "Showing {status} version {v} (published: {p})",
    "none_published": "No version of this depot-day is published yet: publish one under Versions.",
    "stale": "This plan may be out of date: {msg}",
    "tab_versions": "Versions",
    "tab_edit": "Edit routes",
    "solved_published": "Stored and published route plan version {v} for {depot} {day}: {trucks} trucks, "
    "{km:,.1f} km, {unserved} unserved; charging {cny:,.2f} CNY.",
    "solved_draft": "Stored draft version {v} for {depot} {day} ({trucks} trucks, {km:,.1f} km, {unserved} "
    "unserved); the published plan is unchanged: compare and publish it under Versions.",
    "solve_caption": "Routes and the night's charging for this depot-day, checked by the independent checkers and "
    "stored as a new version, as the nightly job does. When a plan is already published the new version is a "
    "draft: the published plan changes only when you publish.",
    "versions_caption": "Every stored version of this depot-day, newest first. Exactly one is published: the one "
    "drivers, charging, emissions and finance read.",
    "compare_a": "Compare version",
    "compare_b": "with version",
    "totals": "Totals",
    "per_truck": "Per truck",
    "moved": "Jobs moved (truck or position changed)",
    "moved_none": "No job moved between these versions.",
    "publish_pick": "Version to publish",
    "publish": "Publish",
    "published_done": "Published version {v} for {depot} {day}.",
    "restore_pick": "Version to restore",
    "restore_reason": "Reason for the restore",
    "restore": "Restore as a new published version",
    "restored_done": "Restored version {old} as version {v} (published) for {depot} {day}.",
    "edit_caption": "Edits apply to version {v}. Each edit is re-checked at once by the independent routing checker "
    "(windows, state of charge with reserve, payload, shift); a plan with a violation cannot be saved.",
    "op": "Edit",
    "op_move": "Move a job to a truck",
    "op_reorder": "Move a stop within its truck",
    "op_unassign": "Unassign a job",
    "job": "Job to edit",
    "truck": "Edit on truck",
    "position": "Position on the truck (1 = first stop)",
    "add": "Apply edit",
    "discard": "Discard edits",
    "pending": "Edits so far",
    "feasible": "The routing checker accepts the edited plan: {km:,.1f} km ({dkm:+.1f}), {kwh:,.1f} kWh "
    "({dkwh:+.1f}), {unserved} unserved.",
    "refused": "Refused by the routing checker: {n} violation(s). This plan cannot be saved: discard the edits and "
    "try another.",
    "reason": "Reason for this version (required)",
    "save": "Save as a draft version",
    "saved": "Saved draft version {v} (edit of version {base}) for {depot} {day}.",
    "no_edits": "No edit yet.",
}

ctx = page_context("Route planner")
with services.unit_of_work(ctx.url) as session:  # this render's reads; solves run in a worker process
    picked = depot_and_date(ctx, session, "routes")
    if picked is None:
        st.stop()
    depot, day = picked
    orders = _data.order_count(session, ctx.url, ctx.lessee_code, depot.code, day)
    versions = versions_svc.versions_frame(session, ctx.lessee_code, depot.code, day)
    published = versions.loc[versions["status"] == "published", "version"]
    published_v = int(published.iloc[0]) if len(published) else None
    shown_v = None
    if len(versions):
        numbers = [int(v) for v in versions["version"]]
        default = numbers.index(published_v) if published_v in numbers else 0
        labels = dict(zip(numbers, versions["status"]))
        shown_v = st.selectbox(
            L["shown"],
            numbers,
            index=default,
            format_func=lambda v: f"{v} · {labels[v]}",
            key=f"routes_version_{depot.code}_{day.isoformat()}",
        )
    if shown_v is not None and shown_v == published_v:
        view = _data.route_plan(session, ctx.url, ctx.lessee_code, depot.code, day)
    else:
        view = None if shown_v is None else svc.route_view(session, ctx.lessee_code, depot.code, day, shown_v)
    warnings = (
        versions_svc.plan_warnings(session, ctx.lessee_code, depot.code, day, shown_v) if shown_v else []
    )
author = st.text_input(L["author"], value="planner", key="routes_author").strip() or "planner"

with st.expander("Solve now", expanded=view is None):
    st.caption(L["solve_caption"])
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
                    0,
                    author,
                    audit_svc.acting_user(),
                    on_wait=lambda s: bar.progress(min(s / (limit + 4.0), 0.99), text=f"{s:.0f} s elapsed"),
                )
            except solving.SolveFailed as exc:
                status.update(label="Solve failed; nothing was stored", state="error")
                st.error(str(exc))
                st.stop()
            status.update(label=f"Stored version {result['version']}", state="complete")
        st.session_state.pop(f"routes_version_{depot.code}_{day.isoformat()}", None)
        after_write(
            L["solved_published" if result["published"] else "solved_draft"].format(
                v=result["version"],
                depot=depot.code,
                day=day.isoformat(),
                trucks=result["vehicles_used"],
                km=result["km"],
                unserved=result["unserved"],
                cny=result["charging_cost_cny"],
            )
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
if view.version == published_v:
    headline = L["published_caption"].format(v=view.version)
else:
    headline = L["draft_caption"].format(status=labels[view.version], v=view.version, p=published_v or "none")
st.caption(f"{headline}{created} · solver {view.solver_status} in {view.solver_seconds:.1f} s")
if published_v is None:
    st.warning(L["none_published"])
for w in warnings:
    st.warning(L["stale"].format(msg=w.message))
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
tab_map, tab_time, tab_unserved, tab_compare, tab_sheets, tab_versions, tab_edit = st.tabs(
    [
        "Map",
        "Timeline",
        f"Unserved ({len(view.unserved)})",
        "Electric vs mixed",
        "Route sheets",
        L["tab_versions"],
        L["tab_edit"],
    ]
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

with tab_versions:
    st.caption(L["versions_caption"])
    st.dataframe(
        versions,
        hide_index=True,
        placeholder="–",
        column_config={"created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
    numbers = [int(v) for v in versions["version"]]
    if len(numbers) >= 2:
        left, right = st.columns(2)
        a = left.selectbox(L["compare_a"], numbers, index=1, key="routes_cmp_a")
        b = right.selectbox(L["compare_b"], numbers, index=0, key="routes_cmp_b")
        with services.unit_of_work(ctx.url) as session:
            cmp = versions_svc.compare_versions(session, ctx.lessee_code, depot.code, day, int(a), int(b))
        st.markdown(f"**{L['totals']}**")
        st.table(cmp.totals.map(lambda v: "" if pd.isna(v) else f"{v:,.1f}"))
        st.markdown(f"**{L['per_truck']}**")
        st.dataframe(cmp.trucks, hide_index=True)
        st.markdown(f"**{L['moved']}: {cmp.stops_moved}**")
        if len(cmp.moved):
            st.dataframe(cmp.moved, hide_index=True, placeholder="–")
        else:
            st.caption(L["moved_none"])
    others = [v for v in numbers if v != published_v]
    if others:
        left, right = st.columns(2)
        with left:
            to_publish = st.selectbox(L["publish_pick"], others, key="routes_publish_pick")
            if st.button(L["publish"], key="routes_publish", type="primary"):
                try:
                    with services.unit_of_work(ctx.url) as session:
                        versions_svc.publish(
                            session, ctx.lessee_code, depot.code, day, int(to_publish), author
                        )
                except (ValueError, versions_svc.PlanCheckFailed) as exc:
                    st.error(str(exc))
                else:
                    st.session_state.pop(f"routes_version_{depot.code}_{day.isoformat()}", None)
                    after_write(
                        L["published_done"].format(v=to_publish, depot=depot.code, day=day.isoformat())
                    )
        with right:
            to_restore = st.selectbox(L["restore_pick"], others, key="routes_restore_pick")
            restore_reason = st.text_input(L["restore_reason"], key="routes_restore_reason")
            if st.button(L["restore"], key="routes_restore", disabled=not restore_reason.strip()):
                try:
                    with services.unit_of_work(ctx.url) as session:
                        new_v = versions_svc.restore(
                            session, ctx.lessee_code, depot.code, day, int(to_restore), author, restore_reason
                        )
                except (ValueError, versions_svc.PlanCheckFailed) as exc:
                    st.error(str(exc))
                else:
                    st.session_state.pop(f"routes_version_{depot.code}_{day.isoformat()}", None)
                    after_write(
                        L["restored_done"].format(
                            old=to_restore, v=new_v, depot=depot.code, day=day.isoformat()
                        )
                    )

with tab_edit:
    st.caption(L["edit_caption"].format(v=view.version))
    edits_key = f"routes_edits_{depot.code}_{day.isoformat()}_{view.version}"
    edits: list[dict] = st.session_state.setdefault(edits_key, [])
    trucks = list(view.routes["vehicle"]) + sorted(set(view.trucks) - set(view.routes["vehicle"]))
    jobs = sorted(
        view.stops.loc[view.stops["kind"] == "job", "stop"].tolist() + view.unserved["job"].tolist()
    )
    ops = [L["op_move"], L["op_reorder"], L["op_unassign"]]
    op = st.radio(L["op"], ops, horizontal=True, key="routes_edit_op")
    c1, c2, c3 = st.columns(3)
    if op == L["op_unassign"]:
        job = c1.selectbox(L["job"], jobs, key="routes_edit_job")
        edit = {"op": "unassign", "job": job}
    else:
        truck = c1.selectbox(L["truck"], trucks, key="routes_edit_truck")
        on_truck = view.stops.loc[(view.stops["vehicle"] == truck) & (view.stops["kind"] != "depot"), "stop"]
        job = c2.selectbox(L["job"], list(on_truck) if op == L["op_reorder"] else jobs, key="routes_edit_job")
        position = c3.number_input(L["position"], min_value=1, value=1, step=1, key="routes_edit_position")
        if op == L["op_reorder"]:
            order = [s for s in on_truck if s != job]
            order.insert(min(int(position) - 1, len(order)), job)
            edit = {"op": "reorder", "truck": truck, "stops": order}
        else:
            edit = {"op": "move", "job": job, "truck": truck, "position": int(position)}
    b1, b2 = st.columns(2)
    if b1.button(L["add"], key="routes_edit_add", disabled=job is None):
        edits.append(edit)
    if b2.button(L["discard"], key="routes_edit_discard", disabled=not edits):
        edits.clear()
    if not edits:
        st.caption(L["no_edits"])
    else:
        st.markdown(f"**{L['pending']}**")
        st.dataframe(pd.DataFrame([{k: str(v) for k, v in e.items()} for e in edits]), hide_index=True)
        try:
            with services.unit_of_work(ctx.url) as session:
                verdict = versions_svc.preview_edits(
                    session, ctx.lessee_code, depot.code, day, int(view.version), edits
                )
        except versions_svc.EditError as exc:
            edits.pop()
            st.error(str(exc))
            verdict = None
        if verdict is not None and not verdict.feasible:
            st.error(L["refused"].format(n=len(verdict.violations)))
            for v in verdict.violations:
                st.markdown(f"- {v.message}")
        elif verdict is not None:
            sol = verdict.solution
            st.success(
                L["feasible"].format(
                    km=sol.total_distance_km,
                    dkm=sol.total_distance_km - view.km,
                    kwh=sol.total_energy_kwh,
                    dkwh=sol.total_energy_kwh - view.kwh,
                    unserved=len(sol.unserved),
                )
            )
            reason = st.text_input(L["reason"], key="routes_edit_reason")
            if st.button(L["save"], key="routes_edit_save", type="primary", disabled=not reason.strip()):
                with st.status("Checking and planning the night's charging…") as status:
                    try:
                        result = solving.run_isolated(
                            versions_svc.save_edit,
                            ctx.url,
                            ctx.lessee_code,
                            depot.code,
                            day,
                            int(view.version),
                            list(edits),
                            author,
                            reason,
                        )
                    except solving.SolveFailed as exc:
                        status.update(label="Not saved", state="error")
                        st.error(str(exc))
                        st.stop()
                edits.clear()
                after_write(
                    L["saved"].format(
                        v=result["version"], base=view.version, depot=depot.code, day=day.isoformat()
                    )
                )
