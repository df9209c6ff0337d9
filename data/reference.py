"""Paths to the shipped reference files (copies of `shared/reference/`)."""

from __future__ import annotations

from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
EMISSION_FACTORS_CSV = REFERENCE_DIR / "emission-factors.csv"
TARIFFS_JSON = REFERENCE_DIR / "tariffs.json"
VEHICLES_CSV = REFERENCE_DIR / "vehicles.csv"
