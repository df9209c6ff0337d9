"""Reconciliation of telematics days with plans and charger meters, and its flags in the emissions report."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from fleet.db import session_scope
from fleet.emissions.calc import parse_period
from fleet.emissions.profiles import TCSAE_235
from fleet.emissions.service import report_from_db
from fleet.models import LOCAL_TZ, ChargingSession, Lessee, Vehicle, VehicleDay
from fleet.scope import scope_for
from fleet.telematics.ingest import SOURCE
from fleet.telematics.reconcile import grade_of, reconcile


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((100.0, 95.0, 90.0, 100.0), ((), "reconciled")),
        ((100.0, None, 90.0, 100.0), ((), "partly reconciled")),
        ((100.0, None, 90.0, None), ((), "unreconciled")),
        ((100.0, 70.0, 90.0, 100.0), (("km_vs_plan",), "disagrees")),
        ((100.0, 100.0, 60.0, 100.0), (("kwh_vs_charger",), "disagrees")),
        ((100.0, 100.0, 110.0, 100.0), (("kwh_vs_charger",), "disagrees")),  # more into the pack than metered
    ],
)
def test_grades(args: tuple, expected: tuple) -> None:  # type: ignore[type-arg]
    assert grade_of(*args) == expected


def test_disagreeing_charger_energy_is_flagged_in_the_emissions_report(demo_copy: Engine) -> None:
    day = dt.date(2026, 11, 30)
    with session_scope(demo_copy) as s:
        lessee = s.exec(select(Lessee).where(Lessee.code == "PCX")).one()
        a, b = s.exec(select(Vehicle).where(Vehicle.lessee_id == lessee.id).order_by(Vehicle.id)).all()[:2]
        for v in (a, b):
            for old in s.exec(
                select(VehicleDay).where(VehicleDay.vehicle_id == v.id, VehicleDay.day == day)
            ).all():
                s.delete(old)
            start = dt.datetime.combine(day, dt.time(1, 0), tzinfo=LOCAL_TZ)
            s.add(
                ChargingSession(
                    lessor_id=v.lessor_id,
                    lessee_id=v.lessee_id,
                    vehicle_id=v.id,
                    started_at=start,
                    ended_at=start + dt.timedelta(hours=2),
                    kwh=100.0,
                )
            )
        s.add(
            VehicleDay(
                lessor_id=a.lessor_id,
                lessee_id=a.lessee_id,
                vehicle_id=a.id,
                day=day,
                km=120.0,
                kwh_vehicle=55.0,
                source=SOURCE,
            )
        )
        s.add(
            VehicleDay(
                lessor_id=b.lessor_id,
                lessee_id=b.lessee_id,
                vehicle_id=b.id,
                day=day,
                km=110.0,
                kwh_vehicle=93.0,
                source=SOURCE,
            )
        )
    period = parse_period("2026-11")
    with session_scope(demo_copy) as s:
        scope = scope_for(s, lessee_code="PCX")
        items = {r.plate: r for r in reconcile(s, scope, period)}
        assert items[a.plate].grade == "disagrees" and items[a.plate].efficiency == pytest.approx(0.55)
        assert items[b.plate].grade == "partly reconciled"  # no route plan stored for that day
        report = report_from_db(s, scope, "PCX", period, TCSAE_235).report
    flagged = {(f.vehicle_id, f.code) for f in report.flags}
    assert (a.plate, "kwh_vs_charger") in flagged and (b.plate, "kwh_vs_charger") not in flagged
    # and through the API, the grades of the party's telematics days
    from fastapi.testclient import TestClient

    from fleet.api import create_app, issue_key

    with session_scope(demo_copy) as s:
        key = issue_key(s, "t", lessee_code="PCX")
    out = (
        TestClient(create_app(demo_copy))
        .get("/v1/emissions?period=2026-11", headers={"X-API-Key": key})
        .json()
    )
    assert out["telematics_grades"] == {"disagrees": 1, "partly reconciled": 1}
