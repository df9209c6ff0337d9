"""Typed, validated input of one routing problem (one planning horizon, one or more depots).

Public units: distance [km], energy [kWh], power [kW], mass [kg], time [min] counted from the problem's
time origin (``RoutingProblem.time_origin``, an optional datetime used only for display), money in the
problem's currency (e.g. [CNY]). The solver converts to integers internally; the public API stays in
these units.

Semantics (the independent checker re-implements exactly these rules):

Travel
    Distance between two locations comes from ``RoutingProblem.distance_km`` when given; otherwise from
    planar coordinates (Euclidean distance of ``x``/``y``, read as [km]) or from latitude/longitude
    (great-circle distance on a sphere of radius 6371.0088 km, times ``road_detour_factor``). All locations
    of a problem use the same kind of coordinates. Travel time is ``travel_minutes[i][j]`` when that matrix
    is given (the same for every vehicle), else ``distance_km / vehicle.speed_kmh * 60``.

Time
    A vehicle leaves its start depot at any time at or after ``shift_start`` (the solver chooses; waiting
    at the depot is free). ``arrival(j) = departure(i) + travel(i, j)`` (with a speed profile: see
    'Time-dependent travel'). At a job, service may start at
    ``max(arrival, window.start)`` for a window with ``window.start <= service_start <= window.end``
    (time windows bound the START of service; waiting before a window is allowed; with several windows the
    earliest feasible one is used; access zones may delay it further, see 'Access zones').
    ``departure = service_start + service_minutes``. The vehicle must arrive
    at its end depot no later than ``shift_end``, and ``return - departure_from_depot <= max_duration_minutes``
    when that is set.

Time-dependent travel (``RoutingProblem.speed_profile``, optional)
    The model of Ichoua, Gendreau & Potvin (2003, European Journal of Operational Research 144:379-396): the
    day is cut into periods with a constant speed factor each; on an arc the vehicle covers its free-flow
    travel time (``travel(i, j)`` above, at factor 1) at rate ``factor(clock)`` per minute, so travel time is
    obtained by integrating over the periods crossed, and leaving later never means arriving earlier
    (first-in-first-out, by construction). Clock time: problem minute ``t`` is the time of day
    ``(origin + t) mod 1440`` [min], with ``origin`` the hour and minute of ``time_origin`` (midnight when
    ``time_origin`` is None). Waiting: a vehicle leaves the depot when the solution says (a decision) and
    leaves every stop as soon as its service (or charge) ends; waiting elsewhere to avoid a slow period is
    not modelled and, by first-in-first-out, could never make a later arrival earlier. Energy stays a
    function of distance only. Without a profile travel is exactly as above.

Access zones (``RoutingProblem.zones``, optional)
    A zone is a polygon in the problem's coordinates (planar ``x``/``y``, or ``lon``/``lat`` degrees read as
    a plane, fine at city scale); a point on the boundary is inside. Each ``AccessRule`` bars the vehicles
    it matches (by kind, and by vehicle type id when it lists some) from SERVING a stop inside the zone while
    the clock time of the service START is in one of its barred periods (half-open ``[start, end)`` minutes
    of the day; none listed = all day). A stop is open to a vehicle at time ``t`` iff no rule of any zone
    containing the stop bars it then. Like a time window, a closed zone makes the vehicle wait: service
    starts at the earliest ``t >= arrival`` inside a window and open to the vehicle. Arcs merely passing
    through a zone are not restricted (no road geometry is modelled). Stations and depots are not restricted.

Load (deliveries only)
    Every job's demand is loaded at the start depot and dropped at the job. Load on departure from the depot
    is the sum of the route's demands and must not exceed ``payload_kg``; load after a stop is the load before
    it minus the stop's demand.

Energy (electric vehicles)
    Energy is consumed while driving an arc: ``kWh = km * (consumption_empty + (consumption_full -
    consumption_empty) * load_on_arc / payload_kg)`` with ``load_on_arc`` the load carried on that arc.
    The state of charge (SoC) leaves the start depot at ``initial_soc * capacity_kwh`` and on ARRIVAL at every
    node (job, station, end depot) must be ``>= reserve_soc * capacity_kwh`` (the usable window's floor).
    SoC never exceeds ``capacity_kwh``.

Charging (stations)
    Charging starts on arrival at a station (no waiting, no time window) at constant power
    ``min(station.power_kw, vehicle.max_charge_kw)``; ``charging_minutes = energy_kwh / power_kw * 60``;
    departure = arrival + charging_minutes. A station may be visited several times, also consecutively, by any
    vehicle (connectors are not a shared resource here). ``RechargePolicy.PARTIAL``: the vehicle takes any
    amount ``0 <= energy <= capacity_kwh - soc_arrival`` (the solver takes what the rest of the route needs).
    ``RechargePolicy.FULL`` (E-VRPTW benchmark convention): every station visit charges to ``capacity_kwh``,
    taking ``(capacity_kwh - soc_arrival) / power * 60`` minutes, i.e. ``g * (Q - charge on arrival)``.
    Diesel vehicles never visit stations; they burn ``km * diesel_l_per_100km / 100`` litres.

Multi-trip (reloads at the depot)
    A vehicle type with ``max_trips = m > 1`` may come back to its START depot (its ``reload_depot`` when set:
    a route that continues a day from where a truck is, ``routing.replan``) up to ``m - 1`` times during the
    route to reload (a ``RELOAD`` stop, whose ``id`` and ``location`` are that depot's location id; a
    reload anywhere else is a violation) and go out again; ``max_trips = 1`` (the default) is the single-trip
    route above. The stops between two reloads (or between the depot departure / the end depot and a reload)
    form a TRIP. Load: the demands of a trip's jobs are loaded at the depot (on departure or at the reload
    that starts the trip); ``load_kg`` on departure from a reload is the sum of the next trip's demands, and
    every trip's load must not exceed ``payload_kg``. Time at a reload: the vehicle takes ``reload_minutes``
    there; an electric type with ``depot_charge_kw`` set may charge any amount ``0 <= energy <= capacity_kwh -
    soc_arrival`` (the solution's decision, as under ``RechargePolicy.PARTIAL`` whatever the policy) at
    constant power ``min(depot_charge_kw, max_charge_kw)``, WHILE it is reloaded (ASSUMPTION: the depot's
    chargers are at the loading bays), so ``departure = arrival + max(reload_minutes, charging_minutes)``.
    Without ``depot_charge_kw`` a reload charges nothing. SoC on arrival at a reload must be ``>= reserve``.
    ``shift_end``/``max_duration_minutes`` bound the whole route (all trips: one driver's day).

Driver breaks (``VehicleType.break_rule``)
    China's road-traffic rule for drivers: no more than 4 h of continuous driving without stopping to rest
    for at least 20 minutes (道路交通安全法实施条例 第六十二条 第（七）项: "连续驾驶机动车超过4小时未停车休息
    或者停车休息时间少于20分钟"; Regulations for the Implementation of the Road Traffic Safety Law of the
    PRC, State Council Decree No. 405 of 2004, art. 62 item 7). ``BreakRule()`` holds those figures
    (``max_driving_minutes = 240``, ``min_rest_minutes = 20``). What counts:
    DRIVING = the travel minutes of the arcs driven (``travel(i, j)`` of 'Travel'); service, waiting,
    charging and reloading are not driving. REST = a ``BREAK`` stop lasting at least ``min_rest_minutes``;
    nothing else counts as rest (ASSUMPTION, the conservative reading of "停车休息": service and reloading
    are work, and a plan should tell the driver when to rest; a driver who rests while charging records a
    BREAK stop). A ``BREAK`` stop is taken where the vehicle is (its ``location`` is that of the preceding
    stop, or the start depot), starts on arrival there (``arrival = service_start`` = the preceding
    departure; it adds no distance) and its length ``departure - arrival`` [min] is the solution's decision.
    Continuous driving is the sum of travel minutes since the route's start (the driver starts rested, or
    with the vehicle type's ``driving_at_start_minutes`` already driven: a route that continues a day) or
    since the last BREAK of at least ``min_rest_minutes``; it must be ``<= max_driving_minutes`` on arrival
    at every stop and at the end depot (breaks are taken at stops, not on the road, so an arc longer than the
    limit cannot be driven). BREAK stops are allowed on any vehicle; they shift the later times.

Costs and objective
    Route cost = ``fixed_cost`` (if the vehicle is used) + ``cost_per_km * km`` + ``cost_per_hour * hours``
    from depot departure to depot return. ``Objective.HIERARCHICAL``: fewest vehicles, then least total
    distance. ``Objective.DISTANCE``: least total distance. ``Objective.COST``: least total route cost. In
    every objective serving jobs comes first: a job is left unserved only if it cannot be served (reported
    with a reason) or if its ``drop_penalty`` is lower than what serving it costs (optional jobs).

Benchmark mapping (Solomon, Schneider E-VRPTW): a distance unit is read as 1 km and a time unit as 1 min, so
``speed_kmh = 60 * v``; energy units are kWh with ``consumption_empty = consumption_full = r``; a station's
``power_kw = 60 / g`` reproduces a recharge time of ``g`` minutes per kWh; ``reserve_soc = 0``,
``initial_soc = 1``, ``RechargePolicy.FULL``.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class VehicleKind(str, Enum):
    """Drive train of a vehicle type."""

    ELECTRIC = "electric"
    DIESEL = "diesel"


class RechargePolicy(str, Enum):
    """How much energy a station visit adds (see module docstring, 'Charging')."""

    PARTIAL = "partial"
    FULL = "full"


class Objective(str, Enum):
    """What the search minimises after serving every servable job."""

    HIERARCHICAL = "hierarchical"
    DISTANCE = "distance"
    COST = "cost"


def _fail(obj: str, fld: str, value: object, why: str) -> None:
    raise ValueError(f"{obj}: field '{fld}' = {value!r}: {why}")


def _finite(
    obj: str, fld: str, value: float, *, minimum: float | None = None, positive: bool = False
) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        _fail(obj, fld, value, "must be a finite number")
    if positive and value <= 0:
        _fail(obj, fld, value, "must be > 0")
    if minimum is not None and value < minimum:
        _fail(obj, fld, value, f"must be >= {minimum}")


def _nonempty_id(obj: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        _fail(obj, "id", value, "must be a non-empty string")


@dataclass(frozen=True)
class Location:
    """A place: planar ``x``/``y`` [km] or ``lat``/``lon`` [deg] (or neither when a matrix is given)."""

    id: str
    x: float | None = None
    y: float | None = None
    lat: float | None = None
    lon: float | None = None

    def __post_init__(self) -> None:
        _nonempty_id("Location", self.id)
        obj = f"Location {self.id!r}"
        planar = self.x is not None or self.y is not None
        geo = self.lat is not None or self.lon is not None
        if planar and geo:
            _fail(obj, "x/lat", (self.x, self.lat), "give planar x/y or lat/lon, not both")
        if planar:
            if self.x is None or self.y is None:
                _fail(obj, "x/y", (self.x, self.y), "both x and y are needed")
            _finite(obj, "x", self.x)  # type: ignore[arg-type]
            _finite(obj, "y", self.y)  # type: ignore[arg-type]
        if geo:
            if self.lat is None or self.lon is None:
                _fail(obj, "lat/lon", (self.lat, self.lon), "both lat and lon are needed")
            _finite(obj, "lat", self.lat)  # type: ignore[arg-type]
            _finite(obj, "lon", self.lon)  # type: ignore[arg-type]
            if not -90.0 <= self.lat <= 90.0:  # type: ignore[operator]
                _fail(obj, "lat", self.lat, "must lie in [-90, 90]")
            if not -180.0 <= self.lon <= 180.0:  # type: ignore[operator]
                _fail(obj, "lon", self.lon, "must lie in [-180, 180]")

    @property
    def coordinate_kind(self) -> str:
        """'planar', 'geo' or 'none'."""
        if self.x is not None:
            return "planar"
        if self.lat is not None:
            return "geo"
        return "none"


@dataclass(frozen=True)
class TimeWindow:
    """Interval for the START of service [min from the time origin]; both ends inclusive."""

    start: float
    end: float

    def __post_init__(self) -> None:
        _finite("TimeWindow", "start", self.start)
        _finite("TimeWindow", "end", self.end)
        if self.end < self.start:
            _fail("TimeWindow", "end", self.end, f"must be >= start ({self.start})")


@dataclass(frozen=True)
class Job:
    """A delivery: ``demand_kg`` loaded at the depot, dropped at ``location`` during a time window.

    ``drop_penalty`` None means mandatory (the solver still reports it unserved, with a reason, when no
    vehicle can serve it). A number makes the job optional: it may be skipped at that cost [currency, or km
    for the DISTANCE/HIERARCHICAL objectives]. ``priority`` (>= 1) multiplies the solver's internal penalty
    for leaving a mandatory job unserved, so higher-priority jobs are dropped last when capacity is short.
    ``required_kind`` restricts the job to electric or diesel vehicles.
    """

    id: str
    location: str
    demand_kg: float = 0.0
    time_windows: tuple[TimeWindow, ...] = ()
    service_minutes: float = 0.0
    required_kind: VehicleKind | None = None
    drop_penalty: float | None = None
    priority: int = 1

    def __post_init__(self) -> None:
        _nonempty_id("Job", self.id)
        obj = f"Job {self.id!r}"
        if not isinstance(self.location, str) or not self.location:
            _fail(obj, "location", self.location, "must be a location id")
        _finite(obj, "demand_kg", self.demand_kg, minimum=0.0)
        _finite(obj, "service_minutes", self.service_minutes, minimum=0.0)
        if not isinstance(self.time_windows, tuple) or not all(
            isinstance(w, TimeWindow) for w in self.time_windows
        ):
            _fail(obj, "time_windows", self.time_windows, "must be a tuple of TimeWindow")
        ordered = sorted(self.time_windows, key=lambda w: w.start)
        for a, b in itertools.pairwise(ordered):
            if b.start <= a.end:
                _fail(obj, "time_windows", self.time_windows, "windows must not overlap")
        if self.required_kind is not None and not isinstance(self.required_kind, VehicleKind):
            _fail(obj, "required_kind", self.required_kind, "must be a VehicleKind or None")
        if self.drop_penalty is not None:
            _finite(obj, "drop_penalty", self.drop_penalty, minimum=0.0)
        if isinstance(self.priority, bool) or not isinstance(self.priority, int) or self.priority < 1:
            _fail(obj, "priority", self.priority, "must be an integer >= 1")

    @functools.cached_property
    def windows_sorted(self) -> tuple[TimeWindow, ...]:
        # cached: the feasibility scans of routing.construct call it millions of times
        return tuple(sorted(self.time_windows, key=lambda w: w.start))


@dataclass(frozen=True)
class Battery:
    """Electric drive train of a vehicle type.

    ``consumption_full_kwh_per_km`` applies at full payload, ``consumption_empty_kwh_per_km`` empty; in
    between the rate is linear in the load carried. ``reserve_soc`` is the floor of the usable window as a
    fraction of ``capacity_kwh`` (e.g. 0.10-0.15 in operations, 0 for the benchmarks). ``initial_soc`` is the
    charge at departure as a fraction. ``max_charge_kw`` None means the station's power is the limit.
    """

    capacity_kwh: float
    consumption_empty_kwh_per_km: float
    consumption_full_kwh_per_km: float | None = None
    reserve_soc: float = 0.0
    initial_soc: float = 1.0
    max_charge_kw: float | None = None

    def __post_init__(self) -> None:
        obj = "Battery"
        _finite(obj, "capacity_kwh", self.capacity_kwh, positive=True)
        _finite(obj, "consumption_empty_kwh_per_km", self.consumption_empty_kwh_per_km, positive=True)
        if self.consumption_full_kwh_per_km is not None:
            _finite(obj, "consumption_full_kwh_per_km", self.consumption_full_kwh_per_km, positive=True)
            if self.consumption_full_kwh_per_km < self.consumption_empty_kwh_per_km:
                _fail(
                    obj,
                    "consumption_full_kwh_per_km",
                    self.consumption_full_kwh_per_km,
                    f"must be >= consumption_empty_kwh_per_km ({self.consumption_empty_kwh_per_km})",
                )
        _finite(obj, "reserve_soc", self.reserve_soc, minimum=0.0)
        if self.reserve_soc >= 1.0:
            _fail(obj, "reserve_soc", self.reserve_soc, "must be a fraction below 1")
        _finite(obj, "initial_soc", self.initial_soc, minimum=0.0)
        if self.initial_soc > 1.0:
            _fail(obj, "initial_soc", self.initial_soc, "must be a fraction <= 1")
        if self.initial_soc < self.reserve_soc:
            _fail(obj, "initial_soc", self.initial_soc, f"must be >= reserve_soc ({self.reserve_soc})")
        if self.max_charge_kw is not None:
            _finite(obj, "max_charge_kw", self.max_charge_kw, positive=True)

    @property
    def full_rate(self) -> float:
        """Consumption at full payload [kWh/km]."""
        c = self.consumption_full_kwh_per_km
        return self.consumption_empty_kwh_per_km if c is None else c

    def rate(self, load_kg: float, payload_kg: float) -> float:
        """Consumption with ``load_kg`` on board [kWh/km]."""
        share = 0.0 if payload_kg <= 0 else min(max(load_kg / payload_kg, 0.0), 1.0)
        e0 = self.consumption_empty_kwh_per_km
        return e0 + (self.full_rate - e0) * share

    @property
    def reserve_kwh(self) -> float:
        return self.reserve_soc * self.capacity_kwh

    @property
    def initial_kwh(self) -> float:
        return self.initial_soc * self.capacity_kwh


@dataclass(frozen=True)
class BreakRule:
    """Continuous-driving limit of the module docstring ('Driver breaks') [min].

    The defaults are China's rule (道路交通安全法实施条例 第六十二条 第（七）项): at most 240 min of
    continuous driving, then a rest of at least 20 min.
    """

    max_driving_minutes: float = 240.0
    min_rest_minutes: float = 20.0

    def __post_init__(self) -> None:
        _finite("BreakRule", "max_driving_minutes", self.max_driving_minutes, positive=True)
        _finite("BreakRule", "min_rest_minutes", self.min_rest_minutes, positive=True)


@dataclass(frozen=True)
class VehicleType:
    """``count`` identical vehicles. Electric types carry a ``battery``, diesel types ``diesel_l_per_100km``.

    Shift times are [min from the time origin]; ``shift_end`` None means no limit. ``end_depot`` None means
    back to ``start_depot``. ``speed_kmh`` converts distance to travel time when the problem has no time matrix.
    ``max_trips`` (>= 1), ``reload_minutes`` [min] and ``depot_charge_kw`` [kW] describe reloads at the start
    depot, ``break_rule`` the drivers' continuous-driving limit (module docstring, 'Multi-trip' and 'Driver
    breaks'); the defaults (1 trip, no rule) are the plain single-trip route. ``reload_depot`` (None: the start
    depot) and ``driving_at_start_minutes`` [min] describe a route that continues a day already under way (a
    re-plan, ``routing.replan``): where its reloads happen, and the continuous driving done before it starts.
    """

    id: str
    count: int
    payload_kg: float
    start_depot: str
    kind: VehicleKind = VehicleKind.ELECTRIC
    battery: Battery | None = None
    diesel_l_per_100km: float | None = None
    end_depot: str | None = None
    fixed_cost: float = 0.0
    cost_per_km: float = 0.0
    cost_per_hour: float = 0.0
    shift_start: float = 0.0
    shift_end: float | None = None
    max_duration_minutes: float | None = None
    speed_kmh: float = 60.0
    max_trips: int = 1
    reload_minutes: float = 0.0
    depot_charge_kw: float | None = None
    break_rule: BreakRule | None = None
    reload_depot: str | None = None
    driving_at_start_minutes: float = 0.0

    def __post_init__(self) -> None:
        _nonempty_id("VehicleType", self.id)
        obj = f"VehicleType {self.id!r}"
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 0:
            _fail(obj, "count", self.count, "must be an integer >= 0")
        _finite(obj, "payload_kg", self.payload_kg, minimum=0.0)
        if not isinstance(self.kind, VehicleKind):
            _fail(obj, "kind", self.kind, "must be VehicleKind.ELECTRIC or VehicleKind.DIESEL")
        if self.kind is VehicleKind.ELECTRIC:
            if not isinstance(self.battery, Battery):
                _fail(obj, "battery", self.battery, "an electric vehicle type needs a Battery")
            if self.diesel_l_per_100km is not None:
                _fail(obj, "diesel_l_per_100km", self.diesel_l_per_100km, "only for diesel vehicle types")
        else:
            if self.battery is not None:
                _fail(obj, "battery", self.battery, "a diesel vehicle type has no battery")
            if self.diesel_l_per_100km is None:
                _fail(obj, "diesel_l_per_100km", None, "a diesel vehicle type needs its consumption")
            _finite(obj, "diesel_l_per_100km", self.diesel_l_per_100km, minimum=0.0)  # type: ignore[arg-type]
        for name in ("fixed_cost", "cost_per_km", "cost_per_hour"):
            _finite(obj, name, getattr(self, name), minimum=0.0)
        _finite(obj, "shift_start", self.shift_start)
        if self.shift_end is not None:
            _finite(obj, "shift_end", self.shift_end)
            if self.shift_end < self.shift_start:
                _fail(obj, "shift_end", self.shift_end, f"must be >= shift_start ({self.shift_start})")
        if self.max_duration_minutes is not None:
            _finite(obj, "max_duration_minutes", self.max_duration_minutes, positive=True)
        _finite(obj, "speed_kmh", self.speed_kmh, positive=True)
        if isinstance(self.max_trips, bool) or not isinstance(self.max_trips, int) or self.max_trips < 1:
            _fail(obj, "max_trips", self.max_trips, "must be an integer >= 1")
        _finite(obj, "reload_minutes", self.reload_minutes, minimum=0.0)
        if self.depot_charge_kw is not None:
            _finite(obj, "depot_charge_kw", self.depot_charge_kw, positive=True)
            if self.kind is not VehicleKind.ELECTRIC:
                _fail(obj, "depot_charge_kw", self.depot_charge_kw, "only for electric vehicle types")
        if self.break_rule is not None and not isinstance(self.break_rule, BreakRule):
            _fail(obj, "break_rule", self.break_rule, "must be a BreakRule or None")
        if self.reload_depot is not None and (
            not isinstance(self.reload_depot, str) or not self.reload_depot
        ):
            _fail(obj, "reload_depot", self.reload_depot, "must be a location id or None")
        _finite(obj, "driving_at_start_minutes", self.driving_at_start_minutes, minimum=0.0)

    @property
    def is_electric(self) -> bool:
        return self.kind is VehicleKind.ELECTRIC

    @property
    def end(self) -> str:
        return self.end_depot or self.start_depot

    @property
    def reload_at(self) -> str:
        """Location id of the reloads (module docstring, 'Multi-trip')."""
        return self.reload_depot or self.start_depot


@dataclass(frozen=True)
class ChargingStation:
    """A charger at ``location`` with connector power ``power_kw`` (``public`` or at a ``depot``)."""

    id: str
    location: str
    power_kw: float
    public: bool = True

    def __post_init__(self) -> None:
        _nonempty_id("ChargingStation", self.id)
        obj = f"ChargingStation {self.id!r}"
        if not isinstance(self.location, str) or not self.location:
            _fail(obj, "location", self.location, "must be a location id")
        _finite(obj, "power_kw", self.power_kw, positive=True)


DAY_MINUTES = 1440.0
"""Length of the cycle of speed profiles and access rules [min]."""


@dataclass(frozen=True)
class SpeedProfile:
    """Piecewise-constant speed factors over the day (Ichoua, Gendreau & Potvin 2003; see the module docstring).

    ``periods``: ``(start minute of day, factor)`` pairs, the first at minute 0, starts strictly increasing
    below 1440; each factor (> 0) multiplies the free-flow speed until the next start (the last until 1440,
    after which the day repeats).
    """

    periods: tuple[tuple[float, float], ...]
    name: str = "profile"

    def __post_init__(self) -> None:
        obj = f"SpeedProfile {self.name!r}"
        periods = tuple((float(a), float(f)) for a, f in self.periods)
        object.__setattr__(self, "periods", periods)
        if not periods:
            _fail(obj, "periods", periods, "at least one period is needed")
        if periods[0][0] != 0.0:
            _fail(obj, "periods", periods[0], "the first period must start at minute 0")
        for a, f in periods:
            _finite(obj, "periods.start", a, minimum=0.0)
            _finite(obj, "periods.factor", f, positive=True)
            if a >= DAY_MINUTES:
                _fail(obj, "periods.start", a, "must be below 1440 (minutes of the day)")
        for (a, _), (b, _) in itertools.pairwise(periods):
            if b <= a:
                _fail(obj, "periods", (a, b), "starts must be strictly increasing")

    @property
    def slowest(self) -> float:
        """Smallest factor of the day (the model's conservative bound)."""
        return min(f for _, f in self.periods)


@dataclass(frozen=True)
class AccessRule:
    """Bars the matching vehicles from serving a stop in the zone during ``barred`` (see the module docstring).

    ``kinds``: the vehicle kinds it applies to (empty = every kind); ``vehicle_types``: if not empty, only
    these vehicle type ids (of those kinds). ``barred``: periods ``[start, end)`` in minutes of the day
    (``TimeWindow`` used as a pair; ``end`` <= 1440; split a period across midnight in two); empty = all day.
    """

    kinds: tuple[VehicleKind, ...] = ()
    vehicle_types: tuple[str, ...] = ()
    barred: tuple[TimeWindow, ...] = ()

    def __post_init__(self) -> None:
        obj = "AccessRule"
        object.__setattr__(self, "kinds", tuple(VehicleKind(k) for k in self.kinds))
        object.__setattr__(self, "vehicle_types", tuple(self.vehicle_types))
        object.__setattr__(self, "barred", tuple(self.barred))
        for w in self.barred:
            if not isinstance(w, TimeWindow):
                _fail(obj, "barred", w, "must be TimeWindow periods")
            if w.start < 0 or w.end > DAY_MINUTES or w.end <= w.start:
                _fail(obj, "barred", (w.start, w.end), "must satisfy 0 <= start < end <= 1440")

    def applies_to(self, vt: VehicleType) -> bool:
        """Whether the rule concerns vehicles of type ``vt``."""
        if self.kinds and vt.kind not in self.kinds:
            return False
        return not self.vehicle_types or vt.id in self.vehicle_types


@dataclass(frozen=True)
class AccessZone:
    """A polygon (``(x, y)`` planar [km] or ``(lon, lat)`` [deg] vertices, at least 3, not closed) with rules."""

    id: str
    polygon: tuple[tuple[float, float], ...]
    rules: tuple[AccessRule, ...]

    def __post_init__(self) -> None:
        _nonempty_id("AccessZone", self.id)
        obj = f"AccessZone {self.id!r}"
        poly = tuple((float(a), float(b)) for a, b in self.polygon)
        object.__setattr__(self, "polygon", poly)
        object.__setattr__(self, "rules", tuple(self.rules))
        if len(poly) < 3:
            _fail(obj, "polygon", len(poly), "needs at least 3 vertices")
        for a, b in poly:
            _finite(obj, "polygon", a)
            _finite(obj, "polygon", b)
        if not all(isinstance(r, AccessRule) for r in self.rules):
            _fail(obj, "rules", self.rules, "must be a tuple of AccessRule")


Matrix = tuple[tuple[float, ...], ...]


def _as_matrix(name: str, m: Sequence[Sequence[float]] | None, n: int) -> Matrix | None:
    if m is None:
        return None
    rows = tuple(tuple(float(v) for v in row) for row in m)
    if len(rows) != n or any(len(r) != n for r in rows):
        _fail("RoutingProblem", name, f"{len(rows)} rows", f"must be {n} x {n} (one row per location)")
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if not math.isfinite(v) or v < 0:
                _fail("RoutingProblem", f"{name}[{i}][{j}]", v, "must be a finite number >= 0")
    return rows


@dataclass(frozen=True)
class RoutingProblem:
    """Everything the solver needs; ids must be unique within each collection.

    ``distance_km`` / ``travel_minutes`` are optional full matrices indexed like ``locations``.
    ``road_detour_factor`` scales great-circle distance for lat/lon locations (1.0 = none).
    ``speed_profile`` (time-dependent travel) and ``zones`` (access rules): see the module docstring.
    """

    locations: tuple[Location, ...]
    jobs: tuple[Job, ...]
    vehicle_types: tuple[VehicleType, ...]
    stations: tuple[ChargingStation, ...] = ()
    recharge_policy: RechargePolicy = RechargePolicy.PARTIAL
    objective: Objective = Objective.HIERARCHICAL
    distance_km: Matrix | None = None
    travel_minutes: Matrix | None = None
    road_detour_factor: float = 1.0
    time_origin: datetime | None = None
    name: str = "problem"
    speed_profile: SpeedProfile | None = None
    zones: tuple[AccessZone, ...] = ()
    _index: dict[str, int] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        obj = f"RoutingProblem {self.name!r}"
        for fname, typ in (
            ("locations", Location),
            ("jobs", Job),
            ("vehicle_types", VehicleType),
            ("stations", ChargingStation),
        ):
            value = getattr(self, fname)
            if isinstance(value, list):
                value = tuple(value)
                object.__setattr__(self, fname, value)
            if not isinstance(value, tuple) or not all(isinstance(v, typ) for v in value):
                _fail(obj, fname, type(value).__name__, f"must be a tuple of {typ.__name__}")
            seen: set[str] = set()
            for v in value:
                if v.id in seen:
                    _fail(obj, fname, v.id, "duplicate id")
                seen.add(v.id)
        if not self.locations:
            _fail(obj, "locations", (), "at least one location (the depot) is needed")
        if not self.vehicle_types:
            _fail(obj, "vehicle_types", (), "at least one vehicle type is needed")
        if not isinstance(self.recharge_policy, RechargePolicy):
            _fail(obj, "recharge_policy", self.recharge_policy, "must be a RechargePolicy")
        if not isinstance(self.objective, Objective):
            _fail(obj, "objective", self.objective, "must be an Objective")
        _finite(obj, "road_detour_factor", self.road_detour_factor, positive=True)
        index = {loc.id: i for i, loc in enumerate(self.locations)}
        object.__setattr__(self, "_index", index)
        n = len(self.locations)
        object.__setattr__(self, "distance_km", _as_matrix("distance_km", self.distance_km, n))
        object.__setattr__(self, "travel_minutes", _as_matrix("travel_minutes", self.travel_minutes, n))
        kinds = {loc.coordinate_kind for loc in self.locations}
        if self.distance_km is None:
            if "none" in kinds:
                bad = next(loc.id for loc in self.locations if loc.coordinate_kind == "none")
                _fail(
                    f"Location {bad!r}",
                    "x/y/lat/lon",
                    None,
                    "has no coordinates and the problem has no distance_km matrix",
                )
            if len(kinds) > 1:
                _fail(obj, "locations", sorted(kinds), "mix planar x/y and lat/lon coordinates")
        for job in self.jobs:
            if job.location not in index:
                _fail(f"Job {job.id!r}", "location", job.location, "unknown location id")
        for st in self.stations:
            if st.location not in index:
                _fail(f"ChargingStation {st.id!r}", "location", st.location, "unknown location id")
        for vt in self.vehicle_types:
            for fname in ("start_depot", "end_depot", "reload_depot"):
                loc = getattr(vt, fname)
                if loc is not None and loc not in index:
                    _fail(f"VehicleType {vt.id!r}", fname, loc, "unknown location id")
        if self.speed_profile is not None and not isinstance(self.speed_profile, SpeedProfile):
            _fail(obj, "speed_profile", self.speed_profile, "must be a SpeedProfile or None")
        if isinstance(self.zones, list):
            object.__setattr__(self, "zones", tuple(self.zones))
        if not isinstance(self.zones, tuple) or not all(isinstance(z, AccessZone) for z in self.zones):
            _fail(obj, "zones", self.zones, "must be a tuple of AccessZone")
        if self.zones and "none" in kinds:
            _fail(obj, "zones", len(self.zones), "access zones need locations with coordinates")
        kinds_available = {vt.kind for vt in self.vehicle_types if vt.count > 0}
        for job in self.jobs:
            if job.required_kind is not None and job.required_kind not in kinds_available:
                # Not an input error: reported per job as unserved. Kept valid on purpose.
                pass

    def index_of(self, location_id: str) -> int:
        """Row/column of a location in the matrices."""
        try:
            return self._index[location_id]
        except KeyError:
            raise ValueError(f"RoutingProblem {self.name!r}: unknown location id {location_id!r}") from None

    @property
    def vehicle_count(self) -> int:
        return sum(vt.count for vt in self.vehicle_types)

    def vehicle_ids(self) -> list[tuple[str, VehicleType]]:
        """One id per physical vehicle, ``"<type id>#<n>"`` with n from 1, in type order."""
        return [(f"{vt.id}#{k + 1}", vt) for vt in self.vehicle_types for k in range(vt.count)]

    def job(self, job_id: str) -> Job:
        for j in self.jobs:
            if j.id == job_id:
                return j
        raise KeyError(job_id)

    def station(self, station_id: str) -> ChargingStation:
        for s in self.stations:
            if s.id == station_id:
                return s
        raise KeyError(station_id)

    def vehicle_type(self, type_id: str) -> VehicleType:
        for v in self.vehicle_types:
            if v.id == type_id:
                return v
        raise KeyError(type_id)
