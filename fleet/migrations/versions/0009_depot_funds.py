"""depot: government funds and surcharges per kWh (added unscaled to the energy price); shortfall policy

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-05 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # charging.fairness: the most trucks ready first is what a depot dispatching routes wants by default.
    op.add_column(
        "depot",
        sa.Column("charging_shortfall_policy", sa.String(30), nullable=False, server_default="max_ready"),
    )
    # 0.095 CNY/kWh: data/reference/tariffs.md "Example levels decomposed" (weak), the same default as the model.
    op.add_column(
        "depot",
        sa.Column("funds_cny_per_kwh", sa.Numeric(12, 4), nullable=False, server_default="0.095"),
    )


def downgrade() -> None:
    op.drop_column("depot", "funds_cny_per_kwh")
    op.drop_column("depot", "charging_shortfall_policy")
