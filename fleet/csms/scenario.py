"""A night as the CSMS sees it, built from a charging problem and its schedule (the pure `charging` types):
one profile and one truck per connector, and the matching simulated chargers. Used by the tests, the demo
(`evfleet csms simulate`) and the rolling-horizon bench; the database path builds the same `NightPlan` from
the stored plan (`fleet.csms.store.night_plan`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from charging.problem import ChargingProblem
from charging.result import ChargingSchedule
from fleet.csms.adapter import ConnectorProfile, ConnectorRef
from fleet.csms.deviation import TruckPlan
from fleet.csms.hub import CentralSystem, MemoryRecorder, NightPlan, Recorder
from fleet.csms.ocpp_adapter import server_port, start_server
from fleet.csms.simulator import NightClock, SimCharger, SimTruck, lockstep_now


def ref_for(connector_id: str) -> ConnectorRef:
    """The simulator's naming: one charger per connector, named after it, connector (EVSE) 1."""
    return ConnectorRef(connector_id, 1)


def night_plan(
    problem: ChargingProblem,
    schedule: ChargingSchedule,
    tags: Mapping[str, str],
    revision: int = 1,
    refs: Mapping[str, ConnectorRef] | None = None,
) -> NightPlan:
    """Profiles (limit = planned kW per slot, 0 where nobody charges) and trucks of a schedule.

    `tags` maps truck id -> id tag; `refs` maps the problem's connector id -> charger reference (default
    `ref_for`).A re-plan's problem starts later: its profiles start there.
    """
    connectors = problem.connector_by_id()
    vehicles = {v.id: v for v in problem.vehicles}
    start = problem.start
    profiles: dict[ConnectorRef, ConnectorProfile] = {}
    trucks: dict[ConnectorRef, TruckPlan] = {}
    for index, vs in enumerate(sorted(schedule.vehicles, key=lambda v: v.connector or "")):
        if vs.connector is None:
            continue
        ref = (refs or {}).get(vs.connector) or ref_for(vs.connector)
        limits = tuple(round(max(0.0, kw), 3) for kw in vs.power_kw)
        previous = profiles.get(ref)
        if previous is not None:  # a shared connector: the limits of its trucks add up (they never overlap)
            limits = tuple(a + b for a, b in zip(previous.limits_kw, limits, strict=True))
        profiles[ref] = ConnectorProfile(
            ref=ref,
            start=start,
            slot_minutes=problem.slot_minutes,
            limits_kw=limits,
            stack_level=revision,
            profile_id=revision * 1000 + index + 1,
            vehicle=vs.id,
        )
        v = vehicles[vs.id]
        trucks[ref] = TruckPlan(
            plate=vs.id,
            id_tag=tags.get(vs.id, ""),
            ref=ref,
            departure=v.departure,
            arrival=v.arrival,
            planned_kwh=round(sum(max(0.0, kw) for kw in vs.power_kw) * problem.dt_h, 4),
            max_kw=min(v.max_kw, connectors[vs.connector].max_kw),
        )
    return NightPlan(profiles=profiles, trucks=trucks, revision=revision)


def sim_chargers(
    problem: ChargingProblem,
    plan: NightPlan,
    versions: tuple[str, ...] = ("1.6",),
    behaviours: Mapping[str, str] | None = None,
    late_min: Mapping[str, float] | None = None,
) -> list[SimCharger]:
    """One simulated charger per planned connector, with the truck the plan puts there.

    `versions` cycles over the chargers; `behaviours` maps truck id -> misbehaviour; `late_min` delays a truck's
    arrival by so many minutes. A truck takes exactly its planned grid energy (its need, seen from the grid).
    """
    vehicles = {v.id: v for v in problem.vehicles}
    connectors = problem.connector_by_id()
    out = []
    for i, (ref, truck) in enumerate(sorted(plan.trucks.items(), key=lambda kv: kv[0].charger_id)):
        v = vehicles[truck.plate]
        late = dt.timedelta(minutes=(late_min or {}).get(truck.plate, 0.0))
        out.append(
            SimCharger(
                charger_id=ref.charger_id,
                version=versions[i % len(versions)],
                max_kw=connectors[ref.charger_id].max_kw if ref.charger_id in connectors else truck.max_kw,
                truck=SimTruck(
                    plate=truck.plate,
                    id_tag=truck.id_tag,
                    arrival=v.arrival + late,
                    departure=v.departure,
                    need_kwh=truck.planned_kwh,
                    max_kw=truck.max_kw,
                ),
                behaviour=(behaviours or {}).get(truck.plate, "normal"),
            )
        )
    return out


def replanner_for(problem: ChargingProblem, tags: Mapping[str, str], time_limit_s: float = 1.0):
    """A hub `Replanner` for a night planned from `problem`: the state at t from the hub's connectors (trucks
    plugged in and their metered energy; trucks gone; trucks not back yet kept as planned, or expected one slot
    from now when already overdue), re-planned with `charging.replan`."""
    from charging.replan import NightState, TruckState, replan

    vehicles = {v.id: v for v in problem.vehicles}
    efficiency = {c.id: c.efficiency for c in problem.connectors}

    def run(now: dt.datetime, hub: CentralSystem) -> NightPlan | None:
        plugged: dict[str, tuple[ConnectorRef, float]] = {}
        for ref, state in hub.states.items():
            plate = hub.tags.get(state.id_tag or "")
            if plate in vehicles and state.transaction_id is not None:
                plugged[plate] = (ref, state.session_kwh)
        finished = hub.finished - set(plugged)
        trucks = {}
        step = dt.timedelta(minutes=problem.slot_minutes)
        for plate, v in vehicles.items():
            if plate in plugged:
                ref, kwh = plugged[plate]
                trucks[plate] = TruckState(
                    energy_kwh=v.energy_arrival_kwh + kwh * efficiency.get(ref.charger_id, 1.0),
                    connector=ref.charger_id,
                )
            elif plate in finished:
                trucks[plate] = TruckState(missing=True)
            elif v.arrival <= now:
                trucks[plate] = TruckState(arrival=now + step)  # overdue: expected soon
        result = replan(
            problem,
            NightState(at=now, trucks=trucks, peak_kw_so_far=charging_peak_kw(problem, hub)),
            time_limit_s=time_limit_s,
        )
        revision = (hub.plan.revision if hub.plan else 1) + 1
        plan = night_plan(result.problem, result.schedule, tags, revision=revision)
        delivered = {plate: kwh for plate, (_, kwh) in plugged.items()}
        plan.trucks = {ref: replace_truck(t, delivered.get(t.plate, 0.0)) for ref, t in plan.trucks.items()}
        if hub.plan is not None:  # trucks not re-planned (gone) keep their day-ahead plan for the record
            for ref, t in hub.plan.trucks.items():
                plan.trucks.setdefault(ref, t)
        return plan

    return run


def charging_peak_kw(problem: ChargingProblem, hub: CentralSystem) -> float:
    """Tonight's peak so far [kW]: the metered chargers' load per slot plus the site's planned base load (the
    CSMS does not read the site meter), so a re-plan does not pay the demand charge again for a peak already set."""
    from fleet.csms.deviation import slot_energy

    n, hours = problem.n_slots, problem.dt_h
    load = [float(problem.site.base_load_kw[k]) if problem.site.base_load_kw else 0.0 for k in range(n)]
    grid = ConnectorProfile(ConnectorRef("", 0), problem.start, problem.slot_minutes, (0.0,) * n)
    for state in hub.states.values():
        for k, kwh in slot_energy(state, grid).items():
            if 0 <= k < n:
                load[k] += kwh / hours
    return max(load, default=0.0)


def replace_truck(truck: TruckPlan, delivered_kwh: float) -> TruckPlan:
    """A re-planned truck: the night's energy is what it had plus what the re-plan gives."""
    from dataclasses import replace

    return replace(
        truck,
        planned_kwh=round(truck.planned_kwh + delivered_kwh, 4),
        delivered_before_kwh=delivered_kwh,
    )


@dataclass
class SimulatedNight:
    """The outcome of `run_simulated_night`: the plan, the chargers (with what they delivered) and the hub."""

    problem: ChargingProblem
    plan: NightPlan
    sims: list[SimCharger]
    verdicts: dict[ConnectorRef, str]
    hub: CentralSystem
    late: str | None


async def run_simulated_night(
    problem: ChargingProblem,
    day_ahead: ChargingSchedule,
    *,
    versions: tuple[str, ...] = ("1.6", "2.0.1"),
    behaviours: Mapping[str, str] | None = None,
    late: Mapping[str, float] | None = None,
    speed: float = 12000.0,
    recorder: Recorder | None = None,
) -> SimulatedNight:
    """The CSMS on a loopback port and one simulated charger per planned connector through a compressed night:
    profiles pushed and read back, deviation checks and re-plans in lockstep with the chargers' progress."""
    tags = {v.id: f"LZ{i:015d}" for i, v in enumerate(problem.vehicles)}  # VIN-like id tags
    plan = night_plan(problem, day_ahead, tags)
    clock = NightClock(problem.start - dt.timedelta(minutes=10), speed=speed)
    hub = CentralSystem(
        {tag: plate for plate, tag in tags.items()},
        recorder if recorder is not None else MemoryRecorder(),
        clock=clock,
        heartbeat_s=900,
        replanner=replanner_for(problem, tags),
    )
    server = await start_server(hub, port=0)
    url = f"ws://127.0.0.1:{server_port(server)}"
    sims = sim_chargers(problem, plan, versions, behaviours, late_min=late)
    tasks = [asyncio.create_task(s.run(url, clock, problem.end)) for s in sims]
    try:
        while len(hub.adapters) < len(sims):
            await asyncio.sleep(0.01)
        verdicts = await hub.push_plan(plan)
        while clock() < problem.end:
            await asyncio.sleep(0.1)
            now = lockstep_now(sims, clock)
            hub.check(now)
            await hub.maybe_replan(now)
        await asyncio.gather(*tasks, return_exceptions=True)
        hub.check(problem.end)
        hub.finish_night(problem.end)
    finally:
        for task in tasks:
            task.cancel()
        server.close()
        await server.wait_closed()
    return SimulatedNight(problem, plan, sims, verdicts, hub, next(iter(late or {}), None))
