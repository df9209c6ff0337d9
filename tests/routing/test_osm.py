"""Offline road graph (routing.osm) on a hand-made OSM XML grid: known fastest paths, one-way streets, roads the
trucks may not use, the truck speed cap, PBF = XML, snapping and unreachable points reported by name.

The fixture tests/routing/data/grid.osm is hand-made (not derived from OpenStreetMap data, so no ODbL terms);
its header comment describes the layout: node n(r, c) at lat 22.540 + 0.001 r, lon 114.050 + 0.001 c.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("osmium")

from routing.matrix import (
    HaversineProvider,
    MatrixProvider,
    RoadNetworkSpec,
    RoutingServerError,
    UnreachablePairsError,
    haversine_pairs_km,
)
from routing.osm import (
    HIGHWAY_SPEED_KMH,
    OsmGraphProvider,
    build_graph,
    load_graph,
    parse_maxspeed,
    read_osm,
    truck_may_use,
    way_direction,
)

GRID = Path(__file__).parent / "data" / "grid.osm"


def at(r: int, c: int) -> tuple[float, float]:
    """Coordinates [deg] of grid node n(r, c)."""
    return (round(22.540 + 0.001 * r, 3), round(114.050 + 0.001 * c, 3))


def path_km(cells: list[tuple[int, int]]) -> float:
    """Length [km] of a path through grid nodes, segment by segment (the graph's own edge rule)."""
    pts = np.array([at(r, c) for r, c in cells])
    return float(haversine_pairs_km(pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1]).sum())


@pytest.fixture(scope="module")
def provider() -> OsmGraphProvider:
    return OsmGraphProvider.from_file(GRID)


def test_graph_keeps_drivable_ways_only(provider: OsmGraphProvider) -> None:
    g = provider.graph
    # 5 rows + columns 0, 2, 4 + the island; the footway (column 1) and hgv=no (column 3) are left out.
    assert g.ways == 9
    # two-way rows 0, 2, 4 and columns 0, 2, 4: 6 x 4 x 2; one-way rows 1 and 3: 2 x 4; the island: 2.
    assert g.edges == 48 + 8 + 2
    assert g.nodes == 27
    assert int(g.main_component().sum()) == 25  # the island is not part of the main network
    assert isinstance(provider, MatrixProvider)


def test_known_fastest_path_takes_the_primary_road(provider: OsmGraphProvider) -> None:
    m = provider.table([at(0, 0), at(4, 4)])
    # Fastest: up column 0 to row 2 (residential, 20 km/h by class), along row 2 (primary, maxspeed=60),
    # up column 4 (residential). Any grid path of the same length along row 0 or 4 is slower.
    up = path_km([(0, 0), (1, 0), (2, 0)])
    along = path_km([(2, c) for c in range(5)])
    down = path_km([(2, 4), (3, 4), (4, 4)])
    assert HIGHWAY_SPEED_KMH["residential"] == 20.0
    assert m.distance_km[0, 1] == pytest.approx(up + along + down, rel=1e-9)
    assert m.duration_min[0, 1] == pytest.approx((up + down) / 20.0 * 60 + along / 60.0 * 60, rel=1e-9)
    assert m.distance_km[1, 0] == pytest.approx(m.distance_km[0, 1], rel=1e-9)
    assert np.all(np.diag(m.distance_km) == 0.0) and np.all(np.diag(m.duration_min) == 0.0)


def test_one_way_streets_force_a_detour_against_their_direction(provider: OsmGraphProvider) -> None:
    m = provider.table([at(1, 1), at(1, 3), at(3, 0), at(3, 2)])
    # Row 1 is oneway=yes, drawn eastward: east is direct at the tertiary class speed (30 km/h).
    east = path_km([(1, 1), (1, 2), (1, 3)])
    assert m.distance_km[0, 1] == pytest.approx(east, rel=1e-9)
    assert m.duration_min[0, 1] == pytest.approx(east / 30.0 * 60, rel=1e-9)
    # West on row 1 is forbidden: node n(1,1) is entered only from n(1,0) (no column 1 for trucks), so the
    # shortest way back is 6 blocks east-west and 2 north-south; the fastest of those takes the primary row 2.
    back = path_km([(1, 3), (1, 4), (2, 4), (2, 3), (2, 2), (2, 1), (2, 0), (1, 0), (1, 1)])
    assert m.distance_km[1, 0] == pytest.approx(back, rel=1e-9)
    assert m.distance_km[1, 0] > 3 * m.distance_km[0, 1]
    # Row 3 is oneway=-1 (drawn eastward, driven westward): west is direct, east goes round by row 2.
    assert m.distance_km[3, 2] == pytest.approx(path_km([(3, 2), (3, 1), (3, 0)]), rel=1e-9)
    assert m.distance_km[2, 3] == pytest.approx(path_km([(3, 0), (2, 0), (2, 1), (2, 2), (3, 2)]), rel=1e-9)


def test_footway_and_hgv_no_are_not_driven(provider: OsmGraphProvider) -> None:
    m = provider.table([at(0, 1), at(2, 1), at(0, 3), at(2, 3)])
    straight = path_km([(0, 1), (1, 1), (2, 1)])
    # Column 1 is a footway and column 3 is hgv=no: both trips go round by a residential column.
    assert m.distance_km[0, 1] == pytest.approx(path_km([(0, 1), (0, 0), (1, 0), (2, 0), (2, 1)]), rel=1e-9)
    assert m.distance_km[2, 3] > 1.9 * straight


def test_truck_speed_cap_applies_to_tagged_maxspeed() -> None:
    capped = OsmGraphProvider(read_osm(GRID, truck_max_kmh=40.0))
    m = capped.table([at(2, 0), at(2, 4)])
    along = path_km([(2, c) for c in range(5)])
    assert m.duration_min[0, 1] == pytest.approx(along / 40.0 * 60, rel=1e-9)
    assert capped.describe()["truck_max_kmh"] == 40.0


def test_pbf_extract_gives_the_same_matrices(tmp_path: Path, provider: OsmGraphProvider) -> None:
    import osmium

    pbf = tmp_path / "grid.osm.pbf"
    writer = osmium.SimpleWriter(str(pbf))
    for obj in osmium.FileProcessor(str(GRID)):
        writer.add(obj)
    writer.close()
    points = [at(r, c) for r in range(5) for c in (0, 2, 4)]
    a = provider.table(points)
    b = OsmGraphProvider(read_osm(pbf)).table(points)
    assert np.allclose(a.distance_km, b.distance_km, rtol=1e-9)
    assert np.allclose(a.duration_min, b.duration_min, rtol=1e-9)


def test_points_snap_to_the_nearest_node_and_far_points_are_named(provider: OsmGraphProvider) -> None:
    near = (22.54204, 114.05196)  # a few metres from n(2, 2)
    snap = provider.snap([near])
    assert int(snap.osm_id[0]) == 122
    assert snap.distance_km[0] < 0.01
    # The island lies 0.67 km north of row 4, off the main network: named, with its distance.
    with pytest.raises(UnreachablePairsError, match=r"point 1 \(22\.550000, 114\.050000\) is 0\.6\d km away"):
        provider.table([at(0, 0), (22.550, 114.050)])


def test_unreachable_pairs_name_points_nodes_and_why() -> None:
    loose = OsmGraphProvider(load_graph(GRID), largest_component_only=False)
    with pytest.raises(UnreachablePairsError) as info:
        loose.table([at(0, 0), (22.550, 114.050), at(4, 4)])
    err = info.value
    assert sorted(err.pairs) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    text = str(err)
    assert "from point 0 (22.540000, 114.050000; OSM node 100, 0 m away) to point 1" in text
    assert "OSM node 900" in text and "no directed path" in text
    assert isinstance(err, RoutingServerError)


def test_describe_records_the_extract_and_its_checksum(provider: OsmGraphProvider) -> None:
    info = provider.describe()
    assert info["provider"] == "osm"
    assert info["source"] == "grid.osm"
    assert info["sha256"] == hashlib.sha256(GRID.read_bytes()).hexdigest()
    assert (info["nodes"], info["edges"]) == (27, 58)


def test_spec_parses_each_source_and_builds_its_provider() -> None:
    assert RoadNetworkSpec.parse(None) == RoadNetworkSpec("haversine", "")
    assert RoadNetworkSpec.parse(" haversine ").provider(1.3, 25.0) == HaversineProvider(1.3, 25.0)
    spec = RoadNetworkSpec.parse(f"osm:{GRID}")
    assert (spec.kind, spec.target, str(spec)) == ("osm", str(GRID), f"osm:{GRID}")
    assert spec.provider().describe()["sha256"] == hashlib.sha256(GRID.read_bytes()).hexdigest()
    osrm = RoadNetworkSpec.parse("osrm:http://osrm.local:5000").provider()
    assert osrm.describe() == {"provider": "osrm", "source": "http://osrm.local:5000", "profile": "driving"}
    valhalla = RoadNetworkSpec.parse("VALHALLA:https://user:secret@valhalla.local/api/").provider()
    assert valhalla.describe() == {
        "provider": "valhalla",
        "source": "https://valhalla.local/api",
        "costing": "truck",
    }
    for bad in ("osm:", "graphhopper:http://x", "osrm:localhost:5000", "osm"):
        with pytest.raises(ValueError, match="road network"):
            RoadNetworkSpec.parse(bad)
    with pytest.raises(FileNotFoundError):
        RoadNetworkSpec.parse("osm:/nonexistent/extract.osm.pbf").provider()


def test_tag_rules() -> None:
    assert parse_maxspeed("50") == 50.0
    assert parse_maxspeed("30 mph") == pytest.approx(48.28032)
    assert parse_maxspeed("60;40") == 40.0
    assert (
        parse_maxspeed("CN:urban") is None and parse_maxspeed("none") is None and parse_maxspeed(None) is None
    )
    assert way_direction({"highway": "residential"}) == 0
    assert way_direction({"highway": "residential", "oneway": "yes"}) == 1
    assert way_direction({"highway": "residential", "oneway": "-1"}) == -1
    assert way_direction({"highway": "primary", "junction": "roundabout"}) == 1
    assert way_direction({"highway": "motorway"}) == 1
    assert way_direction({"highway": "motorway", "oneway": "no"}) == 0
    assert way_direction({"highway": "primary", "oneway": "reversible"}) is None
    assert truck_may_use({"highway": "primary"})
    assert not truck_may_use({"highway": "footway"})
    assert not truck_may_use({"highway": "primary", "hgv": "no"})
    assert not truck_may_use({"highway": "service", "access": "private"})
    assert truck_may_use({"highway": "service", "access": "private", "hgv": "destination"})
    assert not truck_may_use({"highway": "pedestrian", "area": "yes"})


def test_parallel_ways_keep_the_fastest_edge() -> None:
    nodes = [(1, 22.5, 114.0), (2, 22.5, 114.01)]
    g = build_graph([({"highway": "residential"}, nodes), ({"highway": "primary", "maxspeed": "50"}, nodes)])
    assert g.edges == 2
    km = float(haversine_pairs_km(22.5, 114.0, 22.5, 114.01))
    assert g.time_min[0] == pytest.approx(km / 50.0 * 60)
