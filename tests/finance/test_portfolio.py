"""Portfolio aggregation: leases shifted by start month and summed, per lessee and in total."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from fleet.finance.inputs import Carbon, LeaseTerms, Loan, Usage
from fleet.finance.lessor import PortfolioLease, evaluate_lease, evaluate_portfolio

USAGE = Usage()
CARBON = Carbon()


def _lease(lease_id: str, lessee: str, start: dt.date, rent: float) -> LeaseTerms:
    return LeaseTerms(
        lease_id=lease_id,
        lessee=lessee,
        start=start,
        monthly_rent=rent,
        term_months=24,
        residual_value=80_000,
        loan=Loan(0.6, 0.05, 24),
    )


def test_portfolio_sums_shifted_flows() -> None:
    a = _lease("L1", "Alpha", dt.date(2025, 1, 1), 6_000)
    b = _lease("L2", "Beta", dt.date(2025, 4, 15), 6_500)
    c = _lease("L3", "Alpha", dt.date(2025, 2, 1), 5_800)
    result = evaluate_portfolio([PortfolioLease(x, USAGE, CARBON) for x in (a, b, c)])

    singles = {x.lease_id: evaluate_lease(x, USAGE, CARBON) for x in (a, b, c)}
    assert [r.label for r in result.leases] == ["L1", "L2", "L3"]
    assert result.total.flows.months == 24 + 3
    expected = np.zeros(28)
    for lease_id, offset in (("L1", 0), ("L2", 3), ("L3", 1)):
        expected[offset : offset + 25] += singles[lease_id].flows.project
    assert result.total.flows.project == pytest.approx(expected)

    r = 0.06 / 12
    total_npv = (
        singles["L1"].project.npv
        + singles["L2"].project.npv / (1 + r) ** 3
        + singles["L3"].project.npv / (1 + r)
    )
    assert result.total.project.npv == pytest.approx(total_npv, abs=1e-6)
    assert result.total.leases == 3

    alpha, beta = result.by_lessee
    assert (alpha.label, alpha.leases, beta.label, beta.leases) == ("Alpha", 2, "Beta", 1)
    assert beta.project.npv == pytest.approx(singles["L2"].project.npv, abs=1e-6)
    assert beta.llcr == pytest.approx(singles["L2"].llcr, rel=1e-12)
    debts = [singles[k].flows.debt_balance[0] for k in ("L1", "L3")]
    numerators = [singles[k].llcr * d for k, d in zip(("L1", "L3"), debts)]
    assert alpha.llcr == pytest.approx(sum(numerators) / sum(debts), rel=1e-12)


def test_empty_portfolio_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one lease"):
        evaluate_portfolio([])
