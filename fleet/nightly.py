"""The nightly job: every depot's routes and charging for one service date, fanned out over Dask.

- One worker: depots run one after another in this process.
- N workers: a Dask `LocalCluster` of N single-threaded worker *processes* (OR-Tools is not thread-parallel, and
  a crashing solve must not take the batch down: a dead worker becomes `KilledWorker` for its depot only).
- A scheduler address (`tcp://host:8786`): the same code on an existing Dask cluster.

Each depot-day has a `JobRun` row (queued -> running -> succeeded | failed, with error, traceback, durations and
solver figures). Exceptions are retried inside the task; a worker that dies is retried by Dask
(`allowed-failures`), then recorded as failed. `resume=True` re-runs only depots whose latest run for the date
did not succeed. The exit status of the CLI is non-zero when any depot failed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session, select

from fleet.audit import acting_as, explicit_actor
from fleet.db import get_engine, session_scope
from fleet.models import Depot, JobRun, JobStatus, utcnow
from fleet.pipeline import RunOptions, run_depot_day
from fleet.scope import Scope, add_rows, list_rows, scope_for, select_rows

log = logging.getLogger("evfleet.nightly")


@dataclass(frozen=True)
class NightlyConfig:
    service_date: dt.date
    db_url: str
    depot_codes: tuple[str, ...] = ()  # empty = every depot of the lessor
    workers: int = 1
    scheduler: str | None = None
    options: RunOptions = field(default_factory=RunOptions)
    retries: int = 1  # extra attempts after an exception (and after a worker death, via Dask)
    deadline_s: float | None = None  # global wall-clock budget for the whole batch
    resume: bool = False
    lessor_code: str | None = None
    faults: dict[str, str] = field(default_factory=dict)  # test-only: depot code -> "raise" | "exit"


@dataclass(frozen=True)
class DepotOutcome:
    depot_code: str
    job_run_id: int
    status: str
    attempts: int
    seconds: float
    result: dict[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True)
class NightlySummary:
    run_key: str
    service_date: dt.date
    outcomes: tuple[DepotOutcome, ...]
    seconds: float
    skipped: tuple[str, ...] = ()  # resume: depots that had already succeeded
    emissions_upkeep: str = ""  # what `upkeep_emissions` did after the depots (empty: not run)

    @property
    def failed(self) -> tuple[DepotOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status != JobStatus.SUCCEEDED.value)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def incomplete(self) -> tuple[DepotOutcome, ...]:
        """Depots whose plan succeeded but leaves orders unserved or trucks short of energy at departure:
        the job ran, yet a planner must look before the trucks leave."""
        out = []
        for o in self.outcomes:
            r = o.result or {}
            if r.get("unserved", 0) > 0 or r.get("trucks_ready", 0) < r.get("trucks_overnight", 0):
                out.append(o)
        return tuple(out)


# ------------------------------------------------------------------------------------------------- job rows

# Liveness of job rows. The driver process stamps `heartbeat_at` on its unfinished jobs every HEARTBEAT_S; the
# next nightly start marks ABANDONED every queued/running job whose runner is gone: a dead process on this host
# (kill -9, OOM) at once, any other runner once its heartbeat is older than STALE_S.
HEARTBEAT_S = float(os.environ.get("EVFLEET_JOB_HEARTBEAT_S", "10"))
STALE_S = float(os.environ.get("EVFLEET_JOB_STALE_S", "120"))
UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)


def runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _runner_dead(runner: str | None) -> bool:
    """True when `runner` (host:pid) is a process on this host that no longer exists."""
    if not runner or ":" not in runner:
        return False
    host, _, pid = runner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def abandon_stale_jobs(session: Session, scope: Scope, now: dt.datetime | None = None) -> list[int]:
    """Mark ABANDONED the scope's queued/running jobs whose runner died; returns their ids."""
    now = now or utcnow()
    abandoned = []
    for job in session.exec(select_rows(scope, JobRun, JobRun.status.in_(UNFINISHED))).all():  # type: ignore[attr-defined]
        beat = job.heartbeat_at or job.started_at or job.queued_at
        stale = beat is None or (now - beat).total_seconds() > STALE_S
        if _runner_dead(job.runner) or stale:
            job.status = JobStatus.ABANDONED
            job.finished_at = now
            job.error = (
                f"abandoned: its runner {job.runner or '(unknown)'} stopped without finishing "
                f"(last heartbeat {beat.isoformat(timespec='seconds') if beat else 'never'})"
            )
            session.add(job)
            abandoned.append(job.id)
    if abandoned:
        log.warning("marked %d job(s) abandoned: %s", len(abandoned), abandoned)
    return abandoned


class Heartbeat:
    """A daemon thread stamping `heartbeat_at` on the run's unfinished jobs until stopped."""

    def __init__(self, db_url: str, run_key: str, interval_s: float = HEARTBEAT_S):
        self.db_url, self.run_key, self.interval_s = db_url, run_key, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{run_key}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def beat(self) -> None:
        with session_scope(get_engine(self.db_url)) as s:
            for job in s.exec(
                select(JobRun).where(JobRun.run_key == self.run_key, JobRun.status.in_(UNFINISHED))  # type: ignore[attr-defined]
            ).all():
                job.heartbeat_at = utcnow()
                s.add(job)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.beat()
            except Exception as exc:  # the database went away: the run itself reports that
                log.warning("heartbeat of run %s failed: %s", self.run_key, exc)


def _mark(db_url: str, job_id: int, **changes: Any) -> None:
    with session_scope(get_engine(db_url)) as s:
        job = s.get(JobRun, job_id)
        if job is None:
            raise RuntimeError(f"nightly: job run row {job_id} is gone (it was created by this run)")
        for k, v in changes.items():
            setattr(job, k, v)
        s.add(job)


def run_one_depot(
    db_url: str,
    lessor_id: int,
    depot_id: int,
    service_date: str,
    options: RunOptions,
    job_id: int,
    retries: int,
) -> dict[str, Any]:
    """The task a worker runs for one depot-day. Never raises for solver errors: records them instead.

    Idempotent: Dask recomputes a finished task whose result was held by a worker that later died, so a
    depot-day whose job already succeeded returns the recorded figures instead of planning a second version.
    """
    day = dt.date.fromisoformat(service_date)
    engine = get_engine(db_url)
    with session_scope(engine) as s:
        done = s.get(JobRun, job_id)
        if done is not None and done.status == JobStatus.SUCCEEDED:
            return {
                "status": "succeeded",
                "attempts": done.attempt,
                "seconds": done.duration_s or 0.0,
                "result": dict(done.stats),
            }
    scope = Scope.lessor(lessor_id)
    attempt = 0
    t0 = time.perf_counter()
    while True:
        attempt += 1
        with session_scope(engine) as s:
            job = s.get(JobRun, job_id)
            previous_attempts = job.attempt if job else 0
        _mark(db_url, job_id, status=JobStatus.RUNNING, started_at=utcnow(), attempt=previous_attempts + 1)
        try:
            starter = explicit_actor()
            with acting_as("nightly" if starter is None else f"nightly, started by {starter}"):
                result = run_depot_day(engine, scope, depot_id, day, options, job_run_id=job_id)
        except Exception as exc:
            tb = traceback.format_exc()
            if attempt <= retries:
                log.warning("depot %s attempt %d failed: %s; retrying", depot_id, attempt, exc)
                continue
            seconds = time.perf_counter() - t0
            _mark(
                db_url,
                job_id,
                status=JobStatus.FAILED,
                finished_at=utcnow(),
                duration_s=seconds,
                error=f"{type(exc).__name__}: {exc}",
                traceback=tb,
            )
            return {
                "status": "failed",
                "attempts": attempt,
                "seconds": seconds,
                "error": f"{type(exc).__name__}: {exc}",
            }
        seconds = time.perf_counter() - t0
        stats = result.to_dict()
        _mark(
            db_url,
            job_id,
            status=JobStatus.SUCCEEDED,
            finished_at=utcnow(),
            duration_s=seconds,
            stats=stats,
            error=None,
            traceback=None,
        )
        return {"status": "succeeded", "attempts": attempt, "seconds": seconds, "result": stats}


# ---------------------------------------------------------------------------------------------- the driver


def _select_depots(session: Session, scope: Scope, config: NightlyConfig) -> list[Depot]:
    depots = list_rows(session, scope, Depot, order_by=Depot.code)
    if config.depot_codes:
        known = {d.code for d in depots}
        unknown = [c for c in config.depot_codes if c not in known]
        if unknown:
            raise ValueError(
                f"unknown depot code(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        depots = [d for d in depots if d.code in config.depot_codes]
    return depots


def _already_succeeded(session: Session, scope: Scope, depot_id: int, day: dt.date) -> bool:
    latest = session.exec(
        select_rows(scope, JobRun, JobRun.depot_id == depot_id, JobRun.service_date == day).order_by(
            JobRun.id.desc()
        )
    ).first()  # type: ignore[union-attr]
    return latest is not None and latest.status == JobStatus.SUCCEEDED


def queue_jobs(config: NightlyConfig) -> tuple[str, Scope, list[tuple[Depot, int]], list[str]]:
    """Create one queued JobRun per depot to run (one transaction); returns the run key and the work list."""
    run_key = f"{config.service_date.isoformat()}-{uuid.uuid4().hex[:8]}"
    with session_scope(get_engine(config.db_url)) as s:
        scope = scope_for(s, lessor_code=config.lessor_code)
        abandon_stale_jobs(s, scope)
        depots = _select_depots(s, scope, config)
        skipped = []
        if config.resume:
            skipped = [d.code for d in depots if _already_succeeded(s, scope, d.id, config.service_date)]
            depots = [d for d in depots if d.code not in skipped]
        jobs = [
            JobRun(
                lessor_id=d.lessor_id,
                lessee_id=d.lessee_id,
                run_key=run_key,
                depot_id=d.id,
                service_date=config.service_date,
                status=JobStatus.QUEUED,
                runner=runner_id(),
                heartbeat_at=utcnow(),
            )
            for d in depots
        ]
        add_rows(s, scope, jobs)
        s.flush()
        work = [(d, j.id) for d, j in zip(depots, jobs)]
        for d, _ in work:
            s.expunge(d)
    return run_key, scope, work, skipped


Progress = Callable[[DepotOutcome, int, int], None]


def run_nightly(
    config: NightlyConfig, progress: Progress | None = None, *, upkeep: bool = True
) -> NightlySummary:
    """Plan every selected depot for `config.service_date`; never raises for a failing depot. `upkeep`: then
    bring the lessor's emissions summary and tables up to date (`upkeep_emissions`; the caller that runs a
    reduce step afterwards passes False and calls it after the reduce)."""
    t0 = time.perf_counter()
    run_key, scope, work, skipped = queue_jobs(config)
    outcomes: list[DepotOutcome] = []
    with Heartbeat(config.db_url, run_key):
        _run_work(config, scope, work, outcomes, progress, t0)
    order = {d.code: i for i, (d, _) in enumerate(work)}
    outcomes.sort(key=lambda o: order[o.depot_code])
    return NightlySummary(
        run_key,
        config.service_date,
        tuple(outcomes),
        time.perf_counter() - t0,
        tuple(skipped),
        upkeep_emissions(config.db_url) if upkeep else "",
    )


def upkeep_emissions(db_url: str) -> str:
    """The day's metered-day writes into the lessor's emissions summary and cached tables
    (`fleet.emissions.monthly.refresh_incremental`: only the written vehicle-months and their years; a whole
    rebuild only when something other than metered days changed the inputs). Never fails the nightly: a database
    error leaves the keys dirty for the next run and is reported in the returned text. PostgreSQL only."""
    from fleet.emissions.monthly import refresh_incremental

    engine = get_engine(db_url)
    if engine.dialect.name != "postgresql":
        return "not PostgreSQL: no summary"
    t0 = time.perf_counter()
    try:
        with Session(engine) as session:
            done = refresh_incremental(session)
            session.commit()
    except Exception as exc:  # reported, retried next night
        log.warning("emissions upkeep failed: %s", exc)
        return f"failed: {exc}"
    seconds = time.perf_counter() - t0
    if done is None:
        return "nothing to do"
    if done.full:
        return f"whole rebuild in {seconds:.1f} s"
    return (
        f"{done.keys} vehicle-months, tables of {done.years or 'no year'} ({done.tables} computed, "
        f"{done.restamped} carried over) in {seconds:.1f} s"
    )


def _run_work(
    config: NightlyConfig,
    scope: Scope,
    work: list[tuple[Depot, int]],
    outcomes: list[DepotOutcome],
    progress: Progress | None,
    t0: float,
) -> None:
    total = len(work)

    def record(depot: Depot, job_id: int, payload: dict[str, Any]) -> None:
        outcome = DepotOutcome(
            depot.code,
            job_id,
            payload["status"],
            payload.get("attempts", 0),
            payload.get("seconds", 0.0),
            payload.get("result"),
            payload.get("error"),
        )
        outcomes.append(outcome)
        if progress:
            progress(outcome, len(outcomes), total)

    def options_for(depot: Depot) -> RunOptions:
        fault = config.faults.get(depot.code)
        return replace(config.options, fault=fault) if fault else config.options

    if config.workers <= 1 and not config.scheduler:
        for depot, job_id in work:
            if config.deadline_s is not None and time.perf_counter() - t0 > config.deadline_s:
                record(depot, job_id, _deadline_failure(config.db_url, job_id))
                continue
            record(
                depot,
                job_id,
                run_one_depot(
                    config.db_url,
                    scope.lessor_id,
                    depot.id,
                    config.service_date.isoformat(),
                    options_for(depot),
                    job_id,
                    config.retries,
                ),
            )
    else:
        _run_on_dask(config, scope, work, options_for, record, t0)


def _deadline_failure(db_url: str, job_id: int) -> dict[str, Any]:
    error = "global deadline exceeded before this depot finished"
    _mark(db_url, job_id, status=JobStatus.FAILED, finished_at=utcnow(), error=error)
    return {"status": "failed", "error": error}


def _run_on_dask(
    config: NightlyConfig,
    scope: Scope,
    work: list[tuple[Depot, int]],
    options_for: Callable[[Depot], RunOptions],
    record: Callable[[Depot, int, dict[str, Any]], None],
    t0: float,
) -> None:
    import dask
    from distributed import Client, LocalCluster, as_completed
    from distributed.scheduler import KilledWorker

    cluster = None
    for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.core"):
        logging.getLogger(name).setLevel(logging.ERROR)  # keep cron logs to our own lines
    with dask.config.set(
        {
            "distributed.scheduler.allowed-failures": config.retries,
            "distributed.worker.daemon": False,
            "distributed.logging.distributed": "error",
        }
    ):
        if config.scheduler:
            client = Client(config.scheduler)
        else:
            cluster = LocalCluster(
                n_workers=config.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        try:
            futures = {}
            for depot, job_id in work:
                fut = client.submit(
                    run_one_depot,
                    config.db_url,
                    scope.lessor_id,
                    depot.id,
                    config.service_date.isoformat(),
                    options_for(depot),
                    job_id,
                    config.retries,
                    key=f"depot-{depot.code}-{job_id}",
                    pure=False,
                )
                futures[fut] = (depot, job_id)
            timeout = (
                None
                if config.deadline_s is None
                else max(0.0, config.deadline_s - (time.perf_counter() - t0))
            )
            pending = set(futures)
            try:
                for fut in as_completed(list(futures), timeout=timeout):
                    pending.discard(fut)
                    depot, job_id = futures[fut]
                    try:
                        payload = fut.result()
                    except KilledWorker as exc:
                        error = f"worker process died while solving ({exc.__class__.__name__}: {exc})"
                        _mark(
                            config.db_url, job_id, status=JobStatus.FAILED, finished_at=utcnow(), error=error
                        )
                        payload = {"status": "failed", "error": error, "attempts": config.retries + 1}
                    except Exception as exc:
                        error = f"{type(exc).__name__}: {exc}"
                        _mark(
                            config.db_url,
                            job_id,
                            status=JobStatus.FAILED,
                            finished_at=utcnow(),
                            error=error,
                            traceback=traceback.format_exc(),
                        )
                        payload = {"status": "failed", "error": error}
                    fut.release()  # the result is recorded: nothing on the workers needs to keep it
                    record(depot, job_id, payload)
            except TimeoutError:
                for fut in pending:
                    fut.cancel()
                    depot, job_id = futures[fut]
                    record(depot, job_id, _deadline_failure(config.db_url, job_id))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def jobs_for(
    session: Session, scope: Scope, service_date: dt.date | None = None, limit: int = 200
) -> list[JobRun]:
    query = select_rows(scope, JobRun)
    if service_date is not None:
        query = query.where(JobRun.service_date == service_date)
    return list(session.exec(query.order_by(JobRun.id.desc()).limit(limit)).all())  # type: ignore[union-attr]


__all__ = [
    "DepotOutcome",
    "Heartbeat",
    "NightlyConfig",
    "NightlySummary",
    "abandon_stale_jobs",
    "jobs_for",
    "run_nightly",
    "run_one_depot",
]
