"""Fleet & leases: vehicles, leases and vehicle models in filterable tables; add and edit through validated
forms; CSV/XLSX import with the row-level error report. All reads and writes go through `fleet.services`: one unit of work for the reads of a render, one per write."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages import _data
from app_pages._shell import AppContext, after_write, page_context
from app_pages._show import column_config
from fleet import services
from fleet.services import fleet_leases as svc
from fleet.services import fleet_tables
from fleet.services import imports as imports_svc
from fleet.services.fleet_leases import CLAIMANTS, STATUSES
from fleet.services.frames import filter_frame
from fleet.services.i18n import _, fmt_number


def show_rejection(exc: svc.FormRejected | imports_svc.ImportFailed, what: str) -> None:
    st.error(_("{what}: {n} problem(s); nothing was saved.").format(what=what, n=len(exc.errors)))
    st.dataframe(imports_svc.errors_frame(exc), hide_index=True, width="stretch")


def _pager(page: fleet_tables.TablePage, key: str) -> None:
    """Page number input (only when there is more than one page)."""
    if page.pages > 1:
        if int(st.session_state.get(key, 1)) > page.pages:  # fewer pages since the filters changed
            st.session_state[key] = page.page
        st.number_input(
            _("Page (of {pages}, {size} rows each)").format(pages=page.pages, size=page.page_size),
            min_value=1,
            max_value=page.pages,
            step=1,
            key=key,
        )


def vehicles_tab(ctx: AppContext, choices: svc.FormChoices, models: pd.DataFrame) -> pd.DataFrame:
    """Filters and one page of the vehicles (SQL: WHERE, COUNT, LIMIT/OFFSET); returns the page shown."""
    cols = iter(st.columns([1, 1, 1, 1, 1.4] if ctx.is_lessor else [1, 1, 1, 1.4]))
    lessees = (
        next(cols).multiselect(_("Lessee"), choices.lessees, key="veh_f_lessee") if ctx.is_lessor else []
    )
    depots = next(cols).multiselect(_("Depot"), choices.depots, key="veh_f_depot")
    model_codes = next(cols).multiselect(_("Model"), sorted(models["code"]), key="veh_f_model")
    statuses = next(cols).multiselect(_("Status"), STATUSES, key="veh_f_status")
    text = next(cols).text_input(_("Plate or VIN contains"), key="veh_f_text")
    filters = (tuple(lessees), tuple(depots), tuple(model_codes), tuple(statuses), text)
    with services.unit_of_work(ctx.url) as session:
        page = _data.vehicles_page(
            session, ctx.url, ctx.lessee_code, filters, int(st.session_state.get("veh_page", 1))
        )
    st.caption(_("{shown} of {total} vehicles").format(shown=page.matched, total=page.total))
    _pager(page, "veh_page")
    shown = page.frame
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * max(len(shown), 1), 560),
        column_config=column_config(svc.VEHICLE_DISPLAY),
    )
    return shown


def vehicle_forms(ctx: AppContext, choices: svc.FormChoices, frame: pd.DataFrame) -> None:
    with st.expander(_("Add a vehicle")), st.form("add_vehicle", clear_on_submit=False):
        c = st.columns(3)
        plate = c[0].text_input(_("Plate"), key="addv_plate")
        vin = c[1].text_input(_("VIN (17 characters)"), key="addv_vin")
        model = c[2].selectbox(_("Model"), choices.bev_models + choices.diesel_models, key="addv_model")
        c = st.columns(3)
        depot = c[0].selectbox(_("Depot"), ("",) + choices.depots, key="addv_depot")
        owner = (
            c[1].selectbox(
                _("Lessee"),
                ("",) + choices.lessees,
                key="addv_lessee",
                help=_("Empty: the lessor's own truck, not on lease."),
            )
            if ctx.is_lessor
            else ""
        )
        status = c[2].selectbox(_("Status"), STATUSES, key="addv_status")
        commissioned = st.text_input(_("Commissioned on (YYYY-MM-DD, optional)"), key="addv_comm")
        if st.form_submit_button(_("Add vehicle"), type="primary"):
            try:
                with services.unit_of_work(ctx.url) as session:
                    svc.add_vehicle(
                        session,
                        ctx.lessee_code,
                        {
                            "plate": plate,
                            "vin": vin,
                            "model_code": model,
                            "depot_code": depot,
                            "lessee_code": owner,
                            "status": status,
                            "commissioned_on": commissioned,
                        },
                    )
            except svc.FormRejected as exc:
                show_rejection(exc, _("Vehicle not added"))
            else:
                after_write(_("Vehicle {plate} added.").format(plate=plate.strip()))

    with st.expander(_("Edit a vehicle")):
        if frame.empty:
            st.caption(_("No vehicles on this page."))
            return
        plate = st.selectbox(_("Vehicle (of this page)"), frame["plate"].tolist(), key="editv_plate")
        current = frame.loc[frame["plate"] == plate].iloc[0]
        with st.form("edit_vehicle"):
            c = st.columns(3)
            depots = ("",) + choices.depots
            depot = c[0].selectbox(
                _("Depot"),
                depots,
                index=depots.index(current["depot"]) if current["depot"] in depots else 0,
                key="editv_depot",
            )
            status = c[1].selectbox(
                _("Status"), STATUSES, index=STATUSES.index(current["status"]), key="editv_status"
            )
            commissioned = c[2].text_input(
                _("Commissioned on (YYYY-MM-DD)"),
                key=f"editv_comm_{plate}",
                value="" if pd.isna(current["commissioned_on"]) else str(current["commissioned_on"]),
            )
            if st.form_submit_button(_("Save vehicle"), type="primary"):
                try:
                    with services.unit_of_work(ctx.url) as session:
                        svc.update_vehicle(
                            session,
                            ctx.lessee_code,
                            plate,
                            {"depot_code": depot, "status": status, "commissioned_on": commissioned},
                        )
                except svc.FormRejected as exc:
                    show_rejection(exc, _("Vehicle {plate} not saved").format(plate=plate))
                else:
                    after_write(_("Vehicle {plate} saved.").format(plate=plate))


def leases_tab(ctx: AppContext, choices: svc.FormChoices) -> pd.DataFrame:
    """Filters, totals and one page of the leases (SQL), then the lessor's forms; returns the page shown."""
    cols = iter(st.columns([1, 1, 1, 1.4] if ctx.is_lessor else [1, 1, 1.4]))
    lessees = (
        next(cols).multiselect(_("Lessee"), choices.lessees, key="lease_f_lessee") if ctx.is_lessor else []
    )
    depots = next(cols).multiselect(_("Depot"), choices.depots, key="lease_f_depot")
    active = next(cols).checkbox(
        _("Active on {date} only").format(date=ctx.today.isoformat()), key="lease_f_active"
    )
    text = next(cols).text_input(_("Lease code or plate contains"), key="lease_f_text")
    filters = (tuple(lessees), tuple(depots), bool(active), text)
    with services.unit_of_work(ctx.url) as session:
        page = _data.leases_page(
            session, ctx.url, ctx.lessee_code, ctx.today, filters, int(st.session_state.get("lease_page", 1))
        )
    st.caption(
        _("{shown} of {total} leases · rent of the shown leases {rent} CNY/month").format(
            shown=page.matched, total=page.total, rent=fmt_number(page.rent_cny, 2)
        )
    )
    _pager(page, "lease_page")
    shown = page.frame
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * max(len(shown), 1), 560),
        column_config=column_config(svc.LEASE_DISPLAY),
    )
    lease_forms(ctx, choices, shown)
    return shown


def lease_forms(ctx: AppContext, choices: svc.FormChoices, frame: pd.DataFrame) -> None:
    if not ctx.is_lessor:
        st.caption(_("Leases are the lessor's contracts: they are added and changed in the lessor's view."))
        return
    with st.expander(_("Add a lease")):
        if not choices.lessees:
            st.caption(_("No lessees in this scope to lease to."))
        else:
            with st.form("add_lease"):
                c = st.columns(3)
                code = c[0].text_input(_("Lease code"), key="addl_code")
                plate = c[1].text_input(_("Vehicle (plate)"), key="addl_plate")
                owner = c[2].selectbox(_("Lessee"), choices.lessees, key="addl_lessee")
                c = st.columns(3)
                start = c[0].date_input(_("Start"), value=ctx.today, key="addl_start")
                end = c[1].date_input(_("End"), value=ctx.today + dt.timedelta(days=3 * 365), key="addl_end")
                diesel = c[2].selectbox(
                    _("Replaces diesel model"), ("",) + choices.diesel_models, key="addl_diesel"
                )
                c = st.columns(4)
                rent = c[0].text_input(_("Monthly rent [CNY]"), key="addl_rent")
                price = c[1].text_input(_("Purchase price [CNY]"), key="addl_price")
                deposit = c[2].text_input(_("Deposit [CNY]"), key="addl_deposit")
                residual = c[3].text_input(_("Residual value [CNY]"), key="addl_residual")
                claimant = st.selectbox(_("Emissions claimant"), CLAIMANTS, key="addl_claimant")
                if st.form_submit_button(_("Add lease"), type="primary"):
                    try:
                        with services.unit_of_work(ctx.url) as session:
                            svc.add_lease(
                                session,
                                ctx.lessee_code,
                                {
                                    "code": code,
                                    "plate": plate,
                                    "lessee_code": owner,
                                    "start_date": start,
                                    "end_date": end,
                                    "monthly_rent_cny": rent,
                                    "purchase_price_cny": price,
                                    "deposit_cny": deposit,
                                    "residual_value_cny": residual,
                                    "replaced_diesel_model_code": diesel,
                                    "emissions_claimant": claimant,
                                },
                            )
                    except svc.FormRejected as exc:
                        show_rejection(exc, _("Lease not added"))
                    else:
                        after_write(_("Lease {code} added.").format(code=code.strip()))

    with st.expander(_("Edit a lease")):
        if frame.empty:
            st.caption(_("No leases on this page."))
            return
        code = st.selectbox(_("Lease (of this page)"), frame["code"].tolist(), key="editl_code")
        current = frame.loc[frame["code"] == code].iloc[0]
        with st.form("edit_lease"):
            c = st.columns(4)
            end = c[0].date_input(_("End"), value=current["end_date"], key=f"editl_end_{code}")
            rent = c[1].text_input(
                _("Monthly rent [CNY]"), value=f"{current['monthly_rent_cny']:.2f}", key=f"editl_rent_{code}"
            )
            km = c[2].text_input(
                _("Expected km per year"),
                key=f"editl_km_{code}",
                value=""
                if pd.isna(current["expected_km_per_year"])
                else f"{current['expected_km_per_year']:g}",
            )
            claimant = c[3].selectbox(
                _("Emissions claimant"),
                CLAIMANTS,
                key=f"editl_claimant_{code}",
                index=CLAIMANTS.index(current["emissions_claimant"]),
            )
            if st.form_submit_button(_("Save lease"), type="primary"):
                try:
                    with services.unit_of_work(ctx.url) as session:
                        svc.update_lease(
                            session,
                            ctx.lessee_code,
                            code,
                            {
                                "end_date": end,
                                "monthly_rent_cny": rent,
                                "expected_km_per_year": km,
                                "emissions_claimant": claimant,
                            },
                        )
                except svc.FormRejected as exc:
                    show_rejection(exc, _("Lease {code} not saved").format(code=code))
                else:
                    after_write(_("Lease {code} saved.").format(code=code))


def models_tab(frame: pd.DataFrame) -> None:
    kinds = st.multiselect(_("Drive"), sorted(frame["kind"].unique()), key="model_f_kind")
    shown = filter_frame(frame, {"kind": kinds})
    st.caption(
        _(
            "{shown} of {total} models · shared reference data (read-only here); each value's source row in "
            "data/reference/vehicles.csv is listed under Sources"
        ).format(shown=len(shown), total=len(frame))
    )
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config=column_config(svc.MODEL_DISPLAY),
    )


def import_tab(ctx: AppContext, choices: svc.FormChoices) -> None:
    c = st.columns([1, 1, 2])
    kind = c[0].selectbox(_("What the file holds"), imports_svc.import_kinds(ctx.lessee_code), key="imp_kind")
    owner = ""
    if ctx.is_lessor:
        owner = c[1].selectbox(
            _("For lessee"),
            ("",) + choices.lessees,
            key="imp_lessee",
            format_func={x: x or _("(lessee_code column)") for x in ("", *choices.lessees)}.get,
            help=_("Orders need a lessee; vehicles and leases may name it per row."),
        )
    columns = imports_svc.import_columns(kind)
    c[2].markdown(
        _(
            "Columns: {columns} (bold = required). CSV in UTF-8 or XLSX, header in row 1. One bad cell rejects "
            "the whole file; nothing is written."
        ).format(columns=", ".join(f"**{n}**" if req else n for n, req in columns))
    )
    c[2].download_button(
        _("Download a template (CSV)"),
        imports_svc.import_template_csv(kind),
        f"{kind}-template.csv",
        "text/csv",
        key="imp_template",
    )
    upload = st.file_uploader(_("File"), type=["csv", "xlsx"], key="imp_file")
    if st.button(_("Import"), type="primary", disabled=upload is None, key="imp_go"):
        assert upload is not None
        try:
            with services.unit_of_work(ctx.url) as session:
                result = imports_svc.import_upload(
                    session, ctx.lessee_code, kind, upload.name, upload.getvalue(), owner or None
                )
        except imports_svc.ImportFailed as exc:
            show_rejection(exc, _("{file} rejected").format(file=upload.name))
        except Exception as exc:  # the commit itself failed (database gone): one message, nothing written
            st.error(
                _("{file}: nothing was imported: {error}").format(
                    file=upload.name, error=imports_svc.describe_error(exc)
                )
            )
        else:
            after_write(result.summary())


ctx = page_context("Fleet & leases")
with services.unit_of_work(ctx.url) as session:  # this render's reads; each write below has its own
    choices = _data.choices(session, ctx.url, ctx.lessee_code)
    models = _data.models(session, ctx.url)
tabs = st.tabs([_("Vehicles"), _("Leases"), _("Vehicle models"), _("Import")])
with tabs[0]:
    vehicle_forms(ctx, choices, vehicles_tab(ctx, choices, models))
with tabs[1]:
    leases_tab(ctx, choices)
with tabs[2]:
    models_tab(models)
with tabs[3]:
    import_tab(ctx, choices)
