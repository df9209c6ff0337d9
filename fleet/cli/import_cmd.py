"""`evfleet import KIND FILE`: validated, all-or-nothing CSV/XLSX import."""

from __future__ import annotations

import enum
from pathlib import Path

import typer

from fleet.cli.common import DB_OPTION, LESSEE_OPTION, console, fail, scoped_session


class Kind(str, enum.Enum):
    vehicles = "vehicles"
    leases = "leases"
    orders = "orders"
    trips = "trips"
    charging = "charging"


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("import")
    def import_cmd(
        kind: Kind = typer.Argument(
            ..., help="What the file holds: vehicles, leases, orders, trips, charging."
        ),
        file: Path = typer.Argument(..., help="A .csv (UTF-8) or .xlsx file with a header row."),
        lessee: str | None = LESSEE_OPTION,
        db: str | None = DB_OPTION,
    ) -> None:
        """Import vehicles, leases, orders or metered trips/charging; any bad row rejects the whole file."""
        from fleet.importers import ImportFailed, import_file

        try:
            with scoped_session(db, None) as (session, scope):
                result = import_file(session, scope, kind.value, file, lessee_code=lessee)
        except ImportFailed as exc:
            raise fail(str(exc)) from None
        console.print(result.summary())
