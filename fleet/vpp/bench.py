"""`evfleet bench vpp`: one event across N synthetic depots (fleet.vpp.synthetic), per battery wear cost.

Measures the time to dispatch (LP build + HiGHS solve), the kW delivered against the target in every slot, the
V2G energy, the cost of the event to the depots, and checks every depot's re-planned night with the charging
checker (all trucks ready = every truck leaves with at least its planned energy and the checker finds nothing).
Settlement in the benchmark takes the plan's site import as the baseline (as if the previous similar days had
looked like tonight's plan) and the dispatched import as the measurement.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from charging.check import check as check_schedule
from charging.dispatch import Event, dispatch
from fleet.vpp.settlement import settle_depot, split_totals
from fleet.vpp.synthetic import synthetic_nights


@dataclass(frozen=True)
class VppBenchRow:
    depots: int
    trucks: int
    v2g_consenting_trucks: int
    wear_cny_per_kwh: float
    status: str
    build_s: float
    solve_s: float
    dispatch_wall_s: float
    dispatch_cpu_s: float
    n_vars: int
    n_rows: int
    target_kw: float
    min_delivered_kw: float
    delivered_kw: list[float]
    v2g_kwh: float
    cost_change_cny: float
    revenue_cny: float
    lessee_cny: float
    lessor_cny: float
    trucks_ready: int
    depots_checked_ok: int
    check_s: float


def run_vpp_bench(
    depots: int = 100,
    trucks_per_depot: int = 80,
    *,
    target_kw: float = 5000.0,
    price_cny_per_kwh: float = 4.0,
    start_hour: float = 3.0,
    hours: float = 1.0,
    direction: str = "down",
    wears: tuple[float, ...] = (0.3,),
    seed: int = 0,
    time_limit_s: float = 300.0,
) -> tuple[list[VppBenchRow], dict[str, Any]]:
    """Plan the synthetic depots, then dispatch one event per wear cost; returns rows and set-up figures."""
    t0 = time.perf_counter()
    nights = synthetic_nights(depots, trucks_per_depot, seed=seed)
    plan_s = time.perf_counter() - t0
    first = nights[0].night.problem
    start = first.start + timedelta(hours=start_hour)
    event = Event(
        start,
        start + timedelta(hours=hours),
        direction,
        target_kw=target_kw,
        price_cny_per_kwh=price_cny_per_kwh,
    )
    consenting = sum(1 for z in nights for v in z.night.problem.vehicles if v.v2g)
    rows = []
    for wear in wears:
        w0, c0 = time.perf_counter(), time.process_time()
        result = dispatch(
            [z.night for z in nights], event, wear_cny_per_kwh=wear, time_limit_s=time_limit_s, seed=seed
        )
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        t1 = time.perf_counter()
        ready = ok = 0
        settled = []
        for z, d in zip(nights, result.depots, strict=True):
            report = check_schedule(z.night.problem, d.schedule)
            ok += report.ok
            targets = {v.id: v.energy_target_kwh for v in z.night.problem.vehicles}
            ready += (
                sum(v.energy_departure_kwh >= targets[v.id] - 1e-2 for v in d.schedule.vehicles)
                if report.ok
                else 0
            )
            slots = [k for k, t in enumerate(z.night.problem.slot_starts) if t in set(result.slot_starts)]
            _, lease_rows = settle_depot(
                d.id,
                np.asarray(z.night.plan.site_import_kw)[slots],
                [],
                np.asarray(d.schedule.site_import_kw)[slots],
                direction=direction,
                price_cny_per_kwh=price_cny_per_kwh,
                slot_hours=z.night.problem.dt_h,
                weights_kwh=d.vehicle_response_kwh,
                leases=z.leases,
            )
            settled.extend(lease_rows)
        totals = split_totals(settled)
        rows.append(
            VppBenchRow(
                depots=depots,
                trucks=sum(len(z.night.problem.vehicles) for z in nights),
                v2g_consenting_trucks=consenting,
                wear_cny_per_kwh=wear,
                status=result.status,
                build_s=round(result.build_s, 2),
                solve_s=round(result.solve_s, 2),
                dispatch_wall_s=round(wall, 2),
                dispatch_cpu_s=round(cpu, 2),
                n_vars=result.n_vars,
                n_rows=result.n_rows,
                target_kw=target_kw,
                min_delivered_kw=round(
                    float(result.delivered_kw.min()) if result.delivered_kw.size else 0.0, 3
                ),
                delivered_kw=[round(float(x), 3) for x in result.delivered_kw],
                v2g_kwh=round(sum(d.discharge_kwh for d in result.depots), 2),
                cost_change_cny=round(sum(d.cost_delta_cny for d in result.depots), 2),
                revenue_cny=round(totals["revenue_cny"], 2),
                lessee_cny=round(totals["lessee_cny"], 2),
                lessor_cny=round(totals["lessor_cny"], 2),
                trucks_ready=int(ready),
                depots_checked_ok=int(ok),
                check_s=round(time.perf_counter() - t1, 2),
            )
        )
    meta = {
        "benchmark": "vpp",
        "event": {
            "start": event.start.isoformat(),
            "end": event.end.isoformat(),
            "direction": direction,
            "target_kw": target_kw,
            "price_cny_per_kwh": price_cny_per_kwh,
        },
        "set_up": "fleet.vpp.synthetic: charging.synthetic_depot nights, 25 % V2G connectors, 50 % consent, "
        "150 kW flat base load, no export; each night planned by charging.schedule (cost objective)",
        "plan_s": round(plan_s, 2),
        "seed": seed,
        "load_average": list(os.getloadavg()),
        "cpu_count": os.cpu_count(),
    }
    return rows, meta


def rows_json(rows: list[VppBenchRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]


__all__ = ["VppBenchRow", "rows_json", "run_vpp_bench"]
