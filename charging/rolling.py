"""Rolling-horizon simulation of one night: the day-ahead plan executed as published, against re-planning from
the state at each arrival (`charging.replan`), against the baselines, under seeded noise in arrival times and
arrival energy. Pure; `evfleet bench charging-rolling` prints and stores the table.

Noise model (a set-up choice, not a sourced fact): each truck's arrival moves by N(0, sigma_arrival_min) minutes,
and with probability `p_late` by a further `late_min`; its arrival energy moves by N(0, sigma_energy share of its
need), clipped to [0, target]. Departures and targets are as planned. Every policy sees the real arrivals as they
happen; only the day-ahead plan and the re-plans see forecasts of the future.

Executing a plan: a truck draws its planned power in each slot it is really plugged in for, capped by what it
still needs to reach its target; a truck that arrives late loses the slots it missed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np

from charging.accounting import site_cost, slot_data
from charging.problem import ChargingProblem, Vehicle
from charging.replan import NightState, TruckState, replan
from charging.result import ChargingSchedule

READY_TOLERANCE_KWH = 0.5  # a truck is ready when it leaves within 0.5 kWh of its target


@dataclass(frozen=True)
class Noise:
    sigma_arrival_min: float = 30.0
    p_late: float = 0.1
    late_min: float = 120.0
    sigma_energy: float = 0.15

    def describe(self) -> str:
        return (
            f"arrival N(0, {self.sigma_arrival_min:g} min) + {self.late_min:g} min late with p={self.p_late:g}; "
            f"arrival energy N(0, {100 * self.sigma_energy:g} % of need)"
        )


@dataclass(frozen=True)
class PolicyResult:
    name: str
    energy_cny: float
    demand_night_cny: float
    peak_kw: float
    ready: int
    trucks: int
    shortfall_kwh: float
    replans: int = 0
    replan_max_s: float = 0.0
    fallbacks: int = 0  # re-plans that ran out of time and sent the EDF baseline instead
    not_optimal: int = 0  # re-plans the optimiser ended before proving optimality (time limit)

    @property
    def night_cny(self) -> float:
        return self.energy_cny + self.demand_night_cny


def realise(forecast: ChargingProblem, noise: Noise, seed: int) -> ChargingProblem:
    """The night as it really happens: noisy arrivals and arrival energies (same trucks, targets, departures)."""
    rng = np.random.default_rng(seed)
    step = timedelta(minutes=forecast.slot_minutes)
    vehicles = []
    for v in forecast.vehicles:
        shift = rng.normal(0.0, noise.sigma_arrival_min) + (
            noise.late_min if rng.random() < noise.p_late else 0.0
        )
        arrival = v.arrival + timedelta(minutes=float(round(shift)))
        arrival = min(max(arrival, forecast.start), v.departure - 2 * step)
        energy = v.energy_arrival_kwh + rng.normal(0.0, noise.sigma_energy * v.need_kwh)
        energy = float(min(max(0.0, energy), v.energy_target_kwh))
        vehicles.append(replace(v, arrival=arrival, energy_arrival_kwh=round(energy, 3)))
    return replace(forecast, vehicles=tuple(vehicles), name=f"{forecast.name} realised seed={seed}")


def _present(problem: ChargingProblem, v: Vehicle) -> np.ndarray:
    first, last = problem.usable_range(v)
    mask = np.zeros(problem.n_slots, dtype=bool)
    mask[first:last] = True
    return mask


def _execute(
    real: ChargingProblem,
    plan_kw: dict[str, np.ndarray],
    connectors: dict[str, str],
    energy: dict[str, float],
    slots: range,
) -> np.ndarray:
    """Run planned powers over `slots` on the real night; updates `energy` [kWh]; returns site kW per slot."""
    eff = {c.id: c.efficiency for c in real.connectors}
    load = np.zeros(real.n_slots)
    for v in real.vehicles:
        present = _present(real, v)
        e = eff.get(connectors.get(v.id, ""), 1.0)
        for t in slots:
            kw = float(plan_kw.get(v.id, np.zeros(real.n_slots))[t]) if present[t] else 0.0
            need_grid = max(0.0, v.energy_target_kwh - energy[v.id]) / e / real.dt_h
            kw = max(0.0, min(kw, need_grid, v.max_kw))
            energy[v.id] += kw * e * real.dt_h
            load[t] += kw
    return load


def _result(
    name: str, real: ChargingProblem, load: np.ndarray, energy: dict[str, float], **extra
) -> PolicyResult:  # type: ignore[no-untyped-def]
    data = slot_data(real)
    cost = site_cost(real, data.base + load, data)
    short = {v.id: max(0.0, v.energy_target_kwh - energy[v.id]) for v in real.vehicles}
    return PolicyResult(
        name=name,
        energy_cny=round(cost.energy, 2),
        demand_night_cny=round(cost.demand_night or 0.0, 2),
        peak_kw=round(float((data.base + load).max(initial=0.0)), 1),
        ready=sum(1 for s in short.values() if s <= READY_TOLERANCE_KWH),
        trucks=len(real.vehicles),
        shortfall_kwh=round(sum(short.values()), 2),
        **extra,
    )


def _from_schedule(real: ChargingProblem, s: ChargingSchedule, name: str) -> PolicyResult:
    energy = {v.id: v.energy_arrival_kwh for v in real.vehicles}
    eff = {c.id: c.efficiency for c in real.connectors}
    for vs in s.vehicles:
        e = eff.get(vs.connector or "", 1.0)
        energy[vs.id] += e * sum(max(0.0, kw) for kw in vs.power_kw) * real.dt_h
        energy[vs.id] = min(energy[vs.id], next(v.capacity_kwh for v in real.vehicles if v.id == vs.id))
    load = np.zeros(real.n_slots)
    for vs in s.vehicles:
        load += np.asarray(vs.power_kw)
    return _result(name, real, load, energy)


def simulate(
    forecast: ChargingProblem,
    day_ahead: ChargingSchedule,
    noise: Noise,
    seed: int,
    *,
    time_limit_s: float = 1.0,
    replan_every_slots: int = 4,
) -> tuple[ChargingProblem, list[PolicyResult]]:
    """Day-ahead as published, rolling (re-plan at each slot where a truck arrives off its forecast, and every
    `replan_every_slots` slots), and the baselines (uncontrolled, EDF, timer, balanced) on the realised night."""
    from charging.baselines import BASELINES

    real = realise(forecast, noise, seed)
    connectors = {vs.id: vs.connector or "" for vs in day_ahead.vehicles}
    plan = {vs.id: np.asarray(vs.power_kw, dtype=float) for vs in day_ahead.vehicles}
    energy = {v.id: v.energy_arrival_kwh for v in real.vehicles}
    day_ahead_load = _execute(real, plan, connectors, energy, range(real.n_slots))
    results = [_result("day-ahead", real, day_ahead_load, energy)]

    # Rolling: at slot t the depot knows who is plugged in (and their energy), who is overdue, who is to come.
    forecast_by_id = {v.id: v for v in forecast.vehicles}
    energy = {v.id: v.energy_arrival_kwh for v in real.vehicles}
    load = np.zeros(real.n_slots)
    plan = {k: a.copy() for k, a in plan.items()}
    step = timedelta(minutes=real.slot_minutes)
    replans, worst, fallbacks, not_optimal = 0, 0.0, 0, 0
    arrived_before: set[str] = set()
    for t in range(real.n_slots):
        now = real.start + t * step
        arrived = {v.id for v in real.vehicles if v.arrival <= now}
        surprise = any(
            abs((v.arrival - forecast_by_id[v.id].arrival).total_seconds()) > 900
            or abs(v.energy_arrival_kwh - forecast_by_id[v.id].energy_arrival_kwh) > 1.0
            for v in real.vehicles
            if v.id in arrived - arrived_before
        )
        overdue = any(
            v.id not in arrived and forecast_by_id[v.id].arrival + step <= now < v.departure
            for v in real.vehicles
        )
        if t > 0 and (surprise or (overdue and t % replan_every_slots == 0)):
            trucks = {}
            for v in real.vehicles:
                if v.id in arrived:
                    trucks[v.id] = TruckState(energy_kwh=energy[v.id], connector=connectors[v.id] or None)
                elif forecast_by_id[v.id].arrival < now + step:
                    trucks[v.id] = TruckState(arrival=now + step)
            peak = float((slot_data(real).base[:t] + load[:t]).max(initial=0.0))
            t0 = time.perf_counter()
            r = replan(
                forecast, NightState(at=now, trucks=trucks, peak_kw_so_far=peak), time_limit_s=time_limit_s
            )
            worst = max(worst, time.perf_counter() - t0)
            replans += 1
            fallbacks += r.fallback is not None
            not_optimal += r.schedule.status != "optimal"
            for vs in r.schedule.vehicles:
                row = np.zeros(real.n_slots)
                row[r.first_slot :] = vs.power_kw
                plan[vs.id] = row
                if vs.connector:
                    connectors[vs.id] = vs.connector
        arrived_before = arrived
        load += _execute(real, plan, connectors, energy, range(t, t + 1))
    results.append(
        _result(
            "rolling", real, load, energy, replans=replans, replan_max_s=round(worst, 3), fallbacks=fallbacks
        )
    )
    for name, run in BASELINES.items():
        results.append(_from_schedule(real, run(real), name))
    return real, results


def hindsight(real: ChargingProblem, time_limit_s: float = 10.0) -> PolicyResult:
    """The optimum with perfect knowledge of the realised night: a bound no policy can beat."""
    from charging.optimize import schedule

    return _from_schedule(
        real, schedule(real, time_limit_s=time_limit_s, baselines=False), "hindsight (bound)"
    )
