"""The Route planner's re-plan panel: after a breakdown or an urgent order, mend the published plan (or a draft the
planner chooses) with few changes (locks honoured, checked by the routing and lock checkers) and keep it as a new
draft; the moves report says how many orders changed truck against a free re-solve. docs/replan.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from fleet.services import replanning, solving
from fleet.services.i18n import N_, _

T = {
    "title": N_("Re-plan after a breakdown or an urgent order"),
    "unavailable": N_("Unavailable trucks (breakdown)"),
    "lock_vehicles": N_("Lock trucks (keep route, take nothing else)"),
    "lock_routes": N_("Lock routes (kept whole, even on a spare truck)"),
    "lock_stops": N_("Lock stops (stay on their truck)"),
    "urgent": N_("Urgent orders (of this day, not yet planned)"),
    "now": N_("Now (HH:MM, empty = before the day)"),
    "limit": N_("Re-plan time limit [s]"),
    "reason": N_("Reason for the re-plan (required)"),
    "go": N_("Re-plan"),
    "running": N_("Re-planning {depot} {day}…"),
    "elapsed": N_("{s} s elapsed"),
    "failed": N_("Re-plan failed; nothing was stored"),
    "done": N_("Stored re-planned draft version {v}"),
    "saved": N_(
        "Re-planned draft version {v}: {moved} order(s) changed truck ({forced} from unavailable trucks, {other} "
        "others); a free re-solve would move {free} ({relabelled} after swapping identical trucks)."
    ),
    "report": N_("Moves report of the last re-plan (version {v})"),
    "moved_orders": N_("Orders that changed truck"),
    "nothing_published": N_("Publish a version first: a re-plan mends the published plan."),
    "base": N_("Re-plan from version"),
    "base_help": N_(
        "The version the re-plan mends and keeps as much of as it can: the published plan by default, or a draft "
        "you are working on (its locked routes stay as in that draft)."
    ),
    "base_caption": N_(
        "Mends version {v} ({status}) instead of replacing it: trucks you mark unavailable hand their orders over, "
        "locked trucks, routes and stops stay as they are, and every other order keeps its truck where it can. "
        "The result is checked by the routing and lock checkers and kept as a new draft: publish it under Versions."
    ),
}
STATUS = {"published": N_("published"), "draft": N_("draft"), "superseded": N_("superseded")}
TRUCK_DISPLAY = {
    "plate": N_("Truck"),
    "status": N_("Status"),
    "orders_before": N_("Orders before"),
    "orders_after": N_("Orders after"),
    "orders_in": N_("Orders in"),
    "orders_out": N_("Orders out"),
}


def show(
    url: str,
    lessee_code: str | None,
    depot_code: str,
    day: dt.date,
    published_v: int | None,
    trucks: list[str],
    jobs: list[str],
    author: str,
    versions: dict[int, str] | None = None,
) -> dict[str, Any] | None:
    """Draw the panel; returns the stored result when a re-plan was stored in this run (the page then reruns).

    `versions` ({version: "published" | "draft" | "superseded"}) offers the base: the published version (the default) and the drafts."""
    st.markdown(f"**{_(T['title'])}**")
    bases = [v for v, status in (versions or {}).items() if status == "draft"]
    if published_v is not None:
        bases = [published_v, *bases]
    if not bases:
        st.info(_(T["nothing_published"]))
        return None
    statuses = {**(versions or {}), **({published_v: "published"} if published_v is not None else {})}
    base = st.selectbox(
        _(T["base"]),
        bases,
        index=0,
        format_func=lambda v: f"{v} · {_(STATUS.get(statuses.get(v, ''), statuses.get(v, '')))}",
        help=_(T["base_help"]),
        key=f"replan_base_{depot_code}_{day.isoformat()}",
    )
    st.caption(_(T["base_caption"]).format(v=base, status=_(STATUS.get(statuses.get(base, ""), ""))))
    left, right = st.columns(2)
    down = left.multiselect(_(T["unavailable"]), trucks, key="replan_unavailable")
    lock_routes = right.multiselect(_(T["lock_routes"]), trucks, key="replan_lock_routes")
    lock_vehicles = left.multiselect(_(T["lock_vehicles"]), trucks, key="replan_lock_vehicles")
    lock_stops = right.multiselect(_(T["lock_stops"]), jobs, key="replan_lock_stops")
    urgent_text = left.text_input(_(T["urgent"]), key="replan_urgent", placeholder="SZ-NS-20261126-044")
    now = right.text_input(_(T["now"]), key="replan_now", placeholder="11:00")
    limit = left.slider(_(T["limit"]), 1, 60, 5, key="replan_limit")
    reason = right.text_input(_(T["reason"]), key="replan_reason")
    report_key = f"replan_report_{depot_code}_{day.isoformat()}"
    result = None
    if st.button(_(T["go"]), key="replan_go", type="primary", disabled=not reason.strip()):
        urgent = [u.strip() for u in urgent_text.replace(",", " ").split() if u.strip()]
        with st.status(
            _(T["running"]).format(depot=depot_code, day=day.isoformat()), expanded=True
        ) as status:
            bar = st.progress(0.0)
            try:
                result = solving.run_isolated(
                    replanning.replan_to_draft,
                    url,
                    lessee_code,
                    depot_code,
                    day,
                    list(down),
                    {"vehicles": list(lock_vehicles), "routes": list(lock_routes), "stops": list(lock_stops)},
                    urgent,
                    now,
                    float(limit),
                    author,
                    reason,
                    0,
                    int(base),
                    on_wait=lambda s: bar.progress(
                        min(s / (2 * limit + 8.0), 0.99), text=_(T["elapsed"]).format(s=f"{s:.0f}")
                    ),
                )
            except solving.SolveFailed as exc:
                status.update(label=_(T["failed"]), state="error")
                st.error(str(exc))
                return None
            status.update(label=_(T["done"]).format(v=result["version"]), state="complete")
        st.session_state[report_key] = result
    if report_key in st.session_state:
        report(st.session_state[report_key])
    return result


def message(result: dict[str, Any]) -> str:
    """The one-line moves report of a stored re-plan."""
    forced = len(result["moved_forced"])
    return _(T["saved"]).format(
        v=result["version"],
        moved=len(result["moved"]),
        forced=forced,
        other=len(result["moved"]) - forced,
        free="–" if result["free_moved"] is None else result["free_moved"],
        relabelled="–" if result["free_moved_relabelled"] is None else result["free_moved_relabelled"],
    )


def report(result: dict[str, Any]) -> None:
    """The last re-plan's moves, per truck."""
    st.markdown(f"**{_(T['report']).format(v=result['version'])}**")
    st.success(message(result))
    if "notices" in result:  # structured: in the planner's language
        for n in result["notices"]:
            st.warning(replanning.notice_text(n["code"], n["params"]))
    else:
        for w in result["warnings"]:
            st.warning(w)
    trucks = pd.DataFrame(result["trucks"])
    if len(trucks):
        trucks = trucks[[c for c in TRUCK_DISPLAY if c in trucks.columns]].copy()
        for col in ("orders_in", "orders_out"):
            trucks[col] = trucks[col].map(lambda refs: ", ".join(refs))
        shown = trucks[(trucks["orders_in"] != "") | (trucks["orders_out"] != "")]
        st.dataframe(shown.rename(columns={k: _(v) for k, v in TRUCK_DISPLAY.items()}), hide_index=True)
    if result["moved"]:
        st.caption(_(T["moved_orders"]) + ": " + ", ".join(result["moved"]))
