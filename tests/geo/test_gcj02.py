"""GCJ-02 shift against published reference coordinates (issue 21 acceptance: within 1 m)."""

from __future__ import annotations

import numpy as np
import pytest
from geopy.distance import geodesic

from fleet.geo.gcj02 import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02

# (WGS-84 lat, lon) -> (GCJ-02 lat, lon) as published in the test suite of googollee/eviltransform,
# python/test.py at commit 3416646abc64972e899118271bd98030224d9d6c (`TESTS`: Shanghai, Shenzhen, Beijing).
REFERENCE = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_matches_published_reference_within_one_metre(wgs, gcj) -> None:  # type: ignore[no-untyped-def]
    got = wgs84_to_gcj02(*wgs)
    assert geodesic(got, gcj).meters < 1.0
    assert geodesic(wgs, gcj).meters > 100  # the shift itself is hundreds of metres: the check can fail


def test_arrays_agree_with_scalars_and_the_inverse_returns() -> None:
    lats = np.array([w[0] for w, _ in REFERENCE])
    lons = np.array([w[1] for w, _ in REFERENCE])
    g_lat, g_lon = wgs84_to_gcj02(lats, lons)
    for k, (_, gcj) in enumerate(REFERENCE):
        assert geodesic((g_lat[k], g_lon[k]), gcj).meters < 1.0
    back_lat, back_lon = gcj02_to_wgs84(g_lat, g_lon)
    assert np.allclose(back_lat, lats, atol=1e-7) and np.allclose(back_lon, lons, atol=1e-7)


def test_outside_china_is_unchanged() -> None:
    for lat, lon in ((48.8584, 2.2945), (35.6586, 139.7454), (-33.86, 151.21)):  # Paris, Tokyo, Sydney
        assert out_of_china(lat, lon)
        assert wgs84_to_gcj02(lat, lon) == (lat, lon)
    assert not out_of_china(22.54, 113.91)
