"""A charger simulator for tests and demos: OCPP 1.6J or 2.0.1 chargers running a time-compressed night.

Each `SimCharger` connects to the CSMS, boots, waits for its truck, authorises the truck's id tag, runs one
transaction and sends meter values every 15 simulated minutes, following its composite schedule (the stack of
profiles the CSMS sent, `fleet.csms.profiles.composite_limit_kw`). On request it misbehaves the way field reports
say real chargers do:

- `reject`: answers Rejected to SetChargingProfile and charges at full power;
- `ignore`: answers Accepted, returns the profile on GetCompositeSchedule, and charges at full power anyway
  (go-eCharger-API-v2#105);
- `no_readback`: follows the profile but refuses GetCompositeSchedule (steve#44);
- `disconnect`: closes its connection `fault_after_min` minutes into the transaction and stays away;
- `drop_meter`: keeps charging and sending heartbeats but sends no meter values after `fault_after_min`.

Energy is integrated in simulated time, so the meter is exact whatever the event loop's lag.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from fleet.csms.profiles import StoredProfile, composite_limit_kw, composite_periods, iso, parse_profile

LOG = logging.getLogger("fleet.csms.simulator")
BEHAVIOURS = ("normal", "reject", "ignore", "no_readback", "disconnect", "drop_meter")
TICK_MIN = 5  # simulated minutes between the simulator's steps (heartbeats are due on these ticks)
METER_MIN = 15  # meter values every slot


def lockstep_now(chargers: list[SimCharger], clock: NightClock) -> dt.datetime:
    """The instant every running simulated charger has reached: deviation checks at this time never mistake
    the event loop's lag (a loaded machine, a compressed night) for a silent charger."""
    reached = [c.progress for c in chargers if not c.done and c.progress is not None]
    return min(reached) if reached else clock()


class NightClock:
    """Simulated time running `speed` times faster than the event loop's clock, from `start`."""

    def __init__(self, start: dt.datetime, speed: float = 1.0) -> None:
        self.start, self.speed = start, float(speed)
        self._t0 = asyncio.get_running_loop().time()

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=(asyncio.get_running_loop().time() - self._t0) * self.speed)

    async def sleep_until(self, t: dt.datetime) -> None:
        seconds = (t - self()).total_seconds() / self.speed
        if seconds > 0:
            await asyncio.sleep(seconds)


@dataclass(frozen=True)
class SimTruck:
    """A truck that plugs in at `arrival`, leaves at `departure` and takes at most `need_kwh` from the grid."""

    plate: str
    id_tag: str
    arrival: dt.datetime
    departure: dt.datetime
    need_kwh: float
    max_kw: float


@dataclass
class SimCharger:
    charger_id: str
    version: str  # "1.6" or "2.0.1"
    max_kw: float
    truck: SimTruck | None = None
    behaviour: str = "normal"
    fault_after_min: float = 60.0
    # Filled while running:
    delivered_kwh: float = 0.0
    register_kwh: float = 1000.0
    profiles: list[StoredProfile] = field(default_factory=list)
    transaction_id: str | None = None
    log: list[str] = field(default_factory=list)
    progress: dt.datetime | None = None  # the last simulated instant whose messages are all sent
    done: bool = False  # disconnected or past the night

    def __post_init__(self) -> None:
        if self.behaviour not in BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {', '.join(BEHAVIOURS)}, got {self.behaviour!r}")
        if self.version not in ("1.6", "2.0.1"):
            raise ValueError(f"version must be 1.6 or 2.0.1, got {self.version!r}")

    def power_kw(self, t: dt.datetime) -> float:
        """What the charger draws at `t` [kW], before the truck's remaining need."""
        if self.behaviour in ("reject", "ignore"):
            return self.max_kw
        limit = composite_limit_kw(self.profiles, t, self.transaction_id)
        return self.max_kw if limit is None else min(self.max_kw, limit)

    # ---- CSMS-initiated calls, answered by the protocol classes below ----------------------------------------
    def accept_profile(self, body: dict[str, Any]) -> str:
        if self.behaviour == "reject":
            return "Rejected"
        profile = parse_profile(body)
        self.profiles = [
            p
            for p in self.profiles
            if p.profile_id != profile.profile_id
            and (p.stack_level, p.purpose) != (profile.stack_level, profile.purpose)
        ] + [profile]
        return "Accepted"

    def composite(self, now: dt.datetime, duration: int) -> list[dict[str, Any]] | None:
        if self.behaviour == "no_readback":
            return None
        return composite_periods(self.profiles, now, duration, "W", self.transaction_id)

    async def run(self, url: str, clock: NightClock, until: dt.datetime) -> None:
        """Connect, boot, serve the truck's transaction, and stay until `until` (simulated)."""
        protocol = "ocpp1.6" if self.version == "1.6" else "ocpp2.0.1"
        async with connect(f"{url}/{self.charger_id}", subprotocols=[protocol]) as ws:  # type: ignore[list-item]
            cp: _Sim16 | _Sim201 = (_Sim16 if self.version == "1.6" else _Sim201)(self, clock, ws)
            listener = asyncio.create_task(cp.start())
            try:
                await cp.night(until)
            except ConnectionClosed:
                pass
            finally:
                self.done = True
                listener.cancel()


class _SimBase:
    sim: SimCharger
    clock: NightClock

    async def night(self, until: dt.datetime) -> None:
        sim, clock = self.sim, self.clock
        t = clock()  # ticks count from here even if the boot is answered late (a busy CSMS at start-up)
        interval = await self.boot()
        await self.status("Available")
        truck = sim.truck
        step = dt.timedelta(minutes=TICK_MIN)
        t = t - dt.timedelta(minutes=t.minute % TICK_MIN, seconds=t.second, microseconds=t.microsecond) + step
        last_heartbeat = t
        fault_at = None
        while t <= until:
            await clock.sleep_until(t)
            if (
                truck is not None
                and sim.transaction_id is None
                and truck.arrival <= t < truck.departure
                and sim.delivered_kwh == 0.0
            ):
                await self.status("Preparing")
                if not await self.authorize(truck.id_tag):
                    sim.log.append("authorisation refused")
                    truck = None
                    continue
                await self.start_transaction(truck, t)
                await self.status("Charging")
                fault_at = t + dt.timedelta(minutes=sim.fault_after_min)
            elif sim.transaction_id is not None and truck is not None:
                previous = t - step
                hours = TICK_MIN / 60.0
                kw = min(
                    sim.power_kw(previous + step / 2), max(0.0, truck.need_kwh - sim.delivered_kwh) / hours
                )
                sim.delivered_kwh += kw * hours
                sim.register_kwh += kw * hours
                if sim.behaviour == "disconnect" and fault_at is not None and t >= fault_at:
                    sim.log.append(f"disconnected at {t.isoformat()}")
                    sim.done = True
                    await self.ws.close()  # type: ignore[attr-defined]
                    return
                if t >= truck.departure:
                    await self.stop_transaction(t)
                    await self.status("Available")
                    truck = None
                elif (t.minute % METER_MIN) == 0 and not (
                    sim.behaviour == "drop_meter" and fault_at is not None and t >= fault_at
                ):
                    await self.meter(t, kw)
            if (t - last_heartbeat).total_seconds() >= interval:
                await self.heartbeat()
                last_heartbeat = t
            sim.progress = t
            t += step


class _Sim16(_SimBase, ChargePoint16):
    def __init__(self, sim: SimCharger, clock: NightClock, ws: Any) -> None:
        super().__init__(sim.charger_id, ws, response_timeout=10)
        self.sim, self.clock, self.ws = sim, clock, ws

    @on(Action16.set_charging_profile)
    def on_set_profile16(self, connector_id: int, cs_charging_profiles: dict, **_: Any) -> Any:
        return result16.SetChargingProfile(status=self.sim.accept_profile(cs_charging_profiles))

    @on(Action16.get_composite_schedule)
    def on_composite16(self, connector_id: int, duration: int, **_: Any) -> Any:
        now = self.clock().replace(microsecond=0)
        periods = self.sim.composite(now, duration)
        if periods is None:
            return result16.GetCompositeSchedule(status="Rejected")
        schedule = {
            "duration": duration,
            "start_schedule": iso(now),
            "charging_rate_unit": "W",
            "charging_schedule_period": periods or [{"start_period": 0, "limit": self.sim.max_kw * 1000}],
        }
        return result16.GetCompositeSchedule(
            status="Accepted", connector_id=connector_id, schedule_start=iso(now), charging_schedule=schedule
        )

    @on(Action16.clear_charging_profile)
    def on_clear16(self, **_: Any) -> Any:
        self.sim.profiles = []
        return result16.ClearChargingProfile(status="Accepted")

    async def boot(self) -> int:
        res = await self.call(
            call16.BootNotification(charge_point_model="SIM-DC", charge_point_vendor="evfleet")
        )
        return int(res.interval) if res and res.interval else 300

    async def heartbeat(self) -> None:
        await self.call(call16.Heartbeat())

    async def status(self, status: str) -> None:
        await self.call(
            call16.StatusNotification(
                connector_id=1, error_code="NoError", status=status, timestamp=iso(self.clock())
            )
        )

    async def authorize(self, tag: str) -> bool:
        res = await self.call(call16.Authorize(id_tag=tag))
        return bool(res) and res.id_tag_info["status"] == "Accepted"

    async def start_transaction(self, truck: SimTruck, t: dt.datetime) -> None:
        res = await self.call(
            call16.StartTransaction(
                connector_id=1,
                id_tag=truck.id_tag,
                meter_start=int(round(self.sim.register_kwh * 1000)),
                timestamp=iso(t),
            )
        )
        self.sim.transaction_id = str(res.transaction_id)

    async def meter(self, t: dt.datetime, kw: float) -> None:
        await self.call(
            call16.MeterValues(
                connector_id=1,
                transaction_id=int(self.sim.transaction_id or 0),
                meter_value=[
                    {
                        "timestamp": iso(t),
                        "sampled_value": [
                            {
                                "value": f"{self.sim.register_kwh * 1000:.1f}",
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "Wh",
                                "context": "Sample.Periodic",
                            },
                            {
                                "value": f"{kw * 1000:.1f}",
                                "measurand": "Power.Active.Import",
                                "unit": "W",
                                "context": "Sample.Periodic",
                            },
                        ],
                    }
                ],
            )
        )

    async def stop_transaction(self, t: dt.datetime) -> None:
        await self.call(
            call16.StopTransaction(
                meter_stop=int(round(self.sim.register_kwh * 1000)),
                timestamp=iso(t),
                transaction_id=int(self.sim.transaction_id or 0),
                reason="EVDisconnected",
            )
        )
        self.sim.transaction_id = None


class _Sim201(_SimBase, ChargePoint201):
    _seq = itertools.count()

    def __init__(self, sim: SimCharger, clock: NightClock, ws: Any) -> None:
        super().__init__(sim.charger_id, ws, response_timeout=10)
        self.sim, self.clock, self.ws = sim, clock, ws

    @on(Action201.set_charging_profile)
    def on_set_profile201(self, evse_id: int, charging_profile: dict, **_: Any) -> Any:
        return result201.SetChargingProfile(status=self.sim.accept_profile(charging_profile))

    @on(Action201.get_composite_schedule)
    def on_composite201(self, duration: int, evse_id: int, **_: Any) -> Any:
        now = self.clock().replace(microsecond=0)
        periods = self.sim.composite(now, duration)
        if periods is None:
            return result201.GetCompositeSchedule(status="Rejected")
        schedule = {
            "evse_id": evse_id,
            "duration": duration,
            "schedule_start": iso(now),
            "charging_rate_unit": "W",
            "charging_schedule_period": periods or [{"start_period": 0, "limit": self.sim.max_kw * 1000}],
        }
        return result201.GetCompositeSchedule(status="Accepted", schedule=schedule)

    @on(Action201.clear_charging_profile)
    def on_clear201(self, **_: Any) -> Any:
        self.sim.profiles = []
        return result201.ClearChargingProfile(status="Accepted")

    async def boot(self) -> int:
        res = await self.call(
            call201.BootNotification(
                charging_station={"model": "SIM-DC", "vendor_name": "evfleet"}, reason="PowerUp"
            )
        )
        return int(res.interval) if res and res.interval else 300

    async def heartbeat(self) -> None:
        await self.call(call201.Heartbeat())

    async def status(self, status: str) -> None:
        mapped = {"Preparing": "Occupied", "Charging": "Occupied"}.get(status, status)
        await self.call(
            call201.StatusNotification(
                timestamp=iso(self.clock()), connector_status=mapped, evse_id=1, connector_id=1
            )
        )

    async def authorize(self, tag: str) -> bool:
        res = await self.call(call201.Authorize(id_token={"id_token": tag, "type": "Central"}))
        return bool(res) and res.id_token_info["status"] == "Accepted"

    def _meter_value(self, t: dt.datetime, kw: float | None, context: str) -> list[dict[str, Any]]:
        values: list[dict[str, Any]] = [
            {
                "value": round(self.sim.register_kwh * 1000, 1),
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "unit_of_measure": {"unit": "Wh"},
            }
        ]
        if kw is not None:
            values.append(
                {
                    "value": round(kw * 1000, 1),
                    "context": context,
                    "measurand": "Power.Active.Import",
                    "unit_of_measure": {"unit": "W"},
                }
            )
        return [{"timestamp": iso(t), "sampled_value": values}]

    async def _event(self, event_type: str, trigger: str, t: dt.datetime, **extra: Any) -> Any:
        return await self.call(
            call201.TransactionEvent(
                event_type=event_type,
                timestamp=iso(t),
                trigger_reason=trigger,
                seq_no=next(self._seq),
                transaction_info={"transaction_id": self.sim.transaction_id},
                **extra,
            )
        )

    async def start_transaction(self, truck: SimTruck, t: dt.datetime) -> None:
        self.sim.transaction_id = f"{self.sim.charger_id}-{t:%Y%m%d%H%M}"
        await self._event(
            "Started",
            "Authorized",
            t,
            evse={"id": 1, "connector_id": 1},
            id_token={"id_token": truck.id_tag, "type": "Central"},
            meter_value=self._meter_value(t, None, "Transaction.Begin"),
        )

    async def meter(self, t: dt.datetime, kw: float) -> None:
        await self._event(
            "Updated", "MeterValuePeriodic", t, meter_value=self._meter_value(t, kw, "Sample.Periodic")
        )

    async def stop_transaction(self, t: dt.datetime) -> None:
        await self._event("Ended", "EVDeparted", t, meter_value=self._meter_value(t, None, "Transaction.End"))
        self.sim.transaction_id = None
