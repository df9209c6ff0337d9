"""Route sheets a driver can use: one printed page set per truck, in the planner's language.

Per truck one worksheet: the stops in order with the customer (or the address when orders carry no customer
name), order reference, window, planned arrival and departure, goods and charge, rounded for reading (kg and kWh
to 0.1, coordinates to 1e-5 deg, about 1 m). Laid out for printing: landscape A4, fitted to one page wide, the
header row repeated on every page, a print area, column widths from the content, a page header naming truck,
depot and date and a "page N of M" footer. Phone and notes columns appear when the orders carry them.

Every text cell (and header) passes `fleet.exports.safe_cell`: an address or reference starting with `=`, `+`,
`-`, `@` cannot run as a formula on the driver's machine.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import pandas as pd

from fleet.exports import safe_cell, safe_sheet_name
from fleet.i18n import Column, _, column_labels, fmt_date, rounded
from fleet.services.frames import hhmm
from fleet.services.route_labels import KIND_LABELS, ROUTE_DISPLAY, SHEET_COLUMNS
from fleet.services.route_planner import RoutePlanView

OPTIONAL = ("phone", "notes")  # shown only when some order carries them


def driver_sheet(
    view: RoutePlanView, vehicle: str, details: Mapping[str, Mapping[str, Any]] | None = None
) -> pd.DataFrame:
    """One truck's stops for the driver, untranslated column keys (`SHEET_COLUMNS`), numbers rounded.

    The customer, phone and notes come from the view's stops (the orders' own columns); `details` (order
    reference -> {"customer", "phone", "notes"}) overrides them where given."""
    details = details or {}
    stops = view.stops[view.stops["vehicle"] == vehicle].reset_index(drop=True)
    rows = []
    for s in stops.itertuples(index=False):
        extra: Mapping[str, Any] = {}
        if s.kind == "job":
            own = {k: getattr(s, k, "") for k in ("customer", "phone", "notes")}
            extra = {
                k: v for k, v in {**own, **details.get(str(s.stop), {})}.items() if isinstance(v, str) and v
            }
        place = extra.get("customer") or (s.address if s.kind == "job" else "") or str(s.stop)
        rows.append(
            {
                "seq": int(s.seq),
                "kind": _(KIND_LABELS.get(s.kind, s.kind)),
                "name": place,
                "stop": s.stop,
                "address": s.address,
                "phone": extra.get("phone", ""),
                "notes": extra.get("notes", ""),
                "window": s.window,
                "arrival": hhmm(s.arrival),
                "departure": hhmm(s.departure),
                "demand_kg": s.demand_kg,
                "load_kg": s.load_kg,
                "soc_arrival_kwh": s.soc_arrival_kwh,
                "charged_kwh": s.charged_kwh,
                "lat": s.lat,
                "lon": s.lon,
            }
        )
    frame = rounded(pd.DataFrame(rows, columns=list(SHEET_COLUMNS)), SHEET_COLUMNS)
    return frame.drop(columns=[c for c in OPTIONAL if not frame[c].astype(str).str.strip().any()])


def _number_format(digits: int | None) -> str:
    return "General" if digits is None else "#,##0" + ("." + "0" * digits if digits else "")


def _write_table(ws: Any, frame: pd.DataFrame, specs: Mapping[str, Column]) -> None:
    """Header row 1 and the rows, every text cell inert, numbers with their rounding, widths from the content."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    labels = column_labels({k: specs[k] for k in frame.columns})
    ws.append([safe_cell(labels[k]) for k in frame.columns])
    for row in frame.itertuples(index=False):
        ws.append([None if isinstance(v, float) and pd.isna(v) else safe_cell(v) for v in row])
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for j, key in enumerate(frame.columns, start=1):
        letter = get_column_letter(j)
        fmt = _number_format(specs[key].digits)
        for cell in ws[letter][1:]:
            cell.number_format = fmt
            if key in ("address", "notes", "name"):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        # CJK characters print about twice as wide as Latin ones.
        width = max([_display_width(str(labels[key])) / 1.6] + [_display_width(str(v)) for v in frame[key]])
        ws.column_dimensions[letter].width = min(max(6.0, width + 2.0), 40.0)
    ws.freeze_panes = "A2"


def _display_width(text: str) -> float:
    return float(sum(2 if ord(ch) > 0x2E80 else 1 for ch in text))


def _print_setup(ws: Any, title: str) -> None:
    """Landscape A4, one page wide, header row on every page, print area, page header and numbered footer."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.print_area = ws.dimensions
    ws.print_options.gridLines = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddHeader.center.text = title.replace("&", "&&")  # & starts a header code
    ws.oddFooter.center.text = _("Page &P of &N")


def route_sheets_workbook(
    view: RoutePlanView, details: Mapping[str, Mapping[str, Any]] | None = None
) -> bytes:
    """All drivers' sheets in one workbook: a "routes" summary sheet, then one worksheet per truck (named by
    plate), each laid out for printing (see module docstring). Labels in the current locale."""
    from openpyxl import Workbook

    book = Workbook()
    summary_ws = book.active
    summary_ws.title = "routes"
    summary = view.routes.drop(columns=["colour"]).copy()
    for col in ("departure", "return"):
        summary[col] = [hhmm(t) for t in summary[col]]
    summary["kind"] = [_(KIND_LABELS.get(k, k)) for k in summary["kind"]]
    _write_table(summary_ws, rounded(summary[list(ROUTE_DISPLAY)], ROUTE_DISPLAY), ROUTE_DISPLAY)
    day = fmt_date(view.service_date)
    _print_setup(summary_ws, _("Routes {depot} · {date}").format(depot=view.depot_code, date=day))
    used = {"routes"}
    for vehicle in view.routes["vehicle"]:
        name = safe_sheet_name(str(vehicle))
        while name in used:
            name = name[:28] + f"~{len(used)}"
        used.add(name)
        ws = book.create_sheet(name)
        _write_table(ws, driver_sheet(view, vehicle, details), SHEET_COLUMNS)
        _print_setup(
            ws,
            _("Route sheet {truck} · {depot} · {date}").format(
                truck=vehicle, depot=view.depot_code, date=day
            ),
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
