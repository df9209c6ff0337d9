"""Standard investment metrics on a periodic cash flow (numpy-financial for NPV, IRR, MIRR and PMT).

**Timing convention (numpy-financial, data/reference/FINANCE.md §Conventions):** ``cf[0]`` is at time zero and is *not*
discounted; ``cf[t]`` is discounted by ``(1 + r)**t``. Excel's NPV discounts its first value, so
Excel NPV = ``npv(r, cf) / (1 + r)``. Outflows are negative. Rates passed here are *per period* (monthly for
leases: nominal annual / 12); `annualise` turns a monthly rate into nominal (12·r) and effective ((1+r)^12 − 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy_financial as npf

ArrayLike = Sequence[float] | np.ndarray


def npv(rate: float, cash_flows: ArrayLike) -> float:
    """Net present value [CNY] at a per-period `rate`, first flow at t = 0 undiscounted (numpy-financial)."""
    return float(npf.npv(rate, np.asarray(cash_flows, dtype=float)))


def irr(cash_flows: ArrayLike) -> float | None:
    """Per-period internal rate of return, or None when no real rate makes NPV zero (numpy-financial)."""
    flows = np.asarray(cash_flows, dtype=float)
    if not (np.any(flows > 0) and np.any(flows < 0)):
        return None
    try:
        value = float(npf.irr(flows))
    except np.linalg.LinAlgError:  # polynomial roots overflow on degenerate (e.g. subnormal) flows
        return None
    return None if math.isnan(value) else value


def mirr(cash_flows: ArrayLike, finance_rate: float, reinvest_rate: float) -> float | None:
    """Modified IRR per period: outflows financed at `finance_rate`, inflows reinvested at `reinvest_rate`.

    (FV of inflows ÷ −PV of outflows)^(1/N) − 1 with N = len(cf) − 1 (numpy-financial `mirr`).
    """
    flows = np.asarray(cash_flows, dtype=float)
    if not (np.any(flows > 0) and np.any(flows < 0)):
        return None
    value = float(npf.mirr(flows, finance_rate, reinvest_rate))
    return None if math.isnan(value) else value


def annualise(monthly_rate: float | None) -> tuple[float | None, float | None]:
    """(nominal 12·r, effective (1+r)^12 − 1) of a monthly rate [1/yr]."""
    if monthly_rate is None:
        return None, None
    return 12.0 * monthly_rate, (1.0 + monthly_rate) ** 12 - 1.0


@dataclass(frozen=True)
class Payback:
    """First period where the cumulative flow reaches zero: whole periods, and linearly interpolated."""

    periods: int | None
    interpolated: float | None


def payback(cash_flows: ArrayLike, rate: float = 0.0) -> Payback:
    """Simple (rate 0) or discounted payback [periods]; None if the cumulative flow never reaches zero.

    Interpolated value: (t − 1) + (−cumulative_{t−1}) / flow_t at the first t with cumulative_t >= 0
    (data/reference/FINANCE.md L8: flows −100, 39, 59, 55, 20 give 3 periods, 2.0364 interpolated).
    """
    flows = np.asarray(cash_flows, dtype=float)
    if rate:
        flows = flows / (1.0 + rate) ** np.arange(len(flows))
    cumulative = np.cumsum(flows)
    reached = np.nonzero(cumulative >= 0.0)[0]
    if len(reached) == 0:
        return Payback(None, None)
    t = int(reached[0])
    if t == 0:
        return Payback(0, 0.0)
    return Payback(t, float((t - 1) + (-cumulative[t - 1]) / flows[t]))


def dscr(cfads: ArrayLike, debt_service: ArrayLike) -> np.ndarray:
    """Debt service cover ratio per period with debt service: CFADS_t / (interest_t + principal_t) [-]."""
    available = np.asarray(cfads, dtype=float)
    service = np.asarray(debt_service, dtype=float)
    due = service > 0
    return available[due] / service[due]


def llcr(cfads: ArrayLike, debt_service: ArrayLike, rate: float, debt_outstanding: float) -> float | None:
    """Loan life cover ratio at t = 0 [-]: PV at the per-period debt `rate` of CFADS over the loan's life
    (t = 1 .. last period with debt service) ÷ debt outstanding at t = 0. None without debt."""
    if debt_outstanding <= 0:
        return None
    return pv_over_loan_life(cfads, debt_service, rate) / debt_outstanding


def pv_over_loan_life(cfads: ArrayLike, debt_service: ArrayLike, rate: float) -> float:
    """PV at t = 0 of CFADS for t = 1 .. the last period with debt service [CNY] (LLCR numerator)."""
    available = np.asarray(cfads, dtype=float)
    due = np.nonzero(np.asarray(debt_service, dtype=float) > 0)[0]
    if len(due) == 0:
        return 0.0
    last = int(due[-1])
    t = np.arange(1, last + 1)
    return float(np.sum(available[1 : last + 1] / (1.0 + rate) ** t))


def llcr_series(
    cfads: ArrayLike, debt_service: ArrayLike, balance: ArrayLike, rate: float
) -> list[tuple[int, float]]:
    """LLCR at each month t with debt outstanding after its payment [(t, ratio)]: PV at t, at the per-period debt
    `rate`, of CFADS over t+1 .. the last month with debt service, ÷ the debt outstanding at t. t = 0 is the drawdown
    (the usual single LLCR)."""
    available = np.asarray(cfads, dtype=float)
    owed = np.asarray(balance, dtype=float)
    due = np.nonzero(np.asarray(debt_service, dtype=float) > 0)[0]
    if len(due) == 0:
        return []
    last = int(due[-1])
    out = []
    for t in range(last):
        if owed[t] <= 1e-9:
            continue
        s = np.arange(t + 1, last + 1)
        pv = float(np.sum(available[t + 1 : last + 1] / (1.0 + rate) ** (s - t)))
        out.append((t, pv / owed[t]))
    return out


def level_payment(
    rate: float, periods: int, present_value: float, future_value: float = 0.0, in_advance: bool = False
) -> float:
    """Level payment [CNY/period] that amortises `present_value` down to `future_value` (positive number).

    Wraps ``-npf.pmt(rate, periods, present_value, fv=-future_value, when=...)``: e.g. the lessor's rent that
    yields `rate` on a net price with a residual value (data/reference/FINANCE.md L2-L5), or a loan's annuity (T7).
    """
    if abs(rate) < 1e-9:  # (1 + r)^n − 1 cancels to 0 in floats; the zero-rate limit is exact to ~n·r
        return (present_value - future_value) / periods
    return float(
        -npf.pmt(rate, periods, present_value, fv=-future_value, when="begin" if in_advance else "end")
    )


def periods_to_amortise(rate: float, payment: float, present_value: float) -> float:
    """Number of periods of `payment` [CNY/period] needed to repay `present_value` [CNY] (npf.nper; T8)."""
    return float(npf.nper(rate, -payment, present_value))


@dataclass(frozen=True)
class Metrics:
    """Return metrics of one cash flow (monthly periods). Money [CNY] as floats; round at the output boundary."""

    npv: float
    """NPV at the discount rate, first flow at t = 0 undiscounted [CNY]."""
    irr_monthly: float | None
    irr_nominal_annual: float | None
    irr_effective_annual: float | None
    mirr_monthly: float | None
    mirr_effective_annual: float | None
    payback_months: int | None
    payback_months_interpolated: float | None
    discounted_payback_months: int | None
    discounted_payback_months_interpolated: float | None


def metrics(
    cash_flows: ArrayLike,
    monthly_discount_rate: float,
    monthly_finance_rate: float,
    monthly_reinvest_rate: float,
) -> Metrics:
    """All return metrics of a monthly cash flow (t = 0 first, undiscounted)."""
    flows = np.asarray(cash_flows, dtype=float)
    if not np.all(np.isfinite(flows)):
        raise ValueError("cash flows contain a non-finite value")
    rate = irr(flows)
    nominal, effective = annualise(rate)
    modified = mirr(flows, monthly_finance_rate, monthly_reinvest_rate)
    simple = payback(flows)
    discounted = payback(flows, monthly_discount_rate)
    return Metrics(
        npv=npv(monthly_discount_rate, flows),
        irr_monthly=rate,
        irr_nominal_annual=nominal,
        irr_effective_annual=effective,
        mirr_monthly=modified,
        mirr_effective_annual=annualise(modified)[1],
        payback_months=simple.periods,
        payback_months_interpolated=simple.interpolated,
        discounted_payback_months=discounted.periods,
        discounted_payback_months_interpolated=discounted.interpolated,
    )
