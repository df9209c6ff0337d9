"""Synthetic Shenzhen-scale routing problems for the city benchmark (`evfleet bench routing-city`).

Deterministic for a seed: stops scattered around district centres, one depot, a mixed fleet of two electric
models and diesel trucks, two public charging stations. This is test data shaped like the lessor's business,
not a forecast. Where a number comes from the shipped reference data (`data/reference/`) the row is cited;
everything else is marked ASSUMPTION.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routing import problem as rp
from routing.matrix import DEFAULT_DETOUR_FACTOR, DEFAULT_URBAN_SPEED_KMH

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
"""Charger power [kW]: 60 kW per charger as in data/reference/CHARGING.md, section "evfleet sanity benchmark" (set-up);
public DC chargers are often faster, so this is conservative."""

FUTIAN_GREEN_ZONE = rp.AccessZone(
    "futian-green-logistics",
    ((114.043, 22.532), (114.067, 22.532), (114.067, 22.550), (114.043, 22.550)),
    (rp.AccessRule(kinds=(rp.VehicleKind.DIESEL,)),),
)
"""A green-logistics zone around Futian's centre, diesel trucks barred all day (lon, lat box, ~2.5 x 2 km).
The rule is sourced at grade ``secondary``: since 1 July 2018 Shenzhen has ten green logistics zones, one per
district (Futian central section among them), where light diesel goods vehicles are barred all day and
electric freight vehicles may drive (Shenzhen traffic police notice as reported by WRI/TheCityFix and
Chinese trade press). The polygon is an ASSUMPTION (the official boundary follows named roads)."""


@dataclass(frozen=True)
class CityFleet:
    """Vehicle counts of the city scenario (issue 3: 30 electric trucks of two models and 5 diesel)."""

    vans: int = 20
    trucks: int = 10
    diesel: int = 5


def _fleet(
    fleet: CityFleet, depot: str, shift_start: float, shift_end: float, initial_soc: float = 1.0
) -> tuple[rp.VehicleType, ...]:
    speed = DEFAULT_URBAN_SPEED_KMH
    van = rp.VehicleType(
        "ev-van",
        fleet.vans,
        payload_kg=1615.0,  # vehicles.csv farizon_v8e payload_kg_max
        start_depot=depot,
        battery=rp.Battery(
            capacity_kwh=65.0,  # vehicles.csv farizon_v8e battery_kwh_max
            consumption_empty_kwh_per_km=0.15,  # vehicles.csv plan_bev_van_2_5_3t energy_per_100km_low
            consumption_full_kwh_per_km=0.20,  # vehicles.csv plan_bev_van_2_5_3t energy_per_100km_high
            reserve_soc=0.15,  # issue 3: never below 10-15 %
            initial_soc=initial_soc,
        ),
        fixed_cost=0.0,
        cost_per_km=1.0,
        shift_start=shift_start,
        shift_end=shift_end,
        speed_kmh=speed,
    )
    truck = rp.VehicleType(
        "ev-truck",
        fleet.trucks,
        payload_kg=2000.0,  # ASSUMPTION: no payload in vehicles.csv for the 4.5 t class
        start_depot=depot,
        battery=rp.Battery(
            capacity_kwh=81.0,  # vehicles.csv farizon_h8e_h9e battery_kwh_min
            consumption_empty_kwh_per_km=0.25,  # vehicles.csv plan_bev_truck_4_5t energy_per_100km_low
            consumption_full_kwh_per_km=0.35,  # vehicles.csv plan_bev_truck_4_5t energy_per_100km_high
            reserve_soc=0.15,
            initial_soc=initial_soc,
        ),
        fixed_cost=0.0,
        cost_per_km=1.2,
        shift_start=shift_start,
        shift_end=shift_end,
        speed_kmh=speed,
    )
    diesel = rp.VehicleType(
        "diesel-truck",
        fleet.diesel,
        payload_kg=2000.0,  # ASSUMPTION, as the electric 4.5 t truck
        start_depot=depot,
        kind=rp.VehicleKind.DIESEL,
        diesel_l_per_100km=12.0,  # vehicles.csv refcase_diesel_4_5t
        fixed_cost=0.0,
        cost_per_km=1.5,
        shift_start=shift_start,
        shift_end=shift_end,
        speed_kmh=speed,
    )
    return tuple(v for v in (van, truck, diesel) if v.count > 0)


def shenzhen_problem(
    stops: int = 300,
    seed: int = 0,
    fleet: CityFleet = CityFleet(),
    objective: rp.Objective = rp.Objective.HIERARCHICAL,
    spread_km: float = 3.0,
    initial_soc: float = 1.0,
) -> rp.RoutingProblem:
    """One depot-day: `stops` deliveries around Shenzhen's districts, mixed fleet, two public stations.

    Demand and service time shrink with the number of stops so the same 35 vehicles can serve 300 or 1,000
    stops (ASSUMPTION: 300 stops ~ 150 kg / 10 min each, 1,000 stops ~ 45 kg / 5 min). Shift 08:00-18:00
    [min from midnight]; 40 % of stops have a 2-hour window, the rest any time in the shift. Partial
    recharging. Distances: great-circle x the default detour factor at the default urban speed.
    `initial_soc` < 1 (e.g. 0.35, trucks not recharged overnight) makes routes need en-route charging.
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
    mean_kg = 150.0 * scale**0.9
    service = max(5.0, 10.0 * scale**0.5)
    locations = [rp.Location(DEPOT[0], lat=DEPOT[1], lon=DEPOT[2])]
    locations += [rp.Location(sid, lat=la, lon=lo) for sid, la, lo in STATIONS]
    jobs = []
    for i in range(stops):
        lid = f"s{i:04d}"
        locations.append(rp.Location(lid, lat=float(lat[i]), lon=float(lon[i])))
        demand = float(np.clip(rng.gamma(2.0, mean_kg / 2.0), 5.0, 600.0).round())
        if rng.random() < 0.4:
            start = float(rng.integers(int(shift_start) + 60, int(shift_end) - 180) // 30 * 30)
            windows = (rp.TimeWindow(start, start + 120.0),)
        else:
            windows = (rp.TimeWindow(shift_start, shift_end),)
        jobs.append(rp.Job(lid, lid, demand_kg=demand, time_windows=windows, service_minutes=service))
    return rp.RoutingProblem(
        locations=tuple(locations),
        jobs=tuple(jobs),
        vehicle_types=_fleet(fleet, DEPOT[0], shift_start, shift_end, initial_soc),
        stations=tuple(rp.ChargingStation(sid, sid, STATION_POWER_KW) for sid, _, _ in STATIONS),
        recharge_policy=rp.RechargePolicy.PARTIAL,
        objective=objective,
        road_detour_factor=DEFAULT_DETOUR_FACTOR,
        name=f"shenzhen-{stops}-seed{seed}" + (f"-soc{initial_soc:g}" if initial_soc != 1.0 else ""),
    )


def random_problem(seed: int) -> rp.RoutingProblem:
    """A small random problem that exercises every rule the checker knows (fuzzing the solver).

    4-13 jobs on a plane or around Shenzhen; optional and multi-window jobs; 1-3 electric vehicles with
    load-dependent consumption, reserve and charge limits, sometimes a diesel truck; two stations; partial or
    full recharging; any objective. Many draws are tight on purpose, so unserved jobs are expected.
    """
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 14))
    geo = bool(rng.random() < 0.5)

    def loc(lid: str) -> rp.Location:
        if geo:
            return rp.Location(
                lid, lat=22.5 + float(rng.random()) * 0.3, lon=113.8 + float(rng.random()) * 0.4
            )
        return rp.Location(lid, x=float(rng.random() * 40), y=float(rng.random() * 40))

    locations = [loc("D"), loc("S1"), loc("S2")]
    jobs = []
    for k in range(n):
        locations.append(loc(f"L{k}"))
        windows: tuple[rp.TimeWindow, ...] = ()
        if rng.random() < 0.6:
            a = float(rng.integers(0, 400))
            windows = (rp.TimeWindow(a, a + float(rng.integers(30, 200))),)
            if rng.random() < 0.3:
                windows += (rp.TimeWindow(a + 300, a + 400),)
        jobs.append(
            rp.Job(
                f"j{k}",
                f"L{k}",
                float(rng.integers(10, 300)),
                windows,
                float(rng.integers(0, 20)),
                drop_penalty=None if rng.random() < 0.8 else 1000.0,
            )
        )
    ev = rp.VehicleType(
        "ev",
        int(rng.integers(1, 4)),
        800.0,
        "D",
        battery=rp.Battery(
            float(rng.choice([10.0, 20.0, 40.0])),
            0.2,
            float(rng.choice([0.2, 0.3, 0.4])),
            reserve_soc=float(rng.choice([0.0, 0.1, 0.15])),
            initial_soc=float(rng.choice([1.0, 0.8])),
            max_charge_kw=float(rng.choice([30.0, 60.0, 150.0])),
        ),
        fixed_cost=100.0,
        cost_per_km=1.0,
        cost_per_hour=20.0,
        shift_start=0.0,
        shift_end=float(rng.choice([600.0, 900.0])),
        max_duration_minutes=None if rng.random() < 0.7 else 400.0,
        speed_kmh=float(rng.choice([25.0, 40.0, 60.0])),
    )
    vehicles = [ev]
    if rng.random() < 0.5:
        vehicles.append(
            rp.VehicleType(
                "dz",
                1,
                1000.0,
                "D",
                kind=rp.VehicleKind.DIESEL,
                diesel_l_per_100km=12.0,
                cost_per_km=1.5,
                shift_end=900.0,
                speed_kmh=30.0,
            )
        )
    policy = rp.RechargePolicy.PARTIAL if rng.random() < 0.7 else rp.RechargePolicy.FULL
    objective = (rp.Objective.HIERARCHICAL, rp.Objective.DISTANCE, rp.Objective.COST)[int(rng.integers(0, 3))]
    return rp.RoutingProblem(
        tuple(locations),
        tuple(jobs),
        tuple(vehicles),
        stations=(rp.ChargingStation("S1", "S1", 60.0), rp.ChargingStation("S2", "S2", 120.0)),
        recharge_policy=policy,
        objective=objective,
        road_detour_factor=1.3 if geo else 1.0,
        name=f"fuzz-{seed}",
    )
