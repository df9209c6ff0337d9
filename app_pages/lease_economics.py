"""Lease economics: a lease from the database or a saved scenario; lessor NPV, IRR, payback and DSCR, the lessee's
cost against diesel, a tornado chart; adjust, save and compare scenarios (all maths in `fleet.finance`)."""

from __future__ import annotations

import json

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import _data
from app_pages._shell import after_write, page_context
from fleet import services
from fleet.services import lease_economics as svc
from fleet.services.scope import ScopeError

# Scenario fields offered for adjustment: (path in the scenario file, label, step, format).
EDITABLE = (
    ("lease.monthly_rent", "Monthly rent [CNY]", 50.0, "%.2f"),
    ("usage.km_per_year", "Distance [km/year]", 1000.0, "%.0f"),
    ("lessee.diesel_price_cny_per_l", "Diesel price [CNY/L]", 0.1, "%.2f"),
    ("lessee.electricity_cny_per_kwh", "Electricity price [CNY/kWh]", 0.01, "%.4f"),
    ("lease.residual_value", "Residual value, battery as new [CNY]", 1000.0, "%.2f"),
    ("lease.discount_rate", "Lessor discount rate [/year]", 0.005, "%.3f"),
    ("carbon.price_cny_per_t", "Carbon price [CNY/t]", 5.0, "%.2f"),
)


def value_at(payload: dict, path: str) -> float:
    node = payload
    for part in path.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return float(node) if isinstance(node, (int, float)) else 0.0


def money(v: float | None) -> str:
    return "–" if v is None else f"{v:,.2f}"


def pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.2f} %"


def _lessor_section(report: dict, figures: dict) -> None:
    """The lessor's figures: NPV, IRR, payback, DSCR against the covenant, its costs and the rent corridor."""
    st.subheader(f"Lessor: {report['scenario']}")
    cols = st.columns(5)
    cols[0].metric("Project NPV [CNY]", money(figures["project NPV [CNY]"]), border=True)
    cols[1].metric("Equity NPV [CNY]", money(figures["equity NPV [CNY]"]), border=True)
    cols[2].metric("Project IRR (effective)", pct(figures["project IRR (effective annual)"]), border=True)
    cols[3].metric(
        "Payback [months]",
        "–" if figures["payback [months]"] is None else f"{figures['payback [months]']:.1f}",
        border=True,
    )
    dscr = figures["DSCR min"]
    covenant = report["lessor"].get("dscr_covenant")
    cols[4].metric(
        "DSCR min",
        "–" if dscr is None else f"{dscr:.2f}×",
        border=True,
        delta=(
            f"< {covenant}× covenant"
            if report["lessor"].get("dscr_below_covenant")
            else f"covenant {covenant}×"
        )
        if dscr is not None
        else None,
        delta_color="inverse" if report["lessor"].get("dscr_below_covenant") else "off",
    )

    lessor = report["lessor"]
    covenant = lessor.get("covenant", {})
    if covenant.get("applies") and not covenant.get("met"):
        st.error(
            f"Covenant breach: DSCR < {covenant['dscr_min_required']:g}× in months "
            f"{', '.join(covenant['dscr_breaches']) or '–'}; LLCR < {covenant['llcr_min_required']:g}× in months "
            f"{', '.join(covenant['llcr_breaches']) or '–'}"
        )
    costs = lessor.get("lessor_costs", {}).get("per_month", {})
    if costs:
        st.caption(
            "Lessor's costs [CNY/month]: " + ", ".join(f"{k} {float(v):,.2f}" for k, v in costs.items())
        )
    battery = report.get("battery")
    if battery:
        below = (
            " — below end of life at lease end: replacement likely" if battery["below_end_of_life"] else ""
        )
        st.caption(
            f"Residual follows the battery: SoH {100 * battery['soh_at_start']:.1f} % at the start → "
            f"{100 * battery['soh_at_end']:.1f} % at lease end{below}; residual "
            f"{money(_f(battery['base_residual_value']))} × f {battery['residual_factor']:.4f} = "
            f"{money(_f(battery['residual_value_at_end']))} CNY. SoH basis: {battery['basis']}. {battery['rule']}."
        )
    rent = report["rent"]
    st.caption(
        f"Rent corridor: hurdle rent {money(_f(rent.get('lessor_min_rent_npv_zero')))}, covenant rent "
        f"{money(_f(rent.get('covenant_min_rent')))}, floor {money(_f(rent.get('lessor_floor_rent')))}; the "
        f"lessee's break-even {money(_f(rent.get('lessee_max_rent_saving_zero')))}"
        + (
            ""
            if rent.get("corridor_exists")
            else " — no corridor: the floor is above the lessee's break-even"
        )
    )


def _f(v: object) -> float | None:
    return None if v is None else float(v)  # type: ignore[arg-type]


ctx = page_context("Lease economics")
with services.unit_of_work(ctx.url) as session:  # this render's reads; saving has its own
    source = st.radio("Evaluate", ["A lease", "A saved scenario"], horizontal=True, key="fin_source")
    if source == "A lease":
        codes = _data.lease_codes(session, ctx.url, ctx.lessee_code)
        if not codes:
            st.info(
                "No leases in this scope yet (Fleet & leases → Leases adds one, or `evfleet import leases FILE`)."
            )
            st.stop()
        code = st.selectbox("Lease", codes, key="fin_lease")
        basis = f"lease:{code}"
        base_report = _data.lease_economics(session, ctx.url, ctx.lessee_code, code)
        base_payload = base_report["inputs"]
    else:
        names = _data.saved_scenarios(session, ctx.url, ctx.lessee_code)
        if not names:
            st.info(
                "No saved scenarios in this scope yet: evaluate a lease, adjust it and save it below, or run "
                "`evfleet roi --scenario FILE --save-as NAME`."
            )
            st.stop()
        name = st.selectbox("Saved scenario", names, key="fin_saved")
        basis = f"saved:{name}"
        base_payload = _data.saved_scenario(session, ctx.url, ctx.lessee_code, name)
        try:
            base_report = _data.scenario_economics(json.dumps(base_payload, sort_keys=True, default=str))
        except ValueError as exc:
            st.error(f"Saved scenario {name!r} no longer evaluates: {exc}")
            st.stop()

    # A lessee adjusts only what it can see (no residual value or lessor discount rate).
    editable = [
        e
        for e in EDITABLE
        if not (ctx.lessee_code and e[0] in ("lease.residual_value", "lease.discount_rate"))
    ]
    edit_key = f"fin_edit_{basis}"
    with st.expander("Adjust the scenario", expanded=edit_key in st.session_state):
        with st.form(f"fin_form_{basis}"):
            cols = st.columns(4)
            changes = {
                path: cols[i % 4].number_input(
                    label,
                    value=value_at(base_payload, path),
                    step=step,
                    format=fmt,
                    key=f"fin_in_{basis}_{path}",
                )
                for i, (path, label, step, fmt) in enumerate(editable)
            }
            evaluate = st.form_submit_button("Evaluate (not saved)", type="primary")
        if evaluate:
            st.session_state[edit_key] = svc.edited_scenario(
                base_payload,
                {p: v for p, v in changes.items() if v != value_at(base_payload, p)},
                name=f"{base_payload.get('name', basis)} (adjusted)",
            )
        if edit_key in st.session_state and st.button("Back to the unadjusted figures", key="fin_reset"):
            del st.session_state[edit_key]
            st.rerun()

    payload = st.session_state.get(edit_key, base_payload)
    base_report = svc.for_role(base_report, ctx.lessee_code)
    report = base_report
    if payload is not base_payload:
        try:
            report = svc.for_role(
                _data.scenario_economics(json.dumps(payload, sort_keys=True, default=str)), ctx.lessee_code
            )
        except ValueError as exc:
            st.error(f"Adjusted scenario refused: {exc}")
            st.stop()
        changed = [
            f"{label} {value_at(payload, path):g}"
            for path, label, _, _ in editable
            if value_at(payload, path) != value_at(base_payload, path)
        ]
        st.caption("Adjusted: " + (", ".join(changed) or "no change") + " (not saved)")

    figures = svc.key_figures(report)
    if "lessor" in report:  # the lessor's view only: a lessee never sees these (issue 20)
        _lessor_section(report, figures)

    st.subheader("Lessee: cost against diesel")
    cols = st.columns(4)
    cols[0].metric("Electric lease [CNY/km]", f"{figures['electric lease [CNY/km]']:.4f}", border=True)
    cols[1].metric("Diesel [CNY/km]", f"{figures['diesel [CNY/km]']:.4f}", border=True)
    cols[2].metric("Saving [CNY/month]", money(figures["lessee saving [CNY/month]"]), border=True)
    be = figures["break-even [km/year]"]
    cols[3].metric(
        "Break-even [km/year]",
        "–" if be is None else f"{be:,.0f}",
        border=True,
        help=report["lessee"].get("break_even_note"),
    )
    st.table(svc.tco_frame(report).style.format("{:,.2f}", na_rep="–"))
    st.caption(
        f"Rent {money(figures['monthly rent [CNY]'])} CNY/month; the lessee's saving is 0 at "
        f"{money(figures['lessee maximum rent (saving 0) [CNY]'])}. Electricity basis: "
        f"{report['lessee'].get('electricity_basis', 'scenario input')}. {report['note']}"
    )

    tornado = svc.tornado_frame(report)
    if "lessor" in report:
        st.subheader("Sensitivity of the project NPV (tornado)")
    if "lessor" not in report:
        pass
    elif tornado.empty:
        st.caption("No tornado drivers in this scenario.")
    else:
        order = list(dict.fromkeys(tornado["driver"]))
        # Vega-Lite reads "[" in a field name as nested access: chart a copy with plain column names.
        bars = tornado.rename(columns={"npv change [CNY]": "npv_change"})
        st.altair_chart(
            alt.Chart(bars)
            .mark_bar()
            .encode(
                y=alt.Y("driver:N", sort=order, title=None),
                x=alt.X("npv_change:Q", title="project NPV change [CNY]"),
                color=alt.Color(
                    "side:N",
                    scale=alt.Scale(domain=["low", "high"], range=["#e57373", "#64b5f6"]),
                    title="driver at",
                ),
                tooltip=[
                    "driver",
                    "side",
                    "value",
                    "base",
                    alt.Tooltip("npv_change:Q", format=",.2f", title="NPV change"),
                    "range",
                ],
            )
            .properties(height=40 * len(order) + 40),
            width="stretch",
        )
        st.caption(
            f"Base project NPV {money(float(report['tornado']['base_npv']))} CNY. Ranges: "
            + "; ".join(sorted({f"{d}: {r}" for d, r in zip(tornado["driver"], tornado["range"])}))
        )

    with st.expander(f"Defaults and sources used ({len(report.get('assumptions', []))})"):
        st.dataframe(
            pd.DataFrame(report.get("assumptions", [])),
            hide_index=True,
            placeholder="–",
            key="fin_assumptions",
        )
        if report.get("sources"):
            st.dataframe(
                pd.DataFrame(sorted(report["sources"].items()), columns=["input", "taken from"]),
                hide_index=True,
                placeholder="–",
                key="fin_sources",
            )

    st.subheader("Save and compare scenarios")
    with st.form("fin_save_form"):
        save_name = st.text_input(
            "Save the figures above as", value=str(payload.get("name", "")), key="fin_save_name"
        )
        save = st.form_submit_button("Save scenario")
    if save:
        try:
            with services.unit_of_work(ctx.url) as write:  # this action's own unit of work, committed here
                svc.save_scenario(write, ctx.lessee_code, save_name, payload)
        except (ValueError, ScopeError) as exc:
            st.error(f"Not saved: {exc}")
        else:
            st.session_state.pop(edit_key, None)
            after_write(f"Saved scenario {save_name.strip()!r}.")

    saved = _data.saved_scenarios(session, ctx.url, ctx.lessee_code)
    chosen = st.multiselect("Compare with saved scenarios", saved, key="fin_compare")
    if chosen:
        table = {"shown above": figures}
        for name in chosen:
            try:
                table[name] = svc.key_figures(
                    svc.for_role(
                        _data.scenario_economics(
                            json.dumps(
                                _data.saved_scenario(session, ctx.url, ctx.lessee_code, name),
                                sort_keys=True,
                                default=str,
                            )
                        ),
                        ctx.lessee_code,
                    )
                )
            except ValueError as exc:
                st.warning(f"{name}: no longer evaluates ({exc})")
        st.table(pd.DataFrame(table).style.format("{:,.4f}", na_rep="–"))
