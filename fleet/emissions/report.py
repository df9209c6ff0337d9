"""One party's emissions report for one period: ex-post beside ex-ante, data quality, gaps and attribution."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from fleet.emissions.attribution import day_runs
from fleet.emissions.calc import EX_ANTE, EX_POST, DayResult, Period, compute_day
from fleet.emissions.profiles import Profile, ResolvedProfile, resolve_profile
from fleet.emissions.quality import QualityThresholds, RowFlag, ScreenResult, screen_rows
from fleet.emissions.records import LeaseBook, VehicleDay
from fleet.factors import FactorRegistry

GAP_BEFORE_MONITORING = "before_monitoring"
GAP_MISSING = "missing_monitored"
GAP_FUTURE = "future"
GAP_KINDS = {
    GAP_BEFORE_MONITORING: "lease days before monitoring began (no meter data exists for them)",
    GAP_MISSING: "monitored lease days without an accepted metered record",
    GAP_FUTURE: "lease days after the date the data are checked until (not yet happened)",
}


@dataclass(frozen=True)
class Gap:
    """A run of lease days in the period with no accepted metered record for a vehicle, and which kind of gap.

    `kind`: before monitoring began (the party's first metered record in the period), a missing monitored day,
    or a future day (after `as_of`). Monitoring begins on the party's first accepted metered record. Future runs are kept apart (`EmissionsReport.future`), not in `gaps`.
    """

    vehicle_id: str
    first_day: date
    last_day: date
    days: int
    kind: str = GAP_MISSING

    def as_dict(self) -> dict[str, object]:
        return {
            "vehicle_id": self.vehicle_id,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "days": self.days,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class EmissionsReport:
    """Figures for `party_id` (lessee or lessor) over `period` under one profile.

    `ex_post` holds the metered vehicle-days this party claims; `attributed_elsewhere` the party's own
    vehicle-days claimed by the other party of the lease (shown, never counted here); `ex_ante` the planned
    vehicle-days this party would claim. `flags` lists every metered row excluded and why.
    """

    party_id: str
    period: Period
    profile: Profile
    resolved: ResolvedProfile
    ex_post: tuple[DayResult, ...]
    ex_ante: tuple[DayResult, ...]
    attributed_elsewhere: tuple[DayResult, ...]
    flags: tuple[RowFlag, ...]
    plan_flags: tuple[RowFlag, ...]
    rows_checked: int
    rows_excluded: int
    gaps: tuple[Gap, ...]
    future: tuple[Gap, ...] = ()
    monitoring_start: date | None = None
    checked_until: date | None = None

    def gap_days(self, kind: str) -> int:
        runs = self.future if kind == GAP_FUTURE else self.gaps
        return sum(g.days for g in runs if g.kind == kind)

    @property
    def monitored_days(self) -> int:
        """Calendar days from monitoring start to the check date (0 when nothing was metered)."""
        if self.monitoring_start is None or self.checked_until is None:
            return 0
        return max(0, (self.checked_until - self.monitoring_start).days + 1)

    @property
    def negative_days(self) -> tuple[DayResult, ...]:
        return tuple(r for r in self.ex_post if r.reduction_t < 0)


def _relevant(
    rows: Iterable[VehicleDay], period: Period, party_id: str, vehicles: set[str]
) -> list[VehicleDay]:
    return [
        r for r in rows if period.contains(r.day) and (r.vehicle_id in vehicles or r.lessee_id == party_id)
    ]


def _results(screen: ScreenResult, resolved: ResolvedProfile, kind: str) -> list[DayResult]:
    return [compute_day(a.row, a.lease, resolved, kind) for a in screen.accepted]


def build_report(
    party_id: str,
    period: Period,
    metered: Iterable[VehicleDay],
    planned: Iterable[VehicleDay],
    book: LeaseBook,
    profile: Profile,
    registry: FactorRegistry,
    thresholds: QualityThresholds = QualityThresholds(),
    as_of: date | None = None,
    extra_flags: Iterable[RowFlag] = (),
) -> EmissionsReport:
    """Screen, compute and split by claimant. `as_of` stops gap detection at that day (default: period end).

    `extra_flags` are data problems found outside the vehicle-day rows (e.g. charging without a trip); those of
    this party's vehicles in the period are listed with the others.
    """
    resolved = resolve_profile(profile, registry, period.year)
    leases = [
        lease
        for lease in book.leases_of(party_id)
        if lease.start <= period.end and (lease.end is None or lease.end >= period.start)
    ]
    vehicles = {lease.vehicle_id for lease in leases}
    require_diesel = profile.baseline_method == "fuel"

    screen = screen_rows(_relevant(metered, period, party_id, vehicles), book, thresholds, require_diesel)
    plan_screen = screen_rows(
        _relevant(planned, period, party_id, vehicles), book, thresholds, require_diesel
    )
    mine = lambda r: party_id in (r.lessee_id, r.lessor_id)  # noqa: E731
    post = [r for r in _results(screen, resolved, EX_POST) if mine(r)]
    ante = [r for r in _results(plan_screen, resolved, EX_ANTE) if mine(r) and r.claimant_id == party_id]

    covered = {(a.row.vehicle_id, a.row.day) for a in screen.accepted}
    stop = min(period.end, as_of) if as_of else period.end
    metered_days = [
        day for _, day in covered if day <= stop
    ]  # monitoring began with the first accepted record
    monitoring_start = min(metered_days) if metered_days else None
    gaps: list[Gap] = []
    future: list[Gap] = []
    for lease in leases:
        days = [d for d in period.days() if lease.covers(d) and (lease.vehicle_id, d) not in covered]
        for kind, chosen in (
            (
                GAP_BEFORE_MONITORING,
                [d for d in days if d <= stop and (not monitoring_start or d < monitoring_start)],
            ),
            (GAP_MISSING, [d for d in days if monitoring_start and monitoring_start <= d <= stop]),
            (GAP_FUTURE, [d for d in days if d > stop]),
        ):
            runs = [Gap(lease.vehicle_id, f, last, n, kind) for f, last, n in day_runs(chosen)]
            (future if kind == GAP_FUTURE else gaps).extend(runs)
    gaps.sort(key=lambda g: (g.vehicle_id, g.first_day))
    future.sort(key=lambda g: (g.vehicle_id, g.first_day))

    return EmissionsReport(
        party_id=party_id,
        period=period,
        profile=profile,
        resolved=resolved,
        ex_post=tuple(
            sorted((r for r in post if r.claimant_id == party_id), key=lambda r: (r.vehicle_id, r.day))
        ),
        ex_ante=tuple(sorted(ante, key=lambda r: (r.vehicle_id, r.day))),
        attributed_elsewhere=tuple(
            sorted((r for r in post if r.claimant_id != party_id), key=lambda r: (r.vehicle_id, r.day))
        ),
        flags=screen.flags
        + tuple(f for f in extra_flags if f.vehicle_id in vehicles and period.contains(f.day)),
        plan_flags=plan_screen.flags,
        rows_checked=screen.rows_checked,
        rows_excluded=screen.rows_excluded,
        gaps=tuple(gaps),
        future=tuple(future),
        monitoring_start=monitoring_start,
        checked_until=stop,
    )
