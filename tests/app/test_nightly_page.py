"""Nightly jobs page (AppTest): runs with status and errors, failures highlighted, re-run a failed depot-day."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.models import Depot, JobRun, JobStatus
from fleet.pipeline import current_route_plan
from fleet.scope import scope_for
from fleet.services import nightly_jobs as svc
from fleet.services.scope import ScopeError
from tests.app.conftest import FAILING_DEPOT, PLANNED_DEPOT, SERVICE_DATE, AppRunner, url_of

pytestmark = pytest.mark.slow


def _failed_job(engine: Engine) -> JobRun:
    with Session(engine) as s:
        (job,) = s.exec(select(JobRun).where(JobRun.status == JobStatus.FAILED)).all()
        s.expunge(job)
        return job


def test_runs_and_failures_are_shown(run_app: AppRunner, planned_engine: Engine) -> None:
    at = run_app(url_of(planned_engine), "jobs")
    assert not at.exception, [e.value for e in at.exception]
    job = _failed_job(planned_engine)
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Depot-days"], metrics["Succeeded"], metrics["Failed"]) == ("2", "1", "1")
    assert [e.value for e in at.error] == [
        f"{FAILING_DEPOT} {SERVICE_DATE}: {job.error} (job {job.id}, attempt 1, run {job.run_key})"
    ]
    assert "injected fault" in job.error
    runs = at.dataframe[0].value
    assert runs["Failed depots"].tolist() == [FAILING_DEPOT]
    at.multiselect(key="jobs_status").set_value(["failed"]).run()
    assert at.dataframe[1].value["Depot"].tolist() == [FAILING_DEPOT]


def test_lessee_sees_only_its_depots_jobs(run_app: AppRunner, planned_engine: Engine) -> None:
    at = run_app(url_of(planned_engine), "jobs", lessee="FRESH")  # FRESH runs SZ-NS, PCX runs SZ-LH
    assert not at.exception
    assert set(at.dataframe[1].value["Depot"]) == {PLANNED_DEPOT}
    assert not at.error and at.success


def test_rerun_a_failed_depot(run_app: AppRunner, planned_copy: Engine) -> None:
    job = _failed_job(planned_copy)
    at = run_app(url_of(planned_copy), "jobs")
    at.slider(key="jobs_rerun_limit").set_value(1)
    at.button(key=f"jobs_rerun_{job.id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with Session(planned_copy) as s:
        newer = s.exec(select(JobRun).where(JobRun.run_key != job.run_key)).all()
        depot = s.exec(select(Depot).where(Depot.code == FAILING_DEPOT)).one()
        plan = current_route_plan(s, scope_for(s), depot.id, SERVICE_DATE)
    assert [(j.depot_id, j.status) for j in newer] == [(depot.id, JobStatus.SUCCEEDED)]
    assert plan is not None and plan.job_run_id == newer[0].id
    assert f"Re-ran {FAILING_DEPOT} {SERVICE_DATE}: succeeded" in at.success[0].value
    assert any("No open failures" in s.value for s in at.success)


def test_lessee_cannot_rerun_another_lessees_depot(planned_engine: Engine) -> None:
    with pytest.raises(ScopeError, match="not found"):
        svc.rerun_depot(url_of(planned_engine), "FRESH", FAILING_DEPOT, SERVICE_DATE, 1.0)
