"""Shared CLI plumbing: the console, the database option, scope resolution and error reporting."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import typer
from rich.console import Console
from sqlmodel import Session
from typer.core import TyperGroup

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


DEBUG_ENV = "EVFLEET_DEBUG"


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's error
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def describe_error(exc: BaseException) -> str:
    """One readable line (or the import's row list) for an exception that reached the command line."""
    import sqlalchemy.exc as sa_exc

    from fleet.importers import ImportFailed
    from fleet.scope import ScopeError

    if isinstance(exc, ImportFailed | ScopeError):
        return str(exc)
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError) or (
        isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated
    ):
        line = _first_line(exc)
        if "no such table" in line or ("does not exist" in line and "relation" in line):
            return f"the database has no evfleet schema ({line}): run `evfleet db upgrade`"
        return (
            f"the database is unreachable or went away ({line}); check --db / EVFLEET_DATABASE_URL; "
            "the unfinished unit of work was rolled back"
        )
    if isinstance(exc, sa_exc.ProgrammingError):
        return (
            f"the database schema does not match this version ({_first_line(exc)}): run `evfleet db upgrade`"
        )
    if isinstance(exc, sa_exc.IntegrityError):
        return f"conflicts with existing data, nothing written ({_first_line(exc)})"
    if isinstance(exc, sa_exc.SQLAlchemyError):
        return f"database error, nothing written ({_first_line(exc)})"
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename or exc}"
    if isinstance(exc, UnicodeError):
        return f"cannot read the text: {exc} (give --encoding)"
    if isinstance(exc, ValueError | LookupError | OSError | PermissionError | ArithmeticError):
        return f"{exc}" if str(exc) else type(exc).__name__
    return f"unexpected {type(exc).__name__}: {_first_line(exc)}"


class SafeGroup(TyperGroup):
    """The `evfleet` group: any exception a command lets through becomes one readable message and exit 1
    (`--debug` or EVFLEET_DEBUG=1 shows the traceback instead)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            err_console.print("[bold red]interrupted[/]", highlight=False)
            raise typer.Exit(130) from None
        except Exception as exc:
            if ctx.params.get("debug") or os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
                err_console.print(traceback.format_exc(), highlight=False, markup=False)
                raise typer.Exit(1) from None
            err_console.print(f"[bold red]error:[/] {describe_error(exc)}", highlight=False)
            err_console.print(
                "(run with `evfleet --debug ...` for the traceback)", style="dim", highlight=False
            )
            raise typer.Exit(1) from None


def is_terminal() -> bool:
    return sys.stderr.isatty()
