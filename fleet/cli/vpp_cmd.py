"""`evfleet vpp flex|dispatch|settle` and `evfleet bench vpp`: thin faces on fleet.services.vpp and fleet.vpp."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.table import Table

from fleet.cli.common import DB_OPTION, LESSEE_OPTION, console, err_console, fail, scoped_session

vpp_app = typer.Typer(
    help="The fleet as a virtual power plant: flexibility, event dispatch, settlement.", no_args_is_help=True
)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail(f"--date {text!r} is not a date (YYYY-MM-DD)") from None


def _time(text: str, option: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"{option} {text!r} is not an ISO 8601 time (e.g. 2026-11-25T20:00+08:00)") from None
    if value.tzinfo is None:
        raise fail(f"{option} {text!r} has no time zone offset (e.g. +08:00)")
    return value


def _f(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


@vpp_app.command("flex")
def flex_cmd(
    date: str = typer.Option(..., "--date", help="Service date whose night (the evening before) is offered."),
    zone: str | None = typer.Option(None, "--zone", help="One grid zone (default: every zone)."),
    out: str | None = typer.Option(None, "--out", help="Write the per-zone, per-slot table as JSON here."),
    db: str | None = DB_OPTION,
    lessee: str | None = LESSEE_OPTION,
) -> None:
    """Tonight's flexibility: kW each zone can shed or add per 15-minute slot with every truck still ready."""
    from fleet.services import vpp as svc
    from fleet.vpp.flex import VPP_FLOOR_KW

    with scoped_session(db, lessee) as (session, _scope):
        view = svc.flexibility(session, lessee, _date(date), zone)
    if view.depots.empty:
        raise fail(
            f"no current charging plans for {date}{' in zone ' + zone if zone else ''}: run `evfleet nightly`"
        )
    table = Table(title=f"Flexibility for the night before {date} (one-slot bounds, every truck ready) [kW]")
    for col in ("zone", "depots", "max shed", "at", "max add", "max V2G", f"≥ {VPP_FLOOR_KW / 1000:.0f} MW"):
        table.add_column(col, justify="left" if col in ("zone", "at") else "right")
    depots = view.zones.groupby("zone")["depots"].max()
    for r in view.summary.itertuples():
        table.add_row(
            r.zone, str(depots[r.zone]), _f(r.max_shed_kw), f"{r.at:%m-%d %H:%M}", _f(r.max_add_kw),
            _f(r.max_v2g_kw), "yes" if r.max_shed_kw >= VPP_FLOOR_KW else "no",
        )  # fmt: skip
    console.print(table)
    if out:
        frame = view.zones.assign(slot_start=view.zones["slot_start"].astype(str))
        Path(out).write_text(json.dumps(frame.to_dict("records"), indent=1), encoding="utf-8")
        err_console.print(f"wrote {out}")


@vpp_app.command("nightly")
def nightly_cmd(
    date: str = typer.Option(..., "--date", help="Service date to plan (the night before it)."),
    workers: int = typer.Option(2, "--workers", help="Dask worker processes (1: in this process)."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Address of an existing Dask scheduler."),
    time_limit: float = typer.Option(10.0, "--time-limit", help="Routing time limit per depot [s]."),
    db: str | None = DB_OPTION,
) -> None:
    """The nightly (one task per depot) and the reduce: flexibility per zone of every depot that was planned."""
    from fleet.db import database_url
    from fleet.nightly import NightlyConfig
    from fleet.pipeline import RunOptions
    from fleet.vpp.nightly_flex import nightly_with_flex

    config = NightlyConfig(
        service_date=_date(date), db_url=database_url(db), workers=workers, scheduler=scheduler,
        options=RunOptions(time_limit_s=time_limit),
    )  # fmt: skip
    result = nightly_with_flex(config)
    ok = sum(o.status == "succeeded" for o in result.summary.outcomes)
    console.print(f"nightly {result.summary.run_key}: {ok}/{len(result.summary.outcomes)} depots planned")
    table = Table(title="Offer per zone (one-slot bounds, every truck ready) [kW]")
    for col in ("zone", "max shed", "at", "max add", "max V2G"):
        table.add_column(col, justify="left" if col in ("zone", "at") else "right")
    for r in result.offer.itertuples():
        table.add_row(r.zone, _f(r.max_shed_kw), f"{r.at:%m-%d %H:%M}", _f(r.max_add_kw), _f(r.max_v2g_kw))
    console.print(table)
    if result.missing:
        raise fail(f"not in the offer (their night failed): {', '.join(result.missing)}")


@vpp_app.command("dispatch")
def dispatch_cmd(
    date: str = typer.Option(..., "--date", help="Service date whose night the event falls in."),
    start: str = typer.Option(..., "--start", help="Event start, ISO with offset (2026-11-25T20:00+08:00)."),
    end: str = typer.Option(..., "--end", help="Event end, ISO with offset."),
    direction: str = typer.Option("down", "--direction", help="down (shed load) or up (add load)."),
    target_kw: float | None = typer.Option(
        None, "--target-kw", help="Required response per slot, zone total."
    ),
    price: float = typer.Option(0.0, "--price", help="Price paid per kWh of response [CNY/kWh]."),
    wear: float = typer.Option(
        ..., "--wear", help="Battery wear cost per kWh discharged [CNY/kWh] (no sourced value)."
    ),
    zone: str | None = typer.Option(None, "--zone", help="Dispatch this grid zone's depots only."),
    floor_soc: float = typer.Option(
        0.3, "--floor-soc", help="Least state of charge V2G may leave (fraction)."
    ),
    time_limit: float = typer.Option(120.0, "--time-limit", help="Solver time limit [s]."),
    seed: int = typer.Option(0, "--seed"),
    out: str | None = typer.Option(
        None, "--out", help="Write the dispatch record (input of `vpp settle`) here."
    ),
    db: str | None = DB_OPTION,
    lessee: str | None = LESSEE_OPTION,
) -> None:
    """Dispatch an event across depots at least cost; every depot's new night is checked by the charging checker."""
    from charging.dispatch import DispatchError, Event
    from fleet.services import vpp as svc

    event = Event(_time(start, "--start"), _time(end, "--end"), direction, target_kw, price)
    try:
        event.validate()
    except DispatchError as exc:
        raise fail(str(exc)) from None
    with scoped_session(db, lessee) as (session, _scope):
        view = svc.dispatch_event(
            session, lessee, _date(date), event, zone=zone, wear_cny_per_kwh=wear, floor_soc=floor_soc,
            time_limit_s=time_limit, seed=seed,
        )  # fmt: skip
    r = view.result
    slots = Table(title=f"Event {direction} {start} - {end}: {r.status}, solved in {r.solve_s:.2f} s [kW]")
    for col in ("slot", "target", "delivered", "short"):
        slots.add_column(col, justify="right")
    for s in view.slots.itertuples():
        slots.add_row(s.slot_start[11:16], _f(s.target_kw), _f(s.delivered_kw), _f(s.shortfall_kw))
    console.print(slots)
    depots = Table(title="Per depot")
    for col in ("depot", "zone", "response kWh", "V2G kWh", "cost change CNY", "trucks ready", "checker"):
        depots.add_column(col, justify="left" if col in ("depot", "zone", "checker") else "right")
    for d in view.depots.itertuples():
        depots.add_row(
            d.depot, d.zone, _f(d.response_kwh, 2), _f(d.v2g_kwh, 2), _f(d.cost_change_cny, 2),
            f"{d.trucks_ready}/{d.trucks}", "ok" if d.check_ok else f"[red]{d.violations}[/]",
        )  # fmt: skip
    console.print(depots)
    if out:
        Path(out).write_text(json.dumps(view.record, indent=1, ensure_ascii=False), encoding="utf-8")
        err_console.print(f"wrote {out}")
    if not view.all_ready:
        raise fail("a re-planned night failed the charging checker or left a truck short (see the table)")


@vpp_app.command("settle")
def settle_cmd(
    dispatch_file: str = typer.Option(..., "--dispatch", help="The record written by `vpp dispatch --out`."),
    previous_days: int = typer.Option(5, "--previous-days", help="Baseline: average of the previous N days."),
    similar: str = typer.Option("day_type", "--similar", help="day_type (workday/weekend) or any."),
    measured: str = typer.Option(
        "meter",
        "--measured",
        help="meter (site meter on the event day) or dispatch (what-if: the dispatched import).",
    ),
    out: str | None = typer.Option(None, "--out", help="Write the settlement as JSON here."),
    db: str | None = DB_OPTION,
    lessee: str | None = LESSEE_OPTION,
) -> None:
    """Settle a dispatched event: response against the baseline, revenue split lessor/lessee per lease."""
    from fleet.services import vpp as svc
    from fleet.vpp.settlement import BaselineMethod

    try:
        record = json.loads(Path(dispatch_file).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise fail(f"--dispatch {dispatch_file}: {exc}") from None
    with scoped_session(db, lessee) as (session, _scope):
        view = svc.settle(session, lessee, record, BaselineMethod(previous_days, similar), measured=measured)
    table = Table(
        title=f"Settlement at {record['event']['price_cny_per_kwh']} CNY/kWh; baseline: {view.method}"
    )
    for col in ("depot", "baseline days", "baseline kWh", "measured kWh", "response kWh", "revenue CNY"):
        table.add_column(col, justify="left" if col in ("depot", "baseline days") else "right")
    for d in view.depots.itertuples():
        table.add_row(
            d.depot, d.baseline_days, _f(d.baseline_kwh, 2), _f(d.measured_kwh, 2), _f(d.response_kwh, 2),
            _f(d.revenue_cny, 2),
        )  # fmt: skip
    console.print(table)
    t = view.totals
    console.print(
        f"revenue {t['revenue_cny']:,.2f} CNY: lessees {t['lessee_cny']:,.2f}, lessor {t['lessor_cny']:,.2f}"
    )
    if out:
        payload = {
            "method": view.method,
            "depots": view.depots.to_dict("records"),
            "leases": view.leases.to_dict("records"),
            "totals": t,
        }
        Path(out).write_text(json.dumps(payload, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
        err_console.print(f"wrote {out}")


def bench_vpp_cmd(
    depots: int = typer.Option(100, "--depots"),
    trucks: int = typer.Option(80, "--trucks", help="Trucks per depot."),
    target_kw: float = typer.Option(
        5000.0, "--target-kw", help="Zone target per slot (5 MW: the Guangdong VPP floor)."
    ),
    price: float = typer.Option(4.0, "--price", help="CNY per kWh of response (Shenzhen V2G events: 4)."),
    wear: list[float] = typer.Option(
        [0.3, 5.0],
        "--wear",
        help="Battery wear cost [CNY/kWh discharged]; repeatable (its effect is the point).",
    ),
    seed: int = typer.Option(0, "--seed"),
    time_limit: float = typer.Option(300.0, "--time-limit"),
    out: str = typer.Option("bench-results/vpp.json", "--out"),
) -> None:
    """An event across N synthetic depots: dispatch time, kW against target per slot, trucks ready (checked)."""
    from fleet.vpp.bench import rows_json, run_vpp_bench

    rows, meta = run_vpp_bench(
        depots, trucks, target_kw=target_kw, price_cny_per_kwh=price, wears=tuple(wear), seed=seed,
        time_limit_s=time_limit,
    )  # fmt: skip
    table = Table(title=f"VPP event benchmark: {meta['event']['start']} - {meta['event']['end'][11:16]}, "
                  f"{depots} synthetic depots (plans {meta['plan_s']} s)")  # fmt: skip
    for col in (
        "wear CNY/kWh", "status", "dispatch s (build+solve)", "CPU s", "vars", "target kW", "min delivered kW",
        "V2G kWh", "cost change CNY", "revenue CNY", "lessee | lessor", "trucks ready", "depots checked ok",
    ):  # fmt: skip
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            _f(r.wear_cny_per_kwh, 2), r.status, f"{r.dispatch_wall_s} ({r.build_s}+{r.solve_s})", str(r.dispatch_cpu_s),
            f"{r.n_vars:,}", _f(r.target_kw), _f(r.min_delivered_kw), _f(r.v2g_kwh), _f(r.cost_change_cny, 2),
            _f(r.revenue_cny, 2), f"{r.lessee_cny:,.2f} | {r.lessor_cny:,.2f}", f"{r.trucks_ready}/{r.trucks}",
            f"{r.depots_checked_ok}/{r.depots}",
        )  # fmt: skip
    console.print(table)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps({"meta": meta, "results": rows_json(rows)}, indent=2), encoding="utf-8")
    err_console.print(f"wrote {out}")
    if any(r.trucks_ready < r.trucks or r.depots_checked_ok < r.depots for r in rows):
        raise fail("a dispatched night left a truck short or failed the charging checker")


def bench_scale_cmd(
    db: str = typer.Option(
        ..., "--db", help="A PostgreSQL database of its own (createdb evfleet_scale), never a test one."
    ),
    fraction: float = typer.Option(
        0.05, "--fraction", help="Share of the 1,000 depots / 80,000 trucks / 200 lessees."
    ),
    days: int = typer.Option(365, "--days", help="Metered days per truck (a year: 365)."),
    skip_load: bool = typer.Option(False, "--skip-load", help="Measure on the rows already loaded."),
    orders: bool = typer.Option(
        True,
        "--orders/--no-orders",
        help="Load a service day of orders per depot with the lessor (the day after the metered days); the "
        "nightly loads them for its depots when missing.",
    ),
    package: bool = typer.Option(True, "--package/--no-package", help="Time one lessee's annual package."),
    lessee: str = typer.Option("SYN-LE-001", "--lessee", help="Lessee whose annual package is built."),
    year: int = typer.Option(2025, "--year"),
    pages: bool = typer.Option(True, "--pages/--no-pages", help="Time every app page on the database."),
    lessor_pages: bool = typer.Option(
        True,
        "--lessor-pages/--no-lessor-pages",
        help="Also the lessor's whole view (its Overview/Emissions load every vehicle-day: off at full size).",
    ),
    nightly_depots: int = typer.Option(
        100, "--nightly-depots", help="Depots for the 1- and 2-worker nightly (0: skip)."
    ),
    nightly_time_limit: float = typer.Option(
        5.0,
        "--nightly-time-limit",
        help="Routing time limit per depot [s] (an 80-truck depot's construction and model build take 4-5 s "
        "of CPU before the search: below that the constructed routes are the answer).",
    ),
    nightly_charging_limit: float = typer.Option(
        10.0,
        "--nightly-charging-limit",
        help="Charging time limit per depot [s] (with 3 s, CP-SAT's power steps for 80 trucks often ended "
        "without a solution on a loaded machine and left their trucks idle).",
    ),
    nightly_workers: str = typer.Option(
        "1,2", "--nightly-workers", help="Worker counts to run, comma-separated (the model needs 1 and 2)."
    ),
    seed: int = typer.Option(0, "--seed"),
    out: str = typer.Option("bench-results/scale.json", "--out"),
) -> None:
    """A lessor at scale: COPY load rate, one lessee's annual package, app pages, nightly throughput and model."""
    from dataclasses import asdict

    from fleet.vpp import bench_scale as b
    from fleet.vpp.scale import ScaleSpec

    result: dict[str, object] = {"benchmark": "scale"}
    if not skip_load:
        spec = ScaleSpec(days=days, seed=seed).fraction(fraction)
        err_console.print(
            f"loading {spec.rows:,} vehicle-days ({spec.depots} depots, {spec.trucks} trucks) ..."
        )
        result["load"] = load = b.measure_load(db, spec, orders=orders)
        console.print(
            f"load: {load['rows']:,} rows, COPY {load['copy_s']} s = {load['rows_per_s_copy']:,} rows/s; with indexes "
            f"and foreign keys restored {load['rows_per_s_with_indexes']:,} rows/s; 29.2 M rows extrapolated "
            f"{load['extrapolated_full_load_s']} s (load average {load['load_average']})"
        )
    rows = b.table_rows(db)
    result["vehicleday_rows"] = rows
    if package:
        result["package"] = pkg = b.measure_package(db, lessee, year)
        console.print(
            f"annual package of {lessee} {year} from {rows:,} rows: {pkg['wall_s']} s wall, {pkg['cpu_s']} s "
            f"CPU (limit 60 s; load average {pkg['load_average']})"
        )
    if pages:
        result["pages"] = page_rows = b.measure_pages(db, lessee, year) + (
            b.measure_pages(db, None, year) if lessor_pages else []
        )
        table = Table(title=f"App pages on {rows:,} vehicle-days (AppTest render, seconds; limit 2 s)")
        for col in ("page", "scope", "seconds", "≤ 2 s", "exception / warning"):
            table.add_column(col, justify="right" if col == "seconds" else "left")
        for p in page_rows:
            table.add_row(
                p["page"], p["scope"], f"{p['seconds']:.2f}", "yes" if p["within_2_s"] else "[red]no[/]",
                (p["exception"] or p["warning"])[:80],
            )  # fmt: skip
        console.print(table)
        console.print(
            f"page modules imported before the first render (the app's server does this before it listens): "
            f"{page_rows[0]['server_imports_s'] if page_rows else 0:.2f} s"
        )
    if nightly_depots:
        service_day = ScaleSpec(days=days).service_day
        counts = tuple(int(w) for w in nightly_workers.split(",") if w.strip())
        nightly, model = b.measure_nightly(
            db, nightly_depots, nightly_time_limit, nightly_charging_limit, seed, service_day, counts
        )
        result["nightly"] = {
            "service_day": service_day.isoformat(),
            "routing_time_limit_s": nightly_time_limit,
            "charging_time_limit_s": nightly_charging_limit,
            "rows": nightly,
            "model": asdict(model) if model else None,
            **b._stamp(),
        }
        table = Table(
            title=f"Nightly + reduce on {nightly_depots} synthetic depots (80 trucks each), {service_day}; "
            f"limits: routing {nightly_time_limit} s, charging {nightly_charging_limit} s"
        )
        cols = (
            "workers", "ok", "wall s", "map s", "reduce s", "CPU s", "depots/min", "speedup", "orders",
            "unserved", "km/truck", "ready", "checked", "load",
        )  # fmt: skip
        for col in cols:
            table.add_column(col, justify="right")
        for r in nightly:
            table.add_row(
                str(r["workers"]), f"{r['succeeded']}/{r['depots']}", str(r["seconds"]), str(r["map_s"]),
                str(r["reduce_s"]), f"{r['cpu_driver_s'] + r['cpu_workers_s']:.1f}", str(r["depots_per_minute"]),
                str(r["speedup"]), f"{r['orders']:,}", str(r["unserved"]),
                f"{r['routed_km'] / max(1, r['trucks_used']):.1f}", f"{r['trucks_ready']}/{r['trucks_overnight']}",
                f"{r['route_plans_checked']}+{r['charging_plans_checked']}", f"{r['load_before'][0]}-{r['load_after'][0]}",
            )  # fmt: skip
        console.print(table)
        if model:
            console.print(
                f"modelled 1,000 depots on 64 workers: {model.modelled_1000_on_64_s:,.0f} s (fluid bound "
                f"{model.modelled_1000_on_64_fluid_s:,.0f} s; t_depot {model.per_depot_s} s wall, "
                f"{model.per_depot_cpu_s} s CPU; 2-worker efficiency {model.efficiency_2}); {model.method}"
            )
        failures = [f for r in nightly for f in r["check_failures"]]
        if failures or any(r["succeeded"] < r["depots"] for r in nightly):
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            Path(out).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
            raise fail(
                f"nightly: a depot failed or a stored plan failed its checker ({len(failures)}): {failures[:3]}"
            )
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    err_console.print(f"wrote {out}")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add `vpp flex|dispatch|settle` and `bench vpp`."""
    app.add_typer(
        vpp_app, name="vpp", help="The fleet as a virtual power plant: flexibility, dispatch, settlement."
    )
    bench.command("vpp", help="One event across N synthetic depots; table + JSON.")(bench_vpp_cmd)
    bench.command("scale", help="A synthetic lessor on PostgreSQL: load, package, pages, nightly; JSON.")(
        bench_scale_cmd
    )
