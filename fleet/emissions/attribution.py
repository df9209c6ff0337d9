"""Attribution: every vehicle-day's reduction belongs to one claimant, and no vehicle-day is claimed twice.

The atom is the vehicle-day, so a monthly and an annual claim over the same days collide as they should
(data/reference/METHODOLOGY.md §3: one claimant per vehicle-period; SSC_784 double counting). The ledger is a JSON file
because the database schema has no claims table yet.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path


@dataclass(frozen=True)
class Conflict:
    """A run of vehicle-days that one report wants and another report already holds."""

    vehicle_id: str
    first_day: date
    last_day: date
    days: int
    held_by_report: str
    held_by_claimant: str

    def describe(self) -> str:
        span = self.first_day.isoformat() if self.days == 1 else f"{self.first_day} to {self.last_day}"
        return (
            f"vehicle {self.vehicle_id}: {self.days} day(s) {span} already claimed by "
            f"{self.held_by_claimant} in report {self.held_by_report}"
        )


class DoubleClaimError(ValueError):
    """Raised when a report would count a vehicle-day that another report already counts."""

    def __init__(self, report_id: str, conflicts: list[Conflict]) -> None:
        self.report_id = report_id
        self.conflicts = conflicts
        holders = sorted({f"{c.held_by_claimant} in report {c.held_by_report}" for c in conflicts})
        days = sum(c.days for c in conflicts)
        vehicles = len({c.vehicle_id for c in conflicts})
        shown = "; ".join(c.describe() for c in conflicts[:5])
        more = f" (and {len(conflicts) - 5} more runs)" if len(conflicts) > 5 else ""
        super().__init__(
            f"report {report_id} refused, double counting: {days} vehicle-day(s) of {vehicles} "
            f"vehicle(s) are already claimed by {', '.join(holders)}. {shown}{more}"
        )


def day_runs(days: list[date]) -> list[tuple[date, date, int]]:
    """Consecutive runs of days as (first, last, count), sorted."""
    runs: list[tuple[date, date, int]] = []
    for day in sorted(days):
        if runs and day == runs[-1][1] + timedelta(days=1):
            first, _, n = runs[-1]
            runs[-1] = (first, day, n + 1)
        else:
            runs.append((day, day, 1))
    return runs


class ClaimsLedger:
    """Vehicle-day -> (report id, claimant). Re-claiming by the same report replaces that report's claims."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, date], tuple[str, str]] = {}

    def claim(self, report_id: str, claimant_id: str, vehicle_days: Iterable[tuple[str, date]]) -> int:
        """Record the claims of a report or refuse all of them, naming every conflicting vehicle-day run."""
        wanted = sorted(set(vehicle_days))
        clashes: dict[tuple[str, str, str], list[date]] = defaultdict(list)
        for vehicle_id, day in wanted:
            holder = self._held.get((vehicle_id, day))
            if holder is not None and holder[0] != report_id:
                clashes[(vehicle_id, holder[0], holder[1])].append(day)
        if clashes:
            conflicts = [
                Conflict(vehicle_id, first, last, n, report, claimant)
                for (vehicle_id, report, claimant), days in sorted(clashes.items())
                for first, last, n in day_runs(days)
            ]
            raise DoubleClaimError(report_id, conflicts)
        self.release(report_id)
        for vehicle_day in wanted:
            self._held[vehicle_day] = (report_id, claimant_id)
        return len(wanted)

    def release(self, report_id: str) -> None:
        for vehicle_day in [vd for vd, (rid, _) in self._held.items() if rid == report_id]:
            del self._held[vehicle_day]

    def reports(self) -> dict[str, tuple[str, int]]:
        """Report id -> (claimant, vehicle-days held), sorted by report id."""
        counts: dict[str, list] = {}
        for report_id, claimant_id in self._held.values():
            entry = counts.setdefault(report_id, [claimant_id, 0])
            entry[1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(counts.items())}

    def holder(self, vehicle_id: str, day: date) -> tuple[str, str] | None:
        return self._held.get((vehicle_id, day))

    def __len__(self) -> int:
        return len(self._held)

    # --------------------------------------------------------------------------------------------- persistence
    def to_json(self) -> str:
        """Runs of days per vehicle and report, sorted: compact and stable."""
        grouped: dict[tuple[str, str, str], list[date]] = defaultdict(list)
        for (vehicle_id, day), (report_id, claimant_id) in self._held.items():
            grouped[(report_id, claimant_id, vehicle_id)].append(day)
        claims = [
            {
                "report_id": rid,
                "claimant_id": cid,
                "vehicle_id": vid,
                "first_day": f.isoformat(),
                "last_day": last.isoformat(),
            }
            for (rid, cid, vid), days in sorted(grouped.items())
            for f, last, _ in day_runs(days)
        ]
        return json.dumps({"ledger_version": 1, "claims": claims}, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ClaimsLedger:
        ledger = cls()
        for n, item in enumerate(json.loads(text).get("claims", [])):
            try:
                first, last = date.fromisoformat(item["first_day"]), date.fromisoformat(item["last_day"])
                for k in range((last - first).days + 1):
                    ledger._held[(item["vehicle_id"], first + timedelta(days=k))] = (
                        item["report_id"],
                        item["claimant_id"],
                    )
            except (KeyError, ValueError) as error:
                raise ValueError(f"claims ledger entry {n}: {error}") from None
        return ledger

    @classmethod
    def load(cls, path: Path) -> ClaimsLedger:
        return cls.from_json(path.read_text(encoding="utf-8")) if path.exists() else cls()

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
