"""`evfleet nightly` (plan every depot for a date) and `evfleet jobs` (what the nightly runs did)."""

from __future__ import annotations

import datetime as dt
import logging

import typer
from rich.table import Table

from fleet.cli.common import DB_OPTION, LESSEE_OPTION, console, err_console, fail, is_terminal, scoped_session
from fleet.db import database_url, get_engine, redact


def _parse_date(text: str | None, default: dt.date | None = None) -> dt.date:
    if not text:
        if default is None:
            raise fail("--date is required (YYYY-MM-DD)")
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail(f"--date {text!r} is not a date (YYYY-MM-DD)") from None


def _prepare_demo(url: str) -> None:
    from fleet.demo.load import DemoAlreadyLoaded, load_demo
    from fleet.migrate import upgrade

    upgrade(url)
    try:
        counts = load_demo(get_engine(url))
        err_console.print(
            f"demo loaded into {redact(url)}: " + ", ".join(f"{v} {k}" for k, v in counts.items())
        )
    except DemoAlreadyLoaded:
        pass


def _default_date(url: str) -> dt.date:
    from fleet.reports import next_service_date

    with scoped_session(url) as (session, scope):
        day = next_service_date(session, scope, dt.date.today())
    if day is None:
        raise fail("no orders in the database: give --date or import orders first")
    return day


def _num(value: float | None, digits: int = 2, unit: str = "") -> str:
    return "-" if value is None else f"{value:,.{digits}f}{unit}"


def print_charging_alerts(url: str, service_date: dt.date) -> None:
    """The CSMS's charging alerts of the last night and tonight (fleet.services.chargers), if any."""
    from fleet.services import chargers, unit_of_work

    with unit_of_work(url) as session:
        frame = chargers.alerts(session, None, [service_date - dt.timedelta(days=1), service_date])
    if frame.empty:
        return
    table = Table(title="Charging alerts (CSMS): plan against what the chargers did")
    for col in ("depot", "night of", "connector", "truck", "alert", "readiness at risk", "message"):
        table.add_column(col)
    for r in frame.itertuples():
        table.add_row(
            r.depot,
            str(r.service_date),
            r.connector,
            r.truck,
            r.kind,
            "[red]yes[/]" if r.readiness_at_risk else "",
            r.message,
        )
    console.print(table)


def print_nightly_summary(  # type: ignore[no-untyped-def]
    summary, emissions: dict[str, float] | None = None, unserved: dict[int, list[dict]] | None = None
) -> None:
    """``unserved``: the stored route plans' unserved orders by plan id (reasons printed for incomplete depots)."""
    routes = Table(
        title=f"Nightly plan for {summary.service_date} (run {summary.run_key}, {summary.seconds:.1f} s): routes"
    )
    for col in ("depot", "status", "orders", "unserved", "trucks used (EV)", "km", "route kWh", "diesel L"):
        routes.add_column(col, justify="left" if col in ("depot", "status") else "right")
    routes.add_column("tCO2 avoided", justify="right")
    bills = Table(title="The night's charging as billed [CNY]: the plan and the baselines a depot runs")
    for col in (
        "depot",
        "schedule",
        "trucks ready",
        "energy",
        "demand per night",
        "night bill",
        "peak kW",
        "short kWh",
        "plan saves (energy | night)",
    ):
        bills.add_column(col, justify="left" if col in ("depot", "schedule") else "right")
    for o in summary.outcomes:
        r = o.result
        if r is None:
            routes.add_row(o.depot_code, f"[red]{o.status}[/]", *([""] * 7))
            continue
        avoided = (emissions or {}).get(o.depot_code)
        routes.add_row(
            o.depot_code,
            o.status,
            str(r["orders"]),
            str(r["unserved"]),
            f"{r['vehicles_used']} ({r['electric_used']})",
            f"{r['km']:,.1f}",
            f"{r['route_kwh']:,.1f}",
            f"{r['litres']:,.1f}",
            "-" if avoided is None else f"{avoided:.3f}",
        )
        base = r.get("baseline_bills") or {}
        if not base:
            continue
        bills.add_row(
            o.depot_code,
            "plan",
            f"{r.get('trucks_ready', 0)} of {r.get('trucks_overnight', 0)}",
            _num(r["energy_cny"]),
            _num(r["demand_night_cny"]),
            _num(r["energy_cny"] + r["demand_night_cny"]),
            _num(r["peak_kw"], 1),
            _num(r.get("short_kwh"), 1),
            "",
        )
        for name, bill in base.items():
            night = None
            if bill.get("demand_night_cny") is not None:
                night = bill["energy_cny"] + bill["demand_night_cny"]
            bills.add_row(
                "",
                name,
                "",
                _num(bill.get("energy_cny")),
                _num(bill.get("demand_night_cny")),
                _num(night),
                _num(bill.get("peak_kw"), 1),
                _num(bill.get("shortfall_kwh"), 1),
                f"{_num(bill.get('energy_saving_cny'))} | {_num(bill.get('night_saving_pct'), 1, ' %')}",
                end_section=name == list(base)[-1],
            )
    console.print(routes)
    console.print(bills)
    console.print(
        "Per night, as billed: energy at the time-of-use price; demand = the month's charge on the night's site peak "
        "÷ days in the month (chargers only: no site meter or base load imported; rate from the depot's tariff, "
        "graded weak). Energy saving in CNY; night saving = energy + demand per night, in % of the baseline's. "
        "uncontrolled = every truck at connector power on arrival; edf = the same, scarce power to the first to "
        "leave; timer = from the start of the valley band; balanced = the need spread evenly over the cheapest "
        "band (SpiceEV balanced_market). A month's bill, one demand charge on the month's maximum: "
        "evfleet charge month.",
        highlight=False,
    )
    for o in summary.failed:
        err_console.print(
            f"[red]{o.depot_code} failed[/] after {o.attempts} attempt(s): {o.error}", highlight=False
        )
    if summary.skipped:
        console.print(f"already succeeded, not re-run: {', '.join(summary.skipped)}")
    for o in summary.incomplete:
        r = o.result or {}
        parts = []
        if r.get("unserved"):
            parts.append(f"{r['unserved']} of {r['orders']} orders unserved")
        short = r.get("trucks_overnight", 0) - r.get("trucks_ready", 0)
        if short > 0:
            parts.append(
                f"{short} of {r['trucks_overnight']} trucks short of energy ({r.get('short_kwh', 0):.1f} kWh)"
            )
        err_console.print(
            f"[yellow]{o.depot_code} needs a planner[/]: {'; '.join(parts)} (route plan {r.get('route_plan_id')})",
            highlight=False,
        )
        left_out = (unserved or {}).get(r.get("route_plan_id") or -1, [])
        for u in left_out[:5]:
            err_console.print(
                f"  order {u.get('job')}: {u.get('reason')} {u.get('detail', '')}", highlight=False
            )
        if len(left_out) > 5:
            err_console.print(f"  ... and {len(left_out) - 5} more (the app's Route planner lists them)")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("nightly")
    def nightly_cmd(
        date: str | None = typer.Option(
            None, "--date", help="Service date YYYY-MM-DD (default: next day with orders)."
        ),
        depots: str | None = typer.Option(
            None, "--depots", help="Comma-separated depot codes (default: all)."
        ),
        workers: int | None = typer.Option(None, "--workers", help="Dask worker processes (1 = in-process)."),
        scheduler: str | None = typer.Option(
            None, "--scheduler", help="Existing Dask scheduler, tcp://host:8786."
        ),
        time_limit: float | None = typer.Option(None, "--time-limit", help="Routing seconds per depot."),
        charging_time_limit: float | None = typer.Option(
            None, "--charging-time-limit", help="Charging seconds per depot."
        ),
        deadline: float | None = typer.Option(None, "--deadline", help="Global deadline for the batch [s]."),
        retries: int | None = typer.Option(
            None, "--retries", help="Extra attempts per depot after a failure."
        ),
        seed: int | None = typer.Option(None, "--seed", help="Solver seed (reproducible plans)."),
        hot_day: list[str] | None = typer.Option(
            None,
            "--hot-day",
            help="A local date (YYYY-MM-DD, repeatable) with a Guangzhou maximum >= 35 C forecast: the "
            "critical-peak hours apply that day outside July-September too.",
        ),
        resume: bool = typer.Option(
            False, "--resume", help="Re-run only depots whose last run for the date failed or is missing."
        ),
        demo: bool = typer.Option(
            False, "--demo", help="Create the schema and load the demo data first if missing."
        ),
        config: str | None = typer.Option(
            None, "--config", help="TOML file with a [nightly] table (default evfleet.toml)."
        ),
        road_network: str | None = typer.Option(
            None,
            "--road-network",
            help="Travel matrices from: haversine (default: great circle x 1.3 at 25 km/h), osm:PATH (an "
            ".osm/.osm.pbf extract; needs evfleet[osm]), osrm:URL or valhalla:URL. Recorded in each plan. "
            "Env EVFLEET_NIGHTLY_ROAD_NETWORK.",
        ),
        fail_on_unserved: bool = typer.Option(
            False,
            "--fail-on-unserved",
            help="Exit 3 when a depot's plan leaves orders unserved or trucks short of energy (for schedulers "
            "that alert on the exit code); exit 1 (a depot failed) takes precedence.",
        ),
        db: str | None = DB_OPTION,
    ) -> None:
        """Plan tomorrow's routes and overnight charging for every depot; exit 1 if any depot failed."""
        from fleet.nightly import NightlyConfig, run_nightly
        from fleet.pipeline import RunOptions
        from fleet.planning.build import PlanningPolicy
        from fleet.settings import load_settings
        from routing.matrix import RoadNetworkSpec

        url = database_url(db)
        try:
            settings = load_settings(
                config,
                workers=workers,
                scheduler=scheduler,
                time_limit_s=time_limit,
                charging_time_limit_s=charging_time_limit,
                retries=retries,
                deadline_s=deadline,
                seed=seed,
                road_network=road_network,
            )
        except ValueError as exc:
            raise fail(str(exc)) from None
        network = settings.road_network or "haversine"
        if network.startswith("osm:"):
            from pathlib import Path

            if not Path(network[4:]).is_file():
                raise fail(f"--road-network {network}: file not found")
            import importlib.util

            if importlib.util.find_spec("osmium") is None:
                raise fail(
                    "--road-network osm:... needs the optional package osmium: pip install 'evfleet[osm]'"
                )
        if demo:
            _prepare_demo(url)
        day = _parse_date(date, None) if date else _default_date(url)
        try:
            hot_days = tuple(dt.date.fromisoformat(d) for d in hot_day or ())
        except ValueError:
            raise fail(f"--hot-day {hot_day!r}: give dates as YYYY-MM-DD") from None
        cfg = NightlyConfig(
            service_date=day,
            db_url=url,
            depot_codes=tuple(c.strip() for c in depots.split(",")) if depots else (),
            workers=settings.workers,
            scheduler=settings.scheduler,
            retries=settings.retries,
            deadline_s=settings.deadline_s,
            resume=resume,
            lessor_code=settings.lessor,
            options=RunOptions(
                time_limit_s=settings.time_limit_s,
                charging_time_limit_s=settings.charging_time_limit_s,
                seed=settings.seed,
                policy=PlanningPolicy(hot_days=hot_days),
                road_network=network,
            ),
        )
        where = settings.scheduler or (
            f"{settings.workers} local worker processes" if settings.workers > 1 else "in-process"
        )
        err_console.print(
            f"nightly {day} on {redact(url)}: {where}, {settings.time_limit_s:g} s routing per depot, "
            f"road network {RoadNetworkSpec.parse(network).public()}"
        )
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            summary = _run_with_progress(cfg, run_nightly)
        except ValueError as exc:
            raise fail(str(exc)) from None
        print_nightly_summary(summary, _emissions_by_depot(url, summary), _unserved_by_plan(url, summary))
        print_charging_alerts(url, summary.service_date)
        if not summary.ok:
            raise typer.Exit(1)
        if fail_on_unserved and summary.incomplete:
            raise typer.Exit(3)

    @bench.command("nightly")
    def bench_nightly_cmd(
        depots: int = typer.Option(40, "--depots", help="Synthetic depots to plan."),
        orders: int = typer.Option(40, "--orders", help="Orders per synthetic depot."),
        time_limit: float = typer.Option(3.0, "--time-limit", help="Routing seconds per depot."),
        workers: str = typer.Option("1,2", "--workers", help="Worker counts to compare, comma-separated."),
        seed: int = typer.Option(0, "--seed", help="Seed for the synthetic orders and the solvers."),
        out: str | None = typer.Option(None, "--out", help="Write the results as JSON here."),
    ) -> None:
        """Throughput of the nightly fan-out with 1 and 2 workers on synthetic depots (speed-up table)."""
        import os
        from pathlib import Path

        from fleet.bench_nightly import run_bench, write_json

        counts = tuple(int(w) for w in workers.split(","))
        rows = run_bench(depots, orders, time_limit, seed, counts)
        table = Table(
            title=f"bench nightly: {depots} synthetic depots, {orders} orders each, {time_limit:g} s routing"
        )
        for col in ("workers", "succeeded", "seconds", "depots/min", "speed-up"):
            table.add_column(col, justify="right")
        for r in rows:
            table.add_row(
                str(r.workers),
                f"{r.succeeded}/{r.depots}",
                f"{r.seconds:.1f}",
                f"{r.depots_per_minute:.1f}",
                f"{r.speedup:.2f}x",
            )
        console.print(table)
        if out:
            write_json(
                rows,
                Path(out),
                {
                    "depots": depots,
                    "orders": orders,
                    "time_limit_s": time_limit,
                    "seed": seed,
                    "cpus": os.cpu_count(),
                },
            )
            console.print(f"wrote {out}")

    @app.command("jobs")
    def jobs_cmd(
        date: str | None = typer.Option(None, "--date", help="Only runs for this service date."),
        lessee: str | None = LESSEE_OPTION,
        db: str | None = DB_OPTION,
    ) -> None:
        """List nightly job runs per depot-day: status, attempts, duration, error."""
        from fleet.models import Depot
        from fleet.nightly import jobs_for
        from fleet.scope import list_rows

        day = _parse_date(date) if date else None
        with scoped_session(db, lessee) as (session, scope):
            depots = {d.id: d.code for d in list_rows(session, scope, Depot)}
            rows = jobs_for(session, scope, day)
            table = Table(title="Nightly job runs" + (f" for {day}" if day else " (newest first)"))
            for col in ("id", "run", "date", "depot", "status", "attempts", "seconds", "error"):
                table.add_column(col)
            for j in rows:
                colour = {"failed": "red", "abandoned": "magenta", "succeeded": "green"}.get(
                    j.status.value, "yellow"
                )
                table.add_row(
                    str(j.id),
                    j.run_key,
                    j.service_date.isoformat(),
                    depots.get(j.depot_id, "?"),
                    f"[{colour}]{j.status.value}[/]",
                    str(j.attempt),
                    "" if j.duration_s is None else f"{j.duration_s:.1f}",
                    (j.error or "")[:100],
                )
        console.print(table)


def _run_with_progress(cfg, run):  # type: ignore[no-untyped-def]
    """A progress bar on a terminal; plain log lines otherwise (cron, CI)."""
    if is_terminal():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("[bold]nightly"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=err_console,
        ) as bar:
            task = bar.add_task("", total=None)

            def step(outcome, done, total):  # type: ignore[no-untyped-def]
                bar.update(
                    task, total=total, completed=done, description=f"{outcome.depot_code} {outcome.status}"
                )

            return run(cfg, progress=step)

    def line(outcome, done, total):  # type: ignore[no-untyped-def]
        err_console.print(
            f"{dt.datetime.now().isoformat(timespec='seconds')} [{done}/{total}] {outcome.depot_code} "
            f"{outcome.status} in {outcome.seconds:.1f} s" + (f": {outcome.error}" if outcome.error else ""),
            highlight=False,
        )

    return run(cfg, progress=line)


def _unserved_by_plan(url: str, summary) -> dict[int, list[dict]]:  # type: ignore[no-untyped-def]
    """The unserved orders (job, reason, detail) of the incomplete depots' stored route plans, by plan id."""
    from fleet.db import get_engine, session_scope
    from fleet.models import RoutePlan

    ids = [
        o.result["route_plan_id"] for o in summary.incomplete if o.result and o.result.get("route_plan_id")
    ]
    if not ids:
        return {}
    with session_scope(get_engine(url)) as s:
        return {i: list(plan.unserved) for i in ids if (plan := s.get(RoutePlan, i)) is not None}


def _emissions_by_depot(url: str, summary) -> dict[str, float] | None:  # type: ignore[no-untyped-def]
    """Ex-ante tCO2 avoided by the stored plans, per depot; None (shown as '-') if it cannot be computed."""
    from fleet.nightly_emissions import planned_avoided_by_depot

    try:
        return planned_avoided_by_depot(url, summary.service_date)
    except Exception as exc:
        err_console.print(f"[yellow]emissions avoided not computed:[/] {exc}", highlight=False)
        return None
