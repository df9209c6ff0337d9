"""The protocol-agnostic core of the CSMS: connected chargers, connector states, the night's plan, metered
sessions, deviation alerts and re-plans. Adapters (OCPP today) call it through `ChargerEvents`; it calls them
through `ChargerAdapter`; a `Recorder` persists what it learns (in memory for tests, the database in service).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from fleet.csms.adapter import ChargerAdapter, ConnectorProfile, ConnectorRef, ConnectorState, MeterSample
from fleet.csms.deviation import SILENT_SLOTS, Alert, TruckPlan, detect
from fleet.csms.profiles import compare

LOG = logging.getLogger("fleet.csms")
RISK_KINDS = ("behind_plan", "charger_silent")
MAX_SAMPLES = 2000  # per connector and night: a flood of meter values cannot grow memory without bound


@dataclass(frozen=True)
class SessionRecord:
    """A finished (or night-end) transaction: grid energy [kWh] from the meter register."""

    ref: ConnectorRef
    id_tag: str | None
    plate: str | None
    transaction_id: str
    started_at: dt.datetime
    ended_at: dt.datetime
    kwh: float


class Recorder(Protocol):
    def session(self, record: SessionRecord) -> None: ...

    def alert(self, alert: Alert) -> None: ...

    def state(self, state: ConnectorState) -> None: ...


@dataclass
class MemoryRecorder:
    """Keeps everything in lists (tests, demos without a database)."""

    sessions: list[SessionRecord] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    states: dict[ConnectorRef, ConnectorState] = field(default_factory=dict)

    def session(self, record: SessionRecord) -> None:
        self.sessions.append(record)

    def alert(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def state(self, state: ConnectorState) -> None:
        self.states[state.ref] = state


@dataclass
class NightPlan:
    """What the hub enforces tonight: one profile per connector and the truck planned on it."""

    profiles: dict[ConnectorRef, ConnectorProfile]
    trucks: dict[ConnectorRef, TruckPlan]
    revision: int = 1


Replanner = Callable[[dt.datetime, "CentralSystem"], NightPlan | None]


class CentralSystem:
    """The CSMS hub. `clock()` gives "now" (a `NightClock` in time-compressed simulations).

    Parameters
    ----------
    tags : id tag -> truck plate; only these tags are authorised (the truck's VIN is its tag, docs/ocpp.md).
    recorder : where sessions, alerts and connector states go.
    heartbeat_s : the interval the chargers are told at boot [s].
    """

    def __init__(
        self,
        tags: Mapping[str, str],
        recorder: Recorder | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        heartbeat_s: int = 300,
        replanner: Replanner | None = None,
        push_on_boot: bool = False,
    ) -> None:
        self.tags = dict(tags)
        self.recorder = recorder if recorder is not None else MemoryRecorder()
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.heartbeat_s = heartbeat_s
        self.adapters: dict[str, ChargerAdapter] = {}
        self.states: dict[ConnectorRef, ConnectorState] = {}
        self.plan: NightPlan | None = None
        self.raised: set[tuple[ConnectorRef, str, bool]] = set()
        self.alerts: list[Alert] = []
        self.replanner = replanner
        self.push_on_boot = push_on_boot  # `csms serve`: a charger that (re)boots gets its profile again
        self._tasks: set[asyncio.Task[str]] = set()
        self.replans: list[tuple[dt.datetime, str]] = []
        self._tx_counter = 0
        self.finished: set[str] = set()  # plates whose session closed tonight
        self._late: set[ConnectorRef] = set()

    # ---- ChargerEvents ---------------------------------------------------------------------------------------
    def state_of(self, ref: ConnectorRef) -> ConnectorState:
        state = self.states.get(ref)
        if state is None:
            adapter = self.adapters.get(ref.charger_id)
            state = self.states[ref] = ConnectorState(ref, protocol=adapter.protocol if adapter else "")
        return state

    def on_connect(self, adapter: ChargerAdapter) -> None:
        old = self.adapters.get(adapter.charger_id)
        if old is not None and old is not adapter:
            LOG.warning("%s: reconnected; the old connection is replaced", adapter.charger_id)
        self.adapters[adapter.charger_id] = adapter
        self.seen(adapter.charger_id, self.clock())

    def on_disconnect(self, charger_id: str) -> None:
        self.adapters.pop(charger_id, None)
        for ref, state in self.states.items():
            if ref.charger_id == charger_id:
                state.status = "Offline"
                self.recorder.state(state)

    def on_boot(self, charger_id: str, vendor: str, model: str) -> None:
        LOG.info("%s: boot (%s %s)", charger_id, vendor, model)
        if self.push_on_boot and self.plan is not None:
            for ref, profile in self.plan.profiles.items():
                if ref.charger_id == charger_id:
                    task = asyncio.get_running_loop().create_task(self._push_one(profile, True))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    def seen(self, charger_id: str, when: dt.datetime) -> None:
        for ref, state in self.states.items():
            if ref.charger_id == charger_id:
                state.last_seen = when

    def on_status(self, ref: ConnectorRef, status: str, when: dt.datetime) -> None:
        state = self.state_of(ref)
        state.status = status
        state.last_seen = when
        self.recorder.state(state)

    def authorize(self, id_tag: str) -> bool:
        return id_tag in self.tags

    def next_transaction_id(self) -> int:
        self._tx_counter += 1
        return self._tx_counter

    def on_transaction_start(
        self, ref: ConnectorRef, id_tag: str | None, transaction_id: str, meter_kwh: float, when: dt.datetime
    ) -> None:
        state = self.state_of(ref)
        state.id_tag, state.transaction_id = id_tag, transaction_id
        state.tx_started_at, state.meter_start_kwh, state.energy_kwh = when, meter_kwh, meter_kwh
        state.samples = [MeterSample(ref, when, meter_kwh, 0.0, transaction_id)]
        state.status, state.last_seen = "Charging", when
        self.recorder.state(state)
        truck = self.plan.trucks.get(ref) if self.plan else None
        if truck is not None and truck.arrival is not None:
            slot = self.plan.profiles[ref].slot_minutes if ref in self.plan.profiles else 15  # type: ignore[union-attr]
            if when > truck.arrival + dt.timedelta(minutes=slot):
                self._late.add(ref)  # plugged in more than a slot late: the plan is wrong from here

    def on_meter(self, sample: MeterSample) -> None:
        state = self.state_of(sample.ref)
        state.last_seen = sample.timestamp
        if state.transaction_id is None or (
            sample.transaction_id is not None and sample.transaction_id != state.transaction_id
        ):
            return  # a reading outside a transaction we know: kept as liveness only
        if len(state.samples) >= MAX_SAMPLES:
            LOG.warning("%s: more than %d meter values tonight; reading dropped", sample.ref, MAX_SAMPLES)
            return
        if state.energy_kwh is not None and sample.energy_kwh < state.energy_kwh - 1e-6:
            LOG.warning(
                "%s: meter register went backwards (%.3f -> %.3f kWh); reading dropped",
                sample.ref,
                state.energy_kwh,
                sample.energy_kwh,
            )
            return
        state.samples.append(sample)
        state.energy_kwh = sample.energy_kwh
        state.power_kw = sample.power_kw
        self.recorder.state(state)

    def on_transaction_end(
        self, ref: ConnectorRef, transaction_id: str, meter_kwh: float | None, when: dt.datetime
    ) -> None:
        state = self.state_of(ref)
        if state.transaction_id != transaction_id:
            LOG.warning("%s: end of unknown transaction %s ignored", ref, transaction_id)
            return
        if meter_kwh is not None and (state.energy_kwh is None or meter_kwh >= state.energy_kwh):
            state.energy_kwh = meter_kwh
        self._close(state, when)
        state.status = "Finishing"
        self.recorder.state(state)

    def _close(self, state: ConnectorState, when: dt.datetime) -> None:
        if state.transaction_id is None or state.tx_started_at is None:
            return
        self._check_gaps(state, when)
        plate = self.tags.get(state.id_tag or "")
        if plate:
            self.finished.add(plate)
        self.recorder.session(
            SessionRecord(
                ref=state.ref,
                id_tag=state.id_tag,
                plate=self.tags.get(state.id_tag or ""),
                transaction_id=state.transaction_id,
                started_at=state.tx_started_at,
                ended_at=when,
                kwh=round(state.session_kwh, 4),
            )
        )
        state.transaction_id = None

    def _check_gaps(self, state: ConnectorState, end: dt.datetime) -> None:
        """A session's meter stream with a gap of more than two slots (found when it closes, however fast the
        night ran) raises `charger_silent` for the record."""
        profile = self.plan.profiles.get(state.ref) if self.plan else None
        truck = self.plan.trucks.get(state.ref) if self.plan else None
        slot_s = (profile.slot_minutes if profile else 15) * 60.0
        times = sorted(s.timestamp for s in state.samples)
        if not times:
            return
        # The end of a session counts only when it was not reported by the charger (night end, disconnect).
        edges = (
            [*times, end] if state.status == "Offline" or end > times[-1] + dt.timedelta(seconds=1) else times
        )
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(edges)]
        if gaps and max(gaps) > SILENT_SLOTS * slot_s:
            self._raise(
                Alert(
                    "charger_silent",
                    state.ref,
                    end,
                    f"{state.ref}: meter values missing for {max(gaps) / 60:.0f} min during the session",
                    truck.plate if truck else self.tags.get(state.id_tag or ""),
                    False,
                    {"gap_min": round(max(gaps) / 60, 1)},
                )
            )

    # ---- the plan --------------------------------------------------------------------------------------------
    async def push_plan(self, plan: NightPlan, *, read_back: bool = True) -> dict[ConnectorRef, str]:
        """Send each connector its profile, read the composite schedule back and compare; returns the verdicts."""
        self.plan = plan
        refs = list(plan.profiles)
        results = await asyncio.gather(*(self._push_one(plan.profiles[r], read_back) for r in refs))
        return dict(zip(refs, results, strict=True))

    async def _push_one(self, profile: ConnectorProfile, read_back: bool) -> str:
        state = self.state_of(profile.ref)
        adapter = self.adapters.get(profile.ref.charger_id)
        if adapter is None:
            state.profile_status = "offline"
            self.recorder.state(state)
            return "offline"
        try:
            status = await adapter.send_profile(profile)
        except (TimeoutError, ConnectionError, OSError) as exc:
            LOG.warning("%s: profile not delivered: %s", profile.ref, exc)
            status = "timeout"
        state.profile_status = status
        if status == "Accepted" and read_back:
            now = self.clock()
            start = max(now, profile.start)
            try:
                composite = await adapter.read_composite_schedule(
                    profile.ref.connector,
                    profile.start,
                    profile.slot_minutes,
                    len(profile.limits_kw),
                    # the charger answers from its own now: cover now..end, or a plan sent hours before the night
                    # would be read back short of its last slots (compare() looks only from `start`)
                    max(60, int((profile.end - min(now, start)).total_seconds())),
                )
            except (TimeoutError, ConnectionError, OSError) as exc:
                LOG.warning("%s: composite schedule not read: %s", profile.ref, exc)
                composite = None
            if composite is None:
                state.readback = "failed"
            else:
                first = start - dt.timedelta(
                    minutes=profile.slot_minutes / 2
                )  # slots whose midpoint is ahead
                state.readback = "differs" if compare(profile, composite, not_before=first) else "equal"
        self.recorder.state(state)
        return state.readback or status

    # ---- deviations and re-plans -----------------------------------------------------------------------------
    def check(self, now: dt.datetime | None = None) -> list[Alert]:
        """Run deviation detection on every known connector; record and return the new alerts."""
        now = now or self.clock()
        new = []
        refs = set(self.states) | (set(self.plan.profiles) if self.plan else set())
        for ref in sorted(refs, key=lambda r: (r.charger_id, r.connector)):
            state = self.state_of(ref)
            profile = self.plan.profiles.get(ref) if self.plan else None
            truck = self.plan.trucks.get(ref) if self.plan else None
            grace = 0.25 * float(getattr(self.clock, "speed", 1.0))  # 0.25 s of real lag
            for alert in detect(now, state, profile, truck, self.heartbeat_s, grace):
                if self._raise(alert):
                    new.append(alert)
        return new

    def _raise(self, alert: Alert) -> bool:
        """Record an alert unless raised already for this connector and kind (behind plan and silent: raised
        again once the truck's readiness is at risk)."""
        key = (alert.ref, alert.kind, alert.readiness_at_risk and alert.kind in RISK_KINDS)
        if key in self.raised or (alert.ref, alert.kind, True) in self.raised:
            return False
        self.raised.add(key)
        LOG.warning("alert %s: %s", alert.kind, alert.message)
        self.alerts.append(alert)
        self.recorder.alert(alert)
        return True

    async def maybe_replan(self, now: dt.datetime | None = None) -> bool:
        """Re-plan the rest of the night when a truck plugged in late; push the new profiles (stack level up)."""
        if not self._late or self.replanner is None:
            return False
        late = ", ".join(sorted(str(r) for r in self._late))
        self._late.clear()
        now = now or self.clock()
        plan = self.replanner(now, self)
        if plan is None:
            return False
        self.replans.append((now, late))
        LOG.info("re-plan at %s (late: %s), revision %d", now.isoformat(), late, plan.revision)
        await self.push_plan(plan, read_back=True)
        return True

    def finish_night(self, when: dt.datetime | None = None) -> None:
        """Close every open transaction as a session at `when` (the night's record even if no stop came)."""
        when = when or self.clock()
        for state in self.states.values():
            self._close(state, when)
