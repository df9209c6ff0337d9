"""`evfleet api ...`: serve the REST API (uvicorn), issue and revoke keys, print the OpenAPI schema."""

from __future__ import annotations

import json

import typer

from fleet.cli.common import DB_OPTION, console, fail
from fleet.db import database_url, get_engine, session_scope
from fleet.scope import ScopeError


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    api = typer.Typer(
        help="The REST API for lessees' systems: serve, keys, OpenAPI schema.", no_args_is_help=True
    )
    app.add_typer(api, name="api", help="The REST API for lessees' systems: serve, keys, OpenAPI schema.")
    key = typer.Typer(help="API keys (stored hashed; the secret is shown once).", no_args_is_help=True)
    api.add_typer(key, name="key", help="API keys (stored hashed; the secret is shown once).")

    @bench_app.command("api")
    def bench_api(
        batches: int = typer.Option(20, help="Requests."),
        rows: int = typer.Option(200, help="Orders per request."),
        out: str = typer.Option("bench-api.json", help="JSON result file."),
    ) -> None:
        """API orders per second imported (TestClient, in process); table + JSON."""
        from pathlib import Path

        from fleet.api.bench import bench_orders

        result = bench_orders(batches, rows)
        for k, value in result.items():
            console.print(f"{k:20s} {value}")
        Path(out).write_text(json.dumps(result, indent=2), encoding="utf-8")

    @api.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8000, help="TCP port."),
        db: str | None = DB_OPTION,
    ) -> None:
        """Serve the API with uvicorn (OpenAPI schema at /openapi.json, docs at /docs)."""
        import uvicorn

        from fleet.api import create_app

        uvicorn.run(create_app(get_engine(database_url(db))), host=host, port=port)

    @api.command("openapi")
    def openapi() -> None:
        """Print the OpenAPI schema (the committed copy is docs/openapi.json)."""
        from fleet.api import create_app
        from fleet.db import make_engine

        print(
            json.dumps(
                create_app(make_engine("sqlite://")).openapi(), indent=2, ensure_ascii=False, sort_keys=True
            )
        )

    @key.command("create")
    def create(
        name: str = typer.Option(..., help="What the key is for (e.g. 'PCX TMS')."),
        lessee: str | None = typer.Option(
            None, "--lessee", help="Lessee code; without it, a lessor key (sees all)."
        ),
        db: str | None = DB_OPTION,
    ) -> None:
        """Issue a key and print its secret once."""
        from fleet.api.keys import issue_key

        try:
            with session_scope(get_engine(database_url(db))) as s:
                secret = issue_key(s, name, lessee_code=lessee)
        except ScopeError as exc:
            raise fail(str(exc)) from None
        console.print(f"{secret}\n(store it now: only its hash is kept)", highlight=False)

    @key.command("revoke")
    def revoke(
        prefix: str = typer.Argument(..., help="The key's first 12 characters."), db: str | None = DB_OPTION
    ) -> None:
        """Revoke a key by its prefix."""
        from fleet.api.keys import revoke_key

        with session_scope(get_engine(database_url(db))) as s:
            n = revoke_key(s, prefix)
        if not n:
            raise fail(f"no active key starts with {prefix!r}")
        console.print(f"{n} key(s) revoked")
