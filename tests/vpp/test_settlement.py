"""Settlement: baseline of similar days, response, revenue and its split per lease, checked by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from fleet.vpp.nights import LeaseTerms
from fleet.vpp.settlement import BaselineMethod, SettlementError, baseline_kw, settle_depot, similar_days

WED = dt.date(2026, 11, 25)


def test_settlement_hand_checked() -> None:
    """Event Wednesday 2026-11-25, two 15-minute slots, direction down, 4 CNY/kWh; baseline = average of the previous
    3 workdays with meter data. History: Sat 21 (weekend: skipped), Fri 20 [90, 110], Mon 23 [110, 130],
    Tue 24 [100, 120] kW; Thu 19 is older than the three latest. Baseline = ([90, 110] + [110, 130] + [100, 120]) / 3
    = [100, 120] kW. Measured [40, 60] kW -> response [60, 60] kW x 0.25 h = 15 + 15 = 30 kWh -> 4 x 30 = 120 CNY.
    Dispatched response per truck: A 20 kWh (lease L1, lessee share 0.5), B 10 kWh (lease L2, share 0.3), C 0 kWh.
    A: 120 x 20/30 = 80 CNY -> lessee 40, lessor 40. B: 120 x 10/30 = 40 CNY -> lessee 12, lessor 28.
    Totals: lessee 52 CNY, lessor 68 CNY."""
    history = {
        dt.date(2026, 11, 19): np.array([500.0, 500.0]),
        dt.date(2026, 11, 20): np.array([90.0, 110.0]),
        dt.date(2026, 11, 21): np.array([900.0, 900.0]),
        dt.date(2026, 11, 23): np.array([110.0, 130.0]),
        dt.date(2026, 11, 24): np.array([100.0, 120.0]),
    }
    method = BaselineMethod(previous_days=3, similar="day_type")
    base, days = baseline_kw(history, WED, method)
    assert days == [dt.date(2026, 11, 24), dt.date(2026, 11, 23), dt.date(2026, 11, 20)]
    assert base.tolist() == pytest.approx([100.0, 120.0])
    leases = {
        "A": LeaseTerms("L1", "LE1", True, Decimal("0.5")),
        "B": LeaseTerms("L2", "LE2", True, Decimal("0.3")),
    }
    head, rows = settle_depot(
        "D1",
        base,
        days,
        np.array([40.0, 60.0]),
        direction="down",
        price_cny_per_kwh=4.0,
        slot_hours=0.25,
        weights_kwh={"A": 20.0, "B": 10.0, "C": 0.0},
        leases=leases,
    )
    assert head.response_kwh == pytest.approx(30.0)
    assert head.revenue_cny == pytest.approx(120.0)
    by = {r.plate: r for r in rows}
    assert set(by) == {"A", "B"}
    assert (by["A"].revenue_cny, by["A"].lessee_cny, by["A"].lessor_cny) == pytest.approx((80.0, 40.0, 40.0))
    assert (by["B"].revenue_cny, by["B"].lessee_cny, by["B"].lessor_cny) == pytest.approx((40.0, 12.0, 28.0))
    assert sum(r.lessee_cny for r in rows) == pytest.approx(52.0)
    assert sum(r.lessor_cny for r in rows) == pytest.approx(68.0)


def test_up_event_and_no_negative_pay() -> None:
    """Up: response = measured - baseline. A depot that moved the wrong way is paid nothing, never charged."""
    head, rows = settle_depot(
        "D", np.array([100.0]), [WED], np.array([160.0]), direction="up", price_cny_per_kwh=0.5,
        slot_hours=0.25, weights_kwh={"A": 15.0}, leases={},
    )  # fmt: skip
    assert head.response_kwh == pytest.approx(15.0) and head.revenue_cny == pytest.approx(7.5)
    assert rows[0].lease_code is None and rows[0].lessor_cny == pytest.approx(7.5)  # no lease: the lessor's
    head, rows = settle_depot(
        "D", np.array([100.0]), [WED], np.array([160.0]), direction="down", price_cny_per_kwh=4.0,
        slot_hours=0.25, weights_kwh={"A": 15.0}, leases={},
    )  # fmt: skip
    assert head.revenue_cny == 0.0 and sum(r.revenue_cny for r in rows) == 0.0


def test_baseline_needs_enough_similar_days() -> None:
    history = {dt.date(2026, 11, 21): np.array([1.0]), dt.date(2026, 11, 24): np.array([1.0])}
    with pytest.raises(SettlementError, match=r"needs 2 days .* found 1 \(2026-11-24\)"):
        baseline_kw(history, WED, BaselineMethod(previous_days=2), subject="depot D")
    assert similar_days(WED, history, BaselineMethod(previous_days=2, similar="any")) == [
        dt.date(2026, 11, 24),
        dt.date(2026, 11, 21),
    ]
    with pytest.raises(SettlementError, match="previous_days"):
        BaselineMethod(previous_days=0).validate()
