"""Commands of this capability (none yet)."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this module's commands to the `evfleet` app and its `bench` group."""
