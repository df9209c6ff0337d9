"""`evfleet charge solve` and `evfleet bench charging`: thin faces on the pure `charging` library."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from fleet.cli.common import DB_OPTION, LESSEE_OPTION, fail, scoped_session

if TYPE_CHECKING:  # the solver stack (OR-Tools, SciPy) is imported by the commands, not at CLI start-up
    from charging.problem import ChargingProblem

OBJECTIVES = ("cost", "peak", "carbon")

console = Console(width=None if sys.stdout.isatty() else 200)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _load_scenario(path: Path) -> ChargingProblem:
    from charging.problem import ChargingProblem, ScenarioError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        _fail(f"{path}: cannot read ({exc.strerror or exc})")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        _fail(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    try:
        return ChargingProblem.from_json(data)
    except ScenarioError as exc:
        _fail(f"{path}: {exc}")
    raise AssertionError("unreachable")  # pragma: no cover


def _read_sessions(path: Path) -> list[tuple[str, Any, Any, float]]:
    """Metered sessions for the "observed" baseline: CSV with columns vehicle, start, end, kwh (ISO 8601 times
    with their UTC offset, grid-side kWh). Every bad row is named."""
    import csv
    import datetime as dt

    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        _fail(f"{path}: cannot read ({exc.strerror or exc})")
    rows = list(csv.DictReader(text.splitlines()))
    missing = {"vehicle", "start", "end", "kwh"} - set(rows[0] if rows else ())
    if missing:
        _fail(f"{path}: columns vehicle, start, end, kwh expected; missing {', '.join(sorted(missing))}")
    out, errors = [], []
    for n, row in enumerate(rows, start=2):
        try:
            start = dt.datetime.fromisoformat(row["start"].strip())
            end = dt.datetime.fromisoformat(row["end"].strip())
        except ValueError:
            errors.append(f"row {n}: start/end must be ISO 8601 times, e.g. 2026-11-24T22:00:00+08:00")
            continue
        if start.tzinfo is None or end.tzinfo is None:
            errors.append(f"row {n}: start/end need their UTC offset (+08:00 in Shenzhen)")
            continue
        try:
            kwh = float(row["kwh"])
        except ValueError:
            errors.append(f"row {n}: kwh {row['kwh']!r} is not a number")
            continue
        if not end > start or not kwh >= 0:
            errors.append(f"row {n}: end must be after start and kwh >= 0")
            continue
        out.append((row["vehicle"].strip(), start, end, kwh))
    if errors:
        _fail(
            f"{path}: "
            + "; ".join(errors[:10])
            + (f" (and {len(errors) - 10} more)" if len(errors) > 10 else "")
        )
    return out


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def solve_command(
    scenario: Path = typer.Argument(..., help="Scenario JSON (see docs/charging.md)."),
    out: Path = typer.Option(..., "--out", help="Where to write the schedule JSON."),
    objective: str = typer.Option("cost", "--objective", help="cost | peak | carbon"),
    time_limit: float = typer.Option(60.0, "--time-limit", help="Solver budget [s]."),
    seed: int = typer.Option(0, "--seed", help="CP-SAT random seed."),
    workers: int = typer.Option(2, "--workers", help="CP-SAT worker threads."),
    observed: Path | None = typer.Option(
        None,
        "--observed",
        help="Metered sessions of the night (CSV: vehicle, start, end, kwh): adds the 'observed' baseline, what "
        "the depot really did.",
    ),
) -> None:
    """Optimise one depot charging scenario and write the schedule JSON.

    The table shows energy and the night's pro-rated demand charge apart (monthly charge on the night's site
    peak ÷ days in the month), never a month's demand charge booked on one night (docs/charging-economics.md).
    """
    from charging.baselines import observed as observed_baseline
    from charging.baselines import summarize
    from charging.check import check
    from charging.optimize import schedule

    if objective not in OBJECTIVES:
        _fail(f"--objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if time_limit <= 0:
        _fail("--time-limit must be > 0 seconds")
    problem = _load_scenario(scenario)
    sessions = _read_sessions(observed) if observed is not None else None
    try:
        result = schedule(
            problem, objective=objective, time_limit_s=time_limit, seed=seed, num_workers=workers
        )
    except RuntimeError as exc:  # solver gave up (e.g. time limit before any solution)
        typer.echo(f"error: {scenario}: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    if sessions is not None:
        from dataclasses import replace

        seen = summarize("observed", observed_baseline(problem, sessions), result.cost)
        result = replace(result, baselines={**result.baselines, "observed": seen})
    report = check(problem, result)
    data = result.to_json()
    data["check"] = {"ok": report.ok, "violations": [v.message for v in report.violations]}
    try:
        out.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError as exc:
        _fail(f"{out}: cannot write ({exc.strerror or exc})")
    table = Table(
        title=f"{scenario.name}: {result.status} ({result.solver}); one night, demand charge pro-rated "
        "(monthly charge on the night's peak ÷ days in the month)"
    )
    for col in (
        "plan",
        "energy CNY",
        "demand CNY/night",
        "night bill CNY",
        "peak kW",
        "carbon kg",
        "short kWh",
        "energy saving %",
        "night-bill saving %",
    ):
        table.add_column(col, justify="right")
    shortfall = sum(u.shortfall_kwh for u in result.unmet)
    table.add_row(
        "optimised",
        _money(result.cost.energy),
        _money(result.cost.demand_night),
        _money(result.cost.night_bill),
        f"{result.peak_kw:,.1f}",
        f"{result.carbon_kg:,.1f}",
        f"{shortfall:,.2f}",
        "",
        "",
    )
    for name, b in result.baselines.items():
        energy_pct = (
            None
            if b.energy_savings_cny is None or abs(b.cost.energy) <= 1e-9
            else 100.0 * b.energy_savings_cny / b.cost.energy
        )
        table.add_row(
            name,
            _money(b.cost.energy),
            _money(b.cost.demand_night),
            _money(b.cost.night_bill),
            f"{b.peak_kw:,.1f}",
            f"{b.carbon_kg:,.1f}",
            f"{b.shortfall_kwh:,.2f}",
            "" if energy_pct is None else f"{energy_pct:.1f}",
            "" if b.night_savings_pct is None else f"{b.night_savings_pct:.1f}",
        )
    console.print(table)
    if result.cost.demand > 0:
        console.print(
            f"the optimiser also priced the month's peak increase: {result.cost.demand:,.2f} CNY for the whole "
            "month (its objective, not a one-night cost)"
        )
    for u in result.unmet:
        console.print(f"[yellow]unmet[/] {u.id}: {u.shortfall_kwh:.2f} kWh short — {u.reason}")
    for w in result.warnings:
        console.print(f"[yellow]warning[/] {w}")
    if not report.ok:
        console.print(f"[red]checker found {len(report.violations)} violations[/] (listed in {out})")
        raise typer.Exit(code=1)
    console.print(f"checker: ok; wrote {out}")


def _pct(saving: float | None, of: float) -> float | None:
    return None if saving is None or abs(of) < 1e-9 else round(100.0 * saving / of, 2)


def _pair(row: dict[str, Any] | None, a: str, b: str, fmt: str, short: bool = False) -> str:
    """Two figures of a baseline; with `short`, its undelivered kWh after them (a baseline that leaves trucks
    short looks cheaper than it is)."""
    if row is None:
        return "-"
    text = " | ".join("-" if row.get(k) is None else fmt.format(row[k]) for k in (a, b))
    if short and row.get("shortfall_kwh"):
        text += f" (short {row['shortfall_kwh']:,.0f} kWh)"
    return text


def _short(basis: str | None) -> str:
    return {"column generation (Lagrangian)": "columns", "MIP bound": "MIP", "LP relaxation": "LP"}.get(
        basis or "", "-"
    )


def _bound_basis(result: Any) -> str | None:
    """What the lower bound behind the reported gap is: the LP relaxation, the column-generation (Lagrangian)
    bound of charging/columns.py, or the sharing MIP's own proven bound."""
    if result.best_bound is not None:
        return "column generation (Lagrangian)" if "column bound" in result.solver else "MIP bound"
    return None if result.lp_bound is None else "LP relaxation"


def _bench_row(
    n: int,
    connectors: int | None,
    seed: int,
    time_limit: float,
    workers: int,
    tariff_id: str,
    site_kw: float | None = None,
    problem: ChargingProblem | None = None,
) -> dict[str, Any]:
    from charging.check import check
    from charging.optimize import schedule
    from charging.synthetic import synthetic_depot

    if problem is None:
        problem = synthetic_depot(n, seed=seed, n_connectors=connectors, tariff_id=tariff_id, site_kw=site_kw)
        name = "synthetic"
    else:
        n, tariff_id, name = (
            len(problem.vehicles),
            problem.tariff.source_id or "explicit periods",
            problem.name,
        )
    t0 = time.perf_counter()
    result = schedule(problem, time_limit_s=time_limit, seed=seed, num_workers=workers)
    wall = time.perf_counter() - t0
    report = check(problem, result)
    return {
        "scenario": name,
        "vehicles": n,
        "connectors": len(problem.connectors),
        "slots": problem.n_slots,
        "tariff": tariff_id,
        "site_kw": problem.site.import_limit_kw,
        "status": result.status,
        "solver": result.solver,
        "optimise_s": round(result.timings_s["optimise_s"], 3),
        "total_s": round(wall, 3),
        "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
        "cost_cny": round(result.cost.total, 2),
        "peak_kw": round(result.peak_kw, 1),
        "carbon_kg": round(result.carbon_kg, 1),
        "shortfall_kwh": round(sum(u.shortfall_kwh for u in result.unmet), 3),
        "gap": result.gap,
        "lp_bound": result.lp_bound,
        # The gap as reported: to the strongest valid lower bound, and which bound that is.
        "bound": result.best_bound if result.best_bound is not None else result.lp_bound,
        "bound_basis": _bound_basis(result),
        "gap_to_bound": result.gap_to_best_bound,
        # The night as billed, energy and demand apart (demand = the month's charge on the night's peak ÷ days),
        # for the plan and every baseline, and the plan's savings on each basis; never a blended headline.
        "energy_cny": round(result.cost.energy, 2),
        "demand_night_cny": round(result.cost.demand_night or 0.0, 2),
        "baselines": {
            name: {
                **b.bill(),
                "energy_saving_pct": _pct(b.energy_savings_cny, b.cost.energy),
                "objective_saving_pct": None if b.savings_pct is None else round(b.savings_pct, 2),
            }
            for name, b in result.baselines.items()
        },
        "check_ok": report.ok,
        "violations": len(report.violations),
    }


def bench_command(
    sizes: str = typer.Option(
        "50,200,500,1000,5000", "--sizes", help="Vehicle counts, one connector each (5,000: target <= 10 s)."
    ),
    shared: str = typer.Option(
        "50:25,200:100,200:30,500:250,1000:500",
        "--shared",
        help="vehicles:connectors pairs with connector sharing ('' for none); 200:30 targets 1 % of the bound.",
    ),
    tight: str = typer.Option(
        "200:7.2", "--tight", help="vehicles:kW-per-vehicle pairs with a tight site limit ('' for none)."
    ),
    seed: int = typer.Option(1, "--seed", help="Seed of the synthetic depots and CP-SAT."),
    time_limit: float = typer.Option(60.0, "--time-limit", help="Solver budget per instance [s]."),
    workers: int = typer.Option(2, "--workers", help="CP-SAT worker threads."),
    tariff: str = typer.Option(
        "gd_ic_tou_2021", "--tariff", help="tariffs.json id: gd_ic_tou_2021 | sz_market_tou_2024"
    ),
    scenario: list[Path] | None = typer.Option(
        None, "--scenario", help="Also run this scenario JSON (repeatable), e.g. demo depots."
    ),
    out: Path | None = typer.Option(None, "--out", help="Write the rows as JSON here."),
) -> None:
    """Benchmark the charging optimiser on synthetic Shenzhen depots; prints a table, writes JSON."""
    try:
        plain = [int(x) for x in sizes.split(",") if x.strip()]
        pairs = [tuple(int(y) for y in x.split(":")) for x in shared.split(",") if x.strip()]
        tights = [(int(x.split(":")[0]), float(x.split(":")[1])) for x in tight.split(",") if x.strip()]
    except (ValueError, IndexError):
        _fail("--sizes is like 50,200, --shared like 200:100,500:250 and --tight like 200:7.2")
    if any(len(p) != 2 or p[0] <= 0 or p[1] <= 0 for p in pairs) or any(n <= 0 for n in plain):
        _fail("--shared pairs are vehicles:connectors with positive counts; --sizes are positive")
    rows = []
    for n in plain:
        rows.append(_bench_row(n, None, seed, time_limit, workers, tariff))
    for n, k in pairs:
        rows.append(_bench_row(n, k, seed, time_limit, workers, tariff))
    for n, per_vehicle in tights:
        rows.append(_bench_row(n, None, seed, time_limit, workers, tariff, site_kw=n * per_vehicle))
    for path in scenario or []:
        rows.append(_bench_row(0, None, seed, time_limit, workers, tariff, problem=_load_scenario(path)))
    table = Table(title=f"charging benchmark (synthetic Shenzhen depots, seed {seed}, {tariff})")
    for col in (
        "scenario",
        "tariff",
        "vehicles",
        "connectors",
        "site kW",
        "status",
        "time s",
        "gap % (bound)",
        "energy | demand/night CNY",
        "peak kW",
        "short kWh",
        "uncontrolled energy | demand",
        "balanced energy | demand",
        "saved vs unc. energy | night %",
        "saved vs balanced energy | night %",
        "check",
    ):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            r["scenario"][:28],
            r["tariff"],
            str(r["vehicles"]),
            str(r["connectors"]),
            f"{r['site_kw']:,.0f}",
            r["status"],
            f"{r['optimise_s']:.2f}",
            ""
            if r["gap_to_bound"] is None
            else f"{100 * r['gap_to_bound']:.3f} ({_short(r['bound_basis'])})",
            f"{r['energy_cny']:,.0f} | {r['demand_night_cny']:,.0f}",
            f"{r['peak_kw']:,.0f}",
            f"{r['shortfall_kwh']:,.1f}",
            _pair(
                r["baselines"].get("uncontrolled"), "energy_cny", "demand_night_cny", "{:,.0f}", short=True
            ),
            _pair(r["baselines"].get("balanced"), "energy_cny", "demand_night_cny", "{:,.0f}", short=True),
            _pair(r["baselines"].get("uncontrolled"), "energy_saving_pct", "night_saving_pct", "{:.1f}"),
            _pair(r["baselines"].get("balanced"), "energy_saving_pct", "night_saving_pct", "{:.1f}"),
            "ok" if r["check_ok"] else f"{r['violations']} violations",
        )
    console.print(table)
    if out is not None:
        payload = {
            "benchmark": "charging",
            "seed": seed,
            "time_limit_s": time_limit,
            "workers": workers,
            "tariff": tariff,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "rows": rows,
        }
        try:
            out.write_text(json.dumps(payload, indent=1), encoding="utf-8")
        except OSError as exc:
            _fail(f"{out}: cannot write ({exc.strerror or exc})")
        console.print(f"wrote {out}")
    if not all(r["check_ok"] for r in rows):
        raise typer.Exit(code=1)


def month_command(
    depot: str = typer.Option(..., "--depot", help="Depot code, e.g. SZ-BA."),
    month: str = typer.Option(..., "--month", help="Billing month YYYY-MM, e.g. 2026-11."),
    out: Path | None = typer.Option(None, "--json", help="Also write the month's bills as JSON here."),
    time_limit: float = typer.Option(20.0, "--time-limit", help="Optimiser budget per night [s]."),
    seed: int = typer.Option(0, "--seed", help="CP-SAT random seed."),
    db: str | None = DB_OPTION,
    lessee: str | None = LESSEE_OPTION,
) -> None:
    """Replay a depot's billing month night by night from its stored plans; bill each policy as the bill would."""
    from charging.month import simulate_month
    from charging.optimize import schedule
    from fleet.planning.month import month_nights, parse_month

    try:
        first = parse_month(month)
    except ValueError as exc:
        raise fail(str(exc), code=2) from None
    with scoped_session(db, lessee) as (session, scope):
        try:
            found = month_nights(session, scope, depot, first)
        except ValueError as exc:
            raise fail(str(exc), code=2) from None
    if not found.nights:
        raise fail(
            f"depot {found.depot_code}: no stored charging plan for a night in {first:%Y-%m}; run "
            "`evfleet nightly --date YYYY-MM-DD` for the service dates first",
            code=1,
        )

    def optimise(p: ChargingProblem):  # type: ignore[no-untyped-def]
        return schedule(p, time_limit_s=time_limit, seed=seed, num_workers=1, baselines=False)

    result = simulate_month(found.nights, found.rules, optimise, observed=found.observed)
    table = Table(
        title=f"{found.depot_code}, billing month {first:%Y-%m}: {result.nights_simulated} of "
        f"{result.days_in_month} nights planned and replayed [CNY]"
    )
    for col in (
        "policy",
        "energy",
        "demand (one charge)",
        "total",
        "peak kW",
        "short kWh",
        "saving (energy | demand | %)",
    ):
        table.add_column(col, justify="left" if col == "policy" else "right")
    for name, bill in result.bills.items():
        saving = ""
        if name != "optimised":
            e, d, pct = result.saving(name)
            saving = f"{e:,.2f} | {d:,.2f} | " + ("-" if pct is None else f"{pct:.1f} %")
        table.add_row(
            name,
            f"{bill.energy_cny:,.2f}",
            f"{bill.demand_cny:,.2f}",
            f"{bill.total_cny:,.2f}",
            f"{bill.peak_kw:,.1f}",
            f"{bill.shortfall_kwh:,.1f}",
            saving,
        )
    console.print(table)
    some = next(iter(result.bills.values())).basic_charge.reason
    console.print(
        f"Energy: the {result.nights_simulated} planned nights at the time-of-use price. Demand: one charge for the "
        f"month on each policy's highest site peak over those nights ({some}). Saving = baseline − optimised. "
        "Site peak = chargers only (no site meter or base load imported).",
        highlight=False,
    )
    if found.missing:
        console.print(
            f"{len(found.missing)} night(s) of the month have no stored plan and are not in the energy."
        )
    if found.observed and result.observed_missing:
        console.print(
            f"observed: no bill, {len(result.observed_missing)} of the planned nights have no imported charging "
            "sessions (an observed month needs every night metered)"
        )
    if out is not None:
        out.write_text(
            json.dumps({"depot": found.depot_code, **result.to_json()}, indent=2), encoding="utf-8"
        )
        console.print(f"wrote {out}")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add `charge solve` and `bench charging`."""
    charge = typer.Typer(
        help="Depot charging: optimise schedules against time-of-use tariffs.", no_args_is_help=True
    )
    charge.command("solve", help="Optimise one scenario JSON and write the schedule JSON.")(solve_command)
    charge.command("month", help="Bill a depot's month night by night: optimised against every baseline.")(
        month_command
    )
    app.add_typer(charge, name="charge", help="Plan depot charging (LP, CP-SAT for shared connectors).")
    bench.command("charging", help="Benchmark the charging optimiser on synthetic depots; table + JSON.")(
        bench_command
    )
