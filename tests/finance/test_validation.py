"""Nonsense inputs raise FinanceInputError naming the field."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from fleet.finance.errors import FinanceInputError
from fleet.finance.inputs import Carbon, LeaseTerms, LesseeInputs, Loan, Usage
from fleet.finance.scenario import scenario_file_from_dict

CASES: list[tuple[str, Callable[[], Any], str]] = [
    ("term 0", lambda: LeaseTerms(term_months=0), "lease.term_months"),
    ("fractional term", lambda: LeaseTerms(term_months=12.5), "lease.term_months"),
    ("negative price", lambda: LeaseTerms(price=-1.0), "lease.price"),
    ("zero price", lambda: LeaseTerms(price=0.0, residual_value=0.0), "lease.price"),
    ("discount rate 100 %", lambda: LeaseTerms(discount_rate=1.0), "lease.discount_rate"),
    ("loan rate above 100 %", lambda: Loan(annual_rate=1.5), "lease.loan.annual_rate"),
    ("lessee rate 100 %", lambda: LesseeInputs(discount_rate=1.0), "lessee.discount_rate"),
    ("tax rate 100 %", lambda: LeaseTerms(tax_rate=1.0), "lease.tax_rate"),
    (
        "residual above price",
        lambda: LeaseTerms(price=100_000, residual_value=100_001),
        "lease.residual_value",
    ),
    (
        "subsidies cover the price",
        lambda: LeaseTerms(price=100_000, subsidies=100_000, residual_value=0),
        "lease.subsidies",
    ),
    ("negative rent", lambda: LeaseTerms(monthly_rent=-5.0), "lease.monthly_rent"),
    ("negative deposit", lambda: LeaseTerms(deposit=-1.0), "lease.deposit"),
    ("rent not a number", lambda: LeaseTerms(monthly_rent="3000"), "lease.monthly_rent"),
    ("rent NaN", lambda: LeaseTerms(monthly_rent=math.nan), "lease.monthly_rent"),
    (
        "loan longer than lease",
        lambda: LeaseTerms(term_months=36, loan=Loan(0.5, 0.05, 48)),
        "lease.loan.term_months",
    ),
    ("loan share above 1", lambda: Loan(share_of_net_price=1.2), "lease.loan.share_of_net_price"),
    ("unknown repayment", lambda: Loan(method="bullet"), "lease.loan.method"),
    (
        "battery month outside term",
        lambda: LeaseTerms(term_months=12, battery_replacement_month=13),
        "lease.battery_replacement_month",
    ),
    ("rent timing not a bool", lambda: LeaseTerms(rent_in_advance="yes"), "lease.rent_in_advance"),
    ("negative km", lambda: Usage(km_per_year=-1.0), "usage.km_per_year"),
    ("zero consumption", lambda: Usage(ev_kwh_per_100km=0.0), "usage.ev_kwh_per_100km"),
    ("share above 1", lambda: Carbon(lessor_share=1.5), "carbon.lessor_share"),
    ("double claim", lambda: Carbon(lessor_share=0.7, lessee_share=0.5), "carbon.lessee_share"),
    ("negative carbon price", lambda: Carbon(price_cny_per_t=-10.0), "carbon.price_cny_per_t"),
    (
        "negative diesel price",
        lambda: LesseeInputs(diesel_price_cny_per_l=-7.0),
        "lessee.diesel_price_cny_per_l",
    ),
    (
        "diesel residual above value",
        lambda: LesseeInputs(diesel_truck_value=10.0, diesel_residual_value=20.0),
        "lessee.diesel_residual_value",
    ),
    ("unknown diesel option", lambda: LesseeInputs(diesel_option="lease"), "lessee.diesel_option"),
]


@pytest.mark.parametrize(("build", "field"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_nonsense_input_names_its_field(build: Callable[[], Any], field: str) -> None:
    with pytest.raises(FinanceInputError) as caught:
        build()
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_rate_message_says_100_percent() -> None:
    with pytest.raises(FinanceInputError, match="below 100 %"):
        LeaseTerms(discount_rate=1.0)


FILE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("typo in a field", {"lease": {"prize": 1}}, "lease.prize"),
    ("typo at top level", {"leese": {}}, "leese"),
    ("term 0 in a file", {"lease": {"term_months": 0}}, "lease.term_months"),
    ("string term in a file", {"lease": {"term_months": "sixty"}}, "lease.term_months"),
    ("loan section not an object", {"lease": {"loan": 5}}, "lease.loan"),
    ("bad start date", {"lease": {"start": "2025-13-01"}}, "lease.start"),
    ("unknown carbon scenario", {"carbon": {"price_scenario": "moon"}}, "carbon.price_scenario"),
    (
        "scenario and price both",
        {"carbon": {"price_scenario": "shenzhen_2024", "price_cny_per_t": 1}},
        "carbon.price_scenario",
    ),
    (
        "bad variant value",
        {"variants": [{"name": "v", "set": {"lease.residual_value": 1e9}}]},
        "variants[0].lease.residual_value",
    ),
    (
        "variant sets unknown path",
        {"variants": [{"name": "v", "set": {"lease.nothing": 1}}]},
        "variants[0].lease.nothing",
    ),
    ("variant without name", {"variants": [{"set": {}}]}, "variants[0].name"),
    (
        "driver path unknown",
        {"sensitivity": {"drivers": [{"path": "lease.nope"}]}},
        "sensitivity.drivers[0].path",
    ),
    ("swing out of range", {"sensitivity": {"swing": 2}}, "sensitivity.swing"),
    ("wrong format", {"format": "other/9"}, "format"),
]


@pytest.mark.parametrize(
    ("data", "field"), [(c[1], c[2]) for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_scenario_file_errors_name_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(FinanceInputError) as caught:
        scenario_file_from_dict(data)
    assert caught.value.field == field
