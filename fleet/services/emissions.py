"""Emissions page: ex-ante beside ex-post reductions per lessee and month, the factors and methodology used, the
month-to-date figure of the Overview, and the climate-finance submission package (a draft) as a zip."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlmodel import Session

from fleet.emissions.attribution import DoubleClaimError
from fleet.factors import FactorError
from fleet.i18n import N_, Column
from fleet.models import Lessee
from fleet.scope import ScopeError, list_rows, scope_for
from fleet.services.scope import in_scope

__all__ = [
    "DEFAULT_PROFILE",
    "LEDGER_ENV",
    "DoubleClaimError",
    "EmissionsView",
    "FactorError",
    "SubmissionPackage",
    "emission_parties",
    "emission_profiles",
    "emissions_avoided",
    "emissions_view",
    "submission_zip",
]

LEDGER_ENV = "EVFLEET_CLAIMS_LEDGER"  # the same ledger as `evfleet submission` (fleet/cli/emissions_cmd.py)
DEFAULT_PROFILE = "tcsae-235"  # the CLI's default profile


def emission_profiles() -> list[tuple[str, str]]:
    """(id, name) of the methodology profiles (`fleet.emissions.profiles.PROFILES`)."""
    from fleet.emissions.profiles import PROFILES

    return [(k, p.name) for k, p in PROFILES.items()]


def emission_parties(session: Session, lessee_code: str | None) -> list[str]:
    """The parties whose figures the scope may see: every lessee for the lessor, else the one lessee."""
    scope = in_scope(session, lessee_code)
    return [le.code for le in list_rows(session, scope, Lessee, order_by=Lessee.code)]


@dataclass(frozen=True)
class EmissionsView:
    """Per lessee and month, ex-ante beside ex-post [t CO2], with the factors and methodology used."""

    year: int
    profile_id: str
    months: pd.DataFrame  # lessee, month, ex-ante t, ex-post t, difference, baseline, project, km, kWh, days
    factors: pd.DataFrame  # name, value, unit, key, data year, source, confidence
    methodology: dict[str, Any]  # name, version, source, boundary, gases, grid basis, to confirm
    factor_source: str
    rows_checked: int
    rows_excluded: int
    withheld: str | None = (
        None  # the data gap, when the profile withholds its reduction (reductions are None)
    )
    parties: pd.DataFrame | None = None  # per lessee: ex-ante basis, run rate and monitored days, gap split
    from_sql: bool = False  # the lessor's view from SQL sums (fleet.emissions.monthly), not day by day
    screened_vehicle_months: int = 0  # of those, vehicle-months screened day by day (a row might be flagged)


def _report(
    session: Session, lessee_code: str, period: Any, profile: Any, as_of: dt.date | None = None
) -> Any:
    from fleet.emissions.service import report_from_db

    return report_from_db(
        session, scope_for(session, lessee_code=lessee_code), lessee_code, period, profile, as_of
    )


def emissions_view(
    session: Session,
    lessee_code: str | None,
    year: int,
    profile_id: str = DEFAULT_PROFILE,
    as_of: dt.date | None = None,
    day_by_day: bool = False,
) -> EmissionsView:
    """Per lessee and month over `year`: for one lessee, `fleet.emissions.service.report_from_db` (every
    vehicle-day screened and computed, as its submission package); for the lessor, the same figures from SQL sums
    (`fleet.emissions.monthly.lessor_table`: 200 lessees and 29 M vehicle-days, issue 24); `day_by_day` forces
    the per-day loop over the lessees (the reference the SQL figures are tested against)."""
    from fleet.emissions.calc import by_period, parse_period
    from fleet.emissions.profiles import get_profile

    profile = get_profile(profile_id)
    period = parse_period(str(year))
    if not day_by_day and (as_of is None or as_of >= period.end):
        return _lessor_view(session, year, profile, period, lessee_code)
    rows, factors, source, checked, excluded = [], None, "", 0, 0
    parties = [
        le.code for le in list_rows(session, in_scope(session, lessee_code), Lessee, order_by=Lessee.code)
    ]
    from fleet.emissions.calc import total
    from fleet.emissions.report import GAP_BEFORE_MONITORING, GAP_FUTURE, GAP_MISSING
    from fleet.submission.document import ANNUALISATION_METHOD, annualise, ante_label, claimed_leases

    withheld: str | None = None
    summaries = []
    for party in parties:
        db = _report(session, party, period, profile, as_of)
        report = db.report
        withheld = report.resolved.withheld or None
        w = report.resolved.reduction_withheld
        post, ante = by_period(report.ex_post, "month"), by_period(report.ex_ante, "month")
        if report.ex_post or report.ex_ante:
            run = (
                None
                if w
                else annualise(list(report.ex_post), claimed_leases(report, db.context.book), report)
            )
            summaries.append(
                {
                    "lessee": party,
                    "ex-post reduction [t]": None if w else total(report.ex_post).reduction_t,
                    "run rate [t/year]": run["annualised_tco2e"]
                    if run and run["monitored_lease_days"]
                    else None,
                    "monitored days": report.monitored_days,
                    "monitoring": (
                        f"{report.monitoring_start} to {report.checked_until}"
                        if report.monitoring_start
                        else "–"
                    ),
                    "run-rate lease-days (in year / monitored)": (
                        f"{run['lease_days_in_year']} / {run['monitored_lease_days']}" if run else "withheld"
                    ),
                    "ex-ante [t]": None if w else total(report.ex_ante).reduction_t,
                    "ex-ante basis": ante_label(list(report.ex_ante)),
                    "gap days before monitoring": report.gap_days(GAP_BEFORE_MONITORING),
                    "missing monitored days": report.gap_days(GAP_MISSING),
                    "future days": report.gap_days(GAP_FUTURE),
                }
            )
        for month in sorted(set(post) | set(ante)):
            p, a = post.get(month), ante.get(month)
            rows.append(
                {
                    "lessee": party,
                    "month": str(month),
                    "ex-ante reduction [t]": a.reduction_t if a and not w else None,
                    "ex-post reduction [t]": p.reduction_t if p and not w else None,
                    "ex-post − ex-ante [t]": (p.reduction_t - a.reduction_t) if (p and a and not w) else None,
                    "baseline [t]": p.baseline_t if p else None,
                    "project [t]": p.project_t if p and not w else None,
                    "km": p.km if p else None,
                    "grid kWh": p.grid_kwh if p else None,
                    "vehicle-days": p.vehicle_days if p else 0,
                }
            )
        checked += report.rows_checked
        excluded += report.rows_excluded
        if factors is None:
            factors = pd.DataFrame([p.as_dict() for p in report.resolved.parameters()])
            source = db.factor_source
    methodology = {
        "profile": profile.profile_id,
        "name": profile.name,
        "version": profile.version,
        "source": profile.source,
        "boundary": profile.boundary,
        "gases": profile.gases,
        "grid basis": profile.grid_basis,
        "to confirm": list(profile.to_confirm),
        "run rate method": ANNUALISATION_METHOD,
    }
    months = pd.DataFrame(rows, columns=MONTH_COLUMNS)
    numeric = MONTH_COLUMNS[2:]
    months[numeric] = months[numeric].apply(pd.to_numeric, errors="coerce")  # None -> NaN: shown as "–"
    return EmissionsView(
        year,
        profile.profile_id,
        months,
        factors if factors is not None else pd.DataFrame(),
        methodology,
        source,
        checked,
        excluded,
        withheld,
        pd.DataFrame(summaries),
    )


MONTH_COLUMNS = [
    "lessee",
    "month",
    "ex-ante reduction [t]",
    "ex-post reduction [t]",
    "ex-post − ex-ante [t]",
    "baseline [t]",
    "project [t]",
    "km",
    "grid kWh",
    "vehicle-days",
]


def _methodology(profile: Any) -> dict[str, Any]:
    from fleet.submission.document import ANNUALISATION_METHOD

    return {
        "profile": profile.profile_id,
        "name": profile.name,
        "version": profile.version,
        "source": profile.source,
        "boundary": profile.boundary,
        "gases": profile.gases,
        "grid basis": profile.grid_basis,
        "to confirm": list(profile.to_confirm),
        "run rate method": ANNUALISATION_METHOD,
    }


def _months_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    months = pd.DataFrame(rows, columns=MONTH_COLUMNS)
    numeric = MONTH_COLUMNS[2:]
    months[numeric] = months[numeric].apply(pd.to_numeric, errors="coerce")  # None -> NaN: shown as "–"
    return months


def _lessor_view(
    session: Session, year: int, profile: Any, period: Any, lessee_code: str | None = None
) -> EmissionsView:
    """The view from SQL sums (`fleet.emissions.monthly.lessor_table`) in the lessor's scope or one lessee's;
    same frames as the per-day loop over lessees (ex-ante from current plans on their vehicle-days, else the
    leases' expectation). The cached yearly table is the lessor's whole view: a lessee's is computed in its own
    scope (its vehicle-months only), never cut out of the lessor's."""
    from fleet.emissions.calc import Totals
    from fleet.emissions.monthly import cached_lessor_table, lessor_table
    from fleet.emissions.profiles import resolve_profile
    from fleet.emissions.service import registry_for
    from fleet.submission.document import _ante_label

    scope = in_scope(session, lessee_code)
    registry, source = registry_for(session, scope)
    resolved = resolve_profile(profile, registry, period.year)
    w = resolved.reduction_withheld
    if lessee_code is None:
        table, _cached = cached_lessor_table(session, scope, period, resolved)
    else:
        table = lessor_table(session, scope, period, resolved)
    rows, summaries = [], []
    for party in table.parties:
        post, ante = party.post, party.ante
        if post or ante:
            total_post = sum(t.reduction_t for _, t in sorted(post.items()))
            total_ante = sum(t.reduction_t for _, t in sorted(ante.items()))
            start = party.monitoring_start
            summaries.append(
                {
                    "lessee": party.lessee,
                    "ex-post reduction [t]": None if w else (total_post if post else 0.0),
                    "run rate [t/year]": None if w else party.run_rate_t,
                    "monitored days": max(0, (party.checked_until - start).days + 1) if start else 0,
                    "monitoring": f"{start} to {party.checked_until}" if start else "–",
                    "run-rate lease-days (in year / monitored)": (
                        "withheld" if w else f"{party.lease_days_in_year} / {party.monitored_lease_days}"
                    ),
                    "ex-ante [t]": None if w else (total_ante if ante else 0.0),
                    "ex-ante basis": _ante_label(
                        {
                            "route_plan_days": party.plan_days,
                            "lease_expectation_days": party.ante_days,
                            "other_days": 0,
                        }
                    ),
                    "gap days before monitoring": party.gap_before,
                    "missing monitored days": party.gap_missing,
                    "future days": party.gap_future,
                }
            )
        for month in sorted(set(post) | set(ante)):
            p: Totals | None = post.get(month)
            a: Totals | None = ante.get(month)
            rows.append(
                {
                    "lessee": party.lessee,
                    "month": month,
                    "ex-ante reduction [t]": a.reduction_t if a and not w else None,
                    "ex-post reduction [t]": p.reduction_t if p and not w else None,
                    "ex-post − ex-ante [t]": (p.reduction_t - a.reduction_t) if (p and a and not w) else None,
                    "baseline [t]": p.baseline_t if p else None,
                    "project [t]": p.project_t if p and not w else None,
                    "km": p.km if p else None,
                    "grid kWh": p.grid_kwh if p else None,
                    "vehicle-days": p.vehicle_days if p else 0,
                }
            )
    factors = pd.DataFrame([p.as_dict() for p in resolved.parameters()]) if table.parties else pd.DataFrame()
    return EmissionsView(
        year,
        profile.profile_id,
        _months_frame(rows),
        factors,
        _methodology(profile),
        source,
        table.rows_checked,
        table.rows_excluded,
        resolved.withheld or None,
        pd.DataFrame(summaries),
        from_sql=True,
        screened_vehicle_months=table.screened_vehicle_months,
    )


# Display labels (msgids; English as the columns are named) for the page's tables; the page's Styler rounds (t to
# 0.001, km and kWh to 1) so the shown frame keeps the exact values the tests compare with the service.
MONTH_DISPLAY: dict[str, Column] = {
    "lessee": Column(N_("lessee")),
    "month": Column(N_("month")),
    "ex-ante reduction [t]": Column(N_("ex-ante reduction [t]")),
    "ex-post reduction [t]": Column(N_("ex-post reduction [t]")),
    "ex-post − ex-ante [t]": Column(N_("ex-post − ex-ante [t]")),
    "baseline [t]": Column(N_("baseline [t]")),
    "project [t]": Column(N_("project [t]")),
    "km": Column(N_("km")),
    "grid kWh": Column(N_("grid kWh")),
    "vehicle-days": Column(N_("vehicle-days")),
}
PARTY_DISPLAY: dict[str, Column] = {
    "lessee": Column(N_("lessee")),
    "ex-post reduction [t]": Column(N_("ex-post reduction [t]")),
    "run rate [t/year]": Column(N_("run rate [t/year]")),
    "monitored days": Column(N_("monitored days")),
    "monitoring": Column(N_("monitoring")),
    "run-rate lease-days (in year / monitored)": Column(N_("run-rate lease-days (in year / monitored)")),
    "ex-ante [t]": Column(N_("ex-ante [t]")),
    "ex-ante basis": Column(N_("ex-ante basis")),
    "gap days before monitoring": Column(N_("gap days before monitoring")),
    "missing monitored days": Column(N_("missing monitored days")),
    "future days": Column(N_("future days")),
}
FACTOR_DISPLAY: dict[str, Column] = {
    "key": Column(N_("key")),
    "value": Column(N_("value")),
    "unit": Column(N_("unit")),
    "source": Column(N_("source")),
    "confidence": Column(N_("confidence")),
}


def emissions_avoided(
    session: Session,
    lessee_code: str | None,
    today: dt.date,
    profile_id: str = DEFAULT_PROFILE,
) -> tuple[float, str] | None:
    """Ex-post reduction [t CO2] of the scope's trucks in the reference date's month up to that date, whoever
    claims it (Overview); None without any metered vehicle-day. Returns (tonnes, period label).

    From SQL sums (`fleet.emissions.monthly.ex_post_by_month`: the scope's own view, every accepted vehicle-day
    of its leases): what the month's per-day report (`report_from_db`) gives, without reading up to 80,000 x 31
    vehicle-days into Python (issue 24)."""
    from fleet.emissions.calc import parse_period
    from fleet.emissions.monthly import ex_post_by_month
    from fleet.emissions.profiles import get_profile, resolve_profile
    from fleet.emissions.service import registry_for

    period = parse_period(f"{today:%Y-%m}")
    scope = in_scope(session, lessee_code)
    if not _metered_between(session, scope, period.start, min(period.end, today)):
        return None  # no vehicle-day to report: skip reading the whole scope's leases and plans (issue 24)
    registry, _ = registry_for(session, scope)
    resolved = resolve_profile(get_profile(profile_id), registry, period.year)
    figures = ex_post_by_month(session, scope, period, resolved, last=min(period.end, today))
    if not figures.totals or figures.last_day is None:
        return None
    tonnes = sum(t.reduction_t for _, t in sorted(figures.totals.items()))
    return tonnes, f"{period.start:%Y-%m-%d} to {figures.last_day:%Y-%m-%d}"


def _metered_between(session: Session, scope: Any, first: dt.date, last: dt.date) -> bool:
    """Whether the scope has any metered vehicle-day in [first, last]: one indexed EXISTS query."""
    from sqlalchemy import exists

    from fleet.models import VehicleDay
    from fleet.scope import select_rows

    query = select_rows(scope, VehicleDay, VehicleDay.day >= first, VehicleDay.day <= last)
    return bool(session.scalar(exists(query).select()))


@dataclass(frozen=True)
class SubmissionPackage:
    filename: str
    data: bytes  # a zip of the package directory
    report_id: str
    ex_post_t: float
    files: tuple[str, ...]


def submission_zip(
    session: Session,
    lessee_code: str | None,
    party: str,
    year: int,
    profile_id: str = DEFAULT_PROFILE,
    ledger_path: Path | None = None,
) -> SubmissionPackage:
    """The climate-finance package (`fleet.submission.run.make_submission`: JSON, schema, XLSX, PDF, SHA-256
    manifest) zipped for download.

    A draft: it is checked against a copy of the claims ledger (vehicle-days claimed by another report are refused
    exactly as in `evfleet submission`), but the app never writes the ledger; filing, which records the claims,
    stays with the CLI.
    """
    import io
    import shutil
    import zipfile

    from fleet.emissions.profiles import get_profile
    from fleet.submission.run import make_submission

    ledger = ledger_path or Path(os.environ.get(LEDGER_ENV, "evfleet-claims.json"))
    with tempfile.TemporaryDirectory(prefix="evfleet-submission-") as tmp:
        tmp_ledger = Path(tmp) / "ledger.json"
        if ledger.exists():
            shutil.copyfile(ledger, tmp_ledger)
        out = Path(tmp) / "package"
        scope = in_scope(session, lessee_code)
        if lessee_code is not None and party != lessee_code:
            raise ScopeError(f"lessee {lessee_code} cannot build a submission for {party!r}")
        party_scope = scope if lessee_code else scope_for(session, lessee_code=party)
        result = make_submission(
            session, party_scope, party, year, get_profile(profile_id), out, tmp_ledger, draft=True
        )
        buffer = io.BytesIO()
        names = []
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(out.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(out).as_posix())
                    names.append(path.relative_to(out).as_posix())
    doc = result.document
    stem = f"{party}-{year}-{profile_id}"
    return SubmissionPackage(
        f"submission-{stem}.zip",
        buffer.getvalue(),
        str(doc["report_id"]),
        float(doc["results"]["ex_post"]["reduction_tco2e"] or 0.0),
        tuple(names),
    )
