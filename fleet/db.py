"""One engine per process, one session per unit of work.

The database is chosen by `EVFLEET_DATABASE_URL`; the default is an SQLite file `evfleet.db` in the working
directory. `postgres://` and `postgresql://` URLs are normalised to the psycopg 3 driver.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

ENV_VAR = "EVFLEET_DATABASE_URL"
DEFAULT_SQLITE_FILE = "evfleet.db"


def normalise_url(url: str) -> str:
    """Map the URL spellings people paste (Heroku-style `postgres://`, bare `postgresql://`) to psycopg 3."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def database_url(url: str | None = None) -> str:
    """The URL in force: the argument, else `EVFLEET_DATABASE_URL`, else `sqlite:///./evfleet.db`."""
    if url:
        return normalise_url(url)
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return normalise_url(env)
    return f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str | None = None) -> Engine:
    """A new engine for `url` (see `database_url`); SQLite gets foreign keys on and a busy timeout."""
    resolved = database_url(url)
    if resolved.startswith("sqlite"):
        engine = sa.create_engine(resolved, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # A server that does not answer fails in seconds with a message, instead of hanging the command.
        engine = sa.create_engine(resolved, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    return engine


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for `url` (cached: one pool per database)."""
    return make_engine(url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error: one unit of work, all or nothing."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def redact(url: str) -> str:
    """The URL with its password hidden, for logs and error messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"
