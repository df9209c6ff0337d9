"""Rent corridor: the lessor's floor (its hurdle AND the loan covenants) beside the lessee's break-even rent.

- hurdle rent: project NPV = 0 at the lessor's discount rate (its hurdle), all its costs and tax counted;
- covenant rent: the lowest rent at which no month breaches the DSCR or the LLCR covenant (None without a loan);
- floor = the larger of the two; the lessee's break-even (maximum) rent makes its PV saving against diesel zero.
A corridor exists when floor <= lessee maximum. Each bound is found by bisection on a quantity that rises
strictly with the rent (CFADS rises by (1 − tax rate) × (1 − bad-debt share) per CNY of rent).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from .cashflows import lessor_cashflows
from .inputs import Carbon, LeaseTerms, LesseeInputs, Usage
from .lessee import compare
from .lessor import covenant_test
from .metrics import dscr, level_payment, llcr_series, npv


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


def _bracketed_root(
    f: Callable[[float], float], low: float, high: float, f_low: float, f_high: float, tolerance: float
) -> tuple[float, float]:
    """A bracket (a, b) narrower than `tolerance` with f(a) < 0 <= f(b), for f rising in [low, high].

    Illinois (regula falsi with halving of a stagnant end): f is piecewise linear in the rent here, so it
    converges in a few evaluations where plain bisection on [0, net price] needs about forty."""
    a, b, fa, fb, side = low, high, f_low, f_high, 0
    for _ in range(200):
        if b - a <= tolerance:
            break
        x = b - fb * (b - a) / (fb - fa) if fb != fa else (a + b) / 2
        if not a < x < b:
            x = (a + b) / 2
        fx = f(x)
        if fx < 0:
            a, fa = x, fx
            if side == -1:
                fb /= 2
            side = -1
        else:
            b, fb = x, fx
            if side == 1:
                fa /= 2
            side = 1
        if fx == 0.0:
            return x, x
    return a, b


def lessor_min_rent(lease: LeaseTerms, usage: Usage, carbon: Carbon, tolerance: float = 1e-6) -> float | None:
    """Rent [CNY/month] where project NPV = 0 (NPV rises strictly with rent; see the tests)."""
    low, high = 0.0, lease.net_price
    f_low = _project_npv(lease, usage, carbon, low)
    if f_low >= 0:
        return 0.0
    f_high = _project_npv(lease, usage, carbon, high)
    if f_high < 0:
        return None
    a, b = _bracketed_root(
        lambda rent: _project_npv(lease, usage, carbon, rent), low, high, f_low, f_high, tolerance
    )
    return (a + b) / 2


def _covenant_headroom(lease: LeaseTerms, usage: Usage, carbon: Carbon, rent: float) -> float:
    """min over months of DSCR_t / DSCR covenant and LLCR_t / LLCR covenant, minus 1: >= 0 when the covenants
    hold in every month; rises with the rent."""
    flows = lessor_cashflows(dataclasses.replace(lease, monthly_rent=rent), usage, carbon)
    service = flows.debt_service
    cover = dscr(flows.cfads_for_cover, service)
    lives = llcr_series(flows.cfads_for_cover, service, flows.debt_balance, flows.debt_rate_monthly)
    ratios = [float(cover.min()) / lease.loan.dscr_covenant] if len(cover) else []
    if lives:
        ratios.append(min(r for _, r in lives) / lease.loan.llcr_covenant)
    return min(ratios) - 1.0 if ratios else 0.0


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
    f_low = _covenant_headroom(lease, usage, carbon, low)
    f_high = _covenant_headroom(lease, usage, carbon, high)
    _, b = _bracketed_root(
        lambda rent: _covenant_headroom(lease, usage, carbon, rent), low, high, f_low, f_high, tolerance
    )
    while not _covenant_met(lease, usage, carbon, b):  # the met side, to the test's own tolerance
        b += tolerance
    return b


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
            lease.residual_at_end(usage),
            lease.rent_in_advance,
        ),
        lease_rate_factor=lease.monthly_rent / lease.price,
        lessor_min=lessor_min_rent(lease, usage, carbon),
        lessee_max=lessee_max_rent(lease, usage, carbon, lessee),
        covenant_min=covenant_min_rent(lease, usage, carbon),
        has_loan=lease.loan_amount > 0,
        monthly_rent=lease.monthly_rent,
    )
