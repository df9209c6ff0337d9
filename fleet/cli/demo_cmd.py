"""`evfleet demo` and `evfleet summary`: load the Shenzhen demo and print the fleet per lessee and depot."""

from __future__ import annotations

import datetime as dt

import typer
from rich.table import Table

from fleet.cli.common import DB_OPTION, LESSEE_OPTION, console, fail, scoped_session
from fleet.db import database_url, get_engine, redact


def print_summary(db: str | None, lessee: str | None, today: dt.date | None) -> None:
    from fleet.reports import fleet_summary

    with scoped_session(db, lessee) as (session, scope):
        rows = fleet_summary(session, scope, today)
    if not rows:
        console.print("no depots in this scope")
        return
    date = rows[0].next_service_date
    who = f"lessee {lessee}" if lessee else "all lessees"
    table = Table(title=f"Fleet per lessee and depot ({who}; orders for {date}; metered last 30 days)")
    for col, justify in [
        ("lessee", "left"),
        ("depot", "left"),
        ("EV", "right"),
        ("diesel", "right"),
        ("leases", "right"),
        ("rent CNY/month", "right"),
        ("connectors", "right"),
        ("charger kW", "right"),
        ("grid kW", "right"),
        ("orders", "right"),
        ("km 30 d", "right"),
        ("kWh 30 d", "right"),
    ]:
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        table.add_row(
            r.lessee,
            r.depot,
            str(r.electric_trucks),
            str(r.diesel_trucks),
            str(r.active_leases),
            f"{r.monthly_rent_cny:,.2f}",
            str(r.connectors),
            f"{r.connector_kw:,.0f}",
            f"{r.grid_limit_kw:,.0f}",
            str(r.orders_next_day),
            f"{r.km_30d:,.0f}",
            f"{r.kwh_30d:,.0f}",
        )
    table.add_row(
        "total",
        "",
        str(sum(r.electric_trucks for r in rows)),
        str(sum(r.diesel_trucks for r in rows)),
        str(sum(r.active_leases for r in rows)),
        f"{sum(r.monthly_rent_cny for r in rows):,.2f}",
        str(sum(r.connectors for r in rows)),
        f"{sum(r.connector_kw for r in rows):,.0f}",
        f"{sum(r.grid_limit_kw for r in rows):,.0f}",
        str(sum(r.orders_next_day for r in rows)),
        f"{sum(r.km_30d for r in rows):,.0f}",
        f"{sum(r.kwh_30d for r in rows):,.0f}",
        style="bold",
    )
    console.print(table)


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("demo")
    def demo_cmd(
        db: str | None = DB_OPTION,
        replace: bool = typer.Option(False, "--replace", help="Delete and reload the demo lessor's data."),
        today: str | None = typer.Option(None, "--today", help="Reference date YYYY-MM-DD (default: today)."),
    ) -> None:
        """Create the schema, load the Shenzhen demo data (once) and print the fleet summary."""
        from fleet.demo.load import DemoAlreadyLoaded, load_demo
        from fleet.importers import ImportFailed
        from fleet.migrate import upgrade

        url = database_url(db)
        try:
            upgrade(url)
        except Exception as exc:
            raise fail(f"cannot prepare the schema of {redact(url)}: {exc}") from None
        try:
            counts = load_demo(get_engine(url), replace=replace)
            console.print(
                f"demo loaded into {redact(url)}: " + ", ".join(f"{v} {k}" for k, v in counts.items())
            )
        except DemoAlreadyLoaded:
            console.print(f"demo already in {redact(url)} (use --replace to reload)")
        except ImportFailed as exc:
            raise fail(str(exc)) from None
        print_summary(url, None, _date(today))

    @app.command("summary")
    def summary_cmd(
        db: str | None = DB_OPTION,
        lessee: str | None = LESSEE_OPTION,
        today: str | None = typer.Option(None, "--today", help="Reference date YYYY-MM-DD."),
    ) -> None:
        """Print trucks, leases, charging capacity, next day's orders and metered km/kWh per depot."""
        print_summary(db, lessee, _date(today))


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail(f"--today {text!r} is not a date (YYYY-MM-DD)") from None
