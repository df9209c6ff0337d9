"""Ingestion throughput: a simulated day of N trucks streamed over loopback TCP into the server (one process).

Basis: SQLite file database in a temporary folder, frames generated before the clock starts, every truck on
its own connection at once; the rate counts frames stored and answered (the server answers after the commit).
Wall time and this process's CPU time are both reported: on a shared machine the wall rate understates.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlmodel import Session, SQLModel

from fleet.db import make_engine
from fleet.models import Lessee, Lessor, Vehicle, VehicleKind, VehicleModel
from fleet.telematics.ingest import Checker, load_owners
from fleet.telematics.server import IngestServer
from fleet.telematics.simulate import simulate_day


async def _send(port: int, data: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    writer.write_eof()
    answers = await reader.read()
    writer.close()
    return len(answers)


def bench_ingest(trucks: int = 100, interval_s: int = 60, seed: int = 0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="evfleet-bench-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        SQLModel.metadata.create_all(engine)
        with Session(engine) as s:
            lessor = Lessor(code="B", name="bench")
            s.add(lessor)
            s.flush()
            lessee = Lessee(lessor_id=lessor.id, code="BE", name="bench lessee")
            model = VehicleModel(code="BEV", kind=VehicleKind.BEV, name="bench", payload_kg=1, price_fen=1)
            s.add_all([lessee, model])
            s.flush()
            vins = [f"LBENCH00000{i:06d}" for i in range(trucks)]
            s.add_all(
                Vehicle(lessor_id=lessor.id, lessee_id=lessee.id, plate=f"B{i:06d}", vin=v, model_id=model.id)
                for i, v in enumerate(vins)
            )
            s.commit()
            checker = Checker(load_owners(s), max_behind=dt.timedelta(days=3))
        day = dt.date.today() - dt.timedelta(days=1)
        streams = [b"".join(simulate_day(v, day, seed=seed, interval_s=interval_s)[0]) for v in vins]

        async def run() -> IngestServer:
            server = IngestServer(engine, port=0, checker=checker)
            port = await server.start()
            await asyncio.gather(*(_send(port, data) for data in streams))
            await server.stop()
            return server

        wall0, cpu0 = time.perf_counter(), time.process_time()
        server = asyncio.run(run())
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        engine.dispose()
    frames = server.stats().get("accepted", 0)
    return {
        "trucks": trucks,
        "interval_s": interval_s,
        "frames": frames,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "frames_per_s_wall": round(frames / wall, 1),
        "frames_per_s_cpu": round(frames / cpu, 1),
        "basis": "loopback TCP, SQLite file, one process (server + clients), derivation of the days included",
    }
