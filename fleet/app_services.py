"""Thin reads and writes for the Streamlit app, each one unit of work in one tenant scope.

The pages hold no business logic: they call these functions with the database URL and the scope's lessee code
(`None` = the lessor's whole view) and render what comes back. Every function opens its own session through
`fleet.db.session_scope` and resolves the scope with `fleet.scope.scope_for`, so a page cannot read or write
outside its scope. Return values are plain (frozen dataclasses, DataFrames) so the app can cache them.

Validation of form input reuses the importers' column parsers and row builders (`fleet.importers`), so a vehicle
or lease added through a form obeys exactly the same rules, with the same messages, as one imported from a file.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from fleet.db import database_url, get_engine, redact, session_scope
from fleet.importers import (
    LEASES,
    SPECS,
    VEHICLES,
    Context,
    ImportFailed,
    ImportResult,
    ImportSpec,
    RowError,
    import_file,
    parse_rows,
)
from fleet.models import Depot, Lease, Lessee, Lessor, Vehicle, VehicleModel
from fleet.reports import DepotSummary, fleet_summary
from fleet.scope import Scope, ScopeError, add_rows, get_row, list_rows, scope_for, select_rows, update_row

SETUP_COMMAND = "evfleet demo"


# ------------------------------------------------------------------------------------------ database state


@dataclass(frozen=True)
class DatabaseStatus:
    """Whether the app can run on the configured database, and if not what to run to fix it."""

    url: str  # redacted: safe to show
    ready: bool
    problem: str | None = None
    fix: str | None = None


def database_status(url: str | None = None) -> DatabaseStatus:
    """Check the database without creating or changing anything (an SQLite file is never created here)."""
    resolved = database_url(url)
    shown = redact(resolved)
    sa_url = sa.engine.make_url(resolved)
    file_db = sa_url.get_backend_name() == "sqlite" and sa_url.database not in (None, "", ":memory:")
    if file_db and not Path(sa_url.database).is_file():  # type: ignore[arg-type]
        return DatabaseStatus(
            shown,
            False,
            f"there is no database file at {sa_url.database}",
            f"{SETUP_COMMAND}   (creates it with the Shenzhen demo data)",
        )
    try:
        engine = get_engine(resolved)
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("lessor"):
                return DatabaseStatus(
                    shown,
                    False,
                    "the database has no evfleet schema yet",
                    f"{SETUP_COMMAND}   (or `evfleet db upgrade` for an empty schema)",
                )
            if conn.execute(sa.select(sa.func.count()).select_from(Lessor.__table__)).scalar_one() == 0:
                return DatabaseStatus(
                    shown,
                    False,
                    "the database is empty (no lessor yet)",
                    f"{SETUP_COMMAND}   (loads the Shenzhen demo data)",
                )
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return DatabaseStatus(
            shown,
            False,
            f"cannot open the database: {first}",
            "check EVFLEET_DATABASE_URL, then run `evfleet db upgrade`",
        )
    return DatabaseStatus(shown, True)


# ------------------------------------------------------------------------------------------------ scopes


@dataclass(frozen=True)
class ScopeOption:
    """One entry of the app's scope selector; `lessee_code=None` is the lessor's whole view."""

    lessee_code: str | None
    label: str


@dataclass(frozen=True)
class ScopeDecision:
    """How the app's scope is chosen: pinned to one lessee, or selectable (lessor users), or refused."""

    pinned_lessee: str | None = None
    selectable: bool = True
    refused: str | None = None
    source: str = "default"


APP_LESSEE_ENV = "EVFLEET_APP_LESSEE"
APP_AUTH_ENV = "EVFLEET_APP_AUTH"
APP_LESSEE_CLAIM_ENV = "EVFLEET_APP_LESSEE_CLAIM"
APP_LESSOR_EMAILS_ENV = "EVFLEET_APP_LESSOR_EMAILS"


def decide_scope(env: Mapping[str, str], user: Mapping[str, Any] | None = None) -> ScopeDecision:
    """The scope rule of a deployment, from configuration and (with OIDC sign-in) the signed-in user's claims.

    - `EVFLEET_APP_LESSEE=CODE`: every visitor is that lessee; no selector.
    - `EVFLEET_APP_AUTH=oidc`: the user's claim named by `EVFLEET_APP_LESSEE_CLAIM` (default `evfleet_lessee`)
      pins the lessee; users whose e-mail is in `EVFLEET_APP_LESSOR_EMAILS` (comma-separated) get the lessor's
      view with the selector; anyone else is refused.
    - neither: the lessor's view with a selector (a trusted internal deployment or a developer machine).
    """
    pinned = env.get(APP_LESSEE_ENV, "").strip()
    if pinned:
        return ScopeDecision(
            pinned_lessee=pinned, selectable=False, source=f"configuration ({APP_LESSEE_ENV})"
        )
    if env.get(APP_AUTH_ENV, "").strip().lower() == "oidc":
        if not user:
            return ScopeDecision(selectable=False, refused="sign in to continue", source="oidc")
        claim = env.get(APP_LESSEE_CLAIM_ENV, "").strip() or "evfleet_lessee"
        code = str(user.get(claim) or "").strip()
        if code:
            return ScopeDecision(pinned_lessee=code, selectable=False, source=f"sign-in claim {claim!r}")
        lessor_emails = {
            e.strip().lower() for e in env.get(APP_LESSOR_EMAILS_ENV, "").split(",") if e.strip()
        }
        if str(user.get("email") or "").strip().lower() in lessor_emails:
            return ScopeDecision(selectable=True, source="sign-in (lessor user)")
        return ScopeDecision(
            selectable=False,
            source="oidc",
            refused=f"your account has no lessee assigned (claim {claim!r}); ask the lessor",
        )
    return ScopeDecision(selectable=True, source="default")


def scope_options(url: str) -> list[ScopeOption]:
    """The lessor's view followed by each of its lessees, for the selector."""
    with session_scope(get_engine(url)) as session:
        scope = scope_for(session)
        lessor = session.get(Lessor, scope.lessor_id)
        lessees = list_rows(session, scope, Lessee, order_by=Lessee.code)
        options = [ScopeOption(None, f"All lessees (lessor {lessor.code})" if lessor else "All lessees")]
        options += [ScopeOption(le.code, f"{le.code} · {le.name}") for le in lessees]
    return options


def describe_scope(url: str, lessee_code: str | None) -> str:
    """A one-line statement of the scope a page runs in, e.g. `Lessee PCX (Pengcheng Express) only`."""
    with session_scope(get_engine(url)) as session:
        scope = scope_for(session, lessee_code=lessee_code)
        if scope.is_lessor:
            lessor = session.get(Lessor, scope.lessor_id)
            n = len(list_rows(session, scope, Lessee))
            return f"Lessor {lessor.code} ({lessor.name}): all {n} lessees" if lessor else "Lessor view"
        lessee = session.get(Lessee, scope.lessee_id)
        return f"Lessee {lessee.code} ({lessee.name}) only" if lessee else "one lessee"


def _scope(session: Session, lessee_code: str | None) -> Scope:
    return scope_for(session, lessee_code=lessee_code)


# ------------------------------------------------------------------------------------------------ overview


@dataclass(frozen=True)
class LesseeTotals:
    lessee: str
    depots: int
    electric_trucks: int
    diesel_trucks: int
    active_leases: int
    monthly_rent_cny: float
    km_30d: float
    kwh_30d: float


def overview(url: str, lessee_code: str | None, today: dt.date) -> list[DepotSummary]:
    """`fleet.reports.fleet_summary` in the scope: one row per depot."""
    with session_scope(get_engine(url)) as session:
        return fleet_summary(session, _scope(session, lessee_code), today)


def totals_by_lessee(rows: list[DepotSummary]) -> list[LesseeTotals]:
    """Depot rows summed per lessee (in order of first appearance)."""
    acc: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        a = acc[r.lessee]
        a["depots"] += 1
        for name in (
            "electric_trucks",
            "diesel_trucks",
            "active_leases",
            "monthly_rent_cny",
            "km_30d",
            "kwh_30d",
        ):
            a[name] += getattr(r, name)
    return [
        LesseeTotals(
            lessee=k,
            depots=int(v["depots"]),
            electric_trucks=int(v["electric_trucks"]),
            diesel_trucks=int(v["diesel_trucks"]),
            active_leases=int(v["active_leases"]),
            monthly_rent_cny=round(v["monthly_rent_cny"], 2),
            km_30d=v["km_30d"],
            kwh_30d=v["kwh_30d"],
        )
        for k, v in acc.items()
    ]


# ---------------------------------------------------------------------------------------- fleet and leases

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


def _lookups(
    session: Session, scope: Scope
) -> tuple[dict[int, str], dict[int, str], dict[int, VehicleModel]]:
    lessees = {le.id: le.code for le in list_rows(session, scope, Lessee)}
    depots = {d.id: d.code for d in list_rows(session, scope, Depot)}
    models = {m.id: m for m in session.exec(select(VehicleModel)).all()}
    return lessees, depots, models  # type: ignore[return-value]


def vehicles_frame(url: str, lessee_code: str | None) -> pd.DataFrame:
    """The vehicles in scope, one row each, with codes instead of ids."""
    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
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


def leases_frame(url: str, lessee_code: str | None, today: dt.date) -> pd.DataFrame:
    """The leases in scope with money in CNY and `active` on `today`."""
    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
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


def models_frame(url: str) -> pd.DataFrame:
    """The shared vehicle-model registry (readable in every scope)."""
    with session_scope(get_engine(url)) as session:
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


def form_choices(url: str, lessee_code: str | None) -> FormChoices:
    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
        models = session.exec(select(VehicleModel).order_by(VehicleModel.code)).all()
        return FormChoices(
            lessees=tuple(le.code for le in list_rows(session, scope, Lessee, order_by=Lessee.code)),
            depots=tuple(d.code for d in list_rows(session, scope, Depot, order_by=Depot.code)),
            bev_models=tuple(m.code for m in models if m.kind.value == "bev"),
            diesel_models=tuple(m.code for m in models if m.kind.value == "diesel"),
            plates=tuple(v.plate for v in list_rows(session, scope, Vehicle, order_by=Vehicle.plate)),
            lease_codes=tuple(le.code for le in list_rows(session, scope, Lease, order_by=Lease.code)),
        )


def filter_frame(
    frame: pd.DataFrame, selections: Mapping[str, Any], text: str = "", text_columns: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Rows whose column values are among the selected ones (an empty selection keeps all) and, when `text` is
    given, whose `text_columns` contain it (case-insensitive)."""
    mask = pd.Series(True, index=frame.index)
    for column, chosen in selections.items():
        if chosen:
            mask &= frame[column].isin(list(chosen))
    needle = text.strip().lower()
    if needle and text_columns:
        hit = pd.Series(False, index=frame.index)
        for column in text_columns:
            hit |= frame[column].astype(str).str.lower().str.contains(needle, regex=False)
        mask &= hit
    return frame[mask]


# ------------------------------------------------------------------------------------------------- writes


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
    url: str, lessee_code: str | None, spec: ImportSpec, values: Mapping[str, Any], unique: Mapping[str, Any]
) -> None:
    """Validate one row exactly as the importer would (same parsers, same builder) and add it."""
    raw = {k: ("" if v is None else str(v).strip()) for k, v in values.items()}
    try:
        with session_scope(get_engine(url)) as session:
            scope = _scope(session, lessee_code)
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


def add_vehicle(url: str, lessee_code: str | None, values: Mapping[str, Any]) -> None:
    """Add one vehicle (fields as in the vehicles import: plate, vin, model_code, depot_code, lessee_code, ...)."""
    _add_through_spec(url, lessee_code, VEHICLES, values, {"plate": Vehicle.plate, "vin": Vehicle.vin})


LESSOR_ONLY = "leases are the lessor's contracts: they are added and changed in the lessor's view only"


def _lessor_only(lessee_code: str | None) -> None:
    if lessee_code is not None:
        raise FormRejected([FieldError("scope", lessee_code, LESSOR_ONLY)])


def add_lease(url: str, lessee_code: str | None, values: Mapping[str, Any]) -> None:
    """Add one lease (fields as in the leases import: code, plate, start_date, end_date, monthly_rent_cny, ...).
    Lessor's view only: a lessee does not set its own rent."""
    _lessor_only(lessee_code)
    _add_through_spec(url, lessee_code, LEASES, values, {"code": Lease.code})


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


def update_vehicle(url: str, lessee_code: str | None, plate: str, values: Mapping[str, Any]) -> None:
    """Change a vehicle's depot_code, status or commissioned_on (the plate, VIN and model are fixed)."""
    allowed = {"depot_code", "status", "commissioned_on"}
    unknown = set(values) - allowed
    if unknown:
        raise FormRejected([FieldError(n, "", "cannot be edited here") for n in sorted(unknown)])
    parsed, errors = _parse_fields(VEHICLES, values)
    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
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


def update_lease(url: str, lessee_code: str | None, code: str, values: Mapping[str, Any]) -> None:
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
    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
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


# ------------------------------------------------------------------------------------------------- import

IMPORT_KINDS: tuple[str, ...] = tuple(SPECS)


def import_kinds(lessee_code: str | None) -> tuple[str, ...]:
    """What the scope may import: a lessee everything but leases (those are the lessor's contracts)."""
    return IMPORT_KINDS if lessee_code is None else tuple(k for k in IMPORT_KINDS if k != "leases")


def import_columns(kind: str) -> list[tuple[str, bool]]:
    """(column, required) of an import kind, for the template and the help text."""
    return [(c.name, c.required) for c in SPECS[kind].columns] + (
        [("lessee_code", False)] if kind in ("vehicles", "leases") else []
    )


def import_template_csv(kind: str) -> bytes:
    """A header-only CSV for `kind` (UTF-8 with BOM so spreadsheet programs open it as UTF-8)."""
    return (",".join(name for name, _ in import_columns(kind)) + "\n").encode("utf-8-sig")


def import_upload(
    url: str,
    lessee_code: str | None,
    kind: str,
    filename: str,
    content: bytes,
    import_lessee: str | None = None,
) -> ImportResult:
    """Import an uploaded file through `fleet.importers.import_file`, all or nothing.

    Raises `ImportFailed` with the row-level errors. `import_lessee` names the owning lessee in the lessor's
    view (needed for orders); in a lessee's scope it must be that lessee or empty.
    """
    if kind not in import_kinds(lessee_code):
        raise ImportFailed(
            [
                RowError(
                    Path(filename).name,
                    0,
                    "",
                    kind,
                    LESSOR_ONLY
                    if kind == "leases"
                    else f"unknown import kind; one of {', '.join(IMPORT_KINDS)}",
                )
            ]
        )
    suffix = Path(filename).suffix.lower()
    safe_name = Path(filename).name or f"upload{suffix}"
    with tempfile.TemporaryDirectory(prefix="evfleet-upload-") as tmp:
        path = Path(tmp) / safe_name
        path.write_bytes(content)
        with session_scope(get_engine(url)) as session:
            scope = _scope(session, lessee_code)
            return import_file(session, scope, kind, path, lessee_code=import_lessee or None)


def errors_frame(exc: ImportFailed | FormRejected) -> pd.DataFrame:
    """The error report of a failed import or form as a table (one row per bad cell)."""
    if isinstance(exc, ImportFailed):
        return pd.DataFrame(
            [asdict(e) for e in exc.errors], columns=["file", "row", "column", "value", "reason"]
        )
    return pd.DataFrame([asdict(e) for e in exc.errors], columns=["field", "value", "reason"])


def app_url() -> str:
    """The database URL the app uses (same rule as the CLI: `EVFLEET_DATABASE_URL`, else ./evfleet.db)."""
    return database_url(os.environ.get("EVFLEET_DATABASE_URL") or None)


# ------------------------------------------------------------------------------------------ route planner


@dataclass(frozen=True)
class DepotOption:
    """A depot of the scope and the service dates it has orders for."""

    code: str
    name: str
    lessee: str
    order_dates: tuple[dt.date, ...]

    @property
    def label(self) -> str:
        return f"{self.code} · {self.name} ({self.lessee})"


def depot_options(url: str, lessee_code: str | None) -> list[DepotOption]:
    """The depots in scope, each with the dates it has orders for (the dates worth planning)."""
    from fleet.models import Order

    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
        lessees = {le.id: le.code for le in list_rows(session, scope, Lessee)}
        dates: dict[int, set[dt.date]] = defaultdict(set)
        in_scope = select_rows(scope, Order).whereclause  # the scope's own rule, applied to a projection
        query = select(Order.depot_id, Order.service_date).where(in_scope).distinct()
        for depot_id, day in session.exec(query).all():
            dates[depot_id].add(day)
        return [
            DepotOption(
                d.code,
                d.name,
                lessees.get(d.lessee_id, "lessor") if d.lessee_id else "lessor",
                tuple(sorted(dates.get(d.id, ()))),
            )
            for d in list_rows(session, scope, Depot, order_by=Depot.code)
        ]


def default_service_date(option: DepotOption | None, today: dt.date) -> dt.date:
    """The first date after `today` with orders (tomorrow's plan), else the last date with orders, else tomorrow."""
    tomorrow = today + dt.timedelta(days=1)
    if option is None or not option.order_dates:
        return tomorrow
    later = [d for d in option.order_dates if d >= tomorrow]
    return later[0] if later else option.order_dates[-1]


def _depot(session: Session, scope: Scope, depot_code: str) -> Depot:
    depot = session.exec(select_rows(scope, Depot, Depot.code == depot_code)).first()
    if depot is None:
        raise ScopeError(f"depot {depot_code!r} not found in the scope of {scope.describe()}")
    return depot


ROUTE_COLOURS: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
    (57, 59, 121),
    (173, 73, 74),
    (99, 121, 57),
    (206, 109, 189),
    (107, 110, 207),
    (231, 186, 82),
    (132, 60, 57),
    (82, 84, 163),
)  # Tableau-20-like palette; routes beyond it wrap around


@dataclass(frozen=True)
class RoutePlanView:
    """A stored (or just solved) route plan, flattened for tables, charts, the map and route sheets."""

    depot_code: str
    service_date: dt.date
    version: int | None  # None: solved in memory, not stored
    created_at: dt.datetime | None
    vehicles_used: int
    km: float
    kwh: float
    litres: float
    cost_cny: float
    solver_status: str
    solver_seconds: float
    depot_lat: float
    depot_lon: float
    routes: pd.DataFrame  # one row per route
    stops: pd.DataFrame  # one row per visit, depot departure and return included
    unserved: pd.DataFrame
    stations: pd.DataFrame


ROUTE_COLUMNS = [
    "vehicle",
    "kind",
    "colour",
    "jobs",
    "km",
    "kwh",
    "litres",
    "departure",
    "return",
    "soc_departure_kwh",
    "soc_return_kwh",
    "charged_kwh",
    "cost_cny",
]
STOP_COLUMNS = [
    "vehicle",
    "seq",
    "kind",
    "stop",
    "address",
    "lat",
    "lon",
    "arrival",
    "departure",
    "window",
    "demand_kg",
    "load_kg",
    "soc_arrival_kwh",
    "soc_departure_kwh",
    "charged_kwh",
]
UNSERVED_COLUMNS = ["job", "reason", "detail", "address", "window", "demand_kg", "lat", "lon"]


def _clock(origin: dt.datetime, minutes: float | None) -> dt.datetime | None:
    return None if minutes is None else origin + dt.timedelta(minutes=float(minutes))


def route_view_from_json(
    problem: Mapping[str, Any],
    solution: Mapping[str, Any],
    depot_code: str,
    service_date: dt.date,
    orders: Mapping[str, Mapping[str, Any]] | None = None,
    version: int | None = None,
    created_at: dt.datetime | None = None,
) -> RoutePlanView:
    """Flatten a routing problem/solution pair (the JSON stored in `RoutePlan.problem`/`.solution`).

    `orders` (external_ref -> address, window, demand) adds what a driver needs on the route sheet. Times are
    local clock times: the solution counts minutes from the problem's `time_origin`.
    """
    orders = orders or {}
    origin = dt.datetime.fromisoformat(str(problem["time_origin"]))
    locs = {loc["id"]: (float(loc["lat"]), float(loc["lon"])) for loc in problem["locations"]}
    jobs = {j["id"]: j for j in problem["jobs"]}
    kinds = {t["id"]: t.get("kind", "electric") for t in problem["vehicle_types"]}
    depot_loc = problem["vehicle_types"][0]["start_depot"] if problem["vehicle_types"] else next(iter(locs))
    depot_lat, depot_lon = locs.get(depot_loc, (0.0, 0.0))
    stations = pd.DataFrame(
        [
            {
                "station": s["id"],
                "lat": locs[s["location"]][0],
                "lon": locs[s["location"]][1],
                "max_kw": s.get("max_kw") or s.get("power_kw"),
                "public": s.get("public", False),
            }
            for s in problem.get("stations", ())
        ],
        columns=["station", "lat", "lon", "max_kw", "public"],
    )

    def order_info(job_id: str) -> dict[str, Any]:
        o = orders.get(job_id, {})
        job = jobs.get(job_id, {})
        windows = job.get("time_windows") or []
        window = o.get("window") or (
            ", ".join(
                f"{_clock(origin, w[0] if isinstance(w, list | tuple) else w['start']):%H:%M}–"
                f"{_clock(origin, w[1] if isinstance(w, list | tuple) else w['end']):%H:%M}"
                for w in windows
            )
        )
        return {
            "address": o.get("address", ""),
            "window": window,
            "demand_kg": o.get("demand_kg", job.get("demand_kg")),
        }

    routes, stops = [], []
    for i, r in enumerate(solution.get("routes", ())):
        if not r.get("stops"):
            continue
        vehicle = r["vehicle_type"]
        colour = ROUTE_COLOURS[i % len(ROUTE_COLOURS)]
        n_jobs = sum(1 for s in r["stops"] if s["kind"] == "job")
        routes.append(
            {
                "vehicle": vehicle,
                "kind": kinds.get(vehicle, ""),
                "colour": list(colour),
                "jobs": n_jobs,
                "km": r.get("distance_km", 0.0),
                "kwh": r.get("energy_kwh", 0.0),
                "litres": r.get("fuel_l", 0.0),
                "departure": _clock(origin, r["departure"]),
                "return": _clock(origin, r["arrival"]),
                "soc_departure_kwh": r.get("soc_departure_kwh"),
                "soc_return_kwh": r.get("soc_arrival_kwh"),
                "charged_kwh": r.get("energy_charged_kwh", 0.0),
                "cost_cny": r.get("cost", 0.0),
            }
        )
        stops.append(
            {
                "vehicle": vehicle,
                "seq": 0,
                "kind": "depot",
                "stop": depot_code,
                "address": "",
                "lat": depot_lat,
                "lon": depot_lon,
                "arrival": None,
                "departure": _clock(origin, r["departure"]),
                "window": "",
                "demand_kg": None,
                "load_kg": r.get("load_departure_kg"),
                "soc_arrival_kwh": None,
                "soc_departure_kwh": r.get("soc_departure_kwh"),
                "charged_kwh": 0.0,
            }
        )
        for k, s in enumerate(r["stops"], start=1):
            lat, lon = locs.get(s["location"], (depot_lat, depot_lon))
            info = (
                order_info(s["id"])
                if s["kind"] == "job"
                else {"address": "", "window": "", "demand_kg": None}
            )
            stops.append(
                {
                    "vehicle": vehicle,
                    "seq": k,
                    "kind": s["kind"],
                    "stop": s["id"],
                    **info,
                    "lat": lat,
                    "lon": lon,
                    "arrival": _clock(origin, s["arrival"]),
                    "departure": _clock(origin, s["departure"]),
                    "load_kg": s.get("load_kg"),
                    "soc_arrival_kwh": s.get("soc_arrival_kwh"),
                    "soc_departure_kwh": s.get("soc_departure_kwh"),
                    "charged_kwh": s.get("energy_charged_kwh", 0.0),
                }
            )
        stops.append(
            {
                "vehicle": vehicle,
                "seq": len(r["stops"]) + 1,
                "kind": "depot",
                "stop": depot_code,
                "address": "",
                "lat": depot_lat,
                "lon": depot_lon,
                "arrival": _clock(origin, r["arrival"]),
                "departure": None,
                "window": "",
                "demand_kg": None,
                "load_kg": 0.0,
                "soc_arrival_kwh": r.get("soc_arrival_kwh"),
                "soc_departure_kwh": None,
                "charged_kwh": 0.0,
            }
        )
    unserved = []
    for u in solution.get("unserved", ()):
        job = jobs.get(u["job_id"], {})
        lat, lon = locs.get(job.get("location", ""), (None, None))
        unserved.append(
            {
                "job": u["job_id"],
                "reason": u.get("reason", ""),
                "detail": u.get("detail", ""),
                **order_info(u["job_id"]),
                "lat": lat,
                "lon": lon,
            }
        )
    stats = solution.get("stats", {})
    frame_routes = pd.DataFrame(routes, columns=ROUTE_COLUMNS)
    return RoutePlanView(
        depot_code=depot_code,
        service_date=service_date,
        version=version,
        created_at=created_at,
        vehicles_used=len(frame_routes),
        km=float(frame_routes["km"].sum()),
        kwh=float(frame_routes["kwh"].sum()),
        litres=float(frame_routes["litres"].sum()),
        cost_cny=float(frame_routes["cost_cny"].sum()),
        solver_status=str(stats.get("status", "")),
        solver_seconds=float(stats.get("seconds", 0.0) or 0.0),
        depot_lat=depot_lat,
        depot_lon=depot_lon,
        routes=frame_routes,
        stops=pd.DataFrame(stops, columns=STOP_COLUMNS),
        unserved=pd.DataFrame(unserved, columns=UNSERVED_COLUMNS),
        stations=stations,
    )


def _order_details(session: Session, scope: Scope, depot_id: int, day: dt.date) -> dict[str, dict[str, Any]]:
    from fleet.models import Order

    out = {}
    for o in list_rows(session, scope, Order, Order.depot_id == depot_id, Order.service_date == day):
        start, end = o.window_start, o.window_end
        out[o.external_ref] = {
            "address": o.address or "",
            "demand_kg": o.demand_kg,
            "window": f"{start:%H:%M}–{end:%H:%M}" if start and end else "",
        }
    return out


def current_route_view(
    url: str, lessee_code: str | None, depot_code: str, day: dt.date
) -> RoutePlanView | None:
    """The depot-day's current stored route plan (`fleet.pipeline.current_route_plan`), or None."""
    from fleet.pipeline import current_route_plan

    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
        depot = _depot(session, scope, depot_code)
        plan = current_route_plan(session, scope, depot.id, day)
        if plan is None:
            return None
        return route_view_from_json(
            plan.problem,
            plan.solution,
            depot.code,
            day,
            _order_details(session, scope, depot.id, day),
            plan.version,
            plan.created_at,
        )


def order_count(url: str, lessee_code: str | None, depot_code: str, day: dt.date) -> int:
    from fleet.models import Order

    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
        depot = _depot(session, scope, depot_code)
        return len(list_rows(session, scope, Order, Order.depot_id == depot.id, Order.service_date == day))


# Solves run in a fresh worker process (spawned, not forked from the web server's threads): OR-Tools has crashed
# long-lived processes after several solves (issue #5076), and a crash must cost one solve, not the app.


class SolveFailed(RuntimeError):
    """A solve in the worker process failed; the message says why (the app shows it, nothing was stored)."""


def run_isolated(fn: Any, *args: Any, on_wait: Any = None, poll_s: float = 0.25) -> Any:
    """`fn(*args)` in a fresh spawned process; `on_wait(elapsed_s)` is called while it runs (progress)."""
    import multiprocessing as mp
    import time
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        future = pool.submit(fn, *args)
        while not future.done():
            if on_wait is not None:
                on_wait(time.perf_counter() - t0)
            time.sleep(poll_s)
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise SolveFailed(f"the solver process died ({exc}); nothing was stored") from None
        except SolveFailed:
            raise
        except Exception as exc:  # shown as a message on the page, never as a traceback
            raise SolveFailed(f"{type(exc).__name__}: {exc}") from exc


def solve_and_store(
    url: str, lessee_code: str | None, depot_code: str, day: dt.date, time_limit_s: float, seed: int = 0
) -> dict[str, Any]:
    """Plan the depot-day now and store it as a new current version, exactly as the nightly job does
    (`fleet.pipeline.run_depot_day`: routes, charging, both checked, one transaction). Returns the result row."""
    from fleet.pipeline import PlanCheckFailed, RunOptions, run_depot_day

    engine = get_engine(url)
    with session_scope(engine) as session:
        scope = _scope(session, lessee_code)
        depot_id = _depot(session, scope, depot_code).id
    options = RunOptions(
        time_limit_s=float(time_limit_s), charging_time_limit_s=max(2.0, float(time_limit_s)), seed=seed
    )
    try:
        return run_depot_day(engine, scope, depot_id, day, options).to_dict()
    except (PlanCheckFailed, ValueError) as exc:
        raise SolveFailed(str(exc)) from None


FLEET_VARIANTS = ("mixed fleet", "electric only")


def compare_fleets(
    url: str, lessee_code: str | None, depot_code: str, day: dt.date, time_limit_s: float, seed: int = 0
) -> pd.DataFrame:
    """Route the depot-day twice in memory (nothing stored): with every available truck (mixed fleet) and with
    the electric trucks only; one row per variant with vehicles, km, kWh, litres and routing cost."""
    from dataclasses import replace

    from fleet.planning.build import routing_problem
    from fleet.planning.inputs import load_depot_day
    from routing.solve import solve

    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
        inputs = load_depot_day(session, scope, _depot(session, scope, depot_code).id, day)
    rows = []
    for name in FLEET_VARIANTS:
        inp = (
            inputs
            if name == "mixed fleet"
            else replace(inputs, vehicles=tuple(v for v in inputs.vehicles if v.kind == "bev"))
        )
        kinds = {v.plate: v.kind for v in inp.vehicles}
        if not inp.vehicles:
            rows.append(
                {
                    "fleet": name,
                    "trucks available": 0,
                    "electric used": 0,
                    "diesel used": 0,
                    "km": 0.0,
                    "kWh": 0.0,
                    "litres": 0.0,
                    "cost [CNY]": 0.0,
                    "unserved": len(inp.orders),
                    "solver": "no trucks",
                }
            )
            continue
        sol = solve(routing_problem(inp), time_limit_s=float(time_limit_s), seed=seed)
        used = [r for r in sol.routes if r.stops]
        rows.append(
            {
                "fleet": name,
                "trucks available": len(inp.vehicles),
                "electric used": sum(1 for r in used if kinds.get(r.vehicle_type) == "bev"),
                "diesel used": sum(1 for r in used if kinds.get(r.vehicle_type) != "bev"),
                "km": sol.total_distance_km,
                "kWh": sol.total_energy_kwh,
                "litres": sol.total_fuel_l,
                "cost [CNY]": sol.total_cost,
                "unserved": len(sol.unserved),
                "solver": sol.stats.status,
            }
        )
    return pd.DataFrame(rows).set_index("fleet")


def wall_clock(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """A copy with the timestamp columns as naive local clock times (charts in the browser would otherwise shift
    them to the viewer's time zone); the plans' times are already in the depot's zone (Asia/Shanghai)."""
    out = frame.copy()
    for col in columns:
        out[col] = [None if t is None or pd.isna(t) else pd.Timestamp(t).tz_localize(None) for t in out[col]]
        out[col] = pd.to_datetime(out[col])
    return out


def hhmm(t: Any) -> str:
    """Clock time of a timestamp; "" for a missing one (None or NaT)."""
    return "" if t is None or pd.isna(t) else t.strftime("%H:%M")


ROUTE_SHEET_COLUMNS = [
    "seq",
    "kind",
    "stop",
    "address",
    "window",
    "arrival",
    "departure",
    "demand_kg",
    "load_kg",
    "soc_arrival_kwh",
    "soc_departure_kwh",
    "charged_kwh",
    "lat",
    "lon",
]


def route_sheet(view: RoutePlanView, vehicle: str) -> pd.DataFrame:
    """One driver's sheet: the truck's stops in order with clock times, addresses, windows and charge."""
    sheet = view.stops[view.stops["vehicle"] == vehicle][ROUTE_SHEET_COLUMNS].copy()
    for col in ("arrival", "departure"):
        sheet[col] = [hhmm(t) for t in sheet[col]]
    for col in ("demand_kg", "load_kg", "soc_arrival_kwh", "soc_departure_kwh", "charged_kwh"):
        sheet[col] = pd.to_numeric(sheet[col], errors="coerce").round(1)
    return sheet.reset_index(drop=True)


def route_sheet_csv(view: RoutePlanView, vehicle: str) -> bytes:
    return (
        route_sheet(view, vehicle).to_csv(index=False).encode("utf-8-sig")
    )  # BOM: Excel opens 粤 plates right


def route_sheets_xlsx(view: RoutePlanView) -> bytes:
    """All drivers' sheets in one workbook, one worksheet per truck (sheet names are the plates)."""
    import io

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        summary = view.routes.drop(columns=["colour"]).copy()
        for col in ("departure", "return"):
            summary[col] = [hhmm(t) for t in summary[col]]
        summary.to_excel(writer, sheet_name="routes", index=False)
        for vehicle in view.routes["vehicle"]:
            route_sheet(view, vehicle).to_excel(writer, sheet_name=str(vehicle)[:31], index=False)
    return buffer.getvalue()


# ----------------------------------------------------------------------------------------------- charging


@dataclass(frozen=True)
class ChargingView:
    """A night's charging schedule (stored or what-if), flattened for the Gantt chart, the load chart and the
    cost comparison. Money [CNY], power [kW], energy [kWh]."""

    depot_code: str
    service_date: dt.date
    version: int | None  # None: a what-if, not stored
    created_at: dt.datetime | None
    status: str
    solver: str
    cost_cny: float
    energy_cost_cny: float
    demand_cost_cny: float
    peak_kw: float
    grid_kwh: float
    grid_limit_kw: float
    tariff: str
    base_price: float
    demand_rate: float
    connectors: tuple[str, ...]  # every connector of the depot, idle ones included
    bars: pd.DataFrame  # connector, vehicle, start, end, kw
    load: pd.DataFrame  # start, end, site_kw, uncontrolled_kw, band, price
    bands: pd.DataFrame  # start, end, band: contiguous time-of-use periods
    costs: pd.DataFrame  # one row per strategy: optimised, uncontrolled, edf, timer
    unmet: pd.DataFrame

    def saving_vs(self, strategy: str) -> tuple[float, float] | None:
        """(saving [CNY], saving [%]) of the optimised schedule against a baseline strategy, if reported."""
        rows = self.costs[self.costs["strategy"] == strategy]
        if rows.empty:
            return None
        base = float(rows["total [CNY]"].iloc[0])
        return base - self.cost_cny, (100.0 * (base - self.cost_cny) / base if base else 0.0)


BAR_COLUMNS = ["connector", "vehicle", "start", "end", "kw", "kwh"]
STRATEGY_LABELS = {
    "optimised": "optimised",
    "uncontrolled": "uncontrolled",
    "edf": "earliest deadline first",
    "timer": "timer (valley start)",
}


def _runs(values: list[float], eps: float = 1e-6) -> list[tuple[int, int]]:
    """[start, end) index ranges where `values` is non-zero."""
    out, start = [], None
    for k, v in enumerate(values + [0.0]):
        if abs(v) > eps and start is None:
            start = k
        elif abs(v) <= eps and start is not None:
            out.append((start, k))
            start = None
    return out


def charging_view_from_json(
    problem_json: Mapping[str, Any],
    solution: Mapping[str, Any],
    depot_code: str,
    service_date: dt.date,
    version: int | None = None,
    created_at: dt.datetime | None = None,
) -> ChargingView:
    """Flatten a charging problem/schedule pair (the JSON stored in `ChargingPlan.problem`/`.solution`)."""
    from charging.baselines import uncontrolled
    from charging.problem import problem_from_json

    problem = problem_from_json(problem_json)
    step = dt.timedelta(minutes=problem.slot_minutes)
    starts = list(problem.slot_starts)
    bars = []
    for v in solution.get("vehicles", ()):
        power = [float(p) for p in v["power_kw"]]
        for a, b in _runs(power):
            chunk = power[a:b]
            bars.append(
                {
                    "connector": v.get("connector") or f"own ({v['id']})",
                    "vehicle": v["id"],
                    "start": starts[a],
                    "end": starts[b - 1] + step,
                    "kw": max(chunk),
                    "kwh": sum(chunk) * problem.dt_h,
                }
            )
    names = problem.tariff.period_names(starts, problem.slot_minutes)
    prices = problem.tariff.energy_prices(starts, problem.slot_minutes)
    baseline_load = uncontrolled(problem).site_import_kw
    load = pd.DataFrame(
        {
            "start": starts,
            "end": [t + step for t in starts],
            "site_kw": [float(x) for x in solution.get("site_import_kw", [0.0] * len(starts))],
            "uncontrolled_kw": [float(x) for x in baseline_load],
            "band": names,
            "price": [float(p) for p in prices],
        }
    )
    bands = []
    for k, name in enumerate(names):
        if bands and bands[-1]["band"] == name:
            bands[-1]["end"] = starts[k] + step
        else:
            bands.append({"start": starts[k], "end": starts[k] + step, "band": name})
    cost = solution.get("cost", {})

    def cost_row(strategy: str, c: Mapping[str, Any], peak: float, unmet: int) -> dict[str, Any]:
        total = float(
            c.get("total", c.get("energy", 0) + c.get("demand", 0) - c.get("export", 0) + c.get("dr", 0))
        )
        return {
            "strategy": strategy,
            "label": STRATEGY_LABELS.get(strategy, strategy),
            "total [CNY]": total,
            "energy [CNY]": float(c.get("energy", 0.0)),
            "demand [CNY]": float(c.get("demand", 0.0)),
            "peak [kW]": float(peak),
            "unmet vehicles": int(unmet),
        }

    rows = [cost_row("optimised", cost, solution.get("peak_kw", 0.0), len(solution.get("unmet", ())))]
    for name, b in (solution.get("baselines") or {}).items():
        rows.append(cost_row(name, b.get("cost", {}), b.get("peak_kw", 0.0), b.get("unmet_vehicles", 0)))
    costs = pd.DataFrame(rows)
    optimised = rows[0]["total [CNY]"]
    costs["saving of the optimised [CNY]"] = costs["total [CNY]"] - optimised
    grid_kwh = float(sum(max(0.0, x) for x in load["site_kw"]) * problem.dt_h)
    return ChargingView(
        depot_code=depot_code,
        service_date=service_date,
        version=version,
        created_at=created_at,
        status=str(solution.get("status", "")),
        solver=str(solution.get("solver", "")),
        cost_cny=optimised,
        energy_cost_cny=float(cost.get("energy", 0.0)),
        demand_cost_cny=float(cost.get("demand", 0.0)),
        peak_kw=float(solution.get("peak_kw", 0.0)),
        grid_kwh=grid_kwh,
        grid_limit_kw=problem.site.import_limit_kw,
        tariff=problem.tariff.source_id or "custom",
        base_price=problem.tariff.base_price,
        demand_rate=problem.tariff.demand_rate,
        connectors=tuple(sorted({c.id for c in problem.connectors} | {b["connector"] for b in bars})),
        bars=pd.DataFrame(bars, columns=BAR_COLUMNS),
        load=load,
        bands=pd.DataFrame(bands),
        costs=costs,
        unmet=pd.DataFrame(list(solution.get("unmet", ())), columns=["id", "shortfall_kwh", "reason"]),
    )


@dataclass(frozen=True)
class StoredCharging:
    view: ChargingView
    problem: dict[str, Any]  # the stored solver input, the starting point of a what-if


def current_charging_view(
    url: str, lessee_code: str | None, depot_code: str, day: dt.date
) -> StoredCharging | None:
    """The night's current stored charging plan for the depot-day (`fleet.pipeline.current_charging_plan`)."""
    from fleet.pipeline import current_charging_plan

    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
        depot = _depot(session, scope, depot_code)
        plan = current_charging_plan(session, scope, depot.id, day)
        if plan is None:
            return None
        view = charging_view_from_json(
            plan.problem, plan.solution, depot.code, day, plan.version, plan.created_at
        )
        return StoredCharging(view, dict(plan.problem))


def tariff_options() -> list[tuple[str, str]]:
    """(id, name) of the time-of-use tariffs shipped in data/reference/tariffs.json."""
    from charging.tariff import load_reference

    return [(t["id"], t.get("name", t["id"])) for t in load_reference()["tariffs"]]


def charging_what_if(
    problem_json: Mapping[str, Any],
    depot_code: str,
    service_date: dt.date,
    grid_limit_kw: float,
    tariff_id: str,
    base_price: float,
    time_limit_s: float = 5.0,
    seed: int = 0,
) -> ChargingView:
    """Re-schedule the stored night with another grid import limit [kW] and tariff (id from tariffs.json, flat
    base price [CNY/kWh]); in memory, nothing stored. The demand charge and the month's peak so far are kept."""
    import copy

    from charging.optimize import schedule
    from charging.problem import problem_from_json, problem_to_json

    data = copy.deepcopy(dict(problem_json))
    old = data.get("tariff", {})
    data["site"] = {**data.get("site", {}), "import_limit_kw": float(grid_limit_kw)}
    data["tariff"] = {
        "id": tariff_id,
        "base_price": float(base_price),
        "demand_charge_per_kw_month": old.get("demand_charge_per_kw_month", 0.0),
        "month_peak_kw_so_far": old.get("month_peak_kw_so_far", 0.0),
        "demand_charge_proration": old.get("demand_charge_proration", 1.0),
    }
    problem = problem_from_json(data)
    result = schedule(problem, time_limit_s=float(time_limit_s), seed=seed, num_workers=1)
    return charging_view_from_json(problem_to_json(problem), result.to_json(), depot_code, service_date)


# ------------------------------------------------------------------------------------------- nightly jobs

JOB_COLUMNS = [
    "id",
    "run_key",
    "depot",
    "service_date",
    "status",
    "attempt",
    "queued_at",
    "started_at",
    "finished_at",
    "duration_s",
    "error",
    "traceback",
    "vehicles_used",
    "km",
    "charging_cost_cny",
]


def jobs_frame(
    url: str,
    lessee_code: str | None,
    service_date: dt.date | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Nightly job runs in scope (`fleet.nightly.jobs_for`), newest first, with the depot code and key results."""
    from fleet.nightly import jobs_for

    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
        depots = {d.id: d.code for d in list_rows(session, scope, Depot)}
        rows = [
            {
                "id": j.id,
                "run_key": j.run_key,
                "depot": depots.get(j.depot_id, str(j.depot_id)),
                "service_date": j.service_date,
                "status": j.status.value,
                "attempt": j.attempt,
                "queued_at": j.queued_at,
                "started_at": j.started_at,
                "finished_at": j.finished_at,
                "duration_s": j.duration_s,
                "error": j.error or "",
                "traceback": j.traceback or "",
                "vehicles_used": (j.stats or {}).get("vehicles_used"),
                "km": (j.stats or {}).get("km"),
                "charging_cost_cny": (j.stats or {}).get("charging_cost_cny"),
            }
            for j in jobs_for(session, scope, service_date, limit)
        ]
    return pd.DataFrame(rows, columns=JOB_COLUMNS)


@dataclass(frozen=True)
class RunSummary:
    """One invocation of the nightly job (a run key): how many depot-days succeeded, which failed."""

    run_key: str
    service_date: dt.date
    started: dt.datetime | None
    depots: int
    succeeded: int
    failed: tuple[str, ...]
    pending: int
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.failed and not self.pending

    @property
    def status(self) -> str:
        if self.failed:
            return f"{len(self.failed)} failed"
        return "running" if self.pending else "succeeded"


def run_summaries(jobs: pd.DataFrame) -> list[RunSummary]:
    """Group job rows by run key, newest run first."""
    out = []
    for key, group in jobs.groupby("run_key", sort=False):
        started = group["queued_at"].dropna()
        out.append(
            RunSummary(
                run_key=str(key),
                service_date=group["service_date"].iloc[0],
                started=started.min() if len(started) else None,
                depots=len(group),
                succeeded=int((group["status"] == "succeeded").sum()),
                failed=tuple(sorted(group.loc[group["status"] == "failed", "depot"])),
                pending=int(group["status"].isin(["queued", "running"]).sum()),
                seconds=float(group["duration_s"].fillna(0).sum()),
            )
        )
    return sorted(out, key=lambda r: (r.started is None, r.started), reverse=True) if out else out


def latest_run(url: str, lessee_code: str | None) -> RunSummary | None:
    """The most recent nightly run in scope (Overview)."""
    runs = run_summaries(jobs_frame(url, lessee_code, limit=200))
    return runs[0] if runs else None


def rerun_depot(
    url: str,
    lessee_code: str | None,
    depot_code: str,
    day: dt.date,
    time_limit_s: float,
) -> dict[str, Any]:
    """Re-run one depot-day as the nightly job does (`fleet.nightly.run_nightly`, one depot, in-process, one
    retry): a new JobRun row records it. The depot must be in the caller's scope."""
    from fleet.nightly import NightlyConfig, run_nightly
    from fleet.pipeline import RunOptions

    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
        _depot(session, scope, depot_code)  # refuses a depot outside the scope
        lessor = session.get(Lessor, scope.lessor_id)
        lessor_code = lessor.code if lessor else None
    summary = run_nightly(
        NightlyConfig(
            day,
            url,
            depot_codes=(depot_code,),
            workers=1,
            lessor_code=lessor_code,
            options=RunOptions(
                time_limit_s=float(time_limit_s), charging_time_limit_s=max(2.0, float(time_limit_s))
            ),
        )
    )
    (outcome,) = summary.outcomes
    return {
        "depot": outcome.depot_code,
        "job_run_id": outcome.job_run_id,
        "status": outcome.status,
        "seconds": outcome.seconds,
        "error": outcome.error,
        "run_key": summary.run_key,
    }


# ---------------------------------------------------------------------------------------------- emissions

LEDGER_ENV = "EVFLEET_CLAIMS_LEDGER"  # the same ledger as `evfleet submission` (fleet/cli/emissions_cmd.py)
DEFAULT_PROFILE = "tcsae-235"  # the CLI's default profile


def emission_profiles() -> list[tuple[str, str]]:
    """(id, name) of the methodology profiles (`fleet.emissions.profiles.PROFILES`)."""
    from fleet.emissions.profiles import PROFILES

    return [(k, p.name) for k, p in PROFILES.items()]


def emission_parties(url: str, lessee_code: str | None) -> list[str]:
    """The parties whose figures the scope may see: every lessee for the lessor, else the one lessee."""
    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
        return [le.code for le in list_rows(session, scope, Lessee, order_by=Lessee.code)]


@dataclass(frozen=True)
class EmissionsView:
    """Per lessee and month, ex-ante beside ex-post [t CO2], with the factors and methodology used."""

    year: int
    profile_id: str
    months: pd.DataFrame  # lessee, month, ex-ante t, ex-post t, difference, baseline, project, km, kWh, days
    factors: pd.DataFrame  # name, value, unit, key, data year, source, confidence
    methodology: dict[str, Any]  # name, version, source, boundary, gases, grid basis, to confirm
    factor_source: str
    rows_checked: int
    rows_excluded: int


def _report(
    session: Session, lessee_code: str, period: Any, profile: Any, as_of: dt.date | None = None
) -> Any:
    from fleet.emissions.service import report_from_db

    return report_from_db(
        session, scope_for(session, lessee_code=lessee_code), lessee_code, period, profile, as_of
    )


def emissions_view(
    url: str,
    lessee_code: str | None,
    year: int,
    profile_id: str = DEFAULT_PROFILE,
    as_of: dt.date | None = None,
) -> EmissionsView:
    """`fleet.emissions.service.report_from_db` for each lessee in scope over `year`, grouped by month."""
    from fleet.emissions.calc import by_period, parse_period
    from fleet.emissions.profiles import get_profile

    profile = get_profile(profile_id)
    period = parse_period(str(year))
    rows, factors, source, checked, excluded = [], None, "", 0, 0
    with session_scope(get_engine(url)) as session:
        parties = [
            le.code for le in list_rows(session, _scope(session, lessee_code), Lessee, order_by=Lessee.code)
        ]
        for party in parties:
            db = _report(session, party, period, profile, as_of)
            report = db.report
            post, ante = by_period(report.ex_post, "month"), by_period(report.ex_ante, "month")
            for month in sorted(set(post) | set(ante)):
                p, a = post.get(month), ante.get(month)
                rows.append(
                    {
                        "lessee": party,
                        "month": str(month),
                        "ex-ante reduction [t]": a.reduction_t if a else None,
                        "ex-post reduction [t]": p.reduction_t if p else None,
                        "ex-post − ex-ante [t]": (p.reduction_t - a.reduction_t) if (p and a) else None,
                        "baseline [t]": p.baseline_t if p else None,
                        "project [t]": p.project_t if p else None,
                        "km": p.km if p else None,
                        "grid kWh": p.grid_kwh if p else None,
                        "vehicle-days": p.vehicle_days if p else 0,
                    }
                )
            checked += report.rows_checked
            excluded += report.rows_excluded
            if factors is None:
                factors = pd.DataFrame([p.as_dict() for p in report.resolved.parameters()])
                source = db.factor_source
    methodology = {
        "profile": profile.profile_id,
        "name": profile.name,
        "version": profile.version,
        "source": profile.source,
        "boundary": profile.boundary,
        "gases": profile.gases,
        "grid basis": profile.grid_basis,
        "to confirm": list(profile.to_confirm),
    }
    columns = [
        "lessee",
        "month",
        "ex-ante reduction [t]",
        "ex-post reduction [t]",
        "ex-post − ex-ante [t]",
        "baseline [t]",
        "project [t]",
        "km",
        "grid kWh",
        "vehicle-days",
    ]
    months = pd.DataFrame(rows, columns=columns)
    numeric = columns[2:]
    months[numeric] = months[numeric].apply(pd.to_numeric, errors="coerce")  # None -> NaN: shown as "–"
    return EmissionsView(
        year,
        profile.profile_id,
        months,
        factors if factors is not None else pd.DataFrame(),
        methodology,
        source,
        checked,
        excluded,
    )


def emissions_avoided(
    url: str,
    lessee_code: str | None,
    today: dt.date,
    profile_id: str = DEFAULT_PROFILE,
) -> tuple[float, str] | None:
    """Ex-post reduction [t CO2] of the scope's trucks in the reference date's month up to that date, whoever
    claims it (Overview); None without any metered vehicle-day. Returns (tonnes, period label)."""
    from fleet.emissions.calc import parse_period, total
    from fleet.emissions.profiles import get_profile

    period = parse_period(f"{today:%Y-%m}")
    from fleet.emissions.service import report_from_db

    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
        db = report_from_db(session, scope, lessee_code, period, get_profile(profile_id), today)
    days = [r for r in (*db.report.ex_post, *db.report.attributed_elsewhere) if r.day <= today]
    if not days:
        return None
    return total(days).reduction_t, f"{period.start:%Y-%m-%d} to {max(r.day for r in days):%Y-%m-%d}"


@dataclass(frozen=True)
class SubmissionPackage:
    filename: str
    data: bytes  # a zip of the package directory
    report_id: str
    ex_post_t: float
    files: tuple[str, ...]


def submission_zip(
    url: str,
    lessee_code: str | None,
    party: str,
    year: int,
    profile_id: str = DEFAULT_PROFILE,
    ledger_path: Path | None = None,
) -> SubmissionPackage:
    """The climate-finance package (`fleet.submission.run.make_submission`: JSON, schema, XLSX, PDF, SHA-256
    manifest) zipped for download.

    A draft: it is checked against a copy of the claims ledger (vehicle-days claimed by another report are refused
    exactly as in `evfleet submission`), but the app never writes the ledger; filing, which records the claims,
    stays with the CLI.
    """
    import io
    import shutil
    import zipfile

    from fleet.emissions.profiles import get_profile
    from fleet.submission.run import make_submission

    ledger = ledger_path or Path(os.environ.get(LEDGER_ENV, "evfleet-claims.json"))
    with tempfile.TemporaryDirectory(prefix="evfleet-submission-") as tmp:
        tmp_ledger = Path(tmp) / "ledger.json"
        if ledger.exists():
            shutil.copyfile(ledger, tmp_ledger)
        out = Path(tmp) / "package"
        with session_scope(get_engine(url)) as session:
            scope = _scope(session, lessee_code)
            if lessee_code is not None and party != lessee_code:
                raise ScopeError(f"lessee {lessee_code} cannot build a submission for {party!r}")
            party_scope = scope if lessee_code else scope_for(session, lessee_code=party)
            result = make_submission(
                session, party_scope, party, year, get_profile(profile_id), out, tmp_ledger
            )
        buffer = io.BytesIO()
        names = []
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(out.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(out).as_posix())
                    names.append(path.relative_to(out).as_posix())
    doc = result.document
    stem = f"{party}-{year}-{profile_id}"
    return SubmissionPackage(
        f"submission-{stem}.zip",
        buffer.getvalue(),
        str(doc["report_id"]),
        float(doc["results"]["ex_post"]["reduction_tco2e"]),
        tuple(names),
    )


# ---------------------------------------------------------------------------------------- lease economics


def lease_codes(url: str, lessee_code: str | None) -> list[str]:
    """Codes of the leases in scope."""
    with session_scope(get_engine(url)) as session:
        return [
            le.code for le in list_rows(session, _scope(session, lessee_code), Lease, order_by=Lease.code)
        ]


def lease_economics(url: str, lessee_code: str | None, lease_code: str) -> dict[str, Any]:
    """`fleet.finance.from_db.lease_report` with the tornado: lessor metrics, lessee TCO vs diesel, sources."""
    from fleet.finance.from_db import lease_report

    with session_scope(get_engine(url)) as session:
        return lease_report(session, _scope(session, lessee_code), lease_code, tornado=True)


def scenario_economics(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario-file payload evaluated in memory, as `evfleet roi --scenario FILE` does (with its tornado)."""
    from fleet.finance import report as rep
    from fleet.finance.evaluate import evaluate
    from fleet.finance.scenario import scenario_file_from_dict
    from fleet.finance.sensitivity import tornado

    loaded = scenario_file_from_dict(dict(payload))
    return rep.scenario_dict(
        evaluate(loaded.base),
        tornado(loaded.base, loaded.drivers, loaded.swing),
        [evaluate(v) for v in loaded.variants],
    )


def edited_scenario(
    payload: Mapping[str, Any],
    changes: Mapping[str, Any],
    name: str | None = None,
) -> dict[str, Any]:
    """A copy of a scenario payload with `changes` ({"lease.monthly_rent": 3100.0, ...}) applied."""
    import copy

    out = copy.deepcopy(dict(payload))
    for path, value in changes.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    if name:
        out["name"] = name
    return out


def saved_scenarios(url: str, lessee_code: str | None) -> list[str]:
    from fleet.finance.from_db import list_scenarios

    with session_scope(get_engine(url)) as session:
        return list_scenarios(session, _scope(session, lessee_code))


def saved_scenario_payload(url: str, lessee_code: str | None, name: str) -> dict[str, Any]:
    """The stored payload of a saved scenario in scope (validated again on evaluation)."""
    from fleet.models import FinanceScenario

    with session_scope(get_engine(url)) as session:
        row = session.exec(
            select_rows(_scope(session, lessee_code), FinanceScenario, FinanceScenario.name == name)
        ).first()
        if row is None:
            raise ScopeError(f"no saved scenario {name!r} in this scope")
        return dict(row.payload)


def save_scenario(url: str, lessee_code: str | None, name: str, payload: Mapping[str, Any]) -> None:
    """`fleet.finance.from_db.save_scenario`: validated, stored under `name` in the scope (replaces its own)."""
    from fleet.finance.from_db import save_scenario as store

    with session_scope(get_engine(url)) as session:
        store(session, _scope(session, lessee_code), name.strip(), dict(payload))


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


KEY_FIGURES = (
    "project NPV [CNY]",
    "equity NPV [CNY]",
    "project IRR (effective annual)",
    "equity IRR (effective annual)",
    "payback [months]",
    "discounted payback [months]",
    "DSCR min",
    "DSCR average",
    "LLCR",
    "monthly rent [CNY]",
    "lessor minimum rent (NPV 0) [CNY]",
    "lessee maximum rent (saving 0) [CNY]",
    "electric lease [CNY/km]",
    "diesel [CNY/km]",
    "lessee saving [CNY/month]",
    "lessee saving, PV [CNY]",
    "break-even [km/year]",
)


def key_figures(report: Mapping[str, Any]) -> dict[str, float | None]:
    """The headline numbers of a finance report (lease or scenario), as floats, in `KEY_FIGURES` order."""
    lessor, lessee, rent = report["lessor"], report["lessee"], report["rent"]
    values = (
        lessor["project"]["npv"],
        lessor["equity"]["npv"],
        lessor["project"]["irr_effective_annual"],
        lessor["equity"]["irr_effective_annual"],
        lessor["project"]["payback_months_interpolated"],
        lessor["project"]["discounted_payback_months_interpolated"],
        lessor.get("dscr_min"),
        lessor.get("dscr_avg"),
        lessor.get("llcr"),
        rent["monthly_rent"],
        rent["lessor_min_rent_npv_zero"],
        rent["lessee_max_rent_saving_zero"],
        lessee["electric"]["cost_per_km"],
        lessee["diesel"]["cost_per_km"],
        lessee["saving_per_month"],
        lessee["saving_pv"],
        lessee.get("break_even_km_per_year"),
    )
    return dict(zip(KEY_FIGURES, (_num(v) for v in values)))


def tornado_frame(report: Mapping[str, Any]) -> pd.DataFrame:
    """One row per driver and side (low/high): the project NPV change [CNY] when the driver moves there."""
    rows = []
    for r in report.get("tornado", {}).get("rows", []):
        for side in ("low", "high"):
            rows.append(
                {
                    "driver": r["driver"],
                    "side": side,
                    "value": r[side],
                    "base": r["base"],
                    "npv change [CNY]": float(r[f"npv_delta_{side}"]),
                    "npv [CNY]": float(r[f"npv_{side}"]),
                    "range": r.get("range_source", ""),
                }
            )
    frame = pd.DataFrame(
        rows, columns=["driver", "side", "value", "base", "npv change [CNY]", "npv [CNY]", "range"]
    )
    if not frame.empty:
        swing = frame.groupby("driver")["npv change [CNY]"].apply(lambda s: s.abs().max())
        frame["swing"] = frame["driver"].map(swing)
        frame = frame.sort_values(["swing", "side"], ascending=[False, True]).drop(columns="swing")
    return frame


def tco_frame(report: Mapping[str, Any]) -> pd.DataFrame:
    """Lessee cost components, present value [CNY], electric lease beside the diesel option."""
    electric, diesel = report["lessee"]["electric"], report["lessee"]["diesel"]
    names = list(dict.fromkeys([*electric["components_pv"], *diesel["components_pv"]]))
    frame = pd.DataFrame(
        {
            electric["name"]: [_num(electric["components_pv"].get(n)) for n in names],
            diesel["name"]: [_num(diesel["components_pv"].get(n)) for n in names],
        },
        index=names,
    )
    frame.loc["total (PV)"] = [_num(electric["pv_cost"]), _num(diesel["pv_cost"])]
    frame.loc["per month"] = [_num(electric["cost_per_month"]), _num(diesel["cost_per_month"])]
    return frame


# ------------------------------------------------------------------------------------ overview: later figures


@dataclass(frozen=True)
class PlannedCharging:
    """Current charging plans of a depot over a date range: nights, cost [CNY], energy [kWh], peak [kW]."""

    depot: str
    nights: int
    cost_cny: float
    kwh: float
    peak_kw: float


def planned_charging(
    url: str, lessee_code: str | None, first: dt.date, last: dt.date
) -> list[PlannedCharging]:
    """Sum of the current charging plans per depot for service dates in [first, last] (Overview)."""
    from fleet.models import ChargingPlan, PlanStatus

    with session_scope(get_engine(url)) as session:
        scope = _scope(session, lessee_code)
        depots = {d.id: d.code for d in list_rows(session, scope, Depot)}
        acc: dict[str, list[float]] = {}
        for plan in list_rows(
            session,
            scope,
            ChargingPlan,
            ChargingPlan.status == PlanStatus.CURRENT,
            ChargingPlan.service_date >= first,
            ChargingPlan.service_date <= last,
        ):
            a = acc.setdefault(depots.get(plan.depot_id, str(plan.depot_id)), [0, 0.0, 0.0, 0.0])
            a[0] += 1
            a[1] += plan.total_cost_fen / 100
            a[2] += plan.total_kwh or 0.0
            a[3] = max(a[3], plan.peak_kw or 0.0)
    return [PlannedCharging(k, int(v[0]), v[1], v[2], v[3]) for k, v in sorted(acc.items())]
