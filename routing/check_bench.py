"""Checker for benchmark results: routes as id lists against a Solomon or E-VRPTW instance file.

Works on the parsed text files directly (not on `RoutingProblem`), with the suites' own rules from
`docs/benchmarks.md`, so a result file can be verified without trusting any conversion done by the solver
side. Every figure is recomputed in double precision; the reported distance and vehicle count are compared
with the recomputed ones.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from routing.check import DEFAULT_TOLERANCE, Constraint, Violation
from routing.io.evrptw import EvrptwInstance, read_evrptw
from routing.io.solomon import SolomonInstance, read_solomon

REPORTED_DISTANCE_TOLERANCE = 0.01
"""Reported distances are often rounded to 2 decimals; a larger difference is a MISMATCH [distance units]."""


@dataclass(frozen=True)
class RouteSetCheck:
    """Verdict on one instance's routes, with the recomputed distance and vehicle count."""

    instance: str
    distance: float
    vehicles: int
    violations: tuple[Violation, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations

    def summary(self, limit: int = 5) -> str:
        if self.feasible:
            return "feasible"
        head = "; ".join(str(v) for v in self.violations[:limit])
        more = f" (+{len(self.violations) - limit} more)" if len(self.violations) > limit else ""
        return f"{len(self.violations)} violation(s): {head}{more}"


def _dist(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def check_solomon_routes(
    instance: SolomonInstance,
    routes: Sequence[Sequence[int | str]],
    reported_distance: float | None = None,
    reported_vehicles: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> RouteSetCheck:
    """Routes of customer numbers (depot 0 left out) against a Solomon instance.

    Rules: every customer exactly once; load per route <= capacity; travel time = Euclidean distance; service
    starts at max(arrival, ready) and must not be after the due date; back at the depot by its due date; at
    most the file's number of vehicles.
    """
    out: list[Violation] = []
    nodes = instance.nodes
    depot = instance.depot
    seen: Counter[int] = Counter()
    total = 0.0
    used = 0
    for r, route in enumerate(routes):
        vid = f"route {r + 1}"
        if not route:
            continue
        used += 1
        t, load, prev, km = depot.ready, 0.0, depot, 0.0
        for k, raw in enumerate(route):
            num = _as_int(raw)
            if num is None or not 1 <= num < len(nodes):
                out.append(
                    Violation(
                        Constraint.UNKNOWN_ID,
                        "not a customer number of this instance",
                        vehicle=vid,
                        stop=k,
                        where=str(raw),
                    )
                )
                continue
            node = nodes[num]
            seen[num] += 1
            d = _dist((prev.x, prev.y), (node.x, node.y))
            km += d
            arrival = t + d
            start = max(arrival, node.ready)
            if start > node.due + tolerance:
                out.append(
                    Violation(
                        Constraint.TIME_WINDOW,
                        "service starts after the due date",
                        vehicle=vid,
                        stop=k,
                        where=str(num),
                        quantity="service_start",
                        expected=node.due,
                        found=start,
                    )
                )
            t = start + node.service
            load += node.demand
            prev = node
        d = _dist((prev.x, prev.y), (depot.x, depot.y))
        km += d
        t += d
        if t > depot.due + tolerance:
            out.append(
                Violation(
                    Constraint.SHIFT_END,
                    "back at the depot after its due date",
                    vehicle=vid,
                    where="0",
                    quantity="arrival",
                    expected=depot.due,
                    found=t,
                )
            )
        if load > instance.capacity + tolerance:
            out.append(
                Violation(
                    Constraint.PAYLOAD,
                    "route load exceeds the vehicle capacity",
                    vehicle=vid,
                    quantity="load",
                    expected=instance.capacity,
                    found=load,
                )
            )
        total += km
    if used > instance.vehicles:
        out.append(
            Violation(
                Constraint.VEHICLE,
                "more routes than vehicles in the instance",
                quantity="vehicles",
                expected=float(instance.vehicles),
                found=float(used),
            )
        )
    _coverage(out, seen, [str(n.number) for n in instance.customers], key=int)
    _reported(out, total, used, reported_distance, reported_vehicles)
    return RouteSetCheck(instance.name, total, used, tuple(out))


def check_evrptw_routes(
    instance: EvrptwInstance,
    routes: Sequence[Sequence[str]],
    reported_distance: float | None = None,
    reported_vehicles: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> RouteSetCheck:
    """Routes of StringIDs (stations included, depot D0 left out at both ends) against an E-VRPTW instance.

    Rules (Schneider et al. 2014): leave D0 at its ready time with a full battery Q; an arc costs r x distance
    energy and distance / v time; the charge on arrival anywhere must be >= 0; service at a customer starts at
    max(arrival, ready) and not after its due date; a station visit (arrival not after its due date)
    recharges to Q and takes g x (Q - charge on arrival); stations may repeat; every customer exactly once;
    load per route <= C; back at D0 by its due date.
    """
    out: list[Violation] = []
    depot = instance.depot
    by_id = {n.string_id: n for n in instance.nodes}
    q, r_rate, g, v = (
        instance.battery_capacity,
        instance.consumption_rate,
        instance.recharge_time_per_unit,
        instance.speed,
    )
    seen: Counter[str] = Counter()
    total = 0.0
    used = 0
    for ri, route in enumerate(routes):
        vid = f"route {ri + 1}"
        if not route:
            continue
        used += 1
        t, load, prev, km, charge = depot.ready, 0.0, depot, 0.0, q
        for k, sid in enumerate(route):
            node = by_id.get(str(sid))
            if node is None or node.kind == "d":
                why = (
                    "the depot must be left out of routes"
                    if node is not None
                    else "not a StringID of this instance"
                )
                out.append(Violation(Constraint.UNKNOWN_ID, why, vehicle=vid, stop=k, where=str(sid)))
                continue
            d = _dist((prev.x, prev.y), (node.x, node.y))
            km += d
            arrival = t + d / v
            charge -= r_rate * d
            if charge < -tolerance:
                out.append(
                    Violation(
                        Constraint.RESERVE_SOC,
                        "battery charge below zero on arrival",
                        vehicle=vid,
                        stop=k,
                        where=node.string_id,
                        quantity="charge",
                        expected=0.0,
                        found=charge,
                    )
                )
            start = max(arrival, node.ready)
            if start > node.due + tolerance:
                out.append(
                    Violation(
                        Constraint.TIME_WINDOW,
                        "arrives after the due date",
                        vehicle=vid,
                        stop=k,
                        where=node.string_id,
                        quantity="service_start",
                        expected=node.due,
                        found=start,
                    )
                )
            if node.kind == "f":
                t = start + g * (q - charge)
                charge = q
            else:
                seen[node.string_id] += 1
                t = start + node.service
                load += node.demand
            prev = node
        d = _dist((prev.x, prev.y), (depot.x, depot.y))
        km += d
        t += d / v
        charge -= r_rate * d
        if charge < -tolerance:
            out.append(
                Violation(
                    Constraint.RESERVE_SOC,
                    "battery charge below zero back at the depot",
                    vehicle=vid,
                    where=depot.string_id,
                    quantity="charge",
                    expected=0.0,
                    found=charge,
                )
            )
        if t > depot.due + tolerance:
            out.append(
                Violation(
                    Constraint.SHIFT_END,
                    "back at the depot after its due date",
                    vehicle=vid,
                    where=depot.string_id,
                    quantity="arrival",
                    expected=depot.due,
                    found=t,
                )
            )
        if load > instance.load_capacity + tolerance:
            out.append(
                Violation(
                    Constraint.PAYLOAD,
                    "route load exceeds the load capacity C",
                    vehicle=vid,
                    quantity="load",
                    expected=instance.load_capacity,
                    found=load,
                )
            )
        total += km
    _coverage(out, seen, [n.string_id for n in instance.customers], key=str)
    _reported(out, total, used, reported_distance, reported_vehicles)
    return RouteSetCheck(instance.name, total, used, tuple(out))


def _as_int(raw: int | str) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    try:
        return int(str(raw))
    except ValueError:
        return None


def _coverage(out: list[Violation], seen: Counter, customers: list[str], key) -> None:
    for cid in customers:
        n = seen[key(cid)]
        if n == 0:
            out.append(
                Violation(
                    Constraint.MISSING_JOB,
                    "customer not served",
                    where=cid,
                    quantity="visits",
                    expected=1.0,
                    found=0.0,
                )
            )
        elif n > 1:
            out.append(
                Violation(
                    Constraint.DUPLICATE_JOB,
                    f"customer served {n} times",
                    where=cid,
                    quantity="visits",
                    expected=1.0,
                    found=float(n),
                )
            )


def _reported(
    out: list[Violation], distance: float, vehicles: int, rep_d: float | None, rep_v: int | None
) -> None:
    if rep_d is not None and abs(rep_d - distance) > REPORTED_DISTANCE_TOLERANCE:
        out.append(
            Violation(
                Constraint.MISMATCH,
                "reported distance differs from the recomputed one",
                quantity="distance",
                expected=distance,
                found=float(rep_d),
            )
        )
    if rep_v is not None and rep_v != vehicles:
        out.append(
            Violation(
                Constraint.MISMATCH,
                "reported vehicle count differs from the non-empty routes",
                quantity="vehicles",
                expected=float(vehicles),
                found=float(rep_v),
            )
        )


# --------------------------------------------------------------------------------------------------------------
# Result files
# --------------------------------------------------------------------------------------------------------------


def find_instance_file(bench_dir: Path, suite: str, name: str) -> Path:
    """Path of an instance in the benchmark folder (`solomon/<NAME>.txt`, `evrptw/<size>/<name>.txt`)."""
    if suite == "solomon":
        path = bench_dir / "solomon" / f"{name.upper()}.txt"
        if path.is_file():
            return path
    elif suite == "evrptw":
        hits = sorted((bench_dir / "evrptw").glob(f"*/{name}.txt"))
        if hits:
            return hits[0]
    else:
        raise ValueError(f"unknown suite {suite!r} (solomon or evrptw)")
    raise FileNotFoundError(f"no {suite} instance named {name!r} under {bench_dir}")


def check_result_entry(bench_dir: Path, suite: str, entry: dict) -> RouteSetCheck:
    """Check one `{"instance", "routes", "distance", "vehicles", ...}` entry of a result file."""
    for key in ("instance", "routes"):
        if key not in entry:
            raise ValueError(f"result entry lacks {key!r}: {sorted(entry)}")
    path = find_instance_file(bench_dir, suite, entry["instance"])
    if suite == "solomon":
        return check_solomon_routes(
            read_solomon(path), entry["routes"], entry.get("distance"), entry.get("vehicles")
        )
    return check_evrptw_routes(
        read_evrptw(path), entry["routes"], entry.get("distance"), entry.get("vehicles")
    )


def check_result_file(path: str | Path, suite: str, bench_dir: str | Path) -> list[tuple[str, RouteSetCheck]]:
    """Check every entry of a `{"results": [...], "peer_results": [...]}` file against the instances in
    `bench_dir`; returns (solver, check) pairs, solver taken from the entry or 'results'/'peer_results'."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON result file ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        # A malformed file is a bad value, not a programming error: callers catch ValueError for both cases.
        raise ValueError(f"{path}: expected an object with a 'results' list")  # noqa: TRY004
    out = []
    for key in ("results", "peer_results"):
        for entry in data.get(key) or []:
            out.append((str(entry.get("solver", key)), check_result_entry(Path(bench_dir), suite, entry)))
    return out
