"""The site meter and the base load: what the demand charge is billed on reaches the night's optimiser."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.db import session_scope
from fleet.importers import ImportFailed, import_file
from fleet.models import LOCAL_TZ, Depot, SiteMeterReading
from fleet.planning.build import base_load_profile
from fleet.planning.inputs import load_depot_day
from fleet.scope import scope_for


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("depot_code,interval_start,kw\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_meter_readings_import_and_refuse_what_is_not_a_15_minute_interval(
    demo_copy: Engine, tmp_path: Path
) -> None:
    good = _csv(tmp_path / "meter.csv", ["SZ-NS,2026-11-20 10:00,180.5", "SZ-NS,2026-11-20 10:15,212.0"])
    with session_scope(demo_copy) as s:
        import_file(s, scope_for(s), "site_meter", good)
    with Session(demo_copy) as s:
        assert sorted(r.kw for r in s.exec(select(SiteMeterReading)).all()) == [180.5, 212.0]
    bad = _csv(
        tmp_path / "bad.csv",
        ["SZ-NS,2026-11-20 10:07,100", "SZ-XX,2026-11-20 10:30,100", "SZ-NS,2026-11-20 11:00,-3"],
    )
    with pytest.raises(ImportFailed) as failed, session_scope(demo_copy) as s:
        import_file(s, scope_for(s), "site_meter", bad)
    reasons = {(e.row, e.column) for e in failed.value.errors}
    assert {(2, "interval_start"), (3, "depot_code"), (4, "kw")} <= reasons, failed.value.errors
    with Session(demo_copy) as s:
        assert len(s.exec(select(SiteMeterReading)).all()) == 2  # nothing of the bad file written


def test_the_metered_month_peak_is_what_the_night_builds_on(demo_copy: Engine, tmp_path: Path) -> None:
    """212 kW metered on 20 November: the night before 26 November prices only the increase above it; a reading
    in October or in the night itself does not count."""
    rows = ["SZ-NS,2026-11-20 10:15,212.0", "SZ-NS,2026-10-31 10:00,400.0", "SZ-NS,2026-11-25 19:00,350.0"]
    with session_scope(demo_copy) as s:
        import_file(s, scope_for(s), "site_meter", _csv(tmp_path / "m.csv", rows))
    with session_scope(demo_copy) as s:
        depot = s.exec(select(Depot).where(Depot.code == "SZ-NS")).one()
        inputs = load_depot_day(s, scope_for(s), depot.id, dt.date(2026, 11, 26))
    assert inputs.month_peak_kw_so_far == pytest.approx(212.0)


def test_base_load_by_time_of_day_maps_onto_the_night() -> None:
    hourly = tuple(float(h) for h in range(24))  # 0 kW at 00:00, 23 kW at 23:00
    start = dt.datetime(2026, 11, 25, 22, 30, tzinfo=LOCAL_TZ)
    night = base_load_profile(hourly, start, start + dt.timedelta(hours=2), 30)
    assert night == (22.0, 23.0, 23.0, 0.0)  # 22:30, 23:00, 23:30, 00:00
    quarter = tuple(float(q) for q in range(96))
    assert base_load_profile(quarter, start, start + dt.timedelta(minutes=30), 15) == (90.0, 91.0)
    with pytest.raises(ValueError, match="24 hourly or 96"):
        base_load_profile((1.0, 2.0), start, start + dt.timedelta(hours=1), 15)
