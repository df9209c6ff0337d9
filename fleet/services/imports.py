"""Fleet & leases page, Import tab: what a scope may import, templates, and the all-or-nothing upload with its
row-level error report (`fleet.importers`)."""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path

import pandas as pd
from sqlmodel import Session

from fleet.errors import describe_error
from fleet.importers import SPECS, ImportFailed, ImportResult, RowError, import_file
from fleet.services.fleet_leases import LESSOR_ONLY, FormRejected
from fleet.services.scope import in_scope

__all__ = [
    "IMPORT_KINDS",
    "ImportFailed",
    "ImportResult",
    "describe_error",
    "errors_frame",
    "import_columns",
    "import_kinds",
    "import_template_csv",
    "import_upload",
]

IMPORT_KINDS: tuple[str, ...] = tuple(SPECS)


def import_kinds(lessee_code: str | None) -> tuple[str, ...]:
    """What the scope may import: a lessee everything but leases (those are the lessor's contracts)."""
    return IMPORT_KINDS if lessee_code is None else tuple(k for k in IMPORT_KINDS if k != "leases")


def import_columns(kind: str) -> list[tuple[str, bool]]:
    """(column, required) of an import kind, for the template and the help text."""
    return [(c.name, c.required) for c in SPECS[kind].columns] + (
        [("lessee_code", False)] if kind in ("vehicles", "leases") else []
    )


def import_template_csv(kind: str) -> bytes:
    """A header-only CSV for `kind` (UTF-8 with BOM so spreadsheet programs open it as UTF-8)."""
    return (",".join(name for name, _ in import_columns(kind)) + "\n").encode("utf-8-sig")


def import_upload(
    session: Session,
    lessee_code: str | None,
    kind: str,
    filename: str,
    content: bytes,
    import_lessee: str | None = None,
    decimal: str = ".",
    encoding: str | None = None,
) -> ImportResult:
    """Import an uploaded file through `fleet.importers.import_file`, all or nothing.

    Raises `ImportFailed` with the row-level errors. `import_lessee` names the owning lessee in the lessor's
    view (needed for orders); in a lessee's scope it must be that lessee or empty.
    """
    if kind not in import_kinds(lessee_code):
        raise ImportFailed(
            [
                RowError(
                    Path(filename).name,
                    0,
                    "",
                    kind,
                    LESSOR_ONLY
                    if kind == "leases"
                    else f"unknown import kind; one of {', '.join(IMPORT_KINDS)}",
                )
            ]
        )
    suffix = Path(filename).suffix.lower()
    safe_name = Path(filename.replace("\\", "/")).name.replace("\x00", "") or f"upload{suffix}"
    try:
        with tempfile.TemporaryDirectory(prefix="evfleet-upload-") as tmp:
            path = Path(tmp) / safe_name
            path.write_bytes(content)
            scope = in_scope(session, lessee_code)
            return import_file(
                session,
                scope,
                kind,
                path,
                lessee_code=import_lessee or None,
                decimal=decimal,
                encoding=encoding,
            )
    except ImportFailed:
        raise
    except Exception as exc:  # scope refusal, database gone, unreadable upload: one message, nothing written
        raise ImportFailed([RowError(safe_name, 0, "", "", describe_error(exc))]) from exc


def errors_frame(exc: ImportFailed | FormRejected) -> pd.DataFrame:
    """The error report of a failed import or form as a table (one row per bad cell)."""
    if isinstance(exc, ImportFailed):
        return pd.DataFrame(
            [asdict(e) for e in exc.errors], columns=["file", "row", "column", "value", "reason"]
        )
    return pd.DataFrame([asdict(e) for e in exc.errors], columns=["field", "value", "reason"])
