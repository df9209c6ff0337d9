"""Every cost the lessor bears (issue 19 item 8), and the lessee paying only the costs the lease leaves to it.

Hand-computed lease (monthly periods, rent in arrears, no tax, no loan, no residual value, no carbon):
    net price 100,000 at t = 0; term 12 months; rent 10,000 at t = 1..12
    usage 12,000 km/yr = 1,000 km/month at 20 kWh/100 km = 200 kWh/month
    maintenance 0.10 CNY/km x 1,000 = 100 + fixed 50       = 150 / month
    insurance                                               = 300 / month
    tyres 0.02 CNY/km x 1,000                               =  20 / month
    telematics and platform fees                            =  40 / month
    battery warranty reserve 0.05 CNY/kWh x 200 kWh         =  10 / month
    management overhead                                     =  80 / month
    bad-debt allowance 1 % x 10,000                         = 100 / month
    full service (lessor bears all): costs 700, CFADS 9,300 a month
    dry lease (lessee bears maintenance, insurance, tyres, telematics = 510): lessor costs 190, CFADS 9,810
Project NPV at 1 %/month: 9,300 x (1 − 1.01^−12) / 0.01 − 100,000 = 9,300 x 11.255077 − 100,000 = 4,672.22.
"""

from __future__ import annotations

import dataclasses

import pytest

from fleet.finance.assumptions import ASSUMPTIONS
from fleet.finance.inputs import Carbon, LeaseTerms, LesseeInputs, Loan, Usage
from fleet.finance.lessee import compare
from fleet.finance.lessor import evaluate_lease

USAGE = Usage(km_per_year=12_000, ev_kwh_per_100km=20)
CARBON = Carbon(lessor_share=0.0)
FULL = LeaseTerms(
    price=100_000,
    term_months=12,
    monthly_rent=10_000,
    rent_in_advance=False,
    residual_value=0.0,
    ev_maintenance_per_km=0.10,
    ev_maintenance_fixed_per_month=50,
    ev_insurance_per_month=300,
    tyres_per_km=0.02,
    telematics_per_month=40,
    battery_degradation_cny_per_kwh=0.05,
    overhead_per_month=80,
    bad_debt_share=0.01,
    tax_rate=0.0,
    discount_rate=0.12,
    loan=Loan(share_of_net_price=0.0),
)
DRY = dataclasses.replace(
    FULL,
    lessor_bears_maintenance=False,
    lessor_bears_insurance=False,
    lessor_bears_tyres=False,
    lessor_bears_telematics=False,
)
LESSEE = LesseeInputs(electricity_cny_per_kwh=0.5, discount_rate=0.12)


def test_full_service_lessor_bears_every_cost() -> None:
    flows = evaluate_lease(FULL, USAGE, CARBON).flows
    per_month = {
        "maintenance": -150.0,
        "insurance": -300.0,
        "tyres": -20.0,
        "telematics": -40.0,
        "battery": -10.0,
        "overhead": -80.0,
        "bad_debt": -100.0,
    }
    for name, value in per_month.items():
        assert getattr(flows, name)[0] == 0.0
        assert list(getattr(flows, name)[1:]) == pytest.approx([value] * 12, abs=1e-9), name
    assert flows.lessor_costs[1] == pytest.approx(-700.0, abs=1e-9)
    assert list(flows.cfads[1:]) == pytest.approx([9_300.0] * 12, abs=1e-9)
    annuity = (1 - 1.01**-12) / 0.01
    assert evaluate_lease(FULL, USAGE, CARBON).project.npv == pytest.approx(
        9_300 * annuity - 100_000, abs=1e-6
    )
    assert 9_300 * annuity - 100_000 == pytest.approx(4_672.22, abs=0.01)


def test_dry_lease_moves_the_lessee_borne_costs_and_keeps_the_lessors_own() -> None:
    flows = evaluate_lease(DRY, USAGE, CARBON).flows
    assert flows.lessor_costs[1] == pytest.approx(-190.0, abs=1e-9)  # reserve 10 + overhead 80 + bad debt 100
    assert flows.maintenance[1] == flows.insurance[1] == flows.tyres[1] == flows.telematics[1] == 0.0
    full = compare(FULL, USAGE, CARBON, LESSEE).electric
    dry = compare(DRY, USAGE, CARBON, LESSEE).electric
    # Constant monthly costs at t = 1..12 level to themselves: the lessee pays exactly the 510 it now bears.
    assert dry.cost_per_month - full.cost_per_month == pytest.approx(510.0, abs=1e-9)
    # The lessee never pays the battery reserve, the lessor's overhead or its bad-debt allowance.
    assert not {"battery", "overhead", "bad_debt"} & set(dry.components_pv)
    assert full.components_pv["insurance"] == 0.0 and full.components_pv["tyres"] == 0.0


def test_every_cost_default_is_graded_and_unverified_ones_say_so() -> None:
    for key in (
        "ev_insurance_per_month",
        "ev_maintenance_per_km",
        "ev_maintenance_fixed_per_month",
        "tyres_per_km",
        "telematics_per_month",
        "battery_degradation_cny_per_kwh",
        "overhead_per_month",
        "bad_debt_share",
    ):
        assumption = ASSUMPTIONS[key]
        assert assumption.grade == "U" and assumption.flag == "unverified", key
        assert assumption.source
    assert ASSUMPTIONS["ev_insurance_per_month"].value == 400.0
    assert ASSUMPTIONS["ev_maintenance_per_km"].value == 0.08
