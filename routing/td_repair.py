"""Time-dependent problems: put back the mandatory jobs the conservative search left out, checked exactly.

The OR-Tools model sees every arc at the slowest speed factor of the vehicle's shift
(``routing.evaluate.Geometry``), so where it alone searches (no construction: cost or distance objectives
without stations, or the general path) a job servable only because part of the trip runs off-peak is left
out (Shenzhen depot-day, 100 stops, default profile, before the exact scan of the construction: 3
late-afternoon jobs far from the depot). Here
each such job is inserted at its cheapest position in a used route, or on a spare vehicle, where the EXACT
time-dependent evaluation (``routing.evaluate.evaluate_route``) accepts the route; the reported figures come
from that same evaluation, so nothing unsound is added. Greedy, within a deadline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from routing import clock
from routing.evaluate import evaluate_route
from routing.problem import Job

if TYPE_CHECKING:  # pragma: no cover
    from routing.solve import _Plan, _Runner


def place_left_out(runner: _Runner, plan: _Plan | None, deadline: float) -> _Plan | None:
    """``plan`` with left-out mandatory jobs inserted where the exact evaluation allows (``deadline`` from
    ``clock.now()``); the plan itself when there is nothing to do or no time."""
    from routing.solve import _Plan

    geo = runner.geo
    if plan is None or geo.freeflow_by_type is None:
        return plan
    visits = runner.visits_of(plan)
    served = {x.id for r in visits for x in r if isinstance(x, Job)}
    missing = [j for j in runner.jobs if j.id not in served and j.drop_penalty is None]
    if not missing:
        return plan
    vehicles = list(plan.vehicles)
    starts = list(plan.starts)
    charges = list(plan.charges) if plan.charges else [[] for _ in vehicles]
    used = {vid for vid, _ in vehicles}
    spare = [(vid, vt) for vid, vt in runner.problem.vehicle_ids() if vid not in used]
    kms = [
        evaluate_route(geo, vid, vt, r, starts[v]).route.distance_km
        for v, ((vid, vt), r) in enumerate(zip(vehicles, visits))
    ]
    placed = 0
    for n, job in enumerate(missing):
        # the first is always tried (a loaded machine overruns the slice)
        if n and clock.now() > deadline:
            break
        ok_types = runner.diag.allowed_types.get(job.id, set())
        best: tuple[float, int, list] | None = None
        for v, (vid, vt) in enumerate(vehicles):
            if vt.id not in ok_types or not visits[v]:
                continue
            for pos in range(len(visits[v]) + 1):
                cand = visits[v][:pos] + [job] + visits[v][pos:]
                ev = evaluate_route(geo, vid, vt, cand, vt.shift_start, stop_early=True)
                if ev.feasible:
                    delta = ev.route.distance_km - kms[v]
                    if best is None or delta < best[0]:
                        best = (delta, v, cand)
        if best is not None:
            _, v, cand = best
            visits[v], starts[v], charges[v] = cand, vehicles[v][1].shift_start, []
            kms[v] += best[0]
            placed += 1
            continue
        for k, (vid, vt) in enumerate(spare):
            if vt.id in ok_types and evaluate_route(geo, vid, vt, [job], vt.shift_start).feasible:
                vehicles.append(spare.pop(k))
                visits.append([job])
                starts.append(vt.shift_start)
                charges.append([])
                kms.append(evaluate_route(geo, vid, vt, [job], vt.shift_start).route.distance_km)
                placed += 1
                break
    if not placed:
        return plan
    runner.phases.append(f"exact time-dependent insertion: {placed} of {len(missing)} left-out job(s) placed")
    return _Plan(
        vehicles, runner.seqs_of(vehicles, visits) or [[] for _ in vehicles], starts, charges, visits
    )
