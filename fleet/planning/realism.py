"""What shapes a depot-day's routes beyond the road network: time-dependent travel, access zones, multi-trip and
driver breaks (the routing library's rules: routing/problem.py, docs/routing-solver.md; the fleet side:
docs/realism.md).

Per depot (Depot.routing_*, migration 0018): the speed profile ("none" or "shenzhen-rush-hour", the routing
library's `SHENZHEN_RUSH_HOUR`, an ASSUMPTION), China's 4 h / 20 min driving rule on or off, trips per truck and
the minutes a reload takes. Lessor-wide: access zones (table `accesszone`, imported from GeoJSON by
`evfleet zones import`), applied to every depot-day with a stop inside. Pure functions except `load_zones` and
`import_zones` (which take the caller's session).

A stored plan records what was used (`settings_record`, RoutePlan.routing_settings), computed from the routing
problem it answers, so an edit or a re-plan that reuses the base plan's problem records the same settings.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from fleet.models import AccessZone as AccessZoneRow
from routing import problem as rp
from routing.traveltime import SHENZHEN_RUSH_HOUR
from routing.zones import location_point, point_in_polygon

SPEED_PROFILES: dict[str, rp.SpeedProfile | None] = {
    "none": None,
    SHENZHEN_RUSH_HOUR.name: SHENZHEN_RUSH_HOUR,
}
"""Profiles a depot can choose, by name. "none": free-flow travel all day (the plans before 0018)."""

DEFAULT_DRIVER_BREAKS = False
"""China's continuous-driving rule (道路交通安全法实施条例 第六十二条 第（七）项, 4 h / 20 min) binds every driver, and
with it off 6 of the demo's 26 routes drive up to 381 min without a rest. It is still OFF by default, for now:
turning it on changed what other parts do (a re-plan adding one urgent order moved another job too; a 2 s solve
under load returned no routes once, the break search getting 70 % of the budget), which needs the routing side's
look first. docs/realism.md, 'Driver breaks: default' has the figures; `evfleet depot-routing D --breaks` turns it
on per depot."""

DEFAULT_RELOAD_MINUTES = 30.0
"""Minutes a truck spends at the depot between two trips (unload returns, load the next trip). ASSUMPTION:
urban parcel operators' loading-bay turnaround; only used when a depot allows more than one trip."""

MAX_TRIPS_LIMIT = 5
"""Largest trips-per-truck setting accepted: each extra trip is an optional depot copy per vehicle in the model
(docs/routing-notes.md, 'Multi-trip'), so the model grows with it. A planning limit, not a rule."""

KIND_ALIASES = {
    "diesel": rp.VehicleKind.DIESEL,
    "bev": rp.VehicleKind.ELECTRIC,
    "electric": rp.VehicleKind.ELECTRIC,
}


@dataclass(frozen=True)
class DepotRouting:
    """A depot's routing settings as the planner set them, and the lessor's access zones (all of them; the
    problem keeps those with a stop inside)."""

    speed_profile: str = "none"
    driver_breaks: bool = DEFAULT_DRIVER_BREAKS
    max_trips: int = 1
    reload_minutes: float = DEFAULT_RELOAD_MINUTES
    zones: tuple[rp.AccessZone, ...] = ()

    def __post_init__(self) -> None:
        if self.speed_profile not in SPEED_PROFILES:
            raise ValueError(
                f"routing setting 'speed_profile' = {self.speed_profile!r}: one of {', '.join(SPEED_PROFILES)}"
            )
        if isinstance(self.max_trips, bool) or not isinstance(self.max_trips, int):
            raise ValueError(  # noqa: TRY004 (a setting's value, reported like the others)
                f"routing setting 'max_trips' = {self.max_trips!r}: a whole number"
            )
        if not 1 <= self.max_trips <= MAX_TRIPS_LIMIT:
            raise ValueError(
                f"routing setting 'max_trips' = {self.max_trips}: between 1 and {MAX_TRIPS_LIMIT}"
            )
        if not math.isfinite(self.reload_minutes) or not 0 <= self.reload_minutes <= 240:
            raise ValueError(
                f"routing setting 'reload_minutes' = {self.reload_minutes}: between 0 and 240 [min]"
            )

    @property
    def profile(self) -> rp.SpeedProfile | None:
        return SPEED_PROFILES[self.speed_profile]


def zones_with_stops(
    zones: Iterable[rp.AccessZone], locations: Sequence[rp.Location]
) -> tuple[rp.AccessZone, ...]:
    """The zones holding at least one of `locations` (a zone elsewhere in the city changes nothing but the model's
    size and the plan's record)."""
    points = [p for p in (location_point(loc) for loc in locations) if p is not None]
    out = []
    for z in zones:
        xs = [a for a, _ in z.polygon]
        ys = [b for _, b in z.polygon]
        box = (min(xs), max(xs), min(ys), max(ys))
        if any(
            box[0] <= x <= box[1] and box[2] <= y <= box[3] and point_in_polygon(x, y, z.polygon)
            for x, y in points
        ):
            out.append(z)
    return tuple(out)


# ------------------------------------------------------------------------------------------- the plan's record


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def zone_dict(z: rp.AccessZone) -> dict[str, Any]:
    """A zone as the problem file writes it (routing.io.json_io), the basis of its checksum."""
    return {
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


def zones_checksum(zones: Sequence[rp.AccessZone]) -> str:
    """SHA-256 of the zones' canonical JSON (ids, polygons, rules), in the problem's order."""
    return hashlib.sha256(_canonical([zone_dict(z) for z in zones])).hexdigest()


def _one(values: set[Any]) -> Any:
    """The value every truck shares, or the sorted list when they differ (a hand-made problem)."""
    if len(values) == 1:
        return next(iter(values))
    return sorted(values, key=lambda v: (v is None, str(v)))


def settings_record(problem: rp.RoutingProblem) -> dict[str, Any]:
    """What the routes were planned with beyond the road network, read from the problem itself (RoutePlan.
    routing_settings): speed profile (name and [start minute, factor] periods) or None, the access zones applied
    (names, checksum each and of all), the break rule [min] or None, trips per truck, reload minutes and depot
    charging power [kW] at a reload."""
    prof = problem.speed_profile
    types = problem.vehicle_types
    rules = {
        (t.break_rule.max_driving_minutes, t.break_rule.min_rest_minutes) if t.break_rule else None
        for t in types
    }
    rule = _one(rules)
    return {
        "speed_profile": None
        if prof is None
        else {"name": prof.name, "periods": [list(p) for p in prof.periods]},
        "zones": [{"name": z.id, "sha256": zones_checksum([z])} for z in problem.zones],
        "zones_sha256": zones_checksum(problem.zones) if problem.zones else None,
        "break_rule": (
            None
            if rule is None
            else {"max_driving_minutes": rule[0], "min_rest_minutes": rule[1]}
            if isinstance(rule, tuple)
            else rule
        ),
        "max_trips": _one({t.max_trips for t in types}),
        "reload_minutes": _one({t.reload_minutes for t in types}),
        "depot_charge_kw": _one({t.depot_charge_kw for t in types}),
    }


# --------------------------------------------------------------------------------------- zones in the database


def zone_from_row(row: AccessZoneRow) -> rp.AccessZone:
    """A stored zone as the routing library's AccessZone (id = the zone's name, polygon in (lon, lat))."""
    return rp.AccessZone(
        row.name,
        tuple((float(a), float(b)) for a, b in row.polygon),
        tuple(
            rp.AccessRule(
                kinds=tuple(rp.VehicleKind(k) for k in r.get("kinds") or ()),
                vehicle_types=tuple(r.get("plates") or ()),
                barred=tuple(rp.TimeWindow(float(a), float(b)) for a, b in r.get("barred") or ()),
            )
            for r in row.rules
        ),
    )


def load_zones(session: Session, lessor_id: int) -> tuple[rp.AccessZone, ...]:
    """Every access zone of the lessor, by name."""
    rows = session.exec(
        select(AccessZoneRow).where(AccessZoneRow.lessor_id == lessor_id).order_by(AccessZoneRow.name)
    ).all()
    return tuple(zone_from_row(r) for r in rows)


class ZoneFileError(ValueError):
    """A GeoJSON zone file that cannot be imported; `errors` name each feature and field (nothing is written)."""

    def __init__(self, source: str, errors: Sequence[str]) -> None:
        self.errors = tuple(errors)
        shown = "; ".join(self.errors[:10]) + (
            f"; and {len(self.errors) - 10} more" if len(self.errors) > 10 else ""
        )
        super().__init__(f"{source}: {len(self.errors)} error(s), nothing imported: {shown}")


def _clock(text: Any) -> float:
    """'HH:MM' (00:00-24:00) as minutes of the day; raises ValueError."""
    if not isinstance(text, str) or text.count(":") != 1:
        raise ValueError(f"{text!r} is not HH:MM")
    h, m = text.split(":")
    if not (h.strip().isdigit() and m.strip().isdigit()):
        raise ValueError(f"{text!r} is not HH:MM")
    minutes = int(h) * 60 + int(m)
    if int(m) >= 60 or minutes > 1440:
        raise ValueError(f"{text!r} is not a time of day between 00:00 and 24:00")
    return float(minutes)


def _hours(value: Any) -> list[list[float]]:
    """["07:00-09:00", "22:00-06:00"] as barred [start, end) minutes, a period across midnight split in two."""
    if not isinstance(value, list):
        raise ValueError(  # noqa: TRY004 (reported as the field's error)
            "a list of 'HH:MM-HH:MM' periods (leave it out for all day)"
        )
    out: list[list[float]] = []
    for item in value:
        if not isinstance(item, str) or item.count("-") != 1:
            raise ValueError(f"{item!r} is not 'HH:MM-HH:MM'")
        a, b = (_clock(x.strip()) for x in item.split("-"))
        if a == b:
            raise ValueError(f"{item!r} is empty (start = end)")
        out.extend([[a, b]] if a < b else [[a, 1440.0], [0.0, b]] if b > 0 else [[a, 1440.0]])
    return out


def _feature_zone(k: int, feature: Any) -> tuple[str, dict[str, Any]] | list[str]:
    """One GeoJSON feature as (name, row values), or the list of its errors (each naming the feature and field)."""
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        return [f"feature {k}: not a GeoJSON Feature object"]
    props = feature.get("properties")
    props = props if isinstance(props, Mapping) else {}
    name = props.get("name")
    label = f"feature {k} ({name!r})" if isinstance(name, str) and name.strip() else f"feature {k}"
    errors: list[str] = []
    if not isinstance(name, str) or not name.strip():
        errors.append(f"{label}: field 'properties.name' is missing (every zone needs a name)")
    elif len(name.strip()) > 80:
        errors.append(f"{label}: field 'properties.name' is longer than 80 characters")
    geom = feature.get("geometry")
    ring: list[list[float]] = []
    if not isinstance(geom, Mapping) or geom.get("type") != "Polygon":
        kind = geom.get("type") if isinstance(geom, Mapping) else None
        errors.append(
            f"{label}: field 'geometry' must be a Polygon (got {kind!r}); split a MultiPolygon into features"
        )
    else:
        rings = geom.get("coordinates")
        if not isinstance(rings, list) or not rings:
            errors.append(f"{label}: field 'geometry.coordinates' must hold the polygon's outer ring")
        elif len(rings) > 1:
            errors.append(f"{label}: field 'geometry.coordinates' has holes; a zone is one outer ring")
        else:
            try:
                ring = [[float(p[0]), float(p[1])] for p in rings[0]]
            except (TypeError, ValueError, IndexError):
                errors.append(f"{label}: field 'geometry.coordinates' must be [lon, lat] pairs of numbers")
            if ring and ring[0] == ring[-1]:
                ring = ring[:-1]  # GeoJSON closes the ring; the routing library does not
            if ring and len(ring) < 3:
                errors.append(f"{label}: field 'geometry.coordinates' needs at least 3 distinct vertices")
            for lon, lat in ring:
                if not (
                    math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
                ):
                    errors.append(
                        f"{label}: field 'geometry.coordinates' has ({lon}, {lat}), not a [lon, lat] in degrees"
                    )
                    break
    rules_in = props.get("rules")
    rules: list[dict[str, Any]] = []
    if not isinstance(rules_in, list) or not rules_in:
        errors.append(f"{label}: field 'properties.rules' must be a non-empty list of rules")
        rules_in = []
    for j, r in enumerate(rules_in):
        where = f"{label}: field 'properties.rules[{j}]"
        if not isinstance(r, Mapping):
            errors.append(f"{where}' must be an object")
            continue
        unknown = sorted(set(r) - {"kinds", "plates", "hours"})
        if unknown:
            errors.append(f"{where}.{unknown[0]}' is not a rule field (kinds, plates, hours)")
        kinds = r.get("kinds", [])
        if not isinstance(kinds, list) or any(k not in KIND_ALIASES for k in kinds):
            errors.append(
                f"{where}.kinds' = {kinds!r}: a list of {', '.join(KIND_ALIASES)} (empty: every kind)"
            )
            kinds = []
        plates = r.get("plates", [])
        if not isinstance(plates, list) or not all(isinstance(p, str) and p for p in plates):
            errors.append(
                f"{where}.plates' = {plates!r}: a list of plates (empty: every truck of those kinds)"
            )
            plates = []
        barred: list[list[float]] = []
        if r.get("hours") is not None:
            try:
                barred = _hours(r["hours"])
            except ValueError as exc:
                errors.append(f"{where}.hours': {exc}")
        rules.append(
            {
                "kinds": sorted({KIND_ALIASES[k].value for k in kinds}),
                "plates": list(plates),
                "barred": barred,
            }
        )
    if errors:
        return errors
    return name.strip(), {"polygon": ring, "rules": rules}  # type: ignore[union-attr]


def parse_zone_file(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """A GeoJSON FeatureCollection of zones as (name, {polygon, rules}); `ZoneFileError` names every bad feature
    and field. Each feature: a Polygon in [lon, lat] degrees (WGS 84) and properties {"name": ..., "rules":
    [{"kinds": ["diesel"], "plates": [...], "hours": ["07:00-09:00"]}]} (no hours = all day; kinds "diesel",
    "bev"/"electric", empty = every kind)."""
    source = str(path)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ZoneFileError(source, [f"not a readable JSON file ({exc})"]) from None
    if (
        not isinstance(doc, Mapping)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        raise ZoneFileError(source, ["top level must be a GeoJSON FeatureCollection with 'features'"])
    errors: list[str] = []
    out: list[tuple[str, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for k, feature in enumerate(doc["features"]):
        got = _feature_zone(k, feature)
        if isinstance(got, list):
            errors.extend(got)
            continue
        name, values = got
        if name in seen:
            errors.append(f"feature {k} ({name!r}): field 'properties.name' repeats feature {seen[name]}")
            continue
        seen[name] = k
        try:  # the routing library's own validation, so the nightly never meets a zone it refuses
            zone_from_row(AccessZoneRow(lessor_id=0, name=name, **values))
        except ValueError as exc:
            errors.append(f"feature {k} ({name!r}): {exc}")
            continue
        out.append((name, values))
    if not out and not errors:
        errors.append("the FeatureCollection has no features")
    if errors:
        raise ZoneFileError(source, errors)
    return out


@dataclass(frozen=True)
class ZoneImport:
    added: tuple[str, ...]
    replaced: tuple[str, ...]
    unchanged: tuple[str, ...]

    def summary(self) -> str:
        return (
            f"zones: {len(self.added)} added, {len(self.replaced)} replaced, {len(self.unchanged)} unchanged"
            + (f" ({', '.join(self.added + self.replaced)})" if self.added or self.replaced else "")
        )


def import_zones(session: Session, lessor_id: int, path: Path) -> ZoneImport:
    """Import a GeoJSON file's zones for the lessor, all or nothing: a zone with a known name is replaced, the
    others are added; zones not in the file stay. Flushes in the caller's transaction."""
    parsed = parse_zone_file(path)
    existing = {
        r.name: r
        for r in session.exec(select(AccessZoneRow).where(AccessZoneRow.lessor_id == lessor_id)).all()
    }
    added, replaced, unchanged = [], [], []
    for name, values in parsed:
        row = existing.get(name)
        if row is None:
            session.add(AccessZoneRow(lessor_id=lessor_id, name=name, source=Path(path).name[:300], **values))
            added.append(name)
        elif row.polygon == values["polygon"] and row.rules == values["rules"]:
            unchanged.append(name)
        else:
            row.polygon, row.rules, row.source = values["polygon"], values["rules"], Path(path).name[:300]
            session.add(row)
            replaced.append(name)
    session.flush()
    return ZoneImport(tuple(added), tuple(replaced), tuple(unchanged))


# ------------------------------------------------------------------------------------------ a depot's settings


def depot_routing(depot: Any) -> DepotRouting:
    """The routing settings stored on a Depot row (zones not included)."""
    return DepotRouting(
        speed_profile=depot.routing_speed_profile or "none",
        driver_breaks=bool(depot.routing_driver_breaks),
        max_trips=int(depot.routing_max_trips or 1),
        reload_minutes=float(depot.routing_reload_minutes),
    )


def update_depot_routing(session: Session, scope: Any, depot_code: str, **changes: Any) -> DepotRouting:
    """Change a depot's routing settings (speed_profile, driver_breaks, max_trips, reload_minutes; None = keep),
    validated as a whole (ValueError names the setting) before anything is written; returns the new settings."""
    from dataclasses import replace

    from fleet.models import Depot
    from fleet.scope import list_rows, update_row

    rows = list_rows(session, scope, Depot, Depot.code == depot_code)
    if not rows:
        raise ValueError(f"depot {depot_code!r} not found in the scope of {scope.describe()}")
    depot = rows[0]
    wanted = {k: v for k, v in changes.items() if v is not None}
    new = replace(depot_routing(depot), **wanted)
    update_row(
        session,
        scope,
        Depot,
        depot.id,
        routing_speed_profile=new.speed_profile,
        routing_driver_breaks=new.driver_breaks,
        routing_max_trips=new.max_trips,
        routing_reload_minutes=new.reload_minutes,
    )
    session.flush()
    return new


def _hhmm(minutes: float) -> str:
    return f"{int(minutes) // 60:02d}:{int(minutes) % 60:02d}"


def describe_rule(rule: rp.AccessRule) -> str:
    """One line: who is barred and when (English; the CLI's, the page translates its own)."""
    who = ", ".join(k.value for k in rule.kinds) or "every kind"
    if rule.vehicle_types:
        who += f" ({', '.join(rule.vehicle_types)})"
    when = ", ".join(f"{_hhmm(w.start)}-{_hhmm(w.end)}" for w in rule.barred) or "all day"
    return f"{who} barred {when}"
