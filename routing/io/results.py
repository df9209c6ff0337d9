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

    @classmethod
    def from_dict(cls, entry: dict[str, Any], solver: str = "evfleet") -> BenchResult:
        """The inverse of ``to_dict`` (a missing distance is no solution: inf); keys it does not know go to
        ``extra``. ``solver`` names the solver when the entry does not."""
        distance = entry.get("distance")
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        return cls(
            str(entry["instance"]),
            entry.get("routes") or [],
            math.inf if distance is None else float(distance),
            int(entry.get("vehicles") or 0),
            float(entry.get("seconds") or 0.0),
            bool(entry.get("feasible")),
            str(entry.get("solver") or solver),
            list(entry.get("violations") or []),
            {k: v for k, v in entry.items() if k not in known},
        )


@dataclass(frozen=True)
class ResultFile:
    """A whole result file: our entries, the peer's of the same run, and the run's ``meta`` (may be empty)."""

    results: list[dict[str, Any]]
    peer_results: list[dict[str, Any]]
    meta: dict[str, Any]


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


def read_result_file(path: str | Path) -> ResultFile:
    """A result file's entries and meta; ValueError naming the file when it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON result file ({exc})") from None
    if not isinstance(data, dict):
        # A malformed file is a bad value, not a programming error: callers catch ValueError for both cases.
        raise ValueError(f"{path}: not a JSON object with 'results'")  # noqa: TRY004
    parts = {}
    for key in ("results", "peer_results", "meta"):
        value = data.get(key) or ([] if key != "meta" else {})
        if not isinstance(value, dict if key == "meta" else list):
            raise ValueError(f"{path}: {key!r} must be {'an object' if key == 'meta' else 'a list'}")  # noqa: TRY004
        parts[key] = value
    return ResultFile(parts["results"], parts["peer_results"], parts["meta"])


def read_results(path: str | Path, key: str = "results") -> list[dict[str, Any]]:
    """Entries of a result file (`key` = 'results' or 'peer_results')."""
    doc = read_result_file(path)
    return doc.results if key == "results" else doc.peer_results
