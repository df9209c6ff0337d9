"""Money at the output boundary.

The maths runs in binary floats (numpy-financial works in floats and its root finders need them). Only at the
output boundary — reports, JSON, the database — are amounts rounded to fen (0.01 CNY) with `decimal.Decimal`,
half-up, from the float's shortest round-trip repr so that 0.125 is not rounded via 0.12499999....
Integer fen (`to_fen_int`) is the storage form recommended by data/reference/FINANCE.md §Conventions ("keep money in integer fen").
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")


def to_fen(amount: float) -> Decimal:
    """Round an amount [CNY] to fen as a Decimal with two places."""
    if not math.isfinite(amount):
        raise ValueError(f"cannot round a non-finite amount to fen: {amount!r}")
    return Decimal(repr(float(amount))).quantize(FEN, rounding=ROUND_HALF_UP)


def to_fen_int(amount: float) -> int:
    """An amount [CNY] as whole fen [fen] (1 CNY = 100 fen)."""
    return int(to_fen(amount) * 100)


def from_fen_int(fen: int) -> float:
    """Whole fen [fen] back to CNY [CNY] for the float maths."""
    return fen / 100.0
