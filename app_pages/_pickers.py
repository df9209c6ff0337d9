"""Widgets several pages share: the depot and service-date pickers (kept in session state across pages)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from app_pages import _data
from app_pages._shell import AppContext
from fleet.services import Session, pickers
from fleet.services.i18n import _

_DEPOT = "picked_depot"
_DAY = "picked_day"


def depot_and_date(ctx: AppContext, session: Session, key: str) -> tuple[pickers.DepotOption, dt.date] | None:
    """Depot select box and service date input (options read in the render's `session`); None (with a message)
    when the scope has no depots."""
    options = _data.depots(session, ctx.url, ctx.lessee_code)
    if not options:
        st.info(
            _(
                "No depots in this scope yet. Depots are added with the demo loader (`evfleet demo`) or by the "
                "lessor's data team."
            )
        )
        return None
    by_code = {o.code: o for o in options}
    codes = list(by_code)
    # Widget state is dropped when the user leaves a page; the last choice is kept here so that the Route
    # planner and Charging pages open on the same depot-day.
    remembered = st.session_state.get(_DEPOT)
    left, right = st.columns([3, 2])
    code = left.selectbox(
        _("Depot"),
        codes,
        index=codes.index(remembered) if remembered in codes else 0,
        format_func=lambda c: by_code[c].label,
        key=f"{key}_depot",
    )
    option = by_code[code]
    day = right.date_input(
        _("Service date"),
        value=st.session_state.get(f"{_DAY}_{code}") or pickers.default_service_date(option, ctx.today),
        key=f"{key}_date_{code}",
        help=_("The day the trucks drive; its charging plan is the night before."),
    )
    st.session_state[_DEPOT] = code
    st.session_state[f"{_DAY}_{code}"] = day
    return option, day
