"""`evfleet csms serve|simulate` (the charging station management system) and `evfleet bench charging-rolling`."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import platform
import time
from pathlib import Path

import typer
from rich.table import Table

from fleet.cli.common import DB_OPTION, console, err_console, fail


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0 for all)."),
    port: int = typer.Option(
        9000, "--port", help="TCP port; chargers connect to ws://HOST:PORT/<connector code>."
    ),
    depot: str = typer.Option(..., "--depot", help="Depot code whose chargers connect here, e.g. SZ-BA."),
    date: str | None = typer.Option(
        None, "--date", help="Service date whose plan to send (default: tomorrow)."
    ),
    check_every: float = typer.Option(60.0, "--check-every", help="Deviation check interval [s]."),
    db: str | None = DB_OPTION,
) -> None:
    """Run the CSMS for one depot: OCPP 1.6J and 2.0.1 chargers get tonight's plan as charging profiles."""
    from sqlmodel import Session

    from fleet.csms.hub import CentralSystem
    from fleet.csms.ocpp_adapter import run_forever
    from fleet.csms.scenario import replanner_for
    from fleet.csms.store import DbRecorder, load_directory, night_plan_from_db, stored_problem
    from fleet.db import database_url, get_engine

    try:
        day = dt.date.fromisoformat(date) if date else dt.date.today() + dt.timedelta(days=1)
    except ValueError:
        raise fail(f"--date {date!r} is not a date (YYYY-MM-DD)") from None
    engine = get_engine(database_url(db))
    with Session(engine) as session:
        try:
            directory = load_directory(session, depot)
        except ValueError as exc:
            raise fail(str(exc)) from None
        plan = night_plan_from_db(session, directory, day)
        problem = stored_problem(session, directory, day) if plan else None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("ocpp").setLevel(logging.WARNING)  # the library logs every message at INFO
    logging.getLogger("websockets").setLevel(logging.WARNING)
    vins = {v.plate: tag for tag, v in directory.vehicles_by_tag.items()}
    replanner = replanner_for(problem, vins) if problem is not None else None
    hub = CentralSystem(
        directory.tags, DbRecorder(engine, directory, day), push_on_boot=True, replanner=replanner
    )
    hub.plan = plan
    err_console.print(
        f"depot {depot}: {len(directory.connectors)} connectors, {len(directory.tags)} trucks, "
        + (f"plan for {day} on {len(plan.profiles)} connectors" if plan else f"no current plan for {day}")
    )
    try:
        asyncio.run(run_forever(hub, host, port, check_every))
    except KeyboardInterrupt:
        err_console.print("stopped")


def simulate_command(
    trucks: int = typer.Option(10, "--trucks", help="Trucks (one charger each) on a synthetic depot."),
    seed: int = typer.Option(1, "--seed", help="Seed of the synthetic depot."),
    speed: float = typer.Option(12000.0, "--speed", help="Simulated seconds per real second."),
    misbehave: str = typer.Option(
        "ignore,reject",
        "--misbehave",
        help="Comma list, one truck each: reject, ignore, no_readback, disconnect, drop_meter.",
    ),
    late_min: float = typer.Option(
        150.0, "--late-min", help="The last truck comes back this late [min] (0: none)."
    ),
) -> None:
    """Demo: the CSMS and simulated chargers (OCPP 1.6J and 2.0.1 alternating) through a compressed night."""
    from charging import schedule, synthetic_depot
    from fleet.csms.scenario import run_simulated_night

    kinds = [m.strip() for m in misbehave.split(",") if m.strip()]
    problem = synthetic_depot(trucks, seed=seed)
    day_ahead = schedule(problem, time_limit_s=10.0, baselines=False)
    order = sorted(day_ahead.vehicles, key=lambda v: v.connector or "")
    if len(kinds) >= len(order):
        raise fail("--misbehave names more trucks than --trucks")
    behaviours = {v.id: k for v, k in zip(order, kinds, strict=False)}
    late = {order[-1].id: late_min} if late_min > 0 else {}
    try:
        night = asyncio.run(
            run_simulated_night(problem, day_ahead, behaviours=behaviours, late=late, speed=speed)
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    table = Table(
        title=f"Simulated night: {trucks} chargers, seed {seed}, {(night.hub.replans and 'with') or 'no'} re-plan"
    )
    for col in ("charger", "OCPP", "behaviour", "truck", "planned kWh", "metered kWh", "read-back", "alerts"):
        table.add_column(col)
    sessions = {r.plate: r.kwh for r in night.hub.recorder.sessions}  # type: ignore[attr-defined]
    for sim in night.sims:
        assert sim.truck is not None
        ref = next(r for r in night.plan.profiles if r.charger_id == sim.charger_id)
        kinds_raised = sorted({a.kind for a in night.hub.alerts if a.plate == sim.truck.plate})
        table.add_row(
            sim.charger_id,
            sim.version,
            sim.behaviour,
            sim.truck.plate,
            f"{sim.truck.need_kwh:.1f}",
            f"{sessions.get(sim.truck.plate, 0.0):.1f}",
            night.verdicts.get(ref, ""),
            ", ".join(kinds_raised),
        )
    console.print(table)
    for at, which in night.hub.replans:
        console.print(f"re-planned at {at:%H:%M} (late: {which})")


def bench_rolling_command(
    sizes: str = typer.Option("50,200", "--sizes", help="Depot sizes (trucks, one connector each)."),
    seed: int = typer.Option(1, "--seed", help="Seed of the depots and of the noise."),
    nights: int = typer.Option(3, "--nights", help="Noisy nights per size (seeds seed..seed+nights-1)."),
    sigma_arrival: float = typer.Option(30.0, "--sigma-arrival", help="Arrival time noise, std dev [min]."),
    p_late: float = typer.Option(0.1, "--p-late", help="Share of trucks a further --late-min late."),
    late_min: float = typer.Option(120.0, "--late-min", help="Extra lateness of the late trucks [min]."),
    sigma_energy: float = typer.Option(0.15, "--sigma-energy", help="Arrival energy noise, share of need."),
    time_limit: float = typer.Option(1.0, "--time-limit", help="Budget of each re-plan [s]."),
    out: Path | None = typer.Option(None, "--out", help="Write the rows as JSON here."),
) -> None:
    """Rolling-horizon simulation: day-ahead plan as published vs re-planning vs baselines, under seeded noise."""
    from charging import schedule, synthetic_depot
    from charging.rolling import Noise, hindsight, simulate

    try:
        ns = [int(x) for x in sizes.split(",") if x.strip()]
    except ValueError:
        raise fail("--sizes is like 50,200") from None
    noise = Noise(sigma_arrival, p_late, late_min, sigma_energy)
    rows = []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for n in ns:
        problem = synthetic_depot(n, seed=seed)
        day_ahead = schedule(problem, time_limit_s=60.0, baselines=False)
        for night in range(seed, seed + nights):
            real, results = simulate(problem, day_ahead, noise, night, time_limit_s=time_limit)
            for r in [*results, hindsight(real)]:
                rows.append(
                    {"trucks": n, "night_seed": night, **r.__dict__, "night_cny": round(r.night_cny, 2)}
                )
    table = Table(
        title=f"Rolling re-plan vs day-ahead vs baselines (synthetic depots, seed {seed}; {noise.describe()})"
    )
    for col in (
        "trucks",
        "policy",
        "nights",
        "night bill CNY",
        "energy CNY",
        "peak kW",
        "trucks ready",
        "short kWh",
        "re-plans (not optimal, EDF)",
        "max re-plan s",
    ):
        table.add_column(col, justify="left" if col == "policy" else "right")
    for n in ns:
        names = list(dict.fromkeys(r["name"] for r in rows if r["trucks"] == n))
        for name in names:
            rs = [r for r in rows if r["trucks"] == n and r["name"] == name]
            k = len(rs)
            table.add_row(
                str(n),
                name,
                str(k),
                f"{sum(r['night_cny'] for r in rs) / k:,.0f}",
                f"{sum(r['energy_cny'] for r in rs) / k:,.0f}",
                f"{max(r['peak_kw'] for r in rs):,.0f}",
                f"{sum(r['ready'] for r in rs)} of {sum(r['trucks'] for r in rs)}",
                f"{sum(r['shortfall_kwh'] for r in rs):,.1f}",
                f"{sum(r['replans'] for r in rs)} ({sum(r['not_optimal'] for r in rs)}, {sum(r['fallbacks'] for r in rs)})"
                if name == "rolling"
                else "",
                f"{max(r['replan_max_s'] for r in rs):.2f}" if name == "rolling" else "",
                end_section=name == names[-1],
            )
    console.print(table)
    console.print(
        f"bills: mean per night (energy + demand charge pro-rated per night); wall {time.perf_counter() - wall0:.1f} s,"
        f" CPU {time.process_time() - cpu0:.1f} s, load {os.getloadavg()[0]:.1f}"
    )
    if out is not None:
        payload = {
            "benchmark": "charging-rolling",
            "seed": seed,
            "nights": nights,
            "noise": noise.__dict__,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load": os.getloadavg()[0],
            },
            "rows": rows,
        }
        try:
            out.write_text(json.dumps(payload, indent=1), encoding="utf-8")
        except OSError as exc:
            raise fail(f"{out}: cannot write ({exc.strerror or exc})") from None
        console.print(f"wrote {out}")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add `csms serve`, `csms simulate` and `bench charging-rolling`."""
    csms = typer.Typer(
        help="Charging station management: OCPP 1.6J / 2.0.1 chargers run the plan.", no_args_is_help=True
    )
    csms.command("serve", help="Serve one depot's chargers over OCPP (WebSocket); send tonight's plan.")(
        serve_command
    )
    csms.command("simulate", help="Demo: the CSMS and simulated chargers through a compressed night.")(
        simulate_command
    )
    app.add_typer(csms, name="csms", help="OCPP central system: profiles out, meter values back, alerts.")
    bench.command(
        "charging-rolling", help="Rolling re-plan vs day-ahead vs baselines under noise; table + JSON."
    )(bench_rolling_command)
