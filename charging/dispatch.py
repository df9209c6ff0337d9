"""Dispatch of a demand-response / VPP event across depots at least cost: one LP over all depots (HiGHS).

Each depot arrives with its night's problem and plan. Trucks plugged in during the event window are re-planned over
their whole stay (charging power c >= 0, V2G discharge d >= 0 where `Vehicle.v2g` and the connector allow it, battery
energy per slot between its floor and its capacity, energy at departure >= the plan's, so every truck stays as
ready as planned); the others keep their plan (a decomposition: they cannot help in the window, and their load is a
constant for the site and cabinet limits). Depot rows: site import <= the import cap, export <= the export limit,
cabinet groups. With connector sharing a truck stays inside its planned plug-in interval on its planned connector.

Objective [CNY]: energy bought at the tariff's slot prices - export credit + battery wear (an explicit input, CNY
per kWh discharged from the battery: no sourced figure exists, data/reference/GRID-PROGRAMMES.md "Battery wear") +
the demand charge on any rise of the site peak above max(plan peak, month-to-date peak) + a shortfall penalty per
kWh of the target not delivered (target mode) - the event price per kWh of response (price mode, or on top of a
target). Response in a slot = plan net import - new net import (direction "down"), or the reverse ("up").

Discrete charger controls (power steps, minimum power) and the operability limits (power changes per night) are
not modelled by this LP: callers relax `operability` on an event night (the VPP sends per-slot setpoints), and the
charging checker (charging.check) verifies every depot's result against its problem.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from charging.accounting import carbon_kg, site_cost, slot_data
from charging.problem import ChargingProblem, taper_coefficients
from charging.result import ChargingSchedule

DIRECTIONS = ("down", "up")
DEFAULT_SHORTFALL_PENALTY = 100.0  # [CNY/kWh] far above any price: the LP meets the target whenever it can


class DispatchError(ValueError):
    """Invalid event or depot set; the message names the field."""


@dataclass(frozen=True)
class Event:
    """A DR/VPP event over [start, end): `target_kw` per slot (zone total) and/or `price_cny_per_kwh` of response."""

    start: datetime
    end: datetime
    direction: str = "down"
    target_kw: float | None = None
    price_cny_per_kwh: float = 0.0
    shortfall_penalty_cny_per_kwh: float = DEFAULT_SHORTFALL_PENALTY

    def validate(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise DispatchError("event: start and end need a time zone offset")
        if self.end <= self.start:
            raise DispatchError("event.end: must be after start")
        if self.direction not in DIRECTIONS:
            raise DispatchError(f"event.direction: {self.direction!r}, expected one of {DIRECTIONS}")
        if self.target_kw is None and self.price_cny_per_kwh <= 0:
            raise DispatchError("event: give target_kw (kW per slot) or a price_cny_per_kwh > 0")
        if self.target_kw is not None and self.target_kw < 0:
            raise DispatchError("event.target_kw: must be >= 0")
        if self.price_cny_per_kwh < 0:
            raise DispatchError("event.price_cny_per_kwh: must be >= 0")


@dataclass(frozen=True)
class DepotNight:
    """One depot's night: its problem (V2G consent already on `Vehicle.v2g`) and its plan."""

    id: str
    problem: ChargingProblem
    plan: ChargingSchedule


@dataclass(frozen=True)
class DepotDispatch:
    id: str
    schedule: ChargingSchedule  # the re-planned night (vehicles not re-planned keep their plan)
    response_kw: np.ndarray  # per event slot [kW], sign: positive = in the event's direction
    discharge_kwh: float  # battery kWh discharged by V2G
    cost_delta_cny: float  # bill of the new night - bill of the plan (energy, demand, export)
    vehicle_response_kwh: dict[str, float]  # per truck: its share of the depot's response [kWh grid side]


@dataclass(frozen=True)
class DispatchResult:
    status: str  # optimal | time_limit | infeasible | error
    event: Event
    slot_starts: tuple[datetime, ...]  # event slots
    target_kw: np.ndarray
    delivered_kw: np.ndarray
    depots: tuple[DepotDispatch, ...]
    objective_cny: float
    wear_cny_per_kwh: float
    solve_s: float
    build_s: float
    n_vars: int
    n_rows: int
    message: str = ""
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def shortfall_kw(self) -> np.ndarray:
        return np.maximum(0.0, self.target_kw - self.delivered_kw)


def event_slots(event: Event, slot_minutes: int) -> tuple[datetime, ...]:
    step = timedelta(minutes=slot_minutes)
    n = int(round((event.end - event.start) / step))
    if abs((event.end - event.start) / step - n) > 1e-9:
        raise DispatchError(f"event: window must be a whole number of {slot_minutes}-minute slots")
    return tuple(event.start + k * step for k in range(n))


class _Cols:
    def __init__(self) -> None:
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.n = 0

    def add(
        self, count: int, lb: float | np.ndarray, ub: float | np.ndarray, cost: float | np.ndarray
    ) -> np.ndarray:
        idx = np.arange(self.n, self.n + count)
        for store, value in ((self.lb, lb), (self.ub, ub), (self.c, cost)):
            store.append(np.broadcast_to(np.asarray(value, dtype=float), (count,)).copy())
        self.n += count
        return idx


class _Rows:
    def __init__(self) -> None:
        self.i: list[np.ndarray] = []
        self.j: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.rhs: list[float] = []

    def add(self, cols: np.ndarray, vals: np.ndarray | float, rhs: float) -> None:
        cols = np.asarray(cols)
        self.i.append(np.full(len(cols), len(self.rhs)))
        self.j.append(cols)
        self.v.append(np.broadcast_to(np.asarray(vals, dtype=float), (len(cols),)))
        self.rhs.append(rhs)

    def matrix(self, n_cols: int) -> tuple[sp.csr_matrix | None, np.ndarray | None]:
        if not self.rhs:
            return None, None
        m = sp.csr_matrix(
            (np.concatenate(self.v), (np.concatenate(self.i), np.concatenate(self.j))),
            shape=(len(self.rhs), n_cols),
        )
        return m, np.asarray(self.rhs)


@dataclass
class _Free:
    vid: str
    first: int
    last: int
    eff: float
    c: np.ndarray
    d: np.ndarray | None


def dispatch(
    depots: Sequence[DepotNight],
    event: Event,
    *,
    wear_cny_per_kwh: float,
    time_limit_s: float = 120.0,
    seed: int = 0,
) -> DispatchResult:
    """Dispatch `event` over `depots` at least cost; each depot's result is a full `ChargingSchedule`.

    `seed` is recorded for the house rule; scipy's HiGHS interface takes none and its simplex is deterministic
    for a given model. `time_limit_s` bounds the solve (status `time_limit` then, with HiGHS' best point).
    """
    del seed
    event.validate()
    if wear_cny_per_kwh < 0:
        raise DispatchError("wear_cny_per_kwh: must be >= 0")
    if not depots:
        raise DispatchError("depots: none given")
    minutes = {d.problem.slot_minutes for d in depots}
    if len(minutes) != 1:
        raise DispatchError(f"depots: slot lengths differ ({sorted(minutes)} minutes)")
    slot_minutes = minutes.pop()
    ev_slots = event_slots(event, slot_minutes)
    sign = 1.0 if event.direction == "down" else -1.0
    t0 = time.perf_counter()
    cols, eq, ub = _Cols(), _Rows(), _Rows()
    per_depot = []
    response_terms: list[list[tuple[np.ndarray, np.ndarray, float]]] = [[] for _ in ev_slots]
    for depot in depots:
        problem, plan = depot.problem, depot.plan
        n, dt = problem.n_slots, problem.dt_h
        data = slot_data(problem)
        index = {t: k for k, t in enumerate(problem.slot_starts)}
        in_event = np.zeros(n, dtype=bool)
        ev_map = []
        for k, t in enumerate(ev_slots):
            if t in index:
                in_event[index[t]] = True
                ev_map.append((k, index[t]))
        conns = problem.connector_by_id()
        plan_by_id = {vs.id: vs for vs in plan.vehicles}
        fixed = np.zeros(n)  # power of trucks that keep their plan
        group_fixed = {g.id: np.zeros(n) for g in problem.groups}
        free: list[_Free] = []
        for v in problem.vehicles:
            vs = plan_by_id.get(v.id)
            if vs is None:
                raise DispatchError(f"depot {depot.id}: vehicle {v.id} has no schedule in the plan")
            p = np.asarray(vs.power_kw, dtype=float)
            c = conns.get(vs.connector) if vs.connector is not None else None
            first, last = problem.usable_range(v)
            if problem.sharing and vs.plug_in_slot is not None and vs.plug_out_slot is not None:
                first, last = vs.plug_in_slot, vs.plug_out_slot
            if c is None or last <= first or not in_event[first:last].any():
                fixed += p
                if c is not None and c.group in group_fixed:
                    group_fixed[c.group] += np.abs(p)
                continue
            length = last - first
            kw = min(v.max_kw, c.max_kw)
            cc = cols.add(length, 0.0, kw, 0.0)  # energy is priced on the site import column
            dd = None
            if v.v2g and c.v2g:
                dis = min(v.discharge_kw, c.max_kw)
                dd = cols.add(length, 0.0, dis, wear_cny_per_kwh * dt / c.efficiency)
            floor = min(v.min_energy_kwh, v.energy_arrival_kwh) if v.v2g else 0.0
            ready = min(v.energy_target_kwh, vs.energy_departure_kwh)
            e_lb = np.full(length, floor)
            e_lb[-1] = max(floor, ready - 1e-6)
            ee = cols.add(length, e_lb, v.capacity_kwh, 0.0)
            for k in range(length):
                idx = [ee[k], cc[k]]
                vals = [1.0, -c.efficiency * dt]
                if k:
                    idx.append(ee[k - 1])
                    vals.append(-1.0)
                if dd is not None:
                    idx.append(dd[k])
                    vals.append(dt / c.efficiency)
                eq.add(np.array(idx), np.array(vals), v.energy_arrival_kwh if k == 0 else 0.0)
                if v.taper_soc is not None:
                    a, b = taper_coefficients(v)
                    if k == 0:
                        ub.add(np.array([cc[0]]), 1.0, a - b * v.energy_arrival_kwh)
                    else:
                        ub.add(np.array([cc[k], ee[k - 1]]), np.array([1.0, b]), a)
            free.append(_Free(v.id, first, last, c.efficiency, cc, dd))
        # Site balance per slot: sum(c - d) - imp + exp = -(base - pv + battery + fixed).
        const = data.base - data.pv + fixed
        if plan.battery_kw:
            const = const + np.asarray(plan.battery_kw, dtype=float)
        if plan.pv_curtailed_kw:
            const = const + np.asarray(plan.pv_curtailed_kw, dtype=float)
        plan_net = np.asarray(plan.site_import_kw, dtype=float)
        ref_peak = max(
            float(np.max(np.maximum(plan_net, 0.0), initial=0.0)), problem.tariff.month_peak_kw_so_far
        )
        imp = cols.add(n, 0.0, np.maximum(data.import_cap, 0.0), data.price * dt)
        exp = cols.add(n, 0.0, problem.site.export_limit_kw, -data.export_price * dt)
        demand_rate = problem.tariff.demand_charge_per_kw_month * problem.tariff.demand_charge_proration
        inc = cols.add(1, 0.0, np.inf, demand_rate)
        for t in range(n):
            idx, vals = [imp[t], exp[t]], [-1.0, 1.0]
            for f in free:
                if f.first <= t < f.last:
                    idx.append(f.c[t - f.first])
                    vals.append(1.0)
                    if f.d is not None:
                        idx.append(f.d[t - f.first])
                        vals.append(-1.0)
            eq.add(np.array(idx), np.array(vals), -const[t])
            ub.add(np.array([imp[t], inc[0]]), np.array([1.0, -1.0]), ref_peak)
        for g in problem.groups:
            members = [f for f in free if conns[plan_by_id[f.vid].connector].group == g.id]  # type: ignore[index]
            for t in range(n):
                idx = []
                for f in members:
                    if f.first <= t < f.last:
                        idx.append(f.c[t - f.first])
                        if f.d is not None:
                            idx.append(f.d[t - f.first])
                if idx:
                    ub.add(np.array(idx), 1.0, g.max_kw - group_fixed[g.id][t])
        for k, t in ev_map:
            # response = sign x (plan_net - (imp - exp)); collected into the zone rows below.
            response_terms[k].append(
                (np.array([imp[t], exp[t]]), np.array([-sign, sign]), sign * plan_net[t])
            )
        per_depot.append((depot, free, ev_map, plan_net))
    # Zone rows: response + shortfall >= target (target mode); price mode: response >= 0 and a reward.
    dt_ev = slot_minutes / 60.0
    resp_cols = cols.add(len(ev_slots), -np.inf, np.inf, -event.price_cny_per_kwh * dt_ev)
    short = None
    if event.target_kw is not None:
        short = cols.add(len(ev_slots), 0.0, event.target_kw, event.shortfall_penalty_cny_per_kwh * dt_ev)
    for k, terms in enumerate(response_terms):
        idx = [resp_cols[k]]
        vals = [1.0]
        constant = 0.0
        for cidx, cvals, const_k in terms:
            idx.extend(cidx.tolist())
            vals.extend((-cvals).tolist())
            constant += const_k
        eq.add(np.array(idx), np.array(vals), constant)  # resp - sum(sign x (-(imp-exp))) = sum(sign x plan)
        if short is not None:
            ub.add(np.array([resp_cols[k], short[k]]), -1.0, -float(event.target_kw))  # type: ignore[arg-type]
        else:
            ub.add(np.array([resp_cols[k]]), -1.0, 0.0)
    a_eq, b_eq = eq.matrix(cols.n)
    a_ub, b_ub = ub.matrix(cols.n)
    bounds = np.column_stack([np.concatenate(cols.lb), np.concatenate(cols.ub)])
    cost = np.concatenate(cols.c)
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    res = linprog(
        cost,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds,
        method="highs",
        options={"time_limit": float(time_limit_s), "presolve": True},
    )
    solve_s = time.perf_counter() - t1
    status = {0: "optimal", 1: "time_limit", 2: "infeasible", 3: "unbounded"}.get(res.status, "error")
    n_rows = (0 if a_eq is None else a_eq.shape[0]) + (0 if a_ub is None else a_ub.shape[0])
    target = np.full(len(ev_slots), float(event.target_kw or 0.0))
    if res.x is None:
        return DispatchResult(
            status, event, ev_slots, target, np.zeros(len(ev_slots)), (), float("nan"), wear_cny_per_kwh,
            solve_s, build_s, cols.n, n_rows, str(res.message),
        )  # fmt: skip
    x = res.x
    out = []
    delivered = np.zeros(len(ev_slots))
    for depot, free, ev_map, plan_net in per_depot:
        sched, discharged, by_vehicle = _assemble(depot, free, x, ev_map, plan_net, sign)
        resp = np.zeros(len(ev_slots))
        new_net = np.asarray(sched.site_import_kw)
        for k, t in ev_map:
            resp[k] = sign * (plan_net[t] - new_net[t])
        delivered += resp
        plan_cost = depot.plan.cost.total
        out.append(DepotDispatch(depot.id, sched, resp, discharged, sched.cost.total - plan_cost, by_vehicle))
    return DispatchResult(
        status, event, ev_slots, target, delivered, tuple(out), float(res.fun), wear_cny_per_kwh,
        solve_s, build_s, cols.n, n_rows, str(res.message),
    )  # fmt: skip


def _assemble(
    depot: DepotNight,
    free: list[_Free],
    x: np.ndarray,
    ev_map: list[tuple[int, int]],
    plan_net: np.ndarray,
    sign: float,
) -> tuple[ChargingSchedule, float, dict[str, float]]:
    problem, plan = depot.problem, depot.plan
    n, dt = problem.n_slots, problem.dt_h
    by_free = {f.vid: f for f in free}
    by_id = {v.id: v for v in problem.vehicles}
    conns = problem.connector_by_id()
    vehicles = []
    total = np.zeros(n)
    discharged = 0.0
    by_vehicle: dict[str, float] = {}
    ev_idx = [t for _, t in ev_map]
    for vs in plan.vehicles:
        f = by_free.get(vs.id)
        if f is None:
            vehicles.append(vs)
            total += np.asarray(vs.power_kw)
            continue
        p = np.zeros(n)
        c = np.clip(x[f.c], 0.0, None)
        d = np.clip(x[f.d], 0.0, None) if f.d is not None else np.zeros_like(c)
        p[f.first : f.last] = c - d
        p[np.abs(p) < 1e-7] = 0.0
        v = by_id[vs.id]
        eff = conns[vs.connector].efficiency  # type: ignore[index]
        energy = v.energy_arrival_kwh + float(np.sum(np.where(p > 0, eff * p, p / eff))) * dt
        discharged += float(np.sum(np.maximum(0.0, -p))) / eff * dt
        by_vehicle[vs.id] = float(sign * np.sum(np.asarray(vs.power_kw)[ev_idx] - p[ev_idx]) * dt)
        short = max(0.0, v.energy_target_kwh - energy)
        vehicles.append(
            replace(vs, power_kw=tuple(float(a) for a in p), energy_departure_kwh=energy, shortfall_kwh=short)
        )
        total += p
    data = slot_data(problem)
    const = data.base - data.pv
    if plan.battery_kw:
        const = const + np.asarray(plan.battery_kw, dtype=float)
    if plan.pv_curtailed_kw:
        const = const + np.asarray(plan.pv_curtailed_kw, dtype=float)
    net = const + total
    cost = site_cost(problem, net, data)
    sched = replace(
        plan,
        status="dispatched",
        vehicles=tuple(vehicles),
        site_import_kw=tuple(float(a) for a in net),
        cost=cost,
        peak_kw=float(np.max(np.maximum(net, 0.0), initial=0.0)),
        carbon_kg=carbon_kg(net, data),
        baselines={},
        solver="highs (scipy linprog, VPP dispatch)",
    )
    return sched, discharged, by_vehicle


__all__ = [
    "DepotDispatch",
    "DepotNight",
    "DispatchError",
    "DispatchResult",
    "Event",
    "dispatch",
    "event_slots",
]
