"""Parsing that never guesses, on the CLI path and the app's service path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.importers import CellError, ImportFailed, number_text, p_date, p_datetime
from fleet.services.imports import import_upload
from fleet.services.session import unit_of_work

from .conftest import GOOD, ORDER_HEADER, orders_csv, snapshot, write

runner = CliRunner()

AMBIGUOUS_OR_BAD_NUMBERS = [
    "1,5",
    "1,500",
    "1,500.5",
    "1.500,5",
    "12,",
    ",5",
    "1 500",
    "1_500",
    "１２",
    "NaN",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "Infinity",
    "1e400",
    "0x10",
    "1/2",
    "12kg",
    "--1",
    "+-1",
    "1..2",
    "١٢",
    "1e",
    "e5",
    "1.2.3",
]
NUMBER_COLUMNS = ["demand_kg", "latitude", "service_minutes"]


def _cli_import(url: str, path: Path, *extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["import", "orders", str(path), "--lessee", "FRESH", "--db", url, *extra])


@pytest.mark.parametrize("value", AMBIGUOUS_OR_BAD_NUMBERS)
@pytest.mark.parametrize("column", NUMBER_COLUMNS)
def test_bad_number_refused_on_cli(db, tmp_path: Path, column: str, value: str) -> None:  # type: ignore[no-untyped-def]
    engine, url = db
    before = snapshot(engine)
    f = write(tmp_path / "o.csv", orders_csv([{column: value}]))
    result = _cli_import(url, f)
    assert result.exit_code == 1, result.output
    assert f"column '{column}'" in result.output and "Traceback" not in result.output
    assert snapshot(engine) == before


@pytest.mark.parametrize("value", ["1,5", "NaN", "inf", "1e400", "1 500"])
def test_bad_number_refused_on_service_path(db, value: str) -> None:  # type: ignore[no-untyped-def]
    engine, url = db
    before = snapshot(engine)
    with pytest.raises(ImportFailed) as info, unit_of_work(url) as s:
        import_upload(s, "FRESH", "orders", "o.csv", orders_csv([{"demand_kg": value}]))
    assert [e.column for e in info.value.errors] == ["demand_kg"]
    assert snapshot(engine) == before


def test_decimal_comma_is_read_only_when_asked(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, url = db
    rows = [{"demand_kg": "1,5", "latitude": "22,54", "longitude": "113,95", "service_minutes": "15"}]
    f = write(tmp_path / "o.csv", orders_csv(rows))
    before = snapshot(engine)
    assert _cli_import(url, f).exit_code == 1
    assert snapshot(engine) == before
    ok = _cli_import(url, f, "--decimal", ",")
    assert ok.exit_code == 0, ok.output
    from sqlmodel import Session, select

    from fleet.models import Order

    with Session(engine) as s:
        order = s.exec(select(Order).where(Order.external_ref == "ADV-1")).one()
    assert order.demand_kg == 1.5 and order.latitude == 22.54


@given(st.text(alphabet="0123456789,.", min_size=1, max_size=12).filter(lambda t: "," in t))
@settings(max_examples=150, deadline=None)
def test_property_a_comma_is_never_guessed(text: str) -> None:
    with pytest.raises(CellError):
        number_text(text)


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
@settings(max_examples=150, deadline=None)
def test_property_plain_numbers_round_trip(x: float) -> None:
    assert float(number_text(repr(x))) == x


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-07", dt.date(2026, 12, 7)),
        ("2026/12/7", dt.date(2026, 12, 7)),
        ("2026/12/07", dt.date(2026, 12, 7)),
        ("2026.12.7", dt.date(2026, 12, 7)),
        ("46363", dt.date(2026, 12, 7)),
        ("2026-12-07 00:00:00", dt.date(2026, 12, 7)),
    ],
)
def test_excel_dates_accepted(text: str, expected: dt.date) -> None:
    assert p_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2026/13/7", "2026/2/30", "46363.5", "0", "99999999", "7/12/2026", "12/7/26", "tomorrow", "2026-12"],
)
def test_ambiguous_or_bad_dates_refused(text: str) -> None:
    with pytest.raises(CellError):
        p_date(text)


@pytest.mark.parametrize(
    ("text", "hour"),
    [("2026/12/7 9:00", 9), ("2026/12/7 09:00:30", 9), ("46363.375", 9), ("2026-12-07T09:00", 9)],
)
def test_excel_datetimes_accepted(text: str, hour: int) -> None:
    value = p_datetime(text)
    assert (
        value.date() == dt.date(2026, 12, 7)
        and value.hour == hour
        and value.utcoffset() == dt.timedelta(hours=8)
    )


def test_time_only_windows_take_the_service_date(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, url = db
    f = write(tmp_path / "o.csv", orders_csv([{"window_start": "7:00", "window_end": "10:30"}]))
    assert _cli_import(url, f).exit_code == 0
    from sqlmodel import Session, select

    from fleet.models import Order

    with Session(engine) as s:
        order = s.exec(select(Order).where(Order.external_ref == "ADV-1")).one()
    assert order.window_start.isoformat() == "2026-12-10T07:00:00+08:00"
    assert order.window_end.hour == 10 and order.window_end.minute == 30


@pytest.mark.parametrize("column", ["external_ref", "address", "depot_code", "demand_kg", "window_start"])
@pytest.mark.parametrize("bad", ["\x00", "a\x00b", "\x1b[31m", "\x07"])
def test_control_characters_refused(db, tmp_path: Path, column: str, bad: str) -> None:  # type: ignore[no-untyped-def]
    engine, url = db
    before = snapshot(engine)
    f = write(tmp_path / "o.csv", orders_csv([{column: GOOD[column] + bad}]))
    result = _cli_import(url, f)
    assert result.exit_code == 1 and "control character" in result.output and "Traceback" not in result.output
    assert snapshot(engine) == before


@pytest.mark.parametrize("value", ["inf", "1e30", "-1", "2.5", "NaN", "9999999999"])
def test_priority_out_of_range_refused(db, tmp_path: Path, value: str) -> None:  # type: ignore[no-untyped-def]
    engine, url = db
    before = snapshot(engine)
    result = _cli_import(url, write(tmp_path / "o.csv", orders_csv([{"priority": value}])))
    assert result.exit_code == 1 and "column 'priority'" in result.output and "Traceback" not in result.output
    assert snapshot(engine) == before


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-16", "utf-8"])
def test_encodings_detected(db, tmp_path: Path, encoding: str) -> None:  # type: ignore[no-untyped-def]
    engine, url = db
    f = write(tmp_path / "o.csv", orders_csv([{}], encoding=encoding))
    result = _cli_import(url, f)
    assert result.exit_code == 0, result.output
    from sqlmodel import Session, select

    from fleet.models import Order

    with Session(engine) as s:
        assert s.exec(select(Order).where(Order.external_ref == "ADV-1")).one().address == GOOD["address"]


@pytest.mark.parametrize(
    ("content_enc", "given"), [("gbk", "utf-8"), ("utf-8", "ascii"), ("utf-8", "klingon")]
)
def test_wrong_encoding_is_a_message(db, tmp_path: Path, content_enc: str, given: str) -> None:  # type: ignore[no-untyped-def]
    engine, url = db
    before = snapshot(engine)
    f = write(tmp_path / "o.csv", orders_csv([{}], encoding=content_enc))
    result = _cli_import(url, f, "--encoding", given)
    assert result.exit_code == 1 and "Traceback" not in result.output and "encoding" in result.output
    assert snapshot(engine) == before


@pytest.mark.parametrize("dup", ["demand_kg", "external_ref", "latitude"])
def test_duplicate_header_refused(db, tmp_path: Path, dup: str) -> None:  # type: ignore[no-untyped-def]
    engine, url = db
    before = snapshot(engine)
    f = write(tmp_path / "o.csv", orders_csv([{}], header=[*ORDER_HEADER, dup]))
    result = _cli_import(url, f)
    assert result.exit_code == 1 and "duplicate column" in result.output
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    "content",
    [b"", b"PK\x03\x04garbage", b"not a zip at all", b"PK\x05\x06" + b"\x00" * 18, b"\x00" * 100],
)
def test_broken_xlsx_is_a_message(db, tmp_path: Path, content: bytes) -> None:  # type: ignore[no-untyped-def]
    engine, url = db
    before = snapshot(engine)
    result = _cli_import(url, write(tmp_path / "o.xlsx", content))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert snapshot(engine) == before
    with pytest.raises(ImportFailed), unit_of_work(url) as s:
        import_upload(s, "FRESH", "orders", "o.xlsx", content)
    assert snapshot(engine) == before
