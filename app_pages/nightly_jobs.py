"""Nightly jobs: runs with status, durations and errors (failures highlighted); re-run a failed depot-day."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _data
from app_pages._shell import after_write, page_context
from fleet import services
from fleet.services import audit as audit_svc
from fleet.services import nightly_jobs as svc
from fleet.services import solving
from fleet.services.pickers import default_service_date

FAILED_STYLE = "background-color: #ffd6d6; color: #8b0000"

ctx = page_context("Nightly jobs")
left, right = st.columns([2, 3])
only_date = left.toggle("One service date only", key="jobs_one_date")
day = right.date_input(
    "Service date", value=default_service_date(None, ctx.today), key="jobs_date", disabled=not only_date
)
with services.unit_of_work(ctx.url) as session:  # this render's read; a re-run runs in a worker process
    jobs = _data.jobs(session, ctx.url, ctx.lessee_code, day if only_date else None)
if jobs.empty:
    st.info(
        "No nightly runs in this scope yet. Run `evfleet nightly --date YYYY-MM-DD` (or let cron/systemd run it, "
        "see the README), or plan one depot-day on the Route planner."
    )
    st.stop()

runs = svc.run_summaries(jobs)
failed_jobs = jobs[jobs["status"].isin(["failed", "abandoned"])]  # abandoned: its runner died
cols = st.columns(4)
cols[0].metric("Runs", f"{len(runs)}", border=True)
cols[1].metric("Depot-days", f"{len(jobs)}", border=True)
cols[2].metric("Succeeded", f"{int((jobs['status'] == 'succeeded').sum())}", border=True)
cols[3].metric(
    "Failed",
    f"{len(failed_jobs)}",
    border=True,
    delta="needs attention" if len(failed_jobs) else None,
    delta_color="inverse",
)


def clock(t: object) -> str:
    return "–" if t is None or pd.isna(t) else f"{t:%Y-%m-%d %H:%M:%S}"


def highlight(frame: pd.DataFrame, column: str, failed: object) -> pd.io.formats.style.Styler:
    """Failed rows in red."""
    return frame.style.apply(lambda row: [FAILED_STYLE if failed(row[column]) else ""] * len(row), axis=1)


st.subheader("Runs")
run_table = pd.DataFrame(
    [
        {
            "run": r.run_key,
            "service date": r.service_date,
            "queued": r.started,
            "depots": r.depots,
            "succeeded": r.succeeded,
            "failed": ", ".join(r.failed + r.abandoned),
            "status": r.status,
            "solve time [s]": r.seconds,
        }
        for r in runs
    ]
)
st.dataframe(
    highlight(run_table, "failed", bool).format({"solve time [s]": "{:.1f}", "queued": clock}),
    hide_index=True,
    placeholder="–",
    key="jobs_runs",
)

st.subheader("Depot-days")
status = st.multiselect(
    "Status", ["succeeded", "failed", "abandoned", "running", "queued"], key="jobs_status"
)
shown = jobs[jobs["status"].isin(status)] if status else jobs
table = shown.drop(columns=["traceback", "run_key"])
st.dataframe(
    highlight(table, "status", lambda s: s in ("failed", "abandoned")).format(
        {
            "duration_s": "{:.1f}",
            "km": "{:,.1f}",
            "charging_cost_cny": "{:,.2f}",
            "queued_at": clock,
            "started_at": clock,
            "finished_at": clock,
        },
        na_rep="–",
    ),
    hide_index=True,
    placeholder="–",
    key="jobs_table",
)
st.caption(f"{len(shown)} of {len(jobs)} depot-days; times in Asia/Shanghai. Failed rows in red.")

st.subheader("Failures")
# A depot-day whose latest job succeeded is no longer a failure, even if an earlier attempt failed.
latest = jobs.sort_values("id").groupby(["depot", "service_date"]).tail(1)
open_failures = latest[latest["status"].isin(["failed", "abandoned"])].sort_values("id", ascending=False)
if open_failures.empty:
    st.success("No open failures: every depot-day's latest run succeeded.")
else:
    limit = st.slider("Routing time limit for a re-run [s]", 1, 120, 10, key="jobs_rerun_limit")
    for job in open_failures.itertuples():
        with st.container(border=True):
            st.error(
                f"{job.depot} {job.service_date}: {job.error or 'no error recorded'} (job {job.id}, "
                f"attempt {job.attempt}, run {job.run_key})"
            )
            if job.traceback:
                with st.expander("Traceback"):
                    st.code(job.traceback, language="text")
            if st.button(f"Re-run {job.depot} {job.service_date}", key=f"jobs_rerun_{job.id}"):
                with st.status(f"Re-running {job.depot} {job.service_date}…", expanded=True) as box:
                    bar = st.progress(0.0)
                    try:
                        outcome = solving.run_isolated(
                            svc.rerun_depot,
                            ctx.url,
                            ctx.lessee_code,
                            job.depot,
                            job.service_date,
                            float(limit),
                            audit_svc.acting_user(),
                            on_wait=lambda s, bar=bar: bar.progress(
                                min(s / (limit + 6.0), 0.99), text=f"{s:.0f} s"
                            ),
                        )
                    except solving.SolveFailed as exc:
                        box.update(label="Re-run failed", state="error")
                        st.error(str(exc))
                        st.stop()
                    box.update(label=f"Re-run {outcome['status']}", state="complete")
                after_write(
                    f"Re-ran {outcome['depot']} {job.service_date}: {outcome['status']} in "
                    f"{outcome['seconds']:.1f} s (job {outcome['job_run_id']})"
                    + (f": {outcome['error']}" if outcome["error"] else ".")
                )
