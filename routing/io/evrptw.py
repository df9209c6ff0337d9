"""Schneider, Stenger & Goeke (2014) E-VRPTW text files.

Layout: a header row, one row per location (StringID, Type d/f/c, x, y, demand, ReadyTime, DueDate,
ServiceTime), then the vehicle parameters as `<letter> <text> /<value>/`: Q battery capacity [energy units],
C load capacity, r energy per distance unit, g time per energy unit recharged, v speed (time = distance / v).
Semantics (`docs/benchmarks.md`, section evrptw/): vehicles leave D0 fully charged; charge never below
zero; a station visit recharges fully and takes g * (Q - charge on arrival); stations may be visited several
times and consecutively; S0 stands at the depot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from routing.io.solomon import InstanceFormatError

_PARAM = re.compile(r"^([A-Za-z])\b.*/\s*([-+0-9.eE]+)\s*/\s*$")


@dataclass(frozen=True)
class EvrptwNode:
    """One location row; `kind` is 'd' (depot), 'f' (recharging station) or 'c' (customer)."""

    string_id: str
    kind: str
    x: float
    y: float
    demand: float
    ready: float
    due: float
    service: float


@dataclass(frozen=True)
class EvrptwInstance:
    """A parsed E-VRPTW file; `nodes` in file order (depot first)."""

    name: str
    nodes: tuple[EvrptwNode, ...]
    battery_capacity: float
    """Q [energy units]."""
    load_capacity: float
    """C [demand units]."""
    consumption_rate: float
    """r [energy units per distance unit]."""
    recharge_time_per_unit: float
    """g [time units per energy unit] (the file's 'inverse refueling rate')."""
    speed: float
    """v [distance units per time unit]."""

    @property
    def depot(self) -> EvrptwNode:
        return next(n for n in self.nodes if n.kind == "d")

    @property
    def stations(self) -> tuple[EvrptwNode, ...]:
        return tuple(n for n in self.nodes if n.kind == "f")

    @property
    def customers(self) -> tuple[EvrptwNode, ...]:
        return tuple(n for n in self.nodes if n.kind == "c")

    def node(self, string_id: str) -> EvrptwNode:
        for n in self.nodes:
            if n.string_id == string_id:
                return n
        raise KeyError(string_id)


def read_evrptw(path: str | Path) -> EvrptwInstance:
    """Parse an E-VRPTW instance file; errors name the file, line and field."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise InstanceFormatError(f"{path}: cannot read ({exc.strerror})") from None
    nodes: list[EvrptwNode] = []
    params: dict[str, float] = {}
    seen: set[str] = set()
    header_seen = False
    for no, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if not header_seen:
            if not line.lower().startswith("stringid"):
                raise InstanceFormatError(
                    f"{path}:{no}: expected the 'StringID Type x y ...' header, got {line!r}"
                )
            header_seen = True
            continue
        if "/" in line:
            m = _PARAM.match(line)
            if not m:
                raise InstanceFormatError(
                    f"{path}:{no}: parameter row must look like 'Q text /value/', got {line!r}"
                )
            params[m.group(1)] = _float(path, no, m.group(1), m.group(2))
            continue
        fields = line.split()
        if len(fields) != 8:
            raise InstanceFormatError(
                f"{path}:{no}: location row needs 8 fields, got {len(fields)}: {line!r}"
            )
        sid, kind = fields[0], fields[1].lower()
        if kind not in ("d", "f", "c"):
            raise InstanceFormatError(f"{path}:{no}: Type {fields[1]!r} of {sid} is not d, f or c")
        if sid in seen:
            raise InstanceFormatError(f"{path}:{no}: duplicate StringID {sid}")
        seen.add(sid)
        x, y, demand, ready, due, service = (
            _float(path, no, label, v)
            for label, v in zip(("x", "y", "demand", "ReadyTime", "DueDate", "ServiceTime"), fields[2:])
        )
        if due < ready:
            raise InstanceFormatError(f"{path}:{no}: DueDate {due} before ReadyTime {ready} for {sid}")
        nodes.append(EvrptwNode(sid, kind, x, y, demand, ready, due, service))
    if not header_seen:
        raise InstanceFormatError(f"{path}: empty file")
    depots = [n for n in nodes if n.kind == "d"]
    if len(depots) != 1:
        raise InstanceFormatError(f"{path}: expected exactly one depot (Type d), found {len(depots)}")
    if not any(n.kind == "c" for n in nodes):
        raise InstanceFormatError(f"{path}: no customers (Type c)")
    missing = [k for k in "QCrgv" if k not in params]
    if missing:
        raise InstanceFormatError(
            f"{path}: missing vehicle parameter(s) {', '.join(missing)} ('X text /value/')"
        )
    for k in "QCgv":
        if params[k] <= 0 and k != "g":
            raise InstanceFormatError(f"{path}: parameter {k} must be positive, got {params[k]}")
    return EvrptwInstance(
        name=path.stem,
        nodes=tuple(nodes),
        battery_capacity=params["Q"],
        load_capacity=params["C"],
        consumption_rate=params["r"],
        recharge_time_per_unit=params["g"],
        speed=params["v"],
    )


def _float(path: Path, line: int, label: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InstanceFormatError(f"{path}:{line}: {label} {text!r} is not a number") from None


def evrptw_to_problem(
    instance: EvrptwInstance,
    objective: Objective | None = None,
    vehicles: int | None = None,
) -> RoutingProblem:
    """Map an E-VRPTW instance onto the solver's problem types, keeping the benchmark conventions.

    As the `routing.problem` docstring's 'Benchmark mapping': distance unit = 1 km, time unit = 1 min with
    `speed_kmh = 60 * v`; energy units are kWh with `consumption = r` (no load dependence); every station has
    `power_kw = 60 / g`, so a full recharge takes g * (Q - charge on arrival) minutes; reserve 0, leave full,
    `RechargePolicy.FULL`. Ids are the file's StringIDs (D0 depot, S* stations, C* customers), so `stop_ids`
    are the benchmark route format. The fleet is unlimited in the benchmark; `vehicles` defaults to one per
    customer (an upper bound). Vehicles must be back at D0 by its due date.
    """
    from routing import problem as rp

    depot = instance.depot
    locations = tuple(rp.Location(n.string_id, x=n.x, y=n.y) for n in instance.nodes)
    jobs = tuple(
        rp.Job(
            id=n.string_id,
            location=n.string_id,
            demand_kg=n.demand,
            time_windows=(rp.TimeWindow(n.ready, n.due),),
            service_minutes=n.service,
        )
        for n in instance.customers
    )
    if instance.recharge_time_per_unit <= 0:
        raise ValueError(
            f"{instance.name}: g = {instance.recharge_time_per_unit} gives no finite charging power"
        )
    stations = tuple(
        rp.ChargingStation(
            id=n.string_id, location=n.string_id, power_kw=60.0 / instance.recharge_time_per_unit
        )
        for n in instance.stations
    )
    fleet = rp.VehicleType(
        id="ev",
        count=len(instance.customers) if vehicles is None else vehicles,
        payload_kg=instance.load_capacity,
        start_depot=depot.string_id,
        kind=rp.VehicleKind.ELECTRIC,
        battery=rp.Battery(
            capacity_kwh=instance.battery_capacity,
            consumption_empty_kwh_per_km=instance.consumption_rate,
            consumption_full_kwh_per_km=instance.consumption_rate,
            reserve_soc=0.0,
            initial_soc=1.0,
        ),
        shift_start=depot.ready,
        shift_end=depot.due,
        speed_kmh=60.0 * instance.speed,
    )
    return rp.RoutingProblem(
        locations=locations,
        jobs=jobs,
        vehicle_types=(fleet,),
        stations=stations,
        recharge_policy=rp.RechargePolicy.FULL,
        objective=rp.Objective.HIERARCHICAL if objective is None else objective,
        name=instance.name,
    )


if TYPE_CHECKING:  # pragma: no cover
    from routing.problem import Objective, RoutingProblem
