"""Every page through `streamlit.testing.v1.AppTest`: renders on the demo and on empty or missing databases,
shows its scope, and its main interaction works (filter, import with a bad row, good import, form edit)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from fleet.models import ChargingPlan, Lessor, Order, PlanStatus, Vehicle
from fleet.reports import fleet_summary
from fleet.scope import scope_for
from fleet.services import emissions as svc
from fleet.services import unit_of_work
from tests.app.conftest import FAILING_DEPOT, PAGE_FILES, PLANNED_DEPOT, SERVICE_DATE, AppRunner, url_of

pytestmark = pytest.mark.slow  # each AppTest run imports and renders the app (a few seconds in all)


def _today() -> dt.date:
    return dt.date.today()


def _no_exception(at) -> None:  # type: ignore[no-untyped-def]
    assert not at.exception, [e.value for e in at.exception]


def _table_with(at, column: str):  # type: ignore[no-untyped-def]
    """The (last) dataframe on the page that has `column`: the error report among the data tables."""
    return [d.value for d in at.dataframe if column in d.value.columns][-1]


def _captions(at) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(c.value for c in at.caption)


def _every_page(at):  # type: ignore[no-untyped-def]
    """Visit every page in one app session (as a user clicking through the navigation)."""
    for page, path in PAGE_FILES.items():
        if page != "overview":
            at.switch_page(path).run()
        yield page


@pytest.mark.parametrize("db", ["demo_engine", "planned_engine"])
def test_every_page_renders_on_demo_with_scope(
    run_app: AppRunner, db: str, request: pytest.FixtureRequest
) -> None:
    """The plain demo, and the demo after a nightly run (plans stored, one failed depot)."""
    url = url_of(request.getfixturevalue(db))
    for lessee, label in ((None, "Scope: **Lessor SZEL"), ("FRESH", "Scope: **Lessee FRESH")):
        at = run_app(url, lessee=lessee)
        for page in _every_page(at):
            _no_exception(at)
            assert label in _captions(at), page


@pytest.mark.parametrize("db", ["empty_schema_url", "missing_db_url"])
def test_every_page_explains_an_empty_or_missing_database(
    run_app: AppRunner, db: str, request: pytest.FixtureRequest
) -> None:
    at = run_app(request.getfixturevalue(db))
    for page in _every_page(at):
        _no_exception(at)
        assert at.warning and ("empty" in at.warning[0].value or "no database file" in at.warning[0].value), (
            page
        )
        assert any("evfleet demo" in c.value for c in at.code), page


def test_every_page_renders_with_a_lessor_and_nothing_else(run_app: AppRunner, empty_schema_url: str) -> None:
    from fleet.db import get_engine, session_scope

    with session_scope(get_engine(empty_schema_url)) as s:
        s.add(Lessor(code="L0", name="Empty lessor"))
    at = run_app(empty_schema_url)
    for page in _every_page(at):
        _no_exception(at)
        assert "Scope: **Lessor L0" in _captions(at), page


def test_overview_numbers_match_the_database(run_app: AppRunner, demo_engine: Engine) -> None:
    at = run_app(url_of(demo_engine))
    _no_exception(at)
    with Session(demo_engine) as s:
        expected = fleet_summary(s, scope_for(s), _today())
    per_depot = at.table[-1].value
    assert {d: int(per_depot.loc[d, "EV trucks"]) for d in per_depot.index} == {
        r.depot: r.electric_trucks for r in expected
    }
    metrics = {m.label: m for m in at.metric}
    assert metrics["Electric trucks"].value == f"{sum(r.electric_trucks for r in expected):,}"
    assert metrics["km, 30 days"].value == f"{sum(r.km_30d for r in expected):,.0f}"
    # No plans and no nightly runs in the plain demo: said so, never a made-up number.
    assert (
        metrics["Charging cost, planned nights [CNY]"].value,
        metrics["Charging cost, planned nights [CNY]"].delta,
    ) == ("—", "no charging plans stored")
    assert (metrics["Latest nightly run"].value, metrics["Latest nightly run"].delta) == ("—", "no runs yet")
    with unit_of_work(url_of(demo_engine)) as s:
        avoided = svc.emissions_avoided(s, None, _today())
    shown = metrics["Emissions avoided, month to date [t CO2]"]
    assert shown.value == (f"{avoided[0]:,.2f}" if avoided else "—")


def test_overview_shows_plans_emissions_and_the_failed_nightly_run(
    run_app: AppRunner, planned_engine: Engine
) -> None:
    at = run_app(url_of(planned_engine))
    at.date_input(key="reference_date").set_value(SERVICE_DATE - dt.timedelta(days=1)).run()
    _no_exception(at)
    with Session(planned_engine) as s:
        plans = s.exec(select(ChargingPlan).where(ChargingPlan.status == PlanStatus.CURRENT)).all()
    assert len(plans) == 1
    metrics = {m.label: m for m in at.metric}
    assert metrics["Charging cost, planned nights [CNY]"].value == f"{plans[0].total_cost_fen / 100:,.2f}"
    assert metrics["Latest nightly run"].value == "1 failed"
    assert f"failed for {FAILING_DEPOT}" in at.error[0].value
    per_depot = at.table[-1].value
    assert per_depot.loc[PLANNED_DEPOT, "Charging plans [CNY]"] == pytest.approx(
        plans[0].total_cost_fen / 100
    )
    with unit_of_work(url_of(planned_engine)) as s:
        tonnes, _ = svc.emissions_avoided(s, None, SERVICE_DATE - dt.timedelta(days=1))
    assert metrics["Emissions avoided, month to date [t CO2]"].value == f"{tonnes:,.2f}"


def test_overview_of_a_pinned_lessee_shows_only_its_depots(run_app: AppRunner, demo_engine: Engine) -> None:
    at = run_app(url_of(demo_engine), pinned="PCX")
    _no_exception(at)
    assert "scope_choice" not in [w.key for w in at.selectbox]
    with Session(demo_engine) as s:
        expected = {r.depot for r in fleet_summary(s, scope_for(s, lessee_code="PCX"), _today())}
    assert set(at.table[-1].value.index) == expected and len(at.table) == 1  # no per-lessee table
    assert "Scope: **Lessee PCX" in _captions(at)
    bad = run_app(url_of(demo_engine), pinned="NOBODY")
    _no_exception(bad)
    assert "unknown lessee code 'NOBODY'" in bad.warning[0].value


def test_fleet_filter_by_depot(run_app: AppRunner, demo_engine: Engine) -> None:
    at = run_app(url_of(demo_engine), "fleet")
    at.multiselect(key="veh_f_depot").set_value(["SZ-NS"]).run()
    _no_exception(at)
    with Session(demo_engine) as s:
        total = s.exec(select(func.count()).select_from(Vehicle)).one()
    shown = at.dataframe[0].value
    assert set(shown["depot"]) == {"SZ-NS"} and 0 < len(shown) < total
    assert f"{len(shown)} of {total} vehicles" in _captions(at)
    at.text_input(key="veh_f_text").input(shown["plate"].iloc[0]).run()
    assert at.dataframe[0].value["plate"].tolist() == [shown["plate"].iloc[0]]


ORDERS_HEADER = (
    "external_ref,depot_code,service_date,latitude,longitude,demand_kg,window_start,window_end,"
    "service_minutes\n"
)
GOOD_ORDER = (
    "APP-1,SZ-NS,2026-12-10,22.54,113.95,120,2026-12-10T07:00:00+08:00,2026-12-10T10:00:00+08:00,15\n"
)
BAD_ORDER = "APP-2,SZ-NS,2026-12-10,22.54,113.95,-5,2026-12-10T07:00:00+08:00,2026-12-10T10:00:00+08:00,15\n"


def _orders(engine: Engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Order)).one()


def _import(at, name: str, content: str, kind: str = "orders", lessee: str = "FRESH"):  # type: ignore[no-untyped-def]
    at.selectbox(key="imp_kind").set_value(kind)
    if lessee:
        at.selectbox(key="imp_lessee").set_value(lessee)
    at.file_uploader(key="imp_file").set_value((name, content.encode("utf-8"), "text/csv"))
    at.run()
    at.button(key="imp_go").click().run()
    return at


def test_import_with_a_bad_row_shows_the_error_table(run_app: AppRunner, demo_copy: Engine) -> None:
    before = _orders(demo_copy)
    at = _import(run_app(url_of(demo_copy), "fleet"), "orders.csv", ORDERS_HEADER + GOOD_ORDER + BAD_ORDER)
    _no_exception(at)
    assert "orders.csv rejected: 1 problem(s); nothing was saved." in at.error[0].value
    report = _table_with(at, "reason")
    assert report[["row", "column", "value", "reason"]].values.tolist() == [
        [3, "demand_kg", "-5", "must not be negative"]
    ]
    assert _orders(demo_copy) == before


def test_import_of_a_good_file(run_app: AppRunner, demo_copy: Engine) -> None:
    before = _orders(demo_copy)
    at = _import(
        run_app(url_of(demo_copy), "fleet", lessee="FRESH"),
        "orders.csv",
        ORDERS_HEADER + GOOD_ORDER,
        lessee="",
    )
    _no_exception(at)
    assert not at.error
    assert "1 orders imported" in at.success[0].value
    assert _orders(demo_copy) == before + 1


def test_add_vehicle_form_shows_field_errors_then_adds(run_app: AppRunner, demo_copy: Engine) -> None:
    at = run_app(url_of(demo_copy), "fleet")
    at.text_input(key="addv_plate").input("粤BD99002")
    at.text_input(key="addv_vin").input("TOO-SHORT")
    at.button(key="FormSubmitter:add_vehicle-Add vehicle").click().run()
    _no_exception(at)
    assert "Vehicle not added" in at.error[0].value
    assert _table_with(at, "field")["field"].tolist() == ["vin"]
    at.text_input(key="addv_vin").input("L6TRMEB56TS099002")
    at.selectbox(key="addv_depot").set_value("SZ-NS")
    at.selectbox(key="addv_lessee").set_value("FRESH")
    at.button(key="FormSubmitter:add_vehicle-Add vehicle").click().run()
    _no_exception(at)
    assert "Vehicle 粤BD99002 added." in at.success[0].value
    assert "粤BD99002" in at.dataframe[0].value["plate"].tolist()  # the table was re-read after the write


def test_edit_lease_form(run_app: AppRunner, demo_copy: Engine) -> None:
    lessee_view = run_app(url_of(demo_copy), "fleet", lessee="PCX")
    assert "editl_code" not in [w.key for w in lessee_view.selectbox]  # leases are edited by the lessor only
    at = run_app(url_of(demo_copy), "fleet")
    code = at.selectbox(key="editl_code").value
    at.text_input(key=f"editl_rent_{code}").input("12.345")
    at.button(key="FormSubmitter:edit_lease-Save lease").click().run()
    assert f"Lease {code} not saved" in at.error[0].value
    assert _table_with(at, "field")["reason"].tolist() == ["more than two decimals (fen)"]
    at.text_input(key=f"editl_rent_{code}").input("2999.90")
    at.button(key="FormSubmitter:edit_lease-Save lease").click().run()
    _no_exception(at)
    assert f"Lease {code} saved." in at.success[0].value
    leases = at.dataframe[1].value
    assert leases.loc[leases["code"] == code, "monthly_rent_cny"].item() == pytest.approx(2999.90)


def test_oidc_mode_asks_to_sign_in(
    run_app: AppRunner, demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVFLEET_APP_AUTH", "oidc")
    at = run_app(url_of(demo_engine))
    _no_exception(at)
    assert at.warning[0].value == "Access: sign in to continue."
    assert [b.label for b in at.sidebar.button] == ["Sign in"]
    assert not at.table and not at.metric  # nothing of the business shown before sign-in


def test_import_of_a_good_xlsx_file(run_app: AppRunner, demo_copy: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(ORDERS_HEADER.strip().split(","))
    ws.append(GOOD_ORDER.strip().split(",")[:5] + [120, *GOOD_ORDER.strip().split(",")[6:8], 15])
    path = tmp_path / "orders.xlsx"
    wb.save(path)
    before = _orders(demo_copy)
    at = run_app(url_of(demo_copy), "fleet")
    at.selectbox(key="imp_kind").set_value("orders")
    at.selectbox(key="imp_lessee").set_value("FRESH")
    at.file_uploader(key="imp_file").set_value(
        (
            "orders.xlsx",
            path.read_bytes(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    )
    at.run()
    at.button(key="imp_go").click().run()
    _no_exception(at)
    assert not at.error and "1 orders imported" in at.success[0].value
    assert _orders(demo_copy) == before + 1


@pytest.mark.postgres
def test_pages_on_postgresql(run_app: AppRunner, pg_url: str) -> None:
    """Every page on PostgreSQL in one app session (one demo load), as a lessee."""
    from fleet.db import make_engine
    from fleet.demo.load import load_demo
    from fleet.migrate import upgrade

    upgrade(pg_url)
    engine = make_engine(pg_url)
    load_demo(engine)
    at = run_app(pg_url, "overview", lessee="EMALL")
    for page in PAGE_FILES:
        if page != "overview":
            at.switch_page(PAGE_FILES[page]).run()
        _no_exception(at)
        assert "Scope: **Lessee EMALL" in _captions(at), page
        if page == "overview":
            with Session(engine) as s:
                expected = fleet_summary(s, scope_for(s, lessee_code="EMALL"), _today())
            assert {d: int(v) for d, v in at.table[-1].value["EV trucks"].items()} == {
                r.depot: r.electric_trucks for r in expected
            }
    engine.dispose()
