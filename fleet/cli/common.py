"""Shared CLI plumbing: the console, the database option, scope resolution and error reporting."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlmodel import Session

from fleet.db import database_url, get_engine, redact, session_scope
from fleet.scope import Scope, ScopeError, scope_for

# Wide when piped (logs, CI), so tables are not truncated; the terminal's width otherwise.
console = Console(width=None if sys.stdout.isatty() else 180)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 180)

DB_OPTION = typer.Option(
    None,
    "--db",
    envvar="EVFLEET_DATABASE_URL",
    help="Database URL (default: sqlite file evfleet.db in the working directory).",
)
LESSEE_OPTION = typer.Option(
    None, "--lessee", help="Act as this lessee (code); default: the lessor's whole view."
)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a clear error (no traceback) and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@contextmanager
def scoped_session(db: str | None, lessee: str | None = None) -> Iterator[tuple[Session, Scope]]:
    """A unit-of-work session and the scope named on the command line."""
    url = database_url(db)
    try:
        with session_scope(get_engine(url)) as session:
            scope = scope_for(session, lessee_code=lessee)
            yield session, scope
    except ScopeError as exc:
        raise fail(f"{exc} (database {redact(url)})") from None


def is_terminal() -> bool:
    return sys.stderr.isatty()
