"""`evfleet bench scale`: a lessor at scale on PostgreSQL (fleet.vpp.scale) and the nightly fan-out.

Four measurements, each with wall and process CPU time and the load average (the machine is shared):

1. Load: COPY rate of `vehicleday` [rows/s], alone and with the deferred indexes and foreign keys restored.
2. One lessee's annual submission package (JSON, XLSX, PDF; `make_submission(draft=True)`, nothing recorded) read
   from the big table in the lessee's scope: its rows come through the (lessee_id, day) index.
3. App pages: every page of `app_pages.PAGES` rendered by Streamlit's AppTest against that database, in the
   lessee's scope and in the synthetic lessor's.
4. Nightly throughput with 1 and 2 Dask workers on N depots (fleet.bench_nightly: SQLite clones of the demo depots
   with resampled orders: the synthetic lessor has no orders to route), and the modelled time for 1,000 depots on
   64 cores: T = 1,000 x t_depot / (64 x e), with t_depot the measured 1-worker seconds per depot and e the
   measured 2-worker parallel efficiency (speedup / 2, at most 1; it includes the cluster's start), assumed to
   hold at 64 workers (each worker a process on its own core with its own database connection; a depot writes
   one small transaction).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fleet.vpp.scale import LESSOR_CODE, LoadReport, ScaleSpec, load


def _stamp() -> dict[str, Any]:
    return {"load_average": [round(x, 2) for x in os.getloadavg()], "cpu_count": os.cpu_count()}


def measure_load(url: str, spec: ScaleSpec, defer_indexes: bool = True) -> dict[str, Any]:
    report: LoadReport = load(url, spec, defer_indexes=defer_indexes)
    return {
        "rows": report.rows,
        "spec": {k: str(v) for k, v in asdict(spec).items()},
        "copy_s": round(report.copy_s, 2),
        "index_and_fk_s": round(report.index_s, 2),
        "analyze_s": round(report.analyze_s, 2),
        "summary_s": round(report.summary_s, 2),
        "setup_s": round(report.setup_s, 2),
        "client_cpu_s": round(report.cpu_s, 2),
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


def measure_pages(url: str, lessee_code: str | None) -> list[dict[str, Any]]:
    """Seconds per page render (AppTest: the script run, its queries and its tables), first visit after the
    Overview; exceptions and warnings reported beside the time."""
    from streamlit.testing.v1 import AppTest

    from app_pages import PAGES

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
            rows.append(
                {
                    "page": page.title,
                    "scope": lessee_code or "lessor",
                    "seconds": round(first, 2),
                    "within_2_s": first <= 2.0,
                    "exception": "; ".join(str(e.value)[:200] for e in at.exception),
                    "warning": "; ".join(str(w.value)[:120] for w in at.warning),
                }
            )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return rows


@dataclass(frozen=True)
class NightlyModel:
    depots: int
    seconds_1: float
    seconds_2: float
    per_depot_s: float
    efficiency_2: float
    modelled_1000_on_64_s: float
    method: str


def measure_nightly(
    depots: int, time_limit_s: float, charging_time_limit_s: float, seed: int = 0
) -> tuple[list[dict[str, Any]], NightlyModel]:
    """1 and 2 workers on the same `depots` demo clones (fleet.bench_nightly's SQLite database); the second run
    writes version 2 of every plan."""
    from fleet.bench_nightly import BENCH_DAY, NightlyBenchRow, build_synthetic_db
    from fleet.nightly import NightlyConfig, run_nightly
    from fleet.pipeline import RunOptions

    tmp = Path(tempfile.mkdtemp(prefix="evfleet-bench-scale-nightly-"))
    url = build_synthetic_db(tmp / "nightly.db", depots, 40, seed)
    codes = tuple(f"SYN-{i + 1:03d}" for i in range(depots))
    options = RunOptions(time_limit_s=time_limit_s, charging_time_limit_s=charging_time_limit_s, seed=seed)
    rows = []
    for workers in (1, 2):
        t0 = time.perf_counter()
        summary = run_nightly(
            NightlyConfig(
                service_date=BENCH_DAY, db_url=url, depot_codes=codes, workers=workers, options=options
            )
        )
        seconds = time.perf_counter() - t0
        ok = sum(o.status == "succeeded" for o in summary.outcomes)
        base = rows[0].seconds if rows else seconds
        rows.append(
            NightlyBenchRow(
                workers,
                depots,
                ok,
                round(seconds, 2),
                round(depots / seconds * 60, 2),
                round(base / seconds, 3),
            )
        )
    one, two = rows[0], rows[1]
    per_depot = one.seconds / max(1, one.succeeded)
    efficiency = min(1.0, (one.seconds / two.seconds) / 2)
    modelled = 1000 * per_depot / (64 * efficiency)
    model = NightlyModel(
        depots,
        one.seconds,
        two.seconds,
        round(per_depot, 3),
        round(efficiency, 3),
        round(modelled, 1),
        "T(1000 depots, 64 workers) = 1000 x t_depot / (64 x e); t_depot = T1 / depots (1-worker run, cluster-free), "
        "e = min(1, (T1 / T2) / 2) measured with 2 workers and assumed to hold at 64",
    )
    return [asdict(r) for r in rows], model


def synthetic_lessee(index: int = 1) -> str:
    return f"SYN-LE-{index:03d}"


__all__ = [
    "LESSOR_CODE",
    "NightlyModel",
    "measure_load",
    "measure_nightly",
    "measure_package",
    "measure_pages",
    "synthetic_lessee",
    "table_rows",
]
