"""Depot routing settings and access zones reach the nightly (fleet.planning.realism, migration 0018): a zone barring
diesel keeps diesel trucks out, a rush-hour depot stores exact time-dependent times, the plan records what it used
and keeps it through an edit, and the zone import names a bad feature."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.models import AccessZone, Depot, Order, RoutePlan, Vehicle, VehicleModel, VehicleStatus
from fleet.pipeline import RunOptions, run_depot_day
from fleet.planning.drafts import save_draft
from fleet.planning.realism import (
    DepotRouting,
    ZoneFileError,
    import_zones,
    parse_zone_file,
    settings_record,
    update_depot_routing,
    zones_with_stops,
)
from fleet.scope import scope_for
from routing import problem as rp
from routing.check import check_solution
from routing.io.json_io import problem_from_dict
from routing.solution import RoutingSolution, StopKind
from routing.traveltime import SHENZHEN_RUSH_HOUR, arrival_after, clock_origin

DAY = dt.date(2026, 11, 26)
FAST = RunOptions(time_limit_s=2.0, charging_time_limit_s=5.0, seed=1)


def _zone_file(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _feature(name: str, ring: list[list[float]], rules: list[dict]) -> dict:
    return {
        "type": "Feature",
        "properties": {"name": name, "rules": rules},
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
    }


def _depot(s: Session, code: str) -> Depot:
    return s.exec(select(Depot).where(Depot.code == code)).one()


def _stored(engine: Engine, plan_id: int) -> tuple[RoutePlan, rp.RoutingProblem, RoutingSolution]:
    with Session(engine) as s:
        plan = s.get(RoutePlan, plan_id)
    return plan, problem_from_dict(plan.problem), RoutingSolution.from_dict(plan.solution)


def test_a_zone_barring_diesel_keeps_diesel_trucks_out(demo_copy: Engine, tmp_path: Path) -> None:
    with Session(demo_copy) as s:
        depot = _depot(s, "SZ-NS")
        # Three electric trucks left: the day needs the two diesel trucks too, so they are in play.
        fleet = s.exec(
            select(Vehicle, VehicleModel).where(
                Vehicle.depot_id == depot.id, Vehicle.model_id == VehicleModel.id
            )
        ).all()
        for v in [v for v, m in fleet if m.kind.value == "bev"][3:]:
            v.status = VehicleStatus.MAINTENANCE
            s.add(v)
        orders = s.exec(select(Order).where(Order.depot_id == depot.id, Order.service_date == DAY)).all()
        lons = sorted(o.longitude for o in orders)
        west, east = lons[0] - 0.01, lons[len(lons) // 2]  # the western half of the day's stops
        south, north = min(o.latitude for o in orders) - 0.01, max(o.latitude for o in orders) + 0.01
        s.commit()
        depot_id = depot.id
    ring = [[west, south], [east, south], [east, north], [west, north]]
    far = [[100.0, 10.0], [100.1, 10.0], [100.1, 10.1]]  # no stop inside: not applied
    path = _zone_file(
        tmp_path / "zones.geojson",
        [
            _feature("west-green-zone", ring, [{"kinds": ["diesel"]}]),
            _feature("elsewhere", far, [{"kinds": ["diesel"]}]),
        ],
    )
    with Session(demo_copy) as s:
        scope = scope_for(s)
        assert import_zones(s, scope.lessor_id, path).added == ("west-green-zone", "elsewhere")
        s.commit()
    result = run_depot_day(demo_copy, scope, depot_id, DAY, FAST)
    plan, problem, solution = _stored(demo_copy, result.route_plan_id)
    assert [z.id for z in problem.zones] == ["west-green-zone"]
    assert plan.routing_settings["zones"][0]["name"] == "west-green-zone"
    assert check_solution(problem, solution).feasible  # the checker's own access_zone rule included
    coords = {loc.id: (loc.lon, loc.lat) for loc in problem.locations}

    def inside(location: str) -> bool:
        lon, lat = coords[location]
        return west <= lon <= east and south <= lat <= north

    kinds = {vt.id: vt.kind for vt in problem.vehicle_types}
    served = [
        (r.vehicle_type, s.location) for r in solution.routes for s in r.stops if s.kind is StopKind.JOB
    ]
    diesel = [loc for vt, loc in served if kinds[vt] is rp.VehicleKind.DIESEL]
    assert diesel, "the diesel trucks must be used for the test to mean anything"
    assert not any(inside(loc) for loc in diesel)
    assert any(inside(loc) for vt, loc in served)  # stops in the zone are served, by electric trucks


def test_rush_hour_depot_stores_exact_time_dependent_times(demo_copy: Engine) -> None:
    with Session(demo_copy) as s:
        scope = scope_for(s)
        depot_id = _depot(s, "SZ-NS").id
        update_depot_routing(s, scope, "SZ-NS", speed_profile="shenzhen-rush-hour", driver_breaks=False)
        s.commit()
    result = run_depot_day(demo_copy, scope, depot_id, DAY, FAST)
    plan, problem, solution = _stored(demo_copy, result.route_plan_id)
    assert problem.speed_profile == SHENZHEN_RUSH_HOUR
    assert plan.routing_settings["speed_profile"]["name"] == "shenzhen-rush-hour"
    assert plan.routing_settings["break_rule"] is None
    assert check_solution(problem, solution).feasible
    # Every stored arrival is the profile's integral over the arc's free-flow time (recomputed here from the
    # great circle x detour at the truck's speed), not the free-flow time: some arcs run in a slow period.
    from routing.matrix import haversine_pairs_km

    locs = {loc.id: loc for loc in problem.locations}
    clock0 = clock_origin(problem.time_origin)
    slowed = 0
    for route in solution.routes:
        vt = problem.vehicle_type(route.vehicle_type)
        here, leave = vt.start_depot, route.departure
        for stop in route.stops:
            a, b = locs[here], locs[stop.location]
            km = float(haversine_pairs_km(a.lat, a.lon, b.lat, b.lon)) * problem.road_detour_factor
            free = km / vt.speed_kmh * 60.0
            assert stop.arrival == pytest.approx(
                arrival_after(leave, free, SHENZHEN_RUSH_HOUR, clock0), abs=1e-6
            )
            slowed += stop.arrival - leave > free + 1e-6
            here, leave = stop.location, stop.departure
    assert slowed > 0


def test_the_record_round_trips_and_an_edit_keeps_it(demo_copy: Engine) -> None:
    with Session(demo_copy) as s:
        scope = scope_for(s)
        depot_id = _depot(s, "SZ-NS").id
        update_depot_routing(
            s,
            scope,
            "SZ-NS",
            speed_profile="shenzhen-rush-hour",
            driver_breaks=True,
            max_trips=2,
            reload_minutes=25,
        )
        s.commit()
    first = run_depot_day(demo_copy, scope, depot_id, DAY, FAST)
    plan, problem, solution = _stored(demo_copy, first.route_plan_id)
    record = plan.routing_settings
    assert record == settings_record(problem)  # what is stored is what the stored problem says
    assert record["max_trips"] == 2 and record["reload_minutes"] == 25.0
    assert record["break_rule"] == {"max_driving_minutes": 240.0, "min_rest_minutes": 20.0}
    assert record["speed_profile"]["periods"][3] == [1020.0, 0.63]
    assert all(vt.max_trips == 2 and vt.break_rule == rp.BreakRule() for vt in problem.vehicle_types)
    # The depot changes its settings; an edit of the plan keeps the plan's own.
    with Session(demo_copy) as s:
        update_depot_routing(s, scope, "SZ-NS", speed_profile="none", driver_breaks=False, max_trips=1)
        draft = save_draft(
            s, scope, depot_id, DAY, solution, "planner", "same routes", "edit", charging_time_limit_s=5
        )
        s.commit()
    with Session(demo_copy) as s:
        edited = s.get(RoutePlan, draft.route_plan_id)
    assert edited.routing_settings == record and edited.based_on_version == plan.version


def test_zone_import_names_a_bad_feature_and_imports_nothing(demo_copy: Engine, tmp_path: Path) -> None:
    ring = [[114.04, 22.53], [114.07, 22.53], [114.07, 22.55], [114.04, 22.55]]
    bad = _zone_file(
        tmp_path / "bad.geojson",
        [
            _feature("futian-green", ring, [{"kinds": ["diesel"], "hours": ["07:00-19:00"]}]),
            _feature("luohu-night", ring, [{"kinds": ["diesel"], "hours": ["7 to 9"]}]),
            _feature("", ring, [{"kinds": ["lorry"]}]),
        ],
    )
    url = demo_copy.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["zones", "import", str(bad), "--db", url])
    out = " ".join(result.output.split())
    assert result.exit_code == 1, out
    assert "feature 1 ('luohu-night'): field 'properties.rules[0].hours'" in out
    assert "feature 2: field 'properties.name' is missing" in out
    assert "feature 2: field 'properties.rules[0].kinds'" in out
    assert "nothing imported" in out
    with Session(demo_copy) as s:
        assert s.exec(select(AccessZone)).all() == []
    good = _zone_file(
        tmp_path / "good.geojson",
        [_feature("futian-green", ring, [{"kinds": ["diesel"], "hours": ["22:00-06:00"]}])],
    )
    result = CliRunner().invoke(app, ["zones", "import", str(good), "--db", url])
    assert result.exit_code == 0 and "1 added" in result.output, result.output
    with Session(demo_copy) as s:
        (row,) = s.exec(select(AccessZone)).all()
    assert row.polygon == ring and row.rules == [
        {"kinds": ["diesel"], "plates": [], "barred": [[1320.0, 1440.0], [0.0, 360.0]]}
    ]
    again = CliRunner().invoke(app, ["zones", "import", str(good), "--db", url])
    assert "1 unchanged" in again.output


def test_parse_refuses_holes_and_unknown_rule_fields(tmp_path: Path) -> None:
    ring = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]
    holed = _feature("holed", ring, [{"kinds": ["diesel"]}])
    holed["geometry"]["coordinates"].append([[0.2, 0.2], [0.3, 0.2], [0.3, 0.3], [0.2, 0.2]])
    odd = _feature("odd", ring, [{"kinds": ["diesel"], "days": ["mon"]}])
    with pytest.raises(ZoneFileError) as err:
        parse_zone_file(_zone_file(tmp_path / "z.geojson", [holed, odd]))
    assert err.value.errors == (
        "feature 0 ('holed'): field 'geometry.coordinates' has holes; a zone is one outer ring",
        "feature 1 ('odd'): field 'properties.rules[0].days' is not a rule field (kinds, plates, hours)",
    )


def test_zones_apply_only_where_stops_are_and_settings_are_validated() -> None:
    zone = rp.AccessZone("box", ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)), (rp.AccessRule(),))
    inside, outside = rp.Location("a", lat=0.5, lon=0.5), rp.Location("b", lat=2.0, lon=2.0)
    assert zones_with_stops([zone], [outside]) == ()
    assert zones_with_stops([zone], [outside, inside]) == (zone,)
    with pytest.raises(ValueError, match="speed_profile"):
        DepotRouting(speed_profile="beijing")
    with pytest.raises(ValueError, match="max_trips"):
        DepotRouting(max_trips=0)


def test_defaults_leave_the_depot_day_problem_as_before(demo_engine: Engine) -> None:
    from fleet.planning.build import routing_problem
    from fleet.planning.inputs import load_depot_day
    from routing.io.json_io import problem_to_dict

    with Session(demo_engine) as s:
        problem = routing_problem(load_depot_day(s, scope_for(s), _depot(s, "SZ-NS").id, DAY))
    assert problem.speed_profile is None and problem.zones == ()
    assert all(
        vt.max_trips == 1 and vt.break_rule is None and vt.depot_charge_kw is None
        for vt in problem.vehicle_types
    )
    stored = problem_to_dict(problem)
    assert "speed_profile" not in stored and "zones" not in stored
    assert not any(
        {"max_trips", "break_rule"} & set(vt) for vt in stored["vehicle_types"]
    )  # files as before 0018
