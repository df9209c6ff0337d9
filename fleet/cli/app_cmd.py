"""`evfleet app`: `streamlit run` on the streamlit_app.py installed with evfleet, from any directory."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import typer

# The repository's .streamlit/config.toml is read only when streamlit starts in the checkout; an installed app
# gets its settings as defaults on the command line. Arguments given to `evfleet app` come later and win.
DEFAULT_ARGS = ("--client.toolbarMode", "viewer", "--browser.gatherUsageStats", "false")


def entry_script() -> Path:
    """The installed `streamlit_app.py` (found without importing it: importing would run the app)."""
    spec = importlib.util.find_spec("streamlit_app")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the streamlit_app module is not installed with evfleet")
    return Path(spec.origin)


def streamlit_command(extra: list[str]) -> list[str]:
    """`streamlit run` through `app_pages._server`, which imports the pages' modules before the server listens
    (the first visitor no longer pays them)."""
    return [sys.executable, "-m", "app_pages._server", "run", str(entry_script()), *DEFAULT_ARGS, *extra]


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("app", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def run_app(ctx: typer.Context) -> None:
        """Start the planner and lessor app; extra arguments go to `streamlit run` (e.g. --server.port)."""
        command = streamlit_command(list(ctx.args))
        if os.name == "posix":  # become streamlit: Ctrl-C and SIGTERM reach the server, not a launcher
            os.execv(command[0], command)
        raise typer.Exit(subprocess.call(command))
