"""Compiled search for plain VRPTW (numba): Slack Induction by String Removals and a granular local search.

"Plain" (``routing.plain.plain_reason``): one vehicle type, at most one time window per job, no stations or
battery, no breaks or reloads, no time-dependent travel, no zones. On those problems the general path's Python
ruin-and-recreate made ~2,000-5,000 iterations per CPU second at 200 customers (docs/routing-scale.md); this
module runs the whole iteration in compiled code over flat arrays.

Search: SISR (Christiaens & Vanden Berghe 2020, "Slack Induction by String Removals for Vehicle Routing
Problems", Transportation Science 54(2):417-433): adjacent string removal (string or split-string) around a
random seed customer, greedy insertion with blinks in one of four orders, simulated-annealing acceptance on
distance; fleet minimisation with absent-customer counters (the paper's fleet phase). A queue-free granular
local search (relocate, swap, 2-opt*; Toth & Vigo's granular neighbourhoods, as HGS/PyVRP use them) polishes
new best solutions.

Why one module: numba's on-disk cache (``cache=True``) keys a kernel on its own source file only; a kernel
that calls a kernel of another module would keep a stale inlined copy after that module changes. Every kernel
that calls another lives here.

Inlining. The small tests called once per position or neighbour (``_fits``, ``_scan_route``, ``_removal_ok``,
``_replace_ok``, ``_two_opt_star``, ``_path_ok``) are inlined by numba (``inline="always"``): a call passes the
state tuples. Homberger R2_2_1 at 20,000 iterations, same plans: the search's own CPU 0.95x inlined (4,376 ->
4,624 and 4,463 -> 4,726 iterations per CPU s, two pairs, machine loaded: `evfleet bench routing-lns
<bench>/homberger/200/R2_2_1.txt --iterations 20000`, row "plain SISR + LS", at f85fcf7 and at
9683c46); the 0.83x first quoted was the whole process's CPU (median of 4 pairs), which counts more than the
search. Inlining the larger ones as well (``refresh``, ``best_position``, ...) gained nothing measurable and
made the cold compile 35 s instead of 25.

Data layout. Node 0 is the depot, nodes 1..n the jobs. A solution is a set of route slots ``r``: ``seq[r, k]``
is the node at position ``k`` (0 and ``lens[r] + 1`` are the depot), ``E[r, k]`` the earliest service start
there, ``L[r, k]`` the latest service start that keeps the rest of the route on time (forward and backward time
window data: testing an insertion or a move is O(1)), ``load[r]`` [kg], ``rdist[r]`` [km]; ``route_of[c]`` /
``pos_of[c]`` place job ``c`` (-1: absent). Times [min], distances [km], loads [kg].
"""

from __future__ import annotations

import numpy as np
from numba import njit

TOL = 1e-9
"""Slack kept on every time comparison [min]: the checker's tolerance is 1e-6, so float sums may differ a little."""

# Parameters (``par`` array), SISR's values (Christiaens & Vanden Berghe 2020, Table 6).
P_CBAR, P_LMAX, P_SPLIT, P_DEPTH, P_BLINK, P_T0, P_TF, P_LONG, P_RUIN_MAX, P_KINS = (
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
)
N_PAR = 10
"""``P_LONG``, ``P_RUIN_MAX``: on long routes the removed-jobs average and the longest string grow to ``P_LONG``
times the average route length, at most ``P_RUIN_MAX`` (SISR's 10 and 10 left Homberger R2_2_1, 4 routes of 50
jobs, at +8 % after 30 CPU s; 30 and 30 reached +1.2 %). ``P_KINS``: see ``best_position``."""


@njit(cache=True)
def seed_rng(seed: int) -> None:
    """Seed numba's generator (separate from NumPy's)."""
    np.random.seed(seed)


@njit(cache=True)
def refresh(r, S, D):
    """Recompute route ``r``'s forward/backward time data, loads and distance, and its jobs' places."""
    seq, lens, E, L, load, rdist, route_of, pos_of, cum = S
    dist, tt, ready, due, svc, dem = D[0], D[1], D[2], D[3], D[4], D[5]
    m = lens[r]
    seq[r, 0] = 0
    seq[r, m + 1] = 0
    E[r, 0] = ready[0]
    cum[r, 0] = 0.0
    ld = 0.0
    dd = 0.0
    for k in range(1, m + 2):
        p = seq[r, k - 1]
        c = seq[r, k]
        a = E[r, k - 1] + svc[p] + tt[p, c]
        E[r, k] = max(ready[c], a)
        dd += dist[p, c]
        if k <= m:
            ld += dem[c]
            route_of[c] = r
            pos_of[c] = k
        cum[r, k] = ld
    L[r, m + 1] = due[0]
    for k in range(m, -1, -1):
        c = seq[r, k]
        q = seq[r, k + 1]
        lt = L[r, k + 1] - svc[c] - tt[c, q]
        L[r, k] = min(due[c], lt)
    load[r] = ld
    rdist[r] = dd


@njit(cache=True)
def route_ok(r, S) -> bool:
    """Whether route ``r`` is on time everywhere."""
    lens, E, L = S[1], S[2], S[3]
    for k in range(lens[r] + 2):  # noqa: SIM110 (numba compiles no generator expressions)
        if E[r, k] > L[r, k] + TOL:
            return False
    return True


@njit(cache=True)
def _insert_at(r, k, c, seq, lens):
    """Put job ``c`` at position ``k`` of route ``r`` (shifting the rest); the caller refreshes."""
    m = lens[r]
    for i in range(m + 1, k - 1, -1):
        seq[r, i + 1] = seq[r, i]
    seq[r, k] = c
    lens[r] = m + 1


@njit(cache=True)
def _compact(r, seq, lens, route_of):
    """Drop from route ``r`` the jobs whose ``route_of`` is no longer ``r``."""
    m = lens[r]
    w = 1
    for k in range(1, m + 1):
        c = seq[r, k]
        if route_of[c] == r:
            seq[r, w] = c
            w += 1
    lens[r] = w - 1
    seq[r, w] = 0


@njit(cache=True, inline="always")
def _fits(S, D, r, k, c) -> bool:
    """Whether job ``c`` fits on time between positions ``k - 1`` and ``k`` of route ``r`` (load not tested)."""
    seq, E, L = S[0], S[2], S[3]
    tt, ready, due, svc = D[1], D[2], D[3], D[4]
    p = seq[r, k - 1]
    q = seq[r, k]
    a = E[r, k - 1] + svc[p] + tt[p, c]
    if a > due[c] + TOL:
        return False
    s = max(ready[c], a)
    return s + svc[c] + tt[c, q] <= L[r, k] + TOL


@njit(cache=True, inline="always")
def _scan_route(c, r, S, D, blink, best_r, best_k, best_d):
    """``best_position`` on route ``r`` alone, keeping the best so far."""
    seq, lens, E, L = S[0], S[1], S[2], S[3]
    dist, tt, ready, due, svc = D[0], D[1], D[2], D[3], D[4]
    for k in range(1, lens[r] + 2):
        p = seq[r, k - 1]
        dep = E[r, k - 1] + svc[p]
        if dep > due[c] + TOL:
            break  # departures only grow along the route
        if blink > 0.0 and np.random.random() < blink:
            continue
        q = seq[r, k]
        dd = dist[p, c] + dist[c, q] - dist[p, q]
        if dd >= best_d:
            continue
        a = dep + tt[p, c]
        if a > due[c] + TOL:
            continue
        s = max(ready[c], a)
        if s + svc[c] + tt[c, q] > L[r, k] + TOL:
            continue
        best_r = r
        best_k = k
        best_d = dd
    return best_r, best_k, best_d


@njit(cache=True)
def best_position(c, S, D, nslots, blink, kins, mark, tick):
    """Cheapest feasible insertion of job ``c`` (``blink``: chance to skip a position, SISR's blinks).
    Returns (route, position, added km); route -1 when there is none.

    ``kins`` > 0 (large instances): first only the routes of ``c``'s ``kins`` nearest jobs, every route only when
    none of those has a place (``mark``/``tick``: per-route stamps of this scan). At 1,000 customers and 100
    routes the full scan made SISR's iteration 10x slower than at 200."""
    lens, load, route_of = S[1], S[4], S[6]
    dem, cap, neigh = D[5], D[6], D[7]
    best_r = -1
    best_k = -1
    best_d = np.inf
    if dem[c] > cap + TOL:
        return best_r, best_k, best_d
    tick[0] += 1
    t = tick[0]
    if kins > 0:
        for j in range(min(kins, neigh.shape[1])):
            r = route_of[neigh[c, j]]
            if r < 0 or mark[r] == t:
                continue
            mark[r] = t
            if lens[r] > 0 and load[r] + dem[c] <= cap + TOL:
                best_r, best_k, best_d = _scan_route(c, r, S, D, blink, best_r, best_k, best_d)
        if best_r >= 0:
            return best_r, best_k, best_d
    for r in range(nslots):
        if mark[r] == t or lens[r] == 0 or load[r] + dem[c] > cap + TOL:
            continue
        best_r, best_k, best_d = _scan_route(c, r, S, D, blink, best_r, best_k, best_d)
    return best_r, best_k, best_d


@njit(cache=True)
def _direct_ok(c, D) -> bool:
    tt, ready, due, svc, dem, cap = D[1], D[2], D[3], D[4], D[5], D[6]
    a = ready[0] + tt[0, c]
    s = max(ready[c], a)
    return s <= due[c] + TOL and s + svc[c] + tt[c, 0] <= due[0] + TOL and dem[c] <= cap + TOL


@njit(cache=True)
def used_routes(lens, nslots) -> int:
    u = 0
    for r in range(nslots):
        if lens[r] > 0:
            u += 1
    return u


@njit(cache=True)
def _mark(r, touched, istouched, nt):
    if not istouched[r]:
        istouched[r] = True
        touched[nt] = r
        return nt + 1
    return nt


@njit(cache=True)
def _copy_best(seq, lens, bseq, blens, nslots):
    """Copy every route's node sequence into the best plan's (B keeps sequences only; it is rebuilt when read)."""
    for r in range(nslots):
        mm = max(lens[r], blens[r]) + 2
        for k in range(mm):
            bseq[r, k] = seq[r, k]
        blens[r] = lens[r]


@njit(cache=True)
def _copy_routes(touched, nt, src, dst):
    sseq, slens, sE, sL, sload, srdist, sroute_of, spos_of, scum = src
    seq, lens, E, L, load, rdist, route_of, pos_of, cum = dst
    for i in range(nt):
        r = touched[i]
        m = max(slens[r], lens[r]) + 2
        for k in range(m):
            seq[r, k] = sseq[r, k]
            E[r, k] = sE[r, k]
            L[r, k] = sL[r, k]
            cum[r, k] = scum[r, k]
        lens[r] = slens[r]
        load[r] = sload[r]
        rdist[r] = srdist[r]
    route_of[:] = sroute_of
    pos_of[:] = spos_of


# ------------------------------------------------------------------------------------------------------------
# Local search: inter-route relocate, swap and 2-opt* over granular neighbourhoods, driven by a queue of the
# jobs of routes that changed (only those are examined again, as PyVRP's search does).
# ------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _two_opt_star(S, D, ra, ia, rb, ib):
    """Gain (km, negative = shorter) of ``ra[..ia] + rb[ib..]`` and ``rb[..ib-1] + ra[ia+1..]``, or +inf when
    either new route is late or over payload. Positions: ``ia`` in 1..lens[ra], ``ib`` in 1..lens[rb]+1."""
    seq, E, L, load, cum = S[0], S[2], S[3], S[4], S[8]
    dist, tt, svc, cap = D[0], D[1], D[4], D[6]
    u = seq[ra, ia]
    x = seq[ra, ia + 1]
    w = seq[rb, ib - 1]
    v = seq[rb, ib]
    delta = dist[u, v] + dist[w, x] - dist[u, x] - dist[w, v]
    if delta >= -1e-9:
        return np.inf
    if cum[ra, ia] + load[rb] - cum[rb, ib - 1] > cap + TOL:
        return np.inf
    if cum[rb, ib - 1] + load[ra] - cum[ra, ia] > cap + TOL:
        return np.inf
    if E[ra, ia] + svc[u] + tt[u, v] > L[rb, ib] + TOL:
        return np.inf
    if E[rb, ib - 1] + svc[w] + tt[w, x] > L[ra, ia + 1] + TOL:
        return np.inf
    return delta


@njit(cache=True)
def _apply_two_opt_star(S, ra, ia, rb, ib, buf):
    seq, lens = S[0], S[1]
    ma = lens[ra]
    mb = lens[rb]
    nt = 0
    for k in range(ia + 1, ma + 1):  # ra's tail
        buf[nt] = seq[ra, k]
        nt += 1
    w = ia + 1
    for k in range(ib, mb + 1):  # rb's tail joins ra
        seq[ra, w] = seq[rb, k]
        w += 1
    lens[ra] = w - 1
    seq[ra, w] = 0
    w = ib
    for k in range(nt):
        seq[rb, w] = buf[k]
        w += 1
    lens[rb] = w - 1
    seq[rb, w] = 0


@njit(cache=True, inline="always")
def _removal_ok(S, D, r, k) -> bool:
    seq, E, L = S[0], S[2], S[3]
    tt, svc = D[1], D[4]
    p = seq[r, k - 1]
    q = seq[r, k + 1]
    return E[r, k - 1] + svc[p] + tt[p, q] <= L[r, k + 1] + TOL


@njit(cache=True, inline="always")
def _replace_ok(S, D, r, k, c) -> bool:
    """Whether job ``c`` fits on time in place of the job at position ``k`` of route ``r``."""
    seq, E, L = S[0], S[2], S[3]
    tt, ready, due, svc = D[1], D[2], D[3], D[4]
    p = seq[r, k - 1]
    q = seq[r, k + 1]
    a = E[r, k - 1] + svc[p] + tt[p, c]
    if a > due[c] + TOL:
        return False
    s = max(ready[c], a)
    return s + svc[c] + tt[c, q] <= L[r, k + 1] + TOL


@njit(cache=True, inline="always")
def _path_ok(S, D, r, a, buf, nb, b) -> bool:
    """Whether route ``r`` stays on time when positions ``a``..``b - 1`` are replaced by ``buf[:nb]``
    (O(nb): forward from ``a - 1``, then against the latest start at ``b``)."""
    seq, E, L = S[0], S[2], S[3]
    tt, ready, due, svc = D[1], D[2], D[3], D[4]
    p = seq[r, a - 1]
    t = E[r, a - 1]
    for i in range(nb):
        c = buf[i]
        t = t + svc[p] + tt[p, c]
        if t > due[c] + TOL:
            return False
        if t < ready[c]:
            t = ready[c]
        p = c
    return t + svc[p] + tt[p, seq[r, b]] <= L[r, b] + TOL


@njit(cache=True)
def _improve_intra(u, v, S, D, buf):
    """Intra-route relocate of ``u`` after ``v`` and 2-opt between them (``u``, ``v`` on the same route):
    first improving one applied; True if one was."""
    seq, pos_of, route_of = S[0], S[7], S[6]
    dist = D[0]
    r = route_of[u]
    pu = pos_of[u]
    pv = pos_of[v]
    up = seq[r, pu - 1]
    un = seq[r, pu + 1]
    vn = seq[r, pv + 1]
    # relocate u after v
    if vn != u:
        d = dist[up, un] - dist[up, u] - dist[u, un] + dist[v, u] + dist[u, vn] - dist[v, vn]
        if d < -1e-9:
            if pu < pv:
                nb = 0
                for k in range(pu + 1, pv + 1):
                    buf[nb] = seq[r, k]
                    nb += 1
                buf[nb] = u
                nb += 1
                a = pu
            else:
                buf[0] = u
                nb = 1
                for k in range(pv + 1, pu):
                    buf[nb] = seq[r, k]
                    nb += 1
                a = pv + 1
            if _path_ok(S, D, r, a, buf, nb, a + nb):
                for i in range(nb):
                    seq[r, a + i] = buf[i]
                return True
    # 2-opt: u -> v with the part between reversed
    if pu < pv:
        i, j = pu + 1, pv
    else:
        i, j = pv + 1, pu
    if j - i >= 1:
        a_ = seq[r, i - 1]
        b_ = seq[r, j + 1]
        d = dist[a_, seq[r, j]] + dist[seq[r, i], b_] - dist[a_, seq[r, i]] - dist[seq[r, j], b_]
        for k in range(i, j):
            d += dist[seq[r, k + 1], seq[r, k]] - dist[seq[r, k], seq[r, k + 1]]
        if d < -1e-9:
            nb = 0
            for k in range(j, i - 1, -1):
                buf[nb] = seq[r, k]
                nb += 1
            if _path_ok(S, D, r, i, buf, nb, j + 1):
                for k in range(nb):
                    seq[r, i + k] = buf[k]
                return True
    return False


@njit(cache=True)
def _improve_job(u, S, D, G, buf):
    """First improving inter-route move around job ``u`` with its ``G`` nearest jobs; applied. Returns the two
    changed routes, (-1, -1) when none improves."""
    seq, lens, load, route_of, pos_of = S[0], S[1], S[4], S[6], S[7]
    dist, dem, cap, neigh = D[0], D[5], D[6], D[7]
    g = min(G, neigh.shape[1])
    for j in range(g):
        ru = route_of[u]
        pu = pos_of[u]
        v = neigh[u, j]
        rv = route_of[v]
        if rv < 0:
            continue
        if rv == ru:
            if _improve_intra(u, v, S, D, buf):
                return ru, ru
            continue
        pv = pos_of[v]
        up = seq[ru, pu - 1]
        un = seq[ru, pu + 1]
        vp = seq[rv, pv - 1]
        vn = seq[rv, pv + 1]
        rem_u = dist[up, un] - dist[up, u] - dist[u, un]
        # relocate u next to v (after, then before); then the mirror image. Kept as two written-out blocks: one
        # helper called twice (2026-12-06) gave the same plans but 1.4-1.9x the CPU per iteration (numba did not
        # inline it, and each call passed the state tuples).
        if load[rv] + dem[u] <= cap + TOL and _removal_ok(S, D, ru, pu):
            d_after = rem_u + dist[v, u] + dist[u, vn] - dist[v, vn]
            if d_after < -1e-9 and _fits(S, D, rv, pv + 1, u):
                route_of[u] = -1
                _compact(ru, seq, lens, route_of)
                _insert_at(rv, pv + 1, u, seq, lens)
                return ru, rv
            d_before = rem_u + dist[vp, u] + dist[u, v] - dist[vp, v]
            if d_before < -1e-9 and _fits(S, D, rv, pv, u):
                route_of[u] = -1
                _compact(ru, seq, lens, route_of)
                _insert_at(rv, pv, u, seq, lens)
                return ru, rv
        # relocate v next to u (after, then before)
        rem_v = dist[vp, vn] - dist[vp, v] - dist[v, vn]
        if load[ru] + dem[v] <= cap + TOL and _removal_ok(S, D, rv, pv):
            d_after = rem_v + dist[u, v] + dist[v, un] - dist[u, un]
            if d_after < -1e-9 and _fits(S, D, ru, pu + 1, v):
                route_of[v] = -1
                _compact(rv, seq, lens, route_of)
                _insert_at(ru, pu + 1, v, seq, lens)
                return ru, rv
            d_before = rem_v + dist[up, v] + dist[v, u] - dist[up, u]
            if d_before < -1e-9 and _fits(S, D, ru, pu, v):
                route_of[v] = -1
                _compact(rv, seq, lens, route_of)
                _insert_at(ru, pu, v, seq, lens)
                return ru, rv
        # swap u and v
        d_swap = (
            dist[up, v]
            + dist[v, un]
            - dist[up, u]
            - dist[u, un]
            + dist[vp, u]
            + dist[u, vn]
            - dist[vp, v]
            - dist[v, vn]
        )
        if (
            d_swap < -1e-9
            and load[ru] - dem[u] + dem[v] <= cap + TOL
            and load[rv] - dem[v] + dem[u] <= cap + TOL
            and _replace_ok(S, D, ru, pu, v)
            and _replace_ok(S, D, rv, pv, u)
        ):
            seq[ru, pu] = v
            seq[rv, pv] = u
            return ru, rv
        # 2-opt*: u then v, and v then u
        if _two_opt_star(S, D, ru, pu, rv, pv) < 0.0:
            _apply_two_opt_star(S, ru, pu, rv, pv, buf)
            return ru, rv
        if _two_opt_star(S, D, rv, pv, ru, pu) < 0.0:
            _apply_two_opt_star(S, rv, pv, ru, pu, buf)
            return ru, rv
    return -1, -1


@njit(cache=True)
def local_search(S, D, nslots, touched, istouched, nt, G, queue, inq, buf):
    """Improve ``S`` in place from the jobs of the ``nt`` routes in ``touched``; routes it changes are added to
    ``touched``. Returns the new ``nt``."""
    seq, lens, route_of = S[0], S[1], S[6]
    n = route_of.shape[0] - 1
    size = n + 1
    qh = 0
    qt = 0
    for i in range(nt):
        r = touched[i]
        for k in range(1, lens[r] + 1):
            c = seq[r, k]
            if not inq[c]:
                inq[c] = True
                queue[qt % size] = c
                qt += 1
    while qh < qt:
        u = queue[qh % size]
        qh += 1
        inq[u] = False
        if route_of[u] < 0:
            continue
        ra, rb = _improve_job(u, S, D, G, buf)
        if ra < 0:
            continue
        refresh(ra, S, D)
        nt = _mark(ra, touched, istouched, nt)
        if rb != ra:
            refresh(rb, S, D)
            nt = _mark(rb, touched, istouched, nt)
        for r in (ra, rb):
            for k in range(1, lens[r] + 1):
                c = seq[r, k]
                if not inq[c]:
                    inq[c] = True
                    queue[qt % size] = c
                    qt += 1
    return nt


@njit(cache=True)
def _ruin(seq, lens, route_of, pos_of, neigh, par, nslots, removed, touched, istouched):
    """SISR's adjacent string removal around a random seed job (string or split string per route, at most
    ``ks`` routes); the removed jobs go to ``removed`` (route_of -1, still in ``seq``), their routes to
    ``touched``. Returns (jobs removed, routes touched); routes touched -1 when every route is empty. One call
    per iteration: the call's cost is nothing beside the iteration's."""
    n = route_of.shape[0] - 1
    nn = neigh.shape[1]
    cbar = par[P_CBAR]
    lmax = par[P_LMAX]
    nt = 0
    used = 0
    tot = 0
    for r in range(nslots):
        if lens[r] > 0:
            used += 1
            tot += lens[r]
    if used == 0:
        return 0, -1
    avg = tot / used
    grow = min(par[P_RUIN_MAX], par[P_LONG] * avg)
    cb = max(cbar, grow)
    ls_max = min(max(lmax, grow), avg)
    ks_max = 4.0 * cb / (1.0 + ls_max) - 1.0
    ks = int(np.random.random() * ks_max) + 1
    nrem = 0
    seedc = 1 + int(np.random.random() * n)
    tries = 0
    while route_of[seedc] < 0 and tries < 4 * n:
        seedc = 1 + int(np.random.random() * n)
        tries += 1
    nruined = 0
    for j in range(-1, nn):
        if nruined >= ks:
            break
        c = seedc if j < 0 else neigh[seedc, j]
        r = route_of[c]
        if r < 0 or istouched[r]:
            continue
        m = lens[r]
        lmax_t = min(float(m), ls_max)
        ell = int(np.random.random() * lmax_t) + 1
        if ell > m:
            ell = m
        pos = pos_of[c]
        if ell < m and np.random.random() < par[P_SPLIT]:
            # split string: ell + keep jobs around c, of which a sub-string of `keep` stays
            keep = 1
            while ell + keep < m and np.random.random() > par[P_DEPTH]:
                keep += 1
            span = ell + keep
            lo = max(1, pos - span + 1)
            hi = min(pos, m - span + 1)
            a = lo + int(np.random.random() * (hi - lo + 1))
            kstart = a + int(np.random.random() * (ell + 1))
            for k in range(a, a + span):
                if k >= kstart and k < kstart + keep:
                    continue
                cc = seq[r, k]
                route_of[cc] = -1
                removed[nrem] = cc
                nrem += 1
        else:
            lo = max(1, pos - ell + 1)
            hi = min(pos, m - ell + 1)
            a = lo + int(np.random.random() * (hi - lo + 1))
            for k in range(a, a + ell):
                cc = seq[r, k]
                route_of[cc] = -1
                removed[nrem] = cc
                nrem += 1
        nt = _mark(r, touched, istouched, nt)
        nruined += 1
    return nrem, nt


@njit(cache=True)
def _insertion_order(removed, nrem, key, dist, dem):
    """SISR's four orders for the recreate (weights 4, 4, 2, 1): random, largest demand first, farthest from
    the depot first, closest first. Returns indices into ``removed[:nrem]``."""
    u = np.random.random() * 11.0
    for i in range(nrem):
        c = removed[i]
        if u < 4.0:
            key[i] = np.random.random()
        elif u < 8.0:
            key[i] = -dem[c]
        elif u < 10.0:
            key[i] = -dist[0, c]
        else:
            key[i] = dist[0, c]
    return np.argsort(key[:nrem])


@njit(cache=True)
def sisr_chunk(W, C, B, D, par, ctrl, fctrl, absent_w, absent_c, abscnt, n_iter, prog0, prog1):
    """Run ``n_iter`` SISR iterations; the temperature follows ``prog0`` -> ``prog1`` of the run.

    ``W``/``C``/``B``: working, current and best solutions, each the tuple ``(seq, lens, E, L, load, rdist,
    route_of, pos_of, cum)`` (``cum[r, k]``: load delivered up to position ``k``); ``W`` equals ``C`` on entry
    and exit; of ``B`` only ``seq``/``lens`` are kept. ``D`` = ``(dist, tt, ready, due, svc, dem, cap, neigh)``.
    ``ctrl`` (int64): [0] mode (0 distance, 1 fleet), [1] route slots, [2] most routes allowed, [3] hierarchical
    (1: fewer routes first), [4] absent count of W, [5] absent count of C, [6] fleet target, [7] iterations
    done (added to), [8] best improvements (added to), [9] set to 1 when the fleet target is reached, [10] best's
    route count, [11] local search granularity (0: off). ``fctrl`` (float64): [0] current km, [1] best km.
    """
    seq, lens, rdist, route_of, pos_of = W[0], W[1], W[5], W[6], W[7]
    cseq, clens, crdist = C[0], C[1], C[5]
    bseq, blens = B[0], B[1]
    dist, dem, neigh = D[0], D[5], D[7]
    n = dem.shape[0] - 1
    nslots = ctrl[1]
    mode = ctrl[0]
    hier = ctrl[3]
    G = ctrl[11]
    t0 = par[P_T0]
    tf = par[P_TF]
    blink = par[P_BLINK]
    touched = np.empty(nslots, np.int64)
    istouched = np.zeros(nslots, np.bool_)
    removed = np.empty(n + 1, np.int64)
    key = np.empty(n + 1, np.float64)
    queue = np.empty(n + 1, np.int64)
    inq = np.zeros(n + 1, np.bool_)
    buf = np.empty(n + 2, np.int64)
    mark = np.zeros(nslots, np.int64)
    tick = np.zeros(1, np.int64)
    kins = int(par[P_KINS])
    for it in range(n_iter):
        prog = prog0 + (prog1 - prog0) * it / max(1, n_iter)
        temp = t0 * (tf / t0) ** prog
        # ---- ruin: adjacent string removal ----
        nrem, nt = _ruin(seq, lens, route_of, pos_of, neigh, par, nslots, removed, touched, istouched)
        if nt < 0:
            break
        for i in range(nt):
            r = touched[i]
            _compact(r, seq, lens, route_of)
            refresh(r, W, D)
        # absent jobs are inserted again with the removed ones
        for i in range(ctrl[4]):
            removed[nrem] = absent_w[i]
            nrem += 1
        # ---- recreate: greedy insertion with blinks, in one of four orders (weights 4, 4, 2, 1) ----
        order = _insertion_order(removed, nrem, key, dist, dem)
        na = 0
        failed = False
        used = 0
        for r in range(nslots):
            if lens[r] > 0:
                used += 1
        for oi in range(nrem):
            c = removed[order[oi]]
            br, bk, _ = best_position(c, W, D, nslots, blink, kins, mark, tick)
            if br < 0 and mode == 0 and used < ctrl[2] and _direct_ok(c, D):
                for r in range(nslots):
                    if lens[r] == 0:
                        br = r
                        bk = 1
                        used += 1
                        break
            if br < 0:
                if mode == 0:
                    failed = True
                absent_w[na] = c
                na += 1
                route_of[c] = -1
                continue
            _insert_at(br, bk, c, seq, lens)
            refresh(br, W, D)
            nt = _mark(br, touched, istouched, nt)
        ctrl[4] = na
        if G > 0 and mode == 0 and not failed:
            nt = local_search(W, D, nslots, touched, istouched, nt, G, queue, inq, buf)
        # ---- acceptance ----
        delta = 0.0
        for i in range(nt):
            r = touched[i]
            delta += rdist[r] - crdist[r]
        newkm = fctrl[0] + delta
        if mode == 0:
            accept = (not failed) and newkm < fctrl[0] - temp * np.log(np.random.random())
        else:
            sw = 0
            for i in range(na):
                sw += abscnt[absent_w[i]]
            sc = 0
            for i in range(ctrl[5]):
                sc += abscnt[absent_c[i]]
            accept = na < ctrl[5] or (na == ctrl[5] and sw <= sc)
        if accept:
            _copy_routes(touched, nt, W, C)
            for i in range(na):
                absent_c[i] = absent_w[i]
            ctrl[5] = na
            fctrl[0] = newkm
        else:
            _copy_routes(touched, nt, C, W)
            for i in range(ctrl[5]):
                absent_w[i] = absent_c[i]
            ctrl[4] = ctrl[5]
        for i in range(nt):
            istouched[touched[i]] = False
        if mode == 1:
            for i in range(ctrl[5]):
                abscnt[absent_c[i]] += 1
        # ---- best ----
        if accept and ctrl[5] == 0:
            u_now = used_routes(clens, nslots)
            better = False
            if (
                mode == 1
                or (hier == 1 and u_now < ctrl[10])
                or ((hier == 0 or u_now == ctrl[10]) and fctrl[0] < fctrl[1] - 1e-9)
            ):
                better = True
            if better:
                _copy_best(cseq, clens, bseq, blens, nslots)
                fctrl[1] = fctrl[0]
                ctrl[10] = u_now
                ctrl[8] += 1
                if hier == 1 and mode == 0 and u_now < ctrl[2]:
                    ctrl[2] = u_now  # fewer vehicles found: never open more again
                if mode == 1:
                    if u_now <= ctrl[6]:
                        ctrl[9] = 1
                        ctrl[7] += it + 1
                        return
                    drop_smallest_route(W, C, D, nslots, absent_w, absent_c, ctrl, fctrl)
    ctrl[7] += n_iter


@njit(cache=True)
def _empty_smallest_route(cseq, clens, wlens, croute_of, wroute_of, nslots, absent_w, absent_c):
    """Empty the route with fewest jobs in the current and working plans (same routes on entry); its jobs
    become absent. Returns (its slot, its job count); the caller refreshes the slot."""
    rbest = -1
    for r in range(nslots):
        if clens[r] > 0 and (rbest < 0 or clens[r] < clens[rbest]):
            rbest = r
    na = 0
    for k in range(1, clens[rbest] + 1):
        c = cseq[rbest, k]
        absent_c[na] = c
        absent_w[na] = c
        croute_of[c] = -1
        wroute_of[c] = -1
        na += 1
    clens[rbest] = 0
    wlens[rbest] = 0
    return rbest, na


@njit(cache=True)
def drop_smallest_route(W, C, D, nslots, absent_w, absent_c, ctrl, fctrl):
    """Fleet phase: the route of ``C`` (and ``W``) with fewest jobs goes; its jobs become absent."""
    rbest, na = _empty_smallest_route(C[0], C[1], W[1], C[6], W[6], nslots, absent_w, absent_c)
    refresh(rbest, C, D)
    refresh(rbest, W, D)
    ctrl[4] = na
    ctrl[5] = na
    km = 0.0
    for r in range(nslots):
        km += C[5][r]
    fctrl[0] = km


@njit(cache=True)
def rebuild(S, D, nslots):
    """Refresh every route of ``S`` from ``seq``/``lens`` (after loading a solution); returns the total km."""
    S[6][:] = -1
    km = 0.0
    for r in range(nslots):
        refresh(r, S, D)
        km += S[5][r]
    return km


@njit(cache=True)
def construct(S, D, nslots, absent):
    """Greedy insertion of every job in random order, a new route when none fits (up to ``nslots``).
    Returns the number of jobs left out (listed in ``absent``)."""
    seq, lens, route_of = S[0], S[1], S[6]
    n = D[5].shape[0] - 1
    lens[:] = 0
    route_of[:] = -1
    for r in range(nslots):
        refresh(r, S, D)
    order = np.random.permutation(n) + 1
    mark = np.zeros(nslots, np.int64)
    tick = np.zeros(1, np.int64)
    na = 0
    for c in order:
        br, bk, _ = best_position(c, S, D, nslots, 0.0, 0, mark, tick)
        if br < 0 and _direct_ok(c, D):
            for r in range(nslots):
                if lens[r] == 0:
                    br = r
                    bk = 1
                    break
        if br < 0:
            absent[na] = c
            na += 1
            continue
        _insert_at(br, bk, c, seq, lens)
        refresh(br, S, D)
    return na


# ------------------------------------------------------------------------------------------------------------
# Fleet minimisation through time warp: a route goes, its jobs are inserted at the cheapest *penalised*
# position (distance + lam x time warp + lam_cap x load over payload), and SISR's ruin-and-recreate with
# annealing on that penalised cost runs until no route is late or overloaded; then the next route goes.
# Time warp (Nagata, Braysy & Dullaert 2010; Vidal et al. 2013, "A hybrid genetic algorithm with adaptive
# diversity management for a large class of vehicle routing problems with time-windows", Computers &
# Operations Research 40(1):475-489): arriving after a window's end, the vehicle "travels back in time" to
# it, paying the difference. Each route keeps, for every position, the segment summary (duration, time warp,
# earliest start, latest start) of its prefix and of its suffix, so an insertion is priced in O(1) by
# concatenating prefix + job + suffix; the local search's relocate, swap and 2-opt* the same way (Vidal et al.'s
# penalised granular search, HGS's and PyVRP's). The state ``T`` is ``(seq, lens, load, rdist, route_of, pos_of, rtw,
# F, Bk)``: ``rtw[r]`` the route's time warp [min], ``F[r, k]`` / ``Bk[r, k]`` the summaries (4 floats, then
# the segment's load [kg]) of positions 0..k and k..lens[r]+1.
# ------------------------------------------------------------------------------------------------------------
TW_FEAS = 1e-9
"""A route is on time when its time warp is at most this [min] (``route_ok``'s own tolerance)."""
TW_LAM_MAX = 1e5
"""Cap on the penalties [km / min], [km / kg]: at 1e5 a minute of lateness outweighs any route's km already;
higher, float noise times the penalty swamps the km."""


@njit(cache=True, inline="always")
def _cat(d1, w1, e1, l1, d2, w2, e2, l2, t):
    """Vidal et al. (2013), eq. (7)-(11): the summary of segment 1 followed by segment 2, ``t`` [min] apart.
    (duration incl. service, time warp, earliest and latest service start at the first node) [min]."""
    delta = d1 - w1 + t
    wt = max(e2 - delta - l1, 0.0)
    dtw = max(e1 + delta - l2, 0.0)
    return d1 + d2 + t + wt, w1 + w2 + dtw, max(e2 - delta, e1) - wt, min(l2 - delta, l1) + dtw


@njit(cache=True)
def tw_refresh(r, T, D):
    """Recompute route ``r``'s prefix and suffix summaries, time warp, load and distance, and its jobs' places."""
    seq, lens, load, rdist, route_of, pos_of, rtw, F, Bk = T
    dist, tt, ready, due, svc, dem = D[0], D[1], D[2], D[3], D[4], D[5]
    m = lens[r]
    seq[r, 0] = 0
    seq[r, m + 1] = 0
    F[r, 0, 0], F[r, 0, 1], F[r, 0, 2], F[r, 0, 3] = svc[0], 0.0, ready[0], due[0]
    F[r, 0, 4] = 0.0
    ld = 0.0
    dd = 0.0
    for k in range(1, m + 2):
        p = seq[r, k - 1]
        c = seq[r, k]
        F[r, k, 0], F[r, k, 1], F[r, k, 2], F[r, k, 3] = _cat(
            F[r, k - 1, 0],
            F[r, k - 1, 1],
            F[r, k - 1, 2],
            F[r, k - 1, 3],
            svc[c],
            0.0,
            ready[c],
            due[c],
            tt[p, c],
        )
        F[r, k, 4] = F[r, k - 1, 4] + dem[c]
        dd += dist[p, c]
        if k <= m:
            ld += dem[c]
            route_of[c] = r
            pos_of[c] = k
    Bk[r, m + 1, 0], Bk[r, m + 1, 1], Bk[r, m + 1, 2], Bk[r, m + 1, 3] = svc[0], 0.0, ready[0], due[0]
    Bk[r, m + 1, 4] = 0.0
    for k in range(m, -1, -1):
        c = seq[r, k]
        q = seq[r, k + 1]
        Bk[r, k, 0], Bk[r, k, 1], Bk[r, k, 2], Bk[r, k, 3] = _cat(
            svc[c],
            0.0,
            ready[c],
            due[c],
            Bk[r, k + 1, 0],
            Bk[r, k + 1, 1],
            Bk[r, k + 1, 2],
            Bk[r, k + 1, 3],
            tt[c, q],
        )
        Bk[r, k, 4] = Bk[r, k + 1, 4] + dem[c]
    load[r] = ld
    rdist[r] = dd
    rtw[r] = F[r, m + 1, 1]


@njit(cache=True, inline="always")
def _tw_scan_route(c, r, T, D, lam, lamc, blink, best_r, best_k, best_f):
    """Cheapest penalised place for job ``c`` on route ``r``, keeping the best so far."""
    seq, lens, load, rtw, F, Bk = T[0], T[1], T[2], T[6], T[7], T[8]
    dist, tt, ready, due, svc, dem, cap = D[0], D[1], D[2], D[3], D[4], D[5], D[6]
    over = max(0.0, load[r] + dem[c] - cap) - max(0.0, load[r] - cap)
    base = lamc * over - lam * rtw[r]
    for k in range(1, lens[r] + 2):
        if blink > 0.0 and np.random.random() < blink:
            continue
        p = seq[r, k - 1]
        q = seq[r, k]
        dd = dist[p, c] + dist[c, q] - dist[p, q]
        if dd + lamc * over >= best_f:
            continue  # an insertion never shortens the time warp (travel times obey the triangle inequality)
        a0, a1, a2, _a3 = _cat(
            F[r, k - 1, 0],
            F[r, k - 1, 1],
            F[r, k - 1, 2],
            F[r, k - 1, 3],
            svc[c],
            0.0,
            ready[c],
            due[c],
            tt[p, c],
        )
        # time warp of prefix + c + suffix (the last step of ``_cat``, only its time warp)
        tw = a1 + Bk[r, k, 1] + max(a2 + a0 - a1 + tt[c, q] - Bk[r, k, 3], 0.0)
        f = dd + base + lam * tw
        if f < best_f:
            best_r = r
            best_k = k
            best_f = f
    return best_r, best_k, best_f


@njit(cache=True)
def tw_best_position(c, T, D, nslots, lam, lamc, blink, kins, mark, tick):
    """Cheapest penalised insertion of job ``c`` into a non-empty route (the routes of its ``kins`` nearest
    jobs only, when ``kins`` > 0 and one of them is placed). Returns (route, position, penalised cost)."""
    lens, route_of = T[1], T[4]
    neigh = D[7]
    best_r = -1
    best_k = -1
    best_f = np.inf
    tick[0] += 1
    t = tick[0]
    if kins > 0:
        for j in range(min(kins, neigh.shape[1])):
            r = route_of[neigh[c, j]]
            if r < 0 or mark[r] == t or lens[r] == 0:
                continue
            mark[r] = t
            best_r, best_k, best_f = _tw_scan_route(c, r, T, D, lam, lamc, blink, best_r, best_k, best_f)
        if best_r >= 0:
            return best_r, best_k, best_f
    for r in range(nslots):
        if mark[r] == t or lens[r] == 0:
            continue
        best_r, best_k, best_f = _tw_scan_route(c, r, T, D, lam, lamc, blink, best_r, best_k, best_f)
    return best_r, best_k, best_f


@njit(cache=True, inline="always")
def _tw2(T, D, r1, k1, r2, k2):
    """Time warp [min] of positions 0..k1 of route r1 followed by positions k2.. of route r2."""
    seq, F, Bk = T[0], T[7], T[8]
    p = seq[r1, k1]
    q = seq[r2, k2]
    return (
        F[r1, k1, 1]
        + Bk[r2, k2, 1]
        + max(F[r1, k1, 2] + F[r1, k1, 0] - F[r1, k1, 1] + D[1][p, q] - Bk[r2, k2, 3], 0.0)
    )


@njit(cache=True, inline="always")
def _tw3(T, D, r1, k1, c, r2, k2):
    """Time warp [min] of positions 0..k1 of route r1, then job c, then positions k2.. of route r2."""
    seq, F, Bk = T[0], T[7], T[8]
    tt, ready, due, svc = D[1], D[2], D[3], D[4]
    p = seq[r1, k1]
    q = seq[r2, k2]
    a0, a1, a2, _a3 = _cat(
        F[r1, k1, 0], F[r1, k1, 1], F[r1, k1, 2], F[r1, k1, 3], svc[c], 0.0, ready[c], due[c], tt[p, c]
    )
    return a1 + Bk[r2, k2, 1] + max(a2 + a0 - a1 + tt[c, q] - Bk[r2, k2, 3], 0.0)


@njit(cache=True, inline="always")
def _pen(dd, dtw, dex, lam, lamc):
    """Change of the penalised cost: km + lam x time warp + lam_cap x load over payload. Changes of time warp or
    load below ``TW_FEAS`` count as none: with lam near its cap, float noise times lam would otherwise look
    like a gain, and a move and its reverse could both "improve" forever."""
    if -TW_FEAS < dtw < TW_FEAS:
        dtw = 0.0
    if -TW_FEAS < dex < TW_FEAS:
        dex = 0.0
    return dd + lam * dtw + lamc * dex


@njit(cache=True)
def _tw_improve_job(u, T, D, G, lam, lamc, buf):
    """First inter-route move around job ``u`` (relocate either job next to the other, swap, 2-opt* both ways)
    with its ``G`` nearest jobs that lowers the penalised cost; applied. Returns the two changed routes, or
    (-1, -1). An insertion never shortens a route's time warp, so the removal's change alone is a bound."""
    seq, lens, load, route_of, pos_of, rtw = T[0], T[1], T[2], T[4], T[5], T[6]
    F, Bk = T[7], T[8]
    dist, dem, cap, neigh = D[0], D[5], D[6], D[7]
    g = min(G, neigh.shape[1])
    for j in range(g):
        ru = route_of[u]
        v = neigh[u, j]
        rv = route_of[v]
        if rv < 0 or rv == ru:
            continue
        pu = pos_of[u]
        pv = pos_of[v]
        up = seq[ru, pu - 1]
        un = seq[ru, pu + 1]
        vp = seq[rv, pv - 1]
        vn = seq[rv, pv + 1]
        ex_u = max(0.0, load[ru] - cap)
        ex_v = max(0.0, load[rv] - cap)
        # relocate u next to v (after, then before); then the mirror image. Written out twice as in
        # ``_improve_job``, where one helper called twice cost 1.4-1.9x the CPU (not measured again here).
        rem = dist[up, un] - dist[up, u] - dist[u, un]
        out = _tw2(T, D, ru, pu - 1, ru, pu + 1) - rtw[ru]
        dex = max(0.0, load[ru] - dem[u] - cap) + max(0.0, load[rv] + dem[u] - cap) - ex_u - ex_v
        d = rem + dist[v, u] + dist[u, vn] - dist[v, vn]
        if (
            _pen(d, out, dex, lam, lamc) < -1e-9
            and _pen(d, out + _tw3(T, D, rv, pv, u, rv, pv + 1) - rtw[rv], dex, lam, lamc) < -1e-9
        ):
            route_of[u] = -1
            _compact(ru, seq, lens, route_of)
            _insert_at(rv, pv + 1, u, seq, lens)
            return ru, rv
        d = rem + dist[vp, u] + dist[u, v] - dist[vp, v]
        if (
            _pen(d, out, dex, lam, lamc) < -1e-9
            and _pen(d, out + _tw3(T, D, rv, pv - 1, u, rv, pv) - rtw[rv], dex, lam, lamc) < -1e-9
        ):
            route_of[u] = -1
            _compact(ru, seq, lens, route_of)
            _insert_at(rv, pv, u, seq, lens)
            return ru, rv
        # relocate v next to u (after, then before)
        rem = dist[vp, vn] - dist[vp, v] - dist[v, vn]
        out = _tw2(T, D, rv, pv - 1, rv, pv + 1) - rtw[rv]
        dex = max(0.0, load[rv] - dem[v] - cap) + max(0.0, load[ru] + dem[v] - cap) - ex_u - ex_v
        d = rem + dist[u, v] + dist[v, un] - dist[u, un]
        if (
            _pen(d, out, dex, lam, lamc) < -1e-9
            and _pen(d, out + _tw3(T, D, ru, pu, v, ru, pu + 1) - rtw[ru], dex, lam, lamc) < -1e-9
        ):
            route_of[v] = -1
            _compact(rv, seq, lens, route_of)
            _insert_at(ru, pu + 1, v, seq, lens)
            return ru, rv
        d = rem + dist[up, v] + dist[v, u] - dist[up, u]
        if (
            _pen(d, out, dex, lam, lamc) < -1e-9
            and _pen(d, out + _tw3(T, D, ru, pu - 1, v, ru, pu) - rtw[ru], dex, lam, lamc) < -1e-9
        ):
            route_of[v] = -1
            _compact(rv, seq, lens, route_of)
            _insert_at(ru, pu, v, seq, lens)
            return ru, rv
        # swap u and v
        d = (
            dist[up, v]
            + dist[v, un]
            - dist[up, u]
            - dist[u, un]
            + dist[vp, u]
            + dist[u, vn]
            - dist[vp, v]
            - dist[v, vn]
        )
        dex = (
            max(0.0, load[ru] - dem[u] + dem[v] - cap)
            + max(0.0, load[rv] - dem[v] + dem[u] - cap)
            - ex_u
            - ex_v
        )
        tw_a = _tw3(T, D, ru, pu - 1, v, ru, pu + 1) - rtw[ru]
        tw_b = _tw3(T, D, rv, pv - 1, u, rv, pv + 1) - rtw[rv]
        if _pen(d, tw_a + tw_b, dex, lam, lamc) < -1e-9:
            seq[ru, pu] = v
            seq[rv, pv] = u
            return ru, rv
        # 2-opt*: u then v's tail (and v's head then u's tail), then the mirror image
        for side in range(2):
            ra, ia, rb, ib = (ru, pu, rv, pv) if side == 0 else (rv, pv, ru, pu)
            a = seq[ra, ia]
            x = seq[ra, ia + 1]
            w = seq[rb, ib - 1]
            b = seq[rb, ib]
            la = F[ra, ia, 4] + Bk[rb, ib, 4]
            lb = F[rb, ib - 1, 4] + Bk[ra, ia + 1, 4]
            d = dist[a, b] + dist[w, x] - dist[a, x] - dist[w, b]
            dex = max(0.0, la - cap) + max(0.0, lb - cap) - ex_u - ex_v
            dtw = _tw2(T, D, ra, ia, rb, ib) + _tw2(T, D, rb, ib - 1, ra, ia + 1) - rtw[ra] - rtw[rb]
            if _pen(d, dtw, dex, lam, lamc) < -1e-9:
                _apply_two_opt_star(T, ra, ia, rb, ib, buf)
                return ru, rv
    return -1, -1


@njit(cache=True)
def tw_local_search(T, D, nslots, touched, istouched, nt, G, lam, lamc, queue, inq, buf):
    """``local_search`` on the penalised cost (km + lam x time warp + lam_cap x load over payload) of ``T``,
    from the jobs of the ``nt`` routes in ``touched``; changed routes are added. Returns the new ``nt``."""
    seq, lens, route_of = T[0], T[1], T[4]
    n = route_of.shape[0] - 1
    size = n + 1
    qh = 0
    qt = 0
    for i in range(nt):
        r = touched[i]
        for k in range(1, lens[r] + 1):
            c = seq[r, k]
            if not inq[c]:
                inq[c] = True
                queue[qt % size] = c
                qt += 1
    moves = 0
    while qh < qt and moves < 50 * size:  # a safety bound (50 moves per job): no search may hang
        u = queue[qh % size]
        qh += 1
        inq[u] = False
        if route_of[u] < 0:
            continue
        ra, rb = _tw_improve_job(u, T, D, G, lam, lamc, buf)
        if ra < 0:
            continue
        moves += 1
        tw_refresh(ra, T, D)
        tw_refresh(rb, T, D)
        nt = _mark(ra, touched, istouched, nt)
        nt = _mark(rb, touched, istouched, nt)
        for r in (ra, rb):
            for k in range(1, lens[r] + 1):
                c = seq[r, k]
                if not inq[c]:
                    inq[c] = True
                    queue[qt % size] = c
                    qt += 1
    return nt


@njit(cache=True)
def _tw_copy_routes(touched, nt, src, dst):
    sseq, slens, sload, srdist, sroute_of, spos_of, srtw, sF, sB = src
    seq, lens, load, rdist, route_of, pos_of, rtw, F, Bk = dst
    for i in range(nt):
        r = touched[i]
        m = max(slens[r], lens[r]) + 2
        for k in range(m):
            seq[r, k] = sseq[r, k]
            for j in range(5):
                F[r, k, j] = sF[r, k, j]
                Bk[r, k, j] = sB[r, k, j]
        lens[r] = slens[r]
        load[r] = sload[r]
        rdist[r] = srdist[r]
        rtw[r] = srtw[r]
    route_of[:] = sroute_of
    pos_of[:] = spos_of


@njit(cache=True)
def tw_totals(T, D, nslots, tf):
    """Set ``tf[0:3]`` to ``T``'s km, time warp [min] and load over payload [kg]; returns its late or overloaded
    route count."""
    lens, load, rdist, rtw = T[1], T[2], T[3], T[6]
    cap = D[6]
    km = 0.0
    tw = 0.0
    ex = 0.0
    bad = 0
    for r in range(nslots):
        if lens[r] == 0:
            continue
        km += rdist[r]
        tw += rtw[r]
        over = max(0.0, load[r] - cap)
        ex += over
        if rtw[r] > TW_FEAS or over > TOL:
            bad += 1
    tf[0], tf[1], tf[2] = km, tw, ex
    return bad


@njit(cache=True)
def tw_rebuild(T, D, nslots):
    T[4][:] = -1
    for r in range(nslots):
        tw_refresh(r, T, D)


@njit(cache=True)
def tw_drop_smallest_route(W, C, D, nslots, absent_w, absent_c):
    """The route of ``C`` (and ``W``) with fewest jobs goes; its jobs become absent. Returns their count."""
    rbest, na = _empty_smallest_route(C[0], C[1], W[1], C[4], W[4], nslots, absent_w, absent_c)
    tw_refresh(rbest, C, D)
    tw_refresh(rbest, W, D)
    return na


@njit(cache=True)
def tw_chunk(W, C, D, par, tctrl, tf, absent_w, absent_c, n_iter, temp0, temp1):
    """Run up to ``n_iter`` penalised SISR iterations (temperature ``temp0`` -> ``temp1``); stop early when
    the current solution has no absent job and no late or overloaded route (``tctrl[4]`` = 1).

    ``tctrl`` (int64): [0] route slots, [1] absent jobs of C (= of W on entry), [2] iterations done (added to),
    [3] late or overloaded routes of C, [4] success flag, [5] ``kins``, [6] candidates since the last penalty
    update, [7] granularity of the penalised local search after each recreate (0: none). ``tf`` (float64):
    [0] C's km, [1] its time warp [min], [2] its load over payload [kg], [3] lam [per min], [4] lam_cap [per kg],
    [5] the penalties' growth per 100 iterations while C is late or overloaded."""
    seq, lens, rdist, route_of, pos_of, rtw, load = W[0], W[1], W[3], W[4], W[5], W[6], W[2]
    crdist, crtw, cload, clens = C[3], C[6], C[2], C[1]
    dist, dem, cap, neigh = D[0], D[5], D[6], D[7]
    n = dem.shape[0] - 1
    nslots = tctrl[0]
    kins = tctrl[5]
    blink = par[P_BLINK]
    touched = np.empty(nslots, np.int64)
    istouched = np.zeros(nslots, np.bool_)
    removed = np.empty(n + 1, np.int64)
    key = np.empty(n + 1, np.float64)
    mark = np.zeros(nslots, np.int64)
    tick = np.zeros(1, np.int64)
    queue = np.empty(n + 1, np.int64)
    inq = np.zeros(n + 1, np.bool_)
    buf = np.empty(n + 2, np.int64)
    tctrl[4] = 0
    for it in range(n_iter):
        temp = temp0 + (temp1 - temp0) * it / max(1, n_iter)
        lam = tf[3]
        lamc = tf[4]
        nrem, nt = _ruin(seq, lens, route_of, pos_of, neigh, par, nslots, removed, touched, istouched)
        if nt < 0:
            nrem = 0
            nt = 0
        for i in range(nt):
            r = touched[i]
            _compact(r, seq, lens, route_of)
            tw_refresh(r, W, D)
        for i in range(tctrl[1]):
            removed[nrem] = absent_w[i]
            nrem += 1
        order = _insertion_order(removed, nrem, key, dist, dem)
        na = 0
        for oi in range(nrem):
            c = removed[order[oi]]
            br, bk, _ = tw_best_position(c, W, D, nslots, lam, lamc, blink, kins, mark, tick)
            if br < 0:
                absent_w[na] = c
                na += 1
                route_of[c] = -1
                continue
            _insert_at(br, bk, c, seq, lens)
            tw_refresh(br, W, D)
            nt = _mark(br, touched, istouched, nt)
        if tctrl[7] > 0:
            nt = tw_local_search(W, D, nslots, touched, istouched, nt, tctrl[7], lam, lamc, queue, inq, buf)
        # ---- acceptance on the penalised cost ----
        dkm = 0.0
        dtw = 0.0
        dex = 0.0
        dbad = 0
        for i in range(nt):
            r = touched[i]
            dkm += rdist[r] - crdist[r]
            dtw += rtw[r] - crtw[r]
            ov_w = max(0.0, load[r] - cap) if lens[r] > 0 else 0.0
            ov_c = max(0.0, cload[r] - cap) if clens[r] > 0 else 0.0
            dex += ov_w - ov_c
            bad_w = lens[r] > 0 and (rtw[r] > TW_FEAS or ov_w > TOL)
            bad_c = clens[r] > 0 and (crtw[r] > TW_FEAS or ov_c > TOL)
            dbad += int(bad_w) - int(bad_c)
        big = 10.0 * (tf[0] + 1.0)  # an absent job (never seen: every non-empty route takes any job)
        f_cur = tf[0] + lam * tf[1] + lamc * tf[2] + big * tctrl[1]
        f_new = tf[0] + dkm + lam * (tf[1] + dtw) + lamc * (tf[2] + dex) + big * na
        accept = f_new < f_cur - temp * np.log(np.random.random())
        tctrl[6] += 1
        if accept:
            _tw_copy_routes(touched, nt, W, C)
            for i in range(na):
                absent_c[i] = absent_w[i]
            tctrl[1] = na
            tctrl[3] += dbad
            tf[0] += dkm
            tf[1] = max(0.0, tf[1] + dtw)
            tf[2] = max(0.0, tf[2] + dex)
        else:
            _tw_copy_routes(touched, nt, C, W)
            for i in range(tctrl[1]):
                absent_w[i] = absent_c[i]
        for i in range(nt):
            istouched[touched[i]] = False
        # ---- penalty update: every 100 candidates the current plan is still late or over payload, the
        # penalties grow by tf[5] (the plan is recorded, and a route goes, the moment it is neither) ----
        if tctrl[6] >= 100:
            if tctrl[3] > 0 or tctrl[1] > 0:
                tf[3] = min(TW_LAM_MAX, tf[3] * tf[5])
                tf[4] = min(TW_LAM_MAX, tf[4] * tf[5])
            tctrl[6] = 0
        if accept and tctrl[3] == 0 and tctrl[1] == 0:
            tctrl[2] += it + 1
            tctrl[4] = 1
            return
    tctrl[2] += n_iter


# ------------------------------------------------------------------------------------------------------------
# Fleet minimisation with an ejection pool (Nagata & Bräysy 2009, "A powerful route minimization heuristic for
# the vehicle routing problem with time windows", Operations Research Letters 37(5):333-338): a route goes and
# its jobs enter the pool; the last job in is taken out and inserted where it fits; where it fits nowhere its
# penalty counter grows and it is inserted anyway, forcing out the string of at most ``kmax`` consecutive jobs
# of least summed counter (the paper ejects any k <= 5 jobs of a route; strings are priced in O(1) per place
# from the slack data), the forced-out jobs go into the pool, and random feasible relocations shake the plan.
# Works on ``C`` only (feasible at every step); the pool is ``absent_c``; ``pen`` the counters.
# ------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _gap_ok(v, S, D, r, x, ex, ly, y) -> bool:
    """Whether job ``v`` fits on time after the node at position ``x`` of route ``r`` (start ``ex`` there)
    and before node ``y`` (latest start ``ly`` there)."""
    seq = S[0]
    tt, ready, due, svc = D[1], D[2], D[3], D[4]
    px = seq[r, x]
    arr = ex + svc[px] + tt[px, v]
    return arr <= due[v] + TOL and max(ready[v], arr) + svc[v] + tt[v, y] <= ly + TOL


@njit(cache=True)
def _eject_scan(v, r, S, D, kmax, pen, best, Lp, Ep, okc):
    """Cheapest string ejection in route ``r`` that lets job ``v`` in, against ``best`` (float64: [0] summed
    counter, [1] route, [2] string start, [3] string length, [4] position of the node ``v`` will follow,
    [5] ties so far). Updates ``best`` in place.

    Once a string goes, the latest starts before it and the earliest starts after it change only up to where
    they meet the route's own values again (computed here until they do); every other place is priced as in
    the route as it is, counted once per route (``okc``)."""
    seq, lens, E, L, load = S[0], S[1], S[2], S[3], S[4]
    tt, ready, due, svc, dem, cap = D[1], D[2], D[3], D[4], D[5], D[6]
    m = lens[r]
    okc[0] = 0
    for x in range(m + 1):
        ok = _gap_ok(v, S, D, r, x, E[r, x], L[r, x + 1], seq[r, x + 1])
        okc[x + 1] = okc[x] + (1 if ok else 0)
    for s in range(1, kmax + 1):
        if s > m:
            break
        for a in range(1, m - s + 2):
            b = a + s  # first position after the string
            ps = 0.0
            dl = 0.0
            for t in range(a, b):
                ps += pen[seq[r, t]]
                dl += dem[seq[r, t]]
            if ps > best[0]:
                continue
            if load[r] - dl + dem[v] > cap + TOL:
                continue
            # latest starts before the string once it is gone, down to where they meet L again (lo)
            lo = -1
            nxt = seq[r, b]
            lat = L[r, b]
            for x in range(a - 1, -1, -1):
                c = seq[r, x]
                lat = min(due[c], lat - svc[c] - tt[c, nxt])
                if lat == L[r, x]:
                    lo = x
                    break
                Lp[x] = lat
                nxt = c
            # earliest starts after it, up to where they meet E again (hi)
            hi = m + 2
            p = seq[r, a - 1]
            ear = E[r, a - 1]
            for x in range(b, m + 2):
                c = seq[r, x]
                ear = max(ready[c], ear + svc[p] + tt[p, c])
                if ear == E[r, x]:
                    hi = x
                    break
                Ep[x] = ear
                p = c
            found = -1
            # changed places, in route order: before the string, across it, after it
            for x in range(max(lo, 0), a - 1):
                ly = L[r, x + 1] if x + 1 <= lo else Lp[x + 1]
                if _gap_ok(v, S, D, r, x, E[r, x], ly, seq[r, x + 1]):
                    found = x
                    break
            if found < 0 and _gap_ok(v, S, D, r, a - 1, E[r, a - 1], L[r, b], seq[r, b]):
                found = a - 1
            if found < 0:
                for x in range(b, min(hi, m + 1)):
                    if _gap_ok(v, S, D, r, x, Ep[x], L[r, x + 1], seq[r, x + 1]):
                        found = x
                        break
            # unchanged places: as in the route as it is
            if found < 0 and lo >= 1 and okc[lo] > 0:
                for x in range(lo):
                    if okc[x + 1] > okc[x]:
                        found = x
                        break
            if found < 0 and hi <= m and okc[m + 1] > okc[hi]:
                for x in range(hi, m + 1):
                    if okc[x + 1] > okc[x]:
                        found = x
                        break
            if found < 0:
                continue
            take = False
            if ps < best[0]:
                best[5] = 1.0
                take = True
            else:
                best[5] += 1.0
                take = np.random.random() * best[5] < 1.0
            if take:
                best[0] = ps
                best[1] = r
                best[2] = a
                best[3] = s
                best[4] = found


@njit(cache=True)
def _eject_apply(v, S, D, best, absent, na):
    """Remove ``best``'s string from its route, insert ``v`` after its gap node; the string joins the pool.
    Returns the new pool size."""
    seq, lens, route_of = S[0], S[1], S[6]
    r = int(best[1])
    a = int(best[2])
    s = int(best[3])
    x = int(best[4])
    after = seq[r, x]
    for t in range(a, a + s):
        c = seq[r, t]
        route_of[c] = -1
        absent[na] = c
        na += 1
    _compact(r, seq, lens, route_of)
    k = 1
    if after != 0:
        for i in range(1, lens[r] + 1):
            if seq[r, i] == after:
                k = i + 1
                break
    _insert_at(r, k, v, seq, lens)
    refresh(r, S, D)
    return na


@njit(cache=True)
def _perturb(S, D, nslots, n_moves, G):
    """Random feasible relocations of a job next to one of its ``G`` nearest jobs in another route (the
    paper's diversification; no cost criterion). Returns the number applied."""
    seq, lens, load, route_of, pos_of = S[0], S[1], S[4], S[6], S[7]
    dem, cap, neigh = D[5], D[6], D[7]
    n = dem.shape[0] - 1
    g = min(G, neigh.shape[1])
    done = 0
    for _ in range(n_moves):
        u = 1 + int(np.random.random() * n)
        ru = route_of[u]
        if ru < 0:
            continue
        w = neigh[u, int(np.random.random() * g)]
        if w == 0:
            continue
        rw = route_of[w]
        if rw < 0 or rw == ru or load[rw] + dem[u] > cap + TOL:
            continue
        k = pos_of[w] + (1 if np.random.random() < 0.5 else 0)
        if not _fits(S, D, rw, k, u):
            continue
        route_of[u] = -1
        _compact(ru, seq, lens, route_of)
        refresh(ru, S, D)
        _insert_at(rw, k, u, seq, lens)
        refresh(rw, S, D)
        done += 1
    return done


@njit(cache=True)
def eject_chunk(C, B, D, ctrl, fctrl, absent_c, pen, n_steps, kmax, n_perturb, kins):
    """Run ``n_steps`` ejection-pool steps on ``C`` (``ctrl``/``fctrl`` as ``sisr_chunk``'s: [1] slots, [5] pool
    size, [6] fleet target, [7] steps done (added to), [8] best improvements (added to), [9] set to 1 at the
    target, [10] best's route count; ``fctrl[1]`` best km). When the pool empties, ``C`` goes to ``B`` and, above
    the target, its smallest route goes into the pool (counters back to 1). ``pen`` [n + 1]: counters."""
    seq, lens, rdist = C[0], C[1], C[5]
    bseq, blens = B[0], B[1]
    n = D[5].shape[0] - 1
    nslots = ctrl[1]
    na = ctrl[5]
    mark = np.zeros(nslots, np.int64)
    tick = np.zeros(1, np.int64)
    Lp = np.empty(n + 2)
    Ep = np.empty(n + 2)
    okc = np.empty(n + 3, np.int64)
    best = np.zeros(6)
    for step in range(n_steps):
        if na == 0:
            u_now = used_routes(lens, nslots)
            _copy_best(seq, lens, bseq, blens, nslots)
            km = 0.0
            for r in range(nslots):
                km += rdist[r]
            fctrl[0] = fctrl[1] = km
            ctrl[10] = u_now
            ctrl[8] += 1
            if u_now <= ctrl[6]:
                ctrl[9] = 1
                ctrl[5] = 0
                ctrl[7] += step + 1
                return
            rbest, na = _empty_smallest_route(seq, lens, lens, C[6], C[6], nslots, absent_c, absent_c)
            refresh(rbest, C, D)
            pen[:] = 1.0
            continue
        na -= 1
        v = absent_c[na]
        br, bk, _ = best_position(v, C, D, nslots, 0.0, kins, mark, tick)
        if br >= 0:
            _insert_at(br, bk, v, seq, lens)
            refresh(br, C, D)
            continue
        pen[v] += 1.0
        best[0] = np.inf
        best[1] = -1.0
        best[5] = 0.0
        for r in range(nslots):
            if lens[r] > 0:
                _eject_scan(v, r, C, D, kmax, pen, best, Lp, Ep, okc)
        if best[1] < 0:
            absent_c[na] = v  # fits nowhere even alone after a string goes: keep it, try another
            na += 1
            if na > 1:
                j = int(np.random.random() * na)
                absent_c[na - 1], absent_c[j] = absent_c[j], absent_c[na - 1]
            continue
        na = _eject_apply(v, C, D, best, absent_c, na)
        _perturb(C, D, nslots, n_perturb, 20)
    ctrl[5] = na
    ctrl[7] += n_steps
