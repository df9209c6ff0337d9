"""Iteration rate and gain of the ruin-and-recreate on reload/break routes (``routing.lns_trips``) at city scale.

Why: ``routing.solve`` gives that search the last ``TRIP_LNS_SHARE`` of a reload/break problem's time, and every
candidate there is a Python float evaluation (``trips.evaluate``); this measures what it does with a budget on a
depot-day of 300+ orders, from the solver's construction (cheapest insertion with stations on the break-reserving
travel times, ``trips.construction_geometry``), in CPU seconds (``routing.clock`` set to ``cpu``) so that a shared
machine's load does not move the figures. Figures: docs/realism.md, '2026-12-06 remainders'.

    python -m routing.bench_trips --stops 300 --budgets 30,60 --seed 0            # 2 trips, breaks on
    python -m routing.bench_trips --stops 300 --budgets 20 --profile              # cProfile's top functions
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import pstats
import time
from dataclasses import dataclass

from routing import clock, lns_trips, trips
from routing.construct import Builder, job_order
from routing.evaluate import Geometry
from routing.problem import BreakRule, Job, RoutingProblem
from routing.scenarios import shenzhen_problem
from routing.solve import diagnose


def city_problem(stops: int, seed: int, max_trips: int = 2, breaks: bool = True) -> RoutingProblem:
    """``routing.scenarios.shenzhen_problem`` with reloads (15 min, electric types charging at 60 kW while
    reloaded, as ``tests/routing/test_trips_breaks_random.with_rules``) and China's 4 h / 20 min rule."""
    p = shenzhen_problem(stops, seed=seed)
    vts = []
    for vt in p.vehicle_types:
        kw: dict = {}
        if max_trips > 1:
            kw.update(max_trips=max_trips, reload_minutes=15.0)
            if vt.is_electric:
                kw["depot_charge_kw"] = 60.0
        if breaks:
            kw["break_rule"] = BreakRule()
        vts.append(dataclasses.replace(vt, **kw))
    return dataclasses.replace(p, vehicle_types=tuple(vts))


@dataclass(frozen=True)
class Run:
    budget_cpu_s: float
    cpu_s: float
    iterations: int
    start_km: float
    best_km: float
    start_absent: int
    absent: int

    @property
    def per_cpu_s(self) -> float:
        return self.iterations / self.cpu_s if self.cpu_s > 0 else 0.0

    @property
    def gain_pct(self) -> float:
        return 100.0 * (self.start_km - self.best_km) / self.start_km if self.start_km > 0 else 0.0


def constructed(p: RoutingProblem) -> tuple[Geometry, dict[str, set[str]], list[list], list[Job], float]:
    """The solver's first construction order (``routing.solve._Runner``), its routes, the jobs it left out and
    its CPU seconds."""
    c0 = time.process_time()
    geo = Geometry.of(p)
    diag = diagnose(geo)
    b = Builder(trips.construction_geometry(geo) if trips.uses_breaks(p) else geo, diag.allowed_types)
    jobs = [j for j in p.jobs if j.id in diag.allowed_types]
    routes = b.insert_all(p.vehicle_ids(), job_order(geo, jobs))
    served = {x.id for r in routes for x in r if isinstance(x, Job)}
    return geo, diag.allowed_types, routes, [j for j in jobs if j.id not in served], time.process_time() - c0


def run(p: RoutingProblem, budget_cpu_s: float, seed: int = 0, built=None) -> Run:
    """``lns_trips.improve`` from the construction for ``budget_cpu_s`` CPU seconds (``routing.clock`` in
    ``cpu`` mode for the run, restored after)."""
    geo, allowed, routes, absent, _ = built or constructed(p)
    before = clock.mode()
    clock.use("cpu")
    try:
        c0 = time.process_time()
        _best, log = lns_trips.improve(
            geo,
            allowed,
            p.vehicle_ids(),
            routes,
            clock.now() + budget_cpu_s,
            seed=seed,
            absent=absent,
            open_new=True,
        )
    finally:
        clock.use(before)
    return Run(
        budget_cpu_s,
        time.process_time() - c0,
        log.iterations,
        log.start,
        log.best,
        log.start_absent,
        log.absent,
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stops", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0, help="scenario and search seed")
    ap.add_argument("--budgets", default="30,60", help="CPU seconds per run, comma-separated")
    ap.add_argument("--trips", type=int, default=2)
    ap.add_argument("--no-breaks", action="store_true")
    ap.add_argument("--profile", action="store_true", help="cProfile the first budget, print the top 15")
    a = ap.parse_args(argv)
    p = city_problem(a.stops, a.seed, a.trips, not a.no_breaks)
    built = constructed(p)
    _, _, routes, absent, c_s = built
    used = sum(1 for r in routes if any(isinstance(x, Job) for x in r))
    print(f"{p.name}: {len(p.jobs)} orders, trips {a.trips}, breaks {not a.no_breaks}")
    print(f"construction: {c_s:.2f} CPU s, {used} routes, {len(absent)} orders left out")
    for budget in (float(x) for x in a.budgets.split(",")):
        prof = cProfile.Profile() if a.profile else None
        if prof is not None:
            prof.enable()
        r = run(p, budget, a.seed, built)
        if prof is not None:
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(15)
            print(out.getvalue())
        print(
            f"budget {budget:g} CPU s: {r.iterations} iterations in {r.cpu_s:.1f} CPU s "
            f"({r.per_cpu_s:.1f}/CPU s), km {r.start_km:.1f} -> {r.best_km:.1f} ({r.gain_pct:.2f} %), "
            f"left out {r.start_absent} -> {r.absent}"
        )


if __name__ == "__main__":
    main()
