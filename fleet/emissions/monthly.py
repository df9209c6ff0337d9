"""Monthly emissions figures of many vehicles from SQL sums: the lessor's table and the Overview tile (issue 24).

The per-day path (`fleet.emissions.service.report_from_db`) reads every metered vehicle-day into Python, screens
it and computes it: right for one lessee's submission package, hopeless for a lessor's 29 M rows (74 s on the
lessor's Emissions page, docs/scale.md). Every per-day formula is linear in km, kWh and litres
(`fleet.emissions.profiles`: BE = D x SFC/100 x rho x EF x IR_t, PE = EC x EF_EL x TDL, LE = BE x f), so the sum
over a group of vehicle-days that share the lease's parameters (L/100 km, first service year, charging
efficiency, claimant) equals the formula applied to the group's sums. This module therefore:

1. sums `vehicleday` per vehicle and month in SQL: from `VehicleDayMonth` (the summary table, when its write
   mark is current) or live (`GROUP BY` over the day index range);
2. decides in SQL, per vehicle-month, whether every row would pass the per-row checks of
   `fleet.emissions.quality.screen_rows` (no duplicate day, no negative or implausible value, an energy reading,
   exactly one valid lease of the vehicle in scope covering all its days, the record's lessee that lease's,
   a charging efficiency where only vehicle-side kWh exists, under twice the battery, no charging session that
   could fill a missing charger reading, the profile's baseline method applicable to all rows);
3. applies the formulas to the sums of those "clean" vehicle-months, grouped by claimant, month and lease
   parameters (a few thousand groups at full size);
4. screens and computes the other vehicle-months day by day exactly as the per-day path does, reading only
   their rows and their vehicles' leases.

Ex-post is thus the per-day path's figure (up to the order of floating-point summation), and so is ex-ante: on a
vehicle-day with a current route plan the plan's figures (`fleet.emissions.plan_ante`: the lessor's current plans
in the period read in four queries, split by lessee, turned into plan days by the per-day path's own function
`fleet.emissions.plans.plan_days`, screened and computed day by day as there), on the other lease days the lease's
expectation (expected km per year / days in the year, the model's mean consumption), counted per lease and month
without reading a day. A cached table names the current plans it was computed with (`plans_mark`): plans are no
input of the write marks, and a plan published or superseded since makes it stale (`cached_lessor_table`,
`refresh_incremental`).
ASSUMPTION: a vehicle's leases do not overlap (leases of a vehicle with two valid leases in scope are never
"clean"; their ex-ante expectation is computed per lease without the per-day path's duplicate screening).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session

from fleet.emissions.calc import EX_POST, DayResult, Period, Totals, compute_day, total
from fleet.emissions.plan_ante import PlanAnte, plan_ante
from fleet.emissions.plans import plans_mark
from fleet.emissions.profiles import (
    ResolvedProfile,
    baseline_distance_t,
    baseline_fuel_t,
    improvement_factor,
    leakage_t,
    project_t,
    reduction_t,
)
from fleet.emissions.quality import QualityThresholds, screen_rows
from fleet.models import (
    ChargingSession,
    Claimant,
    Connector,
    EmissionsTableCache,
    Lessee,
    Vehicle,
    VehicleDayMonth,
    VehicleDayMonthDirty,
    VehicleDayMonthState,
    VehicleModel,
)
from fleet.models import Lease as LeaseRow
from fleet.models import VehicleDay as VehicleDayRow
from fleet.scope import Scope

WRITE_MARK_SEQUENCE = "vehicleday_write_mark"  # migration 0016
INPUT_TABLES = (  # migration 0016: what the lessor's emissions table is computed from
    "vehicleday",
    "lease",
    "vehicle",
    "connector",
    "vehiclemodel",
    "chargingsession",
    "lessee",
    "depot",
    "emissionfactor",
)
REFRESH_LOCK = (
    240_160  # pg_advisory_xact_lock key serialising `refresh` and `refresh_incremental` (arbitrary)
)
LIMITS = QualityThresholds()  # the summary's n_suspect uses the default limits, as the app's reports do

Key = tuple[int, int, int]  # vehicle id, year, month


# ------------------------------------------------------------------------------------------- the summary table
def _write_mark(conn: sa.Connection) -> int | None:
    """The `vehicleday` write mark (PostgreSQL sequence advanced by every write statement); None elsewhere."""
    if conn.dialect.name != "postgresql":
        return None
    row = conn.execute(sa.text(f"SELECT last_value, is_called FROM {WRITE_MARK_SEQUENCE}")).one()
    return int(row[0]) if row[1] else 0


def summary_is_current(session: Session) -> bool:
    """Whether `VehicleDayMonth` holds every committed write to `vehicleday` (PostgreSQL only)."""
    conn = session.connection()
    mark = _write_mark(conn)
    if mark is None:
        return False
    state = conn.execute(sa.select(VehicleDayMonthState.write_mark)).scalars().first()
    return state is not None and int(state) == mark


def _vd_month_columns(vd: sa.Table, limits: QualityThresholds = LIMITS) -> list[sa.ColumnElement]:
    """Per (vehicle, lessee, month) sums and check counts, named as VehicleDayMonth's columns."""
    c = vd.c
    charger_null = c.kwh_charger.is_(None)
    one = sa.literal(1)
    zero = sa.literal(0)
    suspect = sa.or_(
        c.km < 0,
        c.km > limits.max_km_per_day,
        c.kwh_charger < 0,
        c.kwh_vehicle < 0,
        c.tonne_km < 0,
        c.diesel_litres < 0,
        sa.and_(charger_null, c.kwh_vehicle.is_(None)),
    )
    return [
        sa.func.count().label("n_rows"),
        sa.func.count(sa.distinct(c.day)).label("n_days"),
        sa.func.min(c.day).label("first_day"),
        sa.func.max(c.day).label("last_day"),
        sa.func.sum(c.km).label("km"),
        sa.func.coalesce(sa.func.sum(c.kwh_charger), 0.0).label("kwh_charger"),
        sa.func.coalesce(sa.func.sum(sa.case((charger_null, c.kwh_vehicle))), 0.0).label("kwh_vehicle_only"),
        sa.func.sum(sa.case((sa.and_(charger_null, c.kwh_vehicle.isnot(None)), one), else_=zero)).label(
            "n_vehicle_only"
        ),
        sa.func.sum(sa.case((charger_null, one), else_=zero)).label("n_charger_null"),
        sa.func.coalesce(sa.func.sum(c.tonne_km), 0.0).label("tonne_km"),
        sa.func.coalesce(sa.func.sum(c.diesel_litres), 0.0).label("diesel_litres"),
        sa.func.count(c.diesel_litres).label("n_diesel"),
        sa.func.sum(sa.case((suspect, one), else_=zero)).label("n_suspect"),
        sa.func.max(c.kwh_vehicle).label("max_kwh_vehicle"),
        sa.func.max(sa.case((c.kwh_vehicle.is_(None), c.kwh_charger))).label("max_kwh_charger_only"),
    ]


def _year_month(column: sa.ColumnElement) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    return (
        sa.cast(sa.extract("year", column), sa.Integer).label("year"),
        sa.cast(sa.extract("month", column), sa.Integer).label("month"),
    )


def refresh(session: Session) -> int:
    """Rebuild `VehicleDayMonth` from `vehicleday` in one transaction; returns the vehicle-months written.

    PostgreSQL: `LOCK TABLE vehicleday IN SHARE MODE` first, so writers that have not committed finish before
    the write mark is read and none starts until the summary is committed (the mark then names exactly the rows
    summed). On another database the summary is built but never used (no write mark)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})"))  # one refresh at a time
        conn.execute(sa.text("LOCK TABLE vehicleday IN SHARE MODE"))
    mark = _write_mark(conn)
    vd = VehicleDayRow.__table__
    year, month = _year_month(vd.c.day)
    query = sa.select(vd.c.lessor_id, vd.c.lessee_id, vd.c.vehicle_id, year, month, *_vd_month_columns(vd))
    query = query.group_by(vd.c.lessor_id, vd.c.lessee_id, vd.c.vehicle_id, year, month)
    target = VehicleDayMonth.__table__
    conn.execute(sa.delete(target))
    names = [c.name for c in query.selected_columns]
    conn.execute(sa.insert(target).from_select(names, query))
    written = int(conn.execute(sa.select(sa.func.count()).select_from(target)).scalar_one())
    rows = int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(target.c.n_rows), 0))).scalar_one())
    conn.execute(sa.delete(VehicleDayMonthState.__table__))
    conn.execute(
        sa.insert(VehicleDayMonthState.__table__).values(
            write_mark=mark if mark is not None else -1, rows=rows, refreshed_at=dt.datetime.now(dt.UTC)
        )
    )
    # Every vehicleday key is in the summary now (writers wait on the SHARE lock); the tables' sentinel goes once
    # the tables are rebuilt below under the locks on every input.
    dirty = VehicleDayMonthDirty.__table__
    conn.execute(sa.delete(dirty).where(dirty.c.vehicle_id != ALL_TABLES))
    if conn.dialect.name == "postgresql":
        # The lessor's emissions tables for the years with data and the current one, every profile, under SHARE
        # locks on their inputs: writers in flight finish first, none starts before the commit, so the input
        # mark names exactly what was read. Statistics first, not at autovacuum's leisure: without them the planner
        # takes the 960,000-row summary for a few dozen rows (minutes instead of seconds at full size).
        conn.execute(sa.text("ANALYZE vehicledaymonth"))
        conn.execute(sa.text(f"LOCK TABLE {', '.join(INPUT_TABLES)} IN SHARE MODE"))
        years = set(conn.execute(sa.select(target.c.year).distinct()).scalars()) | {dt.date.today().year}
        _store_tables(session, years)
        conn.execute(sa.delete(dirty))
    return written


# ------------------------------------------------------------------------------------ incremental upkeep (0020)
ALL_SUMMARY = (
    0  # VehicleDayMonthDirty.vehicle_id sentinel: every summary row stale (TRUNCATE, or pre-0020 writes)
)
ALL_TABLES = -1  # sentinel: every cached table stale (an input other than vehicleday was written)
YEAR_TABLES = -2  # sentinel with a year: that year's cached tables stale (its keys are summarised already)
SMALL_DIRTY = 5_000  # vehicle-month keys the Emissions page brings up to date itself before computing live


@dataclass
class IncrementalRefresh:
    """What `refresh_incremental` did."""

    keys: int = 0  # vehicle-month keys recomputed
    summary_rows: int = 0  # VehicleDayMonth rows written for them
    years: list[int] = field(default_factory=list)  # years whose cached tables were recomputed
    tables: int = 0  # EmissionsTableCache rows computed
    restamped: int = 0  # cached tables of other years carried over to the new input mark
    full: bool = False  # a whole rebuild was needed (no summary yet, TRUNCATE, or writes before 0020)
    tables_left_stale: bool = False  # another input was written and the caller asked for the summary only


def dirty_keys(session: Session) -> int | None:
    """The distinct (vehicle, year, month) keys written since the summary was refreshed (sentinels not counted);
    None where there is no summary path (not PostgreSQL)."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return None
    d = VehicleDayMonthDirty.__table__
    keys = sa.select(d.c.vehicle_id, d.c.year, d.c.month).where(d.c.vehicle_id > 0).distinct().subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(keys)).scalar_one())


def _dirty_set(conn: sa.Connection) -> set[Key]:
    d = VehicleDayMonthDirty.__table__
    rows = conn.execute(sa.select(d.c.vehicle_id, d.c.year, d.c.month).distinct())
    return {(int(v), int(y), int(m)) for v, y, m in rows}


def refresh_incremental(
    session: Session,
    *,
    max_keys: int | None = None,
    only: tuple[int, str] | None = None,
    tables: bool = True,
) -> IncrementalRefresh | None:
    """Bring `VehicleDayMonth` and `EmissionsTableCache` up to date by recomputing only what was written since
    the last refresh (migration 0020's dirty keys), in the caller's transaction (the caller commits).

    Why it is exact: under `LOCK TABLE vehicleday IN SHARE MODE` every write to vehicleday has committed its keys
    (the triggers run in the writer's transaction), so deleting and re-summing the summary rows of those
    (vehicle, month) keys gives what a whole rebuild gives, and the write mark read then names exactly those rows.
    A cached table depends on its year's vehicle-months and on the other inputs: with no write to another input
    since the last refresh (no ALL_TABLES sentinel, checked under SHARE locks on every input), the tables of the
    years without a dirty key are still right and carry over to the new input mark; the dirty years' are
    recomputed, as are the years whose tables were computed with other current plans (`_plan_stale_years`). Any
    sentinel, or no summary yet, means a whole rebuild (`refresh`), unless `max_keys` is given.

    `max_keys` (the page): return None instead of working when there are that many keys or more, or a whole rebuild
    would be needed. `only` = (year, profile id): of the dirty years' tables compute just that one (the page's;
    the other profiles of those years are dropped and computed on demand). `tables=False`: the summary only (the
    telematics and import writes: one small transaction; the cached tables stay stale until the nightly job).
    Returns None where there is no summary path (not PostgreSQL)."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return None
    if max_keys is not None:  # a cheap look before waiting on any lock
        n = dirty_keys(session) or 0
        if n >= max_keys:
            return None
    conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})"))  # one refresh at a time
    conn.execute(sa.text("LOCK TABLE vehicleday IN SHARE MODE"))
    keys = _dirty_set(conn)
    state = conn.execute(sa.select(VehicleDayMonthState.write_mark)).scalars().first()
    vehicle_keys = sorted(k for k in keys if k[0] > 0)
    if state is None or (ALL_SUMMARY, 0, 0) in keys:
        if max_keys is not None:
            return None
        refresh(session)
        return IncrementalRefresh(full=True)
    if max_keys is not None and len(vehicle_keys) >= max_keys:
        return None
    mark = _write_mark(conn)
    result = IncrementalRefresh(keys=len(vehicle_keys))
    target, vd, d = VehicleDayMonth.__table__, VehicleDayRow.__table__, VehicleDayMonthDirty.__table__
    if vehicle_keys:
        # The few keys as statistics, so the planner walks vehicleday's vehicle index rather than all 29 M rows.
        conn.execute(sa.text("ANALYZE vehicledaymonthdirty"))
        k = sa.select(d.c.vehicle_id, d.c.year, d.c.month).where(d.c.vehicle_id > 0).distinct().subquery("k")
        conn.execute(
            sa.delete(target).where(
                sa.tuple_(target.c.vehicle_id, target.c.year, target.c.month).in_(
                    sa.select(k.c.vehicle_id, k.c.year, k.c.month)
                )
            )
        )
        year, month = _year_month(vd.c.day)
        on = sa.and_(vd.c.vehicle_id == k.c.vehicle_id, year == k.c.year, month == k.c.month)
        query = (
            sa.select(vd.c.lessor_id, vd.c.lessee_id, vd.c.vehicle_id, year, month, *_vd_month_columns(vd))
            .select_from(vd.join(k, on))
            .group_by(vd.c.lessor_id, vd.c.lessee_id, vd.c.vehicle_id, year, month)
        )
        names = [c.name for c in query.selected_columns]
        conn.execute(sa.insert(target).from_select(names, query))
        written = sa.select(sa.func.count()).where(
            sa.tuple_(target.c.vehicle_id, target.c.year, target.c.month).in_(
                sa.select(k.c.vehicle_id, k.c.year, k.c.month)
            )
        )
        result.summary_rows = int(conn.execute(written).scalar_one())
    rows = int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(target.c.n_rows), 0))).scalar_one())
    conn.execute(
        sa.update(VehicleDayMonthState.__table__).values(
            write_mark=mark, rows=rows, refreshed_at=dt.datetime.now(dt.UTC)
        )
    )
    # The keys are summarised; what they make stale in the cached tables is kept as one marker per year, with the
    # years whose tables were computed with other current plans.
    table_years = sorted(
        {y for _, y, _ in vehicle_keys}
        | {y for v, y, _ in keys if v == YEAR_TABLES}
        | _plan_stale_years(session)
    )
    conn.execute(sa.delete(d).where(d.c.vehicle_id >= 0))

    def keep_year_markers() -> None:
        conn.execute(sa.delete(d).where(d.c.vehicle_id == YEAR_TABLES))
        if table_years:
            conn.execute(
                sa.insert(d), [{"vehicle_id": YEAR_TABLES, "year": y, "month": 0} for y in table_years]
            )

    if not tables:
        keep_year_markers()
        result.tables_left_stale = True
        return result
    conn.execute(sa.text(f"LOCK TABLE {', '.join(INPUT_TABLES)} IN SHARE MODE"))
    if conn.execute(sa.select(sa.exists().where(d.c.vehicle_id == ALL_TABLES))).scalar():
        if max_keys is not None:  # the page: the summary is current; its own table, stored at the new mark
            keep_year_markers()
            result.tables_left_stale = True
            if only is not None:
                cache = EmissionsTableCache.__table__
                conn.execute(sa.delete(cache).where(cache.c.year == only[0], cache.c.profile_id == only[1]))
                result.years = [only[0]]
                result.tables = _store_tables(session, [only[0]], profiles=[only[1]], replace=False)
            return result
        result.years = sorted(
            set(conn.execute(sa.select(target.c.year).distinct()).scalars()) | {dt.date.today().year}
        )
        result.tables = _store_tables(session, result.years)
        conn.execute(sa.delete(d))
        return result
    result.years = table_years
    profiles = [only[1]] if only is not None else None
    years = [y for y in table_years if only is None or y == only[0]]
    cache = EmissionsTableCache.__table__
    if table_years:
        conn.execute(sa.delete(cache).where(cache.c.year.in_(table_years)))
    result.tables = _store_tables(session, years, profiles=profiles, replace=False)
    new_mark = _input_mark(conn)
    result.restamped = conn.execute(
        sa.update(cache).where(cache.c.input_mark != new_mark).values(input_mark=new_mark)
    ).rowcount
    if only is not None:  # the other profiles of those years are not cached: the next refresh computes them
        keep_year_markers()
    else:
        conn.execute(sa.delete(d))
    return result


def refresh_after_commit(session: Session) -> None:
    """Call where metered days are written (telematics derivation, the trips import): once the caller's
    transaction commits, `refresh_after_write` summarises what it wrote (a one-shot `after_commit` listener, so
    the write's own transaction stays as it was and a rollback leaves nothing to do). No-op off PostgreSQL."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql" or session.info.get("vehicleday_refresh_pending"):
        return
    session.info["vehicleday_refresh_pending"] = True
    engine = bind.engine if isinstance(bind, sa.Connection) else bind

    def after_commit(committed: Session) -> None:
        committed.info.pop("vehicleday_refresh_pending", None)
        refresh_after_write(engine)

    sa.event.listen(session, "after_commit", after_commit, once=True)


def refresh_after_write(
    bind: sa.Engine | sa.Connection, max_keys: int = SMALL_DIRTY
) -> IncrementalRefresh | None:
    """After a commit that wrote metered days (telematics derivation, imports, the API): the summary rows of the
    written vehicle-months, in one small transaction of its own; the cached tables are left to the nightly job
    (`refresh_incremental`) or the page. Never waits for another refresh and never fails the caller's write
    (which is committed already): on any database error the keys simply stay dirty. None when nothing was done
    (not PostgreSQL, another refresh running, `max_keys` or more keys, or a whole rebuild needed)."""
    from sqlalchemy.exc import DBAPIError

    if bind.dialect.name != "postgresql":
        return None
    with Session(bind) as own:
        try:
            conn = own.connection()
            # Never wait on a writer: an open transaction of the caller's own thread would never let go.
            conn.execute(sa.text("SET LOCAL lock_timeout = '1s'"))
            if not conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(REFRESH_LOCK))).scalar():
                return None
            done = refresh_incremental(own, max_keys=max_keys, tables=False)
            if done is None:
                own.rollback()
                return None
            own.commit()
            return done
        except DBAPIError:
            own.rollback()
            return None


# -------------------------------------------------------------------------------------------- vehicle-months
def _owned(table: sa.Table, scope: Scope) -> sa.ColumnElement[bool]:
    clause = table.c.lessor_id == scope.lessor_id
    return clause if scope.is_lessor else sa.and_(clause, table.c.lessee_id == scope.lessee_id)


def _month_index(year: sa.ColumnElement, month: sa.ColumnElement) -> sa.ColumnElement:
    return year * 12 + month


def _month_end(day: dt.date) -> dt.date:
    following = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _vehicle_months(
    session: Session, scope: Scope, first: dt.date, last: dt.date
) -> tuple[sa.Subquery, bool]:
    """Per (vehicle, lessee, year, month) sums of the scope's rows in [first, last]: from the summary table when
    it is current and the range is whole months (or nothing is metered in the last month after `last`), else
    live from `vehicleday`. Returns the subquery and whether the summary was used."""
    vd = VehicleDayRow.__table__
    use_summary = first.day == 1 and summary_is_current(session)
    if use_summary and last != _month_end(last):
        after = sa.select(vd.c.id).where(_owned(vd, scope), vd.c.day > last, vd.c.day <= _month_end(last))
        use_summary = not session.connection().execute(sa.select(sa.exists(after))).scalar()
    if use_summary:
        t = VehicleDayMonth.__table__
        cols = [t.c[name] for name in ("vehicle_id", "lessee_id", "year", "month")]
        rest = [t.c[c.name] for c in _vd_month_columns(vd)]
        if first.year == last.year:  # the (lessee_id, year, month) index
            months = sa.and_(t.c.year == first.year, t.c.month >= first.month, t.c.month <= last.month)
        else:
            index = _month_index(t.c.year, t.c.month)
            months = sa.and_(index >= first.year * 12 + first.month, index <= last.year * 12 + last.month)
        query = sa.select(*cols, *rest).where(_owned(t, scope), months)
        return query.subquery("vm"), True
    year, month = _year_month(vd.c.day)
    query = (
        sa.select(vd.c.vehicle_id, vd.c.lessee_id, year, month, *_vd_month_columns(vd))
        .where(_owned(vd, scope), vd.c.day >= first, vd.c.day <= last)
        .group_by(vd.c.vehicle_id, vd.c.lessee_id, year, month)
    )
    return query.subquery("vm"), False


def _valid_leases(scope: Scope, per_lessee: bool = False) -> sa.Subquery:
    """The leases `fleet.emissions.sources.read_context` puts in the lease book, with what the formulas need:
    vehicle in scope, a lessee, a replaced diesel model with L/100 km; charging efficiency = the lowest connector
    efficiency of the vehicle's depot, at most 1. `per_lessee`: as each lessee's own scope reads them (the
    vehicle and the connectors that lessee's too), for the lessor's table built from each lessee's report."""
    lease, vehicle = LeaseRow.__table__, Vehicle.__table__
    model = VehicleModel.__table__
    ev = model.alias("ev_model")
    diesel = model.alias("diesel_model")
    conn_t = Connector.__table__
    eff_keys = [conn_t.c.depot_id] + ([conn_t.c.lessee_id] if per_lessee else [])
    eff = (
        sa.select(*eff_keys, sa.func.min(conn_t.c.efficiency).label("eff"))
        .where(_owned(conn_t, scope))
        .group_by(*eff_keys)
        .subquery("eff")
    )
    efficiency = sa.case((eff.c.eff < 1.0, eff.c.eff), (eff.c.eff.isnot(None), sa.literal(1.0)))
    eff_on = sa.and_(eff.c.depot_id == vehicle.c.depot_id, vehicle.c.depot_id.isnot(None))
    vehicle_on = sa.and_(vehicle.c.id == lease.c.vehicle_id, _owned(vehicle, scope))
    if per_lessee:
        eff_on = sa.and_(eff_on, eff.c.lessee_id == lease.c.lessee_id)
        vehicle_on = sa.and_(vehicle_on, vehicle.c.lessee_id == lease.c.lessee_id)
    return (
        sa.select(
            lease.c.id.label("lease_id"),
            lease.c.code,
            lease.c.vehicle_id,
            lease.c.lessee_id,
            lease.c.start_date,
            lease.c.end_date,
            lease.c.emissions_claimant,
            lease.c.expected_km_per_year,
            diesel.c.diesel_l_per_100km.label("l_per_100km"),
            ev.c.battery_kwh,
            ev.c.consumption_kwh_per_km_empty.label("per_km_empty"),
            ev.c.consumption_kwh_per_km_full.label("per_km_full"),
            efficiency.label("efficiency"),
        )
        .select_from(lease)
        .join(vehicle, vehicle_on)
        .join(diesel, diesel.c.id == lease.c.replaced_diesel_model_id)
        .outerjoin(ev, ev.c.id == vehicle.c.model_id)
        .outerjoin(eff, eff_on)
        .where(
            _owned(lease, scope),
            lease.c.lessee_id.isnot(None),
            diesel.c.diesel_l_per_100km.isnot(None),
            diesel.c.diesel_l_per_100km != 0,
        )
        .subquery("valid_lease")
    )


@dataclass
class MonthlyFigures:
    """Ex-post of the accepted vehicle-days, summed: per (lease's lessee id, claimant role, "YYYY-MM") and per
    lease [Totals], with how it was computed.

    `first_day` per record lessee (per-lessee mode) or under key None: the earliest accepted vehicle-day (where
    the per-day report's monitoring begins)."""

    totals: dict[tuple[int, str, str], Totals] = field(default_factory=dict)
    # (lease's lessee id, claimant role, lease start, lease end) -> accepted days of the leases with those dates
    per_dates: dict[tuple[int, str, dt.date, dt.date], Totals] = field(default_factory=dict)
    claimed_vehicles: set[int] = field(default_factory=set)  # vehicles with days their lessee claims
    first_day: dict[int | None, dt.date] = field(default_factory=dict)
    last_day: dt.date | None = None  # the latest accepted vehicle-day
    rows: int = 0  # metered rows read (in scope and period)
    vehicle_months: int = 0
    screened_vehicle_months: int = 0  # computed day by day (a row might fail a check)
    rows_excluded: int = 0  # rows of those vehicle-months flagged by the checks
    from_summary: bool = False


def _sum(parts: Iterable[Totals]) -> Totals:
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    names = list(Totals.__dataclass_fields__)
    return Totals(**{n: sum(getattr(p, n) for p in parts) for n in names})


SUMMED = (
    "n_rows",
    "n_days",
    "km",
    "kwh_charger",
    "kwh_vehicle_only",
    "n_vehicle_only",
    "n_charger_null",
    "tonne_km",
    "diesel_litres",
    "n_diesel",
    "n_suspect",
)


def ex_post_by_month(
    session: Session,
    scope: Scope,
    period: Period,
    resolved: ResolvedProfile,
    *,
    per_lessee: bool = False,
    last: dt.date | None = None,
    with_leases: bool = False,
) -> MonthlyFigures:
    """Ex-post of every vehicle-day the per-day checks accept in the scope and [period.start, last or
    period.end] (see the module docstring).

    `per_lessee` (lessor scope): each lessee's figures as its own scope gives them (`report_from_db` with
    `scope_for(lessee_code=...)`, what the lessor's Emissions table is made of): only rows recorded for a lessee,
    screened against that lessee's leases, vehicles and connectors; rows of different lessees never meet.
    Otherwise the scope's own view (the Overview tile). `with_leases`: also the totals per lessee, claimant and
    lease dates, and the vehicles with lessee-claimed days (the run rate's inputs).

    One pass over the vehicle-months joins the clean ones to their lease (hash joins; no per-row CASE); the
    vehicle-months left over are listed only when the counts say there are any."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # The 960,000-row join and aggregate in memory, by hash: the planner misjudges the correlated lease
        # conditions (vehicle and lessee) as selecting one row and would loop over an index per vehicle-month.
        conn.execute(sa.text("SET LOCAL work_mem = '64MB'"))
        conn.execute(sa.text("SET LOCAL enable_nestloop = off"))
    vm, from_summary = _vehicle_months(session, scope, period.start, last or period.end)
    if per_lessee:
        base = sa.select(vm).where(vm.c.lessee_id.isnot(None)).subquery("per_vm")
        n_groups, n_with_lessee = None, None
    else:
        keys = [vm.c.vehicle_id, vm.c.year, vm.c.month]
        base = (
            sa.select(
                *keys,
                sa.func.count().label("n_groups"),
                sa.func.min(vm.c.lessee_id).label("lessee_id"),
                sa.func.count(vm.c.lessee_id).label("n_with_lessee"),
                *[sa.func.sum(vm.c[n]).label(n) for n in SUMMED],
                sa.func.min(vm.c.first_day).label("first_day"),
                sa.func.max(vm.c.last_day).label("last_day"),
                sa.func.max(vm.c.max_kwh_vehicle).label("max_kwh_vehicle"),
                sa.func.max(vm.c.max_kwh_charger_only).label("max_kwh_charger_only"),
            )
            .group_by(*keys)
            .subquery("per_vm")
        )
        n_groups, n_with_lessee = base.c.n_groups, base.c.n_with_lessee
    b = base.c
    valid = _valid_leases(scope, per_lessee)
    lease_keys = [valid.c.vehicle_id] + ([valid.c.lessee_id] if per_lessee else [])
    single = sa.select(*lease_keys).group_by(*lease_keys).having(sa.func.count() == 1).subquery("single")
    sessions = ChargingSession.__table__
    with_sessions = sa.select(sessions.c.vehicle_id).where(_owned(sessions, scope))
    method = resolved.profile.baseline_method
    battery_limit = valid.c.battery_kwh * LIMITS.max_battery_multiple
    checks = [
        b.n_rows == b.n_days,
        b.n_suspect == 0,
        valid.c.start_date <= b.first_day,
        valid.c.end_date >= b.last_day,
        sa.or_(b.n_vehicle_only == 0, valid.c.efficiency.isnot(None)),
        sa.or_(
            valid.c.battery_kwh.is_(None),
            valid.c.battery_kwh == 0,
            sa.and_(
                sa.func.coalesce(b.max_kwh_vehicle, 0.0) <= battery_limit,
                sa.func.coalesce(b.max_kwh_charger_only, 0.0) * sa.func.coalesce(valid.c.efficiency, 1.0)
                <= battery_limit,
            ),
        ),
        sa.or_(b.n_charger_null == 0, b.vehicle_id.not_in(with_sessions)),
    ]
    if n_groups is not None:
        checks += [n_groups == 1, sa.or_(n_with_lessee == 0, b.lessee_id == valid.c.lessee_id)]
    if method == "fuel":
        checks.append(b.n_diesel == b.n_rows)
    elif method == "auto":
        checks.append(sa.or_(b.n_diesel == 0, b.n_diesel == b.n_rows))
    single_on = single.c.vehicle_id == b.vehicle_id
    valid_on = valid.c.vehicle_id == b.vehicle_id
    if per_lessee:
        single_on = sa.and_(single_on, single.c.lessee_id == b.lessee_id)
        valid_on = sa.and_(valid_on, valid.c.lessee_id == b.lessee_id)
    clean_join = base.join(single, single_on).join(valid, valid_on)
    all_fuel = sa.case((sa.and_(b.n_diesel == b.n_rows, b.n_rows > 0), sa.literal(1)), else_=sa.literal(0))
    start_year = sa.cast(sa.extract("year", valid.c.start_date), sa.Integer)
    group_cols = [
        valid.c.lessee_id.label("lease_lessee_id"),
        valid.c.emissions_claimant.label("claimant"),
        b.year,
        b.month,
        valid.c.l_per_100km.label("l_per_100km"),
        start_year.label("start_year"),
        valid.c.efficiency.label("efficiency"),
        all_fuel.label("all_fuel"),
        valid.c.start_date.label("lease_start"),
        valid.c.end_date.label("lease_end"),
        *([b.lessee_id.label("owner")] if per_lessee else []),
    ]
    grouped = (
        sa.select(
            *group_cols,
            sa.func.count().label("vehicle_months"),
            sa.func.sum(b.n_rows).label("n_rows"),
            sa.func.sum(b.km).label("km"),
            sa.func.sum(b.kwh_charger).label("kwh_charger"),
            sa.func.sum(b.kwh_vehicle_only).label("kwh_vehicle_only"),
            sa.func.sum(b.tonne_km).label("tonne_km"),
            sa.func.sum(b.diesel_litres).label("diesel_litres"),
            sa.func.min(b.first_day).label("first_day"),
            sa.func.max(b.last_day).label("last_day"),
        )
        .select_from(clean_join)
        .where(*checks)
        .group_by(*[c.element if isinstance(c, sa.sql.elements.Label) else c for c in group_cols])
    )
    figures = MonthlyFigures(from_summary=from_summary)
    parts: dict[tuple[int, str, str], list[Totals]] = defaultdict(list)
    dates: dict[tuple[int, str, dt.date, dt.date], list[Totals]] = defaultdict(list)
    last_day: dt.date | None = None
    first_day: dict[int | None, dt.date] = {}
    clean_vms = 0
    for r in conn.execute(grouped):
        fuel_method = method == "fuel" or (method == "auto" and bool(r.all_fuel))
        t = _figures(
            resolved, r.n_rows, r.km, r.kwh_charger, r.kwh_vehicle_only, r.tonne_km, r.diesel_litres,
            r.l_per_100km, int(r.year) - int(r.start_year) + 1, r.efficiency, fuel_method,
        )  # fmt: skip
        role = _role(r.claimant)
        parts[(int(r.lease_lessee_id), role, f"{int(r.year):04d}-{int(r.month):02d}")].append(t)
        dates[(int(r.lease_lessee_id), role, r.lease_start, r.lease_end)].append(t)
        clean_vms += int(r.vehicle_months)
        last_day = r.last_day if last_day is None or r.last_day > last_day else last_day
        owner = int(r.owner) if per_lessee else None
        if owner not in first_day or r.first_day < first_day[owner]:
            first_day[owner] = r.first_day
    if with_leases:
        claimed = (
            sa.select(b.vehicle_id)
            .distinct()
            .select_from(clean_join)
            .where(*checks, valid.c.emissions_claimant == Claimant.LESSEE)
        )
        figures.claimed_vehicles = {int(v) for v in conn.execute(claimed).scalars()}
    counts = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(b.n_rows), 0))).one()
    figures.vehicle_months, figures.rows = int(counts[0]), int(counts[1])
    if figures.vehicle_months > clean_vms:
        matched = base.outerjoin(single, single_on).outerjoin(
            valid, sa.and_(valid_on, single.c.vehicle_id.isnot(None), *checks)
        )
        dirty_keys = [b.vehicle_id, b.year, b.month, *([b.lessee_id] if per_lessee else [])]
        query = sa.select(*dirty_keys).select_from(matched).where(valid.c.lease_id.is_(None))
        dirty = [tuple(int(x) for x in r) for r in conn.execute(query)]
        figures.screened_vehicle_months = len(dirty)
        read = Period(period.label, period.granularity, period.start, last or period.end)
        results, excluded, leases, claimed = _screen_day_by_day(
            session, scope, read, resolved, dirty, per_lessee
        )
        figures.rows_excluded = excluded
        figures.claimed_vehicles |= claimed
        for (lessee_id, role, label, owner), days in results.items():
            parts[(lessee_id, role, label)].append(total(days))
            latest, earliest = max(d.day for d in days), min(d.day for d in days)
            last_day = latest if last_day is None or latest > last_day else last_day
            if owner not in first_day or earliest < first_day[owner]:
                first_day[owner] = earliest
            by_lease: dict[str, list[DayResult]] = defaultdict(list)
            for d in days:
                by_lease[d.lease_id].append(d)
            for code, ds in by_lease.items():
                lease_start, lease_end = leases[code]
                dates[(lessee_id, role, lease_start, lease_end)].append(total(ds))
    figures.totals = {k: _sum(v) for k, v in sorted(parts.items())}
    figures.per_dates = {k: _sum(v) for k, v in dates.items()}
    figures.first_day, figures.last_day = first_day, last_day
    return figures


def _role(claimant: object) -> str:
    value = getattr(claimant, "value", claimant)
    return (
        "lessor" if str(value).lower() in (Claimant.LESSOR.value, Claimant.LESSOR.name.lower()) else "lessee"
    )


def _figures(
    resolved: ResolvedProfile,
    n: int,
    km: float,
    kwh_charger: float,
    kwh_vehicle_only: float,
    tonne_km: float,
    litres: float,
    l_per_100km: float,
    year_index: int,
    efficiency: float | None,
    fuel: bool,
) -> Totals:
    """`compute_day`'s formulas on a group's sums (each linear in its input); leakage fraction 0, as every lease
    read from the database has (`fleet.emissions.sources.read_context`)."""
    density, ef = resolved.density.value, resolved.diesel_ef.value
    if fuel:
        baseline_litres = litres
        baseline = baseline_fuel_t(litres, density, ef)
    else:
        baseline_litres = km * l_per_100km / 100.0
        ir_t = 1.0
        if resolved.ir_per_year is not None:
            ir_t = improvement_factor(
                resolved.ir_per_year.value, year_index, resolved.profile.ir_exponent_offset
            )
        baseline = baseline_distance_t(km, l_per_100km, density, ef, ir_t)
    grid = kwh_charger + (kwh_vehicle_only / efficiency if kwh_vehicle_only else 0.0)
    project = project_t(grid, resolved.grid_ef.value, resolved.tdl_multiplier)
    leakage = leakage_t(baseline, 0.0)
    return Totals(
        vehicle_days=int(n),
        km=float(km),
        grid_kwh=grid,
        tonne_km=float(tonne_km),
        baseline_litres=baseline_litres,
        baseline_t=baseline,
        project_t=project,
        leakage_t=leakage,
        reduction_t=reduction_t(baseline, project, leakage),
    )


def _screen_day_by_day(
    session: Session,
    scope: Scope,
    period: Period,
    resolved: ResolvedProfile,
    keys: list[tuple[int, ...]],
    per_lessee: bool,
) -> tuple[
    dict[tuple[int, str, str, int | None], list[DayResult]], int, dict[str, tuple[dt.date, dt.date]], set[int]
]:
    """The per-day path on the given vehicle-months only: their rows (charging sessions filling a missing
    charger reading), their vehicles' leases, `screen_rows` and `compute_day`; per record lessee in its own scope
    when `per_lessee`. Returns the accepted days per (lease's lessee id, claimant role, month, record lessee id
    or None), the rows excluded, each accepted lease's (start, end) by code and the vehicles with days their
    lessee claims."""
    from fleet.emissions.sources import read_context, read_metered_with_flags
    from fleet.scope import Scope as ScopeType

    runs: dict[int | None, set[tuple[int, int, int]]] = defaultdict(set)
    for key in keys:
        runs[key[3] if per_lessee else None].add((key[0], key[1], key[2]))
    out: dict[tuple[int, str, str, int | None], list[DayResult]] = defaultdict(list)
    excluded = 0
    lease_dates: dict[str, tuple[dt.date, dt.date]] = {}
    claimed: set[int] = set()
    for owner, wanted in sorted(runs.items(), key=lambda kv: -1 if kv[0] is None else kv[0]):
        own_scope = scope if owner is None else ScopeType(scope.lessor_id, owner)
        vehicle_ids = sorted({k[0] for k in wanted})
        ctx = read_context(session, own_scope, vehicle_ids=vehicle_ids)
        rows, _ = read_metered_with_flags(session, own_scope, ctx, period, vehicle_ids=vehicle_ids)

        def vehicle_id(plate: str, ctx=ctx) -> int:  # "vehicle#id" when the vehicle is outside the scope
            return ctx.vehicle_ids[plate] if plate in ctx.vehicle_ids else int(plate.split("#")[1])

        rows = [r for r in rows if (vehicle_id(r.vehicle_id), r.day.year, r.day.month) in wanted]
        screen = screen_rows(rows, ctx.book, LIMITS, resolved.profile.baseline_method == "fuel")
        excluded += screen.rows_excluded
        lessee_ids = {code: i for i, code in ctx.lessee_codes.items()}
        for accepted in screen.accepted:
            lease_dates[accepted.lease.lease_id] = (accepted.lease.start, accepted.lease.end)
            day = compute_day(accepted.row, accepted.lease, resolved, EX_POST)
            role = "lessee" if day.claimant_id == day.lessee_id else "lessor"
            out[(lessee_ids[day.lessee_id], role, f"{day.day:%Y-%m}", owner)].append(day)
            if role == "lessee":
                claimed.add(vehicle_id(accepted.row.vehicle_id))
    return dict(out), excluded, lease_dates, claimed


# ------------------------------------------------------------------------------------------------- ex-ante
def lease_rows(session: Session, scope: Scope, period: Period, per_lessee: bool = False) -> list[sa.Row]:
    """The valid leases (`_valid_leases`) that overlap the period, in lease-code order."""
    valid = _valid_leases(scope, per_lessee)
    query = sa.select(valid).where(valid.c.start_date <= period.end, valid.c.end_date >= period.start)
    return list(session.connection().execute(query.order_by(valid.c.code)))


@dataclass
class ExAnte:
    """Ex-ante per (lessee id, "YYYY-MM") [Totals]; the vehicle-days from the leases' expectation per lease id, and
    per lessee id the accepted route-plan days and their vehicles."""

    totals: dict[tuple[int, str], Totals] = field(default_factory=dict)
    days: dict[int, int] = field(default_factory=dict)
    plan_days: dict[int, int] = field(default_factory=dict)
    plan_vehicles: dict[int, set[int]] = field(default_factory=dict)


def _days_in_year(year: int) -> int:
    return 366 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 365


def ex_ante_by_month(
    period: Period, resolved: ResolvedProfile, leases: Iterable[sa.Row], plans: PlanAnte | None = None
) -> ExAnte:
    """Ex-ante of lessee-claimed leases as `fleet.emissions.sources.read_planned` gives it: on a vehicle-day with a
    current route plan the plan's figures (`plans`, `fleet.emissions.plan_ante`: computed day by day as there), on
    the other lease days in the period the lease's expectation: km = expected_km_per_year / days in the year, kWh =
    km x the model's mean consumption, grid kWh = kWh / charging efficiency; a lease whose day would fail a check (no
    efficiency, above twice the battery, implausible km, a fuel-based profile) gives none, as in the per-day path."""
    out = ExAnte()
    if resolved.profile.baseline_method == "fuel":
        return out
    plans = plans or PlanAnte()
    months = [dt.date(y, m, 1) for y in range(period.start.year, period.end.year + 1) for m in range(1, 13)]
    months = [m for m in months if period.start <= _month_end(m) and m <= period.end]
    groups: dict[tuple, int] = defaultdict(int)
    for r in leases:
        if not r.expected_km_per_year or r.per_km_empty is None or r.per_km_full is None:
            continue
        if _role(r.emissions_claimant) != "lessee" or r.efficiency is None:
            continue
        for start in months:
            first = max(start, r.start_date, period.start)
            last = min(_month_end(start), r.end_date, period.end)
            n = (last - first).days + 1
            if n > 0:  # the days with a plan record are the plan's, whatever it gives
                n -= plans.replaced_between(int(r.lessee_id), int(r.vehicle_id), first, last)
            if n <= 0:
                continue
            km = r.expected_km_per_year / _days_in_year(start.year)
            kwh = km * (r.per_km_empty + r.per_km_full) / 2.0
            if km > LIMITS.max_km_per_day or (
                r.battery_kwh and kwh > r.battery_kwh * LIMITS.max_battery_multiple
            ):
                continue
            key = (
                r.lessee_id,
                f"{start:%Y-%m}",
                start.year,
                r.l_per_100km,
                r.start_date.year,
                r.efficiency,
                km,
                kwh,
            )
            groups[key] += n
            out.days[int(r.lease_id)] = out.days.get(int(r.lease_id), 0) + n
    parts: dict[tuple[int, str], list[Totals]] = defaultdict(list)
    for (lessee_id, label, year, l100, first_year, eff, km, kwh), n in groups.items():
        t = _figures(resolved, n, km * n, 0.0, kwh * n, 0.0, 0.0, l100, year - first_year + 1, eff, False)
        parts[(int(lessee_id), label)].append(t)
    for lessee_id, results in plans.results.items():
        by_month: dict[str, list[DayResult]] = defaultdict(list)
        for d in results:
            by_month[f"{d.day:%Y-%m}"].append(d)
        for label, days in by_month.items():
            parts[(lessee_id, label)].append(total(days))
        out.plan_days[lessee_id] = len(results)
        out.plan_vehicles[lessee_id] = set(plans.claimed_vehicles.get(lessee_id, ()))
    out.totals = {k: _sum(v) for k, v in sorted(parts.items())}
    return out


# -------------------------------------------------------------------------------------- the lessor's table
@dataclass
class PartyFigures:
    """One lessee's row of the lessor's table: what `fleet.services.emissions.emissions_view` shows per party."""

    lessee: str
    post: dict[str, Totals]  # month -> ex-post the lessee claims
    ante: dict[str, Totals]  # month -> ex-ante
    monitoring_start: dt.date | None
    checked_until: dt.date
    run_rate_t: float | None
    lease_days_in_year: int
    monitored_lease_days: int
    ante_days: int  # vehicle-days from the leases' expectation
    gap_before: int
    gap_missing: int
    gap_future: int
    plan_days: int = 0  # vehicle-days from current route plans


@dataclass
class LessorTable:
    parties: list[PartyFigures]
    rows_checked: int
    rows_excluded: int
    vehicle_months: int
    screened_vehicle_months: int
    from_summary: bool
    plans_mark: str | None = None  # `fleet.emissions.plans.plans_mark` read before the plans were


def _overlap(first: dt.date, last: dt.date, start: dt.date, end: dt.date) -> int:
    return max(0, (min(last, end) - max(first, start)).days + 1)


def lessor_table(session: Session, scope: Scope, period: Period, resolved: ResolvedProfile) -> LessorTable:
    """Each lessee's monthly ex-post and ex-ante, run rate, monitored days and gap split, as the per-day report
    of each lessee in its own scope gives them (`fleet.services.emissions.emissions_view`), from SQL sums.

    Per lease: D lease-days in the period, m of them from the lessee's monitoring start (its first accepted
    vehicle-day) to the check date (the period's end), a accepted days; gap days before monitoring = lease days
    before the start, missing = m - a, future = 0; run rate = sum over claimed leases of reduction x D / m
    (`fleet.submission.document.annualise`). Ex-ante: `ex_ante_by_month`, route-plan days included."""
    from fleet.submission.document import ANNUALISATION_METHOD  # noqa: F401  (the method these figures follow)

    mark = plans_mark(session, scope.lessor_id, period)  # first: a plan published meanwhile makes it stale
    figures = ex_post_by_month(session, scope, period, resolved, per_lessee=True, with_leases=True)
    leases = lease_rows(session, scope, period, per_lessee=True)
    codes = lessee_codes(session, scope)
    ante = ex_ante_by_month(
        period, resolved, leases, plan_ante(session, scope, period, resolved, leases, codes, LIMITS)
    )
    stop = period.end
    post_by: dict[int, dict[str, Totals]] = defaultdict(dict)
    for (lessee_id, role, label), t in figures.totals.items():
        if role == "lessee":
            post_by[lessee_id][label] = t
    ante_by: dict[int, dict[str, Totals]] = defaultdict(dict)
    for (lessee_id, label), t in ante.totals.items():
        ante_by[lessee_id][label] = t
    by_lessee: dict[int, list[sa.Row]] = defaultdict(list)
    for r in leases:
        by_lessee[int(r.lessee_id)].append(r)
    accepted_days: dict[int, int] = defaultdict(int)  # all claimants: what covers a lease day
    for key, t in figures.per_dates.items():
        accepted_days[key[0]] += t.vehicle_days
    parties = []
    for lessee_id, code in sorted(codes.items(), key=lambda kv: kv[1]):
        start = figures.first_day.get(lessee_id)
        mine = by_lessee.get(lessee_id, [])
        ante_vehicles = {int(r.vehicle_id) for r in mine if ante.days.get(int(r.lease_id))}
        ante_vehicles |= ante.plan_vehicles.get(lessee_id, set())
        claimed_vehicles = figures.claimed_vehicles | ante_vehicles
        run_t, big_d, small_d, before, monitored_all = 0.0, 0, 0, 0, 0
        scaled: dict[tuple[dt.date, dt.date], float] = {}
        for r in mine:
            days = _overlap(period.start, period.end, r.start_date, r.end_date)
            monitored = _overlap(start, stop, r.start_date, r.end_date) if start else 0
            before += days - monitored
            monitored_all += monitored
            claimed = _role(r.emissions_claimant) == "lessee" and int(r.vehicle_id) in claimed_vehicles
            if claimed and monitored:
                big_d += days
                small_d += monitored
                scaled[(r.start_date, r.end_date)] = days / monitored
        # Each lease's reduction x D / m: leases with the same dates share D / m, so their sums are scaled once
        # (a lease without claimed days adds a reduction of 0, as in `annualise`).
        for (lessee, role, first, end), t in figures.per_dates.items():
            if lessee == lessee_id and role == "lessee" and (first, end) in scaled:
                run_t += t.reduction_t * scaled[(first, end)]
        parties.append(
            PartyFigures(
                lessee=code,
                post=post_by.get(lessee_id, {}),
                ante=ante_by.get(lessee_id, {}),
                monitoring_start=start,
                checked_until=stop,
                run_rate_t=run_t if small_d else None,
                lease_days_in_year=big_d,
                monitored_lease_days=small_d,
                ante_days=sum(ante.days.get(int(r.lease_id), 0) for r in mine),
                gap_before=before,
                gap_missing=monitored_all - accepted_days.get(lessee_id, 0),
                gap_future=0,
                plan_days=ante.plan_days.get(lessee_id, 0),
            )
        )
    return LessorTable(
        parties,
        figures.rows,
        figures.rows_excluded,
        figures.vehicle_months,
        figures.screened_vehicle_months,
        figures.from_summary,
        mark,
    )


INPUT_MARK_SEQUENCE = "emissions_input_mark"  # migration 0016: advanced by every write to the table's inputs


def _input_mark(conn: sa.Connection) -> int | None:
    if conn.dialect.name != "postgresql":
        return None
    row = conn.execute(sa.text(f"SELECT last_value, is_called FROM {INPUT_MARK_SEQUENCE}")).one()
    return int(row[0]) if row[1] else 0


def _totals_json(t: Totals) -> dict[str, float | int]:
    return t.as_dict()


def _table_json(table: LessorTable) -> dict:
    parties = []
    for p in table.parties:
        parties.append(
            {
                **{
                    k: v
                    for k, v in p.__dict__.items()
                    if k not in ("post", "ante", "monitoring_start", "checked_until")
                },
                "post": {m: _totals_json(t) for m, t in p.post.items()},
                "ante": {m: _totals_json(t) for m, t in p.ante.items()},
                "monitoring_start": p.monitoring_start.isoformat() if p.monitoring_start else None,
                "checked_until": p.checked_until.isoformat(),
            }
        )
    return {**{k: v for k, v in table.__dict__.items() if k != "parties"}, "parties": parties}


def _table_from_json(data: dict) -> LessorTable:
    parties = []
    for p in data["parties"]:
        parties.append(
            PartyFigures(
                **{
                    **p,
                    "post": {m: Totals(**t) for m, t in p["post"].items()},
                    "ante": {m: Totals(**t) for m, t in p["ante"].items()},
                    "monitoring_start": dt.date.fromisoformat(p["monitoring_start"])
                    if p["monitoring_start"]
                    else None,
                    "checked_until": dt.date.fromisoformat(p["checked_until"]),
                }
            )
        )
    return LessorTable(**{**{k: v for k, v in data.items() if k != "parties"}, "parties": parties})


def cached_lessor_table(
    session: Session, scope: Scope, period: Period, resolved: ResolvedProfile
) -> tuple[LessorTable, bool]:
    """`lessor_table` from `EmissionsTableCache` when `refresh` stored it at the current input mark and with the
    current plans (`fleet.emissions.plans.plans_mark`; PostgreSQL; a year, the profile), else computed. Returns the
    table and whether it came from the cache."""
    conn = session.connection()
    if period.granularity != "year" or _input_mark(conn) is None:
        return lessor_table(session, scope, period, resolved), False
    t = EmissionsTableCache.__table__

    def stored() -> dict | None:
        payload = conn.execute(
            sa.select(t.c.payload).where(
                t.c.lessor_id == scope.lessor_id,
                t.c.year == period.year,
                t.c.profile_id == resolved.profile.profile_id,
                t.c.input_mark == _input_mark(conn),
            )
        ).scalar()
        # Plans are no input of the write marks: the table is served while the plans it was computed with are current.
        if payload is None or payload.get("plans_mark") != plans_mark(session, scope.lessor_id, period):
            return None
        return payload

    payload = stored()
    if payload is None and _refresh_for_page(session, period.year, resolved.profile.profile_id):
        payload = stored()
    if payload is not None:
        return _table_from_json(payload), True
    return lessor_table(session, scope, period, resolved), False


def _plan_stale_years(session: Session) -> set[int]:
    """The years of cached tables computed with other current plans than there are now (`plans_mark`): a route or
    charging plan published, superseded or deleted since (migration 0016's marks do not watch the plan tables)."""
    from fleet.emissions.calc import parse_period

    t = EmissionsTableCache.__table__
    stored = session.connection().execute(
        sa.select(t.c.lessor_id, t.c.year, t.c.payload["plans_mark"].as_string()).distinct()
    )
    current: dict[tuple[int, int], str | None] = {}
    stale = set()
    for lessor_id, year, mark in stored:
        key = (int(lessor_id), int(year))
        if key not in current:
            current[key] = plans_mark(session, key[0], parse_period(str(key[1])))
        if mark != current[key]:
            stale.add(int(year))
    return stale


def _refresh_for_page(session: Session, year: int, profile_id: str, max_keys: int = SMALL_DIRTY) -> bool:
    """The page's own upkeep: when fewer than `max_keys` vehicle-months were written since the last refresh, bring
    the summary and this (year, profile) table up to date in a transaction of its own (committed, so the next
    render and other users find it) rather than computing live. False when it did not (too many keys, a whole
    rebuild needed, or another refresh holds the lock: never wait on it from a page)."""
    from sqlalchemy.exc import DBAPIError

    bind = session.get_bind()
    with Session(bind) as own:
        conn = own.connection()
        conn.execute(sa.text("SET LOCAL lock_timeout = '2s'"))  # a writer in flight: compute live instead
        if not conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(REFRESH_LOCK))).scalar():
            return False
        try:
            done = refresh_incremental(own, max_keys=max_keys, only=(year, profile_id))
        except DBAPIError:
            own.rollback()
            return False
        if done is None:
            own.rollback()
            return False
        own.commit()
        return True


def _store_tables(
    session: Session, years: Iterable[int], *, profiles: Iterable[str] | None = None, replace: bool = True
) -> int:
    """Compute and store the lessor's table of every lessor for these years and every profile (or those named),
    at the input mark read under the caller's locks (see `refresh`). `replace`: drop every cached table first."""
    from fleet.emissions.calc import parse_period
    from fleet.emissions.profiles import PROFILES, resolve_profile
    from fleet.emissions.service import registry_for
    from fleet.models import Lessor

    conn = session.connection()
    mark = _input_mark(conn)
    if mark is None:
        return 0
    t = EmissionsTableCache.__table__
    if replace:
        conn.execute(sa.delete(t))
    wanted = set(PROFILES) if profiles is None else set(profiles)
    stored = 0
    for lessor_id in conn.execute(sa.select(Lessor.__table__.c.id)).scalars():
        scope = Scope(int(lessor_id))
        registry, _ = registry_for(session, scope)
        for year in sorted(set(years)):
            period = parse_period(str(year))
            for profile_id, profile in PROFILES.items():
                if profile_id not in wanted:
                    continue
                table = lessor_table(session, scope, period, resolve_profile(profile, registry, year))
                conn.execute(
                    sa.insert(t).values(
                        lessor_id=int(lessor_id),
                        year=year,
                        profile_id=profile_id,
                        input_mark=mark,
                        built_at=dt.datetime.now(dt.UTC),
                        payload=_table_json(table),
                    )
                )
                stored += 1
    return stored


def lessee_codes(session: Session, scope: Scope) -> dict[int, str]:
    t = Lessee.__table__
    clause = t.c.lessor_id == scope.lessor_id
    if not scope.is_lessor:
        clause = sa.and_(clause, t.c.id == scope.lessee_id)
    return {int(i): c for i, c in session.connection().execute(sa.select(t.c.id, t.c.code).where(clause))}


__all__ = [
    "ALL_SUMMARY",
    "ALL_TABLES",
    "SMALL_DIRTY",
    "YEAR_TABLES",
    "ExAnte",
    "IncrementalRefresh",
    "LessorTable",
    "MonthlyFigures",
    "PartyFigures",
    "dirty_keys",
    "ex_ante_by_month",
    "ex_post_by_month",
    "lease_rows",
    "lessee_codes",
    "lessor_table",
    "refresh",
    "refresh_after_commit",
    "refresh_after_write",
    "refresh_incremental",
    "summary_is_current",
]
