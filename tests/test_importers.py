"""Imports name the file, row, column, value and reason of every bad cell, and write nothing on failure."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from fleet.db import session_scope
from fleet.importers import ImportFailed, import_file
from fleet.models import ImportBatch, Lease, Order, Vehicle, VehicleDay
from fleet.scope import Scope, scope_for

ORDER_HEADER = [
    "external_ref",
    "depot_code",
    "service_date",
    "address",
    "latitude",
    "longitude",
    "demand_kg",
    "window_start",
    "window_end",
    "service_minutes",
    "required_kind",
    "priority",
]
GOOD = [
    "T-001",
    "SZ-NS",
    "2026-12-10",
    "深圳市南山区科苑路1号",
    "22.54",
    "113.95",
    "120.5",
    "2026-12-10T07:00:00+08:00",
    "2026-12-10T10:00:00+08:00",
    "15",
    "",
    "0",
]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def _lessor(engine: Engine) -> Scope:
    with Session(engine) as s:
        return scope_for(s)


def _row(**changes: str) -> list[str]:
    row = dict(zip(ORDER_HEADER, GOOD))
    row.update(changes)
    return [row[h] for h in ORDER_HEADER]


def test_good_orders_import_once(demo_copy: Engine, tmp_path: Path) -> None:
    f = _write(tmp_path / "orders.csv", ORDER_HEADER, [_row(), _row(external_ref="T-002")])
    before = _count(demo_copy, Order)
    with session_scope(demo_copy) as s:
        result = import_file(s, _lessor(demo_copy), "orders", f, lessee_code="FRESH")
    assert (result.inserted, result.skipped_duplicates) == (2, 0)
    assert _count(demo_copy, Order) == before + 2
    with session_scope(demo_copy) as s:  # the same file again: detected, not doubled
        again = import_file(s, _lessor(demo_copy), "orders", f, lessee_code="FRESH")
    assert again.duplicate_of_batch == result.batch_id and again.inserted == 0
    g = _write(tmp_path / "orders2.csv", ORDER_HEADER, [_row(), _row(external_ref="T-003")])
    with session_scope(demo_copy) as s:  # overlapping file: the known row is skipped
        third = import_file(s, _lessor(demo_copy), "orders", g, lessee_code="FRESH")
    assert (third.inserted, third.skipped_duplicates) == (1, 1)
    assert _count(demo_copy, Order) == before + 3


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        ({"demand_kg": "-5"}, "demand_kg", "must not be negative"),
        ({"depot_code": "SZ-XX"}, "depot_code", "unknown depot"),
        ({"depot_code": "SZ-BA"}, "depot_code", "unknown depot"),  # another lessee's depot
        ({"window_end": "2026-12-10T06:00:00+08:00"}, "window_end", "ends before it starts"),
        ({"latitude": "-22.54"}, "latitude", "check latitude/longitude"),
        ({"latitude": "113.95", "longitude": "22.54"}, "latitude", "must be <= 90"),
        ({"latitude": "95"}, "latitude", "must be <= 90"),
        ({"demand_kg": "heavy"}, "demand_kg", "not a number"),
        ({"service_date": "2026-13-01"}, "service_date", "not a date"),
        ({"window_start": "tomorrow"}, "window_start", "not a date-time"),
        ({"external_ref": ""}, "external_ref", "required value is empty"),
        ({"required_kind": "hydrogen"}, "required_kind", "must be one of bev, diesel"),
    ],
)
def test_bad_order_row_is_named_and_nothing_written(
    demo_copy: Engine, tmp_path: Path, changes: dict[str, str], column: str, reason: str
) -> None:
    f = _write(
        tmp_path / "bad.csv",
        ORDER_HEADER,
        [_row(external_ref="OK-1"), _row(**{"external_ref": "BAD-2", **changes})],
    )
    before, batches = _count(demo_copy, Order), _count(demo_copy, ImportBatch)
    with pytest.raises(ImportFailed) as info, session_scope(demo_copy) as s:
        import_file(s, _lessor(demo_copy), "orders", f, lessee_code="FRESH")
    errors = info.value.errors
    assert len(errors) == 1, errors
    err = errors[0]
    assert (err.file, err.row, err.column) == ("bad.csv", 3, column)
    assert reason in err.reason
    assert f"row 3, column {column!r}" in str(info.value)
    assert _count(demo_copy, Order) == before and _count(demo_copy, ImportBatch) == batches


def test_every_bad_row_is_reported_not_just_the_first(demo_copy: Engine, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "bad.csv",
        ORDER_HEADER,
        [
            _row(external_ref="A", demand_kg="-1"),
            _row(external_ref="B", latitude="x"),
            _row(external_ref="A"),
        ],
    )
    with pytest.raises(ImportFailed) as info, session_scope(demo_copy) as s:
        import_file(s, _lessor(demo_copy), "orders", f, lessee_code="FRESH")
    assert [(e.row, e.column) for e in info.value.errors] == [(2, "demand_kg"), (3, "latitude")]


def test_duplicate_ref_in_file_and_changed_existing_row(demo_copy: Engine, tmp_path: Path) -> None:
    f = _write(tmp_path / "dup.csv", ORDER_HEADER, [_row(external_ref="D"), _row(external_ref="D")])
    with pytest.raises(ImportFailed, match="duplicate of row 2"), session_scope(demo_copy) as s:
        import_file(s, _lessor(demo_copy), "orders", f, lessee_code="FRESH")
    existing = "SZ-NS-20261123-001"
    g = _write(
        tmp_path / "changed.csv",
        ORDER_HEADER,
        [
            _row(
                external_ref=existing,
                service_date="2026-11-23",
                window_start="2026-11-23T07:00:00+08:00",
                window_end="2026-11-23T10:00:00+08:00",
            )
        ],
    )
    with (
        pytest.raises(ImportFailed, match="already exists with different values"),
        session_scope(demo_copy) as s,
    ):
        import_file(s, _lessor(demo_copy), "orders", g, lessee_code="FRESH")


def test_missing_column_and_missing_lessee(demo_copy: Engine, tmp_path: Path) -> None:
    f = _write(tmp_path / "cols.csv", ORDER_HEADER[:-3], [GOOD[:-3]])
    with (
        pytest.raises(ImportFailed, match=r"'service_minutes'.*required column is missing"),
        session_scope(demo_copy) as s,
    ):
        import_file(s, _lessor(demo_copy), "orders", f, lessee_code="FRESH")
    with pytest.raises(ImportFailed, match="needs a lessee"), session_scope(demo_copy) as s:
        import_file(s, _lessor(demo_copy), "orders", f)


def test_xlsx_import(demo_copy: Engine, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(ORDER_HEADER)
    ws.append([*GOOD[:4], 22.54, 113.95, 120.5, *GOOD[7:9], 15, None, 0])
    ws.append([*_row(external_ref="X-2")[:6], "-3", *GOOD[7:]])
    path = tmp_path / "orders.xlsx"
    wb.save(path)
    with pytest.raises(ImportFailed) as info, session_scope(demo_copy) as s:
        import_file(s, _lessor(demo_copy), "orders", path, lessee_code="FRESH")
    assert [(e.row, e.column) for e in info.value.errors] == [(3, "demand_kg")]
    ws.delete_rows(3)
    wb.save(path)
    with session_scope(demo_copy) as s:
        assert import_file(s, _lessor(demo_copy), "orders", path, lessee_code="FRESH").inserted == 1


def test_lessee_scope_cannot_import_into_another_lessee(demo_copy: Engine, tmp_path: Path) -> None:
    with Session(demo_copy) as s:
        fresh = scope_for(s, lessee_code="FRESH")
    f = _write(tmp_path / "o.csv", ORDER_HEADER, [_row(depot_code="SZ-LG")])
    with pytest.raises(ImportFailed, match="unknown depot"), session_scope(demo_copy) as s:
        import_file(s, fresh, "orders", f)
    with pytest.raises(ImportFailed, match="scope is lessee FRESH"), session_scope(demo_copy) as s:
        import_file(s, fresh, "orders", f, lessee_code="EMALL")


VEHICLE_HEADER = ["plate", "vin", "model_code", "depot_code", "lessee_code", "status", "commissioned_on"]
LEASE_HEADER = [
    "code",
    "plate",
    "lessee_code",
    "start_date",
    "end_date",
    "monthly_rent_cny",
    "purchase_price_cny",
    "residual_value_cny",
    "replaced_diesel_model_code",
    "loan_annual_rate",
]


def test_lease_hands_an_unassigned_truck_to_the_lessee(demo_copy: Engine, tmp_path: Path) -> None:
    vf = _write(
        tmp_path / "v.csv",
        VEHICLE_HEADER,
        [["粤BD99011", "L6TABCDE1TS999011", "BEV-V6E", "SZ-NS", "", "available", ""]],
    )
    lf = _write(
        tmp_path / "l.csv",
        LEASE_HEADER,
        [
            [
                "L-NEW-9",
                "粤BD99011",
                "FRESH",
                "2026-12-01",
                "2031-11-30",
                "2500.50",
                "115000",
                "23000",
                "DSL-3.5T",
                "0.042",
            ]
        ],
    )
    with session_scope(demo_copy) as s:
        import_file(s, _lessor(demo_copy), "vehicles", vf)
        import_file(s, _lessor(demo_copy), "leases", lf)
    with Session(demo_copy) as s:
        fresh = scope_for(s, lessee_code="FRESH")
        truck = s.exec(select(Vehicle).where(Vehicle.plate == "粤BD99011")).one()
        assert (truck.lessee_id, truck.status.value) == (fresh.lessee_id, "leased")


def test_vehicles_and_leases(demo_copy: Engine, tmp_path: Path) -> None:
    vf = _write(
        tmp_path / "v.csv",
        VEHICLE_HEADER,
        [
            ["粤BD99001", "L6TABCDE1TS999001", "BEV-V6E", "SZ-BA", "PCX", "leased", "2026-12-01"],
            ["粤BD99002", "L6TABCDE1TS999001", "BEV-V6E", "SZ-BA", "PCX", "leased", ""],
            ["粤BD99003", "L6TABCDEOTS999003", "BEV-NOPE", "SZ-BA", "PCX", "sold", ""],
        ],
    )
    with pytest.raises(ImportFailed) as info, session_scope(demo_copy) as s:
        import_file(s, _lessor(demo_copy), "vehicles", vf)
    assert {(e.row, e.column) for e in info.value.errors} == {(3, "vin"), (4, "vin"), (4, "status")}
    vf = _write(
        tmp_path / "v2.csv",
        VEHICLE_HEADER,
        [["粤BD99001", "L6TABCDE1TS999001", "BEV-V6E", "SZ-BA", "PCX", "leased", "2026-12-01"]],
    )
    lf = _write(
        tmp_path / "l.csv",
        LEASE_HEADER,
        [
            [
                "L-NEW-1",
                "粤BD99001",
                "PCX",
                "2026-12-01",
                "2031-11-30",
                "2500.50",
                "115000",
                "23000",
                "DSL-3.5T",
                "0.042",
            ],
            [
                "L-NEW-2",
                "粤BD99001",
                "PCX",
                "2026-12-01",
                "2025-11-30",
                "2500.505",
                "115000",
                "200000",
                "BEV-V6E",
                "1.5",
            ],
        ],
    )
    with session_scope(demo_copy) as s:
        import_file(s, _lessor(demo_copy), "vehicles", vf)
    with pytest.raises(ImportFailed) as info, session_scope(demo_copy) as s:
        import_file(s, _lessor(demo_copy), "leases", lf)
    assert {(e.row, e.column) for e in info.value.errors} == {
        (3, "monthly_rent_cny"),
        (3, "loan_annual_rate"),
    }
    lf = _write(
        tmp_path / "l2.csv",
        LEASE_HEADER,
        [
            [
                "L-NEW-1",
                "粤BD99001",
                "PCX",
                "2026-12-01",
                "2031-11-30",
                "2500.50",
                "115000",
                "23000",
                "DSL-3.5T",
                "0.042",
            ],
            [
                "L-NEW-2",
                "粤BD99001",
                "PCX",
                "2026-12-01",
                "2025-11-30",
                "2500.50",
                "115000",
                "200000",
                "BEV-V6E",
                "0.04",
            ],
        ],
    )
    with pytest.raises(ImportFailed) as info, session_scope(demo_copy) as s:
        import_file(s, _lessor(demo_copy), "leases", lf)
    assert [(e.row, e.column) for e in info.value.errors] == [(3, "end_date")]
    lf = _write(
        tmp_path / "l3.csv",
        LEASE_HEADER,
        [
            [
                "L-NEW-1",
                "粤BD99001",
                "PCX",
                "2026-12-01",
                "2031-11-30",
                "2500.50",
                "115000",
                "23000",
                "DSL-3.5T",
                "0.042",
            ]
        ],
    )
    with session_scope(demo_copy) as s:
        import_file(s, _lessor(demo_copy), "leases", lf)
    with Session(demo_copy) as s:
        lease = s.exec(select(Lease).where(Lease.code == "L-NEW-1")).one()
        assert lease.monthly_rent_fen == 250050
        assert s.exec(select(Vehicle).where(Vehicle.plate == "粤BD99001")).one().vin == "L6TABCDE1TS999001"


def test_trips_import_skips_identical_rows(demo_copy: Engine, tmp_path: Path) -> None:
    header = ["plate", "day", "km", "kwh_vehicle", "kwh_charger"]
    f = _write(
        tmp_path / "t.csv",
        header,
        [
            ["粤BD50001", "2026-11-25", "120.5", "40.1", "43.6"],
            ["粤BD50001", "2026-11-25", "120.5", "40.1", "43.6"],
            ["粤BD50001", "2026-11-26", "-3", "", ""],
        ],
    )
    before = _count(demo_copy, VehicleDay)
    with session_scope(demo_copy) as s:
        result = import_file(s, _lessor(demo_copy), "trips", f)
    # negative km is kept (flagged later by the emissions data-quality checks, never silently used)
    assert (result.inserted, result.skipped_duplicates) == (2, 1)
    assert _count(demo_copy, VehicleDay) == before + 2


# ---- customer name, phone and notes (route sheets drivers can use), under English or Chinese headers

ZH_ORDER_HEADER = [
    "订单号",
    "场站代码",
    "配送日期",
    "地址",
    "纬度",
    "经度",
    "重量(kg)",
    "最早送达",
    "最晚送达",
    "服务时长(分钟)",
    "车型要求",
    "优先级",
    "客户名称",
    "联系电话",
    "备注",
]


def test_chinese_headers_and_customer_columns_from_xlsx(demo_copy: Engine, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(ZH_ORDER_HEADER)
    ws.append([*_row(external_ref="ZH-1"), "陈记生鲜超市", 13800138000, "请从后门卸货"])  # phone as a number
    ws.append([*_row(external_ref="ZH-2"), "李女士", "+86 755 8888 0001", ""])
    ws.append([*_row(external_ref="ZH-3"), "  ", "", None])  # blank stays NULL
    path = tmp_path / "订单.xlsx"
    wb.save(path)
    with session_scope(demo_copy) as s:
        assert import_file(s, _lessor(demo_copy), "orders", path, lessee_code="FRESH").inserted == 3
    with Session(demo_copy) as s:
        got = {
            o.external_ref: (o.customer_name, o.customer_phone, o.notes, o.demand_kg)
            for o in s.exec(select(Order).where(Order.external_ref.in_(["ZH-1", "ZH-2", "ZH-3"])))  # type: ignore[attr-defined]
        }
    assert got == {
        "ZH-1": ("陈记生鲜超市", "13800138000", "请从后门卸货", 120.5),
        "ZH-2": ("李女士", "+86 755 8888 0001", None, 120.5),
        "ZH-3": (None, None, None, 120.5),
    }


def test_english_customer_headers_from_csv(demo_copy: Engine, tmp_path: Path) -> None:
    header = [*ORDER_HEADER, "customer_name", "customer_phone", "notes"]
    f = _write(
        tmp_path / "o.csv",
        header,
        [[*_row(external_ref="EN-1"), "Wang's Deli", "0755-1234 5678 转 801", "ring"]],
    )
    with session_scope(demo_copy) as s:
        assert import_file(s, _lessor(demo_copy), "orders", f, lessee_code="FRESH").inserted == 1
    with Session(demo_copy) as s:
        o = s.exec(select(Order).where(Order.external_ref == "EN-1")).one()
    assert (o.customer_name, o.customer_phone, o.notes) == ("Wang's Deli", "0755-1234 5678 转 801", "ring")


@pytest.mark.parametrize("phone", ['=HYPERLINK("http://x")', "+SUM(A1:A9)", "call me", "@138"])
def test_a_phone_that_is_no_phone_is_refused(demo_copy: Engine, tmp_path: Path, phone: str) -> None:
    header = [*ORDER_HEADER, "customer_phone"]
    f = _write(tmp_path / "p.csv", header, [[*_row(external_ref="PH-1"), phone]])
    with pytest.raises(ImportFailed) as info, session_scope(demo_copy) as s:
        import_file(s, _lessor(demo_copy), "orders", f, lessee_code="FRESH")
    assert [(e.row, e.column, e.value) for e in info.value.errors] == [(2, "customer_phone", phone)]
    assert "not a telephone number" in info.value.errors[0].reason


def test_a_column_under_two_names_is_refused(demo_copy: Engine, tmp_path: Path) -> None:
    header = [*ORDER_HEADER, "notes", "备注"]
    f = _write(tmp_path / "twice.csv", header, [[*_row(external_ref="TW-1"), "a", "b"]])
    with pytest.raises(ImportFailed, match="under two names") as info, session_scope(demo_copy) as s:
        import_file(s, _lessor(demo_copy), "orders", f, lessee_code="FRESH")
    assert [(e.row, e.column, e.value) for e in info.value.errors] == [(1, "notes", "notes, 备注")]
