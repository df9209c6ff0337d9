"""The CSMS and 20 simulated chargers (10 OCPP 1.6J, 10 OCPP 2.0.1) through one time-compressed night on
loopback: profiles sent and read back, meter values stored as sessions, well-behaved trucks within 1 % of plan,
every misbehaving charger flagged, and a late truck re-planned without costing any other truck its readiness."""

from __future__ import annotations

import asyncio

import pytest

from charging import schedule, synthetic_depot
from fleet.csms.deviation import Alert
from fleet.csms.scenario import SimulatedNight, run_simulated_night

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


async def _run_night() -> SimulatedNight:
    problem = synthetic_depot(20, seed=7)
    day_ahead = schedule(problem, time_limit_s=5.0, baselines=False)
    order = sorted((v for v in day_ahead.vehicles), key=lambda v: v.connector or "")
    behaviours = {v.id: MISBEHAVIOURS[i // 2] for i, v in enumerate(order[:10])}  # one of each per version
    normal = [v for v in order[10:] if sum(v.power_kw) * problem.dt_h > 10]
    departures = {v.id: v.departure for v in problem.vehicles}
    late = max(normal, key=lambda v: (departures[v.id], -sum(v.power_kw))).id
    return await run_simulated_night(problem, day_ahead, behaviours=behaviours, late={late: 150}, speed=SPEED)


@pytest.fixture(scope="module")
def night() -> SimulatedNight:
    return asyncio.run(_run_night())


def _alerts(night: SimulatedNight, plate: str) -> set[str]:
    return {a.kind for a in night.hub.alerts if a.plate == plate}


def test_both_versions_boot_and_the_plan_is_read_back_equal(night: SimulatedNight) -> None:
    versions = {s.version for s in night.sims}
    assert versions == {"1.6", "2.0.1"} and len(night.sims) == 20
    for sim in night.sims:
        verdict = night.verdicts[next(r for r in night.plan.profiles if r.charger_id == sim.charger_id)]
        expected = {"reject": "Rejected", "no_readback": "failed"}.get(sim.behaviour, "equal")
        assert verdict == expected, (sim.charger_id, sim.version, sim.behaviour, verdict)


def test_well_behaved_trucks_get_their_planned_energy_within_one_percent(night: SimulatedNight) -> None:
    checked = 0
    for sim in night.sims:
        if sim.behaviour != "normal" or sim.truck is None:
            continue
        planned = sim.truck.need_kwh
        assert sim.delivered_kwh == pytest.approx(planned, rel=0.01, abs=0.05), sim.truck.plate
        checked += 1
    assert checked == 10


def test_every_misbehaving_charger_is_flagged_and_no_normal_one_is(night: SimulatedNight) -> None:
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


def test_meter_values_become_sessions_matching_the_chargers_meters(night: SimulatedNight) -> None:
    sessions = {r.plate: r for r in night.hub.recorder.sessions}
    for sim in night.sims:
        assert sim.truck is not None
        if sim.behaviour == "disconnect":
            continue  # what it charged after leaving is unknown to the CSMS
        assert sessions[sim.truck.plate].kwh == pytest.approx(sim.delivered_kwh, abs=0.01), sim.truck.plate
        assert sessions[sim.truck.plate].ended_at > sessions[sim.truck.plate].started_at


def test_late_truck_triggers_a_replan_that_keeps_every_other_truck_ready(night: SimulatedNight) -> None:
    assert night.hub.replans, "no re-plan"
    late_ref = next(str(r) for r, t in night.plan.trucks.items() if t.plate == night.late)
    assert any(late_ref in which for _, which in night.hub.replans), night.hub.replans
    assert night.hub.plan is not None and night.hub.plan.revision >= 2
    late = next(s for s in night.sims if s.truck and s.truck.plate == night.late)
    assert late.delivered_kwh > 0
    for sim in night.sims:
        if sim.behaviour == "normal" and sim.truck is not None and sim.truck.plate != night.late:
            assert sim.delivered_kwh >= 0.99 * sim.truck.need_kwh, sim.truck.plate


def test_the_replan_knows_tonights_peak(night: SimulatedNight) -> None:
    from fleet.csms.scenario import charging_peak_kw

    peak = charging_peak_kw(night.problem, night.hub)
    # The rejecting and ignoring chargers (two each) draw their full 60 kW from plug-in: at least one slot has
    # 60 kW metered; nothing can exceed every charger at full power.
    assert 60.0 - 1e-6 <= peak <= sum(s.max_kw for s in night.sims)
