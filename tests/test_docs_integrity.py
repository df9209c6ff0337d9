"""The README and docs/ stay readable: no paragraph written twice and no file grown out of proportion.

Why: a scripted edit on 2026-12-05 (commit a604b07) replaced docs/finance.md by one paragraph repeated 22,894 times
(14 MB); nothing noticed until a helper opened the file a day later.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
MAX_BYTES = 250_000
"""The largest file on 2026-12-06 is docs/routing-bench.md at 68 kB: four times that is a runaway edit."""


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_no_paragraph_twice_and_no_runaway_size(path: Path) -> None:
    assert path.stat().st_size < MAX_BYTES, f"{path.name}: {path.stat().st_size:,} bytes"
    paragraphs = [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if len(p.strip()) > 80]
    twice = [(n, p[:80]) for p, n in collections.Counter(paragraphs).items() if n > 1]
    assert not twice, f"{path.name}: paragraphs written more than once: {twice[:3]}"


def test_the_check_catches_the_2026_12_05_corruption(tmp_path: Path) -> None:
    block = (
        "A paragraph long enough to count, about the electricity the lessee pays and its basis in the plans."
    )
    bad = tmp_path / "finance.md"
    bad.write_text("\n\n".join([block] * 3), encoding="utf-8")
    with pytest.raises(AssertionError, match="more than once"):
        test_no_paragraph_twice_and_no_runaway_size(bad)
