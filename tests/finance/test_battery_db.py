"""The residual follows the battery on database leases: SoC imported with charging sessions, else the curve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.db import session_scope
from fleet.finance import from_db
from fleet.scope import scope_for

runner = CliRunner()
HEADER = "plate,depot_code,connector_code,started_at,ended_at,kwh,cost_cny,soc_start_pct,soc_end_pct\n"
PLATE, LEASE = (
    "粤BD10002",
    "L-BA-002",
)  # BEV-V6E: 51.39 kWh x usable 0.90 = 46.251 kWh; lease 2025-11-01, 60 months


def _import(url: str, tmp_path: Path, rows: str) -> object:
    path = tmp_path / "sessions.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return runner.invoke(app, ["import", "charging", str(path), "--db", url])


def test_curve_is_the_basis_without_state_of_charge(demo_engine: Engine) -> None:
    with session_scope(demo_engine) as session:
        report = from_db.lease_report(session, scope_for(session), LEASE, tornado=True)
    b = report["battery"]
    assert report["sources"]["lease.battery"].startswith("age and throughput curve")
    # The lease's energy at the meter is the truck's metered kWh/100 km (VehicleDay); 40,000 km/yr over 5 years:
    # cycles = 200,000 km x kWh/100km / 100 / 51.39 kWh; SoH = 1 - 5 x 1.68 % - cycles x 0.2 / 4,500.
    kwh_100 = report["inputs"]["usage"]["ev_kwh_per_100km"]
    assert report["sources"]["usage.ev_kwh_per_100km"].startswith("metered")
    efc = 200_000 * kwh_100 / 100 / 51.39
    soh = 1 - 5 * 0.0168 - efc * 0.2 / 4500
    assert b["equivalent_full_cycles"] == pytest.approx(efc, abs=0.05)
    assert b["soh_at_end"] == pytest.approx(soh, abs=1e-6)
    share = 51.39 * 500 / 115_000
    assert b["residual_value_at_end"] == pytest.approx(
        23_000 * (1 - share + share * (soh - 0.8) / 0.2), abs=0.01
    )
    assert any(r["path"] == "lease.battery.fade_override" for r in report["tornado"]["rows"])


def test_imported_state_of_charge_gives_a_measured_trend(demo_copy: Engine, tmp_path: Path) -> None:
    url = str(demo_copy.url)
    # Ends exactly 0, 365.25 and 730.5 days after 2025-11-01 00:00 UTC (08:00 Shenzhen), SoC 20 -> 100 at connector
    # DC01 (efficiency 0.95): capacities 38 / 37 / 36 kWh x 0.95 / 0.8 = 45.125 / 43.9375 / 42.75 kWh, SoH over
    # 46.251 kWh = 0.975654 / 0.949980 / 0.924305: a line falling 1.1875 / 46.251 = 2.5675 %/yr.
    # Refused: 10 pp of SoC (below 20 pp). A session without SoC is imported and ignored.
    result = _import(
        url,
        tmp_path,
        f"{PLATE},SZ-BA,DC01,2025-11-01 06:00,2025-11-01 08:00,38,20,20,100\n"
        f"{PLATE},SZ-BA,DC01,2026-11-01 12:00,2026-11-01 14:00,37,20,20,100\n"
        f"{PLATE},SZ-BA,DC01,2027-11-01 18:00,2027-11-01 20:00,36,20,20,100\n"
        f"{PLATE},SZ-BA,DC01,2027-12-01 18:00,2027-12-01 19:00,5,3,50,60\n"
        f"{PLATE},SZ-BA,DC01,2027-12-02 18:00,2027-12-02 19:00,30,18,,\n",
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    with session_scope(demo_copy) as session:
        report = from_db.lease_report(session, scope_for(session), LEASE, tornado=True)
    b, basis = report["battery"], report["sources"]["lease.battery"]
    assert (
        basis.startswith("measured trend")
        and "3 charging sessions" in basis
        and "1 with dSoC below 20 pp" in basis
    )
    soh_start, fade = 45.125 / 46.251, 1.1875 / 46.251
    assert b["soh_at_start"] == pytest.approx(soh_start, abs=1e-6)
    assert b["fade_over_term"] == pytest.approx(5 * fade, abs=1e-6)
    soh_end = soh_start - 5 * fade  # 0.847278
    share = 51.39 * 500 / 115_000
    assert b["residual_value_at_end"] == pytest.approx(
        23_000 * (1 - share + share * (soh_end - 0.8) / 0.2), abs=0.01
    )
    fields = {a["field"] for a in report["assumptions"]}
    assert "lease.battery.calendar_fade_per_year" not in fields and "lease.battery.pack_kwh" not in fields
    # The portfolio names it per lease, and the CLI prints it.
    with session_scope(demo_copy) as session:
        lines = {
            line["lease"]: line
            for line in from_db.portfolio_report(session, scope_for(session))["lease_lines"]
        }
    assert lines[LEASE]["battery"]["basis"].startswith("measured trend")
    assert lines["L-BA-003"]["battery"]["basis"].startswith("age and throughput curve")
    printed = runner.invoke(app, ["roi", "--lease", LEASE, "--db", url, "--no-tornado"])
    assert printed.exit_code == 0 and "SoH basis: measured trend" in printed.output
    portfolio = runner.invoke(app, ["roi", "--portfolio", "--db", url])
    assert portfolio.exit_code == 0 and "measured trend" in portfolio.output
    lessee = runner.invoke(app, ["roi", "--lease", LEASE, "--db", url, "--lessee", "PCX", "--json"])
    assert lessee.exit_code == 0 and "battery" not in json.loads(lessee.output)


@pytest.mark.parametrize(
    ("soc", "message"),
    [("80,20", "state of charge falls"), ("20,120", "must be <= 100"), ("-5,20", "must not be negative")],
)
def test_import_refuses_impossible_state_of_charge(
    demo_copy: Engine, tmp_path: Path, soc: str, message: str
) -> None:
    result = _import(
        str(demo_copy.url), tmp_path, f"{PLATE},SZ-BA,DC01,2026-12-01 22:00,2026-12-02 02:00,40,20,{soc}\n"
    )
    assert result.exit_code == 1 and message in result.output  # type: ignore[attr-defined]
