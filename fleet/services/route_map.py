"""The route planner's map: every route in its own colour, stops named by customer, the depot's charging station,
unserved jobs; the view fitted to all of them; a legend per truck; an optional basemap.

Basemaps (deployment setting EVFLEET_BASEMAP, `basemap_setting`):
- ``none`` (default): no tiles, a plain light ground under the layers; the browser requests no map style or tile
  (offline depots, tests).
- ``osm``: OpenStreetMap raster tiles (WGS-84, no shift), with the attribution the OSM tile policy requires.
- ``amap``: AMap (Gaode) raster tiles. They are drawn in GCJ-02, so every layer coordinate is shifted WGS-84 ->
  GCJ-02 (`fleet.geo.gcj02`) before drawing; the stored plan keeps WGS-84.
EVFLEET_BASEMAP_URL overrides the tile URL template ({x}, {y}, {z}) for a company tile server.

Tiles are drawn as one deck.gl BitmapLayer per slippy-map tile covering the fitted view (computed here, in
Python): the JSON spec the app hands to the browser lists exactly the tile URLs it will load, and with ``none``
it lists none (tests check both).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import pydeck as pdk

from fleet.geo.gcj02 import wgs84_to_gcj02
from fleet.i18n import N_, Column, _
from fleet.services.route_planner import RoutePlanView

BASEMAP_ENV = "EVFLEET_BASEMAP"
BASEMAP_URL_ENV = "EVFLEET_BASEMAP_URL"
BASEMAPS = ("none", "osm", "amap")
TILE_URLS = {
    "osm": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    # AMap's public road-map raster tiles (style 8), drawn in GCJ-02.
    "amap": "https://webrd01.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
}
ATTRIBUTION = {"osm": "© OpenStreetMap contributors", "amap": "© AutoNavi (高德地图)"}
MAP_WIDTH_PX = (
    700  # the map's assumed drawn size [px] for fitting: narrower than its column on a laptop screen
)
MAP_HEIGHT_PX = 520
MAX_TILES = 30  # tiles per map at most: the zoom of the tiles drops until the view needs no more
PAD = 0.08  # margin around the stops, as a share of the span
WORLD_PX = 512.0  # deck.gl's world width at zoom 0 [px]

LEGEND_COLUMNS = {
    "vehicle": Column(N_("Truck")),
    "colour": Column(N_("Colour")),
    "jobs": Column(N_("Stops")),
    "km": Column(N_("Distance [km]"), 1),
}


@dataclass(frozen=True)
class RouteMap:
    """What the page draws: the deck, the legend (one row per truck, colour as #rrggbb), the attribution."""

    deck: pdk.Deck
    legend: pd.DataFrame  # vehicle, colour, jobs, km
    basemap: str
    tile_urls: tuple[str, ...]  # the tile images the browser will request ( () for "none")
    attribution: str | None
    zoom: float
    centre: tuple[float, float]  # (lat, lon) of the view, in the drawn datum


def basemap_setting(environ: Mapping[str, str] | None = None) -> str:
    """EVFLEET_BASEMAP as one of `BASEMAPS` (default "none"); a clear error for anything else."""
    raw = (os.environ if environ is None else environ).get(BASEMAP_ENV, "").strip().lower() or "none"
    aliases = {"off": "none", "openstreetmap": "osm", "gaode": "amap", "autonavi": "amap"}
    value = aliases.get(raw, raw)
    if value not in BASEMAPS:
        raise ValueError(f"{BASEMAP_ENV}={raw!r}: expected one of {', '.join(BASEMAPS)}")
    return value


def tile_url_setting(environ: Mapping[str, str] | None = None) -> str:
    """EVFLEET_BASEMAP_URL: a tile URL template with {x}, {y}, {z} ("" when unset: the basemap's public one)."""
    raw = (os.environ if environ is None else environ).get(BASEMAP_URL_ENV, "").strip()
    if raw and not all(f"{{{k}}}" in raw for k in "xyz"):
        raise ValueError(f"{BASEMAP_URL_ENV}={raw!r}: the template needs {{x}}, {{y}} and {{z}}")
    return raw


def fit_view(
    lats: list[float], lons: list[float], width_px: int = MAP_WIDTH_PX, height_px: int = MAP_HEIGHT_PX
) -> tuple[float, float, float]:
    """(centre lat, centre lon, zoom) showing every point with a margin in a `width_px` x `height_px` Web
    Mercator view. Zoom as deck.gl counts it: at zoom z the world is 512·2^z px wide (one 512 px tile at zoom 0;
    raster tiles of 256 px are one level deeper). Centre in Mercator, not in degrees."""
    if not lats:
        raise ValueError("fit_view needs at least one point")
    x = [(lon + 180.0) / 360.0 for lon in lons]  # world fraction
    y = [_merc_y(lat) for lat in lats]
    x0, x1, y0, y1 = min(x), max(x), min(y), max(y)
    dx, dy = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
    zoom_x = math.log2(width_px / (WORLD_PX * dx * (1 + 2 * PAD)))
    zoom_y = math.log2(height_px / (WORLD_PX * dy * (1 + 2 * PAD)))
    zoom = max(0.0, min(zoom_x, zoom_y, 16.0))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return _merc_lat(cy), cx * 360.0 - 180.0, zoom


def _merc_y(lat: float) -> float:
    """Web Mercator y as a world fraction (0 at the top, 85.05° N)."""
    rad = math.radians(max(-85.05, min(85.05, lat)))
    return (1.0 - math.log(math.tan(rad) + 1.0 / math.cos(rad)) / math.pi) / 2.0


def _merc_lat(y: float) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * y))))


def tiles_for_view(
    lat: float, lon: float, zoom: float, width_px: int = MAP_WIDTH_PX, height_px: int = MAP_HEIGHT_PX
) -> list[tuple[int, int, int, list[float]]]:
    """Slippy-map tiles (z, x, y, [west, south, east, north]) covering the view at deck.gl `zoom`, at most
    `MAX_TILES` (256 px raster tiles: level zoom + 1 matches the screen's resolution)."""
    raster_zoom = zoom + math.log2(WORLD_PX / 256.0)
    z = max(0, min(18, math.ceil(raster_zoom)))
    while True:
        n = 2**z
        cx, cy = (lon + 180.0) / 360.0 * n, _merc_y(lat) * n
        scale = 2 ** (z - raster_zoom) / 256.0  # tiles per screen pixel
        half_w, half_h = width_px / 2 * scale, height_px / 2 * scale
        xs = range(max(0, math.floor(cx - half_w)), min(n - 1, math.floor(cx + half_w)) + 1)
        ys = range(max(0, math.floor(cy - half_h)), min(n - 1, math.floor(cy + half_h)) + 1)
        if len(xs) * len(ys) <= MAX_TILES or z == 0:
            break
        z -= 1
    return [
        (
            z,
            tx,
            ty,
            [tx / n * 360 - 180, _merc_lat((ty + 1) / n), (tx + 1) / n * 360 - 180, _merc_lat(ty / n)],
        )
        for tx in xs
        for ty in ys
    ]


def _hex(colour: list[int] | tuple[int, ...]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour[:3])


def stop_names(stops: pd.DataFrame, customers: Mapping[str, str] | None = None) -> list[str]:
    """A stop's name on the map and the sheets: the customer (`customers` by order reference, else the stop's own
    `customer` column, filled from the order), else the delivery address,
    else the order reference; the reference always follows so the driver can match the paperwork."""
    customers = customers or {}
    blank = pd.Series([""] * len(stops), index=stops.index)
    names = []
    for stop, own, address in zip(stops["stop"], stops.get("customer", blank), stops.get("address", blank)):
        who = (
            customers.get(str(stop))
            or (own if isinstance(own, str) and own else "")
            or (address if isinstance(address, str) and address else "")
        )
        names.append(f"{who} ({stop})" if who else str(stop))
    return names


def route_map(
    view: RoutePlanView, basemap: str = "none", customers: Mapping[str, str] | None = None, tile_url: str = ""
) -> RouteMap:
    """The map of a route plan view; `basemap` one of `BASEMAPS`; `customers` maps order reference -> name."""
    if basemap not in BASEMAPS:
        raise ValueError(f"basemap {basemap!r}: expected one of {', '.join(BASEMAPS)}")
    shift = basemap == "amap"

    def place(frame: pd.DataFrame) -> pd.DataFrame:
        """Drop rows without a position; shift to GCJ-02 for AMap tiles."""
        out = frame.dropna(subset=["lat", "lon"]).copy()
        if shift and len(out):
            lat, lon = wgs84_to_gcj02(out["lat"].to_numpy(float), out["lon"].to_numpy(float))
            out["lat"], out["lon"] = lat, lon
        return out

    stops = place(view.stops)
    stations = place(view.stations)
    unserved = place(view.unserved)
    depot = place(pd.DataFrame({"lat": [view.depot_lat], "lon": [view.depot_lon]}))
    colours = dict(zip(view.routes["vehicle"], view.routes["colour"]))

    paths = [
        {
            "label": _("{truck}: {jobs} stops, {km} km").format(
                truck=r.vehicle, jobs=r.jobs, km=f"{r.km:.1f}"
            ),
            "colour": r.colour,
            "path": [
                [lon, lat] for lat, lon in stops.loc[stops["vehicle"] == r.vehicle, ["lat", "lon"]].to_numpy()
            ],
        }
        for r in view.routes.itertuples()
    ]
    visits = stops[stops["kind"] != "depot"].copy()
    visits["colour"] = visits["vehicle"].map(colours)
    visits["label"] = [
        f"{v} · {int(seq)}. {name}"
        for v, seq, name in zip(visits["vehicle"], visits["seq"], stop_names(visits, customers))
    ]

    every = pd.concat([stops[["lat", "lon"]], stations[["lat", "lon"]], unserved[["lat", "lon"]], depot])
    lat, lon, zoom = fit_view(every["lat"].tolist(), every["lon"].tolist())

    layers: list[pdk.Layer] = []
    urls: list[str] = []
    if basemap == "none":
        south, north = float(every["lat"].min()), float(every["lat"].max())
        west, east = float(every["lon"].min()), float(every["lon"].max())
        pad_lat, pad_lon = max(0.05, north - south), max(0.05, east - west)
        box = [
            [west - pad_lon, south - pad_lat],
            [east + pad_lon, south - pad_lat],
            [east + pad_lon, north + pad_lat],
            [west - pad_lon, north + pad_lat],
        ]
        layers.append(
            pdk.Layer(  # a plain light ground instead of map tiles
                "PolygonLayer",
                id="ground",
                data=[{"polygon": box}],
                get_polygon="polygon",
                get_fill_color=[244, 244, 240],
                stroked=False,
                pickable=False,
            )
        )
    else:
        template = tile_url or TILE_URLS[basemap]
        for z, x, y, bounds in tiles_for_view(lat, lon, zoom):
            url = template.format(x=x, y=y, z=z)
            urls.append(url)
            layers.append(pdk.Layer("BitmapLayer", id=f"tile-{z}-{x}-{y}", image=url, bounds=bounds))
    # Sizes in metres with pixel floors: pydeck turns string props (e.g. units="pixels") into JS expressions.
    layers += [
        pdk.Layer(
            "PathLayer",
            id="routes",
            data=paths,
            get_path="path",
            get_color="colour",
            get_width=40,
            width_min_pixels=3,
            pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="stops",
            data=visits[["lon", "lat", "colour", "label"]],
            get_position=["lon", "lat"],
            get_fill_color="colour",
            get_line_color=[255, 255, 255],
            stroked=True,
            line_width_min_pixels=1,
            get_radius=120,
            radius_min_pixels=5,
            pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="stations",
            data=stations.assign(
                label=[_("charging: {station}").format(station=s) for s in stations["station"]]
            )[["lon", "lat", "label"]],
            get_position=["lon", "lat"],
            get_fill_color=[0, 0, 0],
            get_line_color=[255, 200, 0],
            stroked=True,
            line_width_min_pixels=3,
            get_radius=250,
            radius_min_pixels=9,
            pickable=True,
        ),
    ]
    if len(unserved):
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                id="unserved",
                data=unserved.assign(
                    label=[
                        _("unserved: {job}").format(job=n)
                        for n in stop_names(unserved.rename(columns={"job": "stop"}), customers)
                    ]
                )[["lon", "lat", "label"]],
                get_position=["lon", "lat"],
                get_fill_color=[230, 0, 0],
                get_radius=150,
                radius_min_pixels=6,
                pickable=True,
            )
        )
    deck = pdk.Deck(
        layers=layers,
        # Tiles, when any, are the BitmapLayers above: no base map provider, no token. map_style stays pydeck's
        # "no style given" sentinel: Streamlit then draws no basemap, while map_style=None makes it load Carto's
        # style and tiles (a request to basemaps.cartocdn.com, caught by tests/app/test_browser_i18n.py).
        map_provider=None,
        tooltip={"text": "{label}"},
        initial_view_state=pdk.ViewState(latitude=lat, longitude=lon, zoom=zoom),
    )
    legend = pd.DataFrame(
        {
            "vehicle": view.routes["vehicle"],
            "colour": [_hex(c) for c in view.routes["colour"]],
            "jobs": view.routes["jobs"],
            "km": view.routes["km"],
        }
    )
    return RouteMap(deck, legend, basemap, tuple(urls), ATTRIBUTION.get(basemap), zoom, (lat, lon))
