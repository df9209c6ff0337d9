"""Each kind of bad metered row is flagged with its reason and kept out of the ex-post figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from fleet.emissions.calc import parse_period, total
from fleet.emissions.profiles import TCSAE_235
from fleet.emissions.quality import screen_rows
from fleet.emissions.records import VehicleDay
from fleet.emissions.report import build_report
from fleet.factors import FactorRegistry

from .conftest import reference_book, reference_days, reference_lease

GOOD = VehicleDay("V1", "lessee-a", "D1", date(2024, 3, 1), 200.0, kwh_charger=70.0, row_ref="trips.csv:2")


@pytest.mark.parametrize(
    "bad, code",
    [
        (replace(GOOD, km=-5.0), "negative_km"),
        (replace(GOOD, kwh_charger=-1.0), "negative_energy"),
        (replace(GOOD, kwh_charger=400.0), "energy_above_battery"),  # 400 × 0.9 = 360 > 2 × 81 kWh
        (replace(GOOD, kwh_charger=None, kwh_vehicle=200.0), "energy_above_battery"),
        (replace(GOOD, day=date(2022, 12, 31)), "not_on_lease"),  # lease starts 2023-01-01
        (replace(GOOD, vehicle_id="V9"), "not_on_lease"),
        (replace(GOOD, lessee_id="lessee-b"), "lessee_mismatch"),
        (replace(GOOD, kwh_charger=None), "missing_energy"),
        (replace(GOOD, km=1500.0), "km_implausible"),
        (replace(GOOD, tonne_km=-3.0), "negative_tonne_km"),
        (replace(GOOD, diesel_litres=-3.0), "negative_diesel"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_single_bad_row_is_flagged_and_excluded(bad: VehicleDay, code: str) -> None:
    if bad.day == GOOD.day:
        bad = replace(bad, day=date(2024, 3, 2))  # not a duplicate of GOOD
    result = screen_rows([GOOD, replace(bad, row_ref="trips.csv:3")], reference_book())
    assert [a.row.row_ref for a in result.accepted] == ["trips.csv:2"]
    assert code in {f.code for f in result.flags}
    assert {f.row_ref for f in result.flags} == {"trips.csv:3"}
    assert result.rows_excluded == 1


def test_vehicle_side_kwh_without_charging_efficiency_is_flagged() -> None:
    book = reference_book(reference_lease(charging_efficiency=None))
    result = screen_rows([replace(GOOD, kwh_charger=None, kwh_vehicle=60.0)], book)
    assert [f.code for f in result.flags] == ["no_charging_efficiency"] and not result.accepted


def test_identical_duplicates_keep_first_conflicting_duplicates_are_all_excluded() -> None:
    copy = replace(GOOD, row_ref="trips.csv:3")
    result = screen_rows([GOOD, copy], reference_book())
    assert [a.row.row_ref for a in result.accepted] == ["trips.csv:2"]
    assert [(f.row_ref, f.code) for f in result.flags] == [("trips.csv:3", "duplicate_day")]
    conflicting = replace(GOOD, km=150.0, row_ref="trips.csv:4")
    result = screen_rows([GOOD, conflicting], reference_book())
    assert not result.accepted
    assert sorted(f.row_ref for f in result.flags) == ["trips.csv:2", "trips.csv:4"]
    assert "trips.csv:2, trips.csv:4" in result.flags[0].message


def test_flagged_rows_do_not_reach_the_ex_post_figures_and_gaps_are_listed(registry: FactorRegistry) -> None:
    days = reference_days(2024)
    clean = build_report("lessee-a", parse_period("2024"), days, [], reference_book(), TCSAE_235, registry)
    bad = [
        replace(days[0], km=-200.0, row_ref="bad:1"),
        replace(days[1], kwh_charger=10_000.0, row_ref="bad:2"),
    ]
    dirty = build_report(
        "lessee-a", parse_period("2024"), days[2:] + bad, [], reference_book(), TCSAE_235, registry
    )
    expected = total(clean.ex_post[2:])
    assert total(dirty.ex_post) == expected
    assert {(f.row_ref, f.code) for f in dirty.flags} == {
        ("bad:1", "negative_km"),
        ("bad:2", "energy_above_battery"),
    }
    assert (dirty.rows_checked, dirty.rows_excluded) == (200, 2)
    # 366 lease days in 2024, 198 accepted: the other 168 are gaps, and the flagged days are among them.
    assert sum(g.days for g in dirty.gaps) == 366 - 198
    assert dirty.gaps[0].first_day == date(2024, 1, 1) and dirty.gaps[0].last_day == date(2024, 1, 3)


def test_negative_reduction_is_reported_not_clipped(registry: FactorRegistry) -> None:
    profile = TCSAE_235.with_options(
        grid_key="grid.cdm_tool05.conservative_default", tdl_key="tdl.cdm_tool05.project_default"
    )
    report = build_report(
        "lessee-a", parse_period("2024-03"), [GOOD], [], reference_book(), profile, registry
    )
    (day,) = report.ex_post
    assert day.reduction_t < 0 and report.negative_days == (day,)
    assert day.reduction_t == pytest.approx(day.baseline_t - day.project_t)
