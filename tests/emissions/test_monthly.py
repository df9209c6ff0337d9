"""The lessor's emissions table and the Overview tile from SQL sums (`fleet.emissions.monthly`) equal the per-day
path (`report_from_db` per lessee, the reference) on the demo, on the demo spoiled with every kind of flagged row,
on the demo with current route and charging plans, and on a small synthetic lessor on PostgreSQL through the summary
table (a plan published or superseded makes its cached table stale)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.emissions.profiles import PROFILES
from fleet.models import ChargingSession, Claimant, Lease, Lessee, Vehicle, VehicleDay
from fleet.services import emissions as svc

YEAR = 2026  # the demo's metered days: 2026-10 and 2026-11


def _assert_same_view(
    session: Session, year: int, profile: str, lessee: str | None = None
) -> svc.EmissionsView:
    new = svc.emissions_view(session, lessee, year, profile)
    old = svc.emissions_view(session, lessee, year, profile, day_by_day=True)
    assert new.from_sql and not old.from_sql
    pd.testing.assert_frame_equal(new.months, old.months, check_exact=False, rtol=1e-9, atol=1e-12)
    pd.testing.assert_frame_equal(new.parties, old.parties, check_exact=False, rtol=1e-9, atol=1e-9)
    pd.testing.assert_frame_equal(new.factors, old.factors)
    assert (new.rows_checked, new.rows_excluded, new.withheld) == (
        old.rows_checked,
        old.rows_excluded,
        old.withheld,
    )
    assert new.methodology == old.methodology and new.factor_source == old.factor_source
    return new


@pytest.mark.parametrize("profile", list(PROFILES))
def test_lessor_table_equals_the_per_day_loop_on_the_demo(demo_engine: Engine, profile: str) -> None:
    with Session(demo_engine) as s:
        view = _assert_same_view(s, YEAR, profile)
        assert view.months["vehicle-days"].sum() > 3000 and view.screened_vehicle_months == 0
        # A lessee's own view comes from SQL sums in its scope too (its Emissions page on a metered year: 7.9 s
        # per day at 146,000 vehicle-days), equal to its per-day report, and holds only its own rows.
        for code in s.exec(select(Lessee.code)).all():
            own = _assert_same_view(s, YEAR, profile, code)
            assert set(own.months["lessee"]) == {code} and own.rows_checked < view.rows_checked
        empty = _assert_same_view(s, YEAR - 1, profile)  # leases only: ex-ante, no metered day
        assert empty.rows_checked == 0 and len(empty.months) > 0
        assert empty.withheld or empty.months["ex-ante reduction [t]"].notna().any()


def _spoil(engine: Engine) -> None:
    """Every kind of row the per-day checks flag or treat apart, in some vehicle-months of the demo."""
    with Session(engine) as s:
        rows = s.exec(
            select(VehicleDay).where(VehicleDay.day >= dt.date(2026, 11, 1)).order_by(VehicleDay.id)
        ).all()
        lessees = s.exec(select(Lessee).order_by(Lessee.code)).all()
        copy = lambda r, **kw: VehicleDay(**{**r.model_dump(exclude={"id"}), **kw})  # noqa: E731
        s.add(copy(rows[0]))  # identical duplicate: the first kept
        s.add(copy(rows[1], km=rows[1].km + 1))  # conflicting duplicate: both out
        rows[2].km = -5.0  # negative distance
        rows[3].kwh_charger, rows[3].kwh_vehicle = None, None  # no energy
        rows[4].kwh_charger, rows[4].kwh_vehicle = None, 30.0  # vehicle-side only: kWh / efficiency
        rows[5].kwh_vehicle = 5000.0  # far above the battery
        other = next(le for le in lessees if le.id != rows[6].lessee_id)
        rows[6].lessee_id = other.id  # lessee mismatch (or outside that lessee's leases)
        rows[7].lessee_id = None  # no lessee: seen by the lessor's scope only
        s.add(copy(rows[8], day=dt.date(2026, 11, 30), km=1500.0))  # implausible distance
        rows[9].diesel_litres = 12.5  # one day with fuel records: 'auto' mixes methods in that month
        rows[10].kwh_charger = None  # a charging session fills the charger reading
        s.add(
            ChargingSession(
                lessor_id=rows[10].lessor_id,
                lessee_id=rows[10].lessee_id,
                vehicle_id=rows[10].vehicle_id,
                started_at=dt.datetime(2026, 11, 2, 1, tzinfo=dt.UTC),
                ended_at=dt.datetime(
                    rows[10].day.year, rows[10].day.month, rows[10].day.day, 3, tzinfo=dt.UTC
                ),
                kwh=55.0,
            )
        )
        lease = s.exec(select(Lease).where(Lease.vehicle_id == rows[11].vehicle_id)).first()
        lease.emissions_claimant = Claimant.LESSOR  # the lessor claims this truck: in no lessee's figures
        for r in rows[:12]:
            s.add(r)
        s.commit()


@pytest.mark.parametrize("profile", list(PROFILES))
def test_flagged_rows_are_screened_day_by_day_and_the_figures_still_equal(
    demo_copy: Engine, profile: str
) -> None:
    _spoil(demo_copy)
    with Session(demo_copy) as s:
        view = _assert_same_view(s, YEAR, profile)
        assert 0 < view.screened_vehicle_months < 100 and view.rows_excluded >= 6
        excluded = 0
        for code in s.exec(select(Lessee.code)).all():
            excluded += _assert_same_view(s, YEAR, profile, code).rows_excluded
        assert excluded == view.rows_excluded  # every flagged row found in its own lessee's view


def _former_tile(session: Session, lessee_code: str | None, today: dt.date) -> tuple[float, str] | None:
    from fleet.emissions.calc import parse_period, total
    from fleet.emissions.profiles import get_profile
    from fleet.emissions.service import report_from_db
    from fleet.services.scope import in_scope

    period = parse_period(f"{today:%Y-%m}")
    db = report_from_db(
        session, in_scope(session, lessee_code), lessee_code, period, get_profile(svc.DEFAULT_PROFILE), today
    )
    days = [r for r in (*db.report.ex_post, *db.report.attributed_elsewhere) if r.day <= today]
    if not days:
        return None
    return total(days).reduction_t, f"{period.start:%Y-%m-%d} to {max(r.day for r in days):%Y-%m-%d}"


def test_overview_tile_equals_the_month_report_with_flagged_rows(demo_copy: Engine) -> None:
    _spoil(demo_copy)
    with Session(demo_copy) as s:
        codes = [None] + [le.code for le in s.exec(select(Lessee)).all()]
        for code in codes:
            for today in (dt.date(2026, 11, 15), dt.date(2026, 11, 30), dt.date(2026, 10, 31)):
                new, old = svc.emissions_avoided(s, code, today), _former_tile(s, code, today)
                assert new is not None and old is not None
                assert new[1] == old[1] and new[0] == pytest.approx(old[0], rel=1e-12), (code, today)


def _add_depot_day(
    session: Session,
    own: dict[str, int],
    plan_id: int,
    vehicle_id: int,
    km: float,
    soc: tuple[float | None, float | None],
    load_kg: float = 0.0,
) -> None:
    """A truck's plan day as two depot stops: leave with `load_kg` [kg] at soc[0], return after `km` at soc[1]
    [kWh] (None: no state of charge)."""
    from fleet.models import RouteStop

    for seq, leg, load, soc_dep, soc_arr in ((0, 0.0, load_kg, soc[0], None), (1, km, 0.0, None, soc[1])):
        session.add(
            RouteStop(
                **own,
                plan_id=plan_id,
                vehicle_id=vehicle_id,
                sequence=seq,
                kind="depot",
                latitude=22.6,
                longitude=114.0,
                km_from_previous=leg,
                load_kg=load,
                soc_departure_kwh=soc_dep,
                soc_arrival_kwh=soc_arr,
            )
        )


def _plan_leases(session: Session, day: dt.date) -> list[Lease]:
    """Four leases of the first lessee's first depot covering `day`, in code order."""
    leases = session.exec(select(Lease).order_by(Lease.code)).all()
    depot_id = session.get(Vehicle, leases[0].vehicle_id).depot_id
    return [
        le
        for le in leases
        if le.lessee_id == leases[0].lessee_id
        and session.get(Vehicle, le.vehicle_id).depot_id == depot_id
        and le.start_date <= day <= le.end_date
    ][:4]


def _add_plans(session: Session, day: dt.date, mine: list[Lease]) -> dict[str, str]:
    """Current route and charging plans of the leases' depot for `day`, with every case `read_planned` tells apart:
    a truck with driven kWh (stops' state of charge), one with the charging plan's grid kWh only, one whose plan day
    fails a check (1,500 km: neither the plan nor the lease's expectation counts), the fourth lease's truck (the test
    lets the lessor claim it), the lessee's own diesel truck (no lease) and another lessee's truck on the plan.
    Returns role -> plate."""
    from fleet.models import ChargingPlan, ChargingSlot, PlanStatus, RoutePlan

    lessee_id = mine[0].lessee_id
    depot_id = session.get(Vehicle, mine[0].vehicle_id).depot_id
    driven, charged, implausible, lessor_claimed = (session.get(Vehicle, le.vehicle_id) for le in mine)
    leases = session.exec(select(Lease)).all()
    leased = {le.vehicle_id for le in leases}
    vehicles = session.exec(select(Vehicle).order_by(Vehicle.id)).all()
    diesel = next(v for v in vehicles if v.lessee_id == lessee_id and v.id not in leased)
    other = next(v for v in vehicles if v.lessee_id != lessee_id and v.id in leased)
    own = {"lessor_id": mine[0].lessor_id, "lessee_id": lessee_id}
    plan = RoutePlan(**own, depot_id=depot_id, service_date=day, version=1, status=PlanStatus.CURRENT)
    charging = ChargingPlan(**own, depot_id=depot_id, service_date=day, version=1, status=PlanStatus.CURRENT)
    session.add_all([plan, charging])
    session.flush()
    for vehicle, km, soc in (
        (driven, 250.0, (200.0, 150.0)),  # 50 kWh driven
        (charged, 180.0, (None, None)),  # no state of charge: the charging plan's grid kWh
        (implausible, 1500.0, (200.0, 100.0)),
        (lessor_claimed, 120.0, (200.0, 170.0)),
        (diesel, 90.0, (None, None)),
        (other, 60.0, (100.0, 80.0)),
    ):
        _add_depot_day(session, own, plan.id, vehicle.id, km, soc, load_kg=800.0)
    start = dt.datetime(day.year, day.month, day.day, 0, tzinfo=dt.UTC) - dt.timedelta(hours=6)
    for k in range(8):  # 8 slots x 40 kW x 15 min = 80 kWh at the grid
        session.add(
            ChargingSlot(
                **own,
                plan_id=charging.id,
                vehicle_id=charged.id,
                slot_start=start + dt.timedelta(minutes=15 * k),
                power_kw=40.0,
            )
        )
    session.commit()
    return {"driven": driven.plate, "charged": charged.plate, "implausible": implausible.plate}


def test_route_plan_days_in_the_lessor_table_equal_the_per_day_path(demo_copy: Engine) -> None:
    """The per-day ex-ante takes a current route plan's km and kWh (or the charging plan's grid kWh) on its
    vehicle-days; the SQL table does the same: equal to the per-day loop, and no longer the lease's expectation."""
    from fleet.emissions.calc import by_period, parse_period
    from fleet.emissions.profiles import get_profile
    from fleet.emissions.service import report_from_db
    from fleet.scope import scope_for

    day = dt.date(2026, 12, 2)
    with Session(demo_copy) as s:
        leases = _plan_leases(s, day)
        lessee = s.get(Lessee, leases[0].lessee_id)
        leases[3].emissions_claimant = Claimant.LESSOR
        s.add(leases[3])
        s.commit()
        before = svc.emissions_view(s, None, 2026)  # the leases' expectation on every lease day
        plates = _add_plans(s, day, leases)
        for profile in PROFILES:
            _assert_same_view(s, 2026, profile)
        report = report_from_db(
            s,
            scope_for(s, lessee_code=lessee.code),
            lessee.code,
            parse_period("2026"),
            get_profile(svc.DEFAULT_PROFILE),
        ).report
        planned = {r.vehicle_id: r for r in report.ex_ante if r.row_ref.startswith("routeplan")}
        # the others: a flagged day, the lessor's claim, no lease, another lessee's truck
        assert set(planned) == {plates["driven"], plates["charged"]}
        assert planned[plates["driven"]].km == pytest.approx(250.0)
        assert planned[plates["charged"]].grid_kwh == pytest.approx(80.0)
        assert not [r for r in report.ex_ante if r.vehicle_id == plates["implausible"] and r.day == day]
        after = svc.emissions_view(s, None, 2026)

    def december(view: svc.EmissionsView) -> float:
        months = view.months
        return months[(months["lessee"] == lessee.code) & (months["month"] == "2026-12")].iloc[0][
            "ex-ante reduction [t]"
        ]

    per_day = by_period(report.ex_ante, "month")["2026-12"].reduction_t
    assert december(after) == pytest.approx(per_day, rel=1e-9)
    assert december(before) != pytest.approx(december(after), rel=1e-6)  # the plan day counts
    basis = after.parties.set_index("lessee").loc[lessee.code, "ex-ante basis"]
    assert "stored route plans (2 vehicle-days)" in basis


@pytest.mark.postgres
def test_small_synthetic_lessor_on_postgres_summary_cache_and_staleness(pg_url: str) -> None:
    """A small synthetic lessor (fleet.vpp.scale: 4 depots, 40 trucks, 3 lessees, 62 days) on PostgreSQL: the
    load rebuilds the summary and caches the tables; cached, live-from-summary and per-day figures agree, and a
    write to vehicleday or to a lease makes the summary or the cache stale at once."""
    from fleet.db import make_engine
    from fleet.emissions import monthly
    from fleet.vpp.scale import ScaleSpec, load

    load(pg_url, ScaleSpec(depots=4, trucks=40, lessees=3, days=62))
    engine = make_engine(pg_url)
    try:
        with Session(engine) as s:
            assert monthly.summary_is_current(s)
            cached = _assert_same_view(s, 2025, svc.DEFAULT_PROFILE)
            assert len(cached.months) == 3 * 3 and cached.rows_checked == 40 * 62
            from fleet.emissions.calc import parse_period
            from fleet.emissions.profiles import get_profile, resolve_profile
            from fleet.emissions.service import registry_for
            from fleet.scope import scope_for

            scope = scope_for(s)
            resolved = resolve_profile(get_profile(svc.DEFAULT_PROFILE), registry_for(s, scope)[0], 2025)
            table, hit = monthly.cached_lessor_table(s, scope, parse_period("2025"), resolved)
            assert hit and table.from_summary
        with Session(engine) as s:  # a lease changed: the cached table is stale, the summary still current
            s.execute(
                sa.text(
                    "UPDATE lease SET monthly_rent_fen = monthly_rent_fen + 1 WHERE id = (SELECT min(id) FROM lease)"
                )
            )
            s.commit()
            assert monthly.summary_is_current(s)
            from fleet.models import EmissionsTableCache

            cache = EmissionsTableCache.__table__
            mark = monthly._input_mark(s.connection())
            assert not s.execute(
                sa.select(sa.exists().where(cache.c.input_mark == mark))
            ).scalar()  # all stale
            # the page (migration 0020) recomputes its own table at the new mark rather than serve the stale one
            fresh = monthly.lessor_table(s, scope, parse_period("2025"), resolved)
            table, hit = monthly.cached_lessor_table(s, scope, parse_period("2025"), resolved)
            assert hit and table == fresh
        with Session(engine) as s:  # a metered day added: the summary is stale, the figures computed live
            row = s.exec(select(VehicleDay).order_by(VehicleDay.id)).first()
            s.add(VehicleDay(**{**row.model_dump(exclude={"id"}), "day": dt.date(2025, 3, 5)}))
            s.commit()
            assert not monthly.summary_is_current(s)
            live = _assert_same_view(s, 2025, svc.DEFAULT_PROFILE)
            assert live.rows_checked == 40 * 62 + 1 and live.months["vehicle-days"].sum() == 40 * 62 + 1
            monthly.refresh(s)
            s.commit()
            assert monthly.summary_is_current(s)
            again = _assert_same_view(s, 2025, svc.DEFAULT_PROFILE)
            pd.testing.assert_frame_equal(again.months, live.months, check_exact=False, rtol=1e-9)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_published_or_superseded_route_plan_makes_the_cached_table_stale_on_postgres(pg_url: str) -> None:
    """Plans are no input of migration 0016's marks: a cached table names the current plans it was computed with
    (`plans_mark`); a plan published or superseded since makes it stale, so the page recomputes it with the plan day
    (equal to the per-day path) instead of serving the lease's expectation, and the nightly upkeep recomputes the
    other profiles."""
    from fleet.db import make_engine
    from fleet.emissions import monthly
    from fleet.emissions.calc import parse_period
    from fleet.emissions.profiles import get_profile, resolve_profile
    from fleet.emissions.service import registry_for
    from fleet.models import EmissionsTableCache, PlanStatus, RoutePlan
    from fleet.nightly import upkeep_emissions
    from fleet.scope import scope_for
    from fleet.vpp.scale import ScaleSpec, load

    load(pg_url, ScaleSpec(depots=4, trucks=40, lessees=3, days=62))
    engine = make_engine(pg_url)
    period = parse_period("2025")

    def page(s: Session) -> tuple[monthly.LessorTable, bool, int]:
        scope = scope_for(s)
        resolved = resolve_profile(get_profile(svc.DEFAULT_PROFILE), registry_for(s, scope)[0], 2025)
        table, hit = monthly.cached_lessor_table(s, scope, period, resolved)
        assert table == monthly.lessor_table(s, scope, period, resolved)  # never a stale table
        return table, hit, sum(p.plan_days for p in table.parties)

    def all_cached(s: Session) -> bool:
        t = EmissionsTableCache.__table__
        mark = monthly._input_mark(s.connection())
        rows = s.execute(
            sa.select(t.c.profile_id, t.c.payload).where(t.c.year == 2025, t.c.input_mark == mark)
        )
        current = monthly.plans_mark(s, scope_for(s).lessor_id, period)
        return {p for p, payload in rows if payload.get("plans_mark") == current} == set(PROFILES)

    try:
        with Session(engine) as s:
            assert page(s)[1:] == (True, 0) and all_cached(s)
            lease = s.exec(select(Lease).order_by(Lease.code)).first()
            vehicle = s.get(Vehicle, lease.vehicle_id)
            own = {"lessor_id": lease.lessor_id, "lessee_id": lease.lessee_id}
            plan = RoutePlan(
                **own,
                depot_id=vehicle.depot_id,
                service_date=dt.date(2025, 2, 10),
                version=1,
                status="current",
            )
            s.add(plan)
            s.flush()
            _add_depot_day(s, own, plan.id, vehicle.id, 150.0, (200.0, 170.0))
            s.commit()
            assert monthly.summary_is_current(s) and monthly.dirty_keys(s) == 0  # no mark moved
            assert page(s)[1:] == (True, 1)  # recomputed by the page, with the plan day, and stored
            _assert_same_view(s, 2025, svc.DEFAULT_PROFILE)
            assert not all_cached(s)  # the other profiles are left to the nightly
            assert "2025" in upkeep_emissions(pg_url) and all_cached(s)
            s.execute(
                sa.update(RoutePlan).where(RoutePlan.id == plan.id).values(status=PlanStatus.SUPERSEDED)
            )
            s.commit()
            assert page(s)[1:] == (True, 0)
            _assert_same_view(s, 2025, svc.DEFAULT_PROFILE)
    finally:
        engine.dispose()


def _summary_rows(s: Session) -> list[tuple]:
    from fleet.models import VehicleDayMonth

    t = VehicleDayMonth.__table__
    cols = [c for c in t.c if c.name != "id"]
    return sorted(tuple(r) for r in s.execute(sa.select(*cols)))


def _cache(s: Session) -> dict[tuple[int, int, str], tuple[int, dict]]:
    from fleet.models import EmissionsTableCache

    t = EmissionsTableCache.__table__
    rows = s.execute(sa.select(t.c.lessor_id, t.c.year, t.c.profile_id, t.c.input_mark, t.c.payload))
    return {(r.lessor_id, r.year, r.profile_id): (r.input_mark, r.payload) for r in rows}


def _same_json(a: object, b: object) -> None:
    """Equal JSON, floats to 1e-9 relative (sums may be added in another order)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for k in a:
            _same_json(a[k], b[k])
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same_json(x, y)
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
    else:
        assert a == b


@pytest.mark.postgres
def test_incremental_refresh_on_postgres_dirty_keys_equal_rebuild_and_page(pg_url: str) -> None:
    """Migration 0020 on a small synthetic lessor (2025-01-01 .. 03-03): a write records exactly its (vehicle,
    year, month) keys; `refresh_incremental` recomputes those summary rows and only the written year's cached
    tables (the other year's carried over) and gives what a whole rebuild gives; the Emissions page brings a small
    write up to date itself and serves the cached table; the write hooks and the nightly upkeep do their parts."""
    from fleet.db import make_engine
    from fleet.emissions import monthly
    from fleet.emissions.calc import parse_period
    from fleet.emissions.profiles import get_profile, resolve_profile
    from fleet.emissions.service import registry_for
    from fleet.nightly import upkeep_emissions
    from fleet.scope import scope_for
    from fleet.vpp.scale import ScaleSpec, load

    load(pg_url, ScaleSpec(depots=4, trucks=40, lessees=3, days=62))
    engine = make_engine(pg_url)

    def dirty(s: Session) -> set[tuple[int, int, int]]:
        from fleet.models import VehicleDayMonthDirty

        t = VehicleDayMonthDirty.__table__
        return {tuple(r) for r in s.execute(sa.select(t.c.vehicle_id, t.c.year, t.c.month).distinct())}

    def cached_hit(s: Session, year: int, profile: str = svc.DEFAULT_PROFILE) -> bool:
        """A cached table at the current input mark (what `cached_lessor_table` serves)."""
        from fleet.models import EmissionsTableCache

        t = EmissionsTableCache.__table__
        mark = monthly._input_mark(s.connection())
        where = sa.and_(t.c.year == year, t.c.profile_id == profile, t.c.input_mark == mark)
        return bool(s.execute(sa.select(sa.exists().where(where))).scalar())

    try:
        with Session(engine) as s:
            assert monthly.summary_is_current(s) and dirty(s) == set() and monthly.dirty_keys(s) == 0
            cache_before = _cache(s)
            years = {y for _, y, _ in cache_before}
            assert 2025 in years and len(years) >= 2 and all(cached_hit(s, y) for y in years)
            rows = s.exec(select(VehicleDay).order_by(VehicleDay.id).limit(200)).all()
            a, b = rows[0], next(r for r in rows if r.vehicle_id != rows[0].vehicle_id)
            s.add(VehicleDay(**{**a.model_dump(exclude={"id"}), "day": dt.date(2025, 6, 10)}))
            s.execute(sa.update(VehicleDay).where(VehicleDay.id == b.id).values(km=VehicleDay.km + 7.5))
            s.commit()
            # exactly the written keys (the insert's new month, the update's old and new rows' month)
            assert dirty(s) == {(a.vehicle_id, 2025, 6), (b.vehicle_id, b.day.year, b.day.month)}
            assert not monthly.summary_is_current(s) and not cached_hit(s, 2025)
            done = monthly.refresh_incremental(s)
            s.commit()
            assert done is not None and not done.full and done.keys == 2 and done.years == [2025]
            assert done.summary_rows == 2  # one vehicle-month each (one lessee per vehicle)
            assert done.tables == len(PROFILES) and done.restamped == len(cache_before) - len(PROFILES)
            assert monthly.summary_is_current(s) and dirty(s) == set()
            assert all(cached_hit(s, y, p) for y in years for p in PROFILES)
            incremental_rows, incremental_cache = _summary_rows(s), _cache(s)
            view = _assert_same_view(s, 2025, svc.DEFAULT_PROFILE)  # cached, equal to the per-day path
            assert view.rows_checked == 40 * 62 + 1
            monthly.refresh(s)  # the whole rebuild: the same summary and tables
            s.commit()
            full_rows, full_cache = _summary_rows(s), _cache(s)
            assert len(incremental_rows) == len(full_rows)
            for x, y in zip(incremental_rows, full_rows, strict=True):
                _same_json(list(x), list(y))
            assert incremental_cache.keys() == full_cache.keys()
            for key, (_, payload) in full_cache.items():
                _same_json(incremental_cache[key][1], payload)

        with Session(engine) as s:  # a small write, then the page: it refreshes itself, no live computation
            base = s.exec(select(VehicleDay).order_by(VehicleDay.id)).first().model_dump(exclude={"id"})
            s.add(VehicleDay(**{**base, "day": dt.date(2025, 7, 1)}))
            s.commit()
            assert monthly.dirty_keys(s) == 1 and not cached_hit(s, 2025)
            scope = scope_for(s)
            resolved = resolve_profile(get_profile(svc.DEFAULT_PROFILE), registry_for(s, scope)[0], 2025)
            _table, hit = monthly.cached_lessor_table(s, scope, parse_period("2025"), resolved)
            assert hit and monthly.summary_is_current(s) and monthly.dirty_keys(s) == 0
            view = _assert_same_view(s, 2025, svc.DEFAULT_PROFILE)
            assert view.rows_checked == 40 * 62 + 2
            # too many keys for the page (limit 1): computed live, the keys left for the nightly
            s.add(VehicleDay(**{**base, "day": dt.date(2025, 8, 1)}))
            s.commit()
            assert not monthly._refresh_for_page(s, 2025, svc.DEFAULT_PROFILE, max_keys=1)
            assert monthly.dirty_keys(s) == 1 and not monthly.summary_is_current(s)

        with Session(
            engine
        ) as s:  # the write hook: summary at once, the year's tables marked for the nightly
            row = s.exec(select(VehicleDay).order_by(VehicleDay.id)).first()
            s.add(VehicleDay(**{**row.model_dump(exclude={"id"}), "day": dt.date(2025, 9, 1)}))
            monthly.refresh_after_commit(s)
            s.commit()
            assert monthly.summary_is_current(s) and monthly.dirty_keys(s) == 0
            assert dirty(s) == {(monthly.YEAR_TABLES, 2025, 0)} and not cached_hit(s, 2025)
            s.execute(
                sa.text(
                    "UPDATE lease SET monthly_rent_fen = monthly_rent_fen + 1 WHERE id = (SELECT min(id) FROM lease)"
                )
            )
            s.commit()
            assert (monthly.ALL_TABLES, 0, 0) in dirty(s) and monthly.summary_is_current(s)
        assert "whole" not in upkeep_emissions(pg_url)  # the nightly: every table again, no summary rebuild
        with Session(engine) as s:
            assert dirty(s) == set() and monthly.summary_is_current(s)
            assert all(cached_hit(s, y, p) for y in years for p in PROFILES)
            _assert_same_view(s, 2025, svc.DEFAULT_PROFILE)
    finally:
        engine.dispose()
