"""Where the shared benchmark instances are, for tests (skip only when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def bench_dir() -> Path:
    """`$EVFLEET_BENCH_DIR`, else the repo's sibling `shared/bench` (also one level up, for git worktrees)."""
    env = os.environ.get("EVFLEET_BENCH_DIR")
    candidates = [Path(env)] if env else []
    candidates += [REPO_ROOT.parent / "shared" / "bench", REPO_ROOT.parent.parent / "shared" / "bench"]
    for c in candidates:
        if (c / "solomon").is_dir() and (c / "evrptw").is_dir():
            return c
    pytest.skip("shared/bench is not beside this checkout (set EVFLEET_BENCH_DIR)")
    raise AssertionError  # unreachable
