"""Emissions on the demo database: factor table, scoped reads, bad imported rows, CLI and the package."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select
from typer.testing import CliRunner

from evfleet_data import EMISSION_FACTORS_CSV
from fleet.cli.main import app
from fleet.db import session_scope
from fleet.emissions.calc import by_period, by_vehicle_period, parse_period, total
from fleet.emissions.profiles import PROFILES, TCSAE_235
from fleet.emissions.report import build_report
from fleet.emissions.service import report_from_db
from fleet.emissions.sources import load_factor_table, read_context, read_metered, registry_from_table
from fleet.factors import FactorError, load_registry
from fleet.models import EmissionFactor
from fleet.scope import ScopeError, scope_for

from .test_submission import assert_package_agrees

LESSEES = ("PCX", "FRESH", "EMALL")


@pytest.fixture(scope="module")
def demo_records(demo_engine):
    """The demo's leases and all 2026 metered rows as plain records (read once, in the lessor's scope)."""
    with session_scope(demo_engine) as session:
        scope = scope_for(session)
        ctx = read_context(session, scope)
        metered = read_metered(session, scope, ctx, parse_period("2026"))
    return ctx, metered


def test_factor_table_is_append_only(demo_copy, tmp_path: Path) -> None:
    registry = load_registry()
    with session_scope(demo_copy) as session:
        scope = scope_for(session)
        first = load_factor_table(session, scope, registry)
        assert (first.inserted, first.unchanged) == (len(registry), 0)
    with session_scope(demo_copy) as session:
        scope = scope_for(session)
        again = load_factor_table(session, scope, registry)
        assert (again.inserted, again.unchanged) == (0, len(registry))
        assert registry_from_table(session, scope).value("grid.cn.mee.southern.2023") == 0.4042
    edited = tmp_path / "edited.csv"
    text = EMISSION_FACTORS_CSV.read_text(encoding="utf-8")
    edited.write_text(
        text.replace("grid.cn.mee.southern.2023,0.4042", "grid.cn.mee.southern.2023,0.4100"), encoding="utf-8"
    )
    with (
        pytest.raises(FactorError, match=r"never edited in place.*grid\.cn\.mee\.southern\.2023"),
        session_scope(demo_copy) as session,
    ):
        load_factor_table(session, scope_for(session), load_registry(edited))
    with session_scope(demo_copy) as session:
        row = session.exec(
            select(EmissionFactor).where(EmissionFactor.key == "grid.cn.mee.southern.2023")
        ).one()
        assert float(row.value) == 0.4042
        lessee_scope = scope_for(session, lessee_code="PCX")
        with pytest.raises(ScopeError):
            load_factor_table(
                session,
                lessee_scope,
                registry.__class__(
                    [
                        registry.get("grid.cn.mee.national.2021").__class__(
                            **{**registry.get("grid.cn.mee.national.2021").as_dict(), "key": "grid.new.2021"}
                        )
                    ]
                ),
            )


def test_demo_leases_all_have_a_baseline(demo_records) -> None:
    ctx, metered = demo_records
    assert len(ctx.book.leases) == 80 and ctx.lease_problems == ()
    assert {lease.claimant for lease in ctx.book.leases} <= {"lessee", "lessor"}
    assert all(lease.baseline_l_per_100km > 0 and lease.battery_kwh for lease in ctx.book.leases)
    assert len(metered) > 4000


@pytest.mark.parametrize("lessee", LESSEES)
def test_demo_annual_reduction_is_sum_over_vehicles_and_months(demo_records, lessee) -> None:
    ctx, metered = demo_records
    report = build_report(lessee, parse_period("2026"), metered, [], ctx.book, TCSAE_235, load_registry())
    annual = total(report.ex_post).reduction_t
    assert annual > 0 and len(report.ex_post) > 500
    assert annual == pytest.approx(
        sum(t.reduction_t for t in by_vehicle_period(report.ex_post, "month").values()), abs=1e-9
    )
    assert annual == pytest.approx(
        sum(t.reduction_t for t in by_period(report.ex_post, "month").values()), abs=1e-9
    )


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_demo_property_any_subset_any_profile(demo_records, data) -> None:
    """Property: for random subsets of the demo's metered rows and any profile, every lessee's annual
    reduction equals the sum over its vehicles and months, and no vehicle-day is claimed by two parties."""
    ctx, metered = demo_records
    picked = data.draw(st.lists(st.sampled_from(range(len(metered))), max_size=300, unique=True))
    rows = [metered[i] for i in sorted(picked)]
    profile = PROFILES[data.draw(st.sampled_from(sorted(PROFILES)))]
    registry = load_registry()
    claimed = []
    for party in LESSEES + (ctx.lessor_code,):
        report = build_report(party, parse_period("2026"), rows, [], ctx.book, profile, registry)
        months = by_vehicle_period(report.ex_post, "month")
        assert total(report.ex_post).reduction_t == pytest.approx(
            sum(t.reduction_t for t in months.values()), abs=1e-9
        )
        claimed += [(r.vehicle_id, r.day) for r in report.ex_post]
    assert len(claimed) == len(set(claimed)) == len(rows)


BAD_TRIPS = """plate,day,km,kwh_vehicle,kwh_charger,tonne_km
粤BD10001,2026-11-25,-12.0,5.0,5.5,
粤BD10003,2026-11-25,120.0,,500.0,
粤BB0023,2026-11-10,80.0,,20.0,
粤BD10002,2026-11-01,50.0,9.0,9.8,
"""


def test_imported_bad_rows_are_flagged_and_excluded(demo_copy, tmp_path: Path) -> None:
    from fleet.importers import import_file

    period = parse_period("2026-11")
    with session_scope(demo_copy) as session:
        before = report_from_db(session, scope_for(session), "PCX", period, TCSAE_235).report
    path = tmp_path / "bad-trips.csv"
    path.write_text(BAD_TRIPS, encoding="utf-8")
    with session_scope(demo_copy) as session:
        import_file(session, scope_for(session), "trips", path)
    with session_scope(demo_copy) as session:
        after = report_from_db(
            session, scope_for(session, lessee_code="PCX"), "PCX", period, TCSAE_235
        ).report
    codes = {(f.vehicle_id, f.code) for f in after.flags}
    assert codes >= {
        ("粤BD10001", "negative_km"),
        ("粤BD10003", "energy_above_battery"),
        ("粤BB0023", "not_on_lease"),
        ("粤BD10002", "duplicate_day"),
    }
    assert {f.vehicle_id for f in after.flags if f.code == "duplicate_day"} == {"粤BD10002"}
    assert sum(1 for f in after.flags if f.code == "duplicate_day") == 2  # both conflicting copies excluded
    assert after.rows_excluded == 5 and after.rows_checked == before.rows_checked + 4
    dropped = [r for r in before.ex_post if (r.vehicle_id, r.day) == ("粤BD10002", date(2026, 11, 1))]
    assert total(after.ex_post).reduction_t == pytest.approx(
        total(before.ex_post).reduction_t - total(dropped).reduction_t
    )
    assert all("vehicleday#" in f.row_ref for f in after.flags)


def test_cli_emissions_json_and_errors(demo_engine) -> None:
    url = str(demo_engine.url)
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "emissions",
            "--lessee",
            "FRESH",
            "--period",
            "2026-11",
            "--profile",
            "glec-wtw",
            "--json",
            "--db",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["party"] == "FRESH" and report["profile"]["id"] == "glec-wtw"
    assert report["vintage"]["used_data_year"] == 2023 and report["vintage"]["fallback_applied"]
    # issue 19 item 1: no WTW electricity factor is sourced, so the GLEC reduction is withheld everywhere;
    # the figures that remain (the WTW baseline) still add up over the vehicles
    assert report["ex_post"]["reduction_t"] is None and "withheld" in report["reduction_withheld"]
    assert all(v["ex_post"]["reduction_t"] is None for v in report["per_vehicle"] if v["ex_post"])
    assert report["ex_post"]["baseline_t"] == pytest.approx(
        sum(v["ex_post"]["baseline_t"] for v in report["per_vehicle"] if v["ex_post"]), abs=1e-5
    )
    assert report["intensity_ex_post"]["baseline_g_per_tkm"] > 0
    assert report["intensity_ex_post"]["project_g_per_tkm"] is None
    again = runner.invoke(
        app,
        [
            "emissions",
            "--lessee",
            "FRESH",
            "--period",
            "2026-11",
            "--profile",
            "glec-wtw",
            "--json",
            "--db",
            url,
        ],
    )
    assert again.output == result.output
    table = runner.invoke(
        app, ["emissions", "--lessee", "PCX", "--period", "2026-11", "--grid", "southern", "--db", url]
    )
    assert table.exit_code == 0 and "grid.cn.mee.southern.2023" in table.output
    for args, message in (
        (["--period", "2026-13"], "month must be 01-12"),
        (["--period", "2026-11", "--profile", "x"], "unknown profile"),
        (["--period", "2026-11", "--lessee", "NOPE"], "unknown lessee code"),
        (["--period", "2026-11", "--grid", "mars"], "no grid factors"),
    ):
        bad = runner.invoke(app, ["emissions", *args, "--db", url])
        assert bad.exit_code == 1 and message in bad.output, bad.output
        assert "Traceback" not in bad.output


def test_cli_submission_on_demo_agrees_and_refuses_double_claims(demo_engine, tmp_path: Path) -> None:
    url = str(demo_engine.url)
    ledger = tmp_path / "claims.json"
    runner = CliRunner()
    base = [
        "submission",
        "--lessee",
        "EMALL",
        "--year",
        "2026",
        "--ledger",
        str(ledger),
        "--as-of",
        "2026-11-24",
        "--db",
        url,
    ]
    first = runner.invoke(app, base + ["--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    stem = tmp_path / "a" / "EMALL-2026-tcsae-235"
    document = assert_package_agrees(
        stem.with_suffix(".json"), stem.with_suffix(".xlsx"), stem.with_suffix(".pdf")
    )
    assert document["parties"]["lessee"]["name"].startswith("Longgang E-Mall")
    assert document["data_quality"]["gaps_checked_until"] == "2026-11-24"
    # the same report again: allowed, byte-identical JSON/XLSX/PDF
    second = runner.invoke(app, base + ["--out", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    for suffix in (".json", ".xlsx", ".pdf"):
        assert (tmp_path / "b" / f"EMALL-2026-tcsae-235{suffix}").read_bytes() == stem.with_suffix(
            suffix
        ).read_bytes()
    # the same vehicle-days under another methodology: refused, naming the earlier report, nothing written
    third = runner.invoke(
        app, base[:-2] + ["--db", url, "--profile", "ams-iii-c", "--out", str(tmp_path / "c")]
    )
    assert third.exit_code == 1
    assert "double counting" in third.output and "submission:EMALL:2026:tcsae-235" in third.output
    assert not (tmp_path / "c").exists()


def test_ex_ante_reads_current_route_and_charging_plans(demo_copy) -> None:
    """A current route plan (50 km, 38 t·km) and charging plan (4 slots × 10 kW × 15 min = 10 kWh) for one vehicle
    on 2026-12-01 become its ex-ante day; a superseded plan is ignored; other vehicles use the lease expectation."""
    from datetime import datetime, timedelta

    from fleet.models import (
        LOCAL_TZ,
        ChargingPlan,
        ChargingSlot,
        Depot,
        PlanStatus,
        RoutePlan,
        RouteStop,
        Vehicle,
    )

    day = date(2026, 12, 1)
    with session_scope(demo_copy) as session:
        vehicle = session.exec(select(Vehicle).where(Vehicle.plate == "粤BD10001")).one()
        depot = session.get(Depot, vehicle.depot_id)
        owner = {"lessor_id": vehicle.lessor_id, "lessee_id": vehicle.lessee_id}
        for version, status, km in ((1, PlanStatus.SUPERSEDED, 999.0), (2, PlanStatus.CURRENT, 30.0)):
            plan = RoutePlan(**owner, depot_id=depot.id, service_date=day, version=version, status=status)
            session.add(plan)
            session.flush()
            # no state of charge on the stops: the day's energy comes from the charging plan
            stops = [(0, 0.0, 1000.0, None, None), (1, km, 400.0, None, None), (2, 20.0, 0.0, None, None)]
            for seq, leg_km, load, soc_arr, soc_dep in stops:
                session.add(
                    RouteStop(
                        **owner,
                        plan_id=plan.id,
                        vehicle_id=vehicle.id,
                        sequence=seq,
                        kind="depot" if seq in (0, 2) else "job",
                        latitude=depot.latitude,
                        longitude=depot.longitude,
                        load_kg=load,
                        km_from_previous=leg_km,
                        soc_arrival_kwh=soc_arr,
                        soc_departure_kwh=soc_dep,
                    )
                )
        charging = ChargingPlan(
            **owner, depot_id=depot.id, service_date=day, version=1, status=PlanStatus.CURRENT
        )
        session.add(charging)
        session.flush()
        start = datetime(2026, 11, 30, 23, 0, tzinfo=LOCAL_TZ)
        for k in range(4):
            session.add(
                ChargingSlot(
                    **owner,
                    plan_id=charging.id,
                    vehicle_id=vehicle.id,
                    slot_start=start + timedelta(minutes=15 * k),
                    power_kw=10.0,
                )
            )
    with session_scope(demo_copy) as session:
        report = report_from_db(
            session, scope_for(session, lessee_code="PCX"), "PCX", parse_period("2026-12-01"), TCSAE_235
        ).report
    planned = {r.vehicle_id: r for r in report.ex_ante}
    mine = planned["粤BD10001"]
    assert (mine.km, mine.grid_kwh, mine.tonne_km) == (50.0, 10.0, 38.0)
    assert mine.row_ref.startswith("routeplan#") and "chargingplan#" in mine.row_ref
    others = [r for v, r in planned.items() if v != "粤BD10001"]
    assert others and all(r.row_ref.startswith("lease ") for r in others)
    assert all(r.km == pytest.approx(40000 / 365) for r in others)  # demo leases expect 40,000 km/yr
    assert report.ex_post == ()  # nothing metered on that day yet


def test_charging_sessions_fill_a_missing_charger_reading(demo_copy, tmp_path: Path) -> None:
    """A trip with vehicle-side kWh only takes the charger kWh of the sessions ending that (local) day, the
    overnight one included."""
    from fleet.importers import import_file

    trips = tmp_path / "trips.csv"
    trips.write_text(
        "plate,day,km,kwh_vehicle,kwh_charger,tonne_km\n粤BD10001,2026-11-26,100.0,18.0,,\n"
        "粤BD10002,2026-11-26,100.0,18.0,,\n",
        encoding="utf-8",
    )
    sessions = tmp_path / "charging.csv"
    sessions.write_text(
        "plate,depot_code,connector_code,started_at,ended_at,kwh,cost_cny\n"
        "粤BD10001,SZ-BA,,2026-11-25 23:50,2026-11-26 02:00,12.5,\n"
        "粤BD10001,SZ-BA,,2026-11-26 12:00,2026-11-26 12:40,8.0,\n"
        "粤BD10001,SZ-BA,,2026-11-25 10:00,2026-11-25 11:00,99.0,\n",
        encoding="utf-8",
    )
    with session_scope(demo_copy) as session:
        scope = scope_for(session)
        import_file(session, scope, "trips", trips)
        import_file(session, scope, "charging", sessions)
    with session_scope(demo_copy) as session:
        db = report_from_db(session, scope_for(session), "PCX", parse_period("2026-11-26"), TCSAE_235)
    days = {r.vehicle_id: r for r in db.report.ex_post}
    assert (
        days["粤BD10001"].grid_kwh == pytest.approx(20.5) and "chargingsession#" in days["粤BD10001"].row_ref
    )
    # no session: vehicle-side kWh / the depot's lowest connector efficiency
    lease = db.context.book.lease_on("粤BD10002", date(2026, 11, 26))
    assert lease.charging_efficiency is not None and lease.charging_efficiency < 1
    assert days["粤BD10002"].grid_kwh == pytest.approx(18.0 / lease.charging_efficiency)
    assert "chargingsession" not in days["粤BD10002"].row_ref
    # the 99 kWh session ending on 2026-11-25 has no trip that day: flagged, not counted
    with session_scope(demo_copy) as session:
        eve = report_from_db(session, scope_for(session), "PCX", parse_period("2026-11-25"), TCSAE_235).report
    (orphan,) = [f for f in eve.flags if f.code == "charging_without_trip"]
    assert orphan.vehicle_id == "粤BD10001" and "99.0 kWh not counted" in orphan.message
    assert eve.ex_post == ()


def test_cli_factors_load_and_list(demo_copy, tmp_path: Path) -> None:
    url = str(demo_copy.url)
    runner = CliRunner()
    first = runner.invoke(app, ["factors", "load", "--db", url])
    assert first.exit_code == 0 and f"{len(load_registry())} added" in first.output, first.output
    second = runner.invoke(app, ["factors", "load", "--db", url])
    assert "0 added" in second.output
    listing = runner.invoke(app, ["factors", "list", "--db", url])
    assert listing.exit_code == 0 and "grid.cn.mee.southern.2022" in listing.output
    edited = tmp_path / "edited.csv"
    edited.write_text(
        EMISSION_FACTORS_CSV.read_text(encoding="utf-8").replace(
            "diesel.density.planning,0.84", "diesel.density.planning,0.85"
        ),
        encoding="utf-8",
    )
    refused = runner.invoke(app, ["factors", "load", "--file", str(edited), "--db", url])
    assert refused.exit_code == 1 and "diesel.density.planning" in refused.output
    report = runner.invoke(app, ["emissions", "--lessee", "PCX", "--period", "2026-11", "--db", url])
    assert "database table emissionfactor" in report.output


def test_lessor_claimant_on_a_lease_moves_the_vehicle_and_claims_release(demo_copy, tmp_path: Path) -> None:
    from fleet.models import Claimant
    from fleet.models import Lease as LeaseRow

    with session_scope(demo_copy) as session:
        row = session.exec(select(LeaseRow).where(LeaseRow.code == "L-BA-001")).one()
        row.emissions_claimant = Claimant.LESSOR
        session.add(row)
    with session_scope(demo_copy) as session:
        period = parse_period("2026-11")
        pcx = report_from_db(session, scope_for(session), "PCX", period, TCSAE_235).report
        lessor = report_from_db(session, scope_for(session), None, period, TCSAE_235).report
    assert lessor.party_id == "SZEL" and {r.vehicle_id for r in lessor.ex_post} == {"粤BD10001"}
    assert "粤BD10001" not in {r.vehicle_id for r in pcx.ex_post}
    assert {r.vehicle_id for r in pcx.attributed_elsewhere} == {"粤BD10001"}

    url, ledger = str(demo_copy.url), tmp_path / "claims.json"
    runner = CliRunner()
    common = ["--year", "2026", "--ledger", str(ledger), "--db", url]
    assert runner.invoke(app, ["submission", "--out", str(tmp_path / "lessor"), *common]).exit_code == 0
    assert (
        runner.invoke(
            app, ["submission", "--lessee", "FRESH", "--out", str(tmp_path / "f"), *common]
        ).exit_code
        == 0
    )
    listing = runner.invoke(app, ["claims", "list", "--db", url])
    assert (
        "submission:SZEL:2026:tcsae-235" in listing.output
        and "submission:FRESH:2026:tcsae-235" in listing.output
    )
    other = runner.invoke(app, ["submission", "--out", str(tmp_path / "x"), "--profile", "glec-wtw", *common])
    assert other.exit_code == 1 and "submission:SZEL:2026:tcsae-235" in other.output
    released = runner.invoke(app, ["claims", "release", "submission:SZEL:2026:tcsae-235", "--db", url])
    assert released.exit_code == 0 and "released" in released.output
    again = runner.invoke(app, ["submission", "--out", str(tmp_path / "x"), "--profile", "glec-wtw", *common])
    assert again.exit_code == 0, again.output


def test_factor_table_round_trips_on_sqlite_and_postgresql(any_url: str) -> None:
    """Every factor value survives NUMERIC storage exactly, and a reload is a no-op, on both backends."""
    from fleet.db import make_engine
    from fleet.migrate import upgrade
    from fleet.models import Lessor

    upgrade(any_url)
    engine = make_engine(any_url)
    registry = load_registry()
    with session_scope(engine) as session:
        session.add(Lessor(code="L", name="Lessor"))
    with session_scope(engine) as session:
        load_factor_table(session, scope_for(session), registry)
    with session_scope(engine) as session:
        stored = registry_from_table(session, scope_for(session))
        assert list(stored) == list(registry)
        assert load_factor_table(session, scope_for(session), registry).inserted == 0
    engine.dispose()


def test_ex_ante_from_a_pipeline_depot_day(demo_copy) -> None:
    """The nightly pipeline's stored plans (routes in RoutePlan.solution, grid power in ChargingSlot) become the
    ex-ante vehicle-days of the lessee's EVs; its diesel trucks are left out."""
    from fleet.models import ChargingSlot, Depot, RoutePlan
    from fleet.pipeline import RunOptions, current_charging_plan, current_route_plan, run_depot_day

    day = date(2026, 11, 26)
    with session_scope(demo_copy) as session:
        depot_id = session.exec(select(Depot).where(Depot.code == "SZ-NS")).one().id
        scope = scope_for(session)
    run_depot_day(
        demo_copy, scope, depot_id, day, RunOptions(time_limit_s=1.0, charging_time_limit_s=5.0, seed=1)
    )
    with session_scope(demo_copy) as session:
        scope = scope_for(session)
        route_plan: RoutePlan = current_route_plan(session, scope, depot_id, day)
        charging = current_charging_plan(session, scope, depot_id, day)
        slots = session.exec(select(ChargingSlot).where(ChargingSlot.plan_id == charging.id)).all()
        report = report_from_db(
            session,
            scope_for(session, lessee_code="FRESH"),
            "FRESH",
            parse_period(day.isoformat()),
            TCSAE_235,
        ).report
    km: dict[str, float] = {}
    driven: dict[str, float] = {}
    for route in route_plan.solution["routes"]:
        if route["stops"]:
            km[route["vehicle_type"]] = km.get(route["vehicle_type"], 0.0) + route["distance_km"]
            driven[route["vehicle_type"]] = driven.get(route["vehicle_type"], 0.0) + route["energy_kwh"]
    planned = {r.vehicle_id: r for r in report.ex_ante if r.row_ref.startswith("routeplan")}
    leased = {lease.vehicle_id for lease in read_context_for(demo_copy).book.leases}
    assert planned and set(planned) == {plate for plate in km if plate in leased}
    lease_of = {lease.vehicle_id: lease for lease in read_context_for(demo_copy).book.leases}
    for plate, r in planned.items():
        assert r.km == pytest.approx(km[plate])
        assert r.grid_kwh == pytest.approx(driven[plate] / lease_of[plate].charging_efficiency)
    assert slots and total(list(planned.values())).reduction_t > 0


def read_context_for(engine):
    with session_scope(engine) as session:
        return read_context(session, scope_for(session))
