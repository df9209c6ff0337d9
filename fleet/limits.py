"""Sane limits on solver inputs, checked before anything is built: a problem with 10^9 vehicles or a time
limit of a week is refused with a message instead of exhausting memory or ignoring the limit."""

from __future__ import annotations

import math
from typing import Any

MAX_VEHICLES = 5_000  # per routing problem (one depot-day of a large lessee is a few hundred)
MAX_JOBS = 20_000  # stops per routing problem
MAX_TIME_LIMIT_S = 3_600.0  # one hour per solve
MAX_WORKERS = 64


class LimitExceeded(ValueError):
    """A solver input outside the limits; the message names the value and the limit."""


def check_time_limit(seconds: float, name: str = "--time-limit") -> float:
    if not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds <= 0:
        raise LimitExceeded(f"{name} must be a positive number of seconds, got {seconds}")
    if seconds > MAX_TIME_LIMIT_S:
        raise LimitExceeded(f"{name} {seconds:g} s is above the limit of {MAX_TIME_LIMIT_S:g} s")
    return float(seconds)


def check_workers(workers: int) -> int:
    if workers < 1 or workers > MAX_WORKERS:
        raise LimitExceeded(f"--workers must be between 1 and {MAX_WORKERS}, got {workers}")
    return workers


def check_routing_problem(problem: Any) -> None:
    """Vehicle and job counts of a `routing.problem.Problem` within the limits (counts read, nothing built)."""
    vehicles = sum(int(vt.count) for vt in problem.vehicle_types)
    if vehicles > MAX_VEHICLES:
        raise LimitExceeded(
            f"the problem has {vehicles:,} vehicles; the limit is {MAX_VEHICLES:,} per problem"
        )
    jobs = len(problem.jobs)
    if jobs > MAX_JOBS:
        raise LimitExceeded(f"the problem has {jobs:,} jobs; the limit is {MAX_JOBS:,} per problem")
