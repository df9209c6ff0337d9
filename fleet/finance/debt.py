"""The lessor's purchase loan as a monthly schedule (annuity or equal principal)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .metrics import level_payment


@dataclass(frozen=True)
class DebtSchedule:
    """Monthly loan flows over t = 0..horizon [CNY], all non-negative; arrays are read-only.

    `interest[t]` and `principal[t]` are paid at the end of month t (t = 1..term); `balance[t]` is the debt
    outstanding after the payment at t (balance[0] = amount drawn).
    """

    amount: float
    monthly_rate: float
    interest: np.ndarray
    principal: np.ndarray
    balance: np.ndarray

    @property
    def service(self) -> np.ndarray:
        """Debt service per month [CNY]."""
        return self.interest + self.principal


def debt_schedule(
    amount: float, annual_rate: float, term_months: int, method: str, horizon: int
) -> DebtSchedule:
    """Repayment schedule of `amount` [CNY] at nominal `annual_rate` [1/yr] (monthly r/12) over `term_months`.

    'annuity' pays the level payment of npf.pmt (data/reference/FINANCE.md T7: 200,000 at 7.5 % over 180 months pays
    1,854.02/month); 'equal_principal' repays amount/term each month plus interest on the balance.
    """
    rate = annual_rate / 12.0
    interest = np.zeros(horizon + 1)
    principal = np.zeros(horizon + 1)
    balance = np.zeros(horizon + 1)
    balance[0] = amount
    if amount > 0:
        payment = level_payment(rate, term_months, amount) if method == "annuity" else 0.0
        for t in range(1, term_months + 1):
            interest[t] = balance[t - 1] * rate
            if t == term_months:
                principal[t] = balance[t - 1]  # close out rounding residue
            elif method == "annuity":
                principal[t] = payment - interest[t]
            else:
                principal[t] = amount / term_months
            balance[t] = balance[t - 1] - principal[t]
    for array in (interest, principal, balance):
        array.setflags(write=False)
    return DebtSchedule(amount, rate, interest, principal, balance)
