"""Independent checker of a charging schedule against its scenario (never imports the optimiser).

It recomputes everything from the per-slot powers: vehicle energy trajectories with connector efficiency,
power, connector, taper and V2G limits, one vehicle per connector per slot, contiguous plug-in intervals, site
import/export and cabinet group limits, demand-response caps, the stationary battery, PV curtailment, and the
bill from the tariff. Every violation is listed; an empty list means the schedule is feasible and honest.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from charging.problem import ChargingProblem, taper_coefficients
from charging.result import ChargingSchedule

POWER_TOL = 1e-3  # [kW]
OPERABLE_TOL = 1e-3  # [kW] a smaller step is not a change of power a charger would be asked to make
ENERGY_TOL = 1e-2  # [kWh]
COST_TOL = 1e-2  # [CNY]


@dataclass(frozen=True)
class Violation:
    code: str  # e.g. connector_power, site_import, energy, cost
    subject: str  # vehicle / connector / group id, "site", "battery", "cost"
    slot: int | None
    message: str


@dataclass(frozen=True)
class CheckReport:
    violations: tuple[Violation, ...]
    cost_total: float  # recomputed [CNY]
    peak_kw: float
    energy_delivered_kwh: Mapping[str, float]

    @property
    def ok(self) -> bool:
        return not self.violations

    def codes(self) -> set[str]:
        return {v.code for v in self.violations}


def check(problem: ChargingProblem, schedule: ChargingSchedule | Mapping[str, Any]) -> CheckReport:
    """All violations of `schedule` (object or schedule JSON) against `problem`."""
    if not isinstance(schedule, ChargingSchedule):
        schedule = ChargingSchedule.from_json(schedule)
    out: list[Violation] = []

    def bad(code: str, subject: str, slot: int | None, message: str) -> None:
        out.append(Violation(code, subject, slot, message))

    n, dt = problem.n_slots, problem.dt_h
    conns = {c.id: c for c in problem.connectors}
    by_id = {v.id: v for v in problem.vehicles}
    seen: dict[str, int] = {}
    for vs in schedule.vehicles:
        seen[vs.id] = seen.get(vs.id, 0) + 1
    for vid, count in seen.items():
        if vid not in by_id:
            bad("vehicle_set", vid, None, f"vehicle {vid} is not in the scenario")
        elif count > 1:
            bad("vehicle_set", vid, None, f"vehicle {vid} appears {count} times")
    for vid in by_id:
        if vid not in seen:
            bad("vehicle_set", vid, None, f"vehicle {vid} has no schedule")
    unmet = {u.id: u.shortfall_kwh for u in schedule.unmet}
    total_power = np.zeros(n)
    group_power = {g.id: np.zeros(n) for g in problem.groups}
    occupancy: dict[str, list[tuple[int, int, str]]] = {}
    delivered: dict[str, float] = {}
    for vs in schedule.vehicles:
        v = by_id.get(vs.id)
        if v is None:
            continue
        p = np.asarray(vs.power_kw, dtype=float)
        if len(p) != n:
            bad("length", v.id, None, f"vehicle {v.id}: {len(p)} power values for {n} slots")
            continue
        total_power += p
        active = np.flatnonzero(np.abs(p) > POWER_TOL)
        first, last = problem.usable_range(v)
        for t in active:
            if not first <= t < last:
                bad(
                    "outside_stay",
                    v.id,
                    int(t),
                    f"vehicle {v.id}: {p[t]:.3f} kW in slot {t} outside its stay "
                    f"(usable slots {first}-{last - 1})",
                )
        c = conns.get(vs.connector) if vs.connector is not None else None
        ops = problem.operability
        if ops.active and c is not None and not c.v2g:
            # Operable schedules: power changes counted from off before the horizon to off after it.
            steps = np.abs(np.diff(np.concatenate(([0.0], p, [0.0]))))
            changes = int(np.count_nonzero(steps > OPERABLE_TOL))
            if ops.max_power_changes is not None and changes > ops.max_power_changes:
                bad(
                    "power_changes",
                    v.id,
                    None,
                    f"vehicle {v.id}: power changes {changes} times > max_power_changes {ops.max_power_changes}",
                )
            if ops.min_charge_kw is not None:
                floor = min(ops.min_charge_kw, v.max_kw, c.max_kw)
                for t in np.flatnonzero((p > OPERABLE_TOL) & (p < floor - OPERABLE_TOL)):
                    bad(
                        "min_power",
                        v.id,
                        int(t),
                        f"vehicle {v.id}: {p[t]:.3f} kW is on but below min_charge_kw {ops.min_charge_kw}",
                    )
        if active.size and c is None:
            bad(
                "no_connector",
                v.id,
                None,
                f"vehicle {v.id}: draws power without a known connector ({vs.connector!r})",
            )
        if vs.plug_in_slot is not None or vs.plug_out_slot is not None:
            a, b = vs.plug_in_slot, vs.plug_out_slot
            if a is None or b is None or not (first <= a < b <= last):
                bad(
                    "plug_interval",
                    v.id,
                    None,
                    f"vehicle {v.id}: plug-in interval [{a}, {b}) is not a non-empty "
                    f"interval inside its usable slots [{first}, {last})",
                )
                a, b = (int(active[0]), int(active[-1]) + 1) if active.size else (0, 0)
            for t in active:
                if not a <= t < b:
                    bad(
                        "plug_interval",
                        v.id,
                        int(t),
                        f"vehicle {v.id}: power in slot {t} outside its plug-in interval [{a}, {b})",
                    )
        else:
            a, b = (int(active[0]), int(active[-1]) + 1) if active.size else (0, 0)
        if c is not None and b > a:
            occupancy.setdefault(c.id, []).append((a, b, v.id))
        eff = c.efficiency if c is not None else 1.0
        for t in active:
            if p[t] > v.max_kw + POWER_TOL:
                bad("vehicle_power", v.id, int(t), f"vehicle {v.id}: {p[t]:.3f} kW > max_kw {v.max_kw}")
            if p[t] < -v.discharge_kw - POWER_TOL:
                bad(
                    "vehicle_power",
                    v.id,
                    int(t),
                    f"vehicle {v.id}: discharge {-p[t]:.3f} kW > {v.discharge_kw}",
                )
            if c is not None and abs(p[t]) > c.max_kw + POWER_TOL:
                bad(
                    "connector_power",
                    c.id,
                    int(t),
                    f"connector {c.id}: |{p[t]:.3f}| kW > max_kw {c.max_kw} (vehicle {v.id})",
                )
            if c is not None and c.power_step_kw is not None:
                steps = p[t] / c.power_step_kw
                if abs(steps - round(steps)) * c.power_step_kw > POWER_TOL:
                    bad(
                        "power_step",
                        c.id,
                        int(t),
                        f"connector {c.id}: {p[t]:.3f} kW is not a multiple of "
                        f"{c.power_step_kw} kW (vehicle {v.id})",
                    )
            if c is not None and c.min_kw is not None and POWER_TOL < abs(p[t]) < c.min_kw - POWER_TOL:
                bad(
                    "min_power",
                    c.id,
                    int(t),
                    f"connector {c.id}: {p[t]:.3f} kW is below its minimum "
                    f"{c.min_kw} kW while on (vehicle {v.id})",
                )
            if p[t] < -POWER_TOL and not (v.v2g and c is not None and c.v2g):
                why = "vehicle" if not v.v2g else f"connector {vs.connector}"
                bad(
                    "v2g", v.id, int(t), f"vehicle {v.id}: discharges {-p[t]:.3f} kW but the {why} is not V2G"
                )
        if c is not None and c.group is not None and c.group in group_power:
            group_power[c.group] += np.abs(p)
        energy = v.energy_arrival_kwh
        floor = min(v.min_energy_kwh, v.energy_arrival_kwh) if v.v2g else 0.0
        for t in range(n):
            if v.taper_soc is not None and p[t] > POWER_TOL:
                ta, tb = taper_coefficients(v)
                limit = max(0.0, ta - tb * energy)
                if p[t] > limit + POWER_TOL:
                    bad(
                        "taper",
                        v.id,
                        t,
                        f"vehicle {v.id}: {p[t]:.3f} kW above the taper limit {limit:.3f} kW "
                        f"at {energy:.2f} kWh",
                    )
            energy += (eff * p[t] if p[t] > 0 else p[t] / eff) * dt
            if energy > v.capacity_kwh + ENERGY_TOL or energy < floor - ENERGY_TOL:
                bad(
                    "vehicle_energy",
                    v.id,
                    t,
                    f"vehicle {v.id}: energy {energy:.3f} kWh outside "
                    f"[{floor}, {v.capacity_kwh}] after slot {t}",
                )
                break
        delivered[v.id] = energy - v.energy_arrival_kwh
        if abs(energy - vs.energy_departure_kwh) > ENERGY_TOL:
            bad(
                "energy",
                v.id,
                None,
                f"vehicle {v.id}: reported departure energy {vs.energy_departure_kwh:.3f} "
                f"kWh, recomputed {energy:.3f} kWh",
            )
        deficit = v.energy_target_kwh - energy
        if deficit > ENERGY_TOL and unmet.get(v.id, 0.0) < deficit - ENERGY_TOL:
            bad(
                "energy",
                v.id,
                None,
                f"vehicle {v.id}: leaves {deficit:.3f} kWh below its target "
                f"({v.energy_target_kwh} kWh) but unmet reports {unmet.get(v.id, 0.0):.3f} kWh",
            )
    for cid, spans in occupancy.items():
        spans.sort()
        for (_a1, b1, v1), (a2, b2, v2) in itertools.pairwise(spans):
            if a2 < b1:
                bad(
                    "connector_conflict",
                    cid,
                    a2,
                    f"connector {cid}: vehicles {v1} and {v2} both plugged in "
                    f"during slots {a2}-{min(b1, b2) - 1}",
                )
    for g in problem.groups:
        for t in np.flatnonzero(group_power[g.id] > g.max_kw + POWER_TOL):
            bad("group", g.id, int(t), f"group {g.id}: {group_power[g.id][t]:.3f} kW > max_kw {g.max_kw}")
    # Site.
    base = problem.profile(problem.site.base_load_kw)
    pv = problem.profile(problem.site.pv_kw)
    curt = np.asarray(schedule.pv_curtailed_kw, dtype=float) if schedule.pv_curtailed_kw else np.zeros(n)
    if len(curt) != n:
        bad("length", "site", None, f"pv_curtailed_kw has {len(curt)} values for {n} slots")
        curt = np.zeros(n)
    for t in np.flatnonzero((curt < -POWER_TOL) | (curt > pv + POWER_TOL)):
        bad("curtailment", "site", int(t), f"PV curtailment {curt[t]:.3f} kW outside [0, {pv[t]:.3f}]")
    battery = problem.site.battery
    bkw = np.asarray(schedule.battery_kw, dtype=float) if schedule.battery_kw else np.zeros(n)
    if battery is None and np.any(np.abs(bkw) > POWER_TOL):
        bad(
            "stationary_battery", "battery", None, "schedule uses a stationary battery the site does not have"
        )
    if battery is not None:
        if len(bkw) != n:
            bad("length", "battery", None, f"battery_kw has {len(bkw)} values for {n} slots")
            bkw = np.zeros(n)
        level = battery.initial_kwh
        for t in range(n):
            if abs(bkw[t]) > battery.max_kw + POWER_TOL:
                bad(
                    "stationary_battery",
                    "battery",
                    t,
                    f"battery power {bkw[t]:.3f} kW beyond {battery.max_kw} kW",
                )
            level += (battery.efficiency * bkw[t] if bkw[t] > 0 else bkw[t] / battery.efficiency) * dt
            if level > battery.capacity_kwh + ENERGY_TOL or level < battery.min_kwh - ENERGY_TOL:
                bad(
                    "stationary_battery",
                    "battery",
                    t,
                    f"battery energy {level:.3f} kWh outside "
                    f"[{battery.min_kwh}, {battery.capacity_kwh}] after slot {t}",
                )
        if n and level < battery.final_floor - ENERGY_TOL:
            bad(
                "stationary_battery",
                "battery",
                n - 1,
                f"battery ends at {level:.3f} kWh < {battery.final_floor}",
            )
    net = base - pv + curt + total_power + bkw
    reported = np.asarray(schedule.site_import_kw, dtype=float)
    tol = POWER_TOL + 1e-4 * max(1, len(problem.vehicles))
    if len(reported) != n:
        bad("length", "site", None, f"site_import_kw has {len(reported)} values for {n} slots")
    else:
        for t in np.flatnonzero(np.abs(reported - net) > tol):
            bad(
                "site_balance",
                "site",
                int(t),
                f"reported site import {reported[t]:.3f} kW, recomputed {net[t]:.3f} kW",
            )
    caps = np.full(n, problem.site.import_limit_kw)
    for event in problem.dr_events:
        cap = event.cap_kw
        if cap is not None:
            mask = problem.event_mask(event)
            caps[mask] = np.minimum(caps[mask], cap)
    for t in np.flatnonzero(net > caps + tol):
        bad(
            "site_import", "site", int(t), f"site import {net[t]:.3f} kW > limit {caps[t]:.3f} kW in slot {t}"
        )
    for t in np.flatnonzero(-net > problem.site.export_limit_kw + tol):
        bad(
            "site_export",
            "site",
            int(t),
            f"site export {-net[t]:.3f} kW > export_limit_kw {problem.site.export_limit_kw}",
        )
    # Bill.
    tariff = problem.tariff
    price = tariff.energy_prices(problem.slot_starts, problem.slot_minutes)
    export_price = tariff.export_prices(problem.slot_starts, problem.slot_minutes)
    imp, exp = np.clip(net, 0, None), np.clip(-net, 0, None)
    energy_cost = float(imp @ price) * dt
    peak = float(imp.max(initial=0.0))
    # Demand: the increase above the month-to-date peak at the rate up to the contracted demand and at the overrun
    # multiple above it, scaled by the horizon's proration; recomputed here without the tariff's own helpers.
    rate = tariff.demand_charge_per_kw_month * tariff.demand_charge_proration
    mtd, contract = tariff.month_peak_kw_so_far, tariff.contracted_demand_kw
    increase = max(0.0, peak - mtd)
    if contract is None:
        demand = rate * increase
    else:
        within = max(0.0, min(peak, contract) - mtd) if mtd < contract else 0.0
        demand = rate * within + rate * tariff.overrun_multiplier * (increase - within)
    # The night's share of a month billed on this peak (monthly charge ÷ days in the month).
    night = problem.billing_night
    days = calendar.monthrange(night.year, night.month)[1]
    month_rate = tariff.demand_charge_per_kw_month
    if contract is None or peak <= contract:
        monthly = month_rate * peak
    else:
        monthly = month_rate * contract + month_rate * tariff.overrun_multiplier * (peak - contract)
    # A load-independent basic charge (capacity basis) bears its nightly share too.
    demand_night = (monthly + tariff.fixed_basic_charge_cny_per_month) / days
    export_credit = -float(exp @ export_price) * dt
    dr = 0.0
    for event in problem.dr_events:
        overlap = problem.event_overlap(event)
        if event.kind == "reduction_reward":
            dr -= event.rate_cny_per_kwh * float(overlap @ np.clip(event.reference_kw - net, 0, None)) * dt
        elif event.kind == "discharge_reward":
            dr -= event.rate_cny_per_kwh * float(overlap @ exp) * dt
    recomputed = {"energy": energy_cost, "demand": demand, "export": export_credit, "dr": dr}
    reported_cost = {
        "energy": schedule.cost.energy,
        "demand": schedule.cost.demand,
        "export": schedule.cost.export,
        "dr": schedule.cost.dr,
    }
    if schedule.cost.demand_night is not None:  # plans stored before the night share existed carry none
        recomputed["demand_night"] = demand_night
        reported_cost["demand_night"] = schedule.cost.demand_night
    for key, value in recomputed.items():
        if abs(value - reported_cost[key]) > COST_TOL + 1e-6 * abs(value):
            bad(
                "cost",
                "cost",
                None,
                f"reported {key} cost {reported_cost[key]:.4f} CNY, recomputed {value:.4f} CNY",
            )
    total = (
        energy_cost + demand + export_credit + dr
    )  # the objective's total; the night share is reported apart
    return CheckReport(violations=tuple(out), cost_total=total, peak_kw=peak, energy_delivered_kwh=delivered)
