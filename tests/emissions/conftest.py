"""Shared fixtures: the shipped factor registry and the constructed reference truck of METHODOLOGY.md §4."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fleet.emissions.records import Lease, LeaseBook, Party, VehicleDay
from fleet.factors import FactorRegistry, load_registry


@pytest.fixture(scope="session")
def registry() -> FactorRegistry:
    return load_registry()


def reference_lease(**changes) -> Lease:
    """4.5 t e-truck replacing a 12 L/100 km diesel light truck (METHODOLOGY.md §4 inputs)."""
    values = {
        "lease_id": "L1",
        "vehicle_id": "V1",
        "lessee_id": "lessee-a",
        "lessor_id": "lessor",
        "start": date(2023, 1, 1),
        "end": date(2032, 12, 31),
        "baseline_model": "refcase_diesel_4_5t",
        "baseline_l_per_100km": 12.0,
        "depot_id": "D1",
        "plate": "粤B00001",
        "vin": "VIN00000000000001",
        "ev_model": "refcase_bev_4_5t",
        "battery_kwh": 81.0,
        "charging_efficiency": 0.9,
        "investment_cny": 200000.0,
    }
    values.update(changes)
    return Lease(**values)


def reference_days(year: int, vehicle_id: str = "V1", lessee_id: str = "lessee-a") -> list[VehicleDay]:
    """40,000 km and 14,000 kWh at the meter in a year, as 200 days of 200 km and 70 kWh."""
    start = date(year, 1, 2)
    return [
        VehicleDay(
            vehicle_id,
            lessee_id,
            "D1",
            start + timedelta(days=n),
            200.0,
            kwh_charger=70.0,
            tonne_km=200.0 * 2.0,
            row_ref=f"ref:{n + 2}",
        )
        for n in range(200)
    ]


def reference_book(*leases: Lease) -> LeaseBook:
    leases = leases or (reference_lease(),)
    return LeaseBook(
        leases=tuple(leases),
        parties={
            "lessee-a": Party("lessee-a", "Lessee A Logistics", "Shenzhen"),
            "lessor": Party("lessor", "Lessor Leasing Co.", "Shenzhen"),
        },
    )
