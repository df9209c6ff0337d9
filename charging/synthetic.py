"""Synthetic Shenzhen depot scenarios from a seed (the benchmark set-up of data/reference/CHARGING.md, on a 64-slot night).

data/reference/CHARGING.md "evfleet sanity benchmark": trucks arrive uniformly 17:00-22:00, leave 05:30-08:00 and need
35-90 kWh each; one 60 kW charger each; site limit 0.5 x n x 60 kW; Guangdong TOU 1.7/1/0.38
(tariffs.json `gd_ic_tou_2021`) on the illustrative flat 0.68 CNY/kWh (`price_levels[id="illustrative_flat"]`),
plus 32 CNY/kW-month demand prorated / 30 per day (`demand_charges[id="benchmark_demand"]`).
Here the horizon is 17:00-09:00 (64 x 15 min, the acceptance size of issue #4) instead of 96 slots from 12:00.
Packs are drawn from tariffs-independent vehicles.csv rows `farizon_h8e_h9e` (81-155 kWh) and `farizon_t9e_txe`
(120-154 kWh); arrival energy 20 % of the pack and the 0.95 connector efficiency (issue #4 example) are
synthetic set-up choices, not sourced facts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from charging.problem import ChargingProblem, Connector, Site, Vehicle
from charging.tariff import tariff_from_json

SHENZHEN = ZoneInfo("Asia/Shanghai")
PACKS_KWH = (
    81.0,
    155.0,
    120.0,
    154.0,
)  # vehicles.csv battery_kwh_min/max of farizon_h8e_h9e, farizon_t9e_txe
CHARGER_KW = 60.0  # data/reference/CHARGING.md benchmark: "its own 60 kW charger"
FLAT_PRICE = 0.68  # tariffs.json price_levels illustrative_flat [CNY/kWh]
DEMAND_CHARGE = 32.0  # tariffs.json demand_charges benchmark_demand [CNY/kW/month]
EFFICIENCY = 0.95  # issue #4 scenario example


def synthetic_depot(
    n_vehicles: int,
    *,
    seed: int = 1,
    n_connectors: int | None = None,
    site_kw: float | None = None,
    day: str = "2026-11-24",
    tariff_id: str = "gd_ic_tou_2021",
    n_slots: int = 64,
    slot_minutes: int = 15,
) -> ChargingProblem:
    """A depot of `n_vehicles` trucks over the night starting 17:00 local on `day`.

    `n_connectors` defaults to one per vehicle (fewer means connector sharing); `site_kw` defaults to
    0.5 x n_vehicles x 60 kW as in data/reference/CHARGING.md.
    """
    rng = np.random.default_rng(seed)
    start = datetime.fromisoformat(day).replace(hour=17, tzinfo=SHENZHEN)
    end = start + timedelta(minutes=slot_minutes * n_slots)
    midnight = start.replace(hour=0) + timedelta(days=1)
    arrivals = rng.uniform(0, 5 * 60, n_vehicles)  # minutes after 17:00
    departures = rng.uniform(5.5 * 60, 8 * 60, n_vehicles)  # minutes after 00:00
    needs = rng.uniform(35.0, 90.0, n_vehicles)
    packs = rng.choice(PACKS_KWH, n_vehicles)
    vehicles = []
    for i in range(n_vehicles):
        pack = float(max(packs[i], needs[i] / 0.8 + 1))
        e0 = 0.2 * pack
        vehicles.append(
            Vehicle(
                id=f"粤B·D{10000 + i:05d}",
                arrival=start + timedelta(minutes=float(np.round(arrivals[i]))),
                departure=midnight + timedelta(minutes=float(np.round(departures[i]))),
                capacity_kwh=pack,
                energy_arrival_kwh=round(e0, 2),
                energy_target_kwh=round(min(pack, e0 + needs[i]), 2),
                max_kw=CHARGER_KW,
            )
        )
    count = n_vehicles if n_connectors is None else n_connectors
    connectors = tuple(
        Connector(id=f"DC{k + 1:04d}", max_kw=CHARGER_KW, efficiency=EFFICIENCY) for k in range(count)
    )
    tariff = tariff_from_json(
        {
            "id": tariff_id,
            "base_price": FLAT_PRICE,
            "demand_charge_per_kw_month": DEMAND_CHARGE,
            "month_peak_kw_so_far": 0.0,
            "demand_charge_proration": 1 / 30,
        }
    )
    return ChargingProblem(
        name=f"synthetic Shenzhen depot n={n_vehicles} connectors={count} seed={seed}",
        start=start,
        end=end,
        slot_minutes=slot_minutes,
        site=Site(import_limit_kw=0.5 * n_vehicles * CHARGER_KW if site_kw is None else site_kw),
        tariff=tariff,
        connectors=connectors,
        vehicles=tuple(vehicles),
    )
