"""Uncontrolled, EDF and timer baselines, and the savings every result reports."""

import pytest

from charging.baselines import earliest_deadline_first, timer, uncontrolled
from charging.check import check
from charging.optimize import schedule
from charging.synthetic import synthetic_depot
from tests.charging.scenarios import connector, night, problem, vehicle


def test_uncontrolled_full_power_from_plug_in() -> None:
    p = problem(night([vehicle("V")]))
    s = uncontrolled(p)
    first, _ = p.usable_range(p.vehicles[0])
    assert s.vehicles[0].power_kw[first] == pytest.approx(40.0)
    assert s.vehicles[0].power_kw[first + 4] == pytest.approx(0.0)  # 40 kWh done after 4 slots
    assert check(p, s).ok


def test_uncontrolled_shares_site_limit_pro_rata() -> None:
    p = problem(night([vehicle("A"), vehicle("B", max_kw=20.0)], site={"import_limit_kw": 30.0}))
    s = uncontrolled(p)
    first, _ = p.usable_range(p.vehicles[0])
    a, b = s.vehicles[0].power_kw[first], s.vehicles[1].power_kw[first]
    assert a + b == pytest.approx(30.0) and a == pytest.approx(2 * b)
    assert check(p, s).ok


def test_edf_gives_scarce_power_to_earliest_departure() -> None:
    late = vehicle("LATE", departure="2026-11-25T08:00:00+08:00")
    early = vehicle("EARLY", departure="2026-11-25T05:00:00+08:00")
    p = problem(night([late, early], site={"import_limit_kw": 40.0}))
    s = earliest_deadline_first(p)
    first, _ = p.usable_range(p.vehicles[0])
    assert s.vehicle("EARLY").power_kw[first] == pytest.approx(40.0)
    assert s.vehicle("LATE").power_kw[first] == pytest.approx(0.0)
    assert check(p, s).ok


def test_timer_starts_in_the_valley() -> None:
    p = problem(night([vehicle("V")]))
    s = timer(p)
    hours = {p.slot_starts[t].hour for t, kw in enumerate(s.vehicles[0].power_kw) if kw > 0}
    assert hours == {0}


def test_shared_connector_first_come_first_served() -> None:
    a = vehicle("A", arrival="2026-11-24T18:00:00+08:00")
    b = vehicle("B", arrival="2026-11-24T18:15:00+08:00")
    p = problem(night([a, b], [connector("C0")]))
    s = uncontrolled(p)
    assert s.vehicle("A").plug_in_slot == 4 and s.vehicle("A").plug_out_slot == 8
    assert s.vehicle("B").plug_in_slot == 8
    assert not s.unmet and check(p, s).ok


def test_optimiser_reports_savings_and_never_loses_to_baselines() -> None:
    p = synthetic_depot(20, seed=2)
    s = schedule(p, time_limit_s=20)
    assert set(s.baselines) == {"uncontrolled", "edf", "timer", "balanced"}
    for b in s.baselines.values():
        assert b.savings_cny == pytest.approx(b.cost.total - s.cost.total)
        assert b.savings_cny >= -1e-6
    assert s.baselines["uncontrolled"].savings_pct >= 40.0
    assert check(p, s).ok


def test_balanced_spreads_the_need_evenly_over_the_valley() -> None:
    """Guangdong TOU: valley 00:00-08:00 at 0.38 × 0.68. A truck parked 18:00-07:00 needing 40 kWh (connector
    efficiency 1) spreads it over the 28 valley slots 00:00-07:00: 40 kWh / 7 h = 5.714 kW, nothing before."""
    from charging.baselines import balanced

    p = problem(night([vehicle("V")]))
    s = balanced(p)
    power = s.vehicles[0].power_kw
    valley = [k for k, t in enumerate(p.slot_starts) if t.hour < 8 and t.date().day == 25]
    assert [k for k, kw in enumerate(power) if kw > 1e-9] == valley[:28]
    assert all(power[k] == pytest.approx(40.0 / 7.0) for k in valley[:28])
    assert s.vehicles[0].energy_departure_kwh == pytest.approx(60.0) and not s.unmet
    assert check(p, s).ok


def test_balanced_spills_into_the_next_cheapest_band_only_when_the_cheapest_is_full() -> None:
    """Needing 80 kWh in a 1-hour valley stay at 40 kW: 40 kWh in the valley hour, the other 40 in the flat hour."""
    from charging.baselines import balanced

    v = vehicle(
        "V",
        arrival="2026-11-25T07:00:00+08:00",
        departure="2026-11-25T09:00:00+08:00",
        energy_arrival_kwh=10.0,
        energy_target_kwh=90.0,
    )
    p = problem(night([v]))
    s = balanced(p)
    by_hour = {t.hour: kw for t, kw in zip(p.slot_starts, s.vehicles[0].power_kw)}
    assert by_hour[7] == pytest.approx(40.0) and by_hour[8] == pytest.approx(40.0)
    assert check(p, s).ok


def test_observed_spreads_each_metered_session_over_its_time() -> None:
    """A session 00:30-02:30 of 20 kWh is 10 kW on average: 5 kW in the 00:00 hour (half of it), 10 kW at 01:00,
    5 kW at 02:00; 20 kWh at 0.5 CNY/kWh = 10 CNY. The truck without a session shows as short."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from charging.baselines import observed

    tz = ZoneInfo("Asia/Shanghai")
    trucks = [
        vehicle(
            vid,
            arrival="2026-11-24T00:00:00+08:00",
            departure="2026-11-24T04:00:00+08:00",
            energy_arrival_kwh=10.0,
            energy_target_kwh=30.0,
        )
        for vid in ("A", "B")
    ]
    data = night(trucks)
    data["tariff"] = {"periods": [{"start": "00:00", "end": "24:00", "price": 0.5}]}
    data.update(
        {"start": "2026-11-24T00:00:00+08:00", "end": "2026-11-24T04:00:00+08:00", "slot_minutes": 60}
    )
    p = problem(data)
    s = observed(
        p, [("A", datetime(2026, 11, 24, 0, 30, tzinfo=tz), datetime(2026, 11, 24, 2, 30, tzinfo=tz), 20.0)]
    )
    assert s.vehicle("A").power_kw == pytest.approx((5.0, 10.0, 5.0, 0.0))
    assert s.vehicle("A").energy_departure_kwh == pytest.approx(30.0) and s.cost.energy == pytest.approx(10.0)
    assert [u.id for u in s.unmet] == ["B"]
