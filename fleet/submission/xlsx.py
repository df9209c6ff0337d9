"""The submission workbook: summary, per vehicle, monthly, monitoring data, parameters and factors, data quality.

Written from the same document as the JSON. openpyxl stamps the time into the core properties and the zip
entries; both are pinned so the same document gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from fleet.submission.fields import FIELDS, get_path

FIXED_TIME = datetime(2000, 1, 1)
BOLD = Font(bold=True)


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[object]]) -> None:
    ws = wb.create_sheet(title)
    ws.append(header)
    for cell in ws[1]:
        cell.font = BOLD
    for row in rows:
        ws.append([_cell(v) for v in row])
    for column, name in zip(ws.columns, header):
        width = max([len(str(name))] + [len(str(c.value)) for c in list(column)[:200] if c.value is not None])
        ws.column_dimensions[column[0].column_letter].width = min(60, width + 2)
    ws.freeze_panes = "A2"


def _cell(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return value


def _rows(items: list[dict], keys: list[str]) -> list[list[object]]:
    return [[item.get(k) for k in keys] for item in items]


def workbook_bytes(document: dict) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
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
    method_rows = [[k, _cell(v)] for k, v in method.items() if k != "grid_factor"]
    method_rows += [[f"grid_factor.{k}", _cell(v)] for k, v in method["grid_factor"].items()]
    _sheet(wb, "Methodology", ["item", "value"], method_rows)

    quality = document["data_quality"]
    flag_keys = ["row_ref", "vehicle_id", "day", "code", "message"]
    _sheet(wb, "Data quality", flag_keys, _rows(quality["flags"], flag_keys))
    _sheet(
        wb,
        "Data gaps",
        ["vehicle_id", "first_day", "last_day", "days"],
        _rows(quality["gaps"], ["vehicle_id", "first_day", "last_day", "days"]),
    )
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

    raw = io.BytesIO()
    wb.save(raw)
    return _pin_zip_times(raw.getvalue())


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
