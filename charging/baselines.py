"""Reference strategies the optimiser is measured against.

- `uncontrolled`: every vehicle charges at full power from plug-in until its target; when the site (or a
  cabinet group) cannot supply everyone, the available power is shared pro rata to the requests. With fewer
  connectors than vehicles, waiting vehicles plug in first-come-first-served when a connector frees up.
- `earliest_deadline_first` (EDF): the same, but scarce power and free connectors go to the vehicle leaving first.
- `timer`: uncontrolled charging that starts at the first slot of the cheapest tariff band (a "00:00 timer",
  data/reference/CHARGING.md "Reading"), or earlier when the vehicle could not otherwise reach its target by departure;
  the site and cabinet limits hold (scarce power shared pro rata), so simultaneous starts are staggered by the limit.
- `balanced`: each vehicle spreads its need evenly over the cheapest price band of its stay, at the lowest constant
  power that delivers it, spilling into the next cheapest band only when the cheapest cannot (SpiceEV's
  `balanced_market` strategy, spice_ev/strategies/balanced_market.py); limits as above.

Baselines neither use V2G nor the stationary battery (it stays idle); PV is used as it comes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np

from charging.accounting import SlotData, carbon_kg, site_cost, slot_data
from charging.problem import ChargingProblem
from charging.result import BaselineSummary, ChargingSchedule, Unmet, VehicleSchedule
from charging.tariff import CostBreakdown

EPS = 1e-9


def _share(requests: np.ndarray, available: float, priority: np.ndarray | None) -> np.ndarray:
    """Cut requests [kW] down to `available`: pro rata, or in priority order (lowest key first)."""
    total = float(requests.sum())
    available = max(0.0, available)
    if total <= available + EPS:
        return requests
    if priority is None:
        return requests * (available / total)
    out = np.zeros_like(requests)
    left = available
    for i in np.argsort(priority, kind="stable"):
        out[i] = min(requests[i], left)
        left -= out[i]
    return out


def _balanced_profile(problem: ChargingProblem, data: SlotData, ranges: list[tuple[int, int]]) -> np.ndarray:
    """Requested power [kW] per vehicle and slot: the need spread evenly over the cheapest band(s) of each stay."""
    n, dt = problem.n_slots, problem.dt_h
    out = np.zeros((len(problem.vehicles), n))
    for i, v in enumerate(problem.vehicles):
        first, last = ranges[i]
        usable = [c for c in problem.connectors if v.connector is None or c.id == v.connector]
        if last <= first or not usable or v.need_kwh <= 1e-9:
            continue
        best = max(usable, key=lambda c: min(v.max_kw, c.max_kw) * c.efficiency)
        kw_max = min(v.max_kw, best.max_kw)
        grid_kwh = v.need_kwh / best.efficiency
        prices = np.round(data.price[first:last], 9)
        for level in np.unique(prices):
            slots = first + np.flatnonzero(prices == level)
            room = kw_max * dt * len(slots)
            if grid_kwh <= room + 1e-12:
                out[i, slots] = grid_kwh / (dt * len(slots))
                break
            out[i, slots] = kw_max
            grid_kwh -= room
    return out


def _simulate(
    problem: ChargingProblem,
    name: str,
    by_deadline: bool,
    timer_start: bool,
    profile: Callable[[ChargingProblem, SlotData, list[tuple[int, int]]], np.ndarray] | None = None,
) -> ChargingSchedule:
    data = slot_data(problem)
    n, dt = problem.n_slots, problem.dt_h
    vehicles = problem.vehicles
    conns = problem.connectors
    ranges = [problem.usable_range(v) for v in vehicles]
    energy = np.array([v.energy_arrival_kwh for v in vehicles], dtype=float)
    power = np.zeros((len(vehicles), n))
    plugged: dict[int, int] = {}  # vehicle -> connector index
    plug_in: dict[int, int] = {}
    plug_out: dict[int, int] = {}
    used_connector: dict[int, int] = {}
    earliest = [r[0] for r in ranges]
    if timer_start and n:
        cheapest = int(np.flatnonzero(data.price <= data.price.min() + 1e-12)[0])
        for i, v in enumerate(vehicles):
            first, last = ranges[i]
            best_kw = max((min(v.max_kw, c.max_kw) * c.efficiency for c in conns), default=0.0)
            slots_needed = int(np.ceil(v.need_kwh / max(best_kw * dt, EPS) - 1e-9))
            earliest[i] = max(first, min(cheapest, last - slots_needed))
    wanted = None if profile is None else profile(problem, data, ranges)
    if wanted is not None:
        for i in range(len(vehicles)):
            asked = np.flatnonzero(wanted[i] > EPS)
            if asked.size:
                earliest[i] = max(earliest[i], int(asked[0]))
    key = (lambda i: (vehicles[i].departure, i)) if by_deadline else (lambda i: (vehicles[i].arrival, i))
    for t in range(n):
        for i in list(plugged):
            done = energy[i] >= vehicles[i].energy_target_kwh - 1e-6
            if t >= ranges[i][1] or done:
                plug_out[i] = t
                del plugged[i]
        busy = set(plugged.values())
        waiting = [
            i
            for i, v in enumerate(vehicles)
            if i not in plug_in and earliest[i] <= t < ranges[i][1] and v.need_kwh > 1e-9
        ]
        for i in sorted(waiting, key=key):
            v = vehicles[i]
            free = [
                k
                for k, c in enumerate(conns)
                if k not in busy and (v.connector is None or c.id == v.connector)
            ]
            if not free:
                continue
            k = max(free, key=lambda k: (conns[k].max_kw, -k))
            plugged[i], plug_in[i], used_connector[i] = k, t, k
            busy.add(k)
        if not plugged:
            continue
        idx = np.array(sorted(plugged))
        req = np.array(
            [
                max(
                    0.0,
                    min(
                        vehicles[i].taper_limit(energy[i]),
                        conns[plugged[i]].max_kw,
                        (vehicles[i].energy_target_kwh - energy[i]) / (conns[plugged[i]].efficiency * dt),
                        np.inf if wanted is None else wanted[i, t],
                    ),
                )
                for i in idx
            ]
        )
        prio = np.array([vehicles[i].departure.timestamp() for i in idx]) if by_deadline else None
        for g in problem.groups:
            members = np.array([conns[plugged[i]].group == g.id for i in idx])
            if members.any():
                req[members] = _share(req[members], g.max_kw, None if prio is None else prio[members])
        headroom = data.import_cap[t] - data.base[t] + data.pv[t]
        req = _share(req, headroom, prio)
        for j, i in enumerate(idx):
            power[i, t] = req[j]
            energy[i] += conns[plugged[i]].efficiency * req[j] * dt
    for i in plugged:
        plug_out[i] = min(n, ranges[i][1])
    return _assemble(problem, name, data, power, energy, used_connector, plug_in, plug_out)


def _assemble(
    problem: ChargingProblem,
    name: str,
    data: SlotData,
    power: np.ndarray,
    energy: np.ndarray,
    used_connector: dict[int, int],
    plug_in: dict[int, int],
    plug_out: dict[int, int],
) -> ChargingSchedule:
    net = data.base - data.pv + power.sum(axis=0)
    curtailed = np.maximum(0.0, -net - problem.site.export_limit_kw)
    net = net + curtailed
    vehicles = []
    unmet = []
    for i, v in enumerate(problem.vehicles):
        short = max(0.0, v.energy_target_kwh - energy[i])
        if short > 1e-6:
            reason = (
                "no connector became free during the stay"
                if i not in plug_in
                else f"{name}: not enough power or time"
            )
            unmet.append(Unmet(v.id, short, reason))
        vehicles.append(
            VehicleSchedule(
                id=v.id,
                connector=problem.connectors[used_connector[i]].id if i in used_connector else None,
                power_kw=tuple(float(x) for x in power[i]),
                energy_departure_kwh=float(energy[i]),
                plug_in_slot=plug_in.get(i),
                plug_out_slot=plug_out.get(i),
                shortfall_kwh=short if short > 1e-6 else 0.0,
            )
        )
    battery = problem.site.battery
    return ChargingSchedule(
        status="baseline",
        objective=name,
        slot_starts=tuple(t.isoformat() for t in problem.slot_starts),
        slot_minutes=problem.slot_minutes,
        vehicles=tuple(vehicles),
        site_import_kw=tuple(float(x) for x in net),
        cost=site_cost(problem, net, data),
        peak_kw=float(np.maximum(net, 0).max(initial=0.0)),
        carbon_kg=carbon_kg(net, data),
        pv_curtailed_kw=tuple(float(x) for x in curtailed),
        battery_kw=tuple([0.0] * problem.n_slots) if battery else (),
        battery_energy_kwh=tuple([battery.initial_kwh] * problem.n_slots) if battery else (),
        unmet=tuple(unmet),
        solver=name,
    )


def uncontrolled(problem: ChargingProblem) -> ChargingSchedule:
    """Full power from plug-in, site and group limits shared pro rata, connectors first come first served."""
    return _simulate(problem, "uncontrolled", by_deadline=False, timer_start=False)


def earliest_deadline_first(problem: ChargingProblem) -> ChargingSchedule:
    """Full power from plug-in; scarce power and connectors go to the earliest departure."""
    return _simulate(problem, "edf", by_deadline=True, timer_start=False)


def timer(problem: ChargingProblem) -> ChargingSchedule:
    """Uncontrolled charging delayed to the start of the cheapest tariff band (when the stay allows)."""
    return _simulate(problem, "timer", by_deadline=False, timer_start=True)


def balanced(problem: ChargingProblem) -> ChargingSchedule:
    """The need spread evenly over the cheapest band of each stay (SpiceEV `balanced_market`)."""
    return _simulate(problem, "balanced", by_deadline=False, timer_start=False, profile=_balanced_profile)


BASELINES: dict[str, Callable[[ChargingProblem], ChargingSchedule]] = {
    "uncontrolled": uncontrolled,
    "edf": earliest_deadline_first,
    "timer": timer,
    "balanced": balanced,
}


def _pct(saving: float | None, of: float | None) -> float | None:
    if saving is None or of is None or abs(of) <= 1e-9:
        return None
    return 100.0 * saving / of


def observed(
    problem: ChargingProblem, sessions: Sequence[tuple[str, datetime, datetime, float]]
) -> ChargingSchedule:
    """What the depot really did: metered sessions (vehicle id, start, end, grid kWh) spread evenly over their
    time, on the problem's slots and tariff. A session is charger-metered (grid side); the battery receives the
    grid kWh × the vehicle's connector efficiency (the problem's fixed connector, else the best one). Vehicles
    without a session receive nothing and show as short; sessions of unknown vehicles are ignored."""
    data = slot_data(problem)
    n, dt = problem.n_slots, problem.dt_h
    index = {v.id: i for i, v in enumerate(problem.vehicles)}
    power = np.zeros((len(problem.vehicles), n))
    step = problem.slot_minutes * 60.0
    starts = np.array([t.timestamp() for t in problem.slot_starts])
    for vid, start, end, kwh in sessions:
        i = index.get(vid)
        seconds = (end - start).total_seconds()
        if i is None or seconds <= 0 or kwh <= 0:
            continue
        overlap = np.clip(
            np.minimum(starts + step, end.timestamp()) - np.maximum(starts, start.timestamp()), 0, None
        )
        power[i] += kwh / (seconds / 3600.0) * overlap / step  # the session's mean kW, by share of each slot
    energy = np.array([v.energy_arrival_kwh for v in problem.vehicles], dtype=float)
    used: dict[int, int] = {}
    for i, v in enumerate(problem.vehicles):
        k = next((j for j, c in enumerate(problem.connectors) if c.id == v.connector), None)
        if k is None and problem.connectors:
            k = max(range(len(problem.connectors)), key=lambda j: problem.connectors[j].efficiency)
        efficiency = problem.connectors[k].efficiency if k is not None else 1.0
        energy[i] = min(v.capacity_kwh, energy[i] + efficiency * power[i].sum() * dt)
        if k is not None and power[i].any():
            used[i] = k
    on = {i: np.flatnonzero(power[i] > EPS) for i in used}
    return _assemble(
        problem,
        "observed",
        data,
        power,
        energy,
        used,
        {i: int(s[0]) for i, s in on.items()},
        {i: int(s[-1]) + 1 for i, s in on.items()},
    )


def summarize(
    name: str, baseline: ChargingSchedule, optimised: CostBreakdown | None = None
) -> BaselineSummary:
    """Objective values of a baseline and, given the optimiser's costs, the savings against it.

    Savings are stated three ways: on the objective total (what the optimiser minimises), on energy alone, and on
    the night's bill with the demand charge pro-rated (energy + monthly charge on the night's peak ÷ days).
    """
    savings = None if optimised is None else baseline.cost.total - optimised.total
    pct = _pct(savings, baseline.cost.total)
    energy = None if optimised is None else baseline.cost.energy - optimised.energy
    night = None
    if optimised is not None and baseline.cost.night_bill is not None and optimised.night_bill is not None:
        night = baseline.cost.night_bill - optimised.night_bill
    return BaselineSummary(
        name=name,
        cost=baseline.cost,
        peak_kw=baseline.peak_kw,
        carbon_kg=baseline.carbon_kg,
        shortfall_kwh=float(sum(u.shortfall_kwh for u in baseline.unmet)),
        unmet_vehicles=len(baseline.unmet),
        savings_cny=savings,
        savings_pct=pct,
        energy_savings_cny=energy,
        night_savings_cny=night,
        night_savings_pct=_pct(night, baseline.cost.night_bill),
    )
