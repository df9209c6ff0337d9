"""App test fixtures: AppTest runs of `streamlit_app.py` against a chosen database and scope."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from fleet.db import get_engine

REPO_ROOT = Path(__file__).resolve().parents[2]
ENTRY = REPO_ROOT / "streamlit_app.py"
PAGE_FILES = {"overview": "app_pages/overview.py", "fleet": "app_pages/fleet_leases.py"}
APP_ENV = ("EVFLEET_DATABASE_URL", "EVFLEET_APP_LESSEE", "EVFLEET_APP_AUTH", "EVFLEET_APP_LESSEE_CLAIM",
           "EVFLEET_APP_LESSOR_EMAILS")


def url_of(engine: Engine) -> str:
    return str(engine.url.render_as_string(hide_password=False))


@pytest.fixture(autouse=True)
def _clean_app_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no app configuration and empty Streamlit caches."""
    for name in APP_ENV:
        monkeypatch.delenv(name, raising=False)
    st.cache_data.clear()
    yield
    st.cache_data.clear()
    get_engine.cache_clear()


AppRunner = Callable[..., AppTest]


@pytest.fixture
def run_app(monkeypatch: pytest.MonkeyPatch) -> AppRunner:
    """`run_app(url, page="overview", lessee=None)`: the app run once on that page, scope chosen in the sidebar
    (or pinned by `pinned=CODE` through EVFLEET_APP_LESSEE)."""

    def run(url: str, page: str = "overview", lessee: str | None = None, pinned: str | None = None) -> AppTest:
        monkeypatch.setenv("EVFLEET_DATABASE_URL", url)
        if pinned:
            monkeypatch.setenv("EVFLEET_APP_LESSEE", pinned)
        at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
        if lessee is not None:
            at.selectbox(key="scope_choice").set_value(lessee).run()
        if page != "overview":
            at.switch_page(PAGE_FILES[page]).run()
        return at

    return run


@pytest.fixture
def empty_schema_url(tmp_path: Path) -> str:
    """A migrated database with no rows at all."""
    from fleet.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    return url


@pytest.fixture
def missing_db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'not-there' / 'evfleet.db'}"
