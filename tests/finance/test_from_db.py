"""Database adapters on an SQLite database loaded with the demo data (fixtures in tests/conftest.py)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from evfleet_data import DEMO_DIR
from fleet.cli.main import app
from fleet.db import session_scope
from fleet.finance import from_db
from fleet.finance.evaluate import evaluate
from fleet.finance.money import to_fen
from fleet.models import ChargingPlan, Depot, Lease, Lessee, PlanStatus, RoutePlan, RouteStop, Vehicle
from fleet.scope import Scope, scope_for

from .test_scenario_and_cli import EXAMPLE

LEASE_ROWS = {r["code"]: r for r in csv.DictReader((DEMO_DIR / "leases.csv").open(encoding="utf-8"))}


def _lessee_scope(session, code: str) -> Scope:  # type: ignore[no-untyped-def]
    return scope_for(session, lessee_code=code)


def test_lease_row_maps_to_inputs(demo_engine: Engine) -> None:
    code = next(iter(LEASE_ROWS))
    row = LEASE_ROWS[code]
    with session_scope(demo_engine) as session:
        (lease,) = from_db.load_leases(session, scope_for(session), code)
    terms, usage, carbon = lease.item.lease, lease.item.usage, lease.item.carbon
    start, end = dt.date.fromisoformat(row["start_date"]), dt.date.fromisoformat(row["end_date"])
    months = (end.year - start.year) * 12 + end.month - start.month + 1  # end date is the month's last day
    net = float(row["purchase_price_cny"]) - float(row["subsidy_cny"])
    assert terms.term_months == months
    assert terms.price == float(row["purchase_price_cny"])
    assert terms.monthly_rent == pytest.approx(float(row["monthly_rent_cny"]))
    assert terms.deposit == pytest.approx(float(row["deposit_cny"]))
    assert terms.residual_value == pytest.approx(float(row["residual_value_cny"]))
    assert terms.loan.share_of_net_price == pytest.approx((net - float(row["down_payment_cny"])) / net)
    assert terms.loan.annual_rate == pytest.approx(float(row["loan_annual_rate"]))
    assert terms.loan.term_months == int(row["loan_term_months"])
    assert terms.loan.method == row["repayment"]
    assert terms.lessee == row["lessee_code"] and terms.start == start
    assert usage.km_per_year == float(row["expected_km_per_year"])
    assert carbon.lessor_share == (1.0 if row["emissions_claimant"] == "lessor" else 0.0)
    assert carbon.lessor_share + carbon.lessee_share == 1.0
    assert lease.sources["usage.km_per_year"] == "Lease.expected_km_per_year"


def test_portfolio_per_lessee_and_total(demo_engine: Engine) -> None:
    with session_scope(demo_engine) as session:
        result, leases = from_db.portfolio(session, scope_for(session))
    by_lessee = {r.label: r.leases for r in result.by_lessee}
    expected: dict[str, int] = {}
    for row in LEASE_ROWS.values():
        expected[row["lessee_code"]] = expected.get(row["lessee_code"], 0) + 1
    assert by_lessee == expected
    assert result.total.leases == len(LEASE_ROWS) == len(leases)
    # Group flows add up to the total (each group starts at its own first lease; re-align on the total's origin).
    assert result.total.flows.rent.sum() == pytest.approx(sum(r.flows.rent.sum() for r in result.by_lessee))
    assert result.total.flows.purchase.sum() == pytest.approx(
        -sum(float(r["purchase_price_cny"]) - float(r["subsidy_cny"]) for r in LEASE_ROWS.values())
    )
    assert result.total.dscr_min is not None and result.total.llcr is not None


def test_lessee_scope_sees_only_its_leases(demo_engine: Engine) -> None:
    with session_scope(demo_engine) as session:
        lessee_code = session.exec(select(Lessee.code).order_by(Lessee.code)).first()
        scope = _lessee_scope(session, lessee_code)
        result, _ = from_db.portfolio(session, scope)
        assert [r.label for r in result.by_lessee] == [lessee_code]
        other = next(c for c, r in LEASE_ROWS.items() if r["lessee_code"] != lessee_code)
        with pytest.raises(LookupError, match="not found"):
            from_db.load_leases(session, scope, other)


def test_lease_report_matches_library_and_lists_sources(demo_engine: Engine) -> None:
    code = next(iter(LEASE_ROWS))
    with session_scope(demo_engine) as session:
        report = from_db.lease_report(session, scope_for(session), code, tornado=False)
        (lease,) = from_db.load_leases(session, scope_for(session), code)
    expected = evaluate(lease.scenario())
    assert report["lessor"]["project"]["npv"] == to_fen(expected.lessor.project.npv)
    assert report["lessee"]["saving_per_month"] == to_fen(expected.lessee.saving_per_month)
    assert "lessee.electricity_cny_per_kwh" in report["sources"]
    assert any("rent_in_advance" in m for m in report["missing_fields"])
    fields = {a["field"] for a in report["assumptions"]}
    assert "lease.price" not in fields and "usage.km_per_year" not in fields  # read from the database
    assert "lease.tax_rate" in fields


def test_electricity_from_current_charging_plans(demo_copy: Engine) -> None:
    code = next(iter(LEASE_ROWS))
    with session_scope(demo_copy) as session:
        scope = scope_for(session)
        (before,) = from_db.load_leases(session, scope, code)
        assert "tariff" in before.sources["lessee.electricity_cny_per_kwh"]
        for d in session.exec(
            select(Depot)
        ).all():  # a plan at every depot: energy 300.00 CNY / 1,000 kWh = 0.30 CNY/kWh, no demand charge
            session.add(
                ChargingPlan(
                    lessor_id=d.lessor_id,
                    lessee_id=d.lessee_id,
                    depot_id=d.id,
                    service_date=dt.date(2026, 10, 2),
                    version=1,
                    status=PlanStatus.CURRENT,
                    energy_cost_fen=30_000,
                    total_cost_fen=30_000,
                    total_kwh=1_000.0,
                )
            )
        session.flush()
        (after,) = from_db.load_leases(session, scope, code)
    # Delivered price: energy 0.30, which holds the depot's government funds and surcharges (the tariff's adder),
    # so nothing is added on top.
    assert after.lessee.electricity_cny_per_kwh == pytest.approx(0.30)
    assert "charging plans" in after.sources["lessee.electricity_cny_per_kwh"]


def test_driver_time_from_current_route_plans(demo_copy: Engine) -> None:
    """One current route: 60 km, then a 30-minute charging-station stop, then 40 km -> 5 h per 1,000 km."""
    code = next(iter(LEASE_ROWS))
    with session_scope(demo_copy) as session:
        scope = scope_for(session)
        lease = session.exec(select(Lease).where(Lease.code == code)).one()
        vehicle = session.get(Vehicle, lease.vehicle_id)
        owner = {"lessor_id": lease.lessor_id, "lessee_id": lease.lessee_id}
        plan = RoutePlan(
            **owner,
            depot_id=vehicle.depot_id,
            service_date=dt.date(2026, 10, 2),
            version=1,
            status=PlanStatus.CURRENT,
        )
        session.add(plan)
        session.flush()
        t0 = dt.datetime(2026, 10, 2, 9, 0, tzinfo=dt.UTC)
        for seq, (kind, km, minutes) in enumerate(
            [("job", 60.0, 10), ("station", 0.0, 30), ("job", 40.0, 10)]
        ):
            session.add(
                RouteStop(
                    **owner,
                    plan_id=plan.id,
                    vehicle_id=vehicle.id,
                    sequence=seq,
                    kind=kind,
                    latitude=22.6,
                    longitude=113.9,
                    km_from_previous=km,
                    arrival=t0 + dt.timedelta(hours=seq),
                    departure=t0 + dt.timedelta(hours=seq, minutes=minutes),
                )
            )
        session.flush()
        (found,) = from_db.load_leases(session, scope, code)
    assert found.lessee.charging_hours_per_1000km == pytest.approx(0.5 / 100 * 1000)
    assert "route plans" in found.sources["lessee.charging_hours_per_1000km"]


def test_avoided_emissions_from_the_emissions_module(demo_engine: Engine) -> None:
    code = next(iter(LEASE_ROWS))
    with session_scope(demo_engine) as session:
        (found,) = from_db.load_leases(session, scope_for(session), code, {code: 0.2})
        (plain,) = from_db.load_leases(session, scope_for(session), code)
    assert found.item.carbon.avoided_kg_per_km == 0.2
    assert "emissions module" in found.sources["carbon"]
    assert plain.item.carbon.avoided_kg_per_km != 0.2
    assert "carbon.avoided_kg_per_km" not in {u.field for u in found.defaults_used()}


def test_saved_scenarios_round_trip_and_stay_in_scope(demo_copy: Engine) -> None:
    payload = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    with session_scope(demo_copy) as session:
        codes = list(session.exec(select(Lessee.code).order_by(Lessee.code)).all())
        mine, theirs = _lessee_scope(session, codes[0]), _lessee_scope(session, codes[1])
        from_db.save_scenario(session, mine, "base case", payload)
        session.flush()
        loaded = from_db.load_scenario(session, mine, "base case")
        assert loaded.base.lease.monthly_rent == payload["lease"]["monthly_rent"]
        assert len(loaded.variants) == len(payload["variants"])
        assert from_db.list_scenarios(session, scope_for(session)) == ["base case"]  # the lessor sees it
        with pytest.raises(LookupError):
            from_db.load_scenario(session, theirs, "base case")
        # Each owner has its own names (issue 20: no existence leak, no overwrite): another lessee and the lessor
        # saving "base case" store their own and leave this lessee's untouched.
        other = {**payload, "lease": {**payload["lease"], "monthly_rent": 1234}}
        from_db.save_scenario(session, theirs, "base case", other)
        from_db.save_scenario(session, scope_for(session), "base case", other)
        session.flush()
        assert from_db.load_scenario(session, theirs, "base case").base.lease.monthly_rent == 1234
        assert from_db.load_scenario(session, scope_for(session), "base case").base.lease.monthly_rent == 1234
        assert (
            from_db.load_scenario(session, mine, "base case").base.lease.monthly_rent
            == payload["lease"]["monthly_rent"]
        )
        changed = {**payload, "lease": {**payload["lease"], "monthly_rent": 4100}}
        from_db.save_scenario(session, mine, "base case", changed)
        session.flush()
        assert from_db.load_scenario(session, mine, "base case").base.lease.monthly_rent == 4100
        with pytest.raises(from_db.FinanceInputError):
            from_db.save_scenario(session, mine, "broken", {"lease": {"term_months": 0}})


def test_cli_portfolio_lease_and_saved(demo_copy: Engine, tmp_path: Path) -> None:
    url = str(demo_copy.url)
    runner = CliRunner()
    result = runner.invoke(app, ["roi", "--portfolio", "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["total"]["leases"] == len(LEASE_ROWS)
    assert {r["label"] for r in report["by_lessee"]} == {r["lessee_code"] for r in LEASE_ROWS.values()}

    table = runner.invoke(app, ["roi", "--portfolio", "--db", url])
    assert table.exit_code == 0 and "total" in table.output and "Portfolio" in table.output

    code = next(iter(LEASE_ROWS))
    single = runner.invoke(app, ["roi", "--lease", code, "--db", url, "--no-tornado", "--json"])
    assert single.exit_code == 0, single.output
    assert json.loads(single.output)["sources"]

    missing = runner.invoke(app, ["roi", "--lease", "NO-SUCH-LEASE", "--db", url])
    assert missing.exit_code == 2 and "NO-SUCH-LEASE" in missing.output

    saved = runner.invoke(
        app,
        ["roi", "--scenario", str(EXAMPLE), "--save-as", "example", "--db", url, "--no-tornado", "--json"],
    )
    assert saved.exit_code == 0, saved.output
    again = runner.invoke(app, ["roi", "--saved", "example", "--db", url, "--no-tornado", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["lessor"] == json.loads(saved.output[saved.output.index("{") :])["lessor"]


def test_portfolio_finishes_the_other_leases_when_one_is_bad(demo_copy: Engine) -> None:
    """Issue 20: a loan term longer than the lease and a negative rate are listed per lease; the rest is evaluated.
    (A NaN rate cannot be stored in SQLite; `inputs` refuses it the same way, as 'must be finite'.)

    Every other lease keeps its own figures: the portfolio total is the sum over the good leases only.
    """
    from decimal import Decimal

    with session_scope(demo_copy) as session:
        scope = scope_for(session)
        leases = session.exec(select(Lease).order_by(Lease.code)).all()
        bad_term, bad_rate = leases[0], leases[1]
        bad_term.loan_term_months = 10_000
        bad_rate.loan_annual_rate = Decimal("-0.5")
        session.add_all([bad_term, bad_rate])
        session.flush()
        report = from_db.portfolio_report(session, scope)
    errors = {e["lease"]: e["error"] for e in report["errors"]}
    assert set(errors) == {bad_term.code, bad_rate.code}
    assert "loan.term_months" in errors[bad_term.code] and "loan.annual_rate" in errors[bad_rate.code]
    assert len(report["lease_lines"]) == len(leases) - 2
    assert report["total"]["leases"] == len(leases) - 2
    line = report["lease_lines"][0]
    assert {"lessor_costs", "covenant", "rent", "electricity", "carbon_basis"} <= set(line)
    assert line["rent"]["lessor_floor_rent"] >= line["rent"]["lessor_min_rent_npv_zero"]


def test_a_lessee_never_sees_the_lessors_figures(demo_copy: Engine) -> None:
    """Issue 20: the lessee view of its own lease drops NPV, IRR, DSCR, LLCR, the lessor's costs and floor rent."""
    code = next(iter(LEASE_ROWS))
    with session_scope(demo_copy) as session:
        scope = scope_for(session)
        report = from_db.lease_report(session, scope, code, tornado=True, view="lessee")
    text = json.dumps(report, default=str)
    assert report["view"] == "lessee" and "lessor" not in report
    for word in ("npv", "irr", "dscr", "llcr", "floor", "covenant", "lessor_costs", "lessor_min", "loan"):
        assert word not in text.lower(), word
    assert set(report["rent"]) == {"monthly_rent", "lessee_max_rent_saving_zero"}
    assert report["lessee"]["electricity_basis"]


def test_delivered_electricity_price_and_metered_cost(demo_copy: Engine) -> None:
    """Issue 19 item 9, by hand: one current plan for the night of 2026-10-01 (October: 31 days) at every depot with
    energy 300.00 CNY and 1,000 kWh on a peak that bills 310.00 CNY for the month. The plan stores the night's share,
    310.00 / 31 = 10.00 CNY (pipeline: demand_cost_fen is pro-rated), so the delivered price is
    (300.00 + 10.00) / 1,000 = 0.31 CNY/kWh (the plan's energy cost holds the funds). A metered charging session of the lease's vehicle,
    50.00 CNY for 100 kWh, then wins: 0.50 CNY/kWh."""
    from fleet.models import ChargingSession

    code = next(iter(LEASE_ROWS))
    with session_scope(demo_copy) as session:
        scope = scope_for(session)
        for d in session.exec(select(Depot)).all():
            session.add(
                ChargingPlan(
                    lessor_id=d.lessor_id,
                    lessee_id=d.lessee_id,
                    depot_id=d.id,
                    service_date=dt.date(2026, 10, 2),
                    version=1,
                    status=PlanStatus.CURRENT,
                    energy_cost_fen=30_000,
                    demand_cost_fen=1_000,
                    total_cost_fen=31_000,
                    total_kwh=1_000.0,
                )
            )
        session.flush()
        (planned,) = from_db.load_leases(session, scope, code)
        lease = session.exec(select(Lease).where(Lease.code == code)).one()
        start = dt.datetime(2026, 10, 2, 1, 0, tzinfo=dt.UTC)
        session.add(
            ChargingSession(
                lessor_id=lease.lessor_id,
                lessee_id=lease.lessee_id,
                vehicle_id=lease.vehicle_id,
                started_at=start,
                ended_at=start + dt.timedelta(hours=2),
                kwh=100.0,
                cost_fen=5_000,
            )
        )
        session.flush()
        (metered,) = from_db.load_leases(session, scope, code)
    assert planned.lessee.electricity_cny_per_kwh == pytest.approx(0.31)
    assert "delivered price" in planned.sources["lessee.electricity_cny_per_kwh"]
    assert metered.lessee.electricity_cny_per_kwh == pytest.approx(0.50)
    assert metered.sources["lessee.electricity_cny_per_kwh"].startswith("metered")


def test_carbon_counts_only_where_the_lease_names_a_scheme(demo_copy: Engine) -> None:
    """Issue 19 item 11, by hand: a lessor-claimed lease at 40,000 km/yr and the reference 0.1242575 kg/km avoids
    40,000 / 12 x 0.1242575 / 1,000 = 0.41419 t a month. With no scheme named, no revenue; naming scheme 'TEST-1',
    a price source and 50 CNY/t gives 0.41419 x 50 = 20.71 CNY a month."""
    from decimal import Decimal

    from fleet.models import Claimant

    code = next(iter(LEASE_ROWS))
    with session_scope(demo_copy) as session:
        scope = scope_for(session)
        lease = session.exec(select(Lease).where(Lease.code == code)).one()
        lease.emissions_claimant = Claimant.LESSOR
        lease.expected_km_per_year = 40_000
        session.add(lease)
        session.flush()
        (plain,) = from_db.load_leases(session, scope, code)
        lease.carbon_scheme = "TEST-1"
        lease.carbon_price_source = "test price"
        lease.carbon_price_cny_per_t = Decimal(50)
        session.add(lease)
        session.flush()
        (named,) = from_db.load_leases(session, scope, code)
    assert plain.item.carbon.price_cny_per_t == 0.0 and not plain.item.carbon.in_base_case
    assert "no scheme named" in plain.sources["carbon"]
    flows = evaluate(named.scenario()).lessor.flows
    assert named.item.carbon.in_base_case
    assert flows.carbon[1] == pytest.approx(40_000 / 12 * 0.1242575 / 1000 * 50, rel=1e-6)
    assert flows.carbon[1] == pytest.approx(20.71, abs=0.005)


def test_a_month_of_plans_is_billed_on_its_highest_night(demo_copy: Engine) -> None:
    """Two October nights at every depot, each 300.00 CNY energy for 1,000 kWh; their stored demand shares are
    10.00 and 4.00 CNY (peaks billing 310 and 124 CNY a month). The month is billed once, on the higher peak, so the
    two planned nights bear 2 × 10.00 = 20.00 CNY (not 10.00 + 4.00): (600 + 20) / 2,000 = 0.31 CNY/kWh (funds are in the plans'
    energy cost)."""
    code = next(iter(LEASE_ROWS))
    with session_scope(demo_copy) as session:
        scope = scope_for(session)
        for d in session.exec(select(Depot)).all():
            for day, demand in ((dt.date(2026, 10, 2), 1_000), (dt.date(2026, 10, 3), 400)):
                session.add(
                    ChargingPlan(
                        lessor_id=d.lessor_id,
                        lessee_id=d.lessee_id,
                        depot_id=d.id,
                        service_date=day,
                        version=1,
                        status=PlanStatus.CURRENT,
                        energy_cost_fen=30_000,
                        demand_cost_fen=demand,
                        total_cost_fen=30_000 + demand,
                        total_kwh=1_000.0,
                    )
                )
        session.flush()
        (planned,) = from_db.load_leases(session, scope, code)
    assert planned.lessee.electricity_cny_per_kwh == pytest.approx((600 + 20) / 2_000)
