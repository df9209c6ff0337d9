"""How the route planner's frames are shown: labels with units (English msgids) and decimals per column, for the
page's tables (`fleet.i18n.localised` or `app_pages._show.column_config`), the map legend and the route sheets.

`RoutePlanView.routes` -> `ROUTE_DISPLAY`, `.stops` -> `STOP_DISPLAY`, `.unserved` -> `UNSERVED_DISPLAY`; a
driver's sheet (`fleet.services.route_sheets.driver_sheet`) -> `SHEET_COLUMNS`. Kinds of stop and drive are
msgids in `KIND_LABELS`.
"""

from __future__ import annotations

from typing import Any

from fleet.i18n import N_, Column, _, fmt_number

SHEET_COLUMNS: dict[str, Column] = {
    "seq": Column(N_("No.")),
    "kind": Column(N_("Stop type")),
    "name": Column(N_("Customer / place")),
    "stop": Column(N_("Order reference")),
    "address": Column(N_("Address")),
    "phone": Column(N_("Phone")),
    "notes": Column(N_("Notes")),
    "window": Column(N_("Time window")),
    "arrival": Column(N_("Arrival")),
    "departure": Column(N_("Departure")),
    "demand_kg": Column(N_("Goods [kg]"), 1),
    "load_kg": Column(N_("Load on board [kg]"), 1),
    "soc_arrival_kwh": Column(N_("Charge on arrival [kWh]"), 1),
    "charged_kwh": Column(N_("Charged here [kWh]"), 1),
    "lat": Column(N_("Latitude [°]"), 5),
    "lon": Column(N_("Longitude [°]"), 5),
}
ROUTE_DISPLAY: dict[str, Column] = {
    "vehicle": Column(N_("Truck")),
    "kind": Column(N_("Drive")),
    "jobs": Column(N_("Stops")),
    "km": Column(N_("Distance [km]"), 1),
    "kwh": Column(N_("Energy [kWh]"), 1),
    "litres": Column(N_("Diesel [L]"), 1),
    "departure": Column(N_("Departure")),
    "return": Column(N_("Return")),
    "soc_departure_kwh": Column(N_("Charge at departure [kWh]"), 1),
    "soc_return_kwh": Column(N_("Charge on return [kWh]"), 1),
    "charged_kwh": Column(N_("Charged on the road [kWh]"), 1),
    "cost_cny": Column(N_("Routing cost [CNY]"), 2),
}
KIND_LABELS = {
    "depot": N_("depot"),
    "job": N_("delivery"),
    "station": N_("charging"),
    "reload": N_("reload at the depot"),
    "break": N_("driver's rest"),
    "electric": N_("electric"),
    "diesel": N_("diesel"),
}
STOP_DISPLAY: dict[str, Column] = {
    "vehicle": Column(N_("Truck")),
    "seq": Column(N_("No.")),
    "kind": Column(N_("Stop type")),
    "stop": Column(N_("Order reference")),
    "customer": Column(N_("Customer")),
    "phone": Column(N_("Phone")),
    "notes": Column(N_("Notes")),
    "address": Column(N_("Address")),
    "window": Column(N_("Time window")),
    "arrival": Column(N_("Arrival")),
    "departure": Column(N_("Departure")),
    "demand_kg": Column(N_("Goods [kg]"), 1),
    "load_kg": Column(N_("Load on board [kg]"), 1),
    "soc_arrival_kwh": Column(N_("Charge on arrival [kWh]"), 1),
    "soc_departure_kwh": Column(N_("Charge at departure [kWh]"), 1),
    "charged_kwh": Column(N_("Charged here [kWh]"), 1),
    "lat": Column(N_("Latitude [°]"), 5),
    "lon": Column(N_("Longitude [°]"), 5),
}
UNSERVED_DISPLAY: dict[str, Column] = {
    "job": Column(N_("Order reference")),
    "customer": Column(N_("Customer")),
    "phone": Column(N_("Phone")),
    "reason": Column(N_("Reason")),
    "detail": Column(N_("Detail")),
    "address": Column(N_("Address")),
    "window": Column(N_("Time window")),
    "demand_kg": Column(N_("Goods [kg]"), 1),
    "lat": Column(N_("Latitude [°]"), 5),
    "lon": Column(N_("Longitude [°]"), 5),
}


def road_network_text(info: dict[str, Any] | None) -> str:
    """One line saying which model produced a stored plan's travel matrices (RoutePlan.road_network), translated.

    None: plans stored before the model was recorded; they all used the great circle (docs/road-networks.md)."""
    if not info:
        return _("not recorded (stored before it was recorded: the great-circle model)")
    kind = info.get("provider")
    if kind == "haversine":
        return _("great circle × {detour} road detour at {speed} km/h (no road network)").format(
            detour=fmt_number(info.get("detour_factor"), 2), speed=fmt_number(info.get("speed_kmh"), 0)
        )
    if kind == "osm":
        return _(
            "OpenStreetMap extract {source} (SHA-256 {sha}…, {nodes} nodes), trucks capped at {cap} km/h"
        ).format(
            source=info.get("source", ""),
            sha=str(info.get("sha256", ""))[:12],
            nodes=fmt_number(info.get("nodes"), 0),
            cap=fmt_number(info.get("truck_max_kmh"), 0),
        )
    if kind == "osrm":
        return _("OSRM server {source}").format(source=info.get("source", ""))
    if kind == "valhalla":
        return _("Valhalla server {source}, costing {costing}").format(
            source=info.get("source", ""), costing=info.get("costing", "")
        )
    return str(kind)


def _hhmm(minutes: Any) -> str:
    m = int(round(float(minutes)))
    return f"{m // 60:02d}:{m % 60:02d}"


def routing_settings_lines(info: dict[str, Any] | None) -> list[str]:
    """What else shaped a stored plan's routes (RoutePlan.routing_settings, fleet.planning.realism), one
    translated line each: speed profile, access zones, driver breaks, trips. None: stored before it was recorded
    (migration 0018), when none of them was used."""
    if info is None:
        return [
            _("not recorded (stored before these settings existed: free-flow travel, no zones, no breaks)")
        ]
    prof = info.get("speed_profile")
    if prof:
        periods = ", ".join(
            _("from {clock} ×{factor}").format(clock=_hhmm(a), factor=fmt_number(f, 2))
            for a, f in prof.get("periods", ())
        )
        speed = _("Speed profile {name} (speed factor by time of day: {periods})").format(
            name=prof.get("name", ""), periods=periods
        )
    else:
        speed = _("Speed profile: none (the same speed all day)")
    zones = info.get("zones") or []
    if zones:
        zone = _("Access zones applied: {names} (SHA-256 {sha}…)").format(
            names=", ".join(str(z.get("name", "")) for z in zones),
            sha=str(info.get("zones_sha256") or "")[:12],
        )
    else:
        zone = _("Access zones applied: none (no stop inside a zone)")
    rule = info.get("break_rule")
    if isinstance(rule, dict):
        rest = _("Driver breaks: a rest of at least {rest} min after at most {drive} min of driving").format(
            rest=fmt_number(rule.get("min_rest_minutes"), 0),
            drive=fmt_number(rule.get("max_driving_minutes"), 0),
        )
    else:
        rest = _("Driver breaks: not planned")
    trips = info.get("max_trips", 1)
    if isinstance(trips, int) and trips > 1:
        trip = _("Up to {n} trips per truck, {minutes} min per reload at the depot").format(
            n=trips, minutes=fmt_number(info.get("reload_minutes"), 0)
        )
    else:
        trip = _("One trip per truck")
    return [speed, zone, rest, trip]


def routing_settings_text(info: dict[str, Any] | None) -> str:
    """One short translated line for the plan details' heading."""
    if info is None:
        return _("not recorded")
    parts = [
        (info.get("speed_profile") or {}).get("name") or _("no speed profile"),
        _("{n} access zone(s)").format(n=len(info.get("zones") or [])),
        _("breaks on") if info.get("break_rule") else _("breaks off"),
        _("{n} trip(s) per truck").format(n=info.get("max_trips", 1)),
    ]
    return ", ".join(str(p) for p in parts)
