"""Charging: the night's stored schedule as a Gantt chart per connector, site load against the grid limit over the
time-of-use bands, cost and savings against uncontrolled and earliest-deadline-first; what-if on grid limit and
tariff (re-solved in memory, never stored)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from app_pages import _data
from app_pages._pickers import depot_and_date
from app_pages._shell import page_context
from fleet import services
from fleet.services import charging as svc
from fleet.services import depot_billing
from fleet.services.fleet_leases import FormRejected
from fleet.services.frames import wall_clock

LOAD_HEIGHT = 320
BAND_COLOURS = {"valley": "#4caf50", "flat": "#9e9e9e", "peak": "#ff9800", "critical_peak": "#e53935"}

ctx = page_context("Charging")
with services.unit_of_work(ctx.url) as session:  # this render's reads; the what-if needs no database
    picked = depot_and_date(ctx, session, "charging")
    if picked is None:
        st.stop()
    depot, day = picked
    stored = _data.charging_plan(session, ctx.url, ctx.lessee_code, depot.code, day)
    billing = depot_billing.billing_settings(session, ctx.lessee_code, depot.code, day)


def billing_panel(settings: depot_billing.BillingSettings) -> None:
    """How the depot is billed and what its chargers can run; saved in its own unit of work."""
    with st.expander(f"Billing and chargers · {settings.this_month}"):
        st.caption(
            "The demand rate comes from the depot's tariff "
            f"({settings.demand_rate_cny_per_kw_month:g} CNY/kW·month, graded weak). A separately metered "
            "centralised charging facility on a two-part tariff pays no demand (capacity) charge until 2030 "
            "(NDRC 2023); chargers behind the warehouse meter still pay on the site's peak. See "
            "docs/charging-economics.md."
        )
        with st.form(f"billing_{settings.depot_code}"):
            left, right = st.columns(2)
            structures, bases = list(depot_billing.STRUCTURE_LABELS), list(depot_billing.BASIS_LABELS)
            structure = left.selectbox(
                "Tariff structure",
                structures,
                index=structures.index(settings.tariff_structure),
                format_func=depot_billing.STRUCTURE_LABELS.get,
                key="billing_structure",
            )
            basis = right.selectbox(
                "Basic charge basis",
                bases,
                index=bases.index(settings.demand_basis),
                format_func=depot_billing.BASIS_LABELS.get,
                key="billing_basis",
            )
            a, b, c = st.columns(3)
            contract = a.text_input(
                "Contracted demand [kW]", _text(settings.contracted_demand_kw), key="billing_contract"
            )
            kva = b.text_input("Transformer [kVA]", _text(settings.transformer_kva), key="billing_kva")
            capacity = c.text_input(
                "Capacity rate [CNY/kVA·month]",
                _text(settings.capacity_rate_cny_per_kva_month),
                key="billing_cap",
            )
            central = a.checkbox(
                "Centralised charging facility", settings.centralised_charging_facility, key="billing_central"
            )
            separate = b.checkbox(
                "Chargers metered separately", settings.charging_metered_separately, key="billing_separate"
            )
            changes = a.text_input(
                "Power changes per truck a night (≤)",
                _text(settings.charging_max_power_changes),
                key="billing_k",
            )
            min_kw = b.text_input(
                "Minimum power while on [kW]", _text(settings.charging_min_kw), key="billing_min"
            )
            funds = c.text_input(
                "Funds and surcharges [CNY/kWh], unscaled",
                _text(settings.funds_cny_per_kwh),
                key="billing_funds",
                help="政府性基金及附加: added to every kWh bought, not scaled by the time-of-use multipliers "
                "(default 0.095, derived from the Shenzhen 2023 price table, graded weak)",
            )
            policies = list(depot_billing.SHORTFALL_LABELS)
            policy = st.selectbox(
                "When not every truck can be charged",
                policies,
                index=policies.index(settings.charging_shortfall_policy),
                format_func=depot_billing.SHORTFALL_LABELS.get,
                key="billing_policy",
            )
            base_load = st.text_area(
                "Base load without the chargers [kW]: 24 hourly or 96 quarter-hourly values from 00:00 "
                "(paste a row from Excel); the meter bills the site's peak, base load included",
                " ".join(f"{x:g}" for x in settings.base_load_kw),
                key="billing_base",
            )
            save = st.form_submit_button("Save billing and charger limits")
        if save:
            values = {
                "tariff_structure": structure,
                "demand_basis": basis,
                "contracted_demand_kw": contract,
                "transformer_kva": kva,
                "capacity_rate_cny_per_kva_month": capacity,
                "centralised_charging_facility": central,
                "charging_metered_separately": separate,
                "charging_max_power_changes": changes,
                "charging_min_kw": min_kw,
                "funds_cny_per_kwh": funds,
                "charging_shortfall_policy": policy,
                "base_load_kw": base_load,
            }
            try:
                with services.unit_of_work(ctx.url) as write:
                    depot_billing.update_billing(write, ctx.lessee_code, settings.depot_code, values)
            except FormRejected as exc:
                st.error("Not saved: " + "; ".join(str(e) for e in exc.errors))
            else:
                st.success("Saved; the next plan for this depot uses it.")


def _text(value: object) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


billing_panel(billing)
if stored is None:
    st.info(
        f"No stored charging plan for the night before {day.isoformat()} at {depot.code}. The nightly job "
        f"(`evfleet nightly --date {day.isoformat()} --depots {depot.code}`) or the Route planner's "
        '"Solve and store" plans it together with the routes.'
    )
    st.stop()


def gantt(view: svc.ChargingView) -> alt.Chart:
    bars = wall_clock(view.bars, "start", "end")
    return (
        alt.Chart(bars)
        .mark_bar(cornerRadius=2)
        .encode(
            x=alt.X("start:T", title="time", axis=alt.Axis(format="%H:%M")),
            x2="end:T",
            y=alt.Y("connector:N", title="connector", scale=alt.Scale(domain=list(view.connectors))),
            color=alt.Color("vehicle:N", legend=None),
            tooltip=[
                "connector",
                "vehicle",
                alt.Tooltip("start:T", format="%H:%M"),
                alt.Tooltip("end:T", format="%H:%M"),
                alt.Tooltip("kw:Q", title="max kW", format=".1f"),
                alt.Tooltip("kwh:Q", title="kWh", format=".1f"),
            ],
        )
        .properties(height=alt.Step(26))
    )


def load_chart(view: svc.ChargingView) -> alt.LayerChart:
    bands = wall_clock(view.bands, "start", "end")
    load = wall_clock(view.load, "start", "end")
    lines = load.melt(
        id_vars=["start"], value_vars=["site_kw", "uncontrolled_kw"], var_name="series", value_name="kW"
    ).replace({"series": {"site_kw": "optimised", "uncontrolled_kw": "uncontrolled"}})
    domain = [b for b in BAND_COLOURS if b in set(bands["band"])] + sorted(
        set(bands["band"]) - set(BAND_COLOURS)
    )
    background = (
        alt.Chart(bands)
        .mark_rect(opacity=0.18)
        .encode(
            x="start:T",
            x2="end:T",
            color=alt.Color(
                "band:N",
                title="time-of-use band",
                scale=alt.Scale(domain=domain, range=[BAND_COLOURS.get(b, "#bbbbbb") for b in domain]),
            ),
        )
    )
    curves = (
        alt.Chart(lines)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("start:T", title="time", axis=alt.Axis(format="%H:%M")),
            y=alt.Y("kW:Q", title="site load [kW]"),
            strokeDash=alt.StrokeDash("series:N", title="schedule", sort=["optimised", "uncontrolled"]),
            tooltip=[alt.Tooltip("start:T", format="%H:%M"), "series", alt.Tooltip("kW:Q", format=".1f")],
        )
    )
    limit = (
        alt.Chart(pd.DataFrame({"kW": [view.grid_limit_kw], "label": ["grid limit"]}))
        .mark_rule(color="#d32f2f", strokeWidth=2)
        .encode(y="kW:Q", tooltip=["label", "kW"])
    )
    return (
        alt.layer(background, curves, limit).resolve_scale(color="independent").properties(height=LOAD_HEIGHT)
    )


MONEY_COLUMNS = [
    "energy [CNY]",
    "demand per night [CNY]",
    "night bill [CNY]",
    "energy saving of the optimised [CNY]",
    "night saving of the optimised [CNY]",
]


def costs_table(view: svc.ChargingView) -> Styler:
    """The plan and every baseline, formatted: money to the fen, peak to 0.1 kW (stored night and what-if alike)."""
    table = view.costs.drop(columns=["strategy"]).set_index("label")
    table.index.name = "schedule"
    return table.style.format("{:,.2f}", subset=MONEY_COLUMNS).format("{:,.1f}", subset=["peak [kW]"])


NIGHT_HELP = (
    "The night as billed: energy at the time-of-use price + the demand charge pro-rated (the month's charge on "
    "the night's site peak ÷ days in the month). A month's bill pays one demand charge on the month's maximum."
)


def headline(view: svc.ChargingView) -> None:
    unc, timer = view.saving_vs("uncontrolled"), view.saving_vs("timer")
    cols = st.columns(5)
    basis = "" if view.night_basis else " (stored before the night basis: objective total)"
    cols[0].metric(
        "Charging cost [CNY]",
        f"{view.cost_cny:,.2f}",
        border=True,
        help=f"Energy {view.energy_cost_cny:,.2f} + demand per night {view.demand_cost_cny:,.2f}{basis}. "
        + NIGHT_HELP,
    )
    cols[1].metric(
        "Energy saving vs uncontrolled [CNY]",
        f"{unc[0]:,.2f}" if unc else "—",
        border=True,
        help="Energy alone, against every truck at connector power from arrival.",
    )
    cols[2].metric(
        "Night saving vs uncontrolled [CNY]",
        f"{unc[1]:,.2f}" if unc else "—",
        f"{unc[2]:.1f} %" if unc else None,
        border=True,
        help=NIGHT_HELP,
    )
    cols[2].caption(
        f"vs valley timer: energy {timer[0]:,.2f}, night {timer[1]:,.2f} CNY"
        if timer
        else "vs valley timer: —"
    )
    cols[3].metric(
        "Peak [kW]",
        f"{view.peak_kw:,.1f}",
        f"limit {view.grid_limit_kw:,.0f} kW",
        delta_color="off",
        border=True,
    )
    cols[4].metric("Energy from the grid [kWh]", f"{view.grid_kwh:,.1f}", border=True)


view = stored.view
created = f", stored {view.created_at:%Y-%m-%d %H:%M}" if view.created_at else ""
st.caption(
    f"Night before {day.isoformat()} · version {view.version}{created} · tariff {view.tariff} (base "
    f"{view.base_price:.4f} CNY/kWh, demand {view.demand_rate:g} CNY/kW·month) · solver {view.solver} "
    f"({view.status})"
)
headline(view)
ready = view.readiness
short = ready[ready["short [kWh]"] > 0]
st.markdown(
    f"**Readiness: {len(ready) - len(short)} of {len(ready)} trucks leave with the energy for their next route**"
)
st.dataframe(
    wall_clock(ready, "departure").style.format(
        "{:,.1f}", subset=["arrives with [kWh]", "needs [kWh]", "leaves with [kWh]", "short [kWh]"]
    ),
    hide_index=True,
    key="charging_readiness",
)

tab_plan, tab_whatif = st.tabs(["Schedule", "What-if"])
with tab_plan:
    st.markdown("**Charging per connector**")
    st.altair_chart(gantt(view), width="stretch")
    st.markdown("**Site load against the grid limit, over the time-of-use bands**")
    st.altair_chart(load_chart(view), width="stretch", height=LOAD_HEIGHT)
    st.markdown("**Cost against the baselines**")
    st.table(costs_table(view))
    if len(view.unmet):
        st.warning(f"{len(view.unmet)} truck(s) not charged to target:")
        st.dataframe(view.unmet, hide_index=True, placeholder="–")

with tab_whatif:
    st.caption("Re-schedules this night in memory with another grid limit or tariff; nothing is stored.")
    tariff_ids = [t for t, _ in _data.tariffs()]
    names = dict(_data.tariffs())
    with st.form("charging_whatif_form"):
        left, mid, right = st.columns(3)
        limit = left.number_input(
            "Grid import limit [kW]",
            min_value=10.0,
            max_value=10_000.0,
            value=float(view.grid_limit_kw),
            step=10.0,
            key="charging_wi_limit",
        )
        tariff = mid.selectbox(
            "Tariff (data/reference/tariffs.json)",
            tariff_ids,
            index=tariff_ids.index(view.tariff) if view.tariff in tariff_ids else 0,
            format_func=lambda t: f"{t}: {names[t]}",
            key="charging_wi_tariff",
        )
        price = right.number_input(
            "Base price [CNY/kWh]",
            min_value=0.01,
            max_value=5.0,
            value=float(view.base_price),
            step=0.01,
            format="%.4f",
            key="charging_wi_price",
        )
        seconds = st.slider("Time limit [s]", 1, 30, 5, key="charging_wi_seconds")
        go = st.form_submit_button("Re-schedule (not stored)", type="primary")
    whatif_key = f"charging_wi_{depot.code}_{day.isoformat()}"
    if go:
        with st.spinner("Scheduling…"):
            try:
                st.session_state[whatif_key] = svc.charging_what_if(
                    stored.problem, depot.code, day, limit, tariff, price, seconds
                )
            except ValueError as exc:
                st.session_state.pop(whatif_key, None)
                st.error(f"What-if refused: {exc}")
    alt_view: svc.ChargingView | None = st.session_state.get(whatif_key)
    if alt_view is not None:
        st.markdown(
            f"**What-if: grid limit {alt_view.grid_limit_kw:,.0f} kW, tariff {alt_view.tariff}, base "
            f"{alt_view.base_price:.4f} CNY/kWh**"
        )
        headline(alt_view)
        compare = pd.DataFrame(
            {
                "stored plan": [view.cost_cny, view.peak_kw, view.grid_kwh, len(view.unmet)],
                "what-if": [alt_view.cost_cny, alt_view.peak_kw, alt_view.grid_kwh, len(alt_view.unmet)],
            },
            index=["cost [CNY]", "peak [kW]", "grid energy [kWh]", "trucks short of target"],
        )
        compare["change"] = compare["what-if"] - compare["stored plan"]
        st.table(compare.style.format("{:,.2f}"))
        st.altair_chart(load_chart(alt_view), width="stretch", height=LOAD_HEIGHT)
        if len(alt_view.unmet):
            st.warning(
                f"{len(alt_view.unmet)} truck(s) would not reach their target charge: "
                + "; ".join(
                    f"{u.id} short {u.shortfall_kwh:.1f} kWh ({u.reason})"
                    for u in alt_view.unmet.itertuples()
                )
            )
        st.table(costs_table(alt_view))
