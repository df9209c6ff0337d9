"""Roles and audit (issue 21 item 8): who changed a rent or a vehicle's status is recorded and shown in scope;
the database address is hidden from users unless the deployment is a developer's."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.audit import acting_as
from fleet.models import AuditEvent, Lease, Vehicle
from fleet.services import unit_of_work
from fleet.services.audit import app_actor, audit_frame, developer_mode
from fleet.services.fleet_leases import update_lease, update_vehicle
from tests.app.conftest import AppRunner, url_of


def _lease_and_owner(engine: Engine) -> tuple[str, int, str, str]:
    from fleet.models import Lessee

    with Session(engine) as s:
        lease = s.exec(select(Lease).order_by(Lease.id)).first()
        owner = s.get(Lessee, lease.lessee_id)
        other = s.exec(select(Lessee).where(Lessee.id != lease.lessee_id)).first()
        return lease.code, lease.monthly_rent_fen, owner.code, other.code


def test_a_rent_change_is_recorded_with_who_when_and_before_after(demo_copy: Engine) -> None:
    url = url_of(demo_copy)
    code, rent_fen, owner, other = _lease_and_owner(demo_copy)
    with acting_as("app:alice@lessor.example"), unit_of_work(url) as s:
        update_lease(s, None, code, {"monthly_rent_cny": "9876.50"})
    with Session(demo_copy) as s:
        [event] = s.exec(select(AuditEvent).where(AuditEvent.entity == "lease")).all()
    assert event.actor == "app:alice@lessor.example" and event.entity_key == code and event.at is not None
    assert event.changes == {"monthly_rent_fen": [rent_fen, 987650]}
    with unit_of_work(url) as s:
        mine, theirs, lessor = audit_frame(s, owner), audit_frame(s, other), audit_frame(s, None)
    assert list(mine["what"]) == [f"lease {code}"] and f"{rent_fen} → 987650" in mine["change"][0]
    assert theirs.empty  # another lessee never sees it
    assert len(lessor) == 1


def test_a_vehicle_status_change_is_recorded_and_an_unchanged_save_is_not(demo_copy: Engine) -> None:
    url = url_of(demo_copy)
    with Session(demo_copy) as s:
        vehicle = s.exec(select(Vehicle).order_by(Vehicle.id)).first()
        plate, status = vehicle.plate, vehicle.status.value
    with acting_as("cli:ops"), unit_of_work(url) as s:
        update_vehicle(s, None, plate, {"status": "maintenance"})
    with acting_as("cli:ops"), unit_of_work(url) as s:
        update_vehicle(s, None, plate, {"status": "maintenance"})  # no change: nothing to record
    with Session(demo_copy) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.entity == "vehicle")).all()
    assert [(e.actor, e.entity_key, e.changes) for e in events] == [
        ("cli:ops", plate, {"status": [status, "maintenance"]})
    ]


def test_the_app_names_its_user_and_hides_the_database_from_users(
    run_app: AppRunner, demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert app_actor({"email": "li@fresh.example"}, "FRESH") == "app:li@fresh.example"
    assert app_actor(None, "FRESH") == "app:planner FRESH" and app_actor(None, None) == "app:lessor"
    assert not developer_mode({}) and developer_mode({"EVFLEET_APP_DEVELOPER": "1"})
    url = url_of(demo_engine)
    at = run_app(url, page="changes")
    assert not at.exception
    sidebar = "\n".join(c.value for c in at.sidebar.caption)
    assert "Database:" not in sidebar and "sqlite" not in sidebar
    monkeypatch.setenv("EVFLEET_APP_DEVELOPER", "1")
    at = run_app(url, page="changes")
    assert "Database:" in "\n".join(c.value for c in at.sidebar.caption)


def test_a_nightly_plan_is_recorded_under_the_nightly_job(planned_engine: Engine) -> None:
    from tests.app.conftest import PLANNED_DEPOT, SERVICE_DATE

    with Session(planned_engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.entity == "routeplan")).all()
    assert [(e.actor, e.action, e.entity_key) for e in events] == [
        ("nightly", "create", f"{PLANNED_DEPOT} {SERVICE_DATE.isoformat()} v1")
    ]
    assert events[0].reason == "nightly plan" and "km" in events[0].changes
