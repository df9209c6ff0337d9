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
from fleet.services.i18n import N_, _, fmt_number
from fleet.services.scope import ScopeError

# Scenario fields offered for adjustment: (path in the scenario file, label, step, format).
EDITABLE = (
    ("lease.monthly_rent", N_("Monthly rent [CNY]"), 50.0, "%.2f"),
    ("usage.km_per_year", N_("Distance [km/year]"), 1000.0, "%.0f"),
    ("lessee.diesel_price_cny_per_l", N_("Diesel price [CNY/L]"), 0.1, "%.2f"),
    ("lessee.electricity_cny_per_kwh", N_("Electricity price [CNY/kWh]"), 0.01, "%.4f"),
    ("lease.residual_value", N_("Residual value, battery as new [CNY]"), 1000.0, "%.2f"),
    ("lease.discount_rate", N_("Lessor discount rate [/year]"), 0.005, "%.3f"),
    ("carbon.price_cny_per_t", N_("Carbon price [CNY/t]"), 5.0, "%.2f"),
)


def value_at(payload: dict, path: str) -> float:
    node = payload
    for part in path.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return float(node) if isinstance(node, (int, float)) else 0.0


def money(v: float | None) -> str:
    return fmt_number(v, 2)


def pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.2f} %"


def _lessor_section(report: dict, figures: dict) -> None:
    """The lessor's figures: NPV, IRR, payback, DSCR against the covenant, its costs and the rent corridor."""
    st.subheader(_("Lessor: {scenario}").format(scenario=report["scenario"]))
    cols = st.columns(5)
    cols[0].metric(_("Project NPV [CNY]"), money(figures["project NPV [CNY]"]), border=True)
    cols[1].metric(_("Equity NPV [CNY]"), money(figures["equity NPV [CNY]"]), border=True)
    cols[2].metric(_("Project IRR (effective)"), pct(figures["project IRR (effective annual)"]), border=True)
    cols[3].metric(
        _("Payback [months]"),
        "–" if figures["payback [months]"] is None else f"{figures['payback [months]']:.1f}",
        border=True,
    )
    dscr = figures["DSCR min"]
    covenant = report["lessor"].get("dscr_covenant")
    cols[4].metric(
        _("DSCR min"),
        "–" if dscr is None else f"{dscr:.2f}×",
        border=True,
        delta=(
            _("< {covenant}× covenant").format(covenant=covenant)
            if report["lessor"].get("dscr_below_covenant")
            else _("covenant {covenant}×").format(covenant=covenant)
        )
        if dscr is not None
        else None,
        delta_color="inverse" if report["lessor"].get("dscr_below_covenant") else "off",
    )

    lessor = report["lessor"]
    covenant = lessor.get("covenant", {})
    if covenant.get("applies") and not covenant.get("met"):
        st.error(
            _(
                "Covenant breach: DSCR < {dscr}× in months {dscr_months}; LLCR < {llcr}× in months {llcr_months}"
            ).format(
                dscr=f"{covenant['dscr_min_required']:g}",
                dscr_months=", ".join(covenant["dscr_breaches"]) or "–",
                llcr=f"{covenant['llcr_min_required']:g}",
                llcr_months=", ".join(covenant["llcr_breaches"]) or "–",
            )
        )
    costs = lessor.get("lessor_costs", {}).get("per_month", {})
    if costs:
        st.caption(
            _("Lessor's costs [CNY/month]: {costs}").format(
                costs=", ".join(f"{k} {fmt_number(float(v), 2)}" for k, v in costs.items())
            )
        )
    battery = report.get("battery")
    if battery:
        below = (
            _(" — below end of life at lease end: replacement likely") if battery["below_end_of_life"] else ""
        )
        st.caption(
            _(
                "Residual follows the battery: SoH {start} % at the start → {end} % at lease end{below}; residual "
                "{base} × f {factor} = {residual} CNY. SoH basis: {basis}. {rule}."
            ).format(
                start=f"{100 * battery['soh_at_start']:.1f}",
                end=f"{100 * battery['soh_at_end']:.1f}",
                below=below,
                base=money(_f(battery["base_residual_value"])),
                factor=f"{battery['residual_factor']:.4f}",
                residual=money(_f(battery["residual_value_at_end"])),
                basis=battery["basis"],
                rule=battery["rule"],
            )
        )
    rent = report["rent"]
    st.caption(
        _(
            "Rent corridor: hurdle rent {hurdle}, covenant rent {covenant}, floor {floor}; the lessee's "
            "break-even {break_even}"
        ).format(
            hurdle=money(_f(rent.get("lessor_min_rent_npv_zero"))),
            covenant=money(_f(rent.get("covenant_min_rent"))),
            floor=money(_f(rent.get("lessor_floor_rent"))),
            break_even=money(_f(rent.get("lessee_max_rent_saving_zero"))),
        )
        + (
            ""
            if rent.get("corridor_exists")
            else _(" — no corridor: the floor is above the lessee's break-even")
        )
    )


def _f(v: object) -> float | None:
    return None if v is None else float(v)  # type: ignore[arg-type]


PICKER_LIMIT = (
    200  # lease codes in the picker at once: a lessor has 80,000 (issue 24); the search narrows them
)
ctx = page_context("Lease economics")
with services.unit_of_work(ctx.url) as session:  # this render's reads; saving has its own
    sources = [N_("A lease"), N_("A saved scenario")]  # msgids as the values, translated for display
    source = st.radio(
        _("Evaluate"),
        sources,
        format_func={o: _(o) for o in sources}.get,
        horizontal=True,
        key="fin_source",
    )
    if source == "A lease":
        search = st.text_input(_("Lease code contains"), key="fin_lease_q")
        codes, matched = _data.lease_codes(session, ctx.url, ctx.lessee_code, search, PICKER_LIMIT)
        if not codes:
            if search.strip():
                st.info(_("No lease code contains {text}.").format(text=repr(search.strip())))
            else:
                st.info(
                    _(
                        "No leases in this scope yet (Fleet & leases → Leases adds one, or `evfleet import leases FILE`)."
                    )
                )
            st.stop()
        if matched > len(codes):
            st.caption(
                _("{matched} leases match; the first {shown} are listed: type more of the code.").format(
                    matched=fmt_number(matched, 0), shown=len(codes)
                )
            )
        code = st.selectbox(_("Lease"), codes, key="fin_lease")
        basis = f"lease:{code}"
        base_report = _data.lease_economics(session, ctx.url, ctx.lessee_code, code)
        base_payload = base_report["inputs"]
    else:
        names = _data.saved_scenarios(session, ctx.url, ctx.lessee_code)
        if not names:
            st.info(
                _(
                    "No saved scenarios in this scope yet: evaluate a lease, adjust it and save it below, or run "
                    "`evfleet roi --scenario FILE --save-as NAME`."
                )
            )
            st.stop()
        name = st.selectbox(_("Saved scenario"), names, key="fin_saved")
        basis = f"saved:{name}"
        base_payload = _data.saved_scenario(session, ctx.url, ctx.lessee_code, name)
        try:
            base_report = _data.scenario_economics(json.dumps(base_payload, sort_keys=True, default=str))
        except ValueError as exc:
            st.error(
                _("Saved scenario {name} no longer evaluates: {error}").format(name=repr(name), error=exc)
            )
            st.stop()

    # A lessee adjusts only what it can see (no residual value or lessor discount rate).
    editable = [
        e
        for e in EDITABLE
        if not (ctx.lessee_code and e[0] in ("lease.residual_value", "lease.discount_rate"))
    ]
    edit_key = f"fin_edit_{basis}"
    with st.expander(_("Adjust the scenario"), expanded=edit_key in st.session_state):
        with st.form(f"fin_form_{basis}"):
            cols = st.columns(4)
            changes = {
                path: cols[i % 4].number_input(
                    _(label),
                    value=value_at(base_payload, path),
                    step=step,
                    format=fmt,
                    key=f"fin_in_{basis}_{path}",
                )
                for i, (path, label, step, fmt) in enumerate(editable)
            }
            evaluate = st.form_submit_button(_("Evaluate (not saved)"), type="primary")
        if evaluate:
            st.session_state[edit_key] = svc.edited_scenario(
                base_payload,
                {p: v for p, v in changes.items() if v != value_at(base_payload, p)},
                name=_("{name} (adjusted)").format(name=base_payload.get("name", basis)),
            )
        if edit_key in st.session_state and st.button(_("Back to the unadjusted figures"), key="fin_reset"):
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
            st.error(_("Adjusted scenario refused: {error}").format(error=exc))
            st.stop()
        changed = [
            f"{_(label)} {value_at(payload, path):g}"
            for path, label, _step, _fmt in editable
            if value_at(payload, path) != value_at(base_payload, path)
        ]
        st.caption(_("Adjusted: {changes} (not saved)").format(changes=", ".join(changed) or _("no change")))

    figures = svc.key_figures(report)
    if "lessor" in report:  # the lessor's view only: a lessee never sees these (issue 20)
        _lessor_section(report, figures)

    st.subheader(_("Lessee: cost against diesel"))
    cols = st.columns(4)
    cols[0].metric(_("Electric lease [CNY/km]"), f"{figures['electric lease [CNY/km]']:.4f}", border=True)
    cols[1].metric(_("Diesel [CNY/km]"), f"{figures['diesel [CNY/km]']:.4f}", border=True)
    cols[2].metric(_("Saving [CNY/month]"), money(figures["lessee saving [CNY/month]"]), border=True)
    be = figures["break-even [km/year]"]
    cols[3].metric(
        _("Break-even [km/year]"),
        fmt_number(be, 0),
        border=True,
        help=report["lessee"].get("break_even_note"),
    )
    tco = svc.tco_frame(report)
    tco.index = [_(i) for i in tco.index]  # the totals rows are msgids; cost components come from the report
    st.table(tco.style.format("{:,.2f}", na_rep="–"))
    st.caption(
        _(
            "Rent {rent} CNY/month; the lessee's saving is 0 at {max_rent}. Electricity basis: {basis}. {note}"
        ).format(
            rent=money(figures["monthly rent [CNY]"]),
            max_rent=money(figures["lessee maximum rent (saving 0) [CNY]"]),
            basis=report["lessee"].get("electricity_basis", _("scenario input")),
            note=report["note"],
        )
    )

    tornado = svc.tornado_frame(report)
    if "lessor" in report:
        st.subheader(_("Sensitivity of the project NPV (tornado)"))
    if "lessor" not in report:
        pass
    elif tornado.empty:
        st.caption(_("No tornado drivers in this scenario."))
    else:
        order = list(dict.fromkeys(tornado["driver"]))
        # Vega-Lite reads "[" in a field name as nested access: chart a copy with plain column names.
        bars = tornado.rename(columns={"npv change [CNY]": "npv_change"})
        st.altair_chart(
            alt.Chart(bars)
            .mark_bar()
            .encode(
                y=alt.Y("driver:N", sort=order, title=None),
                x=alt.X("npv_change:Q", title=_("project NPV change [CNY]")),
                color=alt.Color(
                    "side:N",
                    scale=alt.Scale(domain=["low", "high"], range=["#e57373", "#64b5f6"]),
                    title=_("driver at"),
                ),
                tooltip=[
                    "driver",
                    "side",
                    "value",
                    "base",
                    alt.Tooltip("npv_change:Q", format=",.2f", title=_("NPV change")),
                    "range",
                ],
            )
            .properties(height=40 * len(order) + 40),
            width="stretch",
        )
        st.caption(
            _("Base project NPV {npv} CNY. Ranges: {ranges}").format(
                npv=money(float(report["tornado"]["base_npv"])),
                ranges="; ".join(sorted({f"{d}: {r}" for d, r in zip(tornado["driver"], tornado["range"])})),
            )
        )

    with st.expander(_("Defaults and sources used ({n})").format(n=len(report.get("assumptions", [])))):
        st.dataframe(
            pd.DataFrame(report.get("assumptions", [])),
            hide_index=True,
            placeholder="–",
            key="fin_assumptions",
        )
        if report.get("sources"):
            st.dataframe(
                pd.DataFrame(sorted(report["sources"].items()), columns=[_("input"), _("taken from")]),
                hide_index=True,
                placeholder="–",
                key="fin_sources",
            )

    st.subheader(_("Save and compare scenarios"))
    with st.form("fin_save_form"):
        save_name = st.text_input(
            _("Save the figures above as"), value=str(payload.get("name", "")), key="fin_save_name"
        )
        save = st.form_submit_button(_("Save scenario"))
    if save:
        try:
            with services.unit_of_work(ctx.url) as write:  # this action's own unit of work, committed here
                svc.save_scenario(write, ctx.lessee_code, save_name, payload)
        except (ValueError, ScopeError) as exc:
            st.error(_("Not saved: {errors}").format(errors=exc))
        else:
            st.session_state.pop(edit_key, None)
            after_write(_("Saved scenario {name}.").format(name=repr(save_name.strip())))

    saved = _data.saved_scenarios(session, ctx.url, ctx.lessee_code)
    chosen = st.multiselect(_("Compare with saved scenarios"), saved, key="fin_compare")
    if chosen:
        table = {_("shown above"): figures}
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
                st.warning(_("{name}: no longer evaluates ({error})").format(name=name, error=exc))
        compared = pd.DataFrame(table)
        compared.index = [_(k) for k in compared.index]  # KEY_FIGURES are msgids
        st.table(compared.style.format("{:,.4f}", na_rep="–"))
