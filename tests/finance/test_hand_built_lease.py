"""A lease small enough to check by hand; every expected number is computed here with plain arithmetic.

Inputs (lessor's side, monthly periods, rent in arrears):
    price 120,000 CNY, subsidies 20,000 -> net price 100,000 at t = 0
    deposit 5,000 in at t = 0 and refunded at t = 12; term 12 months; rent 8,500 CNY/month at t = 1..12
    residual value 10,000 at t = 12
    usage 24,000 km/yr = 2,000 km/month at 30 kWh/100 km = 600 kWh/month
    maintenance 0.10 CNY/km (lessor bears) = 200/month; insurance 100/month (lessor bears)
    battery reserve 0.05 CNY/kWh = 30/month
    no tyre, telematics, overhead or bad-debt cost (set to 0 explicitly: their defaults are not zero)
    carbon 0.125 kg/km x 2,000 km = 0.25 t/month x 60 CNY/t x lessor share 0.5 = 7.50/month
    tax 0; discount rate 12 %/yr -> 1 %/month
    loan 50 % of the net price = 50,000 at 12 %/yr (1 %/month) over 12 months
So CFADS = 8,500 − 200 − 100 − 30 + 7.5 = 8,177.50 a month, and the project flow is
    t0: −100,000 + 5,000 = −95,000;  t1..11: 8,177.50;  t12: 8,177.50 + 10,000 − 5,000 = 13,177.50.
"""

from __future__ import annotations

import pytest

from fleet.finance.inputs import Carbon, LeaseTerms, Loan, Usage
from fleet.finance.lessor import evaluate_lease

CFADS = 8500 - 200 - 100 - 30 + 7.5
PROJECT = [-95_000.0] + [CFADS] * 11 + [CFADS + 10_000 - 5_000]
R = 0.01


def _lease(method: str = "annuity", rent_in_advance: bool = False) -> LeaseTerms:
    return LeaseTerms(
        price=120_000,
        subsidies=20_000,
        term_months=12,
        monthly_rent=8_500,
        rent_in_advance=rent_in_advance,
        deposit=5_000,
        residual_value=10_000,
        ev_maintenance_per_km=0.10,
        ev_insurance_per_month=100,
        battery_degradation_cny_per_kwh=0.05,
        tyres_per_km=0.0,
        telematics_per_month=0.0,
        overhead_per_month=0.0,
        bad_debt_share=0.0,
        tax_rate=0.0,
        discount_rate=0.12,
        loan=Loan(share_of_net_price=0.5, annual_rate=0.12, term_months=12, method=method),
    )


USAGE = Usage(km_per_year=24_000, ev_kwh_per_100km=30)
CARBON = Carbon(avoided_kg_per_km=0.125, price_cny_per_t=60, lessor_share=0.5)


def _npv(rate: float, flows: list[float]) -> float:
    return sum(cf / (1 + rate) ** t for t, cf in enumerate(flows))


def _irr_by_bisection(flows: list[float]) -> float:
    low, high = 0.0, 0.1  # NPV(0) > 0 > NPV(0.1) for these flows
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if _npv(mid, flows) > 0 else (low, mid)
    return (low + high) / 2


def test_project_flows_npv_irr_payback() -> None:
    result = evaluate_lease(_lease(), USAGE, CARBON)
    assert list(result.flows.project) == pytest.approx(PROJECT, abs=1e-9)

    assert result.project.npv == pytest.approx(_npv(R, PROJECT), abs=1e-6)
    assert result.project.npv > 0
    irr = _irr_by_bisection(PROJECT)
    assert result.project.irr_monthly == pytest.approx(irr, abs=1e-12)
    assert result.project.irr_nominal_annual == pytest.approx(12 * irr, abs=1e-11)
    assert result.project.irr_effective_annual == pytest.approx((1 + irr) ** 12 - 1, abs=1e-11)

    # cumulative after 11 months: −95,000 + 11 × 8,177.50 = −5,047.50; month 12 brings 13,177.50
    assert result.project.payback_months == 12
    assert result.project.payback_months_interpolated == pytest.approx(11 + 5_047.5 / 13_177.5, abs=1e-12)
    discounted = [cf / (1 + R) ** t for t, cf in enumerate(PROJECT)]
    before = sum(discounted[:12])
    assert before < 0 < before + discounted[12]
    assert result.project.discounted_payback_months == 12
    assert result.project.discounted_payback_months_interpolated == pytest.approx(
        11 + -before / discounted[12]
    )


def test_annuity_loan_dscr_llcr_and_equity() -> None:
    result = evaluate_lease(_lease(), USAGE, CARBON)
    payment = 50_000 * R / (1 - (1 + R) ** -12)  # 4,442.44 CNY/month
    assert result.flows.debt_service[1:] == pytest.approx([payment] * 12, abs=1e-8)
    assert result.dscr_min == pytest.approx(CFADS / payment, abs=1e-10)
    assert result.dscr_avg == pytest.approx(CFADS / payment, abs=1e-10)
    llcr = sum(CFADS / (1 + R) ** t for t in range(1, 13)) / 50_000
    assert result.llcr == pytest.approx(llcr, abs=1e-12)
    equity = [-95_000 + 50_000] + [cf - payment for cf in PROJECT[1:]]
    assert list(result.flows.equity) == pytest.approx(equity, abs=1e-8)
    assert result.equity.npv == pytest.approx(_npv(R, equity), abs=1e-6)


def test_equal_principal_loan_dscr() -> None:
    result = evaluate_lease(_lease("equal_principal"), USAGE, CARBON)
    balance, services = 50_000.0, []
    for _ in range(12):
        services.append(50_000 / 12 + balance * R)
        balance -= 50_000 / 12
    assert result.flows.debt_service[1:] == pytest.approx(services, abs=1e-8)
    assert result.dscr_min == pytest.approx(CFADS / services[0], abs=1e-10)  # 8,177.50 / 4,666.67
    assert result.dscr_avg == pytest.approx(sum(CFADS / s for s in services) / 12, abs=1e-10)


def test_rent_in_advance_moves_rent_one_month_earlier() -> None:
    result = evaluate_lease(_lease(rent_in_advance=True), USAGE, CARBON)
    expected = [-95_000 + 8_500] + [CFADS] * 11 + [CFADS - 8_500 + 10_000 - 5_000]
    assert list(result.flows.project) == pytest.approx(expected, abs=1e-9)


def test_rent_in_advance_dscr_matches_rent_to_its_month() -> None:
    """Rent at t = 0..11 pays for months 1..12, so every month's cover is still 8,177.50 / payment."""
    result = evaluate_lease(_lease(rent_in_advance=True), USAGE, CARBON)
    payment = 50_000 * R / (1 - (1 + R) ** -12)
    assert result.flows.cfads[12] == pytest.approx(CFADS - 8_500)  # no rent arrives at t = 12 itself
    assert result.dscr_min == pytest.approx(CFADS / payment, abs=1e-10)
    assert result.dscr_avg == pytest.approx(CFADS / payment, abs=1e-10)


def test_tax_with_depreciation_interest_and_loss_carry_forward() -> None:
    """Three-month lease, tax 20 %: depreciation (100,000 − 10,000) / 3 = 30,000 a month.

    Unlevered taxable profit: 34,000 + 7.5 − 330 − 30,000 = 3,677.50 a month -> tax 735.50 each month.
    With a 100,000 × 0.6 loan at 12 %/yr over 3 months, interest is 600, 400.xx, 200.xx: taxable stays positive.
    """
    lease = LeaseTerms(
        price=120_000,
        subsidies=20_000,
        term_months=3,
        monthly_rent=34_000,
        rent_in_advance=False,
        residual_value=10_000,
        ev_maintenance_per_km=0.10,
        ev_insurance_per_month=100,
        battery_degradation_cny_per_kwh=0.05,
        tyres_per_km=0.0,
        telematics_per_month=0.0,
        overhead_per_month=0.0,
        bad_debt_share=0.0,
        tax_rate=0.2,
        discount_rate=0.12,
        loan=Loan(share_of_net_price=0.6, annual_rate=0.12, term_months=3),
    )
    result = evaluate_lease(lease, USAGE, CARBON)
    profit = 34_000 + 7.5 - 200 - 100 - 30 - 30_000
    assert list(result.flows.tax_unlevered) == pytest.approx([0.0] + [-0.2 * profit] * 3, abs=1e-9)
    payment = 60_000 * R / (1 - (1 + R) ** -3)
    balance, taxes = 60_000.0, [0.0]
    for _ in range(3):
        interest = balance * R
        taxes.append(-0.2 * (profit - interest))
        balance -= payment - interest
    assert list(result.flows.tax) == pytest.approx(taxes, abs=1e-8)

    # Carry-forward: rent 40,000 in arrears, depreciation 30,000, a 25,000 battery replacement in month 1.
    # Profit −15,000, +10,000, +10,000 -> tax 0 (pool 15,000), 0 (pool 5,000), 0.2 × 5,000 = 1,000.
    lossy = LeaseTerms(
        price=120_000,
        subsidies=20_000,
        term_months=3,
        monthly_rent=40_000,
        rent_in_advance=False,
        residual_value=10_000,
        battery_degradation_cny_per_kwh=0.0,
        battery_replacement_month=1,
        battery_replacement_cost=25_000,
        ev_maintenance_per_km=0.0,
        ev_insurance_per_month=0.0,
        tyres_per_km=0.0,
        telematics_per_month=0.0,
        overhead_per_month=0.0,
        bad_debt_share=0.0,
        tax_rate=0.2,
        loan=Loan(share_of_net_price=0.0),
    )
    flows = evaluate_lease(lossy, USAGE, Carbon(lessor_share=0.0)).flows
    assert list(flows.tax) == pytest.approx([0.0, 0.0, 0.0, -1_000.0], abs=1e-9)
