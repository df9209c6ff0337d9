"""The app's service layer (`fleet.services`): database checks, scope rules, filters, validated writes within the
scope."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from fleet.models import Lease, Vehicle, VehicleDay, VehicleStatus
from fleet.scope import scope_for
from fleet.services.fleet_leases import (
    LESSOR_ONLY,
    FormRejected,
    add_lease,
    add_vehicle,
    leases_frame,
    models_frame,
    update_lease,
    update_vehicle,
    vehicles_frame,
)
from fleet.services.frames import filter_frame
from fleet.services.imports import ImportFailed, errors_frame, import_kinds, import_upload
from fleet.services.overview import overview, totals_by_lessee
from fleet.services.scope import ScopeDecision, decide_scope, describe_scope, scope_options
from fleet.services.session import database_status, unit_of_work
from tests.app.conftest import url_of

TODAY = dt.date(2026, 11, 25)


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_database_status_names_the_fix(
    missing_db_url: str, empty_schema_url: str, tmp_path: Path, demo_engine: Engine
) -> None:
    missing = database_status(missing_db_url)
    assert (
        not missing.ready and "no database file" in (missing.problem or "") and "evfleet demo" in missing.fix
    )
    assert not Path(missing_db_url.removeprefix("sqlite:///")).exists()  # checking never creates the file
    bare = f"sqlite:///{tmp_path / 'bare.db'}"
    Path(tmp_path / "bare.db").touch()
    no_schema = database_status(bare)
    assert not no_schema.ready and "no evfleet schema" in (no_schema.problem or "")
    empty = database_status(empty_schema_url)
    assert not empty.ready and "empty" in (empty.problem or "") and "evfleet demo" in empty.fix
    assert database_status(url_of(demo_engine)).ready


def test_decide_scope_rules() -> None:
    assert decide_scope({}) == ScopeDecision(selectable=True, source="default")
    pinned = decide_scope({"EVFLEET_APP_LESSEE": "PCX"})
    assert pinned.pinned_lessee == "PCX" and not pinned.selectable
    oidc = {"EVFLEET_APP_AUTH": "oidc", "EVFLEET_APP_LESSOR_EMAILS": "boss@lessor.cn"}
    assert decide_scope(oidc, None).refused == "sign in to continue"
    assert decide_scope(oidc, {"email": "a@pcx.cn", "evfleet_lessee": "PCX"}).pinned_lessee == "PCX"
    assert (
        decide_scope({**oidc, "EVFLEET_APP_LESSEE_CLAIM": "org"}, {"org": "FRESH"}).pinned_lessee == "FRESH"
    )
    lessor = decide_scope(oidc, {"email": "Boss@Lessor.cn"})
    assert lessor.selectable and lessor.pinned_lessee is None and lessor.refused is None
    stranger = decide_scope(oidc, {"email": "someone@else.cn"})
    assert stranger.refused and "no lessee assigned" in stranger.refused and not stranger.selectable


def test_scope_options_and_description(demo_engine: Engine) -> None:
    url = url_of(demo_engine)
    with unit_of_work(url) as s:
        options = scope_options(s)
    assert [o.lessee_code for o in options] == [None, "EMALL", "FRESH", "PCX"]
    with unit_of_work(url) as s:
        assert describe_scope(s, "PCX").startswith("Lessee PCX")
        assert "all 3 lessees" in describe_scope(s, None)


def test_totals_by_lessee_add_up(demo_engine: Engine) -> None:
    with unit_of_work(url_of(demo_engine)) as s:
        rows = overview(s, None, TODAY)
    totals = totals_by_lessee(rows)
    assert sorted(t.lessee for t in totals) == ["EMALL", "FRESH", "PCX"]
    assert sum(t.electric_trucks for t in totals) == sum(r.electric_trucks for r in rows) > 0
    assert sum(t.depots for t in totals) == len(rows)


def test_frames_are_scoped(demo_engine: Engine) -> None:
    url = url_of(demo_engine)
    with unit_of_work(url) as s:
        everyone = vehicles_frame(s, None)
        pcx = vehicles_frame(s, "PCX")
    assert set(pcx["lessee"]) == {"PCX"} and 0 < len(pcx) < len(everyone)
    with unit_of_work(url) as s:
        leases = leases_frame(s, "FRESH", TODAY)
    assert set(leases["lessee"]) == {"FRESH"}
    with Session(demo_engine) as s:
        scope = scope_for(s, lessee_code="FRESH")
        assert len(leases) == len(s.exec(select(Lease).where(Lease.lessee_id == scope.lessee_id)).all())
    with unit_of_work(url) as s:
        assert set(models_frame(s)["kind"]) == {"bev", "diesel"}


def test_filter_frame() -> None:
    frame = pd.DataFrame(
        {"depot": ["A", "B", "A"], "plate": ["粤B1", "粤B2", "沪C3"], "vin": ["x", "y", "z"]}
    )
    assert len(filter_frame(frame, {"depot": ["A"]})) == 2
    assert len(filter_frame(frame, {"depot": []})) == 3
    assert filter_frame(frame, {"depot": ["A"]}, "粤", ("plate", "vin"))["plate"].tolist() == ["粤B1"]
    assert filter_frame(frame, {}, "Y", ("plate", "vin"))["plate"].tolist() == ["粤B2"]


def _vehicle(**changes: str) -> dict[str, str]:
    values = {
        "plate": "粤BD99001",
        "vin": "L6TRMEB56TS099001",
        "model_code": "BEV-V6E",
        "depot_code": "SZ-NS",
        "lessee_code": "FRESH",
        "status": "available",
        "commissioned_on": "",
    }
    values.update(changes)
    return values


def test_add_vehicle_validates_like_the_importer(demo_copy: Engine) -> None:
    url = url_of(demo_copy)
    with pytest.raises(FormRejected) as bad, unit_of_work(url) as s:
        add_vehicle(s, None, _vehicle(vin="SHORT", model_code="NOPE"))
    fields = {e.field: e.reason for e in bad.value.errors}
    assert "17" in fields["vin"]
    with pytest.raises(FormRejected) as unknown, unit_of_work(url) as s:
        add_vehicle(s, None, _vehicle(model_code="NOPE"))
    assert [(e.field, e.reason) for e in unknown.value.errors] == [("model_code", "unknown vehicle model")]
    with pytest.raises(FormRejected) as dup, unit_of_work(url) as s:
        add_vehicle(s, None, _vehicle(plate="粤BD10001"))
    assert dup.value.errors[0].field == "plate" and "already" in dup.value.errors[0].reason
    # a lessee cannot put a truck in another lessee's depot
    with pytest.raises(FormRejected) as foreign, unit_of_work(url) as s:
        add_vehicle(s, "FRESH", _vehicle(depot_code="SZ-BA", lessee_code=""))
    assert foreign.value.errors[0].field == "depot_code"
    with unit_of_work(url) as s:
        add_vehicle(s, "FRESH", _vehicle(lessee_code=""))
    with Session(demo_copy) as s:
        added = s.exec(select(Vehicle).where(Vehicle.plate == "粤BD99001")).one()
        assert added.depot_id is not None and added.lessee_id == scope_for(s, lessee_code="FRESH").lessee_id


def test_update_vehicle_and_lease(demo_copy: Engine) -> None:
    url = url_of(demo_copy)
    with unit_of_work(url) as s:
        update_vehicle(s, "PCX", "粤BD10001", {"status": "maintenance", "commissioned_on": "2025-09-30"})
    # another lessee's truck is "not found", never changed
    with pytest.raises(FormRejected) as other, unit_of_work(url) as s:
        update_vehicle(s, "FRESH", "粤BD10001", {"status": "retired"})
    assert other.value.errors[0].reason == "not found in this scope"
    with pytest.raises(FormRejected) as bad, unit_of_work(url) as s:
        update_lease(s, None, "L-BA-001", {"end_date": "2020-01-01", "monthly_rent_cny": "12.345"})
    assert {e.field for e in bad.value.errors} == {"end_date", "monthly_rent_cny"}
    # a lessee does not set its own rent
    with pytest.raises(FormRejected) as lessee_edit, unit_of_work(url) as s:
        update_lease(s, "PCX", "L-BA-001", {"monthly_rent_cny": "1.00"})
    assert lessee_edit.value.errors[0].reason == LESSOR_ONLY
    with pytest.raises(FormRejected), unit_of_work(url) as s:
        add_lease(s, "PCX", {"code": "L-NEW", "plate": "粤BD10001"})
    with unit_of_work(url) as s:
        update_lease(
            s,
            None,
            "L-BA-001",
            {"end_date": dt.date(2029, 9, 30), "monthly_rent_cny": "3100.50", "emissions_claimant": "lessor"},
        )
    with Session(demo_copy) as s:
        v = s.exec(select(Vehicle).where(Vehicle.plate == "粤BD10001")).one()
        assert v.status == VehicleStatus.MAINTENANCE and v.commissioned_on == dt.date(2025, 9, 30)
        lease = s.exec(select(Lease).where(Lease.code == "L-BA-001")).one()
        assert (lease.end_date, lease.monthly_rent_fen, lease.emissions_claimant.value) == (
            dt.date(2029, 9, 30),
            310050,
            "lessor",
        )


def test_import_upload_reports_rows_and_writes_nothing(demo_copy: Engine) -> None:
    url = url_of(demo_copy)
    header = "plate,day,km,kwh_charger\n"
    before = _count(demo_copy, VehicleDay)
    with pytest.raises(ImportFailed) as failed, unit_of_work(url) as s:
        import_upload(
            s,
            "PCX",
            "trips",
            "trips.csv",
            (header + "粤BD10001,2026-11-25,80,20\n粤BD10001,2026-11-26,far,20\n").encode(),
        )
    frame = errors_frame(failed.value)
    assert frame[["row", "column", "reason"]].values.tolist() == [[3, "km", "not a number"]]
    assert _count(demo_copy, VehicleDay) == before
    with unit_of_work(url) as s:
        result = import_upload(
            s, "PCX", "trips", "trips.csv", (header + "粤BD10001,2026-11-25,80,20\n").encode()
        )
    assert result.inserted == 1 and _count(demo_copy, VehicleDay) == before + 1
    assert "leases" not in import_kinds("PCX") and "leases" in import_kinds(None)
    with pytest.raises(ImportFailed) as lease_import, unit_of_work(url) as s:
        import_upload(s, "PCX", "leases", "leases.csv", b"code,plate\n")
    assert lease_import.value.errors[0].reason == LESSOR_ONLY
