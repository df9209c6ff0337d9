"""FINANCE.md 'Test vectors' (numpy-financial 1.0.0), reproduced through this package's own functions."""

from __future__ import annotations

import pytest

from fleet.finance import carbon_prices, metrics
from fleet.finance.cashflows import lessor_cashflows
from fleet.finance.debt import debt_schedule
from fleet.finance.inputs import Carbon, LeaseTerms, Loan, Usage

T9_FLOWS = [-100, 39, 59, 55, 20]
L2 = 3293.248244708523


def test_t5_shenzhen_auction_tonnes() -> None:
    assert round(carbon_prices.tonnes_sold(25_259_000, 43.49), 2) == 580_800.18


def test_t6_cea_2024_mean_price() -> None:
    assert round(carbon_prices.mean_price(181.14e8, 1.89e8), 4) == 95.8413
    assert round(carbon_prices.carbon_price("cea_2024_mean"), 4) == 95.8413


def test_t7_loan_annuity() -> None:
    assert metrics.level_payment(0.075 / 12, 12 * 15, 200_000) == 1854.0247200054619
    schedule = debt_schedule(200_000, 0.075, 180, "annuity", 180)
    assert schedule.service[1] == pytest.approx(1854.0247200054619, abs=1e-9)
    assert schedule.balance[-1] == pytest.approx(0.0, abs=1e-6)


def test_t8_nper() -> None:
    assert round(metrics.periods_to_amortise(0.08 / 12, 200, 10_000), 8) == 61.02227426


def test_t9_irr_and_npv_at_irr() -> None:
    assert metrics.irr(T9_FLOWS) == 0.28094842115996066
    assert metrics.npv(0.281, T9_FLOWS) == pytest.approx(-0.00847859163845488, rel=1e-12)


def test_l1_npv_time_zero_convention() -> None:
    assert metrics.npv(0.1, [-100, 60, 60]) == pytest.approx(4.132231404958667, rel=1e-15)
    assert round(metrics.npv(0.1, [-100, 60, 60]) / 1.1, 5) == 3.75657  # Excel style


@pytest.mark.parametrize(
    ("future_value", "in_advance", "expected"),
    [
        (40_000, False, 3293.248244708523),  # L2
        (0, False, 3866.5603058856536),  # L3
        (40_000, True, 3276.8639250831075),  # L4
        (0, True, 3847.323687448412),  # L5
    ],
    ids=["L2", "L3", "L4", "L5"],
)
def test_l2_to_l5_rent_for_yield(future_value: float, in_advance: bool, expected: float) -> None:
    assert metrics.level_payment(0.005, 60, 200_000, future_value, in_advance) == pytest.approx(
        expected, rel=1e-14
    )


def test_l2_lease_rate_factor() -> None:
    assert round(L2 / 200_000, 7) == 0.0164662


def test_l6_round_trip_through_lessor_cash_flows() -> None:
    """Rent L2 in arrears, RV 40k, no costs, tax, carbon or loan: the lessor's monthly IRR is 0.5 %."""
    lease = LeaseTerms(
        price=200_000,
        term_months=60,
        monthly_rent=L2,
        rent_in_advance=False,
        residual_value=40_000,
        battery_degradation_cny_per_kwh=0.0,
        ev_maintenance_per_km=0.0,
        ev_insurance_per_month=0.0,
        tyres_per_km=0.0,
        telematics_per_month=0.0,
        overhead_per_month=0.0,
        bad_debt_share=0.0,
        tax_rate=0.0,
        loan=Loan(share_of_net_price=0.0),
    )
    flows = lessor_cashflows(lease, Usage(), Carbon(lessor_share=0.0))
    assert list(flows.project[:2]) == [-200_000, L2]
    assert flows.project[-1] == L2 + 40_000
    monthly = metrics.irr(flows.project)
    assert monthly == pytest.approx(0.005, abs=1e-14)
    assert round(metrics.annualise(monthly)[0], 4) == 0.06


def test_l7_mirr() -> None:
    assert metrics.mirr(T9_FLOWS, 0.10, 0.12) == pytest.approx(0.20437673767455267, rel=1e-14)


def test_l8_payback_simple_and_discounted() -> None:
    simple = metrics.payback(T9_FLOWS)
    discounted = metrics.payback(T9_FLOWS, 0.10)
    assert simple.periods == 3 and round(simple.interpolated, 4) == 2.0364
    assert discounted.periods == 3 and round(discounted.interpolated, 4) == 2.3820
