"""Re-plan service (fleet.planning.replan) and `evfleet route replan` on one demo depot-day.

The current plan is solved once (1.5 s) and stored directly as the current version; every test works on its own
copy of that database, so none of them can change what another sees.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from fleet.db import make_engine
from fleet.i18n import use_locale
from fleet.models import Depot, Order, PlanStatus, RoutePlan, RouteStop, Vehicle, VehicleStatus
from fleet.planning.build import routing_problem
from fleet.planning.inputs import load_depot_day
from fleet.planning.replan import FleetLocks, ReplanNotice, ReplanRequestError, replan, store_draft
from fleet.planning.violation_text import notice_text
from fleet.scope import scope_for
from routing.check import check_solution
from routing.io.json_io import problem_from_dict, problem_to_dict
from routing.solution import RoutingSolution
from routing.solve import solve

DAY = dt.date(2026, 11, 26)
DEPOT = "SZ-NS"


@pytest.fixture(scope="module")
def planned(demo_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database whose SZ-NS day has a current route plan (no charging plan: not needed here)."""
    path = tmp_path_factory.mktemp("replan") / "planned.db"
    with sqlite3.connect(demo_engine.url.database) as a, sqlite3.connect(path) as b:
        a.backup(b)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as s:
        scope = scope_for(s)
        depot = s.exec(select(Depot).where(Depot.code == DEPOT)).one()
        problem = routing_problem(load_depot_day(s, scope, depot.id, DAY))
        sol = solve(problem, time_limit_s=1.5, seed=1)
        assert check_solution(problem, sol).feasible
        s.add(
            RoutePlan(
                lessor_id=depot.lessor_id,
                lessee_id=depot.lessee_id,
                depot_id=depot.id,
                service_date=DAY,
                version=1,
                status=PlanStatus.CURRENT,
                vehicles_used=sol.vehicles_used,
                problem=problem_to_dict(problem),
                solution=sol.to_dict(),
            )
        )
        s.commit()
    engine.dispose()
    return path


@pytest.fixture
def db(planned: Path, tmp_path: Path) -> Engine:
    dst = tmp_path / "copy.db"
    with sqlite3.connect(planned) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return make_engine(f"sqlite:///{dst}")


def _busiest(session: Session) -> tuple[RoutePlan, str, int]:
    plan = session.exec(select(RoutePlan).where(RoutePlan.status == PlanStatus.CURRENT)).one()
    route = max(plan.solution["routes"], key=lambda r: sum(1 for s in r["stops"] if s["kind"] == "job"))
    return plan, route["vehicle_type"], sum(1 for s in route["stops"] if s["kind"] == "job")


def test_breakdown_replan_keeps_the_other_trucks_and_writes_nothing(db: Engine) -> None:
    with Session(db) as s:
        plan, plate, n = _busiest(s)
        before = (plan.id, plan.version, plan.solution)
        out = replan(
            s, DEPOT, DAY, unavailable_vehicles=[plate], seed=1, time_limit_s=1.0, compare_free=False
        )
        assert out.result.ok, (out.result.check.summary(), out.result.locks.summary())
        moves = out.result.moves
        assert len(moves.moved_from_unavailable) == n and len(moves.moved_other) <= 3 and not moves.dropped
        assert dict(out.unavailable)[plate] == "named unavailable"
        assert out.summary()["replan"]["moved"] == len(moves.moved)
        s.commit()
    with Session(db) as s:  # the published plan is untouched and nothing else was written
        plans = s.exec(select(RoutePlan)).all()
        assert [(p.id, p.version, p.solution) for p in plans] == [before]


def test_truck_set_to_maintenance_is_taken_out_with_a_warning(db: Engine) -> None:
    with Session(db) as s:
        _, plate, _ = _busiest(s)
        truck = s.exec(select(Vehicle).where(Vehicle.plate == plate)).one()
        truck.status = VehicleStatus.MAINTENANCE
        s.add(truck)
        s.flush()
        out = replan(s, DEPOT, DAY, time_limit_s=0.5, compare_free=False)
        assert dict(out.unavailable)[plate] == "status maintenance"
        assert any(plate in w for w in out.warnings)
        assert ReplanNotice("status_changed", {"plate": plate, "status": "maintenance"}) in out.notices
        with use_locale("zh_CN"):  # the same warning in the planner's language
            assert (
                notice_text("status_changed", out.notices[0].params) == f"{plate} 在计划中，但其状态现为维修"
            )
        assert plate not in {out.plates[v] for v in out.result.day_sequences()}


def test_draft_is_stored_beside_the_published_plan_and_rechecks(db: Engine) -> None:
    with Session(db) as s:
        plan, plate, _ = _busiest(s)
        route = next(r for r in plan.solution["routes"] if r["vehicle_type"] == plate)
        first_departure = route["stops"][0]["departure"]
        origin = problem_from_dict(plan.problem).time_origin
        now = origin + dt.timedelta(minutes=first_departure + 1)  # its first order is served
        other = next(r for r in plan.solution["routes"] if r["vehicle_type"] != plate)
        out = replan(
            s,
            DEPOT,
            DAY,
            unavailable_vehicles=[plate],
            locks=FleetLocks(vehicles=(other["vehicle_type"],)),
            now=now,
            time_limit_s=0.5,
            compare_free=False,
        )
        assert out.result.ok, (out.result.check.summary(), out.result.locks.summary())
        served = [x["id"] for x in route["stops"] if x["service_start"] <= first_departure + 1]
        assert [x.id for x in out.result.remainder.fixed[f"{plate}#1"]] == served
        assert out.result.day_sequences()[other["vehicle_id"]] == tuple(x["id"] for x in other["stops"])
        draft_id = store_draft(s, out, reason="breakdown test")
        plan_id, version, n_jobs = plan.id, plan.version, len(plan.problem["jobs"])
        s.commit()
    with Session(db) as s:
        rows = {p.id: p for p in s.exec(select(RoutePlan)).all()}
        assert rows[plan_id].status is PlanStatus.CURRENT and rows[draft_id].status is PlanStatus.DRAFT
        draft = rows[draft_id]
        assert draft.version == version + 1
        report = check_solution(problem_from_dict(draft.problem), RoutingSolution.from_dict(draft.solution))
        assert report.feasible, report.summary()
        stops = s.exec(select(RouteStop).where(RouteStop.plan_id == draft_id)).all()
        jobs = [x for x in stops if x.kind == "job"]
        assert len(jobs) == n_jobs - len(draft.unserved)
        assert all(x.order_id is not None for x in jobs)
        broken = s.exec(select(Vehicle).where(Vehicle.plate == plate)).one()
        kinds = [x.kind for x in stops if x.vehicle_id == broken.id]
        assert kinds == ["depot"] + ["job"] * len(served)  # served, then broke down: no way home in the plan


def test_urgent_order_is_added_and_bad_requests_name_the_problem(db: Engine) -> None:
    with Session(db) as s:
        depot = s.exec(select(Depot).where(Depot.code == DEPOT)).one()
        some = s.exec(select(Order).where(Order.depot_id == depot.id, Order.service_date == DAY)).first()
        urgent = Order(
            **{k: v for k, v in some.model_dump().items() if k not in ("id", "external_ref")},
            external_ref="URGENT-1",
        )
        s.add(urgent)
        s.flush()
        out = replan(s, DEPOT, DAY, urgent_orders=["URGENT-1"], time_limit_s=0.5, compare_free=False)
        assert out.result.ok and out.result.moves.added == ("URGENT-1",) and not out.result.moves.moved
        with pytest.raises(ReplanRequestError, match="not a truck of the SZ-NS plan"):
            replan(s, DEPOT, DAY, unavailable_vehicles=["粤X00000"], compare_free=False)
        with pytest.raises(ReplanRequestError, match="no current route plan"):
            replan(s, DEPOT, DAY + dt.timedelta(days=1), compare_free=False)


def test_cli_route_replan(db: Engine, tmp_path: Path) -> None:
    from fleet.cli.main import app

    with Session(db) as s:
        _, plate, _ = _busiest(s)
    url = str(db.url)
    out = tmp_path / "replan.json"
    res = CliRunner().invoke(
        app,
        [
            "route",
            "replan",
            "--depot",
            DEPOT,
            "--date",
            DAY.isoformat(),
            "--unavailable",
            plate,
            "--now",
            "09:30",
            "--time-limit",
            "0.5",
            "--no-compare",
            "--save-draft",
            "--out",
            str(out),
            "--db",
            url,
        ],
    )
    assert res.exit_code == 0, res.output
    assert "minimal change" in res.output and "stored as draft route plan" in res.output
    assert out.is_file()
    again = CliRunner().invoke(
        app,
        ["route", "replan", "--depot", DEPOT, "--date", DAY.isoformat(), "--base-version", "7", "--db", url],
    )
    assert again.exit_code != 0 and "no route plan version 7" in again.output
    bad = CliRunner().invoke(
        app, ["route", "replan", "--depot", DEPOT, "--date", DAY.isoformat(), "--now", "9h30", "--db", url]
    )
    assert bad.exit_code != 0 and "not a time of day" in bad.output
