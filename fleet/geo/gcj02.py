"""WGS-84 -> GCJ-02 ("Mars coordinates"): the obfuscated datum every map published in mainland China uses.

AMap (Gaode) and Tencent tiles are drawn in GCJ-02; a GPS (WGS-84) position drawn on them unshifted lands
100-700 m off, in the sea or the wrong street. The shift is the published form of the algorithm (the
Krasovsky 1940 ellipsoid, a = 6378245.0 m, e² = 0.00669342162296594323, two polynomial-plus-sine fields in
degrees), applied only inside the rough bounding box of China; outside it coordinates are unchanged.
OpenStreetMap tiles are in WGS-84 and need no shift.

Pure functions on floats or numpy arrays [degrees]; no I/O.

References
----------
- The algorithm as published with source in googollee/eviltransform (`transform.c`, `eviltransform.py`),
  whose test suite's reference pairs tests/geo/test_gcj02.py checks to within 1 m.
- Wikipedia, "Restrictions on geographic data in China" (GCJ-02 and its bounding box).
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np

A = 6378245.0  # semi-major axis of the Krasovsky 1940 ellipsoid [m]
EE = 0.00669342162296594323  # its first eccentricity squared [-]

# The bounding box outside which GCJ-02 equals WGS-84 [degrees] (the one the published implementations use).
LON_MIN, LON_MAX = 72.004, 137.8347
LAT_MIN, LAT_MAX = 0.8293, 55.8271

F = TypeVar("F", float, np.ndarray)


def out_of_china(lat: F, lon: F) -> F:
    """True where (lat, lon) [degrees] lies outside the GCJ-02 box (no shift there)."""
    lat_a, lon_a = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    out = (lon_a < LON_MIN) | (lon_a > LON_MAX) | (lat_a < LAT_MIN) | (lat_a > LAT_MAX)
    return bool(out) if np.ndim(out) == 0 else out  # type: ignore[return-value]


def _shift_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Latitude field [arc-metres on the ellipsoid] at x = lon - 105, y = lat - 35 [degrees]."""
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Longitude field [arc-metres on the ellipsoid] at x = lon - 105, y = lat - 35 [degrees]."""
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: F, lon: F) -> tuple[F, F]:
    """(lat, lon) in GCJ-02 [degrees] of a WGS-84 position; floats or same-shape arrays; unchanged outside China.

    The fields are in metres along the Krasovsky ellipsoid and become degrees through its meridian radius
    a(1-e²)/W³ and its parallel radius a·cos φ/W, W = sqrt(1 - e² sin² φ)."""
    lat_a, lon_a = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    x, y = lon_a - 105.0, lat_a - 35.0
    rad = lat_a / 180.0 * math.pi
    magic = 1.0 - EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (_shift_lat(x, y) * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (_shift_lon(x, y) * 180.0) / (A / sqrt_magic * np.cos(rad) * math.pi)
    outside = np.asarray(out_of_china(lat_a, lon_a))
    out_lat = np.where(outside, lat_a, lat_a + d_lat)
    out_lon = np.where(outside, lon_a, lon_a + d_lon)
    if np.ndim(out_lat) == 0:
        return float(out_lat), float(out_lon)  # type: ignore[return-value]
    return out_lat, out_lon  # type: ignore[return-value]


def gcj02_to_wgs84(lat: F, lon: F, tolerance_deg: float = 1e-9, max_iter: int = 30) -> tuple[F, F]:
    """The inverse by fixed-point iteration (the forward shift is smooth and < 1 km): WGS-84 (lat, lon) whose
    GCJ-02 image is within `tolerance_deg` of the input [degrees]; for reading positions off a Chinese map."""
    lat_a, lon_a = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    w_lat, w_lon = lat_a.copy(), lon_a.copy()
    for _ in range(max_iter):
        g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
        e_lat, e_lon = np.asarray(g_lat) - lat_a, np.asarray(g_lon) - lon_a
        w_lat, w_lon = w_lat - e_lat, w_lon - e_lon
        if max(np.max(np.abs(e_lat)), np.max(np.abs(e_lon))) < tolerance_deg:
            break
    if np.ndim(w_lat) == 0:
        return float(w_lat), float(w_lon)  # type: ignore[return-value]
    return w_lat, w_lon  # type: ignore[return-value]
