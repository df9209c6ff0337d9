"""Everything one depot-day needs, read from the database into plain dataclasses (no ORM objects escape).

The pipeline's solvers then work on these values only, so a depot-day can be shipped to a worker process,
re-run from a JSON dump, and tested without a database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from sqlmodel import Session, func, select

from charging.billing import BillingError, BillingRules, DemandBasis, TariffStructure
from fleet.models import (
    LOCAL_TZ,
    ChargingPlan,
    ChargingSession,
    Connector,
    Depot,
    Lessee,
    LesseeKind,
    Order,
    PlanStatus,
    PowerGroup,
    RoutePlan,
    RouteStop,
    SiteMeterReading,
    Tariff,
    Vehicle,
    VehicleDay,
    VehicleKind,
    VehicleModel,
    VehicleStatus,
)
from fleet.planning.realism import DepotRouting, depot_routing, load_zones
from fleet.scope import Scope, get_row, list_rows, select_rows


@dataclass(frozen=True)
class OrderIn:
    id: int
    ref: str
    lat: float
    lon: float
    demand_kg: float
    window_start: dt.datetime
    window_end: dt.datetime
    service_minutes: float
    required_kind: str | None
    priority: int


@dataclass(frozen=True)
class VehicleIn:
    """A truck available tomorrow, with its model's planning values and tonight's expected state."""

    id: int
    plate: str
    model_code: str
    kind: str  # "bev" | "diesel"
    payload_kg: float
    battery_kwh: float | None
    usable_fraction: float | None
    consumption_empty: float | None
    consumption_full: float | None
    max_charge_kw: float | None
    diesel_l_per_100km: float | None
    # Tonight: when it is expected back and with how much energy [kWh] (None = not known: use defaults).
    return_at: dt.datetime | None = None
    energy_on_return_kwh: float | None = None


@dataclass(frozen=True)
class ConnectorIn:
    id: int
    code: str
    max_kw: float
    efficiency: float
    v2g: bool
    group: str | None


@dataclass(frozen=True)
class DepotDayInputs:
    lessor_id: int
    lessee_id: int | None
    lessee_kind: str
    depot_id: int
    depot_code: str
    lat: float
    lon: float
    grid_import_limit_kw: float
    service_date: dt.date
    orders: tuple[OrderIn, ...]
    vehicles: tuple[VehicleIn, ...]
    connectors: tuple[ConnectorIn, ...]
    groups: tuple[tuple[str, float], ...]
    tariff_reference_id: str
    tariff_base_price: float
    demand_charge_per_kw_month: float
    month_peak_kw_so_far: float  # [kW] the site's peak so far in the night's billing month
    billing: BillingRules  # how the depot is billed beyond energy (charging.billing)
    max_power_changes: int | None = None  # per truck and night; None: no limit
    min_charge_kw: float | None = None  # [kW] while a truck charges; None: no minimum
    # [kW] the site without chargers, 24 or 96 values by local time of day
    base_load_kw: tuple[float, ...] = ()
    # [CNY/kWh] government funds and surcharges on every kWh bought, unscaled (the depot's; tariffs.md step 4)
    funds_cny_per_kwh: float = 0.0
    # when not every truck can be charged: "max_ready" (most trucks ready first) or "min_largest_share"
    shortfall_policy: str = "max_ready"
    # Metered charging sessions at the depot during the night (plate, start, end, grid kWh): the "observed"
    # baseline, what the depot really did, when they have been imported.
    observed_sessions: tuple[tuple[str, dt.datetime, dt.datetime, float], ...] = ()
    # Speed profile, driver breaks, trips and the lessor's access zones (fleet.planning.realism, docs/realism.md).
    routing: DepotRouting = field(default_factory=DepotRouting)


def _available(vehicle: Vehicle) -> bool:
    return vehicle.status in (VehicleStatus.LEASED, VehicleStatus.OWNED_BY_LESSEE, VehicleStatus.AVAILABLE)


def load_depot_day(session: Session, scope: Scope, depot_id: int, service_date: dt.date) -> DepotDayInputs:
    """Read orders, fleet, chargers, tariff and tonight's returns for `depot_id` on `service_date`."""
    depot = get_row(session, scope, Depot, depot_id)
    lessee = session.get(Lessee, depot.lessee_id) if depot.lessee_id else None
    tariff = session.get(Tariff, depot.tariff_id) if depot.tariff_id else None
    if tariff is None:
        raise ValueError(f"depot {depot.code} has no tariff: set depot.tariff_id")
    orders = list_rows(
        session,
        scope,
        Order,
        Order.depot_id == depot.id,
        Order.service_date == service_date,
        order_by=Order.external_ref,
    )
    models = {m.id: m for m in session.exec(select(VehicleModel)).all()}
    fleet = [
        v
        for v in list_rows(session, scope, Vehicle, Vehicle.depot_id == depot.id, order_by=Vehicle.plate)
        if _available(v)
    ]
    returns = _tonights_returns(session, scope, depot.id, service_date - dt.timedelta(days=1))
    metered = _last_metered_kwh(session, scope, [v.id for v in fleet], service_date)
    vehicles = []
    for v in fleet:
        m = models[v.model_id]
        ret_at, ret_kwh = returns.get(v.id, (None, None))
        if ret_kwh is None and m.kind == VehicleKind.BEV and v.id in metered and m.battery_kwh:
            # No plan for today: assume the truck left full and used what it used on its last metered day.
            ret_kwh = max(0.0, m.battery_kwh - metered[v.id])
        vehicles.append(
            VehicleIn(
                id=v.id,
                plate=v.plate,
                model_code=m.code,
                kind=m.kind.value,
                payload_kg=m.payload_kg,
                battery_kwh=m.battery_kwh,
                usable_fraction=m.usable_fraction,
                consumption_empty=m.consumption_kwh_per_km_empty,
                consumption_full=m.consumption_kwh_per_km_full,
                max_charge_kw=m.max_charge_kw,
                diesel_l_per_100km=m.diesel_l_per_100km,
                return_at=ret_at,
                energy_on_return_kwh=ret_kwh,
            )
        )
    groups = {g.id: g for g in list_rows(session, scope, PowerGroup, PowerGroup.depot_id == depot.id)}
    connectors = tuple(
        ConnectorIn(
            c.id,
            c.code,
            c.max_kw,
            c.efficiency,
            c.v2g,
            groups[c.power_group_id].code if c.power_group_id in groups else None,
        )
        for c in list_rows(session, scope, Connector, Connector.depot_id == depot.id, order_by=Connector.code)
    )
    return DepotDayInputs(
        lessor_id=depot.lessor_id,
        lessee_id=depot.lessee_id,
        lessee_kind=(lessee.kind.value if lessee else LesseeKind.OTHER.value),
        depot_id=depot.id,
        depot_code=depot.code,
        lat=depot.latitude,
        lon=depot.longitude,
        grid_import_limit_kw=depot.grid_import_limit_kw,
        service_date=service_date,
        orders=tuple(
            OrderIn(
                id=o.id,
                ref=o.external_ref,
                lat=o.latitude,
                lon=o.longitude,
                demand_kg=o.demand_kg,
                window_start=o.window_start,
                window_end=o.window_end,
                service_minutes=o.service_minutes,
                required_kind=o.required_kind.value if o.required_kind else None,
                priority=o.priority,
            )
            for o in orders
        ),
        vehicles=tuple(vehicles),
        connectors=connectors,
        groups=tuple((g.code, g.max_kw) for g in sorted(groups.values(), key=lambda g: g.code)),
        tariff_reference_id=tariff.reference_id,
        tariff_base_price=float(tariff.base_price_cny_per_kwh),
        demand_charge_per_kw_month=float(tariff.demand_charge_cny_per_kw_month or 0),
        month_peak_kw_so_far=_month_peak(session, scope, depot.id, service_date),
        billing=billing_rules(depot, tariff),
        max_power_changes=depot.charging_max_power_changes,
        min_charge_kw=depot.charging_min_kw,
        base_load_kw=tuple(float(x) for x in (depot.base_load_kw or ())),
        funds_cny_per_kwh=float(depot.funds_cny_per_kwh or 0),
        shortfall_policy=depot.charging_shortfall_policy or "max_ready",
        observed_sessions=night_sessions(
            session, scope, depot.id, service_date, {v.id: v.plate for v in fleet}
        ),
        routing=replace(
            depot_routing(depot),
            zones=load_zones(session, depot.lessor_id),
        ),
    )


def night_sessions(
    session: Session, scope: Scope, depot_id: int, service_date: dt.date, plates: dict[int, str]
) -> tuple[tuple[str, dt.datetime, dt.datetime, float], ...]:
    """Charging sessions at the depot that started between noon before the night and noon of the service date."""
    noon = local_midnight(service_date) + dt.timedelta(hours=12)
    rows = list_rows(
        session,
        scope,
        ChargingSession,
        ChargingSession.depot_id == depot_id,
        ChargingSession.started_at >= noon - dt.timedelta(days=1),
        ChargingSession.started_at < noon,
        order_by=ChargingSession.started_at,
    )
    return tuple(
        (plates[r.vehicle_id], r.started_at, r.ended_at, float(r.kwh))
        for r in rows
        if r.vehicle_id in plates and r.started_at is not None and r.ended_at is not None
    )


def billing_rules(depot: Depot, tariff: Tariff) -> BillingRules:
    """How `depot` is billed beyond energy: its structure, basis, contract and exemption; the tariff's rate."""
    try:
        return BillingRules(
            structure=TariffStructure(depot.tariff_structure),
            basis=DemandBasis(depot.demand_basis),
            demand_rate_cny_per_kw_month=float(tariff.demand_charge_cny_per_kw_month or 0),
            capacity_rate_cny_per_kva_month=float(depot.capacity_rate_cny_per_kva_month or 0),
            transformer_kva=float(depot.transformer_kva or 0),
            contracted_demand_kw=depot.contracted_demand_kw,
            centralised_charging_facility=bool(depot.centralised_charging_facility),
            charging_metered_separately=bool(depot.charging_metered_separately),
        )
    except (BillingError, ValueError) as exc:
        raise ValueError(f"depot {depot.code}: {exc}") from exc


def _tonights_returns(
    session: Session,
    scope: Scope,
    depot_id: int,
    today: dt.date,
) -> dict[int, tuple[dt.datetime | None, float | None]]:
    """From today's current route plan: when each truck gets back to the depot and with what charge."""
    plan = session.exec(
        select_rows(
            scope,
            RoutePlan,
            RoutePlan.depot_id == depot_id,
            RoutePlan.service_date == today,
            RoutePlan.status == PlanStatus.CURRENT,
        )
    ).first()
    if plan is None:
        return {}
    out: dict[int, tuple[dt.datetime | None, float | None]] = {}
    for stop in list_rows(
        session, scope, RouteStop, RouteStop.plan_id == plan.id, order_by=RouteStop.sequence
    ):
        out[stop.vehicle_id] = (stop.arrival, stop.soc_arrival_kwh)  # the last stop (end depot) wins
    return out


def _last_metered_kwh(
    session: Session, scope: Scope, vehicle_ids: list[int], before: dt.date
) -> dict[int, float]:
    if not vehicle_ids:
        return {}
    rows = session.exec(
        select_rows(
            scope,
            VehicleDay,
            VehicleDay.vehicle_id.in_(vehicle_ids),
            VehicleDay.day < before,
            VehicleDay.day >= before - dt.timedelta(days=14),
        ).order_by(VehicleDay.day)
    ).all()
    out: dict[int, float] = {}
    for r in rows:
        if r.kwh_vehicle is not None and r.kwh_vehicle >= 0:
            out[r.vehicle_id] = r.kwh_vehicle
    return out


def _month_peak(session: Session, scope: Scope, depot_id: int, service_date: dt.date) -> float:
    """The highest planned site peak [kW] already reached in the billing month of the night before `service_date`.

    Demand is billed once per month on its maximum, and a night belongs to the month it starts in (the night
    before 1 December is billed in November).
    """
    night = service_date - dt.timedelta(days=1)
    first = local_midnight(night.replace(day=1))
    peak = session.exec(
        select_rows(
            scope,
            ChargingPlan,
            ChargingPlan.depot_id == depot_id,
            ChargingPlan.status == PlanStatus.CURRENT,
            ChargingPlan.horizon_start >= first,
            ChargingPlan.service_date < service_date,
        ).with_only_columns(func.max(ChargingPlan.peak_kw))
    ).first()
    # What the site meter recorded this month before tonight (base load and charging together) is already billed;
    # readings from 18:00 on the evening of the night on belong to the night being planned.
    metered = session.exec(
        select_rows(
            scope,
            SiteMeterReading,
            SiteMeterReading.depot_id == depot_id,
            SiteMeterReading.interval_start >= first,
            SiteMeterReading.interval_start < local_midnight(service_date) - dt.timedelta(hours=6),
        ).with_only_columns(func.max(SiteMeterReading.kw))
    ).first()
    return max(float(peak or 0.0), float(metered or 0.0))


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=LOCAL_TZ)
