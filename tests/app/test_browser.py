"""End to end in a real browser: `streamlit run` + Debian's headless Chromium driven by Playwright.

Opens every page, checks rendered numbers against the database, imports a file with a bad row through the
browser's file input, saves screenshots under `test-artifacts/`, and measures page loads once cached (reported
in `test-artifacts/app-page-load.json`, never asserted).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time

import pytest
from sqlmodel import Session, func, select

from fleet.db import make_engine
from fleet.models import Vehicle
from fleet.reports import fleet_summary
from fleet.scope import scope_for
from tests.app.conftest import ARTIFACTS, RunningApp

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEPOT_TABLE = '[data-testid="stTable"] table'


def _table(page, selector: str, has_text: str) -> tuple[list[str], list[list[str]]]:  # type: ignore[no-untyped-def]
    """Header and body cell texts of the HTML table matching `selector` and containing `has_text`
    (st.table renders real cells; st.dataframe draws on a canvas)."""
    table = page.locator(selector, has_text=has_text)
    header = [t.strip() for t in table.locator("thead tr").last.locator("th").all_inner_texts()]
    rows = []
    for tr in table.locator("tbody tr").all():
        rows.append([t.strip() for t in tr.locator("th, td").all_inner_texts()])
    return header, rows


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    """Before a screenshot: wait until the app run is over and canvases (tables, charts) have painted."""
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden")
    page.wait_for_timeout(700)


def _nav(page, title: str) -> None:  # type: ignore[no-untyped-def]
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()


def test_pages_in_chromium(streamlit_server: RunningApp, browser_page) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    engine = make_engine(streamlit_server.db_url)
    with Session(engine) as s:
        summary = fleet_summary(s, scope_for(s), dt.date.today())
        vehicles = s.exec(select(func.count()).select_from(Vehicle)).one()
    ARTIFACTS.mkdir(exist_ok=True)

    # Overview: the EV count per depot as rendered equals the database's.
    page.goto(streamlit_server.base_url + "/")
    page.locator(DEPOT_TABLE, has_text="Grid limit").wait_for()
    header, rows = _table(page, DEPOT_TABLE, "Grid limit")
    assert "EV trucks" in header, header
    ev_col = header.index("EV trucks")
    rendered = {r[0]: int(r[ev_col]) for r in rows}
    assert rendered == {r.depot: r.electric_trucks for r in summary}
    assert page.get_by_text("Scope: Lessor SZEL", exact=False).count() >= 1
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "app-overview.png"), full_page=True)

    # Fleet & leases: the vehicle count as rendered equals the database's.
    _nav(page, "Fleet & leases")
    page.get_by_text(f"{vehicles} of {vehicles} vehicles").wait_for()
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    page.locator('[data-testid="stMultiSelect"]').first.wait_for()
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "app-fleet.png"), full_page=True)

    # Import through the browser's file input: the bad row comes back as a report naming row and column.
    page.get_by_role("tab", name="Import").click()
    page.locator('input[type="file"]').set_input_files(files=[{
        "name": "vehicles-bad.csv", "mimeType": "text/csv",  # the default kind is vehicles
        "buffer": "plate,vin,model_code\n粤BD99101,L6TRMEB56TS099101,BEV-V6E\n粤BD99102,SHORTVIN,BEV-V6E\n".encode()}])
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("vehicles-bad.csv rejected: 1 problem(s); nothing was saved.").wait_for()
    report = page.locator('[data-testid="stDataFrame"]').last
    report.wait_for()
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Vehicle)).one() == vehicles  # nothing written
    page.screenshot(path=str(ARTIFACTS / "app-import-error.png"), full_page=True)

    # Page loads once cached: in-app navigation and a full reload (reported, not asserted).
    timings: dict[str, list[float]] = {"overview_nav_s": [], "fleet_nav_s": [], "overview_reload_s": []}
    for _ in range(3):
        t0 = time.perf_counter()
        _nav(page, "Overview")
        page.locator(DEPOT_TABLE, has_text="Grid limit").wait_for()
        timings["overview_nav_s"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        _nav(page, "Fleet & leases")
        page.get_by_text(f"of {vehicles} vehicles", exact=False).wait_for()
        page.locator('[data-testid="stDataFrame"]').first.wait_for()
        timings["fleet_nav_s"].append(time.perf_counter() - t0)
    for _ in range(2):
        t0 = time.perf_counter()
        page.goto(streamlit_server.base_url + "/overview")
        page.locator(DEPOT_TABLE, has_text="Grid limit").wait_for()
        timings["overview_reload_s"].append(time.perf_counter() - t0)
    report = {k: {"median": round(statistics.median(v), 3), "max": round(max(v), 3), "runs": len(v)}
              for k, v in timings.items()}
    (ARTIFACTS / "app-page-load.json").write_text(json.dumps(report, indent=2))
    print("page load once cached [s]:", json.dumps(report))
