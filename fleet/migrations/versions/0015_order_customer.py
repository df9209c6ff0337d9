"""order: customer name, phone and notes, for route sheets drivers can use and stops named on the map

Revision ID: 0015
Revises: 0016
Create Date: 2026-12-05 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (column, length): all nullable, since most order feeds carry none of them.
COLUMNS = (("customer_name", 200), ("customer_phone", 40), ("notes", 500))


def upgrade() -> None:
    for name, length in COLUMNS:
        op.add_column("order", sa.Column(name, sa.String(length), nullable=True))


def downgrade() -> None:
    for name, _length in reversed(COLUMNS):
        op.drop_column("order", name)
