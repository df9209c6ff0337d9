"""Solver output: routes with per-stop times, load and state of charge; unserved jobs with reasons.

Units as in ``routing.problem``: [min] from the problem's time origin, [km], [kWh], [kg], [L], currency.
Every figure here is recomputed in floating point from the problem by the solver after the search (not
read back from OR-Tools' integer variables), so ``routing.check`` can compare it with its own recomputation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class StopKind(str, Enum):
    JOB = "job"
    STATION = "station"
    RELOAD = "reload"  # back at the start depot between two trips (routing.problem, 'Multi-trip')
    BREAK = "break"  # a driver's rest where the vehicle is (routing.problem, 'Driver breaks')


class UnservedReason(str, Enum):
    """Why a job is not on any route."""

    OUT_OF_RANGE = (
        "out_of_range"  # no vehicle can reach it and return within its usable battery, even via stations
    )
    TIME_WINDOW = "time_window"  # every window closes before any vehicle can get there (or back in shift)
    CAPACITY = "capacity"  # demand above every usable vehicle's payload
    NO_VEHICLE_KIND = "no_vehicle_kind"  # requires a vehicle kind the fleet does not have
    ACCESS_ZONE = (
        "access_zone"  # in an access zone closed to every vehicle type that could carry it (windows, shift)
    )
    DROPPED = "dropped"  # servable on its own, but the search left it out (fleet too small, optional job)


@dataclass(frozen=True)
class Stop:
    """One visit between the depots. ``id`` is a job id or a station id (``kind`` says which); for a RELOAD or
    a BREAK it is the location id.

    ``arrival``/``service_start``/``departure`` [min]; at a station ``service_start == arrival`` and
    ``departure = arrival + charging_minutes``; at a RELOAD ``departure = arrival + max(reload_minutes,
    charging_minutes)``; a BREAK lasts ``departure - arrival``. ``load_kg`` is the load on board on DEPARTURE
    from the stop (after a RELOAD: the next trip's load).
    ``soc_arrival_kwh``/``soc_departure_kwh`` are None for diesel vehicles.
    """

    kind: StopKind
    id: str
    location: str
    arrival: float
    service_start: float
    departure: float
    load_kg: float
    soc_arrival_kwh: float | None = None
    soc_departure_kwh: float | None = None
    energy_charged_kwh: float = 0.0
    charging_minutes: float = 0.0


@dataclass(frozen=True)
class Route:
    """One used vehicle: leaves ``start_depot`` at ``departure``, visits ``stops``, reaches ``end_depot``.

    ``energy_kwh`` is the energy driven (consumed), not charged; ``fuel_l`` is for diesel vehicles.
    ``load_departure_kg`` is the load on leaving the start depot (with reloads: the first trip's).
    ``cost = fixed_cost + cost_per_km * distance_km + cost_per_hour * duration_minutes / 60``.
    """

    vehicle_id: str
    vehicle_type: str
    start_depot: str
    end_depot: str
    departure: float
    arrival: float
    stops: tuple[Stop, ...]
    load_departure_kg: float
    distance_km: float
    energy_kwh: float = 0.0
    fuel_l: float = 0.0
    cost: float = 0.0
    soc_departure_kwh: float | None = None
    soc_arrival_kwh: float | None = None
    energy_charged_kwh: float = 0.0
    charging_minutes: float = 0.0

    @property
    def duration_minutes(self) -> float:
        return self.arrival - self.departure

    @property
    def job_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.stops if s.kind is StopKind.JOB)

    @property
    def stop_ids(self) -> tuple[str, ...]:
        """Jobs and stations in visiting order, depots left out (the benchmark route format)."""
        return tuple(s.id for s in self.stops)


@dataclass(frozen=True)
class UnservedJob:
    job_id: str
    reason: UnservedReason
    detail: str = ""


@dataclass(frozen=True)
class SolverStats:
    """``status``: 'optimal' is never claimed; 'feasible' (all mandatory jobs served), 'partial' (some
    unserved), 'no_solution'. ``objective`` is the solver's internal integer objective of the kept solution."""

    status: str
    seconds: float
    seed: int
    time_limit_s: float
    workers: int = 1
    objective: float | None = None
    phases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoutingSolution:
    problem_name: str
    routes: tuple[Route, ...]
    unserved: tuple[UnservedJob, ...]
    stats: SolverStats
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def vehicles_used(self) -> int:
        return sum(1 for r in self.routes if r.stops)

    @property
    def total_distance_km(self) -> float:
        return sum(r.distance_km for r in self.routes)

    @property
    def total_energy_kwh(self) -> float:
        return sum(r.energy_kwh for r in self.routes)

    @property
    def total_fuel_l(self) -> float:
        return sum(r.fuel_l for r in self.routes)

    @property
    def total_cost(self) -> float:
        return sum(r.cost for r in self.routes)

    @property
    def total_energy_charged_kwh(self) -> float:
        return sum(r.energy_charged_kwh for r in self.routes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (enums as their string values), with totals for readers' convenience."""
        d = asdict(self)
        for r in d["routes"]:
            for s in r["stops"]:
                s["kind"] = StopKind(s["kind"]).value
        for u in d["unserved"]:
            u["reason"] = UnservedReason(u["reason"]).value
        d["stats"]["phases"] = list(d["stats"]["phases"])
        d["totals"] = {
            "vehicles": self.vehicles_used,
            "distance_km": self.total_distance_km,
            "energy_kwh": self.total_energy_kwh,
            "energy_charged_kwh": self.total_energy_charged_kwh,
            "fuel_l": self.total_fuel_l,
            "cost": self.total_cost,
            "unserved": len(self.unserved),
        }
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RoutingSolution:
        routes = tuple(
            Route(
                **{k: v for k, v in r.items() if k != "stops"},
                stops=tuple(Stop(**{**s, "kind": StopKind(s["kind"])}) for s in r["stops"]),
            )
            for r in d["routes"]
        )
        unserved = tuple(
            UnservedJob(job_id=u["job_id"], reason=UnservedReason(u["reason"]), detail=u.get("detail", ""))
            for u in d["unserved"]
        )
        st = dict(d["stats"])
        st["phases"] = tuple(st.get("phases", ()))
        return cls(
            problem_name=d["problem_name"],
            routes=routes,
            unserved=unserved,
            stats=SolverStats(**st),
            extra=dict(d.get("extra", {})),
        )
