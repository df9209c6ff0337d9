"""Floating-point route evaluation: the solver's own reading of ``routing.problem`` semantics.

Used to build the reported ``Route`` figures, to screen jobs before the search, and inside the EV-aware
construction heuristic. ``routing.check`` re-implements the same rules independently; this module is the
solver side and may be imported by the solver only.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field

import numpy as np

from routing.problem import (
    ChargingStation,
    Job,
    RechargePolicy,
    RoutingProblem,
    VehicleType,
)
from routing.solution import Route, Stop, StopKind
from routing.traveltime import arrival_after, clock_origin, conservative_factor, latest_departure
from routing.zones import Access

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius [km] (IUGG R1), as in the problem docstring."""

EPS = 1e-6
"""Tolerance for float comparisons [min], [kWh], [kg]."""


def distance_matrix_km(problem: RoutingProblem) -> np.ndarray:
    """Distances between all locations [km] per the problem docstring ('Travel')."""
    if problem.distance_km is not None:
        return np.asarray(problem.distance_km, dtype=float)
    locs = problem.locations
    if locs[0].coordinate_kind == "planar":
        x = np.array([loc.x for loc in locs], dtype=float)
        y = np.array([loc.y for loc in locs], dtype=float)
        return np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    lat = np.radians([loc.lat for loc in locs])
    lon = np.radians([loc.lon for loc in locs])
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    gc = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return gc * problem.road_detour_factor


@dataclass
class Geometry:
    """Float matrices shared by evaluation and model building.

    With a speed profile (``routing.traveltime``), ``time_by_type`` holds the CONSERVATIVE constant travel
    times (free-flow time over the slowest factor within the vehicle type's shift) read by the OR-Tools model,
    so that every route it accepts is feasible exactly (arrivals are monotone in departures, FIFO);
    ``freeflow_by_type`` holds the factor-1 times, ``arrive``/``leave_by`` the exact time-dependent arrival
    and its inverse, used by ``evaluate_route`` (every reported figure) and by the construction's and the
    ruin-and-recreate's route scan (``routing.construct.Builder``, whose filters read the fastest factor and
    whose compiled kernels are off then). ``access`` holds the barred periods of zoned stops
    (``routing.zones``)."""

    problem: RoutingProblem
    dist: np.ndarray
    time_by_type: dict[str, np.ndarray] = field(default_factory=dict)
    freeflow_by_type: dict[str, np.ndarray] | None = None
    clock0: float = 0.0
    access: Access | None = None

    @classmethod
    def of(cls, problem: RoutingProblem) -> Geometry:
        dist = distance_matrix_km(problem)
        times: dict[str, np.ndarray] = {}
        shared = None if problem.travel_minutes is None else np.asarray(problem.travel_minutes, dtype=float)
        for vt in problem.vehicle_types:
            times[vt.id] = shared if shared is not None else dist / vt.speed_kmh * 60.0
        clock0 = clock_origin(problem.time_origin)
        access = Access(problem, clock0) if problem.zones else None
        if problem.speed_profile is None:
            return cls(problem, dist, times, clock0=clock0, access=access)
        # Per type, the slowest factor within its shift (the whole day without a shift end); one matrix per
        # distinct factor when the problem shares a time matrix (the compiled kernels test identity).
        cons: dict[str, np.ndarray] = {}
        by_factor: dict[float, np.ndarray] = {}
        for vt in problem.vehicle_types:
            slow = conservative_factor(problem.speed_profile, vt.shift_start, vt.shift_end, clock0)
            if shared is None:
                cons[vt.id] = times[vt.id] / slow
            else:
                cons[vt.id] = by_factor.setdefault(slow, shared / slow)
        return cls(problem, dist, cons, times, clock0, access)

    def arrive(self, vt: VehicleType, a: int, b: int, t: float) -> float:
        """Arrival [min] at location ``b`` leaving ``a`` at ``t``: exact, time-dependent with a profile."""
        if self.freeflow_by_type is None:
            return t + float(self.time_by_type[vt.id][a, b])
        profile = self.problem.speed_profile
        assert profile is not None
        return arrival_after(t, float(self.freeflow_by_type[vt.id][a, b]), profile, self.clock0)

    def leave_by(self, vt: VehicleType, a: int, b: int, arrive_by: float) -> float:
        """Latest departure [min] from ``a`` that reaches ``b`` by ``arrive_by`` (the inverse of ``arrive``)."""
        if self.freeflow_by_type is None:
            return arrive_by - float(self.time_by_type[vt.id][a, b])
        profile = self.problem.speed_profile
        assert profile is not None
        return latest_departure(arrive_by, float(self.freeflow_by_type[vt.id][a, b]), profile, self.clock0)

    def loc(self, location_id: str) -> int:
        return self.problem.index_of(location_id)


def charge_power_kw(station: ChargingStation, vt: VehicleType) -> float:
    """Constant charging power of ``vt`` at ``station`` [kW]."""
    vmax = vt.battery.max_charge_kw if vt.battery is not None else None
    return station.power_kw if vmax is None else min(station.power_kw, vmax)


def arc_energy_kwh(vt: VehicleType, km: float, load_kg: float) -> float:
    """Energy to drive ``km`` with ``load_kg`` on board [kWh] (load-dependent linear rate)."""
    if vt.battery is None:
        raise ValueError(
            f"arc_energy_kwh: vehicle type {vt.id!r} has no battery (only electric types use energy)"
        )
    return km * vt.battery.rate(load_kg, vt.payload_kg)


def route_arc_kwh(vt: VehicleType, visits: list[Visit], arc_km: list[float]) -> list[float]:
    """Energy of each arc of depot -> ``visits`` -> depot [kWh], at the load on board (deliveries known in
    advance); zeros for a vehicle without battery."""
    if vt.battery is None:
        return [0.0] * len(arc_km)
    running = sum(v.demand_kg for v in visits if isinstance(v, Job))
    out = []
    for k, km in enumerate(arc_km):
        out.append(arc_energy_kwh(vt, km, running))
        if k < len(visits) and isinstance(visits[k], Job):
            running -= visits[k].demand_kg  # type: ignore[union-attr]
    return out


Visit = Job | ChargingStation


@dataclass
class RouteEval:
    route: Route
    violations: list[str]

    @property
    def feasible(self) -> bool:
        return not self.violations


def _pick_window(job: Job, arrival: float) -> float | None:
    """Earliest feasible service start at ``job`` for ``arrival`` [min], or None."""
    if not job.time_windows:
        return arrival
    for w in job.windows_sorted:
        if w.end + EPS >= arrival:
            return max(arrival, w.start)
    return None


def pick_start(geo: Geometry, vt: VehicleType, job: Job, arrival: float) -> float | None:
    """``_pick_window`` with the access zones: the earliest start >= ``arrival`` inside a window at which
    ``vt`` may serve ``job`` (``routing.problem``, 'Access zones') [min], or None."""
    acc = geo.access
    barred = acc.barred(vt, job.location) if acc is not None else ()
    if not barred:
        return _pick_window(job, arrival)
    if not job.time_windows:
        s = acc.open_at(vt, job.location, arrival)  # type: ignore[union-attr]
        return None if s == float("inf") else s
    for w in job.windows_sorted:
        if w.end + EPS < arrival:
            continue
        s = acc.open_at(vt, job.location, max(arrival, w.start))  # type: ignore[union-attr]
        if s <= w.end + EPS:
            return s
    return None


def access_possible(geo: Geometry, vt: VehicleType, job: Job) -> bool:
    """Whether some instant inside a window of ``job`` and within the shift of ``vt`` is open to ``vt`` (the
    screening's ``access_zone`` reason claims that no vehicle type that could carry the job has one)."""
    if geo.access is None or not geo.access.barred(vt, job.location):
        return True
    s = pick_start(geo, vt, job, vt.shift_start)
    return s is not None and (vt.shift_end is None or s <= vt.shift_end + EPS)


def direct_trip_ok(geo: Geometry, vt: VehicleType, job: Job) -> bool:
    """depot -> ``job`` -> depot within a window, the zone's open times, the shift and the maximum duration,
    leaving at the shift start (exact time-dependent travel) and, for the duration, as late as that start
    allows."""
    s, j, e = geo.loc(vt.start_depot), geo.loc(job.location), geo.loc(vt.end)
    arrival = geo.arrive(vt, s, j, vt.shift_start)
    start = pick_start(geo, vt, job, arrival)
    if start is None:
        return False
    back = geo.arrive(vt, j, e, start + job.service_minutes)
    if vt.shift_end is not None and back > vt.shift_end + EPS:
        return False
    leave = max(vt.shift_start, geo.leave_by(vt, s, j, start))
    return vt.max_duration_minutes is None or back - leave <= vt.max_duration_minutes + EPS


def evaluate_route(
    geo: Geometry,
    vid: str,
    vt: VehicleType,
    visits: list[Visit],
    departure: float | None = None,
    charges: list[float] | None = None,
    *,
    stop_early: bool = False,
) -> RouteEval:
    """Schedule ``visits`` forward in float and list every violated rule.

    ``charges`` gives the energy taken at each station visit in order [kWh] (clipped to the room left);
    None uses the problem's policy: FULL charges to capacity; PARTIAL takes just enough to reach the next
    station or the end depot at the reserve (greedy, capped by capacity).
    """
    p = geo.problem
    times = geo.time_by_type[vt.id]
    dist = geo.dist
    bat = vt.battery
    violations: list[str] = []
    start = geo.loc(vt.start_depot)
    end = geo.loc(vt.end)
    t0 = vt.shift_start if departure is None else departure
    load = sum(v.demand_kg for v in visits if isinstance(v, Job))
    if load > vt.payload_kg + EPS:
        violations.append(f"{vid}: load {load:.3f} kg above payload {vt.payload_kg} kg")
        if stop_early:
            return RouteEval(_empty_route(vid, vt), violations)
    locs = [geo.loc(v.location) for v in visits]
    path = [start] + locs + [end]
    arc_km = [float(dist[a, b]) for a, b in itertools.pairwise(path)]
    arc_kwh = route_arc_kwh(vt, visits, arc_km)

    soc = bat.initial_kwh if bat else None
    soc0 = soc
    t = t0
    stops: list[Stop] = []
    station_k = 0
    total_charged = 0.0
    total_charge_min = 0.0
    policy = p.recharge_policy
    first_wait_shift = None
    td = geo.freeflow_by_type is not None
    for k, v in enumerate(visits):
        arrival = geo.arrive(vt, path[k], path[k + 1], t) if td else t + float(times[path[k], path[k + 1]])
        soc_arr = None
        if bat is not None:
            soc_arr = soc - arc_kwh[k]  # type: ignore[operator]
            if soc_arr < bat.reserve_kwh - EPS:
                violations.append(
                    f"{vid}: SoC {soc_arr:.4f} kWh below reserve {bat.reserve_kwh:.4f} at {v.id}"
                )
                if stop_early:
                    return RouteEval(_empty_route(vid, vt), violations)
        if isinstance(v, Job):
            if v.required_kind is not None and v.required_kind is not vt.kind:
                violations.append(f"{vid}: job {v.id} needs a {v.required_kind.value} vehicle")
            s = _pick_window(v, arrival) if geo.access is None else pick_start(geo, vt, v, arrival)
            if s is None:
                violations.append(f"{vid}: arrives {arrival:.4f} at {v.id} after its last window")
                if stop_early:
                    return RouteEval(_empty_route(vid, vt), violations)
                s = arrival
            if first_wait_shift is None:
                first_wait_shift = s - arrival if k == 0 else 0.0
            dep = s + v.service_minutes
            load -= v.demand_kg
            stops.append(Stop(StopKind.JOB, v.id, v.location, arrival, s, dep, load, soc_arr, soc_arr))
            soc = soc_arr
        else:
            if first_wait_shift is None:
                first_wait_shift = 0.0
            if bat is None:
                violations.append(f"{vid}: diesel vehicle visits station {v.id}")
                stops.append(Stop(StopKind.STATION, v.id, v.location, arrival, arrival, arrival, load))
                t = arrival
                continue
            room = bat.capacity_kwh - soc_arr  # type: ignore[operator]
            if charges is not None:
                e = min(max(charges[station_k], 0.0), room)
            elif policy is RechargePolicy.FULL:
                e = room
            else:
                need = 0.0
                for j in range(k + 1, len(visits) + 1):
                    need += arc_kwh[j]
                    if j == len(visits) or isinstance(visits[j], ChargingStation):
                        break
                e = min(room, max(0.0, bat.reserve_kwh + need - soc_arr))  # type: ignore[operator]
            e = max(e, 0.0)
            minutes = e / charge_power_kw(v, vt) * 60.0
            dep = arrival + minutes
            soc = soc_arr + e  # type: ignore[operator]
            total_charged += e
            total_charge_min += minutes
            stops.append(
                Stop(
                    StopKind.STATION, v.id, v.location, arrival, arrival, dep, load, soc_arr, soc, e, minutes
                )
            )
            station_k += 1
        t = stops[-1].departure
    back = geo.arrive(vt, path[-2], path[-1], t) if td else t + float(times[path[-2], path[-1]])
    soc_end = None
    if bat is not None:
        soc_end = soc - arc_kwh[-1]  # type: ignore[operator]
        if soc_end < bat.reserve_kwh - EPS:
            violations.append(f"{vid}: SoC {soc_end:.4f} kWh below reserve on return")
    if vt.shift_end is not None and back > vt.shift_end + EPS:
        violations.append(f"{vid}: returns {back:.4f} after shift end {vt.shift_end}")
    # Leave as late as possible without moving any service start (waiting at the first job is avoidable).
    shift = first_wait_shift or 0.0
    if shift > EPS:
        if td:  # leave so as to arrive at the service start exactly (inverse travel time, FIFO)
            t0 = max(t0, geo.leave_by(vt, path[0], path[1], stops[0].service_start))
        else:
            t0 += shift
        stops[0] = Stop(**{**stops[0].__dict__, "arrival": stops[0].service_start})
    if vt.max_duration_minutes is not None and back - t0 > vt.max_duration_minutes + EPS:
        violations.append(f"{vid}: duration {back - t0:.4f} min above {vt.max_duration_minutes}")
    km = sum(arc_km)
    energy = sum(arc_kwh) if bat else 0.0
    fuel = km * vt.diesel_l_per_100km / 100.0 if vt.diesel_l_per_100km is not None else 0.0
    cost = (vt.fixed_cost if visits else 0.0) + vt.cost_per_km * km + vt.cost_per_hour * (back - t0) / 60.0
    route = Route(
        vehicle_id=vid,
        vehicle_type=vt.id,
        start_depot=vt.start_depot,
        end_depot=vt.end,
        departure=t0,
        arrival=back,
        stops=tuple(stops),
        load_departure_kg=sum(v.demand_kg for v in visits if isinstance(v, Job)),
        distance_km=km,
        energy_kwh=energy,
        fuel_l=fuel,
        cost=cost,
        soc_departure_kwh=soc0,
        soc_arrival_kwh=soc_end,
        energy_charged_kwh=total_charged,
        charging_minutes=total_charge_min,
    )
    return RouteEval(route, violations)


def _empty_route(vid: str, vt: VehicleType) -> Route:
    return Route(vid, vt.id, vt.start_depot, vt.end, vt.shift_start, vt.shift_start, (), 0.0, 0.0)


def trim_charges(
    geo: Geometry, vid: str, vt: VehicleType, visits: list[Visit], departure: float, charges: list[float]
) -> list[float]:
    """Lower planned charges from the last station backwards while every later SoC stays >= reserve."""
    if vt.battery is None:
        raise ValueError(f"trim_charges: vehicle type {vt.id!r} has no battery (only electric types charge)")
    charges = list(charges)
    n_st = len(charges)
    for s in range(n_st - 1, -1, -1):
        ev = evaluate_route(geo, vid, vt, visits, departure, charges)
        st_positions = [i for i, st in enumerate(ev.route.stops) if st.kind is StopKind.STATION]
        pos = st_positions[s]
        charges[s] = ev.route.stops[pos].energy_charged_kwh
        later = [st.soc_arrival_kwh for st in ev.route.stops[pos + 1 :]] + [ev.route.soc_arrival_kwh]
        surplus = min(x for x in later if x is not None) - vt.battery.reserve_kwh
        if surplus > 0:
            charges[s] = max(0.0, charges[s] - surplus)
    return charges


def lp_charges(geo: Geometry, vt: VehicleType, visits: list[Visit], departure: float) -> list[float] | None:
    """Least total energy charged at the station visits of a fixed sequence such that every SoC stays within
    [reserve, capacity] and every window, the shift end and the maximum duration hold [kWh per visit], or
    None if no charging plan fits (a linear programme, solved by HiGHS).

    Why: charging "just enough to reach the next station" is not always schedulable. Fuzz seed 17: a van
    waits 3 h for a window after its second stop at S1, then has 15 min between S2 and the next window; the
    greedy rule charges little at S1 and much at S2 and arrives late, while the OR-Tools model had charged at
    S1 during the wait. The model's energy slack values did not form a consistent plan there (most likely
    bounds: nothing fixes them), so the amounts are recomputed here. Several windows per job are relaxed to [first start, last end]; the forward
    evaluation afterwards decides."""
    from scipy.optimize import linprog

    bat = vt.battery
    if bat is None:
        return None
    st_pos = [k for k, v in enumerate(visits) if isinstance(v, ChargingStation)]
    if not st_pos:
        return []
    times = geo.time_by_type[vt.id]
    path = [geo.loc(vt.start_depot)] + [geo.loc(v.location) for v in visits] + [geo.loc(vt.end)]
    arc_kwh = route_arc_kwh(vt, visits, [float(geo.dist[a, b]) for a, b in itertools.pairwise(path)])
    m, n = len(st_pos), len(visits)
    # Variables: charges c_0..c_{m-1}, service starts s_0..s_{n-1}, return time b.
    nv = m + n + 1
    ci = {k: i for i, k in enumerate(st_pos)}
    rows: list[np.ndarray] = []
    rhs: list[float] = []

    def row() -> np.ndarray:
        return np.zeros(nv)

    bounds: list[tuple[float | None, float | None]] = [(0.0, None)] * m
    for v in visits:
        if isinstance(v, Job) and v.time_windows:
            ws = v.windows_sorted
            bounds.append((ws[0].start, ws[-1].end))
        else:
            bounds.append((None, None))
    bounds.append((None, vt.shift_end))
    # Time: s_k >= s_{k-1} + service_{k-1} (+ charging minutes) + travel; the first from the departure.
    for k in range(n + 1):
        r = row()
        here = m + k if k < n else m + n
        r[here] = -1.0
        travel = float(times[path[k], path[k + 1]])
        if k == 0:
            rows.append(r)
            rhs.append(-(departure + travel))
            continue
        prev = visits[k - 1]
        r[m + k - 1] = 1.0
        service = prev.service_minutes if isinstance(prev, Job) else 0.0
        if isinstance(prev, ChargingStation):
            r[ci[k - 1]] = 60.0 / charge_power_kw(prev, vt)
        rows.append(r)
        rhs.append(-(service + travel))
    if vt.max_duration_minutes is not None:
        r = row()
        r[m + n] = 1.0
        rows.append(r)
        rhs.append(departure + vt.max_duration_minutes)
    # Energy: on arrival at every visit and back at the depot >= reserve; after each charge <= capacity.
    used = 0.0
    for k in range(n + 1):
        used += arc_kwh[k]
        r = row()
        for j in st_pos:
            if j < k:
                r[ci[j]] = -1.0
        rows.append(r)
        rhs.append(bat.initial_kwh - used - bat.reserve_kwh)
        if k < n and k in ci:
            r2 = -r
            r2[ci[k]] = 1.0
            rows.append(r2)
            rhs.append(bat.capacity_kwh - bat.initial_kwh + used)
    cost = np.zeros(nv)
    cost[:m] = 1.0
    cost[m + n] = 1e-6  # among equal charges, the earliest return
    res = linprog(cost, A_ub=np.vstack(rows), b_ub=np.array(rhs), bounds=bounds, method="highs")
    if res.status != 0:
        return None
    return [max(0.0, float(x)) for x in res.x[:m]]


def direct_reach_ok(geo: Geometry, vt: VehicleType, job: Job) -> bool:
    """A lone out-and-back trip to ``job`` without stations respects the battery (diesel: always)."""
    if vt.battery is None:
        return True
    s, j, e = geo.loc(vt.start_depot), geo.loc(job.location), geo.loc(vt.end)
    need = arc_energy_kwh(vt, float(geo.dist[s, j]), job.demand_kg) + arc_energy_kwh(
        vt, float(geo.dist[j, e]), 0
    )
    return vt.battery.initial_kwh - need >= vt.battery.reserve_kwh - EPS


def _reachable_after_depot_charge(geo: Geometry, vt: VehicleType, job: Job) -> bool:
    """A route that continues a day away from its reload depot (``VehicleType.reload_depot``, routing.replan)
    may go back there first and charge while it reloads (``depot_charge_kw``, 'Multi-trip' in
    ``routing.problem``): ``job`` is then in range if that depot is and the job is from there on a full
    charge, with the trips left."""
    bat = vt.battery
    if bat is None or vt.max_trips < 2 or not vt.depot_charge_kw:
        return False
    start, depot = geo.loc(vt.start_depot), geo.loc(vt.reload_at)
    if start == depot:
        return False
    if (
        float(geo.dist[start, depot]) * bat.consumption_empty_kwh_per_km
        > bat.initial_kwh - bat.reserve_kwh + EPS
    ):
        return False
    charged = dataclasses.replace(
        vt,
        start_depot=vt.reload_at,
        reload_depot=None,
        max_trips=vt.max_trips - 1,
        battery=dataclasses.replace(bat, initial_soc=1.0),
    )
    return reachable_with_stations(geo, charged, job)


def reachable_with_stations(geo: Geometry, vt: VehicleType, job: Job) -> bool:
    """Energy-only reachability of ``job`` and back via any chain of stations (full charges, worst load)."""
    bat = vt.battery
    if bat is None:
        return True
    if direct_reach_ok(geo, vt, job) or _reachable_after_depot_charge(geo, vt, job):
        return True
    p = geo.problem
    if not p.stations:
        return False
    usable_full = bat.capacity_kwh - bat.reserve_kwh
    usable0 = bat.initial_kwh - bat.reserve_kwh
    rate = bat.rate(job.demand_kg, vt.payload_kg)  # out: the job's own load (a route of its own)
    back_rate = bat.consumption_empty_kwh_per_km
    st_locs = [geo.loc(s.location) for s in p.stations]
    start, goal, end = geo.loc(vt.start_depot), geo.loc(job.location), geo.loc(vt.end)

    # Stations reachable from the start depot (BFS over legs within a full battery).
    def closure(seed: list[int], rate: float) -> set[int]:
        seen = set(seed)
        frontier = list(seed)
        while frontier:
            a = frontier.pop()
            for b in range(len(st_locs)):
                if b not in seen and geo.dist[st_locs[a], st_locs[b]] * rate <= usable_full + EPS:
                    seen.add(b)
                    frontier.append(b)
        return seen

    out = closure(
        [b for b in range(len(st_locs)) if geo.dist[start, st_locs[b]] * rate <= usable0 + EPS], rate
    )
    direct_out = geo.dist[start, goal] * rate <= usable0 + EPS
    reach_job_from = [b for b in out if geo.dist[st_locs[b], goal] * rate <= usable_full + EPS]
    if not direct_out and not reach_job_from:
        return False
    # Leaving the job: the charge left depends on how it was reached; bound it by the best case.
    best_left = max(
        ([usable0 - geo.dist[start, goal] * rate] if direct_out else [])
        + [usable_full - geo.dist[st_locs[b], goal] * rate for b in reach_job_from]
    )
    back_direct = geo.dist[goal, end] * bat.consumption_empty_kwh_per_km <= best_left + EPS
    if back_direct:
        return True
    first = [b for b in range(len(st_locs)) if geo.dist[goal, st_locs[b]] * back_rate <= best_left + EPS]
    home = closure(first, back_rate)
    return any(geo.dist[st_locs[b], end] * back_rate <= usable_full + EPS for b in home)
