"""Route planner page: the depot-day's stored route plan flattened for tables, the map and the timeline, its
typed routing problem (the starting point of the fleet comparison), and the drivers' route sheets.

Solving (store a new plan, compare fleets) runs in a worker process: see `fleet.services.solving`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlmodel import Session

from fleet.exports import safe_frame
from fleet.models import Order
from fleet.scope import Scope, list_rows
from fleet.services.frames import hhmm
from fleet.services.scope import depot_in_scope, in_scope
from routing.problem import RoutingProblem

ROUTE_COLOURS: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
    (57, 59, 121),
    (173, 73, 74),
    (99, 121, 57),
    (206, 109, 189),
    (107, 110, 207),
    (231, 186, 82),
    (132, 60, 57),
    (82, 84, 163),
)  # Tableau-20-like palette; routes beyond it wrap around


@dataclass(frozen=True)
class RoutePlanView:
    """A stored (or just solved) route plan, flattened for tables, charts, the map and route sheets."""

    depot_code: str
    service_date: dt.date
    version: int | None  # None: solved in memory, not stored
    created_at: dt.datetime | None
    vehicles_used: int
    km: float
    kwh: float
    litres: float
    cost_cny: float
    solver_status: str
    solver_seconds: float
    depot_lat: float
    depot_lon: float
    routes: pd.DataFrame  # one row per route
    stops: pd.DataFrame  # one row per visit, depot departure and return included
    unserved: pd.DataFrame
    stations: pd.DataFrame
    trucks: tuple[str, ...] = ()  # every truck of the plan's fleet (used or not): where a job can be moved
    # Which model produced the travel matrices (RoutePlan.road_network; None: not recorded, docs/road-networks.md).
    road_network: dict[str, Any] | None = None
    # Speed profile, zones, breaks and trips the routes were planned with (RoutePlan.routing_settings; None: not
    # recorded, a plan stored before migration 0018).
    routing_settings: dict[str, Any] | None = None


ROUTE_COLUMNS = [
    "vehicle",
    "kind",
    "colour",
    "jobs",
    "km",
    "kwh",
    "litres",
    "departure",
    "return",
    "soc_departure_kwh",
    "soc_return_kwh",
    "charged_kwh",
    "cost_cny",
]
STOP_COLUMNS = [
    "vehicle",
    "seq",
    "kind",
    "stop",
    "customer",
    "phone",
    "notes",
    "address",
    "lat",
    "lon",
    "arrival",
    "departure",
    "window",
    "demand_kg",
    "load_kg",
    "soc_arrival_kwh",
    "soc_departure_kwh",
    "charged_kwh",
]
UNSERVED_COLUMNS = [
    "job",
    "customer",
    "reason",
    "detail",
    "address",
    "phone",
    "notes",
    "window",
    "demand_kg",
    "lat",
    "lon",
]
NO_ORDER = {"customer": "", "phone": "", "notes": "", "address": "", "window": "", "demand_kg": None}


def _clock(origin: dt.datetime, minutes: float | None) -> dt.datetime | None:
    return None if minutes is None else origin + dt.timedelta(minutes=float(minutes))


def route_view_from_json(
    problem: Mapping[str, Any],
    solution: Mapping[str, Any],
    depot_code: str,
    service_date: dt.date,
    orders: Mapping[str, Mapping[str, Any]] | None = None,
    version: int | None = None,
    created_at: dt.datetime | None = None,
    road_network: Mapping[str, Any] | None = None,
    routing_settings: Mapping[str, Any] | None = None,
) -> RoutePlanView:
    """Flatten a routing problem/solution pair (the JSON stored in `RoutePlan.problem`/`.solution`).

    `orders` (external_ref -> address, window, demand, customer, phone, notes) adds what a driver needs on the
    route sheet (blank where an order carries none). Times are
    local clock times: the solution counts minutes from the problem's `time_origin`.
    """
    orders = orders or {}
    origin = dt.datetime.fromisoformat(str(problem["time_origin"]))
    locs = {loc["id"]: (float(loc["lat"]), float(loc["lon"])) for loc in problem["locations"]}
    jobs = {j["id"]: j for j in problem["jobs"]}
    kinds = {t["id"]: t.get("kind", "electric") for t in problem["vehicle_types"]}
    depot_loc = problem["vehicle_types"][0]["start_depot"] if problem["vehicle_types"] else next(iter(locs))
    depot_lat, depot_lon = locs.get(depot_loc, (0.0, 0.0))
    stations = pd.DataFrame(
        [
            {
                "station": s["id"],
                "lat": locs[s["location"]][0],
                "lon": locs[s["location"]][1],
                "max_kw": s.get("max_kw") or s.get("power_kw"),
                "public": s.get("public", False),
            }
            for s in problem.get("stations", ())
        ],
        columns=["station", "lat", "lon", "max_kw", "public"],
    )

    def order_info(job_id: str) -> dict[str, Any]:
        o = orders.get(job_id, {})
        job = jobs.get(job_id, {})
        windows = job.get("time_windows") or []
        window = o.get("window") or (
            ", ".join(
                f"{_clock(origin, w[0] if isinstance(w, list | tuple) else w['start']):%H:%M}–"
                f"{_clock(origin, w[1] if isinstance(w, list | tuple) else w['end']):%H:%M}"
                for w in windows
            )
        )
        return {
            "customer": o.get("customer") or "",
            "phone": o.get("phone") or "",
            "notes": o.get("notes") or "",
            "address": o.get("address", ""),
            "window": window,
            "demand_kg": o.get("demand_kg", job.get("demand_kg")),
        }

    routes, stops = [], []
    for i, r in enumerate(solution.get("routes", ())):
        if not r.get("stops"):
            continue
        vehicle = r["vehicle_type"]
        colour = ROUTE_COLOURS[i % len(ROUTE_COLOURS)]
        n_jobs = sum(1 for s in r["stops"] if s["kind"] == "job")
        routes.append(
            {
                "vehicle": vehicle,
                "kind": kinds.get(vehicle, ""),
                "colour": list(colour),
                "jobs": n_jobs,
                "km": r.get("distance_km", 0.0),
                "kwh": r.get("energy_kwh", 0.0),
                "litres": r.get("fuel_l", 0.0),
                "departure": _clock(origin, r["departure"]),
                "return": _clock(origin, r["arrival"]),
                "soc_departure_kwh": r.get("soc_departure_kwh"),
                "soc_return_kwh": r.get("soc_arrival_kwh"),
                "charged_kwh": r.get("energy_charged_kwh", 0.0),
                "cost_cny": r.get("cost", 0.0),
            }
        )
        stops.append(
            {
                "vehicle": vehicle,
                "seq": 0,
                "kind": "depot",
                "stop": depot_code,
                **NO_ORDER,
                "lat": depot_lat,
                "lon": depot_lon,
                "arrival": None,
                "departure": _clock(origin, r["departure"]),
                "window": "",
                "demand_kg": None,
                "load_kg": r.get("load_departure_kg"),
                "soc_arrival_kwh": None,
                "soc_departure_kwh": r.get("soc_departure_kwh"),
                "charged_kwh": 0.0,
            }
        )
        for k, s in enumerate(r["stops"], start=1):
            lat, lon = locs.get(s["location"], (depot_lat, depot_lon))
            info = order_info(s["id"]) if s["kind"] == "job" else NO_ORDER
            stops.append(
                {
                    "vehicle": vehicle,
                    "seq": k,
                    "kind": s["kind"],
                    "stop": s["id"],
                    **info,
                    "lat": lat,
                    "lon": lon,
                    "arrival": _clock(origin, s["arrival"]),
                    "departure": _clock(origin, s["departure"]),
                    "load_kg": s.get("load_kg"),
                    "soc_arrival_kwh": s.get("soc_arrival_kwh"),
                    "soc_departure_kwh": s.get("soc_departure_kwh"),
                    "charged_kwh": s.get("energy_charged_kwh", 0.0),
                }
            )
        stops.append(
            {
                "vehicle": vehicle,
                "seq": len(r["stops"]) + 1,
                "kind": "depot",
                "stop": depot_code,
                **NO_ORDER,
                "lat": depot_lat,
                "lon": depot_lon,
                "arrival": _clock(origin, r["arrival"]),
                "departure": None,
                "window": "",
                "demand_kg": None,
                "load_kg": 0.0,
                "soc_arrival_kwh": r.get("soc_arrival_kwh"),
                "soc_departure_kwh": None,
                "charged_kwh": 0.0,
            }
        )
    unserved = []
    for u in solution.get("unserved", ()):
        job = jobs.get(u["job_id"], {})
        lat, lon = locs.get(job.get("location", ""), (None, None))
        unserved.append(
            {
                "job": u["job_id"],
                "reason": u.get("reason", ""),
                "detail": u.get("detail", ""),
                **order_info(u["job_id"]),
                "lat": lat,
                "lon": lon,
            }
        )
    stats = solution.get("stats", {})
    frame_routes = pd.DataFrame(routes, columns=ROUTE_COLUMNS)
    return RoutePlanView(
        depot_code=depot_code,
        service_date=service_date,
        version=version,
        created_at=created_at,
        vehicles_used=len(frame_routes),
        km=float(frame_routes["km"].sum()),
        kwh=float(frame_routes["kwh"].sum()),
        litres=float(frame_routes["litres"].sum()),
        cost_cny=float(frame_routes["cost_cny"].sum()),
        solver_status=str(stats.get("status", "")),
        solver_seconds=float(stats.get("seconds", 0.0) or 0.0),
        depot_lat=depot_lat,
        depot_lon=depot_lon,
        routes=frame_routes,
        stops=pd.DataFrame(stops, columns=STOP_COLUMNS),
        unserved=pd.DataFrame(unserved, columns=UNSERVED_COLUMNS),
        stations=stations,
        trucks=tuple(t["id"] for t in problem["vehicle_types"]),
        road_network=dict(road_network) if road_network else None,
        routing_settings=dict(routing_settings) if routing_settings is not None else None,
    )


def _order_details(session: Session, scope: Scope, depot_id: int, day: dt.date) -> dict[str, dict[str, Any]]:
    out = {}
    for o in list_rows(session, scope, Order, Order.depot_id == depot_id, Order.service_date == day):
        start, end = o.window_start, o.window_end
        out[o.external_ref] = {
            "address": o.address or "",
            "demand_kg": o.demand_kg,
            "window": f"{start:%H:%M}–{end:%H:%M}" if start and end else "",
            "customer": o.customer_name or "",
            "phone": o.customer_phone or "",
            "notes": o.notes or "",
        }
    return out


def current_route_view(
    session: Session, lessee_code: str | None, depot_code: str, day: dt.date
) -> RoutePlanView | None:
    """The depot-day's published route plan (`fleet.pipeline.current_route_plan`), or None."""
    from fleet.pipeline import current_route_plan

    scope = in_scope(session, lessee_code)
    depot = depot_in_scope(session, scope, depot_code)
    plan = current_route_plan(session, scope, depot.id, day)
    if plan is None:
        return None
    return route_view_from_json(
        plan.problem,
        plan.solution,
        depot.code,
        day,
        _order_details(session, scope, depot.id, day),
        plan.version,
        plan.created_at,
        road_network=plan.road_network,
        routing_settings=plan.routing_settings,
    )


def route_view(
    session: Session, lessee_code: str | None, depot_code: str, day: dt.date, version: int | None = None
) -> RoutePlanView | None:
    """Route plan `version` of the depot-day (None: the published one) flattened like `current_route_view`."""
    from fleet.planning.drafts import plan_row

    scope = in_scope(session, lessee_code)
    depot = depot_in_scope(session, scope, depot_code)
    plan = plan_row(session, scope, depot.id, day, version)
    if plan is None:
        return None
    return route_view_from_json(
        plan.problem,
        plan.solution,
        depot.code,
        day,
        _order_details(session, scope, depot.id, day),
        plan.version,
        plan.created_at,
        road_network=plan.road_network,
        routing_settings=plan.routing_settings,
    )


def order_count(session: Session, lessee_code: str | None, depot_code: str, day: dt.date) -> int:
    scope = in_scope(session, lessee_code)
    depot = depot_in_scope(session, scope, depot_code)
    return len(list_rows(session, scope, Order, Order.depot_id == depot.id, Order.service_date == day))


def stored_routing_problem(
    session: Session, lessee_code: str | None, depot_code: str, day: dt.date
) -> RoutingProblem | None:
    """The typed routing problem of the depot-day's current stored plan, read once from its stored JSON
    (`routing.io.json_io.problem_from_dict`); None without a stored plan."""
    from fleet.pipeline import current_route_plan
    from routing.io.json_io import problem_from_dict

    scope = in_scope(session, lessee_code)
    depot = depot_in_scope(session, scope, depot_code)
    plan = current_route_plan(session, scope, depot.id, day)
    return None if plan is None else problem_from_dict(dict(plan.problem), f"route plan {plan.id}")


ROUTE_SHEET_COLUMNS = [
    "seq",
    "kind",
    "name",
    "stop",
    "address",
    "phone",
    "notes",
    "window",
    "arrival",
    "departure",
    "demand_kg",
    "load_kg",
    "soc_arrival_kwh",
    "soc_departure_kwh",
    "charged_kwh",
    "lat",
    "lon",
]


def route_sheet(view: RoutePlanView, vehicle: str) -> pd.DataFrame:
    """One driver's sheet: the truck's stops in order with the customer (else the address), phone and notes,
    clock times, windows and charge."""
    sheet = view.stops[view.stops["vehicle"] == vehicle].copy()
    sheet["name"] = [
        (c or a or str(s)) if k == "job" else str(s)
        for k, c, a, s in zip(sheet["kind"], sheet["customer"], sheet["address"], sheet["stop"])
    ]
    sheet = sheet[ROUTE_SHEET_COLUMNS]
    for col in ("arrival", "departure"):
        sheet[col] = [hhmm(t) for t in sheet[col]]
    for col in ("demand_kg", "load_kg", "soc_arrival_kwh", "soc_departure_kwh", "charged_kwh"):
        sheet[col] = pd.to_numeric(sheet[col], errors="coerce").round(1)
    return sheet.reset_index(drop=True)


def route_sheet_csv(view: RoutePlanView, vehicle: str) -> bytes:
    return (
        safe_frame(route_sheet(view, vehicle)).to_csv(index=False).encode("utf-8-sig")
    )  # BOM: Excel opens 粤 plates right; safe_frame: no cell can run as a formula


def route_sheets_xlsx(view: RoutePlanView) -> bytes:
    """All drivers' sheets in one workbook, one worksheet per truck (sheet names are the plates), laid out for
    printing and in the current language: `fleet.services.route_sheets`."""
    from fleet.services.route_sheets import route_sheets_workbook

    return route_sheets_workbook(view)
