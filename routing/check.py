"""Independent feasibility checker: recomputes every figure of a `RoutingSolution` from its `RoutingProblem`.

It never imports the solver (`routing.model`, `routing.solve`): it re-implements, in floating point, the rules
written in the `routing.problem` module docstring, so a modelling or scaling error in the solver shows up
as a violation here instead of being trusted.

What is taken from the solution as a decision: which vehicle drives which ordered stops, when it leaves the
depot (`Route.departure`), how much energy it takes at each station or reload (`Stop.energy_charged_kwh`,
partial recharging), and how long each BREAK lasts (`Stop.departure - Stop.arrival`). Everything else (arrival, service start, departure, load, state of charge, charging minutes,
distance, energy, litres, cost, totals) is recomputed, checked against the constraints, and compared with the
figures the solution reports.

Time-dependent travel (a ``speed_profile``) and access zones are re-implemented here in a few lines of their
own (``_td_arrival``, ``_td_leave_by``, ``_inside``, ``_Checker._open_at``), not imported from
``routing.traveltime`` / ``routing.zones``. A late arrival caused by a slow period is a ``time_window`` or
``shift_end`` violation like any other; a reported time computed at constant speed is a ``mismatch``; a stop
whose reported service start falls in a period barred to its vehicle, or that can start only outside every
window because of the zone, is an ``access_zone`` violation.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from routing.matrix import great_circle_matrix_km
from routing.problem import Battery, Job, RechargePolicy, RoutingProblem, VehicleType
from routing.solution import Route, RoutingSolution, Stop, StopKind

DEFAULT_TOLERANCE = 1e-6
"""Slack on every comparison [min, kWh, kg, km, currency]; relative for large figures (see `_close`)."""


class Constraint(str, Enum):
    """What a violation is about."""

    UNKNOWN_ID = "unknown_id"  # a stop, job, station or location id the problem does not have
    VEHICLE = "vehicle"  # unknown vehicle, vehicle used twice, wrong type or depot, too many vehicles
    DUPLICATE_JOB = "duplicate_job"  # a job served more than once
    MISSING_JOB = "missing_job"  # a mandatory job neither served nor listed as unserved
    UNSERVED_CONFLICT = "unserved_conflict"  # a job both on a route and listed as unserved (or listed twice)
    VEHICLE_KIND = "vehicle_kind"  # job served by a vehicle of the wrong kind
    TIME_WINDOW = "time_window"  # service cannot start within any of the job's windows
    SHIFT_START = "shift_start"  # leaves the depot before the shift starts
    SHIFT_END = "shift_end"  # back at the end depot after the shift ends
    MAX_DURATION = "max_duration"  # route longer than the maximum duration
    PAYLOAD = "payload"  # load above the vehicle's payload
    RESERVE_SOC = "reserve_soc"  # state of charge on arrival below the reserve floor
    BATTERY_CAPACITY = "battery_capacity"  # state of charge above the battery capacity
    CHARGING = "charging"  # negative charge, partial charge under the FULL policy, diesel at a station
    MISMATCH = "mismatch"  # a figure reported by the solution differs from the recomputed one
    UNSERVED_REASON = "unserved_reason"  # the reason given for an unserved job is refuted by a direct trip
    RELOAD = (
        "reload"  # a reload away from the vehicle's start (or reload) depot, or more trips than max_trips
    )
    DRIVING_TIME = (
        "driving_time"  # continuous driving above the break rule's limit without a long enough rest
    )
    ACCESS_ZONE = "access_zone"  # a stop in an access zone served by a vehicle its rules bar at that time


RULES: tuple[str, ...] = (
    "access_zone.barred",
    "access_zone.closed",
    "battery_capacity.over",
    "charging.diesel",
    "charging.full_policy",
    "charging.negative",
    "charging.reload_no_charger",
    "driving_time.over",
    "duplicate_job.served_n",
    "max_duration.over",
    "mismatch.break_negative",
    "mismatch.figure",
    "mismatch.location",
    "mismatch.problem",
    "missing_job.mandatory",
    "missing_job.optional",
    "payload.departure",
    "payload.trip",
    "reload.away",
    "reload.max_trips",
    "reserve_soc.below_reserve",
    "reserve_soc.below_zero",
    "shift_end.late",
    "shift_start.early",
    "time_window.late",
    "unknown_id.job",
    "unknown_id.reload",
    "unknown_id.station",
    "unknown_id.unserved_job",
    "unserved_conflict.listed_n",
    "unserved_conflict.served",
    "unserved_reason.access_open",
    "unserved_reason.direct_in_range",
    "unserved_reason.direct_in_time",
    "unserved_reason.kind_exists",
    "unserved_reason.payload_fits",
    "vehicle.end_depot",
    "vehicle.start_depot",
    "vehicle.twice",
    "vehicle.type",
    "vehicle.unknown",
    "vehicle_kind.wrong",
)
"""Every `Violation.rule` the checker reports: ``"<Constraint value>.<case>"``."""


@dataclass(frozen=True)
class Violation:
    """One broken rule. `stop` is the 0-based index in `Route.stops` (None: the route or the whole plan).

    Structured so that a caller can word it in another language without parsing `message` (English): `rule`
    names the exact check (``"<constraint>.<case>"``, one of `RULES`), `expected`/`found` carry the figures
    involved (minutes from the time origin, kWh, kg, counts; the limit and the value found) even where `str()`
    shows none, `vehicle`/`stop`/`where` say where."""

    constraint: Constraint
    message: str
    vehicle: str | None = None
    stop: int | None = None
    where: str | None = None
    quantity: str = ""
    expected: float | str | None = None
    found: float | str | None = None
    rule: str = ""

    def __str__(self) -> str:
        loc = ", ".join(
            p
            for p in (
                f"vehicle {self.vehicle}" if self.vehicle else "",
                f"stop {self.stop}" if self.stop is not None else "",
                f"at {self.where}" if self.where else "",
            )
            if p
        )
        fig = (
            f" [{self.quantity}: expected {_fmt(self.expected)}, found {_fmt(self.found)}]"
            if self.quantity
            else ""
        )
        return f"{self.constraint.value}: {self.message}" + (f" ({loc})" if loc else "") + fig


def _fmt(v: float | str | None) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


@dataclass(frozen=True)
class Totals:
    """Plan totals recomputed by the checker."""

    vehicles: int = 0
    distance_km: float = 0.0
    energy_kwh: float = 0.0
    energy_charged_kwh: float = 0.0
    charging_minutes: float = 0.0
    fuel_l: float = 0.0
    cost: float = 0.0
    jobs_served: int = 0
    jobs_unserved: int = 0


@dataclass(frozen=True)
class CheckReport:
    """Verdict of one solution: feasible iff no violation."""

    violations: tuple[Violation, ...]
    totals: Totals
    routes: tuple[Route, ...] = field(default=(), repr=False)
    """The routes as recomputed by the checker (same decisions, recomputed figures)."""

    @property
    def feasible(self) -> bool:
        return not self.violations

    def count_by_constraint(self) -> dict[str, int]:
        return dict(Counter(v.constraint.value for v in self.violations))

    def summary(self, limit: int = 10) -> str:
        if self.feasible:
            return "feasible"
        lines = [f"{len(self.violations)} violation(s): {self.count_by_constraint()}"]
        lines += [f"  - {v}" for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"  ... and {len(self.violations) - limit} more")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------
# Travel
# --------------------------------------------------------------------------------------------------------------


def distance_matrix_km(problem: RoutingProblem) -> np.ndarray:
    """Distance [km] between locations, by the rules of the `routing.problem` docstring ('Travel')."""
    if problem.distance_km is not None:
        return np.asarray(problem.distance_km, dtype=np.float64)
    locs = problem.locations
    if locs[0].coordinate_kind == "planar":
        x = np.array([loc.x for loc in locs], dtype=np.float64)
        y = np.array([loc.y for loc in locs], dtype=np.float64)
        return np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    lat = np.array([loc.lat for loc in locs], dtype=np.float64)
    lon = np.array([loc.lon for loc in locs], dtype=np.float64)
    return great_circle_matrix_km(lat, lon) * problem.road_detour_factor


def consumption_kwh_per_km(battery: Battery, load_kg: float, payload_kg: float) -> float:
    """Rate with `load_kg` on board [kWh/km]: linear from empty to full payload (`routing.problem`, 'Energy').

    Re-implemented here rather than calling `Battery.rate`, so a slip in the shared type cannot hide itself.
    Not clamped: above the payload (a PAYLOAD violation anyway) the line is extrapolated.
    """
    empty = battery.consumption_empty_kwh_per_km
    full = empty if battery.consumption_full_kwh_per_km is None else battery.consumption_full_kwh_per_km
    if payload_kg <= 0:
        return empty
    return empty + (full - empty) * max(load_kg, 0.0) / payload_kg


def _close(expected: float, found: float, tol: float) -> bool:
    return abs(expected - found) <= tol * max(1.0, abs(expected))


# --------------------------------------------------------------------------------------------------------------
# Time-dependent travel and access zones (routing.problem docstring), re-implemented
# --------------------------------------------------------------------------------------------------------------

_DAY = 1440.0


def _td_factor(
    periods: tuple[tuple[float, float], ...], clock: float, before: bool
) -> tuple[float, float, float]:
    """(start, end, factor) of the period holding ``clock`` [min of day]; ``before``: the one ending at it."""
    start, factor = periods[0]
    end = _DAY
    for k, (a, f) in enumerate(periods):
        if a < clock or (a == clock and not before):
            start, factor = a, f
            end = periods[k + 1][0] if k + 1 < len(periods) else _DAY
    return start, end, factor


def _td_arrival(t: float, tau: float, periods: tuple[tuple[float, float], ...], clock0: float) -> float:
    """Leave at ``t`` [min] on an arc of free-flow time ``tau`` [min]: integrate the factors (Ichoua et al. 2003)."""
    if tau <= 0.0:
        return t
    day = math.floor((clock0 + t) / _DAY) * _DAY
    clock = clock0 + t - day
    while True:
        _, end, f = _td_factor(periods, clock, before=False)
        if (end - clock) * f >= tau:
            return day + clock + tau / f - clock0
        tau -= (end - clock) * f
        clock = end
        if clock >= _DAY:
            day, clock = day + _DAY, 0.0


def _td_leave_by(t: float, tau: float, periods: tuple[tuple[float, float], ...], clock0: float) -> float:
    """Latest departure [min] reaching the end of an arc of free-flow time ``tau`` by ``t``."""
    if tau <= 0.0:
        return t
    day = math.floor((clock0 + t) / _DAY) * _DAY
    clock = clock0 + t - day
    while True:
        if clock <= 0.0:
            day, clock = day - _DAY, _DAY
        start, _, f = _td_factor(periods, clock, before=True)
        if (clock - start) * f >= tau:
            return day + clock - tau / f - clock0
        tau -= (clock - start) * f
        clock = start


def _inside(px: float, py: float, poly: tuple[tuple[float, float], ...]) -> bool:
    """Crossing-number test; on an edge (within 1e-9) counts as inside."""
    crossings = 0
    n = len(poly)
    for k in range(n):
        (ax, ay), (bx, by) = poly[k], poly[(k + 1) % n]
        length = math.hypot(bx - ax, by - ay)
        if (
            abs((bx - ax) * (py - ay) - (by - ay) * (px - ax)) <= 1e-9 * max(length, 1.0)
            and min(ax, bx) - 1e-9 <= px <= max(ax, bx) + 1e-9
            and min(ay, by) - 1e-9 <= py <= max(ay, by) + 1e-9
        ):
            return True
        straddles = (ay <= py < by) or (by <= py < ay)
        if straddles and px < ax + (py - ay) * (bx - ax) / (by - ay):
            crossings += 1
    return crossings % 2 == 1


# --------------------------------------------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------------------------------------------


@dataclass
class _RouteFigures:
    distance_km: float = 0.0
    energy_kwh: float = 0.0
    energy_charged_kwh: float = 0.0
    charging_minutes: float = 0.0
    fuel_l: float = 0.0
    cost: float = 0.0


class _Checker:
    def __init__(self, problem: RoutingProblem, tol: float) -> None:
        self.p = problem
        self.tol = tol
        self.dist = distance_matrix_km(problem)
        self.time = (
            None if problem.travel_minutes is None else np.asarray(problem.travel_minutes, dtype=np.float64)
        )
        self.jobs = {j.id: j for j in problem.jobs}
        self.stations = {s.id: s for s in problem.stations}
        self.location_ids = {loc.id for loc in problem.locations}
        self.vehicles = dict(problem.vehicle_ids())
        self.out: list[Violation] = []
        origin = problem.time_origin
        self.clock0 = 0.0 if origin is None else origin.hour * 60.0 + origin.minute + origin.second / 60.0
        self.periods = problem.speed_profile.periods if problem.speed_profile is not None else None
        self.zones_at: dict[str, list] = {}  # location id -> zones containing it
        for loc in problem.locations if problem.zones else ():
            pt = (loc.x, loc.y) if loc.x is not None else (loc.lon, loc.lat)
            if pt[0] is None or pt[1] is None:
                continue
            self.zones_at[loc.id] = [z for z in problem.zones if _inside(pt[0], pt[1], z.polygon)]

    def add(self, constraint: Constraint, message: str, *, rule: str, **kw: object) -> None:
        self.out.append(Violation(constraint, message, rule=rule, **kw))  # type: ignore[arg-type]

    def compare(self, quantity: str, expected: float | None, found: float | None, **kw: object) -> None:
        """A reported figure must match the recomputed one."""
        if expected is None and found is None:
            return
        if expected is None or found is None or not _close(expected, found, self.tol):
            self.add(
                Constraint.MISMATCH,
                f"reported {quantity} differs from the recomputed value",
                rule="mismatch.figure",
                quantity=quantity,
                expected=expected,
                found=found,
                **kw,
            )

    def travel_minutes(self, vt: VehicleType, i: int, j: int) -> float:
        """Free-flow (constant-speed) travel time [min]."""
        if self.time is not None:
            return float(self.time[i, j])
        return float(self.dist[i, j]) / vt.speed_kmh * 60.0

    def arrive(self, vt: VehicleType, i: int, j: int, t: float) -> float:
        """Arrival [min] at ``j`` leaving ``i`` at ``t``; time-dependent with a speed profile."""
        if self.periods is None:
            return t + self.travel_minutes(vt, i, j)
        return _td_arrival(t, self.travel_minutes(vt, i, j), self.periods, self.clock0)

    def leave_by(self, vt: VehicleType, i: int, j: int, t: float) -> float:
        if self.periods is None:
            return t - self.travel_minutes(vt, i, j)
        return _td_leave_by(t, self.travel_minutes(vt, i, j), self.periods, self.clock0)

    def barred(self, vt: VehicleType, location: str) -> list[tuple[float, float]]:
        """Barred periods [min of day, half-open] for ``vt`` at a stop at ``location``."""
        out: list[tuple[float, float]] = []
        for zone in self.zones_at.get(location, ()):
            for rule in zone.rules:
                if rule.kinds and vt.kind not in rule.kinds:
                    continue
                if rule.vehicle_types and vt.id not in rule.vehicle_types:
                    continue
                out += [(w.start, w.end) for w in rule.barred] if rule.barred else [(0.0, _DAY)]
        return out

    def is_barred(self, barred: list[tuple[float, float]], t: float) -> bool:
        clock = (self.clock0 + t) % _DAY
        return any(a <= clock < b for a, b in barred)

    def _open_at(self, barred: list[tuple[float, float]], t: float) -> float:
        """Earliest time >= ``t`` outside every barred period [min]; inf when barred all day."""
        day = math.floor((self.clock0 + t) / _DAY) * _DAY
        clock = self.clock0 + t - day
        for k in range(4 * len(barred) + 2):
            ends = [b for a, b in barred if a <= clock < b]
            if not ends:
                return t if k == 0 else day + clock - self.clock0
            clock = max(ends)
            if clock >= _DAY:
                day, clock = day + _DAY, 0.0
        return math.inf

    # ---- plan level --------------------------------------------------------------------------------------

    def run(self, solution: RoutingSolution) -> CheckReport:
        served: Counter[str] = Counter()
        used: Counter[str] = Counter()
        total = _RouteFigures()
        recomputed: list[Route] = []
        vehicles = 0
        for route in solution.routes:
            used[route.vehicle_id] += 1
            if used[route.vehicle_id] == 2:
                self.add(
                    Constraint.VEHICLE,
                    "vehicle drives more than one route",
                    rule="vehicle.twice",
                    vehicle=route.vehicle_id,
                )
            figs, new_route = self.route(route, served)
            if new_route is not None:
                recomputed.append(new_route)
            if route.stops:
                vehicles += 1
            for name in (
                "distance_km",
                "energy_kwh",
                "energy_charged_kwh",
                "charging_minutes",
                "fuel_l",
                "cost",
            ):
                setattr(total, name, getattr(total, name) + getattr(figs, name))
        for job_id, n in served.items():
            if n > 1:
                self.add(
                    Constraint.DUPLICATE_JOB,
                    f"job served {n} times",
                    rule="duplicate_job.served_n",
                    where=job_id,
                    quantity="visits",
                    expected=1.0,
                    found=float(n),
                )
        listed: Counter[str] = Counter()
        for u in solution.unserved:
            listed[u.job_id] += 1
            if u.job_id not in self.jobs:
                self.add(
                    Constraint.UNKNOWN_ID,
                    "unserved job id not in the problem",
                    rule="unknown_id.unserved_job",
                    where=u.job_id,
                )
            elif served[u.job_id]:
                self.add(
                    Constraint.UNSERVED_CONFLICT,
                    "job listed as unserved but served on a route",
                    rule="unserved_conflict.served",
                    where=u.job_id,
                )
            else:
                self._check_reason(self.jobs[u.job_id], u.reason.value)
        for job_id, n in listed.items():
            if n > 1:
                self.add(
                    Constraint.UNSERVED_CONFLICT,
                    f"job listed as unserved {n} times",
                    rule="unserved_conflict.listed_n",
                    where=job_id,
                    found=float(n),  # the count, for a message in another language; str() shows no figure
                )
        for job in self.p.jobs:
            if not served[job.id] and not listed[job.id]:
                if job.drop_penalty is None:
                    self.add(
                        Constraint.MISSING_JOB,
                        "mandatory job neither served nor reported unserved",
                        rule="missing_job.mandatory",
                        where=job.id,
                    )
                else:
                    # Optional job silently skipped: allowed, but the report must say so to be complete.
                    self.add(
                        Constraint.MISSING_JOB,
                        "optional job skipped without being listed as unserved",
                        rule="missing_job.optional",
                        where=job.id,
                    )
        if solution.problem_name != self.p.name:
            self.add(
                Constraint.MISMATCH,
                "solution belongs to another problem",
                rule="mismatch.problem",
                quantity="problem_name",
                expected=self.p.name,
                found=solution.problem_name,
            )
        jobs_served = sum(1 for j in self.p.jobs if served[j.id])
        totals = Totals(
            vehicles=vehicles,
            distance_km=total.distance_km,
            energy_kwh=total.energy_kwh,
            energy_charged_kwh=total.energy_charged_kwh,
            charging_minutes=total.charging_minutes,
            fuel_l=total.fuel_l,
            cost=total.cost,
            jobs_served=jobs_served,
            jobs_unserved=len(self.p.jobs) - jobs_served,
        )
        return CheckReport(violations=tuple(self.out), totals=totals, routes=tuple(recomputed))

    # ---- route level -------------------------------------------------------------------------------------

    def route(self, route: Route, served: Counter[str]) -> tuple[_RouteFigures, Route | None]:
        vid = route.vehicle_id
        figs = _RouteFigures()
        vt = self.vehicles.get(vid)
        if vt is None:
            self.add(
                Constraint.VEHICLE,
                "unknown vehicle id (expected '<type id>#<n>')",
                rule="vehicle.unknown",
                vehicle=vid,
            )
            for s in route.stops:
                if s.kind is StopKind.JOB:
                    served[s.id] += 1
            return figs, None
        if route.vehicle_type != vt.id:
            self.add(
                Constraint.VEHICLE,
                "vehicle_type differs from the vehicle's type",
                rule="vehicle.type",
                vehicle=vid,
                quantity="vehicle_type",
                expected=vt.id,
                found=route.vehicle_type,
            )
        if route.start_depot != vt.start_depot:
            self.add(
                Constraint.VEHICLE,
                "route starts at another depot than the vehicle's",
                rule="vehicle.start_depot",
                vehicle=vid,
                quantity="start_depot",
                expected=vt.start_depot,
                found=route.start_depot,
            )
        if route.end_depot != vt.end:
            self.add(
                Constraint.VEHICLE,
                "route ends at another depot than the vehicle's",
                rule="vehicle.end_depot",
                vehicle=vid,
                quantity="end_depot",
                expected=vt.end,
                found=route.end_depot,
            )
        if not route.stops:
            return figs, route
        battery = vt.battery if vt.is_electric else None
        tol = self.tol

        # Load: every job's demand is on board from the depot until its stop.
        stop_jobs: list[Job | None] = []
        for s in route.stops:
            job = self.jobs.get(s.id) if s.kind is StopKind.JOB else None
            stop_jobs.append(job)
        # With reloads (routing.problem, 'Multi-trip') each trip carries only its own jobs' demands.
        trip_loads = [0.0]
        reload_at: list[int | None] = [None]
        for k, (s, j) in enumerate(zip(route.stops, stop_jobs)):
            if s.kind is StopKind.RELOAD:
                trip_loads.append(0.0)
                reload_at.append(k)
            elif j is not None:
                trip_loads[-1] += j.demand_kg
        load = trip_loads[0]
        self.compare("load_departure_kg", load, route.load_departure_kg, vehicle=vid)
        for trip, (trip_load, k_reload) in enumerate(zip(trip_loads, reload_at)):
            if trip_load > vt.payload_kg * (1.0 + tol) + tol:
                self.add(
                    Constraint.PAYLOAD,
                    "load on leaving the depot exceeds the payload"
                    if trip == 0
                    else f"load of trip {trip + 1} (from a reload) exceeds the payload",
                    rule="payload.departure" if trip == 0 else "payload.trip",
                    vehicle=vid,
                    stop=k_reload,
                    quantity="load_kg",
                    expected=vt.payload_kg,
                    found=trip_load,
                )
        if len(trip_loads) > vt.max_trips:
            self.add(
                Constraint.RELOAD,
                "more trips than the vehicle type's max_trips",
                rule="reload.max_trips",
                vehicle=vid,
                quantity="trips",
                expected=float(vt.max_trips),
                found=float(len(trip_loads)),
            )
        rule = vt.break_rule
        # Continuous driving since the route's start (plus what was driven before it) or the last long enough
        # BREAK [min].
        driving = vt.driving_at_start_minutes
        trip = 0

        # Time and energy along the route.
        t = route.departure
        if t < vt.shift_start - tol:
            self.add(
                Constraint.SHIFT_START,
                "leaves the depot before the shift starts",
                rule="shift_start.early",
                vehicle=vid,
                where=route.start_depot,
                quantity="departure",
                expected=vt.shift_start,
                found=t,
            )
        soc = battery.initial_soc * battery.capacity_kwh if battery else None
        self.compare("soc_departure_kwh", soc, route.soc_departure_kwh, vehicle=vid)
        prev = self.p.index_of(vt.start_depot)
        new_stops: list[Stop] = []
        for k, s in enumerate(route.stops):
            here = {"vehicle": vid, "stop": k, "where": s.id}
            loc_id = self._stop_location(s, vt, served, here, self.p.locations[prev].id)
            if loc_id is None:
                continue
            cur = self.p.index_of(loc_id)
            if s.kind is StopKind.BREAK:
                # A rest where the vehicle is: no arc, no energy; it lasts what the solution says.
                minutes = s.departure - s.arrival
                if minutes < -tol:
                    self.add(
                        Constraint.MISMATCH,
                        "break with negative length",
                        rule="mismatch.break_negative",
                        quantity="break_minutes",
                        expected=0.0,
                        found=minutes,
                        **here,
                    )
                minutes = max(minutes, 0.0)
                if rule is not None and minutes >= rule.min_rest_minutes - tol:
                    driving = 0.0
                self.compare("arrival", t, s.arrival, **here)
                self.compare("service_start", t, s.service_start, **here)
                self.compare("load_kg", load, s.load_kg, **here)
                self.compare("soc_arrival_kwh", soc, s.soc_arrival_kwh, **here)
                self.compare("soc_departure_kwh", soc, s.soc_departure_kwh, **here)
                self.compare("energy_charged_kwh", 0.0, s.energy_charged_kwh, **here)
                self.compare("charging_minutes", 0.0, s.charging_minutes, **here)
                new_stops.append(
                    Stop(
                        kind=s.kind,
                        id=loc_id,
                        location=loc_id,
                        arrival=t,
                        service_start=t,
                        departure=t + minutes,
                        load_kg=load,
                        soc_arrival_kwh=soc,
                        soc_departure_kwh=soc,
                    )
                )
                t += minutes
                continue
            km = float(self.dist[prev, cur])
            arrival = self.arrive(vt, prev, cur, t)
            travel = arrival - t  # driving minutes (time-dependent with a speed profile)
            driving = self._check_driving(vt, driving + travel, here)
            figs.distance_km += km
            if battery is not None and soc is not None:
                used = km * consumption_kwh_per_km(battery, load, vt.payload_kg)
                figs.energy_kwh += used
                soc -= used
                self._check_reserve(soc, battery.reserve_soc * battery.capacity_kwh, here)
            job = stop_jobs[k]
            charged = 0.0
            charge_min = 0.0
            soc_arrival = soc
            if s.kind is StopKind.JOB and job is not None:
                start = self._service_start(job, arrival, here, vt)
                self._check_access(vt, job, s.service_start, here)
                departure = start + job.service_minutes
                load -= job.demand_kg
                self.compare("energy_charged_kwh", 0.0, s.energy_charged_kwh, **here)
            else:
                start = arrival
                if s.kind is StopKind.RELOAD:
                    trip += 1
                    load = trip_loads[trip]
                    charged, charge_min = self._reload_charge(s, vt, soc, here)
                else:
                    charged, charge_min = self._charge(s, vt, soc, here)
                if soc is not None:
                    soc += charged
                    if battery is not None and soc > battery.capacity_kwh * (1.0 + tol) + tol:
                        self.add(
                            Constraint.BATTERY_CAPACITY,
                            "charged above the battery capacity",
                            rule="battery_capacity.over",
                            quantity="soc_departure_kwh",
                            expected=battery.capacity_kwh,
                            found=soc,
                            **here,
                        )
                figs.energy_charged_kwh += charged
                figs.charging_minutes += charge_min
                departure = arrival + charge_min
                if s.kind is StopKind.RELOAD:
                    departure = arrival + max(vt.reload_minutes, charge_min)
            self.compare("arrival", arrival, s.arrival, **here)
            self.compare("service_start", start, s.service_start, **here)
            self.compare("departure", departure, s.departure, **here)
            self.compare("load_kg", load, s.load_kg, **here)
            self.compare("soc_arrival_kwh", soc_arrival, s.soc_arrival_kwh, **here)
            self.compare("soc_departure_kwh", soc, s.soc_departure_kwh, **here)
            self.compare("charging_minutes", charge_min, s.charging_minutes, **here)
            new_stops.append(
                Stop(
                    kind=s.kind,
                    id=s.id,
                    location=loc_id,
                    arrival=arrival,
                    service_start=start,
                    departure=departure,
                    load_kg=load,
                    soc_arrival_kwh=soc_arrival,
                    soc_departure_kwh=soc,
                    energy_charged_kwh=charged,
                    charging_minutes=charge_min,
                )
            )
            t = departure
            prev = cur

        # Back to the end depot.
        end_here = {"vehicle": vid, "where": route.end_depot}
        end = self.p.index_of(vt.end)
        km = float(self.dist[prev, end])
        figs.distance_km += km
        arrival = self.arrive(vt, prev, end, t)
        travel = arrival - t
        self._check_driving(vt, driving + travel, end_here)
        if battery is not None and soc is not None:
            used = km * consumption_kwh_per_km(battery, load, vt.payload_kg)
            figs.energy_kwh += used
            soc -= used
            self._check_reserve(soc, battery.reserve_soc * battery.capacity_kwh, end_here)
        self.compare("arrival", arrival, route.arrival, **end_here)
        self.compare("soc_arrival_kwh", soc, route.soc_arrival_kwh, **end_here)
        if vt.shift_end is not None and arrival > vt.shift_end + tol:
            self.add(
                Constraint.SHIFT_END,
                "back at the depot after the shift ends",
                rule="shift_end.late",
                quantity="arrival",
                expected=vt.shift_end,
                found=arrival,
                **end_here,
            )
        duration = arrival - route.departure
        if vt.max_duration_minutes is not None and duration > vt.max_duration_minutes + tol:
            self.add(
                Constraint.MAX_DURATION,
                "route longer than the maximum duration",
                rule="max_duration.over",
                quantity="duration_min",
                expected=vt.max_duration_minutes,
                found=duration,
                **end_here,
            )

        # Route figures.
        if not vt.is_electric and vt.diesel_l_per_100km is not None:
            figs.fuel_l = figs.distance_km * vt.diesel_l_per_100km / 100.0
        figs.cost = vt.fixed_cost + vt.cost_per_km * figs.distance_km + vt.cost_per_hour * duration / 60.0
        for name in ("distance_km", "energy_kwh", "fuel_l", "cost", "energy_charged_kwh", "charging_minutes"):
            self.compare(name, getattr(figs, name), getattr(route, name), vehicle=vid)
        new_route = Route(
            vehicle_id=vid,
            vehicle_type=vt.id,
            start_depot=vt.start_depot,
            end_depot=vt.end,
            departure=route.departure,
            arrival=arrival,
            stops=tuple(new_stops),
            load_departure_kg=trip_loads[0],
            distance_km=figs.distance_km,
            energy_kwh=figs.energy_kwh,
            fuel_l=figs.fuel_l,
            cost=figs.cost,
            soc_departure_kwh=battery.initial_soc * battery.capacity_kwh if battery else None,
            soc_arrival_kwh=soc,
            energy_charged_kwh=figs.energy_charged_kwh,
            charging_minutes=figs.charging_minutes,
        )
        return figs, new_route

    # ---- unserved jobs ---------------------------------------------------------------------------------------

    def _check_reason(self, job: Job, reason: str) -> None:
        """Refute a claimed reason when one vehicle type could do depot -> job -> depot on its own.

        Only the out-and-back trip is tried (no stations, no other jobs), so a reason that holds is never
        refuted; a wrong one is caught when the direct trip shows it.
        """
        eligible = [
            vt
            for vt in self.p.vehicle_types
            if vt.count > 0 and (job.required_kind is None or job.required_kind is vt.kind)
        ]
        here = {"where": job.id, "quantity": "reason", "found": reason}
        if reason == "no_vehicle_kind":
            if eligible:
                self.add(
                    Constraint.UNSERVED_REASON,
                    "a vehicle of the required kind exists",
                    rule="unserved_reason.kind_exists",
                    expected=eligible[0].id,
                    **here,
                )
            return
        if reason not in ("capacity", "time_window", "out_of_range", "access_zone"):
            return  # 'dropped' (servable, left out) needs no proof
        fits = [vt for vt in eligible if job.demand_kg <= vt.payload_kg * (1.0 + self.tol)]
        if reason == "access_zone":
            open_to = [vt for vt in fits if self._access_possible(vt, job)]
            if open_to:
                self.add(
                    Constraint.UNSERVED_REASON,
                    "a vehicle type that can carry the job may serve it within a window and its shift",
                    rule="unserved_reason.access_open",
                    expected=open_to[0].id,
                    **here,
                )
            return
        if reason == "capacity":
            if fits:
                self.add(
                    Constraint.UNSERVED_REASON,
                    "a vehicle type's payload holds the demand",
                    rule="unserved_reason.payload_fits",
                    expected=fits[0].id,
                    **here,
                )
            return
        for vt in fits:
            timely = self._direct_trip_in_time(vt, job)
            in_range = self._direct_trip_in_range(vt, job)
            if reason == "time_window" and timely:
                self.add(
                    Constraint.UNSERVED_REASON,
                    "a direct trip serves the job within a window and shift",
                    rule="unserved_reason.direct_in_time",
                    expected=vt.id,
                    **here,
                )
                return
            if reason == "out_of_range" and in_range and timely:
                self.add(
                    Constraint.UNSERVED_REASON,
                    "a direct trip reaches the job and returns within range",
                    rule="unserved_reason.direct_in_range",
                    expected=vt.id,
                    **here,
                )
                return

    def _direct_trip_in_time(self, vt: VehicleType, job: Job) -> bool:
        d, j = self.p.index_of(vt.start_depot), self.p.index_of(job.location)
        e = self.p.index_of(vt.end)
        if self.periods is not None or self.zones_at:
            return self._direct_trip_in_time_td(vt, job, d, j, e)
        arrival = vt.shift_start + self.travel_minutes(vt, d, j)
        windows = job.windows_sorted or ()
        start = arrival
        if windows:
            ok = [max(arrival, w.start) for w in windows if max(arrival, w.start) <= w.end + self.tol]
            if not ok:
                return False
            start = ok[0]
        back = start + job.service_minutes + self.travel_minutes(vt, j, e)
        if vt.shift_end is not None and back > vt.shift_end + self.tol:
            return False
        # Leaving the depot as late as possible shortens the route to travel + service (+ no waiting).
        shortest = self.travel_minutes(vt, d, j) + job.service_minutes + self.travel_minutes(vt, j, e)
        return vt.max_duration_minutes is None or shortest <= vt.max_duration_minutes + self.tol

    def _direct_trip_in_time_td(self, vt: VehicleType, job: Job, d: int, j: int, e: int) -> bool:
        """As ``_direct_trip_in_time`` with time-dependent travel and the stop's access zones."""
        arrival = self.arrive(vt, d, j, vt.shift_start)
        barred = self.barred(vt, job.location)
        if barred:
            start = self._earliest_open(job, arrival, barred)
        else:
            ok = [
                max(arrival, w.start) for w in job.windows_sorted if max(arrival, w.start) <= w.end + self.tol
            ]
            start = arrival if not job.windows_sorted else (ok[0] if ok else None)
        if start is None:
            return False
        back = self.arrive(vt, j, e, start + job.service_minutes)
        if vt.shift_end is not None and back > vt.shift_end + self.tol:
            return False
        leave = max(vt.shift_start, self.leave_by(vt, d, j, start))
        return vt.max_duration_minutes is None or back - leave <= vt.max_duration_minutes + self.tol

    def _access_possible(self, vt: VehicleType, job: Job) -> bool:
        """Some instant of the job's windows within the shift is open to ``vt`` (refutes ``access_zone``)."""
        barred = self.barred(vt, job.location)
        if not barred:
            return True
        start = self._earliest_open(job, vt.shift_start, barred)
        return start is not None and (vt.shift_end is None or start <= vt.shift_end + self.tol)

    def _direct_trip_in_range(self, vt: VehicleType, job: Job) -> bool:
        b = vt.battery
        if b is None:
            return True
        d, j = self.p.index_of(vt.start_depot), self.p.index_of(job.location)
        e = self.p.index_of(vt.end)
        used = float(self.dist[d, j]) * consumption_kwh_per_km(b, job.demand_kg, vt.payload_kg) + float(
            self.dist[j, e]
        ) * consumption_kwh_per_km(b, 0.0, vt.payload_kg)
        return b.initial_soc * b.capacity_kwh - used >= b.reserve_soc * b.capacity_kwh - self.tol

    # ---- stop level --------------------------------------------------------------------------------------

    def _stop_location(
        self, s: Stop, vt: VehicleType, served: Counter[str], here: dict, current: str
    ) -> str | None:
        """Where stop ``s`` is (None: unknown id); ``current`` is where the vehicle is before it."""
        if s.kind is StopKind.BREAK:
            loc = current  # a break is taken where the vehicle is
        elif s.kind is StopKind.RELOAD:
            if s.id not in self.location_ids:
                self.add(
                    Constraint.UNKNOWN_ID,
                    "reload location id not in the problem",
                    rule="unknown_id.reload",
                    **here,
                )
                return None
            if s.id != vt.reload_at:
                # A route that continues a day reloads at its reload depot, not where it starts (routing.replan).
                depot = "reload depot" if vt.reload_at != vt.start_depot else "start depot"
                self.add(
                    Constraint.RELOAD,
                    f"reload away from the vehicle's {depot}",
                    rule="reload.away",
                    quantity="location",
                    expected=vt.reload_at,
                    found=s.id,
                    **here,
                )
            loc = s.id
        elif s.kind is StopKind.JOB:
            job = self.jobs.get(s.id)
            if job is None:
                self.add(Constraint.UNKNOWN_ID, "job id not in the problem", rule="unknown_id.job", **here)
                return None
            served[s.id] += 1
            if job.required_kind is not None and job.required_kind is not vt.kind:
                self.add(
                    Constraint.VEHICLE_KIND,
                    f"job needs a {job.required_kind.value} vehicle",
                    rule="vehicle_kind.wrong",
                    quantity="vehicle_kind",
                    expected=job.required_kind.value,
                    found=vt.kind.value,
                    **here,
                )
            loc = job.location
        else:
            station = self.stations.get(s.id)
            if station is None:
                self.add(
                    Constraint.UNKNOWN_ID, "station id not in the problem", rule="unknown_id.station", **here
                )
                return None
            loc = station.location
        if s.location != loc:
            self.add(
                Constraint.MISMATCH,
                "stop location differs from the problem's",
                rule="mismatch.location",
                quantity="location",
                expected=loc,
                found=s.location,
                **here,
            )
        return loc

    def _service_start(self, job: Job, arrival: float, here: dict, vt: VehicleType | None = None) -> float:
        windows = job.windows_sorted
        barred = self.barred(vt, job.location) if vt is not None and self.zones_at else []
        if barred:
            start = self._earliest_open(job, arrival, barred)
            if start is not None:
                return start
            if not windows or any(max(arrival, w.start) <= w.end + self.tol for w in windows):
                self.add(
                    Constraint.ACCESS_ZONE,
                    "the stop's access zone is closed to this vehicle through the rest of its time windows",
                    rule="access_zone.closed",
                    quantity="service_start",
                    expected=windows[-1].end if windows else None,
                    found=arrival,
                    **here,
                )
                return arrival
        if not windows:
            return arrival
        for w in windows:
            start = max(arrival, w.start)
            if start <= w.end + self.tol:
                return start
        self.add(
            Constraint.TIME_WINDOW,
            "arrives after the last time window closes",
            rule="time_window.late",
            quantity="service_start",
            expected=windows[-1].end,
            found=arrival,
            **here,
        )
        return arrival

    def _earliest_open(self, job: Job, arrival: float, barred: list[tuple[float, float]]) -> float | None:
        """Earliest service start >= ``arrival`` inside a window and outside the barred periods, or None."""
        if not job.windows_sorted:
            t = self._open_at(barred, arrival)
            return None if math.isinf(t) else t
        for w in job.windows_sorted:
            t = self._open_at(barred, max(arrival, w.start))
            if t <= w.end + self.tol:
                return t
        return None

    def _check_access(self, vt: VehicleType, job: Job, reported_start: float, here: dict) -> None:
        """The REPORTED service start must not fall in a period the stop's zones bar to this vehicle."""
        barred = self.barred(vt, job.location) if self.zones_at else []
        if barred and self.is_barred(barred, reported_start):
            self.add(
                Constraint.ACCESS_ZONE,
                f"served by a {vt.kind.value} vehicle of type {vt.id} at a time its access zone bars it",
                rule="access_zone.barred",
                quantity="service_start_clock_min",
                expected="outside " + ", ".join(f"[{a:g}, {b:g})" for a, b in sorted(barred)),
                found=(self.clock0 + reported_start) % _DAY,
                **here,
            )

    def _check_reserve(self, soc: float, reserve: float, here: dict) -> None:
        if soc < reserve - self.tol * max(1.0, reserve):
            what = "below zero" if reserve == 0 else "below the reserve"
            self.add(
                Constraint.RESERVE_SOC,
                f"state of charge on arrival {what}",
                rule="reserve_soc.below_zero" if reserve == 0 else "reserve_soc.below_reserve",
                quantity="soc_arrival_kwh",
                expected=reserve,
                found=soc,
                **here,
            )

    def _check_driving(self, vt: VehicleType, driving: float, here: dict) -> float:
        """Continuous driving [min] on arriving somewhere, checked against the type's break rule."""
        rule = vt.break_rule
        if rule is not None and driving > rule.max_driving_minutes + self.tol * max(1.0, driving):
            self.add(
                Constraint.DRIVING_TIME,
                f"continuous driving without a rest of {rule.min_rest_minutes:g} min above the limit",
                rule="driving_time.over",
                quantity="driving_minutes",
                expected=rule.max_driving_minutes,
                found=driving,
                **here,
            )
        return driving

    def _reload_charge(self, s: Stop, vt: VehicleType, soc: float | None, here: dict) -> tuple[float, float]:
        """Energy [kWh] and minutes charged during a reload at the depot (any amount; 'Multi-trip')."""
        energy = s.energy_charged_kwh
        battery = vt.battery
        if abs(energy) <= self.tol:
            return 0.0, 0.0
        if battery is None or soc is None or vt.depot_charge_kw is None:
            self.add(
                Constraint.CHARGING,
                "charges at a reload without a depot charger (depot_charge_kw) or battery",
                rule="charging.reload_no_charger",
                quantity="energy_charged_kwh",
                expected=0.0,
                found=energy,
                **here,
            )
            return 0.0, 0.0
        if energy < 0:
            self.add(
                Constraint.CHARGING,
                "negative energy charged",
                rule="charging.negative",
                quantity="energy_charged_kwh",
                expected=0.0,
                found=energy,
                **here,
            )
        power = (
            vt.depot_charge_kw
            if battery.max_charge_kw is None
            else min(vt.depot_charge_kw, battery.max_charge_kw)
        )
        return energy, energy / power * 60.0

    def _charge(self, s: Stop, vt: VehicleType, soc: float | None, here: dict) -> tuple[float, float]:
        """Energy [kWh] and minutes of a station stop, checked against the recharge policy."""
        station = self.stations[s.id]
        battery = vt.battery
        if battery is None or soc is None:
            self.add(
                Constraint.CHARGING,
                "diesel vehicle stops at a charging station",
                rule="charging.diesel",
                **here,
            )
            return 0.0, 0.0
        power = (
            station.power_kw
            if battery.max_charge_kw is None
            else min(station.power_kw, battery.max_charge_kw)
        )
        room = battery.capacity_kwh - soc
        if self.p.recharge_policy is RechargePolicy.FULL:
            energy = max(room, 0.0)
            if not _close(energy, s.energy_charged_kwh, self.tol):
                self.add(
                    Constraint.CHARGING,
                    "FULL recharge policy: must charge to capacity",
                    rule="charging.full_policy",
                    quantity="energy_charged_kwh",
                    expected=energy,
                    found=s.energy_charged_kwh,
                    **here,
                )
        else:
            energy = s.energy_charged_kwh
            if energy < -self.tol:
                self.add(
                    Constraint.CHARGING,
                    "negative energy charged",
                    rule="charging.negative",
                    quantity="energy_charged_kwh",
                    expected=0.0,
                    found=energy,
                    **here,
                )
        return energy, energy / power * 60.0


def check_solution(
    problem: RoutingProblem, solution: RoutingSolution, tolerance: float = DEFAULT_TOLERANCE
) -> CheckReport:
    """Recompute every figure of `solution` from `problem`; list every violated constraint and the totals."""
    return _Checker(problem, tolerance).run(solution)
