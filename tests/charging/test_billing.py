"""Hand-computed bills for each basic-charge rule (charging.billing)."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charging.billing import (
    BillingError,
    BillingRules,
    DemandBasis,
    TariffStructure,
    days_in_month,
    demand_segments,
    increase_cost,
    monthly_basic_charge,
    nightly_share,
)

NOV = date(2026, 11, 17)
TWO_PART = TariffStructure.TWO_PART


def demand_rules(**kw: object) -> BillingRules:
    return BillingRules(
        structure=TWO_PART, basis=DemandBasis.MAXIMUM_DEMAND, demand_rate_cny_per_kw_month=42.0, **kw
    )


def test_single_part_has_no_basic_charge() -> None:
    bill = monthly_basic_charge(BillingRules(demand_rate_cny_per_kw_month=42.0), NOV, 300.0)
    assert bill.total_cny == 0.0 and bill.basis == "none" and "single-part" in bill.reason


def test_capacity_basis_bills_the_transformer_whatever_the_load() -> None:
    rules = BillingRules(
        structure=TWO_PART,
        basis=DemandBasis.CAPACITY,
        capacity_rate_cny_per_kva_month=24.0,
        transformer_kva=630.0,
    )
    # 24 CNY/kVA·month × 630 kVA = 15,120 CNY, at 10 kW or at 600 kW.
    assert monthly_basic_charge(rules, NOV, 10.0).total_cny == pytest.approx(15_120.0)
    assert monthly_basic_charge(rules, NOV, 600.0).total_cny == pytest.approx(15_120.0)
    assert demand_segments(rules, NOV, 0.0) == ()  # no peak increase costs anything on capacity


def test_demand_basis_without_contract_bills_the_metered_maximum() -> None:
    bill = monthly_basic_charge(demand_rules(), NOV, 226.0)
    assert bill.total_cny == pytest.approx(42.0 * 226.0)  # 9,492 CNY
    assert bill.overrun_cny == 0.0 and bill.billed_quantity == 226.0


def test_demand_above_the_contract_is_billed_at_twice_the_rate() -> None:
    bill = monthly_basic_charge(demand_rules(contracted_demand_kw=200.0), NOV, 226.0)
    # 200 kW × 42 = 8,400 within; 26 kW × 84 = 2,184 overrun; 10,584 CNY in all.
    assert bill.within_contract_cny == pytest.approx(8_400.0)
    assert bill.overrun_cny == pytest.approx(2_184.0)
    assert bill.total_cny == pytest.approx(10_584.0)
    below = monthly_basic_charge(demand_rules(contracted_demand_kw=200.0), NOV, 150.0)
    assert below.total_cny == pytest.approx(6_300.0) and below.overrun_cny == 0.0


def test_separately_metered_charging_facility_is_exempt_until_2030() -> None:
    rules = demand_rules(centralised_charging_facility=True, charging_metered_separately=True)
    assert monthly_basic_charge(rules, date(2029, 12, 31), 500.0).total_cny == 0.0
    assert "2030" in monthly_basic_charge(rules, NOV, 500.0).reason
    assert monthly_basic_charge(rules, date(2030, 1, 1), 500.0).total_cny == pytest.approx(21_000.0)
    # Chargers behind the warehouse meter still pay on the site's peak.
    shared_meter = demand_rules(centralised_charging_facility=True, charging_metered_separately=False)
    assert monthly_basic_charge(shared_meter, NOV, 500.0).total_cny == pytest.approx(21_000.0)
    assert demand_segments(rules, NOV, 0.0) == ()


def test_a_night_bears_its_share_of_the_month_never_the_month() -> None:
    # November has 30 days: 42 × 226 / 30 = 316.4 CNY for the night, not 9,492.
    assert days_in_month(NOV) == 30 and days_in_month(date(2028, 2, 3)) == 29
    assert nightly_share(demand_rules(), NOV, 226.0) == pytest.approx(316.4)


def test_segments_price_only_the_increase_above_the_month_to_date_peak() -> None:
    rules = demand_rules(contracted_demand_kw=200.0)
    segs = demand_segments(rules, NOV, 180.0)
    assert [(s.width_kw, s.cny_per_kw) for s in segs] == [(20.0, 42.0), (math.inf, 84.0)]
    assert increase_cost(segs, -5.0) == 0.0
    assert increase_cost(segs, 30.0) == pytest.approx(20 * 42.0 + 10 * 84.0)
    assert [(s.width_kw, s.cny_per_kw) for s in demand_segments(rules, NOV, 250.0)] == [(math.inf, 84.0)]


@given(
    contract=st.one_of(st.none(), st.floats(10.0, 500.0)),
    mtd=st.floats(0.0, 600.0),
    extra=st.floats(0.0, 300.0),
)
def test_increase_cost_is_the_difference_of_two_monthly_bills(
    contract: float | None, mtd: float, extra: float
) -> None:
    rules = demand_rules(contracted_demand_kw=contract)
    expected = (
        monthly_basic_charge(rules, NOV, mtd + extra).total_cny
        - monthly_basic_charge(rules, NOV, mtd).total_cny
    )
    assert increase_cost(demand_segments(rules, NOV, mtd), extra) == pytest.approx(
        expected, rel=1e-9, abs=1e-6
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"demand_rate_cny_per_kw_month": -1.0}, "demand_rate_cny_per_kw_month"),
        ({"overrun_multiplier": 0.5}, "overrun_multiplier"),
        ({"contracted_demand_kw": 0.0}, "contracted_demand_kw"),
        ({"structure": TWO_PART, "basis": DemandBasis.CAPACITY}, "transformer_kva"),
        (
            {
                "structure": TWO_PART,
                "basis": DemandBasis.CAPACITY,
                "transformer_kva": 630.0,
                "contracted_demand_kw": 1.0,
            },
            "contracted_demand_kw",
        ),
    ],
)
def test_bad_rules_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(BillingError, match=field):
        BillingRules(**kwargs)  # type: ignore[arg-type]
