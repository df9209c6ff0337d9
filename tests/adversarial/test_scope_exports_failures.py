"""Scope on every path, exports that cannot execute, clear failures, no stuck jobs, database integrity."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.exports import FORMULA_PREFIXES, safe_cell, safe_frame
from fleet.models import Depot, JobRun, JobStatus, Lessor, utcnow

from .conftest import FRESH_PLATE, PCX_PLATE, PCX_VIN, orders_csv, snapshot, write

runner = CliRunner()
SESSION_HEADER = "plate,depot_code,connector_code,started_at,ended_at,kwh,cost_cny\n"


# ------------------------------------------------------------------------------------------------ scope


@pytest.mark.parametrize(
    ("lessee", "plate", "depot", "connector"),
    [
        ("FRESH", FRESH_PLATE, "SZ-BA", ""),  # another lessee's depot
        ("FRESH", FRESH_PLATE, "SZ-BA", "DC01"),  # and its connector
        ("FRESH", FRESH_PLATE, "SZ-XX", ""),  # a depot that does not exist
        ("FRESH", PCX_PLATE, "SZ-NS", ""),  # another lessee's truck
        ("FRESH", "粤Z00000", "SZ-NS", ""),  # a truck that does not exist
        ("PCX", PCX_PLATE, "SZ-NS", "DC01"),  # the probe: PCX books at FRESH's depot
        ("PCX", PCX_PLATE, "SZ-LG", ""),
        (None, FRESH_PLATE, "SZ-BA", ""),  # lessor's view: still the truck operator's depot only
        (None, PCX_PLATE, "SZ-NS", "DC02"),
    ],
)
def test_charging_never_at_another_lessees_depot(db, tmp_path: Path, lessee, plate, depot, connector) -> None:  # type: ignore[no-untyped-def]
    engine, url = db
    before = snapshot(engine)
    f = write(
        tmp_path / "c.csv",
        (SESSION_HEADER + f"{plate},{depot},{connector},2026-12-01 22:00,2026-12-02 02:00,50,30\n").encode(),
    )
    args = ["import", "charging", str(f), "--db", url] + (["--lessee", lessee] if lessee else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "unknown" in result.output and "Traceback" not in result.output
    assert snapshot(engine) == before


def test_not_found_and_foreign_read_the_same(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, url = db
    outs = []
    for depot in ("SZ-BA", "SZ-NOPE"):
        f = write(tmp_path / f"{depot}.csv", orders_csv([{"depot_code": depot}]))
        r = runner.invoke(app, ["import", "orders", str(f), "--lessee", "FRESH", "--db", url])
        outs.append(r.output.replace(depot, "X").replace(f"{depot}.csv", "f"))
    assert outs[0] == outs[1]


@pytest.mark.parametrize(
    ("plate", "vin"),
    [(PCX_PLATE, "L6TAAAAAAAA000999"), ("粤ZZ99999", PCX_VIN), ("粤ZZ99998", "L6TAAAAAAAA000998")],
)
def test_lessee_vehicle_uniqueness_names_no_owner(db, tmp_path: Path, plate: str, vin: str) -> None:  # type: ignore[no-untyped-def]
    engine, url = db
    f = write(
        tmp_path / "v.csv",
        f"plate,vin,model_code,status\n{plate},{vin},BEV-V6E,owned_by_lessee\n".encode(),
    )
    before = snapshot(engine)
    r = runner.invoke(app, ["import", "vehicles", str(f), "--lessee", "FRESH", "--db", url])
    if plate == "粤ZZ99998":  # genuinely new: accepted
        assert r.exit_code == 0, r.output
        return
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "ask the lessor" in r.output and "PCX" not in r.output and "IntegrityError" not in r.output
    assert snapshot(engine) == before


def test_lessee_cannot_import_leases_on_cli(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, url = db
    before = snapshot(engine)
    f = write(tmp_path / "l.csv", b"code,plate,start_date,end_date,monthly_rent_cny,purchase_price_cny\n")
    r = runner.invoke(app, ["import", "leases", str(f), "--lessee", "FRESH", "--db", url])
    assert r.exit_code == 1 and "lessor" in r.output
    assert snapshot(engine) == before


def test_overlapping_lease_refused(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, url = db
    with Session(engine) as s:
        from fleet.models import Lease, Lessee, Vehicle

        lease = s.exec(select(Lease)).first()
        plate = s.get(Vehicle, lease.vehicle_id).plate
        code = s.get(Lessee, lease.lessee_id).code
        start, end = lease.start_date, lease.end_date
    before = snapshot(engine)
    f = write(
        tmp_path / "l.csv",
        (
            "code,plate,lessee_code,start_date,end_date,monthly_rent_cny,purchase_price_cny\n"
            f"NEW-1,{plate},{code},{start + dt.timedelta(days=30)},{end + dt.timedelta(days=30)},9000,300000\n"
        ).encode(),
    )
    r = runner.invoke(app, ["import", "leases", str(f), "--db", url])
    assert r.exit_code == 1 and "already on lease" in r.output, r.output
    assert snapshot(engine) == before


# ---------------------------------------------------------------------------------------------- exports

PAYLOADS = [
    "=1+1",
    "+1",
    "-1+2",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_safe_cell_neutralises(payload: str) -> None:
    out = safe_cell(payload)
    assert out.startswith("'") and out[1:] == payload


@given(st.text(min_size=1))
@settings(max_examples=200, deadline=None)
def test_property_no_exported_text_starts_a_formula(text: str) -> None:
    assert not str(safe_cell(text)).startswith(FORMULA_PREFIXES)


@pytest.mark.parametrize("payload", PAYLOADS + ["a\x00b"])
def test_xlsx_cell_is_text_not_formula(payload: str) -> None:
    from openpyxl import load_workbook

    buf = io.BytesIO()
    safe_frame(pd.DataFrame({"address": [payload], "n": [-3.5]})).to_excel(buf, index=False)
    ws = load_workbook(io.BytesIO(buf.getvalue())).active
    cell = ws["A2"]
    assert cell.data_type == "s" and not str(cell.value).startswith("=")
    assert ws["B2"].value == -3.5  # numbers stay numbers


# ----------------------------------------------------------------------------------------- clear failure

DEAD_PG = "postgresql://nobody@127.0.0.1:1/none"
COMMANDS = [
    ["jobs"],
    ["summary"],
    ["import", "orders", "{f}", "--lessee", "FRESH"],
    ["nightly", "--date", "2026-12-01"],
    ["db", "current"],
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("url", [DEAD_PG, "sqlite:////nonexistent-dir/x.db"])
def test_unreachable_database_is_one_message(tmp_path: Path, command: list[str], url: str) -> None:
    f = write(tmp_path / "o.csv", orders_csv([{}]))
    args = [a.replace("{f}", str(f)) for a in command] + ["--db", url]
    r = runner.invoke(app, args)
    assert r.exit_code != 0
    assert ("Traceback" not in r.output and r.exception is None) or isinstance(r.exception, SystemExit)


def test_debug_flag_shows_the_traceback() -> None:
    r = runner.invoke(app, ["--debug", "jobs", "--db", DEAD_PG])
    assert r.exit_code == 1 and "Traceback" in r.output


def test_real_process_exit_code_and_message() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "fleet.cli.main", "jobs", "--db", DEAD_PG],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert r.returncode == 1 and "unreachable" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("count", [10**9, 10**6, 5001])
def test_routing_problem_too_large_refused_fast(tmp_path: Path, count: int) -> None:
    from routing.io.json_io import problem_to_dict
    from routing.scenarios import random_problem

    data = problem_to_dict(random_problem(1))
    data["vehicle_types"][0]["count"] = count
    f = write(tmp_path / "p.json", json.dumps(data).encode())
    t0 = time.perf_counter()
    r = runner.invoke(app, ["route", "solve", str(f), "--time-limit", "1"])
    assert r.exit_code != 0 and "limit" in r.output and time.perf_counter() - t0 < 20


@pytest.mark.parametrize("limit", ["0", "-1", "nan", "inf", "1e9"])
def test_time_limit_must_be_sane(tmp_path: Path, limit: str) -> None:
    r = runner.invoke(app, ["route", "solve", str(tmp_path / "p.json"), "--time-limit", limit])
    assert r.exit_code != 0 and "Traceback" not in r.output


# ------------------------------------------------------------------------------------------ stuck jobs


def _stuck_job(engine, status: JobStatus, runner_id: str | None, beat_age_s: float) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        depot = s.exec(select(Depot)).first()
        job = JobRun(
            lessor_id=depot.lessor_id,
            lessee_id=depot.lessee_id,
            run_key="dead",
            depot_id=depot.id,
            service_date=dt.date(2026, 12, 1),
            status=status,
            runner=runner_id,
            heartbeat_at=utcnow() - dt.timedelta(seconds=beat_age_s),
        )
        s.add(job)
        s.commit()
        return job.id


@pytest.mark.parametrize(
    ("status", "runner_id", "age", "abandoned"),
    [
        (JobStatus.RUNNING, f"{os.uname().nodename}:999999", 1, True),  # dead pid on this host
        (JobStatus.QUEUED, f"{os.uname().nodename}:999999", 1, True),
        (JobStatus.RUNNING, "other-host:1", 10_000, True),  # stale heartbeat
        (JobStatus.RUNNING, None, 10_000, True),  # rows from before the heartbeat
        (JobStatus.RUNNING, "other-host:1", 1, False),  # alive elsewhere
        (JobStatus.RUNNING, f"{os.uname().nodename}:{os.getpid()}", 1, False),  # alive here
        (JobStatus.SUCCEEDED, f"{os.uname().nodename}:999999", 10_000, False),
    ],
    # Fixed ids: the runner ids hold this process's pid, and parallel test workers must collect the same names.
    ids=[
        "running-dead-pid",
        "queued-dead-pid",
        "running-stale-elsewhere",
        "running-no-runner",
        "running-alive-elsewhere",
        "running-alive-here",
        "succeeded-dead-pid",
    ],
)
def test_abandon_stale_jobs(db, status, runner_id, age, abandoned) -> None:  # type: ignore[no-untyped-def]
    from fleet.nightly import abandon_stale_jobs
    from fleet.scope import Scope

    engine, _ = db
    job_id = _stuck_job(engine, status, runner_id, age)
    with Session(engine) as s:
        lessor = s.exec(select(Lessor)).one()
        abandon_stale_jobs(s, Scope.lessor(lessor.id))
        s.commit()
        job = s.get(JobRun, job_id)
        assert (job.status == JobStatus.ABANDONED) is abandoned
    r = runner.invoke(app, ["jobs", "--db", engine.url.render_as_string(hide_password=False)])
    assert r.exit_code == 0


# ------------------------------------------------------------------------------------------ PostgreSQL


def _pg_demo(pg_url: str) -> None:
    from fleet.db import make_engine
    from fleet.demo.load import load_demo
    from fleet.migrate import upgrade

    upgrade(pg_url)
    engine = make_engine(pg_url)
    load_demo(engine)
    engine.dispose()


@pytest.mark.postgres
def test_pg_two_identical_imports_at_once_write_once(pg_url: str, tmp_path: Path) -> None:
    from fleet.db import make_engine, session_scope
    from fleet.importers import import_file
    from fleet.scope import scope_for

    _pg_demo(pg_url)
    engine = make_engine(pg_url)
    trips = "plate,day,km\n" + "".join(f"{FRESH_PLATE},2026-11-{d:02d},{100 + d}\n" for d in range(1, 29))
    f = write(tmp_path / "trips.csv", trips.encode())
    before = snapshot(engine)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def go() -> None:
        try:
            with session_scope(engine) as s:
                scope = scope_for(s, lessee_code="FRESH")
                barrier.wait()
                results.append(import_file(s, scope, "trips", f))
                time.sleep(0.5)  # hold the transaction open so the other one meets it in the index
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    after = snapshot(engine)
    assert (
        after["vehicleday"] - before["vehicleday"] == 28 and after["importbatch"] - before["importbatch"] == 1
    )
    assert sorted(r.duplicate_of_batch is not None for r in results) == [False, True]
    engine.dispose()


@pytest.mark.postgres
def test_pg_two_nightly_runs_leave_one_current_plan(pg_url: str) -> None:
    from fleet.db import make_engine
    from fleet.models import PlanStatus, RoutePlan
    from fleet.nightly import NightlyConfig, run_nightly
    from fleet.pipeline import RunOptions

    _pg_demo(pg_url)
    cfg = NightlyConfig(
        dt.date(2026, 12, 1),
        pg_url,
        depot_codes=("SZ-NS",),
        options=RunOptions(time_limit_s=1, charging_time_limit_s=2),
    )
    threads = [threading.Thread(target=run_nightly, args=(cfg,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    engine = make_engine(pg_url)
    with Session(engine) as s:
        current = s.exec(select(RoutePlan).where(RoutePlan.status == PlanStatus.CURRENT)).all()
        assert len(current) == 1
        assert all(j.status == JobStatus.SUCCEEDED for j in s.exec(select(JobRun)).all())
    engine.dispose()


@pytest.mark.postgres
def test_pg_kill_9_mid_run_then_no_job_left_running(pg_url: str) -> None:
    from fleet.db import make_engine

    _pg_demo(pg_url)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fleet.cli.main",
            "nightly",
            "--date",
            "2026-12-01",
            "--time-limit",
            "30",
            "--db",
            pg_url,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    engine = make_engine(pg_url)
    deadline = time.time() + 120
    while time.time() < deadline:
        with Session(engine) as s:
            if s.exec(select(JobRun).where(JobRun.status == JobStatus.RUNNING)).first() is not None:
                break
        time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Session(engine) as s:
        assert s.exec(select(JobRun).where(JobRun.status == JobStatus.RUNNING)).first() is not None
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "fleet.cli.main",
            "nightly",
            "--date",
            "2026-12-01",
            "--depots",
            "SZ-NS",
            "--time-limit",
            "1",
            "--db",
            pg_url,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    with Session(engine) as s:
        statuses = [j.status for j in s.exec(select(JobRun)).all()]
    assert JobStatus.RUNNING not in statuses and JobStatus.QUEUED not in statuses, r.stderr
    assert JobStatus.ABANDONED in statuses
    engine.dispose()
