"""Submission inputs that the database does not hold: the replaced diesel trucks and the identity fields.

`--baseline-trucks FILE` (CSV, columns `REPLACED_TRUCK_COLUMNS` of fields.py): per lease, the diesel truck it
replaced (plate, VIN) and its scrapping or sale record. `--identity FILE` (JSON, keys `IDENTITY_KEYS`): the
lessor's unified social credit code, the signatory and the third-party verifier. Missing entries stay empty in
the package and are flagged; nothing is guessed.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from fleet.submission.fields import DISPOSAL_KINDS, IDENTITY_KEYS, REPLACED_TRUCK_COLUMNS


@dataclass(frozen=True)
class ReplacedTruck:
    lease_id: str
    plate: str = ""
    vin: str = ""
    disposal: str = ""
    disposal_date: str = ""
    evidence: str = ""


@dataclass(frozen=True)
class SubmissionInputs:
    replaced_trucks: dict[str, ReplacedTruck] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)


def read_replaced_trucks(path: Path) -> dict[str, ReplacedTruck]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REPLACED_TRUCK_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
        out = {}
        for n, row in enumerate(reader, start=2):
            values = {c: (row.get(c) or "").strip() for c in REPLACED_TRUCK_COLUMNS}
            if values["disposal"] and values["disposal"] not in DISPOSAL_KINDS:
                raise ValueError(
                    f"{path.name} line {n}: field 'disposal' is {values['disposal']!r}, not one of {DISPOSAL_KINDS}"
                )
            out[values["lease_id"]] = ReplacedTruck(**values)
        return out


def read_identity(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    unknown = sorted(set(data) - set(IDENTITY_KEYS))
    if unknown:
        raise ValueError(
            f"{path.name}: unknown key(s) {', '.join(unknown)}; expected {', '.join(IDENTITY_KEYS)}"
        )
    return {k: str(data.get(k) or "") for k in IDENTITY_KEYS}


def load_inputs(replaced_trucks: Path | None = None, identity: Path | None = None) -> SubmissionInputs:
    return SubmissionInputs(
        read_replaced_trucks(replaced_trucks) if replaced_trucks else {},
        read_identity(identity) if identity else {},
    )
