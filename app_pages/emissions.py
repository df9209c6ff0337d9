"""Emissions: per lessee and month, ex-ante beside ex-post, the factors and methodology with their sources; the
climate-finance submission package as a download (a draft: the app never writes the claims ledger)."""

from __future__ import annotations

import altair as alt
import streamlit as st

from app_pages import _data
from app_pages._shell import page_context
from fleet import services
from fleet.services import emissions as svc
from fleet.services.emissions import DoubleClaimError, FactorError

ctx = page_context("Emissions")
profiles = dict(svc.emission_profiles())
left, right = st.columns([1, 3])
year = left.selectbox("Year", list(range(ctx.today.year, ctx.today.year - 4, -1)), key="em_year")
profile_id = right.selectbox(
    "Methodology profile",
    list(profiles),
    index=list(profiles).index(svc.DEFAULT_PROFILE),
    format_func=lambda p: f"{p}: {profiles[p]}",
    key="em_profile",
)
try:
    with services.unit_of_work(ctx.url) as session:  # this render's read; the package build has its own
        view = _data.emissions(session, ctx.url, ctx.lessee_code, int(year), profile_id)
except FactorError as exc:
    st.error(f"Emission factors: {exc}")
    st.stop()
months = view.months
if months.empty:
    st.info(
        f"No leases or metered data in {year} in this scope: nothing to report. Metered km and kWh come in with "
        "`evfleet import trips FILE` (or the Import tab of Fleet & leases)."
    )
    st.stop()

lessees = sorted(months["lessee"].unique())
chosen = (
    st.multiselect("Lessees", lessees, default=lessees, key="em_lessees") if len(lessees) > 1 else lessees
)
shown = months[months["lessee"].isin(chosen)]
post = shown["ex-post reduction [t]"].sum()
ante = shown["ex-ante reduction [t]"].sum()
ante_to_date = shown.loc[shown["ex-post reduction [t]"].notna(), "ex-ante reduction [t]"].sum()
withheld = view.withheld
if withheld:
    st.warning(f"Reduction withheld under {profile_id}. Data gap: {withheld}.")
tonnes = (lambda t: "withheld") if withheld else (lambda t: f"{t:,.2f}")
cols = st.columns(4)
cols[0].metric(
    f"Ex-post reduction {year} [t CO2]",
    tonnes(post),
    border=True,
    help="From metered km and charger kWh, per vehicle-day, after the data-quality checks.",
)
cols[1].metric(
    "Ex-ante, same months [t CO2]",
    tonnes(ante_to_date),
    border=True,
    help="Expected from plans and leases for the months that have metered data.",
)
cols[2].metric(f"Ex-ante, whole {year} [t CO2]", tonnes(ante), border=True)
cols[3].metric(
    "Vehicle-days metered",
    f"{int(shown['vehicle-days'].sum()):,}",
    border=True,
    help=f"{view.rows_checked:,} metered rows checked, {view.rows_excluded:,} excluded by the checks.",
)

st.subheader("Per lessee and month [t CO2]")
long = shown.melt(
    id_vars=["lessee", "month"],
    value_vars=["ex-ante reduction [t]", "ex-post reduction [t]"],
    var_name="figure",
    value_name="t",
).dropna()
st.altair_chart(
    alt.Chart(long)
    .mark_bar()
    .encode(
        x=alt.X("month:N", title=None),
        xOffset="figure:N",
        y=alt.Y("sum(t):Q", title="reduction [t CO2]"),
        color=alt.Color("figure:N", title=None),
        tooltip=["lessee", "month", "figure", alt.Tooltip("sum(t):Q", format=".3f")],
    ),
    width="stretch",
)
st.dataframe(
    shown.style.format(precision=3, na_rep="–").format("{:,.0f}", subset=["km", "grid kWh"], na_rep="–"),
    hide_index=True,
    placeholder="–",
    key="em_table",
)
st.caption(
    "Ex-ante: expected from the stored route and charging plans where they exist, else from each lease's "
    "expected km per year. Ex-post: metered. Each vehicle-day counts for its lease's emissions claimant only."
)

st.subheader("Factors and methodology")
m = view.methodology
st.markdown(
    f"**{m['name']}** ({m['profile']}), {m['version']}  \nSource: {m['source']}  \nBoundary: "
    f"{m['boundary']}  \nGases: {m['gases']}  \nGrid factor basis: {m['grid basis']}"
)
st.dataframe(
    view.factors,
    hide_index=True,
    placeholder="–",
    key="em_factors",
    column_config={"source": st.column_config.TextColumn(width="large")},
)
st.caption(f"Factors from {view.factor_source}.")
if m["to confirm"]:
    with st.expander(f"Open points to confirm ({len(m['to confirm'])})"):
        st.markdown("\n".join(f"- {item}" for item in m["to confirm"]))

st.subheader("Run rate, ex-ante basis and data gaps per lessee")
summary = view.parties[view.parties["lessee"].isin(chosen)] if view.parties is not None else None
if summary is not None and not summary.empty:
    st.dataframe(
        summary.style.format(precision=3, na_rep="withheld" if withheld else "–"),
        hide_index=True,
        placeholder="–",
        key="em_parties",
    )
st.caption(
    f"Run rate [t/year]: {view.methodology['run rate method']}; monitored days run from the first accepted "
    "metered record to the check date. Ex-ante basis: what the ex-ante figure was computed from. Gap split: "
    "lease days before monitoring began, missing monitored days (monitored lease days without an accepted "
    "record) and future days (after the check date)."
)

st.subheader("Climate-finance submission package")
parties = [ctx.lessee_code] if ctx.lessee_code else lessees
party = st.selectbox("Claimant", parties, key="em_party", disabled=len(parties) == 1)
st.caption(
    "JSON (with its schema), XLSX, PDF and a SHA-256 manifest, zipped. A draft: checked against the claims "
    "ledger (vehicle-days claimed by another report are refused), but the app does not record the claims; "
    f"file it with `evfleet submission --year {year} --lessee {party} --out DIR`."
)
package_key = f"em_package_{party}_{year}_{profile_id}"
if st.button("Build package", key="em_build"):
    with st.spinner("Building the package…"):
        try:
            with services.unit_of_work(ctx.url) as session:
                st.session_state[package_key] = svc.submission_zip(
                    session, ctx.lessee_code, party, int(year), profile_id
                )
        except (DoubleClaimError, FactorError, ValueError) as exc:
            st.error(f"Package refused: {exc}")
package: svc.SubmissionPackage | None = st.session_state.get(package_key)
if package is not None:
    st.success(
        f"{package.report_id}: ex-post {package.ex_post_t:,.4f} t CO2e; files: {', '.join(package.files)}"
    )
    st.download_button(
        "Download the package (zip)",
        package.data,
        package.filename,
        "application/zip",
        key="em_download",
        type="primary",
    )
