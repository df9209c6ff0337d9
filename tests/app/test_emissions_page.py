"""Emissions page (AppTest) and its services: per lessee and month, factors with sources, the package download."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from fleet.db import session_scope
from fleet.emissions.attribution import ClaimsLedger
from fleet.emissions.calc import parse_period, total
from fleet.emissions.profiles import TCSAE_235
from fleet.emissions.service import report_from_db
from fleet.scope import scope_for
from fleet.services import emissions as svc
from fleet.services import unit_of_work
from tests.app.conftest import AppRunner, url_of

pytestmark = pytest.mark.slow
YEAR = 2026  # the demo's metered data run from 2026-10-01


def _ex_post(engine: Engine, lessee: str) -> float:
    with session_scope(engine) as s:
        report = report_from_db(
            s, scope_for(s, lessee_code=lessee), lessee, parse_period(str(YEAR)), TCSAE_235
        )
    return total(report.report.ex_post).reduction_t


def _open(run_app: AppRunner, engine: Engine, **kw):  # type: ignore[no-untyped-def]
    at = run_app(url_of(engine), "emissions", **kw)
    at.selectbox(key="em_year").set_value(YEAR).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_per_lessee_and_month_matches_the_emissions_service(run_app: AppRunner, demo_engine: Engine) -> None:
    at = _open(run_app, demo_engine)
    table = at.dataframe[0].value
    assert set(table["lessee"]) == {"PCX", "FRESH", "EMALL"}
    for lessee in ("PCX", "FRESH", "EMALL"):
        rows = table[table["lessee"] == lessee]
        assert rows["ex-post reduction [t]"].sum() == pytest.approx(_ex_post(demo_engine, lessee))
    assert {"2026-10", "2026-11"} <= set(table.loc[table["ex-post reduction [t]"].notna(), "month"])
    metric = {m.label: m.value for m in at.metric}[f"Ex-post reduction {YEAR} [t CO2]"]
    assert metric == f"{sum(_ex_post(demo_engine, c) for c in ('PCX', 'FRESH', 'EMALL')):,.2f}"
    factors = at.dataframe[1].value
    assert {"key", "value", "unit", "source", "confidence"} <= set(factors.columns)
    assert factors["source"].str.len().min() > 0
    assert any("T/CSAE 235-2021" in md.value for md in at.markdown)
    # issue 19 item 3: the run rate with its monitored days, the ex-ante basis and the gap split, per lessee
    parties = at.dataframe[2].value.set_index("lessee")  # months, factors, then this table
    assert set(parties.index) == {"PCX", "FRESH", "EMALL"}
    for column in (
        "run rate [t/year]",
        "monitored days",
        "ex-ante basis",
        "gap days before monitoring",
        "missing monitored days",
        "future days",
    ):
        assert column in parties.columns, column
    assert parties.loc["PCX", "ex-post reduction [t]"] == pytest.approx(_ex_post(demo_engine, "PCX"))
    assert parties.loc["PCX", "ex-ante basis"].startswith("ex-ante from ")
    assert parties.loc["PCX", "monitored days"] > 0
    assert any("Run rate [t/year]: annualised run rate, per lease" in c.value for c in at.caption)
    at.multiselect(key="em_lessees").set_value(["FRESH"]).run()
    assert set(at.dataframe[0].value["lessee"]) == {"FRESH"}


def test_withheld_reduction_shows_withheld_with_its_data_gap(run_app: AppRunner, demo_engine: Engine) -> None:
    at = _open(run_app, demo_engine)
    at.selectbox(key="em_profile").set_value("glec-wtw").run()
    assert not at.exception, [e.value for e in at.exception]
    assert {m.label: m.value for m in at.metric}[f"Ex-post reduction {YEAR} [t CO2]"] == "withheld"
    assert at.warning[0].value.startswith(
        "Reduction withheld under glec-wtw. Data gap: WTW reduction withheld"
    )
    assert at.dataframe[0].value["ex-post reduction [t]"].isna().all()


def test_a_lessee_sees_only_its_own_figures(run_app: AppRunner, demo_engine: Engine) -> None:
    at = _open(run_app, demo_engine, lessee="FRESH")
    assert set(at.dataframe[0].value["lessee"]) == {"FRESH"}
    assert [s.value for s in at.selectbox if s.key == "em_party"] == ["FRESH"]


def test_package_download(
    run_app: AppRunner, demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = tmp_path / "claims.json"
    monkeypatch.setenv(svc.LEDGER_ENV, str(ledger))
    at = _open(run_app, demo_engine)
    at.selectbox(key="em_party").set_value("PCX")
    at.button(key="em_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.success[0].value.startswith(f"submission:PCX:{YEAR}:tcsae-235: ex-post")
    assert [b.label for b in at.get("download_button")] == ["Download the package (zip)"]
    assert not ledger.exists()  # a draft: the app never writes the claims ledger
    with unit_of_work(url_of(demo_engine)) as s:
        package = svc.submission_zip(s, None, "PCX", YEAR, ledger_path=ledger)
    with zipfile.ZipFile(io.BytesIO(package.data)) as zf:
        names = set(zf.namelist())
        stem = f"PCX-{YEAR}-tcsae-235"
        assert {f"{stem}.json", f"{stem}.xlsx", f"{stem}.pdf", f"{stem}.manifest.json"} <= names
        manifest = json.loads(zf.read(f"{stem}.manifest.json"))
        assert len(manifest["files"]) >= 4
        for entry in manifest["files"]:
            assert hashlib.sha256(zf.read(entry["name"])).hexdigest() == entry["sha256"]
        document = json.loads(zf.read(f"{stem}.json"))
    assert document["results"]["ex_post"]["reduction_tco2e"] == pytest.approx(
        _ex_post(demo_engine, "PCX"), abs=1e-4
    )


def test_package_refuses_days_claimed_by_another_report(
    run_app: AppRunner, demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger_path = tmp_path / "claims.json"
    with session_scope(demo_engine) as s:
        report = report_from_db(
            s, scope_for(s, lessee_code="PCX"), "PCX", parse_period(str(YEAR)), TCSAE_235
        ).report
    book = ClaimsLedger()
    book.claim("someone-else:2026", "SZEL", [(r.vehicle_id, r.day) for r in report.ex_post[:3]])
    book.save(ledger_path)
    monkeypatch.setenv(svc.LEDGER_ENV, str(ledger_path))
    at = _open(run_app, demo_engine)
    at.selectbox(key="em_party").set_value("PCX")
    at.button(key="em_build").click().run()
    assert not at.exception
    assert "Package refused" in at.error[0].value and "double counting" in at.error[0].value
    assert not at.get("download_button")


def test_overview_figure_is_the_month_to_date_reduction(demo_engine: Engine) -> None:
    today = dt.date(2026, 11, 25)
    with unit_of_work(url_of(demo_engine)) as s:
        tonnes, label = svc.emissions_avoided(s, None, today)
    expected = sum(_month(demo_engine, c, today) for c in ("PCX", "FRESH", "EMALL"))
    assert tonnes == pytest.approx(expected) and label.startswith("2026-11-01 to ")


def _month(engine: Engine, lessee: str, today: dt.date) -> float:
    with session_scope(engine) as s:
        report = report_from_db(
            s, scope_for(s, lessee_code=lessee), lessee, parse_period(f"{today:%Y-%m}"), TCSAE_235, today
        ).report
    return total([r for r in report.ex_post if r.day <= today]).reduction_t
