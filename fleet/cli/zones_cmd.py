"""`evfleet zones import|list|delete` (the lessor's access zones) and `evfleet depot-routing` (a depot's speed
profile, driver breaks, trips and reload minutes): thin faces on fleet.planning.realism (docs/realism.md)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from fleet.cli.common import DB_OPTION, LESSEE_OPTION, console, fail, scoped_session

zones_app = typer.Typer(
    help="Access zones (green-logistics zones, diesel bans) applied to every depot-day with a stop inside.",
    no_args_is_help=True,
)


def _lessor_only(scope: object) -> None:
    if not getattr(scope, "is_lessor", False):
        raise fail("access zones are the lessor's: run without --lessee")


@zones_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="A GeoJSON FeatureCollection of Polygon features in [lon, lat]."),
    db: str | None = DB_OPTION,
) -> None:
    """Import zones from GeoJSON, all or nothing: a zone whose name exists is replaced, others are added.

    Each feature: properties {"name": "...", "rules": [{"kinds": ["diesel"], "plates": [], "hours":
    ["07:00-09:00"]}]}; no hours = barred all day; kinds diesel, bev (electric); empty kinds = every truck."""
    from fleet.planning.realism import ZoneFileError, import_zones

    try:
        with scoped_session(db) as (session, scope):
            _lessor_only(scope)
            result = import_zones(session, scope.lessor_id, file)
    except ZoneFileError as exc:
        for line in exc.errors:
            console.print(f"  {line}", highlight=False, markup=False)
        raise fail(str(exc).split(": ", 1)[0] + f": {len(exc.errors)} error(s), nothing imported") from None
    console.print(result.summary(), highlight=False)


@zones_app.command("list")
def list_cmd(db: str | None = DB_OPTION) -> None:
    """The lessor's zones: vertices and rules."""
    from fleet.planning.realism import describe_rule, load_zones

    with scoped_session(db) as (session, scope):
        zones = load_zones(session, scope.lessor_id)
    table = Table(title=f"{len(zones)} access zone(s)")
    for col in ("zone", "vertices", "rules"):
        table.add_column(col)
    for z in zones:
        table.add_row(z.id, str(len(z.polygon)), "; ".join(describe_rule(r) for r in z.rules))
    console.print(table)


@zones_app.command("delete")
def delete_cmd(name: str = typer.Argument(..., help="The zone's name."), db: str | None = DB_OPTION) -> None:
    """Delete one zone (plans already stored keep its name and checksum in their record)."""
    from sqlmodel import select

    from fleet.models import AccessZone

    with scoped_session(db) as (session, scope):
        _lessor_only(scope)
        row = session.exec(
            select(AccessZone).where(AccessZone.lessor_id == scope.lessor_id, AccessZone.name == name)
        ).first()
        if row is None:
            raise fail(f"no access zone named {name!r}")
        session.delete(row)
    console.print(f"deleted zone {name}", highlight=False)


def depot_routing_cmd(
    depot: str = typer.Argument(..., help="Depot code."),
    speed_profile: str | None = typer.Option(
        None,
        "--speed-profile",
        help="none | shenzhen-rush-hour (time-dependent travel, an ASSUMPTION profile).",
    ),
    breaks: bool | None = typer.Option(
        None,
        "--breaks/--no-breaks",
        help="China's 4 h / 20 min continuous-driving rule (default off for now, docs/realism.md).",
    ),
    max_trips: int | None = typer.Option(None, "--max-trips", help="Trips per truck and day (1-5)."),
    reload_minutes: float | None = typer.Option(
        None, "--reload-minutes", help="Minutes a reload at the depot takes between two trips."
    ),
    db: str | None = DB_OPTION,
    lessee: str | None = LESSEE_OPTION,
) -> None:
    """Show a depot's routing settings, or change those given (the next nightly or solve uses them)."""
    from fleet.models import Depot
    from fleet.planning.realism import depot_routing, update_depot_routing
    from fleet.scope import list_rows

    with scoped_session(db, lessee) as (session, scope):
        if any(v is not None for v in (speed_profile, breaks, max_trips, reload_minutes)):
            try:
                settings = update_depot_routing(
                    session,
                    scope,
                    depot,
                    speed_profile=speed_profile,
                    driver_breaks=breaks,
                    max_trips=max_trips,
                    reload_minutes=reload_minutes,
                )
            except ValueError as exc:
                raise fail(str(exc)) from None
        else:
            rows = list_rows(session, scope, Depot, Depot.code == depot)
            if not rows:
                raise fail(f"depot {depot!r} not found in the scope of {scope.describe()}")
            settings = depot_routing(rows[0])
    console.print(
        f"{depot}: speed profile {settings.speed_profile}, driver breaks {'on' if settings.driver_breaks else 'off'}, "
        f"{settings.max_trips} trip(s) per truck, reload {settings.reload_minutes:g} min",
        highlight=False,
    )


def register(app: typer.Typer, bench: typer.Typer) -> None:
    app.add_typer(zones_app, name="zones", help="Access zones: import from GeoJSON, list, delete.")
    app.command("depot-routing")(depot_routing_cmd)
