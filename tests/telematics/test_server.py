"""The ingestion server on loopback: a compressed day of 100 simulated trucks, malformed frames injected."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, func, select

from fleet.db import make_engine
from fleet.models import (
    Lessee,
    Lessor,
    TelematicsDay,
    TelematicsFrame,
    Vehicle,
    VehicleDay,
    VehicleKind,
    VehicleModel,
)
from fleet.telematics import Answer, FrameScanner, Realtime, Version, decode, decode_frame, encode
from fleet.telematics.ingest import SOURCE, Checker, load_owners
from fleet.telematics.server import IngestServer, replay
from fleet.telematics.simulate import simulate_day
from fleet.telematics.units import BEIJING

TRUCKS = 100


def _vin(i: int) -> str:
    return f"LSIM0000000{i:06d}"


@pytest.fixture(scope="module")
def fleet_db(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('tele') / 'tele.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        lessor = Lessor(code="L", name="Lessor")
        s.add(lessor)
        s.flush()
        lessees = [Lessee(lessor_id=lessor.id, code=f"E{i}", name=f"Lessee {i}") for i in range(2)]
        model = VehicleModel(code="EV", kind=VehicleKind.BEV, name="EV truck", payload_kg=10000, price_fen=1)
        s.add_all([*lessees, model])
        s.flush()
        s.add_all(
            Vehicle(
                lessor_id=lessor.id,
                lessee_id=lessees[i % 2].id,
                plate=f"粤B{i:05d}",
                vin=_vin(i),
                model_id=model.id,
            )
            for i in range(TRUCKS)
        )
        s.commit()
    return engine


async def _truck(port: int, frames: list[bytes]) -> list[bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    stream = b"".join(frames)
    for i in range(0, len(stream), 4096):
        writer.write(stream[i : i + 4096])
        await writer.drain()
    writer.write_eof()
    data = await reader.read()
    writer.close()
    scanner = FrameScanner()
    return [s.raw for s in scanner.feed(data) + scanner.close() if s.frame]


def test_a_day_of_100_trucks_is_stored_and_derived_within_half_a_percent(fleet_db: Engine) -> None:
    day = dt.datetime.now(BEIJING).date() - dt.timedelta(days=1)
    truths, streams = {}, []
    injected = {"bad_bcc": 0, "truncated": 0, "unknown_vin": 0, "clock_ahead": 0}
    for i in range(TRUCKS):
        frames, truth = simulate_day(
            _vin(i), day, interval_s=120, version=Version.V2016 if i % 3 else Version.V2025
        )
        truths[_vin(i)] = truth
        if i % 10 == 0:  # malformed frames between good ones, and a cut-off frame at the end
            bad = bytearray(frames[5])
            bad[-1] ^= 0x55
            future = dt.datetime.now(BEIJING) + dt.timedelta(days=2)
            frames = (
                frames[:5]
                + [
                    bytes(bad),
                    encode("LUNKNOWN000000001", Realtime(future)),
                    encode(_vin(i), Realtime(future)),
                ]
                + frames[5:]
                + [frames[6][:20]]
            )
            injected = {k: v + 1 for k, v in injected.items()}
        streams.append(frames)
    good = sum(t.frames for t in truths.values())

    async def run() -> tuple[IngestServer, list[list[bytes]]]:
        with Session(fleet_db) as s:
            checker = Checker(load_owners(s), max_behind=dt.timedelta(days=3))
        server = IngestServer(fleet_db, port=0, checker=checker)
        port = await server.start()
        answers = await asyncio.gather(*(_truck(port, f) for f in streams))
        await server.stop()
        return server, answers

    server, answers = asyncio.run(run())
    stats = server.stats()
    assert stats["accepted"] == good
    for reason, n in injected.items():
        assert stats[f"rejected:{reason}"] == n, stats
    # every accepted command frame was answered with success
    assert sum(decode_frame(a).answer == Answer.SUCCESS for per in answers for a in per) == good
    with Session(fleet_db) as s:
        assert s.exec(select(func.count()).select_from(TelematicsFrame)).one() == server.stored
        assert s.exec(select(func.count()).where(TelematicsFrame.status == "accepted")).one() == good
        plates = {v.id: v.vin for v in s.exec(select(Vehicle)).all()}
        rows = s.exec(select(VehicleDay).where(VehicleDay.source == SOURCE, VehicleDay.day == day)).all()
        details = {
            d.vehicle_id: d for d in s.exec(select(TelematicsDay).where(TelematicsDay.day == day)).all()
        }
    assert len(rows) == TRUCKS
    for row in rows:
        truth = truths[plates[row.vehicle_id]]
        detail = details[row.vehicle_id]
        assert row.km == pytest.approx(truth.km, rel=0.005)
        assert row.kwh_vehicle == pytest.approx(truth.kwh_charged, rel=0.005)
        assert detail.kwh_driven == pytest.approx(truth.kwh_driven, rel=0.005)
        assert detail.soc_trace and detail.vehicle_day_id == row.id


def test_replay_of_a_hex_capture_counts_and_derives(fleet_db: Engine, tmp_path: Path) -> None:
    day = dt.date(2026, 11, 2)
    frames, truth = simulate_day(_vin(1), day, interval_s=300)
    binary = tmp_path / "capture.bin"
    binary.write_bytes(b"".join(frames))  # as on the wire
    result = replay(fleet_db, binary)
    assert result.counts == {"accepted": len(frames)} and result.stored == len(frames)
    capture = tmp_path / "capture.txt"
    capture.write_text("# one frame per line\n" + "\n".join(f.hex(" ") for f in frames) + "\n")
    again = replay(fleet_db, capture)
    assert (
        again.counts == {"accepted": len(frames)} and again.days >= 1
    )  # every day of the vehicle is re-derived
    with Session(fleet_db) as s:
        rows = s.exec(select(VehicleDay).where(VehicleDay.source == SOURCE, VehicleDay.day == day)).all()
    assert len(rows) == 1  # re-derived in place, not doubled, although every frame arrived twice
    assert rows[0].km == pytest.approx(truth.km, rel=0.005)
    _, unit = decode(frames[3])
    assert isinstance(unit, Realtime)


def test_deleting_a_lessor_removes_its_frames_days_and_api_keys(tmp_path: Path) -> None:
    """`evfleet demo --replace` deletes the demo lessor: rows outside OWNED_TABLES must not block it."""
    from fleet.api.keys import issue_key
    from fleet.demo.load import delete_lessor
    from fleet.models import ApiKey, IdempotencyRecord

    engine = make_engine(f"sqlite:///{tmp_path / 'del.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        lessor = Lessor(code="L", name="L")
        s.add(lessor)
        s.flush()
        model = VehicleModel(code="EV", kind=VehicleKind.BEV, name="EV", payload_kg=1, price_fen=1)
        s.add(model)
        s.flush()
        s.add(Vehicle(lessor_id=lessor.id, plate="P1", vin=_vin(1), model_id=model.id))
        s.commit()
        issue_key(s, "k")
        key = s.exec(select(ApiKey)).one()
        s.add(IdempotencyRecord(api_key_id=key.id, key="x", request_sha256="0" * 64, status_code=201))
        s.commit()
    frames, _ = simulate_day(_vin(1), dt.date(2026, 11, 2), interval_s=600)
    (tmp_path / "c.bin").write_bytes(b"".join(frames))
    assert replay(engine, tmp_path / "c.bin").days == 1
    with Session(engine) as s:
        delete_lessor(s, s.exec(select(Lessor.id)).one())
        s.commit()
        for table in (TelematicsFrame, TelematicsDay, ApiKey, IdempotencyRecord, VehicleDay, Lessor):
            assert s.exec(select(func.count()).select_from(table)).one() == 0, table.__name__
