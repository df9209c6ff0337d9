"""Synthetic Shenzhen-scale routing problems for the city benchmark (`evfleet bench routing-city`).

Deterministic for a seed: stops scattered around district centres, one depot, a mixed fleet of two electric
models and diesel trucks, two public charging stations. This is test data shaped like the lessor's business,
not a forecast. Where a number comes from `shared/reference/` (shipped as `data/reference/`) the row is cited;
everything else is marked ASSUMPTION.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routing.matrix import DEFAULT_DETOUR_FACTOR, DEFAULT_URBAN_SPEED_KMH
from routing.problem import (
    Battery,
    ChargingStation,
    Job,
    Location,
    Objective,
    RechargePolicy,
    RoutingProblem,
    TimeWindow,
    VehicleKind,
    VehicleType,
)

# District centres (lat, lon) [deg], approximate public map coordinates; weights = share of stops. ASSUMPTION.
DISTRICTS: tuple[tuple[str, float, float, float], ...] = (
    ("Futian", 22.541, 114.055, 0.18),
    ("Luohu", 22.548, 114.131, 0.12),
    ("Nanshan", 22.533, 113.930, 0.16),
    ("Bao'an", 22.555, 113.883, 0.16),
    ("Longhua", 22.656, 114.045, 0.12),
    ("Longgang", 22.721, 114.247, 0.14),
    ("Guangming", 22.749, 113.936, 0.06),
    ("Pingshan", 22.690, 114.344, 0.06),
)
DEPOT = ("depot-fuyong", 22.666, 113.832)  # logistics parks near the airport, Bao'an. ASSUMPTION.
STATIONS = (("cs-longgang", 22.720, 114.240), ("cs-luohu", 22.560, 114.120))  # ASSUMPTION (locations).
STATION_POWER_KW = 60.0
"""Charger power [kW]: 60 kW per charger as in CHARGING.md, section "evfleet sanity benchmark" (set-up);
public DC chargers are often faster, so this is conservative."""


@dataclass(frozen=True)
class CityFleet:
    """Vehicle counts of the city scenario (issue 3: 30 electric trucks of two models and 5 diesel)."""

    vans: int = 20
    trucks: int = 10
    diesel: int = 5


def _fleet(fleet: CityFleet, depot: str, shift_start: float, shift_end: float) -> tuple[VehicleType, ...]:
    speed = DEFAULT_URBAN_SPEED_KMH
    van = VehicleType(
        "ev-van", fleet.vans,
        payload_kg=1615.0,  # vehicles.csv farizon_v8e payload_kg_max
        start_depot=depot,
        battery=Battery(
            capacity_kwh=65.0,  # vehicles.csv farizon_v8e battery_kwh_max
            consumption_empty_kwh_per_km=0.15,  # vehicles.csv plan_bev_van_2_5_3t energy_per_100km_low
            consumption_full_kwh_per_km=0.20,  # vehicles.csv plan_bev_van_2_5_3t energy_per_100km_high
            reserve_soc=0.15,  # issue 3: never below 10-15 %
            initial_soc=1.0,
        ),
        fixed_cost=0.0, cost_per_km=1.0, shift_start=shift_start, shift_end=shift_end, speed_kmh=speed,
    )
    truck = VehicleType(
        "ev-truck", fleet.trucks,
        payload_kg=2000.0,  # ASSUMPTION: no payload in vehicles.csv for the 4.5 t class
        start_depot=depot,
        battery=Battery(
            capacity_kwh=81.0,  # vehicles.csv farizon_h8e_h9e battery_kwh_min
            consumption_empty_kwh_per_km=0.25,  # vehicles.csv plan_bev_truck_4_5t energy_per_100km_low
            consumption_full_kwh_per_km=0.35,  # vehicles.csv plan_bev_truck_4_5t energy_per_100km_high
            reserve_soc=0.15,
            initial_soc=1.0,
        ),
        fixed_cost=0.0, cost_per_km=1.2, shift_start=shift_start, shift_end=shift_end, speed_kmh=speed,
    )
    diesel = VehicleType(
        "diesel-truck", fleet.diesel,
        payload_kg=2000.0,  # ASSUMPTION, as the electric 4.5 t truck
        start_depot=depot, kind=VehicleKind.DIESEL,
        diesel_l_per_100km=12.0,  # vehicles.csv refcase_diesel_4_5t
        fixed_cost=0.0, cost_per_km=1.5, shift_start=shift_start, shift_end=shift_end, speed_kmh=speed,
    )
    return tuple(v for v in (van, truck, diesel) if v.count > 0)


def shenzhen_problem(
    stops: int = 300,
    seed: int = 0,
    fleet: CityFleet = CityFleet(),
    objective: Objective = Objective.HIERARCHICAL,
    spread_km: float = 3.0,
) -> RoutingProblem:
    """One depot-day: `stops` deliveries around Shenzhen's districts, mixed fleet, two public stations.

    Demand and service time shrink with the number of stops so the same 35 vehicles can serve 300 or 1,000
    stops (ASSUMPTION: 300 stops ~ 150 kg / 10 min each, 1,000 stops ~ 45 kg / 5 min). Shift 08:00-18:00
    [min from midnight]; 40 % of stops have a 2-hour window, the rest any time in the shift. Partial
    recharging. Distances: great-circle x the default detour factor at the default urban speed.
    """
    if stops < 1:
        raise ValueError(f"stops must be >= 1, got {stops}")
    rng = np.random.default_rng(seed)
    shift_start, shift_end = 8 * 60.0, 18 * 60.0
    weights = np.array([d[3] for d in DISTRICTS])
    district = rng.choice(len(DISTRICTS), size=stops, p=weights / weights.sum())
    km_per_deg_lat = 111.2
    km_per_deg_lon = 111.2 * np.cos(np.radians(22.6))
    lat = np.array([DISTRICTS[d][1] for d in district]) + rng.normal(0, spread_km / km_per_deg_lat, stops)
    lon = np.array([DISTRICTS[d][2] for d in district]) + rng.normal(0, spread_km / km_per_deg_lon, stops)
    scale = min(1.0, 300.0 / stops)
    mean_kg = 150.0 * scale ** 0.9
    service = max(5.0, 10.0 * scale ** 0.5)
    locations = [Location(DEPOT[0], lat=DEPOT[1], lon=DEPOT[2])]
    locations += [Location(sid, lat=la, lon=lo) for sid, la, lo in STATIONS]
    jobs = []
    for i in range(stops):
        lid = f"s{i:04d}"
        locations.append(Location(lid, lat=float(lat[i]), lon=float(lon[i])))
        demand = float(np.clip(rng.gamma(2.0, mean_kg / 2.0), 5.0, 600.0).round())
        if rng.random() < 0.4:
            start = float(rng.integers(int(shift_start) + 60, int(shift_end) - 180) // 30 * 30)
            windows = (TimeWindow(start, start + 120.0),)
        else:
            windows = (TimeWindow(shift_start, shift_end),)
        jobs.append(Job(lid, lid, demand_kg=demand, time_windows=windows, service_minutes=service))
    return RoutingProblem(
        locations=tuple(locations),
        jobs=tuple(jobs),
        vehicle_types=_fleet(fleet, DEPOT[0], shift_start, shift_end),
        stations=tuple(ChargingStation(sid, sid, STATION_POWER_KW) for sid, _, _ in STATIONS),
        recharge_policy=RechargePolicy.PARTIAL,
        objective=objective,
        road_detour_factor=DEFAULT_DETOUR_FACTOR,
        name=f"shenzhen-{stops}-seed{seed}",
    )
