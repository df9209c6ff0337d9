"""Route planner: the depot-day's published route plan and its versions (drafts from re-solves, edits and
re-plans), solve now (a draft when a plan is published), edit routes by hand with the routing checker's verdict,
compare, publish, restore; map, per-truck timeline with state of charge, unserved jobs, electric-only vs mixed
fleet, route sheets. docs/plan-versions.md."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import _data, _replan_panel
from app_pages._pickers import depot_and_date
from app_pages._route_map import show_route_map
from app_pages._shell import after_write, page_context
from fleet import services
from fleet.services import audit as audit_svc
from fleet.services import plan_versions as versions_svc
from fleet.services import route_planner as svc
from fleet.services import solving
from fleet.services.frames import wall_clock
from fleet.services.i18n import N_, Column, _, fmt_number, localised
from fleet.services.route_labels import (
    KIND_LABELS,
    ROUTE_DISPLAY,
    SHEET_COLUMNS,
    UNSERVED_DISPLAY,
    road_network_text,
    routing_settings_lines,
    routing_settings_text,
)

# Every user-visible string of the page in one place (msgids; shown with `_()`, docs/i18n-and-map.md).
COMPARE_LABELS = {  # the fleet comparison's rows and columns (fleet.services.solving.compare_fleets), in words
    "mixed fleet": N_("mixed fleet"),
    "electric only": N_("electric only"),
    "trucks available": N_("trucks available"),
    "electric used": N_("electric trucks used"),
    "diesel used": N_("diesel trucks used"),
    "km": N_("distance [km]"),
    "kWh": N_("energy [kWh]"),
    "litres": N_("diesel [L]"),
    "cost [CNY]": N_("routing cost [CNY]"),
    "unserved": N_("orders unserved"),
    "solver": N_("solver status"),
}

L = {
    "author": N_("Your name (recorded as the author)"),
    "shown": N_("Plan version shown"),
    "published_caption": N_("Published plan: version {v}"),
    "draft_caption": N_("Showing {status} version {v} (published: {p})"),
    "none_published": N_("No version of this depot-day is published yet: publish one under Versions."),
    "stale": N_("This plan may be out of date: {msg}"),
    "tab_versions": N_("Versions"),
    "tab_edit": N_("Edit routes"),
    "tab_replan": N_("Re-plan"),
    "solved_published": N_(
        "Stored and published route plan version {v} for {depot} {day}: {trucks} trucks, {km} km, {unserved} unserved; charging {cny} CNY."
    ),
    "solved_draft": N_(
        "Stored draft version {v} for {depot} {day} ({trucks} trucks, {km} km, {unserved} unserved); the published plan is unchanged: compare and publish it under Versions."
    ),
    "solve_caption": N_(
        "Routes and the night's charging for this depot-day, checked by the independent checkers and stored as a new version, as the nightly job does. When a plan is already published the new version is a draft: the published plan changes only when you publish."
    ),
    "versions_caption": N_(
        "Every stored version of this depot-day, newest first. Exactly one is published: the one drivers, charging, emissions and finance read."
    ),
    "compare_a": N_("Compare version"),
    "compare_b": N_("with version"),
    "totals": N_("Totals"),
    "per_truck": N_("Per truck"),
    "moved": N_("Jobs moved (truck or position changed)"),
    "moved_none": N_("No job moved between these versions."),
    "publish_pick": N_("Version to publish"),
    "publish": N_("Publish"),
    "published_done": N_("Published version {v} for {depot} {day}."),
    "restore_pick": N_("Version to restore"),
    "restore_reason": N_("Reason for the restore"),
    "restore": N_("Restore as a new published version"),
    "restored_done": N_("Restored version {old} as version {v} (published) for {depot} {day}."),
    "edit_caption": N_(
        "Edits apply to version {v}. Each edit is re-checked at once by the independent routing checker (windows, state of charge with reserve, payload, shift); a plan with a violation cannot be saved."
    ),
    "op": N_("Edit"),
    "op_move": N_("Move a job to a truck"),
    "op_reorder": N_("Move a stop within its truck"),
    "op_unassign": N_("Unassign a job"),
    "job": N_("Job to edit"),
    "truck": N_("Edit on truck"),
    "position": N_("Position on the truck (1 = first stop)"),
    "add": N_("Apply edit"),
    "discard": N_("Discard edits"),
    "pending": N_("Edits so far"),
    "feasible": N_(
        "The routing checker accepts the edited plan: {km} km ({dkm}), {kwh} kWh ({dkwh}), {unserved} unserved."
    ),
    "refused": N_(
        "Refused by the routing checker: {n} violation(s). This plan cannot be saved: discard the edits and try another."
    ),
    "reason": N_("Reason for this version (required)"),
    "save": N_("Save as a draft version"),
    "saved": N_("Saved draft version {v} (edit of version {base}) for {depot} {day}."),
    "no_edits": N_("No edit yet."),
}
STATUS_LABELS = {"current": N_("published"), "draft": N_("draft"), "superseded": N_("superseded")}
ORIGIN_LABELS = {
    "nightly": N_("nightly"),
    "solve": N_("solve"),
    "edit": N_("edit"),
    "restore": N_("restore"),
    "replan": N_("re-plan"),
}
VERSIONS_DISPLAY = {
    "version": Column(N_("Version")),
    "status": Column(N_("Status")),
    "origin": Column(N_("Origin")),
    "author": Column(N_("Author")),
    "reason": Column(N_("Reason")),
    "created": Column(N_("Stored")),
    "based_on": Column(N_("Based on version")),
    "km": Column(N_("Distance [km]"), 1),
    "cost_cny": Column(N_("Routing cost [CNY]"), 2),
    "kwh": Column(N_("Energy [kWh]"), 1),
    "trucks": Column(N_("Trucks used")),
    "unserved": Column(N_("Unserved jobs")),
    "charging_cny": Column(N_("Charging cost [CNY]"), 2),
}
TOTAL_LABELS = {
    "km": N_("Distance [km]"),
    "cost_cny": N_("Routing cost [CNY]"),
    "kwh": N_("Energy [kWh]"),
    "trucks": N_("Trucks used"),
    "unserved": N_("Unserved jobs"),
    "stops_moved": N_("Stops moved"),
    "change": N_("Change"),
}
COMPARE_LABELS = {  # per-truck and moved-job columns, "{v}" = the version number
    "truck": N_("Truck"),
    "job": N_("Order reference"),
    "jobs_moved": N_("Jobs moved"),
    "km_v": N_("Distance v{v} [km]"),
    "stops_v": N_("Stops v{v}"),
    "kwh_v": N_("Energy v{v} [kWh]"),
    "truck_v": N_("Truck v{v}"),
    "position_v": N_("Position v{v}"),
}


def compare_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """The version comparison's frame with translated headers (`km_v3` -> "Distance v3 [km]")."""
    names = {}
    for col in frame.columns:
        stem, _sep, v = str(col).rpartition("_v")
        if stem and v.isdigit() and f"{stem}_v" in COMPARE_LABELS:
            names[col] = _(COMPARE_LABELS[f"{stem}_v"]).format(v=v)
        elif col in COMPARE_LABELS:
            names[col] = _(COMPARE_LABELS[col])
    return frame.rename(columns=names)


def sheet_shown(view: svc.RoutePlanView, truck: str) -> pd.DataFrame:
    """A driver's sheet with translated headers and kinds of stop."""
    sheet = svc.route_sheet(view, truck)
    sheet["kind"] = sheet["kind"].map(lambda k: _(KIND_LABELS.get(k, k)))
    return localised(sheet, SHEET_COLUMNS)


ctx = page_context("Route planner")  # msgid, translated by page_context
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
            _(L["shown"]),
            numbers,
            index=default,
            format_func=lambda v: f"{v} · {_(STATUS_LABELS.get(labels[v], labels[v]))}",
            key=f"routes_version_{depot.code}_{day.isoformat()}",
        )
    if shown_v is not None and shown_v == published_v:
        view = _data.route_plan(session, ctx.url, ctx.lessee_code, depot.code, day)
    else:
        view = None if shown_v is None else svc.route_view(session, ctx.lessee_code, depot.code, day, shown_v)
    warnings = (
        versions_svc.plan_warnings(session, ctx.lessee_code, depot.code, day, shown_v) if shown_v else []
    )
author = st.text_input(_(L["author"]), value="planner", key="routes_author").strip() or "planner"

with st.expander(_("Solve now"), expanded=view is None):
    st.caption(_(L["solve_caption"]))
    limit = st.slider(_("Routing time limit [s]"), 1, 120, 10, key="routes_time_limit")
    if st.button(_("Solve and store"), type="primary", disabled=orders == 0, key="routes_solve"):
        with st.status(
            _("Solving {depot} {day} ({orders} orders)…").format(
                depot=depot.code, day=day.isoformat(), orders=orders
            ),
            expanded=True,
        ) as status:
            bar = st.progress(0.0, text=_("starting the solver process"))
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
                    on_wait=lambda s: bar.progress(
                        min(s / (limit + 4.0), 0.99), text=_("{s} s elapsed").format(s=f"{s:.0f}")
                    ),
                )
            except solving.SolveFailed as exc:
                status.update(label=_("Solve failed; nothing was stored"), state="error")
                st.error(str(exc))
                st.stop()
            status.update(label=_("Stored version {v}").format(v=result["version"]), state="complete")
        st.session_state.pop(f"routes_version_{depot.code}_{day.isoformat()}", None)
        after_write(
            _(L["solved_published" if result["published"] else "solved_draft"]).format(
                v=result["version"],
                depot=depot.code,
                day=day.isoformat(),
                trucks=result["vehicles_used"],
                km=fmt_number(result["km"], 1),
                unserved=result["unserved"],
                cny=fmt_number(result["charging_cost_cny"], 2),
            )
        )
    if orders == 0:
        st.info(
            _("{depot} has no orders on {day}: nothing to plan.").format(
                depot=depot.code, day=day.isoformat()
            )
        )

if view is None:
    st.info(
        _(
            "No stored route plan for {depot} on {day} ({orders} orders). Solve it above, or run "
            "`evfleet nightly --date {day} --depots {depot}`."
        ).format(depot=depot.code, day=day.isoformat(), orders=orders)
    )
    st.stop()

created = _(", stored {when}").format(when=f"{view.created_at:%Y-%m-%d %H:%M}") if view.created_at else ""
if view.version == published_v:
    headline = _(L["published_caption"]).format(v=view.version)
else:
    headline = _(L["draft_caption"]).format(status=labels[view.version], v=view.version, p=published_v or "–")
st.caption(
    headline
    + created
    + " · "
    + _("solver {status} in {s} s").format(status=view.solver_status, s=fmt_number(view.solver_seconds, 1))
)
with st.expander(
    _("Travel matrices: {model}").format(model=road_network_text(view.road_network)), expanded=False
):
    st.caption(
        _(
            "Which model produced this plan's distances and driving times, recorded when it was solved: "
            "`evfleet nightly --road-network haversine | osm:PATH | osrm:URL | valhalla:URL` "
            "(docs/road-networks.md)."
        )
    )
    if view.road_network:
        st.json(view.road_network, expanded=True)
with st.expander(
    _("Routing settings: {summary}").format(summary=routing_settings_text(view.routing_settings)),
    expanded=False,
):
    st.caption(
        _(
            "What else shaped this plan's routes, recorded when it was solved (edits and re-plans keep their base "
            "plan's): set per depot with `evfleet depot-routing DEPOT`, zones with `evfleet zones import FILE` "
            "(docs/realism.md)."
        )
    )
    for line in routing_settings_lines(view.routing_settings):
        st.markdown("- " + line)
    if view.routing_settings:
        st.json(view.routing_settings, expanded=False)
if published_v is None:
    st.warning(_(L["none_published"]))
for w in warnings:
    st.warning(_(L["stale"]).format(msg=w.message))
cols = st.columns(6)
cols[0].metric(_("Trucks used"), f"{view.vehicles_used}", border=True)
cols[1].metric(_("Distance [km]"), fmt_number(view.km, 1), border=True)
cols[2].metric(_("Energy [kWh]"), fmt_number(view.kwh, 1), border=True)
cols[3].metric(_("Diesel [L]"), fmt_number(view.litres, 1), border=True)
cols[4].metric(
    _("Routing cost [CNY]"),
    fmt_number(view.cost_cny, 0),
    border=True,
    help=_("Drivers plus energy and fuel at planning prices (the objective the routes minimise)."),
)
cols[5].metric(_("Unserved jobs"), f"{len(view.unserved)}", border=True)
tab_map, tab_time, tab_unserved, tab_compare, tab_sheets, tab_versions, tab_edit, tab_replan = st.tabs(
    [
        _("Map"),
        _("Timeline"),
        _("Unserved ({n})").format(n=len(view.unserved)),
        _("Electric vs mixed"),
        _("Route sheets"),
        _(L["tab_versions"]),
        _(L["tab_edit"]),
        _(L["tab_replan"]),
    ]
)

with tab_map:
    show_route_map(view)
    routes_shown = wall_clock(view.routes, "departure", "return")
    for col in ("departure", "return"):
        routes_shown[col] = routes_shown[col].map(lambda t: "–" if pd.isna(t) else f"{t:%H:%M}")
    routes_shown["kind"] = routes_shown["kind"].map(lambda k: _(KIND_LABELS.get(k, k)))
    st.dataframe(localised(routes_shown, ROUTE_DISPLAY), hide_index=True, placeholder="–")

with tab_time:
    if view.routes.empty:
        st.info(_("No truck is routed in this plan."))
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
                x=alt.X("start:T", title=_("time"), axis=alt.Axis(format="%H:%M")),
                x2="end:T",
                y=alt.Y("vehicle:N", sort=None, title=None),
                color=alt.Color("kind:N"),
                tooltip=["vehicle", "kind", "jobs", alt.Tooltip("km:Q", format=".1f")],
            )
        )
        st.altair_chart(gantt.properties(height=alt.Step(24)), width="stretch")
        vehicle = st.selectbox(_("Truck"), list(view.routes["vehicle"]), key="routes_vehicle")
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
            st.markdown(
                "**" + _("State of charge along the route of {truck} [kWh]").format(truck=vehicle) + "**"
            )
            st.altair_chart(
                alt.Chart(soc)
                .mark_line(point=True)
                .encode(
                    x=alt.X("time:T", axis=alt.Axis(format="%H:%M")),
                    y=alt.Y("kWh:Q", title=_("state of charge [kWh]")),
                    tooltip=[alt.Tooltip("time:T", format="%H:%M"), alt.Tooltip("kWh:Q", format=".1f")],
                ),
                width="stretch",
            )
        else:
            st.caption(_("{truck} is a diesel truck: no state of charge.").format(truck=vehicle))
        st.dataframe(sheet_shown(view, vehicle), hide_index=True, placeholder="–")

with tab_unserved:
    if len(view.unserved):
        st.dataframe(localised(view.unserved, UNSERVED_DISPLAY), hide_index=True, placeholder="–")
    else:
        st.success(_("All {n} jobs are served.").format(n=orders))

with tab_compare:
    st.caption(
        _(
            "Routes the same orders twice in memory (nothing is stored): with every available truck, and with "
            "the electric trucks only."
        )
    )
    compare_limit = st.slider(_("Time limit per variant [s]"), 1, 60, 5, key="routes_compare_limit")
    compare_key = f"routes_compare_{depot.code}_{day.isoformat()}"
    if st.button(_("Compare"), key="routes_compare"):
        with st.status(_("Routing both fleets…"), expanded=True) as status:
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
                        min(s / (2 * compare_limit + 4.0), 0.99), text=_("{s} s elapsed").format(s=f"{s:.0f}")
                    ),
                )
                status.update(label=_("Both fleets routed"), state="complete")
            except solving.SolveFailed as exc:
                status.update(label=_("Comparison failed"), state="error")
                st.error(str(exc))
    if compare_key in st.session_state:
        table = st.session_state[compare_key]
        shown = table.map(lambda v: fmt_number(v, 1) if isinstance(v, float) else str(v)).T
        label = lambda key: _(COMPARE_LABELS[key]) if key in COMPARE_LABELS else key  # noqa: E731
        st.table(shown.rename(index=label, columns=label))

with tab_sheets:
    if view.routes.empty:
        st.info(_("No truck is routed in this plan: no route sheets."))
    else:
        chosen = st.selectbox(_("Driver's truck"), list(view.routes["vehicle"]), key="routes_sheet_vehicle")
        stem = f"route-{depot.code}-{day.isoformat()}"
        left, right = st.columns(2)
        left.download_button(
            _("Route sheet (CSV)"),
            svc.route_sheet_csv(view, chosen),
            f"{stem}-{chosen}.csv",
            "text/csv",
            key="routes_csv",
        )
        right.download_button(
            _("All route sheets (XLSX, one sheet per truck)"),
            svc.route_sheets_xlsx(view),
            f"{stem}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key="routes_xlsx",
        )
        st.dataframe(sheet_shown(view, chosen), hide_index=True, placeholder="–")

with tab_versions:
    st.caption(_(L["versions_caption"]))
    versions_shown = versions.assign(
        status=versions["status"].map(lambda v: _(STATUS_LABELS.get(v, v))),
        origin=versions["origin"].map(lambda v: _(ORIGIN_LABELS.get(v, v)) if v else "–"),
        created=versions["created"].map(lambda t: "–" if pd.isna(t) else f"{t:%Y-%m-%d %H:%M}"),
    )
    st.dataframe(localised(versions_shown, VERSIONS_DISPLAY), hide_index=True, placeholder="–")
    numbers = [int(v) for v in versions["version"]]
    if len(numbers) >= 2:
        left, right = st.columns(2)
        a = left.selectbox(_(L["compare_a"]), numbers, index=1, key="routes_cmp_a")
        b = right.selectbox(_(L["compare_b"]), numbers, index=0, key="routes_cmp_b")
        with services.unit_of_work(ctx.url) as session:
            cmp = versions_svc.compare_versions(session, ctx.lessee_code, depot.code, day, int(a), int(b))
        st.markdown("**" + _(L["totals"]) + "**")
        totals = cmp.totals.map(lambda v: "" if pd.isna(v) else fmt_number(v, 1))
        totals.index = [_(TOTAL_LABELS.get(i, i)) for i in totals.index]
        st.table(totals.rename(columns={"change": _(TOTAL_LABELS["change"])}))
        st.markdown("**" + _(L["per_truck"]) + "**")
        st.dataframe(compare_labels(cmp.trucks), hide_index=True)
        st.markdown("**" + _(L["moved"]) + f": {cmp.stops_moved}**")
        if len(cmp.moved):
            st.dataframe(compare_labels(cmp.moved), hide_index=True, placeholder="–")
        else:
            st.caption(_(L["moved_none"]))
    others = [v for v in numbers if v != published_v]
    if others:
        left, right = st.columns(2)
        with left:
            to_publish = st.selectbox(_(L["publish_pick"]), others, key="routes_publish_pick")
            if st.button(_(L["publish"]), key="routes_publish", type="primary"):
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
                        _(L["published_done"]).format(v=to_publish, depot=depot.code, day=day.isoformat())
                    )
        with right:
            to_restore = st.selectbox(_(L["restore_pick"]), others, key="routes_restore_pick")
            restore_reason = st.text_input(_(L["restore_reason"]), key="routes_restore_reason")
            if st.button(_(L["restore"]), key="routes_restore", disabled=not restore_reason.strip()):
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
                        _(L["restored_done"]).format(
                            old=to_restore, v=new_v, depot=depot.code, day=day.isoformat()
                        )
                    )

with tab_edit:
    st.caption(_(L["edit_caption"]).format(v=view.version))
    edits_key = f"routes_edits_{depot.code}_{day.isoformat()}_{view.version}"
    edits: list[dict] = st.session_state.setdefault(edits_key, [])
    trucks = list(view.routes["vehicle"]) + sorted(set(view.trucks) - set(view.routes["vehicle"]))
    jobs = sorted(
        view.stops.loc[view.stops["kind"] == "job", "stop"].tolist() + view.unserved["job"].tolist()
    )
    ops = {"move": _(L["op_move"]), "reorder": _(L["op_reorder"]), "unassign": _(L["op_unassign"])}
    op = st.radio(_(L["op"]), list(ops), horizontal=True, format_func=ops.get, key="routes_edit_op")
    c1, c2, c3 = st.columns(3)
    if op == "unassign":
        job = c1.selectbox(_(L["job"]), jobs, key="routes_edit_job")
        edit = {"op": "unassign", "job": job}
    else:
        truck = c1.selectbox(_(L["truck"]), trucks, key="routes_edit_truck")
        on_truck = view.stops.loc[(view.stops["vehicle"] == truck) & (view.stops["kind"] != "depot"), "stop"]
        job = c2.selectbox(_(L["job"]), list(on_truck) if op == "reorder" else jobs, key="routes_edit_job")
        position = c3.number_input(_(L["position"]), min_value=1, value=1, step=1, key="routes_edit_position")
        if op == "reorder":
            order = [s for s in on_truck if s != job]
            order.insert(min(int(position) - 1, len(order)), job)
            edit = {"op": "reorder", "truck": truck, "stops": order}
        else:
            edit = {"op": "move", "job": job, "truck": truck, "position": int(position)}
    b1, b2 = st.columns(2)
    if b1.button(_(L["add"]), key="routes_edit_add", disabled=job is None):
        edits.append(edit)
    if b2.button(_(L["discard"]), key="routes_edit_discard", disabled=not edits):
        edits.clear()
    if not edits:
        st.caption(_(L["no_edits"]))
    else:
        st.markdown("**" + _(L["pending"]) + "**")
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
            st.error(_(L["refused"]).format(n=len(verdict.violations)))
            for v in verdict.violations:
                st.markdown(f"- {v.text()}")
        elif verdict is not None:
            sol = verdict.solution
            st.success(
                _(L["feasible"]).format(
                    km=fmt_number(sol.total_distance_km, 1),
                    dkm=f"{sol.total_distance_km - view.km:+.1f}",
                    kwh=fmt_number(sol.total_energy_kwh, 1),
                    dkwh=f"{sol.total_energy_kwh - view.kwh:+.1f}",
                    unserved=len(sol.unserved),
                )
            )
            reason = st.text_input(_(L["reason"]), key="routes_edit_reason")
            if st.button(_(L["save"]), key="routes_edit_save", type="primary", disabled=not reason.strip()):
                with st.status(_("Checking and planning the night's charging…")) as status:
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
                        status.update(label=_("Not saved"), state="error")
                        st.error(str(exc))
                        st.stop()
                edits.clear()
                after_write(
                    _(L["saved"]).format(
                        v=result["version"], base=view.version, depot=depot.code, day=day.isoformat()
                    )
                )

with tab_replan:
    stored = _replan_panel.show(
        ctx.url,
        ctx.lessee_code,
        depot.code,
        day,
        published_v,
        list(view.routes["vehicle"]) + sorted(set(view.trucks) - set(view.routes["vehicle"])),
        sorted(view.stops.loc[view.stops["kind"] == "job", "stop"].tolist()),
        author,
        {int(v): str(s) for v, s in zip(versions["version"], versions["status"])},
    )
    if stored is not None:
        st.session_state.pop(f"routes_version_{depot.code}_{day.isoformat()}", None)
        after_write(_replan_panel.message(stored))
