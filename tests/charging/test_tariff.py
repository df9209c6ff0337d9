"""Tariff periods, overrides, demand charge and export prices from tariffs.json."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from charging.tariff import TariffError, tariff_from_json

TZ = ZoneInfo("Asia/Shanghai")


def _prices(tariff, day: str, hours: list[float], minutes: int = 15):
    base = datetime.fromisoformat(day).replace(tzinfo=TZ)
    starts = [base + timedelta(hours=h) for h in hours]
    return tariff.energy_prices(starts, minutes)


def test_guangdong_multipliers_times_base() -> None:
    t = tariff_from_json({"id": "gd_ic_tou_2021", "base_price": 0.68})
    valley, flat, peak, evening = _prices(t, "2026-11-24", [3, 9, 15, 20])
    assert valley == pytest.approx(0.38 * 0.68)
    assert flat == pytest.approx(0.68)
    assert peak == pytest.approx(1.7 * 0.68)
    assert evening == pytest.approx(0.68)


def test_shenzhen_market_factors() -> None:
    t = tariff_from_json({"id": "sz_market_tou_2024", "base_price": 0.5, "adder": 0.1})
    valley, peak = _prices(t, "2026-11-24", [1, 11])
    assert valley == pytest.approx(0.32 * 0.5 + 0.1)
    assert peak == pytest.approx(1.53 * 0.5 + 0.1)


def test_critical_peak_in_july_and_on_hot_days_only() -> None:
    t = tariff_from_json(
        {
            "id": "gd_ic_tou_2021",
            "base_price": 1.0,
            "conditions": {"guangzhou_daily_max_ge_35C": ["2026-05-20"]},
        }
    )
    assert _prices(t, "2026-07-15", [15.5])[0] == pytest.approx(2.125)
    assert _prices(t, "2026-05-19", [15.5])[0] == pytest.approx(1.7)
    assert _prices(t, "2026-05-20", [15.5])[0] == pytest.approx(2.125)


def test_slot_straddling_a_boundary_is_time_weighted() -> None:
    t = tariff_from_json(
        {
            "periods": [
                {"start": "00:00", "end": "08:00", "price": 0.2},
                {"start": "08:00", "end": "24:00", "price": 1.0},
            ]
        }
    )
    assert _prices(t, "2026-11-24", [7.75], minutes=30)[0] == pytest.approx(0.6)


def test_demand_charge_prices_only_the_increase_over_the_month_peak() -> None:
    t = tariff_from_json(
        {
            "periods": [{"start": "00:00", "end": "24:00", "price": 1.0}],
            "demand_charge_per_kw_month": 32.0,
            "month_peak_kw_so_far": 100.0,
        }
    )
    assert t.demand_charge(80.0) == 0.0  # no credit below the peak already paid
    assert t.demand_charge(130.0) == pytest.approx(32.0 * 30.0)


def test_v2g_export_rule_uses_period_coefficients() -> None:
    t = tariff_from_json({"id": "gd_ic_tou_2021", "base_price": 0.68, "export_rule": "gd_v2g_discharge_2025"})
    base = datetime(2026, 11, 24, tzinfo=TZ)
    peak, valley = t.export_prices([base + timedelta(hours=17), base + timedelta(hours=2)], 15)
    assert peak == pytest.approx(0.453 * 1.7)
    assert valley == pytest.approx(0.453 * 0.38)


def test_gap_in_periods_is_an_error() -> None:
    t = tariff_from_json({"periods": [{"start": "00:00", "end": "08:00", "price": 0.2}]})
    with pytest.raises(TariffError, match="no period covers"):
        _prices(t, "2026-11-24", [9])


def test_demand_above_the_contract_costs_the_overrun_rate() -> None:
    t = tariff_from_json(
        {
            "periods": [{"start": "00:00", "end": "24:00", "price": 1.0}],
            "demand_charge_per_kw_month": 32.0,
            "month_peak_kw_so_far": 10.0,
            "contracted_demand_kw": 20.0,
        }
    )
    # From 10 to 20 kW at 32, from 20 to 30 kW at twice 32: 320 + 640 CNY.
    assert t.demand_charge(30.0) == pytest.approx(10 * 32.0 + 10 * 64.0)
    assert t.to_json()["contracted_demand_kw"] == 20.0 and t.to_json()["overrun_multiplier"] == 2.0
    with pytest.raises(TariffError, match="contracted_demand_kw"):
        tariff_from_json(
            {"periods": [{"start": "00:00", "end": "24:00", "price": 1.0}], "contracted_demand_kw": 0}
        )


def test_a_night_shows_its_pro_rated_share_of_the_month() -> None:
    t = tariff_from_json(
        {"periods": [{"start": "00:00", "end": "24:00", "price": 1.0}], "demand_charge_per_kw_month": 42.0}
    )
    # 42 CNY/kW·month × 226 kW ÷ 30 days in November = 316.4 CNY for one night, not 9,492.
    assert t.demand_night_share(226.0, datetime(2026, 11, 23).date()) == pytest.approx(316.4)
