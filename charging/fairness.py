"""Who gets charged when not every truck can be: the shortfall policies (issue 18 item 7).

Two policies, chosen per problem (`ChargingProblem.shortfall_policy`):

- ``"min_largest_share"`` (the default): the largest shortfall share (kWh short ÷ need) is minimised before cost,
  so the shortage is spread instead of leaving whole trucks empty while others are topped up.
- ``"max_ready"``: first the number of trucks that get the whole energy for their first route is maximised, then
  the rest is shared by cost. A depot that must get as many routes out as possible wants this one: a truck 20 %
  short may not finish its route, while a full one does.

`max_ready` works in two steps. A small mixed-integer model on the depot's energy capacity picks the largest set
of trucks that can all be made ready (`ready_set`); the charging LP then prices a kWh short on a chosen truck far
above one on any other truck (`shortfall_weights`), so the chosen trucks are served first and the others get what
is left. The capacity model relaxes the connector assignment (connector time is shared fractionally, as in the
sharing relaxation of `charging.optimize`), so its count is an upper bound; the schedule reports how many trucks
really are ready, and each short truck keeps its kWh and reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from charging.accounting import SlotData
from charging.lp import SparseLP
from charging.problem import ChargingProblem

POLICIES = ("min_largest_share", "max_ready")
# A kWh short on a truck chosen to be ready costs this many times one on a truck that was not chosen. The trade is
# linear (a kWh moved from a chosen truck to another raises the penalty by (weight - 1) x penalty, more than any
# price or efficiency difference gains), so 10 is enough and keeps the LP's coefficients within 1e5 of each other.
READY_WEIGHT = 10.0


@dataclass(frozen=True)
class ReadySet:
    """The trucks the capacity model can make ready together, and what that count rests on."""

    ready: frozenset[str]  # vehicle ids
    needy: int  # trucks with a need > 0
    status: str  # optimal | feasible (time limit) | all (every truck fits: no model was needed)
    bound: float | None = None  # proven upper bound on the count (MIP), when below `needy`


def ready_set(problem: ChargingProblem, data: SlotData, *, time_limit_s: float = 10.0) -> ReadySet:
    """The largest set of trucks whose whole need fits the depot's energy capacity together.

    Capacity per 15-minute slot: the site's import cap less the base load plus PV [kW], and the connectors' count
    (a truck on a connector of `kw` holds `power / kw` of one). Each truck charges only between its arrival and
    departure, at most min(its own, the fastest connector's) power and into the room left in its battery.
    """
    n = problem.n_slots
    dt = data.dt
    vehicles = [v for v in problem.vehicles if v.need_kwh > 1e-6]
    ids = frozenset(v.id for v in vehicles)
    if not vehicles or not problem.connectors:
        return ReadySet(frozenset() if not problem.connectors else ids, len(vehicles), "all")
    fastest = max(problem.connectors, key=lambda c: c.max_kw)
    eff = max(c.efficiency for c in problem.connectors)
    site_room = np.maximum(0.0, data.import_cap - data.base + data.pv)

    def build(integer: bool) -> tuple[SparseLP, np.ndarray]:
        lp = SparseLP()
        ready = lp.add_vars(len(vehicles), 0.0, 1.0, -1.0, integer=integer)
        site = lp.add_rows(n, ub=site_room)
        count = lp.add_rows(n, ub=float(len(problem.connectors)))
        for i, v in enumerate(vehicles):
            a, b = problem.usable_range(v)
            if b <= a:
                lp.add_coef(lp.add_rows(1, ub=0.0), ready[i], 1.0)  # never at a connector: cannot be ready
                continue
            kw = min(v.max_kw, fastest.max_kw)
            p = lp.add_vars(b - a, 0.0, kw, 0.0)
            slots = np.arange(a, b)
            lp.add_coef(site[slots], p, 1.0)
            lp.add_coef(count[slots], p, 1.0 / kw)
            energy = lp.add_rows(1, lb=0.0)  # eff x dt x sum p - need x ready >= 0
            lp.add_coef(energy, p, eff * dt)
            lp.add_coef(energy, ready[i], -v.need_kwh)
            room = lp.add_rows(1, ub=max(0.0, v.capacity_kwh - v.energy_arrival_kwh))
            lp.add_coef(room, p, eff * dt)
        return lp, ready

    # Every truck at once? One LP with ready fixed to 1 answers it cheaply.
    lp, ready = build(integer=False)
    relaxed = lp.solve("glop", time_limit_s, duals=False)
    if relaxed.status == "optimal" and float(np.sum(relaxed.x[ready])) >= len(vehicles) - 1e-6:
        return ReadySet(ids, len(vehicles), "all")
    lp, ready = build(integer=True)
    result = lp.solve("highs", time_limit_s, duals=False)
    if result.status not in ("optimal", "feasible"):
        # No incumbent in the time: fall back to the sharing policy's answer (nobody preferred).
        return ReadySet(frozenset(), len(vehicles), result.status)
    chosen = frozenset(v.id for v, r in zip(vehicles, result.x[ready]) if r > 0.5)
    bound = None if result.best_bound is None else -float(result.best_bound)
    return ReadySet(chosen, len(vehicles), result.status, bound)


def shortfall_weights(problem: ChargingProblem, chosen: ReadySet) -> dict[str, float]:
    """Per-vehicle multipliers of the shortfall penalty: `READY_WEIGHT` on chosen trucks, 1 on the others."""
    return {v.id: (READY_WEIGHT if v.id in chosen.ready else 1.0) for v in problem.vehicles}
