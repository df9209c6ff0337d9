"""Minimal-change re-plan: keep the current plan where possible, honour locks, start each truck from where it is.

After a breakdown or an urgent order a planner wants the day's plan mended, not replaced: a free re-solve puts most
jobs on another truck (issue 21: every driver's sheet changed). ``replan`` therefore

1. cuts the day at ``now`` (``remaining_problem``): the stops each truck has already left for stay fixed
   (``routing.locks.fixed_stop_count``); each available truck starts the rest of its day at its last fixed stop
   (or a telematics position) at the time it leaves it, with its charge there (or the measured one); its driver-day
   cost is already spent; an unavailable truck's unfixed jobs become orphans;
2. searches from the current plan (``_Search``): locked routes are left alone; orphans and urgent jobs are inserted
   at their cheapest feasible place (with the charging stops the battery needs, ``routing.construct.Builder``);
   jobs that find no room are placed by ejecting one unlocked job; then a ruin-and-recreate improves the sum of
   the route costs plus ``move_penalty`` per job on another truck than in the current plan. Locked stops never
   leave their truck and are never re-ordered among themselves (insertions never re-order a route);
3. checks the result with the independent checkers (``routing.check`` on the rest of the day, ``routing.locks`` on
   the whole day) and, unless asked not to, compares it with a free re-solve of the same remaining problem
   (``routing.solve.solve``) by the number of jobs that change truck, also after the best relabelling of
   interchangeable trucks (a free solver's choice of which of two identical trucks at the depot drives a route is
   arbitrary, so counting those swaps as moves would flatter the minimal-change plan).

Why an own search instead of the OR-Tools model: the move penalty is a cost on a (job, vehicle) pair, which
pywrapcp can only express through per-vehicle arc costs or a dimension, i.e. by changing ``routing.model``; the
insertion and ruin-and-recreate here reuse the solver's float evaluation and station repair and leave the model
and search untouched. Goods handover is outside the model: a job moved off a broken-down truck is assumed to be
on the new truck (a transfer or a re-dispatch from the depot), which is why such moves are counted and shown.

Units as in ``routing.problem``: [min] from the time origin, [km], [kWh]; ``move_penalty`` in the objective's unit
(currency for ``Objective.COST``, km otherwise).
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from routing import clock, trips
from routing.check import CheckReport, check_solution
from routing.construct import Builder
from routing.evaluate import Geometry, RouteEval, Visit, evaluate_route
from routing.lns_trips import TripRoutes
from routing.locks import (
    LockReport,
    Locks,
    MoveReport,
    VehicleState,
    check_locks,
    count_moves,
    fixed_stop_count,
)
from routing.problem import ChargingStation, Job, Location, Objective, RoutingProblem, VehicleType
from routing.solution import (
    Route,
    RoutingSolution,
    SolverStats,
    Stop,
    StopKind,
    UnservedJob,
    UnservedReason,
)

DEFAULT_MOVE_PENALTY = 100.0
"""Cost of moving one job to another truck [objective unit: CNY for the fleet's cost objective]. ASSUMPTION: about
three driver-hours at the demo's 35 CNY/h, i.e. a move must save more than a re-briefed driver and a reloaded
crate are worth."""
HIERARCHICAL_VEHICLE_KM = 10_000.0
"""Weight of one more truck under ``Objective.HIERARCHICAL`` [km]: fewer trucks first."""
CANDIDATES = 12
"""Insertion positions evaluated exactly per job (the best by the O(1) filter's detour)."""
MAX_RUIN = 8
"""Most jobs removed in one ruin-and-recreate step."""
STALL = 500
"""Ruin-and-recreate steps without improvement after which the search stops before its time limit."""
CHAIN_CHECKS = 40
"""Reload/break problems: (route, ejected jobs) candidates judged exactly per step of the ejection pool
(``_Search.chain_insert``), the least often ejected and nearest first."""
CHAIN_STEPS = 60
"""Reload/break problems: ejections the pool may make for one job before it gives up."""


class ReplanError(ValueError):
    """A re-plan request that cannot be honoured (unknown vehicle, conflicting or infeasible lock)."""


# --------------------------------------------------------------------------------------------------------------
# The rest of the day
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RemainderNote:
    """One remark on the remaining problem, structured for wording in any language (`Remainder.notes` has it in
    English). ``code``: "available_after_shift" (values: available, shift_end [min from the time origin]) or
    "charge_clamped" (values: soc_kwh, taken [fraction of capacity])."""

    code: str
    vehicle: str
    values: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Remainder:
    """The remaining problem at ``now`` and how it maps onto the day's plan.

    ``problem`` has one vehicle type per available truck (type id = the truck's type id when that type has one
    truck, else the truck's vehicle id), so its vehicle ids differ from the day's only for multi-truck types:
    ``sub_of``/``orig_of`` translate. ``fixed`` holds each truck's fixed stops (copied from the current plan),
    ``planned`` the stop ids the current plan has for each truck after them (sub vehicle ids).

    Multi-trip and breaks (``routing.problem``, 'Multi-trip', 'Driver breaks'): a truck that starts the rest of
    its day away from its depot keeps reloading at the depot (``reload_depot``), has the trips its fixed stops
    did not use (``max_trips`` minus the reloads among them), and its driver the continuous driving since the
    last rest among them (``driving_at_start_minutes``), so a rest of the day that passes the checker on the
    remaining problem also does so stitched after the fixed stops on the whole day.
    """

    problem: RoutingProblem
    now: float | None
    fixed: dict[str, tuple[Stop, ...]]
    sub_of: dict[str, str]
    orig_of: dict[str, str]
    planned: dict[str, tuple[str, ...]]
    started: frozenset[str]
    orphans: tuple[str, ...]
    unavailable: frozenset[str]
    notes: tuple[str, ...] = ()
    events: tuple[RemainderNote, ...] = ()  # the notes, structured
    planned_kinds: dict[str, tuple[StopKind, ...]] = field(default_factory=dict)
    """The kinds of the ``planned`` stops (job, station or reload; the plan's BREAK stops are left out of both: the
    re-plan places the rests afresh)."""


def _state_location(problem: RoutingProblem, loc: Location, taken: set[str]) -> Location:
    kind = problem.locations[0].coordinate_kind
    if problem.distance_km is not None or problem.travel_minutes is not None:
        raise ReplanError(
            f"VehicleState location {loc.id!r}: the problem uses distance/time matrices, so a position "
            "outside its locations cannot be routed"
        )
    if loc.coordinate_kind != kind:
        raise ReplanError(
            f"VehicleState location {loc.id!r}: coordinates are {loc.coordinate_kind}, the problem's are {kind}"
        )
    new_id = loc.id
    while new_id in taken:
        new_id = f"{new_id}'"
    taken.add(new_id)
    return dataclasses.replace(loc, id=new_id)


def remaining_problem(
    problem: RoutingProblem,
    current: RoutingSolution,
    *,
    now: float | None = None,
    unavailable: Iterable[str] = (),
    states: Sequence[VehicleState] = (),
    urgent: Sequence[Job] = (),
    urgent_locations: Sequence[Location] = (),
) -> Remainder:
    """Cut the day at ``now`` [min] (None: before any truck leaves). See the module docstring, step 1."""
    vehicles = problem.vehicle_ids()
    known = {vid for vid, _ in vehicles}
    down = frozenset(unavailable)
    for vid in sorted(down - known):
        raise ReplanError(
            f"unavailable vehicle {vid!r}: not a vehicle of the problem (known: {sorted(known)[:5]}…)"
        )
    by_state = {}
    for s in states:
        if s.vehicle_id not in known:
            raise ReplanError(f"VehicleState {s.vehicle_id!r}: not a vehicle of the problem")
        by_state[s.vehicle_id] = s
    routes = {r.vehicle_id: r for r in current.routes if r.stops}
    for vid in routes:
        if vid not in known:
            raise ReplanError(f"current plan: route of {vid!r}, which is not a vehicle of the problem")
    if now is not None and not math.isfinite(now):
        raise ReplanError(f"now = {now!r}: must be a finite time [min]")
    locations = list(problem.locations)
    taken = {loc.id for loc in locations}
    for loc in urgent_locations:
        if loc.id in taken:
            raise ReplanError(f"urgent location {loc.id!r}: id already used by the problem")
        taken.add(loc.id)
        locations.append(loc)
    job_ids = {j.id for j in problem.jobs}
    for j in urgent:
        if j.id in job_ids:
            raise ReplanError(f"urgent job {j.id!r}: id already used by a job of the plan")
        job_ids.add(j.id)
    fixed: dict[str, tuple[Stop, ...]] = {}
    planned: dict[str, tuple[str, ...]] = {}
    planned_kinds: dict[str, tuple[StopKind, ...]] = {}
    sub_of: dict[str, str] = {}
    started: set[str] = set()
    orphans: list[str] = []
    notes: list[str] = []
    events: list[RemainderNote] = []
    types: list[VehicleType] = []
    for vid, vt in vehicles:
        route = routes.get(vid)
        if vid in down:
            k = fixed_stop_count(route, now, available=False) if route else 0
            fixed[vid] = route.stops[:k] if route else ()
            if route:
                orphans += [s.id for s in route.stops[k:] if s.kind is StopKind.JOB]
            continue
        k = fixed_stop_count(route, now) if route else 0
        start, avail = vt.start_depot, vt.shift_start if now is None else max(vt.shift_start, now)
        soc = vt.battery.initial_kwh if vt.battery is not None else None
        rest: tuple[Stop, ...] = route.stops if route else ()
        if route is not None and k > 0:
            started.add(vid)
            if k > len(route.stops):  # driving home: the rest of the day starts at the end depot
                start, avail, soc, rest = route.end_depot, route.arrival, route.soc_arrival_kwh, ()
            else:
                last = route.stops[k - 1]
                start, avail, soc, rest = (
                    last.location,
                    last.departure,
                    last.soc_departure_kwh,
                    route.stops[k:],
                )
            avail = max(avail, now)  # type: ignore[type-var]
        fixed[vid] = route.stops[: min(k, len(route.stops))] if route else ()
        st = by_state.get(vid)
        if st is not None:
            if st.location is not None:
                loc = _state_location(problem, st.location, taken)
                locations.append(loc)
                start = loc.id
            if st.available_from is not None:
                avail = st.available_from if now is None else max(st.available_from, now)
            if st.soc_kwh is not None:
                soc = st.soc_kwh
        changes: dict[str, object] = {
            "id": vt.id if vt.count == 1 else vid,
            "count": 1,
            "start_depot": start,
            "end_depot": vt.end,
            "shift_start": avail,
        }
        if vt.shift_end is not None and vt.shift_end < avail:
            changes["shift_end"] = avail
            notes.append(f"{vid}: available at {avail:.1f} min, after its shift end {vt.shift_end}")
            events.append(
                RemainderNote(
                    "available_after_shift",
                    vid,
                    (("available", float(avail)), ("shift_end", float(vt.shift_end))),
                )
            )
        done = route.stops[: min(k, len(route.stops))] if route else ()
        if vt.max_trips > 1:
            changes["max_trips"] = max(1, vt.max_trips - sum(1 for x in done if x.kind is StopKind.RELOAD))
            if start != vt.reload_at:
                changes["reload_depot"] = vt.reload_at
        if vt.break_rule is not None and route is not None and k > 0:
            changes["driving_at_start_minutes"] = _driving_before(route, k, vt)
        if vid in started:
            changes["fixed_cost"] = 0.0  # its driver-day is already spent
            if vt.max_duration_minutes is not None and route is not None:
                changes["max_duration_minutes"] = max(
                    1e-3, vt.max_duration_minutes - (avail - route.departure)
                )
        if vt.battery is not None and soc is not None:
            b = vt.battery
            frac = soc / b.capacity_kwh
            clamped = min(1.0, max(b.reserve_soc, frac))
            if abs(clamped - frac) > 1e-9:
                notes.append(
                    f"{vid}: charge {soc:.2f} kWh outside [reserve, capacity]; taken as {clamped:.3f}"
                )
                events.append(
                    RemainderNote("charge_clamped", vid, (("soc_kwh", float(soc)), ("taken", float(clamped))))
                )
            changes["battery"] = dataclasses.replace(b, initial_soc=clamped)
        sub = dataclasses.replace(vt, **changes)
        types.append(sub)
        sub_of[vid] = f"{sub.id}#1"
        kept = [x for x in rest if x.kind is not StopKind.BREAK]
        planned[sub_of[vid]] = tuple(x.id for x in kept)
        planned_kinds[sub_of[vid]] = tuple(x.kind for x in kept)
    served_fixed = {s.id for stops in fixed.values() for s in stops if s.kind is StopKind.JOB}
    jobs = tuple(j for j in problem.jobs if j.id not in served_fixed) + tuple(urgent)
    if not types:
        raise ReplanError("no vehicle is available for the rest of the day")
    sub_problem = RoutingProblem(
        locations=tuple(locations),
        jobs=jobs,
        vehicle_types=tuple(types),
        stations=problem.stations,
        recharge_policy=problem.recharge_policy,
        objective=problem.objective,
        distance_km=problem.distance_km,
        travel_minutes=problem.travel_minutes,
        road_detour_factor=problem.road_detour_factor,
        time_origin=problem.time_origin,
        name=problem.name if now is None else f"{problem.name} from {now:.0f} min",
        speed_profile=problem.speed_profile,
        zones=problem.zones,
    )
    return Remainder(
        problem=sub_problem,
        now=now,
        fixed=fixed,
        sub_of=sub_of,
        orig_of={s: o for o, s in sub_of.items()},
        planned=planned,
        started=frozenset(started),
        orphans=tuple(orphans),
        unavailable=down,
        notes=tuple(notes),
        events=tuple(events),
        planned_kinds=planned_kinds,
    )


def _driving_before(route: Route, k: int, vt: VehicleType) -> float:
    """Continuous driving [min] of ``route``'s driver when the first ``k`` stops are done (``k > len(stops)``: back
    at the end depot): travel minutes since the last BREAK of at least the rule's rest, or since the start."""
    rule = vt.break_rule
    driving = vt.driving_at_start_minutes
    prev = route.departure
    for x in route.stops[:k]:
        if x.kind is StopKind.BREAK:
            if rule is not None and x.departure - x.arrival >= rule.min_rest_minutes - 1e-6:
                driving = 0.0
        else:
            driving += max(0.0, x.arrival - prev)
        prev = x.departure
    if k > len(route.stops):
        driving += max(0.0, route.arrival - prev)
    return driving


# --------------------------------------------------------------------------------------------------------------
# The minimal-change search
# --------------------------------------------------------------------------------------------------------------
def _jobs(seq: Sequence[Visit]) -> list[Job]:
    return [x for x in seq if isinstance(x, Job)]


def _key(x: Visit) -> str:
    if isinstance(x, Job):
        return "j:" + x.id
    return ("r:" if isinstance(x, trips.Reload) else "s:") + x.id


class _Search:
    """Routes of the rest of the day as visit lists over the sub-problem's vehicles, with their costs."""

    def __init__(
        self,
        geo: Geometry,
        builder: Builder,
        vehicles: list[tuple[str, VehicleType]],
        routes: list[list[Visit]],
        frozen: set[int],
        pinned: dict[str, int],
        home: dict[str, int],
        penalty: float,
        started: set[int],
    ) -> None:
        self.geo, self.b = geo, builder
        self.vehicles, self.routes = vehicles, routes
        self.frozen, self.pinned, self.home, self.penalty = frozen, pinned, home, penalty
        self.started = started
        self.objective = geo.problem.objective
        self._memo: dict[tuple[int, tuple[str, ...]], float | None] = {}
        # Reloads/breaks: routes are judged by the solver's float evaluation of such routes (routing.trips), with
        # the insertion places and station repair of routing.lns_trips (a job may also go on a trip of its own).
        self.tr = TripRoutes(geo, vehicles) if trips.extended(geo.problem) else None

    def evaluate(self, v: int, seq: Sequence[Visit]) -> RouteEval:
        """The float route of vehicle ``v`` driving ``seq`` from its shift start."""
        if self.tr is not None:
            return self.tr.evaluate(v, list(seq))[0]  # type: ignore[arg-type]
        vid, vt = self.vehicles[v]
        return evaluate_route(self.geo, vid, vt, list(seq))

    # ---- costs ----
    def cost(self, v: int, seq: Sequence[Visit]) -> float | None:
        """Objective of route ``v`` driving ``seq`` (None: infeasible)."""
        if not seq:
            return 0.0
        key = (v, tuple(_key(x) for x in seq))
        if key in self._memo:
            return self._memo[key]
        vid, vt = self.vehicles[v]
        if self.tr is not None:
            ev = self.evaluate(v, seq)
        else:
            ev = evaluate_route(self.geo, vid, vt, list(seq), stop_early=True)
        out: float | None
        if not ev.feasible:
            out = None
        elif self.objective is Objective.COST:
            out = ev.route.cost
        elif self.objective is Objective.DISTANCE:
            out = ev.route.distance_km
        else:
            out = ev.route.distance_km + (0.0 if v in self.started else HIERARCHICAL_VEHICLE_KM)
        self._memo[key] = out
        return out

    def move_cost(self, job: Job, v: int) -> float:
        h = self.home.get(job.id)
        return self.penalty if h is not None and h != v else 0.0

    def total(self) -> float:
        tot = 0.0
        for v, seq in enumerate(self.routes):
            c = self.cost(v, seq)
            tot += math.inf if c is None else c
            tot += sum(self.move_cost(j, v) for j in _jobs(seq))
        return tot

    def _unit(self, vt: VehicleType) -> float:
        """Rough cost of one km of detour, to rank positions before the exact evaluation."""
        if self.objective is Objective.COST:
            return vt.cost_per_km + vt.cost_per_hour / vt.speed_kmh
        return 1.0

    # ---- moves ----
    def without(self, v: int, drop: set[str]) -> list[Visit] | None:
        """Route ``v`` without the jobs ``drop``, its charging stops placed afresh when that works."""
        vt = self.vehicles[v][1]
        rest = [x for x in self.routes[v] if not (isinstance(x, Job) and x.id in drop)]
        if not _jobs(rest):
            return []
        if self.tr is not None:  # empty trips dropped, stations trimmed or placed afresh
            mended = self.tr.mended(v, rest)  # type: ignore[arg-type]
            return None if mended is None else mended[0]  # type: ignore[return-value]
        if any(isinstance(x, ChargingStation) for x in rest):
            fresh = self.b.repaired(vt, _jobs(rest))
            if fresh is not None and self.cost(v, fresh) is not None:
                return fresh
        seq = self.b.repaired(vt, rest)
        return seq if seq is not None and self.cost(v, seq) is not None else None

    def best_insert(self, job: Job, only: int | None = None) -> tuple[float, int, list[Visit]] | None:
        """Cheapest feasible place for ``job`` (objective increase incl. the move penalty), or None."""
        ok_types = self.b.allowed.get(job.id, set())
        pin = self.pinned.get(job.id)
        cands: list[tuple[float, int, int, list[Visit]]] = []
        for v, (_, vt) in enumerate(self.vehicles):
            if v in self.frozen or vt.id not in ok_types:
                continue
            if (pin is not None and v != pin) or (only is not None and v != only):
                continue
            seq = self.routes[v]
            opening = 0.0 if seq or v in self.started else vt.fixed_cost
            extra = self.move_cost(job, v) + opening
            unit = self._unit(vt)
            if self.tr is not None:  # also as a trip of its own (routing.lns_trips); built when evaluated
                places = [(d, (p, shape)) for d, p, shape in self.tr.spots(v, seq, job)]  # type: ignore[arg-type]
            else:
                table = self.b.slack_table(vt, seq)
                places = [(d, seq[:pos] + [job] + seq[pos:]) for d, pos in self.b.positions(vt, table, job)]
            for detour, trial in places:
                cands.append((extra + unit * detour, len(cands), v, trial))  # type: ignore[arg-type]
        cands.sort(key=lambda c: (c[0], c[1]))
        best: tuple[float, int, list[Visit]] | None = None
        for _, _, v, trial in cands[:CANDIDATES]:
            vt = self.vehicles[v][1]
            cur = self.routes[v]
            if isinstance(trial, tuple):
                trial = self.tr.placed(v, cur, job, *trial)  # type: ignore[union-attr,arg-type]
            base = self.cost(v, cur)
            if base is None:
                continue
            if self.tr is not None:
                mended = self.tr.mended(v, trial)  # type: ignore[arg-type]
                options = [None if mended is None else mended[0]]
            else:
                options = [self.b.repaired(vt, trial)]
                if any(isinstance(x, ChargingStation) for x in trial):
                    options.append(self.b.repaired(vt, _jobs(trial)))
            for seq in options:
                if seq is None:
                    continue
                c = self.cost(v, seq)
                if c is None:
                    continue
                delta = c - base + self.move_cost(job, v)
                if best is None or delta < best[0]:
                    best = (delta, v, seq)
        return best

    def insert(self, job: Job) -> bool:
        found = self.best_insert(job)
        if found is None:
            return False
        self.routes[found[1]] = found[2]
        return True

    def eject_insert(self, job: Job, deadline: float, rng: random.Random) -> bool:
        """Place ``job`` by taking one unlocked job out of a route and placing that one elsewhere."""
        best: tuple[float, list[list[Visit]]] | None = None
        order = [v for v in range(len(self.vehicles)) if v not in self.frozen and _jobs(self.routes[v])]
        rng.shuffle(order)
        saved = [list(r) for r in self.routes]
        for v in order:
            for x in _jobs(saved[v]):
                if clock.now() > deadline:
                    break
                if x.id in self.pinned:
                    continue
                self.routes = [list(r) for r in saved]
                rest = self.without(v, {x.id})
                if rest is None:
                    continue
                self.routes[v] = rest
                if not self.insert(job) or not self.insert(x):
                    continue
                tot = self.total()
                if best is None or tot < best[0]:
                    best = (tot, [list(r) for r in self.routes])
        self.routes = best[1] if best is not None else saved
        return best is not None

    def force_insert(self, job: Job, deadline: float, max_out: int = 6) -> bool:
        """Place ``job`` where only a truck near it can reach it in time: put it into a route, take out the
        unlocked jobs where that route then fails (by ``Builder.scan``, up to ``max_out``), and place those
        elsewhere; keep the cheapest such plan. Moves several jobs, so it runs only for jobs still out."""
        ok_types = self.b.allowed.get(job.id, set())
        pin = self.pinned.get(job.id)
        saved = [list(r) for r in self.routes]
        best: tuple[float, list[list[Visit]]] | None = None
        for v, (_, vt) in enumerate(self.vehicles):
            if v in self.frozen or vt.id not in ok_types or (pin is not None and v != pin):
                continue
            base = _jobs(saved[v])
            for pos in range(len(base) + 1):
                if clock.now() > deadline:
                    break
                seq: list[Job] = base[:pos] + [job] + base[pos:]
                out: list[Job] = []
                while len(out) <= max_out:
                    fixed = self.b.repaired(vt, list(seq))
                    if fixed is not None and self.cost(v, fixed) is not None:
                        break
                    res = self.b.scan(vt, list(seq))
                    at = min(max(res.at, 0), len(seq) - 1) if seq else 0
                    # The job where the route fails, else the nearest unlocked one before it.
                    cands = [
                        k for k in range(at, -1, -1) if seq[k] is not job and seq[k].id not in self.pinned
                    ]
                    cands += [
                        k
                        for k in range(at + 1, len(seq))
                        if seq[k] is not job and seq[k].id not in self.pinned
                    ]
                    if not cands:
                        break
                    out.append(seq.pop(cands[0]))
                else:
                    continue
                if fixed is None or self.cost(v, fixed) is None or len(out) > max_out:
                    continue
                self.routes = [list(r) for r in saved]
                self.routes[v] = fixed
                if all(self.insert(x) for x in out):
                    tot = self.total()
                    if best is None or tot < best[0]:
                        best = (tot, [list(r) for r in self.routes])
        self.routes = best[1] if best is not None else saved
        return best is not None

    def pool_insert(self, missing: list[Job], deadline: float, seed: int) -> list[Job]:
        """The solver's ejection pool (``routing.eject.place_missing``, chains of ejections) for the jobs that one
        ejection could not place, over the unlocked routes, one job at a time; a result that re-orders locked
        stops is refused. Returns the jobs still out."""
        from routing.eject import place_missing

        idx = [v for v in range(len(self.vehicles)) if v not in self.frozen]
        still: list[Job] = []
        for job in missing:
            if clock.now() > deadline:
                still.append(job)
                continue
            routes, out = place_missing(
                self.b,
                [self.vehicles[v] for v in idx],
                [self.routes[v] for v in idx],
                [job],
                deadline,
                seed=seed,
            )
            trial = [list(r) for r in self.routes]
            for v, r in zip(idx, routes):
                trial[v] = list(r)
            if out or not self._pins_kept(trial) or any(self.cost(v, r) is None for v, r in enumerate(trial)):
                still.append(job)
                continue
            self.routes = trial
        return still

    def chain_insert(self, job: Job, deadline: float, max_eject: int = 2) -> bool:
        """The ejection pool for reload/break problems (``routing.eject``'s idea on the routes ``routing.trips``
        judges, after Nagata & Braysy 2009): a job that fits nowhere goes in where it forces out the fewest and
        least often moved unlocked jobs (one or two of the same route), which go back into the pool; each job's
        counter grows whenever it could not be placed plainly, so hard jobs are ejected last. ``routing.eject``
        itself builds single-trip routes without rests (``routing.construct.Builder``), which these problems'
        routes are not. All or nothing: the routes are restored when the pool does not empty by ``deadline`` or
        within ``CHAIN_STEPS`` ejections."""
        saved = [list(r) for r in self.routes]
        pool = [job]
        counter: dict[str, int] = {}
        stuck = steps = 0
        while pool:
            if clock.now() > deadline or steps >= CHAIN_STEPS:
                self.routes = saved
                return False
            x = pool.pop()
            if self.insert(x):
                stuck = 0
                continue
            counter[x.id] = counter.get(x.id, 0) + 1
            found = self._ejection(x, counter, max_eject, deadline)
            if found is None:
                pool.insert(0, x)
                stuck += 1
                if stuck > 2 * len(pool):
                    self.routes = saved
                    return False
                continue
            v, seq, out = found
            self.routes[v] = seq
            pool.extend(out)
            stuck = 0
            steps += 1
        return True

    def _ejection(
        self, job: Job, counter: dict[str, int], max_eject: int, deadline: float
    ) -> tuple[int, list[Visit], list[Job]] | None:
        """(route, its new visits, the jobs taken out) that places ``job`` by taking out up to ``max_eject``
        unlocked jobs of one route: the least total counter first, then fewer jobs, then nearest to ``job``;
        at most ``CHAIN_CHECKS`` candidates judged exactly. None if none works."""
        ok_types = self.b.allowed.get(job.id, set())
        pin = self.pinned.get(job.id)
        d = self.geo.dist
        loc = self.geo.loc
        here = loc(job.location)
        cands: list[tuple[int, int, float, int, tuple[Job, ...]]] = []
        for v, (_, vt) in enumerate(self.vehicles):
            if v in self.frozen or vt.id not in ok_types or (pin is not None and v != pin):
                continue
            free = [x for x in _jobs(self.routes[v]) if x.id not in self.pinned]
            near = {x.id: float(d[here, loc(x.location)]) for x in free}
            for i, x in enumerate(free):
                cands.append((counter.get(x.id, 0), 1, near[x.id], v, (x,)))
                if max_eject < 2:
                    continue
                for y in free[i + 1 :]:
                    pen = counter.get(x.id, 0) + counter.get(y.id, 0)
                    cands.append((pen, 2, min(near[x.id], near[y.id]), v, (x, y)))
        cands.sort(key=lambda c: c[:4])
        saved = [list(r) for r in self.routes]
        for _, _, _, v, out in cands[:CHAIN_CHECKS]:
            if clock.now() > deadline:
                break
            rest = self.without(v, {x.id for x in out})
            if rest is None:
                continue
            self.routes[v] = rest
            found = self.best_insert(job, only=v)
            self.routes[v] = saved[v]
            if found is not None:
                return v, found[2], list(out)
        return None

    def _pins_kept(self, routes: list[list[Visit]]) -> bool:
        for v, seq in enumerate(routes):
            got = [j.id for j in _jobs(seq) if j.id in self.pinned]
            want = [j.id for j in _jobs(self.routes[v]) if j.id in self.pinned]
            if got != want:
                return False
        return True

    def improve(self, deadline: float, rng: random.Random) -> tuple[int, int]:
        """Ruin and recreate the unlocked jobs while it lowers the objective; (iterations, improvements)."""
        its = imp = last = 0
        current = self.total()
        loc = self.geo.loc
        while clock.now() < deadline and its - last < STALL:
            movable = [
                (j, v)
                for v, seq in enumerate(self.routes)
                if v not in self.frozen
                for j in _jobs(seq)
                if j.id not in self.pinned
            ]
            if len(movable) < 2:
                break
            its += 1
            seed, _ = rng.choice(movable)
            d = self.geo.dist[loc(seed.location)]
            near = sorted(movable, key=lambda jv: d[loc(jv[0].location)])
            out = near[: rng.randint(2, min(MAX_RUIN, len(near)))]
            saved = [list(r) for r in self.routes]
            ok = True
            for v in sorted({v for _, v in out}):
                rest = self.without(v, {j.id for j, w in out if w == v})
                if rest is None:
                    ok = False
                    break
                self.routes[v] = rest
            jobs = [j for j, _ in out]
            if rng.random() < 0.5:
                rng.shuffle(jobs)
            ok = ok and all(self.insert(j) for j in jobs)
            tot = self.total() if ok else math.inf
            if tot < current - 1e-9:
                current, imp, last = tot, imp + 1, its
            else:
                self.routes = saved
        return its, imp


# --------------------------------------------------------------------------------------------------------------
# Result and entry point
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplanResult:
    """The re-planned rest of the day, its checks, and the comparison with a free re-solve.

    ``solution`` and ``free`` are solutions of ``remainder.problem`` (its vehicle ids); ``moves`` and
    ``free_moves`` come from the lock checker (``routing.locks.check_locks``) on the whole day;
    ``free_moves_relabelled`` counts the free re-solve's moves after the best swap of interchangeable trucks.
    ``objective``/``free_objective``: the rest of the day's route costs in the objective's unit, without penalty.
    """

    remainder: Remainder
    solution: RoutingSolution
    check: CheckReport
    locks: LockReport
    objective: float
    move_penalty: float
    free: RoutingSolution | None = None
    free_check: CheckReport | None = None
    free_locks: LockReport | None = None
    free_objective: float | None = None
    free_moves_relabelled: MoveReport | None = None
    phases: tuple[str, ...] = ()
    seconds: float = 0.0
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def moves(self) -> MoveReport:
        return self.locks.moves

    @property
    def free_moves(self) -> MoveReport | None:
        return None if self.free_locks is None else self.free_locks.moves

    @property
    def ok(self) -> bool:
        return self.check.feasible and self.locks.ok

    def day_sequences(self, which: str = "replan") -> dict[str, tuple[str, ...]]:
        """Day vehicle id -> stop ids of its whole day (fixed stops, then the re-planned rest)."""
        sol = self.solution if which == "replan" else self.free
        return _day_sequences(self.remainder, sol)


def _day_sequences(rem: Remainder, sol: RoutingSolution | None) -> dict[str, tuple[str, ...]]:
    out = {vid: tuple(s.id for s in stops) for vid, stops in rem.fixed.items() if stops}
    for r in sol.routes if sol is not None else ():
        vid = rem.orig_of[r.vehicle_id]
        out[vid] = out.get(vid, ()) + tuple(s.id for s in r.stops)
    return out


def _objective(problem: RoutingProblem, sol: RoutingSolution, started: set[str]) -> float:
    if problem.objective is Objective.COST:
        return sol.total_cost
    if problem.objective is Objective.DISTANCE:
        return sol.total_distance_km
    return sol.total_distance_km + HIERARCHICAL_VEHICLE_KM * sum(
        1 for r in sol.routes if r.stops and r.vehicle_id not in started
    )


def _interchangeable(vt: VehicleType) -> tuple:
    return dataclasses.astuple(dataclasses.replace(vt, id="_"))


def relabelled_moves(
    rem: Remainder, current_truck: dict[str, str], free: RoutingSolution, down: Iterable[str]
) -> MoveReport:
    """Moves of ``free`` after giving each route the interchangeable truck (same type figures, start, time and
    charge) that keeps most of its jobs: an assignment problem per group of identical trucks."""
    from scipy.optimize import linear_sum_assignment

    p = rem.problem
    groups: dict[tuple, list[str]] = {}
    for vid, vt in p.vehicle_ids():
        groups.setdefault(_interchangeable(vt), []).append(vid)
    jobs_of = {r.vehicle_id: [s.id for s in r.stops if s.kind is StopKind.JOB] for r in free.routes}
    label: dict[str, str] = {}
    for members in groups.values():
        origs = [rem.orig_of[m] for m in members]
        gain = [
            [sum(1 for j in jobs_of.get(m, ()) if current_truck.get(j) == o) for o in origs] for m in members
        ]
        rows, cols = linear_sum_assignment(gain, maximize=True)
        for r, c in zip(rows, cols):
            label[members[r]] = origs[c]
    new_truck = {j: label[vid] for vid, jobs in jobs_of.items() for j in jobs}
    for vid, stops in rem.fixed.items():
        for s in stops:
            if s.kind is StopKind.JOB:
                new_truck[s.id] = vid
    return count_moves(current_truck, new_truck, down)


def replan(
    problem: RoutingProblem,
    current: RoutingSolution,
    *,
    locks: Locks = Locks(),
    unavailable: Iterable[str] = (),
    urgent: Sequence[Job] = (),
    urgent_locations: Sequence[Location] = (),
    now: float | None = None,
    states: Sequence[VehicleState] = (),
    move_penalty: float = DEFAULT_MOVE_PENALTY,
    time_limit_s: float = 5.0,
    seed: int = 0,
    compare_free: bool = True,
    free_time_limit_s: float | None = None,
) -> ReplanResult:
    """Mend ``current`` (a solution of ``problem``) at ``now`` with few changes; see the module docstring.

    Raises ``ReplanError`` for unknown vehicles or jobs in the request, for a lock on a job of an unavailable truck,
    and when a locked route can no longer be driven from the truck's state.
    """
    if time_limit_s <= 0:
        raise ReplanError(f"replan: time_limit_s = {time_limit_s!r}: must be > 0")
    if not math.isfinite(move_penalty) or move_penalty < 0:
        raise ReplanError(f"replan: move_penalty = {move_penalty!r}: must be a finite number >= 0")
    t0 = clock.now()
    down = frozenset(unavailable)
    known = {vid for vid, _ in problem.vehicle_ids()}
    for vid in sorted(locks.frozen - known):
        raise ReplanError(f"locked vehicle/route {vid!r}: not a vehicle of the problem")
    for vid in sorted(locks.vehicles & down):
        raise ReplanError(f"vehicle {vid!r} is both locked and unavailable: unlock it or keep it in service")
    cur_truck = {s.id: r.vehicle_id for r in current.routes for s in r.stops if s.kind is StopKind.JOB}
    for job in sorted(locks.stops):
        if job not in cur_truck:
            raise ReplanError(f"locked stop {job!r}: not on any route of the current plan")
        if cur_truck[job] in down:
            raise ReplanError(
                f"locked stop {job!r} is on {cur_truck[job]}, which is unavailable: unlock it to move it"
            )
    rem = remaining_problem(
        problem,
        current,
        now=now,
        unavailable=down,
        states=states,
        urgent=urgent,
        urgent_locations=urgent_locations,
    )
    p = rem.problem
    geo = Geometry.of(p)
    from routing.solve import diagnose  # the solver's screening: which trucks could serve each job at all

    diag = diagnose(geo)
    vehicles = p.vehicle_ids()
    index = {vid: v for v, (vid, _) in enumerate(vehicles)}
    by_id = {j.id: j for j in p.jobs}
    stations = {s.id: s for s in p.stations}
    frozen = {index[rem.sub_of[vid]] for vid in locks.frozen if vid not in down}
    allowed = {j: set(t) for j, t in diag.allowed_types.items()}
    pinned: dict[str, int] = {}
    home: dict[str, int] = {}
    routes: list[list[Visit]] = []
    for v, (vid, vt) in enumerate(vehicles):
        seq: list[Visit] = []
        kinds = rem.planned_kinds.get(vid) or (StopKind.JOB,) * len(rem.planned.get(vid, ()))
        for sid, kind in zip(rem.planned.get(vid, ()), kinds):
            if kind is StopKind.RELOAD:  # at the depot, wherever the rest of the day starts
                seq.append(trips.Reload(vt.reload_at))  # type: ignore[arg-type]
            elif sid in by_id and kind is StopKind.JOB:
                seq.append(by_id[sid])
                home[sid] = v
            else:
                seq.append(stations[sid])
        routes.append(seq)
    for job in locks.stops:
        if job in home:
            pinned[job] = home[job]
            if (
                job in allowed
            ):  # the solver's ejection pool (below) may then only re-place it on its own truck
                allowed[job] = {vehicles[home[job]][1].id}
    started = {index[rem.sub_of[vid]] for vid in rem.started}
    search = _Search(
        geo, Builder(geo, allowed), vehicles, routes, frozen, pinned, home, move_penalty, started
    )
    phases: list[str] = []
    # Start: the current plan's rest; a route the new state makes infeasible sheds unlocked jobs until it fits.
    handed = _hand_over_locked_routes(search, rem, current, locks, frozen)
    if handed:
        phases.append("locked route(s) handed over whole to a spare truck: " + ", ".join(handed))
    placed_now = {j.id for seq in search.routes for j in _jobs(seq)}
    orphans = [by_id[j] for j in rem.orphans if j in by_id and j not in placed_now] + list(urgent)
    shed: list[Job] = []
    for v, (vid, vt) in enumerate(vehicles):
        if search.cost(v, search.routes[v]) is not None:
            continue
        if v in frozen:
            raise ReplanError(
                f"locked route of {rem.orig_of[vid]} cannot be driven from the truck's current state "
                "(time, charge or position): unlock it"
            )
        if search.tr is not None:
            fixed = search.tr.mended(v, search.routes[v])  # type: ignore[arg-type]
            mended = None if fixed is None else fixed[0]
        else:
            mended = search.b.repaired(vt, _jobs(search.routes[v]))
        if mended is not None and search.cost(v, mended) is not None:
            search.routes[v] = mended
            continue
        while search.cost(v, search.routes[v]) is None:
            free_jobs = [j for j in _jobs(search.routes[v]) if j.id not in pinned]
            if not free_jobs:
                raise ReplanError(
                    f"the locked stops of {rem.orig_of[vid]} cannot all be served from the truck's current state: "
                    "unlock some of them"
                )
            drop = free_jobs[-1]
            rest = search.without(v, {drop.id})
            search.routes[v] = rest if rest is not None else [x for x in search.routes[v] if x is not drop]
            shed.append(drop)
    if shed:
        phases.append(f"{len(shed)} job(s) shed from routes the new state makes infeasible")
    placed_ids = {j.id for seq in search.routes for j in _jobs(seq)}
    todo = [j for j in orphans + shed if j.id in allowed and j.id not in placed_ids]
    # Jobs of the problem on no route yet (unserved in the current plan) are tried too.
    todo += [j for j in p.jobs if j.id in allowed and j.id not in placed_ids and j not in todo]
    todo.sort(key=lambda j: (-j.priority, min((w.end for w in j.time_windows), default=math.inf)))
    rng = random.Random(seed)
    deadline = t0 + time_limit_s
    missing = [j for j in todo if not search.insert(j)]
    if missing:
        missing = [j for j in missing if not search.eject_insert(j, t0 + 0.4 * time_limit_s, rng)]
    # The solver's ejection pool and the forced insertion work on single-trip routes (routing.construct.Builder);
    # reload/break problems, whose routes only the search's own moves (with routing.lns_trips) keep valid, get
    # the same pool on those routes (``_Search.chain_insert``).
    if missing and search.tr is None:
        missing = search.pool_insert(missing, t0 + 0.5 * time_limit_s, seed)
    elif missing:
        missing = [j for j in missing if not search.chain_insert(j, t0 + 0.5 * time_limit_s)]
    if missing and search.tr is None:
        missing = [j for j in missing if not search.force_insert(j, t0 + 0.7 * time_limit_s)]
    phases.append(f"inserted {len(todo) - len(missing)} of {len(todo)} job(s) to place")
    its, imp = search.improve(deadline, rng)
    phases.append(f"ruin-recreate: {its} iterations, {imp} improvements")
    solution = _solution(rem, geo, search, diag.unserved, seed, time_limit_s, t0, phases)
    check = check_solution(p, solution)
    job_ids = {j.id for j in problem.jobs} | {j.id for j in urgent}
    lock_report = check_locks(
        current, _day_sequences(rem, solution), locks, job_ids=job_ids, now=now, unavailable=down
    )
    started_ids = {rem.sub_of[v] for v in rem.started}
    result = ReplanResult(
        remainder=rem,
        solution=solution,
        check=check,
        locks=lock_report,
        objective=_objective(p, solution, started_ids),
        move_penalty=move_penalty,
        phases=tuple(phases),
        seconds=round(clock.now() - t0, 3),
    )
    if not compare_free:
        return result
    from routing.solve import solve

    free = solve(p, time_limit_s=free_time_limit_s or time_limit_s, seed=seed)
    free_locks = check_locks(
        current, _day_sequences(rem, free), locks, job_ids=job_ids, now=now, unavailable=down
    )
    return dataclasses.replace(
        result,
        free=free,
        free_check=check_solution(p, free),
        free_locks=free_locks,
        free_objective=_objective(p, free, started_ids),
        free_moves_relabelled=relabelled_moves(rem, cur_truck, free, down),
    )


def _hand_over_locked_routes(
    search: _Search, rem: Remainder, current: RoutingSolution, locks: Locks, frozen: set[int]
) -> list[str]:
    """A locked route whose truck is unavailable goes whole, in its order, to the cheapest spare truck (one not yet
    out, with nothing planned) that can drive it; that truck is then locked too. Returns 'old -> new' notes."""
    notes: list[str] = []
    routes = {r.vehicle_id: r for r in current.routes if r.stops}
    by_id = {j.id: j for j in rem.problem.jobs}
    for vid in sorted(locks.routes & rem.unavailable):
        route = routes.get(vid)
        k = len(rem.fixed.get(vid, ()))
        jobs = [
            by_id[s.id]
            for s in (route.stops[k:] if route else ())
            if s.kind is StopKind.JOB and s.id in by_id
        ]
        if not jobs:
            continue
        best: tuple[float, int, list[Visit]] | None = None
        for v, (_, vt) in enumerate(search.vehicles):
            if v in frozen or v in search.started or _jobs(search.routes[v]):
                continue
            if any(vt.id not in search.b.allowed.get(j.id, ()) for j in jobs):
                continue
            if search.tr is not None:  # with the route's reloads, at the spare's depot (routing.lns_trips)
                rest = [
                    trips.Reload(vt.reload_at) if s.kind is StopKind.RELOAD else by_id[s.id]
                    for s in (route.stops[k:] if route else ())
                    if s.kind is StopKind.RELOAD or (s.kind is StopKind.JOB and s.id in by_id)
                ]
                mended = search.tr.mended(v, rest)  # type: ignore[arg-type]
                seq = None if mended is None else mended[0]
            else:
                seq = search.b.repaired(vt, list(jobs))
            c = None if seq is None else search.cost(v, seq)  # type: ignore[arg-type]
            if c is not None and (best is None or c < best[0]):
                best = (c, v, seq)  # type: ignore[assignment]
        if best is None:
            raise ReplanError(
                f"locked route of {vid}: the truck is unavailable and no spare truck can drive its "
                f"{len(jobs)} remaining order(s) as they are: unlock the route"
            )
        search.routes[best[1]] = best[2]
        frozen.add(best[1])
        notes.append(f"{vid} -> {rem.orig_of[search.vehicles[best[1]][0]]}")
    return notes


def _solution(
    rem: Remainder,
    geo: Geometry,
    search: _Search,
    screened: list[UnservedJob],
    seed: int,
    time_limit_s: float,
    t0: float,
    phases: list[str],
) -> RoutingSolution:
    p = rem.problem
    routes: list[Route] = []
    violations: list[str] = []
    for v in range(len(search.vehicles)):
        seq = search.routes[v]
        if not _jobs(seq):
            continue
        ev = search.evaluate(v, seq)
        violations += ev.violations
        routes.append(ev.route)
    served = {j for r in routes for j in r.job_ids}
    # The screening judges a job alone from each truck's start; a job still on its planned route stays served.
    unserved = [u for u in screened if u.job_id not in served]
    listed = {u.job_id for u in unserved}
    for j in p.jobs:
        if j.id not in served and j.id not in listed:
            unserved.append(
                UnservedJob(j.id, UnservedReason.DROPPED, "the re-plan found no room for it (fleet or time)")
            )
    mandatory_missing = any(p.job(u.job_id).drop_penalty is None for u in unserved)
    stats = SolverStats(
        "partial" if mandatory_missing else "feasible",
        round(clock.now() - t0, 3),
        seed,
        time_limit_s,
        1,
        None,
        tuple(phases),
    )
    return RoutingSolution(
        p.name, tuple(routes), tuple(unserved), stats, {"violations": violations} if violations else {}
    )


__all__ = [
    "DEFAULT_MOVE_PENALTY",
    "Locks",
    "Remainder",
    "ReplanError",
    "ReplanResult",
    "VehicleState",
    "relabelled_moves",
    "remaining_problem",
    "replan",
]
