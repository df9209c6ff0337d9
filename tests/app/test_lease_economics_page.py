"""Lease economics page (AppTest): a lease's figures from fleet.finance, adjust, save, compare, bad input."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.db import session_scope
from fleet.finance.from_db import lease_report
from fleet.models import FinanceScenario, Lease, Lessee
from fleet.scope import scope_for
from fleet.services import lease_economics as svc
from fleet.services import unit_of_work
from tests.app.conftest import AppRunner, url_of

pytestmark = pytest.mark.slow
FORM = "FormSubmitter:fin_form_lease:{code}-Evaluate (not saved)"
SAVE = "FormSubmitter:fin_save_form-Save scenario"


def _first_lease(engine: Engine, lessee: str | None = None) -> str:
    with unit_of_work(url_of(engine)) as s:
        return svc.lease_codes(s, lessee)[0]


def _metrics(at) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {m.label: m.value for m in at.metric}


def test_lease_figures_match_fleet_finance(run_app: AppRunner, demo_engine: Engine) -> None:
    at = run_app(url_of(demo_engine), "economics")
    assert not at.exception, [e.value for e in at.exception]
    code = _first_lease(demo_engine)
    with session_scope(demo_engine) as s:
        report = lease_report(s, scope_for(s), code)
    m = _metrics(at)
    assert m["Project NPV [CNY]"] == f"{float(report['lessor']['project']['npv']):,.2f}"
    assert m["Saving [CNY/month]"] == f"{float(report['lessee']['saving_per_month']):,.2f}"
    assert m["Diesel [CNY/km]"] == f"{report['lessee']['diesel']['cost_per_km']:.4f}"
    tco = at.table[0].value
    assert tco.loc["total (PV)"].tolist() == pytest.approx(
        [float(report["lessee"]["electric"]["pv_cost"]), float(report["lessee"]["diesel"]["pv_cost"])]
    )
    (chart,) = at.get("vega_lite_chart")  # the tornado
    fields = [enc["field"] for enc in json.loads(chart.proto.spec)["encoding"].values() if "field" in enc]
    assert "npv_change" in fields and not any("[" in f for f in fields)  # "[" would be nested access in Vega


def test_lessee_sees_only_its_leases(run_app: AppRunner, demo_engine: Engine) -> None:
    at = run_app(url_of(demo_engine), "economics", lessee="FRESH")
    assert not at.exception
    with Session(demo_engine) as s:
        fresh = s.exec(select(Lessee).where(Lessee.code == "FRESH")).one()
        codes = sorted(le.code for le in s.exec(select(Lease).where(Lease.lessee_id == fresh.id)).all())
    assert at.selectbox(key="fin_lease").options == codes


def test_adjust_save_and_compare(run_app: AppRunner, demo_copy: Engine) -> None:
    url = url_of(demo_copy)
    code = _first_lease(demo_copy)
    at = run_app(url, "economics")
    base_npv = _metrics(at)["Project NPV [CNY]"]
    rent_key = f"fin_in_lease:{code}_lease.monthly_rent"
    rent = at.number_input(key=rent_key).value
    at.number_input(key=rent_key).set_value(rent + 500.0)
    at.button(key=FORM.format(code=code)).click().run()
    assert not at.exception, [e.value for e in at.exception]
    with unit_of_work(url) as s:
        payload = svc.edited_scenario(
            svc.lease_economics(s, None, code)["inputs"], {"lease.monthly_rent": rent + 500.0}
        )
    expected = svc.key_figures(svc.scenario_economics(payload))["project NPV [CNY]"]
    adjusted = _metrics(at)["Project NPV [CNY]"]
    assert adjusted == f"{expected:,.2f}" and adjusted != base_npv
    at.text_input(key="fin_save_name").input("higher rent")
    at.button(key=SAVE).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Saved scenario 'higher rent'." in at.success[0].value
    with Session(demo_copy) as s:
        row = s.exec(select(FinanceScenario).where(FinanceScenario.name == "higher rent")).one()
        assert row.payload["lease"]["monthly_rent"] == pytest.approx(rent + 500.0)
    at.multiselect(key="fin_compare").set_value(["higher rent"]).run()
    compare = at.table[-1].value
    assert list(compare.columns) == ["shown above", "higher rent"]
    assert compare.loc["project NPV [CNY]", "higher rent"] == pytest.approx(expected)
    at.radio(key="fin_source").set_value("A saved scenario").run()
    assert not at.exception
    assert _metrics(at)["Project NPV [CNY]"] == f"{expected:,.2f}"


def test_bad_input_names_the_field(run_app: AppRunner, demo_engine: Engine) -> None:
    code = _first_lease(demo_engine)
    at = run_app(url_of(demo_engine), "economics")
    at.number_input(key=f"fin_in_lease:{code}_usage.km_per_year").set_value(-5.0)
    at.button(key=FORM.format(code=code)).click().run()
    assert not at.exception
    assert "Adjusted scenario refused" in at.error[0].value and "km_per_year" in at.error[0].value
