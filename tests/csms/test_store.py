"""The database side: tonight's stored plan becomes profiles, and the night's meter values, alerts and connector
states land in ChargingSession, ChargingAlert and ConnectorLiveState rows that the observed baseline reads."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.csms.hub import CentralSystem
from fleet.csms.ocpp_adapter import server_port, start_server
from fleet.csms.simulator import NightClock, SimCharger, SimTruck, lockstep_now
from fleet.csms.store import DbRecorder, load_directory, night_plan_from_db
from fleet.models import (
    LOCAL_TZ,
    ChargingAlert,
    ChargingPlan,
    ChargingSession,
    ChargingSlot,
    ConnectorLiveState,
    PlanStatus,
)
from fleet.planning.inputs import night_sessions
from fleet.scope import Scope

SERVICE_DATE = dt.date(2026, 11, 25)
START = dt.datetime(2026, 11, 24, 22, 0, tzinfo=LOCAL_TZ)


def _publish_plan(session: Session, directory) -> None:  # type: ignore[no-untyped-def]
    refs = sorted(directory.connectors, key=lambda r: r.charger_id)[:2]
    vehicles = sorted(directory.vehicles_by_tag.values(), key=lambda v: v.plate)[:2]
    plan = ChargingPlan(
        lessor_id=directory.lessor_id,
        lessee_id=directory.lessee_id,
        depot_id=directory.depot_id,
        service_date=SERVICE_DATE,
        version=1,
        status=PlanStatus.CURRENT,
        horizon_start=START,
        horizon_end=START + dt.timedelta(hours=4),
        problem={
            "vehicles": [
                {"id": v.plate, "departure": (START + dt.timedelta(hours=4)).isoformat()} for v in vehicles
            ]
        },
    )
    session.add(plan)
    session.flush()
    for ref, v in zip(refs, vehicles, strict=True):
        for k in range(2, 6):  # 30 kW for an hour from 22:30
            session.add(
                ChargingSlot(
                    lessor_id=plan.lessor_id,
                    lessee_id=v.lessee_id,
                    plan_id=plan.id,
                    vehicle_id=v.id,
                    connector_id=directory.connectors[ref].id,
                    slot_start=START + dt.timedelta(minutes=15 * k),
                    power_kw=30.0,
                )
            )
    session.commit()


async def _night(engine: Engine) -> list[SimCharger]:
    with Session(engine) as session:
        directory = load_directory(session, "SZ-BA")
        _publish_plan(session, directory)
        plan = night_plan_from_db(session, directory, SERVICE_DATE)
    assert plan is not None and len(plan.profiles) == 2
    # Two simulated hours before the trucks arrive (1.2 s of wall time at this speed): both chargers connect and get
    # their profiles before charging starts even on a loaded machine; with 10 minutes (0.1 s) a slow start let the
    # well-behaved charger draw full power before its profile arrived, a false "above_profile".
    clock = NightClock(START - dt.timedelta(minutes=120), speed=6000)
    hub = CentralSystem(
        directory.tags, DbRecorder(engine, directory, SERVICE_DATE), clock=clock, heartbeat_s=900
    )
    server = await start_server(hub, port=0)
    url = f"ws://127.0.0.1:{server_port(server)}"
    sims = []
    for (ref, truck), version, behaviour in zip(
        sorted(plan.trucks.items(), key=lambda kv: kv[0].charger_id),
        ("1.6", "2.0.1"),
        ("normal", "ignore"),
        strict=True,
    ):
        sims.append(
            SimCharger(
                ref.charger_id,
                version,
                60.0,
                SimTruck(truck.plate, truck.id_tag, START, truck.departure, truck.planned_kwh, 60.0),
                behaviour=behaviour,
            )
        )
    tasks = [
        asyncio.create_task(s.run(url, clock, plan.profiles[next(iter(plan.profiles))].end)) for s in sims
    ]
    while len(hub.adapters) < 2:
        await asyncio.sleep(0.01)
    await hub.push_plan(plan)
    while not all(s.done for s in sims):
        await asyncio.sleep(0.05)
        hub.check(lockstep_now(sims, clock))
    await asyncio.gather(*tasks)
    hub.check(lockstep_now(sims, clock))
    server.close()
    await server.wait_closed()
    return sims


@pytest.fixture(scope="module")
def stored(demo_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, list[SimCharger]]:
    import sqlite3

    from fleet.db import make_engine

    dst = tmp_path_factory.mktemp("csms") / "csms.db"
    with sqlite3.connect(demo_engine.url.database) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    engine = make_engine(f"sqlite:///{dst}")
    return engine, asyncio.run(_night(engine))


def test_meter_values_are_stored_as_charging_sessions(stored: tuple[Engine, list[SimCharger]]) -> None:
    engine, sims = stored
    with Session(engine) as session:
        rows = session.exec(select(ChargingSession).where(ChargingSession.started_at >= START)).all()
        assert sorted(round(r.kwh, 2) for r in rows) == sorted(round(s.delivered_kwh, 2) for s in sims)
        assert all(r.depot_id is not None and r.connector_id is not None for r in rows)
        assert sims[0].delivered_kwh == pytest.approx(30.0, rel=0.01)  # the plan: 30 kW for an hour
        directory = load_directory(session, "SZ-BA")
        plates = {v.id: v.plate for v in directory.vehicles_by_tag.values()}
        observed = night_sessions(
            session, Scope.lessor(directory.lessor_id), directory.depot_id, SERVICE_DATE, plates
        )
        assert sorted(round(o[3], 2) for o in observed) == sorted(round(s.delivered_kwh, 2) for s in sims)


def test_alerts_and_live_states_are_stored(stored: tuple[Engine, list[SimCharger]]) -> None:
    engine, sims = stored
    with Session(engine) as session:
        alerts = session.exec(select(ChargingAlert)).all()
        ignoring = sims[1]
        assert {a.kind for a in alerts} >= {"above_profile"}
        assert all(a.vehicle_id is not None and a.service_date == SERVICE_DATE for a in alerts)
        # The misbehaving charger's connector (by its charger id: both chargers may deliver the same kWh).
        directory = load_directory(session, "SZ-BA")
        ignoring_connector = next(
            c.id for r, c in directory.connectors.items() if r.charger_id == ignoring.charger_id
        )
        assert {a.connector_id for a in alerts} == {ignoring_connector}
        states = session.exec(select(ConnectorLiveState)).all()
        assert len(states) == 2 and {s.protocol for s in states} == {"ocpp1.6", "ocpp2.0.1"}
        assert {s.readback for s in states} == {"equal"}


def test_the_chargers_service_lists_states_and_alerts(stored: tuple[Engine, list[SimCharger]]) -> None:
    from fleet.services import chargers

    engine, _ = stored
    with Session(engine) as session:
        states = chargers.connector_states(session, None, "SZ-BA")
        alerts = chargers.alerts(session, None, [SERVICE_DATE], "SZ-BA")
    assert len(states) >= 2 and set(states["status"]) >= {"Unknown"}
    assert set(states.loc[states["charger"] != "", "protocol"]) == {"ocpp1.6", "ocpp2.0.1"}
    assert not alerts.empty and set(alerts["depot"]) == {"SZ-BA"} and alerts["truck"].ne("").all()
