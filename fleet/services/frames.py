"""Table helpers the pages share (no database): filtering a frame, clock times for charts and sheets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["filter_frame", "hhmm", "wall_clock"]


def filter_frame(
    frame: pd.DataFrame, selections: Mapping[str, Any], text: str = "", text_columns: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Rows whose column values are among the selected ones (an empty selection keeps all) and, when `text` is
    given, whose `text_columns` contain it (case-insensitive)."""
    mask = pd.Series(True, index=frame.index)
    for column, chosen in selections.items():
        if chosen:
            mask &= frame[column].isin(list(chosen))
    needle = text.strip().lower()
    if needle and text_columns:
        hit = pd.Series(False, index=frame.index)
        for column in text_columns:
            hit |= frame[column].astype(str).str.lower().str.contains(needle, regex=False)
        mask &= hit
    return frame[mask]


def wall_clock(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """A copy with the timestamp columns as naive local clock times (charts in the browser would otherwise shift
    them to the viewer's time zone); the plans' times are already in the depot's zone (Asia/Shanghai)."""
    out = frame.copy()
    for col in columns:
        out[col] = [None if t is None or pd.isna(t) else pd.Timestamp(t).tz_localize(None) for t in out[col]]
        out[col] = pd.to_datetime(out[col])
    return out


def hhmm(t: Any) -> str:
    """Clock time of a timestamp; "" for a missing one (None or NaT)."""
    return "" if t is None or pd.isna(t) else t.strftime("%H:%M")
