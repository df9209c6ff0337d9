"""Solves in a worker process: plan and store a depot-day (Route planner), compare fleets in memory.

Solves run in a fresh worker process (spawned, not forked from the web server's threads): OR-Tools has crashed
long-lived processes after several solves (issue #5076), and a crash must cost one solve, not the app. A session
cannot cross into that process: `solve_and_store` (and `fleet.services.nightly_jobs.rerun_depot`) take the
database URL and open their own units of work there; `compare_fleets` takes the typed problem and needs no database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pandas as pd

from fleet.audit import acting_as, current_actor
from fleet.db import get_engine
from fleet.services.scope import depot_in_scope, in_scope
from fleet.services.session import unit_of_work
from routing.problem import RoutingProblem, VehicleKind

__all__ = ["FLEET_VARIANTS", "SolveFailed", "compare_fleets", "run_isolated", "solve_and_store"]


class SolveFailed(RuntimeError):
    """A solve in the worker process failed; the message says why (the app shows it, nothing was stored)."""


def run_isolated(fn: Any, *args: Any, on_wait: Any = None, poll_s: float = 0.25) -> Any:
    """`fn(*args)` in a fresh spawned process; `on_wait(elapsed_s)` is called while it runs (progress)."""
    import multiprocessing as mp
    import time
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from fleet.i18n import get_locale

    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        future = pool.submit(_in_locale, get_locale(), fn, *args)
        while not future.done():
            if on_wait is not None:
                on_wait(time.perf_counter() - t0)
            time.sleep(poll_s)
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise SolveFailed(f"the solver process died ({exc}); nothing was stored") from None
        except SolveFailed:
            raise
        except Exception as exc:  # shown as a message on the page, never as a traceback
            raise SolveFailed(f"{type(exc).__name__}: {exc}") from exc


def _in_locale(locale: str, fn: Any, *args: Any) -> Any:
    """`fn(*args)` in the worker with the page's locale: messages it raises (a refused edit's violations) are
    in the planner's language. A spawned process starts in the default locale otherwise."""
    from fleet.i18n import use_locale

    with use_locale(locale):
        return fn(*args)


def solve_and_store(
    url: str,
    lessee_code: str | None,
    depot_code: str,
    day: dt.date,
    time_limit_s: float,
    seed: int = 0,
    author: str = "planner",
    actor: str | None = None,
) -> dict[str, Any]:
    """Plan the depot-day now and store it as a new version, exactly as the nightly job does
    (`fleet.pipeline.run_depot_day`: routes, charging, both checked, one transaction). It is published only when
    the depot-day has no published plan; otherwise it is a draft the planner compares and may publish
    (docs/plan-versions.md). Returns the result row (`published` says which).

    Runs in the worker process (`run_isolated`), so it takes the database URL, not a session: a session cannot
    cross processes. The scope check is its own unit of work; `run_depot_day` stores in one transaction."""
    from fleet.pipeline import PlanCheckFailed, RunOptions, run_depot_day

    with unit_of_work(url) as session:
        scope = in_scope(session, lessee_code)
        depot_id = depot_in_scope(session, scope, depot_code).id
    options = RunOptions(
        time_limit_s=float(time_limit_s),
        charging_time_limit_s=max(2.0, float(time_limit_s)),
        seed=seed,
        publish="if_none",
        author=author or "planner",
        reason=f"re-solved on the route planner page ({time_limit_s:g} s)",
        origin="solve",
    )
    try:
        with acting_as(actor or current_actor()):  # the worker process does not inherit the app's actor
            return run_depot_day(get_engine(url), scope, depot_id, day, options).to_dict()
    except (PlanCheckFailed, ValueError) as exc:
        raise SolveFailed(str(exc)) from None


FLEET_VARIANTS = ("mixed fleet", "electric only")


def compare_fleets(problem: RoutingProblem, time_limit_s: float, seed: int = 0) -> pd.DataFrame:
    """Route the depot-day's stored problem twice in memory (nothing stored): with every truck of the plan (mixed
    fleet) and with its electric trucks only; one row per variant with vehicles, km, kWh, litres and routing cost.

    `problem` is the typed problem of the stored plan (`route_planner.stored_routing_problem`, one vehicle type per
    truck); the electric-only variant is the same problem with the diesel vehicle types dropped."""
    from routing.solve import solve

    rows = []
    for name in FLEET_VARIANTS:
        types = (
            problem.vehicle_types
            if name == "mixed fleet"
            else tuple(t for t in problem.vehicle_types if t.kind is VehicleKind.ELECTRIC)
        )
        electric = {t.id for t in types if t.kind is VehicleKind.ELECTRIC}
        if not types:
            rows.append(
                {
                    "fleet": name,
                    "trucks available": 0,
                    "electric used": 0,
                    "diesel used": 0,
                    "km": 0.0,
                    "kWh": 0.0,
                    "litres": 0.0,
                    "cost [CNY]": 0.0,
                    "unserved": len(problem.jobs),
                    "solver": "no trucks",
                }
            )
            continue
        variant = problem if types == problem.vehicle_types else replace(problem, vehicle_types=types)
        sol = solve(variant, time_limit_s=float(time_limit_s), seed=seed)
        used = [r for r in sol.routes if r.stops]
        rows.append(
            {
                "fleet": name,
                "trucks available": sum(t.count for t in types),
                "electric used": sum(1 for r in used if r.vehicle_type in electric),
                "diesel used": sum(1 for r in used if r.vehicle_type not in electric),
                "km": sol.total_distance_km,
                "kWh": sol.total_energy_kwh,
                "litres": sol.total_fuel_l,
                "cost [CNY]": sol.total_cost,
                "unserved": len(sol.unserved),
                "solver": sol.stats.status,
            }
        )
    return pd.DataFrame(rows).set_index("fleet")
