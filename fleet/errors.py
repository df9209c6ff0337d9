"""One readable line for any exception that reaches a user (CLI or app): database unreachable or gone, schema
missing, bad input, scope refusals. Used by the CLI's error handler and the app's import page."""

from __future__ import annotations


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
