"""A synthetic lessor's night for the VPP benchmark and tests: depots from `charging.synthetic_depot`, planned.

Set-up choices (synthetic, not sourced facts): a quarter of each depot's connectors are V2G; half the leases
consent to V2G (drawn with the seed); a flat site base load (warehouse, offices) of `base_load_kw`; no export
(`export_limit_kw` 0: V2G offsets the site's own load); depots spread round-robin over `zones` grid zones and
`lessees` lessees, each lease giving the lessee 50 % of event revenue (the DEFAULT_LESSEE_SHARE assumption).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np

from charging.dispatch import DepotNight
from charging.optimize import schedule
from charging.synthetic import synthetic_depot
from fleet.vpp.nights import DEFAULT_LESSEE_SHARE, V2G_FLOOR_SOC, LeaseTerms, ZonedNight, event_problem


def synthetic_nights(
    n_depots: int,
    trucks_per_depot: int = 80,
    *,
    seed: int = 0,
    v2g_connector_share: float = 0.25,
    consent_share: float = 0.5,
    base_load_kw: float = 150.0,
    zones: int = 4,
    lessees: int = 20,
    time_limit_s: float = 10.0,
    lessee_share: Decimal = DEFAULT_LESSEE_SHARE,
) -> list[ZonedNight]:
    """`n_depots` planned depot nights (the optimiser's cost plans), V2G consent per lease applied."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_depots):
        base = synthetic_depot(trucks_per_depot, seed=seed * 10_007 + i)
        n_v2g = int(round(v2g_connector_share * len(base.connectors)))
        connectors = tuple(replace(c, v2g=k < n_v2g) for k, c in enumerate(base.connectors))
        limit = base.site.import_limit_kw + base_load_kw
        site = replace(base.site, import_limit_kw=limit, base_load_kw=(base_load_kw,) * base.n_slots)
        # One connector per truck in the synthetic depot: the k-th truck is on the k-th connector.
        vehicles = tuple(replace(v, connector=connectors[k].id) for k, v in enumerate(base.vehicles))
        problem = replace(base, connectors=connectors, site=site, vehicles=vehicles, name=f"SYN-{i + 1:04d}")
        plan = schedule(problem, time_limit_s=time_limit_s, seed=seed, baselines=False)
        consent = {v.id: bool(rng.random() < consent_share) for v in problem.vehicles}
        depot = f"SYN-{i + 1:04d}"
        leases = {
            v.id: LeaseTerms(
                f"L-{depot}-{k:03d}", f"LE-{(i + k) % lessees + 1:03d}", consent[v.id], lessee_share
            )
            for k, v in enumerate(problem.vehicles)
        }
        night = DepotNight(depot, event_problem(problem, consent, V2G_FLOOR_SOC), plan)
        out.append(ZonedNight(depot, f"zone-{i % zones + 1}", night, leases))
    return out


__all__ = ["synthetic_nights"]
