"""`evfleet charge month`: a depot's billing month replayed from its stored plans, each policy billed once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.models import ChargingPlan, Depot, PlanStatus, Tariff
from tests.app.conftest import copy_sqlite

DEPOT = "SZ-NS"  # the smallest demo depot
DATES = (dt.date(2026, 11, 25), dt.date(2026, 11, 26))  # nights of 24 and 25 November


@pytest.fixture(scope="module")
def two_nights(demo_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> str:
    from fleet.nightly import NightlyConfig, run_nightly
    from fleet.pipeline import RunOptions

    url = copy_sqlite(demo_engine, tmp_path_factory.mktemp("month") / "month.db")
    for day in DATES:
        summary = run_nightly(
            NightlyConfig(
                day,
                url,
                depot_codes=(DEPOT,),
                options=RunOptions(time_limit_s=1.0, charging_time_limit_s=5.0),
            )
        )
        assert not summary.failed
    return url


def test_month_bills_each_policy_one_demand_charge_on_its_own_maximum(
    two_nights: str, tmp_path: Path
) -> None:
    out = tmp_path / "month.json"
    run = CliRunner().invoke(
        app,
        ["charge", "month", "--depot", DEPOT, "--month", "2026-11", "--json", str(out), "--db", two_nights],
    )
    assert run.exit_code == 0, run.output
    assert "2 of 30 nights" in run.output
    result = json.loads(out.read_text())
    assert result["nights_simulated"] == 2 and set(result["bills"]) == {
        "optimised",
        "uncontrolled",
        "edf",
        "timer",
        "balanced",
    }
    from fleet.db import make_engine

    with Session(make_engine(two_nights)) as s:
        depot = s.exec(select(Depot).where(Depot.code == DEPOT)).one()
        rate = float(s.get(Tariff, depot.tariff_id).demand_charge_cny_per_kw_month)
        plans = s.exec(
            select(ChargingPlan).where(
                ChargingPlan.depot_id == depot.id, ChargingPlan.status == PlanStatus.CURRENT
            )
        ).all()
    assert len(plans) == 2 and rate > 0
    for name, bill in result["bills"].items():
        peaks = [n["peak_kw"] for n in bill["nights"]]
        # One charge for the month on the policy's own maximum, never one per night.
        assert bill["demand_cny"] == pytest.approx(rate * max(peaks), abs=0.02), name
        assert bill["energy_cny"] == pytest.approx(sum(n["energy_cny"] for n in bill["nights"]), abs=0.02)
        assert bill["total_cny"] == pytest.approx(bill["energy_cny"] + bill["demand_cny"], abs=0.02)
    # The baselines replay exactly what the nightly stored beside each plan.
    for plan, night in zip(
        sorted(plans, key=lambda p: p.service_date), result["bills"]["uncontrolled"]["nights"]
    ):
        assert night["peak_kw"] == pytest.approx(plan.baselines["uncontrolled"]["peak_kw"], abs=1e-3)
        assert night["energy_cny"] == pytest.approx(
            plan.baselines["uncontrolled"]["cost"]["energy"], abs=1e-3
        )


def test_month_without_plans_or_with_a_bad_month_says_so(two_nights: str) -> None:
    none = CliRunner().invoke(
        app, ["charge", "month", "--depot", DEPOT, "--month", "2026-10", "--db", two_nights]
    )
    assert none.exit_code == 1 and "no stored charging plan" in none.output
    bad = CliRunner().invoke(
        app, ["charge", "month", "--depot", DEPOT, "--month", "11/2026", "--db", two_nights]
    )
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
    gone = CliRunner().invoke(
        app, ["charge", "month", "--depot", "SZ-XX", "--month", "2026-11", "--db", two_nights]
    )
    assert gone.exit_code == 2 and "not found" in gone.output


def test_a_hot_day_flag_reaches_the_nights_tariff(demo_engine: Engine, tmp_path: Path) -> None:
    """`--hot-day` marks a date whose critical-peak hours apply outside July-September; the stored problem's
    tariff carries it, so the plan and any replay price those hours as critical."""
    url = copy_sqlite(demo_engine, tmp_path / "hot.db")
    run = CliRunner().invoke(
        app,
        [
            "nightly",
            "--date",
            "2026-11-26",
            "--depots",
            DEPOT,
            "--time-limit",
            "1",
            "--hot-day",
            "2026-11-26",
            "--db",
            url,
        ],
    )
    assert run.exit_code == 0, run.output
    from fleet.db import make_engine

    with Session(make_engine(url)) as s:
        plan = s.exec(select(ChargingPlan).where(ChargingPlan.status == PlanStatus.CURRENT)).one()
    assert plan.problem["tariff"]["conditions"] == {"guangzhou_daily_max_ge_35C": ["2026-11-26"]}
    bad = CliRunner().invoke(app, ["nightly", "--date", "2026-11-26", "--hot-day", "26/11", "--db", url])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


def test_imported_sessions_become_the_observed_baseline(demo_engine: Engine, tmp_path: Path) -> None:
    """Two metered sessions at the depot the evening before 26 November: the stored plan's baselines gain
    "observed", what the depot really did, billed on the same tariff as the plan."""
    from fleet.models import ChargingSession, Vehicle, VehicleKind, VehicleModel

    url = copy_sqlite(demo_engine, tmp_path / "observed.db")
    from fleet.db import make_engine

    engine = make_engine(url)
    tz = dt.timezone(dt.timedelta(hours=8))
    with Session(engine) as s:
        depot = s.exec(select(Depot).where(Depot.code == DEPOT)).one()
        evs = s.exec(
            select(Vehicle)
            .join(VehicleModel, VehicleModel.id == Vehicle.model_id)
            .where(Vehicle.depot_id == depot.id, VehicleModel.kind == VehicleKind.BEV)
            .order_by(Vehicle.plate)
        ).all()[:2]
        for k, v in enumerate(evs):
            start = dt.datetime(2026, 11, 25, 22, 0, tzinfo=tz) + dt.timedelta(hours=k)
            s.add(
                ChargingSession(
                    lessor_id=v.lessor_id,
                    lessee_id=v.lessee_id,
                    vehicle_id=v.id,
                    depot_id=depot.id,
                    started_at=start,
                    ended_at=start + dt.timedelta(hours=2),
                    kwh=30.0,
                )
            )
        s.commit()
    run = CliRunner().invoke(
        app, ["nightly", "--date", "2026-11-26", "--depots", DEPOT, "--time-limit", "1", "--db", url]
    )
    assert run.exit_code == 0, run.output
    with Session(engine) as s:
        plan = s.exec(select(ChargingPlan).where(ChargingPlan.status == PlanStatus.CURRENT)).one()
    seen = plan.baselines["observed"]
    # 60 kWh metered at the grid, all of it overnight valley-priced or not: the cost is at least 60 × the cheapest
    # price of the night and at most 60 × the dearest.
    prices = _night_prices(plan.problem)
    assert min(prices) * 60 - 1e-6 <= seen["cost"]["energy"] <= max(prices) * 60 + 1e-6
    assert "observed" in run.output


def _night_prices(problem_json: dict) -> list[float]:
    from charging.problem import ChargingProblem

    p = ChargingProblem.from_json(problem_json)
    return [float(x) for x in p.tariff.energy_prices(p.slot_starts, p.slot_minutes)]
