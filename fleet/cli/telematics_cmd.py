"""`evfleet telematics ...`: the GB/T 32960 ingestion server, replay of captured frames, the frame generator."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import time
from pathlib import Path

import typer
from sqlmodel import Session, select

from fleet.cli.common import DB_OPTION, console, fail
from fleet.db import database_url, get_engine
from fleet.models import Vehicle, VehicleKind, VehicleModel


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    tele = typer.Typer(
        help="Trucks' telematics over GB/T 32960: serve, replay, simulate.", no_args_is_help=True
    )
    app.add_typer(
        tele, name="telematics", help="Trucks' telematics over GB/T 32960: serve, replay, simulate."
    )

    @bench_app.command("telematics")
    def bench_telematics(
        trucks: int = typer.Option(100, help="Simulated trucks, one connection each."),
        interval: int = typer.Option(60, help="Seconds between real-time frames."),
        out: Path = typer.Option(Path("bench-telematics.json"), help="JSON result file."),
    ) -> None:
        """Frames per second ingested: a simulated day streamed over loopback TCP; table + JSON."""
        import json

        from fleet.telematics.bench import bench_ingest

        result = bench_ingest(trucks, interval)
        for key, value in result.items():
            console.print(f"{key:20s} {value}")
        out.write_text(json.dumps(result, indent=2), encoding="utf-8")

    @tele.command("serve")
    def serve(
        host: str = typer.Option("0.0.0.0", help="Address to listen on."),
        port: int = typer.Option(32960, help="TCP port."),
        derive_every: float = typer.Option(60.0, help="Re-derive metered days of fresh vehicles every N s."),
        db: str | None = DB_OPTION,
    ) -> None:
        """Accept GB/T 32960 terminals (2016 '##' and 2025 '$$'), answer, store every frame, derive the days."""
        from fleet.telematics.server import IngestServer

        async def run() -> None:
            server = IngestServer(
                get_engine(database_url(db)), host=host, port=port, derive_every_s=derive_every
            )
            bound = await server.start()
            console.print(f"listening on {host}:{bound} (Ctrl-C or SIGTERM stops; counts printed at the end)")
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):  # a clean stop: pending frames stored, days derived
                loop.add_signal_handler(sig, stop.set)
            try:
                await stop.wait()
            finally:
                await server.stop()
                console.print(server.stats())

        asyncio.run(run())

    @tele.command("replay")
    def replay_cmd(
        file: Path = typer.Argument(
            ..., exists=True, dir_okay=False, help="Raw bytes or hex, one frame a line."
        ),
        check_clock_at: str | None = typer.Option(
            None, "--now", help="Check collection times against this ISO time (default: no clock check)."
        ),
        db: str | None = DB_OPTION,
    ) -> None:
        """Ingest captured frames as the server would (no answers), then derive the metered days."""
        from fleet.telematics.server import replay

        now = dt.datetime.fromisoformat(check_clock_at) if check_clock_at else None
        if now is not None and now.tzinfo is None:
            raise fail("--now needs a timezone, e.g. 2026-12-05T08:00:00+08:00")
        started = time.perf_counter()
        result = replay(get_engine(database_url(db)), file, now=now)
        seconds = time.perf_counter() - started
        for key, count in sorted(result.counts.items()):
            console.print(f"{key:28s} {count:>9d}")
        console.print(
            f"{result.stored} frames stored, {result.days} vehicle-days derived in {seconds:.1f} s "
            f"({result.stored / max(seconds, 1e-9):,.0f} frames/s)"
        )

    @tele.command("simulate")
    def simulate_cmd(
        out: Path = typer.Argument(..., help="Capture file to write (raw frames, as on the wire)."),
        day: str = typer.Option(..., help="Local service day, YYYY-MM-DD."),
        trucks: int = typer.Option(10, help="How many of the database's electric trucks (by id)."),
        interval: int = typer.Option(60, help="Seconds between real-time frames."),
        version: str = typer.Option("2016", help="2016 ('##') or 2025 ('$$')."),
        seed: int = typer.Option(0),
        db: str | None = DB_OPTION,
    ) -> None:
        """Write a synthetic day of frames for the database's electric trucks (a demo and test generator)."""
        from fleet.telematics.gbt32960 import Version
        from fleet.telematics.simulate import simulate_day

        with Session(get_engine(database_url(db))) as s:
            vins = s.exec(
                select(Vehicle.vin)
                .join(VehicleModel, VehicleModel.id == Vehicle.model_id)
                .where(VehicleModel.kind == VehicleKind.BEV)
                .order_by(Vehicle.id)
                .limit(trucks)
            ).all()
        if not vins:
            raise fail("no electric trucks in the database (evfleet demo load)")
        chosen = Version(version)
        total = km = 0.0
        with out.open("wb") as fh:
            for vin in vins:
                frames, truth = simulate_day(
                    vin, dt.date.fromisoformat(day), seed=seed, interval_s=interval, version=chosen
                )
                fh.write(b"".join(frames))
                total += len(frames)
                km += truth.km
        console.print(f"{out}: {int(total)} frames of {len(vins)} trucks, {km:,.1f} km in all (truth)")
