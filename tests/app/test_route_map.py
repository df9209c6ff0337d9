"""Route map (issue 21 item 5) and drivers' route sheets (item 9) from the planned demo depot-day."""

from __future__ import annotations

import dataclasses
import io
import json
import math

import openpyxl
import pytest
from sqlalchemy.engine import Engine

from fleet.geo.gcj02 import wgs84_to_gcj02
from fleet.i18n import use_locale
from fleet.services import route_map as svc
from fleet.services import unit_of_work
from fleet.services.route_planner import RoutePlanView, current_route_view
from fleet.services.route_sheets import route_sheets_workbook
from tests.app.conftest import PLANNED_DEPOT, SERVICE_DATE, url_of


@pytest.fixture(scope="module")
def view(planned_engine: Engine) -> RoutePlanView:
    with unit_of_work(url_of(planned_engine)) as s:
        found = current_route_view(s, None, PLANNED_DEPOT, SERVICE_DATE)
    assert found is not None and len(found.routes) >= 2
    return found


def _spec(drawn: svc.RouteMap) -> dict:
    return json.loads(drawn.deck.to_json())


def _visible(drawn: svc.RouteMap, lat: float, lon: float) -> bool:
    """Whether (lat, lon) falls inside the fitted view of MAP_WIDTH_PX x MAP_HEIGHT_PX (Web Mercator)."""
    scale = svc.WORLD_PX * 2**drawn.zoom  # deck.gl: the world is 512 px wide at zoom 0
    cy, cx = svc._merc_y(drawn.centre[0]) * scale, (drawn.centre[1] + 180) / 360 * scale
    y, x = svc._merc_y(lat) * scale, (lon + 180) / 360 * scale
    return abs(x - cx) <= svc.MAP_WIDTH_PX / 2 and abs(y - cy) <= svc.MAP_HEIGHT_PX / 2


def test_offline_map_fits_every_stop_names_customers_and_requests_no_tile(view: RoutePlanView) -> None:
    drawn = svc.route_map(view, "none")
    spec = _spec(drawn)
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert {"ground", "routes", "stops", "stations"} <= set(layers)
    assert "http" not in json.dumps(spec) and drawn.tile_urls == ()
    assert spec["mapStyle"] == "__MAP_STYLE__"  # pydeck's "none given": Streamlit loads no Carto style
    assert not [layer for layer in spec["layers"] if layer["@@type"] == "BitmapLayer"]
    points = view.stops[["lat", "lon"]].dropna().to_numpy().tolist()
    assert points and all(_visible(drawn, lat, lon) for lat, lon in points)
    assert drawn.zoom > 8  # fitted, not the whole world
    jobs = view.stops[view.stops["kind"] == "job"]
    labels = [p["label"] for p in layers["stops"]["data"]]
    first = jobs.iloc[0]
    assert first["customer"]  # the demo's orders name their customers
    assert any(
        f"{first['customer']} ({first['stop']})" in label for label in labels
    )  # by customer, not an id
    nameless = dataclasses.replace(view, stops=view.stops.assign(customer=""))  # orders without a customer
    labels = [
        p["label"]
        for p in {x["id"]: x for x in _spec(svc.route_map(nameless, "none"))["layers"]}["stops"]["data"]
    ]
    assert any(f"{first['address']} ({first['stop']})" in label for label in labels)  # then by the address
    assert list(drawn.legend["vehicle"]) == list(view.routes["vehicle"])
    assert all(c.startswith("#") and len(c) == 7 for c in drawn.legend["colour"])
    assert drawn.legend["colour"].nunique() == len(view.routes)


def test_osm_tiles_cover_the_view_without_a_shift(view: RoutePlanView) -> None:
    drawn = svc.route_map(view, "osm")
    assert drawn.tile_urls and all(u.startswith("https://tile.openstreetmap.org/") for u in drawn.tile_urls)
    assert len(drawn.tile_urls) <= svc.MAX_TILES
    spec = _spec(drawn)
    stops = next(layer for layer in spec["layers"] if layer["id"] == "stops")["data"]
    jobs = view.stops[view.stops["kind"] != "depot"]
    assert stops[0]["lat"] == pytest.approx(jobs["lat"].iloc[0])  # WGS-84 on WGS-84 tiles
    bitmaps = [layer["bounds"] for layer in spec["layers"] if layer["@@type"] == "BitmapLayer"]
    west, south = min(b[0] for b in bitmaps), min(b[1] for b in bitmaps)
    east, north = max(b[2] for b in bitmaps), max(b[3] for b in bitmaps)
    assert all(west <= lon <= east and south <= lat <= north for lat, lon in zip(jobs["lat"], jobs["lon"]))
    assert "OpenStreetMap" in (drawn.attribution or "")


def test_amap_tiles_get_every_layer_shifted_to_gcj02(view: RoutePlanView) -> None:
    drawn = svc.route_map(view, "amap")
    assert drawn.tile_urls and all("autonavi.com" in u for u in drawn.tile_urls)
    layers = {layer["id"]: layer for layer in _spec(drawn)["layers"]}
    jobs = view.stops[view.stops["kind"] != "depot"]
    want = wgs84_to_gcj02(float(jobs["lat"].iloc[0]), float(jobs["lon"].iloc[0]))
    got = layers["stops"]["data"][0]
    assert (got["lat"], got["lon"]) == pytest.approx(want, abs=1e-9)
    shift_m = math.hypot(want[0] - jobs["lat"].iloc[0], want[1] - jobs["lon"].iloc[0]) * 111_000
    assert shift_m > 100  # Shenzhen: the shift is hundreds of metres, so drawing unshifted would be wrong
    path = layers["routes"]["data"][0]["path"]
    first = view.stops[view.stops["vehicle"] == view.routes["vehicle"].iloc[0]].iloc[0]
    assert path[0] == pytest.approx(list(wgs84_to_gcj02(first["lat"], first["lon"]))[::-1], abs=1e-9)
    station = view.stations.iloc[0]
    assert (layers["stations"]["data"][0]["lat"], layers["stations"]["data"][0]["lon"]) == pytest.approx(
        wgs84_to_gcj02(float(station["lat"]), float(station["lon"])), abs=1e-9
    )


def test_basemap_settings_refuse_typos() -> None:
    assert svc.basemap_setting({}) == "none"
    assert svc.basemap_setting({"EVFLEET_BASEMAP": "Gaode"}) == "amap"
    with pytest.raises(ValueError, match="EVFLEET_BASEMAP='googel'"):
        svc.basemap_setting({"EVFLEET_BASEMAP": "googel"})
    with pytest.raises(ValueError, match=r"needs \{x\}"):
        svc.tile_url_setting({"EVFLEET_BASEMAP_URL": "https://tiles.example/{z}.png"})


def test_route_sheets_are_laid_out_for_printing_and_inert(view: RoutePlanView) -> None:
    stops = view.stops.copy()
    job = stops.index[stops["kind"] == "job"][0]
    stops.loc[job, "address"] = '=HYPERLINK("http://evil.example","深圳")'
    hostile = dataclasses.replace(view, stops=stops)
    with use_locale("zh_CN"):
        book = openpyxl.load_workbook(io.BytesIO(route_sheets_workbook(hostile)))
    truck = view.routes["vehicle"].iloc[0]
    ws = book[truck]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["序号", "站点类型", "客户 / 地点"]  # the planner's language, human labels
    assert "地址" in header and "lat" not in header
    cells = [c.value for row in ws.iter_rows(min_row=2) for c in row]
    texts = [v for v in cells if isinstance(v, str)]
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@"))]
    assert any(t.startswith("'=HYPERLINK") for t in texts)
    numbers = [v for v in cells if isinstance(v, float)]
    assert numbers and all(round(v, 5) == v for v in numbers)  # rounded: no 15-digit floats
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1" and ws.print_area
    assert all(ws.column_dimensions[c].width >= 6 for c in "ABCDE")
    assert truck in ws.oddHeader.center.text
    assert book.sheetnames == ["routes", *view.routes["vehicle"]]


def test_route_sheets_name_the_customer_with_phone_and_notes_inert(view: RoutePlanView) -> None:
    stops = view.stops.copy()
    jobs = stops.index[stops["kind"] == "job"]
    stops.loc[jobs[0], "phone"] = "+86 755 8888 0001"  # a phone starting with + must stay text
    stops.loc[jobs[1], "phone"] = "=1+2"
    stops.loc[jobs[1], "notes"] = "@SUM(A1)"
    hostile = dataclasses.replace(view, stops=stops)
    truck = stops.loc[jobs[0], "vehicle"]
    with use_locale("zh_CN"):
        ws = openpyxl.load_workbook(io.BytesIO(route_sheets_workbook(hostile)))[truck]
    header = [c.value for c in ws[1]]
    assert {"客户 / 地点", "电话", "备注"} <= set(header)
    rows = [dict(zip(header, (c.value for c in row))) for row in ws.iter_rows(min_row=2)]
    mine = stops[stops["vehicle"] == truck].reset_index(drop=True)
    for row, stop in zip(rows, mine.itertuples()):
        if stop.kind == "job":
            assert row["客户 / 地点"] == stop.customer and row["订单号"] == stop.stop
    texts = [v for row in ws.iter_rows(min_row=2) for v in (c.value for c in row) if isinstance(v, str)]
    assert "'+86 755 8888 0001" in texts and not [t for t in texts if t.startswith(("=", "+", "-", "@"))]
    if truck == stops.loc[jobs[1], "vehicle"]:
        assert "'=1+2" in texts and "'@SUM(A1)" in texts
