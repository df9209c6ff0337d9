"""App test fixtures: AppTest runs of `streamlit_app.py` against a chosen database and scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from fleet.db import get_engine

REPO_ROOT = Path(__file__).resolve().parents[2]
ENTRY = REPO_ROOT / "streamlit_app.py"
PAGE_FILES = {
    "overview": "app_pages/overview.py",
    "fleet": "app_pages/fleet_leases.py",
    "routes": "app_pages/route_planner.py",
    "charging": "app_pages/charging.py",
    "chargers": "app_pages/chargers.py",
    "jobs": "app_pages/nightly_jobs.py",
    "emissions": "app_pages/emissions.py",
    "economics": "app_pages/lease_economics.py",
    "trends": "app_pages/trends.py",
    "changes": "app_pages/change_log.py",
    "vpp": "app_pages/vpp.py",
}
SERVICE_DATE = dt.date(2026, 11, 26)  # a demo day with orders (2026-11-23 .. 2026-12-06)
PLANNED_DEPOT = "SZ-NS"  # the smallest demo depot: solves in ~1 s
FAILING_DEPOT = "SZ-LH"  # fails by injected fault in the planned fixture
APP_ENV = (
    "EVFLEET_DATABASE_URL",
    "EVFLEET_APP_LESSEE",
    "EVFLEET_APP_AUTH",
    "EVFLEET_APP_LESSEE_CLAIM",
    "EVFLEET_APP_LESSOR_EMAILS",
    "EVFLEET_CLAIMS_LEDGER",
    "EVFLEET_APP_DEVELOPER",
)


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

    def run(
        url: str, page: str = "overview", lessee: str | None = None, pinned: str | None = None
    ) -> AppTest:
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


def copy_sqlite(engine: Engine, path: Path) -> str:
    """A private copy of an SQLite database (the backup API: consistent even while it is open)."""
    import sqlite3

    with sqlite3.connect(engine.url.database) as src, sqlite3.connect(path) as dst:  # type: ignore[arg-type]
        src.backup(dst)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def planned_engine(demo_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The demo after one nightly run for SERVICE_DATE: PLANNED_DEPOT planned (routes and charging stored,
    tiny time limits), FAILING_DEPOT failed by an injected fault. Shared read-only."""
    from fleet.db import make_engine
    from fleet.nightly import NightlyConfig, run_nightly
    from fleet.pipeline import RunOptions

    url = copy_sqlite(demo_engine, tmp_path_factory.mktemp("planned") / "planned.db")
    summary = run_nightly(
        NightlyConfig(
            SERVICE_DATE,
            url,
            depot_codes=(PLANNED_DEPOT, FAILING_DEPOT),
            retries=0,
            options=RunOptions(time_limit_s=1.0, charging_time_limit_s=2.0),
            faults={FAILING_DEPOT: "raise"},
        )
    )
    assert [o.depot_code for o in summary.failed] == [FAILING_DEPOT]
    return make_engine(url)


@pytest.fixture
def planned_copy(planned_engine: Engine, tmp_path: Path) -> Engine:
    from fleet.db import make_engine

    return make_engine(copy_sqlite(planned_engine, tmp_path / "planned-copy.db"))


# ------------------------------------------------------------------------------------- end-to-end browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO_ROOT / "test-artifacts"


def _require_browser() -> None:
    """Skip when Debian's Chromium or Playwright is missing, except under CI where that is a failure."""
    import os

    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright Python package is missing"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but the browser test cannot run: {problem}")
        pytest.skip(problem)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class RunningApp:
    base_url: str
    db_url: str
    log: Path


@contextmanager
def running_streamlit(db: Path, log: Path, extra_env: dict[str, str] | None = None) -> Iterator[RunningApp]:
    """`streamlit run streamlit_app.py` on a free local port against the SQLite file `db` (the caller's private
    copy), logging to `log`; `extra_env` sets app settings (e.g. EVFLEET_APP_LESSEE). Stopped on exit."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    port = _free_port()
    env = {**os.environ, "EVFLEET_DATABASE_URL": f"sqlite:///{db}", "PYTHONPATH": str(REPO_ROOT)}
    for name in APP_ENV[1:]:
        env.pop(name, None)
    env.update(extra_env or {})
    cmd = [
        sys.executable,
        "-m",
        "app_pages._server",  # what `evfleet app` starts: the pages' modules imported before it listens
        "run",
        str(ENTRY),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--global.developmentMode",
        "false",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}; see {log}:\n{log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer on {base} within 60 s; see {log}")
            time.sleep(0.3)
        yield RunningApp(base, f"sqlite:///{db}", log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def streamlit_server(
    planned_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    """`streamlit run streamlit_app.py` on a free local port against a private copy of the demo database after one
    nightly run (`planned_engine`: SZ-NS planned, SZ-LH failed)."""
    _require_browser()
    db = tmp_path_factory.mktemp("e2e") / "demo.db"
    copy_sqlite(planned_engine, db)
    ARTIFACTS.mkdir(exist_ok=True)
    with running_streamlit(db, ARTIFACTS / "streamlit-server.log") as app:
        yield app


@pytest.fixture(scope="module")
def browser_page(streamlit_server: RunningApp) -> Iterator[object]:
    """A Playwright page in Debian's headless Chromium (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1700})
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()
