"""Request and response bodies of the REST API (pydantic); the row models are built from the importer's
column list, so a field added to an import is a field of the API (validation stays the importer's)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model

from fleet.importers import CHARGING, ORDERS, TRIPS, ImportSpec

Cell = str | int | float | bool | None
T = TypeVar("T")
MAX_ROWS = 5000


def _row_model(name: str, spec: ImportSpec) -> type[BaseModel]:
    fields: dict[str, Any] = {
        c.name: (Cell, ... if c.required else None) for c in spec.columns if c.name != "lessee_code"
    }
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


OrderRow = _row_model("OrderRow", ORDERS)
TripRow = _row_model("TripRow", TRIPS)
ChargingSessionRow = _row_model("ChargingSessionRow", CHARGING)


class OrdersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: list[OrderRow] = Field(min_length=1, max_length=MAX_ROWS)  # type: ignore[valid-type]
    lessee_code: str | None = Field(
        default=None, max_length=40, description="the lessor's key names the lessee"
    )


class TripsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: list[TripRow] = Field(min_length=1, max_length=MAX_ROWS)  # type: ignore[valid-type]


class ChargingSessionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: list[ChargingSessionRow] = Field(min_length=1, max_length=MAX_ROWS)  # type: ignore[valid-type]


class ImportOut(BaseModel):
    kind: str
    rows: int
    inserted: int
    skipped_duplicates: int
    batch_id: int | None
    duplicate_of_batch: int | None = None


class FieldError(BaseModel):
    row: int | None = Field(description="index in `rows` (0-based); null for the whole request")
    field: str
    value: str
    reason: str


class ErrorOut(BaseModel):
    detail: str
    errors: list[FieldError] = []


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: int | None = Field(description="pass as `cursor` for the next page; null on the last page")


class OrderOut(BaseModel):
    id: int
    external_ref: str
    depot_id: int
    service_date: dt.date
    address: str
    latitude: float
    longitude: float
    demand_kg: float
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    service_minutes: float
    required_kind: str | None
    priority: int
    customer_name: str | None = None
    customer_phone: str | None = None
    notes: str | None = None


class StopOut(BaseModel):
    sequence: int
    kind: str
    order_id: int | None
    external_ref: str | None
    customer_name: str | None = None
    customer_phone: str | None = None
    notes: str | None = None
    station_ref: str | None
    latitude: float
    longitude: float
    arrival: dt.datetime | None
    departure: dt.datetime | None
    load_kg: float
    soc_arrival_kwh: float | None
    charged_kwh: float
    km_from_previous: float


class RouteSheet(BaseModel):
    """One truck's route for the day, in visiting order."""

    vehicle_id: int
    plate: str
    km: float
    stops: list[StopOut]


class RoutePlanOut(BaseModel):
    id: int
    depot_id: int
    service_date: dt.date
    version: int
    status: str
    vehicles_used: int
    total_km: float
    total_kwh: float
    unserved: list[dict[str, Any]]
    routes: list[RouteSheet]


class SlotOut(BaseModel):
    vehicle_id: int
    connector_id: int | None
    slot_start: dt.datetime | None
    power_kw: float


class ChargingPlanOut(BaseModel):
    id: int
    depot_id: int
    service_date: dt.date
    version: int
    status: str
    slot_minutes: int
    total_kwh: float
    peak_kw: float
    total_cost_fen: int
    unmet: list[dict[str, Any]]
    slots: list[SlotOut]


class PlanRef(BaseModel):
    id: int
    kind: str
    depot_id: int
    service_date: dt.date
    version: int
    status: str


class EmissionsOut(BaseModel):
    party: str
    period: str
    profile: str
    ex_post: dict[str, float | int]
    ex_ante: dict[str, float | int]
    rows_checked: int
    rows_excluded: int
    flags: list[dict[str, Any]]
    telematics_grades: dict[str, int] = Field(
        description="telematics vehicle-days per reconciliation grade (reconciled, partly reconciled, "
        "unreconciled, disagrees; docs/telematics.md)"
    )
    basis: str


class JobOut(BaseModel):
    id: int
    run_key: str
    depot_id: int
    service_date: dt.date
    status: str
    attempt: int
    queued_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str | None
