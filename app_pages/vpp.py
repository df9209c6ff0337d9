"""VPP: tonight's flexibility per grid zone, an event's offer and least-cost dispatch across depots (every truck
ready, checked), and its settlement against a baseline with the revenue split per lease."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages._shell import page_context
from fleet import services
from fleet.services import vpp as svc

ctx = page_context("VPP")
with services.unit_of_work(ctx.url) as session:
    dates = svc.plan_dates(session, ctx.lessee_code)
if not dates:
    st.info("No charging plans in this scope yet: run `evfleet nightly --date YYYY-MM-DD` first.")
    st.stop()
day = st.selectbox("Service date (its night is offered)", dates, key="vpp_date")
with services.unit_of_work(ctx.url) as session:
    flex = svc.flexibility(session, ctx.lessee_code, day)
if flex.depots.empty:
    st.info(f"No stored charging plan with a problem for {day}.")
    st.stop()

st.subheader("Offer: flexibility per zone")
st.caption(
    "kW each zone can shed or add in a 15-minute slot with every truck still ready (one-slot bounds from tonight's "
    "plans; V2G only for trucks whose lease consents, on V2G connectors). A Guangdong VPP offers ≥ 5 MW for ≥ 1 h."
)
st.dataframe(flex.summary, hide_index=True, key="vpp_summary")
zones = sorted(flex.zones["zone"].unique())
zone = st.selectbox("Zone", ["(all)", *zones], key="vpp_zone")
shown = flex.zones if zone == "(all)" else flex.zones[flex.zones["zone"] == zone]
chart = shown.groupby("slot_start")[["planned_kw", "shed_kw", "add_kw", "v2g_kw"]].sum()
st.line_chart(chart, height=260)

st.subheader("Event")
slots = sorted(shown["slot_start"].unique())
with st.form("vpp_event"):
    c = st.columns(4)
    start = c[0].selectbox(
        "Start", slots, format_func=lambda t: f"{pd.Timestamp(t):%m-%d %H:%M}", key="vpp_start"
    )
    length = c[1].number_input("Slots (15 min)", 1, 16, 4, key="vpp_slots")
    direction = c[2].selectbox("Direction", ["down", "up"], key="vpp_direction")
    target = c[3].number_input("Target kW (0: price only)", 0.0, value=0.0, step=50.0, key="vpp_target")
    c = st.columns(3)
    price = c[0].number_input("Price CNY/kWh", 0.0, value=4.0, step=0.1, key="vpp_price")
    wear = c[1].number_input("Battery wear CNY/kWh discharged", 0.0, value=0.3, step=0.1, key="vpp_wear")
    floor = c[2].slider("V2G floor (state of charge)", 0.0, 1.0, 0.3, key="vpp_floor")
    go = st.form_submit_button("Dispatch", key="vpp_go")
if go:
    begin = pd.Timestamp(start).to_pydatetime()
    event = svc.Event(
        begin, begin + dt.timedelta(minutes=15 * int(length)), direction, float(target) or None, float(price)
    )
    try:
        with services.unit_of_work(ctx.url) as session:
            view = svc.dispatch_event(
                session, ctx.lessee_code, day, event, zone=None if zone == "(all)" else zone,
                wear_cny_per_kwh=float(wear), floor_soc=float(floor), time_limit_s=60,
            )  # fmt: skip
        st.session_state["vpp_dispatch"] = view
    except (ValueError, RuntimeError) as exc:
        st.error(str(exc))
view = st.session_state.get("vpp_dispatch")
if view is not None:
    st.subheader("Dispatch")
    ok = view.all_ready
    (st.success if ok else st.error)(
        f"{view.result.status}, solved in {view.result.solve_s:.2f} s; trucks ready "
        f"{int(view.depots['trucks_ready'].sum())}/{int(view.depots['trucks'].sum())}, charging checker "
        f"{'ok' if view.depots['check_ok'].all() else 'FAILED'} on every depot"
    )
    st.dataframe(view.slots, hide_index=True, key="vpp_slots_table")
    st.dataframe(view.depots, hide_index=True, key="vpp_depots_table")

    st.subheader("Settlement")
    c = st.columns(3)
    days = c[0].number_input("Baseline: previous N days", 1, 30, 5, key="vpp_days")
    similar = c[1].selectbox("Similar days", ["day_type", "any"], key="vpp_similar")
    measured = c[2].selectbox("Measured", ["meter", "dispatch"], key="vpp_measured")
    if st.button("Settle", key="vpp_settle"):
        try:
            with services.unit_of_work(ctx.url) as session:
                result = svc.settle(
                    session,
                    ctx.lessee_code,
                    view.record,
                    svc.BaselineMethod(int(days), similar),
                    measured=measured,
                )
            st.caption(f"Baseline: {result.method}")
            st.dataframe(result.depots, hide_index=True, key="vpp_settle_depots")
            st.dataframe(result.leases, hide_index=True, key="vpp_settle_leases")
            t = result.totals
            st.metric("Revenue CNY", f"{t['revenue_cny']:,.2f}")
            st.caption(f"Lessees {t['lessee_cny']:,.2f} CNY · lessor {t['lessor_cny']:,.2f} CNY")
        except ValueError as exc:
            st.error(str(exc))
