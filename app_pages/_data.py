"""Cached reads for the pages: keyed by database URL and scope (and date), dropped after every write.

Each takes the render's session first (`_session`: not part of the cache key, used only on a miss) and the
database URL second (part of the key). The TTL bounds staleness when another process (the CLI, the nightly job)
writes the same database.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from fleet.services import Session, fleet_tables, pickers
from fleet.services import charging as charging_svc
from fleet.services import emissions as emissions_svc
from fleet.services import fleet_leases as fleet_svc
from fleet.services import lease_economics as economics_svc
from fleet.services import nightly_jobs as jobs_svc
from fleet.services import overview as overview_svc
from fleet.services import route_planner as routes_svc

TTL_S = 120


@st.cache_data(ttl=TTL_S, show_spinner=False)
def overview(
    _session: Session, url: str, lessee_code: str | None, today: dt.date
) -> list[overview_svc.DepotSummary]:
    return overview_svc.overview(_session, lessee_code, today)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def vehicles_page(
    _session: Session, url: str, lessee_code: str | None, filters: tuple, page: int
) -> fleet_tables.TablePage:
    lessees, depots, models, statuses, text = filters
    return fleet_tables.vehicles_page(
        _session,
        lessee_code,
        lessees=lessees,
        depots=depots,
        models=models,
        statuses=statuses,
        text=text,
        page=page,
    )


@st.cache_data(ttl=TTL_S, show_spinner=False)
def leases_page(
    _session: Session, url: str, lessee_code: str | None, today: dt.date, filters: tuple, page: int
) -> fleet_tables.TablePage:
    lessees, depots, active, text = filters
    return fleet_tables.leases_page(
        _session, lessee_code, today, lessees=lessees, depots=depots, active_only=active, text=text, page=page
    )


@st.cache_data(ttl=TTL_S, show_spinner=False)
def models(_session: Session, url: str) -> pd.DataFrame:
    return fleet_svc.models_frame(_session)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def choices(_session: Session, url: str, lessee_code: str | None) -> fleet_svc.FormChoices:
    return fleet_svc.form_choices(_session, lessee_code, with_vehicles=False)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def depots(_session: Session, url: str, lessee_code: str | None) -> list[pickers.DepotOption]:
    return pickers.depot_options(_session, lessee_code)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def route_plan(
    _session: Session, url: str, lessee_code: str | None, depot_code: str, day: dt.date
) -> routes_svc.RoutePlanView | None:
    return routes_svc.current_route_view(_session, lessee_code, depot_code, day)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def order_count(_session: Session, url: str, lessee_code: str | None, depot_code: str, day: dt.date) -> int:
    return routes_svc.order_count(_session, lessee_code, depot_code, day)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def charging_plan(
    _session: Session, url: str, lessee_code: str | None, depot_code: str, day: dt.date
) -> charging_svc.StoredCharging | None:
    return charging_svc.current_charging_view(_session, lessee_code, depot_code, day)


@st.cache_data(ttl=3600, show_spinner=False)
def tariffs() -> list[tuple[str, str]]:
    return charging_svc.tariff_options()


@st.cache_data(ttl=30, show_spinner=False)
def jobs(_session: Session, url: str, lessee_code: str | None, service_date: dt.date | None) -> pd.DataFrame:
    return jobs_svc.jobs_frame(_session, lessee_code, service_date)


@st.cache_data(ttl=30, show_spinner=False)
def latest_run(_session: Session, url: str, lessee_code: str | None) -> jobs_svc.RunSummary | None:
    return jobs_svc.latest_run(_session, lessee_code)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def emissions(
    _session: Session, url: str, lessee_code: str | None, year: int, profile_id: str
) -> emissions_svc.EmissionsView:
    return emissions_svc.emissions_view(_session, lessee_code, year, profile_id)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def emissions_avoided(
    _session: Session, url: str, lessee_code: str | None, today: dt.date
) -> tuple[float, str] | None:
    return emissions_svc.emissions_avoided(_session, lessee_code, today)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def lease_codes(
    _session: Session, url: str, lessee_code: str | None, contains: str = "", limit: int | None = None
) -> tuple[list[str], int]:
    """The first `limit` lease codes containing `contains`, and how many match."""
    return (
        economics_svc.lease_codes(_session, lessee_code, contains, limit),
        economics_svc.lease_count(_session, lessee_code, contains),
    )


@st.cache_data(ttl=TTL_S, show_spinner=False)
def lease_economics(_session: Session, url: str, lessee_code: str | None, lease_code: str) -> dict:
    return economics_svc.lease_economics(_session, lessee_code, lease_code)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def scenario_economics(payload_json: str) -> dict:
    import json

    return economics_svc.scenario_economics(json.loads(payload_json))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def saved_scenarios(_session: Session, url: str, lessee_code: str | None) -> list[str]:
    return economics_svc.saved_scenarios(_session, lessee_code)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def saved_scenario(_session: Session, url: str, lessee_code: str | None, name: str) -> dict:
    return economics_svc.saved_scenario_payload(_session, lessee_code, name)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def planned_charging(
    _session: Session,
    url: str,
    lessee_code: str | None,
    first: dt.date,
    last: dt.date,
) -> list[overview_svc.PlannedCharging]:
    return overview_svc.planned_charging(_session, lessee_code, first, last)
