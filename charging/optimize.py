"""Cost-, peak- or carbon-optimal depot charging on OR-Tools.

- One connector per vehicle (or fixed connectors), continuous power: a single linear program (GLOP by default,
  PDLP on request), built in sparse blocks so that 1,000 vehicles x 64 slots take seconds.
- Fewer connectors than vehicles: each vehicle gets one connector for one contiguous plugged-in interval, at most
  one vehicle per connector per slot. Solved by decomposition: (1) the LP relaxation, where a vehicle may hold a
  fraction of a connector, gives the lower bound and the marginal price of energy per slot (row duals);
  (2) CP-SAT places one plug-in interval per vehicle (connectors of one kind are interchangeable, so a
  cumulative constraint per kind is exact: interval graphs are perfect, any overlap <= k colours with k
  connectors), minimising the energy's marginal cost and the shortfall; (3) intervals are stretched into free
  connector time, coloured onto concrete connectors, and the LP re-optimises power within them. The gap is
  reported against the LP bound.

Unservable vehicles get a soft shortfall with a large penalty; each is reported with its kWh and reason.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from ortools.sat.python import cp_model

from charging.accounting import SlotData, carbon_kg, site_cost, slot_data
from charging.baselines import BASELINES, summarize
from charging.check import check as check_schedule
from charging.columns import Column, Truck, column_bound, integer_master
from charging.discrete import discrete_vehicles, refine
from charging.fairness import ready_set, shortfall_weights
from charging.lp import INF, SOLVERS, SparseLP
from charging.problem import ChargingProblem, Connector, Vehicle, max_deliverable_kwh, taper_coefficients
from charging.result import ChargingSchedule, Unmet, VehicleSchedule

OBJECTIVES = ("cost", "peak", "carbon")
SHORTFALL_PENALTY = 1000.0  # objective units per kWh not delivered; far above any price [CNY/kWh]
OVERLOAD_PENALTY = 1.0e5  # per kWh of base load the site cannot supply within its import limit
TIE = 1.0e-3  # weight of the cost in the peak/carbon objectives and of the peak in the cost objective
MIP_SOLVER = "scip"  # via OR-Tools model builder; takes the greedy plan as a hint
MIP_MAX_BINARIES = 10_000  # exact sharing MIP below this; above, CP-SAT on intervals (SCIP found nothing better than greedy in 50 s on 200 trucks / 30 connectors, 17,410 binaries)
GAP_OPTIMAL = 1.0e-6  # relative gap to the LP bound below which a shared-connector plan counts as optimal
GAP_IMPROVE = (
    1.0e-4  # the greedy plan is improved (MIP or CP-SAT) only when it is further than this from the bound
)
TINY = 1.0e-6  # per kWh of battery throughput: no pointless simultaneous charge and discharge


@dataclass(frozen=True)
class _Plan:
    """Which connector each vehicle uses and during which slots [first, last)."""

    connector: tuple[int | None, ...]
    window: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class _Virtual:
    """Relaxation: a vehicle on the best connector it could get, holding y in [0, 1] of it per slot."""

    max_kw: float
    efficiency: float
    v2g: bool


def schedule(
    problem: ChargingProblem,
    *,
    objective: str = "cost",
    time_limit_s: float = 60.0,
    seed: int = 0,
    num_workers: int = 2,
    lp_solver: str = "auto",
    baselines: bool = True,
) -> ChargingSchedule:
    """Optimal charging plan for `problem`.

    Parameters
    ----------
    objective : "cost" [CNY] (default), "peak" [kW] or "carbon" [kgCO2]; all three are always reported.
    time_limit_s : wall-clock budget [s] for all solver calls together.
    seed : CP-SAT random seed (the LP is deterministic).
    num_workers : CP-SAT worker threads (keep low inside a process pool).
    lp_solver : "auto" (default: GLOP, or HiGHS interior point for large LPs whose duals are not needed), "glop"
        (simplex), "pdlp" (first-order), "highs" or "highs-ipm" (see charging/lp.py).
    baselines : also run uncontrolled, EDF and timer baselines and report savings against them.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective: must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if lp_solver not in SOLVERS:
        raise ValueError(f"lp_solver: must be one of {', '.join(SOLVERS)}, got {lp_solver!r}")
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    data = slot_data(problem)
    warnings: list[str] = []
    timings: dict[str, float] = {}
    if problem.shortfall_policy == "max_ready" and not problem.shortfall_weights:
        # First the most trucks ready for their first route, then cost (charging.fairness).
        chosen = ready_set(problem, data, time_limit_s=min(10.0, max(1.0, time_limit_s / 4)))
        timings["ready_set_s"] = time.perf_counter() - t0
        if chosen.status != "all" and chosen.ready:
            problem = replace(problem, shortfall_weights=shortfall_weights(problem, chosen))
            warnings.append(
                f"not every truck can be made ready: {len(chosen.ready)} of {chosen.needy} chosen to be served in "
                f"full first ({chosen.status}"
                + (f", at most {chosen.bound:.0f} possible" if chosen.bound is not None else "")
                + "), the others share what is left"
            )
    lp_bound = gap = best_bound = None
    own = None if problem.sharing else _own_connectors(problem)
    # One connector each is a single LP only when the greedy assignment is provably best (every vehicle on a
    # connector at least as good as any free one); otherwise the assignment is searched like sharing, with a
    # bound, so that `optimal` always means proven.
    proven_assignment = own is not None and _assignment_is_best(problem, own)
    if own is not None:
        plan = own
        result, cols = _solve_plan(
            problem, data, objective, plan, lp_solver, deadline, warnings, timings, duals=False
        )
        solver_name = result.solver
        status = result.status
    if own is None or (not proven_assignment and problem.connector_sharing is None):
        searched = _shared_connectors(
            problem, data, objective, seed, num_workers, deadline, lp_solver, warnings, timings
        )
        bound, how, best_bound = searched[3], searched[4], searched[5]
        engine = "glop" if lp_solver == "auto" else lp_solver  # the sharing path prices slots with duals
        solver_name = f"{engine} relaxation + {how} + {engine}"
        if own is None or (
            searched[1].status in ("optimal", "feasible")
            and searched[1].objective < result.objective - 1e-9 * max(1.0, abs(result.objective))
        ):
            plan, result, cols = searched[0], searched[1], searched[2]
        else:  # the greedy assignment is as good as anything the search found: keep it
            solver_name = (
                f"{result.solver} (greedy connectors; connector kinds differ, searched: {solver_name})"
            )
        lp_bound = bound
        if bound is not None and math.isfinite(result.objective):
            gap = max(0.0, (result.objective - bound) / max(abs(bound), 1e-9))
        status = result.status
        if status == "optimal":
            proven = best_bound is not None and result.objective - best_bound <= GAP_OPTIMAL * max(
                abs(best_bound), 1e-9
            )
            status = "optimal" if (gap is not None and gap <= GAP_OPTIMAL) or proven else "feasible"
    elif not proven_assignment and status == "optimal":
        status = "feasible"  # optimal for this assignment only; sharing is switched off, so no search
        warnings.append("connectors differ and sharing is off: the greedy connector assignment is unproven")
    if result.status not in ("optimal", "feasible"):
        raise RuntimeError(
            f"charging LP ended with status {result.status} (time limit too short, or a bug: "
            "please keep the scenario)"
        )
    ran: dict[str, ChargingSchedule] = {}  # baseline schedules already simulated, reused for the summaries
    power = None
    if discrete_vehicles(problem, plan.connector, plan.window):
        t2 = time.perf_counter()
        refined = refine(
            problem,
            data,
            objective,
            plan.connector,
            plan.window,
            _lp_power(problem, result.x, cols),
            _fixed_site(problem, data, result.x, cols),
            data.pv - np.clip(result.x[cols["curt"]], 0.0, data.pv),
            shortfall_penalty=SHORTFALL_PENALTY,
            tie=TIE,
            seed=seed,
            num_workers=num_workers,
            time_limit_s=max(1.0, deadline - time.perf_counter()),
        )
        timings["discrete_s"] = time.perf_counter() - t2
        power = refined.power
        solver_name += f" + cp-sat power steps ({refined.n_integer_vars} integer vars, {refined.status})"
        if lp_bound is None:
            lp_bound = result.objective
        status = "feasible"
    out = _extract(problem, data, objective, plan, result.x, cols, status, solver_name, warnings, power)
    objective_value = result.objective
    if power is not None:
        objective_value = _objective_value(objective, out, problem)
        idle = (
            "no CP-SAT plan" in refined.status or "left idle" in refined.status
        )  # CP-SAT found none in time
        if problem.operability.active or idle:
            # A runnable baseline (timer, balanced, ...) that meets the same limits and costs less is the better
            # plan: the discrete search is never allowed to end worse than the simplest schedule a depot runs.
            for name, run in BASELINES.items():
                candidate = ran[name] = run(problem)
                value = _objective_value(objective, candidate, problem)
                if value < objective_value - 1e-9 and check_schedule(problem, candidate).ok:
                    out = replace(
                        candidate,
                        status="feasible",
                        objective=objective,
                        solver=f"{solver_name}; kept the {name} baseline ("
                        + (
                            "the discrete search found no plan in time"
                            if idle
                            else "cheaper than the discrete search"
                        )
                        + ")",
                        warnings=tuple(warnings),
                    )
                    objective_value = value
        gap = max(0.0, (objective_value - lp_bound) / max(abs(lp_bound), 1e-9))
        if gap <= GAP_OPTIMAL:
            out = replace(out, status="optimal")
    overload = np.flatnonzero(result.x[cols["over"]] > 1e-6)
    if overload.size:
        # The base load alone breaks the site import limit or a demand-response cap there (the LP pays the
        # overload penalty only when nothing, not even a shortfall, avoids it): no plan is feasible.
        out = replace(out, status="infeasible", infeasible_slots=tuple(int(t) for t in overload))
    timings["optimise_s"] = time.perf_counter() - t0
    summaries = {}
    if baselines:
        tb = time.perf_counter()
        for name, run in BASELINES.items():
            summaries[name] = summarize(name, ran[name] if name in ran else run(problem), out.cost)
        timings["baselines_s"] = time.perf_counter() - tb
    timings["total_s"] = time.perf_counter() - t0
    if best_bound is not None and best_bound <= (lp_bound if lp_bound is not None else best_bound):
        best_bound = None  # no better than the LP bound: report that one only
    return replace(
        out,
        baselines=summaries,
        lp_bound=lp_bound,
        gap=gap,
        objective_value=objective_value,
        best_bound=best_bound,
        timings_s=timings,
    )


def _objective_value(objective: str, s: ChargingSchedule, problem: ChargingProblem) -> float:
    """The LP's objective evaluated on a schedule (penalised shortfall and its largest share included), for the
    gap to the bound."""
    weights = problem.shortfall_weights
    short = SHORTFALL_PENALTY * sum(u.shortfall_kwh * weights.get(u.id, 1.0) for u in s.unmet)
    needs = {v.id: v.need_kwh for v in problem.vehicles if v.need_kwh > 1e-6}
    if len(needs) > 1 and s.unmet and not weights:
        worst = max(u.shortfall_kwh / needs[u.id] for u in s.unmet if u.id in needs)
        short += SHORTFALL_PENALTY * sum(needs.values()) * min(1.0, worst)
    if objective == "cost":
        return s.cost.total + short
    main = s.peak_kw if objective == "peak" else s.carbon_kg
    return main + TIE * s.cost.total + short


# ---- connector assignment ----------------------------------------------------------------------------------------
def _own_connectors(problem: ChargingProblem) -> _Plan:
    """Each vehicle on its own connector: fixed ones first, then greedily (V2G to V2G, big needs to big power)."""
    conns = problem.connectors
    fixed_ids = {v.connector for v in problem.vehicles if v.connector is not None}
    free = [k for k, c in enumerate(conns) if c.id not in fixed_ids]
    group_load = {g.id: 0.0 for g in problem.groups}
    group_cap = {g.id: g.max_kw for g in problem.groups}
    index = {c.id: k for k, c in enumerate(conns)}
    assigned: list[int | None] = [None] * len(problem.vehicles)
    for i, v in enumerate(problem.vehicles):
        if v.connector is not None:
            assigned[i] = index[v.connector]
    order = sorted(
        (i for i, v in enumerate(problem.vehicles) if v.connector is None),
        key=lambda i: (not problem.vehicles[i].v2g, -problem.vehicles[i].need_kwh, i),
    )
    # Free connectors by kind (interchangeable within a kind, so the lowest index of a kind stands for it):
    # O(vehicles x kinds) instead of O(vehicles x connectors), 5,000 trucks in milliseconds.
    by_kind: dict[tuple, list[int]] = {}
    for k in free:
        by_kind.setdefault(conns[k].class_key(), []).append(k)
    stacks = [sorted(ks, reverse=True) for ks in by_kind.values()]  # pop() gives the lowest index
    for i in order:
        stacks = [ks for ks in stacks if ks]
        if not stacks:
            break
        v = problem.vehicles[i]

        def score(ks: list[int], v: Vehicle = v) -> tuple[float, ...]:
            c = conns[ks[-1]]
            headroom = INF if c.group is None else group_cap[c.group] - group_load[c.group]
            return (float(c.v2g == v.v2g), min(c.max_kw, v.max_kw), headroom, -ks[-1])

        k = max(stacks, key=score).pop()
        assigned[i] = k
        if conns[k].group is not None:
            group_load[conns[k].group] += min(conns[k].max_kw, v.max_kw)
    windows = tuple(
        problem.usable_range(v) if assigned[i] is not None else (0, 0) for i, v in enumerate(problem.vehicles)
    )
    return _Plan(connector=tuple(assigned), window=windows)


def _assignment_is_best(problem: ChargingProblem, plan: _Plan) -> bool:
    """Whether every unfixed vehicle got a connector that dominates every free one for it (power up to the
    vehicle's own limit, efficiency, V2G, no cabinet group or the same one, no discrete control): then no other
    assignment can do better, whatever the prices."""
    conns = problem.connectors
    fixed_ids = {v.connector for v in problem.vehicles if v.connector is not None}
    free = [c for c in conns if c.id not in fixed_ids]
    kinds = {c.class_key(): c for c in free}.values()
    if len(kinds) <= 1:
        return all(k is not None for k in plan.connector)
    for v, k in zip(problem.vehicles, plan.connector):
        if v.connector is not None:
            continue
        if k is None:
            return False
        c = conns[k]
        for o in kinds:
            if (
                min(c.max_kw, v.max_kw) < min(o.max_kw, v.max_kw) - 1e-12
                or c.efficiency < o.efficiency - 1e-12
                or (v.v2g and o.v2g and not c.v2g)
                or (c.group is not None and c.group != o.group)
                or (c.discrete and c.class_key()[4:] != o.class_key()[4:])
            ):
                return False
    return True


def _slots_needed(problem: ChargingProblem, v: Vehicle, kw: float, eff: float, first: int, last: int) -> int:
    """Slots at full power (taper included) to deliver the need; the whole stay if it cannot."""
    energy, dt = v.energy_arrival_kwh, problem.dt_h
    for n in range(last - first):
        if energy >= v.energy_target_kwh - 1e-9:
            return n
        energy = min(v.capacity_kwh, energy + eff * min(kw, v.taper_limit(energy)) * dt)
    return last - first


def _shared_connectors(
    problem: ChargingProblem,
    data: SlotData,
    objective: str,
    seed: int,
    num_workers: int,
    deadline: float,
    lp_solver: str,
    warnings: list[str],
    timings: dict[str, float],
):
    """Connector sharing: relaxation bound, interval placement (greedy, then CP-SAT if needed), final LP."""
    t0 = time.perf_counter()
    conns = problem.connectors
    vehicles = problem.vehicles
    n, dt = problem.n_slots, problem.dt_h
    # Kinds of interchangeable connectors; a connector fixed for some vehicle is a kind of its own.
    fixed_ids = {v.connector for v in vehicles if v.connector is not None}
    kinds: dict[tuple, list[int]] = {}
    for k, c in enumerate(conns):
        key = ("fixed", c.id) if c.id in fixed_ids else c.class_key()
        kinds.setdefault(key, []).append(k)
    kind_list = list(kinds.values())
    capacity = [len(ks) for ks in kind_list]
    kind_of_conn = {k: j for j, ks in enumerate(kind_list) for k in ks}
    index = {c.id: k for k, c in enumerate(conns)}
    candidates = []
    for v in vehicles:
        if v.connector is not None:
            candidates.append([kind_of_conn[index[v.connector]]])
        else:  # any kind, including connectors fixed for others (the per-kind limit keeps them apart in time)
            candidates.append(list(range(len(kind_list))))
    # (1) LP relaxation (a vehicle may hold a share of a connector): bound, marginal prices, power profile.
    virtual = []
    for i in range(len(vehicles)):
        cs = [conns[kind_list[j][0]] for j in candidates[i]]
        virtual.append(
            _Virtual(
                max_kw=max(c.max_kw for c in cs),
                efficiency=max(c.efficiency for c in cs),
                v2g=any(c.v2g for c in cs),
            )
        )
    plan_all = _Plan(
        connector=tuple(None for _ in vehicles), window=tuple(problem.usable_range(v) for v in vehicles)
    )
    relax = _build(problem, data, objective, plan=plan_all, virtual=virtual, warnings=[])
    res, rcols = relax.solve(lp_solver, max(1.0, 0.4 * (deadline - time.perf_counter())))
    timings["relax_s"] = time.perf_counter() - t0
    solved = res.status in ("optimal", "feasible")
    bound = res.objective if res.status == "optimal" else None
    if bound is None:
        warnings.append(f"LP relaxation ended {res.status}; no bound reported")
    priced = solved and bool(np.all(np.isfinite(res.duals[rcols["balance"]])))  # HiGHS gives no duals
    pi = np.maximum(res.duals[rcols["balance"]], 0.0) if priced else data.price * dt
    relax_power = np.zeros((len(vehicles), n))
    for i, entry in enumerate(rcols["veh"]):
        if "c" in entry and solved:
            relax_power[i, entry["a"] : entry["b"]] = res.x[entry["c"]]

    # (2) Cost of each possible interval start: charging the need at full power in the cheapest slots of
    # [s, s + n_j), priced at the relaxation's marginal prices; a 5 % discount where the relaxation charged
    # the vehicle breaks ties between equal prices so that intervals spread like the relaxation.
    def make_tables(prices: np.ndarray) -> dict[int, dict[int, tuple[np.ndarray, int, float]]]:
        out: dict[int, dict[int, tuple[np.ndarray, int, float]]] = {}
        for i, v in enumerate(vehicles):
            first, last = problem.usable_range(v)
            if last <= first or v.need_kwh <= 1e-9 or not candidates[i]:
                continue
            pi_v = prices[first:last] * (
                1.0 - 0.05 * relax_power[i, first:last] / max(virtual[i].max_kw, 1e-9)
            )
            for j in candidates[i]:
                c = conns[kind_list[j][0]]
                kw = min(c.max_kw, v.max_kw)
                n_j = max(1, _slots_needed(problem, v, kw, c.efficiency, first, last))
                table = _window_costs(pi_v, kw, v.need_kwh / c.efficiency, n_j, dt)
                out.setdefault(i, {})[j] = (table, n_j, SHORTFALL_PENALTY * kw * c.efficiency * dt)
        return out

    tables = make_tables(pi)

    def finish(placement: dict[int, tuple[int, int, int]]):
        plan = _stretch_and_colour(problem, placement, kind_list)
        t = time.perf_counter()
        result, cols = _solve_plan(problem, data, objective, plan, lp_solver, deadline, warnings, {})
        timings["final_lp_s"] = timings.get("final_lp_s", 0.0) + time.perf_counter() - t
        return plan, result, cols

    best_bound = bound
    t1 = time.perf_counter()
    greedy, greedy_cost = _greedy_intervals(problem, tables, capacity)
    best = finish(greedy)
    hint_for_mip = greedy
    how = "greedy intervals"
    gap = None if bound is None else (best[1].objective - bound) / max(abs(bound), 1e-9)
    # Multi-start: other vehicle orders, while they are cheap next to the budget; keep the best plan.
    for order in GREEDY_ORDERS[1:]:
        spent = time.perf_counter() - t1
        if (gap is not None and gap <= GAP_IMPROVE) or spent > 0.1 * (deadline - t0):
            break
        other_greedy, other_cost = _greedy_intervals(problem, tables, capacity, order)
        other = finish(other_greedy)
        if other[1].status in ("optimal", "feasible") and other[1].objective < best[1].objective - 1e-9:
            best, greedy, greedy_cost = other, other_greedy, other_cost
            hint_for_mip = greedy
            how = f"greedy intervals ({order} order)"
            gap = None if bound is None else (best[1].objective - bound) / max(abs(bound), 1e-9)
    # Price iteration: re-price slots with the current plan's marginal prices (averaged with the previous ones,
    # so that congestion the plan created shows up) and place again; keep the best plan.
    prices, last = pi, best
    for _ in range(PRICE_ROUNDS):
        if (gap is not None and gap <= GAP_IMPROVE) or time.perf_counter() - t1 > 0.25 * (deadline - t0):
            break
        if last[1].status != "optimal" or not np.all(np.isfinite(last[1].duals[last[2]["balance"]])):
            break
        prices = 0.5 * prices + 0.5 * np.maximum(last[1].duals[last[2]["balance"]], 0.0)
        placed, _ = _greedy_intervals(problem, make_tables(prices), capacity)
        last = finish(placed)
        if last[1].status in ("optimal", "feasible") and last[1].objective < best[1].objective - 1e-9:
            best = last
            hint_for_mip = placed
            how = "greedy intervals (re-priced)"
            gap = None if bound is None else (best[1].objective - bound) / max(abs(bound), 1e-9)
    timings["greedy_s"] = time.perf_counter() - t1
    remaining = deadline - time.perf_counter()
    n_binaries = 2 * sum(
        (problem.usable_range(v)[1] - problem.usable_range(v)[0]) * len(candidates[i])
        for i, v in enumerate(vehicles)
    )
    if (gap is None or gap > GAP_IMPROVE) and remaining > 1.0 and n_binaries <= MIP_MAX_BINARIES:
        t2 = time.perf_counter()
        mip_result, placement = _mip_intervals(
            problem, data, objective, virtual, candidates, kind_list, hint_for_mip, 0.85 * remaining
        )
        timings["mip_s"] = time.perf_counter() - t2
        how = f"greedy + MIP intervals ({MIP_SOLVER}, {n_binaries} binaries, {mip_result.status})"
        if mip_result.best_bound is not None and math.isfinite(mip_result.best_bound):
            best_bound = (
                mip_result.best_bound if best_bound is None else max(best_bound, mip_result.best_bound)
            )
        if placement is not None:
            other = finish(placement)
            if other[1].status in ("optimal", "feasible") and other[1].objective < best[1].objective:
                best = other
                how += ", MIP kept"
            else:
                how += ", greedy kept"
    elif (gap is None or gap > GAP_IMPROVE) and remaining > 2.0 and USE_COLUMNS and _columns_apply(problem):
        # Column generation: a bound that counts whole connector-slots per truck, then the best plan made of its
        # columns (charging/columns.py); the interval model below runs only where columns do not apply.
        t2 = time.perf_counter()
        left = deadline - t2
        cg, chosen, mip_status = _column_search(
            problem, data, objective, candidates, kind_list, best, t2 + COLUMN_SHARE * left, t2 + 0.85 * left
        )
        timings["columns_s"] = time.perf_counter() - t2
        if cg.bound is not None and (best_bound is None or cg.bound > best_bound):
            best_bound = cg.bound
        how = (
            f"{how} + column bound ({cg.iterations} rounds, {len(cg.columns)} columns) + "
            f"{MIP_SOLVER} on columns ({mip_status})"
        )
        if chosen:
            placement = {i: (c.kind, c.start, c.end - c.start) for i, c in chosen.items()}
            other = finish(placement)
            if other[1].status in ("optimal", "feasible") and other[1].objective < best[1].objective - 1e-9:
                best = other
                how += ", kept"
            else:
                how += ", greedy kept"
    elif (gap is None or gap > GAP_IMPROVE) and remaining > 1.0:
        site = _plain_site(problem, data, objective)
        cp_tables, cp_peak = tables, None
        if site is not None:  # real prices and the demand charge on the peak, not a linearisation of them
            cp_tables = make_tables(data.price * dt)
            cp_peak = _PeakModel(
                kw={
                    (i, j): min(vehicles[i].max_kw, conns[kind_list[j][0]].max_kw)
                    for i, by_kind in cp_tables.items()
                    for j in by_kind
                },
                offset=site,
                segments=tuple((seg.width_kw, seg.cny_per_kw) for seg in problem.tariff.demand_segments()),
                month_peak=problem.tariff.month_peak_kw_so_far,
                cap=float(data.import_cap.min()) - site,
            )
        placement, cp_status = _cpsat_intervals(
            problem,
            cp_tables,
            candidates,
            capacity,
            greedy,
            None if cp_peak is not None else greedy_cost,
            seed,
            num_workers,
            0.7 * remaining,
            timings,
            cp_peak,
        )
        how = f"greedy + cp-sat intervals ({num_workers} workers, {'peak-aware, ' if cp_peak else ''}{cp_status})"
        if placement is not None:
            other = finish(placement)
            if other[1].status in ("optimal", "feasible") and other[1].objective < best[1].objective:
                best = other
                how += ", cp-sat kept"
            else:
                how += ", greedy kept"
    plan, result, cols = best
    return plan, result, cols, bound, how, best_bound


USE_COLUMNS = (
    True  # large sharing depots: column generation (bound and plan) instead of the CP-SAT interval model
)
COLUMN_SHARE = 0.4  # of the time left after the greedy plans: the column bound; then its MIP up to 0.85 of it


def _columns_apply(problem: ChargingProblem) -> bool:
    """Whether the column bound models the problem exactly: charging-only trucks without taper, no cabinet
    groups (their limits would couple trucks inside a slot beyond the connector count)."""
    return not problem.groups and all(
        v.taper_soc is None and not (v.v2g and v.discharge_kw > 0) for v in problem.vehicles
    )


def _column_search(
    problem: ChargingProblem,
    data: SlotData,
    objective: str,
    candidates: list[list[int]],
    kind_list: list[list[int]],
    seed_plan,
    deadline: float,
    mip_deadline: float,
):
    """Dantzig-Wolfe bound on the sharing problem (charging/columns.py) until `deadline`, seeded with a plan's
    intervals, then a MIP choosing one generated column per truck until `mip_deadline` (hinted with the plan)."""
    conns, vehicles = problem.connectors, problem.vehicles
    empty = replace(problem, vehicles=())

    def site():
        model = _build(empty, data, objective, plan=_Plan((), ()), virtual=None, warnings=[])
        return model.lp, model.cols["balance"]

    trucks = []
    for i, v in enumerate(vehicles):
        first, last = problem.usable_range(v)
        kinds = tuple(
            (j, min(v.max_kw, conns[kind_list[j][0]].max_kw), conns[kind_list[j][0]].efficiency)
            for j in candidates[i]
        )
        weight = problem.shortfall_weights.get(v.id, 1.0)  # "max_ready": chosen trucks first
        trucks.append(Truck(i, first, last, v.need_kwh, v.capacity_kwh - v.energy_arrival_kwh, kinds, weight))
    kind_of_conn = {k: j for j, ks in enumerate(kind_list) for k in ks}
    plan, result, cols = seed_plan
    power = _lp_power(problem, result.x, cols)
    start = []
    for i, (k, (a, b)) in enumerate(zip(plan.connector, plan.window)):
        if k is not None and b > a:
            short = max(0.0, float(result.x[cols["veh"][i]["s"]]))
            start.append(Column(i, kind_of_conn[k], a, b, np.maximum(power[i, a:b], 0.0), short))
    battery = problem.site.battery
    implied = float(
        np.max(data.base, initial=0.0)
        + np.max(data.pv, initial=0.0)
        + sum(v.max_kw for v in vehicles)
        + (battery.max_kw if battery is not None else 0.0)
    )
    capacity = [len(ks) for ks in kind_list]
    cg = column_bound(trucks, capacity, site, start, data.dt, SHORTFALL_PENALTY, deadline, implied_ub=implied)
    chosen, status = integer_master(
        trucks,
        capacity,
        site,
        cg.columns,
        range(len(start)),
        SHORTFALL_PENALTY,
        max(1.0, mip_deadline - time.perf_counter()),
    )
    return cg, chosen, status


def _mip_intervals(
    problem: ChargingProblem,
    data: SlotData,
    objective: str,
    virtual: Sequence[_Virtual],
    candidates: list[list[int]],
    kind_list: list[list[int]],
    hint: dict[int, tuple[int, int, int]],
    time_limit_s: float,
):
    """Exact sharing model for small depots: the relaxation plus binaries x (plugged on a connector kind) and
    z (plug-in start) per vehicle, kind and slot; contiguity x_t <= x_t-1 + z_t, one start, at most |kind|
    plugged per slot, power per kind for the cabinet limits. Power stays continuous. Solved with SCIP through OR-Tools' model builder."""
    vehicles = problem.vehicles
    conns = problem.connectors
    plan_all = _Plan(
        connector=tuple(None for _ in vehicles), window=tuple(problem.usable_range(v) for v in vehicles)
    )
    model = _build(problem, data, objective, plan=plan_all, virtual=virtual, warnings=[])
    lp, cols = model.lp, model.cols
    n = problem.n_slots
    per_kind: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in kind_list]
    xs: dict[tuple[int, int], tuple[np.ndarray, int]] = {}
    group_power: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {g.id: [] for g in problem.groups}
    for i, v in enumerate(vehicles):
        entry = cols["veh"][i]
        if "c" not in entry:
            continue
        a, b = entry["a"], entry["b"]
        length = b - a
        # Power per connector kind: p_j <= kw_j x_j, sum_j p_j = charge + discharge (for cabinet limits).
        split = lp.add_rows(length, lb=0.0, ub=0.0)
        lp.add_coef(split, entry["c"], 1.0)
        if "d" in entry:
            lp.add_coef(split, entry["d"], 1.0)
        starts = lp.add_rows(1, ub=1.0)
        v2g_only = None
        if "d" in entry:  # discharge only while plugged into a V2G connector kind
            v2g_only = lp.add_rows(length, ub=0.0)
            lp.add_coef(v2g_only, entry["d"], 1.0)
        for j in candidates[i]:
            conn = conns[kind_list[j][0]]
            kw = min(v.max_kw, conn.max_kw)
            x = lp.add_vars(length, 0.0, 1.0, 0.0, integer=True)
            z = lp.add_vars(length, 0.0, 1.0, 0.0, integer=True)
            pj = lp.add_vars(length, 0.0, kw, 0.0)
            lp.add_coef(split, pj, -1.0)
            link = lp.add_rows(length, ub=0.0)
            lp.add_coef(link, pj, 1.0)
            lp.add_coef(link, x, -kw)
            if v2g_only is not None and conn.v2g:
                lp.add_coef(v2g_only, x, -kw)
            if conn.group is not None:
                group_power[conn.group].append((np.arange(a, b), pj))
            contiguity = lp.add_rows(length, ub=0.0)
            lp.add_coef(contiguity, x, 1.0)
            lp.add_coef(contiguity[1:], x[:-1], -1.0)
            lp.add_coef(contiguity, z, -1.0)
            lp.add_coef(starts, z, 1.0)
            per_kind[j].append((np.arange(a, b), x))
            xs[(i, j)] = (x, a)
            if i in hint and hint[i][0] == j:
                _, s0, l0 = hint[i]
                on = np.zeros(length)
                on[s0 - a : s0 - a + l0] = 1.0
                start = np.zeros(length)
                if l0 > 0:
                    start[s0 - a] = 1.0
                lp.hint(x, on)
                lp.hint(z, start)
    for g in problem.groups:
        if group_power[g.id]:
            rows = lp.add_rows(n, ub=g.max_kw)
            for t, pj in group_power[g.id]:
                lp.add_coef(rows[t], pj, 1.0)
    for j, terms in enumerate(per_kind):
        if terms:
            rows = lp.add_rows(n, ub=float(len(kind_list[j])))
            for t, x in terms:
                lp.add_coef(rows[t], x, 1.0)
    result = lp.solve(MIP_SOLVER, time_limit_s)
    if result.status not in ("optimal", "feasible"):
        return result, None
    placement: dict[int, tuple[int, int, int]] = {}
    for (i, j), (x, a) in xs.items():
        on = np.flatnonzero(result.x[x] > 0.5)
        if on.size:
            placement[i] = (j, a + int(on[0]), int(on[-1] - on[0] + 1))
    return result, placement


@dataclass(frozen=True)
class _PeakModel:
    """Site peak in the interval model: vehicles at full power `kw[(vehicle, kind)]` over their intervals on a
    constant net base load `offset` [kW]; demand charge in convex `segments` (width kW, CNY/kW) above
    `month_peak`; vehicle load at most `cap` [kW]."""

    kw: dict[tuple[int, int], float]
    offset: float
    segments: tuple[tuple[float, float], ...]
    month_peak: float
    cap: float


def _plain_site(problem: ChargingProblem, data: SlotData, objective: str) -> float | None:
    """The constant net base load [kW] when the cost objective sees only energy prices and the peak (no PV,
    battery, DR events, varying base load or import limit): then the interval model can price exactly a plan
    that charges at full power; None otherwise."""
    net = data.base - data.pv
    if (
        objective != "cost"
        or problem.site.battery is not None
        or problem.dr_events
        or problem.groups
        or np.any(data.pv > 0)
        or np.ptp(net) > 1e-9
        or np.ptp(data.import_cap) > 1e-9
    ):
        return None
    return float(net[0]) if len(net) else 0.0


def _cpsat_intervals(
    problem: ChargingProblem,
    tables: dict[int, dict[int, tuple[np.ndarray, int, float]]],
    candidates: list[list[int]],
    capacity: Sequence[int],
    hint: dict[int, tuple[int, int, int]],
    hint_cost: float | None,
    seed: int,
    num_workers: int,
    time_limit_s: float,
    timings: dict[str, float],
    peak: _PeakModel | None = None,
) -> tuple[dict[int, tuple[int, int, int]] | None, str]:
    """One interval per vehicle on one connector kind; at most `capacity[kind]` overlap (cumulative).

    With `peak`, the tables hold real energy prices and the model adds the site peak (a cumulative of the
    vehicles' full power under a variable capacity) and its demand charge: the objective is then the cost of
    the full-power plan itself, an upper bound on what the final LP makes of the same intervals.
    """
    t0 = time.perf_counter()
    model = cp_model.CpModel()
    scale = 100.0  # objective in 0.01 units
    intervals: dict[int, list] = {j: [] for j in range(len(capacity))}
    power_ivs, power_kw = [], []
    starts, lengths, choice = {}, {}, {}
    terms = []
    for i, by_kind in tables.items():
        first, last = problem.usable_range(problem.vehicles[i])
        s = model.NewIntVar(first, last - 1, f"s{i}")
        length = model.NewIntVar(0, max(n_j for _, n_j, _ in by_kind.values()), f"L{i}")
        e = model.NewIntVar(first, last, f"e{i}")
        model.Add(s + length == e)
        cost = model.NewIntVar(0, 10**13, f"c{i}")
        lits = {}
        for j, (table, n_j, per_slot) in by_kind.items():
            lit = model.NewBoolVar(f"x{i}_{j}")
            lits[j] = lit
            elem = model.NewIntVar(0, 10**13, f"t{i}_{j}")
            model.AddElement(s - first, [int(round(scale * x)) for x in table], elem)
            model.Add(cost >= elem + int(round(scale * per_slot)) * (n_j - length)).OnlyEnforceIf(lit)
            model.Add(length <= n_j).OnlyEnforceIf(lit)
            iv = model.NewOptionalIntervalVar(s, length, e, lit, f"iv{i}_{j}")
            intervals[j].append(iv)
            if peak is not None:
                power_ivs.append(iv)
                power_kw.append(int(math.ceil(peak.kw[(i, j)] - 1e-9)))
        model.AddExactlyOne(lits.values())
        starts[i], lengths[i], choice[i] = s, length, lits
        terms.append(cost)
        if i in hint:
            j_h, s_h, l_h = hint[i]
            model.AddHint(s, s_h)
            model.AddHint(length, l_h)
            for j, lit in lits.items():
                model.AddHint(lit, int(j == j_h))
    for j, ivs in intervals.items():
        if ivs:
            model.AddCumulative(ivs, [1] * len(ivs), int(capacity[j]))
    if peak is not None and power_ivs:
        # Vehicle load <= load_peak at every slot; demand charge on offset + load_peak above the month's peak.
        top = int(min(sum(power_kw), max(0.0, peak.cap)))
        load_peak = model.NewIntVar(0, max(top, 0), "load_peak")
        model.AddCumulative(power_ivs, power_kw, load_peak)
        demand = model.NewIntVar(0, 10**13, "demand")
        above = peak.offset - peak.month_peak  # increase = load_peak + above
        start_kw, start_cost = 0.0, 0.0
        for width, rate in peak.segments:  # convex: the charge is the max of the pieces' lines
            # charge >= start_cost + rate * (increase - start_kw)
            model.Add(
                demand
                >= int(round(scale * rate)) * load_peak
                + int(round(scale * (start_cost + rate * (above - start_kw))))
            )
            if not math.isfinite(width):
                break
            start_kw, start_cost = start_kw + width, start_cost + rate * width
        terms.append(demand)
        if hint:
            hinted = np.zeros(problem.n_slots + 1)
            for i, (j, s_h, l_h) in hint.items():
                if i in tables and (i, j) in peak.kw:
                    hinted[s_h : s_h + l_h] += math.ceil(peak.kw[(i, j)] - 1e-9)
            model.AddHint(load_peak, int(min(hinted.max(), top)))
    model.Minimize(sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, int(num_workers))
    solver.parameters.random_seed = int(seed)
    solver.parameters.max_time_in_seconds = max(0.5, time_limit_s)
    solver.parameters.relative_gap_limit = 1e-3  # a proxy objective: proving its optimum buys nothing
    code = solver.Solve(model)
    status = solver.StatusName(code).lower()
    timings["cpsat_s"] = time.perf_counter() - t0
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or (
        hint_cost is not None and solver.ObjectiveValue() > scale * hint_cost + len(tables)
    ):
        return None, status
    out = {}
    for i, start in starts.items():
        j = next(j for j, lit in choice[i].items() if solver.Value(lit))
        out[i] = (j, solver.Value(start), solver.Value(lengths[i]))
    return out, status


def _stretch_and_colour(
    problem: ChargingProblem, placement: dict[int, tuple[int, int, int]], kind_list: list[list[int]]
) -> _Plan:
    """Grow intervals into free connector time (round robin, so it is shared fairly), then give each a connector.

    Within one kind, at most `len(kind)` intervals overlap at any slot, so greedy colouring by start time
    always finds a free connector (interval graphs are perfect).
    """
    vehicles = problem.vehicles
    n = problem.n_slots
    window: list[tuple[int, int]] = [(0, 0)] * len(vehicles)
    kind_of: list[int | None] = [None] * len(vehicles)
    used = np.zeros((len(kind_list), n), dtype=int)
    for i, (j, s, length) in placement.items():
        if length > 0:
            window[i], kind_of[i] = (s, s + length), j
            used[j, s : s + length] += 1
    bounds = [problem.usable_range(v) for v in vehicles]
    growing = [i for i in sorted(range(len(vehicles)), key=lambda i: window[i]) if kind_of[i] is not None]
    while growing:
        still = []
        for i in growing:
            j, (a, b) = kind_of[i], window[i]
            first, last = bounds[i]
            cap = len(kind_list[j])
            grew = False
            if b < last and used[j, b] < cap:
                used[j, b] += 1
                b += 1
                grew = True
            if a > first and used[j, a - 1] < cap:
                used[j, a - 1] += 1
                a -= 1
                grew = True
            window[i] = (a, b)
            if grew:
                still.append(i)
        growing = still
    connector: list[int | None] = [None] * len(vehicles)
    for j, ks in enumerate(kind_list):
        free_at = dict.fromkeys(ks, 0)
        for i in sorted((i for i in range(len(vehicles)) if kind_of[i] == j), key=lambda i: window[i]):
            a, b = window[i]
            k = min((k for k in ks if free_at[k] <= a), key=lambda k: (free_at[k], k))
            connector[i] = k
            free_at[k] = b
    return _Plan(connector=tuple(connector), window=tuple(window))


GREEDY_ORDERS = ("slack", "departure", "arrival", "need")
PRICE_ROUNDS = 8  # greedy re-placements at the current plan's marginal prices


def _greedy_intervals(
    problem: ChargingProblem,
    tables: dict[int, dict[int, tuple[np.ndarray, int, float]]],
    capacity: Sequence[int],
    order: str = "slack",
) -> tuple[dict[int, tuple[int, int, int]], float]:
    """Vehicles in `order` (least flexible first by default), each at its cheapest start with free connectors.

    Returns {vehicle: (kind, start, length)} and the proxy objective of that placement.
    """
    n = problem.n_slots
    used = np.zeros((len(capacity), n + 1), dtype=int)
    out: dict[int, tuple[int, int, int]] = {}
    total = 0.0

    def key(i: int) -> tuple[float, ...]:
        v = problem.vehicles[i]
        first, last = problem.usable_range(v)
        fixed = 0 if v.connector is not None else 1  # fixed-connector vehicles first
        slack = last - first - min(n_j for _, n_j, _ in tables[i].values())
        second = {"slack": slack, "departure": last, "arrival": first, "need": -v.need_kwh}[order]
        return (fixed, second, slack, last, i)

    for i in sorted(tables, key=key):
        first, last = problem.usable_range(problem.vehicles[i])
        best = None
        for j, (table, n_j, per_slot) in tables[i].items():
            free = used[j, :n] < capacity[j]
            run = np.zeros(n + 1, dtype=int)
            for t in range(last - 1, first - 1, -1):
                run[t] = run[t + 1] + 1 if free[t] else 0
            lengths = np.minimum(run[first:last], n_j)
            # Among equal costs prefer the less used kind (spreads load over cabinets and connector kinds).
            load = used[j, first:last].mean() / max(capacity[j], 1)
            costs = (
                table
                + per_slot * (n_j - lengths)
                + 1e-6 * (1.0 + float(np.abs(table).max(initial=0.0))) * load
            )
            k = int(np.argmin(costs))
            if best is None or costs[k] < best[0]:
                best = (float(costs[k]), j, first + k, int(lengths[k]))
        cost, j, s, length = best
        used[j, s : s + length] += 1
        out[i] = (j, s, length)
        total += cost
    return out, total


def _window_costs(pi: np.ndarray, kw: float, grid_kwh: float, n: int, dt: float) -> np.ndarray:
    """Marginal cost of charging `grid_kwh` at `kw` in the cheapest slots of [s, s + n), for each start s."""
    stay = len(pi)
    out = np.zeros(stay)
    per_slot = kw * dt
    for s in range(stay):
        prices = np.sort(pi[s : s + n])
        left = grid_kwh
        total = 0.0
        for p in prices:
            take = min(per_slot, left)
            total += p / dt * take
            left -= take
            if left <= 1e-12:
                break
        out[s] = total
    return out


# ---- the LP ------------------------------------------------------------------------------------------------------
def _solve_plan(
    problem: ChargingProblem,
    data: SlotData,
    objective: str,
    plan: _Plan,
    lp_solver: str,
    deadline: float,
    warnings: list[str],
    timings: dict[str, float],
    *,
    duals: bool = True,
):
    """The LP on a fixed plan; the fair-shortfall rows only when some truck is short.

    The LP without the fairness rows (one row and the largest-share column per needy truck) is a relaxation of
    the LP with them; when its optimum leaves no truck short, the largest share is 0 there and the same solution
    is optimal for both. Only a night with a shortfall pays for the second, fair solve. At 5,000 trucks the rows
    and their badly scaled column (every truck's need at the shortfall penalty) cost the interior point method
    a quarter of its time.
    """
    t = time.perf_counter()
    model = _build(problem, data, objective, plan=plan, virtual=None, warnings=warnings, fair=False)
    timings["build_s"] = timings.get("build_s", 0.0) + time.perf_counter() - t
    t = time.perf_counter()
    result, cols = model.solve(lp_solver, max(1.0, deadline - time.perf_counter()), duals=duals)
    timings["solve_s"] = timings.get("solve_s", 0.0) + time.perf_counter() - t
    needy = [(e["s"], v.need_kwh) for e, v in zip(cols["veh"], problem.vehicles) if v.need_kwh > 1e-6]
    if len(needy) <= 1 or result.status not in ("optimal", "feasible") or problem.shortfall_weights:
        return result, cols  # (with "max_ready" weights there are no fairness rows to add)
    worst = max(max(0.0, float(result.x[s])) / need for s, need in needy)
    weight = SHORTFALL_PENALTY * sum(need for _, need in needy)
    if worst * weight <= 1e-9 * max(1.0, abs(result.objective)):
        return result, cols
    t = time.perf_counter()
    model = _build(problem, data, objective, plan=plan, virtual=None, warnings=[], fair=True)
    fair, cols = model.solve(lp_solver, max(1.0, deadline - time.perf_counter()), duals=duals)
    timings["fair_lp_s"] = timings.get("fair_lp_s", 0.0) + time.perf_counter() - t
    return fair, cols


class _Model:
    """SparseLP plus the column blocks needed to read the solution back."""

    def __init__(self, lp: SparseLP, cols: dict) -> None:
        self.lp, self.cols = lp, cols

    def solve(self, solver: str, time_limit_s: float, *, duals: bool = True):
        return self.lp.solve(solver, time_limit_s, duals=duals), self.cols


def _build(
    problem: ChargingProblem,
    data: SlotData,
    objective: str,
    *,
    plan: _Plan,
    virtual: Sequence[_Virtual] | None,
    warnings: list[str],
    fair: bool = True,
) -> _Model:
    n, dt = problem.n_slots, data.dt
    lp = SparseLP()
    conns = problem.connectors
    w_cost = 1.0 if objective == "cost" else TIE
    # Site columns.
    alpha = data.price * dt  # [CNY per kW-slot]
    beta = data.export_price * dt
    for event in problem.dr_events:
        overlap = problem.event_overlap(event) * dt
        if event.kind == "reduction_reward":
            alpha = alpha + event.rate_cny_per_kwh * overlap
            beta = beta + event.rate_cny_per_kwh * overlap
        elif event.kind == "discharge_reward":
            beta = beta + event.rate_cny_per_kwh * overlap
    if problem.site.export_limit_kw > 0 and np.any(beta > alpha + 1e-12):
        warnings.append(
            "export earns more than import costs in some slots; the LP values import there at the "
            "export rate (net metering); reported costs use the real tariff"
        )
        alpha = np.maximum(alpha, beta)
    imp_obj = w_cost * alpha + (data.carbon * dt if objective == "carbon" else 0.0)
    imp = lp.add_vars(n, 0.0, data.import_cap, imp_obj)
    exp = lp.add_vars(n, 0.0, problem.site.export_limit_kw, -w_cost * beta)
    curt = lp.add_vars(n, 0.0, data.pv, 0.0)
    over = lp.add_vars(n, 0.0, np.maximum(data.base, 0.0), OVERLOAD_PENALTY * dt)
    peak = lp.add_vars(1, 0.0, INF, 1.0 if objective == "peak" else TIE * 1e-1)
    rows_peak = lp.add_rows(n, lb=0.0)
    lp.add_coef(rows_peak, peak[0], 1.0)
    lp.add_coef(rows_peak, imp, -1.0)
    tariff = problem.tariff
    segments = tariff.demand_segments()
    if segments:
        # Peak increase above the month-to-date peak, one variable per rate piece (rate, then overrun rate):
        # sum_k q_k >= imp_t - month_peak for every slot; convex, so the cheaper piece fills first.
        rows_q = lp.add_rows(n, lb=-tariff.month_peak_kw_so_far)
        for seg in segments:
            q = lp.add_vars(
                1, 0.0, seg.width_kw if math.isfinite(seg.width_kw) else INF, w_cost * seg.cny_per_kw
            )
            lp.add_coef(rows_q, q[0], 1.0)
        lp.add_coef(rows_q, imp, -1.0)
    balance = lp.add_rows(n, lb=data.base - data.pv, ub=data.base - data.pv)
    lp.add_coef(balance, imp, 1.0)
    lp.add_coef(balance, exp, -1.0)
    lp.add_coef(balance, over, 1.0)
    lp.add_coef(balance, curt, -1.0)
    cols: dict = {"imp": imp, "exp": exp, "curt": curt, "over": over, "balance": balance, "veh": []}
    battery = problem.site.battery
    if battery is not None:
        bc = lp.add_vars(n, 0.0, battery.max_kw, TINY * dt)
        bd = lp.add_vars(n, 0.0, battery.max_kw, TINY * dt)
        be_lb = np.full(n, battery.min_kwh)
        be_lb[-1] = max(battery.min_kwh, battery.final_floor)
        be = lp.add_vars(n, be_lb, battery.capacity_kwh, 0.0)
        lp.add_coef(balance, bc, -1.0)
        lp.add_coef(balance, bd, 1.0)
        rhs = np.zeros(n)
        rhs[0] = battery.initial_kwh
        dyn = lp.add_rows(n, rhs, rhs)
        lp.add_coef(dyn, be, 1.0)
        lp.add_coef(dyn[1:], be[:-1], -1.0)
        lp.add_coef(dyn, bc, -battery.efficiency * dt)
        lp.add_coef(dyn, bd, dt / battery.efficiency)
        both = lp.add_rows(n, ub=battery.max_kw)
        lp.add_coef(both, bc, 1.0)
        lp.add_coef(both, bd, 1.0)
        cols.update(bc=bc, bd=bd, be=be)
    group_terms: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {g.id: [] for g in problem.groups}
    count_terms: list[tuple[np.ndarray, np.ndarray, float]] = []
    degradation = (problem.v2g_degradation_cny_per_kwh * w_cost + TINY) * dt
    for i, v in enumerate(problem.vehicles):
        a, b = plan.window[i]
        k = plan.connector[i]
        if virtual is not None:
            kw_c, eff, v2g_c = virtual[i].max_kw, virtual[i].efficiency, virtual[i].v2g
        elif k is not None:
            kw_c, eff, v2g_c = conns[k].max_kw, conns[k].efficiency, conns[k].v2g
        else:
            a = b = 0
            kw_c, eff, v2g_c = 0.0, 1.0, False
        length = b - a
        need = v.need_kwh
        weight = problem.shortfall_weights.get(
            v.id, 1.0
        )  # "max_ready": chosen trucks first (charging.fairness)
        s = lp.add_vars(1, 0.0, max(need, 0.0), SHORTFALL_PENALTY * weight)
        entry = {"a": a, "b": b, "s": s[0], "eff": eff}
        cols["veh"].append(entry)
        if length <= 0:
            if need > 0:
                row = lp.add_rows(1, lb=need)
                lp.add_coef(row, s[0], 1.0)
            continue
        t = np.arange(a, b)
        c = lp.add_vars(length, 0.0, min(v.max_kw, kw_c), 0.0)
        entry["c"] = c
        lp.add_coef(balance[t], c, -1.0)
        discharge = v.v2g and v2g_c and v.discharge_kw > 0
        taper = v.taper_soc is not None
        if discharge:
            d = lp.add_vars(length, 0.0, min(v.discharge_kw, kw_c), degradation)
            entry["d"] = d
            lp.add_coef(balance[t], d, 1.0)
            both = lp.add_rows(length, ub=kw_c)
            lp.add_coef(both, c, 1.0)
            lp.add_coef(both, d, 1.0)
        if virtual is not None:
            # y = power / max power is the share of a connector held; sum of shares <= connectors.
            share = 1.0 / min(v.max_kw, kw_c)
            count_terms.append((t, c, share))
            if discharge:
                count_terms.append((t, entry["d"], share))
        elif k is not None and conns[k].group is not None:
            group_terms[conns[k].group].append((t, c))
            if discharge:
                group_terms[conns[k].group].append((t, entry["d"]))
        if discharge or taper:
            floor = min(v.min_energy_kwh, v.energy_arrival_kwh) if discharge else 0.0
            energy = lp.add_vars(length, floor, v.capacity_kwh, 0.0)
            entry["e"] = energy
            rhs = np.zeros(length)
            rhs[0] = v.energy_arrival_kwh
            dyn = lp.add_rows(length, rhs, rhs)
            lp.add_coef(dyn, energy, 1.0)
            lp.add_coef(dyn[1:], energy[:-1], -1.0)
            lp.add_coef(dyn, c, -eff * dt)
            if discharge:
                lp.add_coef(dyn, entry["d"], dt / eff)
            final = lp.add_rows(1, lb=v.energy_target_kwh)
            lp.add_coef(final, energy[-1], 1.0)
            lp.add_coef(final, s[0], 1.0)
            if taper:
                ta, tb = taper_coefficients(v)
                first_limit = max(0.0, ta - tb * v.energy_arrival_kwh)
                row0 = lp.add_rows(1, ub=first_limit)
                lp.add_coef(row0, c[0], 1.0)
                if length > 1:
                    rows = lp.add_rows(length - 1, ub=ta)
                    lp.add_coef(rows, c[1:], 1.0)
                    lp.add_coef(rows, energy[:-1], tb)
        else:
            # need <= delivered + shortfall <= room: one ranged row for the need and the battery's room (the
            # shortfall is penalised, so it is never more than the need left over and delivered + shortfall
            # reaches room only when delivered does); half the rows of a need row beside a capacity row.
            room = v.capacity_kwh - v.energy_arrival_kwh
            row = lp.add_rows(1, lb=need, ub=room)
            lp.add_coef(row, c, eff * dt)
            lp.add_coef(row, s[0], 1.0)
    # Fair shortfalls: when not every truck can be served, the largest shortfall share (kWh short ÷ need) is
    # priced above any total, so the LP spreads the shortage instead of leaving whole trucks empty while topping
    # up others (issue 18 item 7). Weight: every kWh any truck needs at the shortfall penalty, per unit of share.
    # Only in the LP on a fixed plan: the relaxation stays the plain bound (a gap measured against it can only
    # look larger, never let a schedule be called optimal that is not).
    needy = [(entry["s"], v.need_kwh) for entry, v in zip(cols["veh"], problem.vehicles) if v.need_kwh > 1e-6]
    if fair and len(needy) > 1 and virtual is None and not problem.shortfall_weights:
        total_need = sum(need for _, need in needy)
        worst = lp.add_vars(1, 0.0, 1.0, SHORTFALL_PENALTY * total_need)
        rows = lp.add_rows(len(needy), lb=0.0)
        lp.add_coef(rows, worst[0], 1.0)
        for r, (col, need) in zip(rows, needy):
            lp.add_coef(np.array([r]), np.array([col]), -1.0 / need)
        cols["worst_share"] = worst[0]
    for g in problem.groups:
        terms = group_terms[g.id]
        if not terms:
            continue
        rows = lp.add_rows(n, ub=g.max_kw)
        for t, col in terms:
            lp.add_coef(rows[t], col, 1.0)
    if count_terms:
        rows = lp.add_rows(n, ub=float(len(conns)))
        for t, col, share in count_terms:
            lp.add_coef(rows[t], col, share)
    return _Model(lp, cols)


# ---- reading the solution back -----------------------------------------------------------------------------------
def _lp_power(problem: ChargingProblem, x: np.ndarray, cols: dict) -> np.ndarray:
    """Net grid-side power per vehicle and slot [kW] from the LP columns."""
    power = np.zeros((len(problem.vehicles), problem.n_slots))
    for i, entry in enumerate(cols["veh"]):
        a, b = entry["a"], entry["b"]
        if "c" in entry:
            p = np.clip(x[entry["c"]], 0.0, None)
            if "d" in entry:
                p = p - np.clip(x[entry["d"]], 0.0, None)
            p[np.abs(p) < 1e-7] = 0.0
            power[i, a:b] = p
    return power


def _fixed_site(problem: ChargingProblem, data: SlotData, x: np.ndarray, cols: dict) -> np.ndarray:
    """Site net load without vehicles: base - PV + curtailment + stationary battery [kW]."""
    out = data.base - data.pv + np.clip(x[cols["curt"]], 0.0, data.pv)
    if "bc" in cols:
        out = out + x[cols["bc"]] - x[cols["bd"]]
    return out


def _extract(
    problem: ChargingProblem,
    data: SlotData,
    objective: str,
    plan: _Plan,
    x: np.ndarray,
    cols: dict,
    status: str,
    solver_name: str,
    warnings: list[str],
    power: np.ndarray | None = None,
) -> ChargingSchedule:
    dt = data.dt
    conns = problem.connectors
    power_changed = power is not None
    if power is None:
        power = _lp_power(problem, x, cols)
    vehicles = []
    energies = np.zeros(len(problem.vehicles))
    for i, v in enumerate(problem.vehicles):
        entry = cols["veh"][i]
        a, b = entry["a"], entry["b"]
        eff = entry["eff"]
        e = v.energy_arrival_kwh
        for val in power[i]:
            e += (eff * val if val > 0 else val / eff) * dt
        energies[i] = e
        short = max(0.0, v.energy_target_kwh - e)
        k = plan.connector[i]
        vehicles.append(
            VehicleSchedule(
                id=v.id,
                connector=None if k is None or b <= a else conns[k].id,
                power_kw=tuple(float(val) for val in power[i]),
                energy_departure_kwh=float(e),
                plug_in_slot=int(a) if b > a else None,
                plug_out_slot=int(b) if b > a else None,
                shortfall_kwh=short if short > 1e-4 else 0.0,
            )
        )
    curt = np.clip(x[cols["curt"]], 0.0, data.pv)
    curt[curt < 1e-7] = 0.0
    battery_kw = battery_e = ()
    net = data.base - data.pv + curt + power.sum(axis=0)
    if "bc" in cols:
        bnet = x[cols["bc"]] - x[cols["bd"]]
        bnet[np.abs(bnet) < 1e-7] = 0.0
        net = net + bnet
        bat = problem.site.battery
        level, trace = bat.initial_kwh, []
        for val in bnet:
            level += (bat.efficiency * val if val > 0 else val / bat.efficiency) * dt
            trace.append(level)
        battery_kw, battery_e = tuple(float(v) for v in bnet), tuple(float(v) for v in trace)
    if power_changed:
        # Discrete power may absorb less PV than the LP did: curtail the surplus the export limit cannot take.
        extra = np.minimum(np.maximum(0.0, -problem.site.export_limit_kw - net), data.pv - curt)
        curt, net = curt + extra, net + extra
    if float(np.sum(x[cols["over"]])) * dt > 1e-6:
        slots = np.flatnonzero(x[cols["over"]] > 1e-6)
        bad = [f"slot {t} ({problem.slot_starts[t].isoformat()})" for t in slots]
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        warnings.append(
            "infeasible: the base load alone exceeds the site import limit or a demand-response cap, even "
            f"with nothing charging, at {', '.join(bad[:5])}{more}"
        )
    unmet = _explain_unmet(problem, data, plan, vehicles, net)
    return ChargingSchedule(
        status=status,
        objective=objective,
        slot_starts=tuple(t.isoformat() for t in problem.slot_starts),
        slot_minutes=problem.slot_minutes,
        vehicles=tuple(vehicles),
        site_import_kw=tuple(float(v) for v in net),
        cost=site_cost(problem, net, data),
        peak_kw=float(np.maximum(net, 0.0).max(initial=0.0)),
        carbon_kg=carbon_kg(net, data),
        pv_curtailed_kw=tuple(float(v) for v in curt),
        battery_kw=battery_kw,
        battery_energy_kwh=battery_e,
        unmet=unmet,
        solver=solver_name,
        warnings=tuple(warnings),
    )


def _explain_unmet(
    problem: ChargingProblem,
    data: SlotData,
    plan: _Plan,
    vehicles: Sequence[VehicleSchedule],
    net: np.ndarray,
) -> tuple[Unmet, ...]:
    """Why each vehicle leaves short: stay too short, too few connectors, or a site/group/DR limit."""
    out = []
    conns = problem.connectors
    best = max(conns, key=lambda c: (c.max_kw, c.efficiency)) if conns else None
    for i, (v, sched) in enumerate(zip(problem.vehicles, vehicles)):
        if sched.shortfall_kwh <= 1e-4:
            continue
        first, last = problem.usable_range(v)
        k = plan.connector[i]
        conn: Connector | None = conns[k] if k is not None else best
        alone = 0.0 if conn is None else max_deliverable_kwh(problem, v, conn.max_kw, conn.efficiency)
        a, b = plan.window[i]
        if alone < v.need_kwh - 1e-4:
            reason = (
                f"stay too short: at most {alone:.1f} of {v.need_kwh:.1f} kWh in {last - first} usable "
                f"slots at {min(v.max_kw, conn.max_kw) if conn else 0:.0f} kW"
            )
        elif k is None or b <= a:
            reason = "too few connectors: no connector free during the stay"
        elif (
            max_deliverable_kwh(problem, v, conns[k].max_kw, conns[k].efficiency, range(a, b))
            < v.need_kwh - 1e-4
        ):
            reason = f"too few connectors: plugged in for {b - a} of {last - first} usable slots"
        else:
            window = slice(a, b)
            at_cap = np.any(net[window] >= data.import_cap[window] - 1e-3)
            group = conns[k].group
            if at_cap:
                reason = "site limit: site import at its limit (grid connection or demand-response cap)"
            elif group is not None:
                reason = f"site limit: cabinet group {group} at its power limit"
            else:
                reason = "site limit"
        if problem.shortfall_weights and problem.shortfall_weights.get(v.id, 1.0) == 1.0:
            reason += "; not among the trucks chosen to be ready first (shortfall policy max_ready)"
        out.append(Unmet(v.id, float(sched.shortfall_kwh), reason))
    return tuple(out)
