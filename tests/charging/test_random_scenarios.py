"""Random small depots with every feature switched on and off: every plan passes the checker."""

import numpy as np
import pytest

from charging.check import check
from charging.optimize import schedule
from tests.charging.scenarios import problem


def random_scenario(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    n_slots = 24  # 17:00-23:00 in 15-minute slots, prices flat then peak-free evening
    n_veh = int(rng.integers(1, 6))
    n_conn = int(rng.integers(1, n_veh + 2))
    use_groups = rng.random() < 0.5
    vehicles = []
    for i in range(n_veh):
        arrive = int(rng.integers(0, 12))
        leave = int(rng.integers(arrive + 1, n_slots + 1))
        battery = float(rng.choice([51.39, 81.0, 120.0]))
        e0 = float(rng.uniform(0.05, 0.6)) * battery
        target = min(battery, e0 + float(rng.uniform(0, 60)))
        v2g = bool(rng.random() < 0.3)
        vehicles.append(
            {
                "id": f"V{i}",
                "arrival": f"2026-11-24T{17 + arrive // 4:02d}:{15 * (arrive % 4):02d}:00+08:00",
                "departure": f"2026-11-24T{17 + leave // 4:02d}:{15 * (leave % 4):02d}:00+08:00"
                if leave < n_slots
                else "2026-11-24T23:00:00+08:00",
                "capacity_kwh": battery,
                "energy_arrival_kwh": round(e0, 2),
                "energy_target_kwh": round(target, 2),
                "max_kw": float(rng.choice([20.0, 40.0, 80.0])),
                "v2g": v2g,
                "min_energy_kwh": round(0.1 * battery, 2) if v2g else 0.0,
                "taper_soc": 0.8 if rng.random() < 0.3 else None,
            }
        )
    connectors = []
    for k in range(n_conn):
        c = {
            "id": f"C{k}",
            "max_kw": float(rng.choice([30.0, 60.0])),
            "efficiency": float(rng.choice([0.9, 0.95, 1.0])),
            "v2g": bool(rng.random() < 0.5),
            "group": "G" if use_groups and k % 2 == 0 else None,
        }
        if rng.random() < 0.2:
            c["power_step_kw"] = 5.0
            c["min_kw"] = 10.0
            c["v2g"] = False
        connectors.append(c)
    site = {
        "import_limit_kw": float(rng.choice([40.0, 100.0, 400.0])),
        "export_limit_kw": float(rng.choice([0.0, 50.0])),
        "base_load_kw": [float(x) for x in rng.uniform(0, 15, n_slots)],
        "pv_kw": [float(x) for x in rng.uniform(0, 20, n_slots)] if rng.random() < 0.4 else 0.0,
    }
    if rng.random() < 0.4:
        site["battery"] = {
            "capacity_kwh": 60.0,
            "max_kw": 30.0,
            "efficiency": 0.95,
            "initial_kwh": 30.0,
            "min_kwh": 5.0,
        }
    events = []
    if rng.random() < 0.4:
        events.append(
            {
                "id": "cap",
                "start": "2026-11-24T18:00:00+08:00",
                "end": "2026-11-24T19:00:00+08:00",
                "type": "cap",
                "max_import_kw": 25.0,
            }
        )
    if rng.random() < 0.3:
        events.append(
            {
                "id": "dis",
                "start": "2026-11-24T19:00:00+08:00",
                "end": "2026-11-24T20:00:00+08:00",
                "type": "discharge_reward",
                "rate_cny_per_kwh": 4.0,
            }
        )
    if rng.random() < 0.3:
        events.append(
            {
                "id": "red",
                "start": "2026-11-24T20:00:00+08:00",
                "end": "2026-11-24T21:00:00+08:00",
                "type": "reduction_reward",
                "reference_kw": 30.0,
                "rate_cny_per_kwh": 0.8,
            }
        )
    return {
        "start": "2026-11-24T17:00:00+08:00",
        "end": "2026-11-24T23:00:00+08:00",
        "slot_minutes": 15,
        "site": site,
        "tariff": {
            "id": "sz_market_tou_2024",
            "base_price": 0.463,
            "demand_charge_per_kw_month": 42.0,
            "month_peak_kw_so_far": float(rng.choice([0.0, 30.0])),
            "export_rule": "gd_v2g_discharge_2025",
        },
        "connectors": connectors,
        "groups": [{"id": "G", "max_kw": 50.0}] if use_groups else [],
        "vehicles": vehicles,
        "dr_events": events,
        "v2g_degradation_cny_per_kwh": 0.0625,
    }


@pytest.mark.parametrize("seed", range(24))
def test_random_depot_plans_pass_the_checker(seed: int) -> None:
    p = problem(random_scenario(seed))
    objective = ("cost", "peak", "carbon")[seed % 3]
    s = schedule(p, objective=objective, time_limit_s=4, seed=seed, num_workers=1)
    report = check(p, s)
    assert report.ok, [v.message for v in report.violations]
    assert report.cost_total == pytest.approx(s.cost.total, abs=0.02)
    for u in s.unmet:
        assert u.reason and u.shortfall_kwh > 0
