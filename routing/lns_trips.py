"""Ruin and recreate for multi-trip and driver-break problems (``routing.trips``), on exact float routes.

Why: the ruin-and-recreate of ``routing.lns`` and the construction behind it (``routing.construct.Builder``, the
compiled filters of ``routing.kernels``) build single-trip routes without BREAK stops, on travel times inflated
to reserve the rests (``trips.construction_geometry``): they cannot add a reload, and for breaks they leave the
room the reserve took unused. Here a route is a list of jobs, stations and ``trips.Reload`` visits, and every
candidate is judged by ``trips.evaluate`` (the solver's float evaluation, which places the BREAK stops and
charges at stations and reloads; the checker re-implements its rules), so what this search returns is what
``routing.solve`` reports. The price is speed: a Python evaluation per candidate instead of the O(1) filters,
which is why only the ``CANDIDATES`` cheapest places per job (by detour) are evaluated.

Moves (after SISR, Christiaens & Vanden Berghe 2020, as ``routing.lns``): remove strings of consecutive jobs
around a random seed job from a few routes; re-insert them, and the jobs no route serves yet, each at its
cheapest feasible place: between two visits, or as a new trip of its own (a reload before or after it) while the
vehicle has trips to spare; a battery failure is mended by inserting stations before it (``_restation``). Accept
by simulated annealing on the objective (km, or route cost for ``Objective.COST``) with fewer unserved mandatory
jobs first. Fixed fleet: a vehicle without a route is never opened. Deterministic for a seed, apart from where the
deadline cuts it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from routing import clock, trips
from routing.evaluate import EPS, Geometry, RouteEval, _pick_window
from routing.problem import ChargingStation, Job, Objective, VehicleType
from routing.solution import Route, StopKind
from routing.trips import ExtVisit, Reload

CANDIDATES = 12
"""Insertion places evaluated exactly per job and route set (the cheapest by detour)."""
MAX_STRING = 6
"""Longest string of jobs removed from one route."""
MAX_ROUTES = 3
"""Most routes ruined in one iteration."""
MAX_REPAIRS = 3
"""Stations inserted, one after the other, to mend one candidate's battery failure."""
MAX_RESTATIONS = 3
"""Failed candidates per job insertion whose battery failure is mended with stations (the cheapest first)."""
STATION_OPTIONS = 6
"""(arc, station) pairs evaluated per station insertion, cheapest detour first."""
NEIGHBOURS = 30
"""Nearest jobs walked from a ruin's seed."""
T_START, T_END = 0.03, 0.001
"""Annealing temperatures as shares of the starting objective (those of ``routing.lns``)."""
MEMO_LIMIT = 20_000
"""Evaluations kept in memory before the memo is cleared (a few kB each: a route with its stops)."""


def _vkey(x: ExtVisit) -> str:
    if isinstance(x, Job):
        return "j:" + x.id
    if isinstance(x, ChargingStation):
        return "s:" + x.id
    return "r:"


def jobs_of(seq: list[ExtVisit]) -> list[Job]:
    return [x for x in seq if isinstance(x, Job)]


def n_trips(seq: list[ExtVisit]) -> int:
    return 1 + sum(1 for x in seq if isinstance(x, Reload))


def normalized(seq: list[ExtVisit]) -> list[ExtVisit]:
    """``seq`` without reloads that start or end a trip with no job (a reload first or last, two in a row, or
    around a trip of stations only): the stations of such a trip stay with the trip before it."""
    out: list[ExtVisit] = []
    has_job = False
    for x in seq:
        if isinstance(x, Reload):
            if has_job:
                out.append(x)
                has_job = False
            continue
        out.append(x)
        has_job = has_job or isinstance(x, Job)
    if not has_job:  # the last trip holds no job: its reload goes (its stations stay)
        for k in range(len(out) - 1, -1, -1):
            if isinstance(out[k], Reload):
                del out[k]
                break
    return out


def battery_failure(route: Route, reserve_kwh: float) -> int | None:
    """Index of the first arc (the visit it leads to; ``len(visits)`` for the end depot) on whose arrival the
    charge is below the reserve, or None."""
    k = 0
    for st in route.stops:
        if st.kind is StopKind.BREAK:
            continue
        if st.soc_arrival_kwh is not None and st.soc_arrival_kwh < reserve_kwh - EPS:
            return k
        k += 1
    if route.soc_arrival_kwh is not None and route.soc_arrival_kwh < reserve_kwh - EPS:
        return k
    return None


class TripRoutes:
    """``trips.evaluate`` of the vehicles' routes, memoised, with the candidate places of a job and the station
    repair. ``starts``/``charges``: the departure [min] and model charges [kWh] each vehicle's ``initial`` route
    was planned with (it is evaluated with them when it fails from the shift start); any other route leaves at
    its shift start with the evaluation's own charging plan."""

    def __init__(
        self,
        geo: Geometry,
        vehicles: list[tuple[str, VehicleType]],
        initial: list[list[ExtVisit]] | None = None,
        starts: list[float] | None = None,
        charges: list[list[float]] | None = None,
    ):
        self.geo = geo
        self.p = geo.problem
        self.vehicles = vehicles
        self.dist = geo.dist.tolist()
        self.loc = {j.id: geo.loc(j.location) for j in self.p.jobs}
        self.sloc = {s.id: geo.loc(s.location) for s in self.p.stations}
        self.by_cost = self.p.objective is Objective.COST
        # Optimistic travel times for the O(1) filter of ``places`` (under a speed profile: free flow at the
        # day's fastest factor, as ``routing.construct.Builder``): the real times, breaks, charging and access
        # zones only make arrivals later.
        times = geo.time_by_type
        if geo.freeflow_by_type is not None and self.p.speed_profile is not None:
            fast = max(f for _, f in self.p.speed_profile.periods)
            times = {k: v / fast for k, v in geo.freeflow_by_type.items()}
        self.fast_times = {k: v.tolist() for k, v in times.items()}
        self._memo: dict[tuple, tuple[RouteEval, float, list[float] | None]] = {}
        self._initial = {
            v: (
                tuple(map(_vkey, r)),
                starts[v] if starts else vt.shift_start,
                charges[v] if charges else None,
            )
            for v, ((_, vt), r) in enumerate(zip(vehicles, initial or [[] for _ in vehicles]))
        }

    def lid(self, v: int, x: ExtVisit) -> int:
        if isinstance(x, Job):
            return self.loc[x.id]
        if isinstance(x, ChargingStation):
            return self.sloc[x.id]
        return self.geo.loc(self.vehicles[v][1].reload_at)

    def evaluate(self, v: int, seq: list[ExtVisit]) -> tuple[RouteEval, float, list[float] | None]:
        """(evaluation, departure, model charges) of vehicle ``v`` driving ``seq``."""
        ids = tuple(map(_vkey, seq))
        key = (v, ids)
        got = self._memo.get(key)
        if got is not None:
            return got
        vid, vt = self.vehicles[v]
        ev = trips.evaluate(self.geo, vid, vt, list(seq), vt.shift_start)
        out: tuple[RouteEval, float, list[float] | None] = (ev, vt.shift_start, None)
        init = self._initial.get(v)
        if not ev.feasible and init is not None and init[0] == ids:
            ev2 = trips.evaluate(self.geo, vid, vt, list(seq), init[1], init[2])
            if ev2.feasible:
                out = (ev2, init[1], init[2])
        if len(self._memo) > MEMO_LIMIT:
            self._memo.clear()
        self._memo[key] = out
        return out

    def score(self, ev: RouteEval) -> float:
        """The route's part of the objective: its cost [currency] for ``Objective.COST``, else its km."""
        if not ev.route.stops:
            return 0.0
        return ev.route.cost if self.by_cost else ev.route.distance_km

    def unit(self, vt: VehicleType) -> float:
        """Rough objective of one km of detour, to rank places before the exact evaluation."""
        return vt.cost_per_km + vt.cost_per_hour / vt.speed_kmh if self.by_cost else 1.0

    def slack(self, v: int, seq: list[ExtVisit]) -> tuple[list[float], list[float], list[float]]:
        """Per insertion position ``p`` of route ``v``: the earliest departure from the visit before it, the
        latest arrival at the visit after it (both with no charging time and no breaks, at the optimistic
        times) and the load of the trip it is in [kg]: the O(1) filter of ``places``."""
        vt = self.vehicles[v][1]
        tt = self.fast_times[vt.id]
        path = [self.geo.loc(vt.start_depot)] + [self.lid(v, x) for x in seq] + [self.geo.loc(vt.end)]
        dep = [vt.shift_start]
        t = vt.shift_start
        for k, x in enumerate(seq):
            arrival = t + tt[path[k]][path[k + 1]]
            if isinstance(x, Job):
                s = _pick_window(x, arrival)
                t = (arrival if s is None else s) + x.service_minutes
            elif isinstance(x, Reload):
                t = arrival + vt.reload_minutes
            else:
                t = arrival
            dep.append(t)
        latest = [math.inf if vt.shift_end is None else vt.shift_end] * (len(seq) + 1)
        for k in range(len(seq) - 1, -1, -1):
            x = seq[k]
            late = latest[k + 1] - tt[path[k + 1]][path[k + 2]]
            if isinstance(x, Job):
                late -= x.service_minutes
                if x.time_windows:
                    late = min(late, x.windows_sorted[-1].end)
            elif isinstance(x, Reload):
                late -= vt.reload_minutes
            latest[k] = late
        loads = []
        trip_load = [0.0]
        for x in seq:
            if isinstance(x, Reload):
                trip_load.append(0.0)
            elif isinstance(x, Job):
                trip_load[-1] += x.demand_kg
        t_idx = 0
        for p in range(len(seq) + 1):
            loads.append(trip_load[t_idx])
            if p < len(seq) and isinstance(seq[p], Reload):
                t_idx += 1
        return dep, latest, loads

    def places(self, v: int, seq: list[ExtVisit], job: Job) -> list[tuple[float, list[ExtVisit]]]:
        """(detour [km], candidate) of every place for ``job`` in route ``v`` that passes the O(1) payload and
        time filter (``slack``): between two visits, and, while the vehicle has trips to spare, as a trip of
        its own (a reload before or after it)."""
        vt = self.vehicles[v][1]
        d, tt = self.dist, self.fast_times[vt.id]
        jl = self.loc[job.id]
        depot = self.geo.loc(vt.reload_at)
        path = [self.geo.loc(vt.start_depot)] + [self.lid(v, x) for x in seq] + [self.geo.loc(vt.end)]
        spare = n_trips(seq) < vt.max_trips and bool(jobs_of(seq))
        dep, latest, loads = self.slack(v, seq)
        fits = job.demand_kg <= vt.payload_kg + EPS
        reload = Reload(vt.reload_at)

        def on_time(t: float, nxt: int, after: list[int]) -> bool:
            """Leaving location ``path[p]`` at ``t``: ``job`` (and a reload when ``after`` is not empty) in time
            for the next visit at ``nxt``."""
            s = _pick_window(job, t)
            if s is None:
                return False
            t = s + job.service_minutes
            here = jl
            for loc_ in after:
                t += tt[here][loc_] + vt.reload_minutes
                here = loc_
            return t + tt[here][nxt] <= latest_p + EPS

        out: list[tuple[float, list[ExtVisit]]] = []
        for p in range(len(seq) + 1):
            a, c = path[p], path[p + 1]
            base = d[a][c]
            latest_p = latest[p]
            if loads[p] + job.demand_kg <= vt.payload_kg + EPS and on_time(dep[p] + tt[a][jl], c, []):
                out.append((d[a][jl] + d[jl][c] - base, seq[:p] + [job] + seq[p:]))
            if not spare or not fits:
                continue
            if (
                p > 0
                and not isinstance(seq[p - 1], Reload)
                and on_time(dep[p] + tt[a][depot] + vt.reload_minutes + tt[depot][jl], c, [])
            ):
                out.append((d[a][depot] + d[depot][jl] + d[jl][c] - base, seq[:p] + [reload, job] + seq[p:]))
            if p < len(seq) and not isinstance(seq[p], Reload) and on_time(dep[p] + tt[a][jl], c, [depot]):
                out.append((d[a][jl] + d[jl][depot] + d[depot][c] - base, seq[:p] + [job, reload] + seq[p:]))
        return out

    def restation(
        self, v: int, seq: list[ExtVisit], ev: RouteEval
    ) -> tuple[list[ExtVisit], tuple[RouteEval, float, list[float] | None]] | None:
        """``seq`` made feasible by inserting up to ``MAX_REPAIRS`` stations before its battery failures (the
        cheapest detours first; one that moves the failure later is kept), or None."""
        vt = self.vehicles[v][1]
        bat = vt.battery
        if bat is None or not self.p.stations:
            return None
        d = self.dist
        for _ in range(MAX_REPAIRS):
            at = battery_failure(ev.route, bat.reserve_kwh)
            if at is None:
                return None  # not a battery failure: no station mends it
            path = [self.geo.loc(vt.start_depot)] + [self.lid(v, x) for x in seq] + [self.geo.loc(vt.end)]
            options: list[tuple[float, int, ChargingStation]] = []
            for k in range(at, max(-1, at - 4), -1):
                if 0 < k < len(seq) and not isinstance(seq[k - 1], Job) and not isinstance(seq[k], Job):
                    continue
                a, c = path[k], path[k + 1]
                for st in self.p.stations:
                    sl = self.sloc[st.id]
                    if sl in (a, c):
                        continue
                    options.append((d[a][sl] + d[sl][c] - d[a][c], k, st))
            options.sort(key=lambda o: (o[0], o[1], o[2].id))
            moved = None
            for _, k, st in options[:STATION_OPTIONS]:
                cand = seq[:k] + [st] + seq[k:]
                got = self.evaluate(v, cand)
                if got[0].feasible:
                    return cand, got
                later = battery_failure(got[0].route, bat.reserve_kwh)
                if moved is None and later is not None and later > k:
                    moved = (cand, got)
            if moved is None:
                return None
            seq, ev = moved[0], moved[1][0]
        return None

    def mended(
        self, v: int, seq: list[ExtVisit]
    ) -> tuple[list[ExtVisit], tuple[RouteEval, float, list[float] | None]] | None:
        """``seq`` (normalised) if feasible, else without the stations it no longer needs or with stations
        placed afresh; None when none of these is feasible."""
        seq = normalized(seq)
        got = self.evaluate(v, seq)
        if got[0].feasible:
            return self.trimmed(v, seq, got)
        bare = [x for x in seq if not isinstance(x, ChargingStation)]
        if len(bare) < len(seq):
            got2 = self.evaluate(v, bare)
            if got2[0].feasible:
                return bare, got2
            fixed = self.restation(v, bare, got2[0])
            if fixed is not None:
                return fixed
        return self.restation(v, seq, got[0])

    def trimmed(
        self, v: int, seq: list[ExtVisit], got: tuple[RouteEval, float, list[float] | None]
    ) -> tuple[list[ExtVisit], tuple[RouteEval, float, list[float] | None]]:
        """Drop stations, last first, while the route stays feasible and no worse."""
        k = len(seq) - 1
        while k >= 0:
            if isinstance(seq[k], ChargingStation):
                cand = seq[:k] + seq[k + 1 :]
                other = self.evaluate(v, cand)
                if other[0].feasible and self.score(other[0]) <= self.score(got[0]) + 1e-9:
                    seq, got = cand, other
            k -= 1
        return seq, got


@dataclass
class TripLnsLog:
    iterations: int = 0
    accepted: int = 0
    improved: int = 0
    start: float = 0.0
    best: float = 0.0
    start_absent: int = 0
    absent: int = 0
    notes: list[str] = field(default_factory=list)

    def note(self) -> str:
        return (
            f"trip ruin-recreate: {self.iterations} iterations, {self.improved} improvements, "
            f"{self.start:.1f} -> {self.best:.1f}, unserved {self.start_absent} -> {self.absent}"
        )


@dataclass
class TripPlan:
    """Routes aligned with the vehicles, the departure [min] and model charges each was evaluated with, and the
    jobs no route serves."""

    routes: list[list[ExtVisit]]
    starts: list[float]
    charges: list[list[float] | None]
    absent: list[Job]
    scores: list[float] = field(default_factory=list)

    def copy(self) -> TripPlan:
        return TripPlan(
            [list(r) for r in self.routes],
            list(self.starts),
            list(self.charges),
            list(self.absent),
            list(self.scores),
        )

    def key(self) -> tuple[int, float]:
        """(unserved mandatory jobs, objective with the unserved optional jobs' penalties)."""
        missing = sum(1 for j in self.absent if j.drop_penalty is None)
        return missing, sum(self.scores) + sum(j.drop_penalty or 0.0 for j in self.absent)


class _Search:
    def __init__(self, tr: TripRoutes, allowed: dict[str, set[str]], frozen: set[int], rng: random.Random):
        self.tr, self.allowed, self.frozen, self.rng = tr, allowed, frozen, rng

    def set(self, plan: TripPlan, v: int, seq: list[ExtVisit], got) -> None:
        plan.routes[v] = seq
        plan.starts[v], plan.charges[v] = got[1], got[2]
        plan.scores[v] = self.tr.score(got[0]) if jobs_of(seq) else 0.0

    def insert(self, plan: TripPlan, job: Job) -> bool:
        """Cheapest feasible place for ``job`` in a used, unfrozen route (in place)."""
        tr = self.tr
        ok = self.allowed.get(job.id, set())
        cands: list[tuple[float, int, int, list[ExtVisit]]] = []
        n = 0
        for v, (_, vt) in enumerate(tr.vehicles):
            seq = plan.routes[v]
            if v in self.frozen or not jobs_of(seq) or vt.id not in ok:
                continue
            unit = tr.unit(vt)
            for detour, cand in tr.places(v, seq, job):
                cands.append((unit * detour, n, v, cand))
                n += 1
        cands.sort(key=lambda c: (c[0], c[1]))
        best = None
        tried = repairs = 0
        for est, _, v, cand in cands:
            if tried >= CANDIDATES or (best is not None and not tr.by_cost and est >= best[0] - 1e-9):
                break
            tried += 1
            got = tr.evaluate(v, cand)
            if not got[0].feasible:
                repairs += 1
                fixed = tr.restation(v, cand, got[0]) if repairs <= MAX_RESTATIONS else None
                if fixed is None:
                    continue
                cand, got = fixed
            delta = tr.score(got[0]) - plan.scores[v]
            if best is None or delta < best[0]:
                best = (delta, v, cand, got)
        if best is None:
            return False
        self.set(plan, best[1], best[2], best[3])
        return True

    def ruin(self, plan: TripPlan, neighbours: dict[str, list[Job]]) -> list[Job] | None:
        """Remove strings of jobs around a random seed job; None when a ruined route cannot be mended."""
        rng = self.rng
        where = {
            x.id: v
            for v, r in enumerate(plan.routes)
            if v not in self.frozen
            for x in r
            if isinstance(x, Job)
        }
        if not where:
            return None
        used = sum(1 for v, r in enumerate(plan.routes) if v not in self.frozen and jobs_of(r))
        l_max = max(1, min(MAX_STRING, round(len(where) / max(1, used))))
        k_routes = rng.randint(1, min(MAX_ROUTES, used))
        seed_id = rng.choice(sorted(where))
        seed = next(x for x in plan.routes[where[seed_id]] if isinstance(x, Job) and x.id == seed_id)
        removed: list[Job] = []
        ruined: set[int] = set()
        for c in [seed] + neighbours.get(seed_id, []):
            if len(ruined) >= k_routes:
                break
            v = where.get(c.id)
            if v is None or v in ruined:
                continue
            ruined.add(v)
            route_jobs = jobs_of(plan.routes[v])
            length = rng.randint(1, min(l_max, len(route_jobs)))
            pos = next(i for i, j in enumerate(route_jobs) if j.id == c.id)
            first = max(0, min(pos - rng.randint(0, length - 1), len(route_jobs) - length))
            out = {j.id for j in route_jobs[first : first + length]}
            rest = [x for x in plan.routes[v] if not (isinstance(x, Job) and x.id in out)]
            if jobs_of(rest):
                mended = self.tr.mended(v, rest)
                if mended is None:
                    return None
                self.set(plan, v, mended[0], mended[1])
            else:
                plan.routes[v], plan.scores[v] = [], 0.0
            removed += [j for j in route_jobs if j.id in out]
        return removed

    def order(self, jobs: list[Job]) -> list[Job]:
        """SISR's insertion orders: random, largest demand, farthest from or closest to the depot."""
        rng = self.rng
        how = rng.random()
        if how < 0.4:
            rng.shuffle(jobs)
            return jobs
        if how < 0.8:
            return sorted(jobs, key=lambda j: -j.demand_kg)
        tr = self.tr
        depot = tr.geo.loc(tr.vehicles[0][1].start_depot)
        sign = -1.0 if how < 0.9 else 1.0
        return sorted(jobs, key=lambda j: sign * tr.dist[depot][tr.loc[j.id]])

    def recreate(self, plan: TripPlan, jobs: list[Job]) -> None:
        plan.absent = [j for j in self.order(jobs) if not self.insert(plan, j)]


def _neighbours(tr: TripRoutes, jobs: list[Job]) -> dict[str, list[Job]]:
    d = tr.dist
    return {
        j.id: sorted((k for k in jobs if k.id != j.id), key=lambda k: (d[tr.loc[j.id]][tr.loc[k.id]], k.id))[
            :NEIGHBOURS
        ]
        for j in jobs
    }


def improve(
    geo: Geometry,
    allowed: dict[str, set[str]],
    vehicles: list[tuple[str, VehicleType]],
    routes: list[list[ExtVisit]],
    deadline: float,
    *,
    seed: int = 0,
    absent: list[Job] | None = None,
    starts: list[float] | None = None,
    charges: list[list[float]] | None = None,
    max_iterations: int | None = None,
) -> tuple[TripPlan, TripLnsLog]:
    """Fewer unserved mandatory jobs, then a smaller objective, on the same (or fewer) vehicles by ``deadline``
    (``clock.now()``) or after ``max_iterations``; returns the best plan found and what was done.

    ``routes`` (visits aligned with ``vehicles``) must each be feasible for ``trips.evaluate`` from the shift
    start or from ``starts[v]`` with ``charges[v]`` (how the caller planned them); a route that is not is kept
    as it is and left alone. ``absent``: jobs to serve if they find room. ``allowed``: job id -> vehicle type
    ids that may serve it (``routing.solve.diagnose``).
    """
    rng = random.Random(seed)
    tr = TripRoutes(geo, vehicles, routes, starts, charges)
    search = _Search(tr, allowed, set(), rng)
    n = len(vehicles)
    cur = TripPlan(
        [list(r) for r in routes],
        [vt.shift_start for _, vt in vehicles],
        [None] * n,
        list(absent or []),
        [0.0] * n,
    )
    for v, seq in enumerate(routes):
        if not jobs_of(seq):
            cur.routes[v] = []
            continue
        got = tr.evaluate(v, list(seq))
        search.set(cur, v, list(seq), got)
        if not got[0].feasible:
            search.frozen.add(v)
    log = TripLnsLog()
    key0 = cur.key()
    log.start, log.start_absent = key0[1], len(cur.absent)
    if cur.absent:  # the jobs no route serves yet, first
        trial = cur.copy()
        search.recreate(trial, trial.absent)
        if trial.key() <= cur.key():
            cur = trial
    best = cur.copy()
    placed = [x for r in cur.routes for x in r if isinstance(x, Job)] + cur.absent
    neighbours = _neighbours(tr, placed)
    t0 = clock.now()
    span = max(1e-6, deadline - t0)
    t_start, t_end = T_START * key0[1], T_END * key0[1]
    while True:
        now = clock.now()
        if now >= deadline or (max_iterations is not None and log.iterations >= max_iterations):
            break
        # Cooling by time, or by iterations when they are bounded (then a run is the same on any machine).
        done = log.iterations / max_iterations if max_iterations else (now - t0) / span
        log.iterations += 1
        temp = t_start * (t_end / t_start) ** min(1.0, done) if t_start > 0 else 0.0
        trial = cur.copy()
        removed = search.ruin(trial, neighbours)
        if removed is None:
            continue
        search.recreate(trial, removed + trial.absent)
        (m_new, s_new), (m_cur, s_cur) = trial.key(), cur.key()
        if m_new < m_cur or (m_new == m_cur and s_new < s_cur - temp * math.log(max(1e-12, rng.random()))):
            cur = trial
            log.accepted += 1
            if cur.key() < best.key():
                best = cur.copy()
                log.improved += 1
    log.best, log.absent = best.key()[1], len(best.absent)
    return best, log
