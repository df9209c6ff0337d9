"""One depot-day end to end, persisted atomically, re-checkable from the database by both checkers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from charging.check import check as check_schedule
from charging.problem import problem_from_json
from fleet.models import ChargingPlan, ChargingSlot, Depot, PlanStatus, RoutePlan, RouteStop
from fleet.pipeline import RunOptions, current_charging_plan, current_route_plan, run_depot_day
from fleet.scope import scope_for
from routing.check import check_solution
from routing.io.json_io import problem_from_dict
from routing.solution import RoutingSolution

DAY = dt.date(2026, 11, 26)
FAST = RunOptions(time_limit_s=2.0, charging_time_limit_s=10.0, seed=1)


def assert_stored_plans_pass_checkers(
    engine: Engine, depot_id: int, day: dt.date
) -> tuple[RoutePlan, ChargingPlan]:
    """Rebuild both problems and solutions from the stored JSON and run the independent checkers on them."""
    with Session(engine) as s:
        scope = scope_for(s)
        rp = current_route_plan(s, scope, depot_id, day)
        cp = current_charging_plan(s, scope, depot_id, day)
        assert rp is not None and cp is not None
        report = check_solution(problem_from_dict(rp.problem), RoutingSolution.from_dict(rp.solution))
        assert report.feasible, report.summary()
        verdict = check_schedule(problem_from_json(cp.problem), cp.solution)
        assert not verdict.violations, verdict.violations
        stops = s.exec(select(RouteStop).where(RouteStop.plan_id == rp.id)).all()
        jobs = [st for st in stops if st.kind == "job"]
        assert len(jobs) == len(rp.problem["jobs"]) - len(rp.unserved)
        assert all(st.order_id is not None for st in jobs)
        slots = s.exec(select(ChargingSlot).where(ChargingSlot.plan_id == cp.id)).all()
        kwh = sum(x.power_kw for x in slots if x.power_kw > 0) * cp.slot_minutes / 60
        assert kwh == pytest.approx(cp.total_kwh, rel=1e-6)
        return rp, cp


def _depot(engine: Engine, code: str) -> int:
    with Session(engine) as s:
        return s.exec(select(Depot).where(Depot.code == code)).one().id


def test_depot_day_is_planned_checked_and_versioned(demo_copy: Engine) -> None:
    depot_id = _depot(demo_copy, "SZ-NS")
    with Session(demo_copy) as s:
        scope = scope_for(s)
    first = run_depot_day(demo_copy, scope, depot_id, DAY, FAST)
    assert first.version == 1 and first.unserved == 0 and first.vehicles_used > 0
    assert first.charging_cost_cny <= first.edf_cost_cny + 1e-6  # never worse than earliest-deadline-first
    _rp1, cp1 = assert_stored_plans_pass_checkers(demo_copy, depot_id, DAY)
    # The depot's funds and surcharges (0.095 CNY/kWh default, unscaled) are in the stored energy cost: the same
    # schedule priced without them costs 0.095 CNY less per kWh bought (tariffs.md step 4).
    problem = problem_from_json(cp1.problem)
    assert problem.tariff.adder == pytest.approx(0.095)
    bare = dataclasses.replace(problem.tariff, adder=0.0)
    prices = problem.tariff.energy_prices(problem.slot_starts, problem.slot_minutes)
    bare_prices = bare.energy_prices(problem.slot_starts, problem.slot_minutes)
    assert np.allclose(prices - bare_prices, 0.095)
    imported = np.maximum(np.asarray(cp1.solution["site_import_kw"]), 0.0)
    bought_kwh = float(imported.sum()) * problem.dt_h
    funds_cny = cp1.energy_cost_fen / 100 - float(np.sum(imported * bare_prices)) * problem.dt_h
    assert funds_cny == pytest.approx(0.095 * bought_kwh, abs=0.01)
    second = run_depot_day(demo_copy, scope, depot_id, DAY, FAST)
    assert second.version == 2
    rp2, cp2 = assert_stored_plans_pass_checkers(demo_copy, depot_id, DAY)
    assert (rp2.version, cp2.version) == (2, 2)
    with Session(demo_copy) as s:
        statuses = sorted((p.version, p.status.value) for p in s.exec(select(RoutePlan)).all())
        assert statuses == [(1, "superseded"), (2, "current")]
        assert s.get(ChargingPlan, cp1.id).status == PlanStatus.SUPERSEDED


def test_failure_during_write_leaves_previous_version(demo_copy: Engine) -> None:
    depot_id = _depot(demo_copy, "SZ-NS")
    with Session(demo_copy) as s:
        scope = scope_for(s)
    run_depot_day(demo_copy, scope, depot_id, DAY, FAST)

    def boom() -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        run_depot_day(demo_copy, scope, depot_id, DAY, FAST, after_write_hook=boom)
    with Session(demo_copy) as s:
        plans = s.exec(select(RoutePlan)).all()
        assert [(p.version, p.status) for p in plans] == [(1, PlanStatus.CURRENT)]
        assert len(s.exec(select(ChargingPlan)).all()) == 1
    assert_stored_plans_pass_checkers(demo_copy, depot_id, DAY)


def test_killed_process_leaves_no_partial_plan(demo_copy: Engine, tmp_path: Path) -> None:
    """SIGKILL a real process in the middle of writing plan rows: the old version stays, nothing half-written."""
    depot_id = _depot(demo_copy, "SZ-NS")
    with Session(demo_copy) as s:
        scope = scope_for(s)
    run_depot_day(demo_copy, scope, depot_id, DAY, FAST)
    marker = tmp_path / "writing"
    script = textwrap.dedent(f"""
        import datetime as dt, pathlib, time
        from fleet.db import make_engine
        from fleet.pipeline import RunOptions, run_depot_day
        from fleet.scope import Scope
        engine = make_engine({str(demo_copy.url)!r})
        def hang():
            pathlib.Path({str(marker)!r}).write_text("rows written, not committed")
            time.sleep(120)
        run_depot_day(engine, Scope.lessor({scope.lessor_id}), {depot_id}, dt.date(2026, 11, 26),
                      RunOptions(time_limit_s=2.0, charging_time_limit_s=10.0, seed=2), after_write_hook=hang)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[1])
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "the writer exited before reaching the hook"
            assert time.monotonic() < deadline, "the writer never reached the hook"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with Session(demo_copy) as s:
        assert [(p.version, p.status) for p in s.exec(select(RoutePlan)).all()] == [(1, PlanStatus.CURRENT)]
        assert [(p.version, p.status) for p in s.exec(select(ChargingPlan)).all()] == [
            (1, PlanStatus.CURRENT)
        ]
        plan_ids = {p.id for p in s.exec(select(RoutePlan)).all()}
        assert {st.plan_id for st in s.exec(select(RouteStop)).all()} == plan_ids
    assert_stored_plans_pass_checkers(demo_copy, depot_id, DAY)
