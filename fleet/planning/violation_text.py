"""Routing-checker violations and re-plan notices in the planner's language (`fleet.i18n`, zh-CN or English).

`routing/` is pure and speaks English (`str(Violation)` is for logs and the CLI); it makes each violation
structured instead: `Violation.rule` names the exact check (`routing.check.RULES`), `expected`/`found` carry the
figures, `vehicle`/`stop`/`where` the place. This module words them: one msgid per rule (the English is what the
page showed before), each zh_CN translation starting with the rule's name (时间窗, 电量低于保留值, 载重 ...), so a
refused edit names the rule in either language. Re-plan notices (`fleet.planning.replan.ReplanNotice`) likewise.

Translated at call time in the current locale: call inside the page's run, or in a worker process that was given
the page's locale (`fleet.services.solving.run_isolated` does that).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from fleet.i18n import N_, _
from routing.check import RULES, Constraint, Violation

RULE_NAMES: dict[Constraint, str] = {
    Constraint.UNKNOWN_ID: N_("unknown id"),
    Constraint.VEHICLE: N_("truck"),
    Constraint.DUPLICATE_JOB: N_("order served twice"),
    Constraint.MISSING_JOB: N_("order missing"),
    Constraint.UNSERVED_CONFLICT: N_("unserved list"),
    Constraint.VEHICLE_KIND: N_("vehicle kind"),
    Constraint.TIME_WINDOW: N_("time window"),
    Constraint.SHIFT_START: N_("shift start"),
    Constraint.SHIFT_END: N_("shift end"),
    Constraint.MAX_DURATION: N_("maximum route duration"),
    Constraint.PAYLOAD: N_("payload"),
    Constraint.RESERVE_SOC: N_("charge below the reserve"),
    Constraint.BATTERY_CAPACITY: N_("battery capacity"),
    Constraint.CHARGING: N_("charging"),
    Constraint.MISMATCH: N_("figure mismatch"),
    Constraint.UNSERVED_REASON: N_("unserved reason"),
    Constraint.RELOAD: N_("reload"),
    Constraint.DRIVING_TIME: N_("driving time"),
    Constraint.ACCESS_ZONE: N_("access zone"),
}
"""Every constraint's name, for a heading or a count per rule."""

# One msgid per checker rule. Placeholders: {found}, {expected} (clock times, kWh, kg, min or counts as worded),
# {where} (order, station or depot), {quantity} (the checked figure's name), {at} (a place phrase, see AT).
RULE_TEXT: dict[str, str] = {
    "time_window.late": N_("arrives {found} after window end {expected}{at}"),
    "reserve_soc.below_reserve": N_("state of charge {found} kWh{at}, below the reserve {expected} kWh"),
    "reserve_soc.below_zero": N_("state of charge {found} kWh{at}, below zero"),
    "payload.departure": N_("leaves the depot with {found} kg, above the payload {expected} kg"),
    "shift_end.late": N_("back at the depot at {found}, after the shift ends at {expected}"),
    "shift_start.early": N_("leaves at {found}, before the shift starts at {expected}"),
    "max_duration.over": N_("route lasts {found} min, above the maximum {expected} min"),
    "vehicle_kind.wrong": N_("order {where} needs a {expected} truck, this one is {found}"),
    "battery_capacity.over": N_("charged to {found} kWh{at}, above the battery's {expected} kWh"),
    "unknown_id.unserved_job": N_("unserved order {where} is not in the plan's problem"),
    "unknown_id.job": N_("order {where} is not in the plan's problem"),
    "unknown_id.station": N_("charging station {where} is not in the plan's problem"),
    "vehicle.twice": N_("the truck drives more than one route"),
    "vehicle.unknown": N_("unknown truck"),
    "vehicle.type": N_("the route's truck type {found} differs from the truck's {expected}"),
    "vehicle.start_depot": N_("the route starts at {found}, not at the truck's depot {expected}"),
    "vehicle.end_depot": N_("the route ends at {found}, not at the truck's depot {expected}"),
    "duplicate_job.served_n": N_("order {where} is served {found} times"),
    "unserved_conflict.served": N_("order {where} is listed as unserved but is on a route"),
    "unserved_conflict.listed_n": N_("order {where} is listed as unserved {found} times"),
    "missing_job.mandatory": N_("order {where} is neither served nor listed as unserved"),
    "missing_job.optional": N_("optional order {where} is skipped without being listed as unserved"),
    "mismatch.problem": N_("the routes belong to another problem ({found}, expected {expected})"),
    "mismatch.figure": N_("reported {quantity} {found} differs from the recomputed {expected}{at}"),
    "mismatch.location": N_("stop location {found} differs from the plan's {expected}{at}"),
    "unserved_reason.kind_exists": N_(
        "order {where} is listed unserved for want of a truck of its kind, but truck {expected} is one"
    ),
    "unserved_reason.payload_fits": N_(
        "order {where} is listed unserved for its weight, but truck {expected} can carry it"
    ),
    "unserved_reason.direct_in_time": N_(
        "order {where} is listed unserved for its time window, but truck {expected} reaches it in time"
    ),
    "unserved_reason.direct_in_range": N_(
        "order {where} is listed unserved as out of range, but truck {expected} reaches it and returns"
    ),
    "charging.diesel": N_("a diesel truck stops at a charging station{at}"),
    "charging.full_policy": N_("must charge to capacity ({expected} kWh), charges {found} kWh{at}"),
    "charging.negative": N_("negative energy charged ({found} kWh){at}"),
    "charging.reload_no_charger": N_("charges {found} kWh at a reload without a depot charger{at}"),
    "payload.trip": N_("leaves a reload with {found} kg, above the payload {expected} kg"),
    "reload.max_trips": N_("{found} trips, above the truck's maximum of {expected}"),
    "reload.away": N_("reloads at {found}, not at the truck's depot {expected}"),
    "unknown_id.reload": N_("reload location {where} is not in the plan's problem"),
    "mismatch.break_negative": N_("a break of negative length ({found} min){at}"),
    "access_zone.closed": N_(
        "arrives {found}{at}, and the access zone stays closed to this truck until its last window ends at "
        "{expected}"
    ),
    "access_zone.barred": N_("served at {found}{at}, when the access zone bars this truck"),
    "unserved_reason.access_open": N_(
        "order {where} is listed unserved for its access zone, but truck {expected} may serve it in time"
    ),
    "driving_time.over": N_(
        "drives {found} min without a long enough rest, above the limit of {expected} min{at}"
    ),
}
AT = {
    "order": N_(" at order {ref}"),
    "station": N_(" at charging station {ref}"),
    "depot": N_(" at the depot"),
    "return": N_(" on return to the depot"),
}
WHO = {"stop": N_("{truck}, stop {stop}: "), "truck": N_("{truck}: ")}
KINDS = {"electric": N_("electric"), "diesel": N_("diesel"), "bev": N_("electric")}
CLOCK = frozenset({"time_window.late", "shift_end.late", "shift_start.early", "access_zone.closed"})
WHOLE = frozenset(  # kg and minutes shown without decimals
    {"payload.departure", "payload.trip", "max_duration.over", "driving_time.over", "mismatch.break_negative"}
)
COUNTS = frozenset({"duplicate_job.served_n", "unserved_conflict.listed_n", "reload.max_trips"})

if set(RULE_TEXT) != set(RULES):  # pragma: no cover - caught at import by every test that imports this
    raise RuntimeError(f"rules without words: {sorted(set(RULES) ^ set(RULE_TEXT))}")


def _clock(origin: dt.datetime | None, minutes: float | str | None) -> str:
    if not isinstance(minutes, int | float):
        return str(minutes)
    if origin is None:
        return f"{minutes:.0f} min"
    return f"{origin + dt.timedelta(minutes=float(minutes)):%H:%M}"


def _num(x: float | str | None, digits: int = 1) -> str:
    return f"{x:,.{digits}f}" if isinstance(x, int | float) else str(x)


def at_phrase(v: Violation, jobs: Collection[str] | None = None) -> str:
    """The place of `v` as a key of `AT` ("" when the violation has no place)."""
    if not v.where:
        return ""
    if v.stop is None:
        return "return" if v.constraint in (Constraint.RESERVE_SOC, Constraint.SHIFT_END) else "depot"
    return "station" if jobs is not None and v.where not in jobs else "order"


def violation_text(
    v: Violation,
    *,
    truck: str | None = None,
    stop: int | None = None,
    origin: dt.datetime | None = None,
    jobs: Collection[str] | None = None,
) -> str:
    """`v` worded for a planner in the current locale: "<truck>, stop <n>: <what is broken, with the figures>".

    `truck` is the plate (default: the checker's vehicle id), `stop` 1-based on the truck's route (default from
    `v.stop`), `origin` the problem's time origin (clock times instead of minutes), `jobs` the problem's job ids
    (to tell an order stop from a charging-station stop)."""
    truck = truck if truck is not None else v.vehicle
    stop = stop if stop is not None else (None if v.stop is None else v.stop + 1)
    who = ""
    if truck:
        who = (
            _(WHO["stop"]).format(truck=truck, stop=stop)
            if stop is not None
            else _(WHO["truck"]).format(truck=truck)
        )
    rule = v.rule if v.rule in RULE_TEXT else ""
    if not rule:  # a violation from an older checker: name the rule, keep the English detail
        return who + _(RULE_NAMES.get(v.constraint, v.constraint.value)) + ": " + v.message
    place = at_phrase(v, jobs)
    at = _(AT[place]).format(ref=v.where) if place else ""
    f, e = v.found, v.expected
    if rule in CLOCK:
        found, expected = _clock(origin, f), _clock(origin, e)
    elif rule in WHOLE or rule in COUNTS:
        found, expected = _num(f, 0), _num(e, 0)
    elif rule == "access_zone.barred":  # `found` is the clock time of day [min after midnight]
        found = f"{int(f) // 60 % 24:02d}:{int(f) % 60:02d}" if isinstance(f, int | float) else str(f)
        expected = str(e)
    elif rule == "vehicle_kind.wrong":
        found, expected = _(KINDS.get(str(f), str(f))), _(KINDS.get(str(e), str(e)))
    else:
        found, expected = _num(f), _num(e)
    return who + _(RULE_TEXT[rule]).format(
        found=found, expected=expected, where=v.where or "", quantity=v.quantity, at=at
    )


# ---------------------------------------------------------------------------------------- re-plan notices

NOTICE_TEXT: dict[str, str] = {
    "status_changed": N_("{plate} is in the plan but its status is now {status}"),
    "unplanned_orders": N_("{n} order(s) of the day are in no plan and were not named urgent"),
    "available_after_shift": N_("{plate}: available at {at}, after its shift end {shift_end}"),
    "charge_clamped": N_(
        "{plate}: charge {soc} kWh outside [reserve, capacity]; taken as {taken} of capacity"
    ),
    "left_unserved": N_(
        "{n} order(s) left unserved that the free re-solve serves ({orders}): a lock or the move penalty keeps "
        "them out"
    ),
}
STATUS = {
    "maintenance": N_("maintenance"),
    "retired": N_("retired"),
    "available": N_("available"),
    "leased": N_("leased"),
}


def notice_text(code: str, params: Mapping[str, Any]) -> str:
    """A re-plan notice (`fleet.planning.replan.ReplanNotice`) in the current locale."""
    args = dict(params)
    if "status" in args:
        args["status"] = _(STATUS.get(str(args["status"]), str(args["status"])))
    return _(NOTICE_TEXT[code]).format(**args)
