"""Flexibility of the lessor's depots per 15-minute slot, per depot and summed per grid zone.

Per depot the bounds are `charging.flexibility.depot_flex` (one-slot deviations from tonight's plan, every truck
still ready); a zone's figure is the sum over its depots per slot start (depots' horizons differ: slots are matched
on their start time). The sum of per-slot bounds is what the zone can offer in any one slot; over several slots the
event dispatch (charging.dispatch) gives what is deliverable.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from charging.flexibility import depot_flex
from fleet.vpp.nights import ZonedNight

DEPOT_COLUMNS = [
    "zone",
    "depot",
    "slot_start",
    "planned_kw",
    "shed_kw",
    "add_kw",
    "v2g_kw",
    "trucks",
    "v2g_trucks",
]


def depot_table(nights: Sequence[ZonedNight]) -> pd.DataFrame:
    """One row per depot and slot [kW]."""
    frames = []
    for z in nights:
        f = depot_flex(z.night.problem, z.night.plan)
        v2g_trucks = sum(1 for v in z.night.problem.vehicles if v.v2g)
        frames.append(
            pd.DataFrame(
                {
                    "zone": z.zone,
                    "depot": z.depot_code,
                    "slot_start": pd.to_datetime(list(f.slot_starts)),
                    "planned_kw": f.planned_kw,
                    "shed_kw": f.shed_kw,
                    "add_kw": f.add_kw,
                    "v2g_kw": f.v2g_kw,
                    "trucks": len(z.night.problem.vehicles),
                    "v2g_trucks": v2g_trucks,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=DEPOT_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def zone_table(depots: pd.DataFrame) -> pd.DataFrame:
    """Per zone and slot start: depots counted and the kW summed."""
    if depots.empty:
        return pd.DataFrame(
            columns=["zone", "slot_start", "depots", "planned_kw", "shed_kw", "add_kw", "v2g_kw"]
        )
    return (
        depots.groupby(["zone", "slot_start"], as_index=False)
        .agg(
            depots=("depot", "nunique"),
            planned_kw=("planned_kw", "sum"),
            shed_kw=("shed_kw", "sum"),
            add_kw=("add_kw", "sum"),
            v2g_kw=("v2g_kw", "sum"),
        )
        .sort_values(["zone", "slot_start"], ignore_index=True)
    )


def zone_summary(zones: pd.DataFrame) -> pd.DataFrame:
    """Per zone: the largest shed and add in any slot [kW] and when, against the 5 MW VPP floor."""
    if zones.empty:
        return pd.DataFrame(columns=["zone", "max_shed_kw", "at", "max_add_kw", "max_v2g_kw"])
    rows = []
    for zone, g in zones.groupby("zone"):
        i = g["shed_kw"].idxmax()
        rows.append(
            {
                "zone": zone,
                "max_shed_kw": float(g.loc[i, "shed_kw"]),
                "at": g.loc[i, "slot_start"],
                "max_add_kw": float(g["add_kw"].max()),
                "max_v2g_kw": float(g["v2g_kw"].max()),
            }
        )
    return pd.DataFrame(rows)


VPP_FLOOR_KW = 5000.0
"""Guangdong market DR: a VPP offers >= 5 MW for >= 1 h (data/reference/GRID-PROGRAMMES.md, pipbest.cn/?p=1420)."""

__all__ = ["VPP_FLOOR_KW", "depot_table", "zone_summary", "zone_table"]
