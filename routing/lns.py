"""Ruin and recreate on the float routes, between OR-Tools searches (after Christiaens & Vanden Berghe's
SISR, 2020: remove strings of consecutive customers around a random seed, re-insert them greedily, accept by
simulated annealing).

Why: OR-Tools' guided local search converges within seconds on Solomon R1/RC1 and on E-VRPTW instances with
wide windows and several charging stops per route, then stays 3-25 % above the best known distance (full-suite
measurements in docs/routing-bench.md). Its moves change a few arcs at a time; removing a dozen neighbouring
customers from several routes and re-inserting them lets whole route shapes change. The insertion goes through
``routing.construct.Builder.repaired``, so a customer is re-inserted together with the charging stop it needs,
the move OR-Tools' station-copy model lacks (``docs/routing-notes.md``).

Single-trip routes without BREAK stops only: for reloads and breaks, ``routing.lns_trips`` (exact float routes).
Works at a fixed fleet: it never opens a vehicle that had no route (a route it empties stays empty), so the
fewest-vehicles objective is never worsened. Deterministic for a seed, apart from where the deadline cuts it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from routing import clock
from routing import kernels as K
from routing.construct import Builder
from routing.eject import _jobs, _restationed
from routing.kernels import CompiledFilter
from routing.problem import ChargingStation, Job, VehicleType
from routing.station_dp import StationPlacer

Visit = Job | ChargingStation

MAX_STRING = 10
"""Longest string removed from one route (SISR's L^max)."""
MEAN_REMOVED = 10
"""Mean number of customers removed per iteration (SISR's c-bar)."""
MAX_NEIGHBOURS = 100
"""Nearest customers considered around a ruin's seed (SISR walks the seed's neighbour list)."""
BLINK = 0.01
"""Probability of skipping a feasible insertion position (SISR's blink rate: cheap diversification)."""
T_START, T_END = 0.03, 0.001
"""Annealing temperatures as shares of the starting total distance: a move 3 % longer is accepted with
probability 1/e at the start, 0.1 % at the end. Measured 2026-12-04, 20 s from the same pool routes, on 18
Solomon and E-VRPTW instances: these against ten times colder (0.003, 0.0001) won 12 (E-VRPTW c204_21 789 ->
660 km, Solomon C204 654 -> 591, R208 792 -> 748, rc102_21 1,779 -> 1,684), tied 3, lost 3 (c107_21 1,075 ->
1,169, r102_21 1,509 -> 1,562, RC202 1,171 -> 1,179); ten times warmer again (0.1, 0.003), tried on 8 of
them, was better only on c107_21 and rc102_21. The colder setting stuck in the first deep local optimum of the
long 2-series routes (c203_21: 710.3 km in two runs)."""


@dataclass
class LnsLog:
    iterations: int = 0
    accepted: int = 0
    improved: int = 0
    start_km: float = 0.0
    best_km: float = 0.0

    def note(self) -> str:
        return (
            f"ruin-recreate: {self.iterations} iterations, {self.improved} improvements, "
            f"{self.start_km:.1f} -> {self.best_km:.1f} km"
        )


class _State:
    """Routes with their km, for one vehicle list."""

    def __init__(
        self,
        builder: Builder,
        vehicles: list[tuple[str, VehicleType]],
        routes: list[list[Visit]],
        compiled: CompiledFilter | None = None,
        placer: StationPlacer | None = None,
    ):
        self.b = builder
        self.vehicles = vehicles
        self.routes = [list(r) for r in routes]
        self.kms = [builder.km(vt, r) if r else 0.0 for (_, vt), r in zip(vehicles, self.routes)]
        self.tables: dict[int, tuple] = {}
        self.places: dict[int, dict[str, list[tuple[float, int]]]] = {}
        self.where = {x.id: v for v, r in enumerate(self.routes) for x in r if isinstance(x, Job)}
        self.compiled = compiled
        # Stations placed by the DP (routing.station_dp): the compiled tables then hold the customers alone
        # (positions between customers; the stations of a new sequence are chosen afresh), ``rows`` their job
        # indices and ``plain`` each route's km without its stations.
        self.placer = placer if compiled is not None else None
        if self.placer is not None:
            width = max((len(r) for r in self.routes), default=0) + 8
            self.rows = np.zeros((len(vehicles), width), dtype=np.int64)
            self.row_len = np.zeros(len(vehicles), dtype=np.int64)
            self.plain = np.zeros(len(vehicles))
            for v, r in enumerate(self.routes):
                if r:
                    placed = self.placer.place(v, _jobs(r))
                    if placed is not None and placed[1] <= self.kms[v] + 1e-9:
                        self.routes[v], self.kms[v] = placed
        if compiled is not None:
            width = max((len(r) for r in self.routes), default=0) + 8
            self.kt = K.RouteTables(len(vehicles), width)
            self.used = np.array([bool(r) for r in self.routes], dtype=bool)
            for v, ((_, vt), r) in enumerate(zip(vehicles, self.routes)):
                if r:
                    self._fill(v, vt, r)

    def copy(self) -> _State:
        other = _State.__new__(_State)
        other.b, other.vehicles = self.b, self.vehicles
        other.routes = [list(r) for r in self.routes]
        other.kms = list(self.kms)
        other.tables = dict(self.tables)
        other.places = dict(self.places)
        other.where = dict(self.where)
        other.compiled = self.compiled
        other.placer = self.placer
        if self.compiled is not None:
            other.kt = self.kt.copy()
            other.used = self.used.copy()
        if self.placer is not None:
            other.rows = self.rows.copy()
            other.row_len = self.row_len.copy()
            other.plain = self.plain.copy()
        return other

    def _fill(self, v: int, vt: VehicleType, seq: list[Visit]) -> None:
        """Compiled tables of route ``v`` (its customers alone when the DP places the stations)."""
        if self.placer is None:
            self.compiled.fill(self.b, self.kt, v, vt, seq)  # type: ignore[union-attr]
            return
        placer = self.placer
        idx = np.array([placer.index[x.id] for x in seq if isinstance(x, Job)], dtype=np.int64)
        n = idx.shape[0]
        if n + 1 > self.kt.width:
            self.kt.widen(n + 1)
        if n > self.rows.shape[1]:
            wider = np.zeros((self.rows.shape[0], 2 * n), dtype=np.int64)
            wider[:, : self.rows.shape[1]] = self.rows
            self.rows = wider
        self.rows[v, :n] = idx
        self.row_len[v] = n
        self.plain[v] = placer.fill(self.kt, v, idx)

    def table(self, v: int) -> tuple:
        t = self.tables.get(v)
        if t is None:
            t = self.tables[v] = self.b.slack_table(self.vehicles[v][1], self.routes[v])
        return t

    def positions(self, v: int, job: Job) -> list[tuple[float, int]]:
        """``Builder.positions`` of ``job`` in route ``v``, kept while the route is unchanged: copies share it,
        and a route that neither the ruin nor the insertions touched (most of them, each iteration) is asked
        about the same nearby customers again and again."""
        cache = self.places.get(v)
        if cache is None:
            cache = self.places[v] = {}
        found = cache.get(job.id)
        if found is None:
            found = cache[job.id] = self.b.positions(self.vehicles[v][1], self.table(v), job)
        return found

    @property
    def km(self) -> float:
        return sum(self.kms)

    def set(self, v: int, seq: list[Visit], km: float | None = None) -> None:
        """Route ``v`` becomes ``seq``; ``km`` its length when the caller knows it [km]."""
        self.routes[v] = seq
        self.kms[v] = km if km is not None else (self.b.km(self.vehicles[v][1], seq) if seq else 0.0)
        self.tables.pop(v, None)
        self.places.pop(v, None)
        for x in seq:
            if isinstance(x, Job):
                self.where[x.id] = v
        if self.compiled is not None:
            self.used[v] = bool(seq)
            if seq:
                self._fill(v, self.vehicles[v][1], seq)
            elif self.placer is not None:
                self.row_len[v] = 0
                self.plain[v] = 0.0


def _ruin(
    st: _State,
    rng: random.Random,
    neighbours: dict[str, list[Job]],
    jobs: list[Job],
    seeds: list[Job] | None = None,
) -> list[Job] | None:
    """Remove strings of customers around a random seed customer (drawn from ``seeds`` when given); None when
    a ruined route cannot be mended."""
    # Every iteration starts from a complete plan (a trial that leaves a job out is dropped), so the job ->
    # route map kept by ``_State.set`` is exact here and every job is in it: no O(customers) pass per iteration.
    where = st.where
    if not where:
        return None
    avg_len = len(where) / max(1, sum(1 for r in st.routes if r))
    l_max = min(MAX_STRING, avg_len)
    k_max = 4 * MEAN_REMOVED / (1 + l_max) - 1
    k_routes = int(rng.random() * k_max) + 1
    seed = rng.choice(seeds or jobs)
    removed: list[Job] = []
    ruined: set[int] = set()
    for c in [seed] + neighbours[seed.id]:
        if len(ruined) >= k_routes:
            break
        v = where.get(c.id)
        if v is None or v in ruined:
            continue
        ruined.add(v)
        seq = st.routes[v]
        route_jobs = _jobs(seq)
        l_r = int(rng.random() * min(l_max, len(route_jobs))) + 1
        pos = route_jobs.index(c)
        first = max(0, min(pos - int(rng.random() * l_r), len(route_jobs) - l_r))
        out = route_jobs[first : first + l_r]
        out_ids = {j.id for j in out}
        rest = [x for x in seq if not (isinstance(x, Job) and x.id in out_ids)]
        placed = st.placer.place(v, _jobs(rest)) if st.placer is not None and rest else None
        if placed is not None:
            st.set(v, placed[0], placed[1])
        else:
            # Without the DP in this search (``stations=False``), the greedy repair alone, as before it.
            mended = _restationed(st.b, st.vehicles[v][1], rest, dp=st.placer is not None) if rest else []
            if mended is None:
                return None
            st.set(v, mended)
        for j in out:
            st.where.pop(j.id, None)
        removed += out
    return removed


def _insert(st: _State, job: Job, rng: random.Random) -> bool:
    """Cheapest feasible insertion into a used route (with the stations the battery needs), in place."""
    if st.placer is not None:
        return _insert_dp(st, job, rng)
    b = st.b
    if st.compiled is not None:
        cands = st.compiled.candidates(st, job)
    else:
        ok_types = b.allowed.get(job.id, set())
        cands = []
        for v, (_, vt) in enumerate(st.vehicles):
            cur = st.routes[v]
            if not cur or vt.id not in ok_types:
                continue
            cands += [(detour, v, pos) for detour, pos in st.positions(v, job)]
        cands.sort()
    best: tuple[float, int, list[Visit]] | None = None
    for detour, v, pos in cands:
        if best is not None and detour >= best[0] - 1e-9:
            break  # a station only adds to the detour (triangle inequality)
        if rng.random() < BLINK:
            continue
        vt = st.vehicles[v][1]
        cur = st.routes[v]
        cand = cur[:pos] + [job] + cur[pos:]
        seq = b.repaired(vt, cand)
        if seq is None:
            continue
        # No station added: the route grows by the detour itself (no O(route) sum).
        delta = detour if seq is cand else b.km(vt, seq) - st.kms[v]
        if best is None or delta < best[0]:
            best = (delta, v, seq)
    if best is None:
        return False
    st.set(best[1], best[2], st.kms[best[1]] + best[0])
    return True


def _insert_dp(st: _State, job: Job, rng: random.Random) -> bool:
    """``_insert`` with every candidate route's stations placed afresh by the DP (``routing.station_dp``): the
    growth of a route is its least km with the job minus its km now. Candidates (from the compiled filter on
    the customers alone) are tried in order of a lower bound of that growth, the detour between customers
    minus the km the route's stations add now, in one compiled call; blinks as in ``_insert``."""
    placer = st.placer
    if placer is None:  # pragma: no cover (the caller checks)
        raise RuntimeError("_insert_dp without a station placer")
    det, route, pos = st.compiled.candidate_arrays(st, job)
    if det.size == 0:
        return False
    kms = np.array(st.kms)
    lb = det - (kms - st.plain)[route]
    order = np.argsort(lb, kind="stable")
    skip = np.array([rng.random() < BLINK for _ in range(det.size)], dtype=bool)
    route, pos, lb = route[order], pos[order], lb[order]
    bi, delta, choice = placer.best_insertion(job, route, pos, lb, skip, st.rows, st.row_len, kms)
    if bi < 0:
        return False
    v, p = int(route[bi]), int(pos[bi])
    jobs = _jobs(st.routes[v])
    jobs.insert(p, job)
    st.set(v, placer.visits(jobs, choice), st.kms[v] + delta)
    return True


def _order(removed: list[Job], b: Builder, rng: random.Random) -> list[Job]:
    """SISR's insertion orders: random, largest demand, farthest from or closest to the depot."""
    how = rng.random()
    if how < 0.4:
        rng.shuffle(removed)
        return removed
    if how < 0.8:
        return sorted(removed, key=lambda j: -j.demand_kg)
    depot = b.geo.loc(b.p.vehicle_types[0].start_depot)
    far = how < 0.9
    return sorted(removed, key=lambda j: (-1 if far else 1) * b.dist[depot][b.loc[j.id]])


def _placer(
    builder: Builder, vehicles: list[tuple[str, VehicleType]], kern: CompiledFilter | None, on: bool
) -> StationPlacer | None:
    """The station DP when it applies (it reads the compiled filter's tables of the customers)."""
    if not on or kern is None or not StationPlacer.usable(builder, vehicles):
        return None
    return StationPlacer.of(builder, vehicles)


def _neighbours(builder: Builder, jobs: list[Job]) -> dict[str, list[Job]]:
    """Each job's ``MAX_NEIGHBOURS`` nearest jobs, nearest first (the ruin's walk)."""
    locs = np.array([builder.loc[j.id] for j in jobs])
    near = np.argsort(builder.geo.dist[np.ix_(locs, locs)], axis=1, kind="stable")[:, : MAX_NEIGHBOURS + 1]
    return {j.id: [jobs[k] for k in near[i] if k != i] for i, j in enumerate(jobs)}


@dataclass
class FleetLog:
    iterations: int = 0
    removed: int = 0
    start_routes: int = 0
    routes: int = 0

    def note(self) -> str:
        return (
            f"ruin-recreate fleet: {self.start_routes} -> {self.routes} routes "
            f"({self.removed} removed, {self.iterations} iterations)"
        )


def reduce_fleet(
    builder: Builder,
    vehicles: list[tuple[str, VehicleType]],
    routes: list[list[Visit]],
    deadline: float,
    seed: int = 0,
    floor: int = 1,
    compiled: bool = True,
    stations: bool = True,
) -> tuple[list[list[Visit]], FleetLog]:
    """Fewer routes by ruin-and-recreate with absent customers (SISR's fleet minimisation, Christiaens &
    Vanden Berghe 2020, section 6): empty the route with fewest customers, then ruin and recreate where a
    customer that finds no place stays absent; a trial is accepted when fewer customers are absent, or when
    the absent ones have been absent less often (each absent customer's counter grows every iteration, so
    the hard ones are pushed in and others moved out). Done when none is absent; then the next route, until
    ``floor`` routes or ``deadline`` (``clock.now()``). Returns routes aligned with ``vehicles``; a route
    that could not be emptied is left as it was.

    Why beside the ejection pool (``routing.eject``): the pool stops at the first route it cannot empty with
    one or two ejections per step; on Homberger 200 at 60 s it left R2_2_1, RC1_2_1 and RC2_2_1 one vehicle
    above the best known, where PyVRP reached it. Moving ten neighbouring customers at a time makes room the
    one-at-a-time ejections do not find."""
    rng = random.Random(seed)
    kern = CompiledFilter(builder, vehicles) if compiled and CompiledFilter.usable(builder) else None
    best = _State(builder, vehicles, routes, kern, _placer(builder, vehicles, kern, stations))
    jobs = [x for r in best.routes for x in r if isinstance(x, Job)]
    log = FleetLog(start_routes=sum(1 for r in best.routes if r))
    log.routes = log.start_routes
    if len(jobs) < 2:
        return best.routes, log
    neighbours = _neighbours(builder, jobs)
    while clock.now() < deadline:
        used = [v for v, r in enumerate(best.routes) if r]
        if len(used) <= floor:
            break
        v0 = min(used, key=lambda v: (len(_jobs(best.routes[v])), v))
        cur = best.copy()
        absent = _jobs(cur.routes[v0])
        for j in absent:
            cur.where.pop(j.id, None)
        cur.set(v0, [])
        counts: dict[str, int] = {}
        while absent and clock.now() < deadline:
            log.iterations += 1
            for j in absent:
                counts[j.id] = counts.get(j.id, 0) + 1
            trial = cur.copy()
            # Ruin around an absent customer: the room it needs is among its neighbours' routes.
            removed = _ruin(trial, rng, neighbours, jobs, absent)
            if removed is None:
                continue
            left = [j for j in _order(removed + absent, builder, rng) if not _insert(trial, j, rng)]
            if len(left) < len(absent) or sum(counts.get(j.id, 0) for j in left) < sum(
                counts[j.id] for j in absent
            ):
                cur, absent = trial, left
        if absent:
            break
        best = cur
    # A ruin can empty a short route as a side effect (its customers then go elsewhere): count at the end.
    log.routes = sum(1 for r in best.routes if r)
    log.removed = log.start_routes - log.routes
    return best.routes, log


def improve(
    builder: Builder,
    vehicles: list[tuple[str, VehicleType]],
    routes: list[list[Visit]],
    deadline: float,
    seed: int = 0,
    compiled: bool = True,
    max_iterations: int | None = None,
    stations: bool = True,
    temperatures: tuple[float, float] = (T_START, T_END),
) -> tuple[list[list[Visit]], LnsLog]:
    """Shorter routes serving the same jobs on the same (or fewer) vehicles, by ``deadline``
    (``clock.now()``); returns the best found and what was done. ``compiled`` uses the numba insertion
    filter (``routing.kernels``) where it applies; the same candidates in the same order as the Python one.
    ``max_iterations`` also stops it (benchmarks of the iteration rate, tests). ``stations`` places every
    route's stations by the DP of ``routing.station_dp`` where it applies (off: the greedy repair of
    ``Builder.repaired``, as before it). ``temperatures``: the annealing's start and end as shares of the km."""
    rng = random.Random(seed)
    start_km = sum(builder.km(vt, r) for (_, vt), r in zip(vehicles, routes) if r)
    kern = CompiledFilter(builder, vehicles) if compiled and CompiledFilter.usable(builder) else None
    cur = _State(builder, vehicles, routes, kern, _placer(builder, vehicles, kern, stations))
    best = cur.copy()
    log = LnsLog(start_km=start_km, best_km=cur.km)
    jobs = [x for r in cur.routes for x in r if isinstance(x, Job)]
    if len(jobs) < 2:
        return best.routes, log
    neighbours = _neighbours(builder, jobs)
    t0 = clock.now()
    span = max(1e-6, deadline - t0)
    t_start, t_end = temperatures[0] * cur.km, temperatures[1] * cur.km
    while True:
        now = clock.now()
        if now >= deadline or (max_iterations is not None and log.iterations >= max_iterations):
            break
        log.iterations += 1
        temp = t_start * (t_end / t_start) ** ((now - t0) / span) if t_start > 0 else 0.0
        trial = cur.copy()
        removed = _ruin(trial, rng, neighbours, jobs)
        if removed is None:
            continue
        if not all(_insert(trial, j, rng) for j in _order(removed, builder, rng)):
            continue
        threshold = cur.km - temp * math.log(max(1e-12, rng.random()))
        if trial.km < threshold:
            cur = trial
            log.accepted += 1
            if cur.km < best.km - 1e-9:
                best = cur.copy()
                log.improved += 1
    log.best_km = best.km
    return best.routes, log
