"""The frame around every page: database check, scope selection (sidebar) and the page header.

`prepare_context()` runs in the entry script on every rerun and leaves an `AppContext` (or the reason there is
none) in session state; each page starts with `page_context(title)`, which prints the title and the scope the
page runs in, or explains what to run and stops the page when the database is not ready.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import streamlit as st

from fleet import services
from fleet.services import Session
from fleet.services import audit as audit_svc
from fleet.services import scope as scope_svc
from fleet.services import session as session_svc

_CTX_KEY = "evfleet_context"
_PROBLEM_KEY = "evfleet_problem"
_FLASH_KEY = "evfleet_flash"
LESSOR_OPTION = ""  # selector value of the lessor's whole view


@dataclass(frozen=True)
class AppContext:
    """What a page needs to call `fleet.services`: the database, the scope, the reference date."""

    url: str
    lessee_code: str | None
    scope_label: str
    scope_source: str
    today: dt.date

    @property
    def is_lessor(self) -> bool:
        return self.lessee_code is None


@dataclass(frozen=True)
class Problem:
    message: str
    fix: str | None = None


@st.cache_data(ttl=30, show_spinner=False)
def _status(url: str) -> session_svc.DatabaseStatus:
    return session_svc.database_status(url)


@st.cache_data(ttl=300, show_spinner=False)
def _scope_options(_session: Session, url: str) -> list[scope_svc.ScopeOption]:
    return scope_svc.scope_options(_session)


@st.cache_data(ttl=300, show_spinner=False)
def _describe(_session: Session, url: str, lessee_code: str | None) -> str:
    return scope_svc.describe_scope(_session, lessee_code)


def _signed_in_user() -> dict[str, object] | None:
    """The OIDC user's claims when `st.login` is configured and the user signed in, else None."""
    try:
        if st.user.is_logged_in:
            return dict(st.user.to_dict())
    except Exception:
        return None
    return None


def prepare_context() -> None:
    """Sidebar: database, scope selector (or the pinned scope), reference date. Call once per rerun."""
    st.session_state.pop(_CTX_KEY, None)
    st.session_state.pop(_PROBLEM_KEY, None)
    url = session_svc.app_url()
    status = _status(url)
    sidebar = st.sidebar
    developer = audit_svc.developer_mode()
    if not status.ready:
        _status.clear()  # re-check on the next rerun: the user may have just run the fix
        # The address (password hidden) is what the operator needs to fix it; users of a deployment see only
        # that the database is not ready (EVFLEET_APP_DEVELOPER=1 shows it, docs/app.md).
        where = f"Database {status.url}" if developer else "The database"
        st.session_state[_PROBLEM_KEY] = Problem(f"{where}: {status.problem}.", status.fix)
        if developer:
            sidebar.caption(f"Database: {status.url}")
        return
    auth_on = os.environ.get(scope_svc.APP_AUTH_ENV, "").strip().lower() == "oidc"
    decision = scope_svc.decide_scope(os.environ, _signed_in_user() if auth_on else None)
    if decision.refused:
        if auth_on and not _signed_in_user():
            sidebar.button("Sign in", on_click=st.login, type="primary")
        st.session_state[_PROBLEM_KEY] = Problem(f"Access: {decision.refused}.")
        return
    with services.unit_of_work(url) as session:  # the frame's reads: the scope's options and description
        if decision.pinned_lessee:
            lessee_code: str | None = decision.pinned_lessee
        else:
            options = _scope_options(session, url)
            labels = {(o.lessee_code or LESSOR_OPTION): o.label for o in options}
            choice = sidebar.selectbox(
                "Scope",
                list(labels),
                format_func=labels.get,
                key="scope_choice",
                help="The lessor sees its whole business; a lessee sees only its own rows.",
            )
            lessee_code = choice or None
        try:
            label = _describe(session, url, lessee_code)
        except scope_svc.ScopeError as exc:
            st.session_state[_PROBLEM_KEY] = Problem(f"Scope: {exc} (from {decision.source}).")
            return
    if not decision.selectable:
        sidebar.markdown(f"**Scope:** {label}")
        sidebar.caption(f"pinned by {decision.source}")
    today = sidebar.date_input(
        "Reference date",
        value=dt.date.today(),
        key="reference_date",
        help="Leases active on this date; metered km and kWh of the 30 days up to it.",
    )
    if auth_on and _signed_in_user():
        sidebar.button("Sign out", on_click=st.logout)
    # Every write of this rerun is recorded under this name (fleet.audit).
    audit_svc.set_app_actor(audit_svc.app_actor(_signed_in_user() if auth_on else None, lessee_code))
    if developer:
        sidebar.caption(f"Database: {status.url}")
    st.session_state[_CTX_KEY] = AppContext(url, lessee_code, label, decision.source, today)


def page_context(title: str) -> AppContext:
    """The page header (title + scope); stops the page with a clear message when there is no usable context."""
    st.title(title)
    problem: Problem | None = st.session_state.get(_PROBLEM_KEY)
    ctx: AppContext | None = st.session_state.get(_CTX_KEY)
    if problem is not None or ctx is None:
        problem = problem or Problem(
            "The app's entry script did not run (start it with `streamlit run streamlit_app.py`)."
        )
        st.warning(problem.message)
        if problem.fix:
            st.markdown("Run this from the project directory, then reload the page:")
            st.code(problem.fix, language="bash")
        st.stop()
    st.caption(f"Scope: **{ctx.scope_label}** · reference date {ctx.today.isoformat()}")
    flash = st.session_state.pop(_FLASH_KEY, None)
    if flash:
        st.success(flash)
    return ctx


def after_write(message: str) -> None:
    """Drop every cached read (the data changed), keep a success message for the next run, and rerun."""
    st.cache_data.clear()
    st.session_state[_FLASH_KEY] = message
    st.rerun()
