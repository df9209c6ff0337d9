"""`evfleet submission`: a year's report for one party, its vehicle-days claimed in the database, written as a
package in the same transaction.

Order of work: build the document; insert the claims (flushed: the unique constraint on (vehicle, day, scheme)
now holds them, and a concurrent build over the same days waits here and is then refused); write the package
into a staging directory; commit; move the files into place. If anything fails before the commit, nothing is
claimed and nothing appears in the output directory; a refused claim names the package that holds the days.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from sqlmodel import Session

from fleet.emissions import claims
from fleet.emissions.attribution import ClaimsLedger
from fleet.emissions.calc import parse_period
from fleet.emissions.profiles import Profile
from fleet.emissions.service import report_from_db
from fleet.scope import Scope
from fleet.submission.document import ProjectInfo, build_document, to_json_bytes
from fleet.submission.inputs import SubmissionInputs
from fleet.submission.package import PackageFiles, sha256, write_package


@dataclass(frozen=True)
class SubmissionResult:
    files: PackageFiles
    document: dict
    claimed_vehicle_days: int
    ledger: str
    imported_ledger: Path | None = None


def make_submission(
    session: Session,
    scope: Scope,
    party: str | None,
    year: int,
    profile: Profile,
    out_dir: Path,
    ledger_path: Path | None = None,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
    *,
    scheme: str = claims.DEFAULT_SCHEME,
    draft: bool = False,
    inputs: SubmissionInputs | None = None,
) -> SubmissionResult:
    """Build, claim (refusing double counting; nothing written then), write the package and commit.

    `ledger_path`: a legacy JSON claims ledger. When it exists its claims are imported into the table first
    (in the same transaction) and the file is renamed to `<name>.imported` after the commit. `draft=True`
    (the app) checks the claims table and the legacy file but records nothing and does not commit.
    """
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
        inputs=inputs,
        scheme=scheme,
    )
    stem = f"{report.party_id}-{year}-{profile.profile_id}"
    vehicle_days = [(r.vehicle_id, r.day) for r in report.ex_post]
    where = f"database table emissionclaim, scheme {scheme}"
    legacy = ledger_path if ledger_path is not None and ledger_path.exists() else None

    if draft:
        if legacy is not None:
            ClaimsLedger.load(legacy).claim(document["report_id"], report.party_id, vehicle_days)
        claims.check(session, scope, document["report_id"], vehicle_days, scheme)
        files = write_package(document, out_dir, stem, now=now)
        return SubmissionResult(files, document, 0, f"{where} (draft: nothing recorded)")

    if legacy is not None:
        claims.import_ledger(session, scope, legacy, scheme)
    package = f"{stem}.json sha256:{sha256(to_json_bytes(document))}"
    claimed = claims.claim(
        session, scope, document["report_id"], report.party_id, vehicle_days, scheme, package=package
    )
    staging = out_dir.parent / f".{out_dir.name}.{stem}.staging-{uuid.uuid4().hex[:8]}"
    try:
        staged = write_package(document, staging, stem, now=now)
        session.commit()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    out_dir.mkdir(parents=True, exist_ok=True)
    moved = {}
    for name in ("json", "schema", "xlsx", "pdf", "manifest"):
        source: Path = getattr(staged, name)
        target = out_dir / source.name
        source.replace(target)
        moved[name] = target
    shutil.rmtree(staging, ignore_errors=True)
    imported = None
    if legacy is not None:
        imported = legacy.with_name(legacy.name + ".imported")
        legacy.replace(imported)
    return SubmissionResult(replace(staged, **moved), document, claimed, where, imported)
