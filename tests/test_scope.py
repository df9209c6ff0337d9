"""Tenant isolation: a lessee scope sees and changes only its own rows, in every table that has an owner."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.db import session_scope
from fleet.models import (
    LOCAL_TZ,
    OWNED_TABLES,
    AuditEvent,
    ChargingAlert,
    ChargingPlan,
    ChargingSession,
    ChargingSlot,
    Connector,
    ConnectorLiveState,
    Depot,
    FinanceScenario,
    JobRun,
    Lessee,
    Order,
    RoutePlan,
    RouteStop,
    SiteMeterReading,
    Tariff,
    Vehicle,
    VehicleModel,
)
from fleet.reports import fleet_summary
from fleet.scope import (
    Scope,
    ScopeError,
    add_rows,
    delete_row,
    get_row,
    list_rows,
    scope_for,
    select_rows,
    update_row,
)

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=LOCAL_TZ)


def _fill_plans_and_jobs(engine: Engine) -> None:
    """Give every lessee a row in each owned table the demo leaves empty."""
    with session_scope(engine) as s:
        lessor = scope_for(s)
        for depot in s.exec(select(Depot)).all():
            vehicle = s.exec(select(Vehicle).where(Vehicle.depot_id == depot.id)).first()
            connector = s.exec(select(Connector).where(Connector.depot_id == depot.id)).first()
            own = {"lessor_id": depot.lessor_id, "lessee_id": depot.lessee_id}
            job = JobRun(**own, run_key=f"r-{depot.code}", depot_id=depot.id, service_date=T0.date())
            rp = RoutePlan(**own, depot_id=depot.id, service_date=T0.date(), version=1)
            cp = ChargingPlan(**own, depot_id=depot.id, service_date=T0.date(), version=1)
            add_rows(s, lessor, [job, rp, cp])
            s.flush()
            add_rows(
                s,
                lessor,
                [
                    RouteStop(
                        **own,
                        plan_id=rp.id,
                        vehicle_id=vehicle.id,
                        sequence=0,
                        kind="depot",
                        latitude=depot.latitude,
                        longitude=depot.longitude,
                    ),
                    ChargingSlot(
                        **own,
                        plan_id=cp.id,
                        vehicle_id=vehicle.id,
                        connector_id=connector.id,
                        slot_start=T0,
                        power_kw=50.0,
                    ),
                    ChargingSession(
                        **own,
                        vehicle_id=vehicle.id,
                        depot_id=depot.id,
                        started_at=T0,
                        ended_at=T0 + dt.timedelta(hours=1),
                        kwh=40.0,
                    ),
                    FinanceScenario(**own, name=f"base {depot.code}", payload={"rent": 1}),
                    SiteMeterReading(**own, depot_id=depot.id, interval_start=T0, kw=120.0),
                    AuditEvent(**own, actor="test", entity="depot", entity_key=depot.code, action="update"),
                    ChargingAlert(
                        **own,
                        depot_id=depot.id,
                        connector_id=connector.id,
                        vehicle_id=vehicle.id,
                        service_date=T0.date(),
                        kind="behind_plan",
                        raised_at=T0,
                    ),
                    ConnectorLiveState(
                        **own, depot_id=depot.id, connector_id=connector.id, charger_id=connector.code
                    ),
                ],
            )


@pytest.fixture
def full(demo_copy: Engine) -> Engine:
    _fill_plans_and_jobs(demo_copy)
    return demo_copy


def _scopes(engine: Engine) -> dict[str, Scope]:
    with Session(engine) as s:
        return {le.code: scope_for(s, lessee_code=le.code) for le in s.exec(select(Lessee)).all()}


@pytest.mark.parametrize("model", OWNED_TABLES, ids=lambda m: m.__name__)
def test_lessee_sees_only_its_rows(full: Engine, model: type) -> None:
    scopes = _scopes(full)
    with Session(full) as s:
        everything = s.exec(select(model)).all()
        owners = {r.lessee_id for r in everything}
        assert len(owners) >= 2, f"test data must give {model.__name__} rows to several lessees"
        lessor_rows = list_rows(s, scope_for(s), model)
        assert len(lessor_rows) == len(everything)
        for code, scope in scopes.items():
            mine = list_rows(s, scope, model)
            expected = [r for r in everything if r.lessee_id == scope.lessee_id]
            assert sorted(r.id for r in mine) == sorted(r.id for r in expected), (model.__name__, code)
            others = [r for r in everything if r.lessee_id != scope.lessee_id]
            for other in others[:3]:
                with pytest.raises(ScopeError, match="not found in the scope"):
                    get_row(s, scope, model, other.id)


def test_lessee_cannot_change_or_delete_another_lessees_rows(full: Engine) -> None:
    scopes = _scopes(full)
    fresh = scopes["FRESH"]
    with Session(full) as s:
        other_order = s.exec(select(Order).where(Order.lessee_id != fresh.lessee_id)).first()
        own_order = s.exec(select(Order).where(Order.lessee_id == fresh.lessee_id)).first()
        other_vehicle = s.exec(select(Vehicle).where(Vehicle.lessee_id != fresh.lessee_id)).first()
        other_id, other_demand, vehicle_id = other_order.id, other_order.demand_kg, other_vehicle.id
        with pytest.raises(ScopeError):
            update_row(s, fresh, Order, other_order.id, demand_kg=1.0)
        with pytest.raises(ScopeError):
            delete_row(s, fresh, Vehicle, other_vehicle.id)
        with pytest.raises(ScopeError, match=r"may not change Order\.lessee_id"):
            update_row(s, fresh, Order, own_order.id, lessee_id=other_order.lessee_id)
        stolen = Order(
            **{
                **own_order.model_dump(exclude={"id"}),
                "lessee_id": other_order.lessee_id,
                "external_ref": "steal",
            }
        )
        with pytest.raises(ScopeError, match="belongs to lessee"):
            add_rows(s, fresh, [stolen])
        with pytest.raises(ScopeError, match="shared reference data"):
            add_rows(s, fresh, [Tariff(code="x", name="x", reference_id="x", base_price_cny_per_kwh=1)])
        with pytest.raises(ScopeError, match="may not write lessee"):
            add_rows(s, fresh, [s.get(Lessee, other_order.lessee_id)])
        s.rollback()
    with Session(full) as s:  # nothing changed
        assert s.get(Order, other_id).demand_kg == other_demand
        assert s.get(Vehicle, vehicle_id) is not None


def test_lessee_sees_itself_and_shared_reference_data(full: Engine) -> None:
    scopes = _scopes(full)
    with Session(full) as s:
        for code, scope in scopes.items():
            assert [le.code for le in list_rows(s, scope, Lessee)] == [code]
            assert len(list_rows(s, scope, VehicleModel)) == len(s.exec(select(VehicleModel)).all())
        assert len(list_rows(s, scope_for(s), Lessee)) == 3


def test_figures_are_scoped(full: Engine) -> None:
    scopes = _scopes(full)
    with Session(full) as s:
        all_rows = fleet_summary(s, scope_for(s), dt.date(2026, 11, 25))
        for code, scope in scopes.items():
            rows = fleet_summary(s, scope, dt.date(2026, 11, 25))
            assert rows and {r.lessee for r in rows} == {code}
            assert sum(r.electric_trucks for r in rows) == sum(
                r.electric_trucks for r in all_rows if r.lessee == code
            )


def test_select_rows_composes_with_filters(full: Engine) -> None:
    scope = _scopes(full)["PCX"]
    with Session(full) as s:
        q = select_rows(scope, Order, Order.service_date == dt.date(2026, 11, 26))
        rows = s.exec(q).all()
        assert rows and all(
            r.lessee_id == scope.lessee_id and r.service_date == dt.date(2026, 11, 26) for r in rows
        )


def test_unknown_lessee_code(full: Engine) -> None:
    with Session(full) as s, pytest.raises(ScopeError, match="unknown lessee code"):
        scope_for(s, lessee_code="NOPE")
