"""Pure depot charging optimisation on OR-Tools: typed scenario in, schedule out; no database, no UI.

Public API (see docs/charging.md)::

    from charging import ChargingProblem, schedule, check_schedule, ChargingSchedule
    from charging import uncontrolled, earliest_deadline_first, timer, synthetic_depot
    from charging import replan, NightState, TruckState  # rolling re-plan from the state at time t

Names are resolved lazily so that `import charging.problem` does not load the solvers.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "ChargingProblem": "charging.problem",
    "ScenarioError": "charging.problem",
    "ChargingSchedule": "charging.result",
    "schedule": "charging.optimize",
    "check_schedule": "charging.check",  # the function charging.check.check (the module shadows the name)
    "CheckReport": "charging.check",
    "uncontrolled": "charging.baselines",
    "earliest_deadline_first": "charging.baselines",
    "timer": "charging.baselines",
    "synthetic_depot": "charging.synthetic",
}

__all__ = [
    "ChargingProblem",
    "ChargingSchedule",
    "CheckReport",
    "NightState",
    "ScenarioError",
    "TruckState",
    "check_schedule",
    "earliest_deadline_first",
    "replan",
    "schedule",
    "synthetic_depot",
    "timer",
    "uncontrolled",
]


# Eager, and light (no solver): the function `replan` must win over the submodule of the same name, which
# `import charging.replan` would otherwise leave on the package.
from charging.replan import NightState, TruckState, replan  # noqa: E402


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), "check" if name == "check_schedule" else name)
    raise AttributeError(f"module 'charging' has no attribute {name!r}")
