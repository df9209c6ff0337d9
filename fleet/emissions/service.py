"""Build a party's emissions report from the database: the one function the CLI, the app and jobs call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from fleet.emissions.calc import Period
from fleet.emissions.profiles import Profile
from fleet.emissions.report import EmissionsReport, build_report
from fleet.emissions.sources import (
    DbContext,
    read_context,
    read_metered_with_flags,
    read_planned,
    registry_from_table,
)
from fleet.factors import FactorRegistry, VintageRule, load_registry
from fleet.scope import Scope

GRID_SERIES_PREFIX = "grid.cn.mee."


@dataclass(frozen=True)
class DbReport:
    report: EmissionsReport
    context: DbContext
    registry: FactorRegistry
    factor_source: str


def resolve_party(scope: Scope, ctx: DbContext, lessee_code: str | None) -> str:
    """The party the report is for: the scoped lessee, else the lessor."""
    if lessee_code:
        return lessee_code
    return ctx.lessor_code


def configured_profile(profile: Profile, grid: str | None = None, vintage_lag: int | None = None) -> Profile:
    """Apply command-line options (grid series such as 'southern', vintage lag) to a preset profile."""
    changes: dict[str, object] = {}
    if grid:
        series = grid if grid.startswith("grid.") else GRID_SERIES_PREFIX + grid
        changes.update(grid_series=series, grid_key=None, grid_basis=f"{series} chosen on the command line")
    if vintage_lag is not None:
        changes["vintage"] = VintageRule(lag_years=vintage_lag, fallback=profile.vintage.fallback)
    return profile.with_options(**changes) if changes else profile


def registry_for(session: Session, scope: Scope) -> tuple[FactorRegistry, str]:
    """The factor table when loaded, else the shipped CSV (and say which)."""
    stored = registry_from_table(session, scope)
    if len(stored):
        return stored, f"database table emissionfactor ({len(stored)} factors)"
    return (
        load_registry(),
        "data/reference/emission-factors.csv (factor table empty: run `evfleet factors load`)",
    )


def report_from_db(
    session: Session,
    scope: Scope,
    party: str | None,
    period: Period,
    profile: Profile,
    as_of: dt.date | None = None,
) -> DbReport:
    registry, source = registry_for(session, scope)
    ctx = read_context(session, scope)
    party_id = resolve_party(scope, ctx, party)
    metered, flags = read_metered_with_flags(session, scope, ctx, period)
    # Telematics days that disagree with the plan or the charger meters are flagged beside the others.
    from fleet.telematics.reconcile import reconcile, reconciliation_flags

    flags = [*flags, *reconciliation_flags(reconcile(session, scope, period))]
    planned = read_planned(session, scope, ctx, period)
    report = build_report(
        party_id, period, metered, planned, ctx.book, profile, registry, as_of=as_of, extra_flags=flags
    )
    return DbReport(report, ctx, registry, source)
