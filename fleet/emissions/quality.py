"""Data-quality checks on metered vehicle-days: every bad row is flagged with a reason and kept out of ex-post.

A verifier must see what was dropped and why, so the checks never repair a row: they flag it, and
`screen_rows` returns the accepted rows (each with the lease that covers it) and the flags separately.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from fleet.emissions.records import Lease, LeaseBook, VehicleDay

FLAG_CODES = {
    "negative_km": "distance is negative",
    "negative_energy": "an energy reading is negative",
    "missing_energy": "no energy reading (neither charger nor vehicle-side kWh)",
    "no_charging_efficiency": "vehicle-side kWh only, and the lease has no charging efficiency",
    "energy_above_battery": "daily kWh far above the battery capacity",
    "km_implausible": "daily distance above the plausibility limit",
    "not_on_lease": "vehicle not on a lease that day",
    "lessee_mismatch": "the record's lessee is not the lessee of the lease that day",
    "duplicate_day": "more than one record for the same vehicle and day",
    "negative_tonne_km": "tonne-km is negative",
    "negative_diesel": "diesel litres are negative",
    "missing_diesel_record": "the fuel-based baseline was chosen and the row has no diesel litres",
    "charging_without_trip": "charging sessions on a day without a trip record (no distance, no baseline)",
    # Telematics reconciliation (fleet/telematics/reconcile.py): listed, not excluded.
    "km_vs_plan": "odometer km disagree with the planned km",
    "kwh_vs_charger": "vehicle kWh disagree with the charger meters",
}


@dataclass(frozen=True)
class QualityThresholds:
    """Plausibility limits. These are evfleet screening assumptions, not sourced values.

    max_battery_multiple [-]: a day's vehicle-side kWh (or charger kWh × charging efficiency, or charger kWh
    when no efficiency is known) above this multiple of the battery is flagged; 2.0 allows one full recharge
    on top of a full pack per day. max_km_per_day [km]: above it the odometer/GPS reading is suspect.
    """

    max_battery_multiple: float = 2.0
    max_km_per_day: float = 1000.0


@dataclass(frozen=True)
class RowFlag:
    """Why one input row is excluded from the ex-post figures."""

    row_ref: str
    vehicle_id: str
    day: date
    code: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "row_ref": self.row_ref,
            "vehicle_id": self.vehicle_id,
            "day": self.day.isoformat(),
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True)
class AcceptedRow:
    row: VehicleDay
    lease: Lease


@dataclass(frozen=True)
class ScreenResult:
    accepted: tuple[AcceptedRow, ...]
    flags: tuple[RowFlag, ...]
    rows_checked: int

    @property
    def rows_excluded(self) -> int:
        return len({(f.row_ref, f.vehicle_id, f.day) for f in self.flags})


def _row_flags(
    row: VehicleDay, lease: Lease | None, limits: QualityThresholds, require_diesel: bool = False
) -> list[tuple[str, str]]:
    """(code, detail) for every problem of a single row, independent of other rows."""
    found: list[tuple[str, str]] = []
    if require_diesel and row.diesel_litres is None:
        found.append(("missing_diesel_record", "diesel_litres is empty"))
    if row.km < 0:
        found.append(("negative_km", f"km = {row.km}"))
    elif row.km > limits.max_km_per_day:
        found.append(("km_implausible", f"km = {row.km} > {limits.max_km_per_day}"))
    for name in ("kwh_charger", "kwh_vehicle"):
        value = getattr(row, name)
        if value is not None and value < 0:
            found.append(("negative_energy", f"{name} = {value}"))
    if row.tonne_km is not None and row.tonne_km < 0:
        found.append(("negative_tonne_km", f"tonne_km = {row.tonne_km}"))
    if row.diesel_litres is not None and row.diesel_litres < 0:
        found.append(("negative_diesel", f"diesel_litres = {row.diesel_litres}"))
    if row.kwh_charger is None and row.kwh_vehicle is None:
        found.append(("missing_energy", "kwh_charger and kwh_vehicle are both empty"))
    if lease is None:
        found.append(("not_on_lease", f"no lease covers vehicle {row.vehicle_id} on {row.day.isoformat()}"))
        return found
    if row.lessee_id and row.lessee_id != lease.lessee_id:
        found.append(
            (
                "lessee_mismatch",
                f"record says lessee {row.lessee_id}, lease {lease.lease_id} says {lease.lessee_id}",
            )
        )
    if row.kwh_charger is None and row.kwh_vehicle is not None and lease.charging_efficiency is None:
        found.append(("no_charging_efficiency", f"lease {lease.lease_id} has no charging_efficiency"))
    if lease.battery_kwh:
        battery_side = row.kwh_vehicle
        if battery_side is None and row.kwh_charger is not None:
            battery_side = row.kwh_charger * (lease.charging_efficiency or 1.0)
        limit = lease.battery_kwh * limits.max_battery_multiple
        if battery_side is not None and battery_side > limit:
            found.append(
                (
                    "energy_above_battery",
                    f"{battery_side:.1f} kWh > {limits.max_battery_multiple} x {lease.battery_kwh} kWh battery",
                )
            )
    return found


def screen_rows(
    rows: Iterable[VehicleDay],
    book: LeaseBook,
    limits: QualityThresholds = QualityThresholds(),
    require_diesel: bool = False,
) -> ScreenResult:
    """Flag bad rows; accept the rest together with their lease.

    Duplicate vehicle-days: identical copies keep the first and flag the others; copies that disagree are all
    flagged, because nothing says which one is right.
    """
    rows = list(rows)
    by_vehicle_day: dict[tuple[str, date], list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_vehicle_day[(row.vehicle_id, row.day)].append(index)
    duplicate_reason: dict[int, str] = {}
    for (vehicle_id, day), indexes in by_vehicle_day.items():
        if len(indexes) < 2:
            continue
        refs = ", ".join(rows[i].row_ref or f"#{i}" for i in indexes)
        values = {_values(rows[i]) for i in indexes}
        if len(values) == 1:
            for i in indexes[1:]:
                duplicate_reason[i] = f"identical copy of an earlier record ({refs}); the first is kept"
        else:
            for i in indexes:
                duplicate_reason[i] = (
                    f"conflicting records for {vehicle_id} on {day.isoformat()} ({refs}); all excluded"
                )

    accepted: list[AcceptedRow] = []
    flags: list[RowFlag] = []
    for index, row in enumerate(rows):
        lease = book.lease_on(row.vehicle_id, row.day)
        problems = _row_flags(row, lease, limits, require_diesel)
        if index in duplicate_reason:
            problems.append(("duplicate_day", duplicate_reason[index]))
        ref = row.row_ref or f"#{index}"
        if problems:
            flags.extend(
                RowFlag(ref, row.vehicle_id, row.day, code, f"{FLAG_CODES[code]}: {detail}")
                for code, detail in problems
            )
        else:
            if lease is None:
                raise RuntimeError(
                    f"screen_rows: row {ref} passed without a lease (_row_flags flags not_on_lease)"
                )
            accepted.append(AcceptedRow(row, lease))
    return ScreenResult(accepted=tuple(accepted), flags=tuple(flags), rows_checked=len(rows))


def _values(row: VehicleDay) -> tuple[object, ...]:
    return (
        row.lessee_id,
        row.depot_id,
        row.km,
        row.kwh_charger,
        row.kwh_vehicle,
        row.tonne_km,
        row.diesel_litres,
    )
