"""The nightly with the VPP reduce step: one Dask task per depot plans its night (fleet.nightly, the map), then the
flexibility of every depot that succeeded is summed per grid zone (the reduce).

The reduce reads the plans the map stored, so a worker that dies mid-run costs its own depot only: the depot is
reported missing from the offer and every other depot's flexibility is there (the nightly already records the dead
worker's depot as failed and finishes the batch).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from fleet.db import get_engine, session_scope
from fleet.nightly import NightlyConfig, NightlySummary, run_nightly, upkeep_emissions
from fleet.scope import scope_for
from fleet.vpp.flex import depot_table, zone_summary, zone_table
from fleet.vpp.nights import load_nights


@dataclass(frozen=True)
class NightlyFlex:
    summary: NightlySummary
    depots: pd.DataFrame  # per depot and slot
    zones: pd.DataFrame  # per zone and slot: the reduce
    offer: pd.DataFrame  # per zone: best slot
    missing: tuple[str, ...]  # depots whose night failed: not in the offer


def reduce_flex(config: NightlyConfig, summary: NightlySummary) -> NightlyFlex:
    """Flexibility per zone from the depots this run planned (and, on resume, those it skipped as done)."""
    done = {o.depot_code for o in summary.outcomes if o.status == "succeeded"} | set(summary.skipped)
    with session_scope(get_engine(config.db_url)) as session:
        scope = scope_for(session, lessor_code=config.lessor_code)
        nights = [n for n in load_nights(session, scope, config.service_date) if n.depot_code in done]
    depots = depot_table(nights)
    zones = zone_table(depots)
    missing = tuple(sorted(o.depot_code for o in summary.outcomes if o.status != "succeeded"))
    return NightlyFlex(summary, depots, zones, zone_summary(zones), missing)


def nightly_with_flex(config: NightlyConfig) -> NightlyFlex:
    """Map (plan every depot, one task each) then reduce (flexibility per zone)."""
    result = reduce_flex(config, run_nightly(config, upkeep=False))
    # After the per-depot tasks and the reduce: the day's metered days into the lessor's emissions summary.
    return replace(result, summary=replace(result.summary, emissions_upkeep=upkeep_emissions(config.db_url)))


__all__ = ["NightlyFlex", "nightly_with_flex", "reduce_flex"]
