"""Distance and travel-time matrices: great-circle by default, planar for benchmark instances.

The default road model is a great-circle (haversine) distance times a road-detour factor, driven at a constant
urban speed. Both numbers are *assumptions*, not sourced facts (no published source gives them): a circuity
factor of about 1.2–1.4 is the usual range for urban road networks, and 1.3 is taken here; 25 km/h is taken as
an average urban truck speed including junctions. Callers with better data pass their own values or plug in a road-network provider: an OSRM
or Valhalla server (`OsrmTableProvider`, `ValhallaMatrixProvider`) or an OpenStreetMap extract
(`routing.osm.OsmGraphProvider`); `RoadNetworkSpec` parses the choice from one string (docs/road-networks.md).

geopy is used for two things only: a geodesic spot check of the haversine matrix (`geodesic_check`) and
optional geocoding (`geocode`), which needs network access and is never called by the library itself.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius [km] (IUGG mean radius R1), the usual constant for haversine distances."""

DEFAULT_DETOUR_FACTOR = 1.3
"""Road distance / great-circle distance [-]. ASSUMPTION (see module docstring), not a sourced figure."""

DEFAULT_URBAN_SPEED_KMH = 25.0
"""Average urban truck speed [km/h]. ASSUMPTION (see module docstring), not a sourced figure."""


@dataclass(frozen=True)
class TravelMatrices:
    """Square matrices over the same ordered points: road distance [km] and driving time [min]."""

    distance_km: np.ndarray
    duration_min: np.ndarray

    def __post_init__(self) -> None:
        d, t = self.distance_km, self.duration_min
        if d.ndim != 2 or d.shape[0] != d.shape[1]:
            raise ValueError(f"distance_km must be a square matrix, got shape {d.shape}")
        if t.shape != d.shape:
            raise ValueError(f"duration_min shape {t.shape} differs from distance_km shape {d.shape}")

    @property
    def size(self) -> int:
        return int(self.distance_km.shape[0])


def _as_coordinates(
    lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    if lat_a.ndim != 1 or lat_a.shape != lon_a.shape:
        raise ValueError(
            f"lat and lon must be 1-D arrays of equal length, got {lat_a.shape} and {lon_a.shape}"
        )
    if not np.all(np.isfinite(lat_a)) or not np.all(np.isfinite(lon_a)):
        raise ValueError("lat/lon contain NaN or infinite values")
    bad = np.flatnonzero(np.abs(lat_a) > 90.0)
    if bad.size:
        raise ValueError(f"latitude out of [-90, 90] at index {int(bad[0])}: {lat_a[bad[0]]}")
    bad = np.flatnonzero(np.abs(lon_a) > 180.0)
    if bad.size:
        raise ValueError(f"longitude out of [-180, 180] at index {int(bad[0])}: {lon_a[bad[0]]}")
    return lat_a, lon_a


def great_circle_matrix_km(
    lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray
) -> np.ndarray:
    """Great-circle distance [km] between every pair of points given in degrees (spherical Earth).

    Computed from the chord between unit vectors, 2R asin(|p_i - p_j| / 2), which equals the haversine
    formula (agreement ~1e-12 km) but needs no trigonometry on the n x n grid: 2,000 points take a few hundredths of a
    second (measured by `evfleet bench routing --suite matrix`). No cancellation for close points, unlike the spherical law of
    cosines.
    """
    lat_a, lon_a = _as_coordinates(lat, lon)
    phi = np.radians(lat_a)
    lam = np.radians(lon_a)
    cos_phi = np.cos(phi)
    unit = (cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi))
    chord_sq = np.zeros((lat_a.size, lat_a.size), dtype=np.float64)
    for axis in unit:
        diff = np.subtract.outer(axis, axis)
        diff *= diff
        chord_sq += diff
    np.sqrt(chord_sq, out=chord_sq)
    chord_sq *= 0.5
    np.clip(chord_sq, 0.0, 1.0, out=chord_sq)
    np.arcsin(chord_sq, out=chord_sq)
    chord_sq *= 2.0 * EARTH_RADIUS_KM
    return chord_sq


haversine_matrix_km = great_circle_matrix_km
"""Alias: the matrix is the haversine great-circle distance (computed via chords for speed)."""


def euclidean_matrix(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> np.ndarray:
    """Planar Euclidean distance in double precision between every pair of (x, y) points [input units].

    This is the Solomon / Schneider benchmark convention (no rounding, no truncation).
    """
    x_a = np.asarray(x, dtype=np.float64)
    y_a = np.asarray(y, dtype=np.float64)
    if x_a.ndim != 1 or x_a.shape != y_a.shape:
        raise ValueError(f"x and y must be 1-D arrays of equal length, got {x_a.shape} and {y_a.shape}")
    dx = x_a[:, None] - x_a[None, :]
    dy = y_a[:, None] - y_a[None, :]
    return np.hypot(dx, dy)


def duration_from_distance_min(distance_km: np.ndarray, speed_kmh: float) -> np.ndarray:
    """Driving time [min] at a constant speed [km/h]."""
    if not speed_kmh > 0.0:
        raise ValueError(f"speed_kmh must be positive, got {speed_kmh}")
    return distance_km * (60.0 / speed_kmh)


def road_matrices(
    lat: Sequence[float] | np.ndarray,
    lon: Sequence[float] | np.ndarray,
    detour_factor: float = DEFAULT_DETOUR_FACTOR,
    speed_kmh: float = DEFAULT_URBAN_SPEED_KMH,
) -> TravelMatrices:
    """Default road model: haversine [km] x detour factor, driven at `speed_kmh` [km/h]."""
    if not detour_factor >= 1.0:
        raise ValueError(
            f"detour_factor must be >= 1 (road is never shorter than the great circle), got {detour_factor}"
        )
    dist = great_circle_matrix_km(lat, lon) * detour_factor
    return TravelMatrices(distance_km=dist, duration_min=duration_from_distance_min(dist, speed_kmh))


def planar_matrices(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, speed: float = 1.0
) -> TravelMatrices:
    """Planar instances: Euclidean distance, time = distance / speed (speed in distance units per time unit)."""
    if not speed > 0.0:
        raise ValueError(f"speed must be positive, got {speed}")
    dist = euclidean_matrix(x, y)
    return TravelMatrices(distance_km=dist, duration_min=dist / speed)


# --------------------------------------------------------------------------------------------------------------
# geopy: geodesic spot checks and optional geocoding
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeodesicCheck:
    """Relative difference of the haversine distance against the WGS-84 geodesic on sampled pairs [-]."""

    pairs: int
    max_relative_error: float
    mean_relative_error: float
    worst_pair: tuple[int, int]


def geodesic_check(
    lat: Sequence[float] | np.ndarray,
    lon: Sequence[float] | np.ndarray,
    sample: int = 200,
    seed: int = 0,
    min_distance_km: float = 0.05,
) -> GeodesicCheck:
    """Compare `haversine_matrix_km` with `geopy.distance.geodesic` (WGS-84 ellipsoid) on random pairs.

    The spherical model is within about 0.5 % of the ellipsoid anywhere on Earth; this makes that measurable for
    a given data set. Pairs closer than `min_distance_km` are skipped (relative error is meaningless there).
    """
    from geopy.distance import geodesic

    lat_a, lon_a = _as_coordinates(lat, lon)
    n = lat_a.size
    if n < 2:
        raise ValueError("geodesic_check needs at least two points")
    rng = np.random.default_rng(seed)
    i_idx = rng.integers(0, n, size=sample)
    j_idx = rng.integers(0, n, size=sample)
    # Only the sampled pairs are needed, so compute haversine on them directly (no n x n matrix).
    hav = haversine_pairs_km(lat_a[i_idx], lon_a[i_idx], lat_a[j_idx], lon_a[j_idx])
    errors: list[float] = []
    worst = (-1.0, (0, 0))
    for k in range(sample):
        i, j = int(i_idx[k]), int(j_idx[k])
        geo = geodesic((lat_a[i], lon_a[i]), (lat_a[j], lon_a[j])).km
        if geo < min_distance_km:
            continue
        rel = abs(hav[k] - geo) / geo
        errors.append(rel)
        if rel > worst[0]:
            worst = (rel, (i, j))
    if not errors:
        raise ValueError(f"no sampled pair is farther apart than {min_distance_km} km")
    return GeodesicCheck(
        pairs=len(errors),
        max_relative_error=float(max(errors)),
        mean_relative_error=float(np.mean(errors)),
        worst_pair=worst[1],
    )


def haversine_pairs_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Haversine distance [km] between matching entries of four arrays [deg] (the textbook formula)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlam = np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlam / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def geocode(address: str, user_agent: str = "evfleet", timeout_s: float = 10.0) -> tuple[float, float] | None:
    """(lat, lon) [deg] of a postal address through OpenStreetMap Nominatim, or None if not found.

    Needs network access to nominatim.openstreetmap.org (unreachable on the offline build machine) and is
    subject to Nominatim's usage policy (one request per second, identify with a user agent). Never called by
    the solver or the tests.
    """
    from geopy.geocoders import Nominatim

    location = Nominatim(user_agent=user_agent, timeout=timeout_s).geocode(address)
    if location is None:
        return None
    return float(location.latitude), float(location.longitude)


# --------------------------------------------------------------------------------------------------------------
# Pluggable providers
# --------------------------------------------------------------------------------------------------------------


@runtime_checkable
class MatrixProvider(Protocol):
    """Anything that turns ordered (lat, lon) points [deg] into travel matrices."""

    def table(self, points: Sequence[tuple[float, float]]) -> TravelMatrices: ...

    def describe(self) -> dict[str, Any]:
        """JSON-ready provenance: {"provider": ..., plus what identifies the model (source, factors, checksum)}."""
        ...


@dataclass(frozen=True)
class HaversineProvider:
    """The default provider: great-circle distance x detour factor at a constant urban speed (no network)."""

    detour_factor: float = DEFAULT_DETOUR_FACTOR
    speed_kmh: float = DEFAULT_URBAN_SPEED_KMH

    def table(self, points: Sequence[tuple[float, float]]) -> TravelMatrices:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return road_matrices(pts[:, 0], pts[:, 1], self.detour_factor, self.speed_kmh)

    def describe(self) -> dict[str, Any]:
        """What produces the matrices, for the stored plan."""
        return {"provider": "haversine", "detour_factor": self.detour_factor, "speed_kmh": self.speed_kmh}


JsonFetcher = Callable[[str], dict[str, Any]]
JsonPoster = Callable[[str, dict[str, Any]], dict[str, Any]]

HTTP_TIMEOUT_S = 30.0
"""Seconds to wait for a routing server's answer before giving up (a nightly run must not hang on it)."""


class RoutingServerError(RuntimeError):
    """The road-network source (an OSRM or Valhalla server, or an offline road graph) answered with an error or
    an unusable table. The message names the source, and for unroutable pairs the points."""


class UnreachablePairsError(RoutingServerError):
    """Some ordered pairs of points have no route. ``pairs`` lists them as (from point, to point) indices into
    the points given to ``table``; the message names the first ones and says why where the source says it."""

    def __init__(self, message: str, pairs: Sequence[tuple[int, int]]) -> None:
        super().__init__(message)
        self.pairs = [(int(i), int(j)) for i, j in pairs]


def unreachable_message(
    source: str, missing: np.ndarray, why: str, point: Callable[[int], str] | None = None, shown: int = 5
) -> str:
    """'SOURCE cannot route from point i to point j (...)' for the first `shown` of `missing` (k x 2 indices)."""
    name = point or (lambda i: f"point {i}")
    pairs = [(int(i), int(j)) for i, j in missing[:shown]]
    text = "; ".join(f"from {name(i)} to {name(j)}" for i, j in pairs)
    more = f" and {len(missing) - shown} more" if len(missing) > shown else ""
    return f"{source} cannot route {text}{more} ({len(missing)} pairs without a route): {why}"


def _server_error_detail(body: bytes) -> str:
    """The error text in an OSRM ({"code", "message"}) or Valhalla ({"error_code", "error"}) error body."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return body[:200].decode("utf-8", "replace").strip()
    if not isinstance(doc, dict):
        return str(doc)[:200]
    parts = [
        f"{k}={doc[k]!r}"
        for k in ("code", "message", "error_code", "error", "status")
        if doc.get(k) is not None
    ]
    return " ".join(parts) or json.dumps(doc)[:200]


def http_json(url: str, payload: dict[str, Any] | None = None, timeout_s: float = HTTP_TIMEOUT_S) -> Any:
    """GET `url` (or POST `payload` as JSON) and decode the JSON answer.

    Shared by the OSRM and Valhalla providers so that both turn every failure into one RoutingServerError that
    names the server: an HTTP error status with the server's own error text, an unreachable host or a timeout,
    and an answer that is not JSON."""
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(
        url, data=data, headers=headers, method="GET" if data is None else "POST"
    )
    host = urllib.parse.urlsplit(url)
    where = f"{host.scheme}://{host.netloc}{host.path}"
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = _server_error_detail(exc.read() or b"")
        raise RoutingServerError(f"{where} answered HTTP {exc.code}: {detail or exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RoutingServerError(f"cannot reach {where}: {reason}") from None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RoutingServerError(f"{where} answered with something that is not JSON: {body[:80]!r}") from None


def _http_get_json(url: str, timeout_s: float = HTTP_TIMEOUT_S) -> dict[str, Any]:
    return http_json(url, None, timeout_s)


def _http_post_json(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    return http_json(url, payload)


def _as_object(payload: Any, source: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise RoutingServerError(f"{source} answer is a {type(payload).__name__}, expected a JSON object")
    return payload


def _check_points(points: Sequence[tuple[float, float]], max_points: int, source: str) -> None:
    if len(points) < 1:
        raise ValueError("the table service needs at least one point")
    if len(points) > max_points:
        raise ValueError(f"{len(points)} points exceed max_points={max_points} of this {source} server")


@dataclass(frozen=True)
class OsrmTableProvider:
    """Road distances and times from an OSRM server's table service (`/table/v1/{profile}/...`).

    OSRM takes coordinates as lon,lat; it returns `distances` [m] and `durations` [s], with null for pairs it
    cannot route. `fetch` is injectable so the request building and parsing are testable without a server.
    OSRM routes with the profile the server was prepared with (`osrm-extract -p truck.lua`); the `profile`
    segment of the URL is required by the API but not used to choose one.
    """

    base_url: str = "http://localhost:5000"
    profile: str = "driving"
    fetch: JsonFetcher = _http_get_json
    max_points: int = 10_000
    """OSRM's default `--max-table-size` is 100; servers for fleet use raise it. Checked before any request."""

    def request_url(self, points: Sequence[tuple[float, float]]) -> str:
        _check_points(points, self.max_points, "OSRM")
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        return f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{coords}?annotations=distance,duration"

    def table(self, points: Sequence[tuple[float, float]]) -> TravelMatrices:
        payload = _as_object(self.fetch(self.request_url(points)), "OSRM")
        if payload.get("code") != "Ok":
            raise RoutingServerError(
                f"OSRM table failed: code={payload.get('code')!r} message={payload.get('message')!r}"
            )
        n = len(points)
        dist = _table_array(payload.get("distances"), "OSRM", "distances", n)
        dur = _table_array(payload.get("durations"), "OSRM", "durations", n)
        _raise_unreachable("OSRM", dist, dur)
        return TravelMatrices(distance_km=dist / 1000.0, duration_min=dur / 60.0)

    def describe(self) -> dict[str, Any]:
        """What produced the matrices, for the stored plan (no credentials: the URL's user info is dropped)."""
        return {"provider": "osrm", "source": _public_url(self.base_url), "profile": self.profile}


@dataclass(frozen=True)
class ValhallaMatrixProvider:
    """Road distances and times from a Valhalla server's matrix service (`POST /sources_to_targets`).

    Sources and targets are the same points; Valhalla returns `distance` in the requested `units`
    (kilometres here) and `time` in seconds, null for pairs it cannot route. Both answer shapes are read: the
    verbose one (a row of {"distance", "time", "from_index", "to_index"} objects per source) and the concise one
    (`verbose: false`: {"distances": [[...]], "durations": [[...]]}). `post` is injectable for tests.
    `costing` "truck" applies Valhalla's truck restrictions (weight, height, hgv=no); the truck's dimensions go
    in `costing_options` (e.g. {"truck": {"weight": 4.5}} in tonnes).
    """

    base_url: str = "http://localhost:8002"
    costing: str = "truck"
    costing_options: dict[str, Any] | None = None
    post: JsonPoster = _http_post_json
    max_points: int = 2_500
    """Valhalla's default `service_limits.<costing>.max_matrix_location_pairs` is 2,500 pairs; servers for fleet
    use raise it. Checked before any request as points (a square matrix needs points² pairs)."""

    def request(self, points: Sequence[tuple[float, float]]) -> tuple[str, dict[str, Any]]:
        _check_points(points, self.max_points, "Valhalla")
        locations = [{"lat": round(float(lat), 6), "lon": round(float(lon), 6)} for lat, lon in points]
        body: dict[str, Any] = {
            "sources": locations,
            "targets": locations,
            "costing": self.costing,
            "units": "kilometers",
        }
        if self.costing_options:
            body["costing_options"] = self.costing_options
        return f"{self.base_url.rstrip('/')}/sources_to_targets", body

    def table(self, points: Sequence[tuple[float, float]]) -> TravelMatrices:
        url, body = self.request(points)
        payload = _as_object(self.post(url, body), "Valhalla")
        if "error" in payload or "error_code" in payload:
            raise RoutingServerError(
                f"Valhalla matrix failed: error_code={payload.get('error_code')!r} "
                f"error={payload.get('error')!r}"
            )
        units = payload.get("units", "kilometers")
        if units not in ("kilometers", "km"):
            raise RoutingServerError(f"Valhalla answered in units={units!r}, asked for kilometers")
        n = len(points)
        raw = payload.get("sources_to_targets")
        if isinstance(raw, dict):  # verbose=false
            dist = _table_array(raw.get("distances"), "Valhalla", "distances", n)
            dur = _table_array(raw.get("durations"), "Valhalla", "durations", n)
        elif isinstance(raw, list):
            dist, dur = _valhalla_verbose(raw, n)
        else:
            raise RoutingServerError("Valhalla answer has no 'sources_to_targets' table")
        _raise_unreachable("Valhalla", dist, dur)
        return TravelMatrices(distance_km=dist, duration_min=dur / 60.0)

    def describe(self) -> dict[str, Any]:
        """What produced the matrices, for the stored plan."""
        out: dict[str, Any] = {
            "provider": "valhalla",
            "source": _public_url(self.base_url),
            "costing": self.costing,
        }
        if self.costing_options:
            out["costing_options"] = self.costing_options
        return out


def _valhalla_verbose(raw: list[Any], n: int) -> tuple[np.ndarray, np.ndarray]:
    if len(raw) != n or not all(isinstance(row, list) and len(row) == n for row in raw):
        raise RoutingServerError(f"Valhalla sources_to_targets is not {n} rows of {n} cells")
    dist = np.full((n, n), math.nan)
    dur = np.full((n, n), math.nan)
    for i, row in enumerate(raw):
        for j, cell in enumerate(row):
            if not isinstance(cell, dict):
                raise RoutingServerError(
                    f"Valhalla cell [{i}][{j}] is a {type(cell).__name__}, not an object"
                )
            a, b = cell.get("from_index", i), cell.get("to_index", j)
            if (a, b) != (i, j):
                raise RoutingServerError(f"Valhalla cell [{i}][{j}] says from_index={a}, to_index={b}")
            dist[i, j] = _number(cell.get("distance"), "Valhalla", "distance")
            dur[i, j] = _number(cell.get("time"), "Valhalla", "time")
    return dist, dur


def _number(value: Any, source: str, key: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RoutingServerError(f"{source} {key} value {value!r} is not a number")
    if not math.isfinite(value) or value < 0:
        raise RoutingServerError(f"{source} {key} value {value!r} is not a finite number >= 0")
    return float(value)


def _public_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")


def _table_array(raw: Any, source: str, key: str, n: int) -> np.ndarray:
    if raw is None:
        hint = " (was annotations=distance,duration honoured?)" if source == "OSRM" else ""
        raise RoutingServerError(f"{source} answer has no {key!r}{hint}")
    if not isinstance(raw, list) or not all(isinstance(row, list) for row in raw):
        raise RoutingServerError(f"{source} {key} is not a list of rows")
    arr = np.array([[_number(v, source, key) for v in row] for row in raw], dtype=np.float64)
    if arr.shape != (n, n):
        raise RoutingServerError(f"{source} {key} has shape {arr.shape}, expected {(n, n)}")
    return arr


def _raise_unreachable(source: str, dist: np.ndarray, dur: np.ndarray) -> None:
    missing = np.argwhere(np.isnan(dist) | np.isnan(dur))
    if missing.size:
        raise UnreachablePairsError(
            unreachable_message(source, missing, "the server has no route between them (null in its table)"),
            [tuple(p) for p in missing],
        )


# --------------------------------------------------------------------------------------------------------------
# Choosing a road network: "haversine" | "osm:PATH" | "osrm:URL" | "valhalla:URL"
# --------------------------------------------------------------------------------------------------------------

ROAD_NETWORK_KINDS = ("haversine", "osm", "osrm", "valhalla")


@dataclass(frozen=True)
class RoadNetworkSpec:
    """Which model produces a problem's matrices, parsed from one string (settings, CLI, environment).

    `kind` is one of ROAD_NETWORK_KINDS; `target` is the OSM extract's path or the server's base URL ("" for
    haversine)."""

    kind: str = "haversine"
    target: str = ""

    @classmethod
    def parse(cls, text: str | None) -> RoadNetworkSpec:
        raw = (text or "").strip()
        if raw in ("", "haversine"):
            return cls()
        kind, sep, target = raw.partition(":")
        kind = kind.strip().lower()
        if not sep or kind not in ROAD_NETWORK_KINDS[1:] or not target.strip():
            raise ValueError(
                f"road network {raw!r}: expected 'haversine', 'osm:PATH' (an .osm or .osm.pbf extract), "
                "'osrm:URL' or 'valhalla:URL'"
            )
        target = target.strip()
        if kind in ("osrm", "valhalla") and urllib.parse.urlsplit(target).scheme not in ("http", "https"):
            raise ValueError(f"road network {raw!r}: the {kind} server must be an http(s):// URL")
        return cls(kind, target)

    def __str__(self) -> str:
        return self.kind if self.kind == "haversine" else f"{self.kind}:{self.target}"

    def public(self) -> str:
        """As __str__, without a server URL's user info (for logs and screens)."""
        if self.kind in ("osrm", "valhalla"):
            return f"{self.kind}:{_public_url(self.target)}"
        return str(self)

    def provider(
        self, detour_factor: float = DEFAULT_DETOUR_FACTOR, speed_kmh: float = DEFAULT_URBAN_SPEED_KMH
    ) -> MatrixProvider:
        """The provider for this spec; `detour_factor` and `speed_kmh` apply to haversine only. An OSM extract is
        read (and cached per process) here; `routing.osm` needs the optional `osmium` package (evfleet[osm])."""
        if self.kind == "haversine":
            return HaversineProvider(detour_factor, speed_kmh)
        if self.kind == "osrm":
            return OsrmTableProvider(base_url=self.target)
        if self.kind == "valhalla":
            return ValhallaMatrixProvider(base_url=self.target)
        from routing.osm import OsmGraphProvider

        return OsmGraphProvider.from_file(self.target)
