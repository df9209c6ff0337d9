"""`evfleet bench finance`: time the demo portfolio report (target < 2 s) and a scenario with its tornado."""

from __future__ import annotations

import dataclasses
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

TARGET_S = 2.0
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of repeated runs of one case."""

    case: str
    runs: int
    min_s: float
    median_s: float
    max_s: float
    target_s: float | None
    detail: str

    @property
    def meets_target(self) -> bool | None:
        return None if self.target_s is None else self.max_s < self.target_s


def _time(case: str, runs: int, target: float | None, detail: str, call: Callable[[], Any]) -> Timing:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return Timing(case, runs, min(seconds), statistics.median(seconds), max(seconds), target, detail)


def demo_database(directory: Path) -> str:
    """A fresh SQLite database with the schema migrated and the demo loaded; returns its URL."""
    from fleet.db import make_engine
    from fleet.demo.load import load_demo
    from fleet.migrate import upgrade

    url = f"sqlite:///{directory / 'bench-finance.db'}"
    upgrade(url)
    engine = make_engine(url)
    load_demo(engine)
    engine.dispose()
    return url


def run(runs: int = 5, db: str | None = None) -> list[Timing]:
    """Time the portfolio report in-process and through the CLI, and one scenario with its tornado."""
    from fleet.db import make_engine, session_scope
    from fleet.finance import from_db
    from fleet.finance.evaluate import evaluate
    from fleet.finance.scenario import read_scenario_file
    from fleet.finance.sensitivity import tornado
    from fleet.scope import scope_for

    with tempfile.TemporaryDirectory() as tmp:
        url = db or demo_database(Path(tmp))
        engine = make_engine(url)

        def portfolio() -> None:
            with session_scope(engine) as session:
                from_db.portfolio_report(session, scope_for(session))

        with session_scope(engine) as session:
            result, _ = from_db.portfolio(session, scope_for(session))
        detail = f"{result.total.leases} leases, {len(result.by_lessee)} lessees, {result.total.flows.months} months"
        timings = [_time("portfolio report (in process)", runs, TARGET_S, detail, portfolio)]
        command = [sys.executable, "-m", "fleet.cli.main", "roi", "--portfolio", "--db", url, "--json"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli_runs = max(1, min(runs, 3))
        cli = _time(
            "evfleet roi --portfolio --json (new process)",
            cli_runs,
            TARGET_S,
            "",
            lambda: subprocess.run(command, cwd=REPO_ROOT, check=True, capture_output=True),
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / cli_runs
        load = os.getloadavg()[0]
        timings.append(
            dataclasses.replace(
                cli, detail=f"interpreter start + imports; {cpu:.2f} s CPU per run; load average {load:.1f}"
            )
        )
        engine.dispose()

    example = read_scenario_file(Path(__file__).with_name("examples") / "shenzhen_4_5t.json")
    timings.append(
        _time(
            "scenario + tornado (6 drivers)",
            runs,
            None,
            "examples/shenzhen_4_5t.json",
            lambda: (evaluate(example.base), tornado(example.base)),
        )
    )
    return timings


def as_json(timings: list[Timing]) -> list[dict[str, Any]]:
    """Timings as JSON-ready rows."""
    return [{**asdict(t), "meets_target": t.meets_target} for t in timings]
