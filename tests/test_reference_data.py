"""The reference copies shipped in `data/reference/` must equal `shared/reference/` when it is beside the repo."""

from pathlib import Path

import pytest

from evfleet_data import EMISSION_FACTORS_CSV, REFERENCE_DIR, TARIFFS_JSON, VEHICLES_CSV

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


# The notes the docstrings cite (data/reference/METHODOLOGY.md §3, ...) ship beside the data they explain.
NOTES = [
    REFERENCE_DIR / name
    for name in (
        "CHARGING.md",
        "FINANCE.md",
        "GRID-PROGRAMMES.md",
        "METHODOLOGY.md",
        "ROUTING.md",
        "tariffs.md",
    )
]


@pytest.mark.parametrize(
    "shipped", [EMISSION_FACTORS_CSV, TARIFFS_JSON, VEHICLES_CSV, *NOTES], ids=lambda p: p.name
)
def test_shipped_reference_matches_shared(shipped: Path) -> None:
    source = SHARED / shipped.name
    if not source.exists():
        pytest.skip("shared/reference is not beside this checkout")
    assert shipped.read_bytes() == source.read_bytes(), f"{shipped} drifted from {source}"
