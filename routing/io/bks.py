"""Best-known-solution tables of the benchmark suites (`bks.csv` in each suite's benchmark folder).

Columns used (see `docs/benchmarks.md`): Solomon `vehicles`, `distance` (hierarchical BKS: fewest
vehicles, then distance), `distance_only_bks` (+ `_vehicles`, `distance_only_flag`); E-VRPTW `size`,
`vehicles`, `distance`, `optimal` ("yes ..." proven, "not proven ...", "unknown").
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from routing.io.solomon import InstanceFormatError


@dataclass(frozen=True)
class BestKnown:
    """One row of a BKS table; distance in instance units."""

    instance: str
    vehicles: int
    distance: float
    size: int | None = None
    optimal: bool | None = None
    """True: proven optimal; False: not proven; None: unknown."""
    distance_only: float | None = None
    distance_only_vehicles: int | None = None
    distance_only_flag: str = ""


def read_bks(path: str | Path) -> dict[str, BestKnown]:
    """Read either suite's `bks.csv`, keyed by instance name (as in the file, e.g. 'R101', 'c101C5')."""
    path = Path(path)
    try:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise InstanceFormatError(f"{path}: cannot read ({exc.strerror})") from None
    table: dict[str, BestKnown] = {}
    for line, row in enumerate(rows, start=2):
        if row.get("instance") and not row.get("vehicles") and not row.get("distance"):
            continue  # an instance listed without a best-known solution (Homberger C1_2_3): gap unknown
        for col in ("instance", "vehicles", "distance"):
            if not row.get(col):
                raise InstanceFormatError(f"{path}:{line}: column {col!r} is empty or missing")
        name = row["instance"].strip()
        table[name] = BestKnown(
            instance=name,
            vehicles=_int(path, line, "vehicles", row["vehicles"]),
            distance=_float(path, line, "distance", row["distance"]),
            size=_int(path, line, "size", row["size"]) if row.get("size") else None,
            optimal=_optimal(row.get("optimal")),
            distance_only=_float(path, line, "distance_only_bks", row["distance_only_bks"])
            if row.get("distance_only_bks")
            else None,
            distance_only_vehicles=_int(
                path, line, "distance_only_bks_vehicles", row["distance_only_bks_vehicles"]
            )
            if row.get("distance_only_bks_vehicles")
            else None,
            distance_only_flag=(row.get("distance_only_flag") or "").strip(),
        )
    return table


def _optimal(text: str | None) -> bool | None:
    if not text:
        return None
    t = text.strip().lower()
    if t.startswith("yes"):
        return True
    if t.startswith(("not proven", "no")):
        return False
    return None


def _float(path: Path, line: int, col: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InstanceFormatError(f"{path}:{line}: column {col!r} = {text!r} is not a number") from None


def _int(path: Path, line: int, col: str, text: str) -> int:
    value = _float(path, line, col, text)
    if value != int(value):
        raise InstanceFormatError(f"{path}:{line}: column {col!r} = {text!r} is not an integer")
    return int(value)
