"""Distance and travel-time matrices: great-circle by default, planar for benchmark instances.

The default road model is a great-circle (haversine) distance times a road-detour factor, driven at a constant
urban speed. Both numbers are *assumptions*, not sourced facts (no published source gives them): a circuity
factor of about 1.2–1.4 is the usual range for urban road networks, and 1.3 is taken here; 25 km/h is taken as
an average urban truck speed including junctions. Callers with better data pass their own values or plug in a road-network provider (`OsrmTableProvider`).

geopy is used for two things only: a geodesic spot check of the haversine matrix (`geodesic_check`) and
optional geocoding (`geocode`), which needs network access and is never called by the library itself.
"""

from __future__ import annotations

import json
import math
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


@dataclass(frozen=True)
class HaversineProvider:
    """The default provider: great-circle distance x detour factor at a constant urban speed (no network)."""

    detour_factor: float = DEFAULT_DETOUR_FACTOR
    speed_kmh: float = DEFAULT_URBAN_SPEED_KMH

    def table(self, points: Sequence[tuple[float, float]]) -> TravelMatrices:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return road_matrices(pts[:, 0], pts[:, 1], self.detour_factor, self.speed_kmh)


JsonFetcher = Callable[[str], dict[str, Any]]


def _http_get_json(url: str, timeout_s: float = 30.0) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return json.loads(response.read().decode("utf-8"))


class RoutingServerError(RuntimeError):
    """The road-network routing server answered with an error or an unusable table."""


@dataclass(frozen=True)
class OsrmTableProvider:
    """Road distances and times from an OSRM server's table service (`/table/v1/{profile}/...`).

    OSRM takes coordinates as lon,lat; it returns `distances` [m] and `durations` [s], with null for pairs it
    cannot route. `fetch` is injectable so the request building and parsing are testable without a server.
    """

    base_url: str = "http://localhost:5000"
    profile: str = "driving"
    fetch: JsonFetcher = _http_get_json
    max_points: int = 10_000
    """OSRM's default `--max-table-size` is 100; servers for fleet use raise it. Checked before any request."""

    def request_url(self, points: Sequence[tuple[float, float]]) -> str:
        if len(points) < 1:
            raise ValueError("the table service needs at least one point")
        if len(points) > self.max_points:
            raise ValueError(f"{len(points)} points exceed max_points={self.max_points} of this OSRM server")
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        return f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{coords}?annotations=distance,duration"

    def table(self, points: Sequence[tuple[float, float]]) -> TravelMatrices:
        payload = self.fetch(self.request_url(points))
        if payload.get("code") != "Ok":
            raise RoutingServerError(
                f"OSRM table failed: code={payload.get('code')!r} message={payload.get('message')!r}"
            )
        n = len(points)
        dist = _table_array(payload, "distances", n)
        dur = _table_array(payload, "durations", n)
        return TravelMatrices(distance_km=dist / 1000.0, duration_min=dur / 60.0)


def _table_array(payload: dict[str, Any], key: str, n: int) -> np.ndarray:
    raw = payload.get(key)
    if raw is None:
        raise RoutingServerError(f"OSRM answer has no {key!r} (was annotations=distance,duration honoured?)")
    arr = np.array([[math.nan if v is None else float(v) for v in row] for row in raw], dtype=np.float64)
    if arr.shape != (n, n):
        raise RoutingServerError(f"OSRM {key} has shape {arr.shape}, expected {(n, n)}")
    missing = np.argwhere(np.isnan(arr))
    if missing.size:
        i, j = (int(v) for v in missing[0])
        raise RoutingServerError(
            f"OSRM cannot route from point {i} to point {j} ({len(missing)} pairs without {key})"
        )
    return arr
