"""A party's annual reduction equals the sum over its vehicles and months (property test on generated records)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.emissions.calc import (
    by_depot,
    by_lessee,
    by_lessor,
    by_period,
    by_vehicle_period,
    parse_period,
    total,
)
from fleet.emissions.profiles import AMS_III_C, GLEC_WTW, TCSAE_235
from fleet.emissions.records import Lease, LeaseBook, VehicleDay
from fleet.emissions.report import build_report
from fleet.factors import load_registry

REGISTRY = load_registry()
VEHICLES = ("V1", "V2", "V3")
LESSEES = ("A", "B")


def book() -> LeaseBook:
    leases = (
        Lease(
            "L1",
            "V1",
            "A",
            "lessor",
            date(2026, 1, 1),
            None,
            "d",
            12.0,
            depot_id="D1",
            battery_kwh=81.0,
            charging_efficiency=0.9,
        ),
        Lease(
            "L2",
            "V2",
            "A",
            "lessor",
            date(2026, 3, 1),
            date(2026, 8, 31),
            "d",
            14.0,
            depot_id="D2",
            battery_kwh=100.0,
        ),
        Lease("L3", "V2", "B", "lessor", date(2026, 9, 1), None, "d", 14.0, depot_id="D2", battery_kwh=100.0),
        Lease(
            "L4",
            "V3",
            "B",
            "lessor",
            date(2026, 1, 1),
            None,
            "d",
            11.0,
            claimant="lessor",
            depot_id="D1",
            battery_kwh=81.0,
        ),
    )
    return LeaseBook(leases)


record = st.builds(
    lambda v, lessee, offset, km, kwh, vehicle_side: VehicleDay(
        v,
        lessee,
        "D1",
        date(2026, 1, 1) + timedelta(days=offset),
        km,
        kwh_charger=None if vehicle_side else kwh,
        kwh_vehicle=kwh if vehicle_side else None,
    ),
    st.sampled_from(VEHICLES),
    st.sampled_from(LESSEES),
    st.integers(0, 364),
    st.floats(-10, 400, allow_nan=False),
    st.floats(0, 250, allow_nan=False),
    st.booleans(),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(record, max_size=60), profile=st.sampled_from([AMS_III_C, TCSAE_235, GLEC_WTW]))
def test_annual_reduction_is_the_sum_over_vehicles_and_months(rows, profile) -> None:
    for party in ("A", "B", "lessor"):
        report = build_report(party, parse_period("2026"), rows, [], book(), profile, REGISTRY)
        annual = total(report.ex_post).reduction_t
        per_vehicle_month = by_vehicle_period(report.ex_post, "month")
        assert annual == pytest.approx(sum(t.reduction_t for t in per_vehicle_month.values()), abs=1e-9)
        assert annual == pytest.approx(
            sum(t.reduction_t for t in by_period(report.ex_post, "month").values()), abs=1e-9
        )
        assert total(report.ex_post).vehicle_days == sum(t.vehicle_days for t in per_vehicle_month.values())
        assert all(r.claimant_id == party for r in report.ex_post)


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(record, max_size=60))
def test_every_clean_row_is_claimed_once_and_groupings_agree(rows) -> None:
    reports = {
        p: build_report(p, parse_period("2026"), rows, [], book(), TCSAE_235, REGISTRY)
        for p in ("A", "B", "lessor")
    }
    claimed = [(r.vehicle_id, r.day) for rep in reports.values() for r in rep.ex_post]
    assert len(claimed) == len(set(claimed))
    accepted_lessee_rows = {
        (r.vehicle_id, r.day)
        for p in ("A", "B")
        for r in reports[p].ex_post + reports[p].attributed_elsewhere
    }
    assert set(claimed) == accepted_lessee_rows
    everything = [r for rep in reports.values() for r in rep.ex_post]
    grand = total(everything).reduction_t
    for grouping in (by_lessee, by_depot, by_lessor):
        assert grand == pytest.approx(sum(t.reduction_t for t in grouping(everything).values()), abs=1e-9)
