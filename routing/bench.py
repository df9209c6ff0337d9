"""Benchmark harness: our solver (and optionally PyVRP) on Solomon / E-VRPTW instances, every answer checked.

Each instance is read from the benchmark folder (formats in docs/benchmarks.md), mapped onto `RoutingProblem`
(benchmark conventions kept, see `routing.io`), solved with a time limit and a seed, and its routes are
verified twice: by the typed checker (`routing.check.check_solution`, every figure) and by the benchmark route
checker on the raw instance file (`routing.check_bench`). The gap to the best-known solution is signed:
negative means better than the BKS.

The PyVRP peer (Solomon only, PyVRP has no battery model) gets the same time budget in the same run. Its
hierarchical mode follows docs/routing-notes.md, 'Fewest vehicles first' (PyVRP's `minimise_fleet` on half the
time, then a solve with that fleet); the distance mode solves with the file's fleet. PyVRP needs integers:
distances are scaled by 1000 and rounded, durations scaled and rounded UP so a schedule PyVRP accepts stays
feasible in double precision; its routes are re-checked and their distance recomputed in double precision.

"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any

from routing import clock
from routing.check import check_solution
from routing.check_bench import RouteSetCheck, check_evrptw_routes, check_solomon_routes
from routing.io.bks import BestKnown, read_bks
from routing.io.evrptw import evrptw_to_problem, read_evrptw
from routing.io.results import BenchResult, read_result_file
from routing.io.solomon import SolomonInstance, read_solomon, solomon_to_problem
from routing.problem import Objective, RoutingProblem
from routing.solution import RoutingSolution

SUITES = ("solomon", "evrptw", "homberger")
SOLOMON_LAYOUT = ("solomon", "homberger")
"""Suites in Solomon's text layout and conventions (Homberger & Gehring's 200-1,000-customer sets are)."""
PYVRP_SCALE = 1000
"""Integer scaling of distances and times for PyVRP [1/instance unit]."""


def locate_bench_dir(explicit: str | Path | None = None, repo_root: Path | None = None) -> Path:
    """`explicit`, else `$EVFLEET_BENCH_DIR`, else a sibling `shared/bench` checkout beside the repo (one more
    level up for git worktrees kept under a common folder). Raises FileNotFoundError naming what was tried."""
    if explicit is not None:
        tried = [Path(explicit)]
    else:
        root = repo_root or Path(__file__).resolve().parents[1]
        env = os.environ.get("EVFLEET_BENCH_DIR")
        tried = ([Path(env)] if env else []) + [
            root.parent / "shared" / "bench",
            root.parent.parent / "shared" / "bench",
        ]
    for path in tried:
        if (path / "solomon").is_dir() or (path / "evrptw").is_dir():
            return path
    raise FileNotFoundError(
        "no benchmark folder (with solomon/ or evrptw/) at: " + ", ".join(map(str, tried))
    )


@dataclass(frozen=True)
class InstanceRef:
    name: str
    path: Path
    size: int


def select_instances(
    bench_dir: Path, suite: str, names: Sequence[str] | None = None, sizes: Sequence[int] | None = None
) -> list[InstanceRef]:
    """Instances of a suite in a stable order, filtered by name (case-insensitive) and, for E-VRPTW and
    Homberger, size (customers)."""
    if suite == "solomon":
        refs = [InstanceRef(p.stem, p, 100) for p in sorted((bench_dir / "solomon").glob("*.txt"))]
    elif suite in ("evrptw", "homberger"):
        refs = []
        if not (bench_dir / suite).is_dir():
            raise FileNotFoundError(f"no {suite} folder under {bench_dir}")
        for sub in sorted(
            (bench_dir / suite).iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 0
        ):
            if sub.is_dir() and sub.name.isdigit():
                refs += [InstanceRef(p.stem, p, int(sub.name)) for p in sorted(sub.glob("*.txt"))]
    else:
        raise ValueError(f"unknown suite {suite!r}; choose one of {', '.join(SUITES)}")
    if not refs:
        raise FileNotFoundError(f"no {suite} instances under {bench_dir}")
    if sizes:
        known = sorted({r.size for r in refs})
        bad = [s for s in sizes if s not in known]
        if bad:
            raise ValueError(f"--size {bad}: {suite} has sizes {known}")
        refs = [r for r in refs if r.size in set(sizes)]
    if names:
        by_name = {r.name.lower(): r for r in refs}
        missing = [n for n in names if n.lower() not in by_name]
        if missing:
            raise ValueError(
                f"unknown {suite} instance(s) {missing} (after the size filter); e.g. {refs[0].name}"
            )
        refs = [by_name[n.lower()] for n in names]
    return refs


@dataclass(frozen=True)
class BenchConfig:
    suite: str
    time_limit_s: float
    objective: Objective = Objective.HIERARCHICAL
    seed: int = 0
    workers: int = 1
    ours: bool = True
    peer: str | None = None
    jobs: int = 1
    """Instances (and solvers) run side by side, each in its own single process; 1 = one after another."""
    peer_iterations: int | None = None
    """PyVRP stops after this many iterations per phase instead of at the time limit: its answer is then the same
    on a loaded machine (tests; the benchmark itself compares at equal wall time)."""
    clock: str = "wall"
    """``wall`` or ``cpu``: both solvers stop on wall seconds or on their own process's CPU seconds
    (``routing.clock``; PyVRP through ``MaxCpuTime``), so a loaded machine still compares equal budgets."""
    settings: tuple[tuple[str, str], ...] = ()
    """``(NAME, value)`` settings of ``routing.plain``'s constants for our solver (``parse_settings``): a variant
    of the search measured by the same command as the default, so every arm of a table is reproducible."""


PEER_GAP_POINTS = 0.5
"""Issue 25: our mean gap may exceed the peer's by at most this many percentage points."""


@dataclass(frozen=True)
class BenchRow:
    """One instance: the BKS and each solver's checked answer."""

    instance: str
    size: int
    bks: BestKnown | None
    ours: BenchResult | None = None
    peer: BenchResult | None = None


def reference_distance(bks: BestKnown | None, objective: Objective) -> float | None:
    """The BKS distance a gap is measured against: hierarchical BKS, or Solomon's distance-only BKS."""
    if bks is None:
        return None
    if objective is Objective.DISTANCE and bks.distance_only is not None:
        return bks.distance_only
    return bks.distance


def reference_vehicles(bks: BestKnown | None, objective: Objective) -> int | None:
    """Vehicles of the BKS the gap is measured against (the distance-only BKS may use more)."""
    if bks is None:
        return None
    if objective is Objective.DISTANCE and bks.distance_only_vehicles is not None:
        return bks.distance_only_vehicles
    return bks.vehicles


def gap_pct(distance: float, reference: float | None) -> float | None:
    """Signed gap [%]: (ours - BKS) / BKS x 100; negative = better than the BKS."""
    if reference is None or reference <= 0 or not math.isfinite(distance):
        return None
    return (distance - reference) / reference * 100.0


# --------------------------------------------------------------------------------------------------------------
# Our solver
# --------------------------------------------------------------------------------------------------------------


SolveFn = Callable[..., RoutingSolution]


def _load_solver() -> SolveFn:
    from routing.solve import solve  # the solver side; imported late so the harness runs without it

    return solve


def problem_for(ref: InstanceRef, suite: str, objective: Objective) -> tuple[RoutingProblem, Any]:
    if suite in SOLOMON_LAYOUT:
        inst = read_solomon(ref.path)
        return solomon_to_problem(inst, objective=objective), inst
    inst = read_evrptw(ref.path)
    return evrptw_to_problem(inst, objective=objective), inst


def benchmark_routes(solution: RoutingSolution, suite: str) -> list[list[int | str]]:
    """Routes in the benchmark result format (docs/benchmarks.md): Solomon customer numbers, E-VRPTW
    StringIDs with stations."""
    routes = [list(r.stop_ids) for r in solution.routes if r.stops]
    if suite in SOLOMON_LAYOUT:
        return [[int(s) for s in r] for r in routes]
    return routes  # type: ignore[return-value]


SETTABLE = "routing.plain"
"""The module whose upper-case constants ``--set NAME=value`` may change (the plain VRPTW search's knobs)."""


def parse_settings(items: list[str] | tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``NAME=value`` items checked against ``routing.plain``: the name must be one of its upper-case constants
    of type bool, int, float or str, and the value must read as that type. Raises ValueError saying which."""
    import importlib

    mod = importlib.import_module(SETTABLE)
    out = []
    for item in items:
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not name:
            raise ValueError(f"--set {item!r}: expected NAME=value, e.g. TW_RESET=1000")
        current = getattr(mod, name, None)
        if not name.isupper() or not isinstance(current, (bool, int, float, str)):
            known = sorted(
                k for k, v in vars(mod).items() if k.isupper() and isinstance(v, (bool, int, float, str))
            )
            raise ValueError(f"--set {name}: not a setting of {SETTABLE}; known: {', '.join(known)}")
        _typed(current, value.strip(), name)
        out.append((name, value.strip()))
    return tuple(out)


def _typed(current: Any, value: str, name: str) -> Any:
    try:
        if isinstance(current, bool):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return value.lower() in ("true", "1")
        return type(current)(value)
    except ValueError:
        raise ValueError(
            f"--set {name}={value}: expected a {type(current).__name__} like {current!r}"
        ) from None


@contextlib.contextmanager
def settings_applied(settings: tuple[tuple[str, str], ...]) -> Iterator[None]:
    """``routing.plain``'s constants set for the duration of one solve, then put back (a pool worker or a test
    process runs several solves)."""
    import importlib

    mod = importlib.import_module(SETTABLE)
    before = {name: getattr(mod, name) for name, _ in settings}
    try:
        for name, value in settings:
            setattr(mod, name, _typed(before[name], value, name))
        yield
    finally:
        for name, value in before.items():
            setattr(mod, name, value)


def run_ours(ref: InstanceRef, config: BenchConfig, solve: SolveFn | None = None) -> BenchResult:
    """Solve one instance with our solver and check the answer both ways."""
    solve = solve or _load_solver()
    problem, inst = problem_for(ref, config.suite, config.objective)
    clock.use(config.clock)
    t0, c0 = time.perf_counter(), time.process_time()
    with settings_applied(config.settings):
        solution = solve(problem, time_limit_s=config.time_limit_s, seed=config.seed, workers=config.workers)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    report = check_solution(problem, solution)
    routes = benchmark_routes(solution, config.suite)
    route_check = _check_routes(
        config.suite, inst, routes, solution.total_distance_km, solution.vehicles_used
    )
    violations = [str(v) for v in report.violations] + [f"bench: {v}" for v in route_check.violations]
    if solution.unserved:
        violations.append(
            f"unserved: {len(solution.unserved)} job(s): "
            + ", ".join(f"{u.job_id} ({u.reason.value})" for u in solution.unserved[:10])
        )
    return BenchResult(
        instance=ref.name,
        routes=routes,
        distance=solution.total_distance_km,
        vehicles=solution.vehicles_used,
        seconds=seconds,
        feasible=not violations,
        solver="evfleet",
        violations=violations,
        extra={
            "status": solution.stats.status,
            "recomputed_distance": route_check.distance,
            "unserved": len(solution.unserved),
            "cpu_seconds": round(cpu, 2),
            "phases": list(solution.stats.phases),
            **({"settings": dict(config.settings)} if config.settings else {}),
        },
    )


def _check_routes(
    suite: str, inst: Any, routes: list, distance: float | None, vehicles: int | None
) -> RouteSetCheck:
    if suite in SOLOMON_LAYOUT:
        return check_solomon_routes(inst, routes, distance, vehicles)
    return check_evrptw_routes(inst, routes, distance, vehicles)


# --------------------------------------------------------------------------------------------------------------
# PyVRP peer (Solomon)
# --------------------------------------------------------------------------------------------------------------


def pyvrp_model_data(inst: SolomonInstance, vehicles: int | None = None) -> Any:
    """PyVRP `ProblemData` of a Solomon instance: depot = location 0, client k = customer k (scaled integers)."""
    import pyvrp

    s = PYVRP_SCALE
    model = pyvrp.Model()
    d0 = inst.depot
    model.add_vehicle_type(
        num_available=vehicles or inst.vehicles,
        capacity=round(inst.capacity),
        tw_early=round(d0.ready * s),
        tw_late=round(d0.due * s),
    )
    locs = [model.add_location(x=d0.x, y=d0.y)]
    model.add_depot(locs[0], tw_early=round(d0.ready * s), tw_late=round(d0.due * s))
    for c in inst.customers:
        loc = model.add_location(x=c.x, y=c.y)
        model.add_client(
            loc,
            delivery=round(c.demand),
            service_duration=round(c.service * s),
            tw_early=round(c.ready * s),
            tw_late=round(c.due * s),
        )
        locs.append(loc)
    nodes = inst.nodes
    for i, frm in enumerate(locs):
        for j, to in enumerate(locs):
            if i != j:
                d = math.hypot(nodes[i].x - nodes[j].x, nodes[i].y - nodes[j].y)
                model.add_edge(frm, to, distance=round(d * s), duration=math.ceil(d * s - 1e-9))
    return model.data()


class MaxCpuTime:
    """PyVRP stopping criterion on this process's CPU seconds (the protocol of ``pyvrp.stop.MaxRuntime``:
    called with the best cost, returns True to stop); ``routing.clock`` gives our solver the same budget."""

    def __init__(self, max_cpu_s: float):
        if max_cpu_s < 0:
            raise ValueError(f"max_cpu_s = {max_cpu_s!r}: must be >= 0")
        self.max_cpu_s = max_cpu_s
        self._start: float | None = None

    def __call__(self, best_cost: Any) -> bool:
        if self._start is None:
            self._start = time.process_time()
        return time.process_time() - self._start > self.max_cpu_s


def run_pyvrp(ref: InstanceRef, config: BenchConfig) -> BenchResult:
    """PyVRP 0.14 on one Solomon-layout instance with the same budget; routes checked in double precision."""
    if config.suite not in SOLOMON_LAYOUT:
        raise ValueError(
            "the PyVRP peer runs on the Solomon and Homberger suites only (PyVRP has no battery model)"
        )
    from pyvrp import minimise_fleet, solve
    from pyvrp.stop import MaxIterations, MaxRuntime

    inst = read_solomon(ref.path)
    data = pyvrp_model_data(inst)
    t0, c0 = time.perf_counter(), time.process_time()
    phases = []
    n = config.peer_iterations
    cpu_clock = config.clock == "cpu"

    def stop_after(seconds: float) -> Any:
        if n:
            return MaxIterations(n)
        return MaxCpuTime(seconds) if cpu_clock else MaxRuntime(seconds)

    if config.objective is Objective.DISTANCE:
        res = solve(data, stop=stop_after(config.time_limit_s), seed=config.seed, display=False)
    else:
        half = config.time_limit_s / 2.0
        fleet = minimise_fleet(data, stop_after(half), seed=config.seed)
        phases.append(f"minimise_fleet -> {fleet.num_available}")
        data_k = data.replace(vehicle_types=[fleet])
        used = (time.process_time() - c0) if cpu_clock else (time.perf_counter() - t0)
        left = max(0.1, config.time_limit_s - used)
        res = solve(data_k, stop=stop_after(left), seed=config.seed, display=False)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    best = res.best
    # Activities carry client indices (0-based, depots excluded): customer number = index + 1.
    routes = [[a.idx + 1 for a in r if a.is_client()] for r in best.routes()]
    check = check_solomon_routes(inst, routes)
    violations = [f"bench: {v}" for v in check.violations]
    if not best.is_feasible():
        violations.insert(0, "pyvrp: best solution infeasible in PyVRP's own model")
    return BenchResult(
        instance=ref.name,
        routes=routes,
        distance=check.distance,
        vehicles=check.vehicles,
        seconds=seconds,
        feasible=not violations,
        solver="pyvrp",
        violations=violations,
        extra={"phases": phases, "iterations": res.num_iterations, "cpu_seconds": round(cpu, 2)},
    )


# --------------------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------------------


@dataclass
class BenchReport:
    config: BenchConfig
    rows: list[BenchRow] = field(default_factory=list)

    def results(self, which: str) -> list[BenchResult]:
        return [getattr(r, which) for r in self.rows if getattr(r, which) is not None]

    def summary(self, which: str) -> dict[str, Any]:
        """Acceptance-style figures for one solver: feasibility, vehicles vs BKS, mean gap at the BKS fleet."""
        rows = [r for r in self.rows if getattr(r, which) is not None]
        if not rows:
            return {}
        obj = self.config.objective
        res = [getattr(r, which) for r in rows]
        # (row, result, BKS vehicles, BKS distance) for rows with a BKS
        ref = [
            (r, getattr(r, which), reference_vehicles(r.bks, obj), reference_distance(r.bks, obj))
            for r in rows
            if r.bks is not None
        ]
        feasible = [(r, x, v, d) for r, x, v, d in ref if x.feasible]
        gaps = [gap_pct(x.distance, d) for r, x, v, d in feasible if x.vehicles == v]
        gaps = [g for g in gaps if g is not None]
        all_gaps = [g for g in (gap_pct(x.distance, d) for r, x, v, d in feasible) if g is not None]
        out: dict[str, Any] = {
            "instances": len(rows),
            "feasible": sum(x.feasible for x in res),
            "vehicles_at_bks": sum(1 for r, x, v, d in feasible if x.vehicles <= v),
            "vehicles_within_bks_plus_1": sum(1 for r, x, v, d in feasible if x.vehicles <= v + 1),
            "mean_gap_pct_at_bks_fleet": _r3(mean(gaps)) if gaps else None,
            "max_gap_pct_at_bks_fleet": _r3(max(gaps)) if gaps else None,
            "mean_gap_pct_all_feasible": _r3(mean(all_gaps)) if all_gaps else None,
            "mean_seconds": round(mean(x.seconds for x in res), 2),
        }
        optimal = [(r, x) for r, x, v, d in ref if r.bks.optimal]
        if optimal:
            out["proven_optimal"] = len(optimal)
            out["proven_optimal_matched"] = sum(
                1
                for r, x in optimal
                if x.feasible and x.vehicles == r.bks.vehicles and x.distance <= r.bks.distance + 0.005
            )
        return out

    def versus_peer(self, gap_points: float = PEER_GAP_POINTS) -> dict[str, Any]:
        """Issue 25's criterion, instance by instance against the peer of the same run: vehicles no more than
        the peer's on every instance (an instance only the peer solves feasibly counts against us), and on the
        instances where both use the same fleet a mean gap to the reference distance no more than the peer's
        + ``gap_points``. Empty without peer results."""
        rows = [r for r in self.rows if r.ours is not None and r.peer is not None]
        if not rows:
            return {}
        obj = self.config.objective
        both = [r for r in rows if r.ours.feasible and r.peer.feasible]
        more = [r.instance for r in both if r.ours.vehicles > r.peer.vehicles]
        only_peer = [r.instance for r in rows if r.peer.feasible and not r.ours.feasible]
        equal = [r for r in both if r.ours.vehicles == r.peer.vehicles]
        pairs = [
            (
                gap_pct(r.ours.distance, reference_distance(r.bks, obj)),
                gap_pct(r.peer.distance, reference_distance(r.bks, obj)),
            )
            for r in equal
        ]
        pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
        ours_gap = _r3(mean(a for a, _ in pairs)) if pairs else None
        peer_gap = _r3(mean(b for _, b in pairs)) if pairs else None
        return {
            "instances": len(rows),
            "both_feasible": len(both),
            "fewer_vehicles": sum(1 for r in both if r.ours.vehicles < r.peer.vehicles),
            "equal_vehicles": len(equal),
            "more_vehicles": more,
            "feasible_only_for_peer": only_peer,
            "mean_gap_pct_equal_fleet": ours_gap,
            "peer_mean_gap_pct_equal_fleet": peer_gap,
            "target_met": not more
            and not only_peer
            and (ours_gap is None or peer_gap is None or ours_gap <= peer_gap + gap_points),
        }


def report_from_files(paths: Sequence[str | Path], bench_dir: Path) -> BenchReport:
    """The report of one or more result files written by ``bench routing`` (one suite and objective), so the
    summaries and the head-to-head are recomputed from what was stored, or over several runs together (e.g.
    Homberger 200 and 1,000 run apart). The best-known solutions come from ``bench_dir``."""
    rows: list[BenchRow] = []
    config: BenchConfig | None = None
    seen: dict[str, str] = {}
    for path in paths:
        doc = read_result_file(path)
        try:
            meta = doc.meta
            cfg = BenchConfig(str(meta["suite"]), float(meta["time_limit"]), Objective(meta["objective"]))
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{path}: not a `bench routing` result file with its meta ({exc})") from None
        if config is not None and (cfg.suite, cfg.objective) != (config.suite, config.objective):
            raise ValueError(
                f"{path}: {cfg.suite}/{cfg.objective.value}, but {paths[0]} is "
                f"{config.suite}/{config.objective.value}; compare one suite and objective at a time"
            )
        config = config or cfg
        bks_path = bench_dir / cfg.suite / "bks.csv"
        bks = read_bks(bks_path) if bks_path.is_file() else {}
        ours = {str(e["instance"]): BenchResult.from_dict(e, "evfleet") for e in doc.results}
        peer = {str(e["instance"]): BenchResult.from_dict(e, "pyvrp") for e in doc.peer_results}
        for name in dict.fromkeys([*ours, *peer]):
            if name in seen:
                raise ValueError(f"{path}: instance {name} is also in {seen[name]}")
            seen[name] = str(path)
            rows.append(BenchRow(name, 0, bks.get(name), ours.get(name), peer.get(name)))
    if config is None:
        raise ValueError("no result file given")
    return BenchReport(config, rows)


def _guarded(ref: InstanceRef, solver: str, run: Callable[[], BenchResult]) -> BenchResult:
    """A solver crash on one instance is recorded as an infeasible result; the run goes on."""
    t0 = time.perf_counter()
    try:
        return run()
    except Exception as exc:
        return BenchResult(
            ref.name,
            [],
            math.inf,
            0,
            time.perf_counter() - t0,
            False,
            solver,
            [f"crash: {type(exc).__name__}: {exc}"],
        )


def _r3(x: float) -> float:
    return round(x, 3) + 0.0  # + 0.0 turns -0.0 into 0.0


def run_bench(
    bench_dir: Path,
    config: BenchConfig,
    refs: Sequence[InstanceRef],
    progress: Callable[[str], None] | None = None,
    solve: SolveFn | None = None,
    on_row: Callable[[BenchReport], None] | None = None,
) -> BenchReport:
    """Run the configured solvers on every instance: one after the other, or `config.jobs` side by side
    (each solver run stays a single process, so per-instance figures are comparable).

    `on_row` is called after each instance (the CLI rewrites the result file there, so a crash of a long
    run loses at most the instance in progress)."""
    if config.peer not in (None, "pyvrp"):
        raise ValueError(f"unknown peer {config.peer!r}; only 'pyvrp' is supported")
    if config.peer and config.suite not in SOLOMON_LAYOUT:
        raise ValueError(
            "--peer pyvrp runs on the Solomon and Homberger suites only (PyVRP has no battery model)"
        )
    if config.time_limit_s <= 0:
        raise ValueError(f"time limit must be positive, got {config.time_limit_s}")
    if config.clock not in clock.MODES:
        raise ValueError(f"clock {config.clock!r}: expected one of {', '.join(clock.MODES)}")
    bks_path = bench_dir / config.suite / "bks.csv"
    bks = read_bks(bks_path) if bks_path.is_file() else {}
    if config.jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {config.jobs}")
    solver = (solve or _load_solver()) if config.ours else None
    report = BenchReport(config)
    started = time.perf_counter()
    tasks: list[tuple[InstanceRef, str]] = []
    for ref in refs:
        if solver is not None:
            tasks.append((ref, "evfleet"))
        if config.peer == "pyvrp":
            tasks.append((ref, "pyvrp"))
    if config.jobs == 1 or solve is not None:  # an injected solve function cannot cross a process boundary
        results = (_run_task(ref, which, config, solver, progress) for ref, which in tasks)
        _collect(report, refs, tasks, results, bks, on_row, progress, started)
        return report
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=config.jobs, mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(_run_task, ref, which, config, None, None) for ref, which in tasks]

        def in_order():
            for (ref, which), fut in zip(tasks, futures):
                if progress:
                    progress(f"{ref.name}: {which}, {config.time_limit_s:g} s ({config.jobs} side by side)")
                yield fut.result()

        _collect(report, refs, tasks, in_order(), bks, on_row, progress, started)
    return report


def _run_task(
    ref: InstanceRef,
    which: str,
    config: BenchConfig,
    solver: SolveFn | None,
    progress: Callable[[str], None] | None,
) -> BenchResult:
    """One solver on one instance; a crash becomes an infeasible result (module level: runs in a pool)."""
    if progress:
        progress(f"{ref.name}: {which}, {config.time_limit_s:g} s")
    if which == "evfleet":
        return _guarded(ref, "evfleet", lambda: run_ours(ref, config, solver))
    return _guarded(ref, "pyvrp", lambda: run_pyvrp(ref, config))


def _collect(
    report: BenchReport,
    refs: Sequence[InstanceRef],
    tasks: list[tuple[InstanceRef, str]],
    results: Any,
    bks: dict,
    on_row: Callable[[BenchReport], None] | None,
    progress: Callable[[str], None] | None = None,
    started: float | None = None,
) -> None:
    """Group task results into one row per instance, in instance order, calling `on_row` as each row completes
    and telling `progress` the row's figures and the time left (a 60 + 60 instance run takes an hour)."""
    pending: dict[str, dict[str, BenchResult]] = {}
    want = {ref.name: sum(1 for r, _ in tasks if r.name == ref.name) for ref in refs}
    by_name = {ref.name: ref for ref in refs}
    for (ref, which), res in zip(tasks, results):
        got = pending.setdefault(ref.name, {})
        got[which] = res
        if len(got) == want[ref.name]:
            r = by_name[ref.name]
            report.rows.append(
                BenchRow(r.name, r.size, bks.get(r.name), got.get("evfleet"), got.get("pyvrp"))
            )
            if on_row is not None:
                on_row(report)
            if progress is not None and started is not None:
                progress(_row_line(report, len(refs), time.perf_counter() - started))


def _row_line(report: BenchReport, total: int, elapsed_s: float) -> str:
    """The last row as one progress line: each solver's vehicles, km and gap, and the estimated time left."""
    row = report.rows[-1]
    done = len(report.rows)
    left = elapsed_s / done * (total - done)
    ref = reference_distance(row.bks, report.config.objective)
    parts = []
    for res in (row.ours, row.peer):
        if res is None:
            continue
        if not res.feasible:
            parts.append(f"{res.solver} infeasible")
            continue
        gap = gap_pct(res.distance, ref)
        parts.append(
            f"{res.solver} {res.vehicles} veh {res.distance:.1f} km"
            + ("" if gap is None else f" ({gap:+.2f} %)")
        )
    o, q = row.ours, row.peer
    if o is not None and q is not None and o.feasible and q.feasible and o.vehicles > q.vehicles:
        parts.append("MORE vehicles than the peer")
    return (
        f"{row.instance} done ({done}/{total}, {elapsed_s / 60:.0f} min, about {left / 60:.0f} min left): "
        + "; ".join(parts)
    )


def result_entries(report: BenchReport, which: str) -> list[BenchResult]:
    """Results with the BKS and the signed gap added to each entry (for the JSON file)."""
    out = []
    for row in report.rows:
        res: BenchResult | None = getattr(row, which)
        if res is None:
            continue
        ref = reference_distance(row.bks, report.config.objective)
        g = gap_pct(res.distance, ref) if res.feasible else None
        extra = dict(res.extra)
        extra.update(
            {
                "bks_vehicles": reference_vehicles(row.bks, report.config.objective),
                "bks_distance": ref,
                "gap_pct": round(g, 4) if g is not None else None,
                "time_limit": report.config.time_limit_s,
                "objective": report.config.objective.value,
                "seed": report.config.seed,
                "clock": report.config.clock,
            }
        )
        out.append(
            BenchResult(
                res.instance,
                res.routes,
                res.distance,
                res.vehicles,
                res.seconds,
                res.feasible,
                res.solver,
                res.violations,
                extra,
            )
        )
    return out


# --------------------------------------------------------------------------------------------------------------
# Ruin-and-recreate iteration rate (compiled filter against the Python one)
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LnsRate:
    """Iterations of ``routing.lns.improve`` from the same constructed routes, one way of filtering."""

    instance: str
    routes: int
    compiled: bool
    iterations: int
    cpu_seconds: float
    wall_seconds: float
    best_km: float
    stations: bool = False
    """Stations placed by the DP (``routing.station_dp``) instead of the greedy repair: another search."""

    @property
    def per_cpu_second(self) -> float:
        return self.iterations / self.cpu_seconds if self.cpu_seconds > 0 else math.inf


def lns_rates(path: str | Path, iterations: int, seed: int = 0) -> list[LnsRate]:
    """Run a fixed number of ruin-and-recreate iterations from the same constructed routes (cheapest insertion
    plus plain route elimination, no time-dependent phase) with the Python filter and with the compiled one
    (``routing.kernels``): same seed, same start, so both searches are the same and end at the same km; only
    the time differs. Process CPU time is the figure to compare on a shared machine. Both run with the greedy
    station repair; where the station DP applies (E-VRPTW) a third run uses it with the compiled filter (a
    different search: its km differs)."""
    from routing.construct import Builder, eliminate_routes, job_order
    from routing.evaluate import Geometry
    from routing.io.detect import read_problem_file
    from routing.lns import improve
    from routing.solve import diagnose
    from routing.station_dp import StationPlacer

    problem, _ = read_problem_file(path)
    geo = Geometry.of(problem)
    builder = Builder(geo, diagnose(geo).allowed_types)
    vehicles = problem.vehicle_ids()
    start = builder.insert_all(vehicles, job_order(geo, list(problem.jobs)))
    start = eliminate_routes(builder, vehicles, start, time.monotonic() + 5.0)
    used = [v for v, r in enumerate(start) if r]
    fleet, routes = [vehicles[v] for v in used], [start[v] for v in used]
    out = []
    ways = [(False, False), (True, False)]
    if StationPlacer.usable(builder, fleet):
        ways.append((True, True))
    for compiled, stations in ways:
        c0, w0 = time.process_time(), time.perf_counter()
        _, log = improve(
            builder,
            fleet,
            routes,
            time.monotonic() + 1e6,
            seed=seed,
            compiled=compiled,
            max_iterations=iterations,
            stations=stations,
        )
        out.append(
            LnsRate(
                problem.name,
                len(used),
                compiled,
                log.iterations,
                time.process_time() - c0,
                time.perf_counter() - w0,
                log.best_km,
                stations,
            )
        )
    return out


def plain_rate(path: str | Path, iterations: int, seed: int = 0, local_search: bool = True) -> LnsRate | None:
    """Iterations per CPU second of the compiled plain-VRPTW search (``routing.plain``: SISR ruin-and-recreate,
    with or without its local search after each recreate) on the same file, at an iteration budget (half of
    it at most in the fleet phase); None when the problem is not plain. The kernels are compiled (or loaded
    from numba's cache) by a short warm-up run first, so compilation is not counted."""
    from routing import plain
    from routing.evaluate import Geometry
    from routing.io.detect import read_problem_file
    from routing.solve import diagnose

    problem, _ = read_problem_file(path)
    if plain.plain_reason(problem) is not None:
        return None
    geo = Geometry.of(problem)
    diag = diagnose(geo)
    vt = next(v for v in problem.vehicle_types if v.count > 0)
    arr = plain.to_arrays(geo, vt, [j for j in problem.jobs if j.id in diag.allowed_types])
    slots = min(vt.count, arr.n)
    hier = problem.objective is Objective.HIERARCHICAL
    g = plain.LS_NEIGHBOURS if local_search else 0
    plain.search(arr, slots, hier, math.inf, seed, max_iterations=10, ls_neighbours=g)  # warm-up
    c0, w0 = time.process_time(), time.perf_counter()
    res = plain.search(arr, slots, hier, math.inf, seed, max_iterations=iterations, ls_neighbours=g)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    if res is None:
        return None
    return LnsRate(problem.name, len(res.routes), True, res.iterations, cpu, wall, res.km)
