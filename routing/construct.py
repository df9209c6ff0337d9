"""EV-aware construction: insert each job with the station visits it needs, as OR-Tools' first solution.

OR-Tools' first-solution heuristics and local-search moves insert one node at a time, so a customer that is
only reachable together with a station visit stays out (``docs/routing-notes.md``, 'the
station-copy model'). Here a job is inserted at its cheapest feasible position over all routes, and a
battery violation of the new route is repaired by inserting stations (the cheapest detour on an arc before
the point where the charge runs out, several in a row if needed). The result seeds the OR-Tools search
(``ReadAssignmentFromRoutes``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from routing import clock
from routing.evaluate import EPS, Geometry, Visit, _pick_window, charge_power_kw, pick_start
from routing.problem import ChargingStation, Job, RechargePolicy, VehicleType

MAX_REPAIRS = 4
"""Station insertions tried per candidate route."""
BRIDGE_SCANS = 16
"""Full scans per arc in the second station repair (``Builder._repaired_bridging``), cheapest detour first."""


@dataclass
class _Scan:
    ok: bool
    what: str = ""  # "battery" | "time" | "load"
    at: int = -1  # index in the visit list (len = end depot) where it fails
    km: float = 0.0
    deps: list[float] | None = None  # departure time before arc k, for k <= at (battery failures only)
    socs: list[float] | None = None  # charge [kWh] before arc k, likewise
    rates: list[float] | None = None  # consumption [kWh/km] on arc k


class Builder:
    """Float feasibility scans and insertion with station repair for one problem."""

    def __init__(self, geo: Geometry, allowed: dict[str, set[str]]):
        self.geo = geo
        self.p = geo.problem
        self.allowed = allowed
        self.dist = geo.dist.tolist()
        self.times = {k: v.tolist() for k, v in geo.time_by_type.items()}
        # Time-dependent travel: the scan below uses the EXACT arrivals (``Geometry.arrive``) and the filters
        # (time_load_ok, slack_table, positions, latest_arrivals, the station pre-check) read these times at
        # the day's FASTEST factor, so that they stay optimistic; the compiled kernels are off then.
        self._td = geo.freeflow_by_type is not None
        if geo.freeflow_by_type is not None and self.p.speed_profile is not None:
            fast = max(f for _, f in self.p.speed_profile.periods)
            self.times = {k: (v / fast).tolist() for k, v in geo.freeflow_by_type.items()}
        self.loc = {j.id: geo.loc(j.location) for j in self.p.jobs}
        self.sloc = {s.id: geo.loc(s.location) for s in self.p.stations}
        self._st_locs = [(s, self.sloc[s.id]) for s in self.p.stations]
        # Charging minutes per kWh at each station, per electric type (the station repair's time filter).
        self._min_per_kwh = {
            vt.id: [60.0 / charge_power_kw(st, vt) for st, _ in self._st_locs]
            for vt in self.p.vehicle_types
            if vt.battery is not None
        }
        self.total_demand = sum(j.demand_kg for j in self.p.jobs if j.id in allowed)
        # (earliest start, latest start + EPS) of every job with at most one window: the scans below test it
        # inline instead of calling _pick_window (1.3 million calls in 8 s of ruin-and-recreate on c203_21).
        self._window = {
            j.id: (w[0].start, w[0].end + EPS) if (w := j.windows_sorted) else (-math.inf, math.inf)
            for j in self.p.jobs
            if len(j.time_windows) <= 1
        }
        # Stops in an access zone (routing.zones) have vehicle-specific open times: the scan below sends them
        # to ``pick_start``; the optimistic filters keep reading their windows alone (a zone only delays).
        self._zoned = geo.access.zoned_jobs if geo.access is not None else set()
        for jid in self._zoned:
            self._window.pop(jid, None)

    def _l(self, v: Visit) -> int:
        return self.loc[v.id] if isinstance(v, Job) else self.sloc[v.id]

    def km(self, vt: VehicleType, seq: list[Visit]) -> float:
        d = self.dist
        path = [self.geo.loc(vt.start_depot)] + [self._l(v) for v in seq] + [self.geo.loc(vt.end)]
        return sum(d[a][b] for a, b in itertools.pairwise(path))

    def scan(self, vt: VehicleType, seq: list[Visit]) -> _Scan:
        d, tt, bat, window = self.dist, self.times[vt.id], vt.battery, self._window
        load = sum(v.demand_kg for v in seq if isinstance(v, Job))
        if load > vt.payload_kg + EPS:
            return _Scan(False, "load", 0)
        path = [self.geo.loc(vt.start_depot)] + [self._l(v) for v in seq] + [self.geo.loc(vt.end)]
        if bat is not None:
            e0, slope = bat.consumption_empty_kwh_per_km, bat.full_rate - bat.consumption_empty_kwh_per_km
            pay = vt.payload_kg if vt.payload_kg > 0 else 1.0
            if slope > 0:
                # The OR-Tools model's arc-local load bound (routing.model docstring), so that every route
                # built here is also feasible in the model and ReadAssignmentFromRoutes accepts it.
                cap = min(vt.payload_kg, self.total_demand)
                loads = [
                    max(0.0, cap - (seq[k - 1].demand_kg if k > 0 and isinstance(seq[k - 1], Job) else 0.0))
                    for k in range(len(seq))
                ] + [0.0]
                rates = [e0 + slope * min(1.0, ld / pay) for ld in loads]
            else:
                rates = [e0] * (len(seq) + 1)
            arc_e = [d[a][b] * r for a, b, r in zip(path, path[1:], rates)]
            deps: list[float] = []
            socs: list[float] = []
            soc = bat.initial_kwh
            reserve = bat.reserve_kwh
        t = vt.shift_start
        t_first = None
        km = 0.0
        n = len(seq)
        td = self._td
        for k in range(n + 1):
            a, b = path[k], path[k + 1]
            km += d[a][b]
            arrival = self.geo.arrive(vt, a, b, t) if td else t + tt[a][b]
            if bat is not None:
                deps.append(t)
                socs.append(soc)
                soc -= arc_e[k]
                if soc < reserve - EPS:
                    return _Scan(False, "battery", k, deps=deps, socs=socs, rates=rates)
            if k == n:
                if vt.shift_end is not None and arrival > vt.shift_end + EPS:
                    return _Scan(False, "time", k)
                if (
                    vt.max_duration_minutes is not None
                    and t_first is not None
                    and arrival - t_first > vt.max_duration_minutes + EPS
                ):
                    return _Scan(False, "time", k)
                return _Scan(True, km=km)
            v = seq[k]
            if isinstance(v, Job):
                w = window.get(v.id)
                if w is None:
                    s = (
                        pick_start(self.geo, vt, v, arrival)
                        if v.id in self._zoned
                        else _pick_window(v, arrival)
                    )
                    if s is None:
                        return _Scan(False, "time", k)
                elif arrival > w[1]:
                    return _Scan(False, "time", k)
                else:
                    s = arrival if arrival > w[0] else w[0]  # noqa: FURB136 (max() is a call)
                if t_first is None:
                    if k > 0:
                        t_first = vt.shift_start
                    else:
                        t_first = self.geo.leave_by(vt, a, b, s) if td else s - tt[a][b]
                t = s + v.service_minutes
            else:
                if bat is None:
                    return _Scan(False, "battery", k)
                if t_first is None:
                    t_first = vt.shift_start
                room = bat.capacity_kwh - soc
                if self.p.recharge_policy is RechargePolicy.FULL:
                    e = room
                else:
                    need = 0.0
                    for j in range(k + 1, n + 1):
                        need += arc_e[j]
                        if j == n or not isinstance(seq[j], Job):
                            break
                    e = min(room, max(0.0, reserve + need - soc))
                soc += e
                t = arrival + e / charge_power_kw(v, vt) * 60.0
        return _Scan(True, km=km)  # pragma: no cover

    def time_load_ok(self, vt: VehicleType, seq: list[Visit]) -> bool:
        """Payload, time windows and shift end with the stations left out: an optimistic filter (Euclidean
        distances, so a station detour and its charging only make arrivals later)."""
        jobs = [x for x in seq if isinstance(x, Job)]
        if sum(j.demand_kg for j in jobs) > vt.payload_kg + EPS:
            return False
        tt = self.times[vt.id]
        a = self.geo.loc(vt.start_depot)
        t = vt.shift_start
        window = self._window
        for j in jobs:
            b = self.loc[j.id]
            arrival = t + tt[a][b]
            w = window.get(j.id)
            if w is None:
                s = _pick_window(j, arrival)
                if s is None:
                    return False
            elif arrival > w[1]:
                return False
            else:
                s = arrival if arrival > w[0] else w[0]  # noqa: FURB136
            t = s + j.service_minutes
            a = b
        return vt.shift_end is None or t + tt[a][self.geo.loc(vt.end)] <= vt.shift_end + EPS

    def slack_table(self, vt: VehicleType, seq: list[Visit]) -> tuple:
        """Per insertion position: (location, departure) of the job before it and (location, latest start) of
        the job after it, stations left out; the route's load and its locations (depots included). The latest
        starts ignore all but the last window and the stations, so the check they give is optimistic: a
        filter before ``repaired``, as ``time_load_ok`` is, but O(1) per position instead of O(route)."""
        tt = self.times[vt.id]
        loc, dep = self.geo.loc(vt.start_depot), vt.shift_start
        before: list[tuple[int, float]] = []
        load = 0.0
        window = self._window
        for x in seq:
            before.append((loc, dep))
            if isinstance(x, Job):
                lx = self.loc[x.id]
                arrival = dep + tt[loc][lx]
                w = window.get(x.id)
                start = max(arrival, w[0]) if w is not None else _pick_window(x, arrival)
                loc, dep = lx, (arrival if start is None else start) + x.service_minutes  # late: kept as is
                load += x.demand_kg
        before.append((loc, dep))
        nxt: tuple[int, float] = (self.geo.loc(vt.end), math.inf if vt.shift_end is None else vt.shift_end)
        after: list[tuple[int, float]] = [nxt] * (len(seq) + 1)
        for k in range(len(seq) - 1, -1, -1):
            x = seq[k]
            if isinstance(x, Job):
                lx = self.loc[x.id]
                last = x.windows_sorted[-1].end if x.time_windows else math.inf
                nxt = (lx, min(last, nxt[1] - x.service_minutes - tt[lx][nxt[0]]))
            after[k] = nxt
        path = [self.geo.loc(vt.start_depot)] + [self._l(x) for x in seq] + [self.geo.loc(vt.end)]
        return before, after, load, path

    def positions(self, vt: VehicleType, table: tuple, job: Job) -> list[tuple[float, int]]:
        """(detour km, position) of every place in the route of ``table`` (``slack_table``) where ``job``
        passes the O(1) payload and time-window filter."""
        before, after, load, path = table
        if load + job.demand_kg > vt.payload_kg + EPS:
            return []
        d, tt, jl = self.dist, self.times[vt.id], self.loc[job.id]
        out: list[tuple[float, int]] = []
        window = self._window.get(job.id)
        if window is None:  # several windows
            for pos in range(len(path) - 1):
                la, dep = before[pos]
                start = _pick_window(job, dep + tt[la][jl])
                if start is None:
                    continue
                lb, latest = after[pos]
                if start + job.service_minutes + tt[jl][lb] > latest + EPS:
                    continue
                a, c = path[pos], path[pos + 1]
                out.append((d[a][jl] + d[jl][c] - d[a][c], pos))
            return out
        # One window or none (every benchmark job): _pick_window inlined, the filter's inner loop dominated
        # the ruin-and-recreate's profile (2.4 million calls in 8 s on E-VRPTW c101_21).
        w_start, w_end = window
        service, d_j, tt_j = job.service_minutes, d[jl], tt[jl]
        for pos, ((la, dep), (lb, latest)) in enumerate(zip(before, after)):
            arrival = dep + tt[la][jl]
            if arrival > w_end:
                continue
            if (arrival if arrival > w_start else w_start) + service + tt_j[lb] > latest + EPS:  # noqa: FURB136
                continue
            a, c = path[pos], path[pos + 1]
            out.append((d[a][jl] + d_j[c] - d[a][c], pos))
        return out

    def latest_arrivals(self, vt: VehicleType, seq: list[Visit]) -> list[float]:
        """Per visit index k (len(seq) = the end depot): the latest arrival at ``seq[k]`` from which the rest
        of the route can still keep its windows and the shift end, charging times left out (optimistic: a
        filter, like ``time_load_ok``)."""
        tt = self.times[vt.id]
        nxt_loc = self.geo.loc(vt.end)
        latest = math.inf if vt.shift_end is None else vt.shift_end
        out = [latest] * (len(seq) + 1)
        for k in range(len(seq) - 1, -1, -1):
            x = seq[k]
            lx = self._l(x)
            latest = latest - tt[lx][nxt_loc]
            if isinstance(x, Job):
                latest -= x.service_minutes
                if x.time_windows:
                    latest = min(latest, x.windows_sorted[-1].end)
            out[k] = latest
            nxt_loc = lx
        return out

    def repaired(self, vt: VehicleType, seq: list[Visit]) -> list[Visit] | None:
        """``seq`` made battery-feasible by inserting stations, or None."""
        if vt.battery is not None and self.p.stations and not self.time_load_ok(vt, seq):
            return None  # no station can mend a late arrival: skip the costly repair scans
        res = self.scan(vt, seq)
        if res.ok:
            return seq
        bat = vt.battery
        if res.what != "battery" or bat is None or not self.p.stations:
            return None
        fixed, moved = self._repaired_greedy(vt, seq, res)
        if fixed is None and moved:
            # The greedy pass can spend its repairs on stations that only move the failure's index (a station
            # inserted before the failing arc shifts it by one) or on one that leaves the vehicle stranded
            # short of the next visit; a job that needs two stations in a row each way then stayed unserved
            # (tests/routing/test_two_stations_in_a_row.py). When no station moved the first failure at all,
            # no pair can either (its first station is such a station): the second pass is skipped.
            fixed = self._repaired_bridging(vt, seq, res)
        return fixed

    def _repaired_greedy(
        self, vt: VehicleType, seq: list[Visit], res: _Scan
    ) -> tuple[list[Visit] | None, bool]:
        """The first station repair: per round, the cheapest station on one of the four arcs up to the failure
        that moves the failure's index on. Returns the repaired sequence or None, and whether a first station
        was found at all."""
        bat = vt.battery
        if bat is None:
            return None, False
        full = self.p.recharge_policy is RechargePolicy.FULL
        tt, d = self.times[vt.id], self.dist
        reserve, capacity = bat.reserve_kwh - EPS, bat.capacity_kwh
        minutes_per_kwh = self._min_per_kwh[vt.id]
        for rounds in range(MAX_REPAIRS):
            if res.deps is None or res.socs is None or res.rates is None:
                raise RuntimeError(
                    "Builder.repaired: a battery failure's scan must carry deps, socs and rates"
                )
            latest = self.latest_arrivals(vt, seq)
            first_station = next((k for k, x in enumerate(seq) if isinstance(x, ChargingStation)), len(seq))
            best: tuple[float, list[Visit], _Scan] | None = None
            # Try arcs before the failure, latest first; keep the cheapest repair that moves the failure on.
            for k in range(res.at, max(-1, res.at - 4), -1):
                prev = self.geo.loc(vt.start_depot) if k == 0 else self._l(seq[k - 1])
                nxt = self.geo.loc(vt.end) if k == len(seq) else self._l(seq[k])
                if (
                    k > 0
                    and isinstance(seq[k - 1], ChargingStation)
                    and k < len(seq)
                    and isinstance(seq[k], ChargingStation)
                ):
                    continue
                base = d[prev][nxt]
                dep, soc, rate, late = res.deps[k], res.socs[k], res.rates[k], latest[k] + EPS
                # The prefix before arc k is that of the failed scan (under partial recharging an earlier
                # station may charge less once this one follows it: its departure can then be earlier, so
                # the time filter applies only where no station precedes or every stop charges full).
                timed = full or k <= first_station
                # O(1) filters before the O(route) scans: the charge on arrival at the station is exact (or
                # optimistic, as above), the arrival at the next visit optimistic. Scans dominated the
                # ruin-and-recreate's time on E-VRPTW (21 stations per arc).
                options: list[tuple[float, int, ChargingStation]] = []
                for n, (st, sl) in enumerate(self._st_locs):
                    if sl in (prev, nxt):
                        continue
                    detour = d[prev][sl] + d[sl][nxt] - base
                    if best is not None and detour >= best[0]:
                        continue
                    arrive_soc = soc - d[prev][sl] * rate
                    if arrive_soc < reserve:
                        continue
                    if timed:
                        charge = (capacity - arrive_soc) * minutes_per_kwh[n] if full else 0.0
                        if dep + tt[prev][sl] + charge + tt[sl][nxt] > late:
                            continue
                    options.append((detour, n, st))
                options.sort()
                # Cheapest detour first: the first station that helps is this arc's best.
                for detour, _, st in options:
                    cand = seq[:k] + [st] + seq[k:]
                    r = self.scan(vt, cand)
                    if r.ok or (r.what == "battery" and r.at > k):
                        best = (detour, cand, r)
                        break
                if best is not None and best[2].ok:
                    break
            if best is None:
                return None, rounds > 0
            seq, res = best[1], best[2]
            if res.ok:
                return seq, True
        return None, True

    def _repaired_bridging(self, vt: VehicleType, seq: list[Visit], res: _Scan) -> list[Visit] | None:
        """The second station repair, run when the greedy one fails: per round, the cheapest move that carries
        the vehicle past the failing arc (to the visit it leads to): one station on that arc or on one of the
        three before it, else two stations in a row on that arc (the second hop and the last within a full
        charge's range). A station that only moves the failure's index counts for nothing here. At most
        ``BRIDGE_SCANS`` full scans per arc and per pair search, cheapest detour first."""
        bat = vt.battery
        if bat is None:
            return None
        full = self.p.recharge_policy is RechargePolicy.FULL
        tt, d = self.times[vt.id], self.dist
        reserve, capacity = bat.reserve_kwh - EPS, bat.capacity_kwh
        minutes_per_kwh = self._min_per_kwh[vt.id]
        stations = self._st_locs
        for _ in range(MAX_REPAIRS):
            if res.deps is None or res.socs is None or res.rates is None:
                raise RuntimeError(
                    "Builder._repaired_bridging: a battery failure's scan must carry deps, socs and rates"
                )
            at = res.at
            latest = self.latest_arrivals(vt, seq)
            first_station = next((k for k, x in enumerate(seq) if isinstance(x, ChargingStation)), len(seq))
            best: tuple[float, list[Visit], _Scan] | None = None

            for pairs in (False, True):
                for k in range(at, max(-1, at - 4), -1) if not pairs else (at,):
                    prev = self.geo.loc(vt.start_depot) if k == 0 else self._l(seq[k - 1])
                    nxt = self.geo.loc(vt.end) if k == len(seq) else self._l(seq[k])
                    station_before = k > 0 and isinstance(seq[k - 1], ChargingStation)
                    station_after = k < len(seq) and isinstance(seq[k], ChargingStation)
                    # Never three stations in a row.
                    if (station_before and station_after) or (pairs and (station_before or station_after)):
                        continue
                    base = d[prev][nxt]
                    dep, soc, rate, late = res.deps[k], res.socs[k], res.rates[k], latest[k] + EPS
                    timed = full or k <= first_station  # as in the greedy pass
                    span = (capacity - bat.reserve_kwh) / rate + EPS if rate > 0 else math.inf  # [km]
                    options: list[tuple[float, tuple[str, ...], tuple[ChargingStation, ...]]] = []
                    for n, (st, sl) in enumerate(stations):
                        if sl in (prev, nxt):
                            continue
                        arrive_soc = soc - d[prev][sl] * rate
                        if arrive_soc < reserve:
                            continue
                        charge = (capacity - arrive_soc) * minutes_per_kwh[n] if full else 0.0
                        t1 = dep + tt[prev][sl] + charge
                        if not pairs:
                            detour = d[prev][sl] + d[sl][nxt] - base
                            if (best is None or detour < best[0]) and not (timed and t1 + tt[sl][nxt] > late):
                                options.append((detour, (st.id,), (st,)))
                            continue
                        d_sl = d[sl]
                        for m, (st2, sl2) in enumerate(stations):
                            if sl2 in (prev, sl, nxt) or d_sl[sl2] > span or d[sl2][nxt] > span:
                                continue
                            detour = d[prev][sl] + d_sl[sl2] + d[sl2][nxt] - base
                            if best is not None and detour >= best[0]:
                                continue
                            if timed:
                                charge2 = d_sl[sl2] * rate * minutes_per_kwh[m] if full else 0.0
                                if t1 + tt[sl][sl2] + charge2 + tt[sl2][nxt] > late:
                                    continue
                            options.append((detour, (st.id, st2.id), (st, st2)))
                    found = self._first_past(vt, seq, k, at, options)
                    if found is not None and (best is None or found[0] < best[0]):
                        best = found
                    if best is not None and best[2].ok:
                        break
                if best is not None:
                    break  # pairs only when no single station gets past the failing arc
            if best is None:
                return None
            seq, res = best[1], best[2]
            if res.ok:
                return seq
        return None

    def _first_past(
        self, vt: VehicleType, seq: list[Visit], k: int, at: int, options: list
    ) -> tuple[float, list[Visit], _Scan] | None:
        """The cheapest of ``options`` (detour, ids, stations inserted on arc ``k``) whose route is feasible or
        fails later than the arc ``at`` it had to bridge, by at most ``BRIDGE_SCANS`` scans; None if none."""
        options.sort(key=lambda o: (o[0], o[1]))
        for detour, _, sts in options[:BRIDGE_SCANS]:
            cand = seq[:k] + list(sts) + seq[k:]
            r = self.scan(vt, cand)
            # The failing arc now ends at index at + len(sts): past it, or feasible.
            if r.ok or (r.what == "battery" and r.at > at + len(sts)):
                return detour, cand, r
        return None

    def insert_all(self, vehicles: list[tuple[str, VehicleType]], jobs: list[Job]) -> list[list[Visit]]:
        """Cheapest feasible insertion of ``jobs`` (in order) over ``vehicles``; unplaceable jobs are skipped."""
        routes: list[list[Visit]] = [[] for _ in vehicles]
        kms = [0.0 for _ in vehicles]
        d = self.dist
        # Compiled time-window and payload filter over the used routes (routing.kernels): at 1,000 customers
        # the unfiltered scans of every position took 127 s of a 60 s solve (Homberger R1_10_1, loaded machine).
        fast = _CompiledRoutes(self, vehicles) if _compiled_ok(self) else None
        for job in jobs:
            ok_types = self.allowed.get(job.id, set())
            cands: list[tuple[float, int, int]] = []
            empty_tried: set[str] = set()
            jl = self.loc[job.id]
            if fast is not None:
                cands = fast.filt.candidates(fast, job)
            for v, (_, vt) in enumerate(vehicles):
                if vt.id not in ok_types:
                    continue
                cur = routes[v]
                if not cur:
                    if vt.id in empty_tried:
                        continue
                    empty_tried.add(vt.id)
                elif fast is not None:
                    continue  # non-empty routes: from the compiled filter above
                s, e = self.geo.loc(vt.start_depot), self.geo.loc(vt.end)
                path = [s] + [self._l(x) for x in cur] + [e]
                penalty = 1e9 if not cur else 0.0
                for pos in range(len(cur) + 1):
                    a, b = path[pos], path[pos + 1]
                    cands.append((d[a][jl] + d[jl][b] - d[a][b] + penalty, v, pos))
            cands.sort()
            found: list[tuple[float, int, list[Visit]]] = []
            for delta, v, pos in cands:
                if found and (len(found) >= 3 or delta >= min(f[0] for f in found)):
                    break
                vt = vehicles[v][1]
                cand = routes[v][:pos] + [job] + routes[v][pos:]
                seq = self.repaired(vt, cand)
                if seq is not None:
                    found.append((self.km(vt, seq) - kms[v] + (1e9 if not routes[v] else 0.0), v, seq))
            if found:
                _, v, seq = min(found, key=lambda f: f[0])
                routes[v] = seq
                kms[v] = self.km(vehicles[v][1], seq)
                if fast is not None:
                    fast.set(v, vehicles[v][1], seq)
        return routes


class _KeptTables:
    """Compiled slack tables kept on the builder between calls of ``_insert_one`` (the ejection pool and the
    route elimination call it for every customer they move): a route's row is refilled only when its visits
    changed (compared by object identity, a C-speed tuple), so each call costs the compiled scan instead of a
    Python slack table per route (14 of 20 s of the elimination at 1,000 customers, Homberger RC2_10_1)."""

    def __init__(self, builder: Builder, vehicles: list[tuple[str, VehicleType]]):
        from routing.kernels import CompiledFilter, RouteTables

        self.b = builder
        self.ids = tuple(vid for vid, _ in vehicles)
        self.filt = CompiledFilter(builder, vehicles)
        self.kt = RouteTables(len(vehicles), 16)
        self.used = np.zeros(len(vehicles), dtype=bool)
        self.keys: list[tuple | None] = [None] * len(vehicles)

    @classmethod
    def of(cls, builder: Builder, vehicles: list[tuple[str, VehicleType]]) -> _KeptTables:
        kept = getattr(builder, "_kept_tables", None)
        ids = tuple(vid for vid, _ in vehicles)
        if kept is None or kept.ids != ids:
            kept = cls(builder, vehicles)
            builder._kept_tables = kept  # type: ignore[attr-defined]
        return kept

    def update(self, v: int, vt: VehicleType, seq: list[Visit]) -> None:
        key = tuple(map(id, seq))
        if self.keys[v] != key:
            self.filt.fill(self.b, self.kt, v, vt, seq)
            self.keys[v] = key
        self.used[v] = True


def _compiled_ok(builder: Builder) -> bool:
    from routing.kernels import CompiledFilter

    return CompiledFilter.usable(builder)


class _CompiledRoutes:
    """Compiled slack tables of the routes being built (``routing.kernels``)."""

    def __init__(self, builder: Builder, vehicles: list[tuple[str, VehicleType]]):
        from routing.kernels import CompiledFilter, RouteTables

        self.b = builder
        self.filt = CompiledFilter(builder, vehicles)
        self.kt = RouteTables(len(vehicles), 16)
        self.used = np.zeros(len(vehicles), dtype=bool)

    def set(self, v: int, vt: VehicleType, seq: list[Visit]) -> None:
        self.used[v] = bool(seq)
        if seq:
            self.filt.fill(self.b, self.kt, v, vt, seq)


def job_order(geo: Geometry, jobs: list[Job], by: str = "start") -> list[Job]:
    """Earliest window start (or end, ``by="end"``) first, so routes grow in time order; farthest first
    among equals."""
    depot = geo.loc(geo.problem.vehicle_types[0].start_depot)

    def key(j: Job) -> tuple[float, float]:
        if by == "end":
            t = max((w.end for w in j.time_windows), default=float("inf"))
        else:
            t = min((w.start for w in j.time_windows), default=0.0)
        return (t, -float(geo.dist[depot, geo.loc(j.location)]))

    return sorted(jobs, key=key)


def eliminate_routes(
    builder: Builder, vehicles: list[tuple[str, VehicleType]], routes: list[list[Visit]], deadline: float
) -> list[list[Visit]]:
    """Empty whole routes, smallest first, by inserting their jobs (with stations) into the other routes.

    A route is emptied only if every one of its jobs finds a feasible place; otherwise it is kept as it was.
    Stops at ``deadline`` (``clock.now()``).
    """

    routes = [list(r) for r in routes]
    tried: set[int] = set()
    while clock.now() < deadline:
        used = [v for v, r in enumerate(routes) if any(isinstance(x, Job) for x in r) and v not in tried]
        if len(used) <= 1:
            break
        v0 = min(used, key=lambda v: sum(1 for x in routes[v] if isinstance(x, Job)))
        tried.add(v0)
        trial = [list(r) for r in routes]
        jobs = [x for x in trial[v0] if isinstance(x, Job)]
        trial[v0] = []
        ok = True
        for job in jobs:
            if not _insert_one(builder, vehicles, trial, job, exclude=v0):
                ok = False
                break
        if ok:
            routes = trial
            tried = set()
    return routes


def _insert_one(
    builder: Builder,
    vehicles: list[tuple[str, VehicleType]],
    routes: list[list[Visit]],
    job: Job,
    exclude: int,
) -> bool:
    """Cheapest feasible insertion of ``job`` into a non-empty route other than ``exclude`` (in place)."""
    ok_types = builder.allowed.get(job.id, set())
    cands: list[tuple[float, int, int]] = []
    kept = _KeptTables.of(builder, vehicles) if _compiled_ok(builder) else None
    if kept is not None:
        kept.used[:] = False
    for v, (_, vt) in enumerate(vehicles):
        cur = routes[v]
        if v == exclude or not cur or vt.id not in ok_types:
            continue
        if kept is not None:
            kept.update(v, vt, cur)
            continue
        cands += [
            (detour, v, pos) for detour, pos in builder.positions(vt, builder.slack_table(vt, cur), job)
        ]
    if kept is not None:
        cands = kept.filt.candidates(kept, job)
    cands.sort()
    for _, v, pos in cands[:60]:
        seq = builder.repaired(vehicles[v][1], routes[v][:pos] + [job] + routes[v][pos:])
        if seq is not None:
            routes[v] = seq
            return True
    return False
