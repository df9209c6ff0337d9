"""Plans as OCPP charging profiles, composite schedules back as limits per slot, and their comparison.

Pure functions. A profile has one period per change of the planned limit, each starting on a 15-minute slot
boundary (OCPP 1.6 §3.13 / 2.0.1 K01: `chargingSchedulePeriod.startPeriod` in seconds from `startSchedule`).
Limits go out in W (the default; DC truck chargers) or in A per phase at a nominal voltage (AC chargers):
P [W] = I [A] x U [V] x phases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fleet.csms.adapter import CompositeSchedule, ConnectorProfile, ConnectorRef

NOMINAL_VOLTAGE_V = 230.0  # per phase (GB/T 156 low-voltage supply 220/380 V; 230 V is the IEC nominal)
PHASES = 3
READBACK_TOLERANCE_KW = 0.1  # W rounding and A conversion stay well inside 0.1 kW


def to_unit(kw: float, unit: str) -> float:
    """A power [kW] as the profile's limit in `unit` (W, or A per phase)."""
    if unit == "W":
        return round(kw * 1000.0, 1)
    if unit == "A":
        return round(kw * 1000.0 / (NOMINAL_VOLTAGE_V * PHASES), 1)
    raise ValueError(f"charging rate unit must be W or A, got {unit!r}")


def from_unit(limit: float, unit: str) -> float:
    """A profile limit in W or A back in kW."""
    if unit in ("W", "w"):
        return float(limit) / 1000.0
    if unit in ("A", "a"):
        return float(limit) * NOMINAL_VOLTAGE_V * PHASES / 1000.0
    raise ValueError(f"charging rate unit must be W or A, got {unit!r}")


def periods(limits_kw: Sequence[float], slot_minutes: int, unit: str) -> list[dict[str, Any]]:
    """Schedule periods (snake_case, as the `ocpp` library takes them): one per change of limit."""
    out: list[dict[str, Any]] = []
    for k, kw in enumerate(limits_kw):
        limit = to_unit(max(0.0, kw), unit)
        if not out or out[-1]["limit"] != limit:
            out.append({"start_period": k * slot_minutes * 60, "limit": limit})
    return out


def iso(t: dt.datetime) -> str:
    """OCPP timestamps: UTC, ISO 8601 with Z."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def profile_v16(p: ConnectorProfile, unit: str = "W") -> dict[str, Any]:
    """`csChargingProfiles` of a 1.6 SetChargingProfile.req (absolute, starting at the plan's first slot)."""
    body: dict[str, Any] = {
        "charging_profile_id": p.profile_id,
        "stack_level": p.stack_level,
        "charging_profile_purpose": p.purpose,
        "charging_profile_kind": "Absolute",
        "charging_schedule": {
            "duration": len(p.limits_kw) * p.slot_minutes * 60,
            "start_schedule": iso(p.start),
            "charging_rate_unit": unit,
            "charging_schedule_period": periods(p.limits_kw, p.slot_minutes, unit),
        },
    }
    if p.purpose == "TxProfile" and p.transaction_id is not None:
        body["transaction_id"] = int(p.transaction_id)
    return body


def profile_v201(p: ConnectorProfile, unit: str = "W") -> dict[str, Any]:
    """`chargingProfile` of a 2.0.1 SetChargingProfileRequest."""
    body: dict[str, Any] = {
        "id": p.profile_id,
        "stack_level": p.stack_level,
        "charging_profile_purpose": p.purpose,
        "charging_profile_kind": "Absolute",
        "charging_schedule": [
            {
                "id": p.profile_id,
                "start_schedule": iso(p.start),
                "duration": len(p.limits_kw) * p.slot_minutes * 60,
                "charging_rate_unit": unit,
                "charging_schedule_period": periods(p.limits_kw, p.slot_minutes, unit),
            }
        ],
    }
    if p.purpose == "TxProfile" and p.transaction_id is not None:
        body["transaction_id"] = str(p.transaction_id)
    return body


@dataclass(frozen=True)
class StoredProfile:
    """A profile as a charger holds it (the simulator's store; also parsed from either OCPP version)."""

    profile_id: int
    stack_level: int
    purpose: str
    start: dt.datetime
    duration_s: int | None
    unit: str
    periods: tuple[tuple[int, float], ...]  # (start offset [s], limit in unit)
    transaction_id: str | None = None

    def limit_kw(self, t: dt.datetime) -> float | None:
        """Limit in force at `t` [kW], None outside the schedule."""
        offset = (t - self.start).total_seconds()
        if offset < 0 or (self.duration_s is not None and offset >= self.duration_s):
            return None
        value = None
        for start, limit in self.periods:
            if start <= offset + 1e-6:
                value = limit
        return None if value is None else from_unit(value, self.unit)


def parse_profile(body: Mapping[str, Any]) -> StoredProfile:
    """A 1.6 `cs_charging_profiles` or 2.0.1 `charging_profile` (snake_case keys) as a `StoredProfile`."""
    schedule = body["charging_schedule"]
    if isinstance(schedule, list):
        schedule = schedule[0]
    tx = body.get("transaction_id")
    return StoredProfile(
        profile_id=int(body.get("charging_profile_id", body.get("id", 0))),
        stack_level=int(body["stack_level"]),
        purpose=str(body["charging_profile_purpose"]),
        start=parse_time(schedule["start_schedule"]),
        duration_s=None if schedule.get("duration") is None else int(schedule["duration"]),
        unit=str(schedule["charging_rate_unit"]),
        periods=tuple(
            (int(p["start_period"]), float(p["limit"])) for p in schedule["charging_schedule_period"]
        ),
        transaction_id=None if tx is None else str(tx),
    )


def composite_limit_kw(
    profiles: Iterable[StoredProfile], t: dt.datetime, transaction_id: str | None = None
) -> float | None:
    """The limit in force at `t` [kW] from a connector's profiles (OCPP 1.6 §3.13.2): a TxProfile of the running
    transaction beats TxDefaultProfiles; within a purpose the highest stack level whose schedule covers `t` wins."""
    best: tuple[int, int, float] | None = None
    for p in profiles:
        if p.purpose == "TxProfile" and (transaction_id is None or p.transaction_id != transaction_id):
            continue
        if p.purpose not in ("TxProfile", "TxDefaultProfile"):
            continue
        limit = p.limit_kw(t)
        if limit is None:
            continue
        key = (1 if p.purpose == "TxProfile" else 0, p.stack_level, limit)
        if best is None or key[:2] > best[:2]:
            best = key
    return None if best is None else best[2]


def composite_periods(
    profiles: Sequence[StoredProfile],
    start: dt.datetime,
    duration_s: int,
    unit: str,
    transaction_id: str | None = None,
    step_s: int = 60,
) -> list[dict[str, Any]]:
    """The composite schedule from `start` for `duration_s` as periods in `unit` (sampled each `step_s`)."""
    out: list[dict[str, Any]] = []
    for offset in range(0, duration_s, step_s):
        kw = composite_limit_kw(profiles, start + dt.timedelta(seconds=offset), transaction_id)
        if kw is None:
            continue
        limit = to_unit(kw, unit)
        if not out or out[-1]["limit"] != limit:
            out.append({"start_period": offset, "limit": limit})
    return out


def composite_on_slots(
    schedule_start: dt.datetime,
    duration_s: int,
    unit: str,
    periods_: Sequence[Mapping[str, Any]],
    grid_start: dt.datetime,
    slot_minutes: int,
    n_slots: int,
) -> CompositeSchedule:
    """A composite schedule read back (periods from `schedule_start`) sampled at each slot's midpoint [kW]."""
    limits: list[float | None] = []
    for k in range(n_slots):
        mid = grid_start + dt.timedelta(minutes=slot_minutes * (k + 0.5))
        offset = (mid - schedule_start).total_seconds()
        value = None
        if 0 <= offset < duration_s:
            for p in periods_:
                if float(p["start_period"]) <= offset:
                    value = from_unit(float(p["limit"]), unit)
        limits.append(value)
    return CompositeSchedule(
        start=grid_start, slot_minutes=slot_minutes, limits_kw=tuple(limits), covered_from=schedule_start
    )


def compare(
    profile: ConnectorProfile, composite: CompositeSchedule, not_before: dt.datetime | None = None
) -> list[int]:
    """Slots where the charger's composite schedule differs from the plan by more than the tolerance.

    Only slots starting at or after `not_before` are compared (a schedule read back mid-night begins at "now").
    A slot the charger leaves unlimited (None) differs when the plan limits it below the connector's maximum,
    which the caller folds in by planning the maximum as the limit.
    """
    bad = []
    half = dt.timedelta(minutes=profile.slot_minutes / 2)
    for k, planned in enumerate(profile.limits_kw):
        t = profile.start + dt.timedelta(minutes=profile.slot_minutes * k)
        if not_before is not None and t < not_before:
            continue
        if composite.covered_from is not None and t + half < composite.covered_from:
            continue  # already past when the charger answered
        got = composite.limits_kw[k] if k < len(composite.limits_kw) else None
        if got is None or abs(got - planned) > READBACK_TOLERANCE_KW:
            bad.append(k)
    return bad


def profiles_from_plan(
    slots: Iterable[tuple[ConnectorRef, str, dt.datetime, float]],
    start: dt.datetime,
    n_slots: int,
    slot_minutes: int,
    revision: int = 1,
) -> dict[ConnectorRef, ConnectorProfile]:
    """Per-connector profiles from plan rows (connector, truck plate, slot start, kW).

    Slots without a row are limited to 0 kW: the plan says nobody charges there. The profile id encodes
    the revision (revision x 1000 + connector index) and the stack level is the revision, so a re-plan
    (revision + 1) supersedes the day-ahead plan on every charger.
    """
    step = dt.timedelta(minutes=slot_minutes)
    limits: dict[ConnectorRef, list[float]] = {}
    trucks: dict[ConnectorRef, str] = {}
    for ref, truck, t, kw in slots:
        k = int(round((t - start) / step))
        if not 0 <= k < n_slots:
            continue
        row = limits.setdefault(ref, [0.0] * n_slots)
        row[k] += max(0.0, kw)
        trucks.setdefault(ref, truck)
    out = {}
    for index, ref in enumerate(sorted(limits, key=lambda r: (r.charger_id, r.connector))):
        out[ref] = ConnectorProfile(
            ref=ref,
            start=start,
            slot_minutes=slot_minutes,
            limits_kw=tuple(round(x, 3) for x in limits[ref]),
            stack_level=revision,
            profile_id=revision * 1000 + index + 1,
            vehicle=trucks.get(ref),
        )
    return out
