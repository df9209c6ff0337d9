"""One session per unit of work: the app's database, its readiness check, and the sessions the pages open.

A page opens exactly one `unit_of_work(ctx.url)` per render (its reads) and one per user action that writes, and
passes the session to the services; a service never opens a session of its own and never commits (writes flush
so that database errors surface where the service can name them; the unit of work commits when the block ends
without an exception, rolls back otherwise, and always closes the session).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from fleet.db import database_url, get_engine, redact
from fleet.models import Lessor

__all__ = ["SETUP_COMMAND", "DatabaseStatus", "Session", "app_url", "database_status", "unit_of_work"]

SETUP_COMMAND = "evfleet demo"


@contextmanager
def unit_of_work(url: str | None = None) -> Iterator[Session]:
    """A session on the process-wide engine for `url` (`fleet.db.get_engine`): commit when the block succeeds,
    roll back on any exception (Streamlit's stop and rerun included), always close."""
    session = Session(get_engine(url), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@dataclass(frozen=True)
class DatabaseStatus:
    """Whether the app can run on the configured database, and if not what to run to fix it."""

    url: str  # redacted: safe to show
    ready: bool
    problem: str | None = None
    fix: str | None = None


def database_status(url: str | None = None) -> DatabaseStatus:
    """Check the database without creating or changing anything (an SQLite file is never created here)."""
    resolved = database_url(url)
    shown = redact(resolved)
    sa_url = sa.engine.make_url(resolved)
    file_db = sa_url.get_backend_name() == "sqlite" and sa_url.database not in (None, "", ":memory:")
    if file_db and not Path(sa_url.database).is_file():  # type: ignore[arg-type]
        return DatabaseStatus(
            shown,
            False,
            f"there is no database file at {sa_url.database}",
            f"{SETUP_COMMAND}   (creates it with the Shenzhen demo data)",
        )
    try:
        engine = get_engine(resolved)
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("lessor"):
                return DatabaseStatus(
                    shown,
                    False,
                    "the database has no evfleet schema yet",
                    f"{SETUP_COMMAND}   (or `evfleet db upgrade` for an empty schema)",
                )
            if conn.execute(sa.select(sa.func.count()).select_from(Lessor.__table__)).scalar_one() == 0:
                return DatabaseStatus(
                    shown,
                    False,
                    "the database is empty (no lessor yet)",
                    f"{SETUP_COMMAND}   (loads the Shenzhen demo data)",
                )
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return DatabaseStatus(
            shown,
            False,
            f"cannot open the database: {first}",
            "check EVFLEET_DATABASE_URL, then run `evfleet db upgrade`",
        )
    return DatabaseStatus(shown, True)


def app_url() -> str:
    """The database URL the app uses (same rule as the CLI: `EVFLEET_DATABASE_URL`, else ./evfleet.db)."""
    return database_url(os.environ.get("EVFLEET_DATABASE_URL") or None)
