"""Lessee TCO and break-even distance, checked with plain arithmetic.

Inputs: 12-month lease, rent 3,000 CNY/month in arrears, lessor bears maintenance and insurance;
12,000 km/yr = 1,000 km/month at 30 kWh/100 km and 0.50 CNY/kWh (150 CNY/month);
1 h of charging stops per 1,000 km at 40 CNY/h (40 CNY/month); lessee's rate 12 %/yr = 1 %/month.
Diesel bought for 60,000 at t = 0, worth 30,000 at t = 12; 10 L/100 km at 8 CNY/L (800/month), 0.20 CNY/km
maintenance (200/month), insurance 300/month.
"""

from __future__ import annotations

import dataclasses

import pytest

from fleet.finance.inputs import Carbon, LeaseTerms, LesseeInputs, Usage
from fleet.finance.lessee import break_even_km, compare
from fleet.finance.lessor import evaluate_lease

LEASE = LeaseTerms(price=150_000, term_months=12, monthly_rent=3_000, rent_in_advance=False, residual_value=0)
USAGE = Usage(km_per_year=12_000, ev_kwh_per_100km=30)
LESSEE = LesseeInputs(
    diesel_option="buy",
    diesel_truck_value=60_000,
    diesel_residual_value=30_000,
    diesel_price_cny_per_l=8.0,
    diesel_l_per_100km=10,
    diesel_maintenance_per_km=0.2,
    diesel_insurance_per_month=300,
    electricity_cny_per_kwh=0.5,
    charging_hours_per_1000km=1.0,
    driver_cost_per_hour=40,
    discount_rate=0.12,
)
CARBON = Carbon(lessor_share=1.0, lessee_share=0.0)
ANNUITY = sum(1.01**-t for t in range(1, 13))


def test_costs_per_month_and_km() -> None:
    result = compare(LEASE, USAGE, CARBON, LESSEE)
    assert result.electric.cost_per_month == pytest.approx(3_190.0, abs=1e-9)
    assert result.electric.cost_per_km == pytest.approx(3.19, abs=1e-12)
    diesel_pv = 60_000 - 30_000 / 1.01**12 + 1_300 * ANNUITY
    assert result.diesel.pv_cost == pytest.approx(diesel_pv, abs=1e-6)
    assert result.diesel.cost_per_month == pytest.approx(diesel_pv / ANNUITY, abs=1e-9)
    assert result.diesel.cost_per_km == pytest.approx(diesel_pv / (1_000 * ANNUITY), abs=1e-12)
    assert result.saving_per_month == pytest.approx(diesel_pv / ANNUITY - 3_190.0, abs=1e-9)


def test_break_even_km_by_hand() -> None:
    # With rent 4,000 (A = Σ 1.01^-t, t = 1..12; per-km costs per km/yr of distance are 1/12 of per-month):
    # PV_e(k) = A·(4,000 + k/12·(0.15 + 0.04));  PV_d(k) = 60,000 − 30,000/1.01^12 + A·(300 + k/12·1.00)
    lease = dataclasses.replace(LEASE, monthly_rent=4_000)
    fixed_gap = ANNUITY * 4_000 - (60_000 - 30_000 / 1.01**12 + ANNUITY * 300)
    slope_gap = ANNUITY / 12 * (1.00 - 0.19)
    expected = fixed_gap / slope_gap  # about 10,900 km/yr
    found = break_even_km(lease, USAGE, CARBON, LESSEE)
    assert found.km_per_year == pytest.approx(expected, rel=1e-9)
    assert 10_000 < expected < 12_000
    assert "above" in found.note
    at_break_even = compare(lease, dataclasses.replace(USAGE, km_per_year=expected), CARBON, LESSEE)
    assert at_break_even.saving_pv == pytest.approx(0.0, abs=1e-6)


def test_break_even_zero_and_none() -> None:
    free = dataclasses.replace(LEASE, monthly_rent=0.0)
    assert break_even_km(free, USAGE, CARBON, LESSEE).km_per_year == 0.0
    dear_power = dataclasses.replace(LESSEE, electricity_cny_per_kwh=10.0)
    assert (
        break_even_km(dataclasses.replace(LEASE, monthly_rent=4_000), USAGE, CARBON, dear_power).km_per_year
        is None
    )
    # Cheap fixed cost but dear running cost: the electric lease wins only below a distance.
    below = break_even_km(LEASE, USAGE, CARBON, dear_power)
    assert below.km_per_year is not None and "below" in below.note


def test_deposit_costs_the_lessee_its_time_value() -> None:
    with_deposit = dataclasses.replace(LEASE, deposit=10_000)
    component = compare(with_deposit, USAGE, CARBON, LESSEE).electric.components_pv["deposit"]
    assert component == pytest.approx(10_000 - 10_000 / 1.01**12, abs=1e-9)


def test_who_bears_maintenance_moves_the_cost_between_sides() -> None:
    full_service = dataclasses.replace(LEASE, ev_maintenance_per_km=0.1, ev_insurance_per_month=250)
    dry = dataclasses.replace(full_service, lessor_bears_maintenance=False, lessor_bears_insurance=False)
    lessor_full = evaluate_lease(full_service, USAGE, CARBON).flows
    lessor_dry = evaluate_lease(dry, USAGE, CARBON).flows
    assert lessor_full.maintenance[1] == pytest.approx(-100.0) and lessor_dry.maintenance[1] == 0.0
    assert lessor_full.insurance[1] == -250.0 and lessor_dry.insurance[1] == 0.0
    lessee_full = compare(full_service, USAGE, CARBON, LESSEE).electric
    lessee_dry = compare(dry, USAGE, CARBON, LESSEE).electric
    assert lessee_dry.cost_per_month - lessee_full.cost_per_month == pytest.approx(350.0, abs=1e-9)


def test_lessee_carbon_share_lowers_its_cost() -> None:
    shared = Carbon(avoided_kg_per_km=0.12, price_cny_per_t=50, lessor_share=0.6, lessee_share=0.4)
    result = compare(LEASE, USAGE, shared, LESSEE)
    # 1,000 km × 0.12 kg = 0.12 t × 50 CNY/t × 0.4 = 2.40 CNY/month credit
    assert result.electric.cost_per_month == pytest.approx(3_190.0 - 2.4, abs=1e-9)
