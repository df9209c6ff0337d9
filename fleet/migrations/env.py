"""Alembic environment: migrations are generated from and checked against `SQLModel.metadata`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import fleet.models  # noqa: F401 - registers every table on SQLModel.metadata
from fleet.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch migrations copy a table, drop the old one and rename the copy; with foreign keys enforced SQLite
        # refuses to drop a table other rows reference. Alembic's advice: switch enforcement off for the migration
        # (the pragma only takes effect outside a transaction) and check the references afterwards.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()  # end SQLAlchemy's autobegun transaction so the migrations' own one commits
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
        if broken:
            raise RuntimeError(
                f"migration left rows with dangling references (table, rowid, parent): {broken[:10]}"
            )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
