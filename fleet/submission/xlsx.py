"""The submission workbook: summary, per vehicle, monthly, monitoring data, parameters and factors, data quality,
and the sections of issue 19 (requirements, identity, baseline and replaced trucks, uncertainty, monitoring custody,
gap split, intensities with the withheld reduction, the run rate per lease).

Every text cell passes through fleet.exports.safe_cell: a lessee name or row reference starting with `=`, `+`,
`-`, `@`, tab or CR is written with a leading apostrophe and cannot run as a formula. Key/value sheets carry the
JSON path of each value, so each cell can be checked against the JSON.

Written from the same document as the JSON. openpyxl stamps the time into the core properties and the zip
entries; both are pinned so the same document gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from math import isinf, isnan
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fleet.exports import safe_cell
from fleet.submission.fields import FIELDS, get_path

FIXED_TIME = datetime(2000, 1, 1)
BOLD = Font(bold=True)


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[object]]) -> None:
    """One sheet in write-only mode: rows are streamed to the file as they are appended (the monitoring sheet of a
    400-truck lessee's year is 146,000 rows; openpyxl's normal mode keeps a cell object per value, 72 % of the
    package's time in docs/scale.md). Column widths and the frozen header are set before the first row, widths from
    the header and the first 199 rows as before."""
    ws = wb.create_sheet(title)
    cells = ([_cell(v) for v in row] for row in rows)
    head = [safe_cell(h) for h in header]
    sample: list[list[object]] = []
    for row in cells:
        sample.append(row)
        if len(sample) == 199:
            break
    for index, name in enumerate(head):
        values = [str(name)] + [str(r[index]) for r in sample if index < len(r) and r[index] is not None]
        ws.column_dimensions[get_column_letter(index + 1)].width = min(60, max(len(v) for v in values) + 2)
    ws.freeze_panes = "A2"
    # The size, known before the rows are streamed (write-only sheets leave it out): readers in read-only mode
    # pad short rows (trailing empty cells) to it, as they did with the normal-mode file.
    width = max([len(head)] + [len(r) for r in rows])
    ws.calculate_dimension = lambda: f"A1:{get_column_letter(width)}{len(rows) + 1}"
    header_cells = []
    for name in head:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = BOLD
        header_cells.append(cell)
    ws.append(header_cells)
    rest = [*sample, *cells]
    if len(rest) >= STREAM_ROWS and all(_streamable(v) for row in rest for v in row):
        ws._evfleet_rows = rest  # written as XML after the save (_splice_rows): openpyxl's cell path is slow
        return
    for row in rest:
        ws.append(row)


STREAM_ROWS = 1000
"""Sheets with at least this many rows get their data rows written by `_rows_xml` instead of openpyxl's cell
objects (the 146,000-row monitoring sheet: ~40 s of CPU through openpyxl's write-only cells)."""

_NUMBER = (int, float)


def _streamable(value: object) -> bool:
    """Values `_rows_xml` writes exactly as openpyxl would; anything else keeps the sheet on openpyxl's path."""
    if value is None or isinstance(value, _NUMBER):
        return True
    return isinstance(value, str) and len(value) <= 32767 and not ILLEGAL_CHARACTERS_RE.search(value)


def _rows_xml(rows: list[list[object]], first_row: int) -> str:
    """`<row>` elements as openpyxl writes them (openpyxl/cell/_writer.py, 3.1): text as inline strings with
    xml:space="preserve" when padded, numbers as "%.16g" (NaN and inf empty), booleans as 1/0, None left out."""
    width = max((len(r) for r in rows), default=0)
    letters = [get_column_letter(i + 1) for i in range(width)]
    out: list[str] = []
    for n, row in enumerate(rows, first_row):
        out.append(f'<row r="{n}">')
        for letter, value in zip(letters, row):
            ref = f"{letter}{n}"
            if value is None:
                continue
            if isinstance(value, str):
                if value == "":
                    out.append(f'<c r="{ref}" t="inlineStr"/>')
                    continue
                stripped = value.strip()
                space = ' xml:space="preserve"' if stripped and stripped != value else ""
                out.append(f'<c r="{ref}" t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>')
            else:
                kind = "b" if isinstance(value, bool) else "n"
                text = "" if isnan(value) or isinf(value) else f"{value:.16g}"
                out.append(f'<c r="{ref}" t="{kind}"><v>{text}</v></c>')
        out.append("</row>")
    return "".join(out)


def _splice_rows(data: bytes, streamed: dict[str, list[list[object]]]) -> bytes:
    """The saved workbook with each streamed sheet's data rows written after its header row."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            rows = streamed.get(info.filename)
            if rows is not None:
                head, tail = content.split(b"</sheetData>", 1)
                content = head + _rows_xml(rows, 2).encode("utf-8") + b"</sheetData>" + tail
            target.writestr(info, content)
    return out.getvalue()


def _cell(value: object) -> object:
    """A JSON value as one cell: lists and dicts joined, text made inert (safe_cell)."""
    if isinstance(value, (list, tuple)):
        return safe_cell("; ".join(str(v) for v in value))
    if isinstance(value, dict):
        return safe_cell("; ".join(f"{k}={v}" for k, v in value.items()))
    return safe_cell(value)


def flatten(node: object, path: str) -> list[tuple[str, object]]:
    """(JSON path, value) for every scalar under `node`; lists of scalars stay one value, lists of objects are
    left to their own sheets."""
    if isinstance(node, dict):
        out: list[tuple[str, object]] = []
        for k, v in node.items():
            out += flatten(v, f"{path}.{k}")
        return out
    if isinstance(node, list) and any(isinstance(v, dict) for v in node):
        return []
    return [(path, node)]


KV_SHEETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Identity", ("parties.lessee", "parties.lessor", "identity")),
    ("Baseline", ("baseline",)),
    ("Uncertainty", ("uncertainty",)),
    ("Monitoring", ("monitoring",)),
    (
        "Gap split",
        (
            "data_quality.gap_days",
            "data_quality.gap_days_before_monitoring",
            "data_quality.gap_days_missing_monitored",
            "data_quality.future_days",
            "data_quality.gap_kinds",
            "data_quality.gaps_checked_until",
        ),
    ),
    (
        "Intensity",
        (
            "results.intensity",
            "methodology.reduction_withheld",
            "results.ex_post.reduction_tco2e",
            "results.ex_post.project_tco2e",
        ),
    ),
    ("Run rate", ("impact_indicators",)),
)
"""Key/value sheets: (title, JSON paths flattened into rows of json_path, value)."""

TABLE_SHEETS: tuple[tuple[str, str], ...] = (
    ("Requirements", "methodology.requirements"),
    ("Replaced trucks", "baseline.replaced_trucks"),
    ("Uncertainty drivers", "uncertainty.drivers"),
    ("Monitoring sources", "monitoring.sources"),
    ("Run rate per lease", "impact_indicators.annualisation"),
)
"""Sheets with one row per item of a JSON list: (title, JSON path)."""


def _optional(document: dict, path: str) -> object:
    try:
        return get_path(document, path)
    except KeyError:
        return None


def _rows(items: list[dict], keys: list[str]) -> list[list[object]]:
    return [[item.get(k) for k in keys] for item in items]


def workbook_bytes(document: dict) -> bytes:
    wb = Workbook(write_only=True)
    wb.properties.creator = "evfleet"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.lastModifiedBy = "evfleet"

    summary = [[f.label_en, f.label_zh, get_path(document, f.path), f.unit, f.path, f.origin] for f in FIELDS]
    _sheet(wb, "Summary", ["field", "字段", "value", "unit", "json_path", "origin"], summary)

    vehicle_keys = list(document["vehicles"][0].keys()) if document["vehicles"] else ["vehicle_id"]
    _sheet(wb, "Per vehicle", vehicle_keys, _rows(document["vehicles"], vehicle_keys))

    monthly = document["results"]["monthly"]
    _sheet(wb, "Monthly", list(monthly[0].keys()), _rows(monthly, list(monthly[0].keys())))

    day_keys = [
        "vehicle_id",
        "day",
        "km",
        "grid_kwh",
        "tonne_km",
        "baseline_method",
        "ir_t",
        "baseline_tco2e",
        "project_tco2e",
        "leakage_tco2e",
        "reduction_tco2e",
        "grid_key",
        "row_ref",
    ]
    _sheet(wb, "Monitoring data", day_keys, _rows(document["monitoring_data"], day_keys))

    param_keys = ["name", "value", "unit", "key", "data_year", "source", "confidence"]
    _sheet(wb, "Parameters", param_keys, _rows(document["parameters"], param_keys))
    factor_keys = ["key", "value", "unit", "data_year", "scope", "region", "source", "confidence", "note"]
    _sheet(wb, "Factors", factor_keys, _rows(document["factors"], factor_keys))

    method = document["methodology"]
    method_rows = [[k, _cell(v)] for k, v in method.items() if k not in ("grid_factor", "requirements")]
    method_rows += [[f"grid_factor.{k}", _cell(v)] for k, v in method["grid_factor"].items()]
    _sheet(wb, "Methodology", ["item", "value"], method_rows)

    quality = document["data_quality"]
    flag_keys = ["row_ref", "vehicle_id", "day", "code", "message"]
    _sheet(wb, "Data quality", flag_keys, _rows(quality["flags"], flag_keys))
    gap_keys = ["vehicle_id", "first_day", "last_day", "days", "kind"]
    _sheet(wb, "Data gaps", gap_keys, _rows(quality["gaps"], gap_keys))
    attribution = document["attribution"]
    _sheet(
        wb,
        "Attribution",
        ["vehicle_id", "claimant_id", "vehicle_days", "reduction_tco2e"],
        _rows(
            attribution["attributed_elsewhere"],
            ["vehicle_id", "claimant_id", "vehicle_days", "reduction_tco2e"],
        ),
    )

    for title, paths in KV_SHEETS:
        rows = [[path, value] for root in paths for path, value in flatten(_optional(document, root), root)]
        _sheet(wb, title, ["json_path", "value"], rows)
    for title, path in TABLE_SHEETS:
        items = _optional(document, path) or []
        keys = list(dict.fromkeys(k for item in items for k in item)) or ["(none)"]
        _sheet(wb, title, keys, _rows(items, keys))

    raw = io.BytesIO()
    wb.save(raw)
    streamed = {
        ws.path.lstrip("/"): ws._evfleet_rows for ws in wb.worksheets if getattr(ws, "_evfleet_rows", None)
    }
    data = _splice_rows(raw.getvalue(), streamed) if streamed else raw.getvalue()
    return _pin_zip_times(data)


def _pin_zip_times(data: bytes) -> bytes:
    """Rewrite the zip with fixed entry times and order so equal content gives equal bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            pinned = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = 0o600 << 16
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets 'modified' to the save time
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2000-01-01T00:00:00Z\g<2>",
                    data,
                )
            target.writestr(pinned, data)
    return out.getvalue()


def write_workbook(document: dict, path: Path) -> Path:
    path.write_bytes(workbook_bytes(document))
    return path
