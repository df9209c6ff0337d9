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
jobs first. Fixed fleet: a vehicle without a route is never opened, except, when asked, once at the start for a
mandatory job that no route can take (OR-Tools' first solutions cannot build a route whose first job needs a reload
before it).
Deterministic for a seed, apart from where the deadline cuts it.
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
SLACK_MEMO_LIMIT = 20_000
"""Slack tables (``TripRoutes.slack``) kept before that memo is cleared (a few hundred bytes each)."""


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


def normalized(seq: list[ExtVisit], keep_first: bool = False) -> list[ExtVisit]:
    """``seq`` without reloads that start or end a trip with no job (a reload first or last, two in a row, or
    around a trip of stations only): the stations of such a trip stay with the trip before it. ``keep_first``
    keeps a reload that comes first (a route that starts away from its reload depot, ``VehicleType.
    reload_depot``: going back first may be the plan, to reload or to charge at the depot)."""
    out: list[ExtVisit] = []
    has_job = False
    for x in seq:
        if isinstance(x, Reload):
            if has_job or (keep_first and not out):
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


@dataclass(slots=True)
class _Table:
    """Per insertion position ``p`` of a route (``TripRoutes.slack``): the latest arrival at the visit after it
    plus EPS and the earliest departure from the visit before it (both with no charging time and no breaks, at
    the optimistic times) [min], the load of the trip it is in [kg], the arc's km; the route's locations with
    the depots. With a trip to spare, what a trip of its own needs, none of it depending on the job: where a
    reload may go before or after the job, the departure from a reload on the way [min], the time and km of
    the reload and the way back, the km to the depot."""

    latest: list[float]
    loads: list[float]
    path: list[int]
    base: list[float]
    spare: bool
    dep: list[float] = field(default_factory=list)
    before: list[bool] = field(default_factory=list)
    after: list[bool] = field(default_factory=list)
    via_depot: list[float] = field(default_factory=list)
    depot_back: list[float] = field(default_factory=list)
    km_via_depot: list[float] = field(default_factory=list)
    km_depot_back: list[float] = field(default_factory=list)


def _merged(
    out: list[tuple[float, int, int]], extra: list[tuple[float, int, int]]
) -> list[tuple[float, int, int]]:
    """The spots of both lists in ``places``' order: by position, a job alone before a reload before it before a
    reload after it."""
    if not extra:
        return out
    return sorted(out + extra, key=lambda o: (o[1], o[2]))


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
        self._away = [
            vt.max_trips > 1 and geo.loc(vt.reload_at) != geo.loc(vt.start_depot) for _, vt in vehicles
        ]
        self._memo: dict[tuple, tuple[RouteEval, float, list[float] | None]] = {}
        self._slack_memo: dict[tuple, _Table] = {}
        # (earliest start, latest start + EPS) of every job with at most one window (``_pick_window`` inlined in
        # ``slack`` and ``spots``, as ``routing.construct.Builder`` does).
        self._window = {
            j.id: (ws[0].start, ws[0].end + EPS) if (ws := j.windows_sorted) else (-math.inf, math.inf)
            for j in self.p.jobs
            if len(j.time_windows) <= 1
        }
        self._initial = {
            v: (
                tuple(map(_vkey, r)),
                starts[v] if starts else vt.shift_start,
                charges[v] if charges else None,
            )
            for v, ((_, vt), r) in enumerate(zip(vehicles, initial or [[] for _ in vehicles]))
        }

    def away(self, v: int) -> bool:
        """Vehicle ``v`` starts away from its reload depot (a route that continues a day, routing.replan) and
        has a reload to spare: a reload may then come first."""
        return self._away[v]

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

    def slack(self, v: int, seq: list[ExtVisit]) -> _Table:
        """The O(1) filter's table of route ``v`` driving ``seq`` (``_Table``). Memoised by the visits'
        identities: a recreate asks for every route once per job it inserts, and most routes have not changed in
        between (``places`` and this took 85 % of the search's time on a 300-order day, docs/realism.md
        '2026-12-06 remainders')."""
        key = (v, tuple(map(id, seq)))
        got = self._slack_memo.get(key)
        if got is not None:
            return got
        vt = self.vehicles[v][1]
        tt, d = self.fast_times[vt.id], self.dist
        path = [self.geo.loc(vt.start_depot)] + [self.lid(v, x) for x in seq] + [self.geo.loc(vt.end)]
        dep = [vt.shift_start]
        t = vt.shift_start
        window = self._window
        for k, x in enumerate(seq):
            arrival = t + tt[path[k]][path[k + 1]]
            if isinstance(x, Job):
                w = window.get(x.id)
                if w is None:
                    s = _pick_window(x, arrival)
                    t = (arrival if s is None else s) + x.service_minutes
                else:
                    t = (arrival if arrival > w[0] else w[0]) + x.service_minutes  # noqa: FURB136
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
        n = len(seq)
        depot = self.geo.loc(vt.reload_at)
        spare = vt.max_trips > 1 and len(trip_load) < vt.max_trips and any(isinstance(x, Job) for x in seq)
        table = _Table(
            [x + EPS for x in latest],
            loads,
            path,
            [d[path[p]][path[p + 1]] for p in range(n + 1)],
            spare,
        )
        if spare:
            away = self._away[v]
            rm = vt.reload_minutes
            table.before = [
                (p > 0 or away) and (p == 0 or not isinstance(seq[p - 1], Reload)) for p in range(n + 1)
            ]
            table.after = [p < n and not isinstance(seq[p], Reload) for p in range(n + 1)]
            table.via_depot = [dep[p] + tt[path[p]][depot] + rm for p in range(n + 1)]
            table.depot_back = [rm + tt[depot][path[p + 1]] for p in range(n + 1)]
            table.km_via_depot = [d[path[p]][depot] for p in range(n + 1)]
            table.km_depot_back = [d[depot][path[p + 1]] for p in range(n + 1)]
        table.dep = dep
        if len(self._slack_memo) > SLACK_MEMO_LIMIT:
            self._slack_memo.clear()
        self._slack_memo[key] = table
        return table

    def places(self, v: int, seq: list[ExtVisit], job: Job) -> list[tuple[float, list[ExtVisit]]]:
        """(detour [km], candidate) of every place for ``job`` in route ``v`` that passes the O(1) payload and
        time filter (``slack``): between two visits, and, while the vehicle has trips to spare, as a trip of
        its own (a reload before or after it; before the first visit only where the vehicle starts ``away``)."""
        return [(detour, self.placed(v, seq, job, p, shape)) for detour, p, shape in self.spots(v, seq, job)]

    def placed(self, v: int, seq: list[ExtVisit], job: Job, p: int, shape: int) -> list[ExtVisit]:
        """``seq`` with ``job`` at position ``p``: alone (``shape`` 0), after a reload (1) or before one (2)."""
        if shape == 0:
            return seq[:p] + [job] + seq[p:]
        reload = Reload(self.vehicles[v][1].reload_at)
        return seq[:p] + ([reload, job] if shape == 1 else [job, reload]) + seq[p:]

    def spots(self, v: int, seq: list[ExtVisit], job: Job) -> list[tuple[float, int, int]]:
        """``places`` as (detour [km], position, shape of ``placed``), in the same order, without building the
        candidates (the caller builds the few it evaluates)."""
        vt = self.vehicles[v][1]
        tb = self.slack(v, seq)
        jl = self.loc[job.id]
        tt, d = self.fast_times[vt.id], self.dist
        tt_j, d_j = tt[jl], d[jl]
        service = job.service_minutes
        demand, cap = job.demand_kg, vt.payload_kg + EPS
        w = self._window.get(job.id)
        out: list[tuple[float, int, int]] = []
        dep, latest, loads, path, base = tb.dep, tb.latest, tb.loads, tb.path, tb.base
        if w is None:  # several windows: _pick_window
            return self._spots_windows(v, tb, job)
        w_start, w_end = w
        for p in range(len(path) - 1):
            if loads[p] + demand > cap:
                continue
            arrival = dep[p] + tt[path[p]][jl]
            if arrival > w_end:
                continue
            c = path[p + 1]
            if (arrival if arrival > w_start else w_start) + service + tt_j[c] <= latest[p]:  # noqa: FURB136
                out.append((d[path[p]][jl] + d_j[c] - base[p], p, 0))
        if not tb.spare or job.demand_kg > vt.payload_kg + EPS:
            return out
        # Trips of their own (a reload before or after the job): appended in the order ``places`` had them.
        depot = self.geo.loc(vt.reload_at)
        to_job, km_to_job = tt[depot][jl], d[depot][jl]
        job_to_depot, km_job_depot = tt_j[depot], d_j[depot]
        extra: list[tuple[float, int, int]] = []
        for p in range(len(path) - 1):
            c = path[p + 1]
            if tb.before[p]:
                arrival = tb.via_depot[p] + to_job
                if arrival <= w_end:
                    s = arrival if arrival > w_start else w_start  # noqa: FURB136
                    if s + service + tt_j[c] <= latest[p]:
                        extra.append((tb.km_via_depot[p] + km_to_job + d_j[c] - base[p], p, 1))
            if tb.after[p]:
                arrival = dep[p] + tt[path[p]][jl]
                if arrival <= w_end:
                    s = arrival if arrival > w_start else w_start  # noqa: FURB136
                    if s + service + job_to_depot + tb.depot_back[p] <= latest[p]:
                        extra.append((d[path[p]][jl] + km_job_depot + tb.km_depot_back[p] - base[p], p, 2))
        return _merged(out, extra)

    def _spots_windows(self, v: int, tb: _Table, job: Job) -> list[tuple[float, int, int]]:
        """``spots`` for a job with several windows (``_pick_window`` at every place)."""
        vt = self.vehicles[v][1]
        d, tt = self.dist, self.fast_times[vt.id]
        jl = self.loc[job.id]
        depot = self.geo.loc(vt.reload_at)
        demand, cap = job.demand_kg, vt.payload_kg + EPS
        service = job.service_minutes
        fits = job.demand_kg <= vt.payload_kg + EPS
        out: list[tuple[float, int, int]] = []
        path = tb.path
        for p in range(len(path) - 1):
            a, c = path[p], path[p + 1]
            late = tb.latest[p]
            if tb.loads[p] + demand <= cap:
                s = _pick_window(job, tb.dep[p] + tt[a][jl])
                if s is not None and s + service + tt[jl][c] <= late:
                    out.append((d[a][jl] + d[jl][c] - tb.base[p], p, 0))
            if not tb.spare or not fits:
                continue
            if tb.before[p]:
                s = _pick_window(job, tb.via_depot[p] + tt[depot][jl])
                if s is not None and s + service + tt[jl][c] <= late:
                    out.append((tb.km_via_depot[p] + d[depot][jl] + d[jl][c] - tb.base[p], p, 1))
            if tb.after[p]:
                s = _pick_window(job, tb.dep[p] + tt[a][jl])
                if s is not None and s + service + tt[jl][depot] + tb.depot_back[p] <= late:
                    out.append((d[a][jl] + d[jl][depot] + tb.km_depot_back[p] - tb.base[p], p, 2))
        return out

    def restation(
        self, v: int, seq: list[ExtVisit], ev: RouteEval
    ) -> tuple[list[ExtVisit], tuple[RouteEval, float, list[float] | None]] | None:
        """``seq`` made feasible by inserting stations before its battery failures, up to ``MAX_REPAIRS`` rounds
        (the cheapest detours first; kept: one that gets past the failing arc, else one that moves the failure
        later; two stations in a row on the failing arc when no single station gets past it), or None."""
        vt = self.vehicles[v][1]
        bat = vt.battery
        if bat is None or not self.p.stations:
            return None
        d = self.dist
        # Range of a full charge on an empty truck [km]: an optimistic filter for two stations in a row.
        e0 = bat.consumption_empty_kwh_per_km
        reach = (bat.capacity_kwh - bat.reserve_kwh) / e0 + EPS if e0 > 0 else math.inf
        for _ in range(MAX_REPAIRS):
            at = battery_failure(ev.route, bat.reserve_kwh)
            if at is None:
                return None  # not a battery failure: no station mends it
            path = [self.geo.loc(vt.start_depot)] + [self.lid(v, x) for x in seq] + [self.geo.loc(vt.end)]
            options: list[tuple[float, int, tuple[str, ...], tuple[ChargingStation, ...]]] = []
            for k in range(at, max(-1, at - 4), -1):
                if 0 < k < len(seq) and not isinstance(seq[k - 1], Job) and not isinstance(seq[k], Job):
                    continue
                a, c = path[k], path[k + 1]
                for st in self.p.stations:
                    sl = self.sloc[st.id]
                    if sl in (a, c):
                        continue
                    options.append((d[a][sl] + d[sl][c] - d[a][c], k, (st.id,), (st,)))
            options.sort(key=lambda o: (o[0], o[1], o[2]))
            moved = None
            past = None  # a candidate that gets past the failing arc (a pair only when no station does)
            for group in (options, None):
                if past is not None:
                    break
                if group is None:
                    group = self._station_pairs(seq, path, at, reach)
                for _, k, _, sts in group[:STATION_OPTIONS]:
                    cand = seq[:k] + list(sts) + seq[k:]
                    got = self.evaluate(v, cand)
                    if got[0].feasible:
                        return cand, got
                    later = battery_failure(got[0].route, bat.reserve_kwh)
                    if later is None:
                        continue
                    if past is None and later > at + len(sts):
                        past = (cand, got)
                    if moved is None and later > k:
                        moved = (cand, got)
            step = past or moved
            if step is None:
                return None
            seq, ev = step[0], step[1][0]
        return None

    def _station_pairs(
        self, seq: list[ExtVisit], path: list[int], at: int, reach: float
    ) -> list[tuple[float, int, tuple[str, ...], tuple[ChargingStation, ...]]]:
        """(detour [km], arc, ids, stations) of two stations in a row on arc ``at`` of ``seq`` (``path``: its
        locations with the depots), each hop after the first within ``reach`` [km], cheapest first; none when
        a station is next to the arc (never three in a row). Why: a job farther than one charge's range from
        every station it could reach (``tests/routing/test_two_stations_in_a_row.py``)."""
        if (at > 0 and isinstance(seq[at - 1], ChargingStation)) or (
            at < len(seq) and isinstance(seq[at], ChargingStation)
        ):
            return []
        d = self.dist
        a, c = path[at], path[at + 1]
        out = []
        for st in self.p.stations:
            sl = self.sloc[st.id]
            if sl in (a, c):
                continue
            for st2 in self.p.stations:
                sl2 = self.sloc[st2.id]
                if sl2 in (a, sl, c) or d[sl][sl2] > reach or d[sl2][c] > reach:
                    continue
                out.append((d[a][sl] + d[sl][sl2] + d[sl2][c] - d[a][c], at, (st.id, st2.id), (st, st2)))
        out.sort(key=lambda o: (o[0], o[2]))
        return out

    def mended(
        self, v: int, seq: list[ExtVisit]
    ) -> tuple[list[ExtVisit], tuple[RouteEval, float, list[float] | None]] | None:
        """``seq`` (normalised) if feasible, else without the stations it no longer needs or with stations
        placed afresh; None when none of these is feasible."""
        seq = normalized(seq, keep_first=self.away(v))
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

    def insert(self, plan: TripPlan, job: Job, open_new: bool = False) -> bool:
        """Cheapest feasible place for ``job`` in a used, unfrozen route (in place); with ``open_new``, when
        there is none, on an unused vehicle (with a reload first where it starts ``away``)."""
        tr = self.tr
        ok = self.allowed.get(job.id, set())
        cands: list[tuple[float, int, int, int, int]] = []
        n = 0
        for v, (_, vt) in enumerate(tr.vehicles):
            seq = plan.routes[v]
            if v in self.frozen or not seq or vt.id not in ok:  # a used route holds jobs, an unused one is []
                continue
            unit = tr.unit(vt)
            for detour, p, shape in tr.spots(v, seq, job):
                cands.append((unit * detour, n, v, p, shape))
                n += 1
        cands.sort(key=lambda c: (c[0], c[1]))
        best = None
        tried = repairs = 0
        for est, _, v, p, shape in cands:
            if tried >= CANDIDATES or (best is not None and not tr.by_cost and est >= best[0] - 1e-9):
                break
            tried += 1
            cand = tr.placed(v, plan.routes[v], job, p, shape)
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
        if best is None and open_new and job.drop_penalty is None:
            best = self._opened(plan, job)
        if best is None:
            return False
        self.set(plan, best[1], best[2], best[3])
        return True

    def _opened(self, plan: TripPlan, job: Job) -> tuple | None:
        """The cheapest unused vehicle that can serve ``job`` alone (``insert``'s form), or None. Why: the first
        solution heuristics of OR-Tools insert one node at a time, so a job that needs a reload before it (a
        truck away from its depot with too little charge, which charges there) had no route at all."""
        tr = self.tr
        ok = self.allowed.get(job.id, set())
        best = None
        for v, (_, vt) in enumerate(tr.vehicles):
            if v in self.frozen or plan.routes[v] or vt.id not in ok:
                continue
            shapes: list[list[ExtVisit]] = [[job]]
            if tr.away(v):
                shapes.append([Reload(vt.reload_at), job])
            for shape in shapes:
                got = tr.evaluate(v, shape)
                if not got[0].feasible:
                    fixed = tr.restation(v, shape, got[0])
                    if fixed is None:
                        continue
                    shape, got = fixed
                score = tr.score(got[0])
                if best is None or score < best[0]:
                    best = (score, v, shape, got)
        return best

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

    def recreate(self, plan: TripPlan, jobs: list[Job], open_new: bool = False) -> None:
        plan.absent = [j for j in self.order(jobs) if not self.insert(plan, j, open_new)]


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
    open_new: bool = False,
) -> tuple[TripPlan, TripLnsLog]:
    """Fewer unserved mandatory jobs, then a smaller objective, on the same (or fewer) vehicles by ``deadline``
    (``clock.now()``) or after ``max_iterations``; returns the best plan found and what was done.

    ``routes`` (visits aligned with ``vehicles``) must each be feasible for ``trips.evaluate`` from the shift
    start or from ``starts[v]`` with ``charges[v]`` (how the caller planned them); a route that is not is kept
    as it is and left alone. ``absent``: jobs to serve if they find room. ``allowed``: job id -> vehicle type
    ids that may serve it (``routing.solve.diagnose``). ``open_new``: a mandatory job of ``absent`` that no
    route can take may open an unused vehicle (once, before the search; ``routing.solve`` asks for it).
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
        search.recreate(trial, trial.absent, open_new=open_new)
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
