"""A planner's hand edits of a route plan, re-checked at once by the independent routing checker.

Pure functions on the typed routing objects (no database, no UI): an edit changes only DECISIONS (which truck
serves which job in which order; a truck's departure and its station charges are kept), then `evaluate` lets
`routing.check` recompute every time, load, state of charge, km, kWh and cost from the plan's own stored
`RoutingProblem`, and lists what is broken in words a planner reads ("arrives 10:42 after window end 10:30 at
order X"). The checker, not the solver, is the judge: an edit is saveable only when it reports no violation.

Units as in `routing.problem`: minutes from the problem's `time_origin`, km, kWh, kg.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from fleet.i18n import use_locale
from fleet.planning.violation_text import violation_text
from routing.check import CheckReport, Violation, check_solution
from routing.problem import RoutingProblem, VehicleType
from routing.solution import Route, RoutingSolution, StopKind, UnservedJob, UnservedReason

UNASSIGNED_DETAIL = "unassigned by the planner"


class EditError(ValueError):
    """An edit that cannot even be expressed (unknown job or truck, position out of range): nothing changed."""


@dataclass(frozen=True)
class EditViolation:
    """One broken rule after an edit, named for a planner. `stop` is 1-based on the truck's route (None: the
    whole route or plan). `message` is in English (logs, exceptions); `text()` words it in the current locale
    (`fleet.planning.violation_text`), from the checker's structured `violation`."""

    truck: str | None
    stop: int | None
    where: str | None
    constraint: str
    message: str
    rule: str = ""
    violation: Violation | None = field(default=None, repr=False, compare=False)
    origin: dt.datetime | None = field(default=None, repr=False, compare=False)
    jobs: frozenset[str] | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        return self.message

    def text(self) -> str:
        """The violation in the current locale (zh-CN names the rule: 时间窗, 电量低于保留值 ...)."""
        if self.violation is None:
            return self.message
        return violation_text(
            self.violation, truck=self.truck or "", stop=self.stop, origin=self.origin, jobs=self.jobs
        )


@dataclass(frozen=True)
class EditResult:
    """The edited plan with every figure recomputed by the checker, and its verdict."""

    solution: RoutingSolution
    violations: tuple[EditViolation, ...]
    report: CheckReport

    @property
    def feasible(self) -> bool:
        return not self.violations


# ------------------------------------------------------------------------------------------------ edits


def _truck_route(problem: RoutingProblem, solution: RoutingSolution, truck: str) -> tuple[int | None, Route]:
    """(index in solution.routes or None, the route) of `truck` (a vehicle type id: the plate in fleet plans)."""
    for i, r in enumerate(solution.routes):
        if r.vehicle_type == truck:
            return i, r
    types = {vt.id: vt for vt in problem.vehicle_types}
    if truck not in types:
        raise EditError(f"truck {truck!r} is not in this plan's fleet ({', '.join(sorted(types)) or 'none'})")
    vid = next(v for v, vt in problem.vehicle_ids() if vt.id == truck)
    return None, _empty(vid, types[truck])


def _empty(vid: str, vt: VehicleType) -> Route:
    return Route(vid, vt.id, vt.start_depot, vt.end, vt.shift_start, vt.shift_start, (), 0.0, 0.0)


def _where_is(solution: RoutingSolution, job: str) -> tuple[int, int] | None:
    """(route index, stop index) of `job`, or None when it is unserved."""
    for i, r in enumerate(solution.routes):
        for k, s in enumerate(r.stops):
            if s.kind is StopKind.JOB and s.id == job:
                return i, k
    return None


def _set_stops(problem: RoutingProblem, route: Route, stops: tuple) -> Route:  # type: ignore[type-arg]
    """`route` with new stops; a route left without jobs is an empty route (its station stops go too)."""
    if not any(s.kind is StopKind.JOB for s in stops):
        vt = next(vt for vt in problem.vehicle_types if vt.id == route.vehicle_type)
        return _empty(route.vehicle_id, vt)
    return replace(route, stops=stops)


def _put(solution: RoutingSolution, index: int | None, route: Route) -> RoutingSolution:
    routes = list(solution.routes)
    if index is None:
        routes.append(route)
    else:
        routes[index] = route
    return replace(solution, routes=tuple(routes))


def _job_stop(problem: RoutingProblem, job: str):  # type: ignore[no-untyped-def]
    from routing.solution import Stop

    try:
        j = problem.job(job)
    except KeyError:
        raise EditError(f"job {job!r} is not an order of this plan") from None
    return Stop(StopKind.JOB, j.id, j.location, 0.0, 0.0, 0.0, 0.0)


def move_job(
    problem: RoutingProblem, solution: RoutingSolution, job: str, truck: str, position: int | None = None
) -> RoutingSolution:
    """Serve `job` by `truck` as its `position`-th stop (1-based; None: last), taking it off its current route
    or out of the unserved list. Moving within the same truck is a reorder."""
    stop = _job_stop(problem, job)
    found = _where_is(solution, job)
    if found is not None:
        i, k = found
        stop = solution.routes[i].stops[k]
        src = solution.routes[i]
        solution = _put(solution, i, _set_stops(problem, src, src.stops[:k] + src.stops[k + 1 :]))
    unserved = tuple(u for u in solution.unserved if u.job_id != job)
    solution = replace(solution, unserved=unserved)
    index, route = _truck_route(problem, solution, truck)
    n = len(route.stops)
    at = n if position is None else position - 1
    if not 0 <= at <= n:
        raise EditError(f"position {position} is outside 1..{n + 1} on truck {truck}")
    return _put(solution, index, _set_stops(problem, route, route.stops[:at] + (stop,) + route.stops[at:]))


def reorder(
    problem: RoutingProblem, solution: RoutingSolution, truck: str, stop_ids: list[str] | tuple[str, ...]
) -> RoutingSolution:
    """Visit `truck`'s stops in the order `stop_ids` (the same jobs and stations, each once)."""
    index, route = _truck_route(problem, solution, truck)
    current = [s.id for s in route.stops]
    if sorted(current) != sorted(stop_ids):
        raise EditError(
            f"the new order of truck {truck} must list its stops {', '.join(current)} each once; "
            f"got {', '.join(stop_ids)}"
        )
    by_id = {s.id: s for s in route.stops}
    return _put(solution, index, replace(route, stops=tuple(by_id[i] for i in stop_ids)))


def unassign(problem: RoutingProblem, solution: RoutingSolution, job: str) -> RoutingSolution:
    """Take `job` off its route: it becomes unserved (reason 'dropped', detail 'unassigned by the planner')."""
    _job_stop(problem, job)
    found = _where_is(solution, job)
    if found is None:
        raise EditError(f"job {job} is already unserved")
    i, k = found
    src = solution.routes[i]
    solution = _put(solution, i, _set_stops(problem, src, src.stops[:k] + src.stops[k + 1 :]))
    return replace(
        solution,
        unserved=solution.unserved + (UnservedJob(job, UnservedReason.DROPPED, UNASSIGNED_DETAIL),),
    )


# ------------------------------------------------------------------------------------------- evaluation


def evaluate(problem: RoutingProblem, solution: RoutingSolution) -> EditResult:
    """Recompute the edited plan with the independent checker and list its violations in words.

    First pass: the checker recomputes every route from the decisions (the edited figures are stale, so it
    reports mismatches); the plan is rebuilt from its recomputed routes. Second pass: the verdict on the rebuilt
    plan, whose figures now agree, so every violation left is a broken rule (window, reserve, payload, shift...).
    """
    first = check_solution(problem, solution)
    recomputed = {r.vehicle_id: r for r in first.routes}
    rebuilt = replace(
        solution,
        routes=tuple(recomputed.get(r.vehicle_id, r) for r in solution.routes),
        stats=replace(solution.stats, status="edited" if solution.unserved == () else "edited_partial"),
    )
    report = check_solution(problem, rebuilt)
    plates = {vid: vt.id for vid, vt in problem.vehicle_ids()}
    origin = problem.time_origin
    jobs = frozenset(j.id for j in problem.jobs)
    out = tuple(describe(v, plates, origin, jobs) for v in report.violations)
    return EditResult(rebuilt, out, report)


def describe(
    v: Violation, plates: dict[str, str], origin: dt.datetime | None, jobs: frozenset[str] | None = None
) -> EditViolation:
    """A checker violation in a planner's words: truck, stop, what is broken, with clock times and units
    (`message` in English; `EditViolation.text()` in the current locale)."""
    truck = plates.get(v.vehicle or "", v.vehicle)
    stop = None if v.stop is None else v.stop + 1
    with use_locale("en"):
        message = violation_text(v, truck=truck or "", stop=stop, origin=origin, jobs=jobs)
    return EditViolation(truck, stop, v.where, v.constraint.value, message, v.rule, v, origin, jobs)


def apply(problem: RoutingProblem, solution: RoutingSolution, edit: dict) -> RoutingSolution:  # type: ignore[type-arg]
    """One edit from its plain description (what a page or an API sends):
    {"op": "move", "job", "truck", "position"?} | {"op": "reorder", "truck", "stops"} | {"op": "unassign", "job"}."""
    op = edit.get("op")
    if op == "move":
        return move_job(problem, solution, str(edit["job"]), str(edit["truck"]), edit.get("position"))
    if op == "reorder":
        return reorder(problem, solution, str(edit["truck"]), list(edit["stops"]))
    if op == "unassign":
        return unassign(problem, solution, str(edit["job"]))
    raise EditError(f"unknown edit {op!r}: expected move, reorder or unassign")
