"""Fleet & leases: vehicles, leases and vehicle models in filterable tables; add and edit through validated
forms; CSV/XLSX import with the row-level error report. All reads and writes go through `fleet.services`: one unit of work for the reads of a render, one per write."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages import _data
from app_pages._shell import AppContext, after_write, page_context
from fleet import services
from fleet.services import fleet_leases as svc
from fleet.services import imports as imports_svc
from fleet.services.fleet_leases import CLAIMANTS, STATUSES
from fleet.services.frames import filter_frame


def show_rejection(exc: svc.FormRejected | imports_svc.ImportFailed, what: str) -> None:
    st.error(f"{what}: {len(exc.errors)} problem(s); nothing was saved.")
    st.dataframe(imports_svc.errors_frame(exc), hide_index=True, width="stretch")


def vehicles_tab(ctx: AppContext, choices: svc.FormChoices, frame: pd.DataFrame) -> None:
    cols = iter(st.columns([1, 1, 1, 1, 1.4] if ctx.is_lessor else [1, 1, 1, 1.4]))
    picks = {
        "lessee": next(cols).multiselect("Lessee", sorted(frame["lessee"].unique()), key="veh_f_lessee")
        if ctx.is_lessor
        else []
    }
    picks["depot"] = next(cols).multiselect("Depot", sorted(frame["depot"].unique()), key="veh_f_depot")
    picks["model"] = next(cols).multiselect("Model", sorted(frame["model"].unique()), key="veh_f_model")
    picks["status"] = next(cols).multiselect("Status", sorted(frame["status"].unique()), key="veh_f_status")
    text = next(cols).text_input("Plate or VIN contains", key="veh_f_text")
    shown = filter_frame(frame, picks, text, ("plate", "vin"))
    st.caption(f"{len(shown)} of {len(frame)} vehicles")
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * max(len(shown), 1), 560),
        column_config={"commissioned_on": st.column_config.DateColumn("commissioned on")},
    )

    with st.expander("Add a vehicle"), st.form("add_vehicle", clear_on_submit=False):
        c = st.columns(3)
        plate = c[0].text_input("Plate", key="addv_plate")
        vin = c[1].text_input("VIN (17 characters)", key="addv_vin")
        model = c[2].selectbox("Model", choices.bev_models + choices.diesel_models, key="addv_model")
        c = st.columns(3)
        depot = c[0].selectbox("Depot", ("",) + choices.depots, key="addv_depot")
        owner = (
            c[1].selectbox(
                "Lessee",
                ("",) + choices.lessees,
                key="addv_lessee",
                help="Empty: the lessor's own truck, not on lease.",
            )
            if ctx.is_lessor
            else ""
        )
        status = c[2].selectbox("Status", STATUSES, key="addv_status")
        commissioned = st.text_input("Commissioned on (YYYY-MM-DD, optional)", key="addv_comm")
        if st.form_submit_button("Add vehicle", type="primary"):
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
                show_rejection(exc, "Vehicle not added")
            else:
                after_write(f"Vehicle {plate.strip()} added.")

    with st.expander("Edit a vehicle"):
        if frame.empty:
            st.caption("No vehicles in this scope.")
            return
        plate = st.selectbox("Vehicle", frame["plate"].tolist(), key="editv_plate")
        current = frame.loc[frame["plate"] == plate].iloc[0]
        with st.form("edit_vehicle"):
            c = st.columns(3)
            depots = ("",) + choices.depots
            depot = c[0].selectbox(
                "Depot",
                depots,
                index=depots.index(current["depot"]) if current["depot"] in depots else 0,
                key="editv_depot",
            )
            status = c[1].selectbox(
                "Status", STATUSES, index=STATUSES.index(current["status"]), key="editv_status"
            )
            commissioned = c[2].text_input(
                "Commissioned on (YYYY-MM-DD)",
                key=f"editv_comm_{plate}",
                value="" if pd.isna(current["commissioned_on"]) else str(current["commissioned_on"]),
            )
            if st.form_submit_button("Save vehicle", type="primary"):
                try:
                    with services.unit_of_work(ctx.url) as session:
                        svc.update_vehicle(
                            session,
                            ctx.lessee_code,
                            plate,
                            {"depot_code": depot, "status": status, "commissioned_on": commissioned},
                        )
                except svc.FormRejected as exc:
                    show_rejection(exc, f"Vehicle {plate} not saved")
                else:
                    after_write(f"Vehicle {plate} saved.")


def leases_tab(ctx: AppContext, choices: svc.FormChoices, frame: pd.DataFrame) -> None:
    cols = iter(st.columns([1, 1, 1, 1.4] if ctx.is_lessor else [1, 1, 1.4]))
    picks = {
        "lessee": next(cols).multiselect("Lessee", sorted(frame["lessee"].unique()), key="lease_f_lessee")
        if ctx.is_lessor
        else []
    }
    picks["depot"] = next(cols).multiselect("Depot", sorted(frame["depot"].unique()), key="lease_f_depot")
    if next(cols).checkbox(f"Active on {ctx.today.isoformat()} only", key="lease_f_active"):
        picks["active"] = [True]
    text = next(cols).text_input("Lease code or plate contains", key="lease_f_text")
    shown = filter_frame(frame, picks, text, ("code", "plate"))
    st.caption(
        f"{len(shown)} of {len(frame)} leases · rent of the shown leases "
        f"{shown['monthly_rent_cny'].sum():,.2f} CNY/month"
    )
    money = {
        c: st.column_config.NumberColumn(c.replace("_cny", " [CNY]").replace("_", " "), format="localized")
        for c in ("monthly_rent_cny", "deposit_cny", "purchase_price_cny", "residual_value_cny")
    }
    labels = {
        c: c.replace("_", " ")
        for c in (
            "start_date",
            "end_date",
            "replaced_diesel_model",
            "loan_term_months",
            "expected_km_per_year",
            "emissions_claimant",
        )
    }
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * max(len(shown), 1), 560),
        column_config={
            **labels,
            **money,
            "loan_annual_rate": st.column_config.NumberColumn("loan rate", format="%.4f"),
        },
    )

    if not ctx.is_lessor:
        st.caption("Leases are the lessor's contracts: they are added and changed in the lessor's view.")
        return
    with st.expander("Add a lease"):
        if not choices.plates:
            st.caption("No vehicles in this scope to lease.")
        else:
            with st.form("add_lease"):
                c = st.columns(3)
                code = c[0].text_input("Lease code", key="addl_code")
                plate = c[1].selectbox("Vehicle", choices.plates, key="addl_plate")
                owner = c[2].selectbox("Lessee", choices.lessees, key="addl_lessee")
                c = st.columns(3)
                start = c[0].date_input("Start", value=ctx.today, key="addl_start")
                end = c[1].date_input("End", value=ctx.today + dt.timedelta(days=3 * 365), key="addl_end")
                diesel = c[2].selectbox(
                    "Replaces diesel model", ("",) + choices.diesel_models, key="addl_diesel"
                )
                c = st.columns(4)
                rent = c[0].text_input("Monthly rent [CNY]", key="addl_rent")
                price = c[1].text_input("Purchase price [CNY]", key="addl_price")
                deposit = c[2].text_input("Deposit [CNY]", key="addl_deposit")
                residual = c[3].text_input("Residual value [CNY]", key="addl_residual")
                claimant = st.selectbox("Emissions claimant", CLAIMANTS, key="addl_claimant")
                if st.form_submit_button("Add lease", type="primary"):
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
                        show_rejection(exc, "Lease not added")
                    else:
                        after_write(f"Lease {code.strip()} added.")

    with st.expander("Edit a lease"):
        if frame.empty:
            st.caption("No leases in this scope.")
            return
        code = st.selectbox("Lease", frame["code"].tolist(), key="editl_code")
        current = frame.loc[frame["code"] == code].iloc[0]
        with st.form("edit_lease"):
            c = st.columns(4)
            end = c[0].date_input("End", value=current["end_date"], key=f"editl_end_{code}")
            rent = c[1].text_input(
                "Monthly rent [CNY]", value=f"{current['monthly_rent_cny']:.2f}", key=f"editl_rent_{code}"
            )
            km = c[2].text_input(
                "Expected km per year",
                key=f"editl_km_{code}",
                value=""
                if pd.isna(current["expected_km_per_year"])
                else f"{current['expected_km_per_year']:g}",
            )
            claimant = c[3].selectbox(
                "Emissions claimant",
                CLAIMANTS,
                key=f"editl_claimant_{code}",
                index=CLAIMANTS.index(current["emissions_claimant"]),
            )
            if st.form_submit_button("Save lease", type="primary"):
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
                    show_rejection(exc, f"Lease {code} not saved")
                else:
                    after_write(f"Lease {code} saved.")


def models_tab(frame: pd.DataFrame) -> None:
    kinds = st.multiselect("Kind", sorted(frame["kind"].unique()), key="model_f_kind")
    shown = filter_frame(frame, {"kind": kinds})
    st.caption(
        f"{len(shown)} of {len(frame)} models · shared reference data (read-only here); each value's "
        "source row in data/reference/vehicles.csv is listed in source_refs"
    )
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={"price_cny": st.column_config.NumberColumn("price [CNY]", format="%.0f")},
    )


def import_tab(ctx: AppContext, choices: svc.FormChoices) -> None:
    c = st.columns([1, 1, 2])
    kind = c[0].selectbox("What the file holds", imports_svc.import_kinds(ctx.lessee_code), key="imp_kind")
    owner = ""
    if ctx.is_lessor:
        owner = c[1].selectbox(
            "For lessee",
            ("",) + choices.lessees,
            key="imp_lessee",
            format_func=lambda x: x or "(lessee_code column)",
            help="Orders need a lessee; vehicles and leases may name it per row.",
        )
    columns = imports_svc.import_columns(kind)
    c[2].markdown(
        "Columns: "
        + ", ".join(f"**{n}**" if req else n for n, req in columns)
        + " (bold = required). CSV in UTF-8 or XLSX, header in row 1. One bad cell rejects the whole "
        "file; nothing is written."
    )
    c[2].download_button(
        "Download a template (CSV)",
        imports_svc.import_template_csv(kind),
        f"{kind}-template.csv",
        "text/csv",
        key="imp_template",
    )
    upload = st.file_uploader("File", type=["csv", "xlsx"], key="imp_file")
    if st.button("Import", type="primary", disabled=upload is None, key="imp_go"):
        assert upload is not None
        try:
            with services.unit_of_work(ctx.url) as session:
                result = imports_svc.import_upload(
                    session, ctx.lessee_code, kind, upload.name, upload.getvalue(), owner or None
                )
        except imports_svc.ImportFailed as exc:
            show_rejection(exc, f"{upload.name} rejected")
        except Exception as exc:  # the commit itself failed (database gone): one message, nothing written
            st.error(f"{upload.name}: nothing was imported: {imports_svc.describe_error(exc)}")
        else:
            after_write(result.summary())


ctx = page_context("Fleet & leases")
with services.unit_of_work(ctx.url) as session:  # this render's reads; each write below has its own
    choices = _data.choices(session, ctx.url, ctx.lessee_code)
    vehicles = _data.vehicles(session, ctx.url, ctx.lessee_code)
    leases = _data.leases(session, ctx.url, ctx.lessee_code, ctx.today)
    models = _data.models(session, ctx.url)
tabs = st.tabs(["Vehicles", "Leases", "Vehicle models", "Import"])
with tabs[0]:
    vehicles_tab(ctx, choices, vehicles)
with tabs[1]:
    leases_tab(ctx, choices, leases)
with tabs[2]:
    models_tab(models)
with tabs[3]:
    import_tab(ctx, choices)
