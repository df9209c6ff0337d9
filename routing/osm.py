"""Travel matrices on an offline road graph read from an OpenStreetMap extract (.osm XML or .osm.pbf).

Why pyosmium (`osmium` on PyPI, optional extra `evfleet[osm]`): it reads both XML and PBF (the format
Geofabrik-style extracts come in) through libosmium, ships binary wheels for CPython 3.8-3.13, needs nothing
at run time but `requests`, and is maintained by the OSM developers (osmcode). osmnx's `graph_from_xml` reads
XML only and pulls in geopandas, shapely and pyproj; pyrosm reads PBF only and also needs geopandas. The
graph search itself is scipy's (`scipy.sparse.csgraph.dijkstra`, a core dependency already).

The model, in order:

1. Drivable ways: a way with a `highway` tag in ``HIGHWAY_SPEED_KMH`` (footways, cycleways, steps, tracks,
   ways under construction... are not), without ``access``/``motor_vehicle``/``hgv`` = no/private (trucks
   obey ``hgv=no``; ``hgv``/``motor_vehicle`` = yes/designated/destination lifts a general ``access=no``).
   ``area=yes`` and ``oneway=reversible`` ways are skipped (no fixed direction to route on).
2. One directed edge per consecutive node pair of a way, both ways unless one-way: ``oneway`` = yes/true/1
   (forward), -1/reverse (backward), and implied by ``junction=roundabout|circular`` and ``highway=motorway``
   (OSM conventions, wiki "Key:oneway"). Length [km] = haversine between the two nodes.
3. Speed [km/h] = ``maxspeed:hgv`` else ``maxspeed`` when tagged and numeric (km/h, or "mph"), else the
   class default of ``HIGHWAY_SPEED_KMH`` (ASSUMPTION), never above ``truck_max_kmh`` (ASSUMPTION, default 80).
   Times are free-flow: no junction delays, turn costs or traffic (optimistic in a city; item 2 of issue 25,
   time-dependent travel, is where congestion belongs).
4. Points snap to the nearest graph node (straight line; the snap leg is not added to distance or time),
   by default only to nodes of the largest strongly connected part of the graph, so that a point is never
   stranded on a stub the extract's clipping cut off. A point farther than ``max_snap_km`` from any such node
   is an error naming the point.
5. Distances and times are those of the FASTEST path (as OSRM and Valhalla report them): Dijkstra on time
   from every snapped point, then the path's length summed back along the shortest-path tree.

Pairs without a path (possible with ``largest_component_only=False``) raise UnreachablePairsError naming the
points, the OSM nodes they snapped to and why. The file's SHA-256 goes into ``describe()`` so a stored plan
says exactly which extract produced it.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from routing.matrix import (
    EARTH_RADIUS_KM,
    TravelMatrices,
    UnreachablePairsError,
    _as_coordinates,
    haversine_pairs_km,
    unreachable_message,
)

HIGHWAY_SPEED_KMH: dict[str, float] = {
    "motorway": 80.0,
    "motorway_link": 40.0,
    "trunk": 60.0,
    "trunk_link": 35.0,
    "primary": 40.0,
    "primary_link": 30.0,
    "secondary": 35.0,
    "secondary_link": 25.0,
    "tertiary": 30.0,
    "tertiary_link": 20.0,
    "unclassified": 25.0,
    "road": 20.0,
    "residential": 20.0,
    "living_street": 10.0,
    "service": 15.0,
}
"""Free-flow truck speed [km/h] per OSM ``highway`` class where no ``maxspeed`` is tagged. ASSUMPTION: average
speeds for a light truck in a Chinese city, no published source; they sit below the statutory limits where no
sign says otherwise (Regulations for the Implementation of the PRC Road Traffic Safety Law, art. 45: 30 km/h on
urban roads without a centre line, 50 km/h with one lane each way). Classes not listed are not drivable."""

DEFAULT_TRUCK_MAX_KMH = 80.0
"""Cap on every edge's speed for the trucks [km/h]. ASSUMPTION: light electric trucks cruise at about this on
expressways (the legal limit for goods vehicles on expressways is 100 km/h, same regulations, art. 78)."""

DEFAULT_MAX_SNAP_KM = 0.5
"""Farthest a point may lie from its snapped road node [km]. ASSUMPTION: beyond 500 m the point is probably
outside the extract or geocoded wrongly, and a straight-line snap would hide it."""

_NO = frozenset({"no", "private"})
_YES = frozenset({"yes", "designated", "destination", "permissive", "delivery"})
_ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
_ONEWAY_BACKWARD = frozenset({"-1", "reverse"})
_MAXSPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph)?\s*$")


def parse_maxspeed(value: str | None) -> float | None:
    """A ``maxspeed`` tag in km/h, or None when absent or not a number ("none", "signals", "CN:urban"...).

    "50", "50 km/h" and "30 mph" are read; for several values ("60;40") the lowest is taken."""
    if not value:
        return None
    speeds = []
    for part in value.split(";"):
        m = _MAXSPEED.match(part)
        if m:
            v = float(m.group(1)) * (1.609344 if m.group(2) == "mph" else 1.0)
            if v > 0:
                speeds.append(v)
    return min(speeds) if speeds else None


def way_direction(tags: dict[str, str]) -> int | None:
    """+1 forward only, -1 backward only, 0 both ways, None not routable (``oneway=reversible``)."""
    oneway = tags.get("oneway", "").strip().lower()
    if oneway in _ONEWAY_FORWARD:
        return 1
    if oneway in _ONEWAY_BACKWARD:
        return -1
    if oneway in ("reversible", "alternating"):
        return None
    if oneway == "no":
        return 0
    if tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway":
        return 1
    return 0


def truck_may_use(tags: dict[str, str]) -> bool:
    """A drivable highway class the trucks may enter (see the module docstring, point 1)."""
    if tags.get("highway") not in HIGHWAY_SPEED_KMH or tags.get("area") == "yes":
        return False
    hgv, motor = tags.get("hgv"), tags.get("motor_vehicle")
    if hgv in _NO or (motor in _NO and hgv not in _YES):
        return False
    return not (tags.get("access") in _NO and hgv not in _YES and motor not in _YES)


def way_speed_kmh(tags: dict[str, str], truck_max_kmh: float = DEFAULT_TRUCK_MAX_KMH) -> float:
    """The trucks' speed on a way [km/h] (module docstring, point 3)."""
    tagged = parse_maxspeed(tags.get("maxspeed:hgv")) or parse_maxspeed(tags.get("maxspeed"))
    speed = tagged if tagged is not None else HIGHWAY_SPEED_KMH[tags["highway"]]
    return min(speed, truck_max_kmh)


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """A directed road graph: nodes with OSM ids and coordinates [deg], edges with length [km] and time [min].

    Edges are sorted by (tail, head) with at most one edge per ordered pair (the fastest, when ways overlap).
    """

    node_ids: np.ndarray  # OSM node id per graph node
    lat: np.ndarray
    lon: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    length_km: np.ndarray
    time_min: np.ndarray
    source: str = ""
    sha256: str = ""
    truck_max_kmh: float = DEFAULT_TRUCK_MAX_KMH
    ways: int = 0
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def nodes(self) -> int:
        return int(self.node_ids.size)

    @property
    def edges(self) -> int:
        return int(self.tail.size)

    def csr(self, weight: str = "time") -> csr_matrix:
        key = f"csr_{weight}"
        if key not in self._cache:
            w = self.time_min if weight == "time" else self.length_km
            self._cache[key] = csr_matrix((w, (self.tail, self.head)), shape=(self.nodes, self.nodes))
        return self._cache[key]

    def main_component(self) -> np.ndarray:
        """Boolean mask of the nodes in the largest strongly connected component."""
        if "main" not in self._cache:
            if self.nodes == 0:
                self._cache["main"] = np.zeros(0, dtype=bool)
            else:
                _, labels = connected_components(self.csr(), directed=True, connection="strong")
                self._cache["main"] = labels == np.bincount(labels).argmax()
        return self._cache["main"]

    def edge_lengths(self, tails: np.ndarray, heads: np.ndarray) -> np.ndarray:
        """Length [km] of the edges (tails[k] -> heads[k]); each must exist."""
        if "keys" not in self._cache:  # sorted, as the edges are sorted by (tail, head)
            self._cache["keys"] = self.tail.astype(np.int64) * self.nodes + self.head
        pos = np.searchsorted(self._cache["keys"], tails.astype(np.int64) * self.nodes + heads)
        return self.length_km[pos]


def build_graph(
    ways: Sequence[tuple[dict[str, str], Sequence[tuple[int, float, float]]]],
    truck_max_kmh: float = DEFAULT_TRUCK_MAX_KMH,
    source: str = "",
    sha256: str = "",
) -> RoadGraph:
    """The graph of `ways`: each (tags, [(osm node id, lat, lon), ...]); ways trucks may not use are dropped."""
    if not truck_max_kmh > 0:
        raise ValueError(f"truck_max_kmh must be positive, got {truck_max_kmh}")
    index: dict[int, int] = {}
    lat: list[float] = []
    lon: list[float] = []
    tails: list[int] = []
    heads: list[int] = []
    speeds: list[float] = []
    used = 0
    for tags, nodes in ways:
        if len(nodes) < 2 or not truck_may_use(tags):
            continue
        direction = way_direction(tags)
        if direction is None:
            continue
        used += 1
        speed = way_speed_kmh(tags, truck_max_kmh)
        ids = []
        for ref, la, lo in nodes:
            k = index.get(ref)
            if k is None:
                k = index[ref] = len(lat)
                lat.append(la)
                lon.append(lo)
            ids.append(k)
        for a, b in itertools.pairwise(ids):
            if a == b:
                continue
            if direction >= 0:
                tails.append(a)
                heads.append(b)
                speeds.append(speed)
            if direction <= 0:
                tails.append(b)
                heads.append(a)
                speeds.append(speed)
    node_ids = np.fromiter(index, dtype=np.int64, count=len(index))
    lat_a, lon_a = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    t = np.asarray(tails, dtype=np.int64)
    h = np.asarray(heads, dtype=np.int64)
    # A tiny floor keeps coincident nodes' edges as edges (csgraph drops explicit zeros) without moving a total.
    length = np.maximum(haversine_pairs_km(lat_a[t], lon_a[t], lat_a[h], lon_a[h]), 1e-9)
    time = length / np.asarray(speeds, dtype=np.float64) * 60.0
    order = np.lexsort((time, h, t))  # by tail, head, then fastest first
    t, h, length, time = t[order], h[order], length[order], time[order]
    first = np.ones(t.size, dtype=bool)
    first[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
    return RoadGraph(
        node_ids=node_ids,
        lat=lat_a,
        lon=lon_a,
        tail=t[first],
        head=h[first],
        length_km=length[first],
        time_min=time[first],
        source=source,
        sha256=sha256,
        truck_max_kmh=truck_max_kmh,
        ways=used,
    )


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_osm(path: str | Path, truck_max_kmh: float = DEFAULT_TRUCK_MAX_KMH) -> RoadGraph:
    """Read the drivable road graph of an OSM extract (.osm, .osm.gz, .osm.bz2, .osm.pbf) with pyosmium."""
    try:
        import osmium
    except ImportError as exc:  # pragma: no cover - the extra is installed in CI
        raise ImportError(
            "reading an OpenStreetMap extract needs the optional package 'osmium' (pip install 'evfleet[osm]')"
        ) from exc
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"OpenStreetMap extract {p} not found")
    ways: list[tuple[dict[str, str], list[tuple[int, float, float]]]] = []
    missing = 0
    processor = (
        osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for obj in processor:
        if not obj.is_way():
            continue
        tags = {t.k: t.v for t in obj.tags}
        if tags.get("highway") not in HIGHWAY_SPEED_KMH:
            continue
        nodes = []
        for n in obj.nodes:
            if n.location.valid():
                nodes.append((int(n.ref), float(n.location.lat), float(n.location.lon)))
            else:  # a node outside a clipped extract: the way is split there
                missing += 1
                if len(nodes) >= 2:
                    ways.append((tags, nodes))
                nodes = []
        ways.append((tags, nodes))
    return build_graph(ways, truck_max_kmh, source=str(p), sha256=file_sha256(p))


_GRAPHS: dict[tuple[str, int, int, float], RoadGraph] = {}


def load_graph(path: str | Path, truck_max_kmh: float = DEFAULT_TRUCK_MAX_KMH) -> RoadGraph:
    """`read_osm` cached per process by (path, size, mtime, cap): a nightly run reads a city extract once per
    worker, not once per depot."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns, truck_max_kmh)
    if key not in _GRAPHS:
        _GRAPHS.clear()  # one extract at a time: a city graph is large
        _GRAPHS[key] = read_osm(p, truck_max_kmh)
    return _GRAPHS[key]


@dataclass(frozen=True)
class Snap:
    """Where each point joined the graph: graph node index, OSM node id and straight-line distance [km]."""

    node: np.ndarray
    osm_id: np.ndarray
    distance_km: np.ndarray


@dataclass(frozen=True, eq=False)
class OsmGraphProvider:
    """MatrixProvider on a RoadGraph (module docstring): fastest-path distance [km] and time [min]."""

    graph: RoadGraph
    max_snap_km: float = DEFAULT_MAX_SNAP_KM
    largest_component_only: bool = True
    chunk: int = 32
    """Sources per Dijkstra call: bounds the (chunk x nodes) predecessor arrays held at once."""

    @classmethod
    def from_file(
        cls, path: str | Path, truck_max_kmh: float = DEFAULT_TRUCK_MAX_KMH, **kw: Any
    ) -> OsmGraphProvider:
        return cls(load_graph(path, truck_max_kmh), **kw)

    def snap(self, points: Sequence[tuple[float, float]]) -> Snap:
        """Nearest allowed graph node of every point (local equirectangular projection, exact enough at the
        scale of a city: the error is below 0.1 % within 50 km)."""
        g = self.graph
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        _as_coordinates(pts[:, 0], pts[:, 1])
        allowed = np.flatnonzero(
            g.main_component() if self.largest_component_only else np.ones(g.nodes, bool)
        )
        if allowed.size == 0:
            raise UnreachablePairsError(
                f"the road graph of {g.source or 'the extract'} has no drivable road", []
            )
        lat0 = math.radians(float(np.mean(g.lat[allowed])))

        def xy(la: np.ndarray, lo: np.ndarray) -> np.ndarray:
            return np.column_stack((np.radians(lo) * math.cos(lat0), np.radians(la))) * EARTH_RADIUS_KM

        tree = cKDTree(xy(g.lat[allowed], g.lon[allowed]))
        _, k = tree.query(xy(pts[:, 0], pts[:, 1]))
        node = allowed[np.asarray(k, dtype=np.int64)]
        dist = haversine_pairs_km(pts[:, 0], pts[:, 1], g.lat[node], g.lon[node])
        far = np.flatnonzero(dist > self.max_snap_km)
        if far.size:
            where = "the largest connected part of " if self.largest_component_only else ""
            listed = "; ".join(
                f"point {i} ({pts[i, 0]:.6f}, {pts[i, 1]:.6f}) is {dist[i]:.2f} km away" for i in far[:5]
            )
            raise UnreachablePairsError(
                f"{far.size} point(s) lie farther than max_snap_km={self.max_snap_km} from any road of "
                f"{where}{g.source or 'the OSM extract'}: {listed} (outside the extract, or wrong coordinates?)",
                [(int(i), int(i)) for i in far],
            )
        return Snap(node=node, osm_id=g.node_ids[node], distance_km=dist)

    def table(self, points: Sequence[tuple[float, float]]) -> TravelMatrices:
        g = self.graph
        snap = self.snap(points)
        unique, inverse = np.unique(snap.node, return_inverse=True)
        m = unique.size
        time_u = np.empty((m, m))
        dist_u = np.empty((m, m))
        csr = g.csr("time")
        for lo in range(0, m, self.chunk):
            sources = unique[lo : lo + self.chunk]
            times, pred = dijkstra(csr, directed=True, indices=sources, return_predecessors=True)
            for r, src in enumerate(sources):
                t = times[r, unique]
                time_u[lo + r] = t
                dist_u[lo + r] = self._path_lengths(pred[r], int(src), unique, np.isfinite(t))
        time = time_u[np.ix_(inverse, inverse)]
        dist = dist_u[np.ix_(inverse, inverse)]
        missing = np.argwhere(~np.isfinite(time))
        if missing.size:

            def name(i: int) -> str:
                return (
                    f"point {i} ({points[i][0]:.6f}, {points[i][1]:.6f}; OSM node {int(snap.osm_id[i])}, "
                    f"{snap.distance_km[i] * 1000:.0f} m away)"
                )

            raise UnreachablePairsError(
                unreachable_message(
                    f"the road graph of {g.source or 'the OSM extract'}",
                    missing,
                    "no directed path between the nodes they snapped to (one-way streets, or a part of the "
                    "extract cut off from the rest; largest_component_only=True snaps to the main part only)",
                    name,
                ),
                [tuple(p) for p in missing],
            )
        return TravelMatrices(distance_km=dist, duration_min=time)

    def _path_lengths(
        self, pred: np.ndarray, src: int, targets: np.ndarray, reached: np.ndarray
    ) -> np.ndarray:
        """Length [km] of the tree path src -> each target, walked back over predecessors (all targets at once)."""
        g = self.graph
        total = np.zeros(targets.size)
        cur = targets.copy()
        active = reached & (cur != src)
        while active.any():
            idx = np.flatnonzero(active)
            prev = pred[cur[idx]]
            total[idx] += g.edge_lengths(prev, cur[idx])
            cur[idx] = prev
            active[idx] = prev != src
        total[~reached] = math.inf
        return total

    def describe(self) -> dict[str, Any]:
        """What produced the matrices, for the stored plan: the extract, its checksum and the model's knobs."""
        g = self.graph
        return {
            "provider": "osm",
            "source": Path(g.source).name if g.source else "",
            "path": g.source,
            "sha256": g.sha256,
            "nodes": g.nodes,
            "edges": g.edges,
            "ways": g.ways,
            "truck_max_kmh": g.truck_max_kmh,
            "max_snap_km": self.max_snap_km,
            "largest_component_only": self.largest_component_only,
            "speed_model": "maxspeed:hgv | maxspeed | highway class default (routing.osm.HIGHWAY_SPEED_KMH)",
        }
