"""API import throughput: batches of orders POSTed through FastAPI's TestClient (in process, no network).

Basis: SQLite file database in a temporary folder with one lessor, one lessee and one depot; each request
carries `rows` orders and goes through the whole stack (key check, validation, the file importer, commit).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel

from fleet.api.app import create_app
from fleet.api.keys import issue_key
from fleet.db import make_engine
from fleet.models import Depot, Lessee, Lessor


def bench_orders(batches: int = 20, rows: int = 200) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="evfleet-bench-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        SQLModel.metadata.create_all(engine)
        with Session(engine) as s:
            lessor = Lessor(code="B", name="bench")
            s.add(lessor)
            s.flush()
            lessee = Lessee(lessor_id=lessor.id, code="BE", name="bench lessee")
            s.add(lessee)
            s.flush()
            s.add(
                Depot(
                    lessor_id=lessor.id,
                    lessee_id=lessee.id,
                    code="D1",
                    name="bench depot",
                    latitude=22.6,
                    longitude=114.0,
                    grid_import_limit_kw=500,
                )
            )
            key = issue_key(s, "bench", lessee_code="BE")
            s.commit()
        client = TestClient(create_app(engine))
        bodies = [
            {
                "rows": [
                    {
                        "external_ref": f"B{b:04d}-{i:05d}",
                        "depot_code": "D1",
                        "service_date": "2026-12-20",
                        "latitude": 22.6 + (i % 100) * 1e-3,
                        "longitude": 114.0 + (i % 50) * 1e-3,
                        "demand_kg": 100 + i % 7,
                        "window_start": "09:00",
                        "window_end": "18:00",
                        "service_minutes": 10,
                    }
                    for i in range(rows)
                ]
            }
            for b in range(batches)
        ]
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for body in bodies:
            r = client.post("/v1/orders", json=body, headers={"X-API-Key": key})
            if r.status_code != 201:
                raise RuntimeError(f"bench request refused: {r.status_code} {r.text[:300]}")
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        engine.dispose()
    n = batches * rows
    return {
        "batches": batches,
        "rows_per_request": rows,
        "orders": n,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "orders_per_s_wall": round(n / wall, 1),
        "orders_per_s_cpu": round(n / cpu, 1),
        "basis": "FastAPI TestClient in process, SQLite file, one lessee, whole import path per request",
    }
