"""The nightly fan-out: all depots on 2 Dask worker processes, faults isolated, resume, job records, CLI."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.models import Depot, JobRun, JobStatus, RoutePlan
from fleet.nightly import NightlyConfig, run_nightly
from fleet.pipeline import RunOptions
from tests.test_pipeline import assert_stored_plans_pass_checkers

DAY = dt.date(2026, 11, 26)
FAST = RunOptions(time_limit_s=2.0, charging_time_limit_s=10.0, seed=3)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _depots(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {d.code: d.id for d in s.exec(select(Depot)).all()}


@pytest.mark.slow
def test_all_depots_two_workers_with_faults_then_resume(demo_copy: Engine) -> None:
    url = _url(demo_copy)
    config = NightlyConfig(
        service_date=DAY,
        db_url=url,
        workers=2,
        options=FAST,
        retries=1,
        faults={"SZ-LH": "raise", "SZ-NS": "exit"},
    )
    summary = run_nightly(config)
    by_code = {o.depot_code: o for o in summary.outcomes}
    assert set(by_code) == {"SZ-BA", "SZ-LG", "SZ-LH", "SZ-NS"}
    assert by_code["SZ-BA"].status == by_code["SZ-LG"].status == "succeeded"
    assert by_code["SZ-LH"].status == "failed" and "injected fault" in by_code["SZ-LH"].error
    assert by_code["SZ-LH"].attempts == 2  # retried once
    assert by_code["SZ-NS"].status == "failed" and "worker process died" in by_code["SZ-NS"].error
    assert not summary.ok
    depots = _depots(demo_copy)
    for code in ("SZ-BA", "SZ-LG"):
        assert_stored_plans_pass_checkers(demo_copy, depots[code], DAY)
    with Session(demo_copy) as s:
        jobs = {j.depot_id: j for j in s.exec(select(JobRun)).all()}
        assert (
            jobs[depots["SZ-LH"]].status == JobStatus.FAILED
            and "Traceback" in jobs[depots["SZ-LH"]].traceback
        )
        assert jobs[depots["SZ-NS"]].status == JobStatus.FAILED
        assert jobs[depots["SZ-BA"]].status == JobStatus.SUCCEEDED and jobs[depots["SZ-BA"]].stats["km"] > 0
        assert s.exec(select(RoutePlan).where(RoutePlan.depot_id == depots["SZ-NS"])).first() is None

    resumed = run_nightly(NightlyConfig(service_date=DAY, db_url=url, workers=2, options=FAST, resume=True))
    assert resumed.ok
    assert sorted(o.depot_code for o in resumed.outcomes) == ["SZ-LH", "SZ-NS"]
    assert sorted(resumed.skipped) == ["SZ-BA", "SZ-LG"]
    for code in depots:
        assert_stored_plans_pass_checkers(demo_copy, depots[code], DAY)
    with Session(demo_copy) as s:  # resume did not re-plan the depots that had succeeded
        assert {p.version for p in s.exec(select(RoutePlan)).all()} == {1}


def test_in_process_run_and_deadline(demo_copy: Engine) -> None:
    url = _url(demo_copy)
    summary = run_nightly(
        NightlyConfig(
            service_date=DAY,
            db_url=url,
            workers=1,
            options=FAST,
            depot_codes=("SZ-NS", "SZ-LH"),
            deadline_s=0.0,
        )
    )
    # the deadline has passed before the first depot starts: every depot is recorded as failed, none planned
    assert [o.status for o in summary.outcomes] == ["failed", "failed"]
    assert all("deadline" in o.error for o in summary.outcomes)
    ok = run_nightly(
        NightlyConfig(service_date=DAY, db_url=url, workers=1, options=FAST, depot_codes=("SZ-NS",))
    )
    assert ok.ok and ok.outcomes[0].result["vehicles_used"] > 0
    from fleet.nightly_emissions import planned_avoided_by_depot

    avoided = planned_avoided_by_depot(url, DAY)
    assert set(avoided) == {"SZ-NS"}
    km = ok.outcomes[0].result["km"]
    # bounded by the diesel baseline of the same km: 15 L/100 km (DSL-4.5T-REEFER) x 2.7 kgCO2/L at most
    assert 0 < avoided["SZ-NS"] < km * 0.15 * 2.7 / 1000
    with pytest.raises(ValueError, match="unknown depot code"):
        run_nightly(NightlyConfig(service_date=DAY, db_url=url, depot_codes=("SZ-XX",)))


def test_cli_nightly_exit_code_and_jobs(demo_copy: Engine) -> None:
    url = _url(demo_copy)
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "nightly",
            "--db",
            url,
            "--date",
            DAY.isoformat(),
            "--depots",
            "SZ-NS",
            "--workers",
            "1",
            "--time-limit",
            "2",
            "--charging-time-limit",
            "10",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "SZ-NS" in ok.output and "succeeded" in ok.output
    bad = runner.invoke(app, ["nightly", "--db", url, "--date", "2026-11-31"])
    assert bad.exit_code == 1 and "not a date" in bad.output
    jobs = runner.invoke(app, ["jobs", "--db", url, "--date", DAY.isoformat()])
    assert jobs.exit_code == 0 and "SZ-NS" in jobs.output and "succeeded" in jobs.output


def test_cli_nightly_names_what_a_planner_must_look_at(demo_copy: Engine) -> None:
    """A plan that leaves an order unserved is a succeeded job, but the summary says which order and why, and
    --fail-on-unserved turns it into exit 3 for schedulers that alert on exit codes."""
    from fleet.models import Order

    url = _url(demo_copy)
    depot_id = _depots(demo_copy)["SZ-NS"]
    with Session(demo_copy) as s:
        orders = s.exec(select(Order).where(Order.depot_id == depot_id, Order.service_date == DAY)).all()
        heavy = orders[0]
        heavy.demand_kg = 1e6  # no truck carries a thousand tonnes
        s.add(heavy)
        s.commit()
        ref, n = heavy.external_ref, len(orders)
    args = ["nightly", "--db", url, "--date", DAY.isoformat(), "--depots", "SZ-NS", "--workers", "1"]
    args += ["--time-limit", "2", "--charging-time-limit", "10"]
    plain = CliRunner().invoke(app, args)
    assert plain.exit_code == 0, plain.output
    assert f"SZ-NS needs a planner: 1 of {n} orders unserved" in plain.output
    assert f"order {ref}: capacity" in plain.output
    strict = CliRunner().invoke(app, [*args, "--fail-on-unserved"])
    assert strict.exit_code == 3, strict.output
    assert "needs a planner" in strict.output


@pytest.mark.postgres
@pytest.mark.slow
def test_two_concurrent_runs_on_postgres(pg_url: str) -> None:
    from fleet.db import make_engine
    from fleet.demo.load import load_demo
    from fleet.migrate import upgrade

    upgrade(pg_url)
    engine = make_engine(pg_url)
    load_demo(engine)
    results: dict[str, object] = {}

    def run(day: dt.date) -> None:
        try:
            results[day.isoformat()] = run_nightly(
                NightlyConfig(
                    service_date=day, db_url=pg_url, workers=1, options=FAST, depot_codes=("SZ-NS", "SZ-LH")
                )
            )
        except Exception as exc:
            results[day.isoformat()] = exc

    threads = [threading.Thread(target=run, args=(d,)) for d in (DAY, DAY + dt.timedelta(days=1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert all(not t.is_alive() for t in threads), "a nightly run hung (deadlock?)"
    for day, summary in results.items():
        assert not isinstance(summary, Exception), summary
        assert summary.ok, (day, summary.failed)
    depots = _depots(engine)
    for day in (DAY, DAY + dt.timedelta(days=1)):
        for code in ("SZ-NS", "SZ-LH"):
            assert_stored_plans_pass_checkers(engine, depots[code], day)
    with Session(engine) as s:
        assert len(s.exec(select(JobRun)).all()) == 4
        assert all(j.status == JobStatus.SUCCEEDED for j in s.exec(select(JobRun)).all())
    engine.dispose()


def test_bench_nightly_plans_every_synthetic_depot(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fleet.bench_nightly import run_bench

    rows = run_bench(depots=2, orders_per_depot=8, time_limit_s=1.0, worker_counts=(1,), workdir=tmp_path)
    assert [(r.workers, r.depots, r.succeeded) for r in rows] == [(1, 2, 2)]
    assert rows[0].speedup == 1.0 and rows[0].depots_per_minute > 0
