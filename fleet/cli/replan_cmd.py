"""`evfleet route replan`: mend a depot-day's current route plan with few changes (fleet.planning.replan)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fleet.cli.common import DB_OPTION, LESSEE_OPTION, console, err_console, fail, scoped_session


def _parse_now(day: dt.date, text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        t = dt.time.fromisoformat(text)
    except ValueError:
        raise fail(f"--now {text!r} is not a time of day (HH:MM, local time)") from None
    from fleet.models import LOCAL_TZ

    return dt.datetime.combine(day, t, tzinfo=LOCAL_TZ)


def route_replan(
    depot: Annotated[str, typer.Option("--depot", help="Depot code, e.g. SZ-NS.")],
    date: Annotated[str, typer.Option("--date", help="Service date (YYYY-MM-DD) of the plan.")],
    unavailable: Annotated[
        list[str] | None, typer.Option("--unavailable", help="Plate of a truck out of service (repeat).")
    ] = None,
    lock_vehicle: Annotated[
        list[str] | None, typer.Option("--lock-vehicle", help="Plate whose route must not change (repeat).")
    ] = None,
    lock_route: Annotated[
        list[str] | None,
        typer.Option(
            "--lock-route",
            help="Route (named by its plate) to keep; if its truck is out, whole on a spare (repeat).",
        ),
    ] = None,
    lock_stop: Annotated[
        list[str] | None,
        typer.Option("--lock-stop", help="Order reference that stays on its truck, in order (repeat)."),
    ] = None,
    urgent: Annotated[
        list[str] | None,
        typer.Option("--urgent", help="Reference of an order the plan does not have (repeat)."),
    ] = None,
    now: Annotated[
        str | None, typer.Option("--now", help="Local time HH:MM: stops already driven to stay fixed.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds for the re-plan, and again for the free re-solve.")
    ] = 10.0,
    move_penalty: Annotated[
        float | None, typer.Option("--move-penalty", help="CNY per order moved to another truck.")
    ] = None,
    compare: Annotated[bool, typer.Option("--compare/--no-compare", help="Also run a free re-solve.")] = True,
    base_version: Annotated[
        int | None,
        typer.Option("--base-version", help="Version to mend (a draft, say); default: the published plan."),
    ] = None,
    save_draft: Annotated[
        bool, typer.Option("--save-draft", help="Store the result as a draft plan version (never published).")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why (stored with a draft).")] = "",
    out: Annotated[Path | None, typer.Option(help="Write the summary JSON here.")] = None,
    db: str | None = DB_OPTION,
    lessee: str | None = LESSEE_OPTION,
) -> None:
    """Re-plan a depot-day after a breakdown or an urgent order, keeping other trucks' orders where they are."""
    from fleet.limits import LimitExceeded, check_time_limit
    from fleet.planning.replan import FleetLocks, ReplanRequestError, replan, store_draft
    from routing.replan import DEFAULT_MOVE_PENALTY, ReplanError

    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise fail(f"--date {date!r} is not a date (YYYY-MM-DD)") from None
    try:
        check_time_limit(time_limit)
    except LimitExceeded as exc:
        raise fail(str(exc)) from None
    locks = FleetLocks(tuple(lock_vehicle or ()), tuple(lock_route or ()), tuple(lock_stop or ()))
    with scoped_session(db, lessee) as (session, scope):
        try:
            outcome = replan(
                session,
                depot,
                day,
                locks=locks,
                unavailable_vehicles=tuple(unavailable or ()),
                urgent_orders=tuple(urgent or ()),
                now=_parse_now(day, now),
                seed=seed,
                time_limit_s=time_limit,
                move_penalty=DEFAULT_MOVE_PENALTY if move_penalty is None else move_penalty,
                compare_free=compare,
                scope=scope,
                base_version=base_version,
            )
        except (ReplanRequestError, ReplanError) as exc:
            raise fail(str(exc)) from None
        summary = outcome.summary()
        _print(summary)
        draft_id = None
        if save_draft:
            try:
                draft_id = store_draft(session, outcome, reason=reason, scope=scope)
            except ReplanRequestError as exc:
                raise fail(str(exc)) from None
            console.print(f"stored as draft route plan {draft_id} (the published plan is unchanged)")
    if out is not None:
        out.write_text(json.dumps({**summary, "draft_plan_id": draft_id}, indent=2, ensure_ascii=False))
        console.print(f"summary written to {out}")
    if not outcome.result.ok:
        raise typer.Exit(1)


def _print(s: dict) -> None:
    for w in s["warnings"]:
        err_console.print(f"[yellow]warning:[/] {w}", highlight=False)
    title = f"Re-plan of {s['depot']} {s['service_date']} (plan version {s['based_on']['version']})"
    if s["now"]:
        title += f" at {s['now'][11:16]}"
    table = Table(title=title)
    for col in (
        "plan",
        "orders moved",
        "of them forced",
        "other moves",
        "dropped",
        "added",
        "cost CNY",
        "check",
    ):
        table.add_column(col, justify="left" if col in ("plan", "check") else "right")
    r = s["replan"]
    table.add_row(
        "minimal change",
        str(r["moved"]),
        str(r["moved_from_unavailable"]),
        str(r["moved_other"]),
        str(r["dropped"]),
        str(r["added"]),
        f"{r['cost']:,.2f}",
        "ok" if r["checker"] == "feasible" and r["locks"] == "honoured" else "[red]failed[/]",
    )
    f = s.get("free_resolve")
    if f:
        table.add_row(
            "free re-solve",
            str(f["moved"]),
            str(f["moved_from_unavailable"]),
            str(f["moved_other"]),
            str(f["dropped"]),
            str(f["added"]),
            f"{f['cost']:,.2f}",
            f"{f['checker']}, {f['locks_broken']} lock(s) broken",
        )
        table.add_row(
            "  best relabelling",
            str(f["moved_after_relabelling"]),
            "",
            "",
            "",
            "",
            "",
            "identical trucks swapped",
        )
    console.print(table)
    trucks = Table(title="Per truck (orders)")
    for col in ("plate", "status", "fixed stops", "before", "after", "taken on", "handed over"):
        trucks.add_column(col, justify="right" if col in ("fixed stops", "before", "after") else "left")
    for t in s["trucks"]:
        if not t["orders_in"] and not t["orders_out"] and t["status"] == "in service":
            continue
        trucks.add_row(
            t["plate"],
            t["status"],
            str(t["fixed_stops"]),
            str(t["orders_before"]),
            str(t["orders_after"]),
            ", ".join(t["orders_in"]),
            ", ".join(t["orders_out"]),
        )
    console.print(trucks)
    console.print("trucks whose orders did not change are not listed", style="dim")
    if r["unserved"]:
        console.print(f"unserved: {', '.join(r['unserved'])}")


def bench_replan(
    date: Annotated[str, typer.Option("--date", help="Service date (YYYY-MM-DD) of the current plans.")],
    depots: Annotated[
        str | None, typer.Option(help="Comma-separated depot codes (default: all planned).")
    ] = None,
    now: Annotated[
        str | None, typer.Option("--now", help="Local time HH:MM of the breakdown (default: before the day).")
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds per re-plan and per free re-solve.")
    ] = 5.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Write every run as JSON here.")] = None,
    db: str | None = DB_OPTION,
) -> None:
    """Break down each truck of each depot's current plan in turn: orders moved by the minimal-change re-plan
    against a free re-solve of the same remaining problem (the issue-21 figure)."""
    import time

    from sqlmodel import select

    from fleet.models import Depot, PlanStatus, RoutePlan
    from fleet.planning.replan import replan

    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise fail(f"--date {date!r} is not a date (YYYY-MM-DD)") from None
    wanted = {c.strip() for c in depots.split(",")} if depots else None
    runs: list[dict] = []
    t_wall, t_cpu = time.perf_counter(), time.process_time()
    with scoped_session(db) as (session, scope):
        plans = session.exec(
            select(RoutePlan, Depot)
            .where(
                RoutePlan.depot_id == Depot.id,
                RoutePlan.service_date == day,
                RoutePlan.status == PlanStatus.CURRENT,
            )
            .order_by(Depot.code)
        ).all()
        if not plans:
            raise fail(
                f"no current route plans on {day.isoformat()}: run evfleet nightly --date {day.isoformat()}"
            )
        for plan, depot in plans:
            if wanted and depot.code not in wanted:
                continue
            trucks = [r["vehicle_type"] for r in plan.solution["routes"] if r["stops"]]
            for plate in trucks:
                o = replan(
                    session,
                    depot.code,
                    day,
                    unavailable_vehicles=[plate],
                    now=_parse_now(day, now),
                    seed=seed,
                    time_limit_s=time_limit,
                    scope=scope,
                )
                s = o.summary()
                s["broken"] = plate
                runs.append(s)
                f = s["free_resolve"]
                console.print(
                    f"{depot.code} {plate}: re-plan moved {s['replan']['moved']} "
                    f"({s['replan']['moved_from_unavailable']} forced), free re-solve {f['moved']} "
                    f"({f['moved_after_relabelling']} after relabelling)",
                    highlight=False,
                )
    wall, cpu = time.perf_counter() - t_wall, time.process_time() - t_cpu
    table = Table(
        title=f"One truck breaks down, {day.isoformat()}{' at ' + now if now else ''}: orders moved"
    )
    for col in (
        "depot",
        "runs",
        "forced (its orders)",
        "other moves: mean | max",
        "free re-solve: mean | max",
        "free, best relabelling: mean | max",
        "unserved: re-plan | free",
        "cost re-plan - free [CNY]: mean | max",
        "checks ok",
    ):
        table.add_column(col, justify="left" if col == "depot" else "right")
    by_depot: dict[str, list[dict]] = {}
    for r in runs:
        by_depot.setdefault(r["depot"], []).append(r)

    def mm(xs: list, digits: int = 1) -> str:
        top = f"{max(xs):.2f}" if digits > 1 else str(max(xs))
        return f"{sum(xs) / len(xs):.{digits}f} | {top}"

    for code, rs in [*by_depot.items(), ("all", runs)]:
        fr = [r["free_resolve"] for r in rs]
        ok = sum(1 for r in rs if r["replan"]["checker"] == "feasible" and r["replan"]["locks"] == "honoured")
        table.add_row(
            code,
            str(len(rs)),
            mm([r["replan"]["moved_from_unavailable"] for r in rs]),
            mm([r["replan"]["moved_other"] for r in rs]),
            mm([f["moved"] for f in fr]),
            mm([f["moved_after_relabelling"] for f in fr]),
            f"{sum(len(r['replan']['unserved']) for r in rs)} | {sum(len(f['unserved']) for f in fr)}",
            mm([r["replan"]["cost"] - f["cost"] for r, f in zip(rs, fr)], 2),
            f"{ok}/{len(rs)}",
            end_section=code == list(by_depot)[-1],
        )
    console.print(table)
    console.print(
        f"{len(runs)} runs in {wall:.0f} s wall, {cpu:.0f} s CPU of this process (time limit {time_limit} s each)"
    )
    if out is not None:
        out.write_text(
            json.dumps(
                {
                    "date": day.isoformat(),
                    "now": now,
                    "time_limit_s": time_limit,
                    "seed": seed,
                    "wall_s": round(wall, 1),
                    "cpu_s": round(cpu, 1),
                    "runs": runs,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        console.print(f"runs written to {out}")
