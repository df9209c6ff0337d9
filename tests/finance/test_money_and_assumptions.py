"""Fen rounding at the output boundary, and the sourced defaults."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from fleet.finance.assumptions import ASSUMPTIONS, assumptions_in, vehicle_rows
from fleet.finance.inputs import Scenario, Usage
from fleet.finance.money import to_fen, to_fen_int


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(0.125, "0.13"), (2.675, "2.68"), (-1.005, "-1.01"), (1854.0247200054619, "1854.02"), (3.0, "3.00")],
)
def test_to_fen_rounds_half_up_from_the_shortest_repr(amount: float, expected: str) -> None:
    assert to_fen(amount) == Decimal(expected)
    assert str(to_fen(amount)) == expected


def test_integer_fen() -> None:
    assert to_fen_int(3276.8639250831075) == 327_686


def test_defaults_come_from_vehicles_csv() -> None:
    rows = vehicle_rows()
    diesel = rows["fuel_diesel_0_guangdong"]
    assert ASSUMPTIONS["diesel_price"].value == (float(diesel["price_low"]) + float(diesel["price_high"])) / 2
    assert ASSUMPTIONS["ev_kwh_per_100km"].value == float(rows["refcase_bev_4_5t"]["energy_per_100km_low"])
    assert ASSUMPTIONS["diesel_price"].grade == "U" and ASSUMPTIONS["diesel_price"].flag == "unverified"
    assert ASSUMPTIONS["carbon_price"].grade == "S" and ASSUMPTIONS["carbon_price"].flag == ""


def test_used_defaults_are_listed_and_vanish_when_overridden() -> None:
    base = Scenario()
    fields = {u.field for u in assumptions_in(base)}
    assert {
        "usage.km_per_year",
        "lease.price",
        "lessee.diesel_price_cny_per_l",
        "carbon.price_cny_per_t",
    } <= fields
    changed = dataclasses.replace(base, usage=Usage(km_per_year=55_000))
    assert "usage.km_per_year" not in {u.field for u in assumptions_in(changed)}
    assert all(u.assumption.source for u in assumptions_in(base))
