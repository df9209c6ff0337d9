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
from fleet.services.i18n import _, fmt_number, localised

ctx = page_context("Emissions")
profiles = dict(svc.emission_profiles())
left, right = st.columns([1, 3])
year = left.selectbox(_("Year"), list(range(ctx.today.year, ctx.today.year - 4, -1)), key="em_year")
profile_id = right.selectbox(
    _("Methodology profile"),
    list(profiles),
    index=list(profiles).index(svc.DEFAULT_PROFILE),
    format_func=lambda p: f"{p}: {profiles[p]}",
    key="em_profile",
)
try:
    with services.unit_of_work(ctx.url) as session:  # this render's read; the package build has its own
        view = _data.emissions(session, ctx.url, ctx.lessee_code, int(year), profile_id)
except FactorError as exc:
    st.error(_("Emission factors: {error}").format(error=exc))
    st.stop()
months = view.months
if months.empty:
    st.info(
        _(
            "No leases or metered data in {year} in this scope: nothing to report. Metered km and kWh come in "
            "with `evfleet import trips FILE` (or the Import tab of Fleet & leases)."
        ).format(year=year)
    )
    st.stop()

lessees = sorted(months["lessee"].unique())
chosen = (
    st.multiselect(_("Lessees"), lessees, default=lessees, key="em_lessees") if len(lessees) > 1 else lessees
)
shown = months[months["lessee"].isin(chosen)]
post = shown["ex-post reduction [t]"].sum()
ante = shown["ex-ante reduction [t]"].sum()
ante_to_date = shown.loc[shown["ex-post reduction [t]"].notna(), "ex-ante reduction [t]"].sum()
withheld = view.withheld
if withheld:
    st.warning(
        _("Reduction withheld under {profile}. Data gap: {gap}.").format(profile=profile_id, gap=withheld)
    )
WITHHELD = _("withheld")
tonnes = (lambda t: WITHHELD) if withheld else (lambda t: fmt_number(t, 2))
cols = st.columns(4)
cols[0].metric(
    _("Ex-post reduction {year} [t CO2]").format(year=year),
    tonnes(post),
    border=True,
    help=_("From metered km and charger kWh, per vehicle-day, after the data-quality checks."),
)
cols[1].metric(
    _("Ex-ante, same months [t CO2]"),
    tonnes(ante_to_date),
    border=True,
    help=_("Expected from plans and leases for the months that have metered data."),
)
cols[2].metric(_("Ex-ante, whole {year} [t CO2]").format(year=year), tonnes(ante), border=True)
cols[3].metric(
    _("Vehicle-days metered"),
    fmt_number(int(shown["vehicle-days"].sum()), 0),
    border=True,
    help=_("{checked} metered rows checked, {excluded} excluded by the checks.").format(
        checked=fmt_number(view.rows_checked, 0), excluded=fmt_number(view.rows_excluded, 0)
    ),
)

st.subheader(_("Per lessee and month [t CO2]"))
FIGURES = {
    "ex-ante reduction [t]": _("ex-ante reduction [t]"),
    "ex-post reduction [t]": _("ex-post reduction [t]"),
}
long = shown.melt(
    id_vars=["lessee", "month"],
    value_vars=["ex-ante reduction [t]", "ex-post reduction [t]"],
    var_name="figure",
    value_name="t",
).dropna()
long["figure"] = long["figure"].map(FIGURES)
st.altair_chart(
    alt.Chart(long)
    .mark_bar()
    .encode(
        x=alt.X("month:N", title=None),
        xOffset="figure:N",
        y=alt.Y("sum(t):Q", title=_("reduction [t CO2]")),
        color=alt.Color("figure:N", title=None),
        tooltip=["lessee", "month", "figure", alt.Tooltip("sum(t):Q", format=".3f")],
    ),
    width="stretch",
)
st.dataframe(
    localised(shown, svc.MONTH_DISPLAY)
    .style.format(precision=3, na_rep="–")
    .format("{:,.0f}", subset=[_("km"), _("grid kWh")], na_rep="–"),
    hide_index=True,
    placeholder="–",
    key="em_table",
)
st.caption(
    _(
        "Ex-ante: expected from the stored route and charging plans where they exist, else from each lease's "
        "expected km per year. Ex-post: metered. Each vehicle-day counts for its lease's emissions claimant only."
    )
)
if view.from_sql:
    st.caption(
        _(
            "The lessor's table is summed in the database: each lessee's figures as its own view gives them "
            "({screened} vehicle-months with a row the checks may flag were screened day by day). Its ex-ante "
            "takes each lease's expected km on every lease day; a lessee's own view and its package take the "
            "route plan's km on days that have one."
        ).format(screened=fmt_number(view.screened_vehicle_months, 0))
    )

st.subheader(_("Factors and methodology"))
m = view.methodology
st.markdown(
    _(
        "**{name}** ({profile}), {version}  \nSource: {source}  \nBoundary: {boundary}  \nGases: {gases}  \n"
        "Grid factor basis: {grid}"
    ).format(
        name=m["name"],
        profile=m["profile"],
        version=m["version"],
        source=m["source"],
        boundary=m["boundary"],
        gases=m["gases"],
        grid=m["grid basis"],
    )
)
st.dataframe(
    localised(view.factors, svc.FACTOR_DISPLAY, keep_others=True),
    hide_index=True,
    placeholder="–",
    key="em_factors",
    column_config={_("source"): st.column_config.TextColumn(width="large")},
)
st.caption(_("Factors from {source}.").format(source=view.factor_source))
if m["to confirm"]:
    with st.expander(_("Open points to confirm ({n})").format(n=len(m["to confirm"]))):
        st.markdown("\n".join(f"- {item}" for item in m["to confirm"]))

st.subheader(_("Run rate, ex-ante basis and data gaps per lessee"))
summary = view.parties[view.parties["lessee"].isin(chosen)] if view.parties is not None else None
if summary is not None and not summary.empty:
    st.dataframe(
        localised(summary, svc.PARTY_DISPLAY, keep_others=True).style.format(
            precision=3, na_rep=WITHHELD if withheld else "–"
        ),
        hide_index=True,
        placeholder="–",
        key="em_parties",
    )
st.caption(
    _(
        "Run rate [t/year]: {method}; monitored days run from the first accepted metered record to the check "
        "date. Ex-ante basis: what the ex-ante figure was computed from. Gap split: lease days before monitoring "
        "began, missing monitored days (monitored lease days without an accepted record) and future days (after "
        "the check date)."
    ).format(method=view.methodology["run rate method"])
)

st.subheader(_("Climate-finance submission package"))
parties = [ctx.lessee_code] if ctx.lessee_code else lessees
party = st.selectbox(_("Claimant"), parties, key="em_party", disabled=len(parties) == 1)
st.caption(
    _(
        "JSON (with its schema), XLSX, PDF and a SHA-256 manifest, zipped. A draft: checked against the claims "
        "ledger (vehicle-days claimed by another report are refused), but the app does not record the claims; "
        "file it with `evfleet submission --year {year} --lessee {party} --out DIR`."
    ).format(year=year, party=party)
)
package_key = f"em_package_{party}_{year}_{profile_id}"
if st.button(_("Build package"), key="em_build"):
    with st.spinner(_("Building the package…")):
        try:
            with services.unit_of_work(ctx.url) as session:
                st.session_state[package_key] = svc.submission_zip(
                    session, ctx.lessee_code, party, int(year), profile_id
                )
        except (DoubleClaimError, FactorError, ValueError) as exc:
            st.error(_("Package refused: {error}").format(error=exc))
package: svc.SubmissionPackage | None = st.session_state.get(package_key)
if package is not None:
    st.success(
        _("{report}: ex-post {tonnes} t CO2e; files: {files}").format(
            report=package.report_id, tonnes=fmt_number(package.ex_post_t, 4), files=", ".join(package.files)
        )
    )
    st.download_button(
        _("Download the package (zip)"),
        package.data,
        package.filename,
        "application/zip",
        key="em_download",
        type="primary",
    )
