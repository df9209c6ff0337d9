"""Paths to the files evfleet ships: the Shenzhen demo data set and the sourced reference data.

This folder holds data only. It is installed as the import package `evfleet_data` (not `data`, a name other
distributions also install; the `evfleet_data` symlink gives a source checkout the same name) and is a leaf: it
imports nothing but the standard library, so the solvers (`routing/`, `charging/`) and the business layer
(`fleet/`) may all read from it. The reference files, their sources and grades are described in
`data/reference/README.md`; the demo files are rebuilt by `python -m fleet.demo.build`.
"""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
DEMO_DIR = DATA_DIR / "demo"
REFERENCE_DIR = DATA_DIR / "reference"
EMISSION_FACTORS_CSV = REFERENCE_DIR / "emission-factors.csv"
TARIFFS_JSON = REFERENCE_DIR / "tariffs.json"
VEHICLES_CSV = REFERENCE_DIR / "vehicles.csv"
