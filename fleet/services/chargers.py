"""Chargers page and nightly report: each connector's live state as the CSMS last saw it, and the charging alerts
(deviations between the published plan and what the chargers did) with the truck whose readiness is at risk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import pandas as pd
from sqlmodel import Session

from fleet.i18n import N_, Column
from fleet.models import ChargingAlert, Connector, ConnectorLiveState, Depot, Vehicle
from fleet.scope import Scope, list_rows, select_rows
from fleet.services.scope import depot_in_scope, in_scope

STATE_COLUMNS = (
    "connector",
    "charger",
    "protocol",
    "status",
    "truck",
    "power_kw",
    "session_kwh",
    "profile",
    "read_back",
    "last_seen",
)
ALERT_COLUMNS = (
    "depot",
    "service_date",
    "raised",
    "connector",
    "truck",
    "kind",
    "readiness_at_risk",
    "message",
)

# How the page shows those frames: labels with units (English msgids), decimals (fleet.i18n.Column).
STATE_DISPLAY: dict[str, Column] = {
    "connector": Column(N_("Connector")),
    "charger": Column(N_("Charger")),
    "protocol": Column(N_("Protocol")),
    "status": Column(N_("Status")),
    "truck": Column(N_("Truck")),
    "power_kw": Column(N_("Power [kW]"), 1),
    "session_kwh": Column(N_("This session [kWh]"), 1),
    "profile": Column(N_("Charging profile")),
    "read_back": Column(N_("Profile read back")),
    "last_seen": Column(N_("Last seen")),
}
ALERT_DISPLAY: dict[str, Column] = {
    "depot": Column(N_("Depot")),
    "service_date": Column(N_("Service date")),
    "raised": Column(N_("Raised")),
    "connector": Column(N_("Connector")),
    "truck": Column(N_("Truck")),
    "kind": Column(N_("Alert")),
    "readiness_at_risk": Column(N_("Readiness at risk")),
    "message": Column(N_("Message")),
}


def _plates(session: Session, scope: Scope, ids: Iterable[int | None] | None = None) -> dict[int, str]:
    """Plates by vehicle id as one column pair, only of `ids` when given (80,000 Vehicle objects took seconds at a
    lessor's scale, issue 24)."""
    query = select_rows(scope, Vehicle).with_only_columns(Vehicle.id, Vehicle.plate)
    if ids is not None:
        wanted = sorted({i for i in ids if i})
        if not wanted:
            return {}
        query = query.where(Vehicle.id.in_(wanted))  # type: ignore[union-attr]
    return {int(i): plate for i, plate in session.execute(query).all()}


def _codes(session: Session, scope: Scope, model: type, ids: Iterable[int | None]) -> dict[int, str]:
    """Codes by id of the given rows only (depots, connectors), as one column pair."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    query = select_rows(scope, model, model.id.in_(wanted)).with_only_columns(model.id, model.code)  # type: ignore[attr-defined]
    return {int(i): code for i, code in session.execute(query).all()}


def connector_states(session: Session, lessee_code: str | None, depot_code: str) -> pd.DataFrame:
    """One row per connector of the depot, idle ones included (status Unknown until a charger connects)."""
    scope = in_scope(session, lessee_code)
    depot = depot_in_scope(session, scope, depot_code)
    connectors = list_rows(session, scope, Connector, Connector.depot_id == depot.id, order_by=Connector.code)
    states = {
        s.connector_id: s
        for s in list_rows(session, scope, ConnectorLiveState, ConnectorLiveState.depot_id == depot.id)
    }
    plates = _plates(session, scope, (s.vehicle_id for s in states.values()))
    rows = []
    for c in connectors:
        s = states.get(c.id)
        rows.append(
            {
                "connector": c.code,
                "charger": s.charger_id if s else "",
                "protocol": s.protocol if s else "",
                "status": s.status if s else "Unknown",
                "truck": plates.get(s.vehicle_id, "") if s and s.vehicle_id else "",
                "power_kw": s.power_kw if s else None,
                "session_kwh": s.session_kwh if s else None,
                "profile": s.profile_status if s else "",
                "read_back": s.readback if s else "",
                "last_seen": s.last_seen_at if s else None,
            }
        )
    return pd.DataFrame(rows, columns=list(STATE_COLUMNS))


def alerts(
    session: Session, lessee_code: str | None, service_dates: Sequence[dt.date], depot_code: str | None = None
) -> pd.DataFrame:
    """Charging alerts of the given service dates (one depot or all in scope), most recent first."""
    scope = in_scope(session, lessee_code)
    where = [ChargingAlert.service_date.in_(list(service_dates))]  # type: ignore[attr-defined]
    if depot_code is not None:
        where.append(ChargingAlert.depot_id == depot_in_scope(session, scope, depot_code).id)
    rows = list_rows(session, scope, ChargingAlert, *where, order_by=ChargingAlert.raised_at.desc())  # type: ignore[union-attr]
    depots = _codes(session, scope, Depot, (a.depot_id for a in rows))
    connectors = _codes(session, scope, Connector, (a.connector_id for a in rows))
    plates = _plates(session, scope, (a.vehicle_id for a in rows))
    return pd.DataFrame(
        [
            {
                "depot": depots.get(a.depot_id, ""),
                "service_date": a.service_date,
                "raised": a.raised_at,
                "connector": connectors.get(a.connector_id or 0, ""),
                "truck": plates.get(a.vehicle_id or 0, ""),
                "kind": a.kind,
                "readiness_at_risk": a.readiness_at_risk,
                "message": a.message,
            }
            for a in rows
        ],
        columns=list(ALERT_COLUMNS),
    )
