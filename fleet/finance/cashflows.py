"""The lessor's monthly cash flows of one lease, and their sum over a portfolio.

Month t = 0 is the lease start (purchase, loan drawdown, deposit in, first rent if paid in advance); months
t = 1..N are the ends of the lease months (running costs, carbon, debt service, rent in arrears); the residual
value comes in and the deposit goes back at t = N. Signs are the lessor's: inflows positive.

Tax is a simple rate on the month's taxable profit = the month's rent (accrual: rent paid in advance at t − 1 is
income of month t) + carbon − running costs − straight-line depreciation of (net price − residual value) over the
term − interest, with losses carried forward inside the lease (no tax is refunded). Selling at the residual value is then neither gain nor loss. The project (unlevered) flow carries
the tax computed without the interest deduction (`tax_unlevered`), so financing never changes project NPV; the
equity flow and CFADS carry the tax actually paid (`tax`), which includes the interest shield.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .debt import debt_schedule
from .inputs import Carbon, LeaseTerms, Usage

#: The costs the lessor may bear, in report order (each a negative monthly flow).
COST_COMPONENTS = ("maintenance", "insurance", "tyres", "telematics", "battery", "overhead", "bad_debt")

COMPONENTS = (
    "purchase",
    "loan_drawdown",
    "rent",
    "rent_for_period",
    "deposit",
    "maintenance",
    "insurance",
    "tyres",
    "telematics",
    "battery",
    "overhead",
    "bad_debt",
    "carbon",
    "residual",
    "tax",
    "tax_unlevered",
    "interest",
    "principal",
)


@dataclass(frozen=True)
class LessorCashFlows:
    """Monthly flows [CNY] over t = 0..horizon, one read-only array per component, lessor's signs."""

    purchase: np.ndarray
    """−(price − subsidies) at t = 0."""
    loan_drawdown: np.ndarray
    rent: np.ndarray
    rent_for_period: np.ndarray
    """Rent credited to the month it pays for (rent in advance at t − 1 counts for month t); used for DSCR/LLCR."""
    deposit: np.ndarray
    maintenance: np.ndarray
    """Maintenance per km and fixed, when the lessor bears it (negative)."""
    insurance: np.ndarray
    tyres: np.ndarray
    telematics: np.ndarray
    """Telematics and platform fees, when the lessor bears them (negative)."""
    battery: np.ndarray
    """Battery warranty reserve per kWh charged, plus any planned replacement (negative)."""
    overhead: np.ndarray
    """The lessor's management overhead (negative)."""
    bad_debt: np.ndarray
    """Allowance for unpaid rent, booked at the end of the month the rent pays for (negative)."""
    carbon: np.ndarray
    residual: np.ndarray
    tax: np.ndarray
    """Tax actually paid, with interest deducted (negative)."""
    tax_unlevered: np.ndarray
    """Tax the lease would pay without the loan (negative); used in the project flow."""
    interest: np.ndarray
    """Negative: interest paid."""
    principal: np.ndarray
    """Negative: principal repaid."""
    debt_balance: np.ndarray
    """Debt outstanding after each month's payment (positive)."""
    discount_rate_monthly: float
    debt_rate_monthly: float

    @property
    def months(self) -> int:
        """The horizon N [months]; arrays have N + 1 entries."""
        return len(self.rent) - 1

    @property
    def cfads(self) -> np.ndarray:
        """Cash flow available for debt service: operating flow after tax, without purchase, deposit or residual."""
        return self.rent + self.carbon + self.lessor_costs + self.tax

    @property
    def lessor_costs(self) -> np.ndarray:
        """Every running cost the lessor bears, summed (negative)."""
        return sum((getattr(self, name) for name in COST_COMPONENTS), np.zeros(len(self.rent)))

    @property
    def cfads_for_cover(self) -> np.ndarray:
        """CFADS with rent matched to the month it pays for, so that a month's debt service is set against that
        month's rent even when the rent arrives at the start of the month (in advance)."""
        return self.cfads - self.rent + self.rent_for_period

    @property
    def project(self) -> np.ndarray:
        """Unlevered flow: purchase, rent, deposit, costs, carbon, unlevered tax and residual (no loan)."""
        return self.purchase + self.deposit + self.residual + self.cfads - self.tax + self.tax_unlevered

    @property
    def debt_service(self) -> np.ndarray:
        """Interest + principal due each month (positive)."""
        return -(self.interest + self.principal)

    @property
    def equity(self) -> np.ndarray:
        """Levered flow to the lessor's own funds: −down payment at t = 0, flows after tax and debt service."""
        return (
            self.purchase
            + self.deposit
            + self.residual
            + self.cfads
            + self.loan_drawdown
            + self.interest
            + self.principal
        )

    def totals(self) -> dict[str, float]:
        """Undiscounted sum of each component over the horizon [CNY]."""
        return {name: float(getattr(self, name).sum()) for name in COMPONENTS if name != "rent_for_period"}


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def lessor_cashflows(lease: LeaseTerms, usage: Usage, carbon: Carbon) -> LessorCashFlows:
    """Monthly lessor cash flows of one lease over its term [CNY]."""
    n = lease.term_months

    def z() -> np.ndarray:
        return np.zeros(n + 1)

    months = slice(1, n + 1)

    purchase, drawdown, rent, deposit = z(), z(), z(), z()
    maintenance, insurance, battery, carbon_flow, residual = z(), z(), z(), z(), z()
    tyres, telematics, overhead, bad_debt = z(), z(), z(), z()

    rent_for_period = z()
    rent_for_period[months] = lease.monthly_rent
    purchase[0] = -lease.net_price
    drawdown[0] = lease.loan_amount
    if lease.rent_in_advance:
        rent[0:n] = lease.monthly_rent
    else:
        rent[months] = lease.monthly_rent
    deposit[0] += lease.deposit
    deposit[n] -= lease.deposit
    if lease.lessor_bears_maintenance:
        maintenance[months] = -(
            usage.km_per_month * lease.ev_maintenance_per_km + lease.ev_maintenance_fixed_per_month
        )
    if lease.lessor_bears_insurance:
        insurance[months] = -lease.ev_insurance_per_month
    if lease.lessor_bears_tyres:
        tyres[months] = -usage.km_per_month * lease.tyres_per_km
    if lease.lessor_bears_telematics:
        telematics[months] = -lease.telematics_per_month
    overhead[months] = -lease.overhead_per_month
    bad_debt[months] = -lease.bad_debt_share * lease.monthly_rent
    battery[months] = -usage.kwh_per_month * lease.battery_degradation_cny_per_kwh
    if lease.battery_replacement_month is not None:
        battery[lease.battery_replacement_month] -= lease.battery_replacement_cost
    carbon_flow[months] = usage.km_per_month * carbon.revenue_per_km(carbon.lessor_share)
    residual_at_end = lease.residual_at_end(usage)  # follows the battery's SoH when the lease has one
    residual[n] = residual_at_end

    loan = debt_schedule(
        lease.loan_amount, lease.loan.annual_rate, lease.loan.term_months, lease.loan.method, n
    )
    depreciation = z()
    depreciation[months] = (lease.net_price - residual_at_end) / n
    costs = maintenance + insurance + tyres + telematics + battery + overhead + bad_debt
    operating_profit = rent_for_period + carbon_flow + costs - depreciation
    tax = -_tax_with_loss_carry_forward(operating_profit - loan.interest, lease.tax_rate)
    tax_unlevered = -_tax_with_loss_carry_forward(operating_profit, lease.tax_rate)

    return LessorCashFlows(
        purchase=_frozen(purchase),
        loan_drawdown=_frozen(drawdown),
        rent=_frozen(rent),
        rent_for_period=_frozen(rent_for_period),
        deposit=_frozen(deposit),
        maintenance=_frozen(maintenance),
        insurance=_frozen(insurance),
        tyres=_frozen(tyres),
        telematics=_frozen(telematics),
        battery=_frozen(battery),
        overhead=_frozen(overhead),
        bad_debt=_frozen(bad_debt),
        carbon=_frozen(carbon_flow),
        residual=_frozen(residual),
        tax=_frozen(tax),
        tax_unlevered=_frozen(tax_unlevered),
        interest=_frozen(-loan.interest.copy()),
        principal=_frozen(-loan.principal.copy()),
        debt_balance=_frozen(loan.balance.copy()),
        discount_rate_monthly=lease.discount_rate / 12.0,
        debt_rate_monthly=lease.loan.annual_rate / 12.0,
    )


def _tax_with_loss_carry_forward(taxable: np.ndarray, rate: float) -> np.ndarray:
    """Tax paid each month [CNY, positive] on taxable profit, losses carried forward, never refunded."""
    tax = np.zeros_like(taxable)
    losses = 0.0
    for t, profit in enumerate(taxable):
        if profit < 0:
            losses -= profit
            continue
        used = min(losses, profit)
        losses -= used
        tax[t] = rate * (profit - used)
    return tax


def month_offset(start: dt.date | None, origin: dt.date | None) -> int:
    """Whole calendar months from `origin` to `start` (0 when either is unknown)."""
    if start is None or origin is None:
        return 0
    return (start.year - origin.year) * 12 + (start.month - origin.month)


def combine(flows: list[LessorCashFlows], offsets: list[int]) -> LessorCashFlows:
    """Portfolio flows: each lease's flows shifted by its start offset [months] and summed.

    The discount and debt rates of the result are the debt-weighted (or, without debt, price-weighted) means of
    the leases' rates; portfolio LLCR is computed from per-lease PVs instead (see `lessor.portfolio`).
    """
    if not flows:
        raise ValueError("a portfolio needs at least one lease")
    if min(offsets) < 0:
        raise ValueError("offsets must be >= 0")
    horizon = max(f.months + o for f, o in zip(flows, offsets))
    summed: dict[str, np.ndarray] = {}
    for name in COMPONENTS + ("debt_balance",):
        total = np.zeros(horizon + 1)
        for f, o in zip(flows, offsets):
            values = getattr(f, name)
            total[o : o + len(values)] += values
        summed[name] = _frozen(total)
    weights = np.array([max(f.debt_balance[0], -f.purchase[0]) for f in flows])
    weights = weights / weights.sum()
    return LessorCashFlows(
        **summed,
        discount_rate_monthly=float(np.dot(weights, [f.discount_rate_monthly for f in flows])),
        debt_rate_monthly=float(np.dot(weights, [f.debt_rate_monthly for f in flows])),
    )
