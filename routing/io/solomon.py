"""Solomon (1987) VRPTW text files.

Layout: the instance name, a VEHICLE block (NUMBER, CAPACITY) and a CUSTOMER block with one row per node
(number, x, y, demand, ready time, due date, service time); node 0 is the depot. Benchmark conventions
(`docs/benchmarks.md`, section solomon/): Euclidean distance in double precision, travel time equal to
distance, time windows bound the start of service, waiting allowed, every route back at the depot by its due
date.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING


class InstanceFormatError(ValueError):
    """A benchmark file does not follow its format; the message names the file and line."""


@dataclass(frozen=True)
class SolomonNode:
    """One row of the CUSTOMER block [distance and time in instance units]."""

    number: int
    x: float
    y: float
    demand: float
    ready: float
    due: float
    service: float


@dataclass(frozen=True)
class SolomonInstance:
    """A parsed Solomon file; `nodes[0]` is the depot, `nodes[k]` is customer k."""

    name: str
    vehicles: int
    capacity: float
    nodes: tuple[SolomonNode, ...]

    @property
    def depot(self) -> SolomonNode:
        return self.nodes[0]

    @property
    def customers(self) -> tuple[SolomonNode, ...]:
        return self.nodes[1:]


def read_solomon(path: str | Path) -> SolomonInstance:
    """Parse a Solomon instance file; errors name the file, line and field."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise InstanceFormatError(f"{path}: cannot read ({exc.strerror})") from None
    stripped = [(no + 1, line.strip()) for no, line in enumerate(lines)]
    content = [(no, line) for no, line in stripped if line]
    if not content:
        raise InstanceFormatError(f"{path}: empty file")
    name = content[0][1]
    upper = [line.upper() for _, line in content]
    try:
        v_at = upper.index("VEHICLE")
        c_at = upper.index("CUSTOMER")
    except ValueError:
        raise InstanceFormatError(f"{path}: missing VEHICLE or CUSTOMER section header") from None
    vehicles = capacity = None
    for no, line in content[v_at + 1 : c_at]:
        fields = line.split()
        if fields and fields[0].upper() == "NUMBER":
            continue
        if len(fields) != 2:
            raise InstanceFormatError(f"{path}:{no}: VEHICLE block expects 'NUMBER CAPACITY', got {line!r}")
        vehicles = _int(path, no, "vehicle number", fields[0])
        capacity = _float(path, no, "vehicle capacity", fields[1])
    if vehicles is None or capacity is None:
        raise InstanceFormatError(f"{path}: VEHICLE block has no 'NUMBER CAPACITY' row")
    nodes: list[SolomonNode] = []
    for no, line in content[c_at + 1 :]:
        fields = line.split()
        if fields[0].upper().startswith("CUST"):
            continue
        if len(fields) != 7:
            raise InstanceFormatError(
                f"{path}:{no}: customer row needs 7 fields, got {len(fields)}: {line!r}"
            )
        number = _int(path, no, "customer number", fields[0])
        if number != len(nodes):
            raise InstanceFormatError(
                f"{path}:{no}: customer number {number}, expected {len(nodes)} (rows in order)"
            )
        x, y, demand, ready, due, service = (
            _float(path, no, label, v)
            for label, v in zip(("x", "y", "demand", "ready time", "due date", "service time"), fields[1:])
        )
        if due < ready:
            raise InstanceFormatError(f"{path}:{no}: due date {due} before ready time {ready}")
        if demand < 0 or service < 0:
            raise InstanceFormatError(f"{path}:{no}: negative demand or service time")
        nodes.append(SolomonNode(number, x, y, demand, ready, due, service))
    if len(nodes) < 2:
        raise InstanceFormatError(f"{path}: no customers after the depot row")
    return SolomonInstance(name=name, vehicles=vehicles, capacity=capacity, nodes=tuple(nodes))


def _float(path: Path, line: int, label: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InstanceFormatError(f"{path}:{line}: {label} {text!r} is not a number") from None


def _int(path: Path, line: int, label: str, text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise InstanceFormatError(f"{path}:{line}: {label} {text!r} is not a number") from None
    if value != int(value):
        raise InstanceFormatError(f"{path}:{line}: {label} {text!r} is not an integer")
    return int(value)


def solomon_to_problem(
    instance: SolomonInstance,
    objective: Objective | None = None,
    vehicles: int | None = None,
) -> RoutingProblem:
    """Map a Solomon instance onto the solver's problem types, keeping the benchmark conventions.

    One distance unit is read as 1 km and one time unit as 1 min with `speed_kmh = 60`, so travel time equals
    the Euclidean distance (double precision, planar coordinates). Location ids are the node numbers as text
    ('0' is the depot) and job ids equal their location ids, so a route's `stop_ids` are the customer numbers
    of the benchmark result format. The fleet has `instance.vehicles` identical vehicles (the file's NUMBER)
    unless `vehicles` overrides it; they carry no energy model (diesel type at 0 L/100 km) and must be back
    at the depot by its due date.
    """
    from routing.problem import Job, Location, Objective, RoutingProblem, TimeWindow, VehicleKind, VehicleType

    depot = instance.depot
    locations = tuple(Location(str(n.number), x=n.x, y=n.y) for n in instance.nodes)
    jobs = tuple(
        Job(
            id=str(n.number),
            location=str(n.number),
            demand_kg=n.demand,
            time_windows=(TimeWindow(n.ready, n.due),),
            service_minutes=n.service,
        )
        for n in instance.customers
    )
    fleet = VehicleType(
        id="vehicle",
        count=instance.vehicles if vehicles is None else vehicles,
        payload_kg=instance.capacity,
        start_depot=str(depot.number),
        kind=VehicleKind.DIESEL,
        diesel_l_per_100km=0.0,
        shift_start=depot.ready,
        shift_end=depot.due,
        speed_kmh=60.0,
    )
    return RoutingProblem(
        locations=locations,
        jobs=jobs,
        vehicle_types=(fleet,),
        objective=Objective.HIERARCHICAL if objective is None else objective,
        name=instance.name,
    )


if TYPE_CHECKING:  # pragma: no cover
    from routing.problem import Objective, RoutingProblem
