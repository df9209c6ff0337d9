"""Entry point of the `evfleet` console script.

Command modules register themselves here so that each capability (database, demo, import, routing, charging,
finance, emissions, nightly, app) owns its commands in one file.
"""

from __future__ import annotations

import importlib

import typer

from fleet.cli.common import SafeGroup

app = typer.Typer(
    cls=SafeGroup,
    name="evfleet",
    help="Electric truck fleet leasing: routes, depot charging, lease economics and avoided emissions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Benchmarks: print a table and write JSON.", no_args_is_help=True)
app.add_typer(
    bench_app,
    name="bench",
    help="Run a benchmark suite (routing, charging, nightly, vpp, scale); prints a table, writes JSON.",
)

# One module per capability; each defines register(app, bench_app).
COMMAND_MODULES = (
    "fleet.cli.db_cmd",
    "fleet.cli.demo_cmd",
    "fleet.cli.import_cmd",
    "fleet.cli.routing_cmd",
    "fleet.cli.charging_cmd",
    "fleet.cli.finance_cmd",
    "fleet.cli.emissions_cmd",
    "fleet.cli.nightly_cmd",
    "fleet.cli.app_cmd",
    "fleet.cli.csms_cmd",
    "fleet.cli.telematics_cmd",
    "fleet.cli.api_cmd",
    "fleet.cli.vpp_cmd",
    "fleet.cli.zones_cmd",
)


@app.callback()
def main_options(
    debug: bool = typer.Option(
        False, "--debug", help="Show the Python traceback of an error instead of the one-line message."
    ),
) -> None:
    """Electric truck fleet leasing: routes, depot charging, lease economics and avoided emissions."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app, bench_app)


if __name__ == "__main__":  # pragma: no cover
    app()
