"""Migrations create the whole schema on SQLite and PostgreSQL, and match the models exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import Session, SQLModel, select

from fleet.db import database_url, make_engine, normalise_url
from fleet.migrate import current_revision, downgrade, head_revision, upgrade
from fleet.models import LOCAL_TZ, Lessor, Tariff


def test_upgrade_creates_every_table_and_matches_models(any_url: str) -> None:
    upgrade(any_url)
    assert current_revision(any_url) == head_revision()
    engine = make_engine(any_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == [], f"models and migrations differ; add a migration (evfleet db revision): {diff}"
    finally:
        engine.dispose()


def test_downgrade_then_upgrade_again(any_url: str) -> None:
    upgrade(any_url)
    downgrade(any_url, "base")
    assert current_revision(any_url) is None
    upgrade(any_url)
    assert current_revision(any_url) == head_revision()


def test_timestamps_come_back_timezone_aware_and_money_exact(any_url: str) -> None:
    upgrade(any_url)
    engine = make_engine(any_url)
    stamp = dt.datetime(2026, 11, 25, 23, 30, tzinfo=LOCAL_TZ)
    with Session(engine) as s:
        s.add(Lessor(code="X", name="x", created_at=stamp))
        s.add(
            Tariff(
                code="T",
                name="t",
                reference_id="gd_ic_tou_2021",
                base_price_cny_per_kwh=Decimal("0.2961"),
                periods=[{"start": "00:00", "end": "08:00", "multiplier": 0.38}],
            )
        )
        s.commit()
    with Session(engine) as s:
        lessor = s.exec(select(Lessor)).one()
        assert lessor.created_at == stamp and lessor.created_at.utcoffset() == dt.timedelta(hours=8)
        tariff = s.exec(select(Tariff)).one()
        assert tariff.base_price_cny_per_kwh == Decimal("0.2961")
        assert tariff.periods[0]["multiplier"] == 0.38
    engine.dispose()


def test_naive_datetime_is_refused(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        s.add(Lessor(code="X", name="x", created_at=dt.datetime(2026, 1, 1)))
        try:
            s.commit()
        except sa.exc.StatementError as exc:
            assert "naive datetime" in str(exc)
        else:  # pragma: no cover
            raise AssertionError("a naive datetime was stored")


def test_url_normalisation(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert normalise_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_url("postgresql://h/db") == "postgresql+psycopg://h/db"
    assert normalise_url("postgresql+psycopg://h/db") == "postgresql+psycopg://h/db"
    monkeypatch.delenv("EVFLEET_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert database_url() == f"sqlite:///{tmp_path / 'evfleet.db'}"
    monkeypatch.setenv("EVFLEET_DATABASE_URL", "postgres://x/y")
    assert database_url() == "postgresql+psycopg://x/y"


def test_every_migration_after_the_first_runs_on_a_populated_database(any_url: str) -> None:
    """A user's database holds rows that reference each other: each later revision must step down and up again
    with the demo loaded (a batch copy of a referenced table fails there, not on an empty schema)."""
    from fleet.demo.load import load_demo
    from fleet.models import Depot

    upgrade(any_url)
    engine = make_engine(any_url)
    try:
        load_demo(engine)
        with Session(engine) as s:
            depots = sorted(s.exec(select(Depot.code)).all())
        downgrade(any_url, "0002")
        assert current_revision(any_url) == "0002"
        upgrade(any_url)
        assert current_revision(any_url) == head_revision()
        with Session(engine) as s:
            rows = s.exec(select(Depot)).all()
            assert sorted(d.code for d in rows) == depots  # nothing lost on the way down and up
            assert all(d.tariff_structure == "two_part" and not d.charging_metered_separately for d in rows)
    finally:
        engine.dispose()
