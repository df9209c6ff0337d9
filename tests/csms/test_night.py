"""The CSMS and 20 simulated chargers (10 OCPP 1.6J, 10 OCPP 2.0.1) through one time-compressed night on
loopback: profiles sent and read back, meter values stored as sessions, well-behaved trucks within 1 % of plan,
every misbehaving charger flagged, and a late truck re-planned without costing any other truck its readiness."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

import pytest

from charging import schedule, synthetic_depot
from charging.problem import ChargingProblem
from fleet.csms.deviation import Alert
from fleet.csms.hub import CentralSystem, MemoryRecorder, NightPlan
from fleet.csms.ocpp_adapter import server_port, start_server
from fleet.csms.scenario import night_plan, replanner_for, sim_chargers
from fleet.csms.simulator import NightClock, SimCharger, lockstep_now

SPEED = 12000.0  # a 16-hour night in 4.8 s
MISBEHAVIOURS = ("reject", "ignore", "no_readback", "disconnect", "drop_meter")
# What each misbehaviour must raise (at least one of).
EXPECTED = {
    "reject": {"profile_rejected", "above_profile"},
    "ignore": {"profile_not_followed", "above_profile"},
    "no_readback": {"readback_failed"},
    "disconnect": {"charger_silent"},
    "drop_meter": {"charger_silent"},
}


@dataclass
class Night:
    problem: ChargingProblem
    plan: NightPlan
    sims: list[SimCharger]
    verdicts: dict
    hub: CentralSystem
    late: str


async def _run_night() -> Night:
    problem = synthetic_depot(20, seed=7)
    day_ahead = schedule(problem, time_limit_s=5.0, baselines=False)
    tags = {v.id: f"LZ{i:015d}" for i, v in enumerate(problem.vehicles)}  # VIN-like id tags
    plan = night_plan(problem, day_ahead, tags)
    order = sorted(plan.trucks.values(), key=lambda t: t.ref.charger_id)
    behaviours = {t.plate: MISBEHAVIOURS[i // 2] for i, t in enumerate(order[:10])}  # one of each per version
    normal = [t for t in order[10:] if t.planned_kwh > 10]
    late = max(normal, key=lambda t: (t.departure, -t.planned_kwh)).plate
    clock = NightClock(problem.start - dt.timedelta(minutes=10), speed=SPEED)
    hub = CentralSystem(
        {tag: plate for plate, tag in tags.items()},
        MemoryRecorder(),
        clock=clock,
        heartbeat_s=900,
        replanner=replanner_for(problem, tags),
    )
    server = await start_server(hub, port=0)
    url = f"ws://127.0.0.1:{server_port(server)}"
    sims = sim_chargers(problem, plan, ("1.6", "2.0.1"), behaviours, late_min={late: 150})
    tasks = [asyncio.create_task(s.run(url, clock, problem.end)) for s in sims]
    while len(hub.adapters) < len(sims):
        await asyncio.sleep(0.01)
    verdicts = await hub.push_plan(plan)
    while clock() < problem.end:
        await asyncio.sleep(0.1)
        now = lockstep_now(sims, clock)
        hub.check(now)
        await hub.maybe_replan(now)
    await asyncio.gather(*tasks, return_exceptions=True)
    hub.check()
    hub.finish_night()
    server.close()
    await server.wait_closed()
    return Night(problem, plan, sims, verdicts, hub, late)


@pytest.fixture(scope="module")
def night() -> Night:
    return asyncio.run(_run_night())


def _alerts(night: Night, plate: str) -> set[str]:
    return {a.kind for a in night.hub.alerts if a.plate == plate}


def test_both_versions_boot_and_the_plan_is_read_back_equal(night: Night) -> None:
    versions = {s.version for s in night.sims}
    assert versions == {"1.6", "2.0.1"} and len(night.sims) == 20
    for sim in night.sims:
        verdict = night.verdicts[next(r for r in night.plan.profiles if r.charger_id == sim.charger_id)]
        expected = {"reject": "Rejected", "no_readback": "failed"}.get(sim.behaviour, "equal")
        assert verdict == expected, (sim.charger_id, sim.version, sim.behaviour, verdict)


def test_well_behaved_trucks_get_their_planned_energy_within_one_percent(night: Night) -> None:
    checked = 0
    for sim in night.sims:
        if sim.behaviour != "normal" or sim.truck is None:
            continue
        planned = sim.truck.need_kwh
        assert sim.delivered_kwh == pytest.approx(planned, rel=0.01, abs=0.05), sim.truck.plate
        checked += 1
    assert checked == 10


def test_every_misbehaving_charger_is_flagged_and_no_normal_one_is(night: Night) -> None:
    for sim in night.sims:
        assert sim.truck is not None
        kinds = _alerts(night, sim.truck.plate)
        if sim.behaviour == "normal":
            assert not kinds - {"behind_plan"} or sim.truck.plate == night.late, (sim.truck.plate, kinds)
            if sim.truck.plate != night.late:
                assert not kinds, (sim.truck.plate, kinds)
        else:
            assert kinds & EXPECTED[sim.behaviour], (sim.behaviour, sim.version, kinds)
    assert all(isinstance(a, Alert) and a.plate for a in night.hub.alerts)


def test_meter_values_become_sessions_matching_the_chargers_meters(night: Night) -> None:
    sessions = {r.plate: r for r in night.hub.recorder.sessions}
    for sim in night.sims:
        assert sim.truck is not None
        if sim.behaviour == "disconnect":
            continue  # what it charged after leaving is unknown to the CSMS
        assert sessions[sim.truck.plate].kwh == pytest.approx(sim.delivered_kwh, abs=0.01), sim.truck.plate
        assert sessions[sim.truck.plate].ended_at > sessions[sim.truck.plate].started_at


def test_late_truck_triggers_a_replan_that_keeps_every_other_truck_ready(night: Night) -> None:
    assert night.hub.replans, "no re-plan"
    late_ref = next(str(r) for r, t in night.plan.trucks.items() if t.plate == night.late)
    assert any(late_ref in which for _, which in night.hub.replans), night.hub.replans
    assert night.hub.plan is not None and night.hub.plan.revision >= 2
    late = next(s for s in night.sims if s.truck and s.truck.plate == night.late)
    assert late.delivered_kwh > 0
    for sim in night.sims:
        if sim.behaviour == "normal" and sim.truck is not None and sim.truck.plate != night.late:
            assert sim.delivered_kwh >= 0.99 * sim.truck.need_kwh, sim.truck.plate
