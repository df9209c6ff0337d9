"""Fleet minimisation by route elimination with an ejection pool (after Nagata & Bräysy 2009).

Why: cutting a vehicle means re-inserting a whole route's customers into the others, and on tight time
windows (E-VRPTW r1/rc1) plain cheapest insertion finds no room for the last few. The ejection pool makes
room: a customer that fits nowhere is inserted anyway at the place where it forces out the fewest and least
often moved customers (one or two), those go back into the pool, and random feasible relocations between
steps keep the search from cycling. Each penalty counter ``p[job]`` grows each time the job could not be
inserted plainly, so customers that are hard to place are ejected last.

Works on the float routes of ``routing.construct.Builder`` (stations inserted where the battery needs them), so
every route it returns is feasible for the OR-Tools model too; ``routing.solve`` seeds the search with them.
Deterministic for a given ``rng`` seed, apart from where the wall-clock deadline cuts it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

from routing import clock
from routing.construct import Builder, _insert_one
from routing.problem import Job, VehicleType

MAX_FULL_CHECKS = 300
"""Candidate (insert, eject) moves checked with station repair per step; cheaper filters run first."""
PERTURB_MOVES = 1
"""Random relocations tried after every ejection (diversification). Measured on E-VRPTW r106/r110/rc104/rc108_21,
seeds 0 and 1, 22.5 s each: 12 moves (with 120 full checks) left 105 routes in all, 4 moves 102, 1 move 101,
1 move with 300 full checks 100 (every one at the best known + 1); 4 moves with 40 checks 112. The relocations
cost half the pool's time; the time is better spent on ejections."""
PLACE_PERTURB_MOVES = 12
"""Relocations after each ejection when placing jobs the construction left out (``place_missing``): there they
make the room; with one, the 1,000-stop depot-day placed none of its 43 missing jobs in its 15 s (it needed 46 s),
with twelve all in 11 s."""


@dataclass
class EliminationLog:
    """What the elimination did, for the solver's phase list."""

    removed: int = 0
    attempts: int = 0
    ejections: int = 0
    notes: list[str] = field(default_factory=list)
    tries: list[tuple[bool, int, float]] = field(default_factory=list)
    """Per attempt: route emptied?, ejections it made, seconds it took."""


def _jobs(seq: list) -> list[Job]:
    return [x for x in seq if isinstance(x, Job)]


def _restationed(builder: Builder, vt: VehicleType, seq: list) -> list | None:
    """``seq`` made feasible with its stations placed afresh (a station a removed customer needed would
    otherwise stay, and under full recharging an unneeded stop costs its whole charging time), else with the
    stations it has."""
    if builder.p.stations and any(not isinstance(x, Job) for x in seq):
        fresh = builder.repaired(vt, _jobs(seq))
        if fresh is not None:
            return fresh
    return builder.repaired(vt, seq)


def _best_ejection(
    builder: Builder,
    vehicles: list[tuple[str, VehicleType]],
    routes: list[list],
    job: Job,
    closed: int,
    p: dict[str, int],
    max_eject: int,
) -> tuple[int, list, list[Job]] | None:
    """Insert ``job`` somewhere, ejecting up to ``max_eject`` customers of that route, least total penalty
    first (then least detour). Returns (route, new sequence, ejected jobs) or None."""
    found = _best_ejection_compiled(builder, vehicles, routes, job, closed, p, max_eject)
    if found is not _NOT_APPLICABLE:
        return found  # type: ignore[return-value]
    d = builder.dist
    jl = builder.loc[job.id]
    ok_types = builder.allowed.get(job.id, set())
    cands: list[tuple[int, float, int, int, tuple[int, ...]]] = []
    for v, (_, vt) in enumerate(vehicles):
        cur = routes[v]
        if v == closed or not cur or vt.id not in ok_types:
            continue
        path = [builder.geo.loc(vt.start_depot)] + [builder._l(x) for x in cur] + [builder.geo.loc(vt.end)]
        job_pos = [i for i, x in enumerate(cur) if isinstance(x, Job)]
        for pos in range(len(cur) + 1):
            a, b = path[pos], path[pos + 1]
            detour = d[a][jl] + d[jl][b] - d[a][b]
            for n1, i in enumerate(job_pos):
                cands.append((p.get(cur[i].id, 0), detour, v, pos, (i,)))
                if max_eject >= 2:
                    for i2 in job_pos[n1 + 1 :]:
                        cands.append((p.get(cur[i].id, 0) + p.get(cur[i2].id, 0), detour, v, pos, (i, i2)))
    cands.sort(key=lambda c: (c[0], len(c[4]), c[1]))
    full = 0
    for _, _, v, pos, out in cands:
        vt = vehicles[v][1]
        cur = routes[v]
        seq = cur[:pos] + [job] + cur[pos:]
        drop = {i + (1 if i >= pos else 0) for i in out}
        seq = [x for k, x in enumerate(seq) if k not in drop]
        if not builder.time_load_ok(vt, seq):
            continue
        full += 1
        fixed = _restationed(builder, vt, seq)
        if fixed is not None:
            return v, fixed, [cur[i] for i in out]
        if full >= MAX_FULL_CHECKS:
            break
    return None


_NOT_APPLICABLE = object()


def _best_ejection_compiled(
    builder: Builder,
    vehicles: list[tuple[str, VehicleType]],
    routes: list[list],
    job: Job,
    closed: int,
    p: dict[str, int],
    max_eject: int,
) -> object:
    """The same move as the Python enumeration below, found by ``routing.kernels.best_ejection`` for problems
    without stations, with one travel-time matrix and at most one window per job (every VRPTW benchmark);
    ``_NOT_APPLICABLE`` otherwise, or when the move it finds fails the full route check (a maximum duration,
    which the kernel does not read), so that the Python enumeration decides.

    Why: the enumeration of every (position, one or two ejected) in Python took 27 of 30 s of the pool on
    Homberger RC1_2_1 (pyinstrument; docs/routing-scale.md)."""
    from routing.kernels import CompiledFilter, best_ejection

    if builder.p.stations or not CompiledFilter.usable(builder):
        return _NOT_APPLICABLE
    filt = getattr(builder, "_ejection_filter", None)
    if filt is None or filt.tt is None:
        filt = CompiledFilter(builder, builder.p.vehicle_ids())
        builder._ejection_filter = filt  # type: ignore[attr-defined]
        if filt.tt is None:
            return _NOT_APPLICABLE
    ok_types = builder.allowed.get(job.id, set())
    rows = [v for v, (_, vt) in enumerate(vehicles) if v != closed and routes[v] and vt.id in ok_types]
    if not rows:
        return None
    width = max(len(routes[v]) for v in rows)
    locs = np.zeros((len(rows), width), dtype=np.int64)
    jobs = np.zeros((len(rows), width), dtype=np.int64)
    for i, v in enumerate(rows):
        seq = routes[v]
        locs[i, : len(seq)] = [builder.loc[x.id] for x in seq]
        jobs[i, : len(seq)] = [filt.index[x.id] for x in seq]
    vts = [vehicles[v][1] for v in rows]
    pen = np.zeros(len(filt.index), dtype=np.int64)
    for jid, n in p.items():
        pen[filt.index[jid]] = n
    k = filt.index[job.id]
    r, pos, i1, i2 = best_ejection(
        int(filt.loc[k]),
        float(filt.w_start[k]),
        float(filt.w_end[k]),
        float(filt.service[k]),
        float(filt.demand[k]),
        locs,
        jobs,
        np.array([len(routes[v]) for v in rows], dtype=np.int64),
        np.array([builder.geo.loc(vt.start_depot) for vt in vts], dtype=np.int64),
        np.array([builder.geo.loc(vt.end) for vt in vts], dtype=np.int64),
        np.array([vt.shift_start for vt in vts]),
        np.array([math.inf if vt.shift_end is None else vt.shift_end for vt in vts]),
        np.array([vt.payload_kg for vt in vts]),
        filt.tt,
        filt.dist,
        filt.w_start,
        filt.w_end,
        filt.service,
        filt.demand,
        pen,
        max_eject,
    )
    if r < 0:
        return None
    v = rows[r]
    cur = routes[v]
    out = (i1,) if i2 < 0 else (i1, i2)
    seq = cur[:pos] + [job] + cur[pos:]
    drop = {i + (1 if i >= pos else 0) for i in out}
    seq = [x for n, x in enumerate(seq) if n not in drop]
    fixed = _restationed(builder, vehicles[v][1], seq)
    if fixed is None:
        return _NOT_APPLICABLE
    return v, fixed, [cur[i] for i in out]


def _perturb(
    builder: Builder,
    vehicles: list[tuple[str, VehicleType]],
    routes: list[list],
    closed: int,
    rng: random.Random,
    moves: int,
) -> None:
    """Random feasible relocations of one customer into another route (in place)."""
    used = [v for v, r in enumerate(routes) if v != closed and _jobs(r)]
    if len(used) < 2:
        return
    for _ in range(moves):
        v = rng.choice(used)
        jobs = _jobs(routes[v])
        if not jobs:
            continue
        job = rng.choice(jobs)
        trial = [list(r) for r in routes]
        rest = _restationed(builder, vehicles[v][1], [x for x in routes[v] if x is not job])
        if rest is None:  # load-dependent energy: a shorter route can cost more
            continue
        trial[v] = []  # _insert_one skips empty routes: the job must move to another route
        if _insert_one(builder, vehicles, trial, job, exclude=closed):
            trial[v] = rest
            routes[:] = trial


def _drain(
    builder: Builder,
    vehicles: list[tuple[str, VehicleType]],
    trial: list[list],
    pool: list[Job],
    closed: int,
    deadline: float,
    rng: random.Random,
    log: EliminationLog,
    max_eject: int,
    open_new: bool = False,
    perturb: int = PERTURB_MOVES,
) -> bool:
    """Place every job of ``pool`` into ``trial`` (in place; never into route ``closed``), ejecting others
    where needed; ``open_new`` lets a job start an unused vehicle. False when stuck or by ``deadline``."""
    p: dict[str, int] = {}
    stuck = 0
    while pool:
        if clock.now() > deadline:
            return False
        job = pool.pop()
        if _insert_one(builder, vehicles, trial, job, exclude=closed) or (
            open_new and _open_route(builder, vehicles, trial, job, closed)
        ):
            stuck = 0
            continue
        p[job.id] = p.get(job.id, 0) + 1
        ej = _best_ejection(builder, vehicles, trial, job, closed, p, max_eject)
        if ej is None:
            pool.insert(0, job)
            stuck += 1
            if stuck > 2 * (len(pool) + 1):
                return False
        else:
            v, seq, ejected = ej
            trial[v] = seq
            pool.extend(ejected)
            log.ejections += 1
            stuck = 0
        _perturb(builder, vehicles, trial, closed, rng, perturb)
    return True


def _open_route(
    builder: Builder, vehicles: list[tuple[str, VehicleType]], routes: list[list], job: Job, closed: int
) -> bool:
    """Put ``job`` alone on an unused vehicle of an allowed type (in place)."""
    ok_types = builder.allowed.get(job.id, set())
    for v, (_, vt) in enumerate(vehicles):
        if v != closed and not routes[v] and vt.id in ok_types:
            seq = builder.repaired(vt, [job])
            if seq is not None:
                routes[v] = seq
                return True
    return False


def _empty_route(
    builder: Builder,
    vehicles: list[tuple[str, VehicleType]],
    routes: list[list],
    v0: int,
    deadline: float,
    rng: random.Random,
    log: EliminationLog,
    max_eject: int,
) -> list[list] | None:
    """``routes`` with route ``v0`` emptied and its customers placed elsewhere, or None by ``deadline``."""
    trial = [list(r) for r in routes]
    pool = _jobs(trial[v0])
    trial[v0] = []
    return trial if _drain(builder, vehicles, trial, pool, v0, deadline, rng, log, max_eject) else None


def place_missing(
    builder: Builder,
    vehicles: list[tuple[str, VehicleType]],
    routes: list[list],
    missing: list[Job],
    deadline: float,
    seed: int = 0,
    max_eject: int = 2,
) -> tuple[list[list], list[Job]]:
    """Place the jobs the construction left out, ejecting and re-placing others where needed (a tight
    1,000-stop depot-day left 43 of 1,000 out after cheapest insertion). Returns the routes and the jobs
    still out: all of ``missing`` with the routes unchanged when they could not all be placed by
    ``deadline`` (``clock.now()``)."""
    trial = [list(r) for r in routes]
    log = EliminationLog()
    if _drain(
        builder,
        vehicles,
        trial,
        list(missing),
        -1,
        deadline,
        random.Random(seed),
        log,
        max_eject,
        open_new=True,
        perturb=PLACE_PERTURB_MOVES,
    ):
        return trial, []
    return [list(r) for r in routes], list(missing)


def fleet_lower_bound(vehicles: list[tuple[str, VehicleType]], routes: list[list]) -> int:
    """Fewest vehicles that can carry the routes' demand: its total over the largest payload (Solomon R208: 2)."""
    payload = max((vt.payload_kg for _, vt in vehicles), default=0.0)
    demand = sum(j.demand_kg for r in routes for j in _jobs(r))
    if payload <= 0:
        return 1
    return max(1, math.ceil(demand / payload - 1e-9))


def eliminate_with_pool(
    builder: Builder,
    vehicles: list[tuple[str, VehicleType]],
    routes: list[list],
    deadline: float,
    seed: int = 0,
    max_eject: int = 2,
) -> tuple[list[list], EliminationLog]:
    """Remove routes one at a time (fewest customers first, up to three candidates per round) while the
    deadline (``clock.now()``) allows; a failed attempt leaves the routes as they were."""
    rng = random.Random(seed)
    log = EliminationLog()
    routes = [list(r) for r in routes]
    floor = fleet_lower_bound(vehicles, routes)
    while clock.now() < deadline:
        used = [v for v, r in enumerate(routes) if _jobs(r)]
        if len(used) <= floor:
            break
        order = sorted(used, key=lambda v: (len(_jobs(routes[v])), v))[:3]
        done = False
        for n, v0 in enumerate(order):
            left = deadline - clock.now()
            if left <= 0:
                break
            log.attempts += 1
            share = left / (len(order) - n)
            t0, e0 = clock.now(), log.ejections
            out = _empty_route(builder, vehicles, routes, v0, t0 + share, rng, log, max_eject)
            log.tries.append((out is not None, log.ejections - e0, clock.now() - t0))
            if out is not None:
                routes = out
                log.removed += 1
                done = True
                break
        if not done:
            break
    log.notes.append(
        f"ejection pool: {log.removed} route(s) removed in {log.attempts} attempt(s), "
        f"{log.ejections} ejection(s)"
    )
    return routes, log
