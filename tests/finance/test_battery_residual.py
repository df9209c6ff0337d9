"""Battery SoH from charging sessions, the fallback curve, and the residual value that follows them (issue 19 item 12).

Every expected figure is computed by hand in the comments.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from fleet.finance import FinanceInputError, tornado
from fleet.finance.battery import (
    MIN_DELTA_SOC_PCT,
    SocSession,
    battery_from_estimate,
    estimate_soh,
    fade_range,
)
from fleet.finance.cashflows import lessor_cashflows
from fleet.finance.evaluate import evaluate
from fleet.finance.inputs import Battery, Carbon, LeaseTerms, Loan, Scenario, Usage
from fleet.finance.lessor import evaluate_lease
from fleet.finance.report import lessee_view, scenario_dict
from fleet.finance.scenario import scenario_file_from_dict, scenario_to_dict

UTC = dt.UTC
# t0 + 365.25 days = 2026-01-01 00:00 UTC, so the sessions sit exactly 0, 1 and 2 (Julian) years apart.
T0 = dt.datetime(2024, 12, 31, 18, 0, tzinfo=UTC)
YEAR = dt.timedelta(days=365.25)


def _s(at: dt.datetime, kwh: float, soc0: float | None, soc1: float | None, eff: float = 0.95) -> SocSession:
    return SocSession(at, kwh, soc0, soc1, eff)


# ------------------------------------------------------------------------------------------ SoH from sessions


def test_soh_from_three_sessions_by_hand() -> None:
    # reference 50 kWh usable, efficiency 0.95:
    #   40 kWh, SoC 20 -> 96: 40 x 0.95 / 0.76 = 50.0 kWh -> SoH 1.00
    #   40 kWh, SoC 10 -> 90: 38 / 0.80 = 47.5 kWh -> 0.95
    #   36 kWh, SoC 15 -> 91: 34.2 / 0.76 = 45.0 kWh -> 0.90
    # refused: dSoC 10 pp (< 20), no SoC, and 80 kWh over 50 pp = 152 kWh = SoH 3.04 (implausible).
    sessions = [
        _s(T0, 40, 20, 96),
        _s(T0 + YEAR, 40, 10, 90),
        _s(T0 + 2 * YEAR, 36, 15, 91),
        _s(T0 + YEAR, 5, 50, 60),
        _s(T0 + YEAR, 30, None, 80),
        _s(T0 + YEAR, 80, 20, 70),
    ]
    est = estimate_soh(sessions, 50.0)
    assert [p.capacity_kwh for p in est.points] == pytest.approx([50.0, 47.5, 45.0])
    assert [p.soh for p in est.points] == pytest.approx([1.0, 0.95, 0.90])
    assert est.refused == {
        f"with dSoC below {MIN_DELTA_SOC_PCT:g} pp": 1,
        "without state of charge": 1,
        "with SoH outside 50%-120%": 1,
    }
    # Points (0, 1.00), (1, 0.95), (2, 0.90) lie on a line: fade 5 %/yr, no residual spread.
    assert est.has_trend
    assert est.fade_per_year == pytest.approx(0.05)
    assert est.fade_se_per_year == pytest.approx(0.0, abs=1e-12)
    assert est.level == pytest.approx(0.95)
    assert est.soh_at(T0 + 3 * YEAR) == pytest.approx(0.85)


def test_least_squares_fade_and_standard_error_by_hand() -> None:
    # efficiency 1, SoC 20 -> 100 (80 pp): 40 kWh -> 50 (1.00), 38.4 -> 48 (0.96), 36 -> 45 (0.90).
    # x = 0, 1, 2; mean x 1, mean y 2.86 / 3 = 0.953333; Sxy = -0.046667 - 0.053333 = -0.1; Sxx = 2 -> slope -0.05;
    # intercept 0.953333 + 0.05 = 1.003333; residuals -0.003333, 0.006667, -0.003333 -> SSR = 6.6667e-5;
    # SE = sqrt(SSR / (n - 2) / Sxx) = sqrt(3.3333e-5) = 0.0057735.
    sessions = [_s(T0 + k * YEAR, kwh, 20, 100, 1.0) for k, kwh in enumerate((40, 38.4, 36))]
    est = estimate_soh(sessions, 50.0)
    assert est.fade_per_year == pytest.approx(0.05)
    assert est.fade_se_per_year == pytest.approx(0.0057735, rel=1e-4)
    assert est.soh_at(T0) == pytest.approx(1.003333, rel=1e-6)


def test_short_span_gives_a_level_but_no_trend() -> None:
    # Two sessions 30 days apart (SoH 0.95 and 0.90): mean 0.925, no trend (needs 3 sessions over 180 days).
    sessions = [_s(T0, 40, 10, 90), _s(T0 + dt.timedelta(days=30), 36, 15, 91)]
    est = estimate_soh(sessions, 50.0)
    assert est.level == pytest.approx(0.925) and not est.has_trend and est.fade_per_year is None
    assert est.level_at == T0 + dt.timedelta(days=15)
    assert "no trend" in est.describe()


def test_nothing_usable_is_said() -> None:
    est = estimate_soh([_s(T0, 5, 50, 60), _s(T0, 10, None, None)], 50.0)
    assert est.level is None and est.points == ()
    assert "no usable session" in est.describe()


# ------------------------------------------------------------------------------------------ fallback curve


USAGE = Usage(km_per_year=40_000, ev_kwh_per_100km=25)  # 10,000 kWh/yr at the meter
CURVE = Battery(pack_kwh=100, pack_price_cny_per_kwh=500, soh_end_of_life=0.8, calendar_fade_per_year=0.02,
                cycle_fade_per_efc=5e-5)  # fmt: skip
LEASE = LeaseTerms(price=200_000, term_months=60, residual_value=40_000, monthly_rent=3500, tax_rate=0.0)


def test_curve_soh_and_residual_by_hand() -> None:
    # 60 months: 50,000 kWh / 100 kWh = 500 equivalent full cycles; fade 0.02 x 5 + 5e-5 x 500 = 0.125 -> SoH 0.875.
    # b = 100 kWh x 500 / 200,000 = 0.25; f = 0.75 + 0.25 x (0.875 - 0.8) / 0.2 = 0.84375; residual 40,000 x f = 33,750.
    lease = dataclasses.replace(LEASE, battery=CURVE)
    assert CURVE.efc(USAGE, 60) == pytest.approx(500.0)
    assert CURVE.soh_at_end(USAGE, 60) == pytest.approx(0.875)
    assert lease.battery_value_share() == pytest.approx(0.25)
    assert lease.residual_factor(USAGE) == pytest.approx(0.84375)
    assert lease.residual_at_end(USAGE) == pytest.approx(33_750.0)
    flows = lessor_cashflows(lease, USAGE, Carbon())
    assert flows.residual[60] == pytest.approx(33_750.0)


def test_residual_depends_on_soh_and_only_through_the_battery() -> None:
    # Without a battery the residual is as given; with one, the NPV moves by the residual change discounted 60
    # months at 0.5 %/month (tax 0, so depreciation does not matter): (33,750 - 40,000) / 1.005^60.
    plain = evaluate_lease(LEASE, USAGE, Carbon())
    assert plain.flows.residual[60] == 40_000
    follows = evaluate_lease(dataclasses.replace(LEASE, battery=CURVE), USAGE, Carbon())
    assert follows.project.npv - plain.project.npv == pytest.approx(-6_250 / 1.005**60, abs=1e-6)
    # f at the edges: a new battery keeps the base residual; at or below end of life only 1 - b = 0.75 of it.
    new = dataclasses.replace(LEASE, battery=dataclasses.replace(CURVE, fade_override=0.0))
    assert new.residual_at_end(USAGE) == pytest.approx(40_000)
    dead = dataclasses.replace(LEASE, battery=dataclasses.replace(CURVE, fade_override=0.3))
    assert dead.residual_at_end(USAGE) == pytest.approx(30_000)
    # A used truck (SoH 0.95 at the start) ends 5 pp lower: f = 0.75 + 0.25 x 0.025 / 0.2 = 0.78125.
    used = dataclasses.replace(LEASE, battery=dataclasses.replace(CURVE, soh_at_start=0.95))
    assert used.residual_at_end(USAGE) == pytest.approx(31_250)


def test_measured_fade_replaces_the_curve() -> None:
    # 3 %/yr over 5 years = 0.15 -> SoH 0.85 -> f = 0.75 + 0.25 x 0.25 = 0.8125 -> 32,500.
    measured = dataclasses.replace(CURVE, measured_fade_per_year=0.03, measured_fade_se_per_year=0.005)
    lease = dataclasses.replace(LEASE, battery=measured)
    assert lease.residual_at_end(USAGE) == pytest.approx(32_500)
    # Tornado range: (0.03 -/+ 2 x 0.005) x 5 = 0.10 .. 0.20.
    base, low, high, source = fade_range(lease, USAGE)  # type: ignore[misc]
    assert (base, low, high) == pytest.approx((0.15, 0.10, 0.20))
    assert "2 standard errors" in source


def test_curve_range_is_the_sourced_one() -> None:
    # low: 1.2 %/yr x 5 + 500 EFC x 0.2 / 6000 = 0.06 + 0.016667; high: 2.52 %/yr x 5 + 500 x 0.2 / 3000 = 0.126 + 0.033333.
    lease = dataclasses.replace(LEASE, battery=CURVE)
    base, low, high, source = fade_range(lease, USAGE)  # type: ignore[misc]
    assert base == pytest.approx(0.125)
    assert low == pytest.approx(0.076667, rel=1e-4) and high == pytest.approx(0.159333, rel=1e-4)
    assert "CHARGING.md" in source


def test_battery_from_estimate_projects_the_trend_to_lease_end() -> None:
    # Trend 1.00 at t0, -5 %/yr; the lease starts 2026-01-01 (1 year after t0): SoH 0.95 at the start and, 36
    # months later, 0.80.
    est = estimate_soh([_s(T0 + k * YEAR, kwh, 20, 100, 1.0) for k, kwh in enumerate((40, 38, 36))], 50.0)
    battery = battery_from_estimate(est, dt.date(2026, 1, 1), pack_kwh=60.0, usage=USAGE)
    assert battery.measured and battery.soh_at_start == pytest.approx(0.95)
    assert battery.soh_at_end(USAGE, 36) == pytest.approx(0.80)
    assert battery.basis.startswith("measured trend")
    # Level only (mean 0.925 on 2025-01-15 18:00): carried back to the lease start 2025-01-01 by the curve's fade.
    short = estimate_soh([_s(T0, 40, 10, 90), _s(T0 + dt.timedelta(days=30), 36, 15, 91)], 50.0)
    level = battery_from_estimate(short, dt.date(2025, 1, 1), pack_kwh=100.0, usage=USAGE)
    per_year = Battery(pack_kwh=100.0).fade_over(USAGE, 12)
    days = (short.level_at - dt.datetime(2025, 1, 1, tzinfo=UTC)).total_seconds() / 86400  # type: ignore[operator]
    assert level.soh_at_start == pytest.approx(0.925 + per_year * days / 365.25)
    assert level.measured_fade_per_year is None and level.basis.startswith("measured level")
    # Nothing measured, a 2-year-old truck: 1 - 2 x one year's curve fade.
    old = battery_from_estimate(
        None, dt.date(2026, 1, 1), pack_kwh=100.0, usage=USAGE, age_years_at_start=2.0
    )
    assert old.soh_at_start == pytest.approx(1 - 2 * per_year)
    assert old.basis.startswith("age and throughput curve")


# ------------------------------------------------------------------------------------------ reports and tornado


def test_tornado_has_a_battery_row_only_when_the_residual_follows_one() -> None:
    scenario = Scenario(lease=dataclasses.replace(LEASE, battery=CURVE), usage=USAGE)
    rows = {r.driver: r for r in tornado(scenario).rows}
    row = rows["battery fade over the term (SoH)"]
    assert row.base_value == pytest.approx(0.125)
    assert row.npv_low > row.npv_high  # less fade, more residual
    # fade 0.076667 -> SoH 0.923333 -> f = 0.75 + 0.25 x 0.616667 = 0.904167: +2,416.67 on the residual at month 60.
    plain = evaluate_lease(scenario.lease, USAGE, Carbon()).project.npv
    assert row.npv_low - plain == pytest.approx((0.904167 - 0.84375) * 40_000 / 1.005**60, rel=1e-4)
    assert "battery fade over the term (SoH)" not in {r.driver for r in tornado(Scenario()).rows}


def test_report_names_the_basis_and_hides_it_from_the_lessee() -> None:
    scenario = Scenario(lease=dataclasses.replace(LEASE, battery=CURVE), usage=USAGE)
    out = scenario_dict(evaluate(scenario), tornado(scenario))
    assert out["battery"]["soh_at_end"] == pytest.approx(0.875)
    assert out["battery"]["residual_value_at_end"] == pytest.approx(33_750)
    assert "unverified" in out["battery"]["rule"] and out["battery"]["basis"]
    view = lessee_view(out)
    assert "battery" not in view and "battery" not in view["inputs"]["lease"]
    assert not any(r["path"].startswith("lease.battery") for r in view["tornado"]["rows"])


def test_scenario_file_round_trip_and_validation() -> None:
    scenario = Scenario(
        lease=dataclasses.replace(LEASE, battery=CURVE, loan=Loan(term_months=60)), usage=USAGE
    )
    again = scenario_file_from_dict(scenario_to_dict(scenario)).base
    assert again.lease.battery == CURVE
    assert evaluate(again).lessor.project.npv == pytest.approx(evaluate(scenario).lessor.project.npv)
    with pytest.raises(FinanceInputError, match=r"lease\.battery\.pack_kwhh"):
        scenario_file_from_dict({"lease": {"battery": {"pack_kwhh": 80}}})
    with pytest.raises(FinanceInputError, match=r"lease\.battery\.soh_at_start"):
        scenario_file_from_dict({"lease": {"battery": {"soh_at_start": 1.5}}})
