"""Each lease's own avoided emissions per km, from its metered vehicle-days: what a carbon scenario earns per km.

The lease economics price carbon per km driven; the reference truck's figure is a default, a lease's own metered
figure is the better basis wherever it has metered days (issue 19 item 11).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel import Session

from fleet.emissions.calc import parse_period
from fleet.emissions.profiles import get_profile
from fleet.emissions.service import report_from_db
from fleet.scope import Scope

__all__ = ["PER_LEASE_PROFILE", "avoided_kg_per_km"]

# T/CSAE 235 (China's methodology for battery-electric road freight) gives a reduction on every metered day; the
# GLEC well-to-wheel profile withholds it without a sourced WTW grid factor, and AMS-III.C's conservative grid
# default leaves none (docs/emissions.md).
PER_LEASE_PROFILE = "tcsae-235"


def avoided_kg_per_km(
    session: Session, scope: Scope, as_of: dt.date, profile_id: str = PER_LEASE_PROFILE
) -> dict[str, float]:
    """{lease code: kgCO2 avoided per km} over the lease's metered days of `as_of`'s year up to `as_of`.

    Whoever claims the reduction, the physical figure per km is the lease's own: days attributed to another
    claimant count too. Leases without metered km are left out (the caller keeps its default for them).
    """
    period = parse_period(str(as_of.year))
    db = report_from_db(session, scope, None, period, get_profile(profile_id), as_of=as_of)
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for day in (*db.report.ex_post, *db.report.attributed_elsewhere):
        if day.reduction_t is None:
            continue
        sums[day.lease_id][0] += day.reduction_t * 1000.0
        sums[day.lease_id][1] += day.km
    return {lease: kg / km for lease, (kg, km) in sums.items() if km > 0}
