"""Benchmark result files in the format of `docs/benchmarks.md` ('Result files').

`{"results": [{"instance", "routes", "distance", "vehicles", "seconds", "feasible", ...}]}`: Solomon routes
list customer numbers (depot 0 left out), E-VRPTW routes list StringIDs with stations, depot D0 left out at
both ends. Extra keys per entry (solver, seed, gap, violations) are allowed; readers of this format
ignore them. Peer-solver results of the same run go under `"peer_results"` in the same shape.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BenchResult:
    """One solver's answer on one instance, with the checker's verdict (`feasible`, `violations`)."""

    instance: str
    routes: list[list[int | str]]
    distance: float
    vehicles: int
    seconds: float
    feasible: bool
    solver: str = "evfleet"
    violations: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        extra = d.pop("extra")
        d["distance"] = round(self.distance, 6) if math.isfinite(self.distance) else None  # no solution
        d["seconds"] = round(self.seconds, 3)
        d.update(extra)
        return d


def write_results(
    path: str | Path,
    results: list[BenchResult],
    peer_results: list[BenchResult] | None = None,
    meta: dict[str, Any] | None = None,
) -> None:
    """Write the shared result format (plus `peer_results` and `meta` when given)."""
    doc: dict[str, Any] = {"results": [r.to_dict() for r in results]}
    if peer_results:
        doc["peer_results"] = [r.to_dict() for r in peer_results]
    if meta:
        doc["meta"] = meta
    Path(path).write_text(json.dumps(doc, indent=1) + "\n")


def read_results(path: str | Path, key: str = "results") -> list[dict[str, Any]]:
    """Entries of a result file (`key` = 'results' or 'peer_results')."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON result file ({exc})") from None
    entries = data.get(key, []) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        # A malformed file is a bad value, not a programming error: callers catch ValueError for both cases.
        raise ValueError(f"{path}: {key!r} must be a list")  # noqa: TRY004
    return entries
