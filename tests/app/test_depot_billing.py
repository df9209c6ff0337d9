"""Billing panel of the Charging page: a depot's billing rules and charger limits, read, validated and saved."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.models import Depot
from fleet.scope import ScopeError
from fleet.services import unit_of_work
from fleet.services.depot_billing import billing_settings, update_billing
from fleet.services.fleet_leases import FormRejected
from tests.app.conftest import PLANNED_DEPOT, SERVICE_DATE, AppRunner, url_of

NOV = dt.date(2026, 11, 26)
GOOD = {
    "tariff_structure": "two_part",
    "demand_basis": "maximum_demand",
    "contracted_demand_kw": "200",
    "transformer_kva": "",
    "capacity_rate_cny_per_kva_month": "",
    "centralised_charging_facility": True,
    "charging_metered_separately": True,
    "charging_max_power_changes": "6",
    "charging_min_kw": "7.5",
}


def _depot(engine: Engine, code: str = "SZ-BA") -> Depot:
    with Session(engine) as s:
        return s.exec(select(Depot).where(Depot.code == code)).one()


def test_settings_read_what_the_month_is_billed_on(demo_copy: Engine) -> None:
    with unit_of_work(url_of(demo_copy)) as s:
        settings = billing_settings(s, None, "SZ-BA", NOV)
    assert settings.tariff_structure == "two_part" and settings.demand_basis == "maximum_demand"
    assert settings.charging_max_power_changes == 4 and settings.charging_min_kw == 5.0
    assert "maximum demand" in settings.this_month and settings.demand_rate_cny_per_kw_month > 0


def test_saving_valid_rules_stores_them_and_the_exemption_shows(demo_copy: Engine) -> None:
    url = url_of(demo_copy)
    with unit_of_work(url) as s:
        update_billing(s, None, "SZ-BA", GOOD)
    depot = _depot(demo_copy)
    assert depot.contracted_demand_kw == 200.0 and depot.charging_metered_separately
    assert depot.charging_max_power_changes == 6 and depot.charging_min_kw == 7.5
    assert float(depot.funds_cny_per_kwh) == 0.095  # blank kept the stored default
    with unit_of_work(url) as s:
        update_billing(s, None, "SZ-BA", {**GOOD, "funds_cny_per_kwh": "0.0"})
    assert float(_depot(demo_copy).funds_cny_per_kwh) == 0.0
    assert _depot(demo_copy).charging_shortfall_policy == "max_ready"  # the default, kept
    with unit_of_work(url) as s:
        update_billing(s, None, "SZ-BA", {**GOOD, "charging_shortfall_policy": "min_largest_share"})
    assert _depot(demo_copy).charging_shortfall_policy == "min_largest_share"
    with unit_of_work(url) as s:
        assert "2030" in billing_settings(s, None, "SZ-BA", NOV).this_month  # exempt before 2030


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("tariff_structure", "three_part", "one of"),
        ("contracted_demand_kw", "1,5", "decimal point"),
        ("contracted_demand_kw", "-3", "> 0"),
        ("charging_min_kw", "nan", "> 0"),
        ("charging_max_power_changes", "1", ">= 2"),
        ("charging_max_power_changes", "two", "whole number"),
        ("transformer_kva", "abc", "not a number"),
        ("funds_cny_per_kwh", "-0.1", ">= 0"),
        ("funds_cny_per_kwh", "1.2", "not an adder"),
        ("charging_shortfall_policy", "first_come", "one of"),
    ],
)
def test_bad_values_name_the_field_and_write_nothing(
    demo_copy: Engine, field: str, value: str, reason: str
) -> None:
    before = _depot(demo_copy)
    with pytest.raises(FormRejected) as refused, unit_of_work(url_of(demo_copy)) as s:
        update_billing(s, None, "SZ-BA", {**GOOD, field: value})
    assert any(e.field == field and reason in e.reason for e in refused.value.errors), refused.value.errors
    after = _depot(demo_copy)
    assert after.contracted_demand_kw == before.contracted_demand_kw
    assert after.charging_max_power_changes == before.charging_max_power_changes


def test_capacity_basis_needs_the_transformer(demo_copy: Engine) -> None:
    with pytest.raises(FormRejected) as refused, unit_of_work(url_of(demo_copy)) as s:
        update_billing(s, None, "SZ-BA", {**GOOD, "demand_basis": "capacity", "contracted_demand_kw": ""})
    assert [e.field for e in refused.value.errors] == ["transformer_kva"]


def test_a_lessee_cannot_see_or_edit_another_lessees_depot(demo_copy: Engine) -> None:
    with Session(demo_copy) as s:
        owner = s.exec(select(Depot).where(Depot.code == "SZ-BA")).one().lessee_id
        from fleet.models import Lessee

        other = s.exec(select(Lessee).where(Lessee.id != owner)).first()
    assert other is not None
    with pytest.raises(ScopeError), unit_of_work(url_of(demo_copy)) as s:
        update_billing(s, other.code, "SZ-BA", GOOD)
    assert _depot(demo_copy).contracted_demand_kw is None


@pytest.mark.slow
def test_the_charging_page_shows_the_billing_panel(run_app: AppRunner, planned_engine: Engine) -> None:
    at = run_app(url_of(planned_engine), "charging")
    at.selectbox(key="charging_depot").set_value(PLANNED_DEPOT).run()
    at.date_input(key=f"charging_date_{PLANNED_DEPOT}").set_value(SERVICE_DATE).run()
    assert not at.exception, [e.value for e in at.exception]
    labels = [e.label for e in at.expander]
    assert any(label.startswith("Billing and chargers · maximum demand") for label in labels), labels
    assert at.text_input(key="billing_k").value == "4" and at.text_input(key="billing_min").value == "5"


def test_base_load_is_24_or_96_values_pasted_from_excel(demo_copy: Engine) -> None:
    url = url_of(demo_copy)
    row = "\t".join(["30"] * 8 + ["120.5"] * 10 + ["60"] * 6)  # a row pasted from Excel: tab-separated
    with unit_of_work(url) as s:
        update_billing(s, None, "SZ-BA", {**GOOD, "base_load_kw": row})
    assert _depot(demo_copy).base_load_kw == [30.0] * 8 + [120.5] * 10 + [60.0] * 6
    for text, reason in (
        ("1 2 3", "got 3"),
        (" ".join(["1"] * 23 + ["x"]), "not a number"),
        ("-1 " * 24, ">= 0"),
    ):
        with pytest.raises(FormRejected) as refused, unit_of_work(url) as s:
            update_billing(s, None, "SZ-BA", {**GOOD, "base_load_kw": text})
        assert any(e.field == "base_load_kw" and reason in e.reason for e in refused.value.errors)
