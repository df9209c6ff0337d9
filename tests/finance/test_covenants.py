"""DSCR and LLCR against a configurable covenant, breach months named, and the rent corridor (issue 19 item 10).

Hand-computed lease (the one of test_hand_built_lease, rent in arrears, no tax, starting 2026-01-01):
    CFADS = rent − 200 − 100 − 30 + 7.50 = rent − 322.50 a month; loan 50,000 at 1 %/month over 12 months
    annuity payment P = 50,000 x 0.01 / (1 − 1.01^−12) = 4,442.44 a month
    at rent 8,500: DSCR = 8,177.50 / 4,442.44 = 1.8408 every month. With a level CFADS and an annuity the LLCR at
    every month t equals the DSCR (PV of CFADS ÷ PV of the remaining payments at the same rate).
    covenant 1.8 -> met; covenant 2.0 -> DSCR breached in months 1-12 (2026-01..2026-12), LLCR in months 0-11.
    covenant rent (2.0x): rent − 322.50 = 2 P  ->  rent = 2 P + 322.50 = 9,207.38
    hurdle rent (NPV = 0 at 1 %/month): (rent − 322.50) a12 + (10,000 − 5,000) / 1.01^12 = 95,000, a12 = 11.255077
        -> rent = (95,000 − 5,000 / 1.01^12) / a12 + 322.50 = 8,368.89
    floor = max(hurdle, covenant) = 9,207.38: the covenant binds, and the rent must rise 9,207.38 / 8,500 − 1 = 8.32 %.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from fleet.finance.inputs import Carbon, LeaseTerms, LesseeInputs, Loan, Usage
from fleet.finance.lessor import evaluate_lease
from fleet.finance.pricing import rent_range
from fleet.finance.report import covenant_dict, month_ranges

R = 0.01
P = 50_000 * R / (1 - (1 + R) ** -12)
A12 = (1 - (1 + R) ** -12) / R
USAGE = Usage(km_per_year=24_000, ev_kwh_per_100km=30)
CARBON = Carbon(avoided_kg_per_km=0.125, price_cny_per_t=60, lessor_share=0.5)
LESSEE = LesseeInputs(discount_rate=0.12)


def _lease(dscr: float, llcr: float) -> LeaseTerms:
    return LeaseTerms(
        price=120_000,
        subsidies=20_000,
        term_months=12,
        monthly_rent=8_500,
        rent_in_advance=False,
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
        start=dt.date(2026, 1, 1),
        loan=Loan(
            share_of_net_price=0.5, annual_rate=0.12, term_months=12, dscr_covenant=dscr, llcr_covenant=llcr
        ),
    )


def test_hand_computed_covenant_test() -> None:
    assert pytest.approx(4_442.44, abs=0.005) == P
    met = evaluate_lease(_lease(1.8, 1.8), USAGE, CARBON)
    assert met.dscr_min == pytest.approx(8_177.5 / P, abs=1e-10)
    assert met.covenant is not None and met.covenant.met
    assert met.covenant.llcr_min == pytest.approx(8_177.5 / P, abs=1e-9)

    breached = evaluate_lease(_lease(2.0, 2.0), USAGE, CARBON)
    assert breached.covenant is not None and not breached.covenant.met
    assert breached.covenant.dscr_breach_months == tuple(range(1, 13))
    assert breached.covenant.llcr_breach_months == tuple(range(12))
    named = covenant_dict(breached.covenant, dt.date(2026, 1, 1))
    assert named["dscr_breaches"] == ["1-12 (2026-01..2026-12)"]
    assert named["dscr_breach_months"] == 12 and named["met"] is False


def test_month_ranges_name_gaps() -> None:
    assert month_ranges([3, 4, 5, 9]) == ["3-5", "9"]
    assert month_ranges([12, 13], dt.date(2026, 11, 1)) == ["12-13 (2027-10..2027-11)"]


def test_no_loan_means_no_covenant() -> None:
    lease = dataclasses.replace(_lease(2.0, 2.0), loan=Loan(share_of_net_price=0.0))
    result = evaluate_lease(lease, USAGE, CARBON)
    assert result.covenant is None
    found = rent_range(lease, USAGE, CARBON, LESSEE)
    assert found.covenant_min is None and found.floor == found.lessor_min


def test_rent_corridor_hurdle_and_covenant() -> None:
    found = rent_range(_lease(2.0, 2.0), USAGE, CARBON, LESSEE)
    hurdle = (95_000 - 5_000 / (1 + R) ** 12) / A12 + 322.5
    assert hurdle == pytest.approx(8_368.89, abs=0.005)
    assert found.lessor_min == pytest.approx(hurdle, abs=1e-5)
    assert found.covenant_min == pytest.approx(2 * P + 322.5, abs=1e-3)
    assert pytest.approx(9_207.38, abs=0.005) == 2 * P + 322.5
    assert found.floor == found.covenant_min
    assert found.rent_change_to_floor == pytest.approx((2 * P + 322.5) / 8_500 - 1, abs=1e-6)
    assert found.corridor_exists == (found.lessee_max is not None and found.floor <= found.lessee_max)
    # At the covenant rent the covenant is just met; a fen below, it is breached.
    at = evaluate_lease(dataclasses.replace(_lease(2.0, 2.0), monthly_rent=found.covenant_min), USAGE, CARBON)
    below = dataclasses.replace(_lease(2.0, 2.0), monthly_rent=found.covenant_min - 0.01)
    assert at.covenant is not None and at.covenant.met
    assert not evaluate_lease(below, USAGE, CARBON).covenant.met  # type: ignore[union-attr]
    # With the default 1.2x covenant the hurdle binds instead.
    easy = rent_range(_lease(1.2, 1.2), USAGE, CARBON, LESSEE)
    assert easy.floor == easy.lessor_min == pytest.approx(hurdle, abs=1e-5)
