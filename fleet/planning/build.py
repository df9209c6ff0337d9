"""Turn a depot-day's inputs into the routing problem, and its routes into the overnight charging problem.

Pure functions. The planning policy (shifts, reserve, prices used to weigh the mixed fleet) lives in
`PlanningPolicy`, with every default's source or the word ASSUMPTION next to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from charging.month import optimiser_tariff
from charging.problem import ChargingProblem, Connector, Operability, PowerGroup, Site, Vehicle
from charging.tariff import tariff_from_json
from fleet.planning.inputs import LOCAL_TZ, DepotDayInputs, OrderIn, VehicleIn, local_midnight
from fleet.planning.realism import zones_with_stops
from routing import problem as rp
from routing.matrix import DEFAULT_DETOUR_FACTOR, DEFAULT_URBAN_SPEED_KMH
from routing.solution import RoutingSolution

DEPOT_LOCATION = "depot"
DEPOT_STATION = "depot-charger"


@dataclass(frozen=True)
class PlanningPolicy:
    """How a depot-day is planned. Defaults are operating assumptions, editable per run."""

    # Driver shifts [local hour] by lessee kind. ASSUMPTION: typical Shenzhen urban-delivery shifts
    # (cold chain starts before shops open; e-commerce delivers into the evening).
    shifts: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "parcel_courier": (7.0, 20.0),
            "cold_chain": (5.0, 18.0),
            "ecommerce": (8.0, 22.0),
            "other": (7.0, 20.0),
        }
    )
    # Floor of the usable battery window (issue 3: never below 10-15 %); the model's usable_fraction may raise it.
    reserve_soc: float = 0.15
    # Charge at departure the routes plan with (upper end of the usable window, kept below 100 % for the
    # battery's sake). ASSUMPTION.
    departure_soc: float = 0.95
    # Trucks on a route leave with at least this charge even when the route needs less: a buffer for ad-hoc
    # jobs, traffic and air-conditioning. ASSUMPTION (operators' rule of thumb; make it a lessee setting).
    min_departure_soc: float = 0.80
    # Vehicles idle tomorrow are still brought to this state of charge overnight. ASSUMPTION.
    idle_target_soc: float = 0.5
    # Default return and charge for a truck with no plan and no metered day. ASSUMPTION.
    default_return_hour: float = 19.0
    default_return_soc: float = 0.35
    # Weighing the mixed fleet (objective COST): a driver-day and an hour of driver time cost the same for
    # electric and diesel trucks; diesel burns fuel at this price. ASSUMPTIONS, except the fuel price:
    # vehicles.csv fuel_diesel_0_guangdong 7.5-8.0 CNY/L (unverified), midpoint.
    driver_day_cny: float = 300.0
    driver_hour_cny: float = 35.0
    diesel_cny_per_l: float = 7.75
    speed_kmh: float = DEFAULT_URBAN_SPEED_KMH
    road_detour_factor: float = DEFAULT_DETOUR_FACTOR
    slot_minutes: int = 15
    # Minutes before the route's departure by which charging must be finished (unplugging, pre-trip check).
    ready_before_departure_min: float = 15.0
    # Local dates on which the Guangzhou daily maximum is forecast >= 35 C (announced the evening before): the
    # critical-peak hours then apply outside July-September too (data/reference/tariffs.md).
    hot_days: tuple[dt.date, ...] = ()


HOT_DAY = "guangzhou_daily_max_ge_35C"  # the tariffs.json override condition the hot-day flag sets


def _minutes(t: dt.datetime, origin: dt.datetime) -> float:
    return (t - origin).total_seconds() / 60.0


def _reserve(v: VehicleIn, policy: PlanningPolicy) -> float:
    usable_floor = 1.0 - v.usable_fraction if v.usable_fraction else 0.0
    return max(policy.reserve_soc, usable_floor)


def order_job(o: OrderIn, origin: dt.datetime) -> tuple[rp.Location, rp.Job]:
    """An order as the routing job (id = the order's reference) and its location (id ``o<order id>``)."""
    loc = f"o{o.id}"
    job = rp.Job(
        id=o.ref,
        location=loc,
        demand_kg=o.demand_kg,
        time_windows=(rp.TimeWindow(_minutes(o.window_start, origin), _minutes(o.window_end, origin)),),
        service_minutes=o.service_minutes,
        required_kind=None
        if o.required_kind is None
        else (rp.VehicleKind.ELECTRIC if o.required_kind == "bev" else rp.VehicleKind.DIESEL),
        priority=max(1, o.priority + 1),
    )
    return rp.Location(loc, lat=o.lat, lon=o.lon), job


def routing_problem(inp: DepotDayInputs, policy: PlanningPolicy = PlanningPolicy()) -> rp.RoutingProblem:
    """One vehicle type per truck (id = plate), so every route names the truck that drives it."""
    origin = local_midnight(inp.service_date)
    shift_start, shift_end = policy.shifts.get(inp.lessee_kind, policy.shifts["other"])
    locations = [rp.Location(DEPOT_LOCATION, lat=inp.lat, lon=inp.lon)]
    jobs = []
    for o in inp.orders:
        loc, job = order_job(o, origin)
        locations.append(loc)
        jobs.append(job)
    energy_price = (
        inp.tariff_base_price
    )  # flat price per kWh for weighing only; the real cost is the schedule's
    types = []
    settings = inp.routing
    stations = ()
    if inp.connectors:
        stations = (
            rp.ChargingStation(
                DEPOT_STATION, DEPOT_LOCATION, max(c.max_kw for c in inp.connectors), public=False
            ),
        )
    # Trips, reloads and breaks (routing/problem.py 'Multi-trip', 'Driver breaks'); left at the library's defaults
    # when the depot does not use them, so such a problem is exactly the one built before migration 0018.
    realism: dict[str, object] = {}
    if settings.max_trips > 1:
        realism |= {"max_trips": settings.max_trips, "reload_minutes": settings.reload_minutes}
    if settings.driver_breaks:
        realism["break_rule"] = rp.BreakRule()
    for v in inp.vehicles:
        common = {
            "id": v.plate,
            "count": 1,
            "payload_kg": v.payload_kg,
            "start_depot": DEPOT_LOCATION,
            "fixed_cost": policy.driver_day_cny,
            "cost_per_hour": policy.driver_hour_cny,
            "shift_start": shift_start * 60,
            "shift_end": shift_end * 60,
            "speed_kmh": policy.speed_kmh,
            **realism,
        }
        if v.kind == "bev":
            if not (v.battery_kwh and v.consumption_empty):
                raise ValueError(
                    f"vehicle {v.plate}: a BEV needs battery_kwh and consumption_empty "
                    f"(got {v.battery_kwh!r}, {v.consumption_empty!r})"
                )
            types.append(
                rp.VehicleType(
                    **common,
                    kind=rp.VehicleKind.ELECTRIC,
                    battery=rp.Battery(
                        capacity_kwh=v.battery_kwh,
                        consumption_empty_kwh_per_km=v.consumption_empty,
                        consumption_full_kwh_per_km=v.consumption_full or v.consumption_empty,
                        reserve_soc=_reserve(v, policy),
                        initial_soc=policy.departure_soc,
                        max_charge_kw=v.max_charge_kw,
                    ),
                    cost_per_km=(v.consumption_full or v.consumption_empty) * energy_price,
                    # At a reload the truck charges at the depot's charger while it is loaded (the library's
                    # ASSUMPTION: chargers at the loading bays).
                    depot_charge_kw=stations[0].power_kw if stations and settings.max_trips > 1 else None,
                )
            )
        else:
            if v.diesel_l_per_100km is None:
                raise ValueError(f"vehicle {v.plate}: a diesel vehicle needs diesel_l_per_100km")
            types.append(
                rp.VehicleType(
                    **common,
                    kind=rp.VehicleKind.DIESEL,
                    diesel_l_per_100km=v.diesel_l_per_100km,
                    cost_per_km=v.diesel_l_per_100km / 100 * policy.diesel_cny_per_l,
                )
            )
    return rp.RoutingProblem(
        locations=tuple(locations),
        jobs=tuple(jobs),
        vehicle_types=tuple(types),
        stations=stations,
        recharge_policy=rp.RechargePolicy.PARTIAL,
        objective=rp.Objective.COST,
        road_detour_factor=policy.road_detour_factor,
        time_origin=origin,
        name=f"{inp.depot_code} {inp.service_date.isoformat()}",
        speed_profile=settings.profile,
        zones=zones_with_stops(settings.zones, locations[1:]),
    )


@dataclass(frozen=True)
class ChargingNeed:
    """One truck's overnight need: derived from tonight's return and tomorrow's route."""

    plate: str
    arrival: dt.datetime
    departure: dt.datetime
    capacity_kwh: float
    energy_arrival_kwh: float
    energy_target_kwh: float
    max_kw: float
    route_energy_kwh: float


def charging_needs(
    inp: DepotDayInputs,
    problem: rp.RoutingProblem,
    solution: RoutingSolution,
    policy: PlanningPolicy = PlanningPolicy(),
) -> list[ChargingNeed]:
    """Energy each electric truck must have at departure: its route's consumption plus the reserve, net of
    what it recharges on the way; idle trucks go to `idle_target_soc`. Never above the battery."""
    origin = local_midnight(inp.service_date)
    shift_start, _ = policy.shifts.get(inp.lessee_kind, policy.shifts["other"])
    routes = {r.vehicle_type: r for r in solution.routes if r.stops}
    needs = []
    for v in inp.vehicles:
        if v.kind != "bev" or not v.battery_kwh:
            continue
        battery = v.battery_kwh
        reserve = _reserve(v, policy) * battery
        route = routes.get(v.plate)
        if route is not None:
            # Lowest charge along the route relative to the departure charge = what the day really needs.
            soc0 = (
                route.soc_departure_kwh
                if route.soc_departure_kwh is not None
                else policy.departure_soc * battery
            )
            lows = [s.soc_arrival_kwh for s in route.stops if s.soc_arrival_kwh is not None]
            if route.soc_arrival_kwh is not None:
                lows.append(route.soc_arrival_kwh)
            need = soc0 - min(lows) if lows else route.energy_kwh
            target = min(
                battery * policy.departure_soc, max(reserve + need, policy.min_departure_soc * battery)
            )
            departure = origin + dt.timedelta(minutes=route.departure - policy.ready_before_departure_min)
            route_kwh = route.energy_kwh
        else:
            target = policy.idle_target_soc * battery
            departure = origin + dt.timedelta(hours=shift_start, minutes=-policy.ready_before_departure_min)
            route_kwh = 0.0
        arrival = v.return_at or (
            origin - dt.timedelta(days=1) + dt.timedelta(hours=policy.default_return_hour)
        )
        energy = v.energy_on_return_kwh
        if energy is None:
            energy = policy.default_return_soc * battery
        energy = min(max(energy, 0.0), battery)
        needs.append(
            ChargingNeed(
                v.plate,
                arrival,
                departure,
                battery,
                energy,
                max(target, min(energy, target)),
                v.max_charge_kw or 50.0,
                route_kwh,
            )
        )
    return needs


def _floor_slot(t: dt.datetime, minutes: int) -> dt.datetime:
    return t.replace(minute=(t.minute // minutes) * minutes, second=0, microsecond=0)


def base_load_profile(
    by_time_of_day: tuple[float, ...], start: dt.datetime, end: dt.datetime, step_minutes: int
) -> tuple[float, ...]:
    """The depot's base load [kW] per slot of the night from 24 hourly or 96 quarter-hourly values by local time of
    day (empty: none). The value in force at each slot's start is taken."""
    if not by_time_of_day:
        return ()
    if len(by_time_of_day) not in (24, 96):
        raise ValueError(
            f"base_load_kw: give 24 hourly or 96 quarter-hourly values, got {len(by_time_of_day)}"
        )
    per_hour = len(by_time_of_day) // 24
    out = []
    t = start
    while t < end:
        local = t.astimezone(LOCAL_TZ)
        out.append(float(by_time_of_day[local.hour * per_hour + local.minute * per_hour // 60]))
        t += dt.timedelta(minutes=step_minutes)
    return tuple(out)


def charging_problem(
    inp: DepotDayInputs, needs: list[ChargingNeed], policy: PlanningPolicy = PlanningPolicy()
) -> ChargingProblem | None:
    """The depot's overnight scenario (None when no electric truck stays overnight)."""
    if not needs or not inp.connectors:
        return None
    step = policy.slot_minutes
    start = _floor_slot(min(n.arrival for n in needs), step)
    last = max(n.departure for n in needs)
    end = _floor_slot(last, step)
    if end < last:
        end += dt.timedelta(minutes=step)
    tariff = tariff_from_json(
        {
            "id": inp.tariff_reference_id,
            "base_price": inp.tariff_base_price,
            "adder": inp.funds_cny_per_kwh,
            "conditions": {HOT_DAY: [d.isoformat() for d in policy.hot_days]} if policy.hot_days else {},
        }
    )
    # The demand charge the night's optimiser prices: the depot's maximum-demand rate and contract where they are
    # billed (not on single-part, capacity basis or the charging-facility exemption), above the month's peak so far.
    night = start.astimezone(LOCAL_TZ).date()
    tariff = optimiser_tariff(tariff, inp.billing, night.replace(day=1), inp.month_peak_kw_so_far)
    vehicles = tuple(
        Vehicle(
            id=n.plate,
            arrival=n.arrival,
            departure=n.departure,
            capacity_kwh=n.capacity_kwh,
            energy_arrival_kwh=n.energy_arrival_kwh,
            energy_target_kwh=n.energy_target_kwh,
            max_kw=n.max_kw,
        )
        for n in needs
    )
    return ChargingProblem(
        start=start,
        end=end,
        slot_minutes=step,
        site=Site(
            import_limit_kw=inp.grid_import_limit_kw,
            base_load_kw=base_load_profile(inp.base_load_kw, start, end, step),
        ),
        tariff=tariff,
        vehicles=vehicles,
        connectors=tuple(Connector(c.code, c.max_kw, c.efficiency, c.v2g, c.group) for c in inp.connectors),
        groups=tuple(PowerGroup(code, kw) for code, kw in inp.groups),
        name=f"{inp.depot_code} night before {inp.service_date.isoformat()}",
        operability=Operability(max_power_changes=inp.max_power_changes, min_charge_kw=inp.min_charge_kw),
        shortfall_policy=inp.shortfall_policy,
    )
