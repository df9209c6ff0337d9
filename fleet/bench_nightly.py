"""`evfleet bench nightly`: throughput of the nightly fan-out on N synthetic depots with 1 and 2 workers.

The synthetic depots are clones of the demo depots (same chargers, fleet and tariff; orders of the service date
resampled with a seed, so every depot-day has real routing and charging work). Each configuration plans the
same depots for the same date; the second run simply writes version 2 of every plan.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlmodel import select

from fleet.db import make_engine, session_scope
from fleet.demo.load import load_demo
from fleet.migrate import upgrade
from fleet.models import Connector, Depot, Order, PowerGroup, Vehicle
from fleet.nightly import NightlyConfig, run_nightly
from fleet.pipeline import RunOptions

BENCH_DAY = dt.date(2026, 11, 26)


@dataclass(frozen=True)
class NightlyBenchRow:
    workers: int
    depots: int
    succeeded: int
    seconds: float
    depots_per_minute: float
    speedup: float


def build_synthetic_db(path: Path, depots: int, orders_per_depot: int, seed: int) -> str:
    """An SQLite database with the demo plus `depots` cloned depots (codes SYN-001...)."""
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    load_demo(engine)
    rng = random.Random(seed)
    with session_scope(engine) as s:
        templates = s.exec(select(Depot).order_by(Depot.code)).all()
        for i in range(depots):
            src = templates[i % len(templates)]
            d = Depot(
                **{**src.model_dump(exclude={"id"}), "code": f"SYN-{i + 1:03d}", "name": f"synthetic {i + 1}"}
            )
            s.add(d)
            s.flush()
            groups = {}
            for g in s.exec(select(PowerGroup).where(PowerGroup.depot_id == src.id)).all():
                ng = PowerGroup(**{**g.model_dump(exclude={"id"}), "depot_id": d.id})
                s.add(ng)
                s.flush()
                groups[g.id] = ng.id
            for c in s.exec(select(Connector).where(Connector.depot_id == src.id)).all():
                s.add(
                    Connector(
                        **{
                            **c.model_dump(exclude={"id"}),
                            "depot_id": d.id,
                            "power_group_id": groups.get(c.power_group_id),
                        }
                    )
                )
            for k, v in enumerate(s.exec(select(Vehicle).where(Vehicle.depot_id == src.id)).all()):
                s.add(
                    Vehicle(
                        **{
                            **v.model_dump(exclude={"id"}),
                            "depot_id": d.id,
                            "plate": f"SYN{i + 1:03d}-{k:03d}",
                            "vin": f"SYNTH{i + 1:03d}{k:03d}000000"[:17],
                        }
                    )
                )
            pool = s.exec(
                select(Order).where(Order.depot_id == src.id, Order.service_date == BENCH_DAY)
            ).all()
            for k, o in enumerate(rng.sample(pool, min(orders_per_depot, len(pool)))):
                s.add(
                    Order(
                        **{
                            **o.model_dump(exclude={"id"}),
                            "depot_id": d.id,
                            "external_ref": f"SYN-{i + 1:03d}-{k:03d}",
                        }
                    )
                )
    engine.dispose()
    return url


def run_bench(
    depots: int = 40,
    orders_per_depot: int = 40,
    time_limit_s: float = 3.0,
    seed: int = 0,
    worker_counts: tuple[int, ...] = (1, 2),
    workdir: Path | None = None,
) -> list[NightlyBenchRow]:
    tmp = Path(workdir or tempfile.mkdtemp(prefix="evfleet-bench-nightly-"))
    url = build_synthetic_db(tmp / "bench.db", depots, orders_per_depot, seed)
    codes = tuple(f"SYN-{i + 1:03d}" for i in range(depots))
    options = RunOptions(time_limit_s=time_limit_s, charging_time_limit_s=10.0, seed=seed)
    rows: list[NightlyBenchRow] = []
    base = None
    for workers in worker_counts:
        t0 = time.perf_counter()
        summary = run_nightly(
            NightlyConfig(
                service_date=BENCH_DAY, db_url=url, depot_codes=codes, workers=workers, options=options
            )
        )
        seconds = time.perf_counter() - t0
        base = base or seconds
        rows.append(
            NightlyBenchRow(
                workers,
                depots,
                sum(o.status == "succeeded" for o in summary.outcomes),
                round(seconds, 2),
                round(depots / seconds * 60, 2),
                round(base / seconds, 3),
            )
        )
    return rows


def write_json(rows: list[NightlyBenchRow], path: Path, meta: dict[str, object]) -> None:
    path.write_text(
        json.dumps({"meta": meta, "results": [asdict(r) for r in rows]}, indent=2), encoding="utf-8"
    )
