"""The lessee's view: cost of the electric lease against keeping or buying the diesel truck.

Both options run over the lease term N with the same distance. Costs are positive. Month t = 0 holds the
deposit (and the first rent when paid in advance) or the diesel truck's value; running costs fall at t = 1..N;
the deposit comes back and the diesel truck keeps its residual value at t = N.

Levelised cost per km = PV(costs) ÷ PV(km) (data/reference/FINANCE.md 'Levelised cost per km'); per month = PV(costs) ÷
Σ_{t=1..N} (1 + r)^−t, i.e. the level monthly payment with the same PV. PV uses numpy-financial's convention
(t = 0 undiscounted) at the lessee's monthly rate r = discount_rate / 12.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .inputs import Carbon, LeaseTerms, LesseeInputs, Usage
from .metrics import npv


@dataclass(frozen=True)
class OptionCost:
    """Cost of one option over the lease term. Money [CNY] as floats."""

    name: str
    pv_cost: float
    """PV of all costs net of refunds and residual value [CNY]."""
    cost_per_km: float | None
    """Levelised [CNY/km]; None at zero distance."""
    cost_per_month: float
    """Levelised [CNY/month]."""
    components_pv: dict[str, float]
    """PV of each cost component [CNY] (negative = a credit)."""


@dataclass(frozen=True)
class BreakEven:
    """Annual distance [km/yr] at which both options cost the same, and which side is cheaper above it."""

    km_per_year: float | None
    note: str


@dataclass(frozen=True)
class LesseeComparison:
    """Electric lease vs diesel truck for the lessee."""

    electric: OptionCost
    diesel: OptionCost
    saving_per_month: float
    """Diesel minus electric, levelised [CNY/month]; positive favours the electric lease."""
    saving_per_km: float | None
    saving_pv: float
    break_even: BreakEven


def _electric_flows(
    lease: LeaseTerms, usage: Usage, carbon: Carbon, lessee: LesseeInputs
) -> dict[str, np.ndarray]:
    n = lease.term_months
    months = slice(1, n + 1)
    km = usage.km_per_month
    flows = {
        name: np.zeros(n + 1)
        for name in (
            "rent",
            "deposit",
            "energy",
            "maintenance",
            "insurance",
            "tyres",
            "telematics",
            "driver_time",
            "carbon",
        )
    }
    if lease.rent_in_advance:
        flows["rent"][0:n] = lease.monthly_rent
    else:
        flows["rent"][months] = lease.monthly_rent
    flows["deposit"][0] += lease.deposit
    flows["deposit"][n] -= lease.deposit
    flows["energy"][months] = usage.kwh_per_month * lessee.electricity_cny_per_kwh
    # The lessee pays the costs the lease leaves to it, and none of those the lessor bears (the battery warranty
    # reserve, the lessor's overhead and its bad-debt allowance are always the lessor's).
    if not lease.lessor_bears_maintenance:
        flows["maintenance"][months] = km * lease.ev_maintenance_per_km + lease.ev_maintenance_fixed_per_month
    if not lease.lessor_bears_insurance:
        flows["insurance"][months] = lease.ev_insurance_per_month
    if not lease.lessor_bears_tyres:
        flows["tyres"][months] = km * lease.tyres_per_km
    if not lease.lessor_bears_telematics:
        flows["telematics"][months] = lease.telematics_per_month
    flows["driver_time"][months] = (
        km * lessee.charging_hours_per_1000km / 1000.0 * lessee.driver_cost_per_hour
    )
    flows["carbon"][months] = -km * carbon.revenue_per_km(carbon.lessee_share)
    return flows


def _diesel_flows(n: int, usage: Usage, lessee: LesseeInputs) -> dict[str, np.ndarray]:
    months = slice(1, n + 1)
    km = usage.km_per_month
    flows = {name: np.zeros(n + 1) for name in ("truck", "residual", "fuel", "maintenance", "insurance")}
    flows["truck"][0] = lessee.diesel_truck_value
    flows["residual"][n] = -lessee.diesel_residual_value
    flows["fuel"][months] = km * lessee.diesel_l_per_100km / 100.0 * lessee.diesel_price_cny_per_l
    flows["maintenance"][months] = km * lessee.diesel_maintenance_per_km
    flows["insurance"][months] = lessee.diesel_insurance_per_month
    return flows


def _option(name: str, flows: dict[str, np.ndarray], usage: Usage, rate: float) -> OptionCost:
    n = len(next(iter(flows.values()))) - 1
    components = {key: npv(rate, values) for key, values in flows.items()}
    pv_cost = float(sum(components.values()))
    annuity = float(np.sum((1.0 + rate) ** -np.arange(1, n + 1)))
    pv_km = usage.km_per_month * annuity
    return OptionCost(name, pv_cost, pv_cost / pv_km if pv_km > 0 else None, pv_cost / annuity, components)


def compare(lease: LeaseTerms, usage: Usage, carbon: Carbon, lessee: LesseeInputs) -> LesseeComparison:
    """Electric lease vs the diesel truck over the lease term, with the break-even annual distance."""
    electric, diesel = _options(lease, usage, carbon, lessee)
    per_km = (
        None
        if electric.cost_per_km is None or diesel.cost_per_km is None
        else diesel.cost_per_km - electric.cost_per_km
    )
    return LesseeComparison(
        electric,
        diesel,
        diesel.cost_per_month - electric.cost_per_month,
        per_km,
        diesel.pv_cost - electric.pv_cost,
        break_even_km(lease, usage, carbon, lessee),
    )


def _options(
    lease: LeaseTerms, usage: Usage, carbon: Carbon, lessee: LesseeInputs
) -> tuple[OptionCost, OptionCost]:
    rate = lessee.discount_rate / 12.0
    electric = _option("electric lease", _electric_flows(lease, usage, carbon, lessee), usage, rate)
    diesel = _option(
        f"diesel ({lessee.diesel_option})", _diesel_flows(lease.term_months, usage, lessee), usage, rate
    )
    return electric, diesel


def break_even_km(lease: LeaseTerms, usage: Usage, carbon: Carbon, lessee: LesseeInputs) -> BreakEven:
    """Annual distance [km/yr] where the electric lease and the diesel truck have equal PV cost.

    Every cost is fixed or proportional to distance, so PV cost = a + b·km for each option; the break-even is
    (a_electric − a_diesel) / (b_diesel − b_electric). 0 means the electric lease is cheaper at any distance.
    """
    reference = 10_000.0
    pv = {}
    for km in (0.0, reference):
        e, d = _options(lease, dataclasses.replace(usage, km_per_year=km), carbon, lessee)
        pv[km] = (e.pv_cost, d.pv_cost)
    a_e, a_d = pv[0.0]
    b_e = (pv[reference][0] - a_e) / reference
    b_d = (pv[reference][1] - a_d) / reference
    if b_d > b_e:
        km = (a_e - a_d) / (b_d - b_e)
        if km <= 0:
            return BreakEven(0.0, "electric lease is cheaper at any distance")
        return BreakEven(km, "electric lease is cheaper above this distance")
    if a_e >= a_d:
        return BreakEven(None, "diesel is cheaper at any distance")
    if b_e == b_d:
        return BreakEven(0.0, "electric lease is cheaper at any distance")
    return BreakEven(
        (a_d - a_e) / (b_e - b_d),
        "electric lease is cheaper below this distance (its running cost per km is higher)",
    )
