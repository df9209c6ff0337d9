"""Access zones in the OR-Tools model (``routing.model``): barred service-start periods on the time cumul.

The time cumul of a job node is its service start [``S = routing.model.TIME_SCALE`` units per min]. A barred
period ``[a, b)`` of a vehicle type (``routing.zones``, problem minutes) removes the integer starts
``floor(a*S) .. floor(b*S)`` (at most one unit more than exact on each side, never less):
- when every vehicle that may serve the node has the same barred periods, straight from the cumul's domain
  (``RemoveInterval``, seen by the routing filters);
- otherwise per period a conditional constraint ``vehicle in barred set => cumul < a or cumul >= b``
  (``IsMemberVar`` and reified bounds; side constraints, checked by propagation only, so slower moves).
Vehicle types barred all day, or at every instant of the job's windows within their shift, are screened out
before (``routing.solve.diagnose`` -> ``allowed_types`` -> the node's allowed vehicles).

Sound with the conservative time-dependent transit (``routing.evaluate.Geometry``): the exact service start is
the earliest open instant at or after the exact arrival, which is no later than the model's (open) start.
"""

from __future__ import annotations

import math
from typing import Any

from routing.evaluate import Geometry
from routing.zones import barred_in


def _barred_units(a: float, b: float, scale: int) -> tuple[int, int]:
    """Integer starts to bar for ``[a, b)`` [min]: from ``floor(a*S)`` to ``floor(b*S)``, one unit wider than
    exact on each side at most (conservative: every start left open is open in floating point)."""
    return math.floor(a * scale), math.floor(b * scale)


def restrict_zoned_stops(
    routing: Any,
    manager: Any,
    time: Any,
    nodes: list,
    geo: Geometry,
    vehicles: list,
    horizon: int,
    scale: int,
) -> int:
    """Add the barred periods of zoned job nodes after the allowed vehicles are set; ``scale`` is the model's
    time units per minute. Returns the number of conditional constraints added."""
    acc = geo.access
    if acc is None or not acc.table:
        return 0
    solver = routing.solver()
    added = 0
    hi_min = horizon / scale
    for i, nd in enumerate(nodes):
        job = nd.job
        if job is None or job.id not in acc.zoned_jobs:
            continue
        idx = manager.NodeToIndex(i)
        var = time.CumulVar(idx)
        if not routing.ActiveVar(idx).Max():
            continue
        allowed = [v for v in range(len(vehicles)) if routing.VehicleVar(idx).Contains(v)]
        if not allowed:
            continue
        lo = var.Min() / scale
        hi = min(var.Max() / scale, hi_min)
        by_vehicle = {v: acc.barred(vehicles[v][1], job.location) for v in allowed}
        groups: dict[tuple, list[int]] = {}
        for v, b in by_vehicle.items():
            groups.setdefault(b, []).append(v)
        if len(groups) == 1:
            (barred,) = groups
            for a, b in barred_in(lo, hi, barred, acc.clock0):
                var.RemoveInterval(*_barred_units(a, b, scale))
            continue
        for barred, members in groups.items():
            if not barred:
                continue
            member = solver.IsMemberVar(routing.VehicleVar(idx), members)
            for a, b in barred_in(lo, hi, barred, acc.clock0):
                a_i, b_i = _barred_units(a, b, scale)
                before = solver.IsLessOrEqualCstVar(var, a_i - 1)
                after = solver.IsGreaterOrEqualCstVar(var, b_i + 1)
                solver.Add(member <= before + after)
                added += 1
    return added
