"""`evfleet bench scale`: a lessor at scale on PostgreSQL (fleet.vpp.scale) and the nightly fan-out.

Four measurements, each with wall and process CPU time and the load average (the machine is shared):

1. Load: COPY rate of `vehicleday` [rows/s], alone and with the deferred indexes and foreign keys restored.
2. One lessee's annual submission package (JSON, XLSX, PDF; `make_submission(draft=True)`, nothing recorded) read
   from the big table in the lessee's scope: its rows come through the (lessee_id, day) index.
3. App pages: every page of `app_pages.PAGES` rendered by Streamlit's AppTest against that database, in the
   lessee's scope and in the synthetic lessor's.
4. Nightly throughput with 1 and 2 Dask workers on the first N depots of the synthetic lessor itself (80 trucks
   each; the orders of the service day from fleet.vpp.scale_orders, loaded when missing): the real nightly
   (fleet.nightly: routing then charging per depot, every plan through its checker) and its reduce step
   (fleet.vpp.nightly_flex: flexibility per grid zone); the stored plans are then re-checked from their JSON.
   Modelled time for 1,000 depots on 64 cores: T = ceil(1,000 / 64) x t_depot / e + 1,000 x t_reduce, with
   t_depot the 1-worker map seconds per depot, e the 2-worker parallel efficiency (speedup / 2, at most 1; it
   includes the cluster's start), assumed to hold at 64 workers (each worker a process on its own core with its
   own database connection; a depot writes one transaction), and t_reduce the reduce's seconds per depot.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleet.vpp.scale import LESSOR_CODE, LoadReport, ScaleSpec, load

if TYPE_CHECKING:
    from fleet.pipeline import RunOptions


def _stamp() -> dict[str, Any]:
    return {"load_average": [round(x, 2) for x in os.getloadavg()], "cpu_count": os.cpu_count()}


def measure_load(
    url: str, spec: ScaleSpec, defer_indexes: bool = True, orders: bool = False
) -> dict[str, Any]:
    report: LoadReport = load(url, spec, defer_indexes=defer_indexes, orders=orders)
    return {
        "rows": report.rows,
        "spec": {k: str(v) for k, v in asdict(spec).items()},
        "copy_s": round(report.copy_s, 2),
        "index_and_fk_s": round(report.index_s, 2),
        "analyze_s": round(report.analyze_s, 2),
        "summary_s": round(report.summary_s, 2),
        "setup_s": round(report.setup_s, 2),
        "client_cpu_s": round(report.cpu_s, 2),
        "orders": report.orders,
        "orders_service_day": spec.service_day.isoformat() if report.orders else None,
        "orders_s": round(report.orders_s, 2),
        "rows_per_s_copy": round(report.rows_per_s),
        "rows_per_s_with_indexes": round(report.rows_per_s_with_indexes),
        "extrapolated_full_load_s": round(ScaleSpec().rows / report.rows_per_s_with_indexes)
        if report.rows_per_s_with_indexes
        else None,
        **_stamp(),
    }


def table_rows(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM vehicleday")).scalar_one()
    engine.dispose()
    return int(n)


def measure_package(url: str, lessee_code: str, year: int) -> dict[str, Any]:
    """One lessee's annual package (draft: built and written to a temp dir, no claims recorded)."""
    from fleet.db import get_engine, session_scope
    from fleet.emissions.profiles import get_profile
    from fleet.emissions.service import configured_profile
    from fleet.scope import scope_for
    from fleet.submission.run import make_submission

    profile = configured_profile(get_profile("tcsae-235"), None, None)
    out = Path(tempfile.mkdtemp(prefix="evfleet-scale-package-"))
    w0, c0 = time.perf_counter(), time.process_time()
    with session_scope(get_engine(url)) as session:
        scope = scope_for(session, lessee_code=lessee_code)
        result = make_submission(session, scope, lessee_code, year, profile, out, draft=True)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    doc = result.document
    return {
        "lessee": lessee_code,
        "year": year,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "vehicle_days": len(doc.get("vehicle_days", []) or [])
        or doc.get("data_quality", {}).get("rows_used"),
        "reduction_tco2e": doc["results"]["ex_post"]["reduction_tco2e"],
        "files": [str(p) for p in (result.files.json, result.files.xlsx, result.files.pdf)],
        "limit_s": 60,
        **_stamp(),
    }


def measure_pages(url: str, lessee_code: str | None, data_year: int | None = None) -> list[dict[str, Any]]:
    """Seconds per page render (AppTest: the script run, its queries and its tables), first visit after the
    Overview; exceptions and warnings reported beside the time. The pages' modules are imported first, as the
    app's server does before it listens (`app_pages._server`); each row carries those seconds
    (`server_imports_s`: what this call imported, 0 once a former call did). The Emissions page opens on this
    year; with `data_year` (the metered year) a further row times choosing it there, the page's heaviest view."""
    from streamlit.testing.v1 import AppTest

    from app_pages import PAGES
    from app_pages._server import warm

    imports_s = round(warm(), 2)

    entry = Path(__file__).resolve().parents[2] / "streamlit_app.py"
    env = {"EVFLEET_DATABASE_URL": url}
    if lessee_code:
        env["EVFLEET_APP_LESSEE"] = lessee_code
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    rows = []
    try:
        for page in PAGES:
            at = AppTest.from_file(str(entry), default_timeout=600)
            t0 = time.perf_counter()
            at.run()
            first = time.perf_counter() - t0
            if not page.default:
                t0 = time.perf_counter()
                at.switch_page(page.path).run()
                first = time.perf_counter() - t0
            rows.append(_page_row(page.title, lessee_code, first, imports_s, at))
            if data_year is not None and page.url_path == "emissions":
                t0 = time.perf_counter()
                at.selectbox(key="em_year").set_value(data_year).run()
                first = time.perf_counter() - t0
                rows.append(_page_row(f"{page.title} ({data_year})", lessee_code, first, imports_s, at))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return rows


def _page_row(
    title: str, lessee_code: str | None, seconds: float, imports_s: float, at: Any
) -> dict[str, Any]:
    return {
        "page": title,
        "scope": lessee_code or "lessor",
        "seconds": round(seconds, 2),
        "within_2_s": seconds <= 2.0,
        "server_imports_s": imports_s,
        "exception": "; ".join(str(e.value)[:200] for e in at.exception),
        "warning": "; ".join(str(w.value)[:120] for w in at.warning),
    }


@dataclass(frozen=True)
class NightlyRun:
    """One nightly run (map + reduce) on the synthetic depots, with wall and CPU time and the load."""

    workers: int
    depots: int
    succeeded: int
    seconds: float  # wall: queue + map + reduce
    map_s: float  # run_nightly: queue the jobs, plan every depot (cluster start and stop included)
    reduce_s: float  # flexibility per zone from the stored plans
    cpu_driver_s: float  # this process (the 1-worker run solves here)
    cpu_workers_s: float  # reaped child processes (the Dask nannies and workers)
    depots_per_minute: float
    speedup: float
    orders: int
    unserved: int
    routed_km: float
    trucks_used: int
    trucks_ready: int
    trucks_overnight: int
    routing_partial: int  # depots whose routing returned no complete solution within its limit
    route_plans_checked: int  # stored route plans re-checked by routing.check: feasible
    charging_plans_checked: int  # stored charging plans re-checked by charging.check: no violation
    check_failures: tuple[str, ...]
    zones: int
    load_before: tuple[float, ...]
    load_after: tuple[float, ...]


@dataclass(frozen=True)
class NightlyModel:
    depots: int
    seconds_1: float
    seconds_2: float
    per_depot_s: float  # map seconds per depot, 1 worker
    per_depot_cpu_s: float
    efficiency_2: float
    reduce_per_depot_s: float
    modelled_1000_on_64_s: float
    modelled_1000_on_64_fluid_s: float
    method: str


def _cpu() -> tuple[float, float]:
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def recheck_plans(url: str, run_key: str) -> tuple[int, int, list[str]]:
    """Re-run the independent checkers on every plan the run stored (problem and solution read back from their
    JSON): routing.check.check_solution and charging.check.check. Returns (route plans feasible, charging plans
    without violation, failures). The pipeline already refuses to store a plan its checker rejects; this
    confirms it from what was written."""
    from sqlmodel import select

    from charging.check import check as check_schedule
    from charging.problem import ChargingProblem
    from charging.result import ChargingSchedule
    from fleet.db import get_engine, session_scope
    from fleet.models import ChargingPlan, JobRun, RoutePlan
    from routing.check import check_solution
    from routing.io.json_io import problem_from_dict
    from routing.solution import RoutingSolution

    routes_ok = charging_ok = 0
    failures: list[str] = []
    with session_scope(get_engine(url)) as s:
        jobs = [j.id for j in s.exec(select(JobRun).where(JobRun.run_key == run_key)).all()]
        for plan in s.exec(select(RoutePlan).where(RoutePlan.job_run_id.in_(jobs))).all():  # type: ignore[union-attr]
            report = check_solution(problem_from_dict(plan.problem), RoutingSolution.from_dict(plan.solution))
            if report.feasible:
                routes_ok += 1
            else:
                failures.append(f"route plan {plan.id}: {report.summary()}")
        for cplan in s.exec(select(ChargingPlan).where(ChargingPlan.job_run_id.in_(jobs))).all():  # type: ignore[union-attr]
            verdict = check_schedule(
                ChargingProblem.from_json(cplan.problem), ChargingSchedule.from_json(cplan.solution)
            )
            if verdict.violations:
                failures.append(f"charging plan {cplan.id}: {verdict.violations[:3]}")
            else:
                charging_ok += 1
    return routes_ok, charging_ok, failures


def ensure_orders(url: str, day: dt.date, depot_codes: tuple[str, ...], seed: int) -> int:
    """The synthetic orders of `day` at `depot_codes`: loaded (COPY) for the depots that have none."""
    import psycopg

    from fleet.vpp.scale import psycopg_dsn
    from fleet.vpp.scale_orders import load_orders

    with psycopg.connect(psycopg_dsn(url)) as conn, conn.cursor() as cur:
        cur.execute(
            'SELECT d.code FROM depot d JOIN "order" o ON o.depot_id = d.id '
            "WHERE o.service_date = %s AND d.code = ANY(%s) GROUP BY d.code",
            (day, list(depot_codes)),
        )
        have = {r[0] for r in cur.fetchall()}
    todo = tuple(c for c in depot_codes if c not in have)
    return load_orders(url, day, seed, todo) if todo else 0


def run_nightly_once(
    url: str,
    day: dt.date,
    codes: tuple[str, ...],
    workers: int,
    options: RunOptions,
    base: float | None = None,
) -> NightlyRun:
    """The nightly with its reduce step (fleet.vpp.nightly_flex) on `codes`, timed; then the stored plans
    re-checked (not timed)."""
    from fleet.nightly import NightlyConfig, run_nightly
    from fleet.vpp.nightly_flex import reduce_flex

    config = NightlyConfig(
        service_date=day,
        db_url=url,
        depot_codes=codes,
        workers=workers,
        options=options,
        lessor_code=LESSOR_CODE,
    )
    load_before = tuple(round(x, 2) for x in os.getloadavg())
    me0, kids0 = _cpu()
    t0 = time.perf_counter()
    summary = run_nightly(config)
    t1 = time.perf_counter()
    flex = reduce_flex(config, summary)
    t2 = time.perf_counter()
    me1, kids1 = _cpu()
    load_after = tuple(round(x, 2) for x in os.getloadavg())
    results = [o.result for o in summary.outcomes if o.status == "succeeded" and o.result]
    routes_ok, charging_ok, failures = recheck_plans(url, summary.run_key)
    seconds = t2 - t0
    return NightlyRun(
        workers=workers,
        depots=len(codes),
        succeeded=len(results),
        seconds=round(seconds, 2),
        map_s=round(t1 - t0, 2),
        reduce_s=round(t2 - t1, 2),
        cpu_driver_s=round(me1 - me0, 2),
        cpu_workers_s=round(kids1 - kids0, 2),
        depots_per_minute=round(len(codes) / seconds * 60, 2),
        speedup=round((base or seconds) / seconds, 3),
        orders=sum(r["orders"] for r in results),
        unserved=sum(r["unserved"] for r in results),
        routed_km=round(sum(r["km"] for r in results), 1),
        trucks_used=sum(r["vehicles_used"] for r in results),
        trucks_ready=sum(r["trucks_ready"] for r in results),
        trucks_overnight=sum(r["trucks_overnight"] for r in results),
        routing_partial=sum(r["routing_status"] != "feasible" for r in results),
        route_plans_checked=routes_ok,
        charging_plans_checked=charging_ok,
        check_failures=tuple(failures),
        zones=int(flex.zones["zone"].nunique()) if len(flex.zones) else 0,
        load_before=load_before,
        load_after=load_after,
    )


def measure_nightly(
    url: str,
    depots: int,
    time_limit_s: float,
    charging_time_limit_s: float,
    seed: int = 0,
    service_day: dt.date | None = None,
    worker_counts: tuple[int, ...] = (1, 2),
) -> tuple[list[dict[str, Any]], NightlyModel | None]:
    """1 and 2 workers on the first `depots` depots of the synthetic lessor at `url` (orders of `service_day`
    loaded for them when missing), each run planning every depot and reducing; plans published ("always"), so
    that each run's reduce reads its own plans."""
    from fleet.pipeline import RunOptions

    day = service_day or ScaleSpec().service_day
    codes = tuple(f"SYN-D{i + 1:04d}" for i in range(depots))
    ensure_orders(url, day, codes, seed)
    options = RunOptions(
        time_limit_s=time_limit_s, charging_time_limit_s=charging_time_limit_s, seed=seed, publish="always"
    )
    runs: list[NightlyRun] = []
    for workers in worker_counts:
        runs.append(run_nightly_once(url, day, codes, workers, options, runs[0].seconds if runs else None))
    by_workers = {r.workers: r for r in runs}
    model = None
    if 1 in by_workers and 2 in by_workers:
        one, two = by_workers[1], by_workers[2]
        per_depot = one.map_s / max(1, one.succeeded)
        efficiency = min(1.0, (one.map_s / two.map_s) / 2)
        reduce_per_depot = one.reduce_s / max(1, one.succeeded)
        waves = math.ceil(1000 / 64)
        model = NightlyModel(
            depots=depots,
            seconds_1=one.seconds,
            seconds_2=two.seconds,
            per_depot_s=round(per_depot, 3),
            per_depot_cpu_s=round((one.cpu_driver_s + one.cpu_workers_s) / max(1, one.succeeded), 3),
            efficiency_2=round(efficiency, 3),
            reduce_per_depot_s=round(reduce_per_depot, 4),
            modelled_1000_on_64_s=round(waves * per_depot / efficiency + 1000 * reduce_per_depot, 1),
            modelled_1000_on_64_fluid_s=round(
                1000 * per_depot / (64 * efficiency) + 1000 * reduce_per_depot, 1
            ),
            method=(
                "T(1000 depots, 64 workers) = ceil(1000/64) x t_depot / e + 1000 x t_reduce; t_depot = map seconds "
                "per depot of the 1-worker run (no cluster; queueing and job rows included), e = min(1, (M1 / M2) "
                "/ 2) the 2-worker map efficiency (cluster start included), assumed to hold at 64 workers (one "
                "process per core, its own database connection, one small transaction per depot); 16 waves of 64 "
                "depots (every depot costs about the same: the routing time limit dominates); t_reduce = the "
                "reduce's seconds per depot (it runs once, in the driver, and reads every plan). The fluid bound "
                "1000 x t_depot / (64 x e) is given beside it."
            ),
        )
    return [asdict(r) for r in runs], model


def synthetic_lessee(index: int = 1) -> str:
    return f"SYN-LE-{index:03d}"


__all__ = [
    "LESSOR_CODE",
    "NightlyModel",
    "NightlyRun",
    "ensure_orders",
    "measure_load",
    "measure_nightly",
    "measure_package",
    "measure_pages",
    "recheck_plans",
    "run_nightly_once",
    "synthetic_lessee",
    "table_rows",
]
