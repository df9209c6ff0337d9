"""Best charging-station placement for a fixed customer sequence (compiled label DP), and the ruin-and-recreate's
insertion built on it.

Why: on Schneider et al.'s E-VRPTW 100-customer instances the ruin-and-recreate (``routing.lns``) spent ~70 % of
its time in ``Builder.repaired`` (Python scans that insert a station before the point where the charge runs
out, greedily), and the stations it placed stayed where the greedy repair first put them: a station on a
route is only reconsidered when the route is ruined. Schneider, Stenger & Goeke (2014, Transportation Science
48(4), "The electric vehicle-routing problem with time windows and recharging stations") move stations with
dedicated insertion/removal operators; here every route the search builds gets the station visits of least
distance for its customer order, found exactly, so a move is judged by its true cost.

The DP, for customers ``c_1..c_n`` between the start and end depot: a label at stage k (left ``c_k``) is
(km so far, departure time, charge); each arc ``c_k -> c_k+1`` is driven directly or through one station
(full recharge there: ``RechargePolicy.FULL``, charging time ``(capacity - charge) / power``), labels that are
no shorter, no earlier and no fuller than another are dropped (a shorter, earlier, fuller label can do all it
can: waiting is allowed, and a fuller battery charges faster). Semantics of ``Builder.scan`` (windows with the
``EPS`` tolerance, reserve, shift end); at most ``MAX_LABELS`` labels per stage (the longest km dropped beyond,
counted in ``StationPlacer.cut``) and at most one station between two customers
(two in a row are never shorter under the triangle inequality and only needed when a station cannot reach the
next customer on a full battery; the greedy repair remains the fallback for that). When the sequence is
feasible without stations it is the answer (stations only lengthen a route under the triangle inequality, and
the time filter below is exact then), so the labels run only where the battery needs a station.

Applies (``StationPlacer.usable``) to electric problems with stations, full recharging, a constant consumption
rate (no load dependence: E-VRPTW), one time window per job, no time-dependent travel, no access zones and no
maximum route duration; ``routing.lns`` keeps the greedy repair otherwise.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from routing import kernels as K
from routing.problem import ChargingStation, Job, RechargePolicy

if TYPE_CHECKING:  # pragma: no cover
    from routing.construct import Builder
    from routing.problem import VehicleType

EPS = 1e-6
"""As ``routing.evaluate.EPS`` [min], [kWh]."""
MAX_LABELS = 256
"""Labels kept per stage of the DP (the shortest). 48 was cut 1,294 and 2,015 times in 3,000 ruin-and-recreate
iterations on E-VRPTW r201_21 and rc201_21 (routes of 25-50 customers, several stations each); 256 never
was there, ended 5,000 iterations at the same km and ran 4-14 % more of them per CPU second (a cut scans the stage)."""
TIE = 1e-9
"""Tolerance of the dominance test [km], [min], [kWh]."""
PARETO_MAX_ENTRIES = 20_000_000
"""Largest table of stations worth a stop per pair of locations (``pareto_stations``: locations^2 x stations
entries of 2 bytes per vehicle type); beyond it every station is tried on every arc (exact too, slower)."""


@njit(cache=True)
def _add_label(
    base: int,
    cnt: np.ndarray,
    stage: int,
    km: float,
    t: float,
    soc: float,
    parent: int,
    station: int,
    lk: np.ndarray,
    lt: np.ndarray,
    ls: np.ndarray,
    lp: np.ndarray,
    lst: np.ndarray,
    cut: np.ndarray,
) -> None:
    """Insert a label at ``stage`` (rows ``base .. base + cnt[stage]``) unless another dominates it; drop those
    it dominates."""
    c = cnt[stage]
    i = 0
    while i < c:
        k = base + i
        if lk[k] <= km + TIE and lt[k] <= t + TIE and ls[k] >= soc - TIE:
            return
        if km <= lk[k] + TIE and t <= lt[k] + TIE and soc >= ls[k] - TIE:
            last = base + c - 1
            lk[k], lt[k], ls[k], lp[k], lst[k] = lk[last], lt[last], ls[last], lp[last], lst[last]
            c -= 1
            continue
        i += 1
    if c == MAX_LABELS:
        worst = base
        for k in range(base + 1, base + c):
            if lk[k] > lk[worst]:
                worst = k
        if lk[worst] <= km:
            cut[0] += 1
            return
        cut[0] += 1
        lk[worst], lt[worst], ls[worst], lp[worst], lst[worst] = km, t, soc, parent, station
        cnt[stage] = c
        return
    k = base + c
    lk[k], lt[k], ls[k], lp[k], lst[k] = km, t, soc, parent, station
    cnt[stage] = c + 1


@njit(cache=True)
def best_stations(
    seq: np.ndarray,
    n: int,
    start_loc: int,
    end_loc: int,
    shift_start: float,
    shift_end: float,
    tt: np.ndarray,
    d: np.ndarray,
    job_loc: np.ndarray,
    w_start: np.ndarray,
    w_end: np.ndarray,
    service: np.ndarray,
    st_loc: np.ndarray,
    st_min_per_kwh: np.ndarray,
    capacity: float,
    soc0: float,
    reserve: float,
    rate: float,
    choice: np.ndarray,
    cut: np.ndarray,
    ub: float,
    par: np.ndarray,
    npar: np.ndarray,
) -> float:
    """Least km of the route start -> jobs ``seq[:n]`` (job indices) -> end with at most one station per arc,
    feasible in payload-free time and charge; ``choice[k]`` (k = 0..n) the station index on arc k or -1. inf
    (``choice`` undefined) when no placement is feasible. ``w_end`` without tolerance; ``rate`` [kWh/km],
    ``st_min_per_kwh`` charging minutes per kWh at each station; ``cut[0]`` counts labels dropped at
    ``MAX_LABELS``. Only routes shorter than ``ub`` [km] are of interest: inf when none is (labels whose km
    plus the customers' own remaining km reach it are dropped). ``par[a, b, :npar[a, b]]`` are the stations
    worth a stop between locations a and b (``pareto_stations``)."""
    # Latest departure from stage k for the rest to keep its windows and the shift end, stations left out
    # (exact without stations, optimistic with them: a station only makes arrivals later).
    # rem[k]: km from stage k to the end depot through the customers alone (a lower bound, triangle inequality).
    late = np.empty(n + 1)
    rem = np.empty(n + 1)
    nxt_loc = end_loc
    nxt_late = shift_end + EPS  # latest arrival at the next stop
    nxt_rem = 0.0
    for k in range(n, -1, -1):
        here = start_loc if k == 0 else job_loc[seq[k - 1]]
        late[k] = nxt_late - tt[here, nxt_loc]
        rem[k] = nxt_rem + d[here, nxt_loc]
        nxt_rem = rem[k]
        if k > 0:
            j = seq[k - 1]
            nxt_late = late[k] - service[j]
            if w_end[j] + EPS < nxt_late:
                nxt_late = w_end[j] + EPS
            nxt_loc = here
    # Plain scan: feasible in time (else nothing is) and, when also in charge, the answer.
    t = shift_start
    soc = soc0
    km = 0.0
    a = start_loc
    battery_ok = True
    for k in range(n + 1):
        if t > late[k] + EPS:
            return np.inf
        b = end_loc if k == n else job_loc[seq[k]]
        km += d[a, b]
        soc -= d[a, b] * rate
        if soc < reserve - EPS:
            battery_ok = False
        arrival = t + tt[a, b]
        if k < n:
            j = seq[k]
            if arrival > w_end[j] + EPS:
                return np.inf
            t = max(w_start[j], arrival) + service[j]
        elif arrival > shift_end + EPS:
            return np.inf
        a = b
    if km >= ub:
        return np.inf
    if battery_ok:
        for k in range(n + 1):
            choice[k] = -1
        return km
    stages = n + 2
    lk = np.empty(stages * MAX_LABELS)
    lt = np.empty(stages * MAX_LABELS)
    ls = np.empty(stages * MAX_LABELS)
    lp = np.empty(stages * MAX_LABELS, dtype=np.int64)
    lst = np.empty(stages * MAX_LABELS, dtype=np.int64)
    cnt = np.zeros(stages, dtype=np.int64)
    lk[0], lt[0], ls[0], lp[0], lst[0] = 0.0, shift_start, soc0, -1, -1
    cnt[0] = 1
    low = reserve - EPS
    for k in range(n + 1):
        a = start_loc if k == 0 else job_loc[seq[k - 1]]
        last = k == n
        if last:
            b = end_loc
            ws, we, serv = -np.inf, shift_end + EPS, 0.0
        else:
            j = seq[k]
            b = job_loc[j]
            ws, we, serv = w_start[j], w_end[j] + EPS, service[j]
        base = k * MAX_LABELS
        nbase = (k + 1) * MAX_LABELS
        for li in range(cnt[k]):
            i = base + li
            km0, t0, s0 = lk[i], lt[i], ls[i]
            if t0 > late[k] + EPS or km0 + rem[k] >= ub:
                continue
            # Enough charge for the rest without a station: driving on directly is shorter and no later than
            # any completion with one, so only the direct arc is kept.
            finish = s0 - rem[k] * rate >= low
            bound = ub - km0 - rem[k] + d[a, b]  # the arc's own km must stay below this
            # Direct.
            s1 = s0 - d[a, b] * rate
            arr = t0 + tt[a, b]
            if s1 >= low and arr <= we:
                dep = max(ws, arr) + serv
                _add_label(nbase, cnt, k + 1, km0 + d[a, b], dep, s1, i, -1, lk, lt, ls, lp, lst, cut)
            # Through one station.
            for q in range(0 if finish else npar[a, b]):
                s = par[a, b, q]
                sl = st_loc[s]
                if d[a, sl] + d[sl, b] >= bound:
                    continue
                sa = s0 - d[a, sl] * rate
                if sa < low:
                    continue
                s2 = capacity - d[sl, b] * rate
                if s2 < low:
                    continue
                arr = t0 + tt[a, sl] + (capacity - sa) * st_min_per_kwh[s] + tt[sl, b]
                if arr > we:
                    continue
                dep = max(ws, arr) + serv
                _add_label(
                    nbase, cnt, k + 1, km0 + d[a, sl] + d[sl, b], dep, s2, i, s, lk, lt, ls, lp, lst, cut
                )
        if cnt[k + 1] == 0:
            return np.inf
    fb = (n + 1) * MAX_LABELS
    best = fb
    for i in range(fb + 1, fb + cnt[n + 1]):
        if lk[i] < lk[best]:
            best = i
    i = best
    for k in range(n, -1, -1):
        choice[k] = lst[i]
        i = lp[i]
    return lk[best]


@njit(cache=True)
def pareto_stations(
    d: np.ndarray,
    tt: np.ndarray,
    st_loc: np.ndarray,
    st_min_per_kwh: np.ndarray,
    par: np.ndarray,
    npar: np.ndarray,
) -> None:
    """For every pair of locations (a, b): the stations no other station beats on the way from a to b, into
    ``par[a, b, :npar[a, b]]``. Station s' beats s when it is no farther from a and to b in km and in minutes
    and charges no slower: a stop at s' then arrives at s with at least the charge (more to spare), charges no
    longer (less to fill, no slower), reaches b no later, with no less charge and no more km, so a best
    placement never needs s (ties: the lower index stays)."""
    n = d.shape[0]
    m = st_loc.shape[0]
    for a in range(n):
        for b in range(n):
            c = 0
            for s in range(m):
                sl = st_loc[s]
                beaten = False
                for o in range(m):
                    if o == s:
                        continue
                    ol = st_loc[o]
                    if (
                        d[a, ol] <= d[a, sl]
                        and d[ol, b] <= d[sl, b]
                        and tt[a, ol] <= tt[a, sl]
                        and tt[ol, b] <= tt[sl, b]
                        and st_min_per_kwh[o] <= st_min_per_kwh[s]
                    ):
                        strict = (
                            d[a, ol] < d[a, sl]
                            or d[ol, b] < d[sl, b]
                            or tt[a, ol] < tt[a, sl]
                            or tt[ol, b] < tt[sl, b]
                            or st_min_per_kwh[o] < st_min_per_kwh[s]
                        )
                        if strict or o < s:
                            beaten = True
                            break
                if not beaten:
                    par[a, b, c] = s
                    c += 1
            npar[a, b] = c


@njit(cache=True)
def best_insertion(
    job: int,
    cand_route: np.ndarray,
    cand_pos: np.ndarray,
    cand_lb: np.ndarray,
    skip: np.ndarray,
    rows: np.ndarray,
    row_len: np.ndarray,
    kms: np.ndarray,
    vtype: np.ndarray,
    start_loc: np.ndarray,
    end_loc: np.ndarray,
    shift_start: np.ndarray,
    shift_end: np.ndarray,
    tt: np.ndarray,
    d: np.ndarray,
    job_loc: np.ndarray,
    w_start: np.ndarray,
    w_end: np.ndarray,
    service: np.ndarray,
    st_loc: np.ndarray,
    st_min_per_kwh: np.ndarray,
    capacity: np.ndarray,
    soc0: np.ndarray,
    reserve: np.ndarray,
    rate: np.ndarray,
    best_choice: np.ndarray,
    cut: np.ndarray,
    par: np.ndarray,
    npar: np.ndarray,
) -> tuple[int, float]:
    """The candidate (route ``cand_route[i]``, customer position ``cand_pos[i]``) whose route with ``job``
    inserted and its stations placed by ``best_stations`` grows least; candidates in ascending order of
    ``cand_lb``, a lower bound of that growth (stops once it reaches the best found), ``skip`` marks blinked
    ones. Returns (index or -1, growth [km]); the winner's stations in ``best_choice``. ``rows[r, :row_len[r]]``
    are route r's jobs; ``tt`` is per vehicle type (``vtype[r]``), as are the battery arrays."""
    best = np.inf
    bi = -1
    width = rows.shape[1] + 1
    buf = np.empty(width, dtype=np.int64)
    choice = np.empty(width + 1, dtype=np.int64)
    for i in range(cand_route.shape[0]):
        if cand_lb[i] >= best - TIE:
            break
        if skip[i]:
            continue
        r = cand_route[i]
        pos = cand_pos[i]
        n = row_len[r]
        for k in range(pos):
            buf[k] = rows[r, k]
        buf[pos] = job
        for k in range(pos, n):
            buf[k + 1] = rows[r, k]
        ty = vtype[r]
        km = best_stations(
            buf,
            n + 1,
            start_loc[r],
            end_loc[r],
            shift_start[r],
            shift_end[r],
            tt[ty],
            d,
            job_loc,
            w_start,
            w_end,
            service,
            st_loc,
            st_min_per_kwh[ty],
            capacity[ty],
            soc0[ty],
            reserve[ty],
            rate[ty],
            choice,
            cut,
            kms[r] + best - TIE,
            par[ty],
            npar[ty],
        )
        delta = km - kms[r]
        if delta < best:
            best = delta
            bi = i
            for k in range(n + 2):
                best_choice[k] = choice[k]
    return bi, best


@njit(cache=True)
def best_ejection(
    job: int,
    dem: float,
    rows: np.ndarray,
    row_len: np.ndarray,
    cand_rows: np.ndarray,
    payload: np.ndarray,
    pen: np.ndarray,
    max_eject: int,
    max_checks: int,
    vtype: np.ndarray,
    start_loc: np.ndarray,
    end_loc: np.ndarray,
    shift_start: np.ndarray,
    shift_end: np.ndarray,
    tt: np.ndarray,
    d: np.ndarray,
    job_loc: np.ndarray,
    w_start: np.ndarray,
    w_end: np.ndarray,
    service: np.ndarray,
    demand: np.ndarray,
    st_loc: np.ndarray,
    st_min_per_kwh: np.ndarray,
    capacity: np.ndarray,
    soc0: np.ndarray,
    reserve: np.ndarray,
    rate: np.ndarray,
    par: np.ndarray,
    npar: np.ndarray,
    best_choice: np.ndarray,
    cut: np.ndarray,
) -> tuple[int, int, int, int]:
    """``routing.eject._best_ejection`` with stations: over the routes ``cand_rows`` (rows of customers), the
    (route, customer position, first ejected index, second or -1) inserting ``job`` while ejecting one or two
    of that route's customers, in the order least total penalty, fewer ejected, least detour between
    customers; each candidate passes the payload and, stations left out, the windows and shift end (exact
    there, optimistic with stations), then the station DP decides, for at most ``max_checks`` candidates. The
    winner's stations in ``best_choice``; (-1, -1, -1, -1) if none."""
    # Enumerate (key, route, pos, i1, i2); key = (penalty * 2 + ejected - 1) * 1e7 + detour.
    total = 0
    for i in range(cand_rows.shape[0]):
        n = row_len[cand_rows[i]]
        pairs = n * (n - 1) // 2 if max_eject >= 2 else 0
        total += (n + 1) * (n + pairs)
    key = np.empty(total)
    cr = np.empty(total, dtype=np.int64)
    cp = np.empty(total, dtype=np.int64)
    c1 = np.empty(total, dtype=np.int64)
    c2 = np.empty(total, dtype=np.int64)
    m = 0
    jl = job_loc[job]
    for i in range(cand_rows.shape[0]):
        r = cand_rows[i]
        n = row_len[r]
        for pos in range(n + 1):
            a = start_loc[r] if pos == 0 else job_loc[rows[r, pos - 1]]
            b = end_loc[r] if pos == n else job_loc[rows[r, pos]]
            detour = d[a, jl] + d[jl, b] - d[a, b]
            for i1 in range(n):
                p1 = pen[rows[r, i1]]
                key[m] = (p1 * 2.0) * 1e7 + detour
                cr[m], cp[m], c1[m], c2[m] = r, pos, i1, -1
                m += 1
                if max_eject >= 2:
                    for i2 in range(i1 + 1, n):
                        key[m] = ((p1 + pen[rows[r, i2]]) * 2.0 + 1.0) * 1e7 + detour
                        cr[m], cp[m], c1[m], c2[m] = r, pos, i1, i2
                        m += 1
    order = np.argsort(key[:m], kind="mergesort")
    width = rows.shape[1] + 1
    buf = np.empty(width, dtype=np.int64)
    checks = 0
    for q in range(m):
        c = order[q]
        r, pos, i1, i2 = cr[c], cp[c], c1[c], c2[c]
        n = row_len[r]
        load = dem
        k = 0
        for x in range(n + 1):
            if x == pos:
                buf[k] = job
                k += 1
            if x < n and x != i1 and x != i2:
                buf[k] = rows[r, x]
                load += demand[rows[r, x]]
                k += 1
        if load > payload[r] + EPS:
            continue
        # Windows and shift end without stations.
        t = shift_start[r]
        at = start_loc[r]
        ok = True
        for x in range(k):
            lx = job_loc[buf[x]]
            arrival = t + tt[vtype[r], at, lx]
            if arrival > w_end[buf[x]] + EPS:
                ok = False
                break
            t = max(w_start[buf[x]], arrival) + service[buf[x]]
            at = lx
        if not ok or t + tt[vtype[r], at, end_loc[r]] > shift_end[r] + EPS:
            continue
        checks += 1
        ty = vtype[r]
        km = best_stations(
            buf,
            k,
            start_loc[r],
            end_loc[r],
            shift_start[r],
            shift_end[r],
            tt[ty],
            d,
            job_loc,
            w_start,
            w_end,
            service,
            st_loc,
            st_min_per_kwh[ty],
            capacity[ty],
            soc0[ty],
            reserve[ty],
            rate[ty],
            best_choice,
            cut,
            np.inf,
            par[ty],
            npar[ty],
        )
        if km < np.inf:
            return r, pos, i1, i2
        if checks >= max_checks:
            break
    return -1, -1, -1, -1


class StationPlacer:
    """Per-problem arrays of the DP; ``place`` gives a customer sequence its best stations."""

    def __init__(self, builder: Builder, vehicles: list[tuple[str, VehicleType]]):
        p = builder.p
        self.b = builder
        self.jobs = list(p.jobs)
        self.index = {j.id: k for k, j in enumerate(p.jobs)}
        self.job_loc = np.array([builder.loc[j.id] for j in p.jobs], dtype=np.int64)
        self.w_start = np.array([j.windows_sorted[0].start if j.time_windows else -math.inf for j in p.jobs])
        self.w_end = np.array([j.windows_sorted[-1].end if j.time_windows else math.inf for j in p.jobs])
        self.service = np.array([j.service_minutes for j in p.jobs], dtype=float)
        self.demand = np.array([j.demand_kg for j in p.jobs], dtype=float)
        self.stations = list(p.stations)
        self.st_loc = np.array([builder.sloc[s.id] for s in p.stations], dtype=np.int64)
        self.d = np.ascontiguousarray(builder.geo.dist, dtype=float)
        types = list(dict.fromkeys(vt.id for _, vt in vehicles))
        by_id = {vt.id: vt for _, vt in vehicles}
        self.type_index = {t: k for k, t in enumerate(types)}
        self.tt = np.stack([np.ascontiguousarray(builder.geo.time_by_type[t], dtype=float) for t in types])
        from routing.evaluate import charge_power_kw

        n_types = len(types)
        self.capacity = np.full(n_types, np.inf)
        self.soc0 = np.full(n_types, np.inf)
        self.reserve = np.zeros(n_types)
        self.rate = np.zeros(n_types)
        self.min_per_kwh = np.full((n_types, len(self.stations)), np.inf)
        for k, t in enumerate(types):
            bat = by_id[t].battery
            if bat is None:
                continue  # a diesel vehicle: no charge to keep, stations never help
            self.capacity[k] = bat.capacity_kwh
            self.soc0[k] = bat.initial_kwh
            self.reserve[k] = bat.reserve_kwh
            self.rate[k] = bat.consumption_empty_kwh_per_km
            self.min_per_kwh[k] = [60.0 / charge_power_kw(s, by_id[t]) for s in self.stations]
        self.vtype = np.array([self.type_index[vt.id] for _, vt in vehicles], dtype=np.int64)
        self.payload = np.array([vt.payload_kg for _, vt in vehicles], dtype=float)
        self.start_loc = np.array([builder.geo.loc(vt.start_depot) for _, vt in vehicles], dtype=np.int64)
        self.end_loc = np.array([builder.geo.loc(vt.end) for _, vt in vehicles], dtype=np.int64)
        self.shift_start = np.array([vt.shift_start for _, vt in vehicles], dtype=float)
        self.shift_end = np.array(
            [math.inf if vt.shift_end is None else vt.shift_end for _, vt in vehicles], dtype=float
        )
        self.cut = np.zeros(1, dtype=np.int64)
        n_loc, n_st = self.d.shape[0], len(self.stations)
        if n_loc * n_loc * n_st <= PARETO_MAX_ENTRIES:
            self.par = np.zeros((n_types, n_loc, n_loc, n_st), dtype=np.int16)
            self.npar = np.zeros((n_types, n_loc, n_loc), dtype=np.int64)
            for k in range(n_types):
                pareto_stations(
                    self.d, self.tt[k], self.st_loc, self.min_per_kwh[k], self.par[k], self.npar[k]
                )
        else:  # every station on every arc (broadcast views, no memory per pair)
            every = np.arange(n_st, dtype=np.int16)
            self.par = np.broadcast_to(every, (n_types, n_loc, n_loc, n_st))
            self.npar = np.broadcast_to(np.int64(n_st), (n_types, n_loc, n_loc))

    def best_insertion(
        self,
        job: Job,
        route: np.ndarray,
        pos: np.ndarray,
        lb: np.ndarray,
        skip: np.ndarray,
        rows: np.ndarray,
        row_len: np.ndarray,
        kms: np.ndarray,
    ) -> tuple[int, float, np.ndarray]:
        """``best_insertion`` (the kernel) for ``job``: (candidate index or -1, growth [km], stations per arc)."""
        choice = np.empty(rows.shape[1] + 2, dtype=np.int64)
        bi, delta = best_insertion(
            self.index[job.id],
            route,
            pos,
            lb,
            skip,
            rows,
            row_len,
            kms,
            self.vtype,
            self.start_loc,
            self.end_loc,
            self.shift_start,
            self.shift_end,
            self.tt,
            self.d,
            self.job_loc,
            self.w_start,
            self.w_end,
            self.service,
            self.st_loc,
            self.min_per_kwh,
            self.capacity,
            self.soc0,
            self.reserve,
            self.rate,
            choice,
            self.cut,
            self.par,
            self.npar,
        )
        return int(bi), float(delta), choice

    @classmethod
    def of(cls, builder: Builder, vehicles: list[tuple[str, VehicleType]]) -> StationPlacer:
        """The placer of ``builder`` for this vehicle list, kept on the builder (its tables take ~10 ms to
        build at 100 customers and 21 stations, and the solve asks for it in every phase)."""
        key = tuple((vid, id(vt)) for vid, vt in vehicles)
        kept = getattr(builder, "_station_placers", None)
        if kept is None:
            kept = builder._station_placers = {}  # type: ignore[attr-defined]
        placer = kept.get(key)
        if placer is None:
            placer = kept[key] = cls(builder, vehicles)
        return placer

    def ejection(
        self,
        job: Job,
        routes: list[list[Job | ChargingStation]],
        cand: list[int],
        pen: dict[str, int],
        max_eject: int,
        max_checks: int,
    ) -> tuple[int, list[Job | ChargingStation], list[Job]] | None:
        """The compiled ``best_ejection`` over ``routes`` (aligned with this placer's vehicles) restricted to
        the indices ``cand``: (route, its new visits, the ejected jobs) or None."""
        if not cand:
            return None
        jobs_of = {v: [x for x in routes[v] if isinstance(x, Job)] for v in cand}
        width = max(len(j) for j in jobs_of.values()) + 1
        rows = np.zeros((len(routes), width), dtype=np.int64)
        row_len = np.zeros(len(routes), dtype=np.int64)
        for v, jobs in jobs_of.items():
            rows[v, : len(jobs)] = [self.index[j.id] for j in jobs]
            row_len[v] = len(jobs)
        penalty = np.zeros(len(self.jobs))
        for jid, n in pen.items():
            penalty[self.index[jid]] = n
        choice = np.empty(width + 2, dtype=np.int64)
        r, pos, i1, i2 = best_ejection(
            self.index[job.id],
            float(job.demand_kg),
            rows,
            row_len,
            np.array(cand, dtype=np.int64),
            self.payload,
            penalty,
            max_eject,
            max_checks,
            self.vtype,
            self.start_loc,
            self.end_loc,
            self.shift_start,
            self.shift_end,
            self.tt,
            self.d,
            self.job_loc,
            self.w_start,
            self.w_end,
            self.service,
            self.demand,
            self.st_loc,
            self.min_per_kwh,
            self.capacity,
            self.soc0,
            self.reserve,
            self.rate,
            self.par,
            self.npar,
            choice,
            self.cut,
        )
        if r < 0:
            return None
        cur = jobs_of[int(r)]
        out = [cur[i1]] + ([cur[i2]] if i2 >= 0 else [])
        new = [x for x in cur if x is not out[0] and (len(out) < 2 or x is not out[1])]
        new.insert(int(pos) - sum(1 for i in (i1, i2) if 0 <= i < pos), job)
        return int(r), self.visits(new, choice), out

    @staticmethod
    def usable(builder: Builder, vehicles: list[tuple[str, VehicleType]]) -> bool:
        """The DP's rules are the problem's (module docstring)."""
        p, geo = builder.p, builder.geo
        if not p.stations or p.recharge_policy is not RechargePolicy.FULL:
            return False
        if geo.freeflow_by_type is not None or geo.access is not None:
            return False
        if any(len(j.time_windows) > 1 for j in p.jobs):
            return False
        for _, vt in vehicles:
            if vt.max_duration_minutes is not None:
                return False
            bat = vt.battery
            if bat is not None and bat.full_rate != bat.consumption_empty_kwh_per_km:
                return False
        return any(vt.battery is not None for _, vt in vehicles)

    def fill(self, tables: K.RouteTables, v: int, idx: np.ndarray) -> float:
        """Compiled slack tables (``routing.kernels.fill_row``) of vehicle ``v``'s customers ``idx`` (job
        indices) alone, into row ``v``; returns their km without stations."""
        locs = self.job_loc[idx]
        a, b = int(self.start_loc[v]), int(self.end_loc[v])
        K.fill_row(
            v,
            locs,
            idx,
            a,
            b,
            float(self.shift_start[v]),
            float(self.shift_end[v]),
            self.tt[self.vtype[v]],
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
        if locs.shape[0] == 0:
            return float(self.d[a, b])
        return float(self.d[a, locs[0]] + self.d[locs[:-1], locs[1:]].sum() + self.d[locs[-1], b])

    def visits(self, jobs: list[Job], choice: np.ndarray) -> list[Job | ChargingStation]:
        """Customers with the stations of ``choice`` (one per arc, -1 for none) between them."""
        out: list[Job | ChargingStation] = []
        for k, j in enumerate(jobs):
            if choice[k] >= 0:
                out.append(self.stations[int(choice[k])])
            out.append(j)
        if choice[len(jobs)] >= 0:
            out.append(self.stations[int(choice[len(jobs)])])
        return out

    def place(self, v: int, jobs: list[Job]) -> tuple[list[Job | ChargingStation], float] | None:
        """``jobs`` in this order on vehicle ``v`` (index into the vehicle list) with the stations of least
        km, and that km; None when no placement with at most one station per arc is feasible."""
        seq = np.array([self.index[j.id] for j in jobs], dtype=np.int64)
        choice = np.empty(len(jobs) + 1, dtype=np.int64)
        ty = int(self.vtype[v])
        km = best_stations(
            seq,
            len(jobs),
            int(self.start_loc[v]),
            int(self.end_loc[v]),
            float(self.shift_start[v]),
            float(self.shift_end[v]),
            self.tt[ty],
            self.d,
            self.job_loc,
            self.w_start,
            self.w_end,
            self.service,
            self.st_loc,
            self.min_per_kwh[ty],
            float(self.capacity[ty]),
            float(self.soc0[ty]),
            float(self.reserve[ty]),
            float(self.rate[ty]),
            choice,
            self.cut,
            np.inf,
            self.par[ty],
            self.npar[ty],
        )
        if not math.isfinite(km):
            return None
        return self.visits(jobs, choice), km


def _warm() -> None:
    """Compile (or load from numba's cache) at import, not inside a solve's time limit."""
    one = np.zeros(1)
    z1 = np.zeros(1, dtype=np.int64)
    tt = np.zeros((1, 2, 2))
    best_insertion(
        0,
        z1,
        z1,
        one,
        np.ones(1, dtype=bool),
        np.zeros((1, 2), dtype=np.int64),
        z1,
        one,
        z1,
        z1,
        z1,
        one,
        one + 1.0,
        tt,
        tt[0],
        z1,
        one,
        one + 1.0,
        one,
        z1,
        np.ones((1, 1)),
        one + 1.0,
        one + 1.0,
        one,
        one,
        np.zeros(4, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        np.zeros((1, 2, 2, 1), dtype=np.int16),
        np.zeros((1, 2, 2), dtype=np.int64),
    )
    pareto_stations(
        tt[0], tt[0], z1, one, np.zeros((2, 2, 1), dtype=np.int16), np.zeros((2, 2), dtype=np.int64)
    )
    best_ejection(
        0,
        0.0,
        np.zeros((1, 2), dtype=np.int64),
        z1,
        z1,
        one,
        one,
        2,
        1,
        z1,
        z1,
        z1,
        one,
        one + 1.0,
        tt,
        tt[0],
        z1,
        one,
        one + 1.0,
        one,
        one,
        z1,
        np.ones((1, 1)),
        one + 1.0,
        one + 1.0,
        one,
        one,
        np.zeros((1, 2, 2, 1), dtype=np.int16),
        np.zeros((1, 2, 2), dtype=np.int64),
        np.zeros(4, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
    )
    best_stations(
        z1,
        1,
        0,
        0,
        0.0,
        1.0,
        tt[0],
        tt[0],
        z1,
        one,
        one + 1.0,
        one,
        z1,
        one,
        1.0,
        1.0,
        0.0,
        0.0,
        np.zeros(2, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        np.inf,
        np.zeros((2, 2, 1), dtype=np.int16),
        np.zeros((2, 2), dtype=np.int64),
    )


_warm()
