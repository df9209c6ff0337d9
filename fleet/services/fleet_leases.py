"""Fleet & leases page: vehicles, leases and vehicle models as tables in the scope, and the validated writes of
its forms (add and edit a vehicle or a lease).

Validation of form input reuses the importers' column parsers and row builders (`fleet.importers`), so a vehicle
or lease added through a form obeys exactly the same rules, with the same messages, as one imported from a file.
Writes add or change rows in the caller's session and flush; the caller's unit of work commits. A `FormRejected`
(nothing written) must end that unit of work: the exception leaving the `with` block rolls it back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from fleet.i18n import N_, Column
from fleet.importers import LEASES, VEHICLES, Context, ImportSpec, RowError, parse_rows
from fleet.models import Claimant, Depot, Lease, Lessee, Vehicle, VehicleModel, VehicleStatus
from fleet.scope import Scope, ScopeError, add_rows, get_row, list_rows, update_row
from fleet.services.scope import in_scope

STATUSES = [s.value for s in VehicleStatus]  # a vehicle's status values, for the forms
CLAIMANTS = [c.value for c in Claimant]  # who claims a lease's emission reductions, for the forms

VEHICLE_COLUMNS = ["plate", "vin", "model", "kind", "depot", "lessee", "status", "commissioned_on"]
LEASE_COLUMNS = [
    "code",
    "plate",
    "lessee",
    "depot",
    "start_date",
    "end_date",
    "active",
    "monthly_rent_cny",
    "deposit_cny",
    "purchase_price_cny",
    "residual_value_cny",
    "replaced_diesel_model",
    "loan_annual_rate",
    "loan_term_months",
    "expected_km_per_year",
    "emissions_claimant",
]
MODEL_COLUMNS = [
    "code",
    "kind",
    "maker",
    "name",
    "vehicle_class",
    "payload_kg",
    "price_cny",
    "battery_kwh",
    "usable_fraction",
    "consumption_kwh_per_km_empty",
    "consumption_kwh_per_km_full",
    "max_charge_kw",
    "diesel_l_per_100km",
    "confidence",
    "source_refs",
]


# Display labels (msgid with unit) and decimals for the page's tables; the frames keep their column names.
VEHICLE_DISPLAY: dict[str, Column] = {
    "plate": Column(N_("Plate")),
    "vin": Column(N_("VIN")),
    "model": Column(N_("Model")),
    "kind": Column(N_("Drive")),
    "depot": Column(N_("Depot")),
    "lessee": Column(N_("Lessee")),
    "status": Column(N_("Status")),
    "commissioned_on": Column(N_("Commissioned on")),
}
LEASE_DISPLAY: dict[str, Column] = {
    "code": Column(N_("Lease")),
    "plate": Column(N_("Plate")),
    "lessee": Column(N_("Lessee")),
    "depot": Column(N_("Depot")),
    "start_date": Column(N_("Start")),
    "end_date": Column(N_("End")),
    "active": Column(N_("Active")),
    "monthly_rent_cny": Column(N_("Monthly rent [CNY]"), 2),
    "deposit_cny": Column(N_("Deposit [CNY]"), 2),
    "purchase_price_cny": Column(N_("Purchase price [CNY]"), 2),
    "residual_value_cny": Column(N_("Residual value [CNY]"), 2),
    "replaced_diesel_model": Column(N_("Replaces diesel model")),
    "loan_annual_rate": Column(N_("Loan rate [/year]"), 4),
    "loan_term_months": Column(N_("Loan term [months]")),
    "expected_km_per_year": Column(N_("Expected distance [km/year]"), 0),
    "emissions_claimant": Column(N_("Emissions claimant")),
}
MODEL_DISPLAY: dict[str, Column] = {
    "code": Column(N_("Model")),
    "kind": Column(N_("Drive")),
    "maker": Column(N_("Maker")),
    "name": Column(N_("Name")),
    "vehicle_class": Column(N_("Vehicle class")),
    "payload_kg": Column(N_("Payload [kg]"), 0),
    "price_cny": Column(N_("Price [CNY]"), 0),
    "battery_kwh": Column(N_("Battery [kWh]"), 1),
    "usable_fraction": Column(N_("Usable share of the battery"), 2),
    "consumption_kwh_per_km_empty": Column(N_("Consumption empty [kWh/km]"), 3),
    "consumption_kwh_per_km_full": Column(N_("Consumption full [kWh/km]"), 3),
    "max_charge_kw": Column(N_("Max. charging power [kW]"), 0),
    "diesel_l_per_100km": Column(N_("Diesel [L/100 km]"), 1),
    "confidence": Column(N_("Confidence")),
    "source_refs": Column(N_("Sources")),
}


def _lookups(
    session: Session, scope: Scope
) -> tuple[dict[int, str], dict[int, str], dict[int, VehicleModel]]:
    lessees = {le.id: le.code for le in list_rows(session, scope, Lessee)}
    depots = {d.id: d.code for d in list_rows(session, scope, Depot)}
    models = {m.id: m for m in session.exec(select(VehicleModel)).all()}
    return lessees, depots, models  # type: ignore[return-value]


def vehicles_frame(session: Session, lessee_code: str | None) -> pd.DataFrame:
    """The vehicles in scope, one row each, with codes instead of ids."""
    scope = in_scope(session, lessee_code)
    lessees, depots, models = _lookups(session, scope)
    rows = [
        {
            "plate": v.plate,
            "vin": v.vin,
            "model": models[v.model_id].code,
            "kind": models[v.model_id].kind.value,
            "depot": depots.get(v.depot_id, "") if v.depot_id else "",
            "lessee": lessees.get(v.lessee_id, ""),
            "status": v.status.value,
            "commissioned_on": v.commissioned_on,
        }
        for v in list_rows(session, scope, Vehicle, order_by=Vehicle.plate)
    ]
    return pd.DataFrame(rows, columns=VEHICLE_COLUMNS)


def leases_frame(session: Session, lessee_code: str | None, today: dt.date) -> pd.DataFrame:
    """The leases in scope with money in CNY and `active` on `today`."""
    scope = in_scope(session, lessee_code)
    lessees, depots, models = _lookups(session, scope)
    vehicles = {v.id: v for v in list_rows(session, scope, Vehicle)}
    rows = []
    for le in list_rows(session, scope, Lease, order_by=Lease.code):
        v = vehicles.get(le.vehicle_id)
        rows.append(
            {
                "code": le.code,
                "plate": v.plate if v else "",
                "lessee": lessees.get(le.lessee_id, ""),
                "depot": depots.get(v.depot_id, "") if v and v.depot_id else "",
                "start_date": le.start_date,
                "end_date": le.end_date,
                "active": le.start_date <= today <= le.end_date,
                "monthly_rent_cny": le.monthly_rent_fen / 100,
                "deposit_cny": le.deposit_fen / 100,
                "purchase_price_cny": le.purchase_price_fen / 100,
                "residual_value_cny": le.residual_value_fen / 100,
                "replaced_diesel_model": models[le.replaced_diesel_model_id].code
                if le.replaced_diesel_model_id in models
                else "",
                "loan_annual_rate": float(le.loan_annual_rate),
                "loan_term_months": le.loan_term_months,
                "expected_km_per_year": le.expected_km_per_year,
                "emissions_claimant": le.emissions_claimant.value,
            }
        )
    return pd.DataFrame(rows, columns=LEASE_COLUMNS)


def models_frame(session: Session) -> pd.DataFrame:
    """The shared vehicle-model registry (readable in every scope)."""
    rows = [
        {
            "code": m.code,
            "kind": m.kind.value,
            "maker": m.maker,
            "name": m.name,
            "vehicle_class": m.vehicle_class,
            "payload_kg": m.payload_kg,
            "price_cny": m.price_fen / 100,
            "battery_kwh": m.battery_kwh,
            "usable_fraction": m.usable_fraction,
            "consumption_kwh_per_km_empty": m.consumption_kwh_per_km_empty,
            "consumption_kwh_per_km_full": m.consumption_kwh_per_km_full,
            "max_charge_kw": m.max_charge_kw,
            "diesel_l_per_100km": m.diesel_l_per_100km,
            "confidence": m.confidence,
            "source_refs": m.source_refs,
        }
        for m in session.exec(select(VehicleModel).order_by(VehicleModel.kind, VehicleModel.code)).all()
    ]
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


@dataclass(frozen=True)
class FormChoices:
    """Codes a form may offer in this scope."""

    lessees: tuple[str, ...]
    depots: tuple[str, ...]
    bev_models: tuple[str, ...]
    diesel_models: tuple[str, ...]
    plates: tuple[str, ...]
    lease_codes: tuple[str, ...]


def form_choices(session: Session, lessee_code: str | None, with_vehicles: bool = True) -> FormChoices:
    """`with_vehicles=False`: no plates and lease codes (80,000 each at a lessor's scale: the page asks for a
    typed plate instead, issue 24)."""
    scope = in_scope(session, lessee_code)
    models = session.exec(select(VehicleModel).order_by(VehicleModel.code)).all()
    return FormChoices(
        lessees=tuple(le.code for le in list_rows(session, scope, Lessee, order_by=Lessee.code)),
        depots=tuple(d.code for d in list_rows(session, scope, Depot, order_by=Depot.code)),
        bev_models=tuple(m.code for m in models if m.kind.value == "bev"),
        diesel_models=tuple(m.code for m in models if m.kind.value == "diesel"),
        plates=tuple(v.plate for v in list_rows(session, scope, Vehicle, order_by=Vehicle.plate))
        if with_vehicles
        else (),
        lease_codes=tuple(le.code for le in list_rows(session, scope, Lease, order_by=Lease.code))
        if with_vehicles
        else (),
    )


@dataclass(frozen=True)
class FieldError:
    field: str
    value: str
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.field} = {self.value!r}: {self.reason}" if self.value else f"{self.field}: {self.reason}"
        )


class FormRejected(ValueError):
    """The form's values were refused; `errors` names each field. Nothing was written."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


def _form_errors(errors: list[RowError]) -> list[FieldError]:
    return [FieldError(e.column, e.value, e.reason) for e in errors]


def _add_through_spec(
    session: Session,
    lessee_code: str | None,
    spec: ImportSpec,
    values: Mapping[str, Any],
    unique: Mapping[str, Any],
) -> None:
    """Validate one row exactly as the importer would (same parsers, same builder) and add it."""
    raw = {k: ("" if v is None else str(v).strip()) for k, v in values.items()}
    try:
        scope = in_scope(session, lessee_code)
        lessee = session.get(Lessee, scope.lessee_id) if scope.lessee_id is not None else None
        ctx = Context.load(session, scope, lessee)
        built, errors = parse_rows(spec, "form", list(raw), [(1, raw)], ctx)
        if errors:
            raise FormRejected(_form_errors(errors))
        for field, column in unique.items():
            value = getattr(built[0][1], field)
            if session.exec(select(spec.model).where(column == value)).first() is not None:
                raise FormRejected([FieldError(field, value, "already registered")])
        add_rows(session, scope, [row for _, row in built])
        session.flush()
    except IntegrityError as exc:
        raise FormRejected([FieldError("row", "", f"conflicts with an existing row ({exc.orig})")]) from None
    except ScopeError as exc:
        raise FormRejected([FieldError("scope", "", str(exc))]) from None


def add_vehicle(session: Session, lessee_code: str | None, values: Mapping[str, Any]) -> None:
    """Add one vehicle (fields as in the vehicles import: plate, vin, model_code, depot_code, lessee_code, ...)."""
    _add_through_spec(session, lessee_code, VEHICLES, values, {"plate": Vehicle.plate, "vin": Vehicle.vin})


LESSOR_ONLY = "leases are the lessor's contracts: they are added and changed in the lessor's view only"


def _lessor_only(lessee_code: str | None) -> None:
    if lessee_code is not None:
        raise FormRejected([FieldError("scope", lessee_code, LESSOR_ONLY)])


def add_lease(session: Session, lessee_code: str | None, values: Mapping[str, Any]) -> None:
    """Add one lease (fields as in the leases import: code, plate, start_date, end_date, monthly_rent_cny, ...).
    Lessor's view only: a lessee does not set its own rent."""
    _lessor_only(lessee_code)
    _add_through_spec(session, lessee_code, LEASES, values, {"code": Lease.code})


def _parse_fields(spec: ImportSpec, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """Parse edited fields with the import spec's column parsers; an empty optional field becomes its default."""
    columns = {c.name: c for c in spec.columns}
    parsed: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, value in values.items():
        text = "" if value is None else str(value).strip()
        column = columns[name]
        if text == "":
            if column.required:
                errors.append(FieldError(name, text, "required value is empty"))
            parsed[name] = column.default
            continue
        try:
            parsed[name] = column.parse(text)
        except ValueError as exc:
            errors.append(FieldError(name, text, str(exc)))
    return parsed, errors


def _row_by(session: Session, scope: Scope, model: type, column: Any, value: str, field: str) -> Any:
    row = session.exec(select(model.id).where(column == value)).first()
    if row is None:
        raise FormRejected([FieldError(field, value, "not found in this scope")])
    try:
        return get_row(session, scope, model, row)
    except ScopeError:
        raise FormRejected([FieldError(field, value, "not found in this scope")]) from None


def update_vehicle(session: Session, lessee_code: str | None, plate: str, values: Mapping[str, Any]) -> None:
    """Change a vehicle's depot_code, status or commissioned_on (the plate, VIN and model are fixed)."""
    allowed = {"depot_code", "status", "commissioned_on"}
    unknown = set(values) - allowed
    if unknown:
        raise FormRejected([FieldError(n, "", "cannot be edited here") for n in sorted(unknown)])
    parsed, errors = _parse_fields(VEHICLES, values)
    scope = in_scope(session, lessee_code)
    vehicle = _row_by(session, scope, Vehicle, Vehicle.plate, plate, "plate")
    changes: dict[str, Any] = {}
    if "depot_code" in parsed:
        code = parsed["depot_code"]
        if not code:
            changes["depot_id"] = None
        else:
            depot = next((d for d in list_rows(session, scope, Depot, Depot.code == code)), None)
            if depot is None or depot.lessee_id not in (None, vehicle.lessee_id):
                errors.append(FieldError("depot_code", code, "unknown depot for this vehicle's lessee"))
            else:
                changes["depot_id"] = depot.id
    for name in ("status", "commissioned_on"):
        if name in parsed:
            changes[name] = parsed[name]
    if errors:
        raise FormRejected(errors)
    update_row(session, scope, Vehicle, vehicle.id, **changes)
    session.flush()


def update_lease(session: Session, lessee_code: str | None, code: str, values: Mapping[str, Any]) -> None:
    """Change a lease's end_date, monthly_rent_cny, deposit_cny, expected_km_per_year or emissions_claimant."""
    fields = {
        "end_date": "end_date",
        "monthly_rent_cny": "monthly_rent_fen",
        "deposit_cny": "deposit_fen",
        "expected_km_per_year": "expected_km_per_year",
        "emissions_claimant": "emissions_claimant",
    }
    _lessor_only(lessee_code)
    unknown = set(values) - set(fields)
    if unknown:
        raise FormRejected([FieldError(n, "", "cannot be edited here") for n in sorted(unknown)])
    parsed, errors = _parse_fields(LEASES, values)
    scope = in_scope(session, lessee_code)
    lease = _row_by(session, scope, Lease, Lease.code, code, "code")
    if "end_date" in parsed and parsed["end_date"] is not None and parsed["end_date"] <= lease.start_date:
        errors.append(
            FieldError(
                "end_date",
                str(values["end_date"]),
                f"must be after start_date {lease.start_date.isoformat()}",
            )
        )
    if errors:
        raise FormRejected(errors)
    update_row(session, scope, Lease, lease.id, **{fields[k]: v for k, v in parsed.items()})
    session.flush()
