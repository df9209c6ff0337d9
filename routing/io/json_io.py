"""JSON files of problems and solutions: one file is the whole contract of a routing run.

A problem file mirrors `routing.problem.RoutingProblem` field by field (enums as their string values, time
windows as `[start, end]` pairs [min], matrices as lists of rows, `time_origin` as ISO 8601). Solutions use
`RoutingSolution.to_dict` / `from_dict`. Input errors name the file and the field.

Optional, written only when set: `speed_profile` as `{"name": ..., "periods": [[start minute of day, factor],
...]}` or the string `"shenzhen-rush-hour"` (`routing.traveltime.SHENZHEN_RUSH_HOUR`, an ASSUMPTION); `zones` as
`[{"id": ..., "polygon": [[x or lon, y or lat], ...], "rules": [{"kinds": ["diesel"], "vehicle_types": [...],
"barred": [[start, end], ...]}]}]` (minutes of the day; no `barred` = all day).
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from routing import problem as rp
from routing.solution import RoutingSolution

FORMAT = "evfleet.routing.problem/1"


class ProblemFileError(ValueError):
    """A problem or solution JSON file is malformed; the message names the file and the field."""


def problem_to_dict(problem: rp.RoutingProblem) -> dict[str, Any]:
    """JSON-ready dict of a problem (inverse of `problem_from_dict`)."""
    return {
        "format": FORMAT,
        "name": problem.name,
        "objective": problem.objective.value,
        "recharge_policy": problem.recharge_policy.value,
        "road_detour_factor": problem.road_detour_factor,
        "time_origin": problem.time_origin.isoformat() if problem.time_origin else None,
        "locations": [
            _drop_none({"id": loc.id, "x": loc.x, "y": loc.y, "lat": loc.lat, "lon": loc.lon})
            for loc in problem.locations
        ],
        "jobs": [
            {
                "id": j.id,
                "location": j.location,
                "demand_kg": j.demand_kg,
                "time_windows": [[w.start, w.end] for w in j.time_windows],
                "service_minutes": j.service_minutes,
                "required_kind": j.required_kind.value if j.required_kind else None,
                "drop_penalty": j.drop_penalty,
                "priority": j.priority,
            }
            for j in problem.jobs
        ],
        "vehicle_types": [_vehicle_to_dict(v) for v in problem.vehicle_types],
        "stations": [
            {"id": s.id, "location": s.location, "power_kw": s.power_kw, "public": s.public}
            for s in problem.stations
        ],
        "distance_km": [list(r) for r in problem.distance_km] if problem.distance_km is not None else None,
        "travel_minutes": [list(r) for r in problem.travel_minutes]
        if problem.travel_minutes is not None
        else None,
    } | _realism_to_dict(problem)


def _realism_to_dict(problem: rp.RoutingProblem) -> dict[str, Any]:
    """Speed profile and access zones, only when the problem has them (older files stay as they were)."""
    out: dict[str, Any] = {}
    if problem.speed_profile is not None:
        out["speed_profile"] = {
            "name": problem.speed_profile.name,
            "periods": [list(p) for p in problem.speed_profile.periods],
        }
    if problem.zones:
        out["zones"] = [
            {
                "id": z.id,
                "polygon": [list(v) for v in z.polygon],
                "rules": [
                    {
                        "kinds": [k.value for k in r.kinds],
                        "vehicle_types": list(r.vehicle_types),
                        "barred": [[w.start, w.end] for w in r.barred],
                    }
                    for r in z.rules
                ],
            }
            for z in problem.zones
        ]
    return out


def _speed_profile(d: Any) -> rp.SpeedProfile | None:
    if d is None:
        return None
    if isinstance(d, str):
        from routing.traveltime import SHENZHEN_RUSH_HOUR

        if d != SHENZHEN_RUSH_HOUR.name:
            raise ProblemFileError(
                f"field 'speed_profile' = {d!r}: the only named profile is {SHENZHEN_RUSH_HOUR.name!r}"
            )
        return SHENZHEN_RUSH_HOUR
    d = _only(d, ("name", "periods"), "speed_profile")
    try:
        periods = tuple((float(a), float(f)) for a, f in d.get("periods") or [])
    except (TypeError, ValueError) as exc:
        raise ProblemFileError(
            f"speed_profile: field 'periods' must be [start, factor] pairs ({exc})"
        ) from None
    return rp.SpeedProfile(periods, d.get("name", "profile"))


def _zone(d: Any, where: str) -> rp.AccessZone:
    d = _only(d, ("id", "polygon", "rules"), where)
    rules = []
    for k, r in enumerate(d.get("rules") or []):
        r = _only(r, ("kinds", "vehicle_types", "barred"), f"{where}.rules[{k}]")
        try:
            barred = tuple(rp.TimeWindow(float(w[0]), float(w[1])) for w in r.get("barred") or [])
        except (TypeError, IndexError, ValueError) as exc:
            raise ProblemFileError(
                f"{where}.rules[{k}]: field 'barred' must be [start, end] pairs ({exc})"
            ) from None
        rules.append(
            rp.AccessRule(
                kinds=tuple(rp.VehicleKind(x) for x in r.get("kinds") or []),
                vehicle_types=tuple(r.get("vehicle_types") or []),
                barred=barred,
            )
        )
    try:
        polygon = tuple((float(a), float(b)) for a, b in d.get("polygon") or [])
    except (TypeError, ValueError) as exc:
        raise ProblemFileError(f"{where}: field 'polygon' must be [x, y] pairs ({exc})") from None
    return rp.AccessZone(d.get("id", ""), polygon, tuple(rules))


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


_TRIP_BREAK_DEFAULTS: dict[str, Any] = {
    "max_trips": 1,
    "reload_minutes": 0.0,
    "depot_charge_kw": None,
    "break_rule": None,
    "reload_depot": None,
    "driving_at_start_minutes": 0.0,
}
"""Multi-trip and break fields of a vehicle type, left out of a file when at their defaults (files of
single-trip problems stay as they were)."""


def _vehicle_to_dict(v: rp.VehicleType) -> dict[str, Any]:
    d: dict[str, Any] = {f.name: getattr(v, f.name) for f in fields(v)}
    d["kind"] = v.kind.value
    d["battery"] = {f.name: getattr(v.battery, f.name) for f in fields(v.battery)} if v.battery else None
    for name, default in _TRIP_BREAK_DEFAULTS.items():
        if d[name] == default:
            del d[name]
    if v.break_rule is not None:
        d["break_rule"] = {f.name: getattr(v.break_rule, f.name) for f in fields(v.break_rule)}
    return d


def problem_from_dict(data: dict[str, Any], source: str = "problem") -> rp.RoutingProblem:
    """Build and validate a problem from a dict; errors name `source` and the field."""
    if not isinstance(data, dict):
        raise ProblemFileError(f"{source}: top level must be an object, got {type(data).__name__}")
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        raise ProblemFileError(f"{source}: field 'format' = {fmt!r}, expected {FORMAT!r}")
    try:
        locations = tuple(
            rp.Location(**_only(loc, ("id", "x", "y", "lat", "lon"), f"locations[{i}]"))
            for i, loc in enumerate(_list(data, "locations"))
        )
        jobs = tuple(_job(j, f"jobs[{i}]") for i, j in enumerate(_list(data, "jobs")))
        vehicles = tuple(
            _vehicle(v, f"vehicle_types[{i}]") for i, v in enumerate(_list(data, "vehicle_types"))
        )
        stations = tuple(
            rp.ChargingStation(**_only(s, ("id", "location", "power_kw", "public"), f"stations[{i}]"))
            for i, s in enumerate(data.get("stations") or [])
        )
        origin = data.get("time_origin")
        return rp.RoutingProblem(
            locations=locations,
            jobs=jobs,
            vehicle_types=vehicles,
            stations=stations,
            recharge_policy=rp.RechargePolicy(data.get("recharge_policy", rp.RechargePolicy.PARTIAL.value)),
            objective=rp.Objective(data.get("objective", rp.Objective.HIERARCHICAL.value)),
            distance_km=data.get("distance_km"),
            travel_minutes=data.get("travel_minutes"),
            road_detour_factor=data.get("road_detour_factor", 1.0),
            time_origin=datetime.fromisoformat(origin) if origin else None,
            name=data.get("name", "problem"),
            speed_profile=_speed_profile(data.get("speed_profile")),
            zones=tuple(_zone(z, f"zones[{i}]") for i, z in enumerate(data.get("zones") or [])),
        )
    except ProblemFileError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise ProblemFileError(f"{source}: {exc}") from None


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise ProblemFileError(f"field {key!r} must be a list, got {type(value).__name__}")
    return value


def _only(d: Any, allowed: tuple[str, ...], where: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise ProblemFileError(f"{where} must be an object, got {type(d).__name__}")
    extra = sorted(set(d) - set(allowed))
    if extra:
        raise ProblemFileError(f"{where}: unknown field(s) {extra}; allowed {list(allowed)}")
    return d


_JOB_FIELDS = (
    "id",
    "location",
    "demand_kg",
    "time_windows",
    "service_minutes",
    "required_kind",
    "drop_penalty",
    "priority",
)


def _job(d: Any, where: str) -> rp.Job:
    d = dict(_only(d, _JOB_FIELDS, where))
    windows = d.pop("time_windows", []) or []
    try:
        d["time_windows"] = tuple(rp.TimeWindow(float(w[0]), float(w[1])) for w in windows)
    except (TypeError, IndexError, ValueError) as exc:
        raise ProblemFileError(
            f"{where}: field 'time_windows' must be a list of [start, end] pairs ({exc})"
        ) from None
    if d.get("required_kind") is not None:
        d["required_kind"] = rp.VehicleKind(d["required_kind"])
    return rp.Job(**d)


_VEHICLE_FIELDS = tuple(f.name for f in fields(rp.VehicleType))
_BATTERY_FIELDS = tuple(f.name for f in fields(rp.Battery))
_BREAK_FIELDS = tuple(f.name for f in fields(rp.BreakRule))


def _vehicle(d: Any, where: str) -> rp.VehicleType:
    d = dict(_only(d, _VEHICLE_FIELDS, where))
    if "kind" in d:
        d["kind"] = rp.VehicleKind(d["kind"])
    if d.get("battery") is not None:
        d["battery"] = rp.Battery(**_only(d["battery"], _BATTERY_FIELDS, f"{where}.battery"))
    if d.get("break_rule") is not None:
        d["break_rule"] = rp.BreakRule(**_only(d["break_rule"], _BREAK_FIELDS, f"{where}.break_rule"))
    return rp.VehicleType(**d)


def write_problem_json(problem: rp.RoutingProblem, path: str | Path) -> None:
    Path(path).write_text(json.dumps(problem_to_dict(problem), indent=1) + "\n")


def read_problem_json(path: str | Path) -> rp.RoutingProblem:
    path = Path(path)
    return problem_from_dict(_load(path), source=str(path))


def write_solution_json(solution: RoutingSolution, path: str | Path) -> None:
    Path(path).write_text(json.dumps(solution.to_dict(), indent=1) + "\n")


def read_solution_json(path: str | Path) -> RoutingSolution:
    path = Path(path)
    data = _load(path)
    try:
        return RoutingSolution.from_dict(data)
    except (TypeError, ValueError, KeyError) as exc:
        raise ProblemFileError(f"{path}: not a routing solution ({type(exc).__name__}: {exc})") from None


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise ProblemFileError(f"{path}: cannot read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ProblemFileError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
