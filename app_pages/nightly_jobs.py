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
from fleet.services.i18n import _, fmt_datetime, fmt_number, localised
from fleet.services.pickers import default_service_date

FAILED_STYLE = "background-color: #ffd6d6; color: #8b0000"

ctx = page_context("Nightly jobs")
left, right = st.columns([2, 3])
only_date = left.toggle(_("One service date only"), key="jobs_one_date")
day = right.date_input(
    _("Service date"), value=default_service_date(None, ctx.today), key="jobs_date", disabled=not only_date
)
with services.unit_of_work(ctx.url) as session:  # this render's read; a re-run runs in a worker process
    jobs = _data.jobs(session, ctx.url, ctx.lessee_code, day if only_date else None)
if jobs.empty:
    st.info(
        _(
            "No nightly runs in this scope yet. Run `evfleet nightly --date YYYY-MM-DD` (or let cron/systemd run "
            "it, see the README), or plan one depot-day on the Route planner."
        )
    )
    st.stop()

runs = svc.run_summaries(jobs)
failed_jobs = jobs[jobs["status"].isin(["failed", "abandoned"])]  # abandoned: its runner died
cols = st.columns(4)
cols[0].metric(_("Runs"), f"{len(runs)}", border=True)
cols[1].metric(_("Depot-days"), f"{len(jobs)}", border=True)
cols[2].metric(_("Succeeded"), f"{int((jobs['status'] == 'succeeded').sum())}", border=True)
cols[3].metric(
    _("Failed"),
    f"{len(failed_jobs)}",
    border=True,
    delta=_("needs attention") if len(failed_jobs) else None,
    delta_color="inverse",
)


def clock(t: object) -> str:
    return (
        "–"
        if t is None or pd.isna(t)
        else fmt_datetime(pd.Timestamp(t).to_pydatetime(), "yyyy-MM-dd HH:mm:ss")
    )


def status_label(status: object) -> str:
    return _(svc.STATUS_LABELS.get(str(status), str(status)))


def highlight(frame: pd.DataFrame, failed: pd.Series) -> pd.io.formats.style.Styler:
    """Rows where `failed` (aligned on the frame's index) is true, in red."""
    return frame.style.apply(lambda row: [FAILED_STYLE if failed[row.name] else ""] * len(row), axis=1)


st.subheader(_("Runs"))
run_table = pd.DataFrame(
    [
        {
            _("Run"): r.run_key,
            _("Service date"): r.service_date,
            _("Queued"): r.started,
            _("Depots"): r.depots,
            _("Succeeded"): r.succeeded,
            _("Failed depots"): ", ".join(r.failed + r.abandoned),
            _("Status"): r.status_label(),
            _("Solve time [s]"): r.seconds,
        }
        for r in runs
    ]
)
st.dataframe(
    highlight(run_table, run_table[_("Failed depots")].astype(bool)).format(
        {_("Solve time [s]"): lambda v: fmt_number(v, 1), _("Queued"): clock}
    ),
    hide_index=True,
    placeholder="–",
    key="jobs_runs",
)

st.subheader(_("Depot-days"))
status = st.multiselect(
    _("Status"),
    ["succeeded", "failed", "abandoned", "running", "queued"],
    format_func={k: status_label(k) for k in svc.STATUS_LABELS}.get,  # translated now, in this run
    key="jobs_status",
)
shown = jobs[jobs["status"].isin(status)] if status else jobs
table = localised(shown.assign(status=[status_label(x) for x in shown["status"]]), svc.JOB_DISPLAY)
st.dataframe(
    highlight(table, shown["status"].isin(["failed", "abandoned"])).format(
        {_(svc.JOB_DISPLAY[k].label): clock for k in ("queued_at", "started_at", "finished_at")},
        na_rep="–",
    ),
    hide_index=True,
    placeholder="–",
    key="jobs_table",
)
st.caption(
    _("{shown} of {total} depot-days; times in Asia/Shanghai. Failed rows in red.").format(
        shown=len(shown), total=len(jobs)
    )
)

st.subheader(_("Failures"))
# A depot-day whose latest job succeeded is no longer a failure, even if an earlier attempt failed.
latest = jobs.sort_values("id").groupby(["depot", "service_date"]).tail(1)
open_failures = latest[latest["status"].isin(["failed", "abandoned"])].sort_values("id", ascending=False)
if open_failures.empty:
    st.success(_("No open failures: every depot-day's latest run succeeded."))
else:
    limit = st.slider(_("Routing time limit for a re-run [s]"), 1, 120, 10, key="jobs_rerun_limit")
    for job in open_failures.itertuples():
        with st.container(border=True):
            st.error(
                _("{depot} {date}: {error} (job {job}, attempt {attempt}, run {run})").format(
                    depot=job.depot,
                    date=job.service_date,
                    error=job.error or _("no error recorded"),
                    job=job.id,
                    attempt=job.attempt,
                    run=job.run_key,
                )
            )
            if job.traceback:
                with st.expander(_("Traceback")):
                    st.code(job.traceback, language="text")
            if st.button(
                _("Re-run {depot} {date}").format(depot=job.depot, date=job.service_date),
                key=f"jobs_rerun_{job.id}",
            ):
                with st.status(
                    _("Re-running {depot} {date}…").format(depot=job.depot, date=job.service_date),
                    expanded=True,
                ) as box:
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
                        box.update(label=_("Re-run failed"), state="error")
                        st.error(str(exc))
                        st.stop()
                    box.update(
                        label=_("Re-run {status}").format(status=status_label(outcome["status"])),
                        state="complete",
                    )
                after_write(
                    _("Re-ran {depot} {date}: {status} in {seconds} s (job {job})").format(
                        depot=outcome["depot"],
                        date=job.service_date,
                        status=status_label(outcome["status"]),
                        seconds=fmt_number(outcome["seconds"], 1),
                        job=outcome["job_run_id"],
                    )
                    + (f": {outcome['error']}" if outcome["error"] else ".")
                )
