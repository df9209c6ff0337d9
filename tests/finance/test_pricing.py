"""Rent negotiation range: each bound makes its side indifferent."""

from __future__ import annotations

import dataclasses

import pytest

from fleet.finance.inputs import Scenario
from fleet.finance.lessee import compare
from fleet.finance.lessor import evaluate_lease
from fleet.finance.pricing import rent_range
from fleet.finance.scenario import read_scenario_file

from .test_scenario_and_cli import EXAMPLE


def test_bounds_make_each_side_indifferent() -> None:
    s = read_scenario_file(EXAMPLE).base
    found = rent_range(s.lease, s.usage, s.carbon, s.lessee)
    assert found.lessor_min is not None and found.lessee_max is not None
    # The example's rent (3,900) was inside the range while the lessor's running costs defaulted to zero; with
    # insurance, maintenance, tyres, telematics, overhead and bad debt counted it is below the lessor's minimum.
    assert s.lease.monthly_rent < found.lessor_min < found.lessee_max
    at_min = dataclasses.replace(s.lease, monthly_rent=found.lessor_min)
    assert evaluate_lease(at_min, s.usage, s.carbon).project.npv == pytest.approx(0.0, abs=1e-3)
    at_max = dataclasses.replace(s.lease, monthly_rent=found.lessee_max)
    assert compare(at_max, s.usage, s.carbon, s.lessee).saving_pv == pytest.approx(0.0, abs=1e-6)
    assert found.lease_rate_factor == s.lease.monthly_rent / s.lease.price


def test_pre_tax_rent_of_the_default_truck_is_vector_l4() -> None:
    s = Scenario()
    assert rent_range(s.lease, s.usage, s.carbon, s.lessee).rent_at_discount_rate_pre_tax == pytest.approx(
        3276.8639250831075, rel=1e-14
    )
