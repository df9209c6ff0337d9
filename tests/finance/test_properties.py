"""Monotonicity properties of issue 6 (hypothesis)."""

from __future__ import annotations

import dataclasses

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fleet.finance.inputs import Carbon, LeaseTerms, LesseeInputs, Loan, Usage
from fleet.finance.lessee import break_even_km
from fleet.finance.lessor import evaluate_lease
from fleet.finance.metrics import npv

FAST = settings(max_examples=60, deadline=None)


@st.composite
def leases(draw: st.DrawFn) -> LeaseTerms:
    price = draw(st.floats(50_000, 400_000))
    term = draw(st.integers(6, 96))
    share = draw(st.sampled_from([0.0, 0.5, 0.8]))
    return LeaseTerms(
        price=price,
        subsidies=draw(st.floats(0, 0.3)) * price,
        term_months=term,
        monthly_rent=draw(st.floats(0, 10_000)),
        rent_in_advance=draw(st.booleans()),
        deposit=draw(st.floats(0, 20_000)),
        residual_value=draw(st.floats(0, 0.5)) * price,
        ev_maintenance_per_km=draw(st.floats(0, 0.5)),
        ev_insurance_per_month=draw(st.floats(0, 1_000)),
        tax_rate=draw(st.floats(0, 0.4)),
        discount_rate=draw(st.floats(0, 0.2)),
        loan=Loan(
            share_of_net_price=share,
            annual_rate=draw(st.floats(0, 0.15)),
            term_months=draw(st.integers(1, term)),
            method=draw(st.sampled_from(["annuity", "equal_principal"])),
        ),
    )


usages = st.builds(Usage, km_per_year=st.floats(0, 150_000), ev_kwh_per_100km=st.floats(10, 60))


@FAST
@given(lease=leases(), usage=usages, extra=st.floats(1, 5_000))
def test_higher_rent_raises_lessor_npv(lease: LeaseTerms, usage: Usage, extra: float) -> None:
    carbon = Carbon()
    before = evaluate_lease(lease, usage, carbon)
    after = evaluate_lease(dataclasses.replace(lease, monthly_rent=lease.monthly_rent + extra), usage, carbon)
    assert after.project.npv > before.project.npv
    assert after.equity.npv > before.equity.npv


@FAST
@given(
    lease=leases(),
    usage=usages,
    lessee=st.builds(
        LesseeInputs,
        diesel_truck_value=st.floats(50_000, 200_000),
        diesel_residual_value=st.just(0.0),
        diesel_l_per_100km=st.floats(8, 20),
        diesel_maintenance_per_km=st.floats(0, 0.5),
        electricity_cny_per_kwh=st.floats(0.2, 1.5),
        charging_hours_per_1000km=st.floats(0, 2),
        driver_cost_per_hour=st.floats(0, 60),
    ),
    low=st.floats(4, 10),
    step=st.floats(0.05, 5),
)
def test_higher_diesel_price_lowers_break_even_km(
    lease: LeaseTerms, usage: Usage, lessee: LesseeInputs, low: float, step: float
) -> None:
    carbon = Carbon()
    cheap = break_even_km(lease, usage, carbon, dataclasses.replace(lessee, diesel_price_cny_per_l=low))
    dear = break_even_km(lease, usage, carbon, dataclasses.replace(lessee, diesel_price_cny_per_l=low + step))
    # Only the usual case has a "cheaper above" break-even: diesel's running cost per km exceeds electric's.
    assume(
        cheap.km_per_year is not None
        and cheap.note != "electric lease is cheaper below this distance (its running cost per km is higher)"
    )
    assert dear.km_per_year is not None
    assert dear.km_per_year <= cheap.km_per_year + 1e-6
    if cheap.km_per_year > 1.0:
        assert dear.km_per_year < cheap.km_per_year


@FAST
@given(
    outlay=st.floats(1, 1e6),
    inflows=st.lists(st.floats(0, 1e5), min_size=1, max_size=120).filter(lambda xs: max(xs) > 1e-3),
    rate=st.floats(0, 0.05),
    step=st.floats(1e-4, 0.05),
)
def test_higher_discount_rate_lowers_npv_of_conventional_flow(
    outlay: float, inflows: list[float], rate: float, step: float
) -> None:
    flows = [-outlay, *inflows]
    assert npv(rate + step, flows) < npv(rate, flows)


@FAST
@given(lease=leases(), usage=usages, step=st.floats(0.005, 0.1))
def test_higher_discount_rate_lowers_npv_of_a_conventional_lease(
    lease: LeaseTerms, usage: Usage, step: float
) -> None:
    flows = evaluate_lease(lease, usage, Carbon()).flows.project
    assume(flows[0] < 0 and all(cf >= 0 for cf in flows[1:]) and flows[1:].max() > 1e-3)
    assume(lease.discount_rate + step < 1)
    higher = dataclasses.replace(lease, discount_rate=lease.discount_rate + step)
    assert (
        evaluate_lease(higher, usage, Carbon()).project.npv
        < evaluate_lease(lease, usage, Carbon()).project.npv
    )
