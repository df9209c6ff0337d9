"""The ICMA annualised run rate, per lease against each lease's days in the year (issue 19 item 3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fleet.emissions.calc import parse_period
from fleet.emissions.profiles import TCSAE_235
from fleet.emissions.records import VehicleDay
from fleet.emissions.report import build_report
from fleet.submission.document import ProjectInfo, build_document

from .conftest import reference_book, reference_lease

# Reference truck (METHODOLOGY.md §4, grid factor 0.5366 for 2024 under Y-2): one day of 200 km and 70 kWh at the
# charger gives BE = 200 x 12/100 L x 0.84 kg/L x 3.0959 kgCO2/kg = 62.413344 kg and PE = 70 x 0.5366 = 37.562 kg,
# so ER = 24.851344 kg = 0.024851344 t per vehicle-day.
ER_PER_DAY = (200 * 12 / 100 * 0.84 * 3.0959 - 70 * 0.5366) / 1000


def _days(vehicle_id: str, first: date, n: int) -> list[VehicleDay]:
    return [
        VehicleDay(
            vehicle_id,
            "lessee-a",
            "D1",
            first + timedelta(days=k),
            200.0,
            kwh_charger=70.0,
            row_ref=f"{vehicle_id}:{k}",
        )
        for k in range(n)
    ]


def test_run_rate_annualises_each_lease_against_its_own_days_in_the_year(registry) -> None:
    """V1 is leased all of 2024 (366 days), V2 from 2024-10-01 (92 days: Oct 31 + Nov 30 + Dec 31). Both are metered
    every day from 2024-10-01 to the check date 2024-11-24: 55 monitored lease-days each (31 + 24).

    Per lease: V1 55 x ER x 366/55 = 366 ER; V2 55 x ER x 92/55 = 92 ER; run rate 458 ER = 11.381916 t.
    The fleet-wide scaling (110 x ER x 366/55 = 732 ER = 18.191184 t) would assume V2 ran all year."""
    assert pytest.approx(0.024851344, abs=1e-12) == ER_PER_DAY
    book = reference_book(
        reference_lease(),
        reference_lease(
            lease_id="L2", vehicle_id="V2", start=date(2024, 10, 1), plate="粤B00002", vin="VIN2"
        ),
    )
    metered = _days("V1", date(2024, 10, 1), 55) + _days("V2", date(2024, 10, 1), 55)
    report = build_report(
        "lessee-a", parse_period("2024"), metered, [], book, TCSAE_235, registry, as_of=date(2024, 11, 24)
    )
    document = build_document(report, book, ProjectInfo("run rate"), registry, as_of=date(2024, 11, 24))
    indicators = document["impact_indicators"]
    assert indicators["monitored_days"] == 55 and indicators["monitoring_start"] == "2024-10-01"
    assert indicators["ex_post_reduction_tco2e"] == pytest.approx(110 * ER_PER_DAY, abs=1e-6)
    assert indicators["icma_annual_ghg_avoided_tco2e"] == pytest.approx(458 * ER_PER_DAY, abs=1e-6)
    assert indicators["icma_annual_ghg_avoided_tco2e"] == pytest.approx(11.381916, abs=1e-6)
    assert (indicators["lease_days_in_year"], indicators["monitored_lease_days"]) == (458, 110)
    assert [
        (a["vehicle_id"], a["lease_days_in_year"], a["monitored_lease_days"])
        for a in indicators["annualisation"]
    ] == [
        ("V1", 366, 55),
        ("V2", 92, 55),
    ]
    assert (
        "per lease" in indicators["icma_basis"]
        and "(458 lease-days in the year / 110" in indicators["icma_basis"]
    )


def test_a_lease_starting_after_the_check_date_adds_nothing(registry) -> None:
    """V2's lease starts 2024-12-01, after the check date 2024-11-24: no monitored lease-days, no contribution;
    V1 alone: 55 x ER x 366/55 = 366 ER = 9.095592 t."""
    book = reference_book(
        reference_lease(),
        reference_lease(
            lease_id="L2", vehicle_id="V2", start=date(2024, 12, 1), plate="粤B00002", vin="VIN2"
        ),
    )
    report = build_report(
        "lessee-a",
        parse_period("2024"),
        _days("V1", date(2024, 10, 1), 55),
        [],
        book,
        TCSAE_235,
        registry,
        as_of=date(2024, 11, 24),
    )
    document = build_document(report, book, ProjectInfo("run rate"), registry, as_of=date(2024, 11, 24))
    indicators = document["impact_indicators"]
    assert indicators["icma_annual_ghg_avoided_tco2e"] == pytest.approx(9.095592, abs=1e-6)
    v2 = [a for a in indicators["annualisation"] if a["vehicle_id"] == "V2"]
    assert v2 == [] or v2[0]["annualised_tco2e"] is None
