"""Flexibility bounds (charging.flexibility) hold when called: the VPP dispatch delivers them, trucks stay ready."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from charging import check_schedule, schedule, synthetic_depot
from charging.dispatch import DepotNight, Event, dispatch
from charging.flexibility import depot_flex, vehicle_flex
from charging.problem import ChargingProblem, Connector, Site, Vehicle
from charging.tariff import tariff_from_json

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def night() -> tuple[ChargingProblem, object]:
    base = synthetic_depot(12, seed=7)
    connectors = tuple(replace(c, v2g=k < 4) for k, c in enumerate(base.connectors))
    vehicles = tuple(
        replace(v, connector=connectors[k].id, v2g=k % 2 == 0, min_energy_kwh=0.3 * v.capacity_kwh)
        for k, v in enumerate(base.vehicles)
    )
    site = replace(
        base.site, base_load_kw=(80.0,) * base.n_slots, import_limit_kw=base.site.import_limit_kw + 80
    )
    problem = replace(base, connectors=connectors, vehicles=vehicles, site=site)
    return problem, schedule(problem, time_limit_s=5, baselines=False)


def test_hand_checked_single_truck() -> None:
    """One truck, 20:00-22:00 (8 slots of 0.25 h), 60 kW, efficiency 1, 10 -> 40 kWh of a 100 kWh pack.
    Slot 0: most = min(60 kW, room (100 - 10) / 0.25 = 360 kW) = 60 kW; least: the 7 later slots can still add
    60 x 0.25 x 7 = 105 kWh >= the 30 kWh needed, so 0 kW (no V2G). Last slot: it must add whatever is missing,
    (40 - E7) / 0.25 kW with E7 the plan's energy at its start."""
    start = datetime(2026, 11, 24, 20, tzinfo=TZ)
    problem = ChargingProblem(
        start=start,
        end=start + timedelta(hours=2),
        site=Site(import_limit_kw=100),
        tariff=tariff_from_json({"id": "gd_ic_tou_2021", "base_price": 0.68}),
        connectors=(Connector("C1", 60.0),),
        vehicles=(Vehicle("T1", start, start + timedelta(hours=2), 100.0, 10.0, 40.0, 60.0, connector="C1"),),
    )
    plan = schedule(problem, time_limit_s=5, baselines=False)
    p = np.asarray(plan.vehicles[0].power_kw)
    f = vehicle_flex(problem, plan)[0]
    assert np.all(f.min_kw <= p + 1e-9) and np.all(p <= f.max_kw + 1e-9)
    assert f.max_kw[0] == pytest.approx(60.0)
    assert f.min_kw[0] == pytest.approx(0.0)
    energy_before_last = 10.0 + float(np.sum(p[:7])) * 0.25
    assert f.min_kw[7] == pytest.approx(max(0.0, (40.0 - energy_before_last) / 0.25))


def test_bounds_contain_the_plan_and_no_v2g_without_consent(night) -> None:
    problem, plan = night
    for v, f in zip(problem.vehicles, vehicle_flex(problem, plan), strict=True):
        assert np.all(f.min_kw <= f.planned_kw + 1e-9) and np.all(f.planned_kw <= f.max_kw + 1e-9)
        if not v.v2g:
            assert np.all(f.min_kw >= -1e-9), f"{v.id} has no consent but may discharge"


@pytest.mark.parametrize("direction", ["down", "up"])
def test_depot_bounds_are_deliverable(night, direction: str) -> None:
    """For the slots where the depot offers most, an event asking exactly that is met and every truck is ready."""
    problem, plan = night
    flex = depot_flex(problem, plan)
    offer = flex.shed_kw if direction == "down" else flex.add_kw
    for t in [int(np.argmax(offer)), int(np.argmax(offer)) // 2]:
        if offer[t] <= 1.0:
            continue
        event = Event(
            problem.slot_starts[t],
            problem.slot_starts[t] + timedelta(minutes=15),
            direction,
            target_kw=offer[t],
        )
        result = dispatch([DepotNight("D", problem, plan)], event, wear_cny_per_kwh=0.2, time_limit_s=20)
        assert result.status == "optimal"
        assert result.delivered_kw[0] >= offer[t] - 1e-3
        report = check_schedule(problem, result.depots[0].schedule)
        assert report.ok, report.violations[:3]
