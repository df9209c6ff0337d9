"""Charging page: the night's stored schedule flattened for the Gantt chart, the load chart and the cost
comparison, and the what-if on grid limit and tariff (re-solved in memory, never stored).

The what-if starts from the typed `charging.problem.ChargingProblem` of the stored plan (read once from its JSON by
`charging.problem.problem_from_json`) and changes typed fields with `dataclasses.replace`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
from sqlmodel import Session

from charging.problem import ChargingProblem, problem_from_json
from fleet.i18n import N_, Column
from fleet.services.scope import depot_in_scope, in_scope


@dataclass(frozen=True)
class ChargingView:
    """A night's charging schedule (stored or what-if), flattened for the Gantt chart, the load chart and the
    cost comparison. Money [CNY], power [kW], energy [kWh]."""

    depot_code: str
    service_date: dt.date
    version: int | None  # None: a what-if, not stored
    created_at: dt.datetime | None
    status: str
    solver: str
    cost_cny: float  # the night as billed: energy + demand pro-rated (+ export, DR credits)
    energy_cost_cny: float
    demand_cost_cny: float  # the month's charge on the night's peak ÷ days in the month
    night_basis: (
        bool  # False for plans stored before the night's demand share existed (objective total shown)
    )
    peak_kw: float
    grid_kwh: float
    grid_limit_kw: float
    tariff: str
    base_price: float
    demand_rate: float
    connectors: tuple[str, ...]  # every connector of the depot, idle ones included
    bars: pd.DataFrame  # connector, vehicle, start, end, kw
    load: pd.DataFrame  # start, end, site_kw, uncontrolled_kw, band, price
    bands: pd.DataFrame  # start, end, band: contiguous time-of-use periods
    costs: pd.DataFrame  # one row per strategy: optimised, uncontrolled, edf, timer
    unmet: pd.DataFrame
    readiness: pd.DataFrame  # truck, departure, arrives with, needs, leaves with, short [kWh]

    def saving_vs(self, strategy: str) -> tuple[float, float, float] | None:
        """(energy saving [CNY], night saving [CNY], night saving [%]) against a baseline strategy, if reported.

        The night saving compares bills with the demand charge pro-rated per night, never a month's charge booked
        on one night.
        """
        rows = self.costs[self.costs["strategy"] == strategy]
        if rows.empty:
            return None
        energy = float(rows["energy [CNY]"].iloc[0]) - self.energy_cost_cny
        base = float(rows["night bill [CNY]"].iloc[0])
        night = base - self.cost_cny
        return energy, night, (100.0 * night / base if base else 0.0)


BAR_COLUMNS = ["connector", "vehicle", "start", "end", "kw", "kwh"]
STRATEGY_LABELS = {  # English msgids: the page shows them translated
    "optimised": N_("optimised"),
    "uncontrolled": N_("uncontrolled"),
    "edf": N_("earliest deadline first"),
    "timer": N_("timer (valley start)"),
    "balanced": N_("balanced (cheapest band)"),
}
READINESS_COLUMNS = [
    "truck",
    "departure",
    "arrives with [kWh]",
    "needs [kWh]",
    "leaves with [kWh]",
    "short [kWh]",
]
# Display maps (label msgid and rounding) for the page: readiness first, then the costs against the baselines.
READINESS_DISPLAY: dict[str, Column] = {
    "truck": Column(N_("Truck")),
    "status": Column(N_("Ready?")),
    "departure": Column(N_("Departure")),
    "needs [kWh]": Column(N_("Needs [kWh]"), 1),
    "leaves with [kWh]": Column(N_("Leaves with [kWh]"), 1),
    "short [kWh]": Column(N_("Short by [kWh]"), 1),
    "arrives with [kWh]": Column(N_("Arrives with [kWh]"), 1),
}
COST_DISPLAY: dict[str, Column] = {
    "energy [CNY]": Column(N_("energy [CNY]"), 2),
    "demand per night [CNY]": Column(N_("demand per night [CNY]"), 2),
    "night bill [CNY]": Column(N_("night bill [CNY]"), 2),
    "peak [kW]": Column(N_("peak [kW]"), 1),
    "unmet vehicles": Column(N_("unmet vehicles")),
    "energy saving of the optimised [CNY]": Column(N_("energy saving of the optimised [CNY]"), 2),
    "night saving of the optimised [CNY]": Column(N_("night saving of the optimised [CNY]"), 2),
}


def readiness(problem: ChargingProblem, solution: Mapping[str, Any]) -> pd.DataFrame:
    """Each truck's planned departure energy against its need, earliest departure first: what a planner checks
    before anything else. The need is the target (tomorrow's route and reserve) the night was planned for."""
    planned = {v["id"]: v for v in solution.get("vehicles", ())}
    rows = []
    for v in sorted(problem.vehicles, key=lambda v: (v.departure, v.id)):
        leaves = float(planned.get(v.id, {}).get("energy_departure_kwh", v.energy_arrival_kwh))
        rows.append(
            {
                "truck": v.id,
                "departure": v.departure,
                "arrives with [kWh]": v.energy_arrival_kwh,
                "needs [kWh]": v.energy_target_kwh,
                "leaves with [kWh]": leaves,
                "short [kWh]": max(0.0, v.energy_target_kwh - leaves)
                if v.energy_target_kwh - leaves > 1e-3
                else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=READINESS_COLUMNS)


def _runs(values: list[float], eps: float = 1e-6) -> list[tuple[int, int]]:
    """[start, end) index ranges where `values` is non-zero."""
    out, start = [], None
    for k, v in enumerate(values + [0.0]):
        if abs(v) > eps and start is None:
            start = k
        elif abs(v) <= eps and start is not None:
            out.append((start, k))
            start = None
    return out


def charging_view(
    problem: ChargingProblem,
    solution: Mapping[str, Any],
    depot_code: str,
    service_date: dt.date,
    version: int | None = None,
    created_at: dt.datetime | None = None,
) -> ChargingView:
    """Flatten a typed charging problem and its schedule (solution JSON) for the charts and the cost table."""
    from charging.baselines import uncontrolled

    step = dt.timedelta(minutes=problem.slot_minutes)
    starts = list(problem.slot_starts)
    bars = []
    for v in solution.get("vehicles", ()):
        power = [float(p) for p in v["power_kw"]]
        for a, b in _runs(power):
            chunk = power[a:b]
            bars.append(
                {
                    "connector": v.get("connector") or f"own ({v['id']})",
                    "vehicle": v["id"],
                    "start": starts[a],
                    "end": starts[b - 1] + step,
                    "kw": max(chunk),
                    "kwh": sum(chunk) * problem.dt_h,
                }
            )
    names = problem.tariff.period_names(starts, problem.slot_minutes)
    prices = problem.tariff.energy_prices(starts, problem.slot_minutes)
    baseline_load = uncontrolled(problem).site_import_kw
    load = pd.DataFrame(
        {
            "start": starts,
            "end": [t + step for t in starts],
            "site_kw": [float(x) for x in solution.get("site_import_kw", [0.0] * len(starts))],
            "uncontrolled_kw": [float(x) for x in baseline_load],
            "band": names,
            "price": [float(p) for p in prices],
        }
    )
    bands = []
    for k, name in enumerate(names):
        if bands and bands[-1]["band"] == name:
            bands[-1]["end"] = starts[k] + step
        else:
            bands.append({"start": starts[k], "end": starts[k] + step, "band": name})
    cost = solution.get("cost", {})

    night_basis = cost.get("night_bill") is not None

    def cost_row(strategy: str, c: Mapping[str, Any], peak: float, unmet: int) -> dict[str, Any]:
        energy = float(c.get("energy", 0.0))
        if night_basis:
            demand = float(c.get("demand_night") or 0.0)
            bill = float(c.get("night_bill") or 0.0)
        else:  # a plan stored before the night share existed: its objective total, labelled as such by the page
            demand = float(c.get("demand", 0.0))
            bill = float(c.get("total", 0.0))
        return {
            "strategy": strategy,
            "label": STRATEGY_LABELS.get(strategy, strategy),
            "energy [CNY]": energy,
            "demand per night [CNY]": demand,
            "night bill [CNY]": bill,
            "peak [kW]": float(peak),
            "unmet vehicles": int(unmet),
        }

    rows = [cost_row("optimised", cost, solution.get("peak_kw", 0.0), len(solution.get("unmet", ())))]
    for name, b in (solution.get("baselines") or {}).items():
        rows.append(cost_row(name, b.get("cost", {}), b.get("peak_kw", 0.0), b.get("unmet_vehicles", 0)))
    costs = pd.DataFrame(rows)
    optimised = rows[0]["night bill [CNY]"]
    costs["energy saving of the optimised [CNY]"] = costs["energy [CNY]"] - rows[0]["energy [CNY]"]
    costs["night saving of the optimised [CNY]"] = costs["night bill [CNY]"] - optimised
    grid_kwh = float(sum(max(0.0, x) for x in load["site_kw"]) * problem.dt_h)
    return ChargingView(
        depot_code=depot_code,
        service_date=service_date,
        version=version,
        created_at=created_at,
        status=str(solution.get("status", "")),
        solver=str(solution.get("solver", "")),
        cost_cny=optimised,
        energy_cost_cny=rows[0]["energy [CNY]"],
        demand_cost_cny=rows[0]["demand per night [CNY]"],
        night_basis=night_basis,
        peak_kw=float(solution.get("peak_kw", 0.0)),
        grid_kwh=grid_kwh,
        grid_limit_kw=problem.site.import_limit_kw,
        tariff=problem.tariff.source_id or "custom",
        base_price=problem.tariff.base_price,
        demand_rate=problem.tariff.demand_rate,
        connectors=tuple(sorted({c.id for c in problem.connectors} | {b["connector"] for b in bars})),
        bars=pd.DataFrame(bars, columns=BAR_COLUMNS),
        load=load,
        bands=pd.DataFrame(bands),
        costs=costs,
        unmet=pd.DataFrame(list(solution.get("unmet", ())), columns=["id", "shortfall_kwh", "reason"]),
        readiness=readiness(problem, solution),
    )


@dataclass(frozen=True)
class StoredCharging:
    view: ChargingView
    problem: ChargingProblem  # the stored solver input, typed: the starting point of a what-if


def current_charging_view(
    session: Session, lessee_code: str | None, depot_code: str, day: dt.date
) -> StoredCharging | None:
    """The night's current stored charging plan for the depot-day (`fleet.pipeline.current_charging_plan`)."""
    from fleet.pipeline import current_charging_plan

    scope = in_scope(session, lessee_code)
    depot = depot_in_scope(session, scope, depot_code)
    plan = current_charging_plan(session, scope, depot.id, day)
    if plan is None:
        return None
    problem = problem_from_json(plan.problem)  # the one read of the stored JSON
    view = charging_view(problem, plan.solution, depot.code, day, plan.version, plan.created_at)
    return StoredCharging(view, problem)


def tariff_options() -> list[tuple[str, str]]:
    """(id, name) of the time-of-use tariffs shipped in data/reference/tariffs.json."""
    from charging.tariff import load_reference

    return [(t["id"], t.get("name", t["id"])) for t in load_reference()["tariffs"]]


def charging_what_if(
    problem: ChargingProblem,
    depot_code: str,
    service_date: dt.date,
    grid_limit_kw: float,
    tariff_id: str,
    base_price: float,
    time_limit_s: float = 5.0,
    seed: int = 0,
) -> ChargingView:
    """Re-schedule the stored night with another grid import limit [kW] and tariff (id from tariffs.json, flat
    base price [CNY/kWh]); in memory, nothing stored. The demand charge and the month's peak so far are kept.

    The tariff is the reference tariff `tariff_id` as `charging.tariff.tariff_from_json` reads it (refusing a
    multiplier tariff without a base price); everything else of the stored problem is kept. Refusals are
    `ValueError`s (`TariffError`, or the problem's own validation of the changed fields)."""
    from charging.optimize import schedule
    from charging.tariff import tariff_from_json

    old = problem.tariff
    tariff = replace(
        tariff_from_json({"id": tariff_id, "base_price": float(base_price)}),
        demand_charge_per_kw_month=old.demand_charge_per_kw_month,
        month_peak_kw_so_far=old.month_peak_kw_so_far,
        demand_charge_proration=old.demand_charge_proration,
        contracted_demand_kw=old.contracted_demand_kw,
        overrun_multiplier=old.overrun_multiplier,
    )
    changed = replace(
        problem, site=replace(problem.site, import_limit_kw=float(grid_limit_kw)), tariff=tariff
    )
    result = schedule(changed, time_limit_s=float(time_limit_s), seed=seed, num_workers=1)
    return charging_view(changed, result.to_json(), depot_code, service_date)
