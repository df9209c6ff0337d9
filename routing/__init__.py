"""Pure EV routing on OR-Tools: typed problem in, typed solution out; no database, no UI.

Public API (see docs/routing-solver.md)::

    from routing import RoutingProblem, VehicleType, Battery, Job, Location, TimeWindow, ChargingStation
    from routing import solve_problem, RoutingSolution, check_solution, CheckReport

`solve_problem` is the function `routing.solve.solve`: the package cannot export it as `solve`, because
importing the submodule `routing.solve` (as `fleet` does) rebinds `routing.solve` to that module. Names are
resolved lazily so that `import routing.problem` does not load OR-Tools.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what a type checker sees; at run time `__getattr__` imports on first use
    from routing.check import CheckReport, Violation, check_solution
    from routing.problem import (
        AccessRule,
        AccessZone,
        Battery,
        BreakRule,
        ChargingStation,
        Job,
        Location,
        Objective,
        RechargePolicy,
        RoutingProblem,
        SpeedProfile,
        TimeWindow,
        VehicleKind,
        VehicleType,
    )
    from routing.solution import Route, RoutingSolution, Stop, StopKind, UnservedJob, UnservedReason
    from routing.solve import solve as solve_problem
    from routing.traveltime import SHENZHEN_RUSH_HOUR

_EXPORTS = {
    "AccessRule": "routing.problem",
    "AccessZone": "routing.problem",
    "SpeedProfile": "routing.problem",
    "SHENZHEN_RUSH_HOUR": "routing.traveltime",
    "Battery": "routing.problem",
    "BreakRule": "routing.problem",
    "ChargingStation": "routing.problem",
    "Job": "routing.problem",
    "Location": "routing.problem",
    "Objective": "routing.problem",
    "RechargePolicy": "routing.problem",
    "RoutingProblem": "routing.problem",
    "TimeWindow": "routing.problem",
    "VehicleKind": "routing.problem",
    "VehicleType": "routing.problem",
    "Route": "routing.solution",
    "RoutingSolution": "routing.solution",
    "Stop": "routing.solution",
    "StopKind": "routing.solution",
    "UnservedJob": "routing.solution",
    "UnservedReason": "routing.solution",
    "solve_problem": "routing.solve",  # the function routing.solve.solve (the module shadows the name)
    "check_solution": "routing.check",
    "CheckReport": "routing.check",
    "Violation": "routing.check",
}

__all__ = [
    "SHENZHEN_RUSH_HOUR",
    "AccessRule",
    "AccessZone",
    "Battery",
    "BreakRule",
    "ChargingStation",
    "CheckReport",
    "Job",
    "Location",
    "Objective",
    "RechargePolicy",
    "Route",
    "RoutingProblem",
    "RoutingSolution",
    "SpeedProfile",
    "Stop",
    "StopKind",
    "TimeWindow",
    "UnservedJob",
    "UnservedReason",
    "VehicleKind",
    "VehicleType",
    "Violation",
    "check_solution",
    "solve_problem",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), "solve" if name == "solve_problem" else name)
    raise AttributeError(f"module 'routing' has no attribute {name!r}")
