"""charging session: the state of charge at its start and end, for the battery's state of health

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("soc_start_pct", "soc_end_pct")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("chargingsession", sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("chargingsession", name)
