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
from fleet.services.i18n import LOCALE_NAMES, LOCALES, _, default_locale, fmt_date, get_locale, set_locale

_CTX_KEY = "evfleet_context"
_PROBLEM_KEY = "evfleet_problem"
_FLASH_KEY = "evfleet_flash"
LOCALE_KEY = "locale_choice"
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
def _scope_options(_session: Session, url: str, locale: str) -> list[scope_svc.ScopeOption]:
    return scope_svc.scope_options(_session)  # labels in `locale`, the current one (part of the cache key)


@st.cache_data(ttl=300, show_spinner=False)
def _describe(_session: Session, url: str, lessee_code: str | None, locale: str) -> str:
    return scope_svc.describe_scope(_session, lessee_code)


def _signed_in_user() -> dict[str, object] | None:
    """The OIDC user's claims when `st.login` is configured and the user signed in, else None."""
    try:
        if st.user.is_logged_in:
            return dict(st.user.to_dict())
    except Exception:
        return None
    return None


@st.cache_data(ttl=300, show_spinner=False)
def _default_locale() -> str:
    return default_locale()


def choose_locale() -> str:
    """The sidebar's language selector (default: EVFLEET_LOCALE or evfleet.toml [app] locale), applied to this
    run before anything is drawn; call first in the entry script, before the navigation's page titles."""
    try:
        default = _default_locale()
    except ValueError as exc:  # a bad deployment setting: say so, run in English
        st.sidebar.warning(str(exc))
        default = LOCALES[0]
    picked = st.session_state.get(LOCALE_KEY, default)
    set_locale(picked if picked in LOCALES else default)
    st.sidebar.selectbox(
        "语言 · Language",
        LOCALES,
        index=LOCALES.index(picked) if picked in LOCALES else 0,
        format_func=LOCALE_NAMES.get,
        key=LOCALE_KEY,
    )
    return picked


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
        if developer:
            message = _("Database {url}: {problem}.").format(url=status.url, problem=status.problem)
            sidebar.caption(_("Database: {url}").format(url=status.url))
        else:
            message = _("The database: {problem}.").format(problem=status.problem)
        st.session_state[_PROBLEM_KEY] = Problem(message, status.fix)
        return
    auth_on = os.environ.get(scope_svc.APP_AUTH_ENV, "").strip().lower() == "oidc"
    decision = scope_svc.decide_scope(os.environ, _signed_in_user() if auth_on else None)
    if decision.refused:
        if auth_on and not _signed_in_user():
            sidebar.button(_("Sign in"), on_click=st.login, type="primary")
        st.session_state[_PROBLEM_KEY] = Problem(_("Access: {reason}.").format(reason=decision.refused))
        return
    with services.unit_of_work(url) as session:  # the frame's reads: the scope's options and description
        if decision.pinned_lessee:
            lessee_code: str | None = decision.pinned_lessee
        else:
            options = _scope_options(session, url, get_locale())
            labels = {(o.lessee_code or LESSOR_OPTION): o.label for o in options}
            choice = sidebar.selectbox(
                _("Scope"),
                list(labels),
                format_func=labels.get,
                key="scope_choice",
                help=_("The lessor sees its whole business; a lessee sees only its own rows."),
            )
            lessee_code = choice or None
        try:
            label = _describe(session, url, lessee_code, get_locale())
        except scope_svc.ScopeError as exc:
            st.session_state[_PROBLEM_KEY] = Problem(
                _("Scope: {error} (from {source}).").format(error=exc, source=decision.source)
            )
            return
    if not decision.selectable:
        sidebar.markdown(_("**Scope:** {label}").format(label=label))
        sidebar.caption(_("pinned by {source}").format(source=decision.source))
    today = sidebar.date_input(
        _("Reference date"),
        value=dt.date.today(),
        key="reference_date",
        help=_("Leases active on this date; metered km and kWh of the 30 days up to it."),
    )
    if auth_on and _signed_in_user():
        sidebar.button(_("Sign out"), on_click=st.logout)
    # Every write of this rerun is recorded under this name (fleet.audit).
    audit_svc.set_app_actor(audit_svc.app_actor(_signed_in_user() if auth_on else None, lessee_code))
    if developer:
        sidebar.caption(_("Database: {url}").format(url=status.url))
    st.session_state[_CTX_KEY] = AppContext(url, lessee_code, label, decision.source, today)


def page_context(title: str) -> AppContext:
    """The page header (title, an English msgid translated here, + scope); stops the page with a clear message when there is no usable context."""
    st.title(_(title))
    problem: Problem | None = st.session_state.get(_PROBLEM_KEY)
    ctx: AppContext | None = st.session_state.get(_CTX_KEY)
    if problem is not None or ctx is None:
        problem = problem or Problem(
            _("The app's entry script did not run (start it with `streamlit run streamlit_app.py`).")
        )
        st.warning(problem.message)
        if problem.fix:
            st.markdown(_("Run this from the project directory, then reload the page:"))
            st.code(problem.fix, language="bash")
        st.stop()
    st.caption(
        _("Scope: **{scope}** · reference date {date}").format(
            scope=ctx.scope_label, date=fmt_date(ctx.today)
        )
    )
    flash = st.session_state.pop(_FLASH_KEY, None)
    if flash:
        st.success(flash)
    return ctx


def after_write(message: str) -> None:
    """Drop every cached read (the data changed), keep a success message for the next run, and rerun."""
    st.cache_data.clear()
    st.session_state[_FLASH_KEY] = message
    st.rerun()
