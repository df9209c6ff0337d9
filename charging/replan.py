"""Rolling re-plan: the rest of the night from the state at time t.

Pure. `replan(scenario, state)` cuts the day-ahead scenario at the first slot boundary at or after `state.at`,
updates each truck from what is known now (energy in the battery, the connector it is on, a late, early or
missing truck, a changed need or departure) and solves the remaining horizon with the public
`charging.optimize.schedule` (same model, same checker). The month's peak so far includes tonight's peak up to
t, so the demand charge is not paid twice for a peak already set.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from charging.problem import ChargingProblem, ScenarioError, Vehicle
from charging.result import ChargingSchedule


@dataclass(frozen=True)
class TruckState:
    """What is known about one truck at time t. None keeps the day-ahead value.

    energy_kwh : battery energy now [kWh] (for a truck not yet back: expected on arrival).
    connector : the connector it is plugged into (fixes the assignment).
    arrival : expected arrival if not yet back (late or early); ignored once plugged in.
    missing : not coming back tonight: dropped from the re-plan.
    """

    energy_kwh: float | None = None
    connector: str | None = None
    arrival: datetime | None = None
    departure: datetime | None = None
    energy_target_kwh: float | None = None
    missing: bool = False


@dataclass(frozen=True)
class NightState:
    """The depot at time `at`: per-truck state (by vehicle id), trucks not in the day-ahead plan, and the site's
    peak import so far tonight [kW]."""

    at: datetime
    trucks: Mapping[str, TruckState] = field(default_factory=dict)
    new_trucks: tuple[Vehicle, ...] = ()
    peak_kw_so_far: float = 0.0


@dataclass(frozen=True)
class Replan:
    """The re-planned rest of the night: its problem (horizon from `first_slot` of the day-ahead grid) and
    schedule, and the solve time [s]."""

    problem: ChargingProblem
    schedule: ChargingSchedule
    first_slot: int
    seconds: float
    dropped: tuple[str, ...] = ()
    fallback: str | None = None  # the baseline used when the optimiser did not finish in time


def remaining_problem(
    scenario: ChargingProblem, state: NightState
) -> tuple[ChargingProblem, int, tuple[str, ...]]:
    """The scenario from the first slot boundary at or after `state.at`, with every truck updated."""
    step = timedelta(minutes=scenario.slot_minutes)
    first = max(0, math.ceil((state.at - scenario.start) / step - 1e-9))
    if first >= scenario.n_slots:
        raise ScenarioError(f"at: {state.at.isoformat()} is at or after the end of the night")
    start = scenario.start + first * step
    unknown = sorted(set(state.trucks) - {v.id for v in scenario.vehicles})
    if unknown:
        raise ScenarioError(f"trucks: not in the scenario: {', '.join(unknown)} (give them as new_trucks)")
    connectors = scenario.connector_by_id()
    vehicles, dropped = [], []
    for v in (*scenario.vehicles, *state.new_trucks):
        s = state.trucks.get(v.id, TruckState())
        departure = s.departure or v.departure
        if s.missing or departure <= start + step:
            dropped.append(v.id)
            continue
        if s.connector is not None and s.connector not in connectors:
            raise ScenarioError(f"truck {v.id}: unknown connector {s.connector!r}")
        arrival = v.arrival if s.arrival is None or s.connector is not None else s.arrival
        energy = v.energy_arrival_kwh if s.energy_kwh is None else min(v.capacity_kwh, max(0.0, s.energy_kwh))
        target = (
            v.energy_target_kwh if s.energy_target_kwh is None else min(v.capacity_kwh, s.energy_target_kwh)
        )
        vehicles.append(
            replace(
                v,
                arrival=max(arrival, start) if s.connector is None else start,
                departure=departure,
                energy_arrival_kwh=energy,
                energy_target_kwh=max(target, energy) if target < energy else target,
                connector=s.connector or v.connector,
            )
        )
    site = scenario.site
    site = replace(
        site,
        base_load_kw=site.base_load_kw[first:] if site.base_load_kw else (),
        pv_kw=site.pv_kw[first:] if site.pv_kw else (),
    )
    carbon = scenario.carbon_kg_per_kwh
    if len(carbon) == scenario.n_slots:
        carbon = carbon[first:]
    tariff = replace(
        scenario.tariff, month_peak_kw_so_far=max(scenario.tariff.month_peak_kw_so_far, state.peak_kw_so_far)
    )
    problem = replace(
        scenario,
        start=start,
        site=site,
        carbon_kg_per_kwh=carbon,
        tariff=tariff,
        vehicles=tuple(vehicles),
        dr_events=tuple(e for e in scenario.dr_events if e.end > start),
        name=f"{scenario.name} re-planned from {start.isoformat()}",
    )
    return problem, first, tuple(dropped)


def replan(
    scenario: ChargingProblem,
    state: NightState,
    *,
    objective: str = "cost",
    time_limit_s: float = 1.0,
    seed: int = 0,
    num_workers: int = 1,
) -> Replan:
    """Re-plan the rest of the night from `state` (see the module docstring); baselines are not run.

    If the optimiser does not finish within `time_limit_s` [s], the earliest-deadline-first baseline of the
    remaining night is returned instead (`Replan.fallback == "edf"`).
    """
    t0 = time.perf_counter()
    problem, first, dropped = remaining_problem(scenario, state)
    from charging.baselines import earliest_deadline_first
    from charging.optimize import schedule  # the public entry points; loaded lazily like charging/__init__

    try:
        result = schedule(
            problem,
            objective=objective,
            time_limit_s=max(0.05, time_limit_s - (time.perf_counter() - t0)),
            seed=seed,
            num_workers=num_workers,
            baselines=False,
        )
        fallback = None
    except RuntimeError:
        # Out of time (a loaded machine): the chargers still need a plan now, so the earliest-deadline-first
        # baseline (always feasible where anything is) goes out and the next re-plan tries again.
        result, fallback = earliest_deadline_first(problem), "edf"
    return Replan(problem, result, first, time.perf_counter() - t0, dropped, fallback)
