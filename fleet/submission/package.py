"""Write the submission package: JSON, its schema, XLSX, PDF and a manifest of SHA-256 checksums.

The manifest is the only file that carries a timestamp, so the other files are reproducible byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fleet.submission.document import to_json_bytes
from fleet.submission.fields import SCHEMA_ID, SCHEMA_VERSION
from fleet.submission.pdf import pdf_bytes
from fleet.submission.schema import json_schema, validate
from fleet.submission.xlsx import workbook_bytes


@dataclass(frozen=True)
class PackageFiles:
    json: Path
    schema: Path
    xlsx: Path
    pdf: Path
    manifest: Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_package(document: dict, out_dir: Path, stem: str, now: datetime | None = None) -> PackageFiles:
    """Validate the document, then write `<stem>.json|.xlsx|.pdf`, the schema and `<stem>.manifest.json`."""
    problems = validate(document)
    if problems:
        raise ValueError("submission document does not match its schema: " + "; ".join(problems))
    out_dir.mkdir(parents=True, exist_ok=True)
    contents = {
        f"{stem}.json": to_json_bytes(document),
        f"{SCHEMA_ID}-{SCHEMA_VERSION}.schema.json": to_json_bytes(json_schema()),
        f"{stem}.xlsx": workbook_bytes(document),
        f"{stem}.pdf": pdf_bytes(document),
    }
    for name, data in contents.items():
        (out_dir / name).write_bytes(data)
    stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    manifest = {
        "report_id": document["report_id"],
        "schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "generated_at": stamp,
        "files": [
            {"name": name, "bytes": len(data), "sha256": sha256(data)}
            for name, data in sorted(contents.items())
        ],
    }
    manifest_path = out_dir / f"{stem}.manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    names = list(contents)
    return PackageFiles(
        json=out_dir / names[0],
        schema=out_dir / names[1],
        xlsx=out_dir / names[2],
        pdf=out_dir / names[3],
        manifest=manifest_path,
    )


def verify_manifest(manifest_path: Path) -> list[str]:
    """Files whose checksum no longer matches the manifest (empty when all match)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    bad = []
    for entry in manifest["files"]:
        path = manifest_path.parent / entry["name"]
        if not path.exists() or sha256(path.read_bytes()) != entry["sha256"]:
            bad.append(entry["name"])
    return bad
