"""Hand-computed checks of issue 19's sections: uncertainty (item 5), baseline flags (item 6), monitoring counts
per source (item 7)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from fleet.emissions.calc import parse_period
from fleet.emissions.profiles import TCSAE_235
from fleet.emissions.report import build_report
from fleet.emissions.uncertainty import uncertainty
from fleet.submission.document import ProjectInfo, build_document
from fleet.submission.inputs import ReplacedTruck, SubmissionInputs

from .conftest import reference_book, reference_days, reference_lease

# Reference truck, reporting year 2024 (METHODOLOGY.md §4): 200 days of 200 km and 70 kWh = 40,000 km, 14,000 kWh.
# BE = 40,000 km x 12 L/100 km = 4,800 L x 0.84 kg/L = 4,032 kg x 3.0959 kgCO2/kg = 12.4826688 t
# PE = 14,000 kWh x 0.5366 kgCO2/kWh (grid.cn.mee.national.2022, Y-2) = 7.5124 t;  ER = 4.9702688 t
BE = 40_000 * 12 / 100 * 0.84 * 3.0959 / 1000
PE = 14_000 * 0.5366 / 1000


def _report(registry, metered, as_of: date):
    book = reference_book()
    return book, build_report(
        "lessee-a", parse_period("2024"), metered, [], book, TCSAE_235, registry, as_of=as_of
    )


def test_uncertainty_on_the_reference_truck_by_hand(registry) -> None:
    """Data 2024-01-02 .. 2024-07-19 (200 days), checked until 2024-07-29: 10 missing monitored days.

    - L/100 km x0.8: ER = 0.8 x 12.4826688 - 7.5124 = 9.98613504 - 7.5124 = 2.47373504 t (the figure 2.47376
      handed over was off in the fifth decimal); x1.0: the central 4.9702688 t.
    - grid vintage over the national data years 2021-2023: PE = 14,000 x 0.5568 = 7.7952 t -> ER = 4.6874688 t;
      14,000 x 0.5306 = 7.4284 t -> ER = 5.0542688 t (METHODOLOGY.md §4 table: 4.6875 and 5.0543).
    - charging efficiency: no vehicle-day uses vehicle-side kWh, so low = high = central.
    - metering gaps: none to all 10 missing days at the mean 4.9702688 / 200 = 0.024851344 t:
      high = 4.9702688 + 0.24851344 = 5.21878224 t.
    - Monte Carlo: inside the envelope [0.8 BE - PE(0.5568), BE - PE(0.5306) + gap fill] = [2.19093504,
      5.30278224]; the same seed gives the same percentiles."""
    assert pytest.approx(12.4826688, abs=1e-9) == BE and pytest.approx(7.5124, abs=1e-9) == PE
    _, report = _report(registry, reference_days(2024), date(2024, 7, 29))
    missing = report.gap_days("missing_monitored")
    assert missing == 10
    out = uncertainty(report.ex_post, report.resolved, registry, missing, 0.9)
    assert out["central_tco2e"] == pytest.approx(4.9702688, abs=1e-6)
    drivers = {d["driver"]: d for d in out["drivers"]}
    l100 = drivers["baseline diesel consumption [L/100 km]"]
    assert (l100["low_tco2e"], l100["high_tco2e"]) == pytest.approx((2.47373504, 4.9702688), abs=1e-6)
    assert l100["grade"] == "unverified"
    grid = drivers["grid emission factor vintage"]
    assert (grid["low_tco2e"], grid["high_tco2e"]) == pytest.approx((4.6874688, 5.0542688), abs=1e-6)
    assert grid["grade"] == registry.get("grid.cn.mee.national.2022").confidence
    eta = drivers["charging efficiency"]
    assert eta["low_tco2e"] == eta["high_tco2e"] == out["central_tco2e"]
    assert "applies to 0 of 200 vehicle-days" in eta["range"]
    gaps = drivers["metering gaps"]
    assert (gaps["low_tco2e"], gaps["high_tco2e"]) == pytest.approx((4.9702688, 5.21878224), abs=1e-6)
    mc = out["monte_carlo"]
    assert 2.19093504 <= mc["p05_tco2e"] <= mc["p50_tco2e"] <= mc["p95_tco2e"] <= 5.30278224
    assert uncertainty(report.ex_post, report.resolved, registry, missing, 0.9)["monte_carlo"] == mc
    assert mc["seed"] == 20261125 and mc["draws"] == 2000


def test_charging_efficiency_range_on_vehicle_side_kwh_by_hand(registry) -> None:
    """The same truck metered on the vehicle side: 63 kWh a day / 0.9 = 70 kWh at the grid, PE = 7.5124 t.
    eta 0.85: PE = 7.5124 x 0.9 / 0.85 = 7.95430588 t -> ER = 4.52836292 t;
    eta 0.95: PE = 7.5124 x 0.9 / 0.95 = 7.11701053 t -> ER = 5.36565827 t."""
    metered = [replace(d, kwh_charger=None, kwh_vehicle=63.0) for d in reference_days(2024)]
    _, report = _report(registry, metered, date(2024, 7, 19))
    out = uncertainty(report.ex_post, report.resolved, registry, 0, 0.9)
    eta = {d["driver"]: d for d in out["drivers"]}["charging efficiency"]
    assert out["central_tco2e"] == pytest.approx(4.9702688, abs=1e-6)
    assert (eta["low_tco2e"], eta["high_tco2e"]) == pytest.approx((4.52836292, 5.36565827), abs=1e-6)
    assert "0.85 to 0.95 (nominal 0.9); applies to 200 of 200 vehicle-days" in eta["range"]


def test_baseline_flags_a_lease_without_its_replaced_truck(registry) -> None:
    """L1 carries its replaced truck (plate, VIN, scrapped, certificate): no flag. L2 has no record: both flags.
    L3's truck was sold: flagged as possibly still in service (leakage)."""
    leases = [
        reference_lease(),
        reference_lease(lease_id="L2", vehicle_id="V2", plate="粤B00002", vin="VIN2"),
        reference_lease(lease_id="L3", vehicle_id="V3", plate="粤B00003", vin="VIN3"),
    ]
    book = reference_book(*leases)
    metered = [d for v in ("V1", "V2", "V3") for d in reference_days(2024, vehicle_id=v)[:5]]
    report = build_report("lessee-a", parse_period("2024"), metered, [], book, TCSAE_235, registry)
    inputs = SubmissionInputs(
        replaced_trucks={
            "L1": ReplacedTruck(
                "L1", "粤B12345", "LDC000000000001", "scrapped", "2023-12-20", "certificate 2023-88"
            ),
            "L3": ReplacedTruck("L3", "粤B54321", "", "sold", "2023-12-28", "sale contract 17"),
        }
    )
    document = build_document(report, book, ProjectInfo("baseline"), registry, inputs=inputs)
    trucks = {t["lease_id"]: t for t in document["baseline"]["replaced_trucks"]}
    assert trucks["L1"]["replaced_truck_flags"] == ""
    assert (
        trucks["L1"]["replaced_truck_plate"] == "粤B12345"
        and trucks["L1"]["replaced_truck_disposal"] == "scrapped"
    )
    assert trucks["L2"]["replaced_truck_flags"] == (
        "replaced diesel truck not identified (plate/VIN missing); no scrapping or sale record"
    )
    assert trucks["L2"]["replaced_truck_plate"] == "" and trucks["L2"]["replaced_truck_evidence"] == ""
    assert (
        trucks["L3"]["replaced_truck_flags"]
        == "replaced truck sold: may still be in service (leakage, AMS-III.C)"
    )
    assert document["baseline"]["leases_flagged"] == 2
    assert document["baseline"]["flag_summary"].startswith("2 of 3 leases lack")
    per_vehicle = {v["lease_id"]: v["replaced_truck_flags"] for v in document["vehicles"]}
    assert per_vehicle == {k: t["replaced_truck_flags"] for k, t in trucks.items()}


def test_monitoring_counts_per_source(registry) -> None:
    """10 vehicle-days: 4 with charger kWh in the trip file (import batch 3), 3 whose kWh came from charging
    sessions (import batch 3), 2 with vehicle-side kWh only and 1 charger-kWh day loaded without a batch.
    Expected: 10 trip days, 7 from import batches, 3 without; energy: charger column 10 - 3 - 2 = 5, sessions 3,
    vehicle-side 2."""
    days = reference_days(2024)[:10]
    refs = (
        [(f"vehicleday#{n} (import batch 3)", 70.0, None) for n in range(4)]
        + [(f"vehicleday#{n} (import batch 3) + chargingsession#{n}", 70.0, None) for n in range(4, 7)]
        + [(f"vehicleday#{n}", None, 63.0) for n in range(7, 9)]
        + [("vehicleday#9", 70.0, None)]
    )
    metered = [replace(d, row_ref=r, kwh_charger=c, kwh_vehicle=v) for d, (r, c, v) in zip(days, refs)]
    book = reference_book()
    report = build_report("lessee-a", parse_period("2024"), metered, [], book, TCSAE_235, registry)
    document = build_document(report, book, ProjectInfo("monitoring"), registry)
    sources = document["monitoring"]["sources"]
    assert sources[0]["vehicle_days"] == 10
    assert sources[0]["vehicle_days_from_import_batches"] == 7
    assert sources[0]["vehicle_days_loaded_without_batch"] == 3
    assert [s["vehicle_days"] for s in sources[1:]] == [5, 3, 2]
    assert (
        "column of the same trip imports on 5 vehicle-days, from charging-session imports on 3 and from "
        "vehicle-side kWh divided by the charging efficiency on 2" in document["monitoring"]["statement"]
    )
