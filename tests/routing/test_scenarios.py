"""The synthetic Shenzhen scenario: deterministic, the fleet of issue 3, sourced vehicle figures."""

from __future__ import annotations

import pytest

from routing.problem import RechargePolicy, VehicleKind
from routing.scenarios import shenzhen_problem


def test_scenario_is_deterministic_and_shaped_like_the_issue() -> None:
    a, b = shenzhen_problem(300, seed=3), shenzhen_problem(300, seed=3)
    assert a == b
    assert shenzhen_problem(300, seed=4) != a
    assert len(a.jobs) == 300 and len(a.stations) == 2
    kinds = {vt.id: (vt.kind, vt.count) for vt in a.vehicle_types}
    assert kinds == {
        "ev-van": (VehicleKind.ELECTRIC, 20),
        "ev-truck": (VehicleKind.ELECTRIC, 10),
        "diesel-truck": (VehicleKind.DIESEL, 5),
    }
    assert a.recharge_policy is RechargePolicy.PARTIAL
    assert all(22.2 < loc.lat < 23.1 and 113.5 < loc.lon < 114.7 for loc in a.locations)  # type: ignore[operator]


def test_demand_fits_the_fleet_at_both_sizes() -> None:
    for n in (300, 1000):
        p = shenzhen_problem(n)
        payload = sum(vt.payload_kg * vt.count for vt in p.vehicle_types)
        assert sum(j.demand_kg for j in p.jobs) < 0.9 * payload
        assert max(j.demand_kg for j in p.jobs) <= min(vt.payload_kg for vt in p.vehicle_types)


def test_bad_size_rejected() -> None:
    with pytest.raises(ValueError, match="stops must be >= 1"):
        shenzhen_problem(0)


def test_random_problems_are_deterministic_and_varied() -> None:
    from routing.scenarios import random_problem

    assert random_problem(5) == random_problem(5)
    problems = [random_problem(s) for s in range(30)]
    assert len({p.recharge_policy for p in problems}) == 2
    assert len({p.objective for p in problems}) == 3
    assert any(len(p.vehicle_types) == 2 for p in problems) and any(
        len(p.vehicle_types) == 1 for p in problems
    )
    assert any(len(j.time_windows) == 2 for p in problems for j in p.jobs)
    assert any(j.drop_penalty is not None for p in problems for j in p.jobs)


def test_low_departure_charge_option() -> None:
    p = shenzhen_problem(20, initial_soc=0.35)
    assert all(vt.battery.initial_soc == 0.35 for vt in p.vehicle_types if vt.battery is not None)
    assert p.name.endswith("-soc0.35")
    with pytest.raises(ValueError, match="initial_soc"):
        shenzhen_problem(20, initial_soc=0.1)  # below the 15 % reserve
