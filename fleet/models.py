"""The lessor's whole business as SQLModel tables.

Conventions (enforced here, relied on everywhere):
- Money is integer fen (1 CNY = 100 fen) in columns named `*_fen`; unit prices that need sub-fen precision
  (CNY/kWh, CNY/kW·month) are `Decimal` in NUMERIC columns. No float money in the database.
- Energies in kWh, distances in km, power in kW, mass in kg.
- Timestamps are timezone-aware (`TZDateTime`): stored as UTC, returned in Asia/Shanghai. Dates are local dates.
- Tenant ownership: every row that belongs to a lessee carries `lessor_id` and `lessee_id` (`OwnedMixin`), so
  `fleet.scope` can filter every read and check every write with one rule. Shared reference tables
  (vehicle models, tariffs, emission factors) carry no lessee.
- Plans are versioned per (depot, service date): a version is written whole in one transaction, as a draft or
  published at once; publishing flips exactly one version to published in one transaction, so readers see the
  old plan or the new one, never a mix (docs/plan-versions.md).
- Stale-plan warnings: vehicles, orders, connectors, power groups, depots and tariffs carry `updated_at`, stamped on
  insert and on every ORM or Core update (`onupdate`); NULL on rows older than migration 0008 (= not known).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import JSON, Column, Field, SQLModel

from charging.billing import DemandBasis, TariffStructure

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


class TZDateTime(TypeDecorator):
    """Timezone-aware datetime on every backend: stored as UTC, returned in Asia/Shanghai.

    SQLite has no timezone type, so we normalise to naive UTC on the way in and re-attach the zone on the way
    out; PostgreSQL gets `timestamp with time zone`.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: give a timezone (Asia/Shanghai)")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(LOCAL_TZ)


def _ts(nullable: bool = True, *, now: bool = False) -> Any:
    """A timezone-aware timestamp column; `now=True` stamps the row's creation time."""
    if now:
        return Field(default_factory=utcnow, sa_column=Column(TZDateTime(), nullable=nullable))
    return Field(default=None, sa_column=Column(TZDateTime(), nullable=nullable))


def _updated() -> Any:
    """`updated_at`: stamped on insert and on every update of the row (stale-plan warnings compare it with the
    plan's `created_at`). A fresh Column per table."""
    return Field(
        default_factory=utcnow,
        sa_column=Column(TZDateTime(), nullable=True, default=utcnow, onupdate=utcnow),
    )


def _money_rate(precision: int = 12, scale: int = 4, nullable: bool = False) -> Any:
    """A unit price in CNY with sub-fen precision (e.g. 0.2961 CNY/kWh)."""
    return Field(sa_column=Column(sa.Numeric(precision, scale, asdecimal=True), nullable=nullable))


def _enum(enum_cls: type[enum.Enum], default: Any = ..., nullable: bool = False) -> Any:
    """An enum stored as its value in a VARCHAR (portable; no native PG enum types to migrate)."""
    sa_type = sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=30,
        values_callable=lambda e: [m.value for m in e],
    )
    if default is ...:
        return Field(sa_type=sa_type, nullable=nullable)
    return Field(default=default, sa_type=sa_type, nullable=nullable)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class VehicleKind(str, enum.Enum):
    BEV = "bev"
    DIESEL = "diesel"


class VehicleStatus(str, enum.Enum):
    AVAILABLE = "available"  # owned by the lessor, not on lease
    LEASED = "leased"
    OWNED_BY_LESSEE = "owned_by_lessee"  # the lessee's own (diesel) truck, part of its mixed fleet
    MAINTENANCE = "maintenance"
    RETIRED = "retired"


class LesseeKind(str, enum.Enum):
    PARCEL_COURIER = "parcel_courier"
    COLD_CHAIN = "cold_chain"
    ECOMMERCE = "ecommerce"
    OTHER = "other"


class Repayment(str, enum.Enum):
    ANNUITY = "annuity"
    EQUAL_PRINCIPAL = "equal_principal"


class Claimant(str, enum.Enum):
    """Who claims a leased truck's emission reduction (data/reference/METHODOLOGY.md §3: exactly one party)."""

    LESSEE = "lessee"
    LESSOR = "lessor"


class PlanStatus(str, enum.Enum):
    """A plan version's status. The published version is stored as 'current' (the value every reader, the partial
    unique index uq_*_one_current and migration 0004 already use); `PUBLISHED` is the same member under the name
    the planner sees."""

    DRAFT = "draft"  # stored, checked, not driven: a re-solve, an edit, a re-plan, a restore
    CURRENT = "current"  # the published version: the one drivers, charging, emissions and finance read
    PUBLISHED = "current"  # noqa: PIE796 (an alias of CURRENT on purpose)
    SUPERSEDED = "superseded"  # was published once, replaced by a later publish


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABANDONED = "abandoned"  # its runner died (kill -9, lost host): marked at the next nightly start


# --------------------------------------------------------------------------------------------------- tenants


class Lessor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=40)
    name: str = Field(max_length=200)
    created_at: dt.datetime | None = _ts(now=True)


class Lessee(SQLModel, table=True):
    """A logistics company leasing trucks from the lessor."""

    id: int | None = Field(default=None, primary_key=True)
    lessor_id: int = Field(foreign_key="lessor.id", index=True)
    code: str = Field(index=True, unique=True, max_length=40)
    name: str = Field(max_length=200)
    kind: LesseeKind = _enum(LesseeKind, LesseeKind.OTHER)
    unified_social_credit_code: str | None = Field(default=None, max_length=18)
    contact_email: str | None = Field(default=None, max_length=200)


class OwnedMixin(SQLModel):
    """Ownership columns of every tenant-owned row; `fleet.scope` filters and checks on them."""

    lessor_id: int = Field(foreign_key="lessor.id", index=True)
    lessee_id: int | None = Field(default=None, foreign_key="lessee.id", index=True)


# ------------------------------------------------------------------------------------------ reference data


class Tariff(SQLModel, table=True):
    """An electricity tariff: time-of-use multipliers (from `tariffs.json`) on a flat base price."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=60)
    name: str = Field(max_length=200)
    reference_id: str = Field(max_length=60, description="tariff id in data/reference/tariffs.json")
    base_price_cny_per_kwh: Decimal = _money_rate()
    base_price_source: str = Field(default="", max_length=200)
    demand_charge_cny_per_kw_month: Decimal | None = _money_rate(nullable=True)
    demand_charge_source: str = Field(default="", max_length=200)
    periods: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confidence: str = Field(default="unverified", max_length=20)
    updated_at: dt.datetime | None = _updated()


class VehicleModel(SQLModel, table=True):
    """An electric or diesel truck model with the planning values routing and emissions need."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=60)
    kind: VehicleKind = _enum(VehicleKind)
    maker: str = Field(default="", max_length=100)
    name: str = Field(max_length=200)
    vehicle_class: str = Field(default="", max_length=100)
    gvw_kg: float | None = None
    payload_kg: float
    price_fen: int
    # Electric only.
    battery_kwh: float | None = None
    usable_fraction: float | None = None
    consumption_kwh_per_km_empty: float | None = None
    consumption_kwh_per_km_full: float | None = None
    max_charge_kw: float | None = None
    # Diesel only.
    diesel_l_per_100km: float | None = None
    # Traceability: the vehicles.csv rows each value came from, and their weakest grade.
    source_refs: str = Field(default="", max_length=400)
    confidence: str = Field(default="unverified", max_length=20)


class EmissionFactor(SQLModel, table=True):
    """One row of the factor registry. Versioned by key: a key's value is never edited in place."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True, max_length=120)
    value: Decimal = Field(sa_column=Column(sa.Numeric(18, 8, asdecimal=True), nullable=False))
    unit: str = Field(max_length=40)
    data_year: int | None = None
    scope: str = Field(default="", max_length=60)
    region: str = Field(default="", max_length=100)
    source: str = Field(default="", sa_column=Column(sa.Text, nullable=False, default=""))
    confidence: str = Field(default="unverified", max_length=20)
    note: str = Field(default="", sa_column=Column(sa.Text, nullable=False, default=""))
    loaded_at: dt.datetime | None = _ts(now=True)


# ------------------------------------------------------------------------------------------- depots, fleet


class Depot(OwnedMixin, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=40)
    name: str = Field(max_length=200)
    address: str = Field(default="", max_length=300)
    district: str = Field(default="", max_length=60)
    latitude: float
    longitude: float
    grid_import_limit_kw: float
    tariff_id: int | None = Field(default=None, foreign_key="tariff.id")
    timezone: str = Field(default="Asia/Shanghai", max_length=60)
    # How the site's electricity is billed beyond energy (charging.billing; docs/charging-economics.md). The demand
    # rate [CNY/kW·month] is the tariff's; the depot says on what it is billed and whether the 2030 exemption holds.
    tariff_structure: TariffStructure = _enum(TariffStructure, TariffStructure.TWO_PART)
    demand_basis: DemandBasis = _enum(DemandBasis, DemandBasis.MAXIMUM_DEMAND)
    contracted_demand_kw: float | None = Field(default=None, description="contracted maximum demand [kW]")
    transformer_kva: float | None = Field(default=None, description="for the capacity basis [kVA]")
    capacity_rate_cny_per_kva_month: Decimal | None = _money_rate(nullable=True)
    centralised_charging_facility: bool = False
    charging_metered_separately: bool = False
    # Government funds and surcharges [CNY/kWh], added to every kWh bought, unscaled by the time-of-use
    # multipliers (data/reference/tariffs.md, step 4). Default 0.095: the Shenzhen 2023 table decomposed as
    # multiplier x base + adder gives 0.09-0.10 (tariffs.md "Example levels decomposed", own arithmetic, weak).
    funds_cny_per_kwh: Decimal = Field(
        default=Decimal("0.095"),
        sa_column=Column(sa.Numeric(12, 4, asdecimal=True), nullable=False, server_default="0.095"),
    )
    # Schedules the chargers can run: a truck's power changes at most this often a night (on and off count) and
    # is off or at least the minimum. Defaults are planning assumptions (unverified), editable per depot.
    charging_max_power_changes: int | None = Field(default=4)
    charging_min_kw: float | None = Field(default=5.0)
    # Not every truck can be charged: "max_ready" gets the most trucks the whole energy for their first route
    # first, then shares the rest by cost; "min_largest_share" spreads the shortage evenly (charging.fairness).
    charging_shortfall_policy: str = Field(
        default="max_ready", sa_column=Column(sa.String(30), nullable=False, server_default="max_ready")
    )
    # The site's load without the chargers (warehouse, cold rooms, offices) [kW]: 24 hourly or 96 quarter-hourly
    # values by local time of day. The meter bills the site's peak, base load included.
    base_load_kw: list[float] | None = Field(default=None, sa_type=JSON, nullable=True)
    updated_at: dt.datetime | None = _updated()
    # The grid zone the VPP aggregates the depot's flexibility in (fleet.vpp); NULL: its district.
    grid_zone: str | None = Field(default=None, max_length=60)
    # How the depot's routes are planned beyond the road network (fleet.planning.realism; docs/realism.md):
    # time-dependent travel ("none" | "shenzhen-rush-hour"), China's 4 h / 20 min driving rule, trips per truck
    # and the minutes a reload at the depot takes. Defaults keep the plans of a depot as they were before 0018
    # (breaks off for now although the rule is law: docs/realism.md says why and what it changes in the demo).
    routing_speed_profile: str = Field(
        default="none", sa_column=Column(sa.String(40), nullable=False, server_default="none")
    )
    routing_driver_breaks: bool = Field(
        default=False, sa_column=Column(sa.Boolean(), nullable=False, server_default=sa.false())
    )
    routing_max_trips: int = Field(
        default=1, sa_column=Column(sa.Integer(), nullable=False, server_default="1")
    )
    routing_reload_minutes: float = Field(
        default=30.0, sa_column=Column(sa.Float(), nullable=False, server_default="30")
    )


class PowerGroup(OwnedMixin, table=True):
    """A charging cabinet whose connectors share one power limit."""

    id: int | None = Field(default=None, primary_key=True)
    depot_id: int = Field(foreign_key="depot.id", index=True)
    code: str = Field(max_length=40)
    max_kw: float
    updated_at: dt.datetime | None = _updated()

    __table_args__ = (sa.UniqueConstraint("depot_id", "code"),)


class Connector(OwnedMixin, table=True):
    id: int | None = Field(default=None, primary_key=True)
    depot_id: int = Field(foreign_key="depot.id", index=True)
    code: str = Field(max_length=40)
    max_kw: float
    efficiency: float = 0.95
    v2g: bool = False
    power_group_id: int | None = Field(default=None, foreign_key="powergroup.id")
    updated_at: dt.datetime | None = _updated()

    __table_args__ = (sa.UniqueConstraint("depot_id", "code"),)


class Vehicle(OwnedMixin, table=True):
    """A truck. `lessee_id` is the lessee operating it now (through a lease, or its own diesel truck)."""

    id: int | None = Field(default=None, primary_key=True)
    plate: str = Field(index=True, unique=True, max_length=20)
    vin: str = Field(index=True, unique=True, max_length=17)
    model_id: int = Field(foreign_key="vehiclemodel.id", index=True)
    depot_id: int | None = Field(default=None, foreign_key="depot.id", index=True)
    status: VehicleStatus = _enum(VehicleStatus, VehicleStatus.AVAILABLE)
    commissioned_on: dt.date | None = None
    updated_at: dt.datetime | None = _updated()


class Lease(OwnedMixin, table=True):
    """One truck leased to one lessee; the financing terms are the lessor's for that truck."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=40)
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    start_date: dt.date
    end_date: dt.date
    monthly_rent_fen: int
    deposit_fen: int = 0
    replaced_diesel_model_id: int | None = Field(default=None, foreign_key="vehiclemodel.id")
    purchase_price_fen: int
    subsidy_fen: int = 0
    down_payment_fen: int = 0
    loan_annual_rate: Decimal = Field(
        default=Decimal(0), sa_column=Column(sa.Numeric(8, 6, asdecimal=True), nullable=False)
    )
    loan_term_months: int = 0
    repayment: Repayment = _enum(Repayment, Repayment.ANNUITY)
    residual_value_fen: int = 0
    maintenance_by_lessor: bool = True
    expected_km_per_year: float | None = None
    emissions_claimant: Claimant = _enum(Claimant, Claimant.LESSEE)
    # Lessor's costs and who bears them (fleet.finance; NULL = the graded default in fleet/finance/assumptions.py).
    insurance_by_lessor: bool | None = Field(default=None, description="NULL: as maintenance_by_lessor")
    tyres_by_lessor: bool | None = Field(default=None, description="NULL: as maintenance_by_lessor")
    telematics_by_lessor: bool | None = Field(default=None, description="NULL: the lessor")
    insurance_fen_per_month: int | None = None
    maintenance_cny_per_km: Decimal | None = _money_rate(nullable=True)
    maintenance_fixed_fen_per_month: int | None = None
    tyres_cny_per_km: Decimal | None = _money_rate(nullable=True)
    telematics_fen_per_month: int | None = None
    battery_reserve_cny_per_kwh: Decimal | None = _money_rate(nullable=True)
    overhead_fen_per_month: int | None = None
    bad_debt_share: Decimal | None = Field(
        default=None, sa_column=Column(sa.Numeric(6, 4, asdecimal=True), nullable=True)
    )
    dscr_covenant: Decimal | None = Field(
        default=None, sa_column=Column(sa.Numeric(6, 3, asdecimal=True), nullable=True)
    )
    llcr_covenant: Decimal | None = Field(
        default=None, sa_column=Column(sa.Numeric(6, 3, asdecimal=True), nullable=True)
    )
    # Carbon revenue counts in the base case only when the lease names a scheme and a price source.
    carbon_scheme: str | None = Field(default=None, max_length=120)
    carbon_price_source: str | None = Field(default=None, max_length=200)
    carbon_price_cny_per_t: Decimal | None = _money_rate(nullable=True)
    # VPP (fleet.vpp): the lessee's consent to V2G discharge of this truck, and its share of event revenue
    # (NULL: fleet.vpp.settlement.DEFAULT_LESSEE_SHARE, a planning assumption).
    v2g_consent: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    vpp_lessee_share: Decimal | None = Field(
        default=None, sa_column=Column(sa.Numeric(6, 4, asdecimal=True), nullable=True)
    )


# ---------------------------------------------------------------------------------------------- operations


class Order(OwnedMixin, table=True):
    """A delivery job for one service date. (lessee, external_ref) is unique so re-imports are not doubled."""

    id: int | None = Field(default=None, primary_key=True)
    depot_id: int = Field(foreign_key="depot.id", index=True)
    external_ref: str = Field(max_length=60)
    service_date: dt.date = Field(index=True)
    address: str = Field(default="", max_length=300)
    latitude: float
    longitude: float
    demand_kg: float
    window_start: dt.datetime | None = _ts(nullable=False)
    window_end: dt.datetime | None = _ts(nullable=False)
    service_minutes: float
    required_kind: VehicleKind | None = _enum(VehicleKind, None, nullable=True)
    priority: int = 0
    # For the driver's route sheet and the map's stop labels; optional because many order feeds carry none.
    customer_name: str | None = Field(default=None, max_length=200)
    customer_phone: str | None = Field(default=None, max_length=40)
    notes: str | None = Field(default=None, max_length=500)
    updated_at: dt.datetime | None = _updated()

    __table_args__ = (sa.UniqueConstraint("lessee_id", "external_ref"),)


class ImportBatch(OwnedMixin, table=True):
    """One file import, kept to detect a repeated import of the same content."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    filename: str = Field(max_length=300)
    sha256: str = Field(max_length=64, index=True)
    rows: int
    created_at: dt.datetime | None = _ts(now=True)

    # The database, not a read-then-insert check, makes a file importable once per owner: two simultaneous
    # imports of the same content cannot both succeed. Lessee batches: plain unique (lessee_id is set);
    # the lessor's own batches (lessee_id NULL, which a unique constraint treats as distinct): a partial index.
    __table_args__ = (
        sa.UniqueConstraint("lessee_id", "kind", "sha256", name="uq_importbatch_lessee_file"),
        sa.Index(
            "uq_importbatch_lessor_file",
            "lessor_id",
            "kind",
            "sha256",
            unique=True,
            sqlite_where=sa.text("lessee_id IS NULL"),
            postgresql_where=sa.text("lessee_id IS NULL"),
        ),
    )


# --------------------------------------------------------------------------------------------------- plans


class PlanMixin(OwnedMixin):
    """The columns every versioned plan shares: its depot and date, its version and status, and provenance.

    `problem` and `solution` hold the exact solver input and output (JSON of routing/charging), so any stored plan
    can be re-checked by the independent checkers and every figure traced back to its inputs. Columns are declared
    with `sa_type`, never a shared `sa_column`, so each table gets its own Column objects.
    """

    id: int | None = Field(default=None, primary_key=True)
    depot_id: int = Field(foreign_key="depot.id", index=True)
    service_date: dt.date = Field(index=True)
    version: int
    status: PlanStatus = _enum(PlanStatus, PlanStatus.DRAFT)
    created_at: dt.datetime | None = Field(default_factory=utcnow, sa_type=TZDateTime, nullable=True)
    job_run_id: int | None = Field(default=None, foreign_key="jobrun.id")
    solver_stats: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    problem: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    solution: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


def _plan_version_unique(table: str) -> tuple[sa.UniqueConstraint, sa.Index]:
    """One version number per depot and service date, and at most ONE current version of it (a partial unique
    index: two nightly runs racing for the same depot-day cannot both leave a current plan)."""
    current = sa.text("status = 'current'")
    return (
        sa.UniqueConstraint("depot_id", "service_date", "version"),
        sa.Index(
            f"uq_{table}_one_current",
            "depot_id",
            "service_date",
            unique=True,
            sqlite_where=current,
            postgresql_where=current,
        ),
    )


class RoutePlan(PlanMixin, table=True):
    """One version of a depot's routes for one service date."""

    vehicles_used: int = 0
    total_km: float = 0.0
    total_kwh: float = 0.0
    total_litres: float = 0.0
    total_cost_fen: int = 0
    unserved: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Provenance of the version (docs/plan-versions.md): who made it, why, how, from which version.
    author: str = Field(default="", max_length=80)
    reason: str = Field(default="", max_length=500)
    origin: str = Field(default="", max_length=20, description="nightly | solve | edit | restore | replan")
    based_on_version: int | None = None
    published_at: dt.datetime | None = _ts()
    published_by: str | None = Field(default=None, max_length=80)
    # Which model produced the travel matrices (docs/road-networks.md): {"provider": "haversine", "detour_factor",
    # "speed_kmh"} or {"provider": "osm", "source", "sha256", ...} or {"provider": "osrm"|"valhalla", "source",
    # ...}. NULL for plans stored before it was recorded (they were all haversine).
    road_network: dict[str, Any] | None = Field(default=None, sa_type=JSON, nullable=True)
    # What else shaped the routes (fleet.planning.realism.settings_record): speed profile (name, periods),
    # access zones (names, SHA-256 of their geometry and rules), break rule, trips and reload minutes. NULL for
    # plans stored before 0018 (none of these were used then).
    routing_settings: dict[str, Any] | None = Field(default=None, sa_type=JSON, nullable=True)

    __table_args__ = _plan_version_unique("routeplan")


class RouteStop(OwnedMixin, table=True):
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="routeplan.id", index=True)
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    sequence: int
    kind: str = Field(max_length=20, description="depot | job | station")
    order_id: int | None = Field(default=None, foreign_key="order.id")
    station_ref: str | None = Field(default=None, max_length=60)
    latitude: float
    longitude: float
    arrival: dt.datetime | None = _ts()
    service_start: dt.datetime | None = _ts()
    departure: dt.datetime | None = _ts()
    load_kg: float = 0.0
    soc_arrival_kwh: float | None = None
    soc_departure_kwh: float | None = None
    charged_kwh: float = 0.0
    km_from_previous: float = 0.0


class ChargingPlan(PlanMixin, table=True):
    """One version of a depot's overnight charging schedule, for the night before `service_date`."""

    slot_minutes: int = 15
    horizon_start: dt.datetime | None = _ts()
    horizon_end: dt.datetime | None = _ts()
    energy_cost_fen: int = 0
    demand_cost_fen: int = 0
    export_revenue_fen: int = 0
    total_cost_fen: int = 0
    peak_kw: float = 0.0
    total_kwh: float = 0.0
    baselines: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    unmet: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))

    __table_args__ = _plan_version_unique("chargingplan")


class ChargingSlot(OwnedMixin, table=True):
    """Grid-side power of one vehicle on one connector in one slot (negative = discharge)."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="chargingplan.id", index=True)
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    connector_id: int | None = Field(default=None, foreign_key="connector.id")
    slot_start: dt.datetime | None = _ts(nullable=False)
    power_kw: float


# ----------------------------------------------------------------------------------------- metered records


class VehicleDay(OwnedMixin, table=True):
    """Metered daily distance and energy of one vehicle (telematics or odometer + charger meter).

    Not unique per (vehicle, day) on purpose: duplicates in imported data are kept and flagged by the
    emissions data-quality checks rather than silently dropped.
    """

    id: int | None = Field(default=None, primary_key=True)
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    depot_id: int | None = Field(default=None, foreign_key="depot.id")
    day: dt.date = Field(index=True)
    km: float
    kwh_vehicle: float | None = None
    kwh_charger: float | None = None
    tonne_km: float | None = None
    diesel_litres: float | None = None
    source: str = Field(default="telematics", max_length=40)
    import_batch_id: int | None = Field(default=None, foreign_key="importbatch.id")

    # One lessee's year (its emissions report and submission package) is read by (lessee_id, day): at a real
    # lessor's scale (29 M rows, docs/scale.md) that is an index range, not a scan.
    __table_args__ = (sa.Index("ix_vehicleday_lessee_day", "lessee_id", "day"),)


class VehicleDayMonth(SQLModel, table=True):
    """A derived summary of `vehicleday`: one row per vehicle, record lessee and calendar month (issue 24).

    What the lessor's emissions table and the Overview need from 29 M metered days, aggregated once:
    sums of km and kWh split the way the per-day calculation uses them (charger reading, else vehicle-side kWh),
    and the counts and maxima that tell whether every row of the vehicle-month would pass the per-row
    data-quality checks (`fleet.emissions.quality`). `fleet.emissions.monthly` computes the figures from it and
    screens a vehicle-month that might hold a flagged row day by day instead.

    A cache, not a record: no foreign keys (it is rebuilt whole by `fleet.emissions.monthly.refresh`), and it is
    used only while `VehicleDayMonthState.write_mark` equals the PostgreSQL sequence that every write to
    `vehicleday` advances (migration 0016's statement trigger); otherwise the same sums are computed live.
    """

    id: int | None = Field(default=None, primary_key=True)
    lessor_id: int = Field(index=True)
    lessee_id: int | None = Field(default=None)
    vehicle_id: int = Field(index=True)
    year: int
    month: int
    n_rows: int
    n_days: int  # distinct days: fewer than n_rows means a duplicate vehicle-day
    first_day: dt.date
    last_day: dt.date
    km: float  # [km]
    kwh_charger: float  # [kWh] sum over the rows with a charger reading
    kwh_vehicle_only: float  # [kWh] vehicle-side kWh of the rows without a charger reading
    n_vehicle_only: int  # rows with vehicle-side kWh and no charger reading
    n_charger_null: int  # rows without a charger reading (charging sessions may fill them)
    tonne_km: float  # [t km] (NULL counts 0, as the per-day calculation)
    diesel_litres: float  # [L]
    n_diesel: int  # rows with diesel litres
    n_suspect: int  # rows failing a check that needs no lease (negative or implausible values, no energy)
    max_kwh_vehicle: float | None = None  # [kWh]
    max_kwh_charger_only: float | None = None  # [kWh] among rows without vehicle-side kWh

    __table_args__ = (sa.Index("ix_vehicledaymonth_lessee_year_month", "lessee_id", "year", "month"),)


class VehicleDayMonthState(SQLModel, table=True):
    """When `VehicleDayMonth` was rebuilt and the `vehicleday` write mark it was rebuilt at (one row)."""

    id: int | None = Field(default=None, primary_key=True)
    write_mark: int
    refreshed_at: dt.datetime | None = _ts(now=True)
    rows: int = 0  # vehicleday rows summarised


class VehicleDayMonthDirty(SQLModel, table=True):
    """A (vehicle, year, month) key written in `vehicleday` since `VehicleDayMonth` was refreshed (migration 0020:
    PostgreSQL statement triggers fill it; `fleet.emissions.monthly.refresh_incremental` recomputes the keys and
    empties it). Sentinels: vehicle_id 0 = the whole summary stale, -1 = every cached emissions table stale (an
    input other than `vehicleday` written). Duplicates allowed (no unique key: writers never wait on each other)."""

    id: int | None = Field(default=None, primary_key=True)
    vehicle_id: int
    year: int
    month: int


class EmissionsTableCache(SQLModel, table=True):
    """The lessor's emissions table (`fleet.emissions.monthly.lessor_table`) for one year and profile, as JSON,
    built by `fleet.emissions.monthly.refresh` and used only while `input_mark` equals the PostgreSQL sequence
    that every write to its inputs (metered days, leases, vehicles, connectors, models, sessions, lessees,
    factors) advances (migration 0016). A cache: rebuilt, never edited; no foreign keys."""

    id: int | None = Field(default=None, primary_key=True)
    lessor_id: int = Field(index=True)
    year: int
    profile_id: str = Field(max_length=40)
    input_mark: int
    built_at: dt.datetime | None = _ts(now=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))

    __table_args__ = (
        sa.UniqueConstraint("lessor_id", "year", "profile_id", name="uq_emissionstablecache_key"),
    )


class SiteMeterReading(OwnedMixin, table=True):
    """The site meter's average import over one 15-minute interval [kW], base load and charging together: what
    the maximum-demand charge is billed on."""

    id: int | None = Field(default=None, primary_key=True)
    depot_id: int = Field(foreign_key="depot.id", index=True)
    interval_start: dt.datetime | None = _ts(nullable=False)
    kw: float
    import_batch_id: int | None = Field(default=None, foreign_key="importbatch.id")

    __table_args__ = (sa.UniqueConstraint("depot_id", "interval_start", name="uq_sitemeterreading_interval"),)


class ChargingSession(OwnedMixin, table=True):
    """A metered charging session at a depot connector or a public station."""

    id: int | None = Field(default=None, primary_key=True)
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    depot_id: int | None = Field(default=None, foreign_key="depot.id")
    connector_id: int | None = Field(default=None, foreign_key="connector.id")
    started_at: dt.datetime | None = _ts(nullable=False)
    ended_at: dt.datetime | None = _ts(nullable=False)
    kwh: float
    cost_fen: int | None = None
    import_batch_id: int | None = Field(default=None, foreign_key="importbatch.id")
    # State of charge the vehicle reported at the start and end [%], when the import has it: with kWh they give the
    # battery's usable capacity, hence its state of health (fleet/finance/battery.py).
    soc_start_pct: float | None = None
    soc_end_pct: float | None = None


class ChargingAlert(OwnedMixin, table=True):
    """A deviation the CSMS found between the published plan and what a charger did (fleet.csms.deviation):
    above its profile, behind plan, profile accepted but not followed, rejected, read-back failed, silent."""

    id: int | None = Field(default=None, primary_key=True)
    depot_id: int = Field(foreign_key="depot.id", index=True)
    connector_id: int | None = Field(default=None, foreign_key="connector.id")
    vehicle_id: int | None = Field(default=None, foreign_key="vehicle.id")
    service_date: dt.date = Field(index=True)
    kind: str = Field(max_length=40)
    message: str = Field(default="", sa_column=Column(sa.Text, nullable=False, default=""))
    readiness_at_risk: bool = False
    raised_at: dt.datetime | None = _ts(nullable=False)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ConnectorLiveState(OwnedMixin, table=True):
    """A connector's live state as the CSMS last saw it (one row per connector, overwritten)."""

    __tablename__ = "connectorlivestate"

    id: int | None = Field(default=None, primary_key=True)
    depot_id: int = Field(foreign_key="depot.id", index=True)
    connector_id: int = Field(foreign_key="connector.id", unique=True)
    charger_id: str = Field(max_length=80)
    protocol: str = Field(default="", max_length=20)
    status: str = Field(default="Unknown", max_length=30)
    vehicle_id: int | None = Field(default=None, foreign_key="vehicle.id")
    transaction_id: str | None = Field(default=None, max_length=60)
    power_kw: float | None = None
    session_kwh: float = 0.0
    profile_status: str = Field(default="", max_length=30)
    readback: str = Field(default="", max_length=20)
    last_seen_at: dt.datetime | None = _ts()
    updated_at: dt.datetime | None = _ts()


class EmissionClaim(SQLModel, table=True):
    """One vehicle-day's avoided emissions claimed under one scheme by one submission package.

    The unique constraint on (vehicle, day, scheme) makes a second claim impossible, also between two builds
    running at the same time: the second insert waits for the first transaction and then fails. The rows are
    written in the same transaction as the package (fleet/submission/run.py). `lessee_id` is the claiming lessee,
    NULL when the lessor claims. Not in OWNED_TABLES: claims are read and written only by fleet/emissions/claims.py,
    which filters on the lessor and, in a lessee's scope, on the lessee's own vehicles.
    """

    id: int | None = Field(default=None, primary_key=True)
    lessor_id: int = Field(foreign_key="lessor.id", index=True)
    lessee_id: int | None = Field(default=None, foreign_key="lessee.id")
    vehicle_id: int = Field(foreign_key="vehicle.id")
    day: dt.date
    scheme: str = Field(max_length=60)
    report_id: str = Field(max_length=160, index=True)
    claimant_code: str = Field(max_length=40)
    package: str = Field(default="", max_length=300)
    claimed_at: dt.datetime | None = _ts(now=True)

    __table_args__ = (
        sa.UniqueConstraint("vehicle_id", "day", "scheme", name="uq_emissionclaim_vehicle_day_scheme"),
    )


class AccessZone(SQLModel, table=True):
    """A lessor-wide access zone (a city's green-logistics zone, a diesel ban): polygon and rules per vehicle kind
    and hours, applied by the nightly to every depot-day with a stop inside (fleet.planning.realism).

    `polygon`: the outer ring as [lon, lat] pairs [deg] (WGS 84, as in GeoJSON), not closed. `rules`: [{"kinds":
    ["diesel"], "plates": [...], "barred": [[start, end], ...]}], barred periods in minutes of the local day
    (none = all day), the routing library's AccessRule (routing/problem.py, 'Access zones'). Imported from
    GeoJSON (`evfleet zones import`). Not in OWNED_TABLES: no lessee owns a city's rules; read and written only
    by fleet.planning.realism, which filters on the lessor.
    """

    id: int | None = Field(default=None, primary_key=True)
    lessor_id: int = Field(foreign_key="lessor.id", index=True)
    name: str = Field(max_length=80)
    polygon: list[list[float]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rules: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source: str = Field(default="", max_length=300)
    updated_at: dt.datetime | None = _updated()

    __table_args__ = (sa.UniqueConstraint("lessor_id", "name", name="uq_accesszone_lessor_name"),)


# ----------------------------------------------------------------------------------------- jobs, scenarios


class JobRun(OwnedMixin, table=True):
    """One depot-day of a nightly run."""

    id: int | None = Field(default=None, primary_key=True)
    run_key: str = Field(max_length=60, index=True, description="identifies one invocation of the job")
    depot_id: int = Field(foreign_key="depot.id", index=True)
    service_date: dt.date = Field(index=True)
    status: JobStatus = _enum(JobStatus, JobStatus.QUEUED)
    attempt: int = 0
    queued_at: dt.datetime | None = _ts(now=True)
    started_at: dt.datetime | None = _ts()
    finished_at: dt.datetime | None = _ts()
    duration_s: float | None = None
    error: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    traceback: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    stats: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Liveness: the runner (host:pid) stamps `heartbeat_at` while the job is queued or running; a job whose
    # runner is gone is marked ABANDONED by the next nightly start (`fleet.nightly.abandon_stale_jobs`).
    heartbeat_at: dt.datetime | None = _ts()
    runner: str | None = Field(default=None, max_length=120)


class AuditEvent(OwnedMixin, table=True):
    """Who changed what, when: one row per change of an audited row (rent, vehicle status, depot billing) or per
    plan event (stored, published, restored). Append-only: nothing in evfleet updates or deletes these rows."""

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime | None = _ts(now=True)
    actor: str = Field(
        max_length=200, description="signed-in user, 'cli:<os user>', 'nightly' or 'api:<key>'"
    )
    entity: str = Field(max_length=40, index=True, description="table name, e.g. lease, vehicle, routeplan")
    entity_key: str = Field(
        max_length=120, index=True, description="the row's business key (code, plate, id)"
    )
    action: str = Field(max_length=30, description="update | create | publish | restore | ...")
    changes: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False), description="field -> [before, after]"
    )
    reason: str = Field(default="", max_length=500)


class FinanceScenario(OwnedMixin, table=True):
    """A named set of lease-economics inputs (the JSON scenario format of `fleet.finance`)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime | None = _ts(now=True)

    # One namespace per owner: a lessee's names and the lessor's own names never collide, and no uniqueness
    # error tells one lessee which names another lessee uses.
    __table_args__ = (
        sa.UniqueConstraint("lessor_id", "lessee_id", "name", name="uq_financescenario_owner_name"),
        sa.Index(
            "uq_financescenario_lessor_name",
            "lessor_id",
            "name",
            unique=True,
            sqlite_where=sa.text("lessee_id IS NULL"),
            postgresql_where=sa.text("lessee_id IS NULL"),
        ),
    )


# Tables whose rows belong to a lessee (or to the lessor when lessee_id is NULL); see fleet.scope.
OWNED_TABLES: tuple[type[SQLModel], ...] = (
    Depot,
    PowerGroup,
    Connector,
    Vehicle,
    Lease,
    Order,
    ImportBatch,
    RoutePlan,
    RouteStop,
    ChargingPlan,
    ChargingSlot,
    VehicleDay,
    ChargingSession,
    SiteMeterReading,
    JobRun,
    FinanceScenario,
    AuditEvent,
    ChargingAlert,
    ConnectorLiveState,
)
# Shared reference tables: readable in every scope, writable only by the lessor.
SHARED_TABLES: tuple[type[SQLModel], ...] = (Tariff, VehicleModel, EmissionFactor)


# --------------------------------------------------------------------------------- telematics and the API


class TelematicsFrame(SQLModel, table=True):
    """One GB/T 32960 frame as received, append-only (fleet/telematics/store.py never updates or deletes).

    Rejected frames are kept too (`status` 'rejected', `reason` the decoder's or the server's code) so a count
    can be checked against the bytes. Not in OWNED_TABLES: the server writes before it knows an owner (unknown
    VINs); readers filter on `vehicle_id` of vehicles in their scope. `lessor_id`/`lessee_id` are the vehicle's
    owners at receipt, NULL for an unknown VIN.
    """

    id: int | None = Field(default=None, primary_key=True)
    received_at: dt.datetime | None = _ts(now=True)
    vin: str = Field(default="", max_length=17, index=True)
    vehicle_id: int | None = Field(default=None, foreign_key="vehicle.id")
    lessor_id: int | None = Field(default=None, foreign_key="lessor.id")
    lessee_id: int | None = Field(default=None, foreign_key="lessee.id")
    version: str = Field(default="", max_length=4)
    command: int | None = None
    collected_at: dt.datetime | None = _ts()
    status: str = Field(default="accepted", max_length=10)
    reason: str = Field(default="", max_length=40)
    source: str = Field(default="", max_length=120, description="peer address or replayed file")
    raw: bytes = Field(sa_column=Column(sa.LargeBinary, nullable=False))

    __table_args__ = (sa.Index("ix_telematicsframe_vehicle_time", "vehicle_id", "collected_at"),)


class TelematicsDay(SQLModel, table=True):
    """What one vehicle's frames say about one local day: distance from odometer deltas, energy charged and
    driven from voltage x current integrated, and the state-of-charge trace. The metered record it feeds is the
    VehicleDay row `vehicle_day_id` (source 'telematics:gbt32960'). Re-derived in place when frames arrive late.
    """

    id: int | None = Field(default=None, primary_key=True)
    lessor_id: int = Field(foreign_key="lessor.id", index=True)
    lessee_id: int | None = Field(default=None, foreign_key="lessee.id", index=True)
    vehicle_id: int = Field(foreign_key="vehicle.id")
    day: dt.date
    km: float
    kwh_charged: float
    kwh_driven: float
    frames: int
    gap_s: float = Field(default=0.0, description="seconds between samples too far apart to integrate")
    soc_trace: list[list[Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    vehicle_day_id: int | None = Field(default=None, foreign_key="vehicleday.id")
    derived_at: dt.datetime | None = _ts(now=True)

    __table_args__ = (sa.UniqueConstraint("vehicle_id", "day", name="uq_telematicsday_vehicle_day"),)


class ApiKey(SQLModel, table=True):
    """A credential for the REST API bound to a scope: the lessor (lessee_id NULL: sees all) or one lessee.

    Only the SHA-256 of the secret is stored; `prefix` (the first characters) identifies a key in lists and
    logs without revealing it."""

    id: int | None = Field(default=None, primary_key=True)
    lessor_id: int = Field(foreign_key="lessor.id", index=True)
    lessee_id: int | None = Field(default=None, foreign_key="lessee.id")
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=16, index=True)
    key_sha256: str = Field(max_length=64, unique=True)
    created_at: dt.datetime | None = _ts(now=True)
    revoked_at: dt.datetime | None = _ts()


class IdempotencyRecord(SQLModel, table=True):
    """The answer to one write made with an Idempotency-Key: a retry with the same key and body gets the same
    answer, the same key with another body is refused (fleet/api/idempotency.py)."""

    id: int | None = Field(default=None, primary_key=True)
    api_key_id: int = Field(foreign_key="apikey.id")
    key: str = Field(max_length=120)
    request_sha256: str = Field(max_length=64)
    status_code: int
    response: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime | None = _ts(now=True)

    __table_args__ = (sa.UniqueConstraint("api_key_id", "key", name="uq_idempotencyrecord_key"),)
