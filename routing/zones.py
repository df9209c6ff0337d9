"""Access zones: point in polygon and the barred periods of a vehicle type at a location, pure maths.

Semantics in the ``routing.problem`` docstring ('Access zones'); ``routing.check`` re-implements them. A barred
period is half-open ``[start, end)`` in minutes of the day; problem minute ``t`` is at time of day
``(clock0 + t) mod 1440`` (``routing.traveltime.clock_origin``). Only the stop is restricted, at its service
start: arcs crossing a zone are not (no road geometry is modelled).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from routing.problem import DAY_MINUTES, Location, RoutingProblem, VehicleType

BOUNDARY_EPS = 1e-9
"""A point this close to an edge (in the polygon's units) is on the boundary, hence inside."""


def point_in_polygon(px: float, py: float, polygon: Sequence[tuple[float, float]]) -> bool:
    """Even-odd ray casting; a point on an edge or a vertex counts as inside."""
    n = len(polygon)
    inside = False
    for k in range(n):
        x1, y1 = polygon[k]
        x2, y2 = polygon[(k + 1) % n]
        # On the segment?
        cross = (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)
        seg = math.hypot(x2 - x1, y2 - y1)
        if (
            abs(cross) <= BOUNDARY_EPS * max(seg, 1.0)
            and min(x1, x2) - BOUNDARY_EPS <= px <= max(x1, x2) + BOUNDARY_EPS
            and min(y1, y2) - BOUNDARY_EPS <= py <= max(y1, y2) + BOUNDARY_EPS
        ):
            return True
        if (y1 > py) != (y2 > py):
            x_cross = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            if px < x_cross:
                inside = not inside
    return inside


def location_point(loc: Location) -> tuple[float, float] | None:
    """(x, y) planar or (lon, lat) geographic; None without coordinates."""
    if loc.x is not None and loc.y is not None:
        return loc.x, loc.y
    if loc.lat is not None and loc.lon is not None:
        return loc.lon, loc.lat
    return None


def merge(periods: list[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Union of ``[start, end)`` periods, sorted and disjoint (touching periods joined)."""
    out: list[list[float]] = []
    for a, b in sorted(periods):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def barred_periods(
    problem: RoutingProblem, vt: VehicleType, location_id: str
) -> tuple[tuple[float, float], ...]:
    """Merged barred periods [min of the day] of vehicles of type ``vt`` serving a stop at ``location_id``."""
    if not problem.zones:
        return ()
    pt = location_point(problem.locations[problem.index_of(location_id)])
    if pt is None:
        return ()
    periods: list[tuple[float, float]] = []
    for zone in problem.zones:
        rules = [r for r in zone.rules if r.applies_to(vt)]
        if not rules or not point_in_polygon(pt[0], pt[1], zone.polygon):
            continue
        for r in rules:
            periods += [(w.start, w.end) for w in r.barred] if r.barred else [(0.0, DAY_MINUTES)]
    return merge(periods)


def all_day(barred: tuple[tuple[float, float], ...]) -> bool:
    return bool(barred) and barred[0][0] <= 0.0 and barred[0][1] >= DAY_MINUTES


def earliest_open(t: float, barred: tuple[tuple[float, float], ...], clock0: float) -> float:
    """Earliest time >= ``t`` [min] outside every barred period; ``inf`` if barred all day."""
    if not barred:
        return t
    if all_day(barred):
        return math.inf
    day = math.floor((clock0 + t) / DAY_MINUTES) * DAY_MINUTES
    clock = clock0 + t - day  # time of day, kept exact at period ends
    moved = False
    for _ in range(2 * len(barred) + 2):
        hit = next(((a, b) for a, b in barred if a <= clock < b), None)
        if hit is None:
            return day + clock - clock0 if moved else t
        clock, moved = hit[1], True
        if clock >= DAY_MINUTES:
            day, clock = day + DAY_MINUTES, 0.0
    return math.inf  # pragma: no cover (merged periods: at most one wrap past midnight)


def barred_in(
    lo: float, hi: float, barred: tuple[tuple[float, float], ...], clock0: float
) -> list[tuple[float, float]]:
    """The barred periods as problem times ``[a, b)`` [min] meeting ``[lo, hi]`` (for the OR-Tools model)."""
    out: list[tuple[float, float]] = []
    if not barred or hi < lo:
        return out
    first = math.floor((clock0 + lo) / DAY_MINUTES) - 1
    last = math.floor((clock0 + hi) / DAY_MINUTES) + 1
    for day in range(first, last + 1):
        base = day * DAY_MINUTES - clock0
        for a, b in barred:
            if base + b > lo and base + a <= hi:
                out.append((base + a, base + b))
    return out


class Access:
    """Barred periods per (vehicle type id, location index), computed once per problem (zoned stops only)."""

    def __init__(self, problem: RoutingProblem, clock0: float):
        self.clock0 = clock0
        self.table: dict[tuple[str, str], tuple[tuple[float, float], ...]] = {}
        self.zoned_jobs: set[str] = set()
        if not problem.zones:
            return
        for job in problem.jobs:
            for vt in problem.vehicle_types:
                b = barred_periods(problem, vt, job.location)
                if b:
                    self.table[(vt.id, job.location)] = b
                    self.zoned_jobs.add(job.id)

    def barred(self, vt: VehicleType, location_id: str) -> tuple[tuple[float, float], ...]:
        return self.table.get((vt.id, location_id), ())

    def open_at(self, vt: VehicleType, location_id: str, t: float) -> float:
        """Earliest time >= ``t`` at which ``vt`` may start serving at ``location_id`` [min]."""
        return earliest_open(t, self.barred(vt, location_id), self.clock0)
