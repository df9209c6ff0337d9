"""VPP: tonight's flexibility per grid zone, an event's offer and least-cost dispatch across depots (every truck
ready, checked), and its settlement against a baseline with the revenue split per lease."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages._shell import page_context
from fleet import services
from fleet.services import vpp as svc
from fleet.services.i18n import N_, _, fmt_number, localised

DIRECTIONS = {"down": N_("down (shed load)"), "up": N_("up (add load)")}
SIMILAR = {"day_type": N_("same day type (workday/weekend)"), "any": N_("any day")}
MEASURED = {"meter": N_("site meter"), "dispatch": N_("dispatched plan (what-if)")}
FLEX_SERIES = {
    "planned_kw": N_("planned [kW]"),
    "shed_kw": N_("can shed [kW]"),
    "add_kw": N_("can add [kW]"),
    "v2g_kw": N_("V2G [kW]"),
}


def _clock(frame: pd.DataFrame, *cols: str) -> pd.DataFrame:
    """Times as 'MM-DD HH:MM' local (no ISO strings with offsets in a table)."""
    out = frame.copy()
    for c in cols:
        if c in out.columns:
            out[c] = out[c].map(lambda t: "–" if pd.isna(t) else f"{pd.Timestamp(t):%m-%d %H:%M}")
    return out


ctx = page_context("VPP")  # msgid, translated by page_context
with services.unit_of_work(ctx.url) as session:
    dates = svc.plan_dates(session, ctx.lessee_code)
if not dates:
    st.info(_("No charging plans in this scope yet: run `evfleet nightly --date YYYY-MM-DD` first."))
    st.stop()
day = st.selectbox(_("Service date (its night is offered)"), dates, key="vpp_date")
with services.unit_of_work(ctx.url) as session:
    flex = svc.flexibility(session, ctx.lessee_code, day)
if flex.depots.empty:
    st.info(_("No stored charging plan with a problem for {day}.").format(day=day))
    st.stop()

st.subheader(_("Offer: flexibility per zone"))
st.caption(
    _(
        "kW each zone can shed or add in a 15-minute slot with every truck still ready (one-slot bounds from "
        "tonight's plans; V2G only for trucks whose lease consents, on V2G connectors). A Guangdong VPP offers "
        "≥ 5 MW for ≥ 1 h."
    )
)
st.dataframe(localised(_clock(flex.summary, "at"), svc.SUMMARY_DISPLAY), hide_index=True, key="vpp_summary")
zones = sorted(flex.zones["zone"].unique())
ALL = _("(all)")  # shown as the option itself: one value per language
zone = st.selectbox(_("Zone"), [ALL, *zones], key="vpp_zone")
shown = flex.zones if zone == ALL else flex.zones[flex.zones["zone"] == zone]
chart = shown.groupby("slot_start")[list(FLEX_SERIES)].sum()
st.line_chart(chart.rename(columns={k: _(v) for k, v in FLEX_SERIES.items()}), height=260)

st.subheader(_("Event"))
slots = sorted(shown["slot_start"].unique())
with st.form("vpp_event"):
    c = st.columns(4)
    start = c[0].selectbox(
        _("Start"), slots, format_func=lambda t: f"{pd.Timestamp(t):%m-%d %H:%M}", key="vpp_start"
    )
    length = c[1].number_input(_("Slots (15 min)"), 1, 16, 4, key="vpp_slots")
    directions = {k: _(v) for k, v in DIRECTIONS.items()}
    direction = c[2].selectbox(
        _("Direction"), list(directions), format_func=directions.get, key="vpp_direction"
    )
    target = c[3].number_input(_("Target kW (0: price only)"), 0.0, value=0.0, step=50.0, key="vpp_target")
    c = st.columns(3)
    price = c[0].number_input(_("Price CNY/kWh"), 0.0, value=4.0, step=0.1, key="vpp_price")
    wear = c[1].number_input(_("Battery wear CNY/kWh discharged"), 0.0, value=0.3, step=0.1, key="vpp_wear")
    floor = c[2].slider(_("V2G floor (state of charge)"), 0.0, 1.0, 0.3, key="vpp_floor")
    go = st.form_submit_button(_("Dispatch"), key="vpp_go")
if go:
    begin = pd.Timestamp(start).to_pydatetime()
    event = svc.Event(
        begin, begin + dt.timedelta(minutes=15 * int(length)), direction, float(target) or None, float(price)
    )
    try:
        with services.unit_of_work(ctx.url) as session:
            view = svc.dispatch_event(
                session, ctx.lessee_code, day, event, zone=None if zone == ALL else zone,
                wear_cny_per_kwh=float(wear), floor_soc=float(floor), time_limit_s=60,
            )  # fmt: skip
        st.session_state["vpp_dispatch"] = view
    except (ValueError, RuntimeError) as exc:
        st.error(str(exc))
view = st.session_state.get("vpp_dispatch")
if view is not None:
    st.subheader(_("Dispatch"))
    ok = view.all_ready
    (st.success if ok else st.error)(
        _(
            "{status}, solved in {s} s; trucks ready {ready}/{trucks}, charging checker {check} on every depot"
        ).format(
            status=view.result.status,
            s=fmt_number(view.result.solve_s, 2),
            ready=int(view.depots["trucks_ready"].sum()),
            trucks=int(view.depots["trucks"].sum()),
            check=_("ok") if view.depots["check_ok"].all() else _("FAILED"),
        )
    )
    st.dataframe(
        localised(_clock(view.slots, "slot_start"), svc.SLOT_DISPLAY), hide_index=True, key="vpp_slots_table"
    )
    st.dataframe(localised(view.depots, svc.DISPATCH_DEPOT_DISPLAY), hide_index=True, key="vpp_depots_table")

    st.subheader(_("Settlement"))
    c = st.columns(3)
    days = c[0].number_input(_("Baseline: previous N days"), 1, 30, 5, key="vpp_days")
    similars = {k: _(v) for k, v in SIMILAR.items()}
    similar = c[1].selectbox(_("Similar days"), list(similars), format_func=similars.get, key="vpp_similar")
    measures = {k: _(v) for k, v in MEASURED.items()}
    measured = c[2].selectbox(_("Measured"), list(measures), format_func=measures.get, key="vpp_measured")
    if st.button(_("Settle"), key="vpp_settle"):
        try:
            with services.unit_of_work(ctx.url) as session:
                result = svc.settle(
                    session,
                    ctx.lessee_code,
                    view.record,
                    svc.BaselineMethod(int(days), similar),
                    measured=measured,
                )
            st.caption(_("Baseline: {method}").format(method=result.method))
            st.dataframe(
                localised(result.depots, svc.SETTLE_DEPOT_DISPLAY), hide_index=True, key="vpp_settle_depots"
            )
            st.dataframe(
                localised(result.leases, svc.SETTLE_LEASE_DISPLAY), hide_index=True, key="vpp_settle_leases"
            )
            t = result.totals
            st.metric(_("Revenue [CNY]"), fmt_number(t["revenue_cny"], 2))
            st.caption(
                _("Lessees {lessee} CNY · lessor {lessor} CNY").format(
                    lessee=fmt_number(t["lessee_cny"], 2), lessor=fmt_number(t["lessor_cny"], 2)
                )
            )
        except ValueError as exc:
            st.error(str(exc))
