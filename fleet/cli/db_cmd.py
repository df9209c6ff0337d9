"""`evfleet db ...`: schema migrations."""

from __future__ import annotations

import typer

from fleet.cli.common import DB_OPTION, console, fail
from fleet.db import database_url, redact


def register(app: typer.Typer, bench: typer.Typer) -> None:
    db_app = typer.Typer(help="Database schema: upgrade, show the revision.", no_args_is_help=True)
    app.add_typer(db_app, name="db", help="Database schema migrations (Alembic): upgrade, current.")

    @db_app.command("upgrade")
    def upgrade_cmd(
        db: str | None = DB_OPTION, revision: str = typer.Option("head", help="Target revision.")
    ) -> None:
        """Create or migrate the schema to the newest revision."""
        from fleet.migrate import current_revision, upgrade

        url = database_url(db)
        try:
            upgrade(url, revision)
        except Exception as exc:
            raise fail(f"upgrade of {redact(url)} failed: {exc}") from None
        console.print(f"{redact(url)} is at revision {current_revision(url)}")

    @db_app.command("revision")
    def revision_cmd(
        message: str = typer.Option(..., "-m", "--message", help="What the migration changes."),
        db: str | None = DB_OPTION,
    ) -> None:
        """(Developers) autogenerate a migration from the models against an up-to-date database."""
        from fleet.migrate import new_revision

        new_revision(message, database_url(db))

    @db_app.command("summarise")
    def summarise_cmd(db: str | None = DB_OPTION) -> None:
        """Rebuild the monthly summary of the metered days and the lessor's emissions tables (issue 24): run it
        after a bulk load or nightly; until then the app aggregates live (correct, slower at scale)."""
        import time

        from fleet.db import make_engine, session_scope
        from fleet.emissions.monthly import refresh

        url = database_url(db)
        t0 = time.perf_counter()
        with session_scope(make_engine(url)) as session:
            written = refresh(session)
        console.print(
            f"{redact(url)}: {written:,} vehicle-months summarised in {time.perf_counter() - t0:.1f} s"
        )

    @db_app.command("current")
    def current_cmd(db: str | None = DB_OPTION) -> None:
        """Print the schema revision of the database."""
        from fleet.migrate import current_revision, head_revision

        url = database_url(db)
        console.print(f"{redact(url)}: revision {current_revision(url)} (newest {head_revision()})")
