"""Plain VRPTW on a compiled path: detect plainness, convert to arrays, search (``routing.plain_kernels``), convert back.

A problem is *plain* when one vehicle type serves it (a homogeneous fleet), every job has at most one time window
and is mandatory, no charging stations or battery, no drivers' breaks or reloads, no time-dependent travel, no
access zones, no maximum route duration, and the objective is ``HIERARCHICAL`` or ``DISTANCE``. That is the
Solomon / Gehring & Homberger VRPTW, where the general path (Python ruin-and-recreate plus OR-Tools) fell behind
PyVRP at 200-1,000 customers (issue 25, docs/routing-scale.md). Anything else keeps the general path.

Search (Christiaens & Vanden Berghe 2020, Transportation Science 54(2):417-433, "SISR"):
1. greedy construction in random order;
2. fleet minimisation (``HIERARCHICAL``, or a construction that needs more vehicles than there are), in two
   steps (``FLEET_METHOD``): first through time warp (Vidal et al. 2013; PyVRP's way): the smallest route goes,
   its jobs are inserted where distance plus a penalty on lateness is least, and ruin-and-recreate (with a
   granular local search on the same penalised cost after each recreate) anneals that penalised cost with a
   penalty that grows until no route is late, then the next route goes, until no route
   went for ``TW_STALL_SHARE`` of the time; then SISR's own way from that plan: the route with fewest jobs is
   removed and its jobs become *absent*; ruin-and-recreate with absent-job counters accepts a neighbour with
   fewer absent jobs or a smaller sum of their counters, until none is absent, then the next route goes; by
   turns with it (``COUNTERS_KIND``) an ejection pool (Nagata & Bräysy 2009) forces an absent job in where it
   pushes out the string of least-counted jobs (the note's iterations count both); both
   for at most ``FLEET_SHARE`` of the time or until the payload bound is reached; one route above the payload
   bound, time warp's penalties oscillate and its patience is longer (``TW_LAST_STEP``);
3. distance minimisation at that fleet: SISR with simulated annealing (temperature 100 -> 1 over the time).

Every route is re-evaluated by ``routing.evaluate`` before it is reported; a route that evaluator rejects (never
seen; float rounding) sends the problem back to the general path. Deadlines use ``_now`` (one place to change
the clock).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from routing import clock
from routing.problem import Objective, RoutingProblem, VehicleKind, VehicleType

FLEET_SHARE = 0.5
"""Most of the time limit the fleet minimisation may use (PyVRP's bench setting gives ``minimise_fleet`` half)."""
FLEET_STALL_SHARE = 0.15
"""The fleet minimisation also stops when no route went for this share of the time limit (on Homberger R1_2_1
and RC2_2_1 it reached the best-known fleet early and then spent the rest of its half in vain)."""
NEIGHBOURS = 100
"""Nearest jobs listed per job for the string removal's walk (SISR walks the full adjacency list; the walk stops
after a few routes, so the first 100 suffice)."""
INSERT_NEIGHBOURS = 50
"""From ``INSERT_NEIGHBOURS_FROM`` jobs, an insertion first scans only the routes of the job's 50 nearest jobs
(``plain_kernels.best_position``); smaller problems scan every route, as SISR does."""
INSERT_NEIGHBOURS_FROM = 500
LS_NEIGHBOURS = 20
"""Granularity of the local search after each recreate (nearest jobs tried per job; 0 switches it off)."""
FLEET_METHOD = "hybrid"
"""How the fleet minimisation works: ``"counters"`` (SISR's absent-job counters, only feasible plans),
``"timewarp"`` (penalised time-window violations, ``plain_kernels`` "Fleet minimisation through time warp"), or
``"hybrid"``: time warp until it stalls for ``TW_STALL_SHARE`` of the time, then the counters from its plan.
Measured on the eight fleet-sensitive Homberger 1,000 instances (docs/routing-scale.md): the counters alone
ended C2_10 at 30-31 routes (PyVRP 29-30), time warp alone at 29-30 but C1_10_8 at 100 against the counters'
94-95; the hybrid keeps both."""
TW_LAMBDA0 = 1000.0
"""Starting penalty per minute of time warp and per kg over payload [km / min], [km / kg]. Ten times SISR's
starting temperature (100 km), so the annealing cannot buy time warp cheaply. At 1 the phase took no route
away on any Solomon instance (R101: the first recreates traded ~700 km for ~650 min of time warp spread over
eight routes, a plan the growing penalty never led back from); at 1000 it takes R101 from 22 to 19 routes,
the best-known fleet, and leaves the eight fleet-sensitive Homberger 1,000 instances' sum unchanged (353;
docs/routing-scale.md, "Time warp's starting penalty"). PyVRP starts at 50,000 and lowers it while most
candidates are feasible."""
TW_GROWTH = 1.3
"""Growth of the penalties per 100 iterations while the current plan is late or over payload (1.05 left
C1_10_8 at its 176-route construction for the whole stall; 1.3 reached 101 routes in 0.2 s)."""
TW_AFTER = 0.5
"""Factor on the penalties each time a plan is on time and a route goes (the next route starts gentler)."""
TW_LS_NEIGHBOURS = 20
"""Granularity of the penalised local search after each recreate of the time-warp phase (0: none). With it,
Homberger C2_10_4 reached 28 routes (its best-known fleet) in three runs out of three, the hybrid without it 29
in three (docs/routing-scale.md, "Fleet minimisation through time warp")."""
TW_STALL_SHARE = 0.05
"""The time-warp phase of ``"hybrid"`` hands over when no route went for this share of the time limit."""
FLEET_ROUNDS = 8
"""Most rounds of (time warp, then the counters) within the fleet share: when the counters stall before the share
is spent, time warp starts again from the best plan with fresh penalties, then the counters again (on the clock
only; an iteration budget keeps one round). Solomon R104, R112 and RC106, 30 CPU s, seeds 0-3: one vehicle above
the best-known fleet in 1 run of 12 with rounds against 3 of 12 without; the eight fleet-sensitive Homberger
1,000 instances' sum unchanged (353; docs/routing-scale.md, "Rounds")."""
TW_LAST_STEP = True
"""One route above the payload bound (on the clock only; an iteration budget keeps the one round of before):
time warp's penalties go back to ``TW_RESET`` each time they reach their cap (strategic oscillation) and it has
a patience of its own, ``TW_STEP_STALL_SHARE``; optionally (``TW_STEP_HANDOVER_JOBS``, off by default) the
counters hand over at once and time warp runs to the end of the fleet share. On most Gehring & Homberger instances the
best-known fleet is the payload bound (1,000: 48 of 60); with long routes ~98 % full there the last route is a
packing step where the counters, feasible only, have no room to move loads, and time warp at a capped penalty
stops exploring (C2_10_10, docs/routing-scale.md, "Fleet phase on C2_10_10 and RC2_10_1")."""
TW_STEP_HANDOVER_JOBS = math.inf
"""With ``TW_LAST_STEP``, where jobs / payload bound >= this, the counters stop one route above the bound and
hand the step to time warp, which then runs to the end of the fleet share; elsewhere the counters keep their own
patience and time warp's step waits ``TW_STEP_STALL_SHARE`` for progress. Off by default (inf): the handover
took Homberger C2_10_10 to 28 routes in 4 runs of 4 (1 in 2 without), but everywhere (eebb75e) it took R1_10_2
and R1_10_3 to 92 against PyVRP's 91, and on long routes only (>= 20, f0c3016) R2_10_1 to 20 against 19 (their
steps bind on time windows, where the counters do better; the sixth session's runs, docs/routing-scale.md,
"The last step is time warp's"). ``--set TW_STEP_HANDOVER_JOBS=20`` on ``bench routing`` re-makes those arms."""
TW_STEP_STALL_SHARE = 0.15
"""Time warp's patience in the last step [share of the time limit] (``TW_STALL_SHARE`` elsewhere)."""
TW_RESET = 1000.0
"""Penalty [km / min], [km / kg] the last step's penalties go back to at their cap (strategic oscillation; the
starting penalty, ``TW_LAMBDA0``). Homberger C2_10_10, 60 CPU s, seeds 0-3: 28 routes (its best-known fleet) in
4 runs of 4 at 1000, 3 of 4 at 100 and at 1, 1 of 4 without the last step (docs/routing-scale.md, "The last
step is time warp's")."""
COUNTERS_KIND = "alternate"
"""What the counters' phase runs: ``"sisr"`` (SISR's absent-job counters alone), ``"eject"`` (an ejection pool
alone, Nagata & Bräysy 2009, ``plain_kernels.eject_chunk``) or ``"alternate"`` (the two by turns, one compiled
chunk each, so about half the phase's time each, on the same plan and the same absent jobs). Homberger
RC2_10_1, 60 CPU s, seeds 0-4, all at e6581ab (2026-12-07, 2-core AMD EPYC): 20 routes (its best-known fleet)
in 3 runs of 5 alternating, 1 of 6 with the pool alone, 0 of 5 with the counters alone (21 in all 5; PyVRP 0.14.1
21 at seeds 0-3 on the same machine); on R1_10_2, R1_10_3, R2_10_1, C2_10_4, C2_10_9 the same fleet as the
counters alone (docs/routing-scale.md, "The ejection pool by turns with the counters")."""
EJECT_KMAX = 3
"""Longest string of consecutive jobs the ejection pool forces out to let a job in."""
EJECT_PERTURB = 100
"""Random feasible relocations tried after each forced insertion of the ejection pool."""
CHUNK_S = 0.02
"""Target length of one compiled call [s]: the clock is read between calls (numba cannot read it)."""
PARAMS = {
    "cbar": 10.0,
    "lmax": 10.0,
    "split": 0.5,
    "depth": 0.01,
    "blink": 0.01,
    "t0": 100.0,
    "tf": 1.0,
    "long": 0.6,
    "ruin_max": 30.0,
}
"""SISR's parameters (Christiaens & Vanden Berghe 2020, Table 6): average removed jobs, longest string, split-
string rate, split depth, blink rate, start and final temperature; then the growth of the ruin on long routes
(``plain_kernels.P_LONG``, ``P_RUIN_MAX``)."""


def _now() -> float:
    """The clock every deadline of the plain path is read on [s] (``routing.clock``: wall or process CPU)."""
    return clock.now()


def plain_reason(problem: RoutingProblem) -> str | None:
    """None when ``problem`` is plain (module docstring), else why not (first reason found)."""
    types = [vt for vt in problem.vehicle_types if vt.count > 0]
    if len(types) != 1:
        return f"{len(types)} vehicle types in use"
    vt = types[0]
    if problem.objective not in (Objective.HIERARCHICAL, Objective.DISTANCE):
        return f"objective {problem.objective.value}"
    if problem.stations:
        return "charging stations"
    if vt.kind is not VehicleKind.DIESEL or vt.battery is not None:
        return "battery"
    if problem.speed_profile is not None:
        return "time-dependent travel"
    if problem.zones:
        return "access zones"
    if vt.break_rule is not None or vt.max_trips != 1 or vt.reload_depot is not None:
        return "breaks or reloads"
    if vt.driving_at_start_minutes or vt.max_duration_minutes is not None:
        return "route already under way or maximum duration"
    if vt.end_depot is not None and vt.end_depot != vt.start_depot:
        return "end depot differs from start depot"
    for j in problem.jobs:
        if len(j.time_windows) > 1:
            return f"job {j.id!r} has several time windows"
        if j.drop_penalty is not None:
            return f"job {j.id!r} is optional"
        if j.required_kind is not None and j.required_kind is not vt.kind:
            return f"job {j.id!r} needs another vehicle kind"
    return None


@dataclass
class PlainArrays:
    """The problem as the kernels read it: node 0 the depot, node k the k-th job of ``jobs``."""

    vt: VehicleType
    jobs: list
    dist: np.ndarray
    tt: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    svc: np.ndarray
    dem: np.ndarray
    cap: float
    neigh: np.ndarray

    @property
    def n(self) -> int:
        return len(self.jobs)

    def data(self) -> tuple:
        return (self.dist, self.tt, self.ready, self.due, self.svc, self.dem, self.cap, self.neigh)


def to_arrays(geo, vt: VehicleType, jobs: list) -> PlainArrays:
    """Node matrices and per-node data [km], [min], [kg] for ``jobs`` served from ``vt``'s depot."""
    p = geo.problem
    locs = np.array([p.index_of(vt.start_depot)] + [p.index_of(j.location) for j in jobs], dtype=np.int64)
    dist = np.ascontiguousarray(geo.dist[np.ix_(locs, locs)], dtype=np.float64)
    tt = np.ascontiguousarray(geo.time_by_type[vt.id][np.ix_(locs, locs)], dtype=np.float64)
    n = len(jobs)
    ready = np.full(n + 1, -np.inf)
    due = np.full(n + 1, np.inf)
    ready[0] = vt.shift_start
    due[0] = np.inf if vt.shift_end is None else vt.shift_end
    svc = np.zeros(n + 1)
    dem = np.zeros(n + 1)
    for k, j in enumerate(jobs, start=1):
        if j.time_windows:
            ready[k], due[k] = j.time_windows[0].start, j.time_windows[0].end
        svc[k] = j.service_minutes
        dem[k] = j.demand_kg
    k_nb = max(1, min(NEIGHBOURS, n - 1))
    d = dist[1:, 1:].copy()
    np.fill_diagonal(d, np.inf)
    neigh = (np.argsort(d, axis=1, kind="stable")[:, :k_nb] + 1).astype(np.int64)
    neigh = np.vstack([np.zeros((1, k_nb), dtype=np.int64), neigh])
    return PlainArrays(vt, jobs, dist, tt, ready, due, svc, dem, float(vt.payload_kg), neigh)


def _state(n: int, slots: int) -> tuple:
    w = n + 2
    return (
        np.zeros((slots, w), np.int64),
        np.zeros(slots, np.int64),
        np.zeros((slots, w)),
        np.zeros((slots, w)),
        np.zeros(slots),
        np.zeros(slots),
        np.full(n + 1, -1, np.int64),
        np.zeros(n + 1, np.int64),
        np.zeros((slots, w)),
    )


def _tw_state(n: int, slots: int) -> tuple:
    """The time-warp search's state (``plain_kernels`` "Fleet minimisation through time warp")."""
    w = n + 2
    return (
        np.zeros((slots, w), np.int64),
        np.zeros(slots, np.int64),
        np.zeros(slots),
        np.zeros(slots),
        np.full(n + 1, -1, np.int64),
        np.zeros(n + 1, np.int64),
        np.zeros(slots),
        np.zeros((slots, w, 5)),
        np.zeros((slots, w, 5)),
    )


def _tw_data(D: tuple) -> tuple:
    """``D`` with open windows closed at +-1e9 min: the time-warp sums subtract latest from earliest times,
    and inf - inf is not a number."""
    dist, tt, ready, due, svc, dem, cap, neigh = D
    return (dist, tt, np.maximum(ready, -1e9), np.minimum(due, 1e9), svc, dem, cap, neigh)


def _copy_into(dst: tuple, src: tuple) -> None:
    for a, b in zip(dst, src):
        a[...] = b


@dataclass
class PlainResult:
    """Best routes found (lists of job indices into ``PlainArrays.jobs``, 0-based) and what the search did."""

    routes: list[list[int]]
    km: float
    notes: list[str] = field(default_factory=list)
    iterations: int = 0
    fleet_iterations: int = 0


def search(
    arr: PlainArrays,
    slots: int,
    hierarchical: bool,
    deadline: float,
    seed: int,
    *,
    max_iterations: int | None = None,
    ls_neighbours: int = LS_NEIGHBOURS,
    fleet_method: str | None = None,
) -> PlainResult | None:
    """Construction, fleet minimisation, SISR distance search; None when no complete plan within ``slots``
    routes was found. ``max_iterations`` (tests, iteration rates): an iteration budget instead of the clock
    (half of it at most for the fleet phase), so a seed gives the same plan on any machine."""
    from routing import plain_kernels as K

    n = arr.n
    D = arr.data()
    if fleet_method is None:
        fleet_method = FLEET_METHOD
    par = np.zeros(K.N_PAR)
    par[K.P_CBAR], par[K.P_LMAX], par[K.P_SPLIT] = PARAMS["cbar"], PARAMS["lmax"], PARAMS["split"]
    par[K.P_DEPTH], par[K.P_BLINK] = PARAMS["depth"], PARAMS["blink"]
    par[K.P_T0], par[K.P_TF] = PARAMS["t0"], PARAMS["tf"]
    par[K.P_LONG], par[K.P_RUIN_MAX] = PARAMS["long"], PARAMS["ruin_max"]
    par[K.P_KINS] = INSERT_NEIGHBOURS if n >= INSERT_NEIGHBOURS_FROM else 0
    K.seed_rng(seed)
    W, C, B = _state(n, slots), _state(n, slots), _state(n, slots)
    absent_w = np.zeros(n + 1, np.int64)
    absent_c = np.zeros(n + 1, np.int64)
    abscnt = np.zeros(n + 1, np.int64)
    pen = np.ones(n + 1)
    ctrl = np.zeros(12, np.int64)
    fctrl = np.zeros(2)
    notes: list[str] = []
    na = K.construct(C, D, slots, absent_c)
    km = K.rebuild(C, D, slots)
    _copy_into(W, C)
    absent_w[:na] = absent_c[:na]
    used0 = int(K.used_routes(C[1], slots))
    notes.append(f"construction: {used0} routes, {na} job(s) left out")
    lb = max(1, math.ceil(float(arr.dem.sum()) / arr.cap - 1e-9)) if arr.cap > 0 else 1
    ctrl[1], ctrl[2], ctrl[3], ctrl[11] = slots, slots, int(hierarchical), ls_neighbours
    ctrl[4] = ctrl[5] = na
    ctrl[6] = lb if hierarchical else slots
    fctrl[0] = km
    fctrl[1] = np.inf
    have_best = na == 0
    if have_best:
        _copy_into(B, C)
        fctrl[1] = km
        ctrl[10] = used0
    t_start = _now()
    total = max_iterations
    fleet_it = 0
    if na > 0 or (hierarchical and used0 > lb):
        ctrl[0] = 1
        fleet_end = t_start + FLEET_SHARE * max(0.0, deadline - t_start)
        budget = None if total is None else total // 2
        stall = FLEET_STALL_SHARE * max(0.0, deadline - t_start)
        why_names = {0: " (time share)", 1: " (payload bound)", 2: " (no progress)"}
        tw_stall = stall if fleet_method == "timewarp" else TW_STALL_SHARE * max(0.0, deadline - t_start)
        tw_budget = budget if budget is None or fleet_method == "timewarp" else budget // 4
        last_step = TW_LAST_STEP and budget is None and hierarchical and fleet_method != "counters"
        handover = last_step and n >= TW_STEP_HANDOVER_JOBS * lb
        for rnd in range(1, FLEET_ROUNDS + 1):
            tag = "" if rnd == 1 else f", round {rnd}"
            why = 0
            if fleet_method in ("timewarp", "hybrid"):
                tw_it, gains, why = _fleet_timewarp(
                    K,
                    D,
                    par,
                    C,
                    B,
                    slots,
                    na,
                    absent_c,
                    int(ctrl[6]),
                    ctrl,
                    fctrl,
                    (t_start, deadline, fleet_end),
                    tw_budget,
                    tw_stall,
                    last_step=last_step,
                    handover=handover,
                    best_routes=int(ctrl[10]) if have_best else None,
                )
                fleet_it += tw_it
                if gains > 0:
                    have_best = True
                    na = _counters_from_best(K, W, C, B, D, slots, ctrl, fctrl)  # from the time warp's plan
                notes.append(
                    f"fleet minimisation (time warp{tag}): {int(ctrl[10]) if have_best else '-'} routes in "
                    f"{tw_it} iterations{why_names[why]}"
                )
            handed = False
            if (
                fleet_method in ("counters", "hybrid")
                and why != 1
                and not (budget is None and _now() >= fleet_end)
            ):
                if na == 0:
                    K.drop_smallest_route(W, C, D, slots, absent_w, absent_c, ctrl, fctrl)
                rest = None if budget is None else budget - fleet_it
                ctrl[7] = ctrl[9] = 0
                if handover:
                    ctrl[6] = lb + 1  # the counters stop one route above the payload bound: time warp's step
                _run(
                    K,
                    W,
                    C,
                    B,
                    D,
                    par,
                    ctrl,
                    fctrl,
                    absent_w,
                    absent_c,
                    abscnt,
                    fleet_end,
                    rest,
                    True,
                    stall,
                    kind=COUNTERS_KIND,
                    pen=pen,
                )
                handed = handover and int(ctrl[9]) == 1 and int(ctrl[10]) > lb
                ctrl[6] = lb
                fleet_it += int(ctrl[7])
                have_best = have_best or ctrl[8] > 0
                notes.append(
                    f"fleet minimisation{tag}: {int(ctrl[10]) if have_best else '-'} routes in {int(ctrl[7])} "
                    "iterations"
                    + (" (one above the payload bound: to time warp)" if handed else why_names[int(ctrl[9])])
                )
            stalled = why == 2 if fleet_method == "timewarp" else int(ctrl[9]) == 2 or handed
            if not (have_best and stalled and budget is None and _now() < fleet_end):
                break
            # another round from the best plan: time warp with fresh penalties, then the counters
            na = _counters_from_best(K, W, C, B, D, slots, ctrl, fctrl)
    if not have_best:
        return None
    # distance at the best fleet
    _copy_into(C, B)
    km = K.rebuild(C, D, slots)
    _copy_into(W, C)
    fctrl[0] = fctrl[1] = km
    ctrl[0] = 0
    ctrl[4] = ctrl[5] = 0
    ctrl[10] = K.used_routes(C[1], slots)
    ctrl[2] = ctrl[10] if hierarchical else slots
    ctrl[7] = 0
    budget = None if total is None else total - fleet_it
    _run(K, W, C, B, D, par, ctrl, fctrl, absent_w, absent_c, abscnt, deadline, budget, stop_flag=False)
    dist_it = int(ctrl[7])
    seconds = _now() - t_start
    notes.append(
        f"SISR distance: {int(ctrl[10])} routes, {fctrl[1]:.2f} km in {dist_it} iterations; "
        f"{(fleet_it + dist_it) / max(seconds, 1e-9):.0f} it/s"
    )
    seq, lens = B[0], B[1]
    routes = [[int(c) - 1 for c in seq[r, 1 : lens[r] + 1]] for r in range(slots) if lens[r] > 0]
    return PlainResult(routes, float(fctrl[1]), notes, fleet_it + dist_it, fleet_it)


def _counters_from_best(K, W, C, B, D, slots, ctrl, fctrl) -> int:
    """Current and working plans := the best plan, no job absent; returns the new absent count (0)."""
    C[0][...] = B[0]
    C[1][...] = B[1]
    fctrl[0] = K.rebuild(C, D, slots)
    _copy_into(W, C)
    ctrl[4] = ctrl[5] = 0
    return 0


def _fleet_timewarp(
    K,
    D,
    par,
    C,
    B,
    slots,
    na,
    absent_c,
    target,
    ctrl,
    fctrl,
    times,
    budget,
    stall,
    last_step=False,
    handover=False,
    best_routes=None,
) -> tuple[int, int, int]:
    """Fleet minimisation through time warp from ``C`` (``na`` jobs absent): each time no route is late or
    overloaded, the plan goes to ``B`` (``ctrl[10]`` routes, ``fctrl[1]`` km) and, until ``target`` routes
    (the payload bound; the fleet itself for the distance objective), the smallest route goes.
    ``times``: (start, deadline, end of this phase) on the clock. Returns (iterations, plans found, why it
    stopped: 0 time share, 1 payload bound, 2 no progress for ``stall`` s). ``last_step``: at ``target`` + 1
    routes (``best_routes`` on entry, or reached here) its penalties go back to ``TW_RESET`` at their cap and it
    waits ``TW_STEP_STALL_SHARE`` for progress, or (``handover``) stops only at its end or at ``target``
    (``TW_LAST_STEP``, ``TW_STEP_HANDOVER_JOBS``)."""
    t_start, deadline, end = times
    n = D[5].shape[0] - 1
    Dt = _tw_data(D)
    Tw, Tc = _tw_state(n, slots), _tw_state(n, slots)
    Tc[0][...] = C[0]
    Tc[1][...] = C[1]
    K.tw_rebuild(Tc, Dt, slots)
    _copy_into(Tw, Tc)
    aw, ac = np.zeros(n + 1, np.int64), np.zeros(n + 1, np.int64)
    tctrl = np.zeros(8, np.int64)
    tctrl[0] = slots
    tctrl[5] = int(par[K.P_KINS])
    tctrl[7] = TW_LS_NEIGHBOURS
    tf = np.zeros(6)
    tf[3] = tf[4] = TW_LAMBDA0
    tf[5] = TW_GROWTH
    if na > 0:
        ac[:na] = absent_c[:na]
        aw[:na] = absent_c[:na]
        tctrl[1] = na
    else:
        tctrl[1] = K.tw_drop_smallest_route(Tw, Tc, Dt, slots, aw, ac)
    tctrl[3] = K.tw_totals(Tc, Dt, slots, tf)
    X = _state(n, slots)
    gains = 0
    span = max(1e-9, deadline - t_start)
    t0, tfin = par[K.P_T0], par[K.P_TF]
    chunk, last_gain, done = 50, _now(), 0
    why = 0
    step = last_step and best_routes == target + 1
    step_stall = np.inf if handover else TW_STEP_STALL_SHARE * span
    while True:
        now = _now()
        if budget is not None:
            if done >= budget:
                break
            k = min(1000, budget - done)
            p0, p1 = done / (2 * budget), (done + k) / (2 * budget)
        else:
            if now >= end:
                break
            if now - last_gain > (step_stall if step else stall):
                why = 2
                break
            if step and tf[3] >= K.TW_LAM_MAX:
                tf[3] = tf[4] = TW_RESET
            k = chunk
            p0 = (now - t_start) / span
            p1 = p0
        before = int(tctrl[2])
        K.tw_chunk(Tw, Tc, Dt, par, tctrl, tf, aw, ac, k, t0 * (tfin / t0) ** p0, t0 * (tfin / t0) ** p1)
        did = int(tctrl[2]) - before
        done += did
        if budget is None and did > 0:
            dt = _now() - now
            chunk = int(min(100_000, max(1, did / max(dt, 1e-6) * CHUNK_S)))
        if tctrl[4]:
            tctrl[4] = 0
            X[0][...] = Tc[0]
            X[1][...] = Tc[1]
            km = K.rebuild(X, D, slots)
            if not all(K.route_ok(r, X) for r in range(slots) if X[1][r] > 0):
                continue  # on time by the time-warp sums, a hair late by the slack data: search on
            used = int(K.used_routes(X[1], slots))
            B[0][...] = X[0]
            B[1][...] = X[1]
            fctrl[1] = km
            ctrl[10] = used
            gains += 1
            last_gain = _now()
            if used <= target:
                why = 1
                break
            step = last_step and used == target + 1
            tctrl[1] = K.tw_drop_smallest_route(Tw, Tc, Dt, slots, aw, ac)
            tctrl[3] = K.tw_totals(Tc, Dt, slots, tf)
            tf[3] *= TW_AFTER
            tf[4] *= TW_AFTER
    return int(tctrl[2]), gains, why


def _run(
    K,
    W,
    C,
    B,
    D,
    par,
    ctrl,
    fctrl,
    absent_w,
    absent_c,
    abscnt,
    end,
    budget,
    stop_flag,
    stall=None,
    kind="sisr",
    pen=None,
) -> None:
    """Call the compiled chunk until ``end`` (clock) or ``budget`` iterations; ``stop_flag``: also when the
    fleet target is reached, or (``stall`` [s]) when no route went for that long. ``kind`` (fleet phase only,
    ``COUNTERS_KIND``): SISR's counters, the ejection pool (counters ``pen``), or the two by turns."""
    start = _now()
    span = max(1e-9, end - start)
    done = 0
    chunk = 50
    rate = None
    turn = 0
    echunk, erate = 50, None
    last_gain, gains, least = start, int(ctrl[8]), int(ctrl[5])
    while True:
        if stop_flag and ctrl[9]:
            return
        if stall is not None and budget is None:
            # progress: a route went, or fewer jobs absent than ever since the last one went
            if int(ctrl[8]) != gains or int(ctrl[5]) < least:
                last_gain, gains, least = _now(), int(ctrl[8]), int(ctrl[5])
            elif _now() - last_gain > stall:
                ctrl[9] = 2  # stalled
                return
        if budget is not None:
            if done >= budget:
                return
            k = min(1000, budget - done)
            p0, p1 = done / budget, (done + k) / budget
        else:
            now = _now()
            if now >= end:
                return
            p0 = (now - start) / span
            k = chunk
            p1 = min(1.0, p0 + (k / rate if rate else 0.0) / span)
        before = int(ctrl[7])
        t = _now()
        turn += 1
        if kind == "eject" or (kind == "alternate" and turn % 2 == 0):
            if budget is None:
                k = echunk
            K.eject_chunk(
                C, B, D, ctrl, fctrl, absent_c, pen, k, EJECT_KMAX, EJECT_PERTURB, int(par[K.P_KINS])
            )
            _copy_into(W, C)  # the pool works on C alone
            na = int(ctrl[5])
            absent_w[:na] = absent_c[:na]
            ctrl[4] = na
            fctrl[0] = float(C[5].sum())
            dt = _now() - t
            did = int(ctrl[7]) - before
            done += did
            if budget is None and did > 0:
                erate = did / max(dt, 1e-6)
                echunk = int(min(100_000, max(1, erate * CHUNK_S)))
            continue
        K.sisr_chunk(W, C, B, D, par, ctrl, fctrl, absent_w, absent_c, abscnt, k, p0, p1)
        dt = _now() - t
        did = int(ctrl[7]) - before
        done += did
        if budget is None and did > 0:
            rate = did / max(dt, 1e-6)
            chunk = int(min(100_000, max(1, rate * CHUNK_S)))


def warm() -> None:
    """Compile the kernels, or load them from numba's on-disk cache, by calling each once on a two-job problem.

    ``routing.solve`` calls it before it starts a plain problem's clock, so that the search keeps its whole
    time limit. This call alone in a fresh process, imports included, with an empty ``NUMBA_CACHE_DIR`` and then
    again from the cache (the command is in the README's routing section): 61 CPU s cold and 1.2 s from the cache
    with the ejection pool (e6581ab), 47 s cold before it (a9d8aaa), on the 2-core AMD EPYC of 2026-12-07;
    earlier hosts measured 15.5 s (the SISR kernels alone) and 23.7 s (with time warp) cold.
    The kernels are imported here, not when ``routing.plain`` is, so problems that are not plain never pay it."""
    from routing import plain_kernels as K

    n = 2
    dist = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    ready = np.array([0.0, 0.0, 0.0])
    due = np.array([100.0, 100.0, 100.0])
    zeros = np.zeros(n + 1)
    neigh = np.array([[0], [2], [1]], dtype=np.int64)
    D = (dist, dist.copy(), ready, due, zeros, np.array([0.0, 1.0, 1.0]), 1.0, neigh)
    par = np.zeros(K.N_PAR)
    par[K.P_T0] = par[K.P_TF] = 1.0
    W, C, B = _state(n, 2), _state(n, 2), _state(n, 2)
    absent_w, absent_c, abscnt = (np.zeros(n + 1, np.int64) for _ in range(3))
    K.seed_rng(0)
    K.construct(C, D, 2, absent_c)
    K.rebuild(C, D, 2)
    _copy_into(W, C)
    _copy_into(B, C)
    ctrl = np.zeros(12, np.int64)
    ctrl[0], ctrl[1], ctrl[2], ctrl[3], ctrl[6], ctrl[11] = 1, 2, 2, 1, 1, 1
    fctrl = np.zeros(2)
    K.used_routes(C[1], 2)
    K.drop_smallest_route(W, C, D, 2, absent_w, absent_c, ctrl, fctrl)
    K.sisr_chunk(W, C, B, D, par, ctrl, fctrl, absent_w, absent_c, abscnt, 1, 0.0, 1.0)
    K.eject_chunk(C, B, D, ctrl, fctrl, absent_c, np.ones(n + 1), 2, 2, 2, 0)
    Dt = _tw_data(D)
    Tw, Tc = _tw_state(n, 2), _tw_state(n, 2)
    Tc[0][...] = C[0]
    Tc[1][...] = C[1]
    K.tw_rebuild(Tc, Dt, 2)
    _copy_into(Tw, Tc)
    tctrl = np.zeros(8, np.int64)
    tctrl[0] = 2
    tctrl[7] = 2
    tf = np.ones(6)
    tctrl[1] = K.tw_drop_smallest_route(Tw, Tc, Dt, 2, absent_w, absent_c)
    tctrl[3] = K.tw_totals(Tc, Dt, 2, tf)
    K.tw_chunk(Tw, Tc, Dt, par, tctrl, tf, absent_w, absent_c, 1, 1.0, 1.0)


def solve_plain(
    problem: RoutingProblem, geo, diag, time_limit_s: float, seed: int, t0: float, workers: int = 1, **kw
):
    """The plain path of ``routing.solve``: a ``RoutingSolution``, or None to fall back on the general path."""
    from routing.evaluate import evaluate_route
    from routing.solution import RoutingSolution, SolverStats, UnservedJob, UnservedReason

    vt = next(v for v in problem.vehicle_types if v.count > 0)
    jobs = [j for j in problem.jobs if j.id in diag.allowed_types]
    margin = 0.1 + 0.01 * time_limit_s
    deadline = t0 + time_limit_s - margin
    if not jobs:
        return None
    arr = to_arrays(geo, vt, jobs)
    slots = min(vt.count, len(jobs))
    res = search(arr, slots, problem.objective is Objective.HIERARCHICAL, deadline, seed, **kw)
    if res is None:
        return None
    vids = [vid for vid, v in problem.vehicle_ids() if v is vt]
    routes = []
    for k, seq in enumerate(res.routes):
        ev = evaluate_route(geo, vids[k], vt, [jobs[c] for c in seq], vt.shift_start)
        if ev.violations:
            return None
        routes.append(ev.route)
    unserved = list(diag.unserved)
    served = {c for seq in res.routes for c in seq}
    for c, j in enumerate(jobs):
        if c not in served:
            unserved.append(UnservedJob(j.id, UnservedReason.DROPPED, "the search found no room for it"))
    order = {j.id: k for k, j in enumerate(problem.jobs)}
    unserved.sort(key=lambda u: order[u.job_id])
    stats = SolverStats(
        "partial" if unserved else "feasible",
        round(_now() - t0, 3),
        seed,
        time_limit_s,
        workers,
        round(res.km, 3),
        ("plain VRPTW: compiled SISR (routing.plain)", *res.notes),
    )
    return RoutingSolution(problem.name, tuple(routes), tuple(unserved), stats)
