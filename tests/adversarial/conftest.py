"""Adversarial suite (issue 20): every case asserts the clean outcome AND that nothing was written."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, func, select

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
GOOD = {
    "external_ref": "ADV-1",
    "depot_code": "SZ-NS",
    "service_date": "2026-12-10",
    "address": "深圳市南山区科苑路1号",
    "latitude": "22.54",
    "longitude": "113.95",
    "demand_kg": "120.5",
    "window_start": "2026-12-10T07:00:00+08:00",
    "window_end": "2026-12-10T10:00:00+08:00",
    "service_minutes": "15",
    "required_kind": "",
    "priority": "0",
}
FRESH_PLATE = "粤BD50001"  # a FRESH truck at SZ-NS (demo data)
PCX_PLATE = "粤BD10001"
PCX_VIN = "L6TRMEB56TS000001"


def orders_csv(
    rows: list[dict[str, str]], header: list[str] = ORDER_HEADER, encoding: str = "utf-8"
) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([{**GOOD, **r}.get(h, "") for h in header])
    return buf.getvalue().encode(encoding)


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def snapshot(engine: Engine) -> dict[str, int]:
    """Row counts of every table: 'nothing was written' is snapshot(before) == snapshot(after)."""
    with Session(engine) as s:
        return {
            name: s.exec(select(func.count()).select_from(table)).one()
            for name, table in SQLModel.metadata.tables.items()
        }


@pytest.fixture
def db(demo_copy: Engine) -> tuple[Engine, str]:
    return demo_copy, demo_copy.url.render_as_string(hide_password=False)
