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
    site_meter = "site_meter"


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("import")
    def import_cmd(
        kind: Kind = typer.Argument(
            ..., help="What the file holds: vehicles, leases, orders, trips, charging."
        ),
        file: Path = typer.Argument(..., help="A .csv (UTF-8) or .xlsx file with a header row."),
        lessee: str | None = LESSEE_OPTION,
        decimal: str = typer.Option(
            ".", "--decimal", help="Decimal mark of the file's numbers: '.' (1234.5) or ',' (1234,5)."
        ),
        encoding: str | None = typer.Option(
            None, "--encoding", help="CSV text encoding (default: detected; utf-8, gb18030/gbk, utf-16)."
        ),
        db: str | None = DB_OPTION,
    ) -> None:
        """Import vehicles, leases, orders or metered trips/charging; any bad row rejects the whole file.

        With --lessee the import runs in that lessee's scope: every depot, connector and vehicle it names
        must be that lessee's."""
        from fleet.importers import ImportFailed, import_file

        try:
            with scoped_session(db, lessee) as (session, scope):
                result = import_file(
                    session, scope, kind.value, file, lessee_code=lessee, decimal=decimal, encoding=encoding
                )
        except ImportFailed as exc:
            raise fail(str(exc)) from None
        console.print(result.summary())
