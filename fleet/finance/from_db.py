"""Database adapters: leases and their context -> finance inputs, portfolio reports, saved scenarios.

All reads go through `fleet.scope` so a lessee sees only its own leases. Each input is taken from the most
specific place the database offers, and the report says where (`sources`):

- km/yr: `Lease.expected_km_per_year`, else metered `VehicleDay` km annualised (mean per day with records × 365),
  else the default (data/reference/METHODOLOGY.md §4).
- energy at the meter [kWh/100km]: metered Σ kwh_charger / Σ km of the vehicle, else the model's mean of empty and
  full consumption ÷ the mean efficiency of the depot's connectors (vehicle-side kWh -> grid-side), else default.
- electricity [CNY/kWh], the price the lessee really pays (issue 19 item 9), the basis named in the report:
  1. metered: the vehicle's imported `ChargingSession` rows with a cost, Σ cost_fen ÷ Σ kWh;
  2. else the delivered price of the depot's current charging plans: (Σ energy_cost_fen + each month's demand
     charge pro-rated per night) ÷ Σ total_kwh. A plan's `demand_cost_fen` is its night's share of a month billed
     on that night's peak (monthly charge ÷ days in the month), so a month billed on its highest planned peak costs
     max(demand_cost_fen) × days, and its planned nights bear max(demand_cost_fen) × nights of it
     (docs/charging-economics.md reporting rule). The plans' energy cost already holds the depot's government
     funds and surcharges (`Depot.funds_cny_per_kwh`, the tariff's unscaled adder), as the bill's energy line does;
  3. else the depot tariff's lowest base-period price + the depot's funds (overnight valley charging), else the
     default.
- the lessor's costs and who bears them: the Lease columns (insurance_fen_per_month, maintenance_cny_per_km, ...),
  NULL = the graded default; insurance and tyres follow maintenance_by_lessor unless set, telematics the lessor.
- covenants: Lease.dscr_covenant / llcr_covenant, NULL = 1.2 (data/reference/FINANCE.md DSCR row, U).
- diesel alternative: the lease's replaced diesel model (L/100km, price as a new truck to 'buy'); its residual
  value uses the default residual share (data/reference/FINANCE.md L2, assumed).
- driver time lost to charging [h/1000km]: hours at `station` stops ÷ routed km in the current route plans.
- battery and residual (issue 19 item 12): `Lease.residual_value_fen` is the base residual with a battery as good as
  new; the residual received follows the battery's projected SoH at lease end (`fleet/finance/battery.py`). SoH
  from the vehicle's imported `ChargingSession` rows with `soc_start_pct`/`soc_end_pct` (kWh × the connector's
  efficiency ÷ ΔSoC over the model's battery_kwh × usable_fraction; least-squares trend), else the age
  (`Vehicle.commissioned_on`) and throughput curve; the basis is named per lease.
- carbon: the lease's `emissions_claimant` takes all of the tonnes (data/reference/METHODOLOGY.md §3, one claimant); avoided
  kg/km comes from the caller (`avoided_kg_per_km`, the emissions module's figure per lease) or the default. The
  price is 0 (no carbon revenue in the base case) unless the lease names `carbon_scheme`, `carbon_price_source`
  and `carbon_price_cny_per_t` (issue 19 item 11); carbon at a market price is reported as a scenario only.

`MISSING_FIELDS` lists what the schema lacks for lease economics; those inputs take documented defaults.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, func, select

from fleet.models import (
    ChargingPlan,
    ChargingSession,
    Claimant,
    Connector,
    Depot,
    FinanceScenario,
    Lease,
    Lessee,
    PlanStatus,
    Repayment,
    RoutePlan,
    RouteStop,
    Tariff,
    Vehicle,
    VehicleDay,
    VehicleModel,
)
from fleet.scope import Scope, add_rows, list_rows, select_rows

from . import report as rep
from .assumptions import ASSUMPTIONS, UsedAssumption, assumptions_in, default
from .battery import SocSession, battery_dict, battery_from_estimate, estimate_soh
from .errors import FinanceInputError
from .evaluate import evaluate
from .inputs import Battery, Carbon, LeaseTerms, LesseeInputs, Loan, Scenario, Usage
from .lessor import LessorResult, PortfolioLease, PortfolioResult, evaluate_lease, evaluate_portfolio
from .pricing import RentRange, rent_range
from .scenario import ScenarioFile, scenario_file_from_dict
from .sensitivity import tornado as run_tornado

#: Inputs the schema (fleet/models.py) does not hold; the documented default is used instead.
MISSING_FIELDS: tuple[str, ...] = (
    "Lease.rent_in_advance (rent timing; default: in advance)",
    "Lease planned battery replacement (none)",
    "Lessor discount rate (its hurdle) and tax rate (defaults 6 % and 25 %)",
    "Lessee diesel truck market value / residual (default: replaced model's price, 20 % residual)",
    "Per-lease avoided emissions kgCO2/km (default data/reference/METHODOLOGY.md §4 until the emissions module provides it)",
    "Lessee driver cost per hour and charging-stop hours (default 0; later from routing)",
)


@dataclass(frozen=True)
class DbLease:
    """One lease as finance inputs, with where each context input came from."""

    code: str
    lessee_code: str
    item: PortfolioLease
    lessee: LesseeInputs
    sources: dict[str, str]
    """Where each context input came from (field -> description)."""
    db_fields: frozenset[str] = frozenset()
    """Input fields read from the database, so never reported as defaults even if equal to one."""

    def defaults_used(self) -> list[UsedAssumption]:
        """Sourced defaults this lease still relies on (value-equal fields read from the database excluded)."""
        used = [u for u in assumptions_in(self.scenario()) if u.field not in self.db_fields]
        if "lessee.diesel_truck_value" in self.db_fields:
            used.append(UsedAssumption("lessee.diesel_residual_value", ASSUMPTIONS["residual_share"]))
        return used

    def scenario(self) -> Scenario:
        """The lease as a full scenario (lessor + lessee view)."""
        return Scenario(
            name=f"lease {self.code}",
            description=f"{self.lessee_code}: lease {self.code} from the database",
            usage=self.item.usage,
            lease=self.item.lease,
            carbon=self.item.carbon,
            lessee=self.lessee,
        )


def _months(start: dt.date, end: dt.date) -> int:
    """Whole months of a lease from its first to its last day (end date inclusive)."""
    after = end + dt.timedelta(days=1)
    return (after.year - start.year) * 12 + (after.month - start.month)


@dataclass(frozen=True)
class _Context:
    """Everything the leases refer to, fetched in a few queries (the portfolio must stay fast)."""

    vehicles: dict[int, Vehicle]
    models: dict[int, VehicleModel]
    lessees: dict[int, Lessee]
    depots: dict[int, Depot]
    tariffs: dict[int, Tariff]
    metered: dict[int, tuple[float, float, int]]  # vehicle -> (km, kWh at the charger over km with kWh, days)
    efficiency: dict[int, float]  # depot -> mean connector efficiency
    plan_cost: dict[
        int, tuple[float, float, float, int]
    ]  # depot -> (energy fen, pro-rated demand fen, kWh, nights)
    metered_cost: dict[
        int, tuple[float, float]
    ]  # vehicle -> (fen, kWh) of imported charging sessions with a cost
    station_hours: dict[
        int, tuple[float, float]
    ]  # vehicle -> (hours at charging stations, km) in current routes
    soc_sessions: dict[int, list[SocSession]] = dataclasses.field(
        default_factory=dict
    )  # vehicle -> charging sessions with state of charge at both ends


def _context(session: Session, scope: Scope, vehicle_ids: Collection[int] | None = None) -> _Context:
    """Everything `lease_inputs` reads, aggregated in SQL per vehicle and depot. `vehicle_ids` limits the per-vehicle
    figures (metered days, charging sessions, routes) to those trucks: one lease's report reads its truck's rows
    through the vehicle index instead of aggregating the whole lessor's table (issue 24)."""

    def trucks(column: Any) -> list[Any]:
        return [] if vehicle_ids is None else [column.in_(sorted(vehicle_ids))]

    metered: dict[int, tuple[float, float, int]] = {}
    query = (
        select_rows(scope, VehicleDay, *trucks(VehicleDay.vehicle_id))
        .with_only_columns(
            VehicleDay.vehicle_id, func.sum(VehicleDay.km), func.count(func.distinct(VehicleDay.day))
        )
        .group_by(VehicleDay.vehicle_id)
    )
    km_days = {vid: (float(km or 0), int(days)) for vid, km, days in session.execute(query).all()}
    query = (
        select_rows(scope, VehicleDay, VehicleDay.kwh_charger.is_not(None), *trucks(VehicleDay.vehicle_id))
        .with_only_columns(  # type: ignore[union-attr]
            VehicleDay.vehicle_id, func.sum(VehicleDay.km), func.sum(VehicleDay.kwh_charger)
        )
        .group_by(VehicleDay.vehicle_id)
    )
    energy = {vid: (float(km or 0), float(kwh or 0)) for vid, km, kwh in session.execute(query).all()}
    for vid, (km, days) in km_days.items():
        e_km, e_kwh = energy.get(vid, (0.0, 0.0))
        metered[vid] = (km, e_kwh / e_km * 100.0 if e_km > 0 else 0.0, days)

    efficiency: dict[int, list[float]] = defaultdict(list)
    connector_efficiency: dict[int, float] = {}
    connectors = select_rows(scope, Connector).with_only_columns(
        Connector.id, Connector.depot_id, Connector.efficiency
    )
    if vehicle_ids is not None:
        # Only what these trucks' figures read: their depots' connectors and those of their charging sessions
        # (80,000 connector rows were most of one lease's report at a lessor's scale, issue 24).
        ids = sorted(vehicle_ids)
        own_depots = select(Vehicle.depot_id).where(Vehicle.id.in_(ids))  # type: ignore[union-attr]
        session_depots = select(ChargingSession.depot_id).where(ChargingSession.vehicle_id.in_(ids))  # type: ignore[attr-defined]
        session_connectors = select(ChargingSession.connector_id).where(ChargingSession.vehicle_id.in_(ids))  # type: ignore[attr-defined]
        connectors = connectors.where(
            sa.or_(
                Connector.depot_id.in_(own_depots),  # type: ignore[attr-defined]
                Connector.depot_id.in_(session_depots),  # type: ignore[attr-defined]
                Connector.id.in_(session_connectors),  # type: ignore[union-attr]
            )
        )
    for connector_id, depot_id, eff in session.execute(connectors.order_by(Connector.id)).all():
        efficiency[depot_id].append(eff)  # columns, not ORM rows: a lessor has ~80,000 connectors
        connector_efficiency[connector_id] = eff
    depot_efficiency = {k: sum(v) / len(v) for k, v in efficiency.items()}
    soc_sessions: dict[int, list[SocSession]] = defaultdict(list)
    query = select_rows(
        scope,
        ChargingSession,
        ChargingSession.soc_start_pct.is_not(None),  # type: ignore[union-attr]
        ChargingSession.soc_end_pct.is_not(None),  # type: ignore[union-attr]
        *trucks(ChargingSession.vehicle_id),
    ).with_only_columns(
        ChargingSession.vehicle_id,
        ChargingSession.ended_at,
        ChargingSession.kwh,
        ChargingSession.soc_start_pct,
        ChargingSession.soc_end_pct,
        ChargingSession.connector_id,
        ChargingSession.depot_id,
    )
    for vehicle_id, ended, kwh, soc0, soc1, connector_id, depot_id in session.execute(query).all():
        eff = (
            connector_efficiency.get(connector_id)
            or depot_efficiency.get(depot_id)
            or default("charging_efficiency")
        )
        soc_sessions[vehicle_id].append(SocSession(ended, float(kwh), float(soc0), float(soc1), eff))
    query = select_rows(scope, ChargingPlan, ChargingPlan.status == PlanStatus.CURRENT).with_only_columns(
        ChargingPlan.depot_id,
        ChargingPlan.service_date,
        ChargingPlan.energy_cost_fen,
        ChargingPlan.demand_cost_fen,
        ChargingPlan.total_kwh,
    )
    months: dict[tuple[int, int, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for depot_id, day, energy_fen, demand_fen, kwh in session.execute(query).all():
        night = day - dt.timedelta(days=1)  # the night before the service date is billed in its own month
        m = months[(depot_id, night.year, night.month)]
        m[0] += float(energy_fen or 0)
        m[1] = max(m[1], float(demand_fen or 0))  # the month is billed on its highest night
        m[2] += float(kwh or 0)
        m[3] += 1
    plan_cost: dict[int, tuple[float, float, float, int]] = {}
    for (depot_id, _year, _month), (energy_fen, demand_fen, kwh, nights) in months.items():
        e, d, k, n = plan_cost.get(depot_id, (0.0, 0.0, 0.0, 0))
        # demand_fen is the highest night's share (monthly charge ÷ days): the planned nights bear that many shares.
        plan_cost[depot_id] = (e + energy_fen, d + demand_fen * nights, k + kwh, n + int(nights))
    query = (
        select_rows(
            scope, ChargingSession, ChargingSession.cost_fen.is_not(None), *trucks(ChargingSession.vehicle_id)
        )
        .with_only_columns(  # type: ignore[union-attr]
            ChargingSession.vehicle_id, func.sum(ChargingSession.cost_fen), func.sum(ChargingSession.kwh)
        )
        .group_by(ChargingSession.vehicle_id)
    )
    metered_cost = {vid: (float(fen or 0), float(kwh or 0)) for vid, fen, kwh in session.execute(query).all()}
    station_hours: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    query = (
        select_rows(scope, RouteStop, *trucks(RouteStop.vehicle_id))
        .join(RoutePlan, RoutePlan.id == RouteStop.plan_id)
        .where(RoutePlan.status == PlanStatus.CURRENT)
        .with_only_columns(
            RouteStop.vehicle_id,
            RouteStop.kind,
            RouteStop.arrival,
            RouteStop.departure,
            RouteStop.km_from_previous,
        )
    )
    for vehicle_id, kind, arrival, departure, km in session.execute(query).all():
        station_hours[vehicle_id][1] += km or 0.0
        if kind == "station" and arrival is not None and departure is not None:
            station_hours[vehicle_id][0] += (departure - arrival).total_seconds() / 3600.0
    return _Context(
        vehicles={v.id: v for v in list_rows(session, scope, Vehicle, *trucks(Vehicle.id))},  # type: ignore[misc]
        models={m.id: m for m in list_rows(session, scope, VehicleModel)},  # type: ignore[misc]
        lessees={le.id: le for le in list_rows(session, scope, Lessee)},  # type: ignore[misc]
        depots={d.id: d for d in list_rows(session, scope, Depot)},  # type: ignore[misc]
        tariffs={t.id: t for t in list_rows(session, scope, Tariff)},  # type: ignore[misc]
        metered=metered,
        efficiency=depot_efficiency,
        plan_cost=plan_cost,
        metered_cost=metered_cost,
        station_hours={k: (v[0], v[1]) for k, v in station_hours.items()},
        soc_sessions=dict(soc_sessions),
    )


def _electricity(vehicle_id: int | None, depot: Depot | None, ctx: _Context) -> tuple[float, str]:
    """The price the lessee pays per kWh at the meter [CNY/kWh] and its basis (see the module docstring)."""
    fen, kwh = ctx.metered_cost.get(vehicle_id, (0.0, 0.0)) if vehicle_id is not None else (0.0, 0.0)
    if kwh > 0:
        return fen / 100.0 / kwh, (
            f"metered: imported charging sessions of the vehicle with a cost, {fen / 100:,.2f} CNY / {kwh:,.1f} kWh"
        )
    if depot is not None:
        funds = float(depot.funds_cny_per_kwh or 0)
        energy, demand, kwh, nights = ctx.plan_cost.get(depot.id, (0.0, 0.0, 0.0, 0))  # type: ignore[arg-type]
        if kwh > 0:
            price = (energy + demand) / 100.0 / kwh
            return price, (
                f"delivered price of depot {depot.code}'s {nights} current charging plans: energy incl. funds "
                f"{funds:g} CNY/kWh {energy / 100 / kwh:.4f} + demand charge pro-rated per night "
                f"{demand / 100 / kwh:.4f} CNY/kWh over {kwh:,.0f} kWh"
            )
        tariff = ctx.tariffs.get(depot.tariff_id) if depot.tariff_id is not None else None
        if tariff is not None:
            multipliers = [p["multiplier"] for p in tariff.periods if p.get("kind", "base") == "base"]
            if multipliers:
                price = float(tariff.base_price_cny_per_kwh) * min(multipliers) + funds
                return price, (
                    f"tariff {tariff.code}: lowest period ({min(multipliers)} x "
                    f"{tariff.base_price_cny_per_kwh} CNY/kWh; overnight valley charging assumed, "
                    f"{tariff.confidence}) + the depot's funds {funds:g} CNY/kWh; no charging plan or metered "
                    "cost, no demand charge counted"
                )
    return default("electricity_price"), "default (data/reference/tariffs.md SZ 2023 valley, weak)"


def lease_inputs(lease: Lease, ctx: _Context, avoided_kg_per_km: float | None = None) -> DbLease:
    """Finance inputs of one lease row (pure once the context is fetched).

    `avoided_kg_per_km` [kgCO2/km] is the emissions module's figure for this lease, when available.
    """
    sources: dict[str, str] = {}
    vehicle = ctx.vehicles.get(lease.vehicle_id)
    model = ctx.models.get(vehicle.model_id) if vehicle else None
    depot = ctx.depots.get(vehicle.depot_id) if vehicle and vehicle.depot_id is not None else None
    lessee_row = ctx.lessees.get(lease.lessee_id) if lease.lessee_id is not None else None
    lessee_code = lessee_row.code if lessee_row else "(none)"
    where = f"Lease {lease.code}"

    km_days = ctx.metered.get(lease.vehicle_id)
    if lease.expected_km_per_year:
        km_per_year, sources["usage.km_per_year"] = (
            float(lease.expected_km_per_year),
            "Lease.expected_km_per_year",
        )
    elif km_days and km_days[2] > 0:
        km_per_year = km_days[0] / km_days[2] * 365.0
        sources["usage.km_per_year"] = (
            f"metered VehicleDay: {km_days[0]:,.0f} km over {km_days[2]} days x 365"
        )
    else:
        km_per_year, sources["usage.km_per_year"] = default("km_per_year"), "default"
    if km_days and km_days[1] > 0:
        kwh_100 = km_days[1]
        sources["usage.ev_kwh_per_100km"] = "metered VehicleDay kwh_charger / km"
    elif model and model.consumption_kwh_per_km_empty and model.consumption_kwh_per_km_full:
        eff = ctx.efficiency.get(depot.id, 1.0) if depot else 1.0  # type: ignore[arg-type]
        kwh_100 = (model.consumption_kwh_per_km_empty + model.consumption_kwh_per_km_full) / 2 * 100 / eff
        sources["usage.ev_kwh_per_100km"] = (
            f"model {model.code} mean consumption / connector efficiency {eff:.3f}"
        )
    else:
        kwh_100, sources["usage.ev_kwh_per_100km"] = default("ev_kwh_per_100km"), "default"

    price = lease.purchase_price_fen / 100.0
    net = price - lease.subsidy_fen / 100.0
    loan_amount = net - lease.down_payment_fen / 100.0
    if loan_amount < -0.005:
        raise FinanceInputError(
            f"{where}.down_payment_fen", "must not exceed the purchase price net of subsidies"
        )
    has_loan = lease.loan_term_months > 0 and loan_amount > 0.005
    term = _months(lease.start_date, lease.end_date)
    costs, loan_covenants, from_row = _lessor_costs(lease)
    try:
        usage = Usage(km_per_year=km_per_year, ev_kwh_per_100km=kwh_100)
    except FinanceInputError as error:
        raise error.under(where) from None
    battery, battery_fields = _battery(lease, vehicle, model, usage, ctx)
    sources["lease.battery"] = battery.basis
    from_row |= battery_fields
    try:
        terms = LeaseTerms(
            lease_id=lease.code,
            lessee=lessee_code,
            start=lease.start_date,
            price=price,
            subsidies=lease.subsidy_fen / 100.0,
            term_months=term,
            monthly_rent=lease.monthly_rent_fen / 100.0,
            deposit=lease.deposit_fen / 100.0,
            residual_value=lease.residual_value_fen / 100.0,
            battery=battery,
            **costs,
            loan=Loan(
                **loan_covenants,
                share_of_net_price=max(0.0, loan_amount) / net if has_loan else 0.0,
                annual_rate=float(lease.loan_annual_rate),
                term_months=lease.loan_term_months if has_loan else term,
                method="equal_principal" if lease.repayment == Repayment.EQUAL_PRINCIPAL else "annuity",
            ),
        )
    except FinanceInputError as error:
        raise error.under(where) from None
    lessor_claims = lease.emissions_claimant == Claimant.LESSOR
    shares: dict[str, Any] = {
        "lessor_share": 1.0 if lessor_claims else 0.0,
        "lessee_share": 0.0 if lessor_claims else 1.0,
    }
    named = bool(
        lease.carbon_scheme and lease.carbon_price_source and lease.carbon_price_cny_per_t is not None
    )
    if named:
        shares.update(
            scheme=lease.carbon_scheme,
            price_source=lease.carbon_price_source,
            price_cny_per_t=float(lease.carbon_price_cny_per_t),  # type: ignore[arg-type]
        )
    if avoided_kg_per_km is not None:
        shares["avoided_kg_per_km"] = avoided_kg_per_km
    try:
        carbon = Carbon(**shares)
    except FinanceInputError as error:
        raise error.under(where) from None
    sources["carbon"] = (
        f"emissions_claimant = {lease.emissions_claimant.value}; "
        + (
            f"scheme {lease.carbon_scheme} at {lease.carbon_price_cny_per_t} CNY/t ({lease.carbon_price_source})"
            if named
            else "no scheme named on the lease: no carbon revenue in the base case (scenario only)"
        )
        + "; avoided kg/km "
        + (
            "default (reference truck)"
            if avoided_kg_per_km is None
            else "the lease's own, from the emissions module"
        )
    )

    electricity, sources["lessee.electricity_cny_per_kwh"] = _electricity(lease.vehicle_id, depot, ctx)
    diesel = ctx.models.get(lease.replaced_diesel_model_id) if lease.replaced_diesel_model_id else None
    lessee_kwargs: dict[str, Any] = {"electricity_cny_per_kwh": electricity}
    hours, routed_km = ctx.station_hours.get(lease.vehicle_id, (0.0, 0.0))
    if routed_km > 0:
        lessee_kwargs["charging_hours_per_1000km"] = hours / routed_km * 1000.0
        sources["lessee.charging_hours_per_1000km"] = (
            f"current route plans: {hours:.2f} h at charging stations over {routed_km:,.0f} km"
        )
    if diesel is not None and diesel.diesel_l_per_100km:
        value = diesel.price_fen / 100.0
        lessee_kwargs.update(
            diesel_option="buy",
            diesel_l_per_100km=diesel.diesel_l_per_100km,
            diesel_truck_value=value,
            diesel_residual_value=default("residual_share") * value,
        )
        sources["lessee.diesel"] = f"replaced diesel model {diesel.code} ({diesel.confidence})"
    else:
        sources["lessee.diesel"] = "default diesel truck (no replaced model on the lease)"
    try:
        lessee = LesseeInputs(**lessee_kwargs)
    except FinanceInputError as error:
        raise error.under(where) from None
    db_fields = {
        "lease.price",
        "lease.subsidies",
        "lease.term_months",
        "lease.monthly_rent",
        "lease.deposit",
        "lease.residual_value",
        "lease.loan.share_of_net_price",
        "lease.loan.annual_rate",
        "lease.loan.term_months",
        "carbon.lessor_share",
        "carbon.lessee_share",
        *from_row,
    }
    if named:
        db_fields.add("carbon.price_cny_per_t")
    db_fields |= {k for k, v in sources.items() if not v.startswith("default")}
    if avoided_kg_per_km is not None:
        db_fields.add("carbon.avoided_kg_per_km")
    if diesel is not None and diesel.diesel_l_per_100km:
        db_fields |= {"lessee.diesel_truck_value", "lessee.diesel_l_per_100km"}
    return DbLease(
        lease.code, lessee_code, PortfolioLease(terms, usage, carbon), lessee, sources, frozenset(db_fields)
    )


def _battery(
    lease: Lease, vehicle: Vehicle | None, model: VehicleModel | None, usage: Usage, ctx: _Context
) -> tuple[Battery, set[str]]:
    """The lease's battery (measured SoH trend, measured level + curve, or the curve) and the fields it read."""
    fields: set[str] = set()
    if model is not None and model.battery_kwh:
        pack, pack_source = float(model.battery_kwh), f"model {model.code} battery_kwh"
        fields.add("lease.battery.pack_kwh")
    else:
        pack, pack_source = default("battery_pack_kwh"), "default pack (no battery_kwh on the model)"
    sessions = ctx.soc_sessions.get(lease.vehicle_id, [])
    estimate = None
    if sessions:
        usable = float(model.usable_fraction) if model is not None and model.usable_fraction else 1.0
        estimate = estimate_soh(sessions, pack * usable)
    age = 0.0
    if (
        vehicle is not None
        and vehicle.commissioned_on is not None
        and vehicle.commissioned_on < lease.start_date
    ):
        age = (lease.start_date - vehicle.commissioned_on).days / 365.25
    battery = battery_from_estimate(
        estimate,
        lease.start_date,
        pack_kwh=pack,
        usage=usage,
        age_years_at_start=age,
        pack_source=pack_source,
    )
    if battery.measured:  # the curve's calendar and cycle fade are not used
        fields |= {"lease.battery.calendar_fade_per_year", "lease.battery.cycle_fade_per_efc"}
    return battery, fields


_COST_COLUMNS: tuple[tuple[str, str, float], ...] = (
    # (Lease column, LeaseTerms field, factor to CNY)
    ("insurance_fen_per_month", "ev_insurance_per_month", 0.01),
    ("maintenance_cny_per_km", "ev_maintenance_per_km", 1.0),
    ("maintenance_fixed_fen_per_month", "ev_maintenance_fixed_per_month", 0.01),
    ("tyres_cny_per_km", "tyres_per_km", 1.0),
    ("telematics_fen_per_month", "telematics_per_month", 0.01),
    ("battery_reserve_cny_per_kwh", "battery_degradation_cny_per_kwh", 1.0),
    ("overhead_fen_per_month", "overhead_per_month", 0.01),
    ("bad_debt_share", "bad_debt_share", 1.0),
)


def _lessor_costs(lease: Lease) -> tuple[dict[str, Any], dict[str, Any], set[str]]:
    """LeaseTerms and Loan keyword arguments from the lease's cost, bearer and covenant columns (NULL = default),
    and the input fields read from the row."""
    maintenance = bool(lease.maintenance_by_lessor)
    costs: dict[str, Any] = {
        "lessor_bears_maintenance": maintenance,
        "lessor_bears_insurance": maintenance
        if lease.insurance_by_lessor is None
        else lease.insurance_by_lessor,
        "lessor_bears_tyres": maintenance if lease.tyres_by_lessor is None else lease.tyres_by_lessor,
        "lessor_bears_telematics": True if lease.telematics_by_lessor is None else lease.telematics_by_lessor,
    }
    from_row: set[str] = set()
    for column, name, factor in _COST_COLUMNS:
        value = getattr(lease, column)
        if value is not None:
            costs[name] = float(value) * factor
            from_row.add(f"lease.{name}")
    covenants: dict[str, Any] = {}
    for name in ("dscr_covenant", "llcr_covenant"):
        value = getattr(lease, name)
        if value is not None:
            covenants[name] = float(value)
            from_row.add(f"lease.loan.{name}")
    return costs, covenants, from_row


@dataclass(frozen=True)
class LeaseError:
    """A lease that could not be evaluated, and why."""

    code: str
    lessee_code: str
    error: str


def load_leases_with_errors(
    session: Session,
    scope: Scope,
    avoided_kg_per_km: Mapping[str, float] | None = None,
) -> tuple[list[DbLease], list[LeaseError]]:
    """Every lease in scope as finance inputs; a lease with bad inputs is listed as an error, not fatal."""
    leases = list_rows(session, scope, Lease)
    ctx = _context(session, scope)
    avoided = avoided_kg_per_km or {}
    good: list[DbLease] = []
    errors: list[LeaseError] = []
    for lease in leases:
        lessee = ctx.lessees.get(lease.lessee_id) if lease.lessee_id is not None else None
        try:
            good.append(lease_inputs(lease, ctx, avoided.get(lease.code)))
        except (FinanceInputError, ValueError, TypeError, ArithmeticError) as error:
            errors.append(LeaseError(lease.code, lessee.code if lessee else "(none)", str(error)))
    return good, errors


def load_leases(
    session: Session,
    scope: Scope,
    lease_code: str | None = None,
    avoided_kg_per_km: Mapping[str, float] | None = None,
) -> list[DbLease]:
    """Leases in scope (one, by code or numeric id, when `lease_code` is given) as finance inputs.

    `avoided_kg_per_km` maps lease codes to the emissions module's avoided kgCO2/km; other leases use the default.
    """
    where = []
    if lease_code is not None:
        where.append(Lease.id == int(lease_code) if lease_code.isdigit() else Lease.code == lease_code)
    leases = list_rows(session, scope, Lease, *where)
    if lease_code is not None and not leases:
        raise LookupError(f"lease {lease_code!r} not found in the scope of {scope.describe()}")
    one = lease_code is not None
    ctx = _context(
        session, scope, {le.vehicle_id for le in leases if le.vehicle_id is not None} if one else None
    )
    avoided = avoided_kg_per_km or {}
    return [lease_inputs(lease, ctx, avoided.get(lease.code)) for lease in leases]


def portfolio(
    session: Session, scope: Scope, avoided_kg_per_km: Mapping[str, float] | None = None
) -> tuple[PortfolioResult, list[DbLease]]:
    """Lessor metrics of every lease in scope, per lessee and in total (a bad lease raises; see
    `portfolio_with_errors` for the tolerant form the CLI uses)."""
    leases = load_leases(session, scope, avoided_kg_per_km=avoided_kg_per_km)
    if not leases:
        raise LookupError(f"no leases in the scope of {scope.describe()}")
    return evaluate_portfolio([d.item for d in leases]), leases


@dataclass(frozen=True)
class LeaseLine:
    """One lease of the portfolio report: its lessor result and its rent corridor."""

    lease: DbLease
    result: LessorResult
    rent: RentRange


def portfolio_with_errors(
    session: Session, scope: Scope, avoided_kg_per_km: Mapping[str, float] | None = None
) -> tuple[PortfolioResult | None, list[LeaseLine], list[LeaseError]]:
    """Every lease that evaluates, with its rent corridor, grouped per lessee and in total; one bad lease (absurd
    loan term, NaN rate, ...) is listed in the errors and the others are finished."""
    leases, errors = load_leases_with_errors(session, scope, avoided_kg_per_km)
    lines: list[LeaseLine] = []
    for d in leases:
        try:
            item = d.item
            result = evaluate_lease(item.lease, item.usage, item.carbon)
            rent = rent_range(item.lease, item.usage, item.carbon, d.lessee)
        except (FinanceInputError, ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
            errors.append(LeaseError(d.code, d.lessee_code, f"{type(error).__name__}: {error}"))
            continue
        lines.append(LeaseLine(d, result, rent))
    if not lines and not errors:
        raise LookupError(f"no leases in the scope of {scope.describe()}")
    result = evaluate_portfolio([line.lease.item for line in lines]) if lines else None
    return result, lines, errors


def _lease_line_dict(line: LeaseLine) -> dict[str, Any]:
    r, d = line.result, line.lease
    return {
        "lease": d.code,
        "lessee": d.lessee_code,
        "project_npv": rep.to_fen(r.project.npv),
        "project_irr_effective_annual": None
        if r.project.irr_effective_annual is None
        else round(r.project.irr_effective_annual, 8),
        "equity_irr_effective_annual": None
        if r.equity.irr_effective_annual is None
        else round(r.equity.irr_effective_annual, 8),
        "dscr_min": None if r.dscr_min is None else round(r.dscr_min, 8),
        "llcr": None if r.llcr is None else round(r.llcr, 8),
        "lessor_costs": rep.lessor_costs_dict(r),
        "covenant": rep.covenant_dict(r.covenant, d.item.lease.start),
        "rent": rep.rent_dict(line.rent),
        "electricity": {
            "cny_per_kwh": round(d.lessee.electricity_cny_per_kwh, 4),
            "basis": d.sources.get("lessee.electricity_cny_per_kwh", ""),
        },
        "carbon_basis": d.item.carbon.basis,
        "battery": battery_dict(d.item.lease, d.item.usage),
    }


def portfolio_report(
    session: Session,
    scope: Scope,
    *,
    per_lease: bool = False,
    avoided_kg_per_km: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """`evfleet roi --portfolio` as JSON-ready data: per lease (the lessor's costs, the covenant result, the rent
    corridor), per lessee and in total, and the leases that could not be evaluated."""
    result, lines, errors = portfolio_with_errors(session, scope, avoided_kg_per_km)
    leases = [line.lease for line in lines]
    out = (
        rep.portfolio_dict(result, per_lease=per_lease)
        if result is not None
        else {"note": rep.MONEY_NOTE, "by_lessee": [], "total": None}
    )
    out["lease_lines"] = [_lease_line_dict(line) for line in lines]
    out["errors"] = [{"lease": e.code, "lessee": e.lessee_code, "error": e.error} for e in errors]
    used: dict[str, UsedAssumption] = {}
    for d in leases:
        for u in d.defaults_used():
            used.setdefault(u.field, u)
    out["assumptions"] = rep.assumptions_list(list(used.values()))
    out["missing_fields"] = list(MISSING_FIELDS)
    return out


def lease_report(
    session: Session,
    scope: Scope,
    lease_code: str,
    *,
    tornado: bool = True,
    flows: bool = False,
    avoided_kg_per_km: Mapping[str, float] | None = None,
    view: str = "lessor",
) -> dict[str, Any]:
    """`evfleet roi --lease ID` as JSON-ready data (same shape as a scenario report plus sources).

    view 'lessee' is what a lessee may see of its own lease (`report.lessee_view`): never the lessor's NPV, IRR,
    DSCR, LLCR, costs or floor rent."""
    if view not in ("lessor", "lessee"):
        raise ValueError(f"view must be 'lessor' or 'lessee', got {view!r}")
    (lease,) = load_leases(session, scope, lease_code, avoided_kg_per_km)
    scenario = lease.scenario()
    out = rep.scenario_dict(evaluate(scenario), run_tornado(scenario) if tornado else None, flows=flows)
    out["assumptions"] = rep.assumptions_list(lease.defaults_used())
    out["sources"] = lease.sources
    out["missing_fields"] = list(MISSING_FIELDS)
    out["lessee"]["electricity_cny_per_kwh"] = round(lease.lessee.electricity_cny_per_kwh, 4)
    out["lessee"]["electricity_basis"] = lease.sources.get("lessee.electricity_cny_per_kwh", "")
    out["carbon"]["scenario"] = _carbon_scenario(scenario)
    return rep.lessee_view(out) if view == "lessee" else out


def _carbon_scenario(scenario: Scenario) -> dict[str, Any]:
    """Carbon revenue as a scenario only: the lease at the Shenzhen 2024 market price for the claimant's share,
    beside the base case (no scheme for electric freight vehicles has been found; issue 19 item 11)."""
    price = default("carbon_price")
    carbon = dataclasses.replace(scenario.carbon, price_cny_per_t=price)
    with_carbon = evaluate(dataclasses.replace(scenario, carbon=carbon))
    return {
        "price_cny_per_t": price,
        "price_source": ASSUMPTIONS["carbon_price"].source,
        "avoided_kg_per_km": round(carbon.avoided_kg_per_km, 6),
        "project_npv": rep.to_fen(with_carbon.lessor.project.npv),
        "project_irr_effective_annual": with_carbon.lessor.project.irr_effective_annual,
        "lessor_revenue": rep.to_fen(with_carbon.lessor.carbon_revenue),
        "lessee_saving_per_month": rep.to_fen(with_carbon.lessee.saving_per_month),
        "note": "scenario only: not in the base case unless the lease names a scheme and a price source",
    }


# ------------------------------------------------------------------------------------------ saved scenarios


def save_scenario(session: Session, scope: Scope, name: str, payload: dict[str, Any]) -> FinanceScenario:
    """Validate a scenario-file payload and store it under `name` (replacing the scope's own one of that name)."""
    if not name.strip():
        raise FinanceInputError("name", "a saved scenario needs a non-empty name")
    scenario_file_from_dict(payload)  # refuse to store what cannot be evaluated
    # Each owner (the lessor, each lessee) has its own namespace: the lessor saving "X" never overwrites a
    # lessee's "X", and a lessee never learns that another owner uses a name.
    own = (
        FinanceScenario.lessee_id.is_(None)  # type: ignore[union-attr]
        if scope.lessee_id is None
        else FinanceScenario.lessee_id == scope.lessee_id
    )
    existing = session.exec(select_rows(scope, FinanceScenario, FinanceScenario.name == name, own)).first()
    if existing is not None:
        existing.payload = payload
        add_rows(session, scope, [existing])
        return existing
    row = FinanceScenario(lessor_id=scope.lessor_id, lessee_id=scope.lessee_id, name=name, payload=payload)
    add_rows(session, scope, [row])
    return row


def load_scenario(session: Session, scope: Scope, name: str) -> ScenarioFile:
    """A saved scenario in scope, validated again (defaults may have changed since it was saved).

    The caller's own scenario of that name wins; the lessor may also open a lessee's when it has none of its own.
    """
    rows = session.exec(select_rows(scope, FinanceScenario, FinanceScenario.name == name)).all()
    row = next((r for r in rows if r.lessee_id == scope.lessee_id), rows[0] if rows else None)
    if row is None:
        raise LookupError(f"no saved scenario {name!r} in the scope of {scope.describe()}")
    return scenario_file_from_dict(row.payload)


def list_scenarios(session: Session, scope: Scope) -> list[str]:
    """Names of the saved scenarios in scope."""
    return [row.name for row in list_rows(session, scope, FinanceScenario, order_by=FinanceScenario.name)]
