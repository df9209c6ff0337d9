"""Chargers: each connector's live state as the CSMS (`evfleet csms serve`) last saw it, and the night's charging
alerts with the truck whose readiness is at risk. Reads only; the CSMS writes."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from app_pages._pickers import depot_and_date
from app_pages._shell import page_context
from fleet import services
from fleet.services import chargers as svc
from fleet.services.i18n import N_, _, localised

# Every user-facing string of this page, in one place (msgids, shown with `_()`).
TEXT = {
    "title": N_("Chargers"),
    "states": N_("Connectors now"),
    "states_caption": N_(
        "As the CSMS last saw them (OCPP StatusNotification, meter values); refresh the page to update."
    ),
    "no_csms": N_(
        "No charger has reported yet. Start the CSMS with `evfleet csms serve --depot CODE --port 9000` and "
        "point the chargers at ws://HOST:9000/<connector code> (docs/ocpp.md)."
    ),
    "alerts": N_("Charging alerts"),
    "alerts_caption": N_(
        "The published plan against what the chargers did, verified from meter values: above the profile, "
        "behind plan, profile accepted but not followed, rejected, read-back failed, silent."
    ),
    "no_alerts": N_("No charging alerts for this night."),
    "at_risk": N_("{n} truck(s) may leave short: {plates}"),
}

ctx = page_context(TEXT["title"])  # msgid, translated by page_context
with services.unit_of_work(ctx.url) as session:
    picked = depot_and_date(ctx, session, "chargers")
    if picked is None:
        st.stop()
    depot, day = picked
    states = svc.connector_states(session, ctx.lessee_code, depot.code)
    alerts = svc.alerts(session, ctx.lessee_code, [day, day - dt.timedelta(days=1)], depot.code)

st.subheader(_(TEXT["states"]))
st.caption(_(TEXT["states_caption"]))
if states["charger"].eq("").all():
    st.info(_(TEXT["no_csms"]))
st.dataframe(localised(states, svc.STATE_DISPLAY), hide_index=True, width="stretch")

st.subheader(_(TEXT["alerts"]))
st.caption(_(TEXT["alerts_caption"]))
if alerts.empty:
    st.success(_(TEXT["no_alerts"]))
else:
    risky = sorted(set(alerts.loc[alerts["readiness_at_risk"], "truck"]) - {""})
    if risky:
        st.warning(_(TEXT["at_risk"]).format(n=len(risky), plates=", ".join(risky)))
    st.dataframe(localised(alerts, svc.ALERT_DISPLAY), hide_index=True, width="stretch")
