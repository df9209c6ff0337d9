"""Bad or hostile messages from one charger are answered per the protocol or dropped with a log line, and the
CSMS keeps serving the other chargers."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging

import pytest
from websockets.asyncio.client import connect

from fleet.csms.hub import CentralSystem
from fleet.csms.ocpp_adapter import server_port, start_server
from fleet.csms.simulator import NightClock, SimCharger, SimTruck

START = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)


async def _scenario() -> tuple[list, int, CentralSystem, SimCharger]:
    clock = NightClock(START, speed=20000)
    hub = CentralSystem({"TAG1": "粤B·D00001"}, clock=clock, heartbeat_s=900)
    server = await start_server(hub, port=0, max_messages_per_s=50)
    url = f"ws://127.0.0.1:{server_port(server)}"
    answers = []
    async with connect(f"{url}/EVIL", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await ws.send("{not json")
        await ws.send(json.dumps([2, "u1", "FlyToTheMoon", {}]))
        answers.append(json.loads(await ws.recv()))
        await ws.send(json.dumps([2, "u2", "MeterValues", {"connectorId": "one"}]))  # schema violation
        answers.append(json.loads(await ws.recv()))
        flood = json.dumps([2, "f", "Heartbeat", {}])
        for _ in range(500):
            await ws.send(flood)
        replies = 0
        try:
            while True:
                await asyncio.wait_for(ws.recv(), timeout=0.3)
                replies += 1
        except TimeoutError:
            pass
        # A well-behaved charger is served meanwhile: boots, authorises, charges, stops.
        now = clock()
        arrive = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
        good = SimCharger(
            "GOOD",
            "2.0.1",
            60.0,
            SimTruck("粤B·D00001", "TAG1", arrive, arrive + dt.timedelta(hours=1), 20.0, 60.0),
        )
        await good.run(url, clock, arrive + dt.timedelta(hours=1, minutes=10))
    server.close()
    await server.wait_closed()
    return answers, replies, hub, good


def test_hostile_messages_are_answered_or_dropped_and_others_are_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    answers, replies, hub, good = asyncio.run(_scenario())
    unknown, invalid = answers
    assert unknown[0] == 4 and unknown[1] == "u1" and unknown[2] in ("NotImplemented", "NotSupported")
    assert invalid[0] == 4 and invalid[1] == "u2"
    assert 0 < replies < 500  # the flood is answered up to the rate limit, the rest dropped
    text = caplog.text
    assert "malformed message dropped" in text and "message flood" in text
    assert good.delivered_kwh == pytest.approx(20.0)
    assert [r.kwh for r in hub.recorder.sessions] == [pytest.approx(20.0, abs=0.01)]
