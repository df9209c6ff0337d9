"""The synthetic lessor's service day of orders (fleet.vpp.scale_orders), the routing solver under a starved
budget on one of its 80-truck depots, and the nightly with the flexibility reduce step on synthetic depots
surviving a worker killed mid-run (the same fault injection as tests/vpp/test_nightly_flex.py: `os._exit` in the
worker, which Dask reports as KilledWorker)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fleet.models import LOCAL_TZ, Depot, Tariff
from fleet.planning.build import routing_problem
from fleet.planning.inputs import ConnectorIn, DepotDayInputs, OrderIn, VehicleIn, billing_rules
from fleet.vpp.scale_orders import (
    DETOUR,
    KM_PER_DEG_LAT,
    LOAD_SHARE,
    PAYLOAD_KG,
    STOPS,
    depot_orders,
)
from routing.check import check_solution
from routing.solve import solve

DAY = dt.date(2025, 1, 4)
LAT, LON = 22.7, 113.9


def _flat_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    dy = (a[0] - b[0]) * KM_PER_DEG_LAT
    dx = (a[1] - b[1]) * KM_PER_DEG_LAT * math.cos(math.radians(LAT))
    return math.hypot(dx, dy)


def test_orders_are_deterministic_and_shaped_like_the_metered_days() -> None:
    orders = depot_orders("SYN-D0007", 7, LAT, LON, 80, DAY, seed=3)
    assert orders == depot_orders("SYN-D0007", 7, LAT, LON, 80, DAY, seed=3)
    assert orders != depot_orders("SYN-D0007", 7, LAT, LON, 80, DAY, seed=4)
    assert orders != depot_orders("SYN-D0008", 8, LAT, LON, 80, DAY, seed=3)
    assert len({o.ref for o in orders}) == len(orders)
    tours: dict[int, list] = {}
    for o in orders:
        tours.setdefault(o.tour, []).append(o)
    assert sorted(tours) == list(range(80))
    assert {len(t) for t in tours.values()} <= set(STOPS)
    kms = [t[0].tour_km for t in tours.values()]
    assert 100 <= sum(kms) / len(kms) <= 120  # N(110, 25): the metered days' km per truck
    shift_start = dt.datetime.combine(DAY, dt.time(7, 0), tzinfo=LOCAL_TZ)
    shift_end = dt.datetime.combine(DAY, dt.time(20, 0), tzinfo=LOCAL_TZ)
    for stops in tours.values():
        # the tour's load is 90 % of the payload; depot -> stops -> depot x detour is the drawn km
        assert sum(o.demand_kg for o in stops) == pytest.approx(LOAD_SHARE * PAYLOAD_KG, abs=0.5)
        points = [(LAT, LON)] + [(o.lat, o.lon) for o in stops] + [(LAT, LON)]
        km = DETOUR * sum(_flat_km(a, b) for a, b in itertools.pairwise(points))
        assert km == pytest.approx(stops[0].tour_km, rel=0.01)
        for o in stops:
            assert shift_start <= o.window_start < o.window_end <= shift_end
            assert o.window_end - o.window_start >= dt.timedelta(hours=1)
            assert 8 <= o.service_minutes <= 16 and o.demand_kg > 0


def _inputs(trucks: int) -> DepotDayInputs:
    orders = depot_orders("SYN-D0001", 1, LAT, LON, trucks, DAY)
    depot = Depot(code="SYN-D0001", name="s", latitude=LAT, longitude=LON, grid_import_limit_kw=30.0 * trucks)
    tariff = Tariff(
        code="GD-TOU-2021",
        name="t",
        reference_id="gd_ic_tou_2021",
        base_price_cny_per_kwh=Decimal("0.68"),
        demand_charge_cny_per_kw_month=Decimal(32),
    )
    return DepotDayInputs(
        lessor_id=1,
        lessee_id=1,
        lessee_kind="parcel_courier",
        depot_id=1,
        depot_code="SYN-D0001",
        lat=LAT,
        lon=LON,
        grid_import_limit_kw=30.0 * trucks,
        service_date=DAY,
        orders=tuple(
            OrderIn(
                k, o.ref, o.lat, o.lon, o.demand_kg, o.window_start, o.window_end, o.service_minutes, None, 0
            )
            for k, o in enumerate(orders)
        ),
        vehicles=tuple(
            VehicleIn(k, f"T{k:03d}", "BEV-H9E-81", "bev", 1800, 81, 0.9, 0.25, 0.35, 80, None)
            for k in range(trucks)
        ),
        connectors=tuple(ConnectorIn(k, f"DC{k + 1:03d}", 60, 0.95, k % 4 == 0, None) for k in range(trucks)),
        groups=(),
        tariff_reference_id="gd_ic_tou_2021",
        tariff_base_price=0.68,
        demand_charge_per_kw_month=32,
        month_peak_kw_so_far=0,
        billing=billing_rules(depot, tariff),
    )


def test_a_starved_routing_search_keeps_the_constructed_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A synthetic depot whose search gets no time at all (every OR-Tools search cut to 1 ns: what a short budget
    on a loaded machine leaves after the construction and the model build of an 80-truck depot): the restored
    start, every order placed, is returned, not an empty plan with every order unserved (what the nightly
    stored before on a loaded machine)."""
    from ortools.constraint_solver import pywrapcp

    def starved(method: str):  # type: ignore[no-untyped-def]
        real = getattr(pywrapcp.RoutingModel, method)

        def call(self, *args):  # type: ignore[no-untyped-def]
            params = pywrapcp.DefaultRoutingSearchParameters()
            params.CopyFrom(args[-1])
            params.time_limit.seconds, params.time_limit.nanos = 0, 1
            return real(self, *args[:-1], params)

        return call

    # Every search gets no time; restoring the constructed routes (ReadAssignmentFromRoutes) is untouched.
    for method in ("SolveWithParameters", "SolveFromAssignmentWithParameters"):
        monkeypatch.setattr(pywrapcp.RoutingModel, method, starved(method))
    problem = routing_problem(_inputs(20))
    solution = solve(problem, time_limit_s=1.0, seed=0)
    assert not solution.unserved and solution.stats.status == "feasible"
    assert "search out of time: start kept" in solution.stats.phases
    report = check_solution(problem, solution)
    assert report.feasible, report.summary()


def test_a_starved_budget_still_restores_the_constructed_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The budget left after the construction is tiny (0.05 s) and the machine so loaded that it is not enough
    to restore the start either (simulated: any limit under 1 s becomes 1 ns, restoring included): the model is
    closed with `RESTORE_S` for the restore, the start is kept, every order is served."""
    import routing.model as M
    from routing.solve import RESTORE_S

    assert RESTORE_S >= 1.0
    real = M.search_parameters

    def starved(time_limit_s: float, *args: object, **kwargs: object) -> object:
        params = real(time_limit_s, *args, **kwargs)  # type: ignore[arg-type]
        if time_limit_s < 1.0:
            params.time_limit.seconds, params.time_limit.nanos = 0, 1
        return params

    monkeypatch.setattr(M, "search_parameters", starved)
    problem = routing_problem(_inputs(20))
    solution = solve(problem, time_limit_s=0.01, seed=0)
    assert not solution.unserved and solution.stats.status == "feasible"
    report = check_solution(problem, solution)
    assert report.feasible, report.summary()


@pytest.mark.slow
@pytest.mark.postgres
def test_nightly_with_reduce_survives_a_killed_worker_on_synthetic_depots(pg_url: str) -> None:
    from fleet.nightly import NightlyConfig
    from fleet.pipeline import RunOptions
    from fleet.vpp.bench_scale import recheck_plans
    from fleet.vpp.nightly_flex import nightly_with_flex
    from fleet.vpp.scale import CITIES, LESSOR_CODE, ScaleSpec, load
    from fleet.vpp.scale_orders import load_orders

    spec = ScaleSpec(depots=3, trucks=12, lessees=2, days=3)
    report = load(pg_url, spec, orders=True)
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        per_depot = dict(
            conn.execute(
                sa.text(
                    'SELECT d.code, count(*) FROM "order" o JOIN depot d ON d.id = o.depot_id '
                    "WHERE o.service_date = :day GROUP BY d.code"
                ),
                {"day": spec.service_day},
            ).all()
        )
        assert conn.execute(sa.text("SELECT count(*) FROM depot WHERE tariff_id IS NULL")).scalar_one() == 0
    engine.dispose()
    assert sorted(per_depot) == ["SYN-D0001", "SYN-D0002", "SYN-D0003"]
    assert all(3 * 4 <= n <= 5 * 4 for n in per_depot.values())  # 4 trucks a depot, 3-5 stops a tour
    assert report.orders == sum(per_depot.values())
    with pytest.raises(ValueError, match="already have orders"):
        load_orders(pg_url, spec.service_day)
    # A depot loaded before depots had a tariff and orders (the full-size load): load_orders gives it both.
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE depot SET tariff_id = NULL WHERE code = 'SYN-D0003'"))
        conn.execute(
            sa.text("DELETE FROM \"order\" WHERE depot_id = (SELECT id FROM depot WHERE code = 'SYN-D0003')")
        )
    assert load_orders(pg_url, spec.service_day, depot_codes=("SYN-D0003",)) == per_depot["SYN-D0003"]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM depot WHERE tariff_id IS NULL")).scalar_one() == 0
    engine.dispose()

    config = NightlyConfig(
        service_date=spec.service_day,
        db_url=pg_url,
        workers=2,
        retries=0,
        lessor_code=LESSOR_CODE,
        options=RunOptions(time_limit_s=1.0, charging_time_limit_s=1.0, seed=1),
        faults={"SYN-D0002": "exit"},  # os._exit in the worker mid-run: KilledWorker for that depot only
    )
    result = nightly_with_flex(config)
    status = {o.depot_code: o.status for o in result.summary.outcomes}
    assert status == {"SYN-D0001": "succeeded", "SYN-D0002": "failed", "SYN-D0003": "succeeded"}
    dead = next(o for o in result.summary.outcomes if o.depot_code == "SYN-D0002")
    assert "worker process died" in (dead.error or "")
    assert result.missing == ("SYN-D0002",)
    assert set(result.depots["depot"]) == {"SYN-D0001", "SYN-D0003"}
    # depot i is in city i mod 8: the killed depot's zone (Guangzhou) is absent, the others are reduced
    assert set(result.zones["zone"]) == {CITIES[0], CITIES[2]}
    assert set(result.offer["zone"]) == {CITIES[0], CITIES[2]}
    assert (result.zones["add_kw"] > 0).any()
    for outcome in result.summary.outcomes:
        if outcome.status == "succeeded":
            assert outcome.result is not None
            assert outcome.result["orders"] == per_depot[outcome.depot_code]
            assert outcome.result["vehicles_used"] > 0
            assert outcome.result["trucks_ready"] == outcome.result["trucks_overnight"] == 4
    routes_ok, charging_ok, failures = recheck_plans(pg_url, result.summary.run_key)
    assert (routes_ok, charging_ok, failures) == (2, 2, [])
