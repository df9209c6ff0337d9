"""Locks on a plan, a truck's mid-day state, and the independent lock checker of a re-plan.

Pure and independent of the re-plan search (``routing.replan``): like ``routing.check`` it never imports the
solver, and it re-implements the rule that fixes the stops already driven, so a re-plan that moved a locked job,
changed a locked route or rewrote the morning's stops is caught here instead of being trusted.

Vocabulary (the planner's, issue 21):

* a **locked vehicle** keeps its planned route exactly (same stops, same order) and takes no other job;
* a **locked route** is named by the truck that drives it (one route per truck and day) and is kept the same way
  while that truck is in service; when the truck is unavailable, the route's remaining stops go whole, in their
  order, to one spare truck that drives nothing else (a driver swapping to the spare keeps the route's sheet);
* a **locked stop** stays on its truck, in its order relative to the other locked stops of that truck; unlocked
  jobs may be inserted between locked stops and the truck may take other jobs.

Fixed stops (mid-day, at time ``now`` [min from the problem's time origin]): on a truck that is still in service,
every stop it has already left for (``departure of the previous stop (or the depot) <= now``) is fixed: served,
being served, or being driven to; a truck that has left its last stop is committed to the drive home. On a truck
that is unavailable (breakdown, maintenance) only the stops whose service has started by ``now`` are fixed; the
rest is its jobs to hand over.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from routing.problem import Location
from routing.solution import Route, RoutingSolution, StopKind

EPS = 1e-6
"""Tolerance on times [min]."""


@dataclass(frozen=True)
class Locks:
    """What a re-plan must keep. ``vehicles`` and ``routes`` hold vehicle ids (``"<type id>#<n>"``), ``stops`` job
    ids; see the module docstring for what each lock means."""

    vehicles: frozenset[str] = frozenset()
    routes: frozenset[str] = frozenset()
    stops: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("vehicles", "routes", "stops"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise TypeError(
                    f"Locks: field '{name}' = {value!r}: give a collection of ids, not one string"
                )
            object.__setattr__(self, name, frozenset(value))

    @property
    def frozen(self) -> frozenset[str]:
        """Vehicles whose route must stay exactly as planned (locked vehicles and locked routes)."""
        return self.vehicles | self.routes


@dataclass(frozen=True)
class VehicleState:
    """Where a truck is and with what charge, when telematics knows better than the plan.

    ``location`` (same coordinate kind as the problem's locations) replaces the last fixed stop as the start of
    the rest of its day; ``available_from`` [min] when it can leave from there; ``soc_kwh`` [kWh] its charge now.
    Any field left None is taken from the current plan.
    """

    vehicle_id: str
    location: Location | None = None
    available_from: float | None = None
    soc_kwh: float | None = None


def fixed_stop_count(route: Route, now: float | None, *, available: bool = True) -> int:
    """How many of ``route.stops`` are fixed at ``now`` (module docstring, 'Fixed stops'); ``len(stops) + 1`` when
    an available truck is already committed to the drive back to its end depot."""
    if now is None:
        return 0
    t = now + EPS
    if not available:
        return sum(1 for s in route.stops if s.service_start <= t)
    if route.departure > t:
        return 0
    k = 1
    while k <= len(route.stops) and route.stops[k - 1].departure <= t:
        k += 1
    return k


@dataclass(frozen=True)
class MoveReport:
    """How a new plan differs from the current one, job by job.

    ``moved``: jobs on another truck than in the current plan (of them, ``moved_from_unavailable`` were on a truck
    that is now unavailable, so they had to move); ``dropped``: served in the current plan, unserved now;
    ``added``: served now, not in the current plan (urgent jobs); ``kept``: jobs on the same truck.
    """

    moved: tuple[str, ...]
    moved_from_unavailable: tuple[str, ...]
    dropped: tuple[str, ...]
    added: tuple[str, ...]
    kept: int

    @property
    def moved_other(self) -> tuple[str, ...]:
        """Moves that were not forced by an unavailable truck."""
        forced = set(self.moved_from_unavailable)
        return tuple(j for j in self.moved if j not in forced)

    def to_dict(self) -> dict[str, object]:
        return {
            "moved": len(self.moved),
            "moved_from_unavailable": len(self.moved_from_unavailable),
            "moved_other": len(self.moved_other),
            "dropped": len(self.dropped),
            "added": len(self.added),
            "kept": self.kept,
            "moved_jobs": list(self.moved),
            "dropped_jobs": list(self.dropped),
        }


def truck_of_jobs(sequences: Mapping[str, Sequence[str]], job_ids: Iterable[str]) -> dict[str, str]:
    """Job id -> vehicle id for the jobs among ``sequences``' stop ids."""
    jobs = set(job_ids)
    return {s: vid for vid, seq in sequences.items() for s in seq if s in jobs}


def count_moves(
    current: Mapping[str, str], new: Mapping[str, str], unavailable: Iterable[str] = ()
) -> MoveReport:
    """Compare two job -> vehicle maps (served jobs only)."""
    down = set(unavailable)
    moved = tuple(sorted(j for j, v in new.items() if j in current and current[j] != v))
    return MoveReport(
        moved=moved,
        moved_from_unavailable=tuple(j for j in moved if current[j] in down),
        dropped=tuple(sorted(j for j in current if j not in new)),
        added=tuple(sorted(j for j in new if j not in current)),
        kept=sum(1 for j, v in new.items() if current.get(j) == v),
    )


@dataclass(frozen=True)
class LockViolation:
    lock: str  # "vehicle" | "stop" | "fixed" | "unavailable"
    vehicle: str | None
    message: str

    def __str__(self) -> str:
        return f"[{self.lock}] {self.vehicle or '-'}: {self.message}"


@dataclass(frozen=True)
class LockReport:
    violations: tuple[LockViolation, ...]
    moves: MoveReport

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self, limit: int = 10) -> str:
        if self.ok:
            return f"locks honoured; {len(self.moves.moved)} job(s) moved"
        lines = [f"{len(self.violations)} lock violation(s):"] + [str(v) for v in self.violations[:limit]]
        return "\n".join(lines)


def day_sequences(solution: RoutingSolution) -> dict[str, tuple[str, ...]]:
    """Vehicle id -> stop ids (jobs and stations, in order) of every route with stops."""
    return {r.vehicle_id: tuple(s.id for s in r.stops) for r in solution.routes if r.stops}


def check_locks(
    current: RoutingSolution,
    new_day: Mapping[str, Sequence[str]],
    locks: Locks,
    *,
    job_ids: Iterable[str],
    now: float | None = None,
    unavailable: Iterable[str] = (),
) -> LockReport:
    """Verify that a re-planned day honours ``locks`` and keeps the fixed stops, and count the moves.

    ``current`` is the plan re-planned from (whole day); ``new_day`` the new plan as vehicle id -> its whole day's
    stop ids (the fixed stops followed by the re-planned rest); ``job_ids`` every job id (stations are told apart
    by not being jobs).
    """
    jobs = set(job_ids)
    down = set(unavailable)
    cur_seq = {r.vehicle_id: r for r in current.routes if r.stops}
    out: list[LockViolation] = []
    for vid, route in cur_seq.items():
        ids = tuple(s.id for s in route.stops)
        k = min(fixed_stop_count(route, now, available=vid not in down), len(ids))
        got = tuple(new_day.get(vid, ()))
        if got[:k] != ids[:k]:
            out.append(LockViolation("fixed", vid, f"fixed stops {ids[:k]} changed to {got[:k]}"))
        if vid in down and len(got) > k:
            out.append(
                LockViolation(
                    "unavailable", vid, f"unavailable truck still has {len(got) - k} stop(s) after now"
                )
            )
    for vid in sorted(locks.routes & down):
        # A locked route whose truck is out of service goes whole, in order, to one spare truck with nothing else.
        route = cur_seq.get(vid)
        k = fixed_stop_count(route, now, available=False) if route else 0
        rest = tuple(s.id for s in route.stops[k:] if s.id in jobs) if route else ()
        spares = [w for w, seq in new_day.items() if w != vid and tuple(s for s in seq if s in jobs) == rest]
        if rest and not spares:
            out.append(
                LockViolation(
                    "vehicle", vid, f"locked route {rest} of an unavailable truck is not driven whole"
                )
            )
    for vid in sorted(locks.frozen - (locks.routes & down)):
        want = tuple(s.id for s in cur_seq[vid].stops) if vid in cur_seq else ()
        want_jobs = tuple(s for s in want if s in jobs)
        got_jobs = tuple(s for s in new_day.get(vid, ()) if s in jobs)
        if got_jobs != want_jobs:
            out.append(LockViolation("vehicle", vid, f"locked route {want_jobs} became {got_jobs}"))
    new_truck = truck_of_jobs(new_day, jobs)
    cur_truck = {
        s.id: vid for vid, r in cur_seq.items() for s in r.stops if s.kind is StopKind.JOB and s.id in jobs
    }
    for job in sorted(locks.stops):
        if job not in cur_truck:
            out.append(
                LockViolation("stop", None, f"locked stop {job} is not on any route of the current plan")
            )
        elif new_truck.get(job) != cur_truck[job]:
            out.append(
                LockViolation(
                    "stop", cur_truck[job], f"locked stop {job} left its truck (now on {new_truck.get(job)})"
                )
            )
    by_truck: dict[str, list[str]] = {}
    for vid, r in cur_seq.items():
        by_truck[vid] = [s.id for s in r.stops if s.id in locks.stops]
    for vid, order in by_truck.items():
        got = [s for s in new_day.get(vid, ()) if s in locks.stops]
        if len(order) > 1 and [s for s in got if s in order] != order:
            out.append(LockViolation("stop", vid, f"locked stops reordered: {order} became {got}"))
    moves = count_moves(cur_truck, new_truck, down)
    return LockReport(tuple(out), moves)


__all__ = [
    "LockReport",
    "LockViolation",
    "Locks",
    "MoveReport",
    "VehicleState",
    "check_locks",
    "count_moves",
    "day_sequences",
    "fixed_stop_count",
    "truck_of_jobs",
]
