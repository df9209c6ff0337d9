"""Showing a service's frame as a table: human labels in the current language and each column's decimals, as
`st.dataframe` column settings (the frame itself keeps its column names and exact values)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from fleet.services.i18n import Column, _


def column_config(columns: Mapping[str, Column]) -> dict[str, Any]:
    """`st.dataframe(frame, column_config=column_config(svc.X_DISPLAY))`: translated label, number format."""
    config: dict[str, Any] = {}
    for key, spec in columns.items():
        label = _(spec.label)
        if spec.digits is None:
            config[key] = st.column_config.Column(label)
        else:
            config[key] = st.column_config.NumberColumn(label, format="%." + str(spec.digits) + "f")
    return config
