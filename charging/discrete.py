"""Discrete charging power on CP-SAT: power steps (e.g. 5 kW modules) and on/off with a minimum power.

Runs after the LP on the same plan (which connector, which plugged-in slots). Only vehicles on connectors with
`power_step_kw` or `min_kw` become integer decisions; everything else (other vehicles, V2G, the stationary
battery, PV curtailment) stays at its LP value, so the model keeps to a few thousand integer variables
(data/reference/CHARGING.md "Reading": CP-SAT slows near 20,000). Discrete connectors only charge (no V2G discharge).
Integer units are rounded conservatively: delivered energy is under-estimated, limits are rounded down.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from charging.accounting import SlotData
from charging.problem import ChargingProblem, taper_coefficients

KW = 100  # integer power units per kW (0.01 kW)
KWH = 1_000_000  # integer energy units per kWh (1 mWh): one power unit's energy per slot stays whole, so
# the conservative rounding below costs ~0.01 % of a truck's energy, not the ~3 % 0.1 Wh units cost
MONEY = 1_000_000  # objective units per objective unit (CNY, kW or kg)


@dataclass(frozen=True)
class DiscreteResult:
    power: np.ndarray  # [kW] vehicles x slots, LP values replaced for discrete vehicles
    status: str  # CP-SAT status name, lower case
    n_integer_vars: int


def discrete_vehicles(
    problem: ChargingProblem, connector: Sequence[int | None], window: Sequence[tuple[int, int]]
) -> list[int]:
    """Vehicles whose power is an integer decision: on stepped/minimum-power connectors, or every charging-only
    vehicle when the problem asks for operable schedules (at most K power changes, a minimum while on)."""
    ops = problem.operability.active
    return [
        i
        for i, k in enumerate(connector)
        if k is not None
        and window[i][1] > window[i][0]
        and (problem.connectors[k].discrete or (ops and not problem.connectors[k].v2g))
    ]


def operable_start(
    problem: ChargingProblem,
    data: SlotData,
    chosen: Sequence[int],
    connector: Sequence[int | None],
    window: Sequence[tuple[int, int]],
    fixed_kw: np.ndarray,
    group_kw: dict[str, np.ndarray],
) -> dict[int, tuple[int, int, float]]:
    """A runnable schedule to start the discrete search from: each vehicle one session at one power.

    Vehicles are placed earliest departure first, each on the contiguous block of its stay and the constant power
    (rounded up to the connector's step, at least the minimum) that delivers its need at the least energy cost
    plus demand-charge increase, given the site and cabinet load of the vehicles placed before it. Returns
    {vehicle: (first slot, last slot + 1, kW)} for the vehicles it could place; a session is 2 power changes.
    """
    conns, vehicles, dt = problem.connectors, problem.vehicles, data.dt
    load = np.asarray(fixed_kw, dtype=float).copy()
    groups = {g: kw.copy() for g, kw in group_kw.items()}
    limits = {g.id: g.max_kw for g in problem.groups}
    rate = problem.tariff.demand_rate
    paid = problem.tariff.month_peak_kw_so_far
    price_sum = np.concatenate(([0.0], np.cumsum(data.price)))
    ops = problem.operability
    out: dict[int, tuple[int, int, float]] = {}
    for i in sorted(chosen, key=lambda i: (vehicles[i].departure, i)):
        v, c = vehicles[i], conns[connector[i]]  # type: ignore[index]
        a, b = window[i]
        step = c.power_step_kw or 1.0 / KW
        kw_hi = math.floor(min(v.max_kw, c.max_kw) / step + 1e-9) * step
        kw_lo = min(kw_hi, max(c.min_kw or 0.0, ops.min_charge_kw or 0.0))
        # The discrete model's own conservative energy per power unit and slot, so the start delivers its need there.
        e_lo = math.floor(c.efficiency * step * dt * KWH) / KWH  # [kWh] per unit and slot, rounded down
        e_hi = math.ceil(c.efficiency * step * dt * KWH) / KWH
        need_kwh = math.ceil(v.need_kwh * KWH) / KWH
        room_kwh = math.floor((v.capacity_kwh - v.energy_arrival_kwh) * KWH) / KWH
        if need_kwh <= 1e-9 or kw_hi <= 0 or e_lo <= 0:
            continue
        peak_now = max(float(load.max(initial=0.0)), paid)
        best: tuple[float, int, int, float] | None = None
        for length in range(1, b - a + 1):
            units = max(math.ceil(need_kwh / (e_lo * length) - 1e-12), math.ceil(kw_lo / step - 1e-9))
            kw = units * step
            if kw > kw_hi + 1e-9 or units * e_hi * length > room_kwh + 1e-12:
                continue
            starts = np.arange(a, b - length + 1)
            windows = np.lib.stride_tricks.sliding_window_view(load[a:b], length)
            caps = np.lib.stride_tricks.sliding_window_view(data.import_cap[a:b], length)
            ok = np.all(windows + kw <= caps + 1e-9, axis=1)
            if c.group is not None and c.group in limits:
                g = np.lib.stride_tricks.sliding_window_view(groups[c.group][a:b], length)
                ok &= np.all(g + kw <= limits[c.group] + 1e-9, axis=1)
            if not ok.any():
                continue
            energy = kw * dt * (price_sum[starts + length] - price_sum[starts])
            demand = rate * (np.maximum(windows.max(axis=1) + kw, peak_now) - peak_now)
            cost = np.where(ok, energy + demand, np.inf)
            j = int(np.argmin(cost))
            if best is None or cost[j] < best[0] - 1e-12:
                best = (float(cost[j]), int(starts[j]), length, kw)
        if best is None:
            continue
        _, first, length, kw = best
        load[first : first + length] += kw
        if c.group is not None and c.group in groups:
            groups[c.group][first : first + length] += kw
        out[i] = (first, first + length, kw)
    return out


def refine(
    problem: ChargingProblem,
    data: SlotData,
    objective: str,
    connector: Sequence[int | None],
    window: Sequence[tuple[int, int]],
    power: np.ndarray,
    fixed_site_kw: np.ndarray,
    curtail_room_kw: np.ndarray,
    *,
    shortfall_penalty: float,
    tie: float,
    seed: int,
    num_workers: int,
    time_limit_s: float,
) -> DiscreteResult:
    """Replace the LP power of vehicles on discrete connectors by the best stepped/on-off plan CP-SAT finds.

    `fixed_site_kw` is the site's net load without any vehicle (base - PV + curtailment + battery) [kW];
    `curtail_room_kw` is the PV that could still be curtailed per slot, so net export stays within its limit.
    """
    conns = problem.connectors
    vehicles = problem.vehicles
    n, dt = problem.n_slots, data.dt
    chosen = discrete_vehicles(problem, connector, window)
    out = power.copy()
    if not chosen:
        return DiscreteResult(out, "not_needed", 0)
    chosen_set = set(chosen)
    others = [i for i in range(len(vehicles)) if i not in chosen_set]
    fixed = fixed_site_kw + (power[others].sum(axis=0) if others else 0.0)
    start: dict[int, tuple[int, int, float]] | None = None
    if problem.operability.active:
        # The LP's power breaks the change limit or the minimum; start from a runnable schedule instead.
        others_in_group = {g.id: np.zeros(n) for g in problem.groups}
        for i in others:
            k = connector[i]
            if k is not None and conns[k].group in others_in_group:
                others_in_group[conns[k].group] += np.abs(power[i])
        start = operable_start(problem, data, chosen, connector, window, fixed, others_in_group)
    model = cp_model.CpModel()
    site_terms: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in range(n)]
    group_terms: dict[str, list[list[tuple[int, cp_model.IntVar]]]] = {
        g.id: [[] for _ in range(n)] for g in problem.groups
    }
    shortfalls = []
    kvars: dict[int, list[cp_model.IntVar]] = {}
    count = 0
    for i in chosen:
        v, c = vehicles[i], conns[connector[i]]
        a, b = window[i]
        step = c.power_step_kw or 1.0 / KW
        step_u = int(round(step * KW))
        kmax = int(math.floor(min(v.max_kw, c.max_kw) / step + 1e-9))
        floor_kw = max(c.min_kw or 0.0, problem.operability.min_charge_kw or 0.0)
        kmin = min(kmax, int(math.ceil(floor_kw / step - 1e-9)))
        ks = []
        hints = []
        for t in range(a, b):
            k = model.NewIntVar(0, kmax, f"k{i}_{t}")
            count += 1
            if start is None:
                hint = int(round(max(0.0, power[i, t]) / step))
                hint = min(kmax, hint if hint >= kmin else 0)
            else:
                s0, s1, kw = start.get(i, (0, 0, 0.0))
                hint = min(kmax, int(round(kw / step))) if s0 <= t < s1 else 0
            if kmin > 1:
                on = model.NewBoolVar(f"on{i}_{t}")
                count += 1
                model.Add(k >= kmin).OnlyEnforceIf(on)
                model.Add(k == 0).OnlyEnforceIf(on.Not())
                model.AddHint(on, hint > 0)
            model.AddHint(k, hint)
            hints.append(hint)
            ks.append(k)
            site_terms[t].append((step_u, k))
            if c.group is not None:
                group_terms[c.group][t].append((step_u, k))
        kvars[i] = ks
        limit = problem.operability.max_power_changes
        if limit is not None:
            # A change is any slot whose power differs from the slot before (off before the window and after it),
            # so switching on and off count: one session at one power is 2 changes.
            changes = []
            for idx, k in enumerate(ks):
                d = model.NewBoolVar(f"chg{i}_{a + idx}")
                count += 1
                if idx == 0:
                    model.Add(k == 0).OnlyEnforceIf(d.Not())
                    model.AddHint(d, hints[0] != 0)
                else:
                    model.Add(k == ks[idx - 1]).OnlyEnforceIf(d.Not())
                    model.AddHint(d, hints[idx] != hints[idx - 1])
                changes.append(d)
            off = model.NewBoolVar(f"chg{i}_end")
            model.Add(ks[-1] == 0).OnlyEnforceIf(off.Not())
            model.AddHint(off, hints[-1] != 0)
            changes.append(off)
            model.Add(sum(changes) <= int(limit))
        need_u = int(math.ceil(v.need_kwh * KWH))
        e_lo = int(math.floor(c.efficiency * step * dt * KWH))
        e_hi = int(math.ceil(c.efficiency * step * dt * KWH))
        short = model.NewIntVar(0, need_u, f"short{i}")
        model.Add(sum(e_lo * k for k in ks) + short >= need_u)
        model.Add(sum(e_hi * k for k in ks) <= int(math.floor((v.capacity_kwh - v.energy_arrival_kwh) * KWH)))
        shortfalls.append((short, problem.shortfall_weights.get(v.id, 1.0)))
        if v.taper_soc is not None:
            ta, tb = taper_coefficients(v)
            m = 1000
            grow = int(math.ceil(tb * c.efficiency * step * dt * m))
            rhs = int(math.floor((ta - tb * v.energy_arrival_kwh) * m))
            for idx, k in enumerate(ks):
                model.Add(int(math.ceil(step * m)) * k + sum(grow * kk for kk in ks[:idx]) <= rhs)
    fixed_u = np.round(fixed * KW).astype(np.int64)
    caps_u = np.floor(data.import_cap * KW).astype(np.int64)
    imports = []
    for t in range(n):
        expr = sum(coef * k for coef, k in site_terms[t]) if site_terms[t] else 0
        if site_terms[t]:
            model.Add(expr <= int(max(0, caps_u[t] - fixed_u[t])))
            floor_u = -int(math.floor((problem.site.export_limit_kw + curtail_room_kw[t]) * KW)) - int(
                fixed_u[t]
            )
            if floor_u > 0:  # vehicles must absorb at least this much surplus PV
                model.Add(expr >= floor_u)
        imp = model.NewIntVar(0, int(max(0, caps_u[t], fixed_u[t])) + 1, f"imp{t}")
        model.Add(imp >= expr + int(fixed_u[t]))
        imports.append(imp)
    for g in problem.groups:
        other_kw = np.zeros(n)
        for i in others:
            k = connector[i]
            if k is not None and conns[k].group == g.id:
                other_kw += np.abs(power[i])
        for t in range(n):
            terms = group_terms[g.id][t]
            if terms:
                model.Add(
                    sum(coef * k for coef, k in terms) <= int(math.floor((g.max_kw - other_kw[t]) * KW))
                )
    # Objective in MONEY units per objective unit.
    alpha = data.price * dt
    for event in problem.dr_events:
        if event.kind == "reduction_reward":
            alpha = alpha + event.rate_cny_per_kwh * problem.event_overlap(event) * dt
    w_cost = 1.0 if objective == "cost" else tie
    per_unit = w_cost * alpha / KW + (data.carbon * dt / KW if objective == "carbon" else 0.0)
    terms = [int(round(MONEY * per_unit[t])) * imports[t] for t in range(n)]
    peak_ub = int(max(caps_u.max(initial=0), fixed_u.max(initial=0))) + 1
    peak = model.NewIntVar(0, peak_ub, "peak")
    for imp in imports:
        model.Add(peak >= imp)
    tariff = problem.tariff
    segments = tariff.demand_segments()
    if segments:
        qs = []
        for k, seg in enumerate(segments):
            width = (
                peak_ub
                if not math.isfinite(seg.width_kw)
                else min(peak_ub, int(math.ceil(seg.width_kw * KW)))
            )
            q = model.NewIntVar(0, width, f"q{k}")
            qs.append(q)
            terms.append(int(round(MONEY * w_cost * seg.cny_per_kw / KW)) * q)
        model.Add(sum(qs) >= peak - int(round(tariff.month_peak_kw_so_far * KW)))
    terms.append(int(round(MONEY * (1.0 if objective == "peak" else tie * 0.1) / KW)) * peak)
    terms.extend(int(round(MONEY * shortfall_penalty * w / KWH)) * s for s, w in shortfalls)
    model.Minimize(sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, int(num_workers))
    solver.parameters.random_seed = int(seed)
    solver.parameters.max_time_in_seconds = max(0.5, time_limit_s)
    solver.parameters.relative_gap_limit = 1e-4
    code = solver.Solve(model)
    status = solver.StatusName(code).lower()
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for i in chosen:
            c = conns[connector[i]]
            step = c.power_step_kw or 1.0 / KW
            a, b = window[i]
            out[i, :] = 0.0
            out[i, a:b] = [step * solver.Value(k) for k in kvars[i]]
    elif problem.operability.max_power_changes is None:
        # No CP-SAT plan in time (a short limit on a loaded machine: 18 of 100 synthetic 80-truck depots at 3 s
        # left their trucks idle, docs/scale.md). The LP's power rounded DOWN to the steps and switched off below
        # the minimum meets both by construction and can only lower a slot's load, so no site, group or peak
        # limit the LP met breaks; a truck may end short of its target (declared), not idle.
        for i in chosen:
            c = conns[connector[i]]
            step = c.power_step_kw or 1.0 / KW
            kw = np.floor(np.maximum(out[i], 0.0) / step + 1e-9) * step
            if c.min_kw:
                kw[kw < c.min_kw - 1e-9] = 0.0
            out[i, :] = kw
        status = f"{status} (no CP-SAT plan in time: discrete vehicles on the LP power rounded down)"
    else:
        # Rounding could break the limit on power changes: keep nothing from the LP for these vehicles.
        for i in chosen:
            out[i, :] = 0.0
        status = f"{status} (discrete vehicles left idle)"
    return DiscreteResult(out, status, count)
