"""Solver side of multi-trip routes (reloads at the start depot) and drivers' breaks.

Rules: ``routing.problem`` docstring, 'Multi-trip' and 'Driver breaks'. The independent checker
(``routing.check``) re-implements them; this module is what the solver uses:

* ``add_to_model`` adds, to a model built by ``routing.model.build_model``, what the two features need:
  - reload copies of the start depot, ``max_trips - 1`` optional nodes per vehicle (zero-penalty disjunctions,
    only that vehicle), the pattern of OR-Tools' ``cvrp_reload`` sample: the ``load`` dimension's transit at a
    copy is minus the largest payload and its slack (up to that payload) lets the cumul drop back to zero, so
    each trip is bounded by the payload on its own; the copy's service time is the reload time; the ``energy``
    slack at a copy is the depot charge (as at station copies), tied to the time slack so that
    ``reload + time slack >= charging minutes`` (charging while reloading);
  - drivers' breaks, two ways. (1) First (``model_geometry``): travel times inflated so that they reserve
    the time of the breaks the float placement will insert (``break_inflation``); a pure change of transits,
    so OR-Tools' search runs at its usual speed. (2) When a BREAK placement then fails on a route (a wait for
    a time window can absorb the reserve), ``routing.solve`` searches again with OR-Tools break intervals:
    ``ceil(span / max_driving)`` optional intervals of ``min_rest`` minutes per vehicle and
    ``SetBreakDistanceDurationOfVehicle(max_driving, min_rest)``. That rule counts ALL time between rests
    (service, waiting, charging too), not only driving, so it is conservative; its propagation is slow
    (measured, 30 jobs and 4 trucks with reloads: 20-23 of 30 jobs placed in 10 s, against all 30 with (1));
* ``evaluate`` schedules a route in floating point with its reloads and places the BREAK stops: a break goes
  where the next arc would take continuous driving above the limit, at the latest stop since the last rest
  whose choice keeps the route feasible (a break before a wait for a time window costs no time).

The construction and ruin-and-recreate (``routing.construct``, ``routing.lns``, ``routing.eject``) do not know
reloads or breaks: they build single-trip routes without BREAK stops (for breaks on the travel times of
``construction_geometry``, which reserve the rests), which seed the OR-Tools model. After OR-Tools,
``routing.lns_trips`` ruins and recreates on routes judged by ``evaluate`` (reloads added, rests placed exactly).
OR-Tools' own first solutions are not enough on their own: with two station copies per type they ran to the
time limit on small random problems and returned every job dropped.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp

from routing.evaluate import EPS, Geometry, RouteEval, Visit, _pick_window, charge_power_kw, pick_start
from routing.problem import ChargingStation, Job, RechargePolicy, RoutingProblem, VehicleType
from routing.solution import Route, Stop, StopKind


@dataclass(frozen=True)
class Reload:
    """A reload visit at the start depot (``id`` and ``location``: the depot's location id)."""

    id: str

    @property
    def location(self) -> str:
        return self.id


ExtVisit = Visit | Reload


def uses_trips(problem: RoutingProblem) -> bool:
    return any(vt.max_trips > 1 and vt.count > 0 for vt in problem.vehicle_types)


def uses_breaks(problem: RoutingProblem) -> bool:
    return any(vt.break_rule is not None and vt.count > 0 for vt in problem.vehicle_types)


def extended(problem: RoutingProblem) -> bool:
    """True when the problem needs this module (else the solver is exactly the single-trip one)."""
    return uses_trips(problem) or uses_breaks(problem)


def reload_copies(problem: RoutingProblem, n_jobs: int) -> dict[str, int]:
    """Reload copies per vehicle id: ``max_trips - 1``, at most one less than the jobs (a trip serves one), or
    as many as the jobs where a route starts away from its reload depot (a reload may come first there)."""
    out: dict[str, int] = {}
    for vid, vt in problem.vehicle_ids():
        first = 1 if vt.reload_at != vt.start_depot else 0
        k = min(vt.max_trips - 1, max(0, n_jobs - 1 + first))
        if k > 0:
            out[vid] = k
    return out


# --------------------------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------------------------


def add_to_model(
    bm, geo: Geometry, *, time_scale: int, energy_scale: int, ratio_den: int, break_intervals: bool = True
) -> None:
    """Reload copies' side constraints and break intervals on a built model (``routing.model.BuiltModel``).

    The reload copies' transits (load, time, energy) are set by ``build_model`` itself; here: which vehicle
    may use a copy, no useless copies (last, two in a row, or first where the route starts at its reload depot),
    the charge-time link and the breaks (with the driving done before the start, ``driving_at_start_minutes``).
    """
    routing: pywrapcp.RoutingModel = bm.routing
    manager = bm.manager
    solver = routing.solver()
    time = bm.time
    energy = bm.energy
    vehicles = bm.vehicles
    by_vid = {vid: v for v, (vid, _) in enumerate(vehicles)}
    copies_of: dict[int, list[int]] = {}
    for i, nd in enumerate(bm.nodeset.nodes):
        if nd.kind != "reload":
            continue
        idx = manager.NodeToIndex(i)
        routing.AddDisjunction([idx], 0)
        v = by_vid.get(nd.vid or "")
        if v is None:
            routing.ActiveVar(idx).SetValue(0)
            continue
        routing.VehicleVar(idx).SetValues([-1, v])
        copies_of.setdefault(v, []).append(idx)
        vt = vehicles[v][1]
        routing.AddToAssignment(time.SlackVar(idx))
        b = vt.battery
        if energy is not None:
            routing.AddToAssignment(energy.SlackVar(idx))
            if b is None or vt.depot_charge_kw is None:
                energy.SlackVar(idx).SetValue(0)
            else:
                full = int(math.floor((b.capacity_kwh - b.reserve_kwh) * energy_scale + 1e-9))
                solver.Add(energy.CumulVar(idx) + energy.SlackVar(idx) <= full)
                kw = (
                    vt.depot_charge_kw
                    if b.max_charge_kw is None
                    else min(vt.depot_charge_kw, b.max_charge_kw)
                )
                ratio = 60.0 * time_scale / (kw * energy_scale)
                num = int(math.ceil(ratio * ratio_den - 1e-9))
                reload_units = int(math.floor(vt.reload_minutes * time_scale + 1e-9))
                # Charging while reloading: reload + slack >= charging minutes.
                solver.Add((time.SlackVar(idx) + reload_units) * ratio_den >= energy.SlackVar(idx) * num)
    for v, idxs in copies_of.items():
        start, end = routing.Start(v), routing.End(v)
        vt = vehicles[v][1]
        if geo.loc(vt.reload_at) == geo.loc(vt.start_depot):
            # A reload first is useless where the route starts at its reload depot; a route that continues a day
            # away from it (``reload_depot``, routing.replan) may have to go back first (to reload, or to
            # charge at the depot's charger).
            routing.NextVar(start).RemoveValues(idxs)
        for idx in idxs:
            routing.NextVar(idx).RemoveValues([end] + [k for k in idxs if k != idx])

    # Breaks: OR-Tools intervals on the time dimension (conservative: all time counts, see module docstring).
    if not break_intervals:
        return
    nodes = bm.nodeset.nodes
    reload_min = {vt.id: vt.reload_minutes for _, vt in vehicles}
    visit = []  # time at a node a break may not interrupt: service, reloading
    for nd in nodes:
        minutes = 0.0
        if nd.job is not None:
            minutes = nd.job.service_minutes
        elif nd.kind == "reload":
            minutes = reload_min.get(nd.vtype or "", 0.0)
        visit.append(int(math.ceil(minutes * time_scale - 1e-9)))
    for v, (_, vt) in enumerate(vehicles):
        rule = vt.break_rule
        if rule is None:
            continue
        lo = int(math.ceil(vt.shift_start * time_scale))
        span = bm.horizon - lo
        if vt.shift_end is not None:
            span = min(span, int(math.floor(vt.shift_end * time_scale)) - lo)
        if vt.max_duration_minutes is not None:
            span = min(span, int(math.floor(vt.max_duration_minutes * time_scale)))
        drive = int(math.floor(rule.max_driving_minutes * time_scale + 1e-9))
        rest = int(math.ceil(rule.min_rest_minutes * time_scale - 1e-9))
        # Driving already done before the route starts (a day under way, routing.replan): the first rest is due
        # after ``drive - before`` (rounded up: conservative).
        before = min(drive, int(math.ceil(vt.driving_at_start_minutes * time_scale - 1e-9)))
        if span <= drive - before:
            continue  # the whole shift is shorter than what is left of the limit: no break can be needed
        n_breaks = max(1, math.ceil((span + before) / max(1, drive)))
        # Optional intervals: the ones a short route does not need stay unperformed (mandatory ones had to be
        # parked before the start or after the end, and the search then often timed out on small instances).
        big = bm.horizon + n_breaks * rest
        intervals = [
            solver.FixedDurationIntervalVar(0, big, rest, True, f"break {v} {k}") for k in range(n_breaks)
        ]
        time.SetBreakIntervalsOfVehicle(intervals, v, visit)
        time.SetBreakDistanceDurationOfVehicle(drive, rest, v)
        if before > 0:
            # OR-Tools' rule counts from the route's start: a route longer than what is left of the limit must
            # have a rest (the first interval, the others being interchangeable) within that much of its start.
            s, e = time.CumulVar(routing.Start(v)), time.CumulVar(routing.End(v))
            left = drive - before
            first = intervals[0]
            long_route = solver.IsGreaterCstVar(e - s, left)
            done = first.PerformedExpr().Var()
            solver.Add(done >= long_route)
            solver.Add(first.SafeStartExpr(0) >= s - big * (1 - done))
            solver.Add(first.SafeStartExpr(0) <= s + left + big * (1 - long_route))


def break_inflation(vt: VehicleType, times) -> tuple[float, float]:
    """Factor on travel minutes and minutes added to the arcs leaving the start depot that reserve the time of
    the breaks the float placement (``evaluate``, latest stop first) inserts, for a type with a break rule.

    Between two rests the driving ``S`` satisfies ``S + a > D`` (``a`` the arc that would have passed the limit
    ``D``), so with ``a_max`` the longest arc that can be driven (``<= D``) each rest of ``R`` minutes follows at
    least ``D - a_max`` of driving: factor ``1 + R / (D - a_max)``. For long arcs (``a_max > D / 2``) the
    bound from two consecutive stretches (``S_k + S_(k+1) > D``) is tighter: at most ``1 + 2 * driving / D``
    rests, i.e. factor ``1 + 2R / D`` plus ``R`` once per trip. These hold while no waiting intervenes: a wait
    in the model absorbs what it reserved before, so the float placement can still fail after a wait for a
    time window, and ``routing.solve`` then searches again with break intervals.
    """
    rule = vt.break_rule
    if rule is None:
        return 1.0, 0.0
    d, r = rule.max_driving_minutes, rule.min_rest_minutes
    drivable = times[times <= d + EPS]
    a_max = float(drivable.max()) if drivable.size else 0.0
    if a_max <= d / 2:
        return 1.0 + r / (d - a_max), 0.0
    return 1.0 + 2.0 * r / d, r


def _reserved(geo: Geometry, vt: VehicleType, times: np.ndarray) -> np.ndarray:
    """``times`` [min] of type ``vt`` inflated by ``break_inflation``: the factor on every arc, the once-per-trip
    reserve on the arcs leaving the start depot and the reload depot, and for a driver who has driven before the
    route starts (``driving_at_start_minutes``, routing.replan) one rest more on the arcs leaving the start: the
    first rest may then be due as early as before the first arc."""
    factor, once = break_inflation(vt, geo.time_by_type[vt.id])
    t = times * factor
    start = geo.loc(vt.start_depot)
    t[start, :] += once
    if geo.loc(vt.reload_at) != start:
        t[geo.loc(vt.reload_at), :] += once
    if vt.break_rule is not None and vt.driving_at_start_minutes > 0:
        t[start, :] += vt.break_rule.min_rest_minutes
    return t


def model_geometry(geo: Geometry) -> Geometry:
    """``geo`` with travel times inflated by ``break_inflation`` for the vehicle types with a break rule."""
    p = geo.problem
    times = dict(geo.time_by_type)
    for vt in p.vehicle_types:
        if vt.break_rule is not None:
            times[vt.id] = _reserved(geo, vt, geo.time_by_type[vt.id])
    return dataclasses.replace(geo, time_by_type=times)  # keeps a speed profile's and the zones' fields


def construction_geometry(geo: Geometry) -> Geometry:
    """``model_geometry`` for the construction and the ruin-and-recreate (``routing.construct``): under a speed
    profile they scan the free-flow times (``Geometry.freeflow_by_type``), so those are inflated as well, by the
    same factor, with the same reserves on the arcs leaving the depots."""
    out = model_geometry(geo)
    if geo.freeflow_by_type is None:
        return out
    p = geo.problem
    free = dict(geo.freeflow_by_type)
    for vt in p.vehicle_types:
        if vt.break_rule is not None:
            free[vt.id] = _reserved(geo, vt, geo.freeflow_by_type[vt.id])
    return dataclasses.replace(out, freeflow_by_type=free)


# --------------------------------------------------------------------------------------------------------------
# Float evaluation
# --------------------------------------------------------------------------------------------------------------


def _charge_kw(v: ChargingStation | Reload, vt: VehicleType) -> float:
    if isinstance(v, ChargingStation):
        return charge_power_kw(v, vt)
    b = vt.battery
    kw = vt.depot_charge_kw or 0.0
    return kw if b is None or b.max_charge_kw is None else min(kw, b.max_charge_kw)


_LATE = (" after its last window", " after shift end ", ": duration ")
"""Words of ``_schedule``'s time violations."""


def _late(violation: str) -> bool:
    return any(w in violation for w in _LATE)


def _charges_at(v: ExtVisit, vt: VehicleType) -> bool:
    """Whether a vehicle of type ``vt`` can charge at visit ``v`` (a station, or a reload with a depot charger)."""
    if vt.battery is None or isinstance(v, Job):
        return False
    return _charge_kw(v, vt) > 0  # type: ignore[arg-type]


def _arc_kwh(geo: Geometry, vt: VehicleType, visits: list[ExtVisit]) -> tuple[list[float], list[float]]:
    """Per-trip loads [kg] and the energy of each arc of start depot -> ``visits`` -> end depot [kWh] at the
    load of the current trip (zeros without battery)."""
    trip_loads = [0.0]
    for v in visits:
        if isinstance(v, Reload):
            trip_loads.append(0.0)
        elif isinstance(v, Job):
            trip_loads[-1] += v.demand_kg
    path = [geo.loc(vt.start_depot)] + [geo.loc(v.location) for v in visits] + [geo.loc(vt.end)]
    bat = vt.battery
    out = []
    load, trip = trip_loads[0], 0
    for k, (a, b) in enumerate(itertools.pairwise(path)):
        out.append(float(geo.dist[a, b]) * bat.rate(load, vt.payload_kg) if bat else 0.0)
        if k < len(visits):
            v = visits[k]
            if isinstance(v, Job):
                load -= v.demand_kg
            elif isinstance(v, Reload):
                trip += 1
                load = trip_loads[trip]
    return trip_loads, out


def _schedule(
    geo: Geometry,
    vid: str,
    vt: VehicleType,
    visits: list[ExtVisit],
    departure: float,
    charges: list[float] | None,
    breaks_after: set[int],
) -> tuple[Route, list[str], int | None]:
    """Forward schedule with BREAK stops after the visits in ``breaks_after`` (-1: none before the first arc).

    Returns the route, the violated rules (continuous driving excluded) and the index of the first arc (the
    visit it leads to, ``len(visits)`` for the end depot) on which continuous driving exceeds the limit.
    ``charges``: energy per station/reload visit in order [kWh]; None: just enough to reach the next charging
    opportunity (FULL policy stations: to capacity).
    """
    p = geo.problem
    times = geo.time_by_type[vt.id]
    bat = vt.battery
    rule = vt.break_rule
    violations: list[str] = []
    start, end = geo.loc(vt.start_depot), geo.loc(vt.end)
    path = [start] + [geo.loc(v.location) for v in visits] + [end]
    arc_km = [float(geo.dist[a, b]) for a, b in itertools.pairwise(path)]
    # Load on each arc: the current trip's remaining demand.
    trip_loads, arc_kwh = _arc_kwh(geo, vt, visits)
    for k, tl in enumerate(trip_loads):
        if tl > vt.payload_kg + EPS:
            violations.append(f"{vid}: trip {k + 1} load {tl:.3f} kg above payload {vt.payload_kg} kg")
    if len(trip_loads) > vt.max_trips:
        violations.append(f"{vid}: {len(trip_loads)} trips above max_trips {vt.max_trips}")

    t = departure
    soc = bat.initial_kwh if bat else None
    soc0 = soc
    driving = vt.driving_at_start_minutes  # a route that continues a day (routing.replan)
    overdrive: int | None = None
    stops: list[Stop] = []
    charged_total = 0.0
    charge_min_total = 0.0
    k_charge = 0
    load = trip_loads[0]
    trip = 0
    here_loc = vt.start_depot

    def rest_here() -> None:
        nonlocal t, driving
        if rule is None:
            return
        stops.append(
            Stop(StopKind.BREAK, here_loc, here_loc, t, t, t + rule.min_rest_minutes, load, soc, soc)
        )
        t += rule.min_rest_minutes
        driving = 0.0

    if -1 in breaks_after:
        rest_here()
    td = geo.freeflow_by_type is not None  # time-dependent travel (routing.traveltime): exact arrivals
    for k, v in enumerate(visits):
        arrival = geo.arrive(vt, path[k], path[k + 1], t) if td else t + float(times[path[k], path[k + 1]])
        travel = arrival - t
        driving += travel
        if rule is not None and driving > rule.max_driving_minutes + EPS and overdrive is None:
            overdrive = k
        soc_arr = None
        if bat is not None and soc is not None:
            soc_arr = soc - arc_kwh[k]
            if soc_arr < bat.reserve_kwh - EPS:
                violations.append(f"{vid}: SoC {soc_arr:.4f} kWh below reserve at {v.id}")
        if isinstance(v, Job):
            if v.required_kind is not None and v.required_kind is not vt.kind:
                violations.append(f"{vid}: job {v.id} needs a {v.required_kind.value} vehicle")
            s = _pick_window(v, arrival) if geo.access is None else pick_start(geo, vt, v, arrival)
            if s is None:
                violations.append(f"{vid}: arrives {arrival:.4f} at {v.id} after its last window")
                s = arrival
            load -= v.demand_kg
            dep = s + v.service_minutes
            stops.append(Stop(StopKind.JOB, v.id, v.location, arrival, s, dep, load, soc_arr, soc_arr))
            soc = soc_arr
        else:
            e = 0.0
            kw = _charge_kw(v, vt)
            if bat is not None and soc_arr is not None and kw > 0:
                room = bat.capacity_kwh - soc_arr
                if isinstance(v, ChargingStation) and p.recharge_policy is RechargePolicy.FULL:
                    e = room
                elif charges is not None and k_charge < len(charges):
                    e = min(max(charges[k_charge], 0.0), room)
                else:
                    # Up to the next stop that can charge: a reload without a depot charger is none (the
                    # greedy rule otherwise left a trip after it without energy).
                    need = 0.0
                    for j in range(k + 1, len(visits) + 1):
                        need += arc_kwh[j]
                        if j == len(visits) or _charges_at(visits[j], vt):
                            break
                    e = min(room, max(0.0, bat.reserve_kwh + need - soc_arr))
            elif isinstance(v, ChargingStation):
                violations.append(f"{vid}: diesel vehicle visits station {v.id}")
            k_charge += 1
            minutes = e / kw * 60.0 if e > 0 else 0.0
            charged_total += e
            charge_min_total += minutes
            soc = None if soc_arr is None else soc_arr + e
            if isinstance(v, Reload):
                if v.id != vt.reload_at:
                    depot = "reload depot" if vt.reload_at != vt.start_depot else "start depot"
                    violations.append(f"{vid}: reload at {v.id}, not at the {depot} {vt.reload_at}")
                trip += 1
                load = trip_loads[trip]
                dep = arrival + max(vt.reload_minutes, minutes)
                kind = StopKind.RELOAD
            else:
                dep = arrival + minutes
                kind = StopKind.STATION
            stops.append(Stop(kind, v.id, v.location, arrival, arrival, dep, load, soc_arr, soc, e, minutes))
        t = stops[-1].departure
        here_loc = v.location
        if k in breaks_after:
            rest_here()
    back = geo.arrive(vt, path[-2], path[-1], t) if td else t + float(times[path[-2], path[-1]])
    travel = back - t
    driving += travel
    if rule is not None and driving > rule.max_driving_minutes + EPS and overdrive is None:
        overdrive = len(visits)
    soc_end = None
    if bat is not None and soc is not None:
        soc_end = soc - arc_kwh[-1]
        if soc_end < bat.reserve_kwh - EPS:
            violations.append(f"{vid}: SoC {soc_end:.4f} kWh below reserve on return")
    if vt.shift_end is not None and back > vt.shift_end + EPS:
        violations.append(f"{vid}: returns {back:.4f} after shift end {vt.shift_end}")
    t0 = departure
    # Leave later instead of waiting at the first job (no break before it: breaks follow visits).
    if stops and stops[0].kind is StopKind.JOB and stops[0].service_start > stops[0].arrival + EPS:
        if td:  # the inverse travel time (FIFO): arrive exactly at the service start
            t0 = max(t0, geo.leave_by(vt, path[0], path[1], stops[0].service_start))
        else:
            t0 += stops[0].service_start - stops[0].arrival
        stops[0] = Stop(**{**stops[0].__dict__, "arrival": stops[0].service_start})
    if vt.max_duration_minutes is not None and back - t0 > vt.max_duration_minutes + EPS:
        violations.append(f"{vid}: duration {back - t0:.4f} min above {vt.max_duration_minutes}")
    km = sum(arc_km)
    fuel = km * vt.diesel_l_per_100km / 100.0 if vt.diesel_l_per_100km is not None else 0.0
    used = any(isinstance(v, Job) for v in visits)
    cost = (vt.fixed_cost if used else 0.0) + vt.cost_per_km * km + vt.cost_per_hour * (back - t0) / 60.0
    route = Route(
        vehicle_id=vid,
        vehicle_type=vt.id,
        start_depot=vt.start_depot,
        end_depot=vt.end,
        departure=t0,
        arrival=back,
        stops=tuple(stops),
        load_departure_kg=trip_loads[0],
        distance_km=km,
        energy_kwh=sum(arc_kwh) if bat else 0.0,
        fuel_l=fuel,
        cost=cost,
        soc_departure_kwh=soc0,
        soc_arrival_kwh=soc_end,
        energy_charged_kwh=charged_total,
        charging_minutes=charge_min_total,
    )
    return route, violations, overdrive


def _place_breaks(
    geo: Geometry,
    vid: str,
    vt: VehicleType,
    visits: list[ExtVisit],
    departure: float,
    charges: list[float] | None,
) -> RouteEval:
    """Schedule with as few BREAK stops as the rule needs, each at the latest stop that keeps it feasible."""
    rule = vt.break_rule
    breaks: set[int] = set()
    route, bad, over = _schedule(geo, vid, vt, visits, departure, charges, breaks)
    if rule is None:
        return RouteEval(route, bad)
    # A driver who has driven before the route starts may need a rest before its first arc (visit -1).
    first = -2 if vt.driving_at_start_minutes > 0 else -1
    while over is not None:
        last_rest = max((b for b in breaks if b < over), default=first)
        candidates = list(range(over - 1, last_rest, -1))  # rest after visit p, latest first
        if not candidates:
            bad = [*bad, f"{vid}: an arc of more than {rule.max_driving_minutes:g} min of driving"]
            return RouteEval(route, bad)
        chosen = None
        fallback = None
        for p_ in candidates:
            trial = _schedule(geo, vid, vt, visits, departure, charges, breaks | {p_})
            if trial[2] is not None and trial[2] <= over:
                continue  # this rest does not cover the arc (too early)
            if fallback is None:
                fallback = (p_, trial)
            if not trial[1]:
                chosen = (p_, trial)
                break
        if chosen is None:
            chosen = fallback
        if chosen is None:
            bad = [*bad, f"{vid}: no stop where a rest covers the arc to visit {over}"]
            return RouteEval(route, bad)
        breaks.add(chosen[0])
        route, bad, over = chosen[1]
    return RouteEval(route, bad)


def _rests_after(route: Route) -> set[int]:
    """Indices of the visits a BREAK stop of ``route`` follows (-1: before the first arc)."""
    out: set[int] = set()
    k = -1
    for st in route.stops:
        if st.kind is StopKind.BREAK:
            out.add(k)
        else:
            k += 1
    return out


def lp_charges(
    geo: Geometry, vt: VehicleType, visits: list[ExtVisit], departure: float, rests_after: set[int]
) -> list[float] | None:
    """Least total energy charged at the station and reload visits of a fixed sequence with rests after the
    visits in ``rests_after`` (as ``_schedule``) such that every SoC stays within [reserve, capacity] and every
    window, the shift end and the maximum duration hold [kWh per charging visit], or None when no plan fits.

    ``routing.evaluate.lp_charges`` with reloads: a reload's departure is ``max(reload time, charging time)``,
    its charge at the depot's power (none without a depot charger), each trip's arcs at that trip's load.
    Why: a route that needs two stations in a row, the first fast and the second slow, is late under the
    greedy rule (the bare minimum at the first, the rest at the slow one) and on time when the first charges
    more (``tests/routing/test_trips_charging.py``). Several windows per job are relaxed to [first start, last
    end] and the travel times are the static ones; the forward schedule afterwards decides (a linear
    programme, HiGHS).
    """
    from scipy.optimize import linprog

    bat = vt.battery
    if bat is None:
        return None
    ch_pos = [k for k, v in enumerate(visits) if not isinstance(v, Job)]
    if not ch_pos:
        return []
    times = geo.time_by_type[vt.id]
    path = [geo.loc(vt.start_depot)] + [geo.loc(v.location) for v in visits] + [geo.loc(vt.end)]
    _, arc_kwh = _arc_kwh(geo, vt, visits)
    rest = vt.break_rule.min_rest_minutes if vt.break_rule is not None else 0.0
    m, n = len(ch_pos), len(visits)
    nv = m + n + 1  # charges c_0..c_{m-1}, arrivals / service starts s_0..s_{n-1}, return time b
    ci = {k: i for i, k in enumerate(ch_pos)}
    full = geo.problem.recharge_policy is RechargePolicy.FULL
    rows: list[np.ndarray] = []
    rhs: list[float] = []
    eq_rows: list[np.ndarray] = []
    eq_rhs: list[float] = []
    bounds: list[tuple[float | None, float | None]] = []
    for k in ch_pos:
        bounds.append((0.0, None) if _charges_at(visits[k], vt) else (0.0, 0.0))
    for v in visits:
        if isinstance(v, Job) and v.time_windows:
            ws = v.windows_sorted
            bounds.append((ws[0].start, ws[-1].end))
        else:
            bounds.append((None, None))
    bounds.append((None, vt.shift_end))
    for k in range(n + 1):
        here = m + k  # s_k, or b for k == n
        travel = float(times[path[k], path[k + 1]]) + (rest if k - 1 in rests_after else 0.0)
        if k == 0:
            r = np.zeros(nv)
            r[here] = -1.0
            rows.append(r)
            rhs.append(-(departure + travel))
            continue
        prev = visits[k - 1]
        fixed = prev.service_minutes if isinstance(prev, Job) else 0.0
        if isinstance(prev, Reload):
            fixed = vt.reload_minutes
        r = np.zeros(nv)
        r[here], r[m + k - 1] = -1.0, 1.0
        rows.append(r)
        rhs.append(-(fixed + travel))
        if not isinstance(prev, Job) and _charges_at(prev, vt):
            r = np.zeros(nv)
            r[here], r[m + k - 1] = -1.0, 1.0
            r[ci[k - 1]] = 60.0 / _charge_kw(prev, vt)  # type: ignore[arg-type]
            rows.append(r)
            rhs.append(-travel)
    if vt.max_duration_minutes is not None:
        r = np.zeros(nv)
        r[m + n] = 1.0
        rows.append(r)
        rhs.append(departure + vt.max_duration_minutes)
    used = 0.0
    for k in range(n + 1):
        used += arc_kwh[k]
        r = np.zeros(nv)
        for j in ch_pos:
            if j < k:
                r[ci[j]] = -1.0
        rows.append(r)  # on arrival: initial - used + charges before >= reserve
        rhs.append(bat.initial_kwh - used - bat.reserve_kwh)
        if k < n and k in ci:
            after = -r
            after[ci[k]] = 1.0  # on departure: initial - used + charges so far <= capacity
            if full and isinstance(visits[k], ChargingStation):
                eq_rows.append(after)
                eq_rhs.append(bat.capacity_kwh - bat.initial_kwh + used)
            else:
                rows.append(after)
                rhs.append(bat.capacity_kwh - bat.initial_kwh + used)
    cost = np.zeros(nv)
    cost[:m] = 1.0
    cost[m + n] = 1e-6  # among equal charges, the earliest return
    res = linprog(
        cost,
        A_ub=np.vstack(rows),
        b_ub=np.array(rhs),
        A_eq=np.vstack(eq_rows) if eq_rows else None,
        b_eq=np.array(eq_rhs) if eq_rows else None,
        bounds=bounds,
        method="highs",
    )
    if res.status != 0:
        return None
    return [max(0.0, float(x)) for x in res.x[:m]]


def evaluate(
    geo: Geometry,
    vid: str,
    vt: VehicleType,
    visits: list[ExtVisit],
    departure: float,
    model_charges: list[float] | None = None,
) -> RouteEval:
    """Float route with reloads and BREAK stops placed (``routing.problem`` rules).

    Charging amounts: the model's (energy slack at station and reload copies) when they give a feasible
    route, else "just enough to the next charging opportunity", else the least charge that fits (``lp_charges``,
    with the rests the greedy attempt placed); the first feasible is kept.
    """
    n_charge = sum(1 for v in visits if not isinstance(v, Job))
    tries: list[list[float] | None] = []
    if model_charges is not None and len(model_charges) == n_charge:
        tries.append(list(model_charges))
    tries.append(None)
    best: RouteEval | None = None
    for charges in tries:
        ev = _place_breaks(geo, vid, vt, visits, departure, charges)
        if ev.feasible:
            return ev
        if best is None or len(ev.violations) < len(best.violations):
            best = ev
    if best is None:
        raise RuntimeError("trips.evaluate: no charging plan was tried (tries is never empty)")
    # The LP only where it can help: the greedy rule fails on time alone (its battery failures are final: it
    # charges up to capacity before every stretch it cannot drive) and the route is on time when charging
    # takes no time (a lower bound); measured, the LP took 85 % of the ruin-and-recreate's time without this.
    if n_charge and vt.battery is not None and all(_late(x) for x in best.violations):
        rests = _rests_after(best.route)
        _, bound, _ = _schedule(geo, vid, vt, visits, departure, [0.0] * n_charge, rests)
        plan = None if any(map(_late, bound)) else lp_charges(geo, vt, visits, departure, rests)
        if plan is not None:
            ev = _place_breaks(geo, vid, vt, visits, departure, plan)
            if ev.feasible:
                return ev
    return best
