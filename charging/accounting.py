"""Cost, peak and carbon of a site import profile: the three objective values every result reports."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from charging.problem import ChargingProblem
from charging.tariff import CostBreakdown


@dataclass(frozen=True)
class SlotData:
    """Per-slot arrays of a problem, computed once."""

    price: np.ndarray  # import [CNY/kWh]
    export_price: np.ndarray  # [CNY/kWh]
    carbon: np.ndarray  # [kgCO2/kWh]
    base: np.ndarray  # [kW]
    pv: np.ndarray  # [kW]
    import_cap: np.ndarray  # [kW] incl. DR caps
    dt: float  # [h]


def slot_data(problem: ChargingProblem) -> SlotData:
    starts, minutes = problem.slot_starts, problem.slot_minutes
    return SlotData(
        price=problem.tariff.energy_prices(starts, minutes),
        export_price=problem.tariff.export_prices(starts, minutes),
        carbon=problem.carbon_profile(),
        base=problem.profile(problem.site.base_load_kw),
        pv=problem.profile(problem.site.pv_kw),
        import_cap=problem.import_caps(),
        dt=problem.dt_h,
    )


def site_cost(
    problem: ChargingProblem, net_import_kw: np.ndarray, data: SlotData | None = None
) -> CostBreakdown:
    """Bill for a net import profile [kW per slot] (negative = export)."""
    d = data or slot_data(problem)
    net = np.asarray(net_import_kw, dtype=float)
    imp, exp = np.maximum(net, 0.0), np.maximum(-net, 0.0)
    dr = 0.0
    for event in problem.dr_events:
        overlap = problem.event_overlap(event)
        if event.kind == "reduction_reward":
            dr -= (
                event.rate_cny_per_kwh
                * float(np.sum(overlap * np.maximum(0.0, event.reference_kw - net)))
                * d.dt
            )
        elif event.kind == "discharge_reward":
            dr -= event.rate_cny_per_kwh * float(np.sum(overlap * exp)) * d.dt
    peak = float(imp.max(initial=0.0))
    return CostBreakdown(
        energy=float(np.sum(imp * d.price)) * d.dt,
        demand=problem.tariff.demand_charge(peak),
        export=-float(np.sum(exp * d.export_price)) * d.dt,
        dr=dr,
        demand_night=problem.tariff.demand_night_share(peak, problem.billing_night),
    )


def carbon_kg(net_import_kw: np.ndarray, data: SlotData) -> float:
    """Emissions of bought energy [kgCO2] (exports are not credited)."""
    return float(np.sum(np.maximum(np.asarray(net_import_kw), 0.0) * data.carbon)) * data.dt
