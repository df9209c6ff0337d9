"""Routing commands: `evfleet route solve|check|check-results` and `evfleet bench routing|routing-matrix`."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

console = Console()
if not console.is_terminal:  # piped or captured: wide enough for the side-by-side bench table
    console = Console(width=180)
err = Console(stderr=True)


class Suite(str, Enum):
    solomon = "solomon"
    evrptw = "evrptw"
    homberger = "homberger"


class FileFormat(str, Enum):
    auto = "auto"
    solomon = "solomon"
    evrptw = "evrptw"
    evrp = "evrp"
    json = "json"


class ObjectiveName(str, Enum):
    hierarchical = "hierarchical"
    distance = "distance"
    cost = "cost"


class BenchObjective(str, Enum):
    hierarchical = "hierarchical"
    distance = "distance"


BenchDirOption = Annotated[
    Path | None,
    typer.Option(help="Benchmark folder (default: $EVFLEET_BENCH_DIR or a sibling `shared/bench` checkout)."),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    # soft_wrap: a path in the message stays whole, so it can be copied from the terminal or a log.
    err.print(f"[red]error:[/red] {message}", soft_wrap=True)
    return typer.Exit(code)


def _csv_list(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _secs(e) -> str:
    cpu = e.extra.get("cpu_seconds")
    return f"{e.seconds:.1f}" if cpu is None else f"{e.seconds:.1f}/{cpu:.1f}"


def _gap(x: float | None) -> str:
    return "-" if x is None else f"{round(x, 2) + 0.0:+.2f}"


# --------------------------------------------------------------------------------------------------------------
# evfleet route ...
# --------------------------------------------------------------------------------------------------------------


def route_solve(
    file: Annotated[
        Path,
        typer.Argument(
            help="Problem file: evfleet problem JSON, Solomon/Homberger, E-VRPTW or EVRP (.evrp)."
        ),
    ],
    fmt: Annotated[
        FileFormat, typer.Option("--format", help="Format of FILE (auto: recognised by its content).")
    ] = FileFormat.auto,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Search time limit [s].")] = 10.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed + limit = same search).")] = 0,
    workers: Annotated[int, typer.Option(help="Parallel multi-start processes.")] = 1,
    objective: Annotated[ObjectiveName | None, typer.Option(help="Override the problem's objective.")] = None,
    fleet: Annotated[
        str | None,
        typer.Option(
            help="Fleet size: 'auto' leaves it open (one vehicle per job at most; the search decides), "
            "a number sets a single-type fleet; default: as in the file."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the solution JSON here.")] = None,
) -> None:
    """Solve one routing problem file, check the answer independently and write the solution JSON."""
    from fleet.limits import LimitExceeded, check_routing_problem, check_time_limit, check_workers
    from routing.check import check_solution
    from routing.io.detect import FORMAT_LABEL, ProblemFormat, read_problem_file
    from routing.io.json_io import write_solution_json
    from routing.problem import Objective

    try:
        check_time_limit(time_limit)
        check_workers(workers)
    except LimitExceeded as exc:
        raise _fail(str(exc)) from None
    obj = Objective(objective.value) if objective else None
    try:
        given = None if fmt is FileFormat.auto else ProblemFormat(fmt.value)
        problem, read_as = read_problem_file(file, given, objective=obj, fleet=fleet)
        check_routing_problem(problem)
    except (ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    how = "recognised by content" if given is None else "as told by --format"
    fleet_note = ", fleet open" if fleet is not None and fleet.strip().lower() == "auto" else ""
    if problem.speed_profile is not None:
        fleet_note += f", speed profile {problem.speed_profile.name}"
    if problem.zones:
        fleet_note += f", {len(problem.zones)} access zone(s)"
    err.print(
        f"read {file} as {FORMAT_LABEL[read_as]} ({how}): {len(problem.jobs)} jobs, "
        f"{problem.vehicle_count} vehicles{fleet_note}, objective {problem.objective.value}",
        soft_wrap=True,
    )
    try:
        from routing.solve import solve
    except ImportError as exc:  # pragma: no cover - only while the solver is missing
        raise _fail(f"the routing solver is not available ({exc})") from None
    solution = solve(problem, time_limit_s=time_limit, seed=seed, workers=workers)
    report = check_solution(problem, solution)
    t = report.totals
    table = Table(
        title=f"{problem.name}: {solution.stats.status} in {solution.stats.seconds:.1f} s (seed {seed})"
    )
    for col in ("vehicles", "km", "kWh", "kWh charged", "litres", "cost", "served", "unserved", "check"):
        table.add_column(col, justify="right")
    table.add_row(
        str(t.vehicles),
        _fmt(t.distance_km),
        _fmt(t.energy_kwh),
        _fmt(t.energy_charged_kwh),
        _fmt(t.fuel_l),
        _fmt(t.cost),
        str(t.jobs_served),
        str(len(solution.unserved)),
        "[green]ok[/green]" if report.feasible else f"[red]{len(report.violations)} violation(s)[/red]",
    )
    console.print(table)
    for u in solution.unserved[:20]:
        console.print(f"  unserved {u.job_id}: {u.reason.value} {u.detail}")
    if not report.feasible:
        err.print(report.summary())
    if out is not None:
        write_solution_json(solution, out)
        console.print(f"solution written to {out}")
    if not report.feasible:
        raise typer.Exit(1)


def route_check(
    problem_file: Annotated[Path, typer.Argument(help="Problem JSON.")],
    solution_file: Annotated[Path, typer.Argument(help="Solution JSON (as written by `route solve`).")],
) -> None:
    """Re-check a solution against its problem and list every violated constraint (exit 1 if any)."""
    from routing.check import check_solution
    from routing.io.json_io import read_problem_json, read_solution_json

    try:
        report = check_solution(read_problem_json(problem_file), read_solution_json(solution_file))
    except (ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    t = report.totals
    console.print(
        f"vehicles {t.vehicles}, {t.distance_km:.2f} km, {t.energy_kwh:.2f} kWh, {t.fuel_l:.2f} L, "
        f"cost {t.cost:.2f}, served {t.jobs_served}, unserved {t.jobs_unserved}"
    )
    console.print(report.summary(limit=50))
    if not report.feasible:
        raise typer.Exit(1)


def route_check_results(
    results_file: Annotated[
        Path, typer.Argument(help='Result file {"results": [...]} in the shared format.')
    ],
    suite: Annotated[Suite, typer.Option(help="Benchmark suite of the instances.")],
    bench_dir: BenchDirOption = None,
) -> None:
    """Check every route set of a benchmark result file against its instance (exit 1 if any is infeasible)."""
    from routing.bench import locate_bench_dir
    from routing.check_bench import check_result_file

    try:
        checks = check_result_file(results_file, suite.value, locate_bench_dir(bench_dir))
    except (ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    table = Table(title=f"{results_file} ({suite.value})")
    for col in ("solver", "instance", "vehicles", "distance", "check"):
        table.add_column(col, justify="right")
    for solver, c in checks:
        table.add_row(
            solver,
            c.instance,
            str(c.vehicles),
            _fmt(c.distance),
            "[green]ok[/green]" if c.feasible else f"[red]{c.summary(2)}[/red]",
        )
    console.print(table)
    if not checks:
        raise _fail(f"{results_file}: no results to check")
    if not all(c.feasible for _, c in checks):
        raise typer.Exit(1)


# --------------------------------------------------------------------------------------------------------------
# evfleet bench routing
# --------------------------------------------------------------------------------------------------------------


def bench_routing(
    suite: Annotated[
        Suite,
        typer.Option(
            help="solomon (VRPTW, 100), homberger (VRPTW, 200/1,000) or evrptw (Schneider E-VRPTW)."
        ),
    ] = Suite.solomon,
    instances: Annotated[
        str | None, typer.Option(help="Comma-separated names, e.g. R101,C201 (default all).")
    ] = None,
    size: Annotated[
        str | None,
        typer.Option(help="Sizes (customers): E-VRPTW 5,10,15,100; Homberger 200,1000 (default all)."),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds per instance and solver.")
    ] = 30.0,
    objective: Annotated[
        BenchObjective, typer.Option(help="hierarchical (vehicles, then km) or distance.")
    ] = (BenchObjective.hierarchical),
    out: Annotated[Path, typer.Option(help="Result JSON (shared format plus checker verdicts).")] = Path(
        "results.json"
    ),
    peer: Annotated[
        str | None, typer.Option(help="Also run a peer solver on the same instances: pyvrp.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed for both solvers.")] = 0,
    workers: Annotated[
        int, typer.Option(help="Processes for our solver's multi-start (1 = single process).")
    ] = 1,
    ours: Annotated[bool, typer.Option("--ours/--no-ours", help="Run our solver (off: peer alone).")] = True,
    jobs: Annotated[
        int,
        typer.Option(
            help="Instances solved side by side, each in one process (at most the "
            "number of cores, or the timings are not comparable)."
        ),
    ] = 1,
    bench_dir: BenchDirOption = None,
    markdown: Annotated[Path | None, typer.Option(help="Also write the table as Markdown here.")] = None,
    clock: Annotated[
        str,
        typer.Option(
            help="wall: both solvers stop on wall seconds; cpu: on their own process's CPU seconds "
            "(equal budgets on a loaded machine)."
        ),
    ] = "wall",
    setting: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="NAME=value: a constant of routing.plain for our solver, e.g. --set TW_RESET=1000 (repeatable; "
            "recorded in the result file), so a variant arm is measured by the same command.",
        ),
    ] = None,
) -> None:
    """Run the routing benchmark: gap to BKS per instance, every solution checked, JSON written."""
    from routing.bench import (
        BenchConfig,
        locate_bench_dir,
        parse_settings,
        result_entries,
        run_bench,
        select_instances,
    )
    from routing.io.results import write_results
    from routing.problem import Objective

    if peer is not None and peer != "pyvrp":
        raise _fail(f"--peer {peer!r}: only 'pyvrp' is supported")
    if peer and suite is Suite.evrptw:
        raise _fail("--peer pyvrp runs on the Solomon and Homberger suites only (PyVRP has no battery model)")
    if not ours and not peer:
        raise _fail("nothing to run: --no-ours needs --peer pyvrp")
    if time_limit <= 0:
        raise _fail(f"--time-limit must be positive, got {time_limit}")
    if jobs < 1:
        raise _fail(f"--jobs must be >= 1, got {jobs}")
    from routing.clock import MODES

    if clock not in MODES:
        raise _fail(f"--clock {clock!r}: expected {' or '.join(MODES)}")
    try:
        settings = parse_settings(setting or [])
    except ValueError as exc:
        raise _fail(str(exc)) from None
    try:
        sizes = [int(s) for s in _csv_list(size) or []]
    except ValueError:
        raise _fail(f"--size {size!r}: expected integers like 5,10,15") from None
    if sizes and suite is Suite.solomon:
        raise _fail("--size applies to the evrptw and homberger suites only")
    try:
        bdir = locate_bench_dir(bench_dir)
        refs = select_instances(bdir, suite.value, _csv_list(instances), sizes or None)
    except (ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    config = BenchConfig(
        suite=suite.value,
        time_limit_s=time_limit,
        objective=Objective(objective.value),
        seed=seed,
        workers=workers,
        ours=ours,
        peer=peer,
        jobs=jobs,
        clock=clock,
        settings=settings,
    )
    err.print(
        f"{len(refs)} instance(s), {time_limit:g} {clock} s each per solver, objective {objective.value}, "
        f"seed {seed}; benchmark folder {bdir}"
    )
    t0 = time.perf_counter()

    def save(rep) -> dict:
        meta = {
            "suite": suite.value,
            "time_limit": time_limit,
            "objective": objective.value,
            "seed": seed,
            "workers": workers,
            "jobs": jobs,
            "clock": clock,
            **({"settings": dict(settings)} if settings else {}),
            "bench_dir": str(bdir),
            "wall_seconds": round(time.perf_counter() - t0, 1),
            "command": "evfleet " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            "complete": len(rep.rows) == len(refs),
            "summary": {
                "evfleet": rep.summary("ours"),
                **({"pyvrp": rep.summary("peer"), "evfleet_vs_pyvrp": rep.versus_peer()} if peer else {}),
            },
        }
        write_results(out, result_entries(rep, "ours"), result_entries(rep, "peer") or None, meta)
        return meta

    try:
        report = run_bench(bdir, config, refs, progress=lambda m: err.print(f"  {m}"), on_row=save)
    except ImportError as exc:
        raise _fail(f"solver not available ({exc}); use --no-ours --peer pyvrp") from None
    ours_entries = result_entries(report, "ours")
    peer_entries = result_entries(report, "peer")
    meta = save(report)
    console.print(_bench_table(report, ours_entries, peer_entries))
    _print_summaries(report)
    console.print(f"results written to {out}")
    if markdown is not None:
        markdown.write_text(_markdown_table(report, ours_entries, peer_entries, meta))
        console.print(f"markdown table written to {markdown}")


def _markdown_table(report, ours_entries, peer_entries, meta) -> str:
    groups = [
        (n, {e.instance: e for e in es})
        for n, es in (("evfleet", ours_entries), ("pyvrp", peer_entries))
        if es
    ]
    head = ["instance", "BKS veh", "BKS dist"]
    for name, _ in groups:
        head += [f"{name} veh", f"{name} dist", f"{name} gap %", f"{name} s wall/cpu", f"{name} check"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in report.rows:
        first = next((g[row.instance] for _, g in groups if row.instance in g), None)
        ref = first.extra.get("bks_distance") if first else None
        ref_veh = first.extra.get("bks_vehicles") if first else None
        cells = [row.instance, "-" if ref_veh is None else str(ref_veh), _fmt(ref)]
        for _, entries in groups:
            e = entries.get(row.instance)
            if e is None:
                cells += ["-"] * 5
                continue
            cells += [
                str(e.vehicles),
                _fmt(e.distance),
                _gap(e.extra.get("gap_pct")),
                _secs(e),
                "ok" if e.feasible else f"FAIL ({len(e.violations)})",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for name, key in (("evfleet", "evfleet"), ("pyvrp", "pyvrp"), ("evfleet vs pyvrp", "evfleet_vs_pyvrp")):
        summary = meta["summary"].get(key)
        if summary:
            lines.append(f"- {name}: " + ", ".join(f"{k} = {v}" for k, v in summary.items()))
    lines.append(f"- command: `{meta['command']}` (wall {meta['wall_seconds']} s)")
    return "\n".join(lines) + "\n"


def _bench_table(report, ours_entries, peer_entries) -> Table:
    cfg = report.config
    table = Table(title=f"{cfg.suite} - {cfg.objective.value} - {cfg.time_limit_s:g} s - seed {cfg.seed}")
    table.add_column("instance")
    table.add_column("BKS\nveh", justify="right")
    table.add_column("BKS\ndist", justify="right")
    groups = []
    if ours_entries:
        groups.append(("evfleet", {e.instance: e for e in ours_entries}))
    if peer_entries:
        groups.append(("pyvrp", {e.instance: e for e in peer_entries}))
    for name, _ in groups:
        for col in ("veh", "dist", "gap %", "s wall/cpu", "check"):
            table.add_column(f"{name}\n{col}", justify="right")
    for row in report.rows:
        ref_dist = None
        cells = [row.instance]
        first = next((g[1][row.instance] for g in groups if row.instance in g[1]), None)
        if first is not None:
            ref_dist = first.extra.get("bks_distance")
        ref_veh = first.extra.get("bks_vehicles") if first is not None else None
        cells += ["-" if ref_veh is None else str(ref_veh), _fmt(ref_dist)]
        for _, entries in groups:
            e = entries.get(row.instance)
            if e is None:
                cells += ["-"] * 5
                continue
            veh = str(e.vehicles)
            if ref_veh is not None and e.vehicles > ref_veh:
                veh = f"[yellow]{veh}[/yellow]"
            check = "[green]ok[/green]" if e.feasible else f"[red]FAIL ({len(e.violations)})[/red]"
            cells += [veh, _fmt(e.distance), _gap(e.extra.get("gap_pct")), _secs(e), check]
        table.add_row(*cells)
    return table


def bench_routing_matrix(
    points: Annotated[int, typer.Option(help="Number of random points over Shenzhen.")] = 2000,
    repeat: Annotated[
        int, typer.Option(help="Timed repetitions (the best and the median are reported).")
    ] = 5,
    out: Annotated[Path | None, typer.Option(help="Write the timings as JSON here.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random points.")] = 0,
) -> None:
    """Time the default distance/time matrix (great-circle x detour) for N points; checks geodesic error."""
    from routing.matrix import DEFAULT_DETOUR_FACTOR, DEFAULT_URBAN_SPEED_KMH, geodesic_check, road_matrices

    if points < 2 or repeat < 1:
        raise _fail("--points must be >= 2 and --repeat >= 1")
    rng = np.random.default_rng(seed)
    lat = 22.45 + rng.random(points) * 0.40  # Shenzhen bounding box, roughly
    lon = 113.75 + rng.random(points) * 0.65
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        road_matrices(lat, lon)
        times.append(time.perf_counter() - t0)
    geo = geodesic_check(lat, lon, sample=200, seed=seed)
    table = Table(title=f"Distance/time matrix, {points} points ({points * points:,} pairs)")
    for col in ("best s", "median s", "geodesic max rel. error", "mean rel. error", "detour", "speed km/h"):
        table.add_column(col, justify="right")
    table.add_row(
        f"{min(times):.3f}",
        f"{float(np.median(times)):.3f}",
        f"{geo.max_relative_error:.2e}",
        f"{geo.mean_relative_error:.2e}",
        f"{DEFAULT_DETOUR_FACTOR}",
        f"{DEFAULT_URBAN_SPEED_KMH}",
    )
    console.print(table)
    if out is not None:
        out.write_text(
            json.dumps(
                {
                    "results": [
                        {
                            "points": points,
                            "best_seconds": min(times),
                            "median_seconds": float(np.median(times)),
                            "seconds": times,
                            "geodesic_max_relative_error": geo.max_relative_error,
                            "geodesic_mean_relative_error": geo.mean_relative_error,
                        }
                    ]
                },
                indent=1,
            )
            + "\n"
        )


def bench_road_network(
    road_network: Annotated[
        str,
        typer.Option(
            "--road-network", help="osm:PATH, osrm:URL or valhalla:URL (haversine: routing-matrix)."
        ),
    ],
    points: Annotated[str, typer.Option(help="Comma-separated point counts, e.g. 50,200.")] = "50,200",
    seed: Annotated[int, typer.Option(help="Seed of the random points.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Write the timings as JSON here.")] = None,
) -> None:
    """Time a road network's matrices: reading an OSM extract into a graph, then N x N tables; the circuity
    (road km / great-circle km) set against the haversine default's detour factor."""
    from routing.matrix import DEFAULT_DETOUR_FACTOR, RoadNetworkSpec, haversine_matrix_km

    try:
        spec = RoadNetworkSpec.parse(road_network)
        counts = [int(x) for x in points.split(",") if x.strip()]
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if spec.kind == "haversine" or not counts or min(counts) < 2:
        raise _fail("give --road-network osm:PATH | osrm:URL | valhalla:URL and --points >= 2")
    t0 = time.perf_counter()
    provider = spec.provider()
    load_s = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    graph = getattr(provider, "graph", None)
    rows = []
    for n in counts:
        if graph is not None:  # points near random roads of the main network, up to ~50 m off them
            nodes = np.flatnonzero(graph.main_component())
            pick = rng.choice(nodes, size=n)
            lat = graph.lat[pick] + rng.normal(0.0, 0.0002, n)
            lon = graph.lon[pick] + rng.normal(0.0, 0.0002, n)
        else:
            lat = 22.45 + rng.random(n) * 0.40  # Shenzhen bounding box, roughly
            lon = 113.75 + rng.random(n) * 0.65
        t1 = time.perf_counter()
        m = provider.table(list(zip(lat.tolist(), lon.tolist())))
        seconds = time.perf_counter() - t1
        gc = haversine_matrix_km(lat, lon)
        far = gc > 1.0  # circuity is meaningless for neighbours (the snap legs dominate)
        circuity = float(np.median(m.distance_km[far] / gc[far])) if far.any() else float("nan")
        rows.append({"points": n, "seconds": seconds, "median_circuity": circuity})
    info = provider.describe()
    title = f"Road-network matrices: {spec.public()}"
    if graph is not None:
        title += f" ({graph.nodes:,} nodes, {graph.edges:,} edges, read in {load_s:.1f} s)"
    table = Table(title=title)
    for col in ("points", "pairs", "table s", "median road/great-circle km", "haversine default"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            str(r["points"]),
            f"{r['points'] ** 2:,}",
            f"{r['seconds']:.2f}",
            f"{r['median_circuity']:.2f}",
            f"{DEFAULT_DETOUR_FACTOR}",
        )
    console.print(table)
    if out is not None:
        doc = {"road_network": info, "load_seconds": load_s, "results": rows, "cpus": os.cpu_count()}
        out.write_text(json.dumps(doc, indent=1) + "\n")


def bench_routing_city(
    stops: Annotated[str, typer.Option(help="Comma-separated stop counts, e.g. 300,1000.")] = "300",
    time_limit: Annotated[str, typer.Option("--time-limit", help="Seconds per size, e.g. 60,120.")] = "60",
    seed: Annotated[int, typer.Option(help="Seed of the scenario and of the search.")] = 0,
    workers: Annotated[int, typer.Option(help="Processes for the solver's multi-start.")] = 1,
    out: Annotated[
        Path | None, typer.Option(help="Write results (and checker verdicts) as JSON here.")
    ] = None,
    initial_soc: Annotated[
        float,
        typer.Option(help="Electric trucks' charge at departure (fraction; < 1 forces en-route charging)."),
    ] = 1.0,
    rush_hour: Annotated[
        bool,
        typer.Option("--rush-hour/--no-rush-hour", help="Time-dependent travel, default Shenzhen profile."),
    ] = False,
    green_zone: Annotated[
        bool,
        typer.Option(
            "--green-zone/--no-green-zone", help="Futian green-logistics zone: diesel barred all day."
        ),
    ] = False,
) -> None:
    """Synthetic Shenzhen depot-day (mixed fleet, two public stations): solve, check, print a table."""
    import dataclasses

    from routing.check import check_solution
    from routing.scenarios import FUTIAN_GREEN_ZONE, shenzhen_problem
    from routing.traveltime import SHENZHEN_RUSH_HOUR

    try:
        sizes = [int(s) for s in stops.split(",")]
        limits = [float(t) for t in time_limit.split(",")]
    except ValueError:
        raise _fail(
            "--stops and --time-limit take comma-separated numbers, e.g. --stops 300,1000 --time-limit 60,120"
        ) from None
    if len(limits) == 1:
        limits = limits * len(sizes)
    if len(limits) != len(sizes) or min(sizes) < 1 or min(limits) <= 0:
        raise _fail("give one positive --time-limit per --stops entry (or one for all)")
    try:
        from routing.solve import solve
    except ImportError as exc:  # pragma: no cover
        raise _fail(f"the routing solver is not available ({exc})") from None
    table = Table(title=f"Shenzhen city benchmark (seed {seed}, electric trucks leave at {initial_soc:.0%})")
    for col in (
        "stops",
        "limit s",
        "solve s",
        "vehicles",
        "served",
        "unserved",
        "km",
        "kWh",
        "charged kWh",
        "station stops",
        "litres",
        "check",
    ):
        table.add_column(col, justify="right")
    rows = []
    for n, limit in zip(sizes, limits):
        try:
            problem = shenzhen_problem(n, seed=seed, initial_soc=initial_soc)
        except ValueError as exc:
            raise _fail(str(exc)) from None
        if rush_hour:
            problem = dataclasses.replace(
                problem, speed_profile=SHENZHEN_RUSH_HOUR, name=problem.name + "-rush"
            )
        if green_zone:
            problem = dataclasses.replace(problem, zones=(FUTIAN_GREEN_ZONE,), name=problem.name + "-green")
        err.print(f"  {problem.name}: {problem.vehicle_count} vehicles, {limit:g} s")
        t0 = time.perf_counter()
        solution = solve(problem, time_limit_s=limit, seed=seed, workers=workers)
        seconds = time.perf_counter() - t0
        report = check_solution(problem, solution)
        t = report.totals
        station_stops = sum(1 for r in solution.routes for s in r.stops if s.kind.value == "station")
        table.add_row(
            str(n),
            f"{limit:g}",
            f"{seconds:.1f}",
            str(t.vehicles),
            str(t.jobs_served),
            str(len(solution.unserved)),
            _fmt(t.distance_km, 1),
            _fmt(t.energy_kwh, 1),
            _fmt(t.energy_charged_kwh, 1),
            str(station_stops),
            _fmt(t.fuel_l, 1),
            "[green]ok[/green]" if report.feasible else f"[red]{len(report.violations)} violation(s)[/red]",
        )
        rows.append(
            {
                "instance": problem.name,
                "stops": n,
                "time_limit": limit,
                "seconds": round(seconds, 2),
                "status": solution.stats.status,
                "vehicles": t.vehicles,
                "served": t.jobs_served,
                "unserved": [{"job": u.job_id, "reason": u.reason.value} for u in solution.unserved],
                "distance_km": t.distance_km,
                "energy_kwh": t.energy_kwh,
                "energy_charged_kwh": t.energy_charged_kwh,
                "station_stops": station_stops,
                "fuel_l": t.fuel_l,
                "feasible": report.feasible,
                "violations": [str(v) for v in report.violations],
                "vehicles_by_type": {
                    vt.id: sum(1 for r in solution.routes if r.stops and r.vehicle_type == vt.id)
                    for vt in problem.vehicle_types
                },
            }
        )
    console.print(table)
    if out is not None:
        out.write_text(
            json.dumps(
                {"results": rows, "meta": {"seed": seed, "workers": workers, "initial_soc": initial_soc}},
                indent=1,
            )
            + "\n"
        )
        console.print(f"results written to {out}")


def bench_routing_fuzz(
    seeds: Annotated[str, typer.Option(help="Seed range START-END (end exclusive), e.g. 0-50.")] = "0-20",
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds per problem.")] = 1.0,
    out: Annotated[Path | None, typer.Option(help="Write per-seed verdicts as JSON here.")] = None,
    save_failures: Annotated[
        Path | None,
        typer.Option(help="Folder for the problem JSON of every failing seed (replay with `route solve`)."),
    ] = None,
) -> None:
    """Solve small random problems and check each answer: finds solver crashes and violated constraints."""
    import traceback

    from routing.check import check_solution
    from routing.io.json_io import write_problem_json
    from routing.scenarios import random_problem

    try:
        start, end = (int(x) for x in seeds.split("-"))
    except ValueError:
        raise _fail(f"--seeds {seeds!r}: expected START-END, e.g. 0-50") from None
    if end <= start or time_limit <= 0:
        raise _fail("--seeds needs END > START and --time-limit must be positive")
    from routing.solve import solve

    rows, failures = [], []
    for seed in range(start, end):
        problem = random_problem(seed)
        row: dict = {
            "seed": seed,
            "jobs": len(problem.jobs),
            "policy": problem.recharge_policy.value,
            "objective": problem.objective.value,
        }
        try:
            solution = solve(problem, time_limit_s=time_limit, seed=0)
        except Exception as exc:
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            row.update(
                verdict="crash", detail=f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"
            )
        else:
            report = check_solution(problem, solution)
            row.update(
                verdict="ok" if report.feasible else "violation",
                served=report.totals.jobs_served,
                unserved=len(solution.unserved),
                detail=report.summary(3) if not report.feasible else "",
            )
        rows.append(row)
        if row["verdict"] != "ok":
            failures.append(row)
            if save_failures is not None:
                save_failures.mkdir(parents=True, exist_ok=True)
                write_problem_json(problem, save_failures / f"{problem.name}.json")
    table = Table(
        title=f"Fuzz: seeds {start}-{end - 1}, {time_limit:g} s each: "
        f"{len(rows) - len(failures)} ok, {len(failures)} failing"
    )
    for col in ("seed", "jobs", "policy", "objective", "verdict", "detail"):
        table.add_column(col)
    for row in failures:
        table.add_row(
            str(row["seed"]), str(row["jobs"]), row["policy"], row["objective"], row["verdict"], row["detail"]
        )
    console.print(table)
    if out is not None:
        out.write_text(json.dumps({"results": rows}, indent=1) + "\n")


def bench_routing_lns(
    files: Annotated[list[Path], typer.Argument(help="Problem files (any format `route solve` reads).")],
    iterations: Annotated[int, typer.Option(help="Ruin-and-recreate iterations per run.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed (both runs).")] = 0,
) -> None:
    """Ruin-and-recreate iterations per CPU second: Python filter, compiled filter (same search), on electric
    problems where it applies the compiled filter with the station DP (routing.station_dp, another search), and
    on plain VRPTW the compiled SISR path (routing.plain) with and without its local search."""
    from routing.bench import lns_rates, plain_rate

    if iterations < 1:
        raise _fail(f"--iterations must be >= 1, got {iterations}")
    table = Table(title=f"ruin-and-recreate, {iterations} iterations, seed {seed}")
    for col in ("instance", "routes", "filter", "cpu s", "wall s", "it / cpu s", "best km"):
        table.add_column(col, justify="right")
    for f in files:
        try:
            rates = lns_rates(f, iterations, seed)
        except (ValueError, OSError) as exc:
            raise _fail(str(exc)) from None
        labels = ["python", "compiled"] + ["compiled + station DP" for r in rates if r.stations]
        for ls in (False, True):
            rate = plain_rate(f, iterations, seed, local_search=ls)
            if rate is not None:
                rates.append(rate)
                labels.append("plain SISR + LS" if ls else "plain SISR")
        for r, label in zip(rates, labels):
            table.add_row(
                r.instance,
                str(r.routes),
                label,
                f"{r.cpu_seconds:.2f}",
                f"{r.wall_seconds:.2f}",
                f"{r.per_cpu_second:.0f}",
                f"{r.best_km:.1f}",
            )
    console.print(table)
    err.print("load: " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1/5/15 min)")


def _print_summaries(report) -> None:
    """Each solver's acceptance figures, then the head-to-head when a peer ran."""
    for name, key in (("evfleet", "ours"), ("pyvrp", "peer")):
        summary = report.summary(key)
        if summary:
            console.print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in summary.items()))
    versus = report.versus_peer()
    if versus:
        console.print("evfleet vs pyvrp: " + ", ".join(f"{k}={v}" for k, v in versus.items()))


def bench_routing_compare(
    files: Annotated[
        list[Path], typer.Argument(help="Result files of `bench routing` (same suite and objective).")
    ],
    bench_dir: BenchDirOption = None,
) -> None:
    """Summaries and the head-to-head against the peer, recomputed from stored result files (several runs,
    e.g. Homberger 200 and 1,000, count as one comparison)."""
    from routing.bench import locate_bench_dir, report_from_files

    try:
        report = report_from_files(files, locate_bench_dir(bench_dir))
    except (ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    _print_summaries(report)


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add `route solve|check|check-results` and `bench routing|routing-matrix`."""
    route_app = typer.Typer(
        help="Vehicle routing: solve a problem file, check a solution.", no_args_is_help=True
    )
    route_app.command(
        "solve",
        help="Solve one problem file (JSON, Solomon/Homberger, E-VRPTW or EVRP, recognised by content); "
        "writes the solution JSON.",
    )(route_solve)
    route_app.command("check", help="Re-check a solution JSON against its problem JSON; lists violations.")(
        route_check
    )
    route_app.command("check-results", help="Check a benchmark result file against its instances.")(
        route_check_results
    )
    from fleet.cli.replan_cmd import bench_replan, route_replan

    route_app.command(
        "replan",
        help="Re-plan a depot-day's current plan with few changes (breakdown, urgent order, mid-day).",
    )(route_replan)
    app.add_typer(route_app, name="route", help="Vehicle routing: solve a problem file, check a solution.")
    bench.command(
        "routing",
        help="Routing benchmark (Solomon / Homberger / E-VRPTW) with gap to BKS and optional PyVRP peer.",
    )(bench_routing)
    bench.command(
        "routing-compare",
        help="Recompute a routing benchmark's summaries and the head-to-head with PyVRP from result files.",
    )(bench_routing_compare)
    bench.command(
        "routing-city", help="Synthetic Shenzhen depot-day (300 / 1,000 stops): solve, check, table."
    )(bench_routing_city)
    bench.command("routing-fuzz", help="Random small problems: solve, check, list crashes and violations.")(
        bench_routing_fuzz
    )
    bench.command(
        "replan",
        help="Break down each truck in turn: orders moved by the minimal-change re-plan vs a free re-solve.",
    )(bench_replan)
    bench.command(
        "routing-lns", help="Ruin-and-recreate iterations per CPU second: Python filter vs compiled."
    )(bench_routing_lns)
    bench.command(
        "routing-matrix", help="Time the default distance matrix for N points (target: 2,000 < 1 s)."
    )(bench_routing_matrix)
    bench.command(
        "routing-roadnet", help="Time an OSM extract's (or a server's) matrices; circuity vs the 1.3 default."
    )(bench_road_network)
