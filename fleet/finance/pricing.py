"""Rent negotiation range: the lessor's minimum rent (NPV = 0) and the lessee's maximum (saving = 0)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .cashflows import lessor_cashflows
from .inputs import Carbon, LeaseTerms, LesseeInputs, Usage
from .lessee import compare
from .metrics import level_payment, npv


@dataclass(frozen=True)
class RentRange:
    """Rents [CNY/month]: below `lessor_min` the lessor loses value, above `lessee_max` diesel is cheaper."""

    rent_at_discount_rate_pre_tax: float
    """Level rent that returns the discount rate on the net price with the residual value, before tax and costs
    (data/reference/FINANCE.md 'Rental': npf.pmt(r/12, n, −(price − subsidies), fv=RV, when=...))."""
    lease_rate_factor: float
    """Current rent ÷ price [-] (data/reference/FINANCE.md 'Rental')."""
    lessor_min: float | None
    """Rent at which the lessor's project NPV is zero; None if not reached below the net price per month."""
    lessee_max: float | None
    """Rent at which the lessee's PV saving against diesel is zero; None if no non-negative rent achieves it."""


def _project_npv(lease: LeaseTerms, usage: Usage, carbon: Carbon, rent: float) -> float:
    flows = lessor_cashflows(dataclasses.replace(lease, monthly_rent=rent), usage, carbon)
    return npv(flows.discount_rate_monthly, flows.project)


def lessor_min_rent(lease: LeaseTerms, usage: Usage, carbon: Carbon, tolerance: float = 1e-6) -> float | None:
    """Rent [CNY/month] where project NPV = 0, by bisection (NPV rises strictly with rent; see the tests)."""
    low, high = 0.0, lease.net_price
    if _project_npv(lease, usage, carbon, low) >= 0:
        return 0.0
    if _project_npv(lease, usage, carbon, high) < 0:
        return None
    while high - low > tolerance:
        mid = (low + high) / 2
        low, high = (mid, high) if _project_npv(lease, usage, carbon, mid) < 0 else (low, mid)
    return (low + high) / 2


def lessee_max_rent(lease: LeaseTerms, usage: Usage, carbon: Carbon, lessee: LesseeInputs) -> float | None:
    """Rent [CNY/month] where the lessee's PV saving is zero; the saving is linear in the rent."""
    at_zero = compare(dataclasses.replace(lease, monthly_rent=0.0), usage, carbon, lessee).saving_pv
    at_one = compare(dataclasses.replace(lease, monthly_rent=1.0), usage, carbon, lessee).saving_pv
    slope = at_zero - at_one  # PV of 1 CNY/month of rent
    if at_zero < 0 or slope <= 0:
        return None
    return at_zero / slope


def rent_range(lease: LeaseTerms, usage: Usage, carbon: Carbon, lessee: LesseeInputs) -> RentRange:
    """The rent negotiation range of a lease."""
    return RentRange(
        rent_at_discount_rate_pre_tax=level_payment(
            lease.discount_rate / 12.0,
            lease.term_months,
            lease.net_price,
            lease.residual_value,
            lease.rent_in_advance,
        ),
        lease_rate_factor=lease.monthly_rent / lease.price,
        lessor_min=lessor_min_rent(lease, usage, carbon),
        lessee_max=lessee_max_rent(lease, usage, carbon, lessee),
    )
