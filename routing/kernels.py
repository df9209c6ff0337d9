"""Compiled inner loops of the ruin-and-recreate (numba): the insertion-position filter over every route at
once and the per-route slack tables it reads.

Why compiled: profiling ``routing.lns`` (pyinstrument, Homberger R1_2_1, 200 customers) put 55 % of its time in
``Builder.positions`` and ``Builder.slack_table``, Python loops over every place in every route, called for each
removed customer (``docs/routing-scale.md``). Here one call per customer scans all routes' positions.

Exactly the semantics of ``Builder.slack_table`` and ``Builder.positions`` for jobs with at most one time
window (every benchmark job); ``routing.lns`` keeps the Python path for problems with several windows per job
and for time-dependent travel (``CompiledFilter.usable``).
Routes are rows of padded 2-D arrays (``RouteTables``): row ``r`` holds ``npos[r] = len(route) + 1`` insertion
positions. Times [min], distances [km], loads [kg].
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from routing.problem import Job

if TYPE_CHECKING:  # pragma: no cover
    from routing.construct import Builder
    from routing.problem import VehicleType

EPS = 1e-6
"""As ``routing.evaluate.EPS`` [min], [kg]."""


@njit(cache=True)
def fill_row(
    r: int,
    locs: np.ndarray,
    jobs: np.ndarray,
    start_loc: int,
    end_loc: int,
    shift_start: float,
    shift_end: float,
    tt: np.ndarray,
    w_start: np.ndarray,
    w_end: np.ndarray,
    service: np.ndarray,
    demand: np.ndarray,
    bloc: np.ndarray,
    bdep: np.ndarray,
    aloc: np.ndarray,
    alate: np.ndarray,
    path: np.ndarray,
    npos: np.ndarray,
    load: np.ndarray,
) -> None:
    """Slack table of one route into row ``r``: ``locs[k]`` location and ``jobs[k]`` job index (-1 for a
    station) of the k-th visit. ``w_start``/``w_end``/``service``/``demand`` per job index; ``w_end`` is the
    window's end without tolerance (-inf/inf for a job without window)."""
    n = locs.shape[0]
    loc = start_loc
    dep = shift_start
    total = 0.0
    path[r, 0] = start_loc
    for k in range(n):
        bloc[r, k] = loc
        bdep[r, k] = dep
        path[r, k + 1] = locs[k]
        j = jobs[k]
        if j >= 0:
            lx = locs[k]
            arrival = dep + tt[loc, lx]
            s = max(w_start[j], arrival)
            loc = lx
            dep = s + service[j]
            total += demand[j]
    bloc[r, n] = loc
    bdep[r, n] = dep
    path[r, n + 1] = end_loc
    nloc = end_loc
    nlate = shift_end
    aloc[r, n] = nloc
    alate[r, n] = nlate
    for k in range(n - 1, -1, -1):
        j = jobs[k]
        if j >= 0:
            lx = locs[k]
            late = nlate - service[j] - tt[lx, nloc]
            if w_end[j] < late:
                late = w_end[j]
            nloc = lx
            nlate = late
        aloc[r, k] = nloc
        alate[r, k] = nlate
    npos[r] = n + 1
    load[r] = total


@njit(cache=True)
def candidates(
    jl: int,
    ws: float,
    we: float,
    serv: float,
    dem: float,
    routes: np.ndarray,
    payload: np.ndarray,
    tt: np.ndarray,
    d: np.ndarray,
    bloc: np.ndarray,
    bdep: np.ndarray,
    aloc: np.ndarray,
    alate: np.ndarray,
    path: np.ndarray,
    npos: np.ndarray,
    load: np.ndarray,
    out_detour: np.ndarray,
    out_route: np.ndarray,
    out_pos: np.ndarray,
) -> int:
    """Every (detour, route, position) where a job at location ``jl`` (window [ws, we], service ``serv``,
    demand ``dem``) passes the O(1) payload and time filter, over the rows listed in ``routes``; written to the
    ``out_*`` arrays, their count returned. ``we`` is the window's end without tolerance (inf if none)."""
    m = 0
    w_end = we + EPS
    for i in range(routes.shape[0]):
        r = routes[i]
        if load[r] + dem > payload[r] + EPS:
            continue
        for pos in range(npos[r]):
            arrival = bdep[r, pos] + tt[bloc[r, pos], jl]
            if arrival > w_end:
                continue
            s = max(ws, arrival)
            if s + serv + tt[jl, aloc[r, pos]] > alate[r, pos] + EPS:
                continue
            a = path[r, pos]
            c = path[r, pos + 1]
            out_detour[m] = d[a, jl] + d[jl, c] - d[a, c]
            out_route[m] = r
            out_pos[m] = pos
            m += 1
    return m


@njit(cache=True)
def best_ejection(
    jl: int,
    ws: float,
    we: float,
    serv: float,
    dem: float,
    row_locs: np.ndarray,
    row_jobs: np.ndarray,
    row_len: np.ndarray,
    start_loc: np.ndarray,
    end_loc: np.ndarray,
    shift_start: np.ndarray,
    shift_end: np.ndarray,
    payload: np.ndarray,
    tt: np.ndarray,
    d: np.ndarray,
    w_start: np.ndarray,
    w_end: np.ndarray,
    service: np.ndarray,
    demand: np.ndarray,
    pen: np.ndarray,
    max_eject: int,
) -> tuple[int, int, int, int]:
    """``routing.eject._best_ejection`` for routes without stations: the (row, position, first ejected index,
    second or -1) that inserts the job while ejecting one or two customers of that row, least total penalty
    first, then fewer ejected, then least detour, ties in the Python enumeration order; the payload, every
    window and the shift end are checked exactly. (-1, -1, -1, -1) if none."""
    best_p, best_n, best_d = np.inf, 3, np.inf
    out = (-1, -1, -1, -1)
    for r in range(row_len.shape[0]):
        n = row_len[r]
        total = 0.0
        for k in range(n):
            total += demand[row_jobs[r, k]]
        for pos in range(n + 1):
            a = start_loc[r] if pos == 0 else row_locs[r, pos - 1]
            b = end_loc[r] if pos == n else row_locs[r, pos]
            detour = d[a, jl] + d[jl, b] - d[a, b]
            for i1 in range(n):
                for i2 in range(i1, n if max_eject >= 2 else i1 + 1):
                    # i2 == i1 stands for "only i1" (enumerated first, as in Python)
                    if i2 == i1:
                        p = float(pen[row_jobs[r, i1]])
                        m = 1
                    else:
                        p = float(pen[row_jobs[r, i1]] + pen[row_jobs[r, i2]])
                        m = 2
                    if p > best_p or (p == best_p and (m > best_n or (m == best_n and detour >= best_d))):
                        continue
                    load = total + dem - demand[row_jobs[r, i1]]
                    if m == 2:
                        load -= demand[row_jobs[r, i2]]
                    if load > payload[r] + EPS:
                        continue
                    t = shift_start[r]
                    at = start_loc[r]
                    ok = True
                    for k in range(n + 1):
                        if k == pos:
                            arrival = t + tt[at, jl]
                            if arrival > we + EPS:
                                ok = False
                                break
                            t = max(arrival, ws) + serv
                            at = jl
                        if k < n and k != i1 and k != i2:
                            j = row_jobs[r, k]
                            lx = row_locs[r, k]
                            arrival = t + tt[at, lx]
                            if arrival > w_end[j] + EPS:
                                ok = False
                                break
                            t = max(arrival, w_start[j]) + service[j]
                            at = lx
                    if not ok or t + tt[at, end_loc[r]] > shift_end[r] + EPS:
                        continue
                    best_p, best_n, best_d = p, m, detour
                    out = (r, pos, i1, i2 if m == 2 else -1)
    return out


class RouteTables:
    """Padded slack tables of a route set, one row per vehicle (copied with the ruin-and-recreate's state)."""

    def __init__(self, n_routes: int, width: int):
        w = max(8, width)
        self.bloc = np.zeros((n_routes, w), dtype=np.int64)
        self.bdep = np.zeros((n_routes, w))
        self.aloc = np.zeros((n_routes, w), dtype=np.int64)
        self.alate = np.zeros((n_routes, w))
        self.path = np.zeros((n_routes, w + 1), dtype=np.int64)
        self.npos = np.zeros(n_routes, dtype=np.int64)
        self.load = np.zeros(n_routes)

    @property
    def width(self) -> int:
        return self.bloc.shape[1]

    def copy(self) -> RouteTables:
        other = RouteTables.__new__(RouteTables)
        for name in ("bloc", "bdep", "aloc", "alate", "path", "npos", "load"):
            setattr(other, name, getattr(self, name).copy())
        return other

    def widen(self, need: int) -> None:
        """Room for ``need`` positions per row (doubling)."""
        w = self.width
        while w < need:
            w *= 2
        for name in ("bloc", "bdep", "aloc", "alate", "path"):
            old = getattr(self, name)
            new = np.zeros((old.shape[0], w + (1 if name == "path" else 0)), dtype=old.dtype)
            new[:, : old.shape[1]] = old
            setattr(self, name, new)


class CompiledFilter:
    """Per-problem arrays of the compiled insertion filter (``routing.kernels``); None when a job has several
    time windows (the kernels read one), then the Python filter of ``Builder.positions`` runs instead."""

    def __init__(self, builder: Builder, vehicles: list[tuple[str, VehicleType]]):
        p = builder.p
        self.index = {j.id: k for k, j in enumerate(p.jobs)}
        self.w_start = np.array([j.windows_sorted[0].start if j.time_windows else -math.inf for j in p.jobs])
        self.w_end = np.array([j.windows_sorted[-1].end if j.time_windows else math.inf for j in p.jobs])
        self.service = np.array([j.service_minutes for j in p.jobs])
        self.demand = np.array([j.demand_kg for j in p.jobs])
        self.loc = np.array([builder.loc[j.id] for j in p.jobs], dtype=np.int64)
        self.dist = np.ascontiguousarray(builder.geo.dist, dtype=float)
        type_ids = [vt.id for vt in p.vehicle_types]
        times = [np.ascontiguousarray(builder.geo.time_by_type[t], dtype=float) for t in type_ids]
        self.tt = times[0] if all(t is times[0] for t in times) else None
        self.tt_by_vehicle = [np.ascontiguousarray(builder.geo.time_by_type[vt.id]) for _, vt in vehicles]
        self.payload = np.array([vt.payload_kg for _, vt in vehicles])
        self.vtype = [vt.id for _, vt in vehicles]
        self.ok_rows: dict[str, np.ndarray] = {}
        for j in p.jobs:
            ok = builder.allowed.get(j.id, set())
            self.ok_rows[j.id] = np.array([t in ok for t in self.vtype], dtype=bool)
        self.scratch = np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)

    @staticmethod
    def usable(builder: Builder) -> bool:
        # Time-dependent travel (a speed profile): the Python path (the kernels read one constant matrix).
        if builder.geo.freeflow_by_type is not None:
            return False
        return all(len(j.time_windows) <= 1 for j in builder.p.jobs)

    def fill(self, b: Builder, tables: RouteTables, r: int, vt: VehicleType, seq: list) -> None:
        if len(seq) + 1 > tables.width:
            tables.widen(len(seq) + 1)
        locs = np.array([b._l(x) for x in seq], dtype=np.int64)
        jobs = np.array([self.index[x.id] if isinstance(x, Job) else -1 for x in seq], dtype=np.int64)
        fill_row(
            r,
            locs,
            jobs,
            b.geo.loc(vt.start_depot),
            b.geo.loc(vt.end),
            vt.shift_start,
            math.inf if vt.shift_end is None else vt.shift_end,
            self.tt_by_vehicle[r],
            self.w_start,
            self.w_end,
            self.service,
            self.demand,
            tables.bloc,
            tables.bdep,
            tables.aloc,
            tables.alate,
            tables.path,
            tables.npos,
            tables.load,
        )

    def candidate_arrays(self, st: Any, job: Job) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(detour [km], route, position) arrays of every place passing the filter in the non-empty routes of
        ``st`` (an object with ``kt``, its ``RouteTables``, and ``used``, a bool per row), unsorted: per vehicle
        type in first-seen order, rows ascending within a type. Copies, safe to keep across calls."""
        t = st.kt
        used = st.used & self.ok_rows[job.id]
        k = self.index[job.id]
        if self.tt is not None:
            groups = [(np.flatnonzero(used), self.tt)]
        else:  # vehicle types with their own speeds: one call per type
            groups = []
            for tid in dict.fromkeys(self.vtype):
                rows = np.flatnonzero(used & np.array([x == tid for x in self.vtype]))
                if rows.size:
                    groups.append((rows, self.tt_by_vehicle[int(rows[0])]))
        need = sum(int(t.npos[rows].sum()) for rows, _ in groups)
        if self.scratch[0].shape[0] < need:
            size = max(need, 2 * self.scratch[0].shape[0])
            self.scratch = np.zeros(size), np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)
        det_all, route_all, pos_all = self.scratch
        dets, routes, poss = [], [], []
        for rows, tt in groups:
            m = candidates(
                int(self.loc[k]),
                float(self.w_start[k]),
                float(self.w_end[k]),
                float(self.service[k]),
                float(self.demand[k]),
                rows.astype(np.int64),
                self.payload,
                tt,
                self.dist,
                t.bloc,
                t.bdep,
                t.aloc,
                t.alate,
                t.path,
                t.npos,
                t.load,
                det_all,
                route_all,
                pos_all,
            )
            dets.append(det_all[:m].copy())
            routes.append(route_all[:m].copy())
            poss.append(pos_all[:m].copy())
        if not dets:
            empty = np.zeros(0, dtype=np.int64)
            return np.zeros(0), empty, empty.copy()
        if len(dets) == 1:
            return dets[0], routes[0], poss[0]
        return np.concatenate(dets), np.concatenate(routes), np.concatenate(poss)

    def candidates(self, st: Any, job: Job) -> list[tuple[float, int, int]]:
        """``candidate_arrays`` as (detour, route, position) tuples, cheapest first (ties by route, then
        position, as the Python path sorts them)."""
        det, route, pos = self.candidate_arrays(st, job)
        out = list(zip(det.tolist(), route.tolist(), pos.tolist()))
        out.sort()
        return out


def _warm() -> None:
    """Compile (or load from numba's on-disk cache) both kernels at import, so that the first search's time
    limit is not spent there (cached: ~0.4 s CPU; compiling afresh: ~2.5 s)."""
    t = RouteTables(1, 8)
    one = np.zeros(1)
    fill_row(
        0,
        np.zeros(1, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        0,
        0,
        0.0,
        np.inf,
        np.zeros((1, 1)),
        one,
        one + np.inf,
        one,
        one,
        t.bloc,
        t.bdep,
        t.aloc,
        t.alate,
        t.path,
        t.npos,
        t.load,
    )
    idx = np.zeros(1, dtype=np.int64)
    candidates(
        0,
        0.0,
        np.inf,
        0.0,
        0.0,
        idx,
        np.ones(1),
        np.zeros((1, 1)),
        np.zeros((1, 1)),
        t.bloc,
        t.bdep,
        t.aloc,
        t.alate,
        t.path,
        t.npos,
        t.load,
        np.zeros(8),
        np.zeros(8, dtype=np.int64),
        np.zeros(8, dtype=np.int64),
    )

    z = np.zeros((1, 1), dtype=np.int64)
    best_ejection(
        0,
        0.0,
        np.inf,
        0.0,
        0.0,
        z,
        z,
        np.ones(1, dtype=np.int64),
        idx,
        idx,
        np.zeros(1),
        np.full(1, np.inf),
        np.ones(1),
        np.zeros((1, 1)),
        np.zeros((1, 1)),
        one,
        one + np.inf,
        one,
        one,
        np.zeros(1, dtype=np.int64),
        2,
    )


_warm()
