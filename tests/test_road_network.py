"""The road network in the fleet pipeline: chosen in settings/CLI/environment, used for a depot-day's matrices,
and recorded in the stored route plan (RoutePlan.road_network); the haversine default leaves problems unchanged."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.models import Depot, RoutePlan, RouteStop
from fleet.pipeline import RunOptions, road_network_matrices, run_depot_day
from fleet.planning.build import PlanningPolicy, routing_problem
from fleet.planning.inputs import load_depot_day
from fleet.scope import scope_for
from fleet.settings import load_settings
from routing.check import check_solution
from routing.io.json_io import problem_from_dict
from routing.matrix import UnreachablePairsError
from routing.solution import RoutingSolution

DAY = dt.date(2026, 11, 26)
FAST = RunOptions(time_limit_s=1.0, charging_time_limit_s=5.0, seed=1)


def write_grid_osm(
    path: Path, lat: tuple[float, float], lon: tuple[float, float], step: float = 0.004
) -> Path:
    """A synthetic street grid (two-way secondary roads every `step` degrees) over a bounding box [deg]."""
    lats = np.arange(lat[0] - step, lat[1] + 2 * step, step)
    lons = np.arange(lon[0] - step, lon[1] + 2 * step, step)
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="evfleet tests">']
    for r, la in enumerate(lats):
        for c, lo in enumerate(lons):
            out.append(f'<node id="{1 + r * len(lons) + c}" version="1" lat="{la:.6f}" lon="{lo:.6f}"/>')
    way = 0

    def add(ids: list[int]) -> None:
        nonlocal way
        way += 1
        refs = "".join(f'<nd ref="{i}"/>' for i in ids)
        out.append(f'<way id="{way}" version="1">{refs}<tag k="highway" v="secondary"/></way>')

    for r in range(len(lats)):
        add([1 + r * len(lons) + c for c in range(len(lons))])
    for c in range(len(lons)):
        add([1 + r * len(lons) + c for r in range(len(lats))])
    out.append("</osm>")
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def _depot_id(engine: Engine, code: str) -> int:
    with Session(engine) as s:
        return s.exec(select(Depot).where(Depot.code == code)).one().id


def _extract_around(engine: Engine, depot_id: int, tmp_path: Path) -> Path:
    with Session(engine) as s:
        inputs = load_depot_day(s, scope_for(s), depot_id, DAY)
    lats = [inputs.lat] + [o.lat for o in inputs.orders]
    lons = [inputs.lon] + [o.lon for o in inputs.orders]
    return write_grid_osm(tmp_path / "city.osm", (min(lats), max(lats)), (min(lons), max(lons)))


def test_settings_take_the_road_network_from_env_toml_and_arguments(tmp_path: Path) -> None:
    assert load_settings(environ={}).road_network is None
    env = {"EVFLEET_NIGHTLY_ROAD_NETWORK": "osrm:http://osrm.local:5000"}
    assert load_settings(environ=env).road_network == "osrm:http://osrm.local:5000"
    toml = tmp_path / "evfleet.toml"
    toml.write_text('[nightly]\nroad_network = "valhalla:http://valhalla.local:8002"\n', encoding="utf-8")
    assert load_settings(toml, environ={}).road_network == "valhalla:http://valhalla.local:8002"
    assert load_settings(toml, environ=env, road_network="haversine").road_network == "haversine"
    with pytest.raises(ValueError, match=r"setting 'road_network'.*expected 'haversine'"):
        load_settings(environ={"EVFLEET_NIGHTLY_ROAD_NETWORK": "google:maps"})


def test_haversine_default_leaves_the_problem_unchanged(demo_engine: Engine) -> None:
    depot_id = _depot_id(demo_engine, "SZ-NS")
    with Session(demo_engine) as s:
        problem = routing_problem(load_depot_day(s, scope_for(s), depot_id, DAY))
    policy = PlanningPolicy()
    same, info = road_network_matrices(problem, "haversine", policy)
    assert same is problem and problem.distance_km is None and problem.travel_minutes is None
    assert info == {"provider": "haversine", "detour_factor": 1.3, "speed_kmh": 25.0}
    assert RunOptions().road_network == "haversine"


@pytest.mark.slow
def test_nightly_on_an_osm_extract_records_it_in_the_plan(demo_copy: Engine, tmp_path: Path) -> None:
    depot_id = _depot_id(demo_copy, "SZ-NS")
    extract = _extract_around(demo_copy, depot_id, tmp_path)
    url = demo_copy.url.render_as_string(hide_password=False)
    args = ["nightly", "--db", url, "--date", DAY.isoformat(), "--depots", "SZ-NS", "--workers", "1"]
    args += ["--time-limit", "1", "--charging-time-limit", "5", "--road-network", f"osm:{extract}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "road network osm:" in " ".join(result.output.split())  # the banner names the source
    with Session(demo_copy) as s:
        plan = s.exec(select(RoutePlan).where(RoutePlan.depot_id == depot_id)).one()
        stops = s.exec(select(RouteStop).where(RouteStop.plan_id == plan.id)).all()
    info = plan.road_network
    assert info["provider"] == "osm" and info["source"] == "city.osm"
    assert info["sha256"] == hashlib.sha256(extract.read_bytes()).hexdigest()
    assert info["points"] == len(plan.problem["locations"])
    # The stored problem carries the graph's matrices, and the stored plan passes the checker on them.
    problem = problem_from_dict(plan.problem)
    assert problem.distance_km is not None and problem.travel_minutes is not None
    solution = RoutingSolution.from_dict(plan.solution)
    assert check_solution(problem, solution).feasible
    # On a grid, road km are never below the great circle (less the snap legs, at most ~0.3 km each way).
    dist = np.asarray(problem.distance_km)
    lat = np.array([loc.lat for loc in problem.locations])
    lon = np.array([loc.lon for loc in problem.locations])
    from routing.matrix import haversine_matrix_km

    assert np.all(dist >= haversine_matrix_km(lat, lon) - 0.6)
    # Each stored leg is the matrix entry the solver planned with: the legs add up to the plan's km.
    assert sum(st.km_from_previous for st in stops) == pytest.approx(plan.total_km, rel=1e-9)
    # A re-solve with the default records haversine beside it (a draft: version 1 stays published).
    with Session(demo_copy) as s:
        scope = scope_for(s)
    second = run_depot_day(demo_copy, scope, depot_id, DAY, FAST)
    with Session(demo_copy) as s:
        again = s.get(RoutePlan, second.route_plan_id)
    assert again.road_network == {"provider": "haversine", "detour_factor": 1.3, "speed_kmh": 25.0}
    assert again.problem["distance_km"] is None


def test_points_off_the_extract_fail_the_depot_by_name(demo_copy: Engine, tmp_path: Path) -> None:
    depot_id = _depot_id(demo_copy, "SZ-NS")
    elsewhere = write_grid_osm(tmp_path / "elsewhere.osm", (30.0, 30.01), (120.0, 120.01))
    with Session(demo_copy) as s:
        scope = scope_for(s)
    options = RunOptions(time_limit_s=1.0, road_network=f"osm:{elsewhere}")
    with pytest.raises(UnreachablePairsError, match=r"point 0 \(22\.\d+, 11\d\.\d+\) is \d+\.\d+ km away"):
        run_depot_day(demo_copy, scope, depot_id, DAY, options)
    with Session(demo_copy) as s:
        assert s.exec(select(RoutePlan).where(RoutePlan.depot_id == depot_id)).first() is None


def test_cli_refuses_a_bad_road_network(demo_copy: Engine, tmp_path: Path) -> None:
    url = demo_copy.url.render_as_string(hide_password=False)
    runner = CliRunner()
    bad = runner.invoke(app, ["nightly", "--db", url, "--date", DAY.isoformat(), "--road-network", "ors:x"])
    assert bad.exit_code == 1 and "expected 'haversine'" in bad.output
    gone = tmp_path / "missing.osm.pbf"
    missing = runner.invoke(
        app, ["nightly", "--db", url, "--date", DAY.isoformat(), "--road-network", f"osm:{gone}"]
    )
    assert missing.exit_code == 1 and "file not found" in missing.output


def test_bench_roadnet_times_an_extract_and_reports_circuity(tmp_path: Path) -> None:
    pytest.importorskip("osmium")
    extract = write_grid_osm(tmp_path / "grid.osm", (22.50, 22.56), (114.00, 114.06), step=0.004)
    out = tmp_path / "bench.json"
    args = [
        "bench",
        "routing-roadnet",
        "--road-network",
        f"osm:{extract}",
        "--points",
        "6,12",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    import json

    doc = json.loads(out.read_text())
    assert [r["points"] for r in doc["results"]] == [6, 12]
    assert doc["road_network"]["provider"] == "osm"
    # A square grid's road km over great-circle km: 4/pi = 1.27 on average over directions, more with snapping.
    assert all(1.0 <= r["median_circuity"] <= 1.6 for r in doc["results"])
    bad = CliRunner().invoke(app, ["bench", "routing-roadnet", "--road-network", "haversine"])
    assert bad.exit_code == 2
