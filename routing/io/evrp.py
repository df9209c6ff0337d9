"""EVRP competition files (``.evrp``): the electric capacitated VRP of the CEC-12 (2020) benchmark.

Layout (TSPLIB-like, Mavrovouniotis et al., "A Benchmark Test Suite for the Electric Capacitated Vehicle Routing
Problem", IEEE CEC 2020, doi:10.1109/CEC48606.2020.9185753): ``KEY: value`` header rows (NAME, TYPE: EVRP,
OPTIMAL_VALUE, VEHICLES = the minimum number of vehicles, DIMENSION = customers + depot, STATIONS, CAPACITY,
ENERGY_CAPACITY, ENERGY_CONSUMPTION, EDGE_WEIGHT_TYPE: EUC_2D), then NODE_COORD_SECTION (``id x y``, DIMENSION +
STATIONS rows), DEMAND_SECTION (``id demand``, DIMENSION rows), STATIONS_COORD_SECTION (one station id per row),
DEPOT_SECTION (the depot id, ``-1``) and EOF.

Semantics: Euclidean distance; energy used on an arc = ENERGY_CONSUMPTION x distance; vehicles leave the depot
full; a station (and the depot) recharges fully; no time windows, charging time is not counted; the fleet is
unlimited (VEHICLES is a lower bound) and the objective is the total distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from routing.io.solomon import InstanceFormatError

EVRP_CHARGER_KW = 1.0e6
"""Station power given to the mapped problem [kW]: the competition does not count charging time, so a full
recharge of a few hundred energy units takes well under a second of the (unbounded) day."""


@dataclass(frozen=True)
class EvrpInstance:
    """A parsed ``.evrp`` file [distance and energy in instance units]."""

    name: str
    min_vehicles: int | None
    optimal_value: float | None
    capacity: float
    energy_capacity: float
    energy_consumption: float
    coords: dict[int, tuple[float, float]]
    demands: dict[int, float]
    stations: tuple[int, ...]
    depot: int

    @property
    def customers(self) -> tuple[int, ...]:
        """Node ids with a demand row, the depot and stations left out, in id order."""
        st = set(self.stations)
        return tuple(sorted(n for n in self.demands if n != self.depot and n not in st))


_SECTIONS = ("NODE_COORD_SECTION", "DEMAND_SECTION", "STATIONS_COORD_SECTION", "DEPOT_SECTION")


def read_evrp(path: str | Path) -> EvrpInstance:
    """Parse an EVRP competition file; errors name the file, line and field."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise InstanceFormatError(f"{path}: cannot read ({exc.strerror})") from None
    header: dict[str, str] = {}
    coords: dict[int, tuple[float, float]] = {}
    demands: dict[int, float] = {}
    stations: list[int] = []
    depots: list[int] = []
    section = None
    for no, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        upper = line.upper()
        if upper == "EOF":
            break
        if upper in _SECTIONS:
            section = upper
            continue
        if section is None:
            if ":" not in line:
                raise InstanceFormatError(
                    f"{path}:{no}: header row must look like 'KEY: value', got {line!r}"
                )
            key, value = line.split(":", 1)
            header[key.strip().upper()] = value.strip()
            continue
        fields = line.split()
        if section == "NODE_COORD_SECTION":
            if len(fields) != 3:
                raise InstanceFormatError(f"{path}:{no}: NODE_COORD_SECTION row needs 'id x y', got {line!r}")
            coords[_int(path, no, "node id", fields[0])] = (
                _float(path, no, "x", fields[1]),
                _float(path, no, "y", fields[2]),
            )
        elif section == "DEMAND_SECTION":
            if len(fields) != 2:
                raise InstanceFormatError(f"{path}:{no}: DEMAND_SECTION row needs 'id demand', got {line!r}")
            demand = _float(path, no, "demand", fields[1])
            if demand < 0:
                raise InstanceFormatError(f"{path}:{no}: negative demand {demand}")
            demands[_int(path, no, "node id", fields[0])] = demand
        elif section == "STATIONS_COORD_SECTION":
            stations.append(_int(path, no, "station id", fields[0]))
        else:
            node = _int(path, no, "depot id", fields[0])
            if node != -1:
                depots.append(node)
    for key in ("CAPACITY", "ENERGY_CAPACITY", "ENERGY_CONSUMPTION"):
        if key not in header:
            raise InstanceFormatError(f"{path}: header field {key} is missing")
    capacity = _float(path, 0, "CAPACITY", header["CAPACITY"])
    energy_capacity = _float(path, 0, "ENERGY_CAPACITY", header["ENERGY_CAPACITY"])
    consumption = _float(path, 0, "ENERGY_CONSUMPTION", header["ENERGY_CONSUMPTION"])
    for key, value in (
        ("CAPACITY", capacity),
        ("ENERGY_CAPACITY", energy_capacity),
        ("ENERGY_CONSUMPTION", consumption),
    ):
        if value <= 0:
            raise InstanceFormatError(f"{path}: header field {key} = {value} must be positive")
    if len(depots) != 1:
        raise InstanceFormatError(f"{path}: DEPOT_SECTION must name exactly one depot, found {len(depots)}")
    if not demands:
        raise InstanceFormatError(f"{path}: DEMAND_SECTION is missing or empty")
    unknown = sorted(n for n in [*demands, *stations, *depots] if n not in coords)
    if unknown:
        raise InstanceFormatError(f"{path}: node(s) {unknown[:5]} have no row in NODE_COORD_SECTION")
    name = header.get("NAME") or path.stem
    vehicles = header.get("VEHICLES")
    optimal = header.get("OPTIMAL_VALUE")
    return EvrpInstance(
        name=name,
        min_vehicles=_int(path, 0, "VEHICLES", vehicles) if vehicles else None,
        optimal_value=_float(path, 0, "OPTIMAL_VALUE", optimal) if optimal else None,
        capacity=capacity,
        energy_capacity=energy_capacity,
        energy_consumption=consumption,
        coords=coords,
        demands=demands,
        stations=tuple(stations),
        depot=depots[0],
    )


def _float(path: Path, line: int, label: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        where = f"{path}:{line}" if line else str(path)
        raise InstanceFormatError(f"{where}: {label} {text!r} is not a number") from None


def _int(path: Path, line: int, label: str, text: str) -> int:
    value = _float(path, line, label, text)
    if value != int(value):
        where = f"{path}:{line}" if line else str(path)
        raise InstanceFormatError(f"{where}: {label} {text!r} is not an integer")
    return int(value)


def evrp_to_problem(
    instance: EvrpInstance, objective: Objective | None = None, vehicles: int | None = None
) -> RoutingProblem:
    """Map an EVRP competition instance onto the solver's problem types, keeping its conventions.

    Location and job ids are the file's node numbers as text. Distance unit = 1 km; energy unit = 1 kWh with
    consumption ENERGY_CONSUMPTION per km (no load dependence); every station, and the depot (the competition
    lets vehicles recharge there), charges fully at ``EVRP_CHARGER_KW`` so charging time is negligible; no time
    windows and no shift end. The fleet is unlimited in the benchmark: ``vehicles`` defaults to one per customer.
    Objective: DISTANCE (the competition's) unless given.
    """
    from routing import problem as rp

    depot = str(instance.depot)
    node_ids = [n for n in sorted(instance.coords) if n in instance.demands or n in instance.stations]
    locations = tuple(rp.Location(str(n), x=instance.coords[n][0], y=instance.coords[n][1]) for n in node_ids)
    jobs = tuple(
        rp.Job(id=str(n), location=str(n), demand_kg=instance.demands[n]) for n in instance.customers
    )
    station_nodes = list(dict.fromkeys([*instance.stations, instance.depot]))
    stations = tuple(
        rp.ChargingStation(id=f"S{n}", location=str(n), power_kw=EVRP_CHARGER_KW) for n in station_nodes
    )
    fleet = rp.VehicleType(
        id="ev",
        count=len(jobs) if vehicles is None else vehicles,
        payload_kg=instance.capacity,
        start_depot=depot,
        kind=rp.VehicleKind.ELECTRIC,
        battery=rp.Battery(
            capacity_kwh=instance.energy_capacity,
            consumption_empty_kwh_per_km=instance.energy_consumption,
            consumption_full_kwh_per_km=instance.energy_consumption,
        ),
        speed_kmh=60.0,
    )
    return rp.RoutingProblem(
        locations=locations,
        jobs=jobs,
        vehicle_types=(fleet,),
        stations=stations,
        recharge_policy=rp.RechargePolicy.FULL,
        objective=rp.Objective.DISTANCE if objective is None else objective,
        name=instance.name,
    )


if TYPE_CHECKING:  # pragma: no cover
    from routing.problem import Objective, RoutingProblem
