"""The CSMS and the database: who the chargers and trucks are, tonight's published plan as profiles, and the
records the night leaves (charging sessions, alerts, connector states).

Naming convention (docs/ocpp.md): a charger connects as `ws://host:port/<connector code>` and drives its
connector as OCPP connector / EVSE 1; a truck's id tag is its VIN. Sessions are written as `ChargingSession`
rows (source of ex-post emissions, `fleet.emissions.sources`, and of the observed baseline,
`fleet.planning.inputs.night_sessions`), each in its own short transaction so nothing metered is lost if a
later write fails.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from charging.problem import ChargingProblem, ScenarioError, problem_from_json
from fleet.csms.adapter import ConnectorRef, ConnectorState
from fleet.csms.deviation import Alert, TruckPlan
from fleet.csms.hub import NightPlan, SessionRecord
from fleet.csms.profiles import profiles_from_plan
from fleet.models import (
    ChargingAlert,
    ChargingPlan,
    ChargingSession,
    ChargingSlot,
    Connector,
    ConnectorLiveState,
    Depot,
    PlanStatus,
    Vehicle,
)

LOG = logging.getLogger("fleet.csms.store")


@dataclass(frozen=True)
class Directory:
    """One depot's chargers and trucks: connector code <-> charger reference, VIN (id tag) <-> vehicle."""

    depot_id: int
    lessor_id: int
    lessee_id: int | None
    connectors: dict[ConnectorRef, Connector]
    vehicles_by_tag: dict[str, Vehicle]

    @property
    def tags(self) -> dict[str, str]:
        """id tag -> plate, what the hub authorises."""
        return {tag: v.plate for tag, v in self.vehicles_by_tag.items()}

    def vehicle(self, plate: str | None) -> Vehicle | None:
        return next((v for v in self.vehicles_by_tag.values() if v.plate == plate), None)


def load_directory(session: Session, depot_code: str) -> Directory:
    depot = session.exec(select(Depot).where(Depot.code == depot_code)).first()
    if depot is None:
        raise ValueError(f"depot {depot_code!r}: no such depot")
    connectors = session.exec(select(Connector).where(Connector.depot_id == depot.id)).all()
    vehicles = session.exec(select(Vehicle).where(Vehicle.depot_id == depot.id)).all()
    return Directory(
        depot_id=int(depot.id or 0),
        lessor_id=depot.lessor_id,
        lessee_id=depot.lessee_id,
        connectors={ConnectorRef(c.code, 1): c for c in connectors},
        vehicles_by_tag={v.vin: v for v in vehicles},
    )


def night_plan_from_db(
    session: Session, directory: Directory, service_date: dt.date, revision: int = 1
) -> NightPlan | None:
    """Tonight's current charging plan of the depot as profiles and trucks (None when nothing is published)."""
    plan = session.exec(
        select(ChargingPlan).where(
            ChargingPlan.depot_id == directory.depot_id,
            ChargingPlan.service_date == service_date,
            ChargingPlan.status == PlanStatus.CURRENT,
        )
    ).first()
    if plan is None or plan.horizon_start is None or plan.horizon_end is None:
        return None
    slots = session.exec(select(ChargingSlot).where(ChargingSlot.plan_id == plan.id)).all()
    by_id = {c.id: ref for ref, c in directory.connectors.items()}
    plates = {v.id: v.plate for v in directory.vehicles_by_tag.values()}
    n = int((plan.horizon_end - plan.horizon_start) / dt.timedelta(minutes=plan.slot_minutes))
    rows = [
        (by_id[s.connector_id], plates.get(s.vehicle_id, ""), s.slot_start, s.power_kw)
        for s in slots
        if s.connector_id in by_id and s.slot_start is not None
    ]
    profiles = profiles_from_plan(rows, plan.horizon_start, n, plan.slot_minutes, revision)
    departures = {
        str(v["id"]): dt.datetime.fromisoformat(v["departure"])
        for v in (plan.problem or {}).get("vehicles", [])
        if "departure" in v
    }
    tag_of = {v.plate: tag for tag, v in directory.vehicles_by_tag.items()}
    trucks = {}
    for ref, p in profiles.items():
        connector = directory.connectors[ref]
        if p.vehicle and p.vehicle in tag_of:
            trucks[ref] = TruckPlan(
                plate=p.vehicle,
                id_tag=tag_of[p.vehicle],
                ref=ref,
                departure=departures.get(p.vehicle, plan.horizon_end),
                planned_kwh=round(sum(p.limits_kw) * plan.slot_minutes / 60.0, 4),
                max_kw=connector.max_kw,
            )
    return NightPlan(profiles=profiles, trucks=trucks, revision=revision)


def stored_problem(session: Session, directory: Directory, service_date: dt.date) -> ChargingProblem | None:
    """The exact solver input of tonight's current plan (vehicles by plate, connectors by code): what the CSMS
    re-plans from when a truck is late."""
    plan = session.exec(
        select(ChargingPlan).where(
            ChargingPlan.depot_id == directory.depot_id,
            ChargingPlan.service_date == service_date,
            ChargingPlan.status == PlanStatus.CURRENT,
        )
    ).first()
    if plan is None or not plan.problem:
        return None
    try:
        return problem_from_json(plan.problem)
    except (ScenarioError, KeyError, TypeError, ValueError) as exc:
        LOG.warning("plan %s: stored problem unreadable, no re-planning tonight: %s", plan.id, exc)
        return None


class DbRecorder:
    """Writes the hub's records for one depot; each write is its own unit of work."""

    def __init__(self, engine: Engine, directory: Directory, service_date: dt.date) -> None:
        self.engine, self.directory, self.service_date = engine, directory, service_date

    def _owner(self, vehicle: Vehicle | None) -> tuple[int, int | None]:
        lessee = vehicle.lessee_id if vehicle is not None else self.directory.lessee_id
        return self.directory.lessor_id, lessee

    def session(self, record: SessionRecord) -> None:
        vehicle = self.directory.vehicles_by_tag.get(record.id_tag or "")
        connector = self.directory.connectors.get(record.ref)
        if vehicle is None:
            LOG.warning("%s: session of unknown id tag %r not stored", record.ref, record.id_tag)
            return
        if record.ended_at <= record.started_at:
            return
        lessor, lessee = self._owner(vehicle)
        with Session(self.engine) as s:
            s.add(
                ChargingSession(
                    lessor_id=lessor,
                    lessee_id=lessee,
                    vehicle_id=int(vehicle.id or 0),
                    depot_id=self.directory.depot_id,
                    connector_id=connector.id if connector else None,
                    started_at=record.started_at,
                    ended_at=record.ended_at,
                    kwh=record.kwh,
                )
            )
            s.commit()

    def alert(self, alert: Alert) -> None:
        vehicle = self.directory.vehicle(alert.plate)
        connector = self.directory.connectors.get(alert.ref)
        lessor, lessee = self._owner(vehicle)
        with Session(self.engine) as s:
            s.add(
                ChargingAlert(
                    lessor_id=lessor,
                    lessee_id=lessee,
                    depot_id=self.directory.depot_id,
                    connector_id=connector.id if connector else None,
                    vehicle_id=vehicle.id if vehicle else None,
                    service_date=self.service_date,
                    kind=alert.kind,
                    message=alert.message,
                    readiness_at_risk=alert.readiness_at_risk,
                    raised_at=alert.raised_at,
                    detail=alert.detail,
                )
            )
            s.commit()

    def state(self, state: ConnectorState) -> None:
        connector = self.directory.connectors.get(state.ref)
        if connector is None:
            return  # a charger the depot does not know: kept in memory only
        vehicle = self.directory.vehicles_by_tag.get(state.id_tag or "") if state.transaction_id else None
        with Session(self.engine) as s:
            row = s.exec(
                select(ConnectorLiveState).where(ConnectorLiveState.connector_id == connector.id)
            ).first()
            if row is None:
                row = ConnectorLiveState(
                    lessor_id=self.directory.lessor_id,
                    lessee_id=connector.lessee_id,
                    depot_id=self.directory.depot_id,
                    connector_id=int(connector.id or 0),
                    charger_id=state.ref.charger_id,
                )
            row.protocol = state.protocol
            row.status = state.status
            row.vehicle_id = vehicle.id if vehicle else None
            row.transaction_id = state.transaction_id
            row.power_kw = state.power_kw
            row.session_kwh = round(state.session_kwh, 4)
            row.profile_status = state.profile_status
            row.readback = state.readback
            row.last_seen_at = state.last_seen
            row.updated_at = dt.datetime.now(dt.UTC)
            s.add(row)
            s.commit()
