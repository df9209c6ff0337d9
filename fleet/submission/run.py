"""`evfleet submission`: a year's report for one party, claimed in the ledger, written as a package."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from fleet.emissions.attribution import ClaimsLedger
from fleet.emissions.calc import parse_period
from fleet.emissions.profiles import Profile
from fleet.emissions.service import report_from_db
from fleet.scope import Scope
from fleet.submission.document import ProjectInfo, build_document
from fleet.submission.package import PackageFiles, write_package


@dataclass(frozen=True)
class SubmissionResult:
    files: PackageFiles
    document: dict
    claimed_vehicle_days: int
    ledger: Path


def make_submission(
    session: Session,
    scope: Scope,
    party: str | None,
    year: int,
    profile: Profile,
    out_dir: Path,
    ledger_path: Path,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
) -> SubmissionResult:
    """Build, claim (refusing double counting, nothing written then), and write the package."""
    db = report_from_db(session, scope, party, parse_period(str(year)), profile, as_of)
    report, book = db.report, db.context.book
    party_name = book.party(report.party_id).name
    lessor_name = book.party(db.context.lessor_code).name
    project = ProjectInfo(
        name=f"{party_name}: battery-electric logistics trucks leased from {lessor_name}"
        if report.party_id != db.context.lessor_code
        else f"{lessor_name}: leased battery-electric logistics trucks",
        location=book.party(report.party_id).location or "Shenzhen",
        description=(
            f"{party_name} operates battery-electric trucks leased from {lessor_name} in Shenzhen in place "
            "of diesel trucks. The reductions are computed per vehicle-day from metered distance and "
            "electricity, against the diesel model each lease replaced."
        ),
    )
    document = build_document(
        report,
        book,
        project,
        db.registry,
        factor_source=db.factor_source,
        lease_problems=[p.as_dict() for p in db.context.lease_problems],
        as_of=as_of,
    )
    ledger = ClaimsLedger.load(ledger_path)
    claimed = ledger.claim(
        document["report_id"], report.party_id, [(r.vehicle_id, r.day) for r in report.ex_post]
    )
    stem = f"{report.party_id}-{year}-{profile.profile_id}"
    files = write_package(document, out_dir, stem, now=now)
    ledger.save(ledger_path)
    return SubmissionResult(files, document, claimed, ledger_path)
