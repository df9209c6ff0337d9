"""The seam between the CSMS and a charger protocol: one interface every charger adapter implements.

The hub (`fleet.csms.hub.CentralSystem`) plans, verifies and records; it never speaks a protocol. An adapter
translates one charger connection into these calls and events:

- the hub calls the adapter: `send_profile` (one connector's part of the plan) and `read_composite_schedule`
  (what the charger says it will run);
- the adapter calls the hub through `ChargerEvents`: boot, status, authorisation of a truck's id tag,
  transaction start and end, and the meter stream (`MeterSample`).

OCPP 1.6J and 2.0.1 are the first adapters (`fleet.csms.ocpp_adapter`). The 云快充 (YunKuaiChong) TCP protocol
that most Chinese chargers speak to platforms would be a second one: a TCP server decoding its frames
(login, heartbeat, real-time data, transaction record) into the same `ChargerEvents` calls, and mapping
`send_profile` onto its power-setting command. Nothing above the adapter changes (docs/ocpp.md, "Adapter seam").
Units: power [kW], energy [kWh] everywhere above the adapter; each adapter converts to its protocol's W, A or Wh.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ConnectorRef:
    """A connector as the charger names it: charger id (its WebSocket path) and connector / EVSE number."""

    charger_id: str
    connector: int

    def __str__(self) -> str:
        return f"{self.charger_id}#{self.connector}"


@dataclass(frozen=True)
class ConnectorProfile:
    """One connector's part of a published plan: a power limit per slot from `start` [kW].

    `stack_level` rises with each re-plan so the newer profile supersedes the older one on the charger (OCPP:
    the highest stack level in force wins); `profile_id` is unique per (connector, revision).
    """

    ref: ConnectorRef
    start: dt.datetime
    slot_minutes: int
    limits_kw: tuple[float, ...]
    stack_level: int = 1
    profile_id: int = 1
    purpose: str = "TxDefaultProfile"  # or TxProfile (needs transaction_id)
    transaction_id: str | None = None
    vehicle: str | None = None  # the truck's plate, for messages

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(minutes=self.slot_minutes * len(self.limits_kw))

    def limit_at(self, t: dt.datetime) -> float | None:
        """The planned limit in force at `t` [kW], None outside the profile."""
        k = int((t - self.start) // dt.timedelta(minutes=self.slot_minutes))
        return self.limits_kw[k] if 0 <= k < len(self.limits_kw) else None


@dataclass(frozen=True)
class CompositeSchedule:
    """What a charger reports it will run: limits [kW] per slot of the requested grid (None = no limit)."""

    start: dt.datetime
    slot_minutes: int
    limits_kw: tuple[float | None, ...]
    covered_from: dt.datetime | None = None  # the charger's schedule start (its "now")


@dataclass(frozen=True)
class MeterSample:
    """One meter reading of a connector: the energy register [kWh] and, if sent, the power [kW]."""

    ref: ConnectorRef
    timestamp: dt.datetime
    energy_kwh: float
    power_kw: float | None = None
    transaction_id: str | None = None


@dataclass
class ConnectorState:
    """A connector's live state as the hub knows it (shown on the app page, persisted by the recorder)."""

    ref: ConnectorRef
    protocol: str = ""
    status: str = (
        "Unknown"  # Available, Preparing, Charging, SuspendedEV, Finishing, Faulted, Unavailable, Offline
    )
    id_tag: str | None = None
    transaction_id: str | None = None
    tx_started_at: dt.datetime | None = None
    meter_start_kwh: float | None = None
    energy_kwh: float | None = None  # last register reading
    power_kw: float | None = None
    last_seen: dt.datetime | None = None
    profile_status: str = ""  # Accepted, Rejected, NotSupported, timeout; plus read-back verdict
    readback: str = ""  # equal, differs, failed
    samples: list[MeterSample] = field(default_factory=list)

    @property
    def session_kwh(self) -> float:
        if self.energy_kwh is None or self.meter_start_kwh is None:
            return 0.0
        return max(0.0, self.energy_kwh - self.meter_start_kwh)


class ChargerAdapter(Protocol):
    """A connected charger, whatever its protocol."""

    charger_id: str
    protocol: str  # "ocpp1.6", "ocpp2.0.1", later "ykc"

    async def send_profile(self, profile: ConnectorProfile) -> str:
        """Send one connector's profile; the charger's answer (Accepted, Rejected, ...)."""
        ...

    async def read_composite_schedule(
        self, connector: int, grid_start: dt.datetime, slot_minutes: int, n_slots: int, duration_s: int
    ) -> CompositeSchedule | None:
        """What the charger will run on `connector` for the next `duration_s` [s], sampled on the plan's slot
        grid (`n_slots` slots of `slot_minutes` from `grid_start`); None when it refuses or cannot say."""
        ...

    async def close(self) -> None: ...


class ChargerEvents(Protocol):
    """What an adapter reports to the hub. `authorize` returns whether the id tag is a known truck."""

    def on_connect(self, adapter: ChargerAdapter) -> None: ...

    def on_disconnect(self, charger_id: str) -> None: ...

    def on_boot(self, charger_id: str, vendor: str, model: str) -> None: ...

    def on_status(self, ref: ConnectorRef, status: str, when: dt.datetime) -> None: ...

    def authorize(self, id_tag: str) -> bool: ...

    def on_transaction_start(
        self, ref: ConnectorRef, id_tag: str | None, transaction_id: str, meter_kwh: float, when: dt.datetime
    ) -> None: ...

    def on_meter(self, sample: MeterSample) -> None: ...

    def on_transaction_end(
        self, ref: ConnectorRef, transaction_id: str, meter_kwh: float | None, when: dt.datetime
    ) -> None: ...

    def seen(self, charger_id: str, when: dt.datetime) -> None: ...
