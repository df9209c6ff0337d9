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
from fleet.services.i18n import N_, Column, _, fmt_date, fmt_datetime, fmt_number, localised

LOAD_HEIGHT = 320
UNMET_DISPLAY = {
    "id": Column(N_("Truck")),
    "shortfall_kwh": Column(N_("Short by [kWh]"), 1),
    "reason": Column(N_("Reason")),
}
BAND_COLOURS = {"valley": "#4caf50", "flat": "#9e9e9e", "peak": "#ff9800", "critical_peak": "#e53935"}

ctx = page_context("Charging")  # msgid, translated by page_context
with services.unit_of_work(ctx.url) as session:  # this render's reads; the what-if needs no database
    picked = depot_and_date(ctx, session, "charging")
    if picked is None:
        st.stop()
    depot, day = picked
    stored = _data.charging_plan(session, ctx.url, ctx.lessee_code, depot.code, day)
    billing = depot_billing.billing_settings(session, ctx.lessee_code, depot.code, day)


def billing_panel(settings: depot_billing.BillingSettings) -> None:
    """How the depot is billed and what its chargers can run; saved in its own unit of work."""
    with st.expander(_("Billing and chargers · {month}").format(month=settings.this_month)):
        st.caption(
            _(
                "The demand rate comes from the depot's tariff ({rate} CNY/kW·month, graded weak). A separately "
                "metered centralised charging facility on a two-part tariff pays no demand (capacity) charge "
                "until 2030 (NDRC 2023); chargers behind the warehouse meter still pay on the site's peak. See "
                "docs/charging-economics.md."
            ).format(rate=f"{settings.demand_rate_cny_per_kw_month:g}")
        )
        with st.form(f"billing_{settings.depot_code}"):
            left, right = st.columns(2)
            structures, bases = list(depot_billing.STRUCTURE_LABELS), list(depot_billing.BASIS_LABELS)
            structure = left.selectbox(
                _("Tariff structure"),
                structures,
                index=structures.index(settings.tariff_structure),
                format_func={k: _(v) for k, v in depot_billing.STRUCTURE_LABELS.items()}.get,
                key="billing_structure",
            )
            basis = right.selectbox(
                _("Basic charge basis"),
                bases,
                index=bases.index(settings.demand_basis),
                format_func={k: _(v) for k, v in depot_billing.BASIS_LABELS.items()}.get,
                key="billing_basis",
            )
            a, b, c = st.columns(3)
            contract = a.text_input(
                _("Contracted demand [kW]"), _text(settings.contracted_demand_kw), key="billing_contract"
            )
            kva = b.text_input(_("Transformer [kVA]"), _text(settings.transformer_kva), key="billing_kva")
            capacity = c.text_input(
                _("Capacity rate [CNY/kVA·month]"),
                _text(settings.capacity_rate_cny_per_kva_month),
                key="billing_cap",
            )
            central = a.checkbox(
                _("Centralised charging facility"),
                settings.centralised_charging_facility,
                key="billing_central",
            )
            separate = b.checkbox(
                _("Chargers metered separately"), settings.charging_metered_separately, key="billing_separate"
            )
            changes = a.text_input(
                _("Power changes per truck a night (≤)"),
                _text(settings.charging_max_power_changes),
                key="billing_k",
            )
            min_kw = b.text_input(
                _("Minimum power while on [kW]"), _text(settings.charging_min_kw), key="billing_min"
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
                _(
                    "Base load without the chargers [kW]: 24 hourly or 96 quarter-hourly values from 00:00 "
                    "(paste a row from Excel); the meter bills the site's peak, base load included"
                ),
                " ".join(f"{x:g}" for x in settings.base_load_kw),
                key="billing_base",
            )
            save = st.form_submit_button(_("Save billing and charger limits"))
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
                st.error(_("Not saved: {errors}").format(errors="; ".join(str(e) for e in exc.errors)))
            else:
                st.success(_("Saved; the next plan for this depot uses it."))


def _text(value: object) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


billing_panel(billing)
if stored is None:
    st.info(
        _(
            "No stored charging plan for the night before {date} at {depot}. The nightly job "
            '(`evfleet nightly --date {iso} --depots {depot}`) or the Route planner\'s "Solve and store" plans '
            "it together with the routes."
        ).format(date=fmt_date(day), iso=day.isoformat(), depot=depot.code)
    )
    st.stop()


def gantt(view: svc.ChargingView) -> alt.Chart:
    bars = wall_clock(view.bars, "start", "end")
    return (
        alt.Chart(bars)
        .mark_bar(cornerRadius=2)
        .encode(
            x=alt.X("start:T", title=_("time"), axis=alt.Axis(format="%H:%M")),
            x2="end:T",
            y=alt.Y("connector:N", title=_("connector"), scale=alt.Scale(domain=list(view.connectors))),
            color=alt.Color("vehicle:N", legend=None),
            tooltip=[
                "connector",
                "vehicle",
                alt.Tooltip("start:T", format="%H:%M"),
                alt.Tooltip("end:T", format="%H:%M"),
                alt.Tooltip("kw:Q", title=_("max power [kW]"), format=".1f"),
                alt.Tooltip("kwh:Q", title=_("energy [kWh]"), format=".1f"),
            ],
        )
        .properties(height=alt.Step(26))
    )


def load_chart(view: svc.ChargingView) -> alt.LayerChart:
    bands = wall_clock(view.bands, "start", "end")
    load = wall_clock(view.load, "start", "end")
    lines = load.melt(
        id_vars=["start"], value_vars=["site_kw", "uncontrolled_kw"], var_name="series", value_name="kW"
    ).replace({"series": {"site_kw": _("optimised"), "uncontrolled_kw": _("uncontrolled")}})
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
                title=_("time-of-use band"),
                scale=alt.Scale(domain=domain, range=[BAND_COLOURS.get(b, "#bbbbbb") for b in domain]),
            ),
        )
    )
    curves = (
        alt.Chart(lines)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("start:T", title=_("time"), axis=alt.Axis(format="%H:%M")),
            y=alt.Y("kW:Q", title=_("site load [kW]")),
            strokeDash=alt.StrokeDash(
                "series:N", title=_("schedule"), sort=[_("optimised"), _("uncontrolled")]
            ),
            tooltip=[alt.Tooltip("start:T", format="%H:%M"), "series", alt.Tooltip("kW:Q", format=".1f")],
        )
    )
    limit = (
        alt.Chart(pd.DataFrame({"kW": [view.grid_limit_kw], "label": [_("grid limit")]}))
        .mark_rule(color="#d32f2f", strokeWidth=2)
        .encode(y="kW:Q", tooltip=["label", "kW"])
    )
    return (
        alt.layer(background, curves, limit).resolve_scale(color="independent").properties(height=LOAD_HEIGHT)
    )


def costs_table(view: svc.ChargingView) -> Styler:
    """The plan and every baseline, labelled in the current language; money to the fen, peak to 0.1 kW (stored
    night and what-if alike)."""
    table = view.costs.assign(label=[_(x) for x in view.costs["label"]]).set_index("label")
    table = localised(table, svc.COST_DISPLAY)
    table.index.name = _("schedule")
    money = [_(c.label) for k, c in svc.COST_DISPLAY.items() if c.digits == 2]
    return table.style.format(fmt_money, subset=money).format(fmt_kw, subset=[_("peak [kW]")])


def fmt_money(v: float) -> str:
    return fmt_number(v, 2)


def fmt_kw(v: float) -> str:
    return fmt_number(v, 1)


NIGHT_HELP = N_(
    "The night as billed: energy at the time-of-use price + the demand charge pro-rated (the month's charge on "
    "the night's site peak ÷ days in the month). A month's bill pays one demand charge on the month's maximum."
)


def headline(view: svc.ChargingView) -> None:
    unc, timer = view.saving_vs("uncontrolled"), view.saving_vs("timer")
    cols = st.columns(4)
    basis = "" if view.night_basis else " " + _("(stored before the night basis: objective total)")
    cols[0].metric(
        _("Charging cost [CNY]"),
        fmt_number(view.cost_cny, 2),
        border=True,
        help=_("Energy {energy} + demand per night {demand}").format(
            energy=fmt_number(view.energy_cost_cny, 2), demand=fmt_number(view.demand_cost_cny, 2)
        )
        + basis
        + ". "
        + _(NIGHT_HELP),
    )
    cols[1].metric(
        _("Energy cost [CNY]"),
        fmt_number(view.energy_cost_cny, 2),
        border=True,
        help=_("Energy drawn from the grid at the time-of-use price of each slot."),
    )
    cols[2].metric(
        _("Demand charge, per night [CNY]"),
        fmt_number(view.demand_cost_cny, 2),
        border=True,
        help=_("The month's demand (capacity) charge on the night's site peak ÷ days in the month."),
    )
    cols[3].metric(_("Energy from the grid [kWh]"), fmt_number(view.grid_kwh, 1), border=True)
    cols = st.columns(4)
    cols[0].metric(
        _("Energy saving vs uncontrolled [CNY]"),
        fmt_number(unc[0], 2) if unc else "—",
        border=True,
        help=_("Energy alone, against every truck at connector power from arrival."),
    )
    cols[1].metric(
        _("Night saving vs uncontrolled [CNY]"),
        fmt_number(unc[1], 2) if unc else "—",
        f"{unc[2]:.1f} %" if unc else None,
        border=True,
        help=_(NIGHT_HELP),
    )
    cols[2].metric(
        _("Night saving vs valley timer [CNY]"),
        fmt_number(timer[1], 2) if timer else "—",
        border=True,
        help=_("Energy saving vs valley timer: {energy} CNY.").format(energy=fmt_number(timer[0], 2))
        if timer
        else None,
    )
    cols[3].metric(
        _("Peak [kW]"),
        fmt_number(view.peak_kw, 1),
        _("limit {kw} kW").format(kw=fmt_number(view.grid_limit_kw, 0)),
        delta_color="off",
        border=True,
    )


def readiness_table(view: svc.ChargingView) -> None:
    """What a planner checks first: per truck, the need against the planned departure energy, ready or short."""
    ready = view.readiness
    short = ready[ready["short [kWh]"] > 0]
    st.markdown(
        _("**Readiness: {ready} of {total} trucks leave with the energy for their next route**").format(
            ready=len(ready) - len(short), total=len(ready)
        )
    )
    if len(short):
        st.warning(
            _("Short at departure: {trucks}").format(
                trucks="; ".join(
                    _("{truck} by {kwh} kWh").format(truck=t, kwh=fmt_number(k, 1))
                    for t, k in zip(short["truck"], short["short [kWh]"])
                )
            )
        )
    shown = wall_clock(ready, "departure").assign(
        status=[_("short") if k > 0 else _("ready") for k in ready["short [kWh]"]]
    )
    st.dataframe(
        localised(shown, svc.READINESS_DISPLAY),
        hide_index=True,
        key="charging_readiness",
        column_config={_("Departure"): st.column_config.TimeColumn(format="HH:mm")},
    )


view = stored.view
created = (
    _(", stored {when}").format(when=fmt_datetime(view.created_at.replace(tzinfo=None)))
    if view.created_at
    else ""
)
st.caption(
    _(
        "Night before {date} · version {version}{created} · tariff {tariff} (base {price} CNY/kWh, demand "
        "{demand} CNY/kW·month) · solver {solver} ({status})"
    ).format(
        date=fmt_date(day),
        version=view.version,
        created=created,
        tariff=view.tariff,
        price=f"{view.base_price:.4f}",
        demand=f"{view.demand_rate:g}",
        solver=view.solver,
        status=view.status,
    )
)
readiness_table(view)
headline(view)

tab_plan, tab_whatif = st.tabs([_("Schedule"), _("What-if")])
with tab_plan:
    st.markdown(_("**Charging per connector**"))
    st.altair_chart(gantt(view), width="stretch")
    st.markdown(_("**Site load against the grid limit, over the time-of-use bands**"))
    st.altair_chart(load_chart(view), width="stretch", height=LOAD_HEIGHT)
    st.markdown(_("**Cost against the baselines**"))
    st.table(costs_table(view))
    if len(view.unmet):
        st.warning(_("{n} truck(s) not charged to target:").format(n=len(view.unmet)))
        st.dataframe(localised(view.unmet, UNMET_DISPLAY), hide_index=True, placeholder="–")

with tab_whatif:
    st.caption(_("Re-schedules this night in memory with another grid limit or tariff; nothing is stored."))
    tariff_ids = [t for t, _name in _data.tariffs()]
    names = dict(_data.tariffs())
    with st.form("charging_whatif_form"):
        left, mid, right = st.columns(3)
        limit = left.number_input(
            _("Grid import limit [kW]"),
            min_value=10.0,
            max_value=10_000.0,
            value=float(view.grid_limit_kw),
            step=10.0,
            key="charging_wi_limit",
        )
        tariff = mid.selectbox(
            _("Tariff (data/reference/tariffs.json)"),
            tariff_ids,
            index=tariff_ids.index(view.tariff) if view.tariff in tariff_ids else 0,
            format_func=lambda t: f"{t}: {names[t]}",
            key="charging_wi_tariff",
        )
        price = right.number_input(
            _("Base price [CNY/kWh]"),
            min_value=0.01,
            max_value=5.0,
            value=float(view.base_price),
            step=0.01,
            format="%.4f",
            key="charging_wi_price",
        )
        seconds = st.slider(_("Time limit [s]"), 1, 30, 5, key="charging_wi_seconds")
        go = st.form_submit_button(_("Re-schedule (not stored)"), type="primary")
    whatif_key = f"charging_wi_{depot.code}_{day.isoformat()}"
    if go:
        with st.spinner(_("Scheduling…")):
            try:
                st.session_state[whatif_key] = svc.charging_what_if(
                    stored.problem, depot.code, day, limit, tariff, price, seconds
                )
            except ValueError as exc:
                st.session_state.pop(whatif_key, None)
                st.error(_("What-if refused: {error}").format(error=exc))
    alt_view: svc.ChargingView | None = st.session_state.get(whatif_key)
    if alt_view is not None:
        st.markdown(
            _("**What-if: grid limit {kw} kW, tariff {tariff}, base {price} CNY/kWh**").format(
                kw=fmt_number(alt_view.grid_limit_kw, 0),
                tariff=alt_view.tariff,
                price=f"{alt_view.base_price:.4f}",
            )
        )
        headline(alt_view)
        compare = pd.DataFrame(
            {
                _("stored plan"): [view.cost_cny, view.peak_kw, view.grid_kwh, len(view.unmet)],
                _("what-if"): [alt_view.cost_cny, alt_view.peak_kw, alt_view.grid_kwh, len(alt_view.unmet)],
            },
            index=[_("cost [CNY]"), _("peak [kW]"), _("grid energy [kWh]"), _("trucks short of target")],
        )
        compare[_("change")] = compare[_("what-if")] - compare[_("stored plan")]
        st.table(compare.style.format(fmt_money))
        st.altair_chart(load_chart(alt_view), width="stretch", height=LOAD_HEIGHT)
        if len(alt_view.unmet):
            st.warning(
                _("{n} truck(s) would not reach their target charge: {trucks}").format(
                    n=len(alt_view.unmet),
                    trucks="; ".join(
                        _("{truck} short {kwh} kWh ({reason})").format(
                            truck=u.id, kwh=fmt_number(u.shortfall_kwh, 1), reason=u.reason
                        )
                        for u in alt_view.unmet.itertuples()
                    ),
                )
            )
        st.table(costs_table(alt_view))
