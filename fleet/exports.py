"""Cells that cannot execute: the one helper every CSV/XLSX export passes its text through.

A spreadsheet program treats a cell starting with `=`, `+`, `-` or `@` (and, after a tab or carriage return,
the same) as a formula: an order reference `=1+1` or an address `=HYPERLINK(...)` imported by one party would
run on a driver's or auditor's machine. Such text is prefixed with an apostrophe (OWASP "CSV injection"), and
control characters that openpyxl cannot write (or that hide content) are replaced. Numbers stay numbers.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def safe_cell(value: Any) -> Any:
    """The value as it may be written to a CSV or XLSX cell: text that would be a formula gets a leading `'`."""
    if not isinstance(value, str):
        return value
    text = _CONTROL.sub("\ufffd", value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell and column name through `safe_cell`."""
    out = frame.copy()
    out.columns = [safe_cell(c) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = [safe_cell(v) for v in out[col]]
    return out


def safe_sheet_name(name: str) -> str:
    """An XLSX sheet name: at most 31 characters, none of []:*?/\\, not starting with a formula prefix."""
    cleaned = re.sub(r"[\[\]:*?/\\]", "_", _CONTROL.sub("_", str(name)))[:31] or "sheet"
    return "_" + cleaned[:30] if cleaned.startswith(("'",) + FORMULA_PREFIXES) else cleaned
