"""Ex-ante of the vehicle-days with a current route plan, for the lessor's table from SQL sums (issue 24).

The per-day path (`fleet.emissions.sources.read_planned`) takes a current route plan's figures on the vehicle-days
that have one and the lease's expectation on the others; `fleet.emissions.monthly.ex_ante_by_month` counts the
expectation on the lease days without a plan day and adds what is computed here. Per lessee in its own scope (the
lessor's table is made of each lessee's report): the lessor's current plans in the period are read once (four
queries, `fleet.emissions.plans.read_plan_rows`), split by the lessee they are recorded for, turned into plan days by
the per-day path's own function (`plan_days`), screened (`screen_rows`) and computed (`compute_day`) as there. No
`vehicleday` row is read; the plan days are at most one per routed vehicle and depot-day plan.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from fleet.emissions.calc import EX_ANTE, DayResult, Period, compute_day
from fleet.emissions.plans import plan_days, plan_records, read_plan_rows
from fleet.emissions.profiles import ResolvedProfile
from fleet.emissions.quality import QualityThresholds, screen_rows
from fleet.emissions.records import Lease, LeaseBook
from fleet.models import Vehicle
from fleet.scope import Scope


@dataclass
class PlanAnte:
    """Per lessee id: the days each vehicle has a plan record (sorted; the lease's expectation is not counted on
    them, accepted or not, as in `read_planned`), the accepted plan days the lessee claims, and their vehicle ids."""

    replaced: dict[int, dict[int, list[dt.date]]] = field(default_factory=dict)
    results: dict[int, list[DayResult]] = field(default_factory=dict)
    claimed_vehicles: dict[int, set[int]] = field(default_factory=dict)

    def replaced_between(self, lessee_id: int, vehicle_id: int, first: dt.date, last: dt.date) -> int:
        """How many of the vehicle's plan days (in that lessee's scope) lie in [first, last]."""
        days = self.replaced.get(lessee_id, {}).get(vehicle_id)
        return bisect_right(days, last) - bisect_left(days, first) if days else 0


def _lease(row: Any, plate: str, lessee_code: str, claimant: str) -> Lease:
    """The lease book entry `fleet.emissions.sources.read_context` makes of a lease, from a `_valid_leases` row (the
    fields screening and `compute_day` read; the lessor's code is not needed: only lessee-claimed days are kept)."""
    return Lease(
        lease_id=row.code,
        vehicle_id=plate,
        lessee_id=lessee_code,
        lessor_id="",
        start=row.start_date,
        end=row.end_date,
        baseline_model="",
        baseline_l_per_100km=row.l_per_100km,
        claimant=claimant,
        battery_kwh=row.battery_kwh,
        charging_efficiency=row.efficiency,
    )


def plan_ante(
    session: Session,
    scope: Scope,
    period: Period,
    resolved: ResolvedProfile,
    leases: Iterable[Any],
    lessee_codes: Mapping[int, str],
    limits: QualityThresholds = QualityThresholds(),
) -> PlanAnte:
    """The plan days of every lessee in the scope (see the module docstring). `leases`: the per-lessee valid leases
    overlapping the period (`fleet.emissions.monthly.lease_rows`, in code order, as the lease book is): a plan day of
    a vehicle without one of them could only be flagged (no lease covers it)."""
    from fleet.emissions.monthly import _owned, _role

    out = PlanAnte()
    rows = read_plan_rows(session, scope, period)
    lessees = sorted({int(p.lessee_id) for p in rows.route_plans if p.lessee_id is not None})
    if not lessees:
        return out
    v = Vehicle.__table__
    vehicles = session.connection().execute(
        sa.select(v.c.id, v.c.plate, v.c.lessee_id).where(_owned(v, scope), v.c.lessee_id.in_(lessees))
    )
    plate_ids: dict[int, dict[str, int]] = defaultdict(dict)  # each lessee's own vehicles
    plates: dict[int, str] = {}
    for vid, plate, lessee_id in vehicles:
        plate_ids[int(lessee_id)][plate] = int(vid)
        plates[int(vid)] = plate
    mine: dict[int, list[Any]] = defaultdict(list)
    for r in leases:
        mine[int(r.lessee_id)].append(r)
    require_diesel = resolved.profile.baseline_method == "fuel"
    for lessee_id in lessees:
        own = mine.get(lessee_id, [])
        days = plan_days(rows.of_lessee(lessee_id), plate_ids[lessee_id], {int(r.vehicle_id) for r in own})
        if not days:
            continue
        replaced: dict[int, list[dt.date]] = defaultdict(list)
        for vehicle_id, day in sorted(days):
            replaced[vehicle_id].append(day)
        out.replaced[lessee_id] = dict(replaced)
        code = lessee_codes.get(lessee_id, f"lessee#{lessee_id}")
        book = LeaseBook(
            tuple(
                _lease(r, plates[int(r.vehicle_id)], code, _role(r.emissions_claimant))
                for r in own
                if int(r.vehicle_id) in replaced
            )
        )
        screen = screen_rows(plan_records(days, plates, {}, book), book, limits, require_diesel)
        results = [
            compute_day(a.row, a.lease, resolved, EX_ANTE)
            for a in screen.accepted
            if a.lease.claimant == "lessee"
        ]
        if results:
            out.results[lessee_id] = results
            ids = {plate: vid for vid, plate in plates.items()}
            out.claimed_vehicles[lessee_id] = {ids[r.vehicle_id] for r in results}
    return out
