"""The OCPP adapter: OCPP 1.6J and 2.0.1 over WebSocket on the `ocpp` library (The Mobility House).

One `ocpp.v16.ChargePoint` / `ocpp.v201.ChargePoint` subclass per version answers the charger's calls (boot,
heartbeat, status, authorise, transactions, meter values) and implements `ChargerAdapter` for the calls the CSMS
makes (SetChargingProfile, GetCompositeSchedule). The subprotocol the charger offers (`ocpp1.6` or `ocpp2.0.1`)
picks the class. Hostile input is contained per connection: malformed JSON is logged and dropped by the
library, an unknown action is answered with a CallError (NotImplemented / NotSupported), a handler error with an
InternalError CallError, and a flood beyond `max_messages_per_s` is dropped with one log line per second.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Mapping, Sequence
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
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from fleet.csms.adapter import CompositeSchedule, ConnectorProfile, ConnectorRef, MeterSample
from fleet.csms.hub import CentralSystem
from fleet.csms.profiles import composite_on_slots, iso, parse_time, profile_v16, profile_v201

LOG = logging.getLogger("fleet.csms.ocpp")
SUBPROTOCOLS = ("ocpp2.0.1", "ocpp1.6")
MAX_MESSAGE_BYTES = 64 * 1024  # a charger message is a few kB; anything larger is refused by the socket
ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"


def _kwh(value: Any, unit: str | None) -> float:
    v = float(value)
    return v if (unit or "Wh").lower() == "kwh" else v / 1000.0


def _kw(value: Any, unit: str | None) -> float:
    v = float(value)
    return v if (unit or "W").lower() == "kw" else v / 1000.0


def read_meter(
    values: Sequence[Mapping[str, Any]], unit_key: str
) -> list[tuple[dt.datetime, float | None, float | None]]:
    """(timestamp, energy register [kWh], power [kW]) of each meter value (snake_case keys, either version)."""
    out = []
    for mv in values:
        energy = power = None
        for sv in mv.get("sampled_value", []):
            measurand = sv.get("measurand", ENERGY)
            unit = sv.get("unit") if unit_key == "unit" else (sv.get("unit_of_measure") or {}).get("unit")
            if measurand == ENERGY:
                energy = _kwh(sv["value"], unit)
            elif measurand == POWER:
                power = _kw(sv["value"], unit)
        out.append((parse_time(mv["timestamp"]), energy, power))
    return out


class _Guarded:
    """Per-connection flood guard in front of the library's message routing."""

    max_messages_per_s: float = 200.0
    hub: CentralSystem

    def _guard_init(self) -> None:
        self._bucket = self.max_messages_per_s
        self._refill = time.monotonic()
        self._dropped = 0
        self._last_drop_log = 0.0

    async def route_message(self, raw_msg: str) -> None:  # type: ignore[override]
        now = time.monotonic()
        self._bucket = min(
            self.max_messages_per_s, self._bucket + (now - self._refill) * self.max_messages_per_s
        )
        self._refill = now
        if self._bucket < 1.0:
            self._dropped += 1
            if now - self._last_drop_log > 1.0:
                LOG.warning("%s: message flood, %d messages dropped so far", self.id, self._dropped)  # type: ignore[attr-defined]
                self._last_drop_log = now
            return
        self._bucket -= 1.0
        try:
            json.loads(raw_msg)
        except (TypeError, ValueError):
            LOG.warning("%s: malformed message dropped: %.80r", self.id, raw_msg)  # type: ignore[attr-defined]
            return
        self.hub.seen(self.id, self.hub.clock())  # type: ignore[attr-defined]
        await super().route_message(raw_msg)  # type: ignore[misc]


class Ocpp16(_Guarded, ChargePoint16):
    """A charger speaking OCPP 1.6J, seen from the CSMS."""

    protocol = "ocpp1.6"

    def __init__(
        self, charger_id: str, connection: Any, hub: CentralSystem, response_timeout: float = 10
    ) -> None:
        super().__init__(charger_id, connection, response_timeout=response_timeout)
        self.charger_id, self.hub = charger_id, hub
        self._guard_init()

    # ---- calls from the charger ------------------------------------------------------------------------------
    @on(Action16.boot_notification)
    def on_boot16(
        self, charge_point_vendor: str, charge_point_model: str, **_: Any
    ) -> result16.BootNotification:
        self.hub.on_boot(self.id, charge_point_vendor, charge_point_model)
        return result16.BootNotification(
            current_time=iso(self.hub.clock()), interval=self.hub.heartbeat_s, status="Accepted"
        )

    @on(Action16.heartbeat)
    def on_heartbeat16(self, **_: Any) -> result16.Heartbeat:
        return result16.Heartbeat(current_time=iso(self.hub.clock()))

    @on(Action16.status_notification)
    def on_status16(self, connector_id: int, status: str, timestamp: str | None = None, **_: Any) -> Any:
        if connector_id > 0:
            when = parse_time(timestamp) if timestamp else self.hub.clock()
            self.hub.on_status(ConnectorRef(self.id, connector_id), status, when)
        return result16.StatusNotification()

    @on(Action16.authorize)
    def on_authorize16(self, id_tag: str, **_: Any) -> result16.Authorize:
        ok = self.hub.authorize(id_tag)
        return result16.Authorize(id_tag_info={"status": "Accepted" if ok else "Invalid"})

    @on(Action16.start_transaction)
    def on_start16(self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any) -> Any:
        ok = self.hub.authorize(id_tag)
        tx = self.hub.next_transaction_id()
        if ok:
            self.hub.on_transaction_start(
                ConnectorRef(self.id, connector_id),
                id_tag,
                str(tx),
                meter_start / 1000.0,
                parse_time(timestamp),
            )
        return result16.StartTransaction(
            transaction_id=tx, id_tag_info={"status": "Accepted" if ok else "Invalid"}
        )

    @on(Action16.meter_values)
    def on_meter16(
        self, connector_id: int, meter_value: list, transaction_id: int | None = None, **_: Any
    ) -> Any:
        ref = ConnectorRef(self.id, connector_id)
        tx = None if transaction_id is None else str(transaction_id)
        for when, energy, power in read_meter(meter_value, "unit"):
            if energy is not None:
                self.hub.on_meter(MeterSample(ref, when, energy, power, tx))
        return result16.MeterValues()

    @on(Action16.stop_transaction)
    def on_stop16(self, meter_stop: int, timestamp: str, transaction_id: int, **_: Any) -> Any:
        for ref, state in list(self.hub.states.items()):
            if ref.charger_id == self.id and state.transaction_id == str(transaction_id):
                self.hub.on_transaction_end(
                    ref, str(transaction_id), meter_stop / 1000.0, parse_time(timestamp)
                )
        return result16.StopTransaction(id_tag_info={"status": "Accepted"})

    # ---- ChargerAdapter ----------------------------------------------------------------------------------------
    async def send_profile(self, profile: ConnectorProfile) -> str:
        res = await self.call(
            call16.SetChargingProfile(
                connector_id=profile.ref.connector, cs_charging_profiles=profile_v16(profile)
            )
        )
        return "CallError" if res is None else str(res.status)

    async def read_composite_schedule(
        self, connector: int, grid_start: dt.datetime, slot_minutes: int, n_slots: int, duration_s: int
    ) -> CompositeSchedule | None:
        res = await self.call(
            call16.GetCompositeSchedule(connector_id=connector, duration=duration_s, charging_rate_unit="W")
        )
        if res is None or res.status != "Accepted" or not res.charging_schedule:
            return None
        sched = res.charging_schedule
        start = parse_time(res.schedule_start or sched.get("start_schedule"))
        return composite_on_slots(
            start,
            int(sched.get("duration") or duration_s),
            sched["charging_rate_unit"],
            sched["charging_schedule_period"],
            grid_start,
            slot_minutes,
            n_slots,
        )

    async def close(self) -> None:
        await self._connection.close()


class Ocpp201(_Guarded, ChargePoint201):
    """A charging station speaking OCPP 2.0.1, seen from the CSMS."""

    protocol = "ocpp2.0.1"

    def __init__(
        self, charger_id: str, connection: Any, hub: CentralSystem, response_timeout: float = 10
    ) -> None:
        super().__init__(charger_id, connection, response_timeout=response_timeout)
        self.charger_id, self.hub = charger_id, hub
        self._guard_init()

    @on(Action201.boot_notification)
    def on_boot201(self, charging_station: dict, reason: str, **_: Any) -> result201.BootNotification:
        self.hub.on_boot(self.id, charging_station.get("vendor_name", ""), charging_station.get("model", ""))
        return result201.BootNotification(
            current_time=iso(self.hub.clock()), interval=self.hub.heartbeat_s, status="Accepted"
        )

    @on(Action201.heartbeat)
    def on_heartbeat201(self, **_: Any) -> result201.Heartbeat:
        return result201.Heartbeat(current_time=iso(self.hub.clock()))

    @on(Action201.status_notification)
    def on_status201(self, timestamp: str, connector_status: str, evse_id: int, **_: Any) -> Any:
        self.hub.on_status(ConnectorRef(self.id, evse_id), connector_status, parse_time(timestamp))
        return result201.StatusNotification()

    @on(Action201.authorize)
    def on_authorize201(self, id_token: dict, **_: Any) -> result201.Authorize:
        ok = self.hub.authorize(id_token.get("id_token", ""))
        return result201.Authorize(id_token_info={"status": "Accepted" if ok else "Invalid"})

    @on(Action201.transaction_event)
    def on_transaction201(
        self,
        event_type: str,
        timestamp: str,
        transaction_info: dict,
        evse: dict | None = None,
        id_token: dict | None = None,
        meter_value: list | None = None,
        **_: Any,
    ) -> Any:
        tx = str(transaction_info["transaction_id"])
        when = parse_time(timestamp)
        ref = None
        if evse is not None:
            ref = ConnectorRef(self.id, int(evse["id"]))
        else:
            ref = next(
                (r for r, s in self.hub.states.items() if r.charger_id == self.id and s.transaction_id == tx),
                None,
            )
        readings = read_meter(meter_value or [], "unit_of_measure")
        tag = (id_token or {}).get("id_token")
        ok = tag is None or self.hub.authorize(tag)
        if ref is None:
            LOG.warning("%s: transaction event for unknown transaction %s ignored", self.id, tx)
        elif event_type == "Started":
            if ok:
                start = next((e for _, e, _ in readings if e is not None), 0.0)
                self.hub.on_transaction_start(ref, tag, tx, start, when)
        else:
            for t, energy, power in readings:
                if energy is not None:
                    self.hub.on_meter(MeterSample(ref, t, energy, power, tx))
            if event_type == "Ended":
                last = next((e for _, e, _ in reversed(readings) if e is not None), None)
                self.hub.on_transaction_end(ref, tx, last, when)
        if tag is None:
            return result201.TransactionEvent()
        return result201.TransactionEvent(id_token_info={"status": "Accepted" if ok else "Invalid"})

    @on(Action201.meter_values)
    def on_meter201(self, evse_id: int, meter_value: list, **_: Any) -> Any:
        ref = ConnectorRef(self.id, evse_id)
        for when, energy, power in read_meter(meter_value, "unit_of_measure"):
            if energy is not None:
                self.hub.on_meter(MeterSample(ref, when, energy, power, None))
        return result201.MeterValues()

    async def send_profile(self, profile: ConnectorProfile) -> str:
        res = await self.call(
            call201.SetChargingProfile(evse_id=profile.ref.connector, charging_profile=profile_v201(profile))
        )
        return "CallError" if res is None else str(res.status)

    async def read_composite_schedule(
        self, connector: int, grid_start: dt.datetime, slot_minutes: int, n_slots: int, duration_s: int
    ) -> CompositeSchedule | None:
        res = await self.call(
            call201.GetCompositeSchedule(duration=duration_s, evse_id=connector, charging_rate_unit="W")
        )
        if res is None or res.status != "Accepted" or not res.schedule:
            return None
        sched = res.schedule
        return composite_on_slots(
            parse_time(sched["schedule_start"]),
            int(sched["duration"]),
            sched["charging_rate_unit"],
            sched["charging_schedule_period"],
            grid_start,
            slot_minutes,
            n_slots,
        )

    async def close(self) -> None:
        await self._connection.close()


async def _handle(hub: CentralSystem, connection: ServerConnection, max_messages_per_s: float) -> None:
    path = connection.request.path if connection.request else "/"
    charger_id = path.rstrip("/").rsplit("/", 1)[-1]
    protocol = connection.subprotocol
    if not charger_id or protocol not in SUBPROTOCOLS:
        LOG.warning("connection refused: charger id %r, subprotocol %r", charger_id, protocol)
        await connection.close(code=1002, reason="OCPP subprotocol ocpp1.6 or ocpp2.0.1 required")
        return
    cls = Ocpp16 if protocol == "ocpp1.6" else Ocpp201
    cp = cls(charger_id, connection, hub)
    cp.max_messages_per_s = max_messages_per_s
    hub.on_connect(cp)
    try:
        await cp.start()
    except ConnectionClosed:
        pass
    except Exception:
        LOG.exception("%s: connection ended by an error", charger_id)
    finally:
        if hub.adapters.get(charger_id) is cp:
            hub.on_disconnect(charger_id)


async def start_server(
    hub: CentralSystem, host: str = "127.0.0.1", port: int = 9000, max_messages_per_s: float = 200.0
) -> Server:
    """Serve chargers at ws://host:port/<charger id> (port 0: any free port; read it from the server's sockets)."""
    return await serve(
        lambda conn: _handle(hub, conn, max_messages_per_s),
        host,
        port,
        subprotocols=list(SUBPROTOCOLS),  # type: ignore[arg-type]
        max_size=MAX_MESSAGE_BYTES,
    )


def server_port(server: Server) -> int:
    return int(next(iter(server.sockets)).getsockname()[1])


async def run_forever(hub: CentralSystem, host: str, port: int, check_every_s: float = 60.0) -> None:
    """`evfleet csms serve`: serve until cancelled; check deviations and re-plan every `check_every_s`."""
    server = await start_server(hub, host, port)
    LOG.info(
        "CSMS listening on ws://%s:%d/<charger id> (%s)", host, server_port(server), ", ".join(SUBPROTOCOLS)
    )
    try:
        while True:
            await asyncio.sleep(check_every_s)
            hub.check()
            await hub.maybe_replan()
    finally:
        server.close()
        await server.wait_closed()
