"""Deviation detection: what the meters say against what the plan and the chargers promised.

Pure. Execution is verified from meter values, never trusted from an `Accepted`: chargers are known to accept a
profile and ignore it (go-eCharger-API-v2#105) or to refuse the read-back (steve#44). Each alert names the truck
and whether its readiness for departure is at risk (the energy still needed exceeds what the connector can give
before departure at full power).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from fleet.csms.adapter import ConnectorProfile, ConnectorRef, ConnectorState

ABOVE_TOLERANCE_KW = 1.0  # a slot's mean power may exceed its limit by max(1 kW, 5 %) (meter and rounding)
ABOVE_TOLERANCE_SHARE = 0.05
BEHIND_TOLERANCE_KWH = 2.0  # behind plan: delivered < planned - max(2 kWh, 10 % of the plan so far)
BEHIND_TOLERANCE_SHARE = 0.10
NOT_FOLLOWED_SLOTS = 2  # profile accepted but not followed: this many slots off the limit (either way)
SILENT_SLOTS = 2.0  # a charger silent for two slots while a truck is plugged in (or 2 heartbeats otherwise)

KINDS = (
    "above_profile",
    "behind_plan",
    "profile_not_followed",
    "profile_rejected",
    "readback_failed",
    "readback_differs",
    "charger_silent",
)


@dataclass(frozen=True)
class TruckPlan:
    """A truck's part of the plan on one connector: grid energy [kWh] and the connector's maximum [kW]."""

    plate: str
    id_tag: str
    ref: ConnectorRef
    departure: dt.datetime
    planned_kwh: float  # the whole night's, including what was delivered before a re-plan
    max_kw: float
    delivered_before_kwh: float = 0.0  # metered before the profile in force began (a re-plan)
    arrival: dt.datetime | None = None  # planned plug-in time


@dataclass(frozen=True)
class Alert:
    kind: str
    ref: ConnectorRef
    raised_at: dt.datetime
    message: str
    plate: str | None = None
    readiness_at_risk: bool = False
    detail: dict[str, Any] = field(default_factory=dict)


def slot_energy(state: ConnectorState, profile: ConnectorProfile) -> dict[int, float]:
    """Metered grid energy per plan slot [kWh]: each register difference between consecutive samples spread
    evenly over the time between them. Differences across a gap longer than 1.5 slots are booked on no slot:
    when the energy went in is unknown (the gap itself raises `charger_silent`)."""
    out: dict[int, float] = {}
    step = dt.timedelta(minutes=profile.slot_minutes)
    samples = sorted(state.samples, key=lambda s: s.timestamp)
    for a, b in itertools.pairwise(samples):
        seconds = (b.timestamp - a.timestamp).total_seconds()
        kwh = b.energy_kwh - a.energy_kwh
        if seconds <= 0 or kwh < 0 or seconds > 1.5 * step.total_seconds():
            continue  # a gap in the meter values: its energy counts in the session, on no slot
        k = int((a.timestamp - profile.start) // step)
        while True:
            lo = max(a.timestamp, profile.start + k * step)
            hi = min(b.timestamp, profile.start + (k + 1) * step)
            if lo >= b.timestamp:
                break
            out[k] = out.get(k, 0.0) + kwh * max(0.0, (hi - lo).total_seconds()) / seconds
            k += 1
    return out


def planned_kwh_until(profile: ConnectorProfile, t: dt.datetime) -> float:
    """Energy the profile allows up to `t` [kWh] (the plan's energy: limits are the planned power)."""
    hours = profile.slot_minutes / 60.0
    total = 0.0
    for k, kw in enumerate(profile.limits_kw):
        slot_start = profile.start + dt.timedelta(minutes=profile.slot_minutes * k)
        covered = min(1.0, max(0.0, (t - slot_start) / dt.timedelta(minutes=profile.slot_minutes)))
        total += kw * hours * covered
    return total


def at_risk(truck: TruckPlan, delivered_kwh: float, now: dt.datetime) -> bool:
    """Readiness at risk: what is still needed exceeds what the connector can give before departure."""
    hours_left = max(0.0, (truck.departure - now).total_seconds() / 3600.0)
    return truck.planned_kwh - delivered_kwh > truck.max_kw * hours_left + 1e-6


def detect(
    now: dt.datetime,
    state: ConnectorState,
    profile: ConnectorProfile | None,
    truck: TruckPlan | None,
    heartbeat_s: float,
    grace_s: float = 0.0,
) -> list[Alert]:
    """Every deviation on one connector at `now` (the caller keeps one alert per connector and kind).

    `grace_s` [s] is added to every time threshold (message transit; event-loop lag in compressed nights).
    """
    alerts: list[Alert] = []
    plate = truck.plate if truck else None
    delivered = state.session_kwh
    risk = at_risk(truck, delivered, now) if truck else False

    def alert(kind: str, message: str, **detail: Any) -> None:
        alerts.append(Alert(kind, state.ref, now, message, plate, risk, detail))

    if state.profile_status and state.profile_status != "Accepted":
        alert("profile_rejected", f"{state.ref}: charger answered {state.profile_status} to the profile")
    if state.readback == "failed":
        alert("readback_failed", f"{state.ref}: charger did not return its composite schedule")
    elif state.readback == "differs":
        alert("readback_differs", f"{state.ref}: composite schedule differs from the plan")
    slot_s = (profile.slot_minutes if profile else 15) * 60.0
    plugged = state.transaction_id is not None
    # While a truck is plugged in the meter must speak every slot; otherwise the heartbeat is enough.
    heard = max((s.timestamp for s in state.samples), default=state.last_seen) if plugged else state.last_seen
    limit_s = (SILENT_SLOTS * slot_s if plugged else 2.0 * heartbeat_s) + grace_s
    if heard is not None and (now - heard).total_seconds() > limit_s:
        what = "no meter values" if plugged else "nothing heard"
        alert(
            "charger_silent",
            f"{state.ref}: {what} for {(now - heard).total_seconds() / 60:.0f} min",
            last_heard=heard.isoformat(),
        )
    if profile is None:
        return alerts
    hours = profile.slot_minutes / 60.0
    energy = slot_energy(state, profile)
    above = [
        k
        for k, kwh in energy.items()
        if 0 <= k < len(profile.limits_kw)
        and kwh / hours
        > profile.limits_kw[k] + max(ABOVE_TOLERANCE_KW, ABOVE_TOLERANCE_SHARE * profile.limits_kw[k])
    ]
    if above:
        worst = max(above, key=lambda k: energy[k] / hours - profile.limits_kw[k])
        alert(
            "above_profile",
            f"{state.ref}: drew {energy[worst] / hours:.1f} kW against a limit of {profile.limits_kw[worst]:.1f} kW"
            f" ({len(above)} slots)",
            slots=sorted(above),
        )
    if state.profile_status == "Accepted":
        # Slots where the truck was charging (metered energy > 0 in the slot or a limit > 0 planned while the
        # truck still needed energy) and the power is off the limit either way.
        off = [
            k
            for k, kwh in energy.items()
            if 0 <= k < len(profile.limits_kw)
            and abs(kwh / hours - profile.limits_kw[k])
            > max(ABOVE_TOLERANCE_KW, ABOVE_TOLERANCE_SHARE * profile.limits_kw[k])
            and (truck is None or delivered < truck.planned_kwh - 0.5 or kwh / hours > profile.limits_kw[k])
        ]
        if len(off) >= NOT_FOLLOWED_SLOTS:
            alert(
                "profile_not_followed",
                f"{state.ref}: profile accepted but power off its limit in {len(off)} slots",
                slots=sorted(off),
            )
    if truck is not None and plugged:
        # Against the plan up to one slot ago (meter values lag by up to one slot, never count that lag).
        planned = planned_kwh_until(profile, now - dt.timedelta(seconds=slot_s + grace_s))
        since = delivered - truck.delivered_before_kwh
        if since < planned - max(BEHIND_TOLERANCE_KWH, BEHIND_TOLERANCE_SHARE * planned):
            alert(
                "behind_plan",
                f"{truck.plate}: {since:.1f} kWh delivered against {planned:.1f} kWh planned by now",
                delivered_kwh=round(delivered, 3),
                planned_kwh=round(planned, 3),
            )
    return alerts
