"""Rent corridor: the lessor's floor (its hurdle AND the loan covenants) beside the lessee's break-even rent.

- hurdle rent: project NPV = 0 at the lessor's discount rate (its hurdle), all its costs and tax counted;
- covenant rent: the lowest rent at which no month breaches the DSCR or the LLCR covenant (None without a loan);
- floor = the larger of the two; the lessee's break-even (maximum) rent makes its PV saving against diesel zero.
A corridor exists when floor <= lessee maximum. Each bound is found by bisection on a quantity that rises
strictly with the rent (CFADS rises by (1 − tax rate) × (1 − bad-debt share) per CNY of rent).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .cashflows import lessor_cashflows
from .inputs import Carbon, LeaseTerms, LesseeInputs, Usage
from .lessee import compare
from .lessor import covenant_test
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
    covenant_min: float | None = None
    """Lowest rent at which no month breaches the DSCR or LLCR covenant; None without a loan (or not reached)."""
    has_loan: bool = False
    monthly_rent: float = 0.0

    @property
    def floor(self) -> float | None:
        """The lessor's floor: the larger of the hurdle rent and the covenant rent (None if either is unreachable)."""
        if self.lessor_min is None or (self.has_loan and self.covenant_min is None):
            return None
        return max(self.lessor_min, self.covenant_min or 0.0)

    @property
    def corridor_exists(self) -> bool:
        """True when the lessor's floor is at most the lessee's break-even rent."""
        return self.floor is not None and self.lessee_max is not None and self.floor <= self.lessee_max

    @property
    def rent_change_to_floor(self) -> float | None:
        """(floor − current rent) ÷ current rent [-]: how far the rent must rise (+) or may fall (−)."""
        if self.floor is None or self.monthly_rent <= 0:
            return None
        return self.floor / self.monthly_rent - 1.0


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


def _covenant_met(lease: LeaseTerms, usage: Usage, carbon: Carbon, rent: float) -> bool:
    flows = lessor_cashflows(dataclasses.replace(lease, monthly_rent=rent), usage, carbon)
    test = covenant_test(flows, lease.loan.dscr_covenant, lease.loan.llcr_covenant)
    return test is None or test.met


def covenant_min_rent(
    lease: LeaseTerms, usage: Usage, carbon: Carbon, tolerance: float = 1e-4
) -> float | None:
    """Lowest rent [CNY/month] at which no month breaches the DSCR or LLCR covenant, by bisection.

    None without a loan, or when even a rent of the whole net price a month does not meet the covenants.
    """
    if lease.loan_amount <= 0:
        return None
    low, high = 0.0, lease.net_price
    if _covenant_met(lease, usage, carbon, low):
        return 0.0
    if not _covenant_met(lease, usage, carbon, high):
        return None
    while high - low > tolerance:
        mid = (low + high) / 2
        low, high = (low, mid) if _covenant_met(lease, usage, carbon, mid) else (mid, high)
    return high


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
        covenant_min=covenant_min_rent(lease, usage, carbon),
        has_loan=lease.loan_amount > 0,
        monthly_rent=lease.monthly_rent,
    )
