"""Flexibility of a planned night: the kW a depot can shed or add in each slot while every truck stays ready.

For each truck and slot t of its plug-in window the bounds are those of a one-slot deviation from the plan, the
rest of the night re-planned: the truck's energy at the start of slot t is the plan's; after slot t it can still
take at most eta x P x dt per remaining slot (P its charging limit, the taper limit at its target when it tapers:
a conservative bound). So the least it can draw in slot t is what keeps the remaining need within the remaining
connector time (energy feasibility), and below zero only where the truck may discharge (V2G: the lease's consent,
which the caller sets as `Vehicle.v2g`, and a V2G connector), never under its energy floor. The most it can draw
is its power limit and the room left in its battery.

Per-slot bounds are not additive over slots (shedding in slot t uses up slack that slot t+1 would need); an
event over several slots is dispatched by `charging.dispatch`, which re-plans the whole night. Site limits
(import cap, export limit, cabinet groups) clip the depot totals. Units: kW grid side, kWh in the battery,
15-minute slots (the problem's `slot_minutes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from charging.problem import ChargingProblem, Vehicle
from charging.result import ChargingSchedule

TOL = 1e-6


@dataclass(frozen=True)
class VehicleFlex:
    """One truck's per-slot bounds [kW] around its planned power (grid side, negative = discharge)."""

    id: str
    planned_kw: np.ndarray
    min_kw: np.ndarray  # least power keeping it ready (negative where it may discharge)
    max_kw: np.ndarray  # most power it can take

    @property
    def shed_kw(self) -> np.ndarray:
        return np.maximum(0.0, self.planned_kw - self.min_kw)

    @property
    def add_kw(self) -> np.ndarray:
        return np.maximum(0.0, self.max_kw - self.planned_kw)

    @property
    def discharge_kw(self) -> np.ndarray:
        """The part of the shed that is V2G discharge [kW]."""
        return np.maximum(0.0, -self.min_kw)


@dataclass(frozen=True)
class DepotFlex:
    """A depot's flexibility per slot [kW], clipped by the site's import cap, export limit and cabinet groups."""

    name: str
    slot_starts: tuple[str, ...]
    slot_minutes: int
    planned_kw: np.ndarray  # site net import of the plan
    shed_kw: np.ndarray  # import the depot can drop below the plan
    add_kw: np.ndarray  # import the depot can add above the plan
    v2g_kw: np.ndarray  # of shed_kw: V2G discharge
    vehicles: tuple[VehicleFlex, ...]


def _power_limit(problem: ChargingProblem, v: Vehicle, connector_kw: float) -> float:
    return min(v.max_kw, connector_kw)


def vehicle_flex(problem: ChargingProblem, schedule: ChargingSchedule) -> list[VehicleFlex]:
    """Per-truck bounds for every slot (zero outside the truck's plug-in window)."""
    n, dt = problem.n_slots, problem.dt_h
    conns = problem.connector_by_id()
    planned = {vs.id: vs for vs in schedule.vehicles}
    out = []
    for v in problem.vehicles:
        vs = planned.get(v.id)
        if vs is None:
            raise ValueError(f"flexibility: vehicle {v.id} has no schedule in the plan")
        p = np.asarray(vs.power_kw, dtype=float)
        c = conns.get(vs.connector) if vs.connector is not None else None
        lo, hi = np.zeros(n), np.zeros(n)
        first, last = problem.usable_range(v)
        if problem.sharing and vs.plug_in_slot is not None and vs.plug_out_slot is not None:
            first, last = vs.plug_in_slot, vs.plug_out_slot  # the connector is someone else's outside it
        if c is None or last <= first:
            out.append(VehicleFlex(v.id, p, p.copy(), p.copy()))
            continue
        eff = c.efficiency
        kw = _power_limit(problem, v, c.max_kw)
        sustained = min(kw, v.taper_limit(v.energy_target_kwh)) if v.taper_soc is not None else kw
        discharge = min(v.discharge_kw, c.max_kw) if (v.v2g and c.v2g) else 0.0
        floor = min(v.min_energy_kwh, v.energy_arrival_kwh) if v.v2g else 0.0
        # Battery energy at the start of each slot under the plan.
        step = np.where(p > 0, eff * p, p / eff) * dt
        start_energy = v.energy_arrival_kwh + np.concatenate(([0.0], np.cumsum(step)[:-1]))
        target = min(v.energy_target_kwh, vs.energy_departure_kwh + 0.0)
        target = max(target, min(v.energy_target_kwh, v.energy_arrival_kwh))
        for t in range(first, last):
            e = start_energy[t]
            remaining = eff * sustained * dt * (last - t - 1)
            need_end = target - remaining  # least energy at the end of slot t
            low_batt = need_end - e  # battery kWh slot t must add (negative: may lose)
            low = low_batt / (eff * dt) if low_batt > 0 else low_batt * eff / dt
            low = max(low, -discharge, -(e - floor) * eff / dt if discharge > 0 else 0.0)
            high = min(v.taper_limit(e) if v.taper_soc is not None else kw, (v.capacity_kwh - e) / (eff * dt))
            high = max(high, 0.0)
            lo[t], hi[t] = min(low, p[t]), max(high, p[t])  # the plan itself is always within its bounds
        out.append(VehicleFlex(v.id, p, lo, hi))
    return out


def depot_flex(problem: ChargingProblem, schedule: ChargingSchedule) -> DepotFlex:
    """The depot's per-slot shed and add [kW] from its plan, site limits applied."""
    vehicles = vehicle_flex(problem, schedule)
    net = np.asarray(schedule.site_import_kw, dtype=float)
    shed = np.sum([f.shed_kw for f in vehicles], axis=0) if vehicles else np.zeros(problem.n_slots)
    add = np.sum([f.add_kw for f in vehicles], axis=0) if vehicles else np.zeros(problem.n_slots)
    v2g = np.sum([f.discharge_kw for f in vehicles], axis=0) if vehicles else np.zeros(problem.n_slots)
    # Site: import may not exceed its cap, export not its limit.
    add = np.minimum(add, np.maximum(0.0, problem.import_caps() - net))
    shed = np.minimum(shed, np.maximum(0.0, net + problem.site.export_limit_kw))
    # Cabinet groups: their sum of |power| is capped; adding power in a group is limited by its headroom.
    if problem.groups:
        conns = problem.connector_by_id()
        by_vehicle = {vs.id: vs.connector for vs in schedule.vehicles}
        for g in problem.groups:
            members = [
                f for f in vehicles if (c := conns.get(by_vehicle.get(f.id) or "")) and c.group == g.id
            ]
            used = np.sum([np.abs(f.planned_kw) for f in members], axis=0) if members else 0.0
            group_add = np.sum([f.add_kw for f in members], axis=0) if members else 0.0
            excess = np.maximum(0.0, group_add - np.maximum(0.0, g.max_kw - used))
            add = np.maximum(0.0, add - excess)
    v2g = np.minimum(v2g, shed)
    return DepotFlex(
        name=problem.name,
        slot_starts=tuple(t.isoformat() for t in problem.slot_starts),
        slot_minutes=problem.slot_minutes,
        planned_kw=net,
        shed_kw=shed,
        add_kw=add,
        v2g_kw=v2g,
        vehicles=tuple(vehicles),
    )


__all__ = ["DepotFlex", "VehicleFlex", "depot_flex", "vehicle_flex"]
