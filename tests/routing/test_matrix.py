"""Matrices: haversine against known distances and geopy, planar convention, the OSRM provider against a fake."""

from __future__ import annotations

import math

import numpy as np
import pytest

from routing.matrix import (
    EARTH_RADIUS_KM,
    HaversineProvider,
    MatrixProvider,
    OsrmTableProvider,
    RoutingServerError,
    TravelMatrices,
    euclidean_matrix,
    geodesic_check,
    haversine_matrix_km,
    haversine_pairs_km,
    planar_matrices,
    road_matrices,
)

# A few Shenzhen points (lat, lon) [deg]: Futian, Nanshan, Bao'an airport, Longgang, Yantian port.
SHENZHEN = [
    (22.5431, 114.0579),
    (22.5329, 113.9305),
    (22.6393, 113.8107),
    (22.7196, 114.2470),
    (22.5785, 114.2717),
]


def test_haversine_quarter_meridian_and_equator() -> None:
    d = haversine_matrix_km([0.0, 90.0, 0.0], [0.0, 0.0, 90.0])
    quarter = math.pi / 2 * EARTH_RADIUS_KM
    assert d[0, 1] == pytest.approx(quarter, rel=1e-12)
    assert d[0, 2] == pytest.approx(quarter, rel=1e-12)
    assert d[1, 2] == pytest.approx(quarter, rel=1e-12)


def test_haversine_matrix_is_symmetric_with_zero_diagonal() -> None:
    lat, lon = zip(*SHENZHEN)
    d = haversine_matrix_km(lat, lon)
    assert d.shape == (5, 5)
    assert np.allclose(d, d.T)
    assert np.all(np.diag(d) == 0.0)
    # Futian to Nanshan centre is about 13 km as the crow flies.
    assert 12.0 < d[0, 1] < 14.5


def test_matrix_equals_textbook_haversine_including_close_points() -> None:
    rng = np.random.default_rng(7)
    lat = np.concatenate([-60 + rng.random(50) * 120, [22.5, 22.5 + 1e-6]])
    lon = np.concatenate([-170 + rng.random(50) * 340, [114.0, 114.0]])
    d = haversine_matrix_km(lat, lon)
    i, j = np.meshgrid(np.arange(lat.size), np.arange(lat.size), indexing="ij")
    expected = haversine_pairs_km(lat[i], lon[i], lat[j], lon[j])
    assert np.allclose(d, expected, rtol=1e-9, atol=1e-9)
    # 1e-6 deg of latitude is about 0.11 m.
    assert d[-2, -1] == pytest.approx(1e-6 * math.pi / 180 * EARTH_RADIUS_KM, rel=1e-6)


def test_haversine_agrees_with_geopy_geodesic() -> None:
    rng = np.random.default_rng(1)
    lat = 22.45 + rng.random(300) * 0.4
    lon = 113.75 + rng.random(300) * 0.65
    check = geodesic_check(lat, lon, sample=100, seed=3)
    assert check.pairs > 90
    # Spherical vs WGS-84 ellipsoid at 22.5 deg N: well under 0.5 %.
    assert check.max_relative_error < 0.005
    assert check.mean_relative_error <= check.max_relative_error


def test_road_matrices_apply_detour_and_speed() -> None:
    lat, lon = zip(*SHENZHEN)
    base = haversine_matrix_km(lat, lon)
    m = road_matrices(lat, lon, detour_factor=1.4, speed_kmh=30.0)
    assert np.allclose(m.distance_km, base * 1.4)
    assert np.allclose(m.duration_min, base * 1.4 / 30.0 * 60.0)


@pytest.mark.parametrize(
    ("lat", "lon", "message"),
    [
        ([91.0, 0.0], [0.0, 0.0], "latitude out of"),
        ([0.0, 0.0], [0.0, 181.0], "longitude out of"),
        ([0.0, math.nan], [0.0, 0.0], "NaN"),
        ([0.0], [0.0, 1.0], "equal length"),
    ],
)
def test_bad_coordinates_are_named(lat: list[float], lon: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        haversine_matrix_km(lat, lon)


def test_detour_below_one_rejected() -> None:
    with pytest.raises(ValueError, match="detour_factor"):
        road_matrices([0.0, 1.0], [0.0, 1.0], detour_factor=0.9)


def test_euclidean_double_precision() -> None:
    d = euclidean_matrix([0.0, 3.0, 1.0], [0.0, 4.0, 1.0])
    assert d[0, 1] == 5.0
    assert d[0, 2] == math.sqrt(2.0)
    m = planar_matrices([0.0, 3.0], [0.0, 4.0], speed=2.0)
    assert m.duration_min[0, 1] == 2.5


def test_travel_matrices_reject_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="square"):
        TravelMatrices(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="differs"):
        TravelMatrices(np.zeros((2, 2)), np.zeros((3, 3)))


def test_haversine_provider_is_a_matrix_provider() -> None:
    provider = HaversineProvider(detour_factor=1.3, speed_kmh=25.0)
    assert isinstance(provider, MatrixProvider)
    m = provider.table(SHENZHEN)
    lat, lon = zip(*SHENZHEN)
    assert np.allclose(m.distance_km, haversine_matrix_km(lat, lon) * 1.3)


class FakeOsrm:
    """Records the URL and answers like OSRM's table service (metres, seconds, lon,lat order)."""

    def __init__(self, answer: dict) -> None:
        self.answer = answer
        self.urls: list[str] = []

    def __call__(self, url: str) -> dict:
        self.urls.append(url)
        return self.answer


def test_osrm_provider_builds_request_and_converts_units() -> None:
    fake = FakeOsrm(
        {"code": "Ok", "distances": [[0, 1500.0], [1700.0, 0]], "durations": [[0, 120.0], [150.0, 0]]}
    )
    provider = OsrmTableProvider(base_url="http://osrm.local:5000/", profile="truck", fetch=fake)
    assert isinstance(provider, MatrixProvider)
    m = provider.table([(22.5431, 114.0579), (22.5329, 113.9305)])
    assert fake.urls == [
        (
            "http://osrm.local:5000/table/v1/truck/114.057900,22.543100;113.930500,22.532900"
            "?annotations=distance,duration"
        )
    ]
    assert m.distance_km[0, 1] == 1.5 and m.distance_km[1, 0] == 1.7
    assert m.duration_min[0, 1] == 2.0 and m.duration_min[1, 0] == 2.5


def test_osrm_provider_reports_unroutable_pairs_and_errors() -> None:
    unroutable = FakeOsrm(
        {"code": "Ok", "distances": [[0, None], [1.0, 0]], "durations": [[0, None], [1.0, 0]]}
    )
    with pytest.raises(RoutingServerError, match="from point 0 to point 1"):
        OsrmTableProvider(fetch=unroutable).table([(0.0, 0.0), (0.0, 0.1)])
    failed = FakeOsrm({"code": "InvalidQuery", "message": "bad coords"})
    with pytest.raises(RoutingServerError, match="InvalidQuery"):
        OsrmTableProvider(fetch=failed).table([(0.0, 0.0), (0.0, 0.1)])
    with pytest.raises(ValueError, match="max_points"):
        OsrmTableProvider(fetch=failed, max_points=1).request_url([(0.0, 0.0), (0.0, 0.1)])
