"""The write-only workbook (fleet.submission.xlsx) holds exactly what openpyxl's normal mode wrote before: the same
sheets, cells, bold header, frozen panes and column widths. The reference below is the former `_sheet`, kept here
only to compare against."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from fleet.exports import safe_cell
from fleet.factors import FactorRegistry
from fleet.submission import xlsx
from fleet.submission.xlsx import BOLD, _cell, workbook_bytes

from .test_submission import make_document


def _normal_mode_sheet(wb: Workbook, title: str, header: list[str], rows: list[list[object]]) -> None:
    """The former writer (normal mode, a cell object per value)."""
    ws = wb.create_sheet(title)
    ws.append([safe_cell(h) for h in header])
    for cell in ws[1]:
        cell.font = BOLD
    for row in rows:
        ws.append([_cell(v) for v in row])
    for column, name in zip(ws.columns, header):
        width = max([len(str(name))] + [len(str(c.value)) for c in list(column)[:200] if c.value is not None])
        ws.column_dimensions[column[0].column_letter].width = min(60, width + 2)
    ws.freeze_panes = "A2"


def _normal_mode_bytes(document: dict, monkeypatch) -> bytes:
    """workbook_bytes with the former sheet writer and a normal-mode workbook."""
    monkeypatch.setattr(xlsx, "_sheet", _normal_mode_sheet)

    def normal_workbook(write_only: bool = False) -> Workbook:
        wb = Workbook()
        wb.remove(wb.active)
        return wb

    monkeypatch.setattr(xlsx, "Workbook", normal_workbook)
    try:
        return workbook_bytes(document)
    finally:
        monkeypatch.undo()


def _contents(data: bytes) -> dict[str, dict]:
    wb = load_workbook(io.BytesIO(data))
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = {
            "cells": [[(c.value, c.data_type) for c in row] for row in ws.iter_rows()],
            "bold": [bool(c.font and c.font.b) for c in ws[1]],
            "widths": {k: d.width for k, d in ws.column_dimensions.items() if d.width},
            "freeze": ws.freeze_panes,
        }
    for ws in load_workbook(
        io.BytesIO(data), read_only=True
    ).worksheets:  # read-only readers see the same size
        out[ws.title]["read_only"] = [tuple(r) for r in ws.iter_rows(values_only=True)]
    return out


def test_write_only_workbook_matches_the_normal_mode_workbook(registry: FactorRegistry, monkeypatch) -> None:
    document = make_document(registry)
    document["monitoring_data"][0]["row_ref"] = "=1+1"  # text that looks like a formula stays inert in both
    # rows past the 199 that set the widths: a long value there must not widen the column in either writer
    extra = [dict(row, vehicle_id="V" * 40) for row in document["monitoring_data"] * 5]
    # values the XML writer must write as openpyxl does: padded, escaped, empty, boolean, huge and tiny numbers
    odd = [" padded ", "a&b<c>\"'", "", True, False, 1e300, -2.5e-12, 12345678901234567890, 0.1 + 0.2, "中文"]
    for n, value in enumerate(odd):
        extra[n]["row_ref"] = value
    document["monitoring_data"] = document["monitoring_data"] + extra
    assert len(document["monitoring_data"]) > xlsx.STREAM_ROWS  # the data rows go through _rows_xml
    written: list[int] = []
    rows_xml = xlsx._rows_xml
    monkeypatch.setattr(
        xlsx, "_rows_xml", lambda rows, first: written.append(len(rows)) or rows_xml(rows, first)
    )
    new = _contents(workbook_bytes(document))
    monkeypatch.undo()
    assert written == [len(document["monitoring_data"])]  # the monitoring rows went through the XML writer
    old = _contents(_normal_mode_bytes(document, monkeypatch))
    assert list(new) == list(old)
    assert len(new["Monitoring data"]["cells"]) == len(document["monitoring_data"]) + 1 > 200
    for title in old:
        assert new[title] == old[title], title
    assert new["Monitoring data"]["cells"][1][-1] == ("'=1+1", "s")
    assert new["Monitoring data"]["widths"]["A"] < 40
    assert all(new["Summary"]["bold"]) and new["Summary"]["freeze"] == "A2"
