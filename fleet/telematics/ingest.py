"""Checking, acknowledging and storing frames, and turning stored frames into metered vehicle-days.

Used alike by the TCP server (`fleet.telematics.server`) and by `evfleet telematics replay FILE`. Every frame
is stored as received (accepted or rejected, with the reason) in `telematicsframe`, append-only; the metered
records (`VehicleDay`, source 'telematics:gbt32960', and its detail row `TelematicsDay`) are derived from the
accepted frames and re-derived in place when more frames of a day arrive.

Rejections (reason codes): the decoder's (bad_start, truncated, bad_length, bad_bcc, bad_vin, bad_data,
trailing_bytes, encrypted), unknown_vin (not a vehicle of the database), clock_ahead / clock_behind (collection
time more than `max_ahead` after or, for real-time data, `max_behind` before the receipt; re-sent data may be
older), not_a_command (an answer or a command the platform does not take from vehicles).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from fleet.models import TelematicsDay, TelematicsFrame, Vehicle, VehicleDay
from fleet.telematics.codec import decode
from fleet.telematics.derive import Sample, derive_days
from fleet.telematics.gbt32960 import (
    Answer,
    Command,
    Frame,
    FrameError,
    Scanned,
    Version,
    answer_frame,
    encode_frame,
)
from fleet.telematics.units import BEIJING, Realtime, TimeSync, Unit, encode_unit

SOURCE = "telematics:gbt32960"
UPLINK = {
    Command.LOGIN,
    Command.REALTIME,
    Command.RESEND,
    Command.LOGOUT,
    Command.HEARTBEAT,
    Command.TIME_SYNC,
}


@dataclass(frozen=True)
class Owner:
    vehicle_id: int
    lessor_id: int
    lessee_id: int | None
    depot_id: int | None


def load_owners(session: Session) -> dict[str, Owner]:
    """VIN -> the vehicle and its owners, for every vehicle in the database (the server serves all lessors)."""
    return {
        v.vin: Owner(v.id, v.lessor_id, v.lessee_id, v.depot_id)  # type: ignore[arg-type]
        for v in session.exec(select(Vehicle)).all()
    }


@dataclass(frozen=True)
class Verdict:
    """What happens to one scanned item: the row to store and the answer bytes to send (or None)."""

    row: dict[str, Any]  # the columns of a TelematicsFrame row
    answer: bytes | None
    accepted: bool


@dataclass
class Checker:
    """Pure-ish rules: decide, build the row and the answer. `now=None` skips the clock check (replays)."""

    owners: dict[str, Owner]
    max_ahead: dt.timedelta = dt.timedelta(minutes=10)
    max_behind: dt.timedelta = dt.timedelta(days=1)
    counts: Counter[str] = field(default_factory=Counter)

    def check(self, item: Scanned, source: str, now: dt.datetime | None) -> Verdict:
        frame, unit, reason = item.frame, None, ""
        if item.error is not None:
            reason = item.error.reason
        else:
            assert frame is not None
            try:
                _, unit = decode(item.raw)
            except FrameError as exc:
                reason = exc.reason
            if not reason:
                reason = self._rule(frame, unit, now)
        owner = self.owners.get(frame.vin) if frame else None
        when = getattr(unit, "time", None)
        # A plain dict per row: building a SQLModel instance per frame cost more than decoding the frame.
        row = {
            "received_at": now or dt.datetime.now(dt.UTC),
            "vin": (frame.vin if frame else "")[:17],
            "vehicle_id": owner.vehicle_id if owner else None,
            "lessor_id": owner.lessor_id if owner else None,
            "lessee_id": owner.lessee_id if owner else None,
            "version": frame.version.value if frame else "",
            "command": frame.command if frame else None,
            "collected_at": when,
            "status": "rejected" if reason else "accepted",
            "reason": reason,
            "source": source[:120],
            "raw": item.raw,
        }
        self.counts["accepted" if not reason else f"rejected:{reason}"] += 1
        return Verdict(row, self._answer(frame, unit, reason, now), not reason)

    def _rule(self, frame: Frame, unit: Unit | None, now: dt.datetime | None) -> str:
        if not frame.is_command or frame.command not in UPLINK:
            return "not_a_command"
        if frame.vin not in self.owners:
            return "unknown_vin"
        when = getattr(unit, "time", None)
        if now is not None and when is not None:
            if when - now > self.max_ahead:
                return "clock_ahead"
            if isinstance(unit, Realtime) and not unit.resent and now - when > self.max_behind:
                return "clock_behind"
        return ""

    @staticmethod
    def _answer(frame: Frame | None, unit: Unit | None, reason: str, now: dt.datetime | None) -> bytes | None:
        """GB/T 32960 answers commands only; a frame whose BCC or envelope failed gets none (its VIN and
        command cannot be trusted)."""
        if frame is None or not frame.is_command or reason == "not_a_command":
            return None
        if not reason:
            if isinstance(unit, TimeSync):
                _, data = encode_unit(TimeSync(now or dt.datetime.now(BEIJING)), frame.version)
                return encode_frame(answer_frame(frame, Answer.SUCCESS, data))
            return encode_frame(answer_frame(frame, Answer.SUCCESS))
        if reason == "unknown_vin":
            code = Answer.VIN_UNKNOWN if frame.version is Version.V2025 else Answer.ERROR
        elif reason in ("bad_data", "trailing_bytes") and frame.version is Version.V2025:
            code = Answer.STRUCTURE_ERROR
        elif reason == "encrypted" and frame.version is Version.V2025:
            code = Answer.DECRYPT_ERROR
        else:
            code = Answer.ERROR
        return encode_frame(answer_frame(frame, code))


def store_rows(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    """Append frames in one statement (bulk insert); the caller commits."""
    values = list(rows)
    if values:
        session.execute(sa.insert(TelematicsFrame), values)
    return len(values)


# ------------------------------------------------------------------------------------------------ deriving


@dataclass(frozen=True)
class DerivedDay:
    vehicle_id: int
    day: dt.date
    km: float
    kwh_charged: float
    kwh_driven: float
    frames: int


def touched_days(rows: Iterable[dict[str, Any]]) -> dict[int, set[dt.date]]:
    """(vehicle id -> local days) of the accepted rows with a collection time: what needs re-deriving."""
    out: dict[int, set[dt.date]] = {}
    for row in rows:
        if row["status"] == "accepted" and row["vehicle_id"] and row["collected_at"] is not None:
            out.setdefault(row["vehicle_id"], set()).add(row["collected_at"].astimezone(BEIJING).date())
    return out


def derive(session: Session, touched: dict[int, set[dt.date]] | None = None) -> list[DerivedDay]:
    """(Re-)derive metered days from accepted real-time and re-sent frames; writes TelematicsDay and VehicleDay
    rows in the caller's transaction. `touched` (vehicle id -> local days) limits the work to those days (read
    with a day of margin on each side, for the first odometer step and the last interval); None derives every day of every vehicle."""
    base = select(TelematicsFrame.vehicle_id, TelematicsFrame.raw).where(
        TelematicsFrame.status == "accepted",
        TelematicsFrame.command.in_([int(Command.REALTIME), int(Command.RESEND)]),  # type: ignore[union-attr]
        TelematicsFrame.vehicle_id.is_not(None),  # type: ignore[union-attr]
    )
    queries = []
    if touched is None:
        queries.append(base)
    else:
        for vehicle_id, days in sorted(touched.items()):
            if not days:
                continue
            lo = dt.datetime.combine(min(days) - dt.timedelta(days=1), dt.time(), tzinfo=BEIJING)
            hi = dt.datetime.combine(max(days) + dt.timedelta(days=2), dt.time(), tzinfo=BEIJING)
            queries.append(
                base.where(
                    TelematicsFrame.vehicle_id == vehicle_id,
                    TelematicsFrame.collected_at >= lo,  # type: ignore[operator]
                    TelematicsFrame.collected_at < hi,  # type: ignore[operator]
                )
            )
    samples: dict[int, list[Sample]] = {}
    for query in queries:
        for vehicle_id, raw in session.execute(query):
            _, unit = decode(raw)
            v = unit.vehicle() if isinstance(unit, Realtime) else None
            if v is not None:
                samples.setdefault(vehicle_id, []).append(Sample.of(unit.time, v))  # type: ignore[union-attr]
    out = []
    for vehicle_id, vs in sorted(samples.items()):
        vehicle = session.get(Vehicle, vehicle_id)
        assert vehicle is not None
        wanted = None if touched is None else touched.get(vehicle_id, set())
        for day, m in sorted(derive_days(vs).items()):
            if wanted is not None and day not in wanted:
                continue
            _write_day(session, vehicle, m)
            out.append(DerivedDay(vehicle_id, day, m.km, m.kwh_charged, m.kwh_driven, m.samples))
    if out:  # the lessor's emissions summary: the written vehicle-months, once the caller commits
        from fleet.emissions.monthly import refresh_after_commit

        refresh_after_commit(session)
    return out


def _write_day(session: Session, vehicle: Vehicle, m) -> None:  # type: ignore[no-untyped-def]
    record = session.exec(
        select(VehicleDay).where(
            VehicleDay.vehicle_id == vehicle.id, VehicleDay.day == m.day, VehicleDay.source == SOURCE
        )
    ).first()
    if record is None:
        record = VehicleDay(
            lessor_id=vehicle.lessor_id,
            lessee_id=vehicle.lessee_id,
            vehicle_id=vehicle.id,  # type: ignore[arg-type]
            depot_id=vehicle.depot_id,
            day=m.day,
            km=m.km,
            source=SOURCE,
        )
    # Vehicle-side kWh is the energy into the pack while charging (what the grid delivered, less the charger's
    # losses); the emissions use it divided by the lease's charging efficiency when no charger reading exists.
    record.km, record.kwh_vehicle = m.km, m.kwh_charged
    session.add(record)
    session.flush()
    detail = session.exec(
        select(TelematicsDay).where(TelematicsDay.vehicle_id == vehicle.id, TelematicsDay.day == m.day)
    ).first() or TelematicsDay(
        lessor_id=vehicle.lessor_id,
        lessee_id=vehicle.lessee_id,
        vehicle_id=vehicle.id,  # type: ignore[arg-type]
        day=m.day,
        km=0,
        kwh_charged=0,
        kwh_driven=0,
        frames=0,
    )
    detail.km, detail.kwh_charged, detail.kwh_driven = m.km, m.kwh_charged, m.kwh_driven
    detail.frames, detail.gap_s = m.samples, m.gap_s
    detail.soc_trace = [list(x) for x in m.soc_trace]
    detail.vehicle_day_id = record.id
    detail.derived_at = dt.datetime.now(dt.UTC)
    session.add(detail)
