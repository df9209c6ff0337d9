"""Recognise a routing problem file by its content and read it: evfleet JSON, Solomon/Homberger VRPTW text,
Schneider E-VRPTW text or an EVRP competition (``.evrp``) file.

Why by content: the benchmark sets ship as ``.txt`` whatever their layout, and a user handed a file should not
have to know which of four layouts it follows. Each layout has a marker no other has (JSON's opening brace,
E-VRPTW's ``StringID`` header row, the EVRP ``NODE_COORD_SECTION``/``TYPE: EVRP``, Solomon's ``VEHICLE`` and
``CUSTOMER`` blocks); a file with none of them is refused with what was looked for.
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from pathlib import Path

from routing.io.solomon import InstanceFormatError
from routing.problem import Objective, RoutingProblem


class ProblemFormat(str, Enum):
    """Layouts ``read_problem_file`` understands."""

    JSON = "json"
    SOLOMON = "solomon"
    EVRPTW = "evrptw"
    EVRP = "evrp"


FORMAT_LABEL = {
    ProblemFormat.JSON: "evfleet problem JSON",
    ProblemFormat.SOLOMON: "Solomon/Homberger VRPTW text",
    ProblemFormat.EVRPTW: "Schneider et al. (2014) E-VRPTW text",
    ProblemFormat.EVRP: "EVRP competition (CEC-12 2020, .evrp)",
}


def detect_format(path: str | Path) -> ProblemFormat:
    """The layout of ``path`` from its first 64 KiB; raises InstanceFormatError naming the markers looked for."""
    path = Path(path)
    try:
        with path.open("r", errors="replace") as fh:
            head = fh.read(65536)
    except OSError as exc:
        raise InstanceFormatError(f"{path}: cannot read ({exc.strerror})") from None
    text = head.lstrip("\ufeff \t\r\n")
    if not text:
        raise InstanceFormatError(f"{path}: empty file")
    if text.startswith("{"):
        return ProblemFormat.JSON
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    upper = [ln.upper() for ln in lines]
    if lines[0].lower().startswith("stringid"):
        return ProblemFormat.EVRPTW
    if "NODE_COORD_SECTION" in upper or any(
        u.replace(" ", "").startswith("TYPE:EVRP") and not u.replace(" ", "").startswith("TYPE:EVRPTW")
        for u in upper
    ):
        return ProblemFormat.EVRP
    if "VEHICLE" in upper and "CUSTOMER" in upper:
        return ProblemFormat.SOLOMON
    raise InstanceFormatError(
        f"{path}: format not recognised: expected evfleet JSON ('{{'), E-VRPTW (a 'StringID Type x y ...' "
        "header), EVRP competition (NODE_COORD_SECTION) or Solomon (VEHICLE and CUSTOMER blocks); "
        f"the file starts with {lines[0][:60]!r}"
    )


def open_fleet(problem: RoutingProblem) -> RoutingProblem:
    """The same problem with the fleet size left open: every vehicle type gets one vehicle per job (an upper
    bound no plan needs more than), so the search decides how many are used (``Objective.HIERARCHICAL``
    minimises that count first)."""
    n = max(1, len(problem.jobs))
    types = tuple(replace(vt, count=n) for vt in problem.vehicle_types)
    return replace(problem, vehicle_types=types)


def with_fleet(problem: RoutingProblem, fleet: str | int | None) -> RoutingProblem:
    """Apply a ``--fleet`` choice: None keeps the file's fleet, ``"auto"`` leaves it open (``open_fleet``), a
    positive integer sets the vehicle count of a single-type fleet."""
    if fleet is None:
        return problem
    if isinstance(fleet, str):
        text = fleet.strip().lower()
        if text == "auto":
            return open_fleet(problem)
        try:
            fleet = int(text)
        except ValueError:
            raise ValueError(f"--fleet {fleet!r}: expected 'auto' or a positive integer") from None
    if fleet < 1:
        raise ValueError(f"--fleet {fleet}: must be 'auto' or a positive integer")
    if len(problem.vehicle_types) != 1:
        raise ValueError(
            f"--fleet {fleet}: the problem has {len(problem.vehicle_types)} vehicle types; a number sets a "
            "single type's count (use 'auto', or edit the counts in the problem file)"
        )
    return replace(problem, vehicle_types=(replace(problem.vehicle_types[0], count=fleet),))


def read_problem_file(
    path: str | Path,
    fmt: ProblemFormat | None = None,
    objective: Objective | None = None,
    fleet: str | int | None = None,
) -> tuple[RoutingProblem, ProblemFormat]:
    """Read ``path`` in ``fmt`` (None: detected by content) as a ``RoutingProblem``; returns it with the format
    read. ``objective`` overrides the file's (or the format's default), ``fleet`` as ``with_fleet``."""
    fmt = detect_format(path) if fmt is None else fmt
    if fmt is ProblemFormat.SOLOMON:
        from routing.io.solomon import read_solomon, solomon_to_problem

        problem = solomon_to_problem(read_solomon(path), objective=objective)
    elif fmt is ProblemFormat.EVRPTW:
        from routing.io.evrptw import evrptw_to_problem, read_evrptw

        problem = evrptw_to_problem(read_evrptw(path), objective=objective)
    elif fmt is ProblemFormat.EVRP:
        from routing.io.evrp import evrp_to_problem, read_evrp

        problem = evrp_to_problem(read_evrp(path), objective=objective)
    else:
        from routing.io.json_io import read_problem_json

        problem = read_problem_json(path)
        if objective is not None:
            problem = replace(problem, objective=objective)
    return with_fleet(problem, fleet), fmt
