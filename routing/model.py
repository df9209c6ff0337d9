"""OR-Tools (pywrapcp) model of a ``RoutingProblem``: nodes, dimensions, disjunctions, costs.

Integer units inside the model (the public API stays in km, kWh, min): ``DIST_SCALE`` per km, ``TIME_SCALE``
per min, ``ENERGY_SCALE`` per kWh, ``LOAD_SCALE`` per kg, ``COST_SCALE`` per currency unit. Travel times,
energies and demands are rounded UP and capacities DOWN, so every integer-feasible route is feasible in
floating point (``routing.evaluate`` recomputes the reported figures).

Battery: the station-copy model (``docs/routing-notes.md``) for the E-VRPTW of Schneider, Stenger & Goeke
(2014): each station is copied ``copies`` times per electric vehicle type as optional nodes (zero-penalty
disjunctions, allowed only for that type, so the charging power min(station, vehicle) is exact). The
``energy`` dimension's cumul is the usable charge above the reserve on arrival, its transit the negative
arc energy, and its slack the energy charged (non-zero only at station copies). Charging time is tied to
energy through the time slack: ``time_slack * 1000 >= energy_slack * ceil(1000 * time_units_per_energy_unit)``;
with ``RechargePolicy.FULL`` also ``energy_cumul + energy_slack == usable capacity``.

Load-dependent consumption has no exact OR-Tools dimension (google/or-tools#339, ``docs/routing-notes.md``):
the model charges each arc at the consumption of an upper bound of the load on it (payload minus the demand
just delivered, and empty on the way into the end depot), which is conservative; reported energies use the
actual load.

Time-dependent travel (a ``speed_profile``) has no exact OR-Tools transit: the time transits are the
CONSERVATIVE constant times of ``Geometry.time_by_type`` (free-flow time over the slowest speed factor within
the vehicle type's shift), so every model-feasible route is feasible under the exact, first-in-first-out
travel times, which ``routing.evaluate`` uses for every reported time. A route feasible only thanks to
off-peak speeds is beyond the model: the construction and the ruin-and-recreate scan exactly
(``routing.construct``), and when the model cannot read their routes the solver keeps them as they are;
``routing.td_repair`` places what the model alone left out. Access zones: ``routing.model_zones``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from routing.evaluate import Geometry, charge_power_kw
from routing.model_zones import restrict_zoned_stops
from routing.problem import ChargingStation, Job, Objective, RechargePolicy, VehicleType

DIST_SCALE = 1000
TIME_SCALE = 1000
TIME_SCALE_ = TIME_SCALE  # read inside build_model, where TIME_SCALE is a local name
ENERGY_SCALE = 10000
LOAD_SCALE = 1000
COST_SCALE = 100000
RATIO_DEN = 1000
BREAK_TIME_SCALE = 1
"""Time units per min in models with drivers' breaks (``routing.trips``): OR-Tools' break-interval propagation
grows with the size of the time domains (measured: 4 jobs, 2 vehicles, first solution 0.05 s per minute unit,
4-5 s at 10 units per min, none in 5 s at 1,000). Times are still rounded up, so routes stay feasible in float."""


@dataclass(frozen=True)
class Node:
    """One model node: a depot, a job, one copy of a station for one electric vehicle type, or one reload copy
    of a vehicle's start depot (``routing.trips``)."""

    kind: str  # "depot" | "job" | "station" | "reload"
    loc: int
    job: Job | None = None
    station: ChargingStation | None = None
    vtype: str | None = None
    at_depot: bool = False
    vid: str | None = None  # reload copies: the one vehicle that may use it


@dataclass
class NodeSet:
    nodes: list[Node]
    depot_node: dict[int, int]
    job_node: dict[str, int]

    @property
    def station_nodes(self) -> list[int]:
        return [i for i, n in enumerate(self.nodes) if n.kind == "station"]


def make_nodes(
    geo: Geometry, jobs: list[Job], copies: dict[str, int], reloads: dict[str, int] | None = None
) -> NodeSet:
    """Depots first, then ``jobs`` (in the given order), then ``copies[type id]`` copies per station, then
    ``reloads[vehicle id]`` reload copies of that vehicle's start depot (multi-trip, ``routing.trips``)."""
    p = geo.problem
    nodes: list[Node] = []
    depot_node: dict[int, int] = {}
    for vt in p.vehicle_types:
        for loc_id in (vt.start_depot, vt.end):
            loc = geo.loc(loc_id)
            if loc not in depot_node:
                depot_node[loc] = len(nodes)
                nodes.append(Node("depot", loc))
    job_node: dict[str, int] = {}
    for job in jobs:
        job_node[job.id] = len(nodes)
        nodes.append(Node("job", geo.loc(job.location), job=job))
    for vt in p.vehicle_types:
        if not vt.is_electric or vt.count == 0:
            continue
        for st in p.stations:
            loc = geo.loc(st.location)
            for _ in range(copies.get(vt.id, 0)):
                nodes.append(Node("station", loc, station=st, vtype=vt.id, at_depot=loc in depot_node))
    if reloads:
        for vid, vt in p.vehicle_ids():
            for _ in range(reloads.get(vid, 0)):
                nodes.append(Node("reload", geo.loc(vt.reload_at), vtype=vt.id, at_depot=True, vid=vid))
    return NodeSet(nodes, depot_node, job_node)


@dataclass
class BuiltModel:
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    nodeset: NodeSet
    vehicles: list[tuple[str, VehicleType]]
    time: pywrapcp.RoutingDimension
    energy: pywrapcp.RoutingDimension | None
    big_penalty: int
    horizon: int
    keep: list = field(default_factory=list)  # callbacks/matrices kept alive
    time_scale: int = TIME_SCALE  # time units per min in this model


def _ceil(a: np.ndarray) -> np.ndarray:
    return np.ceil(a - 1e-9).astype(np.int64)


def horizon_minutes(geo: Geometry) -> float:
    """A time bound covering every shift, window and full recharge [min]."""
    p = geo.problem
    ends = [vt.shift_end for vt in p.vehicle_types if vt.shift_end is not None]
    if ends and all(vt.shift_end is not None for vt in p.vehicle_types):
        return max(ends)
    finite = (
        [w.end for j in p.jobs for w in j.time_windows] + [vt.shift_start for vt in p.vehicle_types] + ends
    )
    tmax = max((float(t.max()) for t in geo.time_by_type.values()), default=0.0)
    service = sum(j.service_minutes for j in p.jobs)
    charge = 0.0
    for vt in p.vehicle_types:
        if vt.battery is not None and p.stations:
            charge = max(
                charge, max(vt.battery.capacity_kwh / charge_power_kw(s, vt) * 60 for s in p.stations)
            )
    return max(finite, default=0.0) + service + (len(p.jobs) + 2) * (tmax + charge) + 1440.0


def build_model(
    geo: Geometry,
    nodeset: NodeSet,
    vehicles: list[tuple[str, VehicleType]],
    *,
    objective: Objective,
    fleet_cost: int = 0,
    allowed_types: dict[str, set[str]] | None = None,
    break_intervals: bool = True,
) -> BuiltModel:
    """Build the routing model for ``vehicles`` (id, type) over ``nodeset``.

    ``fleet_cost`` [internal units] is added per used vehicle on top of the types' fixed costs (used by
    the fleet-minimising phase). ``allowed_types`` maps job id -> vehicle type ids that may serve it.
    ``break_intervals``: model drivers' breaks as OR-Tools break intervals (``routing.trips``); False when
    ``geo``'s travel times already reserve the breaks' time (``routing.trips.model_geometry``).
    """
    p = geo.problem
    # Shadows the module constant in this function: coarser time units when breaks are modelled.
    with_breaks = break_intervals and any(vt.break_rule is not None for _, vt in vehicles)
    TIME_SCALE = BREAK_TIME_SCALE if with_breaks else TIME_SCALE_
    nodes = nodeset.nodes
    n = len(nodes)
    nv = len(vehicles)
    starts = [nodeset.depot_node[geo.loc(vt.start_depot)] for _, vt in vehicles]
    ends = [nodeset.depot_node[geo.loc(vt.end)] for _, vt in vehicles]
    manager = pywrapcp.RoutingIndexManager(n, nv, starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    keep: list = []
    locs = np.array([nd.loc for nd in nodes])
    dist_km = geo.dist[np.ix_(locs, locs)]
    depot_station = np.array([nd.kind in ("station", "reload") and nd.at_depot for nd in nodes])
    reload_nodes = np.array([nd.kind == "reload" for nd in nodes])
    multi_trip = bool(reload_nodes.any())
    end_nodes = set(ends)

    # --- arc costs -------------------------------------------------------------------------------
    types = sorted({vt.id: vt for _, vt in vehicles}.values(), key=lambda v: v.id)
    # 1 unit into a depot-station copy (docs/routing-notes.md, OR-Tools traps)
    tiny = depot_station.astype(np.int64)[None, :]
    if objective is Objective.COST:
        for vt in types:
            m = np.rint(dist_km * vt.cost_per_km * COST_SCALE).astype(np.int64) + tiny
            idx = routing.RegisterTransitMatrix(m.tolist())
            for v, (_, vtv) in enumerate(vehicles):
                if vtv.id == vt.id:
                    routing.SetArcCostEvaluatorOfVehicle(idx, v)
    else:
        m = np.rint(dist_km * DIST_SCALE).astype(np.int64) + tiny
        idx = routing.RegisterTransitMatrix(m.tolist())
        routing.SetArcCostEvaluatorOfAllVehicles(idx)
    for v, (_, vt) in enumerate(vehicles):
        fixed = int(round(vt.fixed_cost * COST_SCALE)) if objective is Objective.COST else 0
        if fixed + fleet_cost:
            routing.SetFixedCostOfVehicle(fixed + fleet_cost, v)

    # --- load --------------------------------------------------------------------------------------
    demand = [int(math.ceil(nd.job.demand_kg * LOAD_SCALE - 1e-9)) if nd.job else 0 for nd in nodes]
    caps = [int(math.floor(vt.payload_kg * LOAD_SCALE + 1e-9)) for _, vt in vehicles]
    # Reload copies (routing.trips): transit -max payload, slack up to it, so the cumul may drop to zero.
    reload_drop = max(caps) if multi_trip else 0
    for i in np.flatnonzero(reload_nodes):
        demand[i] = -reload_drop
    d_idx = routing.RegisterUnaryTransitVector(demand)
    routing.AddDimensionWithVehicleCapacity(d_idx, reload_drop, caps, True, "load")
    if multi_trip:
        load_dim = routing.GetDimensionOrDie("load")
        # Over the model's indices, not the nodes: a depot that is only an end has no index of its own
        # (``NodeToIndex`` gives -1, and ``SlackVar(-1)`` crashed the process: a multi-trip route starting away
        # from its end depot, as a re-plan's free re-solve has), and a depot several vehicles start from has one
        # start index per vehicle.
        for idx in range(routing.Size()):
            if nodes[manager.IndexToNode(idx)].kind != "reload":
                load_dim.SlackVar(idx).SetValue(0)

    # --- time --------------------------------------------------------------------------------------
    horizon = int(math.ceil(horizon_minutes(geo) * TIME_SCALE))
    reload_min = {vt.id: vt.reload_minutes for _, vt in vehicles}
    service = np.array(
        [
            nd.job.service_minutes
            if nd.job
            else reload_min.get(nd.vtype or "", 0.0)
            if nd.kind == "reload"
            else 0.0
            for nd in nodes
        ]
    )
    time_eval: dict[str, int] = {}
    for vt in types:
        tm = geo.time_by_type[vt.id][np.ix_(locs, locs)]
        m = _ceil((tm + service[:, None]) * TIME_SCALE)
        time_eval[vt.id] = routing.RegisterTransitMatrix(m.tolist())
    routing.AddDimensionWithVehicleTransits(
        [time_eval[vt.id] for _, vt in vehicles], horizon, horizon, False, "time"
    )
    time = routing.GetDimensionOrDie("time")
    for v, (_, vt) in enumerate(vehicles):
        lo = int(math.ceil(vt.shift_start * TIME_SCALE))
        hi = horizon if vt.shift_end is None else int(math.floor(vt.shift_end * TIME_SCALE))
        time.CumulVar(routing.Start(v)).SetRange(lo, hi)
        time.CumulVar(routing.End(v)).SetRange(lo, hi)
        if vt.max_duration_minutes is not None:
            time.SetSpanUpperBoundForVehicle(int(math.floor(vt.max_duration_minutes * TIME_SCALE)), v)
        if objective is Objective.COST and vt.cost_per_hour > 0:
            time.SetSpanCostCoefficientForVehicle(
                max(1, int(round(vt.cost_per_hour * COST_SCALE / (60 * TIME_SCALE)))), v
            )
    for i, nd in enumerate(nodes):
        if nd.job is None or not nd.job.time_windows:
            continue
        idx = manager.NodeToIndex(i)
        ws = nd.job.windows_sorted
        var = time.CumulVar(idx)
        var.SetRange(
            int(math.ceil(ws[0].start * TIME_SCALE - 1e-9)), int(math.floor(ws[-1].end * TIME_SCALE + 1e-9))
        )
        for a, b in itertools.pairwise(ws):
            gap_lo = int(math.floor(a.end * TIME_SCALE + 1e-9)) + 1
            gap_hi = int(math.ceil(b.start * TIME_SCALE - 1e-9)) - 1
            if gap_lo <= gap_hi:
                var.RemoveInterval(gap_lo, gap_hi)

    # --- energy ------------------------------------------------------------------------------------
    energy = None
    evs = [vt for vt in types if vt.is_electric]
    if evs:
        total_demand = sum(nd.job.demand_kg for nd in nodes if nd.job)
        dem_kg = np.array([nd.job.demand_kg if nd.job else 0.0 for nd in nodes])
        into_end = np.array([i in end_nodes for i in range(n)])
        e_eval: dict[str, int] = {}
        for vt in evs:
            bat = vt.battery
            if bat is None:
                raise RuntimeError(
                    f"build_model: electric vehicle type {vt.id!r} has no battery (VehicleType validates it)"
                )
            cap_load = min(vt.payload_kg, total_demand)
            load_ub = np.clip(cap_load - dem_kg, 0.0, None)[:, None] * np.ones((1, n))
            load_ub[:, into_end] = 0.0
            load_ub[:, reload_nodes] = 0.0  # a trip ends empty
            share = load_ub / vt.payload_kg if vt.payload_kg > 0 else np.zeros_like(load_ub)
            rate = (
                bat.consumption_empty_kwh_per_km + (bat.full_rate - bat.consumption_empty_kwh_per_km) * share
            )
            m = -_ceil(dist_km * rate * ENERGY_SCALE)
            e_eval[vt.id] = routing.RegisterTransitMatrix(m.tolist())
        zero = routing.RegisterTransitMatrix(np.zeros((n, n), dtype=np.int64).tolist())
        usable = []
        for _, vt in vehicles:
            b = vt.battery
            usable.append(int(math.floor((b.capacity_kwh - b.reserve_kwh) * ENERGY_SCALE + 1e-9)) if b else 0)
        slack_max = max(usable)
        routing.AddDimensionWithVehicleTransitAndCapacity(
            [e_eval[vt.id] if vt.is_electric else zero for _, vt in vehicles],
            slack_max,
            usable,
            False,
            "energy",
        )
        energy = routing.GetDimensionOrDie("energy")
        for v, (_, vt) in enumerate(vehicles):
            b = vt.battery
            start_val = int(math.floor((b.initial_kwh - b.reserve_kwh) * ENERGY_SCALE + 1e-9)) if b else 0
            energy.CumulVar(routing.Start(v)).SetValue(start_val)
            energy.SlackVar(routing.Start(v)).SetValue(0)
        for i, nd in enumerate(nodes):
            if nd.kind == "job":
                energy.SlackVar(manager.NodeToIndex(i)).SetValue(0)

    # --- allowed vehicles, stations, disjunctions ------------------------------------------------------
    type_vehicles: dict[str, list[int]] = {}
    for v, (_, vt) in enumerate(vehicles):
        type_vehicles.setdefault(vt.id, []).append(v)
    scale = COST_SCALE if objective is Objective.COST else DIST_SCALE
    max_arc = int(np.rint(dist_km.max() * scale)) + 1 if n > 1 else 1
    big = (
        max(
            fleet_cost,
            max(int(round(vt.fixed_cost * COST_SCALE)) for vt in types) if objective is Objective.COST else 0,
        )
        * 10
        + 4 * max_arc * max(1, scale // DIST_SCALE)
        + 10**6
    )
    if objective is Objective.COST:
        big += 4 * int(max((vt.cost_per_km for vt in types), default=0) * dist_km.max() * COST_SCALE)
        big += int(
            max((vt.cost_per_hour for vt in types), default=0) * horizon / TIME_SCALE / 60 * COST_SCALE
        )
    same_loc_copies: dict[int, list[int]] = {}
    for i, nd in enumerate(nodes):
        if nd.kind == "station":
            same_loc_copies.setdefault(nd.loc, []).append(i)
    for i, nd in enumerate(nodes):
        idx = manager.NodeToIndex(i)
        if nd.kind == "job":
            job = nd.job
            if job is None:
                raise RuntimeError(f"build_model: node {i} is of kind 'job' but carries no job")
            ok_types = allowed_types.get(job.id) if allowed_types is not None else None
            if ok_types is not None:
                allowed = [v for t in sorted(ok_types) for v in type_vehicles.get(t, [])]
                if not allowed:
                    routing.ActiveVar(idx).SetValue(0)
                elif len(allowed) < nv:
                    routing.VehicleVar(idx).SetValues([-1] + sorted(allowed))
            pen = int(round(job.drop_penalty * scale)) if job.drop_penalty is not None else big * job.priority
            routing.AddDisjunction([idx], pen)
        elif nd.kind == "station":
            allowed = type_vehicles.get(nd.vtype or "", [])
            routing.AddDisjunction([idx], 0)
            if not allowed:
                # Copies for a type that is not in this vehicle subset (the fleet loop may drop every
                # vehicle of a type, even every electric one, so ``energy`` may then be None).
                routing.ActiveVar(idx).SetValue(0)
                continue
            routing.VehicleVar(idx).SetValues([-1] + allowed)
            if energy is None or nd.station is None:
                raise RuntimeError(
                    f"build_model: station node {i} needs the energy dimension and its station "
                    "(only electric vehicle types get station copies)"
                )
            vt = next(vt for _, vt in vehicles if vt.id == nd.vtype)
            routing.AddToAssignment(energy.SlackVar(idx))
            routing.AddToAssignment(time.SlackVar(idx))
            # No copy of the same station right after this one: one stop can take the whole charge, and the
            # charge-time link below is a per-node side constraint that the dimensions' bound propagation
            # cannot sum over a run of copies (fuzz seed 2 was accepted with three S1 copies in a row whose
            # total charging time did not fit before the next time window).
            same = [manager.NodeToIndex(k) for k in same_loc_copies[nd.loc] if k != i]
            if same:
                routing.NextVar(idx).RemoveValues(same)
            kw = charge_power_kw(nd.station, vt)
            ratio = 60.0 * TIME_SCALE / (kw * ENERGY_SCALE)  # time units per energy unit
            num = int(math.ceil(ratio * RATIO_DEN - 1e-9))
            solver.Add(time.SlackVar(idx) * RATIO_DEN >= energy.SlackVar(idx) * num)
            b = vt.battery
            if b is None:
                raise RuntimeError(
                    f"build_model: station copy {i} belongs to vehicle type {vt.id!r}, which has no battery"
                )
            full = int(math.floor((b.capacity_kwh - b.reserve_kwh) * ENERGY_SCALE + 1e-9))
            # Charge on departure never above capacity (the dimension only bounds the next arrival).
            solver.Add(energy.CumulVar(idx) + energy.SlackVar(idx) <= full)
            if p.recharge_policy is RechargePolicy.FULL:
                solver.Add(energy.CumulVar(idx) + energy.SlackVar(idx) >= full * routing.ActiveVar(idx))
    if geo.access is not None:  # access zones: barred service starts per vehicle (routing.model_zones)
        restrict_zoned_stops(routing, manager, time, nodes, geo, vehicles, horizon, TIME_SCALE)
    keep.append(nodes)
    bm = BuiltModel(manager, routing, nodeset, vehicles, time, energy, big, horizon, keep, TIME_SCALE)
    if multi_trip or with_breaks:
        from routing import trips

        trips.add_to_model(
            bm,
            geo,
            time_scale=TIME_SCALE,
            energy_scale=ENERGY_SCALE,
            ratio_den=RATIO_DEN,
            break_intervals=with_breaks,
        )
    return bm


FIRST_SOLUTION = {
    "parallel_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION,
    "local_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION,
    "savings": routing_enums_pb2.FirstSolutionStrategy.SAVINGS,
    "path_cheapest_arc": routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC,
    "global_cheapest_arc": routing_enums_pb2.FirstSolutionStrategy.GLOBAL_CHEAPEST_ARC,
    "sequential_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.SEQUENTIAL_CHEAPEST_INSERTION,
}

METAHEURISTIC = {
    "gls": routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH,
    "sa": routing_enums_pb2.LocalSearchMetaheuristic.SIMULATED_ANNEALING,
    "tabu": routing_enums_pb2.LocalSearchMetaheuristic.TABU_SEARCH,
    "greedy": routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT,
}


def search_parameters(
    time_limit_s: float,
    first: str = "parallel_cheapest_insertion",
    meta: str = "gls",
    insertion_moves: bool = False,
) -> pywrapcp.RoutingSearchParameters:
    """GLS from ``first``; ``insertion_moves`` adds the operators that put dropped jobs back while moving
    others (used when the fleet is cut by one vehicle and its jobs must find room elsewhere)."""
    params = pywrapcp.DefaultRoutingSearchParameters()
    if insertion_moves:
        ops = params.local_search_operators
        for name in (
            "use_relocate_and_make_active",
            "use_exchange_and_make_active",
            "use_extended_swap_active",
            "use_inactive_lns",
            "use_node_pair_swap_active",
        ):
            setattr(ops, name, optional_boolean_pb2.BOOL_TRUE)
    params.first_solution_strategy = FIRST_SOLUTION[first]
    params.local_search_metaheuristic = METAHEURISTIC[meta]
    ms = max(10, int(time_limit_s * 1000))
    params.time_limit.seconds = ms // 1000
    params.time_limit.nanos = (ms % 1000) * 1_000_000
    return params


def routes_of(bm: BuiltModel, assignment: pywrapcp.Assignment) -> tuple[list[list[int]], list[float]]:
    """Node sequence (depots left out) and departure time [min] per vehicle."""
    routing, manager = bm.routing, bm.manager
    out: list[list[int]] = []
    starts: list[float] = []
    for v in range(len(bm.vehicles)):
        idx = routing.Start(v)
        starts.append(assignment.Value(bm.time.CumulVar(idx)) / bm.time_scale)
        seq: list[int] = []
        idx = assignment.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            seq.append(manager.IndexToNode(idx))
            idx = assignment.Value(routing.NextVar(idx))
        out.append(seq)
    return out, starts


def station_charges(bm: BuiltModel, assignment: pywrapcp.Assignment, v: int) -> list[float]:
    """Energy charged at each station (and reload) visit of vehicle ``v`` in the model [kWh]."""
    if bm.energy is None:
        return []
    routing, manager = bm.routing, bm.manager
    out: list[float] = []
    idx = assignment.Value(routing.NextVar(routing.Start(v)))
    while not routing.IsEnd(idx):
        if bm.nodeset.nodes[manager.IndexToNode(idx)].kind in ("station", "reload"):
            out.append(assignment.Value(bm.energy.SlackVar(idx)) / ENERGY_SCALE)
        idx = assignment.Value(routing.NextVar(idx))
    return out
