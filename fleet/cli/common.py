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
from fleet.errors import describe_error
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
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
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


class SafeGroup(TyperGroup):
    """The `evfleet` group: any exception a command lets through becomes one readable message and exit 1
    (`--debug` or EVFLEET_DEBUG=1 shows the traceback instead)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.ClickException, click.Abort):
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
