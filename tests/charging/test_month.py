"""A billing month night by night: each policy pays one demand charge on its own monthly maximum."""

from __future__ import annotations

from datetime import date

import pytest

from charging.billing import BillingRules, DemandBasis, TariffStructure
from charging.month import optimiser_tariff, simulate_month
from charging.optimize import schedule
from tests.charging.scenarios import connector, night, problem, vehicle

FLAT_PRICE = [{"start": "00:00", "end": "24:00", "price": 0.5}]
RULES = BillingRules(
    structure=TariffStructure.TWO_PART, basis=DemandBasis.MAXIMUM_DEMAND, demand_rate_cny_per_kw_month=30.0
)


def _night(day: int, need_kwh: float, month: int = 11):  # type: ignore[no-untyped-def]
    """One truck at a 10 kW connector from 00:00 to 04:00 on 2026-<month>-<day>, flat 0.5 CNY/kWh."""
    ymd = f"2026-{month:02d}-{day:02d}"
    v = vehicle(
        "V",
        arrival=f"{ymd}T00:00:00+08:00",
        departure=f"{ymd}T04:00:00+08:00",
        energy_arrival_kwh=10.0,
        energy_target_kwh=10.0 + need_kwh,
        max_kw=10.0,
    )
    data = night([v], [connector("C", max_kw=10.0)], tariff={"periods": FLAT_PRICE})
    data.update({"start": f"{ymd}T00:00:00+08:00", "end": f"{ymd}T04:00:00+08:00"})
    data["slot_minutes"] = 60
    return problem(data)


def _optimise(p):  # type: ignore[no-untyped-def]
    return schedule(p, time_limit_s=10, seed=0, baselines=False)


def test_each_policy_pays_one_demand_charge_on_its_own_monthly_maximum() -> None:
    """Night 1 needs 10 kWh in 4 h, night 2 20 kWh. The optimiser holds 2.5 kW, then 5 kW (the increase above the
    2.5 kW it already reached costs the monthly rate); uncontrolled draws 10 kW both nights.

    Optimised: energy 30 kWh × 0.5 = 15 CNY, demand 30 × 5 = 150 CNY.
    Uncontrolled: energy 15 CNY, demand 30 × 10 = 300 CNY. Saving 150 CNY of 315, all of it demand.
    """
    result = simulate_month(
        [_night(24, 20.0), _night(23, 10.0)], RULES, _optimise, baselines=("uncontrolled",)
    )
    opt, unc = result.bills["optimised"], result.bills["uncontrolled"]
    assert result.month == date(2026, 11, 1) and result.days_in_month == 30 and result.nights_simulated == 2
    assert [n.night for n in opt.nights] == [date(2026, 11, 23), date(2026, 11, 24)]
    assert [n.peak_kw for n in opt.nights] == pytest.approx([2.5, 5.0], abs=1e-6)
    assert opt.energy_cny == pytest.approx(15.0) and opt.demand_cny == pytest.approx(150.0, abs=1e-4)
    assert unc.energy_cny == pytest.approx(15.0) and unc.demand_cny == pytest.approx(300.0)
    energy, demand, pct = result.saving("uncontrolled")
    assert energy == pytest.approx(0.0, abs=1e-6) and demand == pytest.approx(150.0, abs=1e-4)
    assert pct == pytest.approx(100 * 150 / 315, abs=1e-3)
    assert result.to_json()["bills"]["optimised"]["demand_cny"] == pytest.approx(150.0, abs=0.01)


def test_a_peak_metered_earlier_in_the_month_is_free_to_reach() -> None:
    """With 10 kW already metered this month, the optimiser gains nothing by holding back: no demand increase."""
    result = simulate_month([_night(23, 10.0)], RULES, _optimise, metered_peak_kw=10.0, baselines=())
    assert result.bills["optimised"].demand_cny == pytest.approx(
        300.0
    )  # the month's charge on the 10 kW metered


def test_exempt_or_capacity_billing_makes_the_peak_free_for_the_optimiser() -> None:
    exempt = BillingRules(
        structure=TariffStructure.TWO_PART,
        demand_rate_cny_per_kw_month=30.0,
        centralised_charging_facility=True,
        charging_metered_separately=True,
    )
    t = optimiser_tariff(_night(23, 10.0).tariff, exempt, date(2026, 11, 1), 0.0)
    assert t.demand_charge_per_kw_month == 0.0 and t.demand_segments() == ()
    result = simulate_month([_night(23, 10.0)], exempt, _optimise, baselines=("uncontrolled",))
    assert result.bills["optimised"].demand_cny == 0.0 and result.bills["uncontrolled"].demand_cny == 0.0
    capacity = BillingRules(
        structure=TariffStructure.TWO_PART,
        basis=DemandBasis.CAPACITY,
        capacity_rate_cny_per_kva_month=24.0,
        transformer_kva=630.0,
    )
    result = simulate_month([_night(23, 10.0)], capacity, _optimise, baselines=("uncontrolled",))
    assert (
        result.bills["optimised"].demand_cny
        == result.bills["uncontrolled"].demand_cny
        == pytest.approx(15_120)
    )


def test_nights_from_two_months_are_refused() -> None:
    with pytest.raises(ValueError, match="billing month"):
        simulate_month([_night(23, 10.0), _night(1, 10.0, month=12)], RULES, _optimise)


def test_a_capacity_charge_bears_its_nightly_share_but_never_steers_the_optimiser() -> None:
    """Capacity basis, 24 CNY/kVA·month × 630 kVA = 15,120 CNY a month; November has 30 days, so each night's
    figure carries 15,120 / 30 = 504.00 CNY of basic charge whatever the schedule, and the optimiser prices no
    peak. The independent checker recomputes the same share."""
    from dataclasses import replace

    from charging.check import check

    capacity = BillingRules(
        structure=TariffStructure.TWO_PART,
        basis=DemandBasis.CAPACITY,
        capacity_rate_cny_per_kva_month=24.0,
        transformer_kva=630.0,
    )
    p = _night(23, 10.0)
    t = optimiser_tariff(p.tariff, capacity, date(2026, 11, 1), 0.0)
    assert t.demand_segments() == () and t.fixed_basic_charge_cny_per_month == pytest.approx(15_120)
    p = replace(p, tariff=t)
    result = _optimise(p)
    assert result.cost.demand == 0.0
    assert result.cost.demand_night == pytest.approx(504.0)
    assert result.cost.night_bill == pytest.approx(result.cost.energy + 504.0)
    assert check(p, result).ok
    tampered = replace(result, cost=replace(result.cost, demand_night=0.0))
    assert "cost" in check(p, tampered).codes()
    # Exempt: no share at all.
    exempt = replace(capacity, centralised_charging_facility=True, charging_metered_separately=True)
    assert optimiser_tariff(p.tariff, exempt, date(2026, 11, 1), 0.0).fixed_basic_charge_cny_per_month == 0.0


def test_the_observed_month_bills_what_the_depot_really_did() -> None:
    """One night (23 Nov): truck V metered 10 kWh from 00:00 to 02:00 (5 kW mean). Observed: energy 10 × 0.5 =
    5 CNY, peak 5 kW, demand 30 × 5 = 150 CNY. A second night without sessions: no observed bill, the night named."""
    from datetime import datetime, timedelta, timezone

    cst = timezone(timedelta(hours=8))
    sessions = {
        date(2026, 11, 23): [
            ("V", datetime(2026, 11, 23, 0, tzinfo=cst), datetime(2026, 11, 23, 2, tzinfo=cst), 10.0)
        ]
    }
    result = simulate_month([_night(23, 10.0)], RULES, _optimise, baselines=(), observed=sessions)
    seen = result.bills["observed"]
    assert seen.energy_cny == pytest.approx(5.0) and seen.peak_kw == pytest.approx(5.0)
    assert seen.demand_cny == pytest.approx(150.0) and result.observed_missing == ()
    two = simulate_month(
        [_night(23, 10.0), _night(24, 10.0)], RULES, _optimise, baselines=(), observed=sessions
    )
    assert "observed" not in two.bills and two.observed_missing == (date(2026, 11, 24),)
