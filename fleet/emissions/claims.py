"""The claims ledger in the database: one claimant per (vehicle, day, scheme), refused a second time.

It replaces the JSON file of `fleet/emissions/attribution.py`, which lived in the working directory: from another
directory the same vehicle-days could be claimed again. The table's unique constraint is the guarantee; the
look-up before the insert only makes the refusal name the package that holds the days. Under two concurrent
builds the second insert waits for the first transaction and fails with an IntegrityError, which is turned into
the same refusal. Legacy ledger files are imported with `import_ledger` (`evfleet claims import FILE`, and
automatically by `evfleet submission --ledger FILE`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from fleet.emissions.attribution import ClaimsLedger, Conflict, DoubleClaimError, day_runs
from fleet.models import EmissionClaim, Lessee, Vehicle, utcnow
from fleet.scope import Scope

DEFAULT_SCHEME = "climate-finance-submission"
"""Scheme of `evfleet submission` packages (Shenzhen climate-finance library / lender reporting)."""


@dataclass(frozen=True)
class ClaimSummary:
    report_id: str
    scheme: str
    claimant: str
    package: str
    vehicle_days: int


def _vehicle_ids(session: Session, scope: Scope, plates: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(plates))
    if not wanted:
        return {}
    query = select(Vehicle.plate, Vehicle.id).where(
        Vehicle.lessor_id == scope.lessor_id, Vehicle.plate.in_(wanted)
    )
    found = dict(session.exec(query).all())
    missing = [p for p in wanted if p not in found]
    if missing:
        raise ValueError(f"claims for unknown vehicle(s): {', '.join(missing[:5])}")
    return found


def holders(
    session: Session, vehicle_days: list[tuple[int, dt.date]], scheme: str
) -> dict[tuple[int, dt.date], tuple[str, str]]:
    """(vehicle id, day) -> (report id, claimant) for the given vehicle-days already claimed under `scheme`."""
    if not vehicle_days:
        return {}
    ids = sorted({v for v, _ in vehicle_days})
    first, last = min(d for _, d in vehicle_days), max(d for _, d in vehicle_days)
    wanted = set(vehicle_days)
    rows = session.exec(
        select(
            EmissionClaim.vehicle_id, EmissionClaim.day, EmissionClaim.report_id, EmissionClaim.claimant_code
        )
        .where(
            EmissionClaim.scheme == scheme,
            EmissionClaim.vehicle_id.in_(ids),
            EmissionClaim.day >= first,
            EmissionClaim.day <= last,
        )
        .execution_options(populate_existing=True)
    ).all()
    return {(v, d): (r, c) for v, d, r, c in rows if (v, d) in wanted}


def _conflicts(
    held: dict[tuple[int, dt.date], tuple[str, str]], plates: dict[int, str], report_id: str
) -> list[Conflict]:
    clashes: dict[tuple[str, str, str], list[dt.date]] = defaultdict(list)
    for (vehicle_id, day), (holder, claimant) in held.items():
        if holder != report_id:
            clashes[(plates[vehicle_id], holder, claimant)].append(day)
    return [
        Conflict(plate, first, last, n, holder, claimant)
        for (plate, holder, claimant), days in sorted(clashes.items())
        for first, last, n in day_runs(days)
    ]


def claim(
    session: Session,
    scope: Scope,
    report_id: str,
    claimant_code: str,
    vehicle_days: Iterable[tuple[str, dt.date]],
    scheme: str = DEFAULT_SCHEME,
    package: str = "",
) -> int:
    """Record a report's vehicle-days (plates and days) or refuse all of them, naming the report holding any.

    The rows are flushed, not committed: the caller commits them with the package. Re-claiming by the same
    report replaces its earlier claims under the scheme.
    """
    wanted = sorted(set(vehicle_days))
    ids = _vehicle_ids(session, scope, (p for p, _ in wanted))
    plates = {v: p for p, v in ids.items()}
    keyed = [(ids[p], d) for p, d in wanted]
    conflicts = _conflicts(holders(session, keyed, scheme), plates, report_id)
    if conflicts:
        raise DoubleClaimError(report_id, conflicts)
    lessee_id = session.exec(select(Lessee.id).where(Lessee.code == claimant_code)).first()
    now = utcnow()
    # PostgreSQL aborts the transaction on a unique violation, so the insert runs in a savepoint there. pysqlite
    # would commit on RELEASE SAVEPOINT (its legacy transaction handling), so SQLite gets none: a failed
    # statement leaves its transaction usable.
    nested = session.begin_nested() if session.get_bind().dialect.name != "sqlite" else nullcontext()
    try:
        with nested:
            session.execute(
                sa.delete(EmissionClaim).where(
                    EmissionClaim.report_id == report_id, EmissionClaim.scheme == scheme
                )
            )
            if keyed:
                session.execute(
                    sa.insert(EmissionClaim),
                    [
                        {
                            "lessor_id": scope.lessor_id,
                            "lessee_id": lessee_id,
                            "vehicle_id": v,
                            "day": d,
                            "scheme": scheme,
                            "report_id": report_id,
                            "claimant_code": claimant_code,
                            "package": package,
                            "claimed_at": now,
                        }
                        for v, d in keyed
                    ],
                )
    except sa.exc.IntegrityError:
        # another build committed the same vehicle-days meanwhile: name it
        conflicts = _conflicts(holders(session, keyed, scheme), plates, report_id)
        raise DoubleClaimError(
            report_id,
            conflicts
            or [
                Conflict(plates[keyed[0][0]], keyed[0][1], keyed[-1][1], len(keyed), "(concurrent build)", "")
            ],
        ) from None
    return len(keyed)


def _visible(scope: Scope):
    query = select(EmissionClaim).where(EmissionClaim.lessor_id == scope.lessor_id)
    if not scope.is_lessor:
        query = query.where(EmissionClaim.lessee_id == scope.lessee_id)
    return query


def list_claims(session: Session, scope: Scope) -> list[ClaimSummary]:
    """Each report with its scheme, claimant, package and the vehicle-days it holds, sorted by report id."""
    counts: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for row in session.exec(_visible(scope)).all():
        counts[(row.report_id, row.scheme, row.claimant_code, row.package)] += 1
    return [ClaimSummary(r, s, c, p, n) for (r, s, c, p), n in sorted(counts.items())]


def release(session: Session, scope: Scope, report_id: str) -> int:
    """Withdraw a report's claims (e.g. a package that was never filed); returns the vehicle-days released."""
    rows = session.exec(_visible(scope).where(EmissionClaim.report_id == report_id)).all()
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


@dataclass(frozen=True)
class LedgerImport:
    reports: int
    imported: int
    already_held: int


def import_ledger(session: Session, scope: Scope, path: Path, scheme: str = DEFAULT_SCHEME) -> LedgerImport:
    """Move a legacy JSON claims ledger into the table: every report's vehicle-days, refused as a whole if any
    vehicle-day is held by another report. Idempotent (a report's own rows are replaced by the same rows)."""
    ledger = ClaimsLedger.load(path)
    per_report: dict[tuple[str, str], list[tuple[str, dt.date]]] = defaultdict(list)
    for (plate, day), (report_id, claimant) in ledger._held.items():
        per_report[(report_id, claimant)].append((plate, day))
    imported = already = 0
    for (report_id, claimant), days in sorted(per_report.items()):
        ids = _vehicle_ids(session, scope, (p for p, _ in days))
        held = holders(session, [(ids[p], d) for p, d in days], scheme)
        already += sum(1 for h in held.values() if h[0] == report_id)
        imported += claim(session, scope, report_id, claimant, days, scheme, package=f"imported from {path}")
    return LedgerImport(len(per_report), imported - already, already)


def check(
    session: Session, scope: Scope, report_id: str, vehicle_days: Iterable[tuple[str, dt.date]], scheme: str
) -> None:
    """Refuse (DoubleClaimError) if another report holds any of the vehicle-days; records nothing."""
    wanted = sorted(set(vehicle_days))
    ids = _vehicle_ids(session, scope, (p for p, _ in wanted))
    plates = {v: p for p, v in ids.items()}
    conflicts = _conflicts(holders(session, [(ids[p], d) for p, d in wanted], scheme), plates, report_id)
    if conflicts:
        raise DoubleClaimError(report_id, conflicts)
