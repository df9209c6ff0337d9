"""Cached reads for the pages: keyed by database URL and scope (and date), dropped after every write.

The TTL bounds staleness when another process (the CLI, the nightly job) writes the same database.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from fleet import app_services as svc
from fleet.reports import DepotSummary

TTL_S = 120


@st.cache_data(ttl=TTL_S, show_spinner=False)
def overview(url: str, lessee_code: str | None, today: dt.date) -> list[DepotSummary]:
    return svc.overview(url, lessee_code, today)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def vehicles(url: str, lessee_code: str | None) -> pd.DataFrame:
    return svc.vehicles_frame(url, lessee_code)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def leases(url: str, lessee_code: str | None, today: dt.date) -> pd.DataFrame:
    return svc.leases_frame(url, lessee_code, today)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def models(url: str) -> pd.DataFrame:
    return svc.models_frame(url)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def choices(url: str, lessee_code: str | None) -> svc.FormChoices:
    return svc.form_choices(url, lessee_code)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def depots(url: str, lessee_code: str | None) -> list[svc.DepotOption]:
    return svc.depot_options(url, lessee_code)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def route_plan(url: str, lessee_code: str | None, depot_code: str, day: dt.date) -> svc.RoutePlanView | None:
    return svc.current_route_view(url, lessee_code, depot_code, day)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def order_count(url: str, lessee_code: str | None, depot_code: str, day: dt.date) -> int:
    return svc.order_count(url, lessee_code, depot_code, day)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def charging_plan(
    url: str, lessee_code: str | None, depot_code: str, day: dt.date
) -> svc.StoredCharging | None:
    return svc.current_charging_view(url, lessee_code, depot_code, day)


@st.cache_data(ttl=3600, show_spinner=False)
def tariffs() -> list[tuple[str, str]]:
    return svc.tariff_options()


@st.cache_data(ttl=30, show_spinner=False)
def jobs(url: str, lessee_code: str | None, service_date: dt.date | None) -> pd.DataFrame:
    return svc.jobs_frame(url, lessee_code, service_date)


@st.cache_data(ttl=30, show_spinner=False)
def latest_run(url: str, lessee_code: str | None) -> svc.RunSummary | None:
    return svc.latest_run(url, lessee_code)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def emissions(url: str, lessee_code: str | None, year: int, profile_id: str) -> svc.EmissionsView:
    return svc.emissions_view(url, lessee_code, year, profile_id)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def emissions_avoided(url: str, lessee_code: str | None, today: dt.date) -> tuple[float, str] | None:
    return svc.emissions_avoided(url, lessee_code, today)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def lease_codes(url: str, lessee_code: str | None) -> list[str]:
    return svc.lease_codes(url, lessee_code)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def lease_economics(url: str, lessee_code: str | None, lease_code: str) -> dict:
    return svc.lease_economics(url, lessee_code, lease_code)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def scenario_economics(payload_json: str) -> dict:
    import json

    return svc.scenario_economics(json.loads(payload_json))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def saved_scenarios(url: str, lessee_code: str | None) -> list[str]:
    return svc.saved_scenarios(url, lessee_code)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def saved_scenario(url: str, lessee_code: str | None, name: str) -> dict:
    return svc.saved_scenario_payload(url, lessee_code, name)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def planned_charging(
    url: str,
    lessee_code: str | None,
    first: dt.date,
    last: dt.date,
) -> list[svc.PlannedCharging]:
    return svc.planned_charging(url, lessee_code, first, last)
