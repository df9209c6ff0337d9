"""Ex-ante emissions avoided by one night's plans, per depot, for the nightly summary.

Uses the emissions module's own ex-ante path (`fleet.emissions.service.report_from_db`) so the nightly figure is
the same number a report for that day would show; only vehicle-days that come from a stored route plan count
(idle trucks' planning expectations are left out).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from fleet.db import get_engine, session_scope
from fleet.emissions.calc import parse_period
from fleet.emissions.profiles import get_profile
from fleet.emissions.service import report_from_db
from fleet.emissions.sources import read_context
from fleet.scope import scope_for

DEFAULT_PROFILE = "tcsae-235"  # T/CSAE 235-2021, the Chinese EV trip-reduction standard (data/reference/METHODOLOGY.md §2.4)


def planned_avoided_by_depot(
    db_url: str, service_date: dt.date, profile_id: str = DEFAULT_PROFILE, lessor_code: str | None = None
) -> dict[str, float]:
    """tCO2 avoided [t] by the current route plans of `service_date`, summed over every claimant, per depot code."""
    profile = get_profile(profile_id)
    period = parse_period(service_date.isoformat())
    totals: dict[str, float] = defaultdict(float)
    with session_scope(get_engine(db_url)) as session:
        scope = scope_for(session, lessor_code=lessor_code)
        ctx = read_context(session, scope)
        parties = sorted({lease.claimant_id for lease in ctx.book.leases})
        for party in parties:
            report = report_from_db(session, scope, party, period, profile).report
            for r in report.ex_ante:
                if r.row_ref.startswith("routeplan#") and r.claimant_id == party:
                    totals[r.depot_id] += r.reduction_t
    return dict(totals)
