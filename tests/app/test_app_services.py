"""The app's service layer: database checks, scope rules, filters, validated writes within the scope."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from fleet import app_services as svc
from fleet.models import Lease, Vehicle, VehicleDay, VehicleStatus
from fleet.scope import scope_for
from tests.app.conftest import url_of

TODAY = dt.date(2026, 11, 25)


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_database_status_names_the_fix(
    missing_db_url: str, empty_schema_url: str, tmp_path: Path, demo_engine: Engine
) -> None:
    missing = svc.database_status(missing_db_url)
    assert (
        not missing.ready and "no database file" in (missing.problem or "") and "evfleet demo" in missing.fix
    )
    assert not Path(missing_db_url.removeprefix("sqlite:///")).exists()  # checking never creates the file
    bare = f"sqlite:///{tmp_path / 'bare.db'}"
    Path(tmp_path / "bare.db").touch()
    no_schema = svc.database_status(bare)
    assert not no_schema.ready and "no evfleet schema" in (no_schema.problem or "")
    empty = svc.database_status(empty_schema_url)
    assert not empty.ready and "empty" in (empty.problem or "") and "evfleet demo" in empty.fix
    assert svc.database_status(url_of(demo_engine)).ready


def test_decide_scope_rules() -> None:
    assert svc.decide_scope({}) == svc.ScopeDecision(selectable=True, source="default")
    pinned = svc.decide_scope({"EVFLEET_APP_LESSEE": "PCX"})
    assert pinned.pinned_lessee == "PCX" and not pinned.selectable
    oidc = {"EVFLEET_APP_AUTH": "oidc", "EVFLEET_APP_LESSOR_EMAILS": "boss@lessor.cn"}
    assert svc.decide_scope(oidc, None).refused == "sign in to continue"
    assert svc.decide_scope(oidc, {"email": "a@pcx.cn", "evfleet_lessee": "PCX"}).pinned_lessee == "PCX"
    assert (
        svc.decide_scope({**oidc, "EVFLEET_APP_LESSEE_CLAIM": "org"}, {"org": "FRESH"}).pinned_lessee
        == "FRESH"
    )
    lessor = svc.decide_scope(oidc, {"email": "Boss@Lessor.cn"})
    assert lessor.selectable and lessor.pinned_lessee is None and lessor.refused is None
    stranger = svc.decide_scope(oidc, {"email": "someone@else.cn"})
    assert stranger.refused and "no lessee assigned" in stranger.refused and not stranger.selectable


def test_scope_options_and_description(demo_engine: Engine) -> None:
    url = url_of(demo_engine)
    options = svc.scope_options(url)
    assert [o.lessee_code for o in options] == [None, "EMALL", "FRESH", "PCX"]
    assert svc.describe_scope(url, "PCX").startswith("Lessee PCX")
    assert "all 3 lessees" in svc.describe_scope(url, None)


def test_totals_by_lessee_add_up(demo_engine: Engine) -> None:
    rows = svc.overview(url_of(demo_engine), None, TODAY)
    totals = svc.totals_by_lessee(rows)
    assert sorted(t.lessee for t in totals) == ["EMALL", "FRESH", "PCX"]
    assert sum(t.electric_trucks for t in totals) == sum(r.electric_trucks for r in rows) > 0
    assert sum(t.depots for t in totals) == len(rows)


def test_frames_are_scoped(demo_engine: Engine) -> None:
    url = url_of(demo_engine)
    everyone = svc.vehicles_frame(url, None)
    pcx = svc.vehicles_frame(url, "PCX")
    assert set(pcx["lessee"]) == {"PCX"} and 0 < len(pcx) < len(everyone)
    leases = svc.leases_frame(url, "FRESH", TODAY)
    assert set(leases["lessee"]) == {"FRESH"}
    with Session(demo_engine) as s:
        scope = scope_for(s, lessee_code="FRESH")
        assert len(leases) == len(s.exec(select(Lease).where(Lease.lessee_id == scope.lessee_id)).all())
    assert set(svc.models_frame(url)["kind"]) == {"bev", "diesel"}


def test_filter_frame() -> None:
    frame = pd.DataFrame(
        {"depot": ["A", "B", "A"], "plate": ["粤B1", "粤B2", "沪C3"], "vin": ["x", "y", "z"]}
    )
    assert len(svc.filter_frame(frame, {"depot": ["A"]})) == 2
    assert len(svc.filter_frame(frame, {"depot": []})) == 3
    assert svc.filter_frame(frame, {"depot": ["A"]}, "粤", ("plate", "vin"))["plate"].tolist() == ["粤B1"]
    assert svc.filter_frame(frame, {}, "Y", ("plate", "vin"))["plate"].tolist() == ["粤B2"]


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
    with pytest.raises(svc.FormRejected) as bad:
        svc.add_vehicle(url, None, _vehicle(vin="SHORT", model_code="NOPE"))
    fields = {e.field: e.reason for e in bad.value.errors}
    assert "17" in fields["vin"]
    with pytest.raises(svc.FormRejected) as unknown:
        svc.add_vehicle(url, None, _vehicle(model_code="NOPE"))
    assert [(e.field, e.reason) for e in unknown.value.errors] == [("model_code", "unknown vehicle model")]
    with pytest.raises(svc.FormRejected) as dup:
        svc.add_vehicle(url, None, _vehicle(plate="粤BD10001"))
    assert dup.value.errors[0].field == "plate" and "already" in dup.value.errors[0].reason
    with pytest.raises(svc.FormRejected) as foreign:  # a lessee cannot put a truck in another lessee's depot
        svc.add_vehicle(url, "FRESH", _vehicle(depot_code="SZ-BA", lessee_code=""))
    assert foreign.value.errors[0].field == "depot_code"
    svc.add_vehicle(url, "FRESH", _vehicle(lessee_code=""))
    with Session(demo_copy) as s:
        added = s.exec(select(Vehicle).where(Vehicle.plate == "粤BD99001")).one()
        assert added.depot_id is not None and added.lessee_id == scope_for(s, lessee_code="FRESH").lessee_id


def test_update_vehicle_and_lease(demo_copy: Engine) -> None:
    url = url_of(demo_copy)
    svc.update_vehicle(url, "PCX", "粤BD10001", {"status": "maintenance", "commissioned_on": "2025-09-30"})
    with pytest.raises(svc.FormRejected) as other:  # another lessee's truck is "not found", never changed
        svc.update_vehicle(url, "FRESH", "粤BD10001", {"status": "retired"})
    assert other.value.errors[0].reason == "not found in this scope"
    with pytest.raises(svc.FormRejected) as bad:
        svc.update_lease(url, None, "L-BA-001", {"end_date": "2020-01-01", "monthly_rent_cny": "12.345"})
    assert {e.field for e in bad.value.errors} == {"end_date", "monthly_rent_cny"}
    with pytest.raises(svc.FormRejected) as lessee_edit:  # a lessee does not set its own rent
        svc.update_lease(url, "PCX", "L-BA-001", {"monthly_rent_cny": "1.00"})
    assert lessee_edit.value.errors[0].reason == svc.LESSOR_ONLY
    with pytest.raises(svc.FormRejected):
        svc.add_lease(url, "PCX", {"code": "L-NEW", "plate": "粤BD10001"})
    svc.update_lease(
        url,
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
    with pytest.raises(svc.ImportFailed) as failed:
        svc.import_upload(
            url,
            "PCX",
            "trips",
            "trips.csv",
            (header + "粤BD10001,2026-11-25,80,20\n粤BD10001,2026-11-26,far,20\n").encode(),
        )
    frame = svc.errors_frame(failed.value)
    assert frame[["row", "column", "reason"]].values.tolist() == [[3, "km", "not a number"]]
    assert _count(demo_copy, VehicleDay) == before
    result = svc.import_upload(
        url, "PCX", "trips", "trips.csv", (header + "粤BD10001,2026-11-25,80,20\n").encode()
    )
    assert result.inserted == 1 and _count(demo_copy, VehicleDay) == before + 1
    assert "leases" not in svc.import_kinds("PCX") and "leases" in svc.import_kinds(None)
    with pytest.raises(svc.ImportFailed) as lease_import:
        svc.import_upload(url, "PCX", "leases", "leases.csv", b"code,plate\n")
    assert lease_import.value.errors[0].reason == svc.LESSOR_ONLY
