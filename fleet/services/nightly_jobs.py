"""Nightly jobs page: job runs in the scope, grouped by run, and the re-run of one depot-day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlmodel import Session

from fleet.audit import acting_as, current_actor
from fleet.i18n import N_, Column, _
from fleet.models import Depot, JobRun, Lessor
from fleet.scope import select_rows
from fleet.services.scope import depot_in_scope, in_scope
from fleet.services.session import unit_of_work

JOB_COLUMNS = [
    "id",
    "run_key",
    "depot",
    "service_date",
    "status",
    "attempt",
    "queued_at",
    "started_at",
    "finished_at",
    "duration_s",
    "error",
    "traceback",
    "vehicles_used",
    "km",
    "charging_cost_cny",
]
# How the page shows a job row (label msgid, rounding); id, run key and traceback are shown elsewhere.
JOB_DISPLAY: dict[str, Column] = {
    "depot": Column(N_("Depot")),
    "service_date": Column(N_("Service date")),
    "status": Column(N_("Status")),
    "attempt": Column(N_("Attempt")),
    "queued_at": Column(N_("Queued")),
    "started_at": Column(N_("Started")),
    "finished_at": Column(N_("Finished")),
    "duration_s": Column(N_("Duration [s]"), 1),
    "vehicles_used": Column(N_("Trucks used")),
    "km": Column(N_("Distance [km]"), 1),
    "charging_cost_cny": Column(N_("Charging cost [CNY]"), 2),
    "error": Column(N_("Error")),
}
STATUS_LABELS = {
    "succeeded": N_("succeeded"),
    "failed": N_("failed"),
    "abandoned": N_("abandoned"),
    "running": N_("running"),
    "queued": N_("queued"),
}


def jobs_frame(
    session: Session,
    lessee_code: str | None,
    service_date: dt.date | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Nightly job runs in scope (`fleet.nightly.jobs_for`), newest first, with the depot code and key results."""
    scope = in_scope(session, lessee_code)
    depots = dict(session.execute(select_rows(scope, Depot).with_only_columns(Depot.id, Depot.code)).all())
    rows = [
        {
            "id": j.id,
            "run_key": j.run_key,
            "depot": depots.get(j.depot_id, str(j.depot_id)),
            "service_date": j.service_date,
            "status": j.status.value,
            "attempt": j.attempt,
            "queued_at": j.queued_at,
            "started_at": j.started_at,
            "finished_at": j.finished_at,
            "duration_s": j.duration_s,
            "error": j.error or "",
            "traceback": j.traceback or "",
            "vehicles_used": (j.stats or {}).get("vehicles_used"),
            "km": (j.stats or {}).get("km"),
            "charging_cost_cny": (j.stats or {}).get("charging_cost_cny"),
        }
        for j in _jobs_for(session, scope, service_date, limit)
    ]
    return pd.DataFrame(rows, columns=JOB_COLUMNS)


def _jobs_for(session: Session, scope: Any, service_date: dt.date | None, limit: int) -> list[JobRun]:
    """`fleet.nightly.jobs_for` without importing the nightly (routing, charging, Dask: ~5 s on the Overview's
    first render): the scope's job runs, newest first."""
    query = select_rows(scope, JobRun)
    if service_date is not None:
        query = query.where(JobRun.service_date == service_date)
    return list(session.exec(query.order_by(JobRun.id.desc()).limit(limit)).all())  # type: ignore[union-attr]


@dataclass(frozen=True)
class RunSummary:
    """One invocation of the nightly job (a run key): how many depot-days succeeded, which failed."""

    run_key: str
    service_date: dt.date
    started: dt.datetime | None
    depots: int
    succeeded: int
    failed: tuple[str, ...]
    pending: int
    seconds: float
    abandoned: tuple[str, ...] = ()  # depots whose runner died (kill -9, lost host) before finishing

    @property
    def ok(self) -> bool:
        return not self.failed and not self.pending and not self.abandoned

    @property
    def status(self) -> str:
        if self.abandoned:
            return f"{len(self.abandoned)} abandoned" + (
                f", {len(self.failed)} failed" if self.failed else ""
            )
        if self.failed:
            return f"{len(self.failed)} failed"
        return "running" if self.pending else "succeeded"

    def status_label(self) -> str:
        """`status` in the current language (the page shows this; `status` stays the stable English value)."""
        if self.abandoned:
            text = _("{n} abandoned").format(n=len(self.abandoned))
            return text + (_(", {n} failed").format(n=len(self.failed)) if self.failed else "")
        if self.failed:
            return _("{n} failed").format(n=len(self.failed))
        return _(STATUS_LABELS["running" if self.pending else "succeeded"])


def run_summaries(jobs: pd.DataFrame) -> list[RunSummary]:
    """Group job rows by run key, newest run first."""
    out = []
    for key, group in jobs.groupby("run_key", sort=False):
        started = group["queued_at"].dropna()
        out.append(
            RunSummary(
                run_key=str(key),
                service_date=group["service_date"].iloc[0],
                started=started.min() if len(started) else None,
                depots=len(group),
                succeeded=int((group["status"] == "succeeded").sum()),
                failed=tuple(sorted(group.loc[group["status"] == "failed", "depot"])),
                pending=int(group["status"].isin(["queued", "running"]).sum()),
                seconds=float(group["duration_s"].fillna(0).sum()),
                abandoned=tuple(sorted(group.loc[group["status"] == "abandoned", "depot"])),
            )
        )
    return sorted(out, key=lambda r: (r.started is None, r.started), reverse=True) if out else out


def latest_run(session: Session, lessee_code: str | None) -> RunSummary | None:
    """The most recent nightly run in scope (Overview)."""
    runs = run_summaries(jobs_frame(session, lessee_code, limit=200))
    return runs[0] if runs else None


def rerun_depot(
    url: str,
    lessee_code: str | None,
    depot_code: str,
    day: dt.date,
    time_limit_s: float,
    actor: str | None = None,
) -> dict[str, Any]:
    """Re-run one depot-day as the nightly job does (`fleet.nightly.run_nightly`, one depot, in-process, one
    retry): a new JobRun row records it. The depot must be in the caller's scope.

    Runs in the worker process (`fleet.services.solving.run_isolated`), so it takes the database URL, not a
    session: a session cannot cross processes, and `run_nightly` opens its own units of work on that URL."""
    from fleet.nightly import NightlyConfig, run_nightly
    from fleet.pipeline import RunOptions

    with unit_of_work(url) as session:
        scope = in_scope(session, lessee_code)
        depot_in_scope(session, scope, depot_code)  # refuses a depot outside the scope
        lessor = session.get(Lessor, scope.lessor_id)
        lessor_code = lessor.code if lessor else None
    options = RunOptions(
        time_limit_s=float(time_limit_s), charging_time_limit_s=max(2.0, float(time_limit_s))
    )
    config = NightlyConfig(
        day, url, depot_codes=(depot_code,), workers=1, lessor_code=lessor_code, options=options
    )
    with acting_as(actor or current_actor()):  # the worker process does not inherit the app's actor
        summary = run_nightly(config)
    (outcome,) = summary.outcomes
    return {
        "depot": outcome.depot_code,
        "job_run_id": outcome.job_run_id,
        "status": outcome.status,
        "seconds": outcome.seconds,
        "error": outcome.error,
        "run_key": summary.run_key,
    }
