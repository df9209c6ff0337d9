"""The app in Chinese and in English in a real browser (issue 21 item 6): Debian's headless Chromium, Playwright.

English first (the default), then 中文 chosen in the sidebar: the navigation, the metrics and the table headers
change language, numbers keep their local format, and the choice holds when moving to another page.
"""

from __future__ import annotations

import pytest

from tests.app.conftest import ARTIFACTS, PLANNED_DEPOT, SERVICE_DATE, RunningApp
from tests.app.test_browser import DEPOT_TABLE, _nav, _pick, _pick_date, _settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_overview_charging_map_and_cockpit_in_english_then_chinese(
    streamlit_server: RunningApp, browser_page
) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(streamlit_server.base_url + "/")
    page.locator(DEPOT_TABLE, has_text="Grid limit").wait_for()
    assert page.locator('[data-testid="stMetric"]', has_text="Electric trucks").count() == 1
    assert page.locator('[data-testid="stSidebarNav"] a', has_text="Charging").count() == 1

    _pick(page, "Language", "中文（简体）")
    table = page.locator(DEPOT_TABLE, has_text="电网限额 [kW]")
    table.wait_for()
    header = [t.strip() for t in table.locator("thead tr").last.locator("th").all_inner_texts()]
    assert {"电动车", "柴油车", "租金 [元/月]"} <= set(header), header
    assert page.locator('[data-testid="stMetric"]', has_text="电动货车").count() == 1
    assert page.locator('[data-testid="stMetric"]', has_text="Electric trucks").count() == 0
    assert page.locator("h1", has_text="概览").count() == 1
    assert page.get_by_text("参考日期", exact=False).count() >= 1  # the caption's date in Chinese form
    _settle(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "app-overview-zh.png"), full_page=True)

    _nav(page, "充电")  # the page titles are translated too, and the language holds across pages
    page.locator("h1", has_text="充电").wait_for()
    page.get_by_text("计费与充电桩", exact=False).first.wait_for()
    assert (
        page.locator('[data-testid="stSelectbox"]', has_text="场站").count() == 1
    )  # the shared depot picker
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "app-charging-zh.png"), full_page=True)

    _pick(page, "Language", "English")
    page.locator("h1", has_text="Charging").wait_for()
    page.get_by_text("Billing and chargers", exact=False).first.wait_for()  # the run draws it after the title

    # The route map with the default basemap ("none"): drawn, with its legend, and no request leaves the machine.
    _nav(page, "Route planner")
    page.locator("h1", has_text="Route planner").wait_for()
    _settle(page)  # the page's first run is over: its select boxes are not re-mounted under the pointer
    _pick(page, "Depot", f"{PLANNED_DEPOT} ·")
    _settle(page)
    _pick_date(page, "Service date", SERVICE_DATE)
    page.locator('[data-testid="stDeckGlJsonChart"]').first.locator("canvas").first.wait_for()
    page.get_by_text("Trucks", exact=True).first.wait_for()  # the legend's heading beside the map
    _settle(page)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "app-route-map.png"), full_page=True)
    # Streamlit fetches the page icon (a Material symbol) from fonts.gstatic.com; nothing else may leave.
    local = ("http://127.0.0.1", "data:", "blob:", "https://fonts.gstatic.com/s/i/")
    outside = sorted({u for u in requests if not u.startswith(local)})
    assert not outside, f"requests left the machine without a basemap configured: {outside[:5]}"

    # AMap chosen in the map's select box: the tile images are requested (answered here by a local grey tile,
    # nothing leaves the machine) and the routes, shifted to GCJ-02, still draw over them.
    tiles: list[str] = []

    def serve_tile(route) -> None:  # type: ignore[no-untyped-def]
        tiles.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=_grey_png())

    page.route("**/*autonavi.com/**", serve_tile)
    _pick(page, "Basemap", "AMap (Gaode), GCJ-02")
    page.get_by_text("Map tiles: © AutoNavi", exact=False).wait_for()
    _settle(page)
    page.wait_for_timeout(1500)
    deck = page.locator('[data-testid="stDeckGlJsonChart"]').first
    from fleet.services.route_planner import ROUTE_COLOURS
    from tests.app.test_browser import _coloured_pixels

    assert tiles, "no AMap tile was requested"
    assert _coloured_pixels(deck.screenshot(), list(ROUTE_COLOURS[:5])) > 500
    page.screenshot(path=str(ARTIFACTS / "app-route-map-amap.png"), full_page=True)

    # The planner's cockpit in Chinese, in this same session (tests/app/_cockpit_flows.py).
    from fleet.db import make_engine
    from tests.app._cockpit_flows import cockpit_flows

    _pick(page, "Language", "中文（简体）")
    page.locator("h1", has_text="线路规划").wait_for()
    try:
        cockpit_flows(page, make_engine(streamlit_server.db_url), "zh_CN")
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "app-cockpit-zh-failed.png"), full_page=True)
        raise


def _grey_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (225, 225, 215)).save(buffer, format="PNG")
    return buffer.getvalue()
