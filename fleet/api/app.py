"""The REST API for lessees' and the lessor's systems (FastAPI): orders in, plans out, metered trips and
charging sessions in, emissions figures out, job status.

- Credentials: an API key per lessee (or the lessor's, which sees every lessee) in `X-API-Key` or
  `Authorization: Bearer`; keys are stored hashed (`fleet.api.keys`).
- Tenant isolation: every read and write goes through `fleet.scope`. A row outside the key's scope answers
  404, exactly like a row that does not exist, so a lessee cannot probe which ids other lessees have (no 403).
- Writes take the file importer's path (`fleet.importers.import_file`): the same validation and the same
  all-or-nothing rule, errors naming the row (index in `rows`) and the field.
- Idempotency: a write with an `Idempotency-Key` header is done once; a retry with the same key and body gets
  the stored answer (header `Idempotent-Replayed: true`), the same key with another body is refused (422).
- Pagination: `limit` (1..500) and `cursor` (the `next_cursor` of the previous page: ids ascending).
- Request size: bodies above 2 MiB are refused with 413 (`fleet.api.limits`).
- One database session per request (the `session` dependency), committed when the handler succeeds.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from fleet.api import schemas as S
from fleet.api.keys import scope_of_key
from fleet.api.limits import BodySizeLimit
from fleet.importers import ImportFailed, import_file
from fleet.models import (
    ChargingPlan,
    ChargingSlot,
    IdempotencyRecord,
    JobRun,
    Lessee,
    Lessor,
    Order,
    PlanStatus,
    RoutePlan,
    RouteStop,
    Vehicle,
)
from fleet.scope import Scope, ScopeError, get_row, list_rows, select_rows

API_VERSION = "1.0.0"
MAX_PAGE = 500

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="an evfleet API key (evk_...)")
_bearer = HTTPBearer(auto_error=False, description="the same key as a bearer token")


def _session(request: Request) -> Iterator[Session]:
    """One session per request: committed by the handlers that write, rolled back on any error."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(_session)]


class Caller(BaseModel):
    key_id: int
    lessor_id: int
    lessee_id: int | None

    @property
    def scope(self) -> Scope:
        return Scope(self.lessor_id, self.lessee_id)


def _caller(
    session: SessionDep,
    api_key: Annotated[str | None, Depends(_api_key)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    secret = api_key or (bearer.credentials if bearer else None)
    if not secret:
        raise HTTPException(401, "an API key is required (X-API-Key or Authorization: Bearer)")
    try:
        row, scope = scope_of_key(session, secret)
    except ScopeError as exc:
        raise HTTPException(401, str(exc)) from None
    return Caller(key_id=row.id, lessor_id=scope.lessor_id, lessee_id=scope.lessee_id)  # type: ignore[arg-type]


CallerDep = Annotated[Caller, Depends(_caller)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page size")]
Cursor = Annotated[int | None, Query(ge=0, le=2**31 - 1, description="next_cursor of the previous page")]
IdemKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=120, description="makes a retried write happen once"),
]

NOT_FOUND = {404: {"model": S.ErrorOut, "description": "not found in the key's scope (or not at all)"}}
WRITE_ERRORS = {
    422: {"model": S.ErrorOut, "description": "invalid rows: nothing was written"},
    409: {"model": S.ErrorOut, "description": "a simultaneous request with the same Idempotency-Key"},
    413: {"model": S.ErrorOut, "description": "request body too large"},
}


def _page(rows: list[Any], limit: int, convert: Any) -> dict[str, Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [convert(r) for r in rows], "next_cursor": rows[-1].id if more else None}


def _paged(
    session: Session, scope: Scope, model: Any, limit: int, cursor: int | None, *where: Any
) -> list[Any]:
    query = select_rows(scope, model, *where)
    if cursor is not None:
        query = query.where(model.id > cursor)
    return list(session.exec(query.order_by(model.id).limit(limit + 1)).all())


def _get(session: Session, scope: Scope, model: Any, row_id: int) -> Any:
    try:
        return get_row(session, scope, model, row_id)
    except ScopeError:
        raise HTTPException(404, f"{model.__name__.lower()} {row_id} not found") from None


# ----------------------------------------------------------------------------------------- writes (imports)


def _rows_to_csv(rows: list[BaseModel]) -> str:
    """The rows as the CSV the file importer reads (cells as text; None as empty)."""
    data = [r.model_dump() for r in rows]
    header = list(dict.fromkeys(k for d in data for k in d))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for d in data:
        writer.writerow(
            [
                "" if d.get(k) is None else str(d[k]).lower() if isinstance(d[k], bool) else d[k]
                for k in header
            ]
        )
    return out.getvalue()


def _import(
    session: Session, caller: Caller, kind: str, rows: list[BaseModel], lessee_code: str | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="evfleet-api-") as tmp:
        path = Path(tmp) / f"api-{kind}.csv"
        path.write_text(_rows_to_csv(rows), encoding="utf-8")
        try:
            result = import_file(session, caller.scope, kind, path, lessee_code=lessee_code)
        except ImportFailed as exc:
            session.rollback()
            errors = [
                S.FieldError(
                    row=e.row - 2 if e.row >= 2 else None, field=e.column, value=e.value, reason=e.reason
                )
                for e in exc.errors
            ]
            raise _Unprocessable(f"{len(errors)} error(s); nothing was written", errors) from None
    return S.ImportOut(
        kind=result.kind,
        rows=result.rows,
        inserted=result.inserted,
        skipped_duplicates=result.skipped_duplicates,
        batch_id=result.batch_id,
        duplicate_of_batch=result.duplicate_of_batch,
    ).model_dump()


class _Unprocessable(Exception):
    def __init__(self, detail: str, errors: list[S.FieldError]):
        self.detail, self.errors = detail, errors


def _write(
    session: Session, caller: Caller, request_body: BaseModel, path: str, idem: str | None, action: Any
) -> JSONResponse:
    """Run `action` once per Idempotency-Key (stored in the same transaction as the write)."""
    digest = hashlib.sha256(
        (path + json.dumps(request_body.model_dump(mode="json"), sort_keys=True)).encode()
    ).hexdigest()
    if idem:
        done = session.exec(
            select(IdempotencyRecord).where(
                IdempotencyRecord.api_key_id == caller.key_id, IdempotencyRecord.key == idem
            )
        ).first()
        if done is not None:
            if done.request_sha256 != digest:
                raise _Unprocessable("Idempotency-Key already used for a different request", [])
            return JSONResponse(done.response, done.status_code, headers={"Idempotent-Replayed": "true"})
    body = action()
    status = 201 if body.get("inserted") else 200
    if idem:
        session.add(
            IdempotencyRecord(
                api_key_id=caller.key_id, key=idem, request_sha256=digest, status_code=status, response=body
            )
        )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(
            409, "a simultaneous request with the same Idempotency-Key is in progress; retry"
        ) from None
    return JSONResponse(body, status)


# ------------------------------------------------------------------------------------------------- the app


def create_app(engine: Engine, *, max_body_bytes: int | None = None) -> FastAPI:
    app = FastAPI(
        title="evfleet API",
        version=API_VERSION,
        description=__doc__,
        openapi_tags=[
            {"name": "orders"},
            {"name": "plans"},
            {"name": "metered"},
            {"name": "emissions"},
            {"name": "jobs"},
        ],
    )
    app.state.engine = engine

    @app.exception_handler(_Unprocessable)
    async def _unprocessable(_: Request, exc: _Unprocessable) -> JSONResponse:
        return JSONResponse({"detail": exc.detail, "errors": [e.model_dump() for e in exc.errors]}, 422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            loc = [str(x) for x in e.get("loc", ())]
            row = int(loc[2]) if len(loc) > 2 and loc[:2] == ["body", "rows"] and loc[2].isdigit() else None
            field = ".".join(loc[3:] if row is not None else loc[1:]) or ".".join(loc)
            errors.append(
                {
                    "row": row,
                    "field": field,
                    "value": str(e.get("input", ""))[:200],
                    "reason": e.get("msg", ""),
                }
            )
        return JSONResponse(
            {"detail": f"{len(errors)} error(s) in the request; nothing was written", "errors": errors}, 422
        )

    # ---- orders

    @app.post(
        "/v1/orders", tags=["orders"], status_code=201, response_model=S.ImportOut, responses=WRITE_ERRORS
    )
    def post_orders(
        body: S.OrdersIn, session: SessionDep, caller: CallerDep, idem: IdemKey = None
    ) -> JSONResponse:
        """Import orders, all or nothing, with the file import's rules (`evfleet import orders`)."""
        return _write(
            session,
            caller,
            body,
            "/v1/orders",
            idem,
            lambda: _import(session, caller, "orders", body.rows, body.lessee_code),
        )

    @app.get("/v1/orders", tags=["orders"], response_model=S.Page[S.OrderOut])
    def list_orders(
        session: SessionDep,
        caller: CallerDep,
        service_date: str | None = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$"),
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        where = []
        if service_date:
            import datetime as dt

            try:
                where.append(Order.service_date == dt.date.fromisoformat(service_date))
            except ValueError:
                raise _Unprocessable(
                    "bad service_date",
                    [S.FieldError(row=None, field="service_date", value=service_date, reason="not a date")],
                ) from None
        rows = _paged(session, caller.scope, Order, limit, cursor, *where)
        return _page(rows, limit, _order_out)

    @app.get("/v1/orders/{order_id}", tags=["orders"], response_model=S.OrderOut, responses=NOT_FOUND)
    def get_order(order_id: Annotated[int, _id()], session: SessionDep, caller: CallerDep) -> S.OrderOut:
        return _order_out(_get(session, caller.scope, Order, order_id))

    # ---- plans

    @app.get("/v1/plans", tags=["plans"], response_model=S.Page[S.PlanRef])
    def list_plans(
        session: SessionDep,
        caller: CallerDep,
        kind: str = Query("route", pattern="^(route|charging)$"),
        current_only: bool = True,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """Route or charging plans in the key's scope (current versions by default)."""
        model = RoutePlan if kind == "route" else ChargingPlan
        where = [model.status == PlanStatus.CURRENT] if current_only else []
        rows = _paged(session, caller.scope, model, limit, cursor, *where)
        return _page(
            rows,
            limit,
            lambda p: S.PlanRef(
                id=p.id,
                kind=kind,
                depot_id=p.depot_id,
                service_date=p.service_date,
                version=p.version,
                status=p.status.value,
            ),
        )

    @app.get("/v1/plans/routes/{plan_id}", tags=["plans"], response_model=S.RoutePlanOut, responses=NOT_FOUND)
    def get_route_plan(
        plan_id: Annotated[int, _id()], session: SessionDep, caller: CallerDep
    ) -> S.RoutePlanOut:
        """A route plan with one route sheet per truck (stops in visiting order)."""
        plan = _get(session, caller.scope, RoutePlan, plan_id)
        stops = list_rows(
            session, caller.scope, RouteStop, RouteStop.plan_id == plan.id, order_by=RouteStop.sequence
        )
        plates = {v.id: v.plate for v in list_rows(session, caller.scope, Vehicle)}
        orders = {
            o.id: o
            for o in list_rows(
                session, caller.scope, Order, Order.id.in_({s.order_id for s in stops if s.order_id})
            )
        }  # type: ignore[attr-defined]
        sheets: dict[int, list[RouteStop]] = {}
        for s in stops:
            sheets.setdefault(s.vehicle_id, []).append(s)
        return S.RoutePlanOut(
            id=plan.id,
            depot_id=plan.depot_id,
            service_date=plan.service_date,
            version=plan.version,
            status=plan.status.value,
            vehicles_used=plan.vehicles_used,
            total_km=plan.total_km,
            total_kwh=plan.total_kwh,
            unserved=plan.unserved,
            routes=[
                S.RouteSheet(
                    vehicle_id=vid,
                    plate=plates.get(vid, ""),
                    km=round(sum(s.km_from_previous for s in route), 3),
                    stops=[
                        S.StopOut(
                            sequence=s.sequence,
                            kind=s.kind,
                            order_id=s.order_id,
                            external_ref=orders[s.order_id].external_ref if s.order_id in orders else None,
                            customer_name=orders[s.order_id].customer_name if s.order_id in orders else None,
                            customer_phone=orders[s.order_id].customer_phone
                            if s.order_id in orders
                            else None,
                            notes=orders[s.order_id].notes if s.order_id in orders else None,
                            station_ref=s.station_ref,
                            latitude=s.latitude,
                            longitude=s.longitude,
                            arrival=s.arrival,
                            departure=s.departure,
                            load_kg=s.load_kg,
                            soc_arrival_kwh=s.soc_arrival_kwh,
                            charged_kwh=s.charged_kwh,
                            km_from_previous=s.km_from_previous,
                        )
                        for s in route
                    ],
                )
                for vid, route in sorted(sheets.items())
            ],
        )

    @app.get(
        "/v1/plans/charging/{plan_id}", tags=["plans"], response_model=S.ChargingPlanOut, responses=NOT_FOUND
    )
    def get_charging_plan(
        plan_id: Annotated[int, _id()], session: SessionDep, caller: CallerDep
    ) -> S.ChargingPlanOut:
        """A night's charging plan: kW per truck, connector and slot."""
        plan = _get(session, caller.scope, ChargingPlan, plan_id)
        slots = list_rows(
            session, caller.scope, ChargingSlot, ChargingSlot.plan_id == plan.id, order_by=ChargingSlot.id
        )
        return S.ChargingPlanOut(
            id=plan.id,
            depot_id=plan.depot_id,
            service_date=plan.service_date,
            version=plan.version,
            status=plan.status.value,
            slot_minutes=plan.slot_minutes,
            total_kwh=plan.total_kwh,
            peak_kw=plan.peak_kw,
            total_cost_fen=plan.total_cost_fen,
            unmet=plan.unmet,
            slots=[
                S.SlotOut(
                    vehicle_id=s.vehicle_id,
                    connector_id=s.connector_id,
                    slot_start=s.slot_start,
                    power_kw=s.power_kw,
                )
                for s in slots
            ],
        )

    # ---- metered records in

    @app.post(
        "/v1/trips", tags=["metered"], status_code=201, response_model=S.ImportOut, responses=WRITE_ERRORS
    )
    def post_trips(
        body: S.TripsIn, session: SessionDep, caller: CallerDep, idem: IdemKey = None
    ) -> JSONResponse:
        """Metered vehicle-days (km, kWh), as `evfleet import trips`."""
        return _write(
            session,
            caller,
            body,
            "/v1/trips",
            idem,
            lambda: _import(session, caller, "trips", body.rows, None),
        )

    @app.post(
        "/v1/charging-sessions",
        tags=["metered"],
        status_code=201,
        response_model=S.ImportOut,
        responses=WRITE_ERRORS,
    )
    def post_sessions(
        body: S.ChargingSessionsIn, session: SessionDep, caller: CallerDep, idem: IdemKey = None
    ) -> JSONResponse:
        """Metered charging sessions, as `evfleet import charging`."""
        return _write(
            session,
            caller,
            body,
            "/v1/charging-sessions",
            idem,
            lambda: _import(session, caller, "charging", body.rows, None),
        )

    # ---- emissions out

    @app.get("/v1/emissions", tags=["emissions"], response_model=S.EmissionsOut, responses=NOT_FOUND)
    def get_emissions(
        session: SessionDep,
        caller: CallerDep,
        period: str = Query(
            ..., pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$", description="2026, 2026-11 or 2026-11-05"
        ),
        profile: str = Query("tcsae-235", max_length=40),
        lessee_code: str | None = Query(
            None, max_length=40, description="lessor keys: the lessee to report on"
        ),
    ) -> S.EmissionsOut:
        """Ex-post (metered) and ex-ante (planned) figures of the key's party for a period [t CO2e, km, kWh]."""
        from fleet.emissions.calc import parse_period, total
        from fleet.emissions.profiles import get_profile
        from fleet.emissions.service import report_from_db
        from fleet.factors import FactorError
        from fleet.telematics.reconcile import reconcile

        try:
            chosen_period, chosen = parse_period(period), get_profile(profile)
        except ValueError as exc:
            raise _Unprocessable(
                str(exc),
                [
                    S.FieldError(
                        row=None, field="period/profile", value=f"{period}/{profile}", reason=str(exc)
                    )
                ],
            ) from None
        scope = caller.scope
        if scope.is_lessor and lessee_code:
            lessee = session.exec(
                select(Lessee).where(Lessee.code == lessee_code, Lessee.lessor_id == scope.lessor_id)
            ).first()
            if lessee is None:
                raise HTTPException(404, f"lessee {lessee_code} not found")
            scope = Scope(scope.lessor_id, lessee.id)
        elif lessee_code and not scope.is_lessor:
            own = session.get(Lessee, scope.lessee_id)
            if own is None or own.code != lessee_code:
                raise HTTPException(404, f"lessee {lessee_code} not found")
        party = (
            session.get(Lessee, scope.lessee_id).code
            if scope.lessee_id
            else session.get(Lessor, scope.lessor_id).code
        )  # type: ignore[union-attr]
        try:
            report = report_from_db(session, scope, party, chosen_period, chosen).report
        except FactorError as exc:  # no factor for that year: the request's period, not the server, is wrong
            raise _Unprocessable(
                str(exc), [S.FieldError(row=None, field="period", value=period, reason=str(exc))]
            ) from None
        return S.EmissionsOut(
            party=party,
            period=chosen_period.label,
            profile=chosen.profile_id,
            ex_post=total(report.ex_post).as_dict(),
            ex_ante=total(report.ex_ante).as_dict(),
            rows_checked=report.rows_checked,
            rows_excluded=report.rows_excluded,
            flags=[f.as_dict() for f in report.flags][:1000],
            telematics_grades=dict(Counter(r.grade for r in reconcile(session, scope, chosen_period))),
            basis="evfleet emissions report (docs/emissions.md); t CO2e, metered vehicle-days after data-quality screening",
        )

    # ---- jobs

    @app.get("/v1/jobs", tags=["jobs"], response_model=S.Page[S.JobOut])
    def list_jobs(
        session: SessionDep, caller: CallerDep, limit: Limit = 100, cursor: Cursor = None
    ) -> dict[str, Any]:
        """Nightly planning runs, one per depot-day, in the key's scope."""
        return _page(_paged(session, caller.scope, JobRun, limit, cursor), limit, _job_out)

    @app.get("/v1/jobs/{job_id}", tags=["jobs"], response_model=S.JobOut, responses=NOT_FOUND)
    def get_job(job_id: Annotated[int, _id()], session: SessionDep, caller: CallerDep) -> S.JobOut:
        return _job_out(_get(session, caller.scope, JobRun, job_id))

    app.add_middleware(BodySizeLimit, **({"max_bytes": max_body_bytes} if max_body_bytes else {}))
    return app


def _id() -> Any:
    from fastapi import Path as PathParam

    return PathParam(ge=1, le=2**31 - 1)


def _order_out(o: Order) -> S.OrderOut:
    return S.OrderOut(
        id=o.id,  # type: ignore[arg-type]
        external_ref=o.external_ref,
        depot_id=o.depot_id,
        service_date=o.service_date,
        address=o.address,
        latitude=o.latitude,
        longitude=o.longitude,
        demand_kg=o.demand_kg,
        window_start=o.window_start,
        window_end=o.window_end,
        service_minutes=o.service_minutes,
        required_kind=o.required_kind.value if o.required_kind else None,
        priority=o.priority,
        customer_name=o.customer_name,
        customer_phone=o.customer_phone,
        notes=o.notes,
    )


def _job_out(j: JobRun) -> S.JobOut:
    return S.JobOut(
        id=j.id,  # type: ignore[arg-type]
        run_key=j.run_key,
        depot_id=j.depot_id,
        service_date=j.service_date,
        status=j.status.value,
        attempt=j.attempt,
        queued_at=j.queued_at,
        started_at=j.started_at,
        finished_at=j.finished_at,
        error=j.error,
    )
