"""The one clock every routing deadline reads: wall time by default, or this process's CPU time.

Why: on a shared machine a wall-clock limit gives a solver whatever CPU the other processes leave it, so two
runs of the same benchmark at "60 s" compare different amounts of search (docs/routing-scale.md: 3-20 CPU s in
60 s at load 6-19). With the CPU clock a limit of 60 s means 60 s of this process's CPU, whatever the load, and
``evfleet bench routing --clock cpu`` gives PyVRP the same budget (``routing.bench.MaxCpuTime``).

OR-Tools' own time limits stay wall-clock: under the CPU clock they are given the remaining CPU seconds as wall
seconds, which on a loaded machine is less search than the budget (never more).

The mode is read from ``EVFLEET_ROUTING_CLOCK`` (``wall`` or ``cpu``), so worker processes inherit it.
"""

from __future__ import annotations

import os
import time

MODES = ("wall", "cpu")
ENV = "EVFLEET_ROUTING_CLOCK"


def mode() -> str:
    """``wall`` (``time.monotonic``, the default) or ``cpu`` (``time.process_time``)."""
    value = os.environ.get(ENV, "wall").strip().lower() or "wall"
    if value not in MODES:
        raise ValueError(f"{ENV}={value!r}: expected one of {', '.join(MODES)}")
    return value


def use(value: str) -> None:
    """Set the clock for this process and the workers it starts."""
    if value not in MODES:
        raise ValueError(f"clock {value!r}: expected one of {', '.join(MODES)}")
    os.environ[ENV] = value


def now() -> float:
    """Seconds on the current clock; only differences mean anything."""
    return time.process_time() if mode() == "cpu" else time.monotonic()
